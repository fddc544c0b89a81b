"""Searching sorted data and counting: ``searchsorted``, ``bucketize``,
``bincount``, ``histc``, ``histogram`` and ``histogramdd``.

``searchsorted`` is a binary search per value (``ember._core._sort.search_rows``)
with PyTorch's comparisons; the counting ops find each element's bin with it and
add up with ``scatter_add``.  None of these is differentiable in PyTorch (integer
results, or counts whose derivative PyTorch leaves unimplemented), so none records
a graph: their results never require grad.
"""
import builtins
import math
import operator
from collections import namedtuple

from ember._core._dtype import TORCH_NAMES, float32, float64, int32, int64, promote_types
from ember._core._sort import search_rows
from ember._core._tensor import Tensor, _add_method, _resize_output, tensor, zeros
from ember.autograd.grad_mode import no_grad

__all__ = ["searchsorted", "bucketize", "bincount", "histc", "histogram", "histogramdd"]


histogram_result = namedtuple("histogram", ["hist", "bin_edges"])
histogram_result.__module__ = "ember.return_types"
histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])
histogramdd_result.__module__ = "ember.return_types"


def _check_tensor(value, fname, arg, position):
    if not isinstance(value, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")


def _search(sorted_sequence, values, right, out_int32, sorter=None):
    """Insertion positions of the tensor ``values`` in ``sorted_sequence`` (both
    checked), compared in their promoted dtype."""
    common = promote_types(sorted_sequence.dtype, values.dtype)
    if common.is_complex:
        raise RuntimeError("searchsorted(): complex tensors have no order, got "
                           f"{sorted_sequence.dtype} and {values.dtype}")
    with no_grad():
        if sorter is not None:
            sorted_sequence = sorted_sequence.gather(-1, sorter)
        seq = sorted_sequence.to(common).contiguous()
        vals = values.to(common).contiguous()
        if seq.dim() != 1 and seq.shape[-1] == 0:
            shape = tuple(vals.shape)
            return zeros(shape, dtype=_index_dtype(out_int32), device=vals.device)
        if seq.dim() == 1 and seq.shape[0] == 0:
            return zeros(tuple(vals.shape), dtype=_index_dtype(out_int32), device=vals.device)
        return search_rows(seq, vals, bool(right), bool(out_int32))


def _index_dtype(out_int32):
    return int32 if out_int32 else int64


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Positions at which the values of ``input`` would be inserted into
    ``sorted_sequence`` to keep it sorted.

    Parameters
    ----------
    sorted_sequence : Tensor
        Sorted along its last dimension: 1-D (one sequence for every value) or
        with the same leading dimensions as ``input``.
    input : Tensor or scalar
        The values to place.
    out_int32 : bool, optional
        Return int32 positions instead of int64.
    right : bool, optional
        Place a value after the elements equal to it (upper bound) instead of
        before them (lower bound).
    side : {'left', 'right'}, optional
        Same as ``right``, by name; must not contradict it.
    sorter : Tensor, optional
        int64 positions that sort ``sorted_sequence`` along its last dimension
        (as :func:`argsort` returns), when it is not sorted itself.
    out : Tensor, optional
        Where to write the result.

    Returns
    -------
    Tensor
        int64 (or int32) positions shaped like ``input``.  A NaN value goes after
        every element, as in PyTorch.

    Examples
    --------
    >>> import ember
    >>> ember.searchsorted(ember.tensor([1, 3, 5, 7]), ember.tensor([3, 6, 9]))
    tensor([1, 3, 4])
    >>> ember.searchsorted(ember.tensor([1, 3, 5, 7]), ember.tensor([3, 6, 9]), right=True)
    tensor([2, 3, 4])
    """
    _check_tensor(sorted_sequence, "searchsorted", "sorted_sequence", 1)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    values = tensor(input, device=sorted_sequence.device) if scalar else input
    if scalar and sorted_sequence.dim() != 1:
        raise RuntimeError("torch.searchsorted(): input value can be a scalar only when "
                           f"boundaries tensor dimension is 1, but we got boundaries tensor dim("
                           f"{sorted_sequence.dim()}) and input value's dim(0) numel(1)")
    if sorted_sequence.dim() == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor "
                           "must match, but we got boundaries tensor [] and input value tensor "
                           f"{list(values.shape)}")
    if sorted_sequence.dim() != 1 and (values.dim() != sorted_sequence.dim() or
                                       values.shape[:-1] != sorted_sequence.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor "
                           f"must match, but we got boundaries tensor {list(sorted_sequence.shape)}"
                           f" and input value tensor {list(values.shape)}")
    if sorter is not None:
        _check_tensor(sorter, "searchsorted", "sorter", 6)
        if sorter.dtype != int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype but "
                               f"got dtype {TORCH_NAMES[sorter.dtype.num]}")
        if tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, "
                               f"but got boundary tensor {list(sorted_sequence.shape)}and got "
                               f"sorter tensor {list(sorter.shape)}")
        size = sorted_sequence.shape[-1]
        if sorter.numel() and (int(sorter.min()) < 0 or int(sorter.max()) >= size):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
    result = _search(sorted_sequence, values, right, out_int32, sorter)
    return _write_out(result, out)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value of ``input`` between the sorted 1-D ``boundaries``.

    With ``right=False`` a value ``x`` goes to the bucket ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]``; with ``right=True`` to the ``i``
    with ``boundaries[i-1] <= x < boundaries[i]`` (``searchsorted`` with the
    arguments swapped).

    Parameters
    ----------
    input : Tensor or scalar
        The values.
    boundaries : Tensor
        1-D, sorted increasingly.
    out_int32 : bool, optional
        int32 results instead of int64.
    right : bool, optional
        Which side of a boundary equal values fall on (see above).
    out : Tensor, optional
        Where to write the result.

    Returns
    -------
    Tensor
        Bucket numbers, shaped like ``input``.

    Examples
    --------
    >>> import ember
    >>> ember.bucketize(ember.tensor([1, 5, 9]), ember.tensor([1, 3, 5, 7]))
    tensor([0, 2, 4])
    """
    _check_tensor(boundaries, "bucketize", "boundaries", 2)
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def _write_out(result, out):
    """``result``, or ``out`` (same dtype; resized as PyTorch does) holding a copy of it."""
    if out is None:
        return result
    _check_tensor(out, "out", "out", 0)
    if out.dtype != result.dtype:
        raise RuntimeError(f"out= expects a {result.dtype} tensor, got a {out.dtype} tensor")
    _resize_output(out, result.shape)
    out.copy_(result)
    return out


def _counts(bins_of, length, weights=None):
    """Sum of ``weights`` (or 1) per value of the int64 tensor ``bins_of``,
    for the values ``0 .. length-1``."""
    from ember import ones_like
    if weights is None:
        return zeros((length,), dtype=int64, device=bins_of.device).scatter_add(
            0, bins_of, ones_like(bins_of))
    return zeros((length,), dtype=weights.dtype, device=bins_of.device).scatter_add(
        0, bins_of, weights)


def bincount(input, weights=None, minlength=0):
    """Count the occurrences of each value in a 1-D tensor of non-negative integers.

    Parameters
    ----------
    input : Tensor
        1-D, integral, no negative values.
    weights : Tensor, optional
        Same length as ``input``: add ``weights[i]`` for ``input[i]`` instead of 1.
    minlength : int, optional
        The least length of the result.

    Returns
    -------
    Tensor
        Of length ``max(input.max() + 1, minlength)``: int64 counts, or sums of
        the weights (float32 for float32 weights, float64 for any other dtype, as
        in PyTorch).

    Examples
    --------
    >>> import ember
    >>> ember.bincount(ember.tensor([0, 2, 2, 3]))
    tensor([1, 0, 2, 1])
    >>> ember.bincount(ember.tensor([0, 2, 2]), weights=ember.tensor([0.5, 1.0, 2.0]))
    tensor([0.5000, 0.0000, 3.0000])
    """
    _check_tensor(input, "bincount", "input", 1)
    minlength = operator.index(minlength)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.dtype.is_floating_point or input.dtype.is_complex:
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{TORCH_NAMES[input.dtype.num]}'")
    if input.dim() != 1 or (input.numel() and int(input.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None:
        _check_tensor(weights, "bincount", "weights", 2)
        if weights.dim() != 1 or weights.shape[0] != input.shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
    length = max(int(input.max()) + 1 if input.numel() else 0, minlength)
    with no_grad():
        positions = input.to(int64)
        if weights is None:
            return _counts(positions, length)
        dtype = float32 if weights.dtype == float32 else float64
        return _counts(positions, length, weights.detach().to(dtype))


def _bin_numbers(values, edges):
    """The bin of each value between sorted ``edges`` (the last bin includes its
    right edge) and a mask of the values inside ``[edges[0], edges[-1]]``."""
    inside = (values >= edges[0]) & (values <= edges[-1])
    numbers = searchsorted(edges, values, right=True) - 1
    return numbers.clamp(0, edges.shape[0] - 2), inside


def _data_range(input, lo, hi, widen):
    """``(lo, hi)`` or, when they are equal, the range of the finite-or-not data of
    ``input``; an empty range widened by ``widen`` on each side."""
    if lo == hi and input.numel():
        lo, hi = float(input.min()), float(input.max())
    if lo == hi:
        lo, hi = lo - widen, hi + widen
    return lo, hi


def _linear_edges(lo, hi, bins, dtype):
    """``bins + 1`` equal-width edges from ``lo`` to ``hi`` as PyTorch's ``linspace``
    kernel makes them: the step in ``dtype``, then each edge from the nearer end with
    one rounding (its fused multiply-add), so that the edges, and the bins of values
    near them, match PyTorch's."""
    from ember import arange, where
    start, end = tensor(lo, dtype=dtype), tensor(hi, dtype=dtype)
    step = ((end - start) / bins).to(float64)
    start, end = start.to(float64), end.to(float64)
    steps = arange(bins + 1, dtype=float64)
    edges = where(steps < (bins + 1) // 2, start + step * steps, end - step * (bins - steps))
    return edges.to(dtype)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of ``input`` with ``bins`` equal-width bins between ``min`` and ``max``.

    Parameters
    ----------
    input : Tensor
        Floating-point values; those outside ``[min, max]`` (and NaN) are not counted.
    bins : int, optional
        Number of bins.
    min, max : float, optional
        The range; when equal (the default 0, 0) the data's smallest and largest
        values, widened by 1 on each side when those are equal too.
    out : Tensor, optional
        Where to write the result.

    Returns
    -------
    Tensor
        ``bins`` counts, in the dtype of ``input``.

    Examples
    --------
    >>> import ember
    >>> ember.histc(ember.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    _check_tensor(input, "histc", "input", 1)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{TORCH_NAMES[input.dtype.num]}'")
    bins = operator.index(bins)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = _data_range(input, float(min), float(max), 1.0)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo != lo or hi != hi or abs(lo) == float("inf") or abs(hi) == float("inf"):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    with no_grad():
        result = _histogram_counts(input.detach().reshape(-1),
                                   _linear_edges(lo, hi, bins, input.dtype), None, "interpolate")
    return _write_out(result, out)


def _linear_bin_numbers(values, edges, local_search):
    """The bin of each value between the equal-width ``edges`` as PyTorch's linear
    binning finds it: ``int((value - lo) * bins / (hi - lo))`` in the values' dtype,
    moved (``local_search``, for ``histogram``) to where the edges around it place the
    value, or not (``histc``). Values outside ``[lo, hi]`` and NaN get bin ``bins``."""
    from ember import stack, where
    bins = edges.shape[0] - 1
    lo, hi = edges[0], edges[-1]
    inside = (values >= lo) & (values <= hi)
    v = where(inside, values, lo)
    numbers = ((v - lo) * bins / (hi - lo)).to(int64)
    if local_search:
        # the last edge <= v among edges[pos-1 .. pos+1], as PyTorch's upper_bound in
        # that window; the edges are sorted, so it is the window's start plus a count
        window = stack([numbers - 1, numbers, numbers + 1])
        valid = (window >= 0) & (window <= bins)
        below = (edges[window.clamp(0, bins)] <= v) & valid
        numbers = (numbers - 1).clamp_(min=0) + below.sum(0) - 1
    return where(inside, numbers.clamp_(0, bins - 1), bins)


def _histogram_counts(values, edges, weight=None, linear=None):
    """Counts (or weight sums) of ``values`` per bin. ``linear`` says the edges are
    equal-width and how PyTorch bins then (see :func:`_linear_bin_numbers`):
    ``"search"`` or ``"interpolate"``; ``None`` searches every value among the edges."""
    bins = edges.shape[0] - 1
    if linear is not None:
        # one extra bin gathers the values outside, so that none need to be selected out
        numbers = _linear_bin_numbers(values, edges, linear == "search")
        weights = None if weight is None else weight.to(float64)
        return _counts(numbers, bins + 1, weights)[:bins].to(values.dtype)
    numbers, inside = _bin_numbers(values, edges)
    numbers = numbers[inside]
    if weight is not None:
        counts = _counts(numbers, bins, weight[inside].to(float64))
    else:
        counts = _counts(numbers, bins)
    return counts.to(values.dtype)


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """Histogram of ``input``: the counts (or weight sums) per bin and the bin edges.

    Parameters
    ----------
    input : Tensor
        Floating-point values (flattened).
    bins : int or Tensor
        The number of equal-width bins, or the increasing 1-D tensor of bin edges.
    range : (float, float), optional
        The range of the equal-width bins (default: the data's smallest and
        largest values, widened by 0.5 each side when equal).
    weight : Tensor, optional
        Same shape as ``input``: each element adds its weight instead of 1.
    density : bool, optional
        Divide the counts so that the histogram integrates to 1 over the range.
    out : tuple of Tensor, optional
        ``(hist, bin_edges)`` to write into.

    Returns
    -------
    (hist, bin_edges) : named tuple of Tensor
        Both in the dtype of ``input``.  Every bin includes its left edge; the
        last one includes its right edge too.

    Examples
    --------
    >>> import ember
    >>> ember.histogram(ember.tensor([1.0, 2.0, 1.0, 4.0]), bins=3, range=(0.0, 3.0))
    histogram(hist=tensor([0., 2., 1.]), bin_edges=tensor([0., 1., 2., 3.]))
    """
    _check_tensor(input, "histogram", "input", 1)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{TORCH_NAMES[input.dtype.num]}'")
    if weight is not None:
        _check_tensor(weight, "histogram", "weight", 3)
        if tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                               f"same shape as the input tensor excluding its innermost dimension,"
                               f" but got input with shape {list(input.shape)} and weight with "
                               f"shape {list(weight.shape)}")
    with no_grad():
        values = input.detach().reshape(-1)
        if isinstance(bins, Tensor):
            if bins.dim() != 1:
                raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, but"
                                   f" got {bins.dim()} dimensions in the bins tensor for "
                                   "dimension 0")
            if bins.shape[0] < 1:
                raise RuntimeError("torch.histogramdd: bins tensor should have at least 1 "
                                   "element, but got 0 elements in the bins tensor for "
                                   "dimension 0")
            if bins.dtype != input.dtype:
                raise RuntimeError("torch.histogramdd: input tensor and bins tensors should "
                                   f"have the same dtype, but got input with dtype "
                                   f"{TORCH_NAMES[input.dtype.num].lower()} and bins for "
                                   f"dimension 0 with dtype {TORCH_NAMES[bins.dtype.num].lower()}")
            edges = bins.detach().contiguous()
            linear = None
        else:
            count = operator.index(bins)
            if count <= 0:
                raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for "
                                   "dimension 0")
            if range is not None:
                lo, hi = float(range[0]), float(range[1])
                if lo > hi:
                    raise RuntimeError("torch.histogramdd: min should not exceed max, but got "
                                       f"min {lo} max {hi} for dimension 0")
                lo, hi = _data_range(values[:0], lo, hi, 0.5)
            elif values.numel():
                lo, hi = _data_range(values, 0.0, 0.0, 0.5)
            else:
                lo, hi = 0.0, 1.0           # no data and no range: [0, 1], as histogramdd
            edges = _linear_edges(lo, hi, count, input.dtype)
            linear = "search"
        if edges.shape[0] < 2:
            hist = zeros((0,), dtype=input.dtype, device=input.device)
        else:
            flat_weight = None if weight is None else weight.detach().reshape(-1)
            hist = _histogram_counts(values, edges, flat_weight, linear)
            if density:
                widths = edges[1:] - edges[:-1]
                hist = hist / (hist.sum() * widths)
    if out is not None:
        out[0].copy_(hist)
        out[1].copy_(edges)
        return histogram_result(out[0], out[1])
    return histogram_result(hist, edges)


def _dd_edges(points, bins, range, dtype):
    """The bin edges of each of the ``points.shape[1]`` dimensions, as PyTorch picks them."""
    dims = points.shape[1]
    if isinstance(bins, Tensor) or not isinstance(bins, (list, tuple)):
        bins = [bins] * dims if not isinstance(bins, Tensor) else [bins]
    if len(bins) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    if all(isinstance(b, Tensor) for b in bins):
        edges = []
        for d, b in enumerate(bins):
            if b.dtype != dtype:
                raise RuntimeError("torch.histogramdd: input tensor and bins tensors should "
                                   f"have the same dtype, but got input with dtype "
                                   f"{TORCH_NAMES[dtype.num].lower()} and bins for dimension "
                                   f"{d} with dtype {TORCH_NAMES[b.dtype.num].lower()}")
            if b.dim() != 1:
                raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, "
                                   f"but got {b.dim()} dimensions in the bins tensor for "
                                   f"dimension {d}")
            if b.shape[0] < 1:
                raise RuntimeError("torch.histogramdd: bins tensor should have at least 1 "
                                   f"element, but got 0 elements in the bins tensor for "
                                   f"dimension {d}")
            if b.shape[0] == 1:
                raise RuntimeError(f"torch.histogram(): bins must be > 0, but got 0 for "
                                   f"dimension {d}")
            edges.append(b.detach().contiguous())
        return edges
    if any(isinstance(b, Tensor) for b in bins):
        raise TypeError("histogramdd(): bins must be all tensors or all ints")
    counts = [operator.index(b) for b in bins]
    for d, count in enumerate(counts):
        if count <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for "
                               f"dimension {d}")
    if range is not None:
        if len(range) != 2 * dims:
            raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram range "
                               f"should have {2 * dims} elements, but got {len(range)}")
        bounds = [(float(range[2 * d]), float(range[2 * d + 1])) for d in builtins.range(dims)]
    elif points.shape[0]:
        bounds = list(zip(points.amin(0).tolist(), points.amax(0).tolist()))
    else:
        bounds = [(0.0, 1.0)] * dims
    edges = []
    for d, ((lo, hi), count) in enumerate(zip(bounds, counts)):
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo} "
                               f"max {hi} for dimension {d}")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{lo}, {hi}] is not "
                               "finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(_linear_edges(lo, hi, count, dtype))
    return edges


def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):
    """Histogram of points in ``N`` dimensions: the last dimension of ``input`` holds
    the coordinates, the others are flattened.

    Parameters
    ----------
    input : Tensor
        Floating point, at least 2-D: ``(..., N)``.
    bins : int, sequence of int or sequence of Tensor
        The number of equal-width bins of every dimension or of each one, or the
        increasing 1-D tensor of bin edges of each dimension (in the dtype of ``input``).
    range : sequence of float, optional
        ``[min_0, max_0, min_1, max_1, ...]``: the outer edges of the equal-width bins
        (default: each dimension's smallest and largest values, widened by 0.5 each side
        when equal).
    weight : Tensor, optional
        ``input.shape[:-1]``: each point adds its weight instead of 1.
    density : bool, optional
        Divide the counts by their total and by each bin's volume.
    out : tuple, optional
        ``(hist, bin_edges)`` to write into.

    Returns
    -------
    (hist, bin_edges) : named tuple
        ``hist`` has one dimension of bins per coordinate; ``bin_edges`` is a tuple of 1-D
        tensors.  Every bin includes its left edges; the last one of a dimension its right
        edge too.  Points outside every bin (NaN included) are not counted.

    Examples
    --------
    >>> import ember
    >>> points = ember.tensor([[0.0, 0.0], [0.2, 0.3], [1.0, 1.0], [2.0, 0.5]])
    >>> ember.histogramdd(points, bins=2).hist
    tensor([[2., 0.],
            [0., 2.]])
    """
    _check_tensor(input, "histogramdd", "input", 1)
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{TORCH_NAMES[input.dtype.num]}'")
    if weight is not None:
        _check_tensor(weight, "histogramdd", "weight", 3)
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                               f"same shape as the input tensor excluding its innermost dimension,"
                               f" but got input with shape {list(input.shape)} and weight with "
                               f"shape {list(weight.shape)}")
    with no_grad():
        points = input.detach().reshape(-1, input.shape[-1])
        edges = _dd_edges(points, bins, range, input.dtype)
        sizes = tuple(e.shape[0] - 1 for e in edges)
        # each point's bin as one flat number, row-major over the dimensions' bins
        flat = zeros((points.shape[0],), dtype=int64, device=input.device)
        inside = None
        for d, e in enumerate(edges):
            numbers, within = _bin_numbers(points[:, d], e)
            flat = flat * sizes[d] + numbers
            inside = within if inside is None else inside & within
        flat_weight = None if weight is None else weight.detach().reshape(-1)[inside].to(float64)
        hist = _counts(flat[inside], math.prod(sizes), flat_weight).to(input.dtype).reshape(sizes)
        if density:
            volume = None
            for d, e in enumerate(edges):
                widths = (e[1:] - e[:-1]).reshape((-1,) + (1,) * (len(edges) - d - 1))
                volume = widths if volume is None else volume * widths
            hist = hist / (hist.sum() * volume)
    edges = tuple(edges)
    if out is not None:
        out[0].copy_(hist)
        for target, e in zip(out[1], edges):
            target.copy_(e)
        return histogramdd_result(out[0], tuple(out[1]))
    return histogramdd_result(hist, edges)

for _name, _fn in {"bincount": bincount, "histc": histc, "histogram": histogram}.items():
    _add_method(_name, _fn)
del _name, _fn
