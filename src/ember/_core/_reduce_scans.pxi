# Scans beyond cumsum: cumprod, logcumsumexp, cummax, cummin.  Included by _reduce.pyx
# (after _reduce_lanes.pxi, whose _lanes runner they share).

cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])
cummax_result.__module__ = cummin_result.__module__ = "ember.return_types"


cdef int _scan_dim(object dim, int ndim, str fname) except -1:
    if isinstance(dim, (tuple, list)) or dim is None:
        raise TypeError(f"{fname}(): argument 'dim' must be int, not {type(dim).__name__}")
    return wrap_dim(dim, ndim)


def cumprod(input, dim=None, *, dtype=None, out=None, axis=None):
    """Cumulative product along ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int
    dtype : ember.dtype, optional
        Convert the input to this dtype first.  Bool and integer inputs
        otherwise multiply in ``int64``.
    out : Tensor, optional
        Where to write the result (returned), computed in its dtype as
        :func:`cumsum` does.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.cumprod(ember.tensor([1.0, 2.0, 3.0, 4.0]), 0)
    tensor([ 1.,  2.,  6., 24.])
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if dim is None:
        raise TypeError("cumprod() missing required argument 'dim'")
    if out is not None:
        return _with_out("cumprod", out, "same", cumprod, (input, dim),
                         {"dtype": _scan_out_dtype("cumprod", dtype, out)}, (input,))
    if autocast_mode():
        return autocast_op("cumprod", cumprod, (input, dim), {"dtype": dtype})
    if grad_enabled() and _records(input):
        return record_op("cumprod", cumprod, (input, dim),
                         {"dtype": dtype} if dtype is not None else None)
    cdef Tensor x = _tensor_arg(input, "cumprod")
    cdef int dt = _dtype_arg(dtype)
    cdef int d = _scan_dim(dim, x._ndim, "cumprod")
    if dt >= 0:
        x = _cast(x, dt)
    out = _lanes(em_cumprod_lanes, "cumprod", x, d,
                 EM_INT64 if em_category[x._dtype] < 2 else x._dtype, False)
    return out if dt < 0 else _cast(out, dt)


def logcumsumexp(input, dim, *, out=None):
    """``log(cumsum(exp(input), dim))``, computed without overflow or underflow.

    Parameters
    ----------
    input : Tensor
        Floating point or complex (for complex input, the principal branch of
        the log, as PyTorch).
    dim : int
    out : Tensor, optional
        Where to write the result (returned): of the input's dtype, resized
        to its shape.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.logcumsumexp(ember.tensor([-1000.0, 0.0]), 0)
    tensor([-1000.,     0.])
    """
    if out is not None:
        return _with_out("logcumsumexp", out, "same", logcumsumexp, (input, dim), None,
                         (input,))
    if grad_enabled() and _records(input):
        return record_op("logcumsumexp", logcumsumexp, (input, dim), None)
    cdef Tensor x = _tensor_arg(input, "logcumsumexp")
    cdef int d = _scan_dim(dim, x._ndim, "logcumsumexp")
    if em_logcumsumexp_lanes[x._dtype] == NULL:
        raise NotImplementedError(
            f'"logcumsumexp_out_cpu" not implemented for \'{_name(x._dtype)}\'')
    return _lanes(em_logcumsumexp_lanes, "logcumsumexp", x, d, x._dtype, False)


cdef object _cum_extreme(const em_lanes_idx_fn *table, object result_type, object input,
                         object dim, str fname):
    cdef Tensor x = _tensor_arg(input, fname)
    cdef int d = _scan_dim(dim, x._ndim, fname)
    if table[x._dtype] == NULL:
        raise NotImplementedError(f'"{fname}_cpu" not implemented for \'{_name(x._dtype)}\'')
    cdef Tensor values = new_like_layout(x, x._dtype)
    cdef Tensor indices = new_like_layout(x, EM_INT64)
    cdef Tensor src = x, dst = values, idx = indices
    cdef Py_ssize_t in_strides[64]
    cdef Py_ssize_t out_strides[64]
    cdef Py_ssize_t idx_strides[64]
    cdef Py_ssize_t one = 1
    cdef int k
    if x._numel == 0:
        return result_type(values, indices)
    if x._ndim == 0:
        src = make_view(x, 1, &one, &one, x._offset)
        dst = make_view(values, 1, &one, &one, values._offset)
        idx = make_view(indices, 1, &one, &one, indices._offset)
    if not _on_cpu(x):
        _backend(x._storage.device.type).lanes(fname, dst, src, d, idx)
        return result_type(values, indices)
    for k in range(src._ndim):
        in_strides[k] = src._strides[k] * em_itemsize[src._dtype]
        out_strides[k] = dst._strides[k] * em_itemsize[dst._dtype]
        idx_strides[k] = idx._strides[k] * 8
    cdef const char *src_ptr = src.ptr()
    cdef char *dst_ptr = dst.ptr()
    cdef char *idx_ptr = idx.ptr()
    with nogil:
        em_lanes_idx_run(table[x._dtype], src._ndim, src._shape, in_strides, out_strides,
                         idx_strides, d, src_ptr, dst_ptr, idx_ptr)
    return result_type(values, indices)


def cummax(input, dim, *, out=None):
    """Running maximum along ``dim`` and where it was reached.

    A tie moves the index to the later element; a NaN, once met, stays the
    maximum (each later NaN moves the index), as in PyTorch.

    Parameters
    ----------
    input : Tensor
        Real or bool.
    dim : int
    out : (Tensor, Tensor), optional
        ``(values, indices)`` to write the result into (returned), of the
        input's dtype and ``int64``, resized to the input's shape.

    Returns
    -------
    (values, indices) : named tuple of Tensor
        ``indices`` is ``int64``.

    Examples
    --------
    >>> import ember
    >>> ember.cummax(ember.tensor([1.0, 3.0, 2.0, 3.0]), 0)
    cummax(values=tensor([1., 3., 3., 3.]), indices=tensor([0, 1, 1, 3]))
    """
    if out is not None:
        return _with_out("cummax", out, ("same", "same"), cummax, (input, dim), None, (input,))
    if grad_enabled() and _records(input):
        return record_op("cummax", cummax, (input, dim), None)
    return _cum_extreme(em_cummax_lanes, cummax_result, input, dim, "cummax")


def cummin(input, dim, *, out=None):
    """Running minimum along ``dim`` and where it was reached (see :func:`cummax`).

    Parameters
    ----------
    input : Tensor
        Real or bool.
    dim : int
    out : (Tensor, Tensor), optional
        ``(values, indices)`` to write the result into (returned), of the
        input's dtype and ``int64``, resized to the input's shape.

    Returns
    -------
    (values, indices) : named tuple of Tensor

    Examples
    --------
    >>> import ember
    >>> ember.cummin(ember.tensor([3.0, 1.0, 2.0]), 0)
    cummin(values=tensor([3., 1., 1.]), indices=tensor([0, 1, 1]))
    """
    if out is not None:
        return _with_out("cummin", out, ("same", "same"), cummin, (input, dim), None, (input,))
    if grad_enabled() and _records(input):
        return record_op("cummin", cummin, (input, dim), None)
    return _cum_extreme(em_cummin_lanes, cummin_result, input, dim, "cummin")
