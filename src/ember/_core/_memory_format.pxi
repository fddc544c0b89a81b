# Memory formats (PyTorch's torch.memory_format): the dimension orders a dense tensor is
# laid out in.  channels_last keeps (N, C, H, W) indexing over NHWC memory, what
# convolutions on images prefer.  Included by _tensor.pyx after _layout.pxi.

@cython.final
cdef class memory_format:
    """A dense tensor's dimension order in memory: ``ember.contiguous_format``,
    ``ember.channels_last``, ``ember.channels_last_3d`` or ``ember.preserve_format``."""
    cdef readonly int code
    cdef readonly str name

    def __init__(self, int code, str name):
        self.code = code
        self.name = name

    def __repr__(self):
        return "ember." + self.name

    def __reduce__(self):
        return self.name


cdef enum:
    FORMAT_PRESERVE = 0
    FORMAT_CONTIGUOUS = 1
    FORMAT_CHANNELS_LAST = 2
    FORMAT_CHANNELS_LAST_3D = 3

preserve_format = memory_format(FORMAT_PRESERVE, "preserve_format")
contiguous_format = memory_format(FORMAT_CONTIGUOUS, "contiguous_format")
channels_last = memory_format(FORMAT_CHANNELS_LAST, "channels_last")
channels_last_3d = memory_format(FORMAT_CHANNELS_LAST_3D, "channels_last_3d")


cdef int format_code(object fmt, str fname) except -1:
    """The code of a ``memory_format=`` argument (None is preserve_format)."""
    if fmt is None:
        return FORMAT_PRESERVE
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{fname}(): argument 'memory_format' must be ember.memory_format, "
                        f"not {type(fmt).__name__}")
    return (<memory_format>fmt).code


@cython.final
cdef class layout:
    """How a tensor's elements are stored (PyTorch's ``torch.layout``): ``ember.strided``
    for every :class:`Tensor` (dense, with a stride per dim), ``ember.sparse_coo`` and
    ``ember.sparse_csr`` for the sparse tensors of :mod:`ember.sparse`."""
    cdef readonly str name

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'ember.layout' instances")

    def __repr__(self):
        return "ember." + self.name

    def __reduce__(self):
        return self.name


cdef layout _new_layout(str name):
    cdef layout obj = layout.__new__(layout)
    obj.name = name
    return obj


strided = _new_layout("strided")
sparse_coo = _new_layout("sparse_coo")
sparse_csr = _new_layout("sparse_csr")


cdef int check_layout(object value, str fname) except -1:
    """Refuse a ``layout=`` argument other than None or ``ember.strided`` (what the
    creation functions make), with PyTorch's message for a value that is not a layout."""
    if value is None or value is strided:
        return 0
    if isinstance(value, layout):
        raise RuntimeError(f"{fname}(): layout={value!r} is not supported: it makes strided "
                           f"tensors (sparse ones come from ember.sparse_coo_tensor, "
                           f"ember.sparse_csr_tensor or Tensor.to_sparse)")
    raise TypeError(f"{fname}(): argument 'layout' must be ember.layout, "
                    f"not {type(value).__name__}")


def _check_layout(value, str fname):
    """:func:`check_layout` for the creation functions outside this module."""
    check_layout(value, fname)


cdef int _format_rank(int code, int ndim) except -1:
    """Check that a channels-last format fits a tensor of `ndim` dims; its rank."""
    cdef int rank = 4 if code == FORMAT_CHANNELS_LAST else 5
    if ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use "
                           f"{'channels_last' if rank == 4 else 'channels_last_3d'} format")
    return rank


cdef void _channels_last_strides(int ndim, const Py_ssize_t *shape,
                                 Py_ssize_t *strides) noexcept:
    """Strides of a channels-last layout: channels innermost, then the spatial dims from
    the last, the batch outermost (plain products of the sizes, as PyTorch computes them)."""
    cdef Py_ssize_t acc = shape[1]
    cdef int d
    strides[1] = 1
    for d in range(ndim - 1, 1, -1):
        strides[d] = acc
        acc *= shape[d]
    strides[0] = acc


cdef bint is_channels_last(Tensor t, int code) noexcept:
    """Whether `t` is laid out in `code`'s channels-last order (size-1 dims skipped)."""
    if t._ndim != (4 if code == FORMAT_CHANNELS_LAST else 5):
        return False
    cdef Py_ssize_t expected = 1
    cdef int k, d
    for k in range(t._ndim):
        d = 1 if k == 0 else (0 if k == t._ndim - 1 else t._ndim - k)
        if t._shape[d] != 1:
            if t._strides[d] != expected:
                return False
            expected *= t._shape[d]
    return True


cdef Tensor new_in_format(int ndim, const Py_ssize_t *shape, int dt, device dev, int code):
    """An uninitialised tensor laid out in a channels-last format (`code` 2 or 3)."""
    cdef Py_ssize_t strides[64]
    _format_rank(code, ndim)
    _channels_last_strides(ndim, shape, strides)
    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, ndim, shape, strides)
    t._storage = new_storage(t._numel * em_itemsize[dt], dev)
    t._dtype = dt
    return t


cdef object copy_in_format(Tensor t, int code):
    """A copy of `t` in memory format `code` (preserve: `t`'s order when it is dense);
    differentiable, through copy_."""
    cdef Tensor out
    if code == FORMAT_PRESERVE:
        out = new_like_layout(t, t._dtype)
    elif code == FORMAT_CONTIGUOUS:
        out = new_tensor(t._ndim, t._shape, t._dtype, t._storage.device)
    else:
        out = new_in_format(t._ndim, t._shape, t._dtype, t._storage.device, code)
    return out.copy_(t)


cdef object in_format(Tensor t, int code):
    """`t` itself when it already has memory format `code`, else a copy in it."""
    if code == FORMAT_PRESERVE:
        return t
    if code == FORMAT_CONTIGUOUS:
        if t.is_contig():
            return t
    else:
        _format_rank(code, t._ndim)
        if is_channels_last(t, code):
            return t
    return copy_in_format(t, code)

