# cython: embedsignature=False
"""Fused convolution kernels on the CPU: forward, the two backward products, and
im2col / col2im on their own (``fold`` / ``unfold``).

Each sample and group is one matrix product: its input windows are laid out as
columns (``im2col``, ``conv.c.in``) in a buffer owned by the thread, and
multiplied with the group's kernels by BLAS (``scipy.linalg.cython_blas``).
SciPy's OpenBLAS runs single-threaded; ember's OpenMP threads share out the
(sample, group) products, as the matmul family does.  The input gradient is the
transposed product followed by ``col2im``; the weight gradient accumulates one
partial sum per thread, added up in thread order afterwards so that the result
does not depend on timing.  A 1x1 kernel with unit stride and no padding needs
no columns: the input itself is the column matrix.  A float32 3x3 unit-stride forward
with enough channels and positions runs Winograd's F(2x2, 3x3) instead (``winograd.c``).

float32 and float64 run natively; float16 and bfloat16 are computed in float32
and rounded once.  Arguments are checked here, at the Python boundary, for every
device; cuda tensors then go to their backend's ``conv`` (``ember.cuda._conv``:
ember's im2col/col2im kernels and cuBLAS).  The differentiable ops built on these
functions are in ``ember.ops.conv``.
"""
from cython.parallel cimport prange, parallel, threadid
from libc.limits cimport INT_MAX
from libc.stdint cimport int64_t
from libc.string cimport memset

from scipy.linalg.cython_blas cimport sgemm, dgemm

from ember._core._dtype cimport EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64
from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU

import ember
from ember._core._blas import _single_threaded_blas
from ember._core._pool import max_pool
from ember._core._tensor import backend as _backend


cdef extern from "ember/strided.h":
    int em_get_num_threads() noexcept nogil
    void *em_alloc(size_t nbytes) noexcept
    void em_free(void *ptr, size_t nbytes) noexcept


# ember's caching allocator keeps its free lists under the GIL; the kernels below run
# without it, so they take it back for their work buffers
cdef void *alloc_buffers(size_t nbytes) noexcept nogil:
    with gil:
        return em_alloc(nbytes)


cdef void free_buffers(void *ptr, size_t nbytes) noexcept nogil:
    with gil:
        em_free(ptr, nbytes)


cdef extern from "ember/conv.h" nogil:
    ctypedef struct em_conv_geom:
        int64_t channels
        int64_t in_ "in"[3]
        int64_t out[3]
        int64_t kernel[3]
        int64_t pad[3]
        int64_t stride[3]
        int64_t dilation[3]
    int64_t em_conv_scratch_size(const em_conv_geom *g)
    void em_im2col_float32(const em_conv_geom *g, const float *im, float *col, int64_t row0,
                           int64_t row1)
    void em_im2col_float64(const em_conv_geom *g, const double *im, double *col, int64_t row0,
                           int64_t row1)
    ctypedef struct em_winograd_geom:
        int64_t batch, channels, height, width
        int64_t out_channels, out_height, out_width
        int64_t pad_h, pad_w
    size_t em_winograd_weights_floats(int64_t out_channels, int64_t channels)
    void em_winograd_weights_float32(const float *w, int64_t out_channels, int64_t channels,
                                     float *U)
    int em_winograd_conv3x3_float32(const em_winograd_geom *q, const float *x, const float *w,
                                    const float *U, const float *bias, int relu, int pool,
                                    float *y)
    void em_col2im_float32(const em_conv_geom *g, const float *col, float *im, float *scratch)
    void em_col2im_float64(const em_conv_geom *g, const double *col, double *im,
                           double *scratch)


ctypedef fused real_t:
    float
    double

# Multiply-adds below which a call runs on one thread.
cdef double CONV_GRAIN = 1 << 18

# Winograd's F(2x2, 3x3) for float32 3x3 unit-stride convolutions with at least this many
# input and output channels and output positions over the batch (fewer: its transforms
# outweigh the products it saves; measured 1.2-2.2x faster from there, 0.9x at 16
# channels, 0.4x for one 8x8 image, whose kernels' transform then costs the most).
cdef enum:
    WINOGRAD_MIN_CHANNELS = 32
    WINOGRAD_MIN_POSITIONS = 256
    # the tiles of one sample times both channel counts: one thread's transformed
    # inputs and products (16 floats each) stay under 64 MiB
    WINOGRAD_MAX_TILE_CHANNELS = 1 << 20
cdef bint winograd_enabled = True


def _set_winograd(bint enabled):
    """Let float32 3x3 unit-stride convolutions use Winograd's algorithm (the default) or
    not (im2col and GEMM, as every other convolution); returns the previous setting.  For
    tests and benchmarks."""
    global winograd_enabled
    previous = winograd_enabled
    winograd_enabled = enabled
    return previous


cdef bint use_winograd(const em_conv_geom *g, Py_ssize_t batch, Py_ssize_t groups,
                       Py_ssize_t out_channels):
    return (winograd_enabled and groups == 1 and g.channels >= WINOGRAD_MIN_CHANNELS
            and out_channels >= WINOGRAD_MIN_CHANNELS
            and batch * g.out[1] * g.out[2] >= WINOGRAD_MIN_POSITIONS
            and ((g.out[1] + 1) // 2) * ((g.out[2] + 1) // 2) * (g.channels + out_channels)
                <= WINOGRAD_MAX_TILE_CHANNELS
            and g.in_[0] == 1 and g.kernel[0] == 1
            and g.kernel[1] == 3 and g.kernel[2] == 3 and g.stride[1] == 1 and g.stride[2] == 1
            and g.dilation[1] == 1 and g.dilation[2] == 1 and g.pad[1] <= 2 and g.pad[2] <= 2)


# ------------------------------------------------------------------ C helpers

# Each thread's work buffer: the column matrix of one product (col_elements), then,
# for col2im under padding, its scratch plane (work_elements counts both).

cdef inline Py_ssize_t col_elements(const em_conv_geom *g) noexcept nogil:
    return (g.channels * g.kernel[0] * g.kernel[1] * g.kernel[2]
            * g.out[0] * g.out[1] * g.out[2])


cdef inline Py_ssize_t work_elements(const em_conv_geom *g) noexcept nogil:
    return col_elements(g) + em_conv_scratch_size(g)


cdef inline void im2col_rows(const em_conv_geom *g, const real_t *im, real_t *col,
                             Py_ssize_t row0, Py_ssize_t row1) noexcept nogil:
    """The columns of output rows ``[row0, row1)`` (rows: (od, oh) pairs, flattened)."""
    if real_t is float:
        em_im2col_float32(g, im, col, row0, row1)
    else:
        em_im2col_float64(g, im, col, row0, row1)


cdef inline void im2col(const em_conv_geom *g, const real_t *im, real_t *col) noexcept nogil:
    im2col_rows(g, im, col, 0, g.out[0] * g.out[1])


cdef inline void col2im(const em_conv_geom *g, const real_t *col, real_t *im,
                        real_t *scratch) noexcept nogil:
    if real_t is float:
        em_col2im_float32(g, col, im, scratch)
    else:
        em_col2im_float64(g, col, im, scratch)


cdef extern from "ember/sgemm.h" nogil:
    void em_sgemm(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
                  const float *a, Py_ssize_t a_rs, Py_ssize_t a_cs,
                  const float *b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                  float beta, float *c, Py_ssize_t c_rs, Py_ssize_t c_cs)

# Products whose C has both sides at least this long run on ember's float32 GEMM
# (at least OpenBLAS's speed there, tools/bench_gemm.py); thinner ones on OpenBLAS.
cdef enum:
    SGEMM_MIN_SIDE = 16


cdef inline void gemm(bint trans_a, bint trans_b, int m, int n, int k, real_t alpha,
                      const real_t *a, int lda, const real_t *b, int ldb, real_t beta,
                      real_t *c, int ldc) noexcept nogil:
    """Row-major ``C (m x n) = alpha * op(A) @ op(B) + beta * C`` (``lda``, ``ldb``: row
    lengths of A and B as stored), through column-major BLAS as ``C^T = op(B)^T op(A)^T``."""
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    if real_t is float and m >= SGEMM_MIN_SIDE and n >= SGEMM_MIN_SIDE:
        # ember's float32 GEMM (any strides): op(X) of a row-major X with row length ld
        em_sgemm(m, n, k, alpha, a, 1 if trans_a else lda, lda if trans_a else 1,
                 b, 1 if trans_b else ldb, ldb if trans_b else 1, beta, c, ldc, 1)
    elif real_t is float:
        sgemm(&ta, &tb, &n, &m, &k, &alpha, <float *>b, &ldb, <float *>a, &lda, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &n, &m, &k, &alpha, <double *>b, &ldb, <double *>a, &lda, &beta, c, &ldc)


cdef inline bint is_pointwise(const em_conv_geom *g) noexcept nogil:
    """A 1x1 kernel with unit stride and no padding: the input is its own column matrix."""
    cdef int d
    for d in range(3):
        if g.kernel[d] != 1 or g.stride[d] != 1 or g.pad[d] != 0:
            return False
    return True


cdef int threads_for(Py_ssize_t jobs, double work) noexcept nogil:
    cdef int nt = em_get_num_threads()
    if work < CONV_GRAIN or nt < 1:
        return 1
    return <int>min(<Py_ssize_t>nt, jobs) if jobs > 0 else 1


# ------------------------------------------------------------------ kernels

cdef inline void forward_columns(Py_ssize_t out_per_group, Py_ssize_t patch,
                                 Py_ssize_t positions, Py_ssize_t p0, Py_ssize_t p1,
                                 const real_t *w, const real_t *bias, const real_t *col,
                                 Py_ssize_t col_pitch, bint relu, real_t *out) noexcept nogil:
    """Columns ``p0:p1`` of one (sample, group) product ``out = w @ col (+ bias)``, ``col``
    holding those columns at row pitch ``col_pitch``; the bias (and, with ``relu``, the
    ReLU of a traced conv-relu pair) is applied to the block the product just wrote,
    while it is in cache."""
    cdef Py_ssize_t o, p
    cdef real_t shift, v
    cdef real_t *row
    if p1 <= p0:
        return
    gemm(False, False, <int>out_per_group, <int>(p1 - p0), <int>patch, 1, w, <int>patch,
         col, <int>col_pitch, 0, out + p0, <int>positions)
    if bias == NULL and not relu:
        return
    for o in range(out_per_group):
        shift = bias[o] if bias != NULL else 0
        row = out + o * positions
        if relu:
            for p in range(p0, p1):
                v = row[p] + shift
                row[p] = 0 if v < 0 else v
        else:
            for p in range(p0, p1):
                row[p] += shift


cdef inline void forward_job(const em_conv_geom *g, Py_ssize_t groups,
                             Py_ssize_t out_per_group, Py_ssize_t j, const real_t *x,
                             const real_t *w, const real_t *bias, bint relu, real_t *col,
                             real_t *y) noexcept nogil:
    """The product of (sample, group) ``j`` (see :func:`forward_kernel`), its columns
    laid out in ``col`` (NULL for a pointwise kernel: the input is the column matrix)."""
    cdef Py_ssize_t patch = g.channels * g.kernel[0] * g.kernel[1] * g.kernel[2]
    cdef Py_ssize_t positions = g.out[0] * g.out[1] * g.out[2]
    cdef const real_t *image = x + j * g.channels * g.in_[0] * g.in_[1] * g.in_[2]
    if col != NULL:
        im2col(g, image, col)
    forward_columns(out_per_group, patch, positions, 0, positions,
                    w + (j % groups) * out_per_group * patch,
                    bias + (j % groups) * out_per_group if bias != NULL else NULL,
                    image if col == NULL else col, positions, relu,
                    y + j * out_per_group * positions)


cdef int forward_kernel(const em_conv_geom *g, Py_ssize_t batch, Py_ssize_t groups,
                        Py_ssize_t out_per_group, const real_t *x, const real_t *w,
                        const real_t *bias, bint relu, real_t *y) except -1 nogil:
    """y (N, G * Og, P) = w_g (Og, CgK) @ im2col(x_ng) (+ bias), per sample and group.

    With fewer products than threads (a single image), the threads share out the output
    rows of each product instead, each writing the columns of its rows into its own
    buffer (reading columns another core wrote cost more than writing them again)."""
    cdef Py_ssize_t patch = g.channels * g.kernel[0] * g.kernel[1] * g.kernel[2]
    cdef Py_ssize_t positions = g.out[0] * g.out[1] * g.out[2]
    cdef Py_ssize_t rows = g.out[0] * g.out[1], row_len = g.out[2]
    cdef Py_ssize_t in_size = g.channels * g.in_[0] * g.in_[1] * g.in_[2]
    cdef Py_ssize_t jobs = batch * groups, j, t, r0, r1
    cdef bint pointwise = is_pointwise(g)
    cdef double work = <double>jobs * out_per_group * patch * positions
    cdef int nt = threads_for(jobs, work)
    cdef int split = em_get_num_threads() if work >= CONV_GRAIN else 1
    cdef Py_ssize_t per_thread
    cdef size_t buf_bytes
    cdef real_t *buffers = NULL
    cdef real_t *mine
    cdef const real_t *col
    cdef int tid
    if split <= jobs or positions < 32 * split or rows < split:
        split = 1
        per_thread = 0 if pointwise else col_elements(g)
    else:
        nt = split
        per_thread = 0 if pointwise else patch * ((rows + split - 1) // split) * row_len
    buf_bytes = <size_t>per_thread * sizeof(real_t)
    if buf_bytes:
        buffers = <real_t *>alloc_buffers(buf_bytes * nt)
        if buffers == NULL:
            with gil:
                raise MemoryError("convolution: out of memory for the column buffer")
    if split > 1:
        for j in range(jobs):
            with parallel(num_threads=split):
                tid = threadid()
                for t in prange(split, schedule='static'):
                    r0 = rows * t // split
                    r1 = rows * (t + 1) // split
                    if pointwise:
                        col = x + j * in_size + r0 * row_len
                    else:
                        mine = buffers + tid * per_thread
                        im2col_rows(g, x + j * in_size, mine, r0, r1)
                        col = mine
                    forward_columns(out_per_group, patch, positions, r0 * row_len,
                                    r1 * row_len, w + (j % groups) * out_per_group * patch,
                                    bias + (j % groups) * out_per_group if bias != NULL
                                    else NULL, col,
                                    positions if pointwise else (r1 - r0) * row_len, relu,
                                    y + j * out_per_group * positions)
    elif nt > 1:
        with parallel(num_threads=nt):
            tid = threadid()
            for j in prange(jobs, schedule='static'):
                forward_job(g, groups, out_per_group, j, x, w, bias, relu,
                            NULL if pointwise else buffers + tid * per_thread, y)
    else:
        # no parallel region at all: one of a single thread still costs a futex call
        for j in range(jobs):
            forward_job(g, groups, out_per_group, j, x, w, bias, relu,
                        NULL if pointwise else buffers, y)
    if buffers != NULL:
        free_buffers(buffers, buf_bytes * nt)
    return 0


cdef int unfold_kernel(const em_conv_geom *g, Py_ssize_t batch, const real_t *x,
                       real_t *cols, bint fold) except -1 nogil:
    """im2col (``fold`` False: x -> cols) or col2im (x <- cols) of every sample."""
    cdef Py_ssize_t patch = g.channels * g.kernel[0] * g.kernel[1] * g.kernel[2]
    cdef Py_ssize_t positions = g.out[0] * g.out[1] * g.out[2]
    cdef Py_ssize_t in_size = g.channels * g.in_[0] * g.in_[1] * g.in_[2]
    cdef Py_ssize_t scratch = em_conv_scratch_size(g) if fold else 0, n
    cdef int nt = threads_for(batch, <double>batch * patch * positions * 4)
    cdef size_t buf_bytes = <size_t>(scratch * nt) * sizeof(real_t)
    cdef real_t *buffers = NULL
    cdef real_t *mine
    if buf_bytes:
        buffers = <real_t *>alloc_buffers(buf_bytes)
        if buffers == NULL:
            with gil:
                raise MemoryError("unfold: out of memory for the padded plane")
    with parallel(num_threads=nt):
        mine = buffers + threadid() * scratch if buffers != NULL else NULL
        for n in prange(batch, schedule='static'):
            if fold:
                col2im(g, cols + n * patch * positions, <real_t *>x + n * in_size, mine)
            else:
                im2col(g, x + n * in_size, cols + n * patch * positions)
    if buffers != NULL:
        free_buffers(buffers, buf_bytes)
    return 0


# ------------------------------------------------------------------ the boundary

cdef tuple _ints(object values, int count, str name):
    values = tuple(values)
    if len(values) != count:
        raise RuntimeError(f"expected {name} to have {count} values, but got {list(values)}")
    for v in values:
        if not isinstance(v, int):
            raise TypeError(f"{name} must be a tuple of ints, but got {values}")
    return values


cdef int fill_geom(em_conv_geom *g, Py_ssize_t channels, tuple in_size, tuple out_size,
                   tuple kernel, tuple stride, tuple padding, tuple dilation) except -1:
    """The geometry with 1-D and 2-D problems as 3-D ones with unit leading dims."""
    cdef int spatial = len(kernel), lead = 3 - len(kernel), d
    cdef Py_ssize_t patch = channels, positions = 1
    for d in range(spatial):
        patch *= kernel[d]
        positions *= max(out_size[d], 1)
    if patch > INT_MAX or positions > INT_MAX:
        raise RuntimeError(f"convolution: {patch} x {positions} column matrix of a sample "
                           f"exceeds the largest size the BLAS library accepts ({INT_MAX}); "
                           "split the input into smaller pieces")
    g.channels = channels
    for d in range(3):
        g.in_[d] = g.out[d] = g.kernel[d] = g.stride[d] = g.dilation[d] = 1
        g.pad[d] = 0
    for d in range(spatial):
        if stride[d] <= 0:
            raise RuntimeError(f"non-positive stride is not supported, got {list(stride)}")
        if dilation[d] <= 0:
            raise RuntimeError(f"dilation should be greater than zero, got {list(dilation)}")
        if padding[d] < 0:
            raise RuntimeError(f"negative padding is not supported, got {list(padding)}")
        if kernel[d] <= 0:
            raise RuntimeError(f"kernel size should be greater than zero, got {list(kernel)}")
        g.in_[lead + d] = in_size[d]
        g.out[lead + d] = out_size[d]
        g.kernel[lead + d] = kernel[d]
        g.stride[lead + d] = stride[d]
        g.pad[lead + d] = padding[d]
        g.dilation[lead + d] = dilation[d]
    return 0


cdef tuple output_size(tuple in_size, tuple kernel, tuple stride, tuple padding,
                       tuple dilation):
    """Spatial output size of a convolution (may be non-positive: the caller reports it)."""
    cdef Py_ssize_t d
    for d in range(len(kernel)):
        if <Py_ssize_t>stride[d] <= 0:
            raise RuntimeError(f"non-positive stride is not supported, got {list(stride)}")
    return tuple([(<Py_ssize_t>in_size[d] + 2 * <Py_ssize_t>padding[d]
                   - <Py_ssize_t>dilation[d] * (<Py_ssize_t>kernel[d] - 1) - 1)
                  // <Py_ssize_t>stride[d] + 1 for d in range(len(kernel))])


cdef Tensor prepared(object t, str what, int dt):
    """``t`` (a CPU tensor: see :func:`on_device`) contiguous in compute dtype ``dt``."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a Tensor, but got {type(t).__name__}")
    if (<Tensor>t)._dtype != dt:
        t = t.to(ember.float32 if dt == EM_FLOAT32 else ember.float64)
    if not (<Tensor>t).is_contig():
        t = t.contiguous()
    return <Tensor>t


cdef bint on_device(Tensor input, list others) except -1:
    """Whether ``input`` lives on a device other than the CPU (its backend computes);
    every tensor of ``others`` (None allowed) must be on the same device."""
    cdef bint all_cpu = input._storage.device.type_num == DEV_CPU
    for t in others:
        if t is not None and (<Tensor>t)._storage.device.type_num != DEV_CPU:
            all_cpu = False
    if all_cpu:
        return False
    dev = input.device
    for t in others:
        if t is not None and t.device != dev:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {t.device}!")
    return input._storage.device.type_num != DEV_CPU


cdef int compute_dtype(Tensor input, str name, list others) except -1:
    """The dtype the kernels run in (float16 and bfloat16 in float32); every tensor of
    ``others`` (``(what, tensor)`` pairs, tensor may be None) must share ``input``'s dtype."""
    cdef int dt = input._dtype
    if dt not in (EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64):
        raise RuntimeError(f"\"{name}\" not implemented for '{input.dtype}'")
    for what, t in others:
        if t is not None and (<Tensor>t)._dtype != dt:
            raise RuntimeError(f"Input type ({input.dtype}) and {what} type ({t.dtype}) should "
                               "be the same")
    return EM_FLOAT32 if dt in (EM_FLOAT16, EM_BFLOAT16) else dt


cdef Tensor finish(Tensor out, Tensor like):
    return out if out._dtype == like._dtype else out.to(like.dtype)


_CPU = ember.device("cpu")


cdef Tensor _empty(tuple shape, int dt):
    cdef Py_ssize_t dims[5]
    cdef int d
    for d in range(len(shape)):
        dims[d] = shape[d]
    return new_tensor(len(shape), dims, dt, _CPU)


cdef inline char *data(Tensor t):
    return t.ptr() if t is not None else NULL


cdef inline tuple _dims(Tensor t):
    cdef int d
    return tuple([t._shape[d] for d in range(t._ndim)])


cdef inline int _check_tensor(object t, str what) except -1:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a Tensor, but got {type(t).__name__}")
    return 0


def convolution(input, weight, bias, stride, padding, dilation, int groups, activation=None,
                bint pool_2x2=False):
    """Convolution (cross-correlation) of ``input`` ``(N, C, *spatial)`` with ``weight``
    ``(O, C / groups, *kernel)`` plus ``bias`` ``(O,)``; 1 to 3 spatial dims, symmetric
    zero ``padding``; ``activation="relu"`` applies a ReLU to the result in the same pass
    (a traced graph's conv-relu pair) and ``pool_2x2`` max-pools that over 2x2 windows at
    stride 2 (2-D only; a traced graph's conv-pool pair, indices not computed).  Not
    differentiable itself (see ``ember.ops.conv``)."""
    return convolve(input, weight, bias, stride, padding, dilation, groups, activation,
                    pool_2x2, None)


cdef struct conv_call:
    # a checked call of convolution(): what its kernels need besides the tensors
    em_conv_geom g
    int dt, spatial
    Py_ssize_t batch, groups, out_channels
    bint relu, pool, winograd


cdef convolve(input, weight, bias, stride, padding, dilation, int groups, activation,
              bint pool_2x2, PreparedConvolution transformed):
    """:func:`convolution`, reading the Winograd transform of ``weight`` from
    ``transformed`` (None: none) when that holds it."""
    cdef conv_call c
    check_call(&c, input, weight, bias, stride, padding, dilation, groups, activation,
               pool_2x2)
    return run_checked(&c, input, weight, bias, stride, padding, dilation, groups,
                       transformed)


cdef run_checked(const conv_call *c, input, weight, bias, stride, padding, dilation,
                 int groups, PreparedConvolution transformed):
    """The call checked into ``c``: on its device's backend, or on the CPU with the
    tensors made contiguous in the compute dtype."""
    if on_device(input, [weight, bias]):
        out = tuple([c.g.out[d] for d in range(3 - c.spatial, 3)])
        result = _backend(input.device.type).conv("convolution", input, weight, bias, out,
                                                   _ints(stride, c.spatial, "stride"),
                                                   _ints(padding, c.spatial, "padding"),
                                                   _ints(dilation, c.spatial, "dilation"),
                                                   groups)
        result = result.relu_() if c.relu else result
        return pooled_2x2(result) if c.pool else result
    return run_call(c, prepared(input, "input", c.dt), prepared(weight, "weight", c.dt),
                    prepared(bias, "bias", c.dt) if bias is not None else None, input,
                    transformed)


cdef int check_call(conv_call *c, input, weight, bias, stride, padding, dilation, int groups,
                    activation, bint pool_2x2) except -1:
    """Check the arguments of :func:`convolution` and fill ``c``."""
    if activation is not None and activation != "relu":
        raise ValueError(f"convolution: activation must be None or 'relu', not {activation!r}")
    c.relu = activation is not None
    c.pool = pool_2x2
    _check_tensor(input, "input")
    _check_tensor(weight, "weight")
    cdef int spatial = (<Tensor>weight)._ndim - 2
    if spatial < 1 or spatial > 3 or (<Tensor>input)._ndim != spatial + 2:
        raise RuntimeError(f"convolution: expected a {spatial + 2}-D input for a weight of size "
                           f"{list(weight.shape)}, but got input of size {list(input.shape)}")
    stride = _ints(stride, spatial, "stride")
    padding = _ints(padding, spatial, "padding")
    dilation = _ints(dilation, spatial, "dilation")
    c.spatial = spatial
    c.dt = compute_dtype(input, "convolution", [("weight", weight), ("bias", bias)])
    cdef tuple xs = _dims(input), ws = _dims(weight)
    batch, channels = xs[0], xs[1]
    out_channels = ws[0]
    kernel = ws[2:]
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported, got groups={groups}")
    if channels != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {channels} channels instead")
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    if bias is not None:
        _check_tensor(bias, "bias")
        if _dims(bias) != (out_channels,):
            raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                               f"1-dimensional with {out_channels} elements, but got bias of "
                               f"size {list(bias.shape)} instead")
    in_size = xs[2:]
    out = output_size(in_size, kernel, stride, padding, dilation)
    cdef Py_ssize_t smallest = min(out)
    if smallest <= 0:
        padded = tuple(i + 2 * p for i, p in zip(in_size, padding))
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, kernel))}). Kernel size can't be greater "
                           "than actual input size")
    if pool_2x2 and (spatial != 2 or smallest < 2):
        raise RuntimeError(f"convolution: a 2x2 pooling needs a 2-D output of at least 2x2, "
                           f"got {list(out)}")
    fill_geom(&c.g, channels // groups, in_size, out, kernel, stride, padding, dilation)
    c.batch, c.groups, c.out_channels = batch, groups, out_channels
    c.winograd = c.dt == EM_FLOAT32 and use_winograd(&c.g, c.batch, c.groups, c.out_channels)
    return 0


cdef Tensor run_call(const conv_call *checked, Tensor x, Tensor w, Tensor b, Tensor like,
                     PreparedConvolution transformed):
    """The checked call on CPU tensors, contiguous in its compute dtype; the result in
    ``like``'s dtype."""
    # a copy: the kernels run without the GIL, while another thread may check a call
    # into the same PreparedConvolution
    cdef conv_call call = checked[0]
    cdef conv_call *c = &call
    cdef Py_ssize_t dims[5]
    cdef int d, nd = c.spatial + 2
    cdef Py_ssize_t n = c.batch, G = c.groups, og = c.out_channels // c.groups
    cdef em_conv_geom g = c.g
    cdef bint relu = c.relu
    dims[0], dims[1] = c.batch, c.out_channels
    for d in range(c.spatial):
        dims[2 + d] = g.out[3 - c.spatial + d] // (2 if c.pool and c.winograd else 1)
    cdef Tensor y = new_tensor(nd, dims, c.dt, _CPU)
    if y._numel == 0 or g.channels * g.kernel[0] * g.kernel[1] * g.kernel[2] == 0:
        if y._numel:        # no taps: the bias alone (Winograd never gets here)
            y = ember.zeros(tuple(y.shape), dtype=y.dtype) + (
                b.reshape((-1,) + (1,) * c.spatial) if b is not None else 0)
        y = y.relu_() if relu else y
        return finish(pooled_2x2(y) if c.pool else y, like)
    _single_threaded_blas()
    cdef char *xp = data(x)
    cdef char *wp = data(w)
    cdef char *bp = data(b)
    cdef char *yp = data(y)
    cdef const float *U = NULL
    cdef Tensor transform = None        # held while the kernel reads it
    cdef em_winograd_geom q
    cdef int status = 0
    if c.winograd:
        if transformed is not None:
            transform = transformed.transform_of(w)
        if transform is not None:
            U = <const float *>transform.ptr()
        q.batch, q.channels, q.height, q.width = n, g.channels, g.in_[1], g.in_[2]
        q.out_channels, q.out_height, q.out_width = c.out_channels, g.out[1], g.out[2]
        q.pad_h, q.pad_w = g.pad[1], g.pad[2]
        with nogil:
            status = em_winograd_conv3x3_float32(&q, <float *>xp, <float *>wp, U,
                                                 <float *>bp, relu, c.pool, <float *>yp)
        if status != 0:
            raise MemoryError("convolution: out of memory for the Winograd transforms")
        return finish(y, like)
    with nogil:
        if c.dt == EM_FLOAT32:
            forward_kernel(&g, n, G, og, <float *>xp, <float *>wp, <float *>bp, relu,
                           <float *>yp)
        else:
            forward_kernel(&g, n, G, og, <double *>xp, <double *>wp, <double *>bp, relu,
                           <double *>yp)
    if not c.pool:
        return finish(y, like)
    dims[2], dims[3] = g.out[1] // 2, g.out[2] // 2
    cdef Tensor pooled = new_tensor(4, dims, c.dt, _CPU)
    cdef char *pp = data(pooled)
    with nogil:
        if c.dt == EM_FLOAT32:
            max_pool_2x2(<float *>yp, n * G * og, g.out[1], g.out[2], <float *>pp)
        else:
            max_pool_2x2(<double *>yp, n * G * og, g.out[1], g.out[2], <double *>pp)
    return finish(pooled, like)


cdef void max_pool_2x2(const real_t *src, Py_ssize_t planes, Py_ssize_t H, Py_ssize_t W,
                       real_t *dst) noexcept nogil:
    """dst (planes, H // 2, W // 2): the maxima of src's 2x2 windows at stride 2, in
    max_pool's order (a later value replaces the running maximum when larger or NaN)."""
    cdef Py_ssize_t p, i, j, PH = H // 2, PW = W // 2
    cdef const real_t *top
    cdef real_t best, v
    for p in range(planes):
        for i in range(PH):
            top = src + (p * H + 2 * i) * W
            for j in range(PW):
                best = top[2 * j]
                v = top[2 * j + 1]
                if v > best or v != v:
                    best = v
                v = top[W + 2 * j]
                if v > best or v != v:
                    best = v
                v = top[W + 2 * j + 1]
                if v > best or v != v:
                    best = v
                dst[(p * PH + i) * PW + j] = best


cdef Tensor pooled_2x2(Tensor y):
    """``y`` (N, O, H, W) max-pooled over 2x2 windows at stride 2 (the values only)."""
    return max_pool(y, 2, (2, 2), (2, 2), (0, 0), (1, 1), (y._shape[2] // 2, y._shape[3] // 2),
                    with_indices=False)[0]


def im2col_batch(input, tuple kernel, stride, padding, dilation):
    """Sliding windows of ``input`` ``(N, C, *spatial)`` as columns ``(N, C * prod(kernel),
    L)`` (L output positions); ``unfold``'s kernel."""
    _check_tensor(input, "input")
    cdef int spatial = len(kernel)
    if spatial < 1 or spatial > 3 or input.dim() != spatial + 2:
        raise RuntimeError(f"im2col: expected a {spatial + 2}-D input, got {list(input.shape)}")
    kernel = _ints(kernel, spatial, "kernel_size")
    stride = _ints(stride, spatial, "stride")
    padding = _ints(padding, spatial, "padding")
    dilation = _ints(dilation, spatial, "dilation")
    cdef int dt = compute_dtype(input, "im2col", [])
    batch, channels = input.shape[0], input.shape[1]
    in_size = tuple(input.shape[2:])
    out = output_size(in_size, kernel, stride, padding, dilation)
    cdef em_conv_geom g
    fill_geom(&g, channels, in_size, out, kernel, stride, padding, dilation)
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input with spatial size {list(in_size)}, kernel_size="
                           f"{list(kernel)}, dilation={list(dilation)}, padding={list(padding)}, "
                           f"calculated shape of the array of sliding blocks as {list(out)}, "
                           "but its components must be at least one.")
    if on_device(input, []):
        return _backend(input.device.type).conv("unfold", input, kernel, out, stride, padding,
                                                 dilation)
    cdef Tensor x = prepared(input, "input", dt)
    patch, positions = channels, 1
    for k in kernel:
        patch *= k
    for o in out:
        positions *= o
    cdef Tensor cols = _empty((batch, patch, positions), dt)
    cdef Py_ssize_t nb = batch
    cdef char *xp = data(x)
    cdef char *cp = data(cols)
    if cols._numel:
        with nogil:
            if dt == EM_FLOAT32:
                unfold_kernel(&g, nb, <float *>xp, <float *>cp, False)
            else:
                unfold_kernel(&g, nb, <double *>xp, <double *>cp, False)
    return finish(cols, input)


def col2im_batch(input, tuple out_size, tuple kernel, stride, padding, dilation):
    """Columns ``(N, C * prod(kernel), L)`` summed back onto an image ``(N, C, *out_size)``
    (the adjoint of :func:`im2col_batch`); ``fold``'s kernel."""
    _check_tensor(input, "input")
    cdef int spatial = len(kernel)
    if spatial < 1 or spatial > 3 or input.dim() != 3:
        raise RuntimeError(f"col2im: expected a 3-D input, got {list(input.shape)}")
    kernel = _ints(kernel, spatial, "kernel_size")
    out_size = _ints(out_size, spatial, "output_size")
    stride = _ints(stride, spatial, "stride")
    padding = _ints(padding, spatial, "padding")
    dilation = _ints(dilation, spatial, "dilation")
    cdef int dt = compute_dtype(input, "col2im", [])
    batch, patch, positions = input.shape
    kernel_numel = 1
    for k in kernel:
        if k <= 0:
            raise RuntimeError(f"kernel size should be greater than zero, but got kernel_size="
                               f"{list(kernel)}")
        kernel_numel *= k
    if patch % kernel_numel:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={patch} and kernel_size="
                           f"{tuple(kernel)}")
    blocks = output_size(out_size, kernel, stride, padding, dilation)
    expected = 1
    for b in blocks:
        expected *= b
    if any(b <= 0 for b in blocks) or expected != positions:
        raise RuntimeError(f"Given output_size={tuple(out_size)}, kernel_size={tuple(kernel)}, "
                           f"dilation={tuple(dilation)}, padding={tuple(padding)}, stride="
                           f"{tuple(stride)}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks "
                           f"{' * '.join(map(str, blocks))} = {expected}, but got "
                           f"input.size(2)={positions}.")
    channels = patch // kernel_numel
    cdef em_conv_geom g
    fill_geom(&g, channels, out_size, blocks, kernel, stride, padding, dilation)
    if on_device(input, []):
        return _backend(input.device.type).conv("fold", input, out_size, kernel, blocks, stride,
                                                 padding, dilation)
    cdef Tensor cols = prepared(input, "input", dt)
    cdef Tensor image = _empty((batch, channels) + out_size, dt)
    cdef Py_ssize_t nb = batch
    cdef char *ip
    cdef char *cp
    if image._numel:
        if cols._numel == 0:
            return finish(ember.zeros(tuple(image.shape), dtype=image.dtype), input)
        ip = data(image)
        cp = data(cols)
        with nogil:
            if dt == EM_FLOAT32:
                unfold_kernel(&g, nb, <float *>ip, <float *>cp, True)
            else:
                unfold_kernel(&g, nb, <double *>ip, <double *>cp, True)
    return finish(image, input)


include "_conv_backward.pxi"
include "_conv_prepared.pxi"
