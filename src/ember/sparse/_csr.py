"""Sparse CSR matrices: row pointers ``crow_indices`` (``rows + 1``), column indices and
values of the specified elements, row by row.

Products, sums and gradients go through the equivalent COO tensor (the values are the
same tensor, so gradients reach them).
"""
import numbers

import ember
from ember import Tensor
from ember._formatting import sparse_repr
from ember.sparse._base import SparseTensorBase
from ember.sparse._coo import SparseCooTensor

__all__ = ["SparseCsrTensor", "sparse_csr_tensor"]


def _vector_indices(x, device, what):
    if not isinstance(x, Tensor):
        x = ember.tensor(x, dtype=ember.int64)
    if x.is_floating_point() or x.is_complex() or x.dtype == ember.bool:
        raise RuntimeError(f"sparse_csr_tensor: {what} must be an integer tensor, but got "
                           f"{x.dtype}")
    if x.dim() != 1:
        raise RuntimeError(f"sparse_csr_tensor: {what} must be 1-D (no batch dims), but got "
                           f"{x.dim()}-D")
    return x.detach().to(device=device, dtype=ember.int64)


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None,
                      device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None):
    """A sparse matrix in compressed sparse row (CSR) format.

    Parameters
    ----------
    crow_indices : Tensor or array_like
        ``rows + 1`` non-decreasing offsets: row ``i`` holds the elements
        ``crow_indices[i]:crow_indices[i + 1]``.
    col_indices : Tensor or array_like
        The column of each specified element.
    values : Tensor or array_like
        Their values (1-D).
    size : tuple of two ints, optional
        By default ``(len(crow_indices) - 1, max(col_indices) + 1)``.
    dtype, device, pin_memory, requires_grad, check_invariants
        As for :func:`ember.sparse_coo_tensor` (the structure is always checked).

    Returns
    -------
    SparseCsrTensor

    Examples
    --------
    >>> import ember
    >>> m = ember.sparse_csr_tensor([0, 1, 3], [2, 0, 2], [3.0, 4.0, 5.0], (2, 3))
    >>> m.to_dense()
    tensor([[0., 0., 3.],
            [4., 0., 5.]])
    """
    if not isinstance(values, Tensor):
        values = ember.tensor(values, dtype=dtype, device=device)
    values = values.to(dtype=dtype or values.dtype, device=device or values.device)
    crow = _vector_indices(crow_indices, values.device, "crow_indices")
    col = _vector_indices(col_indices, values.device, "col_indices")
    if values.dim() != 1:
        raise RuntimeError(f"sparse_csr_tensor: values must be 1-D, but got {values.dim()}-D")
    nnz = col.shape[0]
    if values.shape[0] != nnz:
        raise RuntimeError(f"col_indices and values must have the same number of elements, "
                           f"but got {nnz} and {values.shape[0]}")
    if crow.shape[0] == 0:
        raise RuntimeError("crow_indices must have at least one element (rows + 1)")
    if int(crow[0]) != 0:
        raise RuntimeError(f"`crow_indices[..., 0] == 0` is not satisfied: got {int(crow[0])}")
    if int(crow[-1]) != nnz:
        raise RuntimeError(f"`crow_indices[..., -1] == nnz` is not satisfied: got "
                           f"{int(crow[-1])} and nnz {nnz}")
    if crow.shape[0] > 1 and bool((crow[1:] < crow[:-1]).any()):
        raise RuntimeError("`0 <= crow_indices[..., 1:] - crow_indices[..., :-1] <= ncols` is "
                           "not satisfied: the row offsets decrease")
    rows = crow.shape[0] - 1
    if size is None:
        cols = int(col.max()) + 1 if nnz else 0
    else:
        size = tuple(int(n) for n in size)
        if len(size) != 2:
            raise RuntimeError(f"sparse_csr_tensor: expected a size of 2 dims (no batch or "
                               f"dense dims), got {list(size)}")
        if size[0] != rows:
            raise RuntimeError(f"sparse_csr_tensor: size[0] == {size[0]} but crow_indices has "
                               f"{crow.shape[0]} elements (rows + 1)")
        cols = size[1]
    if nnz and (int(col.min()) < 0 or int(col.max()) >= cols):
        raise RuntimeError(f"`0 <= col_indices < ncols` is not satisfied: column indices in "
                           f"[{int(col.min())}, {int(col.max())}] for {cols} columns")
    if requires_grad:
        if not (values.is_floating_point() or values.is_complex()):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        values = values.detach().requires_grad_(True)
    return SparseCsrTensor(crow, col, values, (rows, cols))


class SparseCsrTensor(SparseTensorBase):
    """A sparse matrix in compressed sparse row format (``layout == ember.sparse_csr``).

    Made by :func:`ember.sparse_csr_tensor` or ``to_sparse_csr()``.  Products, sums and
    gradients work through :meth:`to_sparse_coo`, which shares the values.
    """

    __slots__ = ("_crow", "_col", "_vals", "_shape", "__weakref__")
    is_sparse = False
    is_sparse_csr = True

    def __init__(self, crow, col, values, shape):
        self._crow, self._col, self._vals = crow, col, values
        self._shape = ember.Size(shape)

    @classmethod
    def _from_coo(cls, coo):
        if coo.sparse_dim() != 2 or coo.dense_dim() != 0:
            raise RuntimeError(f"to_sparse_csr: expected a 2-D sparse matrix without dense "
                               f"dims, got sparse_dim {coo.sparse_dim()} and dense_dim "
                               f"{coo.dense_dim()}")
        coo = coo.coalesce()
        rows = coo._idx[0]
        counts = ember.bincount(rows, minlength=coo.shape[0])
        crow = ember.cat([counts.new_zeros(1), ember.cumsum(counts, 0)])
        return cls(crow, coo._idx[1], coo._vals, coo.shape)

    # ------------------------------------------------------------ metadata
    def _nnz(self):
        """The number of specified elements."""
        return self._col.shape[0]

    def sparse_dim(self):
        return 2

    def dense_dim(self):
        return 0

    @property
    def layout(self):
        """``ember.sparse_csr``."""
        return ember.sparse_csr

    def crow_indices(self):
        """The ``rows + 1`` row offsets."""
        return self._crow

    def col_indices(self):
        """The column of each specified element."""
        return self._col

    def values(self):
        """The specified values (differentiable)."""
        return self._vals

    @property
    def grad(self):
        """The gradient of a sparse leaf: a CSR matrix on the same structure."""
        g = self._vals.grad
        return None if g is None else SparseCsrTensor(self._crow, self._col, g, self._shape)

    def detach(self):
        return SparseCsrTensor(self._crow, self._col, self._vals.detach(), self._shape)

    # ------------------------------------------------------------ conversions
    def to_sparse_coo(self):
        """The same matrix in COO format (sharing the values)."""
        counts = self._crow[1:] - self._crow[:-1]
        rows = ember.repeat_interleave(ember.arange(self._shape[0], device=self.device), counts)
        return SparseCooTensor(ember.stack([rows, self._col]), self._vals, self._shape)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """COO by default, or ``self`` for ``layout=ember.sparse_csr``."""
        return self if layout == ember.sparse_csr else self.to_sparse_coo()

    def to_sparse_csr(self, dense_dim=None):
        return self

    def to_dense(self, *, masked_grad=None):
        """The dense matrix (differentiable with respect to the values)."""
        return self.to_sparse_coo().to_dense()

    def to(self, *args, **kwargs):
        values = self._vals.to(*args, **kwargs)
        return SparseCsrTensor(self._crow.to(values.device), self._col.to(values.device),
                               values, self._shape)

    # ------------------------------------------------------------ arithmetic
    def matmul(self, other):
        """The product with a dense vector or matrix (dense), or a sparse matrix (sparse)."""
        return self.to_sparse_coo() @ other

    __matmul__ = matmul

    def __rmatmul__(self, other):
        return self.to_sparse_coo().__rmatmul__(other)

    def mul(self, other):
        """The product with a scalar (same structure)."""
        if isinstance(other, numbers.Number) or (isinstance(other, Tensor) and other.dim() == 0):
            return SparseCsrTensor(self._crow, self._col, self._vals * other, self._shape)
        return NotImplemented

    __mul__ = __rmul__ = mul

    def __neg__(self):
        return SparseCsrTensor(self._crow, self._col, -self._vals, self._shape)

    def sum(self, dim=None, keepdim=False, dtype=None):
        """The sum of the specified values, or along ``dim`` (as the COO tensor)."""
        return self.to_sparse_coo().sum(dim, keepdim, dtype)

    def __repr__(self):
        return sparse_repr((("crow_indices", self._crow), ("col_indices", self._col),
                            ("values", self._vals)), self._vals, self._shape, self._nnz(),
                           "sparse_csr")
