"""Resampling of :mod:`ember.nn.functional`: interpolation, pixel and channel shuffles,
grid sampling and affine grids.

Interpolation is separable: per resized dimension, the source taps and weights of each
output (linear or cubic: a matmul by the ``(out, in)`` weight matrix on short dimensions,
gathers of the taps on long ones, as audio) or one index per output position (nearest);
``'area'`` is adaptive average pooling.
Grid sampling is the op of ``ember.ops.grid`` (compiled kernels on the CPU),
differentiable in the input and the grid.  The rest is built on differentiable ember
ops.
"""
from ember.ops.autocast import autocasts
import math
import warnings

import numpy as np

import ember
from ember._core import _pool
from ember._core._dtype import TORCH_NAMES
from ember.ops import grid as _grid_ops, pool as _pool_ops

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75   # PyTorch's cubic convolution coefficient
_TORCH_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                     "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                     "complex128": "ComplexDouble"}


def _source_scale(in_size, out_size, scale_factor, align_corners):
    """PyTorch's ``area_pixel_compute_scale``: input pixels per output pixel."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale_factor if scale_factor else in_size / out_size


def _antialias_matrix(in_size, out_size, scale, cubic):
    """``(out, in)`` matrix of PyTorch's anti-aliased resampling along one dimension
    (``_compute_weights_aa``): the triangle (or a = -0.5 cubic) filter stretched by the
    downscale factor ``scale``, each row normalized."""
    support = (2.0 if cubic else 1.0) * max(scale, 1.0)
    inv_scale = 1.0 / scale if scale >= 1.0 else 1.0
    weights = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), in_size)
        x = np.abs((np.arange(low, high) - center + 0.5) * inv_scale)
        if cubic:
            a = -0.5
            row = np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                           np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))
        else:
            row = np.maximum(1.0 - x, 0.0)
        total = row.sum()
        weights[i, low:high] = row / total if total != 0 else row
    return weights


def _linear_taps(in_size, out_size, scale, align_corners):
    """``(out, 2)`` source indices and weights of linear interpolation along one dimension."""
    dst = np.arange(out_size, dtype=np.float64)
    src = dst * scale if align_corners else np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    fraction = src - low
    return np.stack([low, high], 1), np.stack([1.0 - fraction, fraction], 1)


def _cubic_taps(in_size, out_size, scale, align_corners):
    """``(out, 4)`` source indices (clamped) and cubic-convolution weights along one
    dimension."""
    a = _CUBIC_A
    dst = np.arange(out_size, dtype=np.float64)
    src = dst * scale if align_corners else (dst + 0.5) * scale - 0.5
    low = np.floor(src)
    t = src - low
    weights = np.stack([((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
                        ((a + 2) * t - (a + 3)) * t * t + 1,
                        ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
                        ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a], 1)
    index = np.clip(low.astype(np.int64)[:, None] + np.arange(-1, 3), 0, in_size - 1)
    return index, weights


# up to this many (out, in) weights a dimension is resampled by a matmul (BLAS is fastest
# on image sizes); beyond, by gathering each output's taps (a second of audio would take
# a dense matrix of gigabytes)
_DENSE_WEIGHTS = 1 << 20


def _resample_taps(input, dim, index, weights):
    """Resample ``input`` along ``dim``: output ``i`` is ``sum_k weights[i, k] *
    input[index[i, k]]``."""
    out_size, taps = index.shape
    in_size = input.shape[dim]
    if out_size * in_size <= _DENSE_WEIGHTS:
        matrix = np.zeros((out_size, in_size))
        np.add.at(matrix, (np.arange(out_size)[:, None], index), weights)
        matrix = ember.tensor(matrix, dtype=input.dtype, device=input.device)
        return ember.matmul(input.movedim(dim, -1), matrix.t()).movedim(-1, dim)
    shape = (out_size,) + (1,) * (input.dim() - dim - 1)
    result = None
    for k in range(taps):
        tap = input.index_select(dim, ember.tensor(index[:, k], device=input.device))
        tap = tap * ember.tensor(weights[:, k], dtype=input.dtype, device=input.device).view(shape)
        result = tap if result is None else result + tap
    return result


def _traced(*sizes):
    """Whether a size was read from a tensor by ember.jit's tracer (an int subclass that
    stays symbolic): the weights are then made with ops the graph records."""
    return any(type(size) is not int and isinstance(size, int) for size in sizes)


def _size_tensor(size):
    return ember.full((), size, dtype=ember.float64)


def _traced_linear_matrix(in_size, out_size, scale_factor, align_corners, dtype, device):
    """:func:`_linear_taps` as an ``(out, in)`` matrix made of ember ops on the (traced)
    sizes, in float64."""
    n_in, n_out = _size_tensor(in_size), _size_tensor(out_size)
    if align_corners:
        scale = ember.where(n_out > 1, (n_in - 1) / (n_out - 1).clamp(min=1), n_out * 0)
    else:
        scale = 1.0 / scale_factor if scale_factor else n_in / n_out
    dst = ember.arange(out_size, dtype=ember.float64)
    src = dst * scale if align_corners else ((dst + 0.5) * scale - 0.5).clamp(min=0.0)
    low = ember.minimum(src.floor(), n_in - 1)
    high = ember.minimum(low + 1, n_in - 1)
    fraction = (src - low)[:, None]
    columns = ember.arange(in_size, dtype=ember.float64)[None, :]
    weights = ((columns == low[:, None]) * (1.0 - fraction)
               + (columns == high[:, None]) * fraction)
    return weights.to(dtype=dtype, device=device)


def _traced_nearest_index(in_size, out_size, scale_factor, exact, device):
    """:func:`_nearest_index` made of ember ops on the (traced) sizes."""
    n_in, n_out = _size_tensor(in_size), _size_tensor(out_size)
    scale = 1.0 / scale_factor if scale_factor else n_in / n_out
    dst = ember.arange(out_size, dtype=ember.float64) + (0.5 if exact else 0.0)
    return ember.minimum((dst * scale).floor(), n_in - 1).to(dtype=ember.int64, device=device)


def _nearest_index(in_size, out_size, scale, exact):
    offset = 0.5 if exact else 0.0
    dst = np.arange(out_size, dtype=np.float64) + offset
    return np.minimum(np.floor(dst * scale).astype(np.int64), in_size - 1)


@autocasts("interpolate")
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions (all after the first two) of ``input``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, *spatial)`` with 1 to 3 spatial dimensions.  The interpolating modes take
        floating point, or uint8 images with ``'bilinear'`` and ``'bicubic'`` (rounded).
    size : int or tuple, optional
        Output spatial size (exactly one of ``size`` and ``scale_factor``).
    scale_factor : float or tuple, optional
        Multiplier of the spatial size (the output size is rounded down).
    mode : {'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'}
        Default ``'nearest'``.
    align_corners : bool, optional
        Linear modes only: map the corner pixels' centres onto each other.
    recompute_scale_factor : bool, optional
        Use the computed output size, not ``scale_factor``, to map coordinates.
    antialias : bool, optional
        ``'bilinear'`` and ``'bicubic'`` only: low-pass filter when shrinking, PyTorch's
        anti-aliased kernels (which also serve upsampling; bicubic's is then a = -0.5).

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
    if antialias and (mode not in ("bilinear", "bicubic") or spatial != 2):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
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
        # an integral factor multiplies the size as an int (a traced size stays symbolic)
        out_sizes = tuple(s * int(f) if float(f).is_integer() else int(math.floor(s * f))
                          for s, f in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if len(out_sizes) != spatial or len(scales) != spatial:
        raise ValueError(f"Input and output must have the same number of spatial dimensions, but "
                         f"got input with spatial dimensions of {list(in_sizes)} and output size of "
                         f"{list(out_sizes)}.")
    # PyTorch resizes uint8 images (bilinear and bicubic only) one dimension at a time,
    # width first, rounding each pass into [0, 255]; float32 here, not its fixed point
    image = mode in _LINEAR_MODES and input.dtype == ember.uint8
    if mode in _LINEAR_MODES and not (input.dtype.is_floating_point or input.dtype.is_complex):
        if not image or mode not in ("bilinear", "bicubic"):
            raise NotImplementedError(f"\"upsample_{mode}\" not implemented for "
                                      f"'{TORCH_NAMES[input.dtype.num]}'")
        input = input.float()
    if mode != "area" and not _traced(*in_sizes, *out_sizes) and \
            min(in_sizes + out_sizes) <= 0:
        names = ("D", "H", "W")[3 - spatial:]
        given = [", ".join(f"{n}: {s}" for n, s in zip(names, sizes))
                 for sizes in (in_sizes, out_sizes)]
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({given[0]}){' and' if spatial == 1 else ''} output ({given[1]})")
    if mode == "area":
        sizes = _pool.adaptive_sizes(input, spatial, out_sizes, f"adaptive_avg_pool{spatial}d")
        return _pool_ops.adaptive_avg_pool(input, spatial, sizes)
    result = input
    for k in reversed(range(spatial)) if image else range(spatial):
        dim = 2 + k
        in_size, out_size = in_sizes[k], out_sizes[k]
        # sizes read by ember.jit's tracer: weights made with recorded ops, so that the
        # graph resizes to the sizes it runs at (bicubic weights stay those of the trace)
        traced = _traced(out_size) and mode != "bicubic" and not antialias
        if mode in _LINEAR_MODES and traced:
            weights = _traced_linear_matrix(in_size, out_size, scales[k], bool(align_corners),
                                            input.dtype, input.device)
            result = ember.matmul(result.movedim(dim, -1), weights.t()).movedim(-1, dim)
        elif mode in _LINEAR_MODES:
            scale = _source_scale(in_size, out_size, scales[k], bool(align_corners))
            if antialias:
                matrix = _antialias_matrix(in_size, out_size, scale, mode == "bicubic")
                weights = ember.tensor(matrix, dtype=input.dtype, device=input.device)
                result = ember.matmul(result.movedim(dim, -1), weights.t()).movedim(-1, dim)
            else:
                taps = _cubic_taps if mode == "bicubic" else _linear_taps
                result = _resample_taps(result, dim, *taps(in_size, out_size, scale,
                                                           bool(align_corners)))
        elif traced:
            index = _traced_nearest_index(in_size, out_size, scales[k],
                                          mode == "nearest-exact", input.device)
            result = result.index_select(dim, index)
        else:
            scale = 1.0 / scales[k] if scales[k] else in_size / out_size
            index = ember.tensor(_nearest_index(in_size, out_size, scale, mode == "nearest-exact"),
                                 dtype=ember.int64, device=input.device)
            result = result.index_select(dim, index)
        if image:
            result = result.round().clamp(0, 255)
    return result.to(ember.uint8) if image else result


def _deprecated(name):
    warnings.warn(f"nn.functional.{name} is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (warns, as in PyTorch).

    Parameters
    ----------
    input : Tensor
    size : int or tuple, optional
    scale_factor : float or tuple, optional
    mode : str, optional
    align_corners : bool, optional

    Returns
    -------
    Tensor
    """
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: :func:`interpolate` with ``mode='nearest'``.

    Parameters
    ----------
    input : Tensor
    size : int or tuple, optional
    scale_factor : float or tuple, optional

    Returns
    -------
    Tensor
    """
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: :func:`interpolate` with ``mode='bilinear', align_corners=True``.

    Parameters
    ----------
    input : Tensor
    size : int or tuple, optional
    scale_factor : float or tuple, optional

    Returns
    -------
    Tensor
    """
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _shuffle_checks(input, factor, name, what):
    if input.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {input.dim()} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C * r * r, H, W)`` into ``(*, C, H * r, W * r)``.

    Parameters
    ----------
    input : Tensor
    upscale_factor : int
        ``r``.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.pixel_shuffle(ember.arange(8.0).reshape(1, 4, 1, 2), 2)
    tensor([[[[0., 2., 1., 3.],
              [4., 6., 5., 7.]]]])
    """
    r = int(upscale_factor)
    _shuffle_checks(input, r, "pixel_shuffle", "upscale_factor")
    *lead, channels, height, width = tuple(input.shape)
    if channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={channels} is not "
                           f"divisible by {r * r}")
    n = len(lead)
    split = input.reshape(tuple(lead) + (channels // (r * r), r, r, height, width))
    moved = split.permute(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return moved.reshape(tuple(lead) + (channels // (r * r), height * r, width * r))


def pixel_unshuffle(input, downscale_factor):
    """Rearrange ``(*, C, H * r, W * r)`` into ``(*, C * r * r, H, W)`` (inverse of
    :func:`pixel_shuffle`).

    Parameters
    ----------
    input : Tensor
    downscale_factor : int
        ``r``.

    Returns
    -------
    Tensor
    """
    r = int(downscale_factor)
    _shuffle_checks(input, r, "pixel_unshuffle", "downscale_factor")
    *lead, channels, height, width = tuple(input.shape)
    for size, which, dim in ((height, "height", -2), (width, "width", -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {which} to be divisible by "
                               f"downscale_factor, but input.size({dim})={size} is not divisible "
                               f"by {r}")
    n = len(lead)
    split = input.reshape(tuple(lead) + (channels, height // r, r, width // r, r))
    moved = split.permute(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return moved.reshape(tuple(lead) + (channels * r * r, height // r, width // r))


def channel_shuffle(input, groups):
    """Interleave the channels of ``(N, C, *)``: ``C = g * k`` viewed as ``(g, k)`` is
    transposed to ``(k, g)``.

    Parameters
    ----------
    input : Tensor
    groups : int

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.channel_shuffle(ember.arange(4.0).reshape(1, 4, 1), 2).flatten()
    tensor([0., 2., 1., 3.])
    """
    groups = int(groups)
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.dim()} dimension(s)")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    batch, channels, *rest = tuple(input.shape)
    if channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} "
                           f"channels and {groups} groups.")
    split = input.reshape((batch, groups, channels // groups) + tuple(rest))
    return split.transpose(1, 2).reshape(tuple(input.shape))


# ---------------------------------------------------------------- grid sampling

def _linspace_from_neg_one(steps, align_corners, dtype, device):
    if steps <= 1:
        return ember.zeros(max(steps, 1), dtype=dtype, device=device)
    line = ember.linspace(-1.0, 1.0, steps, dtype=dtype, device=device)
    return line if align_corners else line * ((steps - 1) / steps)


def _grid_align_corners(align_corners):
    """``align_corners`` of the grid functions: None warns, as PyTorch does, and is False."""
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                      "old behavior is desired. See the documentation of grid_sample for "
                      "details.", stacklevel=3)
    return bool(align_corners)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid of an affine transform, for :func:`grid_sample`.

    Parameters
    ----------
    theta : Tensor
        ``(N, 2, 3)`` (2-D) or ``(N, 3, 4)`` (3-D) affine matrices.
    size : tuple
        The output size ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
    align_corners : bool, optional
        As in :func:`grid_sample` (default False).

    Returns
    -------
    Tensor
        ``(N, H, W, 2)`` or ``(N, D, H, W, 3)`` normalised ``(x, y[, z])`` coordinates.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> identity = ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> F.affine_grid(identity, (1, 1, 1, 2), align_corners=True)
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]])
    """
    align_corners = _grid_align_corners(align_corners)
    size = tuple(int(s) for s in size)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    spatial = len(size) - 2
    if spatial not in (2, 3):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    rows = spatial
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (rows, rows + 1):
        kind = "2D affine matrices of shape Nx2x3" if spatial == 2 else \
            "3D affine matrices of shape Nx3x4"
        raise ValueError(f"Expected a batch of {kind} for size {list(size)}. Got "
                         f"{list(theta.shape)}.")
    if theta.shape[0] != size[0]:
        raise ValueError(f"Expected a batch of affine matrices of size {size[0]}, got "
                         f"{theta.shape[0]}")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    sizes = size[2:]                      # (H, W) or (D, H, W)
    # base coordinates (x, y[, z], 1) at every output position; x runs along the last dim
    axes = []
    for k in range(spatial):
        dim = spatial - 1 - k             # x is the last spatial dim
        line = _linspace_from_neg_one(sizes[dim], align_corners, theta.dtype, theta.device)
        view = [1] * spatial
        view[dim] = sizes[dim]
        axes.append(line.reshape(view).expand(sizes))
    axes.append(ember.ones(sizes, dtype=theta.dtype, device=theta.device))
    base = ember.stack(axes, -1).reshape(1, -1, spatial + 1)
    grid = ember.matmul(base, theta.transpose(1, 2))
    return grid.reshape((size[0],) + sizes + (spatial,))


@autocasts("grid_sample")
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the normalised positions of ``grid``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
    grid : Tensor
        ``(N, H_out, W_out, 2)`` or ``(N, D_out, H_out, W_out, 3)`` coordinates ``(x, y[, z])``
        in ``[-1, 1]`` (``-1`` the left/top edge).
    mode : {'bilinear', 'nearest', 'bicubic'}, optional
        ``'bicubic'`` (4-D input only) uses PyTorch's cubic convolution (``A = -0.75``)
        over 4 x 4 neighbours, each read with ``padding_mode``.
    padding_mode : {'zeros', 'border', 'reflection'}, optional
        Values read outside the input.
    align_corners : bool, optional
        ``-1`` and ``1`` are the centres (True) or the outer edges (False, default) of the
        corner pixels.

    Returns
    -------
    Tensor
        ``(N, C, H_out, W_out)`` or ``(N, C, D_out, H_out, W_out)``.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> image = ember.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    >>> F.grid_sample(image, ember.zeros(1, 1, 1, 2), align_corners=True)
    tensor([[[[1.5000]]]])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align_corners = _grid_align_corners(align_corners)
    spatial = input.dim() - 2
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected {4 if input.dim() == 4 else 5}D input and "
                           f"grid with same number of dimensions, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != spatial:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {spatial} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and spatial != 2:
        raise RuntimeError(f"grid_sampler(): bicubic interpolation only supports 4D input, "
                           f"but got input with sizes {list(input.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    for d in range(2, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
    if not input.dtype.is_floating_point:
        text = str(input.dtype).rpartition(".")[2]
        raise NotImplementedError(f'"grid_sampler_{spatial}d_cpu_kernel_impl" not implemented '
                                  f"for '{_TORCH_TYPE_NAMES.get(text, text)}'")
    return _grid_ops.grid_sample(input, grid, mode, padding_mode, align_corners)
