"""The fused multi-tensor update loops give the results of the per-parameter ember-op path
(``foreach=False``) and of PyTorch, and fall back to ember ops where they cannot run."""
import copy

import numpy as np
import pytest
import torch

import ember
from ember import optim
from ember._core import _optim

rng = np.random.default_rng(1)
X = rng.standard_normal((16, 6))
Y = rng.standard_normal((16, 4))
W0 = rng.standard_normal((6, 4)) * 0.5
B0 = rng.standard_normal(4) * 0.1

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, decoupled_weight_decay=True, weight_decay=0.2)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.3, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES]
TOL = {ember.float64: (1e-10, 1e-12), ember.float32: (1e-4, 2e-5)}


def _loss(lib, dtype, w, b):
    x = lib.tensor(X, dtype=dtype)
    y = lib.tensor(Y, dtype=dtype)
    r = lib.tanh(x @ w) + b - y
    return (r * r).mean() + (w * w * w * w).sum() * 0.01


def _run(name, kwargs, dtype, steps, params=None, opt=None, lib=ember):
    if params is None:
        params = [lib.tensor(a, dtype=dtype, requires_grad=True) for a in (W0, B0)]
    if opt is None:
        opt = getattr(lib.optim, name)(params, **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, dtype, *params).backward()
        opt.step()
        trajectory.append([np.array(p.detach().numpy(), copy=True) for p in params])
    return trajectory, params, opt


def _assert_same(got, want, dtype):
    rtol, atol = TOL[dtype]
    for step, (g, w) in enumerate(zip(got, want)):
        for gi, wi in zip(g, w):
            np.testing.assert_allclose(gi, wi, rtol=rtol, atol=atol, err_msg=f"step {step}")


@pytest.fixture
def count_fused_calls(monkeypatch):
    """Counts the calls of the fused entry (to check which path a step takes)."""
    calls = []
    real = _optim.step

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(_optim, "step", counting)
    return calls


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_fused_matches_ember_ops(name, kwargs, dtype, count_fused_calls):
    fused, _, _ = _run(name, kwargs, dtype, 25)
    assert len(count_fused_calls) == 25
    looped, _, _ = _run(name, dict(kwargs, foreach=False), dtype, 25)
    assert len(count_fused_calls) == 25          # foreach=False: ember ops only
    _assert_same(fused, looped, dtype)


@pytest.mark.parametrize("name,kwargs", CASES[1::3], ids=IDS[1::3])
def test_fused_float32_matches_torch(name, kwargs):
    got, _, _ = _run(name, kwargs, ember.float32, 25)
    want, _, _ = _run(name, kwargs, torch.float32, 25, lib=torch)
    _assert_same(got, want, ember.float32)


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=IDS[::2])
def test_state_dict_round_trip_between_paths(name, kwargs):
    """Stop after 6 fused steps, reload the state into a fresh optimizer (fused, then
    ember ops) and continue: the trajectory is the uninterrupted one."""
    whole, _, _ = _run(name, kwargs, ember.float64, 12)
    _, params, opt = _run(name, kwargs, ember.float64, 6)
    saved = opt.state_dict()
    for options in (kwargs, dict(kwargs, foreach=False)):
        fresh = [p.detach().clone().requires_grad_() for p in params]
        resumed = getattr(optim, name)(fresh, **options)
        resumed.load_state_dict(copy.deepcopy(saved))   # state tensors load by reference
        rest, _, _ = _run(name, options, ember.float64, 6, params=fresh, opt=resumed)
        _assert_same(rest, whole[6:], ember.float64)
    # the saved state is what torch saves after the same steps
    _, _, torch_opt = _run(name, kwargs, torch.float64, 6, lib=torch)
    for index, entries in torch_opt.state_dict()["state"].items():
        assert set(entries) == set(saved["state"][index])
        for key, value in entries.items():
            np.testing.assert_allclose(np.asarray(saved["state"][index][key].numpy()),
                                       value.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=IDS[::3])
def test_mixed_group_fused_and_fallback(name, kwargs, count_fused_calls):
    """A non-contiguous and a complex parameter go through ember ops, the others are
    fused, in the same group; every one follows torch."""
    def params_of(lib):
        w = lib.tensor(W0.T.copy(), dtype=lib.float64).t().requires_grad_()   # transposed leaf
        b = lib.tensor(B0, dtype=lib.float64, requires_grad=True)
        z = lib.tensor(B0 + 1j * B0[::-1], dtype=lib.complex128, requires_grad=True)
        return [w, b, z]

    def run(lib):
        params = params_of(lib)
        opt = getattr(lib.optim, name)(params, **kwargs)
        out = []
        for _ in range(10):
            opt.zero_grad()
            w, b, z = params
            loss = _loss(lib, lib.float64, w, b) + (z * z.conj()).real.sum() * 0.5 \
                + (z.real * b).sum()
            loss.backward()
            opt.step()
            out.append([np.array(p.detach().numpy(), copy=True) for p in params])
        return out

    got = run(ember)
    assert len(count_fused_calls) == 10
    _assert_same(got, run(torch), ember.float64)


@pytest.mark.parametrize("dtype,rtol", [(ember.float16, 2e-2), (ember.bfloat16, 5e-2)],
                         ids=["float16", "bfloat16"])
@pytest.mark.parametrize("name,kwargs", [CASES[i] for i in (1, 3, 11)],
                         ids=[IDS[i] for i in (1, 3, 11)])
def test_half_precision_params_compute_in_float32(name, kwargs, dtype, rtol):
    w32 = ember.tensor(W0, dtype=ember.float32).to(dtype).to(ember.float32)
    grads = [ember.tensor(rng.standard_normal(W0.shape), dtype=ember.float32).to(dtype)
             for _ in range(5)]
    results = []
    for param_dtype in (dtype, ember.float32):
        w = w32.to(param_dtype).requires_grad_()
        opt = getattr(optim, name)([w], **kwargs)
        for g in grads:
            w.grad = g.to(param_dtype)
            opt.step()
        assert opt.state[w][next(k for k in opt.state[w] if k != "step")].dtype == param_dtype
        results.append(w.detach().to(ember.float32).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=rtol, atol=rtol * 0.1)


@pytest.mark.parametrize("name,kwargs", [CASES[i] for i in (1, 3, 11)],
                         ids=[IDS[i] for i in (1, 3, 11)])
def test_large_tensors_split_across_threads(name, kwargs):
    """Tensors above the grain are shared out in chunks; results do not change."""
    shape = (300, 700)          # 210000 elements: several chunks
    w0 = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    small = rng.standard_normal(7).astype(np.float32)
    results = []
    for options in (kwargs, dict(kwargs, foreach=False)):
        params = [ember.tensor(w0, requires_grad=True), ember.tensor(small, requires_grad=True)]
        opt = getattr(optim, name)(params, **options)
        for g in grads:
            params[0].grad = ember.tensor(g)
            params[1].grad = ember.tensor(g[0, :7])
            opt.step()
        results.append([p.detach().numpy().copy() for p in params])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,kwargs", [CASES[i] for i in (2, 4, 14)],
                         ids=[IDS[i] for i in (2, 4, 14)])
def test_strided_gradients_are_made_contiguous_for_the_fused_loop(name, kwargs,
                                                                   count_fused_calls):
    grads = [rng.standard_normal((4, 6)) for _ in range(4)]
    results = []
    for options in (kwargs, dict(kwargs, foreach=False)):
        w = ember.tensor(W0, requires_grad=True)
        opt = getattr(optim, name)([w], **options)
        for g in grads:
            w.grad = ember.tensor(g).t()          # a transposed view
            opt.step()
        results.append(w.detach().numpy().copy())
    assert len(count_fused_calls) == len(grads)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)


def test_update_bumps_version_counters():
    w = ember.randn(4, 3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    state = opt.state[w]
    tracked = [w, state["exp_avg"], state["exp_avg_sq"], state["step"]]
    before = [t._version for t in tracked]
    saved = w * w             # saves w for backward
    opt.step()
    assert [t._version for t in tracked] == [v + 1 for v in before]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved.sum().backward()


def test_fused_and_foreach_together_is_an_error():
    w = ember.zeros(2, requires_grad=True)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad):
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
            cls([w], lr=0.1, fused=True, foreach=True)
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
            getattr(torch.optim, cls.__name__)([torch.zeros(2, requires_grad=True)], lr=0.1,
                                               fused=True, foreach=True)


def test_fusable_rules():
    p = ember.zeros(3, 2)
    assert _optim.fusable(p, ember.ones(3, 2), (ember.zeros(3, 2),), (ember.tensor(0.0),))
    assert not _optim.fusable(p, ember.ones(2, 3))                         # shape
    assert not _optim.fusable(p, ember.ones(3, 2, dtype=ember.float64))    # dtype
    assert not _optim.fusable(p, ember.ones(2, 3).t())                     # layout
    assert not _optim.fusable(p, ember.ones(3, 2, requires_grad=True))     # create_graph
    assert not _optim.fusable(ember.zeros(3, dtype=ember.complex64),
                              ember.zeros(3, dtype=ember.complex64))
    assert not _optim.fusable(ember.zeros(3, dtype=ember.int64), ember.zeros(3, dtype=ember.int64))
    assert not _optim.fusable(p, ember.ones(3, 2), (ember.zeros(3, 2)[::-1],))
    assert not _optim.fusable(p, ember.ones(3, 2), (), (ember.tensor(0),))  # int counter


def test_step_entry_checks_its_arguments():
    group = dict(lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False)
    p, g = ember.zeros(3), ember.ones(3)
    states = (ember.zeros(3), ember.zeros(3))
    step = ember.tensor(0.0)
    with pytest.raises(RuntimeError, match=r"the gradient of parameter 0 .*shape \(4,\)"):
        _optim.step("adam", group, [p], [ember.ones(4)], [states], [step])
    with pytest.raises(RuntimeError, match="state tensor 1 of parameter 0.*float64"):
        _optim.step("adam", group, [p], [g], [(states[0], ember.zeros(3, dtype=ember.float64))],
                    [step])
    with pytest.raises(RuntimeError, match="has 2 state tensors, but these options use 3"):
        _optim.step("adam", dict(group, amsgrad=True), [p], [g], [states], [step])
    with pytest.raises(RuntimeError, match="dtype ember.int32"):
        _optim.step("adam", group, [ember.zeros(3, dtype=ember.int32)],
                    [ember.zeros(3, dtype=ember.int32)], [states], [step])
    with pytest.raises(RuntimeError, match="step counter of parameter 0"):
        _optim.step("adam", group, [p], [g], [states], [ember.tensor(0)])
    with pytest.raises(RuntimeError, match="1 parameters but 2 gradients"):
        _optim.step("adam", group, [p], [g, g], [states], [step])
    with pytest.raises(TypeError, match="parameter 0 must be a Tensor"):
        _optim.step("adam", group, [np.zeros(3)], [g], [states], [step])
    with pytest.raises(ValueError, match="unknown optimizer 'adamz'"):
        _optim.step("adamz", group, [p], [g], [states], [step])
    # nothing changed by the failed calls
    assert float(step) == 0.0 and p._version == 0 and np.all(p.numpy() == 0)
