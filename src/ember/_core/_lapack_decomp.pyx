# cython: boundscheck=False, wraparound=False, cdivision=True
"""Matrix decompositions on the CPU through LAPACK (``scipy.linalg.cython_lapack``).

Each kernel takes a batch of matrices stored column-major, that is a contiguous
``(..., ncols, nrows)`` tensor whose last two dims are the transpose of the
matrices (``ember.linalg`` makes that copy from any layout with one strided copy,
and returns its results as ``.mT`` views, the layout PyTorch returns too).  The
kernels overwrite their inputs as LAPACK does.  float32, float64, complex64 and
complex128 share one definition per routine through a fused type; the batch is
shared out over ember's OpenMP threads (one workspace per thread, SciPy's BLAS
pinned to one thread inside them) and LAPACK's ``info`` is kept per matrix so that
the caller can name the failing one.
"""
cimport cython
from cython.parallel cimport prange, threadid
from libc.stdlib cimport malloc, free

from scipy.linalg.cython_lapack cimport (
    sgesdd, dgesdd, cgesdd, zgesdd, sgeqrf, dgeqrf, cgeqrf, zgeqrf,
    sorgqr, dorgqr, cungqr, zungqr, ssyevd, dsyevd, cheevd, zheevd,
    sgeev, dgeev, cgeev, zgeev,
)
from scipy.linalg.cython_blas cimport strsm, dtrsm, ctrsm, ztrsm

from ember._core._dtype cimport EM_FLOAT32, EM_FLOAT64, EM_COMPLEX64, EM_COMPLEX128
from ember._core._tensor cimport Tensor

from ember._core._blas import _single_threaded_blas

cdef extern from "ember/strided.h":
    int em_get_num_threads() noexcept nogil

ctypedef fused scalar_t:
    float
    double
    cython.floatcomplex
    cython.doublecomplex

ctypedef fused real_t:
    float
    double

# Matrices with more elements than this run one at a time (LAPACK is then the
# whole cost and the batch is too short to share out).
cdef Py_ssize_t SMALL_MATRIX = 128 * 128


cdef int threads_for(Py_ssize_t batch, Py_ssize_t size) noexcept:
    cdef int n = em_get_num_threads()
    if batch < 2 or size > SMALL_MATRIX or n < 2:
        return 1
    return <int>min(<Py_ssize_t>n, batch)


cdef void *workspace(Py_ssize_t nthreads, Py_ssize_t count, Py_ssize_t itemsize) except NULL:
    cdef void *p = malloc(max(nthreads * count, 1) * itemsize)
    if p == NULL:
        raise MemoryError(f"cannot allocate a LAPACK workspace of {nthreads * count * itemsize} bytes")
    return p


cdef int lwork_of(scalar_t query) noexcept nogil:
    """LAPACK answers a workspace query in the first element of work."""
    if scalar_t is float or scalar_t is double:
        return max(<int>query, 1)
    else:
        return max(<int>query.real, 1)


cdef char *ptr_checked(Tensor t, int dtype) except NULL:
    if t._dtype != dtype or not t.is_contig():
        raise RuntimeError("internal: LAPACK kernels take contiguous tensors of the computation dtype")
    return t.ptr()


cdef int real_dtype_of(int dtype) noexcept:
    return EM_FLOAT32 if dtype in (EM_FLOAT32, EM_COMPLEX64) else EM_FLOAT64


# ---------------------------------------------------------------- gesdd: SVD

cdef void gesdd_one(scalar_t *a, int m, int n, void *s, scalar_t *u, int ldu, scalar_t *vt,
                    int ldvt, char jobz, scalar_t *work, int lwork, void *rwork, int *iwork,
                    int *info) noexcept nogil:
    cdef int lda = max(m, 1)
    if scalar_t is float:
        sgesdd(&jobz, &m, &n, a, &lda, <float *>s, u, &ldu, vt, &ldvt, work, &lwork, iwork, info)
    elif scalar_t is double:
        dgesdd(&jobz, &m, &n, a, &lda, <double *>s, u, &ldu, vt, &ldvt, work, &lwork, iwork, info)
    elif scalar_t is cython.floatcomplex:
        cgesdd(&jobz, &m, &n, a, &lda, <float *>s, u, &ldu, vt, &ldvt, work, &lwork,
               <float *>rwork, iwork, info)
    else:
        zgesdd(&jobz, &m, &n, a, &lda, <double *>s, u, &ldu, vt, &ldvt, work, &lwork,
               <double *>rwork, iwork, info)


cdef void gesdd_batch(scalar_t *a, char *s, scalar_t *u, scalar_t *vt, Py_ssize_t batch,
                      int m, int n, int ucols, int vtrows, char jobz, int *infos,
                      int nthreads, Py_ssize_t s_itemsize) except *:
    cdef int k = min(m, n), mx = max(m, n)
    cdef int ldu = max(m, 1), ldvt = max(vtrows, 1), lwork, info = 0
    cdef Py_ssize_t lrwork = 1, b, tid
    cdef scalar_t query
    cdef bint cplx = scalar_t is cython.floatcomplex or scalar_t is cython.doublecomplex
    if cplx:
        lrwork = 7 * k if jobz == b'N' else max(5 * k * k + 5 * k, 2 * mx * k + 2 * k * k + k)
    cdef void *rwork = workspace(nthreads, lrwork, s_itemsize)
    cdef int *iwork = <int *>workspace(nthreads, 8 * k, sizeof(int))
    cdef scalar_t *work = NULL
    try:
        gesdd_one(a, m, n, <void *>s, u, ldu, vt, ldvt, jobz, &query, -1, rwork, iwork, &info)
        lwork = lwork_of(query)
        work = <scalar_t *>workspace(nthreads, lwork, sizeof(scalar_t))
        for b in prange(batch, nogil=True, num_threads=nthreads, schedule='static'):
            tid = threadid()
            gesdd_one(a + b * m * n, m, n, <void *>(s + b * k * s_itemsize),
                      u + b * m * ucols, ldu, vt + b * vtrows * n, ldvt, jobz,
                      work + tid * lwork, lwork, <char *>rwork + tid * lrwork * s_itemsize,
                      iwork + tid * 8 * k, infos + b)
    finally:
        free(work)
        free(rwork)
        free(iwork)


def gesdd(Tensor a, Tensor s, Tensor u, Tensor vt, int m, int n, str jobz, Tensor infos):
    """SVD of each column-major ``m x n`` matrix of `a` (overwritten): singular values
    into `s` ``(batch, k)``, and for `jobz` ``'S'``/``'A'`` the column-major `u`
    ``(batch, ucols, m)`` and `vt` ``(batch, n, vtrows)``; LAPACK's info per matrix
    into the int32 tensor `infos`."""
    _single_threaded_blas()
    cdef int dt = a._dtype
    cdef Py_ssize_t batch = infos._numel
    cdef int k = min(m, n)
    cdef char job = ord(jobz)
    cdef int ucols = u._shape[u._ndim - 2] if job != b'N' else 1
    cdef int vtrows = vt._shape[vt._ndim - 1] if job != b'N' else 1
    cdef char *ap = ptr_checked(a, dt)
    cdef char *sp = ptr_checked(s, real_dtype_of(dt))
    cdef char *up = ptr_checked(u, dt) if job != b'N' else ap
    cdef char *vp = ptr_checked(vt, dt) if job != b'N' else ap
    cdef int *ip = <int *>infos.ptr()
    cdef int nt = threads_for(batch, <Py_ssize_t>m * n)
    if dt == EM_FLOAT32:
        gesdd_batch(<float *>ap, sp, <float *>up, <float *>vp, batch, m, n, ucols, vtrows, job, ip, nt, 4)
    elif dt == EM_FLOAT64:
        gesdd_batch(<double *>ap, sp, <double *>up, <double *>vp, batch, m, n, ucols, vtrows, job, ip, nt, 8)
    elif dt == EM_COMPLEX64:
        gesdd_batch(<float complex *>ap, sp, <float complex *>up, <float complex *>vp, batch, m, n,
                    ucols, vtrows, job, ip, nt, 4)
    else:
        gesdd_batch(<double complex *>ap, sp, <double complex *>up, <double complex *>vp, batch, m,
                    n, ucols, vtrows, job, ip, nt, 8)


# ---------------------------------------------------------------- geqrf / orgqr: QR

cdef void geqrf_one(scalar_t *a, int m, int n, scalar_t *tau, scalar_t *work, int lwork,
                    int *info) noexcept nogil:
    cdef int lda = max(m, 1)
    if scalar_t is float:
        sgeqrf(&m, &n, a, &lda, tau, work, &lwork, info)
    elif scalar_t is double:
        dgeqrf(&m, &n, a, &lda, tau, work, &lwork, info)
    elif scalar_t is cython.floatcomplex:
        cgeqrf(&m, &n, a, &lda, tau, work, &lwork, info)
    else:
        zgeqrf(&m, &n, a, &lda, tau, work, &lwork, info)


cdef void orgqr_one(scalar_t *a, int m, int n, int k, scalar_t *tau, scalar_t *work, int lwork,
                    int *info) noexcept nogil:
    cdef int lda = max(m, 1)
    if scalar_t is float:
        sorgqr(&m, &n, &k, a, &lda, tau, work, &lwork, info)
    elif scalar_t is double:
        dorgqr(&m, &n, &k, a, &lda, tau, work, &lwork, info)
    elif scalar_t is cython.floatcomplex:
        cungqr(&m, &n, &k, a, &lda, tau, work, &lwork, info)
    else:
        zungqr(&m, &n, &k, a, &lda, tau, work, &lwork, info)


cdef void qr_batch(bint generate, scalar_t *a, scalar_t *tau, Py_ssize_t batch, int m, int n,
                   int k, Py_ssize_t tau_stride, int *infos, int nthreads) except *:
    """geqrf (factor) or orgqr (generate Q from `k` reflectors) on each matrix."""
    cdef int lwork, info = 0
    cdef Py_ssize_t b, tid
    cdef scalar_t query
    cdef scalar_t *work = NULL
    if generate:
        orgqr_one(a, m, n, k, tau, &query, -1, &info)
    else:
        geqrf_one(a, m, n, tau, &query, -1, &info)
    lwork = lwork_of(query)
    work = <scalar_t *>workspace(nthreads, lwork, sizeof(scalar_t))
    try:
        for b in prange(batch, nogil=True, num_threads=nthreads, schedule='static'):
            tid = threadid()
            if generate:
                orgqr_one(a + b * m * n, m, n, k, tau + b * tau_stride, work + tid * lwork, lwork,
                          infos + b)
            else:
                geqrf_one(a + b * m * n, m, n, tau + b * tau_stride, work + tid * lwork, lwork,
                          infos + b)
    finally:
        free(work)


def qr_kernel(bint generate, Tensor a, Tensor tau, int m, int n, int k, Tensor infos):
    """On each column-major ``m x n`` matrix of `a`, in place: ``geqrf`` (Householder
    factors and `tau`, ``(batch, min(m, n))``) or, with `generate`, ``orgqr``/``ungqr``
    (the first `n` columns of the product of the first `k` reflectors)."""
    _single_threaded_blas()
    cdef int dt = a._dtype
    cdef Py_ssize_t batch = infos._numel
    cdef char *ap = ptr_checked(a, dt)
    cdef char *tp = ptr_checked(tau, dt)
    cdef Py_ssize_t ts = tau._shape[tau._ndim - 1] if tau._ndim else 0
    cdef int *ip = <int *>infos.ptr()
    cdef int nt = threads_for(batch, <Py_ssize_t>m * n)
    if dt == EM_FLOAT32:
        qr_batch(generate, <float *>ap, <float *>tp, batch, m, n, k, ts, ip, nt)
    elif dt == EM_FLOAT64:
        qr_batch(generate, <double *>ap, <double *>tp, batch, m, n, k, ts, ip, nt)
    elif dt == EM_COMPLEX64:
        qr_batch(generate, <float complex *>ap, <float complex *>tp, batch, m, n, k, ts, ip, nt)
    else:
        qr_batch(generate, <double complex *>ap, <double complex *>tp, batch, m, n, k, ts, ip, nt)


# ---------------------------------------------------------------- syevd / heevd: Hermitian eigen

cdef void syevd_one(scalar_t *a, int n, void *w, char jobz, char uplo, scalar_t *work, int lwork,
                    void *rwork, int lrwork, int *iwork, int liwork, int *info) noexcept nogil:
    cdef int lda = max(n, 1)
    if scalar_t is float:
        ssyevd(&jobz, &uplo, &n, a, &lda, <float *>w, work, &lwork, iwork, &liwork, info)
    elif scalar_t is double:
        dsyevd(&jobz, &uplo, &n, a, &lda, <double *>w, work, &lwork, iwork, &liwork, info)
    elif scalar_t is cython.floatcomplex:
        cheevd(&jobz, &uplo, &n, a, &lda, <float *>w, work, &lwork, <float *>rwork, &lrwork,
               iwork, &liwork, info)
    else:
        zheevd(&jobz, &uplo, &n, a, &lda, <double *>w, work, &lwork, <double *>rwork, &lrwork,
               iwork, &liwork, info)


cdef void syevd_batch(scalar_t *a, char *w, Py_ssize_t batch, int n, char jobz, char uplo,
                      int *infos, int nthreads, Py_ssize_t w_itemsize) except *:
    cdef int lwork, lrwork = 1, liwork, info = 0
    cdef Py_ssize_t b, tid
    cdef scalar_t query
    cdef double rquery = 0
    cdef double rq[2]
    cdef int iquery = 0
    rq[0] = 0
    rq[1] = 0
    syevd_one(a, n, <void *>w, jobz, uplo, &query, -1, <void *>rq, -1, &iquery, -1, &info)
    lwork = lwork_of(query)
    liwork = max(iquery, 1)
    if w_itemsize == 4:
        lrwork = max(<int>(<float *>rq)[0], 1)
    else:
        lrwork = max(<int>(<double *>rq)[0], 1)
    cdef scalar_t *work = <scalar_t *>workspace(nthreads, lwork, sizeof(scalar_t))
    cdef char *rwork = NULL
    cdef int *iwork = NULL
    try:
        rwork = <char *>workspace(nthreads, lrwork, w_itemsize)
        iwork = <int *>workspace(nthreads, liwork, sizeof(int))
        for b in prange(batch, nogil=True, num_threads=nthreads, schedule='static'):
            tid = threadid()
            syevd_one(a + b * n * n, n, <void *>(w + b * n * w_itemsize), jobz, uplo,
                      work + tid * lwork, lwork, <void *>(rwork + tid * lrwork * w_itemsize),
                      lrwork, iwork + tid * liwork, liwork, infos + b)
    finally:
        free(work)
        free(rwork)
        free(iwork)


def syevd(Tensor a, Tensor w, bint vectors, str uplo, Tensor infos):
    """Eigenvalues (ascending, into the real `w` ``(batch, n)``) and, with `vectors`,
    eigenvectors (over `a`, column-major) of each Hermitian ``n x n`` matrix of `a`,
    reading its `uplo` triangle."""
    _single_threaded_blas()
    cdef int dt = a._dtype
    cdef Py_ssize_t batch = infos._numel
    cdef int n = a._shape[a._ndim - 1]
    cdef char *ap = ptr_checked(a, dt)
    cdef char *wp = ptr_checked(w, real_dtype_of(dt))
    cdef char job = b'V' if vectors else b'N'
    cdef char ul = ord(uplo)
    cdef int *ip = <int *>infos.ptr()
    cdef int nt = threads_for(batch, <Py_ssize_t>n * n)
    if dt == EM_FLOAT32:
        syevd_batch(<float *>ap, wp, batch, n, job, ul, ip, nt, 4)
    elif dt == EM_FLOAT64:
        syevd_batch(<double *>ap, wp, batch, n, job, ul, ip, nt, 8)
    elif dt == EM_COMPLEX64:
        syevd_batch(<float complex *>ap, wp, batch, n, job, ul, ip, nt, 4)
    else:
        syevd_batch(<double complex *>ap, wp, batch, n, job, ul, ip, nt, 8)


# ---------------------------------------------------------------- geev: general eigen

cdef void geev_one(scalar_t *a, int n, scalar_t *wr, scalar_t *wi, scalar_t *vr, char jobvr,
                   scalar_t *work, int lwork, void *rwork, int *info) noexcept nogil:
    """For real dtypes `wr`/`wi` are the real and imaginary parts; for complex ones
    `wr` holds the eigenvalues and `wi` is unused."""
    cdef int lda = max(n, 1), ldvr = max(n, 1), ldvl = 1
    cdef char jobvl = b'N'
    if scalar_t is float:
        sgeev(&jobvl, &jobvr, &n, a, &lda, wr, wi, NULL, &ldvl, vr, &ldvr, work, &lwork, info)
    elif scalar_t is double:
        dgeev(&jobvl, &jobvr, &n, a, &lda, wr, wi, NULL, &ldvl, vr, &ldvr, work, &lwork, info)
    elif scalar_t is cython.floatcomplex:
        cgeev(&jobvl, &jobvr, &n, a, &lda, wr, NULL, &ldvl, vr, &ldvr, work, &lwork,
              <float *>rwork, info)
    else:
        zgeev(&jobvl, &jobvr, &n, a, &lda, wr, NULL, &ldvl, vr, &ldvr, work, &lwork,
              <double *>rwork, info)


cdef void unpack_real_eig(real_t *wr, real_t *wi, real_t *vr, int n, bint vectors,
                          double complex *w_out, double complex *v_out, bint single) noexcept nogil:
    """geev's real-arithmetic result as complex: conjugate pairs of eigenvalues share
    two columns of `vr` (real and imaginary parts).  `v_out` is column-major."""
    cdef int j = 0, i
    cdef float complex *w32 = <float complex *>w_out
    cdef float complex *v32 = <float complex *>v_out
    cdef double complex z
    for i in range(n):
        z = <double>wr[i] + 1j * <double>wi[i]
        if single:
            w32[i] = <float complex>z
        else:
            w_out[i] = z
    if not vectors:
        return
    while j < n:
        if wi[j] == 0:
            for i in range(n):
                if single:
                    v32[j * n + i] = <float>vr[j * n + i]
                else:
                    v_out[j * n + i] = <double>vr[j * n + i]
            j += 1
        else:
            for i in range(n):
                z = <double>vr[j * n + i] + 1j * <double>vr[(j + 1) * n + i]
                if single:
                    v32[j * n + i] = <float complex>z
                    v32[(j + 1) * n + i] = <float complex>z.conjugate()
                else:
                    v_out[j * n + i] = z
                    v_out[(j + 1) * n + i] = z.conjugate()
            j += 2


cdef void geev_batch(scalar_t *a, char *w, char *v, Py_ssize_t batch, int n, bint vectors,
                     int *infos, int nthreads) except *:
    cdef bint cplx = scalar_t is cython.floatcomplex or scalar_t is cython.doublecomplex
    cdef bint single = scalar_t is float or scalar_t is cython.floatcomplex
    cdef Py_ssize_t csize = 8 if single else 16
    cdef int lwork, info = 0
    cdef Py_ssize_t b, tid, nn = <Py_ssize_t>n * n
    cdef scalar_t query
    cdef char jobvr = b'V' if vectors else b'N'
    # real dtypes: per-thread wr, wi and vr; complex dtypes: rwork (2n reals)
    cdef Py_ssize_t scratch = 2 * n if cplx else 2 * n + nn
    cdef scalar_t *tmp = <scalar_t *>workspace(nthreads, scratch, sizeof(scalar_t))
    cdef scalar_t *work = NULL
    cdef scalar_t *mine
    try:
        geev_one(a, n, tmp, tmp + n, tmp + 2 * n if not cplx else <scalar_t *>v, jobvr, &query,
                 -1, <void *>tmp, &info)
        lwork = lwork_of(query)
        work = <scalar_t *>workspace(nthreads, lwork, sizeof(scalar_t))
        for b in prange(batch, nogil=True, num_threads=nthreads, schedule='static'):
            tid = threadid()
            mine = tmp + tid * scratch
            if cplx:
                geev_one(a + b * nn, n, <scalar_t *>(w + b * n * csize), NULL,
                         <scalar_t *>(v + b * nn * csize), jobvr, work + tid * lwork, lwork,
                         <void *>mine, infos + b)
            else:
                geev_one(a + b * nn, n, mine, mine + n, mine + 2 * n, jobvr, work + tid * lwork,
                         lwork, NULL, infos + b)
                if scalar_t is float or scalar_t is double:
                    unpack_real_eig(mine, mine + n, mine + 2 * n, n, vectors,
                                    <double complex *>(w + b * n * csize),
                                    <double complex *>(v + b * nn * csize), single)
    finally:
        free(tmp)
        free(work)


def geev(Tensor a, Tensor w, Tensor v, bint vectors, Tensor infos):
    """Eigenvalues (into the complex `w` ``(batch, n)``) and, with `vectors`, right
    eigenvectors (into the complex, column-major `v`) of each ``n x n`` matrix of `a`."""
    _single_threaded_blas()
    cdef int dt = a._dtype
    cdef int cdt = EM_COMPLEX64 if dt in (EM_FLOAT32, EM_COMPLEX64) else EM_COMPLEX128
    cdef Py_ssize_t batch = infos._numel
    cdef int n = a._shape[a._ndim - 1]
    cdef char *ap = ptr_checked(a, dt)
    cdef char *wp = ptr_checked(w, cdt)
    cdef char *vp = ptr_checked(v, cdt) if vectors else wp
    cdef int *ip = <int *>infos.ptr()
    cdef int nt = threads_for(batch, <Py_ssize_t>n * n)
    if dt == EM_FLOAT32:
        geev_batch(<float *>ap, wp, vp, batch, n, vectors, ip, nt)
    elif dt == EM_FLOAT64:
        geev_batch(<double *>ap, wp, vp, batch, n, vectors, ip, nt)
    elif dt == EM_COMPLEX64:
        geev_batch(<float complex *>ap, wp, vp, batch, n, vectors, ip, nt)
    else:
        geev_batch(<double complex *>ap, wp, vp, batch, n, vectors, ip, nt)


# ---------------------------------------------------------------- trsm: triangular solve

cdef void trsm_one(scalar_t *t, scalar_t *b, int m, int n, char side, char uplo) noexcept nogil:
    """``B := op^-1 B`` (side 'L') or ``B op^-1`` (side 'R') for the column-major
    triangular `t` and column-major ``m x n`` `b`."""
    cdef char trans = b'N', diag = b'N'
    cdef int ldt = max(m if side == b'L' else n, 1), ldb = max(m, 1)
    cdef scalar_t one = 1
    if scalar_t is float:
        strsm(&side, &uplo, &trans, &diag, &m, &n, &one, t, &ldt, b, &ldb)
    elif scalar_t is double:
        dtrsm(&side, &uplo, &trans, &diag, &m, &n, &one, t, &ldt, b, &ldb)
    elif scalar_t is cython.floatcomplex:
        ctrsm(&side, &uplo, &trans, &diag, &m, &n, &one, t, &ldt, b, &ldb)
    else:
        ztrsm(&side, &uplo, &trans, &diag, &m, &n, &one, t, &ldt, b, &ldb)


cdef void trsm_batch(scalar_t *t, scalar_t *b, Py_ssize_t batch, int m, int n, char side,
                     char uplo, int nthreads) noexcept nogil:
    cdef Py_ssize_t i, tsize = <Py_ssize_t>m * m if side == b'L' else <Py_ssize_t>n * n
    for i in prange(batch, num_threads=nthreads, schedule='static'):
        trsm_one(t + i * tsize, b + i * m * n, m, n, side, uplo)


def trsm(Tensor t, Tensor b, int m, int n, bint left, bint upper):
    """Solve in place with each column-major triangular matrix of `t` against each
    column-major ``m x n`` matrix of `b` (same batch): ``T X = B`` when `left`, else
    ``X T = B``."""
    _single_threaded_blas()
    cdef int dt = b._dtype
    cdef char *tp = ptr_checked(t, dt)
    cdef char *bp = ptr_checked(b, dt)
    cdef Py_ssize_t batch = b._numel // max(<Py_ssize_t>m * n, 1) if b._numel else 0
    cdef char side = b'L' if left else b'R'
    cdef char uplo = b'U' if upper else b'L'
    cdef int nt = threads_for(batch, <Py_ssize_t>m * n)
    with nogil:
        if dt == EM_FLOAT32:
            trsm_batch(<float *>tp, <float *>bp, batch, m, n, side, uplo, nt)
        elif dt == EM_FLOAT64:
            trsm_batch(<double *>tp, <double *>bp, batch, m, n, side, uplo, nt)
        elif dt == EM_COMPLEX64:
            trsm_batch(<float complex *>tp, <float complex *>bp, batch, m, n, side, uplo, nt)
        else:
            trsm_batch(<double complex *>tp, <double complex *>bp, batch, m, n, side, uplo, nt)
