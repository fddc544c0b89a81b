# cython: embedsignature=False
"""The int8 GEMM of ``qgemm.c`` for ``ember.quantization``.

``PackedWeight`` packs an int8 weight ``(out_features, in_features)`` once into
the kernels' panel layout.  ``qgemm_s32`` gives the exact int32 product of a
uint8 matrix with it (for tests and references); ``qgemm`` applies the
dequantizing epilogue (activation scale and zero point, per-channel weight
scales, bias) giving float32, or requantizes to uint8 (static quantization,
ReLU fused); ``linear_dynamic`` quantizes float32 rows with parameters chosen
from their own range and multiplies in one call (dynamic quantization).
Inputs are checked here: C never sees a shape or dtype it was not promised.
"""
from libc.stdint cimport uint8_t, int8_t, int32_t

from ember._core._dtype cimport EM_UINT8, EM_INT8, EM_INT32, EM_FLOAT32
from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU

import ember


cdef extern from "ember/qgemm.h" nogil:
    enum:
        EM_QGEMM_MAX_K
    ctypedef struct em_qgemm_packed:
        pass
    ctypedef struct em_qgemm_epilogue:
        float a_scale
        int32_t a_zero
        const float *w_scale
        const float *bias
        float *out_f32
        uint8_t *out_u8
        float out_scale
        int32_t out_zero
        int relu
        Py_ssize_t ldo
    em_qgemm_packed *em_qgemm_pack(Py_ssize_t n, Py_ssize_t k, const int8_t *w,
                                   Py_ssize_t w_rs, Py_ssize_t w_cs)
    void em_qgemm_packed_free(em_qgemm_packed *packed)
    const int32_t *em_qgemm_col_sums(const em_qgemm_packed *packed)
    void em_qgemm_s32(Py_ssize_t m, const uint8_t *a, Py_ssize_t lda,
                      const em_qgemm_packed *w, int32_t *c, Py_ssize_t ldc)
    void em_qgemm(Py_ssize_t m, const uint8_t *a, Py_ssize_t lda, const em_qgemm_packed *w,
                  const em_qgemm_epilogue *ep)
    void em_qgemm_choose_params(float lo, float hi, float *scale, int32_t *zero)
    int em_qlinear_dynamic(Py_ssize_t m, const float *x, Py_ssize_t ldx,
                           const em_qgemm_packed *w, const float *w_scale, const float *bias,
                           float *out, Py_ssize_t ldo)
    const char *em_qgemm_kernel_name()
    int em_qgemm_set_kernel(const char *name)


cdef dict DTYPE_NAMES = {EM_UINT8: "uint8", EM_INT8: "int8", EM_FLOAT32: "float32"}


cdef Tensor matrix(object t, str what, int dt, int ndim):
    """``t`` as a C-contiguous CPU tensor of dtype ``dt`` and ``ndim`` dims (no casts:
    a wrong dtype is the caller's error)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a Tensor, but got {type(t).__name__}")
    cdef Tensor x = <Tensor>t
    if x._storage.device.type_num != DEV_CPU:
        raise RuntimeError(f"{what} must be on the CPU, but got device {x._storage.device}")
    if x._dtype != dt:
        raise RuntimeError(f"{what} must have dtype ember.{DTYPE_NAMES[dt]}, but got {x.dtype}")
    if x._ndim != ndim:
        raise RuntimeError(f"{what} must be {ndim}-D, but got shape {tuple(x.shape)}")
    if not x.is_contig():
        x = <Tensor>x.contiguous()
    return x


cdef Tensor empty2d(Py_ssize_t rows, Py_ssize_t cols, int dt):
    cdef Py_ssize_t shape[2]
    shape[0] = rows
    shape[1] = cols
    return new_tensor(2, shape, dt, ember.device("cpu"))


cdef class PackedWeight:
    """An int8 weight ``(out_features, in_features)`` packed for the int8 GEMM."""
    cdef em_qgemm_packed *packed
    cdef readonly Py_ssize_t out_features, in_features

    def __cinit__(self, weight):
        cdef Tensor w = matrix(weight, "weight", EM_INT8, 2)
        self.out_features = w._shape[0]
        self.in_features = w._shape[1]
        if self.in_features > EM_QGEMM_MAX_K:
            raise ValueError(f"the int8 GEMM sums at most {EM_QGEMM_MAX_K} products exactly in "
                             f"int32, but the weight has in_features={self.in_features}")
        self.packed = em_qgemm_pack(w._shape[0], w._shape[1], <const int8_t *>w.ptr(),
                                    w._shape[1], 1)
        if self.packed == NULL:
            raise MemoryError(f"cannot pack an int8 weight of shape {tuple(w.shape)}")

    def __dealloc__(self):
        em_qgemm_packed_free(self.packed)

    def col_sums(self):
        """Each output channel's sum of weights (int32 tensor of ``out_features``)."""
        cdef Tensor out = empty2d(1, self.out_features, EM_INT32)
        cdef const int32_t *sums = em_qgemm_col_sums(self.packed)
        cdef int32_t *dst = <int32_t *>out.ptr()
        cdef Py_ssize_t j
        for j in range(self.out_features):
            dst[j] = sums[j]
        return out.reshape(self.out_features)


cdef Tensor activation(object a, PackedWeight w, str what, int dt):
    cdef Tensor x = matrix(a, what, dt, 2)
    if x._shape[1] != w.in_features:
        raise RuntimeError(f"{what} of shape {tuple(x.shape)} cannot be multiplied by a weight "
                           f"of shape ({w.out_features}, {w.in_features})")
    return x


cdef Tensor channel_vector(object t, str what, PackedWeight w):
    if t is None:
        return None
    cdef Tensor v = matrix(t, what, EM_FLOAT32, 1)
    if v._shape[0] != w.out_features:
        raise RuntimeError(f"{what} must have {w.out_features} elements (one per output "
                           f"channel), but got {v._shape[0]}")
    return v


def qgemm_s32(a, PackedWeight weight):
    """The exact int32 product ``a @ weight.T`` of a uint8 matrix ``a`` ``(m, k)``."""
    cdef Tensor x = activation(a, weight, "a", EM_UINT8)
    cdef Tensor out = empty2d(x._shape[0], weight.out_features, EM_INT32)
    cdef const uint8_t *ap = <const uint8_t *>x.ptr()
    cdef int32_t *cp = <int32_t *>out.ptr()
    with nogil:
        em_qgemm_s32(x._shape[0], ap, x._shape[1], weight.packed, cp, weight.out_features)
    return out


def qgemm(a, double a_scale, int a_zero, PackedWeight weight, w_scale, bias=None,
          out_scale=None, int out_zero=0, bint relu=False):
    """``a_scale * w_scale * (a - a_zero) @ weight.T + bias`` of a uint8 ``a`` as float32,
    or, with ``out_scale``, requantized to uint8 (``out_zero``; ``relu`` clamps at it)."""
    cdef Tensor x = activation(a, weight, "a", EM_UINT8)
    cdef Tensor scales = channel_vector(w_scale, "w_scale", weight)
    cdef Tensor b = channel_vector(bias, "bias", weight)
    cdef em_qgemm_epilogue ep
    cdef Tensor out
    if not 0 <= a_zero <= 255:
        raise ValueError(f"a_zero must be in [0, 255] for uint8 activations, got {a_zero}")
    ep.a_scale = a_scale
    ep.a_zero = a_zero
    ep.w_scale = <const float *>scales.ptr()
    ep.bias = <const float *>b.ptr() if b is not None else NULL
    ep.ldo = weight.out_features
    ep.relu = relu
    if out_scale is None:
        out = empty2d(x._shape[0], weight.out_features, EM_FLOAT32)
        ep.out_f32 = <float *>out.ptr()
        ep.out_u8 = NULL
    else:
        if not out_scale > 0 or not 0 <= out_zero <= 255:
            raise ValueError(f"out_scale must be positive and out_zero in [0, 255], got "
                             f"{out_scale} and {out_zero}")
        out = empty2d(x._shape[0], weight.out_features, EM_UINT8)
        ep.out_f32 = NULL
        ep.out_u8 = <uint8_t *>out.ptr()
        ep.out_scale = out_scale
        ep.out_zero = out_zero
    cdef const uint8_t *ap = <const uint8_t *>x.ptr()
    with nogil:
        em_qgemm(x._shape[0], ap, x._shape[1], weight.packed, &ep)
    return out


def linear_dynamic(x, PackedWeight weight, w_scale, bias=None):
    """``x @ dequantized(weight).T + bias`` for float32 ``x`` ``(m, k)`` with ``x``
    quantized to uint8 per call (its own range)."""
    cdef Tensor inp = activation(x, weight, "input", EM_FLOAT32)
    cdef Tensor scales = channel_vector(w_scale, "w_scale", weight)
    cdef Tensor b = channel_vector(bias, "bias", weight)
    cdef Tensor out = empty2d(inp._shape[0], weight.out_features, EM_FLOAT32)
    cdef int rc
    cdef const float *xp = <const float *>inp.ptr()
    cdef const float *sp = <const float *>scales.ptr()
    cdef const float *bp = <const float *>b.ptr() if b is not None else NULL
    cdef float *op = <float *>out.ptr()
    with nogil:
        rc = em_qlinear_dynamic(inp._shape[0], xp, inp._shape[1], weight.packed, sp, bp, op,
                                weight.out_features)
    if rc != 0:
        raise MemoryError(f"out of memory quantizing an input of shape {tuple(inp.shape)}")
    return out


def choose_qparams(double lo, double hi):
    """``(scale, zero_point)`` of uint8 values covering ``[min(lo, 0), max(hi, 0)]``."""
    cdef float scale
    cdef int32_t zero
    em_qgemm_choose_params(lo, hi, &scale, &zero)
    return scale, zero


def _qgemm_kernel_name():
    """The micro-kernel the int8 GEMM uses ("avx512_vnni", "avx2" or "generic")."""
    return em_qgemm_kernel_name().decode()


def _set_qgemm_kernel(str name):
    """Use the named int8 micro-kernel; returns the previous name.  For tests and
    benchmarks: the default is the fastest this CPU runs."""
    previous = _qgemm_kernel_name()
    if em_qgemm_set_kernel(name.encode()) != 0:
        raise ValueError(f"int8 GEMM kernel {name!r} is unknown or not supported by this CPU")
    return previous
