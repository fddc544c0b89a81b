# Advanced indexing, as PyTorch does it: the basic items of an index (ints,
# slices, None, Ellipsis) make a view; the advanced ones (integer tensors,
# lists, arrays, boolean masks, True/False) become index tensors on the view's
# dims.  Index tensors broadcast together; their shape replaces the indexed
# dims in place when those are adjacent, else it goes first.  One gather
# (getitem) or scatter (setitem, index_put_) then runs over the result's shape.
# Included by _index.pyx.

cdef str _INDEX_DTYPE_ERROR = "tensors used as indices must be long, int, byte or bool tensors"


cdef str _qualified_name(object obj):
    tp = type(obj)
    return tp.__name__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__name__}"


cdef bint _sequence_is_tuple(object index):
    """PyTorch's rule for a list index: read it as a tuple of indices when it is short and
    holds a tensor, a sequence, a slice, Ellipsis or None (deprecated in PyTorch)."""
    if not isinstance(index, list) or len(index) >= 32:
        return False
    for item in index:
        if (item is None or item is Ellipsis or isinstance(item, (Tensor, slice, list, tuple,
                                                                    np.ndarray, str, bytes))):
            return True
    return False


cdef Tensor _warn_uint8_mask(Tensor mask):
    warnings.warn("indexing with dtype ember.uint8 is now deprecated, please use a dtype "
                  "ember.bool instead.", UserWarning)
    return _copy_of(mask, EM_BOOL)


cdef Tensor _index_from_array(object arr):
    """An index tensor (bool mask or int32/int64) from a NumPy array of at least one dim."""
    kind = arr.dtype.kind
    if kind == "b":
        return _core.from_numpy(arr)
    if arr.dtype == np.uint8:
        return _warn_uint8_mask(_core.from_numpy(arr))
    if arr.dtype == np.int64 or arr.dtype == np.int32:
        return _core.from_numpy(arr)
    if kind in "iuf" or arr.size == 0:
        # PyTorch reads any numeric index data as int64 (floats truncate)
        return _core.from_numpy(arr.astype(np.int64))
    raise IndexError(_INDEX_DTYPE_ERROR)


cdef object _normalize_item(object item):
    """One index item as None, Ellipsis, slice, int, bool (True/False) or an index Tensor."""
    cdef Tensor t
    if item is None or item is Ellipsis or type(item) is slice or type(item) is int \
            or type(item) is bool:
        return item
    if isinstance(item, Tensor):
        t = <Tensor>item
        if t._ndim == 0:
            if t._dtype == EM_BOOL or t._dtype == EM_UINT8:
                return bool(t.item())
            if em_category[t._dtype] == 1:
                return int(t.item())
            raise IndexError(_INDEX_DTYPE_ERROR)
        if t._dtype == EM_BOOL or t._dtype == EM_INT64 or t._dtype == EM_INT32:
            return t
        if t._dtype == EM_UINT8:
            return _warn_uint8_mask(t)
        raise IndexError(_INDEX_DTYPE_ERROR)
    if isinstance(item, np.ndarray):
        if item.ndim == 0:
            if item.dtype.kind == "b":
                return bool(item)
            if item.dtype.kind in "iu":
                return int(item)
            raise IndexError(_INDEX_DTYPE_ERROR)
        return _index_from_array(item)
    if isinstance(item, np.bool_) or isinstance(item, float):
        raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         f"Variables are valid indices (got {_qualified_name(item)})")
    if isinstance(item, (str, bytes)):
        raise TypeError(f"invalid index of type {type(item).__name__}")
    if isinstance(item, (list, tuple)) or isinstance(item, Sequence):
        # any sequence, as in PyTorch: x[range(n), actions], a deque of indices
        try:
            arr = np.array(item)
        except ValueError as e:
            raise ValueError(f"could not build an index tensor from {item!r}: {e}") from None
        if arr.ndim == 0 or arr.dtype == object:
            raise IndexError(_INDEX_DTYPE_ERROR)
        return _index_from_array(arr)
    if hasattr(item, "__index__"):
        return operator.index(item)
    raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     f"Variables are valid indices (got {_qualified_name(item)})")


cdef tuple _index_tuple(object index):
    """The index as a tuple of normalised items."""
    if type(index) is not tuple:
        if _sequence_is_tuple(index):
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                          "deprecated; use x[tuple(seq)] instead of x[seq].", UserWarning)
            index = tuple(index)
        else:
            index = (index,)
    return tuple([_normalize_item(item) for item in <tuple>index])


cdef class _Parsed:
    """The view made by the basic items and the advanced indices placed on its dims."""
    cdef Tensor view
    cdef list dims      # view dim of each advanced item
    cdef list indices   # Tensor (index or mask), or a bool for True/False


cdef _Parsed _parse(Tensor t, tuple items):
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t offset = t._offset, start, stop, step, size, i_val
    cdef int nd = 0, src = 0, specified = 0, added = 0, removed = 0, k, fill
    cdef bint seen_ellipsis = False
    cdef Tensor idx
    cdef _Parsed parsed = _Parsed.__new__(_Parsed)
    parsed.dims = []
    parsed.indices = []
    for item in items:
        if isinstance(item, Tensor):
            specified += (<Tensor>item)._ndim if (<Tensor>item)._dtype == EM_BOOL else 1
        elif item is None or type(item) is bool:
            added += 1
        elif item is not Ellipsis:
            specified += 1
            removed += type(item) is int
    if specified > t._ndim:
        raise IndexError(f"too many indices for tensor of dimension {t._ndim}")
    if t._ndim + added - removed > EM_MAX_DIMS:
        raise IndexError(f"ember supports at most {EM_MAX_DIMS} dimensions")
    for item in items:
        if item is None:
            shape[nd] = 1
            # PyTorch's unsqueeze stride: the span of the next source dimension
            strides[nd] = t._shape[src] * t._strides[src] if src < t._ndim else 1
            nd += 1
        elif item is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            fill = t._ndim - specified
            for k in range(fill):
                shape[nd] = t._shape[src]
                strides[nd] = t._strides[src]
                nd += 1
                src += 1
        elif type(item) is bool:
            parsed.dims.append(nd)
            parsed.indices.append(item)
            shape[nd] = 1
            strides[nd] = 0
            nd += 1
        elif type(item) is slice:
            size = t._shape[src]
            step = 1 if item.step is None else operator.index(item.step)
            if step == 0:
                raise ValueError("slice step cannot be zero")
            start, stop, step = slice(item.start, item.stop, step).indices(size)
            shape[nd] = len(range(start, stop, step))
            strides[nd] = t._strides[src] * step
            if shape[nd] > 0:
                offset += start * t._strides[src]
            nd += 1
            src += 1
        elif isinstance(item, Tensor):
            idx = <Tensor>item
            parsed.dims.append(nd)
            parsed.indices.append(idx)
            for k in range(idx._ndim if idx._dtype == EM_BOOL else 1):
                shape[nd] = t._shape[src]
                strides[nd] = t._strides[src]
                nd += 1
                src += 1
        else:
            size = t._shape[src]
            i_val = item
            if i_val < -size or i_val >= size:
                raise IndexError(f"index {i_val} is out of bounds for dimension {src} with "
                                 f"size {size}")
            if i_val < 0:
                i_val += size
            offset += i_val * t._strides[src]
            src += 1
    while src < t._ndim:
        shape[nd] = t._shape[src]
        strides[nd] = t._strides[src]
        nd += 1
        src += 1
    parsed.view = make_view(t, nd, shape, strides, offset)
    return parsed


# ---------------------------------------------------------------- index plans

cdef class _Plan:
    """One gather/scatter over the result's shape.

    The source (or destination) operand is the view with zero strides on the
    broadcast index dims; the index operand is a single int32/int64 index
    tensor (checked against `ctx.size`, stepping `ctx.stride` bytes), or int64
    byte offsets combined from several index tensors and masks.
    """
    cdef Tensor view
    cdef int nd
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t view_strides[64]     # bytes
    cdef Tensor index
    cdef Py_ssize_t index_strides[64]    # bytes
    cdef bint offsets
    cdef em_index_ctx ctx
    cdef int ordinal                     # position of the index among the index tensors
    cdef int bstart, nb                  # where the broadcast index dims sit in the result


cdef Tensor _mask_offsets(Tensor view, int first, Tensor mask):
    """Byte offsets into `view` of the True elements of `mask`, which covers the view's dims
    first .. first + mask.ndim (checked to match); on the mask's device."""
    cdef int j, k = mask._ndim
    cdef int64_t weights[64]
    cdef Py_ssize_t mstrides[64]
    cdef em_count_ctx count
    cdef em_iter it
    cdef Py_ssize_t n
    cdef Tensor out
    for j in range(k):
        if mask._shape[j] != view._shape[first + j]:
            raise IndexError(f"The shape of the mask {_sizes(mask)} at index {j} does not match "
                             f"the shape of the indexed tensor {_sizes(view)} at index {first + j}")
        weights[j] = view._strides[first + j] * em_itemsize[view._dtype]
    if _on_device(mask):
        return <Tensor>_core.backend(mask._storage.device.type).mask_offsets(
            mask, [weights[j] for j in range(k)])
    _tensor_strides(mask, mstrides)
    count.count = 0
    it.nop = 1
    it.ndim = k
    memcpy(it.shape, mask._shape, k * sizeof(Py_ssize_t))
    _set_operand(&it, 0, mask.ptr(), mstrides)
    _run(&it, em_count_nonzero_loops[<int>EM_BOOL], &count, False)
    n = count.count
    out = new_tensor(1, &n, EM_INT64, _CPU)
    em_nonzero_fill[<int>EM_BOOL](mask.ptr(), k, mask._shape, mstrides, weights,
                             <int64_t *>out.ptr(), n)
    return out


cdef int _broadcast_indices(list tensors, list labels, Py_ssize_t *shape) except -1:
    """Broadcast the shapes of the index tensors; returns the number of dims."""
    cdef int nd = 0, d, j
    cdef Tensor t
    for x in tensors:
        nd = max(nd, (<Tensor>x)._ndim)
    for d in range(nd):
        shape[d] = 1
    for x in tensors:
        t = <Tensor>x
        for j in range(t._ndim):
            d = nd - t._ndim + j
            if t._shape[j] == shape[d] or t._shape[j] == 1:
                continue
            if shape[d] != 1:
                raise IndexError("shape mismatch: indexing tensors could not be broadcast "
                                 "together with shapes " + ", ".join(str(s) for s in labels))
            shape[d] = t._shape[j]
    return nd


cdef Tensor _bool_offsets(bint value):
    """Offsets for a True/False index on a size-1 dim: one zero offset, or none."""
    cdef Py_ssize_t n = 1 if value else 0
    cdef Tensor out = new_tensor(1, &n, EM_INT64, _CPU)
    if value:
        (<int64_t *>out.ptr())[0] = 0
    return out


cdef _Plan _plan(Tensor view, list dims, list indices):
    """The plan for index tensors, masks and True/False `indices` on `view`'s dims `dims`."""
    cdef _Plan plan = _Plan.__new__(_Plan)
    cdef Py_ssize_t bshape[64]
    cdef Py_ssize_t strides[64]
    cdef int64_t zero = 0
    cdef int nb, d, j, e, r, first = EM_MAX_DIMS, last = -1, covered = 0, bstart, n_entries
    cdef bint indexed[64]
    cdef bint adjacent, offsets
    cdef Tensor t, combined
    cdef em_iter it
    cdef em_index_ctx ctx
    cdef Py_ssize_t isz = em_itemsize[view._dtype]
    cdef device dev = view._storage.device
    cdef list tensors = [], is_offsets = [], labels = [], ordinals = []
    memset(indexed, 0, sizeof(indexed))
    plan.view = view
    # masks and True/False become byte offsets into the view; index tensors stay as they are
    for e in range(len(indices)):
        d = dims[e]
        item = indices[e]
        ordinals.append(covered)
        offsets = True
        if isinstance(item, bool):
            t = _on(_bool_offsets(item), dev)
            cover = 1
        elif (<Tensor>item)._dtype == EM_BOOL:
            # the True elements are listed where the mask is if that is the view's device
            # (a device sends only their count to the host, as PyTorch syncs here), else
            # on the host
            t = <Tensor>item
            t = _on(_mask_offsets(view, d, t if t._storage.device == dev else _on(t, _CPU)),
                    dev)
            cover = (<Tensor>item)._ndim
        else:
            offsets = False
            t = <Tensor>item
            if t._storage.device != dev:
                if _on_device(t):
                    raise RuntimeError(f"indices should be either on cpu or on the same device "
                                       f"as the indexed tensor ({dev})")
                t = _on(t, dev)
            cover = 1
        tensors.append(t)
        is_offsets.append(offsets)
        labels.extend([_sizes(t)] * cover)
        for j in range(cover):
            indexed[d + j] = True
        first = min(first, d)
        last = max(last, d + cover - 1)
        covered += cover
    nb = _broadcast_indices(tensors, labels, bshape)
    if view._ndim - covered + nb > EM_MAX_DIMS:
        raise IndexError(f"ember supports at most {EM_MAX_DIMS} dimensions")
    # the broadcast index dims replace adjacent indexed dims in place, else they go first
    adjacent = last - first + 1 == covered
    bstart = first if adjacent else 0
    r = 0
    for d in range(view._ndim):
        if d == bstart:
            for j in range(nb):
                plan.shape[r] = bshape[j]
                plan.view_strides[r] = 0
                r += 1
        if not indexed[d]:
            plan.shape[r] = view._shape[d]
            plan.view_strides[r] = view._strides[d] * isz
            r += 1
    plan.nd = r
    plan.bstart = bstart
    plan.nb = nb
    for d in range(r):
        plan.index_strides[d] = 0

    n_entries = len(tensors)
    cdef Py_ssize_t out_numel = 1
    for d in range(r):
        out_numel *= plan.shape[d]
    # one index tensor read once per output element: check it inside the gather loop.
    # Read many times (x[:, idx]): check it once, below, into byte offsets the loop reuses.
    if n_entries == 1 and out_numel <= 2 * (<Tensor>tensors[0])._numel:
        t = <Tensor>tensors[0]
        plan.index = t
        plan.offsets = is_offsets[0]
        plan.ordinal = 0
        _aligned_strides(t, nb, bshape, plan.index_strides + bstart)
        _init_ctx(&plan.ctx, view._shape[first], view._strides[first] * isz, True)
        return plan

    # several index tensors, or one read many times: combine them into byte offsets,
    # checking each against its dim
    combined = new_tensor(nb, bshape, EM_INT64, dev)
    for e in range(n_entries):
        t = <Tensor>tensors[e]
        d = dims[e]
        it.nop = 3
        it.ndim = nb
        memcpy(it.shape, bshape, nb * sizeof(Py_ssize_t))
        _aligned_strides(combined, nb, bshape, strides)
        _set_operand(&it, 0, _data(combined), strides)
        if e == 0:
            # no offsets yet: a zero (the device kernel reads none from a NULL pointer)
            memset(strides, 0, sizeof(strides))
            _set_operand(&it, 1, <char *>&zero if dev.type_num == DEV_CPU else NULL, strides)
        else:
            _set_operand(&it, 1, _data(combined), strides)
        _aligned_strides(t, nb, bshape, strides)
        _set_operand(&it, 2, _data(t), strides)
        if is_offsets[e]:
            _run_on(dev, &it, em_offset_add_loop, NULL, False,
                    _gpu_kernel(dev, "index_offset", t, t, True, "index"), &ctx, True)
            continue
        _init_ctx(&ctx, view._shape[d], view._strides[d] * isz, True)
        _run_on(dev, &it, em_offset_loops[_index_type(t)], &ctx, False,
                _gpu_kernel(dev, "index_offset", t, t, False, "index"), &ctx, False)
        if ctx.error:
            raise IndexError(f"index {_index_text(&ctx)} is out of bounds for dimension "
                             f"{ordinals[e]} with size {ctx.size}")
    plan.index = combined
    plan.offsets = True
    _aligned_strides(combined, nb, bshape, plan.index_strides + bstart)
    return plan


cdef Tensor _gather_plan(_Plan plan):
    """The values the plan selects, in a new contiguous tensor."""
    cdef Tensor view = plan.view
    cdef device dev = view._storage.device
    cdef Tensor out = new_tensor(plan.nd, plan.shape, view._dtype, dev)
    cdef Py_ssize_t strides[64]
    cdef em_iter it
    cdef int sc = em_size_class(em_itemsize[view._dtype])
    if out._numel == 0:
        return out
    it.nop = 3
    it.ndim = plan.nd
    memcpy(it.shape, plan.shape, plan.nd * sizeof(Py_ssize_t))
    _tensor_strides(out, strides)
    _set_operand(&it, 0, _data(out), strides)
    _set_operand(&it, 1, _data(view), plan.view_strides)
    _set_operand(&it, 2, _data(plan.index), plan.index_strides)
    kernel = _gpu_kernel(dev, "gather", view, plan.index, plan.offsets, "index")
    if plan.offsets:
        _run_on(dev, &it, em_gather_offset_loops[sc], NULL, False, kernel, &plan.ctx, True)
        return out
    _run_on(dev, &it, em_gather_loops[_index_type(plan.index)][sc], &plan.ctx, False, kernel,
            &plan.ctx, False)
    if plan.ctx.error:
        raise IndexError(f"index {_index_text(&plan.ctx)} is out of bounds for dimension "
                         f"{plan.ordinal} with size {plan.ctx.size}")
    return out


cdef bint _shares_memory(Tensor a, Tensor b) noexcept:
    """Whether the storages of `a` and `b` overlap (conservative: whole storages compared)."""
    cdef char *a0 = a._storage.data
    cdef char *b0 = b._storage.data
    return a0 < b0 + b._storage.size_bytes and b0 < a0 + a._storage.size_bytes


cdef Tensor _values_for(Tensor dst, object value, int nd, const Py_ssize_t *shape):
    """`value` as a tensor of `dst`'s dtype that broadcasts to `shape` (leading 1s dropped),
    never sharing memory with `dst`."""
    cdef Tensor v
    cdef int extra, j
    cdef device dev = dst._storage.device
    if isinstance(value, Tensor):
        v = <Tensor>value
        if v._ndim != 0 or not _on_device(dst) or _on_device(v):
            _check_same_device(dst, v, "index_put_")
        v = _on(v, dev)      # a 0-dim CPU value may fill a GPU tensor, as in PyTorch
        if v._dtype != dst._dtype or _shares_memory(v, dst):
            v = _copy_of(v, dst._dtype)
    elif _is_number(value):
        v = _on(_scalar_tensor(value, dst._dtype), dev)
    else:
        v = _core.tensor(value)
        if v._dtype != dst._dtype:
            v = _copy_of(v, dst._dtype)
        v = _on(v, dev)
    extra = v._ndim - nd
    for j in range(v._ndim):
        if (j < extra and v._shape[j] != 1) or (
                j >= extra and v._shape[j] != 1 and v._shape[j] != shape[j - extra]):
            raise RuntimeError(f"shape mismatch: value tensor of shape {_sizes(v)} cannot be "
                               f"broadcast to indexing result of shape {_ints(shape, nd)}")
    if extra > 0:
        v = make_view(v, nd, v._shape + extra, v._strides + extra, v._offset)
    return v


cdef int _scatter_plan(_Plan plan, Tensor values, bint accumulate) except -1:
    """Write (or add) `values`, broadcast to the plan's shape, at the places it selects;
    in row-major order, so that the last of repeated indices wins."""
    cdef Tensor view = plan.view
    cdef Tensor index = plan.index
    cdef device dev = view._storage.device
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t total = 1
    cdef em_iter it
    cdef em_index_ctx check
    cdef int d, sc = em_size_class(em_itemsize[view._dtype])
    cdef em_loop_fn fn
    for d in range(plan.nd):
        total *= plan.shape[d]
    if total == 0:
        return 0
    if not plan.offsets:
        # check every index before writing anything
        _check_indices(index, plan.ctx.size, True, &check)
        if check.error:
            raise IndexError(f"index {_index_text(&check)} is out of bounds for dimension "
                             f"{plan.ordinal} with size {check.size}")
        if _shares_memory(index, view):
            index = _copy_of(index, index._dtype)
    it.nop = 3
    it.ndim = plan.nd
    memcpy(it.shape, plan.shape, plan.nd * sizeof(Py_ssize_t))
    _set_operand(&it, 0, _data(view), plan.view_strides)
    _aligned_strides(values, plan.nd, plan.shape, strides)
    _set_operand(&it, 1, _data(values), strides)
    _set_operand(&it, 2, _data(index), plan.index_strides)
    if index is not plan.index:
        _aligned_strides(index, plan.nb, plan.shape + plan.bstart, strides)
        memcpy(&it.strides[2][plan.bstart], strides, plan.nb * sizeof(Py_ssize_t))
    if plan.offsets:
        fn = em_scatter_add_offset_loops[view._dtype] if accumulate else em_scatter_offset_loops[sc]
    elif accumulate:
        fn = em_scatter_add_loops[_index_type(index)][view._dtype]
    else:
        fn = em_scatter_loops[_index_type(index)][sc]
    _run_on(dev, &it, fn, &plan.ctx, True,
            _gpu_kernel(dev, "scatter_add" if accumulate else "scatter", view, index,
                        plan.offsets, "index_put_"), &plan.ctx, plan.offsets, True)
    if plan.ctx.error:
        raise IndexError(f"index {_index_text(&plan.ctx)} is out of bounds for dimension "
                         f"{plan.ordinal} with size {plan.ctx.size}")
    return 0
