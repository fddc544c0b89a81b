"""take, the index_* family, scatter_reduce, masked_scatter, argwhere, narrow_copy and
the view scatters, against PyTorch (values, dtypes, errors) and their gradients."""
import numpy as np
import pytest
import torch

import ember
from core_oracle import check_out_like_torch
from grad_oracle import LAYOUTS as GRAD_LAYOUTS, assert_grads_match_torch, check_gradients
from shape_oracle import LAYOUTS, check, raises_like_torch, same

RNG = np.random.default_rng(7)
A34 = RNG.standard_normal((3, 4))
S24 = RNG.standard_normal((2, 4))
S32 = RNG.standard_normal((3, 2))
IDX = np.array([2, 0])
IDX_DUP = np.array([1, 1, 0])
SCAT = np.array([[0, 1, 0, 2], [2, 2, 1, 0]])
I34 = RNG.integers(-4, 4, (3, 4))


def _cases():
    return {
        "take": (lambda L, a, i: L.take(a, i), (A34, np.array([[0, -1], [5, 11]]))),
        "index_add": (lambda L, a, s, i: a.index_add(0, i, s, alpha=2), (A34, S24, IDX)),
        "index_add_dup": (lambda L, a, s, i: L.index_add(a, 1, i, s), (A34, S32[:, :1].repeat(
            3, 1), IDX_DUP)),
        "index_copy": (lambda L, a, s, i: a.index_copy(1, i, s), (A34, S32, IDX)),
        "index_fill": (lambda L, a, i: a.index_fill(1, i, -3.5), (A34, IDX)),
        "index_fill_t": (lambda L, a, i: a.index_fill(0, i, L.tensor(2.0, dtype=L.float64)),
                         (A34, IDX)),
        "argwhere": (lambda L, a: L.argwhere(a), (I34,)),
        "narrow_copy": (lambda L, a: L.narrow_copy(a, 1, 1, 2), (A34,)),
        "select_scatter": (lambda L, a, s: L.select_scatter(a, s[0], 0, -1), (A34, S24)),
        "slice_scatter": (lambda L, a, s: a.slice_scatter(s, 1, 0, None, 2), (A34, S32)),
        "diagonal_scatter": (lambda L, a, s: L.diagonal_scatter(a, s[:, 0], 1), (A34, S32)),
        "masked_scatter": (lambda L, a, m, s: a.masked_scatter(m, s), (A34, I34 > 0, A34 * 2)),
        # a src of another dtype is cast into self's (as copy_ does)
        "select_scatter_cast": (lambda L, a, s: L.select_scatter(a, s[0] * 2.5, 0, 1), (I34, S24)),
        "slice_scatter_cast": (lambda L, a, s: L.slice_scatter(a, s, 1, 0, None, 2),
                               (A34, I34[:, :2])),
        "diagonal_scatter_cast": (lambda L, a, s: L.diagonal_scatter(a.float(), s[:, 0]),
                                  (A34, S32)),
        "masked_scatter_bcast": (lambda L, a, m, s: a.masked_scatter(m, s),
                                 (A34, np.array([True, False, True, True]), A34 * 3)),
    }


CASES = _cases()
REDUCES = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, layout):
    fn, arrays = CASES[name]
    check(fn, *arrays, layout=layout)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_scatter_reduce(reduce, include_self, layout):
    check(lambda L, a, i, s: a.scatter_reduce(0, i, s, reduce, include_self=include_self),
          A34, SCAT, S24, layout=layout)
    check(lambda L, a, i, s: L.scatter_reduce(a, 1, i, s, reduce, include_self=include_self),
          I34, np.array([[0, 0, 3], [1, 1, 1]]), I34[:2, :3] * 3 + 1, layout=layout)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.float32, np.bool_])
@pytest.mark.parametrize("reduce", ["amax", "amin", "sum", "prod"])
def test_scatter_reduce_dtypes(reduce, dtype):
    a, s = (I34 % 3).astype(dtype), (I34[:2] - 1).astype(dtype)
    check(lambda L, a, i, s: (a.scatter_reduce(0, i, s, reduce),
                              a.scatter_reduce(0, i, s, reduce, include_self=False)), a, SCAT, s)


def test_scatter_reduce_nan_and_half():
    a = np.array([0.0, 1.0, 2.0])
    s = np.array([np.nan, 5.0, -1.0, 3.0])
    i = np.array([0, 1, 1, 2])
    for reduce in ("amax", "amin"):
        check(lambda L, a, i, s: a.scatter_reduce(0, i, s, reduce), a, i, s)
    h = ember.tensor([1.0, 2.0], dtype=ember.float16)
    out = h.scatter_reduce(0, ember.tensor([1, 1]), ember.tensor([4.0, 3.0], dtype=ember.float16),
                           "amax")
    assert out.dtype == ember.float16 and out.tolist() == [1.0, 4.0]


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    check(lambda L, a, s, i: a.index_reduce(1, i, s, reduce, include_self=include_self),
          A34, S32, IDX)
    check(lambda L, a, s, i: a.index_reduce(0, i, s, reduce, include_self=include_self),
          I34, I34 + 1, IDX_DUP)


OUT_CASES = {
    "index_add": (lambda L, a, s, i, **kw: L.index_add(a, 0, i, s, alpha=2, **kw),
                  (A34, S24, IDX)),
    "index_add_int": (lambda L, a, s, i, **kw: L.index_add(a, 1, i, s, **kw),
                      (I34, I34[:, :3], IDX_DUP)),
    "index_copy": (lambda L, a, s, i, **kw: L.index_copy(a, 1, i, s, **kw), (A34, S32, IDX)),
    "scatter_reduce": (lambda L, a, s, i, **kw: L.scatter_reduce(a, 1, i, s, "amax", **kw),
                       (A34, S24, SCAT)),
    "scatter_reduce_mean": (lambda L, a, s, i, **kw: L.scatter_reduce(
        a, 1, i, s, "mean", include_self=False, **kw), (A34, S24, SCAT)),
    "index_reduce": (lambda L, a, s, i, **kw: L.index_reduce(a, 0, i, s, "amax", **kw),
                     (A34, S24, IDX)),
    "index_reduce_mean": (lambda L, a, s, i, **kw: L.index_reduce(
        a, 1, i, s, "mean", include_self=False, **kw), (A34, S32, IDX)),
    "index_reduce_int": (lambda L, a, s, i, **kw: L.index_reduce(a, 1, i, s, "prod", **kw),
                         (I34, I34[:, :3], IDX_DUP)),
    "narrow_copy": (lambda L, a, **kw: L.narrow_copy(a, 1, 1, 2, **kw), (A34,)),
    "narrow_copy_int": (lambda L, a, **kw: L.narrow_copy(a, 0, 1, 1, **kw), (I34,)),
    "slice_scatter": (lambda L, a, s, **kw: L.slice_scatter(a, s, 1, 0, None, 2, **kw),
                      (A34, S32)),
}


@pytest.mark.parametrize("name", OUT_CASES)
def test_out(name):
    call, arrays = OUT_CASES[name]
    check_out_like_torch(call, *arrays)


def test_in_place_forms():
    for name, args in [("index_add_", (0, IDX, S24)), ("index_copy_", (1, IDX, S32)),
                       ("index_fill_", (1, IDX, 7.0)),
                       ("index_reduce_", (1, IDX, S32, "amax")),
                       ("scatter_reduce_", (0, SCAT, S24, "prod")),
                       ("masked_scatter_", (I34 > 0, A34))]:
        e, t = ember.tensor(A34), torch.tensor(A34)
        conv = [(ember.tensor(x), torch.tensor(x)) if isinstance(x, np.ndarray) else (x, x)
                for x in args]
        got = getattr(e, name)(*[c[0] for c in conv])
        getattr(t, name)(*[c[1] for c in conv])
        assert got is e
        same(e, t)


def test_empty_and_zero_dim():
    z = np.array(3.0)
    check(lambda L, a: (L.take(a, L.tensor([0, -1])), L.argwhere(a)), z)
    check(lambda L, a: a.index_fill(0, L.tensor([0]), 1.0), z)
    check(lambda L, a: a.index_add(0, L.tensor([0]), L.tensor(2.0, dtype=L.float64)), z)
    e = np.zeros((0, 4))
    check(lambda L, a: (L.take(a, L.tensor([], dtype=L.int64)), L.argwhere(a),
                        a.index_add(1, L.tensor([], dtype=L.int64), a[:, :0]),
                        a.scatter_reduce(0, L.zeros(0, 4, dtype=L.int64), a, "amax")), e)
    check(lambda L, a: a.masked_scatter(L.tensor(True), L.tensor([5.0, 6.0], dtype=L.float64)),
          z)


BAD = {
    "take_oob": lambda L: L.take(L.zeros(2, 3), L.tensor([6])),
    "take_float_index": lambda L: L.take(L.zeros(3), L.tensor([0.0])),
    "index_add_count": lambda L: L.zeros(3).index_add(0, L.tensor([0, 1]), L.ones(3)),
    "index_add_dtype": lambda L: L.zeros(3).index_add(0, L.tensor([0]), L.ones(1, dtype=L.int64)),
    "index_add_2d_index": lambda L: L.zeros(3).index_add(0, L.tensor([[0]]), L.ones(1)),
    "index_add_oob": lambda L: L.zeros(3).index_add(0, L.tensor([3]), L.ones(1)),
    "index_copy_dim": lambda L: L.zeros(3).index_copy(1, L.tensor([0]), L.ones(1)),
    "index_fill_value": lambda L: L.zeros(3).index_fill(0, L.tensor([0]), L.ones(2)),
    "index_reduce_bad": lambda L: L.zeros(3).index_reduce(0, L.tensor([0]), L.ones(1), "sum"),
    "scatter_reduce_bad": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([0]), L.ones(1), "foo"),
    "scatter_reduce_dtype": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0]), L.ones(1, dtype=L.float64), "sum"),
    "scatter_reduce_oob": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([5]), L.ones(1), "sum"),
    "scatter_reduce_shape": lambda L: L.zeros(2, 2).scatter_reduce(
        0, L.zeros(3, 3, dtype=L.int64), L.ones(3, 3), "sum"),
    "masked_scatter_few": lambda L: L.zeros(3).masked_scatter(L.ones(3, dtype=L.bool),
                                                              L.ones(2)),
    "masked_scatter_dtype": lambda L: L.zeros(3).masked_scatter(L.ones(3, dtype=L.bool),
                                                                L.ones(3, dtype=L.float64)),
    "masked_scatter_mask": lambda L: L.zeros(3).masked_scatter(L.ones(3), L.ones(3)),
    "select_scatter_shape": lambda L: L.select_scatter(L.zeros(2, 3), L.ones(2), 0, 0),
    "slice_scatter_shape": lambda L: L.slice_scatter(L.zeros(4), L.ones(3), 0, 0, 2),
    "diagonal_scatter_shape": lambda L: L.diagonal_scatter(L.zeros(3, 3), L.ones(2)),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_errors_match_torch(name):
    raises_like_torch(BAD[name])


def test_error_messages_name_the_problem():
    with pytest.raises(IndexError, match="index 6 on a tensor of 6 elements"):
        ember.take(ember.zeros(2, 3), ember.tensor([6]))
    with pytest.raises(RuntimeError, match=r"Number of indices \(2\) should be equal to "
                                           r"source.size\(dim\) \(3\)"):
        ember.zeros(3).index_add(0, ember.tensor([0, 1]), ember.ones(3))
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax or amin, got foo"):
        ember.zeros(3).scatter_reduce(0, ember.tensor([0]), ember.ones(1), "foo")


# ---------------------------------------------------------------- gradients

SRC_TIES = np.array([[1.0, 2.0, 0.0, 5.0], [1.0, 0.5, 0.0, 5.0]])
GRAD_CASES = {
    "take": (lambda L, a, i: L.take(a, i), (A34, np.array([[0, -1], [5, 5]]))),
    "index_add": (lambda L, a, s, i: a.index_add(1, i, s, alpha=-2), (A34, S32, IDX)),
    "index_copy": (lambda L, a, s, i: a.index_copy(1, i, s), (A34, S32, IDX)),
    "index_fill": (lambda L, a, i: a.index_fill(1, i, 2.0), (A34, IDX)),
    "index_fill_value_dup": (lambda L, a, v, i: a.index_fill(1, i, v), (A34, np.array(2.0),
                                                                        IDX_DUP)),
    "masked_scatter": (lambda L, a, s, m: a.masked_scatter(m, s), (A34, A34 * 2, I34 > 0)),
    "select_scatter": (lambda L, a, s: L.select_scatter(a, s[0], 0, 1), (A34, S24)),
    "slice_scatter": (lambda L, a, s: L.slice_scatter(a, s, 1, 1, 4, 2), (A34, S32)),
    "diagonal_scatter": (lambda L, a, s: L.diagonal_scatter(a, s[1:, 1], -1), (A34, S32)),
    "slice_scatter_cast": (lambda L, a, s: L.slice_scatter(a, s.float(), 1, 1, 4, 2), (A34, S32)),
}
for _reduce in REDUCES:
    for _self in (True, False):
        GRAD_CASES[f"scatter_reduce_{_reduce}_{_self}"] = (
            lambda L, a, s, i, r=_reduce, inc=_self: a.scatter_reduce(0, i, s, r,
                                                                      include_self=inc),
            (np.abs(A34) + 0.5, SRC_TIES, SCAT))
GRAD_CASES["scatter_reduce_prod_zeros"] = (
    lambda L, a, s, i: a.scatter_reduce(0, i, s, "prod"), (A34, SRC_TIES, SCAT))
GRAD_CASES["index_reduce_amax"] = (
    lambda L, a, s, i: a.index_reduce(1, i, s, "amax"), (A34, S32, IDX))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_torch(name, layout):
    fn, arrays = GRAD_CASES[name]
    assert_grads_match_torch(fn, *arrays, layout=GRAD_LAYOUTS[layout])


@pytest.mark.parametrize("name", ["take", "index_add", "masked_scatter", "slice_scatter",
                                  "diagonal_scatter", "scatter_reduce_mean_False",
                                  "scatter_reduce_sum_True"])
def test_gradcheck(name):
    fn, arrays = GRAD_CASES[name]
    check_gradients(fn, *arrays)


def test_gradcheck_prod_and_amax():
    check_gradients(lambda L, a, s, i: a.scatter_reduce(0, i, s, "prod"),
                    np.abs(A34) + 0.5, np.abs(S24) + 0.5, SCAT, gradgrad=False)
    check_gradients(lambda L, a, s, i: a.scatter_reduce(0, i, s, "amax", include_self=False),
                    A34, S24, SCAT, gradgrad=False)
    check_gradients(lambda L, a, s: L.select_scatter(a[::-1], s[::-1][0], 1, 2), A34, S32.T)
