"""A NumPy emulation of what ember asks of CuPy, for the CUDA tests without a GPU:
'device' memory is host memory, copies are memmoves, cuBLAS's gemmEx and
gemmStridedBatchedEx run column-major with their op, ld and batch strides, and the
copy kernels run as their sources say.  The numbers then check the layouts ember's
dispatch chooses; the real GPU is checked by the tests marked gpu."""
import ctypes
import types

import numpy as np

from ember.cuda import _backend, _blas, _kernels, _runtime

NUMPY = {"bool": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16,
         "int32": np.int32, "int64": np.int64, "float16": np.float16, "float32": np.float32,
         "float64": np.float64}
CUDA_TYPES = {0: np.float32, 1: np.float64, 2: np.float16}
try:
    import ml_dtypes
    CUDA_TYPES[14] = ml_dtypes.bfloat16      # CUDA_R_16BF
except ImportError:
    pass


def host_bytes(ptr, nbytes):
    return np.ctypeslib.as_array((ctypes.c_uint8 * max(nbytes, 1)).from_address(ptr))


def elements(ptr, dtype, offsets):
    """The bytes from `ptr` on and, per element of `dtype` at byte `offsets`, the indices
    of its bytes (read or assign ``raw[at]``)."""
    size = np.dtype(dtype).itemsize
    span = int(offsets.max()) + size if offsets.size else size
    raw = host_bytes(ptr, span)
    return raw, offsets[:, None] + np.arange(size)


def layout_offsets(rec, k):
    ndim, numel = int(rec["ndim"][0]), int(rec["numel"][0])
    shape = rec["shape"][0, :ndim]
    idx = np.unravel_index(np.arange(numel), shape) if ndim else ()
    offs = np.zeros(numel, np.int64)
    for d in range(ndim):
        offs += idx[d] * rec["strides"][0, k, d]
    return offs


def cast_kernel(name, args):
    src_name, dst_name = name[len("em_cu_cast_"):].rsplit("_", 1)[0].split("_")
    src_t, dst_t = NUMPY[src_name], NUMPY[dst_name]
    if name.endswith("_c"):
        dst, src, n = args
        d_off = np.arange(n) * np.dtype(dst_t).itemsize
        s_off = np.arange(n) * np.dtype(src_t).itemsize
    else:
        dst, src, rec = args
        d_off, s_off = layout_offsets(rec, 0), layout_offsets(rec, 1)
    raw_s, at_s = elements(src, src_t, s_off)
    values = raw_s[at_s].copy().view(src_t).reshape(-1).astype(dst_t)
    raw_d, at_d = elements(dst, dst_t, d_off)
    raw_d[at_d] = values.view(np.uint8).reshape(-1, np.dtype(dst_t).itemsize)


def fill_kernel(name, args):
    dst, rec, value = args
    bits = int(name[len("em_cu_fill"):].split("_")[0])
    word = np.array([int(value)], np.uint64).view(np.uint8)[:bits // 8]
    raw, at = elements(dst, np.dtype(f"u{bits // 8}"), layout_offsets(rec, 0))
    raw[at] = word


def column_major(ptr, dtype, rows, cols, ld):
    """The rows x cols column-major matrix at `ptr` with leading dimension `ld`."""
    size = np.dtype(dtype).itemsize
    raw = host_bytes(ptr, ((cols - 1) * ld + rows) * size)
    flat = raw.view(np.uint8)[:((cols - 1) * ld + rows) * size].view(dtype)
    return np.lib.stride_tricks.as_strided(flat, (rows, cols), (size, ld * size))


def gemm_ex(handle, ta, tb, m, n, k, alpha, A, at, lda, B, bt, ldb, beta, C, ct, ldc,
            compute, algo):
    scalar = np.float64 if compute == _blas.COMPUTE_64F else np.float32
    alpha = np.frombuffer(host_bytes(alpha, 8).tobytes(), scalar, 1)[0]
    beta = np.frombuffer(host_bytes(beta, 8).tobytes(), scalar, 1)[0]
    a = column_major(A, CUDA_TYPES[at], *((m, k) if ta == _blas.OP_N else (k, m)), lda)
    b = column_major(B, CUDA_TYPES[bt], *((k, n) if tb == _blas.OP_N else (n, k)), ldb)
    a = a if ta == _blas.OP_N else a.T
    b = b if tb == _blas.OP_N else b.T
    c = column_major(C, CUDA_TYPES[ct], m, n, ldc)
    result = float(alpha) * (a.astype(np.float64) @ b.astype(np.float64))
    if beta != 0:                     # cuBLAS reads no C when beta is 0
        result += float(beta) * c.astype(np.float64)
    c[...] = result.astype(c.dtype)


def gemm_strided(handle, ta, tb, m, n, k, alpha, A, at, lda, sa, B, bt, ldb, sb, beta, C, ct,
                 ldc, sc, batch, compute, algo):
    for i in range(batch):
        gemm_ex(handle, ta, tb, m, n, k, alpha,
                A + i * sa * np.dtype(CUDA_TYPES[at]).itemsize, at, lda,
                B + i * sb * np.dtype(CUDA_TYPES[bt]).itemsize, bt, ldb, beta,
                C + i * sc * np.dtype(CUDA_TYPES[ct]).itemsize, ct, ldc, compute, algo)

class FlagArray:
    """cupy.zeros(1, int32) stand-in: the error word, in host memory."""

    def __init__(self):
        self.value = np.zeros(1, np.int32)
        self.data = types.SimpleNamespace(ptr=self.value.ctypes.data)

    def __getitem__(self, i):
        return self.value[i]

    def fill(self, v):
        self.value[:] = v


def copy_kernel(name, args):
    """A kernel of the copy family: a cast or a fill."""
    (cast_kernel if "cast" in name else fill_kernel)(name, args)


def typed(ptr, dtype, offsets):
    """The memory from `ptr` on as a `dtype` array covering byte `offsets`, and the
    offsets as its element positions."""
    size = np.dtype(dtype).itemsize
    span = int(offsets.max()) + size if offsets.size else size
    return host_bytes(ptr, span).view(dtype), offsets // size


def checked_positions(index, itype, offsets, size, wrap, err):
    """The positions an index kernel reads (`ok` marks those in range); sets the error
    word to EM_ERR_INDEX for the others, as em_index_ok does."""
    view, at = typed(index, itype, offsets)
    pos = view[at].astype(np.int64)
    if wrap:
        pos = np.where(pos < 0, pos + size, pos)
    ok = (pos >= 0) & (pos < size)
    if not ok.all():
        host_bytes(err, 4).view(np.int32)[0] = 2
    return pos, ok


INDEX_TYPES = {"i32": np.int32, "i64": np.int64}
REDUCE = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}
BOOL_REDUCE = {"add": np.logical_or, "mul": np.logical_and, "max": np.logical_or,
               "min": np.logical_and}


def index_kernel(name, args):
    """A kernel of the index family (kernels/index.cu.in), vectorised; reductions apply
    in order."""
    name = name[len("em_cu_"):]
    if name.startswith("masked_fill"):
        out, mask, rec, value = args
        bits = int(name[len("masked_fill"):])
        word = np.array([int(value)], np.uint64).view(f"u{bits // 8}")[0]
        m_view, m_at = typed(mask, np.bool_, layout_offsets(rec, 1))
        o_view, o_at = typed(out, f"u{bits // 8}", layout_offsets(rec, 0))
        o_view[o_at[m_view[m_at]]] = word
        return
    kind, itype = name.rsplit("_", 1)
    if kind == "index_check":
        index, rec, size, wrap, err = args
        checked_positions(index, INDEX_TYPES[itype], layout_offsets(rec, 0), int(size),
                          int(wrap), err)
        return
    out, src, index, rec, size, stride, wrap, err = args
    o0, o1, o2 = (layout_offsets(rec, k) for k in range(3))
    pos, ok = checked_positions(index, INDEX_TYPES[itype], o2, int(size), int(wrap), err)
    o0, o1, pos = o0[ok], o1[ok], pos[ok]
    if kind == "index_offset":
        out_view, out_at = typed(out, np.int64, o0)
        base = typed(src, np.int64, o1)[0][o1 // 8] if src else 0
        out_view[out_at] = base + pos * int(stride)
    elif kind.startswith("gather"):
        dtype = f"u{int(kind[len('gather'):]) // 8}"
        out_view, out_at = typed(out, dtype, o0)
        in_view, in_at = typed(src, dtype, o1 + pos * int(stride))
        out_view[out_at] = in_view[in_at]
    elif kind.startswith("scatter_"):
        _, op, dname = kind.split("_", 2)
        dtype = NUMPY[dname]
        out_view, out_at = typed(out, dtype, o0 + pos * int(stride))
        in_view, in_at = typed(src, dtype, o1)
        ufunc = (BOOL_REDUCE if dtype == np.bool_ else REDUCE)[op]
        ufunc.at(out_view, out_at, in_view[in_at])
    else:
        dtype = f"u{int(kind[len('scatter'):]) // 8}"
        out_view, out_at = typed(out, dtype, o0 + pos * int(stride))
        in_view, in_at = typed(src, dtype, o1)
        out_view[out_at] = in_view[in_at]


def install(monkeypatch, kernels):
    """Replace CuPy (and ember's kernel lookup) with the emulation: `kernels` maps a
    kernel family to the function running one of its kernels, ``run(name, args)``."""
    buffers = []

    def alloc(n):
        buf = np.zeros(max(n, 1) + 64, np.uint8)
        buffers.append(buf)
        return types.SimpleNamespace(ptr=buf.ctypes.data, buf=buf)

    def function(family, name):
        assert family in kernels, f"no emulation for {family} kernel {name}"
        return lambda grid, block, args: kernels[family](name, args)

    runtime = types.SimpleNamespace(
        getDevice=lambda: 0, getDeviceCount=lambda: 1,
        memcpyAsync=lambda dst, src, n, kind, stream: ctypes.memmove(dst, src, n))
    stream = types.SimpleNamespace(ptr=0, synchronize=lambda: None)
    cublas = types.SimpleNamespace(gemmEx=gemm_ex, gemmStridedBatchedEx=gemm_strided,
                                   getMathMode=lambda h: 0, setMathMode=lambda h, m: None)

    class Device:
        def __init__(self, index):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(runtime=runtime, alloc=alloc, cublas=cublas, Device=Device,
                                   device=types.SimpleNamespace(get_cublas_handle=lambda: 1),
                                   get_current_stream=lambda: stream),
        zeros=lambda n, dtype: FlagArray(), int32=np.int32)
    monkeypatch.setattr(_runtime, "_cupy", fake)
    monkeypatch.setattr(_runtime, "_gpu_count", 1)
    monkeypatch.setattr(_kernels, "function", function)
    monkeypatch.setattr(_backend, "_error_flags", {})
