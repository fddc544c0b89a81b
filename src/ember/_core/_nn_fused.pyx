# cython: embedsignature=False
"""Fused normalisation, softmax cross-entropy and embedding kernels (``nn_fused.c.in``).

Plain (non-recording) entry points used by ``ember.ops.nn_fused``, which makes them
differentiable ops.  Every function checks its arguments before a kernel touches
memory, works on contiguous float32/float64 data (float16 and bfloat16 are computed
in float32 and rounded back) and releases the GIL while the kernel runs.  Tensors on
another device go, checked and laid out the same way, to that device's backend
(``nn_fused``: the CUDA kernels of ``ember.cuda._nn_fused``).
"""
from libc.stdint cimport int64_t

from ember._core._dtype cimport (
    EM_UINT8, EM_INT64, EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64, dtype_of,
)
from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU
from ember._core._tensor import backend as _backend

cdef extern from "ember/nn_fused.h" nogil:
    void em_layer_norm_fwd_f32(const float *x, const float *weight, const float *bias, float *y,
                               float *mean, float *rstd, int64_t rows, int64_t cols, double eps,
                               int center)
    void em_layer_norm_fwd_f64(const double *x, const double *weight, const double *bias,
                               double *y, double *mean, double *rstd, int64_t rows, int64_t cols,
                               double eps, int center)
    int em_layer_norm_bwd_f32(const float *grad, const float *x, const float *mean,
                              const float *rstd, const float *weight, float *grad_x,
                              float *grad_weight, float *grad_bias, int64_t rows, int64_t cols,
                              int center)
    int em_layer_norm_bwd_f64(const double *grad, const double *x, const double *mean,
                              const double *rstd, const double *weight, double *grad_x,
                              double *grad_weight, double *grad_bias, int64_t rows, int64_t cols,
                              int center)
    int em_batch_norm_fwd_f32(const float *x, const float *weight, const float *bias,
                              float *running_mean, float *running_var, float *y, float *mean,
                              float *invstd, int64_t n, int64_t channels, int64_t spatial,
                              int training, double momentum, double eps)
    int em_batch_norm_fwd_f64(const double *x, const double *weight, const double *bias,
                              double *running_mean, double *running_var, double *y, double *mean,
                              double *invstd, int64_t n, int64_t channels, int64_t spatial,
                              int training, double momentum, double eps)
    int em_batch_norm_bwd_f32(const float *grad, const float *x, const float *mean,
                              const float *invstd, const float *weight, float *grad_x,
                              float *grad_weight, float *grad_bias, int64_t n, int64_t channels,
                              int64_t spatial, int training)
    int em_batch_norm_bwd_f64(const double *grad, const double *x, const double *mean,
                              const double *invstd, const double *weight, double *grad_x,
                              double *grad_weight, double *grad_bias, int64_t n,
                              int64_t channels, int64_t spatial, int training)
    void em_group_norm_fwd_f32(const float *x, const float *weight, const float *bias, float *y,
                               float *mean, float *rstd, int64_t n, int64_t channels,
                               int64_t spatial, int64_t groups, double eps)
    void em_group_norm_fwd_f64(const double *x, const double *weight, const double *bias,
                               double *y, double *mean, double *rstd, int64_t n, int64_t channels,
                               int64_t spatial, int64_t groups, double eps)
    int em_group_norm_bwd_f32(const float *grad, const float *x, const float *mean,
                              const float *rstd, const float *weight, float *grad_x,
                              float *grad_weight, float *grad_bias, int64_t n, int64_t channels,
                              int64_t spatial, int64_t groups)
    int em_group_norm_bwd_f64(const double *grad, const double *x, const double *mean,
                              const double *rstd, const double *weight, double *grad_x,
                              double *grad_weight, double *grad_bias, int64_t n,
                              int64_t channels, int64_t spatial, int64_t groups)
    int em_cross_entropy_fwd_f32(const float *x, const int64_t *target, const float *weight,
                                 float *loss, float *lse, double *loss_sum, double *weight_sum,
                                 int64_t n, int64_t classes, int64_t spatial,
                                 int64_t ignore_index, double smoothing, int log_input)
    int em_cross_entropy_fwd_f64(const double *x, const int64_t *target, const double *weight,
                                 double *loss, double *lse, double *loss_sum, double *weight_sum,
                                 int64_t n, int64_t classes, int64_t spatial,
                                 int64_t ignore_index, double smoothing, int log_input)
    void em_cross_entropy_bwd_f32(const float *grad, int grad_is_scalar, double scale,
                                  const float *x, const int64_t *target, const float *weight,
                                  const float *lse, float *grad_x, int64_t n, int64_t classes,
                                  int64_t spatial, int64_t ignore_index, double smoothing,
                                  int log_input)
    void em_cross_entropy_bwd_f64(const double *grad, int grad_is_scalar, double scale,
                                  const double *x, const int64_t *target, const double *weight,
                                  const double *lse, double *grad_x, int64_t n, int64_t classes,
                                  int64_t spatial, int64_t ignore_index, double smoothing,
                                  int log_input)
    int em_embedding_bwd_f32(const float *grad, const int64_t *indices, int64_t count,
                             int64_t num_weights, int64_t dim, int64_t padding_idx,
                             int scale_by_freq, float *grad_weight)
    int em_embedding_bwd_f64(const double *grad, const int64_t *indices, int64_t count,
                             int64_t num_weights, int64_t dim, int64_t padding_idx,
                             int scale_by_freq, double *grad_weight)
    int64_t em_first_bad_target(const int64_t *target, int64_t count, int64_t classes,
                                int64_t ignore_index)

# reductions of the losses, as ember.nn.functional spells them
REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


cdef int compute_dtype(Tensor t, str what) except -1:
    """The dtype a kernel computes ``t`` in (float16/bfloat16 in float32)."""
    if t._dtype == EM_FLOAT32 or t._dtype == EM_FLOAT16 or t._dtype == EM_BFLOAT16:
        return EM_FLOAT32
    if t._dtype == EM_FLOAT64:
        return EM_FLOAT64
    raise RuntimeError(f"{what}: expected a floating point input, got {t.get_dtype()}")


cdef Tensor dense(object t, int dnum):
    """``t`` as a contiguous tensor of dtype ``dnum`` (itself when it already is)."""
    cdef Tensor x = <Tensor>t
    if x._dtype != dnum:
        x = <Tensor>x.to(dtype_of(dnum))
    if not x.is_contig():
        x = <Tensor>x.contiguous()
    return x


cdef Tensor optional(object t, int dnum, Py_ssize_t numel, str name, str what):
    """An optional per-column/channel/class tensor of ``numel`` elements, or None."""
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: {name} must be a Tensor or None, not {type(t).__name__}")
    if (<Tensor>t)._numel != numel:
        raise RuntimeError(f"{what}: expected {name} with {numel} elements, got shape "
                           f"{list((<Tensor>t).shape)}")
    return dense(t, dnum)


cdef Tensor new(tuple shape, int dnum, Tensor like):
    cdef Py_ssize_t dims[32]
    cdef int k
    for k in range(len(shape)):
        dims[k] = shape[k]
    return new_tensor(len(shape), dims, dnum, like._storage.device)


cdef inline void *addr(Tensor t) except? NULL:
    return NULL if t is None else <void *>t.ptr()


cdef object back_to(Tensor t, int dnum):
    return t if t._dtype == dnum else t.to(dtype_of(dnum))


cdef inline bint on_device(Tensor t) noexcept:
    return t._storage.device.type_num != DEV_CPU


cdef object device_kernel(Tensor t, str kernel, tuple args):
    """Run ``kernel`` of ``t``'s device backend (see ``ember.cuda._nn_fused``)."""
    return _backend(t._storage.device.type).nn_fused(kernel, *args)


cdef int check_memory(int status, str what) except -1:
    if status != 0:
        raise MemoryError(f"{what}: out of memory for the kernel's work space")
    return 0


# ---------------------------------------------------------------- layer and RMS norm

def layer_norm_forward(Tensor input, Py_ssize_t cols, weight, bias, double eps, bint center):
    """``(output, mean, rstd)`` of layer norm (RMS norm without ``center``) over the
    last ``cols`` elements of each row; ``mean``/``rstd`` have one entry per row."""
    what = "layer_norm" if center else "rms_norm"
    cdef int dnum = compute_dtype(input, what)
    if cols <= 0 or input._numel % cols:
        raise RuntimeError(f"{what}: cannot normalise {input._numel} elements in rows of {cols}")
    cdef Tensor x = dense(input, dnum)
    cdef Tensor w = optional(weight, dnum, cols, "weight", what)
    cdef Tensor b = optional(bias, dnum, cols, "bias", what)
    cdef int64_t rows = input._numel // cols
    cdef Tensor y = new(tuple(input.shape), dnum, input)
    cdef Tensor mean = new((rows,), dnum, input)
    cdef Tensor rstd = new((rows,), dnum, input)
    if on_device(x):
        device_kernel(x, "layer_norm_forward", (x, w, b, y, mean, rstd, rows, cols, eps, center))
        return back_to(y, input._dtype), mean, rstd
    cdef void *p_x = addr(x)
    cdef void *p_w = addr(w)
    cdef void *p_b = addr(b)
    cdef void *p_y = addr(y)
    cdef void *p_mean = addr(mean)
    cdef void *p_rstd = addr(rstd)
    with nogil:
        if dnum == EM_FLOAT32:
            em_layer_norm_fwd_f32(<float *>p_x, <float *>p_w, <float *>p_b,
                                  <float *>p_y, <float *>p_mean, <float *>p_rstd,
                                  rows, cols, eps, center)
        else:
            em_layer_norm_fwd_f64(<double *>p_x, <double *>p_w, <double *>p_b,
                                  <double *>p_y, <double *>p_mean, <double *>p_rstd,
                                  rows, cols, eps, center)
    return back_to(y, input._dtype), mean, rstd


def layer_norm_backward(Tensor grad, Tensor input, Tensor mean, Tensor rstd, weight,
                        Py_ssize_t cols, bint center, bint need_input, bint need_weight,
                        bint need_bias):
    """``(grad_input, grad_weight, grad_bias)`` of :func:`layer_norm_forward` (None
    where not needed)."""
    what = "layer_norm_backward" if center else "rms_norm_backward"
    cdef int dnum = compute_dtype(input, what)
    if cols <= 0 or input._numel % cols or grad._numel != input._numel:
        raise RuntimeError(f"{what}: grad of shape {list(grad.shape)} does not match input of "
                           f"shape {list(input.shape)}")
    cdef int64_t rows = input._numel // cols
    if mean._numel != rows or rstd._numel != rows or mean._dtype != dnum or rstd._dtype != dnum:
        raise RuntimeError(f"{what}: saved statistics do not match the input")
    cdef Tensor g = dense(grad, dnum), x = dense(input, dnum)
    cdef Tensor w = optional(weight, dnum, cols, "weight", what)
    cdef Tensor gx = new(tuple(input.shape), dnum, input) if need_input else None
    cdef Tensor gw = new((cols,), dnum, input) if need_weight else None
    cdef Tensor gb = new((cols,), dnum, input) if need_bias else None
    cdef int status
    if on_device(x):
        device_kernel(x, "layer_norm_backward", (g, x, mean, rstd, w, gx, gw, gb, rows, cols,
                                                 center))
        return (None if gx is None else back_to(gx, input._dtype),
                None if gw is None else back_to(gw, (<Tensor>weight)._dtype),
                gb)
    cdef void *p_g = addr(g)
    cdef void *p_x = addr(x)
    cdef void *p_mean = addr(mean)
    cdef void *p_rstd = addr(rstd)
    cdef void *p_w = addr(w)
    cdef void *p_gx = addr(gx)
    cdef void *p_gw = addr(gw)
    cdef void *p_gb = addr(gb)
    with nogil:
        if dnum == EM_FLOAT32:
            status = em_layer_norm_bwd_f32(<float *>p_g, <float *>p_x,
                                           <float *>p_mean, <float *>p_rstd,
                                           <float *>p_w, <float *>p_gx, <float *>p_gw,
                                           <float *>p_gb, rows, cols, center)
        else:
            status = em_layer_norm_bwd_f64(<double *>p_g, <double *>p_x,
                                           <double *>p_mean, <double *>p_rstd,
                                           <double *>p_w, <double *>p_gx,
                                           <double *>p_gw, <double *>p_gb, rows, cols,
                                           center)
    check_memory(status, what)
    return (None if gx is None else back_to(gx, input._dtype),
            None if gw is None else back_to(gw, (<Tensor>weight)._dtype),
            gb)


# ---------------------------------------------------------------- batch and group norm

cdef tuple channel_layout(Tensor input, str what):
    if input._ndim < 2:
        raise ValueError(f"{what}: expected 2D or more input (got {input._ndim}D input)")
    cdef Py_ssize_t n = input._shape[0], channels = input._shape[1]
    return n, channels, (input._numel // (n * channels)) if n * channels else 0


def batch_norm_forward(Tensor input, weight, bias, running_mean, running_var, bint training,
                       double momentum, double eps):
    """``(output, mean, invstd)`` of batch norm over an ``(N, C, *)`` input: batch
    statistics (and an in-place update of the running ones) when ``training``, else
    the running statistics."""
    what = "batch_norm"
    cdef int dnum = compute_dtype(input, what)
    n, channels, spatial = channel_layout(input, what)
    cdef Tensor w = optional(weight, dnum, channels, "weight", what)
    cdef Tensor b = optional(bias, dnum, channels, "bias", what)
    cdef Tensor rm = optional(running_mean, dnum, channels, "running_mean", what)
    cdef Tensor rv = optional(running_var, dnum, channels, "running_var", what)
    if not training and (rm is None or rv is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    cdef Tensor x = dense(input, dnum)
    cdef Tensor y = new(tuple(input.shape), dnum, input)
    cdef Tensor mean = new((channels,), dnum, input)
    cdef Tensor invstd = new((channels,), dnum, input)
    cdef int64_t cn = n, cc = channels, cs = spatial
    cdef int status
    if on_device(x):
        device_kernel(x, "batch_norm_forward", (x, w, b, rm, rv, y, mean, invstd, n, channels,
                                                spatial, training, momentum, eps))
        return write_running(training, rm, running_mean, rv, running_var,
                             back_to(y, input._dtype), mean, invstd)
    cdef void *p_x = addr(x)
    cdef void *p_w = addr(w)
    cdef void *p_b = addr(b)
    cdef void *p_rm = addr(rm)
    cdef void *p_rv = addr(rv)
    cdef void *p_y = addr(y)
    cdef void *p_mean = addr(mean)
    cdef void *p_invstd = addr(invstd)
    with nogil:
        if dnum == EM_FLOAT32:
            status = em_batch_norm_fwd_f32(<float *>p_x, <float *>p_w, <float *>p_b,
                                           <float *>p_rm, <float *>p_rv, <float *>p_y,
                                           <float *>p_mean, <float *>p_invstd,
                                           cn, cc, cs, training, momentum, eps)
        else:
            status = em_batch_norm_fwd_f64(<double *>p_x, <double *>p_w,
                                           <double *>p_b, <double *>p_rm,
                                           <double *>p_rv, <double *>p_y,
                                           <double *>p_mean, <double *>p_invstd,
                                           cn, cc, cs, training, momentum, eps)
    check_memory(status, what)
    return write_running(training, rm, running_mean, rv, running_var, back_to(y, input._dtype),
                         mean, invstd)


cdef tuple write_running(bint training, Tensor rm, object running_mean, Tensor rv,
                         object running_var, object y, Tensor mean, Tensor invstd):
    """batch_norm_forward's result, once the running statistics the kernel updated are
    written back where the kernel had dense copies of them."""
    if training:
        if rm is not None and rm is not running_mean:
            running_mean.copy_(rm)
        if rv is not None and rv is not running_var:
            running_var.copy_(rv)
    return y, mean, invstd


def batch_norm_backward(Tensor grad, Tensor input, Tensor mean, Tensor invstd, weight,
                        bint training, bint need_input, bint need_weight, bint need_bias):
    """``(grad_input, grad_weight, grad_bias)`` of :func:`batch_norm_forward`."""
    what = "batch_norm_backward"
    cdef int dnum = compute_dtype(input, what)
    n, channels, spatial = channel_layout(input, what)
    if grad._numel != input._numel or mean._numel != channels or invstd._numel != channels \
            or mean._dtype != dnum or invstd._dtype != dnum:
        raise RuntimeError(f"{what}: grad or saved statistics do not match the input")
    cdef Tensor g = dense(grad, dnum), x = dense(input, dnum)
    cdef Tensor w = optional(weight, dnum, channels, "weight", what)
    cdef Tensor gx = new(tuple(input.shape), dnum, input) if need_input else None
    cdef Tensor gw = new((channels,), dnum, input) if need_weight else None
    cdef Tensor gb = new((channels,), dnum, input) if need_bias else None
    cdef int64_t cn = n, cc = channels, cs = spatial
    cdef int status
    if on_device(x):
        device_kernel(x, "batch_norm_backward", (g, x, mean, invstd, w, gx, gw, gb, n, channels,
                                                 spatial, training))
        return param_grads(gx, gw, gb, input, weight)
    cdef void *p_g = addr(g)
    cdef void *p_x = addr(x)
    cdef void *p_mean = addr(mean)
    cdef void *p_invstd = addr(invstd)
    cdef void *p_w = addr(w)
    cdef void *p_gx = addr(gx)
    cdef void *p_gw = addr(gw)
    cdef void *p_gb = addr(gb)
    with nogil:
        if dnum == EM_FLOAT32:
            status = em_batch_norm_bwd_f32(<float *>p_g, <float *>p_x,
                                           <float *>p_mean, <float *>p_invstd,
                                           <float *>p_w, <float *>p_gx, <float *>p_gw,
                                           <float *>p_gb, cn, cc, cs, training)
        else:
            status = em_batch_norm_bwd_f64(<double *>p_g, <double *>p_x,
                                           <double *>p_mean, <double *>p_invstd,
                                           <double *>p_w, <double *>p_gx,
                                           <double *>p_gw, <double *>p_gb, cn, cc, cs,
                                           training)
    check_memory(status, what)
    return param_grads(gx, gw, gb, input, weight)


cdef tuple param_grads(Tensor gx, Tensor gw, Tensor gb, Tensor input, object weight):
    """Batch/group norm gradients in the dtypes of the input and the parameters."""
    return (None if gx is None else back_to(gx, input._dtype),
            None if gw is None else back_to(gw, (<Tensor>weight)._dtype),
            None if gb is None else back_to(gb, (<Tensor>weight if weight is not None
                                                 else input)._dtype))


def group_norm_forward(Tensor input, Py_ssize_t groups, weight, bias, double eps):
    """``(output, mean, rstd)`` of group norm; ``mean``/``rstd`` are ``(N, groups)``."""
    what = "group_norm"
    cdef int dnum = compute_dtype(input, what)
    n, channels, spatial = channel_layout(input, what)
    if groups <= 0 or channels % groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and num_groups={groups}")
    cdef Tensor w = optional(weight, dnum, channels, "weight", what)
    cdef Tensor b = optional(bias, dnum, channels, "bias", what)
    cdef Tensor x = dense(input, dnum)
    cdef Tensor y = new(tuple(input.shape), dnum, input)
    cdef Tensor mean = new((n, groups), dnum, input)
    cdef Tensor rstd = new((n, groups), dnum, input)
    cdef int64_t cn = n, cc = channels, cs = spatial, cg = groups
    if on_device(x):
        device_kernel(x, "group_norm_forward", (x, w, b, y, mean, rstd, n, channels, spatial,
                                                groups, eps))
        return back_to(y, input._dtype), mean, rstd
    cdef void *p_x = addr(x)
    cdef void *p_w = addr(w)
    cdef void *p_b = addr(b)
    cdef void *p_y = addr(y)
    cdef void *p_mean = addr(mean)
    cdef void *p_rstd = addr(rstd)
    with nogil:
        if dnum == EM_FLOAT32:
            em_group_norm_fwd_f32(<float *>p_x, <float *>p_w, <float *>p_b,
                                  <float *>p_y, <float *>p_mean, <float *>p_rstd,
                                  cn, cc, cs, cg, eps)
        else:
            em_group_norm_fwd_f64(<double *>p_x, <double *>p_w, <double *>p_b,
                                  <double *>p_y, <double *>p_mean, <double *>p_rstd,
                                  cn, cc, cs, cg, eps)
    return back_to(y, input._dtype), mean, rstd


def group_norm_backward(Tensor grad, Tensor input, Tensor mean, Tensor rstd, weight,
                        Py_ssize_t groups, bint need_input, bint need_weight, bint need_bias):
    """``(grad_input, grad_weight, grad_bias)`` of :func:`group_norm_forward`."""
    what = "group_norm_backward"
    cdef int dnum = compute_dtype(input, what)
    n, channels, spatial = channel_layout(input, what)
    if groups <= 0 or channels % groups or grad._numel != input._numel \
            or mean._numel != n * groups or rstd._numel != n * groups \
            or mean._dtype != dnum or rstd._dtype != dnum:
        raise RuntimeError(f"{what}: grad or saved statistics do not match the input")
    cdef Tensor g = dense(grad, dnum), x = dense(input, dnum)
    cdef Tensor w = optional(weight, dnum, channels, "weight", what)
    cdef Tensor gx = new(tuple(input.shape), dnum, input) if need_input else None
    cdef Tensor gw = new((channels,), dnum, input) if need_weight else None
    cdef Tensor gb = new((channels,), dnum, input) if need_bias else None
    cdef int64_t cn = n, cc = channels, cs = spatial, cg = groups
    cdef int status
    if on_device(x):
        device_kernel(x, "group_norm_backward", (g, x, mean, rstd, w, gx, gw, gb, n, channels,
                                                 spatial, groups))
        return param_grads(gx, gw, gb, input, weight)
    cdef void *p_g = addr(g)
    cdef void *p_x = addr(x)
    cdef void *p_mean = addr(mean)
    cdef void *p_rstd = addr(rstd)
    cdef void *p_w = addr(w)
    cdef void *p_gx = addr(gx)
    cdef void *p_gw = addr(gw)
    cdef void *p_gb = addr(gb)
    with nogil:
        if dnum == EM_FLOAT32:
            status = em_group_norm_bwd_f32(<float *>p_g, <float *>p_x,
                                           <float *>p_mean, <float *>p_rstd,
                                           <float *>p_w, <float *>p_gx, <float *>p_gw,
                                           <float *>p_gb, cn, cc, cs, cg)
        else:
            status = em_group_norm_bwd_f64(<double *>p_g, <double *>p_x,
                                           <double *>p_mean, <double *>p_rstd,
                                           <double *>p_w, <double *>p_gx,
                                           <double *>p_gw, <double *>p_gb, cn, cc, cs, cg)
    check_memory(status, what)
    return param_grads(gx, gw, gb, input, weight)


# ---------------------------------------------------------------- cross-entropy and nll

cdef tuple class_layout(Tensor input, Tensor target):
    """``(n, classes, spatial)`` of a ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)`` input
    whose target has one entry per position."""
    cdef Py_ssize_t n, classes, spatial
    if input._ndim == 1:
        n, classes, spatial = 1, input._shape[0], 1
    else:
        n, classes = input._shape[0], input._shape[1]
        spatial = input._numel // (n * classes) if n * classes else 0
        if n * classes == 0:
            spatial = 1
            for d in range(2, input._ndim):
                spatial *= input._shape[d]
    if target._numel != n * spatial:
        raise RuntimeError(f"Expected target with {n * spatial} elements, got shape "
                           f"{list(target.shape)}")
    return n, classes, spatial


cdef Tensor checked_target(Tensor target, Py_ssize_t classes, int64_t ignore_index):
    """The target as contiguous int64, every entry a class index or ``ignore_index``
    (on another device: checked by the device's kernels)."""
    if target._dtype != EM_INT64 and target._dtype != EM_UINT8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype}")
    cdef Tensor t = dense(target, EM_INT64)
    if on_device(t):
        return t
    cdef int64_t bad
    cdef void *p_t = addr(t)
    with nogil:
        bad = em_first_bad_target(<int64_t *>p_t, t._numel, classes, ignore_index)
    if bad >= 0:
        raise IndexError(f"Target {(<int64_t *>addr(t))[bad]} is out of bounds.")
    return t


def cross_entropy_forward(Tensor input, Tensor target, weight, int64_t ignore_index,
                          double label_smoothing, str reduction, bint log_input):
    """``(loss, lse, total_weight)`` of cross-entropy with class indices (``nll_loss``
    with ``log_input``): the reduced loss, the logsumexp of each position (saved for
    backward) and the summed weight of the targets that are not ignored."""
    what = "nll_loss" if log_input else "cross_entropy"
    cdef int dnum = compute_dtype(input, what)
    cdef int mode = REDUCTIONS[reduction]
    n, classes, spatial = class_layout(input, target)
    cdef Tensor t = checked_target(target, classes, ignore_index)
    cdef Tensor w = None
    if weight is not None:
        if (<Tensor>weight)._ndim != 1 or (<Tensor>weight)._numel != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} "
                               "classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        w = dense(weight, dnum)
    cdef Tensor x = dense(input, dnum)
    cdef Tensor loss = new(tuple(target.shape), dnum, input)
    cdef Tensor lse = None if log_input else new(tuple(target.shape), dnum, input)
    cdef int64_t cn = n, cc = classes, cs = spatial
    cdef double loss_sum = 0, weight_sum = 0
    cdef int status
    if on_device(x):
        # the reduced loss and the weight total (a 0-d float64 tensor) stay on the device
        total, device_weight_sum = device_kernel(
            x, "cross_entropy_forward", (x, t, w, loss, lse, n, classes, spatial, ignore_index,
                                         label_smoothing, log_input, reduction))
        return back_to(loss if mode == 0 else total, input._dtype), lse, device_weight_sum
    cdef void *p_x = addr(x)
    cdef void *p_t = addr(t)
    cdef void *p_w = addr(w)
    cdef void *p_loss = addr(loss)
    cdef void *p_lse = addr(lse)
    with nogil:
        if dnum == EM_FLOAT32:
            status = em_cross_entropy_fwd_f32(<float *>p_x, <int64_t *>p_t,
                                              <float *>p_w, <float *>p_loss,
                                              <float *>p_lse, &loss_sum, &weight_sum,
                                              cn, cc, cs, ignore_index, label_smoothing,
                                              log_input)
        else:
            status = em_cross_entropy_fwd_f64(<double *>p_x, <int64_t *>p_t,
                                              <double *>p_w, <double *>p_loss,
                                              <double *>p_lse, &loss_sum, &weight_sum,
                                              cn, cc, cs, ignore_index, label_smoothing,
                                              log_input)
    check_memory(status, what)
    if mode == 0:
        return back_to(loss, input._dtype), lse, weight_sum
    total = loss_sum if mode == 2 else (loss_sum / weight_sum if weight_sum != 0
                                        else (float("nan") if loss_sum == 0 else
                                              loss_sum * float("inf")))
    out = new((), dnum, input)
    out.fill_(total)
    return back_to(out, input._dtype), lse, weight_sum


def cross_entropy_backward(Tensor grad, Tensor input, Tensor target, weight, Tensor lse,
                           weight_sum, int64_t ignore_index, double label_smoothing,
                           str reduction, bint log_input):
    """The input's gradient of :func:`cross_entropy_forward` given the loss's ``grad``
    (a scalar unless ``reduction='none'``) and the forward's ``weight_sum``."""
    what = "nll_loss_backward" if log_input else "cross_entropy_backward"
    cdef int dnum = compute_dtype(input, what)
    cdef int mode = REDUCTIONS[reduction]
    n, classes, spatial = class_layout(input, target)
    cdef Tensor t = checked_target(target, classes, ignore_index)
    cdef Tensor w = optional(weight, dnum, classes, "weight", what)
    if (mode == 0 and grad._numel != target._numel) or (mode != 0 and grad._numel != 1):
        raise RuntimeError(f"{what}: grad of shape {list(grad.shape)} does not match the loss")
    if not log_input and (lse is None or lse._numel != target._numel or lse._dtype != dnum):
        raise RuntimeError(f"{what}: the saved logsumexp does not match the input")
    cdef Tensor g = dense(grad, dnum), x = dense(input, dnum)
    cdef Tensor gx = new(tuple(input.shape), dnum, input)
    cdef int64_t cn = n, cc = classes, cs = spatial
    if on_device(x):
        device_kernel(x, "cross_entropy_backward", (g, x, t, w, lse, weight_sum, gx, n, classes,
                                                    spatial, ignore_index, label_smoothing,
                                                    log_input, reduction))
        return back_to(gx, input._dtype)
    cdef double scale = 1.0 / float(weight_sum) if mode == 1 else 1.0
    cdef void *p_g = addr(g)
    cdef void *p_x = addr(x)
    cdef void *p_t = addr(t)
    cdef void *p_w = addr(w)
    cdef void *p_lse = addr(lse)
    cdef void *p_gx = addr(gx)
    with nogil:
        if dnum == EM_FLOAT32:
            em_cross_entropy_bwd_f32(<float *>p_g, mode != 0, scale, <float *>p_x,
                                     <int64_t *>p_t, <float *>p_w, <float *>p_lse,
                                     <float *>p_gx, cn, cc, cs, ignore_index,
                                     label_smoothing, log_input)
        else:
            em_cross_entropy_bwd_f64(<double *>p_g, mode != 0, scale, <double *>p_x,
                                     <int64_t *>p_t, <double *>p_w, <double *>p_lse,
                                     <double *>p_gx, cn, cc, cs, ignore_index,
                                     label_smoothing, log_input)
    return back_to(gx, input._dtype)


# ---------------------------------------------------------------- embedding

def embedding_backward(Tensor grad, Tensor indices, Py_ssize_t num_weights, padding_idx,
                       bint scale_grad_by_freq):
    """The ``(num_weights, dim)`` weight gradient of an embedding lookup: the rows of
    ``grad`` summed per index (in order), the ``padding_idx`` row zero, each row divided
    by its index's count with ``scale_grad_by_freq``."""
    what = "embedding_backward"
    cdef int dnum = compute_dtype(grad, what)
    if grad._ndim == 0:
        raise RuntimeError(f"{what}: grad must have an embedding dimension")
    cdef Py_ssize_t dim = grad._shape[grad._ndim - 1]
    if grad._numel != indices._numel * dim:
        raise RuntimeError(f"{what}: grad of shape {list(grad.shape)} does not match indices of "
                           f"shape {list(indices.shape)}")
    cdef Tensor idx = dense(indices, EM_INT64)
    cdef int64_t k, v, count = idx._numel
    cdef const int64_t *ip = <int64_t *>addr(idx)
    for k in range(count):
        v = ip[k]
        if v < 0 or v >= num_weights:
            raise IndexError("index out of range in self")
    cdef Tensor g = dense(grad, dnum)
    cdef Tensor gw = new((num_weights, dim), dnum, grad)
    cdef int64_t pad = -1 if padding_idx is None else padding_idx
    cdef int status
    cdef void *p_g = addr(g)
    cdef void *p_gw = addr(gw)
    with nogil:
        if dnum == EM_FLOAT32:
            status = em_embedding_bwd_f32(<float *>p_g, ip, count, num_weights, dim, pad,
                                          scale_grad_by_freq, <float *>p_gw)
        else:
            status = em_embedding_bwd_f64(<double *>p_g, ip, count, num_weights, dim, pad,
                                          scale_grad_by_freq, <double *>p_gw)
    check_memory(status, what)
    return back_to(gw, grad._dtype)
