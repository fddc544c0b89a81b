#!/usr/bin/env python3
"""Time ember, NumPy and PyTorch side by side, in one process, and print ratios.

Every figure printed is a median over many repeats, never a single time:

* small ops run on one thread; each repeat times a batch of calls with
  ``time.thread_time_ns`` (CPU time of this thread, so time spent descheduled
  on a busy machine does not count) and the median per-call time is reported;
* large ops (1e7 float32 elements) are timed on one thread the same way, and
  on ``--threads`` threads (default 2) by wall-clock medians, since the work
  then runs on other threads too.

Ratios are ``numpy/ember`` and ``torch/ember``: above 1 means ember is faster.
For ``out=`` on large inputs the NumPy column, ``np.add(a, b, out=c)``, is a
plain C SIMD loop over contiguous memory: the reference for memory bandwidth
(no C is compiled at run time).  Cases whose ember op does not exist yet
(``ember.sum``, ``ember.matmul``) are listed as skipped.

Run as a script, it removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the
environment before NumPy or PyTorch load (it re-executes itself without
them): they pin OpenBLAS to an older, slower kernel.  Imported as a module
(``main(argv)``), it leaves the environment alone.

Usage::

    python tools/bench_compare.py [--quick] [--filter NAME] [--threads N]
"""
import os
import sys

_PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(var in os.environ for var in _PINNING_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _PINNING_VARS}
    print("bench_compare: re-running without " + ", ".join(
        f"{k}={os.environ[k]}" for k in _PINNING_VARS if k in os.environ), file=sys.stderr)
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], _env)

import argparse  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Callable, Optional  # noqa: E402

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402

LARGE = 10_000_000
SMALL_BATCH_NS = 200_000  # a timed batch of small calls lasts at least this long


@dataclass
class Case:
    """One operation, with a builder per library returning a zero-argument callable."""

    name: str
    ember: Callable[[], Callable[[], object]]
    numpy: Optional[Callable[[], Callable[[], object]]]  # None: NumPy has no such op
    torch: Callable[[], Callable[[], object]]
    large: bool = False
    bytes_moved: int = 0  # bytes read and written per call, for GB/s
    needs: Optional[str] = None  # ember attribute that must exist


LIBRARIES = {"ember": ember, "numpy": np, "torch": torch}


def _operands(shape, library, dtype=np.float32):
    """Two operands of ``shape`` (float32 by default) in the library's own (aligned) memory."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape, dtype=dtype)
    b = rng.standard_normal(shape, dtype=dtype)
    if library == "numpy":
        return a, b
    module = LIBRARIES[library]
    return module.from_numpy(a).clone(), module.from_numpy(b).clone()


def _op(fn, library):
    """``fn`` itself, or its entry for ``library`` when given one per library."""
    return fn[library] if isinstance(fn, dict) else fn


def _binary(fn, shape, other_shape=None, dtype=np.float32):
    """Builders for ``fn(a, b)``; ``b`` of ``other_shape`` if given (broadcasting)."""
    def build(library):
        def make():
            a, _ = _operands(shape, library, dtype)
            _, b = _operands(other_shape or shape, library, dtype)
            f = _op(fn, library)
            return lambda: f(a, b)
        return make
    return build


def _unary(fn, shape):
    def build(library):
        def make():
            a, _ = _operands(shape, library)
            f = _op(fn, library)
            return lambda: f(a)
        return make
    return build


def _nullary(fn):
    def build(library):
        return lambda: _op(fn, library)
    return build


def _with_out(name, shape):
    """Builders for ``name(a, b, out=c)``, or ``name(a, out=c)`` for ``exp``."""
    def build(library):
        def make():
            a, b = _operands(shape, library)
            module = LIBRARIES[library]
            fn = getattr(module, {"mul": "multiply"}.get(name, name) if library == "numpy" else name)
            out = module.empty_like(a)
            if name == "exp":
                return lambda: fn(a, out=out)
            return lambda: fn(a, b, out=out)
        return make
    return build


def _indexing(fn, shape):
    """Builders for ``fn(x, idx, mask)``: ``x`` float32 of ``shape``, ``idx`` int64 positions
    along the first dimension, ``mask`` the boolean ``x > 0``."""
    def build(library):
        def make():
            x, _ = _operands(shape, library)
            idx = np.random.default_rng(1).integers(0, shape[0], size=shape[0])
            if library != "numpy":
                idx = LIBRARIES[library].from_numpy(idx)
            mask = x > 0
            f = _op(fn, library)
            return lambda: f(x, idx, mask)
        return make
    return build


def _solve_case(fn, batch, n):
    """``fn(A, B)`` on ``batch`` diagonally dominant ``n x n`` systems (float32)."""
    def build(library):
        rng = np.random.default_rng(0)
        a = (rng.standard_normal((batch, n, n)) + n * np.eye(n)).astype(np.float32)
        b = rng.standard_normal((batch, n, 1)).astype(np.float32)
        if batch == 1:
            a, b = a[0], b[0]
        convert = {"ember": ember.from_numpy, "torch": torch.from_numpy,
                   "numpy": lambda x: x}[library]
        def make():
            call, A, B = fn[library], convert(a), convert(b)
            return lambda: call(A, B)
        return make
    return build


def _cases():
    add = lambda a, b: a + b  # noqa: E731
    mul = lambda a, b: a * b  # noqa: E731
    exp = {"ember": ember.exp, "numpy": np.exp, "torch": torch.exp}
    zeros = {"ember": lambda: ember.zeros((4,)), "torch": lambda: torch.zeros((4,)),
             "numpy": lambda: np.zeros((4,), dtype=np.float32)}
    cases = []

    def case(name, build, **kw):
        cases.append(Case(name, build("ember"), build("numpy"), build("torch"), **kw))

    # small elementwise: call overhead
    case("a + b (4,)", _binary(add, (4,)))
    case("a + b (64,64)", _binary(add, (64, 64)))
    case("a + b (64,64)+(64,) broadcast", _binary(add, (64, 64), (64,)))
    case("a * b (64,64)", _binary(mul, (64, 64)))
    case("exp(a) (64,64)", _unary(exp, (64, 64)))
    # views and creation
    case("x[1:3] (64,64)", _unary(lambda x: x[1:3], (64, 64)))
    case("x.T (64,64)", _unary(lambda x: x.T, (64, 64)))
    case("x.reshape(-1) (64,64)", _unary(lambda x: x.reshape(-1), (64, 64)))
    case("zeros((4,))", _nullary(zeros))
    # reductions and matmul, once ember has them
    case("x.sum() (64,64)", _unary(lambda x: x.sum(), (64, 64)), needs="sum")
    case("x.sum(0) (64,64)", _unary(lambda x: x.sum(0), (64, 64)), needs="sum")
    case("a @ b (64,64)", _binary(lambda a, b: a @ b, (64, 64)), needs="matmul")
    # indexing and joining
    cat = {"ember": lambda a, b: ember.cat([a, b]), "torch": lambda a, b: torch.cat([a, b]),
           "numpy": lambda a, b: np.concatenate([a, b])}
    case("x[idx] (64,64)", _indexing(lambda x, i, m: x[i], (64, 64)))
    case("x[:, idx] (64,64)", _indexing(lambda x, i, m: x[:, i], (64, 64)))
    case("x[mask] (64,64)", _indexing(lambda x, i, m: x[m], (64, 64)))
    case("x[idx] = 0 (64,64)", _indexing(lambda x, i, m: x.__setitem__(i, 0.0), (64, 64)))
    case("cat([a, b]) (64,64)", _binary(cat, (64, 64)))

    # large: memory bandwidth (bytes read + written per call)
    nbytes = 4 * LARGE
    case("a + b 1e7", _binary(add, (LARGE,)), large=True, bytes_moved=3 * nbytes)
    case("add(a, b, out=) 1e7", _with_out("add", (LARGE,)), large=True, bytes_moved=3 * nbytes)
    case("a * b 1e7", _binary(mul, (LARGE,)), large=True, bytes_moved=3 * nbytes)
    case("mul(a, b, out=) 1e7", _with_out("mul", (LARGE,)), large=True, bytes_moved=3 * nbytes)
    case("exp(a) 1e7", _unary(exp, (LARGE,)), large=True, bytes_moved=2 * nbytes)
    case("exp(a, out=) 1e7", _with_out("exp", (LARGE,)), large=True, bytes_moved=2 * nbytes)
    case("x.T + y (2500x4000)", _binary(lambda a, b: a.T + b, (4000, 2500), (2500, 4000)),
         large=True, bytes_moved=3 * nbytes)
    transposed_copy = {"ember": lambda a: a.T.contiguous(), "torch": lambda a: a.T.contiguous(),
                       "numpy": lambda a: np.ascontiguousarray(a.T)}
    case("x.T.contiguous() (2500x4000)", _unary(transposed_copy, (4000, 2500)), large=True,
         bytes_moved=2 * nbytes)
    case("x.clone() (2500x4000)", _unary({"ember": lambda a: a.clone(), "torch": lambda a: a.clone(),
                                          "numpy": lambda a: a.copy()}, (4000, 2500)),
         large=True, bytes_moved=2 * nbytes)
    # rows of a power-of-two stride: the tile rows compete for a few cache sets
    case("x.T + y (1024x1024)", _binary(lambda a, b: a.T + b, (1024, 1024)))
    case("x.T.contiguous() (1024x1024)", _unary(transposed_copy, (1024, 1024)))
    case("x.sum() 1e7", _unary(lambda x: x.sum(), (LARGE,)), large=True, bytes_moved=nbytes,
         needs="sum")
    square = (4096, 4096)
    for axis in (0, 1):
        case(f"x.sum({axis}) (4096,4096)", _unary(lambda x, axis=axis: x.sum(axis), square),
             large=True, bytes_moved=4 * square[0] * square[1], needs="sum")
    # short rows (per-row setup) and a select-combining fold across rows
    case("x.sum(1) (4096,256)", _unary(lambda x: x.sum(1), (4096, 256)), needs="sum")
    amax = {"ember": lambda x, d: x.amax(d), "torch": lambda x, d: x.amax(d),
            "numpy": lambda x, d: x.max(d)}
    for dim, shape in ((1, (4096, 256)), (0, (1024, 1024))):
        case(f"x.amax({dim}) ({shape[0]},{shape[1]})",
             _unary({lib: (lambda f, d=dim: lambda x: f(x, d))(f) for lib, f in amax.items()}, shape),
             needs="sum")
    for n in (256, 1024, 2048):
        for dtype in (np.float32, np.float64):
            suffix = "" if dtype is np.float32 else " float64"
            case(f"a @ b ({n},{n}){suffix}", _binary(lambda a, b: a @ b, (n, n), dtype=dtype),
                 large=True, needs="matmul")
    case("x[idx] (2500x4000)", _indexing(lambda x, i, m: x[i], (2500, 4000)), large=True,
         bytes_moved=2 * nbytes)
    case("x[mask] 1e7", _indexing(lambda x, i, m: x[m], (LARGE,)), large=True)
    case("cat([a, b]) 1e7", _binary(cat, (LARGE // 2,)), large=True, bytes_moved=2 * nbytes)
    # sorting and contraction: rows of 4096, a batched product written as einsum
    # sort returns values and positions: NumPy's column is argsort and the gather (its
    # np.sort, values only, is a vectorised quicksort that has no positions to move)
    sort_rows = {"ember": lambda a: ember.sort(a, -1),
                 "numpy": lambda a: (lambda i: (np.take_along_axis(a, i, -1), i))(np.argsort(a, -1)),
                 "torch": lambda a: torch.sort(a, -1)}
    # NumPy has no top-k: its column is the partition that a top-k is built on
    top10 = {"ember": lambda a: ember.topk(a, 10), "torch": lambda a: torch.topk(a, 10),
             "numpy": lambda a: np.partition(a, -10, -1)[..., -10:]}
    einsum = {name: (lambda lib: lambda a, b: lib.einsum("bij,bjk->bik", a, b))(lib)
              for name, lib in LIBRARIES.items()}
    top1000 = {"ember": lambda a: ember.topk(a, 1000), "torch": lambda a: torch.topk(a, 1000),
               "numpy": lambda a: np.partition(a, -1000, -1)[..., -1000:]}
    cumsum = {"ember": lambda a: ember.cumsum(a, 0), "numpy": lambda a: np.cumsum(a, 0),
              "torch": lambda a: torch.cumsum(a, 0)}
    case("sort 1e6", _unary(sort_rows, (10 ** 6,)), large=True)
    case("topk(10) 1e6", _unary(top10, (10 ** 6,)), large=True)
    case("topk(1000) 1e6", _unary(top1000, (10 ** 6,)), large=True)
    case("sort (256,4096) dim -1", _unary(sort_rows, (256, 4096)), large=True)
    case("topk(10) (256,4096)", _unary(top10, (256, 4096)), large=True)
    case("cumsum 1e7", _unary(cumsum, (LARGE,)), large=True, bytes_moved=2 * nbytes)
    case("einsum bij,bjk (16,64,64)", _binary(einsum, (16, 64, 64)))
    case("einsum bij,bjk (64,128,128)", _binary(einsum, (64, 128, 128)), large=True)
    # Fourier transforms: one long real signal
    rfft = {name: (lambda lib: lambda a: lib.fft.rfft(a))(lib) for name, lib in LIBRARIES.items()}
    case("fft.rfft 2**20", _unary(rfft, (2 ** 20,)), large=True)
    # linear solves: one well-conditioned 256x256 system, and many 8x8 ones
    solve = {"ember": lambda a, b: ember.linalg.solve(a, b),
             "numpy": lambda a, b: np.linalg.solve(a, b),
             "torch": lambda a, b: torch.linalg.solve(a, b)}
    case("linalg.solve (256,256),(256,1)", _solve_case(solve, 1, 256), large=True)
    case("linalg.solve (1000,8,8),(1000,8,1)", _solve_case(solve, 1000, 8), large=True)
    # autograd: recording, the engine, and the no-grad path with grad-requiring tensors
    def autograd_case(name, build, **kw):
        cases.append(Case(name, build(ember), None, build(torch), **kw))

    autograd_case("grad: chain of 100 ops fwd+bwd", _chain)
    autograd_case("grad: record a + b (4,)", _record_add)
    autograd_case("grad: a + b (4,) under no_grad", _no_grad_add)
    autograd_case("grad: a @ b (1024,1024) fwd", _matmul_grad(False), large=True)
    autograd_case("grad: a @ b (1024,1024) fwd+bwd", _matmul_grad(True), large=True)
    # fused nn kernels: forward + backward of one functional call
    autograd_case("nn: layer_norm fwd+bwd (2048,128)", _nn_step(
        lambda F, x, w, b: F.layer_norm(x, (128,), w, b), (2048, 128), (128,), (128,)),
        large=True)
    autograd_case("nn: batch_norm2d fwd+bwd (64,32,26,26)", _nn_step(
        lambda F, x, w, b: F.batch_norm(x, None, None, w, b, True), (64, 32, 26, 26), (32,),
        (32,)), large=True)
    autograd_case("nn: cross_entropy fwd+bwd (512,10)", _nn_step(
        lambda F, x, t: F.cross_entropy(x, t), (512, 10), ("classes", 512, 10)), large=True)
    autograd_case("nn: cross_entropy fwd+bwd (2048,1000)", _nn_step(
        lambda F, x, t: F.cross_entropy(x, t), (2048, 1000), ("classes", 2048, 1000)),
        large=True)
    autograd_case("nn: cross_entropy fwd+bwd (8,21,64,64)", _nn_step(
        lambda F, x, t: F.cross_entropy(x, t), (8, 21, 64, 64), ("classes", (8, 64, 64), 21)),
        large=True)
    autograd_case("nn: embedding fwd+bwd (10000,64)[4096]", _nn_step(
        lambda F, w, i: F.embedding(i, w), (10000, 64), ("classes", 4096, 10000)), large=True)
    # pooling: a LeNet-sized activation, forward and forward + backward
    for pool in ("max_pool2d", "avg_pool2d"):
        for backward in (False, True):
            autograd_case(f"{pool} (64,64,24,24) k2 fwd" + ("+bwd" if backward else ""),
                          _pool_case(pool, backward), large=True)
    # grid sampling: a spatial transformer's warp along an affine grid, forward + backward
    for mode in ("bilinear", "nearest", "bicubic"):
        autograd_case(f"grid_sample {mode} (8,16,64,64) fwd+bwd", _grid_sample_case(mode, 2),
                      large=True)
    autograd_case("grid_sample trilinear (2,8,16,32,32) fwd+bwd",
                  _grid_sample_case("bilinear", 3), large=True)
    # convolutions: the two layers of the LeNet training benchmark, forward + backward
    autograd_case("conv2d 1->32 3x3 28x28 b64 fwd+bwd", _conv_grad(1, 32, 28, False), large=True)
    autograd_case("conv2d 32->64 3x3 26x26 b64 fwd+bwd", _conv_grad(32, 64, 26, True),
                  large=True)
    # activations and softmax: forward + backward with a dense output gradient
    for name in ("relu", "gelu", "silu", "softmax"):
        autograd_case(f"nn: {name} fwd+bwd (2048,512)", _activation_step(name), large=True)
    return cases


def _activation_step(name):
    """``F.<name>(x).backward(g)`` on (2048, 512) float32 (softmax along the last dim)."""
    def build(lib):
        functional = lib.nn.functional
        fn = getattr(functional, name)

        def make():
            gen = np.random.default_rng(0)
            x = lib.tensor(gen.standard_normal((2048, 512), dtype=np.float32), requires_grad=True)
            grad = lib.tensor(gen.standard_normal((2048, 512), dtype=np.float32))

            def run():
                out = fn(x, -1) if name == "softmax" else fn(x)
                out.backward(grad)
                x.grad = None
            return run
        return make
    return build


def _nn_step(fn, *shapes):
    """``fn(functional, *tensors).sum().backward()``; a shape ``("classes", n, c)`` is an
    int64 tensor of ``n`` (an int or a shape) indices below ``c`` (no gradient), others
    float32 leaves."""
    def build(lib):
        functional = lib.nn.functional

        def make():
            gen = np.random.default_rng(0)
            tensors = [lib.tensor(gen.integers(0, s[2], s[1])) if s[0] == "classes" else
                       lib.tensor(gen.standard_normal(s, dtype=np.float32), requires_grad=True)
                       for s in shapes]

            def run():
                functional_out = fn(functional, *tensors)
                functional_out.sum().backward()
                for t in tensors:
                    t.grad = None
            return run
        return make
    return build


def _pool_case(pool, backward):
    def build(lib):
        def make():
            functional = lib.nn.functional
            gen = np.random.default_rng(0)
            x = lib.tensor(gen.standard_normal((64, 64, 24, 24), dtype=np.float32),
                           requires_grad=backward)
            g = lib.ones(64, 64, 12, 12)

            def run():
                out = getattr(functional, pool)(x, 2)
                if backward:
                    out.backward(g)
                    x.grad = None
            return run
        return make
    return build


def _grid_sample_case(mode, spatial):
    """``grid_sample(x, grid).backward(g)`` along a near-identity affine grid, with the
    gradients of the input and of the grid."""
    size = (8, 16, 64, 64) if spatial == 2 else (2, 8, 16, 32, 32)

    def build(lib):
        def make():
            functional = lib.nn.functional
            gen = np.random.default_rng(0)
            theta = (np.eye(spatial, spatial + 1) * 0.9 + 0.05).astype(np.float32)
            grid = functional.affine_grid(lib.tensor(np.stack([theta] * size[0])), size,
                                          align_corners=False).requires_grad_()
            x = lib.tensor(gen.standard_normal(size, dtype=np.float32), requires_grad=True)
            g = lib.ones(size)

            def run():
                functional.grid_sample(x, grid, mode=mode, align_corners=False).backward(g)
                x.grad = grid.grad = None
            return run
        return make
    return build


def _conv_grad(in_channels, out_channels, size, input_grad):
    """``conv2d`` of a batch of 64 with a 3x3 kernel and bias, then backward to the weight,
    the bias and (with ``input_grad``) the input."""
    def build(lib):
        def make():
            gen = np.random.default_rng(0)
            x = lib.tensor(gen.standard_normal((64, in_channels, size, size), dtype=np.float32),
                           requires_grad=input_grad)
            w = lib.tensor(gen.standard_normal((out_channels, in_channels, 3, 3),
                                               dtype=np.float32), requires_grad=True)
            b = lib.zeros(out_channels, requires_grad=True)
            g = lib.ones(64, out_channels, size - 2, size - 2)

            def run():
                lib.nn.functional.conv2d(x, w, b).backward(g)
                x.grad = w.grad = b.grad = None
            return run
        return make
    return build


def _chain(lib):
    """``x = x * 1.0001 + 0.0001`` 100 times on shape (8,), then backward."""
    def make():
        x0 = lib.ones(8, requires_grad=True)

        def run():
            x = x0
            for _ in range(100):
                x = x * 1.0001 + 0.0001
            x.sum().backward()
        return run
    return make


def _record_add(lib):
    def make():
        a = lib.ones(4, requires_grad=True)
        b = lib.ones(4, requires_grad=True)
        return lambda: a + b
    return make


def _no_grad_add(lib):
    def make():
        a = lib.ones(4, requires_grad=True)
        b = lib.ones(4, requires_grad=True)

        def run():
            with lib.no_grad():
                return a + b
        return run
    return make


def _matmul_grad(backward):
    def build(lib):
        def make():
            gen = np.random.default_rng(0)
            a = lib.tensor(gen.standard_normal((1024, 1024), dtype=np.float32),
                           requires_grad=True)
            b = lib.tensor(gen.standard_normal((1024, 1024), dtype=np.float32),
                           requires_grad=True)
            g = lib.ones(1024, 1024)

            def run():
                c = a @ b
                if backward:
                    c.backward(g)
                    a.grad = b.grad = None
            return run
        return make
    return build


def _set_threads(n):
    ember.set_num_threads(n)
    torch.set_num_threads(n)
    threadpoolctl.threadpool_limits(n)


WORKERS_IDLE_S = 0.1


def _cpu_median_ns(fn, repeats):
    """Median CPU time per call of this thread, over ``repeats`` batches."""
    fn()
    batch = 1
    while True:  # grow the batch until it is long enough to time
        start = time.thread_time_ns()
        for _ in range(batch):
            fn()
        elapsed = time.thread_time_ns() - start
        if elapsed >= SMALL_BATCH_NS or batch >= 1 << 20:
            break
        batch *= 4
    samples = []
    for _ in range(repeats):
        start = time.thread_time_ns()
        for _ in range(batch):
            fn()
        samples.append((time.thread_time_ns() - start) / batch)
    return statistics.median(samples)


def _wall_median_ns(fn, repeats):
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples)


def _measure(case, threads, repeats, clock):
    """``{library: median ns}`` for one case at one thread count."""
    _set_threads(threads)
    timer = _cpu_median_ns if clock == "cpu" else _wall_median_ns
    result = {}
    for library in ("ember", "numpy", "torch"):
        if getattr(case, library) is None:
            result[library] = None
            continue
        fn = getattr(case, library)()
        gc.collect()
        if clock == "wall":
            # OpenMP and OpenBLAS workers busy-wait for milliseconds after their last
            # parallel region: let the previous library's go idle, or they take a core
            # from this one (the two-thread rows came out up to 2x slow either way)
            time.sleep(WORKERS_IDLE_S)
        gc.disable()
        try:
            result[library] = timer(fn, repeats)
        finally:
            gc.enable()
        del fn
    return result


def _fmt_time(ns):
    if ns is None:
        return "--"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"


def _fmt_ratio(numerator, denominator):
    return "--" if numerator is None else f"{numerator / denominator:.2f}x"


HEADER = (f"{'case':<32}{'threads':>8}{'clock':>7}{'ember':>11}{'numpy':>11}{'torch':>11}"
          f"{'numpy/ember':>13}{'torch/ember':>13}{'ember GB/s':>12}")


def _row(case, threads, clock, t):
    bandwidth = f"{case.bytes_moved / t['ember']:.1f}" if case.bytes_moved else ""
    return (f"{case.name:<32}{threads:>8}{clock:>7}{_fmt_time(t['ember']):>11}"
            f"{_fmt_time(t['numpy']):>11}{_fmt_time(t['torch']):>11}"
            f"{_fmt_ratio(t['numpy'], t['ember']):>13}{_fmt_ratio(t['torch'], t['ember']):>13}"
            f"{bandwidth:>12}")


def _environment():
    blas = [f"{m['internal_api']} {m.get('version')} ({m.get('architecture')})"
            for m in threadpoolctl.threadpool_info() if m["user_api"] == "blas"]
    return (f"ember {ember.__version__}, numpy {np.__version__}, torch {torch.__version__}, "
            f"{os.cpu_count()} CPUs; BLAS: {'; '.join(blas) or 'none loaded'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (noisier medians)")
    parser.add_argument("--filter", metavar="NAME", default="",
                        help="only cases whose name contains NAME (case-insensitive)")
    parser.add_argument("--threads", type=int, default=2,
                        help="thread count of the multi-threaded runs of large ops (default 2)")
    args = parser.parse_args(argv)

    small_repeats, large_repeats = (7, 3) if args.quick else (31, 11)
    cases = [c for c in _cases() if args.filter.lower() in c.name.lower()]
    if not cases:
        parser.error(f"no case matches {args.filter!r}")

    print(_environment())
    print(f"medians of {small_repeats} (small) / {large_repeats} (large) repeats; "
          "clock 'cpu' = time.thread_time_ns per call on 1 thread, 'wall' = perf_counter_ns")
    print("ratios above 1: ember faster.  numpy's out= rows are a plain C loop "
          "(np.add(a, b, out=c)): the bandwidth reference")
    print()
    print(HEADER)
    print("-" * len(HEADER))
    saved_threads = ember.get_num_threads(), torch.get_num_threads()
    blas_limits = threadpoolctl.threadpool_limits(limits=None)  # to restore BLAS threads
    try:
        # the first timed case would otherwise also pay for warming caches, branch
        # predictors and the CPU clock: measure the first case once and discard it
        _measure(cases[0], 1, small_repeats, "cpu")
        for case in cases:
            if case.needs and not hasattr(ember, case.needs):
                print(f"{case.name:<32}  skipped: ember.{case.needs} does not exist yet")
                continue
            repeats = large_repeats if case.large else small_repeats
            print(_row(case, 1, "cpu", _measure(case, 1, repeats, "cpu")), flush=True)
            if case.large and args.threads > 1:
                t = _measure(case, args.threads, repeats, "wall")
                print(_row(case, args.threads, "wall", t), flush=True)
    finally:
        ember.set_num_threads(saved_threads[0])
        torch.set_num_threads(saved_threads[1])
        blas_limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
