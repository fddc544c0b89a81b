"""Functions built on the decompositions: ``pinv``, ``matrix_rank``, ``cond``, and
PyTorch's older top-level names ``svd`` (``V``, not ``Vh``), ``qr`` (``some=``),
``pinverse`` and ``orgqr``.  All but ``pinv`` are composites of differentiable ember ops,
so their gradients come from those of the decompositions; ``pinv`` is one recorded op
with PyTorch's derivative."""
from ember.ops.autocast import autocasts
import functools
import math

import ember
from ember._core._dtype import TORCH_NAMES
from ember._core._tensor import Tensor, _add_method, record
from ember.ops.derivatives import derivative
from ember.linalg._decomp import (
    _REAL_OF, _check_matrix, _maybe_out, _result_type, eigh, eigvalsh,
    householder_product, qr, svd, svdvals,
)
from ember.linalg._common import binding_names, requires_grad
from ember.linalg._lstsq import _pinv_backward
from ember.linalg._solve import inv_ex

__all__ = ["pinv", "matrix_rank", "cond", "svd_compat", "qr_compat", "pinverse", "orgqr"]

_EPS = {ember.float32: 2.0 ** -23, ember.float64: 2.0 ** -52}
old_svd_result = _result_type("svd", ["U", "S", "V"])
old_qr_result = _result_type("qr", ["Q", "R"])


# ---------------------------------------------------------------- pinv, matrix_rank, cond

def _tolerance(A, atol, rtol, top):
    """``max(atol, rtol * top)`` with PyTorch's defaults (``top``: the largest singular
    value or eigenvalue magnitude, kept as a trailing dim)."""
    real = _REAL_OF[A.dtype]
    if rtol is None:
        default = _EPS[real] * max(A.shape[-2], A.shape[-1])
        if atol is None:
            rtol = default
        elif isinstance(atol, Tensor):
            rtol = ember.where(atol > 0, ember.zeros((), dtype=real, device=A.device),
                               ember.full((), default, dtype=real, device=A.device))
        else:
            rtol = 0.0 if atol > 0 else default
    atol = 0.0 if atol is None else atol
    # tensor tolerances broadcast against the batch dims of A (``top`` has a trailing dim)
    if isinstance(rtol, Tensor) and rtol.dim():
        rtol = rtol.unsqueeze(-1)
    tol = top * rtol
    if isinstance(atol, Tensor):
        atol = atol.unsqueeze(-1) if atol.dim() else atol
        return ember.maximum(tol, atol.to(real))
    return ember.clamp(tol, min=atol)


def _spectrum(A, hermitian, need_vectors):
    """Singular values (descending) or, for ``hermitian``, eigenvalue magnitudes."""
    if hermitian:
        if need_vectors:
            L, V = eigh(A)
            return L, V
        return eigvalsh(A).abs()
    return svd(A, full_matrices=False) if need_vectors else svdvals(A)


@binding_names(input="A")
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Moore-Penrose pseudo-inverse, from the SVD (or, with ``hermitian``, ``eigh``).

    Singular values at or below ``max(atol, rtol * largest)`` are treated as zero;
    ``rtol`` defaults to ``eps * max(m, n)`` when ``atol`` is not given or is zero.

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)`` matrices.
    rcond : float or Tensor, optional
        PyTorch's older form of the tolerance, as NumPy's ``rcond``: the same as
        ``atol=0, rtol=rcond``.  It may not be given with ``atol`` or ``rtol``.
    hermitian : bool, optional
        ``A`` is Hermitian (real symmetric): its eigendecomposition is used, reading
        only the lower triangle.
    atol, rtol : float or Tensor, optional
        Absolute and relative tolerances (a tensor broadcasts against the batch).
    out : Tensor, optional

    Examples
    --------
    >>> import ember
    >>> ember.linalg.pinv(ember.tensor([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    >>> ember.linalg.pinv(ember.tensor([[2.0, 0.0], [0.0, 1e-3]]), rcond=1e-2)
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    _check_matrix(A, "linalg.pinv", kernel="linalg_pinv")
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg_pinv() takes either rcond or atol and rtol, not both")
        atol, rtol = 0.0, rcond
    for name, tol in (("rcond" if rcond is not None else "rtol", rtol), ("atol", atol)):
        if isinstance(tol, Tensor) and tol.is_complex():
            raise RuntimeError(f"torch.linalg.pinv: {name} tensor of complex type is not "
                               f"supported. Got {TORCH_NAMES[tol.dtype.num]}")
    args = (A, atol, rtol, hermitian)
    return _maybe_out(record("linalg_pinv", _pinv, args) if requires_grad(A) else _pinv(*args),
                      out, "linalg_pinv", "linalg.pinv", exact=False)


def _pinv(A, atol, rtol, hermitian):
    m, n = A.shape[-2], A.shape[-1]
    if A.numel() == 0:
        return ember.zeros(tuple(A.shape[:-2]) + (n, m), dtype=A.dtype, device=A.device)
    real = _REAL_OF[A.dtype]
    zero = ember.zeros((), dtype=real, device=A.device)
    if hermitian:
        L, V = _spectrum(A, True, True)
        mag = L.abs()
        tol = _tolerance(A, atol, rtol, mag.amax(-1, keepdim=True))
        inv = ember.where(mag > tol, 1 / L, zero).to(A.dtype)
        return (V * inv.unsqueeze(-2)) @ V.mH
    U, S, Vh = _spectrum(A, False, True)
    tol = _tolerance(A, atol, rtol, S[..., :1])
    inv = ember.where(S > tol, 1 / S, zero).to(A.dtype)
    return (Vh.mH * inv.unsqueeze(-2)) @ U.mH


@derivative("linalg_pinv", save_result=True)
def _pinv_derivative(ctx, grad, A, atol, rtol, hermitian):
    # PyTorch's formula, for every rank-preserving change of A (the one a composite of the
    # SVD would give is NaN where singular values repeat, and assumes a Hermitian change
    # with ``hermitian``)
    return _pinv_backward(grad, ctx.result, A)


@binding_names(input="A")
@autocasts("linalg_matrix_rank")
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Numerical rank: the number of singular values (eigenvalue magnitudes with
    ``hermitian``) above ``max(atol, rtol * largest)``.  ``tol`` is PyTorch's older
    spelling of ``atol`` (then ``rtol`` is 0).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.matrix_rank(ember.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    _check_matrix(A, "linalg.matrix_rank", kernel="linalg_svd")
    if tol is not None:
        atol, rtol = tol, 0.0
    if A.numel() == 0:
        rank = ember.zeros(tuple(A.shape[:-2]), dtype=ember.int64, device=A.device)
    else:
        with ember.no_grad():
            S = _spectrum(A, hermitian, False)
            top = S.amax(-1, keepdim=True) if hermitian else S[..., :1]
            rank = (S > _tolerance(A, atol, rtol, top)).sum(-1)
    # PyTorch writes the int64 count into any out it safely casts to (int32, float...)
    return _maybe_out(rank, out, "linalg_matrix_rank", "torch.linalg.matrix_rank", exact=False)


def _matrix_norm(A, p):
    """The matrix norms ``cond`` takes from an inverse: 'fro', 1, -1, inf, -inf."""
    if p == "fro":
        return (A.abs() ** 2).sum((-2, -1)).sqrt()
    sums = A.abs().sum(-2 if abs(p) == 1 else -1)
    return sums.amax(-1) if p > 0 else sums.amin(-1)


@binding_names(input="A")
@autocasts("linalg_cond")
def cond(A, p=None, *, out=None):
    """Condition number of ``A`` in the matrix norm ``p``.

    ``p`` None, 2 or -2 use the singular values (any shape); 'nuc' the singular values
    too, as ``sum(S) * sum(1 / S)``; 'fro', inf, -inf, 1 and -1 use
    ``norm(A, p) * norm(inv(A), p)`` (square ``A``).  As in PyTorch, a matrix that LU
    finds singular (an exactly zero pivot) has condition number inf in those four and
    in 'fro', and so has one whose product of norms is NaN (0 times inf).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.cond(ember.tensor([[4.0, 0.0], [0.0, 2.0]]))
    tensor(2.)
    """
    _check_matrix(A, "linalg.cond", kernel="linalg_cond")
    if p is None or p in (2, -2):
        S = svdvals(A)
        if A.numel() == 0:
            return _maybe_out(ember.zeros(tuple(A.shape[:-2]), dtype=_REAL_OF[A.dtype],
                                          device=A.device), out, None)
        ratio = S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
        return _maybe_out(ratio, out, None)
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    if A.numel() == 0:
        return _maybe_out(ember.zeros(tuple(A.shape[:-2]), dtype=_REAL_OF[A.dtype],
                                      device=A.device), out, None)
    if p == "nuc":
        # PyTorch's definition, which also holds where A has no inverse
        S = svdvals(A)
        return _maybe_out(S.sum(-1) * S.reciprocal().sum(-1), out, None)
    inverse, info = inv_ex(A)
    singular = info > 0
    if bool(singular.any()):
        # the norms of PyTorch's inf-filled inverse, inf whatever p is
        inverse = inverse.masked_fill(singular[..., None, None], 0)
    result = _matrix_norm(A, p) * _matrix_norm(inverse, p)
    result = ember.where(singular | result.isnan(), math.inf, result)
    return _maybe_out(result, out, None)


# ---------------------------------------------------------------- PyTorch's older names

@autocasts("svd")
def svd_compat(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: ``input = U @ diag(S) @ V^H`` (``V``, not ``Vh``).

    ``some`` gives the reduced factors; with ``compute_uv=False`` only ``S`` is
    computed and ``U``, ``V`` are zero-filled ``(*, m, m)`` and ``(*, n, n)``.

    Examples
    --------
    >>> import ember
    >>> ember.svd(ember.tensor([[2.0, 0.0], [0.0, 1.0]])).S
    tensor([2., 1.])
    """
    _check_matrix(input, "linalg.svd", argname="A", kernel="linalg_svd")
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        S = svdvals(input)
        zeros = functools.partial(ember.zeros, dtype=input.dtype, device=input.device)
        result = old_svd_result(zeros(batch + (m, m)), S, zeros(batch + (n, n)))
    else:
        U, S, Vh = svd(input, full_matrices=not some)
        result = old_svd_result(U, S, Vh.mH)
    return _maybe_out(result, out, "_linalg_svd")


@autocasts("qr")
def qr_compat(input, some=True, *, out=None):
    """``torch.qr``: ``linalg.qr`` with ``some=True`` for 'reduced', False for 'complete'."""
    return _maybe_out(old_qr_result(*qr(input, "reduced" if some else "complete")),
                      out, "linalg_qr")


@autocasts("pinverse")
def pinverse(input, rcond=1e-15, hermitian=False):
    """``torch.pinverse``: :func:`pinv` with ``rtol=rcond``."""
    return pinv(input, rtol=rcond, hermitian=hermitian)


@binding_names(input2="tau")
@autocasts("orgqr")
def orgqr(input, tau):
    """``torch.orgqr``: alias of :func:`householder_product`."""
    return householder_product(input, tau)


for _name, _fn in {"svd": svd_compat, "qr": qr_compat, "pinverse": pinverse,
                   "orgqr": orgqr}.items():
    _add_method(_name, _fn)
del _name, _fn
