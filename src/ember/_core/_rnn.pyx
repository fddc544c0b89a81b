# cython: embedsignature=False
"""Recurrent layers on the CPU: the time loop of one layer and direction.

A layer's input projection (``x @ W_ih^T + b_ih`` for every time step) is one
GEMM made by the caller; this module runs the recurrence over the steps: per
step one GEMM for the recurrent product ``h @ W_hh^T`` (BLAS), one fused cell
kernel for the gates and the state update (``rnn.c.in``), and for an LSTM with projections one GEMM
``h @ W_hr^T``.  Backward runs the steps in reverse with the fused backward
cells and one GEMM per step for the gradient of the previous hidden state; the
caller turns the gate gradients of all steps into the weight gradients with
one GEMM each.

Threads: a row of the batch depends on no other row through the whole
recurrence, so a large enough batch is cut into one block of rows per thread
and each thread runs every step of its block, with no synchronisation between
steps (a fork and join per step would cost more than a small step's GEMM).
Otherwise a step's GEMM is shared out by its output rows when it is large.

Sequences are packed, as in ``PackedSequence``: step ``t`` holds
``batch_sizes[t]`` rows (non-increasing), those of the ``batch_sizes[t]``
longest sequences; a padded batch is the case of equal sizes.  The states of
the rows not active at a step stay as they are, which gives each sequence's
final state at its own last step (forward direction) and starts the reverse
direction of each sequence at its own last element.

Modes: 0 Elman tanh, 1 Elman relu, 2 LSTM, 3 GRU.
"""
from cython.parallel cimport prange
from openmp cimport omp_in_parallel
from libc.stdint cimport int64_t
from libc.string cimport memcpy, memset

from scipy.linalg.cython_blas cimport sgemm, dgemm

from ember._core._dtype cimport EM_FLOAT32, EM_FLOAT64, EM_INT64, dtype_of
from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU
from ember._core._blas import _single_threaded_blas

cdef extern from "ember/strided.h":
    int em_get_num_threads() noexcept nogil

cdef extern from "ember/sgemm.h" nogil:
    ctypedef struct em_sgemm_packed:
        pass
    em_sgemm_packed *em_sgemm_pack_b(Py_ssize_t k, Py_ssize_t n, const float *b,
                                     Py_ssize_t b_rs, Py_ssize_t b_cs)
    void em_sgemm_packed_free(em_sgemm_packed *packed)
    void em_sgemm_packed_b_rows(Py_ssize_t m, const float *a, Py_ssize_t lda,
                                const em_sgemm_packed *b, float beta, float *c,
                                Py_ssize_t ldc, int threads)

cdef extern from "ember/rnn.h" nogil:
    void em_rnn_cell_fwd_float32(int64_t n, int64_t H, int relu, const float *gx, const float *gh,
                                 const float *bias_hh, float *h)
    void em_rnn_cell_fwd_float64(int64_t n, int64_t H, int relu, const double *gx,
                                 const double *gh, const double *bias_hh, double *h)
    void em_rnn_cell_bwd_float32(int64_t n, int64_t H, int relu, const float *dh, const float *h,
                                 float *dpre)
    void em_rnn_cell_bwd_float64(int64_t n, int64_t H, int relu, const double *dh,
                                 const double *h, double *dpre)
    void em_lstm_cell_fwd_float32(int64_t n, int64_t H, const float *gx, const float *gh,
                                  const float *bias_hh, float *c, float *h,
                                  float *save_act, float *save_cprev, float *save_tanhc)
    void em_lstm_cell_fwd_float64(int64_t n, int64_t H, const double *gx, const double *gh,
                                  const double *bias_hh, double *c, double *h,
                                  double *save_act, double *save_cprev, double *save_tanhc)
    void em_lstm_cell_bwd_float32(int64_t n, int64_t H, const float *dh, float *dc,
                                  const float *act, const float *cprev, const float *tanhc,
                                  float *dgates)
    void em_lstm_cell_bwd_float64(int64_t n, int64_t H, const double *dh, double *dc,
                                  const double *act, const double *cprev, const double *tanhc,
                                  double *dgates)
    void em_gru_cell_fwd_float32(int64_t n, int64_t H, const float *gx, const float *gh,
                                 const float *bias_hh, float *h, float *save_act, float *save_ghn)
    void em_gru_cell_fwd_float64(int64_t n, int64_t H, const double *gx, const double *gh,
                                 const double *bias_hh, double *h, double *save_act,
                                 double *save_ghn)
    void em_gru_cell_bwd_float32(int64_t n, int64_t H, const float *dh, const float *act,
                                 const float *ghn, const float *hprev, float *dgx, float *dgh,
                                 float *dhprev)
    void em_gru_cell_bwd_float64(int64_t n, int64_t H, const double *dh, const double *act,
                                 const double *ghn, const double *hprev, double *dgx,
                                 double *dgh, double *dhprev)

ctypedef fused real_t:
    float
    double

cdef enum:
    RNN_TANH = 0
    RNN_RELU = 1
    LSTM = 2
    GRU = 3

# Multiply-adds of a step's GEMM below which it runs on one thread: a step is short and
# sequential, so a split pays only when each half is well above the cost of a barrier.
cdef double GEMM_GRAIN = 1 << 22
# The rows of a batch are independent through the whole recurrence: above this many
# multiply-adds (all steps) and with at least MIN_PART_ROWS rows a thread, each thread
# runs every step for its own block of rows, with no synchronisation between steps.
cdef double SPLIT_GRAIN = 1 << 20
cdef int64_t MIN_PART_ROWS = 4

GATES = {RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3}


# ---------------------------------------------------------------- GEMM

cdef void gemm(char ta, int m, int n, int k, const real_t *a, int lda, const real_t *b, int ldb,
               real_t beta, real_t *c, int ldc) noexcept nogil:
    """Column-major ``C = op(A) @ B + beta * C`` (B never transposed), its ``m`` rows of C
    shared out among the threads: the row-major products of a step are transposed ones."""
    cdef int nt = em_get_num_threads(), parts, p, m0, m1, chunk
    if nt > 1 and <double>m * n * k >= GEMM_GRAIN and m >= 16 and not omp_in_parallel():
        parts = nt
    else:
        parts = 1
    if parts == 1:
        gemm_block(ta, m, n, k, a, lda, b, ldb, beta, c, ldc)
        return
    chunk = ((m + parts - 1) // parts + 7) // 8 * 8
    for p in prange(parts, nogil=True, num_threads=parts, schedule='static'):
        m0 = p * chunk
        m1 = min(m, m0 + chunk)
        if m1 > m0:
            gemm_block(ta, m1 - m0, n, k, a + (m0 * lda if ta == c'T' else m0), lda, b, ldb,
                       beta, c + m0, ldc)


cdef inline void gemm_block(char ta, int m, int n, int k, const real_t *a, int lda,
                            const real_t *b, int ldb, real_t beta, real_t *c,
                            int ldc) noexcept nogil:
    cdef char tb = c'N'
    cdef real_t one = 1
    if real_t is float:
        sgemm(&ta, &tb, &m, &n, &k, &one, <float *>a, &lda, <float *>b, &ldb, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &m, &n, &k, &one, <double *>a, &lda, <double *>b, &ldb, &beta, c, &ldc)


cdef void gemm_packed(int64_t n, const float *a, int64_t lda, const em_sgemm_packed *w,
                      int64_t k, int64_t cols, float beta, float *c, int64_t ldc) noexcept nogil:
    """Row-major ``C (n x cols) = A (n x k) @ W + beta * C`` with W packed once per sequence
    (ember's float32 GEMM), the ``n`` rows shared out among the threads when the product is
    large enough.  A row's result does not depend on the split."""
    cdef int nt = em_get_num_threads()
    if not (nt > 1 and <double>n * cols * k >= GEMM_GRAIN and not omp_in_parallel()):
        nt = 1
    em_sgemm_packed_b_rows(n, a, lda, w, beta, c, ldc, nt)


# ---------------------------------------------------------------- the loops

cdef struct Layer:
    int mode, G, T
    bint reverse
    int64_t H, P                # hidden size; size of h (P != H with projections)
    const int64_t *bs           # rows per step
    const int64_t *off          # first row of each step
    # float32 only: W_hh packed once for the whole sequence (NULL: plain GEMM calls)
    const em_sgemm_packed *w_hh_fwd     # as the right operand of hs @ W_hh^T
    const em_sgemm_packed *w_hh_bwd     # as the right operand of dgates @ W_hh


cdef inline int step_at(const Layer *L, int s) noexcept nogil:
    """The time step processed ``s``-th."""
    return L.T - 1 - s if L.reverse else s


cdef int batch_parts(const Layer *L, int64_t batch) noexcept nogil:
    """Into how many blocks of rows the batch is cut, one per thread."""
    cdef int nt = em_get_num_threads()
    cdef int64_t most = batch // MIN_PART_ROWS
    cdef double work = <double>L.T * batch * L.G * L.H * L.P
    if nt <= 1 or most < 2 or work < SPLIT_GRAIN or omp_in_parallel():
        return 1
    return <int>(nt if nt < most else most)


cdef void forward_loop(const Layer *L, int64_t batch, const real_t *gx, real_t *hs,
                       real_t *cs, const real_t *w_hh, const real_t *b_hh, const real_t *w_hr,
                       real_t *out, real_t *gh, real_t *hraw_tmp,
                       real_t *s_act, real_t *s_cprev, real_t *s_tanhc, real_t *s_hprev,
                       real_t *s_hraw, real_t *s_ghn) noexcept nogil:
    """The forward recurrence, its batch rows cut into blocks run by one thread each."""
    cdef int parts = batch_parts(L, batch), p
    cdef Layer packed = L[0]
    packed.w_hh_fwd = NULL
    packed.w_hh_bwd = NULL
    if real_t is float:
        packed.w_hh_fwd = em_sgemm_pack_b(L.P, L.G * L.H, w_hh, 1, L.P)
    if parts == 1:
        forward_rows(&packed, 0, batch, gx, hs, cs, w_hh, b_hh, w_hr, out, gh, hraw_tmp, s_act,
                     s_cprev, s_tanhc, s_hprev, s_hraw, s_ghn)
    else:
        for p in prange(parts, nogil=True, num_threads=parts, schedule='static'):
            forward_rows(&packed, p * batch // parts, (p + 1) * batch // parts, gx, hs, cs, w_hh,
                         b_hh, w_hr, out, gh, hraw_tmp, s_act, s_cprev, s_tanhc, s_hprev, s_hraw,
                         s_ghn)
    if real_t is float:
        em_sgemm_packed_free(<em_sgemm_packed *>packed.w_hh_fwd)


cdef void forward_rows(const Layer *L, int64_t r0, int64_t r1, const real_t *gx, real_t *hs,
                       real_t *cs, const real_t *w_hh, const real_t *b_hh, const real_t *w_hr,
                       real_t *out, real_t *gh, real_t *hraw_tmp,
                       real_t *s_act, real_t *s_cprev, real_t *s_tanhc, real_t *s_hprev,
                       real_t *s_hraw, real_t *s_ghn) noexcept nogil:
    """The forward recurrence of batch rows ``r0 .. r1-1`` (each row's steps depend on
    that row alone)."""
    cdef int s, t
    cdef int64_t n, row, H = L.H, P = L.P, GH = L.G * L.H
    cdef bint save = s_hprev != NULL
    cdef real_t *hraw
    # the per-row state buffers (batch, ...) start at row r0
    hs += r0 * P
    gh += r0 * GH
    if cs != NULL:
        cs += r0 * H
    if hraw_tmp != NULL:
        hraw_tmp += r0 * H
    for s in range(L.T):
        t = step_at(L, s)
        n = min(L.bs[t], r1) - r0
        if n <= 0:
            continue
        row = L.off[t] + r0
        if save:
            memcpy(s_hprev + row * P, hs, n * P * sizeof(real_t))
        if real_t is float and L.w_hh_fwd != NULL:
            gemm_packed(n, hs, P, L.w_hh_fwd, P, GH, 0, gh, GH)
        else:
            gemm(c'T', <int>GH, <int>n, <int>P, w_hh, <int>P, hs, <int>P, 0, gh, <int>GH)
        if L.mode == LSTM:
            hraw = hs if w_hr == NULL else (s_hraw + row * H if save else hraw_tmp)
            if real_t is float:
                em_lstm_cell_fwd_float32(n, H, gx + row * GH, gh, b_hh, cs, hraw,
                                         s_act + row * GH if save else NULL,
                                         s_cprev + row * H if save else NULL,
                                         s_tanhc + row * H if save else NULL)
            else:
                em_lstm_cell_fwd_float64(n, H, gx + row * GH, gh, b_hh, cs, hraw,
                                         s_act + row * GH if save else NULL,
                                         s_cprev + row * H if save else NULL,
                                         s_tanhc + row * H if save else NULL)
            if w_hr != NULL:
                gemm(c'T', <int>P, <int>n, <int>H, w_hr, <int>H, hraw, <int>H, 0, hs, <int>P)
        elif L.mode == GRU:
            if real_t is float:
                em_gru_cell_fwd_float32(n, H, gx + row * GH, gh, b_hh, hs,
                                        s_act + row * GH if save else NULL,
                                        s_ghn + row * H if save else NULL)
            else:
                em_gru_cell_fwd_float64(n, H, gx + row * GH, gh, b_hh, hs,
                                        s_act + row * GH if save else NULL,
                                        s_ghn + row * H if save else NULL)
        else:
            if real_t is float:
                em_rnn_cell_fwd_float32(n, H, L.mode == RNN_RELU, gx + row * GH, gh, b_hh, hs)
            else:
                em_rnn_cell_fwd_float64(n, H, L.mode == RNN_RELU, gx + row * GH, gh, b_hh, hs)
        memcpy(out + row * P, hs, n * P * sizeof(real_t))


cdef void backward_loop(const Layer *L, int64_t batch, const real_t *dout, real_t *dh,
                        real_t *dc, const real_t *w_hh, const real_t *w_hr, const real_t *out,
                        const real_t *s_act, const real_t *s_cprev, const real_t *s_tanhc,
                        const real_t *s_hprev, const real_t *s_ghn,
                        real_t *dgx, real_t *dgh, real_t *dh_all, real_t *dhraw) noexcept nogil:
    """The backward recurrence, its batch rows cut into blocks run by one thread each."""
    cdef int parts = batch_parts(L, batch), p
    cdef Layer packed = L[0]
    packed.w_hh_fwd = NULL
    packed.w_hh_bwd = NULL
    if real_t is float:
        packed.w_hh_bwd = em_sgemm_pack_b(L.G * L.H, L.P, w_hh, L.P, 1)
    if parts == 1:
        backward_rows(&packed, 0, batch, dout, dh, dc, w_hh, w_hr, out, s_act, s_cprev, s_tanhc,
                      s_hprev, s_ghn, dgx, dgh, dh_all, dhraw)
    else:
        for p in prange(parts, nogil=True, num_threads=parts, schedule='static'):
            backward_rows(&packed, p * batch // parts, (p + 1) * batch // parts, dout, dh, dc,
                          w_hh, w_hr, out, s_act, s_cprev, s_tanhc, s_hprev, s_ghn, dgx, dgh,
                          dh_all, dhraw)
    if real_t is float:
        em_sgemm_packed_free(<em_sgemm_packed *>packed.w_hh_bwd)


cdef void backward_rows(const Layer *L, int64_t r0, int64_t r1, const real_t *dout,
                        real_t *dh, real_t *dc, const real_t *w_hh, const real_t *w_hr,
                        const real_t *out, const real_t *s_act, const real_t *s_cprev,
                        const real_t *s_tanhc, const real_t *s_hprev, const real_t *s_ghn,
                        real_t *dgx, real_t *dgh, real_t *dh_all, real_t *dhraw) noexcept nogil:
    """The backward recurrence of batch rows ``r0 .. r1-1``."""
    cdef int s, t
    cdef int64_t n, row, j, H = L.H, P = L.P, GH = L.G * L.H
    cdef const real_t *dcell
    dh += r0 * P
    if dc != NULL:
        dc += r0 * H
    if dhraw != NULL:
        dhraw += r0 * H
    for s in range(L.T - 1, -1, -1):
        t = step_at(L, s)
        n = min(L.bs[t], r1) - r0
        if n <= 0:
            continue
        row = L.off[t] + r0
        if dout != NULL:
            for j in range(n * P):
                dh[j] += dout[row * P + j]
        if L.mode == LSTM:
            dcell = dh
            if w_hr != NULL:
                memcpy(dh_all + row * P, dh, n * P * sizeof(real_t))
                gemm(c'N', <int>H, <int>n, <int>P, w_hr, <int>H, dh, <int>P, 0, dhraw, <int>H)
                dcell = dhraw
            if real_t is float:
                em_lstm_cell_bwd_float32(n, H, dcell, dc, s_act + row * GH, s_cprev + row * H,
                                         s_tanhc + row * H, dgx + row * GH)
            else:
                em_lstm_cell_bwd_float64(n, H, dcell, dc, s_act + row * GH, s_cprev + row * H,
                                         s_tanhc + row * H, dgx + row * GH)
            if real_t is float and L.w_hh_bwd != NULL:
                gemm_packed(n, dgx + row * GH, GH, L.w_hh_bwd, GH, P, 0, dh, P)
            else:
                gemm(c'N', <int>P, <int>n, <int>GH, w_hh, <int>P, dgx + row * GH, <int>GH, 0,
                     dh, <int>P)
        elif L.mode == GRU:
            # the direct part dh * z goes to dh in place, the recurrent product adds to it
            if real_t is float:
                em_gru_cell_bwd_float32(n, H, dh, s_act + row * GH, s_ghn + row * H,
                                        s_hprev + row * H, dgx + row * GH, dgh + row * GH, dh)
            else:
                em_gru_cell_bwd_float64(n, H, dh, s_act + row * GH, s_ghn + row * H,
                                        s_hprev + row * H, dgx + row * GH, dgh + row * GH, dh)
            if real_t is float and L.w_hh_bwd != NULL:
                gemm_packed(n, dgh + row * GH, GH, L.w_hh_bwd, GH, P, 1, dh, P)
            else:
                gemm(c'N', <int>P, <int>n, <int>GH, w_hh, <int>P, dgh + row * GH, <int>GH, 1,
                     dh, <int>P)
        else:
            if real_t is float:
                em_rnn_cell_bwd_float32(n, H, L.mode == RNN_RELU, dh, out + row * H,
                                        dgx + row * GH)
            else:
                em_rnn_cell_bwd_float64(n, H, L.mode == RNN_RELU, dh, out + row * H,
                                        dgx + row * GH)
            if real_t is float and L.w_hh_bwd != NULL:
                gemm_packed(n, dgx + row * GH, GH, L.w_hh_bwd, GH, P, 0, dh, P)
            else:
                gemm(c'N', <int>P, <int>n, <int>GH, w_hh, <int>P, dgx + row * GH, <int>GH, 0,
                     dh, <int>P)


# ---------------------------------------------------------------- checks

cdef Tensor _matrix(Tensor t, str name, int dt, Py_ssize_t rows, Py_ssize_t cols):
    """``t`` checked to be a contiguous (rows, cols) matrix of dtype ``dt`` (-1: any rows)."""
    if t._dtype != dt:
        raise RuntimeError(f"rnn: expected {name} to have dtype {dtype_of(dt)}, "
                           f"but got {t.get_dtype()}")
    if t._ndim != 2 or (rows >= 0 and t._shape[0] != rows) or t._shape[1] != cols:
        want = f"({'*' if rows < 0 else rows}, {cols})"
        raise RuntimeError(f"rnn: expected {name} of shape {want}, but got {tuple(t.shape)}")
    if not t.is_contig():
        raise RuntimeError(f"rnn: {name} must be contiguous")
    return t


cdef Tensor _optional(object t, str name, int dt, Py_ssize_t rows, Py_ssize_t cols):
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"rnn: {name} must be a Tensor or None, not {type(t).__name__}")
    if cols < 0:       # a vector
        if (<Tensor>t)._dtype != dt or (<Tensor>t)._ndim != 1 or (<Tensor>t)._shape[0] != rows \
                or not (<Tensor>t).is_contig():
            raise RuntimeError(f"rnn: expected {name} to be a contiguous vector of {rows} "
                               f"elements of dtype {dtype_of(dt)}, but got shape "
                               f"{tuple(t.shape)} and dtype {t.dtype}")
        return t
    return _matrix(<Tensor>t, name, dt, rows, cols)


cdef Tensor _offsets(Tensor batch_sizes, Py_ssize_t total, Py_ssize_t batch):
    """Check ``batch_sizes`` (contiguous int64, non-increasing, positive, summing to
    ``total``, the first equal to ``batch``) and return the first row of each step."""
    cdef Py_ssize_t T, t, acc = 0
    cdef const int64_t *bs
    cdef int64_t *off
    cdef Tensor offsets
    if batch_sizes._dtype != EM_INT64 or batch_sizes._ndim != 1 or not batch_sizes.is_contig():
        raise RuntimeError("rnn: batch_sizes must be a contiguous 1-D int64 tensor")
    T = batch_sizes._shape[0]
    bs = <const int64_t *>batch_sizes.ptr()
    offsets = new_tensor(1, &T, EM_INT64, batch_sizes._storage.device)
    off = <int64_t *>offsets.ptr()
    for t in range(T):
        if bs[t] < 1 or bs[t] > batch or (t > 0 and bs[t] > bs[t - 1]):
            raise RuntimeError(f"rnn: batch_sizes must be positive, non-increasing and at most "
                               f"the batch size {batch}; got {bs[t]} at step {t}")
        off[t] = acc
        acc += bs[t]
    if acc != total or (T > 0 and bs[0] != batch):
        raise RuntimeError(f"rnn: batch_sizes (sum {acc}) do not match an input of {total} rows "
                           f"and initial states of batch {batch}")
    return offsets


cdef Tensor _new(Py_ssize_t rows, Py_ssize_t cols, int dt, Tensor like):
    cdef Py_ssize_t shape[2]
    shape[0] = rows
    shape[1] = cols
    return new_tensor(2, shape, dt, like._storage.device)


cdef inline char *_ptr(Tensor t):
    return NULL if t is None else t.ptr()


# ---------------------------------------------------------------- entry points

cdef int _host_only(tuple tensors) except -1:
    """These kernels read host memory: a device tensor must not reach them (ops.rnn runs
    the recurrence with device ops instead)."""
    for t in tensors:
        if t is not None and (<Tensor>t)._storage.device.type_num != DEV_CPU:
            raise NotImplementedError(f"rnn kernels: not implemented for device "
                                      f"{(<Tensor>t)._storage.device.type}")
    return 0


def rnn_forward(int mode, Tensor gx, Tensor h0, c0, Tensor w_hh, b_hh, w_hr,
                Tensor batch_sizes, bint reverse, bint save):
    """Run one layer and direction over a packed sequence.

    Parameters
    ----------
    mode : int
        0 Elman tanh, 1 Elman relu, 2 LSTM, 3 GRU.
    gx : Tensor
        ``(total, G * hidden)``: the input projection of every row (``b_ih`` included).
    h0 : Tensor
        ``(batch, P)``: the initial hidden state (P is the projection size, or hidden).
    c0 : Tensor or None
        ``(batch, hidden)``: the initial cell state (LSTM only).
    w_hh, b_hh, w_hr : Tensor
        ``(G * hidden, P)``, ``(G * hidden,)`` or None, ``(P, hidden)`` or None.
    batch_sizes : Tensor
        int64, rows per time step.
    reverse : bool
        Run the steps from the last to the first.
    save : bool
        Keep what backward needs.

    Returns
    -------
    tuple
        ``(output (total, P), h_n (batch, P), c_n (batch, hidden) or None, saved)``;
        ``saved`` is a tuple of buffers for :func:`rnn_backward` (None without ``save``).
    """
    _host_only((gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes))
    if mode not in GATES:
        raise ValueError(f"rnn: unknown mode {mode}")
    cdef int dt = gx._dtype, G = GATES[mode]
    if dt != EM_FLOAT32 and dt != EM_FLOAT64:
        raise RuntimeError(f"rnn: expected float32 or float64 input, got {gx.get_dtype()}")
    if gx._ndim != 2 or gx._shape[1] % G != 0:
        raise RuntimeError(f"rnn: expected the input projection as a (rows, {G} * hidden) "
                           f"matrix, got shape {tuple(gx.shape)}")
    cdef Py_ssize_t H = gx._shape[1] // G, total = gx._shape[0]
    cdef Tensor whr = _optional(w_hr, "weight_hr", dt, -1, H)
    if whr is not None and mode != LSTM:
        raise RuntimeError("rnn: projections are for LSTM only")
    cdef Py_ssize_t P = H if whr is None else whr._shape[0]
    _matrix(gx, "input projection", dt, -1, G * H)
    _matrix(h0, "hx", dt, -1, P)
    cdef Py_ssize_t B = h0._shape[0]
    cdef Tensor c_init = _optional(c0, "cx", dt, B, H)
    if (mode == LSTM) != (c_init is not None):
        raise RuntimeError("rnn: the cell state is given for an LSTM, and only for it")
    _matrix(w_hh, "weight_hh", dt, G * H, P)
    cdef Tensor bhh = _optional(b_hh, "bias_hh", dt, G * H, -1)
    cdef Tensor offsets = _offsets(batch_sizes, total, B)
    cdef Layer L
    L.mode = mode
    L.G = G
    L.T = <int>batch_sizes._shape[0]
    L.reverse = reverse
    L.H = H
    L.P = P
    L.bs = <const int64_t *>batch_sizes.ptr()
    L.off = <const int64_t *>offsets.ptr()
    cdef Tensor out = _new(total, P, dt, gx), hs = _new(B, P, dt, gx), cs = None
    cdef Tensor gh = _new(B, G * H, dt, gx), hraw_tmp = None
    cdef Tensor s_act = None, s_cprev = None, s_tanhc = None, s_hprev = None, s_hraw = None
    cdef Tensor s_ghn = None
    memcpy(hs.ptr(), h0.ptr(), B * P * (4 if dt == EM_FLOAT32 else 8))
    if mode == LSTM:
        cs = _new(B, H, dt, gx)
        memcpy(cs.ptr(), c_init.ptr(), B * H * (4 if dt == EM_FLOAT32 else 8))
        if whr is not None:
            hraw_tmp = _new(B, H, dt, gx)
    if save:
        s_hprev = _new(total, P, dt, gx)
        if mode == LSTM or mode == GRU:
            s_act = _new(total, G * H, dt, gx)
        if mode == LSTM:
            s_cprev = _new(total, H, dt, gx)
            s_tanhc = _new(total, H, dt, gx)
            if whr is not None:
                s_hraw = _new(total, H, dt, gx)
        if mode == GRU:
            s_ghn = _new(total, H, dt, gx)
    _single_threaded_blas()
    cdef char *p_gx = gx.ptr(), *p_hs = hs.ptr(), *p_cs = _ptr(cs), *p_whh = w_hh.ptr()
    cdef char *p_bhh = _ptr(bhh), *p_whr = _ptr(whr), *p_out = out.ptr(), *p_gh = gh.ptr()
    cdef char *p_tmp = _ptr(hraw_tmp), *p_act = _ptr(s_act), *p_cprev = _ptr(s_cprev)
    cdef char *p_tanhc = _ptr(s_tanhc), *p_hprev = _ptr(s_hprev), *p_hraw = _ptr(s_hraw)
    cdef char *p_ghn = _ptr(s_ghn)
    if dt == EM_FLOAT32:
        with nogil:
            forward_loop[float](&L, B, <float *>p_gx, <float *>p_hs, <float *>p_cs,
                                <float *>p_whh, <float *>p_bhh, <float *>p_whr,
                                <float *>p_out, <float *>p_gh, <float *>p_tmp,
                                <float *>p_act, <float *>p_cprev, <float *>p_tanhc,
                                <float *>p_hprev, <float *>p_hraw, <float *>p_ghn)
    else:
        with nogil:
            forward_loop[double](&L, B, <double *>p_gx, <double *>p_hs, <double *>p_cs,
                                 <double *>p_whh, <double *>p_bhh, <double *>p_whr,
                                 <double *>p_out, <double *>p_gh, <double *>p_tmp,
                                 <double *>p_act, <double *>p_cprev, <double *>p_tanhc,
                                 <double *>p_hprev, <double *>p_hraw, <double *>p_ghn)
    saved = (s_act, s_cprev, s_tanhc, s_hprev, s_hraw, s_ghn, offsets, B,
             (mode, dt, total, H, P, batch_sizes)) if save else None
    return out, hs, cs, saved


def rnn_backward(int mode, dout, dh_n, dc_n, Tensor out, Tensor w_hh, w_hr,
                 Tensor batch_sizes, bint reverse, tuple saved):
    """Gradients of one layer and direction run by :func:`rnn_forward` with ``save``.

    ``dout`` (total, P), ``dh_n`` (batch, P) and ``dc_n`` (batch, hidden) are the
    gradients of the outputs (None: zero).

    Returns
    -------
    tuple
        ``(dgx, dgh, dh0, dc0, dh_all)``: the gradients of the input projection and of
        the recurrent products plus ``b_hh`` (the same tensor except for a GRU), of the
        initial states (dc0 None but for an LSTM), and of every step's h (projection
        only, else None).  The caller forms ``dW_hh = dgh^T @ hprev`` and
        ``db_hh = dgh.sum(0)``, ``dW_hr = dh_all^T @ hraw``.
    """
    _host_only((dout, dh_n, dc_n, out, w_hh, w_hr, batch_sizes))
    cdef Tensor s_act, s_cprev, s_tanhc, s_hprev, s_hraw, s_ghn, offsets
    cdef Py_ssize_t B
    cdef int dt, G
    cdef Py_ssize_t total, H, P, GH
    s_act, s_cprev, s_tanhc, s_hprev, s_hraw, s_ghn, offsets, B, layout = saved
    # the buffers fit the forward run: the other arguments must fit it too
    saved_mode, dt, total, H, P, saved_sizes = layout
    if mode != saved_mode or batch_sizes is not saved_sizes:
        raise RuntimeError("rnn: backward called with another mode or batch_sizes than forward")
    G = GATES[mode]
    GH = G * H
    _matrix(out, "output", dt, total, P)
    _matrix(w_hh, "weight_hh", dt, GH, P)
    cdef Tensor whr = _optional(w_hr, "weight_hr", dt, P, H)
    if (whr is None) != (s_hraw is None):
        raise RuntimeError("rnn: backward called with and without a projection")
    cdef Tensor d_out = _optional(dout, "grad of output", dt, total, P)
    cdef Tensor dh = _new(B, P, dt, out), dc = None
    cdef size_t isz = 4 if dt == EM_FLOAT32 else 8
    if dh_n is None:
        memset(dh.ptr(), 0, B * P * isz)
    else:
        memcpy(dh.ptr(), _optional(dh_n, "grad of h_n", dt, B, P).ptr(), B * P * isz)
    if mode == LSTM:
        dc = _new(B, H, dt, out)
        if dc_n is None:
            memset(dc.ptr(), 0, B * H * isz)
        else:
            memcpy(dc.ptr(), _optional(dc_n, "grad of c_n", dt, B, H).ptr(), B * H * isz)
    cdef Tensor dgx = _new(total, GH, dt, out)
    cdef Tensor dgh = _new(total, GH, dt, out) if mode == GRU else dgx
    cdef Tensor dh_all = _new(total, P, dt, out) if whr is not None else None
    cdef Tensor dhraw = _new(B, H, dt, out) if whr is not None else None
    cdef Layer L
    L.mode = mode
    L.G = G
    L.T = <int>batch_sizes._shape[0]
    L.reverse = reverse
    L.H = H
    L.P = P
    L.bs = <const int64_t *>batch_sizes.ptr()
    L.off = <const int64_t *>offsets.ptr()
    _single_threaded_blas()
    cdef char *p_dout = _ptr(d_out), *p_dh = dh.ptr(), *p_dc = _ptr(dc), *p_whh = w_hh.ptr()
    cdef char *p_whr = _ptr(whr), *p_out = out.ptr(), *p_act = _ptr(s_act)
    cdef char *p_cprev = _ptr(s_cprev), *p_tanhc = _ptr(s_tanhc), *p_hprev = _ptr(s_hprev)
    cdef char *p_ghn = _ptr(s_ghn), *p_dgx = dgx.ptr(), *p_dgh = dgh.ptr()
    cdef char *p_dh_all = _ptr(dh_all), *p_dhraw = _ptr(dhraw)
    if dt == EM_FLOAT32:
        with nogil:
            backward_loop[float](&L, B, <float *>p_dout, <float *>p_dh, <float *>p_dc,
                                 <float *>p_whh, <float *>p_whr, <float *>p_out,
                                 <float *>p_act, <float *>p_cprev, <float *>p_tanhc,
                                 <float *>p_hprev, <float *>p_ghn, <float *>p_dgx,
                                 <float *>p_dgh, <float *>p_dh_all, <float *>p_dhraw)
    else:
        with nogil:
            backward_loop[double](&L, B, <double *>p_dout, <double *>p_dh, <double *>p_dc,
                                  <double *>p_whh, <double *>p_whr, <double *>p_out,
                                  <double *>p_act, <double *>p_cprev, <double *>p_tanhc,
                                  <double *>p_hprev, <double *>p_ghn, <double *>p_dgx,
                                  <double *>p_dgh, <double *>p_dh_all, <double *>p_dhraw)
    return dgx, dgh, dh, dc, dh_all
