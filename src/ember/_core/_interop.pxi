# NumPy and buffer-protocol interop, zero-copy wherever memory allows.
# Included by _tensor.pyx.

# NumPy's inline accessors read the array struct directly (no C-API table to import):
# __array_interface__ builds a dict, most of the cost of from_numpy on a small array
cdef extern from "numpy/ndarraytypes.h":
    ctypedef struct PyArrayObject:
        pass
    char *PyArray_BYTES(PyArrayObject *arr)
    int PyArray_FLAGS(PyArrayObject *arr)
    int NPY_ARRAY_WRITEABLE

_NP_SUPPORTED = {dtype_of(i).numpy_dtype: i for i in range(<int>EM_NTYPES)}
# buffer-protocol formats by dtype number (bfloat16 has none); "=" fixes the sizes of
# the unsigned ones, whose native letters vary by platform
_FORMATS = (b"?", b"B", b"b", b"h", b"i", b"q", b"e", b"", b"f", b"d", b"Zf", b"Zd", b"=H", b"=I",
            b"=Q")


cdef Tensor from_numpy_any(object arr):
    """A tensor sharing the memory of NumPy array `arr` (an ndarray or a subclass), any
    strides (negative too)."""
    npd = arr.dtype
    if not npd.isnative:
        raise ValueError("given numpy array has byte order different from the native byte "
                         "order. Conversion between byte orders is currently not supported.")
    dt = _NP_SUPPORTED.get(npd)
    if dt is None:
        raise TypeError(f"can't convert np.ndarray of type {npd}. The only supported types are: "
                        "float64, float32, float16, bfloat16 (ml_dtypes), complex64, complex128, "
                        "int64, int32, int16, int8, uint64, uint32, uint16, uint8, and bool.")
    cdef int nd = arr.ndim, d
    cdef Py_ssize_t isz = em_itemsize[<int>dt]
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t lo = 0, hi = 0, s
    cdef size_t addr = <size_t>PyArray_BYTES(<PyArrayObject *>arr)
    cdef bint readonly = not (PyArray_FLAGS(<PyArrayObject *>arr) & NPY_ARRAY_WRITEABLE)
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    for d in range(nd):
        shape[d] = arr.shape[d]
        s = arr.strides[d]
        if s % isz:
            raise ValueError(f"given numpy array strides not a multiple of the element byte size "
                             f"({arr.strides} with itemsize {isz}); copy the array first")
        strides[d] = s // isz
        if shape[d] > 1:
            if s > 0:
                hi += s * (shape[d] - 1)
            else:
                lo += s * (shape[d] - 1)
    cdef Py_ssize_t nbytes = hi - lo + isz
    if arr.size == 0:
        lo = nbytes = 0  # an empty array owns no element to view
    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, nd, shape, strides)
    t._dtype = <int>dt
    t._storage = borrow_storage(<char *>(addr + lo), nbytes, arr, readonly, CPU)
    t._offset = (-lo) // isz
    return t


def from_numpy(ndarray):
    """A tensor sharing memory with NumPy array ``ndarray``.

    Writes through either side are seen by the other; the array is kept alive
    while the tensor is.  Any strides are accepted, negative ones included.

    Examples
    --------
    >>> import numpy as np, ember
    >>> a = np.arange(3.0)
    >>> t = ember.from_numpy(a)
    >>> t[0] = 7
    >>> a
    array([7., 1., 2.])
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return from_numpy_any(ndarray)


cdef object to_numpy_view(Tensor t):
    if t._requires_grad & REQUIRES_GRAD:
        # detached: the buffer refuses grad
        t = make_view(t, t._ndim, t._shape, t._strides, t._offset)
    if t._dtype == EM_BFLOAT16:
        return np.asarray(view_dtype(t, dtype_of(EM_INT16))).view(dtype_of(EM_BFLOAT16).numpy_dtype)
    return np.asarray(t)


cdef object _to_numpy_copy(Tensor t):
    return np.array(to_numpy_view(t.cpu_tensor()), copy=True)


cdef int fill_buffer(Tensor t, Py_buffer *buf, int flags) except -1:
    cdef Py_ssize_t *meta
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    cdef int d
    if t._storage.device.type_num != DEV_CPU:
        raise BufferError(f"a tensor on {t._storage.device} has no host buffer; use .cpu() first")
    if t._dtype == EM_BFLOAT16:
        raise BufferError("bfloat16 has no buffer-protocol format; Tensor.numpy() returns an "
                          "ml_dtypes.bfloat16 array")
    if t._requires_grad & REQUIRES_GRAD:
        raise BufferError("Can't export the buffer of a Tensor that requires grad. "
                          "Use tensor.detach() first.")
    if (flags & PyBUF_WRITABLE) and t._storage.readonly_mem:
        raise BufferError("the tensor views read-only memory")
    meta = <Py_ssize_t *>PyMem_Malloc((2 * t._ndim + 1) * sizeof(Py_ssize_t))
    if meta == NULL:
        raise MemoryError()
    for d in range(t._ndim):
        meta[d] = t._shape[d]
        meta[t._ndim + d] = t._strides[d] * isz
    buf.buf = t.ptr()
    buf.obj = t
    buf.len = t._numel * isz
    buf.itemsize = isz
    buf.readonly = t._storage.readonly_mem
    buf.ndim = t._ndim
    buf.format = <char *>(<bytes>_FORMATS[t._dtype]) if (flags & PyBUF_FORMAT) else NULL
    buf.shape = meta
    buf.strides = meta + t._ndim
    buf.suboffsets = NULL
    buf.internal = meta
    if not (flags & PyBUF_STRIDES) and not t.is_contig():
        PyMem_Free(meta)
        buf.obj = None
        raise BufferError("the tensor is not contiguous; the consumer did not ask for strides")
    return 0


cdef object array_interface(Tensor t):
    if t._storage.device.type_num != DEV_CPU:
        raise AttributeError("__array_interface__ is only available for CPU tensors")
    if t._dtype == EM_BFLOAT16:
        raise AttributeError("bfloat16 has no array-interface typestr")
    if t._requires_grad & REQUIRES_GRAD:
        raise AttributeError("a Tensor that requires grad has no array interface; use detach()")
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    cdef int d
    return {
        "shape": _shape_tuple(t),
        "typestr": dtype_of(t._dtype).numpy_dtype.str,
        "data": (<size_t>t.ptr(), bool(t._storage.readonly_mem)),
        "strides": None if t.is_contig() else tuple([t._strides[d] * isz for d in range(t._ndim)]),
        "version": 3,
    }
