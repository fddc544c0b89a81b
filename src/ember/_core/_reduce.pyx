# cython: embedsignature=False
"""Reductions, scans and fused softmax: ``ember.sum``, ``mean``, ``max``, ``var``,
``norm``, ``cumsum``, ``softmax`` and friends, and their Tensor methods.

Argument handling is typed Cython that goes straight to the C engine in
``reduce.c`` and the kernels generated from ``reduce.c.in`` and ``scan.c.in``;
complex sums, means, variances and cumulative sums run the real kernels on a
real view of the data (a trailing dimension of size 2).  Tensors on another
device (cuda) take the same argument handling and outputs, and the backend's
kernels in place of the CPU's: ``_run`` and ``_lanes`` hand them over.
Statistics and norms live in ``_reduce_stats.pxi``, the extremes in
``_reduce_extremes.pxi``, the ops along one dim in ``_reduce_lanes.pxi`` and
``_reduce_scans.pxi``, and the handling of ``out=`` in ``_reduce_out.pxi``.
"""
cimport cython
from libc.stdint cimport uint64_t, int64_t
from libc.math cimport INFINITY, NAN

import operator
import warnings
from collections import namedtuple

from ember._core._dtype cimport (
    dtype as DType, dtype_of, as_dtype, default_float, real_of, em_category, em_itemsize,
    EM_BOOL, EM_UINT8, EM_INT64, EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64, EM_NTYPES,
)
from ember._core._tensor cimport (
    check_not_inference, grad_enabled, set_grad_mode, record_op, autocast_mode, autocast_op, Tensor, new_tensor,
    bump_version,
    new_like_layout, make_view, set_dims, copy_into, wrap_dim, resize_output, DEV_CPU,
    EM_MAX_DIMS, EM_GRAIN_SIZE,
)
from ember._core._tensor import _add_method, ew, op_id, backend as _backend

cdef extern from "ember/reduce.h" nogil:
    enum:
        EM_REDUCE_TILE
    ctypedef struct em_reduce_params:
        double scale
        double p
        double inv_p
        double correction
        int take_sqrt
    ctypedef void (*em_init_fn)(void *acc, Py_ssize_t K) noexcept nogil
    ctypedef void (*em_fold_fn)(void *acc, Py_ssize_t K, Py_ssize_t s_k, const char *inp,
                                Py_ssize_t N, Py_ssize_t s_n, int64_t idx0, int row_mode,
                                const em_reduce_params *prm) noexcept nogil
    ctypedef void (*em_finalize_fn)(char *out, Py_ssize_t s_out, char *out_idx, Py_ssize_t s_idx,
                                    const void *acc, Py_ssize_t K,
                                    const em_reduce_params *prm) noexcept nogil
    ctypedef struct em_reduce_kernel:
        size_t acc_size
        em_init_fn init
        em_fold_fn fold
        em_finalize_fn finalize
    enum:
        EM_RED_SUM
        EM_RED_PROD
        EM_RED_MAX
        EM_RED_MIN
        EM_RED_MAX_ABS
        EM_RED_MIN_ABS
        EM_RED_ABS_SUM
        EM_RED_SQ_SUM
        EM_RED_POW_SUM
        EM_RED_NONZERO
        EM_RED_ALL
        EM_RED_ANY
        EM_RED_ARGMAX
        EM_RED_ARGMIN
        EM_RED_VAR
    const em_reduce_kernel em_reduce_kernels[15][EM_NTYPES]
    ctypedef struct em_reduce_problem:
        int ndim
        Py_ssize_t shape[64]
        Py_ssize_t in_strides[64]
        Py_ssize_t out_strides[64]
        Py_ssize_t idx_strides[64]
        uint64_t reduced
        int keep_order
        const char *inp "in"
        char *out
        char *out_idx
    int em_reduce_run(const em_reduce_kernel *kernel, em_reduce_problem *pb,
                      const em_reduce_params *prm)
    ctypedef void (*em_lanes_fn)(char *out, Py_ssize_t os_l, Py_ssize_t os_k, const char *inp,
                                 Py_ssize_t is_l, Py_ssize_t is_k, Py_ssize_t L, Py_ssize_t K,
                                 int col_mode) noexcept nogil
    const em_lanes_fn em_cumsum_lanes[EM_NTYPES]
    const em_lanes_fn em_cumprod_lanes[EM_NTYPES]
    const em_lanes_fn em_logcumsumexp_lanes[EM_NTYPES]
    ctypedef void (*em_long_scan_fn)(char *out, const char *inp, Py_ssize_t L) noexcept nogil
    const em_long_scan_fn em_cumsum_long[EM_NTYPES]
    enum: EM_SCAN_LONG
    ctypedef void (*em_lanes_idx_fn)(char *out, Py_ssize_t os_l, Py_ssize_t os_k, char *idx,
                                     Py_ssize_t xs_l, Py_ssize_t xs_k, const char *inp,
                                     Py_ssize_t is_l, Py_ssize_t is_k, Py_ssize_t L,
                                     Py_ssize_t K) noexcept nogil
    const em_lanes_idx_fn em_cummax_lanes[EM_NTYPES]
    const em_lanes_idx_fn em_cummin_lanes[EM_NTYPES]
    const em_lanes_fn em_softmax_lanes[EM_NTYPES]
    const em_lanes_fn em_log_softmax_lanes[EM_NTYPES]
    ctypedef void (*em_softmax_backward_fn)(void *out, const void *grad, const void *result,
                                            Py_ssize_t outer, Py_ssize_t L,
                                            Py_ssize_t inner) noexcept nogil
    const em_softmax_backward_fn em_softmax_backward[EM_NTYPES]
    const em_softmax_backward_fn em_log_softmax_backward[EM_NTYPES]
    void em_lanes_run(em_lanes_fn fn, int ndim, const Py_ssize_t *shape,
                      const Py_ssize_t *in_strides, const Py_ssize_t *out_strides, int dim,
                      const char *inp, char *out)
    void em_lanes_idx_run(em_lanes_idx_fn fn, int ndim, const Py_ssize_t *shape,
                          const Py_ssize_t *in_strides, const Py_ssize_t *out_strides,
                          const Py_ssize_t *idx_strides, int dim, const char *inp, char *out,
                          char *idx)

from ember._core._dtype import TORCH_NAMES as _TORCH_NAMES

max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])
max_result.__module__ = min_result.__module__ = "ember.return_types"

_OP_SQRT = op_id("sqrt")
_OP_ADD = op_id("add")
_OP_SUB = op_id("sub")
_OP_EXP = op_id("exp")
_OP_LOG = op_id("log")
_OP_MAXIMUM = op_id("maximum")
_OP_MINIMUM = op_id("minimum")
_OP_ABS = op_id("abs")
_OP_LT = op_id("lt")
_OP_WHERE = op_id("where")


# ---------------------------------------------------------------- arguments

cdef inline Tensor _tensor_arg(object x, str fname):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                    f"{type(x).__name__}")


cdef inline uint64_t _all_dims(int ndim) noexcept:
    return (<uint64_t>0 - 1) if ndim >= 64 else ((<uint64_t>1 << ndim) - 1)


cdef uint64_t _dims_mask(object dim, int ndim, bint allow_tuple, str fname) except? 0xFFFFFFFFFFFFFFFF:
    """Bit d set for each reduced dim; None and () reduce every dim."""
    cdef uint64_t mask = 0, bit
    cdef int d
    if dim is None:
        return _all_dims(ndim)
    if isinstance(dim, (tuple, list)):
        if not allow_tuple:
            raise TypeError(f"{fname}(): argument 'dim' must be int, not {type(dim).__name__}")
        if len(dim) == 0:
            return _all_dims(ndim)
        for item in dim:
            d = wrap_dim(item, ndim)
            bit = (<uint64_t>1 << d) if ndim > 0 else 0
            if mask & bit:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            mask |= bit
        return mask
    if isinstance(dim, Tensor) or not hasattr(dim, "__index__") or isinstance(dim, bool):
        kind = "int or tuple of ints" if allow_tuple else "int"
        raise TypeError(f"{fname}(): argument 'dim' must be {kind}, not {type(dim).__name__}")
    d = wrap_dim(dim, ndim)
    return (<uint64_t>1 << d) if ndim > 0 else 0


cdef inline int _dtype_arg(object dt) except -2:
    return -1 if dt is None else (<DType>as_dtype(dt)).num


cdef Py_ssize_t _reduced_count(Tensor x, uint64_t mask) noexcept:
    cdef Py_ssize_t n = 1
    cdef int d
    for d in range(x._ndim):
        if (mask >> d) & 1:
            n *= x._shape[d]
    return n


cdef str _name(int dt):
    return _TORCH_NAMES[dt]


cdef int _check_nonempty(Tensor x, uint64_t mask, object dim, str fname) except -1:
    """max-like reductions have no identity: empty reduced dims are an error, as in PyTorch."""
    cdef int d
    if x._numel != 0:
        return 0
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        raise RuntimeError(f"{fname}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")
    for d in range(x._ndim):
        if (mask >> d) & 1 and x._shape[d] == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    return 0


# ---------------------------------------------------------------- engine glue

cdef Tensor _new_output(Tensor x, uint64_t mask, bint keepdim, int dt):
    """A contiguous tensor of the reduced shape (size 1 at reduced dims with keepdim)."""
    cdef Py_ssize_t shape[64]
    cdef int d, nd = 0
    for d in range(x._ndim):
        if (mask >> d) & 1:
            if keepdim:
                shape[nd] = 1
                nd += 1
        else:
            shape[nd] = x._shape[d]
            nd += 1
    return new_tensor(nd, shape, dt, x._storage.device)


cdef dict _RED_NAMES = {
    EM_RED_SUM: "sum", EM_RED_PROD: "prod", EM_RED_MAX: "max", EM_RED_MIN: "min",
    EM_RED_MAX_ABS: "max_abs", EM_RED_MIN_ABS: "min_abs", EM_RED_ABS_SUM: "abs_sum",
    EM_RED_SQ_SUM: "sq_sum", EM_RED_POW_SUM: "pow_sum", EM_RED_NONZERO: "nonzero",
    EM_RED_ALL: "all", EM_RED_ANY: "any", EM_RED_ARGMAX: "argmax", EM_RED_ARGMIN: "argmin",
    EM_RED_VAR: "var",
}


cdef inline bint _on_cpu(Tensor x) noexcept:
    return x._storage.device.type_num == DEV_CPU


cdef int _run(int op, Tensor x, uint64_t mask, Tensor out, Tensor out_idx,
              em_reduce_params *prm, bint keep_order) except -1:
    """Reduce `x` over `mask` into contiguous outputs laid out over the kept dims: `out`
    (None for indices only) and, for argmax/argmin, the int64 `out_idx`."""
    cdef const em_reduce_kernel *k = &em_reduce_kernels[op][x._dtype]
    cdef em_reduce_problem pb
    cdef Py_ssize_t isz = em_itemsize[x._dtype], n_out = 1
    cdef Py_ssize_t out_itemsize = em_itemsize[out._dtype] if out is not None else 0
    cdef int d, rc
    if not _on_cpu(x):
        _backend(x._storage.device.type).reduce(
            _RED_NAMES[op], x, mask, out, out_idx, prm.scale, prm.p, prm.inv_p,
            prm.correction, prm.take_sqrt)
        return 0
    pb.ndim = x._ndim
    pb.reduced = mask
    pb.keep_order = keep_order
    for d in range(x._ndim - 1, -1, -1):
        pb.shape[d] = x._shape[d]
        pb.in_strides[d] = x._strides[d] * isz
        if (mask >> d) & 1:
            pb.out_strides[d] = 0
            pb.idx_strides[d] = 0
        else:
            pb.out_strides[d] = n_out * out_itemsize
            pb.idx_strides[d] = n_out * 8
            n_out *= x._shape[d]
    pb.inp = x.ptr()
    pb.out = out.ptr() if out is not None else NULL
    pb.out_idx = out_idx.ptr() if out_idx is not None else NULL
    if x._numel >= EM_GRAIN_SIZE:
        with nogil:
            rc = em_reduce_run(k, &pb, prm)
    else:
        rc = em_reduce_run(k, &pb, prm)
    if rc != 0:
        raise MemoryError("reduction: out of memory for per-thread partial results")
    return 0


cdef inline bint _has_kernel(int op, int dt) noexcept:
    return em_reduce_kernels[op][dt].acc_size != 0


cdef Tensor _reduce(int op, Tensor x, uint64_t mask, bint keepdim, int out_dt,
                    em_reduce_params *prm):
    """One reduction of a real tensor into a new tensor of dtype `out_dt`."""
    cdef Tensor out = _new_output(x, mask, keepdim, out_dt)
    cdef char acc[64]
    cdef const em_reduce_kernel *k
    if out._numel == 1 and x._numel < EM_GRAIN_SIZE and x.is_contig() and _on_cpu(x):
        # one output from a small contiguous block: skip the engine's planning
        k = &em_reduce_kernels[op][x._dtype]
        k.init(acc, 1)
        k.fold(acc, 1, 0, x.ptr(), x._numel, em_itemsize[x._dtype], 0, 0, prm)
        k.finalize(out.ptr(), 0, NULL, 0, acc, 1, prm)
        return out
    _run(op, x, mask, out, None, prm, False)
    return out


include "_reduce_out.pxi"


cdef Tensor _as_real(Tensor t):
    """A complex tensor viewed as its real dtype with a trailing dim of 2 (re, im)."""
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef int d, nd = t._ndim
    if nd + 1 > EM_MAX_DIMS:
        raise RuntimeError(f"complex reductions support at most {EM_MAX_DIMS - 1} dimensions")
    for d in range(nd):
        shape[d] = t._shape[d]
        strides[d] = t._strides[d] * 2
    shape[nd] = 2
    strides[nd] = 1
    cdef Tensor v = make_view(t, nd + 1, shape, strides, t._offset * 2)
    v._dtype = real_of(t._dtype)
    return v


cdef Tensor _real_part(Tensor t):
    """The real parts of a complex tensor, as a strided view of its real dtype."""
    cdef Py_ssize_t strides[64]
    cdef int d
    for d in range(t._ndim):
        strides[d] = t._strides[d] * 2
    cdef Tensor v = make_view(t, t._ndim, t._shape, strides, t._offset * 2)
    v._dtype = real_of(t._dtype)
    return v


cdef Tensor _reduce_complex_parts(int op, Tensor x, uint64_t mask, bint keepdim,
                                  em_reduce_params *prm):
    """Reduce the real and imaginary parts of a complex tensor separately (sum, mean)."""
    cdef Tensor out = _new_output(x, mask, keepdim, x._dtype)
    _run(op, _as_real(x), mask, _as_real(out), None, prm, False)
    return out


cdef Tensor _cast(Tensor x, int dt):
    if x._dtype == dt:
        return x
    cdef Tensor out = new_like_layout(x, dt)
    copy_into(out, x)
    return out


cdef Tensor _contiguous(Tensor x):
    if x.is_contig():
        return x
    cdef Tensor out = new_tensor(x._ndim, x._shape, x._dtype, x._storage.device)
    copy_into(out, x)
    return out


cdef inline void _params(em_reduce_params *prm) noexcept:
    prm.scale = 1.0
    prm.p = 2.0
    prm.inv_p = 0.5
    prm.correction = 1.0
    prm.take_sqrt = 0


# ---------------------------------------------------------------- sum, mean, prod

cdef Tensor _sum_impl(Tensor x, uint64_t mask, bint keepdim, int dt, bint mean):
    cdef em_reduce_params prm
    cdef Py_ssize_t n
    _params(&prm)
    if mean:
        n = _reduced_count(x, mask)
        prm.scale = 1.0 / n if n > 0 else NAN
    if em_category[x._dtype] == 3:
        return _reduce_complex_parts(EM_RED_SUM, x, mask, keepdim, &prm)
    return _reduce(EM_RED_SUM, x, mask, keepdim, EM_INT64 if em_category[x._dtype] < 2 else x._dtype,
                   &prm)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None, keepdims=None):
    """Sum of the elements, over all dims or over ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
        Dimensions to reduce; all of them by default.
    keepdim : bool, default False
        Keep reduced dims with size 1.
    dtype : ember.dtype, optional
        Convert the input to this dtype first.  Bool and integer inputs
        otherwise sum to ``int64``.
    out : Tensor, optional
        Where to write the result: the sum is computed in ``out``'s dtype
        (any dtype; ``dtype``, if given too, must be the same), and ``out``
        is resized to the result's shape.  Returned.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.tensor([[1, 2], [3, 4]]).sum(0)
    tensor([4, 6])
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("sum", out, "same", sum, (input, dim, keepdim),
                         {"dtype": _out_dtype("sum", dtype, out)}, (input,))
    if autocast_mode():
        return autocast_op("sum", sum, (input, dim, keepdim), {"dtype": dtype})
    if grad_enabled() and _records(input):
        return record_op("sum", sum, (input, dim, keepdim),
                         {"dtype": dtype} if dtype is not None else None)
    cdef Tensor x = _tensor_arg(input, "sum")
    cdef int dt = _dtype_arg(dtype), natural
    cdef uint64_t mask = _dims_mask(dim, x._ndim, True, "sum")
    if dt < 0:
        return _sum_impl(x, mask, keepdim, -1, False)
    natural = EM_INT64 if em_category[dt] < 2 else dt
    if not (em_category[x._dtype] < 2 and natural == EM_INT64):
        x = _cast(x, dt)
    out = _sum_impl(x, mask, keepdim, dt, False)
    return _cast(out, dt)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None, keepdims=None):
    """Arithmetic mean of the elements, over all dims or over ``dim``.

    Parameters
    ----------
    input : Tensor
        A floating-point or complex tensor (integer inputs need ``dtype=``).
    dim : int or tuple of ints, optional
    keepdim : bool, default False
    dtype : ember.dtype, optional
        Convert the input to this floating-point or complex dtype first.
    out : Tensor, optional
        Where to write the result (returned), resized to its shape: of any
        floating-point or complex dtype (of ``dtype`` itself when given).

    Returns
    -------
    Tensor
        NaN where the reduction is empty.
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        # PyTorch takes any floating-point or complex out (of a complex mean, the real part)
        return _with_out("mean", out, "float" if dtype is None else "same", mean,
                         (input, dim, keepdim), {"dtype": dtype}, (input,))
    if grad_enabled() and _records(input):
        return record_op("mean", mean, (input, dim, keepdim),
                         {"dtype": dtype} if dtype is not None else None)
    cdef Tensor x = _tensor_arg(input, "mean")
    cdef int dt = _dtype_arg(dtype)
    cdef uint64_t mask = _dims_mask(dim, x._ndim, True, "mean")
    if dt >= 0:
        if em_category[dt] < 2:
            raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be "
                               f"either a floating point or complex dtype. Got: {_name(dt)}")
        x = _cast(x, dt)
    elif em_category[x._dtype] < 2:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_name(x._dtype)}")
    return _sum_impl(x, mask, keepdim, -1, True)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None, keepdims=None):
    """Product of the elements, over all dims or over one ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    keepdim : bool, default False
    dtype : ember.dtype, optional
        Convert the input to this dtype first.  Bool and integer inputs
        otherwise multiply to ``int64``.
    out : Tensor, optional
        Where to write the result (returned), computed in ``out``'s dtype
        as :func:`sum` does.

    Returns
    -------
    Tensor
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("prod", out, "same", prod, (input, dim, keepdim),
                         {"dtype": _out_dtype("prod", dtype, out)}, (input,))
    if autocast_mode():
        return autocast_op("prod", prod, (input, dim, keepdim), {"dtype": dtype})
    if grad_enabled() and _records(input):
        return record_op("prod", prod, (input, dim, keepdim),
                         {"dtype": dtype} if dtype is not None else None)
    cdef Tensor x = _tensor_arg(input, "prod")
    cdef int dt = _dtype_arg(dtype)
    cdef uint64_t mask = _dims_mask(dim, x._ndim, False, "prod")
    cdef em_reduce_params prm
    _params(&prm)
    if dt >= 0:
        x = _cast(x, dt)
    out = _reduce(EM_RED_PROD, x, mask, keepdim,
                  EM_INT64 if em_category[x._dtype] < 2 else x._dtype, &prm)
    return out if dt < 0 else _cast(out, dt)


cdef inline bint _records(object x) noexcept:
    return isinstance(x, Tensor) and (<Tensor>x)._requires_grad


include "_reduce_extremes.pxi"


# ---------------------------------------------------------------- all, any

cdef Tensor _all_any(int op, object input, object dim, bint keepdim, str fname):
    cdef Tensor x = _tensor_arg(input, fname)
    cdef uint64_t mask
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        mask = 0        # PyTorch's all/any reduce no dim for dim=() (sum and amax reduce all)
    else:
        mask = _dims_mask(dim, x._ndim, True, fname)
    cdef em_reduce_params prm
    _params(&prm)
    return _reduce(op, x, mask, keepdim, EM_UINT8 if x._dtype == EM_UINT8 else EM_BOOL, &prm)


def all(input, dim=None, keepdim=False, *, out=None, axis=None, keepdims=None):
    """Whether every element is non-zero, over all dims or over ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
    keepdim : bool, default False
    out : Tensor, optional
        A ``bool`` or ``uint8`` tensor to write the result into (returned),
        resized to its shape.

    Returns
    -------
    Tensor
        ``bool`` (``uint8`` for ``uint8`` input, as in PyTorch).
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("all", out, "bool", all, (input, dim, keepdim), None, (), False)
    return _all_any(EM_RED_ALL, input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False, *, out=None, axis=None, keepdims=None):
    """Whether any element is non-zero, over all dims or over ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of ints, optional
    keepdim : bool, default False
    out : Tensor, optional
        A ``bool`` or ``uint8`` tensor to write the result into (returned),
        resized to its shape.

    Returns
    -------
    Tensor
        ``bool`` (``uint8`` for ``uint8`` input, as in PyTorch).
    """
    if axis is not None:     # NumPy's names, which PyTorch accepts too
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if out is not None:
        return _with_out("any", out, "bool", any, (input, dim, keepdim), None, (), False)
    return _all_any(EM_RED_ANY, input, dim, keepdim, "any")


include "_reduce_stats.pxi"
include "_reduce_lanes.pxi"
include "_reduce_scans.pxi"


# ---------------------------------------------------------------- Tensor methods

PUBLIC = ("sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "max", "min", "var", "std",
          "norm", "logsumexp", "all", "any", "cumsum", "softmax", "log_softmax", "cumprod",
          "logcumsumexp", "cummax", "cummin")

for _name_ in PUBLIC:
    _add_method(_name_, globals()[_name_])
del _name_
