"""``ember.onnx.export``: an ember.jit trace written as an ONNX model."""
import os
import re
import tempfile

import onnx
from onnx import helper

import ember
from ember.jit._graph import Value
from ember.jit._passes import (eliminate_common_subexpressions, eliminate_dead_code,
                               fold_constants)
from ember.onnx import _symbolic_nn  # noqa: F401 -- registers the nn emitters
from ember.onnx._builder import Builder, UnsupportedOperatorError, onnx_type
from ember.onnx._symbolic import emit_node

__all__ = ["export", "DEFAULT_OPSET", "MAX_OPSET"]

DEFAULT_OPSET = 17
# the newest opset whose operators the exporter's output is checked against
MAX_OPSET = 21


# the tracer's refusal of an argument (``ember.jit._trace``): an op that the export cannot
# record, reported as the other ops without a mapping are
_UNTRACEABLE = re.compile(r"ember\.jit\.trace: op '(?P<op>\w+)' got an argument of type "
                          r"(?P<type>\w+)")
_UNTRACEABLE_WHY = {
    "ctc_loss": " (ctc_loss reads its targets and lengths on the host, and ONNX has no CTC "
                "operator)",
}


def _traced_graph(model, traced_fn, args, do_constant_folding):
    """The jit graph of ``traced_fn`` (``model`` or a wrapper calling it) run in eval mode,
    simplified (no elementwise fusion: ONNX runtimes have their own)."""
    modules = list(model.modules()) if isinstance(model, ember.nn.Module) else []
    modes = [m.training for m in modules]
    for m in modules:
        m.training = False
    try:
        traced = ember.jit.trace(traced_fn, args, check_trace=False, optimize=False)
    except TypeError as error:
        untraceable = _UNTRACEABLE.match(str(error))
        if untraceable is None:
            raise
        raise UnsupportedOperatorError(
            f"ONNX export: ember op '{untraceable['op']}' has no ONNX mapping: it is called "
            f"with an argument of type {untraceable['type']}, which the trace cannot hold"
            f"{_UNTRACEABLE_WHY.get(untraceable['op'], '')}") from error
    finally:
        for m, mode in zip(modules, modes):     # each module's own mode back
            m.training = mode
    graph = traced.graph
    eliminate_dead_code(graph)
    if do_constant_folding:
        fold_constants(graph)
    eliminate_common_subexpressions(graph)
    eliminate_dead_code(graph)
    return graph


def _flatten_args(args):
    """Nested tuples/lists of tensors (``lstm(x, (h0, c0))``) as a flat tuple of inputs
    and the structure to rebuild them (a tensor's place holds its position)."""
    flat = []

    def walk(x):
        if isinstance(x, ember.Tensor):
            flat.append(x)
            return len(flat) - 1
        if isinstance(x, (tuple, list)):
            return type(x)(walk(y) for y in x)
        raise TypeError("ember.onnx.export: args must be tensors or (nested) tuples of "
                        f"tensors, got {type(x).__name__}")
    structure = walk(args)
    return tuple(flat), structure


class _FlatCall(ember.nn.Module):
    """Calls ``inner`` with the nested arguments rebuilt from flat inputs (what the
    tracer records); a module, so the tracer names the weights (``inner.``...)."""

    def __init__(self, inner, structure):
        super().__init__()
        self.inner = inner
        self.structure = structure

    def forward(self, *flat):
        def build(s):
            return flat[s] if isinstance(s, int) else type(s)(build(x) for x in s)
        return self.inner(*build(self.structure))


def _flatten_outputs(template, found):
    if isinstance(template, Value):
        found.append(template)
    elif isinstance(template, (tuple, list)):
        for x in template:
            _flatten_outputs(x, found)
    else:
        raise TypeError("ember.onnx.export: the model's outputs must be tensors")
    return found


def _value_info(name, value, axes):
    """A graph input/output declaration: ``axes`` maps dims to symbolic names; with
    ``axes is None`` only the rank is declared (sizes left to shape inference)."""
    if axes is None:
        shape = [None] * len(value.shape)
    else:
        shape = [axes.get(d, size) for d, size in enumerate(value.shape)]
    return helper.make_tensor_value_info(name, onnx_type(value.dtype), shape)


def _dynamic_axes_of(name, dynamic_axes):
    spec = dynamic_axes.get(name)
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {int(d): str(label) for d, label in spec.items()}
    return {int(d): f"{name}_dynamic_axes_{k + 1}" for k, d in enumerate(spec)}


def _read_values(graph):
    read = {v.index for v in graph.outputs()}
    for node in graph.nodes:
        read.update(v.index for v in node.inputs())
    return read


def build_model(model, args, input_names=None, output_names=None, dynamic_axes=None,
                opset_version=None, do_constant_folding=True, keep_initializers_as_inputs=False,
                producer_version=""):
    """The ONNX ModelProto of ``model`` run on ``args`` (see :func:`export`)."""
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not 17 <= opset <= MAX_OPSET:
        raise ValueError(f"ember.onnx.export: opset_version must be in 17..{MAX_OPSET}, "
                         f"got {opset_version}")
    args = (args,) if isinstance(args, ember.Tensor) else tuple(args)
    flat, structure = _flatten_args(args)
    nested = structure != tuple(range(len(flat)))
    graph = _traced_graph(model, _FlatCall(model, structure) if nested else model, flat,
                          do_constant_folding)
    if nested:
        for value in graph.constants:
            value.name = value.name.removeprefix("inner.")
    dynamic_axes = dict(dynamic_axes or {})
    b = Builder(opset)
    b.read_values = _read_values(graph)
    b.constant_tensors = {v.index: t for v, t in graph.constants.items()}
    b.producers = {v.index: node for node in graph.nodes for v in node.outputs}

    names = list(input_names or [])
    if len(names) > len(graph.inputs):
        raise ValueError(f"ember.onnx.export: {len(names)} input_names for "
                         f"{len(graph.inputs)} inputs")
    inputs = []
    for k, value in enumerate(graph.inputs):
        name = b.fresh(names[k] if k < len(names) else value.name)
        b.bind(value, name)
        inputs.append(_value_info(name, value, _dynamic_axes_of(name, dynamic_axes)))
    for node in graph.nodes:
        emit_node(b, node)

    outputs = _flatten_outputs(graph.output, [])
    names = list(output_names or [])
    if len(names) > len(outputs):
        raise ValueError(f"ember.onnx.export: {len(names)} output_names for "
                         f"{len(outputs)} outputs")
    declared = []
    for k, value in enumerate(outputs):
        default = "output" if len(outputs) == 1 else f"output_{k}"
        name = b.fresh(names[k] if k < len(names) else default)
        b.nodes.append(helper.make_node("Identity", [b.value(value)], [name],
                                        name=f"Identity_{name}"))
        axes = _dynamic_axes_of(name, dynamic_axes)
        declared.append(_value_info(name, value, None if dynamic_axes and not axes else axes))
    unknown = set(dynamic_axes) - {i.name for i in inputs} - {o.name for o in declared}
    if unknown:
        raise ValueError(f"ember.onnx.export: dynamic_axes names {sorted(unknown)} are not "
                         "input or output names")
    if keep_initializers_as_inputs:
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                   for t in b.initializers]
    onnx_graph = helper.make_graph(b.nodes, "ember_graph", inputs, declared, b.initializers)
    model_proto = helper.make_model(
        onnx_graph, producer_name="ember", producer_version=producer_version,
        opset_imports=[helper.make_opsetid("", opset)],
        ir_version=helper.find_min_ir_version_for([helper.make_opsetid("", opset)]))
    return model_proto


def write_model(model_proto, f):
    """Serialize ``model_proto`` to a path (atomically) or a binary file object."""
    data = model_proto.SerializeToString()
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ember-onnx-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def export(model, args, f, *, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=None, do_constant_folding=True, keep_initializers_as_inputs=False,
           verbose=False):
    """Export ``model`` as an ONNX model (``torch.onnx.export``'s TorchScript-based
    signature).

    The model runs once on ``args`` under :func:`ember.jit.trace` (in eval mode, restored
    afterwards); each op of the trace becomes ONNX operators, parameters and buffers become
    initializers, and sizes the model read from its inputs (``x.shape[0]``, ``flatten``,
    ``view(-1, n)``) become ``Shape``/``Gather`` arithmetic, so the axes named in
    ``dynamic_axes`` can change size.  The model is checked with ``onnx.checker`` before
    it is written.

    Parameters
    ----------
    model : ember.nn.Module or callable
        What to export; its ``forward`` takes tensors and returns a tensor or a (nested)
        tuple of tensors.
    args : Tensor or tuple
        The example inputs: a tensor, or a tuple of tensors and (nested) tuples of tensors
        (as ``lstm(x, (h0, c0))`` takes).  Each tensor becomes one graph input, in order.
    f : str, os.PathLike or binary file object
        Where to write; a path is replaced atomically.
    input_names, output_names : list of str, optional
        Names of the graph's inputs and outputs (by default the parameter names of
        ``forward`` and ``output`` / ``output_0``, ``output_1``, ...).
    dynamic_axes : dict, optional
        ``{name: {axis: symbolic name}}`` or ``{name: [axis, ...]}`` for inputs and
        outputs whose sizes vary, e.g. ``{"x": {0: "batch"}}``.
    opset_version : int, optional
        The ``ai.onnx`` opset, 17 (default) to 21.
    do_constant_folding : bool, default True
        Precompute the ops that read only weights (a linear layer's ``weight.t()``).
    keep_initializers_as_inputs : bool, default False
        Also list the initializers as graph inputs (for runtimes of IR version < 4).
    verbose : bool, default False
        Print the exported graph.

    Raises
    ------
    UnsupportedOperatorError
        For an ember op (or a form of one) without an ONNX mapping; the message names it.
    ValueError
        For an opset out of range, more names than inputs or outputs, or ``dynamic_axes``
        naming no input or output.
    TypeError
        For arguments other than tensors.

    See Also
    --------
    load : read an ONNX file back as an ember module.

    Notes
    -----
    Recurrent layers become ONNX ``LSTM``/``GRU``/``RNN`` nodes (one per layer and
    direction; zero initial states are left out; an LSTM with ``proj_size`` a ``Scan``
    over time), attention is ``MatMul``/``Softmax``,
    and normalisation layers ``BatchNormalization``/``LayerNormalization``/
    ``InstanceNormalization``.  Python control flow is fixed to the path ``args`` took.

    Examples
    --------
    >>> import io, ember, ember.onnx
    >>> from ember import nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    >>> f = io.BytesIO()
    >>> ember.onnx.export(model, ember.randn(2, 4), f, input_names=["x"],
    ...                   dynamic_axes={"x": {0: "batch"}, "output": {0: "batch"}})
    >>> import onnx
    >>> [node.op_type for node in onnx.load_model_from_string(f.getvalue()).graph.node]
    ['Gemm', 'Relu', 'Identity']
    """
    model_proto = build_model(model, args, input_names, output_names, dynamic_axes,
                              opset_version, do_constant_folding, keep_initializers_as_inputs,
                              producer_version=getattr(ember, "__version__", ""))
    onnx.checker.check_model(model_proto)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    write_model(model_proto, f)
