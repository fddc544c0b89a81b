"""ember.optim optimizers follow torch.optim step by step on the same problem."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import optim

RTOL, ATOL = 1e-6, 1e-12
rng = np.random.default_rng(0)
X = rng.standard_normal((8, 4))
Y = rng.standard_normal((8, 3))
W0 = rng.standard_normal((4, 3)) * 0.5
B0 = rng.standard_normal(3) * 0.1


def _leaves(lib, *arrays):
    if lib is torch:
        return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrays]


def _loss(lib, w, b):
    x = lib.tensor(X, dtype=lib.float64)
    y = lib.tensor(Y, dtype=lib.float64)
    r = lib.tanh(x @ w) + b - y
    return (r * r).mean() + (w * w * w * w).sum() * 0.01


def _values(params):
    return [np.array(p.detach().numpy(), copy=True) for p in params]


def _run(lib, name, groups_of, kwargs, steps, params=None, opt=None):
    """Optimize from W0/B0 for ``steps``; return per-step parameter values, params, optimizer."""
    if params is None:
        params = _leaves(lib, W0, B0)
    if opt is None:
        opt = getattr(lib.optim, name)(groups_of(params), **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, *params).backward()
        opt.step()
        trajectory.append(_values(params))
    return trajectory, params, opt


def _assert_same_trajectory(got, want):
    for step, (g, w) in enumerate(zip(got, want)):
        for gi, wi in zip(g, w):
            np.testing.assert_allclose(gi, wi, rtol=RTOL, atol=ATOL, err_msg=f"step {step}")


def _one_group(params):
    return params


CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5,
                     eps=1e-8)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.7, 0.9), weight_decay=0.1)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in CASES]


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_matches_torch(name, kwargs):
    got, _, _ = _run(ember, name, _one_group, kwargs, 50)
    want, _, _ = _run(torch, name, _one_group, kwargs, 50)
    _assert_same_trajectory(got, want)


@pytest.mark.parametrize("name,kwargs", CASES[1::2], ids=IDS[1::2])
def test_param_groups_with_different_lrs(name, kwargs):
    def groups_of(params):
        return [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}]
    got, _, ember_opt = _run(ember, name, groups_of, kwargs, 30)
    want, _, torch_opt = _run(torch, name, groups_of, kwargs, 30)
    _assert_same_trajectory(got, want)
    assert [g["lr"] for g in ember_opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]


def _plain(value):
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return np.asarray(value.detach().numpy())
    return value


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=IDS[::2])
def test_state_dict_layout_and_round_trip(name, kwargs):
    _, ember_params, ember_opt = _run(ember, name, _one_group, kwargs, 10)
    _, _, torch_opt = _run(torch, name, _one_group, kwargs, 10)
    saved, torch_saved = ember_opt.state_dict(), torch_opt.state_dict()
    # PyTorch's layout: indices for parameters, the same option keys and state entries
    assert saved["param_groups"] == torch_saved["param_groups"]
    assert saved["state"].keys() == torch_saved["state"].keys()
    for index, entry in saved["state"].items():
        assert entry.keys() == torch_saved["state"][index].keys()
        for key, value in entry.items():
            want = torch_saved["state"][index][key]
            np.testing.assert_allclose(_plain(value), _plain(want), rtol=RTOL, atol=ATOL)
            if isinstance(want, torch.Tensor):
                assert str(value.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]

    # load into a fresh optimizer on copies of the parameters; continue both
    saved = copy.deepcopy(saved)
    fresh = _leaves(ember, *_values(ember_params))
    resumed = getattr(optim, name)(fresh, **kwargs)
    resumed.load_state_dict(saved)
    got, _, _ = _run(ember, name, _one_group, kwargs, 10, params=fresh, opt=resumed)
    want, _, _ = _run(ember, name, _one_group, kwargs, 10, params=ember_params, opt=ember_opt)
    _assert_same_trajectory(got, want)


def test_load_state_dict_casts_state_to_param_dtype():
    p = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    opt = optim.Adam([p])
    p.grad = ember.ones(3, dtype=ember.float64)
    opt.step()
    state = opt.state_dict()
    q = ember.zeros(3, dtype=ember.float32, requires_grad=True)
    other = optim.Adam([q])
    other.load_state_dict(state)
    assert other.state[q]["exp_avg"].dtype == ember.float32
    assert other.state[q]["step"].dtype == state["state"][0]["step"].dtype


def test_load_state_dict_rejects_mismatched_groups():
    a, b = _leaves(ember, W0, B0)
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)


def test_parameter_without_grad_is_skipped_and_zero_grad():
    w, b = _leaves(ember, W0, B0)
    opt = optim.Adam([w, b], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), B0)
    assert b not in opt.state and w in opt.state
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros_like(W0))
    opt.zero_grad()
    assert w.grad is None


def test_closure_and_step_hooks():
    w, b = _leaves(ember, W0, B0)
    opt = optim.SGD([w, b], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = _loss(ember, w, b)
        loss.backward()
        return loss

    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    loss = opt.step(closure)
    assert loss.item() == pytest.approx(_loss(torch, *_leaves(torch, W0, B0)).item())
    pre.remove()
    opt.step(closure)
    assert calls == ["pre", "post", "post"]


def test_state_dict_hooks_match_torch():
    logs = []
    for lib in (ember, torch):
        w, b = _leaves(lib, W0, B0)
        opt = lib.optim.Adam([w, b], lr=0.1)
        log = []
        opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
        opt.register_state_dict_pre_hook(lambda o: log.append("pre-first"), prepend=True)
        handle = opt.register_state_dict_post_hook(
            lambda o, sd: dict(sd, note="added"))
        sd = opt.state_dict()
        log.append(sd["note"])
        handle.remove()
        log.append("note" in opt.state_dict())

        def scale_lr(o, sd):
            sd = dict(sd, param_groups=[dict(g, lr=g["lr"] * 10) for g in sd["param_groups"]])
            log.append(("pre-load", "note" in sd))
            return sd

        opt.register_load_state_dict_pre_hook(scale_lr)
        opt.register_load_state_dict_post_hook(
            lambda o: log.append(("post-load", o.param_groups[0]["lr"])))
        opt.load_state_dict(sd)
        log.append(sd["param_groups"][0]["lr"])       # the caller's dict is not changed
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[0][-2] == ("post-load", pytest.approx(1.0))

def test_constructor_errors_match_torch():
    w, b = _leaves(ember, W0, B0)
    tw, tb = _leaves(torch, W0, B0)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([w, 3.0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w, b]}], lr=0.1)
    for name, kwargs in [("SGD", dict(lr=-1.0)), ("SGD", dict(momentum=-0.1)),
                         ("SGD", dict(nesterov=True)), ("Adam", dict(betas=(1.0, 0.9))),
                         ("Adam", dict(eps=-1.0)), ("RMSprop", dict(alpha=-1.0)),
                         ("Adagrad", dict(lr_decay=-1.0)), ("Adadelta", dict(rho=2.0)),
                         ("NAdam", dict(momentum_decay=-1.0)), ("RAdam", dict(weight_decay=-1))]:
        with pytest.raises(ValueError) as torch_err:
            getattr(torch.optim, name)([tw], **kwargs)
        with pytest.raises(ValueError) as ember_err:
            getattr(optim, name)([w], **kwargs)
        assert str(ember_err.value) == str(torch_err.value)


def test_add_param_group_and_defaults():
    w, b = _leaves(ember, W0, B0)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [b]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([b])
    torch_opt = torch.optim.SGD(_leaves(torch, W0), lr=0.1, momentum=0.9)
    assert opt.defaults == torch_opt.defaults
    assert "Parameter Group 1" in repr(opt)


def test_named_parameters_and_duplicate_warning():
    w, b = _leaves(ember, W0, B0)
    opt = optim.Adam([("w", w), ("b", b)])
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [ember.zeros(2, requires_grad=True)]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optim.SGD([w, w], lr=0.1)
    assert any("duplicate parameters" in str(c.message) for c in caught)


def test_float32_parameters_stay_float32():
    w = ember.tensor(W0, dtype=ember.float32, requires_grad=True)
    tw = torch.tensor(W0, dtype=torch.float32, requires_grad=True)
    for lib, p in ((ember, w), (torch, tw)):
        opt = lib.optim.Adam([p], lr=0.01)
        for _ in range(5):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
    assert w.dtype == ember.float32
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(), dict(lr=0.5, max_iter=7, history_size=3),
                                    dict(line_search_fn="strong_wolfe"),
                                    dict(line_search_fn="strong_wolfe", max_iter=4,
                                         history_size=2, tolerance_change=1e-12)])
def test_lbfgs_matches_torch(kwargs):
    trajectories, losses = [], []
    for lib in (ember, torch):
        params = _leaves(lib, W0, B0)
        opt = lib.optim.LBFGS(params, **kwargs)

        def closure():
            opt.zero_grad()
            loss = _loss(lib, *params)
            loss.backward()
            return loss

        trajectory, seen = [], []
        for _ in range(5):
            seen.append(opt.step(closure).item())
            trajectory.append(_values(params))
        trajectories.append(trajectory)
        losses.append(seen)
        evals = opt.state[params[0]]["func_evals"]
        losses[-1].append(evals)
    _assert_same_trajectory(*trajectories)
    np.testing.assert_allclose(losses[0], losses[1], rtol=RTOL)


def test_lbfgs_state_holds_tensors_and_resumes_from_torchs():
    # ro, al and H_diag are 0-d tensors in the state, as PyTorch keeps them; a state
    # saved by torch and loaded into ember continues on torch's trajectory
    opts = {}
    for lib in (ember, torch):
        params = _leaves(lib, W0, B0)
        opt = lib.optim.LBFGS(params, max_iter=4, history_size=3)

        def closure(opt=opt, params=params, lib=lib):
            opt.zero_grad()
            loss = _loss(lib, *params)
            loss.backward()
            return loss
        opt.step(closure)
        opts[lib] = (opt, params, closure)
    e_state, t_state = (opts[lib][0].state_dict()["state"][0] for lib in (ember, torch))
    assert sorted(e_state) == sorted(t_state)
    for key in ("ro", "al", "H_diag"):
        t_values = t_state[key] if isinstance(t_state[key], list) else [t_state[key]]
        e_values = e_state[key] if isinstance(e_state[key], list) else [e_state[key]]
        assert len(e_values) == len(t_values)
        for e, t in zip(e_values, t_values):
            assert (e is None) == (t is None)
            if t is not None:
                assert isinstance(e, ember.Tensor) and e.dim() == 0 and e.dtype == ember.float64
                np.testing.assert_allclose(e.item(), t.item(), rtol=RTOL)
    params = _leaves(ember, W0, B0)
    resumed = optim.LBFGS(params, max_iter=4, history_size=3)
    for p, tp in zip(params, opts[torch][1]):
        p.data.copy_(ember.tensor(tp.detach().numpy()))
    state = {key: ember.tensor(v.numpy()) if isinstance(v, torch.Tensor) else
             [ember.tensor(x.numpy()) if isinstance(x, torch.Tensor) else x for x in v]
             if isinstance(v, list) else v for key, v in t_state.items()}
    resumed.load_state_dict({"state": {0: state},
                             "param_groups": opts[torch][0].state_dict()["param_groups"]})

    def closure():
        resumed.zero_grad()
        loss = _loss(ember, *params)
        loss.backward()
        return loss
    resumed.step(closure)
    opts[torch][0].step(opts[torch][2])
    _assert_same_trajectory([_values(params)], [_values(opts[torch][1])])


def test_lbfgs_rejects_param_groups():
    w, b = _leaves(ember, W0, B0)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [w]}, {"params": [b]}])


Z0 = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
C0 = np.array([[1 + 1j, 2 - 1j], [0.5j, 1], [1, -1 + 0.2j]])


def _complex_loss(lib, z):
    w = z * lib.tensor(C0, dtype=lib.complex128)
    return ((w * w.conj()).real.sum() + (z * z).real.sum() * 0.3
            + (z * z * z * z.conj()).imag.sum() * 0.05)


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.02, momentum=0.9, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=0.5)),
])
def test_complex_parameters_match_torch(name, kwargs):
    """Complex parameters: real and imaginary parts are separate coordinates, as in torch;
    a transposed (non-contiguous) parameter checks the real view's strides."""
    trajectories = []
    for lib in (ember, torch):
        z = lib.tensor(Z0.T.copy(), dtype=lib.complex128).t().detach().requires_grad_(True)
        opt = getattr(lib.optim, name)([z], **kwargs)
        trajectory = []
        for _ in range(30):
            opt.zero_grad()
            _complex_loss(lib, z).backward()
            opt.step()
            trajectory.append([np.array(z.detach().numpy(), copy=True)])
        trajectories.append(trajectory)
    _assert_same_trajectory(*trajectories)
