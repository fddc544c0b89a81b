"""ember.jit.trace and ember.compile on cuda models: the graph runs on the device and
gives the eager results.  Marked gpu: without a GPU they run on the emulated one."""
import pytest

import ember
from ember import nn

from test_gpu import assert_same

pytestmark = pytest.mark.gpu


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3), nn.GELU()).eval()


def test_traced_and_compiled_models_run_on_the_device():
    model = _model()
    x = ember.linspace(-1, 1, 2 * 64).reshape(2, 1, 8, 8)
    with ember.no_grad():
        expected = model(x)
    model = model.cuda()
    xc = x.cuda()
    traced = ember.jit.trace(model, xc)
    compiled = ember.compile(model)
    with ember.no_grad():
        assert_same(traced(xc), expected)
        for _ in range(2):
            assert_same(compiled(xc), expected)
    assert all(entry is not None for entry in compiled._cache.graphs.values())
