"""ember.optim.Muon follows torch.optim.Muon step by step: trajectories of wide, tall and
square matrices under every option, the state layout and state dicts, the checks."""
import copy

import numpy as np
import pytest
import torch

import ember
from ember import optim

rng = np.random.default_rng(11)
SHAPES = [(3, 5), (6, 2), (4, 4)]
INITIAL = [rng.standard_normal(s) for s in SHAPES]
TARGETS = [rng.standard_normal(s) for s in SHAPES]


def _leaves(lib, dtype):
    return [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in INITIAL]


def _loss(lib, params):
    total = 0
    for p, t in zip(params, TARGETS):
        r = p - lib.tensor(t, dtype=p.dtype)
        total = total + (r * r * lib.tanh(p)).sum() + (r ** 4).mean()
    return total


def _run(lib, params, opt, steps, transpose_grads=False):
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params).backward()
        if transpose_grads:            # the same values, as non-contiguous gradients
            for p in params:
                p.grad = p.grad.T.contiguous().T
        opt.step()
        trajectory.append([np.array(p.detach().numpy(), copy=True) for p in params])
    return trajectory


OPTIONS = [
    {},
    {"lr": 0.02},
    {"lr": 0.05, "nesterov": False},
    {"lr": 0.01, "momentum": 0.0, "weight_decay": 0.0},
    {"lr": 0.02, "weight_decay": 0.3, "adjust_lr_fn": "match_rms_adamw"},
    {"lr": 0.02, "adjust_lr_fn": "original", "ns_steps": 3},
    {"lr": 0.02, "ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-3},
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(sorted(o)) or "default")
def test_trajectory_matches_torch(dtype, options):
    ep, tp = _leaves(ember, dtype), _leaves(torch, dtype)
    got = _run(ember, ep, optim.Muon(ep, **options), 6)
    expected = _run(torch, tp, torch.optim.Muon(tp, **options), 6)
    # the orthogonalisation runs in bfloat16 (a rounding flip would move an update by ~1%):
    # ember rounds as torch
    tol = 1e-10 if dtype == "float64" else 1e-5
    for g_step, e_step in zip(got, expected):
        for g, e in zip(g_step, e_step):
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
            assert g.dtype == e.dtype


def test_non_contiguous_gradients_tensor_lr_and_groups():
    ep, tp = _leaves(ember, "float64"), _leaves(torch, "float64")
    eopt = optim.Muon([{"params": ep[:2]}, {"params": ep[2:], "lr": 0.05, "nesterov": False}],
                      lr=ember.tensor(0.02))
    topt = torch.optim.Muon([{"params": tp[:2]}, {"params": tp[2:], "lr": 0.05,
                                                  "nesterov": False}], lr=torch.tensor(0.02))
    for g, e in zip(_run(ember, ep, eopt, 4, True)[-1], _run(torch, tp, topt, 4, True)[-1]):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)


def test_state_and_state_dict_round_trip():
    ep, tp = _leaves(ember, "float64"), _leaves(torch, "float64")
    eopt, topt = optim.Muon(ep, lr=0.02), torch.optim.Muon(tp, lr=0.02)
    _run(ember, ep, eopt, 2)
    _run(torch, tp, topt, 2)
    assert sorted(eopt.state[ep[0]]) == sorted(topt.state[tp[0]]) == ["momentum_buffer"]
    np.testing.assert_allclose(eopt.state[ep[1]]["momentum_buffer"].numpy(),
                               topt.state[tp[1]]["momentum_buffer"].numpy(), rtol=1e-10)
    esd, tsd = copy.deepcopy(eopt.state_dict()), topt.state_dict()
    assert esd["param_groups"][0].keys() == tsd["param_groups"][0].keys()
    assert {k: v for k, v in esd["param_groups"][0].items() if k != "params"} == \
           {k: v for k, v in tsd["param_groups"][0].items() if k != "params"}
    # resume from the state dict: the same next steps as the optimizer that kept going
    fresh = [ember.tensor(p.detach().numpy(), requires_grad=True) for p in ep]
    resumed = optim.Muon(fresh, lr=0.02)
    resumed.load_state_dict(esd)
    for g, e in zip(_run(ember, fresh, resumed, 2)[-1], _run(ember, ep, eopt, 2)[-1]):
        np.testing.assert_array_equal(g, e)


def test_closure_and_parameters_without_grad():
    w = ember.tensor(INITIAL[0], requires_grad=True)
    unused = ember.ones(2, 2, requires_grad=True)
    opt = optim.Muon([w, unused], lr=0.02)

    def closure():
        opt.zero_grad()
        loss = _loss(ember, [w])
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(_loss(ember, [ember.tensor(INITIAL[0])])
                                                     .item())
    assert unused.tolist() == [[1.0, 1.0], [1.0, 1.0]] and unused not in opt.state


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
    ({"momentum": -0.5}, "momentum should be >= 0 but is: -0.5"),
    ({"weight_decay": -0.1}, "weight decay should be >= 0 but is: -0.1"),
    ({"adjust_lr_fn": "cosine"}, "Adjust learning rate function cosine is not supported"),
    ({"lr": ember.tensor([0.1, 0.2])}, "Tensor lr must be 1-element"),
])
def test_bad_options_raise_as_torch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Muon([ember.ones(2, 2, requires_grad=True)], **kwargs)
    torch_kwargs = {k: torch.tensor(v.tolist()) if isinstance(v, ember.Tensor) else v
                    for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        torch.optim.Muon([torch.ones(2, 2, requires_grad=True)], **torch_kwargs)


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
def test_only_matrices(shape):
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        optim.Muon([ember.ones(*shape, requires_grad=True)])


def test_step_checks():
    w = ember.ones(2, 3, requires_grad=True)
    w.grad = ember.ones(2, 3)
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        optim.Muon([w], ns_steps=100).step()
    with pytest.raises(ValueError, match="exactly 3 values"):
        optim.Muon([w], ns_coefficients=(1.0, 2.0)).step()
    z = ember.ones(2, 2, dtype=ember.complex64, requires_grad=True)
    z.grad = ember.ones(2, 2, dtype=ember.complex64)
    with pytest.raises(RuntimeError, match="Muon does not support complex parameters"):
        optim.Muon([z]).step()
