"""Matrix decompositions: ``qr``, ``svd``, ``svdvals``, ``eig``, ``eigvals``, ``eigh``,
``eigvalsh`` and ``householder_product``, with PyTorch's derivatives (what is built
on them is in ``_decomp_derived.py``).

LAPACK does the work (``ember._core._lapack_decomp``) on column-major copies of the
input, so the factors come back as ``.mT`` views of LAPACK's output, in the
column-major layout PyTorch returns too.  The backward formulas are PyTorch's
(``svd_backward``, ``linalg_eig_backward``, ``linalg_qr_backward``), written with
ember ops so that they are differentiable again.  Their triangular and general
solves go through :func:`_trisolve`, a recorded op on BLAS's ``trsm``.
"""
from ember.ops.autocast import autocasts
import math
from collections import namedtuple

import ember
from ember._core import _lapack_decomp as _lapack
from ember._core._dtype import TORCH_NAMES
from ember._core._tensor import Tensor, _recorded, record
from ember.linalg._common import binding_names, LinAlgError, on_gpu, on_host, out_into
from ember.ops.derivatives import derivative

__all__ = ["qr", "svd", "svdvals", "eig", "eigvals", "eigh", "eigvalsh",
           "householder_product"]


def _result_type(name, fields):
    result = namedtuple(name, fields)
    result.__module__ = "ember.return_types"
    return result


svd_result = _result_type("linalg_svd", ["U", "S", "Vh"])
qr_result = _result_type("linalg_qr", ["Q", "R"])
eigh_result = _result_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
eig_result = _result_type("linalg_eig", ["eigenvalues", "eigenvectors"])

_REAL_OF = {ember.float32: ember.float32, ember.float64: ember.float64,
            ember.complex64: ember.float32, ember.complex128: ember.float64}
_COMPLEX_OF = {ember.float32: ember.complex64, ember.float64: ember.complex128,
               ember.complex64: ember.complex64, ember.complex128: ember.complex128}


# ---------------------------------------------------------------- checks and layout

def _check_matrix(A, fname, argname="A", square=False, kernel=None):
    """PyTorch's checks of a (batch of) matrix argument."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{fname.replace('.', '_')}(): argument '{argname}' (position 1) must "
                        f"be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor {argname} must have at least 2 dimensions.")
    if A.dtype in (ember.float16, ember.bfloat16) or (kernel == "linalg_eigh" and
                                                      A.dtype not in _REAL_OF):
        raise NotImplementedError(f'"{kernel or fname.replace(".", "_")}_cpu" not implemented for '
                                  f"'{TORCH_NAMES[A.dtype.num]}'")
    if A.dtype not in _REAL_OF:
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {TORCH_NAMES[A.dtype.num]}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fname}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _column_major(A):
    """A fresh ``(..., n, m)`` contiguous tensor holding each ``m x n`` matrix of ``A``
    column-major (LAPACK overwrites it)."""
    work = ember.empty(tuple(A.shape[:-2]) + (A.shape[-1], A.shape[-2]), dtype=A.dtype)
    work.copy_(A.mT)
    return work


def _batch_size(A):
    return math.prod(A.shape[:-2])


def _check_info(infos, fname, what):
    """Raise PyTorch's LinAlgError for the first matrix LAPACK failed on."""
    bad = ember.nonzero(infos.reshape(-1)) if infos.numel() else None
    if bad is not None and bad.numel():
        first = int(bad[0, 0])
        code = int(infos.reshape(-1)[first])
        where = f"(Batch element {first}): " if infos.numel() > 1 else ""
        raise LinAlgError(f"{fname}: {where}The algorithm failed to converge because the input "
                          f"matrix is ill-conditioned or has too many repeated {what} "
                          f"(error code: {code}).")


def _eye_batch(batch, n, dtype, device):
    return ember.eye(n, dtype=dtype, device=device).expand(tuple(batch) + (n, n)).clone()


def _diag_embed(x):
    """A batch of diagonal matrices with ``x`` on the diagonal (differentiable)."""
    n = x.shape[-1]
    return x.unsqueeze(-1) * ember.eye(n, dtype=_REAL_OF.get(x.dtype, x.dtype), device=x.device)


def _diagonal(X):
    return X.diagonal(0, -2, -1)


# ---------------------------------------------------------------- SVD

@on_gpu("svd")
def _svd_raw(A, full_matrices, compute_uv):
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    batch = tuple(A.shape[:-2])
    real = _REAL_OF[A.dtype]
    ucols, vtrows = (m, n) if full_matrices else (k, k)
    if k == 0 or _batch_size(A) == 0:
        S = ember.zeros(batch + (k,), dtype=real)
        if not compute_uv:
            return S
        U = (_eye_batch(batch, m, A.dtype, A.device)[..., :ucols] if full_matrices
             else ember.zeros(batch + (m, ucols), dtype=A.dtype))
        Vh = (_eye_batch(batch, n, A.dtype, A.device)[..., :vtrows, :] if full_matrices
              else ember.zeros(batch + (vtrows, n), dtype=A.dtype))
        return U, S, Vh
    work = _column_major(A)
    S = ember.empty(batch + (k,), dtype=real)
    infos = ember.zeros(batch, dtype=ember.int32)
    if compute_uv:
        u = ember.empty(batch + (ucols, m), dtype=A.dtype)
        vt = ember.empty(batch + (n, vtrows), dtype=A.dtype)
        jobz = "A" if full_matrices else "S"
    else:
        u = vt = work
        jobz = "N"
    _lapack.gesdd(work, S, u, vt, m, n, jobz, infos)
    _check_info(infos, "linalg.svd", "singular values")
    return (u.mT, S, vt.mT) if compute_uv else S


@autocasts("linalg_svd")
def svd(A, full_matrices=True, *, driver=None, out=None):
    """Singular value decomposition ``A = U @ diag(S) @ Vh``.

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)``, float32, float64, complex64 or complex128.
    full_matrices : bool
        ``U`` is ``(*, m, m)`` and ``Vh`` ``(*, n, n)`` when True, else
        ``(*, m, k)`` and ``(*, k, n)`` with ``k = min(m, n)``.
    driver : None
        Accepted for PyTorch compatibility (a CUDA option); must be None.
    out : tuple of Tensor, optional
        Three tensors to write ``U``, ``S`` and ``Vh`` into.

    Returns
    -------
    (U, S, Vh) : namedtuple
        ``S`` is real, in descending order.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[3.0, 0.0], [0.0, -2.0]])
    >>> ember.linalg.svd(A).S
    tensor([3., 2.])
    """
    _check_matrix(A, "linalg.svd", kernel="linalg_svd")
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    if _recorded(A):
        result = record("linalg_svd", _svd_raw, (A, bool(full_matrices), True))
    else:
        result = _svd_raw(A, bool(full_matrices), True)
    return _maybe_out(svd_result(*result), out, "_linalg_svd")


@autocasts("linalg_svdvals")
def svdvals(A, *, driver=None, out=None):
    """Singular values of ``A`` (real, descending): ``svd(A).S`` without the vectors.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.svdvals(ember.tensor([[1.0, 0.0], [0.0, 4.0]]))
    tensor([4., 1.])
    """
    _check_matrix(A, "linalg.svdvals", kernel="linalg_svd")
    if _recorded(A):
        # the backward needs the vectors (PyTorch computes them too)
        S = record("linalg_svd", _svd_raw, (A, False, True))[1]
    else:
        S = _svd_raw(A, False, False)
    return _maybe_out(S, out, "_linalg_svd")


def _maybe_out(result, out, fname, castable=None, exact=True):
    """Write ``result`` (a tensor or a tuple of them) into ``out`` when given, as
    :func:`out_into` writes each (``fname``: its kernel's name, or None)."""
    if out is None:
        return result
    pairs = zip(out, result) if isinstance(result, tuple) else ((out, result),)
    for dst, src in pairs:
        if not isinstance(dst, Tensor):
            raise TypeError(f"out must be a Tensor, not {type(dst).__name__}")
        out_into(src, dst, castable, exact, fname=fname)
    return type(result)(*out) if isinstance(result, tuple) else out


@derivative("linalg_svd", node="LinalgSvdBackward0", save_inputs=False, save_result=True)
def _svd_backward(ctx, grads, A, full_matrices, compute_uv):
    gU, gS, gVh = grads
    U, S, Vh = ctx.result
    k = S.shape[-1]
    if full_matrices:
        gU, U = gU[..., :k], U[..., :k]
        gVh, Vh = gVh[..., :k, :], Vh[..., :k, :]
    return _svd_backward_formula(gU, gS, gVh, U, S, Vh), None, None


def _svd_backward_formula(gU, gS, gVh, U, S, Vh):
    """PyTorch's ``svd_backward`` (reduced factors)."""
    m, n = U.shape[-2], Vh.shape[-1]
    if S.shape[-1] == 0:
        return ember.zeros(tuple(U.shape[:-1]) + (n,), dtype=U.dtype, device=U.device)
    if not (gU.requires_grad or gVh.requires_grad or gU.any() or gVh.any()):
        # only the singular values matter (svdvals, matrix norms): PyTorch's shortcut for
        # undefined gU and gVh, free of the 0/0 that repeated values give below
        return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
    UhgU = U.mH @ gU
    UhgU = UhgU - UhgU.mH
    VhgV = Vh @ gVh.mH
    VhgV = VhgV - VhgV.mH
    if U.is_complex():
        im_u, im_v = _diagonal(UhgU).imag, _diagonal(VhgV).imag
        if not ember.allclose(im_u, -im_v, rtol=1e-2, atol=1e-2):
            raise RuntimeError(
                "svd_backward: The singular vectors in the complex case are specified up to "
                "multiplication by e^{i phi}. The specified loss function depends on this phase "
                "term, making it ill-defined.")
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    eye = ember.eye(S.shape[-1], dtype=S.dtype, device=S.device)
    E = E + eye                       # any non-zero on the diagonal: it divides zeros there
    gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    gA = gA + _diag_embed(gS)
    if U.is_complex():
        gA = gA + _diag_embed(_diagonal(UhgU) / (2 * S))
    if m > n:
        gA = U @ gA
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U @ (U.mH @ gUSinv)
        return gA @ Vh
    if m < n:
        gA = gA @ Vh
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - (SinvgVh @ Vh.mH) @ Vh
        return U @ gA
    return U @ (gA @ Vh)


# ---------------------------------------------------------------- QR

_QR_MODES = ("reduced", "complete", "r")


@on_gpu("qr")
def _qr_raw(A, mode):
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    batch = tuple(A.shape[:-2])
    qcols = m if mode == "complete" else k
    rrows = m if mode == "complete" else k
    if _batch_size(A) == 0 or k == 0:
        R = ember.zeros(batch + (rrows, n), dtype=A.dtype)
        Q = (_eye_batch(batch, m, A.dtype, A.device)[..., :qcols] if mode != "r"
             else ember.empty((0,), dtype=A.dtype))
        return Q, R
    work = _column_major(A)
    tau = ember.empty(batch + (k,), dtype=A.dtype)
    infos = ember.zeros(batch, dtype=ember.int32)
    _lapack.qr_kernel(False, work, tau, m, n, k, infos)
    R = ember.triu(work.mT[..., :rrows, :])
    if mode == "r":
        return ember.empty((0,), dtype=A.dtype), R
    if qcols <= n:
        q = work[..., :qcols, :].clone()
    else:                             # complete with m > n: room for m columns
        q = ember.zeros(batch + (m, m), dtype=A.dtype)
        q[..., :n, :] = work
    _lapack.qr_kernel(True, q, tau, m, qcols, k, infos)
    return q.mT, R


@autocasts("linalg_qr")
def qr(A, mode="reduced", *, out=None):
    """QR decomposition ``A = Q @ R`` (Householder, LAPACK ``geqrf`` + ``orgqr``).

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)``.
    mode : {'reduced', 'complete', 'r'}
        ``'reduced'``: ``Q`` ``(*, m, k)``, ``R`` ``(*, k, n)`` with ``k = min(m, n)``;
        ``'complete'``: ``Q`` ``(*, m, m)``, ``R`` ``(*, m, n)``; ``'r'``: only ``R``
        (``Q`` is empty).

    Returns
    -------
    (Q, R) : namedtuple

    Examples
    --------
    >>> import ember
    >>> Q, R = ember.linalg.qr(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> bool(ember.allclose(Q @ R, ember.tensor([[3.0, 1.0], [4.0, 2.0]])))
    True
    """
    _check_matrix(A, "linalg.qr", kernel="linalg_qr")
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    if _recorded(A):
        result = record("linalg_qr", _qr_raw, (A, mode))
    else:
        result = _qr_raw(A, mode)
    return _maybe_out(qr_result(*result), out, "linalg_qr")


def _syminvadj_triu(G):
    """``X + X^H - Re(diag X)`` for ``X = triu(G)``: the adjoint of the map taking
    ``Q^H dA R^-1`` to ``dR R^-1``."""
    X = ember.triu(G)
    diag = _diagonal(X)
    return X + X.mH - _diag_embed(diag.real if X.is_complex() else diag)


def _qr_square_backward(gQ, gR, Q, R):
    """``gA = (gQ + Q syminvadj(triu(gR R^H - Q^H gQ))) R^-H`` for ``m >= n``."""
    G = gR @ R.mH - Q.mH @ gQ
    M = gQ + Q @ _syminvadj_triu(G)
    return _trisolve(M, R.mH, left=False, upper=False)


@derivative("linalg_qr", node="LinalgQrBackward0", save_inputs=False, save_result=True)
def _qr_backward(ctx, grads, A, mode):
    gQ, gR = grads
    Q, R = ctx.result
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                           "to differentiate through linalg.qr.")
    m, n = Q.shape[-2], R.shape[-1]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    if m >= n:
        return _qr_square_backward(gQ, gR, Q, R), None
    # A = [X | Y] with X = Q R1 square and Y = Q R2: R2 = Q^H Y
    R1, gR1, gR2 = R[..., :m], gR[..., :m], gR[..., m:]
    Y = ctx.result[0] @ R[..., m:]
    gX = _qr_square_backward(gQ + Y @ gR2.mH, gR1, Q, R1)
    return ember.cat([gX, Q @ gR2], dim=-1), None


# ---------------------------------------------------------------- triangular solve (helper)

@on_host
def _trisolve_raw(B, T, left, upper):
    m, n = B.shape[-2], B.shape[-1]
    dtype = ember.promote_types(B.dtype, T.dtype)
    batch = tuple(B.shape[:-2])
    B, T = B.to(dtype), T.to(dtype).expand(batch + tuple(T.shape[-2:]))
    work = _column_major(B)
    if work.numel():
        _lapack.trsm(_column_major(T), work, m, n, left, upper)
    return work.mT


def _trisolve(B, T, *, left, upper):
    """``T^-1 B`` (``left``) or ``B T^-1`` for the triangular ``T`` (upper or lower),
    by BLAS ``trsm``; differentiable (a recorded op)."""
    if (_recorded(B) or _recorded(T)):
        return record("linalg_trisolve", _trisolve_raw, (B, T, left, upper))
    return _trisolve_raw(B, T, left, upper)


@derivative("linalg_trisolve", node="LinalgSolveTriangularBackward0", save_result=True)
def _trisolve_backward(ctx, grad, B, T, left, upper):
    need_b, need_t = ctx.needs_input_grad
    X = ctx.result
    gB = _trisolve(grad, T.mH, left=left, upper=not upper)
    gT = None
    if need_t:
        gT = -(gB @ X.mH) if left else -(X.mH @ gB)
        gT = ember.triu(gT) if upper else ember.tril(gT)
    return gB if need_b else None, gT, None, None


def _solve_via_qr(A, B):
    """``A^-1 B`` for square ``A``, differentiably, as ``R^-1 Q^H B``."""
    Q, R = qr(A)
    return _trisolve(Q.mH @ B, R, left=True, upper=True)


# ---------------------------------------------------------------- Hermitian eigen

def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


@on_gpu("eigh")
def _eigh_raw(A, UPLO, vectors):
    n = A.shape[-1]
    batch = tuple(A.shape[:-2])
    w = ember.empty(batch + (n,), dtype=_REAL_OF[A.dtype])
    if _batch_size(A) == 0 or n == 0:
        return (w, ember.empty(tuple(A.shape), dtype=A.dtype)) if vectors else w
    work = _column_major(A)
    infos = ember.zeros(batch, dtype=ember.int32)
    _lapack.syevd(work, w, vectors, UPLO, infos)
    _check_info(infos, "linalg.eigh", "eigenvalues")
    return (w, work.mT) if vectors else w


@binding_names(input="A")
@autocasts("linalg_eigh")
def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending, real) and orthonormal eigenvectors of a Hermitian
    (or real symmetric) matrix, reading only its ``UPLO`` triangle.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)``.
    UPLO : {'L', 'U'}
        Which triangle of ``A`` is read.

    Returns
    -------
    (eigenvalues, eigenvectors) : namedtuple
        ``A = V @ diag(L) @ V^H`` with ``V`` the eigenvectors (columns).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.eigh(ember.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """
    _check_matrix(A, "linalg.eigh", square=True, kernel="linalg_eigh")
    _check_uplo(UPLO)
    if _recorded(A):
        result = record("linalg_eigh", _eigh_raw, (A, UPLO, True))
    else:
        result = _eigh_raw(A, UPLO, True)
    return _maybe_out(eigh_result(*result), out, "_linalg_eigh")


@binding_names(input="A")
@autocasts("linalg_eigvalsh")
def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues of a Hermitian (or real symmetric) matrix, ascending (real).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.eigvalsh(ember.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    _check_matrix(A, "linalg.eigvalsh", square=True, kernel="linalg_eigh")
    _check_uplo(UPLO)
    if _recorded(A):
        return _maybe_out(record("linalg_eigh", _eigh_raw, (A, UPLO, True))[0],
                          out, "_linalg_eigh")
    return _maybe_out(_eigh_raw(A, UPLO, False), out, "_linalg_eigh")


def _eig_backward_formula(gL, gV, L, V, hermitian):
    """PyTorch's ``linalg_eig_backward``."""
    if not gV.requires_grad and not gV.any():
        # only the eigenvalues matter (eigvalsh, eigvals): PyTorch's shortcut for an
        # undefined gV, which needs no division by the gaps (0/0 for repeated ones)
        if hermitian:
            return (V * gL.unsqueeze(-2)) @ V.mH
        return _solve_via_qr(V.mH, gL.unsqueeze(-1) * V.mH)
    VhgV = V.mH @ gV
    diag = _diagonal(VhgV)
    if V.is_complex():
        im = diag.imag
        if not ember.allclose(im, ember.zeros_like(im), rtol=1e-2, atol=1e-2):
            name = "linalg_eigh_backward" if hermitian else "linalg_eig_backward"
            raise RuntimeError(f"{name}: The eigenvectors in the complex case are specified up "
                               "to multiplication by e^{i phi}. The specified loss function "
                               "depends on this quantity, so it is ill-defined.")
    if hermitian:
        VhgV = 0.5 * (VhgV - VhgV.mH)
    else:
        VhgV = VhgV - V.mH @ (V * (diag.real if diag.is_complex() else diag).unsqueeze(-2))
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    E = E + ember.eye(L.shape[-1], dtype=_REAL_OF[L.dtype], device=L.device)
    gA = VhgV / (E if hermitian else E.conj())
    gA = gA - _diag_embed(_diagonal(gA)) + _diag_embed(gL)
    if hermitian:
        return V @ (gA @ V.mH)
    return _solve_via_qr(V.mH, gA @ V.mH)


@derivative("linalg_eigh", node="LinalgEighBackward0", save_inputs=False, save_result=True)
def _eigh_backward(ctx, grads, A, UPLO, vectors):
    gL, gV = grads
    L, V = ctx.result
    return _eig_backward_formula(gL, gV, L, V, True), None, None


# ---------------------------------------------------------------- general eigen

@on_host
def _eig_raw(A, vectors):
    n = A.shape[-1]
    batch = tuple(A.shape[:-2])
    cdtype = _COMPLEX_OF[A.dtype]
    w = ember.empty(batch + (n,), dtype=cdtype)
    v = ember.empty(batch + (n, n), dtype=cdtype) if vectors else w
    if _batch_size(A) and n:
        work = _column_major(A)
        infos = ember.zeros(batch, dtype=ember.int32)
        _lapack.geev(work, w, v, vectors, infos)
        _check_info(infos, "linalg.eig", "eigenvalues")
    return (w, v.mT) if vectors else w


@binding_names(input="A")
@autocasts("linalg_eig")
def eig(A, *, out=None):
    """Eigenvalues and right eigenvectors of a square matrix (complex results).

    Each eigenvector has norm 1 (LAPACK ``geev``'s normalisation, as PyTorch).

    Returns
    -------
    (eigenvalues, eigenvectors) : namedtuple
        complex64 for float32/complex64 input, complex128 otherwise.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.eig(ember.tensor([[0.0, -1.0], [1.0, 0.0]])).eigenvalues
    tensor([0.+1.j, 0.-1.j])
    """
    _check_matrix(A, "linalg.eig", square=True, kernel="linalg_eig")
    if _recorded(A):
        result = record("linalg_eig", _eig_raw, (A, True))
    else:
        result = _eig_raw(A, True)
    return _maybe_out(eig_result(*result), out, "linalg_eig")


@binding_names(input="A")
@autocasts("linalg_eigvals")
def eigvals(A, *, out=None):
    """Eigenvalues of a square matrix (complex).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.eigvals(ember.tensor([[2.0, 0.0], [0.0, 3.0]]))
    tensor([2.+0.j, 3.+0.j])
    """
    _check_matrix(A, "linalg.eigvals", square=True, kernel="linalg_eig")
    if _recorded(A):
        return _maybe_out(record("linalg_eig", _eig_raw, (A, True))[0], out, None)
    return _maybe_out(_eig_raw(A, False), out, None)


@derivative("linalg_eig", node="LinalgEigBackward0", save_inputs=False, save_result=True)
def _eig_backward(ctx, grads, A, vectors):
    gL, gV = grads
    L, V = ctx.result
    return _eig_backward_formula(gL, gV, L, V, False), None


# ---------------------------------------------------------------- Householder product

@on_host
def _householder_raw(A, tau):
    m, n, k = A.shape[-2], A.shape[-1], tau.shape[-1]
    batch = tuple(A.shape[:-2])
    if _batch_size(A) == 0 or n == 0:
        return ember.empty(tuple(A.shape), dtype=A.dtype).mT.mT
    work = _column_major(A)
    tau = tau.to(A.dtype).contiguous()
    if k == 0:
        return _eye_batch(batch, m, A.dtype, A.device)[..., :n]
    infos = ember.zeros(batch, dtype=ember.int32)
    _lapack.qr_kernel(True, work, tau, m, n, k, infos)
    return work.mT


@binding_names(input="A")
@autocasts("linalg_householder_product")
def householder_product(A, tau, *, out=None):
    """The first ``n`` columns of the product of Householder reflectors
    ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^H`` with ``v_i`` stored below the
    diagonal of column ``i`` of ``A`` (LAPACK ``orgqr``/``ungqr``).

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)`` with ``m >= n``.
    tau : Tensor
        ``(*, k)`` with ``k <= n``.

    Returns
    -------
    Tensor
        ``(*, m, n)``, orthonormal columns.

    Notes
    -----
    With a gradient wanted, the product is formed reflector by reflector with
    ember ops (differentiable, also twice), else by LAPACK in one call.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[1.0, 0.0], [1.0, 1.0]])
    >>> ember.linalg.householder_product(A, ember.tensor([1.0, 0.0]))
    tensor([[ 0., -1.],
            [-1.,  0.]])
    """
    fname = "torch.linalg.householder_product"
    _check_matrix(A, fname.replace("torch.", ""), argname="input", kernel="orgqr")
    if not isinstance(tau, Tensor):
        raise TypeError(f"linalg_householder_product(): argument 'tau' (position 2) must be "
                        f"Tensor, not {type(tau).__name__}")
    if tau.dim() < 1:
        raise RuntimeError(f"{fname}: input.dim() must be greater than or equal to tau.dim()")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{fname}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(f"{fname}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{fname}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {tuple(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{fname}: tau dtype {tau.dtype} does not match input dtype "
                           f"{A.dtype}")
    if (_recorded(A) or _recorded(tau)):
        return _maybe_out(_householder_composite(A, tau), out, "linalg_householder_product")
    return _maybe_out(_householder_raw(A, tau), out, "linalg_householder_product")


def _householder_composite(A, tau):
    """``H_1 (H_2 (... H_k I[:, :n]))`` with ember ops: the differentiable form, used
    when a gradient is wanted (each reflector costs two thin products)."""
    m, n = A.shape[-2], A.shape[-1]
    # the v_i, unit diagonal
    V = ember.tril(A, -1) + ember.eye(m, n, dtype=A.dtype, device=A.device)
    Q = ember.eye(m, n, dtype=A.dtype, device=A.device).expand(tuple(A.shape)).clone()
    for i in reversed(range(tau.shape[-1])):
        v = V[..., :, i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.mH @ Q)
    return Q
