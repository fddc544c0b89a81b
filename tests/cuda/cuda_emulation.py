"""ember.cuda on the CPU, for testing the kernels' logic without a GPU.

The installed kernel sources (``kernels/<family>.cu``, as NVRTC gets them) are compiled
by the host's C++ compiler against cuda_emulation.h, and the CuPy stand-in hands out
host memory: ember's whole CUDA path -- the core's dispatch, the backend, the launch
geometry and the kernels -- then runs on the host.  It checks indexing, block
reductions and scans, ties, NaN and the two-pass reductions; not what only a GPU
shows (the CUDA compiler, the memory model, timing).
"""
import ctypes
import shutil
import subprocess
import types
from pathlib import Path

import numpy as np

from ember.cuda import _backend, _kernels, _runtime

from cuda_helpers import FlagArray
from emulated_cuda import gemm_ex, gemm_strided

HERE = Path(__file__).resolve().parent
CXX = shutil.which("g++")
# the 16-bit float conversions are PTX; the host compiler has _Float16
_PTX = {
    'asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));':
        "f = (float)__builtin_bit_cast(_Float16, h);",
    'asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));':
        "h = __builtin_bit_cast(uint16_t, (_Float16)f);",
}


class Layout(ctypes.Structure):
    """struct em_cuda_layout, to pass by value to the grid-stride kernels."""
    _fields_ = [("shape", ctypes.c_int64 * 8), ("strides", (ctypes.c_int64 * 8) * 4),
                ("numel", ctypes.c_int64), ("ndim", ctypes.c_int32), ("pad", ctypes.c_int32)]


_STRUCTS = {}   # numpy structured dtype -> ctypes.Structure with the same fields


def _struct(dtype):
    """A ctypes.Structure laid out as the (aligned, int64 / float64 fields) ``dtype``."""
    if dtype not in _STRUCTS:
        scalar = {np.dtype(np.int64): ctypes.c_int64, np.dtype(np.float64): ctypes.c_double,
                  np.dtype(np.int32): ctypes.c_int32}
        fields = []
        for name in dtype.names:
            field = dtype.fields[name][0]
            base = scalar[field.base]
            fields.append((name, base * field.shape[0] if field.shape else base))
        _STRUCTS[dtype] = type("Struct", (ctypes.Structure,), {"_fields_": fields})
        assert ctypes.sizeof(_STRUCTS[dtype]) == dtype.itemsize, dtype
    return _STRUCTS[dtype]


def build(families, workdir):
    """Compile each kernel family into a shared library under ``workdir``: {family: CDLL}."""
    shim = (HERE / "cuda_emulation.h").read_text()
    libs = {}
    for family in families:
        code = _kernels.nvrtc_source(family)
        for ptx, host in _PTX.items():
            assert ptx in code, f"cuda_emulation: {ptx!r} is no longer in ember_cuda.cuh"
            code = code.replace(ptx, host)
        source = Path(workdir) / f"{family}_emulated.cpp"
        head = f"#define EMU_PART 1\n#define EMU_FAMILY_{family.upper()} 1\n"
        source.write_text(head + shim + code
                          + "\n#undef EMU_PART\n#define EMU_PART 2\n" + shim)
        lib = source.with_suffix(".so")
        run = subprocess.run([CXX, "-std=c++20", "-O1", "-w", "-fPIC", "-shared", "-o", str(lib),
                              str(source)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-4000:]
        libs[family] = ctypes.CDLL(str(lib))
    return libs


def _arg(a):
    """A kernel argument as ctypes passes it: pointers, scalars and structs by value."""
    if isinstance(a, np.ndarray):
        if a.dtype == _kernels.LAYOUT_DTYPE:
            return Layout.from_buffer_copy(a.tobytes())
        if a.dtype.names:
            return _struct(a.dtype).from_buffer_copy(a.tobytes())
        return ctypes.c_void_p(a.ctypes.data)
    if isinstance(a, np.int32):
        return ctypes.c_int(int(a))
    if isinstance(a, np.int64):
        return ctypes.c_longlong(int(a))
    if isinstance(a, np.uint64):
        return ctypes.c_ulonglong(int(a))
    return ctypes.c_void_p(int(a))


def _ptr(a):
    return ctypes.c_void_p(a.ctypes.data if isinstance(a, np.ndarray) else int(a))


class Launcher:
    """``_kernels.function`` over the compiled families; records the launched names."""

    def __init__(self, libs):
        self.libs = libs
        self.names = []

    def function(self, family, name):
        lib = self.libs[family]
        kernel = getattr(lib, name)
        address = ctypes.cast(kernel, ctypes.c_void_p)

        def launch(grid, block, args):
            self.names.append(name)
            gx, gy = grid[0], grid[1] if len(grid) > 1 else 1
            bx, by = block[0], block[1] if len(block) > 1 else 1
            if family == "reduce" and name.endswith(("_inner", "_outer")):
                out, idx, x, kept, red, prm, partial, chunk = args
                lib.emu_reduce(address, _ptr(out), _ptr(idx), _ptr(x), _ptr(kept), _ptr(red),
                               _ptr(prm), _ptr(partial), ctypes.c_longlong(int(chunk)),
                               gx, gy, bx, by)
            elif family == "reduce":
                out, idx, partial, n_out, splits, prm = args
                lib.emu_finish(address, _ptr(out), _ptr(idx), _ptr(partial),
                               ctypes.c_longlong(int(n_out)), ctypes.c_int(int(splits)),
                               _ptr(prm), gx, bx)
            elif family == "scan":
                out, x, other, lanes, length, s_out, s_in, s_other = args
                lib.emu_lane(address, _ptr(out), _ptr(x), _ptr(other), _ptr(lanes),
                             *(ctypes.c_longlong(int(v)) for v in (length, s_out, s_in, s_other)),
                             gx, bx)
            elif family == "norm":
                lib.emu_norm(address, _ptr(args[0]), gx, gy, bx, by)
            else:
                lib.emu_one_thread()
                kernel.restype = None
                kernel(*map(_arg, args))
        return launch


class _HostBlock:
    """cupy.cuda.alloc stand-in: host memory, 256-byte aligned as CuPy's pool is."""

    def __init__(self, nbytes):
        self.buffer = np.zeros(max(nbytes, 1) + 256, np.uint8)
        self.ptr = (self.buffer.ctypes.data + 255) // 256 * 256


class _Device:
    """cupy.cuda.Device stand-in (a context manager doing nothing)."""

    def __init__(self, index):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def install(monkeypatch, libs):
    """Route ember.cuda to the host: CuPy's memory, copies and streams, the kernels, and
    cuBLAS's gemmEx / gemmStridedBatchedEx (emulated_cuda's NumPy products)."""
    launcher = Launcher(libs)
    stream = types.SimpleNamespace(ptr=0, synchronize=lambda: None)
    runtime = types.SimpleNamespace(
        getDevice=lambda: 0, getDeviceCount=lambda: 1,
        memcpyAsync=lambda dst, src, n, kind, s: ctypes.memmove(dst, src, n))
    cublas = types.SimpleNamespace(gemmEx=gemm_ex, gemmStridedBatchedEx=gemm_strided,
                                   getMathMode=lambda h: 0, setMathMode=lambda h, m: None)
    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(runtime=runtime, alloc=_HostBlock, cublas=cublas,
                                   Device=_Device,
                                   device=types.SimpleNamespace(get_cublas_handle=lambda: 1),
                                   get_current_stream=lambda: stream),
        zeros=lambda n, dtype: FlagArray(), int32=np.int32)
    monkeypatch.setattr(_runtime, "_cupy", fake)
    monkeypatch.setattr(_runtime, "_gpu_count", 1)
    monkeypatch.setattr(_kernels, "function", launcher.function)
    monkeypatch.setattr(_backend, "_error_flags", {})
    return launcher
