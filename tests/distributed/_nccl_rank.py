"""World-size-1 NCCL smoke test and one DDP step on the GPU (run by test_nccl.py)."""
import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel

dist.init_process_group("nccl")
assert dist.get_world_size() == 1 and dist.get_backend() == "nccl"
t = ember.arange(6, dtype=ember.float32).to("cuda")
dist.all_reduce(t)
np.testing.assert_array_equal(t.cpu().numpy(), np.arange(6, dtype=np.float32))
dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True).wait()
dist.broadcast(t, src=0)
out = ember.empty(6, device="cuda")
dist.all_gather_into_tensor(out, t)
np.testing.assert_array_equal(out.cpu().numpy(), np.arange(6, dtype=np.float32))

# the list forms and the point-to-point groups (all-to-all, gather, scatter)
parts = [ember.empty(6, device="cuda")]
dist.all_gather(parts, t)
np.testing.assert_array_equal(parts[0].cpu().numpy(), np.arange(6, dtype=np.float32))
out = ember.empty(6, device="cuda")
dist.reduce_scatter(out, [t])
np.testing.assert_array_equal(out.cpu().numpy(), np.arange(6, dtype=np.float32))
grid = ember.empty(3, 2, device="cuda").t()         # non-contiguous: received, copied back
dist.all_to_all_single(grid, t.reshape(2, 3))
np.testing.assert_array_equal(grid.cpu().numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
outs = [ember.empty(6, device="cuda")]
dist.all_to_all(outs, [t], async_op=True).wait()
np.testing.assert_array_equal(outs[0].cpu().numpy(), np.arange(6, dtype=np.float32))
gathered = [ember.empty(6, device="cuda")]
dist.gather(t, gathered, dst=0)
np.testing.assert_array_equal(gathered[0].cpu().numpy(), np.arange(6, dtype=np.float32))
scattered = ember.empty(6, device="cuda")
dist.scatter(scattered, [t], src=0)
np.testing.assert_array_equal(scattered.cpu().numpy(), np.arange(6, dtype=np.float32))
try:
    dist.all_gather([ember.empty(6)], t)
except RuntimeError as exc:
    assert "one device" in str(exc) or "CUDA device" in str(exc), exc
else:
    raise AssertionError("a CPU output for a CUDA all_gather was accepted")

model = nn.Linear(4, 2).to("cuda")
ddp = DistributedDataParallel(model)
x = ember.randn(8, 4).to("cuda")
ddp(x).sum().backward()
reference = nn.Linear(4, 2)
reference.load_state_dict({k: v.cpu() for k, v in model.state_dict().items()})
reference(x.cpu()).sum().backward()
np.testing.assert_allclose(model.weight.grad.cpu().numpy(), reference.weight.grad.numpy(),
                           rtol=1e-5, atol=1e-6)
print("nccl ok")
