"""The graph runner: one Python function generated from the graph, calling each node's
kernel callable directly.

At batch 1 the cost of a traced model is the Python between kernels, so the graph
becomes straight-line code: every value a local variable, every node one call of a
callable bound once (no per-call lookup, dispatch or template walking), sizes as
``v.size(d)`` expressions.  The generated source holds only names this module makes
(``v3``, ``f0``, ``k2``): op callables, constants and literal arguments are bound in its
namespace, so a graph read from a file never contributes text to the code.
"""
import keyword

import ember
from ember._core._blas import PackedMatrix
from ember._core._conv import PreparedConvolution
from ember._core._tensor import _set_grad_enabled
from ember.jit._graph import SymSize, Value
from ember.jit._passes import _mutated
from ember.jit._trace import SCRATCH_TYPES, Scratch

__all__ = ["compile_graph"]


class _Emitter:
    def __init__(self, graph):
        self.graph = graph
        self.namespace = {}
        self.lines = []

    def bind(self, prefix, obj):
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = obj
        return name

    def value(self, value):
        if value.kind == "constant":
            return self.constant_names[value.index]
        return f"v{value.index}"

    def expr(self, template):
        if isinstance(template, Value):
            return self.value(template)
        if isinstance(template, SymSize):
            if template.op == "size":
                return f"{self.value(template.a)}.size({int(template.b)})"
            if template.op == "neg":
                return f"(-{self.expr(template.a)})"
            symbol = {"add": "+", "sub": "-", "mul": "*", "floordiv": "//",
                      "mod": "%"}[template.op]
            return f"({self.expr(template.a)} {symbol} {self.expr(template.b)})"
        if isinstance(template, tuple):
            if not any(_dynamic(x) for x in template):
                return self.bind("k", _plain(template))
            inner = "".join(self.expr(x) + ", " for x in template)
            return f"({inner})"
        if isinstance(template, list):
            if not any(_dynamic(x) for x in template):
                # a fresh list per call: the callee may keep or change it
                return f"list({self.bind('k', tuple(_plain(x) for x in template))})"
            return "[" + ", ".join(self.expr(x) for x in template) + "]"
        if isinstance(template, slice):
            if not _dynamic(template):
                return self.bind("k", template)
            return (f"slice({self.expr(template.start)}, {self.expr(template.stop)}, "
                    f"{self.expr(template.step)})")
        if isinstance(template, Scratch):
            # each call gets its own scratch object (the op writes statistics into it)
            return f"{self.bind('s', SCRATCH_TYPES[template.name])}()"
        if isinstance(template, dict):
            raise TypeError("ember.jit: dict arguments are not supported")
        if template is None or type(template) is bool or type(template) is int:
            return repr(template)
        return self.bind("k", template)


def _dynamic(template):
    if isinstance(template, (Value, SymSize, Scratch)):
        return True
    if isinstance(template, (tuple, list)):
        return any(_dynamic(x) for x in template)
    if isinstance(template, slice):
        return any(_dynamic(x) for x in (template.start, template.stop, template.step))
    return False


def _plain(template):
    if isinstance(template, (tuple, list)):
        return type(template)(_plain(x) for x in template)
    return template


def _paths(template, prefix, found):
    """``(value, access expression)`` of each value in a result template."""
    if isinstance(template, Value):
        found.append((template, prefix))
    elif isinstance(template, (tuple, list)):
        for k, x in enumerate(template):
            _paths(x, f"{prefix}[{k}]", found)


def compile_graph(graph):
    """A function ``run(*inputs)`` computing ``graph``'s outputs, with grad mode off."""
    em = _Emitter(graph)
    em.constant_names = {v.index: em.bind("c", t) for v, t in graph.constants.items()}
    params = ", ".join(f"v{v.index}" for v in graph.inputs)
    lines = [f"def run({params}):"]
    packed, written = {}, _mutated(graph)
    for node in graph.nodes:
        for key in node.kwargs:
            if not key.isidentifier() or keyword.iskeyword(key):
                raise ValueError(f"ember.jit: keyword {key!r} is not an identifier")
        fn = em.bind("f", _callable(node, graph, packed, written))
        args = [em.expr(a) for a in node.args]
        args += [f"{k}={em.expr(v)}" for k, v in node.kwargs.items()]
        call = f"{fn}({', '.join(args)})"
        if isinstance(node.result, Value):
            lines.append(f"    v{node.result.index} = {call}")
            continue
        lines.append(f"    r = {call}")
        found = []
        _paths(node.result, "r", found)
        lines += [f"    v{v.index} = {path}" for v, path in found]
    lines.append(f"    return {_output_expr(em, graph.output)}")
    source = "\n".join(lines) + "\n"
    code = compile(source, "<ember.jit graph>", "exec")
    exec(code, em.namespace)          # the source is built above from names only
    run = em.namespace["run"]
    n_inputs = len(graph.inputs)
    dtypes = [v.dtype for v in graph.inputs]
    ndims = [len(v.shape) for v in graph.inputs]
    tensor_type = ember.Tensor

    def traced(*inputs):
        if len(inputs) != n_inputs:
            raise TypeError(f"the traced graph takes {n_inputs} input tensors "
                            f"({len(inputs)} given)")
        for k, x in enumerate(inputs):
            if not isinstance(x, tensor_type) or x.dtype != dtypes[k] or x.dim() != ndims[k]:
                _bad_input(k, x, dtypes[k], ndims[k])
        previous = _set_grad_enabled(False)
        try:
            return run(*inputs)
        finally:
            _set_grad_enabled(previous)

    traced.source = source
    traced.packed_constants = sorted(packed)    # the constants packed (for tests)
    return traced


# products by a matrix: the position of the matrix among the arguments
_PACKABLE = {"addmm": 2, "mm": 1, "matmul": 1}


def _callable(node, graph, packed, written):
    """``node.fn``; for a product by a float32 matrix that is the graph's own constant
    (a folded ``weight.t()``), the same product with the matrix packed once for ember's
    GEMM (ember._core._blas.PackedMatrix: the same bits; the traced MLP at batch 64 spent
    about an eighth of its time packing its first layer's weight at every call)."""
    if node.kind == "op" and node.op == "convolution":
        return _convolution(node, graph, written)
    at = _PACKABLE.get(node.op)
    if node.kind != "op" or at is None or len(node.args) <= at:
        return node.fn
    matrix = node.args[at]
    if (not isinstance(matrix, Value) or matrix.index not in graph.owned
            or matrix.index in written):
        return node.fn
    tensor = graph.constants[matrix]
    if (tensor.dtype != ember.float32 or tensor.dim() != 2 or tensor.device.type != "cpu"
            or min(tensor.shape) < 16):
        return node.fn
    if matrix.index not in packed:
        packed[matrix.index] = PackedMatrix(tensor)
    return getattr(packed[matrix.index], node.op)


def _convolution(node, graph, written):
    """A convolution by a CPU weight that is a constant of the graph, which no node
    writes, keeps its checks and (float32) the weight's Winograd transform from call to
    call (ember._core._conv.PreparedConvolution: the same bits, the transform made again
    if the weight is changed outside the graph)."""
    weight = node.args[1] if len(node.args) > 1 else None
    if (not isinstance(weight, Value) or weight.kind != "constant"
            or weight.index in written):
        return node.fn
    tensor = graph.constants[weight]
    if tensor.device.type != "cpu":
        return node.fn
    return PreparedConvolution(tensor).convolution


def _output_expr(em, template):
    if isinstance(template, Value):
        return em.value(template)
    if isinstance(template, tuple):
        return "(" + "".join(_output_expr(em, x) + ", " for x in template) + ")"
    if isinstance(template, list):
        return "[" + ", ".join(_output_expr(em, x) for x in template) + "]"
    return em.expr(template)


def _bad_input(k, x, dtype, ndim):
    if not isinstance(x, ember.Tensor):
        raise TypeError(f"input {k} of the traced graph must be a Tensor, got "
                        f"{type(x).__name__}")
    raise RuntimeError(f"input {k} of the traced graph was traced as a {ndim}-d {dtype} "
                       f"tensor, got a {x.dim()}-d {x.dtype} tensor")
