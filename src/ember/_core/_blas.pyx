# cython: embedsignature=False
"""Matrix products on the CPU: the matmul family.

float32, float64, complex64 and complex128 go to BLAS through
``scipy.linalg.cython_blas`` (no link step: SciPy's own OpenBLAS); float16 and
bfloat16 are computed in float32 through the same BLAS and rounded once;
integer dtypes use ember's blocked C kernel (``gemm_int.c.in``), since BLAS has
none.

Every product is planned once as a batch of ``C = beta * C + alpha * A @ B``
over strided operands (``Plan``) and then run without the GIL.  Row-major data
meets the column-major BLAS through the transpose trick (``C^T = B^T A^T``): a
transposed operand (row stride 1) is passed with ``'T'`` instead of being
copied, and only layouts BLAS cannot describe (neither stride 1, zero or
negative strides, overlapping rows, leading dimensions past the 32-bit BLAS
int) are copied.  A batch whose right operand is shared and whose rows lie
evenly in memory is folded into one large GEMM.  BLAS runs single-threaded
inside ember's OpenMP threads, which share out the matrices of a batch or the
rows or columns of one large product (``run_plan``).

The public functions (``matmul``, ``mm``, ``bmm``, ...) are in ``_matmul.pxi``.
"""
from cython.parallel cimport prange
from libc.limits cimport INT_MAX
from libc.stdint cimport uint8_t, int8_t, int16_t, int32_t, int64_t

from scipy.linalg.cython_blas cimport (
    sgemm, dgemm, cgemm, zgemm, sgemv, dgemv, cgemv, zgemv,
    sdot, ddot, cdotu, zdotu, cdotc, zdotc,
)

from ember._core._dtype cimport (
    dtype_of, em_itemsize, em_category,
    EM_BOOL, EM_UINT8, EM_INT8, EM_INT16, EM_INT32, EM_INT64, EM_FLOAT16, EM_BFLOAT16,
    EM_FLOAT32, EM_FLOAT64, EM_COMPLEX64, EM_COMPLEX128, EM_UINT16, EM_UINT32, EM_UINT64,
)
from ember._core._tensor cimport (
    check_not_inference, grad_enabled, record_op, autocast_mode, autocast_op, Tensor, device, new_tensor, copy_into,
    bump_version,
    set_dims, resize_output, DEV_CPU, DEV_CUDA,
)

import numpy as np


cdef bint _records_any(tuple xs):
    if not grad_enabled():
        return False
    for x in xs:
        if isinstance(x, Tensor) and (<Tensor>x)._requires_grad:
            return True
    return False

from ember._core._tensor import backend, from_numpy


cdef extern from "ember/strided.h":
    enum:
        EM_MAX_DIMS
    int em_get_num_threads() noexcept nogil

# Multiply-adds below which a product runs on one thread.
cdef double BLAS_GRAIN = 1 << 17
# Rows or columns of C given to each thread come in multiples of this.
cdef enum:
    SPLIT_ALIGN = 8

cdef extern from "ember/sgemm.h" nogil:
    void em_sgemm(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
                  const float *a, Py_ssize_t a_rs, Py_ssize_t a_cs,
                  const float *b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                  float beta, float *c, Py_ssize_t c_rs, Py_ssize_t c_cs)
    const char *em_sgemm_kernel_name()
    int em_sgemm_set_kernel(const char *name)

# Which float32 GEMM runs: ember's own (``sgemm.c``) where it is at least as
# fast as OpenBLAS (measured with tools/bench_gemm.py: every shape whose C has
# both sides >= SGEMM_MIN_SIDE), or one of the two always (tests, benchmarks).
cdef enum:
    SGEMM_AUTO = 0
    SGEMM_EMBER = 1
    SGEMM_OPENBLAS = 2
    SGEMM_MIN_SIDE = 16
cdef int sgemm_backend = SGEMM_AUTO
SGEMM_BACKENDS = {"auto": SGEMM_AUTO, "ember": SGEMM_EMBER, "openblas": SGEMM_OPENBLAS}


def _set_sgemm_backend(name):
    """Choose the float32 GEMM ("auto", "ember" or "openblas"); returns the previous name.

    For tests and benchmarks: "auto" (the default) uses ember's kernel on the
    shapes where it is measured to win.
    """
    global sgemm_backend
    if name not in SGEMM_BACKENDS:
        raise ValueError(f"sgemm backend must be one of {sorted(SGEMM_BACKENDS)}, got {name!r}")
    previous = [key for key, value in SGEMM_BACKENDS.items() if value == sgemm_backend][0]
    sgemm_backend = SGEMM_BACKENDS[name]
    return previous


def _sgemm_kernel_name():
    """The micro-kernel ember's float32 GEMM uses on this CPU."""
    return em_sgemm_kernel_name().decode()


def _set_sgemm_kernel(str name):
    """Use the named micro-kernel ("avx512", "avx2", "generic") for the float32 GEMM;
    returns the previous name.  For tests: the default is the fastest this CPU runs."""
    previous = _sgemm_kernel_name()
    if em_sgemm_set_kernel(name.encode()) != 0:
        raise ValueError(f"sgemm kernel {name!r} is unknown or not supported by this CPU")
    return previous


cdef inline bint use_ember_sgemm(Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    if sgemm_backend == SGEMM_AUTO:
        return rows >= SGEMM_MIN_SIDE and cols >= SGEMM_MIN_SIDE
    return sgemm_backend == SGEMM_EMBER


cdef extern from "ember/gemm.h" nogil:
    void em_gemm_uint8(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                       const uint8_t *a, Py_ssize_t a_rs, Py_ssize_t a_cs,
                       const uint8_t *b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                       uint8_t *c, Py_ssize_t c_rs, Py_ssize_t c_cs, uint8_t alpha, uint8_t beta)
    void em_gemm_int8(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                      const int8_t *a, Py_ssize_t a_rs, Py_ssize_t a_cs,
                      const int8_t *b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                      int8_t *c, Py_ssize_t c_rs, Py_ssize_t c_cs, int8_t alpha, int8_t beta)
    void em_gemm_int16(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                       const int16_t *a, Py_ssize_t a_rs, Py_ssize_t a_cs,
                       const int16_t *b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                       int16_t *c, Py_ssize_t c_rs, Py_ssize_t c_cs, int16_t alpha, int16_t beta)
    void em_gemm_int32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                       const int32_t *a, Py_ssize_t a_rs, Py_ssize_t a_cs,
                       const int32_t *b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                       int32_t *c, Py_ssize_t c_rs, Py_ssize_t c_cs, int32_t alpha, int32_t beta)
    void em_gemm_int64(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                       const int64_t *a, Py_ssize_t a_rs, Py_ssize_t a_cs,
                       const int64_t *b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                       int64_t *c, Py_ssize_t c_rs, Py_ssize_t c_cs, int64_t alpha, int64_t beta)


ctypedef float complex cfloat_t
ctypedef double complex cdouble_t

ctypedef fused blas_t:
    float
    double
    cfloat_t
    cdouble_t


# ---------------------------------------------------------------- the plan

# How BLAS sees one matrix operand.
cdef enum:
    NO_LAYOUT = -1
    ROW_MAJOR = 0       # unit column stride: a column-major matrix of the transpose
    COL_MAJOR = 1       # unit row stride

# What runs for each matrix of the batch.
cdef enum:
    K_SCALE = 0         # k == 0 or alpha == 0: C = beta * C
    K_GEMM = 1
    K_GEMV_COL = 2      # n == 1: a column of C = A @ b
    K_GEMV_ROW = 3      # m == 1: a row of C = a @ B
    K_DOT = 4           # m == n == 1
    K_INT = 5           # integer kernel (any strides)


cdef struct Operand:
    char *data
    Py_ssize_t rs, cs               # element strides of the matrix rows and columns
    Py_ssize_t bs[EM_MAX_DIMS]      # byte strides of the batch dims (0 where broadcast)
    int layout
    int ld                          # BLAS leading dimension for `layout`


cdef struct Plan:
    int dtype
    int kind
    int nbd                         # batch dims
    bint accumulate                 # C is shared by the batch: sum the products (addbmm)
    bint conj_a                     # conjugate A (vdot)
    Py_ssize_t m, n, k
    Py_ssize_t bshape[EM_MAX_DIMS]
    Operand op[3]                   # A, B, C
    double complex alpha, beta
    int64_t ialpha, ibeta           # alpha and beta for integer dtypes


cdef int layout_of(Py_ssize_t r, Py_ssize_t c, Py_ssize_t rs, Py_ssize_t cs, int *ld) noexcept nogil:
    """How BLAS can read an r x c matrix with these strides (r, c >= 1); sets `ld`."""
    cdef Py_ssize_t lead
    # the stride of a size-1 dim is irrelevant
    if (c == 1 or cs == 1) and (r == 1 or rs >= c):
        lead = c if r == 1 else rs
        if lead <= INT_MAX:
            ld[0] = <int>lead
            return ROW_MAJOR
    if (r == 1 or rs == 1) and (c == 1 or cs >= r):
        lead = r if c == 1 else cs
        if lead <= INT_MAX:
            ld[0] = <int>lead
            return COL_MAJOR
    return NO_LAYOUT


cdef inline bint is_blas_dtype(int dt) noexcept nogil:
    return dt == EM_FLOAT32 or dt == EM_FLOAT64 or dt == EM_COMPLEX64 or dt == EM_COMPLEX128


cdef bint needs_copy(Plan *p, int which) noexcept:
    """Whether operand `which` (0: A, 1: B, 2: C) must be copied for the kernel to use it."""
    cdef Operand *o = &p.op[which]
    cdef int ld
    if p.k == 0:
        return False
    if is_blas_dtype(p.dtype):
        return layout_of(p.k if which == 1 else p.m, p.k if which == 0 else p.n,
                         o.rs, o.cs, &ld) == NO_LAYOUT
    # the integer kernel reads any strides, but vectorises only unit-stride rows of B and C
    return which != 0 and p.m > 1 and p.n > 1 and o.cs != 1


cdef int load_operand(Plan *p, int which, Tensor t, int mat_dims, bint is_row) except -1:
    """Fill operand `which` from `t`, whose last `mat_dims` dims are the matrix.

    A single matrix dim is a row (``is_row``: it indexes columns) or a column.
    Batch dims are right-aligned with the plan's batch shape.
    """
    cdef Operand *o = &p.op[which]
    cdef int nd = t._ndim, nb = t._ndim - mat_dims, d, src
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    o.data = t.ptr()
    o.rs = 0
    o.cs = 0
    if mat_dims == 2:
        o.rs = t._strides[nd - 2]
        o.cs = t._strides[nd - 1]
    elif mat_dims == 1:
        if is_row:
            o.cs = t._strides[nd - 1]
        else:
            o.rs = t._strides[nd - 1]
    for d in range(p.nbd):
        src = d - (p.nbd - nb)
        if src < 0 or t._shape[src] == 1:
            o.bs[d] = 0
        else:
            o.bs[d] = t._strides[src] * isz
    o.layout = NO_LAYOUT
    return 0


cdef bint coalesce_rows(const Plan *p, const Operand *o, Py_ssize_t isz,
                        Py_ssize_t *rows, Py_ssize_t *rs) noexcept:
    """Whether the batch dims and the rows of `o` form one evenly strided run of rows."""
    cdef Py_ssize_t size = p.m, stride = o.rs, total = p.m, sz, st
    cdef bint have = p.m != 1
    cdef int d
    for d in range(p.nbd - 1, -1, -1):
        sz = p.bshape[d]
        st = o.bs[d] // isz
        total *= sz
        if sz == 1:
            continue
        if not have:
            size, stride, have = sz, st, True
        elif st == size * stride:
            size *= sz
        else:
            return False
    rows[0] = total
    rs[0] = stride
    return True


cdef void fold_batch(Plan *p) noexcept:
    """Fold the batch into the rows of one product when B is shared and A and C allow it."""
    cdef Py_ssize_t isz = em_itemsize[p.dtype], rows_a, rows_c, rs_a, rs_c
    cdef int d, ld
    if p.nbd == 0 or p.accumulate:
        return
    for d in range(p.nbd):
        if p.op[1].bs[d] != 0:
            return
    if not (coalesce_rows(p, &p.op[0], isz, &rows_a, &rs_a)
            and coalesce_rows(p, &p.op[2], isz, &rows_c, &rs_c)):
        return
    if is_blas_dtype(p.dtype) and p.k > 0 and (
            rows_a > INT_MAX
            or layout_of(rows_a, p.k, rs_a, p.op[0].cs, &ld) == NO_LAYOUT
            or layout_of(rows_c, p.n, rs_c, p.op[2].cs, &ld) == NO_LAYOUT):
        return
    p.m = rows_a
    p.op[0].rs = rs_a
    p.op[2].rs = rs_c
    p.nbd = 0


cdef void choose_kind(Plan *p) noexcept:
    """Pick the routine for each matrix and how BLAS reads the operands."""
    cdef int k
    if not is_blas_dtype(p.dtype):
        p.kind = K_INT
        return
    if p.k == 0 or p.alpha == 0:
        p.kind = K_SCALE
        return
    p.kind = (K_DOT if p.m == 1 and p.n == 1 else K_GEMV_COL if p.n == 1
              else K_GEMV_ROW if p.m == 1 else K_GEMM)
    for k in range(3):
        p.op[k].layout = layout_of(p.m if k != 1 else p.k, p.n if k != 0 else p.k,
                                   p.op[k].rs, p.op[k].cs, &p.op[k].ld)


# ---------------------------------------------------------------- running a plan

cdef inline blas_t as_blas(double complex v, blas_t *tag) noexcept nogil:
    if blas_t is float:
        return <float>v.real
    elif blas_t is double:
        return v.real
    elif blas_t is cfloat_t:
        return <cfloat_t>v
    else:
        return v


cdef inline blas_t blas_dot(int *n, blas_t *x, int *incx, blas_t *y, int *incy,
                            bint conj_x) noexcept nogil:
    if blas_t is float:
        return sdot(n, x, incx, y, incy)
    elif blas_t is double:
        return ddot(n, x, incx, y, incy)
    elif blas_t is cfloat_t:
        return cdotc(n, x, incx, y, incy) if conj_x else cdotu(n, x, incx, y, incy)
    else:
        return zdotc(n, x, incx, y, incy) if conj_x else zdotu(n, x, incx, y, incy)


cdef inline void blas_gemv(char *trans, int *m, int *n, blas_t *alpha, blas_t *a, int *lda,
                           blas_t *x, int *incx, blas_t *beta, blas_t *y, int *incy) noexcept nogil:
    if blas_t is float:
        sgemv(trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
    elif blas_t is double:
        dgemv(trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
    elif blas_t is cfloat_t:
        cgemv(trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
    else:
        zgemv(trans, m, n, alpha, a, lda, x, incx, beta, y, incy)


cdef inline void blas_gemm(char *ta, char *tb, int *m, int *n, int *k, blas_t *alpha,
                           blas_t *a, int *lda, blas_t *b, int *ldb, blas_t *beta,
                           blas_t *c, int *ldc) noexcept nogil:
    if blas_t is float:
        sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    elif blas_t is double:
        dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    elif blas_t is cfloat_t:
        cgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    else:
        zgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


cdef void scale(blas_t *c, Py_ssize_t m, Py_ssize_t n, Py_ssize_t rs, Py_ssize_t cs,
                blas_t beta) noexcept nogil:
    """C = beta * C, where beta == 0 ignores C's old contents (NaN included)."""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(n):
            if beta == 0:
                c[i * rs + j * cs] = 0
            else:
                c[i * rs + j * cs] = beta * c[i * rs + j * cs]


cdef void blas_one(const Plan *p, blas_t *a, blas_t *b, blas_t *c, Py_ssize_t rows,
                   Py_ssize_t cols, double complex beta_value) noexcept nogil:
    """One matrix of the batch through BLAS: the first `rows` rows and `cols` columns of C.

    A part of C is the product of the same BLAS call on fewer rows of A or
    fewer columns of B; the leading-dimension rules hold for the part too.
    """
    cdef blas_t alpha = as_blas(p.alpha, a), beta = as_blas(beta_value, a), s
    cdef const Operand *A = &p.op[0]
    cdef const Operand *B = &p.op[1]
    cdef const Operand *C = &p.op[2]
    cdef int m = <int>rows, n = <int>cols, k = <int>p.k
    cdef int lda = A.ld, ldb = B.ld, ldc = C.ld
    cdef int inca = 1 if k == 1 else <int>A.cs
    cdef int incb = 1 if k == 1 else <int>B.rs
    cdef int incc
    cdef char N = b'N', T = b'T'
    if p.kind == K_SCALE:
        scale(c, rows, cols, C.rs, C.cs, beta)
    elif p.kind == K_DOT:
        s = blas_dot(&k, a, &inca, b, &incb, p.conj_a)
        c[0] = alpha * s if beta == 0 else alpha * s + beta * c[0]
    elif p.kind == K_GEMV_COL:
        incc = <int>C.rs
        if beta == 0:
            scale(c, rows, 1, C.rs, 0, beta)    # BLAS may scale old NaNs by zero
        if A.layout == ROW_MAJOR:
            blas_gemv(&T, &k, &m, &alpha, a, &lda, b, &incb, &beta, c, &incc)
        else:
            blas_gemv(&N, &m, &k, &alpha, a, &lda, b, &incb, &beta, c, &incc)
    elif p.kind == K_GEMV_ROW:
        incc = <int>C.cs
        if beta == 0:
            scale(c, 1, cols, 0, C.cs, beta)
        if B.layout == ROW_MAJOR:
            blas_gemv(&N, &n, &k, &alpha, b, &ldb, a, &inca, &beta, c, &incc)
        else:
            blas_gemv(&T, &k, &n, &alpha, b, &ldb, a, &inca, &beta, c, &incc)
    elif blas_t is float and use_ember_sgemm(p.m, p.n):   # whole matrix: same kernel per thread split
        em_sgemm(rows, cols, p.k, alpha, a, A.rs, A.cs, b, B.rs, B.cs, beta, c, C.rs, C.cs)
    elif C.layout == ROW_MAJOR:
        # C^T (n x m, column-major) = B^T A^T
        blas_gemm(&N if B.layout == ROW_MAJOR else &T, &N if A.layout == ROW_MAJOR else &T,
                  &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
    else:
        blas_gemm(&N if A.layout == COL_MAJOR else &T, &N if B.layout == COL_MAJOR else &T,
                  &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc)


cdef void int_one(const Plan *p, char *a, char *b, char *c, int64_t beta) noexcept nogil:
    """One matrix of the batch through ember's integer kernel."""
    cdef const Operand *A = &p.op[0]
    cdef const Operand *B = &p.op[1]
    cdef const Operand *C = &p.op[2]
    cdef int dt = p.dtype
    if dt == EM_INT64:
        em_gemm_int64(p.m, p.n, p.k, <int64_t *>a, A.rs, A.cs, <int64_t *>b, B.rs, B.cs,
                      <int64_t *>c, C.rs, C.cs, p.ialpha, beta)
    elif dt == EM_INT32:
        em_gemm_int32(p.m, p.n, p.k, <int32_t *>a, A.rs, A.cs, <int32_t *>b, B.rs, B.cs,
                      <int32_t *>c, C.rs, C.cs, <int32_t>p.ialpha, <int32_t>beta)
    elif dt == EM_INT16:
        em_gemm_int16(p.m, p.n, p.k, <int16_t *>a, A.rs, A.cs, <int16_t *>b, B.rs, B.cs,
                      <int16_t *>c, C.rs, C.cs, <int16_t>p.ialpha, <int16_t>beta)
    elif dt == EM_INT8:
        em_gemm_int8(p.m, p.n, p.k, <int8_t *>a, A.rs, A.cs, <int8_t *>b, B.rs, B.cs,
                     <int8_t *>c, C.rs, C.cs, <int8_t>p.ialpha, <int8_t>beta)
    else:
        em_gemm_uint8(p.m, p.n, p.k, <uint8_t *>a, A.rs, A.cs, <uint8_t *>b, B.rs, B.cs,
                      <uint8_t *>c, C.rs, C.cs, <uint8_t>p.ialpha, <uint8_t>beta)


cdef void one_matrix(const Plan *p, char *a, char *b, char *c, Py_ssize_t rows,
                     Py_ssize_t cols, double complex beta, int64_t ibeta) noexcept nogil:
    """One matrix of the batch (or its first rows x cols part), by dtype."""
    cdef int dt = p.dtype
    if dt == EM_FLOAT32:
        blas_one(p, <float *>a, <float *>b, <float *>c, rows, cols, beta)
    elif dt == EM_FLOAT64:
        blas_one(p, <double *>a, <double *>b, <double *>c, rows, cols, beta)
    elif dt == EM_COMPLEX64:
        blas_one(p, <cfloat_t *>a, <cfloat_t *>b, <cfloat_t *>c, rows, cols, beta)
    elif dt == EM_COMPLEX128:
        blas_one(p, <cdouble_t *>a, <cdouble_t *>b, <cdouble_t *>c, rows, cols, beta)
    else:
        int_one(p, a, b, c, ibeta)


cdef void split_matrix(const Plan *p, char *a, char *b, char *c, double complex beta,
                       int nthreads) noexcept nogil:
    """One matrix with its rows (or columns) of C shared out across OpenMP threads."""
    cdef Py_ssize_t isz = em_itemsize[p.dtype]
    cdef bint by_rows = p.kind == K_GEMV_COL or (p.kind == K_GEMM and p.m >= p.n)
    cdef Py_ssize_t extent = p.m if by_rows else p.n
    cdef Py_ssize_t chunk = (extent + nthreads - 1) // nthreads
    cdef Py_ssize_t t, lo, n_chunks
    if chunk > SPLIT_ALIGN:            # whole register tiles of the BLAS kernel per thread
        chunk = (chunk + SPLIT_ALIGN - 1) // SPLIT_ALIGN * SPLIT_ALIGN
    n_chunks = (extent + chunk - 1) // chunk
    for t in prange(n_chunks, num_threads=nthreads, schedule="static"):
        lo = t * chunk
        if by_rows:
            one_matrix(p, a + lo * p.op[0].rs * isz, b, c + lo * p.op[2].rs * isz,
                       min(chunk, extent - lo), p.n, beta, p.ibeta)
        else:
            one_matrix(p, a, b + lo * p.op[1].cs * isz, c + lo * p.op[2].cs * isz,
                       p.m, min(chunk, extent - lo), beta, p.ibeta)


cdef Py_ssize_t batch_offset(const Plan *p, int which, Py_ssize_t t) noexcept nogil:
    """Byte offset of matrix `t` of the batch in operand `which`."""
    cdef int d
    cdef Py_ssize_t off = 0
    for d in range(p.nbd - 1, -1, -1):
        off += (t % p.bshape[d]) * p.op[which].bs[d]
        t = t // p.bshape[d]
    return off


cdef void run_plan(const Plan *p, int nthreads) noexcept nogil:
    """Run every matrix of the batch on up to `nthreads` OpenMP threads.

    BLAS itself runs single-threaded (see `single_threaded_blas`): ember's
    threads share out the matrices of a batch, or the rows or columns of one
    large product, so that BLAS and ember's elementwise kernels use one pool of
    threads instead of two that spin against each other.
    """
    cdef Py_ssize_t total = 1, t
    cdef char *a
    cdef char *b
    cdef char *c
    cdef int d
    cdef double work = <double>p.m * <double>p.n * <double>(p.k if p.k > 0 else 1)
    cdef double complex beta = p.beta
    cdef int64_t ibeta = p.ibeta
    cdef bint blas = is_blas_dtype(p.dtype)
    for d in range(p.nbd):
        total *= p.bshape[d]
    if nthreads > 1 and total * work < BLAS_GRAIN:
        nthreads = 1
    if nthreads > 1 and not p.accumulate and total > 1 and (
            total >= 4 * nthreads or total % nthreads == 0 or not blas
            or work < BLAS_GRAIN or p.kind == K_DOT):
        # whole matrices per thread (the integer kernel then runs serially inside)
        for t in prange(total, num_threads=nthreads, schedule="static"):
            one_matrix(p, p.op[0].data + batch_offset(p, 0, t), p.op[1].data + batch_offset(p, 1, t),
                       p.op[2].data + batch_offset(p, 2, t), p.m, p.n, beta, ibeta)
        return
    for t in range(total):
        a = p.op[0].data + batch_offset(p, 0, t)
        b = p.op[1].data + batch_offset(p, 1, t)
        c = p.op[2].data + batch_offset(p, 2, t)
        if (nthreads > 1 and blas and work >= BLAS_GRAIN
                and (p.kind == K_GEMM or p.kind == K_GEMV_COL or p.kind == K_GEMV_ROW)):
            split_matrix(p, a, b, c, beta, nthreads)
        else:
            one_matrix(p, a, b, c, p.m, p.n, beta, ibeta)
        if p.accumulate:
            beta = 1
            ibeta = 1


# ---------------------------------------------------------------- one pool of threads

ctypedef int (*get_threads_fn)() noexcept nogil
ctypedef void (*set_threads_fn)(int) noexcept nogil

cdef get_threads_fn blas_get_threads = NULL
cdef set_threads_fn blas_set_threads = NULL
cdef bint blas_looked_up = False


cdef int single_threaded_blas() except -1:
    """Keep SciPy's BLAS on one thread: ember's OpenMP threads call it in parallel.

    Two thread pools on the same cores (OpenBLAS's pthreads and ember's OpenMP,
    each busy-waiting after its work) slow alternating BLAS and elementwise
    calls down by orders of magnitude, so BLAS joins ember's pool instead, as
    in PyTorch.  The thread count is checked on every call because
    ``ember.set_num_threads`` (through threadpoolctl) sets every BLAS to n.
    """
    if not blas_looked_up:
        _find_scipy_blas()
    if blas_get_threads != NULL and blas_get_threads() != 1:
        blas_set_threads(1)
    return 0


def _single_threaded_blas():
    """Pin SciPy's BLAS to one thread, for the other core modules that call it from
    inside their own OpenMP threads (the fused convolutions)."""
    single_threaded_blas()


def _find_scipy_blas():
    """Find the BLAS library behind ``scipy.linalg.cython_blas`` and pin it to one thread.

    With SciPy's wheels it is the OpenBLAS in SciPy's own folder; elsewhere
    (a shared system BLAS) every BLAS library loaded is pinned.
    """
    global blas_get_threads, blas_set_threads, blas_looked_up
    import ctypes
    import os

    import scipy
    from threadpoolctl import ThreadpoolController

    blas_looked_up = True
    root = os.path.dirname(scipy.__file__)
    libs = ThreadpoolController().select(user_api="blas").lib_controllers
    own = [lib for lib in libs if lib.filepath.startswith((root + os.sep, root + ".libs" + os.sep))]
    for lib in own or libs:
        if lib.internal_api == "openblas":
            dll = ctypes.CDLL(lib.filepath)
            for prefix in ("scipy_", ""):
                for suffix in ("", "64_", "_64"):
                    getter = getattr(dll, f"{prefix}openblas_get_num_threads{suffix}", None)
                    setter = getattr(dll, f"{prefix}openblas_set_num_threads{suffix}", None)
                    if getter is not None and setter is not None and blas_get_threads == NULL:
                        blas_get_threads = <get_threads_fn><size_t>ctypes.cast(getter, ctypes.c_void_p).value
                        blas_set_threads = <set_threads_fn><size_t>ctypes.cast(setter, ctypes.c_void_p).value
        lib.set_num_threads(1)


# ---------------------------------------------------------------- planning from tensors

cdef Tensor cast_copy(Tensor t, int dt):
    """A contiguous copy of `t` in dtype `dt`."""
    cdef Tensor r = new_tensor(t._ndim, t._shape, dt, t._storage.device)
    copy_into(r, t)
    return r


cdef void extent(Tensor t, char **lo, char **hi) noexcept:
    """The byte range [lo, hi) that `t`'s elements span."""
    cdef Py_ssize_t isz = em_itemsize[t._dtype]
    cdef char *l = t.address()
    cdef char *h = t.address()
    cdef int d
    for d in range(t._ndim):
        if t._shape[d] > 1:
            if t._strides[d] < 0:
                l += t._strides[d] * (t._shape[d] - 1) * isz
            else:
                h += t._strides[d] * (t._shape[d] - 1) * isz
    lo[0] = l
    hi[0] = h + isz


cdef bint overlaps(Tensor a, Tensor b) noexcept:
    cdef char *a_lo
    cdef char *a_hi
    cdef char *b_lo
    cdef char *b_hi
    if a._storage is not b._storage or a._numel == 0 or b._numel == 0:
        return False
    extent(a, &a_lo, &a_hi)
    extent(b, &b_lo, &b_hi)
    return a_lo < b_hi and b_lo < a_hi


cdef int check_blas_dims(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k) except -1:
    cdef Py_ssize_t big = m if m > INT_MAX else n if n > INT_MAX else k
    if big > INT_MAX:
        raise RuntimeError(
            f"matmul: dimension of size {big} exceeds the largest size the BLAS library accepts "
            f"({INT_MAX}, a 32-bit int); split the product into smaller pieces")
    return 0


cdef Tensor gemm_into(Tensor a, bint a_vec, Tensor b, bint b_vec, Tensor c, Tensor input,
                      int nbd, const Py_ssize_t *bshape, double complex alpha,
                      double complex beta, int64_t ialpha, int64_t ibeta,
                      bint accumulate, bint conj_a):
    """``c = beta * input + alpha * a @ b`` over a batch; returns `c`.

    `a` is ``(..., m, k)`` or, with `a_vec`, ``(k,)``; `b` is ``(..., k, n)`` or,
    with `b_vec`, ``(k,)``.  `c` has the batch shape followed by the non-vector
    matrix dims (no batch dims when `accumulate`: the products are summed).
    `input` (broadcastable to `c`) is read only when beta is nonzero.  The
    caller has checked shapes and dtypes; `c` may alias the inputs.
    """
    cdef Plan p
    cdef int dt = a._dtype, cdt, d, nthreads
    cdef Py_ssize_t total = 1
    cdef Tensor target = c
    cdef bint beta_zero
    if c._storage.device.type_num != DEV_CPU:
        if conj_a and em_category[dt] == 3:
            a = a.conj_physical()       # vdot's vector: the backends take no conjugate flag
        return backend(c._storage.device.type).gemm(
            a, a_vec, b, b_vec, c, input, [bshape[d] for d in range(nbd)], alpha, beta,
            accumulate)
    p.nbd = nbd
    for d in range(nbd):
        p.bshape[d] = bshape[d]
        total *= bshape[d]
    p.m = 1 if a_vec else a._shape[a._ndim - 2]
    p.k = a._shape[a._ndim - 1]
    p.n = 1 if b_vec else b._shape[b._ndim - 1]
    p.accumulate = accumulate
    p.conj_a = conj_a and em_category[dt] == 3
    p.alpha = alpha
    p.beta = beta
    p.ialpha = ialpha
    p.ibeta = ibeta
    beta_zero = ibeta == 0 if em_category[dt] < 2 else beta == 0
    if p.m == 0 or p.n == 0 or (total == 0 and not accumulate):
        return c
    if total == 0:                      # summing no products: C = beta * input
        p.nbd = 0
        p.k = 0

    cdt = EM_FLOAT32 if dt == EM_FLOAT16 or dt == EM_BFLOAT16 else dt
    p.dtype = cdt
    if is_blas_dtype(cdt) and p.k > 0:
        check_blas_dims(p.m, p.n, p.k)
    if cdt != dt:
        a = cast_copy(a, cdt)
        b = cast_copy(b, cdt)
    load_operand(&p, 0, a, 1 if a_vec else 2, True)
    if needs_copy(&p, 0):
        a = cast_copy(a, cdt)
        load_operand(&p, 0, a, 1 if a_vec else 2, True)
    load_operand(&p, 1, b, 1 if b_vec else 2, False)
    if needs_copy(&p, 1):
        b = cast_copy(b, cdt)
        load_operand(&p, 1, b, 1 if b_vec else 2, False)

    # write C in place unless it has another dtype, aliases an input or the kernel cannot use it
    load_operand(&p, 2, c, (not a_vec) + (not b_vec), a_vec)
    if c._dtype != cdt or overlaps(c, a) or overlaps(c, b) or needs_copy(&p, 2):
        target = new_tensor(c._ndim, c._shape, cdt, c._storage.device)
        load_operand(&p, 2, target, (not a_vec) + (not b_vec), a_vec)
    if not beta_zero and input is not target:
        copy_into(target, input)

    fold_batch(&p)
    choose_kind(&p)
    nthreads = em_get_num_threads()
    if is_blas_dtype(cdt):
        single_threaded_blas()
    with nogil:
        run_plan(&p, nthreads)
    if target is not c:
        copy_into(c, target)
    return c


include "_matmul.pxi"
include "_packed.pxi"
