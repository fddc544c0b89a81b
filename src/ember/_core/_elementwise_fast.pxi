# The elementwise fast paths (same-dtype contiguous operands straight to one loop call,
# in place too) and the entry points the op tables bind: ew, ew_ and the compiled
# closures behind ember.exp, Tensor.exp, Tensor.exp_, add/sub/div.  Included by
# _tensor.pyx after _elementwise.pxi.

# ---------------------------------------------------------------- fast paths

cdef inline bint _same_shape(Tensor a, Tensor b) noexcept:
    cdef int d
    if a._ndim != b._ndim:
        return False
    for d in range(a._ndim):
        if a._shape[d] != b._shape[d]:
            return False
    return True


cdef inline int _run_contiguous(em_loop_fn fn, int nop, char **data, Py_ssize_t *strides,
                                Py_ssize_t n) except -1:
    cdef em_ew_ctx ctx
    ctx.error = 0
    if n < SWEEP_CHUNK:
        fn(data, strides, n, &ctx)
    elif n < EM_GRAIN_SIZE:
        _run_contiguous_sweep(fn, nop, data, strides, n, &ctx)
    else:
        _run_contiguous_parallel(fn, nop, data, strides, n, &ctx)
    if ctx.error:
        return _check_ctx(&ctx)
    return 0


cdef enum:
    SWEEP_CHUNK = 1024          # elements per forward-running piece of a backward sweep


cdef void _run_contiguous_sweep(em_loop_fn fn, int nop, char **data, Py_ssize_t *strides,
                                Py_ssize_t n, em_ew_ctx *ctx) noexcept:
    cdef char *piece[EM_MAX_OPERANDS]
    cdef Py_ssize_t start
    cdef int k
    if not next_sweep_backward():
        fn(data, strides, n, ctx)
        return
    start = (n - 1) // SWEEP_CHUNK * SWEEP_CHUNK
    while start >= 0:
        for k in range(nop):
            piece[k] = data[k] + start * strides[k]
        fn(piece, strides, min(SWEEP_CHUNK, n - start), ctx)
        start -= SWEEP_CHUNK


cdef void _run_contiguous_parallel(em_loop_fn fn, int nop, char **data, Py_ssize_t *strides,
                                   Py_ssize_t n, em_ew_ctx *ctx) noexcept:
    # kept out of line: the iterator struct is large and small calls need not pay for its stack
    cdef em_iter it
    cdef int k
    it.nop = nop
    it.ndim = 1
    it.shape[0] = n
    for k in range(nop):
        it.data[k] = data[k]
        it.strides[k][0] = strides[k]
    with nogil:
        em_iter_run_write_only(&it, fn, ctx, strides)


cdef inline bint _records(object x) noexcept:
    return isinstance(x, Tensor) and (<Tensor>x)._requires_grad


cdef object binary_operator(int op, object a, object b):
    """Tensor operator slots: fast paths first, NotImplemented for foreign operands."""
    cdef object result
    if not ((em_grad_mode and (_records(a) or _records(b))) or em_autocast_mode):
        result = _binary_fast(op, a, b)
        if result is not None:
            return result
    if as_operand(a) is None or as_operand(b) is None:
        return NotImplemented
    return dispatch_ew(op, [a, b], None, False)


cdef object _binary_fast(int op, object a, object b):
    """Same-dtype contiguous operands (or a tensor and a scalar of no higher kind) straight
    to one kernel call; None when no fast path applies."""
    cdef Tensor ta, tb, out
    cdef const em_ew_op *info = EW_OPS[op]
    cdef em_loop_fn fn
    cdef char *data[3]
    cdef Py_ssize_t strides[3]
    cdef char scalar_buf[16]
    cdef int dt, sdt
    if isinstance(a, Tensor):
        ta = <Tensor>a
        dt = ta._dtype
        fn = info.loops[dt]
        if (fn != NULL and ta._storage.device.type_num == DEV_CPU
                and not (info.promote_float and em_category[dt] < 2)):
            if isinstance(b, Tensor):
                tb = <Tensor>b
                if (tb._dtype == dt and tb._storage.device.type_num == DEV_CPU):
                    if _same_shape(ta, tb) and ta.is_contig() and tb.is_contig():
                        out = new_contiguous_like(ta, out_dtype_of(info, dt))
                        data[0] = out.ptr()
                        data[1] = ta.ptr()
                        data[2] = tb.ptr()
                        strides[0] = em_itemsize[out._dtype]
                        strides[1] = em_itemsize[dt]
                        strides[2] = em_itemsize[dt]
                        _run_contiguous(fn, 3, data, strides, ta._numel)
                        return out
                    return _strided_binary(fn, out_dtype_of(info, dt), ta, tb)
            else:
                sdt = scalar_dtype(b)
                if (sdt >= 0 and em_category[sdt] <= em_category[dt] and ta._ndim > 0
                        and ta.is_contig()
                        and not (sdt == EM_BOOL and op == OP_SUB)
                        and not (op == OP_POW and em_category[dt] <= 1)
                        and not ((dt == EM_FLOAT16 or dt == EM_BFLOAT16)
                                 and (op == OP_MUL or op == OP_DIV))):
                    write_scalar(scalar_buf, dt, b)
                    out = new_contiguous_like(ta, out_dtype_of(info, dt))
                    data[0] = out.ptr()
                    data[1] = ta.ptr()
                    data[2] = scalar_buf
                    strides[0] = em_itemsize[out._dtype]
                    strides[1] = em_itemsize[dt]
                    strides[2] = 0
                    _run_contiguous(fn, 3, data, strides, ta._numel)
                    return out
    elif isinstance(b, Tensor):
        tb = <Tensor>b
        dt = tb._dtype
        sdt = scalar_dtype(a)
        if (sdt >= 0 and em_category[sdt] <= em_category[dt] and tb._ndim > 0
                and not (sdt == EM_BOOL and op == OP_SUB)
                and not ((dt == EM_FLOAT16 or dt == EM_BFLOAT16) and (op == OP_MUL or op == OP_DIV)) and tb._storage.device.type_num == DEV_CPU
                and tb.is_contig() and not (info.promote_float and em_category[dt] < 2)):
            fn = info.loops[dt]
            if fn != NULL:
                write_scalar(scalar_buf, dt, a)
                out = new_contiguous_like(tb, out_dtype_of(info, dt))
                data[0] = out.ptr()
                data[1] = scalar_buf
                data[2] = tb.ptr()
                strides[0] = em_itemsize[out._dtype]
                strides[1] = 0
                strides[2] = em_itemsize[dt]
                _run_contiguous(fn, 3, data, strides, tb._numel)
                return out
    return None


cdef Tensor _strided_binary(em_loop_fn fn, int odt, Tensor a, Tensor b):
    """Same-dtype binary op on any layouts: broadcast in C, output laid out like an input."""
    cdef em_iter it
    cdef em_ew_ctx ctx
    cdef Py_ssize_t shape[64]
    cdef int nd = a._ndim if a._ndim > b._ndim else b._ndim, d, da, db
    cdef Py_ssize_t sa, sb
    cdef Tensor out
    for d in range(nd):
        da = d - (nd - a._ndim)
        db = d - (nd - b._ndim)
        sa = a._shape[da] if da >= 0 else 1
        sb = b._shape[db] if db >= 0 else 1
        if sa == sb or sb == 1:
            shape[d] = sa
        elif sa == 1:
            shape[d] = sb
        else:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                               f"at non-singleton dimension {d}")
    if a._ndim == nd and memcmp(a._shape, shape, nd * sizeof(Py_ssize_t)) == 0:
        out = new_like_layout(a, odt)
    elif b._ndim == nd and memcmp(b._shape, shape, nd * sizeof(Py_ssize_t)) == 0:
        out = new_like_layout(b, odt)
    else:
        out = new_tensor(nd, shape, odt, CPU)
    ctx.error = 0
    it.nop = 3
    it.ndim = nd
    for d in range(nd):
        it.shape[d] = shape[d]
    _fill_strides(&it, 0, out, nd, shape)
    _fill_strides(&it, 1, a, nd, shape)
    _fill_strides(&it, 2, b, nd, shape)
    if em_iter_prepare(&it, True) == 0:
        return out
    cdef Py_ssize_t itemsize[3]
    itemsize[0] = em_itemsize[odt]
    itemsize[1] = em_itemsize[a._dtype]
    itemsize[2] = itemsize[1]
    if out._numel >= EM_GRAIN_SIZE:
        with nogil:
            em_iter_run_write_only(&it, fn, &ctx, itemsize)
    else:
        if not em_iter_run_tiled(&it, fn, &ctx, itemsize, next_sweep_backward()):
            em_iter_run_write_only(&it, fn, &ctx, itemsize)
    if ctx.error:
        _check_ctx(&ctx)
    return out


cdef object unary_operator(int op, Tensor a):
    cdef const em_ew_op *info = EW_OPS[op]
    cdef em_loop_fn fn = info.loops[a._dtype]
    cdef char *data[2]
    cdef Py_ssize_t strides[2]
    cdef Tensor out
    if (fn != NULL and not (a._requires_grad and em_grad_mode) and not em_autocast_mode
            and a._storage.device.type_num == DEV_CPU and a.is_contig() and not (info.promote_float and em_category[a._dtype] < 2)):
        out = new_contiguous_like(a, out_dtype_of(info, a._dtype))
        data[0] = out.ptr()
        data[1] = a.ptr()
        strides[0] = em_itemsize[out._dtype]
        strides[1] = em_itemsize[a._dtype]
        _run_contiguous(fn, 2, data, strides, a._numel)
        return out
    return dispatch_ew(op, [a], None, False)


cdef object _inplace_fast(int op, Tensor s, object other):
    """``s op= other`` (``other`` None for a unary op) straight to one kernel call when
    ``s`` is contiguous, keeps its dtype and ``other`` needs no cast or broadcast; None
    when no fast path applies."""
    cdef const em_ew_op *info = EW_OPS[op]
    cdef int dt = s._dtype, sdt, nop = 2
    cdef em_loop_fn fn = info.loops[dt]
    cdef Tensor to
    cdef char *data[3]
    cdef Py_ssize_t strides[3]
    cdef char scalar_buf[16]
    if (fn == NULL or s._storage.device.type_num != DEV_CPU or not s.is_contig()
            or s._storage.readonly_mem or (s._storage.inference and not em_inference_on)
            or out_dtype_of(info, dt) != dt
            or (info.promote_float and em_category[dt] < 2)):
        return None
    data[0] = data[1] = s.ptr()
    strides[0] = strides[1] = em_itemsize[dt]
    if info.arity == 2:
        nop = 3
        if isinstance(other, Tensor):
            to = <Tensor>other
            if (to._dtype != dt or to._storage.device.type_num != DEV_CPU
                    or not _same_shape(s, to) or not to.is_contig()):
                return None
            if to.ptr() != data[0] and _overlaps(s, to):
                return None         # a shifted view of itself: the generic path copies it
            data[2] = to.ptr()
            strides[2] = em_itemsize[dt]
        else:
            sdt = scalar_dtype(other)
            if (sdt < 0 or em_category[sdt] > em_category[dt] or s._ndim == 0
                    or (sdt == EM_BOOL and op == OP_SUB)
                    or (op == OP_POW and em_category[dt] <= 1)
                    or ((dt == EM_FLOAT16 or dt == EM_BFLOAT16)
                        and (op == OP_MUL or op == OP_DIV))):
                return None
            write_scalar(scalar_buf, dt, other)
            data[2] = scalar_buf
            strides[2] = 0
    elif info.arity != 1:
        return None
    _run_contiguous(fn, nop, data, strides, s._numel)
    bump_version(s)
    return s


cdef object _out_fast(int op, Tensor out, tuple args):
    """``op(*args, out=out)`` straight to one kernel call when ``out`` and the tensor
    operands are contiguous CPU tensors of one shape, the operands of one dtype whose
    result dtype is ``out``'s, each operand either ``out`` itself or apart from it, and
    nothing records gradients; None when no fast path applies."""
    cdef const em_ew_op *info = EW_OPS[op]
    cdef int k, nop = len(args) + 1, dt
    cdef em_loop_fn fn
    cdef Tensor t
    cdef char *data[3]
    cdef Py_ssize_t strides[3]
    if (nop > 3 or out._storage.device.type_num != DEV_CPU or not out.is_contig()
            or out._storage.readonly_mem or (out._storage.inference and not em_inference_on)
            or (em_grad_mode and out._requires_grad)):
        return None
    if not isinstance(args[0], Tensor):
        return None
    dt = (<Tensor>args[0])._dtype
    fn = info.loops[dt]
    if (fn == NULL or out_dtype_of(info, dt) != out._dtype
            or (info.promote_float and em_category[dt] < 2)):
        return None
    data[0] = out.ptr()
    strides[0] = em_itemsize[out._dtype]
    for k in range(nop - 1):
        if not isinstance(args[k], Tensor):
            return None
        t = <Tensor>args[k]
        if (t._dtype != dt or t._storage.device.type_num != DEV_CPU or not _same_shape(t, out)
                or not t.is_contig() or (em_grad_mode and t._requires_grad)):
            return None
        if t.ptr() != data[0] and _overlaps(out, t):
            return None         # a shifted view of the output: the generic path copies it
        data[k + 1] = t.ptr()
        strides[k + 1] = em_itemsize[dt]
    _run_contiguous(fn, nop, data, strides, out._numel)
    bump_version(out)
    return out


cdef object ew_inplace(int op, Tensor self, object other):
    """The in-place operator slots (``+=``...): NotImplemented for foreign operands."""
    cdef object result
    if not (em_grad_mode and (self._requires_grad or _records(other))):
        result = _inplace_fast(op, self, other)
        if result is not None:
            return result
    if as_operand(other) is None:
        return NotImplemented
    return dispatch_ew(op, [self, other], None, True)


cdef object _binary_inplace(int op, Tensor self, object other):
    cdef object result
    if not (em_grad_mode and (self._requires_grad or _records(other))):
        result = _inplace_fast(op, self, other)
        if result is not None:
            return result
    return dispatch_ew(op, [self, other], None, True)


cdef object dispatch_ew(int op, list args, Tensor out, bint inplace):
    # autocast wraps the functional form only (PyTorch's tables name no in-place or out=
    # overloads); the operator fast paths come here while autocast is on
    if em_autocast_mode and out is None and not inplace and op in _autocast_ew_ops:
        return autocast_op(_op_name(op), ew, (op,) + tuple(args), None)
    if em_grad_mode and _ew_recorder != NULL:
        if out is not None and out._requires_grad:     # refused there, as in PyTorch
            return _ew_recorder(op, args, out, inplace)
        for a in args:
            if isinstance(a, Tensor) and (<Tensor>a)._requires_grad:
                return _ew_recorder(op, args, out, inplace)
    return ew_generic(op, args, out, inplace)


def ew(int op, *args, out=None):
    """Run elementwise op number ``op`` (see :func:`op_id`) on ``args``, optionally into ``out``."""
    if out is not None and not isinstance(out, Tensor):
        raise TypeError(f"out= must be a Tensor, got {type(out).__name__}")
    if len(args) != EW_OPS[op].arity:
        raise TypeError(f"{_op_name(op)}() takes {EW_OPS[op].arity} tensor arguments "
                        f"({len(args)} given)")
    if out is None:
        # the operator slots' fast paths serve the named functions too
        if len(args) == 1 and isinstance(args[0], Tensor):
            return unary_operator(op, <Tensor>args[0])
        if len(args) == 2:
            result = binary_operator(op, args[0], args[1])
            if result is not NotImplemented:
                return result
    else:
        result = _out_fast(op, <Tensor>out, args)
        if result is not None:
            return result
    return dispatch_ew(op, list(args), out, False)


def _ew_callables(int op, int arity):
    """``(function, method, inplace)`` for elementwise op number ``op``: compiled
    closures, so that ``t.exp()``, ``ember.exp(t)`` and ``t.exp_()`` reach the kernel
    without a Python frame."""
    if arity == 1:
        def function(input, *, out=None):
            if out is None and isinstance(input, Tensor):
                return unary_operator(op, <Tensor>input)
            return ew(op, input, out=out)

        def method(self):
            if isinstance(self, Tensor):
                return unary_operator(op, <Tensor>self)
            return ew(op, self)

        def inplace(Tensor self):
            if not (em_grad_mode and self._requires_grad):
                result = _inplace_fast(op, self, None)
                if result is not None:
                    return result
            return dispatch_ew(op, [self], None, True)
    elif arity == 2:
        def function(input, other, *, out=None):
            if out is None:
                result = binary_operator(op, input, other)
                if result is not NotImplemented:
                    return result
            return ew(op, input, other, out=out)

        def method(self, other):
            result = binary_operator(op, self, other)
            if result is not NotImplemented:
                return result
            return ew(op, self, other)

        def inplace(Tensor self, other):
            return _binary_inplace(op, self, other)
    else:
        def function(input, second, third, *, out=None):
            return ew(op, input, second, third, out=out)

        def method(self, second, third):
            return ew(op, self, second, third)

        def inplace(Tensor self, second, third):
            return dispatch_ew(op, [self, second, third], None, True)
    return function, method, inplace


def _keyword_callables(int op, str keyword, object default, object slow):
    """``(function, method, inplace)`` for binary op number ``op`` taking one keyword
    (``add``/``sub``'s ``alpha``, ``div``'s ``rounding_mode``), compiled: with the keyword
    at ``default`` they take the operator fast paths; otherwise they call
    ``slow(input, other, value, out)``, which returns the result (``inplace``
    copies it into ``self``)."""
    def function(input, other, *, out=None, **kwargs):
        if kwargs:
            value = _keyword_value(kwargs, keyword, default, op)
            if not _is_default(value, default):
                return slow(input, other, value, out)
        if out is None:
            result = binary_operator(op, input, other)
            if result is not NotImplemented:
                return result
        return ew(op, input, other, out=out)

    def method(self, other, **kwargs):
        if kwargs:
            value = _keyword_value(kwargs, keyword, default, op)
            if not _is_default(value, default):
                return slow(self, other, value, None)
        result = binary_operator(op, self, other)
        if result is not NotImplemented:
            return result
        return ew(op, self, other)

    def inplace(Tensor self, other, **kwargs):
        if kwargs:
            value = _keyword_value(kwargs, keyword, default, op)
            if not _is_default(value, default):
                return self.copy_(slow(self, other, value, None))
        return _binary_inplace(op, self, other)
    return function, method, inplace


cdef object _keyword_value(dict kwargs, str keyword, object default, int op):
    if len(kwargs) > 1 or keyword not in kwargs:
        extra = next(k for k in kwargs if k != keyword)
        raise TypeError(f"{_op_name(op)}() got an unexpected keyword argument '{extra}'")
    return kwargs[keyword]


cdef inline bint _is_default(object value, object default):
    # alpha=1 must be the int 1 (alpha=1.0 on integer tensors is an error in PyTorch)
    return value is default or (type(value) is type(default) and value == default)


def ew_(int op, Tensor self, *args):
    """Run elementwise op number ``op`` in place on ``self``."""
    cdef object result
    cdef Py_ssize_t n = len(args)
    if n + 1 != EW_OPS[op].arity:
        raise TypeError(f"{_op_name(op)}_() takes {EW_OPS[op].arity - 1} arguments "
                        f"({n} given)")
    if n <= 1 and not (em_grad_mode and (self._requires_grad
                                         or (n == 1 and _records(args[0])))):
        result = _inplace_fast(op, self, args[0] if n == 1 else None)
        if result is not None:
            return result
    return dispatch_ew(op, [self] + list(args), None, True)


cdef object ew_forward(int op, list args, object out, bint inplace):
    """The kernel-only form of an elementwise op, run by autograd under its own recording."""
    cdef object result
    if out is None and not inplace and len(args) == 2:
        result = _binary_fast(op, args[0], args[1])
        if result is not None:
            return result
    return ew_generic(op, args, out, inplace)
