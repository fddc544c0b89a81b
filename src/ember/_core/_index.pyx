# cython: embedsignature=False
"""Index ops: advanced indexing, gather/scatter, masked fill, nonzero, cat and stack.

The C loops live in ``index.c.in`` (see ``ember/index.h``); this module checks
arguments as PyTorch does, lays out the strided iteration and runs the loops, or for
tensors on a GPU hands the same iteration to the device's index kernels (``_run_on``).
Advanced indexing (``_advanced_indexing.pxi``) turns an index into a view plus
index tensors, then into one gather or scatter over the result's shape; the
named ops are in ``_gather_scatter.pxi``; joining (``_join.pxi``) copies each
input into a slice of the output.
"""
from libc.string cimport memcmp, memcpy, memset
from libc.stdint cimport int64_t, uint8_t, int8_t, int16_t, int32_t, uint16_t, uint32_t, uint64_t

import operator
import warnings
from collections.abc import Sequence

import numpy as np

from ember._core._tensor cimport (
    check_not_inference, grad_enabled, record_op, autocast_mode, autocast_op, bump_version,
    Tensor, device, new_tensor, new_like_layout, make_view, set_dims, copy_into, wrap_dim,
    resize_output,
    em_iter, em_loop_fn, em_iter_prepare, em_iter_prepare_ordered, em_iter_run, EM_MAX_DIMS,
    EM_GRAIN_SIZE, DEV_CPU,
)
from ember._core._dtype cimport (
    dtype_of, promote_nums, em_itemsize, em_category, em_float_to_half,
    em_float_to_bfloat16,
    EM_BOOL, EM_UINT8, EM_INT8, EM_INT16, EM_INT32, EM_INT64, EM_FLOAT16, EM_BFLOAT16,
    EM_FLOAT32, EM_FLOAT64, EM_COMPLEX64, EM_COMPLEX128, EM_UINT16, EM_UINT32, EM_UINT64,
    EM_NTYPES,
)
from ember._core import _tensor as _core


cdef inline bint _records(object x) noexcept:
    return isinstance(x, Tensor) and (<Tensor>x)._requires_grad


cdef bint _records_any(object xs):
    if not grad_enabled():
        return False
    for x in xs:
        if _records(x):
            return True
    return False

cdef extern from "ember/index.h":
    ctypedef struct em_index_ctx:
        int64_t size
        int64_t stride
        int wrap
        int error
        int64_t bad_index
    ctypedef struct em_count_ctx:
        int64_t count
    ctypedef struct em_fill_ctx:
        unsigned char value[16]
    ctypedef int64_t (*em_nonzero_fn)(const char *data, int ndim, const Py_ssize_t *shape,
                                      const Py_ssize_t *strides, const int64_t *weights,
                                      int64_t *out, int64_t capacity) noexcept nogil
    int em_size_class(int itemsize) noexcept nogil
    const em_loop_fn em_gather_loops[2][5]
    const em_loop_fn em_gather_offset_loops[5]
    const em_loop_fn em_offset_loops[2]
    const em_loop_fn em_offset_add_loop
    const em_loop_fn em_check_loops[2]
    const em_loop_fn em_scatter_loops[2][5]
    const em_loop_fn em_scatter_offset_loops[5]
    const em_loop_fn em_scatter_add_loops[2][EM_NTYPES]
    const em_loop_fn em_scatter_mul_loops[2][EM_NTYPES]
    const em_loop_fn em_scatter_max_loops[2][EM_NTYPES]
    const em_loop_fn em_scatter_min_loops[2][EM_NTYPES]
    const em_loop_fn em_scatter_add_offset_loops[EM_NTYPES]
    const em_loop_fn em_masked_fill_loops[5]
    const em_loop_fn em_count_nonzero_loops[EM_NTYPES]
    const em_nonzero_fn em_nonzero_fill[EM_NTYPES]

cdef extern from "Python.h":
    Py_ssize_t PY_SSIZE_T_MAX


# ---------------------------------------------------------------- names and checks

from ember._core._dtype import TORCH_NAMES as _TYPE_NAMES, C_NAMES as _C_NAMES, CPP_NAMES as _META_NAMES
# largest finite value of each floating dtype (real part for complex)
cdef dict _FLOAT_MAX = {EM_FLOAT16: 65504.0, EM_BFLOAT16: 3.3895313892515355e+38,
                        EM_FLOAT32: 3.4028234663852886e+38, EM_FLOAT64: float("inf"),
                        EM_COMPLEX64: 3.4028234663852886e+38, EM_COMPLEX128: float("inf")}
cdef dict _INT_RANGE = {EM_UINT8: (0, 255), EM_INT8: (-128, 127), EM_INT16: (-32768, 32767),
                        EM_INT32: (-2**31, 2**31 - 1), EM_INT64: (-2**63, 2**63 - 1),
                        EM_UINT16: (0, 2**16 - 1), EM_UINT32: (0, 2**32 - 1),
                        EM_UINT64: (0, 2**64 - 1)}


cdef inline list _sizes(Tensor t):
    cdef int d
    return [t._shape[d] for d in range(t._ndim)]


cdef inline list _ints(const Py_ssize_t *a, int n):
    cdef int i
    return [a[i] for i in range(n)]


cdef int _check_cpu(Tensor t, str op) except -1:
    if t._storage.device.type_num != DEV_CPU:
        raise NotImplementedError(f"{op}: not implemented for device "
                                  f"{t._storage.device.type} yet")
    return 0


cdef int _check_same_device(Tensor a, Tensor b, str op) except -1:
    if a._storage.device != b._storage.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {a._storage.device} and {b._storage.device}! ({op})")
    return 0


cdef int _check_writable(Tensor t) except -1:
    if t._storage.readonly_mem:
        raise RuntimeError("cannot write to a tensor that views read-only memory")
    check_not_inference(t, "inplace")
    return 0


cdef bint _has_internal_overlap(Tensor t) noexcept:
    """Whether several elements of `t` share memory (a zero stride: an expanded view)."""
    cdef int d
    if t._numel == 0:
        return False
    for d in range(t._ndim):
        if t._strides[d] == 0 and t._shape[d] > 1:
            return True
    return False


cdef int _check_no_internal_overlap(Tensor t) except -1:
    if _has_internal_overlap(t):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the tensor "
                           "before performing the operation.")
    return 0


cdef int _warn_expanded(Tensor t, str op, str example) except -1:
    """PyTorch still writes into expanded tensors for these ops, with a deprecation warning."""
    if _has_internal_overlap(t):
        warnings.warn(f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor "
                      f"before performing this operation. This also applies to advanced indexing "
                      f"e.g. {example}", UserWarning)
    return 0


cdef inline void _bump_version(Tensor t) noexcept:
    bump_version(t)


cdef inline bint _is_number(object v):
    if isinstance(v, (int, float, complex, np.number, np.bool_)):
        return True
    # NumPy scalars of extension dtypes (ml_dtypes.bfloat16) hold a Python number
    return isinstance(v, np.generic) and isinstance(v.item(), (int, float, complex))


cdef Tensor _tensor_arg(object obj, str op, str name):
    if not isinstance(obj, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(obj).__name__}")
    return <Tensor>obj


cdef Tensor _copy_of(Tensor t, int dt):
    """A new tensor holding `t`'s values as dtype `dt`, laid out like `t` when it is dense."""
    cdef Tensor out = new_like_layout(t, dt)
    copy_into(out, t)
    return out


cdef int _write_value(char *p, int dt, object v) except -1:
    """Store number `v` as dtype `dt` at `p`, refusing values the dtype cannot hold (as PyTorch)."""
    cdef double re, im, limit
    cdef int64_t iv
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, (int, float, complex)):
        raise TypeError(f"expected a number, got {type(v).__name__}")
    if dt == EM_BOOL:
        (<uint8_t *>p)[0] = 1 if v else 0
        return 0
    overflow = RuntimeError(f"value cannot be converted to type {_C_NAMES[dt]} without overflow")
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, complex) and em_category[dt] != 3:
        if v.imag != 0:
            raise overflow
        v = v.real
    if em_category[dt] == 1:
        lo, hi = _INT_RANGE[dt]
        if isinstance(v, float):
            if v != v or v < lo or v > hi:
                raise overflow
            v = int(v)
        elif dt == EM_UINT8:
            if v > hi or v < -hi:  # negative values wrap, as in PyTorch
                raise overflow
        elif v < lo or v > hi:
            raise overflow
        if dt == EM_UINT64:
            (<uint64_t *>p)[0] = <uint64_t>v
            return 0
        iv = v
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
    c = complex(v) if isinstance(v, complex) else None
    try:
        re = c.real if c is not None else float(v)
        im = c.imag if c is not None else 0.0
    except OverflowError:
        raise overflow from None
    limit = _FLOAT_MAX[dt]
    if (re == re and abs(re) != float("inf") and abs(re) > limit) or \
            (im == im and abs(im) != float("inf") and abs(im) > limit):
        raise overflow
    if dt == EM_FLOAT32:
        (<float *>p)[0] = <float>re
    elif dt == EM_FLOAT64:
        (<double *>p)[0] = re
    elif dt == EM_FLOAT16:
        (<uint16_t *>p)[0] = em_float_to_half(<float>re)
    elif dt == EM_BFLOAT16:
        (<uint16_t *>p)[0] = em_float_to_bfloat16(<float>re)
    elif dt == EM_COMPLEX64:
        (<float *>p)[0] = <float>re
        (<float *>p)[1] = <float>im
    else:
        (<double *>p)[0] = re
        (<double *>p)[1] = im
    return 0


cdef device _CPU = _core.device("cpu")


cdef Tensor _scalar_tensor(object v, int dt):
    cdef Tensor t = new_tensor(0, NULL, dt, _CPU)
    _write_value(t.ptr(), dt, v)
    return t


cdef object _scalar_of(object value, str op):
    """The number held by `value` (a number or a 0-dim tensor), as masked_fill_ accepts it."""
    if isinstance(value, Tensor):
        if (<Tensor>value)._ndim != 0:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor "
                               f"with {(<Tensor>value)._ndim} dimension(s).")
        return (<Tensor>value).item()
    if not _is_number(value):
        raise TypeError(f"{op}(): value must be a number or a 0-dim Tensor, not "
                        f"{type(value).__name__}")
    return value


cdef int _resize_out(Tensor out, int nd, const Py_ssize_t *shape, int dt, str op) except -1:
    """Give an out= tensor the result's shape, as PyTorch resizes mismatched outputs."""
    cdef int d
    cdef bint same = out._ndim == nd
    if out._dtype != dt:
        raise RuntimeError(f"{op}(): Expected out tensor to have dtype {dtype_of(dt)}, but got "
                           f"{dtype_of(out._dtype)} instead")
    _check_writable(out)
    for d in range(nd):
        if same and out._shape[d] != shape[d]:
            same = False
    if same:
        return _check_no_internal_overlap(out)
    return resize_output(out, nd, shape)


# ---------------------------------------------------------------- running loops

cdef inline void _set_operand(em_iter *it, int k, char *data,
                              const Py_ssize_t *byte_strides) noexcept:
    cdef int d
    it.data[k] = data
    for d in range(it.ndim):
        it.strides[k][d] = byte_strides[d]


cdef inline void _tensor_strides(Tensor t, Py_ssize_t *out) noexcept:
    """`t`'s strides in bytes."""
    cdef int d
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    for d in range(t._ndim):
        out[d] = t._strides[d] * isz


cdef inline void _aligned_strides(Tensor t, int nd, const Py_ssize_t *shape,
                                  Py_ssize_t *out) noexcept:
    """`t`'s byte strides right-aligned to `shape`, zero where it broadcasts."""
    cdef int d, src
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    for d in range(nd):
        src = d - (nd - t._ndim)
        out[d] = 0 if src < 0 or t._shape[src] != shape[d] else t._strides[src] * isz


cdef int _run(em_iter *it, em_loop_fn fn, void *ctx, bint ordered) except -1:
    """Run `fn` over `it`: in row-major order on one thread, or reordered and parallel."""
    cdef Py_ssize_t total
    if ordered:
        total = em_iter_prepare_ordered(it)
    else:
        total = em_iter_prepare(it, 1)
    if total == 0:
        return 0
    if total >= EM_GRAIN_SIZE:
        with nogil:
            em_iter_run(it, fn, ctx, 0 if ordered else 1)
    else:
        em_iter_run(it, fn, ctx, 0)
    return 0


# ---------------------------------------------------------------- the same loops on a GPU

# ctx.bad_index after a device kernel met an index out of range: its value is not
# brought back from the device
cdef int64_t _UNKNOWN_INDEX = -2**63
cdef int64_t _NO_LIMIT = 2**63 - 1


cdef inline bint _on_device(Tensor t) noexcept:
    return t._storage.device.type_num != DEV_CPU


cdef inline char *_data(Tensor t) noexcept:
    """`t`'s first element on its own device (a CPU loop only ever gets CPU tensors:
    `_run_on` sends the others to their backend)."""
    return t.address()


cdef str _index_text(em_index_ctx *ctx):
    """The offending index of an error message ("index {...} is out of bounds")."""
    if ctx.bad_index == _UNKNOWN_INDEX:
        return "(its value is not known: checked on the device)"
    return str(ctx.bad_index)



cdef str _gpu_kernel(device dev, str kind, Tensor t, Tensor index, bint offsets, str op):
    """The name of `kind`'s index kernel for `t`'s dtype and `index`'s (int64 for byte
    `offsets`); None on the CPU."""
    if dev.type_num == DEV_CPU:
        return None
    # complex data moves as 8- or 16-byte words; of the scatter reductions only the add
    # has complex kernels (atomic adds on the two parts)
    if em_category[t._dtype] == 3 and kind.startswith("scatter_") and kind != "scatter_add":
        raise NotImplementedError(f"{op}: not implemented for device {dev.type} yet for "
                                  f"complex dtypes")
    suffix = "i64" if offsets or index is None or index._dtype == EM_INT64 else "i32"
    if kind.startswith("scatter_"):
        return f"{kind}_{dtype_of(t._dtype).name}_{suffix}"
    if kind == "masked_fill":
        return f"masked_fill{8 * em_itemsize[t._dtype]}"
    if kind == "gather" or kind == "scatter":
        return f"{kind}{8 * em_itemsize[t._dtype]}_{suffix}"
    return f"{kind}_{suffix}"


cdef int _run_on(device dev, em_iter *it, em_loop_fn fn, void *ctx, bint ordered,
                 str kernel, em_index_ctx *ictx, bint offsets, bint checked=False) except -1:
    """`_run` on the CPU; elsewhere the backend's index kernel `kernel` (kernels/index.cu.in,
    without its em_cu_ prefix) over the same iteration.  `ictx` gives the indexed dim's size,
    stride and wrap (`offsets`: the index holds checked byte offsets) and gets the error; a
    kernel runs in no particular order (repeated scatter indices: any write may win).
    Checked indices (`offsets`, or `checked` before a scatter) cannot fail: then the error
    word is not read, which would wait for the GPU."""
    cdef int d, k
    cdef uint64_t bits[2]
    if dev.type_num == DEV_CPU:
        return _run(it, fn, ctx, ordered)
    shape = [it.shape[d] for d in range(it.ndim)]
    strides = [[it.strides[k][d] for d in range(it.ndim)] for k in range(it.nop)]
    ptrs = [<size_t>it.data[k] for k in range(it.nop)]
    if ictx == NULL:            # masked_fill: ctx holds the value's bytes (up to 16)
        memcpy(bits, (<em_fill_ctx *>ctx).value, sizeof(bits))
        _core.backend(dev.type).index_kernel(kernel, shape, strides, ptrs,
                                             value=bits[0] | (<object>bits[1]) << 64)
        return 0
    if _core.backend(dev.type).index_kernel(
            kernel, shape, strides, ptrs, size=_NO_LIMIT if offsets else ictx.size,
            stride=1 if offsets else ictx.stride, wrap=False if offsets else ictx.wrap,
            check=not (offsets or checked)):
        ictx.error = 1
        ictx.bad_index = _UNKNOWN_INDEX
    return 0


cdef Tensor _on(Tensor t, device dev):
    """`t` on `dev` (itself when it is there already)."""
    if t._storage.device == dev:
        return t
    cdef Tensor out = new_tensor(t._ndim, t._shape, t._dtype, dev)
    copy_into(out, t)
    return out


cdef inline int _index_type(Tensor index) noexcept:
    """Row of the int32/int64 loop tables for `index`."""
    return 1 if index._dtype == EM_INT64 else 0


cdef inline void _init_ctx(em_index_ctx *ctx, Py_ssize_t size, Py_ssize_t stride,
                           bint wrap) noexcept:
    ctx.size = size
    ctx.stride = stride
    ctx.wrap = wrap
    ctx.error = 0
    ctx.bad_index = 0


cdef int _check_indices(Tensor index, Py_ssize_t size, bint wrap, em_index_ctx *ctx) except -1:
    """Scan `index` in order for the first entry outside [-size, size) (or [0, size)); sets ctx."""
    cdef em_iter it
    cdef Py_ssize_t strides[64]
    _init_ctx(ctx, size, 0, wrap)
    it.nop = 1
    it.ndim = index._ndim
    memcpy(it.shape, index._shape, index._ndim * sizeof(Py_ssize_t))
    _tensor_strides(index, strides)
    _set_operand(&it, 0, _data(index), strides)
    _run_on(index._storage.device, &it, em_check_loops[_index_type(index)], ctx, True,
            _gpu_kernel(index._storage.device, "index_check", index, index, False, "index"),
            ctx, False)
    return 0


include "_advanced_indexing.pxi"
include "_gather_scatter.pxi"
include "_join.pxi"
