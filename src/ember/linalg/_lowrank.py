"""Randomized low-rank SVD and PCA: ``svd_lowrank`` and ``pca_lowrank``, PyTorch's
``torch/_lowrank.py`` (Halko, Martinsson and Tropp, 2009, algorithms 4.4 and 5.1)
written with ember ops, so that they are differentiable through ``qr`` and ``svd``."""
import ember
from ember._core._tensor import Tensor
from ember.linalg._decomp import qr, svd

__all__ = ["svd_lowrank", "pca_lowrank"]


def _approximate_basis(A, q, niter, M):
    """``Q`` with ``q`` orthonormal columns such that ``Q Q^H (A - M)`` approximates
    ``A - M`` (algorithm 4.4: a random range, refined by ``niter`` subspace iterations)."""
    dtype = A.dtype if A.is_floating_point() or A.is_complex() else ember.get_default_dtype()
    R = ember.randn(A.shape[-1], q, dtype=dtype)

    def times(X, Y):
        return X @ Y if M is None else X @ Y - (M @ Y if X is A else M.mH @ Y)

    Q = qr(times(A, R)).Q
    for _ in range(niter):
        Q = qr(times(A.mH, Q)).Q
        Q = qr(times(A, Q)).Q
    return Q


def _svd_lowrank(A, q, niter, M):
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2], A.shape[-1]
    if M is not None:
        M = M.broadcast_to(tuple(A.shape))
    if m < n:                                   # work with the tall matrix
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = svd(B, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A, q=6, niter=2, M=None):
    """Approximate SVD ``A ~ U diag(S) V^H`` of a low-rank matrix (of ``A - M`` when
    ``M`` is given), by randomized subspace iteration.

    A randomized method (its random draws come from ember's generator: seed it with
    :func:`ember.manual_seed` for repeatable results); for dense matrices of moderate
    size :func:`ember.linalg.svd` is exact and usually faster.

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)``.
    q : int, optional
        A slight overestimate of the rank of ``A`` (default 6).
    niter : int, optional
        The number of subspace iterations (default 2).
    M : Tensor, optional
        Broadcast to ``A``'s shape and subtracted from it (never formed as ``A - M``).

    Returns
    -------
    (U, S, V) : tuple of Tensor
        ``(*, m, q)``, ``(*, q)`` and ``(*, n, q)``.

    Examples
    --------
    >>> import ember
    >>> _ = ember.manual_seed(0)
    >>> A = ember.randn(20, 3, dtype=ember.float64) @ ember.randn(3, 10, dtype=ember.float64)
    >>> U, S, V = ember.svd_lowrank(A, q=4)
    >>> bool(ember.allclose(S[:3], ember.linalg.svdvals(A)[:3]))
    True
    """
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal component analysis of the data matrix ``A`` (samples in rows) by a
    randomized low-rank SVD of ``A`` minus its column means (``center=True``).

    The columns of ``V`` are the principal directions, ``S ** 2 / (m - 1)`` the
    variances along them, and ``A @ V[:, :k]`` projects on the first ``k``.

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)``.
    q : int, optional
        A slight overestimate of the rank of ``A`` (default ``min(6, m, n)``).
    center : bool
        Subtract the column means first.
    niter : int
        The number of subspace iterations.

    Returns
    -------
    (U, S, V) : tuple of Tensor
        ``(*, m, q)``, ``(*, q)`` and ``(*, n, q)``.

    Raises
    ------
    ValueError
        If ``q`` is not in ``[0, min(m, n)]`` or ``niter`` is negative.

    Examples
    --------
    >>> import ember
    >>> _ = ember.manual_seed(0)
    >>> X = ember.randn(50, 2, dtype=ember.float64) @ ember.randn(2, 5, dtype=ember.float64)
    >>> U, S, V = ember.pca_lowrank(X, q=3)
    >>> V.shape
    ember.Size([5, 3])
    >>> centered = X - X.mean(0)
    >>> bool(ember.allclose(U @ ember.diag(S) @ V.mT, centered))
    True
    """
    if not isinstance(A, Tensor):
        raise TypeError(f"pca_lowrank(): argument 'A' must be Tensor, not {type(A).__name__}")
    m, n = A.shape[-2], A.shape[-1]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)
