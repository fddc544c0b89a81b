"""Tensor.register_post_accumulate_grad_hook against PyTorch: when it runs, what it
sees, removal, the errors, and the optimizer-in-backward pattern it exists for."""
import numpy as np
import pytest
import torch

import ember


def run(lib):
    w = lib.ones(3, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 2).sum().backward()
    (w * w).sum().backward(inputs=[w])
    lib.autograd.grad((w * 5).sum(), w)          # no accumulation, no call
    handle.remove()
    (w * 4).sum().backward()
    return seen


def test_calls_match_torch():
    assert run(ember) == run(torch) == [[2.0] * 3, [4.0] * 3]


@pytest.mark.parametrize("make, error", [
    (lambda lib: lib.ones(2), "doesn't require gradient"),
    (lambda lib: lib.ones(2, requires_grad=True) * 2, "non-leaf"),
])
def test_errors(make, error):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=error):
            make(lib).register_post_accumulate_grad_hook(lambda p: None)


def test_a_hook_returning_a_value_is_refused():
    w = ember.ones(2, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda p: p)
    with pytest.raises(TypeError, match="must return None"):
        w.sum().backward()


def test_optimizer_steps_inside_backward_equal_a_plain_loop():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 1))
    twin = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 1))
    twin.load_state_dict(model.state_dict())
    optimizers = {p: ember.optim.Adam([p], lr=0.01) for p in model.parameters()}

    def step(p):
        optimizers[p].step()
        optimizers[p].zero_grad()
    for p in model.parameters():
        p.register_post_accumulate_grad_hook(step)
    plain = ember.optim.Adam(twin.parameters(), lr=0.01)
    x, y = ember.randn(16, 4), ember.randn(16, 1)
    for _ in range(5):
        ((model(x) - y) ** 2).mean().backward()
        plain.zero_grad()
        ((twin(x) - y) ** 2).mean().backward()
        plain.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
