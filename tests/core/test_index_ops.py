"""index_select, gather, scatter, scatter_add, index_put, masked_fill and nonzero
against NumPy (values) and PyTorch (semantics and errors)."""
import ml_dtypes
import numpy as np
import pytest
import torch

import ember
from core_oracle import check_out_like_torch

DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
          ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = [np.dtype(d).name for d in DTYPES]


def values(shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-20, 20, size=shape)
    if np.dtype(dtype) == np.bool_:
        return a > 0
    if np.dtype(dtype).kind == "c":
        return (a + 1j * rng.integers(-5, 5, size=shape)).astype(dtype)
    return a.astype(dtype)


def views(a):
    """(name, ember tensor, values it holds): contiguous, transposed, negative-stride, expanded."""
    out = [("contiguous", ember.from_numpy(a.copy()), a),
           ("negative", ember.from_numpy(a[::-1].copy())[::-1], a)]
    if a.ndim == 2:
        out.append(("transposed", ember.from_numpy(a.T.copy()).T, a))
        out.append(("expanded", ember.from_numpy(a[:1].copy()).expand(*a.shape),
                    np.broadcast_to(a[:1], a.shape)))
    return out


def as_numpy(t):
    return np.asarray(t.numpy())


def torch_error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.type, str(info.value)


def assert_same_error(ember_fn, torch_fn):
    cls, msg = torch_error(torch_fn)
    with pytest.raises(cls) as info:
        ember_fn()
    assert str(info.value) == msg


# ---------------------------------------------------------------- index_select

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_index_select_values(dtype):
    a = values((4, 5), dtype)
    for name, t, ref in views(a):
        for dim, idx in [(0, [3, 0, 0, -0]), (1, [4, 1]), (-1, []), (0, [2])]:
            for index in [ember.tensor(idx, dtype=ember.int64), ember.tensor(idx, dtype=ember.int32)]:
                got = ember.index_select(t, dim, index)
                np.testing.assert_array_equal(as_numpy(got), np.take(ref, idx, axis=dim), name)
        assert t.index_select(1, ember.tensor(2)).shape == (4, 1)


def test_index_select_zero_dim_and_errors():
    s = ember.tensor(5.0)
    assert ember.index_select(s, 0, ember.tensor([0])).shape == ()
    x, tx = ember.zeros(3, 4), torch.zeros(3, 4)
    assert_same_error(lambda: ember.index_select(x, 0, ember.tensor([-1, 2])),
                      lambda: torch.index_select(tx, 0, torch.tensor([-1, 2])))
    assert_same_error(lambda: ember.index_select(x, 0, ember.tensor([3])),
                      lambda: torch.index_select(tx, 0, torch.tensor([3])))
    assert_same_error(lambda: ember.index_select(x, 1, ember.tensor([[0, 2]])),
                      lambda: torch.index_select(tx, 1, torch.tensor([[0, 2]])))
    assert_same_error(lambda: ember.index_select(x, 1, ember.tensor([0, 2], dtype=ember.int16)),
                      lambda: torch.index_select(tx, 1, torch.tensor([0, 2], dtype=torch.int16)))
    assert_same_error(lambda: ember.index_select(s, 0, ember.tensor([0, 0])),
                      lambda: torch.index_select(torch.tensor(5.0), 0, torch.tensor([0, 0])))
    assert_same_error(lambda: ember.index_select(x, 2, ember.tensor([0])),
                      lambda: torch.index_select(tx, 2, torch.tensor([0])))
    out = ember.empty(0)
    ember.index_select(x, 0, ember.tensor([1, 1]), out=out)
    assert out.shape == (2, 4)


# ---------------------------------------------------------------- gather

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_gather_values(dtype):
    a = values((4, 5), dtype)
    rng = np.random.default_rng(1)
    for name, t, ref in views(a):
        for dim, ishape in [(0, (3, 5)), (1, (4, 2)), (1, (2, 7)), (0, (0, 5))]:
            idx = rng.integers(0, a.shape[dim], size=ishape)
            got = ember.gather(t, dim, ember.from_numpy(idx))
            want = np.take_along_axis(ref[tuple(slice(0, s) if d != dim else slice(None)
                                                for d, s in enumerate(ishape))], idx, axis=dim)
            np.testing.assert_array_equal(as_numpy(got), want, name)
            # a transposed index, and int32 indices, give the same values
            got32 = t.gather(dim, ember.from_numpy(idx.T.copy().astype(np.int32)).T)
            np.testing.assert_array_equal(as_numpy(got32), want, name)


def test_gather_matches_torch_on_edge_cases():
    assert ember.gather(ember.tensor(5.0), 0, ember.tensor(0)).shape == ()
    assert ember.gather(ember.tensor(5.0), 0, ember.tensor([0, 0])).tolist() == [5.0, 5.0]
    x, tx = ember.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    for idx in [[[-1, 1]], [[5, 1]], [0, 1]]:
        assert_same_error(lambda: ember.gather(x, 0, ember.tensor(idx)),
                          lambda: torch.gather(tx, 0, torch.tensor(idx)))
    assert_same_error(lambda: ember.gather(x, 0, ember.zeros(2, 5, dtype=ember.int64)),
                      lambda: torch.gather(tx, 0, torch.zeros(2, 5, dtype=torch.int64)))
    assert_same_error(lambda: ember.gather(x, 1, ember.zeros(4, 2, dtype=ember.int64)),
                      lambda: torch.gather(tx, 1, torch.zeros(4, 2, dtype=torch.int64)))
    assert_same_error(lambda: ember.gather(x, 1, ember.zeros(1, 2, dtype=ember.int16)),
                      lambda: torch.gather(tx, 1, torch.zeros(1, 2, dtype=torch.int16)))
    assert_same_error(lambda: ember.gather(x, 2, ember.zeros(1, 2, dtype=ember.int64)),
                      lambda: torch.gather(tx, 2, torch.zeros(1, 2, dtype=torch.int64)))


def test_gather_large_runs_parallel_and_correct():
    a = np.random.default_rng(0).standard_normal((300, 200)).astype(np.float32)
    idx = np.random.default_rng(1).integers(0, 300, size=(300, 200))
    got = ember.gather(ember.from_numpy(a), 0, ember.from_numpy(idx))
    np.testing.assert_array_equal(as_numpy(got), np.take_along_axis(a, idx, 0))
    bad = idx.copy()
    bad[-1, -1] = 300
    with pytest.raises(RuntimeError, match="index 300 is out of bounds for dimension 0 with size 300"):
        ember.gather(ember.from_numpy(a), 0, ember.from_numpy(bad))


# ---------------------------------------------------------------- scatter, scatter_add

def numpy_scatter(ref, dim, idx, src, op):
    out = ref.copy()
    for pos in np.ndindex(*idx.shape):
        target = list(pos)
        target[dim] = idx[pos]
        v = src[pos] if isinstance(src, np.ndarray) else src
        if op == "set":
            out[tuple(target)] = v
        elif op == "add":
            out[tuple(target)] = out[tuple(target)] + v if out.dtype != bool else out[tuple(target)] | v
        else:
            out[tuple(target)] = out[tuple(target)] * v if out.dtype != bool else out[tuple(target)] & v
    return out


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_scatter_values(dtype):
    a = values((4, 5), dtype)
    src = values((3, 5), dtype, seed=2)
    rng = np.random.default_rng(3)
    for name in ["contiguous", "negative", "transposed"]:
        for dim, ishape in [(0, (3, 5)), (1, (2, 3))]:
            idx = rng.integers(0, a.shape[dim], size=ishape)
            sub = src[: ishape[0], : ishape[1]]
            for op in ["set", "add", "multiply"]:
                t = dict((n, v) for n, v, _ in views(a))[name]
                reduce = None if op == "set" else op
                if op == "set":   # repeated positions: any of the writes may win in PyTorch
                    idx = np.array([rng.permutation(a.shape[dim])[: ishape[dim]]
                                    for _ in range(ishape[1 - dim])])
                    idx = idx.T if dim == 0 else idx
                with pytest.warns(UserWarning) if reduce else _nullcontext():
                    t.scatter_(dim, ember.from_numpy(idx), ember.from_numpy(sub), reduce=reduce)
                want = numpy_scatter(a, dim, idx, sub, {"multiply": "mul"}.get(op, op))
                np.testing.assert_array_equal(as_numpy(t), want, f"{name} {op}")
            value = sub.flat[0].item()
            got = ember.scatter(ember.from_numpy(a), dim, ember.from_numpy(idx), value=value)
            np.testing.assert_array_equal(as_numpy(got), numpy_scatter(a, dim, idx, sub.flat[0], "set"))
            got = ember.scatter_add(ember.from_numpy(a), dim, ember.from_numpy(idx),
                                    ember.from_numpy(sub))
            np.testing.assert_array_equal(as_numpy(got), numpy_scatter(a, dim, idx, sub, "add"))


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_scatter_add_repeated_indices_sum():
    x = ember.zeros(3, dtype=ember.float16)
    x.scatter_add_(0, ember.tensor([0, 0, 0, 2]), ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float16))
    assert x.tolist() == [6.0, 0.0, 4.0]
    y = ember.ones(2, 2, dtype=ember.int32)
    y.scatter_(1, ember.tensor([[1, 1], [0, 0]]), 3, reduce="multiply")
    assert y.tolist() == [[1, 9], [9, 1]]
    z = ember.zeros(2, 3, dtype=ember.complex64)
    z.scatter_add_(1, ember.tensor([[2, 2], [0, 2]], dtype=ember.int32),
                   ember.tensor([[1j, 2.0], [3.0, 4j]], dtype=ember.complex64))
    assert z.tolist() == [[0, 0, 2 + 1j], [3, 0, 4j]]


_OUT_R = np.random.default_rng(13)
_OUT_A = _OUT_R.standard_normal((3, 4))
_OUT_S = _OUT_R.standard_normal((2, 4))
_OUT_I = _OUT_R.integers(-4, 4, (3, 4))
_OUT_IDX = np.array([[0, 1, 0, 2], [2, 2, 1, 0]])
_OUT_CASES = {
    "scatter": (lambda L, a, s, i, **kw: L.scatter(a, 1, i, s, **kw),
                (_OUT_A, _OUT_S, _OUT_IDX)),
    "scatter_number": (lambda L, a, i, **kw: L.scatter(a, 1, i, 2.5, **kw), (_OUT_A, _OUT_IDX)),
    "scatter_value": (lambda L, a, i, **kw: L.scatter(a, 1, i, value=2.5, **kw),
                      (_OUT_A, _OUT_IDX)),
    "scatter_reduce_add": (lambda L, a, s, i, **kw: L.scatter(a, 1, i, s, reduce="add", **kw),
                           (_OUT_A, _OUT_S, _OUT_IDX)),
    "scatter_int": (lambda L, a, s, i, **kw: L.scatter(a, 0, i, s, **kw),
                    (_OUT_I, _OUT_I[:2], _OUT_IDX[:, :3] % 3)),
    "scatter_add": (lambda L, a, s, i, **kw: L.scatter_add(a, 1, i, s, **kw),
                    (_OUT_A, _OUT_S, _OUT_IDX)),
    "scatter_add_int": (lambda L, a, s, i, **kw: L.scatter_add(a, 1, i, s, **kw),
                        (_OUT_I, _OUT_I[:2], _OUT_IDX)),
}


@pytest.mark.parametrize("name", _OUT_CASES)
def test_scatter_out(name):
    call, arrays = _OUT_CASES[name]
    check_out_like_torch(call, *arrays)


def test_scatter_errors_match_torch():
    x, tx = ember.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    i, ti = ember.tensor([[1, 0]]), torch.tensor([[1, 0]])
    cases = [
        (lambda: ember.scatter(x, 0, ember.tensor([1, 0]), ember.ones(2)),
         lambda: torch.scatter(tx, 0, torch.tensor([1, 0]), torch.ones(2))),
        (lambda: ember.scatter(x, 0, i, ember.tensor([[1, 2]])),
         lambda: torch.scatter(tx, 0, ti, torch.tensor([[1, 2]]))),
        (lambda: ember.scatter(x, 0, i, 2.0, reduce="mean"),
         lambda: torch.scatter(tx, 0, ti, 2.0, reduce="mean")),
        (lambda: ember.scatter(x, 0, ember.tensor([[5, 0]]), 2.0),
         lambda: torch.scatter(tx, 0, torch.tensor([[5, 0]]), 2.0)),
        (lambda: ember.scatter(x, 0, ember.tensor([[-1, 0]]), 2.0),
         lambda: torch.scatter(tx, 0, torch.tensor([[-1, 0]]), 2.0)),
        (lambda: ember.scatter(x, 0, ember.tensor([[1, 0, 0]]), ember.tensor([[1.0, 2.0]])),
         lambda: torch.scatter(tx, 0, torch.tensor([[1, 0, 0]]), torch.tensor([[1.0, 2.0]]))),
        (lambda: ember.scatter(x, 1, ember.zeros(4, 5, dtype=ember.int64), 1.0),
         lambda: torch.scatter(tx, 1, torch.zeros(4, 5, dtype=torch.int64), 1.0)),
        (lambda: ember.scatter(x, 0, ember.zeros(2, 2, dtype=ember.int64), ember.tensor(3.0)),
         lambda: torch.scatter(tx, 0, torch.zeros(2, 2, dtype=torch.int64), torch.tensor(3.0))),
        (lambda: ember.scatter(x, 0, i.to(ember.int16), 1.0),
         lambda: torch.scatter(tx, 0, ti.to(torch.int16), 1.0)),
        (lambda: ember.scatter_add(x, 0, i, ember.tensor([[1, 2]])),
         lambda: torch.scatter_add(tx, 0, ti, torch.tensor([[1, 2]]))),
    ]
    for ours, theirs in cases:
        assert_same_error(ours, theirs)
    before = x.tolist()
    with pytest.raises(RuntimeError):
        x.scatter_(0, ember.tensor([[0, 9]]), 1.0)
    assert x.tolist() == before, "nothing may be written when an index is out of range"
    with pytest.raises(TypeError):
        ember.scatter(x, 0, i)
    assert ember.scatter(ember.tensor(1.0), 0, ember.tensor(0), 5.0).tolist() == 5.0
    assert ember.scatter(x, 0, ember.zeros(0, 4, dtype=ember.int64), 1.0).tolist() == before


# ---------------------------------------------------------------- index_put

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_index_put_values(dtype):
    a = values((4, 3), dtype)
    v = values((5, 3), dtype, seed=4)
    idx = np.array([3, 0, 3, 3, 1])
    for k, (name, t, ref) in enumerate(views(a)[:3]):
        index = ember.from_numpy(idx.astype(np.int32 if k % 2 else np.int64))
        acc = ember.index_put(t, (index,), ember.from_numpy(v), accumulate=True)
        want = ref.copy()
        if want.dtype == bool:
            for k, r in enumerate(idx):
                want[r] |= v[k]
        else:
            np.add.at(want, idx, v)
        np.testing.assert_array_equal(as_numpy(acc), want, name)
        t.index_put_((ember.tensor([0, 2]), ember.tensor([1])), ember.from_numpy(v[0, :1]))
        want = ref.copy()
        want[[0, 2], [1]] = v[0, 0]
        np.testing.assert_array_equal(as_numpy(t), want, name)


def test_index_put_semantics_match_torch():
    for accumulate in [False, True]:
        ours, theirs = ember.zeros(2, 3), torch.zeros(2, 3)
        ours.index_put_((ember.tensor([True, False]),), ember.tensor(5.0), accumulate=accumulate)
        theirs.index_put_((torch.tensor([True, False]),), torch.tensor(5.0), accumulate=accumulate)
        ours.index_put_([ember.tensor([[0, 1], [1, 1]]), ember.tensor([2])], ember.tensor(1.0),
                        accumulate=accumulate)
        theirs.index_put_([torch.tensor([[0, 1], [1, 1]]), torch.tensor([2])], torch.tensor(1.0),
                          accumulate=accumulate)
        np.testing.assert_array_equal(as_numpy(ours), theirs.numpy())
    # None leaves a dimension whole
    x = ember.zeros(2, 3)
    x.index_put_((None, ember.tensor([0, 2])), ember.tensor([1.0, 2.0]))
    assert x.tolist() == [[1, 0, 2], [1, 0, 2]]
    x, tx = ember.zeros(3), torch.zeros(3)
    cases = [
        (lambda: x.index_put_((ember.tensor([0, 4]),), ember.tensor(1.0), accumulate=True),
         lambda: tx.index_put_((torch.tensor([0, 4]),), torch.tensor(1.0), accumulate=True)),
        (lambda: x.index_put_((ember.tensor([0, 2]),), ember.tensor([1, 2])),
         lambda: tx.index_put_((torch.tensor([0, 2]),), torch.tensor([1, 2]))),
        (lambda: x.index_put_((ember.tensor([0, 2]), ember.tensor([0])), ember.tensor(1.0)),
         lambda: tx.index_put_((torch.tensor([0, 2]), torch.tensor([0])), torch.tensor(1.0))),
        (lambda: x.index_put_((ember.tensor([0.0, 2.0]),), ember.tensor(1.0)),
         lambda: tx.index_put_((torch.tensor([0.0, 2.0]),), torch.tensor(1.0))),
        (lambda: x.index_put_((ember.tensor([0, 2]),), ember.tensor([1.0, 2.0, 3.0])),
         lambda: tx.index_put_((torch.tensor([0, 2]),), torch.tensor([1.0, 2.0, 3.0]))),
    ]
    for ours, theirs in cases:
        assert_same_error(ours, theirs)
    assert x.tolist() == [0, 0, 0]
    with pytest.raises(TypeError):
        x.index_put_((ember.tensor([0]),), 1.0)
    with pytest.raises(TypeError):
        x.index_put_(ember.tensor([0]), ember.tensor(1.0))


def test_index_put_accumulate_large_with_many_repeats():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 50, size=40000)
    vals = rng.standard_normal(40000)
    got = ember.zeros(50, dtype=ember.float64).index_put_(
        (ember.from_numpy(idx),), ember.from_numpy(vals), accumulate=True)
    want = np.zeros(50)
    np.add.at(want, idx, vals)
    np.testing.assert_allclose(as_numpy(got), want, rtol=1e-10)


# ---------------------------------------------------------------- masked_fill

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_masked_fill_values(dtype):
    a = values((4, 5), dtype)
    mask = values((4, 5), np.bool_, 6)
    fill = values((1,), dtype, 9)[0].item()
    for name, t, ref in views(a)[:3]:
        for m in [mask, mask[0], mask[:, :1]]:
            want = np.where(m, np.array(fill, dtype=a.dtype), ref)
            np.testing.assert_array_equal(as_numpy(ember.masked_fill(t, ember.from_numpy(m), fill)), want)
            np.testing.assert_array_equal(
                as_numpy(t.masked_fill(ember.from_numpy(m.T.copy()).T if m.ndim == 2 else
                                       ember.from_numpy(m), ember.tensor(fill))), want)
        t.masked_fill_(ember.from_numpy(mask), fill)
        np.testing.assert_array_equal(as_numpy(t), np.where(mask, np.array(fill, a.dtype), ref))


def test_masked_fill_semantics_match_torch():
    x, tx = ember.arange(4.0), torch.arange(4.0)
    m, tm = ember.tensor([[True, False, True, False]] * 2), torch.tensor([[True, False, True, False]] * 2)
    np.testing.assert_array_equal(as_numpy(ember.masked_fill(x, m, 0.5)), torch.masked_fill(tx, tm, 0.5))
    y, ty = ember.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    cases = [
        (lambda: x.masked_fill_(m, 0.5), lambda: tx.masked_fill_(tm, 0.5)),
        (lambda: ember.masked_fill(y, (y > 5).long(), 0.5), lambda: torch.masked_fill(ty, (ty > 5).long(), 0.5)),
        (lambda: ember.masked_fill(y, y > 5, ember.tensor([0.5])),
         lambda: torch.masked_fill(ty, ty > 5, torch.tensor([0.5]))),
        (lambda: ember.masked_fill(y, ember.tensor([True, False]), 3),
         lambda: torch.masked_fill(ty, torch.tensor([True, False]), 3)),
        (lambda: ember.masked_fill(y.long(), y > 5, float("inf")),
         lambda: torch.masked_fill(ty.long(), ty > 5, float("inf"))),
        (lambda: ember.masked_fill(y.to(ember.int8), y > 5, 300),
         lambda: torch.masked_fill(ty.to(torch.int8), ty > 5, 300)),
        (lambda: ember.masked_fill(y, y > 5, 1j), lambda: torch.masked_fill(ty, ty > 5, 1j)),
    ]
    for ours, theirs in cases:
        assert_same_error(ours, theirs)
    assert ember.masked_fill(y.long(), y > 9, 2.7).tolist()[2] == [8, 9, 2, 2]
    assert ember.masked_fill(y.bool(), y > 9, 3).dtype == ember.bool
    with pytest.raises(TypeError):
        ember.masked_fill(y, y > 5, "a")
    b = ember.tensor([True, False, True])
    b.masked_fill_(b, False)      # the mask is the destination
    assert b.tolist() == [False, False, False]


# ---------------------------------------------------------------- nonzero

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_nonzero_values(dtype):
    a = values((3, 4, 5), dtype)
    a[a == a.flat[1]] = 0
    for name, t, ref in [("contiguous", ember.from_numpy(a.copy()), a),
                         ("transposed", ember.from_numpy(a.T.copy()).T, a),
                         ("negative", ember.from_numpy(a[::-1].copy())[::-1], a)]:
        got = ember.nonzero(t)
        assert got.dtype == ember.int64
        np.testing.assert_array_equal(as_numpy(got), np.argwhere(ref), name)
        for g, w in zip(t.nonzero(as_tuple=True), np.nonzero(ref)):
            np.testing.assert_array_equal(as_numpy(g), w)


def test_nonzero_edge_cases_match_torch():
    for data in [5, 0, [], [[1, 0], [0, 2.0]], [float("nan"), -0.0, 0.0], [[0, 1j], [0, 0]]]:
        ours, theirs = ember.tensor(data), torch.tensor(data)
        got, want = ember.nonzero(ours), torch.nonzero(theirs)
        assert got.shape == tuple(want.shape)
        np.testing.assert_array_equal(as_numpy(got), want.numpy())
        for g, w in zip(ember.nonzero(ours, as_tuple=True), torch.nonzero(theirs, as_tuple=True)):
            np.testing.assert_array_equal(as_numpy(g), w.numpy())
    x = ember.tensor([0, 3, 0, 4])
    assert ember.where(x)[0].tolist() == [1, 3]
    expanded = ember.tensor([1, 0, 2]).expand(2, 3)
    assert ember.nonzero(expanded).tolist() == [[0, 0], [0, 2], [1, 0], [1, 2]]
    big = np.random.default_rng(0).random(100000) > 0.5
    np.testing.assert_array_equal(as_numpy(ember.nonzero(ember.from_numpy(big)))[:, 0],
                                  np.flatnonzero(big))
    out = ember.empty(0, dtype=ember.int64)
    ember.nonzero(ember.tensor([0, 1, 1]), out=out)
    assert out.tolist() == [[1], [2]]


def test_none_and_wrong_types_raise_type_error():
    x, i = ember.zeros(3), ember.tensor([0])
    calls = [lambda: ember.gather(None, 0, i), lambda: ember.gather(x, 0, None),
             lambda: ember.index_select(x, 0, [0]), lambda: ember.scatter_add(x, 0, i, None),
             lambda: ember.masked_fill(x, None, 1.0), lambda: ember.nonzero(None),
             lambda: ember.index_put(None, (i,), x), lambda: ember.scatter(x, 0, i, "a"),
             lambda: ember.gather(x, "0", i), lambda: ember.stack([x, None])]
    for call in calls:
        with pytest.raises(TypeError):
            call()


def test_writes_into_expanded_tensors_follow_torch():
    def expanded():
        return ember.zeros(3).expand(2, 3)
    with pytest.warns(UserWarning, match="Use of index_put_ on expanded tensors is deprecated"):
        expanded()[[0]] = 1.0
    with pytest.warns(UserWarning, match="Use of index_put_ on expanded tensors is deprecated"):
        expanded().index_put_((ember.tensor([0]),), ember.tensor(1.0), accumulate=True)
    with pytest.warns(UserWarning, match="Use of masked_fill_ on expanded tensors is deprecated"):
        expanded().masked_fill_(ember.ones(2, 3, dtype=ember.bool), 1.0)
    message = "more than one element of the written-to tensor refers to a single memory location"
    with pytest.raises(RuntimeError, match=message):
        expanded().scatter_(0, ember.zeros(1, 3, dtype=ember.int64), 1.0)
    with pytest.raises(RuntimeError, match=message):
        expanded().scatter_add_(0, ember.zeros(1, 3, dtype=ember.int64), ember.ones(1, 3))
    with pytest.raises(RuntimeError, match=message):
        ember.index_select(ember.zeros(3), 0, ember.tensor([0, 1]), out=ember.zeros(1).expand(2))
    # an out= of another shape is resized, which gives it memory of its own
    with pytest.warns(UserWarning, match="resized"):
        out = ember.cat([ember.ones(3), ember.ones(3)], out=expanded())
    assert out.shape == (6,) and out.tolist() == [1.0] * 6
