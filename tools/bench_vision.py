#!/usr/bin/env python3
"""Time ember.vision's transforms and make_grid against the same work in PyTorch.

torchvision is not a dependency, so the PyTorch side is torchvision's tensor algorithm
written with torch ops (normalize as ``sub_/div_``, crop as a slice of a padded tensor,
rotation as an affine grid + ``grid_sample`` with a fill mask, the grid as slice copies).
Each figure is the median per-call time of many repeats, both libraries in this process on
one thread; the ratio is ``torch/ember`` (above 1: ember is faster).

Run as a script it removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the environment
before NumPy or PyTorch load (re-executing itself without them).

Usage::

    python tools/bench_vision.py [--repeats N]
"""
import os
import sys

_PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(var in os.environ for var in _PINNING_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _PINNING_VARS}
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], _env)

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402
from ember.vision import transforms as T  # noqa: E402
from ember.vision.utils import make_grid  # noqa: E402


def _median_seconds(function, repeats, inner=20):
    function()
    times = []
    for _ in range(repeats):
        start = time.thread_time_ns()
        for _ in range(inner):
            function()
        times.append((time.thread_time_ns() - start) / inner / 1e9)
    return statistics.median(times)


def _torch_rotate(img, angle):
    """torchvision's tensor rotation (nearest, fill 0, same size) in torch ops."""
    _, height, width = img.shape
    rot = math.radians(-angle)
    theta = torch.tensor([[math.cos(rot), math.sin(rot), 0.0],
                          [-math.sin(rot), math.cos(rot), 0.0]])
    xs = torch.linspace(-width * 0.5 + 0.5, width * 0.5 - 0.5, width)
    ys = torch.linspace(-height * 0.5 + 0.5, height * 0.5 - 0.5, height)
    base = torch.stack([xs.expand(height, width), ys.unsqueeze(-1).expand(height, width),
                        torch.ones(height, width)], dim=-1)
    grid = (base.reshape(-1, 3) @ theta.t() / torch.tensor([0.5 * width, 0.5 * height]))
    x = torch.cat([img, torch.ones(1, height, width)]).unsqueeze(0)
    out = torch.nn.functional.grid_sample(x, grid.view(1, height, width, 2), mode="nearest",
                                          padding_mode="zeros", align_corners=False)
    return torch.where(out[:, -1:] < 0.5, 0.0, out[:, :-1])[0]


def _torch_grid(batch, nrow=8, padding=2):
    count, channels, height, width = batch.shape
    columns, rows = min(nrow, count), math.ceil(count / min(nrow, count))
    grid = torch.zeros(channels, rows * (height + padding) + padding,
                       columns * (width + padding) + padding)
    for k in range(count):
        top = (k // columns) * (height + padding) + padding
        left = (k % columns) * (width + padding) + padding
        grid[:, top:top + height, left:left + width] = batch[k]
    return grid


def cases():
    rng = np.random.default_rng(0)
    digit = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    small, large = rng.random((1, 28, 28), np.float32), rng.random((3, 224, 224), np.float32)
    batch = rng.random((64, 1, 28, 28), np.float32)
    e_digit, t_digit = ember.from_numpy(digit), torch.from_numpy(digit)
    e_small, t_small = ember.from_numpy(small), torch.from_numpy(small)
    e_large, t_large = ember.from_numpy(large), torch.from_numpy(large)
    e_batch, t_batch = ember.from_numpy(batch), torch.from_numpy(batch)
    to_input = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    crop, rotate = T.RandomCrop(28, padding=4), T.RandomRotation((30, 30))

    def torch_to_input():
        return (t_digit.unsqueeze(0).float().div(255)).sub_(0.1307).div_(0.3081)

    def torch_crop():
        return torch.nn.functional.pad(t_small, [4, 4, 4, 4])[:, 3:31, 5:33]

    return [
        ("ToTensor+Normalize 28x28 uint8", lambda: to_input(e_digit), torch_to_input),
        ("RandomCrop(28, padding=4) 1x28x28", lambda: crop(e_small), torch_crop),
        ("RandomRotation 1x28x28", lambda: rotate(e_small), lambda: _torch_rotate(t_small, 30)),
        ("RandomRotation 3x224x224", lambda: rotate(e_large), lambda: _torch_rotate(t_large, 30)),
        ("make_grid 64x1x28x28", lambda: make_grid(e_batch),
         lambda: _torch_grid(torch.cat([t_batch] * 3, 1))),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=31)
    args = parser.parse_args(argv)
    ember.set_num_threads(1)
    torch.set_num_threads(1)
    print(f"{'case':36s} {'ember us':>10s} {'torch us':>10s} {'torch/ember':>12s}")
    for name, ember_call, torch_call in cases():
        e = _median_seconds(ember_call, args.repeats)
        t = _median_seconds(torch_call, args.repeats)
        print(f"{name:36s} {e * 1e6:10.1f} {t * 1e6:10.1f} {t / e:12.2f}", flush=True)


if __name__ == "__main__":
    main()
