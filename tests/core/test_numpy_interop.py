"""NumPy interop: shared memory both ways, zero-copy ``np.asarray`` for any layout, dtypes, lifetimes."""
import gc
import operator
import warnings
import weakref

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
          ember.float16, ember.bfloat16, ember.float32, ember.float64, ember.complex64,
          ember.complex128]
NUMPY_OF = {ember.bool: np.bool_, ember.uint8: np.uint8, ember.int8: np.int8,
            ember.int16: np.int16, ember.int32: np.int32, ember.int64: np.int64,
            ember.float16: np.float16, ember.bfloat16: ml_dtypes.bfloat16,
            ember.float32: np.float32, ember.float64: np.float64,
            ember.complex64: np.complex64, ember.complex128: np.complex128}


def _values(shape, dt):
    """Small exactly representable values of NumPy dtype ``dt``."""
    return (np.arange(int(np.prod(shape))).reshape(shape) % 5).astype(dt)


def _one(npdt):
    return True if npdt == np.bool_ else 3


def _first(a):
    return (0,) * a.ndim


# Index expressions applied identically to a NumPy array and an ember tensor of shape (3, 4, 5).
LAYOUTS = {
    "contiguous": lambda x: x,
    "transposed": lambda x: x.transpose(2, 0, 1) if isinstance(x, np.ndarray) else x.permute(2, 0, 1),
    "steps": lambda x: x[::2, 1:, ::3],
    "negative": lambda x: x[::-1, :, ::-2],
    "negative-transposed": lambda x: x[:, ::-1].transpose(1, 0, 2) if isinstance(x, np.ndarray)
    else x[:, ::-1].transpose(0, 1),
    "zero-dim": lambda x: x[1, 2, 3] if not isinstance(x, np.ndarray) else x[1, 2, 3, ...],
    "empty": lambda x: x[:, 4:4],
    "size-one": lambda x: x[1:2, :, 2:3],
}


def _expanded(x):
    if isinstance(x, np.ndarray):
        return np.broadcast_to(x[0, :1], (2, 4, 5))
    return x[0, :1].expand(2, 4, 5)


# ---------------------------------------------------------------- shared memory

@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_from_numpy_shares_memory_both_ways(dt):
    npdt = NUMPY_OF[dt]
    a = _values((3, 4), npdt)
    t = ember.from_numpy(a)
    assert t.dtype == dt and t.shape == (3, 4) and t.stride() == (4, 1)
    assert t.data_ptr() == a.__array_interface__["data"][0]
    t[1, 2] = _one(npdt)
    assert a[1, 2] == _one(npdt)
    a[2, 3] = 0
    assert t[2, 3].item() == 0


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_numpy_method_shares_memory_both_ways(dt):
    npdt = NUMPY_OF[dt]
    base = ember.from_numpy(_values((3, 4, 5), npdt)).clone()
    for name, index in LAYOUTS.items():
        t = index(base)
        a = t.numpy()
        assert a.dtype == npdt and a.shape == tuple(t.shape), name
        if t.numel() == 0:
            continue
        a[_first(a)] = _one(npdt)
        assert t[_first(t)].item() == _one(npdt), name
        t[_first(t)] = 0
        assert a[_first(a)] == 0, name


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_asarray_is_zero_copy_for_any_layout(dt):
    npdt = NUMPY_OF[dt]
    ref = _values((3, 4, 5), npdt)
    base = ember.from_numpy(ref.copy()).clone()  # ember-owned memory
    itemsize = ref.itemsize
    layouts = dict(LAYOUTS, expanded=_expanded)
    for name, index in layouts.items():
        t = index(base)
        a = np.asarray(t)
        expected = index(ref)
        assert a.dtype == npdt, name
        np.testing.assert_array_equal(a, expected, err_msg=name)
        assert a.strides == tuple(s * itemsize for s in t.stride()), name
        assert a.strides == expected.strides, name  # the same view NumPy makes
        if t.numel():
            assert a.__array_interface__["data"][0] == t.data_ptr(), name
            assert np.shares_memory(a, np.asarray(base)), name


def test_asarray_writes_show_in_the_tensor():
    t = ember.zeros(4, 3, dtype=ember.float64)
    a = np.asarray(t.T[:, ::-1])
    a[0, 0] = 5
    assert t[3, 0].item() == 5


def test_expanded_view_aliases_one_element():
    t = ember.arange(3, dtype=ember.int64)
    a = np.asarray(t.expand(4, 3))
    assert a.strides == (0, 8)
    t[1] = 7
    assert (a[:, 1] == 7).all()


def test_from_numpy_any_strides():
    ref = _values((3, 4, 5), np.float64)
    for name, index in dict(LAYOUTS, expanded=_expanded).items():
        a = index(ref)
        t = ember.from_numpy(a)
        assert t.shape == a.shape, name
        assert t.stride() == tuple(s // 8 for s in a.strides), name
        np.testing.assert_array_equal(t.numpy(), a, err_msg=name)
        if a.size:
            assert t.data_ptr() == a.__array_interface__["data"][0], name


def test_empty_array_borrows_no_bytes():
    t = ember.from_numpy(np.empty((0, 3)))
    assert t.untyped_storage().nbytes() == 0
    with pytest.raises(RuntimeError, match="out of bounds"):
        t.as_strided((1,), (1,))


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_dtype_round_trip(dt):
    npdt = NUMPY_OF[dt]
    a = _values((2, 3), npdt)
    t = ember.from_numpy(a)
    assert t.dtype == dt
    assert t.numpy().dtype == npdt and np.asarray(t).dtype == npdt
    if dt != ember.bfloat16:  # torch.from_numpy knows no ml_dtypes
        assert str(torch.from_numpy(a).dtype) == "torch." + dt.name


def test_bfloat16_values_match_ml_dtypes():
    a = np.array([1.5, -2.25, 1e38, np.inf], dtype=ml_dtypes.bfloat16)
    t = ember.from_numpy(a)
    assert t.to(ember.float32).tolist() == a.astype(np.float32).tolist()
    back = (t * 2).numpy()
    assert back.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(back.astype(np.float32), (a.astype(np.float32) * 2)
                                  .astype(ml_dtypes.bfloat16).astype(np.float32))


def test_from_numpy_of_subclasses_and_offset_views_shares_the_right_memory():
    # the data address comes from the array struct: check it for views that start inside
    # their base, run backwards (which torch refuses), and for ndarray subclasses
    class Sub(np.ndarray):
        pass
    base = np.arange(24.0).reshape(4, 6)
    for a in (base[1:, 2:5], base[::-1, ::-2], base[3], base.view(Sub)[1:3],
              np.ma.masked_array(base)[2:], base[2:2]):
        t = ember.from_numpy(a)
        np.testing.assert_array_equal(t.numpy(), np.asarray(a))
        assert t.numpy().__array_interface__["data"][0] == a.__array_interface__["data"][0] or \
            a.size == 0
    view = base[1:, 2:5]
    ember.from_numpy(view).fill_(-1.0)
    assert (base[1:, 2:5] == -1).all() and base[0, 0] == 0 and base[1, 1] == 7


# ---------------------------------------------------------------- read-only, byte order, unsupported

def test_read_only_arrays_give_read_only_tensors():
    a = np.arange(6.).reshape(2, 3)
    a.flags.writeable = False
    t = ember.from_numpy(a)
    for write in (lambda: t.add_(1), lambda: t.__setitem__(0, 1.0), lambda: t.fill_(0),
                  lambda: t.zero_(), lambda: t.copy_(ember.ones(2, 3)),
                  lambda: t.T.mul_(2)):
        with pytest.raises(RuntimeError, match="read-only"):
            write()
    np.testing.assert_array_equal(a, np.arange(6.).reshape(2, 3))
    assert (t + 1).tolist() == [[1., 2., 3.], [4., 5., 6.]]
    assert not np.asarray(t).flags.writeable
    assert not t.numpy().flags.writeable
    assert memoryview(t).readonly
    # a copy is writable again
    c = t.clone()
    c.add_(1)
    assert ember.tensor(a).add_(1).tolist() == c.tolist()


@pytest.mark.parametrize("npdt", [">f8", ">i4", ">c16", ">f2"])
def test_non_native_byte_order_raises(npdt):
    # ValueError with PyTorch's message, from every entry point
    a = np.arange(3).astype(npdt)
    for fn in (ember.from_numpy, ember.tensor, ember.as_tensor):
        with pytest.raises(ValueError, match="byte order different from the native byte order"):
            fn(a)
    if npdt != ">f2":
        with pytest.raises(ValueError, match="byte order different from the native byte order"):
            torch.from_numpy(a)


@pytest.mark.parametrize("arr", [
    np.ones(3, dtype=np.longdouble), np.array([1, None], dtype=object), np.array(["a", "b"]),
    np.array([1, 2], dtype="M8[s]"), np.zeros(2, dtype="i4,f4"),
], ids=lambda a: str(a.dtype))
def test_unsupported_dtypes_raise_type_error(arr):
    with pytest.raises(TypeError, match="can't convert np.ndarray"):
        ember.from_numpy(arr)
    with pytest.raises(TypeError):
        ember.tensor(arr)


def test_from_numpy_needs_an_ndarray():
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ember.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ember.from_numpy(np.float64(1.0))
    with pytest.raises(TypeError):
        torch.from_numpy([1.0, 2.0])


def test_unaligned_strides_raise():
    raw = np.zeros(20, dtype=np.uint8)
    a = np.lib.stride_tricks.as_strided(raw.view(np.int32)[:2], shape=(3,), strides=(6,))
    with pytest.raises(ValueError, match="not a multiple"):
        ember.from_numpy(a)


# ---------------------------------------------------------------- arithmetic with arrays

BINARY_OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
              operator.eq, operator.lt, operator.ge]


ARRAY_OPERANDS = [
    (np.arange(1., 4.), ember.float32),
    (np.arange(1, 4, dtype=np.int32), ember.float32),
    (np.arange(1, 4, dtype=np.int64), ember.int32),
    (np.array(2.), ember.float32),
    (np.ones((2, 1), dtype=np.int8), ember.int64),
    (np.arange(1, 4).astype(np.complex64), ember.float64),
]


@pytest.mark.parametrize("op, a, tdt", [
    (op, a, tdt) for op in BINARY_OPS for a, tdt in ARRAY_OPERANDS
    if not (a.dtype.kind == "c" and op in (operator.lt, operator.ge))  # complex is unordered
], ids=lambda x: getattr(x, "__name__", str(getattr(x, "dtype", x))))
def test_arithmetic_with_arrays_gives_tensors(op, a, tdt):
    t = ember.arange(1, 4).to(tdt)
    tt = torch.arange(1, 4).to(getattr(torch, tdt.name))
    for left, right, tleft, tright in ((t, a, tt, torch.from_numpy(a)),
                                       (a, t, torch.from_numpy(a), tt)):
        out = op(left, right)
        assert type(out) is ember.Tensor
        # the array takes part as torch.from_numpy(array) would
        expected = op(tleft, tright)
        assert out.dtype.name == str(expected.dtype).removeprefix("torch.")
        assert tuple(out.shape) == tuple(expected.shape)
        np.testing.assert_allclose(np.asarray(out), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("tdt", [ember.float16, ember.int32, ember.float64], ids=str)
def test_numpy_scalars_act_like_python_scalars(tdt):
    t = ember.arange(1, 4).to(tdt)
    tt = torch.arange(1, 4).to(getattr(torch, tdt.name))
    for s in (np.float64(2.5), np.int64(2), np.float32(0.5)):
        for op in (operator.add, operator.mul, operator.sub):
            for out, expected in ((op(t, s), op(tt, s)), (op(s, t), op(s, tt))):
                assert type(out) is ember.Tensor
                assert out.dtype.name == str(expected.dtype).removeprefix("torch.")
                assert out.tolist() == expected.tolist()


@pytest.mark.parametrize("ufunc, args", [
    (np.exp, ()), (np.sqrt, ()), (np.add, (1,)), (np.multiply, (np.float32(2),)),
    (np.maximum, (np.full(3, 2.0, np.float32),)), (np.arctan2, (np.ones(3, np.float32),)),
], ids=lambda x: getattr(x, "__name__", ""))
def test_numpy_ufuncs_on_tensors_give_tensors(ufunc, args):
    t = ember.arange(6.).reshape(2, 3)
    tt = torch.arange(6.).reshape(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch's __array_wrap__ signature
        expected = ufunc(tt, *args)
    out = ufunc(t, *args)
    assert type(out) is ember.Tensor and type(expected) is torch.Tensor
    assert out.dtype.name == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_allclose(np.asarray(out), expected.numpy(), rtol=1e-6)


def test_numpy_ufunc_results_on_tensors_scalars_bool_and_out():
    t = ember.arange(1., 4.)
    scalar = np.exp(ember.tensor(1.0))
    assert type(scalar) is ember.Tensor and scalar.dim() == 0
    assert np.add.reduce(t).item() == 6.0
    # a bool result stays bool (torch makes it uint8, from before it had torch.bool)
    mask = np.greater(t, 1.5)
    assert mask.dtype == ember.bool and mask.tolist() == [False, True, True]
    out = np.empty(3, np.float32)
    assert np.multiply(t, 2, out=out) is out and out.tolist() == [2., 4., 6.]
    with pytest.raises(RuntimeError, match="requires grad"):
        np.exp(t.requires_grad_())


# ---------------------------------------------------------------- copying vs sharing constructors

def test_tensor_copies_as_tensor_and_asarray_share():
    a = np.arange(4.)
    copied = ember.tensor(a)
    copied[0] = 10
    assert a[0] == 0 and copied.dtype == ember.float64
    shared = ember.as_tensor(a)
    shared[1] = 11
    assert a[1] == 11
    assert ember.as_tensor(a, dtype=ember.float32).add_(1).tolist() == [1., 12., 3., 4.]
    assert a.tolist() == [0., 11., 2., 3.]  # a dtype change copies
    view = ember.asarray(a[::-1])
    view[0] = 30
    assert a[3] == 30
    fresh = ember.asarray(a, copy=True)
    fresh[0] = -1
    assert a[0] == 0
    # torch agrees on which constructors share
    ta = np.arange(4.)
    torch.tensor(ta)[0] = 10
    torch.as_tensor(ta)[1] = 11
    assert ta.tolist() == [0., 11., 2., 3.]


def test_array_protocol_dtype_and_copy():
    t = ember.arange(3, dtype=ember.float32)
    a = np.asarray(t, dtype=np.float64)
    assert a.dtype == np.float64 and a.tolist() == [0., 1., 2.]
    c = np.array(t)
    c[0] = 9
    assert t[0].item() == 0
    assert np.array(t, copy=False).__array_interface__["data"][0] == t.data_ptr()
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float64, copy=False)


def test_numpy_refuses_tensors_requiring_grad():
    t = ember.ones(2).requires_grad_()
    with pytest.raises(RuntimeError, match="requires grad"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- lifetimes

def test_tensor_keeps_array_alive():
    a = np.arange(5.)
    alive = weakref.ref(a)
    t = ember.from_numpy(a)[::2]
    del a
    gc.collect()
    assert alive() is not None
    assert t.tolist() == [0., 2., 4.]
    t.add_(1)
    assert alive().tolist() == [1., 1., 3., 3., 5.]
    del t
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("convert", [
    lambda t: t.numpy(), np.asarray, lambda t: np.asarray(t[::-1]), lambda t: t.T.numpy(),
    lambda t: t.to(ember.bfloat16).numpy(),
], ids=["numpy", "asarray", "asarray-reversed", "numpy-transposed", "bfloat16"])
def test_array_keeps_tensor_alive(convert):
    t = ember.arange(6.).reshape(2, 3)
    expected = np.asarray(convert(t)).astype(np.float32)
    a = convert(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(a.astype(np.float32), expected)
    a[...] = 0  # writable memory that is still allocated
    assert not a.astype(np.float32).any()


def test_chains_of_conversions_share_one_buffer():
    a = np.arange(4.)
    t = ember.from_numpy(np.asarray(ember.from_numpy(a).T))
    del a
    gc.collect()
    b = t.numpy()
    b[0] = 8
    assert t[0].item() == 8
