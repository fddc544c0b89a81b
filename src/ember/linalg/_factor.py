"""Cholesky and LU factorizations and triangular solves: ``cholesky(_ex)``,
``cholesky_inverse``, ``solve_triangular``, ``lu_factor(_ex)``, ``lu``, ``lu_solve``,
with PyTorch's derivatives.

``cholesky`` factors the row-major copy of ``A`` as LAPACK's column-major ``A^T``:
its upper factor, read row by row, is the lower factor of ``A``.  ``solve_triangular``
runs BLAS ``trsm`` on the matrices of ``A`` where they lie (row- or column-major, a
shared matrix broadcast over the batch with batch stride 0) and solves for the
row-major ``X^T`` from the other side.  ``lu_solve`` with gradients is a composite of
``solve_triangular`` (which reads only its triangle of the packed ``LU``).
"""
import math

from ember.ops.autocast import autocasts
import numpy as np

from ember._core import _lapack_solve as lapack
from ember._core._index import cat
from ember._core._tensor import broadcast_shapes, eye, from_numpy, record
from ember.ops.derivatives import derivative
from ember.linalg._common import (batch_numel, binding_names, check_float, check_matrix,
                                  check_same_dtype, check_square, check_tensor, column_major,
                                  int_buffer, is_column_major, on_gpu, on_host, out_into,
                                  outs_into, raise_for_info, requires_grad, result_type,
                                  row_major)

__all__ = ["cholesky", "cholesky_ex", "cholesky_inverse", "solve_triangular", "lu_factor",
           "lu_factor_ex", "lu", "lu_solve"]

cholesky_ex_result = result_type("linalg_cholesky_ex", ["L", "info"])
lu_factor_result = result_type("linalg_lu_factor", ["LU", "pivots"])
lu_factor_ex_result = result_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_result = result_type("linalg_lu", ["P", "L", "U"])


# ---------------------------------------------------------------- cholesky

def _not_pd(info):
    return (f"The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {info} is not positive-definite).")


@on_gpu("cholesky")
def _cholesky_factor(A, upper):
    """The factor and LAPACK's ``info`` per matrix (``i > 0``: the leading minor of
    order ``i`` is not positive-definite)."""
    batch_shape = tuple(A.shape[:-2])
    n = A.shape[-1]
    buf = row_major(A, batch_shape)     # LAPACK reads A^T: its 'U' triangle is A's lower
    info = int_buffer(buf.shape[0])
    lapack.potrf(buf, info, "L" if upper else "U")
    factor = buf.view(*batch_shape, n, n)
    return (factor.triu() if upper else factor.tril()), info.view(batch_shape)


def _cholesky_kernel(A, upper, check_errors):
    factor, info = _cholesky_factor(A, upper)
    if check_errors:
        raise_for_info(info, "linalg.cholesky", _not_pd, tuple(A.shape[:-2]))
    return factor, info


@derivative("linalg_cholesky_ex", save_inputs=False, save_result=True)
def _cholesky_backward(ctx, grad, A, upper, check_errors):
    # Murray (2016): gA = L^{-H} Phi(L^H gL) L^{-1}, Phi = the lower triangle with the
    # diagonal halved, made Hermitian
    L = ctx.result[0]
    gL = grad[0]
    if upper:
        L, gL = L.mH, gL.mH
    gA = (L.mH @ gL).tril()
    gA = 0.5 * (gA + gA.tril(-1).mH)
    gA = solve_triangular(L.mH, gA, upper=True, left=True)
    gA = solve_triangular(L, gA, upper=False, left=False)
    return gA, None, None


@binding_names(input="A")
@autocasts("linalg_cholesky_ex")
def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """:func:`cholesky` that returns LAPACK's ``info`` per matrix (0, or the order of the
    first leading minor that is not positive-definite) instead of raising.

    Returns
    -------
    (L, info) : namedtuple of Tensor
    """
    check_tensor(A, "linalg.cholesky_ex")
    check_float(A, "linalg.cholesky_ex", "cholesky_cpu")
    check_square(A, "linalg.cholesky")
    if requires_grad(A):
        L, info = record("linalg_cholesky_ex", _cholesky_kernel, (A, bool(upper), check_errors))
    else:
        L, info = _cholesky_kernel(A, bool(upper), check_errors)
    if out is not None:
        return cholesky_ex_result(*outs_into((L, info), out, "linalg_cholesky_ex"))
    return cholesky_ex_result(L, info)


@binding_names(input="A")
@autocasts("linalg_cholesky")
def cholesky(A, *, upper=False, out=None):
    """Cholesky factor of each Hermitian positive-definite matrix of ``A``:
    ``A = L L^H`` with ``L`` lower triangular (``upper=True``: ``U = L^H``).

    Only the lower triangle of ``A`` is read (the upper one with ``upper=True``).

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` Hermitian positive-definite matrices.
    upper : bool
        Return the upper factor ``L^H``.
    out : Tensor, optional

    Returns
    -------
    Tensor

    Raises
    ------
    LinAlgError
        If a matrix is not positive-definite.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.cholesky(ember.tensor([[4., 2.], [2., 5.]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    return out_into(cholesky_ex(A, upper=upper, check_errors=True).L,
                    out, fname="linalg_cholesky_ex")


@binding_names(input="L")
@autocasts("cholesky_inverse")
def cholesky_inverse(L, upper=False, *, out=None):
    """Inverse of ``A = L L^H`` (``U^H U`` with ``upper=True``) from its Cholesky factor.

    Examples
    --------
    >>> import ember
    >>> L = ember.tensor([[2., 0.], [1., 2.]])
    >>> ember.cholesky_inverse(L)
    tensor([[ 0.3125, -0.1250],
            [-0.1250,  0.2500]])
    """
    check_tensor(L, "cholesky_inverse", "input")
    check_float(L, "cholesky_inverse", "cholesky_inverse_cpu")
    check_square(L, "cholesky_inverse", "input")
    args = (L, bool(upper))
    if requires_grad(L):
        return out_into(record("cholesky_inverse", _cholesky_inverse_kernel, args),
                        out, fname="cholesky_inverse")
    return out_into(_cholesky_inverse_kernel(*args), out, fname="cholesky_inverse")


def _cholesky_inverse_kernel(L, upper):
    lower = L.mH if upper else L                    # A = lower lower^H
    n = L.shape[-1]
    identity = eye(n, dtype=L.dtype, device=L.device).expand(*L.shape[:-2], n, n)
    inv_lower = solve_triangular(lower, identity, upper=False)
    return inv_lower.mH @ inv_lower


@derivative("cholesky_inverse", save_result=True)
def _cholesky_inverse_backward(ctx, grad, L, upper):
    # PyTorch's cholesky_inverse_backward: the factor's gradient is a full matrix (as for
    # cholesky_solve), not only the triangle the op reads
    inverse = ctx.result
    common = inverse @ (grad + grad.mH) @ inverse
    return (-(L @ common) if upper else -(common @ L)), None


# ---------------------------------------------------------------- solve_triangular

@on_host
def _triangular_kernel(A, B, upper, left, unitriangular):
    batch_shape = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    rows, cols = B.shape[-2], B.shape[-1]
    n = A.shape[-1]
    x = row_major(B, batch_shape)       # LAPACK reads X^T: solve from the other side
    if x.numel() == 0:                  # (n = 0 too: then X has no rows or no columns)
        return x.view(*batch_shape, rows, cols)
    a_batch = batch_numel(A.shape[:-2])
    # the matrices of A as LAPACK reads them: row-major A is its transpose (opposite
    # triangle), column-major A itself (then op = transpose)
    if is_column_major(A):
        mats, transa, uplo = A.mT, "T", "U" if upper else "L"
    else:
        mats, transa, uplo = A, "N", "L" if upper else "U"
    if not mats.is_contiguous():
        mats, transa, uplo = A.contiguous(), "N", "L" if upper else "U"
    if a_batch == 1:
        buf, stride = mats.reshape(n, n), 0
    elif tuple(A.shape[:-2]) == tuple(batch_shape):
        buf, stride = mats.reshape(-1, n, n), n * n
    else:
        buf, stride, transa, uplo = row_major(A, batch_shape), n * n, "N", "L" if upper else "U"
    lapack.trsm(buf, stride, n, x, "R" if left else "L", uplo, transa,
                "U" if unitriangular else "N")
    return x.view(*batch_shape, rows, cols)


@derivative("linalg_solve_triangular", save_result=True)
def _triangular_backward(ctx, grad, A, B, upper, left, unitriangular):
    need_a, need_b = ctx.needs_input_grad
    X = ctx.result
    gB = solve_triangular(A.mH, grad, upper=not upper, left=left, unitriangular=unitriangular)
    gA = None
    if need_a:
        gA = -(gB @ X.mH) if left else -(X.mH @ gB)
        offset = 1 if unitriangular else 0
        gA = gA.triu(offset) if upper else gA.tril(-offset)
    return gA, (gB if need_b else None), None, None, None


@binding_names(input="A")
def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Solve ``A X = B`` (``X A = B`` with ``left=False``) for triangular ``A``.

    Only the ``upper`` (or lower) triangle of ``A`` is read; ``unitriangular=True`` takes
    its diagonal to be ones without reading it.  Batches broadcast.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` triangular matrices.
    B : Tensor
        ``(*, n, k)`` (``(*, k, n)`` with ``left=False``).
    upper : bool
    left : bool
    unitriangular : bool
    out : Tensor, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[2., 1.], [0., 4.]])
    >>> ember.linalg.solve_triangular(A, ember.tensor([[4.], [8.]]), upper=True)
    tensor([[1.],
            [2.]])
    """
    fname = "linalg.solve_triangular"
    check_tensor(A, fname)
    check_tensor(B, fname, "B", 2)
    check_float(A, fname, "triangular_solve_cpu")
    check_square(A, fname)
    check_matrix(B, fname, "B")
    check_same_dtype(A, B, fname)
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    args = (A, B, bool(upper), bool(left), bool(unitriangular))
    if requires_grad(A, B):
        return out_into(record("linalg_solve_triangular", _triangular_kernel, args),
                        out, fname="linalg_solve_triangular")
    return out_into(_triangular_kernel(*args), out, fname="linalg_solve_triangular")


# ---------------------------------------------------------------- LU

def _lu_message(info):
    return (f"U[{info},{info}] is zero and using it on lu_solve would result in a division by "
            f"zero. If you still want to perform the factorization, consider calling "
            f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


# cuBLAS's batched LU takes square matrices only
@on_gpu("lu_factor", when=lambda A: A.shape[-1] == A.shape[-2])
def _lu_factor_kernel(A):
    batch_shape = tuple(A.shape[:-2])
    m, n = A.shape[-2], A.shape[-1]
    buf = column_major(A, batch_shape)
    piv = int_buffer(buf.shape[0], min(m, n))
    info = int_buffer(buf.shape[0])
    lapack.getrf(buf, piv, info)
    # pivots of empty matrices stay 1, 2, ... as in PyTorch
    return (buf.view(*batch_shape, n, m).mT, piv.view(*batch_shape, min(m, n)),
            info.view(batch_shape))


def _permutation(pivots, m):
    """Row order ``perm`` of LAPACK's interchanges: ``A[perm] = L U`` (an int64 tensor)."""
    piv = np.asarray(pivots.cpu()).astype(np.int64) - 1
    piv = piv.reshape(math.prod(pivots.shape[:-1]), pivots.shape[-1])   # -1 fails when empty
    perm = np.broadcast_to(np.arange(m, dtype=np.int64), (piv.shape[0], m)).copy()
    rows = np.arange(piv.shape[0])
    for i in range(piv.shape[1]):
        j = piv[:, i]
        perm[rows, i], perm[rows, j] = perm[rows, j], perm[rows, i].copy()
    return from_numpy(perm.reshape(*pivots.shape[:-1], m)).to(pivots.device)


def _take_rows(M, perm):
    """``M[..., perm, :]`` per batch (``perm`` broadcast over the columns)."""
    index = perm.unsqueeze(-1).expand(*perm.shape, M.shape[-1])
    batch = broadcast_shapes(tuple(M.shape[:-2]), tuple(index.shape[:-2]))
    return M.expand(*batch, *M.shape[-2:]).gather(-2, index.expand(*batch, *index.shape[-2:]))


def _inverse_permutation(perm):
    inv = np.empty(tuple(perm.shape), dtype=np.int64)
    p = np.asarray(perm.cpu())
    np.put_along_axis(inv, p, np.broadcast_to(np.arange(p.shape[-1]), p.shape), axis=-1)
    return from_numpy(inv).to(perm.device)


@derivative("linalg_lu_factor_ex", save_result=True)
def _lu_factor_backward(ctx, grad, A):
    # PyTorch's linalg_lu_backward with A = P L U, L (m, k) unit lower, U (k, n) upper
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    LU, pivots = ctx.result[0], ctx.result[1]
    gLU = grad[0]
    L = LU[..., :, :k].tril(-1) + eye(m, k, dtype=LU.dtype, device=LU.device)
    U = LU[..., :k, :].triu()
    gL = gLU[..., :, :k].tril(-1)
    gU = gLU[..., :k, :].triu()
    if m == n:
        # gA = P L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H}
        phi = (L.mH @ gL).tril(-1) + (gU @ U.mH).triu()
        gA = solve_triangular(L.mH, phi, upper=True, unitriangular=True)
        gA = solve_triangular(U.mH, gA, upper=False, left=False)
    elif m < n:
        # wide: gA1 = P L^{-H} [gU1 + tril(L^H gL - gU U^H, -1) U1^{-H}], gA2 = P L^{-H} gU2
        inner = (L.mH @ gL - gU @ U.mH).tril(-1)
        inner = solve_triangular(U[..., :, :k].mH, inner, upper=False, left=False)
        gA = cat([inner + gU[..., :, :k], gU[..., :, k:]], -1)
        gA = solve_triangular(L.mH, gA, upper=True, unitriangular=True)
    else:
        # tall: gA1 = P [gL1 + L1^{-H} triu(gU U^H - L^H gL)] U^{-H}, gA2 = P gL2 U^{-H}
        inner = (gU @ U.mH - L.mH @ gL).triu()
        inner = solve_triangular(L[..., :k, :].mH, inner, upper=True, unitriangular=True)
        gA = cat([inner + gL[..., :k, :], gL[..., k:, :]], -2)
        gA = solve_triangular(U.mH, gA, upper=False, left=False)
    return _take_rows(gA, _inverse_permutation(_permutation(pivots, m)))


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """LU factorization with partial pivoting, packed as LAPACK's ``getrf`` gives it, and
    its ``info`` per matrix (``i > 0``: ``U[i-1, i-1]`` is zero).

    Returns
    -------
    (LU, pivots, info) : namedtuple of Tensor
        ``pivots`` are 1-based int32 row interchanges.
    """
    fname = "linalg.lu_factor_ex"
    check_tensor(A, fname)
    check_float(A, fname)
    check_matrix(A, fname)
    if not pivot:
        raise RuntimeError(f"{fname}: LU without pivoting is not implemented on the CPU")
    if requires_grad(A):
        LU, piv, info = record("linalg_lu_factor_ex", _lu_factor_kernel, (A,))
    else:
        LU, piv, info = _lu_factor_kernel(A)
    if check_errors:
        raise_for_info(info, "torch.linalg.lu_factor_ex", _lu_message, tuple(A.shape[:-2]))
    if out is not None:
        return lu_factor_ex_result(*outs_into((LU, piv, info), out, "linalg_lu_factor_ex"))
    return lu_factor_ex_result(LU, piv, info)


def lu_factor(A, *, pivot=True, out=None):
    """Packed LU factorization with partial pivoting, for :func:`lu_solve`.

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)`` matrices.
    pivot : bool
        Must be True on the CPU (as in PyTorch).

    Returns
    -------
    (LU, pivots) : namedtuple of Tensor

    Raises
    ------
    LinAlgError
        If a matrix is singular (use :func:`lu_factor_ex` to factor it anyway).

    Examples
    --------
    >>> import ember
    >>> LU, pivots = ember.linalg.lu_factor(ember.tensor([[1., 2.], [3., 4.]]))
    >>> pivots
    tensor([2, 2], dtype=ember.int32)
    """
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    raise_for_info(info, "torch.linalg.lu_factor", _lu_message, tuple(A.shape[:-2]))
    if out is not None:
        return lu_factor_result(*outs_into((LU, piv), out, "linalg_lu_factor_ex"))
    return lu_factor_result(LU, piv)


def lu(A, *, pivot=True, out=None):
    """LU factorization with partial pivoting: ``A = P L U``.

    Returns
    -------
    (P, L, U) : namedtuple of Tensor
        ``P`` a permutation matrix (``A``'s dtype), ``L`` ``(*, m, k)`` unit lower
        triangular, ``U`` ``(*, k, n)`` upper triangular, ``k = min(m, n)``.

    Examples
    --------
    >>> import ember
    >>> P, L, U = ember.linalg.lu(ember.tensor([[1., 2.], [3., 4.]]))
    >>> L
    tensor([[1.0000, 0.0000],
            [0.3333, 1.0000]])
    """
    LU, piv, _ = lu_factor_ex(A, pivot=pivot)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    L = LU[..., :, :k].tril(-1) + eye(m, k, dtype=A.dtype, device=A.device)
    U = LU[..., :k, :].triu()
    perm = _permutation(piv, m)
    # P[perm[i], i] = 1, so that A = P (L U) and A[perm] = L U
    P = _take_rows(eye(m, dtype=A.dtype, device=A.device).expand(*perm.shape[:-1], m, m),
                   _inverse_permutation(perm))
    if out is not None:
        return lu_result(*outs_into((P, L, U), out, "linalg_lu"))
    return lu_result(P, L, U)


def _lu_solve_composite(LU, perm, B, adjoint):
    """``A X = B`` (``A^H X = B``) from ``A[perm] = L U``, differentiable in LU and B."""
    if not adjoint:
        Y = solve_triangular(LU, _take_rows(B, perm), upper=False, unitriangular=True)
        return solve_triangular(LU, Y, upper=True)
    Y = solve_triangular(LU.mH, B, upper=False)
    Y = solve_triangular(LU.mH, Y, upper=True, unitriangular=True)
    return _take_rows(Y, _inverse_permutation(perm))


@on_gpu("lu_solve")
def _lu_solve_kernel(LU, pivots, B, adjoint):
    n, k = LU.shape[-1], B.shape[-1]
    batch_shape = broadcast_shapes(tuple(LU.shape[:-2]), tuple(B.shape[:-2]))
    x = column_major(B, batch_shape)
    if x.numel() == 0:
        return x.view(*batch_shape, k, n).mT
    # LAPACK reads the column-major LU that lu_factor returns without a copy
    lu_buf = LU.mT.contiguous() if batch_numel(LU.shape[:-2]) == batch_numel(batch_shape) \
        else LU.mT.expand(*batch_shape, n, n).contiguous()
    piv = pivots.expand(*batch_shape, n).contiguous()
    lapack.getrs(lu_buf.reshape(-1, n, n), n * n, piv.reshape(-1, n), n,
                 x, "C" if adjoint else "N")
    return x.view(*batch_shape, k, n).mT


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """Solve ``A X = B`` from :func:`lu_factor`'s factors of ``A``.

    ``left=False`` solves ``X A = B``; ``adjoint=True`` uses ``A^H`` for ``A``.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[3., 1.], [1., 2.]])
    >>> LU, pivots = ember.linalg.lu_factor(A)
    >>> ember.linalg.lu_solve(LU, pivots, ember.tensor([[9.], [8.]]))
    tensor([[2.],
            [3.]])
    """
    fname = "linalg.lu_solve"
    check_tensor(LU, fname, "LU")
    check_tensor(pivots, fname, "pivots", 2)
    check_tensor(B, fname, "B", 3)
    check_float(LU, fname)
    check_square(LU, fname, "LU")
    check_matrix(B, fname, "B")
    check_same_dtype(LU, B, fname, "LU", "B")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if pivots.dtype.itemsize != 4 or pivots.is_floating_point() or \
            tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(f"{fname}: Expected pivots to be an int32 tensor of shape "
                           f"{tuple(LU.shape[:-1])}")
    if not left:
        # X A = B  <=>  A^H X^H = B^H
        return out_into(lu_solve(LU, pivots, B.mH, adjoint=not adjoint).mH,
                        out, fname="linalg_lu_solve")
    if requires_grad(LU, B):
        return out_into(_lu_solve_composite(LU, _permutation(pivots, n), B, adjoint),
                        out, fname="linalg_lu_solve")
    return out_into(_lu_solve_kernel(LU, pivots, B, adjoint), out, fname="linalg_lu_solve")


@autocasts("cholesky")
def cholesky_top_level(input, upper=False, *, out=None):
    """``ember.cholesky``: PyTorch's older spelling of :func:`ember.linalg.cholesky`, with
    ``upper`` positional.

    Examples
    --------
    >>> import ember
    >>> ember.cholesky(ember.tensor([[4., 2.], [2., 5.]]), upper=True)
    tensor([[2., 1.],
            [0., 2.]])
    """
    return cholesky(input, upper=upper, out=out)
