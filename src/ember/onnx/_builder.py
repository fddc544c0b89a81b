"""The ONNX graph under construction: names of values, initializers, symbolic sizes.

The exporter walks an ember.jit graph node by node; each node's emitter (``_symbolic``)
asks the builder for the ONNX names of its arguments (tensors, Python numbers, sizes
read from traced tensors) and adds ONNX nodes.  Sizes (:class:`ember.jit._graph.SymSize`)
become ``Shape``/``Gather``/arithmetic nodes, so a graph exported at one batch size runs
at others.
"""
import contextlib

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import ember
from ember.jit._graph import SymSize, Value

__all__ = ["Builder", "UnsupportedOperatorError", "onnx_type", "static_size"]

# ember dtype -> ONNX element type
_ONNX_TYPES = {
    "float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
    "int16": TensorProto.INT16, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL,
}
_NUMPY_TYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
                "int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8,
                "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
                "bool": np.bool_}


class UnsupportedOperatorError(RuntimeError):
    """An ember op (or a form of one) that has no ONNX mapping; the message names it
    (as ``torch.onnx.errors.UnsupportedOperatorError``).

    Examples
    --------
    >>> import ember, ember.onnx, io
    >>> try:
    ...     ember.onnx.export(lambda x: ember.cummax(x, 0)[0], ember.rand(3) + 1, io.BytesIO())
    ... except ember.onnx.UnsupportedOperatorError as error:
    ...     print(error)
    ONNX export: ember op 'cummax' has no ONNX mapping (traced value %1)
    """


def _dtype_name(dtype):
    return str(dtype).replace("ember.", "")


def onnx_type(dtype):
    """The ONNX element type of an ember dtype (UnsupportedOperatorError for complex)."""
    try:
        return _ONNX_TYPES[_dtype_name(dtype)]
    except KeyError:
        raise UnsupportedOperatorError(f"ONNX export: dtype {dtype} has no ONNX type") from None


def static_size(size):
    """The value a size (int or SymSize) had in the traced run."""
    if isinstance(size, SymSize):
        return size.evaluate(lambda v: v)       # a Value has the traced ``shape``
    return size


class Builder:
    """Collects ONNX nodes and initializers for one exported graph."""

    def __init__(self, opset):
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self.names = {}             # Value.index -> ONNX name
        self._used = set()
        self._consts = {}           # (dtype, shape, bytes) -> initializer name
        self._syms = {}             # SymSize key -> ONNX name of its 0-d int64 tensor
        self._shapes = {}           # Value.index -> ONNX name of its Shape
        self.constant_tensors = {}  # Value.index -> the graph constant's tensor
        self.read_values = set()    # indexes of the values some node or output reads
        self.producers = {}         # Value.index -> the graph node computing it

    # ---------------------------------------------------------------- names
    def fresh(self, hint):
        """A name not used before, from ``hint``."""
        base = "".join(c if c.isalnum() or c in "._" else "_" for c in str(hint)) or "v"
        name, k = base, 1
        while name in self._used:
            name, k = f"{base}_{k}", k + 1
        self._used.add(name)
        return name

    def bind(self, value, name):
        """Record that ONNX tensor ``name`` holds graph value ``value``."""
        self.names[value.index] = name

    def add(self, op_type, inputs, n_outputs=1, **attrs):
        """Add an ONNX node; returns its output name (a list when ``n_outputs != 1``)."""
        outputs = [self.fresh(f"{op_type}_{len(self.nodes)}") for _ in range(n_outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs,
                                           name=f"{op_type}_{len(self.nodes)}", **attrs))
        return outputs[0] if n_outputs == 1 else outputs

    @contextlib.contextmanager
    def subgraph(self):
        """Collect the nodes added inside the ``with`` block (a ``Scan`` body) in a list of
        their own.  Names stay unique model-wide and constants stay initializers of the main
        graph (a body reads outer names); the ``Shape``/size nodes made inside are
        forgotten afterwards, as the main graph cannot read a body's values."""
        saved = self.nodes, self._syms, self._shapes
        self.nodes, self._syms, self._shapes = [], dict(self._syms), dict(self._shapes)
        try:
            yield self.nodes
        finally:
            self.nodes, self._syms, self._shapes = saved

    @staticmethod
    def declare(name, dtype, rank):
        """The declaration of a subgraph's input or output ``name``: its element type and
        rank (the sizes left to the runtime)."""
        return helper.make_tensor_value_info(name, onnx_type(dtype), [None] * rank)

    # ---------------------------------------------------------------- constants
    def const(self, array, hint="const"):
        """An initializer holding ``array`` (shared between equal constants)."""
        array = np.array(array, order="C")       # (ascontiguousarray makes 0-d 1-d)
        key = (array.dtype.str, array.shape, array.tobytes())
        name = self._consts.get(key)
        if name is None:
            name = self.fresh(hint)
            self.initializers.append(numpy_helper.from_array(array, name))
            self._consts[key] = name
        return name

    def scalar(self, number, dtype):
        """A 0-d initializer holding ``number`` as ``dtype``."""
        return self.const(np.array(number, dtype=_NUMPY_TYPES[_dtype_name(dtype)]))

    def ints(self, values):
        """A 1-d int64 initializer."""
        return self.const(np.array(list(values), dtype=np.int64))

    def add_initializer(self, value, tensor):
        """The graph constant ``value`` as a named initializer."""
        name = self.fresh(value.name)
        array = tensor.detach().contiguous().numpy()
        if _dtype_name(value.dtype) not in _NUMPY_TYPES:
            raise UnsupportedOperatorError(
                f"ONNX export: constant {value.name} has dtype {value.dtype}, which has no "
                "ONNX type")
        self.initializers.append(numpy_helper.from_array(array, name))
        self.bind(value, name)

    # ---------------------------------------------------------------- operands
    def value(self, value):
        """The ONNX name of a graph value (a constant becomes an initializer when first
        used)."""
        name = self.names.get(value.index)
        if name is None:
            self.add_initializer(value, self.constant_tensors[value.index])
            name = self.names[value.index]
        return name

    def operand(self, x, dtype):
        """``x`` (a Value, a Python number or a SymSize) as an ONNX tensor of ``dtype``."""
        if isinstance(x, Value):
            name = self.value(x)
            return name if x.dtype == dtype else self.cast(name, dtype)
        if isinstance(x, SymSize):
            name = self.sym(x)
            return name if dtype == ember.int64 else self.cast(name, dtype)
        if isinstance(x, (bool, int, float)):
            return self.scalar(x, dtype)
        raise UnsupportedOperatorError(f"ONNX export: an argument of type {type(x).__name__} "
                                       "cannot be an ONNX tensor")

    def cast(self, name, dtype):
        return self.add("Cast", [name], to=onnx_type(dtype))

    # ---------------------------------------------------------------- sizes
    def shape_of(self, value):
        """The ONNX ``Shape`` of a graph value (one node per value)."""
        name = self._shapes.get(value.index)
        if name is None:
            name = self._shapes[value.index] = self.add("Shape", [self.value(value)])
        return name

    def sym(self, size):
        """A SymSize as a 0-d int64 tensor computed from the traced tensors' shapes."""
        key = repr(size)
        name = self._syms.get(key)
        if name is not None:
            return name
        if size.op == "size":
            name = self.add("Gather", [self.shape_of(size.a), self.scalar(size.b, ember.int64)],
                            axis=0)
        elif size.op == "neg":
            name = self.add("Neg", [self._size_operand(size.a)])
        else:
            op = {"add": "Add", "sub": "Sub", "mul": "Mul", "floordiv": "Div",
                  "mod": "Mod"}[size.op]     # sizes are not negative: Div floors
            name = self.add(op, [self._size_operand(size.a), self._size_operand(size.b)])
        self._syms[key] = name
        return name

    def _size_operand(self, x):
        return self.sym(x) if isinstance(x, SymSize) else self.scalar(int(x), ember.int64)

    def shape_vector(self, items):
        """A 1-d int64 tensor from a sequence of ints and SymSizes."""
        items = list(items)
        if not any(isinstance(x, SymSize) for x in items):
            return self.ints(int(x) for x in items)
        parts, run = [], []
        for x in items:
            if isinstance(x, SymSize):
                if run:
                    parts.append(self.ints(run))
                    run = []
                parts.append(self.unsqueeze(self.sym(x), [0]))
            else:
                run.append(int(x))
        if run:
            parts.append(self.ints(run))
        return self.add("Concat", parts, axis=0)

    # ---------------------------------------------------------------- op forms by opset
    def unsqueeze(self, name, axes):
        return self.add("Unsqueeze", [name, self.ints(axes)])

    def squeeze(self, name, axes):
        return self.add("Squeeze", [name, self.ints(axes)])

    def reduce(self, op_type, name, axes, keepdims):
        """``op_type`` (ReduceMean, ReduceMax, ...) over ``axes`` (None: all)."""
        keep = int(bool(keepdims))
        if op_type == "ReduceSum" or self.opset >= 18:
            inputs = [name] if axes is None else [name, self.ints(axes)]
            return self.add(op_type, inputs, keepdims=keep)
        return self.add(op_type, [name], keepdims=keep,
                        axes=None if axes is None else list(axes))
