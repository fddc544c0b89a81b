"""The orthogonal parametrization (PyTorch's ``parametrizations.orthogonal``) and the
matrix functions it is built from, as compositions of differentiable ember ops."""
import math
from enum import Enum, auto

import numpy as np

import ember
from ember.nn.modules.module import Module


def _tril_mask(n, k, diagonal, dtype):
    return ember.from_numpy(np.tril(np.ones((n, k)), diagonal)).to(dtype)


def matrix_exp(A):
    """Exponential of the square matrices ``A`` (``(..., n, n)``), differentiable.

    Scaling and squaring: ``exp(A) = exp(A / 2^s) ^ (2^s)`` with ``||A / 2^s||_1 <= 1/2``,
    the inner exponential by its Taylor series to degree 18 (error below 1e-20).
    """
    with ember.no_grad():
        norm = float(A.abs().sum(-2).amax()) if A.numel() else 0.0
    squarings = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0 else 0
    B = A / (2 ** squarings)
    n = A.shape[-1]
    identity = ember.eye(n, dtype=A.dtype)
    result = identity + B
    term = B
    for degree in range(2, 19):
        term = ember.matmul(term, B) / degree
        result = result + term
    for _ in range(squarings):
        result = ember.matmul(result, result)
    return result


def householder_product(A, tau):
    """The first ``k`` columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^T`` with ``v_i``
    the ``i``-th column of ``A`` below the diagonal and 1 on it (LAPACK's ``orgqr``)."""
    n, k = A.shape[-2], A.shape[-1]
    V = A * _tril_mask(n, k, -1, A.dtype) + ember.eye(n, k, dtype=A.dtype)
    Q = ember.eye(n, k, dtype=A.dtype).expand(*A.shape).clone()
    for i in range(k - 1, -1, -1):
        v = V[..., i:i + 1]                                   # (..., n, 1)
        Q = Q - tau[..., i:i + 1].unsqueeze(-1) * ember.matmul(v, ember.matmul(v.mT, Q))
    return Q


def _orthonormal_columns(Q):
    """The Q of the QR factorisation of ``Q``, its columns' signs those of R's diagonal."""
    values = Q.detach().numpy()
    q, r = np.linalg.qr(values)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    return ember.from_numpy(np.ascontiguousarray(q * signs[..., None, :])).to(Q.dtype)


def _is_orthogonal(Q):
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10 * n * np.finfo(np.asarray(Q.detach()).dtype).eps
    gram = ember.matmul(Q.mT, Q).detach().numpy()
    return bool(np.allclose(gram, np.eye(k), atol=eps))


class _OrthMaps(Enum):
    matrix_exp = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map == _OrthMaps.matrix_exp:
            X = X * _tril_mask(n, k, 0, X.dtype)
            if n != k:
                X = ember.cat([X, ember.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)], dim=-1)
            Q = matrix_exp(X - X.mT.conj())
            if n != k:
                Q = Q[..., :k]
        else:
            A = X * _tril_mask(n, k, -1, X.dtype)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            # the signs of X's diagonal choose each column's sign (not differentiated)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().to(ember.int32).unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            Q = ember.matmul(self.base, Q)
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        with ember.no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {tuple(Q.shape)}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map == _OrthMaps.matrix_exp:
                    raise NotImplementedError("It is not possible to assign to the matrix "
                                              "exponential parametrization when "
                                              "use_trivialization=False.")
                h, tau = np.linalg.qr(Q.detach().numpy(), mode="raw")
                A = np.swapaxes(h, -1, -2).copy()
                diag = np.sign(np.diagonal(A, axis1=-2, axis2=-1)).copy()
                diag[tau == 0.0] *= -1
                idx = np.arange(k)
                A[..., idx, idx] = diag
                A = ember.from_numpy(A).to(Q.dtype)
                return A.mT if transpose else A
            if n == k and _is_orthogonal(Q):
                Q = Q.clone()
            else:
                if n != k:
                    # complete Q into a full n x n matrix before orthonormalising
                    extra = ember.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)
                    Q = ember.cat([Q, extra], dim=-1)
                Q = _orthonormal_columns(Q)
            self.base = Q
            # -Id: with it, householder(zeros) is eye, and the diagonal's signs are right
            neg_id = ember.zeros_like(Q_init)
            neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_id
