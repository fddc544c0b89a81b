"""Regressions found by running PyTorch's OpInfo samples for ``nn.functional`` against
ember: each case is one sample input copied from the database, compared with torch."""
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import compare  # noqa: E402

rng = np.random.default_rng(7)


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("pads", [(-1, 1, -2, 1), (1, -1, 0, 0), (2, -3, -1, -1)])
def test_pad_circular_negative_crops_before_wrapping(pads):
    compare(lambda F, lib, x: F.pad(x, pads, mode="circular"), randn(1, 3, 5, 5))


def test_prelu_single_slope_keeps_the_input_shape():
    x = randn()
    compare(lambda F, lib, x, w: F.prelu(x, w), x, randn(1))
    compare(lambda F, lib, x, w: F.prelu(x, w), x, np.asarray(-0.3))
    with pytest.raises(RuntimeError, match="scalar or 1D"):
        F.prelu(ember.ones(2, 2), ember.ones(2, 2))


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4), (2, 3, 4, 5), (1, 2, 3, 4, 5)])
@pytest.mark.parametrize("training", [False, True])
def test_feature_dropout_ranks(name, shape, training):
    """Shapes, errors and deprecation warnings on every rank, as PyTorch (the values are
    random)."""
    outcome = []
    for lib, functional in ((torch, TF), (ember, F)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = getattr(functional, name)(lib.ones(shape), 0.5, training)
                outcome.append((tuple(result.shape), len(caught)))
            except RuntimeError:
                outcome.append("RuntimeError")
    assert outcome[0] == outcome[1]


@pytest.mark.parametrize("options", [dict(mode="bilinear"), dict(mode="bicubic"),
                                     dict(mode="bilinear", antialias=True),
                                     dict(mode="bicubic", align_corners=True)])
@pytest.mark.parametrize("resize", [dict(size=(7, 21)), dict(scale_factor=(0.6, 1.7))])
def test_interpolate_uint8_images(options, resize):
    """uint8 images resize with rounding (they were truncated to zero); PyTorch computes in
    fixed point, so a value may differ by 2 at most."""
    image = rng.integers(0, 256, (2, 3, 10, 13)).astype(np.uint8)
    expected = TF.interpolate(torch.from_numpy(image), **resize, **options)
    result = F.interpolate(ember.from_numpy(image), **resize, **options)
    assert result.dtype == ember.uint8
    assert tuple(result.shape) == tuple(expected.shape)
    difference = np.asarray(result).astype(int) - expected.numpy().astype(int)
    assert np.abs(difference).max() <= 2


@pytest.mark.parametrize("dtype, torch_name", [("int8", "Char"), ("int64", "Long")])
def test_interpolate_other_integers_raise(dtype, torch_name):
    image = ember.ones((1, 1, 4, 4), dtype=getattr(ember, dtype))
    with pytest.raises(NotImplementedError, match=f"not implemented for '{torch_name}'"):
        F.interpolate(image, size=(6, 6), mode="bilinear")
    assert F.interpolate(image, size=(6, 6)).dtype == image.dtype  # nearest copies values


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64"])
def test_bilinear_keeps_integer_dtypes(dtype):
    x1, x2 = rng.integers(0, 3, (2, 3)), rng.integers(0, 3, (2, 4))
    weight, bias = rng.integers(0, 3, (5, 3, 4)), rng.integers(0, 3, (5,))
    expected = TF.bilinear(*(torch.from_numpy(a).to(getattr(torch, dtype))
                             for a in (x1, x2, weight, bias)))
    result = F.bilinear(*(ember.from_numpy(a).to(getattr(ember, dtype))
                          for a in (x1, x2, weight, bias)))
    assert result.dtype == getattr(ember, dtype)
    np.testing.assert_array_equal(np.asarray(result), expected.numpy())


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_margin_losses_take_a_0d_input(reduction):
    target = np.asarray(0)
    compare(lambda F, lib, x, t: F.multi_margin_loss(x, t, reduction=reduction), randn(), target)
    compare(lambda F, lib, x, t: F.multilabel_margin_loss(x, t, reduction=reduction), randn(),
            target)
    compare(lambda F, lib, x, t: F.multilabel_margin_loss(x, t, reduction=reduction), randn(),
            np.asarray([0]))


def test_functional_argument_errors():
    with pytest.raises(ValueError, match="weight must be one-dimensional"):
        F.multi_margin_loss(ember.ones(2, 3), ember.tensor([0, 1]), weight=ember.ones(1, 3))
    for weight in (ember.ones(3), ember.ones(3, 2, 2)):
        with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
            F.embedding(ember.tensor([0, 1]), weight)
    for training in (False, True):
        with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
            F.rrelu(ember.ones(3), 0.5, 0.2, training=training)


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_empty_batch_keeps_running_statistics(affine):
    for lib in (torch, ember):
        norm = lib.nn.BatchNorm2d(5, 1e-3, 0.3, affine)
        result = norm(lib.zeros((0, 5, 2, 2)))
        assert tuple(result.shape) == (0, 5, 2, 2)
        np.testing.assert_array_equal(np.asarray(norm.running_mean), np.zeros(5))
        np.testing.assert_array_equal(np.asarray(norm.running_var), np.ones(5))
        assert int(norm.num_batches_tracked) == 1


@pytest.mark.parametrize("name", ["softsign", "tanhshrink"])
def test_complex_softsign_tanhshrink(name):
    data = randn(3, 4) + 1j * randn(3, 4)
    weight = randn(3, 4)
    runs = []
    for lib, functional in ((torch, TF), (ember, F)):
        x = lib.tensor(data).requires_grad_(True)
        result = getattr(functional, name)(x)
        (result.abs() * lib.tensor(weight)).sum().backward()
        runs.append((np.asarray(result.detach()), np.asarray(x.grad)))
    for ours, theirs in zip(runs[1], runs[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_loss_and_norm_argument_errors():
    """The error inputs of PyTorch's ModuleInfo database."""
    scores, labels = ember.randn(3, 5), ember.tensor([0, 1, 2])
    for loss in (F.nll_loss, F.cross_entropy):
        with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
            loss(scores, labels, weight=ember.ones(5, dtype=ember.float64))
    probabilities = ember.softmax(ember.randn(3, 5), 1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(scores, probabilities, ignore_index=1)
    F.cross_entropy(scores, probabilities, ignore_index=-1)  # negative: nothing ignored
    with pytest.raises(TypeError, match="delta must be a float or int"):
        ember.nn.HuberLoss(delta=1j)
    for eps in (0.0, -1.0):
        with pytest.raises(ValueError, match="eps must be positive"):
            ember.nn.BatchNorm1d(10, eps=eps)(ember.ones(2, 10))
    with pytest.raises(ValueError, match="eps must be non-negative"):
        F.batch_norm(ember.ones(2, 3), ember.zeros(3), ember.ones(3), eps=-1.0)


@pytest.mark.parametrize("name, weight_shape, options", [
    ("conv1d", (4, 1, 3), dict(stride=2, padding=1, groups=2)),
    ("conv2d", (4, 2, 3, 2), dict(padding="same", dilation=2)),
    ("conv3d", (2, 2, 2, 2, 2), dict(stride=(1, 2, 1))),
    ("conv_transpose1d", (2, 3, 3), dict(stride=2, output_padding=1)),
    ("conv_transpose2d", (2, 2, 3, 3), dict(stride=2, padding=1, dilation=3, output_padding=2)),
])
def test_complex_convolutions(name, weight_shape, options):
    """Complex convolutions (a sum of real ones), values and Wirtinger gradients as torch."""
    spatial = len(weight_shape) - 2
    data = [randn(*shape) + 1j * randn(*shape)
            for shape in ((2, 2) + (5,) * spatial, weight_shape, (weight_shape[0],))]
    if name.startswith("conv_transpose"):
        data[2] = data[2][:1].repeat(weight_shape[1])
    runs = []
    for lib, functional in ((torch, TF), (ember, F)):
        leaves = [lib.tensor(a).requires_grad_(True) for a in data]
        result = getattr(functional, name)(*leaves, **options)
        grad_weight = np.random.default_rng(0).standard_normal(tuple(result.shape))
        (result.abs() * lib.tensor(grad_weight)).sum().backward()
        runs.append([np.asarray(result.detach())] + [np.asarray(t.grad) for t in leaves])
    for ours, theirs in zip(runs[1], runs[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


def test_complex_unfold_fold():
    data = randn(2, 3, 5, 6) + 1j * randn(2, 3, 5, 6)
    runs = []
    for lib, functional in ((torch, TF), (ember, F)):
        x = lib.tensor(data).requires_grad_(True)
        columns = functional.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
        image = functional.fold(columns * 1j, (5, 6), (2, 3), dilation=(2, 1), padding=1,
                                stride=(1, 2))
        (image.abs() * lib.tensor(np.arange(image.numel()).reshape(image.shape))).sum().backward()
        runs.append([np.asarray(columns.detach()), np.asarray(image.detach()),
                     np.asarray(x.grad)])
    for ours, theirs in zip(runs[1], runs[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
def test_integer_max_pooling(spatial, dtype):
    data = rng.integers(-100 if dtype != "uint8" else 0, 100, (2, 3) + (7,) * spatial)
    name = f"max_pool{spatial}d"
    options = dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True,
                   return_indices=True)
    expected = getattr(TF, name)(torch.from_numpy(data).to(getattr(torch, dtype)), **options)
    result = getattr(F, name)(ember.from_numpy(data).to(getattr(ember, dtype)), **options)
    for ours, theirs in zip(result, expected):
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())


@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("options", [dict(), dict(padding=1), dict(padding=1, ceil_mode=True),
                                     dict(padding=1, count_include_pad=False),
                                     dict(stride=1, divisor_override=2)])
def test_int64_avg_pooling_rounds_toward_zero(spatial, options):
    data = rng.integers(-50, 50, (2, 3) + (6,) * spatial)
    name = f"avg_pool{spatial}d"
    if spatial == 1:
        options = {k: v for k, v in options.items() if k != "divisor_override"}
    expected = getattr(TF, name)(torch.from_numpy(data), 3, **options)
    result = getattr(F, name)(ember.from_numpy(data), 3, **options)
    assert result.dtype == ember.int64
    np.testing.assert_array_equal(np.asarray(result), expected.numpy())


@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 5, 3, 2, 2)])
def test_local_response_norm_int64(shape):
    data = rng.integers(-9, 9, shape)
    expected = TF.local_response_norm(torch.from_numpy(data), 3, alpha=0.5)
    result = F.local_response_norm(ember.from_numpy(data), 3, alpha=0.5)
    assert result.dtype == ember.float32
    np.testing.assert_allclose(np.asarray(result), expected.numpy(), rtol=1e-6)
