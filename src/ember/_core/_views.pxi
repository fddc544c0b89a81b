# Views that share storage, and basic indexing (ints, slices, None, Ellipsis).
# Included by _tensor.pyx.

cdef list _int_list(const Py_ssize_t *a, int n):
    cdef int i
    return [a[i] for i in range(n)]


cdef bint _compute_view_strides(Tensor t, int nd, const Py_ssize_t *newshape,
                                Py_ssize_t *newstride) noexcept:
    """Strides that let `t` be viewed with `newshape` without copying (PyTorch's computeStride)."""
    cdef int i, view_d, tensor_d
    cdef Py_ssize_t chunk_base_stride, tensor_numel, view_numel, acc
    if t._numel == 0 or t._ndim == 0:
        acc = 1
        for i in range(nd - 1, -1, -1):
            newstride[i] = acc
            acc *= newshape[i] if newshape[i] > 0 else 1
        return True
    view_d = nd - 1
    chunk_base_stride = t._strides[t._ndim - 1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(t._ndim - 1, -1, -1):
        tensor_numel *= t._shape[tensor_d]
        if tensor_d == 0 or (t._shape[tensor_d - 1] != 1 and
                             t._strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base_stride
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if tensor_d > 0:
                chunk_base_stride = t._strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    return view_d == -1


cdef int _infer_shape(Tensor t, tuple shape, Py_ssize_t *out) except -1:
    cdef int nd = len(shape), i, infer = -1
    cdef Py_ssize_t known = 1, s
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    for i in range(nd):
        s = shape[i]
        if s == -1:
            if infer >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
        out[i] = s
    if infer >= 0:
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of {t._numel} elements into shape "
                               f"{list(shape)} because the unspecified dimension size -1 can be "
                               f"any value and is ambiguous")
        if t._numel % known != 0:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {t._numel}")
        out[infer] = t._numel // known
    elif known != t._numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {t._numel}")
    return nd


cpdef Tensor view(Tensor input, tuple shape):
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = view(input, shape)
        finally:
            grad_mode_on()
        return record_view("view", input, recorded, (input, shape))
    cdef Py_ssize_t newshape[64]
    cdef Py_ssize_t newstride[64]
    cdef int nd = _infer_shape(input, shape, newshape)
    if input.is_contig():
        return make_view(input, nd, newshape, NULL, input._offset)
    if not _compute_view_strides(input, nd, newshape, newstride):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return make_view(input, nd, newshape, newstride, input._offset)


cpdef Tensor reshape(Tensor input, tuple shape):
    cdef Py_ssize_t newshape[64]
    cdef Py_ssize_t newstride[64]
    cdef int nd = _infer_shape(input, shape, newshape)
    if em_grad_mode and input._requires_grad:
        # recorded as a view, or as the copy PyTorch calls an unsafe view
        grad_mode_off()
        try:
            recorded = reshape(input, shape)
        finally:
            grad_mode_on()
        return record_view("reshape" if (<Tensor>recorded)._storage is input._storage
                           else "reshape_copy",
                           input, recorded, (input, shape))
    if input.is_contig():
        # a contiguous tensor views any shape with contiguous strides
        return make_view(input, nd, newshape, NULL, input._offset)
    if _compute_view_strides(input, nd, newshape, newstride):
        return make_view(input, nd, newshape, newstride, input._offset)
    cdef Tensor c = make_view(contiguous_copy(input), nd, newshape, NULL, 0)
    c._view_base = None     # a copy, not a view
    return c


cpdef Tensor real(Tensor input):
    """The real part of a complex tensor, as a view (a real tensor itself)."""
    if em_category[input._dtype] != 3:
        return input
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = real(input)
        finally:
            grad_mode_on()
        return record_view("real", input, recorded, (input,))
    return _complex_part(input, 0)


cdef int _set_part(Tensor part, object value) except -1:
    """``t.real = value`` and ``t.imag = value``: ``value`` copied into the part's view
    (recorded, so the gradient reaches ``value``), a number taken in the part's dtype."""
    if not isinstance(value, Tensor) and scalar_dtype(value) < 0:
        raise TypeError(f"can't assign a {type(value).__name__} to a {part.type()}")
    part.copy_(value)
    return 0


cpdef Tensor imag(Tensor input):
    """The imaginary part of a complex tensor, as a view."""
    if em_category[input._dtype] != 3:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = imag(input)
        finally:
            grad_mode_on()
        return record_view("imag", input, recorded, (input,))
    return _complex_part(input, 1)


cdef Tensor _complex_part(Tensor t, int part):
    cdef Py_ssize_t strides[64]
    cdef int d
    for d in range(t._ndim):
        strides[d] = 2 * t._strides[d]
    cdef Tensor v = make_view(t, t._ndim, t._shape, strides, 2 * t._offset + part)
    v._dtype = real_of(t._dtype)
    return v


cpdef Tensor view_dtype(Tensor input, dtype dt):
    cdef int old = em_itemsize[input._dtype], new = em_itemsize[dt.num], d
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    if old == new:
        v = make_view(input, input._ndim, input._shape, input._strides, input._offset)
        v._dtype = dt.num
        return v
    if input._ndim == 0 or input._strides[input._ndim - 1] != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 to view {input.get_dtype()} as {dt} "
                           "(different element sizes)")
    for d in range(input._ndim - 1):
        if (input._strides[d] * old) % new:
            raise RuntimeError(f"self.stride({d}) must be divisible by {new // old if new > old else 1} "
                               f"to view {input.get_dtype()} as {dt}")
        strides[d] = input._strides[d] * old // new
        shape[d] = input._shape[d]
    if (input._shape[input._ndim - 1] * old) % new or (input._offset * old) % new:
        raise RuntimeError(f"the last dimension size and storage offset must fit whole {dt} "
                           f"elements to view {input.get_dtype()} as {dt}")
    shape[input._ndim - 1] = input._shape[input._ndim - 1] * old // new
    strides[input._ndim - 1] = 1
    v = make_view(input, input._ndim, shape, strides, input._offset * old // new)
    v._dtype = dt.num
    return v


cpdef Tensor flatten(Tensor input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one: a view when the strides allow."""
    cdef int s, e, d
    if input._ndim == 0:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, input._ndim)
    e = wrap_dim(end_dim, input._ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    if em_grad_mode and input._requires_grad:
        # recorded as flatten (not as a reshape to the sizes of this call), so that a
        # traced graph keeps the dims the caller named and runs at other batch sizes
        grad_mode_off()
        try:
            recorded = flatten(input, start_dim, end_dim)
        finally:
            grad_mode_on()
        return record_view("flatten" if (<Tensor>recorded)._storage is input._storage
                           else "flatten_copy",
                           input, recorded, (input, start_dim, end_dim))
    shape = _shape_tuple(input)
    cdef Py_ssize_t merged = 1
    for d in range(s, e + 1):
        merged *= input._shape[d]
    return reshape(input, shape[:s] + (merged,) + shape[e + 1:])


cpdef Tensor squeeze(Tensor input, dim=None):
    """Remove dimensions of size one (all of them, or those in ``dim``), as a view."""
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = squeeze(input, dim)
        finally:
            grad_mode_on()
        return record_view("squeeze", input, recorded, (input, dim))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int d, nd = 0
    cdef set dims
    if dim is None:
        dims = None
    elif isinstance(dim, (tuple, list)):
        dims = set()
        for x in dim:
            d = wrap_dim(x, input._ndim)
            if d in dims:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            dims.add(d)
    else:
        dims = {wrap_dim(dim, input._ndim)}
    for d in range(input._ndim):
        if input._shape[d] == 1 and (dims is None or d in dims):
            continue
        shape[nd] = input._shape[d]
        strides[nd] = input._strides[d]
        nd += 1
    return make_view(input, nd, shape, strides, input._offset)


cpdef Tensor unsqueeze(Tensor input, dim):
    """Insert a dimension of size one at position ``dim``, as a view."""
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = unsqueeze(input, dim)
        finally:
            grad_mode_on()
        return record_view("unsqueeze", input, recorded, (input, dim))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int d = wrap_dim(dim, input._ndim + 1), i, j = 0
    if input._ndim >= EM_MAX_DIMS:  # before writing input._ndim + 1 entries into the arrays
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {input._ndim + 1}")
    for i in range(input._ndim + 1):
        if i == d:
            shape[i] = 1
            strides[i] = input._strides[d] * input._shape[d] if d < input._ndim else 1
        else:
            shape[i] = input._shape[j]
            strides[i] = input._strides[j]
            j += 1
    return make_view(input, input._ndim + 1, shape, strides, input._offset)


cpdef Tensor transpose(Tensor input, dim0, dim1):
    """Swap dimensions ``dim0`` and ``dim1``, as a view."""
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = transpose(input, dim0, dim1)
        finally:
            grad_mode_on()
        return record_view("transpose", input, recorded, (input, dim0, dim1))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int a, b
    if input._ndim == 0:
        wrap_dim(dim0, 0)
        wrap_dim(dim1, 0)
        return make_view(input, 0, shape, strides, input._offset)
    a = wrap_dim(dim0, input._ndim)
    b = wrap_dim(dim1, input._ndim)
    memcpy(shape, input._shape, input._ndim * sizeof(Py_ssize_t))
    memcpy(strides, input._strides, input._ndim * sizeof(Py_ssize_t))
    shape[a], shape[b] = shape[b], shape[a]
    strides[a], strides[b] = strides[b], strides[a]
    return make_view(input, input._ndim, shape, strides, input._offset)


cdef Tensor reverse_dims(Tensor t):
    if em_grad_mode and t._requires_grad:
        grad_mode_off()
        try:
            recorded = reverse_dims(t)
        finally:
            grad_mode_on()
        return record_view("permute", t, recorded, (t, tuple(range(t._ndim - 1, -1, -1))))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int d, nd = t._ndim
    for d in range(nd):
        shape[d] = t._shape[nd - 1 - d]
        strides[d] = t._strides[nd - 1 - d]
    return make_view(t, nd, shape, strides, t._offset)


cpdef Tensor permute(Tensor input, dims):
    """Reorder the dimensions as ``dims`` (a tuple or list) lists them, as a view."""
    if type(dims) is not tuple:
        dims = tuple(dims)
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = permute(input, dims)
        finally:
            grad_mode_on()
        return record_view("permute", input, recorded, (input, dims))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int d, p
    cdef bint seen[64]
    if len(dims) != input._ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input._ndim} is not equal to len(dims) = {len(dims)}"
                           .replace("(sparse_coo)", ""))
    memset(seen, 0, sizeof(seen))
    for d in range(input._ndim):
        p = wrap_dim(dims[d], input._ndim)
        if seen[p]:
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        seen[p] = True
        shape[d] = input._shape[p]
        strides[d] = input._strides[p]
    return make_view(input, input._ndim, shape, strides, input._offset)


cpdef Tensor expand(Tensor input, tuple sizes):
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = expand(input, sizes)
        finally:
            grad_mode_on()
        return record_view("expand", input, recorded, (input, sizes))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int nd = len(sizes), d, src
    cdef Py_ssize_t want
    if nd < input._ndim:
        raise RuntimeError(f"expand({input.get_dtype()}{{{list(_shape_tuple(input))}}}, size={list(sizes)}): "
                           f"the number of sizes provided ({nd}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({input._ndim})")
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    for d in range(nd - 1, -1, -1):
        src = d - (nd - input._ndim)
        want = sizes[d]
        if src >= 0:
            if want == -1:
                want = input._shape[src]
            if input._shape[src] == want:
                shape[d] = want
                strides[d] = input._strides[src]
            elif input._shape[src] == 1:
                if want < 0:
                    raise RuntimeError(f"expand: invalid size {want} at dimension {d}")
                shape[d] = want
                strides[d] = 0
            else:
                raise RuntimeError(
                    f"The expanded size of the tensor ({want}) must match the existing size "
                    f"({input._shape[src]}) at non-singleton dimension {d}.  Target sizes: "
                    f"{list(sizes)}.  Tensor sizes: {list(_shape_tuple(input))}")
        else:
            if want < 0:
                raise RuntimeError(f"The expanded size of the tensor ({want}) isn't allowed in a "
                                   f"leading, non-existing dimension {d}")
            shape[d] = want
            strides[d] = 0
    return make_view(input, nd, shape, strides, input._offset)


cpdef Tensor narrow(Tensor input, dim, start, length):
    """The slice ``start:start + length`` of dimension ``dim``, as a view."""
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = narrow(input, dim, start, length)
        finally:
            grad_mode_on()
        return record_view("narrow", input, recorded, (input, dim, start, length))
    cdef int d
    if input._ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._ndim)
    cdef Py_ssize_t size = input._shape[d]
    if isinstance(start, Tensor) and ((<Tensor>start)._ndim != 0
                                      or em_category[(<Tensor>start)._dtype] != 1):
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    cdef Py_ssize_t s = operator.index(start), n = operator.index(length)
    if s < -size or s > size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {s})")
    if s < 0:
        s += size
    if n < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if n > size - s:  # not s + n: that can overflow
        raise RuntimeError(f"start ({s}) + length ({n}) exceeds dimension size ({size}).")
    return _slice_dim(input, d, s, n, 1)


cdef Tensor _slice_dim(Tensor t, int d, Py_ssize_t start, Py_ssize_t length, Py_ssize_t step):
    cdef Tensor v = make_view(t, t._ndim, t._shape, t._strides, t._offset + start * t._strides[d])
    v._shape[d] = length
    v._strides[d] = t._strides[d] * step
    v._numel = _checked_numel(v._ndim, v._shape)
    return v


cpdef Tensor select(Tensor input, dim, index):
    """The slice at ``index`` along ``dim``, with that dimension removed, as a view."""
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = select(input, dim, index)
        finally:
            grad_mode_on()
        return record_view("select", input, recorded, (input, dim, index))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int d, i, j = 0
    if input._ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._ndim)
    cdef Py_ssize_t idx = operator.index(index), size = input._shape[d]
    if idx < -size or idx >= size:
        raise IndexError(f"select(): index {idx} out of range for tensor of size "
                         f"{list(_shape_tuple(input))} at dimension {d}")
    if idx < 0:
        idx += size
    for i in range(input._ndim):
        if i != d:
            shape[j] = input._shape[i]
            strides[j] = input._strides[i]
            j += 1
    return make_view(input, input._ndim - 1, shape, strides, input._offset + idx * input._strides[d])


def _take_layout(Tensor t, Tensor view):
    """Give ``t`` the shape, strides and offset of ``view`` (a view of the same storage):
    the in-place view ops (``unsqueeze_``, ``t_``...) call it."""
    if view._storage is not t._storage:
        raise RuntimeError("_take_layout: the view must share the tensor's storage")
    set_dims(t, view._ndim, view._shape, view._strides)
    t._offset = view._offset
    bump_version(t)
    return t


def resize_(Tensor self, *sizes, size=None, memory_format=None):
    """Resize ``self`` in place to ``sizes``, contiguous, keeping its offset and the
    elements that fit; the storage grows when it must (new elements are uninitialised).

    Parameters
    ----------
    *sizes : int or tuple of ints
    size : tuple of ints, optional
        The sizes by keyword, as PyTorch names them (instead of ``*sizes``).

    Returns
    -------
    Tensor
        ``self``.
    """
    cdef Py_ssize_t shape[64]
    cdef int nd, d
    if size is not None:
        sizes = _int_list_keyword("resize_", "size", sizes, size)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if em_grad_mode and self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    nd = len(sizes)
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    for d in range(nd):
        shape[d] = operator.index(sizes[d])
        if shape[d] < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {shape[d]}: "
                               f"{list(sizes)}")
    _resize_in_place(self, nd, shape)
    return self


cdef int resize_output(Tensor out, int nd, const Py_ssize_t *shape, bint warn=True) except -1:
    """Give an ``out=`` tensor the result's shape, as PyTorch's resize_output: nothing when
    the shapes agree, else ``resize_`` (storage kept, grown when needed), with PyTorch's
    warning when ``out`` had elements (`warn`: the factories and samplers resize silently).
    An inference tensor is refused outside inference_mode: every out= write comes here."""
    cdef int d
    if out._storage.inference:
        check_not_inference(out, "inplace")
    if out._ndim == nd:
        for d in range(nd):
            if out._shape[d] != shape[d]:
                break
        else:
            return 0
    if warn and out._numel != 0:
        warnings.warn(f"An output with one or more elements was resized since it had shape "
                      f"{_int_list(out._shape, out._ndim)}, which does not match the required "
                      f"output shape {_int_list(shape, nd)}. This behavior is deprecated, and in "
                      f"a future PyTorch release outputs will not be resized unless they have "
                      f"zero elements. You can explicitly reuse an out tensor t by resizing it, "
                      f"inplace, to zero elements with t.resize_(0).", UserWarning)
    _resize_in_place(out, nd, shape)
    return 0


def _resize_output(Tensor out, shape):
    """``out`` given ``shape`` as PyTorch resizes ``out=`` arguments (see resize_output)."""
    cdef Py_ssize_t dims[64]
    cdef int d, nd = len(shape)
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    for d in range(nd):
        dims[d] = shape[d]
    resize_output(out, nd, dims)
    return out


cdef int _resize_in_place(Tensor self, int nd, const Py_ssize_t *shape) except -1:
    """``self`` contiguous with `shape` at its offset; its storage grows when it must."""
    cdef Py_ssize_t need, itemsize = em_itemsize[self._dtype]
    cdef Storage grown, st
    need = (self._offset + _checked_numel(nd, shape)) * itemsize
    st = self._storage
    if need > st.size_bytes:
        if not (st.owns_data or st.device.type_num != DEV_CPU and st.owner is not None):
            raise RuntimeError("Trying to resize storage that is not resizable")
        check_writable(self)
        # the storage object keeps its identity (views and the version counter share it):
        # its memory is swapped with a grown block holding a copy of the old bytes
        grown = new_storage(need, st.device)
        if st.device.type_num == DEV_CPU:
            memcpy(grown.data, st.data, st.size_bytes)
        elif st.size_bytes:
            backend_for(st.device).copy_(_bytes_of(grown, st.size_bytes), _bytes_of(st, st.size_bytes))
        st.data, grown.data = grown.data, st.data
        st.size_bytes, grown.size_bytes = grown.size_bytes, st.size_bytes
        st.owner, grown.owner = grown.owner, st.owner
    set_dims(self, nd, shape, NULL)
    bump_version(self)
    return 0


cdef Tensor _bytes_of(Storage st, Py_ssize_t n):
    """The first ``n`` bytes of ``st`` as a uint8 tensor."""
    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, 1, &n, NULL)
    t._storage = st
    t._dtype = EM_UINT8
    return t


def resize_as_(Tensor self, Tensor other not None, memory_format=None):
    """Resize ``self`` in place to the shape of ``other`` (see :meth:`Tensor.resize_`)."""
    return resize_(self, tuple(_shape_tuple(other)))


def split(Tensor input, split_size_or_sections, dim=0):
    """Split ``input`` into views along ``dim``: chunks of ``split_size`` or the given sizes."""
    if em_grad_mode and input._requires_grad:
        return record_op("split", split, (input, split_size_or_sections, dim), None)
    if input._ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Py_ssize_t size = input._shape[d], start = 0, s, step
    out = []
    if isinstance(split_size_or_sections, (list, tuple)):
        sections = [operator.index(s) for s in split_size_or_sections]
        if sum(sections) != size or any(s < 0 for s in sections):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got split_sizes={sections}")
        for s in sections:
            out.append(_slice_dim(input, d, start, s, 1))
            start += s
        return tuple(out)
    step = operator.index(split_size_or_sections)
    if step < 0 or (step == 0 and size != 0):
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {size}" if step == 0 else f"split expects split_size be non-negative, but got split_size={step}")
    if size == 0:
        return (input,) if step == 0 else (_slice_dim(input, d, 0, 0, 1),)
    while start < size:
        s = min(step, size - start)
        out.append(_slice_dim(input, d, start, s, 1))
        start += s
    return tuple(out)


def chunk(Tensor input, chunks, dim=0):
    """Split ``input`` into ``chunks`` views of near-equal size along ``dim`` (the last may be smaller)."""
    if input._ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    cdef Py_ssize_t n = operator.index(chunks)
    if n <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {n}")
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Py_ssize_t size = input._shape[d]
    cdef Py_ssize_t step = size // n + (size % n != 0)  # ceil without overflowing size + n
    if step == 0:
        # PyTorch returns `chunks` empty views of an empty dimension
        if n > _MAX_EMPTY_CHUNKS:
            raise RuntimeError(f"chunk: {n} empty chunks is more than can be returned")
        return tuple(_slice_dim(input, d, 0, 0, 1) for _ in range(n))
    return split(input, step, d)


_MAX_EMPTY_CHUNKS = 2**24


def unbind(Tensor input, dim=0):
    """All slices of ``input`` along ``dim``, each without that dimension."""
    if em_grad_mode and input._requires_grad:
        return record_op("unbind", unbind, (input, dim), None)
    if input._ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Py_ssize_t i
    return tuple([select(input, d, i) for i in range(input._shape[d])])


cpdef Tensor diagonal(Tensor input, offset=0, dim1=0, dim2=1):
    """The diagonal of dimensions ``dim1`` and ``dim2`` (shifted by ``offset``), as a view."""
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = diagonal(input, offset, dim1, dim2)
        finally:
            grad_mode_on()
        return record_view("diagonal", input, recorded, (input, offset, dim1, dim2))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int a = wrap_dim(dim1, input._ndim), b = wrap_dim(dim2, input._ndim), d, j = 0
    cdef Py_ssize_t off = operator.index(offset), n, start = input._offset
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if off >= 0:
        n = min(input._shape[a], input._shape[b] - off)
        if n > 0:
            start += off * input._strides[b]
    else:
        n = min(input._shape[a] + off, input._shape[b])
        if n > 0:
            start -= off * input._strides[a]
    if n <= 0:
        n = 0
        start = input._offset
    for d in range(input._ndim):
        if d != a and d != b:
            shape[j] = input._shape[d]
            strides[j] = input._strides[d]
            j += 1
    shape[j] = n
    strides[j] = input._strides[a] + input._strides[b]
    return make_view(input, input._ndim - 1, shape, strides, start)


cpdef Tensor as_strided(Tensor input, size, stride, storage_offset=None):
    """A view with the given sizes, strides and offset over the same storage."""
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = as_strided(input, size, stride, storage_offset)
        finally:
            grad_mode_on()
        return record_view("as_strided", input, recorded, (input, size, stride, storage_offset))
    cdef tuple sz = _shape_arg((size,)), st = tuple([operator.index(s) for s in stride])
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int nd = len(sz), d
    cdef Py_ssize_t off = input._offset if storage_offset is None else operator.index(storage_offset)
    cdef Py_ssize_t isz = em_itemsize[input._dtype]
    if len(st) != nd:
        raise RuntimeError(f"mismatch in length of strides and shape: {nd} sizes, {len(st)} strides")
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    if off < 0:
        raise RuntimeError(f"as_strided: Negative storage offset is not supported, got {off}")
    for d in range(nd):
        shape[d] = sz[d]
        strides[d] = st[d]
        if sz[d] < 0:
            raise RuntimeError(f"as_strided: negative size {sz[d]} at dimension {d}")
    if _checked_numel(nd, shape) > 0:
        # Python integers: huge strides must not wrap around and pass the bounds check
        lo = hi = off
        for d in range(nd):
            span = st[d] * (sz[d] - 1)
            if span > 0:
                hi += span
            else:
                lo += span
        if lo < 0 or (hi + 1) * isz > input._storage.size_bytes:
            raise RuntimeError(
                f"setStorage: sizes {list(sz)}, strides {list(st)}, storage offset {off}, and "
                f"itemsize {isz} requiring a storage size of {(hi + 1) * isz} are out of bounds "
                f"for storage of size {input._storage.size_bytes}")
    return make_view(input, nd, shape, strides, off)


cpdef Tensor unfold(Tensor input, dimension, size, step):
    if em_grad_mode and input._requires_grad:
        grad_mode_off()
        try:
            recorded = unfold(input, dimension, size, step)
        finally:
            grad_mode_on()
        return record_view("unfold", input, recorded, (input, dimension, size, step))
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int d = wrap_dim(dimension, input._ndim)
    cdef Py_ssize_t n = operator.index(size), s = operator.index(step)
    if input._ndim >= EM_MAX_DIMS:  # before writing input._ndim + 1 entries into the arrays
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {input._ndim + 1}")
    cdef Py_ssize_t dsize = input._shape[d] if input._ndim else 1
    cdef Py_ssize_t dstride = input._strides[d] if input._ndim else 1
    if s <= 0:
        raise RuntimeError(f"step is {s} but must be > 0")
    if n < 0 or n > dsize:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {dsize} but size is {n}")
    if input._ndim:
        memcpy(shape, input._shape, input._ndim * sizeof(Py_ssize_t))
        memcpy(strides, input._strides, input._ndim * sizeof(Py_ssize_t))
        shape[d] = (dsize - n) // s + 1
        strides[d] = dstride * s
    shape[input._ndim] = n
    strides[input._ndim] = dstride
    return make_view(input, input._ndim + 1, shape, strides, input._offset)


def movedim(Tensor input, source, destination):
    """Move dimension(s) ``source`` to position(s) ``destination``."""
    src = [source] if not isinstance(source, (tuple, list)) else list(source)
    dst = [destination] if not isinstance(destination, (tuple, list)) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    src = [wrap_dim(s, input._ndim) for s in src]
    dst = [wrap_dim(s, input._ndim) for s in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in source or destination")
    if input._ndim == 0:
        return permute(input, ())
    order = [None] * input._ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter([d for d in range(input._ndim) if d not in src])
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, tuple(order))


# ---------------------------------------------------------------- basic indexing

_advanced_index_hooks = {}


cdef inline bint _is_basic(object item):
    if item is None or item is Ellipsis or type(item) is slice or type(item) is int:
        return True
    # NumPy integers and 0-d integer tensors index like ints, as in PyTorch (which takes
    # uint8 tensors for masks)
    if isinstance(item, Tensor):
        return ((<Tensor>item)._ndim == 0 and em_category[(<Tensor>item)._dtype] == 1
                and (<Tensor>item)._dtype != EM_UINT8)
    return isinstance(item, np.integer)


cdef Tensor _basic_index(Tensor t, tuple index):
    """Apply ints, slices, None and Ellipsis; every item of `index` is basic."""
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t offset = t._offset, start, stop, step, length, i_val, size
    cdef int nd = 0, src = 0, consumed = 0, n_items = len(index), k, fill
    cdef bint seen_ellipsis = False
    for item in index:
        if item is not None and item is not Ellipsis:
            consumed += 1
    if consumed > t._ndim:
        raise IndexError(f"too many indices for tensor of dimension {t._ndim}")
    for item in index:
        if item is None:
            if nd >= EM_MAX_DIMS:
                raise IndexError(f"ember supports at most {EM_MAX_DIMS} dimensions")
            shape[nd] = 1
            # PyTorch's unsqueeze stride: the span of the next source dimension
            strides[nd] = t._shape[src] * t._strides[src] if src < t._ndim else 1
            nd += 1
        elif item is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            fill = t._ndim - consumed
            for k in range(fill):
                if nd >= EM_MAX_DIMS:
                    raise IndexError(f"ember supports at most {EM_MAX_DIMS} dimensions")
                shape[nd] = t._shape[src]
                strides[nd] = t._strides[src]
                nd += 1
                src += 1
        elif type(item) is slice:
            size = t._shape[src]
            if PySlice_Unpack(item, &start, &stop, &step) < 0:
                raise
            if step == 0:
                raise ValueError("slice step cannot be zero")
            length = PySlice_AdjustIndices(size, &start, &stop, step)
            if nd >= EM_MAX_DIMS:
                raise IndexError(f"ember supports at most {EM_MAX_DIMS} dimensions")
            shape[nd] = length
            strides[nd] = t._strides[src] * step
            if length > 0:
                offset += start * t._strides[src]
            nd += 1
            src += 1
        else:
            size = t._shape[src]
            i_val = item
            if i_val < -size or i_val >= size:
                raise IndexError(f"index {i_val} is out of bounds for dimension {src} with size {size}")
            if i_val < 0:
                i_val += size
            offset += i_val * t._strides[src]
            src += 1
    while src < t._ndim:
        if nd >= EM_MAX_DIMS:
            raise IndexError(f"ember supports at most {EM_MAX_DIMS} dimensions")
        shape[nd] = t._shape[src]
        strides[nd] = t._strides[src]
        nd += 1
        src += 1
    return make_view(t, nd, shape, strides, offset)


cdef bint _all_basic(object index):
    if type(index) is not tuple:
        return _is_basic(index)
    for item in <tuple>index:
        if not _is_basic(item):
            return False
    return True


cdef bint _index_records(object index):
    # an index tensor the tracer marked (computed from its inputs) makes indexing recorded
    if isinstance(index, Tensor):
        return (<Tensor>index)._requires_grad
    if type(index) is tuple:
        for item in <tuple>index:
            if isinstance(item, Tensor) and (<Tensor>item)._requires_grad:
                return True
    return False


cdef object getitem(Tensor t, object index):
    cdef Py_ssize_t i, size
    if em_grad_mode and (t._requires_grad or _index_records(index)):
        if not (t._requires_grad and _all_basic(index)):
            # advanced indexing: the recorder keeps the index tensors, version-checked
            return record_op("getitem", Tensor.__getitem__, (t, index), None)
        grad_mode_off()
        try:
            recorded = getitem(t, index)
        finally:
            grad_mode_on()
        return record_view("getitem", t, recorded, (t, index))
    cdef object key = index  # the hook gets the index as written: a list may mean a tuple
    if type(index) is int and t._ndim == 0:
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a "
                         "0-dim tensor to a number")
    if type(index) is not tuple:
        index = (index,)
    for item in <tuple>index:
        if not _is_basic(item):
            break
    else:
        return _basic_index(t, <tuple>index)
    hook = _advanced_index_hooks.get("getitem")
    if hook is None:
        raise IndexError(f"unsupported index {index!r}")
    return hook(t, key)


def _assign(Tensor t, object index, object value):
    """``t[index] = value`` returning ``t``: the in-place op autograd records."""
    setitem(t, index, value)
    return t


cdef object setitem(Tensor t, object index, object value):
    cdef object key = index
    if em_grad_mode and (t._requires_grad or _index_records(index)
                         or (isinstance(value, Tensor) and (<Tensor>value)._requires_grad)):
        record_op("setitem", _assign, (t, index, value), None)
        return None
    if type(index) is not tuple:
        index = (index,)
    for item in <tuple>index:
        if not _is_basic(item):
            break
    else:
        copy_broadcast(_basic_index(t, <tuple>index), value)
        return None
    hook = _advanced_index_hooks.get("setitem")
    if hook is None:
        raise IndexError(f"unsupported index {index!r}")
    hook(t, key, value)
