"""Advanced indexing (getitem and setitem) against NumPy (values) and PyTorch (semantics, errors)."""
import collections
import warnings

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
          ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128]


def values(shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-50, 50, size=shape)
    if np.dtype(dtype) == np.bool_:
        return a > 0
    if np.dtype(dtype).kind == "c":
        return (a + 1j * rng.integers(-5, 5, size=shape)).astype(dtype)
    return a.astype(dtype)


def layouts(a):
    """The values of `a` held in differently strided ember tensors (name, tensor)."""
    out = [("contiguous", ember.from_numpy(a.copy()))]
    if a.ndim >= 2:
        out.append(("transposed", ember.from_numpy(a.T.copy()).T))
    if a.ndim >= 1:
        out.append(("negative", ember.from_numpy(a[..., ::-1].copy())[..., ::-1]))
        # a row broadcast to the full shape: zero strides
        row = a[(0,) * (a.ndim - 1)] if a.shape and all(a.shape) else None
        if row is not None and a.ndim >= 2:
            out.append(("expanded", ember.from_numpy(row.copy()).expand(*a.shape)))
    return out


def expanded_values(a):
    return np.broadcast_to(a[(0,) * (a.ndim - 1)], a.shape)


def as_numpy(t):
    return np.asarray(t.numpy())


def torch_index(index):
    def conv(item):
        if isinstance(item, np.ndarray) and item.ndim:
            return torch.from_numpy(item)
        return item
    return tuple(conv(i) for i in index) if isinstance(index, tuple) else conv(index)


def ember_index(index, form):
    def conv(item):
        if isinstance(item, np.ndarray) and item.ndim:
            return [ember.from_numpy(item), item, item.tolist()][form]
        return item
    # a bare nested list would read as a tuple of indices: wrap a bare index in a tuple
    return tuple(conv(i) for i in index) if isinstance(index, tuple) else (conv(index),)


I = np.array  # noqa: E741  (short name for index arrays in the tables below)

# (index, NumPy agrees with PyTorch's placement) for a (4, 5, 6) tensor
CASES = [
    (I([0, 2, 3]), True),
    (I([-1, 0, -4]), True),
    (I([[0, 1], [3, 3]]), True),
    ((slice(None), I([4, 0, 0])), True),
    ((Ellipsis, I([5, -6])), True),
    ((I([0, 1]), I([1, 2])), True),
    ((I([0, 1]), slice(None), I([1, 2])), True),
    ((slice(None), I([[0], [1]]), I([0, 5, 2])), True),
    ((I([[0], [3]]), slice(1, 4), I([1, 2])), True),
    ((None, I([0, 1]), None, I([2, 3])), True),
    ((slice(None, None, 2), I([1, 3]), None), True),
    ((I([1, 2]), Ellipsis, None), True),
    ((0, slice(None), I([1, 2])), False),
    ((I([1, 2]), 3), False),
    ((1, I([0, 4]), 2), False),
    ((slice(1, 3), 2, I([[0, 1]])), False),
    (I([True, False, True, True]), True),
    (values((4, 5), np.bool_, 1), True),
    (values((4, 5, 6), np.bool_, 2), True),
    ((slice(None), values((5, 6), np.bool_, 3)), True),
    ((values((4, 5), np.bool_, 4), I([3])), True),
    ((Ellipsis, I([False] * 6)), True),
    ((I([0, 1]), I([True, False, True, False, False])), True),
    (True, True),
    (False, True),
    ((None, True, slice(1, 2)), True),
    ((I([1]), False), False),
    (I([], dtype=np.int64), True),
    ((slice(None), I([], dtype=np.int64)), True),
]


@pytest.mark.parametrize("index,numpy_agrees", CASES)
def test_getitem_against_torch_and_numpy(index, numpy_agrees):
    a = values((4, 5, 6), np.int64)
    expected = torch.from_numpy(a)[torch_index(index)].numpy()
    for form in range(3):
        got = ember.from_numpy(a)[ember_index(index, form)]
        assert got.shape == expected.shape
        np.testing.assert_array_equal(as_numpy(got), expected)
    if numpy_agrees:
        np.testing.assert_array_equal(as_numpy(ember.from_numpy(a)[ember_index(index, 0)]),
                                      a[index])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_getitem_dtypes_and_layouts(dtype):
    a = values((3, 4, 5), dtype)
    mask = values((3, 4), np.bool_, 7)
    for name, t in layouts(a):
        ref = expanded_values(a) if name == "expanded" else a
        for index in [I([2, 0, 2]), (slice(None), I([[3], [-1]]), I([0, 4])),
                      (I([1, 2]), slice(None, None, 2), I([0, 1])), mask,
                      (Ellipsis, ref[0, 0] != ref[0, 0].flat[0])]:
            got = t[ember_index(index, 0)]
            assert got.dtype == t.dtype
            np.testing.assert_array_equal(as_numpy(got), ref[index], err_msg=name)


def test_getitem_empty_and_zero_dim():
    a = np.zeros((0, 3), np.float32)
    t = ember.from_numpy(a)
    assert t[I([], dtype=np.int64)].shape == (0, 3)
    assert t[:, I([2, 0])].shape == (0, 2)
    assert t[np.zeros((0, 3), bool)].shape == (0,)
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 0"):
        t[I([0])]
    s = ember.tensor(5.0)
    assert s[True].tolist() == [5.0]
    assert s[False].shape == (0,)
    assert s[None, True].shape == (1, 1)
    assert s[ember.tensor(True)].shape == (1,)
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 0"):
        s[[0]]


def test_zero_dim_integer_index_is_a_view():
    x = ember.arange(24).reshape(2, 3, 4)
    for index in [ember.tensor(1), np.int64(1), np.array(1), ember.tensor(1, dtype=ember.int16)]:
        v = x[index]
        assert v.shape == (3, 4)
        assert v.data_ptr() == x.data_ptr() + 12 * 8
    # an integer 0-dim tensor is an int, so it does not join the advanced indices
    assert x[ember.tensor(1), :, [0, 1]].shape == (3, 2)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[ember.tensor(5)]
    tx = torch.arange(24).reshape(2, 3, 4)
    for index in [(np.int64(1), None), (None, ember.tensor(0), None, slice(1, 3), np.int32(2))]:
        tindex = tuple(torch.tensor(0) if isinstance(i, ember.Tensor) else i for i in index)
        assert x[index].stride() == tx[tindex].stride()


def test_repeated_and_negative_indices():
    a = values((6, 3), np.float32)
    t = ember.from_numpy(a)
    index = I([5, -1, 0, 0, -6, 3])
    np.testing.assert_array_equal(as_numpy(t[index]), a[index])
    np.testing.assert_array_equal(as_numpy(t[index, I([2, -3, 1, 1, 0, -1])]),
                                  a[index, I([2, -3, 1, 1, 0, -1])])


@pytest.mark.parametrize("index", [
    I([3]), I([-4]), (slice(None), I([0, 5])), (slice(None), slice(None), I([[9]])),
    (I([0]), slice(None), I([9])), (I([7]), slice(None), I([9])), (0, slice(None), I([9])),
    (I([0, 1]), I([0, 5])), (I([1, 0]), I([0, -6])), 3, (slice(None), -6),
])
def test_out_of_range_matches_torch(index):
    a = np.zeros((3, 5, 4))
    with pytest.raises(IndexError) as expected:
        torch.from_numpy(a)[torch_index(index)]
    for form in range(2):
        with pytest.raises(IndexError) as got:
            ember.from_numpy(a)[ember_index(index, form)]
        assert str(got.value) == str(expected.value)
        x = ember.from_numpy(a.copy())
        with pytest.raises(IndexError) as got:
            x[ember_index(index, form)] = 1.0
        assert str(got.value) == str(expected.value)
        assert not as_numpy(x).any(), "nothing may be written when an index is out of range"


@pytest.mark.parametrize("index", [
    I([True, False]), np.ones((3, 5), bool), (slice(None), np.ones((4, 4), bool)),
    (0, np.ones((3, 3), bool)), (None, np.ones((5, 4), bool)), (slice(1, None), np.ones((4, 3), bool)),
])
def test_mask_shape_mismatch_matches_torch(index):
    a = np.zeros((3, 4, 5))
    with pytest.raises(IndexError) as expected:
        torch.from_numpy(a)[torch_index(index)]
    with pytest.raises(IndexError) as got:
        ember.from_numpy(a)[ember_index(index, 0)]
    assert str(got.value).replace("ember.", "") == str(expected.value)


def test_invalid_indices():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        x[ember.tensor([0.5])]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        x[ember.tensor([0, 1], dtype=ember.int16)]
    with pytest.raises(IndexError, match=r"valid indices \(got float\)"):
        x[1.5]
    with pytest.raises(IndexError, match=r"valid indices \(got numpy.bool"):
        x[np.bool_(True)]
    with pytest.raises(TypeError):
        x["a"]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[[0], 0, 0]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[np.ones((3, 4, 1), bool)]
    with pytest.raises(IndexError, match=r"could not be broadcast together with shapes \[2\], \[3\]"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., [0], ...]


def test_index_dtypes_and_sources():
    a = values((5, 4), np.int32)
    x = ember.from_numpy(a)
    for index in [np.array([0, 3], np.int16), np.array([0, 3], np.uint64), [0.0, 3.7],
                  ember.tensor([0, 3], dtype=ember.int32), (0, 3)]:
        np.testing.assert_array_equal(as_numpy(x[index,]), a[[0, 3]])
    with pytest.warns(UserWarning, match="uint8"):
        got = x[ember.tensor([1, 0, 1, 0, 0], dtype=ember.uint8)]
    np.testing.assert_array_equal(as_numpy(got), a[[0, 2]])


def test_any_sequence_is_an_index_like_torch():
    # q[range(batch), actions] is the usual way RL code picks the taken action's value
    a = values((6, 4), np.float32)
    x, tx = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    actions = [0, 3, 1, 1, 2, 0]
    for index in [(range(6), actions), (range(6), ember.tensor(actions)), range(0, 6, 2),
                  collections.deque([4, 1]), (range(2, 4), slice(1, 3)), range(0)]:
        tindex = tuple(torch.tensor(actions) if isinstance(i, ember.Tensor) else i
                       for i in index) if isinstance(index, tuple) else index
        got = x[index]
        np.testing.assert_array_equal(as_numpy(got), tx[tindex].numpy())
    x[range(1, 3)] = 0.0
    tx[range(1, 3)] = 0.0
    np.testing.assert_array_equal(as_numpy(x), tx.numpy())
    # gradients flow through a range-indexed gather
    w = ember.tensor(a, requires_grad=True)
    tw = torch.tensor(a, requires_grad=True)
    w[range(6), actions].sum().backward()
    tw[range(6), actions].sum().backward()
    np.testing.assert_array_equal(as_numpy(w.grad), tw.grad.numpy())
    # strings stay invalid, as in torch
    with pytest.raises(TypeError):
        x[range(2), "a"]


def test_list_read_as_tuple_like_torch():
    a = values((2, 3, 4), np.int64)
    x, tx = ember.from_numpy(a), torch.from_numpy(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index in [[[0, 1], [1, 0]], [0, slice(None)], [None], [ember.tensor(1), 0],
                      [[True, False]], [1, [0, 1]]]:
            tindex = [torch.tensor(1) if isinstance(i, ember.Tensor) else i for i in index]
            with pytest.warns(UserWarning, match="non-tuple sequence"):
                got = x[index]
            np.testing.assert_array_equal(as_numpy(got), tx[tindex].numpy())
    # an explicit 1-tuple keeps the nested list as one index array
    assert x[([[0, 1], [1, 0]],)].shape == (2, 2, 3, 4)
    assert x[[np.int64(1), 0]].shape == (2, 3, 4)


# ---------------------------------------------------------------- setitem

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_setitem_dtypes_and_layouts(dtype):
    a = values((3, 4, 5), dtype)
    v = values((2, 4), dtype, seed=3)
    for name in ["contiguous", "transposed", "negative"]:
        t = dict(layouts(a))[name]
        index = (I([2, 0]), slice(None), I([4, 1]))
        t[index] = ember.from_numpy(v.T.copy()).T      # a transposed value
        expected = a.copy()
        expected[index] = v
        np.testing.assert_array_equal(as_numpy(t), expected, err_msg=name)
        mask = values((3, 4), np.bool_, 5)
        t[mask] = v[0, 0]
        expected[mask] = v[0, 0]
        np.testing.assert_array_equal(as_numpy(t), expected, err_msg=name)


def test_setitem_broadcasts_and_converts_values():
    a = np.zeros((4, 3), np.float32)
    x = ember.from_numpy(a)
    x[[0, 2]] = ember.tensor([1, 2, 3])                 # int64 tensor into float32
    x[[1]] = [[7.5, 8.5, 9.5]]                          # nested list
    x[[3, 3]] = np.array([4.0, 5.0, 6.0])               # array, repeated index
    x[:, [True, False, True]] = ember.ones(1, 1, 1)     # leading size-1 dims dropped
    expected = np.array([[1, 2, 3], [7.5, 8.5, 9.5], [1, 2, 3], [4, 5, 6]], np.float32)
    expected[:, [0, 2]] = 1
    np.testing.assert_array_equal(a, expected)
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[2\] cannot "
                                           r"be broadcast to indexing result of shape \[3, 3\]"):
        x[[0, 1, 2]] = ember.ones(2)
    with pytest.raises(RuntimeError, match=r"value tensor of shape \[2, 3\] cannot be broadcast"):
        x[[0]] = ember.ones(2, 3)


def test_setitem_repeated_indices_last_write_wins():
    a = np.zeros(5)
    index = I([1, 3, 1, 1, 3, 0])
    vals = np.arange(1.0, 7.0)
    expected = a.copy()
    expected[index] = vals
    x = ember.from_numpy(a)
    x[index] = ember.from_numpy(vals)
    np.testing.assert_array_equal(a, expected)
    b = np.zeros((3, 3))
    y = ember.from_numpy(b)
    y[I([0, 0, 2]), I([1, 1, 1])] = ember.tensor([1.0, 2.0, 3.0])
    assert b[0, 1] == 2.0 and b[2, 1] == 3.0


def test_setitem_scalar_conversion_like_torch():
    x = ember.zeros(3, dtype=ember.int8)
    x[[0]] = 2.7
    assert x.tolist() == [2, 0, 0]
    with pytest.raises(RuntimeError, match="value cannot be converted to type int8_t without overflow"):
        x[[1]] = 300
    with pytest.raises(RuntimeError, match="value cannot be converted to type float without overflow"):
        ember.zeros(3)[[1]] = 1 + 2j
    u = ember.zeros(2, dtype=ember.uint8)
    u[[0]] = -1
    assert u.tolist() == [255, 0]
    h = ember.zeros(2, dtype=ember.float16)
    with pytest.raises(RuntimeError, match="c10::Half"):
        h[[0]] = 1e6
    h[[1]] = float("inf")
    assert h.tolist() == [0.0, float("inf")]


def test_setitem_value_sharing_memory():
    a = np.arange(6.0)
    x = ember.from_numpy(a)
    x[[0, 1, 2, 3, 4, 5]] = x[::-1]
    np.testing.assert_array_equal(a, np.arange(6.0)[::-1])
    b = np.arange(5)
    y = ember.from_numpy(b)
    y[y] = ember.from_numpy(b[::-1])                  # the index is the destination itself
    np.testing.assert_array_equal(b, np.arange(5)[::-1])


def test_setitem_bumps_version_and_refuses_readonly():
    x = ember.zeros(3)
    v = x._version
    x[[0]] = 1.0
    assert x._version > v
    a = np.zeros(3)
    a.flags.writeable = False
    with pytest.raises(RuntimeError, match="read-only"):
        ember.from_numpy(a)[[0]] = 1.0


def test_setitem_without_advanced_items():
    x = ember.zeros(2, 3)
    x[np.int64(1), ember.tensor(2)] = 4.0
    assert x.tolist() == [[0, 0, 0], [0, 0, 4]]


def test_setitem_accumulate_sums_repeated_positions():
    from ember.ops.index import advanced_setitem
    a = np.zeros((3, 2), np.float32)
    x = ember.from_numpy(a)
    advanced_setitem(x, (I([0, 2, 0, 0]), slice(None)), ember.ones(4, 2), accumulate=True)
    advanced_setitem(x, np.array([[True, False], [False, False], [False, True]]),
                     ember.tensor([10.0, 20.0]), accumulate=True)
    advanced_setitem(x, (1, 1), 5.0, accumulate=True)
    np.testing.assert_array_equal(a, [[13, 3], [0, 5], [1, 21]])
