# Ops along one dim that keep its length: cumsum, softmax, log_softmax (the other scans
# are in _reduce_scans.pxi).  Included by
# _reduce.pyx.

# ---------------------------------------------------------------- lanes: cumsum, softmax

cdef Tensor _lanes(const em_lanes_fn *table, str op, Tensor x, int d, int out_dt,
                   bint real_parts):
    """Run lane kernel `op` along dim `d` into a new tensor laid out like `x` (`table`'s
    on the CPU, the backend's on other devices)."""
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
    if not _on_cpu(x):
        _backend(x._storage.device.type).lanes(op, dst, src, d)
        return out
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


cdef object _scan_out_dtype(str fname, object dtype, object out):
    """The dtype cumsum/cumprod compute in for ``out=``: ``out``'s (bool has no kernel)."""
    dt = _out_dtype(fname, dtype, out)
    if (<DType>dt).num == EM_BOOL:
        raise NotImplementedError(f'"{fname}_out_cpu" not implemented for \'Bool\'')
    return dt


def cumsum(input, dim=None, *, dtype=None, out=None, axis=None):
    """Cumulative sum along ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int
    dtype : ember.dtype, optional
        Convert the input to this dtype first.  Bool and integer inputs
        otherwise accumulate in ``int64``.
    out : Tensor, optional
        Where to write the result (returned), resized to its shape and
        computed in its dtype (any but bool; ``dtype``, if given too, must
        be the same).

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if dim is None:
        raise TypeError("cumsum() missing required argument 'dim'")
    if out is not None:
        return _with_out("cumsum", out, "same", cumsum, (input, dim),
                         {"dtype": _scan_out_dtype("cumsum", dtype, out)}, (input,))
    if autocast_mode():
        return autocast_op("cumsum", cumsum, (input, dim), {"dtype": dtype})
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
    cdef int out_dt = EM_INT64 if cat < 2 else x._dtype
    if cat < 3 and _on_cpu(x) and x._ndim > 0 and x._numel >= EM_SCAN_LONG \
            and x._numel <= 8 * x._shape[d] and x.is_contig() \
            and x._numel == x._shape[d] * _outer_count(x, d):
        out = _long_lanes(em_cumsum_long[x._dtype], x, x._shape[d], out_dt)
    else:
        out = _lanes(em_cumsum_lanes, "cumsum", x, d, out_dt, cat == 3)
    return out if dt < 0 else _cast(out, dt)


cdef Py_ssize_t _outer_count(Tensor x, int d) noexcept:
    """Elements of the dims before ``d`` (the lanes along ``d`` are contiguous when
    ``x`` is and no dim after ``d`` is longer than 1)."""
    cdef Py_ssize_t n = 1
    cdef int k
    for k in range(d):
        n *= x._shape[k]
    return n


cdef Tensor _long_lanes(em_long_scan_fn fn, Tensor x, Py_ssize_t L, int out_dt):
    """A scan of a few long contiguous lanes, each by the two-pass chunked kernel."""
    cdef Tensor out = new_tensor(x._ndim, x._shape, out_dt, x._storage.device)
    cdef Py_ssize_t lanes = x._numel // L, k
    cdef const char *src = x.ptr()
    cdef char *dst = out.ptr()
    cdef Py_ssize_t in_step = L * em_itemsize[x._dtype], out_step = L * em_itemsize[out_dt]
    with nogil:
        for k in range(lanes):
            fn(dst + k * out_step, src + k * in_step, L)
    return out


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
    return _lanes(table, fname, x, d, x._dtype, False)


def softmax(input, dim=None, dtype=None, *, out=None, axis=None):
    """``exp(x - max) / sum(exp(x - max))`` along ``dim``, fused into three passes per lane.

    Parameters
    ----------
    input : Tensor
        A floating-point tensor.
    dim : int
    dtype : ember.dtype, optional
        Convert the input to this dtype first.
    out : Tensor, optional
        Where to write the result (returned): of the result's dtype, resized
        to its shape.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if dim is None:
        raise TypeError("softmax() missing required argument 'dim'")
    if out is not None:
        return _with_out("softmax", out, "same", softmax, (input, dim, dtype), None, (input,))
    if autocast_mode():
        return autocast_op("softmax", softmax, (input, dim), {"dtype": dtype})
    if grad_enabled() and _records(input):
        return record_op("softmax", softmax, (input, dim, dtype), None)
    return _softmax_impl(em_softmax_lanes, input, dim, dtype, "softmax")


def log_softmax(input, dim=None, dtype=None, *, out=None, axis=None):
    """``x - max - log(sum(exp(x - max)))`` along ``dim``, fused into three passes per lane.

    Parameters
    ----------
    input : Tensor
        A floating-point tensor.
    dim : int
    dtype : ember.dtype, optional
        Convert the input to this dtype first.
    out : Tensor, optional
        Where to write the result (returned): of the result's dtype, resized
        to its shape.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if dim is None:
        raise TypeError("log_softmax() missing required argument 'dim'")
    if out is not None:
        return _with_out("log_softmax", out, "same", log_softmax, (input, dim, dtype), None,
                         (input,))
    if autocast_mode():
        return autocast_op("log_softmax", log_softmax, (input, dim), {"dtype": dtype})
    if grad_enabled() and _records(input):
        return record_op("log_softmax", log_softmax, (input, dim, dtype), None)
    return _softmax_impl(em_log_softmax_lanes, input, dim, dtype, "log_softmax")


# ---------------------------------------------------------------- softmax backward

cdef Tensor _softmax_backward_impl(const em_softmax_backward_fn *table, str op,
                                   object grad_output, object output, object dim, str fname):
    """`op` (the backend's name) of `grad_output` and the forward result `output` along `dim`."""
    cdef Tensor y = _tensor_arg(output, fname)
    cdef Tensor g = _tensor_arg(grad_output, fname)
    if dim is None or isinstance(dim, (tuple, list)):
        raise TypeError(f"{fname}(): argument 'dim' must be int, not {type(dim).__name__}")
    if g.shape != y.shape:
        raise RuntimeError(f"{fname}(): grad_output of shape {tuple(g.shape)} does not match "
                           f"output of shape {tuple(y.shape)}")
    cdef int d = wrap_dim(dim, y._ndim)
    if em_category[y._dtype] != 2:
        raise NotImplementedError(f'"{fname}" not implemented for \'{_name(y._dtype)}\'')
    y = _contiguous(y)
    g = _contiguous(_cast(g, y._dtype))
    cdef Tensor out = new_tensor(y._ndim, y._shape, y._dtype, y._storage.device)
    cdef Py_ssize_t outer = 1, inner = 1, L = 1
    cdef int k
    if y._numel == 0:
        return out
    if not _on_cpu(y):
        _backend(y._storage.device.type).lanes(op, out, g, d, y)
        return out
    for k in range(y._ndim):
        if k < d:
            outer *= y._shape[k]
        elif k > d:
            inner *= y._shape[k]
        else:
            L = y._shape[k]
    cdef em_softmax_backward_fn fn = table[y._dtype]
    cdef void *out_ptr = out.ptr()
    cdef const void *g_ptr = g.ptr()
    cdef const void *y_ptr = y.ptr()
    if y._numel >= EM_GRAIN_SIZE:
        with nogil:
            fn(out_ptr, g_ptr, y_ptr, outer, L, inner)
    else:
        fn(out_ptr, g_ptr, y_ptr, outer, L, inner)
    return out


def softmax_backward_data(grad_output, output, dim):
    """The gradient of ``softmax`` along ``dim`` from its result: ``y * (g - sum(g * y))``,
    fused into two passes per lane.

    Parameters
    ----------
    grad_output : Tensor
        Gradient of the softmax's output.
    output : Tensor
        The softmax's result, of the same shape.
    dim : int

    Returns
    -------
    Tensor
    """
    if grad_enabled() and (_records(grad_output) or _records(output)):
        return record_op("softmax_backward_data", softmax_backward_data,
                         (grad_output, output, dim), None)
    return _softmax_backward_impl(em_softmax_backward, "softmax_backward", grad_output, output,
                                  dim, "softmax_backward_data")


def log_softmax_backward_data(grad_output, output, dim):
    """The gradient of ``log_softmax`` along ``dim`` from its result:
    ``g - exp(y) * sum(g)``, fused into two passes per lane.

    Parameters
    ----------
    grad_output : Tensor
        Gradient of the log_softmax's output.
    output : Tensor
        The log_softmax's result, of the same shape.
    dim : int

    Returns
    -------
    Tensor
    """
    if grad_enabled() and (_records(grad_output) or _records(output)):
        return record_op("log_softmax_backward_data", log_softmax_backward_data,
                         (grad_output, output, dim), None)
    return _softmax_backward_impl(em_log_softmax_backward, "log_softmax_backward",
                                  grad_output, output, dim, "log_softmax_backward_data")
