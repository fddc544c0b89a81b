"""Folding an evaluation-mode batch norm into the convolution or linear layer before it."""
import copy

import ember
from ember.nn.parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("Fusion needs the batch norm's running statistics")


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` computing ``bn(conv(x))`` of the evaluation-mode modules.

    Parameters
    ----------
    conv : Module
        A convolution (with ``weight`` and ``bias``), in evaluation mode.
    bn : Module
        A batch norm with running statistics, in evaluation mode.
    transpose : bool, default False
        ``conv`` is a transposed convolution (output channels on dim 1 of its weight).

    Returns
    -------
    Module
        The fused convolution.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> conv, bn = nn.Conv2d(2, 3, 3).eval(), nn.BatchNorm2d(3).eval()
    >>> fused = nn.utils.fuse_conv_bn_eval(conv, bn)
    >>> x = ember.randn(1, 2, 5, 5)
    >>> bool(((fused(x) - bn(conv(x))).abs() < 1e-5).all())
    True
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """Weight and bias of a convolution followed by a batch norm with these statistics.

    Parameters
    ----------
    conv_w, conv_b : Tensor
        The convolution's weight and bias (``conv_b`` may be None).
    bn_rm, bn_rv : Tensor
        Running mean and variance.
    bn_eps : float
        The batch norm's epsilon.
    bn_w, bn_b : Tensor or None
        The batch norm's affine weight and bias (None: ones and zeros).
    transpose : bool, default False
        The convolution is transposed.

    Returns
    -------
    tuple of Parameter
        The fused weight and bias.
    """
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    if conv_b is None:
        conv_b = ember.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ember.ones_like(bn_rm)
    if bn_b is None:
        bn_b = ember.zeros_like(bn_rm)
    var_rsqrt = ember.rsqrt(bn_rv + bn_eps)
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (conv_w.dim() - 2)
    fused_w = (conv_w * (bn_w * var_rsqrt).reshape(shape)).to(weight_dtype)
    fused_b = ((conv_b - bn_rm) * var_rsqrt * bn_w + bn_b).to(bias_dtype)
    return (Parameter(fused_w.detach(), conv_w.requires_grad),
            Parameter(fused_b.detach(), conv_b.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` computing ``bn(linear(x))`` of the evaluation-mode modules.

    Parameters
    ----------
    linear : Linear
        In evaluation mode.
    bn : Module
        A batch norm with running statistics over ``linear.out_features`` features (or
        one), in evaluation mode.

    Returns
    -------
    Linear
        The fused layer.
    """
    _check_eval(linear, bn)
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features == bn.num_features or "
                             "bn.num_features == 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """Weight and bias of a linear layer followed by a batch norm with these statistics.

    Parameters
    ----------
    linear_w, linear_b : Tensor
        The layer's weight and bias (``linear_b`` may be None).
    bn_rm, bn_rv : Tensor
        Running mean and variance.
    bn_eps : float
        The batch norm's epsilon.
    bn_w, bn_b : Tensor
        The batch norm's affine weight and bias.

    Returns
    -------
    tuple of Parameter
        The fused weight and bias.
    """
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    if linear_b is None:
        linear_b = ember.zeros_like(bn_rm)
    scale = bn_w * ember.rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * scale.unsqueeze(-1).to(weight_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(bias_dtype)
    return (Parameter(fused_w.detach(), linear_w.requires_grad),
            Parameter(fused_b.detach(), linear_b.requires_grad))
