"""Random, mostly malformed calls at the reduction, index, join, matmul and random APIs.

Same contract as test_fuzz.py: every call raises a clean exception of PyTorch's
classes or returns a well-formed tensor; a crash kills the run.  Seeded.
"""
import ember
from test_fuzz import run_fuzz

SEED = 20261126
N_CALLS = 3000

REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "max", "min", "var",
              "std", "norm", "logsumexp", "all", "any", "cumsum", "softmax", "log_softmax"]


def _dim(f, t):
    r = f.rng.random()
    if r < 0.2:
        return None
    if r < 0.75:
        return f.rng.randint(-t.dim() - 1, max(t.dim(), 1))
    if r < 0.9:
        return tuple(f.rng.randint(-t.dim() - 1, t.dim()) for _ in range(f.rng.randint(0, 3)))
    return f.choice([1.5, "a", [0], 2**63, -2**70])


def _index_tensor(f, t, dim):
    size = t.shape[dim] if t.dim() and -t.dim() <= dim < t.dim() else 2
    n = f.choice([0, 1, 2, 3, 5])
    values = [f.rng.randint(-size - 2, size + 2) for _ in range(n)]
    idx = ember.tensor(values, dtype=f.choice([ember.int64, ember.int64, ember.int32, ember.float32,
                                                ember.bool, ember.uint8]))
    if f.rng.random() < 0.3 and t.dim() > 0:
        shape = list(t.shape)
        shape[dim if -t.dim() <= dim < t.dim() else 0] = n
        idx = ember.randint(-size - 1, size + 1, tuple(shape)) if n else idx
    return idx


def _calls(f):
    rng = f.rng
    t = f.tensor()
    kind = rng.randrange(6)
    if kind == 0:
        name = f.choice(REDUCTIONS)
        kwargs = {}
        if rng.random() < 0.7:
            kwargs["dim"] = _dim(f, t)
        if rng.random() < 0.4 and name not in ("softmax", "log_softmax", "cumsum"):
            kwargs["keepdim"] = f.choice([True, False, 1, None])
        if rng.random() < 0.2 and name in ("sum", "cumsum", "softmax", "log_softmax", "norm", "prod"):
            kwargs["dtype"] = f.dtype()
        if name in ("softmax", "log_softmax", "cumsum", "logsumexp") and "dim" not in kwargs:
            kwargs["dim"] = _dim(f, t)
        return f"ember.{name}(t{tuple(t.shape)} {t.dtype}, {kwargs})", \
            lambda: getattr(ember, name)(t, **kwargs)
    if kind == 1:
        name = f.choice(["index_select", "gather", "scatter", "scatter_add", "index_put",
                         "masked_fill", "nonzero"])
        dim = f.rng.randint(-t.dim() - 1, max(t.dim(), 1))
        idx = _index_tensor(f, t, dim)
        if name == "index_select":
            return f"index_select(dim={dim}, {idx})", lambda: ember.index_select(t, dim, idx.flatten())
        if name == "gather":
            return f"gather(dim={dim}, {idx.shape})", lambda: ember.gather(t, dim, idx)
        if name in ("scatter", "scatter_add"):
            src = f.choice([f.tensor(), f.scalar(), ember.ones(idx.shape, dtype=t.dtype)])
            fn = getattr(ember, name)
            return f"{name}(dim={dim}, {idx.shape}, {src!r})", lambda: fn(t, dim, idx, src)
        if name == "index_put":
            values = f.choice([f.scalar(), f.tensor(), ember.zeros(idx.shape, dtype=t.dtype)])
            acc = f.choice([True, False])
            return f"index_put(({idx},), {values!r}, {acc})", \
                lambda: t.index_put((idx,), values, accumulate=acc)
        if name == "masked_fill":
            mask = f.choice([t > 0 if t.dtype not in (ember.complex64, ember.complex128) else t == 0,
                             ember.tensor([True, False]), f.tensor()])
            value = f.choice([f.scalar(), ember.tensor(1.5), f.tensor()])
            return f"masked_fill({mask.shape}, {value!r})", lambda: t.masked_fill(mask, value)
        return "nonzero", lambda: ember.nonzero(t, as_tuple=f.choice([True, False]))
    if kind == 2:
        name = f.choice(["cat", "stack"])
        parts = [f.choice([t, f.tensor(), t.clone()]) for _ in range(rng.randint(0, 3))]
        dim = f.int_()
        return f"{name}({[tuple(p.shape) for p in parts]}, {dim})", \
            lambda: getattr(ember, name)(parts, dim)
    if kind == 3:
        name = f.choice(["matmul", "mm", "bmm", "mv", "dot", "outer", "addmm"])
        other = f.choice([f.tensor(), t.transpose(0, -1) if t.dim() >= 2 else t, t])
        if name == "addmm":
            third = f.tensor()
            return f"addmm({t.shape}, {other.shape}, {third.shape})", \
                lambda: ember.addmm(t, other, third, beta=f.choice([0, 1, 2.5]), alpha=f.choice([1, -1]))
        return f"{name}({t.shape} {t.dtype}, {other.shape} {other.dtype})", \
            lambda: getattr(ember, name)(t, other)
    if kind == 4:
        name = f.choice(["rand", "randn", "randint", "randperm"])
        size = f.bad_shape() if rng.random() < 0.3 else f.shape()
        kwargs = {"dtype": f.dtype()} if rng.random() < 0.4 else {}
        if rng.random() < 0.2:
            kwargs["generator"] = f.choice([ember.Generator(), "g", None, 3])
        if name == "randint":
            lo, hi = f.int_(), f.int_()
            return f"randint({lo}, {hi}, {size}, {kwargs})", lambda: ember.randint(lo, hi, size, **kwargs)
        if name == "randperm":
            n = f.int_()
            return f"randperm({n}, {kwargs})", lambda: ember.randperm(n, **kwargs)
        return f"{name}({size}, {kwargs})", lambda: getattr(ember, name)(*size, **kwargs)
    name = f.choice(["uniform_", "normal_", "random_", "bernoulli_", "exponential_"])
    args = tuple(f.choice([f.scalar(), f.int_()]) for _ in range(rng.randint(0, 2)))
    return f"t.{name}{args} on {t.shape} {t.dtype} {t.stride()}", lambda: getattr(t, name)(*args)


def test_random_malformed_op_calls_fail_cleanly():
    run_fuzz(_calls, SEED, N_CALLS)
