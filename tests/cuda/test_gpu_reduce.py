"""Reductions, scans and softmax on the GPU against the CPU result, across dtypes and
layouts.  Marked gpu: skipped, with the reason, where CuPy or a GPU is missing."""
import math

import numpy as np
import pytest

import ember
from ember._core._reduce import log_softmax_backward_data, softmax_backward_data

pytestmark = pytest.mark.gpu

INTS = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64]
FLOATS = [ember.float16, ember.bfloat16, ember.float32, ember.float64]
# the GPU accumulates float16/bfloat16/float32 in float32 (the CPU in float64)
TOL = {ember.float16: 4e-3, ember.bfloat16: 3e-2, ember.float32: 2e-5, ember.float64: 1e-12,
       ember.complex64: 2e-5, ember.complex128: 1e-12}


def sample(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == ember.bool:
        return ember.tensor(rng.random(shape) > 0.3)
    if dtype.is_floating_point:
        return ember.tensor(rng.uniform(-2.0, 2.0, shape)).to(dtype)
    return ember.tensor(rng.integers(0 if dtype == ember.uint8 else -3, 4, shape)).to(dtype)


def layouts(x):
    """The same values in several layouts: contiguous, transposed, sliced, expanded."""
    return {
        "contiguous": x,
        "transposed": x.transpose(0, -1),
        "sliced": x[:, 1::2],
        "expanded": x[:1].expand(3, *x.shape[1:]),
    }


def assert_same(got, want, rtol=None):
    if isinstance(want, tuple):
        for a, b in zip(got, want):
            assert_same(a, b, rtol)
        return
    assert got.device.type == "cuda"
    got = got.cpu()
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = TOL.get(want.dtype, 0) if rtol is None else rtol
    if want.dtype.is_complex:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)
    elif want.dtype.is_floating_point:
        np.testing.assert_allclose(got.to(ember.float64).numpy(), want.to(ember.float64).numpy(),
                                   rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got.numpy(), want.numpy())


REDUCTIONS = {
    "sum": lambda x, dim: x.sum(dim),
    "sum_keepdim": lambda x, dim: x.sum(dim, keepdim=True),
    "prod": lambda x, dim: x.prod(dim if isinstance(dim, int) else None),
    "amax": lambda x, dim: x.amax(dim if dim is not None else ()),
    "amin": lambda x, dim: x.amin(dim if dim is not None else ()),
    "all": lambda x, dim: x.all(dim),
    "any": lambda x, dim: x.any(dim),
}
FLOAT_REDUCTIONS = {
    "mean": lambda x, dim: x.mean(dim),
    "var": lambda x, dim: x.var(dim),
    "std_c0": lambda x, dim: x.std(dim, correction=0),
    "norm2": lambda x, dim: x.norm(2, dim),
    "norm1": lambda x, dim: x.norm(1, dim),
    "norm_inf": lambda x, dim: x.norm(float("inf"), dim),
    "norm_ninf": lambda x, dim: x.norm(float("-inf"), dim),
    "norm0": lambda x, dim: x.norm(0, dim),
    "norm3": lambda x, dim: x.norm(3, dim),
    "logsumexp": lambda x, dim: ember.logsumexp(x, dim if dim is not None else (0, 1, 2)),
}
DIMS = [None, 0, 1, 2, (0, 2), -1]


@pytest.mark.parametrize("dtype", INTS + FLOATS)
@pytest.mark.parametrize("op", sorted(REDUCTIONS))
def test_reductions_match_cpu(op, dtype):
    x = sample((3, 5, 70), dtype)
    if op == "prod" and dtype.is_floating_point:
        x = x / 100 + 1                     # keep products of a thousand elements finite
    for v in layouts(x).values():
        for dim in DIMS:
            assert_same(REDUCTIONS[op](v.cuda(), dim), REDUCTIONS[op](v, dim))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", sorted(FLOAT_REDUCTIONS))
def test_float_reductions_match_cpu(op, dtype):
    x = sample((3, 5, 70), dtype)
    for v in layouts(x).values():
        for dim in DIMS:
            assert_same(FLOAT_REDUCTIONS[op](v.cuda(), dim), FLOAT_REDUCTIONS[op](v, dim))


@pytest.mark.parametrize("dtype", [ember.int32, ember.uint8] + FLOATS)
def test_max_min_argmax_with_ties_and_nan_match_cpu(dtype):
    x = ember.tensor(np.random.default_rng(1).integers(0, 3, (6, 40, 33))).to(dtype)  # many ties
    if dtype.is_floating_point:
        x[2, 5, 7] = math.nan
        x[4, 3, 1] = math.nan
        x[4, 9, 1] = math.nan
    for v in layouts(x).values():
        for dim in (0, 1, 2, -1):
            assert_same(v.cuda().max(dim), v.max(dim))
            assert_same(v.cuda().min(dim, keepdim=True), v.min(dim, keepdim=True))
            assert_same(v.cuda().argmax(dim), v.argmax(dim))
            assert_same(v.cuda().argmin(dim), v.argmin(dim))
        assert_same(v.cuda().argmax(), v.argmax())
        assert_same(v.cuda().amax(), v.amax())
        assert_same(v.cuda().max(), v.max())


def test_large_two_pass_reductions_are_deterministic():
    x = sample((3_000_001,), ember.float32, seed=3)
    d = x.cuda()
    first = d.sum()
    for _ in range(3):
        assert d.sum().item() == first.item()
    assert_same(first, x.sum(), rtol=1e-4)
    assert_same(d.argmax(), x.argmax())
    assert_same(d.var(), x.var(), rtol=1e-4)
    assert_same(d.norm(), x.norm(), rtol=1e-4)
    col = sample((200_000, 3), ember.float64, seed=4)
    assert_same(col.cuda().sum(0), col.sum(0))
    assert_same(col.cuda().max(0), col.max(0))
    n = sample((2_000_000,), ember.int32, seed=5)
    assert_same(n.cuda().sum(), n.sum())


def test_empty_and_zero_dim_inputs_match_cpu():
    e = ember.empty(0, 4)
    for fn in (lambda t: t.sum(), lambda t: t.sum(0), lambda t: t.prod(0), lambda t: t.mean(),
               lambda t: t.all(), lambda t: t.any(0), lambda t: t.norm(),
               lambda t: t.amax(1), lambda t: ember.logsumexp(t, 0), lambda t: t.cumsum(0),
               lambda t: ember.softmax(t, 0)):
        assert_same(fn(e.cuda()), fn(e))
    with pytest.raises(RuntimeError, match="Expected reduction dim"):
        e.cuda().amax()
    z = ember.tensor(2.5)
    for fn in (lambda t: t.sum(), lambda t: t.amax(), lambda t: t.argmax(),
               lambda t: t.var(correction=0),
               lambda t: t.cumsum(0), lambda t: ember.softmax(t, 0)):
        assert_same(fn(z.cuda()), fn(z))


def test_dtype_argument_and_complex_sums_match_cpu():
    x = sample((4, 50), ember.int16)
    assert_same(x.cuda().sum(1, dtype=ember.float32), x.sum(1, dtype=ember.float32))
    assert_same(x.cuda().mean(dtype=ember.float64), x.mean(dtype=ember.float64))
    assert_same(x.cuda().cumsum(1, dtype=ember.float64), x.cumsum(1, dtype=ember.float64))
    z = ember.complex(sample((4, 50), ember.float32), sample((4, 50), ember.float32, 1))
    assert_same(z.cuda().sum(1), z.sum(1))
    assert_same(z.cuda().mean(), z.mean())
    assert_same(z.cuda().var(0), z.var(0))
    assert_same(z.cuda().norm(), z.norm())


@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_scans_match_cpu(dtype):
    x = sample((3, 300, 4), dtype)
    for v in layouts(x).values():
        for dim in (0, 1, 2):
            assert_same(v.cuda().cumsum(dim), v.cumsum(dim))
            small = v if not dtype.is_floating_point else v / 4 + 1
            if dim != 1 or not dtype.is_floating_point:
                assert_same(small.cuda().cumprod(dim), small.cumprod(dim),
                            rtol=1e-2 if dtype.is_floating_point else None)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_and_backward_match_cpu(dtype):
    x = sample((4, 7, 1100), dtype) * 4
    x[0, 0, :] = -math.inf                   # a lane of -inf gives NaN, as on the CPU
    for v in layouts(x).values():
        for dim in (0, 1, 2):
            for fn, back in ((ember.softmax, softmax_backward_data),
                             (ember.log_softmax, log_softmax_backward_data)):
                y = fn(v, dim)
                assert_same(fn(v.cuda(), dim), y)
                gv = sample(tuple(v.shape), dtype, seed=2)
                if not y.isnan().any():
                    assert_same(back(gv.cuda(), y.cuda(), dim), back(gv, y, dim))
    assert_same(ember.softmax(x.cuda(), 1, dtype=ember.float32),
                ember.softmax(x, 1, dtype=ember.float32))


def test_autograd_through_cuda_reductions():
    x = sample((5, 40), ember.float32)
    xc = x.cuda().requires_grad_(True)
    xr = x.clone().requires_grad_(True)
    for t in (xc, xr):
        (ember.log_softmax(t, 1).sum() + t.softmax(0).mul(t).sum()).backward()
    assert_same(xc.grad, xr.grad)
