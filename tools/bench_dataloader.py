#!/usr/bin/env python3
"""Measure how long a training loop waits for DataLoader batches, with and without workers.

The loop mimics the digits example: 1,797 samples of shape (1, 8, 8), batches of 64,
each sample passing through a transform that costs about ``--item-us`` microseconds,
and a training step that keeps the main process busy for ``--step-ms`` milliseconds
(``--step-kind busy`` spins the CPU like a real step; ``sleep`` frees it).  For each
``num_workers`` the script prints the time per epoch, the mean wait for a batch and the
fraction of the loop spent waiting ("idle"); with enough workers the idle fraction
should be close to zero.  The first epoch (worker start-up) is reported apart.

Usage::

    python tools/bench_dataloader.py [--quick] [--workers 0 2] [--step-ms 4] [--item-us 50]
"""
import argparse
import statistics
import time

import ember
from ember.utils.data import DataLoader, Dataset


def _spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class SyntheticDigits(Dataset):
    """``size`` (1, 8, 8) float32 images and int labels, with a transform of fixed cost."""

    def __init__(self, size, item_seconds):
        generator = ember.Generator().manual_seed(0)
        self.images = ember.rand(size, 1, 8, 8, generator=generator)
        self.labels = ember.randint(0, 10, (size,), generator=generator)
        self.item_seconds = item_seconds

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index] * 2.0 - 1.0
        _spin(self.item_seconds)
        return image, self.labels[index]


def run_epoch(loader, step_seconds, step_kind):
    """Iterate once; returns (total seconds, seconds spent waiting for batches, batches)."""
    waited = 0.0
    batches = 0
    start = time.perf_counter()
    iterator = iter(loader)
    while True:
        before = time.perf_counter()
        try:
            next(iterator)
        except StopIteration:
            waited += time.perf_counter() - before
            break
        waited += time.perf_counter() - before
        batches += 1
        if step_kind == "busy":
            _spin(step_seconds)
        else:
            time.sleep(step_seconds)
    return time.perf_counter() - start, waited, batches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--step-ms", type=float, default=4.0)
    parser.add_argument("--step-kind", choices=["busy", "sleep"], default="busy")
    parser.add_argument("--item-us", type=float, default=50.0)
    parser.add_argument("--size", type=int, default=1797)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="two epochs")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs
    dataset = SyntheticDigits(args.size, args.item_us * 1e-6)
    print(f"{args.size} samples, batch {args.batch_size}, transform {args.item_us:g} us/item, "
          f"step {args.step_ms:g} ms ({args.step_kind}), {epochs} epochs")
    print(f"{'workers':>7} {'first epoch s':>13} {'epoch s':>8} {'wait/batch ms':>13} "
          f"{'idle':>6}")
    for num_workers in args.workers:
        loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                            num_workers=num_workers, persistent_workers=num_workers > 0)
        results = [run_epoch(loader, args.step_ms * 1e-3, args.step_kind)
                   for _ in range(epochs)]
        first, steady = results[0], results[1:] or results
        total = sum(r[0] for r in steady)
        waited = sum(r[1] for r in steady)
        batches = sum(r[2] for r in steady)
        print(f"{num_workers:>7} {first[0]:>13.3f} {statistics.mean(r[0] for r in steady):>8.3f} "
              f"{1e3 * waited / batches:>13.3f} {waited / total:>6.1%}")
        del loader


if __name__ == "__main__":
    main()
