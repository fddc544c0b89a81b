"""Property tests: random shapes and random basic + advanced index tuples.

Each case is checked against PyTorch (placement, values, error class) and,
where NumPy's rules agree with PyTorch's (no integer or True/False item mixed
with advanced indices), against NumPy with negative-step slices too.
"""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ember

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def index_cases(draw, negative_steps=False):
    """(shape, index spec): the spec lists ('int', i), ('slice', s), ('none',), ('ellipsis',),
    ('array', ndarray), ('mask', ndarray) and ('bool', b) items."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    kinds, specified, has_ellipsis = [], 0, False
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "array", "array",
                                     "mask", "bool"]))
        if kind == "ellipsis":
            if has_ellipsis:
                continue
            has_ellipsis = True
            kinds.append((kind, 0))
        elif kind in ("none", "bool"):
            kinds.append((kind, 0))
        elif kind == "mask":
            if specified >= ndim:
                continue
            k = draw(st.integers(1, ndim - specified))
            kinds.append((kind, k))
            specified += k
        else:
            if specified >= ndim:
                continue
            kinds.append((kind, 1))
            specified += 1
    # dims covered by each item: Ellipsis takes what the others leave
    fill = ndim - specified if has_ellipsis else 0
    pos, items = 0, []
    bshape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    for kind, cover in kinds:
        if kind == "ellipsis":
            items.append(("ellipsis",))
            pos += fill
            continue
        sizes = shape[pos:pos + cover]
        pos += cover
        if kind == "none":
            items.append(("none",))
        elif kind == "bool":
            items.append(("bool", draw(st.booleans())))
        elif kind == "mask":
            bits = draw(st.lists(st.booleans(), min_size=int(np.prod(sizes)),
                                 max_size=int(np.prod(sizes))))
            items.append(("mask", np.array(bits, dtype=bool).reshape(sizes)))
        elif kind == "int" and sizes[0] > 0:
            items.append(("int", draw(st.integers(-sizes[0], sizes[0] - 1))))
        elif kind == "array" and sizes[0] > 0:
            ishape = tuple(s if draw(st.booleans()) else 1 for s in bshape[len(bshape) -
                           draw(st.integers(0, len(bshape))):])
            vals = draw(st.lists(st.integers(-sizes[0], sizes[0] - 1),
                                 min_size=int(np.prod(ishape)), max_size=int(np.prod(ishape))))
            items.append(("array", np.array(vals, dtype=np.int64).reshape(ishape)))
        else:
            size = sizes[0]
            start = draw(st.none() | st.integers(-size - 2, size + 2))
            stop = draw(st.none() | st.integers(-size - 2, size + 2))
            steps = [None, 1, 2, 3] + ([-1, -2] if negative_steps else [])
            items.append(("slice", slice(start, stop, draw(st.sampled_from(steps)))))
    return shape, items


def _ember_item(item, form):
    kind = item[0]
    if kind == "array":
        return [ember.tensor(item[1]), ember.tensor(item[1], dtype=ember.int32), item[1],
                item[1].tolist()][form % 4]
    if kind == "mask":
        # a list of bools (empty lists would read as integer indices)
        as_list = item[1].tolist() if item[1].size else item[1]
        return [ember.tensor(item[1]), item[1], as_list][form % 3]
    return _plain_item(item)


def _plain_item(item):
    kind = item[0]
    if kind in ("int", "slice", "bool"):
        return item[1]
    if kind == "none":
        return None
    if kind == "ellipsis":
        return Ellipsis
    return item[1]


def _torch_item(item):
    if item[0] in ("array", "mask"):
        return torch.from_numpy(item[1])
    return _plain_item(item)


def _run(fn):
    try:
        return fn(), None
    except (IndexError, RuntimeError, ValueError, TypeError) as e:
        return None, type(e)


def _numpy_agrees(items):
    """NumPy places advanced indices as PyTorch does unless ints/bools mix with them."""
    def scalar(it):
        return it[0] == "int" or (it[0] == "array" and it[1].ndim == 0)
    kinds = ["adv" if it[0] in ("array", "mask", "bool") and not scalar(it) else it[0]
             for it in items]
    if "adv" in kinds and "ellipsis" in kinds:
        # NumPy separates advanced indices by an Ellipsis even when it spans no dims
        e = kinds.index("ellipsis")
        if "adv" in kinds[:e] and "adv" in kinds[e:]:
            return False
    return not ("adv" in kinds and any(scalar(it) for it in items))


@SETTINGS
@given(index_cases(), st.integers(0, 11))
def test_getitem_matches_torch(case, form):
    shape, items = case
    base = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, t_err = _run(lambda: torch.from_numpy(base)[tuple(_torch_item(i) for i in items)])
        got, e_err = _run(lambda: ember.from_numpy(base)[tuple(_ember_item(i, form) for i in items)])
    assert e_err is t_err, (items, e_err, t_err)
    if t_err is None:
        assert tuple(got.shape) == tuple(expected.shape), items
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


@SETTINGS
@given(index_cases(negative_steps=True), st.integers(0, 11))
def test_getitem_matches_numpy(case, form):
    shape, items = case
    assume(_numpy_agrees(items))
    base = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    # a transposed, non-contiguous copy of the same values
    src = base.T.copy().T
    try:
        expected = base[tuple(_plain_item(i) for i in items)]
    except IndexError:
        with pytest.raises(IndexError):
            ember.from_numpy(src)[tuple(_ember_item(i, form) for i in items)]
        return
    got = ember.from_numpy(src)[tuple(_ember_item(i, form) for i in items)]
    assert tuple(got.shape) == expected.shape, items
    np.testing.assert_array_equal(got.numpy(), expected)


@SETTINGS
@given(index_cases(), st.integers(0, 11), st.sampled_from(["full", "scalar", "row"]))
def test_setitem_matches_torch(case, form, value_kind):
    shape, items = case
    base = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    t_index = tuple(_torch_item(i) for i in items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selected, t_err = _run(lambda: torch.from_numpy(base)[t_index])
    if t_err is not None:
        with pytest.raises(t_err):
            ember.from_numpy(base.copy())[tuple(_ember_item(i, form) for i in items)] = 1.0
        return
    rshape = tuple(selected.shape)
    positions = selected.numpy().ravel()
    if value_kind == "scalar" or len(np.unique(positions)) != positions.size:
        value = -1.5  # with repeated positions only a single value has a defined result
    elif value_kind == "row" and rshape:
        value = -np.arange(rshape[-1], dtype=np.float64) - 1
    else:
        value = -np.arange(int(np.prod(rshape)), dtype=np.float64).reshape(rshape) - 1
    expected = torch.from_numpy(base.copy())
    expected[t_index] = value if np.isscalar(value) else torch.from_numpy(value)
    got = ember.from_numpy(base.copy())
    got[tuple(_ember_item(i, form) for i in items)] = (
        value if np.isscalar(value) else [ember.tensor(value), value][form % 2])
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@SETTINGS
@given(index_cases(negative_steps=True), st.integers(0, 11))
def test_setitem_matches_numpy(case, form):
    shape, items = case
    assume(_numpy_agrees(items))
    base = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    index = tuple(_plain_item(i) for i in items)
    try:
        selected = base[index]
    except IndexError:
        return
    value = -np.arange(selected.size, dtype=np.int32).reshape(selected.shape) - 1
    if len(np.unique(selected)) != selected.size:
        value = np.int32(-7)
    expected = base.copy()
    expected[index] = value
    # write through a negative-stride view of a transposed copy
    holder = base[..., ::-1].T.copy().T if base.ndim else base.copy()
    view = ember.from_numpy(holder)
    target = view[..., ::-1] if base.ndim else view
    target[tuple(_ember_item(i, form) for i in items)] = value
    np.testing.assert_array_equal(target.numpy(), expected)


@SETTINGS
@given(index_cases(negative_steps=True))
def test_basic_index_is_a_view(case):
    shape, items = case
    # advanced items replaced by the basic items spanning the same dims
    basic = []
    for it in items:
        if it[0] == "array":
            basic.append(slice(None))
        elif it[0] == "mask":
            basic.extend([slice(None)] * it[1].ndim)
        elif it[0] == "bool":
            basic.append(None)
        else:
            basic.append(_plain_item(it))
    basic = tuple(basic)
    base = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    # a negative-stride holder of the same values
    holder = base[::-1].copy()[::-1] if base.ndim else base.copy()
    t = ember.from_numpy(holder)
    view = t[basic]
    expected = base.copy()
    sub = expected[basic]
    assert tuple(view.shape) == sub.shape
    np.testing.assert_array_equal(view.numpy(), sub)
    view.fill_(-1)                        # writes through the view reach the base
    if isinstance(sub, np.ndarray):
        sub[...] = -1
    else:
        expected[basic] = -1
    np.testing.assert_array_equal(t.numpy(), expected)
