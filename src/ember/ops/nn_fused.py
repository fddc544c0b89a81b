"""Fused normalisation, cross-entropy and embedding ops, differentiable.

The kernels live in ``ember._core._nn_fused``: one pass computes a layer, RMS,
batch or group norm together with the statistics its backward needs, or the
log-softmax and negative log-likelihood of every row at once.  Each op here runs
its kernel and, when an input requires grad, records itself; the statistics ride
along in a :class:`_Saved` holder (they are not graph inputs).

Backward calls the fused backward kernel.  When a graph of the gradient is being
built (``create_graph=True``, so grad mode is on inside the formula) the gradient
is instead written with ordinary ember ops from the saved inputs: the same
formula, itself differentiable, which gives double backward.
"""
import ember
from ember._core import _nn_fused as _kernels
from ember._core._tensor import _recorded, is_grad_enabled, record
from ember.ops.derivatives import derivative


class _Saved:
    """What a fused forward keeps for its backward: statistics, not graph inputs."""
    __slots__ = ("mean", "rstd", "lse", "weight_sum")


def _requires_grad(*tensors):
    return any(t is not None and _recorded(t) for t in tensors)


def _needs(ctx, tensors):
    """Per entry of ``tensors`` (None allowed): whether its gradient is wanted."""
    flags, k = [], 0
    for t in tensors:
        if t is None:
            flags.append(False)
        else:
            flags.append(bool(ctx.needs_input_grad[k]))
            k += 1
    return flags


# ---------------------------------------------------------------- layer and RMS norm

def fused_layer_norm(input, cols, weight=None, bias=None, eps=1e-5, center=True):
    """Layer norm (RMS norm without ``center``) over the last ``cols`` elements.

    Parameters
    ----------
    input : Tensor
        Floating tensor whose trailing dimensions hold ``cols`` elements.
    cols : int
        Number of elements normalised together.
    weight, bias : Tensor, optional
        ``cols`` elements each, of ``input``'s dtype.
    eps : float, optional
        Added to the variance (mean square for RMS norm).
    center : bool, optional
        Subtract the mean (layer norm) or not (RMS norm, ``bias`` unused).

    Returns
    -------
    Tensor
        Of ``input``'s shape and dtype.
    """
    saved = _Saved()

    def run(input, weight, bias, cols, eps, center, saved):
        out, saved.mean, saved.rstd = _kernels.layer_norm_forward(input, cols, weight, bias,
                                                                  eps, center)
        return out

    args = (input, weight, bias, cols, eps, center, saved)
    if _requires_grad(input, weight, bias):
        return record("fused_layer_norm", run, args)
    return run(*args)


def _layer_norm_composite(grad, input, weight, cols, eps, center, needs):
    """The layer/RMS norm gradients written with differentiable ember ops."""
    x = input.reshape(-1, cols)
    g = grad.reshape(-1, cols)
    centered = x - x.mean(1, keepdim=True) if center else x
    rstd = ((centered * centered).mean(1, keepdim=True) + eps).rsqrt()
    normalized = centered * rstd
    grad_input = grad_weight = grad_bias = None
    if needs[0]:
        scaled = g if weight is None else g * weight.reshape(-1)
        shift = scaled.mean(1, keepdim=True) if center else 0.0
        grad_input = (rstd * (scaled - shift - normalized * (scaled * normalized).mean(
            1, keepdim=True))).reshape(tuple(input.shape))
    if needs[1]:
        grad_weight = (g * normalized).sum(0).reshape(tuple(weight.shape))
    if needs[2]:
        grad_bias = g.sum(0).reshape(tuple(weight.shape if weight is not None else (cols,)))
    return grad_input, grad_weight, grad_bias


@derivative("fused_layer_norm", node="NativeLayerNormBackward0")
def _fused_layer_norm_backward(ctx, grad, input, weight, bias, cols, eps, center, saved):
    needs = _needs(ctx, (input, weight, bias))
    if is_grad_enabled():
        return _layer_norm_composite(grad, input, weight, cols, eps, center, needs)
    grad_input, grad_weight, grad_bias = _kernels.layer_norm_backward(
        grad, input, saved.mean, saved.rstd, weight, cols, center, *needs)
    if grad_bias is not None:
        grad_bias = grad_bias.reshape(tuple(bias.shape)).to(bias.dtype)
    if grad_weight is not None:
        grad_weight = grad_weight.reshape(tuple(weight.shape))
    return grad_input, grad_weight, grad_bias


# ---------------------------------------------------------------- batch and group norm

def fused_batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
                     momentum=0.1, eps=1e-5):
    """Batch norm of an ``(N, C, *)`` input in one pass per statistic.

    Parameters
    ----------
    input : Tensor
    running_mean, running_var : Tensor or None
        ``(C,)``; updated in place when ``training`` (unbiased variance), used when not.
    weight, bias : Tensor, optional
        ``(C,)`` affine parameters.
    training : bool, optional
    momentum : float, optional
    eps : float, optional

    Returns
    -------
    Tensor
    """
    saved = _Saved()

    def run(input, weight, bias, training, eps, saved, running_mean, running_var, momentum):
        out, saved.mean, saved.rstd = _kernels.batch_norm_forward(
            input, weight, bias, running_mean, running_var, training, momentum, eps)
        return out

    args = (input, weight, bias, training, eps, saved, running_mean, running_var, momentum)
    if _requires_grad(input, weight, bias):
        if training:
            # training updates the running statistics in place, which the inputs autograd
            # saves must not be: they are bound outside the recorded arguments
            def run_training(input, weight, bias, training, eps, saved):
                return run(input, weight, bias, training, eps, saved, running_mean,
                           running_var, momentum)
            return record("fused_batch_norm", run_training, args[:6])
        # evaluation only reads them: arguments, as ember.jit's tracer needs them
        return record("fused_batch_norm", run, args)
    return run(*args)


def _channel_view(t, ndim):
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _normalized_grads(grad, normalized, rstd, scaled, dims, needs, input, weight, reduce_dims):
    """Input, weight and bias gradients of ``normalized * weight + bias`` where
    ``normalized`` was standardised over ``dims`` of ``scaled``'s layout."""
    grad_input = grad_weight = grad_bias = None
    if needs[0]:
        grad_input = rstd * (scaled - scaled.mean(dims, keepdim=True)
                             - normalized * (scaled * normalized).mean(dims, keepdim=True))
        grad_input = grad_input.reshape(tuple(input.shape))
    if needs[1]:
        grad_weight = (grad * normalized.reshape(tuple(input.shape))).sum(reduce_dims)
    if needs[2]:
        grad_bias = grad.sum(reduce_dims)
    return grad_input, grad_weight, grad_bias


@derivative("fused_batch_norm", node="NativeBatchNormBackward0")
def _fused_batch_norm_backward(ctx, grad, input, weight, bias, training, eps, saved,
                               running_mean=None, running_var=None, momentum=None):
    needs = _needs(ctx, (input, weight, bias))
    if not is_grad_enabled():
        return _kernels.batch_norm_backward(grad, input, saved.mean, saved.rstd, weight,
                                            training, *needs)
    ndim = input.dim()
    dims = (0,) + tuple(range(2, ndim))
    scaled = grad if weight is None else grad * _channel_view(weight, ndim)
    if training:
        centered = input - input.mean(dims, keepdim=True)
        rstd = ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
        return _normalized_grads(grad, centered * rstd, rstd, scaled, dims, needs, input,
                                 weight, dims)
    # evaluation: the running statistics are constants
    rstd = _channel_view(saved.rstd.to(input.dtype), ndim)
    normalized = (input - _channel_view(saved.mean.to(input.dtype), ndim)) * rstd
    return (scaled * rstd if needs[0] else None,
            (grad * normalized).sum(dims) if needs[1] else None,
            grad.sum(dims) if needs[2] else None)


def fused_group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group norm of an ``(N, C, *)`` input, statistics per sample and group.

    Parameters
    ----------
    input : Tensor
    num_groups : int
        Divides ``C``.
    weight, bias : Tensor, optional
        ``(C,)`` affine parameters.
    eps : float, optional

    Returns
    -------
    Tensor
    """
    saved = _Saved()

    def run(input, weight, bias, num_groups, eps, saved):
        out, saved.mean, saved.rstd = _kernels.group_norm_forward(input, num_groups, weight,
                                                                  bias, eps)
        return out

    args = (input, weight, bias, num_groups, eps, saved)
    if _requires_grad(input, weight, bias):
        return record("fused_group_norm", run, args)
    return run(*args)


@derivative("fused_group_norm", node="NativeGroupNormBackward0")
def _fused_group_norm_backward(ctx, grad, input, weight, bias, num_groups, eps, saved):
    needs = _needs(ctx, (input, weight, bias))
    if not is_grad_enabled():
        return _kernels.group_norm_backward(grad, input, saved.mean, saved.rstd, weight,
                                            num_groups, *needs)
    ndim = input.dim()
    grouped = input.reshape(input.shape[0], num_groups, -1)
    centered = grouped - grouped.mean(2, keepdim=True)
    rstd = ((centered * centered).mean(2, keepdim=True) + eps).rsqrt()
    scaled = grad if weight is None else grad * _channel_view(weight, ndim)
    scaled = scaled.reshape(input.shape[0], num_groups, -1)
    return _normalized_grads(grad, centered * rstd, rstd, scaled, 2, needs, input, weight,
                             (0,) + tuple(range(2, ndim)))


# ---------------------------------------------------------------- cross-entropy and nll

def fused_cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                        label_smoothing=0.0, log_input=False):
    """Cross-entropy of logits (``nll_loss`` of log-probabilities with ``log_input``)
    against class indices, log-softmax and likelihood in one pass per row.

    Parameters
    ----------
    input : Tensor
        ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
    target : Tensor
        Class indices (int64 or uint8), ``()``, ``(N,)`` or ``(N, d1, ...)``.
    weight : Tensor, optional
        ``(C,)`` class weights of ``input``'s dtype.
    ignore_index : int, optional
    reduction : {'mean', 'sum', 'none'}, optional
    label_smoothing : float, optional
    log_input : bool, optional

    Returns
    -------
    Tensor
    """
    saved = _Saved()

    def run(input, target, weight, ignore_index, reduction, label_smoothing, log_input, saved):
        loss, saved.lse, saved.weight_sum = _kernels.cross_entropy_forward(
            input, target, weight, ignore_index, label_smoothing, reduction, log_input)
        return loss

    args = (input, target, weight, ignore_index, reduction, label_smoothing, log_input, saved)
    if _requires_grad(input, weight):
        return record("fused_cross_entropy", run, args)
    return run(*args)


def _cross_entropy_composite(grad, input, target, weight, ignore_index, reduction,
                             label_smoothing, log_input, weight_sum):
    """The input gradient of the fused cross-entropy with differentiable ember ops."""
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    target = target.to(ember.int64)
    ignored = (target == ignore_index).unsqueeze(class_dim)
    safe = ember.where(ignored, 0, target.unsqueeze(class_dim))
    picked = ember.zeros(tuple(input.shape), dtype=input.dtype, device=input.device).scatter(
        class_dim, safe, 1.0)
    class_weight = 1.0 if weight is None else \
        weight.reshape(tuple(classes if d == class_dim else 1 for d in range(input.dim())))
    per_position = grad.unsqueeze(class_dim) if reduction == "none" else grad
    if reduction == "mean":
        per_position = per_position / weight_sum
    # d loss / d log-probabilities
    grad_log_probs = -(picked * (1 - label_smoothing)
                       + label_smoothing / classes) * class_weight
    grad_log_probs = ember.where(ignored, 0.0, grad_log_probs * per_position)
    if log_input:
        return grad_log_probs
    probs = ember.softmax(input, class_dim)
    return grad_log_probs - probs * grad_log_probs.sum(class_dim, keepdim=True)


@derivative("fused_cross_entropy", node=lambda *args, **kwargs:
            "NllLossBackward0" if args[6] else "CrossEntropyLossBackward0")
def _fused_cross_entropy_backward(ctx, grad, input, target, weight, ignore_index, reduction,
                                  label_smoothing, log_input, saved):
    if not _needs(ctx, (input,))[0]:
        return None
    if is_grad_enabled():
        grad_input = _cross_entropy_composite(grad, input, target, weight, ignore_index,
                                              reduction, label_smoothing, log_input,
                                              saved.weight_sum)
    else:
        grad_input = _kernels.cross_entropy_backward(
            grad, input, target, weight, saved.lse, saved.weight_sum, ignore_index,
            label_smoothing, reduction, log_input)
    return grad_input, None, None


# ---------------------------------------------------------------- embedding

def fused_embedding(weight, indices, padding_idx=None, scale_grad_by_freq=False):
    """Rows of ``weight`` at ``indices`` (checked), shaped ``indices.shape + (dim,)``,
    whose weight gradient is accumulated by one deterministic kernel.

    Parameters
    ----------
    weight : Tensor
        ``(num_embeddings, dim)``.
    indices : Tensor
        int64 indices in ``[0, num_embeddings)``.
    padding_idx : int, optional
        Non-negative row that gets no gradient.
    scale_grad_by_freq : bool, optional

    Returns
    -------
    Tensor
    """
    def run(weight, indices, padding_idx, scale_grad_by_freq):
        rows = weight.index_select(0, indices.reshape(-1))
        return rows.reshape(tuple(indices.shape) + (weight.shape[1],))

    args = (weight, indices, padding_idx, scale_grad_by_freq)
    if _requires_grad(weight):
        return record("fused_embedding", run, args)
    return run(*args)


@derivative("fused_embedding", node="EmbeddingBackward0", save_inputs=False)
def _fused_embedding_backward(ctx, grad, weight, indices, padding_idx, scale_grad_by_freq):
    return embedding_dense_backward(grad, indices, weight.shape[0], padding_idx,
                                    scale_grad_by_freq)


def _embedding_backward_on_device(grad, indices, num_weights, padding_idx,
                                  scale_grad_by_freq):
    """The CPU kernel's result on a GPU: ``grad``'s rows added into a zeroed weight gradient
    with index_add (atomic adds: float32 sums for 16-bit grads, rounded once)."""
    dim = grad.shape[-1] if grad.dim() else 0
    if grad.dim() == 0 or grad.numel() != indices.numel() * dim:
        raise RuntimeError(f"embedding_backward: grad of shape {list(grad.shape)} does not "
                           f"match indices of shape {list(indices.shape)}")
    flat = indices.reshape(-1)
    acc = ember.float32 if grad.dtype in (ember.float16, ember.bfloat16) else grad.dtype
    gw = ember.zeros(num_weights, dim, dtype=acc, device=grad.device)
    gw.index_add_(0, flat, grad.reshape(-1, dim).to(acc))
    if scale_grad_by_freq and flat.numel():
        count = ember.zeros(num_weights, dtype=acc, device=grad.device).index_add_(
            0, flat, ember.ones(flat.numel(), dtype=acc, device=grad.device))
        gw = gw / ember.clamp(count, min=1).unsqueeze(1)
    if padding_idx is not None and padding_idx >= 0:
        gw[padding_idx] = 0
    return gw.to(grad.dtype)


def embedding_dense_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    """Weight gradient of an embedding lookup: the rows of ``grad`` summed per index.

    Differentiable in ``grad`` (its own derivative gathers rows back).
    """
    def run(grad, indices, num_weights, padding_idx, scale_grad_by_freq):
        if grad.device.type != "cpu":
            return _embedding_backward_on_device(grad, indices, num_weights, padding_idx,
                                                 scale_grad_by_freq)
        return _kernels.embedding_backward(grad, indices, num_weights, padding_idx,
                                           scale_grad_by_freq)

    args = (grad, indices, num_weights, padding_idx, scale_grad_by_freq)
    if _requires_grad(grad):
        return record("embedding_dense_backward", run, args)
    return run(*args)


@derivative("embedding_dense_backward", save_inputs=False)
def _embedding_dense_backward_backward(ctx, grad, g, indices, num_weights, padding_idx,
                                       scale_grad_by_freq):
    flat = indices.reshape(-1)
    rows = grad.index_select(0, flat)
    if scale_grad_by_freq and flat.numel():
        frequency = ember.zeros(num_weights, dtype=grad.dtype, device=grad.device).scatter_add(
            0, flat, ember.ones(flat.numel(), dtype=grad.dtype, device=grad.device))
        rows = rows / frequency.index_select(0, flat).unsqueeze(1)
    if padding_idx is not None:
        rows = ember.where((flat == padding_idx).unsqueeze(1), 0.0, rows)
    return rows.reshape(tuple(g.shape))
