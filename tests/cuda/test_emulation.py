"""The emulated GPU's own checks (cuda_emulation.py): what it refuses as a GPU or
cuBLAS would misbehave on, and device memory the CPU cannot read."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.cuda import _blas, _kernels

from conftest import _emulation_missing


@pytest.fixture
def launcher(monkeypatch, request):
    reason = _emulation_missing()
    if reason:
        pytest.skip(reason)
    from cuda_emulation import install
    return install(monkeypatch, request.getfixturevalue("emulated_kernels"))


def fill(args, grid=(1,), block=(256,)):
    _kernels.function("copy", "em_cu_fill32_s32")(grid, block, args)


def test_arguments_are_checked_as_cupy_passes_them(launcher):
    t = ember.zeros(4, device="cuda")
    rec, _ = _kernels.layout((4,), [[4]])
    fill((t.data_ptr(), rec, np.uint64(0x3F800000)))
    assert t.cpu().tolist() == [1.0] * 4 and launcher.names[-1] == "em_cu_fill32_s32"
    with pytest.raises(TypeError, match="argument 2 is passed as 4 bytes"):
        fill((t.data_ptr(), rec, np.uint32(1)))            # the kernel reads 8 bytes
    with pytest.raises(TypeError, match="argument 2 .* kind 'f'"):
        fill((t.data_ptr(), rec, 1.0))                      # a double for an integer
    with pytest.raises(TypeError, match="argument 1 .* kind 'i'"):
        fill((t.data_ptr(), 0, np.uint64(1)))               # no struct
    with pytest.raises(TypeError, match="takes 3 arguments"):
        fill((t.data_ptr(), rec))
    with pytest.raises(RuntimeError, match="invalid launch configuration"):
        fill((t.data_ptr(), rec, np.uint64(1)), block=(2048,))
    with pytest.raises(RuntimeError, match="no kernel 'em_cu_nothing'"):
        _kernels.function("copy", "em_cu_nothing")


def test_cublas_argument_checks(launcher):
    from cuda_emulation import CUBLASError, gemm_ex
    a = ember.ones(3, 2, device="cuda")
    one = np.ones(1, np.float32)
    args = dict(handle=1, ta=_blas.OP_N, tb=_blas.OP_N, m=3, n=3, k=2, alpha=one.ctypes.data,
                A=a.data_ptr(), at=0, lda=3, B=a.data_ptr(), bt=0, ldb=2, beta=one.ctypes.data,
                C=a.data_ptr(), ct=0, ldc=3, compute=_blas.COMPUTE_32F, algo=-1)
    with pytest.raises(CUBLASError, match="INVALID_VALUE"):
        gemm_ex(**dict(args, lda=2))                     # lda < m for op N
    with pytest.raises(CUBLASError, match="NOT_SUPPORTED"):
        gemm_ex(**dict(args, ct=1))                      # float32 inputs, float64 output
    with pytest.raises(CUBLASError, match="NOT_SUPPORTED"):
        gemm_ex(**dict(args, at=4, bt=4, ct=0))          # complex64 inputs, float32 output
    with pytest.raises(CUBLASError, match="NOT_SUPPORTED"):
        gemm_ex(**dict(args, at=5, bt=5, ct=5))          # complex128 in a float32 compute


def test_the_cpu_cannot_read_device_memory():
    if _emulation_missing():
        pytest.skip(_emulation_missing())
    script = ("import ctypes, pytest, ember, cuda_emulation as e\n"
              "e.install(pytest.MonkeyPatch(), {})\n"
              "t = ember.ones(4).cuda()\n"        # copies only: no kernels
              "assert t.cpu().tolist() == [1.0] * 4\n"
              "print('copied', flush=True)\n"
              "ctypes.string_at(t.data_ptr(), 4)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent,
                         capture_output=True, text=True, timeout=120)
    assert run.stdout == "copied\n" and run.returncode == -11, run.stderr[-2000:]
