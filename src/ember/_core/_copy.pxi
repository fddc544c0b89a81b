# Copies, casts and fills between tensors of any layout and dtype.
# Included by _tensor.pyx.

# ---------------------------------------------------------------- copies and casts

cdef extern from "ember/kernels.h":
    int em_cast_transposed(const em_iter *it, int from_dtype, int to_dtype, int parallel) noexcept nogil


cdef int copy_into(Tensor dst, Tensor src) except -1:
    """Copy `src` into `dst` (same shape, or broadcastable to it), converting the dtype."""
    cdef Py_ssize_t shape[64]
    cdef int nd = dst._ndim
    if src._storage.device.type_num == DEV_META and dst._storage.device.type_num != DEV_META:
        _no_meta_data()
    if dst._storage.device.type_num != DEV_CPU or src._storage.device.type_num != DEV_CPU:
        backend = backend_for(dst._storage.device if dst._storage.device.type_num != DEV_CPU
                              else src._storage.device)
        backend.copy_(dst, src)
        return 0
    if _overlaps(dst, src):
        src = contiguous_copy(src)
    memcpy(shape, dst._shape, nd * sizeof(Py_ssize_t))
    return run_cast(dst, src, nd, shape)


cdef int _no_meta_data() except -1:
    # a meta tensor has a shape and a dtype but no memory: nothing can be read from it
    raise NotImplementedError("Cannot copy out of meta tensor; no data!")


cdef int run_cast(Tensor dst, Tensor src, int nd, const Py_ssize_t *shape) except -1:
    """Convert `src` (broadcast to `shape`) into `dst`, blocking transposed layouts into tiles."""
    cdef em_iter it
    cdef Py_ssize_t total
    cdef int k, parallel
    cdef int from_dtype = src._dtype, to_dtype = dst._dtype
    cdef em_loop_fn fn = em_cast_loops[from_dtype][to_dtype]
    it.nop = 2
    it.ndim = nd
    for k in range(nd):
        it.shape[k] = shape[k]
    _fill_strides(&it, 0, dst, nd, shape)
    _fill_strides(&it, 1, src, nd, shape)
    cdef Py_ssize_t itemsize[2]
    itemsize[0] = em_itemsize[to_dtype]
    itemsize[1] = em_itemsize[from_dtype]
    total = em_iter_prepare(&it, True)
    if total == 0:
        return 0
    parallel = total >= EM_GRAIN_SIZE
    if parallel:
        with nogil:
            if not em_cast_transposed(&it, from_dtype, to_dtype, parallel):
                em_iter_run_write_only(&it, fn, NULL, itemsize)
    elif not em_cast_transposed(&it, from_dtype, to_dtype, parallel):
        em_iter_run(&it, fn, NULL, parallel)
    return 0


cdef int check_no_internal_overlap(Tensor t) except -1:
    """Refuse to write into a tensor whose elements share memory (an expanded view)."""
    cdef int d
    if t._numel == 0:  # nothing is written
        return 0
    for d in range(t._ndim):
        if t._strides[d] == 0 and t._shape[d] > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
    return 0


cdef int copy_broadcast(Tensor dst, object value) except -1:
    cdef Py_ssize_t shape[64]
    check_writable(dst)
    check_no_internal_overlap(dst)
    if not isinstance(value, Tensor):
        if scalar_dtype(value) >= 0:
            return fill(dst, value)
        value = tensor_from_data(value, None, dst._storage.device)
    cdef Tensor src = <Tensor>value
    if src._ndim > dst._ndim:
        # leading size-1 dims of the source may be dropped (PyTorch allows x[0] = y[None])
        src = squeeze_leading(src, dst._ndim)
    broadcast_shapes_into([dst, src], shape)
    if not _same_shape(dst, src):
        src = expand(src, _shape_tuple(dst))
    copy_into(dst, src)
    bump_version(dst)
    return 0


cdef Tensor squeeze_leading(Tensor t, int nd):
    cdef int extra = t._ndim - nd, d
    for d in range(extra):
        if t._shape[d] != 1:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(_shape_tuple(t))} "
                               f"cannot be broadcast to indexing result of {nd} dimensions")
    return make_view(t, nd, t._shape + extra, t._strides + extra, t._offset)


cdef int fill(Tensor dst, object value) except -1:
    cdef char buf[16]
    cdef Tensor src
    check_writable(dst)
    if isinstance(value, Tensor):
        if (<Tensor>value)._ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{(<Tensor>value)._ndim} dimensions.")
        value = (<Tensor>value).item()  # a tensor value is cast, not checked, as in PyTorch
    elif scalar_dtype(value) >= 0:
        check_scalar_fits(dst._dtype, value)
    if scalar_dtype(value) < 0:
        raise TypeError(f"fill value must be a number, got {type(value).__name__}")
    if dst._storage.device.type_num != DEV_CPU:
        backend_for(dst._storage.device).fill_(dst, value)
        bump_version(dst)
        return 0
    if dst.is_contig() and dst._numel < EM_GRAIN_SIZE:
        # small contiguous fills (zero_ of gradients, buffers): no iterator, no 0-d tensor
        write_scalar(buf, dst._dtype, value)
        _fill_contiguous(dst.ptr(), dst._numel, buf, em_itemsize[dst._dtype])
        bump_version(dst)
        return 0
    src = new_tensor(0, NULL, dst._dtype, CPU)
    write_scalar(src.ptr(), dst._dtype, value)
    copy_into(dst, src)
    bump_version(dst)
    return 0


cdef void _fill_contiguous(char *p, Py_ssize_t n, const char *value, int size) noexcept:
    cdef Py_ssize_t i
    cdef uint16_t v16
    cdef uint32_t v32
    cdef uint64_t v64
    if size == 1:
        memset(p, value[0], n)
    elif size == 2:
        memcpy(&v16, value, 2)
        for i in range(n):
            (<uint16_t *>p)[i] = v16
    elif size == 4:
        memcpy(&v32, value, 4)
        for i in range(n):
            (<uint32_t *>p)[i] = v32
    elif size == 8:
        memcpy(&v64, value, 8)
        for i in range(n):
            (<uint64_t *>p)[i] = v64
    else:
        for i in range(n):
            memcpy(p + i * size, value, size)


cdef Tensor contiguous_copy(Tensor t):
    cdef Tensor out = new_tensor(t._ndim, t._shape, t._dtype, t._storage.device)
    copy_into(out, t)
    return out


def _to_dtype_device(Tensor t, dt, dev, bint copy):
    return to_dtype_device(t, dt, dev, copy)


def contiguous_clone(Tensor input):
    """A row-major copy of ``input``: ``Tensor.contiguous()``'s op when autograd records
    it (``clone`` keeps a dense input's layout, which ``contiguous()`` must not)."""
    return contiguous_copy(input)


cpdef Tensor clone(Tensor input):
    """A copy of ``input`` in new memory, with the same dtype and device."""
    if em_grad_mode and input._requires_grad:
        return <Tensor>record_op("clone", clone, (input,), None)
    cdef Tensor out = new_like_layout(input, input._dtype)
    copy_into(out, input)
    return out


cdef Tensor to_dtype_device(Tensor t, dtype dt, device dev, bint copy):
    """`t` converted to dtype `dt` and/or moved to `dev` (itself when nothing changes)."""
    cdef int target = t._dtype if dt is None else dt.num
    cdef Tensor out
    if (em_grad_mode and t._requires_grad and (target != t._dtype or copy
                                                or (dev is not None and dev != t._storage.device))):
        return <Tensor>record_op("to", _to_dtype_device, (t, dt, dev, copy), None)
    if dev is not None and dev != t._storage.device:
        if t._storage.device.type_num == DEV_META and dev.type_num != DEV_META:
            _no_meta_data()
        if dev.type_num == DEV_CPU:
            out = <Tensor>backend_for(t._storage.device).to_cpu(t)
        elif t._storage.device.type_num == DEV_CPU:
            out = <Tensor>backend_for(dev).from_cpu(t, dev)
        else:
            # between devices of one backend; `t` itself when `dev` names its device
            # without an index ('cuda' for cuda:0 when cuda:0 is current)
            out = <Tensor>backend_for(dev).to_device(t, dev)
        if out is not t:
            if out._dtype != target:
                return to_dtype_device(out, dt, None, False)
            return out
    if target == t._dtype:
        return clone(t) if copy else t
    out = new_like_layout(t, target)
    copy_into(out, t)
    return out
