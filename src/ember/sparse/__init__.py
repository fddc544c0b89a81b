"""Sparse tensors (PyTorch's ``torch.sparse``): COO tensors with any number of sparse and
dense dims, CSR matrices, and their products, sums and softmax, all differentiable.

:func:`ember.sparse_coo_tensor` and :func:`ember.sparse_csr_tensor` make them;
``Tensor.to_sparse()`` / ``to_sparse_csr()`` convert a dense tensor and ``to_dense()``
converts back.
"""
import ember
from ember import Tensor
from ember._core import _blas, _index
from ember._core._dtype import TORCH_NAMES
from ember._core._tensor import _add_method
from ember.sparse._base import SparseTensorBase
from ember.sparse._coo import (SparseCooTensor, sparse_coo_tensor, mm, sparse_sum as sum,
                               softmax, log_softmax)
from ember.sparse._csr import SparseCsrTensor, sparse_csr_tensor
from ember.sparse._join import join as _join

__all__ = ["SparseCooTensor", "SparseCsrTensor", "mm", "addmm", "sampled_addmm", "spdiags",
           "sum", "softmax", "log_softmax"]


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` for a sparse ``mat1`` and dense ``mat``,
    ``mat2`` (differentiable in all three).

    Examples
    --------
    >>> import ember
    >>> s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
    >>> ember.sparse.addmm(ember.ones(2, 1), s, ember.tensor([[1.0], [10.0]]), alpha=0.5)
    tensor([[11.0000],
            [ 2.5000]])
    """
    product = mm(mat1, mat2)
    return beta * mat + alpha * product if beta != 0 else alpha * product


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` computed only at the elements ``input``
    specifies (a sampled dense-dense product, as the edge scores of graph attention):
    a CSR matrix with ``input``'s sparsity pattern, differentiable in all three.

    Parameters
    ----------
    input : SparseCsrTensor
        ``(m, n)``.
    mat1, mat2 : Tensor
        Dense ``(m, k)`` and ``(k, n)`` matrices of one dtype.
    beta, alpha : float, optional

    Returns
    -------
    SparseCsrTensor

    Examples
    --------
    >>> import ember
    >>> edges = ember.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (2, 2)).to_sparse_csr()
    >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ember.sparse.sampled_addmm(edges, x, x.T, beta=0.0).to_dense()
    tensor([[ 0., 11.],
            [11.,  0.]])
    """
    if out is not None:
        raise RuntimeError("sampled_addmm: out= is not supported")
    if not isinstance(input, SparseCsrTensor):
        raise NotImplementedError(f"sampled_addmm: expected input to be a sparse CSR matrix, "
                                  f"got {getattr(input, 'layout', type(input).__name__)}")
    for x, name in ((mat1, "mat1"), (mat2, "mat2")):
        if x.dim() != 2:
            raise RuntimeError(f"sampled_addmm: Expected {name} to be a matrix, got "
                               f"{x.dim()}-D tensor")
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(f"sampled_addmm: Expected mat1 and mat2 to have the same dtype, but "
                           f"got {mat1.dtype} and {mat2.dtype}")
    if mat1.shape[1] != mat2.shape[0] or (mat1.shape[0], mat2.shape[1]) != tuple(input.shape):
        raise RuntimeError(f"sampled_addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x"
                           f"{mat2.shape[1]}) into input's {input.shape[0]}x{input.shape[1]}")
    rows = ember.repeat_interleave(ember.arange(input.shape[0], device=mat1.device),
                                   input._crow.diff())
    # one dot product per specified element: row of mat1 by column of mat2
    sampled = (mat1[rows] * mat2.t()[input._col]).sum(-1)
    # beta == 0 still reads input (a nan stays), as PyTorch's
    return SparseCsrTensor(input._crow, input._col, beta * input._vals + alpha * sampled,
                           input.shape)


def spdiags(diagonals, offsets, shape, layout=None):
    """A sparse ``(m, n)`` matrix with diagonals: row ``k`` of ``diagonals`` on the
    diagonal ``offsets[k]`` (above the main one if positive), its element ``j`` in column
    ``j`` (SciPy's ``spdiags`` convention); a degree-normalisation matrix, say.

    Parameters
    ----------
    diagonals : Tensor
        ``(k, l)``, or ``(l,)`` for one diagonal.
    offsets : Tensor
        ``(k,)`` distinct int64 offsets (or a 0-d one).
    shape : tuple of 2 ints
    layout : {None, ember.sparse_coo, ember.sparse_csr}, optional
        Default COO.

    Returns
    -------
    SparseCooTensor or SparseCsrTensor

    Examples
    --------
    >>> import ember
    >>> ember.sparse.spdiags(ember.tensor([[1.0, 2.0, 3.0]]), ember.tensor([0]),
    ...                      (3, 3)).to_dense()
    tensor([[1., 0., 0.],
            [0., 2., 0.],
            [0., 0., 3.]])
    """
    if len(shape) != 2:
        raise RuntimeError("Output shape must be 2d")
    if offsets.dtype != ember.int64:
        raise RuntimeError(f"Offset Tensor must have dtype Long but got "
                           f"{TORCH_NAMES[offsets.dtype.num]}")
    diagonals = diagonals.reshape(1, -1) if diagonals.dim() == 1 else diagonals
    offsets = offsets.reshape(-1)
    if diagonals.dim() != 2:
        raise RuntimeError("Diagonals must be vector or matrix")
    if diagonals.shape[0] != offsets.shape[0]:
        raise RuntimeError(f"Number of diagonals ({diagonals.shape[0]}) does not match the "
                           f"number of offsets ({offsets.shape[0]})")
    if ember.unique(offsets).numel() != offsets.numel():
        raise RuntimeError("Offset tensor contains duplicate values")
    m, n = shape
    rows, cols, values = [], [], []
    for k, offset in enumerate(offsets.tolist()):
        # the columns of this diagonal inside the matrix and inside the given row
        first, last = max(offset, 0), min(m + offset, n, diagonals.shape[1])
        if last <= first:
            continue
        column = ember.arange(first, last, device=diagonals.device)
        rows.append(column - offset)
        cols.append(column)
        values.append(diagonals[k, first:last])
    if rows:
        indices = ember.stack([ember.cat(rows), ember.cat(cols)])
        values = ember.cat(values)
    else:
        indices = ember.zeros(2, 0, dtype=ember.int64, device=diagonals.device)
        values = diagonals.new_zeros(0)
    result = SparseCooTensor(indices, values, (m, n))
    if layout is None or layout == ember.sparse_coo:
        return result
    if layout == ember.sparse_csr:
        return result.to_sparse_csr()
    raise ValueError(f"spdiags: layout must be ember.sparse_coo or ember.sparse_csr, got "
                     f"{layout}")


def _dense_function_product(fname, args, kwargs):
    """``ember.matmul``, ``mm``, ``mv`` and ``addmm`` (functions and Tensor methods) called
    with a sparse operand: its own product (``@``), as PyTorch's dense functions take
    sparse operands (registered with ``ember._core._blas``)."""
    if not any(isinstance(a, SparseTensorBase) for a in args):
        return NotImplemented
    if kwargs.get("out") is not None:
        raise RuntimeError(f"{fname}: out= is not supported with sparse operands")
    operands = args[1:] if fname == "addmm" else args
    if fname == "mv":
        if operands[0].dim() != 2 or operands[1].dim() != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got {operands[0].dim()}, "
                               f"{operands[1].dim()}")
        if operands[0].shape[1] != operands[1].shape[0]:
            raise RuntimeError("mv: expected self.size(-1) == vec.size(-1)")
    elif fname != "matmul":
        for x, name in zip(operands, ("self", "mat2") if fname == "mm" else ("mat1", "mat2")):
            if x.dim() != 2:
                raise RuntimeError(f"{name} must be a matrix")
    product = operands[0] @ operands[1]
    if fname != "addmm":
        return product
    input, beta, alpha = args[0], kwargs["beta"], kwargs["alpha"]
    if isinstance(input, SparseTensorBase):
        raise RuntimeError("addmm: a sparse input is not supported, only sparse mat1 or mat2")
    product = product.to_dense()
    if alpha != 1:
        product = product * alpha
    # beta == 0 ignores the input's values (nan included), as for dense operands
    return product if beta == 0 else (input * beta if beta != 1 else input) + product


_blas._set_sparse_products(_dense_function_product)
_index._set_sparse_joins(_join)


def _to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This tensor in a sparse layout: COO (by default) with ``sparse_dim`` sparse dims
    (all of them by default), or CSR for ``layout=ember.sparse_csr``."""
    if layout is not None and layout == ember.sparse_csr:
        return _to_sparse_csr(self)
    if layout is not None and layout != ember.sparse_coo:
        raise RuntimeError(f"to_sparse: unsupported layout {layout}")
    n = self.dim()
    sd = n if sparse_dim is None else int(sparse_dim)
    if n == 0 or not 0 < sd <= n:
        raise RuntimeError(f"to_sparse: sparse_dim must be in [1, {n}] for a {n}-D tensor, "
                           f"got {sd}")
    nonzero = self.detach() != 0
    if sd < n:
        nonzero = nonzero.reshape(tuple(self.shape[:sd]) + (-1,)).any(-1)
    indices = ember.nonzero(nonzero).t()
    return SparseCooTensor(indices, self[tuple(indices)], self.shape, True)


def _to_sparse_coo(self):
    """This tensor as a sparse COO tensor of all its dims."""
    return _to_sparse(self)


def _to_sparse_csr(self, dense_dim=None):
    """This matrix in compressed sparse row format."""
    if self.dim() != 2:
        raise RuntimeError(f"to_sparse_csr: expected a 2-D tensor, got {self.dim()}-D")
    return SparseCsrTensor._from_coo(_to_sparse(self))


def _to_dense(self, dtype=None, *, masked_grad=None):
    """``self`` (already dense), or converted to ``dtype``."""
    return self if dtype is None else self.to(dtype)


for _name, _fn in (("to_sparse", _to_sparse), ("to_sparse_coo", _to_sparse_coo),
                   ("to_sparse_csr", _to_sparse_csr), ("to_dense", _to_dense)):
    _add_method(_name, _fn)
_add_method("is_sparse", property(lambda self: False, doc="False: a dense tensor."))
_add_method("is_sparse_csr", property(lambda self: False, doc="False: a dense tensor."))
del _name, _fn, Tensor
