"""test_gpu_fused's and test_gpu_sort's comparisons with the CPU, run without a GPU: the
norm family (and the copy, elementwise, reduce and scan kernels the ops around it use)
compiled for the host against the emulation of cuda_emulation.py, the index kernels
as emulated_cuda.py's NumPy emulation, CuPy's memory replaced by host memory and its
sorts by NumPy's stable ones.  Skipped where no g++ is found, or where the kernel
sources were not built."""
import ctypes

import numpy as np
import pytest

from ember.cuda import _kernels, _runtime

import emulated_cuda
import test_gpu_fused
import test_gpu_sort
from cuda_emulation import CXX, build, install
from test_emulated_reduce import cases

CASES = [(test_gpu_fused, n, k) for n, k in cases(test_gpu_fused)] + \
        [(test_gpu_sort, n, k) for n, k in cases(test_gpu_sort)]
FUSED = ("em_cu_layer_norm", "em_cu_batch_norm", "em_cu_group_norm", "em_cu_cross_entropy")


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    if CXX is None:
        pytest.skip("no g++ to compile the kernels for the host")
    try:
        return build(["norm", "copy", "elementwise", "reduce", "scan"],
                     tmp_path_factory.mktemp("cuda_emulation_fused"))
    except FileNotFoundError as exc:
        pytest.skip(f"the rendered kernel sources are missing: {exc}")


def host_array(shape, dtype, memptr, strides):
    """cupy.ndarray stand-in: a NumPy array over the 'device' (host) memory."""
    size = memptr.mem.size
    buffer = (ctypes.c_uint8 * max(size, 1)).from_address(memptr.mem.ptr + memptr.offset)
    return np.ndarray(shape, dtype, buffer=buffer, strides=strides)


def install_sorts(monkeypatch):
    """The few CuPy functions ember.cuda._sort calls, as NumPy on host memory."""
    fake = _runtime._cupy
    memory = lambda ptr, size, owner: type("Mem", (), {"ptr": ptr, "size": size})()  # noqa: E731
    pointer = lambda mem, offset: type("Ptr", (), {"mem": mem, "offset": offset})()  # noqa: E731
    monkeypatch.setattr(fake.cuda, "UnownedMemory", memory, raising=False)
    monkeypatch.setattr(fake.cuda, "MemoryPointer", pointer, raising=False)
    stand_in = {"ndarray": host_array,
                "argsort": lambda a, axis=-1: np.argsort(a, axis=axis, kind="stable"),
                "take_along_axis": np.take_along_axis, "arange": np.arange,
                "full": np.full, "take": np.take, "minimum": np.minimum, "where": np.where,
                "nonzero": np.nonzero, "stack": np.stack}
    for name, fn in stand_in.items():
        monkeypatch.setattr(fake, name, fn, raising=False)


@pytest.mark.parametrize("module,name,kwargs", CASES,
                         ids=[f"{n[5:]}-{'-'.join(map(str, k.values()))}" for _, n, k in CASES])
def test_gpu_check_passes_on_the_emulated_gpu(monkeypatch, libs, module, name, kwargs):
    launcher = install(monkeypatch, libs)
    compiled = _kernels.function
    monkeypatch.setattr(_kernels, "function", lambda family, kernel: (
        (lambda grid, block, args: emulated_cuda.index_kernel(kernel, args))
        if family == "index" else compiled(family, kernel)))
    install_sorts(monkeypatch)
    getattr(module, name)(**kwargs)
    if module is test_gpu_fused:
        assert any(n.startswith(FUSED) for n in launcher.names)
