# cython: embedsignature=False
"""Grid sampling kernels (``grid.c.in``): PyTorch's ``grid_sampler_2d`` / ``_3d``.

Plain (non-recording) entry points used by ``ember.ops.grid``, which makes them a
differentiable op.  Each checks the shapes the kernel relies on, works on contiguous
float32/float64 data (float16 and bfloat16 are computed in float32 and rounded back)
and releases the GIL while the kernel runs.  CPU tensors only: on another device
``ember.ops.grid`` samples with ember ops.
"""
from libc.stdint cimport int64_t

from ember._core._dtype cimport EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64, dtype_of
from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU
from ember._core import _tensor as _core

cdef extern from "ember/grid.h" nogil:
    ctypedef struct em_grid_geom:
        int64_t batch
        int64_t channels
        int64_t[3] in_ "in"
        int64_t points
        int spatial
        int mode
        int padding
        int align_corners
    void em_grid_sample_forward_float32(const float *input, const float *grid, float *out,
                                        const em_grid_geom *g)
    void em_grid_sample_forward_float64(const double *input, const double *grid, double *out,
                                        const em_grid_geom *g)
    void em_grid_sample_backward_float32(const float *grad_out, const float *input,
                                         const float *grid, float *grad_input, float *grad_grid,
                                         const em_grid_geom *g)
    void em_grid_sample_backward_float64(const double *grad_out, const double *input,
                                         const double *grid, double *grad_input,
                                         double *grad_grid, const em_grid_geom *g)


cdef int _compute_dtype(Tensor t) except -1:
    if t._dtype == EM_FLOAT64:
        return EM_FLOAT64
    if t._dtype in (EM_FLOAT32, EM_FLOAT16, EM_BFLOAT16):
        return EM_FLOAT32
    raise RuntimeError(f"grid_sampler(): expected a floating point input, but got {t.dtype}")


cdef Tensor _prepared(Tensor t, int compute):
    """``t`` on the CPU, contiguous, in the compute dtype."""
    if t._storage.device.type_num != DEV_CPU:
        raise RuntimeError(f"grid_sampler(): the CPU kernel got a tensor on {t.device}")
    if t._dtype != compute:
        t = t.to(dtype_of(compute))
    if not t.is_contig():
        t = t.contiguous()
    return t


cdef Tensor _new(tuple shape, int dtype_num):
    cdef Py_ssize_t dims[8]
    cdef int k
    for k in range(len(shape)):
        dims[k] = shape[k]
    return new_tensor(len(shape), dims, dtype_num, _core.device("cpu"))


cdef _fill_geom(em_grid_geom *g, Tensor input, Tensor grid, int mode, int padding,
                bint align_corners):
    """The geometry of a checked (input, grid) pair; RuntimeError when they do not fit."""
    shape, grid_shape = tuple(input.shape), tuple(grid.shape)
    cdef int spatial = input._ndim - 2
    if (spatial not in (2, 3) or grid._ndim != input._ndim or grid_shape[0] != shape[0]
            or grid_shape[spatial + 1] != spatial):
        raise RuntimeError(f"grid_sampler(): input of sizes {list(shape)} and grid of sizes "
                           f"{list(grid_shape)} do not fit")
    if mode not in (0, 1, 2) or padding not in (0, 1, 2) or (mode == 2 and spatial != 2):
        raise RuntimeError(f"grid_sampler(): unsupported mode {mode} or padding {padding} for "
                           f"{spatial + 2}D input")
    g.batch = shape[0]
    g.channels = shape[1]
    g.in_[0] = shape[2] if spatial == 3 else 1
    g.in_[1] = shape[spatial]
    g.in_[2] = shape[spatial + 1]
    g.points = 1
    for k in range(1, spatial + 1):
        g.points *= grid_shape[k]
    g.spatial = spatial
    g.mode = mode
    g.padding = padding
    g.align_corners = align_corners


def grid_sample(Tensor input, Tensor grid, int mode, int padding, bint align_corners):
    """``(N, C, *out)`` samples of ``input`` at ``grid`` (``mode`` and ``padding`` as
    PyTorch's enums: bilinear, nearest, bicubic; zeros, border, reflection)."""
    cdef em_grid_geom g
    _fill_geom(&g, input, grid, mode, padding, align_corners)
    cdef int compute = _compute_dtype(input)
    cdef Tensor src = _prepared(input, compute)
    cdef Tensor where = _prepared(grid, compute)
    cdef Tensor out = _new(tuple(input.shape)[:2] + tuple(grid.shape)[1:grid._ndim - 1], compute)
    cdef char *src_data = src.ptr()
    cdef char *where_data = where.ptr()
    cdef char *out_data = out.ptr()
    if out._numel:
        with nogil:
            if compute == EM_FLOAT64:
                em_grid_sample_forward_float64(<double *>src_data, <double *>where_data,
                                               <double *>out_data, &g)
            else:
                em_grid_sample_forward_float32(<float *>src_data, <float *>where_data,
                                               <float *>out_data, &g)
    return out if out._dtype == input._dtype else out.to(input.dtype)


def grid_sample_backward(Tensor grad, Tensor input, Tensor grid, int mode, int padding,
                         bint align_corners, bint input_grad=True, bint grid_grad=True):
    """``(grad_input, grad_grid)`` of :func:`grid_sample` for the output gradient
    ``grad``; each is None when not asked for."""
    cdef em_grid_geom g
    _fill_geom(&g, input, grid, mode, padding, align_corners)
    out_shape = tuple(input.shape)[:2] + tuple(grid.shape)[1:grid._ndim - 1]
    if tuple(grad.shape) != out_shape:
        raise RuntimeError(f"grid_sampler backward: gradient of sizes {list(grad.shape)} does "
                           f"not match the output sizes {list(out_shape)}")
    cdef int compute = _compute_dtype(input)
    cdef Tensor gout = _prepared(grad, compute)
    cdef Tensor src = _prepared(input, compute)
    cdef Tensor where = _prepared(grid, compute)
    cdef Tensor grad_input = _new(tuple(input.shape), compute) if input_grad else None
    cdef Tensor grad_grid = _new(tuple(grid.shape), compute) if grid_grad else None
    cdef char *gout_data = gout.ptr()
    cdef char *src_data = src.ptr()
    cdef char *where_data = where.ptr()
    cdef char *gin_data = grad_input.ptr() if input_grad else NULL
    cdef char *ggrid_data = grad_grid.ptr() if grid_grad else NULL
    if gout._numel and (input_grad or grid_grad):
        with nogil:
            if compute == EM_FLOAT64:
                em_grid_sample_backward_float64(<double *>gout_data, <double *>src_data,
                                                <double *>where_data, <double *>gin_data,
                                                <double *>ggrid_data, &g)
            else:
                em_grid_sample_backward_float32(<float *>gout_data, <float *>src_data,
                                                <float *>where_data, <float *>gin_data,
                                                <float *>ggrid_data, &g)
    else:
        for t in (grad_input, grad_grid):
            if t is not None:
                t.zero_()
    return (None if grad_input is None else _restore(grad_input, input._dtype),
            None if grad_grid is None else _restore(grad_grid, grid._dtype))


cdef Tensor _restore(Tensor t, int dtype_num):
    return t if t._dtype == dtype_num else t.to(dtype_of(dtype_num))
