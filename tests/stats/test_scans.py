"""cumprod, logcumsumexp, cummax, cummin and the long-lane cumsum against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-3, 4, size=shape).astype(np.float64) * 0.5 + 0.25
    if dtype == "bool":
        return torch.from_numpy(a > 0)
    if dtype in ("uint8", "int32", "int64"):
        return torch.from_numpy(np.abs(a * 2).astype(np.int64)).to(getattr(torch, dtype))
    return torch.from_numpy(a).to(getattr(torch, dtype))


def _ember(t):
    if t.dtype == torch.bfloat16:
        return ember.tensor(t.float().numpy()).to(ember.bfloat16)
    return ember.from_numpy(t.numpy().copy())


def _np(t):
    if isinstance(t, torch.Tensor):
        return (t.float() if t.dtype in (torch.bfloat16, torch.float16) else t).numpy()
    if t.dtype in (ember.bfloat16, ember.float16):
        t = t.to(ember.float32)
    return np.asarray(t)


VIEWS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.transpose(0, 1),
    "sliced": lambda t: t[:, ::2],
    "negative": lambda t: t.flip(0),
    "expanded": lambda t: t[:1].expand(4, t.shape[1]),
}


def _view(lib_t, name):
    if name == "negative" and isinstance(lib_t, ember.Tensor):
        return lib_t[::-1]
    return VIEWS[name](lib_t)


@pytest.mark.parametrize("op", ["cumprod", "cummax", "cummin", "logcumsumexp", "cumsum"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("view", list(VIEWS))
def test_scans_match_torch(op, dtype, view):
    t = _data((4, 6), dtype)
    e = _ember(t)
    for dim in (0, 1, -1):
        try:
            want = getattr(torch, op)(_view(t, view), dim)
        except (NotImplementedError, RuntimeError) as exc:
            with pytest.raises(type(exc)):
                getattr(ember, op)(_view(e, view), dim)
            return
        got = getattr(ember, op)(_view(e, view), dim)
        if op in ("cummax", "cummin"):
            np.testing.assert_array_equal(_np(got.values), _np(want.values))
            np.testing.assert_array_equal(_np(got.indices), _np(want.indices))
            assert got.indices.dtype == ember.int64
        else:
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            tol = 1e-2 if dtype in ("float16", "bfloat16") else 1e-6
            np.testing.assert_allclose(_np(got), _np(want), rtol=tol, atol=tol)


def test_scan_edges():
    nan = float("nan")
    x = [1.0, nan, 3.0, nan, 0.5]
    for op in ("cummax", "cummin"):
        got, want = getattr(ember, op)(ember.tensor(x), 0), getattr(torch, op)(torch.tensor(x), 0)
        np.testing.assert_array_equal(np.asarray(got.values), want.values.numpy())
        np.testing.assert_array_equal(np.asarray(got.indices), want.indices.numpy())
    y = [-1000.0, 0.0, 1000.0, float("inf"), -float("inf")]
    np.testing.assert_allclose(np.asarray(ember.logcumsumexp(ember.tensor(y), 0)),
                               torch.logcumsumexp(torch.tensor(y, dtype=torch.float64), 0).numpy())
    assert ember.logcumsumexp(ember.tensor([-float("inf")] * 2), 0).tolist() == [-float("inf")] * 2
    # zero-dim and empty
    assert ember.cumprod(ember.tensor(3.0), 0).item() == 3.0
    r = ember.cummax(ember.tensor(2.0), -1)
    assert r.values.item() == 2.0 and r.indices.item() == 0 and r.indices.shape == ()
    assert ember.cumprod(ember.zeros(0, 3), 0).shape == (0, 3)
    assert ember.cummin(ember.zeros(2, 0), 1).indices.shape == (2, 0)
    # complex cumprod, dtype=
    z = np.array([1 + 1j, 2j, 0.5 - 1j], dtype=np.complex128)
    np.testing.assert_allclose(np.asarray(ember.cumprod(ember.tensor(z), 0)), np.cumprod(z))
    got = ember.cumprod(ember.tensor([1, 2, 3], dtype=ember.int8), 0, dtype=ember.float32)
    assert got.dtype == ember.float32 and got.tolist() == [1.0, 2.0, 6.0]
    # methods and in-place forms
    a = ember.tensor([1.0, 2.0, 3.0])
    assert a.cumprod(0).tolist() == [1.0, 2.0, 6.0]
    a.cumprod_(0)
    assert a.tolist() == [1.0, 2.0, 6.0]
    a.cumsum_(0)
    assert a.tolist() == [1.0, 3.0, 9.0]


def test_scan_errors():
    x = ember.ones(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.cumprod(x, 2)
    with pytest.raises(TypeError, match="dim"):
        ember.cummax(x, None)
    with pytest.raises(NotImplementedError, match="Long"):
        ember.logcumsumexp(ember.ones(3, dtype=ember.int64), 0)
    with pytest.raises(NotImplementedError, match="ComplexFloat"):
        ember.cummin(ember.ones(3, dtype=ember.complex64), 0)
    with pytest.raises(TypeError):
        ember.cumprod([1.0, 2.0], 0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
@pytest.mark.parametrize("shape,dim", [((100003,), 0), ((3, 70001), 1), ((70001, 1), 0)])
def test_long_cumsum(dtype, shape, dim):
    rng = np.random.default_rng(1)
    a = rng.integers(-5, 6, size=shape).astype(np.float64)
    t = torch.from_numpy(a).to(getattr(torch, dtype))
    want = torch.cumsum(t.double() if dtype == "float16" else t, dim)
    got = ember.cumsum(_ember(t), dim)
    assert got.dtype == (ember.int64 if dtype == "int32" else getattr(ember, dtype))
    tol = 1e-2 if dtype == "float16" else 0
    if dtype == "float16":      # large running sums round: compare in relative terms
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=2e-3, atol=64)
    else:
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-6, atol=tol)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_scan_gradients_match_torch(layout):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    x[1, 2] = 0.0                  # a zero: cumprod's special case
    x[3, 0] = x[3, 3] = 0.0        # two zeros in a lane
    lay = LAYOUTS[layout]
    assert_grads_match_torch(lambda lib, a: lib.cumprod(a, 1), x, layout=lay)
    assert_grads_match_torch(lambda lib, a: lib.cumprod(a, 0), x, layout=lay)
    assert_grads_match_torch(lambda lib, a: lib.logcumsumexp(a, 1), x, layout=lay)
    assert_grads_match_torch(lambda lib, a: lib.cummax(a, 1), x, layout=lay)
    assert_grads_match_torch(lambda lib, a: lib.cummin(a, 0), x, layout=lay)


def test_scan_gradcheck():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4))
    check_gradients(lambda lib, a: lib.cumprod(a, 1), x)
    z = x.copy()
    z[0, 1] = 0.0
    check_gradients(lambda lib, a: lib.cumprod(a, 1), z)
    check_gradients(lambda lib, a: lib.logcumsumexp(a, 1), x)
    check_gradients(lambda lib, a: lib.cummax(a, 0)[0], x)
    check_gradients(lambda lib, a: lib.cumprod(a[::-1], 0), x)
    c = rng.standard_normal((3,)) + 1j * rng.standard_normal((3,))
    assert_grads_match_torch(lambda lib, a: lib.cumprod(a, 0), c)


def test_long_cumsum_independent_of_threads():
    a = np.random.default_rng(2).standard_normal(200001).astype(np.float32)
    x = ember.from_numpy(a)
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = np.asarray(x.cumsum(0)).copy()
        ember.set_num_threads(2)
        two = np.asarray(x.cumsum(0))
    finally:
        ember.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, np.cumsum(a.astype(np.float64)), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp_complex_matches_torch(dtype, dim):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 9)) + 3j * rng.standard_normal((4, 9))
    a[0, 2] = complex(-np.inf, 0.0)                          # an exp of 0
    a[1, 3], a[1, 5] = complex(np.inf, 1.0), complex(np.inf, 2.0)   # two +inf real parts
    a[2, 5] = complex(np.nan, 0.0)                           # NaN is infectious
    a[3, 1] = complex(0.0, np.nan)
    a[3, 6] = complex(800.0, 0.5)                            # no overflow
    a = a.astype(dtype)
    t = torch.tensor(a)
    for view in (lambda x: x, lambda x: x.t(), lambda x: x.flip(1)):
        got = ember.logcumsumexp(view(ember.tensor(a)), dim)
        want = torch.logcumsumexp(view(t), dim)
        assert got.dtype == getattr(ember, dtype)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6,
                                   equal_nan=True)
    empty = ember.logcumsumexp(ember.zeros((0, 3), dtype=getattr(ember, dtype)), 0)
    assert tuple(empty.shape) == (0, 3)


def test_logcumsumexp_complex_gradients():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
    check_gradients(lambda lib, a: lib.logcumsumexp(a, 1), z)
    assert_grads_match_torch(lambda lib, a: lib.logcumsumexp(a, 1), z)
    assert_grads_match_torch(lambda lib, a: lib.logcumsumexp(a, 0), z[:, ::2])
