"""Convolutions, ``unfold`` and ``fold`` on the GPU: ember's im2col / col2im kernels
(``kernels/conv.cu``) around cuBLAS GEMMs (``_blas.gemm``).

``ember._core._conv`` checks the arguments and computes the geometry exactly as for
the CPU, then hands cuda tensors to :class:`~ember.cuda._backend.CudaBackend`'s
``conv``, which calls here.  The samples are processed in chunks whose column
matrix stays under ``COLUMN_BUDGET`` elements; a chunk's columns are laid out
``(groups, C/groups * K, samples, positions)``, so that each product below is one
GEMM batched over the groups:

* forward: ``y_g (O/g, n*P) = w_g (O/g, C/g*K) @ cols_g`` (the bias is C's initial
  value, so that 16-bit results round once), then permuted into ``(n, O, P)``;
* transposed convolution and input gradient: ``cols_g = w_g^T @ grad_g`` in float32
  (float64 for float64), then col2im, which adds the bias and rounds once;
* weight gradient: ``gw_g += grad_g @ cols_g^T``, chunk after chunk, in float32 for
  16-bit dtypes.

float16 and bfloat16 stay 16-bit in memory; cuBLAS and col2im accumulate in float32.
"""
import math

import numpy as np

from ember.cuda import _kernels

# struct em_cu_conv_geom of kernels/conv.cu.in
GEOM_DTYPE = np.dtype([("channels", np.int64), ("batch", np.int64), ("in", np.int64, (3,)),
                       ("out", np.int64, (3,)), ("kernel", np.int64, (3,)),
                       ("pad", np.int64, (3,)), ("stride", np.int64, (3,)),
                       ("dilation", np.int64, (3,)), ("col_row", np.int64),
                       ("col_batch", np.int64)], align=True)
COLUMN_BUDGET = 1 << 26     # elements of one chunk's column matrix
INT_MAX = 2**31 - 1         # cuBLAS dimensions are 32-bit ints


def _ember():
    import ember
    return ember


def _lead(values, fill):
    """1-d and 2-d sizes as 3-d ones with leading ``fill``."""
    return (fill,) * (3 - len(values)) + tuple(values)


def geometry(channels, batch, in_size, out_size, kernel, stride, padding, dilation,
             col_row, col_batch):
    """The ``em_cu_conv_geom`` argument (a one-element structured array, passed by value)."""
    rec = np.zeros(1, dtype=GEOM_DTYPE)
    rec["channels"], rec["batch"] = channels, batch
    rec["in"], rec["out"] = _lead(in_size, 1), _lead(out_size, 1)
    rec["kernel"], rec["stride"] = _lead(kernel, 1), _lead(stride, 1)
    rec["pad"], rec["dilation"] = _lead(padding, 0), _lead(dilation, 1)
    rec["col_row"], rec["col_batch"] = col_row, col_batch
    return rec


def im2col(image, cols, geom):
    """Launch im2col of the contiguous ``image`` into ``cols`` (laid out by ``geom``)."""
    n = int(geom["channels"][0] * math.prod(geom["kernel"][0]) * geom["batch"][0]
            * math.prod(geom["out"][0]))
    if n:
        fn = _kernels.function("conv", f"em_cu_im2col{8 * image.element_size()}")
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,), (image.data_ptr(), cols.data_ptr(), geom))


def col2im(cols, image, bias, geom):
    """Launch col2im of ``cols`` (float32, float64 for float64) into the contiguous
    ``image``, plus ``bias`` per channel (None: none)."""
    n = image.numel()
    if n:
        fn = _kernels.function("conv", f"em_cu_col2im_{image.dtype.name}")
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,),
           (cols.data_ptr(), image.data_ptr(), bias.data_ptr() if bias is not None else 0,
            geom))


def _contiguous(backend, t):
    return t if t is None or t.is_contiguous() else backend.contiguous(t)


def _accumulator(dtype):
    ember = _ember()
    return ember.float64 if dtype == ember.float64 else ember.float32


def chunks(batch, per_sample, positions):
    """``(start, stop)`` sample ranges whose columns (``per_sample`` elements a sample,
    ``positions`` columns) fit ``COLUMN_BUDGET`` and cuBLAS's int dimensions."""
    step = max(1, min(batch, COLUMN_BUDGET // max(per_sample, 1),
                      INT_MAX // max(positions, 1)))
    return [(n, min(batch, n + step)) for n in range(0, batch, step)]


def _filled(ember, shape, like, bias):
    """A cuda tensor of ``shape`` (``like``'s dtype and device) holding ``bias`` per
    channel (dim 1), or zeros."""
    out = ember.empty(shape, dtype=like.dtype, device=like.device)
    if bias is None:
        out.zero_()
    else:
        out.copy_(bias.reshape((-1,) + (1,) * (len(shape) - 2)))
    return out


def _grouped(backend, t, groups):
    """Samples ``(n, groups * c, *spatial)`` as a contiguous ``(groups, c, n * P)``."""
    n, channels = t.shape[0], t.shape[1]
    positions = math.prod(t.shape[2:])
    view = t.reshape(n, groups, channels // groups, positions).permute(1, 2, 0, 3)
    return _contiguous(backend, view).reshape(groups, channels // groups, n * positions)


def convolution(backend, x, w, b, out_size, stride, padding, dilation, groups):
    """``x`` ``(N, C, *in)`` convolved with ``w`` ``(O, C / groups, *kernel)`` plus ``b``."""
    ember = _ember()
    batch, channels = x.shape[0], x.shape[1]
    out_channels, kernel = w.shape[0], tuple(w.shape[2:])
    shape = (batch, out_channels) + tuple(out_size)
    if math.prod(shape) == 0:
        return ember.empty(shape, dtype=x.dtype, device=x.device)
    if channels == 0 or math.prod(kernel) == 0:
        return _filled(ember, shape, x, b)
    x, w, b = (_contiguous(backend, t) for t in (x, w, b))
    y = ember.empty(shape, dtype=x.dtype, device=x.device)
    positions, rows = math.prod(out_size), channels * math.prod(kernel)
    og, patch = out_channels // groups, rows // groups
    weights = w.reshape(groups, og, patch)
    bias = b.reshape(groups, og, 1) if b is not None else None
    for n0, n1 in chunks(batch, rows * positions, positions):
        nb = n1 - n0
        cols = ember.empty((groups, patch, nb * positions), dtype=x.dtype, device=x.device)
        im2col(x[n0:n1], cols, geometry(channels, nb, x.shape[2:], out_size, kernel, stride,
                                        padding, dilation, nb * positions, positions))
        # one sample's product is its output; more are permuted into place
        product = y[n0].reshape(groups, og, positions) if nb == 1 else ember.empty(
            (groups, og, nb * positions), dtype=x.dtype, device=x.device)
        backend.gemm(weights, False, cols, False, product, bias, (groups,), 1.0,
                     0.0 if bias is None else 1.0, False)
        if nb > 1:
            backend.copy_(y[n0:n1].reshape(nb, groups, og, positions).permute(1, 2, 0, 3),
                          product.reshape(groups, og, nb, positions))
    return y


def convolution_transpose(backend, g, w, b, out_size, stride, padding, dilation, groups):
    """The transposed convolution of ``g`` ``(N, C_in, *in)`` with ``w`` ``(C_in,
    C_out / groups, *kernel)`` into ``(N, C_out, *out_size)``, plus ``b``: the input
    gradient of the convolution with ``w`` that maps ``out_size`` to ``in``."""
    ember = _ember()
    batch, channels = g.shape[0], g.shape[1]
    kernel = tuple(w.shape[2:])
    out_channels = w.shape[1] * groups
    shape = (batch, out_channels) + tuple(out_size)
    if math.prod(shape) == 0:
        return ember.empty(shape, dtype=g.dtype, device=g.device)
    if channels == 0 or g.numel() == 0:
        return _filled(ember, shape, g, b)
    g, w, b = (_contiguous(backend, t) for t in (g, w, b))
    y = ember.empty(shape, dtype=g.dtype, device=g.device)
    positions = math.prod(g.shape[2:])
    og, patch = channels // groups, w.shape[1] * math.prod(kernel)
    weights_t = w.reshape(groups, og, patch).transpose(1, 2)
    for n0, n1 in chunks(batch, groups * patch * positions, positions):
        nb = n1 - n0
        grad = _grouped(backend, g[n0:n1], groups)
        cols = ember.empty((groups, patch, nb * positions), dtype=_accumulator(g.dtype),
                           device=g.device)
        backend.gemm(weights_t, False, grad, False, cols, None, (groups,), 1.0, 0.0, False)
        col2im(cols, y[n0:n1], b, geometry(out_channels, nb, out_size, g.shape[2:], kernel,
                                           stride, padding, dilation, nb * positions,
                                           positions))
    return y


def convolution_weight_grad(backend, x, g, kernel, stride, padding, dilation, groups):
    """The weight gradient ``(O, C / groups, *kernel)`` of a convolution of ``x``
    ``(N, C, *in)`` whose output has gradient ``g`` ``(N, O, *out)``."""
    ember = _ember()
    batch, channels = x.shape[0], x.shape[1]
    out_channels = g.shape[1]
    shape = (out_channels, channels // groups) + tuple(kernel)
    gw = ember.empty(shape, dtype=x.dtype, device=x.device)
    if gw.numel() == 0:
        return gw
    if x.numel() == 0 or g.numel() == 0:
        return gw.zero_()
    x, g = _contiguous(backend, x), _contiguous(backend, g)
    positions, rows = math.prod(g.shape[2:]), channels * math.prod(kernel)
    og, patch = out_channels // groups, rows // groups
    # a 16-bit gradient sums every chunk in float32 and rounds once
    acc = gw if gw.dtype == _accumulator(gw.dtype) else ember.empty(
        shape, dtype=ember.float32, device=x.device)
    sums = acc.reshape(groups, og, patch)
    for k, (n0, n1) in enumerate(chunks(batch, rows * positions, positions)):
        nb = n1 - n0
        cols = ember.empty((groups, patch, nb * positions), dtype=x.dtype, device=x.device)
        im2col(x[n0:n1], cols, geometry(channels, nb, x.shape[2:], g.shape[2:], kernel, stride,
                                        padding, dilation, nb * positions, positions))
        backend.gemm(_grouped(backend, g[n0:n1], groups), False, cols.transpose(1, 2), False,
                     sums, sums, (groups,), 1.0, 1.0 if k else 0.0, False)
    if acc is not gw:
        backend.copy_(gw, acc)
    return gw


def unfold(backend, x, kernel, out, stride, padding, dilation):
    """im2col of every sample of ``x`` ``(N, C, *in)``: ``(N, C * prod(kernel), P)``."""
    ember = _ember()
    batch, channels = x.shape[0], x.shape[1]
    rows, positions = channels * math.prod(kernel), math.prod(out)
    cols = ember.empty((batch, rows, positions), dtype=x.dtype, device=x.device)
    im2col(_contiguous(backend, x), cols, geometry(channels, batch, x.shape[2:], out, kernel,
                                                   stride, padding, dilation, positions,
                                                   rows * positions))
    return cols


def fold(backend, cols, out_size, kernel, blocks, stride, padding, dilation):
    """col2im of ``cols`` ``(N, C * prod(kernel), L)``: the image ``(N, C, *out_size)``."""
    ember = _ember()
    batch, rows, positions = cols.shape
    channels = rows // math.prod(kernel)
    image = ember.empty((batch, channels) + tuple(out_size), dtype=cols.dtype, device=cols.device)
    if image.numel() and cols.numel() == 0:
        return image.zero_()
    source = _contiguous(backend, cols.to(_accumulator(cols.dtype)))
    col2im(source, image, None, geometry(channels, batch, out_size, blocks, kernel, stride,
                                         padding, dilation, positions, rows * positions))
    return image
