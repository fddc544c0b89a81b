"""Creation functions of the Array API namespace (``device=`` on every one)."""
import builtins

import ember


def _device(device):
    return None if device is None else ember.device(device)


def _shape(shape):
    return (shape,) if isinstance(shape, builtins.int) else tuple(shape)


def asarray(obj, /, *, dtype=None, device=None, copy=None):
    """Convert ``obj`` (array, NumPy array, DLPack or buffer object, nested sequence or
    Python scalar) to a tensor.

    Parameters
    ----------
    obj : object
    dtype : ember.dtype, optional
        Inferred when omitted: ``bool``, ``int64``, the default float or complex dtype for
        Python scalars; the source's dtype for arrays.
    device : ember.device, optional
    copy : bool, optional
        ``True`` always copies, ``None`` copies only when needed, ``False`` never copies
        and raises ``ValueError`` when a copy would be needed.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> x = xp.asarray([1.0, 2.0])
    >>> xp.asarray(x, copy=False) is x
    True
    """
    return ember.asarray(obj, dtype=dtype, device=_device(device), copy=copy)


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    """Evenly spaced values in ``[start, stop)``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.arange(1, 7, 2)
    tensor([1, 3, 5])
    """
    if stop is None:
        start, stop = 0, start
    if step != 0 and (stop - start) * step <= 0:
        # the standard gives an empty array where PyTorch's arange raises
        if dtype is None:
            floating = builtins.any(isinstance(v, builtins.float) for v in (start, stop, step))
            dtype = ember.get_default_dtype() if floating else ember.int64
        return ember.empty(0, dtype=dtype, device=_device(device))
    return ember.arange(start, stop, step, dtype=dtype, device=_device(device))


def empty(shape, *, dtype=None, device=None):
    """An uninitialised array of ``shape``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.empty((2, 3)).shape
    ember.Size([2, 3])
    """
    return ember.empty(_shape(shape), dtype=dtype, device=_device(device))


def empty_like(x, /, *, dtype=None, device=None):
    """An uninitialised array with ``x``'s shape (and dtype and device unless given).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.empty_like(xp.ones(3), dtype=xp.int8).dtype
    ember.int8
    """
    return ember.empty_like(x, dtype=dtype, device=_device(device))


def zeros(shape, *, dtype=None, device=None):
    """An array of zeros.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.zeros(2)
    tensor([0., 0.])
    """
    return ember.zeros(_shape(shape), dtype=dtype, device=_device(device))


def zeros_like(x, /, *, dtype=None, device=None):
    """An array of zeros with ``x``'s shape (and dtype and device unless given).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.zeros_like(xp.asarray([1, 2]))
    tensor([0, 0])
    """
    return ember.zeros_like(x, dtype=dtype, device=_device(device))


def ones(shape, *, dtype=None, device=None):
    """An array of ones.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.ones((1, 2), dtype=xp.int32)
    tensor([[1, 1]], dtype=ember.int32)
    """
    return ember.ones(_shape(shape), dtype=dtype, device=_device(device))


def ones_like(x, /, *, dtype=None, device=None):
    """An array of ones with ``x``'s shape (and dtype and device unless given).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.ones_like(xp.asarray([True]))
    tensor([True])
    """
    return ember.ones_like(x, dtype=dtype, device=_device(device))


def full(shape, fill_value, *, dtype=None, device=None):
    """An array of ``shape`` filled with ``fill_value``; the dtype follows the Python
    scalar's kind when not given (bool, int64, default float or complex).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.full(2, 7)
    tensor([7, 7])
    """
    return ember.full(_shape(shape), fill_value, dtype=dtype, device=_device(device))


def full_like(x, /, fill_value, *, dtype=None, device=None):
    """An array with ``x``'s shape filled with ``fill_value`` (``x``'s dtype unless given).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.full_like(xp.asarray([1, 2]), 5)
    tensor([5, 5])
    """
    return ember.full_like(x, fill_value, dtype=dtype, device=_device(device))


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    """A 2-d array with ones on the ``k``-th diagonal.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.eye(2, 3, k=1)
    tensor([[0., 1., 0.],
            [0., 0., 1.]])
    """
    n_cols = n_rows if n_cols is None else n_cols
    device = _device(device)
    if k == 0:
        return ember.eye(n_rows, n_cols, dtype=dtype, device=device)
    rows = ember.arange(n_rows, device=device).reshape(-1, 1)
    cols = ember.arange(n_cols, device=device).reshape(1, -1)
    dtype = ember.get_default_dtype() if dtype is None else dtype
    return ember.eq(rows + k, cols).to(dtype)


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True):
    """``num`` evenly spaced values from ``start`` to ``stop`` (excluded when
    ``endpoint=False``).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linspace(0.0, 1.0, 4, endpoint=False)
    tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    if dtype is None and builtins.any(isinstance(v, builtins.complex) for v in (start, stop)):
        dtype = ember.get_default_dtype().to_complex()
    device = _device(device)
    if endpoint:
        return ember.linspace(start, stop, num, dtype=dtype, device=device)
    return ember.linspace(start, stop, num + 1, dtype=dtype, device=device)[:num]


def meshgrid(*arrays, indexing="xy"):
    """Coordinate arrays from 1-d arrays (``indexing`` ``'xy'`` or ``'ij'``).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> [g.shape for g in xp.meshgrid(xp.arange(2), xp.arange(3))]
    [ember.Size([3, 2]), ember.Size([3, 2])]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    if not arrays:
        return []
    return list(ember.meshgrid(*arrays, indexing=indexing))


def tril(x, /, *, k=0):
    """The lower triangle of (a stack of) matrices, from diagonal ``k`` down.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.tril(xp.ones((2, 2)))
    tensor([[1., 0.],
            [1., 1.]])
    """
    return ember.tril(x, k)


def triu(x, /, *, k=0):
    """The upper triangle of (a stack of) matrices, from diagonal ``k`` up.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.triu(xp.ones((2, 2)))
    tensor([[1., 1.],
            [0., 1.]])
    """
    return ember.triu(x, k)


def from_dlpack(x, /, *, device=None, copy=None):
    """An array sharing memory with any DLPack exporter (NumPy, PyTorch, ...).

    Examples
    --------
    >>> import numpy as np
    >>> import ember.array_api as xp
    >>> xp.from_dlpack(np.arange(3.0))
    tensor([0., 1., 2.], dtype=ember.float64)
    """
    return ember.from_dlpack(x, device=_device(device), copy=copy)
