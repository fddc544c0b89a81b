"""ember.cuda on the CPU: one emulated GPU for the tests without a real one.

The installed kernel sources (``kernels/<family>.cu``, as NVRTC gets them) are compiled
by the host's C++ compiler against cuda_emulation.h, and a CuPy stand-in hands out host
memory that only the copies, kernels and cuBLAS calls may touch (a CPU kernel reading
it crashes, as on a GPU): ember's whole CUDA path -- the core's dispatch, the backend,
the module loading, the launch geometry and the kernels -- then runs on the host.
Each launch is checked as the driver would not: the argument count, and each
argument's size and kind (as CuPy passes it) against the kernel's parameter; the grid
and block against CUDA's limits.  cuBLAS (``gemmEx``, ``gemmStridedBatchedEx``) runs in
NumPy over the same host buffers, column-major with its ops, leading dimensions and
batch strides, after cuBLAS's argument checks.  CuPy's cuSOLVER routines
(``cupy.linalg``'s ``eigh``, ``eigvalsh``, ``svd``, ``qr``, ``det``, ``slogdet``) run as
NumPy's LAPACK over the device memory after CuPy's argument checks; cuSOLVER's
``potrfBatched`` and cuBLAS's ``getrfBatched``/``getrsBatched`` run as LAPACK's
unblocked Cholesky and LU in NumPy over the matrices their pointer arrays name.

What it shows: indexing, launch shapes, block reductions and scans (threads switch at
``__syncthreads`` and warp shuffles), ties, NaN, two-pass reductions, error words,
argument passing, the layouts handed to cuBLAS.  What it cannot show: the CUDA
compiler (nvcc's own diagnostics, FMA contraction: results may differ from a GPU's in
the last bit), the memory model (blocks run one after another, so races between blocks
or threads, missing fences and non-atomic read-modify-writes go unseen; atomics are
plain updates), timing and streams (everything runs at once, in order), architecture
differences (the device branches compile as for sm_80), what C leaves to the platform
(out-of-range float-to-integer conversions follow the host, where a GPU saturates;
math functions are the host's libm, not CUDA's), and cuBLAS's own summation order
(products are summed in float64).
"""
import contextlib
import ctypes
import hashlib
import mmap
import re
import shutil
import subprocess
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ember.cuda import _backend, _blas, _kernels, _linalg, _runtime, _sort
from ember.cuda._linalg import FILL_LOWER, FILL_UPPER

from cuda_helpers import MAP_FAILED, PROT_NONE, FlagArray, libc

PROT_READ_WRITE = mmap.PROT_READ | mmap.PROT_WRITE
MAP_NORESERVE = 0x4000      # <sys/mman.h> (Linux)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

HERE = Path(__file__).resolve().parent
CXX = shutil.which("g++")
FAMILIES = tuple(_kernels._PROBES)
# the PTX in the kernels, as host code (the host compiler has _Float16)
_PTX = {
    'asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));':
        "f = (float)__builtin_bit_cast(_Float16, h);",
    'asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));':
        "h = __builtin_bit_cast(uint16_t, (_Float16)f);",
    'asm volatile("red.add.noftz.f16 [%0], %1;" :: "l"(p), "h"(v) : "memory");':
        "emu_red_add_f16(p, v);",
}
_KERNEL_NAME = r'extern "C" __global__ void (\w+)\s*\('
# CUDA's launch limits
MAX_BLOCK = (1024, 1024, 64)
MAX_THREADS = 1024
MAX_GRID = (2**31 - 1, 65535, 65535)


class _KernelInfo(ctypes.Structure):
    """struct emu_kernel of cuda_emulation.h."""
    _fields_ = [("name", ctypes.c_char_p), ("fn", ctypes.c_void_p), ("run", ctypes.c_void_p),
                ("nargs", ctypes.c_int), ("sizes", ctypes.POINTER(ctypes.c_int)),
                ("kinds", ctypes.c_char_p)]


class Library:
    """One compiled family: its kernels by name, as (index, parameter sizes, kinds)."""

    def __init__(self, path):
        self.cdll = ctypes.CDLL(str(path))
        self.cdll.emu_table.restype = ctypes.POINTER(_KernelInfo)
        count = ctypes.c_int()
        table = self.cdll.emu_table(ctypes.byref(count))
        self.kernels = {}
        for k in range(count.value):
            info = table[k]
            self.kernels[info.name.decode()] = (k, [info.sizes[i] for i in range(info.nargs)],
                                                info.kinds.decode())
        self.cdll.emu_launch.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]


_built = {}    # sha256 of a family's emulated source -> Library (one compile per process)


def _source(family):
    """The family's source as the host compiler gets it: the shim, the kernels, their table."""
    code = _kernels.nvrtc_source(family)
    for ptx, host in _PTX.items():
        code = code.replace(ptx, host)
    shim = (HERE / "cuda_emulation.h").read_text()
    names = re.findall(_KERNEL_NAME, code)
    return (f"#define EMU_PART 1\n{shim}\n{code}\n"
            f"#undef EMU_PART\n#define EMU_PART 2\n{shim}\n"
            "static const emu_kernel emu_kernels[] = {\n"
            + "".join(f"EMU_KERNEL({n})\n" for n in names)
            + f"}};\n#undef EMU_PART\n#define EMU_PART 3\n{shim}\n")


def _compile(family, source, workdir):
    path = Path(workdir) / f"{family}_emulated.cpp"
    path.write_text(source)
    lib = path.with_suffix(".so")
    # -O0: the 2000 elementwise kernels compile in half the time of -O1
    run = subprocess.run([CXX, "-std=c++20", "-O0", "-U_FORTIFY_SOURCE", "-w", "-fPIC", "-shared",
                          "-o", str(lib), str(path)], capture_output=True, text=True)
    assert run.returncode == 0, f"{family}: {run.stderr[-4000:]}"
    return Library(lib)


def build(families, workdir):
    """Compile each kernel family (in parallel) into a shared library under ``workdir``:
    {family: Library}.  A family already compiled in this process from the same source
    is reused."""
    sources = {f: _source(f) for f in families}
    keys = {f: hashlib.sha256(s.encode()).hexdigest() for f, s in sources.items()}
    todo = [f for f in families if keys[f] not in _built]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for family, lib in zip(todo, pool.map(lambda f: _compile(f, sources[f], workdir), todo)):
            _built[keys[family]] = lib
    return {f: _built[keys[f]] for f in families}


# ---------------------------------------------------------------- kernel arguments, as CuPy

_NUMPY_SCALARS = {np.dtype(c).type for c in "?bhilqBHILQefdFD"}


def _argument(x):
    """(bytes holder, kind) of a kernel argument, as cupy.cuda.function._pointer makes it:
    None a null pointer, a one-element NumPy array its bytes (a struct by value), NumPy
    scalars their bytes, Python ints int64, floats float64."""
    if x is None:
        return np.zeros(1, np.int64), "i"
    if isinstance(x, np.ndarray):
        assert x.size == 1, "CuPy passes only one-element NumPy arrays by value"
        x = np.ascontiguousarray(x)
        kind = "s" if x.dtype.fields else x.dtype.kind
    else:
        if type(x) not in _NUMPY_SCALARS:
            if isinstance(x, int):
                x = np.int64(x)
            elif isinstance(x, float):
                x = np.float64(x)
            elif isinstance(x, complex):
                x = np.complex128(x)
            else:
                raise TypeError(f"Unsupported type {type(x)}")
        kind = np.dtype(type(x)).kind
        x = np.array([x])
    return x, {"b": "i", "u": "i", "i": "i", "f": "f", "c": "c"}.get(kind, "s")


class Launcher:
    """The compiled families behind the CuPy stand-in's modules; records the launched
    kernel names (``names``)."""

    def __init__(self, libs):
        self.libs = libs
        self.names = []

    def function(self, family, name):
        """The kernel ``name`` of ``family``, called as ``cupy.RawKernel`` is."""
        lib = self.libs[family]
        if name not in lib.kernels:
            raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: no kernel {name!r} in {family}")
        index, sizes, kinds = lib.kernels[name]

        def launch(grid, block, args, shared_mem=0, stream=None):
            self.names.append(name)
            dims = [max(1, int(v)) for v in (tuple(grid) + (1, 1))[:3]
                    + (tuple(block) + (1, 1))[:3]]
            if (any(g > m for g, m in zip(dims[:3], MAX_GRID))
                    or any(b > m for b, m in zip(dims[3:], MAX_BLOCK))
                    or dims[3] * dims[4] * dims[5] > MAX_THREADS):
                raise RuntimeError(f"{name}: invalid launch configuration grid {dims[:3]}, "
                                   f"block {dims[3:]}")
            if len(args) != len(sizes):
                raise TypeError(f"{name} takes {len(sizes)} arguments, launched with "
                                f"{len(args)}")
            held = []
            for k, (a, size, kind) in enumerate(zip(args, sizes, kinds)):
                value, got = _argument(a)
                fits = got == kind or (kind == "p" and got == "i")
                if value.itemsize != size or not fits:
                    raise TypeError(f"{name}: argument {k} is passed as {value.itemsize} bytes "
                                    f"of kind {got!r} ({a!r}); the parameter is {size} bytes "
                                    f"of kind {kind!r}")
                held.append(value)
            argv = (ctypes.c_void_p * max(len(held), 1))(*(v.ctypes.data for v in held))
            with arena().open():
                lib.cdll.emu_launch(index, argv, (ctypes.c_int * 6)(*dims))
        return launch


class _Module:
    """cupy.RawModule stand-in: one compiled family."""

    def __init__(self, launcher, family):
        self.launcher, self.family = launcher, family

    def get_function(self, name):
        return self.launcher.function(self.family, name)


# ---------------------------------------------------------------- cuBLAS in NumPy

_CUDA_TYPES = {0: np.float32, 1: np.float64, 2: np.float16, 14: "bfloat16", 4: np.complex64,
               5: np.complex128}
# cublasGemmEx's (A/B type, C type, compute type) combinations that ember uses
_GEMM_TYPES = {(2, 2, _blas.COMPUTE_32F), (2, 0, _blas.COMPUTE_32F), (14, 14, _blas.COMPUTE_32F),
               (14, 0, _blas.COMPUTE_32F), (0, 0, _blas.COMPUTE_32F),
               (1, 1, _blas.COMPUTE_64F), (4, 4, _blas.COMPUTE_32F), (5, 5, _blas.COMPUTE_64F)}
_COMPLEX = (4, 5)


class CUBLASError(RuntimeError):
    """cupy_backends.cuda.libs.cublas.CUBLASError stand-in."""


def _host_bytes(ptr, nbytes):
    return np.ctypeslib.as_array((ctypes.c_uint8 * max(nbytes, 1)).from_address(ptr))


def _column_major(ptr, ctype, rows, cols, ld):
    """The rows x cols column-major matrix at ``ptr``, leading dimension ``ld``, as
    float64 or complex128 (a copy), and a function writing such a matrix back."""
    dtype = np.uint16 if ctype == "bfloat16" else ctype
    size = np.dtype(dtype).itemsize
    count = (cols - 1) * ld + rows if rows and cols else 0
    flat = _host_bytes(ptr, count * size)[:count * size].view(dtype)
    view = np.lib.stride_tricks.as_strided(flat, (rows, cols), (size, ld * size))
    if ctype == "bfloat16":
        values = (view.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    else:
        values = view.astype(np.result_type(dtype, np.float64))

    def store(result):
        if ctype == "bfloat16":
            bits = result.astype(np.float32).view(np.uint32)
            rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
            view[...] = np.where(np.isnan(result), 0x7FC0, rounded).astype(np.uint16)
        else:
            view[...] = result.astype(dtype)
    return values, store


def gemm_ex(handle, ta, tb, m, n, k, alpha, A, at, lda, B, bt, ldb, beta, C, ct, ldc,
            compute, algo):
    """cublasGemmEx (host scalars): C = alpha op(A) op(B) + beta C, column-major."""
    if at != bt or (at, ct, compute) not in _GEMM_TYPES:
        raise CUBLASError(f"CUBLAS_STATUS_NOT_SUPPORTED: types {at}, {bt}, {ct}, compute "
                          f"{compute}")
    a_rows, a_cols = (m, k) if ta == _blas.OP_N else (k, m)
    b_rows, b_cols = (k, n) if tb == _blas.OP_N else (n, k)
    if (min(m, n, k) < 0 or lda < max(1, a_rows) or ldb < max(1, b_rows)
            or ldc < max(1, m) or ta not in (0, 1) or tb not in (0, 1)):
        raise CUBLASError(f"CUBLAS_STATUS_INVALID_VALUE: m={m} n={n} k={k} lda={lda} "
                          f"ldb={ldb} ldc={ldc}")
    if m == 0 or n == 0:
        return
    # host scalars of the compute type: complex (cuComplex, cuDoubleComplex) for complex data
    scalar = np.float64 if compute == _blas.COMPUTE_64F else np.float32
    if at in _COMPLEX:
        scalar = np.complex128 if compute == _blas.COMPUTE_64F else np.complex64
    width = np.dtype(scalar).itemsize
    alpha = _host_bytes(alpha, width).view(scalar)[0].item()
    beta = _host_bytes(beta, width).view(scalar)[0].item()
    a, _ = _column_major(A, _CUDA_TYPES[at], a_rows, a_cols, lda)
    b, _ = _column_major(B, _CUDA_TYPES[bt], b_rows, b_cols, ldb)
    c, store = _column_major(C, _CUDA_TYPES[ct], m, n, ldc)
    a = a if ta == _blas.OP_N else a.T
    b = b if tb == _blas.OP_N else b.T
    result = alpha * (a @ b) if k else np.zeros((m, n), a.dtype)
    if beta != 0:                     # cuBLAS reads no C when beta is 0
        result += beta * c
    store(result)


def gemm_strided(handle, ta, tb, m, n, k, alpha, A, at, lda, sa, B, bt, ldb, sb, beta, C, ct,
                 ldc, sc, batch, compute, algo):
    """cublasGemmStridedBatchedEx: ``batch`` gemmEx, the operands ``s*`` elements apart."""
    if batch < 0:
        raise CUBLASError(f"CUBLAS_STATUS_INVALID_VALUE: batch={batch}")

    def size(t):
        return 2 if _CUDA_TYPES[t] == "bfloat16" else np.dtype(_CUDA_TYPES[t]).itemsize
    for i in range(batch):
        gemm_ex(handle, ta, tb, m, n, k, alpha, A + i * sa * size(at), at, lda,
                B + i * sb * size(bt), bt, ldb, beta, C + i * sc * size(ct), ct, ldc,
                compute, algo)


def _pointer_array(ptr, count):
    return _host_bytes(ptr, 8 * count)[:8 * count].view(np.uint64)


def getrf_batched(ctype):
    """cublas<t>getrfBatched: LAPACK's unblocked LU with partial pivoting (the first
    largest |re| + |im| of the column, as i?amax) in place of each column-major n x n
    matrix that ``Aarray`` points to; 1-based pivots and info per matrix."""
    def getrf(handle, n, Aarray, lda, PivotArray, infoArray, batchSize):
        if n < 0 or lda < max(1, n) or batchSize < 0:
            raise CUBLASError(f"CUBLAS_STATUS_INVALID_VALUE: n={n} lda={lda} batch={batchSize}")
        pointers = _pointer_array(Aarray, batchSize)
        pivots = _host_bytes(PivotArray, 4 * n * batchSize)[:4 * n * batchSize].view(np.int32)
        infos = _host_bytes(infoArray, 4 * batchSize)[:4 * batchSize].view(np.int32)
        for i in range(batchSize):
            a, store = _column_major(int(pointers[i]), ctype, n, n, lda)
            info = 0
            for j in range(n):
                p = j + int(np.argmax(np.abs(a[j:, j].real) + np.abs(a[j:, j].imag)))
                pivots[i * n + j] = p + 1
                if a[p, j] == 0:
                    info = info or j + 1
                    continue
                a[[j, p]] = a[[p, j]]
                a[j + 1:, j] /= a[j, j]
                a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
            infos[i] = info
            store(a)
    return getrf


def _substitute(t, b, lower, unit=False):
    """``t^-1 b`` for a triangular ``t``, row by row as cuBLAS's trsm (a zero on the
    diagonal gives inf or NaN, not an error)."""
    n = t.shape[0]
    x = b.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n) if lower else reversed(range(n))):
            done = slice(0, i) if lower else slice(i + 1, n)
            x[i] = x[i] - t[i, done] @ x[done]
            if not unit:
                x[i] = x[i] / t[i, i]
    return x


def getrs_batched(ctype):
    """cublas<t>getrsBatched: solve op(A) X = B in place of each column-major B from
    getrf's factors; ``info`` (a host int) flags an invalid argument."""
    def getrs(handle, trans, n, nrhs, Aarray, lda, devIpiv, Barray, ldb, info, batchSize):
        status = _host_bytes(info, 4).view(np.int32)
        bad = next((k for k, ok in ((2, trans in (0, 1, 2)), (3, n >= 0), (4, nrhs >= 0),
                                    (6, lda >= max(1, n)), (9, ldb >= max(1, n)),
                                    (11, batchSize >= 0)) if not ok), 0)
        status[0] = -bad
        if bad:
            return
        a_ptrs, b_ptrs = _pointer_array(Aarray, batchSize), _pointer_array(Barray, batchSize)
        pivots = _host_bytes(devIpiv, 4 * n * batchSize)[:4 * n * batchSize].view(np.int32)
        for i in range(batchSize):
            lu, _ = _column_major(int(a_ptrs[i]), ctype, n, n, lda)
            b, store = _column_major(int(b_ptrs[i]), ctype, n, nrhs, ldb)
            lower = np.tril(lu, -1) + np.eye(n)
            upper = np.triu(lu)
            piv = pivots[i * n:(i + 1) * n] - 1
            if trans == 0:            # A = P L U: apply the interchanges, then L, then U
                for j in range(n):
                    b[[j, piv[j]]] = b[[piv[j], j]]
                b = _substitute(upper, _substitute(lower, b, True, unit=True), False)
            else:                     # op(A) = op(U) op(L) P^T: U, L, then the interchanges
                op = upper.T if trans == 1 else upper.conj().T
                lop = lower.T if trans == 1 else lower.conj().T
                b = _substitute(lop, _substitute(op, b, True), False, unit=True)
                for j in reversed(range(n)):
                    b[[j, piv[j]]] = b[[piv[j], j]]
            store(b)
    return getrs


_GETRS = {f"{p}{name}": make(t) for p, t in zip("sdcz", (np.float32, np.float64, np.complex64,
                                                          np.complex128))
          for name, make in (("getrfBatched", getrf_batched), ("getrsBatched", getrs_batched))}


# ---------------------------------------------------------------- cupy.linalg in NumPy

class CupyLinAlgError(Exception):
    """cupy.linalg.LinAlgError stand-in."""


def _solver_input(a, square=True):
    """CuPy's checks (cupy.linalg._util) before a cuSOLVER call: a stack of (square)
    matrices of a dtype cuSOLVER has."""
    if a.ndim < 2:
        raise CupyLinAlgError(f"{a.ndim}-dimensional array given. Array must be at least "
                              f"two-dimensional")
    if square and a.shape[-1] != a.shape[-2]:
        raise CupyLinAlgError("Last 2 dimensions of the array must be square")
    if a.dtype.char not in "fdFD":
        raise TypeError(f"dtype {a.dtype} is not supported by cuSOLVER")
    return a


def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO


class CUSOLVERError(RuntimeError):
    """cupy_backends.cuda.libs.cusolver.CUSOLVERError stand-in."""


def _cholesky_lower(m):
    """LAPACK's unblocked potrf on the lower triangle of ``m``: (L, info), L holding
    the columns factored before the first leading minor that is not positive-definite."""
    n = m.shape[0]
    low = np.zeros_like(m)
    for j in range(n):
        d = (m[j, j] - np.vdot(low[j, :j], low[j, :j])).real
        if not d > 0:
            return low, j + 1
        low[j, j] = np.sqrt(d)
        low[j + 1:, j] = (m[j + 1:, j] - low[j + 1:, :j] @ low[j, :j].conj()) / low[j, j]
    return low, 0


def potrf_batched(ctype):
    """cusolverDn<t>potrfBatched: Cholesky in place of each column-major matrix that
    ``Aarray`` points to, the ``uplo`` triangle read and written, info per matrix."""
    def potrf(handle, uplo, n, Aarray, lda, infoArray, batchSize):
        if uplo not in (FILL_LOWER, FILL_UPPER) or n < 0 or lda < max(1, n) or batchSize < 0:
            raise CUSOLVERError(f"CUSOLVER_STATUS_INVALID_VALUE: uplo={uplo} n={n} lda={lda} "
                                f"batch={batchSize}")
        pointers = _host_bytes(Aarray, 8 * batchSize)[:8 * batchSize].view(np.uint64)
        infos = _host_bytes(infoArray, 4 * batchSize)[:4 * batchSize].view(np.int32)
        for i in range(batchSize):
            m, store = _column_major(int(pointers[i]), ctype, n, n, lda)
            if uplo == FILL_LOWER:
                low, info = _cholesky_lower(m)
                store(np.where(np.tri(n, dtype=bool), low, m))
            else:                     # m = U^H U: the lower factor of m^H, conjugated
                low, info = _cholesky_lower(m.conj().T)
                store(np.where(np.tri(n, dtype=bool).T, low.conj().T, m))
            infos[i] = info
    return potrf


_CUSOLVER = types.SimpleNamespace(
    spotrfBatched=potrf_batched(np.float32), dpotrfBatched=potrf_batched(np.float64),
    cpotrfBatched=potrf_batched(np.complex64), zpotrfBatched=potrf_batched(np.complex128),
    CUSOLVERError=CUSOLVERError)


_LINALG = types.SimpleNamespace(
    eigh=lambda a, UPLO="L": tuple(np.linalg.eigh(_solver_input(a), _uplo(UPLO))),
    eigvalsh=lambda a, UPLO="L": np.linalg.eigvalsh(_solver_input(a), _uplo(UPLO)),
    svd=lambda a, full_matrices=True, compute_uv=True: np.linalg.svd(
        _solver_input(a, square=False), full_matrices, compute_uv),
    qr=lambda a, mode="reduced": np.linalg.qr(_solver_input(a, square=False), mode),
    det=lambda a: np.linalg.det(_solver_input(a)),
    slogdet=lambda a: tuple(np.linalg.slogdet(_solver_input(a))),
    LinAlgError=CupyLinAlgError)


# ---------------------------------------------------------------- the CuPy stand-in

class _Arena:
    """The emulated GPU's memory: one reserved range of host pages that nobody may read or
    write (as cuda_helpers.NoAccessPages) except inside ``open()`` -- the copies, kernels
    and cuBLAS calls -- so that a CPU kernel touching device memory crashes as on a GPU.
    Blocks are 256-byte aligned as CuPy's pool's, reused by size and never cleared."""
    SIZE = 1 << 36

    def __init__(self):
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE
        self.base = libc.mmap(None, self.SIZE, PROT_NONE, flags, -1, 0)
        if self.base in (None, MAP_FAILED):
            raise OSError(ctypes.get_errno(), "mmap failed")
        self.top = self.opened = 0
        self.free = {}
        self.live = 0

    def alloc(self, nbytes):
        size = -(-max(nbytes, 1) // 256) * 256
        blocks = self.free.get(size)
        if blocks:
            return blocks.pop(), size
        if self.top + size > self.SIZE:
            raise MemoryError(f"cudaErrorMemoryAllocation: out of memory allocating {nbytes} "
                              f"bytes")
        ptr = self.base + self.top
        self.top += size
        if self.opened:
            self._protect(PROT_READ_WRITE)
        return ptr, size

    def release(self, ptr, size):
        self.free.setdefault(size, []).append(ptr)

    def _protect(self, prot):
        if self.top and libc.mprotect(ctypes.c_void_p(self.base), self.top, prot) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")

    @contextlib.contextmanager
    def open(self):
        """Device memory readable and writable (nested calls allowed)."""
        self.opened += 1
        if self.opened == 1:
            self._protect(PROT_READ_WRITE)
        try:
            yield
        finally:
            self.opened -= 1
            if self.opened == 0:
                self._protect(PROT_NONE)


_arena = None


def arena():
    """The process's one _Arena (made on first use)."""
    global _arena
    if _arena is None:
        _arena = _Arena()
    return _arena


class OutOfMemoryError(MemoryError):
    """cupy.cuda.memory.OutOfMemoryError stand-in (a MemoryError, as CuPy's), its message."""

    def __init__(self, size, total, limit=0):
        msg = f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} bytes"
        super().__init__(msg + (f", limit set to: {limit:,} bytes)." if limit else ")."))


class _Pool:
    """cupy.get_default_memory_pool() stand-in: the arena's live bytes, and CuPy's limit
    (0: none), checked by _alloc as CuPy's pool checks it before allocating."""
    limit = 0

    def total_bytes(self):
        return arena().live

    used_bytes = total_bytes

    def free_all_blocks(self):
        pass

    def set_limit(self, size=None, fraction=None):
        assert fraction is None, "ember sets the limit in bytes"
        _Pool.limit = size or 0

    def get_limit(self):
        return _Pool.limit


class _HostBlock:
    """A block of the arena, given back when it dies."""

    def __init__(self, nbytes):
        self.ptr, self.size = arena().alloc(nbytes)
        _arena.live += self.size

    def __del__(self):
        _arena.live -= self.size
        _arena.release(self.ptr, self.size)


class _Stream:
    """cupy.cuda.Stream stand-in: work runs at once, so every stream is done."""
    current = []
    done = True

    def __init__(self, null=False, non_blocking=False, priority=0, ptr=None):
        self.ptr = 0 if null else (ptr if ptr is not None else id(self))

    def synchronize(self):
        pass

    def wait_event(self, event):
        pass

    def record(self, event=None):
        event = _Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        _Stream.current.append(self)
        return self

    def __exit__(self, *exc):
        _Stream.current.pop()
        return False


class _Event:
    """cupy.cuda.Event stand-in: the host's clock at record()."""
    done = True

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.time = None

    def record(self, stream=None):
        self.time = time.perf_counter()

    def synchronize(self):
        pass


class _Device:
    """cupy.cuda.Device stand-in: the one emulated device, 0."""

    def __init__(self, index=None):
        if index not in (None, 0):
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {index}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _alloc(nbytes):
    """cupy.cuda.alloc stand-in: a _HostBlock within the pool's limit."""
    if _Pool.limit and arena().live + -(-max(nbytes, 1) // 256) * 256 > _Pool.limit:
        raise OutOfMemoryError(nbytes, arena().live, _Pool.limit)
    return _HostBlock(nbytes)


def _set_device(index):
    _Device(index)


def install(monkeypatch, libs):
    """Route ember.cuda to the host through ``monkeypatch``: CuPy's memory, copies,
    streams, cuBLAS and modules (``libs``: build()'s families).  Returns the Launcher."""
    launcher = Launcher(libs)
    sources = {_kernels.nvrtc_source(f): f for f in libs}
    null = _Stream(null=True)

    def raw_module(code=None, path=None, options=()):
        family = Path(path).stem if path is not None else sources.get(code)
        if family not in libs:
            raise RuntimeError(f"cuda emulation: no compiled family for {path or 'this source'}")
        return _Module(launcher, family)

    def memcpy(dst, src, n, kind, stream):
        assert kind in (_backend._H2D, _backend._D2H, _backend._D2D), kind
        with arena().open():
            ctypes.memmove(dst, src, n)

    def can_access_peer(device, peer):
        _Device(device)
        _Device(peer)
        return 0        # the driver's answer for a device and itself

    total = 1 << 34
    runtime = types.SimpleNamespace(
        getDevice=lambda: 0, setDevice=_set_device, getDeviceCount=lambda: 1,
        memcpyAsync=memcpy, deviceSynchronize=lambda: None,
        getDeviceProperties=lambda index: {
            "name": b"ember emulated GPU (host)", "major": 8, "minor": 0,
            "totalGlobalMem": total, "multiProcessorCount": 1},
        memGetInfo=lambda: (total - arena().live, total), deviceCanAccessPeer=can_access_peer)
    def device_side(fn):
        def call(*args):
            with arena().open():
                fn(*args)
        return call

    cusolver = types.SimpleNamespace(**{name: device_side(fn) for name, fn in
                                        vars(_CUSOLVER).items() if name.endswith("Batched")},
                                     CUSOLVERError=CUSOLVERError)
    cublas = types.SimpleNamespace(**{name: device_side(fn) for name, fn in _GETRS.items()},
                                   gemmEx=device_side(gemm_ex),
                                   gemmStridedBatchedEx=device_side(gemm_strided),
                                   getMathMode=lambda h: 0, setMathMode=lambda h, m: None)
    # CuPy's array functions (the sorts and searches of ember.cuda._sort) as NumPy over the
    # device memory, each _sort entry running with the memory open as CuPy's kernels would
    def host_array(shape, dtype, memptr, strides):
        buffer = (ctypes.c_uint8 * max(memptr.mem.size, 1)).from_address(
            memptr.mem.ptr + memptr.offset)
        buffer.memptr = memptr      # the array keeps the memory's owner alive, as CuPy's
        return np.ndarray(shape, dtype, buffer=buffer, strides=strides)

    def opened(fn):
        def call(*args):
            with arena().open():
                return fn(*args)
        return call
    for name in ("sort_rows", "search_rows"):
        monkeypatch.setattr(_sort, name, opened(getattr(_sort, name)))
    # and cupy.linalg's cuSOLVER routines (of ember.cuda._linalg) as numpy.linalg's
    for name in ("eigh", "svd", "qr", "det", "slogdet"):
        monkeypatch.setattr(_linalg, name, opened(getattr(_linalg, name)))
    arrays = dict(ndarray=host_array,
                  argsort=lambda a, axis=-1: np.argsort(a, axis=axis, kind="stable"),
                  take_along_axis=np.take_along_axis, arange=np.arange, full=np.full,
                  take=np.take, minimum=np.minimum, where=np.where)

    stream_type = type("Stream", (_Stream,), {"null": null, "ptds": _Stream(ptr=2)})
    pool = _Pool()
    monkeypatch.setattr(_Pool, "limit", 0)
    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(
            runtime=runtime, alloc=_alloc, cublas=cublas, cusolver=cusolver, Device=_Device,
            device=types.SimpleNamespace(get_cublas_handle=lambda: 1,
                                         get_cusolver_handle=lambda: 2),
            get_current_stream=lambda: _Stream.current[-1] if _Stream.current else null,
            Stream=stream_type, Event=_Event,
            ExternalStream=lambda ptr, device_id=-1: _Stream(ptr=ptr),
            get_elapsed_time=lambda a, b: 1000 * (b.time - a.time),
            driver=types.SimpleNamespace(CUDADriverError=RuntimeError),
            memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError),
            UnownedMemory=lambda ptr, size, owner: types.SimpleNamespace(ptr=ptr, size=size,
                                                                         owner=owner),
            MemoryPointer=lambda mem, offset: types.SimpleNamespace(mem=mem, offset=offset)),
        RawModule=raw_module, get_default_memory_pool=lambda: pool,
        zeros=lambda n, dtype: FlagArray(), int32=np.int32, linalg=_LINALG, **arrays)
    monkeypatch.setattr(_runtime, "_cupy", fake)
    monkeypatch.setattr(_runtime, "_gpu_count", 1)
    monkeypatch.setattr(_kernels, "_modules", {})
    monkeypatch.setattr(_kernels, "_functions", {})
    monkeypatch.setattr(_backend, "_error_flags", {})
    return launcher
