"""The radix sort and the top-k scan on rows long enough to take them, against PyTorch:
stability, NaN and signed zeros, every dtype, descending, batched rows, views, gradients;
and unique / unique_consecutive."""
import numpy as np
import pytest
import torch

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64"]


def _data(dtype, shape, seed=0, spread=50):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return torch.tensor(rng.integers(0, 2, size=shape) > 0)
    if dtype in ("float32", "float64", "float16", "bfloat16"):
        a = rng.integers(-spread, spread, size=shape) / 4.0   # ties, and both zeros
        t = torch.tensor(a).to(getattr(torch, dtype))
        flat = t.view(-1)
        n = flat.numel()
        flat[rng.integers(0, n, size=max(n // 50, 1))] = float("nan")
        flat[rng.integers(0, n, size=max(n // 50, 1))] = -0.0
        flat[rng.integers(0, n, size=2)] = float("inf")
        flat[rng.integers(0, n, size=2)] = float("-inf")
        return t
    info = np.iinfo(dtype)
    a = rng.integers(-spread, spread, size=shape)
    a[..., :2] = [info.min, info.max]                           # the extremes order right
    return torch.tensor(a.astype(dtype))


def _ember(t):
    if t.dtype == torch.bfloat16:
        return ember.tensor(t.float().numpy()).to(ember.bfloat16)
    return ember.tensor(t.numpy())


def _values(x):
    if isinstance(x, torch.Tensor):
        return x.double().numpy() if x.is_floating_point() else x.numpy()
    return np.asarray(x.to(ember.float64)) if x.is_floating_point() else np.asarray(x)


def _same_bits_of_zero(got, want):
    """-0.0 and +0.0 keep their input order: compare the signs too."""
    g, w = _values(got), _values(want)
    np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("descending", [False, True])
def test_radix_sort_matches_torch_stable(dtype, descending):
    t = _data(dtype, (3, 2500))      # rows of 2048 and more take the radix sort
    got = ember.sort(_ember(t), dim=-1, descending=descending)
    want = torch.sort(t, dim=-1, descending=descending, stable=True)
    np.testing.assert_array_equal(_values(got.values), _values(want.values))
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    if t.is_floating_point():
        _same_bits_of_zero(got.values, want.values)


@pytest.mark.parametrize("dtype", ["int64", "float64", "float32", "int8"])
def test_radix_sort_wide_range(dtype):
    rng = np.random.default_rng(3)
    if dtype.startswith("float"):
        a = (rng.standard_normal(5000) * 10.0 ** rng.integers(-30, 30, 5000)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, 5000, endpoint=True).astype(dtype)
    got = ember.sort(ember.tensor(a))
    want = torch.sort(torch.tensor(a), stable=True)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    np.testing.assert_array_equal(ember.argsort(ember.tensor(a), descending=True).numpy(),
                                  torch.argsort(torch.tensor(a), descending=True,
                                                stable=True).numpy())


@pytest.mark.parametrize("layout", ["transposed", "expanded", "flipped", "sliced"])
def test_radix_sort_views(layout):
    base = _data("float32", (4200, 24), seed=2)     # dim 0: radix rows, dim 1: merge rows
    views = {"transposed": lambda x: x.t(), "expanded": lambda x: x[:, :1].expand(4200, 3),
             "flipped": lambda x: x.flip(0) if isinstance(x, torch.Tensor) else x[::-1],
             "sliced": lambda x: x[::2, 1:]}
    t, e = views[layout](base), views[layout](_ember(base))
    for dim in (0, 1):
        got = e.sort(dim, descending=True)
        want = t.sort(dim=dim, descending=True, stable=True)
        np.testing.assert_array_equal(_values(got.values), _values(want.values))
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


@pytest.mark.parametrize("dtype", DTYPES[1:])   # torch's topk refuses bool
@pytest.mark.parametrize("k", [1, 10, 90, 400, 2500])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_scan_matches_torch(dtype, k, largest):
    # rows of 2500: k <= 312 takes the scan, larger k the full (radix) sort
    t = _data(dtype, (2, 2500), seed=k)
    got = ember.topk(_ember(t), k, largest=largest)
    want = torch.topk(t, k, largest=largest)
    # torch's topk takes equal elements in no set order: compare values, and check
    # that ember's indices point at its values and take the first among equals
    np.testing.assert_array_equal(_values(got.values), _values(want.values))
    e = _ember(t)
    np.testing.assert_array_equal(_values(e.gather(1, got.indices)), _values(got.values))
    stable = torch.sort(t, descending=largest, stable=True).indices[:, :k]
    np.testing.assert_array_equal(got.indices.numpy(), stable.numpy())


def test_topk_scan_worst_orders():
    # increasing input for the largest: every element enters the candidate buffer
    for a in (np.arange(20000.0), np.arange(20000.0)[::-1].copy(), np.zeros(20000)):
        for largest in (True, False):
            got = ember.topk(ember.tensor(a), 50, largest=largest)
            want = torch.sort(torch.tensor(a), descending=largest, stable=True)
            np.testing.assert_array_equal(got.values.numpy(), want.values[:50].numpy())
            np.testing.assert_array_equal(got.indices.numpy(), want.indices[:50].numpy())


def test_kthvalue_long_rows():
    t = _data("float64", (4, 2000), seed=5)
    for k in (1, 7, 1000, 2000):
        got = ember.kthvalue(_ember(t), k, dim=1)
        want = torch.kthvalue(t, k, dim=1)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())


def test_sort_and_topk_gradients_long_rows():
    a = np.random.default_rng(4).standard_normal((2, 600))
    for op in (lambda lib, x: lib.sort(x, dim=1, descending=True).values,
               lambda lib, x: lib.topk(x, 20).values):
        e = ember.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        weights = np.arange(op(torch, t).numel(), dtype=np.float64).reshape(op(torch, t).shape)
        (op(ember, e) * ember.tensor(weights)).sum().backward()
        (op(torch, t) * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())


# unique / unique_consecutive


def _unique_both(fn_name, t, **kwargs):
    got = getattr(ember, fn_name)(_ember(t), **kwargs)
    want = getattr(torch, fn_name)(t, **kwargs)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_array_equal(_values(g), _values(w))
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn_name", ["unique", "unique_consecutive"])
def test_unique_flat(dtype, fn_name):
    t = _data(dtype, (4, 30), spread=6, seed=7)
    if fn_name == "unique_consecutive":
        t = t.repeat_interleave(2, dim=1)
    for inverse in (False, True):
        for counts in (False, True):
            _unique_both(fn_name, t, return_inverse=inverse, return_counts=counts)


@pytest.mark.parametrize("fn_name", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim(fn_name, dim):
    rng = np.random.default_rng(dim + 2)
    t = torch.tensor(rng.integers(0, 2, size=(6, 3, 5)))
    t = torch.cat([t, t[:2], t.flip(0)], dim=0)
    if fn_name == "unique_consecutive":
        t = t.repeat_interleave(2, dim=dim)
    _unique_both(fn_name, t, dim=dim, return_inverse=True, return_counts=True)
    _unique_both(fn_name, t.transpose(0, 2), dim=dim)


def test_unique_layouts_and_edges():
    t = _data("float32", (5, 9), spread=4)
    e = _ember(t)
    views = [(t.t(), e.t()), (t.flip(0), e[::-1]), (t[:1].expand(4, 9), e[:1].expand(4, 9)),
             (t[:, ::2], e[:, ::2])]
    for tv, ev in views:
        got = ember.unique(ev, return_inverse=True, return_counts=True)
        want = torch.unique(tv, return_inverse=True, return_counts=True)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(_values(g), _values(w))
    _unique_both("unique", torch.tensor(3.0), return_inverse=True, return_counts=True)
    _unique_both("unique", torch.zeros(0), return_inverse=True, return_counts=True)
    _unique_both("unique_consecutive", torch.zeros(0, 3), return_inverse=True,
                 return_counts=True)
    e = ember.tensor([1.0, 2.0, 1.0], requires_grad=True)
    assert not ember.unique(e).requires_grad
    assert e.unique(return_counts=True)[1].tolist() == [2, 1]
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.unique(ember.tensor([1, 2]), dim=2)
    with pytest.raises(TypeError, match="Tensor"):
        ember.unique([1, 2])


@pytest.mark.parametrize("fn_name", ["unique", "unique_consecutive"])
def test_unique_dim_empty(fn_name):
    # an empty dim selected: the input comes back whole, empty inverse and counts
    t = torch.zeros(5, 0, 5)
    for dim in (1, -2):
        _unique_both(fn_name, t, dim=dim)
        _unique_both(fn_name, t, dim=dim, return_inverse=True, return_counts=True)
    # an empty dim not selected: nothing to compare, as in PyTorch
    with pytest.raises(RuntimeError, match="0 sized dimensions"):
        getattr(ember, fn_name)(ember.zeros(5, 0, 5), dim=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [100, 3000])
def test_sorted_values_keep_their_bits(dtype, n):
    # values are rebuilt from the sort keys, except NaNs and zeros, whose keys drop
    # bits: a negative NaN, a payload NaN and both zeros come back as they went in
    itype = {"float32": np.uint32, "float64": np.uint64}[dtype]
    a = np.random.default_rng(7).standard_normal(n).astype(dtype)
    bits = a.view(itype)
    bits[:4] = np.array([-np.nan, np.nan, -0.0, 0.0], dtype=dtype).view(itype)
    bits[4] = bits[1] | 1                                  # a NaN with a payload
    for descending in (False, True):
        got = ember.sort(ember.tensor(a), descending=descending).values.numpy()
        want = torch.sort(torch.tensor(a), descending=descending, stable=True).values.numpy()
        np.testing.assert_array_equal(got.view(itype), want.view(itype))
