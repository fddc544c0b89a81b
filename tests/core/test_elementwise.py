"""Every elementwise op of the op table against NumPy values and PyTorch semantics.

The ops are read from ``elementwise.toml`` (through ``ember.ops.elementwise.TABLE``),
so an op added to the table is tested here without editing this file: its
reference is the NumPy function below or, failing that, ``torch.<name>``.
"""
import itertools
import math
import warnings
import zlib

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings, strategies as st

import ember
from ember._core._tensor import ew, op_id
from ember.ops.elementwise import TABLE

from core_oracle import RTOL, compare_outcomes, np_of, outcome

import torch
F = torch.nn.functional

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
         "float32", "float64", "complex64", "complex128"]
KIND_OF = {"bool": "b", "uint8": "u", "int8": "i", "int16": "i", "int32": "i", "int64": "i",
           "float16": "f", "bfloat16": "f", "float32": "f", "float64": "f",
           "complex64": "c", "complex128": "c"}
DIVISION_OPS = {"div", "floor_divide", "remainder", "fmod"}
NP_TYPES = {n: np.dtype(n) for n in NAMES if n != "bfloat16"}
NP_TYPES["bfloat16"] = ember.bfloat16.numpy_dtype


def _category(name):
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[KIND_OF[name]]


def supports(op, name):
    """Whether op `op` computes on `name` inputs (directly or by promotion to float)."""
    spec = TABLE[op]
    if KIND_OF[name] in spec["kinds"]:
        return True
    return spec.get("promote") == "float" and _category(name) < 2 and "f" in spec["kinds"]


def ember_fn(op):
    if op == "gelu_tanh":
        return lambda x, **kw: ember.gelu(x, approximate="tanh", **kw)
    fn = getattr(ember, op, None)
    if fn is None:  # ops without a public function are reached through the engine
        num = op_id(op)
        return lambda *args, **kw: ew(num, *args, **kw)
    return fn


TORCH_FN = {"gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "gelu": F.gelu, "silu": F.silu}


def torch_fn(op):
    return TORCH_FN.get(op) or getattr(torch, op)


def _sigmoid(x):
    return scipy.special.expit(x) if x.dtype.kind != "c" else 1 / (1 + np.exp(-x))


# NumPy value references, applied to inputs upcast to float64/complex128 when the result
# is floating (integer results are computed in the input dtype, wrapping like C).
NUMPY_REF = {
    "neg": np.negative, "abs": np.abs, "reciprocal": lambda x: 1 / x, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "exp": np.exp, "expm1": np.expm1, "log": np.log,
    "log1p": np.log1p, "log2": np.log2, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": _sigmoid, "erf": scipy.special.erf, "floor": np.floor, "ceil": np.ceil,
    "trunc": np.trunc, "round": np.round, "relu": lambda x: np.maximum(x, np.zeros((), x.dtype)),
    "gelu": lambda x: 0.5 * x * (1 + scipy.special.erf(x / math.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "silu": lambda x: x * _sigmoid(x), "isnan": np.isnan, "isinf": np.isinf,
    "isfinite": np.isfinite, "logical_not": np.logical_not, "bitwise_not": np.invert,
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "floor_divide": np.floor_divide, "remainder": np.remainder, "minimum": np.minimum,
    "maximum": np.maximum, "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal, "logical_and": np.logical_and,
    "logical_or": np.logical_or, "logical_xor": np.logical_xor, "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor, "where": np.where,
    "clamp": lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    "pow": np.power,
}
# NumPy differs from PyTorch here: sign(NaN) is 0 in PyTorch, integer pow wraps there
TORCH_REF = {"sign"}


def _torch_of(a):
    """A torch tensor with the values of NumPy array `a` (any strides, bfloat16 too)."""
    a = np.array(a, order="C")
    if a.dtype == NP_TYPES["bfloat16"]:
        return torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(a.copy())


def expected_dtype(op, name):
    """The result dtype PyTorch gives for `op` on `name` inputs."""
    args = [torch.ones(2, dtype=getattr(torch, name)) for _ in range(TABLE[op]["arity"])]
    if op == "where":
        args[0] = args[0].bool()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(torch_fn(op)(*args).dtype).replace("torch.", "")


def reference(op, arrays, out_name):
    if op in TORCH_REF or op not in NUMPY_REF or (op == "pow" and _category(out_name) < 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = torch_fn(op)(*[_torch_of(a) for a in arrays])
        if r.dtype in (torch.float16, torch.bfloat16):
            r = r.double()
        return r.resolve_conj().numpy()
    if _category(out_name) >= 2 or (out_name == "bool" and any(a.dtype.kind == "f" or a.dtype ==
                                                               NP_TYPES["bfloat16"] for a in arrays)):
        wide = [a if a.dtype == np.bool_ and op == "where" and i == 0 else
                a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
                if a.dtype != np.bool_ or _category(out_name) >= 2 else a
                for i, a in enumerate(arrays)]
        arrays = wide
    with np.errstate(all="ignore"):
        return np.asarray(NUMPY_REF[op](*arrays))


def assert_values(got, want, name):
    """`got` (ember) equals `want` (NumPy): exactly for bool/int, within the dtype's tolerance else."""
    g = np_of(got)
    want = np.asarray(want)
    assert g.shape == want.shape
    if _category(name) < 2:
        np.testing.assert_array_equal(g, want.astype(g.dtype))
        return
    rtol = RTOL[name]
    scale = np.abs(want[np.isfinite(want)]).max() if np.isfinite(want).any() else 1.0
    np.testing.assert_allclose(g, want, rtol=rtol, atol=rtol * (1 + scale), equal_nan=True)
    # infinities must have the right sign
    inf = np.isinf(want.real) if want.dtype.kind == "c" else np.isinf(want)
    if inf.any():
        np.testing.assert_array_equal((g.real if g.dtype.kind == "c" else g)[inf],
                                      (want.real if want.dtype.kind == "c" else want)[inf])


def values(op, name, shape, rng, arg=0):
    """Random NumPy inputs of dtype `name` for argument `arg` of `op` (no zero divisors)."""
    kind = KIND_OF[name]
    if op == "where" and arg == 0:
        return rng.random(shape) < 0.5
    if kind == "b":
        a = rng.random(shape) < 0.5
    elif kind == "u":
        a = rng.integers(0, 21, shape)
    elif kind == "i":
        a = rng.integers(-20, 21, shape)
    else:
        a = rng.integers(-64, 65, shape) / 8.0
        if kind == "c":
            a = a + 1j * (rng.integers(-64, 65, shape) / 8.0)
    if (op in DIVISION_OPS and arg == 1) or (op == "pow" and arg == 0 and kind == "c"):
        a = np.where(a == 0, 3 if kind in "ui" else 1.5, a)
    if op == "pow" and arg == 1 and kind in "ui":
        a = np.abs(a) % 7
    if op == "pow" and arg == 1 and kind in "fc":
        a = a / 4
    return np.asarray(a).astype(NP_TYPES[name])


def ember_of(a):
    if a.dtype == NP_TYPES["bfloat16"]:
        return ember.tensor(a.astype(np.float32)).to(ember.bfloat16)
    return ember.tensor(a)


# Layouts: each maps a list of base NumPy arrays (made with the shapes given) to the
# arrays the op sees, and the same for ember tensors.
LAYOUTS = {
    "contiguous": ([(3, 4)] * 3, lambda xs, lib: xs),
    "transposed": ([(4, 3)] * 3, lambda xs, lib: [x.T for x in xs]),
    "negative_step": ([(5, 6)] * 3, lambda xs, lib: [x[::-1, ::-2] for x in xs]),
    "expanded": ([(1, 4)] * 3, lambda xs, lib: [
        x.expand(3, 4) if lib == "ember" else np.broadcast_to(x, (3, 4)) for x in xs]),
    "broadcast": ([(3, 1, 4), (2, 1), (4,)], lambda xs, lib: xs),
    "empty": ([(0, 3), (1, 3), (0, 1)], lambda xs, lib: xs),
    "zero_dim": ([()] * 3, lambda xs, lib: xs),
    "mixed_zero_dim": ([(2, 3), (), (3,)], lambda xs, lib: xs),
}
# the fused backward ops (internal) are tested in tests/autograd/test_fused_backward.py
OPS = [op for op, spec in TABLE.items() if not spec.get("internal")]
SUPPORTED = [(op, n) for op in OPS for n in NAMES if supports(op, n)]
UNSUPPORTED = [(op, n) for op in OPS for n in NAMES if not supports(op, n)]


@pytest.mark.parametrize("op, name", SUPPORTED)
def test_values_match_reference_in_every_layout(op, name):
    arity = TABLE[op]["arity"]
    out_name = expected_dtype(op, name)
    fn = ember_fn(op)
    rng = np.random.default_rng(zlib.crc32(f"{op}-{name}".encode()))
    for layout, (shapes, view) in LAYOUTS.items():
        bases = [values(op, name, shapes[k], rng, k) for k in range(arity)]
        arrays = view(bases, "numpy")
        tensors = view([ember_of(b) for b in bases], "ember")
        got = fn(*tensors)
        assert got.dtype.name == out_name, layout
        want = reference(op, arrays, out_name)
        assert tuple(got.shape) == want.shape, layout
        assert_values(got, want, out_name)


@pytest.mark.parametrize("op, name", UNSUPPORTED)
def test_unsupported_dtypes_raise_like_torch(op, name):
    arity = TABLE[op]["arity"]
    args = [lambda lib: lib.ones(3, dtype=getattr(lib, name))] * arity
    if op == "where":
        args[0] = lambda lib: lib.ones(3, dtype=lib.bool)
    with pytest.raises(RuntimeError) as torch_err:
        torch_fn(op)(*[a(torch) for a in args])
    with pytest.raises(torch_err.type):
        ember_fn(op)(*[a(ember) for a in args])


@pytest.mark.parametrize("op", OPS)
def test_every_op_is_exposed_like_torch(op):
    spec = TABLE[op]
    assert callable(ember_fn(op))
    if hasattr(torch, op):
        assert hasattr(ember, op)
    for name in (op, op + "_"):
        if name not in ("gelu_", "silu_", "gelu_tanh", "gelu_tanh_"):
            assert hasattr(ember.Tensor, name) == hasattr(torch.Tensor, name), name
    inplace = spec.get("inplace", spec.get("out", "same") == "same") and spec.get("method", True)
    assert hasattr(ember.Tensor, op + "_") == inplace


# ---------------------------------------------------------------- special values

SPECIALS = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e10, -1e-10]


@pytest.mark.parametrize("op", [op for op in OPS if supports(op, "float64")])
@pytest.mark.parametrize("name", ["float32", "float64"])
def test_special_float_values_match_torch(op, name):
    arity = TABLE[op]["arity"]
    cols = list(itertools.product(SPECIALS, repeat=min(arity, 2)))
    if arity == 1 or op == "where":
        cols = [(v,) for v in SPECIALS]
    if op == "gelu":
        # torch's vectorised gelu gives NaN at +inf; ember gives the limit, inf
        cols = [c for c in cols if not math.isinf(c[0])]
    data = [[c[k % len(c)] for c in cols] for k in range(arity)]
    tt = [torch.tensor(d, dtype=getattr(torch, name)) for d in data]
    et = [ember.tensor(d, dtype=getattr(ember, name)) for d in data]
    if op == "where":
        tt[0], et[0] = tt[0] > 0, et[0] > 0
    want = torch_fn(op)(*tt)
    got = ember_fn(op)(*et)
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    if want.dtype.is_floating_point:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=RTOL[name], equal_nan=True)
    else:
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("op", ["sqrt", "exp", "log", "sin", "tanh", "sigmoid", "add", "mul", "div",
                                "pow", "floor_divide", "remainder", "maximum", "relu", "gelu"])
@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_half_precision_matches_float32_compute(op, name):
    rng = np.random.default_rng(7)
    arity = TABLE[op]["arity"]
    base = [ember.tensor(values(op, "float32", (40,), rng, k)).to(getattr(ember, name))
            for k in range(arity)]
    got = ember_fn(op)(*base)
    want = ember_fn(op)(*[b.float() for b in base]).to(getattr(ember, name))
    assert got.dtype is getattr(ember, name)
    np.testing.assert_allclose(np_of(got), np_of(want), rtol=RTOL[name], atol=RTOL[name],
                               equal_nan=True)


# ---------------------------------------------------------------- Python scalars

SCALARS = [True, 3, -2, 2.5, -0.75, 1.5 - 0.5j]


# torch's functions take a tensor first: a scalar on the left goes through the reflected
# operator, or the mirrored op
REFLECTED = {"add": "__radd__", "sub": "__rsub__", "mul": "__rmul__", "div": "__rtruediv__",
             "floor_divide": "__rfloordiv__", "remainder": "__rmod__", "pow": "__rpow__",
             "bitwise_and": "__rand__", "bitwise_or": "__ror__", "bitwise_xor": "__rxor__"}
MIRRORED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne",
            "minimum": "minimum", "maximum": "maximum", "logical_and": "logical_and",
            "logical_or": "logical_or", "logical_xor": "logical_xor"}


def torch_scalar_first(op, s, t):
    if op in REFLECTED:
        return getattr(t, REFLECTED[op])(s)
    if op in MIRRORED:
        return torch_fn(MIRRORED[op])(t, s)
    return torch_fn(op)(s, t)  # a TypeError: outcome() retries with a wrapped scalar


@pytest.mark.parametrize("op", [op for op in OPS if TABLE[op]["arity"] == 2])
@pytest.mark.parametrize("name", NAMES)
def test_python_scalars_on_either_side_match_torch(op, name):
    vals = [1, 2, 5, 0, 3] if name != "bool" else [True, False, True, True, False]
    if op in DIVISION_OPS and _category(name) == 3:
        vals[3] = 4  # torch's vectorised complex division by zero gives NaN, its scalar one inf
    tt = torch.tensor(vals, dtype=getattr(torch, name))
    et = ember.tensor(vals, dtype=getattr(ember, name))
    for s in SCALARS:
        if op == "pow" and name == "bool" and s is True:
            continue  # torch special-cases an exponent of 1 and copies the bool tensor
        if name == "uint8" and op not in REFLECTED and op not in MIRRORED and \
                type(s) in (int, float) and s < 0:
            continue  # torch takes no number here; outcome()'s uint8 retry would wrap it
        compare_outcomes(outcome(ember, ember_fn(op), (et, s)),
                          outcome(torch, torch_fn(op), (tt, s)), name)
        if (op in DIVISION_OPS or op == "pow") and _category(name) < 2:
            continue  # integer zero divisors and negative powers are tested apart
        compare_outcomes(outcome(ember, ember_fn(op), (s, et)),
                          outcome(torch, lambda a, b: torch_scalar_first(op, a, b), (s, tt)), name)


@pytest.mark.parametrize("name", ["int64", "float32", "bool", "complex64"])
def test_scalar_arguments_of_ternary_ops(name):
    t = torch.tensor([1, 0, 3], dtype=getattr(torch, name))
    e = ember.tensor([1, 0, 3], dtype=getattr(ember, name))
    compare_outcomes(outcome(ember, ember.where, (e != 0, e, 2)),
                      outcome(torch, torch.where, (t != 0, t, 2)))
    compare_outcomes(outcome(ember, ember.where, (e != 0, 1.5, e)),
                      outcome(torch, torch.where, (t != 0, 1.5, t)))
    compare_outcomes(outcome(ember, ember.clamp, (e, 1, 2)),
                      outcome(torch, torch.clamp, (t, 1, 2)))
    compare_outcomes(outcome(ember, ember.clamp, (e, 0.5, None)),
                      outcome(torch, torch.clamp, (t, 0.5, None)))
    compare_outcomes(outcome(ember, ember.clamp, (e, None, e)),
                      outcome(torch, torch.clamp, (t, None, t)))


# ---------------------------------------------------------------- in-place forms

INPLACE_OPS = [op for op in OPS if hasattr(ember.Tensor, op + "_")]


def _inplace_operands(op, name):
    base = [3, 1, 4, 2] if name != "bool" else [True, False, True, True]
    others = [("same", lambda lib: lib.tensor([2, 1, 3, 1], dtype=getattr(lib, name))),
              ("float64", lambda lib: lib.tensor([0.5, 2.0, -1.5, 1.0], dtype=lib.float64)),
              ("int", 2), ("float", 1.5), ("bool", True), ("complex", 1 + 1j)]
    return base, others


def _torch_inplace(op, t):
    def call(*args):
        try:
            return getattr(t, op + "_")(*args)
        except TypeError:
            # torch's logical ops take no Python scalar: pass it as a wrapped-scalar tensor
            args = [torch.tensor(a, dtype=torch.result_type(t, a)) for a in args]
            return getattr(t, op + "_")(*args)
    return call


@pytest.mark.parametrize("op", INPLACE_OPS)
@pytest.mark.parametrize("name", NAMES)
def test_inplace_forms_follow_torch_dtype_rules(op, name):
    arity = TABLE[op]["arity"]
    base, others = _inplace_operands(op, name)
    for label, other in others:
        if arity == 1 and label != "same":
            continue
        extra = [] if arity == 1 else [other] * (arity - 1)
        targs = [o(torch) if callable(o) else o for o in extra]
        eargs = [o(ember) if callable(o) else o for o in extra]
        if op == "pow" and name == "bool":
            continue  # torch special-cases exponents 0 and 1 for bool tensors
        want = outcome(torch, _torch_inplace(op, torch.tensor(base, dtype=getattr(torch, name))),
                        targs)
        # the in-place target may be non-contiguous: a transposed column of a matrix
        for layout in ("contiguous", "strided"):
            x = ember.tensor(base, dtype=getattr(ember, name))
            if layout == "strided":
                x = ember.tensor([base, base], dtype=getattr(ember, name)).T[:, 1]
            ptr, version = x.data_ptr(), x._version
            got = outcome(ember, getattr(x, op + "_"), eargs)
            if isinstance(want, Exception):
                if "ComplexHalf" in str(want):
                    continue  # ember computes float16-with-complex in complex64
                assert isinstance(got, RuntimeError), (label, layout, got, want)
                if "can't be cast to the desired output type" in str(want):
                    assert "can't be cast to the desired output type" in str(got), (got, want)
                continue
            assert got is x, (label, layout, got, want)
            assert x.data_ptr() == ptr and x._version > version
            compare_outcomes(x, want, name)


def test_inplace_cast_error_message_matches_torch():
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                                           "output type Long$"):
        ember.tensor([1, 2]).add_(1.5)
    x = ember.tensor([1, 2], dtype=ember.int32)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Int"):
        x += ember.tensor([0.5, 0.5])
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the desired "
                                           "output type Float"):
        ember.ones(2).mul_(1j)
    assert x.tolist() == [1, 2]


def test_inplace_with_broadcast_other_and_shape_errors():
    x = ember.zeros(2, 3)
    x.add_(ember.tensor([1.0, 2.0, 3.0]))
    x.mul_(ember.tensor([[2.0], [3.0]]))
    assert x.tolist() == [[2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast "
                                           r"shape \[2, 3\]"):
        ember.zeros(3).add_(ember.ones(2, 3))


def test_inplace_alpha_and_clamp_forms():
    x = ember.tensor([1.0, 2.0])
    x.add_(ember.tensor([1.0, 1.0]), alpha=3).sub_(1, alpha=2)
    assert x.tolist() == [2.0, 3.0]
    assert x.clamp_(min=2.5).tolist() == [2.5, 3.0]
    assert x.clamp_(max=2.75).tolist() == [2.5, 2.75]
    assert ember.tensor([5, -5]).clip_(-1, 1).tolist() == [1, -1]
    with pytest.raises(RuntimeError):
        x.clamp_()
    y = ember.tensor([-1.0, 1.0])
    assert ember.silu(y, inplace=True) is y
    np.testing.assert_allclose(y.numpy(), F.silu(torch.tensor([-1.0, 1.0])).numpy(), rtol=1e-6)


# ---------------------------------------------------------------- out=

def _out_args(op, name, rng):
    return [ember_of(values(op, name, (2, 3) if k != 1 else (3,), rng, k))
            for k in range(TABLE[op]["arity"])]


@pytest.mark.parametrize("op", OPS)
def test_out_argument(op):
    rng = np.random.default_rng(zlib.crc32(op.encode()))
    name = next(n for n in ("float32", "int64", "bool", "complex64") if supports(op, n))
    args = _out_args(op, name, rng)
    num = op_id(op)
    want = ew(num, *args)
    rname = want.dtype.name
    # a preallocated output of the right shape, an empty one (resized), and a transposed one
    for out in (ember.empty(2, 3, dtype=want.dtype), ember.empty(0, dtype=want.dtype),
                ember.empty(3, 2, dtype=want.dtype).T):
        ptr = out.data_ptr() if out.numel() else None
        got = ew(num, *args, out=out)
        assert got is out and out.shape == (2, 3)
        if ptr is not None:
            assert out.data_ptr() == ptr
        assert_values(out, np_of(want), rname)
    # the public function takes out= too, where torch's does
    if "out" in ember_fn(op).__code__.co_varnames:
        out = ember.empty(2, 3, dtype=want.dtype)
        assert ember_fn(op)(*args, out=out) is out
        assert_values(out, np_of(want), rname)
    # an output of a wider dtype receives the cast result
    wide = {"bool": ember.int64, "int64": ember.float64, "float32": ember.float64,
            "complex64": ember.complex128}.get(rname)
    if wide is not None:
        out = ember.empty(2, 3, dtype=wide)
        ew(num, *args, out=out)
        assert_values(out.to(want.dtype), np_of(want), rname)
    # an output of a lower category is refused as in torch
    if rname != "bool":
        narrow = ember.bool if _category(rname) == 1 else ember.int64
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            ew(num, *args, out=ember.empty(2, 3, dtype=narrow))
    # a non-empty output of another size is resized with torch's warning
    out = ember.empty(7, dtype=want.dtype)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[7\]"):
        assert ew(num, *args, out=out) is out
    assert out.shape == (2, 3)
    assert_values(out, np_of(want), rname)
    with pytest.raises(TypeError):
        ew(num, *args, out=np.empty((2, 3)))


def test_out_overlapping_an_input_is_computed_from_the_original_values():
    x = np.arange(10.0)
    e = ember.tensor(x)
    ember.add(e[:-1], 1.0, out=e[1:])
    x[1:] = x[:-1] + 1.0
    np.testing.assert_array_equal(e.numpy(), x)
    e = ember.tensor([1.0, 2.0, 3.0])
    ember.mul(e, e[::-1], out=e)
    assert e.tolist() == [3.0, 4.0, 3.0]


# ---------------------------------------------------------------- big tensors and overlap

@pytest.mark.parametrize("op", OPS)
def test_multithreaded_results_equal_single_thread_path(op):
    name = next(n for n in ("float32", "int32", "bool", "complex64") if supports(op, n))
    rng = np.random.default_rng(zlib.crc32(op.encode()) + 1)
    arity = TABLE[op]["arity"]
    args = [ember_of(values(op, name, (300, 150), rng, k)) for k in range(arity)]
    fn = ember_fn(op)
    for view in (lambda t: t, lambda t: t.T):
        views = [view(a) for a in args]
        big = fn(*views)
        rows = [fn(*[v[i:i + 16] for v in views]) for i in range(0, views[0].shape[0], 16)]
        small = np.concatenate([np_of(r) for r in rows])
        if small.dtype.kind in "fc":
            # vector math (libmvec) and the scalar tail of a loop may differ by an ulp
            np.testing.assert_allclose(np_of(big), small, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(np_of(big), small)


def test_results_do_not_depend_on_the_thread_count():
    x = ember.tensor(np.linspace(-3, 3, 300 * 200).reshape(300, 200).astype(np.float32))
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        single = [(x.T * 2 + 1).numpy(), ember.tanh(x[::-1]).numpy(), (x // 0.7).numpy()]
        ember.set_num_threads(max(before, 2))
        multi = [(x.T * 2 + 1).numpy(), ember.tanh(x[::-1]).numpy(), (x // 0.7).numpy()]
    finally:
        ember.set_num_threads(before)
    for a, b in zip(single, multi):
        # vector math (libmvec) and the scalar tail of a loop may differ by an ulp
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError):
        ember.set_num_threads(0)


def test_big_broadcast_with_a_scalar_and_a_row():
    x = np.linspace(-5, 5, 400 * 120).reshape(400, 120).astype(np.float32)
    row = np.linspace(0, 1, 120).astype(np.float32)
    e = ember.tensor(x)
    np.testing.assert_allclose((e * ember.tensor(row) + 2.0).numpy(), x * row + 2.0, rtol=1e-6)
    np.testing.assert_allclose((2.0 - e.T).numpy(), 2.0 - x.T, rtol=1e-6)


def test_inplace_fast_paths_keep_the_generic_rules():
    x = ember.tensor([1.0, 2.0, 3.0])
    assert x.add_(x) is x and x.tolist() == [2.0, 4.0, 6.0]       # the operand is the target
    version = x._version
    x.mul_(0.5).sub_(ember.ones(3)).exp_()
    assert x._version == version + 3
    np.testing.assert_allclose(x.numpy(), np.exp([0.0, 1.0, 2.0]), rtol=1e-6)
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    ro = ember.from_numpy(frozen)                   # a view of read-only NumPy memory
    for write in (lambda t: t.add_(1.0), lambda t: t.neg_(), lambda t: t.fill_(2.0)):
        with pytest.raises(RuntimeError, match="read-only"):
            write(ro)
    assert frozen.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ember.tensor([1, 2]).floor_divide_(0)
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with "):
        ember.tensor([True]).sub_(True)


def test_div_rounding_mode_in_place_and_keyword_errors_like_torch():
    for mode in (None, "trunc", "floor"):
        t = torch.tensor([7.0, -7.0, 5.5]).div_(2.0, rounding_mode=mode)
        e = ember.tensor([7.0, -7.0, 5.5]).div_(2.0, rounding_mode=mode)
        assert e.tolist() == t.tolist()
    assert ember.tensor([7, -7]).div_(2, rounding_mode="floor").tolist() == [3, -4]
    assert ember.tensor([7, 5]).add(ember.tensor([1, 1]), alpha=3).tolist() == [10, 8]
    with pytest.raises(TypeError, match="unexpected keyword argument 'beta'"):
        ember.ones(2).add_(1, beta=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'alpha'"):
        ember.div(ember.ones(2), 2, alpha=2)
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        ember.tensor([1, 2]).add(1, alpha=0.5)
    import inspect
    assert str(inspect.signature(ember.add)) == "(input, other, *, alpha=1, out=None)"


@pytest.mark.parametrize("name", ["bool", "uint8", "int16", "int32", "int64", "float16",
                                  "bfloat16", "float32", "float64", "complex64", "complex128"])
def test_fill_of_small_and_large_tensors_matches_numpy(name):
    value = True if name == "bool" else (2 + 1j if name.startswith("complex") else 3)
    for n in (0, 1, 7, 70000):
        e = ember.empty(n, dtype=getattr(ember, name)).fill_(value)
        t = torch.empty(n, dtype=getattr(torch, name)).fill_(value)
        assert e.tolist() == t.tolist()
        assert not e.zero_().any() if n else True


@pytest.mark.parametrize("n", [10, 50001])
def test_overlapping_inplace_matches_numpy(n):
    x = np.arange(n, dtype=np.float64)
    e = ember.tensor(x)
    e[1:] += e[:-1]
    x[1:] += x[:-1]
    np.testing.assert_array_equal(e.numpy(), x)
    x = np.arange(n, dtype=np.int64)
    e = ember.tensor(x)
    e[:-1] *= e[1:]
    x[:-1] *= x[1:]
    np.testing.assert_array_equal(e.numpy(), x)
    x = np.arange(n, dtype=np.float32)
    e = ember.tensor(x)
    e[::-1] -= e
    x[::-1] -= x.copy()
    np.testing.assert_array_equal(e.numpy(), x)


def test_inplace_with_own_transpose_matches_numpy():
    x = np.arange(16.0).reshape(4, 4)
    e = ember.tensor(x)
    e += e.T
    x += x.T
    np.testing.assert_array_equal(e.numpy(), x)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_reduced_precision_times_scalar_keeps_the_scalar_in_float32_like_torch(name):
    vals = [60000.0, 1000.0, 3.0, -2.5] if name == "float16" else [3e38, 256.0, 3.0, -2.5]
    t = torch.tensor(vals, dtype=getattr(torch, name))
    e = ember.tensor(vals, dtype=getattr(ember, name))
    cases = [lambda x: x * 1e-8, lambda x: 1e-8 * x, lambda x: x / 1e5, lambda x: x * 1.003,
             lambda x: x.flip(0) * 1e-5 if isinstance(x, torch.Tensor) else x[::-1] * 1e-5,
             lambda x: x * (torch.tensor(1e-8) if isinstance(x, torch.Tensor) else ember.tensor(1e-8)),
             lambda x: x.clone().mul_(1e-7), lambda x: x.clone().div_(3e4), lambda x: x + 2049.0]
    for case in cases:
        assert case(e).float().tolist() == case(t).float().tolist()
        assert case(e).dtype.name == name


def test_overlap_is_detected_between_tensors_borrowing_the_same_numpy_memory():
    a = np.arange(8.0)
    ember.add(ember.from_numpy(a[::-1]), 0, out=ember.from_numpy(a))
    assert a.tolist() == list(np.arange(8.0)[::-1])
    a = np.arange(8.0)
    ember.from_numpy(a).copy_(ember.from_numpy(a[::-1]))
    assert a.tolist() == list(np.arange(8.0)[::-1])
    a, b = np.arange(8.0), np.arange(8.0)
    ember.from_numpy(a[1:]).add_(ember.from_numpy(a[:-1]))
    b[1:] += b[:-1]
    assert a.tolist() == b.tolist()


# ---------------------------------------------------------------- property tests

@st.composite
def _broadcastable_views(draw):
    """Two NumPy arrays (of random layouts) whose shapes broadcast, and their ember twins."""
    ndim = draw(st.integers(0, 4))
    out_shape = [draw(st.integers(0, 4)) for _ in range(ndim)]
    arrays, tensors = [], []
    for _ in range(2):
        rank = draw(st.integers(0, ndim))
        shape = [s if draw(st.booleans()) else 1 for s in out_shape[ndim - rank:]]
        steps = [draw(st.sampled_from([1, 2, -1])) for _ in shape]
        base = np.arange(1, 1 + int(np.prod([max(s * abs(k), 1) for s, k in zip(shape, steps)]))
                         ).reshape([max(s * abs(k), 1) for s, k in zip(shape, steps)]) % 7 - 3.0
        index = tuple(slice(None, None, k) if k > 0 else slice(None, None, k) for k in steps)
        view = base[index][tuple(slice(0, s) for s in shape)]
        t = ember.tensor(base)[index][tuple(slice(0, s) for s in shape)]
        if len(shape) >= 2 and draw(st.booleans()):
            # same shape, memory laid out transposed
            swapped = np.ascontiguousarray(np.swapaxes(view, 0, -1))
            view, t = np.swapaxes(swapped, 0, -1), ember.tensor(swapped).transpose(0, -1)
        arrays.append(view)
        tensors.append(t)
    return arrays, tensors


@settings(max_examples=150, deadline=None)
@given(data=_broadcastable_views(), op=st.sampled_from(["add", "mul", "sub", "maximum", "lt", "where"]))
def test_random_broadcast_layouts_match_numpy(data, op):
    (a, b), (ta, tb) = data
    if op == "where":
        want = np.where(a > 0, a, b)
        got = ember.where(ta > 0, ta, tb)
    else:
        want = NUMPY_REF[op](a, b)
        got = ember_fn(op)(ta, tb)
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy(), want)
