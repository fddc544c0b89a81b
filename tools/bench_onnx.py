#!/usr/bin/env python3
"""Time inference of the same model in ember eager (under ``ember.no_grad()``), as an
ember.jit traced graph, and in onnxruntime on the model ``ember.onnx.export`` wrote,
side by side in one process, and print the ratios.

Cases: those of tools/bench_jit.py (the MLP 784-256-256-10, the digits CNN of
``ember.examples.digits.build_model``, ...) at batch 1 and 64, timed by its turn-taking
``measure`` (the medians of the wall-clock call times are compared).  ``ort/traced`` at or above 1 means
the traced ember graph is at least as fast as onnxruntime (the issue's target);
``eager/traced`` is the traced graph's speed-up over eager.  onnxruntime runs with the same
number of intra-op threads as ember, one inter-op thread, all graph optimisations on.

Run as a script, it removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the environment
before NumPy loads (it re-executes itself without them).

Usage::

    python tools/bench_onnx.py [--quick] [--threads N]
"""
import os
import sys

_PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(var in os.environ for var in _PINNING_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _PINNING_VARS}
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], _env)

import argparse  # noqa: E402
import io  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import threadpoolctl  # noqa: E402

import ember  # noqa: E402
import ember.onnx  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_jit import CASES, measure  # noqa: E402


def runners_for(case, batch, threads):
    build, _, shape = CASES[case]
    ember.manual_seed(0)
    model = build().eval()
    x = ember.randn(batch, *shape)
    traced = ember.jit.trace(model, x)
    buffer = io.BytesIO()
    ember.onnx.export(model, x, buffer, input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session = onnxruntime.InferenceSession(buffer.getvalue(), options,
                                           providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    with ember.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(traced(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(session.run(None, feed)[0], expected, rtol=1e-4, atol=1e-5)

    def eager():
        with ember.no_grad():
            return model(x)

    return {"eager": eager, "traced": lambda: traced(x),
            "onnxruntime": lambda: session.run(None, feed)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the repeats")
    parser.add_argument("--threads", type=int, default=2, help="threads of both libraries")
    args = parser.parse_args(argv)
    saved_threads = ember.get_num_threads()
    blas_limits = threadpoolctl.threadpool_limits(limits=None)
    ember.set_num_threads(args.threads)
    threadpoolctl.threadpool_limits(args.threads)
    try:
        print(f"ember {ember.__version__}, onnxruntime {onnxruntime.__version__}, "
              f"{args.threads} threads; median wall time per inference call, the runners "
              "taking turns")
        header = (f"{'case':<28}{'batch':>6}{'eager':>11}{'traced':>11}{'onnxruntime':>13}"
                  f"{'eager/traced':>14}{'ort/traced':>12}")
        print(header)
        print("-" * len(header))
        for case in CASES:
            for batch in (1, 64):
                repeats = 600 if batch == 1 else 200
                repeats = max(20, repeats // 10) if args.quick else repeats
                result = measure(runners_for(case, batch, args.threads), repeats)
                print(f"{case:<28}{batch:>6}{result['eager'] / 1e3:>9.1f}us"
                      f"{result['traced'] / 1e3:>9.1f}us{result['onnxruntime'] / 1e3:>11.1f}us"
                      f"{result['eager'] / result['traced']:>13.2f}x"
                      f"{result['onnxruntime'] / result['traced']:>11.2f}x", flush=True)
    finally:
        ember.set_num_threads(saved_threads)
        blas_limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
