"""Normalisation functions of :mod:`ember.nn.functional` (batch, instance, layer,
group and RMS norm): fused kernels (:mod:`ember.ops.nn_fused`) when the input and
parameters share one floating dtype, compositions of differentiable ember ops
otherwise.  A float16 or bfloat16 input with float32 parameters (a CPU autocast region,
a half model with float32 norm layers) is normalised in float32 and the result has the
input's dtype, as in PyTorch."""
from ember.ops.autocast import autocasts
import numpy as np

import ember
from ember.ops.nn_fused import fused_batch_norm, fused_group_norm, fused_layer_norm

_FLOATING = (ember.float16, ember.bfloat16, ember.float32, ember.float64)


def _channel_view(tensor, ndim):
    """``(C,)`` parameters shaped ``(1, C, 1, ...)`` to broadcast over an ``(N, C, *)`` input."""
    return tensor.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(normalized, weight, bias, view):
    if weight is not None:
        normalized = normalized * view(weight)
    if bias is not None:
        normalized = normalized + view(bias)
    return normalized


def _fusable(input, *tensors):
    """Whether the fused kernels apply: one floating dtype for all the given tensors."""
    dtype = input.dtype
    return dtype in _FLOATING and all(t is None or t.dtype == dtype for t in tensors)


def _mixed(input, *params):
    """Whether ``input`` is float16 or bfloat16 and the parameters float32 or its dtype,
    some float32: the mixed case normalised in float32 and cast back to the input dtype."""
    return (input.dtype in (ember.float16, ember.bfloat16)
            and any(p is not None and p.dtype == ember.float32 for p in params)
            and all(p is None or p.dtype in (input.dtype, ember.float32) for p in params))


def _update_running(running, batch_value, momentum):
    with ember.no_grad():
        running.mul_(1 - momentum).add_(batch_value.detach().to(running.dtype) * momentum)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalise each channel (dimension 1) of ``input`` over the batch and spatial dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, *)``.
    running_mean, running_var : Tensor or None
        ``(C,)`` running statistics: used when not ``training``; updated in place
        (``(1 - momentum) * running + momentum * batch``, unbiased variance) when training.
    weight, bias : Tensor, optional
        ``(C,)`` affine parameters.
    training : bool, optional
        Use the batch statistics.
    momentum : float, optional
    eps : float, optional
        Added to the variance.

    Returns
    -------
    Tensor
    """
    if input.dim() < 2:
        raise ValueError(f"expected 2D or more input (got {input.dim()}D input)")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if input.numel() == 0:
        # nothing to normalise: as PyTorch, a copy (still in the affine parameters' graph)
        # and the running statistics left alone
        result = input.clone()
        if weight is not None:
            result = result * weight[0]
        return result if bias is None else result + bias[0]
    dims = (0,) + tuple(range(2, input.dim()))
    if training:
        count = input.numel() // input.shape[1] if input.shape[1] else 0
        if count == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input size "
                             f"{input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    if _mixed(input, running_mean, running_var, weight, bias):
        return batch_norm(input.float(), running_mean, running_var, weight, bias, training,
                          momentum, eps).to(input.dtype)
    if _fusable(input, running_mean, running_var, weight, bias):
        return fused_batch_norm(input, running_mean, running_var, weight, bias, training,
                                momentum, eps)
    if training:
        mean = input.mean(dims)
        var = input.var(dims, correction=0)
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:
            _update_running(running_var, var * (count / max(count - 1, 1)), momentum)
    else:
        mean, var = running_mean, running_var
    def view(t):
        return _channel_view(t, input.dim())

    normalized = (input - view(mean)) * ember.rsqrt(view(var) + eps)
    return _affine(normalized, weight, bias, view)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalise each channel of each sample over its spatial dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, *)`` with at least one spatial dimension.
    running_mean, running_var : Tensor, optional
        ``(C,)`` running statistics, updated in place with the batch average of the
        instance statistics when ``use_input_stats``.
    weight, bias : Tensor, optional
        ``(C,)`` affine parameters.
    use_input_stats : bool, optional
        Use each instance's statistics (else the running ones).
    momentum : float, optional
    eps : float, optional

    Returns
    -------
    Tensor
    """
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or more input (got {input.dim()}D input)")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = tuple(range(2, input.dim()))
    count = input.numel() // (input.shape[0] * input.shape[1]) if input.numel() else 0
    if count == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    if _mixed(input, running_mean, running_var, weight, bias):
        return instance_norm(input.float(), running_mean, running_var, weight, bias,
                             use_input_stats, momentum, eps).to(input.dtype)
    if _fusable(input, running_mean, running_var, weight, bias):
        return _fused_instance_norm(input, running_mean, running_var, weight, bias, momentum,
                                    eps)
    mean = input.mean(spatial, keepdim=True)
    var = input.var(spatial, keepdim=True, correction=0)
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(input.shape[:2]).mean(0), momentum)
    if running_var is not None:
        unbiased = var.reshape(input.shape[:2]) * (count / max(count - 1, 1))
        _update_running(running_var, unbiased.mean(0), momentum)
    normalized = (input - mean) * ember.rsqrt(var + eps)
    return _affine(normalized, weight, bias, lambda t: _channel_view(t, input.dim()))


def _fused_instance_norm(input, running_mean, running_var, weight, bias, momentum, eps):
    """Instance norm as the batch norm of an ``(1, N * C, *)`` view (as PyTorch does)."""
    n, channels = input.shape[0], input.shape[1]

    def per_instance(t):
        return None if t is None else t.expand(n, channels).reshape(-1)

    def repeated_stats(t):
        return None if t is None else t.expand(n, channels).contiguous().reshape(-1)

    instances_mean, instances_var = repeated_stats(running_mean), repeated_stats(running_var)
    out = fused_batch_norm(input.reshape((1, n * channels) + tuple(input.shape[2:])),
                           instances_mean, instances_var, per_instance(weight), per_instance(bias),
                           True, momentum, eps)
    with ember.no_grad():
        for running, instances in ((running_mean, instances_mean), (running_var, instances_var)):
            if running is not None and n:
                running.copy_(instances.reshape(n, channels).mean(0))
    return out.reshape(tuple(input.shape))


def _normalized_dims(input, normalized_shape):
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    count = len(normalized_shape)
    if count == 0 or tuple(input.shape[input.dim() - count:]) != normalized_shape or \
            count > input.dim():
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with "
                           f"shape [*, {', '.join(map(str, normalized_shape))}], but got input of "
                           f"size{list(input.shape)}")
    return tuple(range(input.dim() - count, input.dim()))


def _count(input, dims):
    count = 1
    for d in dims:
        count *= input.shape[d]
    return count


@autocasts("layer_norm")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the last ``len(normalized_shape)`` dimensions.

    Parameters
    ----------
    input : Tensor
    normalized_shape : int or sequence of int
        The trailing shape of ``input`` to normalise over.
    weight, bias : Tensor, optional
        Elementwise affine parameters of shape ``normalized_shape``.
    eps : float, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.layer_norm(ember.tensor([[1.0, 3.0]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    dims = _normalized_dims(input, normalized_shape)
    if _mixed(input, weight, bias):
        return layer_norm(input.float(), normalized_shape, weight, bias, eps).to(input.dtype)
    if _fusable(input, weight, bias) and _count(input, dims):
        return fused_layer_norm(input, _count(input, dims), weight, bias, eps)
    mean = input.mean(dims, keepdim=True)
    var = input.var(dims, keepdim=True, correction=0)
    normalized = (input - mean) * ember.rsqrt(var + eps)
    return _affine(normalized, weight, bias, lambda t: t)


@autocasts("rms_norm")
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Divide by the root mean square over the last ``len(normalized_shape)`` dimensions.

    Parameters
    ----------
    input : Tensor
    normalized_shape : int or sequence of int
    weight : Tensor, optional
        Elementwise scale of shape ``normalized_shape``.
    eps : float, optional
        Added to the mean square; defaults to the machine epsilon of the dtype the
        computation runs in: float64 for a float64 input, else float32 (PyTorch's
        ``opmath`` type, so not bfloat16's coarse ``2 ** -7``).

    Returns
    -------
    Tensor
    """
    dims = _normalized_dims(input, normalized_shape)
    if eps is None:
        # float16/bfloat16 compute in float32, whose epsilon PyTorch uses for them too
        eps = float(np.finfo(np.float64 if input.dtype == ember.float64 else np.float32).eps)
    if _mixed(input, weight):
        return rms_norm(input.float(), normalized_shape, weight, eps).to(input.dtype)
    if _fusable(input, weight) and _count(input, dims):
        return fused_layer_norm(input, _count(input, dims), weight, None, eps, center=False)
    result = input * ember.rsqrt((input * input).mean(dims, keepdim=True) + eps)
    return result if weight is None else result * weight


@autocasts("group_norm")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each group of ``C / num_groups`` channels of each sample.

    Parameters
    ----------
    input : Tensor
        ``(N, C, *)``.
    num_groups : int
        Divides ``C``.
    weight, bias : Tensor, optional
        ``(C,)`` affine parameters.
    eps : float, optional

    Returns
    -------
    Tensor
    """
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but "
                           f"got input of shape {list(input.shape)} and num_groups={num_groups}")
    if _mixed(input, weight, bias):
        return group_norm(input.float(), num_groups, weight, bias, eps).to(input.dtype)
    if _fusable(input, weight, bias):
        return fused_group_norm(input, num_groups, weight, bias, eps)
    grouped = input.reshape(input.shape[0], num_groups, -1)
    mean = grouped.mean(2, keepdim=True)
    var = grouped.var(2, keepdim=True, correction=0)
    normalized = ((grouped - mean) * ember.rsqrt(var + eps)).reshape(tuple(input.shape))
    return _affine(normalized, weight, bias, lambda t: _channel_view(t, input.dim()))
