"""quantize_dynamic and the dynamically quantized Linear and LSTM, against PyTorch's."""
import numpy as np
import pytest
import torch
from torch.ao.quantization import per_channel_dynamic_qconfig as torch_per_channel

import ember
from ember import nn


def twin_linear(in_features, out_features, bias=True, seed=0):
    torch.manual_seed(seed)
    t = torch.nn.Linear(in_features, out_features, bias=bias)
    e = nn.Linear(in_features, out_features, bias=bias)
    e.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                       for k, v in t.state_dict().items()})
    return t, e


def test_linear_weights_equal_pytorch_per_channel_scheme():
    t, e = twin_linear(300, 70)
    tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(t),
                                                {torch.nn.Linear: torch_per_channel})[0]
    eq = ember.quantization.quantize_dynamic(
        nn.Sequential(e), {nn.Linear: ember.quantization.per_channel_dynamic_qconfig})[0]
    tw, ew = tq.weight(), eq.weight()
    assert ew.dtype is ember.qint8 and ew.qscheme() is ember.per_channel_affine
    np.testing.assert_array_equal(ew.int_repr().numpy(), tw.int_repr().numpy())
    np.testing.assert_array_equal(ew.q_per_channel_scales().numpy(),
                                  tw.q_per_channel_scales().numpy())
    np.testing.assert_array_equal(ew.q_per_channel_zero_points().numpy(),
                                  tw.q_per_channel_zero_points().numpy())
    assert ew.q_per_channel_axis() == tw.q_per_channel_axis() == 0
    np.testing.assert_array_equal(eq.bias().numpy(), tq.bias().detach().numpy())


@pytest.mark.parametrize("shape", [(64, 300), (5, 3, 300)])
def test_linear_output_within_quantization_tolerance(shape):
    t, e = twin_linear(300, 70, seed=1)
    tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(t),
                                                {torch.nn.Linear: torch_per_channel})
    eq = ember.quantization.quantize_dynamic(
        nn.Sequential(e), {nn.Linear: ember.quantization.per_channel_dynamic_qconfig},
        dtype=ember.qint8)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = t(torch.from_numpy(x)).numpy()
        torch_q = tq(torch.from_numpy(x)).numpy()
    ours = eq(ember.from_numpy(x)).numpy()
    assert ours.shape == expected.shape
    # ember quantizes activations to the full 8 bits (its GEMM is exact), PyTorch to 7:
    # ember's error is at most PyTorch's bound
    torch_error = np.abs(torch_q - expected).max()
    assert np.abs(ours - expected).max() <= torch_error
    assert np.abs(ours - torch_q).max() <= 2 * torch_error


@pytest.mark.parametrize("spec", ["set", "qconfig", "none"])
def test_default_scheme_is_per_tensor_as_pytorch(spec):
    t, e = twin_linear(40, 10, seed=2)
    tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(t), {torch.nn.Linear})[0]
    qconfig_spec = {"set": {nn.Linear}, "none": None,
                    "qconfig": {nn.Linear: ember.quantization.default_dynamic_qconfig}}[spec]
    eq = ember.quantization.quantize_dynamic(nn.Sequential(e), qconfig_spec)[0]
    assert eq.weight().qscheme() is ember.per_tensor_affine
    np.testing.assert_array_equal(eq.weight().int_repr().numpy(),
                                  tq.weight().int_repr().numpy())
    assert eq.weight().q_scale() == pytest.approx(tq.weight().q_scale(), rel=1e-7)
    assert repr(eq).replace("ember.", "torch.") == repr(tq)
    x = np.random.default_rng(0).standard_normal((6, 40)).astype(np.float32)
    with torch.no_grad():
        expected = t(torch.from_numpy(x)).numpy()
        torch_error = np.abs(tq(torch.from_numpy(x)).numpy() - expected).max()
    assert np.abs(eq(ember.from_numpy(x)).numpy() - expected).max() <= torch_error


def test_per_channel_scheme_survives_state_dict_round_trip():
    _, e = twin_linear(30, 12, seed=4)
    quantized = ember.quantization.quantize_dynamic(
        nn.Sequential(e), {nn.Linear: ember.quantization.per_channel_dynamic_qconfig})[0]
    fresh = nn.quantized.dynamic.Linear(30, 12)
    assert fresh.weight().qscheme() is ember.per_tensor_affine      # as PyTorch's fresh module
    fresh.load_state_dict(quantized.state_dict())
    assert fresh.weight().qscheme() is ember.per_channel_affine
    np.testing.assert_array_equal(fresh.weight().q_per_channel_scales().numpy(),
                                  quantized.weight().q_per_channel_scales().numpy())


def test_unsupported_modules_are_left_alone_and_model_copied():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 4), nn.ReLU(),
                          nn.Sequential(nn.Linear(4, 2)))
    quantized = ember.quantization.quantize_dynamic(model)
    assert type(quantized[0]) is nn.Conv2d and type(quantized[3]) is nn.ReLU
    assert type(quantized[2]) is nn.quantized.dynamic.Linear
    assert type(quantized[4][0]) is nn.quantized.dynamic.Linear
    assert type(model[2]) is nn.Linear  # not in place
    only_named = ember.quantization.quantize_dynamic(
        model, {"4.0": ember.quantization.per_channel_dynamic_qconfig})
    assert type(only_named[2]) is nn.Linear
    assert type(only_named[4][0]) is nn.quantized.dynamic.Linear
    same = ember.quantization.quantize_dynamic(model, {nn.Linear}, inplace=True)
    assert same is model and type(model[2]) is nn.quantized.dynamic.Linear


def test_the_root_module_is_kept_as_pytorch_keeps_it():
    assert type(torch.ao.quantization.quantize_dynamic(torch.nn.Linear(3, 2))) is torch.nn.Linear
    quantized = ember.ao.quantization.quantize_dynamic(nn.Linear(3, 2))
    assert type(quantized) is nn.Linear


def test_bad_input():
    model = nn.Sequential(nn.Linear(6, 3))
    with pytest.raises(ValueError, match="ember.quint8"):
        ember.quantization.quantize_dynamic(model, dtype=ember.quint8)
    with pytest.raises(TypeError, match="nn.Module"):
        ember.quantization.quantize_dynamic("model")
    quantized = ember.quantization.quantize_dynamic(model)
    with pytest.raises(RuntimeError, match="float32"):
        quantized(ember.ones(2, 6, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        quantized(ember.ones(2, 5))
    with pytest.raises(RuntimeError, match="larger than or equal to 2"):
        quantized(ember.ones(6))
    with pytest.raises(TypeError, match="Tensor"):
        quantized(np.ones((2, 6), np.float32))
    with pytest.raises(RuntimeError, match="qint8"):
        quantized[0].set_weight_bias(ember.ones(3, 6), None)


def test_repr_matches_pytorch():
    t, e = twin_linear(4, 3)
    tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(t))
    eq = ember.quantization.quantize_dynamic(nn.Sequential(e))
    assert repr(eq).replace("ember.", "torch.") == repr(tq)
    lstm = ember.quantization.quantize_dynamic(
        nn.Sequential(nn.LSTM(4, 8, num_layers=2, batch_first=True)))
    tlstm = torch.ao.quantization.quantize_dynamic(
        torch.nn.Sequential(torch.nn.LSTM(4, 8, num_layers=2, batch_first=True)))
    assert repr(lstm) == repr(tlstm)


def test_state_dict_round_trip_through_save_and_load(tmp_path):
    _, e = twin_linear(50, 20, seed=3)
    model = nn.Sequential(e, nn.ReLU(), nn.LSTM(20, 16))
    quantized = ember.quantization.quantize_dynamic(model)
    path = tmp_path / "q.safetensors"
    ember.save(quantized.state_dict(), path)
    fresh = nn.Sequential(nn.quantized.dynamic.Linear(50, 20), nn.ReLU(),
                          nn.quantized.dynamic.LSTM(20, 16))
    fresh.load_state_dict(ember.load(path))
    x = ember.randn(7, 50)
    np.testing.assert_array_equal(fresh[0](x).numpy(), quantized[0](x).numpy())
    seq = ember.randn(4, 2, 20)
    np.testing.assert_array_equal(fresh[2](seq)[0].numpy(), quantized[2](seq)[0].numpy())
    assert fresh[0].weight_int_repr.dtype == ember.int8


@pytest.mark.parametrize("kwargs", [dict(), dict(num_layers=2, bidirectional=True),
                                    dict(batch_first=True)])
def test_lstm_close_to_pytorch(kwargs):
    torch.manual_seed(0)
    t = torch.nn.LSTM(12, 16, **kwargs)
    e = nn.LSTM(12, 16, **kwargs)
    e.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                       for k, v in t.state_dict().items()})
    tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(t),
                                                {torch.nn.LSTM: torch_per_channel})
    eq = ember.quantization.quantize_dynamic(nn.Sequential(e), {nn.LSTM})
    assert type(eq[0]) is nn.quantized.dynamic.LSTM
    x = np.random.default_rng(1).standard_normal((6, 3, 12)).astype(np.float32)
    directions = 2 if kwargs.get("bidirectional") else 1
    batch = 6 if kwargs.get("batch_first") else 3
    h0 = np.random.default_rng(2).standard_normal(
        (kwargs.get("num_layers", 1) * directions, batch, 16)).astype(np.float32) * 0.1
    c0 = h0 * 2
    with torch.no_grad():
        ref, (ref_h, ref_c) = t(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
        tout, (th, tc) = tq[0](torch.from_numpy(x),
                               (torch.from_numpy(h0), torch.from_numpy(c0)))
    out, (h, c) = eq[0](ember.from_numpy(x), (ember.from_numpy(h0), ember.from_numpy(c0)))
    assert out.shape == tuple(ref.shape) and h.shape == tuple(ref_h.shape)
    bound = max(np.abs(tout.numpy() - ref.numpy()).max(), 0.01)
    assert np.abs(out.numpy() - ref.numpy()).max() <= 2 * bound
    assert np.abs(c.numpy() - ref_c.numpy()).max() <= 4 * bound


def test_lstm_without_bias_close_to_float():
    """PyTorch's dynamic LSTM requires a bias; ember's also runs without one."""
    ember.manual_seed(3)
    lstm = nn.LSTM(10, 12, bias=False)
    quantized = ember.quantization.quantize_dynamic(nn.Sequential(lstm))[0]
    x = ember.randn(5, 2, 10)
    with ember.no_grad():
        expected = lstm(x)[0]
    assert (quantized(x)[0] - expected).abs().max().item() < 0.02


def test_lstm_unbatched_input_and_bad_input():
    eq = ember.quantization.quantize_dynamic(nn.Sequential(nn.LSTM(3, 5)))[0]
    out, (h, c) = eq(ember.randn(4, 3))
    assert out.shape == (4, 5) and h.shape == (1, 5)
    with pytest.raises(RuntimeError, match="input of shape"):
        eq(ember.randn(4, 2, 7))
    with pytest.raises(RuntimeError, match="hidden states"):
        eq(ember.randn(4, 2, 3), (ember.zeros(1, 3, 5), ember.zeros(1, 3, 5)))
    with pytest.raises(RuntimeError, match="proj_size"):
        ember.quantization.quantize_dynamic(nn.Sequential(nn.LSTM(3, 5, proj_size=2)))


@pytest.mark.parametrize("spec", ["set", "qconfig"])
def test_float16_weights_match_pytorch(spec, tmp_path):
    torch.manual_seed(5)
    tmodel = torch.nn.Sequential(torch.nn.Linear(12, 20), torch.nn.ReLU(),
                                 torch.nn.LSTM(20, 6, num_layers=2, bidirectional=True))
    model = nn.Sequential(nn.Linear(12, 20), nn.ReLU(),
                          nn.LSTM(20, 6, num_layers=2, bidirectional=True))
    model.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                           for k, v in tmodel.state_dict().items()})
    tq = torch.ao.quantization.quantize_dynamic(tmodel, {torch.nn.Linear, torch.nn.LSTM},
                                                dtype=torch.float16)
    if spec == "set":
        eq = ember.ao.quantization.quantize_dynamic(model, {nn.Linear, nn.LSTM},
                                                    dtype=ember.float16)
    else:
        qconfig = ember.quantization.float16_dynamic_qconfig
        eq = ember.ao.quantization.quantize_dynamic(model, {nn.Linear: qconfig,
                                                            nn.LSTM: qconfig})
    assert repr(eq).replace("ember.", "torch.") == repr(tq)
    np.testing.assert_array_equal(eq[0].weight().numpy(), tq[0].weight().numpy())
    assert eq[0].weight().dtype == ember.float32 and eq[0].weight_fp16.dtype == ember.float16
    x = np.random.default_rng(1).standard_normal((3, 4, 12)).astype(np.float32)
    (out, (h, c)), (tout, (th, tc)) = eq(ember.from_numpy(x)), tq(torch.from_numpy(x))
    for ours, theirs in ((out, tout), (h, th), (c, tc)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    path = tmp_path / "fp16.safetensors"
    ember.save(eq.state_dict(), path)
    fresh = nn.Sequential(nn.quantized.dynamic.Linear(12, 20, dtype=ember.float16), nn.ReLU(),
                          nn.quantized.dynamic.LSTM(20, 6, num_layers=2, bidirectional=True,
                                                    dtype=ember.float16))
    fresh.load_state_dict(ember.load(path))
    np.testing.assert_array_equal(fresh(ember.from_numpy(x))[0].numpy(), out.numpy())
    with pytest.raises(ValueError, match="qint8 and ember.float16"):
        ember.quantization.quantize_dynamic(model, dtype=ember.float32)
    with pytest.raises(RuntimeError, match="expected a weight of shape"):
        fresh[0].set_weight_bias(ember.ones(3, 3), None)
