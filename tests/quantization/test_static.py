"""Post-training static quantization of the digits CNN: fuse, prepare, calibrate,
convert; accuracy within a point of float32 and a model file at least 3.5x smaller."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.examples import digits
from ember.quantization import (
    DeQuantStub, QuantStub, convert, fuse_modules, get_default_qconfig, prepare,
)


@pytest.fixture(scope="module")
def trained():
    """The example's CNN trained for two epochs (Adam; about 95% test accuracy)."""
    ember.manual_seed(0)
    x_train, y_train, x_test, y_test = digits.load_data()
    model = digits.build_model()
    optimizer = ember.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(2):
        model.train()
        for batch in np.array_split(rng.permutation(len(x_train)), len(x_train) // 64):
            index = ember.from_numpy(batch)
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x_train[index]), y_train[index]).backward()
            optimizer.step()
    model.eval()
    return model, (x_train, y_train, x_test, y_test)


def accuracy(model, x, y):
    with ember.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def quantize_cnn(model, calibration):
    wrapped = nn.Sequential(QuantStub(), *model, DeQuantStub())
    # conv+relu (1, 2), conv+relu (3, 4), linear+relu (8, 9)
    fused = fuse_modules(wrapped, [["1", "2"], ["3", "4"], ["8", "9"]])
    fused.qconfig = get_default_qconfig("x86")
    prepared = prepare(fused)
    with ember.no_grad():
        prepared(calibration)
    return convert(prepared)


def test_ptq_accuracy_and_model_size(trained, tmp_path):
    model, (x_train, _, x_test, y_test) = trained
    float_accuracy = accuracy(model, x_test, y_test)
    assert float_accuracy > 0.9
    quantized = quantize_cnn(model, x_train[:512])
    assert type(quantized[1]) is nn.quantized.ConvReLU2d
    assert type(quantized[8]) is nn.quantized.LinearReLU
    assert type(quantized[11]) is nn.quantized.Linear
    int8_accuracy = accuracy(quantized, x_test, y_test)
    assert abs(int8_accuracy - float_accuracy) <= 0.01, (float_accuracy, int8_accuracy)

    float_path, int8_path = tmp_path / "float.safetensors", tmp_path / "int8.safetensors"
    ember.save(model.state_dict(), float_path)
    ember.save(quantized.state_dict(), int8_path)
    assert float_path.stat().st_size >= 3.5 * int8_path.stat().st_size

    # the quantized state dict loads into a fresh converted model: same predictions
    fresh = quantize_cnn(digits.build_model().eval(), x_train[:64])
    fresh.load_state_dict(ember.load(int8_path))
    with ember.no_grad():
        np.testing.assert_array_equal(fresh(x_test).numpy(), quantized(x_test).numpy())


def test_quantized_layers_match_dequantized_float_math(trained):
    """Each quantized conv/linear equals the float layer on the dequantized input,
    requantized, to within one quantization step."""
    model, (x_train, _, x_test, _) = trained
    quantized = quantize_cnn(model, x_train[:512])
    with ember.no_grad():
        q = quantized[0](x_test[:50])
        conv = quantized[1]
        out = conv(q)
        expected = nn.functional.relu(nn.functional.conv2d(
            q.dequantize(), conv.weight().dequantize(), conv.bias(), padding=1))
        step = float(conv.scale)
        assert (out.dequantize() - expected).abs().max().item() <= step * 1.01


def test_prepare_and_convert_bad_use():
    model = nn.Sequential(QuantStub(), nn.Linear(4, 2), DeQuantStub())
    assert not hasattr(prepare(model)[1], "activation_post_process")  # no qconfig: untouched
    model.qconfig = get_default_qconfig()
    prepared = prepare(model)
    with pytest.raises(RuntimeError, match="observed no values"):
        convert(prepared)
    with pytest.raises(RuntimeError, match="cannot fuse"):
        fuse_modules(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), ["0", "1"])
    prepared(ember.randn(8, 4))
    quantized = convert(prepared)
    with pytest.raises(TypeError, match="QuantStub"):
        quantized[1](ember.randn(2, 4))
    with pytest.raises(NotImplementedError, match="groups"):
        nn.quantized.Conv2d(4, 4, 3, groups=2)


def test_modules_without_qconfig_stay_float():
    ember.manual_seed(2)
    quantized_part = nn.Sequential(QuantStub(), nn.Linear(4, 4), nn.ReLU(), DeQuantStub())
    quantized_part.qconfig = get_default_qconfig()
    model = nn.Sequential(quantized_part, nn.ReLU(), nn.Linear(4, 2))
    prepared = prepare(model)
    prepared(ember.randn(16, 4))
    converted = convert(prepared)
    assert type(converted[0][2]) is nn.quantized.ReLU and type(converted[1]) is nn.ReLU
    assert type(converted[2]) is nn.Linear
    x = ember.randn(3, 4)
    with ember.no_grad():
        assert (converted(x) - model(x)).abs().max().item() < 0.05


def test_fuse_modules_keeps_the_float_result():
    ember.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 5),
                          nn.ReLU())
    fused = fuse_modules(model, [["0", "1"], ["3", "4"]])
    assert type(fused[0]) is nn.intrinsic.ConvReLU2d and type(fused[1]) is nn.Identity
    x = ember.randn(2, 1, 4, 4)
    with ember.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), model(x).numpy())
