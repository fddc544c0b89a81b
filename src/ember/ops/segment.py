"""``segment_reduce``: reductions over consecutive segments of one dimension.

The segments are gathered into a padded block ``(..., segments, longest, ...)``
(a differentiable gather), the padding is set to the reduction's identity and the
block is reduced along its ``longest`` dimension.  Sums, means and products then
get their gradients from those ops; the maximum and minimum are one recorded op
whose gradient goes to every element equal to the result (shared evenly between
ties), or to the NaNs of a segment whose result is NaN, as in PyTorch.
"""
import math

import ember
from ember._core._tensor import Tensor, record
from ember.ops.derivatives import derivative
from ember.ops.shape_extra import _wrap_dim

__all__ = ["segment_reduce"]

_REDUCES = {"sum": "sum", "mean": "mean", "prod": "prod", "max": "amax", "amax": "amax",
            "min": "amin", "amin": "amin"}


def _segments(data, axis, lengths, offsets, unsafe):
    """``(starts, lengths)``, int64 tensors of shape ``data.shape[:axis] + (segments,)``."""
    what, given = ("offsets", offsets) if offsets is not None else ("lengths", lengths)
    if not isinstance(given, Tensor):
        raise TypeError(f"segment_reduce(): {what} must be a Tensor, got "
                        f"{type(given).__name__}")
    if given.is_floating_point() or given.is_complex() or given.dtype == ember.bool:
        raise NotImplementedError(f"segment_reduce(): {what} must be an integer tensor, got "
                                  f"{given.dtype}")
    if given.dim() - 1 != axis:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of {what} "
                           f"but got {axis}.")
    if tuple(given.shape[:-1]) != tuple(data.shape[:axis]):
        raise RuntimeError(f"segment_reduce(): Expected {what} of shape (*data.shape[:axis], "
                           f"segments) = {tuple(data.shape[:axis])} + (segments,), got "
                           f"{tuple(given.shape)}")
    given = given.to(ember.int64)
    size = data.shape[axis]
    if offsets is not None:
        starts, counts = given[..., :-1], given[..., 1:] - given[..., :-1]
        if not unsafe and given.numel() and (
                bool((counts < 0).any()) or int(given.min()) < 0 or int(given.max()) > size):
            raise RuntimeError(f"segment_reduce(): Expected offsets to be non-decreasing and "
                               f"within [0, {size}] when !unsafe.")
        return starts, counts
    if not unsafe:
        if bool((given < 0).any()):
            raise RuntimeError("lengths contains negative value!")
        if given.numel() and bool((given.sum(-1) != size).any()):
            raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to "
                               "sum to data.size(lengths.dim()-1) when !unsafe.")
    return given.cumsum(-1) - given, given


def _padded(data, axis, starts, counts):
    """``(block, valid)``: ``block`` is ``data`` with its ``axis`` replaced by
    ``(segments, longest)``; ``valid`` marks the real elements, shaped to broadcast."""
    segments = starts.shape[-1]
    longest = max(1, int(counts.max())) if counts.numel() else 1
    steps = ember.arange(longest, device=data.device)
    valid = steps < counts.unsqueeze(-1)
    positions = ember.where(valid, starts.unsqueeze(-1) + steps, 0)
    trail = data.shape[axis + 1:]
    if data.shape[axis] == 0:
        # nothing to gather from: one zero row stands for every (padding) position
        data = ember.cat([data, ember.zeros(data.shape[:axis] + (1,) + trail, dtype=data.dtype,
                                            device=data.device)], axis)
    index = positions.reshape(positions.shape[:-2] + (segments * longest,) + (1,) * len(trail))
    index = index.expand(index.shape[:axis + 1] + trail)
    block = data.gather(axis, index).reshape(data.shape[:axis] + (segments, longest) + trail)
    return block, valid.reshape(valid.shape + (1,) * len(trail))


def _extreme(block, valid, dim, reduce, initial):
    fill = -math.inf if reduce == "amax" else math.inf
    found = getattr(ember.where(valid, block, fill), reduce)(dim)
    if initial is not None:
        bound = ember.full((), initial, dtype=block.dtype, device=block.device)
        found = ember.maximum(found, bound) if reduce == "amax" else ember.minimum(found, bound)
    return found


@derivative("segment_extreme", save_result=True)
def _extreme_backward(ctx, grad, block, valid, dim, reduce, initial):
    result = ctx.result.unsqueeze(dim)
    hit = valid & ((block == result) | block.isnan())
    share = grad.unsqueeze(dim) / hit.sum(dim, keepdim=True).clamp_min(1).to(grad.dtype)
    return ember.where(hit, share, 0).to(block.dtype), None


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """Reduce consecutive segments of ``data`` along ``axis``.

    The segments are given by their ``lengths`` (summing to ``data.shape[axis]``) or
    by ``offsets`` (segment ``i`` covers ``[offsets[i], offsets[i + 1])``), with one
    row of them per index of the dimensions before ``axis``.

    Parameters
    ----------
    data : Tensor
        A floating point tensor.
    reduce : {'sum', 'mean', 'max', 'min', 'prod'}
        ``'amax'`` and ``'amin'`` are accepted for ``'max'`` and ``'min'``.
    lengths : Tensor, optional
        Integer, ``data.shape[:axis] + (segments,)``.
    indices : Tensor, optional
        Not supported, as in PyTorch.
    offsets : Tensor, optional
        Integer, ``data.shape[:axis] + (segments + 1,)``; used when given.
    axis : int, default 0
    unsafe : bool, default False
        Skip the checks of ``lengths`` and ``offsets``.
    initial : number, optional
        Starting value of every segment's reduction (the result of an empty
        segment).  Without it, empty segments give 0 (sum), 1 (prod), NaN (mean),
        -inf (max) and inf (min).

    Returns
    -------
    Tensor
        ``data`` with ``axis`` replaced by the segments.

    Notes
    -----
    The mean is ``(initial + sum) / length``.  The gradient of ``'max'`` and ``'min'``
    goes to the elements equal to the result, shared evenly between ties (PyTorch
    shares only positive gradients, an accident of its kernel); that of a NaN result
    goes to the segment's NaNs.  The gradient of ``'prod'`` is the product of the
    other elements (PyTorch divides the result by the element when it is nonzero,
    which differs at infinities).

    Examples
    --------
    >>> import ember
    >>> data = ember.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> ember.segment_reduce(data, "sum", lengths=ember.tensor([2, 0, 3]))
    tensor([ 3.,  0., 12.])
    >>> ember.segment_reduce(data, "max", offsets=ember.tensor([0, 1, 5]))
    tensor([1., 5.])
    """
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    reduce = _REDUCES[reduce]
    if indices is not None and lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if not data.is_floating_point():
        raise NotImplementedError(f"segment_reduce(): expected a floating point data tensor, "
                                  f"got {data.dtype}")
    axis = _wrap_dim(axis, data.dim())
    initial = None if initial is None else float(initial)
    starts, counts = _segments(data, axis, lengths, offsets, unsafe)
    block, valid = _padded(data, axis, starts, counts)
    dim = axis + 1
    if reduce in ("amax", "amin"):
        return record("segment_extreme", _extreme, (block, valid, dim, reduce, initial))
    if reduce == "prod":
        out = ember.where(valid, block, 1).prod(dim)
        return out if initial is None else out * initial
    out = ember.where(valid, block, 0).sum(dim)
    if initial is not None:
        out = out + initial
    if reduce == "sum":
        return out
    counts = counts.reshape(counts.shape + (1,) * (data.dim() - axis - 1))
    empty = math.nan if initial is None else initial
    return ember.where(counts > 0, out / counts.clamp_min(1).to(out.dtype), empty)
