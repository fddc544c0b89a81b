# out= for the reductions, scans and order statistics: one helper that every such op
# calls, the ops compiled here and those written in Python (ember.ops.stats and
# ember.ops.sorting).  Included by _reduce.pyx.
#
# The op computes its result as without out=, then the result is written into `out`:
# a copy, so that an out that overlaps the input gets the right values, and the
# result's dtype rules and shapes are those of the plain call.

from ember._core._dtype import CPP_NAMES as _CPP_NAMES


def _out_dtype(str fname, object dtype, object out):
    """The dtype an op that computes in its output's dtype (``sum``, ``cumsum``...) takes
    for ``out``: ``out``'s own, which a ``dtype=`` given too must name."""
    cdef Tensor o = _out_tensor(fname, out)
    if dtype is not None and (<DType>as_dtype(dtype)).num != o._dtype:
        raise RuntimeError(f"Expected out tensor to have dtype "
                           f"{_CPP_NAMES[(<DType>as_dtype(dtype)).num]}, but got "
                           f"{_CPP_NAMES[o._dtype]} instead")
    return o.get_dtype()


cdef Tensor _out_tensor(str fname, object out):
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
    return <Tensor>out


def _with_out(str fname, object out, object rules, object fn, tuple args, dict kwargs=None,
              tuple inputs=(), bint differentiable=True):
    """``fn(*args, **kwargs)`` written into ``out`` (a Tensor, or a tuple of them for an
    op with several results), which is returned, as PyTorch's ``out=`` variants do.

    ``rules`` (one per result) says which dtypes ``out`` may have: ``"same"`` the
    result's, ``"cast"`` one the result casts to (no float to int, no complex to
    real), ``"float"`` any floating-point or complex dtype, ``"bool"`` bool or uint8.
    An ``out`` of another shape is resized (with PyTorch's warning when it held
    elements).  With grad mode on, an op whose result is ``differentiable`` refuses
    ``inputs`` or outs that require grad, as PyTorch does.
    """
    cdef bint several = isinstance(rules, tuple), previous
    cdef list outs
    cdef Py_ssize_t k
    if several:
        if not isinstance(out, (tuple, list)):
            raise TypeError(f"{fname}(): argument 'out' must be tuple of Tensors, not "
                            f"{type(out).__name__}")
        if len(out) != len(rules):
            raise TypeError(f"expected tuple of {len(rules)} elements but got {len(out)}")
        outs = [_out_tensor(fname, o) for o in out]
    else:
        outs = [_out_tensor(fname, out)]
    if differentiable and grad_enabled():
        for t in list(inputs) + outs:
            if _records(t):
                raise RuntimeError(f"{fname}(): functions with out=... arguments don't support "
                                   f"automatic differentiation, but one of the arguments "
                                   f"requires grad.")
    previous = set_grad_mode(False)
    try:
        result = fn(*args, **kwargs) if kwargs else fn(*args)
    finally:
        set_grad_mode(previous)
    if not several:
        return _write_out(fname, <Tensor>result, outs[0], rules)
    for k in range(len(rules)):
        _write_out(fname, <Tensor>result[k], outs[k], rules[k])
    return type(result)(*outs)


cdef Tensor _write_out(str fname, Tensor result, Tensor out, str rule):
    """Check `out` against `rule`, give it `result`'s shape and copy `result` into it."""
    refusal = _dtype_refusal(fname, result._dtype, out._dtype, rule)
    if refusal is not None:
        raise RuntimeError(refusal)
    if out._storage.device != result._storage.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {result._storage.device} and {out._storage.device}!")
    if out._storage.readonly_mem:
        raise RuntimeError("cannot write to a tensor that views read-only memory")
    check_not_inference(out, "inplace")
    resize_output(out, result._ndim, result._shape)
    _check_no_shared_elements(out)
    copy_into(out, result)
    bump_version(out)
    return out


cdef int _check_no_shared_elements(Tensor t) except -1:
    """Refuse an out whose elements share memory (an expanded view): the values would clash."""
    cdef int d
    for d in range(t._ndim if t._numel else 0):
        if t._strides[d] == 0 and t._shape[d] > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
    return 0


cdef str _dtype_refusal(str fname, int rt, int ot, str rule):
    """Why an out of dtype `ot` cannot take a result of dtype `rt` under `rule` (None if
    it can), in PyTorch's words."""
    if rule == "same":
        if rt != ot:
            return (f"Expected out tensor to have dtype {_CPP_NAMES[rt]}, but got "
                    f"{_CPP_NAMES[ot]} instead")
    elif rule == "cast":
        if em_category[rt] > em_category[ot]:
            return f"result type {_name(rt)} can't be cast to the desired output type {_name(ot)}"
    elif rule == "float":
        if em_category[ot] < 2:
            return f"{fname}(): Expected floating point type for result tensor, but got: {_name(ot)}"
    elif rule == "bool":
        if ot != EM_BOOL and ot != EM_UINT8:
            return f"{fname} only supports bool tensor for result, got: {_name(ot)}"
    else:
        raise ValueError(f"unknown out= rule {rule!r}")
    return None
