"""Saved graphs: the graph as JSON and the constants as tensors of one safetensors file.

Written with :func:`ember.save` (atomic, no pickle): ``{"format": "ember.jit", "version",
"graph": <JSON text>, "constants": {name: tensor}}``.  Loading checks every field: value
numbers defined before use, dtypes and scratch types by name from fixed tables, op names
through the registry (``_ops.resolve``), keyword names that are identifiers, fused
programs through their checked constructor.  No name read from the file reaches
``getattr``, ``eval`` or an import.
"""
import json
import keyword
import math

import ember
from ember._core._dtype import all_dtypes
from ember.jit._graph import Graph, Node, SymSize, Value
from ember.jit._ops import bind, is_saveable
from ember.jit._trace import SCRATCH_TYPES, Scratch

__all__ = ["save_graph", "load_graph", "encode_graph", "decode_graph"]

FORMAT = "ember.jit"
VERSION = 1
_DTYPES = {dtype.name: dtype for dtype in all_dtypes}


def _dtype_name(dtype):
    return str(dtype).replace("ember.", "")


# ---------------------------------------------------------------- writing

def _encode(template):
    if isinstance(template, Value):
        return {"v": template.index}
    if isinstance(template, SymSize):
        return {"sym": [template.op, _encode(template.a), _encode(template.b)]}
    if isinstance(template, tuple):
        return {"tuple": [_encode(x) for x in template]}
    if isinstance(template, list):
        return [_encode(x) for x in template]
    if isinstance(template, dict):
        return {"dict": {k: _encode(v) for k, v in template.items()}}
    if template is None or isinstance(template, (bool, int, str)):
        return template
    if isinstance(template, float):
        return template if math.isfinite(template) else {"float": repr(template)}
    if isinstance(template, complex):
        return {"complex": [_encode(template.real), _encode(template.imag)]}
    if isinstance(template, slice):
        return {"slice": [_encode(template.start), _encode(template.stop),
                          _encode(template.step)]}
    if template is Ellipsis:
        return {"ellipsis": True}
    if isinstance(template, ember.dtype):
        return {"dtype": _dtype_name(template)}
    if isinstance(template, ember.device):
        return {"device": str(template)}
    if isinstance(template, Scratch):
        return {"scratch": template.name}
    raise TypeError(f"ember.jit.save: cannot save an argument of type {type(template).__name__}")


def _value_entry(v):
    return {"index": v.index, "name": v.name, "kind": v.kind, "shape": list(v.shape),
            "dtype": _dtype_name(v.dtype)}


def save_graph(graph, f):
    """Write ``graph`` and its constants to ``f`` (a path or binary file)."""
    text, constants = encode_graph(graph)
    ember.save({"format": FORMAT, "version": VERSION, "graph": text, "constants": constants}, f)


def encode_graph(graph):
    """``(JSON text, {name: tensor})`` of ``graph``: what :func:`save_graph` writes
    (constants no node reads are left out; duplicate names get ``#index``)."""
    for node in graph.nodes:
        if not is_saveable(node):
            raise RuntimeError(f"ember.jit.save: op '{node.op}' cannot be saved (it is not in "
                               "the registry of ops a saved graph may use"
                               + (", or was traced in training mode" if node.op ==
                                  "fused_batch_norm" else "") + ")")
    used = {v.index for node in graph.nodes for v in node.inputs()}
    used.update(v.index for v in graph.outputs())
    values = [graph.inputs] + [[v for v in graph.constants if v.index in used]]
    values += [node.outputs for node in graph.nodes]
    constants, names = {}, set()
    for v in graph.constants:
        if v.index in used:
            key = v.name if v.name not in names else f"{v.name}#{v.index}"
            names.add(key)
            constants[key] = graph.constants[v]
            v.name = key
    text = json.dumps({
        "values": [_value_entry(v) for group in values for v in group],
        "inputs": [v.index for v in graph.inputs],
        "nodes": [{"kind": n.kind, "op": n.op, "args": _encode(n.args),
                   "kwargs": _encode(n.kwargs), "outputs": [v.index for v in n.outputs],
                   "result": _encode(n.result), "inplace": n.inplace,
                   **({"spec": n.spec} if n.spec is not None else {})}
                  for n in graph.nodes],
        "output": _encode(graph.output),
    }, allow_nan=False)
    return text, constants


# ---------------------------------------------------------------- reading

def _fail(what):
    raise ValueError(f"ember.jit.load: malformed graph: {what}")


def _int(x, what):
    if type(x) is not int:
        _fail(f"{what} must be an integer, got {type(x).__name__}")
    return x


class _Decoder:
    def __init__(self, values):
        self.values = values        # index -> Value
        self.defined = set()        # indexes defined so far

    def value(self, index):
        index = _int(index, "a value number")
        if index not in self.defined:
            _fail(f"value {index} is read before it is defined")
        return self.values[index]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, float):
            return node
        if isinstance(node, list):
            return [self.decode(x) for x in node]
        if not isinstance(node, dict) or len(node) != 1:
            _fail(f"unexpected entry {node!r:.80}")
        (tag, body), = node.items()
        if tag == "v":
            return self.value(body)
        if tag == "sym":
            if not isinstance(body, list) or len(body) != 3 or body[0] not in SymSize.OPS:
                _fail("bad symbolic size")
            a, b = self.decode(body[1]), self.decode(body[2])
            if body[0] == "size":
                if not isinstance(a, Value):
                    _fail("a size must read a value")
                _int(b, "a dimension")
            elif not all(isinstance(x, (SymSize, int)) or x is None for x in (a, b)):
                _fail("bad symbolic size operand")
            return SymSize(body[0], a, b)
        if tag == "tuple":
            if not isinstance(body, list):
                _fail("bad tuple")
            return tuple(self.decode(x) for x in body)
        if tag == "dict":
            if not isinstance(body, dict):
                _fail("bad keyword arguments")
            for key in body:
                if not key.isidentifier() or keyword.iskeyword(key):
                    _fail(f"keyword {key!r:.80} is not an identifier")
            return {k: self.decode(v) for k, v in body.items()}
        if tag == "float":
            if body not in ("nan", "inf", "-inf"):
                _fail(f"bad float {body!r:.80}")
            return float(body)
        if tag == "complex":
            if not isinstance(body, list) or len(body) != 2:
                _fail("bad complex")
            re, im = self.decode(body[0]), self.decode(body[1])
            if not all(isinstance(x, (int, float)) for x in (re, im)):
                _fail("bad complex")
            return complex(re, im)
        if tag == "slice":
            if not isinstance(body, list) or len(body) != 3:
                _fail("bad slice")
            return slice(*(self.decode(x) for x in body))
        if tag == "ellipsis":
            return Ellipsis
        if tag == "dtype":
            if body not in _DTYPES:
                _fail(f"unknown dtype {body!r:.80}")
            return _DTYPES[body]
        if tag == "device":
            if not isinstance(body, str):
                _fail("bad device")
            return ember.device(body)
        if tag == "scratch":
            if body not in SCRATCH_TYPES:
                _fail(f"unknown scratch type {body!r:.80}")
            return Scratch(body)
        _fail(f"unknown tag {tag!r:.80}")


def load_graph(f):
    """Read a graph written by :func:`save_graph`: ``Graph`` with bound callables."""
    saved = ember.load(f)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError("ember.jit.load: not a saved ember.jit graph (no 'ember.jit' format "
                         "marker); ember.load reads other ember files")
    if saved.get("version") != VERSION:
        raise ValueError(f"ember.jit.load: unsupported version {saved.get('version')!r}")
    return decode_graph(saved.get("graph"), saved.get("constants"))


def decode_graph(text, constants):
    """The ``Graph`` (nodes bound) of :func:`encode_graph`'s ``text`` and ``constants``,
    every field checked."""
    if not isinstance(constants, dict) or not all(isinstance(t, ember.Tensor)
                                                  for t in constants.values()):
        _fail("constants must map names to tensors")
    try:
        spec = json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"ember.jit.load: the graph is not valid JSON: {error}") from None
    if not isinstance(spec, dict):
        _fail("not an object")
    graph = Graph()
    values = {}
    for entry in spec.get("values", []):
        if not isinstance(entry, dict):
            _fail("bad value entry")
        index = _int(entry.get("index"), "a value number")
        if index in values or entry.get("dtype") not in _DTYPES or \
                entry.get("kind") not in ("input", "constant", "node") or \
                not isinstance(entry.get("name"), str) or \
                not isinstance(entry.get("shape"), list):
            _fail(f"bad value entry {index}")
        shape = [_int(s, "a size") for s in entry["shape"]]
        values[index] = Value(index, entry["name"], entry["kind"], shape,
                              _DTYPES[entry["dtype"]])
    graph.values = [values[k] for k in sorted(values)]
    decoder = _Decoder(values)
    for index in spec.get("inputs", []):
        v = values.get(_int(index, "an input number"))
        if v is None or v.kind != "input":
            _fail(f"input {index} is not an input value")
        graph.inputs.append(v)
        decoder.defined.add(v.index)
    for v in values.values():
        if v.kind == "constant":
            t = constants.get(v.name)
            if t is None or tuple(t.shape) != v.shape or t.dtype != v.dtype:
                _fail(f"constant {v.name!r:.80} is missing or of another shape or dtype")
            graph.constants[v] = t
            graph.owned.add(v.index)
            decoder.defined.add(v.index)
    for entry in spec.get("nodes", []):
        graph.nodes.append(_node(entry, decoder, values))
    graph.output = decoder.decode(spec.get("output"))
    return graph


def _node(entry, decoder, values):
    if not isinstance(entry, dict) or entry.get("kind") not in ("ew", "view", "op", "fused") \
            or not isinstance(entry.get("op"), str):
        _fail("bad node entry")
    args = decoder.decode(entry.get("args"))
    kwargs = decoder.decode(entry.get("kwargs"))
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        _fail(f"bad arguments of op {entry['op']!r:.80}")
    outputs = []
    for index in entry.get("outputs", []):
        index = _int(index, "an output number")
        v = values.get(index)
        if v is None or v.kind != "node" or index in decoder.defined:
            _fail(f"output {index} of op {entry['op']!r:.80} is not a new value")
        outputs.append(v)
        decoder.defined.add(index)
    result = decoder.decode(entry.get("result"))
    node = Node(entry["kind"], entry["op"], args, kwargs, outputs, result,
                bool(entry.get("inplace", False)))
    if node.kind == "fused":
        spec = entry.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("program"), list) or \
                not isinstance(spec.get("numbers"), list) or \
                not all(isinstance(x, (int, float)) for x in spec["numbers"]) or \
                not all(isinstance(e, list) and len(e) == 5 for e in spec["program"]):
            _fail("bad fused program")
        node.spec = {"program": spec["program"], "numbers": spec["numbers"],
                     "out": _int(spec.get("out"), "a register"), "dtype": spec.get("dtype"),
                     "in_place": bool(spec.get("in_place", False))}
        if node.kwargs or not all(isinstance(a, Value) for a in node.args):
            _fail("a fused node takes tensors only")
    bind(node)
    return node
