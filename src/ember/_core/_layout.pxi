# Shapes, strides and allocation of tensors: the helpers every op builds on.
# Included by _tensor.pyx.

# ---------------------------------------------------------------- tensor helpers

cdef inline Py_ssize_t _checked_numel(int ndim, const Py_ssize_t *shape) except -1:
    cdef Py_ssize_t n = 1
    cdef int d
    cdef bint zero = False
    for d in range(ndim):
        if shape[d] < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {shape[d]}: "
                               f"{[shape[i] for i in range(ndim)]}")
        if shape[d] == 0:
            zero = True
    if zero:
        return 0
    for d in range(ndim):
        if n > PY_SSIZE_T_MAX // shape[d]:
            raise RuntimeError(f"tensor of shape {[shape[i] for i in range(ndim)]} has too many "
                               f"elements to address")
        n *= shape[d]
    return n


cdef int set_dims(Tensor t, int ndim, const Py_ssize_t *shape, const Py_ssize_t *strides) except -1:
    """Give `t` a shape and strides (contiguous strides when `strides` is NULL)."""
    cdef int d
    cdef Py_ssize_t acc, n = 1, s
    cdef bint zero = False
    if ndim > INLINE_DIMS:
        if ndim > EM_MAX_DIMS:
            raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {ndim}")
        # a bytearray owns the dims of high-rank tensors, so Tensor needs no __dealloc__
        t._dims_owner = bytearray(2 * ndim * sizeof(Py_ssize_t))
        t._shape = <Py_ssize_t *>PyByteArray_AS_STRING(t._dims_owner)
        t._strides = t._shape + ndim
    elif t._dims_owner is not None:
        t._dims_owner = None
        t._shape = t._inline
        t._strides = t._inline + INLINE_DIMS
    for d in range(ndim):
        s = shape[d]
        if s <= 0:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                                   f"{[shape[i] for i in range(ndim)]}")
            zero = True
        elif not zero:
            if n > PY_SSIZE_T_MAX // s:
                raise RuntimeError(f"tensor of shape {[shape[i] for i in range(ndim)]} has too "
                                   f"many elements to address")
            n *= s
        t._shape[d] = s
    t._numel = 0 if zero else n
    t._ndim = ndim
    if strides != NULL:
        for d in range(ndim):
            t._strides[d] = strides[d]
    else:
        acc = 1
        for d in range(ndim - 1, -1, -1):
            t._strides[d] = acc
            acc *= shape[d] if shape[d] > 0 else 1
    return 0


cdef char *not_on_cpu(object t) except NULL:
    cdef Storage s = (<Tensor>t)._storage
    raise NotImplementedError(
        f"this operation is not implemented for device {s.device.type} yet: "
        f"ember's CPU kernels cannot read memory on {s.device}")


cdef Tensor new_tensor(int ndim, const Py_ssize_t *shape, int dtype_num, device dev):
    """A new contiguous tensor with uninitialised memory."""
    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, ndim, shape, NULL)
    cdef Py_ssize_t isz = em_itemsize[dtype_num]
    if t._numel > PY_SSIZE_T_MAX // isz:
        raise RuntimeError(f"tensor of {t._numel} elements of {dtype_of(dtype_num)} is too large")
    t._storage = new_storage(t._numel * isz, dev)
    t._dtype = dtype_num
    return t


cdef Tensor new_contiguous_like(Tensor src, int dtype_num):
    """A new contiguous CPU tensor of `src`'s shape: the small-op fast path (the shape is known valid)."""
    cdef Tensor t = Tensor.__new__(Tensor)
    cdef int nd = src._ndim, d
    cdef Py_ssize_t acc = 1
    if nd > INLINE_DIMS:
        set_dims(t, nd, src._shape, NULL)
    else:
        for d in range(nd - 1, -1, -1):
            t._shape[d] = src._shape[d]
            t._strides[d] = acc
            acc *= src._shape[d] if src._shape[d] > 0 else 1
        t._ndim = nd
        t._numel = src._numel
    t._storage = new_storage(t._numel * em_itemsize[dtype_num], CPU)
    t._dtype = dtype_num
    return t


cdef Tensor new_like_layout(Tensor like, int dtype_num):
    """A new tensor shaped like `like`, with its dimension order when `like` is dense."""
    return new_like_layout_on(like, dtype_num, like._storage.device)


cdef Tensor new_like_layout_on(Tensor like, int dtype_num, device dev):
    """`new_like_layout` on device `dev` (PyTorch's preserve_format across devices)."""
    cdef Py_ssize_t perm[64]
    cdef Py_ssize_t strides[64]
    cdef int nd = like._ndim, i, j
    cdef Py_ssize_t acc, p
    if like.is_contig() or not _dense_permutation(like, perm):
        return new_tensor(nd, like._shape, dtype_num, dev)
    # perm lists dims from innermost to outermost
    acc = 1
    for i in range(nd):
        p = perm[i]
        strides[p] = acc
        acc *= like._shape[p]
    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, nd, like._shape, strides)
    t._storage = new_storage(t._numel * em_itemsize[dtype_num], dev)
    t._dtype = dtype_num
    return t


cdef bint _dense_permutation(Tensor t, Py_ssize_t *perm) noexcept:
    """Whether `t` is a permutation of a contiguous layout; fills `perm`, innermost first."""
    cdef int nd = t._ndim, i, j
    cdef Py_ssize_t key, expected
    if t._numel == 0:
        return False
    for i in range(nd):
        if t._strides[i] < 0:
            return False
        perm[i] = i
    # insertion sort by stride, ties (size-1 dims) keep the later dim inside
    for i in range(1, nd):
        key = perm[i]
        j = i - 1
        while j >= 0 and (t._strides[perm[j]] > t._strides[key] or
                          (t._strides[perm[j]] == t._strides[key] and perm[j] < key)):
            perm[j + 1] = perm[j]
            j -= 1
        perm[j + 1] = key
    expected = 1
    for i in range(nd):
        if t._shape[perm[i]] == 1:
            continue
        if t._strides[perm[i]] != expected:
            return False
        expected *= t._shape[perm[i]]
    return True


cdef Tensor storage_base(Tensor t):
    """The tensor that ``t`` is a view of (None for a tensor that is not a view)."""
    return t._view_base


cdef Tensor make_view(Tensor base, int ndim, const Py_ssize_t *shape, const Py_ssize_t *strides,
                      Py_ssize_t offset):
    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, ndim, shape, strides)
    t._storage = base._storage
    t._offset = offset
    t._dtype = base._dtype
    t._view_base = base if base._view_base is None else base._view_base
    t._version_counter = base._version_counter
    return t


cdef inline tuple _shape_tuple(Tensor t):
    cdef int d
    return tuple([t._shape[d] for d in range(t._ndim)])


def _increment_version(Tensor t not None):
    """Bump ``t``'s version counter (ember.autograd.graph.increment_version)."""
    bump_version(t)


cdef inline int check_writable(Tensor t) except -1:
    if t._storage.readonly_mem:
        raise RuntimeError("cannot write to a tensor that views read-only memory")
    if t._storage.inference:
        check_not_inference(t, "inplace")
    return 0


cdef extern from "ember/size_type.h":
    object em_size_type_ready()
    object em_size_from(const Py_ssize_t *shape, int n)

# ember.Size, a tuple subclass written in C (see the header: shape and indexing are hot)
Size = em_size_type_ready()


cdef _init_from(Tensor self, Tensor src):
    set_dims(self, src._ndim, src._shape, src._strides)
    self._storage = src._storage
    self._offset = src._offset
    self._dtype = src._dtype
    self._view_base = None


def _rebuild_storage(bytes data):
    cdef Storage s = new_storage(len(data), CPU)
    memcpy(s.data, <char *>data, len(data))
    return s


def _rebuild_tensor_view(Storage storage, dtype_name, shape, strides, offset, requires_grad):
    # as_strided checks that the layout stays inside the storage
    if storage.device is None:
        raise TypeError("_rebuild_tensor_view expects a Storage made by ember")
    cdef Tensor base = Tensor.__new__(Tensor)
    base._storage = storage
    base._dtype = as_dtype(dtype_name).num
    t = as_strided(base, shape, strides, offset)
    if requires_grad:
        t.requires_grad_(True)
    return t


cdef _set_source(Tensor self, source, storage_offset, size, stride):
    """``Tensor.set_``: make `self` view `source` (a tensor or storage) with the given
    layout (the source tensor's, else the whole storage as a 1-D tensor)."""
    if self._requires_grad and em_grad_mode:
        if self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        raise RuntimeError("set_(): not supported on a tensor that is part of a graph")
    cdef Tensor base = Tensor.__new__(Tensor)
    base._dtype = self._dtype
    if source is None:
        base._storage = new_storage(0, self._storage.device)
        size, stride, storage_offset = (0,), (1,), 0
    elif isinstance(source, Tensor):
        if (<Tensor>source)._dtype != self._dtype:
            raise RuntimeError(f"Could not set tensor of type {(<Tensor>source).get_dtype()} "
                               f"to a tensor of type {self.get_dtype()}")
        base._storage = (<Tensor>source)._storage
        if size is None:
            size, stride = source.shape, source.stride()
            storage_offset = (<Tensor>source)._offset
    else:
        # a TypedStorage must hold self's dtype; its bytes are what is viewed
        typed = getattr(source, "_untyped_storage", None)
        if typed is not None:
            if source.dtype.num != self._dtype:
                raise RuntimeError(f"Expected a Storage of type {self.get_dtype()} or an "
                                   f"UntypedStorage, but got type {source.dtype} for "
                                   f"argument 1 'storage'")
            source = typed
        if not isinstance(source, Storage):
            raise TypeError(f"set_(): expected a Tensor or a storage as source, got "
                            f"{type(source).__name__}")
        base._storage = <Storage>source
        if size is None:
            size = ((<Storage>source).size_bytes // em_itemsize[self._dtype],)
    if base._storage.device != self._storage.device:
        raise RuntimeError(f"set_(): expected a source on {self._storage.device}, got one on "
                           f"{base._storage.device}")
    if stride is None:
        stride = _contiguous_strides(size)
    cdef Tensor view = as_strided(base, size, stride, storage_offset)
    cdef VersionCounter counter = own_counter(self)    # self keeps counting, as in PyTorch
    _init_from(self, view)
    self._version_counter = counter
    bump_version(self)
    return self


cdef tuple _contiguous_strides(size):
    cdef list strides = []
    cdef Py_ssize_t acc = 1
    for s in reversed(tuple(size)):
        strides.append(acc)
        acc *= max(operator.index(s), 1)
    return tuple(reversed(strides))


def _rebuild_meta_tensor(dtype_name, shape, strides, requires_grad):
    return empty_strided(shape, strides, dtype=as_dtype(dtype_name), device="meta",
                         requires_grad=requires_grad)


def _rebuild_tensor(arr, dtype_name, device_str, requires_grad):
    t = tensor_from_data(arr, as_dtype(dtype_name), None)
    if device_str != "cpu":
        t = t.to(device_str)
    if requires_grad:
        t.requires_grad_(True)
    return t


cdef int wrap_dim(object dim, int ndim) except -1:
    """`dim` as an index into `ndim` dims, negative values counted from the end (bools refused)."""
    cdef Py_ssize_t d
    if type(dim) is int:
        d = <Py_ssize_t>dim
    else:
        if isinstance(dim, bool) or not hasattr(dim, "__index__"):
            raise TypeError(f"dim must be an int, not {type(dim).__name__}")
        d = operator.index(dim)
    cdef int n = ndim if ndim > 0 else 1
    if d < -n or d >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    return <int>(d + n if d < 0 else d)


cdef int _existing_dim(object dim, int ndim) except -1:
    """`wrap_dim` for reading a dimension: a 0-d tensor has none (wrap_dim accepts 0 and -1)."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(dim, ndim)


cdef tuple _shape_arg(tuple args):
    """Accept f(2, 3), f((2, 3)) and f([2, 3]) alike."""
    cdef bint plain = True
    for a in args:
        if type(a) is not int:
            plain = False
            break
    if plain:
        return args
    if len(args) == 1 and not isinstance(args[0], int) and not (
            hasattr(args[0], "__index__") and not hasattr(args[0], "__len__")):
        args = tuple(args[0])
        for a in args:
            if type(a) is not int:
                break
        else:
            return args
    try:
        # int subclasses stay as they are (ember.jit's symbolic sizes)
        return tuple([a if isinstance(a, int) and type(a) is not bool else operator.index(a)
                      for a in args])
    except TypeError:
        raise TypeError(f"expected a sequence of integers for a shape, got {args!r}") from None


cdef tuple _int_list_keyword(str fname, str name, tuple args, object value):
    """``(value,)``, the arguments :func:`_shape_arg` reads, for a method whose ints PyTorch
    takes as arguments, as one sequence or by the keyword ``name`` (``x.permute(1, 0)``,
    ``x.permute((1, 0))``, ``x.permute(dims=(1, 0))``); refused when ``args`` came too."""
    if args:
        raise TypeError(f"{fname}() got multiple values for argument '{name}'")
    return (value,)


cdef object read_scalar(char *p, int dt):
    if dt == EM_BOOL:
        return (<uint8_t *>p)[0] != 0
    if dt == EM_UINT8:
        return (<uint8_t *>p)[0]
    if dt == EM_INT8:
        return (<int8_t *>p)[0]
    if dt == EM_INT16:
        return (<int16_t *>p)[0]
    if dt == EM_INT32:
        return (<int32_t *>p)[0]
    if dt == EM_INT64:
        return (<int64_t *>p)[0]
    if dt == EM_UINT16:
        return (<uint16_t *>p)[0]
    if dt == EM_UINT32:
        return (<uint32_t *>p)[0]
    if dt == EM_UINT64:
        return (<uint64_t *>p)[0]
    if dt == EM_FLOAT16:
        return <double>em_half_to_float((<uint16_t *>p)[0])
    if dt == EM_BFLOAT16:
        return <double>em_bfloat16_to_float((<uint16_t *>p)[0])
    if dt == EM_FLOAT32:
        return <double>(<float *>p)[0]
    if dt == EM_FLOAT64:
        return (<double *>p)[0]
    if dt == EM_COMPLEX64:
        return complex((<float *>p)[0], (<float *>p)[1])
    return complex((<double *>p)[0], (<double *>p)[1])
