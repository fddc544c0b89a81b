"""Pooling on the GPU: the launches of ``kernels/pool.cu``.

``ember._core._pool`` checks the arguments and the geometry as for the CPU and
hands cuda tensors to :class:`~ember.cuda._backend.CudaBackend`'s ``pool``, which
calls here.  The kernels read contiguous ``(planes, *spatial)`` inputs in their own
dtype (16-bit ones compute in float32) and write new contiguous results.
"""
import math

import numpy as np

from ember.cuda import _kernels
from ember.cuda._conv import _ember, _lead

# struct em_cu_pool_geom of kernels/pool.cu.in
GEOM_DTYPE = np.dtype([("planes", np.int64), ("in", np.int64, (3,)), ("out", np.int64, (3,)),
                       ("kernel", np.int64, (3,)), ("stride", np.int64, (3,)),
                       ("pad", np.int64, (3,)), ("dilation", np.int64, (3,)),
                       ("count_include_pad", np.int64), ("divisor", np.int64)], align=True)


def geometry(shape, outs, spatial, kernel=(), stride=(), padding=(), dilation=(),
             count_include_pad=True, divisor=0):
    """The ``em_cu_pool_geom`` argument for an input of ``shape`` pooled to ``outs``."""
    rec = np.zeros(1, dtype=GEOM_DTYPE)
    rec["planes"] = math.prod(shape[:len(shape) - spatial])
    rec["in"], rec["out"] = _lead(shape[len(shape) - spatial:], 1), _lead(outs, 1)
    rec["kernel"], rec["stride"] = _lead(kernel, 1), _lead(stride, 1)
    rec["pad"], rec["dilation"] = _lead(padding, 0), _lead(dilation, 1)
    rec["count_include_pad"], rec["divisor"] = int(bool(count_include_pad)), divisor
    return rec


def _launch(kernel, dtype, n, pointers, geom):
    if n:
        fn = _kernels.function("pool", f"em_cu_{kernel}_{dtype.name}")
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,), (*pointers, geom))


def _contiguous(backend, t):
    return t if t.is_contiguous() else backend.contiguous(t)


def _pooled(backend, kernel, x, out_shape, geom, with_indices):
    ember = _ember()
    x = _contiguous(backend, x)
    out = ember.empty(out_shape, dtype=x.dtype, device=x.device)
    pointers = [x.data_ptr(), out.data_ptr()]
    indices = None
    if with_indices:
        indices = ember.empty(out_shape, dtype=ember.int64, device=x.device)
        pointers.append(indices.data_ptr())
    _launch(kernel, x.dtype, out.numel(), pointers, geom)
    return (out, indices) if with_indices else out


def _spread(backend, kernel, grad, input_shape, geom):
    ember = _ember()
    grad = _contiguous(backend, grad)
    out = ember.empty(input_shape, dtype=grad.dtype, device=grad.device)
    _launch(kernel, grad.dtype, out.numel(), [grad.data_ptr(), out.data_ptr()], geom)
    return out


def _out_shape(shape, spatial, outs):
    return tuple(shape[:len(shape) - spatial]) + tuple(outs)


def max_pool(backend, x, spatial, kernel, stride, padding, dilation, outs):
    """Window maxima and their flat per-plane indices."""
    shape = tuple(x.shape)
    return _pooled(backend, "max_pool", x, _out_shape(shape, spatial, outs),
                   geometry(shape, outs, spatial, kernel, stride, padding, dilation), True)


def avg_pool(backend, x, spatial, kernel, stride, padding, outs, count_include_pad, divisor):
    """Window means (``divisor`` 0: by the window's size)."""
    shape = tuple(x.shape)
    return _pooled(backend, "avg_pool", x, _out_shape(shape, spatial, outs),
                   geometry(shape, outs, spatial, kernel, stride, padding, (1,) * spatial,
                            count_include_pad, divisor), False)


def avg_pool_backward(backend, grad, input_shape, spatial, kernel, stride, padding,
                      count_include_pad, divisor):
    """The gradient of :func:`avg_pool` to an input of ``input_shape``."""
    outs = tuple(grad.shape)[grad.dim() - spatial:]
    return _spread(backend, "avg_pool_backward", grad, input_shape,
                   geometry(input_shape, outs, spatial, kernel, stride, padding,
                            (1,) * spatial, count_include_pad, divisor))


def adaptive_avg_pool(backend, x, spatial, outs):
    """Means over PyTorch's adaptive bins."""
    shape = tuple(x.shape)
    return _pooled(backend, "adaptive_avg_pool", x, _out_shape(shape, spatial, outs),
                   geometry(shape, outs, spatial), False)


def adaptive_avg_pool_backward(backend, grad, input_shape, spatial):
    """The gradient of :func:`adaptive_avg_pool` to an input of ``input_shape``."""
    outs = tuple(grad.shape)[grad.dim() - spatial:]
    return _spread(backend, "adaptive_avg_pool_backward", grad, input_shape,
                   geometry(input_shape, outs, spatial))


def adaptive_max_pool(backend, x, spatial, outs):
    """Maxima over PyTorch's adaptive bins and their flat per-plane indices."""
    shape = tuple(x.shape)
    return _pooled(backend, "adaptive_max_pool", x, _out_shape(shape, spatial, outs),
                   geometry(shape, outs, spatial), True)


def max_pool_backward(backend, grad, indices, input_shape, spatial, window):
    """The gradient of max pooling to an input of ``input_shape``, gathered: each input
    element sums, in output order, ``grad`` where ``indices`` names it, over the outputs
    whose windows (``window``: kernel, stride, padding, dilation) or, ``window`` empty,
    whose adaptive bins hold it.  The CPU's sums, without atomics."""
    ember = _ember()
    outs = tuple(grad.shape)[grad.dim() - spatial:]
    grad, where = _contiguous(backend, grad), _contiguous(backend, indices)
    out = ember.empty(input_shape, dtype=grad.dtype, device=grad.device)
    n = out.numel()
    if n:
        fn = _kernels.function("pool", f"em_cu_max_pool_backward_{grad.dtype.name}")
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,),
           (grad.data_ptr(), where.data_ptr(), out.data_ptr(),
            geometry(input_shape, outs, spatial, *window), np.int32(not window)))
    return out


def scatter_planes(backend, src, indices, out_shape, planes, out_size, in_size, accumulate):
    """``zeros(out_shape)`` with each of the ``planes`` planes of ``src`` (``out_size``
    elements each) added (``accumulate``) or written at ``indices`` into its plane of
    ``in_size`` elements.  Returns the result, or None and the first invalid index the
    kernel met."""
    ember = _ember()
    compute = ember.float64 if src.dtype == ember.float64 else ember.float32
    values = _contiguous(backend, src.to(compute))
    where = _contiguous(backend, indices)
    out = ember.zeros(out_shape, dtype=compute, device=src.device)
    error = ember.zeros((2,), dtype=ember.int64, device=src.device)
    fn = _kernels.function("pool", f"em_cu_pool_scatter_{compute.name}")
    fn((_kernels.grid_for(planes),), (_kernels.BLOCK,),
       (values.data_ptr(), where.data_ptr(), out.data_ptr(), np.int64(planes),
        np.int64(out_size), np.int64(in_size), np.int32(bool(accumulate)), error.data_ptr()))
    flag, bad = (int(v) for v in error.cpu().tolist())
    if flag:
        return None, bad
    return out.to(src.dtype), 0
