"""Differentiable convolution ops over the fused kernels of ``ember._core._conv``.

Three linear ops close under differentiation:

* ``convolution(x, w)``: the forward convolution, ``A_w x`` (plus a bias);
* ``convolution_transpose(g, w)``: ``A_w^T g``, the input gradient of the
  convolution and the transposed convolution of ``nn.functional``;
* ``convolution_weight_grad(x, g)``: the weight gradient of the convolution,
  ``d <g, A_w x> / dw``.

Each one's derivative is written with the other two, so that gradients of
gradients (``create_graph=True``) are recorded like any other graph.  ``im2col``
and ``col2im`` (``unfold`` / ``fold``) are each other's adjoints.
"""
from ember._core import _conv
from ember._core._tensor import Tensor, _recorded, record
from ember.ops.derivatives import derivative


def _records(*tensors):
    return any(isinstance(t, Tensor) and _recorded(t) for t in tensors)


def _needs(ctx, *tensors):
    """Whether each of ``tensors`` (None where the argument was not a tensor) needs a
    gradient: ``ctx.needs_input_grad`` lists tensor arguments only."""
    flags = iter(ctx.needs_input_grad)
    return [t is not None and next(flags) for t in tensors]


def _channel_sum(grad):
    """A bias gradient: ``grad`` summed over every dim but the channels (dim 1)."""
    return grad.sum((0,) + tuple(range(2, grad.dim())))


def convolution(input, weight, bias, stride, padding, dilation, groups):
    """Convolution (cross-correlation) of ``input`` ``(N, C, *spatial)`` with ``weight``
    ``(O, C / groups, *kernel)``, plus ``bias`` ``(O,)`` when given.

    Parameters
    ----------
    input, weight : Tensor
    bias : Tensor or None
    stride, padding, dilation : tuple of int
        One value per spatial dim (1 to 3); ``padding`` is symmetric zero padding.
    groups : int

    Returns
    -------
    Tensor
        ``(N, O, *out)``.
    """
    args = (input, weight, bias, tuple(stride), tuple(padding), tuple(dilation), groups)
    if _records(input, weight, bias):
        return record("convolution", _conv.convolution, args)
    return _conv.convolution(*args)


def convolution_transpose(input, weight, bias, output_size, stride, padding, dilation, groups):
    """Transposed convolution: the adjoint of :func:`convolution` with ``weight``
    ``(C_in, C_out / groups, *kernel)`` applied to ``input`` ``(N, C_in, *spatial)``.

    Parameters
    ----------
    input, weight : Tensor
    bias : Tensor or None
        ``(C_out,)``.
    output_size : tuple of int
        Spatial size of the result; the convolution must map it to ``spatial``.
    stride, padding, dilation : tuple of int
    groups : int

    Returns
    -------
    Tensor
        ``(N, C_out, *output_size)``.
    """
    args = (input, weight, bias, tuple(output_size), tuple(stride), tuple(padding),
            tuple(dilation), groups)
    if _records(input, weight, bias):
        return record("convolution_transpose", _conv.convolution_transpose, args)
    return _conv.convolution_transpose(*args)


def convolution_weight_grad(input, grad, kernel_size, stride, padding, dilation, groups):
    """The gradient of a convolution's weight from its ``input`` and output gradient.

    Parameters
    ----------
    input : Tensor
        ``(N, C, *spatial)``.
    grad : Tensor
        ``(N, O, *out)``.
    kernel_size, stride, padding, dilation : tuple of int
    groups : int

    Returns
    -------
    Tensor
        ``(O, C / groups, *kernel_size)``.
    """
    args = (input, grad, tuple(kernel_size), tuple(stride), tuple(padding), tuple(dilation),
            groups)
    if _records(input, grad):
        return record("convolution_weight_grad", _conv.convolution_weight_grad, args)
    return _conv.convolution_weight_grad(*args)


def im2col(input, kernel_size, stride, padding, dilation):
    """Sliding windows of ``input`` ``(N, C, *spatial)`` as columns ``(N, C * prod(kernel),
    L)``.

    Parameters
    ----------
    input : Tensor
    kernel_size, stride, padding, dilation : tuple of int

    Returns
    -------
    Tensor
    """
    args = (input, tuple(kernel_size), tuple(stride), tuple(padding), tuple(dilation))
    if _records(input):
        return record("im2col", _conv.im2col_batch, args)
    return _conv.im2col_batch(*args)


def col2im(input, output_size, kernel_size, stride, padding, dilation):
    """Columns ``(N, C * prod(kernel), L)`` summed onto an image ``(N, C, *output_size)``.

    Parameters
    ----------
    input : Tensor
    output_size, kernel_size, stride, padding, dilation : tuple of int

    Returns
    -------
    Tensor
    """
    args = (input, tuple(output_size), tuple(kernel_size), tuple(stride), tuple(padding),
            tuple(dilation))
    if _records(input):
        return record("col2im", _conv.col2im_batch, args)
    return _conv.col2im_batch(*args)


@derivative("convolution")
def _convolution_backward(ctx, grad, input, weight, bias, stride, padding, dilation, groups):
    need_input, need_weight, need_bias = _needs(ctx, input, weight, bias)
    grad_input = grad_weight = grad_bias = None
    if need_input:
        grad_input = convolution_transpose(grad, weight, None, tuple(input.shape[2:]), stride,
                                           padding, dilation, groups)
    if need_weight:
        grad_weight = convolution_weight_grad(input, grad, tuple(weight.shape[2:]), stride,
                                              padding, dilation, groups)
    if need_bias:
        grad_bias = _channel_sum(grad)
    return grad_input, grad_weight, grad_bias


@derivative("convolution_transpose", node="ConvolutionBackward0")
def _convolution_transpose_backward(ctx, grad, input, weight, bias, output_size, stride,
                                    padding, dilation, groups):
    need_input, need_weight, need_bias = _needs(ctx, input, weight, bias)
    grad_input = grad_weight = grad_bias = None
    if need_input:
        grad_input = convolution(grad, weight, None, stride, padding, dilation, groups)
    if need_weight:
        grad_weight = convolution_weight_grad(grad, input, tuple(weight.shape[2:]), stride,
                                              padding, dilation, groups)
    if need_bias:
        grad_bias = _channel_sum(grad)
    return grad_input, grad_weight, grad_bias


@derivative("convolution_weight_grad")
def _convolution_weight_grad_backward(ctx, grad, input, out_grad, kernel_size, stride, padding,
                                      dilation, groups):
    need_input, need_out_grad = _needs(ctx, input, out_grad)
    grad_input = grad_out_grad = None
    if need_input:
        grad_input = convolution_transpose(out_grad, grad, None, tuple(input.shape[2:]), stride,
                                           padding, dilation, groups)
    if need_out_grad:
        grad_out_grad = convolution(input, grad, None, stride, padding, dilation, groups)
    return grad_input, grad_out_grad


@derivative("im2col", node="Im2ColBackward0", save_inputs=False)
def _im2col_backward(ctx, grad, input, kernel_size, stride, padding, dilation):
    return col2im(grad, tuple(input.shape[2:]), kernel_size, stride, padding, dilation)


@derivative("col2im", node="Col2ImBackward0", save_inputs=False)
def _col2im_backward(ctx, grad, input, output_size, kernel_size, stride, padding, dilation):
    return im2col(grad, kernel_size, stride, padding, dilation)
