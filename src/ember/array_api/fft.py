"""The ``fft`` extension of the Array API namespace, adapted from :mod:`ember.fft`
(``axis``/``axes`` for ``dim``, ``norm='backward'`` by default)."""
import ember

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _one_axis(op, name):
    def fn(x, /, *, n=None, axis=-1, norm="backward"):
        return op(x, n, axis, norm)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"One-dimensional ``{name}`` along ``axis`` (:func:`ember.fft.{name}`).\n\n"
                  f"Examples\n--------\n>>> import ember.array_api as xp\n"
                  f">>> y = xp.fft.{name}(xp.asarray([1.0, 2.0, 0.5, 3.0]))\n")
    return fn


def _n_axes(op, name):
    def fn(x, /, *, s=None, axes=None, norm="backward"):
        return op(x, None if s is None else tuple(s), None if axes is None else tuple(axes),
                  norm)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"N-dimensional ``{name}`` over ``axes`` (:func:`ember.fft.{name}`).\n\n"
                  f"Examples\n--------\n>>> import ember.array_api as xp\n"
                  f">>> y = xp.fft.{name}(xp.ones((2, 4)))\n")
    return fn


fft = _one_axis(ember.fft.fft, "fft")
ifft = _one_axis(ember.fft.ifft, "ifft")
rfft = _one_axis(ember.fft.rfft, "rfft")
irfft = _one_axis(ember.fft.irfft, "irfft")
hfft = _one_axis(ember.fft.hfft, "hfft")
ihfft = _one_axis(ember.fft.ihfft, "ihfft")
fftn = _n_axes(ember.fft.fftn, "fftn")
ifftn = _n_axes(ember.fft.ifftn, "ifftn")
rfftn = _n_axes(ember.fft.rfftn, "rfftn")
irfftn = _n_axes(ember.fft.irfftn, "irfftn")


def fftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """Sample frequencies of an ``n``-point FFT with sample spacing ``d``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.fft.fftfreq(4)
    tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    return ember.fft.fftfreq(n, d, dtype=dtype, device=device)


def rfftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """Sample frequencies of an ``n``-point real FFT with sample spacing ``d``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.fft.rfftfreq(4)
    tensor([0.0000, 0.2500, 0.5000])
    """
    return ember.fft.rfftfreq(n, d, dtype=dtype, device=device)


def fftshift(x, /, *, axes=None):
    """``x`` with the zero frequency moved to the centre of ``axes``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.fft.fftshift(xp.asarray([0, 1, 2, 3]))
    tensor([2, 3, 0, 1])
    """
    return ember.fft.fftshift(x, axes)


def ifftshift(x, /, *, axes=None):
    """The inverse of :func:`fftshift`.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.fft.ifftshift(xp.asarray([2, 3, 0, 1]))
    tensor([0, 1, 2, 3])
    """
    return ember.fft.ifftshift(x, axes)
