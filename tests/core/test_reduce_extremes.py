"""max, min, amax, amin, argmax, argmin against NumPy (values) and PyTorch (semantics)."""
import math

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

REAL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
               "float32", "float64"]


def sample(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) > 0.5
    if name == "uint8":
        return rng.integers(0, 250, shape).astype(np.uint8)
    if name.startswith("int"):
        return rng.integers(-100, 100, shape).astype(name)
    vals = rng.integers(-40, 40, shape) / 4
    return vals.astype(np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else name)


def layouts(name, shape=(3, 4, 5)):
    arr = sample(name, shape)
    base = ember.from_numpy(arr.copy())
    yield base
    yield base.permute(2, 0, 1)
    yield base[::-1, :, ::-2]
    yield ember.from_numpy(arr[:1].copy()).expand(*shape)


def ref(t):
    arr = np.asarray(t)
    return arr.astype(np.float64) if arr.dtype.kind == "V" or arr.dtype == np.dtype(ml_dtypes.bfloat16) \
        else arr


def to_torch(t):
    arr = np.asarray(t)
    if arr.dtype == np.dtype(ml_dtypes.bfloat16):
        return torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(arr).copy())


def values(t):
    arr = np.asarray(t)
    return arr.astype(np.float64) if arr.dtype == np.dtype(ml_dtypes.bfloat16) else arr


def raises_like(torch_fn, ember_fn):
    with pytest.raises(Exception) as expected:
        torch_fn()
    with pytest.raises(type(expected.value)):
        ember_fn()


@pytest.mark.parametrize("name", REAL_DTYPES)
def test_amax_amin_max_min_values(name):
    for t in layouts(name):
        a = ref(t)
        for dim in (None, 0, -1, (0, 2)):
            axis = None if dim is None else dim
            np.testing.assert_array_equal(values(ember.amax(t, () if dim is None else dim)),
                                          a.max(axis=axis))
            np.testing.assert_array_equal(values(t.amin(() if dim is None else dim, keepdim=True)),
                                          a.min(axis=axis, keepdims=True))
        np.testing.assert_array_equal(values(t.max()), a.max())
        np.testing.assert_array_equal(values(ember.min(t)), a.min())
        assert t.amax().dtype == t.dtype and ember.max(t).dtype == t.dtype


@pytest.mark.parametrize("name", REAL_DTYPES)
def test_max_min_along_dim_give_values_and_first_indices(name):
    for t in layouts(name):
        a = ref(t)
        tt = to_torch(t)
        for dim in (0, 1, -1):
            for keepdim in (False, True):
                got = t.max(dim, keepdim)
                want = tt.max(dim, keepdim)
                np.testing.assert_array_equal(values(got.values), values(got[0]))
                np.testing.assert_array_equal(values(got.values),
                                              np.max(a, axis=dim, keepdims=keepdim))
                np.testing.assert_array_equal(np.asarray(got.indices), want.indices.numpy())
                got = ember.min(t, dim=dim, keepdim=keepdim)
                np.testing.assert_array_equal(values(got.values),
                                              np.min(a, axis=dim, keepdims=keepdim))
                np.testing.assert_array_equal(np.asarray(got.indices),
                                              tt.min(dim, keepdim).indices.numpy())
                assert got.indices.dtype == ember.int64


@pytest.mark.parametrize("name", REAL_DTYPES[1:])
def test_argmax_argmin_match_numpy_first_occurrence(name):
    for t in layouts(name):
        a = ref(t)
        assert t.argmax().item() == np.argmax(a)
        assert ember.argmin(t).item() == np.argmin(a)
        for dim in (0, 1, 2, -1):
            np.testing.assert_array_equal(np.asarray(t.argmax(dim)), np.argmax(a, axis=dim))
            np.testing.assert_array_equal(np.asarray(ember.argmin(t, dim, keepdim=True)),
                                          np.argmin(a, axis=dim, keepdims=True))
        assert t.argmax(None, keepdim=True).shape == (1, 1, 1)


def test_nan_propagates_and_argmax_points_at_the_first_nan():
    x = ember.tensor([[1.0, math.nan, 3.0, math.nan], [2.0, 5.0, -1.0, 0.0]])
    assert math.isnan(x.amax().item()) and math.isnan(x.min().item())
    assert x.argmax().item() == 1 and x.argmin().item() == 1
    assert [math.isnan(v) for v in x.amax(1).tolist()] == [True, False]
    r = x.max(1)
    assert math.isnan(r.values[0].item()) and r.indices.tolist() == [1, 1]
    assert x.min(0).indices.tolist() == [0, 0, 1, 0]
    assert x.argmin(0).tolist() == [0, 0, 1, 0]


def test_long_runs_use_every_kernel_path():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 70001)).astype(np.float32)
    a[1, 30000] = 9.0                       # a tie across chunks of a split run:
    a[1, 60000] = 9.0                       # the first one wins
    a[2, 40000] = np.nan                    # NaNs in two chunks: the first one wins
    a[2, 69000] = np.nan
    t = ember.from_numpy(a)
    assert t.argmax(1).tolist() == [int(np.argmax(a[0])), 30000, 40000]
    assert t.max(1).indices.tolist() == [int(np.argmax(a[0])), 30000, 40000]
    assert t.argmin(1).tolist()[:2] == np.argmin(a[:2], 1).tolist()
    np.testing.assert_array_equal(t.amax(1).numpy()[:2], a[:2].max(1))
    flat = ember.from_numpy(a[:2].copy())
    assert flat.argmax().item() == 70001 + 30000
    col = ember.from_numpy(np.ascontiguousarray(a[:2].T))   # reduced dim outermost: row kernels
    assert col.argmax(0).tolist() == [int(np.argmax(a[0])), 30000]
    np.testing.assert_array_equal(col.max(0).values.numpy(), a[:2].max(1))
    big = rng.standard_normal((40000, 4)).astype(np.float32)
    bt = ember.from_numpy(big)
    np.testing.assert_array_equal(bt.argmax(0).numpy(), big.argmax(0))
    np.testing.assert_array_equal(bt.amin(0).numpy(), big.min(0))


def test_max_with_other_is_maximum():
    x = ember.arange(6.0).reshape(2, 3)
    y = ember.tensor(2.5)
    assert ember.max(x, y).tolist() == [[2.5, 2.5, 2.5], [3.0, 4.0, 5.0]]
    assert x.min(other=y).tolist() == [[0.0, 1.0, 2.0], [2.5, 2.5, 2.5]]


def test_empty_and_zero_dim():
    e = ember.empty(0, 3)
    for fn in ("amax", "amin", "max", "min", "argmax", "argmin"):
        raises_like(lambda: getattr(torch.empty(0, 3), fn)(), lambda: getattr(e, fn)())
        raises_like(lambda: getattr(torch.empty(0, 3), fn)(0), lambda: getattr(e, fn)(0))
        assert tuple(getattr(e, fn)(1)[0].shape if fn in ("max", "min") else getattr(e, fn)(1).shape) == (0,)
    s = ember.tensor(2.0)
    assert s.max(0).indices.item() == 0 and s.max(0).values.item() == 2.0
    assert s.argmax().item() == 0 and s.argmax(0, keepdim=True).shape == ()


def test_unsupported_dtypes_raise_like_torch():
    c = ember.tensor([1j, 2.0])
    tc = torch.tensor([1j, 2.0])
    raises_like(lambda: tc.amax(), lambda: c.amax())
    raises_like(lambda: tc.max(), lambda: c.max())
    raises_like(lambda: tc.min(0), lambda: c.min(0))
    raises_like(lambda: tc.argmax(), lambda: c.argmax())
    raises_like(lambda: torch.tensor([True]).argmax(), lambda: ember.tensor([True]).argmax())
    raises_like(lambda: torch.ones(2, 3).max((0, 1)), lambda: ember.ones(2, 3).max((0, 1)))
    raises_like(lambda: torch.ones(2, 3).argmax((0, 1)), lambda: ember.ones(2, 3).argmax((0, 1)))
    raises_like(lambda: torch.ones(2, 3).argmax(2), lambda: ember.ones(2, 3).argmax(2))
    b = ember.tensor([[True, False]])
    assert b.max(1).indices.tolist() == [0] and b.amax().item() is True
