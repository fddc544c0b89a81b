# The elementwise engine: operand conversion, PyTorch type promotion,
# broadcasting, output allocation, and dispatch of the generated loops through
# the strided iterator.  Also copies and casts.  Included by _tensor.pyx.

cdef extern from "ember/kernels.h":
    ctypedef struct em_ew_op:
        const char *name
        int arity
        int promote_float
        int out_rule
        em_loop_fn loops[EM_NTYPES]
    const em_ew_op em_unary_ops[]
    const int em_n_unary_ops
    const em_ew_op em_binary_ops[]
    const int em_n_binary_ops
    const em_ew_op em_ternary_ops[]
    const int em_n_ternary_ops
    const em_loop_fn em_cast_loops[EM_NTYPES][EM_NTYPES]
    enum:
        EM_OUT_SAME
        EM_OUT_BOOL
        EM_OUT_REAL

cdef extern from "ember/scalar.h":
    ctypedef struct em_ew_ctx:
        int error
    enum:
        EM_ERR_ZERO_DIVISION


# ---------------------------------------------------------------- the op registry

cdef const em_ew_op *EW_OPS[256]
cdef int N_EW = 0
cdef dict EW_INDEX = {}


cdef _register_table(const em_ew_op *table, int n):
    global N_EW
    cdef int i
    for i in range(n):
        EW_OPS[N_EW] = &table[i]
        EW_INDEX[table[i].name.decode()] = N_EW
        N_EW += 1


_register_table(em_unary_ops, em_n_unary_ops)
_register_table(em_binary_ops, em_n_binary_ops)
_register_table(em_ternary_ops, em_n_ternary_ops)

cdef int OP_NEG = EW_INDEX["neg"]
cdef int OP_ABS = EW_INDEX["abs"]
cdef int OP_BITWISE_NOT = EW_INDEX["bitwise_not"]
cdef int OP_ADD = EW_INDEX["add"]
cdef int OP_SUB = EW_INDEX["sub"]
cdef int OP_MUL = EW_INDEX["mul"]
cdef int OP_DIV = EW_INDEX["div"]
cdef int OP_FLOOR_DIVIDE = EW_INDEX["floor_divide"]
cdef int OP_REMAINDER = EW_INDEX["remainder"]
cdef int OP_POW = EW_INDEX["pow"]
cdef int OP_EQ = EW_INDEX["eq"]
cdef int OP_NE = EW_INDEX["ne"]
cdef int OP_LT = EW_INDEX["lt"]
cdef int OP_LE = EW_INDEX["le"]
cdef int OP_GT = EW_INDEX["gt"]
cdef int OP_GE = EW_INDEX["ge"]
cdef int OP_BITWISE_AND = EW_INDEX["bitwise_and"]
cdef int OP_BITWISE_OR = EW_INDEX["bitwise_or"]
cdef int OP_BITWISE_XOR = EW_INDEX["bitwise_xor"]
cdef int OP_BITWISE_LEFT_SHIFT = EW_INDEX["bitwise_left_shift"]
cdef int OP_BITWISE_RIGHT_SHIFT = EW_INDEX["bitwise_right_shift"]
cdef int OP_WHERE = EW_INDEX["where"]


def elementwise_ops():
    """Names of the elementwise ops that have compiled loops, with their arity and dtypes."""
    cdef int i, d
    out = {}
    for i in range(N_EW):
        out[EW_OPS[i].name.decode()] = (EW_OPS[i].arity,
                                        tuple(dtype_of(d) for d in range(<int>EM_NTYPES) if EW_OPS[i].loops[d] != NULL))
    return out


def op_id(str name):
    """Index of elementwise op ``name`` in the compiled table."""
    return EW_INDEX[name]


# ---------------------------------------------------------------- scalars and operands

cdef inline int scalar_dtype(object v) noexcept:
    """The dtype a Python scalar takes part in promotion with, or -1 for a non-scalar."""
    cdef type tp = type(v)
    if tp is float:
        return default_float()
    if tp is int:
        return EM_INT64
    if tp is bool:
        return EM_BOOL
    if tp is complex:
        return complex_of(default_float())
    if isinstance(v, (np.generic, float, int, complex)):
        if isinstance(v, (bool, np.bool_)):
            return EM_BOOL
        if isinstance(v, (int, np.integer)):
            return EM_INT64
        if isinstance(v, (float, np.floating)):
            return default_float()
        if isinstance(v, (complex, np.complexfloating)):
            return complex_of(default_float())
    return -1


cdef int write_scalar(char *p, int dt, object v) except -1:
    """Store Python number `v` as one element of dtype `dt` at `p`."""
    cdef double re, im
    cdef int64_t iv
    if dt == EM_BOOL:
        (<uint8_t *>p)[0] = 1 if v else 0
        return 0
    if em_category[dt] == 3:
        c = complex(v)
        if dt == EM_COMPLEX64:
            (<float *>p)[0] = c.real
            (<float *>p)[1] = c.imag
        else:
            (<double *>p)[0] = c.real
            (<double *>p)[1] = c.imag
        return 0
    if isinstance(v, (complex, np.complexfloating)):
        v = v.real
    if em_category[dt] == 2:
        re = v
        if dt == EM_FLOAT32:
            (<float *>p)[0] = <float>re
        elif dt == EM_FLOAT64:
            (<double *>p)[0] = re
        elif dt == EM_FLOAT16:
            (<uint16_t *>p)[0] = em_float_to_half(<float>re)
        else:
            (<uint16_t *>p)[0] = em_float_to_bfloat16(<float>re)
        return 0
    if isinstance(v, (float, np.floating)):
        if v != v or v in (float("inf"), float("-inf")):
            raise RuntimeError(f"value cannot be converted to type {dtype_of(dt)} without overflow: {v}")
        v = int(v)
    if dt == EM_UINT64:
        # the full unsigned range, and negative values wrapping as in C
        (<uint64_t *>p)[0] = <uint64_t>(int(v) & 0xFFFFFFFFFFFFFFFF)
        return 0
    try:
        iv = v
    except OverflowError:
        raise RuntimeError(f"value cannot be converted to type {dtype_of(dt)} without overflow: {v}") from None
    if dt == EM_UINT8:
        (<uint8_t *>p)[0] = <uint8_t>iv
    elif dt == EM_INT8:
        (<int8_t *>p)[0] = <int8_t>iv
    elif dt == EM_INT16:
        (<int16_t *>p)[0] = <int16_t>iv
    elif dt == EM_INT32:
        (<int32_t *>p)[0] = <int32_t>iv
    elif dt == EM_UINT16:
        (<uint16_t *>p)[0] = <uint16_t>iv
    elif dt == EM_UINT32:
        (<uint32_t *>p)[0] = <uint32_t>iv
    else:
        (<int64_t *>p)[0] = iv
    return 0


# Ranges that PyTorch's checked scalar conversion allows (c10::overflows): integer
# types by value (uint8 also takes -255..-1, wrapping), floating types by their
# largest finite value (infinities and NaN pass).
INT_LIMITS = {EM_UINT8: (0, 255), EM_INT8: (-2**7, 2**7 - 1), EM_INT16: (-2**15, 2**15 - 1),
              EM_INT32: (-2**31, 2**31 - 1), EM_INT64: (-2**63, 2**63 - 1),
              EM_UINT16: (0, 2**16 - 1), EM_UINT32: (0, 2**32 - 1), EM_UINT64: (0, 2**64 - 1)}
FLOAT_MAX = {EM_FLOAT16: 65504.0, EM_BFLOAT16: 3.3895313892515355e38,
             EM_FLOAT32: 3.4028234663852886e38, EM_FLOAT64: 1.7976931348623157e308,
             EM_COMPLEX64: 3.4028234663852886e38, EM_COMPLEX128: 1.7976931348623157e308}


cdef int check_scalar_fits(int dt, object v) except -1:
    """Raise as PyTorch does when Python number `v` does not fit dtype `dt` (fill_, full, setitem)."""
    cdef int cat = em_category[dt]
    if dt == EM_BOOL or isinstance(v, (bool, np.bool_)):
        return 0
    if isinstance(v, (complex, np.complexfloating)):
        if cat == 3:
            if _float_overflows(dt, v.real) or _float_overflows(dt, v.imag):
                _overflow(dt, v)
            return 0
        if v.imag != 0:
            _overflow(dt, v)
        v = v.real
    if cat >= 2:
        if _float_overflows(dt, v):
            _overflow(dt, v)
        return 0
    lo, hi = INT_LIMITS[dt]
    if isinstance(v, (float, np.floating)):
        if not (lo <= v <= hi):  # NaN fails too
            _overflow(dt, v)
    elif not (lo <= v <= hi) and not (dt == EM_UINT8 and -255 <= v < 0):
        _overflow(dt, v)
    return 0


cdef bint _float_overflows(int dt, object v):
    return v == v and abs(v) != float("inf") and abs(v) > FLOAT_MAX[dt]


cdef int _overflow(int dt, object v) except -1:
    raise RuntimeError(f"value cannot be converted to type {dtype_of(dt)} without overflow: {v}")


cdef Tensor scalar_tensor(object v, int dt, device dev):
    cdef Tensor t = new_tensor(0, NULL, dt, CPU)
    write_scalar(t.ptr(), dt, v)
    if dev.type_num != DEV_CPU:
        return to_dtype_device(t, None, dev, False)
    return t


cdef object as_operand(object v):
    """A Tensor, a Python scalar, or None when `v` cannot take part in an op."""
    if isinstance(v, Tensor):
        return v
    if scalar_dtype(v) >= 0:
        return v
    if isinstance(v, np.ndarray):
        return from_numpy_any(v)
    return None


# ---------------------------------------------------------------- type promotion

cdef inline int _promote_opt(int a, int b) except -2:
    if a < 0:
        return b
    if b < 0:
        return a
    return promote_nums(a, b)


cdef int _combine_categories(int higher, int lower) except -2:
    """PyTorch's combine_categories: a higher-priority class wins unless the lower one has a higher category."""
    if higher < 0:
        return lower
    if em_category[higher] == 3:
        return higher
    if lower >= 0 and em_category[lower] == 3:
        if em_category[higher] == 2:
            return complex_of(higher)
        return lower
    if em_category[higher] == 2:
        return higher
    if lower >= 0 and (higher == EM_BOOL or em_category[lower] == 2):
        return promote_nums(higher, lower)
    return higher


cdef int result_type_of(list args, int skip) except -2:
    """PyTorch's result type of tensors (by dimensionality class) and Python scalars."""
    cdef int dim_res = -1, zero_res = -1, wrapped = -1, i = 0
    for a in args:
        if i != skip:
            if isinstance(a, Tensor):
                if (<Tensor>a)._ndim > 0:
                    dim_res = _promote_opt(dim_res, (<Tensor>a)._dtype)
                else:
                    zero_res = _promote_opt(zero_res, (<Tensor>a)._dtype)
            else:
                wrapped = _promote_opt(wrapped, scalar_dtype(a))
        i += 1
    return _combine_categories(dim_res, _combine_categories(zero_res, wrapped))


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on ``tensor1`` and ``tensor2`` produces (PyTorch rules).

    Examples
    --------
    >>> import ember
    >>> ember.result_type(ember.tensor([1, 2]), 1.0)
    ember.float32
    """
    args = [as_operand(tensor1), as_operand(tensor2)]
    if args[0] is None or args[1] is None:
        raise TypeError("result_type() expects tensors or Python numbers")
    return dtype_of(result_type_of(args, -1))


# ---------------------------------------------------------------- broadcasting

cdef int broadcast_shapes_into(list tensors, Py_ssize_t *shape) except -1:
    """Broadcast the shapes of `tensors`; returns the result's ndim."""
    cdef int nd = 0, d, k
    cdef Tensor t
    cdef Py_ssize_t s
    for x in tensors:
        t = <Tensor>x
        if t._ndim > nd:
            for d in range(t._ndim - nd):
                pass
            nd = t._ndim
    for d in range(nd):
        shape[d] = 1
    for x in tensors:
        t = <Tensor>x
        for k in range(t._ndim):
            d = nd - t._ndim + k
            s = t._shape[k]
            if s == shape[d] or s == 1:
                continue
            if shape[d] == 1:
                shape[d] = s
            else:
                raise RuntimeError(
                    f"The size of tensor a ({shape[d]}) must match the size of tensor b ({s}) "
                    f"at non-singleton dimension {k}")
    return nd


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to."""
    cdef Py_ssize_t shape[64]
    ts = [new_view_of_shape(_shape_arg((s,)) if not isinstance(s, int) else (s,)) for s in shapes]
    cdef int nd = broadcast_shapes_into(ts, shape)
    cdef list dims = _int_list(shape, nd)
    # an input's own size object where it gives the size: a size ember.jit's tracer read
    # from a tensor (an int subclass) stays symbolic in the result
    for s in shapes:
        sizes = (s,) if isinstance(s, int) else tuple(s)
        for i in range(len(sizes)):
            size = sizes[i]
            if type(size) is not int and isinstance(size, int) and size == dims[nd - len(sizes) + i]:
                dims[nd - len(sizes) + i] = size
    return Size(dims)


cdef Tensor new_view_of_shape(tuple shape):
    # a zero-stride tensor over one element: only its shape is used
    cdef Tensor base = new_tensor(0, NULL, EM_BOOL, CPU)
    cdef Py_ssize_t s[64]
    cdef Py_ssize_t st[64]
    cdef int i
    if len(shape) > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {len(shape)}")
    for i in range(len(shape)):
        s[i] = shape[i]
        st[i] = 0
    return make_view(base, len(shape), s, st, 0)


cdef inline int _fill_strides(em_iter *it, int k, Tensor t, int nd, const Py_ssize_t *shape) except -1:
    """Operand k's byte strides, right-aligned and zero where it broadcasts."""
    cdef int d, src
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    for d in range(nd):
        src = d - (nd - t._ndim)
        if src < 0 or t._shape[src] != shape[d]:
            it.strides[k][d] = 0
        else:
            it.strides[k][d] = t._strides[src] * isz
    it.data[k] = t.ptr()
    return 0


cdef bint _overlaps(Tensor a, Tensor b) noexcept:
    """Whether `a` and `b` share memory without being the identical view.

    Compared by address, not by Storage object: two tensors made from the same
    NumPy array have different Storage objects over the same memory.
    """
    cdef char *a_lo
    cdef char *a_hi
    cdef char *b_lo
    cdef char *b_hi
    cdef int d
    if a._numel == 0 or b._numel == 0:
        return False
    if (a.address() == b.address() and a._ndim == b._ndim and a._dtype == b._dtype
            and memcmp(a._shape, b._shape, a._ndim * sizeof(Py_ssize_t)) == 0
            and memcmp(a._strides, b._strides, a._ndim * sizeof(Py_ssize_t)) == 0):
        return False
    _extent(a, &a_lo, &a_hi)
    _extent(b, &b_lo, &b_hi)
    return a_lo < b_hi and b_lo < a_hi


cdef void _extent(Tensor t, char **lo, char **hi) noexcept:
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    cdef char *l = t.address()
    cdef char *h = t.address()
    cdef int d
    for d in range(t._ndim):
        if t._strides[d] > 0:
            h += t._strides[d] * (t._shape[d] - 1) * isz
        else:
            l += t._strides[d] * (t._shape[d] - 1) * isz
    lo[0] = l
    hi[0] = h + isz


cdef extern from "string.h":
    int memcmp(const void *a, const void *b, size_t n) nogil


# ---------------------------------------------------------------- running a loop

cdef inline int _check_ctx(em_ew_ctx *ctx) except -1:
    if ctx.error == EM_ERR_ZERO_DIVISION:
        raise RuntimeError("ZeroDivisionError")
    return 0


# Serial elementwise calls sweep their operands forwards and backwards in turn. A
# sweep leaves its last ~32 KiB in L1; the next one, going the other way, starts on
# them instead of on lines the previous sweep evicted first. For operands of 16-256
# KiB (larger than L1, held by L2) that is up to a third less time: a + b on (64, 64)
# float32, 430 -> 300 ns in the loop. Elementwise loops give the same values in any
# order.
cdef bint _sweep_backward = False


cdef inline bint next_sweep_backward() noexcept:
    global _sweep_backward
    _sweep_backward = not _sweep_backward
    return _sweep_backward


cdef int run_loop(em_loop_fn fn, int nop, Tensor out, list inputs, int nd,
                  const Py_ssize_t *shape, bint allow_flip) except -1:
    """Run a loop over `out` and `inputs` (already of the loop's dtypes) broadcast to `shape`."""
    cdef em_iter it
    cdef em_ew_ctx ctx
    cdef int k
    cdef Py_ssize_t total
    ctx.error = 0
    it.nop = nop
    it.ndim = nd
    for k in range(nd):
        it.shape[k] = shape[k]
    _fill_strides(&it, 0, out, nd, shape)
    for k in range(1, nop):
        _fill_strides(&it, k, <Tensor>inputs[k - 1], nd, shape)
    cdef Py_ssize_t itemsize[EM_MAX_OPERANDS]
    total = em_iter_prepare(&it, allow_flip)
    if total == 0:
        return 0
    itemsize[0] = em_itemsize[out._dtype]
    for k in range(1, nop):
        itemsize[k] = em_itemsize[(<Tensor>inputs[k - 1])._dtype]
    if total >= EM_GRAIN_SIZE:
        with nogil:
            em_iter_run_write_only(&it, fn, &ctx, itemsize)
    else:
        if not em_iter_run_tiled(&it, fn, &ctx, itemsize, next_sweep_backward()):
            em_iter_run_write_only(&it, fn, &ctx, itemsize)
    return _check_ctx(&ctx)


cdef inline int out_dtype_of(const em_ew_op *info, int ct) noexcept:
    if info.out_rule == EM_OUT_BOOL:
        return EM_BOOL
    if info.out_rule == EM_OUT_REAL:
        return real_of(ct)
    return ct


cdef str _op_name(int op):
    return EW_OPS[op].name.decode()


cdef int _unsupported(int op, int ct) except -1:
    name = _op_name(op)
    if ct == EM_BOOL and name == "neg":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    # PyTorch raises NotImplementedError (a RuntimeError) for a dtype without a kernel
    raise NotImplementedError(f'"{name}" not implemented for \'{dtype_of(ct)}\'')


cdef int _check_sub_operands(list args) except -1:
    """PyTorch refuses subtraction when any operand (Python bools included) is bool."""
    cdef int n_bool = 0
    for a in args:
        if isinstance(a, Tensor):
            n_bool += (<Tensor>a)._dtype == EM_BOOL
        else:
            n_bool += scalar_dtype(a) == EM_BOOL
    if n_bool == 2:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if n_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return 0


cdef Tensor ew_generic(int op, list args, Tensor out, bint inplace):
    """Any elementwise op: promotion, broadcasting, casts, out=/in-place, then the loop."""
    cdef const em_ew_op *info = EW_OPS[op]
    cdef int arity = info.arity, k, ct, odt, nd
    cdef Py_ssize_t shape[64]
    cdef Tensor t, result, target
    cdef device dev = None
    cdef list tensors = [], operands = []
    cdef bint is_where = op == OP_WHERE, dev_of_cpu_scalar = False

    for k in range(arity):
        a = as_operand(args[k])
        if a is None:
            raise TypeError(f"{_op_name(op)}(): argument {k} must be a Tensor or a number, "
                            f"not {type(args[k]).__name__}")
        args[k] = a
        if isinstance(a, Tensor):
            t = <Tensor>a
            if dev is None or (dev_of_cpu_scalar and t._storage.device != dev):
                # a 0-d CPU tensor joins the other operands' device, in either order
                dev = t._storage.device
                dev_of_cpu_scalar = t._ndim == 0 and dev.type_num == DEV_CPU
            elif t._storage.device != dev and t._ndim > 0:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                                   f"least two devices, {dev} and {t._storage.device}!")
    if dev is None:
        dev = CPU
    if is_where:
        if not isinstance(args[0], Tensor):
            args[0] = scalar_tensor(args[0], EM_BOOL, dev)
        elif (<Tensor>args[0])._dtype != EM_BOOL:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {(<Tensor>args[0]).get_dtype()}")
    if op == OP_SUB:
        _check_sub_operands(args)
    ct = result_type_of(args, 0 if is_where else -1)
    if (op == OP_POW and em_category[ct] <= 1 and not isinstance(args[1], Tensor)
            and args[1] < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if info.promote_float and em_category[ct] < 2:
        ct = default_float()
    odt = out_dtype_of(info, ct)

    if inplace:
        out = <Tensor>args[0]
        if info.out_rule == EM_OUT_REAL and em_category[out._dtype] == 3:
            raise RuntimeError(f"In-place {_op_name(op)} is not supported for complex tensors.")
    if out is not None:
        check_writable(out)
        check_no_internal_overlap(out)
        if out._storage.device != dev:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {out._storage.device}!")
        if not (em_category[odt] <= em_category[out._dtype]):
            raise RuntimeError(f"result type {_torch_name(odt)} can't be cast to the desired "
                               f"output type {_torch_name(out._dtype)}")
    # after the output checks, so that errors come in PyTorch's order
    if info.loops[ct] == NULL:
        _unsupported(op, ct)
    if ((op == OP_MUL or op == OP_DIV) and (ct == EM_FLOAT16 or ct == EM_BFLOAT16)
            and _has_other_scalar(args, ct)):
        return _reduced_float_by_scalar(op, args, ct, out, inplace)

    for k in range(arity):
        a = args[k]
        if isinstance(a, Tensor):
            t = <Tensor>a
            if (is_where and k == 0) or t._dtype == ct:
                operands.append(t)
            else:
                operands.append(to_dtype_device(t, dtype_of(ct), None, False))
        else:
            operands.append(scalar_tensor(a, ct, dev))
    nd = broadcast_shapes_into(operands, shape)
    if out is not None and (out._ndim != nd
                            or memcmp(out._shape, shape, nd * sizeof(Py_ssize_t)) != 0):
        if inplace:
            raise RuntimeError(f"output with shape {list(_shape_tuple(out))} doesn't match the "
                               f"broadcast shape {_int_list(shape, nd)}")
        resize_output(out, nd, shape)

    if dev.type_num != DEV_CPU:
        return backend_for(dev).elementwise(_op_name(op), operands, out, odt, _int_list(shape, nd))

    if out is not None:
        for k in range(arity):
            if _overlaps(out, <Tensor>operands[k]):
                operands[k] = clone(<Tensor>operands[k])
        if out._dtype == odt:
            run_loop(info.loops[ct], arity + 1, out, operands, nd, shape, True)
            bump_version(out)
            return out
        target = new_tensor(nd, shape, odt, dev)
        run_loop(info.loops[ct], arity + 1, target, operands, nd, shape, True)
        copy_into(out, target)
        bump_version(out)
        return out

    result = None
    for k in range(arity):
        t = <Tensor>operands[k]
        if t._ndim == nd and memcmp(t._shape, shape, nd * sizeof(Py_ssize_t)) == 0 and not (is_where and k == 0):
            result = new_like_layout(t, odt)
            break
    if result is None:
        result = new_tensor(nd, shape, odt, dev)
    run_loop(info.loops[ct], arity + 1, result, operands, nd, shape, True)
    return result


cdef bint _has_other_scalar(list args, int ct):
    """Whether an operand is a Python number or a 0-d tensor of a dtype other than `ct`."""
    for a in args:
        if not isinstance(a, Tensor) or ((<Tensor>a)._ndim == 0 and (<Tensor>a)._dtype != ct):
            return True
    return False


cdef Tensor _reduced_float_by_scalar(int op, list args, int ct, Tensor out, bint inplace):
    """float16/bfloat16 times or over a scalar: PyTorch keeps the scalar in float32 and
    rounds once, so x * 1e-8 is not x * 0 and x / 1e5 is not x / inf."""
    # every tensor that would compute in `ct` (integers promoted to it too) goes to float32,
    # so that the recursive call computes in float32 and cannot come back here
    cdef list wide = [to_dtype_device(<Tensor>a, dtype_of(EM_FLOAT32), None, False)
                      if isinstance(a, Tensor) and ((<Tensor>a)._dtype == ct
                                                    or em_category[(<Tensor>a)._dtype] < 2)
                      else a for a in args]
    cdef Tensor tmp = ew_generic(op, wide, None, False)
    if out is None:
        return to_dtype_device(tmp, dtype_of(ct), None, False)
    if not _same_shape(out, tmp):
        if inplace:
            raise RuntimeError(f"output with shape {list(_shape_tuple(out))} doesn't match the "
                               f"broadcast shape {list(_shape_tuple(tmp))}")
        resize_output(out, tmp._ndim, tmp._shape)
    copy_into(out, tmp)
    bump_version(out)
    return out


cdef str _torch_name(int dt):
    return TORCH_NAMES[dt]


