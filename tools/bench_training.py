#!/usr/bin/env python3
"""Time one training step (forward, loss, backward, optimizer step) of the same model in
ember and in PyTorch, side by side in one process, and print the ratio.

Both libraries run on ``--threads`` threads (default 2).  Each model is built once per
library from the same initial weights and data; the two libraries take turns in short
blocks of steps (a few ember steps, a few torch steps, ...) so that a slow phase of a
noisy machine hits both, and the medians of the wall-clock step times are compared.
The first step of each block is not timed: each library's OpenMP threads keep spinning
for a while after its parallel regions, and right after a switch they compete for the
cores with the other library's, which no single-library training loop does.  The
ratio is ``ember / torch``: below 1 means ember is faster.

Run as a script, it removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the environment
before NumPy or PyTorch load (it re-executes itself without them).

Usage::

    python tools/bench_training.py [--quick] [--filter NAME] [--threads N]
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


def _copy_weights(source, target):
    """Copy a torch module's parameters and buffers into the ember module."""
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in source.state_dict().items()}
    target.load_state_dict(state)


def _step(lib, model, optimizer, loss_fn, x, y):
    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def _classifier_step(build, input_shape, classes, optimizer):
    """Builder of a classification step: ``build(nn)`` makes the model; cross-entropy loss."""
    def make(lib, torch_model=None):
        gen = np.random.default_rng(0)
        model = build(lib.nn)
        if torch_model is not None:
            _copy_weights(torch_model, model)
        x = lib.from_numpy(gen.standard_normal(input_shape, dtype=np.float32))
        y = lib.from_numpy(gen.integers(0, classes, input_shape[0]))
        opt = optimizer(lib, model.parameters())
        return model, _step(lib, model, opt, lib.nn.CrossEntropyLoss(), x, y)
    return make


def _mlp(nn):
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def _lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def _transformer(nn):
    """TransformerEncoder (2 layers, d_model 128, 4 heads, feed-forward 512, dropout 0.1)
    over a batch-first sequence, mean over the positions, then a linear head."""
    class SequenceClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.1, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.encoder(x).mean(1))
    return SequenceClassifier()


def _lstm_last_step(nn):
    """LSTM over the sequence, a linear classifier on its last step's output."""
    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(32, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])
    return LSTMClassifier()


def _sgd(lib, params):
    return lib.optim.SGD(params, lr=0.01, momentum=0.9)


def _adam(lib, params):
    return lib.optim.Adam(params, lr=1e-3)


# name -> (step builder, target ratio ember/torch from the nn issue, repeats)
CASES = {
    "MLP 784-256-256-10, batch 64, SGD": (_classifier_step(_mlp, (64, 784), 10, _sgd), 0.7, 200),
    "MLP 784-256-256-10, batch 512, SGD": (_classifier_step(_mlp, (512, 784), 10, _sgd), 0.7, 60),
    "LeNet CNN 28x28, batch 64, Adam": (_classifier_step(_lenet, (64, 1, 28, 28), 10, _adam),
                                        1.0, 20),
    "Transformer encoder 2 layers, d_model 128, 4 heads, seq 64, batch 32, Adam": (
        _classifier_step(_transformer, (32, 64, 128), 10, _adam), 0.8, 20),
    "LSTM in 32, hidden 128, seq 50, batch 32, Adam": (
        _classifier_step(_lstm_last_step, (32, 50, 32), 10, _adam), 1.0, 20),
}


BLOCK = 4   # steps per turn; the first of each turn is not timed


def measure(make, repeats):
    """Median wall time per step of ember and torch, taking turns in blocks of steps."""
    torch_model, torch_step = make(torch)
    _, ember_step = make(ember, torch_model)
    for step in (ember_step, torch_step):  # warm up allocators and caches
        step()
        step()
    times = {"ember": [], "torch": []}
    gc.collect()
    gc.disable()
    try:
        for _ in range(-(-repeats // (BLOCK - 1))):
            for name, step in (("ember", ember_step), ("torch", torch_step)):
                step()
                for _ in range(BLOCK - 1):
                    start = time.perf_counter_ns()
                    step()
                    times[name].append(time.perf_counter_ns() - start)
    finally:
        gc.enable()
    return statistics.median(times["ember"]), statistics.median(times["torch"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the repeats")
    parser.add_argument("--filter", metavar="NAME", default="",
                        help="only cases whose name contains NAME (case-insensitive)")
    parser.add_argument("--threads", type=int, default=2, help="threads of both libraries")
    args = parser.parse_args(argv)
    cases = {k: v for k, v in CASES.items() if args.filter.lower() in k.lower()}
    if not cases:
        parser.error(f"no case matches {args.filter!r}")
    saved_threads = ember.get_num_threads(), torch.get_num_threads()
    blas_limits = threadpoolctl.threadpool_limits(limits=None)  # to restore BLAS threads
    ember.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    threadpoolctl.threadpool_limits(args.threads)
    try:
        _run(cases, args.quick, args.threads)
    finally:
        ember.set_num_threads(saved_threads[0])
        torch.set_num_threads(saved_threads[1])
        blas_limits.restore_original_limits()
    return 0


def _run(cases, quick, threads):
    print(f"ember {ember.__version__}, torch {torch.__version__}, {threads} threads; "
          "median wall time per training step, the libraries taking turns in blocks of steps")
    header = f"{'case':<44}{'ember':>10}{'torch':>10}{'ember/torch':>13}{'target':>8}"
    print(header)
    print("-" * len(header))
    for name, (make, target, repeats) in cases.items():
        repeats = max(5, repeats // 4) if quick else repeats
        ember_ns, torch_ns = measure(make, repeats)
        print(f"{name:<44}{ember_ns / 1e6:>8.2f}ms{torch_ns / 1e6:>8.2f}ms"
              f"{ember_ns / torch_ns:>12.2f}x{target:>7.1f}x", flush=True)


if __name__ == "__main__":
    sys.exit(main())
