"""``embedding_bag`` of :mod:`ember.nn.functional`: sums, means or maxima of bags of
embedding rows, looked up with the fused embedding op."""
import numpy as np

import ember
from ember.nn._functional.misc import embedding


def _bags(input, offsets, include_last_offset):
    """Flat indices, the bag of each position and the bag count."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets).__name__}")
        count, length = input.shape
        bag_of = np.repeat(np.arange(count), length)
        return input.reshape(-1), bag_of, count
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if offsets is None or offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor but got "
                         f"{None if offsets is None else f'a {offsets.dim()}D Tensor'}")
    starts = np.asarray(offsets.to(ember.int64).cpu()).astype(np.int64)
    total = input.shape[0]
    if include_last_offset:
        starts = starts[:-1]
    if starts.size and (starts[0] != 0 or np.any(np.diff(starts) < 0) or starts[-1] > total):
        raise ValueError("offsets must start at 0 and be non-decreasing up to the input length, "
                         f"got {starts.tolist()}")
    bag_of = np.searchsorted(starts, np.arange(total), side="right") - 1
    return input, bag_of, starts.size


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sum, mean or max of bags of rows of ``weight``, without building the rows per bag.

    Parameters
    ----------
    input : Tensor
        Indices (int64 or int32): ``(B, L)`` for ``B`` bags of ``L`` indices, or 1-D with
        ``offsets``.
    weight : Tensor
        ``(num_embeddings, embedding_dim)``.
    offsets : Tensor, optional
        1-D start of each bag in a 1-D ``input``.
    max_norm : float, optional
        Rows with a larger ``norm_type``-norm are renormalised in place first.
    norm_type : float, optional
    scale_grad_by_freq : bool, optional
        Divide each row's gradient by its index's frequency (not with ``mode='max'``).
    mode : {'mean', 'sum', 'max'}, optional
    sparse : bool, optional
        Give a leaf ``weight`` a sparse COO gradient, as :func:`embedding` does (not with
        ``mode='max'``): one row per index, ``padding_idx`` entries excluded.
    per_sample_weights : Tensor, optional
        Weight of each index, of ``input``'s shape (``mode='sum'`` only).
    include_last_offset : bool, optional
        ``offsets`` has one more entry, the end of the last bag.
    padding_idx : int, optional
        Entries equal to it are left out of their bag (an empty bag gives zeros).

    Returns
    -------
    Tensor
        ``(B, embedding_dim)``.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> weight = ember.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    >>> F.embedding_bag(ember.tensor([0, 1, 2]), weight, ember.tensor([0, 2]), mode="sum")
    tensor([[1., 2.],
            [4., 4.]])
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on GitHub.")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) "
                         f"is not None, then it must have the same shape as the input "
                         f"({list(input.shape)})")
    flat, bag_of, bag_count = _bags(input, offsets, include_last_offset)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    # padding entries are left out of the bags: passing padding_idx drops them from a
    # sparse gradient too, as PyTorch does
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
    keep = np.ones(bag_of.size, dtype=bool) if padding_idx is None else \
        np.asarray(flat.to(ember.int64).cpu()) != padding_idx
    dev = weight.device
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1).to(rows.dtype)
    kept_rows = rows[ember.tensor(np.nonzero(keep)[0], device=dev)] if not keep.all() else rows
    kept_bags = ember.tensor(bag_of[keep].astype(np.int64), device=dev)
    dim = weight.shape[1]
    sizes = np.bincount(bag_of[keep], minlength=bag_count)[:bag_count]
    if mode == "max":
        longest = int(sizes.max()) if sizes.size else 0
        position = np.arange(kept_bags.shape[0]) - np.concatenate(
            [[0], np.cumsum(sizes)[:-1]])[bag_of[keep]] if longest else np.zeros(0, np.int64)
        padded = ember.full((bag_count, max(longest, 1), dim), float("-inf"), dtype=weight.dtype,
                            device=dev)
        padded = padded.index_put((kept_bags, ember.tensor(position.astype(np.int64), device=dev)),
                                  kept_rows)
        maxima = padded.amax(1)
        return ember.where(ember.tensor(sizes == 0, device=dev).unsqueeze(1), 0.0, maxima)
    totals = ember.zeros((bag_count, dim), dtype=rows.dtype, device=dev).scatter_add(
        0, kept_bags.unsqueeze(1).expand(kept_bags.shape[0], dim), kept_rows)
    if mode == "sum":
        return totals
    return totals / ember.tensor(np.maximum(sizes, 1).astype(np.float64), device=dev).to(
        totals.dtype).unsqueeze(1)
