# cython: embedsignature=False
"""Pooling kernels: argument checks as PyTorch makes them, then one C call.

The C loops live in ``pool.c.in`` (see ``ember/pool.h``).  Every entry takes a
``(*batch, *spatial)`` tensor with 1 to 3 pooled dimensions, runs the kernel over
its contiguous planes with the GIL released and returns plain tensors; the
differentiable ops built on them are in ``ember.ops.pool``.  float16 and
bfloat16 are computed in float32.  cuda tensors, checked here alike, go to their
backend's ``pool`` (``ember.cuda._pool``).
"""
from libc.stdint cimport int64_t

from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU
from ember._core._dtype cimport (
    EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64, EM_INT64, dtype_of,
)
from ember._core import _tensor as _core
from ember._core._tensor import backend as _backend

cdef extern from "ember/pool.h":
    ctypedef struct em_pool_geom:
        int64_t planes
        int64_t[3] in_ "in"
        int64_t[3] out
        int64_t[3] kernel
        int64_t[3] stride
        int64_t[3] pad
        int64_t[3] dilation
        int count_include_pad
        int64_t divisor
    int em_max_pool_forward_float32(const float *inp, float *out, int64_t *indices,
                                     const em_pool_geom *g) nogil
    int em_max_pool_forward_float64(const double *inp, double *out, int64_t *indices,
                                     const em_pool_geom *g) nogil
    void em_avg_pool_forward_float32(const float *inp, float *out, const em_pool_geom *g) nogil
    void em_avg_pool_forward_float64(const double *inp, double *out, const em_pool_geom *g) nogil
    void em_avg_pool_backward_float32(const float *grad_out, float *grad_in,
                                      const em_pool_geom *g) nogil
    void em_avg_pool_backward_float64(const double *grad_out, double *grad_in,
                                      const em_pool_geom *g) nogil
    void em_adaptive_avg_forward_float32(const float *inp, float *out, const em_pool_geom *g) nogil
    void em_adaptive_avg_forward_float64(const double *inp, double *out,
                                         const em_pool_geom *g) nogil
    void em_adaptive_avg_backward_float32(const float *grad_out, float *grad_in,
                                          const em_pool_geom *g) nogil
    void em_adaptive_avg_backward_float64(const double *grad_out, double *grad_in,
                                          const em_pool_geom *g) nogil
    void em_adaptive_max_forward_float32(const float *inp, float *out, int64_t *indices,
                                         const em_pool_geom *g) nogil
    void em_adaptive_max_forward_float64(const double *inp, double *out, int64_t *indices,
                                         const em_pool_geom *g) nogil
    int em_pool_scatter_float32(const float *src, const int64_t *indices, float *dst,
                                int64_t planes, int64_t out_size, int64_t in_size,
                                int accumulate, int64_t *bad) nogil
    int em_pool_scatter_float64(const double *src, const int64_t *indices, double *dst,
                                int64_t planes, int64_t out_size, int64_t in_size,
                                int accumulate, int64_t *bad) nogil

_ORDINAL = {1: "one", 2: "two", 3: "three"}
_CAPS = {1: "W", 2: "HW", 3: "THW"}


# ---------------------------------------------------------------- argument checks

cdef tuple _int_tuple(object value, int spatial, str name, str what, bint allow_empty=False):
    """``value`` as ``spatial`` ints (one int is repeated), PyTorch's message otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, tuple, list)):
        if not hasattr(value, "__index__"):
            raise TypeError(f"{name}(): argument '{what}' must be tuple of ints, but found "
                            f"element of type {type(value).__name__}")
    if isinstance(value, (tuple, list)):
        items = tuple(value)
        for item in items:
            if isinstance(item, bool) or not hasattr(item, "__index__"):
                raise TypeError(f"{name}(): argument '{what}' must be tuple of ints, but found "
                                f"element of type {type(item).__name__} at pos 0")
        items = tuple(int(item) for item in items)
    else:
        items = (int(value),)
    if len(items) == 1:
        return items * spatial
    if len(items) != spatial:
        article = "either be omitted, a single int," if allow_empty else "either be a single int,"
        raise RuntimeError(f"{name}: {what} must {article} or a tuple of "
                           f"{_ORDINAL[spatial]} ints")
    return items


cdef tuple _spatial_check(Tensor input, int spatial, str name):
    """The input's float dtype, the number of planes and the pooled sizes."""
    cdef int ndim = input._ndim
    if ndim != spatial + 1 and ndim != spatial + 2:
        raise RuntimeError(f"{name}: Expected {spatial + 1}D or {spatial + 2}D input (a non-empty "
                           f"{spatial + 1}D or {spatial + 2}D (batch mode) tensor), but got "
                           f"{list(input.shape)}")
    shape = tuple(input.shape)
    for d in range(1 if ndim == spatial + 2 else 0, ndim):
        if shape[d] == 0:
            raise RuntimeError(f"Expected {spatial + 1}D or {spatial + 2}D (batch mode) tensor "
                               f"with optional 0 dim batch size for input, but got:"
                               f"{list(shape)}")
    _check_float(input, name)
    return shape


from ember._core._dtype import TORCH_NAMES


cdef int _check_float(Tensor input, str name) except -1:
    """Pooling computes in floating point, as PyTorch's CPU kernels do."""
    if input._dtype not in (EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64):
        quoted = '"' + name + '"'
        raise NotImplementedError(f"{quoted} not implemented for "
                                  f"'{TORCH_NAMES[input._dtype]}'")
    return 0


cdef int64_t _pooled_size(int64_t size, int64_t kernel, int64_t pad, int64_t stride,
                          int64_t dilation, bint ceil_mode):
    """PyTorch's ``pooling_output_shape``."""
    cdef int64_t reach = size + 2 * pad - dilation * (kernel - 1) - 1
    cdef int64_t out
    if ceil_mode:
        reach += stride - 1
    # floor division (div_rtn): C division truncates towards zero
    out = (reach // stride if reach >= 0 else -((-reach + stride - 1) // stride)) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def window_geometry(Tensor input, int spatial, kernel_size, stride, padding, dilation,
                    bint ceil_mode, str name):
    """Checked ``(kernel, stride, padding, dilation, output_sizes)`` of a window pooling."""
    shape = _spatial_check(input, spatial, name)
    kernel = _int_tuple(kernel_size, spatial, name, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    else:
        stride = _int_tuple(stride, spatial, name, "stride", True)
    padding = _int_tuple(padding, spatial, name, "padding")
    dilation = _int_tuple(dilation, spatial, name, "dilation")
    caps = _CAPS[spatial]
    if any(k <= 0 for k in kernel):
        raise RuntimeError("kernel size should be greater than zero, but got " + " ".join(
            f"k{c}: {k}" for c, k in zip(caps, kernel)))
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero" if any(s == 0 for s in stride) else
                           "stride should be greater than zero, but got " + " ".join(
                               f"d{c}: {s}" for c, s in zip(caps, stride)))
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero, but got " + " ".join(
            f"dilation{c}: {d}" for c, d in zip(caps, dilation)))
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{name}: padding must be non-negative, but got {list(padding)}")
    for k in range(spatial):
        if padding[k] * 2 > kernel[k]:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={padding[k]}, kernel_size={kernel[k]} and "
                               f"dilation={dilation[k]}")
    sizes = shape[len(shape) - spatial:]
    outs = tuple(_pooled_size(sizes[k], kernel[k], padding[k], stride[k], dilation[k], ceil_mode)
                 for k in range(spatial))
    if any(o < 1 for o in outs):
        lead = shape[len(shape) - spatial - 1] if len(shape) > spatial else 1
        raise RuntimeError(f"Given input size: ({'x'.join(str(s) for s in (lead,) + sizes)}). "
                           f"Calculated output size: "
                           f"({'x'.join(str(s) for s in (lead,) + outs)}). Output size is too small")
    return kernel, stride, padding, dilation, outs


def adaptive_sizes(Tensor input, int spatial, output_size, str name):
    """Checked output sizes of an adaptive pooling (``None`` keeps an input size)."""
    cdef int ndim = input._ndim
    if ndim != spatial + 1 and ndim != spatial + 2:
        raise RuntimeError(f"{name}(): Expected {spatial + 1}D or {spatial + 2}D tensor, but got "
                           f"{list(input.shape)}")
    shape = tuple(input.shape)
    for d in range(1 if ndim == spatial + 2 else 0, ndim):
        if shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(shape)} with dimension {d} "
                               f"being empty")
    _check_float(input, name)
    if output_size is None or isinstance(output_size, int):
        sizes = (output_size,) * spatial
    else:
        sizes = tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"{name}: output_size must be {spatial} values, got {list(sizes)}")
    sizes = tuple(shape[ndim - spatial + k] if s is None else int(s) for k, s in enumerate(sizes))
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{', '.join(str(s) for s in sizes)}}}")
    return sizes


# ---------------------------------------------------------------- kernel calls

cdef Tensor _planes_of(Tensor input, int compute):
    """``input`` contiguous in the compute dtype."""
    if input._dtype != compute:
        input = input.to(dtype_of(compute))
    if not input.is_contig():
        input = input.contiguous()
    return input


cdef int _compute_dtype(Tensor input):
    return EM_FLOAT64 if input._dtype == EM_FLOAT64 else EM_FLOAT32


cdef void _fill_geom(em_pool_geom *g, tuple shape, tuple outs, int spatial):
    cdef int k, lead = len(shape) - spatial
    cdef int64_t planes = 1
    for k in range(lead):
        planes *= shape[k]
    g.planes = planes
    for k in range(3):
        g.in_[k] = 1
        g.out[k] = 1
        g.kernel[k] = 1
        g.stride[k] = 1
        g.pad[k] = 0
        g.dilation[k] = 1
    for k in range(spatial):
        g.in_[3 - spatial + k] = shape[lead + k]
        g.out[3 - spatial + k] = outs[k]
    g.count_include_pad = 1
    g.divisor = 0


cdef void _fill_window(em_pool_geom *g, int spatial, tuple kernel, tuple stride, tuple padding,
                       tuple dilation):
    cdef int k
    for k in range(spatial):
        g.kernel[3 - spatial + k] = kernel[k]
        g.stride[3 - spatial + k] = stride[k]
        g.pad[3 - spatial + k] = padding[k]
        g.dilation[3 - spatial + k] = dilation[k]


cdef Tensor _new(tuple shape, int dtype_num):
    cdef Py_ssize_t dims[8]
    cdef int k
    for k in range(len(shape)):
        dims[k] = shape[k]
    return new_tensor(len(shape), dims, dtype_num, _core.device("cpu"))


cdef Tensor _restore(Tensor result, int dtype_num):
    return result if result._dtype == dtype_num else result.to(dtype_of(dtype_num))


cdef inline bint _on_device(Tensor t):
    """Whether ``t`` lives on a device other than the CPU (its backend pools it)."""
    return t._storage.device.type_num != DEV_CPU


def max_pool(Tensor input, int spatial, tuple kernel, tuple stride, tuple padding,
             tuple dilation, tuple outs, bint with_indices=True):
    """Values and flat per-plane indices of the window maxima (geometry already checked);
    without ``with_indices``, values and None (a traced graph that never reads them)."""
    if _on_device(input):
        on_device = _backend(input.device.type).pool("max_pool", input, spatial, kernel,
                                                     stride, padding, dilation, outs)
        return on_device if with_indices else (on_device[0], None)
    cdef int compute = _compute_dtype(input)
    cdef Tensor src = _planes_of(input, compute)
    shape = tuple(input.shape)
    out_shape = shape[:len(shape) - spatial] + outs
    cdef Tensor out = _new(out_shape, compute)
    cdef Tensor indices = _new(out_shape, EM_INT64) if with_indices else None
    cdef em_pool_geom g
    _fill_geom(&g, shape, outs, spatial)
    _fill_window(&g, spatial, kernel, stride, padding, dilation)
    cdef int64_t *indices_data = <int64_t *>indices.ptr() if with_indices else NULL
    cdef char *out_data = out.ptr()
    cdef char *src_data = src.ptr()
    cdef int status
    with nogil:
        if compute == EM_FLOAT64:
            status = em_max_pool_forward_float64(<double *>src_data, <double *>out_data,
                                                 indices_data, &g)
        else:
            status = em_max_pool_forward_float32(<float *>src_data, <float *>out_data,
                                                 indices_data, &g)
    if status != 0:
        raise MemoryError("max_pool: out of memory for the window positions")
    return _restore(out, input._dtype), indices


def avg_pool(Tensor input, int spatial, tuple kernel, tuple stride, tuple padding, tuple outs,
             bint count_include_pad, divisor_override):
    """Window means (geometry already checked)."""
    if _on_device(input):
        return _backend(input.device.type).pool("avg_pool", input, spatial, kernel, stride,
                                                 padding, outs, count_include_pad,
                                                 _divisor(divisor_override))
    cdef int compute = _compute_dtype(input)
    cdef Tensor src = _planes_of(input, compute)
    shape = tuple(input.shape)
    cdef Tensor out = _new(shape[:len(shape) - spatial] + outs, compute)
    cdef em_pool_geom g
    _fill_geom(&g, shape, outs, spatial)
    _fill_window(&g, spatial, kernel, stride, padding, (1,) * spatial)
    g.count_include_pad = count_include_pad
    g.divisor = _divisor(divisor_override)
    cdef char *out_data = out.ptr()
    cdef char *src_data = src.ptr()
    with nogil:
        if compute == EM_FLOAT64:
            em_avg_pool_forward_float64(<double *>src_data, <double *>out_data, &g)
        else:
            em_avg_pool_forward_float32(<float *>src_data, <float *>out_data, &g)
    return _restore(out, input._dtype)


cdef int64_t _divisor(object divisor_override) except? -1:
    if divisor_override is None:
        return 0
    if int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    return int(divisor_override)


def avg_pool_backward(Tensor grad, tuple input_shape, int spatial, tuple kernel, tuple stride,
                      tuple padding, bint count_include_pad, divisor_override):
    """Gradient of :func:`avg_pool`: each output's share spread over its window."""
    cdef int compute = _compute_dtype(grad)
    cdef Tensor src = _planes_of(grad, compute)
    outs = tuple(grad.shape)[grad._ndim - spatial:]
    _check_grad_shape(grad, input_shape, spatial, outs)
    if _on_device(grad):
        return _backend(grad.device.type).pool("avg_pool_backward", grad, input_shape, spatial,
                                                kernel, stride, padding, count_include_pad,
                                                _divisor(divisor_override))
    cdef Tensor out = _new(input_shape, compute)
    cdef em_pool_geom g
    _fill_geom(&g, input_shape, outs, spatial)
    _fill_window(&g, spatial, kernel, stride, padding, (1,) * spatial)
    g.count_include_pad = count_include_pad
    g.divisor = _divisor(divisor_override)
    cdef char *out_data = out.ptr()
    cdef char *src_data = src.ptr()
    with nogil:
        if compute == EM_FLOAT64:
            em_avg_pool_backward_float64(<double *>src_data, <double *>out_data, &g)
        else:
            em_avg_pool_backward_float32(<float *>src_data, <float *>out_data, &g)
    return _restore(out, grad._dtype)


cdef _check_grad_shape(Tensor grad, tuple input_shape, int spatial, tuple outs):
    lead = input_shape[:len(input_shape) - spatial]
    if tuple(grad.shape) != lead + outs or len(input_shape) > 8:
        raise RuntimeError(f"pooling backward: gradient of shape {list(grad.shape)} does not "
                           f"match an input of shape {list(input_shape)}")


def adaptive_avg_pool(Tensor input, int spatial, tuple outs):
    """Means over PyTorch's adaptive bins (sizes already checked)."""
    if _on_device(input):
        return _backend(input.device.type).pool("adaptive_avg_pool", input, spatial, outs)
    cdef int compute = _compute_dtype(input)
    cdef Tensor src = _planes_of(input, compute)
    shape = tuple(input.shape)
    cdef Tensor out = _new(shape[:len(shape) - spatial] + outs, compute)
    cdef em_pool_geom g
    _fill_geom(&g, shape, outs, spatial)
    cdef char *out_data = out.ptr()
    cdef char *src_data = src.ptr()
    if out._numel:
        with nogil:
            if compute == EM_FLOAT64:
                em_adaptive_avg_forward_float64(<double *>src_data, <double *>out_data, &g)
            else:
                em_adaptive_avg_forward_float32(<float *>src_data, <float *>out_data, &g)
    return _restore(out, input._dtype)


def adaptive_avg_pool_backward(Tensor grad, tuple input_shape, int spatial):
    """Gradient of :func:`adaptive_avg_pool`."""
    cdef int compute = _compute_dtype(grad)
    outs = tuple(grad.shape)[grad._ndim - spatial:]
    _check_grad_shape(grad, input_shape, spatial, outs)
    if _on_device(grad):
        return _backend(grad.device.type).pool("adaptive_avg_pool_backward", grad, input_shape,
                                                spatial)
    cdef Tensor src = _planes_of(grad, compute)
    cdef Tensor out = _new(input_shape, compute)
    cdef em_pool_geom g
    _fill_geom(&g, input_shape, outs, spatial)
    cdef char *out_data = out.ptr()
    cdef char *src_data = src.ptr()
    if src._numel:
        with nogil:
            if compute == EM_FLOAT64:
                em_adaptive_avg_backward_float64(<double *>src_data, <double *>out_data, &g)
            else:
                em_adaptive_avg_backward_float32(<float *>src_data, <float *>out_data, &g)
    else:
        out.zero_()
    return _restore(out, grad._dtype)


def adaptive_max_pool(Tensor input, int spatial, tuple outs):
    """Values and flat per-plane indices of the maxima over adaptive bins."""
    if _on_device(input):
        return _backend(input.device.type).pool("adaptive_max_pool", input, spatial, outs)
    cdef int compute = _compute_dtype(input)
    cdef Tensor src = _planes_of(input, compute)
    shape = tuple(input.shape)
    out_shape = shape[:len(shape) - spatial] + outs
    cdef Tensor out = _new(out_shape, compute)
    cdef Tensor indices = _new(out_shape, EM_INT64)
    cdef em_pool_geom g
    _fill_geom(&g, shape, outs, spatial)
    cdef char *indices_data = indices.ptr()
    cdef char *out_data = out.ptr()
    cdef char *src_data = src.ptr()
    if out._numel:
        with nogil:
            if compute == EM_FLOAT64:
                em_adaptive_max_forward_float64(<double *>src_data, <double *>out_data,
                                                <int64_t *>indices_data, &g)
            else:
                em_adaptive_max_forward_float32(<float *>src_data, <float *>out_data,
                                                <int64_t *>indices_data, &g)
    return _restore(out, input._dtype), indices


def scatter_planes(Tensor src, Tensor indices, tuple out_shape, int spatial, bint accumulate,
                   str name="max_pool_backward", tuple window=None):
    """``zeros(out_shape)`` with each plane of ``src`` written (or added) at ``indices``.

    The backward of max pooling (``accumulate``) and max unpooling (writes).  ``src`` and
    ``indices`` share one shape whose leading dimensions are those of ``out_shape``.
    ``window``, for max pooling's backward, is the pooling that saved ``indices``:
    ``(kernel, stride, padding, dilation)``, or ``()`` for adaptive bins; a device then
    gathers from the outputs that can name each element, in parallel and without atomics,
    instead of scattering plane by plane."""
    if indices._dtype != EM_INT64:
        raise RuntimeError(f"{name}: expected indices to have dtype int64, but got "
                           f"{indices.dtype}")
    if tuple(src.shape) != tuple(indices.shape):
        raise RuntimeError(f"{name}: Shape of indices ({list(indices.shape)}) should match "
                           f"shape of the input ({list(src.shape)})")
    lead = out_shape[:len(out_shape) - spatial]
    if src._ndim != len(out_shape) or tuple(src.shape)[:len(lead)] != lead or len(out_shape) > 8:
        raise RuntimeError(f"{name}: input of shape {list(src.shape)} cannot be spread into an "
                           f"output of shape {list(out_shape)}")
    _check_float(src, name)
    if indices.device != src.device:
        raise RuntimeError(f"{name}: expected indices on {src.device}, but got them on "
                           f"{indices.device}")
    cdef int compute = _compute_dtype(src)
    cdef int64_t planes = 1, in_size = 1, out_size = 1, bad = 0
    cdef int error
    for s in lead:
        planes *= s
    for s in out_shape[len(lead):]:
        in_size *= s
    for s in tuple(src.shape)[len(lead):]:
        out_size *= s
    if _on_device(src) and accumulate and window is not None:
        return _backend(src.device.type).pool("max_pool_backward", src, indices, out_shape,
                                              spatial, window)
    if _on_device(src):
        result, bad = _backend(src.device.type).pool("scatter_planes", src, indices, out_shape,
                                                     planes, out_size, in_size, accumulate)
        if result is None:
            _invalid_index(bad, out_shape, len(lead))
        return result
    cdef Tensor values = _planes_of(src, compute)
    cdef Tensor where = _planes_of(indices, EM_INT64)
    cdef Tensor out = _new(out_shape, compute)
    if planes == 0:
        return _restore(out, src._dtype)
    cdef char *out_data = out.ptr()
    cdef char *values_data = values.ptr()
    cdef char *where_data = where.ptr()
    with nogil:
        if compute == EM_FLOAT64:
            error = em_pool_scatter_float64(<double *>values_data, <int64_t *>where_data,
                                            <double *>out_data, planes, out_size, in_size,
                                            accumulate, &bad)
        else:
            error = em_pool_scatter_float32(<float *>values_data, <int64_t *>where_data,
                                            <float *>out_data, planes, out_size, in_size,
                                            accumulate, &bad)
    if error:
        _invalid_index(bad, out_shape, len(lead))
    return _restore(out, src._dtype)


cdef _invalid_index(int64_t bad, tuple out_shape, int lead):
    raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                       f"{'x'.join(str(s) for s in out_shape[lead:])})")
