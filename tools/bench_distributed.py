#!/usr/bin/env python3
"""Distributed benchmarks, run on 2 ranks::

    OPENBLAS_NUM_THREADS=1 mpiexec -n 2 python -m mpi4py tools/bench_distributed.py [--quick]

1. ``ember.distributed.all_reduce`` of 1e3, 1e6 and 2.5e7 float32 elements against raw
   mpi4py ``Allreduce(IN_PLACE, ndarray)`` on NumPy buffers of the same size, measured side
   by side in blocks taking turns (target: at most 1.05x).
2. One training step of the MLP 784-256-256-10 (SGD, cross-entropy; the MLP of
   tools/bench_training.py) on half of a batch of 64 per rank: DDP against the plain
   model, both running on every rank at once so that they compete for the cores alike
   (target: at most 1.2x).  Ranks on one node average all gradients at once through a
   shared-memory window; the same step with the default hook registered explicitly
   reduces buckets instead, and a bucketed step whose hook skips the reduction
   separates the buckets' bookkeeping (hooks, bucket copies) from communication.

Medians of wall-clock times on rank 0, each timed iteration started together on both
ranks (a barrier before each block).  Run as a script, it removes OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE from the environment before NumPy loads (it re-executes itself).
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
from mpi4py import MPI  # noqa: E402

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
from ember import nn  # noqa: E402
from ember.distributed.algorithms.ddp_comm_hooks import default_hooks  # noqa: E402
from ember.nn.parallel import DistributedDataParallel  # noqa: E402

BLOCK = 5   # timed calls per turn, after one untimed call


def side_by_side(candidates, repeats, comm):
    """Median seconds per call of each ``name -> fn``, taking turns in blocks."""
    times = {name: [] for name in candidates}
    for fn in candidates.values():
        fn()
    gc.collect()
    gc.disable()
    try:
        for _ in range(-(-repeats // BLOCK)):
            for name, fn in candidates.items():
                comm.Barrier()
                fn()
                for _ in range(BLOCK):
                    start = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return {name: statistics.median(t) for name, t in times.items()}


def bench_all_reduce(comm, quick):
    raw_comm = comm.Dup()
    rows = []
    for n, repeats in ((1000, 3000), (1_000_000, 200), (25_000_000, 20)):
        repeats = max(BLOCK, repeats // 5) if quick else repeats
        # zeros: summed in place call after call, ones would double up to inf
        t = ember.zeros(n)
        a = np.zeros(n, dtype=np.float32)
        medians = side_by_side({
            "ember": lambda: dist.all_reduce(t),
            "mpi4py": lambda: raw_comm.Allreduce(MPI.IN_PLACE, a),
        }, repeats, comm)
        rows.append((f"all_reduce float32 {n:.0e}", medians["ember"], medians["mpi4py"], 1.05))
    raw_comm.Free()
    return rows


def _mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def _step(model, x, y):
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def _no_communication(state, bucket):
    return dist.Work(outputs=[bucket.buffer()]).get_future().then(lambda f: f.value()[0])


def bench_ddp(comm, per_rank, repeats):
    """Median step times of the MLP on ``per_rank`` samples: plain, DDP, DDP in buckets,
    DDP in buckets without communication, and plain on the whole batch of both ranks."""
    gen = np.random.default_rng(comm.Get_rank())
    x = ember.from_numpy(gen.standard_normal((per_rank, 784), dtype=np.float32))
    y = ember.from_numpy(gen.integers(0, 10, per_rank))
    buckets = DistributedDataParallel(_mlp())
    buckets.register_comm_hook(None, default_hooks.allreduce_hook)
    bookkeeping = DistributedDataParallel(_mlp())
    bookkeeping.register_comm_hook(None, _no_communication)
    return side_by_side({
        "plain": _step(_mlp(), x, y),
        "ddp": _step(DistributedDataParallel(_mlp()), x, y),
        "ddp_buckets": _step(buckets, x, y),
        "ddp_no_comm": _step(bookkeeping, x, y),
        "plain_whole": _step(_mlp(), ember.cat([x, x]), ember.cat([y, y])),
    }, repeats, comm)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the repeats")
    args = parser.parse_args(argv)
    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    if comm.Get_size() != 2:
        raise SystemExit("run it on 2 ranks: mpiexec -n 2 python -m mpi4py "
                         "tools/bench_distributed.py")
    ember.set_num_threads(1)
    rows = bench_all_reduce(comm, args.quick)
    ddp = {}
    for per_rank, repeats in ((32, 300), (256, 60)):
        ddp[per_rank] = bench_ddp(comm, per_rank, max(BLOCK, repeats // 5) if args.quick
                                  else repeats)
        rows.append((f"DDP MLP step, {per_rank}/rank vs plain {per_rank}",
                     ddp[per_rank]["ddp"], ddp[per_rank]["plain"], 1.2 if per_rank == 32
                     else None))
    if comm.Get_rank() == 0:
        print(f"ember {ember.__version__}, mpi4py {sys.modules['mpi4py'].__version__}, "
              f"{MPI.Get_library_version().splitlines()[0]}; 2 ranks, 1 thread each; "
              "medians on rank 0")
        header = f"{'case':<40}{'ember':>11}{'reference':>11}{'ratio':>8}{'target':>8}"
        print(header)
        print("-" * len(header))
        for name, ours, ref, target in rows:
            goal = f"{target:.2f}x" if target else "-"
            print(f"{name:<40}{_ms(ours):>11}{_ms(ref):>11}{ours / ref:>7.2f}x{goal:>8}")
        for per_rank, t in ddp.items():
            print(f"\nwhere a DDP step's time goes (MLP, {per_rank} samples per rank):")
            print(f"  plain step (forward, backward, SGD)       {_ms(t['plain'])}")
            print(f"  DDP step                                  {_ms(t['ddp'])}")
            print(f"  DDP step in buckets (default hook given)  {_ms(t['ddp_buckets'])}")
            bookkeeping = t["ddp_no_comm"] - t["plain"]
            print(f"    of which bookkeeping (hooks, copies)    {_ms(bookkeeping)}")
            print(f"    and all-reduce (0.9 MB, 2 buckets)      "
                  f"{_ms(t['ddp_buckets'] - t['ddp_no_comm'])}")
            print(f"  scaling efficiency (plain / DDP on {per_rank} per rank): "
                  f"{t['plain'] / t['ddp']:.0%}; the 2 ranks process {2 * per_rank} samples "
                  f"{t['plain_whole'] / t['ddp']:.2f}x as fast as one process does")
    dist.destroy_process_group()
    return 0


def _ms(seconds):
    return f"{seconds * 1e3:.3f}ms"


if __name__ == "__main__":
    sys.exit(main())
