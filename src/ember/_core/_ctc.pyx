"""Connectionist temporal classification: the loss and its gradient in one pass.

The forward (alpha) and backward (beta) recursions of Graves et al. (2006) run in
log space over the extended target ``l'`` (a blank before, between and after the
labels), one sample per OpenMP thread (on a device: ``ctc_loss`` of
``ember.cuda._nn_fused``, after the same checks).  The gradient with respect to the log
probabilities follows eq. (16) of the paper, exactly as PyTorch's CPU kernel
computes it, so that losses and gradients agree to rounding.
"""
import numpy as np

from cython.parallel cimport prange
from libc.math cimport exp, expf, log, logf, INFINITY
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free

from ember._core._dtype cimport EM_FLOAT32, EM_FLOAT64
from ember._core._tensor cimport Tensor, new_tensor, em_get_num_threads, DEV_CPU
from ember._core._tensor import backend as _backend

ctypedef fused real:
    float
    double


cdef inline real _exp(real x) noexcept nogil:
    if real is float:
        return expf(x)
    else:
        return exp(x)


cdef inline real _log(real x) noexcept nogil:
    if real is float:
        return logf(x)
    else:
        return log(x)


cdef inline real _logaddexp3(real a, real b, real c) noexcept nogil:
    cdef real m = a
    if b > m:
        m = b
    if c > m:
        m = c
    if m == -INFINITY:
        m = 0
    return _log(_exp(a - m) + _exp(b - m) + _exp(c - m)) + m


cdef inline int64_t _prime(const int64_t *target, Py_ssize_t s, int64_t blank) noexcept nogil:
    """Label ``s`` of the extended target: blanks at even positions."""
    return blank if s % 2 == 0 else target[s // 2]


cdef int _ctc_sample(const real *lp, Py_ssize_t row, Py_ssize_t num_classes,
                     const int64_t *target, Py_ssize_t target_length,
                     Py_ssize_t input_length, Py_ssize_t max_input_length, int64_t blank,
                     bint zero_infinity, real *nll_out, real *grad) noexcept nogil:
    """Loss of one sample; with ``grad`` (its (T, C) slice, rows ``row`` apart) also
    d loss / d log_probs.  ``lp`` points at this sample's (T, C) slice.  Returns -1
    when out of memory."""
    cdef Py_ssize_t S = 2 * target_length + 1
    cdef Py_ssize_t t, s, c
    cdef int64_t cur
    cdef real a1, a2, a3, nll, lab, acc, m, g
    cdef real *la
    cdef real *lb
    cdef real *gt
    if input_length == 0:
        nll = 0 if target_length == 0 else INFINITY
        if zero_infinity and nll == INFINITY:
            nll = 0
        nll_out[0] = nll
        if grad != NULL:
            for t in range(max_input_length):
                for c in range(num_classes):
                    grad[t * row + c] = 0
        return 0
    la = <real *>malloc(input_length * S * sizeof(real))
    if la == NULL:
        return -1
    # alpha: the first column (above eq. 6), then the recursion (eq. 6, 7)
    la[0] = lp[blank]
    for s in range(1, S):
        la[s] = -INFINITY
    if target_length > 0:
        la[1] = lp[target[0]]
    for t in range(1, input_length):
        for s in range(S):
            cur = _prime(target, s, blank)
            a1 = la[(t - 1) * S + s]
            a2 = la[(t - 1) * S + s - 1] if s > 0 else -INFINITY
            if s > 1 and _prime(target, s - 2, blank) != cur:
                a3 = la[(t - 1) * S + s - 2]
            else:
                a3 = -INFINITY
            la[t * S + s] = _logaddexp3(a1, a2, a3) + lp[t * row + cur]
    if target_length == 0:
        nll = -la[(input_length - 1) * S]
    else:
        nll = -_logaddexp3(la[(input_length - 1) * S + S - 1],
                           la[(input_length - 1) * S + S - 2], <real>-INFINITY)
    nll_out[0] = 0 if (zero_infinity and nll == INFINITY) else nll
    if grad == NULL:
        free(la)
        return 0
    if zero_infinity and nll == INFINITY:
        free(la)
        for t in range(max_input_length):
            for c in range(num_classes):
                grad[t * row + c] = 0
        return 0
    lb = <real *>malloc(input_length * S * sizeof(real))
    if lb == NULL:
        free(la)
        return -1
    # grad holds log(sum over s with l'_s = c of alpha_t(s) beta_t(s)) until the end
    for t in range(input_length):
        for c in range(num_classes):
            grad[t * row + c] = -INFINITY
    t = input_length - 1
    for s in range(S):
        lb[t * S + s] = -INFINITY
    lb[t * S + S - 1] = lp[t * row + blank]
    grad[t * row + blank] = la[t * S + S - 1] + lb[t * S + S - 1]
    if target_length > 0:
        cur = _prime(target, S - 2, blank)
        lb[t * S + S - 2] = lp[t * row + cur]
        grad[t * row + cur] = la[t * S + S - 2] + lb[t * S + S - 2]
    for t in range(input_length - 2, -1, -1):
        for s in range(S - 1, -1, -1):
            cur = _prime(target, s, blank)
            a1 = lb[(t + 1) * S + s]
            a2 = lb[(t + 1) * S + s + 1] if s < S - 1 else -INFINITY
            if s < S - 2 and _prime(target, s + 2, blank) != cur:
                a3 = lb[(t + 1) * S + s + 2]
            else:
                a3 = -INFINITY
            lb[t * S + s] = _logaddexp3(a1, a2, a3) + lp[t * row + cur]
            lab = la[t * S + s] + lb[t * S + s]
            acc = grad[t * row + cur]
            if acc == -INFINITY:
                grad[t * row + cur] = lab
            else:
                m = acc if acc > lab else lab
                grad[t * row + cur] = _log(_exp(acc - m) + _exp(lab - m)) + m
    # eq. (16): d nll / d log y_t(c) = y_t(c) - exp(log sum alpha beta + nll - log y_t(c))
    for t in range(input_length):
        for c in range(num_classes):
            g = grad[t * row + c]
            grad[t * row + c] = _exp(lp[t * row + c]) - _exp(g + nll - lp[t * row + c])
    for t in range(input_length, max_input_length):
        for c in range(num_classes):
            grad[t * row + c] = 0
    free(la)
    free(lb)
    return 0


cdef int _ctc_batch(const real *lp, Py_ssize_t T, Py_ssize_t N, Py_ssize_t C,
                    const int64_t *targets, const int64_t *offsets,
                    const int64_t *input_lengths, const int64_t *target_lengths,
                    int64_t blank, bint zero_infinity, real *nll, real *grad,
                    int num_threads) noexcept nogil:
    cdef Py_ssize_t b
    cdef int failed = 0
    for b in prange(N, num_threads=num_threads, schedule="dynamic"):
        if _ctc_sample(lp + b * C, N * C, C, targets + offsets[b], target_lengths[b],
                       input_lengths[b], T, blank, zero_infinity, nll + b,
                       (grad + b * C) if grad != NULL else NULL) != 0:
            failed += 1          # a reduction: an assignment would be lastprivate
    return -1 if failed else 0


def _lengths(values, str name, Py_ssize_t batch):
    """``values`` (a sequence or integer array) as a contiguous int64 array of ``batch``."""
    arr = np.ascontiguousarray(np.asarray(values).reshape(-1))
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral, got dtype {arr.dtype}")
    if arr.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size ({batch}), got {arr.shape[0]}")
    return arr.astype(np.int64, copy=False)


def ctc_loss(Tensor log_probs, targets, input_lengths, target_lengths, int64_t blank,
             bint zero_infinity, bint need_grad):
    """Negative log likelihood of each sample, and its gradient.

    Parameters
    ----------
    log_probs : Tensor
        (T, N, C) log probabilities, float32 or float64.
    targets : array_like of int
        (N, S) padded targets, or the targets of all samples concatenated (1-D).
    input_lengths, target_lengths : array_like of int
        (N,) lengths.
    blank : int
        The blank label.
    zero_infinity : bool
        Replace infinite losses (impossible alignments) and their gradients by zero.
    need_grad : bool
        Also compute the gradient of each sample's loss with respect to
        ``log_probs``.

    Returns
    -------
    tuple of Tensor
        The (N,) losses and the (T, N, C) gradient (None without ``need_grad``).
    """
    if log_probs._ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 3-D (T, N, C), got "
                           f"{log_probs._ndim}-D")
    if log_probs._dtype != EM_FLOAT32 and log_probs._dtype != EM_FLOAT64:
        raise RuntimeError(f"\"ctc_loss_{log_probs._storage.device.type}\" not implemented "
                           f"for '{log_probs.dtype}'")
    cdef Py_ssize_t T = log_probs._shape[0], N = log_probs._shape[1], C = log_probs._shape[2]
    if not 0 <= blank < C:
        raise RuntimeError(f"blank must be in label range [0, {C}), got {blank}")
    tg = np.asarray(targets)
    if tg.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: targets must be integral, got dtype {tg.dtype}")
    cdef int64_t[::1] il = _lengths(input_lengths, "input_lengths", N)
    cdef int64_t[::1] tl = _lengths(target_lengths, "target_lengths", N)
    cdef int64_t[::1] offsets = np.zeros(N, dtype=np.int64)
    cdef Py_ssize_t b, pos = 0
    for b in range(N):
        if tl[b] < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got "
                               f"value {tl[b]} (sample {b})")
        if il[b] < 0 or il[b] > T:
            raise RuntimeError(f"Expected input_lengths to have value in [0, {T}], but got "
                               f"value {il[b]} (sample {b})")
    if tg.ndim == 1:
        for b in range(N):
            offsets[b] = pos
            pos += tl[b]
        if tg.shape[0] != pos:
            raise RuntimeError(f"ctc_loss: concatenated targets have {tg.shape[0]} labels but "
                               f"target_lengths sum to {pos}")
        flat = np.ascontiguousarray(tg, dtype=np.int64)
        used = flat
    elif tg.ndim == 2:
        if tg.shape[0] != N:
            raise RuntimeError(f"ctc_loss: expected targets of batch size {N}, got "
                               f"{tg.shape[0]}")
        if N and tg.shape[1] < max(tl):
            raise RuntimeError(f"Expected targets to have size at least {max(tl)} at "
                               f"dimension 1, but got size {tg.shape[1]}")
        flat = np.ascontiguousarray(tg, dtype=np.int64).reshape(-1)
        for b in range(N):
            offsets[b] = b * tg.shape[1]
        used = np.concatenate([flat[offsets[b]:offsets[b] + tl[b]] for b in range(N)]) \
            if N else flat
    else:
        raise RuntimeError(f"ctc_loss: expected targets to be 1-D or 2-D, got {tg.ndim}-D")
    if used.size and (used.min() < 0 or used.max() >= C):
        bad = used[(used < 0) | (used >= C)][0]
        raise IndexError(f"ctc_loss: target label {bad} is out of range for {C} classes")
    log_probs = log_probs.contiguous()
    if log_probs._storage.device.type_num != DEV_CPU:
        # the checked targets and lengths go to the device's kernels
        return _backend(log_probs._storage.device.type).nn_fused(
            "ctc_loss", log_probs, flat, np.asarray(offsets), np.asarray(il), np.asarray(tl),
            blank, zero_infinity, need_grad)
    cdef int64_t[::1] tv = flat if flat.size else np.zeros(1, dtype=np.int64)
    cdef Py_ssize_t nll_shape[1]
    nll_shape[0] = N
    cdef Tensor nll = new_tensor(1, nll_shape, log_probs._dtype, log_probs._storage.device)
    cdef Tensor grad = None
    if need_grad:
        grad = new_tensor(3, log_probs._shape, log_probs._dtype, log_probs._storage.device)
    if N == 0:
        if need_grad:
            grad.zero_()
        return nll, grad
    cdef int threads = em_get_num_threads()
    cdef int status
    if threads > N:
        threads = N
    cdef char *lp_data = log_probs.ptr()
    cdef char *nll_data = nll.ptr()
    cdef char *grad_data = grad.ptr() if need_grad else NULL
    if log_probs._dtype == EM_FLOAT32:
        with nogil:
            status = _ctc_batch(<const float *>lp_data, T, N, C, &tv[0], &offsets[0], &il[0],
                                &tl[0], blank, zero_infinity, <float *>nll_data,
                                <float *>grad_data, threads)
    else:
        with nogil:
            status = _ctc_batch(<const double *>lp_data, T, N, C, &tv[0], &offsets[0], &il[0],
                                &tl[0], blank, zero_infinity, <double *>nll_data,
                                <double *>grad_data, threads)
    if status != 0:
        raise MemoryError("ctc_loss: out of memory for the alpha/beta tables")
    return nll, grad
