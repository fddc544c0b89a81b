"""The cuBLAS products' numbers checked without a GPU: a CuPy stand-in whose 'device'
memory is host memory runs the copies, the copy/cast kernels and cuBLAS's gemmEx /
gemmStridedBatchedEx (column-major, with op, ld and batch strides) in NumPy, so the
operand layouts _blas.py chooses are checked against the CPU's products.  The real
cuBLAS is checked on a GPU (test_gpu_blasindex.py)."""
import ctypes
import types

import numpy as np
import pytest

import ember
from ember.cuda import _backend, _blas, _kernels, _runtime

NUMPY = {"bool": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16,
         "int32": np.int32, "int64": np.int64, "float16": np.float16, "float32": np.float32,
         "float64": np.float64}
CUDA_TYPES = {0: np.float32, 1: np.float64, 2: np.float16}


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


@pytest.fixture
def emulated(monkeypatch):
    buffers = []

    def alloc(n):
        buf = np.zeros(max(n, 1) + 64, np.uint8)
        buffers.append(buf)
        return types.SimpleNamespace(ptr=buf.ctypes.data, buf=buf)

    def function(family, name):
        assert family == "copy", f"no emulation for {family} kernel {name}"
        return lambda grid, block, args: (cast_kernel if "cast" in name else fill_kernel)(
            name, args)

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
                                   get_current_stream=lambda: stream))
    monkeypatch.setattr(_runtime, "_cupy", fake)
    monkeypatch.setattr(_runtime, "_gpu_count", 1)
    monkeypatch.setattr(_kernels, "function", function)
    monkeypatch.setattr(_backend, "_error_flags", {})
    yield


TOL = {ember.float16: 2e-2, ember.float32: 1e-5, ember.float64: 1e-12}


def values(shape, dtype, seed):
    return ember.tensor(np.random.default_rng(seed).uniform(-2, 2, shape)).to(dtype)


def check(fn, *args, **kwargs):
    expected = fn(*args, **kwargs)
    got = fn(*[a.cuda() if isinstance(a, ember.Tensor) else a for a in args], **kwargs)
    assert got.device.type == "cuda" and got.shape == expected.shape
    tol = TOL[expected.dtype]
    np.testing.assert_allclose(got.cpu().to(ember.float64).numpy(),
                               expected.to(ember.float64).numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_mm_in_every_orientation(emulated, dtype, ta, tb):
    a, b = values((7, 5), dtype, 0), values((5, 6), dtype, 1)
    a = a.t().contiguous().t() if ta else a
    b = b.t().contiguous().t() if tb else b
    check(ember.mm, a, b)
    check(lambda x, y, o: ember.mm(x, y, out=o), a, b, values((6, 7), dtype, 2).t())


@pytest.mark.parametrize("shapes", [((5, 7), (7,)), ((7,), (7, 4)), ((7,), (7,)),
                                    ((3, 5, 7), (7, 4)), ((5, 7), (3, 7, 4)),
                                    ((2, 1, 5, 7), (3, 7, 4)), ((4, 3, 5, 7), (7,)),
                                    ((2, 3, 1, 7), (3, 7, 2))])
def test_matmul_broadcasting(emulated, shapes):
    check(ember.matmul, values(shapes[0], ember.float32, 0), values(shapes[1], ember.float32, 1))


def test_sliced_and_gapped_operands(emulated):
    x = values((6, 10), ember.float64, 0)
    y = values((4, 5), ember.float64, 1)
    check(lambda a, b: ember.mm(a[:, 2:6], b), x, y)            # rows of stride 10
    check(lambda a, b: ember.mm(a[:, ::3][:, :4], b), x, y)     # gapped columns: copied
    check(lambda a, b: ember.mm(a[1:5, 1:5].t(), b), x, y)      # transposed slice
    # a shared right operand: the batch folds into rows only where they lie evenly
    z, w = values((3, 6, 7), ember.float32, 2), values((7, 4), ember.float32, 3)
    check(lambda a, b: a @ b, z, w)
    check(lambda a, b: a[:, :5] @ b, z, w)
    check(lambda a, b, o: ember.matmul(a, b, out=o[:, :6]), z, w,
          values((3, 8, 4), ember.float32, 4))


def test_add_products_and_their_scalars(emulated):
    f = ember.float32
    t, m1, m2 = values((6, 5), f, 0), values((6, 4), f, 1), values((4, 5), f, 2)
    check(ember.addmm, t, m1, m2, beta=0.5, alpha=-2)
    check(ember.addmm, values((5,), f, 3), m1, m2, beta=1, alpha=3)
    check(ember.addmm, ember.full((6, 5), float("nan")), m1, m2, beta=0)
    check(ember.addmv, values((6,), f, 4), m1, values((4,), f, 5), beta=2)
    b1, b2 = values((3, 6, 4), f, 6), values((3, 4, 5), f, 7)
    check(ember.baddbmm, values((3, 6, 5), f, 8), b1, b2, alpha=0.5)
    check(ember.addbmm, t, b1, b2, beta=0.25, alpha=2)
    check(ember.addbmm, t.half(), b1.half(), b2.half())
    check(ember.bmm, b1.transpose(1, 2).contiguous().transpose(1, 2), b2)
    check(lambda x, y: x.clone().addmm_(y, y.t()), values((6, 6), f, 9), m1)


def test_output_aliasing_an_operand(emulated):
    a, b = values((4, 4), ember.float32, 0), values((4, 4), ember.float32, 1)
    expected = a @ b
    ga = a.cuda()
    ember.mm(ga, b.cuda(), out=ga)
    np.testing.assert_allclose(ga.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
