"""Helpers of the CUDA tests that run without a GPU."""
import ctypes
import ctypes.util
import mmap
import types

import numpy as np
import pytest

from ember.cuda import _backend, _kernels, _runtime

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PROT_NONE = 0     # <sys/mman.h>; the mmap module names only the other protections
MAP_FAILED = ctypes.c_void_p(-1).value


class NoAccessPages:
    """Anonymous pages nobody may read or write; unmapped when the storage dies."""

    def __init__(self, nbytes):
        self.size = max(nbytes, 1)
        address = libc.mmap(None, self.size, PROT_NONE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                            -1, 0)
        if address in (None, MAP_FAILED):
            raise OSError(ctypes.get_errno(), "mmap failed")
        self.address = address

    def __del__(self):
        if getattr(self, "address", None) is not None:
            libc.munmap(self.address, self.size)


# ---------------------------------------------------------------- a CuPy stand-in

class Recorder:
    """``_kernels.function`` stand-in: records (family, name, grid, block, args) of each
    launch and the host/device copies, running nothing."""

    def __init__(self):
        self.launches = []
        self.copies = []

    def function(self, family, name):
        def launch(grid, block, args):
            self.launches.append((family, name, grid, block, args))
        return launch

    def names(self):
        return [name for _, name, _, _, _ in self.launches]


class FlagArray:
    """cupy.zeros(1, int32) stand-in: the error word, in host memory."""
    def __init__(self):
        self.value = np.zeros(1, np.int32)
        self.data = types.SimpleNamespace(ptr=self.value.ctypes.data)

    def __getitem__(self, i):
        return self.value[i]

    def fill(self, v):
        self.value[:] = v


@pytest.fixture
def rec(monkeypatch):
    """A CuPy stand-in for one 'GPU': allocations are unreadable host pages (a CPU kernel
    touching one would crash), copies and kernel launches are recorded (a Recorder)."""
    recorder = Recorder()

    def alloc(n):
        pages = NoAccessPages(n)
        return types.SimpleNamespace(ptr=pages.address, pages=pages)

    def memcpy_async(dst, src, n, kind, stream):
        recorder.copies.append((kind, n))

    runtime = types.SimpleNamespace(getDevice=lambda: 0, getDeviceCount=lambda: 1,
                                    memcpyAsync=memcpy_async)
    stream = types.SimpleNamespace(ptr=0, synchronize=lambda: None)
    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(runtime=runtime, alloc=alloc,
                                   get_current_stream=lambda: stream),
        get_default_memory_pool=lambda: types.SimpleNamespace(total_bytes=lambda: 0),
        zeros=lambda n, dtype: FlagArray(), int32=np.int32)
    monkeypatch.setattr(_runtime, "_cupy", fake)
    monkeypatch.setattr(_runtime, "_gpu_count", 1)
    monkeypatch.setattr(_kernels, "function", recorder.function)
    monkeypatch.setattr(_backend, "_error_flags", {})
    return recorder
