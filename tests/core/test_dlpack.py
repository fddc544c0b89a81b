"""DLPack 1.0 export and import: capsule lifetimes, flags, and round trips with NumPy and PyTorch."""
import ctypes
import gc
import sys
import threading
import weakref

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

# ---------------------------------------------------------------- the ABI, seen from ctypes
# A second, independent reading of the DLPack 1.0 structs: it lets the tests
# inspect ember's capsules and build foreign capsules whose deleter calls are counted.

READ_ONLY, IS_COPIED = 1, 2


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", ctypes.c_void_p), ("deleter", DELETER),
                ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", DELETER)]


_api = ctypes.pythonapi
_api.PyCapsule_New.restype = ctypes.py_object
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_api.PyCapsule_GetName.restype = ctypes.c_char_p
_api.PyCapsule_GetName.argtypes = [ctypes.py_object]
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_SetName.restype = ctypes.c_int
_api.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]
# the capsule destructor sees a dying object: pass it as a raw address
_api.PyCapsule_IsValid.restype = ctypes.c_int
_api.PyCapsule_IsValid.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_raw_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))
CAPSULE_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

VERSIONED, LEGACY = b"dltensor_versioned", b"dltensor"


def capsule_name(capsule):
    return _api.PyCapsule_GetName(capsule).decode()


def managed_versioned(capsule):
    """The DLManagedTensorVersioned inside an unconsumed versioned capsule."""
    return DLManagedTensorVersioned.from_address(_api.PyCapsule_GetPointer(capsule, VERSIONED))


def managed_legacy(capsule):
    return DLManagedTensor.from_address(_api.PyCapsule_GetPointer(capsule, LEGACY))


# DLPack (code, bits) of the NumPy dtypes used by the foreign producer below
_DL_CODES = {np.dtype(np.bool_): (6, 8), np.dtype(np.uint8): (1, 8), np.dtype(np.int8): (0, 8),
             np.dtype(np.int16): (0, 16), np.dtype(np.int32): (0, 32), np.dtype(np.int64): (0, 64),
             np.dtype(np.float16): (2, 16), np.dtype(ml_dtypes.bfloat16): (4, 16),
             np.dtype(np.float32): (2, 32), np.dtype(np.float64): (2, 64),
             np.dtype(np.complex64): (5, 64), np.dtype(np.complex128): (5, 128)}


class ForeignProducer:
    """Builds DLPack capsules over NumPy arrays with ctypes, counting deleter calls.

    The capsules behave like any C producer's: the managed tensor keeps the array
    alive until its deleter runs, and an unconsumed capsule runs the deleter
    from its destructor.
    """

    def __init__(self):
        self.deleted = 0
        self._alive = {}
        self._deleter = DELETER(self._delete)
        self._destructor = CAPSULE_DESTRUCTOR(self._destroy)

    @property
    def alive(self):
        return len(self._alive)

    def _delete(self, address):
        self.deleted += 1
        self._alive.pop(address, None)

    def _destroy(self, capsule_address):
        for name, struct in ((VERSIONED, DLManagedTensorVersioned), (LEGACY, DLManagedTensor)):
            if _api.PyCapsule_IsValid(capsule_address, name):
                address = _raw_get_pointer(capsule_address, name)
                struct.from_address(address).deleter(address)

    def capsule(self, arr, *, versioned=True, version=(1, 0), flags=0, device=(1, 0),
                dtype=None, with_strides=True, byte_offset=0):
        code, bits = dtype or _DL_CODES[arr.dtype]
        nd = arr.ndim
        shape = (ctypes.c_int64 * max(nd, 1))(*arr.shape)
        strides = (ctypes.c_int64 * max(nd, 1))(*[s // arr.itemsize for s in arr.strides])
        data = arr.__array_interface__["data"][0] - byte_offset
        dl = DLTensor(data=data, device=DLDevice(*device), ndim=nd, dtype=DLDataType(code, bits, 1),
                      shape=shape, strides=strides if with_strides else None,
                      byte_offset=byte_offset)
        if versioned:
            managed = DLManagedTensorVersioned(version=DLPackVersion(*version), deleter=self._deleter,
                                               flags=flags, dl_tensor=dl)
        else:
            managed = DLManagedTensor(dl_tensor=dl, deleter=self._deleter)
        address = ctypes.addressof(managed)
        self._alive[address] = (managed, shape, strides, arr)
        return _api.PyCapsule_New(address, VERSIONED if versioned else LEGACY,
                                  ctypes.cast(self._destructor, ctypes.c_void_p))


def collect():
    gc.collect()


# ---------------------------------------------------------------- export: the protocol surface

def test_dlpack_device_matches_numpy_and_torch():
    assert ember.ones(3).__dlpack_device__() == (1, 0)
    assert ember.ones(3).__dlpack_device__() == np.ones(3).__dlpack_device__()
    assert ember.ones(3).__dlpack_device__() == tuple(torch.ones(3).__dlpack_device__())


@pytest.mark.parametrize("max_version, name", [
    (None, "dltensor"), ((0, 8), "dltensor"), ((1, 0), "dltensor_versioned"),
    ((1, 3), "dltensor_versioned"), ((2, 0), "dltensor_versioned"),
])
def test_capsule_kind_follows_max_version(max_version, name):
    cap = ember.ones(2).__dlpack__(max_version=max_version)
    assert capsule_name(cap) == name
    if name == "dltensor_versioned":
        version = managed_versioned(cap).version
        assert (version.major, version.minor) == (1, 0)


def test_exported_descriptor_fields():
    base = ember.arange(24, dtype=ember.int32).reshape(2, 3, 4)
    t = base.permute(2, 0, 1)[1:, :, ::2]
    managed = managed_versioned(t.__dlpack__(max_version=(1, 0)))
    dl = managed.dl_tensor
    assert (dl.device.device_type, dl.device.device_id) == (1, 0)
    assert (dl.dtype.code, dl.dtype.bits, dl.dtype.lanes) == (0, 32, 1)
    assert dl.ndim == 3
    assert [dl.shape[i] for i in range(3)] == list(t.shape)
    assert [dl.strides[i] for i in range(3)] == list(t.stride())  # elements, not bytes
    assert dl.data + dl.byte_offset == t.data_ptr()
    assert managed.flags == 0


@pytest.mark.parametrize("dt, code_bits", [
    (ember.bool, (6, 8)), (ember.uint8, (1, 8)), (ember.int8, (0, 8)), (ember.int16, (0, 16)),
    (ember.int64, (0, 64)), (ember.float16, (2, 16)), (ember.bfloat16, (4, 16)),
    (ember.float32, (2, 32)), (ember.float64, (2, 64)), (ember.complex64, (5, 64)),
    (ember.complex128, (5, 128)),
])
def test_exported_dtype_codes(dt, code_bits):
    dl = managed_legacy(ember.zeros(2, dtype=dt).__dlpack__()).dl_tensor
    assert (dl.dtype.code, dl.dtype.bits, dl.dtype.lanes) == (*code_bits, 1)


def test_zero_strides_and_zero_dim_exported():
    t = ember.arange(3.).expand(4, 3)
    dl = managed_legacy(t.__dlpack__()).dl_tensor
    assert [dl.strides[i] for i in range(2)] == [0, 1]
    dl0 = managed_legacy(ember.tensor(2.5).__dlpack__()).dl_tensor
    assert dl0.ndim == 0


def test_bad_arguments():
    t = ember.ones(3)
    with pytest.raises(BufferError, match="unsupported device"):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(BufferError, match="unsupported device"):
        t.__dlpack__(dl_device=(1, 1))
    with pytest.raises(TypeError, match="dl_device"):
        t.__dlpack__(dl_device="cpu")
    with pytest.raises(ValueError, match="stream must be None"):
        t.__dlpack__(stream=1)
    with pytest.raises(TypeError, match="max_version"):
        t.__dlpack__(max_version=1)
    with pytest.raises(TypeError, match="max_version"):
        t.__dlpack__(max_version=(1, 0, 0))
    with pytest.raises(TypeError):
        t.__dlpack__(None)  # keyword-only, as in the standard
    # the tensor's own device is fine
    assert capsule_name(t.__dlpack__(dl_device=(1, 0))) == "dltensor"


def test_requires_grad_refused_like_torch():
    t = ember.ones(3).requires_grad_()
    with pytest.raises(BufferError, match="require gradient"):
        t.__dlpack__()
    with pytest.raises(BufferError, match="require gradient"):
        torch.ones(3, requires_grad=True).__dlpack__()
    assert np.from_dlpack(t.detach()).shape == (3,)


def test_copy_true_exports_a_flagged_copy():
    t = ember.arange(6.).reshape(2, 3).T
    cap = t.__dlpack__(max_version=(1, 0), copy=True)
    assert managed_versioned(cap).flags == IS_COPIED
    c = ember.from_dlpack(cap)
    assert c.tolist() == t.tolist()
    c[0, 0] = 100
    assert t[0, 0].item() == 0
    a = np.from_dlpack(t, copy=True)
    assert not np.shares_memory(a, np.asarray(t))
    np.testing.assert_array_equal(a, np.asarray(t))
    # a legacy capsule has no flags but still holds a copy
    legacy = ember.from_dlpack(t.__dlpack__(copy=True))
    legacy[0, 0] = 5
    assert t[0, 0].item() == 0


def test_copy_false_and_none_share():
    t = ember.arange(6.)
    for value, copy in ((-7, False), (-8, None)):
        a = np.from_dlpack(t, copy=copy)
        a[1] = value
        assert t[1].item() == value
    assert managed_versioned(t.__dlpack__(max_version=(1, 0), copy=False)).flags == 0


# ---------------------------------------------------------------- export: lifetime

def test_deleter_runs_once_for_unconsumed_capsules():
    t = ember.arange(4.)
    base = sys.getrefcount(t)
    for max_version in (None, (1, 0)):
        cap = t.__dlpack__(max_version=max_version)
        assert sys.getrefcount(t) == base + 1
        del cap
        assert sys.getrefcount(t) == base


@pytest.mark.parametrize("max_version", [None, (1, 0)])
@pytest.mark.parametrize("consumer", ["ember", "numpy", "torch"])
def test_deleter_runs_once_for_consumed_capsules(consumer, max_version):
    t = ember.arange(4.)
    base = sys.getrefcount(t)
    cap = t.__dlpack__(max_version=max_version)
    if consumer == "ember":
        out = ember.from_dlpack(cap)
    elif consumer == "torch":
        out = torch.utils.dlpack.from_dlpack(cap)
    else:
        class Wrapper:  # NumPy takes producers, not capsules
            def __dlpack__(self, **kwargs):
                return cap

            def __dlpack_device__(self):
                return (1, 0)
        out = np.from_dlpack(Wrapper())
    del cap
    assert sys.getrefcount(t) == base + 1  # now held by the consumer
    if consumer == "numpy" and max_version is None:
        assert not out.flags.writeable  # NumPy makes legacy imports read-only
    else:
        out[0] = 9
        assert t[0].item() == 9
    del out
    collect()
    assert sys.getrefcount(t) == base


def test_exported_tensor_lives_until_the_consumer_lets_go():
    t = ember.arange(5.)
    died = []
    weakref.finalize(t, died.append, True)
    a = np.from_dlpack(t)
    del t
    collect()
    assert died == []
    np.testing.assert_array_equal(a, np.arange(5.))
    del a
    collect()
    assert died == [True]


def test_deleter_is_safe_from_another_thread():
    t = ember.arange(3.)
    base = sys.getrefcount(t)
    holder = [torch.from_dlpack(t), np.from_dlpack(t)]
    assert sys.getrefcount(t) == base + 2
    worker = threading.Thread(target=holder.clear)
    worker.start()
    worker.join()
    collect()
    assert sys.getrefcount(t) == base


def test_deleter_callable_without_the_gil_from_another_thread():
    t = ember.arange(3.)
    base = sys.getrefcount(t)
    for max_version, struct in (((1, 0), DLManagedTensorVersioned), (None, DLManagedTensor)):
        cap = t.__dlpack__(max_version=max_version)
        name = capsule_name(cap).encode()
        address = _api.PyCapsule_GetPointer(cap, name)
        _api.PyCapsule_SetName(cap, b"used_" + name)  # consumed by hand
        del cap
        assert sys.getrefcount(t) == base + 1
        # a ctypes call releases the GIL, so the deleter must take it itself
        worker = threading.Thread(target=struct.from_address(address).deleter, args=(address,))
        worker.start()
        worker.join()
        assert sys.getrefcount(t) == base


# ---------------------------------------------------------------- import

def test_foreign_capsule_deleter_runs_once_when_storage_dies():
    producer = ForeignProducer()
    for versioned in (True, False):
        arr = np.arange(12.).reshape(3, 4)
        cap = producer.capsule(arr, versioned=versioned)
        t = ember.from_dlpack(cap)
        assert capsule_name(cap) == ("used_dltensor_versioned" if versioned else "used_dltensor")
        del cap
        view = t[1:, ::2]  # views keep the storage, and so the producer's tensor, alive
        del t
        collect()
        assert producer.deleted == 0 + (not versioned)
        view[0, 0] = -1
        assert arr[1, 0] == -1
        del view
        collect()
        assert producer.deleted == 1 + (not versioned)
    assert producer.alive == 0


def test_foreign_capsule_deleter_runs_once_when_unconsumed():
    producer = ForeignProducer()
    for versioned in (True, False):
        cap = producer.capsule(np.arange(3.), versioned=versioned)
        del cap
        collect()
    assert producer.deleted == 2 and producer.alive == 0


def test_capsule_cannot_be_consumed_twice():
    producer = ForeignProducer()
    cap = producer.capsule(np.arange(3.))
    t = ember.from_dlpack(cap)
    with pytest.raises(RuntimeError, match="already consumed"):
        ember.from_dlpack(cap)
    legacy = ember.ones(2).__dlpack__()
    ember.from_dlpack(legacy)
    with pytest.raises(RuntimeError, match="already consumed"):
        ember.from_dlpack(legacy)
    with pytest.raises(RuntimeError):  # torch refuses ember's used capsules too
        torch.utils.dlpack.from_dlpack(legacy)
    del t, cap
    collect()
    assert producer.deleted == 1


def test_newer_major_version_refused_and_capsule_left_intact():
    producer = ForeignProducer()
    cap = producer.capsule(np.arange(3.), version=(2, 0))
    with pytest.raises(BufferError, match="major version"):
        ember.from_dlpack(cap)
    assert capsule_name(cap) == "dltensor_versioned"
    assert producer.deleted == 0
    del cap
    collect()
    assert producer.deleted == 1
    # a newer minor version is compatible
    t = ember.from_dlpack(producer.capsule(np.arange(3.), version=(1, 7)))
    assert t.tolist() == [0., 1., 2.]


def test_read_only_flag_honoured_on_import():
    producer = ForeignProducer()
    arr = np.arange(4.)
    t = ember.from_dlpack(producer.capsule(arr, flags=READ_ONLY))
    with pytest.raises(RuntimeError, match="read-only"):
        t.add_(1)
    with pytest.raises(RuntimeError, match="read-only"):
        t[0] = 5
    assert not np.asarray(t).flags.writeable
    assert (t + 1).tolist() == [1., 2., 3., 4.]  # reading is fine
    np.testing.assert_array_equal(arr, np.arange(4.))
    # and the flag survives a re-export
    assert managed_versioned(t.__dlpack__(max_version=(1, 0))).flags == READ_ONLY


def test_read_only_numpy_round_trip():
    arr = np.arange(4.)
    arr.flags.writeable = False
    t = ember.from_dlpack(arr)
    with pytest.raises(RuntimeError, match="read-only"):
        t.mul_(2)
    a = np.from_dlpack(t)
    assert not a.flags.writeable and np.shares_memory(a, arr)
    # a legacy capsule cannot carry the flag: a copy, or BufferError with copy=False
    legacy = ember.from_dlpack(t.__dlpack__())
    legacy.add_(1)
    np.testing.assert_array_equal(arr, np.arange(4.))
    with pytest.raises(BufferError, match="read-only"):
        t.__dlpack__(copy=False)


def test_null_strides_and_byte_offset():
    producer = ForeignProducer()
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = ember.from_dlpack(producer.capsule(arr, with_strides=False, byte_offset=8))
    assert t.stride() == (3, 1)
    assert t.tolist() == arr.tolist()
    t[1, 2] = 50
    assert arr[1, 2] == 50


@pytest.mark.parametrize("versioned", [True, False])
def test_all_dtypes_from_foreign_capsules(versioned):
    producer = ForeignProducer()
    for npdt in _DL_CODES:
        arr = (np.arange(6) % 2).astype(npdt).reshape(2, 3)[:, ::-1]
        t = ember.from_dlpack(producer.capsule(arr, versioned=versioned))
        assert t.dtype.numpy_dtype == npdt
        np.testing.assert_array_equal(t.numpy(), arr)
        assert np.shares_memory(np.asarray(t.view(ember.int16)) if npdt == ml_dtypes.bfloat16
                                else np.asarray(t), arr)


def test_unsupported_dtype_and_device_leave_capsule_unconsumed():
    producer = ForeignProducer()
    arr = np.arange(3, dtype=np.uint8)
    cap = producer.capsule(arr, dtype=(2, 8))      # float8: no ember dtype
    with pytest.raises(TypeError, match="unsupported DLPack dtype"):
        ember.from_dlpack(cap)
    assert capsule_name(cap) == "dltensor_versioned"
    cuda = producer.capsule(np.arange(3.), device=(2, 0))
    if not ember.cuda.is_available():     # the cuda backend refuses before consuming it
        with pytest.raises(RuntimeError, match="CuPy|no CUDA GPU"):
            ember.from_dlpack(cuda)
        assert capsule_name(cuda) == "dltensor_versioned"
    # pinned host memory is reachable from the CPU
    pinned = ember.from_dlpack(producer.capsule(np.arange(3.), device=(3, 0)))
    assert pinned.device == ember.device("cpu")
    del cap, cuda, pinned
    collect()
    assert producer.deleted == 3 and producer.alive == 0


def test_non_cpu_producer_is_not_asked_for_a_capsule():
    class CudaProducer:
        called = False

        def __dlpack__(self, **kwargs):
            CudaProducer.called = True
            raise AssertionError("must not be called")

        def __dlpack_device__(self):
            return (2, 0)

    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="CuPy|no CUDA GPU"):
            ember.from_dlpack(CudaProducer())
        assert not CudaProducer.called
    with pytest.raises(RuntimeError, match="move it there first"):
        ember.from_dlpack(np.ones(2), device="cuda")


def test_device_cpu_asks_producer_for_cpu_copy():
    seen = {}

    class GpuishProducer:  # pretends to live on a GPU and honours dl_device
        def __dlpack__(self, **kwargs):
            seen.update(kwargs)
            return np.arange(3.).__dlpack__(max_version=kwargs["max_version"])

        def __dlpack_device__(self):
            return (2, 0)

    t = ember.from_dlpack(GpuishProducer(), device="cpu")
    assert t.tolist() == [0., 1., 2.]
    assert seen["dl_device"] == (1, 0) and seen["max_version"] == (1, 0)


def test_legacy_producer_fallback():
    arr = np.arange(4.)

    class OldProducer:  # a pre-1.0 producer: no max_version, dl_device or copy
        def __dlpack__(self, stream=None):
            return arr.__dlpack__()

        def __dlpack_device__(self):
            return (1, 0)

    t = ember.from_dlpack(OldProducer())
    t[0] = 3
    assert arr[0] == 3


def test_from_dlpack_errors():
    with pytest.raises(TypeError, match="__dlpack__"):
        ember.from_dlpack([1, 2])
    other = _api.PyCapsule_New(ctypes.addressof(ctypes.c_int(0)), b"not_dlpack", None)
    with pytest.raises(TypeError, match="not_dlpack"):
        ember.from_dlpack(other)


def test_from_dlpack_copy_true():
    arr = np.arange(3.)
    t = ember.from_dlpack(arr, copy=True)
    t[0] = 9
    assert arr[0] == 0
    producer = ForeignProducer()
    c = ember.from_dlpack(producer.capsule(arr), copy=True)
    collect()
    assert producer.deleted == 1  # the borrowed view is gone, the copy stays
    assert c.tolist() == [0., 1., 2.]


def test_asarray_and_tensor_use_dlpack():
    src = torch.arange(4.)
    shared = ember.asarray(src)
    shared[0] = 10
    assert src[0].item() == 10
    copied = ember.tensor(src)
    copied[1] = -1
    assert src[1].item() == 1
    wide = np.arange(3, dtype=np.uint32)
    assert np.shares_memory(np.asarray(ember.asarray(wide)), wide)


# ---------------------------------------------------------------- round trips

NUMPY_DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
                ember.float16, ember.float32, ember.float64, ember.complex64, ember.complex128]
TORCH_DTYPES = NUMPY_DTYPES + [ember.bfloat16]


def _layouts(base):
    """(name, view) pairs over a 3x4 tensor: dense, strided, expanded, 0-d and empty."""
    return [
        ("contiguous", base),
        ("transposed", base.T),
        ("step", base[::2, 1::2]),
        ("expanded", base[0].expand(2, 4)),
        ("zero-dim", base[1, 2]),
        ("empty", base[:, 4:]),
        ("negative", base[::-1, ::-2]),
    ]


def _ember_values(t):
    return np.asarray(t.view(ember.int16)) if t.dtype == ember.bfloat16 else np.asarray(t)


def _one_of(dt):
    return True if dt == ember.bool else 1


@pytest.mark.parametrize("dt", NUMPY_DTYPES, ids=str)
def test_numpy_consumes_ember_zero_copy(dt):
    base = (ember.arange(12).reshape(3, 4) % 5).to(dt)
    for name, t in _layouts(base):
        copy = False if name == "negative" else None  # see the __dlpack__ notes
        a = np.from_dlpack(t, copy=copy)
        np.testing.assert_array_equal(a, np.asarray(t), err_msg=name)
        assert a.strides == np.asarray(t).strides, name
        if t.numel() and name != "expanded":
            a[(0,) * a.ndim] = _one_of(dt)
            assert t[(0,) * t.dim()].item() == _one_of(dt), name


@pytest.mark.parametrize("dt", NUMPY_DTYPES, ids=str)
def test_ember_consumes_numpy_zero_copy(dt):
    npdt = dt.numpy_dtype
    base = (np.arange(12).reshape(3, 4) % 5).astype(npdt)
    views = [base, base.T, base[::2, 1::2], np.broadcast_to(base[0], (2, 4)), base[1, 2, ...],
             base[:, 4:], base[::-1, ::-2]]
    for a in views:
        t = ember.from_dlpack(a)
        assert t.dtype == dt and t.shape == a.shape
        assert t.stride() == tuple(s // a.itemsize for s in a.strides)
        np.testing.assert_array_equal(np.asarray(t), a)
        if a.size and a.flags.writeable:
            t[(0,) * t.dim()] = _one_of(dt)
            assert a[(0,) * a.ndim] == _one_of(dt)


@pytest.mark.parametrize("dt", TORCH_DTYPES, ids=str)
def test_torch_consumes_ember(dt):
    base = (ember.arange(12).reshape(3, 4) % 5).to(dt)
    for name, t in _layouts(base):
        out = torch.from_dlpack(t)
        assert str(out.dtype) == "torch." + dt.name and tuple(out.shape) == tuple(t.shape)
        np.testing.assert_array_equal(out.view(torch.int16).numpy() if dt == ember.bfloat16
                                      else out.numpy(), _ember_values(t), err_msg=name)
        if name == "negative":
            # torch cannot hold negative strides: ember hands it a copy
            out.zero_()
            assert _ember_values(t).any()
            continue
        if name not in ("empty", "zero-dim"):
            assert out.stride() == t.stride(), name
        if t.numel() and name != "expanded":
            out[(0,) * out.dim()] = _one_of(dt)
            assert t[(0,) * t.dim()].item() == _one_of(dt), name


@pytest.mark.parametrize("dt", TORCH_DTYPES, ids=str)
def test_ember_consumes_torch(dt):
    tdt = getattr(torch, dt.name)
    base = (torch.arange(12).reshape(3, 4) % 5).to(tdt)
    views = [base, base.T, base[::2, 1::2], base[0].expand(2, 4), base[1, 2], base[:, 4:],
             base.permute(1, 0)[1:]]
    for v in views:
        t = ember.from_dlpack(v)
        assert t.dtype == dt and tuple(t.shape) == tuple(v.shape)
        if v.numel():
            assert t.data_ptr() == v.data_ptr()
        assert t.tolist() == v.tolist()
        if v.numel() and 0 not in v.stride():
            t[(0,) * t.dim()] = _one_of(dt)
            assert v[(0,) * v.dim()].item() == _one_of(dt)


def test_torch_round_trip_keeps_memory():
    t = ember.arange(6.).reshape(2, 3)
    back = ember.from_dlpack(torch.from_dlpack(t.T))
    assert back.data_ptr() == t.data_ptr() and back.stride() == (1, 3)
    back[2, 1] = 42
    assert t[1, 2].item() == 42


def test_negative_strides_policy():
    t = ember.arange(6.)[::-1]
    # default: a flagged copy that every consumer can hold
    cap = t.__dlpack__(max_version=(1, 0))
    assert managed_versioned(cap).flags == IS_COPIED
    assert managed_versioned(cap).dl_tensor.strides[0] == 1
    # copy=False: shared with its negative stride
    shared = managed_versioned(t.__dlpack__(max_version=(1, 0), copy=False))
    assert shared.flags == 0 and shared.dl_tensor.strides[0] == -1
    a = np.from_dlpack(t, copy=False)
    assert a.strides == (-4,)  # float32
    a[0] = 50
    assert t[0].item() == 50
    # size-1 dimensions never need a copy, whatever their stride
    one = ember.arange(3.)[2:][::-1]
    assert managed_versioned(one.__dlpack__(max_version=(1, 0))).flags == 0


def test_lifetime_across_libraries():
    t = ember.from_dlpack(torch.arange(5.))
    collect()
    assert t.tolist() == [0., 1., 2., 3., 4.]
    out = torch.from_dlpack(ember.arange(4.) * 2)
    collect()
    assert out.tolist() == [0., 2., 4., 6.]
    a = np.from_dlpack(ember.from_dlpack(np.arange(3.) + 1))
    collect()
    assert a.tolist() == [1., 2., 3.]


def test_many_dimensions():
    a = np.arange(2 ** 8, dtype=np.float32).reshape((2,) * 8).transpose(7, 6, 5, 4, 3, 2, 1, 0)
    t = ember.from_dlpack(a)
    assert t.stride() == tuple(s // 4 for s in a.strides)
    back = np.from_dlpack(t)
    assert np.shares_memory(back, a) and back.strides == a.strides
    np.testing.assert_array_equal(back, a)
    deep = ember.from_dlpack(np.zeros((1,) * 64))
    assert deep.dim() == 64 and np.from_dlpack(deep).ndim == 64


def test_top_level_to_dlpack_as_torch():
    # torch.to_dlpack is torch.utils.dlpack.to_dlpack; a capsule is consumed once
    x = ember.arange(6.0).reshape(2, 3)[:, ::2]
    capsule = ember.to_dlpack(x)
    assert ember.to_dlpack is ember.utils.dlpack.to_dlpack
    t = torch.from_dlpack(capsule)
    np.testing.assert_array_equal(t.numpy(), x.numpy())
    t[0, 0] = 42.0                                       # shared memory
    assert x[0, 0].item() == 42.0
    with pytest.raises((RuntimeError, ValueError)):
        torch.from_dlpack(capsule)
