# Least squares (included by _lapack_solve.pyx): LAPACK's four drivers
# gels (QR, full rank), gelsy (complete orthogonal factorization with pivoting),
# gelsd (divide-and-conquer SVD) and gelss (SVD), batched like the solvers.

cdef enum:
    GELS = 0
    GELSY = 1
    GELSD = 2
    GELSS = 3


cdef inline double real_part(lapack_t x) noexcept nogil:
    if lapack_t is cfloat_t or lapack_t is cdouble_t:
        return x.real
    else:
        return x


cdef void lstsq_one(int driver, int m, int n, int nrhs, lapack_t *a, lapack_t *b, int ldb,
                    void *s, double rcond, int *rank, int *jpvt, lapack_t *work, int lwork,
                    void *rwork, int *iwork, int *info) noexcept nogil:
    """One least-squares problem; ``s`` and ``rwork`` hold the real dtype of lapack_t."""
    cdef int lda = m if m > 0 else 1
    cdef char trans = b'N'
    cdef float rc_s = <float>rcond
    cdef double rc_d = rcond
    if driver == GELS:
        if lapack_t is float:
            sgels(&trans, &m, &n, &nrhs, a, &lda, b, &ldb, work, &lwork, info)
        elif lapack_t is double:
            dgels(&trans, &m, &n, &nrhs, a, &lda, b, &ldb, work, &lwork, info)
        elif lapack_t is cfloat_t:
            cgels(&trans, &m, &n, &nrhs, a, &lda, b, &ldb, work, &lwork, info)
        else:
            zgels(&trans, &m, &n, &nrhs, a, &lda, b, &ldb, work, &lwork, info)
    elif driver == GELSY:
        if lapack_t is float:
            sgelsy(&m, &n, &nrhs, a, &lda, b, &ldb, jpvt, &rc_s, rank, work, &lwork, info)
        elif lapack_t is double:
            dgelsy(&m, &n, &nrhs, a, &lda, b, &ldb, jpvt, &rc_d, rank, work, &lwork, info)
        elif lapack_t is cfloat_t:
            cgelsy(&m, &n, &nrhs, a, &lda, b, &ldb, jpvt, &rc_s, rank, work, &lwork,
                   <float *>rwork, info)
        else:
            zgelsy(&m, &n, &nrhs, a, &lda, b, &ldb, jpvt, &rc_d, rank, work, &lwork,
                   <double *>rwork, info)
    elif driver == GELSD:
        if lapack_t is float:
            sgelsd(&m, &n, &nrhs, a, &lda, b, &ldb, <float *>s, &rc_s, rank, work, &lwork,
                   iwork, info)
        elif lapack_t is double:
            dgelsd(&m, &n, &nrhs, a, &lda, b, &ldb, <double *>s, &rc_d, rank, work, &lwork,
                   iwork, info)
        elif lapack_t is cfloat_t:
            cgelsd(&m, &n, &nrhs, a, &lda, b, &ldb, <float *>s, &rc_s, rank, work, &lwork,
                   <float *>rwork, iwork, info)
        else:
            zgelsd(&m, &n, &nrhs, a, &lda, b, &ldb, <double *>s, &rc_d, rank, work, &lwork,
                   <double *>rwork, iwork, info)
    else:
        if lapack_t is float:
            sgelss(&m, &n, &nrhs, a, &lda, b, &ldb, <float *>s, &rc_s, rank, work, &lwork, info)
        elif lapack_t is double:
            dgelss(&m, &n, &nrhs, a, &lda, b, &ldb, <double *>s, &rc_d, rank, work, &lwork, info)
        elif lapack_t is cfloat_t:
            cgelss(&m, &n, &nrhs, a, &lda, b, &ldb, <float *>s, &rc_s, rank, work, &lwork,
                   <float *>rwork, info)
        else:
            zgelss(&m, &n, &nrhs, a, &lda, b, &ldb, <double *>s, &rc_d, rank, work, &lwork,
                   <double *>rwork, info)


cdef int lstsq_batch(lapack_t *a, lapack_t *b, char *s, Py_ssize_t s_bytes, int driver,
                     Py_ssize_t batch, int m, int n, int nrhs, int ldb, double rcond, int *rank,
                     int *info, int nthreads) noexcept nogil:
    """Every problem of the batch, each with its own workspace; -1 when out of memory."""
    cdef lapack_t query_work = 0
    cdef double query_rwork[2]
    cdef int query_iwork[2]
    cdef int query_rank = 0, query_info = 0
    cdef int lwork, lrwork, liwork, k = m if m < n else n
    cdef Py_ssize_t t
    cdef int j, failures = 0
    cdef lapack_t *work
    cdef char *rwork
    cdef int *iwork
    query_rwork[0] = 0
    query_iwork[0] = 0
    lstsq_one(driver, m, n, nrhs, a, b, ldb, s, rcond, &query_rank, query_iwork, &query_work,
              -1, query_rwork, query_iwork, &query_info)
    lwork = <int>real_part(query_work) + 1
    # sizes of the real and integer workspaces, from LAPACK's documentation (gelsd's query
    # reports its own)
    if lapack_t is cfloat_t:
        lrwork = <int>(<float *>query_rwork)[0]      # cgelsd's query writes a float
    else:
        lrwork = <int>query_rwork[0]
    lrwork = 2 * n if driver == GELSY else 5 * k if driver == GELSS else \
        lrwork + 1 if driver == GELSD else 1
    liwork = (query_iwork[0] + 1 if driver == GELSD else 1) + n
    for t in prange(batch, num_threads=nthreads, schedule="static"):
        work = <lapack_t *>malloc(lwork * sizeof(lapack_t))
        rwork = <char *>malloc(lrwork * sizeof(double))
        iwork = <int *>malloc(liwork * sizeof(int))
        if work == NULL or rwork == NULL or iwork == NULL:
            failures += 1
        else:
            if driver == GELSY:
                for j in range(n):
                    iwork[j] = 0          # jpvt: every column free to move
            lstsq_one(driver, m, n, nrhs, a + t * m * n, b + t * ldb * nrhs, ldb,
                      s + t * s_bytes, rcond, rank + t, iwork, work, lwork, rwork, iwork,
                      info + t)
        free(work)
        free(rwork)
        free(iwork)
    return -1 if failures else 0


def gelsx(Tensor a, Tensor b, Tensor s, Tensor rank, Tensor info, str driver, double rcond):
    """Least squares ``min ||A X - B||`` in place: ``a`` (``(batch, n, m)``: column-major
    ``m x n``) is overwritten, ``b`` (``(batch, nrhs, max(m, n))``) receives the solution in
    its first ``n`` rows.  ``s`` (``(batch, min(m, n))`` of the real dtype) receives the
    singular values (gelsd, gelss), ``rank`` the effective rank (gelsy, gelsd, gelss)."""
    check(a, 3, "a")
    check(b, 3, "b")
    check_float(a)
    if a._dtype != b._dtype:
        raise RuntimeError("_lapack_solve: a and b must have the same dtype")
    cdef Py_ssize_t batch = a._shape[0]
    cdef int n = <int>a._shape[1], m = <int>a._shape[2], nrhs = <int>b._shape[1]
    cdef int ldb = <int>b._shape[2]
    if b._shape[0] != batch or ldb < max(m, n, 1):
        raise RuntimeError("_lapack_solve: gelsx expects (batch, n, m) and "
                           "(batch, nrhs, max(m, n))")
    cdef int drv = {"gels": GELS, "gelsy": GELSY, "gelsd": GELSD, "gelss": GELSS}[driver]
    cdef Py_ssize_t s_bytes = s.element_size() * min(m, n)
    if not s.is_contig() or s._numel < batch * min(m, n):
        raise RuntimeError("_lapack_solve: s is smaller than the batch")
    check_int32(rank, batch, "rank")
    check_int32(info, batch, "info")
    if batch == 0 or m == 0 or n == 0:
        return
    _single_threaded_blas()
    cdef int nt = threads_for(batch, <double>m * n * (n + nrhs))
    cdef int *rk = <int *>rank.ptr()
    cdef int *inf = <int *>info.ptr()
    cdef char *da = a.ptr()
    cdef char *db = b.ptr()
    cdef char *ds = s.ptr()
    cdef int status
    with nogil:
        if a._dtype == EM_FLOAT32:
            status = lstsq_batch(<float *>da, <float *>db, ds, s_bytes, drv, batch, m, n, nrhs,
                                 ldb, rcond, rk, inf, nt)
        elif a._dtype == EM_FLOAT64:
            status = lstsq_batch(<double *>da, <double *>db, ds, s_bytes, drv, batch, m, n,
                                 nrhs, ldb, rcond, rk, inf, nt)
        elif a._dtype == EM_COMPLEX64:
            status = lstsq_batch(<cfloat_t *>da, <cfloat_t *>db, ds, s_bytes, drv, batch, m, n,
                                 nrhs, ldb, rcond, rk, inf, nt)
        else:
            status = lstsq_batch(<cdouble_t *>da, <cdouble_t *>db, ds, s_bytes, drv, batch, m,
                                 n, nrhs, ldb, rcond, rk, inf, nt)
    if status < 0:
        raise MemoryError("lstsq: could not allocate the LAPACK workspace")
