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
