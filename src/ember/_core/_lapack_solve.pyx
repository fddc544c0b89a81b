# cython: embedsignature=False
"""Batched LAPACK solvers and factorizations for ``ember.linalg``.

LAPACK comes from ``scipy.linalg.cython_lapack`` (and ``trsm`` from
``cython_blas``): no link step, SciPy's own OpenBLAS.  Every function here works
on contiguous buffers that ``ember.linalg`` prepares, one matrix after another
along the leading (batch) dim, and reads each matrix the way LAPACK does: column
by column.  A buffer of shape ``(batch, p, q)`` thus holds ``batch`` column-major
``q x p`` matrices with leading dimension ``q``; a row-major matrix is read as
its transpose, which the callers turn to their advantage (``A^T x = b`` solved
with ``trans='T'`` instead of a transposing copy).

The batch runs without the GIL, on ember's OpenMP threads when there is enough
work; BLAS itself stays on one thread inside them (``_single_threaded_blas``).
Operands that do not change (a factored ``LU`` shared by a batch of right-hand
sides) take a batch stride in elements, 0 when broadcast.
"""
cimport cython
from cython.parallel cimport prange
from libc.math cimport fabs
from libc.stdlib cimport malloc, free

from scipy.linalg.cython_lapack cimport (
    sgetrf, dgetrf, cgetrf, zgetrf, sgetrs, dgetrs, cgetrs, zgetrs,
    spotrf, dpotrf, cpotrf, zpotrf,
    sgels, dgels, cgels, zgels, sgelsy, dgelsy, cgelsy, zgelsy,
    sgelsd, dgelsd, cgelsd, zgelsd, sgelss, dgelss, cgelss, zgelss,
)
from scipy.linalg.cython_blas cimport strsm, dtrsm, ctrsm, ztrsm

from ember._core._dtype cimport EM_FLOAT32, EM_FLOAT64, EM_COMPLEX64, EM_COMPLEX128, EM_INT32
from ember._core._tensor cimport Tensor

from ember._core._blas import _single_threaded_blas

cdef extern from "ember/strided.h":
    int em_get_num_threads() noexcept nogil

ctypedef float complex cfloat_t
ctypedef double complex cdouble_t

ctypedef fused lapack_t:
    float
    double
    cfloat_t
    cdouble_t

# multiply-adds (about n^3 per matrix) below which a batch runs on one thread
cdef double LAPACK_GRAIN = 1 << 15


cdef int threads_for(Py_ssize_t batch, double work_per_matrix) noexcept:
    """OpenMP threads for a batch: one unless the batch has the work to share."""
    cdef int n = em_get_num_threads()
    if batch < 2 or batch * work_per_matrix < LAPACK_GRAIN:
        return 1
    return <int>min(<Py_ssize_t>n, batch)


cdef int check(Tensor t, int ndim, str name) except -1:
    if t._ndim != ndim or not t.is_contig():
        raise RuntimeError(f"_lapack_solve: {name} must be a contiguous {ndim}-d buffer")
    return 0


cdef int check_float(Tensor t) except -1:
    if t._dtype not in (EM_FLOAT32, EM_FLOAT64, EM_COMPLEX64, EM_COMPLEX128):
        raise RuntimeError("_lapack_solve: expected a float32, float64, complex64 or "
                           "complex128 buffer")
    return 0


cdef int check_int32(Tensor t, Py_ssize_t numel, str name) except -1:
    if t._dtype != EM_INT32 or not t.is_contig() or t._numel < numel:
        raise RuntimeError(f"_lapack_solve: {name} must be a contiguous int32 buffer of "
                           f"at least {numel} elements")
    return 0


# ---------------------------------------------------------------- one matrix

cdef extern from "ember/lu.h":
    int em_sgetrf(Py_ssize_t m, Py_ssize_t n, float *a, Py_ssize_t lda, int *ipiv,
                  int nthreads) noexcept nogil

cdef enum:
    # from this size ember's blocked LU (trailing updates on ember's sgemm, split over
    # the threads) beats LAPACK's sgetrf, which runs on one thread inside ember
    BLOCKED_LU_MIN = 64


cdef inline void getrf_one(lapack_t *a, int m, int n, int *piv, int *info,
                           int nthreads) noexcept nogil:
    """LU of one column-major m x n matrix; `nthreads` for the blocked float32 LU."""
    if lapack_t is float:
        if m >= BLOCKED_LU_MIN and n >= BLOCKED_LU_MIN:
            info[0] = em_sgetrf(m, n, a, m, piv, nthreads)
            if info[0] >= 0:
                return
        sgetrf(&m, &n, a, &m, piv, info)
    elif lapack_t is double:
        dgetrf(&m, &n, a, &m, piv, info)
    elif lapack_t is cfloat_t:
        cgetrf(&m, &n, a, &m, piv, info)
    else:
        zgetrf(&m, &n, a, &m, piv, info)


cdef inline void getrs_one(char trans, lapack_t *lu, int n, int *piv, lapack_t *b,
                           int nrhs) noexcept nogil:
    cdef int info = 0
    cdef int ld = n if n > 0 else 1
    if lapack_t is float:
        sgetrs(&trans, &n, &nrhs, lu, &ld, piv, b, &ld, &info)
    elif lapack_t is double:
        dgetrs(&trans, &n, &nrhs, lu, &ld, piv, b, &ld, &info)
    elif lapack_t is cfloat_t:
        cgetrs(&trans, &n, &nrhs, lu, &ld, piv, b, &ld, &info)
    else:
        zgetrs(&trans, &n, &nrhs, lu, &ld, piv, b, &ld, &info)


cdef inline void potrf_one(char uplo, lapack_t *a, int n, int *info) noexcept nogil:
    cdef int ld = n if n > 0 else 1
    if lapack_t is float:
        spotrf(&uplo, &n, a, &ld, info)
    elif lapack_t is double:
        dpotrf(&uplo, &n, a, &ld, info)
    elif lapack_t is cfloat_t:
        cpotrf(&uplo, &n, a, &ld, info)
    else:
        zpotrf(&uplo, &n, a, &ld, info)


cdef inline void trsm_one(char side, char uplo, char transa, char diag, int m, int n,
                          lapack_t *a, int lda, lapack_t *b) noexcept nogil:
    cdef lapack_t one = 1
    cdef int ldb = m if m > 0 else 1
    if lapack_t is float:
        strsm(&side, &uplo, &transa, &diag, &m, &n, &one, a, &lda, b, &ldb)
    elif lapack_t is double:
        dtrsm(&side, &uplo, &transa, &diag, &m, &n, &one, a, &lda, b, &ldb)
    elif lapack_t is cfloat_t:
        ctrsm(&side, &uplo, &transa, &diag, &m, &n, &one, a, &lda, b, &ldb)
    else:
        ztrsm(&side, &uplo, &transa, &diag, &m, &n, &one, a, &lda, b, &ldb)


# ---------------------------------------------------------------- small matrices
# LAPACK's per-call overhead (argument checks, workspace, OpenBLAS's buffer lock, which
# also serialises the threads of a batch) dwarfs the arithmetic of a small matrix: up to
# SMALL_N, LU with partial pivoting and its solves run here, in LAPACK's own storage
# (column-major LU in place, 1-based pivots, info = first zero pivot), unblocked as
# LAPACK's getf2/getrs do it.

cdef enum:
    SMALL_N = 16


cdef inline double abs1(lapack_t v) noexcept nogil:
    """|re| + |im|: LAPACK's pivot measure (i?amax)."""
    if lapack_t is float or lapack_t is double:
        return fabs(v)
    else:
        return fabs(v.real) + fabs(v.imag)


cdef inline lapack_t conj_if(lapack_t v, bint conjugate) noexcept nogil:
    if lapack_t is float or lapack_t is double:
        return v
    else:
        return v.conjugate() if conjugate else v


@cython.cdivision(True)
cdef void small_getrf(lapack_t *a, int n, int *piv, int *info) noexcept nogil:
    cdef int i, j, k, p
    cdef double best, v
    cdef lapack_t t, r, ajk
    info[0] = 0
    for j in range(n):
        p = j
        best = abs1(a[j + j * n])
        for i in range(j + 1, n):
            v = abs1(a[i + j * n])
            if v > best:
                best = v
                p = i
        piv[j] = p + 1
        if best != 0:
            if p != j:
                for k in range(n):
                    t = a[j + k * n]
                    a[j + k * n] = a[p + k * n]
                    a[p + k * n] = t
            r = 1 / a[j + j * n]
            for i in range(j + 1, n):
                a[i + j * n] = a[i + j * n] * r
        elif info[0] == 0:
            info[0] = j + 1
        for k in range(j + 1, n):
            ajk = a[j + k * n]
            if ajk != 0:
                for i in range(j + 1, n):
                    a[i + k * n] = a[i + k * n] - a[i + j * n] * ajk


@cython.cdivision(True)
cdef void small_getrs(char trans, const lapack_t *lu, int n, const int *piv, lapack_t *b,
                      int nrhs) noexcept nogil:
    cdef int i, k, c, p
    cdef lapack_t t, acc
    cdef bint conjugate = trans == b'C'
    cdef lapack_t *x
    for c in range(nrhs):
        x = b + c * n
        if trans == b'N':
            for i in range(n):                      # P b
                p = piv[i] - 1
                if p != i:
                    t = x[i]
                    x[i] = x[p]
                    x[p] = t
            for i in range(n):                      # L y = P b (unit diagonal)
                acc = x[i]
                for k in range(i):
                    acc = acc - lu[i + k * n] * x[k]
                x[i] = acc
            for i in range(n - 1, -1, -1):          # U x = y
                acc = x[i]
                for k in range(i + 1, n):
                    acc = acc - lu[i + k * n] * x[k]
                x[i] = acc / lu[i + i * n]
        else:
            for i in range(n):                      # U^T y = b
                acc = x[i]
                for k in range(i):
                    acc = acc - conj_if(lu[k + i * n], conjugate) * x[k]
                x[i] = acc / conj_if(lu[i + i * n], conjugate)
            for i in range(n - 1, -1, -1):          # L^T z = y (unit diagonal)
                acc = x[i]
                for k in range(i + 1, n):
                    acc = acc - conj_if(lu[k + i * n], conjugate) * x[k]
                x[i] = acc
            for i in range(n - 1, -1, -1):          # x = P^T z
                p = piv[i] - 1
                if p != i:
                    t = x[i]
                    x[i] = x[p]
                    x[p] = t


# ---------------------------------------------------------------- batches

cdef void getrf_batch(lapack_t *a, Py_ssize_t batch, int m, int n, int *piv, int *info,
                      int nthreads) noexcept nogil:
    cdef Py_ssize_t t
    cdef Py_ssize_t k = m if m < n else n
    if m == n and n <= SMALL_N:
        for t in prange(batch, num_threads=nthreads, schedule="static"):
            small_getrf(a + t * n * n, n, piv + t * n, info + t)
        return
    if batch == 1:
        getrf_one(a, m, n, piv, info, em_get_num_threads())
        return
    for t in prange(batch, num_threads=nthreads, schedule="static"):
        getrf_one(a + t * m * n, m, n, piv + t * k, info + t, 1)


cdef void getrs_batch(char trans, lapack_t *lu, Py_ssize_t lu_bs, int n, int *piv,
                      Py_ssize_t piv_bs, lapack_t *b, Py_ssize_t batch, int nrhs,
                      int nthreads) noexcept nogil:
    cdef Py_ssize_t t
    if n <= SMALL_N:
        for t in prange(batch, num_threads=nthreads, schedule="static"):
            small_getrs(trans, lu + t * lu_bs, n, piv + t * piv_bs, b + t * n * nrhs, nrhs)
        return
    for t in prange(batch, num_threads=nthreads, schedule="static"):
        getrs_one(trans, lu + t * lu_bs, n, piv + t * piv_bs, b + t * n * nrhs, nrhs)


cdef void gesv_batch(char trans, lapack_t *a, int n, int *piv, lapack_t *b, Py_ssize_t batch,
                     int nrhs, int *info, int nthreads) noexcept nogil:
    cdef Py_ssize_t t
    if n <= SMALL_N:
        for t in prange(batch, num_threads=nthreads, schedule="static"):
            small_getrf(a + t * n * n, n, piv + t * n, info + t)
            if info[t] == 0:
                small_getrs(trans, a + t * n * n, n, piv + t * n, b + t * n * nrhs, nrhs)
        return
    if batch == 1:
        getrf_one(a, n, n, piv, info, em_get_num_threads())
        if info[0] == 0:
            getrs_one(trans, a, n, piv, b, nrhs)
        return
    for t in prange(batch, num_threads=nthreads, schedule="static"):
        getrf_one(a + t * n * n, n, n, piv + t * n, info + t, 1)
        if info[t] == 0:
            getrs_one(trans, a + t * n * n, n, piv + t * n, b + t * n * nrhs, nrhs)


cdef void potrf_batch(char uplo, lapack_t *a, Py_ssize_t batch, int n, int *info,
                      int nthreads) noexcept nogil:
    cdef Py_ssize_t t
    for t in prange(batch, num_threads=nthreads, schedule="static"):
        potrf_one(uplo, a + t * n * n, n, info + t)


cdef void trsm_batch(char side, char uplo, char transa, char diag, lapack_t *a,
                     Py_ssize_t a_bs, int lda, lapack_t *b, Py_ssize_t batch, int m, int n,
                     int nthreads) noexcept nogil:
    cdef Py_ssize_t t
    for t in prange(batch, num_threads=nthreads, schedule="static"):
        trsm_one(side, uplo, transa, diag, m, n, a + t * a_bs, lda, b + t * m * n)


# ---------------------------------------------------------------- Python entry points

def getrf(Tensor a, Tensor piv, Tensor info):
    """LU factorization with partial pivoting of each column-major matrix of ``a``
    (``(batch, n, m)``: ``m x n`` matrices), in place; 1-based pivots into ``piv``
    (``batch * min(m, n)`` int32) and LAPACK's info per matrix into ``info``."""
    check(a, 3, "a")
    check_float(a)
    cdef Py_ssize_t batch = a._shape[0]
    cdef int n = <int>a._shape[1], m = <int>a._shape[2]
    check_int32(piv, batch * min(m, n), "piv")
    check_int32(info, batch, "info")
    if batch == 0 or m == 0 or n == 0:
        return
    _single_threaded_blas()
    cdef int nt = threads_for(batch, <double>m * n * min(m, n))
    cdef int *p = <int *>piv.ptr()
    cdef int *inf = <int *>info.ptr()
    cdef char *d = a.ptr()
    with nogil:
        if a._dtype == EM_FLOAT32:
            getrf_batch(<float *>d, batch, m, n, p, inf, nt)
        elif a._dtype == EM_FLOAT64:
            getrf_batch(<double *>d, batch, m, n, p, inf, nt)
        elif a._dtype == EM_COMPLEX64:
            getrf_batch(<cfloat_t *>d, batch, m, n, p, inf, nt)
        else:
            getrf_batch(<cdouble_t *>d, batch, m, n, p, inf, nt)


def getrs(Tensor lu, Py_ssize_t lu_batch_stride, Tensor piv, Py_ssize_t piv_batch_stride,
          Tensor b, str trans):
    """Solve ``op(A) X = B`` in place of ``b`` (``(batch, nrhs, n)``: column-major
    ``n x nrhs``) from ``getrf``'s factors of ``A`` (``lu``: ``n x n`` matrices
    ``lu_batch_stride`` elements apart, 0 for one shared matrix).  ``trans`` is
    ``'N'``, ``'T'`` or ``'C'``."""
    check(b, 3, "b")
    check_float(b)
    if lu._dtype != b._dtype or not lu.is_contig():
        raise RuntimeError("_lapack_solve: lu must be a contiguous buffer of b's dtype")
    cdef Py_ssize_t batch = b._shape[0]
    cdef int nrhs = <int>b._shape[1], n = <int>b._shape[2]
    if lu_batch_stride * (batch - 1) + n * n > lu._numel:
        raise RuntimeError("_lapack_solve: lu is smaller than the batch")
    check_int32(piv, piv_batch_stride * (batch - 1) + n, "piv")
    if trans not in ("N", "T", "C"):
        raise ValueError(f"_lapack_solve: trans must be 'N', 'T' or 'C', not {trans!r}")
    if batch == 0 or n == 0 or nrhs == 0:
        return
    _single_threaded_blas()
    cdef char tr = ord(trans[0])
    cdef int nt = threads_for(batch, <double>n * n * nrhs)
    cdef int *p = <int *>piv.ptr()
    cdef char *l = lu.ptr()
    cdef char *d = b.ptr()
    with nogil:
        if b._dtype == EM_FLOAT32:
            getrs_batch(tr, <float *>l, lu_batch_stride, n, p, piv_batch_stride, <float *>d,
                        batch, nrhs, nt)
        elif b._dtype == EM_FLOAT64:
            getrs_batch(tr, <double *>l, lu_batch_stride, n, p, piv_batch_stride, <double *>d,
                        batch, nrhs, nt)
        elif b._dtype == EM_COMPLEX64:
            getrs_batch(tr, <cfloat_t *>l, lu_batch_stride, n, p, piv_batch_stride,
                        <cfloat_t *>d, batch, nrhs, nt)
        else:
            getrs_batch(tr, <cdouble_t *>l, lu_batch_stride, n, p, piv_batch_stride,
                        <cdouble_t *>d, batch, nrhs, nt)


def gesv(Tensor a, Tensor piv, Tensor b, Tensor info, str trans):
    """Factor each ``n x n`` matrix of ``a`` (``(batch, n, n)``, overwritten by its LU
    factors) and, where it is not singular, solve ``op(A) X = B`` in place of ``b``
    (``(batch, nrhs, n)``).  LAPACK's info per matrix goes to ``info``."""
    check(a, 3, "a")
    check(b, 3, "b")
    check_float(a)
    if a._dtype != b._dtype:
        raise RuntimeError("_lapack_solve: a and b must have the same dtype")
    cdef Py_ssize_t batch = a._shape[0]
    cdef int n = <int>a._shape[1], nrhs = <int>b._shape[1]
    if a._shape[2] != n or b._shape[0] != batch or b._shape[2] != n:
        raise RuntimeError("_lapack_solve: gesv expects (batch, n, n) and (batch, nrhs, n)")
    check_int32(piv, batch * n, "piv")
    check_int32(info, batch, "info")
    if trans not in ("N", "T", "C"):
        raise ValueError(f"_lapack_solve: trans must be 'N', 'T' or 'C', not {trans!r}")
    if batch == 0 or n == 0:
        return
    _single_threaded_blas()
    cdef char tr = ord(trans[0])
    cdef int nt = threads_for(batch, <double>n * n * (n + nrhs))
    cdef int *p = <int *>piv.ptr()
    cdef int *inf = <int *>info.ptr()
    cdef char *da = a.ptr()
    cdef char *db = b.ptr()
    with nogil:
        if a._dtype == EM_FLOAT32:
            gesv_batch(tr, <float *>da, n, p, <float *>db, batch, nrhs, inf, nt)
        elif a._dtype == EM_FLOAT64:
            gesv_batch(tr, <double *>da, n, p, <double *>db, batch, nrhs, inf, nt)
        elif a._dtype == EM_COMPLEX64:
            gesv_batch(tr, <cfloat_t *>da, n, p, <cfloat_t *>db, batch, nrhs, inf, nt)
        else:
            gesv_batch(tr, <cdouble_t *>da, n, p, <cdouble_t *>db, batch, nrhs, inf, nt)


def potrf(Tensor a, Tensor info, str uplo):
    """Cholesky factorization of each column-major ``n x n`` matrix of ``a`` in place,
    from (and into) its ``uplo`` (``'U'`` or ``'L'``) triangle; the other triangle is
    left as it was.  LAPACK's info per matrix goes to ``info``."""
    check(a, 3, "a")
    check_float(a)
    cdef Py_ssize_t batch = a._shape[0]
    cdef int n = <int>a._shape[1]
    if a._shape[2] != n:
        raise RuntimeError("_lapack_solve: potrf expects square matrices")
    check_int32(info, batch, "info")
    if uplo not in ("U", "L"):
        raise ValueError(f"_lapack_solve: uplo must be 'U' or 'L', not {uplo!r}")
    if batch == 0 or n == 0:
        return
    _single_threaded_blas()
    cdef char ul = ord(uplo[0])
    cdef int nt = threads_for(batch, <double>n * n * n / 3)
    cdef int *inf = <int *>info.ptr()
    cdef char *d = a.ptr()
    with nogil:
        if a._dtype == EM_FLOAT32:
            potrf_batch(ul, <float *>d, batch, n, inf, nt)
        elif a._dtype == EM_FLOAT64:
            potrf_batch(ul, <double *>d, batch, n, inf, nt)
        elif a._dtype == EM_COMPLEX64:
            potrf_batch(ul, <cfloat_t *>d, batch, n, inf, nt)
        else:
            potrf_batch(ul, <cdouble_t *>d, batch, n, inf, nt)


def trsm(Tensor a, Py_ssize_t a_batch_stride, int lda, Tensor b, str side, str uplo,
         str transa, str diag):
    """Triangular solve in place of ``b`` (``(batch, n, m)``: column-major ``m x n``):
    ``op(A) X = B`` for ``side='L'`` (``A`` of order ``m``), ``X op(A) = B`` for
    ``side='R'`` (order ``n``).  The column-major matrices ``A`` lie
    ``a_batch_stride`` elements apart (0: one shared) with leading dimension ``lda``."""
    check(b, 3, "b")
    check_float(b)
    if a._dtype != b._dtype:
        raise RuntimeError("_lapack_solve: a and b must have the same dtype")
    cdef Py_ssize_t batch = b._shape[0]
    cdef int n = <int>b._shape[1], m = <int>b._shape[2]
    cdef int order = m if side == "L" else n
    if side not in ("L", "R") or uplo not in ("U", "L") or transa not in ("N", "T", "C") \
            or diag not in ("N", "U"):
        raise ValueError("_lapack_solve: bad side, uplo, transa or diag")
    if not a.is_contig() or lda < max(order, 1) or (
            batch > 0 and order > 0 and
            a_batch_stride * (batch - 1) + lda * (order - 1) + order > a._numel):
        raise RuntimeError("_lapack_solve: a is smaller than the batch of triangular matrices")
    if batch == 0 or n == 0 or m == 0:
        return
    _single_threaded_blas()
    cdef char cs = ord(side[0]), cu = ord(uplo[0]), ct = ord(transa[0]), cd = ord(diag[0])
    cdef int nt = threads_for(batch, <double>order * m * n)
    cdef char *da = a.ptr()
    cdef char *db = b.ptr()
    with nogil:
        if b._dtype == EM_FLOAT32:
            trsm_batch(cs, cu, ct, cd, <float *>da, a_batch_stride, lda, <float *>db, batch,
                       m, n, nt)
        elif b._dtype == EM_FLOAT64:
            trsm_batch(cs, cu, ct, cd, <double *>da, a_batch_stride, lda, <double *>db, batch,
                       m, n, nt)
        elif b._dtype == EM_COMPLEX64:
            trsm_batch(cs, cu, ct, cd, <cfloat_t *>da, a_batch_stride, lda, <cfloat_t *>db,
                       batch, m, n, nt)
        else:
            trsm_batch(cs, cu, ct, cd, <cdouble_t *>da, a_batch_stride, lda, <cdouble_t *>db,
                       batch, m, n, nt)


include "_lapack_lstsq.pxi"
