"""TorchScript's Python-side names run code written for torch.jit.script eagerly, as
PyTorch does with its JIT disabled."""
import io

import pytest
import torch

import ember
from ember import nn


def test_script_returns_the_object_and_runs_eagerly():
    @ember.jit.script
    def scale(x, k: float = 2.0):
        return x * k

    assert scale(ember.ones(2)).tolist() == [2.0, 2.0]
    model = nn.Linear(3, 2)
    assert ember.jit.script(model) is model


def test_decorators_and_queries_match_eager_torch():
    class Net(nn.Module):
        @ember.jit.ignore
        def debug(self, x):
            return x

        @ember.jit.ignore(drop=True)
        def dropped(self, x):
            return x + 1

        @ember.jit.unused
        def unused(self, x):
            return x

        @ember.jit.export
        def exported(self, x):
            return x * 3

        def forward(self, x):
            if not ember.jit.is_scripting():
                x = self.debug(x)
            return self.exported(self.dropped(x))

    assert Net()(ember.ones(1)).tolist() == [6.0]
    assert ember.jit.is_scripting() is torch.jit.is_scripting() is False
    assert ember.jit.annotate(list, [1]) == torch.jit.annotate(list, [1]) == [1]
    assert ember.jit.Final[int] is int
    assert not ember.jit.is_tracing()


def test_is_tracing_inside_a_trace():
    seen = []

    def f(x):
        seen.append(ember.jit.is_tracing())
        return x * 2

    ember.jit.trace(f, ember.ones(2))
    assert seen[0] is True and not ember.jit.is_tracing()   # (then check_trace runs f eagerly)


def test_save_and_freeze_take_traced_modules():
    traced = ember.jit.trace(nn.Linear(3, 2).eval(), ember.ones(1, 3))
    buffer = io.BytesIO()
    ember.jit.save(traced, buffer)
    buffer.seek(0)
    x = ember.randn(4, 3)
    assert ember.allclose(ember.jit.load(buffer)(x), traced(x))
    assert ember.jit.freeze(traced) is traced
    assert ember.jit.optimize_for_inference(traced) is traced
    with pytest.raises(TypeError, match="saves a traced module"):
        ember.jit.save(nn.Linear(2, 2), io.BytesIO())
    with pytest.raises(TypeError, match="expects a traced module"):
        ember.jit.freeze(nn.Linear(2, 2))
