"""Sparse COO tensors: an int64 ``indices`` tensor of shape ``(sparse_dim, nnz)`` and a
``values`` tensor of shape ``(nnz, *dense_shape)``.

Every operation is written with ember's dense ops on those two tensors (indexing,
``index_put``, ``index_add``, ``scatter_reduce``), so gradients reach ``values`` and any
dense operand through the ordinary autograd graph, and a sparse tensor "requires grad"
exactly when its values do.  A sparse leaf created with ``requires_grad=True`` owns a
leaf values tensor; its ``grad`` is the sparse tensor of the values' gradient on the same
indices.
"""
import numbers

import ember
from ember import Tensor
from ember._core._tensor import _set_sparse_grad_type
from ember._formatting import sparse_repr
from ember.sparse._base import SparseTensorBase

__all__ = ["SparseCooTensor", "sparse_coo_tensor"]


def _int64_indices(indices, device, fname):
    if not isinstance(indices, Tensor):
        indices = ember.tensor(indices, dtype=ember.int64)
    if indices.is_floating_point() or indices.is_complex() or indices.dtype == ember.bool:
        raise RuntimeError(f"{fname}: indices must be an integer tensor, but got {indices.dtype}")
    if indices.dim() != 2:
        raise RuntimeError(f"{fname}: indices must be sparse_dim x nnz, but got: "
                           f"{list(indices.shape)}")
    return indices.detach().to(device=device, dtype=ember.int64)


def _check_bounds(indices, sparse_shape):
    """Every index inside its dim (ember checks always: a wrong index is an error, not
    silent garbage in a later product)."""
    if indices.shape[1] == 0:
        return
    low, high = indices.amin(1).tolist(), indices.amax(1).tolist()
    for d, (lo, hi, n) in enumerate(zip(low, high, sparse_shape)):
        if lo < 0:
            raise RuntimeError(f"found negative index {lo} for dim {d}")
        if hi >= n:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {n} "
                               f"but found index {hi}")


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """A sparse tensor in coordinate (COO) format.

    Parameters
    ----------
    indices : Tensor or array_like
        Integer coordinates of the specified elements, shape ``(sparse_dim, nnz)``.
    values : Tensor or array_like
        Their values, shape ``(nnz, *dense_shape)``.  Repeated coordinates add up.
    size : sequence of int, optional
        The shape, ``sparse_dim + dense_dim`` long; by default the smallest that holds
        the indices, followed by the dense shape of ``values``.
    dtype, device : optional
        Of the values (by default those of ``values``).
    pin_memory : bool, default False
        Accepted for PyTorch compatibility; ember allocates no pinned memory.
    requires_grad : bool, default False
        Make the result a leaf whose gradient is recorded.
    check_invariants : bool, optional
        Accepted for PyTorch compatibility: ember always checks that every index lies
        inside ``size``.
    is_coalesced : bool, optional
        Declare the indices sorted and unique (as :meth:`SparseCooTensor.coalesce`
        leaves them).

    Returns
    -------
    SparseCooTensor

    Examples
    --------
    >>> import ember
    >>> s = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
    >>> s.to_dense()
    tensor([[0., 0., 3.],
            [4., 0., 5.]])
    >>> s @ ember.ones(3, 1)
    tensor([[3.],
            [9.]])
    """
    if not isinstance(values, Tensor):
        values = ember.tensor(values, dtype=dtype, device=device)
    values = values.to(dtype=dtype or values.dtype, device=device or values.device)
    if values.dim() == 0:
        raise RuntimeError("values must have at least one dimension (nnz), got a 0-d tensor")
    indices = _int64_indices(indices, values.device, "sparse_coo_tensor")
    sparse_dim, nnz = indices.shape
    if values.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from "
                           f"indices: {nnz}, nnz from values: {values.shape[0]}")
    dense_shape = tuple(values.shape[1:])
    if size is None:
        sparse_shape = (tuple(int(n) + 1 for n in indices.amax(1).tolist()) if nnz
                        else (0,) * sparse_dim)
    else:
        size = tuple(int(n) for n in size)
        if len(size) != sparse_dim + len(dense_shape):
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: "
                               f"len(size) = {len(size)}, sparse_dim = {sparse_dim}, "
                               f"dense_dim = {len(dense_shape)}")
        if size[sparse_dim:] != dense_shape:
            raise RuntimeError(f"values has incorrect size, expected {[nnz, *size[sparse_dim:]]}"
                               f", got {list(values.shape)}")
        sparse_shape = size[:sparse_dim]
    _check_bounds(indices, sparse_shape)
    if requires_grad:
        if not (values.is_floating_point() or values.is_complex()):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        values = values.detach().requires_grad_(True)
    return SparseCooTensor(indices, values, sparse_shape + dense_shape, bool(is_coalesced))


def _linear_keys(indices, sparse_shape):
    """The row-major position of each coordinate among the sparse dims."""
    keys = ember.zeros(indices.shape[1], dtype=ember.int64, device=indices.device)
    for d, n in enumerate(sparse_shape):
        keys = keys * n + indices[d]
    return keys


def _unravel(keys, sparse_shape):
    rows = []
    for n in reversed(sparse_shape):
        rows.append(keys % n)
        keys = keys // n
    return ember.stack(rows[::-1]) if rows else keys.new_zeros((0, keys.shape[0]))


def _zero_preserving(name):
    def method(self):
        # a repeated coordinate's values are summed first: f(a + b) != f(a) + f(b)
        s = self.coalesce()
        return s._with_values(getattr(s._vals, name)())
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"``{name}`` of each element (``{name}(0) == 0``, so the result has "
                      f"the indices of the coalesced tensor).")
    return method


class SparseCooTensor(SparseTensorBase):
    """A sparse tensor in coordinate format (``layout == ember.sparse_coo``).

    Made by :func:`ember.sparse_coo_tensor` or :meth:`Tensor.to_sparse`.  Supports
    products with dense tensors (``@``, :func:`ember.sparse.mm`), with other sparse
    tensors, elementwise addition and multiplication, sums, softmax along a sparse
    dim, the value-wise functions that keep zeros, and gradients through all of them.
    The gradient with respect to a sparse tensor is that of its specified elements
    (PyTorch's ``torch.sparse.mm`` convention, for every operation).
    """

    __slots__ = ("_idx", "_vals", "_shape", "_coalesced", "__weakref__")
    is_sparse = True
    is_sparse_csr = False

    def __init__(self, indices, values, shape, coalesced=False):
        self._idx = indices
        self._vals = values
        self._shape = ember.Size(shape)
        self._coalesced = coalesced

    # ------------------------------------------------------------ metadata
    def sparse_dim(self):
        """The number of sparse (indexed) dims."""
        return self._idx.shape[0]

    def dense_dim(self):
        """The number of dense dims of each value."""
        return self._vals.dim() - 1

    def _nnz(self):
        """The number of specified elements (repeats counted until coalesced)."""
        return self._idx.shape[1]

    @property
    def layout(self):
        """``ember.sparse_coo``."""
        return ember.sparse_coo

    # ------------------------------------------------------------ autograd
    @property
    def grad(self):
        """The gradient of a sparse leaf: coalesced, on this tensor's specified elements
        (each repeat of a coordinate received the gradient of that coordinate)."""
        g = self._vals.grad
        if g is None:
            return None
        if self._coalesced:
            return SparseCooTensor(self._idx, g, self._shape, True)
        keys = _linear_keys(self._idx, self._shape[:self.sparse_dim()])
        unique, inverse, counts = ember.unique(keys, sorted=True, return_inverse=True,
                                               return_counts=True)
        summed = g.new_zeros((unique.shape[0],) + tuple(g.shape[1:])).index_add(0, inverse, g)
        counts = counts.reshape((-1,) + (1,) * (g.dim() - 1)).to(g.dtype)
        return SparseCooTensor(_unravel(unique, self._shape[:self.sparse_dim()]),
                               summed / counts, self._shape, True)

    def detach(self):
        """The same indices and values, cut from the graph."""
        return SparseCooTensor(self._idx, self._vals.detach(), self._shape,
                               self._coalesced)

    def detach_(self):
        """Cut this tensor from the graph, in place; returns ``self``."""
        self._vals = self._vals.detach()
        return self

    # ------------------------------------------------------------ parts
    def indices(self):
        """The ``(sparse_dim, nnz)`` coordinates of a coalesced tensor."""
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._idx

    def values(self):
        """The ``(nnz, *dense_shape)`` values of a coalesced tensor (differentiable)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._vals

    def _indices(self):
        """The coordinates, coalesced or not."""
        return self._idx

    def _values(self):
        """The values, coalesced or not (differentiable)."""
        return self._vals

    def is_coalesced(self):
        """Whether the indices are known to be sorted and unique."""
        return self._coalesced

    def _with_values(self, values):
        return SparseCooTensor(self._idx, values, self._shape, self._coalesced)

    def coalesce(self):
        """The same tensor with sorted, unique indices (repeated coordinates summed)."""
        if self._coalesced:
            return self
        sparse_shape = self._shape[:self.sparse_dim()]
        keys = _linear_keys(self._idx, sparse_shape)
        unique, inverse = ember.unique(keys, sorted=True, return_inverse=True)
        values = self._vals.new_zeros((unique.shape[0],) + tuple(self._vals.shape[1:]))
        values = values.index_add(0, inverse, self._vals)
        return SparseCooTensor(_unravel(unique, sparse_shape), values, self._shape, True)

    # ------------------------------------------------------------ conversions
    def to_dense(self, *, masked_grad=None):
        """The dense tensor (differentiable with respect to the values)."""
        out = self._vals.new_zeros(self._shape)
        if self._nnz() == 0:
            return out + self._vals.sum() * 0 if self._vals.requires_grad else out
        return out.index_put(tuple(self._idx), self._vals, accumulate=True)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """``self`` (already sparse COO), or converted to the CSR ``layout``."""
        if layout is not None and layout == ember.sparse_csr:
            return self.to_sparse_csr()
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError(f"to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               f"argument !=self.sparse_dim() is not supported")
        return self

    to_sparse_coo = to_sparse

    def to_sparse_csr(self, dense_dim=None):
        """The same 2-D matrix in compressed sparse row format."""
        from ember.sparse._csr import SparseCsrTensor
        return SparseCsrTensor._from_coo(self)

    def to(self, *args, **kwargs):
        """Values (and indices) converted to a dtype and/or moved to a device."""
        values = self._vals.to(*args, **kwargs)
        indices = self._idx.to(device=values.device)
        return SparseCooTensor(indices, values, self._shape, self._coalesced)

    def clone(self):
        """A copy with its own indices and values (differentiable)."""
        return SparseCooTensor(self._idx.clone(), self._vals.clone(), self._shape,
                               self._coalesced)

    # ------------------------------------------------------------ shape
    def transpose(self, dim0, dim1):
        """Swap two sparse dims (or two dense dims)."""
        n, sd = self.dim(), self.sparse_dim()
        for d in (dim0, dim1):
            if not -n <= d < n:
                raise IndexError(f"Dimension out of range (expected to be in range of "
                                 f"[{-n}, {n - 1}], but got {d})")
        dim0, dim1 = dim0 % n, dim1 % n
        shape = list(self._shape)
        shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
        if dim0 < sd and dim1 < sd:
            order = list(range(sd))
            order[dim0], order[dim1] = dim1, dim0
            return SparseCooTensor(self._idx[order], self._vals, shape)
        if dim0 >= sd and dim1 >= sd:
            values = self._vals.transpose(dim0 - sd + 1, dim1 - sd + 1)
            return SparseCooTensor(self._idx, values, shape, self._coalesced)
        raise RuntimeError("transpose: transposed dimensions must be sparse Got sparse_dim: "
                           f"{sd}, d0: {dim0}, d1: {dim1}")

    def index_select(self, dim, index):
        """The slices at positions ``index`` along ``dim`` (a sparse result, its elements
        ordered by position in ``index``, then as in ``self``).

        Examples
        --------
        >>> import ember
        >>> a = ember.tensor([[0., 1.], [2., 0.]]).to_sparse()
        >>> a.index_select(0, ember.tensor([1, 1, 0])).to_dense()
        tensor([[2., 0.],
                [2., 0.],
                [0., 1.]])
        """
        n, sd = self.dim(), self.sparse_dim()
        if not -n <= dim < n:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {dim})")
        dim %= n
        if not isinstance(index, Tensor) or index.dtype not in (ember.int64, ember.int32) \
                or index.dim() > 1:
            raise IndexError("index_select(): Expected index to be a 1-D int32 or int64 tensor")
        index = index.reshape(-1).to(ember.int64)
        size = self._shape[dim]
        if index.numel() and (int(index.min()) < -size or int(index.max()) >= size):
            raise IndexError(f"index out of range in self (size {size} along dim {dim})")
        index = index.remainder(size) if size else index
        shape = list(self._shape)
        shape[dim] = index.numel()
        if dim >= sd:
            return SparseCooTensor(self._idx, self._vals.index_select(dim - sd + 1, index),
                                   shape, self._coalesced)
        # each position of ``index`` takes the elements whose coordinate it names: the
        # elements grouped by coordinate (a stable sort), each group's start and length
        coord = self._idx[dim]
        grouped = ember.sort(coord, stable=True).indices
        counts = ember.bincount(coord, minlength=size)
        starts = counts.cumsum(0) - counts
        repeats = counts[index]
        position = ember.repeat_interleave(ember.arange(index.numel()), repeats)
        first = ember.repeat_interleave(repeats.cumsum(0) - repeats, repeats)
        element = grouped[starts[index[position]] + ember.arange(position.numel()) - first]
        indices = self._idx[:, element].clone()
        indices[dim] = position
        return SparseCooTensor(indices, self._vals[element], shape, element.numel() <= 1)

    def select(self, dim, index):
        """The slice at ``index`` along ``dim``, that dim removed: sparse while sparse
        dims remain, else the dense sum of the selected values (as PyTorch's).

        Examples
        --------
        >>> import ember
        >>> a = ember.tensor([[0., 1.], [2., 0.]]).to_sparse()
        >>> a.select(0, 1).to_dense()
        tensor([2., 0.])
        >>> a[1, 0]
        tensor(2.)
        """
        n, sd = self.dim(), self.sparse_dim()
        if not -n <= dim < n:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {dim})")
        dim %= n
        size = self._shape[dim]
        if not -size <= index < size:
            raise IndexError(f"select(): index {index} out of range for tensor of size "
                             f"{list(self._shape)} at dimension {dim}")
        index %= size
        shape = self._shape[:dim] + self._shape[dim + 1:]
        if dim >= sd:
            return SparseCooTensor(self._idx, self._vals.select(dim - sd + 1, index), shape,
                                   self._coalesced)
        keep = (self._idx[dim] == index).nonzero().reshape(-1)
        values = self._vals[keep]
        if sd == 1:
            return values.sum(0, dtype=values.dtype)
        indices = ember.cat([self._idx[:dim], self._idx[dim + 1:]])[:, keep]
        return SparseCooTensor(indices, values, shape, keep.numel() <= 1)

    def __getitem__(self, index):
        if not isinstance(index, tuple):
            index = (index,)
        result = self
        for i in index:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral):
                raise NotImplementedError(f"a sparse tensor is indexed by integers only (as "
                                          f"select), got {type(i).__name__}")
            result = result.select(0, i)
        return result

    def t(self):
        """The transpose of a matrix (2 dims or fewer)."""
        if self.dim() > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but self is {self.sparse_dim()}D and {self.dense_dim()}D")
        return self if self.dim() < 2 else self.transpose(0, 1)

    # ------------------------------------------------------------ arithmetic
    def __neg__(self):
        return self._with_values(-self._vals)

    neg = __neg__

    def _scaled(self, other, op):
        if isinstance(other, Tensor) and other.dim() == 0:
            other = other.to(self.device)
        return self._with_values(op(self._vals, other))

    def mul(self, other):
        """Elementwise product with a scalar, a dense tensor broadcastable to this shape, or
        another sparse tensor (sparse result)."""
        if isinstance(other, numbers.Number) or (isinstance(other, Tensor) and other.dim() == 0):
            return self._scaled(other, ember.mul)
        if isinstance(other, SparseCooTensor):
            return _sparse_mul_sparse(self, other)
        if isinstance(other, Tensor):
            if ember.broadcast_shapes(tuple(other.shape), self._shape) != self._shape:
                raise RuntimeError(f"mul: expected a dense tensor broadcastable to the sparse "
                                   f"tensor's shape {list(self._shape)}, got "
                                   f"{list(other.shape)}")
            # the dense factor at each element's coordinates (a row per element)
            picked = other.expand(self._shape)[tuple(self._idx)]
            return self._with_values(self._vals * picked)
        return NotImplemented

    __mul__ = __rmul__ = mul

    def mul_(self, other):
        """Multiply the values by a scalar (or a 0-d tensor) in place; returns ``self``."""
        if not (isinstance(other, numbers.Number)
                or (isinstance(other, Tensor) and other.dim() == 0)):
            raise RuntimeError(f"mul_: a sparse tensor is scaled in place by a scalar only, got "
                               f"{type(other).__name__}")
        self._vals.mul_(other.to(self.device) if isinstance(other, Tensor) else other)
        return self

    def zero_(self):
        """Drop every specified element (``nnz`` becomes 0), in place; returns ``self``."""
        self._idx = self._idx[:, :0]
        self._vals = self._vals[:0]
        self._coalesced = True
        return self

    def __truediv__(self, other):
        if isinstance(other, numbers.Number) or (isinstance(other, Tensor) and other.dim() == 0):
            return self._scaled(other, ember.div)
        return NotImplemented

    div = __truediv__

    def add(self, other, *, alpha=1):
        """Sum with a sparse tensor of the same shape (sparse result, not coalesced)."""
        if isinstance(other, SparseCooTensor):
            if other.shape != self._shape or other.sparse_dim() != self.sparse_dim():
                raise RuntimeError(f"add: expected sizes and sparse dims to match, got "
                                   f"{list(self._shape)} and {list(other.shape)}")
            values = other._vals if alpha == 1 else other._vals * alpha
            dtype = ember.promote_types(self.dtype, values.dtype)
            return SparseCooTensor(ember.cat([self._idx, other._idx], 1),
                                   ember.cat([self._vals.to(dtype), values.to(dtype)]),
                                   self._shape)
        if isinstance(other, Tensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        return NotImplemented

    __add__ = add

    def add_(self, other, *, alpha=1):
        """Add a sparse tensor of the same shape in place (the result is not coalesced);
        returns ``self``."""
        total = self.add(other, alpha=alpha)
        if total is NotImplemented:
            raise TypeError(f"add_: expected a sparse tensor, got {type(other).__name__}")
        if total.dtype != self.dtype:
            raise RuntimeError(f"result type {total.dtype} can't be cast to the desired output "
                               f"type {self.dtype}")
        self._idx, self._vals, self._coalesced = total._idx, total._vals, False
        return self

    def __sub__(self, other):
        return self.add(other, alpha=-1) if isinstance(other, SparseCooTensor) else \
            self.add(other)

    def __radd__(self, other):
        if isinstance(other, Tensor):
            return _dense_add_sparse(other, self, 1)
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, Tensor):
            return _dense_add_sparse(other, self, -1)
        return NotImplemented

    def pow(self, exponent):
        """The values raised to a positive scalar ``exponent``."""
        if not isinstance(exponent, numbers.Number) or exponent <= 0:
            raise RuntimeError(f"pow: a sparse tensor takes a positive scalar exponent, got "
                               f"{exponent!r}")
        s = self.coalesce()
        return s._with_values(s._vals ** exponent)

    __pow__ = pow

    def matmul(self, other):
        """The product with a dense vector or matrix (dense result) or with a sparse
        matrix (sparse result)."""
        return mm(self, other)

    __matmul__ = matmul

    def __rmatmul__(self, other):
        if isinstance(other, Tensor):
            if other.dim() == 1:
                return mm(self.t(), other)
            return mm(self.t(), other.t()).t()
        return NotImplemented

    def norm(self, p=2, dim=None, keepdim=False, dtype=None):
        """The ``p``-norm of all elements (a dense 0-d tensor): that of the coalesced
        values, the unspecified elements being zeros."""
        if dim is not None or keepdim:
            raise RuntimeError("norm: a sparse tensor takes the norm of all its elements only "
                               "(dim=None, keepdim=False)")
        values = self.coalesce()._vals
        return values.norm(p, dtype=dtype) if dtype is not None else values.norm(p)

    def sum(self, dim=None, keepdim=False, dtype=None):
        """As :func:`ember.sparse.sum` (``keepdim`` is not supported)."""
        if keepdim:
            raise RuntimeError("sum: keepdim=True is not supported for sparse tensors")
        return sparse_sum(self, dim, dtype=dtype)

    def __repr__(self):
        return sparse_repr((("indices", self._idx), ("values", self._vals)), self._vals,
                           self._shape, self._nnz(), "sparse_coo")


for _name in ("abs", "sqrt", "sin", "tan", "tanh", "asin", "atan", "sinh", "asinh", "atanh",
              "expm1", "log1p", "relu", "sign", "sgn", "trunc", "floor", "ceil", "round",
              "square", "deg2rad", "rad2deg", "erf", "erfinv", "frac", "signbit",
              "isnan", "isinf", "nan_to_num"):
    setattr(SparseCooTensor, _name, _zero_preserving(_name))

_set_sparse_grad_type(SparseCooTensor)     # Embedding(sparse=True) gradients


def _dense_add_sparse(dense, sparse, sign):
    """``dense + sign * sparse`` as a dense tensor."""
    if tuple(dense.shape) != tuple(sparse.shape):
        return dense + sign * sparse.to_dense()
    dtype = ember.promote_types(dense.dtype, sparse.dtype)
    values = sparse._vals if sign == 1 else -sparse._vals
    return dense.to(dtype).index_put(tuple(sparse._idx), values.to(dtype), accumulate=True)


def _sparse_mul_sparse(a, b):
    """The elementwise product: the coordinates both specify."""
    if a.shape != b.shape or a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(f"mul: expected sizes and sparse dims to match, got {list(a.shape)} "
                           f"and {list(b.shape)}")
    a, b = a.coalesce(), b.coalesce()
    sparse_shape = a.shape[:a.sparse_dim()]
    ka, kb = _linear_keys(a._idx, sparse_shape), _linear_keys(b._idx, sparse_shape)
    if kb.numel() == 0 or ka.numel() == 0:
        keep = ember.zeros(0, dtype=ember.int64, device=a.device)
        return SparseCooTensor(a._idx[:, keep], a._vals[keep] * b._vals[:0], a.shape,
                               True)
    pos = ember.searchsorted(kb, ka).clamp(max=kb.numel() - 1)
    keep = ember.nonzero(kb[pos] == ka).reshape(-1)
    values = a._vals[keep] * b._vals[pos[keep]]
    return SparseCooTensor(a._idx[:, keep], values, a.shape, True)


def _sparse_mm_sparse(a, b):
    """A sparse matrix product: each entry (i, k) of ``a`` meets the row k of ``b``."""
    b = b.coalesce()
    rows_b = b._idx[0]
    counts = ember.bincount(rows_b, minlength=b.shape[0])
    starts = ember.cumsum(counts, 0) - counts
    per_entry = counts[a._idx[1]]
    total = int(per_entry.sum())
    owner = ember.repeat_interleave(ember.arange(a._nnz(), device=a.device), per_entry)
    first = ember.cumsum(per_entry, 0) - per_entry
    offset = ember.arange(total, device=a.device) - first[owner]
    picked = starts[a._idx[1]][owner] + offset
    indices = ember.stack([a._idx[0][owner], b._idx[1][picked]])
    dtype = ember.promote_types(a.dtype, b.dtype)
    values = a._vals[owner].to(dtype) * b._vals[picked].to(dtype)
    return SparseCooTensor(indices, values, (a.shape[0], b.shape[1])).coalesce()


# mm's reduce= names, as index_reduce takes them (None: a plain sum)
_MM_REDUCE = {"sum": None, "mean": "mean", "amax": "amax", "max": "amax", "amin": "amin",
              "min": "amin"}


def mm(mat1, mat2, reduce=None):
    """The product of a sparse matrix and a dense matrix or vector (dense result), or of
    two sparse matrices (sparse result); differentiable in both operands.

    With ``reduce`` (``"sum"``, ``"mean"``, ``"amax"`` or ``"amin"``; a sparse CSR
    ``mat1`` and a dense matrix ``mat2`` only, as in PyTorch), each result element
    reduces the products ``mat1[i, k] * mat2[k, j]`` of the stored ``mat1[i, k]``
    that way instead of summing them; a row with nothing stored gives 0.

    Examples
    --------
    >>> import ember
    >>> s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
    >>> ember.sparse.mm(s, ember.tensor([[1.0], [10.0]]))
    tensor([[20.],
            [ 3.]])
    >>> c = ember.tensor([[1.0, 3.0], [0.0, 0.0]]).to_sparse_csr()
    >>> ember.sparse.mm(c, ember.tensor([[1.0], [10.0]]), "mean")
    tensor([[15.5000],
            [ 0.0000]])
    """
    if reduce is not None:
        return _mm_reduce(mat1, mat2, reduce)
    if not isinstance(mat1, SparseCooTensor):
        from ember.sparse._csr import SparseCsrTensor
        if isinstance(mat1, SparseCsrTensor):
            return mm(mat1.to_sparse_coo(), mat2)
        if isinstance(mat2, (SparseCooTensor, SparseCsrTensor)) and isinstance(mat1, Tensor):
            return mat2.__rmatmul__(mat1)
        raise TypeError(f"mm: expected a sparse first operand, got {type(mat1).__name__}")
    if mat1.sparse_dim() != 2 or mat1.dense_dim() != 0:
        raise RuntimeError(f"mm: expected a 2-D sparse matrix with no dense dims, got "
                           f"sparse_dim {mat1.sparse_dim()} and dense_dim {mat1.dense_dim()}")
    if hasattr(mat2, "to_sparse_coo") and not isinstance(mat2, Tensor):
        mat2 = mat2.to_sparse_coo()
    if isinstance(mat2, SparseCooTensor):
        if mat2.dim() != 2 or mat2.dense_dim() != 0:
            raise RuntimeError("mm: expected a 2-D sparse matrix as the second operand")
        if mat1.shape[1] != mat2.shape[0]:
            raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                               f"({mat1.shape[0]}x{mat1.shape[1]} and "
                               f"{mat2.shape[0]}x{mat2.shape[1]})")
        return _sparse_mm_sparse(mat1, mat2)
    if not isinstance(mat2, Tensor):
        raise TypeError(f"mm: expected a Tensor as the second operand, got "
                        f"{type(mat2).__name__}")
    vector = mat2.dim() == 1
    dense = mat2.unsqueeze(1) if vector else mat2
    if dense.dim() != 2:
        raise RuntimeError(f"mm: expected a 1-D or 2-D dense operand, got {dense.dim()}-D")
    if dense.shape[0] != mat1.shape[1]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{dense.shape[0]}x{dense.shape[1]})")
    if dense.device != mat1.device:
        raise RuntimeError(f"mm: expected both operands on the same device, but found "
                           f"{mat1.device} and {dense.device}")
    return _dense_product(mat1, mat2, None)


def _dense_product(mat1, mat2, reduce):
    """Sparse COO ``mat1`` times dense ``mat2``: the products of each stored element
    with its row of ``mat2``, summed (``reduce`` None) or index-reduced into the rows."""
    vector = mat2.dim() == 1
    dense = mat2.unsqueeze(1) if vector else mat2
    dtype = ember.promote_types(mat1.dtype, dense.dtype)
    rows, cols = mat1._idx[0], mat1._idx[1]
    contributions = mat1._vals.to(dtype).unsqueeze(1) * dense.to(dtype)[cols]
    out = contributions.new_zeros((mat1.shape[0], dense.shape[1]))
    if reduce is None:
        out = out.index_add(0, rows, contributions)
    else:
        out = out.index_reduce(0, rows, contributions, reduce, include_self=False)
    return out.squeeze(1) if vector else out


def _mm_reduce(mat1, mat2, reduce):
    from ember.sparse._csr import SparseCsrTensor
    if reduce not in _MM_REDUCE:
        raise RuntimeError(f"reduce argument must be either sum, mean, amax or amin, got "
                           f"{reduce}")
    if not isinstance(mat1, SparseCsrTensor):
        raise NotImplementedError(f"sparse.mm: reduce= needs a sparse CSR first operand, "
                                  f"got {type(mat1).__name__}")
    if not isinstance(mat2, Tensor):
        raise RuntimeError(f"sparse.mm: reduce= needs a dense (strided) second operand, got "
                           f"{type(mat2).__name__}")
    if mat2.dim() != 2 or mat2.shape[0] != mat1.shape[1]:
        raise RuntimeError(f"sparse.mm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{'x'.join(str(n) for n in mat2.shape)})")
    return _dense_product(mat1.to_sparse_coo(), mat2, _MM_REDUCE[reduce])


def sparse_sum(input, dim=None, dtype=None):
    """The sum of all elements (a dense 0-d tensor), or over ``dim``: a sparse tensor
    while sparse dims remain, otherwise dense.

    Examples
    --------
    >>> import ember
    >>> s = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
    >>> ember.sparse.sum(s)
    tensor(12.)
    >>> ember.sparse.sum(s, 1).to_dense()
    tensor([3., 9.])
    """
    if not isinstance(input, SparseCooTensor):
        raise TypeError(f"sparse.sum: expected a sparse tensor, got {type(input).__name__}")
    values = input._vals if dtype is None else input._vals.to(dtype)
    if dim is None:
        return values.sum()
    dims = [dim] if isinstance(dim, int) else list(dim)
    n, sd = input.dim(), input.sparse_dim()
    wrapped = set()
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {d})")
        wrapped.add(d % n)
    dense_dims = sorted(d - sd + 1 for d in wrapped if d >= sd)
    if dense_dims:
        values = values.sum(dense_dims)
    kept = [d for d in range(sd) if d not in wrapped]
    if len(kept) == sd:     # only dense dims summed: the same coordinates
        return SparseCooTensor(input._idx, values,
                               [s for d, s in enumerate(input.shape) if d not in wrapped],
                               input._coalesced)
    if not kept:
        return values.sum(0)
    shape = [s for d, s in enumerate(input.shape) if d not in wrapped]
    return SparseCooTensor(input._idx[kept], values, shape).coalesce()


def _grouped_softmax(input, dim, dtype, log):
    if not isinstance(input, SparseCooTensor):
        raise TypeError(f"sparse softmax: expected a sparse tensor, got "
                        f"{type(input).__name__}")
    n, sd = input.dim(), input.sparse_dim()
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                         f"{n - 1}], but got {dim})")
    dim %= n
    if input.dense_dim() or dim >= sd:
        raise RuntimeError("sparse softmax: only sparse tensors without dense dims are "
                           "supported")
    s = input.coalesce()
    values = s._vals if dtype is None else s._vals.to(dtype)
    others = [d for d in range(sd) if d != dim]
    keys = _linear_keys(s._idx[others], [s.shape[d] for d in others])
    _, group = ember.unique(keys, return_inverse=True)
    groups = int(group.max()) + 1 if group.numel() else 0
    # the max shift only keeps exp in range: it cancels, so no gradient flows through it
    shift = values.detach().new_zeros(groups).scatter_reduce(
        0, group, values.detach(), "amax", include_self=False)
    shifted = values - shift[group]
    total = shifted.exp().new_zeros(groups).index_add(0, group, shifted.exp())
    out = shifted - total.log()[group] if log else shifted.exp() / total[group]
    return SparseCooTensor(s._idx, out, s.shape, True)


def softmax(input, dim, *, dtype=None):
    """Softmax along ``dim`` over the specified elements only (unspecified ones count as
    ``-inf``, so they stay unspecified); returns a sparse tensor.

    Examples
    --------
    >>> import ember
    >>> s = ember.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 1.0, 5.0], (2, 3))
    >>> ember.sparse.softmax(s, 1).to_dense()
    tensor([[0.5000, 0.0000, 0.5000],
            [0.0000, 1.0000, 0.0000]])
    """
    return _grouped_softmax(input, dim, dtype, log=False)


def log_softmax(input, dim, *, dtype=None):
    """The logarithm of :func:`softmax`, computed stably; returns a sparse tensor."""
    return _grouped_softmax(input, dim, dtype, log=True)
