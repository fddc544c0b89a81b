"""cumsum, softmax, log_softmax and logsumexp against NumPy (values) and PyTorch (semantics)."""
import math

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
RTOL = {"float16": 2e-3, "bfloat16": 1.6e-2, "float32": 2e-6, "float64": 1e-13}


def sample(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) > 0.5
    if name == "uint8":
        return rng.integers(0, 60, shape).astype(np.uint8)
    if name.startswith("int"):
        return rng.integers(-20, 20, shape).astype(name)
    vals = rng.standard_normal(shape) * 3
    if name.startswith("complex"):
        vals = vals + 1j * rng.standard_normal(shape)
    return vals.astype(np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else name)


def layouts(name, shape=(3, 4, 5)):
    arr = sample(name, shape)
    base = ember.from_numpy(arr.copy())
    yield base
    yield base.permute(2, 0, 1)
    yield base[::-1, :, ::-2]
    yield ember.from_numpy(arr[:1].copy()).expand(*shape)
    yield ember.from_numpy(sample(name, (0, 4, 5)))


def wide(t):
    arr = np.asarray(t)
    if arr.dtype.kind == "c":
        return arr.astype(np.complex128)
    if arr.dtype.kind == "f" or arr.dtype == np.dtype(ml_dtypes.bfloat16):
        return arr.astype(np.float64)
    return arr.astype(np.int64)


def to_torch(t):
    arr = np.asarray(t)
    if arr.dtype == np.dtype(ml_dtypes.bfloat16):
        return torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(arr).copy())


def same_dtype(e, t):
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)


def raises_like(torch_fn, ember_fn):
    with pytest.raises(Exception) as expected:
        torch_fn()
    with pytest.raises(type(expected.value)):
        ember_fn()


@pytest.mark.parametrize("name", DTYPES)
def test_cumsum_over_layouts(name):
    for t in layouts(name):
        for dim in (0, 1, -1):
            got = t.cumsum(dim)
            want = np.cumsum(wide(t), axis=dim)
            assert got.shape == t.shape
            rtol = RTOL.get(name.replace("complex64", "float32").replace("complex128", "float64"))
            if rtol is None:
                np.testing.assert_array_equal(np.asarray(got), want)
            else:
                np.testing.assert_allclose(wide(got), want, rtol=rtol, atol=rtol * 50)
            same_dtype(got, to_torch(t).cumsum(dim))


def test_cumsum_dtype_and_errors():
    u = ember.tensor([200, 100], dtype=ember.uint8)
    assert u.cumsum(0).tolist() == [200, 300]
    assert u.cumsum(0, dtype=ember.uint8).tolist() == [200, 44]
    assert ember.arange(6).reshape(2, 3).cumsum(0, dtype=ember.float32).dtype == ember.float32
    assert ember.tensor(2).cumsum(0).item() == 2 and ember.tensor(2).cumsum(-1).shape == ()
    raises_like(lambda: torch.ones(2, 3).cumsum(2), lambda: ember.ones(2, 3).cumsum(2))
    raises_like(lambda: torch.ones(2, 3).cumsum((0,)), lambda: ember.ones(2, 3).cumsum((0,)))
    raises_like(lambda: torch.ones(2, 3).cumsum(None), lambda: ember.ones(2, 3).cumsum(None))
    long = ember.ones(100000)
    assert long.cumsum(0)[-1].item() == 100000.0


def np_softmax(a, dim):
    m = a.max(axis=dim, keepdims=True, initial=-np.inf)
    e = np.exp(a - m)
    return e / e.sum(axis=dim, keepdims=True)


@pytest.mark.parametrize("name", FLOATS)
def test_softmax_and_log_softmax_over_layouts(name):
    for t in layouts(name):
        a = wide(t)
        for dim in (0, 1, -1):
            got = ember.softmax(t, dim)
            want = np_softmax(a, dim)
            np.testing.assert_allclose(wide(got), want, rtol=RTOL[name] * 4, atol=RTOL[name])
            got = t.log_softmax(dim)
            np.testing.assert_allclose(wide(got), np.log(want), rtol=RTOL[name] * 4,
                                       atol=RTOL[name] * 4)
            same_dtype(got, to_torch(t).log_softmax(dim))


@pytest.mark.parametrize("shape,dim", [((64, 3000), 1), ((3000, 64), 0), ((2, 50, 700), 1),
                                       ((300, 200), 0)])
def test_softmax_large_rows_and_columns(shape, dim):
    rng = np.random.default_rng(6)
    a = (rng.standard_normal(shape) * 20).astype(np.float32)
    t = ember.from_numpy(a)
    want = np_softmax(a.astype(np.float64), dim)
    np.testing.assert_allclose(t.softmax(dim).numpy(), want, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(t.log_softmax(dim).numpy(), np.log(want), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(t.softmax(dim).numpy().sum(axis=dim), 1.0, rtol=1e-5)


def test_softmax_extreme_values_like_torch():
    cases = [[-math.inf, 1.0], [math.inf, 1.0], [math.nan, 1.0], [-math.inf, -math.inf],
             [-100.0, 0.0], [88.0, 89.0], [-1e30, 1e30], [-87.0, 0.0]]
    for row in cases:
        for fn in ("softmax", "log_softmax"):
            want = getattr(torch, fn)(torch.tensor(row), 0).tolist()
            got = getattr(ember, fn)(ember.tensor(row), 0).tolist()
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-30, equal_nan=True)


def test_softmax_exp_accuracy_over_the_float_range():
    x = np.linspace(-86, 88, 200001).astype(np.float32)
    t = ember.from_numpy(np.stack([x, np.full_like(x, -np.inf)], axis=1))
    got = t.softmax(1).numpy()[:, 0]          # exp(x - x) / (1 + exp(-inf)) = 1 exactly
    np.testing.assert_array_equal(got, 1.0)
    two = ember.from_numpy(np.stack([x, np.zeros_like(x)], axis=1))
    want = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    np.testing.assert_allclose(two.softmax(1).numpy()[:, 0], want, rtol=4e-7, atol=1e-38)


def test_softmax_dtype_and_errors():
    x = ember.arange(6).reshape(2, 3)
    raises_like(lambda: torch.arange(6).reshape(2, 3).softmax(1), lambda: x.softmax(1))
    assert x.softmax(1, dtype=ember.float32).dtype == ember.float32
    assert ember.softmax(ember.ones(3), 0, ember.float64).dtype == ember.float64
    raises_like(lambda: torch.softmax(torch.ones(3), 0, dtype=torch.int64),
                lambda: ember.softmax(ember.ones(3), 0, dtype=ember.int64))
    raises_like(lambda: torch.softmax(torch.tensor([1j]), 0),
                lambda: ember.softmax(ember.tensor([1j]), 0))
    raises_like(lambda: torch.softmax(torch.tensor(2.0), 1), lambda: ember.softmax(ember.tensor(2.0), 1))
    assert ember.softmax(ember.tensor(2.0), 0).item() == 1.0
    assert ember.log_softmax(ember.tensor(2.0), -1).item() == 0.0
    assert ember.softmax(ember.empty(0, 3), 1).shape == (0, 3)


@pytest.mark.parametrize("name", FLOATS + ["int64", "bool"])
def test_logsumexp(name):
    for t in layouts(name):
        a = wide(t).astype(np.float64)
        for dim in (0, -1, (0, 2)):
            for keepdim in (False, True):
                got = ember.logsumexp(t, dim, keepdim)
                with np.errstate(divide="ignore"):
                    m = a.max(axis=dim, keepdims=True) if a.size else np.zeros([1] * a.ndim)
                    want = np.log(np.exp(a - m).sum(axis=dim, keepdims=True)) + m
                if not keepdim:
                    want = want.squeeze(axis=dim)
                rtol = RTOL.get(name, 2e-6)
                np.testing.assert_allclose(wide(got).astype(np.float64), want, rtol=rtol, atol=rtol)
                same_dtype(got, torch.logsumexp(to_torch(t), dim, keepdim))


def test_logsumexp_infinities_and_empty():
    assert ember.logsumexp(ember.tensor([math.inf, 1.0]), 0).item() == math.inf
    assert ember.logsumexp(ember.tensor([-math.inf, -math.inf]), 0).item() == -math.inf
    assert ember.logsumexp(ember.empty(0, 3), 0).tolist() == [-math.inf] * 3
    assert ember.logsumexp(ember.tensor(3.0), 0).item() == 3.0
    big = ember.tensor([1000.0, 1000.0])
    assert big.logsumexp(0).item() == pytest.approx(1000.0 + math.log(2))
    raises_like(lambda: torch.logsumexp(torch.ones(2, 3), (0, -2)),
                lambda: ember.logsumexp(ember.ones(2, 3), (0, -2)))


@pytest.mark.parametrize("length", [10, 64, 100, 250, 1000])
def test_softmax_rows_with_nan_or_inf_anywhere_like_torch(length):
    # a NaN or an infinity in the vector lanes, in a long rest past them, in a short tail
    rng = np.random.default_rng(length)
    a = rng.standard_normal((6, length)).astype(np.float32)
    for row, at in enumerate((0, length // 2, length - 1)):
        a[row, at] = np.nan
        a[row + 3, at] = np.inf
    for fn in ("softmax", "log_softmax"):
        want = getattr(torch, fn)(torch.from_numpy(a), 1).numpy()
        got = getattr(ember, fn)(ember.from_numpy(a), 1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-30, equal_nan=True)
        assert np.isnan(got[:3]).all()
