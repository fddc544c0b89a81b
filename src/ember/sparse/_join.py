"""``cat`` and ``stack`` of sparse COO tensors, as PyTorch's: the inputs' specified
elements, re-indexed into their place in the result, form an uncoalesced COO tensor.
``ember.cat`` and ``ember.stack`` call :func:`join` (registered with the core) when an
element of their sequence is not a Tensor."""
import ember
from ember.sparse._base import SparseTensorBase
from ember.sparse._coo import SparseCooTensor


def _check_inputs(op, tensors, out):
    for i, t in enumerate(tensors):
        if not isinstance(t, SparseCooTensor):
            if isinstance(t, SparseTensorBase):
                raise RuntimeError(f"{op}(): only sparse COO tensors can be joined, got a "
                                   f"{t.layout} tensor at position {i}")
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at "
                               f"position {i}.")
    if out is not None:
        raise RuntimeError(f"{op}(): out= is not supported for sparse tensors")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.sparse_dim() != first.sparse_dim() or t.dense_dim() != first.dense_dim():
            raise RuntimeError(f"{op}(): all sparse tensors need the same sparse_dim and "
                               f"dense_dim: got ({first.sparse_dim()}, {first.dense_dim()}) at "
                               f"position 0 and ({t.sparse_dim()}, {t.dense_dim()}) at "
                               f"position {i}")


def _wrap(dim, n):
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _padded(values, axis, before, after):
    """``values`` with ``before`` and ``after`` zero slices around it along ``axis``."""
    parts = []
    for count in (before, None, after):
        if count is None:
            parts.append(values)
        elif count:
            shape = list(values.shape)
            shape[axis] = count
            parts.append(values.new_zeros(shape))
    return ember.cat(parts, axis) if len(parts) > 1 else values


def _cat(tensors, dim):
    first = tensors[0]
    d = _wrap(dim, first.dim())
    for i, t in enumerate(tensors):
        if any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d):
            raise RuntimeError(f"All tensors must have the same shape: {list(first.shape)} "
                               f"(except in the concatenating dimension), but found shape: "
                               f"{list(t.shape)} at position {i}.")
    sd, total = first.sparse_dim(), sum(t.shape[d] for t in tensors)
    indices, values, offset = [], [], 0
    for t in tensors:
        if d < sd:
            # a sparse dim: shift the indices along d past the tensors before
            shift = ember.zeros(sd, 1, dtype=ember.int64, device=t._idx.device)
            shift[d] = offset
            indices.append(t._idx + shift)
            values.append(t._vals)
        else:
            # a dense dim: each tensor's values padded with zeros to the joined size
            indices.append(t._idx)
            values.append(_padded(t._vals, d - sd + 1, offset, total - offset - t.shape[d]))
        offset += t.shape[d]
    shape = list(first.shape)
    shape[d] = total
    return SparseCooTensor(ember.cat(indices, 1), ember.cat(values), shape)


def _stack(tensors, dim):
    first = tensors[0]
    d = _wrap(dim, first.dim() + 1)
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(first.shape):
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first.shape)} at entry 0 and {list(t.shape)} at entry {i}")
    sd, n = first.sparse_dim(), len(tensors)
    indices, values = [], []
    for k, t in enumerate(tensors):
        if d <= sd:
            # the new dim is sparse: each tensor's elements get index k along it
            slot = ember.full((1, t._idx.shape[1]), k, dtype=ember.int64, device=t._idx.device)
            indices.append(ember.cat([t._idx[:d], slot, t._idx[d:]]))
            values.append(t._vals)
        else:
            indices.append(t._idx)
            values.append(_padded(t._vals.unsqueeze(d - sd + 1), d - sd + 1, k, n - 1 - k))
    shape = list(first.shape)
    shape.insert(d, n)
    return SparseCooTensor(ember.cat(indices, 1), ember.cat(values), shape)


def join(op, tensors, dim, out):
    """``op`` ("cat" or "stack") of a sequence holding sparse tensors; NotImplemented
    when an element is neither a sparse tensor nor a Tensor (the core's TypeError)."""
    tensors = list(tensors)
    if not all(isinstance(t, (SparseTensorBase, ember.Tensor)) for t in tensors):
        return NotImplemented
    _check_inputs(op, tensors, out)
    return _cat(tensors, dim) if op == "cat" else _stack(tensors, dim)
