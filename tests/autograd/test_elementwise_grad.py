"""Derivatives of the elementwise ops against PyTorch and finite differences: every
differentiable op of the table, broadcasting both ways, every layout, float32/float64,
complex, type promotion, the points where a function is not differentiable, in-place
forms and graph node names."""
import operator

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
from ember.ops.elementwise import TABLE
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

NAN, INF = np.nan, np.inf


def _rng(seed=0):
    return np.random.default_rng(seed)


def _normal(*shape, seed=0):
    return _rng(seed).standard_normal(shape)


def _positive(*shape, seed=0):
    return _rng(seed).uniform(0.5, 2.0, shape)


def _unit(*shape, seed=0):
    return _rng(seed).uniform(0.1, 0.9, shape)


def _above_one(*shape, seed=0):
    return _rng(seed).uniform(1.2, 3.0, shape)


def _complex(*shape, seed=0):
    r = _rng(seed)
    return r.standard_normal(shape) + 1j * r.standard_normal(shape)


def _call(name):
    """``fn(lib, *args)`` calling op ``name`` of ember or its PyTorch counterpart."""
    if name == "gelu":
        return lambda lib, x: F.gelu(x) if lib is torch else ember.gelu(x)
    if name == "gelu_tanh":
        return lambda lib, x: (F.gelu(x, approximate="tanh") if lib is torch
                               else ember.gelu(x, approximate="tanh"))
    if name == "silu":
        return lambda lib, x: F.silu(x) if lib is torch else ember.silu(x)
    return lambda lib, *args: getattr(lib, name)(*args)


def _differentiable_ops(arity):
    return sorted(name for name, spec in TABLE.items()
                  if spec["arity"] == arity and spec.get("out") != "bool" and not spec.get("internal")
                  and set(spec["kinds"]) & set("fc"))


UNARY_DOMAIN = {"log": _positive, "log1p": _positive, "log2": _positive, "sqrt": _positive,
                "rsqrt": _positive, "reciprocal": _positive, "log10": _positive, "lgamma": _positive,
                "asin": _unit, "acos": _unit, "atanh": _unit, "logit": _unit, "acosh": _above_one}
# sgn: torch's gradient for real input is a ZeroTensor (tests/elementwise compares it)
UNARY = [n for n in _differentiable_ops(1) if n != "sgn"]
# floor_divide: PyTorch has no derivative (its div(rounding_mode='floor') has zero ones)
# heaviside, nextafter: not differentiable in PyTorch either
NOT_DIFFERENTIABLE = {"floor_divide", "heaviside", "nextafter"}
BINARY = [n for n in _differentiable_ops(2) if n not in NOT_DIFFERENTIABLE]
BINARY_DOMAIN = {"pow": (_positive, _normal), "div": (_normal, _positive),
                 "remainder": (_normal, _positive), "fmod": (_normal, _positive),
                 "xlogy": (_normal, _positive)}
COMPLEX_UNARY = [n for n in UNARY if "c" in TABLE[n]["kinds"] and n != "silu"]
# complex logaddexp: gradients are checked by finite differences only (tests/elementwise)
COMPLEX_BINARY = [n for n in BINARY if "c" in TABLE[n]["kinds"] and n != "logaddexp"]


def test_every_differentiable_op_is_covered():
    covered = set(UNARY) | set(BINARY) | NOT_DIFFERENTIABLE | {"sgn", "where", "clamp"}
    assert covered == set(_differentiable_ops(1) + _differentiable_ops(2) +
                          _differentiable_ops(3))


# ---------------------------------------------------------------- against PyTorch

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", UNARY)
def test_unary_float64(name, layout):
    gen = UNARY_DOMAIN.get(name, _normal)
    assert_grads_match_torch(_call(name), gen(3, 4), layout=LAYOUTS[layout])
    assert_grads_match_torch(_call(name), gen(), layout=LAYOUTS[layout])


@pytest.mark.parametrize("name", UNARY)
def test_unary_float32(name):
    gen = UNARY_DOMAIN.get(name, _normal)
    assert_grads_match_torch(_call(name), gen(3, 4).astype(np.float32), rtol=2e-5, atol=1e-6)


BROADCASTS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)),
              ((), (2, 3)), ((2, 3), ())]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasting(name, layout):
    gen_a, gen_b = BINARY_DOMAIN.get(name, (_normal, _normal))
    for sa, sb in BROADCASTS:
        assert_grads_match_torch(_call(name), gen_a(*sa, seed=1), gen_b(*sb, seed=2),
                                 layout=LAYOUTS[layout])


@pytest.mark.parametrize("name", BINARY)
def test_binary_float32(name):
    gen_a, gen_b = BINARY_DOMAIN.get(name, (_normal, _normal))
    assert_grads_match_torch(_call(name), gen_a(3, 4, seed=1).astype(np.float32),
                             gen_b(4, seed=2).astype(np.float32), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow", "mod"])
def test_python_scalar_either_side(op):
    fn = getattr(operator, op)
    for scalar in (2, 0.75, -1.5):
        assert_grads_match_torch(lambda lib, t: fn(t, scalar), _positive(2, 3))
        if op != "mod":    # PyTorch has no derivative of remainder(scalar, tensor)
            assert_grads_match_torch(lambda lib, t: fn(scalar, t), _positive(2, 3))


def test_scalar_on_the_left_of_remainder():
    # PyTorch refuses to differentiate it; the derivative is -floor(s / x)
    x = ember.tensor([1.5, -2.0, 3.0, 0.7], dtype=ember.float64, requires_grad=True)
    ember.remainder(5.0, x).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), -np.floor(5.0 / np.asarray(x.detach())))
    check_gradients(lambda lib, t: lib.remainder(5.0, t), np.array([1.5, -2.0, 3.0, 0.7]))


def test_integer_tensor_operand():
    ints = np.array([1, -2, 3], dtype=np.int64)
    for name in ("add", "sub", "mul", "div", "pow", "maximum"):
        assert_grads_match_torch(_call(name), _positive(2, 3), ints)
    assert_grads_match_torch(lambda lib, x, i: i / x, _positive(2, 3), ints)


@pytest.mark.parametrize("name", COMPLEX_UNARY)
def test_unary_complex(name):
    assert_grads_match_torch(_call(name), _complex(2, 3))
    assert_grads_match_torch(_call(name), _complex(2, 3).astype(np.complex64),
                             rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", COMPLEX_BINARY)
def test_binary_complex(name):
    c1, c2 = _complex(2, 3, seed=1), _complex(3, seed=2)
    real = _positive(3, seed=3)
    assert_grads_match_torch(_call(name), c1, c2)
    assert_grads_match_torch(_call(name), c1, real)      # real other: real gradient
    assert_grads_match_torch(_call(name), real, c1)
    for scalar in (1.5 - 0.5j, 2.0, 3):
        assert_grads_match_torch(lambda lib, x: getattr(lib, name)(x, scalar), c1)
    assert_grads_match_torch(_call(name), c1.astype(np.complex64), c2.astype(np.complex64),
                             rtol=2e-5, atol=1e-6)


def test_complex_scalar_operands():
    c = _complex(3)
    assert_grads_match_torch(lambda lib, x: (1.5 - 0.5j) ** x, c)
    assert_grads_match_torch(lambda lib, x: (1.5 - 0.5j) * x, c)
    assert_grads_match_torch(lambda lib, x: (1.5 - 0.5j) / x, c)
    assert_grads_match_torch(lambda lib, x: (1.5 - 0.5j) - x, c)
    assert_grads_match_torch(lambda lib, x: 2.0 ** x, c)            # real base, complex power
    assert_grads_match_torch(lambda lib, x: (-2.0) ** x, c)
    assert_grads_match_torch(lambda lib, x: x * 1j, _normal(3))     # real input, complex output
    check_gradients(lambda lib, x: (1.5 - 0.5j) ** x, c)
    check_gradients(lambda lib, x: x ** (1.5 - 0.5j), c)
    check_gradients(lambda lib, x: x * (2 - 1j), c)


def test_real_and_imag():
    c = _complex(2, 3)
    assert_grads_match_torch(lambda lib, x: x.real, c)
    assert_grads_match_torch(lambda lib, x: x.imag, c)
    assert_grads_match_torch(lambda lib, x: x.real * x.imag + x.abs(), c)
    assert_grads_match_torch(lambda lib, x: (x * 2).real.exp() - (x * 1).imag, c)
    check_gradients(lambda lib, x: x.real * x.imag, c)
    check_gradients(lambda lib, x: x.imag.sin(), c)
    x = ember.tensor(_normal(3), requires_grad=True)
    assert x.real is x


def test_conj():
    c = _complex(2, 3)
    assert_grads_match_torch(lambda lib, x: lib.conj(x) * x, c)
    assert_grads_match_torch(lambda lib, x: x.conj().exp(), c)
    check_gradients(lambda lib, x: x.conj() * x.sin(), c)
    x = ember.tensor(_normal(3), requires_grad=True)
    assert x.conj() is x                                           # real: the tensor itself
    assert_grads_match_torch(lambda lib, x: x.conj() * 2, _normal(3))


def test_silu_complex_is_holomorphic():
    # PyTorch refuses complex silu gradients; ours follow its convention for holomorphic f
    check_gradients(lambda lib, x: lib.silu(x), _complex(3))


# ---------------------------------------------------------------- dtypes

@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"),
                                    ("float32", "complex128"), ("complex64", "float64"),
                                    ("float16", "float32"), ("bfloat16", "float64")])
def test_gradient_dtype_follows_input(dtypes):
    mixed = any(d.startswith("complex") for d in dtypes)
    # PyTorch's where fails on a real and a complex operand: checked on ember alone below
    for op in ("mul", "add", "div", "pow") + (() if mixed else ("where",)):
        grads = {}
        for lib in (ember, torch):
            a = lib.tensor(_positive(2, 3, seed=1), dtype=getattr(lib, dtypes[0]),
                           requires_grad=True)
            b = lib.tensor(_positive(3, seed=2), dtype=getattr(lib, dtypes[1]),
                           requires_grad=True)
            if op == "where":
                out = lib.where(lib.tensor([True, False, True]), a, b)
            else:
                out = getattr(lib, op)(a, b)
            (out.abs() if out.is_complex() else out).sum().backward()
            grads[lib] = (a.grad, b.grad)
        for eg, tg in zip(grads[ember], grads[torch]):
            assert str(eg.dtype).split(".")[-1] == str(tg.dtype).split(".")[-1]
            wide = (ember.complex128, torch.complex128) if eg.is_complex() else \
                (ember.float64, torch.float64)
            np.testing.assert_allclose(np.asarray(eg.to(wide[0])), tg.to(wide[1]).numpy(),
                                       rtol=1e-2, atol=1e-3)
    if mixed:
        a = ember.tensor(_positive(2, 3), dtype=getattr(ember, dtypes[0]), requires_grad=True)
        b = ember.tensor(_positive(3), dtype=getattr(ember, dtypes[1]), requires_grad=True)
        ember.where(ember.tensor([True, False, True]), a, b).abs().sum().backward()
        assert a.grad.dtype == a.dtype and b.grad.dtype == b.dtype
        np.testing.assert_allclose(np.asarray(a.grad.abs()), [[1, 0, 1]] * 2)
        np.testing.assert_allclose(np.asarray(b.grad.abs()), [0, 2, 0], rtol=1e-6)


# ---------------------------------------------------------------- non-differentiable points

def _a(*values):
    return np.array(values, dtype=np.float64)


SPECIAL_POINTS = [
    ("abs at 0", lambda lib, x: lib.abs(x), [_a(0.0, -0.0, 1.0, -2.0, NAN, INF)]),
    ("sign at 0", lambda lib, x: lib.sign(x), [_a(0.0, -0.0, 1.0, -2.0)]),
    ("relu at 0 and nan", lambda lib, x: lib.relu(x), [_a(0.0, -0.0, 1.0, -2.0, NAN)]),
    ("sqrt at 0", lambda lib, x: lib.sqrt(x), [_a(0.0, 1.0, 4.0, -1.0)]),
    ("rsqrt at 0", lambda lib, x: lib.rsqrt(x), [_a(0.0, 1.0, 4.0)]),
    ("log at 0", lambda lib, x: lib.log(x), [_a(0.0, 1.0, 4.0, -1.0)]),
    ("log2 at 0", lambda lib, x: lib.log2(x), [_a(0.0, 1.0, 4.0)]),
    ("log1p at -1", lambda lib, x: lib.log1p(x), [_a(-1.0, 1.0, 4.0)]),
    ("reciprocal at 0", lambda lib, x: lib.reciprocal(x), [_a(0.0, -0.0, 4.0)]),
    ("exp of inf", lambda lib, x: lib.exp(x), [_a(-INF, 0.0, 800.0)]),
    ("sigmoid saturated", lambda lib, x: lib.sigmoid(x), [_a(-800.0, -30.0, 0.0, 800.0)]),
    ("tanh saturated", lambda lib, x: lib.tanh(x), [_a(-800.0, 0.0, 800.0)]),
    ("erf saturated", lambda lib, x: lib.erf(x), [_a(-800.0, 0.0, 800.0)]),
    ("pow zero base", lambda lib, x, y: lib.pow(x, y),
     [_a(0.0, 0.0, 0.0, 0.0, 0.0, 2.0), _a(0.0, 1.0, 2.0, 0.5, -1.0, 0.0)]),
    ("pow negative base", lambda lib, x, y: lib.pow(x, y),
     [_a(-2.0, -2.0, -1.5), _a(2.0, 3.0, 0.5)]),
    ("pow scalar exponents", lambda lib, x: [lib.pow(x, e) for e in (0, 0.0, 1, 2, 0.5, -1, 3)],
     [_a(0.0, 1.0, -2.0, 3.0)]),
    ("pow scalar bases", lambda lib, x: [lib.pow(b, x) for b in (0.0, 0, 1.0, 2.0, -2.0)],
     [_a(0.0, 1.0, -2.0, 0.5)]),
    ("minimum ties", lambda lib, x, y: lib.minimum(x, y), [_a(1.0, 2.0, 3.0), _a(1.0, 1.0, 4.0)]),
    ("maximum ties", lambda lib, x, y: lib.maximum(x, y), [_a(1.0, 2.0, 3.0), _a(1.0, 1.0, 4.0)]),
    ("minimum nan", lambda lib, x, y: lib.minimum(x, y), [_a(NAN, 2.0, NAN), _a(1.0, NAN, NAN)]),
    ("maximum nan", lambda lib, x, y: lib.maximum(x, y), [_a(NAN, 2.0, NAN), _a(1.0, NAN, NAN)]),
    ("clamp at the bounds", lambda lib, x: lib.clamp(x, 0.0, 1.0),
     [_a(-1.0, 0.0, 0.5, 1.0, 2.0, NAN)]),
    ("clamp min only", lambda lib, x: lib.clamp(x, min=0.0), [_a(-1.0, 0.0, 0.5, 1.0, NAN)]),
    ("clamp max only", lambda lib, x: lib.clamp(x, max=1.0), [_a(-1.0, 0.0, 0.5, 1.0, NAN)]),
    ("clip", lambda lib, x: x.clip(0.0, 1.0), [_a(-1.0, 0.0, 0.5, 1.0, 2.0)]),
    ("clamp min > max", lambda lib, x: lib.clamp(x, 1.0, 0.0), [_a(-1.0, 0.5, 2.0)]),
    ("clamp tensor bounds", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
     [_a(-1.0, 0.0, 0.5, 1.0, 2.0), _a(0.0, 0.0, 0.0, 0.0, 0.0), _a(1.0, 1.0, 1.0, 1.0, 1.0)]),
    ("clamp tensor min > max", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
     [_a(-1.0, 0.5, 1.5, 3.0), _a(2.0, 2.0, 2.0, 2.0), _a(1.0, 1.0, 1.0, 1.0)]),
    ("clamp tensor nan", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
     [_a(NAN, 0.0, 0.5), _a(0.0, NAN, 0.0), _a(1.0, 1.0, NAN)]),
    ("clamp tensor min only", lambda lib, x, lo: lib.clamp(x, min=lo),
     [_a(-1.0, 0.0, 0.5, 1.0, 2.0), _a(0.0, 0.0, 0.0, 1.0, 1.0)]),
    ("clamp tensor max only", lambda lib, x, hi: lib.clamp(x, max=hi),
     [_a(-1.0, 0.0, 0.5, 1.0, 2.0), _a(0.0, 0.0, 0.0, 1.0, 1.0)]),
    ("clamp broadcast bounds", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
     [_normal(3, 4), _a(-0.5), np.full((3, 1), 0.5)]),
    ("where broadcast condition", lambda lib, x, y: lib.where(lib.tensor([[True], [False]]), x, y),
     [_normal(2, 3), _normal(3, seed=1)]),
    ("where scalar other", lambda lib, x: lib.where(x > 0, x, 0.0), [_normal(2, 3)]),
    ("where scalar input", lambda lib, x: lib.where(x > 0, 2.0, x), [_normal(2, 3)]),
    ("where method", lambda lib, x, y: x.where(x > y, y), [_normal(2, 3), _normal(3, seed=1)]),
    ("remainder signs", lambda lib, x, y: lib.remainder(x, y),
     [_a(5.5, -5.5, 5.5, -5.5, 3.2), _a(2.0, 2.0, -2.0, -2.0, 1.5)]),
    ("remainder scalar", lambda lib, x: lib.remainder(x, -1.5), [_a(5.5, -5.5, 3.2)]),
    ("floor/ceil/trunc/round", lambda lib, x: [x.floor(), x.ceil(), x.trunc(), x.round()],
     [_a(-1.5, -0.5, 0.0, 0.5, 2.0)]),
    ("div trunc", lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
     [_a(5.5, -5.5, 1.0), _a(2.0, -2.0, 0.3)]),
    ("div floor", lambda lib, x, y: lib.div(x, y, rounding_mode="floor"),
     [_a(5.5, -5.5, 1.0), _a(2.0, -2.0, 0.3)]),
    ("div rounding scalar", lambda lib, x: [x.div(2, rounding_mode="floor"),
                                            lib.div(3.0, x, rounding_mode="trunc")],
     [_a(5.5, -5.5, 1.0)]),
    ("add alpha", lambda lib, x, y: lib.add(x, y, alpha=2.5), [_normal(2, 3), _normal(3)]),
    ("add int alpha", lambda lib, x, y: x.add(y, alpha=-3), [_normal(2, 3), _normal(3)]),
    ("sub alpha", lambda lib, x, y: lib.sub(x, y, alpha=-1.5), [_normal(2, 3), _normal(3)]),
    ("subtract alpha", lambda lib, x, y: x.subtract(y, alpha=0.5), [_normal(3), _normal(2, 3)]),
    ("add scalar alpha", lambda lib, x: lib.add(x, 2, alpha=2.5), [_normal(3)]),
    ("complex alpha", lambda lib, x, y: lib.add(x, y, alpha=2 - 1j), [_complex(3), _complex(3)]),
    ("gelu", lambda lib, x: F.gelu(x) if lib is torch else ember.gelu(x),
     [_a(-30.0, -3.0, -1.0, 0.0, 0.5, 2.0, 30.0)]),
    ("gelu tanh", lambda lib, x: (F.gelu(x, approximate="tanh") if lib is torch
                                  else ember.gelu(x, approximate="tanh")),
     [_a(-30.0, -3.0, -1.0, 0.0, 0.5, 2.0, 30.0)]),
    ("silu", lambda lib, x: F.silu(x) if lib is torch else ember.silu(x),
     [_a(-800.0, -30.0, -1.0, 0.0, 0.5, 2.0, 40.0)]),
]


@pytest.mark.parametrize("case", SPECIAL_POINTS, ids=[c[0] for c in SPECIAL_POINTS])
def test_special_points(case):
    _, fn, arrays = case
    assert_grads_match_torch(fn, *arrays)


def test_floor_divide_has_zero_gradient():
    # PyTorch raises for floor_divide's derivative; ember's is zero, as div(rounding_mode)
    x = ember.tensor(_a(5.5, -5.5, 1.0), requires_grad=True)
    y = ember.tensor(_a(2.0, -2.0, 0.3), requires_grad=True)
    ember.floor_divide(x, y).sum().backward()
    assert np.all(np.asarray(x.grad) == 0) and np.all(np.asarray(y.grad) == 0)


def test_non_differentiable_ops_do_not_require_grad():
    x = ember.tensor(_normal(2, 3), requires_grad=True)
    y = ember.tensor(_normal(3, seed=1), requires_grad=True)
    outs = [x == y, x != y, x < y, x <= y, x > y, x >= 0, ember.eq(x, y), ember.isnan(x),
            ember.isinf(x), ember.isfinite(x), ember.logical_not(x), ember.logical_and(x, y),
            ember.logical_or(x, y), ember.logical_xor(x, 1.0), ember.lt(x, 0.5)]
    for out in outs:
        assert out.dtype == ember.bool and not out.requires_grad and out.grad_fn is None
    t = torch.tensor(_normal(2, 3), requires_grad=True)
    assert not (t == t).requires_grad and not torch.isnan(t).requires_grad
    # rounding ops do require grad (zero gradient), as in PyTorch
    for fn in ("floor", "ceil", "trunc", "round", "sign"):
        assert getattr(x, fn)().requires_grad and getattr(t, fn)().requires_grad


def test_out_refused_when_recording():
    for lib in (ember, torch):
        x = lib.tensor(_normal(3), requires_grad=True)
        out = lib.empty(3, dtype=lib.float64)
        for fn in (lambda: lib.exp(x, out=out), lambda: lib.mul(x, 2, out=out),
                   lambda: lib.clamp(x, min=0.0, out=out),
                   lambda: lib.div(x, 2, rounding_mode="floor", out=out)):
            with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
                fn()
        with lib.no_grad():
            lib.div(x, 2, rounding_mode="floor", out=out)
        np.testing.assert_array_equal(np.asarray(out), np.floor(np.asarray(x.detach()) / 2))


def test_no_grad_and_detach():
    x = ember.tensor(_normal(3), requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).exp().requires_grad
    assert not x.detach().exp().requires_grad


# ---------------------------------------------------------------- in-place forms

# in-place ops whose formula needs only the output or no saved input
INPLACE = ["neg", "exp", "expm1", "sqrt", "rsqrt", "reciprocal", "tanh", "sigmoid", "relu",
           "floor", "ceil", "trunc", "round", "sign"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_unary_on_non_leaf(name):
    gen = UNARY_DOMAIN.get(name, _positive if name in ("sqrt", "rsqrt") else _normal)
    assert_grads_match_torch(lambda lib, x: getattr(x.clone(), name + "_")() * x, gen(2, 3))
    assert_grads_match_torch(lambda lib, x: getattr(x * 1, name + "_")(), gen(2, 3),
                             layout=LAYOUTS["transposed"])


def test_inplace_binary_on_non_leaf():
    x, y = _normal(2, 3), _normal(3, seed=1)
    assert_grads_match_torch(lambda lib, a, b: (a * 1).add_(b), x, y)
    assert_grads_match_torch(lambda lib, a, b: (a * 1).add_(b, alpha=-2.5), x, y)
    assert_grads_match_torch(lambda lib, a, b: (a * 1).sub_(b, alpha=0.5), x, y)
    assert_grads_match_torch(lambda lib, a, b: (a * 1).sub_(2.0), x, y)

    def operators(lib, a, b):
        c = a * 2
        c += b
        c -= 3.0
        return c
    assert_grads_match_torch(operators, x, y)
    # the result of an in-place op on a float32 tensor with a float64 operand stays float32
    assert_grads_match_torch(lambda lib, a, b: (a * 1).add_(b),
                             x.astype(np.float32), y, rtol=1e-6, atol=1e-7)


def test_inplace_on_leaf_raises_as_torch():
    for lib in (ember, torch):
        x = lib.tensor(_normal(3), requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.exp_()
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x += 1


def test_inplace_on_saved_tensor_raises_at_backward():
    for lib in (ember, torch):
        x = lib.tensor(_normal(3), requires_grad=True)
        a = x * 1
        b = a.sin()                  # saves its input
        a.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()
        c = x.exp()                  # saves its output
        c.add_(x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            c.sum().backward()


# ---------------------------------------------------------------- finite differences

GRADCHECK_UNARY_DOMAIN = {"floor": _a(0.3, -1.4, 2.2), "ceil": _a(0.3, -1.4, 2.2),
                          "trunc": _a(0.3, -1.4, 2.2), "round": _a(0.3, -1.4, 2.2)}


@pytest.mark.parametrize("name", UNARY)
def test_gradcheck_unary(name):
    x = GRADCHECK_UNARY_DOMAIN.get(name, UNARY_DOMAIN.get(name, _normal)(3, seed=4))
    check_gradients(_call(name), x)
    check_gradients(lambda lib, t: _call(name)(lib, t[::-1]), x)     # negative stride


@pytest.mark.parametrize("name", COMPLEX_UNARY)
def test_gradcheck_unary_complex(name):
    check_gradients(_call(name), _complex(2, seed=5))


@pytest.mark.parametrize("name", BINARY + ["floor_divide"])
def test_gradcheck_binary(name):
    if name in ("remainder", "floor_divide", "fmod"):
        x, y = _a(5.3, -5.7, 1.1), _a(2.0, 1.5, -1.3)
    else:
        gen_a, gen_b = BINARY_DOMAIN.get(name, (_normal, _normal))
        x, y = gen_a(2, 3, seed=6), gen_b(3, seed=7)
    check_gradients(_call(name), x, y)
    check_gradients(lambda lib, a, b: _call(name)(lib, a[::-1], b[::-1]), x, y)


@pytest.mark.parametrize("name", COMPLEX_BINARY)
def test_gradcheck_binary_complex(name):
    check_gradients(_call(name), _complex(2, seed=8), _complex(2, seed=9))


def test_gradcheck_ternary_and_custom_signatures():
    x = _a(-1.0, 0.3, 0.7, 2.0)
    check_gradients(lambda lib, t, lo, hi: lib.clamp(t, lo, hi), x, _a(0.0, 0.0, 0.5, 0.0),
                    _a(1.0, 1.0, 1.0, 1.5))
    check_gradients(lambda lib, t: lib.clamp(t, min=0.2), x)
    check_gradients(lambda lib, t, lo: lib.clamp(t, min=lo), x, _a(0.0, 0.5, 0.5, 0.0))
    check_gradients(lambda lib, t, y: lib.where(t > 0.5, t, y), x, _a(1.0, 2.0, 3.0, 4.0))
    check_gradients(lambda lib, t, y: lib.add(t, y, alpha=-2.5), x, _a(1.0, 2.0, 3.0, 4.0))
    check_gradients(lambda lib, t: lib.gelu(t, approximate="tanh"), x)
    check_gradients(lambda lib, t: lib.div(t, 0.3, rounding_mode="floor") + t, _a(0.5, -0.7))


# ---------------------------------------------------------------- graph node names

NODE_NAMES = [
    ("x * y", "MulBackward0"), ("x * 2", "MulBackward0"), ("x + y", "AddBackward0"),
    ("2 + x", "AddBackward0"), ("x - y", "SubBackward0"), ("x / y", "DivBackward0"),
    ("x / 2", "DivBackward0"), ("x ** 2", "PowBackward0"), ("-x", "NegBackward0"),
    ("lib.add(x, y, alpha=2)", "AddBackward0"), ("lib.sub(x, y, alpha=2)", "SubBackward0"),
    ("x.exp()", "ExpBackward0"), ("x.log()", "LogBackward0"), ("x.log1p()", "Log1PBackward0"),
    ("x.expm1()", "Expm1Backward0"), ("x.log2()", "Log2Backward0"), ("x.abs()", "AbsBackward0"),
    ("x.sqrt()", "SqrtBackward0"), ("x.rsqrt()", "RsqrtBackward0"), ("x.sin()", "SinBackward0"),
    ("x.cos()", "CosBackward0"), ("x.tanh()", "TanhBackward0"),
    ("x.sigmoid()", "SigmoidBackward0"), ("x.reciprocal()", "ReciprocalBackward0"),
    ("x.erf()", "ErfBackward0"), ("x.relu()", "ReluBackward0"), ("x.sign()", "SignBackward0"),
    ("x.floor()", "FloorBackward0"), ("x.round()", "RoundBackward0"),
    ("lib.minimum(x, y)", "MinimumBackward0"), ("lib.maximum(x, y)", "MaximumBackward0"),
    ("lib.where(x > 1, x, y)", "WhereBackward0"), ("x.clamp(0.5, 1.5)", "ClampBackward1"),
    ("x.clamp(min=0.5)", "ClampBackward1"), ("x.clamp(max=0.5)", "ClampBackward1"),
    ("lib.remainder(x, 0.3)", "RemainderBackward0"), ("lib.remainder(x, y)", "RemainderBackward1"),
    ("2 - x", "RsubBackward1"), ("2 / x", "MulBackward0"), ("x ** y", "PowBackward1"),
    ("2 ** x", "PowBackward2"), ("x.clamp(y, y + 1)", "ClampBackward0"),
    ("x.clamp(max=y)", "ClampBackward0"),
    ("lib.div(x, y, rounding_mode='floor')", "DivBackward2"),
    ("lib.div(x, y, rounding_mode='trunc')", "DivBackward2"),
    ("gelu(x)", "GeluBackward0"), ("gelu(x, approximate='tanh')", "GeluBackward0"),
    ("silu(x)", "SiluBackward0"), ("(x * 1).exp_()", "ExpBackward0"),
    ("(x * 1).add_(y)", "AddBackward0"), ("(x * 1j).conj()", "ConjBackward0"),
]


@pytest.mark.parametrize("expr, expected", NODE_NAMES)
def test_node_names(expr, expected):
    for lib in (ember, torch):
        x = lib.tensor([[0.5, 1.5, 2.0], [1.0, 0.7, 0.3]], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([1.2, 0.4, 2.0], dtype=lib.float64, requires_grad=True)
        gelu = F.gelu if lib is torch else ember.gelu
        silu = F.silu if lib is torch else ember.silu
        out = eval(expr, dict(lib=lib, x=x, y=y, gelu=gelu, silu=silu))
        assert out.grad_fn.name() == expected, (lib.__name__, expr)
