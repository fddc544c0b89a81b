"""Gradients of the index ops and joins (gather, scatter, scatter_add, index_put,
index_select, masked_fill, cat, stack and their in-place forms), against PyTorch and
finite differences."""
import warnings

import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

RNG = np.random.default_rng(0)


def data(*shape, dtype=np.float64):
    return np.asarray(RNG.standard_normal(shape), dtype=dtype)


def index(*rows):
    return np.array(rows, dtype=np.int64)


LAYOUT_NAMES = list(LAYOUTS)


# ---------------------------------------------------------------- gather

@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_repeated_indices(layout, dim):
    idx = index([0, 2, 2, 1], [1, 1, 0, 3], [3, 0, 1, 1]) if dim == 0 else \
        index([0, 0, 3], [2, 2, 2], [1, 0, 1])
    assert_grads_match_torch(lambda lib, x, i: lib.gather(x, dim, i), data(4, 4), idx,
                             layout=LAYOUTS[layout])


def test_gather_index_smaller_than_input_3d():
    idx = RNG.integers(0, 4, size=(2, 3, 2))
    assert_grads_match_torch(lambda lib, x, i: x.gather(1, i), data(3, 4, 5), idx)


@pytest.mark.parametrize("shape, idx", [((3, 4), np.zeros((0, 4), np.int64)),
                                        ((), np.array(0)),
                                        ((5,), index(4, 4, 0))])
def test_gather_empty_and_0d(shape, idx):
    assert_grads_match_torch(lambda lib, x, i: lib.gather(x, 0, i), data(*shape), idx)


def test_gather_int32_index():
    idx = index([0, 1, 1], [2, 0, 0]).astype(np.int32)
    assert_grads_match_torch(lambda lib, x, i: lib.gather(x, 1, i), data(2, 3), idx)


# ---------------------------------------------------------------- scatter, scatter_add

@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_scatter_src(layout):
    idx = index([0, 2, 1, 3], [3, 1, 0, 2])
    assert_grads_match_torch(lambda lib, x, i, s: lib.scatter(x, 0, i, s), data(4, 4), idx,
                             data(2, 4), layout=LAYOUTS[layout])


def test_scatter_repeated_indices_source_gets_every_gradient():
    idx = index([1, 1, 0], [1, 1, 2])       # positions written twice: the last write wins
    assert_grads_match_torch(lambda lib, x, i, s: lib.scatter(x, 1, i, s), data(2, 3), idx,
                             data(2, 3))


@pytest.mark.parametrize("form", ["positional", "value"])
def test_scatter_number(form):
    idx = index([0, 2], [1, 1])

    def fn(lib, x, i):
        return lib.scatter(x, 1, i, 2.5) if form == "positional" else \
            x.scatter(1, i, value=-1.0)
    assert_grads_match_torch(fn, data(2, 3), idx)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("src_kind", ["tensor", "number"])
def test_scatter_reduce_has_no_derivative_as_in_torch(reduce, src_kind):
    for lib, match in ((torch, "derivative for aten::scatter is not implemented"),
                       (ember, "derivative for 'scatter' with reduce= is not implemented")):
        x = lib.tensor(data(2, 3), requires_grad=True)
        src = lib.tensor(data(2, 3)) if src_kind == "tensor" else 2.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # the deprecation of reduce= with a tensor
            y = lib.scatter(x, 1, lib.tensor(index([0], [2])), src, reduce=reduce)
        with pytest.raises(RuntimeError, match=match):
            y.sum().backward()


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_scatter_add_repeated_indices(layout):
    idx = index([0, 0, 1, 3], [3, 3, 3, 0], [2, 1, 1, 1])
    assert_grads_match_torch(lambda lib, x, i, s: lib.scatter_add(x, 0, i, s), data(4, 4), idx,
                             data(3, 4), layout=LAYOUTS[layout])


def test_scatter_add_empty_index_and_negative_dim():
    fn = lambda lib, x, i, s: x.scatter_add(-1, i, s)   # noqa: E731
    assert_grads_match_torch(fn, data(2, 3), np.zeros((2, 0), np.int64), data(2, 0))
    assert_grads_match_torch(fn, data(2, 3), index([2, 2], [0, 1]), data(2, 2))


@pytest.mark.parametrize("op", ["scatter", "scatter_add"])
def test_source_larger_than_index(op):
    # PyTorch refuses this backward ("invalid gradient ... expected shape compatible");
    # ember gives the source elements that were never read a zero gradient
    idx = index([0, 2], [1, 1])
    x = ember.tensor(data(3, 3), requires_grad=True)
    src = ember.tensor(data(3, 4), requires_grad=True)
    g = ember.tensor(data(3, 3))
    getattr(ember, op)(x, 0, ember.tensor(idx), src).backward(g)
    expected = np.zeros((3, 4))
    expected[:2, :2] = np.take_along_axis(np.asarray(g)[:, :2], idx, 0)
    np.testing.assert_allclose(np.asarray(src.grad), expected)
    check_gradients(lambda lib, a, s, i: getattr(lib, op)(a, 0, i, s), data(3, 3), data(3, 4),
                    idx)


@pytest.mark.parametrize("op", [
    lambda lib, x, i, s: lib.scatter_add(x, 0, i, s),
    lambda lib, x, i, s: lib.scatter(x, 0, i, s),
    lambda lib, x, i, s: lib.masked_fill(x, i == 0, s),
    lambda lib, x, i, s: lib.gather(x, 0, i) * s,
])
def test_0d(op):
    assert_grads_match_torch(op, data(), np.array(0), data())


def test_scatter_empty_index():
    assert_grads_match_torch(lambda lib, x, i, s: lib.scatter(x, 1, i, s), data(2, 3),
                             np.zeros((2, 0), np.int64), data(2, 0))


# ---------------------------------------------------------------- index_put

@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_repeated_rows(layout, accumulate):
    rows = np.array([2, 0, 2])          # repeated: written twice, or summed
    fn = lambda lib, x, r, v: lib.index_put(x, (r,), v, accumulate)   # noqa: E731
    assert_grads_match_torch(fn, data(3, 4), rows, data(3, 4), layout=LAYOUTS[layout])


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_broadcast_indices_and_values(accumulate):
    rows = np.array([[0], [2]])
    cols = np.array([1, 3, 1])
    fn = lambda lib, x, r, c, v: x.index_put((r, c), v, accumulate=accumulate)  # noqa: E731
    assert_grads_match_torch(fn, data(3, 4), rows, cols, data(3))   # values broadcast


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_mask_and_empty(accumulate):
    mask = np.array([True, False, True])
    fn = lambda lib, x, m, v: lib.index_put(x, (m,), v, accumulate)   # noqa: E731
    assert_grads_match_torch(fn, data(3, 2), mask, data(1, 2))
    empty = np.zeros(0, np.int64)
    fn = lambda lib, x, r, v: lib.index_put(x, (r,), v, accumulate)   # noqa: E731
    assert_grads_match_torch(fn, data(3, 2), empty, data(0, 2))


def test_index_put_none_keeps_a_dimension_whole():
    # torch's index_put takes no None in indices: the same write is x[:, cols] = v
    cols = index(2, 0, 2)
    x = ember.tensor(data(2, 4), requires_grad=True)
    v = ember.tensor(data(2, 3), requires_grad=True)
    g = data(2, 4)
    ember.index_put(x * 1, (None, ember.tensor(cols)), v).backward(ember.tensor(g))
    expected = g.copy()
    expected[:, cols] = 0
    np.testing.assert_allclose(np.asarray(x.grad), expected)
    np.testing.assert_allclose(np.asarray(v.grad), g[:, cols])


def test_index_put_values_with_extra_leading_ones():
    x = ember.tensor(data(3, 4), requires_grad=True)
    v = ember.tensor(data(1, 1, 4), requires_grad=True)
    ember.index_put(x, (ember.tensor(index(0, 2)),), v).sum().backward()
    np.testing.assert_allclose(np.asarray(v.grad), np.full((1, 1, 4), 2.0))


# ---------------------------------------------------------------- index_select

@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("dim", [0, 1, -2])
def test_index_select_repeated(layout, dim):
    assert_grads_match_torch(lambda lib, x, i: lib.index_select(x, dim, i), data(3, 3, 2),
                             index(2, 0, 2, 2), layout=LAYOUTS[layout])


@pytest.mark.parametrize("shape, idx", [((), index(0)), ((), np.array(0)),
                                        ((4, 2), np.array(3)), ((4, 2), np.zeros(0, np.int64)),
                                        ((4, 2), index(1, 1).astype(np.int32))])
def test_index_select_0d_empty_int32(shape, idx):
    assert_grads_match_torch(lambda lib, x, i: x.index_select(0, i), data(*shape), idx)


# ---------------------------------------------------------------- masked_fill

@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_masked_fill_number(layout):
    mask = RNG.random((3, 4)) < 0.5
    assert_grads_match_torch(lambda lib, x, m: lib.masked_fill(x, m, 0.5), data(3, 4), mask,
                             layout=LAYOUTS[layout])


def test_masked_fill_tensor_value_and_broadcasting():
    mask = np.array([[True, False, True], [False, False, True]])
    # the mask broadcasts the input to (2, 3): its gradient sums back
    assert_grads_match_torch(lambda lib, x, m, v: lib.masked_fill(x, m, v), data(3), mask,
                             np.array(1.5))
    assert_grads_match_torch(lambda lib, x, m, v: x.masked_fill(m, v), data(2, 3),
                             mask[:1], np.array(-2.0))


def test_masked_fill_value_of_another_dtype():
    mask = np.array([True, False, True])
    assert_grads_match_torch(lambda lib, x, m, v: lib.masked_fill(x, m, v), data(3), mask,
                             np.array(1.5, np.float32), rtol=1e-6)


# ---------------------------------------------------------------- in-place forms

INPLACE_CASES = {
    "scatter_": (lambda lib, x, i, s: x.scatter_(0, i, s), index([1, 0], [2, 2]), (2, 2)),
    "scatter_add_": (lambda lib, x, i, s: x.scatter_add_(0, i, s), index([1, 1], [2, 1]),
                     (2, 2)),
    "index_put_": (lambda lib, x, i, s: x.index_put_((i,), s), index(2, 0), (2, 2)),
    "index_put_acc": (lambda lib, x, i, s: x.index_put_((i,), s, accumulate=True),
                      index(2, 2), (2, 2)),
    "masked_fill_": (lambda lib, x, m, v: x.masked_fill_(m, v),
                     np.array([True, False]), ()),
}


@pytest.mark.parametrize("name", list(INPLACE_CASES))
def test_inplace_on_non_leaf(name):
    op, idx, src_shape = INPLACE_CASES[name]
    assert_grads_match_torch(lambda lib, x, i, s: op(lib, x * 2, i, s), data(3, 2), idx,
                             data(*src_shape))


@pytest.mark.parametrize("name", list(INPLACE_CASES))
def test_inplace_on_view_of_non_leaf(name):
    op, idx, src_shape = INPLACE_CASES[name]

    def fn(lib, x, i, s):
        base = x * 1
        op(lib, base[1:], i, s)
        return base
    assert_grads_match_torch(fn, data(4, 2), idx, data(*src_shape))


@pytest.mark.parametrize("name", list(INPLACE_CASES))
def test_inplace_into_buffer_without_grad(name):
    op, idx, src_shape = INPLACE_CASES[name]
    assert_grads_match_torch(lambda lib, x, i, s: op(lib, x.detach().clone(), i, s),
                             data(3, 2), idx, data(*src_shape))


@pytest.mark.parametrize("name", list(INPLACE_CASES))
def test_inplace_on_leaf_requiring_grad_raises(name):
    op, idx, src_shape = INPLACE_CASES[name]
    for lib in (torch, ember):
        x = lib.tensor(data(3, 2), requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               r"used in an in-place operation\."):
            op(lib, x, lib.tensor(idx), lib.tensor(data(*src_shape)))


# ---------------------------------------------------------------- cat and stack

@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(layout, dim):
    shapes = [(2, 3), (2, 1), (2, 2)] if dim else [(1, 3), (3, 3), (2, 3)]
    assert_grads_match_torch(lambda lib, *ts: lib.cat(ts, dim),
                             *[data(*s) for s in shapes], layout=LAYOUTS[layout])


def test_cat_skips_1d_empty_tensors():
    for parts in ([(0,), (2, 3), (0,), (1, 3)], [(0,), (0,)], [(3,), (0,)]):
        assert_grads_match_torch(lambda lib, *ts: lib.cat(ts), *[data(*s) for s in parts])


def test_cat_mixed_dtypes_and_inputs_without_grad():
    fn = lambda lib, a, b, c: lib.cat([a, b.detach(), c], 1)   # noqa: E731
    assert_grads_match_torch(fn, data(2, 2), data(2, 1), data(2, 3, dtype=np.float32),
                             rtol=1e-6)
    # a real input joined with a complex one gets the real part of its gradient
    assert_grads_match_torch(lambda lib, a, b: lib.cat([a, b]), data(2),
                             data(3) + 1j * data(3))


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("dim", [0, 2, -1, -3])
def test_stack(layout, dim):
    assert_grads_match_torch(lambda lib, *ts: lib.stack(ts, dim), data(2, 3), data(2, 3),
                             data(2, 3), layout=LAYOUTS[layout])


def test_stack_0d_and_list_argument():
    assert_grads_match_torch(lambda lib, a, b: lib.stack([a, b.detach(), a]), data(), data())


# ---------------------------------------------------------------- float32 against torch

def test_float32_values_and_gradients():
    idx = index([0, 2, 2], [1, 0, 1])

    def fn(lib, x, i, s, v):
        y = lib.gather(x, 1, i) + lib.scatter_add(x, 1, i, s)[:2, :3]
        z = lib.index_select(x, 1, i[0])[:2].masked_fill(i == 1, 0.0)
        return lib.cat([y, z], 0).index_put((i[1],), v, True)
    assert_grads_match_torch(fn, data(3, 4, dtype=np.float32), idx,
                             data(2, 3, dtype=np.float32), data(3, dtype=np.float32),
                             rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- finite differences

GRADCHECK_CASES = {
    "gather": (lambda lib, x, i: lib.gather(x, 1, i), [data(2, 3), index([0, 0], [2, 1])]),
    "scatter": (lambda lib, x, s, i: lib.scatter(x, 0, i, s),
                [data(3, 2), data(2, 2), index([2, 0], [1, 2])]),
    "scatter_value": (lambda lib, x, i: lib.scatter(x, 0, i, 3.0),
                      [data(3, 2), index([2, 0])]),
    "scatter_add": (lambda lib, x, s, i: lib.scatter_add(x, 0, i, s),
                    [data(3, 2), data(2, 2), index([2, 2], [1, 2])]),
    # without accumulate a repeated position is written once (the last write): its
    # values are all given the gradient, as in PyTorch, so finite differences disagree
    "index_put": (lambda lib, x, v, i: lib.index_put(x, (i,), v),
                  [data(3, 2), data(2), index(2, 1)]),
    "index_put_acc": (lambda lib, x, v, i: lib.index_put(x, (i,), v, True),
                      [data(3, 2), data(2), index(1, 1)]),
    "index_select": (lambda lib, x, i: lib.index_select(x, 1, i), [data(2, 3), index(2, 2, 0)]),
    "masked_fill": (lambda lib, x, v, m: lib.masked_fill(x, m, v),
                    [data(2, 2), data(), np.array([True, False])]),
    "cat": (lambda lib, a, b: lib.cat([a, b], 1), [data(2, 1), data(2, 2)]),
    "stack": (lambda lib, a, b: lib.stack([a, b], 1), [data(2), data(2)]),
    "scatter_add_": (lambda lib, x, s, i: (x * 1).scatter_add_(1, i, s),
                     [data(2, 2), data(2, 1), index([1], [1])]),
    "index_put_": (lambda lib, x, v, i: (x * 1).index_put_((i,), v),
                   [data(3), data(1), index(0)]),
    "masked_fill_": (lambda lib, x, v, m: (x * 1).masked_fill_(m, v),
                     [data(3), data(), np.array([False, True, True])]),
}


@pytest.mark.parametrize("name", list(GRADCHECK_CASES))
def test_gradcheck_and_gradgradcheck(name):
    fn, arrays = GRADCHECK_CASES[name]
    check_gradients(fn, *arrays)


@pytest.mark.parametrize("name", ["gather", "scatter", "index_put_acc", "index_select",
                                  "masked_fill", "cat"])
def test_gradcheck_negative_strides(name):
    fn, arrays = GRADCHECK_CASES[name]
    check_gradients(lambda lib, x, *rest: fn(lib, x[::-1], *rest), *arrays)


# ---------------------------------------------------------------- graph metadata and errors

@pytest.mark.parametrize("name, fn", [
    ("GatherBackward0", lambda lib, x, i: lib.gather(x, 0, i)),
    ("ScatterBackward0", lambda lib, x, i: lib.scatter(x, 0, i, x[:1])),
    ("ScatterAddBackward0", lambda lib, x, i: lib.scatter_add(x, 0, i, x[:1])),
    ("IndexPutBackward0", lambda lib, x, i: lib.index_put(x, (i[0],), x[0])),
    ("IndexSelectBackward0", lambda lib, x, i: lib.index_select(x, 1, i[0])),
    ("MaskedFillBackward0", lambda lib, x, i: lib.masked_fill(x, i == 0, 1.0)),
    ("CatBackward0", lambda lib, x, i: lib.cat([x, x])),
    ("StackBackward0", lambda lib, x, i: lib.stack([x, x])),
])
def test_node_names_match_torch(name, fn):
    for lib in (torch, ember):
        x = lib.tensor(data(2, 2), requires_grad=True)
        assert fn(lib, x, lib.tensor(index([1, 0]))).grad_fn.name() == name


@pytest.mark.parametrize("fn", [
    lambda lib, x, i, o: lib.gather(x, 0, i, out=o),
    lambda lib, x, i, o: lib.index_select(x, 0, i[0], out=o),
    lambda lib, x, i, o: lib.cat([x, x], out=o),
    lambda lib, x, i, o: lib.stack([x, x], out=o),
])
def test_out_with_requires_grad_raises(fn):
    for lib in (torch, ember):
        x = lib.tensor(data(2, 2), requires_grad=True)
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic "
                                               "differentiation"):
            fn(lib, x, lib.tensor(index([1, 0])), lib.empty(0, dtype=lib.float64))


def test_indices_and_masks_get_no_gradient():
    x = ember.tensor(data(2, 3), requires_grad=True)
    i = ember.tensor(index([0, 1, 1]))
    y = ember.gather(x, 0, i)
    assert y.requires_grad and not i.requires_grad and i.grad is None
    y.sum().backward()
    assert x.grad is not None and i.grad is None
