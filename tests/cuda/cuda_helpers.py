"""Helpers of the CUDA tests that run without a GPU."""
import ctypes
import ctypes.util
import mmap

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
