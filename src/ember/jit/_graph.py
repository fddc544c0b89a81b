"""The traced graph: values, nodes, symbolic sizes, and the printed forms.

A graph is a list of nodes in the order they ran.  Each node is one ember op: its
registry name (see ``_ops``), its arguments and keyword arguments as *templates* (the
call's own structure, with a :class:`Value` where a tensor was and a :class:`SymSize`
where a size read from a traced tensor was), and its output values.  Everything else
in a template is a plain Python value: numbers, strings, None, slices, dtypes, devices.
"""
import ember

__all__ = ["Value", "SymSize", "Node", "Graph", "type_name"]

# PyTorch's names of the scalar types, as its graphs print them
_TYPE_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def type_name(dtype, shape):
    """``Float(64, 10)``: a value's type as a graph line prints it."""
    name = _TYPE_NAMES.get(str(dtype).replace("ember.", ""), str(dtype))
    return f"{name}({', '.join(str(s) for s in shape)})"


class Value:
    """One tensor of the graph: an input, a constant (weights, buffers, tensors made
    without the inputs) or an output of a node.  ``shape``/``dtype`` are those of the
    traced run."""
    __slots__ = ("index", "name", "kind", "shape", "dtype")

    def __init__(self, index, name, kind, shape, dtype):
        self.index = index
        self.name = name
        self.kind = kind            # "input", "constant" or "node"
        self.shape = tuple(shape)
        self.dtype = dtype

    def __repr__(self):
        return f"%{self.name}"


class SymSize:
    """A size computed from a traced tensor's shape: ``("size", value, dim)`` or
    ``(op, a, b)`` with ``op`` one of ``add sub mul floordiv mod neg`` and ``a``/``b``
    SymSizes or ints.  Kept in node arguments so a graph runs at other sizes."""
    __slots__ = ("op", "a", "b")
    OPS = ("size", "add", "sub", "mul", "floordiv", "mod", "neg")

    def __init__(self, op, a, b):
        self.op = op
        self.a = a
        self.b = b

    def evaluate(self, value_of):
        """The size for the tensors ``value_of(Value)`` gives."""
        if self.op == "size":
            return value_of(self.a).shape[self.b]
        a = self.a.evaluate(value_of) if isinstance(self.a, SymSize) else self.a
        if self.op == "neg":
            return -a
        b = self.b.evaluate(value_of) if isinstance(self.b, SymSize) else self.b
        if self.op == "add":
            return a + b
        if self.op == "sub":
            return a - b
        if self.op == "mul":
            return a * b
        return a // b if self.op == "floordiv" else a % b

    def values(self):
        """The graph values this size reads."""
        if self.op == "size":
            return [self.a]
        return [v for x in (self.a, self.b) if isinstance(x, SymSize) for v in x.values()]

    def __repr__(self):
        if self.op == "size":
            return f"{self.a!r}.size({self.b})"
        if self.op == "neg":
            return f"(-{self.a!r})"
        symbol = {"add": "+", "sub": "-", "mul": "*", "floordiv": "//", "mod": "%"}[self.op]
        return f"({self.a!r} {symbol} {self.b!r})"


class Node:
    """One op of the graph.

    ``kind`` says how the op was recorded: ``"ew"`` (an elementwise op of the op table),
    ``"view"`` (a view-like op), ``"op"`` (any other op) or ``"fused"`` (a chain of
    elementwise ops made one kernel by the fusion pass).  ``inplace``: the op writes its
    first argument (such nodes are kept in order and never merged or folded).
    ``result`` is the call's result as a template of the node's output values; ``spec``
    a fused node's program (its ops by name, registers and numbers).
    """
    __slots__ = ("kind", "op", "args", "kwargs", "outputs", "result", "inplace", "fn", "spec")

    def __init__(self, kind, op, args, kwargs, outputs, result, inplace=False, fn=None):
        self.kind = kind
        self.op = op
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.result = result
        self.inplace = inplace
        self.fn = fn                # the callable that runs it (set by ``_ops.bind``)
        self.spec = None            # a fused node's program (see ``_fusion``)

    def inputs(self):
        """The values the node reads (arguments, keyword arguments and sizes), in order."""
        found = []
        _collect(self.args, found)
        _collect(self.kwargs, found)
        return found

    def signature(self):
        """What makes two nodes compute the same thing (for common-subexpression
        elimination): kind, op and the arguments with values by identity."""
        return (self.kind, self.op, _key(self.args), _key(self.kwargs))


def _collect(template, found):
    if isinstance(template, Value):
        found.append(template)
    elif isinstance(template, SymSize):
        found.extend(template.values())
    elif isinstance(template, (tuple, list)):
        for x in template:
            _collect(x, found)
    elif isinstance(template, dict):
        for x in template.values():
            _collect(x, found)


def _key(template):
    if isinstance(template, Value):
        return ("%", template.index)
    if isinstance(template, SymSize):
        return ("sym", template.op, _key(template.a), _key(template.b))
    if isinstance(template, (tuple, list)):
        return (type(template).__name__,) + tuple(_key(x) for x in template)
    if isinstance(template, dict):
        return ("dict",) + tuple((k, _key(v)) for k, v in template.items())
    if isinstance(template, slice):
        return ("slice", _key(template.start), _key(template.stop), _key(template.step))
    if isinstance(template, float):
        return ("float", repr(template))     # 0.0 and -0.0, nan: by spelling
    return (type(template).__name__, repr(template))


def map_template(template, fn):
    """``template`` with each Value and SymSize ``x`` replaced by ``fn(x)``."""
    if isinstance(template, (Value, SymSize)):
        return fn(template)
    if isinstance(template, tuple):
        return tuple(map_template(x, fn) for x in template)
    if isinstance(template, list):
        return [map_template(x, fn) for x in template]
    if isinstance(template, dict):
        return {k: map_template(v, fn) for k, v in template.items()}
    return template


def format_template(template):
    """A template as the graph prints it."""
    if isinstance(template, (Value, SymSize)):
        return repr(template)
    if isinstance(template, tuple):
        inner = ", ".join(format_template(x) for x in template)
        return f"({inner},)" if len(template) == 1 else f"({inner})"
    if isinstance(template, list):
        return "[" + ", ".join(format_template(x) for x in template) + "]"
    if isinstance(template, dict):
        return "{" + ", ".join(f"{k!r}: {format_template(v)}" for k, v in template.items()) + "}"
    if template is Ellipsis:
        return "..."
    if isinstance(template, slice):
        parts = [format_template(p) if p is not None else "" for p in
                 (template.start, template.stop, template.step)]
        return ":".join(parts[:2] if template.step is None else parts)
    return repr(template)


class Graph:
    """A traced computation: inputs, constants, nodes and the output template."""

    def __init__(self):
        self.values = []            # every Value, by index
        self.inputs = []
        self.constants = {}         # Value -> Tensor
        # indexes of constants whose tensors only the graph holds (copies the passes made,
        # or read from a file): the runner may keep them in another form (packed)
        self.owned = set()
        self.nodes = []
        self.output = None          # template of Values (and constants / plain values)

    def new_value(self, kind, tensor, name=None):
        value = Value(len(self.values), name or str(len(self.values)), kind,
                      tuple(tensor.shape), tensor.dtype)
        self.values.append(value)
        return value

    def outputs(self):
        """The values the output template reads."""
        found = []
        _collect(self.output, found)
        return found

    def __str__(self):
        lines = ["graph(" + ",\n      ".join(
            f"%{v.name} : {type_name(v.dtype, v.shape)}" for v in self.inputs) + "):"]
        for node in self.nodes:
            outs = ", ".join(f"%{v.name} : {type_name(v.dtype, v.shape)}" for v in node.outputs)
            args = [format_template(a) for a in node.args]
            args += [f"{k}={format_template(v)}" for k, v in node.kwargs.items()]
            mark = " (in place)" if node.inplace or (node.spec or {}).get("in_place") else ""
            op = node.op
            if node.kind == "fused":
                op += "[" + ", ".join(entry[0] for entry in node.spec["program"]) + "]"
            lines.append(f"  {outs or '()'} = {op}({', '.join(args)}){mark}")
        lines.append(f"  return {format_template(self.output)}")
        return "\n".join(lines) + "\n"

    def code(self):
        """Python-like source of the graph: one line per node, ops by their ember names."""
        from ember.jit._ops import source_name
        params = ", ".join(v.name for v in self.inputs)
        lines = [f"def forward({params}):"]
        for node in self.nodes:
            outs = ", ".join(_py_name(v) for v in node.outputs) or "_"
            args = [_py_template(a) for a in node.args]
            args += [f"{k}={_py_template(v)}" for k, v in node.kwargs.items()]
            if node.kind == "fused":
                args.append("program=" + repr([entry[0] for entry in node.spec["program"]]))
            lines.append(f"    {outs} = {source_name(node)}({', '.join(args)})")
        lines.append(f"    return {_py_template(self.output)}")
        return "\n".join(lines) + "\n"


def _py_name(value):
    if value.kind == "constant":
        # a module's attribute path, as PyTorch's code spells it
        code = "self"
        for part in value.name.split("."):
            code = f"{code}.{part}" if part.isidentifier() else f"getattr({code}, {part!r})"
        return code
    name = value.name
    return name if name.isidentifier() and not name[0].isdigit() else f"_{name}"


def _py_template(template):
    if isinstance(template, Value):
        return _py_name(template)
    if isinstance(template, SymSize):
        if template.op == "size":
            return f"{_py_name(template.a)}.size({template.b})"
        if template.op == "neg":
            return f"(-{_py_template(template.a)})"
        symbol = {"add": "+", "sub": "-", "mul": "*", "floordiv": "//", "mod": "%"}[template.op]
        return f"({_py_template(template.a)} {symbol} {_py_template(template.b)})"
    if isinstance(template, tuple):
        inner = ", ".join(_py_template(x) for x in template)
        return f"({inner},)" if len(template) == 1 else f"({inner})"
    if isinstance(template, list):
        return "[" + ", ".join(_py_template(x) for x in template) + "]"
    if isinstance(template, dict):
        return "{" + ", ".join(f"{k!r}: {_py_template(v)}" for k, v in template.items()) + "}"
    if isinstance(template, slice):
        return f"slice({template.start!r}, {template.stop!r}, {template.step!r})"
    if isinstance(template, ember.dtype):
        return str(template)
    return repr(template)
