"""Custom Functions, anomaly mode and the DOT view of the graph."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import Function, once_differentiable


def f64(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(data, requires_grad=True)


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_forward_backward_and_node():
    x = f64(4)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), 6 * np.asarray(x.detach()) ** 2)


def test_custom_function_is_differentiable_twice_when_written_with_ember_ops():
    x = f64(3)
    assert ember.autograd.gradcheck(lambda t: Cube.apply(t, 1.5), (x,))
    assert ember.autograd.gradgradcheck(lambda t: Cube.apply(t, 1.5), (x,))


def test_custom_function_without_grad_inputs_records_nothing():
    y = Cube.apply(ember.ones(2, dtype=ember.float64), 1.0)
    assert y.grad_fn is None and not y.requires_grad


def test_needs_input_grad_and_non_tensor_arguments():
    seen = []

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(ctx.needs_input_grad)
            ctx.save_for_backward(a, b)
            return a * b * k

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return (grad * b if ctx.needs_input_grad[0] else None,
                    grad * a if ctx.needs_input_grad[1] else None, None)

    a = f64(3)
    b = ember.ones(3, dtype=ember.float64)
    Mul.apply(a, b, 2).sum().backward()
    assert seen == [(True, False, False)]
    np.testing.assert_allclose(np.asarray(a.grad), np.ones(3))


def test_wrong_number_of_gradients_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(f64(2), f64(2, seed=1)).sum().backward()


def test_mark_non_differentiable_and_multiple_outputs():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argsort() if hasattr(x, "argsort") else ember.tensor([1, 0, 2])
            values = x * 1
            ctx.mark_non_differentiable(idx)
            return values, idx

        @staticmethod
        def backward(ctx, grad_values, grad_idx):
            assert grad_idx is None or float(grad_idx.abs().sum()) == 0
            return grad_values

    x = f64(3)
    values, idx = SortWithIndex.apply(x)
    assert values.requires_grad and not idx.requires_grad
    values.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), np.ones(3))


def test_materialize_grads_off_gives_none():
    got = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got.append((g1, g2))
            return g1 * 2

    x = f64(2)
    a, b = Two.apply(x)
    a.sum().backward()
    assert got[0][1] is None


def test_mark_dirty_in_place_function():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = f64(3)
    h = x * 2
    out = AddOneInPlace.apply(h)
    assert out is h and h.grad_fn.name() == "AddOneInPlaceBackward"
    (h * h).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), 4 * (2 * np.asarray(x.detach()) + 1))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        AddOneInPlace.apply(f64(2))


def test_saved_tensors_are_version_checked():
    x = f64(3)
    h = x * 1
    y = Cube.apply(h, 1.0)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_setup_context_style():
    class Square(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = f64(3)
    Square.apply(x).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), 2 * np.asarray(x.detach()))


def test_once_differentiable_blocks_double_backward():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            assert not ember.is_grad_enabled()
            return grad * y

    x = f64(3)
    v = ember.ones(3, dtype=ember.float64, requires_grad=True)
    y = Exp.apply(x)
    (g,) = ember.autograd.grad(y, x, grad_outputs=v, create_graph=True)
    np.testing.assert_allclose(np.asarray(g.detach()), np.exp(np.asarray(x.detach())))
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_function_cannot_be_instantiated():
    with pytest.raises(RuntimeError):
        Cube()


def test_custom_function_matches_torch_in_a_program():
    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2 * ctx.scale, None

    data = np.random.default_rng(5).standard_normal((2, 3))
    xe = ember.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    (Cube.apply(xe.sin(), 0.5).exp() * xe).sum().backward()
    (TorchCube.apply(xt.sin(), 0.5).exp() * xt).sum().backward()
    np.testing.assert_allclose(np.asarray(xe.grad), xt.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- anomaly mode

def test_detect_anomaly_names_the_forward_op():
    x = ember.tensor([0.0, 1.0], dtype=ember.float64, requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = x.sqrt()          # the line the error must point at
        with pytest.raises(RuntimeError) as info:
            (y * 0.0).sum().backward()
    message = str(info.value)
    assert "SqrtBackward0" in message and "returned nan values" in message
    assert "y = x.sqrt()" in message
    assert not ember.autograd.is_anomaly_enabled()


def test_without_anomaly_mode_nan_passes_silently():
    x = ember.tensor([0.0], dtype=ember.float64, requires_grad=True)
    (x.sqrt() * 0.0).sum().backward()
    assert np.isnan(np.asarray(x.grad)).all()


def test_set_detect_anomaly():
    ember.autograd.set_detect_anomaly(True)
    try:
        assert ember.autograd.is_anomaly_enabled()
        y = ember.tensor([0.0], requires_grad=True).sqrt()
        assert y.grad_fn._forward_trace is not None
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert ember.tensor([0.0], requires_grad=True).sqrt().grad_fn._forward_trace is None


# ---------------------------------------------------------------- graph visualisation

def test_to_dot_lists_ops_leaves_and_edges():
    w = ember.ones(3, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    loss = ((w * 2 + b).exp()).sum()
    dot = ember.autograd.graph.to_dot(loss, name="loss")
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    for op in ("SumBackward0", "ExpBackward0", "AddBackward0", "MulBackward0"):
        assert f'"{op}"' in dot
    assert dot.count("leaf") == 2 and "(3,) ember.float32" in dot
    assert '"loss' in dot
    # every node that appears as an edge end is declared
    import re
    declared = set(re.findall(r"^\s+(n\d+|out) \[", dot, re.M))
    for a, b_ in re.findall(r"^\s+(n\d+|out) -> (n\d+|out);", dot, re.M):
        assert a in declared and b_ in declared
    assert len(re.findall(r" -> ", dot)) == 6


def test_to_dot_of_a_leaf_and_a_constant():
    assert "leaf" in ember.autograd.graph.to_dot(ember.ones(2, requires_grad=True))
    assert "->" not in ember.autograd.graph.to_dot(ember.ones(2))
    with pytest.raises(TypeError):
        ember.autograd.graph.to_dot([1, 2])


def test_none_among_saved_tensors_comes_back_as_none():
    # saving an optional tensor that is None (a bias-free layer) must not crash backward
    class Scale(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight):
            ctx.save_for_backward(x, weight, None)
            return x * 2 if weight is None else x * weight

        @staticmethod
        def backward(ctx, grad):
            x, weight, missing = ctx.saved_tensors
            assert missing is None
            return (grad * 2 if weight is None else grad * weight), None

    x = ember.randn(3, requires_grad=True)
    Scale.apply(x, None).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("lib", [ember, torch])
def test_saving_a_non_tensor_after_a_tensor_raises_type_error(lib):
    # the check named the argument by list.index, which compared the tensor with the
    # non-tensor elementwise and raised an ambiguous-truth RuntimeError instead
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        Bad.apply(lib.ones(3, requires_grad=True))
