#!/usr/bin/env python3
"""Time inference of the same model in ember eager (under ``ember.no_grad()``) and as an
ember.jit traced graph, side by side in one process, and print the ratio; PyTorch eager
(under ``torch.inference_mode()``) on the same weights is printed for reference.

Cases: the MLP 784-256-256-10 (as in tools/bench_training.py), the digits CNN
(``ember.examples.digits.build_model``) and a chain of 10 elementwise ops (GELU's tanh
approximation, which the fusion pass makes one kernel) at batch 1 and 64; ``ember.compile``
of the model (the same graph behind its guards) is timed too.  The runners take turns in short
blocks of calls so that a slow phase of a noisy machine hits all of them; the medians of
the wall-clock call times are compared.  ``eager/traced`` above 1 means the traced graph
is faster (the target is 1.5).  ``--no-fusion`` traces without the passes, to show what
they add.

Run as a script, it removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the environment
before NumPy or PyTorch load (it re-executes itself without them).

Usage::

    python tools/bench_jit.py [--quick] [--threads N] [--no-fusion]
"""
import os
import sys

_PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(var in os.environ for var in _PINNING_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _PINNING_VARS}
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], _env)

import argparse  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402
from ember.examples.digits import build_model  # noqa: E402

BLOCK = 6   # calls per turn; the first of each turn is not timed


def _mlp(nn):
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def _digits_torch():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(64 * 4 * 4, 128),
        nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


def _gelu_chain(lib):
    """The tanh approximation of GELU written as a chain of elementwise ops (what the
    fusion pass turns into one kernel)."""
    class GeluChain(lib.nn.Module):
        def forward(self, x):
            return 0.5 * x * (1 + lib.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
    return GeluChain()


CASES = {
    "MLP 784-256-256-10": (lambda: _mlp(ember.nn), lambda: _mlp(torch.nn), (784,)),
    "digits CNN": (build_model, _digits_torch, (1, 8, 8)),
    "GELU-tanh chain, 1024 wide": (lambda: _gelu_chain(ember), lambda: _gelu_chain(torch),
                                   (1024,)),
}


def _copy_weights(source, target):
    with torch.no_grad():
        for (name, p), (_, q) in zip(source.state_dict().items(), target.state_dict().items()):
            q.copy_(torch.from_numpy(p.numpy().copy()))


def measure(runners, repeats):
    """Median wall time per call of each runner, taking turns in blocks of calls."""
    for run in runners.values():       # warm up allocators and caches
        run()
        run()
    times = {name: [] for name in runners}
    gc.collect()
    gc.disable()
    try:
        for _ in range(-(-repeats // (BLOCK - 1))):
            for name, run in runners.items():
                run()
                for _ in range(BLOCK - 1):
                    start = time.perf_counter_ns()
                    run()
                    times[name].append(time.perf_counter_ns() - start)
    finally:
        gc.enable()
    return {name: statistics.median(t) for name, t in times.items()}


def runners_for(case, batch, optimize):
    build, build_torch, shape = CASES[case]
    ember.manual_seed(0)
    model = build().eval()
    torch_model = build_torch().eval()
    _copy_weights(model, torch_model)
    x = ember.randn(batch, *shape)
    tx = torch.from_numpy(x.numpy().copy())
    traced = ember.jit.trace(model, x, optimize=optimize)
    with ember.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-5)

    compiled_model = ember.compile(model)

    def eager():
        with ember.no_grad():
            return model(x)

    def compiled():
        with ember.no_grad():
            return compiled_model(x)

    def torch_eager():
        with torch.inference_mode():
            return torch_model(tx)

    return {"eager": eager, "traced": lambda: traced(x), "compiled": compiled,
            "torch": torch_eager}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the repeats")
    parser.add_argument("--threads", type=int, default=2, help="threads of both libraries")
    parser.add_argument("--no-fusion", action="store_true",
                        help="trace without the graph passes (no folding, CSE or fusion)")
    args = parser.parse_args(argv)
    saved_threads = ember.get_num_threads(), torch.get_num_threads()
    blas_limits = threadpoolctl.threadpool_limits(limits=None)
    ember.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    threadpoolctl.threadpool_limits(args.threads)
    try:
        print(f"ember {ember.__version__}, torch {torch.__version__}, {args.threads} threads; "
              "median wall time per inference call, the runners taking turns")
        header = (f"{'case':<28}{'batch':>6}{'eager':>11}{'traced':>11}{'compiled':>11}"
                  f"{'torch':>11}{'eager/traced':>14}{'eager/compiled':>16}{'target':>8}")
        print(header)
        print("-" * len(header))
        for case in CASES:
            for batch in (1, 64):
                repeats = 600 if batch == 1 else 200
                repeats = max(20, repeats // 10) if args.quick else repeats
                result = measure(runners_for(case, batch, not args.no_fusion), repeats)
                print(f"{case:<28}{batch:>6}{result['eager'] / 1e3:>9.1f}us"
                      f"{result['traced'] / 1e3:>9.1f}us{result['compiled'] / 1e3:>9.1f}us"
                      f"{result['torch'] / 1e3:>9.1f}us"
                      f"{result['eager'] / result['traced']:>13.2f}x"
                      f"{result['eager'] / result['compiled']:>15.2f}x{1.5:>7.1f}x", flush=True)
    finally:
        ember.set_num_threads(saved_threads[0])
        torch.set_num_threads(saved_threads[1])
        blas_limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
