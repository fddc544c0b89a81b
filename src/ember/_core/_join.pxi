# Joining: cat (concat, concatenate) and stack copy each input, converted to the
# promoted dtype, into its slice of one new output.  Included by _index.pyx.

# ``ember.sparse`` joins sparse tensors (which are not Tensors) through this hook
cdef object _sparse_joins = None


def _set_sparse_joins(fn):
    """Register ``fn(op, tensors, dim, out)``, called by cat and stack when an element
    is not a Tensor; it returns NotImplemented when it cannot join them either."""
    global _sparse_joins
    _sparse_joins = fn


cdef object _join_foreign(str op, object tensors, object dim, object out):
    """The sparse hook's result for a sequence holding a non-Tensor, else NotImplemented."""
    if _sparse_joins is None or not isinstance(tensors, (list, tuple)):
        return NotImplemented
    for t in tensors:
        if not isinstance(t, Tensor):
            return _sparse_joins(op, tensors, dim, out)
    return NotImplemented


cdef list _tensor_list(object tensors, str op):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    cdef list result = list(tensors)
    for i, t in enumerate(result):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return result


cdef int _joined_dtype(list tensors, str op) except -1:
    """The promoted dtype of `tensors`, checking that they share a device."""
    cdef Tensor first = <Tensor>tensors[0]
    cdef int dt = first._dtype
    for t in tensors:
        _check_same_device(first, <Tensor>t, op)
        dt = promote_nums(dt, (<Tensor>t)._dtype)
    return dt


cdef Tensor _join_output(int nd, const Py_ssize_t *shape, int dt, Tensor like, object out,
                         str op):
    """A new output on `like`'s device, or `out` resized to `shape` when given (on that
    device, of any dtype the result casts to).  The copies into it run on any device."""
    if out is None:
        return new_tensor(nd, shape, dt, like._storage.device)
    cdef Tensor o = _tensor_arg(out, op, "out")
    _check_same_device(like, o, op)
    if em_category[dt] > em_category[o._dtype]:
        raise RuntimeError(f"result type {_TYPE_NAMES[dt]} can't be cast to the desired output "
                           f"type {_TYPE_NAMES[o._dtype]}")
    _resize_out(o, nd, shape, o._dtype, op)
    _bump_version(o)
    return o


cdef Tensor _slab(Tensor out, int d, Py_ssize_t start, Py_ssize_t length):
    """The view of `out` holding `length` entries along `d` from `start`."""
    cdef Py_ssize_t shape[64]
    memcpy(shape, out._shape, out._ndim * sizeof(Py_ssize_t))
    shape[d] = length
    return make_view(out, out._ndim, shape, out._strides, out._offset + start * out._strides[d])


cdef bint _out_overlaps(list tensors, object out):
    """Whether an out= tensor shares memory with an input (the result is then built apart)."""
    if out is None or not isinstance(out, Tensor):
        return False
    for t in tensors:
        if _shares_memory(<Tensor>t, <Tensor>out):
            return True
    return False


cdef object _copy_out(Tensor result, Tensor out, str op):
    _join_output(result._ndim, result._shape, result._dtype, result, out, op)
    copy_into(out, result)
    return out


def cat(tensors, dim=0, *, out=None, axis=None):
    """Concatenate ``tensors`` along an existing dimension ``dim``.

    The inputs must have the same shape except along ``dim``; their dtypes are
    promoted together.  As in PyTorch, 1-D empty tensors (shape ``(0,)``) are
    skipped whatever the other shapes.

    Parameters
    ----------
    tensors : sequence of Tensor
    dim : int, optional
    out : Tensor, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.cat([ember.zeros(1, 2), ember.ones(2, 2)])
    tensor([[0., 0.],
            [1., 1.],
            [1., 1.]])
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    joined = _join_foreign("cat", tensors, dim, out)
    if joined is not NotImplemented:
        return joined
    if autocast_mode() and out is None:
        return autocast_op("cat", cat, (tensors, dim), None)
    if isinstance(tensors, (list, tuple)) and _records_any(tensors):
        return record_op("cat", cat, (tuple(tensors), dim), {"out": out})
    cdef list ts = _tensor_list(tensors, "cat")
    cdef Tensor t, ref = None, result
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t total = 0, start = 0, zero = 0
    cdef int d = 0, k, dt
    if not ts:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    if _out_overlaps(ts, out):
        return _copy_out(cat(ts, dim), <Tensor>out, "cat")
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(f"cat(): argument 'dim' must be int, not {type(dim).__name__}")
    for i, x in enumerate(ts):
        if (<Tensor>x)._ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dt = _joined_dtype(ts, "cat")
    for x in ts:
        t = <Tensor>x
        if not (t._ndim == 1 and t._shape[0] == 0):
            ref = t
            break
    if ref is None:
        return _join_output(1, &zero, dt, <Tensor>ts[0], out, "cat")
    d = wrap_dim(dim, ref._ndim)
    for i, x in enumerate(ts):
        t = <Tensor>x
        if t._ndim == 1 and t._shape[0] == 0:
            continue
        if t._ndim != ref._ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref._ndim} "
                               f"and {t._ndim}")
        for k in range(t._ndim):
            if k != d and t._shape[k] != ref._shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._shape[k]} but got size {t._shape[k]} "
                                   f"for tensor number {i} in the list.")
        total += t._shape[d]
    memcpy(shape, ref._shape, ref._ndim * sizeof(Py_ssize_t))
    shape[d] = total
    result = _join_output(ref._ndim, shape, dt, ref, out, "cat")
    for x in ts:
        t = <Tensor>x
        if t._ndim == 1 and t._shape[0] == 0:
            continue
        if t._shape[d]:
            copy_into(_slab(result, d, start, t._shape[d]), t)
        start += t._shape[d]
    return result


def concat(tensors, dim=0, *, out=None, axis=None):
    """Concatenate ``tensors`` along ``dim`` (alias of :func:`cat`).

    Parameters
    ----------
    tensors : sequence of Tensor
    dim : int, optional
    out : Tensor, optional

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    return cat(tensors, dim, out=out)


def concatenate(tensors, axis=0, out=None):
    """Concatenate ``tensors`` along ``axis`` (alias of :func:`cat`, NumPy's argument name).

    Parameters
    ----------
    tensors : sequence of Tensor
    axis : int, optional
    out : Tensor, optional

    Returns
    -------
    Tensor
    """
    return cat(tensors, axis, out=out)


def stack(tensors, dim=0, *, out=None, axis=None):
    """Join equally shaped ``tensors`` along a new dimension ``dim``.

    Parameters
    ----------
    tensors : sequence of Tensor
        Tensors of one shape; their dtypes are promoted together.
    dim : int, optional
        Position of the new dimension, in ``[-(ndim + 1), ndim]``.
    out : Tensor, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.stack([ember.tensor([1, 2]), ember.tensor([3, 4])], dim=1)
    tensor([[1, 3],
            [2, 4]])
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    joined = _join_foreign("stack", tensors, dim, out)
    if joined is not NotImplemented:
        return joined
    if autocast_mode() and out is None:
        return autocast_op("stack", stack, (tensors, dim), None)
    if isinstance(tensors, (list, tuple)) and _records_any(tensors):
        return record_op("stack", stack, (tuple(tensors), dim), {"out": out})
    cdef list ts = _tensor_list(tensors, "stack")
    cdef Tensor t, ref, result, slot
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t slot_strides[64]
    cdef int d, k, j, nd
    cdef Py_ssize_t i
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    if _out_overlaps(ts, out):
        return _copy_out(stack(ts, dim), <Tensor>out, "stack")
    ref = <Tensor>ts[0]
    nd = ref._ndim
    if nd + 1 > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions")
    d = wrap_dim(dim, nd + 1)
    for i in range(1, len(ts)):
        t = <Tensor>ts[i]
        if t._ndim != nd or memcmp(t._shape, ref._shape, nd * sizeof(Py_ssize_t)) != 0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{_sizes(ref)} at entry 0 and {_sizes(t)} at entry {i}")
    dt = _joined_dtype(ts, "stack")
    j = 0
    for k in range(nd + 1):
        if k == d:
            shape[k] = len(ts)
        else:
            shape[k] = ref._shape[j]
            j += 1
    result = _join_output(nd + 1, shape, dt, ref, out, "stack")
    j = 0
    for k in range(nd + 1):
        if k != d:
            slot_strides[j] = result._strides[k]
            j += 1
    for i in range(len(ts)):
        slot = make_view(result, nd, ref._shape, slot_strides,
                         result._offset + i * result._strides[d])
        copy_into(slot, <Tensor>ts[i])
    return result
