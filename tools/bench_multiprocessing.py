"""Tensors through a multiprocessing queue: ember.multiprocessing against torch.multiprocessing.

Each case sends a float32 tensor to a forked child that reads one element and acknowledges;
the figure is the median round trip over many sends, for a tensor already in shared memory
(the descriptor's cost: duplicate the descriptor, map it) and for a fresh tensor each time
(which first moves into shared memory).  Prints ember/torch ratios (< 1: ember is faster).

Run: ``python tools/bench_multiprocessing.py``
"""
import os
import statistics
import time

os.environ.pop("OPENBLAS_CORETYPE", None)
os.environ.pop("OPENBLAS_L2_SIZE", None)

import torch  # noqa: E402

import ember  # noqa: E402
import ember.multiprocessing as emp  # noqa: E402
import torch.multiprocessing as tmp  # noqa: E402

SIZES = [256, 256 * 1024, 4 * 1024 * 1024]     # elements
REPEATS = 60


def _echo(inbox, outbox):
    while True:
        t = inbox.get()
        if t is None:
            return
        outbox.put(float(t[0]))


def _round_trips(lib, mp, n, fresh):
    ctx = mp.get_context("fork")
    inbox, outbox = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=_echo, args=(inbox, outbox))
    child.start()
    shared = lib.ones(n).share_memory_()
    times = []
    for _ in range(REPEATS):
        t = lib.ones(n) if fresh else shared
        start = time.perf_counter()
        inbox.put(t)
        outbox.get()
        times.append(time.perf_counter() - start)
    inbox.put(None)
    child.join()
    return statistics.median(times[5:])


def main():
    print(f"{'case':<28}{'ember us':>10}{'torch us':>10}{'ratio':>8}")
    for fresh in (False, True):
        for n in SIZES:
            e = _round_trips(ember, emp, n, fresh)
            t = _round_trips(torch, tmp, n, fresh)
            name = f"{'fresh' if fresh else 'shared'} {n * 4 // 1024} KiB"
            print(f"{name:<28}{e * 1e6:>10.0f}{t * 1e6:>10.0f}{e / t:>8.2f}")


if __name__ == "__main__":
    main()
