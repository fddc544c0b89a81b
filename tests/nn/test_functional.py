"""ember.nn.functional against torch.nn.functional: values and input gradients on
the same float32 / float64 data, reductions, weights, ignored targets, extra
dimensions, edge cases and error classes."""
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special as scipy_special
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import Const, compare  # noqa: E402

rng = np.random.default_rng(1234)


def randn(*shape):
    return rng.standard_normal(shape)


def uniform(*shape, low=0.0, high=1.0):
    return rng.uniform(low, high, shape)


def classes(*shape, n=5):
    return rng.integers(0, n, shape)


# an input that hits the kinks of the piecewise activations exactly
KINKS = np.array([-7.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0, 25.0, -25.0])
X = np.concatenate([randn(3, 4).ravel() * 3, KINKS]).reshape(4, 6)

ACTIVATIONS = {
    "relu": lambda F, lib, x: F.relu(x),
    "relu6": lambda F, lib, x: F.relu6(x),
    "leaky_relu": lambda F, lib, x: F.leaky_relu(x, 0.2),
    "elu": lambda F, lib, x: F.elu(x, alpha=1.5),
    "selu": lambda F, lib, x: F.selu(x),
    # 0.75 is exact in float32: torch computes the celu gradient with 1 / float(alpha)
    "celu": lambda F, lib, x: F.celu(x, alpha=0.75),
    "gelu": lambda F, lib, x: F.gelu(x),
    "gelu_tanh": lambda F, lib, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, lib, x: F.silu(x),
    "mish": lambda F, lib, x: F.mish(x),
    "sigmoid": lambda F, lib, x: F.sigmoid(x),
    "tanh": lambda F, lib, x: F.tanh(x),
    "softplus": lambda F, lib, x: F.softplus(x),
    "softplus_beta": lambda F, lib, x: F.softplus(x, beta=2.0, threshold=5.0),
    "softsign": lambda F, lib, x: F.softsign(x),
    "hardtanh": lambda F, lib, x: F.hardtanh(x),
    "hardtanh_bounds": lambda F, lib, x: F.hardtanh(x, -3.0, 0.5),
    "hardsigmoid": lambda F, lib, x: F.hardsigmoid(x),
    "hardswish": lambda F, lib, x: F.hardswish(x),
    "softmax0": lambda F, lib, x: F.softmax(x, 0),
    "softmax1": lambda F, lib, x: F.softmax(x, dim=-1),
    "softmax_legacy": lambda F, lib, x: F.softmax(x),
    "softmin": lambda F, lib, x: F.softmin(x, 1),
    "log_softmax": lambda F, lib, x: F.log_softmax(x, 1),
    "log_softmax_legacy": lambda F, lib, x: F.log_softmax(x[0]),
    "glu": lambda F, lib, x: F.glu(x),
    "glu0": lambda F, lib, x: F.glu(x, 0),
    "threshold": lambda F, lib, x: F.threshold(x, 0.5, -2.0),
    "logsigmoid": lambda F, lib, x: F.logsigmoid(x),
    "tanhshrink": lambda F, lib, x: F.tanhshrink(x),
    "softshrink": lambda F, lib, x: F.softshrink(x),
    "softshrink_lambda": lambda F, lib, x: F.softshrink(x, 1.0),
    "hardshrink": lambda F, lib, x: F.hardshrink(x),
    "hardshrink_lambda": lambda F, lib, x: F.hardshrink(x, 1.0),
    "transposed": lambda F, lib, x: F.elu(x.t()),
    "reversed_view": lambda F, lib, x: F.softplus(x.flip(0) if lib is torch else x[::-1]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(name, dtype):
    tol = None
    if name == "hardsigmoid" and dtype == np.float64:
        tol = dict(rtol=1e-7, atol=1e-12)  # torch scales this gradient by float32(1 / 6)
    compare(ACTIVATIONS[name], X, dtype=dtype, tol=tol)


@pytest.mark.parametrize("name", ["relu", "softplus", "gelu", "elu"])
def test_activation_on_empty_and_zero_dim(name):
    fn = ACTIVATIONS[name]
    compare(fn, np.zeros((0, 3)))
    compare(fn, np.array(0.7))


def test_gelu_float32_is_accurate_in_both_tails():
    # the float kernel evaluates Phi through erfc, so the negative tail keeps its relative
    # accuracy where 0.5 * x * (1 + erf(x / sqrt 2)) cancels (torch's float gelu is 17% off
    # at -5); the gradient uses the same Phi
    x64 = np.concatenate([np.linspace(-12, 12, 4001), [0.0, -0.0, 1e-30, -1e-30]])
    x = ember.tensor(x64.astype(np.float32), requires_grad=True)
    y = F.gelu(x)
    y.sum().backward()
    xf = x64.astype(np.float32).astype(np.float64)
    exact = xf * 0.5 * scipy_special.erfc(-xf / np.sqrt(2))
    grad_exact = (0.5 * scipy_special.erfc(-xf / np.sqrt(2))
                  + xf * np.exp(-0.5 * xf * xf) / np.sqrt(2 * np.pi))
    # past |x| ~ 4.5 the float rounding of x * x in exp's argument dominates the error
    y = np.asarray(y.detach())
    for part, rtol in ((np.abs(xf) <= 4.5, 2e-6), (np.abs(xf) > 4.5, 3e-5)):
        np.testing.assert_allclose(y[part], exact[part], rtol=rtol, atol=1e-37)
    np.testing.assert_allclose(np.asarray(x.grad), grad_exact, rtol=2e-6, atol=1e-6)
    # as torch's float64 gelu (its float32 one gives nan at +inf)
    special = [float("inf"), float("-inf"), float("nan")]
    np.testing.assert_array_equal(np.asarray(F.gelu(ember.tensor(special))),
                                  TF.gelu(torch.tensor(special, dtype=torch.float64)).numpy())


def test_shrinks_keep_nan_and_signed_zeros():
    v = [float("nan"), -0.2, 0.2, 0.5, -0.5, 1.0, -1.0, float("inf"), float("-inf")]
    for name in ("softshrink", "hardshrink"):
        got = getattr(F, name)(ember.tensor(v))
        want = getattr(TF, name)(torch.tensor(v))
        np.testing.assert_array_equal(np.asarray(got), want.numpy())
        np.testing.assert_array_equal(np.signbit(np.asarray(got)), np.signbit(want.numpy()))


def test_inplace_activations_write_into_input():
    for name, kwargs in [("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("elu", {}),
                         ("selu", {}), ("celu", {}), ("silu", {}), ("mish", {}), ("hardtanh", {}),
                         ("hardsigmoid", {}), ("hardswish", {})]:
        e, t = ember.tensor(X.copy()), torch.tensor(X.copy())
        e_out = getattr(F, name)(e, inplace=True, **kwargs)
        getattr(TF, name)(t, inplace=True, **kwargs)
        assert e_out is e, name
        np.testing.assert_allclose(np.asarray(e), t.numpy(), rtol=1e-12, err_msg=name)
    e, t = ember.tensor(X.copy()), torch.tensor(X.copy())
    F.threshold(e, 0.1, 5.0, inplace=True)
    TF.threshold(t, 0.1, 5.0, inplace=True)
    np.testing.assert_allclose(np.asarray(e), t.numpy())


def test_softmax_dtype_and_legacy_warning():
    x = ember.tensor(X.astype(np.float32))
    assert F.softmax(x, 1, dtype=ember.float64).dtype == ember.float64
    assert F.log_softmax(x, 1, dtype=ember.float64).dtype == ember.float64
    assert F.softmin(x, 1, dtype=ember.float64).dtype == ember.float64
    with pytest.warns(UserWarning, match="Implicit dimension"):
        F.softmax(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_shape", [(1,), (3,)])
def test_prelu(weight_shape, dtype):
    w = uniform(*weight_shape)
    compare(lambda F, lib, x, w: F.prelu(x, w), randn(2, 3, 4, 2), w, dtype=dtype)
    compare(lambda F, lib, x, w: F.prelu(x, w), randn(5, 3), w, dtype=dtype)


def test_softplus_large_inputs_stay_finite():
    x = ember.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=ember.float32, requires_grad=True)
    for fn in (F.softplus, F.logsigmoid, F.mish):
        y = fn(x)
        (grad,) = ember.autograd.grad(y.sum(), x)
        assert np.isfinite(np.asarray(y.detach())).all(), fn
        assert np.isfinite(np.asarray(grad)).all(), fn


def test_activation_errors():
    x = ember.tensor(X)
    with pytest.raises(RuntimeError, match="dimension 0 is size 3"):
        F.glu(ember.ones(3, 4), 0)
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(ember.tensor(1.0))
    with pytest.raises(RuntimeError, match="parameter numbers = 2 and channel size = 6"):
        F.prelu(x, ember.ones(2))
    with pytest.raises(RuntimeError, match="lambda"):
        F.softshrink(x, -1.0)
    with pytest.raises(IndexError):
        F.softmax(x, 2)
    with pytest.raises(RuntimeError):
        TF.glu(torch.ones(3, 4), 0)


# ----------------------------------------------------------------------------------- losses

REDUCTIONS = ["none", "mean", "sum"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction, dtype):
    x, y, w = randn(4, 3), randn(4, 3), uniform(4, 3)
    y[0, 0] = x[0, 0]  # a zero difference: the kink of l1
    y[1, 0] = x[1, 0] + 1.0  # |d| == beta == delta
    for fn in [
        lambda F, lib, x, y: F.mse_loss(x, y, reduction=reduction),
        lambda F, lib, x, y: F.l1_loss(x, y, reduction=reduction),
        lambda F, lib, x, y: F.smooth_l1_loss(x, y, reduction=reduction),
        lambda F, lib, x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5),
        lambda F, lib, x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.0),
        lambda F, lib, x, y: F.huber_loss(x, y, reduction=reduction),
        lambda F, lib, x, y: F.huber_loss(x, y, reduction=reduction, delta=0.3),
    ]:
        compare(fn, x, y, dtype=dtype)
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        compare(lambda F, lib, x, y, w: getattr(F, name)(x, y, reduction=reduction, weight=w),
                x, y, w, dtype=dtype)


def test_regression_losses_broadcast_warn_and_legacy_args():
    x, y = randn(4, 3), randn(3)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(ember.tensor(x), ember.tensor(y))
    compare(lambda F, lib, x, y: F.mse_loss(x, y), x, y)
    compare(lambda F, lib, x, y: F.l1_loss(x, y, size_average=False), x, randn(4, 3))
    compare(lambda F, lib, x, y: F.mse_loss(x, y, reduce=False), x, randn(4, 3))
    compare(lambda F, lib, x, y: F.mse_loss(x, y), np.zeros((0, 3)), np.zeros((0, 3)))


def test_squared_error_losses_refuse_integer_tensors_like_torch():
    # an integer TD target meeting integer predictions: torch has no kernel for it
    for name, kernel in (("mse_loss", "mse"), ("smooth_l1_loss", "smooth_l1"),
                         ("huber_loss", "huber")):
        for dt, tname in ((ember.int64, "Long"), (ember.int32, "Int"), (ember.bool, "Bool"),
                          (ember.uint8, "Byte")):
            a, b = ember.tensor([1, 0], dtype=dt), ember.tensor([1, 1], dtype=dt)
            ta, tb = torch.tensor([1, 0], dtype=getattr(torch, str(dt).split(".")[1])), \
                torch.tensor([1, 1], dtype=getattr(torch, str(dt).split(".")[1]))
            for reduction in REDUCTIONS:
                message = f'"{kernel}_cpu" not implemented for \'{tname}\''
                with pytest.raises(NotImplementedError, match=message):
                    getattr(F, name)(a, b, reduction=reduction)
                with pytest.raises(NotImplementedError, match=message):
                    getattr(TF, name)(ta, tb, reduction=reduction)
        # one floating operand is enough, as in torch (whose backward then fails on the
        # integer target: compare the values only)
        x, y = randn(3), np.array([1, 0, 2])
        np.testing.assert_allclose(getattr(F, name)(ember.tensor(x), ember.tensor(y)).item(),
                                   getattr(TF, name)(torch.tensor(x), torch.tensor(y)).item())
    # l1_loss keeps integer 'sum' and 'none' (torch's 'mean' refuses them)
    assert F.l1_loss(ember.tensor([1, 0]), ember.tensor([1, 3]), reduction="sum").item() == 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_and_nll_class_indices(reduction, dtype):
    weight = Const(uniform(5, low=0.2, high=2.0))
    for shape in [(6, 5), (3, 5, 2), (2, 5, 2, 3)]:
        x = randn(*shape)
        t = classes(shape[0], *shape[2:])
        t.reshape(-1)[::4] = -100
        for kwargs in [{}, {"label_smoothing": 0.2}]:
            compare(lambda F, lib, x, t: F.cross_entropy(x, t, reduction=reduction, **kwargs),
                    x, t, dtype=dtype)
            compare(lambda F, lib, x, t, w: F.cross_entropy(x, t, w, reduction=reduction, **kwargs),
                    x, t, weight, dtype=dtype)
        t2 = np.where(t == -100, 3, t)
        compare(lambda F, lib, x, t, w: F.cross_entropy(x, t, w, ignore_index=3,
                                                         reduction=reduction, label_smoothing=0.1),
                x, t2, weight, dtype=dtype)
        compare(lambda F, lib, x, t: F.nll_loss(F.log_softmax(x, 1), t, reduction=reduction),
                x, t, dtype=dtype)
        compare(lambda F, lib, x, t, w: F.nll_loss(x, t, w, reduction=reduction, ignore_index=1),
                x, t2, weight, dtype=dtype)
    # unbatched (C,) input with a 0-d target
    compare(lambda F, lib, x, t: F.cross_entropy(x, t, reduction=reduction), randn(5), np.array(2))
    compare(lambda F, lib, x, t: F.nll_loss(x, t, reduction=reduction), randn(5), np.array(4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_probabilities(reduction, dtype):
    weight = Const(uniform(4, low=0.2, high=2.0))
    for shape in [(5, 4), (2, 4, 3), (4,)]:
        x = randn(*shape)
        p = TF.softmax(torch.tensor(randn(*shape)), 1 if len(shape) > 1 else 0).numpy()
        for kwargs in [{}, {"label_smoothing": 0.3}]:
            compare(lambda F, lib, x, p: F.cross_entropy(x, p, reduction=reduction, **kwargs),
                    x, p, dtype=dtype)
            compare(lambda F, lib, x, p, w: F.cross_entropy(x, p, w, reduction=reduction,
                                                             **kwargs), x, p, weight, dtype=dtype)


def test_cross_entropy_edge_cases():
    # every target ignored: mean is 0 / 0 = nan, as in torch
    t = np.full(4, -100)
    compare(lambda F, lib, x, t: F.cross_entropy(x, t), randn(4, 3), t)
    compare(lambda F, lib, x, t: F.cross_entropy(x, t, label_smoothing=0.1), randn(4, 3), t)
    compare(lambda F, lib, x, t: F.cross_entropy(x, t, reduction="sum"), randn(4, 3), t)
    # empty batch
    empty = np.zeros(0, dtype=np.int64)
    for reduction in REDUCTIONS:
        compare(lambda F, lib, x, t: F.cross_entropy(x, t, reduction=reduction),
                np.zeros((0, 3)), empty)
    # large logits stay finite
    compare(lambda F, lib, x, t: F.cross_entropy(x, t), randn(4, 3) * 1e4, classes(4, n=3))


def test_cross_entropy_errors():
    x = ember.tensor(randn(3, 5))
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(x, ember.tensor([0, 1]))
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, ember.tensor([0, 1, 7]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.nll_loss(x, ember.tensor([0, 1, -3]))
    with pytest.raises(RuntimeError, match="Long"):
        F.cross_entropy(x, ember.tensor([0, 1, 2], dtype=ember.int32))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, ember.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="floating point"):
        F.cross_entropy(x, ember.zeros(3, 5, dtype=ember.int64))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(x, ember.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(RuntimeError, match="weight tensor"):
        F.nll_loss(x, ember.tensor([0, 1, 2]), weight=ember.ones(4))
    with pytest.raises(RuntimeError, match="target size"):
        F.cross_entropy(ember.ones(2, 5, 3), ember.zeros(2, 4, dtype=ember.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, dtype):
    p, t, w = uniform(4, 3, low=0.01, high=0.99), uniform(4, 3), Const(uniform(4, 3))
    compare(lambda F, lib, p, t: F.binary_cross_entropy(p, t, reduction=reduction), p, t,
            dtype=dtype)
    compare(lambda F, lib, p, t, w: F.binary_cross_entropy(p, t, w, reduction=reduction),
            p, t, w, dtype=dtype)
    compare(lambda F, lib, p, t, w: F.binary_cross_entropy(p, t, w, reduction=reduction),
            p, t, Const(uniform(3)), dtype=dtype)
    x = randn(4, 3) * 5
    x[0, :] = [50.0, -50.0, 0.0]
    pw = Const(uniform(3, low=0.5, high=3.0))
    compare(lambda F, lib, x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
            x, t, dtype=dtype)
    compare(lambda F, lib, x, t, w, pw: F.binary_cross_entropy_with_logits(
        x, t, w, reduction=reduction, pos_weight=pw), x, t, w, pw, dtype=dtype)
    compare(lambda F, lib, x, t: F.multilabel_soft_margin_loss(x, t, reduction=reduction),
            x, t.round(), dtype=dtype)
    compare(lambda F, lib, x, t, w: F.multilabel_soft_margin_loss(x, t, w, reduction=reduction),
            x, t.round(), uniform(3), dtype=dtype)


def test_binary_cross_entropy_clamps_log():
    # probabilities 0 and 1 give log clamped to -100: a finite loss
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    e = F.binary_cross_entropy(ember.tensor(p), ember.tensor(t), reduction="none")
    expected = TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(np.asarray(e), expected.numpy())
    x = ember.tensor(p, requires_grad=True)
    (grad,) = ember.autograd.grad(F.binary_cross_entropy(x, ember.tensor(t)), x)
    assert np.isfinite(np.asarray(grad)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_grads_at_0_and_1_match_torch(dtype):
    # PyTorch's gradient (x - t) / max(x (1 - x), 1e-12): a probability at exactly 0 or 1
    # on the wrong side gets a large gradient (the clamped log's would be 0), and on the
    # right side none; tiny probabilities take log1p's exact value
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-13, 0.3], dtype=dtype)
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.7], dtype=dtype)
    w = np.array([1.0, 2.0, 3.0, 1.0, 1.0, 1.0, 0.5], dtype=dtype)
    got, want = [], []
    for lib, fn, out in ((ember, F, got), (torch, TF, want)):
        x, y = lib.tensor(p, requires_grad=True), lib.tensor(t, requires_grad=True)
        loss = fn.binary_cross_entropy(x, y, lib.tensor(w), reduction="none")
        out.extend([loss, *lib.autograd.grad(loss.sum(), (x, y))])
    for g, e in zip(got, want):
        np.testing.assert_allclose(np.asarray(g.detach()), e.detach().numpy(), rtol=1e-6)
    x = ember.tensor([0.2, 0.7], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([0.1, 1.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(F.binary_cross_entropy, (x, y))
    assert ember.autograd.gradgradcheck(F.binary_cross_entropy, (x, y))


def test_binary_cross_entropy_errors():
    p = ember.tensor(uniform(3, 2))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(p, ember.ones(3, 1))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(p * 2 + 1, ember.ones(3, 2))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(p, ember.ones(3, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div(reduction, dtype):
    x = TF.log_softmax(torch.tensor(randn(4, 5)), 1).numpy()
    t = TF.softmax(torch.tensor(randn(4, 5)), 1).numpy()
    compare(lambda F, lib, x, t: F.kl_div(x, t, reduction=reduction), x, t, dtype=dtype)
    # zero targets: 0 * log(0) counts as 0 (torch's target gradient there is nan, ember's finite)
    t[0, :2] = 0.0
    compare(lambda F, lib, x, t: F.kl_div(x, t, reduction=reduction), x, Const(t), dtype=dtype)
    compare(lambda F, lib, x, t: F.kl_div(x, t, reduction=reduction, log_target=True),
            x, np.log(t + 0.1), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_and_gaussian_nll(reduction, dtype):
    # torch's target gradient is nan at t = 0 (log(0) in the masked Stirling term): constant t
    x, t = randn(4, 3), Const(rng.poisson(2.0, (4, 3)).astype(np.float64))
    compare(lambda F, lib, x, t: F.poisson_nll_loss(x, t, reduction=reduction), x, t, dtype=dtype)
    compare(lambda F, lib, x, t: F.poisson_nll_loss(x, t, full=True, reduction=reduction),
            x, t, dtype=dtype)
    compare(lambda F, lib, x, t: F.poisson_nll_loss(x, t, log_input=False, reduction=reduction),
            uniform(4, 3, low=0.1, high=3.0), t, dtype=dtype)
    mean, target = randn(4, 3), randn(4, 3)
    var = uniform(4, 3, low=0.1, high=2.0)
    var[0, 0] = 1e-9  # below eps: clamped
    for v in (var, var[:, 0], var[:, :1]):
        compare(lambda F, lib, x, t, v: F.gaussian_nll_loss(x, t, v, reduction=reduction),
                mean, target, v, dtype=dtype)
    compare(lambda F, lib, x, t, v: F.gaussian_nll_loss(x, t, v, full=True, reduction=reduction),
            mean, target, var, dtype=dtype)
    compare(lambda F, lib, x, t: F.gaussian_nll_loss(x, t, 0.5, reduction=reduction),
            mean, target, dtype=dtype)


def test_gaussian_nll_errors():
    x = ember.tensor(randn(4, 3))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, -ember.ones(4, 3))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(x, x, ember.ones(4, 2))
    with pytest.raises(ValueError, match="not valid"):
        F.gaussian_nll_loss(x, x, ember.ones(4, 3), reduction="avg")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_embedding_and_ranking_losses(reduction, dtype):
    a, b = randn(5, 4), randn(5, 4)
    target = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    compare(lambda F, lib, a, b, t: F.cosine_embedding_loss(a, b, t, reduction=reduction),
            a, b, target, dtype=dtype)
    compare(lambda F, lib, a, b, t: F.cosine_embedding_loss(a, b, t, margin=0.2,
                                                             reduction=reduction),
            a, b, target, dtype=dtype)
    compare(lambda F, lib, a, b, t: F.cosine_embedding_loss(a, b, t, reduction=reduction),
            a[0], b[0], np.array(-1.0), dtype=dtype)
    compare(lambda F, lib, a, b, t: F.margin_ranking_loss(a, b, t, margin=0.3, reduction=reduction),
            a[:, 0], b[:, 0], target, dtype=dtype)
    n = randn(5, 4)
    for kwargs in [{}, {"margin": 0.5, "p": 1}, {"swap": True}, {"p": 3, "eps": 1e-3}]:
        compare(lambda F, lib, a, b, n: F.triplet_margin_loss(a, b, n, reduction=reduction,
                                                               **kwargs), a, b, n, dtype=dtype)


def test_pair_loss_errors():
    x = ember.tensor(randn(3, 4))
    with pytest.raises(RuntimeError, match="multi-target"):
        F.cosine_embedding_loss(x, x, ember.ones(3, 1))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        F.cosine_embedding_loss(x[0], x[0], ember.ones(3))
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(x, x, ember.ones(3))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=-1.0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 1D"):
        F.triplet_margin_loss(x, x[0], x)
    for fn in (F.mse_loss, F.l1_loss, F.poisson_nll_loss, F.kl_div):
        with pytest.raises(ValueError, match="bad is not a valid value"):
            fn(x, x, reduction="bad")
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="same size"):
        F.mse_loss(x, x, weight=ember.ones(4))


@pytest.mark.parametrize("case", [
    lambda F, x, c: F.cross_entropy(x, c["classes"], label_smoothing=0.1),
    lambda F, x, c: F.binary_cross_entropy_with_logits(x, c["probs"]),
    lambda F, x, c: F.softplus(x) + F.mish(x) + F.elu(x) + F.logsigmoid(x),
    lambda F, x, c: F.smooth_l1_loss(x, c["other"]) + F.hardswish(x).sum(),
    lambda F, x, c: F.normalize(x) + F.cosine_similarity(x, c["other"])[:, None],
    lambda F, x, c: F.scaled_dot_product_attention(x[None], x[None] * 0.5, x[None], is_causal=True),
    lambda F, x, c: F.gaussian_nll_loss(x, c["other"], c["var"]),
], ids=["cross_entropy", "bce_logits", "activations", "smooth_l1_hardswish", "normalize_cosine",
        "attention", "gaussian_nll"])
def test_double_backward(case):
    x = ember.tensor(randn(4, 4) + 0.1, requires_grad=True)
    constants = {"classes": ember.tensor(classes(4, n=4)), "probs": ember.tensor(uniform(4, 4)),
                 "other": ember.tensor(randn(4, 4)), "var": ember.tensor(uniform(4, 4) + 0.5)}

    def fn(x):
        return case(F, x, constants)

    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


# ----------------------------------------------------------------------------------- others

def test_dropout_uses_default_generator_and_scales():
    x = ember.ones(2000, dtype=ember.float64, requires_grad=True)
    ember.manual_seed(0)
    y = F.dropout(x, 0.3)
    ember.manual_seed(0)
    y_again = F.dropout(x, 0.3)
    np.testing.assert_array_equal(np.asarray(y.detach()), np.asarray(y_again.detach()))
    values = np.asarray(y.detach())
    assert set(np.unique(values)) <= {0.0, 1 / 0.7}
    assert abs((values == 0).mean() - 0.3) < 0.05
    y.backward(ember.ones(2000, dtype=ember.float64))
    np.testing.assert_array_equal(np.asarray(x.grad), values)  # gradient is the scaled mask
    assert F.dropout(x, 0.3, training=False) is x
    assert (np.asarray(F.dropout(x, 1.0).detach()) == 0).all()
    np.testing.assert_array_equal(np.asarray(F.dropout(x, 0.0).detach()), 1.0)
    z = ember.ones(100)
    assert F.dropout(z, 0.5, inplace=True) is z
    assert set(np.unique(np.asarray(z))) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)


def test_one_hot():
    t = np.array([[0, 3], [2, 1]])
    for num_classes in (-1, 6):
        np.testing.assert_array_equal(np.asarray(F.one_hot(ember.tensor(t), num_classes)),
                                      TF.one_hot(torch.tensor(t), num_classes).numpy())
    out = F.one_hot(ember.tensor(t))
    assert out.dtype == ember.int64 and tuple(out.shape) == (2, 2, 4)
    assert tuple(F.one_hot(ember.zeros(0, dtype=ember.int64), 3).shape) == (0, 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ember.tensor([-1]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ember.tensor([5]), 3)
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(ember.zeros(0, dtype=ember.int64))


def test_one_hot_takes_torch_keywords():
    # torch's docs write one_hot(tensor, ...), but its keyword is input= (tensor= is refused)
    t = [2, 0, 1]
    expected = TF.one_hot(input=torch.tensor(t), num_classes=4).numpy()
    for call in (lambda x: F.one_hot(input=x, num_classes=4), lambda x: F.one_hot(x, 4),
                 lambda x: F.one_hot(x, num_classes=4)):
        np.testing.assert_array_equal(np.asarray(call(ember.tensor(t))), expected)
    np.testing.assert_array_equal(np.asarray(F.one_hot(input=ember.tensor(t))),
                                  TF.one_hot(input=torch.tensor(t)).numpy())
    for lib, fn in ((torch, TF.one_hot), (ember, F.one_hot)):
        with pytest.raises(TypeError):
            fn(tensor=lib.tensor(t))
        with pytest.raises(TypeError):
            fn(lib.tensor(t), input=lib.tensor(t))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_distances_and_normalize(dtype):
    a, b = randn(4, 5), randn(4, 5)
    b[0] = 0.0  # a zero vector: the clamped norms
    for kwargs in [{}, {"p": 1.0}, {"dim": 0}, {"p": 3.0, "dim": -1, "eps": 0.5}]:
        compare(lambda F, lib, a: F.normalize(a, **kwargs), a, dtype=dtype)
    compare(lambda F, lib, a: F.normalize(a), b, dtype=dtype)
    for kwargs in [{}, {"dim": 0}, {"eps": 0.1}]:
        compare(lambda F, lib, a, b: F.cosine_similarity(a, b, **kwargs), a, b, dtype=dtype)
    compare(lambda F, lib, a, b: F.cosine_similarity(a, b), a, b[:1], dtype=dtype)
    for kwargs in [{}, {"p": 1.0}, {"p": 3.0, "keepdim": True}, {"eps": 0.0}]:
        compare(lambda F, lib, a, b: F.pairwise_distance(a, b, **kwargs), a, a + b, dtype=dtype)
    compare(lambda F, lib, a, b: F.pairwise_distance(a, b), a[0], a[1], dtype=dtype)


def test_cosine_similarity_promotes_to_the_common_float_dtype():
    # an integer input with a floating one computes in their common dtype, as PyTorch
    ints, floats = [[1, 2], [3, 4]], [1.0, 0.0]
    for lib_a, lib_b in ((torch.int64, torch.float32), (torch.float16, torch.float32),
                         (torch.bool, torch.float64)):
        t = torch.cosine_similarity(torch.tensor(ints).to(lib_a), torch.tensor(floats, dtype=lib_b))
        e = ember.cosine_similarity(ember.tensor(ints).to(getattr(ember, str(lib_a)[6:])),
                                    ember.tensor(floats, dtype=getattr(ember, str(lib_b)[6:])))
        assert str(e.dtype)[6:] == str(t.dtype)[6:]
        np.testing.assert_allclose(np.asarray(e), t.numpy(), rtol=1e-3)
    for a, b in ((ints, ints), ([[1j, 2]], [[1, 0]])):
        with pytest.raises(RuntimeError, match="expected common dtype to be floating point"):
            F.cosine_similarity(ember.tensor(a), ember.tensor(b))


def test_normalize_out():
    x = ember.tensor(randn(3, 4))
    out = ember.empty(3, 4, dtype=ember.float64)
    assert F.normalize(x, out=out) is out
    np.testing.assert_allclose(np.asarray(out), TF.normalize(torch.tensor(np.asarray(x))).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding(dtype):
    weight = randn(10, 3)
    idx = np.array([[1, 4, 4], [9, 0, 1]])
    compare(lambda F, lib, i, w: F.embedding(i, w), idx, weight, dtype=dtype)
    compare(lambda F, lib, i, w: F.embedding(i, w, padding_idx=4), idx, weight, dtype=dtype)
    compare(lambda F, lib, i, w: F.embedding(i, w, padding_idx=-1), idx, weight, dtype=dtype)
    compare(lambda F, lib, i, w: F.embedding(i, w, scale_grad_by_freq=True), idx, weight,
            dtype=dtype)
    compare(lambda F, lib, i, w: F.embedding(i, w), idx.astype(np.int32), weight, dtype=dtype)
    compare(lambda F, lib, i, w: F.embedding(i, w), np.zeros(0, dtype=np.int64), weight,
            dtype=dtype)


def test_embedding_max_norm_renormalises_used_rows_in_place():
    weight = randn(6, 4) * 3
    idx = np.array([0, 2, 2, 5])
    e_w, t_w = ember.tensor(weight.copy()), torch.tensor(weight.copy())
    e_out = F.embedding(ember.tensor(idx), e_w, max_norm=1.5)
    t_out = TF.embedding(torch.tensor(idx), t_w, max_norm=1.5)
    np.testing.assert_allclose(np.asarray(e_out), t_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(e_w), t_w.numpy(), rtol=1e-12)
    assert np.array_equal(np.asarray(e_w)[1], weight[1])  # unused rows untouched
    e_w, t_w = ember.tensor(weight.copy()), torch.tensor(weight.copy())
    F.embedding(ember.tensor(idx), e_w, max_norm=2.0, norm_type=1.0)
    TF.embedding(torch.tensor(idx), t_w, max_norm=2.0, norm_type=1.0)
    np.testing.assert_allclose(np.asarray(e_w), t_w.numpy(), rtol=1e-12)


def test_embedding_errors():
    weight = ember.ones(5, 3)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(ember.tensor([5]), weight)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(ember.tensor([-1]), weight)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(ember.tensor([1.0]), weight)
    with pytest.raises(AssertionError, match="Padding_idx"):
        F.embedding(ember.tensor([1]), weight, padding_idx=7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_and_bilinear(dtype):
    x, w, b = randn(4, 3), randn(5, 3), randn(5)
    compare(lambda F, lib, x, w, b: F.linear(x, w, b), x, w, b, dtype=dtype)
    compare(lambda F, lib, x, w: F.linear(x, w), x, w, dtype=dtype)
    compare(lambda F, lib, x, w, b: F.linear(x, w, b), randn(2, 4, 3), w, b, dtype=dtype)
    compare(lambda F, lib, x, w, b: F.linear(x, w, b), randn(3), w, b, dtype=dtype)
    compare(lambda F, lib, x, w: F.linear(x, w), x, randn(3), dtype=dtype)
    compare(lambda F, lib, x, w, b: F.linear(x.t(), w, b), randn(3, 4), w, b, dtype=dtype)
    compare(lambda F, lib, x, w, b: F.linear(x, w, b), np.zeros((0, 3)), w, b, dtype=dtype)
    x1, x2, bw, bb = randn(4, 3), randn(4, 2), randn(5, 3, 2), randn(5)
    compare(lambda F, lib, x1, x2, w, b: F.bilinear(x1, x2, w, b), x1, x2, bw, bb, dtype=dtype)
    compare(lambda F, lib, x1, x2, w: F.bilinear(x1, x2, w), randn(2, 3, 3), randn(2, 3, 2), bw,
            dtype=dtype)


def test_linear_and_bilinear_errors():
    with pytest.raises(RuntimeError):
        F.linear(ember.ones(3, 5), ember.ones(4, 4))
    with pytest.raises(RuntimeError, match="input1 size does not match weight size"):
        F.bilinear(ember.ones(3, 5), ember.ones(3, 5), ember.ones(2, 4, 5))
    with pytest.raises(RuntimeError, match="input dimensions do not match"):
        F.bilinear(ember.ones(3, 4), ember.ones(5), ember.ones(2, 4, 5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode, dtype):
    cases = {
        (2, 3, 5): [(1, 2), (2, 0, 1, 1)],
        (1, 2, 4, 5): [(3, 0, 2, 1), (1, 1, 2, 0, 1, 1)],
    }
    if mode == "constant":
        cases[(4, 5)] = [(1, 2, 0, 3), (-1, 2), (2, -3, -1, 0), (0, 0, 2, 1)]
        cases[(3,)] = [(2, 1)]
    for shape, pads in cases.items():
        for pads_ in pads:
            if mode == "constant":
                compare(lambda F, lib, x: F.pad(x, pads_, value=1.5), randn(*shape), dtype=dtype)
            compare(lambda F, lib, x: F.pad(x, pads_, mode=mode), randn(*shape), dtype=dtype)


def test_pad_errors():
    x = ember.ones(3, 5)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="less than or equal to two times"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(x[None], (5, 5), mode="reflect")
    with pytest.raises(NotImplementedError, match="not supported for 2D input"):
        F.pad(x, (1, 1, 1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(x, (-3, -3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaled_dot_product_attention(dtype):
    q, k, v = randn(2, 3, 4, 8), randn(2, 3, 6, 8), randn(2, 3, 6, 5)
    bool_mask = rng.random((4, 6)) > 0.3
    bool_mask[:, 0] = True  # every query attends somewhere
    float_mask = randn(2, 1, 4, 6)
    sdpa = "scaled_dot_product_attention"
    compare(lambda F, lib, q, k, v: getattr(F, sdpa)(q, k, v), q, k, v, dtype=dtype)
    compare(lambda F, lib, q, k, v: getattr(F, sdpa)(q, k, v, is_causal=True), q, k, v, dtype=dtype)
    compare(lambda F, lib, q, k, v: getattr(F, sdpa)(q, k, v, scale=0.3), q, k, v, dtype=dtype)
    compare(lambda F, lib, q, k, v, m: getattr(F, sdpa)(q, k, v, attn_mask=m), q, k, v, bool_mask,
            dtype=dtype)
    compare(lambda F, lib, q, k, v, m: getattr(F, sdpa)(q, k, v, attn_mask=m), q, k, v,
            Const(float_mask), dtype=dtype)
    bool_mask[1] = False  # a row that attends to nothing gives zeros, as torch
    compare(lambda F, lib, q, k, v, m: getattr(F, sdpa)(q, k, v, attn_mask=m), q, k, v, bool_mask,
            dtype=dtype)
    compare(lambda F, lib, q, k, v: getattr(F, sdpa)(q, k, v, enable_gqa=True),
            randn(1, 4, 3, 8), randn(1, 2, 5, 8), randn(1, 2, 5, 3), dtype=dtype)


def test_scaled_dot_product_attention_dropout_and_errors():
    q = ember.ones(2, 3, 4)
    ember.manual_seed(3)
    first = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    ember.manual_seed(3)
    again = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    np.testing.assert_array_equal(np.asarray(first), np.asarray(again))
    # all-ones values: each output is the sum of the kept, rescaled weights (1/3 * 2 each)
    values = np.unique(np.asarray(first))
    assert np.isclose(values[:, None], [0.0, 2 / 3, 4 / 3, 2.0]).any(1).all()
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.ones(3, 3, dtype=ember.bool),
                                       is_causal=True)


def test_public_names_match_torch_signatures():
    import inspect
    for name in F.__all__:
        ours = inspect.signature(getattr(F, name))
        try:
            theirs = inspect.signature(getattr(TF, name))
        except ValueError:  # a builtin without a signature
            continue
        if list(theirs.parameters) == ["args", "kwargs"]:  # a return_indices dispatcher
            continue
        assert list(ours.parameters) == list(theirs.parameters), name
        for p in theirs.parameters.values():
            if p.default is not inspect.Parameter.empty:
                assert ours.parameters[p.name].default == p.default, (name, p.name)


@pytest.mark.parametrize("name", ["relu", "relu6", "elu", "selu", "celu", "leaky_relu",
                                  "hardtanh", "silu", "mish", "hardswish", "hardsigmoid",
                                  "threshold", "rrelu"])
def test_inplace_activation_on_non_leaf_backpropagates_like_torch(name):
    """``inplace=True`` on an intermediate tensor: the gradient is torch's, even where the
    derivative reads the overwritten input (torch keeps the original for those)."""
    values = np.random.default_rng(1).standard_normal(12) * 3
    args = (0.5, 0.1) if name == "threshold" else ()
    kwargs = {"training": False} if name == "rrelu" else {}
    grads = []
    for lib in (torch, ember):
        leaf = lib.tensor(values, requires_grad=True)
        x = leaf * 1
        out = getattr(lib.nn.functional, name)(x, *args, inplace=True, **kwargs)
        assert out is x
        (out ** 2).sum().backward()
        grads.append(np.asarray(leaf.grad.detach().numpy() if lib is torch else leaf.grad))
    # rtol: torch's hardsigmoid backward scales by the float32 constant 1.0f / 6.0f
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "int64"])
def test_integer_inputs_of_activations_like_torch(dtype):
    # hardtanh/relu6 keep an integer dtype (bounds converted to it, truncated);
    # softsign and tanhshrink compute an integer input in the default float dtype
    x = np.array([-3, 0, 2, 7]).astype(dtype)
    calls = [lambda F, t: F.relu6(t), lambda F, t: F.softsign(t), lambda F, t: F.tanhshrink(t)]
    if dtype != "uint8":
        calls += [lambda F, t: F.hardtanh(t, -1.5, 1.5), lambda F, t: F.hardtanh(t)]
    for fn in calls:
        e, t = fn(F, ember.tensor(x)), fn(TF, torch.tensor(x))
        assert str(e.dtype)[6:] == str(t.dtype)[6:]
        np.testing.assert_allclose(np.asarray(e), t.numpy(), rtol=1e-6)
    if dtype != "uint8":
        e, t = ember.tensor(x), torch.tensor(x)
        F.hardtanh(e, -0.5, 0.5, inplace=True)
        TF.hardtanh(t, -0.5, 0.5, inplace=True)
        assert e.tolist() == t.tolist()
    else:
        with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
            F.hardtanh(ember.tensor(x))
    with pytest.raises(RuntimeError, match="Bool inputs not supported for hardtanh"):
        F.hardtanh(ember.tensor([True]))
