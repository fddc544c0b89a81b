"""Statistical, searching, set, sorting and utility functions of the Array API namespace."""
import builtins
import math
from collections import namedtuple

import ember

from ember.array_api._dtypes import _is_scalar, result_type, astype
from ember.array_api._elementwise import _operands


def _axes(x, axis):
    """``axis`` as a tuple of non-negative axes (all of them when None)."""
    if axis is None:
        return tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, builtins.int) else tuple(axis)
    out = []
    for a in axes:
        if not -builtins.max(x.ndim, 1) <= a < builtins.max(x.ndim, 1):
            raise IndexError(f"axis {a} is out of range for an array of {x.ndim} dimensions")
        out.append(a % builtins.max(x.ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(out)


def _reduce(op, x, axis, keepdims, **kwargs):
    """``op(x, dim=..., keepdim=...)`` with the standard's ``axis`` meaning: None reduces
    everything, ``()`` reduces nothing (a reduction over a new axis of size one)."""
    axes = _axes(x, axis)
    if not axes:
        return op(ember.unsqueeze(x, 0), dim=0, keepdim=False, **kwargs)
    if x.ndim == 0:
        return op(x.reshape(1), dim=0, keepdim=False, **kwargs)
    return op(x, dim=axes, keepdim=keepdims, **kwargs)


def _reduce_flat(op, x, axis, keepdims, **kwargs):
    """Like :func:`_reduce` for an op that takes one ``dim``: the reduced axes are moved
    last and merged into one."""
    axes = _axes(x, axis)
    kept = [a for a in range(x.ndim) if a not in axes]
    merged = ember.permute(x, tuple(kept) + axes).reshape(
        [x.shape[a] for a in kept] + [math.prod(x.shape[a] for a in axes)])
    out = op(merged, dim=-1, **kwargs)
    if keepdims:
        out = out.reshape([1 if a in axes else x.shape[a] for a in range(x.ndim)])
    return out


def max(x, /, *, axis=None, keepdims=False):
    """Largest element along ``axis`` (NaN propagates).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.max(xp.asarray([[1, 5], [7, 2]]), axis=1)
    tensor([5, 7])
    """
    return _reduce(ember.amax, x, axis, keepdims)


def min(x, /, *, axis=None, keepdims=False):
    """Smallest element along ``axis`` (NaN propagates).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.min(xp.asarray([[1, 5], [7, 2]]), axis=0)
    tensor([1, 2])
    """
    return _reduce(ember.amin, x, axis, keepdims)


def _accumulator(x, dtype):
    """The standard's default dtype of sums and products: uint64 for unsigned integers
    (ember's own default, as PyTorch's, is int64 for every integer and bool input)."""
    if dtype is None and x.dtype in (ember.uint8, ember.uint16, ember.uint32, ember.uint64):
        return ember.uint64
    return dtype


def sum(x, /, *, axis=None, dtype=None, keepdims=False):
    """Sum along ``axis``; signed integers and booleans accumulate in int64, unsigned ones
    in uint64, floats in their own dtype, unless ``dtype`` is given.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.sum(xp.asarray([1, 2, 3], dtype=xp.int8))
    tensor(6)
    """
    return _reduce(ember.sum, x, axis, keepdims, dtype=_accumulator(x, dtype))


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    """Product along ``axis``, accumulated like :func:`sum`.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.prod(xp.asarray([[1.0, 2.0], [3.0, 4.0]]), axis=(0, 1))
    tensor(24.)
    """
    return _reduce_flat(ember.prod, x, axis, keepdims, dtype=_accumulator(x, dtype))


def mean(x, /, *, axis=None, keepdims=False):
    """Arithmetic mean along ``axis``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.mean(xp.asarray([1.0, 2.0, 6.0]))
    tensor(3.)
    """
    return _reduce(ember.mean, x, axis, keepdims)


def var(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Variance along ``axis`` with ``correction`` degrees of freedom removed.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.var(xp.asarray([1.0, 2.0, 3.0]), correction=1)
    tensor(1.)
    """
    return _reduce(ember.var, x, axis, keepdims, correction=correction)


def std(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Standard deviation along ``axis`` with ``correction`` degrees of freedom removed.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.std(xp.asarray([1.0, 3.0]))
    tensor(1.)
    """
    return _reduce(ember.std, x, axis, keepdims, correction=correction)


def _cumulative(op, name, x, axis, dtype, include_initial):
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis is required for a {x.ndim}-d array")
        axis = 0
    if x.ndim == 0:
        raise ValueError(f"{name}: expected an array of at least one dimension")
    out = op(x, axis, dtype=_accumulator(x, dtype))
    if include_initial:
        shape = list(out.shape)
        shape[axis] = 1
        initial = ember.zeros(shape, dtype=out.dtype, device=out.device) \
            if op is ember.cumsum else ember.ones(shape, dtype=out.dtype, device=out.device)
        out = ember.cat([initial, out], axis)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running sums along ``axis`` (with a leading zero when ``include_initial``).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.cumulative_sum(xp.asarray([1, 2, 3]), include_initial=True)
    tensor([0, 1, 3, 6])
    """
    return _cumulative(ember.cumsum, "cumulative_sum", x, axis, dtype, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running products along ``axis`` (with a leading one when ``include_initial``).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.cumulative_prod(xp.asarray([1, 2, 3]))
    tensor([1, 2, 6])
    """
    return _cumulative(ember.cumprod, "cumulative_prod", x, axis, dtype, include_initial)


def all(x, /, *, axis=None, keepdims=False):
    """Whether every element along ``axis`` is true.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.all(xp.asarray([1, 0]))
    tensor(False)
    """
    return astype(_reduce_flat(ember.all, x, axis, keepdims), ember.bool, copy=False)


def any(x, /, *, axis=None, keepdims=False):
    """Whether some element along ``axis`` is true.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.any(xp.asarray([1, 0]))
    tensor(True)
    """
    return astype(_reduce_flat(ember.any, x, axis, keepdims), ember.bool, copy=False)


def count_nonzero(x, /, *, axis=None, keepdims=False):
    """Number of non-zero elements along ``axis``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.count_nonzero(xp.asarray([[1, 0], [2, 3]]), axis=1)
    tensor([1, 2])
    """
    return _reduce_flat(ember.count_nonzero, x, axis, keepdims)


def diff(x, /, n=1, axis=-1, *, prepend=None, append=None):
    """``n``-th forward difference along ``axis``.

    ``n`` and ``axis`` may also be given by position, in the order of ``numpy.diff`` and
    ``torch.diff`` (the standard makes them keywords): scikit-learn's ``roc_curve`` calls
    ``xp.diff(x, 2)``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.diff(xp.asarray([1, 4, 9, 16]))
    tensor([3, 5, 7])
    """
    return ember.diff(x, n, axis, prepend, append)


def argmax(x, /, *, axis=None, keepdims=False):
    """Index of the first largest element (of the flattened array when ``axis`` is None).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.argmax(xp.asarray([[1, 5], [7, 2]]), axis=1, keepdims=True)
    tensor([[1],
            [0]])
    """
    return _argext(ember.argmax, x, axis, keepdims)


def argmin(x, /, *, axis=None, keepdims=False):
    """Index of the first smallest element (of the flattened array when ``axis`` is None).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.argmin(xp.asarray([3, 1, 1]))
    tensor(1)
    """
    return _argext(ember.argmin, x, axis, keepdims)


def _argext(op, x, axis, keepdims):
    if axis is None:
        out = op(x.reshape(-1), 0)
        return out.reshape([1] * x.ndim) if keepdims else out
    return op(x, axis, keepdims)


def nonzero(x, /):
    """Indices of the non-zero elements, one array per axis.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.nonzero(xp.asarray([0, 3, 0, 4]))
    (tensor([1, 3]),)
    """
    if x.ndim == 0:
        raise ValueError("nonzero: a 0-d array is not allowed")
    return tuple(ember.nonzero(x, as_tuple=True))


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    """Indices where ``x2``'s elements would be inserted in the sorted 1-d ``x1``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.searchsorted(xp.asarray([1.0, 2.0, 3.0]), xp.asarray([2.0]), side="right")
    tensor([2])
    """
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if _is_scalar(x2):
        x2 = ember.tensor(x2, dtype=result_type(x1, x2), device=x1.device)
    dtype = result_type(x1, x2)
    return ember.searchsorted(astype(x1, dtype, copy=False), astype(x2, dtype, copy=False),
                              side=side, sorter=sorter)


def where(condition, x1=None, x2=None, /):
    """``x1`` where ``condition`` holds, else ``x2`` (either may be a Python scalar).

    ``where(condition)`` alone, as in NumPy and PyTorch (not in the standard, but called
    so by scikit-learn's ``roc_curve``), gives the indices where ``condition`` holds: a
    tuple of one index array per dimension, as :func:`nonzero`.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.where(xp.asarray([True, False]), xp.asarray([1, 2]), 0)
    tensor([1, 0])
    >>> xp.where(xp.asarray([False, True, True]))
    (tensor([1, 2]),)
    """
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise TypeError("where() takes a condition and both x1 and x2, or the condition "
                        "alone")
    x1, x2 = _operands("where", x1, x2)
    return ember.where(condition, x1, x2)


UniqueAllResult = namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices",
                                                 "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


def unique_values(x, /):
    """The distinct elements of ``x``, sorted (each NaN is distinct).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.unique_values(xp.asarray([3, 1, 3]))
    tensor([1, 3])
    """
    return ember.unique(x)


def unique_counts(x, /):
    """The distinct elements of ``x`` and how often each occurs.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.unique_counts(xp.asarray([3, 1, 3]))
    UniqueCountsResult(values=tensor([1, 3]), counts=tensor([1, 2]))
    """
    values, counts = ember.unique(x, return_counts=True)
    return UniqueCountsResult(values, counts)


def unique_inverse(x, /):
    """The distinct elements of ``x`` and, for each element of ``x``, its index in them.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.unique_inverse(xp.asarray([3, 1, 3]))
    UniqueInverseResult(values=tensor([1, 3]), inverse_indices=tensor([1, 0, 1]))
    """
    values, inverse = ember.unique(x, return_inverse=True)
    return UniqueInverseResult(values, inverse.reshape(x.shape))


def unique_all(x, /):
    """Distinct elements, the index of each one's first occurrence, the inverse indices
    and the counts.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.unique_all(xp.asarray([3, 1, 3])).indices
    tensor([1, 0])
    """
    values, inverse, counts = ember.unique(x, return_inverse=True, return_counts=True)
    flat_inverse = inverse.reshape(-1)
    positions = ember.arange(flat_inverse.shape[0], device=x.device)
    first = ember.full((values.shape[0],), flat_inverse.shape[0], dtype=ember.int64,
                       device=x.device)
    first = ember.scatter_reduce(first, 0, flat_inverse, positions, "amin")
    return UniqueAllResult(values, first, inverse.reshape(x.shape), counts)


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    """Indices that sort ``x`` along ``axis`` (stable unless ``stable=False``).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.argsort(xp.asarray([3, 1, 2]), descending=True)
    tensor([0, 2, 1])
    """
    return ember.argsort(x, axis, descending, stable=stable)


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """``x`` sorted along ``axis``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.sort(xp.asarray([3, 1, 2]))
    tensor([1, 2, 3])
    """
    return ember.sort(x, axis, descending, stable=stable).values
