"""The fused backward ops of the activations (``relu_backward``, ``gelu_backward``, ...,
internal ops of the elementwise table) and of softmax/log_softmax: values against
PyTorch's own backward ops, every layout and float dtype, gradcheck and gradgradcheck in
float64, graph node names, and the activations' gradients going through them."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
import ember.nn.functional as EF
from ember.ops import elementwise as E
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

aten = torch.ops.aten

# name -> (ember op, torch reference, whether the second operand is the forward's result,
#          the forward in torch)
FUSED = {
    "relu_backward": (E.relu_backward, lambda g, y: aten.threshold_backward(g, y, 0), True,
                      torch.relu),
    "sigmoid_backward": (E.sigmoid_backward, aten.sigmoid_backward, True, torch.sigmoid),
    "tanh_backward": (E.tanh_backward, aten.tanh_backward, True, torch.tanh),
    "gelu_backward": (E.gelu_backward, lambda g, x: aten.gelu_backward(g, x), False, None),
    "gelu_tanh_backward": (E.gelu_tanh_backward,
                           lambda g, x: aten.gelu_backward(g, x, approximate="tanh"), False,
                           None),
    "silu_backward": (E.silu_backward, aten.silu_backward, False, None),
}


def _operands(name, shape, rng, torch_dtype=torch.float64):
    """The output gradient and the op's second operand (the forward's result or input)."""
    grad = torch.tensor(rng.standard_normal(shape), dtype=torch_dtype)
    x = torch.tensor(rng.standard_normal(shape) * 3, dtype=torch_dtype)
    forward = FUSED[name][3]
    return grad, forward(x) if forward is not None else x


def _ember(t):
    return ember.tensor(t.detach().double().numpy()).to(getattr(ember, str(t.dtype)[6:]))


def test_fused_ops_are_internal():
    for name in FUSED:
        assert not hasattr(ember, name)
        assert not hasattr(ember.Tensor, name)
        assert callable(getattr(E, name))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "expanded",
                                    "negative", "empty", "zero_dim"])
@pytest.mark.parametrize("name", FUSED)
def test_values_match_torch_in_every_layout(name, layout):
    fn, ref = FUSED[name][:2]
    rng = np.random.default_rng(len(name))
    shape = {"empty": (0, 3), "zero_dim": ()}.get(layout, (5, 6))
    grad, other = _operands(name, shape, rng)
    want = ref(grad, other)
    g, o = _ember(grad), _ember(other)
    if layout == "transposed":
        g, o = g.mT.contiguous().mT, o.mT.contiguous().mT
    elif layout == "strided":
        g, o = (t.unsqueeze(-1).expand(5, 6, 2).clone()[..., 0] for t in (g, o))
    elif layout == "negative":
        g, o, want = g[::-1], o[::-1], want.flip(0)
    elif layout == "expanded":
        # broadcast: one row of the gradient against every row of the operand
        g, want = g[:1].expand(5, 6), ref(grad[:1].expand(5, 6), other)
    got = fn(g, o)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("name", FUSED)
def test_low_precision_dtypes(name, dtype):
    fn, ref = FUSED[name][:2]
    grad, other = _operands(name, (7, 9), np.random.default_rng(1), getattr(torch, dtype))
    want = ref(grad, other)
    got = fn(_ember(grad), _ember(other))
    assert got.dtype.name == dtype
    tol = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 2e-2}[dtype]
    np.testing.assert_allclose(np.asarray(got.to(ember.float64)), want.double().numpy(),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("name", FUSED)
def test_gradcheck_and_gradgradcheck(name):
    fn = FUSED[name][0]
    grad, other = _operands(name, (3, 4), np.random.default_rng(2))
    # keep relu's result away from its kink at 0 (finite differences step over it)
    other = other.numpy()
    if name == "relu_backward":
        other = np.where(np.abs(other) < 0.1, 0.5, other)
    check_gradients(lambda lib, g, y: fn(g, y), grad.numpy(), other)


def _silu_backward_conj(g, x):
    # PyTorch's silu_backward does not conjugate the derivative for complex input (its
    # complex silu gradient is off the convention); ember keeps grad * conj(silu'(x))
    s = torch.sigmoid(x)
    return g * (s * (1 + x * (1 - s))).conj()


@pytest.mark.parametrize("name", ["sigmoid_backward", "tanh_backward", "silu_backward"])
def test_complex_values_match_torch(name):
    fn, ref = FUSED[name][:2]
    ref = _silu_backward_conj if name == "silu_backward" else ref
    rng = np.random.default_rng(3)
    g, y = (torch.tensor(rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3)))
            for _ in range(2))
    got = fn(ember.tensor(g.numpy()), ember.tensor(y.numpy()))
    np.testing.assert_allclose(np.asarray(got), ref(g, y).resolve_conj().numpy(), rtol=1e-12,
                               atol=1e-12)


# ---------------------------------------------------------------- the activations use them

ACTIVATIONS = {
    "relu": lambda lib, x: lib.relu(x),
    "relu_inplace": lambda lib, x: (x * 1).relu_(),
    "F.relu": lambda lib, x: (F if lib is torch else EF).relu(x * 1, inplace=True),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "gelu": lambda lib, x: (F if lib is torch else EF).gelu(x),
    "gelu_tanh": lambda lib, x: (F if lib is torch else EF).gelu(x, approximate="tanh"),
    "silu": lambda lib, x: (F if lib is torch else EF).silu(x),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradients_match_torch(name, layout):
    x = np.random.default_rng(4).standard_normal((3, 4)) * 2
    assert_grads_match_torch(ACTIVATIONS[name], x, layout=LAYOUTS[layout])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_double_backward(name):
    x = np.random.default_rng(5).standard_normal((3, 4)) * 2
    x = np.where(np.abs(x) < 0.1, 0.5, x)
    check_gradients(ACTIVATIONS[name], x)


@pytest.mark.parametrize("name, fused", [("relu", "ThresholdBackwardBackward0"),
                                         ("sigmoid", "SigmoidBackwardBackward0"),
                                         ("tanh", "TanhBackwardBackward0"),
                                         ("gelu", "GeluBackwardBackward0"),
                                         ("gelu_tanh", "GeluBackwardBackward0"),
                                         ("silu", "SiluBackwardBackward0")])
def test_gradient_graph_goes_through_the_fused_op(name, fused):
    # PyTorch's silu double backward is a composite (its graph ends in a MulBackward0)
    for lib in (torch, ember) if name != "silu" else (ember,):
        x = lib.tensor([[-1.0, 0.5, 2.0]], dtype=lib.float64, requires_grad=True)
        y = ACTIVATIONS[name](lib, x)
        (g,) = (torch if lib is torch else ember).autograd.grad(y.sum(), x, create_graph=True)
        assert g.grad_fn.name() == fused, lib


# ---------------------------------------------------------------- softmax, log_softmax

from ember._core._reduce import log_softmax_backward_data, softmax_backward_data  # noqa: E402

SOFTMAX = {"softmax": (softmax_backward_data, torch.softmax),
           "log_softmax": (log_softmax_backward_data, torch.log_softmax)}


@pytest.mark.parametrize("shape, dim", [((5, 7), 1), ((5, 7), 0), ((2, 3, 4), 1), ((3, 40), -1),
                                        ((2, 0, 3), 2), ((), 0), ((6,), 0)])
@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_backward_values_match_torch(name, shape, dim):
    fn, forward = SOFTMAX[name]
    rng = np.random.default_rng(6)
    g = torch.tensor(rng.standard_normal(shape))
    y = forward(torch.tensor(rng.standard_normal(shape)), dim)
    want = aten._softmax_backward_data(g, y, dim, torch.float64) if name == "softmax" else \
        aten._log_softmax_backward_data(g, y, dim, torch.float64)
    got = fn(ember.tensor(g.numpy()), ember.tensor(y.numpy()), dim)
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12, atol=1e-12)
    if len(shape) == 2:  # non-contiguous operands: transposed and every other column
        gt, yt = ember.tensor(g.numpy().T.copy()).mT, ember.tensor(y.numpy().T.copy()).mT
        np.testing.assert_allclose(np.asarray(fn(gt, yt, dim)), want.numpy(), rtol=1e-12,
                                   atol=1e-12)
        wide = np.repeat(g.numpy(), 2, axis=1)
        np.testing.assert_allclose(np.asarray(fn(ember.tensor(wide)[:, ::2], yt, dim)),
                                   want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_backward_low_precision(name, dtype):
    fn, forward = SOFTMAX[name]
    rng = np.random.default_rng(7)
    g = torch.tensor(rng.standard_normal((6, 33)), dtype=getattr(torch, dtype))
    y = forward(torch.tensor(rng.standard_normal((6, 33)), dtype=getattr(torch, dtype)), 1)
    backward = aten._softmax_backward_data if name == "softmax" else \
        aten._log_softmax_backward_data
    want = backward(g, y, 1, g.dtype)
    got = fn(_ember(g), _ember(y), 1)
    assert got.dtype.name == dtype
    tol = {"float32": 1e-5, "float16": 3e-3, "bfloat16": 3e-2}[dtype]
    np.testing.assert_allclose(np.asarray(got.to(ember.float64)), want.double().numpy(),
                               rtol=tol, atol=tol)


def test_softmax_backward_bad_arguments():
    y = ember.softmax(ember.randn(3, 4), 1)
    with pytest.raises(RuntimeError, match="does not match"):
        softmax_backward_data(ember.ones(3, 5), y, 1)
    with pytest.raises(IndexError):
        softmax_backward_data(ember.ones(3, 4), y, 2)
    with pytest.raises(NotImplementedError):
        log_softmax_backward_data(ember.ones(3, dtype=ember.int64),
                                  ember.ones(3, dtype=ember.int64), 0)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_backward_gradcheck_and_gradgradcheck(name, dim):
    fn, forward = SOFTMAX[name]
    rng = np.random.default_rng(8)
    g = rng.standard_normal((3, 4))
    y = forward(torch.tensor(rng.standard_normal((3, 4))), dim).numpy()
    check_gradients(lambda lib, g, y: fn(g, y, dim), g, y)


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_gradients_and_double_backward(name, dim):
    x = np.random.default_rng(9).standard_normal((3, 2, 4))
    assert_grads_match_torch(lambda lib, x: getattr(lib, name)(x, dim), x)
    assert_grads_match_torch(lambda lib, x: getattr(lib, name)(x, dim),
                             x, layout=LAYOUTS["transposed"])
    check_gradients(lambda lib, x: getattr(lib, name)(x, dim), x)
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad((getattr(lib, name)(t, dim) * lib.tensor(x)).sum(), t,
                                 create_graph=True)
        expected = "SoftmaxBackwardDataBackward0" if name == "softmax" else \
            "LogSoftmaxBackwardDataBackward0"
        assert g.grad_fn.name() == expected
