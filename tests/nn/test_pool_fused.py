"""The fused pooling kernels (ember.ops.pool) through ember.nn.functional, against torch:
values, indices, gradients, double backward, layouts and errors."""
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import compare  # noqa: E402

rng = np.random.default_rng(11)
SIZES = {1: (9,), 2: (7, 6), 3: (5, 4, 6)}


def randn(*shape):
    return rng.standard_normal(shape)


WINDOWS = [
    dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=2, stride=2, ceil_mode=True), dict(kernel_size=3, stride=2, padding=1,
                                                        ceil_mode=True),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 2)),
]


def _for(spatial, options):
    """``options`` with tuple values cut to ``spatial`` entries."""
    return {k: (v[:spatial] if isinstance(v, tuple) else v) for k, v in options.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_max_pool_values_indices_grads(spatial, dtype):
    x = randn(2, 3, *SIZES[spatial])
    name = f"max_pool{spatial}d"
    for options in WINDOWS + [dict(kernel_size=2, dilation=2), dict(kernel_size=3, dilation=2,
                                                                     padding=1, ceil_mode=True)]:
        options = _for(spatial, options)
        compare(lambda F, lib, x: getattr(F, name)(x, **options), x, dtype=dtype)
        values, indices = getattr(F, name)(ember.tensor(x.astype(dtype)), return_indices=True,
                                           **options)
        t_values, t_indices = getattr(TF, name)(torch.tensor(x.astype(dtype)),
                                                return_indices=True, **options)
        np.testing.assert_array_equal(np.asarray(indices), t_indices.numpy())
        assert indices.dtype == ember.int64
        np.testing.assert_array_equal(np.asarray(values), t_values.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_avg_pool_matches_torch(spatial, dtype):
    x = randn(2, 3, *SIZES[spatial])
    name = f"avg_pool{spatial}d"
    for options in WINDOWS:
        for count_include_pad in (True, False):
            options = dict(_for(spatial, options), count_include_pad=count_include_pad)
            compare(lambda F, lib, x: getattr(F, name)(x, **options), x, dtype=dtype)
    if spatial > 1:
        for divisor in (1, 5):
            compare(lambda F, lib, x: getattr(F, name)(x, 3, 2, 1, divisor_override=divisor), x,
                    dtype=dtype)


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_adaptive_pooling_matches_torch(spatial):
    x = randn(2, 3, *SIZES[spatial])
    for out in (1, 2, 3, 5, (4, None, 3)[:spatial] if spatial > 1 else 7):
        compare(lambda F, lib, x: getattr(F, f"adaptive_avg_pool{spatial}d")(x, out), x)
        compare(lambda F, lib, x: getattr(F, f"adaptive_max_pool{spatial}d")(x, out), x)
        e = getattr(F, f"adaptive_max_pool{spatial}d")(ember.tensor(x), out, return_indices=True)
        t = getattr(TF, f"adaptive_max_pool{spatial}d")(torch.tensor(x), out, return_indices=True)
        np.testing.assert_array_equal(np.asarray(e[1]), t[1].numpy())
        e = getattr(F, f"adaptive_max_pool{spatial}d_with_indices")(ember.tensor(x), out)
        np.testing.assert_array_equal(np.asarray(e[1]), t[1].numpy())


def test_layouts_unbatched_and_empty():
    x = randn(3, 2, 8, 6)
    # transposed, negative-stride and expanded views
    compare(lambda F, lib, x: F.max_pool2d(x.transpose(2, 3), 2, padding=1), x)
    compare(lambda F, lib, x: F.avg_pool2d(x.transpose(0, 1), 3, 2, count_include_pad=False), x)
    compare(lambda F, lib, x: F.max_pool2d(x.flip(-1) if lib is torch else x[..., ::-1], 3, 2), x)
    compare(lambda F, lib, x: F.adaptive_avg_pool2d(x[:1].expand(4, 2, 8, 6), 3), x)
    # unbatched
    compare(lambda F, lib, x: F.max_pool2d(x[0], 2), x)
    compare(lambda F, lib, x: F.avg_pool1d(x[0, 0], 3, 1, 1), x)
    compare(lambda F, lib, x: F.adaptive_max_pool1d(x[0, 0], 4), x)
    # empty batch
    for fn in (lambda m, t: m.max_pool2d(t, 2), lambda m, t: m.avg_pool2d(t, 2),
               lambda m, t: m.adaptive_avg_pool2d(t, 3), lambda m, t: m.adaptive_max_pool2d(t, 3)):
        out = fn(F, ember.zeros(0, 2, 6, 6))
        assert tuple(out.shape) == tuple(fn(TF, torch.zeros(0, 2, 6, 6)).shape)


def test_low_precision_dtypes():
    x = randn(2, 3, 6, 6)
    for dtype, t_dtype in ((ember.float16, torch.float16), (ember.bfloat16, torch.bfloat16)):
        e = F.max_pool2d(ember.tensor(x).to(dtype), 2)
        t = TF.max_pool2d(torch.tensor(x).to(t_dtype), 2)
        assert e.dtype == dtype
        np.testing.assert_array_equal(np.asarray(e.float()), t.float().numpy())
        e = F.avg_pool2d(ember.tensor(x).to(dtype), 3, 1, 1)
        t = TF.avg_pool2d(torch.tensor(x).to(t_dtype), 3, 1, 1)
        np.testing.assert_allclose(np.asarray(e.float()), t.float().numpy(), rtol=1e-2, atol=1e-2)


def test_max_pool_inf_and_nan():
    x = np.full((1, 2, 4, 4), -np.inf)
    x[0, 1, 1, 2] = np.nan
    x[0, 1, 2, 3] = np.nan
    x[0, 1, 0, 0] = 5.0
    for fn in (lambda m, t: m.max_pool2d(t, 2, return_indices=True),
               lambda m, t: m.max_pool2d(t, 3, 1, 1, return_indices=True),
               lambda m, t: m.adaptive_max_pool2d(t, 3, return_indices=True)):
        e_values, e_indices = fn(F, ember.tensor(x))
        t_values, t_indices = fn(TF, torch.tensor(x))
        np.testing.assert_array_equal(np.asarray(e_values), t_values.numpy())
        np.testing.assert_array_equal(np.asarray(e_indices), t_indices.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_ties_nans_and_windows_match_torch(dtype):
    """Random windows (kernel, stride, dilation, padding, ceil mode; 1-3 spatial dims)
    over small integers, so that ties are common, with NaNs: the values and the index of
    each window's first maximum (its last NaN) are torch's exactly."""
    draw = np.random.default_rng(5)
    checked = 0
    while checked < 60:
        spatial = int(draw.integers(1, 4))
        shape = (2, 3) + tuple(int(s) for s in draw.integers(3, 9, size=spatial))
        x = draw.integers(-3, 3, size=shape).astype(dtype)
        if draw.random() < 0.3:
            x[tuple(draw.integers(0, s) for s in shape)] = np.nan
        kernel, stride = int(draw.integers(1, 4)), int(draw.integers(1, 4))
        dilation, padding = int(draw.integers(1, 3)), int(draw.integers(0, kernel // 2 + 1))
        if (kernel - 1) * dilation + 1 > min(shape[2:]) + 2 * padding:
            continue
        args = (kernel, stride, padding, dilation, bool(draw.random() < 0.5), True)
        e_values, e_indices = getattr(F, f"max_pool{spatial}d")(ember.tensor(x), *args)
        t_values, t_indices = getattr(TF, f"max_pool{spatial}d")(torch.tensor(x), *args)
        np.testing.assert_array_equal(np.asarray(e_values), t_values.numpy())
        np.testing.assert_array_equal(np.asarray(e_indices), t_indices.numpy())
        checked += 1


def test_gradcheck_and_gradgradcheck():
    x = ember.tensor(randn(1, 2, 5, 4), requires_grad=True)
    cases = [
        lambda x: F.max_pool2d(x, 2, 1),
        lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3),
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
        lambda x: F.adaptive_max_pool2d(x, (2, 3)),
        lambda x: F.max_pool1d(x[0], 2),
        lambda x: F.avg_pool3d(x.unsqueeze(0), 2, 1),
        lambda x: F.max_pool3d(x.unsqueeze(0), 2, 1),
        lambda x: F.lp_pool2d(x.abs() + 0.5, 2.0, 2),
    ]
    for fn in cases:
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_unpool_matches_torch():
    x = randn(2, 3, 6, 7)
    for spatial, kernel, stride, padding in ((1, 2, 2, 0), (2, 2, 2, 0), (2, 3, 2, 1),
                                             (2, 3, 1, 1), (3, 2, 2, 0)):
        data = x[0] if spatial == 1 else x if spatial == 2 else randn(2, 3, 4, 4, 6)
        values, indices = getattr(TF, f"max_pool{spatial}d")(torch.tensor(data), kernel, stride,
                                                              padding, return_indices=True)
        name = f"max_unpool{spatial}d"
        size = data.shape[-spatial:]
        compare(lambda F, lib, v: getattr(F, name)(v, lib.tensor(indices.numpy()), kernel,
                                                   stride, padding, output_size=size),
                values.numpy())
    x = x[..., :6]
    values, indices = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    compare(lambda F, lib, v: F.max_unpool2d(v, lib.tensor(indices.numpy()), 2,
                                             output_size=(7, 7)), values.numpy())
    v = ember.tensor(values.numpy(), requires_grad=True)
    i = ember.tensor(indices.numpy())
    assert gradgradcheck(lambda v: F.max_unpool2d(v, i, 2), (v,))
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(v.detach(), ember.full(tuple(i.shape), 99, dtype=ember.int64), 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(v.detach(), i, 2, output_size=(12, 12))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5])
def test_lp_pool_matches_torch(norm_type):
    x = np.abs(randn(2, 3, 7, 6)) + 0.1
    compare(lambda F, lib, x: F.lp_pool2d(x, norm_type, 2), x)
    compare(lambda F, lib, x: F.lp_pool2d(x, norm_type, (3, 2), stride=(2, 1), ceil_mode=True), x)
    compare(lambda F, lib, x: F.lp_pool1d(x[0], norm_type, 3, 2), x)
    compare(lambda F, lib, x: F.lp_pool3d(x, norm_type, 2), x[None])


@pytest.mark.parametrize("norm_type", [float("inf"), -float("inf")])
def test_lp_pool_infinite_norm_is_max_magnitude(norm_type):
    # it raised the powers to inf (every window gave 1, 0 or inf); PyTorch max-pools |x|
    x = randn(2, 3, 7, 6)
    compare(lambda F, lib, x: F.lp_pool1d(x[0], norm_type, 3, 2), x)
    compare(lambda F, lib, x: F.lp_pool2d(x, norm_type, (3, 2), stride=(2, 1), ceil_mode=True), x)
    compare(lambda F, lib, x: F.lp_pool3d(x, norm_type, 2), x[None])


def _torch_error(fn):
    try:
        fn(TF, torch)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error), str(error)
    raise AssertionError("torch raised nothing")


@pytest.mark.parametrize("fn", [
    lambda F, lib: F.max_pool2d(lib.ones(1, 1, 4, 4), 2, padding=2),
    lambda F, lib: F.max_pool2d(lib.ones(1, 1, 1, 1), 2),
    lambda F, lib: F.max_pool2d(lib.ones(4, 4), 2),
    lambda F, lib: F.max_pool2d(lib.ones(1, 1, 4, 4), 2, stride=0),
    lambda F, lib: F.max_pool2d(lib.ones(1, 1, 4, 4), 2, dilation=0),
    lambda F, lib: F.max_pool2d(lib.ones(1, 1, 4, 4), (2, 2, 2)),
    lambda F, lib: F.max_pool2d(lib.ones(1, 0, 4, 4), 2),
    lambda F, lib: F.avg_pool2d(lib.ones(1, 1, 4, 4), 2, divisor_override=0),
    lambda F, lib: F.avg_pool3d(lib.ones(1, 1, 4, 4, 4), 2, padding=3),
    lambda F, lib: F.adaptive_avg_pool2d(lib.ones(1, 1, 4, 4), (2, -1)),
    lambda F, lib: F.adaptive_max_pool2d(lib.ones(1, 0, 4), 2),
    lambda F, lib: F.adaptive_avg_pool2d(lib.ones(1, 1, 4, 4, dtype=lib.int64), 2),
    lambda F, lib: F.max_pool3d(lib.ones(2, 2), 2),
], ids=["pad", "too-small", "dims", "stride0", "dilation0", "kernel-len", "empty-channel",
        "divisor0", "pad3d", "negative-size", "adaptive-empty", "int-dtype", "dims3d"])
def test_errors_match_torch(fn):
    t_class, t_message = _torch_error(fn)
    with pytest.raises(t_class) as info:
        fn(F, ember)
    # the numbers in torch's message appear in ember's
    for number in re.findall(r"\d+", t_message):
        assert number in str(info.value), (t_message, str(info.value))


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 3, 9, 7), (1, 1, 2, 2), (2, 2, 3, 3),
                                   (64, 64, 8, 8), (3, 5, 24, 24), (2, 2, 4, 12), (2, 2, 6, 14),
                                   (2, 1, 4, 22), (1, 2, 6, 34), (1, 1, 4, 6)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool_2x2_ties_and_nans_as_torch(shape, dtype, ceil_mode):
    # the 2x2 / stride 2 path: the first of equal maxima wins, the last NaN wins, and a
    # ceil-mode partial window falls back to the general walk; many planes split threads.
    # Rows of 6, 7, 11 and 17 outputs take vector chunks of 8 and 4 whose last chunk
    # overlaps the one before; rows of 3 or fewer outputs stay scalar
    rng = np.random.default_rng(sum(shape))
    a = rng.integers(0, 3, size=shape).astype(dtype)
    a[rng.random(shape) < 0.05] = np.nan
    got = ember.nn.functional.max_pool2d(ember.tensor(a), 2, return_indices=True,
                                         ceil_mode=ceil_mode)
    want = torch.nn.functional.max_pool2d(torch.tensor(a), 2, return_indices=True,
                                          ceil_mode=ceil_mode)
    np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())
    np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())
