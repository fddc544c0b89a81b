"""PyTorch's top-level linear-algebra names older than ``torch.linalg``: ``lu``,
``lu_solve``, ``lu_unpack``, ``cholesky_solve``, ``triangular_solve``, ``geqrf``,
``ormqr``, ``nuclear_norm`` and ``frobenius_norm``, with their argument orders,
result types, checks and derivatives.

Most are composites of the ``ember.linalg`` functions, so their gradients come from
those.  ``cholesky_solve`` is a recorded op because PyTorch's derivative for the
factor is a full matrix (not only its triangle), and ``geqrf`` is recorded with a
derivative that raises, as PyTorch has none.
"""
from ember._core import _lapack_decomp
from ember._core._dtype import int32
from ember._core._tensor import _add_method, broadcast_shapes, empty, eye, record, zeros
from ember.ops.derivatives import derivative
from ember.linalg._common import (_LAPACK_DTYPES, binding_names, check_tensor, on_host,
                                  out_into, outs_into, requires_grad, result_type,
                                  torch_dtype_name)
from ember.linalg._factor import (
    _inverse_permutation, _permutation, _take_rows, lu_factor_ex, lu_solve as linalg_lu_solve,
    solve_triangular,
)
from ember.linalg._norms import matrix_norm, vector_norm

__all__ = ["lu", "lu_solve", "lu_unpack", "cholesky_solve", "triangular_solve", "geqrf",
           "ormqr", "nuclear_norm", "frobenius_norm"]

lu_with_info_result = result_type("_lu_with_info", ["LU", "pivots", "info"])
lu_unpack_result = result_type("lu_unpack", ["P", "L", "U"])
triangular_solve_result = result_type("triangular_solve", ["solution", "cloned_coefficient"])
geqrf_result = result_type("geqrf", ["a", "tau"])


def _check_lapack_dtype(t, kernel):
    """PyTorch's CPU kernels of these ops have no integer or half-precision versions."""
    if t.dtype not in _LAPACK_DTYPES:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{torch_dtype_name(t.dtype)}'")


def _check_b_and_a(b, A, fname):
    """The checks PyTorch's ``triangular_solve`` and ``cholesky_solve`` share."""
    if b.dtype != A.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{torch_dtype_name(b.dtype)} and A of type "
                           f"{torch_dtype_name(A.dtype)} instead.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for {fname}: each A matrix is "
                           f"{A.shape[-1]} by {A.shape[-1]} but each b matrix is "
                           f"{b.shape[-2]} by {b.shape[-1]}")


# ---------------------------------------------------------------- LU

def lu(A, pivot=True, get_infos=False, out=None):
    """``torch.lu``: the packed LU factorization of :func:`ember.linalg.lu_factor_ex`.

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)`` matrices.
    pivot : bool
        Must be True on the CPU (as in PyTorch).
    get_infos : bool
        Also return LAPACK's ``info`` per matrix.  A singular matrix never raises.
    out : tuple of Tensor, optional

    Returns
    -------
    (LU, pivots) : tuple of Tensor
        Or the named tuple ``(LU, pivots, info)`` with ``get_infos=True``.

    Examples
    --------
    >>> import ember
    >>> LU, pivots = ember.lu(ember.tensor([[1., 2.], [3., 4.]]))
    >>> pivots
    tensor([2, 2], dtype=ember.int32)
    """
    check_tensor(A, "lu", "A")
    if A.dim() < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(A.shape)} instead")
    _check_lapack_dtype(A, "lu_cpu")
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    if out is not None:
        LU, pivots = out_into(LU, out[0], fname="lu"), out_into(pivots, out[1], fname="lu")
        if get_infos:
            info = out_into(info, out[2], fname="lu")
    if get_infos:
        return lu_with_info_result(LU, pivots, info)
    return LU, pivots


@binding_names(input="b")
def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """``torch.lu_solve``: solve ``A X = b`` from :func:`lu`'s factors of ``A``
    (:func:`ember.linalg.lu_solve` with the right-hand side first).

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[3., 1.], [1., 2.]])
    >>> LU, pivots = ember.lu(A)
    >>> ember.lu_solve(ember.tensor([[9.], [8.]]), LU, pivots)
    tensor([[2.],
            [3.]])
    """
    return linalg_lu_solve(LU_data, LU_pivots, b, out=out)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """Unpack :func:`lu`'s packed factors into ``A = P L U``.

    Parameters
    ----------
    LU_data : Tensor
        ``(*, m, n)`` packed factors.
    LU_pivots : Tensor
        ``(*, k)`` int32 1-based row interchanges, ``k = min(m, n)``.
    unpack_data : bool
        Compute ``L`` and ``U`` (else they are empty).
    unpack_pivots : bool
        Compute ``P`` (else it is empty).
    out : tuple of Tensor, optional

    Returns
    -------
    (P, L, U) : namedtuple of Tensor
        ``P`` an ``(*, m, m)`` permutation matrix of ``LU_data``'s dtype, ``L``
        ``(*, m, k)`` unit lower triangular, ``U`` ``(*, k, n)`` upper triangular.
        Gradients flow from ``L`` and ``U`` to ``LU_data``.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[1., 2.], [3., 4.]])
    >>> P, L, U = ember.lu_unpack(*ember.lu(A))
    >>> P
    tensor([[0., 1.],
            [1., 0.]])
    >>> bool(ember.allclose(P @ L @ U, A))
    True
    """
    check_tensor(LU_data, "lu_unpack", "LU_data")
    check_tensor(LU_pivots, "lu_unpack", "LU_pivots", 2)
    if LU_data.dim() < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data.shape)} instead")
    if LU_pivots.dtype != int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    dtype = LU_data.dtype
    L = U = P = empty((0,), dtype=dtype, device=LU_data.device)
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=dtype, device=LU_data.device)
        U = LU_data[..., :k, :].triu()
    if unpack_pivots:
        perm = _permutation(LU_pivots, m)
        # P[perm[i], i] = 1, so that A = P (L U)
        P = _take_rows(eye(m, dtype=dtype, device=LU_data.device).expand(*perm.shape[:-1], m, m),
                       _inverse_permutation(perm))
    if out is not None:
        return lu_unpack_result(*outs_into((P, L, U), out, "lu_unpack"))
    return lu_unpack_result(P, L, U)


# ---------------------------------------------------------------- Cholesky and triangular solves

@on_host
def _cholesky_solve_kernel(B, L, upper):
    # A = L L^H (lower) or U^H U (upper): two triangular solves
    lower = L.mH if upper else L
    Y = solve_triangular(lower, B, upper=False)
    return solve_triangular(lower.mH, Y, upper=True)


@derivative("cholesky_solve", save_result=True)
def _cholesky_solve_backward(ctx, grad, B, L, upper):
    # PyTorch's cholesky_solve_backward: the factor's gradient is a full matrix
    X = ctx.result
    gB = cholesky_solve(grad, L, upper)
    gL = None
    if ctx.needs_input_grad[1]:
        common = gB @ X.mH
        common = common + common.mH
        gL = -(L @ common) if upper else -(common @ L)
        gL = gL.sum_to_size(L.shape)
    return gB.sum_to_size(B.shape), gL, None


@binding_names(input="B", input2="L")
def cholesky_solve(B, L, upper=False, *, out=None):
    """Solve ``A X = B`` for ``A = L L^H`` (``U^H U`` with ``upper=True``) from its
    Cholesky factor.  Batches broadcast.

    Parameters
    ----------
    B : Tensor
        ``(*, n, k)`` right-hand sides.
    L : Tensor
        ``(*, n, n)`` lower (``upper=True``: upper) triangular Cholesky factors; only
        that triangle is read.
    upper : bool
    out : Tensor, optional

    Returns
    -------
    Tensor
        ``(*, n, k)``.

    Examples
    --------
    >>> import ember
    >>> L = ember.linalg.cholesky(ember.tensor([[4., 2.], [2., 5.]]))
    >>> ember.cholesky_solve(ember.tensor([[6.], [7.]]), L)
    tensor([[1.],
            [1.]])
    """
    check_tensor(B, "cholesky_solve", "input")
    check_tensor(L, "cholesky_solve", "input2", 2)
    if B.dim() < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.dim()} dimensions "
                           f"instead")
    if L.dim() < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.dim()} dimensions "
                           f"instead")
    _check_b_and_a(B, L, "cholesky_solve")
    _check_lapack_dtype(L, "cholesky_solve_cpu")
    args = (B, L, bool(upper))
    if requires_grad(B, L):
        return out_into(record("cholesky_solve", _cholesky_solve_kernel, args),
                        out, fname="cholesky_solve")
    return out_into(_cholesky_solve_kernel(*args), out, fname="cholesky_solve")


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """``torch.triangular_solve``: solve ``A X = b`` (``A^T X = b`` with
    ``transpose=True``) for triangular ``A``, returning a copy of ``A`` too.

    Parameters
    ----------
    b : Tensor
        ``(*, n, k)`` right-hand sides.
    A : Tensor
        ``(*, n, n)`` upper (``upper=False``: lower) triangular matrices; only that
        triangle is read, and with ``unitriangular=True`` not the diagonal either.
    upper, transpose, unitriangular : bool
    out : tuple of Tensor, optional

    Returns
    -------
    (solution, cloned_coefficient) : namedtuple of Tensor
        ``cloned_coefficient`` is ``A`` broadcast to the batch shape.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[2., 1.], [0., 4.]])
    >>> ember.triangular_solve(ember.tensor([[4.], [8.]]), A).solution
    tensor([[1.],
            [2.]])
    """
    check_tensor(b, "triangular_solve", "input")
    check_tensor(A, "triangular_solve", "A", 2)
    for t, name in ((b, "b"), (A, "A")):
        if t.dim() < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 "
                               f"dimensions, but it has {t.dim()} dimensions instead")
    _check_b_and_a(b, A, "triangular_solve")
    _check_lapack_dtype(A, "triangular_solve_cpu")
    n = A.shape[-1]
    batch = broadcast_shapes(tuple(b.shape[:-2]), tuple(A.shape[:-2]))
    # A^T is triangular on the other side
    solution = solve_triangular(A.mT if transpose else A, b, upper=bool(upper) != bool(transpose),
                                unitriangular=unitriangular)
    cloned = A.expand(*batch, n, n).clone()
    if out is not None:
        return triangular_solve_result(*outs_into((solution, cloned), out, "triangular_solve"))
    return triangular_solve_result(solution, cloned)


# ---------------------------------------------------------------- QR as LAPACK stores it

@on_host
def _geqrf_kernel(A):
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    batch = tuple(A.shape[:-2])
    work = empty(batch + (n, m), dtype=A.dtype)     # column-major, as LAPACK and PyTorch
    work.copy_(A.mT)
    tau = zeros(batch + (k,), dtype=A.dtype)
    if work.numel() and k:
        _lapack_decomp.qr_kernel(False, work, tau, m, n, k, zeros(batch, dtype=int32))
    return work.mT, tau


@derivative("geqrf", save_inputs=False)
def _geqrf_backward(ctx, grad, A):
    raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input, *, out=None):
    """QR decomposition as LAPACK's ``geqrf`` stores it: ``R`` on and above the
    diagonal of ``a``, the Householder vectors below it (their leading 1 implied)
    and their scales in ``tau``.

    :func:`ember.linalg.householder_product` forms ``Q`` from ``(a, tau)``, and
    :func:`ormqr` multiplies by it.  Not differentiable (as in PyTorch, the backward
    raises).

    Parameters
    ----------
    input : Tensor
        ``(*, m, n)`` matrices.
    out : tuple of Tensor, optional

    Returns
    -------
    (a, tau) : namedtuple of Tensor
        ``a`` ``(*, m, n)``, ``tau`` ``(*, min(m, n))``.

    Examples
    --------
    >>> import ember
    >>> a, tau = ember.geqrf(ember.tensor([[3., 1.], [4., 2.]]))
    >>> a.triu()
    tensor([[-5.0000, -2.2000],
            [ 0.0000,  0.4000]])
    """
    check_tensor(input, "geqrf", "input")
    if input.dim() < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _check_lapack_dtype(input, "geqrf_cpu")
    if requires_grad(input):
        a, tau = record("geqrf", _geqrf_kernel, (input,))
    else:
        a, tau = _geqrf_kernel(input)
    if out is not None:
        return geqrf_result(*outs_into((a, tau), out, "geqrf"))
    return geqrf_result(a, tau)


def _check_ormqr(input, tau, other, left):
    fname = "torch.ormqr"
    for t, name in ((input, "input"), (other, "other")):
        if t.dim() < 2:
            raise RuntimeError(f"{fname}: {name} must have at least 2 dimensions.")
    side = -2 if left else -1
    if tau.dim() < 1 or tau.shape[-1] != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"{fname}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           f"input.shape[-1])")
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{fname}: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.dim() != input.dim() - 1:
        raise RuntimeError(f"{fname}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau.dim()} and input.ndim is equal to "
                           f"{input.dim()}")
    if other.dim() != input.dim():
        raise RuntimeError(f"{fname}: Expected other to have the same number of dimensions as "
                           f"input, but got other.ndim equal to {other.dim()} and input.ndim is "
                           f"equal to {input.dim()}")
    batch = tuple(input.shape[:-2])
    for t, name, shape in ((tau, "tau", tuple(tau.shape[:-1])),
                           (other, "other", tuple(other.shape[:-2]))):
        if shape != batch:
            raise RuntimeError(f"{fname}: Expected batch dimensions of {name} to be equal to "
                               f"input.shape[:-2], but got {list(shape)}")
    for t, name in ((tau, "tau"), (other, "other")):
        if t.dtype != input.dtype:
            raise RuntimeError(f"{fname}: Expected input and {name} to have the same dtype, but "
                               f"input has dtype{torch_dtype_name(input.dtype)} and {name} has "
                               f"dtype {torch_dtype_name(t.dtype)}")
    _check_lapack_dtype(input, "ormqr_cpu")


@binding_names(input2="tau", input3="other")
def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """Multiply ``other`` by the ``Q`` of :func:`geqrf`'s ``(input, tau)`` without
    forming it: ``Q C`` (``C Q`` with ``left=False``; ``Q^H`` for ``Q`` with
    ``transpose=True``), as LAPACK's ``ormqr``/``unmqr``.

    ``Q = H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^H``, ``v_i`` column ``i`` of
    ``input`` below the diagonal with a 1 on it.  Differentiable in all three inputs.

    Parameters
    ----------
    input : Tensor
        ``(*, mn, k)`` Householder vectors, ``mn`` = ``m`` (``left``) or ``n``.
    tau : Tensor
        ``(*, min(mn, k))`` scales.
    other : Tensor
        ``(*, m, n)``.
    left, transpose : bool
    out : Tensor, optional

    Returns
    -------
    Tensor
        ``(*, m, n)``.

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[3., 1.], [4., 2.]])
    >>> a, tau = ember.geqrf(A)
    >>> bool(ember.allclose(ember.ormqr(a, tau, a.triu()), A))    # Q R = A
    True
    """
    check_tensor(input, "ormqr", "input")
    check_tensor(tau, "ormqr", "tau", 2)
    check_tensor(other, "ormqr", "other", 3)
    _check_ormqr(input, tau, other, left)
    mn, k = input.shape[-2], tau.shape[-1]
    V = input.tril(-1) + eye(mn, input.shape[-1], dtype=input.dtype, device=input.device)
    scales = tau.conj() if transpose else tau
    # Q = H_1 ... H_k: Q C applies H_k first, Q^H C applies H_1^H first; from the right
    # the order is the other way round
    order = range(k) if left == bool(transpose) else reversed(range(k))
    C = other
    for i in order:
        v = V[..., :, i:i + 1]
        t = scales[..., i:i + 1].unsqueeze(-1)
        C = C - (t * v) @ (v.mH @ C) if left else C - ((C @ v) * t) @ v.mH
    return out_into(C if C is not other else other.clone(), out, fname="ormqr")


# ---------------------------------------------------------------- norms

def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """The nuclear norm (sum of the singular values) of the matrices over ``dim``
    (the last two by default): PyTorch's older spelling of
    ``ember.linalg.matrix_norm(input, 'nuc', dim, keepdim)``.

    ``nuclear_norm(input, keepdim)`` (a bool second argument) is accepted, as in PyTorch.

    Examples
    --------
    >>> import ember
    >>> ember.nuclear_norm(ember.tensor([[3., 0.], [0., -4.]]))
    tensor(7.)
    """
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    check_tensor(input, "nuclear_norm", "input")
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """The Frobenius norm (square root of the sum of squared magnitudes) over ``dim``,
    at most two dims: PyTorch's older spelling of ``linalg.vector_norm(input, 2, dim)``.

    Examples
    --------
    >>> import ember
    >>> ember.frobenius_norm(ember.tensor([[3., 0.], [0., -4.]]), (0, 1))
    tensor(5.)
    """
    check_tensor(input, "frobenius_norm", "input")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions "
                           f"instead.")
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {torch_dtype_name(input.dtype)} instead.")
    if out is not None and requires_grad(input):
        raise RuntimeError("norm(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    return vector_norm(input, 2, dims, keepdim, out=out)


def _lu_method(self, pivot=True, get_infos=False):
    """``Tensor.lu``: :func:`ember.lu` of this tensor."""
    return lu(self, pivot, get_infos)


for _name, _fn in {"lu": _lu_method, "lu_solve": lu_solve, "cholesky_solve": cholesky_solve,
                   "triangular_solve": triangular_solve, "geqrf": geqrf,
                   "ormqr": ormqr}.items():
    _add_method(_name, _fn)
del _name, _fn
