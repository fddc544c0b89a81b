"""Pooling ops: the fused kernels of ``ember._core._pool`` as differentiable ops.

Each op records itself when its input requires grad; its derivative is written with
these same ops, so the derivatives of the derivatives close over the family:

* max pooling (window or adaptive) returns values and flat per-plane indices; its
  backward scatters the gradient to the indices (:func:`max_pool_backward`), which is
  linear in the gradient: its own derivative gathers the grad-grad at the indices.
* average pooling and its backward are adjoint linear maps: the derivative of each is
  the other (likewise for adaptive average pooling).
* max unpooling writes values to the indices; its derivative gathers as well.

The functional layer (``ember.nn.functional``) checks arguments with
``_pool.window_geometry`` / ``_pool.adaptive_sizes`` and calls these ops with the
checked geometry.
"""
from ember._core import _pool
from ember._core._tensor import _recorded, record
from ember.ops.derivatives import derivative

__all__ = [
    "max_pool", "max_pool_backward", "avg_pool", "avg_pool_backward", "adaptive_avg_pool",
    "adaptive_avg_pool_backward", "adaptive_max_pool", "max_unpool", "gather_planes",
]


def _records(tensor):
    return _recorded(tensor)


def _lead(shape, spatial):
    return len(shape) - spatial


def max_pool(input, spatial, kernel, stride, padding, dilation, outs):
    """Window maxima and their flat per-plane indices (checked geometry)."""
    args = (input, spatial, kernel, stride, padding, dilation, outs)
    if _records(input):
        return record("max_pool", _pool.max_pool, args)
    return _pool.max_pool(*args)


def adaptive_max_pool(input, spatial, outs):
    """Maxima over PyTorch's adaptive bins and their flat per-plane indices."""
    if _records(input):
        return record("adaptive_max_pool", _pool.adaptive_max_pool, (input, spatial, outs))
    return _pool.adaptive_max_pool(input, spatial, outs)


def _scatter_add(grad, indices, input_shape, spatial, window):
    return _pool.scatter_planes(grad, indices, input_shape, spatial, True, window=window)


def max_pool_backward(grad, indices, input_shape, spatial, window=None):
    """``zeros(input_shape)`` plus ``grad`` added at ``indices`` within each plane.

    ``window``: the max pooling that saved ``indices``, ``(kernel, stride, padding,
    dilation)`` or ``()`` for adaptive bins, lets a device gather in parallel."""
    args = (grad, indices, tuple(input_shape), spatial, window)
    if _records(grad):
        return record("max_pool_backward", _scatter_add, args)
    return _scatter_add(*args)


def gather_planes(source, indices, spatial):
    """Elements of each plane of ``source`` at the flat positions ``indices``.

    The adjoint of :func:`max_pool_backward`; built on ``gather``, so differentiable."""
    lead = _lead(tuple(indices.shape), spatial)
    flat = source.flatten(lead)
    return flat.gather(-1, indices.flatten(lead)).reshape(tuple(indices.shape))


def _unpool_write(input, indices, output_shape, spatial, name):
    return _pool.scatter_planes(input, indices, output_shape, spatial, False, name)


def max_unpool(input, indices, output_shape, spatial, name="max_unpool2d"):
    """``zeros(output_shape)`` with each plane's values written at ``indices``."""
    args = (input, indices, tuple(output_shape), spatial, name)
    if _records(input):
        return record("max_unpool", _unpool_write, args)
    return _unpool_write(*args)


def avg_pool(input, spatial, kernel, stride, padding, outs, count_include_pad, divisor):
    """Window means (checked geometry)."""
    args = (input, spatial, kernel, stride, padding, outs, count_include_pad, divisor)
    if _records(input):
        return record("avg_pool", _pool.avg_pool, args)
    return _pool.avg_pool(*args)


def avg_pool_backward(grad, input_shape, spatial, kernel, stride, padding, count_include_pad,
                      divisor):
    """Each output gradient's share spread evenly over its window."""
    args = (grad, tuple(input_shape), spatial, kernel, stride, padding, count_include_pad,
            divisor)
    if _records(grad):
        return record("avg_pool_backward", _pool.avg_pool_backward, args)
    return _pool.avg_pool_backward(*args)


def adaptive_avg_pool(input, spatial, outs):
    """Means over PyTorch's adaptive bins."""
    if _records(input):
        return record("adaptive_avg_pool", _pool.adaptive_avg_pool, (input, spatial, outs))
    return _pool.adaptive_avg_pool(input, spatial, outs)


def adaptive_avg_pool_backward(grad, input_shape, spatial):
    """Each output gradient's share spread evenly over its bin."""
    args = (grad, tuple(input_shape), spatial)
    if _records(grad):
        return record("adaptive_avg_pool_backward", _pool.adaptive_avg_pool_backward, args)
    return _pool.adaptive_avg_pool_backward(*args)


# ---------------------------------------------------------------- derivatives

def _spatial_name(prefix, spatial, suffix="Backward0"):
    return f"{prefix}{spatial}D{suffix}"


@derivative("max_pool", save_inputs=False, save_result=(1,),
            node=lambda input, spatial, *a: _spatial_name("MaxPool", spatial, "WithIndicesBackward0"))
def _max_pool_derivative(ctx, grad, input, spatial, kernel, stride, padding, dilation, outs):
    return max_pool_backward(grad[0], ctx.result[1], tuple(input.shape), spatial,
                             (kernel, stride, padding, dilation))


@derivative("adaptive_max_pool", save_inputs=False, save_result=(1,),
            node=lambda input, spatial, *a: _spatial_name("AdaptiveMaxPool", spatial))
def _adaptive_max_pool_derivative(ctx, grad, input, spatial, outs):
    return max_pool_backward(grad[0], ctx.result[1], tuple(input.shape), spatial, ())


@derivative("max_pool_backward", save_inputs=False)
def _max_pool_backward_derivative(ctx, grad, g, indices, input_shape, spatial, window):
    return gather_planes(grad, indices, spatial), None


@derivative("max_unpool", save_inputs=False,
            node=lambda input, indices, shape, spatial, *a: _spatial_name("MaxUnpool", spatial))
def _max_unpool_derivative(ctx, grad, input, indices, output_shape, spatial, name):
    return gather_planes(grad, indices, spatial), None


@derivative("avg_pool", save_inputs=False,
            node=lambda input, spatial, *a: _spatial_name("AvgPool", spatial))
def _avg_pool_derivative(ctx, grad, input, spatial, kernel, stride, padding, outs,
                         count_include_pad, divisor):
    return avg_pool_backward(grad, tuple(input.shape), spatial, kernel, stride, padding,
                             count_include_pad, divisor)


@derivative("avg_pool_backward", save_inputs=False)
def _avg_pool_backward_derivative(ctx, grad, g, input_shape, spatial, kernel, stride, padding,
                                  count_include_pad, divisor):
    outs = tuple(g.shape)[len(g.shape) - spatial:]
    return avg_pool(grad, spatial, kernel, stride, padding, outs, count_include_pad, divisor)


@derivative("adaptive_avg_pool", save_inputs=False,
            node=lambda input, spatial, *a: _spatial_name("AdaptiveAvgPool", spatial))
def _adaptive_avg_pool_derivative(ctx, grad, input, spatial, outs):
    return adaptive_avg_pool_backward(grad, tuple(input.shape), spatial)


@derivative("adaptive_avg_pool_backward", save_inputs=False)
def _adaptive_avg_pool_backward_derivative(ctx, grad, g, input_shape, spatial):
    return adaptive_avg_pool(grad, spatial, tuple(g.shape)[len(g.shape) - spatial:])
