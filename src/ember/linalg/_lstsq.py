"""Least squares: ``lstsq`` with LAPACK's four drivers and PyTorch's derivative.

The problems are solved in LAPACK (``gelsx`` of ``ember._core._lapack_solve``); the
derivative is PyTorch's: the solution is ``pinv(A) @ B``, so ``gB = pinv(A)^H G`` and
``gA`` follows from the derivative of the pseudo-inverse, written with ember ops (and
itself differentiable), for rank-deficient ``A`` too.
"""
from ember.ops.autocast import autocasts
import numpy as np

from ember._core import _lapack_solve as lapack
from ember._core._dtype import int64
from ember._core._tensor import broadcast_shapes, empty, record, zeros
from ember.ops.derivatives import derivative
from ember.linalg._common import (
    batch_numel, binding_names, check_float, check_matrix, check_same_dtype, check_tensor,
    column_major, int_buffer, on_host, requires_grad, result_type,
)

__all__ = ["lstsq"]

lstsq_result = result_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


@on_host
def _lstsq_kernel(A, B, rcond, driver):
    batch_shape = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    m, n, k = A.shape[-2], A.shape[-1], B.shape[-1]
    batch = batch_numel(batch_shape)
    real = A.abs().dtype
    a = column_major(A, batch_shape)
    ldb = max(m, n, 1)
    b = zeros((batch, k, ldb), dtype=A.dtype)
    b.view(*batch_shape, k, ldb)[..., :m].copy_(B.mT)
    sv = empty((batch, min(m, n)), dtype=real)
    rank = int_buffer(batch)
    info = int_buffer(batch)
    lapack.gelsx(a, b, sv, rank, info, driver, rcond)
    if np.any(np.asarray(info) > 0):
        raise RuntimeError(f"torch.linalg.lstsq: The least squares solution could not be "
                           f"computed because the input matrix does not have full rank "
                           f"(error code: {int(np.asarray(info).max())}).")
    full = b.view(*batch_shape, k, ldb)
    solution = full[..., :n].mT
    # residuals: the squared norms of the rows past n, when every A has full column rank
    if m > n and driver != "gelsy" and (driver == "gels" or
                                        bool((np.asarray(rank) == n).all())):
        tail = full[..., n:m]
        residuals = (tail.abs() * tail.abs()).sum(-1)
    else:
        residuals = empty((0,), dtype=real)
    rank_out = rank.view(batch_shape).to(int64) if driver != "gels" \
        else empty((0,), dtype=int64)
    singular_values = sv.view(*batch_shape, min(m, n)) if driver in ("gelsd", "gelss") \
        else empty((0,), dtype=real)
    return lstsq_result(solution, residuals, rank_out, singular_values)


@derivative("linalg_lstsq", save_result=(0,))
def _lstsq_backward(ctx, grad, A, B, rcond, driver):
    # PyTorch's formula: the solution is pinv(A) @ B, rank-deficient A included
    from ember.linalg._decomp_derived import pinv
    G, g_residuals = grad[0], grad[1]
    need_a, need_b = ctx.needs_input_grad
    pinv_a = pinv(A)
    gA = _pinv_backward(G @ B.mH, pinv_a, A) if need_a else None
    gB = pinv_a.mH @ G if need_b else None
    if g_residuals.numel():
        # residuals ||A X - B||^2 per column, at the minimising X (so X's own change
        # does not count): 2 R diag(g) X^H for A, -2 R diag(g) for B
        X = ctx.result[0]
        weighted = 2 * (A @ X - B) * g_residuals.unsqueeze(-2)
        if need_a:
            gA = gA + weighted @ X.mH
        if need_b:
            gB = gB - weighted
    return gA, gB, None, None


def _pinv_backward(grad, pinv_a, A):
    """The gradient of ``A`` from that of ``pinv(A)`` (Golub and Pereyra's derivative of the
    pseudo-inverse), in PyTorch's arrangement that keeps the products smallest."""
    m, n = A.shape[-2], A.shape[-1]
    pinv_ah, grad_h = pinv_a.mH, grad.mH
    if m <= n:
        K = grad_h @ pinv_a
        K_pinv_ah = K @ pinv_ah
        return (-(pinv_a @ K).mH + K_pinv_ah - (A @ pinv_a) @ K_pinv_ah
                + (pinv_ah @ pinv_a) @ (grad_h - K @ A))
    K = pinv_a @ grad_h
    pinv_ah_K = pinv_ah @ K
    return (-(K @ pinv_a).mH + (grad_h - A @ K) @ pinv_a @ pinv_ah + pinv_ah_K
            - pinv_ah_K @ pinv_a @ A)


@binding_names(input="A", b="B")
@autocasts("linalg_lstsq")
def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B``: ``X`` minimising ``||A X - B||`` (the
    minimum-norm one where that is not unique, except with ``driver='gels'``).

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)`` matrices.
    B : Tensor
        ``(*, m, k)`` right-hand sides (or ``(*, m)`` when ``B.dim() == A.dim() - 1``).
    rcond : float, optional
        Singular values below ``rcond`` times the largest count as zero (default: the
        dtype's machine epsilon times ``max(m, n)``).
    driver : {'gelsy', 'gels', 'gelsd', 'gelss'}, optional
        LAPACK driver (default ``'gelsy'``, as PyTorch on the CPU); ``'gels'`` needs
        full-rank ``A``.

    Returns
    -------
    (solution, residuals, rank, singular_values) : namedtuple of Tensor
        ``residuals``: squared residual norms, when ``m > n`` and every matrix has full
        rank (not for ``'gelsy'``), else empty; ``rank``: empty for ``'gels'``;
        ``singular_values``: for ``'gelsd'`` and ``'gelss'`` only, else empty.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[1., 0.], [0., 1.], [1., 1.]])
    >>> ember.linalg.lstsq(A, ember.tensor([[1.], [2.], [3.]])).solution
    tensor([[1.0000],
            [2.0000]])
    """
    fname = "torch.linalg.lstsq"
    check_tensor(A, "linalg.lstsq", "self")
    check_tensor(B, "linalg.lstsq", "b", 2)
    check_float(A, "linalg.lstsq", "linalg_lstsq")
    check_matrix(A, "torch.linalg.lstsq", "input")
    check_same_dtype(A, B, fname, "input", "b")
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError(f"{fname}: parameter `driver` should be one of "
                           f"(gels, gelsy, gelsd, gelss)")
    vector = B.dim() == A.dim() - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.dim() < 2:
        raise RuntimeError(f"{fname}: input.dim() must be greater or equal to other.dim() and "
                           f"(input.dim() - other.dim()) <= 1")
    if Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{fname}: input.size(-2) should match other.size(-2)")
    if rcond is None:
        rcond = float(np.finfo(str(A.abs().dtype).rsplit(".", 1)[-1]).eps) * \
            max(A.shape[-2], A.shape[-1])
    args = (A, Bm, float(rcond), driver)
    result = record("linalg_lstsq", _lstsq_kernel, args) if requires_grad(A, B) \
        else _lstsq_kernel(*args)
    # the singular values are not differentiable (as in PyTorch)
    result = lstsq_result(result.solution.squeeze(-1) if vector else result.solution,
                          result.residuals, result.rank, result.singular_values.detach())
    return result
