"""ember.autograd: the dynamic computation graph, reverse-mode and forward-mode
differentiation.

Ops record a graph as they run whenever an input requires grad and grad mode is
on; ``Tensor.backward()`` and :func:`grad` walk it backward.  Dual tensors
(:mod:`ember.autograd.forward_ad`) carry tangents forward through the same ops.  The graph and its
engine are compiled (``_graph``); each op's backward formula is written with ember
ops beside the op (``ember.ops``), so gradients of gradients come for free.
"""
from ember._core import _tensor as _core
from ember.autograd import _graph
from ember.autograd.grad_mode import (
    no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
    is_inference_mode_enabled,
)
from ember.autograd.engine import backward, grad
from ember.autograd.function import Function, FunctionCtx, once_differentiable
from ember.autograd.anomaly_mode import (detect_anomaly, set_detect_anomaly, is_anomaly_enabled,
                                         is_anomaly_check_nan_enabled)
from ember.autograd import graph
from ember.autograd.gradcheck import gradcheck, gradgradcheck, GradcheckError
from ember.autograd import functional
from ember.autograd import forward_ad
from ember.autograd.variable import Variable

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
    "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "graph", "gradcheck", "gradgradcheck", "GradcheckError", "functional", "forward_ad",
    "Variable",
]


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradient of this tensor into the ``.grad`` of the graph's leaves.

    Parameters
    ----------
    gradient : Tensor, optional
        The gradient of this tensor (needed unless it has one element).
    retain_graph : bool, optional
        Keep the graph for another backward (default: ``create_graph``).
    create_graph : bool, default False
        Record the backward pass, for higher-order derivatives.
    inputs : sequence of Tensor, optional
        Accumulate only into these tensors.
    """
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _register_hook(self, hook):
    """Call ``hook(grad)`` whenever the gradient of this tensor is computed; a returned
    tensor replaces the gradient.  Returns a handle whose ``remove()`` unregisters it."""
    return _graph.tensor_register_hook(self, hook)


def _register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(tensor)`` after a backward pass has accumulated this leaf's gradient
    into ``.grad`` (to step an optimizer per parameter during backward, for instance).
    Returns a handle whose ``remove()`` unregisters it."""
    return _graph.tensor_register_post_accumulate_grad_hook(self, hook)


def _retain_grad(self):
    """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
    _graph.tensor_retain_grad(self)


_core._add_method("backward", _tensor_backward)
_core._add_method("register_hook", _register_hook)
_core._add_method("retain_grad", _retain_grad)
_core._add_method("register_post_accumulate_grad_hook", _register_post_accumulate_grad_hook)
_core._add_method("retains_grad", property(_graph.tensor_retains_grad,
                                           doc="Whether this non-leaf keeps its ``.grad``."))
_core._add_method("output_nr", property(_graph.tensor_output_nr,
                                        doc="Which output of its ``grad_fn`` this tensor is."))

