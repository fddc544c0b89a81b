#!/usr/bin/env python3
"""float32 GEMM: ember's own kernel, OpenBLAS (SciPy's, through ember) and PyTorch side by side.

Each figure is a median over repeats (``--stat min`` for the minimum, steadier
on a loaded machine): on one thread, the thread CPU time of a call
(``time.thread_time``, so time descheduled does not count); on ``--threads``
threads, wall time.  ``ember`` and ``openblas`` run the same ember call
(``ember.matmul``) with the float32 GEMM switched by
``ember._core._blas._set_sgemm_backend``; ``auto`` is what ember picks.
Ratios ``openblas/ember`` and ``torch/ember`` above 1 mean ember's kernel is
faster.  Run as a script it drops OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which
pin OpenBLAS to an older kernel.

Usage::

    python tools/bench_gemm.py [--threads N] [--stat median|min] [--filter TEXT]
"""
import os
import sys

_PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(var in os.environ for var in _PINNING_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _PINNING_VARS}
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], _env)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402
from ember._core import _blas  # noqa: E402

# (name, stored shape of A, stored shape of B, transpose A, transpose B): the products
# of issue 4/5's targets (MLP 784-256-256-10 at batch 512 forward and backward, an LSTM
# step, the batched einsum) and a few square ones
CASES = [
    ("mm 128x128x128", (128, 128), (128, 128), False, False),
    ("mm 256x256x256", (256, 256), (256, 256), False, False),
    ("mm 1024x1024x1024", (1024, 1024), (1024, 1024), False, False),
    ("MLP fwd x(512,784) @ W1(256,784)^T", (512, 784), (256, 784), False, True),
    ("MLP fwd h(512,256) @ W2(256,256)^T", (512, 256), (256, 256), False, True),
    ("MLP fwd h(512,256) @ W3(10,256)^T", (512, 256), (10, 256), False, True),
    ("MLP bwd dW1 g(512,256)^T @ x(512,784)", (512, 256), (512, 784), True, False),
    ("MLP bwd dW2 g(512,256)^T @ h(512,256)", (512, 256), (512, 256), True, False),
    ("MLP bwd dh g(512,256) @ W2(256,256)", (512, 256), (256, 256), False, False),
    ("LSTM step h(32,128) @ W_hh(512,128)^T", (32, 128), (512, 128), False, True),
    ("bmm (64,128,128)", (64, 128, 128), (64, 128, 128), False, False),
]


def timed(fn, threads, seconds, stat):
    fn()
    clock = time.thread_time if threads == 1 else time.perf_counter
    times, spent = [], 0.0
    while spent < seconds or len(times) < 5:
        t0 = clock()
        fn()
        dt = clock() - t0
        times.append(dt)
        spent += dt
    return (statistics.median(times) if stat == "median" else min(times)) * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stat", choices=["median", "min"], default="median")
    parser.add_argument("--seconds", type=float, default=0.3, help="timing per figure")
    parser.add_argument("--filter", default="")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"kernel: {_blas._sgemm_kernel_name()}; load average: {os.getloadavg()[0]:.1f}; "
          f"{args.stat} ms")
    print(f"{'case':42s} {'thr':>3s} {'ember':>8s} {'openblas':>8s} {'torch':>8s} {'auto':>8s}"
          f" {'ob/em':>6s} {'th/em':>6s}")
    for name, sa, sb, trans_a, trans_b in CASES:
        if args.filter not in name:
            continue
        a = rng.standard_normal(sa).astype(np.float32)
        b = rng.standard_normal(sb).astype(np.float32)
        ea, eb = ember.from_numpy(a), ember.from_numpy(b)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        if trans_a:
            ea, ta = ea.transpose(-1, -2), ta.transpose(-1, -2)
        if trans_b:
            eb, tb = eb.transpose(-1, -2), tb.transpose(-1, -2)
        for threads in (1, args.threads):
            ember.set_num_threads(threads)
            torch.set_num_threads(threads)
            row = {}
            for backend in ("ember", "openblas", "auto"):
                _blas._set_sgemm_backend(backend)
                row[backend] = timed(lambda: ember.matmul(ea, eb), threads, args.seconds, args.stat)
            _blas._set_sgemm_backend("auto")
            row["torch"] = timed(lambda: torch.matmul(ta, tb), threads, args.seconds, args.stat)
            print(f"{name:42s} {threads:3d} {row['ember']:8.4f} {row['openblas']:8.4f} "
                  f"{row['torch']:8.4f} {row['auto']:8.4f} {row['openblas'] / row['ember']:6.2f} "
                  f"{row['torch'] / row['ember']:6.2f}")
            if args.threads == 1:
                break


if __name__ == "__main__":
    main()
