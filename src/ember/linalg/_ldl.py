"""The LDL factorization of symmetric (or Hermitian) indefinite matrices:
``ldl_factor_ex``, ``ldl_factor`` and ``ldl_solve``, in LAPACK's ``sytrf`` format
(Bunch-Kaufman pivoting) as PyTorch returns it.

SciPy's LAPACK wrappers (``?sytrf``/``?hetrf``, ``?sytrs``/``?hetrs``) factor and solve
one matrix per call on NumPy copies.  As in PyTorch, neither function has a derivative:
their results require grad when an input does, and the backward raises.
"""
import numpy as np
from scipy.linalg import get_lapack_funcs

from ember._core._dtype import int32
from ember._core._tensor import broadcast_shapes, from_numpy, record
from ember.ops.derivatives import derivative
from ember.linalg._common import (batch_numel, binding_names, check_float, check_square,
                                  check_tensor, on_host, out_into, outs_into, raise_for_info,
                                  requires_grad, result_type, torch_dtype_name)

__all__ = ["ldl_factor_ex", "ldl_factor", "ldl_solve"]

ldl_factor_ex_result = result_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
ldl_factor_result = result_type("linalg_ldl_factor", ["LD", "pivots"])


def _routine(name, array, hermitian):
    """LAPACK's ``?sy<name>`` for ``array``'s dtype, ``?he<name>`` for Hermitian complex."""
    kind = "he" if hermitian and np.iscomplexobj(array) else "sy"
    return get_lapack_funcs(kind + name, (array,))


def _matrices(t, batch_shape, ndim):
    """``t`` broadcast to ``batch_shape`` as a NumPy array of its ``ndim``-D items."""
    tail = tuple(t.shape[t.dim() - ndim:])
    items = np.asarray(t.detach().expand(*batch_shape, *tail).contiguous())
    return items.reshape(batch_numel(batch_shape), *tail)


@on_host
def _factor_kernel(A, hermitian):
    batch_shape = tuple(A.shape[:-2])
    n = A.shape[-1]
    mats = _matrices(A, batch_shape, 2)
    LD = np.zeros_like(mats)
    pivots = np.zeros((mats.shape[0], n), dtype=np.int32)
    info = np.zeros(mats.shape[0], dtype=np.int32)
    if n and mats.shape[0]:
        sytrf = _routine("trf", mats, hermitian)
        # the workspace size LAPACK asks for, as PyTorch queries it (it picks the block size)
        work, _ = _routine("trf_lwork", mats, hermitian)(n, lower=1)
        lwork = max(1, int(np.real(work)))
        for i, a in enumerate(mats):
            ldu, piv, info[i] = sytrf(a, lower=1, lwork=lwork)
            LD[i] = np.tril(ldu)
            pivots[i] = piv
    return (from_numpy(LD.reshape(*batch_shape, n, n)),
            from_numpy(pivots.reshape(*batch_shape, n)), from_numpy(info.reshape(batch_shape)))


@derivative("linalg_ldl_factor_ex", save_inputs=False)
def _ldl_factor_backward(ctx, grad, A, hermitian):
    raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def _singular(info):
    return (f"The factorization could not be completed because the input is singular: "
            f"D[{info - 1},{info - 1}] is exactly zero.")


@binding_names(input="A")
def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """:func:`ldl_factor` that also returns LAPACK's ``info`` per matrix (``i > 0``:
    ``D[i-1, i-1]`` is exactly zero, the matrix is singular) instead of raising.

    Returns
    -------
    (LD, pivots, info) : namedtuple of Tensor
    """
    fname = "torch.linalg.ldl_factor_ex"
    check_tensor(A, "linalg_ldl_factor_ex")
    check_square(A, fname)
    check_float(A, fname, "ldl_factor_kernel_cpu")
    args = (A, bool(hermitian))
    if requires_grad(A):
        LD, pivots, info = record("linalg_ldl_factor_ex", _factor_kernel, args)
    else:
        LD, pivots, info = _factor_kernel(*args)
    if check_errors:
        raise_for_info(info, fname, _singular, tuple(A.shape[:-2]))
    if out is not None:
        return ldl_factor_ex_result(*outs_into((LD, pivots, info), out, None))
    return ldl_factor_ex_result(LD, pivots, info)


@binding_names(input="A")
def ldl_factor(A, *, hermitian=False, out=None):
    """LDL factorization ``A = P L D L^T P^T`` (``L D L^H`` with ``hermitian=True``) of
    symmetric (Hermitian) matrices, with Bunch-Kaufman pivoting, packed as LAPACK's
    ``sytrf`` packs it.

    Only the lower triangle of ``A`` is read.  ``D`` is block diagonal with 1x1 and 2x2
    blocks; for complex ``A``, ``hermitian=False`` factors it as complex symmetric.
    Not differentiable (as in PyTorch).

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` symmetric or Hermitian matrices.
    hermitian : bool
    out : tuple of Tensor, optional

    Returns
    -------
    (LD, pivots) : namedtuple of Tensor
        ``LD`` holds ``L`` below the diagonal (its unit diagonal implied) and ``D`` on
        and, for a 2x2 block, just below it; its upper triangle is zero.  ``pivots`` are
        LAPACK's 1-based int32 interchanges, negative (and repeated) for 2x2 blocks.

    Raises
    ------
    LinAlgError
        If a matrix is singular (use :func:`ldl_factor_ex` to factor it anyway).

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[4., 2.], [2., 3.]])
    >>> LD, pivots = ember.linalg.ldl_factor(A)
    >>> LD
    tensor([[4.0000, 0.0000],
            [0.5000, 2.0000]])
    >>> ember.linalg.ldl_solve(LD, pivots, ember.tensor([[8.], [7.]]))
    tensor([[1.2500],
            [1.5000]])
    """
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    raise_for_info(info, "torch.linalg.ldl_factor", _singular, tuple(A.shape[:-2]))
    if out is not None:
        return ldl_factor_result(*outs_into((LD, pivots), out, None))
    return ldl_factor_result(LD, pivots)


@on_host
def _solve_kernel(LD, pivots, B, hermitian):
    batch_shape = broadcast_shapes(tuple(LD.shape[:-2]), tuple(pivots.shape[:-1]),
                                   tuple(B.shape[:-2]))
    lds = _matrices(LD, batch_shape, 2)
    pivs = _matrices(pivots.to(int32), batch_shape, 1)
    bs = _matrices(B, batch_shape, 2)
    X = np.zeros_like(bs)
    if bs.size:
        sytrs = _routine("trs", lds, hermitian)
        for i in range(bs.shape[0]):
            X[i], _ = sytrs(lds[i], pivs[i], bs[i], lower=1)
    return from_numpy(X.reshape(*batch_shape, *B.shape[-2:]))


@derivative("linalg_ldl_solve", save_inputs=False)
def _ldl_solve_backward(ctx, grad, LD, pivots, B, hermitian):
    raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """Solve ``A X = B`` from :func:`ldl_factor`'s factors of ``A``.  Batches broadcast.

    ``hermitian`` must be what the factorization used.  Not differentiable (as in
    PyTorch).

    Parameters
    ----------
    LD : Tensor
        ``(*, n, n)`` packed factors.
    pivots : Tensor
        ``(*, n)`` integer pivots.
    B : Tensor
        ``(*, n, k)`` right-hand sides.
    hermitian : bool
    out : Tensor, optional

    Returns
    -------
    Tensor
        ``(*, n, k)``.
    """
    fname = "torch.linalg.ldl_solve"
    check_tensor(LD, "linalg_ldl_solve", "LD")
    check_tensor(pivots, "linalg_ldl_solve", "pivots", 2)
    check_tensor(B, "linalg_ldl_solve", "B", 3)
    check_square(LD, fname)
    if B.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(B.dim(), 1)}, {max(B.dim(), 1) - 1}], but got -2)")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{fname}: Expected LD.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape {list(pivots.shape)} instead")
    if pivots.is_floating_point() or pivots.is_complex() or str(pivots.dtype) == "ember.bool":
        raise RuntimeError(f"{fname}: Expected pivots to be integers. Got "
                           f"{torch_dtype_name(pivots.dtype)}")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {fname}: each A matrix is {n} by {n} "
                           f"but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if B.dtype != LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{torch_dtype_name(B.dtype)} and A of type "
                           f"{torch_dtype_name(LD.dtype)} instead.")
    check_float(LD, fname, "ldl_solve_cpu")
    args = (LD, pivots, B, bool(hermitian))
    if requires_grad(LD, B):
        return out_into(record("linalg_ldl_solve", _solve_kernel, args), out, fname=None)
    return out_into(_solve_kernel(*args), out, fname=None)
