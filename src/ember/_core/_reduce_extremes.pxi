# The extremes: amax, amin, argmax, argmin, max and min.  Included by _reduce.pyx.

# ---------------------------------------------------------------- max, min, argmax, argmin

cdef Tensor _extreme(int op, Tensor x, object dim, bint keepdim, str fname):
    cdef uint64_t mask = _dims_mask(dim, x._ndim, True, fname)
    cdef em_reduce_params prm
    _params(&prm)
    _check_nonempty(x, mask, dim, fname)
    if not _has_kernel(op, x._dtype):
        if _reduced_count(x, mask) != 0 and x._numel == 0:
            return _new_output(x, mask, keepdim, x._dtype)    # nothing to compute, as PyTorch
        raise NotImplementedError(f'"{fname}" not implemented for \'{_name(x._dtype)}\'')
    return _reduce(op, x, mask, keepdim, x._dtype, &prm)


def amax(input, dim=(), keepdim=False, *, out=None, axis=None, keepdims=None):
    """Largest element over ``dim`` (all dims by default); NaN if any element is NaN.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
    keepdim : bool, default False
    out : Tensor, optional
        Where to write the result (returned): of the input's dtype, resized
        to the result's shape.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("amax", out, "same", amax, (input, dim, keepdim), None, (input,))
    if grad_enabled() and _records(input):
        return record_op("amax", amax, (input, dim, keepdim), None)
    return _extreme(EM_RED_MAX, _tensor_arg(input, "amax"), dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False, *, out=None, axis=None, keepdims=None):
    """Smallest element over ``dim`` (all dims by default); NaN if any element is NaN.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
    keepdim : bool, default False
    out : Tensor, optional
        Where to write the result (returned): of the input's dtype, resized
        to the result's shape.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("amin", out, "same", amin, (input, dim, keepdim), None, (input,))
    if grad_enabled() and _records(input):
        return record_op("amin", amin, (input, dim, keepdim), None)
    return _extreme(EM_RED_MIN, _tensor_arg(input, "amin"), dim, keepdim, "amin")


cdef object _arg_along(int op, Tensor x, object dim, bint keepdim, bint with_values, str fname):
    """Values and first indices of the extreme along one dim (NaN counts as the extreme)."""
    cdef int d = wrap_dim(dim, x._ndim)
    cdef uint64_t mask = (<uint64_t>1 << d) if x._ndim > 0 else 0
    cdef em_reduce_params prm
    cdef Tensor values = None, indices
    _params(&prm)
    if x._ndim > 0 and x._shape[d] == 0:
        raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    indices = _new_output(x, mask, keepdim, EM_INT64)
    if with_values:
        values = _new_output(x, mask, keepdim, x._dtype)
    _run(op, x, mask, values, indices, &prm, True)
    if with_values:
        return values, indices
    return indices


cdef Tensor _arg_extreme(int op, object input, object dim, bint keepdim, str fname):
    cdef Tensor x = _tensor_arg(input, fname), flat
    cdef Py_ssize_t one = 1, n
    if x._dtype == EM_BOOL:
        raise RuntimeError(f"{fname}(): does not support bool input")
    if em_category[x._dtype] == 3:
        raise RuntimeError(f"{fname}(): does not support complex input")
    if dim is not None:
        return _arg_along(op, x, dim, keepdim, False, fname)
    if x._numel == 0:
        raise IndexError(f"{fname}(): Expected reduction dim to be specified for input.numel() "
                         f"== 0.")
    x = _contiguous(x)
    n = x._numel
    flat = make_view(x, 1, &n, &one, x._offset)
    cdef Tensor indices = _arg_along(op, flat, 0, False, False, fname)
    if keepdim:
        shape = [1] * x._ndim
        return indices.reshape(shape)
    return indices


def argmax(input, dim=None, keepdim=False, *, out=None, axis=None, keepdims=None):
    """Index of the first largest element (of the flattened tensor when ``dim`` is None).

    NaN counts as larger than every number, as in PyTorch.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    keepdim : bool, default False
    out : Tensor, optional
        ``int64`` tensor to write the indices into (returned), resized to
        their shape.

    Returns
    -------
    Tensor
        ``int64`` indices.
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("argmax", out, "same", argmax, (input, dim, keepdim), None, (),
                         False)
    if grad_enabled() and _records(input):
        # no gradient, but recorded: ember.jit's tracer sees the op
        return record_op("argmax", argmax, (input, dim, keepdim), None)
    return _arg_extreme(EM_RED_ARGMAX, input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False, *, out=None, axis=None, keepdims=None):
    """Index of the first smallest element (of the flattened tensor when ``dim`` is None).

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    keepdim : bool, default False
    out : Tensor, optional
        ``int64`` tensor to write the indices into (returned), resized to
        their shape.

    Returns
    -------
    Tensor
        ``int64`` indices.
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("argmin", out, "same", argmin, (input, dim, keepdim), None, (),
                         False)
    if grad_enabled() and _records(input):
        return record_op("argmin", argmin, (input, dim, keepdim), None)
    return _arg_extreme(EM_RED_ARGMIN, input, dim, keepdim, "argmin")


cdef object _max_min(bint is_max, object input, object dim, bint keepdim, object other):
    cdef str fname = "max" if is_max else "min"
    cdef Tensor x = _tensor_arg(input, fname)
    if other is not None:
        if dim is not None:
            raise TypeError(f"{fname}(): pass either dim or other, not both")
        dim = other
    if isinstance(dim, Tensor):
        return ew(_OP_MAXIMUM if is_max else _OP_MINIMUM, x, dim)
    if dim is None:
        if em_category[x._dtype] == 3:
            raise NotImplementedError(f'"{fname}_all" not implemented for \'{_name(x._dtype)}\'')
        return _extreme(EM_RED_MAX if is_max else EM_RED_MIN, x, None, keepdim, fname)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{fname}(): argument 'dim' must be int, not {type(dim).__name__}")
    if em_category[x._dtype] == 3:
        raise RuntimeError(f"{fname}(): does not support complex input")
    values, indices = _arg_along(EM_RED_ARGMAX if is_max else EM_RED_ARGMIN, x, dim, keepdim,
                                 True, fname)
    return (max_result if is_max else min_result)(values, indices)


cdef object _max_min_out(bint is_max, object input, object dim, bint keepdim, object other,
                         object out):
    cdef str fname = "max" if is_max else "min"
    if other is not None or isinstance(dim, Tensor):
        if other is not None and dim is not None:
            raise TypeError(f"{fname}(): pass either dim or other, not both")
        return ew(_OP_MAXIMUM if is_max else _OP_MINIMUM, input,
                  dim if other is None else other, out=out)
    return _with_out(fname, out, "cast" if dim is None else ("same", "same"),
                     max if is_max else min, (input, dim, keepdim), None, (input,))


def max(input, dim=None, keepdim=False, *, other=None, out=None, axis=None, keepdims=None):
    """The largest element; along ``dim``, ``(values, indices)``; with a tensor, ``maximum``.

    ``max(t)`` returns a 0-d tensor, ``max(t, dim, keepdim=False)`` a named
    tuple with ``.values`` and ``.indices`` (first occurrence; NaN wins), and
    ``max(t, other)`` the elementwise :func:`ember.maximum`.

    Parameters
    ----------
    input : Tensor
    dim : int or Tensor, optional
    keepdim : bool, default False
    other : Tensor, optional
        Same as passing a tensor as ``dim``.
    out : Tensor or (Tensor, Tensor), optional
        Where to write the result (returned), resized to its shape: with
        ``dim``, a ``(values, indices)`` pair of the input's dtype and
        ``int64``; without, a tensor of a dtype the input casts to.

    Returns
    -------
    Tensor or (Tensor, Tensor)
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _max_min_out(True, input, dim, keepdim, other, out)
    if grad_enabled() and _records(input) and other is None and not isinstance(dim, Tensor):
        return record_op("max", max, (input, dim, keepdim), None)
    return _max_min(True, input, dim, keepdim, other)


def min(input, dim=None, keepdim=False, *, other=None, out=None, axis=None, keepdims=None):
    """The smallest element; along ``dim``, ``(values, indices)``; with a tensor, ``minimum``.

    Parameters
    ----------
    input : Tensor
    dim : int or Tensor, optional
    keepdim : bool, default False
    other : Tensor, optional
        Same as passing a tensor as ``dim``.
    out : Tensor or (Tensor, Tensor), optional
        Where to write the result (returned), resized to its shape: with
        ``dim``, a ``(values, indices)`` pair of the input's dtype and
        ``int64``; without, a tensor of a dtype the input casts to.

    Returns
    -------
    Tensor or (Tensor, Tensor)
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _max_min_out(False, input, dim, keepdim, other, out)
    if grad_enabled() and _records(input) and other is None and not isinstance(dim, Tensor):
        return record_op("min", min, (input, dim, keepdim), None)
    return _max_min(False, input, dim, keepdim, other)
