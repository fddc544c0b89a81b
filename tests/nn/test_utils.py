"""ember.nn.utils: gradient clipping and parameter/vector conversion against torch."""
import math

import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import to_ember, assert_close, same


def _params_with_grads(seed):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    arrays = [(rng.standard_normal(s), rng.standard_normal(s) * 3) for s in shapes]
    t_params, e_params = [], []
    for data, grad in arrays:
        tp = torch.nn.Parameter(torch.from_numpy(data))
        tp.grad = torch.from_numpy(grad.copy())
        ep = nn.Parameter(ember.from_numpy(data.copy()))
        ep.grad = ember.from_numpy(grad.copy())
        t_params.append(tp)
        e_params.append(ep)
    return e_params, t_params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    e_params, t_params = _params_with_grads(0)
    e_total = nn.utils.clip_grad_norm_(e_params, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type=norm_type)
    assert e_total.dim() == 0
    assert_close(e_total, t_total, rtol=1e-10)
    for ep, tp in zip(e_params, t_params):
        assert_close(ep.grad, tp.grad, rtol=1e-10)


def test_clip_grad_norm_deprecated_name():
    e_params, t_params = _params_with_grads(2)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        e_total = nn.utils.clip_grad_norm(e_params, 0.5, 1.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        t_total = torch.nn.utils.clip_grad_norm(t_params, 0.5, 1.0)
    assert_close(e_total, t_total, rtol=1e-10)
    for ep, tp in zip(e_params, t_params):
        assert_close(ep.grad, tp.grad, rtol=1e-10)

def test_clip_grad_norm_single_tensor_none_grads_and_generator():
    p = nn.Parameter(ember.zeros(2))
    p.grad = ember.tensor([3.0, 4.0])
    q = nn.Parameter(ember.zeros(2))           # no grad: skipped
    total = nn.utils.clip_grad_norm_((x for x in [p, q]), 1.0)
    assert total.item() == pytest.approx(5.0)
    assert np.allclose(np.asarray(p.grad), [0.6, 0.8], atol=1e-6)
    assert nn.utils.clip_grad_norm_(q, 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(ember.zeros(2))
    p.grad = ember.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_(p, 1.0).item())


def test_clip_grad_value_matches_torch():
    e_params, t_params = _params_with_grads(1)
    nn.utils.clip_grad_value_(e_params, 0.75)
    torch.nn.utils.clip_grad_value_(t_params, 0.75)
    for ep, tp in zip(e_params, t_params):
        assert_close(ep.grad, tp.grad, rtol=0)


def test_parameters_to_vector_and_back():
    t = torch.nn.Linear(3, 2)
    e = nn.Linear(3, 2)
    e.load_state_dict({k: to_ember(v) for k, v in t.state_dict().items()})
    e_vec = nn.utils.parameters_to_vector(e.parameters())
    t_vec = torch.nn.utils.parameters_to_vector(t.parameters())
    assert_close(e_vec, t_vec, rtol=0)
    e_vec.sum().backward()           # differentiable, as torch's
    assert same(e.weight.grad, ember.ones(2, 3))
    new = ember.arange(8, dtype=ember.float32)
    w = e.weight
    nn.utils.vector_to_parameters(new, e.parameters())
    assert e.weight is w and same(e.weight, new[:6].reshape(2, 3))
    assert same(e.bias, new[6:])
    with pytest.raises(TypeError, match="expected ember.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], e.parameters())
