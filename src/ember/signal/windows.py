"""Window functions, as ``torch.signal.windows`` (and :mod:`scipy.signal.windows`).

Every window takes the length ``M`` and the keyword arguments ``sym`` (True: a
symmetric window, for filter design; False: a periodic one, for spectral analysis,
which is the symmetric window of length ``M + 1`` without its last point), ``dtype``
(float32 or float64; default: the default float dtype), ``layout``, ``device`` and
``requires_grad``.  The values are computed in double precision, then stored in
``dtype``.
"""
import math

import numpy as np
import scipy.special as sc

from ember._core._dtype import float32, float64, get_default_dtype
from ember._core._tensor import tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _check(name, M, dtype, layout):
    """PyTorch's common checks; returns the dtype to use."""
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'M' must be int, not {type(M).__name__}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and str(layout) not in ("strided", "ember.strided", "torch.strided"):
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    dtype = get_default_dtype() if dtype is None else dtype
    if dtype not in (float32, float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _window(values, dtype, device, requires_grad):
    return tensor(np.asarray(values, dtype=np.float64), dtype=dtype, device=device,
                  requires_grad=requires_grad)


def _positions(M, sym, first, step_length):
    """``M`` points from ``first`` spaced by ``step_length / (M - 1)`` (symmetric) or
    ``step_length / M`` (periodic)."""
    return first + np.arange(M) * (step_length / (M if not sym else M - 1))


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False):
    """The exponential (Poisson) window ``w_n = exp(-|n - center| / tau)``.

    Parameters
    ----------
    M : int
        Length of the window.
    center : float, optional
        Where the window peaks (default: its middle); only for ``sym=False``.
    tau : float, optional
        The decay, positive.
    sym : bool, optional
        Symmetric (True) or periodic (False) window.
    dtype, layout, device, requires_grad
        As for :func:`ember.empty`; ``dtype`` float32 or float64.

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.exponential(3)
    tensor([0.3679, 1.0000, 0.3679])
    """
    dtype = _check("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    return _window(np.exp(-np.abs(np.arange(M) - center) / tau), dtype, device, requires_grad)


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The cosine (sine) window ``w_n = sin(pi (n + 0.5) / M)``, as SciPy's.

    Parameters are those of :func:`exponential` (without ``center``, ``tau``).

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.cosine(4)
    tensor([0.3827, 0.9239, 0.9239, 0.3827])
    """
    dtype = _check("cosine", M, dtype, layout)
    length = M + 1 if not sym and M > 1 else M
    return _window(np.sin(math.pi * (np.arange(M) + 0.5) / max(length, 1)), dtype, device,
                   requires_grad)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False):
    """The Gaussian window ``w_n = exp(-(n - (M-1)/2)**2 / (2 std**2))``.

    Parameters
    ----------
    M : int
        Length of the window.
    std : float, optional
        Standard deviation, positive.
    sym, dtype, layout, device, requires_grad
        As for :func:`exponential`.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.gaussian(3)
    tensor([0.6065, 1.0000, 0.6065])
    """
    dtype = _check("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    n = start + np.arange(M)
    return _window(np.exp(-n * n / (2 * std * std)), dtype, device, requires_grad)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None,
           requires_grad=False):
    """The Kaiser window ``w_n = I0(beta sqrt(1 - (2n/(M-1) - 1)**2)) / I0(beta)``.

    Parameters
    ----------
    M : int
        Length of the window.
    beta : float, optional
        The shape parameter, non-negative (0 gives a rectangular window).
    sym, dtype, layout, device, requires_grad
        As for :func:`exponential`.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.kaiser(3, beta=1.0)
    tensor([0.7898, 1.0000, 0.7898])
    """
    dtype = _check("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _window(np.ones(M), dtype, device, requires_grad)
    ratio = np.minimum(_positions(M, sym, -1.0, 2.0), 1.0)
    values = sc.i0(beta * np.sqrt(np.maximum(1 - ratio * ratio, 0))) / sc.i0(beta)
    return _window(values, dtype, device, requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Bartlett (triangular, zero at the ends) window ``w_n = 1 - |2n/(M-1) - 1|``.

    Parameters are those of :func:`cosine`.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.bartlett(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    dtype = _check("bartlett", M, dtype, layout)
    if M <= 1:
        return _window(np.ones(M), dtype, device, requires_grad)
    return _window(1 - np.abs(_positions(M, sym, -1.0, 2.0)), dtype, device, requires_grad)


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """A sum of cosines ``w_n = sum_i (-1)**i a[i] cos(2 pi i n / (M - 1))``.

    Parameters
    ----------
    M : int
        Length of the window.
    a : sequence of float
        The coefficients, not empty.
    sym, dtype, layout, device, requires_grad
        As for :func:`exponential`.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.general_cosine(3, a=[0.5, 0.5])
    tensor([0., 1., 0.])
    """
    dtype = _check("general_cosine", M, dtype, layout)
    if M <= 1:
        return _window(np.ones(M), dtype, device, requires_grad)
    if not isinstance(a, (list, tuple)):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    angle = _positions(M, sym, 0.0, 2 * math.pi)
    values = sum((-1) ** i * float(w) * np.cos(i * angle)
                 for i, w in enumerate(a))
    return _window(values, dtype, device, requires_grad)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """The generalized Hamming window ``w_n = alpha - (1 - alpha) cos(2 pi n / (M - 1))``.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.general_hamming(3, alpha=0.5)
    tensor([0., 1., 0.])
    """
    return _named_cosine("general_hamming", M, [alpha, 1.0 - alpha], sym, dtype, layout,
                         device, requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hamming window, :func:`general_hamming` with ``alpha=0.54``.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.hamming(3)
    tensor([0.0800, 1.0000, 0.0800])
    """
    return _named_cosine("hamming", M, [0.54, 0.46], sym, dtype, layout, device,
                         requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window ``w_n = sin(pi n / (M - 1))**2``.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.hann(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _named_cosine("hann", M, [0.5, 0.5], sym, dtype, layout, device, requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window, :func:`general_cosine` with ``a=[0.42, 0.5, 0.08]``.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.blackman(3)
    tensor([-1.3878e-17,  1.0000e+00, -1.3878e-17])
    """
    return _named_cosine("blackman", M, [0.42, 0.5, 0.08], sym, dtype, layout, device,
                         requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The minimum 4-term Blackman-Harris window of Nuttall.

    Examples
    --------
    >>> import ember
    >>> ember.signal.windows.nuttall(3)
    tensor([3.6280e-04, 1.0000e+00, 3.6280e-04])
    """
    return _named_cosine("nuttall", M, [0.3635819, 0.4891775, 0.1365995, 0.0106411], sym,
                         dtype, layout, device, requires_grad)


def _named_cosine(name, M, a, sym, dtype, layout, device, requires_grad):
    _check(name, M, dtype, layout)
    return general_cosine(M, a=a, sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)
