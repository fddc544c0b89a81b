"""Every ember.optim.lr_scheduler gives torch's lr (and momentum) sequence over 100 steps."""
import math
import warnings

import pytest
import torch

import ember
from ember import optim


def _optimizer(lib, name="SGD", lrs=(0.1, 0.02)):
    params = [lib.zeros(2, requires_grad=True) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1)


def _lambda(epoch):
    return 0.97 ** epoch


def _mult(epoch):
    return 0.99 if epoch % 3 else 0.9


SCHEDULES = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, _lambda),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [_lambda, lambda e: 1.0 / (1 + e)]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, _mult),
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=12),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=40),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.95),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=60, power=2.0),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-4),
    "CosineAnnealingWarmRestarts-T_mult1": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=13),
    "CyclicLR-triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=9),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=5, step_size_down=11,
        mode="triangular2", base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.98,
        cycle_momentum=False),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=4, scale_fn=lambda x: 1 / (1 + x),
        scale_mode="iterations"),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=101),
    "OneCycleLR-three-phase-linear": lambda m, o: m.OneCycleLR(
        o, max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=11, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, div_factor=10.0),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=10),
            m.CosineAnnealingLR(o, T_max=40), m.ExponentialLR(o, gamma=0.9)],
        milestones=[10, 50]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=20), m.ExponentialLR(o, gamma=0.97),
         m.StepLR(o, step_size=15, gamma=0.5)]),
    "chained-by-hand": lambda m, o: [m.LinearLR(o, start_factor=0.2, total_iters=25),
                                     m.CosineAnnealingLR(o, T_max=70)],
}


def _run(lib, key, optimizer_name, steps=100):
    opt = _optimizer(lib, optimizer_name)
    made = SCHEDULES[key](lib.optim.lr_scheduler, opt)
    schedulers = made if isinstance(made, list) else [made]
    lrs, momenta = [], []
    for _ in range(steps):
        opt.step()
        for s in schedulers:
            s.step()
        lrs.append(list(schedulers[-1].get_last_lr()))
        momenta.append([g.get("momentum", g.get("betas")) for g in opt.param_groups])
    return lrs, momenta, schedulers


def _close(a, b):
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("key", list(SCHEDULES))
def test_lr_sequence_matches_torch(key, optimizer_name):
    got_lrs, got_momenta, _ = _run(ember, key, optimizer_name)
    want_lrs, want_momenta, _ = _run(torch, key, optimizer_name)
    for step, (g, w) in enumerate(zip(got_lrs, want_lrs)):
        assert _close(g, w), (step, g, w)
    for step, (g, w) in enumerate(zip(got_momenta, want_momenta)):
        assert _close(g, w), (step, g, w)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.01, threshold_mode="abs",
                 cooldown=3, min_lr=[0.01, 0.005]),
    dict(patience=0, threshold_mode="rel", min_lr=0.003, eps=1e-3)])
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = [1.0 / (1 + (i % 17)) + 0.001 * (i % 5) for i in range(100)]
    result = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for metric in metrics:
            opt.step()
            sched.step(metric)
            seq.append(list(sched.get_last_lr()))
        result.append(seq)
    assert _close(result[0], result[1])


@pytest.mark.parametrize("key", ["StepLR", "CosineAnnealingLR", "CyclicLR-triangular2",
                                 "OneCycleLR", "SequentialLR", "ChainedScheduler",
                                 "CosineAnnealingWarmRestarts", "LambdaLR"])
def test_state_dict_round_trip(key):
    """Save after 30 steps, load into a fresh scheduler/optimizer pair, continue."""
    full, _, _ = _run(ember, key, "SGD", steps=60)
    opt = _optimizer(ember)
    sched = SCHEDULES[key](ember.optim.lr_scheduler, opt)
    for _ in range(30):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state
    opt2 = _optimizer(ember)
    sched2 = SCHEDULES[key](ember.optim.lr_scheduler, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    for step in range(30, 60):
        opt2.step()
        sched2.step()
        assert _close(sched2.get_last_lr(), full[step]), step


def test_step_with_epoch_uses_closed_form():
    result = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 8], gamma=0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seq = []
            for epoch in [5, 2, 9, 0]:
                opt.step()
                sched.step(epoch)
                seq.append(list(sched.get_last_lr()))
        result.append(seq)
    assert _close(result[0], result[1])


def test_custom_scheduler_on_the_pre_2_0_base_class():
    # older code subclasses the private _LRScheduler
    result = []
    for lib in (ember, torch):
        class Warmup(lib.optim.lr_scheduler._LRScheduler):
            def __init__(self, optimizer, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                scale = min(1.0, (self.last_epoch + 1) / self.warmup)
                return [base * scale for base in self.base_lrs]

        opt = _optimizer(lib)
        sched = Warmup(opt, 4)
        assert isinstance(sched, lib.optim.lr_scheduler.LRScheduler)
        seq = []
        for _ in range(6):
            opt.step()
            sched.step()
            seq.append(list(sched.get_last_lr()))
        result.append(seq)
    assert _close(result[0], result[1])

def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer(ember)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_errors():
    opt = _optimizer(ember)
    m = optim.lr_scheduler
    with pytest.raises(TypeError, match="is not an Optimizer"):
        m.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        m.LambdaLR(opt, [_lambda])
    with pytest.raises(ValueError, match="between 0 and 1"):
        m.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        m.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        m.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        m.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="number of milestones"):
        m.SequentialLR(opt, [m.StepLR(opt, 3)], milestones=[4])
    with pytest.raises(KeyError, match="initial_lr"):
        m.StepLR(optim.SGD([ember.zeros(1, requires_grad=True)]), 2, last_epoch=3)
    with pytest.raises(ValueError, match="momentum or beta1"):
        m.CyclicLR(optim.Adagrad([ember.zeros(1, requires_grad=True)]), 0.01, 0.1)
    sched = m.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        for _ in range(4):
            opt.step()
            sched.step()
