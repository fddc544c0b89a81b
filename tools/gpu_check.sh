#!/usr/bin/env bash
# The GPU checks of ember's CUDA device, in one run on a machine with an NVIDIA GPU:
#   1. build ember with its CUDA fatbins (nvcc required: -Dcuda=enabled), with CuPy;
#   2. run the CUDA build checks, every test marked gpu and the NCCL smoke test;
#   3. run tools/bench_cuda.py (ember beside PyTorch CUDA, when torch sees the GPU).
# Results go to $OUT (default: ./gpu-check-results): the environment, the test log
# (and JUnit XML), the benchmark table.  Usage, from the repository root:
#   OUT=/some/dir bash tools/gpu_check.sh [extra pytest args]
set -uo pipefail
OUT="${OUT:-$PWD/gpu-check-results}"
mkdir -p "$OUT"
ARCHS="${EMBER_CUDA_ARCHS:-80,90}"
status=0

{
  date -u
  nvidia-smi || echo "nvidia-smi failed"
  nvcc --version || echo "nvcc not found"
  python -c "import sys; print(sys.version)"
  uptime
} > "$OUT/environment.txt" 2>&1

python -c "import cupy" 2>/dev/null || pip install 'cupy-cuda13x>=13' > "$OUT/pip-cupy.log" 2>&1
# NCCL and MPI for the distributed smoke test (world size 1 on this GPU, and a DDP step)
python -c "from cupy.cuda import nccl; assert nccl.available" 2>/dev/null \
  || pip install nvidia-nccl-cu13 >> "$OUT/pip-cupy.log" 2>&1
python -c "import mpi4py" 2>/dev/null || pip install 'mpi4py>=4.1' mpich >> "$OUT/pip-cupy.log" 2>&1

echo "== build (cuda archs $ARCHS)"
if ! pip install --no-build-isolation -e . -Cbuild-dir=build/gpu \
      -Csetup-args=-Dcuda=enabled -Csetup-args=-Dcuda-archs="$ARCHS" > "$OUT/build.log" 2>&1; then
  echo "build failed: see $OUT/build.log"
  tail -40 "$OUT/build.log"
  exit 1
fi

echo "== tests"
python - <<'PY' | tee "$OUT/device.txt"
import ember
print("ember.cuda.is_available():", ember.cuda.is_available())
if ember.cuda.is_available():
    print("device:", ember.cuda.get_device_name(0), vars(ember.cuda.get_device_properties(0)))
PY
python -m pytest tests/cuda tests/distributed/test_nccl.py -m "gpu or not gpu" -q -rs \
  --junitxml="$OUT/pytest-cuda.xml" "$@" \
  2>&1 | tee "$OUT/pytest-cuda.log" | tail -40
status=$((status | PIPESTATUS[0]))

echo "== benchmarks"
python tools/bench_cuda.py 2>&1 | tee "$OUT/bench_cuda.txt"
status=$((status | PIPESTATUS[0]))

echo "results in $OUT (exit status $status)"
exit $status
