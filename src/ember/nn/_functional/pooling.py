"""Pooling and interpolation of :mod:`ember.nn.functional`.

Adaptive pooling uses PyTorch's bins ``[floor(i * L / out), ceil((i + 1) * L / out))``
along each pooled dimension, one dimension at a time (mean and max over a box are both
separable); linear interpolation is one weight matrix per dimension.
"""
import math

import numpy as np

import ember
from ember.nn._functional.conv import _tuple, _windows
from ember.nn._functional.misc import pad as _pad


def _pool_geometry(input, spatial, kernel_size, stride, padding, dilation, ceil_mode, name):
    """Kernel, stride, padding, dilation and the extra right padding of ``ceil_mode``."""
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}: Expected {spatial + 1}D or {spatial + 2}D input, but got "
                           f"input of size: {list(input.shape)}")
    kernel = _tuple(kernel_size, spatial, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _tuple(stride, spatial, "stride")
    padding = _tuple(padding, spatial, "padding")
    dilation = _tuple(dilation, spatial, "dilation")
    extra = []
    for k in range(spatial):
        size = input.shape[input.dim() - spatial + k]
        span = dilation[k] * (kernel[k] - 1) + 1
        if padding[k] * 2 > kernel[k]:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={padding[k]}, kernel_size={kernel[k]} and "
                               f"dilation={dilation[k]}")
        reach = size + 2 * padding[k] - span
        out = (-(-reach // stride[k]) if ceil_mode else reach // stride[k]) + 1
        if ceil_mode and (out - 1) * stride[k] >= size + padding[k]:
            out -= 1  # the last window must start inside the input or its left padding
        if out < 1:
            raise RuntimeError(f"Given input size: {list(input.shape)}. Calculated output size "
                               f"is too small along dimension {k + 2}")
        extra.append((out - 1) * stride[k] + span - (size + 2 * padding[k]))
    return kernel, stride, padding, dilation, extra


def _pad_pairs(padding, extra):
    pads = []
    for p, e in zip(reversed(padding), reversed(extra)):
        pads += [p, p + max(e, 0)]
    return pads


def _max_pool(input, spatial, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    name = f"max_pool{spatial}d"
    kernel, stride, padding, dilation, extra = _pool_geometry(
        input, spatial, kernel_size, stride, padding, dilation, ceil_mode, name)
    pads = _pad_pairs(padding, extra)

    def window_rows(x):
        windows = _windows(x.reshape((-1, 1) + tuple(x.shape[-spatial:])), spatial, kernel,
                           stride, dilation)
        return windows.reshape(tuple(windows.shape[:2 + spatial]) + (-1,))

    pooled, argmax = ember.max(window_rows(_pad(input, pads, value=float("-inf"))), -1)
    out_shape = tuple(input.shape[:-spatial]) + tuple(pooled.shape[2:])
    pooled = pooled.reshape(out_shape)
    if not return_indices:
        return pooled
    # the flat input position of each window element, found the same way as the values
    spatial_shape = tuple(input.shape[-spatial:])
    count = 1
    for s in spatial_shape:
        count *= s
    positions = ember.arange(count, dtype=ember.int64).reshape((1, 1) + spatial_shape)
    position_rows = window_rows(_pad(positions, pads, value=-1))
    position_rows = position_rows.expand(tuple(argmax.shape) + (position_rows.shape[-1],))
    indices = position_rows.gather(-1, argmax.unsqueeze(-1)).squeeze(-1)
    return pooled, indices.reshape(out_shape)


def _avg_pool(input, spatial, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    name = f"avg_pool{spatial}d"
    kernel, stride, padding, dilation, extra = _pool_geometry(
        input, spatial, kernel_size, stride, padding, 1, ceil_mode, name)
    flat_input = input.reshape((-1, 1) + tuple(input.shape[-spatial:]))
    pads = _pad_pairs(padding, extra)

    def window_sums(x):
        windows = _windows(x, spatial, kernel, stride, dilation)
        return windows.sum(tuple(range(2 + spatial, 2 + 2 * spatial)))

    sums = window_sums(_pad(flat_input, pads))
    if divisor_override:
        divisor = divisor_override
    else:
        # count what each window covers: the input, plus the zero padding when counted
        # (never the extra right part of ceil_mode)
        ones = ember.ones((1, 1) + tuple(input.shape[-spatial:]), dtype=input.dtype)
        if count_include_pad:
            ones = _pad(ones, [p for p in reversed(padding) for _ in range(2)], value=1.0)
            pads = _pad_pairs((0,) * spatial, extra)
        divisor = window_sums(_pad(ones, pads))
    pooled = sums / divisor
    return pooled.reshape(tuple(input.shape[:-spatial]) + tuple(pooled.shape[2:]))


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
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


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



def _output_sizes(input, output_size, spatial, name):
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}(): Expected {spatial + 1}D or {spatial + 2}D tensor, but got "
                           f"{list(input.shape)}")
    sizes = (output_size,) * spatial if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"{name}: output_size must be {spatial} values, got {list(sizes)}")
    in_sizes = tuple(input.shape[-spatial:])
    if any(s == 0 for s in in_sizes) and input.numel() == 0 and input.dim() == spatial + 1:
        raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(input.shape)}")
    return tuple(i if o is None else o for o, i in zip(sizes, in_sizes))


def _bins(size, out):
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _average_matrix(size, out, dtype):
    """``(out, size)`` matrix whose rows average the bins."""
    rows = ember.zeros(out, size, dtype=dtype)
    for i, (start, stop) in enumerate(_bins(size, out)):
        rows[i, start:stop] = 1.0 / (stop - start)
    return rows


def _adaptive_avg(input, output_size, spatial, name):
    sizes = _output_sizes(input, output_size, spatial, name)
    result = input
    for k, out in enumerate(sizes):
        dim = input.dim() - spatial + k
        averages = _average_matrix(input.shape[dim], out, input.dtype)
        # contract dimension ``dim`` with the averaging matrix, keeping the dimension order
        result = ember.matmul(result.movedim(dim, -1), averages.t()).movedim(-1, dim)
    return result


def _adaptive_max(input, output_size, spatial, name, return_indices):
    if return_indices:
        raise NotImplementedError(f"{name}: return_indices=True is not supported by ember yet")
    sizes = _output_sizes(input, output_size, spatial, name)
    result = input
    for k, out in enumerate(sizes):
        dim = input.dim() - spatial + k
        bins = _bins(input.shape[dim], out)
        widest = max(stop - start for start, stop in bins)
        # each bin as ``widest`` positions, the short ones repeating their last element
        index = ember.tensor([[min(start + j, stop - 1) for j in range(widest)]
                              for start, stop in bins], dtype=ember.int64)
        gathered = result.movedim(dim, -1).index_select(-1, index.reshape(-1))
        gathered = gathered.reshape(tuple(gathered.shape[:-1]) + (out, widest))
        result = ember.max(gathered, -1).values.movedim(-1, dim)
    return result


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
        Not supported yet (only False).

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
        Not supported yet (only False).

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over adaptive bins of the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    output_size : int or tuple
    return_indices : bool, optional
        Not supported yet (only False).

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 3, "adaptive_max_pool3d", return_indices)


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _source_scale(in_size, out_size, scale_factor, align_corners):
    """PyTorch's ``area_pixel_compute_scale``: input pixels per output pixel."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale_factor if scale_factor else in_size / out_size


def _linear_matrix(in_size, out_size, scale, align_corners):
    """``(out, in)`` matrix of linear-interpolation weights along one dimension."""
    weights = np.zeros((out_size, in_size))
    for dst in range(out_size):
        src = dst * scale if align_corners else max((dst + 0.5) * scale - 0.5, 0.0)
        low = min(int(math.floor(src)), in_size - 1)
        high = min(low + 1, in_size - 1)
        fraction = src - low
        weights[dst, low] += 1.0 - fraction
        weights[dst, high] += fraction
    return weights


def _nearest_index(in_size, out_size, scale, exact):
    offset = 0.5 if exact else 0.0
    return [min(int(math.floor((dst + offset) * scale)), in_size - 1) for dst in range(out_size)]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions (all after the first two) of ``input``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, *spatial)`` with 1 to 3 spatial dimensions.
    size : int or tuple, optional
        Output spatial size (exactly one of ``size`` and ``scale_factor``).
    scale_factor : float or tuple, optional
        Multiplier of the spatial size (the output size is rounded down).
    mode : {'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear', 'area'}, optional
        ``'bicubic'`` is not supported yet.
    align_corners : bool, optional
        Linear modes only: map the corner pixels' centres onto each other.
    recompute_scale_factor : bool, optional
        Use the computed output size, not ``scale_factor``, to map coordinates.
    antialias : bool, optional
        Not supported (only False).

    Returns
    -------
    Tensor
    """
    spatial = input.dim() - 2
    if spatial not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.dim()}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != spatial:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{_LINEAR_MODES[mode] + 2}D input")
    if mode not in ("nearest", "nearest-exact", "area") + tuple(_LINEAR_MODES):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by ember")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by ember")
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = tuple(input.shape[2:])
    if size is not None:
        out_sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        scales = (None,) * spatial
    else:
        scales = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) \
            else tuple(scale_factor)
        out_sizes = tuple(int(math.floor(s * f)) for s, f in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if len(out_sizes) != spatial or len(scales) != spatial:
        raise ValueError(f"Input and output must have the same number of spatial dimensions, but "
                         f"got input with spatial dimensions of {list(in_sizes)} and output size of "
                         f"{list(out_sizes)}.")
    if mode == "area":
        return _adaptive_avg(input, out_sizes, spatial, "interpolate")
    result = input
    for k in range(spatial):
        dim = 2 + k
        in_size, out_size = in_sizes[k], out_sizes[k]
        if mode in _LINEAR_MODES:
            scale = _source_scale(in_size, out_size, scales[k], bool(align_corners))
            weights = ember.tensor(_linear_matrix(in_size, out_size, scale, bool(align_corners)),
                                   dtype=input.dtype)
            result = ember.matmul(result.movedim(dim, -1), weights.t()).movedim(-1, dim)
        else:
            scale = 1.0 / scales[k] if scales[k] else in_size / out_size
            index = ember.tensor(_nearest_index(in_size, out_size, scale, mode == "nearest-exact"),
                                 dtype=ember.int64)
            result = result.index_select(dim, index)
    return result
