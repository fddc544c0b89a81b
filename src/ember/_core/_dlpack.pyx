"""DLPack 1.0 interchange: ``Tensor.__dlpack__``, ``Tensor.__dlpack_device__`` and ``from_dlpack``.

Export hands the consumer a PyCapsule holding a ``DLManagedTensorVersioned``
(``"dltensor_versioned"``, when the consumer passes ``max_version >= (1, 0)``)
or a legacy ``DLManagedTensor`` (``"dltensor"``).  The managed tensor holds a
reference to the exported ember tensor, so its storage lives until the consumer
calls the deleter.  Import renames the capsule to ``"used_dltensor[_versioned]"``,
takes ownership, and calls the producer's deleter exactly once, when the ember
storage viewing the memory dies.

Views with negative strides are exported as copies unless the consumer asks
for ``copy=False`` (PyTorch cannot hold them; see ``__dlpack__``).

Also here, with the other interchange: ``contiguous_cpu_nbytes``, the test deciding
that ember.distributed's all_reduce may hand a tensor to MPI through the buffer protocol.
"""
cimport cython
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.pycapsule cimport (
    PyCapsule_New, PyCapsule_IsValid, PyCapsule_GetPointer, PyCapsule_SetName,
    PyCapsule_GetName, PyCapsule_CheckExact,
)
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free

import operator

from ember._core._dtype cimport em_itemsize, EM_NTYPES
from ember._core._tensor cimport (
    Tensor, new_tensor, copy_into, set_dims, borrow_storage, EM_MAX_DIMS, DEV_CPU, DEV_CUDA,
    DEV_META,
)
from ember._core._tensor cimport device as em_device
from ember._core._tensor import _add_method, backend

cdef extern from "Python.h":
    int Py_IsInitialized() nogil
    Py_ssize_t PY_SSIZE_T_MAX

cdef extern from "ember/dlpack.h":
    enum:
        DLPACK_MAJOR_VERSION
        DLPACK_MINOR_VERSION
    uint64_t DLPACK_FLAG_BITMASK_READ_ONLY
    uint64_t DLPACK_FLAG_BITMASK_IS_COPIED

    ctypedef enum DLDeviceType:
        kDLCPU
        kDLCUDA
        kDLCUDAHost
        kDLROCMHost
        kDLCUDAManaged
    ctypedef enum DLDataTypeCode:
        kDLInt
        kDLUInt
        kDLFloat
        kDLBfloat
        kDLComplex
        kDLBool

    ctypedef struct DLPackVersion:
        uint32_t major
        uint32_t minor
    ctypedef struct DLDevice:
        DLDeviceType device_type
        int32_t device_id
    ctypedef struct DLDataType:
        uint8_t code
        uint8_t bits
        uint16_t lanes
    ctypedef struct DLTensor:
        void *data
        DLDevice device
        int32_t ndim
        DLDataType dtype
        int64_t *shape
        int64_t *strides
        uint64_t byte_offset
    ctypedef struct DLManagedTensor:
        DLTensor dl_tensor
        void *manager_ctx
        void (*deleter)(DLManagedTensor *self) noexcept nogil
    ctypedef struct DLManagedTensorVersioned:
        DLPackVersion version
        void *manager_ctx
        void (*deleter)(DLManagedTensorVersioned *self) noexcept nogil
        uint64_t flags
        DLTensor dl_tensor


cdef em_device _CPU = em_device("cpu")

# DLPack (type code, bits) of each ember dtype, indexed by em_dtype number
cdef uint8_t[15] _DL_CODE = [kDLBool, kDLUInt, kDLInt, kDLInt, kDLInt, kDLInt, kDLFloat,
                             kDLBfloat, kDLFloat, kDLFloat, kDLComplex, kDLComplex,
                             kDLUInt, kDLUInt, kDLUInt]
cdef uint8_t[15] _DL_BITS = [8, 8, 8, 16, 32, 64, 16, 16, 32, 64, 64, 128, 16, 32, 64]

_DEVICE_NAMES = {1: "CPU", 2: "CUDA", 3: "CUDAHost", 4: "OpenCL", 7: "Vulkan", 8: "Metal",
                 9: "VPI", 10: "ROCM", 11: "ROCMHost", 12: "ExtDev", 13: "CUDAManaged",
                 14: "OneAPI", 15: "WebGPU", 16: "Hexagon", 17: "MAIA"}
_CODE_NAMES = {0: "int", 1: "uint", 2: "float", 3: "opaque handle", 4: "bfloat", 5: "complex",
               6: "bool"}


# ---------------------------------------------------------------- export

cdef void _release_manager_ctx(void *ctx) noexcept with gil:
    Py_XDECREF(<PyObject *>ctx)


# The deleters may run on any thread, with or without the GIL: they take it
# only to drop the tensor reference.  Once the interpreter is finalised the
# reference is leaked rather than touched.
cdef void _delete_versioned(DLManagedTensorVersioned *self) noexcept nogil:
    if self == NULL:
        return
    if Py_IsInitialized():
        _release_manager_ctx(self.manager_ctx)
    free(self)


cdef void _delete_legacy(DLManagedTensor *self) noexcept nogil:
    if self == NULL:
        return
    if Py_IsInitialized():
        _release_manager_ctx(self.manager_ctx)
    free(self)


# A capsule that no consumer renamed still owns its managed tensor.
cdef void _destroy_versioned_capsule(object capsule) noexcept:
    cdef DLManagedTensorVersioned *managed
    if PyCapsule_IsValid(capsule, b"dltensor_versioned"):
        managed = <DLManagedTensorVersioned *>PyCapsule_GetPointer(capsule, b"dltensor_versioned")
        if managed.deleter != NULL:
            managed.deleter(managed)


cdef void _destroy_legacy_capsule(object capsule) noexcept:
    cdef DLManagedTensor *managed
    if PyCapsule_IsValid(capsule, b"dltensor"):
        managed = <DLManagedTensor *>PyCapsule_GetPointer(capsule, b"dltensor")
        if managed.deleter != NULL:
            managed.deleter(managed)


cdef bint _has_negative_strides(Tensor t) noexcept:
    cdef int d
    if t._numel == 0:
        return False
    for d in range(t._ndim):
        if t._shape[d] > 1 and t._strides[d] < 0:
            return True
    return False


cdef int _cuda_index(Tensor t):
    return 0 if t._storage.device.index is None else t._storage.device.index


cdef Tensor _contiguous_copy(Tensor t):
    cdef Tensor out = new_tensor(t._ndim, t._shape, t._dtype, t._storage.device)
    copy_into(out, t)
    return out


cdef object _make_capsule(Tensor t, bint versioned, uint64_t flags):
    """Wrap `t` in a new capsule; the managed tensor holds one reference to `t`."""
    cdef int nd = t._ndim, d
    cdef size_t head = sizeof(DLManagedTensorVersioned) if versioned else sizeof(DLManagedTensor)
    # the header, then shape and strides, in one block that the deleter frees
    cdef char *block = <char *>malloc(head + 2 * nd * sizeof(int64_t))
    cdef DLManagedTensorVersioned *managed_v = <DLManagedTensorVersioned *>block
    cdef DLManagedTensor *managed = <DLManagedTensor *>block
    cdef DLTensor *dl
    if block == NULL:
        raise MemoryError("__dlpack__: out of memory for the DLPack tensor descriptor")
    if versioned:
        managed_v.version.major = DLPACK_MAJOR_VERSION
        managed_v.version.minor = DLPACK_MINOR_VERSION
        managed_v.manager_ctx = <void *>t
        managed_v.deleter = _delete_versioned
        managed_v.flags = flags
        dl = &managed_v.dl_tensor
    else:
        managed.manager_ctx = <void *>t
        managed.deleter = _delete_legacy
        dl = &managed.dl_tensor
    if t._storage.device.type_num == DEV_CUDA:
        dl.data = t.address()
        dl.device.device_type = kDLCUDA
        dl.device.device_id = _cuda_index(t)
    else:
        dl.data = t.ptr()
        dl.device.device_type = kDLCPU
        dl.device.device_id = 0
    dl.byte_offset = 0
    dl.ndim = nd
    dl.dtype.code = _DL_CODE[t._dtype]
    dl.dtype.bits = _DL_BITS[t._dtype]
    dl.dtype.lanes = 1
    dl.shape = <int64_t *>(block + head)
    dl.strides = dl.shape + nd
    for d in range(nd):
        dl.shape[d] = t._shape[d]
        dl.strides[d] = t._strides[d]
    try:
        if versioned:
            capsule = PyCapsule_New(block, b"dltensor_versioned", _destroy_versioned_capsule)
        else:
            capsule = PyCapsule_New(block, b"dltensor", _destroy_legacy_capsule)
    except BaseException:
        free(block)
        raise
    Py_INCREF(t)
    return capsule


cdef tuple _parse_max_version(object max_version):
    if max_version is None:
        return None
    if not isinstance(max_version, (tuple, list)) or len(max_version) != 2:
        raise TypeError(f"__dlpack__: max_version must be None or a (major, minor) tuple, "
                        f"got {max_version!r}")
    try:
        return (operator.index(max_version[0]), operator.index(max_version[1]))
    except TypeError:
        raise TypeError(f"__dlpack__: max_version must hold two integers, "
                        f"got {max_version!r}") from None


cdef tuple _parse_dl_device(object dl_device):
    if not isinstance(dl_device, (tuple, list)) or len(dl_device) != 2:
        raise TypeError(f"__dlpack__: dl_device must be None or a (device_type, device_id) "
                        f"tuple, got {dl_device!r}")
    try:
        return (operator.index(dl_device[0]), operator.index(dl_device[1]))
    except TypeError:
        raise TypeError(f"__dlpack__: dl_device must hold two integers, "
                        f"got {dl_device!r}") from None


def __dlpack__(Tensor self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Export the tensor as a DLPack capsule (the Python array-interchange protocol).

    Called by consumers such as ``numpy.from_dlpack`` and ``torch.from_dlpack``;
    the memory is shared, not copied, unless noted below.

    Parameters
    ----------
    stream : None
        Must be None for a CPU tensor.
    max_version : tuple of int, optional
        The highest DLPack version the consumer understands.  ``(1, 0)`` or
        newer gives a ``"dltensor_versioned"`` capsule (carrying the read-only
        and is-copied flags); None or older gives a legacy ``"dltensor"`` one.
    dl_device : tuple of int, optional
        The ``(device_type, device_id)`` the consumer wants the data on; only
        the tensor's own device (``(1, 0)`` for the CPU) is supported.
    copy : bool, optional
        True: export a new copy.  False: never copy, raise ``BufferError`` if
        sharing is impossible.  None (default): share when that is safe.

    Returns
    -------
    PyCapsule
        The capsule; a consumer may use it once.

    Raises
    ------
    BufferError
        For an unsupported ``dl_device``, for a tensor that requires grad,
        or when a copy is needed and ``copy=False``.
    ValueError
        For a ``stream`` other than None on the CPU.
    TypeError
        For a malformed ``max_version`` or ``dl_device``.

    Notes
    -----
    Strides are exported in elements, zero strides (expanded views) included,
    and the data pointer addresses the first element (``byte_offset`` is 0).

    With ``copy=None`` a view with negative strides, such as ``t[::-1]``, is
    exported as a contiguous copy, flagged ``IS_COPIED``: DLPack can express
    negative strides, but PyTorch 2.13 aborts the whole process on them (for
    NumPy's arrays too).  Pass
    ``copy=False`` to share such a view with a consumer that supports
    negative strides, as NumPy does, or use ``numpy.asarray(t)``, which never
    copies.

    A legacy capsule cannot say that memory is read-only, so a tensor viewing
    read-only memory is exported to a legacy consumer as a copy (``copy=None``)
    or refused (``copy=False``).
    """
    cdef tuple version = _parse_max_version(max_version)
    cdef bint versioned = version is not None and version[0] >= 1
    cdef Tensor t = self
    cdef bint copied = False
    cdef int dev_type = self._storage.device.type_num
    if self._requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and dev_type == DEV_CPU:
        raise ValueError(f"__dlpack__: stream must be None for a tensor on the CPU, got {stream!r}")
    if dl_device is not None:
        target = _parse_dl_device(dl_device)
        if dev_type == DEV_CUDA and target == (kDLCUDA, _cuda_index(self)):
            pass
        elif target != (kDLCPU, 0):
            raise BufferError(f"__dlpack__: unsupported device requested: {target} "
                              f"(ember exports to the CPU, (1, 0), or where the tensor is)")
        elif dev_type != DEV_CPU:
            if copy is False:
                raise BufferError(f"__dlpack__: moving a tensor on {self._storage.device} to the "
                                  f"CPU needs a copy, but copy=False")
            t = self.cpu()
            copied = True
    if t._storage.device.type_num == DEV_CUDA:
        # the consumer's stream waits for the work queued on ours (None: the legacy
        # default stream, as the DLPack standard says)
        backend("cuda").dlpack_export_sync(t, stream)
    elif t._storage.device.type_num != DEV_CPU:
        raise BufferError(f"__dlpack__: exporting a tensor on {t._storage.device} is not "
                          f"supported yet; pass dl_device=(1, 0) to export a CPU copy")
    if copy and not copied:
        t = _contiguous_copy(t)
        copied = True
    elif not copied and _has_negative_strides(t) and copy is None:
        t = _contiguous_copy(t)
        copied = True
    if t._storage.readonly_mem and not versioned and not copied:
        if copy is False:
            raise BufferError("__dlpack__: the tensor views read-only memory, which a legacy "
                              "capsule cannot signal; ask for max_version=(1, 0) or allow a copy")
        t = _contiguous_copy(t)
        copied = True
    cdef uint64_t flags = 0
    if copied:
        flags |= DLPACK_FLAG_BITMASK_IS_COPIED
    elif t._storage.readonly_mem:
        flags |= DLPACK_FLAG_BITMASK_READ_ONLY
    return _make_capsule(t, versioned, flags)


def __dlpack_device__(Tensor self):
    """The DLPack ``(device_type, device_id)`` of the tensor's memory: ``(1, 0)`` on the CPU."""
    cdef em_device dev = self._storage.device
    if dev.type_num == DEV_CPU:
        return (kDLCPU, 0)
    if dev.type_num == DEV_META:
        raise ValueError("Unknown device type meta for Dlpack")
    return (dev.type_num, 0 if dev.index is None else dev.index)


_add_method("__dlpack__", __dlpack__)
_add_method("__dlpack_device__", __dlpack_device__)


# ---------------------------------------------------------------- import

@cython.final
cdef class _DLPackOwner:
    """Owns a consumed DLPack tensor; its deleter runs when the ember storage dies."""
    cdef void *managed
    cdef bint versioned
    cdef uint64_t flags

    def __dealloc__(self):
        cdef DLManagedTensorVersioned *managed_v = <DLManagedTensorVersioned *>self.managed
        cdef DLManagedTensor *managed = <DLManagedTensor *>self.managed
        self.managed = NULL
        if managed == NULL:
            return
        if self.versioned:
            if managed_v.deleter != NULL:
                managed_v.deleter(managed_v)
        elif managed.deleter != NULL:
            managed.deleter(managed)


cdef int _dtype_from_dl(DLDataType dt) except -1:
    cdef int num
    if dt.lanes == 1:
        for num in range(<int>EM_NTYPES):
            if _DL_CODE[num] == dt.code and _DL_BITS[num] == dt.bits:
                return num
    raise TypeError(f"from_dlpack: unsupported DLPack dtype "
                    f"({_CODE_NAMES.get(dt.code, dt.code)}, bits={dt.bits}, lanes={dt.lanes}); "
                    f"ember supports bool, uint8-uint64, int8-int64, float16, bfloat16, "
                    f"float32, float64, complex64 and complex128")


cdef bint _host_accessible(int device_type) noexcept:
    return (device_type == kDLCPU or device_type == kDLCUDAHost or device_type == kDLROCMHost
            or device_type == kDLCUDAManaged)


cdef str _device_name(int device_type, int device_id):
    return f"{_DEVICE_NAMES.get(device_type, 'unknown')} (DLPack device type {device_type}, id {device_id})"


cdef Tensor _tensor_from_capsule(object capsule):
    """Consume a DLPack capsule: a tensor viewing its memory, owning its deleter."""
    cdef DLManagedTensorVersioned *managed_v = NULL
    cdef DLManagedTensor *managed = NULL
    cdef DLTensor *dl
    cdef uint64_t flags = 0
    cdef bint versioned
    if PyCapsule_IsValid(capsule, b"dltensor_versioned"):
        versioned = True
        managed_v = <DLManagedTensorVersioned *>PyCapsule_GetPointer(capsule, b"dltensor_versioned")
        if managed_v.version.major > DLPACK_MAJOR_VERSION:
            raise BufferError(f"from_dlpack: the capsule holds DLPack "
                              f"{managed_v.version.major}.{managed_v.version.minor}; ember "
                              f"understands major version {DLPACK_MAJOR_VERSION} only")
        dl = &managed_v.dl_tensor
        flags = managed_v.flags
    elif PyCapsule_IsValid(capsule, b"dltensor"):
        versioned = False
        managed = <DLManagedTensor *>PyCapsule_GetPointer(capsule, b"dltensor")
        dl = &managed.dl_tensor
    else:
        name = PyCapsule_GetName(capsule)
        shown = "<unnamed>" if name == NULL else (<bytes>name).decode("utf-8", "replace")
        if shown.startswith("used_dltensor"):
            raise RuntimeError("from_dlpack received a capsule that was already consumed: a "
                               "DLPack capsule can be consumed only once")
        raise TypeError(f"from_dlpack: expected a capsule named 'dltensor' or "
                        f"'dltensor_versioned', got one named {shown!r}")

    # validate everything before taking ownership: on error the capsule stays
    # valid and its own destructor frees it
    cdef int dev_type = dl.device.device_type
    cdef em_device dev = _CPU
    if dev_type == kDLCUDA:
        dev = em_device("cuda", dl.device.device_id)
        backend("cuda").check_device(dev)     # RuntimeError without CuPy or that GPU
    elif not _host_accessible(dev_type):
        raise RuntimeError(f"from_dlpack: tensors on {_device_name(dev_type, dl.device.device_id)} "
                           f"are not supported yet: ember has no backend for that device in this "
                           f"build; copy the tensor to the CPU first")
    cdef int dt = _dtype_from_dl(dl.dtype)
    cdef int nd = dl.ndim, d
    if nd < 0 or nd > EM_MAX_DIMS:
        raise RuntimeError(f"from_dlpack: ember supports 0 to {EM_MAX_DIMS} dimensions, got {nd}")
    if nd > 0 and dl.shape == NULL:
        raise BufferError("from_dlpack: the DLPack tensor has no shape")
    cdef Py_ssize_t isz = em_itemsize[dt]
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t lo = 0, hi = 0, acc = 1, step
    cdef bint empty = False
    for d in range(nd - 1, -1, -1):
        if dl.shape[d] < 0:
            raise BufferError(f"from_dlpack: negative size {dl.shape[d]} in dimension {d}")
        shape[d] = <Py_ssize_t>dl.shape[d]
        strides[d] = acc if dl.strides == NULL else <Py_ssize_t>dl.strides[d]
        acc *= shape[d] if shape[d] > 0 else 1
        empty = empty or shape[d] == 0
    if not empty:
        for d in range(nd):
            if shape[d] > 1:
                if strides[d] > PY_SSIZE_T_MAX // isz // (shape[d] - 1) or \
                        -strides[d] > PY_SSIZE_T_MAX // isz // (shape[d] - 1):
                    raise BufferError(f"from_dlpack: stride {strides[d]} of dimension {d} "
                                      f"overflows the address space")
                step = strides[d] * isz * (shape[d] - 1)
                if step > 0:
                    hi += step
                else:
                    lo += step
        if dl.data == NULL:
            raise BufferError("from_dlpack: the DLPack tensor has a null data pointer")
    cdef char *first = <char *>dl.data + dl.byte_offset
    cdef bint readonly = (flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0

    # take ownership: rename first, so that the capsule never frees what the owner holds
    cdef _DLPackOwner owner = _DLPackOwner.__new__(_DLPackOwner)
    PyCapsule_SetName(capsule, b"used_dltensor_versioned" if versioned else b"used_dltensor")
    owner.versioned = versioned
    owner.flags = flags
    owner.managed = <void *>managed_v if versioned else <void *>managed

    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, nd, shape, strides)
    t._dtype = dt
    if empty:
        t._storage = borrow_storage(first, 0, owner, readonly, dev)
    else:
        t._storage = borrow_storage(first + lo, hi - lo + isz, owner, readonly, dev)
        t._offset = (-lo) // isz
    return t


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing memory with any object implementing the DLPack protocol.

    Accepts objects with ``__dlpack__`` and ``__dlpack_device__`` (NumPy
    arrays, PyTorch tensors, ember tensors, ...) and raw DLPack capsules of
    either kind (``"dltensor_versioned"`` or legacy ``"dltensor"``).  The memory
    is shared: writes through either side are visible to the other, and the
    producer's memory stays alive as long as the ember storage viewing it.
    Memory the producer marks read-only stays read-only: in-place writes raise.

    Parameters
    ----------
    ext_tensor : object
        An object with ``__dlpack__``, or a DLPack capsule (which is consumed).
    device : ember.device or str, optional
        The device the result must be on: the CPU (the producer is asked to move
        its data there if it lives elsewhere) or the cuda device the producer's
        tensor is on (shared, after the producer's pending work on its stream).
    copy : bool, optional
        True: the result owns a copy.  False: the producer must share its
        memory (it raises ``BufferError`` otherwise).  None: share when possible.

    Returns
    -------
    Tensor

    Raises
    ------
    BufferError
        When the producer cannot export as asked, or the capsule holds a DLPack
        major version newer than 1.
    RuntimeError
        For memory on a device ember cannot reach yet, or a capsule that was
        already consumed.
    TypeError
        For an object without the protocol, or an unsupported element type.

    Examples
    --------
    >>> import numpy as np, ember
    >>> a = np.arange(4.0)
    >>> t = ember.from_dlpack(a)
    >>> t[0] = 10
    >>> a
    array([10.,  1.,  2.,  3.])
    """
    cdef em_device target = None
    cdef Tensor t
    if device is not None:
        target = em_device(device)
        if target.type_num != DEV_CPU and target.type_num != DEV_CUDA:
            raise RuntimeError(f"from_dlpack: device={target} is not supported yet: ember "
                               f"imports DLPack tensors to the CPU or a cuda device")
    if PyCapsule_CheckExact(ext_tensor):
        t = _tensor_from_capsule(ext_tensor)
        return _contiguous_copy(t) if copy else t
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object implementing __dlpack__ or a DLPack "
                        f"capsule, got {type(ext_tensor).__name__}")
    kwargs = {"max_version": (DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION)}
    if hasattr(ext_tensor, "__dlpack_device__"):
        dev_type, dev_id = ext_tensor.__dlpack_device__()
        if dev_type == kDLCUDA and (target is None or target.type_num == DEV_CUDA):
            if target is not None and target.index is not None and target.index != dev_id:
                raise RuntimeError(f"from_dlpack: the tensor is on cuda:{dev_id}, not {target}")
            # the producer orders its work before our current stream's
            kwargs["stream"] = backend("cuda").dlpack_consumer_stream(dev_id)
        elif target is not None and target.type_num == DEV_CUDA:
            raise RuntimeError(f"from_dlpack: device={target} needs the producer's tensor on "
                               f"that device; move it there first")
        elif target is not None and not _host_accessible(dev_type):
            kwargs["dl_device"] = (kDLCPU, 0)
        elif not _host_accessible(dev_type):
            raise RuntimeError(f"from_dlpack: tensors on {_device_name(dev_type, dev_id)} are not "
                               f"supported yet: ember has no backend for that device in this "
                               f"build; pass device='cpu' to ask the producer for a CPU copy")
    if copy is not None:
        kwargs["copy"] = copy
    try:
        capsule = ext_tensor.__dlpack__(**kwargs)
    except TypeError:
        # a producer older than DLPack 1.0 does not take max_version
        del kwargs["max_version"]
        capsule = ext_tensor.__dlpack__(**kwargs)
    t = _tensor_from_capsule(capsule)
    # only a versioned capsule can say that the producer honoured copy=True
    if copy and not ((<_DLPackOwner>t._storage.owner).flags & DLPACK_FLAG_BITMASK_IS_COPIED):
        return _contiguous_copy(t)
    return t


# ---------------------------------------------------------------- MPI's buffers

def contiguous_cpu_nbytes(object t, unsigned long long dtype_mask):
    """The size in bytes of ``t`` when it is an ember Tensor (not a subclass), C-contiguous,
    on the CPU, of a dtype whose bit ``1 << number`` is set in ``dtype_mask``; else -1.

    ember.distributed's all_reduce hands such a tensor to MPI as it is, through the buffer
    protocol: one call here instead of four attribute lookups on its fast path."""
    cdef Tensor x
    if type(t) is not Tensor:
        return -1
    x = <Tensor>t
    if (x._storage.device.type_num != DEV_CPU or x._dtype >= 64
            or not (dtype_mask >> x._dtype) & 1 or not x.is_contig()):
        return -1
    return x._numel * em_itemsize[x._dtype]
