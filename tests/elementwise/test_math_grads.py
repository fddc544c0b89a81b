"""Gradients of the elementwise math ops: against PyTorch, gradcheck and gradgradcheck."""
import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

RNG = np.random.default_rng(0)
# inputs inside each op's domain, away from its kinks
UNIT = RNG.uniform(0.1, 0.9, size=(3, 4))
WIDE = RNG.uniform(-2.0, 2.0, size=(3, 4))
ABOVE_ONE = RNG.uniform(1.2, 3.0, size=(3, 4))
POSITIVE = RNG.uniform(0.3, 3.0, size=(3, 4))
COMPLEX = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))

UNARY = {"exp2": WIDE, "log10": POSITIVE, "tan": UNIT, "asin": UNIT, "acos": UNIT,
         "atan": WIDE, "sinh": WIDE, "cosh": WIDE, "asinh": WIDE, "acosh": ABOVE_ONE,
         "atanh": UNIT, "arcsin": UNIT, "erfc": WIDE, "lgamma": POSITIVE, "logit": UNIT,
         "sinc": WIDE, "frac": WIDE, "sgn": WIDE, "angle": WIDE, "deg2rad": WIDE,
         "rad2deg": WIDE}
BINARY = {"fmod": (WIDE, POSITIVE), "atan2": (WIDE, POSITIVE), "hypot": (WIDE, POSITIVE),
          "xlogy": (WIDE, POSITIVE), "copysign": (WIDE, WIDE[::-1].copy()),
          "logaddexp": (WIDE, POSITIVE), "logaddexp2": (WIDE, POSITIVE),
          "fmin": (WIDE, POSITIVE), "fmax": (WIDE, POSITIVE), "float_power": (POSITIVE, WIDE),
          "ldexp": (WIDE, POSITIVE), "arctan2": (WIDE, POSITIVE)}
# step functions and ops whose double backward is not a smooth function of the input
NO_GRADGRAD = {"frac", "sgn", "angle", "fmod", "copysign", "fmin", "fmax"}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", sorted(set(UNARY) - {"sgn", "angle"}))
def test_unary_grads_match_torch(name, layout):
    assert_grads_match_torch(lambda lib, x: getattr(lib, name)(x), UNARY[name],
                             layout=LAYOUTS[layout], rtol=1e-6)


def test_real_sgn_angle_have_zero_gradient():
    """torch returns a ZeroTensor (no NumPy view) here: compare with zeros."""
    for name in ("sgn", "angle"):
        x = ember.tensor(WIDE, requires_grad=True)
        getattr(ember, name)(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(WIDE))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    check_gradients(lambda lib, x: getattr(lib, name)(x), UNARY[name],
                    gradgrad=name not in NO_GRADGRAD)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grads_match_torch(name, layout):
    assert_grads_match_torch(lambda lib, x, y: getattr(lib, name)(x, y), *BINARY[name],
                             layout=LAYOUTS[layout], rtol=1e-6)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(name):
    check_gradients(lambda lib, x, y: getattr(lib, name)(x, y), *BINARY[name],
                    gradgrad=name not in NO_GRADGRAD)


def test_broadcast_and_negative_stride_grads():
    check_gradients(lambda lib, x, y: lib.atan2(x.flip(0), y[0]), WIDE, POSITIVE)
    assert_grads_match_torch(lambda lib, x, y: lib.hypot(x, y[:1].expand(3, 4)), WIDE, POSITIVE)
    assert_grads_match_torch(lambda lib, x, y: lib.xlogy(x[0, 0], y), WIDE, POSITIVE)


@pytest.mark.parametrize("name", ["sgn", "angle", "tan", "asinh", "exp2", "log10"])
def test_complex_grads_match_torch(name):
    assert_grads_match_torch(lambda lib, x: getattr(lib, name)(x), COMPLEX, rtol=1e-6)


def test_ties_and_special_points_match_torch():
    a = np.array([1.0, 2.0, np.nan, 0.0, -1.0])
    b = np.array([1.0, 3.0, 1.0, np.nan, -1.0])
    for name in ("fmin", "fmax"):
        assert_grads_match_torch(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    z = np.array([0.0, 0.5, -0.5, 2.0])
    assert_grads_match_torch(lambda lib, x, y: lib.xlogy(x, y), z, np.abs(z) + 1)
    assert_grads_match_torch(lambda lib, x: lib.sinc(x), z)
    assert_grads_match_torch(lambda lib, x: lib.logit(x, eps=0.3), np.array([0.1, 0.3, 0.5, 0.9]))


def test_xlogy_grad_where_x_is_zero_matches_torch():
    # x log y is linear in x: at x == 0 its x-gradient is still log y (it was 0), and 0
    # only where y <= 0; with a Python-number y too
    x = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    y = np.array([0.5, 3.0, 0.0, -1.0, 0.0, np.nan])
    assert_grads_match_torch(lambda lib, a, b: lib.xlogy(a, b), x, y)
    assert_grads_match_torch(lambda lib, a: lib.xlogy(a, 0.25), x)
    assert_grads_match_torch(lambda lib, a: lib.xlogy(a, 0.0), x)
    check_gradients(lambda lib, a, b: lib.xlogy(a, b), x[:2], y[:2])
    # Gamma(1, rate).log_prob has xlogy(concentration - 1, value) at 0
    grads = []
    for lib in (ember, torch):
        c = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        lp = lib.distributions.Gamma(c, 0.5).log_prob(lib.tensor([0.3, 2.0], dtype=lib.float64))
        grads.append(lib.autograd.grad(lp.sum(), c)[0].numpy())
    np.testing.assert_allclose(*grads, rtol=1e-12)


def test_atan2_grad_at_the_origin_matches_torch():
    # 0 there (the plain quotients are 0/0), as PyTorch
    x = np.array([0.0, 1.0, -0.0, -2.0])
    y = np.array([0.0, 0.0, -0.0, 3.0])
    assert_grads_match_torch(lambda lib, a, b: lib.atan2(a, b), x, y)


def test_nextafter_grads_match_torch():
    # PyTorch passes the gradient through to input and gives other none
    assert_grads_match_torch(lambda lib, a, b: lib.nextafter(a, b), WIDE, POSITIVE[0])


def test_parametrised_ops_grads():
    assert_grads_match_torch(lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5), WIDE,
                             POSITIVE[0], UNIT[:, :1])
    assert_grads_match_torch(lambda lib, a, b, c: lib.addcdiv(a, b, c, value=-2), WIDE,
                             POSITIVE[0], UNIT[:, :1])
    check_gradients(lambda lib, a, b, c: lib.addcdiv(a, b, c, value=-2), WIDE, POSITIVE, UNIT)
    assert_grads_match_torch(lambda lib, x: lib.round(x, decimals=2), WIDE)
    assert_grads_match_torch(lambda lib, x, y: lib.remainder(x, y), WIDE, POSITIVE)
    assert_grads_match_torch(lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"), WIDE,
                             POSITIVE)


def test_grad_fn_names():
    x = ember.tensor([0.5], dtype=ember.float64, requires_grad=True)
    assert ember.atan2(x, x).grad_fn.name() == "Atan2Backward0"
    assert ember.lgamma(x).grad_fn.name() == "LgammaBackward0"
