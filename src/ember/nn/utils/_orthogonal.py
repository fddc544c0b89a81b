"""The orthogonal parametrization (PyTorch's ``parametrizations.orthogonal``)."""
from enum import Enum, auto

import numpy as np

import ember
from ember.nn.modules.module import Module


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
    cayley = auto()
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
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = ember.cat([X, ember.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)], dim=-1)
            A = X - X.mT.conj()                               # skew-symmetric (or -Hermitian)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = ember.linalg.matrix_exp(A)
            else:
                # the Cayley retraction (I - A/2)^-1 (I + A/2)
                identity = ember.eye(n, dtype=A.dtype)
                Q = ember.linalg.solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = ember.linalg.householder_product(A, tau)
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
                # the inverse of the exponential and Cayley maps restricted to this
                # embedding is not known: the original keeps its value at registration
                if self.orthogonal_map != _OrthMaps.householder:
                    raise NotImplementedError("It is not possible to assign to the matrix "
                                              "exponential or the Cayley parametrizations "
                                              "when use_trivialization=False.")
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
