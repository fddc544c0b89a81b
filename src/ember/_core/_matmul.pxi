# The public matmul family: argument checks, PyTorch's shape and dtype rules and
# error messages, output allocation; every product then runs through gemm_into.
# Included by _blas.pyx.

from ember._core._dtype import CPP_NAMES, TORCH_NAMES


# ---------------------------------------------------------------- argument helpers

cdef inline Tensor tensor_arg(object obj, str fname, str argname, int pos):
    if isinstance(obj, Tensor):
        return <Tensor>obj
    if isinstance(obj, np.ndarray):
        return from_numpy(obj)
    raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be Tensor, "
                    f"not {type(obj).__name__}")


# Sparse tensors (ember.sparse) are Python objects, not Tensors: ember.sparse registers
# the function that multiplies them, and matmul, mm and addmm hand it a call with an
# operand that is neither a Tensor nor an array (the dense path pays two type checks).
cdef object _sparse_products = None


def _set_sparse_products(fn):
    """Register ``fn(fname, args, kwargs)``: matmul, mm and addmm call it when an operand
    is neither a Tensor nor an array; it returns NotImplemented for operands it does not
    know, which then raise the usual TypeError."""
    global _sparse_products
    _sparse_products = fn


cdef inline bint _foreign(object obj):
    return not isinstance(obj, Tensor) and not isinstance(obj, np.ndarray)


cdef str dims_x(Tensor t):
    """A shape as PyTorch prints it in matmul errors: 2x3."""
    cdef int d
    return "x".join([str(t._shape[d]) for d in range(t._ndim)])


cdef list dims_list(int nd, const Py_ssize_t *shape):
    cdef int d
    return [shape[d] for d in range(nd)]


cdef inline bint same_shape(Tensor t, int nd, const Py_ssize_t *shape) noexcept:
    cdef int d
    if t._ndim != nd:
        return False
    for d in range(nd):
        if t._shape[d] != shape[d]:
            return False
    return True


cdef int check_devices(str fname, Tensor a, Tensor b, Tensor c=None) except -1:
    cdef device da = a._storage.device
    if da.type_num == DEV_CPU and b._storage.device is da and (c is None or c._storage.device is da):
        return 0
    for t in (b, c):
        if t is not None and (<Tensor>t)._storage.device != da:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {da} and {(<Tensor>t)._storage.device}!")
    return 0


cdef int check_same_dtype(Tensor a, Tensor b) except -1:
    if a._dtype != b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{CPP_NAMES[a._dtype]} != {CPP_NAMES[b._dtype]}")
    return 0


# PyTorch's kernel names in the dtype errors of its CUDA products
cdef dict CUDA_KERNEL_NAMES = {"matmul": "addmm_cuda", "mm": "addmm_cuda", "addmm": "addmm_cuda",
                               "bmm": "bmm_cuda", "baddbmm": "baddbmm_cuda",
                               "addbmm": "addbmm_cuda", "mv": "addmv_impl_cuda",
                               "addmv": "addmv_impl_cuda", "dot": "dot", "vdot": "vdot"}


cdef int check_supported(str fname, Tensor a) except -1:
    cdef int dt = a._dtype
    # bool, and the wide unsigned types as in PyTorch (ember's integer GEMMs are signed or uint8)
    if dt == EM_BOOL or dt == EM_UINT16 or dt == EM_UINT32 or dt == EM_UINT64:
        raise NotImplementedError(f"\"{fname}\" not implemented for '{TORCH_NAMES[dt]}'")
    # cuBLAS has no integer products (nor has PyTorch on cuda)
    if a._storage.device.type_num == DEV_CUDA and em_category[dt] < 2:
        raise RuntimeError(f"\"{CUDA_KERNEL_NAMES[fname]}\" not implemented for "
                           f"'{TORCH_NAMES[dt]}'")
    return 0


cdef int scalar_arg(object v, str fname, str name, int dt, double complex *cv,
                    int64_t *iv) except -1:
    """Convert alpha or beta for dtype `dt` (integers truncate, as in PyTorch)."""
    cdef double complex z
    try:
        if isinstance(v, (str, bytes)):     # complex() would parse them
            raise TypeError
        z = complex(v)
    except TypeError:
        raise TypeError(f"{fname}(): argument '{name}' must be Number, "
                        f"not {type(v).__name__}") from None
    if em_category[dt] < 3 and z.imag != 0:
        raise RuntimeError(f"value cannot be converted to type {CPP_NAMES[dt]} without "
                           f"overflow: {v}")
    cv[0] = z
    iv[0] = 0
    if em_category[dt] < 2:
        try:
            iv[0] = int(z.real)
        except (OverflowError, ValueError):
            raise RuntimeError(f"value cannot be converted to type {CPP_NAMES[dt]} without "
                               f"overflow: {v}") from None
    return 0


cdef int check_expandable(Tensor t, int nd, const Py_ssize_t *shape) except -1:
    """PyTorch's rule for the added tensor of addmm & co.: it must expand to the result."""
    cdef int d, src
    if t._ndim > nd:
        raise RuntimeError(f"expand({dims_list(t._ndim, t._shape)}, size={dims_list(nd, shape)}):"
                           f" the number of sizes provided ({nd}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({t._ndim})")
    for d in range(t._ndim):
        src = t._ndim - 1 - d
        if t._shape[src] != 1 and t._shape[src] != shape[nd - 1 - d]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[nd - 1 - d]}) must match the existing "
                f"size ({t._shape[src]}) at non-singleton dimension {nd - 1 - d}.  Target sizes: "
                f"{dims_list(nd, shape)}.  Tensor sizes: {dims_list(t._ndim, t._shape)}")
    return 0


cdef Tensor output(object out, str fname, int nd, const Py_ssize_t *shape, Tensor like):
    """A new result tensor, or `out` checked and resized to the result's shape."""
    cdef Tensor o
    cdef int d
    if out is None:
        return new_tensor(nd, shape, like._dtype, like._storage.device)
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
    o = <Tensor>out
    if o._dtype != like._dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {CPP_NAMES[like._dtype]}, but got "
                           f"{CPP_NAMES[o._dtype]} instead")
    if o._storage.device != like._storage.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {like._storage.device} and {o._storage.device}!")
    if o._storage.readonly_mem:
        raise RuntimeError("cannot write to a tensor that views read-only memory")
    check_not_inference(o, "inplace")
    resize_output(o, nd, shape)
    for d in range(nd if o._numel else 0):
        if o._shape[d] > 1 and o._strides[d] == 0:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
    bump_version(o)
    return o


cdef Tensor matmul_impl(Tensor a, Tensor b, object out, bint conj_a):
    """PyTorch's matmul shape rules on checked, same-dtype operands of >= 1 dims."""
    cdef Py_ssize_t shape[EM_MAX_DIMS]      # the result's shape; its prefix is the batch shape
    cdef int da = a._ndim, db = b._ndim, nba, nbb, nbd, nd, d
    cdef bint a_vec = da == 1, b_vec = db == 1
    cdef Py_ssize_t m, k, kb, n, sa, sb
    k = a._shape[da - 1]
    m = 1 if a_vec else a._shape[da - 2]
    kb = b._shape[0] if b_vec else b._shape[db - 2]
    n = 1 if b_vec else b._shape[db - 1]
    if k != kb:
        if a_vec and b_vec:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k}] and src [{kb}] "
                               f"to have the same number of elements, but got {k} and {kb} "
                               f"elements respectively")
        if da == 2 and b_vec:
            raise RuntimeError(f"size mismatch, got input ({m}), mat ({m}x{k}), vec ({kb})")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({f'1x{k}' if a_vec else dims_x(a)} and {dims_x(b)})")
    nba = da - 2 if da > 2 else 0
    nbb = db - 2 if db > 2 else 0
    nbd = nba if nba > nbb else nbb
    for d in range(nbd):
        sa = a._shape[d - (nbd - nba)] if d >= nbd - nba else 1
        sb = b._shape[d - (nbd - nbb)] if d >= nbd - nbb else 1
        if sa == sb or sb == 1:
            shape[d] = sa
        elif sa == 1:
            shape[d] = sb
        else:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                               f"({sb}) at non-singleton dimension {d}")
    nd = nbd
    if not a_vec:
        shape[nd] = m
        nd += 1
    if not b_vec:
        shape[nd] = n
        nd += 1
    cdef Tensor c = output(out, "matmul", nd, shape, a)
    return gemm_into(a, a_vec, b, b_vec, c, c, nbd, shape, 1, 0, 1, 0, False, conj_a)


cdef Tensor add_product(str fname, Tensor t, Tensor a, bint a_vec, Tensor b, bint b_vec,
                        int nbd, const Py_ssize_t *bshape, int nd, const Py_ssize_t *shape,
                        object beta, object alpha, object out, bint inplace, bint accumulate):
    """``beta * t + alpha * (a @ b)`` for the addmm family, of shape `shape`."""
    cdef double complex ca, cb
    cdef int64_t ia, ib
    cdef int d
    scalar_arg(beta, fname, "beta", a._dtype, &cb, &ib)
    scalar_arg(alpha, fname, "alpha", a._dtype, &ca, &ia)
    check_expandable(t, nd, shape)
    if inplace:
        if not same_shape(t, nd, shape):
            raise RuntimeError(f"Bad in-place call: input tensor size {dims_list(t._ndim, t._shape)}"
                               f" and output tensor size {dims_list(nd, shape)} should match")
        out = t
    cdef Tensor c = output(out, fname, nd, shape, a)
    return gemm_into(a, a_vec, b, b_vec, c, t, nbd, bshape, ca, cb, ia, ib, accumulate, False)


# ---------------------------------------------------------------- products

def matmul(input, other, *, out=None):
    """Matrix product of two tensors, with PyTorch's rules for every rank.

    - 1-D and 1-D: the dot product (a 0-d tensor).
    - 2-D and 2-D: the matrix product.
    - 1-D first: a 1 is prepended to its shape for the product and removed after.
    - 1-D second: a 1 is appended to its shape for the product and removed after.
    - N-D (N > 2): a batch of matrix products; the batch dimensions (all but
      the last two, a 1-D operand having none) broadcast.

    Both tensors must have the same dtype (no promotion, as in PyTorch).

    Parameters
    ----------
    input, other : Tensor
        The operands, with at least one dimension each.
    out : Tensor, optional
        Tensor (of the operands' dtype) to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> a = ember.ones(4, 2, 3)
    >>> b = ember.ones(3, 5)
    >>> ember.matmul(a, b).shape
    ember.Size([4, 2, 5])
    >>> (ember.ones(3) @ ember.ones(3)).item()
    3.0
    """
    if (_foreign(input) or _foreign(other)) and _sparse_products is not None:
        result = _sparse_products("matmul", (input, other), {"out": out})
        if result is not NotImplemented:
            return result
    if autocast_mode() and out is None:
        return autocast_op("matmul", matmul, (input, other), None)
    if _records_any((input, other,)):
        return record_op("matmul", matmul, (input, other), {"out": out})
    cdef Tensor a = tensor_arg(input, "matmul", "input", 1)
    cdef Tensor b = tensor_arg(other, "matmul", "other", 2)
    if a._ndim == 0 or b._ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a._ndim}D and {b._ndim}D")
    check_devices("matmul", a, b)
    if a._ndim == 1 and b._ndim == 1:
        return dot_impl("matmul", a, b, out, False)
    check_same_dtype(a, b)
    check_supported("matmul", a)
    return matmul_impl(a, b, out, False)


def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors (no broadcasting).

    Parameters
    ----------
    input : Tensor
        An ``(n, m)`` matrix.
    mat2 : Tensor
        An ``(m, p)`` matrix of the same dtype.
    out : Tensor, optional
        Tensor to write the ``(n, p)`` result into.

    Returns
    -------
    Tensor
    """
    if (_foreign(input) or _foreign(mat2)) and _sparse_products is not None:
        result = _sparse_products("mm", (input, mat2), {"out": out})
        if result is not NotImplemented:
            return result
    if autocast_mode() and out is None:
        return autocast_op("mm", mm, (input, mat2), None)
    if _records_any((input, mat2,)):
        return record_op("mm", mm, (input, mat2), {"out": out})
    cdef Tensor a = tensor_arg(input, "mm", "input", 1)
    cdef Tensor b = tensor_arg(mat2, "mm", "mat2", 2)
    if a._ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    check_devices("mm", a, b)
    check_same_dtype(a, b)
    check_supported("mm", a)
    return matmul_impl(a, b, out, False)


cdef int check_bmm_shapes(Tensor a, Tensor b) except -1:
    if a._ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a._shape[0] != b._shape[0] or a._shape[2] != b._shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a._shape[0]}, {a._shape[2]}] but got: [{b._shape[0]}, "
                           f"{b._shape[1]}].")
    return 0


def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors (no broadcasting).

    Parameters
    ----------
    input : Tensor
        A ``(b, n, m)`` batch of matrices.
    mat2 : Tensor
        A ``(b, m, p)`` batch of the same dtype.
    out : Tensor, optional
        Tensor to write the ``(b, n, p)`` result into.

    Returns
    -------
    Tensor
    """
    if autocast_mode() and out is None:
        return autocast_op("bmm", bmm, (input, mat2), None)
    if _records_any((input, mat2,)):
        return record_op("bmm", bmm, (input, mat2), {"out": out})
    cdef Tensor a = tensor_arg(input, "bmm", "input", 1)
    cdef Tensor b = tensor_arg(mat2, "bmm", "mat2", 2)
    check_bmm_shapes(a, b)
    check_devices("bmm", a, b)
    check_same_dtype(a, b)
    check_supported("bmm", a)
    return matmul_impl(a, b, out, False)


def mv(input, vec, *, out=None):
    """Product of a matrix and a vector.

    Parameters
    ----------
    input : Tensor
        An ``(n, m)`` matrix.
    vec : Tensor
        A vector of size ``m`` and the same dtype.
    out : Tensor, optional
        Tensor to write the size-``n`` result into.

    Returns
    -------
    Tensor
    """
    if (_foreign(input) or _foreign(vec)) and _sparse_products is not None:
        result = _sparse_products("mv", (input, vec), {"out": out})
        if result is not NotImplemented:
            return result
    if autocast_mode() and out is None:
        return autocast_op("mv", mv, (input, vec), None)
    if _records_any((input, vec,)):
        return record_op("mv", mv, (input, vec), {"out": out})
    cdef Tensor a = tensor_arg(input, "mv", "input", 1)
    cdef Tensor b = tensor_arg(vec, "mv", "vec", 2)
    if a._ndim != 2 or b._ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a._ndim}, {b._ndim}")
    check_devices("mv", a, b)
    check_same_dtype(a, b)
    check_supported("mv", a)
    return matmul_impl(a, b, out, False)


cdef Tensor dot_impl(str fname, Tensor a, Tensor b, object out, bint conj_a):
    if a._ndim != 1 or b._ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._ndim}D and {b._ndim}D tensors")
    if a._dtype != b._dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{TORCH_NAMES[a._dtype]} and {TORCH_NAMES[b._dtype]}")
    check_supported("dot", a)
    return matmul_impl(a, b, out, conj_a)


def dot(input, tensor, *, out=None):
    """Dot product of two 1-D tensors of the same size and dtype.

    Parameters
    ----------
    input, tensor : Tensor
        Vectors of the same size and dtype.
    out : Tensor, optional
        Tensor to write the 0-d result into.

    Returns
    -------
    Tensor
        A 0-d tensor.

    Examples
    --------
    >>> import ember
    >>> ember.dot(ember.tensor([2., 3.]), ember.tensor([2., 1.]))
    tensor(7.)
    """
    if autocast_mode() and out is None:
        return autocast_op("dot", dot, (input, tensor), None)
    if _records_any((input, tensor,)):
        return record_op("dot", dot, (input, tensor), {"out": out})
    cdef Tensor a = tensor_arg(input, "dot", "input", 1)
    cdef Tensor b = tensor_arg(tensor, "dot", "tensor", 2)
    check_devices("dot", a, b)
    return dot_impl("dot", a, b, out, False)


def vdot(input, other, *, out=None):
    """Dot product of two 1-D tensors, conjugating the first when complex.

    Parameters
    ----------
    input, other : Tensor
        Vectors of the same size and dtype.
    out : Tensor, optional
        Tensor to write the 0-d result into.

    Returns
    -------
    Tensor
        A 0-d tensor: ``sum(conj(input) * other)``.
    """
    if autocast_mode() and out is None:
        return autocast_op("vdot", vdot, (input, other), None)
    if _records_any((input, other,)):
        return record_op("vdot", vdot, (input, other), {"out": out})
    cdef Tensor a = tensor_arg(input, "vdot", "input", 1)
    cdef Tensor b = tensor_arg(other, "vdot", "other", 2)
    check_devices("vdot", a, b)
    return dot_impl("vdot", a, b, out, True)


# ---------------------------------------------------------------- beta * input + alpha * product

cdef Tensor addmm_impl(input, mat1, mat2, beta, alpha, out, bint inplace):
    cdef Tensor t = tensor_arg(input, "addmm", "input", 1)
    cdef Tensor a = tensor_arg(mat1, "addmm", "mat1", 2)
    cdef Tensor b = tensor_arg(mat2, "addmm", "mat2", 3)
    cdef Py_ssize_t shape[2]
    if a._ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a._ndim}-D tensor")
    if b._ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b._ndim}-D tensor")
    check_devices("addmm", a, b, t)
    check_same_dtype(a, b)
    if t._dtype != a._dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{TORCH_NAMES[t._dtype]} and {TORCH_NAMES[a._dtype]}")
    check_supported("addmm", a)
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({dims_x(a)} and "
                           f"{dims_x(b)})")
    shape[0] = a._shape[0]
    shape[1] = b._shape[1]
    return add_product("addmm", t, a, False, b, False, 0, NULL, 2, shape, beta, alpha, out,
                       inplace, False)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``.

    Parameters
    ----------
    input : Tensor
        Added tensor, broadcastable to the ``(n, p)`` result.
    mat1 : Tensor
        An ``(n, m)`` matrix.
    mat2 : Tensor
        An ``(m, p)`` matrix.
    beta, alpha : Number, optional
        Multipliers (default 1).  When ``beta`` is 0, ``input`` is ignored:
        NaN and inf in it do not propagate.  For integer dtypes they are
        truncated to integers.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.addmm(ember.ones(2, 2), ember.eye(2), ember.eye(2), beta=2, alpha=3)
    tensor([[5., 2.],
            [2., 5.]])
    """
    if ((_foreign(input) or _foreign(mat1) or _foreign(mat2))
            and _sparse_products is not None):
        result = _sparse_products("addmm", (input, mat1, mat2),
                                  {"beta": beta, "alpha": alpha, "out": out})
        if result is not NotImplemented:
            return result
    if autocast_mode() and out is None:
        return autocast_op("addmm", addmm, (input, mat1, mat2), {"beta": beta, "alpha": alpha})
    if _records_any((input, mat1, mat2,)):
        return record_op("addmm", addmm, (input, mat1, mat2), {"beta": beta, "alpha": alpha, "out": out})
    return addmm_impl(input, mat1, mat2, beta, alpha, out, False)


def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    """In-place :func:`addmm`: ``self = beta * self + alpha * (mat1 @ mat2)``."""
    if _records_any((self, mat1, mat2,)):
        return record_op("addmm_", addmm_, (self, mat1, mat2), {"beta": beta, "alpha": alpha})
    return addmm_impl(self, mat1, mat2, beta, alpha, None, True)


cdef Tensor addmv_impl(input, mat, vec, beta, alpha, out, bint inplace):
    cdef Tensor t = tensor_arg(input, "addmv", "input", 1)
    cdef Tensor a = tensor_arg(mat, "addmv", "mat", 2)
    cdef Tensor b = tensor_arg(vec, "addmv", "vec", 3)
    cdef Py_ssize_t shape[1]
    if a._ndim != 2 or b._ndim != 1 or t._ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {t._ndim}, {a._ndim}, "
                           f"{b._ndim}")
    check_devices("addmv", a, b, t)
    if not (t._dtype == a._dtype == b._dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{TORCH_NAMES[t._dtype]}, {TORCH_NAMES[a._dtype]}, and "
                           f"{TORCH_NAMES[b._dtype]}")
    check_supported("addmv", a)
    if a._shape[1] != b._shape[0] or (t._ndim == 1 and t._shape[0] not in (1, a._shape[0])):
        raise RuntimeError(f"size mismatch, got input ({t._numel}), mat ({dims_x(a)}), "
                           f"vec ({b._shape[0]})")
    shape[0] = a._shape[0]
    return add_product("addmv", t, a, False, b, True, 0, NULL, 1, shape, beta, alpha, out,
                       inplace, False)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``.

    Parameters
    ----------
    input : Tensor
        Added tensor, broadcastable to the size-``n`` result.
    mat : Tensor
        An ``(n, m)`` matrix.
    vec : Tensor
        A vector of size ``m``.
    beta, alpha : Number, optional
        Multipliers (default 1); ``beta == 0`` ignores ``input``.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
    """
    if autocast_mode() and out is None:
        return autocast_op("addmv", addmv, (input, mat, vec), {"beta": beta, "alpha": alpha})
    if _records_any((input, mat, vec,)):
        return record_op("addmv", addmv, (input, mat, vec), {"beta": beta, "alpha": alpha, "out": out})
    return addmv_impl(input, mat, vec, beta, alpha, out, False)


def addmv_(self, mat, vec, *, beta=1, alpha=1):
    """In-place :func:`addmv`."""
    if _records_any((self, mat, vec,)):
        return record_op("addmv_", addmv_, (self, mat, vec), {"beta": beta, "alpha": alpha})
    return addmv_impl(self, mat, vec, beta, alpha, None, True)


cdef Tensor baddbmm_impl(input, batch1, batch2, beta, alpha, out, bint inplace, bint accumulate):
    cdef str fname = "addbmm" if accumulate else "baddbmm"
    cdef Tensor t = tensor_arg(input, fname, "input", 1)
    cdef Tensor a = tensor_arg(batch1, fname, "batch1", 2)
    cdef Tensor b = tensor_arg(batch2, fname, "batch2", 3)
    cdef Py_ssize_t shape[3]
    cdef Py_ssize_t nbatch[1]
    if accumulate:
        if a._ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor")
        if b._ndim != 3:
            raise RuntimeError("batch2 must be a 3D tensor")
        if a._shape[0] != b._shape[0]:
            raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                               f"{a._shape[0]} and {b._shape[0]}")
        if a._shape[2] != b._shape[1]:
            raise RuntimeError(f"Incompatible matrix sizes for bmm ({a._shape[1]}x{a._shape[2]} "
                               f"and {b._shape[1]}x{b._shape[2]})")
    else:
        check_bmm_shapes(a, b)
    check_devices(fname, a, b, t)
    check_same_dtype(a, b)
    if t._dtype != a._dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {CPP_NAMES[t._dtype]}, "
                           f"batch1: {CPP_NAMES[a._dtype]}, batch2: {CPP_NAMES[b._dtype]}")
    check_supported(fname, a)
    nbatch[0] = a._shape[0]
    if accumulate:
        shape[0] = a._shape[1]
        shape[1] = b._shape[2]
        return add_product(fname, t, a, False, b, False, 1, nbatch, 2, shape, beta, alpha, out,
                           inplace, True)
    shape[0] = a._shape[0]
    shape[1] = a._shape[1]
    shape[2] = b._shape[2]
    return add_product(fname, t, a, False, b, False, 1, nbatch, 3, shape, beta, alpha, out,
                       inplace, False)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``.

    Parameters
    ----------
    input : Tensor
        Added tensor, broadcastable to the ``(b, n, p)`` result.
    batch1 : Tensor
        A ``(b, n, m)`` batch of matrices.
    batch2 : Tensor
        A ``(b, m, p)`` batch of matrices.
    beta, alpha : Number, optional
        Multipliers (default 1); ``beta == 0`` ignores ``input``.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
    """
    if autocast_mode() and out is None:
        return autocast_op("baddbmm", baddbmm, (input, batch1, batch2), {"beta": beta, "alpha": alpha})
    if _records_any((input, batch1, batch2,)):
        return record_op("baddbmm", baddbmm, (input, batch1, batch2), {"beta": beta, "alpha": alpha, "out": out})
    return baddbmm_impl(input, batch1, batch2, beta, alpha, out, False, False)


def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """In-place :func:`baddbmm`."""
    if _records_any((self, batch1, batch2,)):
        return record_op("baddbmm_", baddbmm_, (self, batch1, batch2), {"beta": beta, "alpha": alpha})
    return baddbmm_impl(self, batch1, batch2, beta, alpha, None, True, False)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum(batch1[i] @ batch2[i] for i)``.

    Parameters
    ----------
    input : Tensor
        Added tensor, broadcastable to the ``(n, p)`` result.
    batch1 : Tensor
        A ``(b, n, m)`` batch of matrices.
    batch2 : Tensor
        A ``(b, m, p)`` batch of matrices.
    beta, alpha : Number, optional
        Multipliers (default 1); ``beta == 0`` ignores ``input``.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
    """
    if autocast_mode() and out is None:
        return autocast_op("addbmm", addbmm, (input, batch1, batch2), {"beta": beta, "alpha": alpha})
    if _records_any((input, batch1, batch2,)):
        return record_op("addbmm", addbmm, (input, batch1, batch2), {"beta": beta, "alpha": alpha, "out": out})
    return baddbmm_impl(input, batch1, batch2, beta, alpha, out, False, True)


def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """In-place :func:`addbmm`."""
    if _records_any((self, batch1, batch2,)):
        return record_op("addbmm_", addbmm_, (self, batch1, batch2), {"beta": beta, "alpha": alpha})
    return baddbmm_impl(self, batch1, batch2, beta, alpha, None, True, True)
