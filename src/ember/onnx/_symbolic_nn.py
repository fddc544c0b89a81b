"""ONNX emitters of the ember ops behind ember.nn: convolutions, pooling, normalisation,
embedding and recurrent layers (see ``_symbolic`` for the table)."""
import numpy as np
from onnx import helper

import ember
from ember.jit._graph import SymSize, Value
from ember.onnx._builder import static_size
from ember.onnx._symbolic import _emitter, _fill_value, _out, _params, _unsupported

__all__ = []

# ember's gate blocks in ONNX's order: LSTM i f g o -> i o f c, GRU r z n -> z r h
_GATE_ORDER = {0: [0], 1: [0], 2: [0, 3, 1, 2], 3: [1, 0, 2]}
_RNN_OP = {0: "RNN", 1: "RNN", 2: "LSTM", 3: "GRU"}


def _pairs(values):
    return [int(static_size(v)) for v in values] * 2


@_emitter("op", "convolution")
def _conv(b, node):
    x, weight, bias, stride, padding, dilation, groups = node.args[:7]
    inputs = [b.value(x), b.value(weight)] + ([b.value(bias)] if bias is not None else [])
    _out(b, node, b.add("Conv", inputs, kernel_shape=list(weight.shape[2:]),
                        strides=list(stride), pads=_pairs(padding), dilations=list(dilation),
                        group=int(groups)))


@_emitter("op", "convolution_transpose")
def _conv_transpose(b, node):
    x, weight, bias, out_size, stride, padding, dilation, groups = node.args[:8]
    kernel = weight.shape[2:]
    reached = [(size - 1) * s - 2 * p + d * (k - 1) + 1 for size, s, p, d, k in
               zip(x.shape[2:], stride, padding, dilation, kernel)]
    output_padding = [int(static_size(o)) - r for o, r in zip(out_size, reached)]
    inputs = [b.value(x), b.value(weight)] + ([b.value(bias)] if bias is not None else [])
    _out(b, node, b.add("ConvTranspose", inputs, kernel_shape=list(kernel),
                        strides=list(stride), pads=_pairs(padding), dilations=list(dilation),
                        group=int(groups), output_padding=output_padding))


def _one_hot_kernels(channels, kernel, dtype, grouped=True):
    """Weights picking each kernel position of each channel: ``(channels * kh * kw, 1, kh,
    kw)`` for unfold as a grouped convolution, or, ``grouped=False``, ``(channels * kh * kw,
    channels, kh, kw)`` for fold as a transposed convolution of one group (the ONNX
    reference evaluator's ConvTranspose takes no groups)."""
    kh, kw = kernel
    eye = np.eye(kh * kw, dtype=_NUMPY_FLOAT[str(dtype)]).reshape(kh * kw, 1, kh, kw)
    if grouped:
        return np.tile(eye, (channels, 1, 1, 1))
    weight = np.zeros((channels * kh * kw, channels, kh, kw), dtype=eye.dtype)
    for c in range(channels):
        weight[c * kh * kw:(c + 1) * kh * kw, c:c + 1] = eye
    return weight


_NUMPY_FLOAT = {"ember.float32": np.float32, "ember.float64": np.float64,
                "ember.float16": np.float16}


@_emitter("op", "im2col")
def _im2col(b, node):
    x, kernel, stride, padding, dilation = node.args[:5]
    if len(x.shape) != 4 or str(x.dtype) not in _NUMPY_FLOAT:
        _unsupported(node, "has an ONNX mapping for batched floating 4-D inputs only")
    channels = int(static_size(x.shape[1]))
    blocks = channels * kernel[0] * kernel[1]
    weight = b.const(_one_hot_kernels(channels, kernel, x.dtype), "unfold_kernels")
    patches = b.add("Conv", [b.value(x), weight], kernel_shape=list(kernel),
                    strides=list(stride), pads=_pairs(padding), dilations=list(dilation),
                    group=channels)
    _out(b, node, b.add("Reshape", [patches, b.ints([0, blocks, -1])]))


@_emitter("op", "col2im")
def _col2im(b, node):
    x, out_size, kernel, stride, padding, dilation = node.args[:6]
    if len(x.shape) != 3 or str(x.dtype) not in _NUMPY_FLOAT:
        _unsupported(node, "has an ONNX mapping for batched floating 3-D inputs only")
    out_size = [int(static_size(o)) for o in out_size]
    channels = int(static_size(x.shape[1])) // (kernel[0] * kernel[1])
    counts = [(o + 2 * p - d * (k - 1) - 1) // s + 1 for o, k, s, p, d in
              zip(out_size, kernel, stride, padding, dilation)]
    reached = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
               zip(counts, stride, padding, dilation, kernel)]
    blocks = b.add("Reshape", [b.value(x), b.ints([0, int(static_size(x.shape[1]))] + counts)])
    weight = b.const(_one_hot_kernels(channels, kernel, x.dtype, grouped=False),
                     "fold_kernels")
    _out(b, node, b.add("ConvTranspose", [blocks, weight], kernel_shape=list(kernel),
                        strides=list(stride), pads=_pairs(padding), dilations=list(dilation),
                        output_padding=[o - r for o, r in zip(out_size, reached)]))


def _ceil_mode(x, kernel, stride, padding, dilation, outs):
    floor = [(size + 2 * p - d * (k - 1) - 1) // s + 1 for size, k, s, p, d in
             zip(x.shape[2:], kernel, stride, padding, dilation)]
    return int(any(int(static_size(o)) != f for o, f in zip(outs, floor)))


@_emitter("op", "max_pool")
def _max_pool(b, node):
    x, spatial, kernel, stride, padding, dilation, outs = node.args[:7]
    if len(x.shape) != spatial + 2:
        _unsupported(node, "on an unbatched input has no ONNX mapping")
    ceil = _ceil_mode(x, kernel, stride, padding, dilation, outs)
    with_indices = node.outputs[1].index in b.read_values
    pooled = b.add("MaxPool", [b.value(x)], n_outputs=2 if with_indices else 1,
                   kernel_shape=list(kernel), strides=list(stride), pads=_pairs(padding),
                   dilations=list(dilation), ceil_mode=ceil)
    if not with_indices:
        _out(b, node, pooled)
        return
    # ONNX numbers the positions of the whole tensor, ember (as PyTorch) those of each
    # plane: the remainder by the plane's size (the running one)
    plane = _product([SymSize("size", x, d) for d in range(2, 2 + spatial)])
    _out(b, node, pooled[0])
    _out(b, node, b.add("Mod", [pooled[1], b.sym(plane)]), 1)


def _product(sizes):
    """The product of sizes (ints or SymSizes) as one size."""
    result = sizes[0]
    for size in sizes[1:]:
        if isinstance(result, SymSize) or isinstance(size, SymSize):
            result = SymSize("mul", result, size)
        else:
            result = result * size
    return result


@_emitter("op", "max_unpool")
def _max_unpool(b, node):
    """Each plane's values written at their per-plane positions: ``ScatterElements`` into
    the zero output with the spatial dims flattened (the indices are ember's per-plane
    ones, which ONNX's ``MaxUnpool``, numbering the whole tensor, does not take)."""
    x, indices, out_shape, spatial = node.args[:4]
    lead = list(out_shape[:len(out_shape) - spatial])
    plane = _product(list(out_shape[len(lead):]))
    flat = b.ints([0] * len(lead) + [-1])
    values = b.add("Reshape", [b.value(x), flat])
    positions = b.add("Reshape", [b.operand(indices, ember.int64), flat])
    zeros = b.add("ConstantOfShape", [b.shape_vector(lead + [plane])],
                  value=_fill_value(0, node.outputs[0].dtype))
    written = b.add("ScatterElements", [zeros, positions, values], axis=len(lead))
    _out(b, node, b.add("Reshape", [written, b.shape_vector(out_shape)]))


@_emitter("op", "avg_pool")
def _avg_pool(b, node):
    x, spatial, kernel, stride, padding, outs, count_include_pad, divisor = node.args[:8]
    if divisor is not None:
        _unsupported(node, "with divisor_override has no ONNX mapping")
    if len(x.shape) != spatial + 2:
        _unsupported(node, "on an unbatched input has no ONNX mapping")
    ceil = _ceil_mode(x, kernel, stride, padding, [1] * spatial, outs)
    _out(b, node, b.add("AveragePool", [b.value(x)], kernel_shape=list(kernel),
                        strides=list(stride), pads=_pairs(padding), ceil_mode=ceil,
                        count_include_pad=int(bool(count_include_pad))))


@_emitter("op", "adaptive_avg_pool", "adaptive_max_pool")
def _adaptive_pool(b, node):
    x, spatial, outs = node.args[:3]
    outs = [int(static_size(o)) for o in outs]
    sizes = [int(static_size(s)) for s in x.shape[2:]]
    average = node.op == "adaptive_avg_pool"
    if node.op == "adaptive_max_pool" and node.outputs[1].index in b.read_values:
        _unsupported(node, "with its indices used (return_indices) has no ONNX mapping")
    if len(x.shape) != spatial + 2:
        _unsupported(node, "on an unbatched input has no ONNX mapping")
    if all(o == 1 for o in outs):
        name = b.add("GlobalAveragePool" if average else "GlobalMaxPool", [b.value(x)])
    elif all(s % o == 0 for s, o in zip(sizes, outs)):
        kernel = [s // o for s, o in zip(sizes, outs)]
        name = b.add("AveragePool" if average else "MaxPool", [b.value(x)],
                     kernel_shape=kernel, strides=kernel)
    else:
        name = _adaptive_bins_pool(b, b.value(x), sizes, outs, average)
    _out(b, node, name)


def _adaptive_bins(size, out):
    """PyTorch's adaptive bins along one dim: ``[floor(i * size / out), ceil((i + 1) *
    size / out))`` for each output position ``i`` (of unequal widths, overlapping when
    ``out`` does not divide ``size``)."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_bins_pool(b, name, sizes, outs, average):
    """Adaptive pooling over bins that no one kernel and stride give: one dim at a time
    (a box's mean or max is that of the per-row means or maxima), each output position
    a ``ReduceMean``/``ReduceMax`` of a ``Slice``, concatenated.  The bins are computed
    from the traced spatial sizes, as the pooling kernels of the other paths are."""
    op_type = "ReduceMean" if average else "ReduceMax"
    for d, (size, out) in enumerate(zip(sizes, outs)):
        if size == out:
            continue                    # bins of one element
        axis = 2 + d
        cells = [b.reduce(op_type, b.add("Slice", [name, b.ints([start]), b.ints([stop]),
                                                   b.ints([axis])]), [axis], True)
                 for start, stop in _adaptive_bins(size, out)]
        name = b.add("Concat", cells, axis=axis)
    return name


@_emitter("op", "grid_sample")
def _grid_sample(b, node):
    x, grid, mode, padding, align_corners = node.args[:5]
    if len(x.shape) != 4 and b.opset < 20:
        _unsupported(node, "on 5-D input needs opset 20 (GridSample of 4-D input before)")
    # opset 20 renamed the modes and took any number of spatial dims
    modes = ("bilinear", "nearest", "bicubic") if b.opset < 20 else ("linear", "nearest", "cubic")
    _out(b, node, b.add("GridSample", [b.value(x), b.value(grid)], mode=modes[mode],
                        padding_mode=("zeros", "border", "reflection")[padding],
                        align_corners=int(bool(align_corners))))


# ------------------------------------------------------------------ normalisation
def _channel_vector(b, tensor, fill, channels, dtype):
    if tensor is not None:
        return b.value(tensor)
    return b.const(np.full(channels, fill, dtype=np.float32 if dtype == ember.float32
                           else np.float64))


@_emitter("op", "fused_batch_norm")
def _batch_norm(b, node):
    p = _params(node, ("input", "weight", "bias", "training", "eps", "saved", "running_mean",
                       "running_var", "momentum"), {"running_mean": None, "running_var": None})
    x = p["input"]
    dtype = node.outputs[0].dtype
    if not p["training"] and p["running_mean"] is not None:
        channels = x.shape[1]
        weight = _channel_vector(b, p["weight"], 1.0, channels, dtype)
        bias = _channel_vector(b, p["bias"], 0.0, channels, dtype)
        _out(b, node, b.add("BatchNormalization", [b.value(x), weight, bias,
                                                   b.value(p["running_mean"]),
                                                   b.value(p["running_var"])],
                            epsilon=float(p["eps"])))
        return
    # batch statistics (training mode, instance norm, whose channels are batch * channels):
    # over every dim but the channels
    axes = [0] + list(range(2, len(x.shape)))
    name = b.value(x)
    centered = b.add("Sub", [name, b.reduce("ReduceMean", name, axes, True)])
    var = b.reduce("ReduceMean", b.add("Mul", [centered, centered]), axes, True)
    scale = b.add("Sqrt", [b.add("Add", [var, b.scalar(float(p["eps"]), dtype)])])
    result = b.add("Div", [centered, scale])
    per_channel = [-1] + [1] * (len(x.shape) - 2)
    if p["weight"] is not None:
        weight = b.add("Reshape", [b.value(p["weight"]), b.ints(per_channel)])
        result = b.add("Mul", [result, weight])
    if p["bias"] is not None:
        bias = b.add("Reshape", [b.value(p["bias"]), b.ints(per_channel)])
        result = b.add("Add", [result, bias])
    _out(b, node, result)


@_emitter("op", "fused_layer_norm")
def _layer_norm(b, node):
    x, weight, bias, cols, eps, center = node.args[:6]
    cols = int(static_size(cols))
    dtype = node.outputs[0].dtype
    count, size = 0, 1
    while size < cols:
        count += 1
        size *= x.shape[-count]
    shape = list(x.shape[len(x.shape) - count:])
    w = b.value(weight) if weight is not None else b.const(
        np.ones(shape, dtype=np.float32 if dtype == ember.float32 else np.float64))
    name = b.value(x)
    if center:
        inputs = [name, w] + ([b.value(bias)] if bias is not None else [])
        _out(b, node, b.add("LayerNormalization", inputs, axis=-count, epsilon=float(eps)))
        return
    # RMS norm: no centering
    axes = list(range(len(x.shape) - count, len(x.shape)))
    mean_square = b.reduce("ReduceMean", b.add("Mul", [name, name]), axes, True)
    root = b.add("Sqrt", [b.add("Add", [mean_square, b.scalar(float(eps), dtype)])])
    result = b.add("Mul", [b.add("Div", [name, root]), w])
    if bias is not None:
        result = b.add("Add", [result, b.value(bias)])
    _out(b, node, result)


@_emitter("op", "fused_group_norm")
def _group_norm(b, node):
    x, weight, bias, groups, eps = node.args[:5]
    dtype = node.outputs[0].dtype
    channels = x.shape[1]
    float_type = np.float32 if dtype == ember.float32 else np.float64
    name = b.value(x)
    grouped = b.add("Reshape", [name, b.ints([0, int(groups), -1])])
    normed = b.add("InstanceNormalization", [grouped, b.const(np.ones(groups, float_type)),
                                             b.const(np.zeros(groups, float_type))],
                   epsilon=float(eps))
    result = b.add("Reshape", [normed, b.shape_of(x)])
    per_channel = [channels] + [1] * (len(x.shape) - 2)
    if weight is not None:
        result = b.add("Mul", [result, b.add("Reshape", [b.value(weight),
                                                         b.ints(per_channel)])])
    if bias is not None:
        result = b.add("Add", [result, b.add("Reshape", [b.value(bias), b.ints(per_channel)])])
    _out(b, node, result)


@_emitter("op", "fused_embedding")
def _embedding(b, node):
    weight, indices = node.args[:2]
    _out(b, node, b.add("Gather", [b.value(weight), b.value(indices)], axis=0))


# ------------------------------------------------------------------ losses
@_emitter("op", "binary_cross_entropy")
def _binary_cross_entropy(b, node):
    """``(t - 1) * max(log(1 - x), -100) - t * max(log(x), -100)`` (times the weight):
    PyTorch's clamped logs, so a probability of exactly 0 or 1 gives 100, not inf."""
    x, target, weight = node.args[:3]
    dtype = node.outputs[0].dtype
    name, t = b.value(x), b.operand(target, dtype)
    floor = b.scalar(-100.0, dtype)
    log_x = b.add("Max", [b.add("Log", [name]), floor])
    log_rest = b.add("Max", [b.add("Log", [b.add("Sub", [b.scalar(1.0, dtype), name])]), floor])
    loss = b.add("Sub", [b.add("Mul", [b.add("Sub", [t, b.scalar(1.0, dtype)]), log_rest]),
                         b.add("Mul", [t, log_x])])
    if weight is not None:
        loss = b.add("Mul", [loss, _broadcast_operand(b, weight, dtype)])
    _out(b, node, loss)


def _broadcast_operand(b, value, dtype):
    """An operand used only in broadcasting arithmetic, as a tensor.  A constant that is
    an expanded view (the loss functions expand their weights to the traced target's
    shape, which the trace then holds as a constant) keeps one element along its
    broadcast dims, so that ONNX's broadcasting follows the running shape instead."""
    if isinstance(value, Value) and value.kind == "constant":
        tensor = b.constant_tensors[value.index]
        if 0 in tensor.stride():
            compact = tensor[tuple(slice(0, 1) if stride == 0 else slice(None)
                                   for stride in tensor.stride())]
            name = b.const(compact.detach().contiguous().numpy(), value.name)
            return name if value.dtype == dtype else b.cast(name, dtype)
    return b.operand(value, dtype)


@_emitter("op", "fused_cross_entropy")
def _cross_entropy(b, node):
    """Cross-entropy against class indices (``nll_loss`` with ``log_input``), written out:
    ``LogSoftmax``, the target's log-probability by ``GatherElements``, class weights by
    ``Gather``, ignored targets weighted 0; label smoothing adds the (weighted) mean of
    the row's log-probabilities as PyTorch does, and ``'mean'`` divides by the summed
    weights of the targets that count."""
    p = _params(node, ("input", "target", "weight", "ignore_index", "reduction",
                       "label_smoothing", "log_input"))
    x, weight, smoothing = p["input"], p["weight"], float(p["label_smoothing"])
    dtype = node.outputs[0].dtype
    class_axis = 0 if len(x.shape) == 1 else 1
    classes = int(static_size(x.shape[class_axis]))
    log_probs = b.value(x)
    if not p["log_input"]:
        log_probs = b.add("LogSoftmax", [log_probs], axis=class_axis)
    target = b.operand(p["target"], ember.int64)
    ignored = b.add("Equal", [target, b.scalar(int(p["ignore_index"]), ember.int64)])
    safe = b.add("Where", [ignored, b.scalar(0, ember.int64), target])
    picked = b.squeeze(b.add("GatherElements", [log_probs, b.unsqueeze(safe, [class_axis])],
                             axis=class_axis), [class_axis])
    zero = b.scalar(0.0, dtype)
    if weight is None:
        target_weight = b.add("Where", [ignored, zero, b.scalar(1.0, dtype)])
    else:
        target_weight = b.add("Where", [ignored, zero,
                                        b.add("Gather", [b.value(weight), safe], axis=0)])
    loss = b.add("Neg", [b.add("Mul", [picked, target_weight])])
    if smoothing > 0:
        weighted = log_probs
        if weight is not None:
            per_class = [classes] + [1] * (len(x.shape) - 1 - class_axis)
            weighted = b.add("Mul", [log_probs, b.add("Reshape", [b.value(weight),
                                                                  b.ints(per_class)])])
        smooth = b.add("Neg", [b.reduce("ReduceSum", weighted, [class_axis], False)])
        smooth = b.add("Where", [ignored, zero, smooth])
        loss = b.add("Add", [b.add("Mul", [loss, b.scalar(1.0 - smoothing, dtype)]),
                             b.add("Mul", [smooth, b.scalar(smoothing / classes, dtype)])])
    reduction = p["reduction"]
    if reduction == "sum":
        loss = b.reduce("ReduceSum", loss, None, False)
    elif reduction == "mean":
        loss = b.add("Div", [b.reduce("ReduceSum", loss, None, False),
                             b.reduce("ReduceSum", target_weight, None, False)])
    elif reduction != "none":
        _unsupported(node, f"with reduction={reduction!r} has no ONNX mapping")
    _out(b, node, loss)


# ------------------------------------------------------------------ recurrent layers
_VIEWS_OF_FIRST = {"getitem", "select", "narrow", "view", "reshape", "reshape_copy"}


def _is_zeros(b, value):
    """Whether ``value`` is all zeros whatever the inputs: a zero constant, a tensor
    ``zeros`` made from traced sizes, or a view of one."""
    if value.kind == "constant":
        return not bool(b.constant_tensors[value.index].detach().ne(0).any())
    node = b.producers.get(value.index)
    if node is None:
        return False
    if node.op == "zeros":
        return True
    return node.op in _VIEWS_OF_FIRST and isinstance(node.args[0], Value) and \
        _is_zeros(b, node.args[0])


def _equal_lengths(b, batch_sizes):
    """Whether the recurrent layer's batch sizes are all equal (unpacked sequences)."""
    if not isinstance(batch_sizes, Value):
        return False
    if batch_sizes.kind == "constant":
        return len(set(b.constant_tensors[batch_sizes.index].tolist())) <= 1
    node = b.producers.get(batch_sizes.index)
    return node is not None and node.op == "full"


@_emitter("op", "rnn_layer")
def _rnn_layer(b, node):
    """One direction of one layer as ONNX LSTM/GRU/RNN: the traced input gates ``gx``
    (input projection and its bias, already computed) enter through an identity-like
    ``W`` that also reorders the gate blocks; ``R`` is ``w_hh`` with its blocks reordered."""
    mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse = node.args[:9]
    if not _equal_lengths(b, batch_sizes):
        _unsupported(node, "on packed sequences of different lengths has no ONNX mapping")
    if w_hr is not None:
        _projected_lstm(b, node)
        return
    order = _GATE_ORDER[mode]
    hidden = w_hh.shape[1]
    gates = len(order) * hidden
    dtype = node.outputs[0].dtype
    float_type = np.float32 if dtype == ember.float32 else np.float64
    rows = np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in order])
    eye = np.zeros((1, gates, gates), float_type)
    eye[0, np.arange(gates), rows] = 1
    steps = SymSize("size", batch_sizes, 0)     # follows the running sequence length
    x = b.add("Reshape", [b.value(gx), b.shape_vector([steps, -1, gates])])
    r = b.unsqueeze(b.add("Gather", [b.value(w_hh), b.ints(rows)], axis=0), [0])
    inputs = [x, b.const(eye, "rnn_identity"), r]
    if b_hh is not None:
        recurrent_bias = b.add("Gather", [b.value(b_hh), b.ints(rows)], axis=0)
        bias = b.add("Concat", [b.const(np.zeros(gates, float_type)), recurrent_bias], axis=0)
        inputs.append(b.unsqueeze(bias, [0]))
    else:
        inputs.append("")
    inputs.append("")                           # sequence_lens: all of the same length
    inputs.append("" if _is_zeros(b, h0) else b.unsqueeze(b.value(h0), [0]))
    if mode == 2:
        inputs.append("" if c0 is None or _is_zeros(b, c0) else
                      b.unsqueeze(b.value(c0), [0]))
    while inputs[-1] == "":
        inputs.pop()
    attrs = {"hidden_size": hidden, "direction": "reverse" if reverse else "forward"}
    if mode == 3:
        attrs["linear_before_reset"] = 1
    if mode in (0, 1):
        attrs["activations"] = ["Tanh" if mode == 0 else "Relu"]
    outputs = b.add(_RNN_OP[mode], inputs, n_outputs=3 if mode == 2 else 2, **attrs)
    result = node.result
    _out_value(b, result[0], b.add("Reshape", [outputs[0], b.ints([-1, hidden])]))
    _out_value(b, result[1], b.squeeze(outputs[1], [0]))
    if mode == 2:
        _out_value(b, result[2], b.squeeze(outputs[2], [0]))


def _out_value(b, value, name):
    if isinstance(value, Value):
        b.bind(value, name)


def _projected_lstm(b, node):
    """An LSTM direction with a projection (``proj_size``), which ONNX's LSTM lacks: a
    ``Scan`` over the time steps of the traced input gates, whose body computes one step
    as ember does (gates ``i f g o``, ``h = (o * tanh(c)) @ w_hr.T``).  The scan follows
    the running sequence length; ``reverse`` scans the steps from the end."""
    mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse = node.args[:9]
    if c0 is None:
        _unsupported(node, "with a projection and no initial cell state has no ONNX mapping")
    dtype = node.outputs[0].dtype
    hidden, projected = w_hh.shape[0] // 4, w_hr.shape[0]
    steps = SymSize("size", batch_sizes, 0)
    x = b.add("Reshape", [b.value(gx), b.shape_vector([steps, -1, 4 * hidden])])
    h_in, c_in, gates_in = (b.fresh(hint) for hint in ("lstm_h", "lstm_c", "lstm_gates"))
    with b.subgraph() as body:
        recurrent = [h_in, b.value(w_hh)] + ([b.value(b_hh)] if b_hh is not None else [])
        gates = b.add("Add", [b.add("Gemm", recurrent, transB=1), gates_in])
        i, f, g, o = (b.add("Sigmoid", [part]) if k != 2 else b.add("Tanh", [part])
                      for k, part in enumerate(b.add("Split", [gates, b.ints([hidden] * 4)],
                                                     n_outputs=4, axis=1)))
        c_out = b.add("Add", [b.add("Mul", [f, c_in]), b.add("Mul", [i, g])])
        full = b.add("Mul", [o, b.add("Tanh", [c_out])])
        h_out = b.add("Gemm", [full, b.value(w_hr)], transB=1)
        step_out = b.add("Identity", [h_out])   # a graph output of its own name
    step = helper.make_graph(
        body, b.fresh("lstm_projection_step"),
        [b.declare(h_in, dtype, 2), b.declare(c_in, dtype, 2), b.declare(gates_in, dtype, 2)],
        [b.declare(h_out, dtype, 2), b.declare(c_out, dtype, 2),
         b.declare(step_out, dtype, 2)])
    if reverse:     # scanned forward over the reversed steps (Scan's directions are
        x = _reverse_steps(b, x)        # not in onnx's reference evaluator)
    h_n, c_n, ys = b.add("Scan", [b.value(h0), b.value(c0), x], n_outputs=3, body=step,
                         num_scan_inputs=1)
    if reverse:
        ys = _reverse_steps(b, ys)
    result = node.result
    _out_value(b, result[0], b.add("Reshape", [ys, b.ints([-1, projected])]))
    _out_value(b, result[1], h_n)
    _out_value(b, result[2], c_n)


def _reverse_steps(b, name):
    """``name`` with its first (time) axis reversed: a ``Slice`` of step -1."""
    return b.add("Slice", [name, b.ints([-1]), b.ints([-2 ** 63 + 1]), b.ints([0]),
                           b.ints([-1])])
