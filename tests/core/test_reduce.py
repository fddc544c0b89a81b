"""Reductions (sum, mean, prod, var, std, norm, all, any) against NumPy and PyTorch.

Values are checked against NumPy computed in a wide dtype (int64, float64,
complex128); result dtypes, error classes and edge-case semantics against
PyTorch.  Every op runs over contiguous, permuted, negative-step, expanded,
empty and 0-d inputs.
"""
import math

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
DIMS = [None, 0, -1, (0, 2), (-1, 1), ()]
REAL = {"complex64": "float32", "complex128": "float64"}
RTOL = {"float16": 2e-3, "bfloat16": 1.6e-2, "float32": 1e-5, "float64": 1e-12,
        "complex64": 1e-5, "complex128": 1e-12}


def np_dtype(name):
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def wide(name):
    if name in ("complex64", "complex128"):
        return np.complex128
    if name in FLOATS:
        return np.float64
    return np.int64


def sample(name, shape, seed=0, low=-8, high=9):
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) > 0.5
    if name == "uint8":
        return rng.integers(0, 6, shape).astype(np.uint8)
    if name.startswith("int"):
        return rng.integers(-5, 6, shape).astype(name)
    vals = rng.integers(low, high, shape) / 4
    if name.startswith("complex"):
        vals = vals + 1j * (rng.integers(low, high, shape) / 4)
    return vals.astype(np_dtype(name))


def layouts(name, shape=(3, 4, 5)):
    """(label, ember tensor) pairs over one dtype: every stride pattern a reduction meets."""
    arr = sample(name, shape)
    base = ember.from_numpy(arr.copy())
    yield "contiguous", base
    yield "permuted", base.permute(2, 0, 1)
    yield "negative", base[::-1, :, ::-2]
    yield "expanded", ember.from_numpy(arr[:1].copy()).expand(*shape)
    yield "empty0", ember.from_numpy(sample(name, (0,) + shape[1:]))
    yield "empty1", ember.from_numpy(sample(name, shape[:1] + (0,) + shape[2:]))


def to_np(t):
    return np.asarray(t)


def to_torch(t):
    arr = np.asarray(t)
    if arr.dtype == np.dtype(ml_dtypes.bfloat16):
        return torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(arr).copy())


def same_dtype(e, t):
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)


def np_axis(dim):
    if dim is None or dim == ():
        return None
    return dim


def assert_close(got, want, name):
    got = np.asarray(got).astype(wide(name) if name in RTOL else np.float64)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if name in RTOL:
        np.testing.assert_allclose(got, want, rtol=RTOL[name], atol=RTOL[name])
    else:
        np.testing.assert_array_equal(got, want)


def raises_like(torch_fn, ember_fn):
    """ember_fn raises the exception class that torch_fn raises."""
    with pytest.raises(Exception) as expected:
        torch_fn()
    with pytest.raises(type(expected.value)):
        ember_fn()


# ---------------------------------------------------------------- sum, mean, prod

@pytest.mark.parametrize("name", DTYPES)
def test_sum_over_layouts_dims_and_keepdim(name):
    for label, t in layouts(name):
        ref = to_np(t).astype(wide(name))
        for dim in DIMS:
            for keepdim in (False, True):
                got = ember.sum(t, dim, keepdim)
                want = np.sum(ref, axis=np_axis(dim), keepdims=keepdim)
                assert_close(got, want, name)
                same_dtype(got, torch.sum(to_torch(t), () if dim is None else dim, keepdim))


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
@pytest.mark.parametrize("name", FLOATS + ["complex64", "complex128"])
def test_mean_over_layouts(name):
    for label, t in layouts(name):
        ref = to_np(t).astype(wide(name))
        for dim in DIMS:
            got = t.mean(dim, keepdim=True)
            with np.errstate(invalid="ignore"):
                want = np.mean(ref, axis=np_axis(dim), keepdims=True)
            assert_close(got, want, name)
            same_dtype(got, to_torch(t).mean(() if dim is None else dim, keepdim=True))


@pytest.mark.parametrize("name", DTYPES)
def test_prod_over_layouts(name):
    for label, t in layouts(name, shape=(3, 4, 2)):
        ref = to_np(t).astype(wide(name))
        for dim in (None, 0, -1, 1):
            got = t.prod() if dim is None else t.prod(dim, keepdim=dim == 1)
            want = np.prod(ref, axis=dim, keepdims=dim == 1)
            assert_close(got, want, name)
            tt = to_torch(t)
            same_dtype(got, tt.prod() if dim is None else tt.prod(dim))


def test_sum_dtype_argument_follows_torch():
    x = ember.tensor([200, 100], dtype=ember.uint8)
    assert x.sum().item() == 300 and x.sum().dtype == ember.int64
    assert x.sum(dtype=ember.uint8).item() == 44
    half = ember.ones(3, dtype=ember.float16)
    assert half.sum(dtype=ember.float32).dtype == ember.float32
    i = ember.arange(6).reshape(2, 3)
    assert i.sum(dtype=ember.float32).dtype == ember.float32
    assert i.sum(1, dtype=ember.float64).tolist() == [3.0, 12.0]
    assert ember.tensor([1.5, 2.5]).sum(dtype=ember.int32).item() == 3
    assert ember.tensor([1, 2]).sum(dtype=ember.bool).item() is True
    assert ember.tensor([True, True]).sum().item() == 2
    assert i.prod(1, dtype=ember.float32).dtype == ember.float32
    assert ember.tensor([100, 3], dtype=ember.int8).prod(dtype=ember.int8).item() == 44


def test_mean_rejects_integers_like_torch():
    i = ember.arange(6)
    raises_like(lambda: torch.arange(6).mean(), lambda: i.mean())
    raises_like(lambda: torch.ones(2).mean(dtype=torch.int64), lambda: ember.ones(2).mean(dtype=ember.int64))
    assert i.mean(dtype=ember.float64).item() == 2.5


def test_empty_reductions():
    e = ember.empty(0, 3)
    assert e.sum().item() == 0 and e.prod().item() == 1
    assert math.isnan(e.mean().item())
    assert e.sum(1).shape == (0,) and e.mean(0).shape == (3,)
    assert all(math.isnan(v) for v in e.mean(0).tolist())
    assert e.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert ember.empty(0, dtype=ember.int32).sum().dtype == ember.int64
    assert e.all().item() is True and e.any().item() is False


def test_zero_dim_inputs():
    s = ember.tensor(3.0)
    for fn in (ember.sum, ember.mean, ember.prod, ember.amax, ember.amin):
        assert fn(s, 0).item() == 3.0 and fn(s, -1).shape == ()
    assert s.sum(keepdim=True).shape == ()
    assert s.sum((0,)).item() == 3.0
    raises_like(lambda: torch.tensor(3.0).sum(1), lambda: s.sum(1))
    assert ember.tensor(2).cumsum(0).item() == 2
    assert ember.tensor(True).any(0).item() is True


def test_float32_sum_is_accurate_on_1e7_elements():
    rng = np.random.default_rng(1)
    a = (rng.random(10**7, dtype=np.float32) + 0.5).astype(np.float32)
    t = ember.from_numpy(a)
    want = a.astype(np.float64).sum()
    np.testing.assert_allclose(t.sum().item(), want, rtol=1e-6)
    np.testing.assert_allclose(t.mean().item(), want / a.size, rtol=1e-6)
    np.testing.assert_allclose(t.sum().item(), a.sum(), rtol=1e-5)


@pytest.mark.parametrize("shape,dim", [((512, 2048), 0), ((512, 2048), 1), ((4096, 3), 0),
                                       ((3, 40000), 1), ((40, 50, 60), (0, 2)), ((2, 300, 90), 1),
                                       ((200, 3, 500), (0, 2)), ((100, 800, 3), (0, 1))])
def test_large_sums_match_numpy_in_every_engine_mode(shape, dim):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape).astype(np.float32)
    t = ember.from_numpy(a)
    want = a.astype(np.float64).sum(axis=dim)
    np.testing.assert_allclose(t.sum(dim).numpy(), want, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(t.mT.sum(dim if isinstance(dim, int) else None).numpy().sum(),
                               a.astype(np.float64).sum(), rtol=1e-4)


# Row-mode folds (the reduced dim outside the kept one) take four rows per pass, in
# blocks of 32 rows, over tiles of up to 4096 outputs: row counts around both blocks,
# and widths on either side of the tile, for every fold with one combine.
ROW_FOLDS = {
    "sum": (lambda t: t.sum(0), lambda a: a.sum(0)),
    "prod": (lambda t: t.prod(0), lambda a: a.prod(0)),
    "amax": (lambda t: t.amax(0), lambda a: a.max(0)),
    "amin": (lambda t: t.amin(0), lambda a: a.min(0)),
    "norm1": (lambda t: ember.linalg.vector_norm(t, 1, dim=0), lambda a: np.abs(a).sum(0)),
    "norm2": (lambda t: ember.linalg.vector_norm(t, 2, dim=0),
              lambda a: np.sqrt((a * a).sum(0))),
    "norm_inf": (lambda t: ember.linalg.vector_norm(t, math.inf, dim=0), lambda a: np.abs(a).max(0)),
    "norm0": (lambda t: ember.linalg.vector_norm(t, 0, dim=0), lambda a: (a != 0).sum(0)),
    "all": (lambda t: t.all(0), lambda a: (a != 0).all(0)),
    "any": (lambda t: t.any(0), lambda a: (a != 0).any(0)),
}


@pytest.mark.parametrize("fold", sorted(ROW_FOLDS))
@pytest.mark.parametrize("rows", [1, 3, 4, 5, 8, 31, 33, 37, 70])
@pytest.mark.parametrize("width", [5, 4097])
def test_row_mode_folds_every_row_count(fold, rows, width):
    rng = np.random.default_rng(rows)
    a = rng.integers(-3, 4, (rows, width)) * np.where(rng.random((rows, width)) < 0.5, 1.0, 0.5)
    a[rng.random((rows, width)) < 0.05] = 0
    ours, theirs = ROW_FOLDS[fold]
    want = theirs(a)
    for dtype in ("int32", "float32", "float64"):
        if dtype == "int32" and fold.startswith("norm"):
            continue
        x = a.astype(np.int32) if dtype == "int32" else a.astype(dtype)
        got = np.asarray(ours(ember.from_numpy(x)))
        ref = theirs(x) if dtype == "int32" else want
        np.testing.assert_allclose(got.astype(np.float64), np.asarray(ref, dtype=np.float64),
                                   rtol=1e-6, err_msg=f"{fold} {dtype}")


# Reductions along contiguous rows: runs up to 128 elements fold in eight lanes, longer
# ones below 16 x lanes in 128-element chunks of them, and longer ones in wide blocks
# with their tails chunked again; float32/float64 sums and sums of squares of 256 or
# more take four vectors (steps of 64 / 32 elements, flushed every 16 steps) first.
# Lengths around every boundary (float32 sums use 64 lanes, float64 32, the other
# folds 8), with the rows' values exact in every dtype.
@pytest.mark.parametrize("fold", sorted(ROW_FOLDS))
@pytest.mark.parametrize("length", [1, 7, 8, 9, 127, 128, 129, 255, 256, 257, 319, 320, 511,
                                    513, 1023, 1024, 1025, 1100, 2047, 2111, 4103])
def test_inner_folds_every_run_length(fold, length):
    rng = np.random.default_rng(length)
    a = rng.integers(-3, 4, (3, length)) * np.where(rng.random((3, length)) < 0.5, 1.0, 0.5)
    a[rng.random((3, length)) < 0.05] = 0
    if fold == "prod":
        a = np.where(rng.random((3, length)) < 0.97, 1.0, a)   # keep products finite
    ours, theirs = ROW_FOLDS[fold]
    for dtype in ("int32", "float32", "float64"):
        if dtype == "int32" and fold.startswith("norm"):
            continue
        x = a.astype(np.int32) if dtype == "int32" else a.astype(dtype)
        # the folds of ROW_FOLDS reduce dim 0: hand them the transpose, contiguous along it
        got = np.asarray(ours(ember.from_numpy(np.ascontiguousarray(x)).T))
        ref = theirs(x.T.astype(np.float64) if dtype != "int32" else x.T)
        np.testing.assert_allclose(got.astype(np.float64), np.asarray(ref, dtype=np.float64),
                                   rtol=1e-6, err_msg=f"{fold} {dtype}")


# amax/amin of float32/float64 along contiguous runs of one vector step (32 / 16
# elements) or more fold in AVX2 vectors whose last step moves back to end at the
# run's end: a NaN or an infinity anywhere, the overlapped tail included, must win.
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("length", [16, 31, 32, 33, 63, 100, 129, 300])
def test_selecting_folds_see_every_element(dtype, length):
    rng = np.random.default_rng(length)
    for pos in sorted({0, 1, length // 2, length - 33, length - 17, length - 2, length - 1}):
        if pos < 0:
            continue
        a = rng.standard_normal((4, length)).astype(dtype)
        a[0, pos] = np.nan
        a[1, pos] = np.inf
        a[2, pos] = -np.inf
        a[3, pos] = 100.0
        t = ember.from_numpy(a)
        for ours, theirs in ((t.amax(1), a.max(1)), (t.amin(1), a.min(1)),
                             (ember.linalg.vector_norm(t, math.inf, dim=1), np.abs(a).max(1))):
            np.testing.assert_array_equal(np.asarray(ours), theirs, err_msg=f"at {pos}")


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 200000)).astype(np.float32)
    t = ember.from_numpy(a)
    old = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = [t.sum(1).numpy(), t.sum(0).numpy(), t.var(1).numpy(), t.argmax(1).numpy()]
        ember.set_num_threads(2)
        two = [t.sum(1).numpy(), t.sum(0).numpy(), t.var(1).numpy(), t.argmax(1).numpy()]
    finally:
        ember.set_num_threads(old)
    # the reduction is chunked by shape alone: bitwise the same on any thread count
    for x, y in zip(one, two):
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------- var, std

@pytest.mark.parametrize("name", FLOATS + ["complex64", "complex128"])
def test_var_std_over_layouts(name):
    for label, t in layouts(name):
        if t.numel() == 0:
            continue
        ref = to_np(t).astype(wide(name))
        for dim in (None, 0, -1, (0, 2)):
            for correction in (0, 1):
                got = ember.var(t, dim, correction=correction)
                want = np.var(ref, axis=np_axis(dim), ddof=correction)
                assert_close(got, want, REAL.get(name, name))
                got = t.std(dim, keepdim=True, correction=correction)
                want = np.std(ref, axis=np_axis(dim), ddof=correction, keepdims=True)
                assert_close(got, want, REAL.get(name, name))
                same_dtype(got, to_torch(t).std(dim, keepdim=True, correction=correction))


def test_var_legacy_unbiased_and_edge_cases():
    x = ember.tensor([[1.0, 2.0, 4.0]])
    assert x.var(False).item() == pytest.approx(14 / 9)
    assert x.var(1, False).tolist() == pytest.approx([14 / 9])
    assert x.var(unbiased=True).item() == pytest.approx(7 / 3)
    assert x.std(1, True, True).shape == (1, 1)
    assert x.var(correction=0.5).item() == pytest.approx(torch.tensor([1.0, 2.0, 4.0]).var(correction=0.5).item())
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert x.var(correction=5).item() == math.inf
    with pytest.warns(UserWarning):
        assert math.isnan(ember.tensor([1.0]).var().item())
    assert ember.tensor([1.0, math.nan]).var().item() != ember.tensor([1.0, math.nan]).var().item()
    assert math.isnan(ember.tensor([1.0, math.inf]).var().item())
    raises_like(lambda: torch.arange(3).var(), lambda: ember.arange(3).var())
    raises_like(lambda: torch.ones(2, 3).var(1, True, correction=0),
                lambda: ember.ones(2, 3).var(1, True, correction=0))


def test_var_of_large_offset_data_is_stable():
    rng = np.random.default_rng(4)
    a = (1e4 + rng.standard_normal((4, 50000))).astype(np.float32)
    t = ember.from_numpy(a)
    np.testing.assert_allclose(t.var(1).numpy(), a.astype(np.float64).var(1, ddof=1), rtol=1e-3)
    np.testing.assert_allclose(t.var(0).numpy(), a.astype(np.float64).var(0, ddof=1), rtol=1e-2)


# ---------------------------------------------------------------- norm

@pytest.mark.parametrize("name", FLOATS + ["complex64", "complex128"])
@pytest.mark.parametrize("p", ["fro", 2, 1, math.inf, -math.inf, 0, 3, 0.5, -1])
def test_norm_orders(name, p):
    for label, t in layouts(name):
        if t.numel() == 0:
            continue
        ref = np.abs(to_np(t).astype(wide(name)))
        for dim in (None, 1, (0, 2)):
            got = ember.norm(t, p, dim, keepdim=dim == 1)
            axis = np_axis(dim)
            q = 2 if p == "fro" else p
            with np.errstate(divide="ignore"):
                if q == math.inf:
                    want = ref.max(axis=axis, keepdims=dim == 1)
                elif q == -math.inf:
                    want = ref.min(axis=axis, keepdims=dim == 1)
                elif q == 0:
                    want = (ref != 0).sum(axis=axis, keepdims=dim == 1)
                else:
                    want = (ref ** q).sum(axis=axis, keepdims=dim == 1) ** (1 / q)
            assert_close(got, want, REAL.get(name, name))
            same_dtype(got, torch.norm(to_torch(t), p, dim, keepdim=dim == 1))


def test_norm_errors_and_dtype():
    raises_like(lambda: torch.arange(3).norm(), lambda: ember.arange(3).norm())
    raises_like(lambda: torch.ones(2, 3, 4).norm("fro", (0, 1, 2)),
                lambda: ember.ones(2, 3, 4).norm("fro", (0, 1, 2)))
    raises_like(lambda: torch.ones(0).norm(math.inf), lambda: ember.ones(0).norm(math.inf))
    raises_like(lambda: torch.ones(3).norm(p=[1]), lambda: ember.ones(3).norm(p=[1]))
    assert ember.ones(2, 3).norm(dtype=ember.float64).dtype == ember.float64
    assert ember.ones(0).norm().item() == 0.0
    assert math.isnan(ember.tensor([math.nan, 1.0]).norm(math.inf).item())


def test_norm_nuclear():
    # torch.norm(x, "nuc"): the matrix norm over dim (the OpInfo "norm.nuc"), with its gradient
    rng = np.random.default_rng(3)
    for shape, dim, keepdim in [((5, 5), None, False), ((5, 5, 5), [1, 2], False),
                                ((2, 3, 4), (0, 2), True)]:
        a = rng.standard_normal(shape)
        t = torch.tensor(a, requires_grad=True)
        e = ember.tensor(a, requires_grad=True)
        want = torch.norm(t, "nuc", dim, keepdim)
        got = ember.norm(e, "nuc", dim, keepdim)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)
        w = rng.standard_normal(tuple(want.shape))
        (want * torch.tensor(w)).sum().backward()
        (got * ember.tensor(w)).sum().backward()
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert ember.ones(3, 3).norm("nuc", dtype=ember.float64).dtype == ember.float64
    raises_like(lambda: torch.ones(2, 3, 4).norm("nuc"), lambda: ember.ones(2, 3, 4).norm("nuc"))
    raises_like(lambda: torch.ones(2, 3, 4).norm("nuc", 1),
                lambda: ember.ones(2, 3, 4).norm("nuc", 1))


# ---------------------------------------------------------------- all, any

@pytest.mark.parametrize("name", DTYPES)
def test_all_any_over_layouts(name):
    for label, t in layouts(name):
        ref = to_np(t).astype(wide(name)) != 0
        for dim in DIMS:
            for fn, npfn in ((ember.all, np.all), (ember.any, np.any)):
                got = fn(t, dim, keepdim=True)
                # PyTorch's all/any over dim=() reduce no dim
                want = ref if dim == () else npfn(ref, axis=np_axis(dim), keepdims=True)
                np.testing.assert_array_equal(to_np(got).astype(bool), want)
                same_dtype(got, getattr(torch, fn.__name__)(to_torch(t), () if dim is None else dim,
                                                            keepdim=True))


def test_all_any_nan_and_long_runs():
    assert ember.tensor([math.nan]).all().item() is True
    z = ember.ones(100003, dtype=ember.bool)
    assert z.all().item() is True and z.any().item() is True
    z[77777] = False
    assert z.all().item() is False
    assert ember.zeros(100003).any().item() is False


# ---------------------------------------------------------------- argument checking

def test_dim_errors_match_torch():
    x = ember.ones(2, 3)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        x.sum(2)
    raises_like(lambda: torch.ones(2, 3).sum((0, 0)), lambda: x.sum((0, 0)))
    raises_like(lambda: torch.ones(2, 3).amax((1, -1)), lambda: x.amax((1, -1)))
    raises_like(lambda: torch.ones(2, 3).sum(1.0), lambda: x.sum(1.0))
    raises_like(lambda: torch.ones(2, 3).prod((0, 1)), lambda: x.prod((0, 1)))
    raises_like(lambda: torch.sum([1, 2]), lambda: ember.sum([1, 2]))
    raises_like(lambda: torch.ones(2, 3).all(5), lambda: x.all(5))
    assert x.sum((-1, -2)).item() == 6.0 and x.sum([0]).shape == (3,)


def test_functions_and_methods_agree():
    x = ember.arange(12.0).reshape(3, 4)
    assert ember.sum(x, 1).tolist() == x.sum(1).tolist() == x.sum(dim=1).tolist()
    assert x.mean(dim=(0, 1), keepdim=True).shape == (1, 1)
    assert x.var(dim=0).tolist() == ember.var(x, 0).tolist()
    assert x.norm(p=1).item() == 66.0


def test_all_any_with_empty_dims_reduce_nothing():
    # PyTorch: all/any over dim=() are elementwise, where sum/amax over () reduce every dim
    x = np.array([[0.0, 1.0], [2.0, float("nan")]])
    for name in ("all", "any"):
        for dim in ((), []):
            got = getattr(ember, name)(ember.tensor(x), dim=dim)
            want = getattr(torch, name)(torch.tensor(x), dim=tuple(dim))
            assert got.dtype == ember.bool
            np.testing.assert_array_equal(np.asarray(got), want.numpy())
    assert float(ember.sum(ember.tensor(x[:, :1]), dim=())) == 2.0
