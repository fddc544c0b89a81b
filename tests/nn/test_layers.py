"""Linear, Bilinear, Identity, Flatten, Unflatten and Sequential against torch.nn:
same weights, same outputs and gradients."""
import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import copy_weights, assert_close

RNG = np.random.default_rng(1234)


def _pair(shape, dtype=np.float64):
    x = RNG.standard_normal(shape).astype(dtype)
    return ember.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x).requires_grad_()


def _compare_grads(e_mod, t_mod, rtol=1e-5, atol=1e-6):
    for (ne, pe), (nt, pt) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        assert ne == nt
        assert_close(pe.grad, pt.grad, rtol, atol)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4), (0, 4)])
def test_linear_matches_torch(bias, shape):
    t = torch.nn.Linear(4, 3, bias=bias).double()
    e = nn.Linear(4, 3, bias=bias, dtype=ember.float64)
    copy_weights(t, e)
    xe, xt = _pair(shape)
    ye, yt = e(xe), t(xt)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    assert_close(ye, yt)
    g = RNG.standard_normal(tuple(yt.shape))
    ye.backward(ember.from_numpy(g.copy()))
    yt.backward(torch.from_numpy(g))
    _compare_grads(e, t)
    assert_close(xe.grad, xt.grad)


def test_linear_non_contiguous_input_and_float32():
    t = torch.nn.Linear(4, 3)
    e = nn.Linear(4, 3)
    copy_weights(t, e)
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    xe, xt = ember.from_numpy(x.copy()).t(), torch.from_numpy(x).t()
    xe, xt = xe[::-1], xt.flip(0)
    assert_close(e(xe), t(xt))
    assert e(xe).dtype == ember.float32


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(2, 5), (2, 3, 5), (5,), ()])
def test_linear_shape_errors_match_torch(shape, bias):
    with pytest.raises(RuntimeError) as t_info:
        torch.nn.Linear(4, 3, bias=bias)(torch.zeros(shape))
    with pytest.raises(RuntimeError) as e_info:
        nn.Linear(4, 3, bias=bias)(ember.zeros(shape))
    assert str(e_info.value) == str(t_info.value)


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16])
def test_linear_low_precision(dtype):
    t = torch.nn.Linear(4, 3)
    e = nn.Linear(4, 3)
    copy_weights(t, e)
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    out = e.to(dtype)(ember.from_numpy(x).to(dtype))
    assert out.dtype == dtype
    assert_close(out.float(), t(torch.from_numpy(x)), atol=0.05, rtol=0.05)


def test_linear_default_init_bounds():
    e = nn.Linear(50, 40)
    bound = 1 / np.sqrt(50)
    w = np.asarray(e.weight.detach())
    b = np.asarray(e.bias.detach())
    assert e.weight.shape == (40, 50) and e.bias.shape == (40,)
    # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound
    assert np.abs(b).max() <= bound
    assert isinstance(e.weight, nn.Parameter) and e.weight.is_leaf


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(6,), (2, 3), ()])
def test_bilinear_matches_torch(bias, batch):
    t = torch.nn.Bilinear(3, 4, 5, bias=bias).double()
    e = nn.Bilinear(3, 4, 5, bias=bias, dtype=ember.float64)
    copy_weights(t, e)
    x1e, x1t = _pair(batch + (3,))
    x2e, x2t = _pair(batch + (4,))
    ye, yt = e(x1e, x2e), t(x1t, x2t)
    assert_close(ye, yt)
    g = RNG.standard_normal(tuple(yt.shape))
    ye.backward(ember.from_numpy(g.copy()))
    yt.backward(torch.from_numpy(g))
    _compare_grads(e, t)
    assert_close(x1e.grad, x1t.grad)
    assert_close(x2e.grad, x2t.grad)


def test_bilinear_errors_and_init():
    e = nn.Bilinear(3, 4, 5)
    with pytest.raises(RuntimeError, match="input1 size does not match"):
        e(ember.zeros(2, 2), ember.zeros(2, 4))
    with pytest.raises(RuntimeError, match="batch dimensions do not match"):
        e(ember.zeros(2, 3), ember.zeros(3, 4))
    bound = 1 / np.sqrt(3)
    assert np.abs(np.asarray(e.weight.detach())).max() <= bound


def test_sequential_of_layers_matches_torch():
    t = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Flatten(0),
                            torch.nn.Unflatten(0, (-1, 5)), torch.nn.Linear(5, 2),
                            torch.nn.Identity()).double()
    e = nn.Sequential(nn.Linear(6, 5), nn.Flatten(0), nn.Unflatten(0, (-1, 5)),
                      nn.Linear(5, 2), nn.Identity()).double()
    copy_weights(t, e)
    xe, xt = _pair((4, 6))
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    _compare_grads(e, t)
    assert_close(xe.grad, xt.grad)


@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_matches_torch(start, end):
    xe, xt = _pair((2, 3, 4, 5))
    ye = nn.Flatten(start, end)(xe)
    yt = torch.nn.Flatten(start, end)(xt)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert_close(ye, yt)


@pytest.mark.parametrize("dim,sizes", [(1, (3, 4)), (-1, (2, -1)), (0, (1, 2)), (1, [12])])
def test_unflatten_matches_torch(dim, sizes):
    xe, xt = _pair((2, 12))
    ye = nn.Unflatten(dim, sizes)(xe)
    yt = torch.nn.Unflatten(dim, sizes)(xt)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert_close(ye, yt)
    ye.sum().backward()
    assert_close(xe.grad, torch.ones(2, 12, dtype=torch.float64))


def test_unflatten_errors():
    with pytest.raises(RuntimeError, match="don't multiply up"):
        nn.Unflatten(1, (5, 2))(ember.zeros(2, 12))
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        nn.Unflatten(1, (-1, -1))(ember.zeros(2, 12))
    with pytest.raises(IndexError, match="Dimension out of range"):
        nn.Unflatten(3, (3, 4))(ember.zeros(2, 12))
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, 3)


def test_identity_returns_input():
    x = ember.ones(3)
    assert nn.Identity(1, 2, key="ignored")(x) is x


def test_results_of_parameter_ops_are_plain_tensors():
    e = nn.Linear(2, 2)
    y = e(ember.ones(1, 2))
    assert type(y) is ember.Tensor and y.grad_fn is not None


def test_training_steps_with_optimizer_match_torch():
    t = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Linear(5, 1)).double()
    e = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 1)).double()
    copy_weights(t, e)
    t_opt = torch.optim.SGD(t.parameters(), lr=0.05, momentum=0.9)
    e_opt = ember.optim.SGD(e.parameters(), lr=0.05, momentum=0.9)
    x = RNG.standard_normal((16, 3))
    y = x.sum(1, keepdims=True)
    for _ in range(5):
        for model, opt, lib in ((e, e_opt, ember), (t, t_opt, torch)):
            xs, ys = lib.from_numpy(x.copy()), lib.from_numpy(y.copy())
            opt.zero_grad()
            ((model(xs) - ys) ** 2).mean().backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    for (ne, pe), (nt, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert ne == nt
        assert_close(pe, pt, rtol=1e-10, atol=1e-12)
