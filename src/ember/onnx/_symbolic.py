"""The table of ember ops -> ONNX operators: one emitter per op name of an ember.jit graph.

An emitter ``emit(b, node)`` reads the node's argument templates, adds ONNX nodes through
the :class:`~ember.onnx._builder.Builder` ``b`` and binds each output value of the node to
an ONNX name.  Ops are keyed by the jit graph's kind and name: ``("ew", "relu")``,
``("view", "reshape")``, ``("op", "addmm")``.
"""
import math

import numpy as np
from onnx import numpy_helper

import ember
from ember.jit._graph import SymSize, Value
from ember.onnx._builder import _NUMPY_TYPES as _NUMPY_OF, UnsupportedOperatorError, onnx_type

__all__ = ["EMITTERS", "emit_node"]

EMITTERS = {}


def _emitter(kind, *names):
    def register(fn):
        for name in names:
            EMITTERS[(kind, name)] = fn
        return fn
    return register


def emit_node(b, node):
    """Emit ``node``; UnsupportedOperatorError naming the op when it has no mapping."""
    fn = EMITTERS.get((node.kind, node.op))
    if fn is None:
        raise UnsupportedOperatorError(
            f"ONNX export: ember op '{node.op}' has no ONNX mapping (traced value "
            f"%{node.outputs[0].name if node.outputs else '?'})")
    fn(b, node)


def _params(node, names, defaults=None):
    """The node's arguments by parameter name (positional then keyword)."""
    found = dict(defaults or {})
    found.update(zip(names, node.args))
    found.update({k: v for k, v in node.kwargs.items() if k != "out"})
    return found


def _unsupported(node, why):
    raise UnsupportedOperatorError(f"ONNX export: ember op '{node.op}' {why}")


def _axis(dim, ndim):
    return dim + ndim if dim < 0 else dim


def _out(b, node, name, k=0):
    b.bind(node.outputs[k], name)


# ------------------------------------------------------------------ elementwise ops
_UNARY = {
    "neg": "Neg", "abs": "Abs", "sign": "Sign", "reciprocal": "Reciprocal", "sqrt": "Sqrt",
    "exp": "Exp", "log": "Log", "sin": "Sin", "cos": "Cos", "tan": "Tan", "asin": "Asin",
    "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh", "asinh": "Asinh",
    "acosh": "Acosh", "atanh": "Atanh", "tanh": "Tanh", "sigmoid": "Sigmoid", "erf": "Erf",
    "floor": "Floor", "ceil": "Ceil", "round": "Round", "relu": "Relu", "isnan": "IsNaN",
    "isinf": "IsInf", "logical_not": "Not", "bitwise_not": "BitwiseNot", "selu": "Selu",
    "hardswish": "HardSwish", "softsign": "Softsign",
}
_BINARY = {
    "add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "minimum": "Min",
    "maximum": "Max", "fmin": "Min", "fmax": "Max", "eq": "Equal", "lt": "Less",
    "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual", "logical_and": "And",
    "logical_or": "Or", "logical_xor": "Xor", "bitwise_and": "BitwiseAnd",
    "bitwise_or": "BitwiseOr", "bitwise_xor": "BitwiseXor",
}
# bitwise ops on bool tensors: the logical operators
_LOGICAL = {"bitwise_and": "And", "bitwise_or": "Or", "bitwise_xor": "Xor",
            "bitwise_not": "Not"}
_COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
                "isnan", "isinf", "logical_not"}
# ops with a Python-number parameter that becomes an ONNX attribute
_WITH_ATTRIBUTE = {"leaky_relu": ("LeakyRelu", "alpha"), "elu": ("Elu", "alpha"),
                   "celu": ("Celu", "alpha")}


def _compute_dtype(node):
    """The dtype the ONNX op computes in: the result's, or for comparisons the promoted
    dtype of the tensor operands."""
    if node.op not in _COMPARISONS:
        return node.outputs[0].dtype
    dtypes = [a.dtype for a in node.args if isinstance(a, Value)]
    dtype = dtypes[0]
    for other in dtypes[1:]:
        dtype = ember.promote_types(dtype, other)
    if not dtype.is_floating_point and any(type(a) is float for a in node.args):
        dtype = ember.get_default_dtype()
    return dtype


def _emit_elementwise(b, node):
    op = node.op
    dtype = _compute_dtype(node)
    if op in _WITH_ATTRIBUTE and not isinstance(node.args[1], (Value, SymSize)):
        op_type, attribute = _WITH_ATTRIBUTE[op]
        x = b.operand(node.args[0], dtype)
        return b.add(op_type, [x], **{attribute: float(node.args[1])})
    if op in ("hardshrink", "softshrink") and not isinstance(node.args[1], (Value, SymSize)):
        lambd = float(node.args[1])
        return b.add("Shrink", [b.operand(node.args[0], dtype)], lambd=lambd,
                     bias=lambd if op == "softshrink" else 0.0)
    if op == "where":
        return b.add("Where", [b.operand(node.args[0], ember.bool),
                               b.operand(node.args[1], dtype), b.operand(node.args[2], dtype)])
    if op in ("clamp", "threshold"):
        x = b.operand(node.args[0], dtype)
        if op == "threshold":      # x if x > threshold else value
            above = b.add("Greater", [x, b.operand(node.args[1], dtype)])
            return b.add("Where", [above, x, b.operand(node.args[2], dtype)])
        low, high = node.args[1], node.args[2]
        if low is not None:
            x = b.add("Max", [x, b.operand(low, dtype)])
        if high is not None:
            x = b.add("Min", [x, b.operand(high, dtype)])
        return x
    xs = [b.operand(a, dtype) for a in node.args]
    if op in _LOGICAL and dtype == ember.bool:
        return b.add(_LOGICAL[op], xs)
    if op in _LOGICAL and b.opset < 18:
        _unsupported(node, f"on {dtype} tensors needs opset 18 or newer")
    if op in _UNARY:
        return b.add(_UNARY[op], xs)
    if op in _BINARY:
        return b.add(_BINARY[op], xs)
    composite = _COMPOSITE.get(op)
    if composite is None:
        _unsupported(node, "has no ONNX mapping")
    return composite(b, xs, dtype)


def _gelu(b, xs, dtype):
    x, = xs
    inner = b.add("Erf", [b.add("Mul", [x, b.scalar(1 / math.sqrt(2), dtype)])])
    one_plus = b.add("Add", [inner, b.scalar(1.0, dtype)])
    return b.add("Mul", [b.add("Mul", [x, b.scalar(0.5, dtype)]), one_plus])


def _gelu_tanh(b, xs, dtype):
    x, = xs
    cube = b.add("Mul", [b.add("Mul", [x, x]), x])
    inner = b.add("Add", [x, b.add("Mul", [cube, b.scalar(0.044715, dtype)])])
    t = b.add("Tanh", [b.add("Mul", [inner, b.scalar(math.sqrt(2 / math.pi), dtype)])])
    return b.add("Mul", [b.add("Mul", [x, b.scalar(0.5, dtype)]),
                         b.add("Add", [t, b.scalar(1.0, dtype)])])


def _int_floor_div(b, xs, dtype):
    """Integer division rounding down (ONNX's Div truncates): one less where the
    remainder is not zero and the operands' signs differ."""
    a, d = xs
    quotient = b.add("Div", xs)
    remainder = b.add("Sub", [a, b.add("Mul", [quotient, d])])
    zero = b.scalar(0, dtype)
    inexact = b.add("Not", [b.add("Equal", [remainder, zero])])
    signs_differ = b.add("Xor", [b.add("Less", [a, zero]), b.add("Less", [d, zero])])
    adjust = b.add("Cast", [b.add("And", [inexact, signs_differ])], to=onnx_type(dtype))
    return b.add("Sub", [quotient, adjust])


def _atan2(b, xs, dtype):
    """atan(y / x), turned by pi where x < 0 (ONNX has no atan2); 0 at the origin."""
    y, x = xs
    zero = b.scalar(0.0, dtype)
    base = b.add("Atan", [b.add("Div", [y, x])])
    turn = b.add("Where", [b.add("Less", [y, zero]), b.scalar(-math.pi, dtype),
                           b.scalar(math.pi, dtype)])
    angle = b.add("Where", [b.add("Less", [x, zero]), b.add("Add", [base, turn]), base])
    origin = b.add("And", [b.add("Equal", [x, zero]), b.add("Equal", [y, zero])])
    return b.add("Where", [origin, zero, angle])


_COMPOSITE = {
    "atan2": _atan2,
    "rsqrt": lambda b, xs, dt: b.add("Reciprocal", [b.add("Sqrt", xs)]),
    "expm1": lambda b, xs, dt: b.add("Sub", [b.add("Exp", xs), b.scalar(1.0, dt)]),
    "log1p": lambda b, xs, dt: b.add("Log", [b.add("Add", [xs[0], b.scalar(1.0, dt)])]),
    "log2": lambda b, xs, dt: b.add("Div", [b.add("Log", xs), b.scalar(math.log(2), dt)]),
    "log10": lambda b, xs, dt: b.add("Div", [b.add("Log", xs), b.scalar(math.log(10), dt)]),
    "exp2": lambda b, xs, dt: b.add("Pow", [b.scalar(2.0, dt), xs[0]]),
    "gelu": _gelu,
    "gelu_tanh": _gelu_tanh,
    "silu": lambda b, xs, dt: b.add("Mul", [xs[0], b.add("Sigmoid", xs)]),
    "mish": lambda b, xs, dt: b.add("Mul", [xs[0], b.add("Tanh", [b.add("Softplus", xs)])]),
    "hardsigmoid": lambda b, xs, dt: b.add("HardSigmoid", xs, alpha=1 / 6, beta=0.5),
    "tanhshrink": lambda b, xs, dt: b.add("Sub", [xs[0], b.add("Tanh", xs)]),
    "ne": lambda b, xs, dt: b.add("Not", [b.add("Equal", xs)]),
    "isfinite": lambda b, xs, dt: b.add("Not", [b.add("Or", [b.add("IsNaN", xs),
                                                             b.add("IsInf", xs)])]),
    "fmod": lambda b, xs, dt: b.add("Mod", xs, fmod=1),
    "floor_divide": lambda b, xs, dt: (b.add("Floor", [b.add("Div", xs)])
                                       if dt.is_floating_point else _int_floor_div(b, xs, dt)),
    "remainder": lambda b, xs, dt: (
        b.add("Sub", [xs[0], b.add("Mul", [b.add("Floor", [b.add("Div", xs)]), xs[1]])])
        if dt.is_floating_point else b.add("Mod", xs, fmod=0)),
    "leaky_relu": lambda b, xs, dt: b.add("Where", [b.add("Greater", [xs[0], b.scalar(0, dt)]),
                                                    xs[0], b.add("Mul", xs)]),
}


@_emitter("ew", *_UNARY, *_BINARY, *_COMPOSITE, *_WITH_ATTRIBUTE, "hardshrink", "softshrink",
          "where", "clamp", "threshold")
def _ew(b, node):
    _out(b, node, _emit_elementwise(b, node))


# ------------------------------------------------------------------ views
@_emitter("view", "view", "reshape", "reshape_copy")
def _reshape(b, node):
    shape = node.args[1]
    if isinstance(shape, (ember.dtype,)):
        _unsupported(node, "reinterpreting a dtype has no ONNX mapping")
    if not isinstance(shape, (tuple, list)):
        shape = node.args[1:]
    _out(b, node, b.add("Reshape", [b.value(node.args[0]), b.shape_vector(shape)]))


@_emitter("view", "flatten", "flatten_copy")
def _flatten(b, node):
    p = _params(node, ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})
    x = p["input"]
    ndim = len(x.shape)
    if ndim == 0:
        _out(b, node, b.add("Reshape", [b.value(x), b.ints([1])]))
        return
    start, end = _axis(p["start_dim"], ndim), _axis(p["end_dim"], ndim)
    parts = []
    if start > 0:
        parts.append(b.add("Shape", [b.value(x)], start=0, end=start))
    parts.append(b.ints([-1]))
    if end < ndim - 1:
        parts.append(b.add("Shape", [b.value(x)], start=end + 1))
    shape = parts[0] if len(parts) == 1 else b.add("Concat", parts, axis=0)
    _out(b, node, b.add("Reshape", [b.value(x), shape]))


@_emitter("view", "squeeze")
def _squeeze(b, node):
    x = node.args[0]
    dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    if dims is None:
        axes = [d for d, s in enumerate(x.shape) if s == 1]
    else:
        dims = dims if isinstance(dims, (tuple, list)) else (dims,)
        axes = [_axis(d, len(x.shape)) for d in dims]
        axes = [d for d in axes if x.shape[d] == 1]
    _out(b, node, b.squeeze(b.value(x), axes) if axes else b.add("Identity", [b.value(x)]))


@_emitter("view", "unsqueeze")
def _unsqueeze(b, node):
    x, dim = node.args[0], node.args[1]
    _out(b, node, b.unsqueeze(b.value(x), [_axis(dim, len(x.shape) + 1)]))


@_emitter("view", "transpose")
def _transpose(b, node):
    x, d0, d1 = node.args[:3]
    perm = list(range(len(x.shape)))
    if perm:
        d0, d1 = _axis(d0, len(perm)), _axis(d1, len(perm))
        perm[d0], perm[d1] = perm[d1], perm[d0]
    _out(b, node, b.add("Transpose", [b.value(x)], perm=perm))


@_emitter("op", "t")
def _t(b, node):
    x = node.args[0]
    perm = list(range(len(x.shape)))[::-1]
    _out(b, node, b.add("Transpose", [b.value(x)], perm=perm))


@_emitter("view", "permute")
def _permute(b, node):
    x = node.args[0]
    dims = node.args[1] if isinstance(node.args[1], (tuple, list)) else node.args[1:]
    _out(b, node, b.add("Transpose", [b.value(x)],
                        perm=[_axis(d, len(x.shape)) for d in dims]))


@_emitter("view", "expand")
def _expand(b, node):
    x = node.args[0]
    sizes = node.args[1] if isinstance(node.args[1], (tuple, list)) else node.args[1:]
    # -1, or the size the input already had, keeps the input's size: as 1, ONNX's
    # broadcasting keeps it too (and follows it when that dim is dynamic)
    offset = len(sizes) - len(x.shape)
    sizes = [1 if isinstance(s, int) and (s == -1 or (d >= offset and x.shape[d - offset] == s
                                                       and s != 1)) else s
             for d, s in enumerate(sizes)]
    _out(b, node, b.add("Expand", [b.value(x), b.shape_vector(sizes)]))


@_emitter("view", "unfold")
def _unfold(b, node):
    """``x.unfold(dim, size, step)``: a ``Gather`` along ``dim`` with indices ``(n, size)``
    (window ``i`` reads ``i * step + k``), the window axis then moved last; ``n`` is
    computed from the running size of ``dim``."""
    x, dim, size, step = node.args[:4]
    ndim = len(x.shape)
    if ndim == 0:
        _unsupported(node, "of a 0-d tensor has no ONNX mapping")
    axis = _axis(dim, ndim)
    count = SymSize("add", SymSize("floordiv", SymSize("sub", SymSize("size", x, axis), size),
                                   step), 1)
    starts = b.add("Range", [b.scalar(0, ember.int64), b.sym(count),
                             b.scalar(1, ember.int64)])
    starts = b.unsqueeze(b.add("Mul", [starts, b.scalar(step, ember.int64)]), [1])
    index = b.add("Add", [starts, b.ints(range(size))])
    windows = b.add("Gather", [b.value(x), index], axis=axis)
    perm = list(range(axis + 1)) + list(range(axis + 2, ndim + 1)) + [axis + 1]
    _out(b, node, b.add("Transpose", [windows], perm=perm))


@_emitter("view", "narrow")
def _narrow(b, node):
    x, dim, start, length = node.args[:4]
    start = b.operand(start, ember.int64)
    stop = b.add("Add", [start, b.operand(length, ember.int64)])
    axis = _axis(dim, len(x.shape))
    _out(b, node, b.add("Slice", [b.value(x), b.unsqueeze(start, [0]), b.unsqueeze(stop, [0]),
                                  b.ints([axis])]))


@_emitter("view", "select")
def _select(b, node):
    x, dim, index = node.args[:3]
    _out(b, node, b.add("Gather", [b.value(x), b.operand(index, ember.int64)],
                        axis=_axis(dim, len(x.shape))))


_INT_MAX = 2 ** 63 - 1


@_emitter("view", "getitem")
def _getitem(b, node):
    x, key = node.args[0], node.args[1]
    key = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, Value) for k in key):
        if len(key) == 1 and key[0].dtype == ember.int64:
            _out(b, node, b.add("Gather", [b.value(x), b.value(key[0])], axis=0))
            return
        _unsupported(node, "with tensor indices (other than one int64 index tensor) has no "
                     "ONNX mapping")
    ndim = len(x.shape)
    explicit = sum(1 for k in key if k is not None and k is not Ellipsis)
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded += [slice(None)] * (ndim - explicit)
        else:
            expanded.append(k)
    expanded += [slice(None)] * (ndim - sum(1 for k in expanded if k is not None))
    name = b.value(x)
    starts, stops, axes, steps, selected, new_axes = [], [], [], [], [], []
    dim = 0
    for position, k in enumerate(expanded):
        if k is None:
            new_axes.append(position)
            continue
        if isinstance(k, slice):
            if k != slice(None):
                step = 1 if k.step is None else k.step
                default_start, default_stop = (0, _INT_MAX) if step > 0 else (-1, -_INT_MAX)
                starts.append(default_start if k.start is None else k.start)
                stops.append(default_stop if k.stop is None else k.stop)
                axes.append(dim)
                steps.append(step)
        else:
            selected.append((dim, k))
        dim += 1
    if axes:
        name = b.add("Slice", [name, b.shape_vector(starts), b.shape_vector(stops),
                               b.ints(axes), b.shape_vector(steps)])
    for dim, index in reversed(selected):
        name = b.add("Gather", [name, b.operand(index, ember.int64)], axis=dim)
    if new_axes:
        name = b.unsqueeze(name, new_axes)
    elif not axes and not selected:
        name = b.add("Identity", [name])
    _out(b, node, name)


def _expand_key(key, ndim):
    """A basic index as one entry per dim (Ellipsis expanded); None for other keys."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is None or isinstance(k, (Value, SymSize, bool)) for k in key):
        return None
    explicit = sum(1 for k in key if k is not Ellipsis)
    expanded = []
    for k in key:
        expanded += [slice(None)] * (ndim - explicit) if k is Ellipsis else [k]
    return expanded + [slice(None)] * (ndim - len(expanded))


def _size_op(op, a, b):
    """``a op b`` for sizes (ints or SymSizes)."""
    if isinstance(a, SymSize) or isinstance(b, SymSize):
        return SymSize(op, a, b)
    return a + b if op == "add" else a - b


def _bounds(k, running, traced_size):
    """``(start, stop)`` of index ``k`` (an int or a step-1 slice) along a dim whose size
    is ``running`` (a SymSize) when the graph runs: negative positions count from the
    running end; a stop past the traced size is the end."""
    if not isinstance(k, slice):
        start = k if isinstance(k, SymSize) or k >= 0 else _size_op("add", running, k)
        return start, _size_op("add", start, 1)
    start = k.start or 0
    if not isinstance(start, SymSize) and start < 0:
        start = _size_op("add", running, start)
    stop = k.stop           # a SymSize bound (a size read from a traced tensor) is kept
    if stop is None or (not isinstance(stop, SymSize) and stop >= traced_size):
        stop = running
    elif not isinstance(stop, SymSize) and stop < 0:
        stop = _size_op("add", running, stop)
    return start, stop


@_emitter("op", "setitem")
def _setitem(b, node):
    """``target[key] = value`` for ints and step-1 slices: the value, broadcast to the
    region and padded to the target's shape, replaces the target inside the region
    (``Where`` with a mask computed from the running sizes)."""
    target, key, value = node.args[:3]
    shape = target.shape
    entries = _expand_key(key, len(shape))
    if entries is None or len(entries) > len(shape):
        _unsupported(node, "with a key other than ints, slices and ... has no ONNX mapping")
    region, pads_begin, pads_end, int_dims, mask = [], [], [], [], None
    for d, k in enumerate(entries):
        if isinstance(k, slice) and k.step not in (None, 1):
            _unsupported(node, "with a slice step other than 1 has no ONNX mapping")
        running = SymSize("size", target, d)
        if not isinstance(k, slice):
            int_dims.append(d)
        elif (k.start or 0) == 0 and (k.stop is None or (not isinstance(k.stop, SymSize)
                                                          and k.stop >= shape[d])):
            region.append(running)          # the whole dim
            pads_begin.append(0)
            pads_end.append(0)
            continue
        start, stop = _bounds(k, running, shape[d])
        region.append(_size_op("sub", stop, start))
        pads_begin.append(start)
        pads_end.append(_size_op("sub", running, stop))
        positions = b.add("Range", [b.scalar(0, ember.int64), b.sym(running),
                                    b.scalar(1, ember.int64)])
        inside = b.add("And", [b.add("GreaterOrEqual", [positions,
                                                         b.operand(start, ember.int64)]),
                               b.add("Less", [positions, b.operand(stop, ember.int64)])])
        other = [e for e in range(len(shape)) if e != d]
        inside = b.unsqueeze(inside, other) if other else inside
        mask = inside if mask is None else b.add("And", [mask, inside])
    v = b.operand(value, target.dtype)
    indexed_rank = len(shape) - len(int_dims)
    value_rank = len(value.shape) if isinstance(value, Value) else 0
    if value_rank < indexed_rank:
        v = b.unsqueeze(v, list(range(indexed_rank - value_rank)))
    if int_dims:
        v = b.unsqueeze(v, int_dims)
    v = b.add("Expand", [v, b.shape_vector(region)])
    if mask is not None:
        v = b.add("Pad", [v, b.shape_vector(pads_begin + pads_end)])
        v = b.add("Where", [mask, v, b.value(target)])
    _out(b, node, v)


# ------------------------------------------------------------------ linear algebra
@_emitter("op", "matmul", "mm", "bmm", "mv", "dot")
def _matmul(b, node):
    _out(b, node, b.add("MatMul", [b.value(node.args[0]), b.value(node.args[1])]))


@_emitter("op", "addmm", "baddbmm", "addmv")
def _addmm(b, node):
    p = _params(node, ("input", "mat1", "mat2", "beta", "alpha"), {"beta": 1, "alpha": 1})
    dtype = node.outputs[0].dtype
    if node.op == "addmm" and len(p["input"].shape) <= 2:
        _out(b, node, b.add("Gemm", [b.value(p["mat1"]), b.value(p["mat2"]), b.value(p["input"])],
                            alpha=float(p["alpha"]), beta=float(p["beta"])))
        return
    product = b.add("MatMul", [b.value(p["mat1"]), b.value(p["mat2"])])
    bias = b.value(p["input"])
    if p["alpha"] != 1:
        product = b.add("Mul", [product, b.scalar(p["alpha"], dtype)])
    if p["beta"] != 1:
        bias = b.add("Mul", [bias, b.scalar(p["beta"], dtype)])
    _out(b, node, b.add("Add", [bias, product]))


# ------------------------------------------------------------------ joins and splits
@_emitter("op", "cat", "stack")
def _cat(b, node):
    p = _params(node, ("tensors", "dim"), {"dim": 0})
    tensors = list(p["tensors"])
    names = [b.value(t) for t in tensors]
    if node.op == "stack":
        axis = _axis(p["dim"], len(tensors[0].shape) + 1)
        names = [b.unsqueeze(n, [axis]) for n in names]
    else:
        axis = _axis(p["dim"], len(tensors[0].shape))
    _out(b, node, b.add("Concat", names, axis=axis))


@_emitter("op", "split", "unbind")
def _split(b, node):
    x = node.args[0]
    if node.op == "unbind":
        dim = _params(node, ("input", "dim"), {"dim": 0})["dim"]
    else:
        dim = _params(node, ("input", "split_size", "dim"), {"dim": 0})["dim"]
    axis = _axis(dim, len(x.shape))
    sizes = [v.shape[axis] for v in node.outputs]
    if len(sizes) == 1:
        names = [b.add("Identity", [b.value(x)])]
    else:
        names = b.add("Split", [b.value(x), b.ints(sizes)], n_outputs=len(sizes), axis=axis)
    for k, name in enumerate(names):
        _out(b, node, b.squeeze(name, [axis]) if node.op == "unbind" else name, k)


@_emitter("op", "index_select")
def _index_select(b, node):
    x, dim, index = node.args[:3]
    _out(b, node, b.add("Gather", [b.value(x), b.value(index)], axis=_axis(dim, len(x.shape))))


@_emitter("op", "gather")
def _gather(b, node):
    x, dim, index = node.args[:3]
    _out(b, node, b.add("GatherElements", [b.value(x), b.value(index)],
                        axis=_axis(dim, len(x.shape))))


@_emitter("op", "scatter", "scatter_add")
def _scatter(b, node):
    p = _params(node, ("input", "dim", "index", "src"))
    x, index, src = p["input"], p["index"], p["src"]
    dtype = node.outputs[0].dtype
    if not isinstance(src, Value):          # a number: broadcast to the index's shape
        src = b.add("Expand", [b.operand(src, dtype), b.shape_of(index)])
    else:
        src = b.value(src)
        if tuple(p["src"].shape) != tuple(index.shape):
            src = b.add("Slice", [src, b.ints([0] * len(index.shape)), b.shape_of(index),
                                  b.ints(range(len(index.shape)))])
    reduction = "add" if node.op == "scatter_add" else None
    if p.get("reduce") is not None:
        _unsupported(node, "with reduce= has no ONNX mapping")
    _out(b, node, b.add("ScatterElements", [b.value(x), b.value(index), src],
                        axis=_axis(p["dim"], len(x.shape)), reduction=reduction))


@_emitter("op", "index_put", "index_put_")
def _index_put(b, node):
    """``index_put(x, (i0, i1, ...), v, accumulate)`` with integer index tensors for the
    leading dims: ``ScatterND`` with the indices (broadcast together, negative ones
    counted from the end) stacked on a last axis, and ``v`` broadcast to the region."""
    p = _params(node, ("input", "indices", "values", "accumulate"), {"accumulate": False})
    x, indices = p["input"], list(p["indices"])
    if not indices or any(not isinstance(i, Value) or i.dtype in (ember.bool, ember.uint8)
                          for i in indices) or len(indices) > len(x.shape):
        _unsupported(node, "has an ONNX mapping for integer index tensors of the leading "
                     "dims only (no None, slices or boolean masks)")
    names = []
    for d, index in enumerate(indices):
        name = b.operand(index, ember.int64)
        size = b.sym(SymSize("size", x, d))
        negative = b.add("Less", [name, b.scalar(0, ember.int64)])
        names.append(b.add("Where", [negative, b.add("Add", [name, size]), name]))
    if len({tuple(i.shape) for i in indices}) > 1:
        # broadcast to the shape of their sum (the running shapes, not the traced ones;
        # ONNX's Sum takes no integers)
        total = names[0]
        for name in names[1:]:
            total = b.add("Add", [total, name])
        common = b.add("Shape", [total])
        names = [b.add("Expand", [n, common]) for n in names]
    stacked = b.add("Concat", [b.unsqueeze(n, [-1]) for n in names], axis=-1)
    region = b.add("Concat", [b.add("Shape", [names[0]]),
                              b.add("Shape", [b.value(x)], start=len(indices))], axis=0)
    values = b.add("Expand", [b.operand(p["values"], x.dtype), region])
    _out(b, node, b.add("ScatterND", [b.value(x), stacked, values],
                        reduction="add" if p["accumulate"] else None))


@_emitter("op", "masked_fill", "masked_fill_")
def _masked_fill(b, node):
    # the in-place form too: the trace gives its result a new value, as ONNX needs
    x, mask, value = node.args[:3]
    dtype = node.outputs[0].dtype
    _out(b, node, b.add("Where", [b.value(mask), b.operand(value, dtype), b.value(x)]))


# ------------------------------------------------------------------ creation
def _fill_value(number, dtype):
    """A one-element ONNX tensor (ConstantOfShape's ``value``)."""
    array = np.array([number]).astype(_NUMPY_OF[str(dtype).replace("ember.", "")])
    return numpy_helper.from_array(array, "value")


@_emitter("op", "zeros", "ones", "full")
def _filled(b, node):
    """Tensors made with sizes read from the inputs (ember.jit records those)."""
    args = node.args
    sizes = args[0] if len(args) >= 1 and isinstance(args[0], (tuple, list)) else args
    if node.op == "full":
        sizes, fill = args[0], args[1]
    else:
        fill = 0 if node.op == "zeros" else 1
    dtype = node.outputs[0].dtype
    if isinstance(fill, (Value, SymSize)):      # a size: broadcast
        _out(b, node, b.add("Expand", [b.operand(fill, dtype), b.shape_vector(sizes)]))
        return
    _out(b, node, b.add("ConstantOfShape", [b.shape_vector(sizes)],
                        value=_fill_value(fill, dtype)))


@_emitter("op", "zero_", "fill_", "zeros_like", "ones_like", "full_like")
def _fill_in_place(b, node):
    """``x.zero_()`` / ``x.fill_(v)`` on a computed tensor, or ``zeros_like(x)`` and the
    like: a new value of its shape."""
    x = node.args[0]
    fill = {"zero_": 0, "zeros_like": 0, "ones_like": 1}.get(node.op)
    if fill is None:
        fill = node.args[1]
    dtype = node.outputs[0].dtype
    if isinstance(fill, (Value, SymSize)):      # a 0-d tensor (or size) as the value
        _out(b, node, b.add("Expand", [b.operand(fill, dtype), b.shape_of(x)]))
        return
    _out(b, node, b.add("ConstantOfShape", [b.shape_of(x)],
                        value=_fill_value(fill, dtype)))


@_emitter("op", "arange")
def _arange(b, node):
    p = _params(node, ("start", "end", "step"), {"step": 1})
    dtype = node.outputs[0].dtype
    _out(b, node, b.add("Range", [b.operand(p["start"], dtype), b.operand(p["end"], dtype),
                                  b.operand(p["step"], dtype)]))


@_emitter("op", "to")
def _to(b, node):
    x = node.args[0]
    out = node.outputs[0]
    if str(out.dtype) == str(x.dtype):
        _out(b, node, b.add("Identity", [b.value(x)]))
        return
    _out(b, node, b.add("Cast", [b.value(x)], to=onnx_type(out.dtype)))


@_emitter("op", "clone", "contiguous", "detach")
def _clone(b, node):
    _out(b, node, b.add("Identity", [b.value(node.args[0])]))


# ------------------------------------------------------------------ reductions
def _reduce_axes(dim, ndim):
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return [_axis(d, ndim) for d in dims]


@_emitter("op", "sum", "mean", "prod", "amax", "amin", "logsumexp")
def _reduce(b, node):
    p = _params(node, ("input", "dim", "keepdim", "dtype"), {"dim": None, "keepdim": False})
    x = p["input"]
    op_type = {"sum": "ReduceSum", "mean": "ReduceMean", "prod": "ReduceProd",
               "amax": "ReduceMax", "amin": "ReduceMin", "logsumexp": "ReduceLogSumExp"}[node.op]
    name = b.operand(x, node.outputs[0].dtype)
    axes = _reduce_axes(p["dim"], len(x.shape)) or None      # dim=() reduces every dim
    _out(b, node, b.reduce(op_type, name, axes, p["keepdim"]))


@_emitter("op", "max", "min")
def _max(b, node):
    p = _params(node, ("input", "dim", "keepdim"), {"dim": None, "keepdim": False})
    x, dim = p["input"], p["dim"]
    if isinstance(dim, Value):
        _out(b, node, b.add("Max" if node.op == "max" else "Min", [b.value(x), b.value(dim)]))
        return
    op_type = "ReduceMax" if node.op == "max" else "ReduceMin"
    axes = _reduce_axes(dim, len(x.shape))
    _out(b, node, b.reduce(op_type, b.value(x), axes, p["keepdim"]))
    if len(node.outputs) > 1:
        arg = "ArgMax" if node.op == "max" else "ArgMin"
        _out(b, node, b.add(arg, [b.value(x)], axis=axes[0], keepdims=int(bool(p["keepdim"])),
                            select_last_index=0), 1)


@_emitter("op", "argmax", "argmin")
def _argmax(b, node):
    p = _params(node, ("input", "dim", "keepdim"), {"dim": None, "keepdim": False})
    x, dim = p["input"], p["dim"]
    name = b.value(x)
    if dim is None:         # over the flattened tensor: a 0-d index
        name, axis, keep = b.add("Reshape", [name, b.ints([-1])]), 0, 0
    else:
        axis, keep = _axis(dim, len(x.shape)), int(bool(p["keepdim"]))
    _out(b, node, b.add("ArgMax" if node.op == "argmax" else "ArgMin", [name], axis=axis,
                        keepdims=keep, select_last_index=0))


@_emitter("op", "topk", "sort")
def _topk(b, node):
    """TopK (its ties keep the lower index first, as ember's stable sort does); sort is
    the top-k of the whole dim."""
    x = node.args[0]
    if node.op == "topk":
        k, dim, largest = node.args[1:4]
        axis, k = _axis(dim, len(x.shape)), b.ints([k])
    else:
        dim, largest = node.args[1:3]
        axis = _axis(dim, len(x.shape))
        k = b.add("Slice", [b.shape_of(x), b.ints([axis]), b.ints([axis + 1])])
    values = b.add("TopK", [b.value(x), k], axis=axis,
                   n_outputs=2, largest=int(bool(largest)), sorted=1)
    _out(b, node, values[0], 0)
    _out(b, node, values[1], 1)


@_emitter("op", "var", "std")
def _var(b, node):
    p = _params(node, ("input", "dim", "unbiased", "keepdim"),
                {"dim": None, "unbiased": None, "keepdim": False, "correction": None})
    x = p["input"]
    correction = p["correction"]
    if correction is None:
        correction = 1 if p["unbiased"] is None or p["unbiased"] else 0
    axes = _reduce_axes(p["dim"], len(x.shape)) or list(range(len(x.shape)))
    count = int(np.prod([x.shape[a] for a in axes]))
    dtype = node.outputs[0].dtype
    name = b.value(x)
    centered = b.add("Sub", [name, b.reduce("ReduceMean", name, axes, True)])
    total = b.reduce("ReduceSum", b.add("Mul", [centered, centered]), axes, p["keepdim"])
    result = b.add("Div", [total, b.scalar(max(count - correction, 0), dtype)])
    _out(b, node, b.add("Sqrt", [result]) if node.op == "std" else result)


@_emitter("op", "norm")
def _norm(b, node):
    p = _params(node, ("input", "p", "dim", "keepdim", "dtype"),
                {"p": "fro", "dim": None, "keepdim": False})
    x = p["input"]
    order = p["p"]
    axes = _reduce_axes(p["dim"], len(x.shape))
    if order in ("fro", 2, 2.0):
        op_type = "ReduceL2"
    elif order in (1, 1.0):
        op_type = "ReduceL1"
    else:
        _unsupported(node, f"with p={order!r} has no ONNX mapping")
    _out(b, node, b.reduce(op_type, b.value(x), axes, p["keepdim"]))


@_emitter("op", "softmax", "log_softmax")
def _softmax(b, node):
    p = _params(node, ("input", "dim", "dtype"))
    x = p["input"]
    name = b.operand(x, node.outputs[0].dtype)
    op_type = "Softmax" if node.op == "softmax" else "LogSoftmax"
    _out(b, node, b.add(op_type, [name], axis=_axis(p["dim"], len(x.shape)) if x.shape else 0))


@_emitter("op", "cumprod")
def _cumprod(b, node):
    """Products of the prefixes: each output position multiplies (``ReduceProd``) its
    row of a triangle holding the input where ``j <= i`` and 1 elsewhere.  The factors
    are the input's own, so zeros, signs, infinities and NaNs come out as in eager (no
    logarithms); the triangle takes ``n`` times the input's memory along ``dim``."""
    p = _params(node, ("input", "dim", "dtype"))
    x = p["input"]
    dtype = node.outputs[0].dtype
    name = b.operand(x, dtype)
    ndim = len(x.shape)
    if ndim == 0:
        _out(b, node, b.add("Identity", [name]))
        return
    axis = _axis(p["dim"], ndim)
    positions = b.add("Range", [b.scalar(0, ember.int64), b.sym(SymSize("size", x, axis)),
                                b.scalar(1, ember.int64)])
    # keep[i, j] = j <= i, with the dims after ``dim`` as ones to broadcast
    keep = b.add("LessOrEqual", [b.unsqueeze(positions, [0]), b.unsqueeze(positions, [1])])
    trailing = ndim - axis - 1
    if trailing:
        keep = b.unsqueeze(keep, list(range(2, 2 + trailing)))
    factors = b.add("Where", [keep, b.unsqueeze(name, [axis]), b.scalar(1, dtype)])
    _out(b, node, b.reduce("ReduceProd", factors, [axis + 1], False))


@_emitter("op", "cumsum")
def _cumsum(b, node):
    p = _params(node, ("input", "dim", "dtype"))
    x = p["input"]
    _out(b, node, b.add("CumSum", [b.operand(x, node.outputs[0].dtype),
                                   b.scalar(_axis(p["dim"], len(x.shape)), ember.int64)]))
