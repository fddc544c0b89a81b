# The backward products of a convolution: its input gradient (a transposed
# convolution, also nn.ConvTranspose) and its weight gradient.  Included by _conv.pyx.


cdef int input_grad_kernel(const em_conv_geom *g, Py_ssize_t batch, Py_ssize_t groups,
                           Py_ssize_t out_per_group, const real_t *grad, const real_t *w,
                           const real_t *bias, real_t *gx) except -1 nogil:
    """gx (N, G * Cg, *in) = col2im(w_g^T (CgK, Og) @ grad_ng (Og, P)) (+ bias per channel):
    the gradient of the convolution to its input, i.e. the transposed convolution."""
    cdef Py_ssize_t patch = g.channels * g.kernel[0] * g.kernel[1] * g.kernel[2]
    cdef Py_ssize_t positions = g.out[0] * g.out[1] * g.out[2]
    cdef Py_ssize_t plane = g.in_[0] * g.in_[1] * g.in_[2]
    cdef Py_ssize_t in_size = g.channels * plane
    cdef Py_ssize_t jobs = batch * groups, j, n, gi, c, p
    cdef bint pointwise = is_pointwise(g)
    cdef int nt = threads_for(jobs, <double>jobs * out_per_group * patch * positions)
    cdef Py_ssize_t per_thread = 0 if pointwise else work_elements(g)
    cdef size_t buf_bytes = <size_t>per_thread * sizeof(real_t)
    cdef real_t *buffers = NULL
    cdef real_t *col
    cdef real_t *target
    cdef real_t shift
    cdef int tid
    if buf_bytes:
        buffers = <real_t *>alloc_buffers(buf_bytes * nt)
        if buffers == NULL:
            with gil:
                raise MemoryError("convolution: out of memory for the column buffer")
    with parallel(num_threads=nt):
        tid = threadid()
        for j in prange(jobs, schedule='static'):
            n = j // groups
            gi = j % groups
            target = gx + n * groups * in_size + gi * in_size
            col = target if pointwise else buffers + tid * per_thread
            gemm(True, False, <int>patch, <int>positions, <int>out_per_group, 1,
                 w + gi * out_per_group * patch, <int>patch,
                 grad + (n * groups + gi) * out_per_group * positions, <int>positions, 0,
                 col, <int>positions)
            if not pointwise:
                col2im(g, col, target, col + patch * positions)
            if bias != NULL:
                for c in range(g.channels):
                    shift = bias[gi * g.channels + c]
                    for p in range(plane):
                        target[c * plane + p] += shift
    if buffers != NULL:
        free_buffers(buffers, buf_bytes * nt)
    return 0


cdef int weight_grad_kernel(const em_conv_geom *g, Py_ssize_t batch, Py_ssize_t groups,
                            Py_ssize_t out_per_group, const real_t *x, const real_t *grad,
                            real_t *gw) except -1 nogil:
    """gw (G * Og, CgK) = sum over samples of grad_ng (Og, P) @ im2col(x_ng)^T: one partial
    sum per thread, added in thread order (deterministic for a given thread count)."""
    cdef Py_ssize_t patch = g.channels * g.kernel[0] * g.kernel[1] * g.kernel[2]
    cdef Py_ssize_t positions = g.out[0] * g.out[1] * g.out[2]
    cdef Py_ssize_t in_size = g.channels * g.in_[0] * g.in_[1] * g.in_[2]
    cdef Py_ssize_t weight_size = groups * out_per_group * patch
    cdef Py_ssize_t jobs = batch * groups, j, n, gi, i
    cdef bint pointwise = is_pointwise(g)
    cdef int nt = threads_for(jobs, <double>jobs * out_per_group * patch * positions)
    cdef size_t col_bytes = 0 if pointwise else <size_t>col_elements(g) * sizeof(real_t)
    cdef size_t part_bytes = <size_t>weight_size * sizeof(real_t) if nt > 1 else 0
    cdef size_t buf_bytes = (col_bytes + part_bytes) * nt
    cdef char *buffers = NULL
    cdef real_t *col
    cdef real_t *acc
    cdef real_t *part
    cdef int tid, t
    if buf_bytes:
        buffers = <char *>alloc_buffers(buf_bytes)
        if buffers == NULL:
            with gil:
                raise MemoryError("convolution: out of memory for the weight gradient buffers")
    memset(gw, 0, <size_t>weight_size * sizeof(real_t))
    if part_bytes:
        for t in range(nt):
            memset(buffers + t * (col_bytes + part_bytes) + col_bytes, 0, part_bytes)
    with parallel(num_threads=nt):
        tid = threadid()
        for j in prange(jobs, schedule='static'):
            n = j // groups
            gi = j % groups
            acc = gw if part_bytes == 0 else (
                <real_t *>(buffers + tid * (col_bytes + part_bytes) + col_bytes))
            if pointwise:
                col = <real_t *>x + n * groups * in_size + gi * in_size
            else:
                col = <real_t *>(buffers + tid * (col_bytes + part_bytes))
                im2col(g, x + n * groups * in_size + gi * in_size, col)
            gemm(False, True, <int>out_per_group, <int>patch, <int>positions, 1,
                 grad + (n * groups + gi) * out_per_group * positions, <int>positions,
                 col, <int>positions, 1, acc + gi * out_per_group * patch, <int>patch)
    if part_bytes:
        for t in range(nt):
            part = <real_t *>(buffers + t * (col_bytes + part_bytes) + col_bytes)
            for i in range(weight_size):
                gw[i] += part[i]
    if buffers != NULL:
        free_buffers(buffers, buf_bytes)
    return 0


def convolution_transpose(input, weight, bias, tuple out_size, stride, padding, dilation,
                          int groups):
    """Transposed convolution: the gradient of a convolution with ``weight`` ``(C_in,
    C_out / groups, *kernel)`` to its input, applied to ``input`` ``(N, C_in, *spatial)``;
    the result has spatial size ``out_size`` (which that convolution maps to ``spatial``)
    and ``bias`` ``(C_out,)`` added per channel."""
    _check_tensor(input, "input")
    _check_tensor(weight, "weight")
    cdef int spatial = weight.dim() - 2
    if spatial < 1 or spatial > 3 or input.dim() != spatial + 2:
        raise RuntimeError(f"convolution_transpose: expected a {spatial + 2}-D input for a "
                           f"weight of size {list(weight.shape)}, but got input of size "
                           f"{list(input.shape)}")
    stride = _ints(stride, spatial, "stride")
    padding = _ints(padding, spatial, "padding")
    dilation = _ints(dilation, spatial, "dilation")
    out_size = _ints(out_size, spatial, "output size")
    cdef int dt = compute_dtype(input, "convolution_transpose",
                                [("weight", weight), ("bias", bias)])
    batch, channels = input.shape[0], input.shape[1]
    kernel = tuple(weight.shape[2:])
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported, got groups={groups}")
    if channels != weight.shape[0] or channels % groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {weight.shape[0]} channels, but "
                           f"got {channels} channels instead")
    out_channels = weight.shape[1] * groups
    if bias is not None:
        _check_tensor(bias, "bias")
        if tuple(bias.shape) != (out_channels,):
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, "
                               f"expected bias to be 1-dimensional with {out_channels} "
                               f"elements, but got bias of size {list(bias.shape)} instead")
    in_size = tuple(input.shape[2:])
    if any(o < 0 for o in out_size) or output_size(out_size, kernel, stride, padding,
                                                   dilation) != in_size:
        raise RuntimeError(f"convolution_transpose: output size {list(out_size)} does not map "
                           f"to the input size {list(in_size)} (kernel {list(kernel)}, stride "
                           f"{list(stride)}, padding {list(padding)}, dilation {list(dilation)})")
    cdef em_conv_geom g
    fill_geom(&g, out_channels // groups, out_size, in_size, kernel, stride, padding, dilation)
    if on_device(input, [weight, bias]):
        return _backend(input.device.type).conv("convolution_transpose", input, weight, bias,
                                                 out_size, stride, padding, dilation, groups)
    cdef Tensor x = prepared(input, "input", dt)
    cdef Tensor w = prepared(weight, "weight", dt)
    cdef Tensor b = prepared(bias, "bias", dt) if bias is not None else None
    cdef Tensor y = _empty((batch, out_channels) + out_size, dt)
    cdef Py_ssize_t n = batch, G = groups, og = channels // groups
    if y._numel == 0:
        return finish(y, input)
    if channels == 0 or input.numel() == 0:
        return finish(ember.zeros(tuple(y.shape), dtype=y.dtype) +
                      (b.reshape((-1,) + (1,) * spatial) if b is not None else 0), input)
    _single_threaded_blas()
    cdef char *xp = data(x)
    cdef char *wp = data(w)
    cdef char *bp = data(b)
    cdef char *yp = data(y)
    with nogil:
        if dt == EM_FLOAT32:
            input_grad_kernel(&g, n, G, og, <float *>xp, <float *>wp, <float *>bp, <float *>yp)
        else:
            input_grad_kernel(&g, n, G, og, <double *>xp, <double *>wp, <double *>bp,
                              <double *>yp)
    return finish(y, input)


def convolution_weight_grad(input, grad, tuple kernel, stride, padding, dilation, int groups):
    """The gradient of a convolution's weight ``(O, C / groups, *kernel)``, given its
    ``input`` ``(N, C, *spatial)`` and the gradient of its output ``grad`` ``(N, O, *out)``."""
    _check_tensor(input, "input")
    _check_tensor(grad, "grad")
    cdef int spatial = len(kernel)
    if spatial < 1 or spatial > 3 or input.dim() != spatial + 2 or grad.dim() != spatial + 2:
        raise RuntimeError(f"convolution_weight_grad: expected {spatial + 2}-D input and grad "
                           f"for a kernel of size {list(kernel)}, but got {list(input.shape)} "
                           f"and {list(grad.shape)}")
    kernel = _ints(kernel, spatial, "kernel size")
    stride = _ints(stride, spatial, "stride")
    padding = _ints(padding, spatial, "padding")
    dilation = _ints(dilation, spatial, "dilation")
    cdef int dt = compute_dtype(input, "convolution_weight_grad", [("grad", grad)])
    batch, channels = input.shape[0], input.shape[1]
    out_channels = grad.shape[1]
    if groups <= 0 or channels % groups or out_channels % groups:
        raise RuntimeError(f"convolution_weight_grad: groups={groups} must divide the "
                           f"{channels} input and {out_channels} output channels")
    in_size = tuple(input.shape[2:])
    out = output_size(in_size, kernel, stride, padding, dilation)
    if grad.shape[0] != batch or tuple(grad.shape[2:]) != out:
        raise RuntimeError(f"convolution_weight_grad: expected grad of size "
                           f"{[batch, out_channels, *out]}, but got {list(grad.shape)}")
    cdef em_conv_geom g
    fill_geom(&g, channels // groups, in_size, out, kernel, stride, padding, dilation)
    if on_device(input, [grad]):
        return _backend(input.device.type).conv("convolution_weight_grad", input, grad, kernel,
                                                 stride, padding, dilation, groups)
    cdef Tensor x = prepared(input, "input", dt)
    cdef Tensor gy = prepared(grad, "grad", dt)
    cdef Tensor gw = _empty((out_channels, channels // groups) + kernel, dt)
    cdef Py_ssize_t n = batch, G = groups, og = out_channels // groups
    if gw._numel == 0:
        return finish(gw, input)
    if x._numel == 0 or gy._numel == 0:
        return finish(ember.zeros(tuple(gw.shape), dtype=gw.dtype), input)
    _single_threaded_blas()
    cdef char *xp = data(x)
    cdef char *gp = data(gy)
    cdef char *wp = data(gw)
    with nogil:
        if dt == EM_FLOAT32:
            weight_grad_kernel(&g, n, G, og, <float *>xp, <float *>gp, <float *>wp)
        else:
            weight_grad_kernel(&g, n, G, og, <double *>xp, <double *>gp, <double *>wp)
    return finish(gw, input)
