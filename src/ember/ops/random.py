"""Derivatives of the in-place random fills (the ops are the core's ``ember._core._random``):
a tensor overwritten with samples no longer depends on its old value."""
from ember._core._tensor import zeros_like
from ember.ops.derivatives import derivative


def _overwritten(ctx, grad, self, *args, **kwargs):
    return zeros_like(grad)


for _name in ("uniform_", "normal_", "random_", "bernoulli_", "exponential_"):
    derivative(_name, save_inputs=False)(_overwritten)
