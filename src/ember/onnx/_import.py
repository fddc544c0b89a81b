"""``ember.onnx.load``: an ONNX model as an ember module that interprets its graph.

The file is data only: each node's ``op_type`` is looked up in the table ``_OPS`` below
(ember functions written in this file); an operator outside it is refused when the model
is loaded.  Nothing from the file reaches ``getattr``, ``eval`` or an import.
"""
import math

import numpy as np
import onnx
from onnx import helper, numpy_helper

import ember
from ember import nn
from ember.nn import functional as F
from ember.ops import rnn as _rnn

__all__ = ["OnnxModule", "load"]

_OPS = {}


def _op(*names):
    def register(fn):
        for name in names:
            _OPS[name] = fn
        return fn
    return register


def _tensor(array):
    return ember.from_numpy(np.array(array, copy=True))


def _ints(t):
    return [int(v) for v in (t.tolist() if isinstance(t, ember.Tensor) else t)]


# ------------------------------------------------------------------ elementwise
_UNARY = {
    "Neg": ember.neg, "Abs": ember.abs, "Sign": ember.sign, "Reciprocal": ember.reciprocal,
    "Sqrt": ember.sqrt, "Exp": ember.exp, "Log": ember.log, "Sin": ember.sin,
    "Cos": ember.cos, "Tan": ember.tan, "Asin": ember.asin, "Acos": ember.acos,
    "Atan": ember.atan, "Sinh": ember.sinh, "Cosh": ember.cosh, "Asinh": ember.asinh,
    "Acosh": ember.acosh, "Atanh": ember.atanh, "Tanh": ember.tanh, "Sigmoid": ember.sigmoid,
    "Erf": ember.erf, "Floor": ember.floor, "Ceil": ember.ceil, "Round": ember.round,
    "Relu": ember.relu, "IsNaN": ember.isnan, "IsInf": ember.isinf,
    "Not": ember.logical_not, "BitwiseNot": ember.bitwise_not, "Softsign": F.softsign,
    "Softplus": F.softplus, "HardSwish": F.hardswish, "Identity": lambda x: x,
}
_BINARY = {
    "Add": ember.add, "Sub": ember.sub, "Mul": ember.mul, "Pow": ember.pow,
    "Equal": ember.eq, "Less": ember.lt, "LessOrEqual": ember.le, "Greater": ember.gt,
    "GreaterOrEqual": ember.ge, "And": ember.logical_and, "Or": ember.logical_or,
    "Xor": ember.logical_xor, "BitwiseAnd": ember.bitwise_and,
    "BitwiseOr": ember.bitwise_or, "BitwiseXor": ember.bitwise_xor,
}
for _name, _fn in _UNARY.items():
    _OPS[_name] = (lambda fn: lambda x, **attrs: fn(x))(_fn)
for _name, _fn in _BINARY.items():
    _OPS[_name] = (lambda fn: lambda a, b, **attrs: fn(a, b))(_fn)


@_op("Div")
def _div(a, b):
    if a.is_floating_point() or b.is_floating_point():
        return ember.div(a, b)
    return ember.div(a, b, rounding_mode="trunc")


@_op("Min", "Max")
def _min_max(*xs, op_type):
    fn = ember.minimum if op_type == "Min" else ember.maximum
    result = xs[0]
    for x in xs[1:]:
        result = fn(result, x)
    return result


@_op("Mod")
def _mod(a, b, fmod=0):
    return ember.fmod(a, b) if fmod else ember.remainder(a, b)


@_op("Where")
def _where(cond, a, b):
    return ember.where(cond, a, b)


@_op("Clip")
def _clip(x, low=None, high=None):
    return ember.clamp(x, None if low is None else low.item(),
                       None if high is None else high.item())


@_op("LeakyRelu")
def _leaky_relu(x, alpha=0.01):
    return F.leaky_relu(x, alpha)


@_op("Elu")
def _elu(x, alpha=1.0):
    return F.elu(x, alpha)


@_op("Celu")
def _celu(x, alpha=1.0):
    return F.celu(x, alpha)


@_op("Selu")
def _selu(x, alpha=1.67326319217681884765625, gamma=1.05070102214813232421875):
    return gamma * ember.where(x > 0, x, alpha * (ember.exp(x) - 1))


@_op("HardSigmoid")
def _hard_sigmoid(x, alpha=0.2, beta=0.5):
    return ember.clamp(x * alpha + beta, 0.0, 1.0)


@_op("Shrink")
def _shrink(x, lambd=0.5, bias=0.0):
    return ember.where(x < -lambd, x + bias, ember.where(x > lambd, x - bias,
                                                         ember.zeros_like(x)))


@_op("Cast")
def _cast(x, to):
    return x.to(_DTYPES[to])


_DTYPES = {
    onnx.TensorProto.FLOAT: ember.float32, onnx.TensorProto.DOUBLE: ember.float64,
    onnx.TensorProto.FLOAT16: ember.float16, onnx.TensorProto.INT64: ember.int64,
    onnx.TensorProto.INT32: ember.int32, onnx.TensorProto.INT16: ember.int16,
    onnx.TensorProto.INT8: ember.int8, onnx.TensorProto.UINT8: ember.uint8,
    onnx.TensorProto.UINT16: ember.uint16, onnx.TensorProto.UINT32: ember.uint32,
    onnx.TensorProto.UINT64: ember.uint64,
    onnx.TensorProto.BOOL: ember.bool,
}


# ------------------------------------------------------------------ shapes and views
@_op("Shape")
def _shape(x, start=0, end=None):
    return ember.tensor(list(x.shape)[start:end], dtype=ember.int64)


@_op("Reshape")
def _reshape(x, shape, allowzero=0):
    sizes = _ints(shape)
    if not allowzero:
        sizes = [x.shape[d] if s == 0 else s for d, s in enumerate(sizes)]
    return x.reshape(tuple(sizes))


@_op("Flatten")
def _flatten(x, axis=1):
    axis = axis + x.dim() if axis < 0 else axis
    return x.reshape((math.prod(x.shape[:axis]), -1))


@_op("Transpose")
def _transpose(x, perm=None):
    return x.permute(tuple(perm) if perm is not None else tuple(range(x.dim() - 1, -1, -1)))


@_op("Squeeze")
def _squeeze(x, axes=None):
    if axes is None:
        return x.squeeze()
    return x.squeeze(tuple(_ints(axes)))


@_op("Unsqueeze")
def _unsqueeze(x, axes):
    ndim = x.dim() + len(_ints(axes))
    for axis in sorted(a + ndim if a < 0 else a for a in _ints(axes)):
        x = x.unsqueeze(axis)
    return x


@_op("Expand")
def _expand(x, shape):
    return x.expand(ember.broadcast_shapes(tuple(x.shape), tuple(_ints(shape))))


@_op("Concat")
def _concat(*xs, axis):
    return ember.cat(list(xs), axis)


@_op("Split")
def _split(x, split=None, axis=0, num_outputs=None):
    if split is not None:
        return ember.split(x, _ints(split), axis)
    size = -(-x.shape[axis] // num_outputs)
    return ember.split(x, size, axis)


@_op("Slice")
def _slice(x, starts, ends, axes=None, steps=None):
    starts, ends = _ints(starts), _ints(ends)
    axes = list(range(len(starts))) if axes is None else _ints(axes)
    steps = [1] * len(starts) if steps is None else _ints(steps)
    key = [slice(None)] * x.dim()
    for start, end, axis, step in zip(starts, ends, axes, steps):
        size = x.shape[axis]
        start, end, _ = slice(start, end, step).indices(size)
        if step < 0:
            # a reversed slice: flip, then take the forward slice
            x = x.flip(axis)
            start, end = size - 1 - start, size - 1 - end
            step = -step
        key[axis] = slice(start, max(end, start), step)
    return x[tuple(key)]


@_op("Gather")
def _gather(x, index, axis=0):
    axis = axis + x.dim() if axis < 0 else axis
    index = ember.where(index < 0, index + x.shape[axis], index)
    flat = x.index_select(axis, index.reshape(-1))
    return flat.reshape(tuple(x.shape[:axis]) + tuple(index.shape) + tuple(x.shape[axis + 1:]))


@_op("GatherElements")
def _gather_elements(x, index, axis=0):
    return ember.gather(x, axis, ember.where(index < 0, index + x.shape[axis], index))


@_op("ScatterElements")
def _scatter_elements(x, index, updates, axis=0, reduction="none"):
    reduction = reduction.decode() if isinstance(reduction, bytes) else reduction
    if reduction not in ("none", "add"):
        raise ValueError(f"ember.onnx: ScatterElements with reduction={reduction!r} is not "
                         "supported")
    index = ember.where(index < 0, index + x.shape[axis], index)
    fn = ember.scatter_add if reduction == "add" else ember.scatter
    return fn(x, axis, index, updates)


@_op("ScatterND")
def _scatter_nd(x, indices, updates, reduction="none"):
    """``x`` with ``updates`` put at the index tuples of ``indices``' last axis."""
    reduction = reduction.decode() if isinstance(reduction, bytes) else reduction
    if reduction not in ("none", "add"):
        raise ValueError(f"ember.onnx: ScatterND with reduction={reduction!r} is not supported")
    columns = tuple(indices.select(-1, k) for k in range(indices.shape[-1]))
    columns = tuple(ember.where(c < 0, c + x.shape[d], c) for d, c in enumerate(columns))
    return ember.index_put(x, columns, updates, reduction == "add")


@_op("ConstantOfShape")
def _constant_of_shape(shape, value=None):
    fill = numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
    return _tensor(np.full(tuple(_ints(shape)), fill[0], dtype=fill.dtype))


@_op("Range")
def _range(start, limit, delta):
    return ember.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype)


@_op("Pad")
def _pad(x, pads, constant_value=None, axes=None, mode="constant"):
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in ("constant", "reflect", "edge"):
        raise ValueError(f"ember.onnx: Pad with mode={mode!r} is not supported")
    pads = _ints(pads)
    axes = list(range(x.dim())) if axes is None else [a + x.dim() if a < 0 else a
                                                       for a in _ints(axes)]
    begins = dict(zip(axes, pads[:len(axes)]))
    ends = dict(zip(axes, pads[len(axes):]))
    last = max((a for a in axes if begins[a] or ends[a]), default=None)
    if last is None:
        return x
    torch_pads = []
    for axis in range(x.dim() - 1, min(a for a in axes if begins[a] or ends[a]) - 1, -1):
        torch_pads += [begins.get(axis, 0), ends.get(axis, 0)]
    value = 0.0 if constant_value is None else constant_value.item()
    if mode == "constant":
        return F.pad(x, torch_pads, "constant", value)
    return F.pad(x, torch_pads, "reflect" if mode == "reflect" else "replicate")


@_op("CumSum")
def _cumsum(x, axis, exclusive=0, reverse=0):
    if exclusive or reverse:
        raise ValueError("ember.onnx: CumSum with exclusive or reverse is not supported")
    return ember.cumsum(x, int(axis.item()))


@_op("Constant")
def _constant(value):
    return _tensor(numpy_helper.to_array(value))


# ------------------------------------------------------------------ linear algebra, reductions
@_op("MatMul")
def _matmul(a, b):
    return ember.matmul(a, b)


@_op("Gemm")
def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    product = ember.matmul(a.t() if transA else a, b.t() if transB else b)
    if alpha != 1.0:
        product = product * alpha
    if c is None:
        return product
    return product + (c * beta if beta != 1.0 else c)


_REDUCE = {
    "ReduceSum": lambda x, axes, keep: x.sum(dim=axes, keepdim=keep),
    "ReduceMean": lambda x, axes, keep: x.mean(dim=axes, keepdim=keep),
    "ReduceMax": lambda x, axes, keep: x.amax(dim=axes, keepdim=keep),
    "ReduceMin": lambda x, axes, keep: x.amin(dim=axes, keepdim=keep),
    "ReduceL1": lambda x, axes, keep: x.abs().sum(dim=axes, keepdim=keep),
    "ReduceL2": lambda x, axes, keep: ember.sqrt((x * x).sum(dim=axes, keepdim=keep)),
    "ReduceLogSumExp": lambda x, axes, keep: ember.logsumexp(x, dim=axes, keepdim=keep),
    "ReduceProd": lambda x, axes, keep: _prod(x, axes, keep),
}


def _prod(x, axes, keep):
    for axis in sorted(axes, reverse=True):
        x = x.prod(dim=axis, keepdim=keep)
    return x


@_op(*_REDUCE)
def _reduce(x, axes_input=None, axes=None, keepdims=1, noop_with_empty_axes=0, *, op_type):
    if axes_input is not None:
        axes = _ints(axes_input)
    if not axes:
        if noop_with_empty_axes:
            return x
        axes = list(range(x.dim()))
    return _REDUCE[op_type](x, tuple(axes), bool(keepdims))


@_op("ArgMax", "ArgMin")
def _arg(x, axis=0, keepdims=1, select_last_index=0, *, op_type):
    if select_last_index:
        raise ValueError(f"ember.onnx: {op_type} with select_last_index is not supported")
    fn = ember.argmax if op_type == "ArgMax" else ember.argmin
    return fn(x, dim=axis, keepdim=bool(keepdims))


@_op("TopK")
def _topk(x, k, axis=-1, largest=1, sorted=1):
    """Values and indices (ties: the lower index first, as ONNX specifies and ember's
    stable sort gives)."""
    values, indices = ember.topk(x, int(k.reshape(-1)[0].item()), dim=axis,
                                 largest=bool(largest))
    return values, indices


@_op("Softmax", "LogSoftmax")
def _softmax(x, axis=-1, *, op_type):
    return (F.softmax if op_type == "Softmax" else F.log_softmax)(x, dim=axis)


# ------------------------------------------------------------------ nn
def _symmetric_padding(x, pads):
    """ONNX ``pads`` (all begins, then all ends) as a symmetric padding, padding ``x``
    first where begins and ends differ."""
    spatial = len(pads) // 2
    begins, ends = pads[:spatial], pads[spatial:]
    if begins == ends:
        return x, begins
    extra = []
    for begin, end in zip(reversed(begins), reversed(ends)):
        extra += [begin, end]
    return F.pad(x, extra), [0] * spatial


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _check_auto_pad(auto_pad, op_type):
    if auto_pad not in ("NOTSET", b"NOTSET"):
        raise ValueError(f"ember.onnx: {op_type} with auto_pad={auto_pad!r} is not supported")


@_op("Conv")
def _conv(x, w, b=None, kernel_shape=None, strides=None, pads=None, dilations=None, group=1,
          auto_pad="NOTSET"):
    spatial = w.dim() - 2
    _check_auto_pad(auto_pad, "Conv")
    x, padding = _symmetric_padding(x, pads or [0] * (2 * spatial))
    return _CONV[spatial](x, w, b, strides or 1, padding, dilations or 1, group)


@_op("ConvTranspose")
def _conv_transpose(x, w, b=None, kernel_shape=None, strides=None, pads=None, dilations=None,
                    group=1, output_padding=None, auto_pad="NOTSET", output_shape=None):
    spatial = w.dim() - 2
    _check_auto_pad(auto_pad, "ConvTranspose")
    pads = pads or [0] * (2 * spatial)
    if output_shape is not None or pads[:spatial] != pads[spatial:]:
        raise ValueError("ember.onnx: ConvTranspose with output_shape or asymmetric pads is "
                         "not supported")
    return _CONV_T[spatial](x, w, b, strides or 1, pads[:spatial], output_padding or 0, group,
                            dilations or 1)


@_op("MaxPool")
def _max_pool(x, kernel_shape, strides=None, pads=None, dilations=None, ceil_mode=0,
              auto_pad="NOTSET", storage_order=0, *, n_outputs=1):
    spatial = len(kernel_shape)
    _check_auto_pad(auto_pad, "MaxPool")
    pads = pads or [0] * (2 * spatial)
    if pads[:spatial] != pads[spatial:] or storage_order:
        raise ValueError("ember.onnx: MaxPool with asymmetric pads or storage_order=1 is not "
                         "supported")
    pooled = _MAX_POOL[spatial](x, kernel_shape, strides or 1, pads[:spatial], dilations or 1,
                                bool(ceil_mode), return_indices=n_outputs > 1)
    if n_outputs == 1:
        return pooled
    values, indices = pooled
    # ONNX numbers the positions of the whole tensor, ember those of each plane
    planes = ember.arange(x.shape[0] * x.shape[1], dtype=ember.int64)
    offsets = planes.reshape((x.shape[0], x.shape[1]) + (1,) * spatial) * \
        math.prod(x.shape[2:])
    return values, indices + offsets


@_op("AveragePool")
def _avg_pool(x, kernel_shape, strides=None, pads=None, ceil_mode=0, count_include_pad=0,
              auto_pad="NOTSET", dilations=None):
    spatial = len(kernel_shape)
    _check_auto_pad(auto_pad, "AveragePool")
    pads = pads or [0] * (2 * spatial)
    if pads[:spatial] != pads[spatial:] or any(d != 1 for d in dilations or []):
        raise ValueError("ember.onnx: AveragePool with asymmetric pads or dilations is not "
                         "supported")
    return _AVG_POOL[spatial](x, kernel_shape, strides or 1, pads[:spatial], bool(ceil_mode),
                              bool(count_include_pad))


# GridSample's modes: opset 16's names and opset 20's
_GRID_MODES = {"bilinear": "bilinear", "linear": "bilinear", "nearest": "nearest",
               "bicubic": "bicubic", "cubic": "bicubic"}


@_op("GridSample")
def _grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=0):
    mode, padding_mode = (v.decode() if isinstance(v, bytes) else v for v in (mode, padding_mode))
    if mode not in _GRID_MODES:
        raise ValueError(f"ember.onnx: GridSample with mode={mode!r} is not supported")
    return F.grid_sample(x, grid, _GRID_MODES[mode], padding_mode, bool(align_corners))


@_op("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(x, *, op_type):
    axes = tuple(range(2, x.dim()))
    return x.mean(dim=axes, keepdim=True) if op_type == "GlobalAveragePool" else \
        x.amax(dim=axes, keepdim=True)


@_op("BatchNormalization")
def _batch_norm(x, scale, bias, mean, var, epsilon=1e-5, momentum=0.9, training_mode=0):
    if training_mode:
        raise ValueError("ember.onnx: BatchNormalization in training mode is not supported")
    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, epsilon)


@_op("LayerNormalization")
def _layer_norm(x, scale, bias=None, axis=-1, epsilon=1e-5, stash_type=1):
    axis = axis + x.dim() if axis < 0 else axis
    return F.layer_norm(x, tuple(x.shape[axis:]), scale, bias, epsilon)


@_op("InstanceNormalization")
def _instance_norm(x, scale, bias, epsilon=1e-5):
    return F.instance_norm(x, weight=scale, bias=bias, eps=epsilon)


# ember's gate blocks as ONNX orders them (see the exporter)
_GATE_ORDER = {"RNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}


@_op("LSTM", "GRU", "RNN")
def _recurrent(x, w, r, b=None, sequence_lens=None, initial_h=None, initial_c=None, P=None,
               hidden_size=None, direction="forward", activations=None, linear_before_reset=0,
               layout=0, clip=None, input_forget=0, activation_alpha=None,
               activation_beta=None, *, op_type):
    if sequence_lens is not None or P is not None or clip is not None or input_forget or layout:
        raise ValueError(f"ember.onnx: {op_type} with sequence_lens, peepholes, clip, "
                         "input_forget or layout=1 is not supported")
    if op_type == "GRU" and not linear_before_reset:
        raise ValueError("ember.onnx: GRU needs linear_before_reset=1 (PyTorch's GRU)")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    mode = {"LSTM": 2, "GRU": 3}.get(op_type)
    if mode is None:
        names = [a.decode() if isinstance(a, bytes) else a for a in (activations or ["Tanh"])]
        if names[0] not in ("Tanh", "Relu"):
            raise ValueError(f"ember.onnx: RNN activation {names[0]!r} is not supported")
        mode = 0 if names[0] == "Tanh" else 1
    steps, batch = x.shape[0], x.shape[1]
    hidden = r.shape[-1]
    order = _GATE_ORDER[op_type]
    rows = ember.tensor(np.concatenate([np.arange(order.index(j) * hidden,
                                                  (order.index(j) + 1) * hidden)
                                        for j in range(len(order))]), dtype=ember.int64)
    directions = ["forward", "reverse"] if direction == "bidirectional" else [direction]
    batch_sizes = ember.tensor([batch] * steps, dtype=ember.int64)
    outs, hs, cs = [], [], []
    for k, name in enumerate(directions):
        gx = x.reshape((steps * batch, -1)).matmul(w[k].index_select(0, rows).t())
        gates = rows.shape[0]
        if b is not None:
            gx = gx + b[k, :gates].index_select(0, rows)
        zeros = ember.zeros((batch, hidden), dtype=x.dtype)
        h0 = initial_h[k] if initial_h is not None else zeros
        c0 = None
        if mode == 2:
            c0 = initial_c[k] if initial_c is not None else zeros
        b_hh = b[k, gates:].index_select(0, rows) if b is not None else None
        out, h_n, c_n = _rnn.rnn_layer(mode, gx.contiguous(), h0.contiguous(),
                                       None if c0 is None else c0.contiguous(),
                                       r[k].index_select(0, rows), b_hh, None, batch_sizes,
                                       name == "reverse")
        outs.append(out.reshape((steps, batch, hidden)))
        hs.append(h_n)
        cs.append(c_n)
    y = ember.stack(outs, 1)
    results = [y, ember.stack(hs, 0)]
    if mode == 2:
        results.append(ember.stack(cs, 0))
    return results


@_op("Scan")
def _scan(*inputs, body, num_scan_inputs, scan_input_axes=None, scan_input_directions=None,
          scan_output_axes=None, scan_output_directions=None, env):
    """The body run once per slice of the scanned inputs (their first axis), carrying the
    state values; the scan outputs stacked on a new first axis."""
    if any(any(v) for v in (scan_input_axes, scan_input_directions, scan_output_axes,
                            scan_output_directions) if v):
        raise ValueError("ember.onnx: Scan with other axes or directions than the first axis "
                         "forward is not supported")
    carried = list(inputs[:len(inputs) - num_scan_inputs])
    scanned = inputs[len(carried):]
    steps = scanned[0].shape[0]
    if steps == 0:
        raise ValueError("ember.onnx: Scan over no steps is not supported")
    stacked = [[] for _ in range(len(body.outputs) - len(carried))]
    for t in range(steps):
        results = body.run(env, carried + [x[t] for x in scanned])
        carried = results[:len(carried)]
        for found, value in zip(stacked, results[len(carried):]):
            found.append(value)
    return carried + [ember.stack(found, 0) for found in stacked]


# ------------------------------------------------------------------ graphs
class _Graph:
    """A graph's nodes with their attributes read (subgraphs made ``_Graph`` too), its
    input and output names; :meth:`run` evaluates it."""

    def __init__(self, graph):
        self.inputs = [i.name for i in graph.input]
        self.outputs = [o.name for o in graph.output]
        self.nodes = []
        for n in graph.node:
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            attrs = {k: _Graph(v) if isinstance(v, onnx.GraphProto) else v
                     for k, v in attrs.items()}
            self.nodes.append((n.op_type, list(n.input), list(n.output), attrs))

    def op_types(self):
        """Every operator of the graph and its subgraphs."""
        found = set()
        for op_type, _, _, attrs in self.nodes:
            found.add(op_type)
            for value in attrs.values():
                if isinstance(value, _Graph):
                    found |= value.op_types()
        return found

    def run(self, outer, inputs):
        """The outputs for ``inputs`` (in order), names of the enclosing graph visible in
        ``outer`` ({name: tensor}); returns a list."""
        env = dict(outer)
        env.update(zip(self.inputs, inputs))
        env[""] = None
        for op_type, names_in, names_out, attrs in self.nodes:
            fn = _OPS[op_type]
            args = [env[name] for name in names_in]
            while args and args[-1] is None:
                args.pop()
            wanted = fn.__code__.co_varnames[:fn.__code__.co_argcount +
                                             fn.__code__.co_kwonlyargcount]
            extra = {k: v for k, v in (("op_type", op_type), ("n_outputs", len(names_out)),
                                       ("env", env)) if k in wanted}
            if op_type in _REDUCE and len(args) > 1:
                args, attrs = [args[0]], dict(attrs, axes_input=args[1])
            result = fn(*args, **attrs, **extra)
            if len(names_out) == 1 and not isinstance(result, (list, tuple)):
                result = [result]
            for name, value in zip(names_out, result):
                env[name] = value
        return [env[name] for name in self.outputs]


# ------------------------------------------------------------------ the module
def _safe_attribute_name(name, taken):
    base = "".join(c if c.isalnum() else "_" for c in name)
    base = base if base and not base[0].isdigit() else "_" + base
    candidate, k = base, 1
    while candidate in taken:
        candidate, k = f"{base}_{k}", k + 1
    taken.add(candidate)
    return candidate


class OnnxModule(nn.Module):
    """An ONNX graph run by ember: each node calls the ember function of its operator;
    floating initializers are parameters, the others buffers (``onnx_names`` maps each
    attribute name back to the initializer's ONNX name).  Built by :func:`load`.

    Parameters
    ----------
    model_proto : onnx.ModelProto

    Attributes
    ----------
    input_names, output_names : list of str
        The graph's inputs (initializers excluded) and outputs, in order.
    onnx_names : dict
        Attribute name of each parameter or buffer -> its initializer's ONNX name.

    Examples
    --------
    >>> import onnx, ember
    >>> from onnx import TensorProto, helper
    >>> graph = helper.make_graph(
    ...     [helper.make_node("Relu", ["x"], ["y"])], "g",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    >>> module = ember.onnx.OnnxModule(helper.make_model(graph))
    >>> module(ember.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, model_proto):
        super().__init__()
        graph = model_proto.graph
        for opset in model_proto.opset_import:
            if opset.domain not in ("", "ai.onnx"):
                raise ValueError(f"ember.onnx.load: operator domain {opset.domain!r} is not "
                                 "supported")
        self._graph = _Graph(graph)
        unknown = sorted({n.op_type for n in graph.node if n.domain not in ("", "ai.onnx")} |
                         (self._graph.op_types() - set(_OPS)))
        if unknown:
            raise ValueError(f"ember.onnx.load: ONNX operators {unknown} are not supported")
        self.onnx_names = {}
        self._slots = {}                # ONNX name -> attribute name of an initializer
        taken = set()
        for init in graph.initializer:
            tensor = _tensor(numpy_helper.to_array(init))
            attribute = _safe_attribute_name(init.name, taken)
            if tensor.is_floating_point():
                self.register_parameter(attribute, nn.Parameter(tensor, requires_grad=False))
            else:
                self.register_buffer(attribute, tensor)
            self.onnx_names[attribute] = init.name
            self._slots[init.name] = attribute
        initializers = set(self._slots)
        self.input_names = [i.name for i in graph.input if i.name not in initializers]
        self.output_names = [o.name for o in graph.output]

    def forward(self, *inputs):
        """Run the graph on ``inputs`` (in the order of ``input_names``); one tensor, or a
        tuple for several outputs."""
        if len(inputs) != len(self.input_names):
            raise TypeError(f"the ONNX graph takes {len(self.input_names)} inputs "
                            f"({', '.join(self.input_names)}), {len(inputs)} given")
        env = {name: getattr(self, attribute) for name, attribute in self._slots.items()}
        env.update(zip(self.input_names, inputs))
        outputs = tuple(self._graph.run(env, [env[name] for name in self._graph.inputs]))
        return outputs[0] if len(outputs) == 1 else outputs


def load(f):
    """Read an ONNX model as an ember module (:class:`OnnxModule`) that runs its graph.

    Covers the operators :func:`ember.onnx.export` writes (and more of the same kinds:
    elementwise, shape, reductions, convolution and pooling, normalisation, LSTM/GRU/RNN),
    so exported models round-trip.  Loading runs no code from the file: operators are
    looked up by name in a fixed table.

    Parameters
    ----------
    f : str, os.PathLike or binary file object

    Returns
    -------
    OnnxModule
        Called with the graph's inputs in order (``input_names``); returns one tensor, or
        a tuple for several outputs.

    Raises
    ------
    ValueError
        When the graph uses an operator outside the table or another operator domain (at
        load), or a form of an operator that is not supported (when run).

    Examples
    --------
    >>> import io, ember, ember.onnx
    >>> from ember import nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.Tanh()).eval()
    >>> f = io.BytesIO()
    >>> ember.onnx.export(model, ember.randn(2, 4), f, input_names=["x"],
    ...                   dynamic_axes={"x": [0]})
    >>> _ = f.seek(0)
    >>> loaded = ember.onnx.load(f)
    >>> loaded.input_names, loaded.output_names
    (['x'], ['output'])
    >>> x = ember.randn(5, 4)
    >>> with ember.no_grad():
    ...     ember.allclose(loaded(x), model(x))
    True
    """
    model_proto = onnx.load_model(f) if hasattr(f, "read") else onnx.load_model(str(f))
    return OnnxModule(model_proto)
