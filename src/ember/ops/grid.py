"""Grid sampling (``grid_sample``) as a differentiable op.

On the CPU the op runs the kernels of ``ember._core._grid`` (PyTorch's
``grid_sampler_2d`` / ``_3d``): one pass forward, and one backward pass giving the
gradients of the input and of the grid.  When a graph of the gradient is being built
(``create_graph=True``, so grad mode is on inside the formula), the gradient is
instead that of :func:`grid_sample_composite`, the same sampling written with
differentiable ember ops: double backward, as PyTorch has it.  On other devices the
composite is the op.
"""
import math

import ember
from ember._core import _grid
from ember._core._tensor import _recorded, is_grad_enabled, record
from ember.ops.derivatives import derivative

__all__ = ["grid_sample", "grid_sample_composite", "MODES", "PADDINGS"]

# PyTorch's enums (the ints of torch.grid_sampler)
MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}


def grid_sample(input, grid, mode, padding_mode, align_corners):
    """Samples of ``input`` at ``grid`` (arguments checked by the caller)."""
    if input.device.type != "cpu" or grid.device.type != "cpu":
        return grid_sample_composite(input, grid, mode, padding_mode, align_corners)
    args = (input, grid, MODES[mode], PADDINGS[padding_mode], bool(align_corners))
    if _recorded(input) or _recorded(grid):
        return record("grid_sample", _grid.grid_sample, args)
    return _grid.grid_sample(*args)


def _node_name(input, *args):
    return f"GridSampler{input.dim() - 2}DBackward0"


@derivative("grid_sample", node=_node_name)
def _grid_sample_derivative(ctx, grad, input, grid, mode, padding, align_corners):
    if is_grad_enabled():
        return _composite_backward(grad, input, grid, mode, padding, align_corners)
    return _grid.grid_sample_backward(grad, input, grid, mode, padding, align_corners,
                                      bool(ctx.needs_input_grad[0]),
                                      bool(ctx.needs_input_grad[1]))


def _composite_backward(grad, input, grid, mode, padding, align_corners):
    """The gradients as a graph: the sampling redone with ember ops and differentiated."""
    from ember.autograd import grad as autograd_grad
    wanted = [t for t in (input, grid) if t.requires_grad]
    names = {v: k for k, v in MODES.items()}, {v: k for k, v in PADDINGS.items()}
    output = grid_sample_composite(input, grid, names[0][mode], names[1][padding],
                                   align_corners)
    found = autograd_grad([output], wanted, [grad], create_graph=True, allow_unused=True)
    # 'nearest' does not reach the grid: its gradient is zero, as the kernel's
    by_id = {id(t): ember.zeros_like(t) if g is None else g for t, g in zip(wanted, found)}
    return tuple(by_id.get(id(t)) for t in (input, grid))


# ---------------------------------------------------------------- the composite

def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return ember.zeros_like(coord)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = ember.abs(coord - low)
    extra = ember.remainder(distance, span)
    flips = ember.floor(distance / span)
    return ember.where(ember.remainder(flips, 2) == 0, extra + low, span - extra + low)


def _pad(coord, size, padding_mode, align_corners):
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else \
            _reflect(coord, -1, 2 * size - 1)
    if padding_mode != "zeros":
        coord = ember.clamp(coord, 0, size - 1)
    return coord


def _inside(positions, sizes):
    inside = None
    for position, size in zip(positions, sizes):
        ok = (position >= 0) & (position < size)
        inside = ok if inside is None else inside & ok
    return inside


def _gather_points(flat_input, positions, inside, sizes):
    """Input values at integer ``positions`` (one per spatial dim, each ``(N, P)``), zero
    where ``inside`` is False."""
    index = ember.zeros_like(positions[0])
    for position, size in zip(positions, sizes):
        index = index * size + ember.clamp(position, 0, size - 1)
    batch, channels = flat_input.shape[0], flat_input.shape[1]
    index = index.unsqueeze(1).expand(batch, channels, index.shape[-1])
    values = flat_input.gather(2, index)
    return ember.where(inside.unsqueeze(1), values,
                       ember.zeros((), dtype=values.dtype, device=values.device))


def _cubic_weights(t):
    """The four cubic-convolution weights (``A = -0.75``, as PyTorch) of the taps at
    offsets -1, 0, 1, 2 from the floor of a coordinate with fractional part ``t``."""
    a = -0.75

    def near(x):                      # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):                       # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _bicubic_sample(flat_input, flat_grid, sizes, padding_mode, align_corners):
    """``(N, C, P)`` values at ``flat_grid`` (``(N, P, 2)``): PyTorch's bicubic sampling, in
    which the padding applies to each of the 16 taps rather than to the coordinate."""
    height, width = sizes
    x = _unnormalize(flat_grid[..., 0], width, align_corners)
    y = _unnormalize(flat_grid[..., 1], height, align_corners)
    x0, y0 = ember.floor(x), ember.floor(y)
    weights_x, weights_y = _cubic_weights(x - x0), _cubic_weights(y - y0)

    def taps(low, size):
        # each tap's position, padded as grid_sample pads a coordinate, then truncated
        return [_pad(low + offset, size, padding_mode, align_corners).detach().to(ember.int64)
                for offset in range(-1, 3)]
    rows, cols = taps(y0, height), taps(x0, width)
    result = None
    for row, weight_y in zip(rows, weights_y):
        for col, weight_x in zip(cols, weights_x):
            values = _gather_points(flat_input, [row, col], _inside([row, col], sizes), sizes)
            term = values * (weight_y * weight_x).unsqueeze(1)
            result = term if result is None else result + term
    return result


def grid_sample_composite(input, grid, mode, padding_mode, align_corners):
    """:func:`grid_sample` written with differentiable ember ops (any device; modes and
    padding by name)."""
    spatial = input.dim() - 2
    sizes = tuple(input.shape[2:])
    batch, channels = input.shape[0], input.shape[1]
    out_sizes = tuple(grid.shape[1:-1])
    # explicit sizes: with -1, a batch of 0 would leave the size ambiguous
    flat_grid = grid.reshape(batch, math.prod(out_sizes), spatial)
    flat_input = input.reshape(batch, channels, math.prod(sizes))
    if mode == "bicubic":
        result = _bicubic_sample(flat_input, flat_grid, sizes, padding_mode, align_corners)
        return result.reshape((batch, channels) + out_sizes)
    # source coordinates per spatial dim, in input order (grid holds x first)
    coords = [_pad(_unnormalize(flat_grid[..., spatial - 1 - d], sizes[d], align_corners),
                   sizes[d], padding_mode, align_corners) for d in range(spatial)]
    if mode == "nearest":
        positions = [ember.round(c).to(ember.int64) for c in coords]
        result = _gather_points(flat_input, positions, _inside(positions, sizes), sizes)
    else:
        lows = [ember.floor(c) for c in coords]
        fractions = [c - low for c, low in zip(coords, lows)]
        lows = [low.to(ember.int64) for low in lows]
        result = None
        for corner in range(2 ** spatial):
            positions, weight = [], None
            for d in range(spatial):
                upper = (corner >> (spatial - 1 - d)) & 1
                positions.append(lows[d] + upper)
                factor = fractions[d] if upper else 1 - fractions[d]
                weight = factor if weight is None else weight * factor
            values = _gather_points(flat_input, positions, _inside(positions, sizes), sizes)
            term = values * weight.unsqueeze(1)
            result = term if result is None else result + term
    return result.reshape((batch, channels) + out_sizes)
