"""ember.optim.Adafactor follows torch.optim.Adafactor step by step: parameter
trajectories of 0-D to 3-D parameters, every option, the state layout and state dicts."""
import copy

import numpy as np
import pytest
import torch

import ember
from ember import optim

rng = np.random.default_rng(7)
SHAPES = [(5,), (4, 3), (2, 4, 3), ()]
INITIAL = [rng.standard_normal(s) for s in SHAPES]
TARGETS = [rng.standard_normal(s) for s in SHAPES]


def _leaves(lib, dtype, arrays=INITIAL):
    return [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]


def _loss(lib, params):
    total = 0
    for p, t in zip(params, TARGETS):
        r = p - lib.tensor(t, dtype=p.dtype)
        total = total + (r * r * lib.tanh(p)).sum() + (r ** 4).mean()
    return total


def _run(lib, params, opt, steps):
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params).backward()
        opt.step()
        trajectory.append([np.array(p.detach().numpy(), copy=True) for p in params])
    return trajectory


OPTIONS = [
    {},
    {"weight_decay": 0.1},
    {"maximize": True},
    {"maximize": True, "weight_decay": 0.05, "lr": 0.1},
    {"lr": 0.3},                          # rho_t = 1/sqrt(t) once t > 11
    {"eps": (1e-3, 1e-2)},
    {"eps": (None, 10.0)},                # the parameter-scale floor dominates
    {"d": 3.0, "beta2_decay": -0.5},
    {"beta2_decay": 0.0},
    {"foreach": True},
    {"foreach": False, "weight_decay": 0.2},
]


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-9), ("float32", 2e-5)])
@pytest.mark.parametrize("kwargs", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_trajectory_matches_torch(kwargs, dtype, rtol):
    params, tparams = _leaves(ember, dtype), _leaves(torch, dtype)
    got = _run(ember, params, optim.Adafactor(params, **kwargs), 12)
    want = _run(torch, tparams, torch.optim.Adafactor(tparams, **kwargs), 12)
    for step, (g, w) in enumerate(zip(got, want)):
        for gi, wi in zip(g, w):
            np.testing.assert_allclose(gi, wi, rtol=rtol, atol=rtol, err_msg=f"step {step}")


def test_tensor_lr_and_param_groups():
    def groups(lib, params):
        return [{"params": params[:2], "lr": lib.tensor(0.05)},
                {"params": params[2:], "weight_decay": 0.1, "maximize": True,
                 "lr": lib.tensor([0.02])}]
    params, tparams = _leaves(ember, "float64"), _leaves(torch, "float64")
    got = _run(ember, params, optim.Adafactor(groups(ember, params)), 5)
    want = _run(torch, tparams, torch.optim.Adafactor(groups(torch, tparams)), 5)
    np.testing.assert_allclose(np.concatenate([a.ravel() for a in got[-1]]),
                               np.concatenate([a.ravel() for a in want[-1]]), rtol=1e-9)


def test_state_layout_and_values_match_torch():
    params, tparams = _leaves(ember, "float64"), _leaves(torch, "float64")
    opt, topt = optim.Adafactor(params), torch.optim.Adafactor(tparams)
    _run(ember, params, opt, 3)
    _run(torch, tparams, topt, 3)
    state, tstate = opt.state_dict(), topt.state_dict()
    assert state["param_groups"] == tstate["param_groups"]
    assert list(state["state"]) == list(tstate["state"])
    for index, entry in state["state"].items():
        tentry = tstate["state"][index]
        assert list(entry) == list(tentry)
        for key, value in entry.items():
            assert tuple(value.shape) == tuple(tentry[key].shape), key
            assert value.dtype == getattr(ember, str(tentry[key].dtype).split(".")[1]), key
            np.testing.assert_allclose(np.asarray(value), tentry[key].numpy(), rtol=1e-9)
    # vectors and scalars keep the full variance; matrices and up the factored one
    assert sorted(state["state"][0]) == ["step", "variance"]
    assert sorted(state["state"][2]) == ["col_var", "row_var", "step"]
    assert tuple(state["state"][2]["row_var"].shape) == (2, 4, 1)
    assert tuple(state["state"][2]["col_var"].shape) == (2, 1, 3)


def test_state_dict_round_trip_continues_the_trajectory():
    params = _leaves(ember, "float64")
    opt = optim.Adafactor(params, weight_decay=0.01)
    _run(ember, params, opt, 4)
    saved = copy.deepcopy(opt.state_dict())
    clones = [p.detach().clone().requires_grad_() for p in params]
    resumed = optim.Adafactor(clones, weight_decay=0.5)     # options come from the state dict
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["weight_decay"] == 0.01
    assert resumed.state[clones[1]]["row_var"] is not opt.state[params[1]]["row_var"]
    np.testing.assert_array_equal(_run(ember, params, opt, 3)[-1][2],
                                  _run(ember, clones, resumed, 3)[-1][2])
    # torch loads ember's state (as numpy-converted tensors) and continues alike
    tparams = [torch.tensor(np.asarray(p.detach()), requires_grad=True) for p in clones]
    topt = torch.optim.Adafactor(tparams)
    state = resumed.state_dict()
    topt.load_state_dict({
        "param_groups": copy.deepcopy(state["param_groups"]),
        "state": {i: {k: torch.tensor(np.asarray(v)) for k, v in entry.items()}
                  for i, entry in state["state"].items()}})
    got, want = _run(ember, clones, resumed, 2), _run(torch, tparams, topt, 2)
    for g, w in zip(got[-1], want[-1]):
        np.testing.assert_allclose(g, w, rtol=1e-9)


ERRORS = [
    ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
    ({"beta2_decay": 0.5}, "beta2_decay should be <= 0 but is: 0.5"),
    ({"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0 but is: -1.0"),
    ({"eps": (None, -1.0)}, "epsilon2 should be >= 0 but is: -1.0"),
    ({"d": 0.5}, "Clipping threshold d should be >= 1 but is: 0.5"),
    ({"weight_decay": -0.1}, "weight_decay should be >= 0 but is: -0.1"),
]


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
@pytest.mark.parametrize("kwargs,message", ERRORS, ids=[e[1][:12] for e in ERRORS])
def test_argument_errors(lib, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        lib.optim.Adafactor([lib.ones(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_tensor_lr_must_have_one_element(lib):
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        lib.optim.Adafactor([lib.ones(2, requires_grad=True)], lr=lib.ones(2))


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_complex_parameters_are_refused(lib):
    p = lib.zeros(2, dtype=lib.complex64, requires_grad=True)
    opt = lib.optim.Adafactor([p])
    p.grad = lib.ones(2, dtype=lib.complex64)
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        opt.step()


def test_defaults_and_repr_match_torch():
    opt = optim.Adafactor([ember.ones(2, requires_grad=True)])
    topt = torch.optim.Adafactor([torch.ones(2, requires_grad=True)])
    assert opt.defaults == topt.defaults
    assert repr(opt) == repr(topt)
