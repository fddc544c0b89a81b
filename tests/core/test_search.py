"""searchsorted, bucketize, bincount, histc, histogram and histogramdd against PyTorch
(semantics, dtypes, errors) and NumPy (values)."""
import numpy as np
import pytest
import torch

import ember

REAL = ["uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _pair(a):
    return ember.tensor(a), torch.tensor(a)


def _same(got, want):
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    w = want.double().numpy() if want.is_floating_point() else want.numpy()
    g = np.asarray(got.to(ember.float64)) if got.is_floating_point() else np.asarray(got)
    np.testing.assert_allclose(g, w, rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_1d_matches_torch_and_numpy(dtype, right):
    rng = np.random.default_rng(0)
    seq = np.sort(rng.integers(0, 40, 50)).astype(dtype)
    vals = rng.integers(-5, 45, (3, 7)).astype(dtype)
    (es, ts), (ev, tv) = _pair(seq), _pair(vals)
    got = ember.searchsorted(es, ev, right=right)
    _same(got, torch.searchsorted(ts, tv, right=right))
    np.testing.assert_array_equal(got.numpy(), np.searchsorted(seq, vals,
                                                               "right" if right else "left"))
    side = "right" if right else "left"
    _same(ember.searchsorted(es, ev, side=side, out_int32=True),
          torch.searchsorted(ts, tv, side=side, out_int32=True))


def test_searchsorted_batched_views_and_nan():
    rng = np.random.default_rng(1)
    seq = np.sort(rng.standard_normal((4, 30)), axis=1)
    seq[1, -3:] = np.nan
    vals = rng.standard_normal((4, 9))
    vals[0, 0] = np.nan
    (es, ts), (ev, tv) = _pair(seq), _pair(vals)
    for right in (False, True):
        _same(ember.searchsorted(es, ev, right=right), torch.searchsorted(ts, tv, right=right))
        # transposed values, sliced sequence rows, a flipped batch
        _same(ember.searchsorted(es[:, ::2], ev.t().contiguous().t(), right=right),
              torch.searchsorted(ts[:, ::2], tv, right=right))
        _same(ember.searchsorted(es[::-1], ev, right=right),
              torch.searchsorted(ts.flip(0), tv, right=right))
        _same(ember.searchsorted(es[0], ev[:1].expand(5, 9), right=right),
              torch.searchsorted(ts[0], tv[:1].expand(5, 9), right=right))


def test_searchsorted_mixed_dtypes_scalars_sorter_out():
    es, ts = _pair(np.array([1, 2, 3]))
    _same(ember.searchsorted(es, 2), torch.searchsorted(ts, 2))
    _same(ember.searchsorted(es, ember.tensor(2.5)), torch.searchsorted(ts, torch.tensor(2.5)))
    _same(ember.searchsorted(ember.tensor([1.0, 2.0]), ember.tensor([2])),
          torch.searchsorted(torch.tensor([1.0, 2.0]), torch.tensor([2])))
    unsorted = np.array([[5.0, 1.0, 3.0], [0.0, 9.0, 4.0]])
    eu, tu = _pair(unsorted)
    ev, tv = _pair(np.array([[2.0, 6.0], [4.0, 10.0]]))
    _same(ember.searchsorted(eu, ev, sorter=ember.argsort(eu)),
          torch.searchsorted(tu, tv, sorter=torch.argsort(tu)))
    out = ember.empty((2, 2), dtype=ember.int64)
    assert ember.searchsorted(eu, ev, sorter=ember.argsort(eu), out=out) is out
    _same(out, torch.searchsorted(tu, tv, sorter=torch.argsort(tu)))
    _same(ember.searchsorted(ember.tensor([]), ember.tensor([1.0, 2.0])),
          torch.searchsorted(torch.tensor([]), torch.tensor([1.0, 2.0])))
    _same(ember.searchsorted(es, ember.tensor([], dtype=ember.int64)),
          torch.searchsorted(ts, torch.tensor([], dtype=torch.int64)))


def test_searchsorted_and_bucketize_errors():
    es = ember.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
        ember.searchsorted(es, ember.tensor([1.0]), side="left", right=True)
    with pytest.raises(RuntimeError, match="side can only be 'left' or 'right' but got mid"):
        ember.searchsorted(es, ember.tensor([1.0]), side="mid")
    with pytest.raises(RuntimeError, match=r"boundaries tensor \[1, 2\] and input value tensor \[2\]"):
        ember.searchsorted(es.reshape(1, 2), ember.tensor([1.0, 3.0]))
    with pytest.raises(RuntimeError, match="sorter must be a tensor of long"):
        ember.searchsorted(es, ember.tensor([1.0]), sorter=ember.tensor([0, 1], dtype=ember.int32))
    with pytest.raises(RuntimeError, match="complex"):
        ember.searchsorted(es.to(ember.complex64), ember.tensor([1.0]))
    with pytest.raises(TypeError, match="sorted_sequence"):
        ember.searchsorted([1.0, 2.0], ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"boundaries tensor must be 1 dimension, but got dim\(2\)"):
        ember.bucketize(ember.tensor([1.0]), es.reshape(1, 2))


@pytest.mark.parametrize("right", [False, True])
def test_bucketize_matches_torch(right):
    rng = np.random.default_rng(2)
    bounds = np.array([-1.0, 0.0, 0.5, 2.0])
    x = rng.choice([-2.0, -1.0, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0], (4, 6))
    (ex, tx), (eb, tb) = _pair(x), _pair(bounds)
    _same(ember.bucketize(ex, eb, right=right), torch.bucketize(tx, tb, right=right))
    _same(ember.bucketize(ex.t(), eb, right=right, out_int32=True),
          torch.bucketize(tx.t(), tb, right=right, out_int32=True))
    _same(ember.bucketize(2, ember.tensor([1, 2, 3])), torch.bucketize(2, torch.tensor([1, 2, 3])))
    assert not ember.bucketize(ember.tensor([1.0], requires_grad=True), eb).requires_grad


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "int64"])
def test_bincount_matches_torch(dtype):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 12, 100).astype(dtype)
    (ea, ta) = _pair(a)
    _same(ember.bincount(ea), torch.bincount(ta))
    _same(ember.bincount(ea, minlength=30), torch.bincount(ta, minlength=30))
    np.testing.assert_array_equal(ember.bincount(ea).numpy(), np.bincount(a))
    for wdtype in ("float32", "float64", "int64", "float16"):
        w = rng.standard_normal(100).astype(wdtype) if wdtype != "int64" else \
            rng.integers(-3, 4, 100)
        _same(ember.bincount(ea, weights=ember.tensor(w)), torch.bincount(ta, torch.tensor(w)))
    _same(ea[::-2].bincount(), ta.flip(0)[::2].bincount())
    _same(ember.bincount(ember.tensor([], dtype=ember.int64)),
          torch.bincount(torch.tensor([], dtype=torch.int64)))


def test_bincount_errors():
    for bad in (ember.tensor([-1, 2]), ember.tensor([[1]])):
        with pytest.raises(RuntimeError, match="1-d non-negative integral"):
            ember.bincount(bad)
    with pytest.raises(NotImplementedError, match="'Float'"):
        ember.bincount(ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="minlength should be >= 0"):
        ember.bincount(ember.tensor([1]), minlength=-1)
    with pytest.raises(RuntimeError, match="same length as input"):
        ember.bincount(ember.tensor([1, 2]), weights=ember.tensor([1.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_matches_torch(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((20, 30)).astype(dtype)
    x[0, :3] = [np.nan, np.inf, -np.inf]
    ex, tx = _pair(x)
    _same(ember.histc(ex, bins=7, min=-1, max=1.5), torch.histc(tx, bins=7, min=-1, max=1.5))
    finite = x[np.isfinite(x)]
    ef, tf = _pair(finite)
    _same(ember.histc(ef), torch.histc(tf))
    _same(ef.histc(bins=5), tf.histc(bins=5))
    _same(ember.histc(ex.t(), bins=4, min=0, max=1), torch.histc(tx.t(), bins=4, min=0, max=1))
    _same(ember.histc(ember.tensor([2.0, 2.0]), bins=4), torch.histc(torch.tensor([2.0, 2.0]),
                                                                     bins=4))
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        ember.histc(ember.tensor([1.0, 2.0]), min=3, max=1)
    with pytest.raises(NotImplementedError, match="'Long'"):
        ember.histc(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        ember.histc(ember.tensor([1.0]), bins=0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_histc_places_values_on_edges_as_torch(dtype):
    # PyTorch interpolates each value's bin in the input dtype; the values here sit on (or
    # within rounding of) a linspace edge, where a search of the edges picks the bin below
    cases = [([0.0], 100, 0, 0), ([0.0, 0.0, 0.0], 100, 0, 0), ([-2.5, -2.5], 10, 0, 0),
             ([0.3, 0.6, 0.7, 0.9, -0.1], 10, -1, 1), (list(np.arange(-5, 6) / 10), 7, -0.7, 1),
             (list(np.arange(-5, 6) / 3), 33, 0, 0)]
    for values, bins, lo, hi in cases:
        e = ember.tensor(values).to(getattr(ember, dtype))
        t = torch.tensor(values).to(getattr(torch, dtype))
        got = ember.histc(e, bins, min=lo, max=hi)
        want = torch.histc(t, bins, min=lo, max=hi)
        assert got.dtype.name == dtype
        np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())


@pytest.mark.parametrize("bins, lo, hi", [(16, -0.6775794, -0.1005999), (280, 0.89895624, 1.8111486),
                                          (10, 0.0, 1.0), (7, -3.0, 11.0)])
def test_histc_and_histogram_bin_values_on_the_edges_as_torch(bins, lo, hi):
    # histc puts a value in bin int((x - lo) * bins / (hi - lo)), computed in float32,
    # which for a value on an edge is often the bin below the edge's; histogram moves
    # it to the bin the edges give. Both are computed without a search per value.
    rng = np.random.default_rng(6)
    edges = torch.linspace(lo, hi, bins + 1).numpy()
    x = np.concatenate([rng.choice(edges, 500), rng.uniform(lo - 1, hi + 1, 500),
                        [np.nan, np.inf, -np.inf]]).astype(np.float32)
    w = rng.random(x.shape[0]).astype(np.float32)
    ex, tx = _pair(x)
    ew, tw = _pair(w)
    _same(ember.histc(ex, bins, lo, hi), torch.histc(tx, bins, lo, hi))
    for weight in ((None, None), (ew, tw)):
        got = ember.histogram(ex, bins, range=(lo, hi), weight=weight[0])
        want = torch.histogram(tx, bins, range=(lo, hi), weight=weight[1])
        _same(got.bin_edges, want.bin_edges)
        _same(got.hist, want.hist)


@pytest.mark.parametrize("density", [False, True])
def test_histogram_matches_torch_and_numpy(density):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(200)
    w = rng.random(200)
    ex, tx = _pair(x)
    ew, tw = _pair(w)
    for bins in (3, 10):
        got = ember.histogram(ex, bins, density=density)
        want = torch.histogram(tx, bins, density=density)
        _same(got.hist, want.hist)
        _same(got.bin_edges, want.bin_edges)
        np_hist, np_edges = np.histogram(x, bins, density=density)
        np.testing.assert_allclose(got.hist.numpy(), np_hist, rtol=1e-9)
        got = ember.histogram(ex, bins, range=(-1.0, 1.0), weight=ew, density=density)
        want = torch.histogram(tx, bins, range=(-1.0, 1.0), weight=tw, density=density)
        _same(got.hist, want.hist)
    edges = np.array([-2.0, -0.5, 0.0, 0.1, 3.0])
    got = ember.histogram(ex.reshape(10, 20).t(), ember.tensor(edges), density=density)
    want = torch.histogram(tx.reshape(10, 20).t(), torch.tensor(edges), density=density)
    _same(got.hist, want.hist)
    _same(got.bin_edges, want.bin_edges)
    for data in ([2.0, 2.0], []):             # one value; no data at all: edges on [0, 1]
        got = ember.histogram(ember.tensor(data), 3)
        want = torch.histogram(torch.tensor(data), 3)
        _same(got.hist, want.hist)
        _same(got.bin_edges, want.bin_edges)


def test_histogram_errors_and_no_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    assert not ember.histogram(x, 3).hist.requires_grad
    with pytest.raises(NotImplementedError, match="'Long'"):
        ember.histogram(ember.tensor([1, 2]), 3)
    with pytest.raises(RuntimeError, match="bins tensor should have one dimension"):
        ember.histogram(ember.tensor([1.0, 2.0]), ember.tensor([[1.0, 2.0]]))
    with pytest.raises(RuntimeError, match="min should not exceed max"):
        ember.histogram(ember.tensor([1.0, 2.0]), 3, range=(2.0, 1.0))
    # bins of another dtype are refused, not cast
    with pytest.raises(RuntimeError, match="input with dtype double and bins for dimension 0 "
                                           "with dtype float"):
        ember.histogram(ember.tensor([1.0, 2.0], dtype=ember.float64), ember.tensor([0.0, 3.0]))
    with pytest.raises(RuntimeError, match="input with dtype double and bins for dimension 0 "
                                           "with dtype float"):
        torch.histogram(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.0, 3.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("density", [False, True])
def test_histogramdd_matches_torch_and_numpy(dtype, density):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((60, 3)).astype(dtype)
    w = rng.random(60).astype(dtype)
    (ex, tx), (ew, tw) = _pair(x), _pair(w)
    edges = [np.array([-1.0, 0.0, 2.0]), np.array([-3.0, 3.0]), np.array([0.0, 0.5, 1.0, 9.0])]
    cases = [
        (4, {}), ([2, 3, 4], {}), ([2, 3, 1], dict(range=[-1.0, 1.0, -2.0, 2.0, 0.0, 0.0])),
        (3, dict(weight=(ew, tw))), (edges, {}),
    ]
    for bins, kwargs in cases:
        e_kw = {k: v[0] if isinstance(v, tuple) else v for k, v in kwargs.items()}
        t_kw = {k: v[1] if isinstance(v, tuple) else v for k, v in kwargs.items()}
        explicit = bins is edges
        e_bins = [ember.tensor(b.astype(dtype)) for b in bins] if explicit else bins
        t_bins = [torch.tensor(b.astype(dtype)) for b in bins] if explicit else bins
        got = ember.histogramdd(ex, e_bins, density=density, **e_kw)
        want = torch.histogramdd(tx, t_bins, density=density, **t_kw)
        _same(got.hist, want.hist)
        assert isinstance(got.bin_edges, tuple) and len(got.bin_edges) == 3
        for g, t in zip(got.bin_edges, want.bin_edges):
            _same(g, t)
    np_hist, _ = np.histogramdd(x.astype(np.float64), bins=[2, 3, 4], density=density)
    got = ember.histogramdd(ex.to(ember.float64), [2, 3, 4], density=density)
    np.testing.assert_allclose(np.asarray(got.hist), np_hist, rtol=1e-9)
    # leading dimensions flatten, a non-contiguous input counts the same
    got = ember.histogramdd(ex.reshape(6, 10, 3), 2)
    _same(got.hist, torch.histogramdd(tx, 2).hist)
    got = ember.histogramdd(ex.t().contiguous().t(), 2)
    _same(got.hist, torch.histogramdd(tx, 2).hist)


def test_histogramdd_edges_empty_nan_and_errors():
    nan = float("nan")
    pts = [[nan, 1.0], [0.5, 0.5], [1.0, 1.0], [2.0, 0.0]]
    for bins, kwargs in ((2, dict(range=[0.0, 1.0, 0.0, 1.0])), (2, {})):
        if not kwargs:
            pts = pts[1:]
        got = ember.histogramdd(ember.tensor(pts), bins, **kwargs)
        want = torch.histogramdd(torch.tensor(pts), bins, **kwargs)
        _same(got.hist, want.hist)
    got = ember.histogramdd(ember.zeros(0, 2), [2, 3])
    want = torch.histogramdd(torch.zeros(0, 2), [2, 3])
    _same(got.hist, want.hist)
    for g, t in zip(got.bin_edges, want.bin_edges):
        _same(g, t)
    same = ember.histogramdd(ember.tensor([[2.0, 2.0]]), 2)
    _same(same.bin_edges[0], torch.histogramdd(torch.tensor([[2.0, 2.0]]), 2).bin_edges[0])
    x = ember.randn(5, 2, requires_grad=True)
    assert not ember.histogramdd(x, 2).hist.requires_grad
    errors = [
        (lambda m: m.histogramdd(m.zeros(5), 2), RuntimeError, "at least 2 dimensions"),
        (lambda m: m.histogramdd(m.zeros(5, 2), [2, 2, 2]), RuntimeError, "size of bins"),
        (lambda m: m.histogramdd(m.zeros(5, 2), [2, 2], range=[0.0, 1.0]), RuntimeError,
         "range should have 4 elements"),
        (lambda m: m.histogramdd(m.zeros(5, 2), 2, range=[1.0, 0.0, 0.0, 1.0]), RuntimeError,
         "min should not exceed max"),
        (lambda m: m.histogramdd(m.zeros(5, 2, dtype=m.int64), 2), NotImplementedError,
         "'Long'"),
        (lambda m: m.histogramdd(m.zeros(5, 2), [0, 2]), RuntimeError, "bins must be > 0"),
        (lambda m: m.histogramdd(m.zeros(5, 2), 2, weight=m.ones(4)), RuntimeError,
         "same shape as the input"),
        (lambda m: m.histogramdd(m.tensor([[float("inf"), 1.0]]), 2), RuntimeError,
         "is not finite"),
        (lambda m: m.histogramdd(m.zeros(5, 2, dtype=m.float64),
                                 [m.tensor([0.0, 1.0]), m.tensor([0.0, 1.0])]), RuntimeError,
         "should have the same dtype"),
        (lambda m: m.histogramdd(m.zeros(5, 1), [m.tensor([0.0])]), RuntimeError,
         "bins must be > 0"),
    ]
    for call, exc, match in errors:
        with pytest.raises(exc, match=match):
            call(torch)
        with pytest.raises(exc, match=match):
            call(ember)


def test_float32_bin_edges_are_torchs_to_the_bit():
    # PyTorch's linspace kernel rounds each edge once: the edges, and so the bins of
    # values near them, match exactly
    for seed in range(60):
        rng = np.random.default_rng(seed)
        x = (rng.standard_normal(40) * rng.random() * 10).astype(np.float32)
        bins = int(rng.integers(1, 30))
        (ex, tx) = _pair(x)
        got, want = ember.histogram(ex, bins), torch.histogram(tx, bins)
        np.testing.assert_array_equal(np.asarray(got.bin_edges), want.bin_edges.numpy())
        np.testing.assert_array_equal(np.asarray(got.hist), want.hist.numpy())
        got = ember.histogramdd(ex.reshape(20, 2), [bins, 3])
        want = torch.histogramdd(tx.reshape(20, 2), [bins, 3])
        for g, t in zip(got.bin_edges, want.bin_edges):
            np.testing.assert_array_equal(np.asarray(g), t.numpy())
        np.testing.assert_array_equal(np.asarray(got.hist), want.hist.numpy())
