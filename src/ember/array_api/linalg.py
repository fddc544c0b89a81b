"""The ``linalg`` extension of the Array API namespace, adapted from :mod:`ember.linalg`."""
from collections import namedtuple

import ember
from ember.array_api._manipulation import (  # noqa: F401 (part of the extension)
    matmul, matrix_transpose, tensordot, vecdot, _common, broadcast_arrays,
)

__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve",
    "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
]

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


def cholesky(x, /, *, upper=False):
    """Cholesky factor of (a stack of) Hermitian positive-definite matrices.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.cholesky(xp.asarray([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    return ember.linalg.cholesky(x, upper=upper)


def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-vectors along ``axis``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.cross(xp.asarray([1.0, 0.0, 0.0]), xp.asarray([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    # the standard broadcasts inputs of different ranks, where PyTorch's linalg.cross raises
    return ember.linalg.cross(*broadcast_arrays(*_common((x1, x2), "cross")), dim=axis)


def det(x, /):
    """Determinant of (a stack of) square matrices.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.det(xp.asarray([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.0000)
    """
    return ember.linalg.det(x)


def diagonal(x, /, *, offset=0):
    """The ``offset``-th diagonal of (a stack of) matrices.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.diagonal(xp.asarray([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    return ember.diagonal(x, offset, -2, -1)


def eigh(x, /):
    """Eigenvalues (ascending) and eigenvectors of (a stack of) Hermitian matrices.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.eigh(xp.asarray([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
    tensor([1., 2.])
    """
    return EighResult(*ember.linalg.eigh(x))


def eigvalsh(x, /):
    """Eigenvalues (ascending) of (a stack of) Hermitian matrices.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.eigvalsh(xp.asarray([[2.0, 0.0], [0.0, 1.0]]))
    tensor([1., 2.])
    """
    return ember.linalg.eigvalsh(x)


def inv(x, /):
    """Inverse of (a stack of) square matrices.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.inv(xp.asarray([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return ember.linalg.inv(x)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm over the last two axes (``'fro'``, ``'nuc'``, ``1``, ``2``, ``inf``, ...).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.matrix_norm(xp.asarray([[3.0, 0.0], [0.0, 4.0]]))
    tensor(5.)
    """
    return ember.linalg.matrix_norm(x, ord, (-2, -1), keepdims)


def matrix_power(x, n, /):
    """``x`` raised to the integer power ``n`` (negative: of the inverse).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.matrix_power(xp.asarray([[1, 1], [0, 1]]), 3)
    tensor([[1, 3],
            [0, 1]])
    """
    return ember.linalg.matrix_power(x, n)


def matrix_rank(x, /, *, rtol=None):
    """Rank of (a stack of) matrices: singular values above ``rtol`` times the largest.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.matrix_rank(xp.asarray([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    return ember.linalg.matrix_rank(x, rtol=rtol)


def outer(x1, x2, /):
    """Outer product of two 1-d arrays.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.outer(xp.asarray([1, 2]), xp.asarray([3, 4]))
    tensor([[3, 4],
            [6, 8]])
    """
    return ember.outer(*_common((x1, x2), "outer"))


def pinv(x, /, *, rtol=None):
    """Moore-Penrose pseudo-inverse of (a stack of) matrices.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.pinv(xp.asarray([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    return ember.linalg.pinv(x, rtol=rtol)


def qr(x, /, *, mode="reduced"):
    """QR decomposition (``mode`` ``'reduced'`` or ``'complete'``).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.qr(xp.eye(2)).R
    tensor([[1., 0.],
            [0., 1.]])
    """
    return QRResult(*ember.linalg.qr(x, mode=mode))


def slogdet(x, /):
    """Sign and log of the absolute value of the determinant.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.slogdet(xp.asarray([[2.0, 0.0], [0.0, -1.0]])).sign
    tensor(-1.)
    """
    return SlogdetResult(*ember.linalg.slogdet(x))


def solve(x1, x2, /):
    """Solution of ``x1 @ result = x2``; ``x2`` is a vector only when it is 1-d, and the
    batch axes broadcast.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.solve(xp.asarray([[2.0, 0.0], [0.0, 4.0]]), xp.asarray([2.0, 2.0]))
    tensor([1.0000, 0.5000])
    """
    x1, x2 = _common((x1, x2), "solve")
    if x2.ndim == 1:
        x2 = x2.reshape(-1, 1).broadcast_to(tuple(x1.shape[:-1]) + (1,))
        return ember.linalg.solve(x1, x2)[..., 0]
    batch = ember.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    x1 = x1.broadcast_to(tuple(batch) + tuple(x1.shape[-2:]))
    x2 = x2.broadcast_to(tuple(batch) + tuple(x2.shape[-2:]))
    return ember.linalg.solve(x1, x2)


def svd(x, /, *, full_matrices=True):
    """Singular value decomposition ``U @ diag(S) @ Vh``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.svd(xp.asarray([[3.0, 0.0], [0.0, 4.0]])).S
    tensor([4., 3.])
    """
    return SVDResult(*ember.linalg.svd(x, full_matrices=full_matrices))


def svdvals(x, /):
    """Singular values of (a stack of) matrices, descending.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.svdvals(xp.asarray([[3.0, 0.0], [0.0, 4.0]]))
    tensor([4., 3.])
    """
    return ember.linalg.svdvals(x)


def trace(x, /, *, offset=0, dtype=None):
    """Sum of the ``offset``-th diagonal of (a stack of) matrices, accumulated like
    :func:`ember.array_api.sum`.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.trace(xp.asarray([[1, 2], [3, 4]]))
    tensor(5)
    """
    return ember.sum(ember.diagonal(x, offset, -2, -1), -1, dtype=dtype)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Vector norm over ``axis`` (all axes when None).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.linalg.vector_norm(xp.asarray([3.0, 4.0]))
    tensor(5.)
    """
    return ember.linalg.vector_norm(x, ord, axis, keepdims)
