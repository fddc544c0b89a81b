# Statistics and norms: var, std, norm and logsumexp.  Included by _reduce.pyx.

# ---------------------------------------------------------------- var, std

cdef double _correction_arg(object unbiased, object correction) except? -1.0:
    if unbiased is not None and correction is not None:
        raise TypeError("var()/std(): pass either unbiased or correction, not both")
    if correction is not None:
        if not isinstance(correction, (int, float)):
            raise TypeError(f"correction must be a number, not {type(correction).__name__}")
        return float(correction)
    if unbiased is None:
        return 1.0
    return 1.0 if unbiased else 0.0


cdef Tensor _var_impl(object input, object dim, object unbiased, bint keepdim, object correction,
                      bint take_sqrt, str fname):
    cdef Tensor x = _tensor_arg(input, fname), out, xr, parts
    cdef em_reduce_params prm
    cdef uint64_t mask
    cdef Py_ssize_t n, nout
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{fname}(): unbiased was given twice")
        dim, unbiased = None, dim
    _params(&prm)
    prm.correction = _correction_arg(unbiased, correction)
    mask = _dims_mask(dim, x._ndim, True, fname)
    if em_category[x._dtype] < 2:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    n = _reduced_count(x, mask)
    if n - prm.correction <= 0:
        warnings.warn(f"{fname}(): degrees of freedom is <= 0. Correction should be strictly less "
                      f"than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    if em_category[x._dtype] == 3:
        # the variance of a complex tensor is that of its real part plus that of its imaginary part
        xr = _as_real(x)
        parts = _new_output(xr, mask, keepdim, xr._dtype)
        _run(EM_RED_VAR, xr, mask, parts, None, &prm, False)
        out = ew(_OP_ADD, parts.select(-1, 0), parts.select(-1, 1))
        return ew(_OP_SQRT, out) if take_sqrt else out
    prm.take_sqrt = take_sqrt
    return _reduce(EM_RED_VAR, x, mask, keepdim, x._dtype, &prm)


cdef int _real_input_complex_out(object input, object out) except -1:
    """PyTorch computes var/std in out's dtype: a complex one for a real input has no kernel."""
    if not (isinstance(input, Tensor) and isinstance(out, Tensor)):
        return 0
    cdef int ot = (<Tensor>out)._dtype
    if em_category[ot] == 3 and em_category[(<Tensor>input)._dtype] < 3:
        raise NotImplementedError(f'"std_cpu" not implemented for \'{_name(ot)}\'')
    return 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None, axis=None,
        keepdims=None):
    """Variance over ``dim`` (all dims by default), divided by ``N - correction``.

    Parameters
    ----------
    input : Tensor
        A floating-point or complex tensor (complex gives a real result).
    dim : int or tuple of ints, optional
    unbiased : bool, optional
        Legacy form of ``correction``: True is 1, False is 0.
    keepdim : bool, default False
    correction : int or float, default 1
        Bessel's correction; the divisor is ``max(N - correction, 0)``.
    out : Tensor, optional
        Where to write the result (returned), resized to its shape: of a
        dtype the result casts to.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        _real_input_complex_out(input, out)
        return _with_out("var", out, "cast", var, (input, dim, unbiased, keepdim),
                         {"correction": correction}, (input,))
    if grad_enabled() and _records(input):
        return record_op("var", var, (input, dim, unbiased, keepdim),
                         {"correction": correction} if correction is not None else None)
    return _var_impl(input, dim, unbiased, keepdim, correction, False, "var")


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None, axis=None,
        keepdims=None):
    """Standard deviation over ``dim``: the square root of :func:`var`.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
    unbiased : bool, optional
    keepdim : bool, default False
    correction : int or float, default 1
    out : Tensor, optional
        As for :func:`var`.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        _real_input_complex_out(input, out)
        return _with_out("std", out, "cast", std, (input, dim, unbiased, keepdim),
                         {"correction": correction}, (input,))
    if grad_enabled() and _records(input):
        return record_op("std", std, (input, dim, unbiased, keepdim),
                         {"correction": correction} if correction is not None else None)
    return _var_impl(input, dim, unbiased, keepdim, correction, True, "std")


# ---------------------------------------------------------------- norm

def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None, *, axis=None,
         keepdims=None):
    """Vector norm of the elements over ``dim`` (all dims by default).

    Parameters
    ----------
    input : Tensor
        A floating-point or complex tensor.
    p : {'fro', 'nuc', float, inf, -inf}, default 'fro'
        ``'fro'`` and 2: Euclidean; 1: sum of magnitudes; ``inf`` / ``-inf``:
        largest / smallest magnitude; 0: count of non-zeros; other p:
        ``sum(|x|**p) ** (1/p)``; ``'nuc'``: the nuclear norm of the matrices
        over the two dims of ``dim`` (see :func:`ember.linalg.matrix_norm`).
    dim : int or tuple of ints, optional
    keepdim : bool, default False
    out : Tensor, optional
        Where to write the result (returned), resized to its shape: of the
        result's dtype (real for complex input).
    dtype : ember.dtype, optional
        Convert the input to this dtype first.

    Returns
    -------
    Tensor
        Real-valued, also for complex input.
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("norm", out, "same", norm, (input, p, dim, keepdim), {"dtype": dtype},
                         (input,))
    if isinstance(p, str) and p == "nuc":
        # a matrix norm (of the singular values): linalg's, with its own derivative
        from ember.linalg import matrix_norm
        mats = _tensor_arg(input, "norm")
        if dim is None:
            dim = tuple(range(mats.dim()))
        return matrix_norm(mats, "nuc", (dim,) if isinstance(dim, int) else tuple(dim), keepdim,
                           dtype=dtype)
    if autocast_mode():
        return autocast_op("norm", norm, (input, p, dim, keepdim), {"dtype": dtype})
    if grad_enabled() and _records(input):
        return record_op("norm", norm, (input, p, dim, keepdim),
                         {"dtype": dtype} if dtype is not None else None)
    cdef Tensor x = _tensor_arg(input, "norm")
    cdef int dt = _dtype_arg(dtype), op
    cdef em_reduce_params prm
    cdef uint64_t mask
    cdef double order
    _params(&prm)
    if em_category[x._dtype] < 2:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_name(x._dtype)}")
    if p is None or (isinstance(p, str) and p == "fro"):
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                               f"{' '.join(str(d) for d in dim)}")
        order = 2.0
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): order {p!r} is not supported (use 'fro' or a number)")
    elif isinstance(p, (int, float)):
        order = float(p)
    else:
        raise TypeError(f"norm(): argument 'p' must be a number or 'fro', not {type(p).__name__}")
    if dt >= 0:     # PyTorch's rules: floating or complex, the input's kind, no narrowing
        from ember.linalg._norms import _check_dtype
        x = _check_dtype(x, "linalg.vector_norm", dtype_of(dt))
    mask = _dims_mask(dim, x._ndim, True, "norm")
    if order == 2.0:
        if em_category[x._dtype] == 3:
            xr = _as_real(x)
            out = _new_output(x, mask, keepdim, real_of(x._dtype))
            _run(EM_RED_SQ_SUM, xr, mask | (<uint64_t>1 << x._ndim), out, None, &prm, False)
            return out
        return _reduce(EM_RED_SQ_SUM, x, mask, keepdim, x._dtype, &prm)
    if order == INFINITY or order == -INFINITY:
        op = EM_RED_MAX_ABS if order > 0 else EM_RED_MIN_ABS
        if _reduced_count(x, mask) == 0:
            raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor "
                               "because the operation does not have an identity")
    elif order == 1.0:
        op = EM_RED_ABS_SUM
    elif order == 0.0:
        op = EM_RED_NONZERO
    else:
        op = EM_RED_POW_SUM
        prm.p = order
        prm.inv_p = 1.0 / order
    return _reduce(op, x, mask, keepdim, real_of(x._dtype), &prm)


# ---------------------------------------------------------------- logsumexp

def logsumexp(input, dim=None, keepdim=False, *, out=None, axis=None, keepdims=None):
    """``log(sum(exp(input)))`` over ``dim``, computed stably (shifted by the maximum).

    Parameters
    ----------
    input : Tensor
        Integer and bool inputs are converted to the default float dtype.
    dim : int or tuple of ints
    keepdim : bool, default False
    out : Tensor, optional
        A floating-point or complex tensor to write the result into
        (returned), resized to its shape.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if dim is None:
        raise TypeError("logsumexp() missing required argument 'dim'")
    if out is not None:
        return _with_out("logsumexp", out, "float", logsumexp, (input, dim, keepdim), None,
                         (input,))
    if autocast_mode():
        return autocast_op("logsumexp", logsumexp, (input, dim, keepdim), None)
    if grad_enabled() and _records(input):
        return record_op("logsumexp", logsumexp, (input, dim, keepdim), None)
    cdef Tensor x = _tensor_arg(input, "logsumexp"), re, shift, total
    cdef uint64_t mask = _dims_mask(dim, x._ndim, True, "logsumexp")
    cdef em_reduce_params prm
    _params(&prm)
    if em_category[x._dtype] < 2:
        x = _cast(x, default_float())
    if _reduced_count(x, mask) == 0:
        out = _new_output(x, mask, keepdim, x._dtype)
        out.fill_(-INFINITY)
        return out
    # complex input: shift by the largest real part
    re = _real_part(x) if em_category[x._dtype] == 3 else x
    shift = _reduce(EM_RED_MAX, re, mask, True, re._dtype, &prm)
    # an infinite maximum would turn exp(x - max) into NaN: shift by 0 there
    shift = ew(_OP_WHERE, ew(_OP_LT, ew(_OP_ABS, shift), INFINITY), shift, 0.0)
    total = _sum_impl(ew(_OP_EXP, ew(_OP_SUB, x, shift)), mask, keepdim, -1, False)
    if not keepdim:
        shift = _drop_reduced_dims(shift, x, mask)
    return ew(_OP_ADD, ew(_OP_LOG, total), shift)


cdef Tensor _drop_reduced_dims(Tensor kept, Tensor x, uint64_t mask):
    """`kept` (size 1 at the reduced dims of `x`) viewed without those dims."""
    cdef Py_ssize_t shape[64]
    cdef int d, nd = 0
    cdef Tensor c = _contiguous(kept)
    for d in range(x._ndim):
        if not (mask >> d) & 1:
            shape[nd] = x._shape[d]
            nd += 1
    return make_view(c, nd, shape, NULL, c._offset)
