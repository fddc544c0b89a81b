"""ember.func: composable function transforms, as ``torch.func``.

:func:`grad`, :func:`vjp`, :func:`jvp`, :func:`jacrev`, :func:`jacfwd` and
:func:`hessian` differentiate Python functions of tensors (and pytrees of
tensors: tuples, lists, dicts); :func:`vmap` maps a function over a dimension of
its inputs; :func:`functional_call` runs a module with given parameters, making
it a function the other transforms apply to.  They compose: ``vmap(grad(f))``
gives per-sample gradients, ``jacrev(jacrev(f))`` a Hessian.  :func:`rearrange` is
functorch's einops-style reshaping.

They are built on ember's reverse-mode engine: forward mode uses the
double-backward trick, and :func:`vmap` runs the function once per slice (there
are no per-op batching rules), so its speed is that of a Python loop.
"""
from ember.func._functional_call import (functional_call, stack_module_state,
                                        replace_all_batch_norm_modules_)
from ember.func._autodiff import (grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd,
                                  hessian)
from ember.func._vmap import vmap
from ember.func._rearrange import rearrange

__all__ = ["functional_call", "stack_module_state", "replace_all_batch_norm_modules_",
           "grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian",
           "vmap", "rearrange"]
