"""Sample frequencies and spectrum shifts of ``ember.fft``."""
import math
import operator

import ember

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _frequency_dtype(dtype, fname):
    dtype = ember.get_default_dtype() if dtype is None else dtype
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{fname}: expected a floating point or complex dtype, but got "
                           f"{dtype}")
    return dtype


def _check_n(n, fname):
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{fname}(): argument 'n' must be int, not {type(n).__name__}") from None
    if n < 0:
        raise RuntimeError(f"{fname}: n must be non-negative, but got {n}")
    return n


def _spacing(n, d):
    """``1 / (n * d)``, infinite for an empty signal or a zero spacing (as PyTorch)."""
    return 1.0 / (n * d) if n * d != 0 else math.inf


def _finish(result, out, requires_grad):
    if out is not None:
        result = ember.mul(result, 1, out=out)
    if requires_grad:
        result.requires_grad_(True)
    return result


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """The sample frequencies of a signal of ``n`` points spaced ``d`` apart.

    ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)``: the frequency of
    each term of :func:`fft`'s output.

    Parameters
    ----------
    n : int
        The signal length.
    d : float
        The sample spacing (the inverse of the sampling rate).
    out : Tensor, optional
        Tensor to write the result into.
    dtype : ember.dtype, optional
        Result dtype (default: the default float dtype).
    layout, device : optional
        As for :func:`ember.arange`.
    requires_grad : bool
        Whether the result requires grad.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.fft.fftfreq(5)
    tensor([ 0.0000,  0.2000,  0.4000, -0.4000, -0.2000])
    """
    ember._core._tensor._check_layout(layout, "fftfreq")
    n = _check_n(n, "fftfreq")
    dtype = _frequency_dtype(dtype, "fftfreq")
    result = ember.arange(n, dtype=dtype, device=device)
    negative = n // 2
    if negative:
        result[n - negative:] = ember.arange(-negative, 0, dtype=dtype, device=device)
    return _finish(result * _spacing(n, d), out, requires_grad)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """The sample frequencies of :func:`rfft`'s output for a signal of ``n`` points.

    ``[0, 1, ..., n // 2] / (d * n)``.

    Parameters
    ----------
    n : int
        The signal length.
    d : float
        The sample spacing (the inverse of the sampling rate).
    out : Tensor, optional
        Tensor to write the result into.
    dtype : ember.dtype, optional
        Result dtype (default: the default float dtype).
    layout, device : optional
        As for :func:`ember.arange`.
    requires_grad : bool
        Whether the result requires grad.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.fft.rfftfreq(5)
    tensor([0.0000, 0.2000, 0.4000])
    """
    ember._core._tensor._check_layout(layout, "rfftfreq")
    n = _check_n(n, "rfftfreq")
    dtype = _frequency_dtype(dtype, "rfftfreq")
    result = ember.arange(n // 2 + 1, dtype=dtype, device=device)
    return _finish(result * _spacing(n, d), out, requires_grad)


def _shift(input, dim, inverse, fname):
    if not isinstance(input, ember.Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if dim is None:
        dims = list(range(input.dim()))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
    if not dims:
        raise RuntimeError(f"{fname}: `shifts` required: no dims to shift for a "
                           f"{input.dim()}-d input")
    shape = input.shape
    ndim = input.dim()
    shifts = []
    for d in dims:
        if ndim == 0 or not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        n = shape[d]
        shifts.append((n + 1) // 2 if inverse else n // 2)
    return ember.roll(input, shifts, dims)


def fftshift(input, dim=None):
    """Move the zero frequency of a spectrum (as :func:`fft` lays it out) to the
    centre of ``dim``.

    Parameters
    ----------
    input : Tensor
        A spectrum in FFT order.
    dim : int or sequence of int, optional
        The dims to shift (default: all).

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.fft.fftshift(ember.fft.fftfreq(5))
    tensor([-0.4000, -0.2000,  0.0000,  0.2000,  0.4000])
    """
    return _shift(input, dim, False, "fftshift")


def ifftshift(input, dim=None):
    """Inverse of :func:`fftshift`: a centred spectrum back in FFT order.

    Parameters
    ----------
    input : Tensor
        A centred spectrum.
    dim : int or sequence of int, optional
        The dims to shift (default: all).

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.fft.ifftshift(ember.fft.fftshift(ember.fft.fftfreq(5)))
    tensor([ 0.0000,  0.2000,  0.4000, -0.4000, -0.2000])
    """
    return _shift(input, dim, True, "ifftshift")
