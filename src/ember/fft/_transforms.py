"""The discrete Fourier transforms of ``ember.fft``.

Each public transform canonicalises its ``n``/``s``, ``dim`` and ``norm``
arguments as PyTorch does, promotes the input (integers and bool to the default
float dtype, complex where the transform needs it), crops or zero-pads it to the
signal sizes (differentiable views and ``cat``), and calls one or two of the
primitives of :mod:`ember.ops.fft`, which carry the derivatives.
"""
from ember.ops.autocast import autocasts
import ember
from ember.ops.fft import NORM_N, NORM_NONE, NORM_SQRT, fft_c2c, fft_c2r, fft_r2c

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft",
           "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]


# ---------------------------------------------------------------- argument rules

def _norm_mode(norm, forward):
    """The scaling a transform applies: ``norm`` names the direction that is scaled."""
    if norm is None or norm == "backward":
        return NORM_NONE if forward else NORM_N
    if norm == "forward":
        return NORM_N if forward else NORM_NONE
    if norm == "ortho":
        return NORM_SQRT
    raise RuntimeError(f"Invalid normalization mode: {norm!r} (expected None, 'forward', "
                       f"'backward' or 'ortho')")


def _promote(x, fname, require_complex=False, require_real=False):
    """``x`` as a float or complex tensor: integers and bool take the default float."""
    if not isinstance(x, ember.Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(x).__name__}")
    if require_real and x.is_complex():
        raise RuntimeError(f"{fname} expects a real input tensor, but got {x.dtype}")
    if x.dtype in (ember.float16, ember.bfloat16):
        raise RuntimeError(f"{fname}: unsupported dtype {x.dtype} (the CPU transforms take "
                           f"float32, float64, complex64 and complex128)")
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(ember.get_default_dtype())
    if require_complex and not x.is_complex():
        x = x.to(ember.complex64 if x.dtype == ember.float32 else ember.complex128)
    return x


def _wrap_dim(dim, ndim):
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"fft dims must be integers, not {type(dim).__name__}")
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


def _as_list(value):
    if value is None:
        return None
    if isinstance(value, int):
        return [value]
    return list(value)


def _shape_and_dims(x, s, dim):
    """PyTorch's rules for ``s`` and ``dim``: the transformed dims and their sizes."""
    s, dim = _as_list(s), _as_list(dim)
    ndim = x.dim()
    dims = None
    if dim is not None:
        dims = [_wrap_dim(d, ndim) for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"FFT dims must be unique, got {dim}")
    if s is not None:
        if dims is not None and len(dims) != len(s):
            raise RuntimeError(f"When given, dim and shape arguments must have the same length "
                               f"(got dim {dim} and s {s})")
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{ndim} dimensions.")
        if dims is None:
            dims = list(range(ndim - len(s), ndim))
        sizes = [x.shape[d] if n == -1 else int(n) for n, d in zip(s, dims)]
    else:
        if dims is None:
            dims = list(range(ndim))
        sizes = [x.shape[d] for d in dims]
    for n in sizes:
        if n <= 0:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return sizes, dims


def _c2r_shape_and_dims(x, s, dim, fname):
    """As :func:`_shape_and_dims`, and the output size of the last (Hermitian) dim."""
    sizes, dims = _shape_and_dims(x, s, dim)
    if not dims:
        raise RuntimeError(f"{fname} must transform at least one axis")
    s = _as_list(s)
    if s is None or s[-1] == -1:
        last_dim_size = 2 * (x.shape[dims[-1]] - 1)
    else:
        last_dim_size = sizes[-1]
    if last_dim_size < 1:
        raise RuntimeError(f"Invalid number of data points ({last_dim_size}) specified")
    sizes[-1] = last_dim_size // 2 + 1
    return sizes, dims, last_dim_size


def _resize(x, dims, sizes):
    """``x`` cropped or zero-padded at the end of each of ``dims`` to ``sizes``."""
    for d, n in zip(dims, sizes):
        have = x.shape[d]
        if have > n:
            x = x.narrow(d, 0, n)
        elif have < n:
            shape = list(x.shape)
            shape[d] = n - have
            x = ember.cat([x, ember.zeros(shape, dtype=x.dtype, device=x.device)], d)
    return x


def _finish(result, out, fname):
    """``result``, or written into ``out`` (resized like PyTorch's ``out=``)."""
    if out is None:
        return result
    if not isinstance(out, ember.Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.dtype != result.dtype:
        raise RuntimeError(f"{fname}: expected out tensor to have dtype {result.dtype}, but got "
                           f"{out.dtype} instead")
    return ember.mul(result, 1, out=out)


# ---------------------------------------------------------------- the four kinds

def _c2c(x, s, dim, norm, forward, fname, out):
    x = _promote(x, fname)
    sizes, dims = _shape_and_dims(x, s, dim)
    x = _resize(x, dims, sizes)
    mode = _norm_mode(norm, forward)
    if not dims:
        x = _promote(x, fname, require_complex=True)
    if x.is_complex():
        result = fft_c2c(x, tuple(dims), mode, forward)
    else:
        # a real signal: the full spectrum from the real transform (conjugated for the
        # inverse direction, whose kernel is the conjugate of the forward one)
        result = fft_r2c(x, tuple(dims), mode, False)
        if not forward:
            result = ember.conj(result)
    return _finish(result, out, fname)


def _r2c(x, s, dim, norm, fname, out, forward=True):
    """``rfftn`` (``forward``), or ``ihfftn``: the conjugate of the inverse half-spectrum."""
    x = _promote(x, fname, require_real=True)
    sizes, dims = _shape_and_dims(x, s, dim)
    if not dims:
        raise RuntimeError(f"{fname} must transform at least one axis")
    x = _resize(x, dims, sizes)
    mode = _norm_mode(norm, forward)
    if forward:
        return _finish(fft_r2c(x, tuple(dims), mode, True), out, fname)
    # ihfftn: the half-spectrum along the last dim, then the inverse over the others
    result = ember.conj(fft_r2c(x, (dims[-1],), mode, True))
    if len(dims) > 1:
        result = fft_c2c(result, tuple(dims[:-1]), mode, False)
    return _finish(result, out, fname)


def _c2r(x, s, dim, norm, fname, out, forward=False):
    """``irfftn``, or (``forward``) ``hfftn``: the real signal of the conjugate spectrum."""
    x = _promote(x, fname, require_complex=True)
    sizes, dims, last_dim_size = _c2r_shape_and_dims(x, s, dim, fname)
    x = _resize(x, dims, sizes)
    mode = _norm_mode(norm, forward)
    if forward:
        if len(dims) > 1:
            x = fft_c2c(x, tuple(dims[:-1]), mode, True)
        x = ember.conj(x)
        dims = dims[-1:]
    return _finish(fft_c2r(x, tuple(dims), mode, last_dim_size), out, fname)


def _one_dim(n):
    return None if n is None else [n]


# ---------------------------------------------------------------- public: 1-D

_DOC_1D = """{summary}

    Parameters
    ----------
    input : Tensor
        The signal{input_note}.
    n : int, optional
        {n_note}
    dim : int
        The dimension to transform (default: the last).
    norm : {{"backward", "ortho", "forward"}}, optional
        Which direction is scaled: ``"backward"`` (default) scales the inverse
        transforms by ``1/n``, ``"forward"`` the forward ones, ``"ortho"`` both by
        ``1/sqrt(n)``.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
        {returns}
"""


@autocasts("fft_fft")
def fft(input, n=None, dim=-1, norm=None, *, out=None):
    return _c2c(input, _one_dim(n), [dim], norm, True, "fft", out)


@autocasts("fft_ifft")
def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    return _c2c(input, _one_dim(n), [dim], norm, False, "ifft", out)


@autocasts("fft_rfft")
def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _r2c(input, _one_dim(n), [dim], norm, "rfft", out)


@autocasts("fft_irfft")
def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _c2r(input, _one_dim(n), [dim], norm, "irfft", out)


@autocasts("fft_hfft")
def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _c2r(input, _one_dim(n), [dim], norm, "hfft", out, forward=True)


@autocasts("fft_ihfft")
def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _r2c(input, _one_dim(n), [dim], norm, "ihfft", out, forward=False)


_N_FULL = "Signal length: the input is cropped or zero-padded to it (default: its size)."
_N_OUT = ("Length of the real output signal (default ``2 * (m - 1)`` for an input of "
          "``m`` points, which is cropped or zero-padded to ``n // 2 + 1``).")
fft.__doc__ = _DOC_1D.format(
    summary="One-dimensional discrete Fourier transform of ``input``.", input_note="",
    n_note=_N_FULL, returns="The complex spectrum.") + """
    Examples
    --------
    >>> import ember
    >>> ember.fft.fft(ember.tensor([1.0, 0.0, 0.0, 0.0]) + 0j)
    tensor([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
ifft.__doc__ = _DOC_1D.format(
    summary="One-dimensional inverse discrete Fourier transform of ``input``.",
    input_note=" (its spectrum)", n_note=_N_FULL, returns="The complex signal.") + """
    Examples
    --------
    >>> import ember
    >>> ember.fft.ifft(ember.fft.fft(ember.tensor([1.0, 2.0, 3.0]))).real
    tensor([1., 2., 3.])
    """
rfft.__doc__ = _DOC_1D.format(
    summary="One-dimensional Fourier transform of a real ``input``: the ``n // 2 + 1`` "
            "non-negative frequencies.",
    input_note=" (real)", n_note=_N_FULL, returns="The one-sided complex spectrum.") + """
    Examples
    --------
    >>> import ember
    >>> ember.fft.rfft(ember.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor([10.+0.j, -2.+2.j, -2.+0.j])
    """
irfft.__doc__ = _DOC_1D.format(
    summary="Inverse of :func:`rfft`: the real signal of a one-sided spectrum.",
    input_note=" (a one-sided, Hermitian spectrum)", n_note=_N_OUT,
    returns="The real signal.") + """
    Examples
    --------
    >>> import ember
    >>> ember.fft.irfft(ember.fft.rfft(ember.tensor([1.0, 2.0, 3.0, 4.0])))
    tensor([1., 2., 3., 4.])
    """
hfft.__doc__ = _DOC_1D.format(
    summary="Fourier transform of a Hermitian signal given by its non-negative half: a "
            "real spectrum.",
    input_note=" (the half of a Hermitian signal)", n_note=_N_OUT,
    returns="The real spectrum.") + """
    Examples
    --------
    >>> import ember
    >>> ember.fft.hfft(ember.tensor([1.0, 0.5j, 0.0]), n=4)
    tensor([1., 2., 1., 0.])
    """
ihfft.__doc__ = _DOC_1D.format(
    summary="Inverse of :func:`hfft`: the non-negative half of the Hermitian inverse "
            "transform of a real ``input``.",
    input_note=" (real)", n_note=_N_FULL, returns="The one-sided complex signal.") + """
    Examples
    --------
    >>> import ember
    >>> ember.fft.ihfft(ember.tensor([1.0, 2.0, 1.0, 0.0])).imag
    tensor([-0.0000, 0.5000, -0.0000])
    """


# ---------------------------------------------------------------- public: 2-D and N-D

_DOC_ND = """{summary}

    Parameters
    ----------
    input : Tensor
        The signal{input_note}.
    s : sequence of int, optional
        Signal size in each transformed dim (-1: keep the input's size){s_note}.
    dim : sequence of int, optional
        The dims to transform (default: {dim_default}).
    norm : {{"backward", "ortho", "forward"}}, optional
        Which direction is scaled, by ``1/n`` with ``n`` the product of the signal
        sizes (``"ortho"``: both by ``1/sqrt(n)``); see :func:`fft`.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
        {returns}
"""

_ALL = "all, or the last ``len(s)`` when ``s`` is given"
_LAST_TWO = "the last two"
_S_OUT = "; for the last dim, the real output's size (default ``2 * (m - 1)``)"


@autocasts("fft_fftn")
def fftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2c(input, s, dim, norm, True, "fftn", out)


@autocasts("fft_ifftn")
def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2c(input, s, dim, norm, False, "ifftn", out)


@autocasts("fft_rfftn")
def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _r2c(input, s, dim, norm, "rfftn", out)


@autocasts("fft_irfftn")
def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2r(input, s, dim, norm, "irfftn", out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2r(input, s, dim, norm, "hfftn", out, forward=True)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _r2c(input, s, dim, norm, "ihfftn", out, forward=False)


@autocasts("fft_fft2")
def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2c(input, s, dim, norm, True, "fft2", out)


@autocasts("fft_ifft2")
def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2c(input, s, dim, norm, False, "ifft2", out)


@autocasts("fft_rfft2")
def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _r2c(input, s, dim, norm, "rfft2", out)


@autocasts("fft_irfft2")
def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2r(input, s, dim, norm, "irfft2", out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2r(input, s, dim, norm, "hfft2", out, forward=True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _r2c(input, s, dim, norm, "ihfft2", out, forward=False)


for _fn, _summary, _note, _s_note, _returns in (
        (fftn, "N-dimensional discrete Fourier transform of ``input``.", "", "",
         "The complex spectrum."),
        (ifftn, "N-dimensional inverse discrete Fourier transform of ``input``.",
         " (its spectrum)", "", "The complex signal."),
        (rfftn, "N-dimensional Fourier transform of a real ``input``; the last transformed "
         "dim keeps its non-negative frequencies.", " (real)", "", "The one-sided spectrum."),
        (irfftn, "Inverse of :func:`rfftn`: the real signal of a one-sided spectrum.",
         " (one-sided along the last transformed dim)", _S_OUT, "The real signal."),
        (hfftn, "N-dimensional Fourier transform of a Hermitian signal given by its half "
         "along the last transformed dim: a real spectrum.", " (half of a Hermitian signal)",
         _S_OUT, "The real spectrum."),
        (ihfftn, "Inverse of :func:`hfftn`: the one-sided inverse transform of a real "
         "``input``.", " (real)", "", "The one-sided complex signal.")):
    _fn.__doc__ = _DOC_ND.format(summary=_summary, input_note=_note, s_note=_s_note,
                                 dim_default=_ALL, returns=_returns)
for _fn, _base in ((fft2, fftn), (ifft2, ifftn), (rfft2, rfftn), (irfft2, irfftn),
                   (hfft2, hfftn), (ihfft2, ihfftn)):
    _fn.__doc__ = _base.__doc__.replace("N-dimensional", "Two-dimensional").replace(
        _ALL, _LAST_TWO).replace(":func:`rfftn`", ":func:`rfft2`").replace(
        ":func:`hfftn`", ":func:`hfft2`")
del _fn, _base, _summary, _note, _s_note, _returns

fftn.__doc__ += """
    Examples
    --------
    >>> import ember
    >>> ember.fft.fftn(ember.ones(2, 2, dtype=ember.complex64))
    tensor([[4.+0.j, 0.+0.j],
            [0.+0.j, 0.+0.j]])
    """
