"""Creation ops beyond the core factories: ``tril_indices``, ``triu_indices`` and
``logspace``."""
import operator

from ember._core import _tensor as _core
from ember._core._dtype import float64, get_default_dtype, int64, to_dtype as as_dtype
from ember.ops.index import nonzero

__all__ = ["tril_indices", "triu_indices", "logspace"]


def _triangle_indices(row, col, offset, dtype, lower, fname):
    row, col, offset = operator.index(row), operator.index(col), operator.index(offset)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dtype = int64 if dtype is None else as_dtype(dtype)
    if dtype.name not in ("int32", "int64"):
        raise RuntimeError(f"\"{fname}\" not implemented for '{dtype.name}'")
    diff = _core.arange(col).unsqueeze(0) - _core.arange(row).unsqueeze(1)    # j - i
    keep = diff <= offset if lower else diff >= offset
    return nonzero(keep).t().contiguous().to(dtype)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices (a ``(2, N)`` tensor, row-major order) of the lower triangle
    of a ``row x col`` matrix, diagonal ``offset`` included.

    Examples
    --------
    >>> import ember
    >>> ember.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]])
    """
    return _triangle_indices(row, col, offset, dtype, True, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices of the upper triangle of a ``row x col`` matrix (see
    :func:`tril_indices`).

    Examples
    --------
    >>> import ember
    >>> ember.triu_indices(2, 3, 1)
    tensor([[0, 0, 1],
            [1, 2, 2]])
    """
    return _triangle_indices(row, col, offset, dtype, False, "triu_indices")


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False,
             out=None, layout=None):
    """``steps`` values ``base ** x`` for ``x`` evenly spaced from ``start`` to ``end``.

    Computed in float64 and rounded once to ``dtype`` (default: the default float dtype).

    Examples
    --------
    >>> import ember
    >>> ember.logspace(0, 3, 4)
    tensor([   1.,   10.,  100., 1000.])
    """
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
    exponents = _core.linspace(float(start), float(end), steps, dtype=float64)
    result = (_core.full((), float(base), dtype=float64) ** exponents).to(dtype)
    if out is not None:
        out.copy_(result)
        return out
    return result.requires_grad_(requires_grad) if requires_grad else result

