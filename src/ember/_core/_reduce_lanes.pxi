# Ops along one dim that keep its length: cumsum, softmax, log_softmax.  Included by
# _reduce.pyx.

# ---------------------------------------------------------------- lanes: cumsum, softmax

cdef Tensor _lanes(const em_lanes_fn *table, Tensor x, int d, int out_dt, bint real_parts):
    """Run a lane kernel along dim `d` into a new tensor laid out like `x`."""
    cdef Tensor out = new_like_layout(x, out_dt)
    cdef Tensor src = x, dst = out
    cdef Py_ssize_t in_strides[64]
    cdef Py_ssize_t out_strides[64]
    cdef Py_ssize_t one = 1
    cdef int k
    if x._numel == 0:
        return out
    if x._ndim == 0:
        src = make_view(x, 1, &one, &one, x._offset)
        dst = make_view(out, 1, &one, &one, out._offset)
    if real_parts:
        src = _as_real(src)
        dst = _as_real(dst)
    for k in range(src._ndim):
        in_strides[k] = src._strides[k] * em_itemsize[src._dtype]
        out_strides[k] = dst._strides[k] * em_itemsize[dst._dtype]
    cdef em_lanes_fn fn = table[src._dtype]
    if fn == NULL:
        raise NotImplementedError(f"no lane kernel for {_name(src._dtype)}")
    cdef const char *src_ptr = src.ptr()
    cdef char *dst_ptr = dst.ptr()
    if x._numel >= EM_GRAIN_SIZE:
        with nogil:
            em_lanes_run(fn, src._ndim, src._shape, in_strides, out_strides, d, src_ptr, dst_ptr)
    else:
        em_lanes_run(fn, src._ndim, src._shape, in_strides, out_strides, d, src_ptr, dst_ptr)
    return out


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int
    dtype : ember.dtype, optional
        Convert the input to this dtype first.  Bool and integer inputs
        otherwise accumulate in ``int64``.

    Returns
    -------
    Tensor
    """
    if grad_enabled() and _records(input):
        return record_op("cumsum", cumsum, (input, dim),
                         {"dtype": dtype} if dtype is not None else None)
    cdef Tensor x = _tensor_arg(input, "cumsum")
    cdef int dt = _dtype_arg(dtype)
    if isinstance(dim, (tuple, list)) or dim is None:
        raise TypeError(f"cumsum(): argument 'dim' must be int, not {type(dim).__name__}")
    cdef int d = wrap_dim(dim, x._ndim)
    if dt >= 0:
        x = _cast(x, dt)
    cdef int cat = em_category[x._dtype]
    out = _lanes(em_cumsum_lanes, x, d, EM_INT64 if cat < 2 else x._dtype, cat == 3)
    return out if dt < 0 else _cast(out, dt)


cdef Tensor _softmax_impl(const em_lanes_fn *table, object input, object dim, object dtype,
                          str fname):
    cdef Tensor x = _tensor_arg(input, fname)
    cdef int dt = _dtype_arg(dtype)
    if dim is None or isinstance(dim, (tuple, list)):
        raise TypeError(f"{fname}(): argument 'dim' must be int, not {type(dim).__name__}")
    cdef int d = wrap_dim(dim, x._ndim)
    if dt >= 0:
        x = _cast(x, dt)
    if em_category[x._dtype] != 2 and x._numel != 0:
        raise NotImplementedError(f'"{fname}_lastdim_kernel_impl" not implemented for '
                                  f'\'{_name(x._dtype)}\'')
    return _lanes(table, x, d, x._dtype, False)


def softmax(input, dim, dtype=None):
    """``exp(x - max) / sum(exp(x - max))`` along ``dim``, fused into three passes per lane.

    Parameters
    ----------
    input : Tensor
        A floating-point tensor.
    dim : int
    dtype : ember.dtype, optional
        Convert the input to this dtype first.

    Returns
    -------
    Tensor
    """
    if grad_enabled() and _records(input):
        return record_op("softmax", softmax, (input, dim, dtype), None)
    return _softmax_impl(em_softmax_lanes, input, dim, dtype, "softmax")


def log_softmax(input, dim, dtype=None):
    """``x - max - log(sum(exp(x - max)))`` along ``dim``, fused into three passes per lane.

    Parameters
    ----------
    input : Tensor
        A floating-point tensor.
    dim : int
    dtype : ember.dtype, optional
        Convert the input to this dtype first.

    Returns
    -------
    Tensor
    """
    if grad_enabled() and _records(input):
        return record_op("log_softmax", log_softmax, (input, dim, dtype), None)
    return _softmax_impl(em_log_softmax_lanes, input, dim, dtype, "log_softmax")
