"""Derivatives of the in-place random fills (the ops are the core's ``ember._core._random``):
a tensor overwritten with samples no longer depends on its old value."""
from ember._core._tensor import zeros_like
from ember.ops.derivatives import derivative


def _overwritten(ctx, grad, self, *args, **kwargs):
    return zeros_like(grad)


for _name in ("uniform_", "normal_", "random_", "bernoulli_", "exponential_"):
    derivative(_name, save_inputs=False)(_overwritten)
for _name in ("cauchy_", "log_normal_", "geometric_"):
    derivative(_name, save_inputs=False)(_overwritten)


@derivative("_standard_gamma", save_result=True)
def _standard_gamma_backward(ctx, grad, input, *, generator=None):
    # implicit reparameterisation: d sample / d alpha at a fixed CDF (not itself differentiable)
    from ember._core._random import _standard_gamma_grad
    return grad * _standard_gamma_grad(input.detach(), ctx.result.detach())


@derivative("poisson", save_inputs=False)
def _poisson_backward(ctx, grad, input, *, generator=None):
    # integer-valued samples: PyTorch defines the gradient as zero
    return zeros_like(grad)


def _not_implemented(name):
    def formula(ctx, grad, *args, **kwargs):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    return formula


for _name in ("binomial", "_sample_dirichlet"):
    derivative(_name, save_inputs=False)(_not_implemented(_name))
