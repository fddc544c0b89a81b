"""ember.autograd.graph.save_on_cpu with cuda tensors: what the graph keeps for backward
lives in CPU memory, and the gradients are those of a run without it.  Marked gpu:
without a GPU they run on the emulated one."""
import pytest

import ember
from ember import nn
from ember.autograd.graph import save_on_cpu, saved_tensors_hooks

from test_gpu import assert_same

pytestmark = pytest.mark.gpu


def _grads(hooks, pin_memory=False):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2)).cuda()
    x = ember.linspace(-1, 1, 24).reshape(4, 6).cuda()
    devices = []
    if hooks:
        keeper = save_on_cpu(pin_memory=pin_memory)
        pack = keeper.pack_hook

        def spy(t):
            packed = pack(t)
            devices.append(packed[1].device.type)
            return packed
        with saved_tensors_hooks(spy, keeper.unpack_hook):
            loss = model(x).square().sum()
    else:
        loss = model(x).square().sum()
    loss.backward()
    return [p.grad for p in model.parameters()], devices


@pytest.mark.parametrize("pin_memory", [False, True])
def test_save_on_cpu_keeps_saved_tensors_on_the_host(pin_memory):
    expected, _ = _grads(False)
    got, devices = _grads(True, pin_memory)
    assert devices and set(devices) == {"cpu"}
    for g, e in zip(got, expected):
        assert_same(g, e.cpu())
