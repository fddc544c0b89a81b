#!/usr/bin/env python3
"""ember's CUDA device beside PyTorch CUDA, in one process on one GPU.

Measures, as the CUDA issue's goals name them:

* GEMM, n = 4096, float32 and bfloat16: TFLOP/s (goal: >= 0.95x PyTorch);
* elementwise add of 1e8 float32: GB/s (goal: >= 0.9x PyTorch, > 80% of the card's);
* add of two (64,) cuda tensors: microseconds per call, launch overhead included
  (goal: <= PyTorch's time);
* one training step (forward, loss, backward, optimizer step) of the nn benchmarks'
  MLP, CNN and Transformer (tools/bench_training.py's models; goal: <= 1.2x PyTorch eager).

Each figure is the median of many timed repeats (synchronised after each).  A case
ember cannot run on cuda yet is reported as such, not skipped silently.  The ratio
column is ember's figure over torch's: higher is better for rates (TFLOP/s, GB/s),
lower for times; each row says which.

Usage::

    python tools/bench_cuda.py [--quick]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import ember  # noqa: E402


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def timed(fn, sync, repeats, inner=1):
    """Median seconds per call of ``fn`` (``inner`` calls per timed sample)."""
    fn()
    sync()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


def run_case(fn, sync, repeats, inner=1):
    try:
        return timed(fn, sync, repeats, inner), ""
    except NotImplementedError as exc:
        return None, f"not implemented on cuda yet ({str(exc).splitlines()[0][:60]})"


def gemm_cases(torch, repeats):
    n = 4096
    rows = []
    for name in ("float32", "bfloat16"):
        a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        ea = ember.from_numpy(a).to(getattr(ember, name)).cuda()
        ta = torch.from_numpy(a).to(getattr(torch, name)).cuda()
        if name == "float32":
            torch.backends.cuda.matmul.allow_tf32 = False
        e, note = run_case(lambda: ea @ ea, ember.cuda.synchronize, repeats)
        t = timed(lambda: ta @ ta, torch.cuda.synchronize, repeats)
        flop = 2 * n ** 3
        rows.append((f"GEMM n=4096 {name} (TFLOP/s)", e and flop / e / 1e12, flop / t / 1e12,
                     "rate", note))
    return rows


def add_cases(torch, repeats):
    n = 10 ** 8
    ex, ey = ember.ones(n, device="cuda"), ember.ones(n, device="cuda")
    tx, ty = torch.ones(n, device="cuda"), torch.ones(n, device="cuda")
    eo, to = ember.empty(n, device="cuda"), torch.empty(n, device="cuda")
    e, note = run_case(lambda: ember.add(ex, ey, out=eo), ember.cuda.synchronize, repeats)
    t = timed(lambda: torch.add(tx, ty, out=to), torch.cuda.synchronize, repeats)
    moved = 3 * 4 * n
    rows = [("add 1e8 float32, out= (GB/s)", e and moved / e / 1e9, moved / t / 1e9, "rate", note)]
    sx, sy = ember.ones(64, device="cuda"), ember.ones(64, device="cuda")
    ux, uy = torch.ones(64, device="cuda"), torch.ones(64, device="cuda")
    e, note = run_case(lambda: sx + sy, ember.cuda.synchronize, repeats, inner=1000)
    t = timed(lambda: ux + uy, torch.cuda.synchronize, repeats, inner=1000)
    rows.append(("add (64,)+(64,) per call (us)", e and e * 1e6, t * 1e6, "time", note))
    return rows


def training_cases(torch, repeats):
    """The nn benchmarks' models (tools/bench_training.py), same weights, data on the GPU."""
    import bench_training as bt
    rows = []
    cases = [("MLP 784-256-256-10, batch 64, SGD", bt._mlp, (64, 784), bt._sgd),
             ("LeNet CNN 28x28, batch 64, Adam", bt._lenet, (64, 1, 28, 28), bt._adam),
             ("Transformer encoder 2x128, seq 64, batch 32, Adam", bt._transformer,
              (32, 64, 128), bt._adam)]
    for label, build, shape, optimizer in cases:
        gen = np.random.default_rng(0)
        x = gen.standard_normal(shape, dtype=np.float32)
        y = gen.integers(0, 10, shape[0])
        t_model = build(torch.nn)
        e_model = build(ember.nn)
        bt._copy_weights(t_model, e_model)
        t_model.cuda()
        t_step = bt._step(torch, t_model, optimizer(torch, t_model.parameters()),
                          torch.nn.CrossEntropyLoss(), torch.from_numpy(x).cuda(),
                          torch.from_numpy(y).cuda())
        t = timed(t_step, torch.cuda.synchronize, repeats)
        try:
            e_model.to("cuda")
            e_step = bt._step(ember, e_model, optimizer(ember, e_model.parameters()),
                              ember.nn.CrossEntropyLoss(), ember.from_numpy(x).cuda(),
                              ember.from_numpy(y).cuda())
        except NotImplementedError as exc:
            rows.append((label + " (ms)", None, t * 1e3, "time",
                         f"not implemented on cuda yet ({str(exc)[:60]})"))
            continue
        e, note = run_case(e_step, ember.cuda.synchronize, repeats)
        rows.append((label + " (ms)", e and e * 1e3, t * 1e3, "time", note))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    torch = _torch_cuda()
    if not ember.cuda.is_available():
        print("ember.cuda.is_available() is False: no GPU or no CuPy; nothing to measure")
        return 1
    if torch is None:
        print("PyTorch with CUDA is not available here: no side-by-side figures")
        return 1
    repeats = 5 if args.quick else 30
    print(f"device: {ember.cuda.get_device_name(0)}; torch {torch.__version__}")
    rows = gemm_cases(torch, repeats) + add_cases(torch, repeats) + training_cases(torch, repeats)
    print(f"{'case':58s} {'ember':>10s} {'torch':>10s} {'ember/torch':>12s}  note")
    for label, e, t, kind, note in rows:
        ratio = "" if e is None or t is None else f"{e / t:12.3f}"
        fe = "-" if e is None else f"{e:10.3f}"
        ft = "-" if t is None else f"{t:10.3f}"
        print(f"{label:58s} {fe:>10s} {ft:>10s} {ratio:>12s}  "
              f"{'(higher is better) ' if kind == 'rate' else '(lower is better) '}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
