"""Differential checks of ember.optim and its schedulers against torch.optim, as a
training script ported from PyTorch by changing its import would use them."""
import io
import warnings

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(7)
WEIGHTS = [RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal(2)]
INPUT = 0.5 * RNG.standard_normal((5, 4))


def _params(lib, dtype):
    return [lib.tensor(w, dtype=getattr(lib, dtype), requires_grad=True) for w in WEIGHTS]


def _loss(lib, params, with_last=True):
    x = lib.tensor(INPUT, dtype=params[0].dtype)
    hidden = lib.tanh(x @ params[0] + params[1])
    loss = (hidden * hidden).sum() + ((hidden.sum() - 1.0) ** 2) + 0.1 * (params[1] ** 2).sum()
    return loss + (params[2] ** 2).sum() if with_last else loss


def _numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


def _trajectory(lib, name, options, dtype, groups, steps=50):
    """Parameters after each step; the third parameter sometimes has no gradient
    (skipped) and the gradients alternate between None and zero-filled resets."""
    params = _params(lib, dtype)
    cls = getattr(lib.optim, name)
    if groups:
        lr = options.get("lr", 1e-2)
        opt = cls([{"params": params[:2]}, {"params": [params[2]], "lr": lr / 2}], **options)
    else:
        opt = cls(params[:2], **options)
        opt.add_param_group({"params": [params[2]]})
    out = []
    for it in range(steps):
        opt.zero_grad(set_to_none=it % 2 == 0)
        _loss(lib, params, with_last=it % 3 != 0).backward()
        if it % 7 == 3:
            params[2].grad = None
        opt.step()
        out.append([_numpy(p).copy() for p in params])
    return out, opt


CASES = [
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.5, dampening=0.3, maximize=True, foreach=False)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True, foreach=False, decoupled_weight_decay=True,
                  weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, amsgrad=True, fused=True)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, foreach=False)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, foreach=False, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, foreach=False, maximize=True)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05), maximize=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.01, lambd=1e-2, alpha=0.5, t0=10, weight_decay=0.1, maximize=True)),
]


@pytest.mark.parametrize("groups", [False, True], ids=["add_param_group", "groups"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(CASES)])
def test_trajectory_and_state_dict_match_torch(name, options, dtype, groups):
    expected, torch_opt = _trajectory(torch, name, options, dtype, groups)
    actual, ember_opt = _trajectory(ember, name, options, dtype, groups)
    tol = 1e-4 if dtype == "float32" else 1e-10
    # float32 rounding grows along a trajectory: allow a few times torch's own distance
    # from its float64 trajectory
    exact, exact_opt = _trajectory(torch, name, options, "float64", groups) \
        if dtype == "float32" else (expected, torch_opt)
    for step, (want, got, ref) in enumerate(zip(expected, actual, exact)):
        for w, g, r in zip(want, got, ref):
            bound = max(tol, 4 * float(np.abs(w - r).max()))
            np.testing.assert_allclose(g, w, rtol=tol, atol=bound, err_msg=f"step {step}")
    want, got = torch_opt.state_dict(), ember_opt.state_dict()
    assert [g.keys() for g in got["param_groups"]] == [g.keys() for g in want["param_groups"]]
    for wg, gg in zip(want["param_groups"], got["param_groups"]):
        assert wg == gg
    assert want["state"].keys() == got["state"].keys()
    for index, state in want["state"].items():
        assert state.keys() == got["state"][index].keys()
        for key, value in state.items():
            assert str(value.dtype).split(".")[1] == str(got["state"][index][key].dtype).split(".")[1]
            ref = _numpy(exact_opt.state_dict()["state"][index][key])
            bound = max(10 * tol, 4 * float(np.abs(_numpy(value) - ref).max()))
            np.testing.assert_allclose(_numpy(got["state"][index][key]), _numpy(value),
                                       rtol=10 * tol, atol=bound, err_msg=key)


def test_adagrad_state_of_added_groups_uses_constructor_accumulator_value():
    results = []
    for lib in (torch, ember):
        p = lib.tensor([1 + 2j, -1j], requires_grad=True)
        q = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.5, foreach=False)
        opt.add_param_group({"params": [q], "initial_accumulator_value": 3.0})
        ((p * p.conj()).real.sum() + (q * q).sum()).backward()
        opt.step()
        results.append([_numpy(opt.state[p]["sum"]), _numpy(opt.state[q]["sum"]),
                        _numpy(p), _numpy(q)])
    for want, got in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name,options", [("Adam", dict(lr=0.01, amsgrad=True)),
                                          ("SGD", dict(lr=0.01, momentum=0.9)),
                                          ("NAdam", dict(lr=0.01)), ("Adagrad", dict(lr=0.1))])
def test_saved_state_resumes_the_same_trajectory(name, options):
    def train(opt, params, steps):
        for _ in range(steps):
            opt.zero_grad()
            _loss(ember, params).backward()
            opt.step()

    params = _params(ember, "float32")
    opt = getattr(ember.optim, name)(params, **options)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)
    train(opt, params, 5)
    sched.step()
    buffer = io.BytesIO()
    ember.save({"model": [p.detach().clone() for p in params], "optim": opt.state_dict(),
                "sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = ember.load(buffer, map_location="cpu", weights_only=True)
    resumed = [p.clone().requires_grad_(True) for p in saved["model"]]
    opt2 = getattr(ember.optim, name)(resumed, **options)
    sched2 = ember.optim.lr_scheduler.StepLR(opt2, 3, gamma=0.5)
    opt2.load_state_dict(saved["optim"])
    sched2.load_state_dict(saved["sched"])
    for _ in range(4):
        train(opt, params, 2)
        train(opt2, resumed, 2)
        sched.step()
        sched2.step()
    for a, b in zip(params, resumed):
        np.testing.assert_array_equal(_numpy(b), _numpy(a))
    assert sched.get_last_lr() == sched2.get_last_lr()


def test_multisteplr_closed_form_after_loading_a_saved_state():
    opt = ember.optim.SGD([ember.zeros(2, requires_grad=True)], lr=0.1)
    sched = ember.optim.lr_scheduler.MultiStepLR(opt, [3, 5, 5])
    buffer = io.BytesIO()
    ember.save(sched.state_dict(), buffer)
    buffer.seek(0)
    sched.load_state_dict(ember.load(buffer))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched.step(7)
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.1 ** 3])
    assert sched.state_dict()["milestones"] == {3: 1, 5: 2}


def _schedule(lib, make, steps=60, metric=None):
    params = [lib.zeros(2, requires_grad=True) for _ in range(2)]
    opt = lib.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)],
                        lr=0.1, momentum=0.9)
    sched = make(lib.optim.lr_scheduler, opt)
    lrs, momenta = [], []
    for i in range(steps):
        opt.step()
        sched.step() if metric is None else sched.step(metric(i))
        lrs.append([g["lr"] for g in opt.param_groups])
        momenta.append([g["momentum"] for g in opt.param_groups])
    return lrs, momenta


SCHEDULES = {
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [5, 15, 15, 40], gamma=0.3),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 5, 2, 0.01),
    "CyclicLR": lambda L, o: L.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=4,
                                        step_size_down=7, mode="triangular2"),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=61,
                                            anneal_strategy="linear", three_phase=True),
    "SequentialLR": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, 0.1, total_iters=5), L.ExponentialLR(o, 0.9), L.StepLR(o, 3)],
        milestones=[5, 20]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.5, total_iters=4), L.ExponentialLR(o, gamma=0.9)]),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(
        o, threshold_mode="abs", patience=3, cooldown=2, min_lr=[0.001, 0.05], factor=0.5),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_match_torch(name):
    metric = (lambda i: 1.0 if i < 5 else 0.5 + 0.001 * (i % 3)) \
        if name == "ReduceLROnPlateau" else None
    want = _schedule(torch, SCHEDULES[name], metric=metric)
    got = _schedule(ember, SCHEDULES[name], metric=metric)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_files_from_ember_save_name_tensors_by_their_keys(tmp_path):
    import safetensors.numpy as safetensors_numpy
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    path = tmp_path / "model.safetensors"
    ember.save(model.state_dict(), path)
    arrays = safetensors_numpy.load_file(str(path))
    assert sorted(arrays) == sorted(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(arrays[key], _numpy(value))
    nested = tmp_path / "nested.safetensors"
    ember.save({"a.b": ember.ones(1), "a": {"b": ember.zeros(1)}, "l": [ember.ones(2)]}, nested)
    assert sorted(safetensors_numpy.load_file(str(nested))) == ["a.b", "a.b#0", "l.0"]
    loaded = ember.load(nested)
    assert loaded["a.b"].tolist() == [1.0] and loaded["a"]["b"].tolist() == [0.0]


def test_torch_written_safetensors_loads_into_a_model(tmp_path):
    import safetensors.torch as safetensors_torch
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    path = tmp_path / "torch.safetensors"
    safetensors_torch.save_file(reference.state_dict(), str(path))
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.Tanh(), ember.nn.Linear(4, 2))
    model.load_state_dict(ember.load(path, map_location="cpu", weights_only=True))
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(_numpy(model(ember.tensor(x))),
                               _numpy(reference(torch.tensor(x))), rtol=1e-5, atol=1e-6)
    # and the other way: torch reads ember's file
    ember.save(model.state_dict(), tmp_path / "ember.safetensors")
    reference.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ember.safetensors")))


@pytest.mark.parametrize("map_location", ["cpu", ember.device("cpu"), {"cuda:0": "cpu"},
                                          {"cpu": "cpu"}, lambda storage, loc: storage,
                                          lambda storage, loc: None])
def test_load_accepts_torch_map_locations(map_location):
    buffer = io.BytesIO()
    ember.save({"w": ember.arange(3.0)}, buffer)
    buffer.seek(0)
    assert ember.load(buffer, map_location=map_location, mmap=False)["w"].tolist() == [0, 1, 2]


def test_load_rejects_bad_map_locations():
    with pytest.raises(TypeError, match="map_location"):
        ember.load(io.BytesIO(b""), map_location={"cpu": 3})
    buffer = io.BytesIO()
    ember.save(ember.ones(1), buffer)
    buffer.seek(0)
    with pytest.raises(TypeError, match="must return a tensor or None"):
        ember.load(buffer, map_location=lambda storage, loc: "cpu")


@pytest.mark.parametrize("name,options", [("Rprop", dict(lr=0.05)),
                                          ("ASGD", dict(lr=0.05, t0=2, weight_decay=0.1))])
def test_rprop_asgd_complex_parameters_match_torch(name, options):
    results = []
    for lib in (torch, ember):
        p = lib.tensor([1 + 2j, -1j, 0.5], requires_grad=True)
        opt = getattr(lib.optim, name)([p], **options)
        for _ in range(6):
            opt.zero_grad()
            (p * p.conj() * lib.tensor([1.0, 2.0, -0.5])).real.sum().backward()
            opt.step()
        results.append([_numpy(p)] + [_numpy(v) for v in opt.state[p].values()])
    for want, got in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,options,match", [
    ("Rprop", dict(lr=-1.0), "Invalid learning rate"),
    ("Rprop", dict(etas=(1.2, 0.5)), "Invalid eta values"),
    ("ASGD", dict(lr=-0.1), "Invalid learning rate"),
    ("ASGD", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires"),
])
def test_bad_arguments_raise_like_torch(name, options, match):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **options)
    with pytest.raises(ValueError, match=match):
        getattr(ember.optim, name)([ember.zeros(1, requires_grad=True)], **options)


def _from_torch(value):
    if isinstance(value, torch.Tensor):
        return ember.tensor(value.detach().numpy())
    if isinstance(value, dict):
        return {k: _from_torch(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_from_torch(v) for v in value)
    return value


@pytest.mark.parametrize("name,options", [
    ("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.01, momentum=0.9)),
    ("NAdam", {}), ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", {}),
    ("ASGD", dict(t0=1)), ("Rprop", {}),
    ("LBFGS", dict(line_search_fn="strong_wolfe", max_iter=3))])
def test_torch_state_dict_loads_and_continues_the_torch_trajectory(name, options):
    def closure(w, opt):
        def evaluate():
            opt.zero_grad()
            loss = (w ** 4).sum() + w[0] * w[1]
            loss.backward()
            return loss
        return evaluate

    torch_w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    torch_opt = getattr(torch.optim, name)([torch_w], **options)
    for _ in range(3):
        torch_opt.step(closure(torch_w, torch_opt))
    ember_w = ember.tensor(torch_w.detach().numpy(), requires_grad=True)
    ember_opt = getattr(ember.optim, name)([ember_w], **options)
    ember_opt.load_state_dict(_from_torch(torch_opt.state_dict()))
    # loading casts float state to the parameter's dtype (ASGD's float32 eta and mu): the
    # reference reloads its own state likewise
    torch_opt.load_state_dict(torch_opt.state_dict())
    for _ in range(3):
        want = torch_opt.step(closure(torch_w, torch_opt))
        got = ember_opt.step(closure(ember_w, ember_opt))
        assert got.item() == pytest.approx(want.detach().item(), rel=1e-12)
    np.testing.assert_allclose(_numpy(ember_w), _numpy(torch_w), rtol=1e-12, atol=1e-14)
