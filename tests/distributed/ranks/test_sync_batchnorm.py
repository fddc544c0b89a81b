"""SyncBatchNorm on 2 ranks, each with half the batch, against one BatchNorm over the
whole batch: outputs, running statistics, and gradients (float64)."""
import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP

RANK, WORLD = dist.get_rank(), dist.get_world_size()


def _halves(shape, seed):
    full = ember.from_numpy(np.random.default_rng(seed).standard_normal(shape))
    n = shape[0] // WORLD
    return full, full[RANK * n:(RANK + 1) * n]


@pytest.mark.parametrize("shape,cls", [((8, 3), nn.BatchNorm1d), ((6, 3, 5), nn.BatchNorm1d),
                                       ((4, 3, 2, 3), nn.BatchNorm2d)])
@pytest.mark.parametrize("affine", [True, False])
def test_matches_batch_norm_on_the_whole_batch(shape, cls, affine):
    full, mine = _halves(shape, 0)
    grad_full, grad_mine = _halves(shape, 1)
    reference = cls(3, affine=affine, dtype=ember.float64)
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(cls(3, affine=affine, dtype=ember.float64))
    if affine:
        with ember.no_grad():
            for m in (reference, synced):
                m.weight.copy_(ember.tensor([0.5, 2.0, -1.0]))
                m.bias.copy_(ember.tensor([0.1, 0.0, 0.3]))
    x_full = full.clone().requires_grad_()
    x_mine = mine.clone().requires_grad_()
    for step in range(2):                   # twice: the running statistics accumulate
        y_full, y_mine = reference(x_full), synced(x_mine)
        np.testing.assert_allclose(y_mine.detach().numpy(),
                                   y_full.detach().numpy()[RANK * len(y_mine):][:len(y_mine)],
                                   rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(synced.running_mean.numpy(), reference.running_mean.numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(synced.running_var.numpy(), reference.running_var.numpy(),
                               rtol=1e-10)
    assert int(synced.num_batches_tracked) == 2
    (y_full * grad_full).sum().backward()
    (y_mine * grad_mine).sum().backward()
    n = len(x_mine)
    np.testing.assert_allclose(x_mine.grad.numpy(), x_full.grad.numpy()[RANK * n:(RANK + 1) * n],
                               rtol=1e-9, atol=1e-10)
    if affine:                              # local sums: their total is the whole batch's
        for p_ref, p_sync in ((reference.weight, synced.weight), (reference.bias, synced.bias)):
            total = p_sync.grad.clone()
            dist.all_reduce(total)
            np.testing.assert_allclose(total.numpy(), p_ref.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_evaluation_uses_the_running_statistics_and_ddp_trains():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    model = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(model))
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    _, x = _halves((8, 4), 2)
    x = x.float()
    for _ in range(3):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
    weights = [p.detach().clone() for p in model.parameters()]
    for w in weights:                       # DDP keeps the replicas identical
        other = w.clone()
        dist.broadcast(other, src=0)
        np.testing.assert_allclose(w.numpy(), other.numpy(), rtol=1e-6)
    model.eval()
    bn = model.module[1]
    mine = model.module[1](ember.ones(2, 3))
    expected = (1 - bn.running_mean) / (bn.running_var + bn.eps).sqrt() * bn.weight + bn.bias
    np.testing.assert_allclose(mine.detach().numpy(), expected.detach().expand(2, 3).numpy(),
                               rtol=1e-5)
