"""Traced graphs (the role of TorchScript): :func:`trace` records the ember ops of one run
of a function or module into a graph that runs without the Python model code, prints
(``.graph``, ``.code``), is optimised (dead code, constants, common subexpressions,
fused elementwise chains) and saves to one file (:meth:`TracedModule.save`, :func:`load`).

Tracing is how ember makes graphs.  TorchScript's names (``script``, ``ignore``,
``is_scripting``, ...) exist so that code written for ``torch.jit.script`` runs, eagerly,
as PyTorch runs it with its JIT disabled.
"""
import inspect
import warnings

import numpy as np

import ember
from ember.jit._graph import Graph
from ember.jit._ops import bind
from ember.jit._passes import (contiguous_product_constants, eliminate_common_subexpressions,
                               eliminate_dead_code, fold_constants, fuse_convolution_pool,
                               fuse_convolution_relu, skip_unread_pool_indices)
from ember.jit._fusion import fuse_elementwise
from ember.jit._runner import compile_graph
from ember.jit._serialize import load_graph, save_graph
from ember.jit._trace import Tracer, TracerWarning, check_constants
from ember.jit._script import (script, ignore, unused, export, interface, is_scripting,
                               is_tracing, annotate, Final, save, freeze,
                               optimize_for_inference)

__all__ = ["trace", "load", "TracedModule", "TracerWarning", "Graph", "script", "ignore",
           "unused", "export", "interface", "is_scripting", "is_tracing", "annotate",
           "Final", "save", "freeze", "optimize_for_inference"]


class TracedModule:
    """A traced function or module: call it like the original (inference only: it runs
    with grad mode off and its outputs do not require grad).

    Attributes
    ----------
    graph : Graph
        The optimised graph; ``print(traced.graph)`` shows one op per line with its
        output types, e.g. ``%5 : Float(64, 10) = addmm(%fc.bias, %x, %c4)``.
    code : str
        The graph as Python-like source.
    passes : dict
        What each graph pass did (nodes removed, folded, merged, fused).
    captured : tuple of Tensor
        The tensors the trace took from outside the inputs (parameters, buffers,
        closed-over tensors) as they were before constant folding; empty for a loaded
        graph.
    """

    def __init__(self, graph, passes=None):
        self.graph = graph
        self.passes = passes or {}
        self.captured = ()
        self._run = compile_graph(graph)

    def __call__(self, *inputs):
        return self._run(*inputs)

    def forward(self, *inputs):
        """Run the graph (same as calling the traced module)."""
        return self._run(*inputs)

    @property
    def code(self):
        return self.graph.code()

    def save(self, f):
        """Save the graph and its constants to one safetensors file (see :func:`load`).

        Parameters
        ----------
        f : str, os.PathLike or binary file object
            Written atomically when a path (as :func:`ember.save`).

        Raises
        ------
        RuntimeError
            When the graph uses an op that a saved graph cannot name.

        Examples
        --------
        >>> import io, ember
        >>> traced = ember.jit.trace(lambda x: (x * 2).relu(), ember.ones(3))
        >>> buffer = io.BytesIO()
        >>> traced.save(buffer)
        >>> _ = buffer.seek(0)
        >>> ember.jit.load(buffer)(ember.tensor([-1.0, 2.0]))
        tensor([0., 4.])
        """
        save_graph(self.graph, f)

    def __repr__(self):
        return f"TracedModule(inputs={len(self.graph.inputs)}, nodes={len(self.graph.nodes)})"


def _as_inputs(example_inputs):
    if isinstance(example_inputs, ember.Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)) and all(
            isinstance(x, ember.Tensor) for x in example_inputs):
        return tuple(example_inputs)
    raise TypeError("ember.jit.trace: example_inputs must be a Tensor or a tuple of Tensors, "
                    f"got {type(example_inputs).__name__}")


def _input_names(fn, n):
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:n]]
    if len(names) < n or len(set(names)) < n:
        return [f"input{k}" for k in range(n)]
    return names


def _record(fn, inputs, names, constant_names):
    with Tracer(constant_names) as tracer:
        traced_inputs = [tracer.add_input(x, name) for x, name in zip(inputs, names)]
        result = fn(*traced_inputs)
    tracer.check_created()
    tracer.graph.output = _output_template(tracer, result)
    return tracer.graph, result


def _output_template(tracer, result):
    if isinstance(result, ember.Tensor):
        return tracer.lookup(result)
    if isinstance(result, (tuple, list)):
        items = [_output_template(tracer, x) for x in result]
        return items if isinstance(result, list) else tuple(items)
    raise TypeError("ember.jit.trace: the traced function must return a Tensor or a "
                    f"(nested) tuple or list of Tensors, got {type(result).__name__}")


def _permuted(x):
    """``x`` with its elements shuffled (the values stay in the input's domain)."""
    flat = x.detach().reshape(-1)
    order = np.random.default_rng(0).permutation(flat.numel())
    shuffled = flat[ember.from_numpy(order)].reshape(tuple(x.shape))
    if x.is_floating_point() and ember.equal(shuffled, x.detach()):
        shuffled = shuffled * 0.5 + 0.25
    return shuffled


def _compare_outputs(expected, actual, where):
    if isinstance(expected, ember.Tensor):
        e, a = expected.detach(), actual
        if tuple(e.shape) != tuple(a.shape) or e.dtype != a.dtype or not (
                ember.allclose(e, a, rtol=1e-5, atol=1e-5, equal_nan=True)
                if e.is_floating_point() or e.is_complex() else ember.equal(e, a)):
            warnings.warn(f"ember.jit.trace: output {where} of the traced function does not "
                          "match the Python function's on the check inputs: the trace might "
                          "not generalize", TracerWarning, stacklevel=3)
    else:
        for k, (e, a) in enumerate(zip(expected, actual)):
            _compare_outputs(e, a, f"{where}.{k}" if where else str(k))


def trace(fn_or_module, example_inputs, check_trace=True, strict=True, check_inputs=None,
          optimize=True):
    """Trace a function or module into a graph that runs without its Python code.

    The function runs once on ``example_inputs``; every ember op it runs is recorded
    (one graph node per op, with its arguments and output shapes and dtypes).  Tensors
    not computed from the inputs (parameters, buffers, tensors made inside) become
    constants of the graph.  Python control flow is fixed to the path the example took:
    converting a traced tensor to a Python value (``if x.sum() > 0``, ``.item()``,
    ``bool()``, ``int()``, ``.tolist()``) warns with a :class:`TracerWarning`.  Sizes read
    from inputs (``x.shape[0]``, ``x.size(1)``), ``flatten``/``view(-1, n)`` and the
    ``zeros``/``ones``/``full``/``arange`` made from such sizes stay symbolic, so the graph
    runs at other batch sizes.

    To catch an op that ran outside the tracer (its result would be frozen into the
    graph), the function runs a second time on inputs with shuffled elements, and a
    constant that changed raises RuntimeError.

    Parameters
    ----------
    fn_or_module : callable or ember.nn.Module
        What to trace (a module is called, so its hooks run during the trace).
    example_inputs : Tensor or tuple of Tensor
        Positional arguments of the run.
    check_trace : bool, optional
        Run the traced graph on the example (and ``check_inputs``) and warn when its
        outputs differ from the function's (as PyTorch's tracer does).
    strict : bool, optional
        Refuse list outputs (mutable containers), as PyTorch's ``strict``.
    check_inputs : list of tuple of Tensor, optional
        More inputs for ``check_trace``.
    optimize : bool, optional
        Run the graph passes (dead code, constant folding, common subexpressions,
        elementwise fusion).

    Returns
    -------
    TracedModule

    Raises
    ------
    RuntimeError
        When an op computed from the inputs was not seen by the tracer.
    TypeError
        For inputs or outputs other than tensors (and, with ``strict``, list outputs).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).eval()
    >>> traced = ember.jit.trace(model, ember.randn(2, 4))
    >>> x = ember.randn(5, 4)
    >>> ember.allclose(traced(x), model(x))
    True
    >>> print(traced.graph)  # doctest: +ELLIPSIS
    graph(%input : Float(2, 4)):
      %... : Float(2, 3) = addmm(...)
      %... : Float(2, 3) = relu(...) (in place)
      return %...
    """
    inputs = _as_inputs(example_inputs)
    is_module = isinstance(fn_or_module, ember.nn.Module)
    forward = fn_or_module.forward if is_module else fn_or_module
    graph = _trace_graph(fn_or_module, inputs, _input_names(forward, len(inputs)),
                         fn_or_module if is_module else None, strict)
    # the tensors the graph took from outside (weights, closed-over tensors), before the
    # passes fold them: what ember.compile's guards watch for in-place updates
    captured = tuple(graph.constants.values())
    for node in graph.nodes:
        bind(node)
    passes = {}
    if optimize:
        passes["dead_code"] = eliminate_dead_code(graph)
        passes["folded"] = fold_constants(graph)
        passes["merged"] = eliminate_common_subexpressions(graph)
        passes["dead_code"] += eliminate_dead_code(graph)
        passes["conv_relu"] = fuse_convolution_relu(graph)
        passes["fused"] = fuse_elementwise(graph)
        passes["contiguous"] = contiguous_product_constants(graph)
        passes["values_only"] = skip_unread_pool_indices(graph)
        passes["conv_pool"] = fuse_convolution_pool(graph)
    traced = TracedModule(graph, passes)
    traced.captured = captured
    if check_trace:
        with ember.no_grad():
            for check in [inputs] + [_as_inputs(c) for c in (check_inputs or [])]:
                _compare_outputs(fn_or_module(*check), traced(*check), "")
    return traced


def _trace_graph(fn, inputs, names, module=None, strict=False):
    """Record ``fn(*inputs)`` into a graph (unoptimised, nodes not yet bound): the trace,
    then a second trace on inputs with shuffled elements to check the constants.
    ``module``'s parameters and buffers become constants named by their paths."""
    constant_names, unfrozen = {}, []
    if module is not None:
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            constant_names.setdefault(id(t), name)
        for p in module.parameters():
            # ops on a frozen weight are recorded too (the tracer sees ops whose inputs
            # require grad): unfrozen for the run
            if not p.requires_grad and (p.is_floating_point() or p.is_complex()):
                p.requires_grad_(True)
                unfrozen.append(p)
    try:
        graph, _ = _record(fn, inputs, names, constant_names)
        if strict and _has_list(graph.output):
            raise TypeError("ember.jit.trace: the traced function returns a list (a mutable "
                            "container); pass strict=False to trace it anyway")
        try:
            second, _ = _record(fn, tuple(_permuted(x) for x in inputs), names,
                                constant_names)
        except Exception as error:      # noqa: BLE001 -- the shuffled inputs may be invalid
            warnings.warn(f"ember.jit.trace: the function failed on inputs with shuffled "
                          f"elements ({type(error).__name__}: {error}); constants were not "
                          "checked for a dependence on the inputs", TracerWarning,
                          stacklevel=3)
        else:
            check_constants(graph, second)
    finally:
        for p in unfrozen:
            p.requires_grad_(False)
    return graph


def _has_list(template):
    if isinstance(template, list):
        return True
    return isinstance(template, tuple) and any(_has_list(x) for x in template)


def load(f):
    """Load a graph saved by :meth:`TracedModule.save`; no code from the file runs.

    Parameters
    ----------
    f : str, os.PathLike or binary file object

    Returns
    -------
    TracedModule

    Raises
    ------
    ValueError
        For a file that is not a saved graph, or a malformed or unknown op, value or
        program in it.

    Examples
    --------
    >>> import io, ember
    >>> traced = ember.jit.trace(lambda x, y: x @ y, (ember.ones(2, 3), ember.ones(3, 4)))
    >>> buffer = io.BytesIO()
    >>> traced.save(buffer)
    >>> _ = buffer.seek(0)
    >>> ember.jit.load(buffer)(ember.ones(2, 3), ember.ones(3, 4)).shape
    ember.Size([2, 4])
    """
    return TracedModule(load_graph(f))
