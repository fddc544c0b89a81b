"""The derivative table: every differentiable op's backward formula, registered
beside the op's definition and read by ``ember.autograd`` when the op is recorded.

Elementwise ops carry their formulas in ``elementwise.toml`` (the ``grad`` field);
every other op registers a function with :func:`derivative`::

    @derivative("sum", save_inputs=False)
    def _sum_backward(ctx, grad, input, dim=None, keepdim=False, *, dtype=None):
        return expand_reduced(grad, input.shape, dim, keepdim)

The formula takes a context, the gradient of the op's output (a tuple for ops
with several outputs) and the op's own arguments, and returns the gradient of
each tensor argument in order (one tensor when there is one).  It is written with
ember ops, so that it is itself recorded when a graph of the gradient is built
(``create_graph=True``) and higher derivatives come for free.  ``ctx.result`` is
the op's output (when ``save_result=True``) and ``ctx.needs_input_grad`` tells
which tensor arguments need a gradient.
"""

# op number -> (node name, formula per input, per formula: which inputs it reads,
#              per formula: whether it reads the result, None or a function of which
#              inputs are tensors giving the node name)
ELEMENTWISE = {}
OPS = {}           # op name -> dict(formula, node_name, save_inputs, save_result, view, inplace)


def node_name(name):
    """PyTorch's node name for an op: ``'log_softmax'`` -> ``'LogSoftmaxBackward0'``."""
    return "".join(part.capitalize() for part in name.strip("_").split("_")) + "Backward0"


def derivative(name, *, node=None, save_inputs=True, save_result=False, view=False,
               inplace=None):
    """Register ``formula(ctx, grad, *args, **kwargs)`` as the backward of op ``name``.

    Parameters
    ----------
    name : str
        The name the op's entry point records under.
    node : str or callable, optional
        The graph node's name (default: PyTorch's, derived from ``name``); a callable
        receives the op's arguments and returns the name, for ops whose PyTorch node
        name depends on the call (``SumBackward0`` / ``SumBackward1``).
    save_inputs : bool or callable
        Keep the tensor arguments for backward; when False the formula sees only
        their shape, dtype and device (and they may change in place afterwards).  A
        callable receives the op's arguments and decides per call.
    save_result : bool or tuple of int
        Keep the output for backward, as ``ctx.result``.  For an op with several
        outputs, a tuple names the positions of those to keep (the others are ``None``
        in ``ctx.result``), so that an in-place op on an output the formula does not
        read stays allowed, as in PyTorch.
    view : bool
        The op returns a view of its first argument (in-place ops on the view then
        update the base's gradient).
    inplace : bool, optional
        The op writes into its first argument (default: the name ends in ``_``).
    """
    def register(formula):
        OPS[name] = dict(formula=formula, node_name=node or node_name(name),
                         save_inputs=save_inputs, save_result=save_result, view=view,
                         inplace=name.endswith("_") if inplace is None else inplace)
        return formula
    return register
