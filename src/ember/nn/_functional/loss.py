"""Loss functions of :mod:`ember.nn.functional`, written as compositions of
differentiable ember ops (gradients, double backward included, come from autograd)."""
from ember.ops.autocast import autocasts
import math
import warnings

import ember
from ember._core._dtype import TORCH_NAMES
from ember._core._tensor import _recorded, record
from ember.nn._functional.activation import logsigmoid
from ember.nn._reduction import legacy_get_string
from ember.ops.derivatives import derivative
from ember.ops.nn_fused import fused_cross_entropy

_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce, reduction):
    """The reduction named by the deprecated ``size_average`` / ``reduce`` pair, as PyTorch."""
    if size_average is None and reduce is None:
        return reduction
    legacy = legacy_get_string(size_average, reduce, emit_warning=False)
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{legacy}' "
                  "instead.", stacklevel=3)
    return legacy


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _check_floating(kernel, input, target):
    """PyTorch's squared-error losses have no integer or bool kernel (``l1_loss`` does)."""
    dt = ember.result_type(input, target)
    if not (dt.is_floating_point or dt.is_complex):
        raise NotImplementedError(f'"{kernel}_{input.device.type}" not implemented for '
                                  f"'{TORCH_NAMES[dt.num]}'")


def _weighted(loss, weight, input, reduction, mean_by_weight):
    """Apply an elementwise ``weight`` (same size as ``input``) and the reduction."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    _check_reduction(reduction)
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


@autocasts("mse_loss")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target) ** 2``, reduced.

    Parameters
    ----------
    input, target : Tensor
        Broadcast together (a warning is given when their sizes differ).
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional
    weight : Tensor, optional
        Elementwise weight of ``input``'s size; ``'mean'`` then divides by ``weight.sum()``.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.mse_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 0.0]))
    tensor(2.5000)
    """
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_floating("mse", input, target)
    diff = input - target
    return _weighted(diff * diff, weight, input, reduction, True)


@autocasts("l1_loss")
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, reduced.

    Parameters
    ----------
    input, target : Tensor
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional
    weight : Tensor, optional
        Elementwise weight of ``input``'s size; ``'mean'`` then divides by ``weight.sum()``.

    Returns
    -------
    Tensor
    """
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _weighted(ember.abs(input - target), weight, input, reduction, True)


@autocasts("smooth_l1_loss")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above (``0.5 d**2 / beta`` or ``|d| - beta / 2``).

    Parameters
    ----------
    input, target : Tensor
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional
    beta : float, optional
        Non-negative; 0 gives :func:`l1_loss`.

    Returns
    -------
    Tensor
    """
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_floating("smooth_l1", input, target)
    diff = input - target
    magnitude = ember.abs(diff)
    if beta == 0:
        return _reduce(magnitude, reduction)
    loss = ember.where(magnitude < beta, diff * diff * (0.5 / beta), magnitude - 0.5 * beta)
    return _reduce(loss, reduction)


@autocasts("huber_loss")
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error below ``delta``, ``delta``-scaled absolute error above.

    Parameters
    ----------
    input, target : Tensor
    reduction : {'mean', 'sum', 'none'}, optional
    delta : float, optional
        Positive.
    weight : Tensor, optional
        Elementwise weight of ``input``'s size (``'mean'`` averages the weighted loss).

    Returns
    -------
    Tensor
    """
    _warn_size(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_floating("huber", input, target)
    diff = input - target
    magnitude = ember.abs(diff)
    loss = ember.where(magnitude < delta, diff * diff * 0.5, (magnitude - 0.5 * delta) * delta)
    return _weighted(loss, weight, input, reduction, False)


def _class_weight_view(weight, ndim, class_dim):
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.reshape(tuple(shape))


def _check_class_target(input, target):
    """Shapes of an (N, C, d1, ...) input and its (N, d1, ...) class-index target."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if target.dtype not in (ember.int64, ember.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype}")
    if input.dim() == 1:
        if target.dim() != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    if target.dim() == 0 or input.shape[0] != target.shape[0]:
        batch = target.shape[0] if target.dim() else 1
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({batch}).")
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")


def _fusable(input, weight):
    """Whether the fused kernel applies: a floating input and a weight of its dtype."""
    return input.is_floating_point() and (weight is None or weight.dtype == input.dtype)


_TORCH_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double"}


def _nll(log_probs, target, weight, ignore_index, reduction):
    """Negative log-likelihood of class indices with weights and an ignored index."""
    _check_reduction(reduction)
    class_dim = 0 if log_probs.dim() == 1 else 1
    classes = log_probs.shape[class_dim]
    if weight is not None:
        if weight.dim() != 1 or weight.shape[0] != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} classes "
                               f"or no classes but got weight tensor of shape: {list(weight.shape)}")
        if weight.dtype != log_probs.dtype:  # never promoted, as PyTorch
            names = [_TORCH_NAMES.get(t.dtype.name, t.dtype.name) for t in (log_probs, weight)]
            raise RuntimeError(f"expected scalar type {names[0]} but found {names[1]}")
    target = target.to(ember.int64)
    ignored = target == ignore_index
    safe_target = ember.where(ignored, 0, target)
    out_of_range = ((safe_target < 0) | (safe_target >= classes)) & ~ignored
    if out_of_range.any():
        bad = target[out_of_range].reshape(-1)[0].item()
        raise IndexError(f"Target {bad} is out of bounds.")
    picked = log_probs.gather(class_dim, safe_target.unsqueeze(class_dim)).squeeze(class_dim)
    if weight is None:
        sample_weight = (~ignored).to(log_probs.dtype)
    else:
        sample_weight = weight.index_select(0, safe_target.reshape(-1)).reshape(safe_target.shape)
        sample_weight = ember.where(ignored, 0.0, sample_weight)
    # where (not a product with the 0 weight) so all-ignored targets give a zero gradient
    loss = ember.where(ignored, 0.0, -picked * sample_weight)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / sample_weight.sum()


@autocasts("nll_loss")
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices, given log-probabilities.

    Parameters
    ----------
    input : Tensor
        Log-probabilities of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
    target : Tensor
        Class indices (int64) of shape ``()``, ``(N,)`` or ``(N, d1, ...)``.
    weight : Tensor, optional
        Weight of each of the ``C`` classes.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    ignore_index : int, optional
        Target value that contributes neither loss nor weight.
    reduction : {'mean', 'sum', 'none'}, optional
        ``'mean'`` divides by the summed weight of the non-ignored targets.

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_class_target(input, target)
    if _fusable(input, weight):
        _check_reduction(reduction)
        return fused_cross_entropy(input, target, weight, ignore_index, reduction, log_input=True)
    return _nll(input, target, weight, ignore_index, reduction)


@autocasts("cross_entropy")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between ``softmax(input)`` (over dimension 1) and class indices or probabilities.

    Parameters
    ----------
    input : Tensor
        Unnormalised scores of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
    target : Tensor
        Class indices (int64) of shape ``()``, ``(N,)`` or ``(N, d1, ...)``, or class
        probabilities (floating) of ``input``'s shape.
    weight : Tensor, optional
        Weight of each of the ``C`` classes.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    ignore_index : int, optional
        Class index that is ignored (index targets only).
    reduction : {'mean', 'sum', 'none'}, optional
    label_smoothing : float, optional
        In ``[0, 1]``: mix the target with the uniform distribution.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> logits = ember.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> F.cross_entropy(logits, ember.tensor([0, 1]))
    tensor(0.1269)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    if tuple(target.shape) != tuple(input.shape) and _fusable(input, weight):
        _check_class_target(input, target)
        return fused_cross_entropy(input, target, weight, ignore_index, reduction,
                                   label_smoothing)
    log_probs = ember.log_softmax(input, class_dim)
    if tuple(target.shape) == tuple(input.shape):
        if not target.is_floating_point():
            raise RuntimeError("Expected floating point type for target with class probabilities, "
                               f"got {target.dtype}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        scaled = log_probs * target
        if weight is not None:
            scaled = scaled * _class_weight_view(weight, input.dim(), class_dim)
        if reduction == "none":
            return -scaled.sum(class_dim)
        if reduction == "sum":
            return -scaled.sum()
        return -scaled.sum() / (input.numel() // classes if classes else 0)
    _check_class_target(input, target)
    loss = _nll(log_probs, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return loss
    ignored = target == ignore_index
    if weight is not None:
        log_probs = log_probs * _class_weight_view(weight, input.dim(), class_dim)
    smooth = ember.where(ignored, 0.0, -log_probs.sum(class_dim))
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        if weight is None:
            smooth = smooth.sum() / (~ignored).sum()
        else:
            kept = ember.where(ignored, 0, target).reshape(-1)
            kept_weight = ember.where(ignored.reshape(-1), 0.0, weight.index_select(0, kept))
            smooth = smooth.sum() / kept_weight.sum()
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _check_same_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")


@autocasts("binary_cross_entropy")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities: ``-(t log(x) + (1 - t) log(1 - x))``.

    The logarithms are clamped to ``>= -100``, as in PyTorch, so the loss stays finite.

    Parameters
    ----------
    input : Tensor
        Probabilities in ``[0, 1]``.
    target : Tensor
        Same size as ``input``.
    weight : Tensor, optional
        Broadcast to ``target``'s size.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_same_size(input, target)
    if input.numel() and ((input < 0) | (input > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None:
        weight = weight.expand(ember.broadcast_shapes(tuple(target.shape), tuple(weight.shape)))
    args = (input, target, weight)
    if any(isinstance(t, ember.Tensor) and _recorded(t) for t in args):
        return _reduce(record("binary_cross_entropy", _bce_loss, args), reduction)
    return _reduce(_bce_loss(*args), reduction)


# PyTorch's EPSILON of the binary cross entropy backward, a float even for double
_BCE_EPSILON = 9.999999960041972e-13


def _bce_loss(input, target, weight):
    # as PyTorch computes it: the logs (log1p(-x), exact for tiny x) clamped to >= -100
    loss = ((target - 1) * ember.clamp(ember.log1p(-input), min=-100.0)
            - target * ember.clamp(ember.log(input), min=-100.0))
    return loss if weight is None else loss * weight


@derivative("binary_cross_entropy")
def _bce_backward(ctx, grad, input, target, weight):
    # PyTorch's formulas, not those of the clamped logs: (x - t) / (x (1 - x)) with the
    # divisor kept >= 1e-12, so a probability at exactly 0 or 1 on the wrong side still
    # gets a (large) gradient where the clamped log's would be 0
    if weight is not None:
        grad = grad * weight
    need_input, need_target = ctx.needs_input_grad[:2]
    grad_input = grad_target = None
    if need_input:
        grad_input = grad * (input - target) / ember.clamp((1 - input) * input,
                                                           min=_BCE_EPSILON)
    if need_target:
        grad_target = -grad * ember.logit(input)
    return (grad_input, grad_target) + ((None,) if weight is not None else ())


@autocasts("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits.

    Parameters
    ----------
    input : Tensor
        Logits.
    target : Tensor
        Same size as ``input``.
    weight : Tensor, optional
        Broadcast to ``input``'s size.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional
    pos_weight : Tensor, optional
        Weight of the positive term, broadcast along the last (class) dimension.

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    log_sigmoid = logsigmoid(input)
    if pos_weight is None:
        loss = (1 - target) * input - log_sigmoid
    else:
        loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * log_sigmoid
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocasts("kl_div")
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` with ``input`` in log space.

    Parameters
    ----------
    input : Tensor
        Log-probabilities.
    target : Tensor
        Probabilities, or log-probabilities when ``log_target``.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'batchmean', 'sum', 'none'}, optional
        ``'batchmean'`` divides the sum by the batch size (the mathematical KL divergence).
    log_target : bool, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with the "
                      "KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = ember.exp(target) * (target - input)
    else:
        is_zero = target == 0
        # xlogy: 0 * log(0) is 0; the inner where keeps log's gradient finite there
        target_log_target = ember.where(is_zero, 0.0,
                                        target * ember.log(ember.where(is_zero, 1.0, target)))
        loss = target_log_target - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    return _reduce(loss, reduction)


@autocasts("poisson_nll_loss")
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of ``target`` under a Poisson distribution of rate ``input``.

    Parameters
    ----------
    input : Tensor
        Rate, or its logarithm when ``log_input``.
    target : Tensor
    log_input : bool, optional
        Loss ``exp(input) - target * input``; else ``input - target * log(input + eps)``.
    full : bool, optional
        Add the Stirling term ``t log t - t + 0.5 log(2 pi t)`` (for targets > 1).
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    eps : float, optional
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = ember.exp(input) - target * input
    else:
        loss = input - target * ember.log(input + eps)
    if full:
        above_one = target > 1
        safe_target = ember.where(above_one, target, 1.0)
        stirling = (safe_target * ember.log(safe_target) - safe_target
                    + ember.log(safe_target * (2 * math.pi)) * 0.5)
        loss = loss + ember.where(above_one, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and variance ``var``.

    Parameters
    ----------
    input, target : Tensor
    var : Tensor or float
        Same size as ``input``, or with its last dimension dropped or of size 1, or
        one size-1 dimension elsewhere (homoscedastic). Clamped to ``>= eps``.
    full : bool, optional
        Add the constant ``0.5 log(2 pi)``.
    eps : float, optional
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = ember.ones_like(input) * var
    elif (var < 0).any():
        raise ValueError("var has negative entry/entries")
    in_shape, var_shape = tuple(input.shape), tuple(var.shape)
    if var_shape != in_shape:
        if in_shape[:-1] == var_shape:
            var = var.unsqueeze(-1)
        elif not (len(in_shape) == len(var_shape) and
                  sum(v for i, v in zip(in_shape, var_shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    # clamp for stability; the gradient passes through the clamp unchanged, as in PyTorch
    var = var + (ember.clamp(var, min=eps) - var).detach()
    diff = input - target
    loss = (ember.log(var) + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Multi-label one-versus-all logistic loss, averaged over the classes (last dimension).

    Parameters
    ----------
    input : Tensor
        Logits ``(N, C)`` or ``(C,)``.
    target : Tensor
        0/1 labels of ``input``'s shape.
    weight : Tensor, optional
        Weight of each class, broadcast to ``input``.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)
