"""The three discrete Fourier transform primitives behind ``ember.fft``, and their
derivatives.

As in PyTorch, every public transform (``fft``, ``rfft2``, ``hfftn``, ...) is a
few views and one or two of these primitives:

* ``fft_c2c(x, dims, norm, forward)``: complex to complex;
* ``fft_r2c(x, dims, norm, onesided)``: real to complex, the forward direction,
  keeping only the non-negative frequencies of the last dim when ``onesided``;
* ``fft_c2r(x, dims, norm, last_dim_size)``: a Hermitian half-spectrum to a real
  signal, the inverse direction.

``norm`` is the scaling the primitive applies: ``NORM_NONE``, ``NORM_SQRT``
(``1/sqrt(n)``) or ``NORM_N`` (``1/n``), with ``n`` the signal size.  The
transforms are computed by :mod:`scipy.fft` (pocketfft) on NumPy views of the
tensors, with ember's thread count as ``workers``; the result array becomes the
output tensor without a copy.  The backward formulas are PyTorch's, written with
ember ops so that double backward works.
"""
import functools
import threading

import numpy as np
import scipy.fft

from ember._core import _tensor as _core
from ember._core._index import cat
from ember._core._tensor import _recorded, from_numpy, get_num_threads, record
from ember.ops.derivatives import derivative

__all__ = ["NORM_NONE", "NORM_SQRT", "NORM_N", "fft_c2c", "fft_r2c", "fft_c2r"]

NORM_NONE, NORM_SQRT, NORM_N = 0, 1, 2

# scipy's ``norm`` for each (scaling, direction): a forward transform is unscaled
# under "backward", an inverse one under "forward"
_SCIPY_NORM = {
    (NORM_NONE, True): "backward", (NORM_SQRT, True): "ortho", (NORM_N, True): "forward",
    (NORM_NONE, False): "forward", (NORM_SQRT, False): "ortho", (NORM_N, False): "backward",
}


def _array(x):
    """A NumPy view of ``x`` (a copy only for layouts NumPy cannot describe)."""
    return np.asarray(x.detach())


def _tensor_of(array):
    return from_numpy(np.require(array, requirements="C"))


def _wants_grad(x):
    return _recorded(x)


# ---------------------------------------------------------------- the primitives

def _c2c_raw(x, dims, norm, forward):
    a = _array(x)
    fn = scipy.fft.fftn if forward else scipy.fft.ifftn
    return _tensor_of(fn(a, axes=dims, norm=_SCIPY_NORM[norm, forward],
                         workers=get_num_threads()))


def fft_c2c(x, dims, norm, forward):
    """Complex-to-complex DFT of ``x`` over ``dims`` (a tuple of non-negative dims)."""
    if _wants_grad(x):
        return record("fft_c2c", _c2c_raw, (x, dims, norm, forward))
    return _c2c_raw(x, dims, norm, forward)


def _r2c_raw(x, dims, norm, onesided):
    a = _array(x)
    workers = get_num_threads()
    if (onesided and dims == (a.ndim - 1,) and a.dtype in (np.float32, np.float64)
            and a.shape[-1] % 4 == 0 and a.shape[-1] >= _SPLIT_MIN
            and workers > 1 and a.size // a.shape[-1] < workers):
        return _tensor_of(_split_rfft(a, norm, workers))
    fn = scipy.fft.rfftn if onesided else scipy.fft.fftn
    return _tensor_of(fn(a, axes=dims, norm=_SCIPY_NORM[norm, True], workers=workers))


# pocketfft runs one long transform on one thread (and a batch of two in one SIMD pass):
# from this length on, a signal's real FFT along its last dim is split into two of half
# the length, run on two threads (below, the combining pass and the thread cost more
# than the second thread gains)
_SPLIT_MIN = 2**16


@functools.lru_cache(maxsize=8)
def _half_twiddles(n, dtype):
    """``exp(-2j pi k / n)`` for k in [0, n/4]."""
    return np.exp(-2j * np.pi * np.arange(n // 4 + 1) / n).astype(dtype)


def _split_rfft(a, norm, workers):
    """The real FFT of ``a`` along its last dim (``n`` points, a multiple of 4), as two
    real FFTs of its even and odd samples run side by side on two threads,
    combined by the decimation-in-time step: with E and O their spectra and
    W = exp(-2j pi k / n), X[k] = E[k] + W[k] O[k] and X[n/2 - k] = conj(E[k] - W[k] O[k])
    for k in [0, n/4]."""
    n = a.shape[-1]
    quarter = n // 4
    # a thread of its own for the odd samples (started per call: nothing to go stale in a
    # forked child); scipy releases the GIL while it transforms
    spectra = {}

    def transform_odd():
        try:
            spectra["odd"] = scipy.fft.rfft(a[..., 1::2], axis=-1, workers=workers // 2)
        except BaseException as error:     # raised again in the caller's thread
            spectra["error"] = error

    helper = threading.Thread(target=transform_odd)
    helper.start()
    try:
        even = scipy.fft.rfft(a[..., 0::2], axis=-1, workers=workers - workers // 2)
    finally:
        helper.join()
    if "error" in spectra:
        raise spectra["error"]
    odd = spectra["odd"]
    product = odd * _half_twiddles(n, odd.dtype)
    out = np.empty(a.shape[:-1] + (n // 2 + 1,), dtype=odd.dtype)
    np.add(even, product, out=out[..., :quarter + 1])
    np.subtract(even, product, out=product)
    np.conjugate(product[..., ::-1], out=out[..., quarter:])
    if norm != NORM_NONE:
        out *= 1 / (np.sqrt(n) if norm == NORM_SQRT else n)
    return out


def fft_r2c(x, dims, norm, onesided):
    """Forward DFT of the real ``x`` over ``dims``; with ``onesided`` the last of
    ``dims`` keeps its ``n // 2 + 1`` non-negative frequencies."""
    if _wants_grad(x):
        return record("fft_r2c", _r2c_raw, (x, dims, norm, onesided))
    return _r2c_raw(x, dims, norm, onesided)


def _c2r_raw(x, dims, norm, last_dim_size):
    a = _array(x)
    sizes = [a.shape[d] for d in dims[:-1]] + [last_dim_size]
    return _tensor_of(scipy.fft.irfftn(a, s=sizes, axes=dims, norm=_SCIPY_NORM[norm, False],
                                       workers=get_num_threads()))


def fft_c2r(x, dims, norm, last_dim_size):
    """Inverse DFT of the Hermitian half-spectrum ``x`` over ``dims`` to a real signal
    whose last transformed dim has ``last_dim_size`` points."""
    if _wants_grad(x):
        return record("fft_c2r", _c2r_raw, (x, dims, norm, last_dim_size))
    return _c2r_raw(x, dims, norm, last_dim_size)


# ---------------------------------------------------------------- derivatives
# The adjoint of a DFT is the DFT of the other direction with the same scaling.

@derivative("fft_c2c", node="FftC2CBackward0", save_inputs=False)
def _fft_c2c_backward(ctx, grad, x, dims, norm, forward):
    return fft_c2c(grad, dims, norm, not forward)


@derivative("fft_r2c", node="FftR2CBackward0", save_inputs=False)
def _fft_r2c_backward(ctx, grad, x, dims, norm, onesided):
    if onesided:
        # the dropped negative frequencies get a zero gradient
        last = dims[-1]
        missing = x.shape[last] - grad.shape[last]
        if missing > 0:
            shape = list(grad.shape)
            shape[last] = missing
            grad = cat([grad, _core.zeros(shape, dtype=grad.dtype, device=grad.device)], last)
    return fft_c2c(grad, dims, norm, False).real


@derivative("fft_c2r", node="FftC2RBackward0", save_inputs=False)
def _fft_c2r_backward(ctx, grad, x, dims, norm, last_dim_size):
    half = fft_r2c(grad, dims, norm, True)
    # every frequency strictly between 0 and the Nyquist one stands for two of the full
    # spectrum (itself and its conjugate): its gradient counts twice
    last = dims[-1]
    doubled = last_dim_size - half.shape[last]
    if doubled > 0:
        weight = [1.0] + [2.0] * doubled + [1.0] * (half.shape[last] - 1 - doubled)
        shape = [1] * half.dim()
        shape[last] = half.shape[last]
        half = half * _core.tensor(weight, dtype=grad.dtype).reshape(shape)
    return half
