"""Pooling of :mod:`ember.nn.functional`: window and adaptive max/average pooling,
max unpooling and power-average pooling.

The work is done by the fused kernels of ``ember.ops.pool`` (differentiable ops);
this module checks the arguments as PyTorch does and shapes the results.
Adaptive pooling uses PyTorch's bins ``[floor(i * L / out), ceil((i + 1) * L / out))``.
Integer inputs, as in PyTorch: window max pooling of any integer dtype and int64 average
pooling (rounded toward zero), computed in float64 (exact below 2**53).
"""
import math

from ember.ops.autocast import autocasts
import ember
from ember._core import _pool
from ember.ops import pool as _ops
from ember.nn._functional.resample import interpolate  # noqa: F401  (its historical home)


def _integral(input):
    return not (input.is_floating_point() or input.is_complex() or input.dtype == ember.bool)


def _max_pool(input, spatial, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if _integral(input):
        # the kernels pool floating point: the maxima are found in float64 (exact below
        # 2**53), their values taken from the integers themselves
        _, indices = _max_pool(input.double(), spatial, kernel_size, stride, padding, dilation,
                               ceil_mode, True)
        values = _ops.gather_planes(input, indices, spatial)
        return (values, indices) if return_indices else values
    geometry = _pool.window_geometry(input, spatial, kernel_size, stride, padding, dilation,
                                     ceil_mode, f"max_pool{spatial}d")
    values, indices = _ops.max_pool(input, spatial, *geometry)
    return (values, indices) if return_indices else values


def _avg_pool(input, spatial, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    if input.dtype == ember.int64:
        # as PyTorch, the window sum divided by the divisor, rounded toward zero; the sums
        # and divisors are taken in float64 (exact below 2**53)
        def pool(x, divisor):
            return _avg_pool(x, spatial, kernel_size, stride, padding, ceil_mode,
                             count_include_pad, divisor)
        sums = pool(input.double(), 1)
        if divisor_override is None:
            ones = ember.ones(tuple(input.shape), dtype=ember.float64, device=input.device)
            divisor = pool(ones, 1) / pool(ones, None)
        else:
            divisor = divisor_override
        return ember.trunc(sums / divisor).to(ember.int64)
    kernel, stride, padding, _, outs = _pool.window_geometry(
        input, spatial, kernel_size, stride, padding, 1, ceil_mode, f"avg_pool{spatial}d")
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    return _ops.avg_pool(input, spatial, kernel, stride, padding, outs, bool(count_include_pad),
                         divisor_override)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of the last dimension of ``(N, C, L)`` or ``(C, L)``.

    Parameters
    ----------
    input : Tensor
    kernel_size : int or tuple
    stride : int or tuple, optional
        Defaults to ``kernel_size``.
    padding : int or tuple, optional
        Implicit ``-inf`` padding on both sides, at most half the kernel.
    dilation : int or tuple, optional
    ceil_mode : bool, optional
        Round the output size up (a last, partial window).
    return_indices : bool, optional
        Also return the flat (per-channel) input position of each maximum.

    Returns
    -------
    Tensor
    """
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of the last two dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size : int or tuple
    stride : int or tuple, optional
        Defaults to ``kernel_size``.
    padding : int or tuple, optional
    dilation : int or tuple, optional
    ceil_mode : bool, optional
    return_indices : bool, optional
        Also return the flat (per-channel) input position of each maximum.

    Returns
    -------
    Tensor
    """
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    kernel_size : int or tuple
    stride : int or tuple, optional
    padding : int or tuple, optional
    dilation : int or tuple, optional
    ceil_mode : bool, optional
    return_indices : bool, optional
        Also return the flat (per-channel) input position of each maximum.

    Returns
    -------
    Tensor
    """
    if return_indices:        # PyTorch's max_pool3d_with_indices: no autocast row
        return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)
    return _max_pool3d_values(input, kernel_size, stride, padding, dilation, ceil_mode)


@autocasts("max_pool3d")
def _max_pool3d_values(input, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, False)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows of the last dimension of ``(N, C, L)`` or ``(C, L)``.

    Parameters
    ----------
    input : Tensor
    kernel_size : int or tuple
    stride : int or tuple, optional
        Defaults to ``kernel_size``.
    padding : int or tuple, optional
        Implicit zero padding on both sides, at most half the kernel.
    ceil_mode : bool, optional
        Round the output size up (a last, partial window).
    count_include_pad : bool, optional
        Count the zero padding in the divisor.

    Returns
    -------
    Tensor
    """
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of the last two dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size : int or tuple
    stride : int or tuple, optional
    padding : int or tuple, optional
    ceil_mode : bool, optional
    count_include_pad : bool, optional
    divisor_override : int, optional
        Divide every window sum by this instead.

    Returns
    -------
    Tensor
    """
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


@autocasts("avg_pool3d")
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    kernel_size : int or tuple
    stride : int or tuple, optional
    padding : int or tuple, optional
    ceil_mode : bool, optional
    count_include_pad : bool, optional
    divisor_override : int, optional

    Returns
    -------
    Tensor
    """
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_sizes(input, output_size, spatial, name):
    """The checked output sizes, with PyTorch's error classes: a sequence of output sizes as
    long as the input's dimensions is a ValueError (2-D and 3-D poolings), one of another
    length than ``spatial`` a RuntimeError."""
    if not (output_size is None or isinstance(output_size, int)):
        if spatial > 1 and input.dim() <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        if len(output_size) != spatial:
            raise RuntimeError(f"{name}: output_size must be {spatial} values, got "
                               f"{list(output_size)}")
    return _pool.adaptive_sizes(input, spatial, output_size, name)


def _adaptive_avg(input, output_size, spatial, name):
    sizes = _adaptive_sizes(input, output_size, spatial, name)
    return _ops.adaptive_avg_pool(input, spatial, sizes)


def _adaptive_max(input, output_size, spatial, name, return_indices):
    sizes = _adaptive_sizes(input, output_size, spatial, name)
    values, indices = _ops.adaptive_max_pool(input, spatial, sizes)
    return (values, indices) if return_indices else values


def adaptive_avg_pool1d(input, output_size):
    """Mean over ``output_size`` adaptive bins of the last dimension.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)`` or ``(C, L)``.
    output_size : int

    Returns
    -------
    Tensor
    """
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Mean over adaptive bins of the last two dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    output_size : int or tuple
        ``None`` in the tuple keeps that dimension's size.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.adaptive_avg_pool2d(ember.ones(2, 3, 7, 5), 1).shape
    ember.Size([2, 3, 1, 1])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


@autocasts("adaptive_avg_pool3d")
def adaptive_avg_pool3d(input, output_size):
    """Mean over adaptive bins of the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    output_size : int or tuple

    Returns
    -------
    Tensor
    """
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` adaptive bins of the last dimension.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)`` or ``(C, L)``.
    output_size : int
    return_indices : bool, optional
        Also return the flat (per-channel) input position of each maximum.

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d", return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over adaptive bins of the last two dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    output_size : int or tuple
    return_indices : bool, optional
        Also return the flat (per-channel) input position of each maximum.

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", return_indices)


@autocasts("adaptive_max_pool3d")
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over adaptive bins of the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    output_size : int or tuple
    return_indices : bool, optional
        Also return the flat (per-channel) input position of each maximum.

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 3, "adaptive_max_pool3d", return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """:func:`max_pool1d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)`` or ``(C, L)``.
    kernel_size, stride, padding, dilation, ceil_mode
        As in :func:`max_pool1d`.
    return_indices : bool, optional
        Ignored: the indices are always returned, as in PyTorch.

    Returns
    -------
    tuple of Tensor
        The maxima and their flat per-channel input positions (int64).
    """
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """:func:`max_pool2d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size, stride, padding, dilation, ceil_mode
        As in :func:`max_pool2d`.
    return_indices : bool, optional
        Ignored: the indices are always returned, as in PyTorch.

    Returns
    -------
    tuple of Tensor
        The maxima and their flat per-channel input positions ``h * W + w`` (int64).

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
    >>> values, indices = F.max_pool2d_with_indices(x, 2)
    >>> indices
    tensor([[[[ 5,  7],
              [13, 15]]]])
    """
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """:func:`max_pool3d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    kernel_size, stride, padding, dilation, ceil_mode
        As in :func:`max_pool3d`.
    return_indices : bool, optional
        Ignored: the indices are always returned, as in PyTorch.

    Returns
    -------
    tuple of Tensor
    """
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool1d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
    output_size : int
    return_indices : bool, optional
        Ignored: the indices are always returned.

    Returns
    -------
    tuple of Tensor
    """
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d", True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool2d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
    output_size : int or tuple
    return_indices : bool, optional
        Ignored: the indices are always returned.

    Returns
    -------
    tuple of Tensor
    """
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", True)


@autocasts("adaptive_max_pool3d")
def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool3d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
    output_size : int or tuple
    return_indices : bool, optional
        Ignored: the indices are always returned.

    Returns
    -------
    tuple of Tensor
    """
    return _adaptive_max(input, output_size, 3, "adaptive_max_pool3d", True)


def _ints(value, spatial):
    return (int(value),) * spatial if not isinstance(value, (tuple, list)) else \
        tuple(int(v) for v in value) * (spatial if len(value) == 1 else 1)


def _unpool_size(input, spatial, kernel, stride, padding, output_size):
    """PyTorch's ``_unpool_output_size``."""
    in_sizes = tuple(input.shape)[input.dim() - spatial:]
    default = [(in_sizes[d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(spatial)]
    if output_size is None:
        return tuple(default)
    output_size = tuple(int(s) for s in output_size)
    if len(output_size) == spatial + 2:
        output_size = output_size[2:]
    if len(output_size) != spatial:
        raise ValueError(f"output_size should be a sequence containing {spatial} or {spatial + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for d in range(spatial):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{list(output_size)}" (dim {d} must be between '
                             f'{low} and {high})')
    return output_size


def _max_unpool(input, indices, spatial, kernel_size, stride, padding, output_size):
    name = f"max_unpool{spatial}d"
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}: Expected {spatial + 1}D or {spatial + 2}D tensor, but got "
                           f"{list(input.shape)}")
    kernel = _ints(kernel_size, spatial)
    stride = kernel if stride is None else _ints(stride, spatial)
    padding = _ints(padding, spatial)
    sizes = _unpool_size(input, spatial, kernel, stride, padding, output_size)
    out_shape = tuple(input.shape)[:input.dim() - spatial] + tuple(sizes)
    return _ops.max_unpool(input, indices, out_shape, spatial, name)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool1d`: values put back at their indices, zeros elsewhere.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)`` or ``(C, L)``, the pooled values.
    indices : Tensor
        The int64 indices returned with them.
    kernel_size, stride, padding
        The pooling's arguments (they give the default output size).
    output_size : tuple, optional
        The exact output size (within one stride of the default).

    Returns
    -------
    Tensor
    """
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


@autocasts("max_unpool2d")
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool2d`: values put back at their indices, zeros elsewhere.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``, the pooled values.
    indices : Tensor
        The int64 indices returned with them.
    kernel_size, stride, padding
        The pooling's arguments (they give the default output size).
    output_size : tuple, optional
        The exact output size (within one stride of the default).

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> x = ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> values, indices = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_unpool2d(values, indices, 2)
    tensor([[[[0., 0.],
              [0., 4.]]]])
    """
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


@autocasts("max_unpool3d")
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool3d`: values put back at their indices, zeros elsewhere.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    indices : Tensor
    kernel_size, stride, padding
    output_size : tuple, optional

    Returns
    -------
    Tensor
    """
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


def _lp_pool(input, spatial, norm_type, kernel_size, stride, ceil_mode):
    if isinstance(norm_type, (int, float)) and math.isinf(norm_type):
        # the limit of the power mean, as PyTorch: the largest (or, -inf, the smallest)
        # magnitude of the window; the powers would give 0, 1 or inf
        sign = 1 if norm_type > 0 else -1
        return sign * _max_pool(sign * input.abs(), spatial, kernel_size, stride, 0, 1,
                                ceil_mode, False)
    kernel = _ints(kernel_size, spatial)
    powered = _avg_pool(input.pow(norm_type), spatial, kernel_size, stride, 0, ceil_mode, True,
                        None)
    count = 1
    for k in kernel:
        count *= k
    return (ember.sign(powered) * ember.relu(ember.abs(powered))).mul(count).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)`` or ``(C, L)``.
    norm_type : float
        The power ``p`` (``inf`` is max pooling, 1 sum pooling).
    kernel_size : int
    stride : int, optional
        Defaults to ``kernel_size``.
    ceil_mode : bool, optional

    Returns
    -------
    Tensor
    """
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over the last two dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    norm_type : float
    kernel_size : int or tuple
    stride : int or tuple, optional
    ceil_mode : bool, optional

    Returns
    -------
    Tensor
    """
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    norm_type : float
    kernel_size : int or tuple
    stride : int or tuple, optional
    ceil_mode : bool, optional

    Returns
    -------
    Tensor
    """
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)
