"""Linear solvers and the LU and Cholesky factorizations: ``solve``, ``inv``, ``det``,
``slogdet``, ``cholesky``, ``solve_triangular``, ``lu_factor``, ``lu``, ``lu_solve``
(and their ``_ex`` forms), each with PyTorch's derivative.

The factorizations run in LAPACK (``ember._core._lapack_solve``) over column-major
buffers.  A row-major matrix is already the column-major buffer of its transpose, so
``solve`` factors ``A^T`` in the input's own layout and solves with ``trans='T'``
instead of transposing it first; the right-hand sides are copied once, into the
result (column-major, as PyTorch returns it).
"""
from ember.ops.autocast import autocasts
import numpy as np

import ember

from ember._core import _lapack_solve as lapack
from ember._core._tensor import broadcast_shapes, eye, from_numpy, record
from ember.ops.derivatives import derivative
from ember.linalg._common import (batch_numel, binding_names, check_float, check_matrix,
                                  check_same_dtype, check_square, check_tensor, column_major,
                                  int_buffer, is_column_major, LinAlgError, on_gpu, on_host,
                                  out_into,
                                  outs_into, raise_for_info, requires_grad, result_type,
                                  row_major)

__all__ = ["solve", "solve_ex", "inv", "inv_ex", "det", "slogdet", "logdet", "LinAlgError"]


solve_ex_result = result_type("linalg_solve_ex", ["result", "info"])
inv_ex_result = result_type("linalg_inv_ex", ["inverse", "info"])
slogdet_result = result_type("linalg_slogdet", ["sign", "logabsdet"])


def _singular(info):
    return "The solver failed because the input matrix is singular."


# ---------------------------------------------------------------- solve

@on_gpu("solve")
def _solve_factor(A, B):
    """``X`` with ``A X = B`` for matrices ``B``, and LAPACK's info per matrix."""
    batch_shape = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    n, k = A.shape[-1], B.shape[-1]
    trans = "N" if is_column_major(A) else "T"
    layout = column_major if trans == "N" else row_major
    x = column_major(B, batch_shape)                  # (batch, k, n): the result, in place
    if batch_numel(A.shape[:-2]) == 1:
        # one matrix for the whole batch: every right-hand side in one solve
        a = layout(A.reshape(n, n), ())
        info = int_buffer(1)
        lapack.gesv(a, int_buffer(1, n), x.view(1, x.shape[0] * k, n), info, trans)
        info = info.view(()).expand(batch_shape).contiguous()
    else:
        a = layout(A, batch_shape)
        info = int_buffer(batch_numel(batch_shape))
        lapack.gesv(a, int_buffer(a.shape[0], n), x, info, trans)
        info = info.view(batch_shape)
    return x.view(*batch_shape, k, n).mT, info


def _solve_kernel(A, B, fname, check_errors):
    X, info = _solve_factor(A, B)
    if check_errors:
        raise_for_info(info, fname, _singular, tuple(info.shape))
    return X, info


def _solve_matrices(A, B, fname="torch.linalg.solve", check_errors=True):
    if requires_grad(A, B):
        return record("linalg_solve_ex", _solve_kernel, (A, B, fname, check_errors))
    return _solve_kernel(A, B, fname, check_errors)


@derivative("linalg_solve_ex", save_result=True)
def _solve_backward(ctx, grad, A, B, fname, check_errors):
    X = ctx.result[0]
    gB = _solve_matrices(A.mH, grad[0], fname)[0]
    need_a = ctx.needs_input_grad[0]
    return (-(gB @ X.mH) if need_a else None), gB, None, None


def _solve_ex_impl(A, B, left, check_errors, fname):
    check_tensor(A, fname)
    check_tensor(B, fname, "B", 2)
    check_float(A, fname)
    check_square(A, fname)
    check_same_dtype(A, B, fname)
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    rows = Bm.shape[-2] if left or vector else Bm.shape[-1]
    if rows != n:
        shape = f"{Bm.shape[-2]}x{Bm.shape[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {shape})")
    if left or vector:
        X, info = _solve_matrices(A if left else A.mT, Bm, fname, check_errors)
    else:
        X, info = _solve_matrices(A.mT, Bm.mT, fname, check_errors)
        X = X.mT
    return (X.squeeze(-1) if vector else X), info


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """:func:`solve` that also returns LAPACK's ``info`` per matrix (0: solved; ``i > 0``:
    ``U[i-1, i-1]`` is zero, the matrix is singular) instead of raising.

    Returns
    -------
    (result, info) : namedtuple of Tensor
    """
    X, info = _solve_ex_impl(A, B, left, check_errors, "torch.linalg.solve_ex")
    if out is not None:
        out_into(X, out[0], fname="_linalg_solve_ex")
        out_into(info, out[1], fname="_linalg_solve_ex")
        return solve_ex_result(out[0], out[1])
    return solve_ex_result(X, info)


@autocasts("linalg_solve")
def solve(A, B, *, left=True, out=None):
    """Solve the square system ``A X = B`` (or ``X A = B`` with ``left=False``).

    Batches of ``A`` and ``B`` broadcast; ``B`` is a (batch of) vector(s) when it has one
    dim or ``B.shape == A.shape[:-1]``.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` invertible matrices (float32, float64, complex64, complex128).
    B : Tensor
        ``(*, n, k)`` right-hand sides, or ``(*, n)`` vectors.
    left : bool
        Solve ``A X = B`` (True) or ``X A = B`` (False).
    out : Tensor, optional

    Returns
    -------
    Tensor
        ``X``, with ``B``'s shape (batch dims broadcast).

    Raises
    ------
    LinAlgError
        If a matrix of ``A`` is singular.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[3., 1.], [1., 2.]])
    >>> ember.linalg.solve(A, ember.tensor([9., 8.]))
    tensor([2., 3.])
    """
    X, _ = _solve_ex_impl(A, B, left, True, "torch.linalg.solve")
    return out_into(X, out, fname="_linalg_solve_ex")


# ---------------------------------------------------------------- inv

def _inv_message(info):
    return (f"The diagonal element {info} is zero, the inversion could not be completed "
            f"because the input matrix is singular.")


def _inv_kernel(A, check_errors):
    n = A.shape[-1]
    batch_shape = tuple(A.shape[:-2])
    identity = eye(n, dtype=A.dtype, device=A.device).expand(*batch_shape, n, n)
    X, info = _solve_kernel(A, identity, "linalg.inv", False)
    if check_errors:
        raise_for_info(info, "linalg.inv", _inv_message, batch_shape)
    return X, info


@derivative("linalg_inv_ex", save_inputs=False, save_result=True)
def _inv_backward(ctx, grad, A, check_errors):
    X = ctx.result[0]
    Xh = X.mH
    return -(Xh @ grad[0] @ Xh), None


@autocasts("linalg_inv_ex")
def inv_ex(A, *, check_errors=False, out=None):
    """:func:`inv` that returns LAPACK's ``info`` per matrix instead of raising.

    Returns
    -------
    (inverse, info) : namedtuple of Tensor
    """
    check_tensor(A, "linalg.inv_ex")
    check_float(A, "linalg.inv_ex")
    check_square(A, "linalg.inv_ex")
    if requires_grad(A):
        X, info = record("linalg_inv_ex", _inv_kernel, (A, check_errors))
    else:
        X, info = _inv_kernel(A, check_errors)
    if out is not None:
        return inv_ex_result(*outs_into((X, info), out, "linalg_inv_ex"))
    return inv_ex_result(X, info)


@binding_names(input="A")
@autocasts("linalg_inv")
def inv(A, *, out=None):
    """Inverse of each square matrix of ``A``.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` invertible matrices.
    out : Tensor, optional

    Returns
    -------
    Tensor

    Raises
    ------
    LinAlgError
        If a matrix is singular.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.inv(ember.tensor([[2., 0.], [0., 4.]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    check_tensor(A, "linalg.inv")
    check_matrix(A, "linalg.inv")
    return out_into(inv_ex(A, check_errors=True).inverse, out, fname="linalg_inv_ex")


# ---------------------------------------------------------------- det, slogdet

def _factor_square(A, fname):
    """LU factors (column-major buffer), pivots and info of the square matrices of ``A``."""
    batch_shape = tuple(A.shape[:-2])
    n = A.shape[-1]
    a = column_major(A, batch_shape)
    piv = int_buffer(a.shape[0], n)
    info = int_buffer(a.shape[0])
    lapack.getrf(a, piv, info)
    return a.view(*batch_shape, n, n).mT, piv.view(*batch_shape, n), info.view(batch_shape)


def _permutation_sign(pivots):
    """+1 or -1 per matrix: the parity of LAPACK's row interchanges."""
    n = pivots.shape[-1]
    steps = from_numpy(np.arange(1, n + 1, dtype=np.int32))
    swaps = (pivots != steps).sum(-1)
    return 1 - 2 * (swaps % 2)


@on_gpu("det")
def _det_kernel(A):
    LU, piv, _ = _factor_square(A, "linalg.det")
    return LU.diagonal(0, -2, -1).prod(-1) * _permutation_sign(piv).to(A.dtype)


@derivative("linalg_det", save_result=True)
def _det_backward(ctx, grad, A):
    # d det = det * tr(A^{-1} dA): the gradient is conj(grad * conj(det)) ... A^{-H}
    if not bool((ctx.result == 0).any()):
        scale = (grad * ctx.result.conj()).unsqueeze(-1).unsqueeze(-1)
        return scale * inv(A).mH
    # a singular matrix has no inverse but det is smooth: its gradient is the cofactor
    # matrix, from the SVD A = U diag(S) Vh as U diag(d prod(S) / dS) Vh (PyTorch's formula)
    from ember.linalg._decomp import svd
    U, S, Vh = svd(A)
    alpha = (det(U) * det(Vh)).conj()
    D = _prod_backward_safe_zeros((grad * alpha).unsqueeze(-1), S)
    return (U * D.unsqueeze(-2)).matmul(Vh)


def _prod_backward_safe_zeros(grad, values):
    """``grad`` times the gradient of ``values.prod(-1)``, exact when values are zero: the
    product of all the other entries, from exclusive cumulative products both ways."""
    n = values.shape[-1]
    if n == 0:
        return grad.expand(values.shape)
    ones = ember.ones(values.shape[:-1] + (1,), dtype=values.dtype, device=values.device)
    before = ember.cat([ones, values[..., :n - 1]], -1).cumprod(-1)
    after = ember.cat([ones, values[..., 1:].flip(-1)], -1).cumprod(-1).flip(-1)
    return grad * (before * after).conj()


@binding_names(input="A")
def det(A, *, out=None):
    """Determinant of each square matrix of ``A``.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` matrices.
    out : Tensor, optional

    Returns
    -------
    Tensor
        Shape ``A.shape[:-2]``.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.det(ember.tensor([[2., 1.], [1., 3.]]))
    tensor(5.)
    """
    check_tensor(A, "linalg.det")
    check_float(A, "linalg.det")
    check_square(A, "linalg.det")
    if requires_grad(A):
        return out_into(record("linalg_det", _det_kernel, (A,)), out, fname="_linalg_det")
    return out_into(_det_kernel(A), out, fname="_linalg_det")


@on_gpu("slogdet")
def _slogdet_kernel(A):
    LU, piv, _ = _factor_square(A, "linalg.slogdet")
    d = LU.diagonal(0, -2, -1)
    magnitude = d.abs()
    logabsdet = magnitude.log().sum(-1)
    if A.is_complex():
        unit = d / magnitude.to(d.dtype)
        unit = unit.masked_fill(magnitude == 0, 0)
        sign = unit.prod(-1)
    else:
        sign = d.sign().prod(-1)
    return slogdet_result(sign * _permutation_sign(piv).to(A.dtype), logabsdet)


@derivative("linalg_slogdet", save_result=True)
def _slogdet_backward(ctx, grad, A):
    g_sign, g_logabsdet = grad
    if A.is_complex():
        # d logabsdet = Re tr(A^{-1} dA), d sign = sign * i Im tr(A^{-1} dA)
        sign = ctx.result[0]
        g = g_logabsdet - 1j * (g_sign.conj() * sign).imag
    else:
        g = g_logabsdet
    return g.unsqueeze(-1).unsqueeze(-1) * inv(A).mH


@binding_names(input="A")
def slogdet(A, *, out=None):
    """Sign (a unit complex number for complex ``A``) and log of the absolute value of the
    determinant of each square matrix of ``A``; a singular matrix gives ``(0, -inf)``.

    Returns
    -------
    (sign, logabsdet) : namedtuple of Tensor

    Examples
    --------
    >>> import ember
    >>> sign, logabsdet = ember.linalg.slogdet(ember.tensor([[1., 2.], [3., 4.]]))
    >>> sign, logabsdet
    (tensor(-1.), tensor(0.6931))
    """
    check_tensor(A, "linalg.slogdet")
    check_float(A, "linalg.slogdet")
    check_square(A, "linalg.slogdet")
    if requires_grad(A):
        sign, logabsdet = record("linalg_slogdet", _slogdet_kernel, (A,))
    else:
        sign, logabsdet = _slogdet_kernel(A)
    if out is not None:
        return slogdet_result(*outs_into((sign, logabsdet), out, "_linalg_slogdet"))
    return slogdet_result(sign, logabsdet)


@binding_names(input="A")
def logdet(A):
    """Log of the determinant: ``nan`` for a negative real determinant, ``-inf`` for zero.

    Examples
    --------
    >>> import ember
    >>> ember.logdet(ember.tensor([[2., 0.], [0., 3.]]))
    tensor(1.7918)
    """
    sign, logabsdet = slogdet(A)
    if A.is_complex():
        return logabsdet.to(A.dtype) + sign.log()
    return logabsdet.masked_fill(sign < 0, float("nan"))
