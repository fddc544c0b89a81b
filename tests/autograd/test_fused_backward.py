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
