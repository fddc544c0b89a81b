"""ember.nn.functional convolutions and pooling against torch.nn.functional."""
import sys
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


CONV_OPTIONS = [{}, {"stride": 2}, {"padding": 1}, {"dilation": 2, "padding": 2},
                {"groups": 2}, {"padding": "same", "dilation": 2}, {"padding": "valid"}]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_conv_matches_torch(spatial, dtype):
    sizes = {1: (11,), 2: (7, 6), 3: (5, 4, 5)}[spatial]
    kernel = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}[spatial]
    name = f"conv{spatial}d"
    x, b = randn(2, 4, *sizes), randn(6)
    for options in CONV_OPTIONS:
        groups = options.get("groups", 1)
        w = randn(6, 4 // groups, *kernel)
        compare(lambda F, lib, x, w, b: getattr(F, name)(x, w, b, **options), x, w, b, dtype=dtype)
    # unbatched input, no bias, per-dimension stride
    compare(lambda F, lib, x, w: getattr(F, name)(x, w, stride=(2,) * spatial), x[0],
            randn(3, 4, *kernel), dtype=dtype)


def test_conv_on_transposed_input_and_errors():
    x = randn(2, 3, 6, 5)
    compare(lambda F, lib, x, w: F.conv2d(x.transpose(2, 3), w, padding=(1, 0)), x,
            randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="to have 4 channels, but got 3"):
        F.conv2d(ember.ones(1, 3, 5, 5), ember.ones(2, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(ember.ones(1, 1, 2, 2), ember.ones(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 3D"):
        F.conv2d(ember.ones(5, 5), ember.ones(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="strided convolutions"):
        F.conv1d(ember.ones(1, 1, 5), ember.ones(1, 1, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError):
        TF.conv2d(torch.ones(1, 3, 5, 5), torch.ones(2, 2, 3, 3), groups=2)


POOL_OPTIONS = [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2},
                {"kernel_size": 3, "stride": 2, "padding": 1},
                {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                {"kernel_size": 2, "stride": 3, "ceil_mode": True}]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_pooling_matches_torch(spatial, dtype):
    sizes = {1: (9,), 2: (7, 8), 3: (5, 6, 7)}[spatial]
    x = randn(2, 3, *sizes)
    for options in POOL_OPTIONS:
        compare(lambda F, lib, x: getattr(F, f"max_pool{spatial}d")(x, **options), x, dtype=dtype)
        for count_include_pad in (True, False):
            compare(lambda F, lib, x: getattr(F, f"avg_pool{spatial}d")(
                x, count_include_pad=count_include_pad, **options), x, dtype=dtype)
    compare(lambda F, lib, x: getattr(F, f"max_pool{spatial}d")(x, 2, dilation=2), x, dtype=dtype)
    compare(lambda F, lib, x: getattr(F, f"avg_pool{spatial}d")(x, 2), x[0], dtype=dtype)
    if spatial > 1:
        compare(lambda F, lib, x: getattr(F, f"avg_pool{spatial}d")(x, 2, divisor_override=3), x,
                dtype=dtype)


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_max_pool_return_indices(spatial):
    x = randn(2, 3, *{1: (9,), 2: (7, 8), 3: (5, 6, 7)}[spatial])
    for options in POOL_OPTIONS + [{"kernel_size": 2, "dilation": 2}]:
        e_values, e_indices = getattr(F, f"max_pool{spatial}d")(ember.tensor(x), return_indices=True,
                                                                **options)
        t_values, t_indices = getattr(TF, f"max_pool{spatial}d")(torch.tensor(x),
                                                                 return_indices=True, **options)
        np.testing.assert_array_equal(np.asarray(e_values), t_values.numpy())
        np.testing.assert_array_equal(np.asarray(e_indices), t_indices.numpy())
        assert e_indices.dtype == ember.int64


def test_pooling_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(ember.ones(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        F.avg_pool2d(ember.ones(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D input"):
        F.max_pool2d(ember.ones(5), 2)
    with pytest.raises(RuntimeError):
        TF.max_pool2d(torch.ones(1, 1, 5, 5), 2, padding=2)


@pytest.mark.parametrize("case", [
    lambda F, x: F.conv2d(x.reshape(1, 2, 4, 2), x.reshape(2, 2, 2, 2)[:, :, :, :1] * 0.5,
                          padding=1, stride=(2, 1)),
    lambda F, x: F.avg_pool1d(x.reshape(2, 8), 3, 2, padding=1, ceil_mode=True),
], ids=["conv2d", "avg_pool1d"])
def test_double_backward(case):
    x = ember.tensor(randn(4, 4), requires_grad=True)

    def fn(x):
        return case(F, x)

    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_adaptive_pooling_matches_torch(spatial, dtype):
    x = randn(2, 3, *{1: (10,), 2: (7, 9), 3: (5, 6, 7)}[spatial])
    sizes = {1: [1, 3, 4, 10], 2: [1, (3, 4), (7, None), (5, 2)], 3: [1, (2, 4, 3), (None, 5, 2)]}
    for size in sizes[spatial]:
        for kind in ("avg", "max"):
            name = f"adaptive_{kind}_pool{spatial}d"
            compare(lambda F, lib, x: getattr(F, name)(x, size), x, dtype=dtype)
    compare(lambda F, lib, x: getattr(F, f"adaptive_avg_pool{spatial}d")(x, 2), x[0], dtype=dtype)


def test_adaptive_pooling_errors():
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        F.adaptive_avg_pool2d(ember.ones(4), 2)
    with pytest.raises(ValueError, match="Input dimension should be at least 4"):
        F.adaptive_max_pool2d(ember.ones(1, 4, 4), (2, 2, 2))
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        F.adaptive_avg_pool2d(ember.ones(2, 2), (1, 1))
    for name in ("adaptive_avg_pool1d", "adaptive_max_pool2d", "adaptive_avg_pool3d"):
        with pytest.raises(RuntimeError, match="output_size must be"):
            getattr(F, name)(ember.ones(2, 2, 2, 2), ())


INTERPOLATIONS = [
    ({"size": 13}, 1), ({"scale_factor": 2.5}, 1), ({"size": 4, "mode": "nearest-exact"}, 1),
    ({"size": 13, "mode": "linear"}, 1), ({"size": 4, "mode": "linear", "align_corners": True}, 1),
    ({"scale_factor": 1.7, "mode": "linear"}, 1),
    ({"scale_factor": 1.7, "mode": "linear", "recompute_scale_factor": True}, 1),
    ({"size": (9, 4), "mode": "bilinear"}, 2), ({"size": (3, 11), "mode": "bilinear",
                                                 "align_corners": True}, 2),
    ({"scale_factor": (2, 0.5)}, 2), ({"size": (3, 4), "mode": "area"}, 2),
    ({"size": (3, 5, 4), "mode": "trilinear"}, 3), ({"scale_factor": 2, "mode": "nearest"}, 3),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options, spatial", INTERPOLATIONS)
def test_interpolate_matches_torch(options, spatial, dtype):
    x = randn(2, 3, *{1: (6,), 2: (5, 7), 3: (3, 4, 5)}[spatial])
    compare(lambda F, lib, x: F.interpolate(x, **options), x, dtype=dtype)


def test_interpolate_errors():
    x = ember.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(NotImplementedError, match="needs 3D input"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x[0], size=3, mode="bicubic")


TRANSPOSED_OPTIONS = [{}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
                      {"dilation": 2, "padding": 1}, {"groups": 2, "stride": 3},
                      {"padding": 2, "stride": 2}]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_conv_transpose_matches_torch(spatial, dtype):
    sizes = {1: (6,), 2: (4, 5), 3: (3, 4, 3)}[spatial]
    kernel = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}[spatial]
    name = f"conv_transpose{spatial}d"
    x, b = randn(2, 4, *sizes), randn(6)
    for options in TRANSPOSED_OPTIONS:
        w = randn(4, 6 // options.get("groups", 1), *kernel)
        compare(lambda F, lib, x, w, b: getattr(F, name)(x, w, b, **options), x, w, b, dtype=dtype)
    compare(lambda F, lib, x, w: getattr(F, name)(x, w, stride=2), x[0], randn(4, 3, *kernel),
            dtype=dtype)


def test_conv_transpose_errors():
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(ember.ones(1, 2, 3, 3), ember.ones(2, 1, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError, match="to have 3 channels, but got 2"):
        F.conv_transpose2d(ember.ones(1, 2, 3, 3), ember.ones(3, 1, 3, 3))
