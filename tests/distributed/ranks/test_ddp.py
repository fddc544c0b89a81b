"""DistributedDataParallel on 2 ranks reaches the weights of single-process training on
the combined batch (float32 tolerance)."""
import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember import nn
from ember.distributed.algorithms import Join
from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
from ember.examples.digits import build_model
from ember.nn.parallel import DistributedDataParallel as DDP

RANK, WORLD = dist.get_rank(), dist.get_world_size()


def mlp():
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 5))


def cnn():
    model = build_model()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0   # dropout masks cannot match between a split and a whole batch
    return model


def batches(shape, steps, seed=0, per_rank=4):
    """``steps`` combined batches of ``WORLD * per_rank`` samples (inputs, labels)."""
    gen = np.random.default_rng(seed)
    return [(ember.from_numpy(gen.standard_normal((WORLD * per_rank, *shape)).astype(np.float32)),
             ember.from_numpy(gen.integers(0, 5, WORLD * per_rank)))
            for _ in range(steps)]


def shard(t, rank=RANK):
    n = t.shape[0] // WORLD
    return t[rank * n:(rank + 1) * n]


def make(build, seed=1):
    ember.manual_seed(seed + 17 * RANK)   # different on each rank: DDP broadcasts rank 0's
    model = build()
    ember.manual_seed(seed)
    reference = build()
    return model, reference


def assert_same_weights(a, b, rtol=1e-5, atol=1e-6):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


def train(build, shape, steps=3, accumulate=1, hook=None, bucket_cap_mb=None):
    model, reference = make(build)
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb)
    if hook is not None:
        ddp.register_comm_hook(None, hook)
    assert_same_weights(ddp.module, reference)   # broadcast from rank 0
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    data = batches(shape, steps * accumulate)
    for step in range(steps):
        opt.zero_grad()
        ref_opt.zero_grad()
        micro = data[step * accumulate:(step + 1) * accumulate]
        for k, (x, y) in enumerate(micro):
            if k < accumulate - 1:
                with ddp.no_sync():
                    loss_fn(ddp(shard(x)), shard(y)).backward()
            else:
                loss_fn(ddp(shard(x)), shard(y)).backward()
            loss_fn(reference(x), y).backward()
        opt.step()
        ref_opt.step()
    return ddp, reference


def test_mlp_matches_single_process():
    # ranks on one node: every gradient averaged through the shared window in one call
    ddp, reference = train(mlp, (20,), steps=4)
    assert ddp._reduces_at_once()
    assert all(b._buffer is None for b in ddp._buckets), "unused bucket buffers were made"
    assert_same_weights(ddp.module, reference)


def test_mlp_in_buckets_matches_single_process():
    # the default hook registered explicitly: buckets, reduced in bucket order
    ddp, reference = train(mlp, (20,), steps=4, bucket_cap_mb=0.001,
                           hook=default_hooks.allreduce_hook)
    assert len(ddp._buckets) > 1 and not ddp._reduces_at_once()
    assert_same_weights(ddp.module, reference)


def wide_mlp():
    return nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 64), nn.Tanh(),
                         nn.Linear(64, 5))


def test_buckets_through_shared_memory_match_single_process():
    # buckets of 100+ KiB take the shared window (ember.distributed._shm), reduced at once
    # in each rank's backward rather than by MPI's non-blocking all-reduce
    from ember.distributed import _shm
    ddp, reference = train(wide_mlp, (20,), steps=3, bucket_cap_mb=0.1,
                           hook=default_hooks.allreduce_hook)
    assert len(ddp._buckets) > 1
    assert all(b.buffer.nbytes >= _shm.MIN_BYTES for b in ddp._buckets[:-1])
    assert ddp.process_group._shm, "the DDP buckets did not use the shared window"
    assert_same_weights(ddp.module, reference)


def test_mlp_no_sync_accumulation_matches():
    ddp, reference = train(mlp, (20,), steps=3, accumulate=3)
    assert_same_weights(ddp.module, reference)


def test_digits_cnn_matches_single_process_with_no_sync():
    ddp, reference = train(cnn, (1, 8, 8), steps=2, accumulate=2)
    assert_same_weights(ddp.module, reference, rtol=1e-4, atol=1e-5)


def test_fp16_compress_hook_is_close():
    ddp, reference = train(mlp, (20,), steps=2, hook=default_hooks.fp16_compress_hook)
    assert_same_weights(ddp.module, reference, rtol=1e-2, atol=2e-3)


class TwoBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 3)
        self.b = nn.Linear(6, 3)
        self.never = nn.Linear(6, 3)

    def forward(self, x, use_b):
        return self.b(x) if use_b else self.a(x)


def test_find_unused_parameters():
    model, reference = make(TwoBranches)
    ddp = DDP(model, find_unused_parameters=True)
    x = batches((6,), 1)[0][0]
    # rank 0 uses branch a, rank 1 branch b: each branch's gradient comes from one rank
    ddp(shard(x), use_b=RANK == 1).sum().backward()
    (reference(shard(x, 0), False).sum() + reference(shard(x, 1), True).sum()).div(WORLD).backward()
    for name in ("a", "b"):
        for p, q in zip(getattr(ddp.module, name).parameters(),
                        getattr(reference, name).parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert all(p.grad is None for p in ddp.module.never.parameters())


def test_unused_parameter_without_the_option_raises_clearly():
    model, _ = make(TwoBranches)
    ddp = DDP(model)
    x = ember.randn(2, 6)
    ddp(x, use_b=False).sum().backward()
    with pytest.raises(RuntimeError, match="find_unused_parameters"):
        ddp(x, use_b=False)


@pytest.mark.parametrize("in_buckets", [False, True], ids=["at_once", "in_buckets"])
def test_uneven_inputs_with_join(in_buckets):
    model, reference = make(mlp)
    ddp = DDP(model)
    if in_buckets:
        ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    assert ddp._reduces_at_once() is not in_buckets
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    data = batches((20,), 5)
    mine = 3 if RANK == 0 else 5
    with Join([ddp]):
        for x, y in data[:mine]:
            opt.zero_grad()
            loss_fn(ddp(shard(x)), shard(y)).backward()
            opt.step()
    for i, (x, y) in enumerate(data):
        ref_opt.zero_grad()
        ranks = range(WORLD) if i < 3 else [1]
        # joined ranks contribute zero gradients; the average divides by the world size
        loss = sum(loss_fn(reference(shard(x, r)), shard(y, r)) for r in ranks) / WORLD
        loss.backward()
        ref_opt.step()
    assert_same_weights(ddp.module, reference)


def test_join_can_throw_on_early_termination():
    ddp = DDP(mlp())
    x = ember.randn(2, 20)
    with pytest.raises(RuntimeError, match="exhausted"):
        with Join([ddp], throw_on_early_termination=True):
            for _ in range(1 if RANK == 0 else 3):
                ddp(x).sum().backward()


class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.register_buffer("steps", ember.zeros(1))

    def forward(self, x):
        return self.lin(x)


def test_buffers_state_dict_and_attributes():
    model = WithBuffer()
    model.steps.fill_(float(RANK + 5))
    ddp = DDP(model)
    assert ddp.module is model
    assert model.steps.item() == 5.0
    model.steps.fill_(float(RANK + 7))
    ddp(ember.randn(2, 3))          # a training forward broadcasts rank 0's buffers
    assert model.steps.item() == 7.0
    model._buffers["steps"] = ember.tensor(float(RANK + 9))   # as Module.to() replaces it
    ddp(ember.randn(2, 3))
    assert model.steps.item() == 9.0
    state = ddp.state_dict()
    assert set(state) == {"module.lin.weight", "module.lin.bias", "module.steps"}
    assert set(ddp.module.state_dict()) == {"lin.weight", "lin.bias", "steps"}
    plain = {k: v.clone() + 1 for k, v in ddp.module.state_dict().items()}
    ddp.load_state_dict(plain)
    np.testing.assert_array_equal(model.lin.bias.detach().numpy(), plain["lin.bias"].numpy())
    ddp.load_state_dict(state)
    with pytest.raises(RuntimeError, match="once"):
        ddp.register_comm_hook(None, default_hooks.allreduce_hook)
        ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    with pytest.raises(TypeError, match="Module"):
        DDP(ember.ones(3))


def test_forward_without_backward_is_fine():
    model, reference = make(mlp)
    ddp = DDP(model, find_unused_parameters=True)
    x = batches((20,), 1)[0][0]
    ddp(shard(x))                      # e.g. a validation loss computed with grad enabled
    ddp(shard(x)).sum().backward()
    reference(x).sum().div(WORLD).backward()
    for p, q in zip(ddp.module.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
