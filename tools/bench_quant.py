#!/usr/bin/env python3
"""Dynamic int8 Linear against float32 Linear: ember and PyTorch side by side.

The case of issue 8: ``Linear(1024, 1024)`` at batch 64, forward without autograd.
Four models run in one process on the same input: ember's float32 ``nn.Linear``
(ember's own sgemm), ember's ``quantize_dynamic`` version (int8 GEMM, activations
quantized per call), and PyTorch's two (``torch.ao.quantization.quantize_dynamic``
for reference).  Each figure is a median over repeats of the thread CPU time of
one forward on one thread (``time.thread_time``: time descheduled does not count)
or of wall time with ``--threads`` above 1.  Ratios above 1 mean the int8 model is
faster.  Run as a script it drops OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which pin
OpenBLAS to an older kernel.

Usage::

    python tools/bench_quant.py [--threads N] [--batch 64] [--features 1024] [--seconds 1]
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
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402
from ember._core import _quant  # noqa: E402


def timed(fn, threads, seconds):
    """Median seconds of one call of ``fn``."""
    for _ in range(3):
        fn()
    clock = time.thread_time if threads == 1 else time.perf_counter
    times, spent = [], 0.0
    while spent < seconds or len(times) < 20:
        t0 = clock()
        fn()
        times.append(clock() - t0)
        spent += times[-1]
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--features", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per figure")
    args = parser.parse_args(argv)
    ember.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    n, b = args.features, args.batch

    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((b, n), dtype=np.float32)
    torch.manual_seed(0)
    # quantize_dynamic swaps submodules (never the root): the layers go in a Sequential
    t_float = torch.nn.Sequential(torch.nn.Linear(n, n)).eval()
    with warnings.catch_warnings():     # torch.ao.quantization's deprecation notices
        warnings.simplefilter("ignore")
        t_int8 = torch.ao.quantization.quantize_dynamic(t_float, {torch.nn.Linear},
                                                        dtype=torch.qint8)
    e_float = ember.nn.Sequential(ember.nn.Linear(n, n))
    with ember.no_grad():
        e_float[0].weight.copy_(ember.from_numpy(t_float[0].weight.detach().numpy()))
        e_float[0].bias.copy_(ember.from_numpy(t_float[0].bias.detach().numpy()))
    e_int8 = ember.quantization.quantize_dynamic(e_float, {ember.nn.Linear}, dtype=ember.qint8)
    x_t, x_e = torch.from_numpy(x_np), ember.from_numpy(x_np)

    with ember.no_grad(), torch.no_grad():
        reference = t_float(x_t).numpy()
        error = {"ember int8": np.abs(e_int8(x_e).numpy() - reference).max(),
                 "torch int8": np.abs(t_int8(x_t).numpy() - reference).max()}
        times = {
            "ember float32": timed(lambda: e_float(x_e), args.threads, args.seconds),
            "ember int8": timed(lambda: e_int8(x_e), args.threads, args.seconds),
            "torch float32": timed(lambda: t_float(x_t), args.threads, args.seconds),
            "torch int8": timed(lambda: t_int8(x_t), args.threads, args.seconds),
        }
    print(f"Linear({n}, {n}) at batch {b}, {args.threads} thread(s); ember int8 kernel: "
          f"{_quant._qgemm_kernel_name()}; medians")
    macs = b * n * n
    for name, seconds in times.items():
        err = f"   max |error| vs float {error[name]:.4f}" if name in error else ""
        print(f"  {name:14s} {seconds * 1e6:9.1f} us  {macs / seconds / 1e9:7.1f} GMAC/s{err}")
    print(f"ember int8 / ember float32 throughput: "
          f"{times['ember float32'] / times['ember int8']:.2f}x")
    print(f"torch int8 / torch float32 throughput: "
          f"{times['torch float32'] / times['torch int8']:.2f}x")
    print(f"ember int8 / torch int8 throughput:    "
          f"{times['torch int8'] / times['ember int8']:.2f}x")
    return times


if __name__ == "__main__":
    main()
