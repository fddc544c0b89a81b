"""The array-object part of the standard that ember's Tensor lacks: ``__array_namespace__``
and ``to_device``, attached to :class:`ember.Tensor` when :mod:`ember.array_api` loads.

``Tensor.size`` stays PyTorch's method (``x.size()`` returns the shape), so the standard's
``x.size`` attribute is not provided; the namespace never reads it, and array consumers
(array-api-compat's ``size(x)``, SciPy, scikit-learn) compute the size from ``x.shape``.
"""
import ember
from ember._core._tensor import _add_method

SUPPORTED_API_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12")


def __array_namespace__(self, /, *, api_version=None):
    """The Array API namespace of this array, :mod:`ember.array_api`.

    Parameters
    ----------
    api_version : str, optional
        A version of the standard, ``'2021.12'`` to ``'2024.12'``; None means the latest.

    Examples
    --------
    >>> import ember
    >>> xp = ember.ones(2).__array_namespace__()
    >>> xp.__array_api_version__
    '2024.12'
    """
    if api_version is not None and api_version not in SUPPORTED_API_VERSIONS:
        raise ValueError(f"Only array API versions {', '.join(SUPPORTED_API_VERSIONS)} are "
                         f"supported, got {api_version!r}")
    import ember.array_api
    return ember.array_api


def to_device(self, device, /, *, stream=None):
    """This array on ``device`` (itself when already there).

    Parameters
    ----------
    device : ember.device or str
    stream : None
        Only None is accepted: ember's CPU copies need no stream.

    Examples
    --------
    >>> import ember
    >>> x = ember.ones(2)
    >>> x.to_device("cpu") is x
    True
    """
    if stream is not None:
        raise ValueError(f"to_device: stream must be None for ember arrays, got {stream!r}")
    return self.to(ember.device(device))


_add_method("__array_namespace__", __array_namespace__)
_add_method("to_device", to_device)
