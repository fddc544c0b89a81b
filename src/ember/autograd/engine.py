"""The Python face of the backward engine: ``backward`` and ``grad``.

The engine itself is compiled (``_graph.run_backward``); this module checks and
completes the arguments as PyTorch does.
"""
import contextlib
import threading

from ember._core._tensor import Tensor, ones_like
from ember.autograd._graph import run_backward

__all__ = ["backward", "grad"]

_local = threading.local()


def _is_checkpoint_valid():
    """Whether the backward pass running in this thread accumulates into the ``.grad``
    of every leaf (``Tensor.backward`` without ``inputs=``), which the reentrant
    activation checkpoint needs (``torch.autograd._is_checkpoint_valid``)."""
    return getattr(_local, "checkpoint_valid", True)


@contextlib.contextmanager
def _checkpoint_validity(valid):
    previous = _is_checkpoint_valid()
    _local.checkpoint_valid = valid
    try:
        yield
    finally:
        _local.checkpoint_valid = previous


def _as_tuple(x, what):
    if isinstance(x, Tensor):
        return (x,)
    if x is None:
        return ()
    x = tuple(x)
    for t in x:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be Tensors, got {type(t).__name__}")
    return x


def _make_grads(outputs, grad_outputs):
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs"
                           if not grad_outputs else
                           f"Mismatch in number of gradients: got {len(grad_outputs)} gradients "
                           f"for {len(outputs)} outputs")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out.requires_grad:
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not (out.is_floating_point() or out.is_complex()):
                    raise RuntimeError("grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
                if out.is_complex():
                    raise RuntimeError("grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
                g = ones_like(out)
        elif isinstance(g, Tensor):
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {out.shape}.")
            if out.is_complex() != g.is_complex():
                raise RuntimeError(f"For complex Tensors, both grad_output and output are "
                                   f"required to have the same dtype. Mismatch in dtype: "
                                   f"grad_output[{i}] has a dtype of {g.dtype} and output[{i}] "
                                   f"has a dtype of {out.dtype}.")
            if g.dtype != out.dtype:
                g = g.to(out.dtype)     # as in PyTorch: formulas see their output's dtype
        else:
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
        grads.append(g)
    return tuple(grads)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate into ``.grad`` of the graph's leaves the gradient of ``tensors``.

    Parameters
    ----------
    tensors : Tensor or sequence of Tensor
        The outputs to differentiate.
    grad_tensors : Tensor or sequence of (Tensor or None), optional
        The gradient of each output; may be omitted for outputs with one element.
    retain_graph : bool, optional
        Keep the graph's saved tensors for another backward (default: ``create_graph``).
    create_graph : bool, default False
        Record the backward pass, so that the gradients are themselves differentiable.
    inputs : Tensor or sequence of Tensor, optional
        Accumulate only into these tensors' ``.grad`` (leaves or not).
    """
    if grad_variables is not None:
        grad_tensors = grad_variables
    tensors = _as_tuple(tensors, "tensors")
    if inputs is not None:
        inputs = _as_tuple(inputs, "inputs")
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    else:
        inputs = ()
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    with _checkpoint_validity(not inputs):
        run_backward(tensors, grads, bool(retain_graph), bool(create_graph), inputs, True, True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
    inputs : Tensor or sequence of Tensor
    grad_outputs : Tensor or sequence of (Tensor or None), optional
    retain_graph : bool, optional
        Default: ``create_graph``.
    create_graph : bool, default False
        Record the computation, for higher-order derivatives.
    allow_unused : bool, optional
        Return None for inputs the outputs do not depend on instead of raising
        (default: ``materialize_grads``).
    is_grads_batched : bool, default False
        The first dim of every ``grad_outputs`` tensor is a batch: the result is the
        vector-Jacobian product of each, stacked along a new first dim (one backward
        pass per batch element).
    materialize_grads : bool, default False
        Return zeros instead of None for unused inputs.

    Returns
    -------
    tuple of Tensor

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> ember.autograd.grad((x * x).sum(), x)
    (tensor([2., 4.]),)
    >>> ember.autograd.grad(x * x, x, ember.eye(2), is_grads_batched=True)    # the Jacobian
    (tensor([[2., 0.],
            [0., 4.]]),)
    """
    if is_grads_batched:
        return _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs, "outputs")
    inputs_t = _as_tuple(inputs, "inputs")
    if not inputs_t:
        raise RuntimeError("grad requires non-empty inputs.")
    grads = _make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    with _checkpoint_validity(False):
        result = run_backward(outputs, grads, bool(retain_graph), bool(create_graph), inputs_t,
                              False, bool(allow_unused))
    if materialize_grads:
        from ember._core._tensor import zeros_like
        result = [zeros_like(x) if r is None else r for r, x in zip(result, inputs_t)]
    return tuple(result)


def _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``grad`` with ``is_grads_batched=True``: one backward pass per slice of the
    gradients' first dim, the results stacked."""
    from ember._core._index import stack
    outputs = _as_tuple(outputs, "outputs")
    batched = (grad_outputs,) if isinstance(grad_outputs, Tensor) else \
        tuple(grad_outputs or (None,) * len(outputs))
    if len(batched) != len(outputs):
        raise RuntimeError(f"Mismatch in number of gradients: got {len(batched)} gradients "
                           f"for {len(outputs)} outputs")
    for i, (out, g) in enumerate(zip(outputs, batched)):
        if not isinstance(g, Tensor):
            raise ValueError(f"is_grads_batched=True needs a batched Tensor for the gradient "
                             f"of every output, but grad_outputs[{i}] is {type(g).__name__}")
        if g.dim() == 0 or tuple(g.shape[1:]) != tuple(out.shape):
            raise RuntimeError(f"If `is_grads_batched=True`, we interpret the first dimension "
                               f"of each grad_output as the batch dimension. The sizes of the "
                               f"remaining dimensions are expected to match the shape of "
                               f"corresponding output, but a mismatch was detected: "
                               f"grad_output[{i}] has a shape of {g.shape} and output[{i}] has "
                               f"a shape of {out.shape}.")
    sizes = [g.shape[0] for g in batched]
    if len(set(sizes)) != 1 or sizes[0] == 0:
        raise ValueError(f"is_grads_batched=True: expected all gradients to have the same, "
                         f"non-zero batch size, got sizes {sizes}")
    if retain_graph is None:
        retain_graph = create_graph
    per_slice = [grad(outputs, inputs, [g[b] for g in batched],
                      retain_graph=retain_graph or b < sizes[0] - 1, create_graph=create_graph,
                      allow_unused=allow_unused, materialize_grads=materialize_grads)
                 for b in range(sizes[0])]
    return tuple(None if column[0] is None else stack(column) for column in zip(*per_slice))
