"""Start the rank tests (and a failing job) under ``mpiexec -n 2``, bounded by ``timeout``."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="the MPICH wheel of the test extra is Linux-only")


def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    assert found, "mpiexec not found: install the test extra (mpi4py and mpich)"
    return found


def _run_two_ranks(args, limit):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    command = ["timeout", "-k", "10", str(limit), _mpiexec(), "-n", "2", sys.executable,
               "-m", "mpi4py", *args]
    start = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return proc, time.monotonic() - start


def test_rank_suite_passes_on_two_ranks():
    proc, _ = _run_two_ranks(["-m", "pytest", "-p", "no:cacheprovider", "-q",
                              str(HERE / "ranks")], 300)
    assert proc.returncode == 0, (f"rank tests failed (rc {proc.returncode}):\n"
                                  f"{proc.stdout[-30000:]}\n{proc.stderr[-10000:]}")
    assert proc.stdout.count(" passed") >= 2, proc.stdout[-5000:]   # one summary per rank


def test_a_raising_rank_aborts_the_job_quickly():
    proc, elapsed = _run_two_ranks([str(HERE / "_raising_rank.py")], 60)
    assert proc.returncode not in (0, 124, 137), proc.stderr[-5000:]
    assert "rank 1 fails on purpose" in proc.stderr
    assert elapsed < 30


def test_digits_ddp_example(tmp_path):
    proc, _ = _run_two_ranks(["-m", "ember.examples.digits_ddp", "--epochs", "1",
                              "--checkpoint", str(tmp_path / "ddp.safetensors")], 300)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    assert "2 ranks" in proc.stdout and "test accuracy" in proc.stdout
    accuracy = float(proc.stdout.rsplit("test accuracy ", 1)[1].split("%")[0])
    assert accuracy > 50.0
    assert (tmp_path / "ddp.safetensors").stat().st_size > 0
