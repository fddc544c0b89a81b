"""Sorting: ``sort``, ``argsort``, ``msort``, ``topk`` and ``kthvalue``, and
``take_along_dim`` to apply their indices; ``unique`` and ``unique_consecutive``.

All of them run the stable row sort of ``ember._core._sort`` (NaN is the largest
value, as in PyTorch) on the input with the sorted dim moved last; ``topk`` and
``kthvalue`` ask it for the first ``k`` of each row only (a selection, then a sort
of those ``k``).  The gradient
of the values goes back to the positions the indices name (a scatter into zeros,
itself differentiable).  ``unique`` sorts (stably, rows lexicographically for
``dim=``) and keeps the first of each run of equal values; like PyTorch, which has
no derivative for it, its results never require grad.
"""
import math
import operator
from collections import namedtuple

from ember._core._dtype import TORCH_NAMES, bool_, int64
from ember._core._reduce import _with_out
from ember._core._sort import sort_rows
from ember._core._tensor import Tensor, _add_method, _recorded, record, zeros
from ember.autograd.grad_mode import no_grad
from ember.ops.derivatives import derivative

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "take_along_dim", "unique",
           "unique_consecutive"]

# PyTorch's scalar-type names, by dtype number, for its messages


def _result_type(name):
    result = namedtuple(name, ["values", "indices"])
    result.__module__ = "ember.return_types"
    return result


sort_result = _result_type("sort")
topk_result = _result_type("topk")
kthvalue_result = _result_type("kthvalue")


def _check_tensor(input, fname):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def _wrap_dim(dim, ndim):
    """``dim`` as a non-negative position; a 0-d tensor has the one dim [-1, 0]."""
    dim = operator.index(dim)
    top = max(ndim, 1)
    if not -top <= dim < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], "
                         f"but got {dim})")
    return dim % top


def _sorted_along(input, dim, descending, k=None):
    """Values and indices of ``input`` sorted along the (wrapped) ``dim``; only the
    first ``k`` along it when given."""
    if input.dim() == 0:
        return input.clone(), zeros((), dtype=int64, device=input.device)
    last = input.dim() - 1
    moved = input if dim == last else input.movedim(dim, last)
    values, indices = sort_rows(moved.contiguous(), descending, k)
    if dim != last:
        values = values.movedim(last, dim).contiguous()
        indices = indices.movedim(last, dim).contiguous()
    return values, indices


def _sort_impl(input, dim, descending):
    return sort_result(*_sorted_along(input, dim, descending))


def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    """Sort the elements of ``input`` along a dimension.

    Parameters
    ----------
    input : Tensor
        The tensor to sort (any real dtype).
    dim : int, optional
        The dimension to sort along (default: the last).
    descending : bool, optional
        Largest first.
    stable : bool, optional
        Keep the order of equal elements.  ember's sort is always stable, so this
        only documents the intent.
    out : (Tensor, Tensor), optional
        ``(values, indices)`` to write the result into (returned), of the
        input's dtype and ``int64``, resized to its shape.

    Returns
    -------
    (values, indices) : named tuple of Tensor
        The sorted values and their int64 positions in ``input`` along ``dim``.
        NaN sorts as larger than every number.

    Examples
    --------
    >>> import ember
    >>> ember.sort(ember.tensor([3.0, 1.0, 2.0]))
    sort(values=tensor([1., 2., 3.]), indices=tensor([1, 2, 0]))
    """
    if out is not None:
        return _with_out("sort", out, ("same", "same"), sort, (input, dim, descending),
                         {"stable": stable}, (input,))
    _check_tensor(input, "sort")
    dim = _wrap_dim(dim, input.dim())
    if _recorded(input):
        return record("sort", _sort_impl, (input, dim, bool(descending)))
    return _sort_impl(input, dim, bool(descending))


def _scatter_back(grad, shape, dim, indices):
    """``zeros(shape)`` with ``grad`` at ``indices`` along ``dim``."""
    if len(shape) == 0:
        return grad
    return zeros(shape, dtype=grad.dtype, device=grad.device).scatter(dim, indices, grad)


@derivative("sort", save_inputs=False, save_result=(1,))
def _sort_backward(ctx, grad, input, dim, descending):
    return _scatter_back(grad[0], tuple(input.shape), dim, ctx.result[1])


def argsort(input, dim=-1, descending=False, *, stable=False, out=None):
    """Positions that sort ``input`` along a dimension (see :func:`sort`).  ``out``, an
    int64 tensor, receives them (resized to their shape).

    Examples
    --------
    >>> import ember
    >>> ember.argsort(ember.tensor([[3, 1, 2]]), dim=1, descending=True)
    tensor([[0, 2, 1]])
    """
    _check_tensor(input, "argsort")
    if out is not None:
        return _with_out("argsort", out, "same", argsort, (input, dim, descending),
                         {"stable": stable}, (input,))
    if _recorded(input):        # the indices of a recorded sort (ember.jit traces it)
        return sort(input, dim, descending).indices
    return _sorted_along(input, _wrap_dim(dim, input.dim()), bool(descending))[1]


def msort(input, *, out=None):
    """Sort ``input`` along its first dimension; the values of ``sort(input, dim=0)``.

    Parameters
    ----------
    input : Tensor
    out : Tensor, optional
        Where to write the result (returned): of the input's dtype, resized
        to its shape.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.msort(ember.tensor([[2, 0], [1, 5]]))
    tensor([[1, 0],
            [2, 5]])
    """
    if out is not None:
        return _with_out("msort", out, "same", msort, (input,), None, (input,))
    _check_tensor(input, "msort")
    return sort(input, dim=0).values


def _topk_impl(input, k, dim, largest):
    return topk_result(*_sorted_along(input, dim, largest, k))


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) elements of ``input`` along a dimension.

    Parameters
    ----------
    input : Tensor
        The tensor to search.
    k : int
        How many elements to return.
    dim : int, optional
        The dimension to search along (default: the last).
    largest : bool, optional
        The largest elements (default) or the smallest.
    sorted : bool, optional
        Return the elements in sorted order; ember always does.
    out : (Tensor, Tensor), optional
        ``(values, indices)`` to write the result into (returned), of the
        input's dtype and ``int64``, resized to its shape.

    Returns
    -------
    (values, indices) : named tuple of Tensor
        Among equal elements the first ones are taken; NaN counts as the largest.

    Examples
    --------
    >>> import ember
    >>> ember.topk(ember.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    topk(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    if out is not None:
        return _with_out("topk", out, ("same", "same"), topk, (input, k, dim, largest, sorted),
                         None, (input,))
    _check_tensor(input, "topk")
    dim = _wrap_dim(dim, input.dim())
    k = operator.index(k)
    size = input.shape[dim] if input.dim() > 0 else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if _recorded(input):
        return record("topk", _topk_impl, (input, k, dim, bool(largest)))
    return _topk_impl(input, k, dim, bool(largest))


@derivative("topk", save_inputs=False, save_result=(1,))
def _topk_backward(ctx, grad, input, k, dim, largest):
    return _scatter_back(grad[0], tuple(input.shape), dim, ctx.result[1])


def _kthvalue_impl(input, k, dim, keepdim):
    values, indices = _sorted_along(input, dim, False, k)
    if input.dim() == 0:
        return kthvalue_result(values, indices)
    values, indices = values.narrow(dim, k - 1, 1), indices.narrow(dim, k - 1, 1)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return kthvalue_result(values.contiguous(), indices.contiguous())


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element of ``input`` along a dimension (``k`` from 1).

    Parameters
    ----------
    input : Tensor
    k : int
    dim : int, optional
        The dimension to search along (default: the last).
    keepdim : bool, optional
    out : (Tensor, Tensor), optional
        ``(values, indices)`` to write the result into (returned), of the
        input's dtype and ``int64``, resized to its shape.

    Returns
    -------
    (values, indices) : named tuple of Tensor

    Examples
    --------
    >>> import ember
    >>> ember.kthvalue(ember.tensor([4.0, 1.0, 3.0]), 2)
    kthvalue(values=tensor(3.), indices=tensor(2))
    """
    if out is not None:
        return _with_out("kthvalue", out, ("same", "same"), kthvalue, (input, k, dim, keepdim),
                         None, (input,))
    _check_tensor(input, "kthvalue")
    dim = _wrap_dim(dim, input.dim())
    k = operator.index(k)
    size = input.shape[dim] if input.dim() > 0 else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    if _recorded(input):
        return record("kthvalue", _kthvalue_impl, (input, k, dim, bool(keepdim)))
    return _kthvalue_impl(input, k, dim, bool(keepdim))


@derivative("kthvalue", save_inputs=False, save_result=(1,))
def _kthvalue_backward(ctx, grad, input, k, dim, keepdim):
    shape = tuple(input.shape)
    values, indices = grad[0], ctx.result[1]
    if len(shape) > 0 and not keepdim:
        values, indices = values.unsqueeze(dim), indices.unsqueeze(dim)
    return _scatter_back(values, shape, dim, indices)


def take_along_dim(input, indices, dim=None, *, out=None):
    """The elements of ``input`` at ``indices`` along ``dim`` (the partner of
    :func:`argsort` and :func:`topk`'s indices).

    ``input`` and ``indices`` are broadcast against each other in every dim but
    ``dim``; without ``dim`` both are taken as flattened.  With ``dim``, a
    negative index counts from the end of that dim, as in PyTorch.  ``out``, of
    ``input``'s dtype, receives the result (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[10, 30, 20], [60, 50, 40]])
    >>> ember.take_along_dim(x, ember.argsort(x, dim=1), dim=1)
    tensor([[10, 20, 30],
            [40, 50, 60]])
    """
    from ember import broadcast_shapes
    _check_tensor(input, "take_along_dim")
    if out is not None:
        return _with_out("take_along_dim", out, "same", take_along_dim, (input, indices, dim),
                         None, (input,))
    if not isinstance(indices, Tensor):
        raise TypeError(f"take_along_dim(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(indices).__name__}")
    if indices.dtype != int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{TORCH_NAMES[indices.dtype.num]}")
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    if input.dim() != indices.dim():
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.dim()} dimensions for input, "
                           f"and {indices.dim()} dimensions for indices")
    dim = _wrap_dim(dim, input.dim())
    if input.dim() == 0:
        return input.reshape(1).gather(0, indices.reshape(1)).reshape(())
    # with a dim, PyTorch counts negative indices from the end of that dim
    size = input.shape[dim]
    indices = indices.where(indices >= 0, indices + size)
    in_shape, idx_shape = list(input.shape), list(indices.shape)
    in_shape[dim] = idx_shape[dim] = 1
    common = list(broadcast_shapes(tuple(in_shape), tuple(idx_shape)))
    in_shape, idx_shape = list(common), list(common)
    in_shape[dim], idx_shape[dim] = input.shape[dim], indices.shape[dim]
    return input.expand(tuple(in_shape)).gather(dim, indices.expand(tuple(idx_shape)))


def _runs(rows, order, return_inverse, return_counts, shape):
    """The first row of each run of equal consecutive rows of the 2-D ``rows``
    (``order``: the positions those rows came from, or None when unmoved), and
    the requested inverse (shaped ``shape``) and counts, as ``unique`` returns them."""
    from ember import arange, cumsum, ones
    n, device = rows.shape[0], rows.device
    starts = ones((n,), dtype=bool_, device=device)
    if n > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(1) if rows.shape[1] else False
    output = rows[starts]
    result = [output]
    if return_inverse:
        group = cumsum(starts, 0) - 1
        inverse = group if order is None else \
            zeros((n,), dtype=int64, device=device).scatter(0, order, group)
        result.append(inverse.reshape(shape))
    if return_counts:
        # a run ends where the next one starts, or at the end
        ends = ones((n,), dtype=bool_, device=device)
        ends[:-1] = starts[1:]
        position = arange(n, device=device)
        result.append(position[ends] - position[starts] + 1)
    return result


def _unique(input, dim, sort_first, return_inverse, return_counts, fname):
    from ember import arange
    _check_tensor(input, fname)
    with no_grad():
        input = input.detach()
        if dim is None:
            rows, shape = input.reshape(-1, 1), tuple(input.shape)
            moved = None
        else:
            dim = _wrap_dim(dim, input.dim())
            if input.dim() == 0:
                raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], "
                                 f"but got {dim})")
            if input.numel() == 0 and input.shape[dim] != 0:
                raise RuntimeError("There are 0 sized dimensions, and they aren't selected, "
                                   f"so {fname} cannot be applied")
            moved = input.movedim(dim, 0)
            # explicit sizes: -1 is ambiguous when a slice is empty
            rest = tuple(moved.shape[1:])
            rows, shape = moved.reshape(moved.shape[0], math.prod(rest)), (input.shape[dim],)
        order = None
        if sort_first:
            # stable sorts by each column from the last: the rows in lexicographic order
            order = arange(rows.shape[0], device=rows.device)
            for column in range(rows.shape[1] - 1, -1, -1):
                keys = rows[:, column].gather(0, order)
                order = order.gather(0, _sorted_along(keys, 0, False)[1])
            rows = rows.index_select(0, order)
        result = _runs(rows, order, return_inverse, return_counts, shape)
        if dim is None:
            result[0] = result[0].reshape(-1)
        else:
            result[0] = result[0].reshape((result[0].shape[0],) + rest).movedim(0, dim)
    return result[0] if len(result) == 1 else tuple(result)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of ``input`` (or distinct slices along ``dim``), sorted.

    Parameters
    ----------
    input : Tensor
        Any real dtype.
    sorted : bool, optional
        Ignored: the result is always sorted, as PyTorch's on the CPU.
    return_inverse : bool, optional
        Also return, for each element (slice) of ``input``, its position in the result.
    return_counts : bool, optional
        Also return how many times each result element (slice) occurs.
    dim : int, optional
        Treat the slices along ``dim`` as the items (compared lexicographically);
        by default the flattened elements.

    Returns
    -------
    Tensor or tuple of Tensor
        The unique values, followed by the inverse (shaped like ``input``, or
        ``(input.shape[dim],)``) and the counts when asked for.  NaNs never equal
        each other, so each is kept.

    Examples
    --------
    >>> import ember
    >>> ember.unique(ember.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    (tensor([1, 2, 3]), tensor([2, 0, 2, 1]), tensor([1, 1, 2]))
    """
    return _unique(input, dim, True, return_inverse, return_counts, "unique")


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (or slices along ``dim``) of
    ``input`` to one.

    Parameters are as :func:`unique`'s (without ``sorted``: nothing is sorted).

    Examples
    --------
    >>> import ember
    >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 3, 1]), return_counts=True)
    (tensor([1, 2, 3, 1]), tensor([2, 2, 1, 1]))
    """
    return _unique(input, dim, False, return_inverse, return_counts, "unique_consecutive")


for _name, _fn in {"sort": sort, "argsort": argsort, "msort": msort, "topk": topk,
                   "kthvalue": kthvalue, "take_along_dim": take_along_dim, "unique": unique,
                   "unique_consecutive": unique_consecutive}.items():
    _add_method(_name, _fn)
del _name, _fn
