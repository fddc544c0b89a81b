"""The NCCL backend on one GPU (world size 1): collectives and a DDP step.  Skipped, with the
reason, where CuPy with NCCL, a CUDA device or ember's CUDA tensors are missing."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ember
import ember.distributed as dist

pytestmark = pytest.mark.gpu


def _skip_reason():
    if not dist.is_nccl_available():
        return "CuPy with NCCL and a CUDA device are needed for the NCCL backend"
    try:
        ember.zeros(1, device="cuda")
    except RuntimeError as exc:
        return f"ember cannot make CUDA tensors here: {exc}"
    return None


def test_nccl_world_of_one():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = beside if os.path.exists(beside) else shutil.which("mpiexec")
    proc = subprocess.run(["timeout", "-k", "10", "120", mpiexec, "-n", "1", sys.executable,
                           "-m", "mpi4py", str(Path(__file__).parent / "_nccl_rank.py")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nccl ok" in proc.stdout

