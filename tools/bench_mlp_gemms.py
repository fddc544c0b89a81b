#!/usr/bin/env python3
"""Time the matrix products of one MLP training step in ember, NumPy and PyTorch.

The model is the MLP of ``bench_training.py`` (784-256-256-10): for each of its
three ``Linear`` layers the forward product with the bias (``addmm``), the
input gradient ``grad @ W`` (not needed for the first layer) and the weight
gradient ``grad^T @ input``.  The libraries' calls are interleaved and the
median time of each product is printed with its GFLOP/s.

Run as a script, it removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the
environment before NumPy or PyTorch load, as ``bench_training.py`` does.

Usage::

    python tools/bench_mlp_gemms.py [--batch N] [--threads N] [--repeats N]
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
import threadpoolctl  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402


def _products(batch):
    """(name, function of (library, arrays), floating-point operations) per product."""
    def transposed(lib, t):
        return t.T if lib is np else t.t()

    def addmm(lib, bias, a, b):
        return a @ b + bias if lib is np else lib.addmm(bias, a, b)

    cases = []
    for layer, (fan_in, fan_out) in enumerate(((784, 256), (256, 256), (256, 10)), 1):
        x, w, b, g = f"x{layer}", f"w{layer}", f"b{layer}", f"g{layer}"
        flops = 2 * batch * fan_in * fan_out
        cases.append((f"L{layer} forward {batch}x{fan_in} @ {fan_in}x{fan_out} + bias",
                      lambda lib, t, x=x, w=w, b=b: addmm(lib, t[b], t[x], transposed(lib, t[w])),
                      flops))
        if layer > 1:
            cases.append((f"L{layer} grad input {batch}x{fan_out} @ {fan_out}x{fan_in}",
                          lambda lib, t, g=g, w=w: t[g] @ t[w], flops))
        cases.append((f"L{layer} grad weight {fan_out}x{batch} @ {batch}x{fan_in}",
                      lambda lib, t, g=g, x=x: transposed(lib, t[g]) @ t[x], flops))
    return cases


def _arrays(batch):
    gen = np.random.default_rng(0)
    arrays = {}
    for layer, (fan_in, fan_out) in enumerate(((784, 256), (256, 256), (256, 10)), 1):
        arrays[f"x{layer}"] = gen.standard_normal((batch, fan_in), dtype=np.float32)
        arrays[f"w{layer}"] = gen.standard_normal((fan_out, fan_in), dtype=np.float32)
        arrays[f"b{layer}"] = gen.standard_normal(fan_out, dtype=np.float32)
        arrays[f"g{layer}"] = gen.standard_normal((batch, fan_out), dtype=np.float32)
    return arrays


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    arrays = _arrays(args.batch)
    libraries = {
        "ember": (ember, {k: ember.from_numpy(v) for k, v in arrays.items()}),
        "numpy": (np, arrays),
        "torch": (torch, {k: torch.from_numpy(v) for k, v in arrays.items()}),
    }
    print(f"{args.threads} threads, batch {args.batch}; median time and GFLOP/s per product")
    print(f"{'product':44s}" + "".join(f"{name:>18s}" for name in libraries))
    totals = dict.fromkeys(libraries, 0.0)
    with threadpoolctl.threadpool_limits(args.threads, user_api="blas"):
        for name, product, flops in _products(args.batch):
            times = {lib_name: [] for lib_name in libraries}
            for lib, tensors in libraries.values():     # warm up
                product(lib, tensors)
            for _ in range(args.repeats):
                for lib_name, (lib, tensors) in libraries.items():
                    start = time.perf_counter_ns()
                    product(lib, tensors)
                    times[lib_name].append(time.perf_counter_ns() - start)
            row = ""
            for lib_name in libraries:
                median = statistics.median(times[lib_name])
                totals[lib_name] += median
                row += f"{median / 1e3:9.0f}us {flops / median:5.0f}GF"
            print(f"{name:44s}{row}")
    print(f"{'all products':44s}" + "".join(f"{t / 1e3:9.0f}us        " for t in totals.values()))


if __name__ == "__main__":
    main()
