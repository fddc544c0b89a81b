"""ember.optim.swa_utils against torch.optim.swa_utils."""
import numpy as np
import pytest
import torch

import ember
from ember import nn

DATA = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)


def _models(with_bn=False):
    def make(lib):
        lib.manual_seed(0)
        layers = [lib.nn.Linear(4, 3)]
        if with_bn:
            layers.append(lib.nn.BatchNorm1d(3))
        return lib.nn.Sequential(*layers)
    e, t = make(ember), make(torch)
    with ember.no_grad():
        for pe, pt in zip(e.parameters(), t.parameters()):
            pe.copy_(ember.tensor(pt.detach().numpy()))
    return e, t


def _perturb(models, step):
    for model, lib in zip(models, (ember, torch)):
        with lib.no_grad():
            for k, p in enumerate(model.parameters()):
                p.mul_(0.5).add_(float(step + k))


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema_single", "swa_single"])
@pytest.mark.parametrize("use_buffers", [False, True])
def test_averages_match_torch(kind, use_buffers):
    e, t = _models(with_bn=True)
    fns = {
        "swa": ({}, {}),
        "ema_multi": ({"multi_avg_fn": ember.optim.swa_utils.get_ema_multi_avg_fn(0.8)},
                      {"multi_avg_fn": torch.optim.swa_utils.get_ema_multi_avg_fn(0.8)}),
        "ema_single": ({"avg_fn": ember.optim.swa_utils.get_ema_avg_fn(0.7)},
                       {"avg_fn": torch.optim.swa_utils.get_ema_avg_fn(0.7)}),
        "swa_single": ({"avg_fn": ember.optim.swa_utils.get_swa_avg_fn()},
                       {"avg_fn": torch.optim.swa_utils.get_swa_avg_fn()}),
    }[kind]
    ae = ember.optim.swa_utils.AveragedModel(e, use_buffers=use_buffers, **fns[0])
    at = torch.optim.swa_utils.AveragedModel(t, use_buffers=use_buffers, **fns[1])
    for step in range(4):
        e.train(), t.train()
        e(ember.tensor(DATA)), t(torch.tensor(DATA))     # moves the batch-norm statistics
        _perturb((e, t), step)
        ae.update_parameters(e)
        at.update_parameters(t)
    got, want = ae.state_dict(), at.state_dict()
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_allclose(got[key].numpy(), want[key].numpy(), rtol=1e-5, atol=1e-6)
    ae.eval(), at.eval()
    np.testing.assert_allclose(ae(ember.tensor(DATA)).detach().numpy(),
                               at(torch.tensor(DATA)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_update_bn_matches_torch():
    e, t = _models(with_bn=True)
    batches = [DATA[:3], DATA[3:]]
    ember.optim.swa_utils.update_bn([(ember.tensor(b), 0) for b in batches], e)
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) for b in batches], t)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(e[1], name).numpy(), getattr(t[1], name).numpy(),
                                   rtol=1e-5)
    assert e.training and e[1].momentum == t[1].momentum == 0.1
    ember.optim.swa_utils.update_bn([ember.tensor(DATA)], nn.Linear(4, 2))   # no batch norm


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 3])
def test_swalr_schedule_matches_torch(strategy, anneal_epochs):
    lrs = []
    for lib in (ember, torch):
        w = lib.nn.Parameter(lib.zeros(2))
        opt = lib.optim.SGD([{"params": [w]}, {"params": [lib.nn.Parameter(lib.zeros(1))],
                                                "lr": 0.5}], lr=1.0)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.1], anneal_epochs=anneal_epochs,
                                          anneal_strategy=strategy)
        seen = [sched.get_last_lr()]
        for _ in range(6):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr())
        lrs.append(seen)
        state = sched.state_dict()
        assert "optimizer" not in state and state["anneal_epochs"] == anneal_epochs
    np.testing.assert_allclose(np.array(lrs[0]), np.array(lrs[1]), rtol=1e-12)


def test_errors_match_torch():
    model = nn.Linear(2, 2)
    f = ember.optim.swa_utils.get_swa_avg_fn()
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        ember.optim.swa_utils.AveragedModel(model, avg_fn=f, multi_avg_fn=f)
    with pytest.raises(ValueError, match="Invalid decay value"):
        ember.optim.swa_utils.get_ema_multi_avg_fn(1.5)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        ember.optim.swa_utils.SWALR(opt, 0.01, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        ember.optim.swa_utils.SWALR(opt, 0.01, anneal_epochs=-1)
