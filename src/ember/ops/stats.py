"""Statistics and the scans' derivatives: ``nansum``, ``nanmean``, ``aminmax``,
``var_mean``, ``std_mean``, ``count_nonzero``, ``median``, ``nanmedian``,
``quantile``, ``nanquantile``, ``mode``, ``cov``, ``corrcoef`` (differences,
integration and distances are in ``ember.ops.differences``).

The scans (``cumprod``, ``logcumsumexp``, ``cummax``, ``cummin``) are kernels of
``ember._core._reduce``; their formulas are here and follow PyTorch's
(``cumprod_backward`` with its zero handling, ``logcumsumexp_backward`` in the log
domain, a scatter to the indices for ``cummax``/``cummin``).  The order statistics
sort along the dim (NaN last, as ``ember.sort`` does) and pick from the sorted
values; their gradients go to the picked positions.  Everything else is a
composite of differentiable ember ops, so its gradient (and double backward)
comes from theirs.
"""
import math
import numbers
from collections import namedtuple

from numpy import finfo as _np_finfo

import ember._core._reduce as _reduce
from ember._core._dtype import TORCH_NAMES, float32, float64, int64
from ember._core._reduce import _out_dtype, _with_out
from ember._core._tensor import Tensor, _add_method, _recorded, record
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops.autocast import autocasts
from ember.ops.derivatives import derivative
from ember.ops.elementwise import conj, where
from ember.ops.reduce import _evenly_distribute
from ember.ops.sorting import sort, _check_tensor, _wrap_dim

__all__ = ["nansum", "nanmean", "aminmax", "var_mean", "std_mean", "count_nonzero", "median",
           "nanmedian", "quantile", "nanquantile", "mode", "cov", "corrcoef"]


def _result_type(name, fields=("values", "indices")):
    result = namedtuple(name, list(fields))
    result.__module__ = "ember.return_types"
    return result


aminmax_result = _result_type("aminmax", ("min", "max"))
median_result = _result_type("median")
nanmedian_result = _result_type("nanmedian")
mode_result = _result_type("mode")


def _ember():
    import ember
    return ember


def _rev_cumsum(t, d):
    """Sum of each element and those after it along ``d``."""
    return t.flip(d).cumsum(d).flip(d)


# ---------------------------------------------------------------- scan derivatives

@derivative("cumprod", save_result=True)
def _cumprod_backward(ctx, grad, input, dim, *, dtype=None):
    if input.numel() <= 1 or input.dim() == 0:
        return grad
    d = dim % input.dim()
    out = ctx.result
    zeros = input == 0
    if not bool(zeros.any()):
        return _rev_cumsum(grad * conj(out), d) / conj(input)
    if is_grad_enabled():
        return _cumprod_backward_differentiable(grad, input, d)
    # before the first zero of a lane the quotient rule holds; at the first zero the
    # derivative is the cumulative product with that zero replaced by one; after it, 0
    seen = zeros.cumsum(d)
    before = seen == 0
    first = zeros.logical_and(seen == 1)
    safe = where(before, input, 1)
    g_before = _rev_cumsum(grad * conj(out), d) / conj(safe)
    g_first = _rev_cumsum(grad * conj(where(first, 1, input).cumprod(d)), d)
    return where(before, g_before, where(first, g_first, 0))


def _cumprod_backward_differentiable(grad, input, d):
    """``grad_i = sum_{j >= i} grad_j prod_{k <= j, k != i} x_k`` through an (n, n)
    table per lane: quadratic, but differentiable at zeros too (double backward), as
    PyTorch does under ``create_graph``."""
    ember = _ember()
    x, g = input.movedim(d, -1), grad.movedim(d, -1)
    n = x.shape[-1]
    pos = ember.arange(n, device=x.device)
    others = where(pos.unsqueeze(1) == pos, 1, x.unsqueeze(-2)).cumprod(-1)   # [i, j]
    later = pos.unsqueeze(1) <= pos                                            # j >= i
    return where(later, g.unsqueeze(-2) * conj(others), 0).sum(-1).movedim(-1, d)


@derivative("logcumsumexp", save_result=True)
def _logcumsumexp_backward(ctx, grad, input, dim):
    if input.numel() == 0:
        return grad
    d = dim % max(input.dim(), 1)
    if input.dim() == 0:
        return grad
    result = ctx.result
    if input.is_complex():
        # sum over j >= i of conj(grad_j) * exp(x_i - out_j), conjugated: complex logs
        # need no split by sign
        total = (grad.conj().log() - result).flip(d).logcumsumexp(d).flip(d)
        return (total + input).exp().conj()
    # sum over j >= i of grad_j * exp(x_i - out_j), split by the sign of grad so that
    # each half is a logcumsumexp of logs (as PyTorch does)
    # (the lowest finite value, not -inf, for a zero gradient: -inf - -inf would be NaN)
    name = str(grad.dtype).split(".")[-1]
    lowest = -3.3895313892515355e38 if name == "bfloat16" else -float(_np_finfo(name).max)
    log_abs = grad.abs().log()
    pos = where(grad > 0, log_abs, lowest) - result
    neg = where(grad < 0, log_abs, lowest) - result
    pos = pos.flip(d).logcumsumexp(d).flip(d)
    neg = neg.flip(d).logcumsumexp(d).flip(d)
    return (pos + input).exp() - (neg + input).exp()


def _cum_extreme_backward(ctx, grad, input, dim):
    if input.dim() == 0:
        return grad[0]
    values = grad[0]
    zeros = _ember().zeros(tuple(input.shape), dtype=values.dtype, device=values.device)
    return zeros.scatter_add(dim % input.dim(), ctx.result[1], values)


derivative("cummax", save_inputs=False, save_result=(1,))(_cum_extreme_backward)
derivative("cummin", save_inputs=False, save_result=(1,))(_cum_extreme_backward)


def _cumprod_(self, dim, *, dtype=None):
    """In-place :func:`ember.cumprod`."""
    # the derivative saves its input: a recorded self is read from a copy, then written
    source = self.clone() if _recorded(self) else self
    return self.copy_(source.cumprod(dim, dtype=dtype))


def _cumsum_(self, dim, *, dtype=None):
    """In-place :func:`ember.cumsum`."""
    return self.copy_(self.cumsum(dim, dtype=dtype))


# ---------------------------------------------------------------- nan-ignoring sums

def _nansum_out_dtype(fname, input, dtype, out):
    """The dtype nansum/nanmean sum in for ``out=``: ``out``'s, floating point for a
    floating-point input (PyTorch's kernel for it has no other)."""
    dt = _out_dtype(fname, dtype, out)
    if isinstance(input, Tensor) and input.is_floating_point() and not dt.is_floating_point:
        raise NotImplementedError(f'"nansum_cpu" not implemented for \'{TORCH_NAMES[dt.num]}\'')
    return dt


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of the elements that are not NaN.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
    keepdim : bool, optional
    dtype : ember.dtype, optional
    out : Tensor, optional
        Where to write the result (returned), resized to its shape and
        summed in its dtype (``dtype``, if given too, must be the same).

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.nansum(ember.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    """
    if out is not None:
        return _with_out("nansum", out, "same", nansum, (input, dim, keepdim),
                         {"dtype": _nansum_out_dtype("nansum", input, dtype, out)}, (input,))
    _check_tensor(input, "nansum")
    if input.is_complex():
        raise RuntimeError("nansum does not support complex inputs")
    if input.is_floating_point():
        input = where(input.isnan(), 0, input)
    return input.sum(dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the elements that are not NaN (NaN where all are).

    Parameters
    ----------
    input : Tensor
        Floating point.
    dim : int or tuple of int, optional
    keepdim : bool, optional
    dtype : ember.dtype, optional
    out : Tensor, optional
        A floating-point tensor to write the result into (returned), resized
        to its shape and computed in its dtype as :func:`nansum` does.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.nanmean(ember.tensor([1.0, float("nan"), 2.0]))
    tensor(1.5000)
    """
    if out is not None:
        return _with_out("nanmean", out, "same", nanmean, (input, dim, keepdim),
                         {"dtype": _nansum_out_dtype("nanmean", input, dtype, out)}, (input,))
    _check_tensor(input, "nanmean")
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype}")
    if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
        # an integer sum divided by the count would come back as float, not as ``dtype``
        raise RuntimeError("nanmean(): could not infer output dtype. Optional dtype must be "
                           "either a floating point or complex dtype. Got: "
                           f"{TORCH_NAMES[dtype.num]}")
    count = input.isnan().logical_not().sum(dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count


# ---------------------------------------------------------------- aminmax, var_mean, std_mean

def aminmax(input, *, dim=None, keepdim=False, out=None):
    """Minimum and maximum of ``input`` (over ``dim``, or all elements).

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    keepdim : bool, optional
    out : (Tensor, Tensor), optional
        ``(min, max)`` to write the result into (returned), of the input's
        dtype, resized to its shape.

    Returns
    -------
    (min, max) : named tuple of Tensor

    Examples
    --------
    >>> import ember
    >>> ember.aminmax(ember.tensor([3.0, -1.0, 2.0]))
    aminmax(min=tensor(-1.), max=tensor(3.))
    """
    if out is not None:
        return _with_out("aminmax", out, ("same", "same"), aminmax, (input,),
                         {"dim": dim, "keepdim": keepdim}, (input,))
    _check_tensor(input, "aminmax")
    if dim is None:
        if keepdim and input.dim() > 0:
            dims = tuple(range(input.dim()))
            return aminmax_result(input.amin(dims, True), input.amax(dims, True))
        return aminmax_result(input.amin(), input.amax())
    return aminmax_result(input.amin(dim, keepdim), input.amax(dim, keepdim))


def _stat_mean(fn, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):       # var_mean(x, True): the old unbiased position
        dim, unbiased = None, dim
    stat = fn(input, dim, unbiased, keepdim, correction=correction)
    mean = input.mean(dim, keepdim) if dim is not None else (
        input.mean(tuple(range(input.dim())), True) if keepdim and input.dim() else input.mean())
    return stat, mean


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance and mean over ``dim`` (see :func:`ember.var`).

    Returns
    -------
    (Tensor, Tensor)

    Examples
    --------
    >>> import ember
    >>> ember.var_mean(ember.tensor([1.0, 2.0, 3.0, 4.0]))
    (tensor(1.6667), tensor(2.5000))
    """
    _check_tensor(input, "var_mean")
    return _stat_mean(_reduce.var, input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation and mean over ``dim`` (see :func:`ember.std`).

    Returns
    -------
    (Tensor, Tensor)

    Examples
    --------
    >>> import ember
    >>> ember.std_mean(ember.tensor([1.0, 3.0]), correction=0)
    (tensor(1.), tensor(2.))
    """
    _check_tensor(input, "std_mean")
    return _stat_mean(_reduce.std, input, dim, unbiased, keepdim, correction)


def count_nonzero(input, dim=None):
    """Number of non-zero elements (over ``dim``, an int or a tuple), as ``int64``.

    Examples
    --------
    >>> import ember
    >>> ember.count_nonzero(ember.tensor([[0, 1], [2, 0]]), dim=0)
    tensor([1, 1])
    """
    _check_tensor(input, "count_nonzero")
    return (input != 0).sum(dim)


def _count_nonzero_method(self, *dims, dim=None):
    """Number of non-zero elements (see :func:`count_nonzero`); the dims as one int, ints,
    one sequence or ``dim=``."""
    if dims:
        if dim is not None:
            raise TypeError("count_nonzero() got multiple values for argument 'dim'")
        dim = dims[0] if len(dims) == 1 else dims
    return count_nonzero(self, dim)


# ---------------------------------------------------------------- median, nanmedian

def _pick(sorted_values, sorted_indices, k, d, keepdim):
    """Values and original indices at sorted positions ``k`` (kept dim ``d``)."""
    values = sorted_values.gather(d, k)
    indices = sorted_indices.gather(d, k)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return values, indices


def _median_impl(input, dim, keepdim, ignore_nan):
    """(values, indices) of the lower median along ``dim``: the first NaN when a lane
    has one (``median``), or the lower median of the others (``nanmedian``)."""
    ember = _ember()
    if input.dim() == 0:
        return input.clone(), ember.zeros((), dtype=int64, device=input.device)
    values, indices = sort(input, dim)
    n = input.shape[dim]
    nans = input.isnan().sum(dim, keepdim=True)
    valid = n - nans
    if ignore_nan:
        k = where(valid > 0, (valid - 1).div(2, rounding_mode="floor"), 0)
    else:
        k = where(nans > 0, valid, (n - 1) // 2)
    return _pick(values, indices, k, dim, keepdim)


# what PyTorch's median of no elements holds, NaN written into an integer dtype (C's
# conversion of NaN on x86: the lowest int32 or int64, 0 in the narrower types)
_NAN_AS = {"int64": -2 ** 63, "int32": -2 ** 31, "bool": True}


def _median_all(input, ignore_nan):
    if input.numel() == 0:
        # PyTorch's median of nothing is NaN (the value of an empty reduction)
        ember = _ember()
        value = math.nan if input.is_floating_point() or input.is_complex() else \
            _NAN_AS.get(input.dtype.name, 0)
        return ember.full((), value, dtype=input.dtype, device=input.device)
    flat = input.reshape(-1)
    return _median_impl(flat, 0, False, ignore_nan)[0]


def _median_entry(input, dim, keepdim, ignore_nan, name, result_type):
    _check_tensor(input, name)
    # the empty cases come before the dtype check, as in PyTorch: without a dim every
    # dtype gives its NaN, and a dim of size zero is refused
    if dim is None and input.numel() == 0:
        if _recorded(input):
            return record(name, _median_all, (input, ignore_nan))
        return _median_all(input, ignore_nan)
    if dim is not None:
        d = _wrap_dim(dim, input.dim())
        if input.dim() > 0 and input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if input.dtype == _ember().bool or input.is_complex():
        kind = "Bool" if input.dtype == _ember().bool else "Complex"
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{kind}\'')
    if dim is None:
        if _recorded(input):
            return record(name, _median_all, (input, ignore_nan))
        return _median_all(input, ignore_nan)
    impl = (lambda x, d_, k_, nan_: result_type(*_median_impl(x, d_, k_, nan_)))
    if _recorded(input):
        return record(name + "_dim", impl, (input, d, bool(keepdim), ignore_nan))
    return impl(input, d, bool(keepdim), ignore_nan)


def median(input, dim=None, keepdim=False, *, out=None):
    """Median of ``input``: the lower of the two middle values for an even count.

    Without ``dim``, the median of all elements (NaN if any is NaN, and for an empty
    tensor, as in PyTorch); with ``dim``, the medians along it and their positions.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    keepdim : bool, optional
    out : (Tensor, Tensor), optional
        With ``dim``: ``(values, indices)`` to write the result into
        (returned), of the input's dtype and ``int64``, resized to its shape.

    Returns
    -------
    Tensor, or (values, indices) : named tuple of Tensor when ``dim`` is given

    Examples
    --------
    >>> import ember
    >>> ember.median(ember.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2.)
    >>> ember.median(ember.tensor([[4.0, 1.0, 3.0]]), dim=1)
    median(values=tensor([3.]), indices=tensor([2]))
    """
    if out is not None:
        return _median_out(median, input, dim, keepdim, out, "median")
    return _median_entry(input, dim, keepdim, False, "median", median_result)


def _median_out(fn, input, dim, keepdim, out, name):
    if dim is None:     # the median of all elements has no out= form in PyTorch
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    return _with_out(name, out, ("same", "same"), fn, (input, dim, keepdim), None, (input,))


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """Median of the elements that are not NaN (see :func:`median`); NaN where all are,
    and for an empty tensor without ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    keepdim : bool, optional
    out : (Tensor, Tensor), optional
        As for :func:`median`.

    Returns
    -------
    Tensor, or (values, indices) : named tuple of Tensor when ``dim`` is given

    Examples
    --------
    >>> import ember
    >>> ember.nanmedian(ember.tensor([4.0, float("nan"), 1.0]))
    tensor(1.)
    """
    if out is not None:
        return _median_out(nanmedian, input, dim, keepdim, out, "nanmedian")
    return _median_entry(input, dim, keepdim, True, "nanmedian", nanmedian_result)


def _select_backward(ctx, grad, input, dim, keepdim, ignore_nan):
    shape = tuple(input.shape)
    values, indices = grad[0], ctx.result[1]
    if len(shape) == 0:
        return values
    if not keepdim:
        values, indices = values.unsqueeze(dim), indices.unsqueeze(dim)
    return _ember().zeros(shape, dtype=values.dtype, device=values.device).scatter(
        dim, indices, values)


def _median_all_backward(ctx, grad, input, ignore_nan):
    if ignore_nan and not bool(ctx.result.isnan()):
        return where(input.isnan(), 0, _evenly_distribute(grad, input, ctx.result))
    return _evenly_distribute(grad, input, ctx.result)


derivative("median", node="MedianBackward0", save_result=True)(_median_all_backward)
derivative("nanmedian", node="NanmedianBackward0", save_result=True)(_median_all_backward)
derivative("median_dim", node="MedianBackward1", save_inputs=False,
           save_result=(1,))(_select_backward)
derivative("nanmedian_dim", node="NanmedianBackward1", save_inputs=False,
           save_result=(1,))(_select_backward)


# ---------------------------------------------------------------- quantile

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    ember = _ember()
    _check_tensor(input, name)
    if input.dtype not in (float32, float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        q = ember.tensor(float(q), dtype=input.dtype, device=input.device)
    else:
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.numel() and not bool(((q >= 0) & (q <= 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = _wrap_dim(dim, input.dim())
        x = input if input.dim() > 0 else input.reshape(1)
        d = min(d, x.dim() - 1)
    values = sort(x, d)[0].movedim(d, -1)            # (..., n)
    n = values.shape[-1]
    nans = values.isnan().sum(-1, keepdim=True)       # (..., 1)
    qs = q.reshape(-1)                                # (Q,)
    count = (n - nans) if ignore_nan else \
        ember.full(tuple(nans.shape), n, dtype=int64, device=nans.device)
    rank = qs * (count - 1).clamp_min(0).to(input.dtype)     # (..., Q)
    if interpolation == "lower":
        rank = rank.floor()
    elif interpolation == "higher":
        rank = rank.ceil()
    elif interpolation == "nearest":
        rank = rank.round()
    below = rank.floor().to(int64)
    above = rank.ceil().to(int64)
    v_below = values.gather(-1, below)
    v_above = values.gather(-1, above)
    if interpolation == "midpoint":
        out = (v_below + v_above) * 0.5
    elif interpolation == "linear":
        out = v_below.lerp(v_above, rank - below.to(input.dtype))
    else:
        out = v_below
    if ignore_nan:
        out = where(count == 0, math.nan, out)
    else:
        out = where(nans > 0, math.nan, out)
    out = out.movedim(-1, 0)                          # (Q, ...)
    if keepdim:
        if dim is None:
            out = out.reshape((out.shape[0],) + (1,) * input.dim())
        elif input.dim() > 0:
            out = out.unsqueeze(d + 1)
    if scalar_q or q.dim() == 0:
        out = out.squeeze(0)
    return out


@autocasts("quantile")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of ``input`` (over ``dim``, or of all elements).

    Parameters
    ----------
    input : Tensor
        ``float32`` or ``float64``.
    q : float or Tensor
        Probabilities in [0, 1]; a 1-D tensor gives a leading output dim.
    dim : int, optional
    keepdim : bool, optional
    interpolation : {'linear', 'lower', 'higher', 'midpoint', 'nearest'}
        How to pick between the two data points around a quantile.
    out : Tensor, optional
        Where to write the result (returned): of the input's dtype, resized
        to its shape.

    Returns
    -------
    Tensor
        NaN where a lane holds a NaN.

    Examples
    --------
    >>> import ember
    >>> ember.quantile(ember.tensor([0.0, 1.0, 2.0, 3.0]), 0.5)
    tensor(1.5000)
    """
    if out is not None:
        return _quantile_out(quantile, input, q, dim, keepdim, interpolation, out, "quantile")
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def _quantile_out(fn, input, q, dim, keepdim, interpolation, out, name):
    inputs = (input, q) if isinstance(q, Tensor) else (input,)
    return _with_out(name, out, "same", fn, (input, q, dim, keepdim),
                     {"interpolation": interpolation}, inputs)


@autocasts("nanquantile")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """:func:`quantile` of the elements that are not NaN (NaN where all are).

    Parameters
    ----------
    input, q, dim, keepdim, interpolation
        As for :func:`quantile`.
    out : Tensor, optional
        As for :func:`quantile`.

    Examples
    --------
    >>> import ember
    >>> ember.nanquantile(ember.tensor([0.0, float("nan"), 2.0]), 0.5)
    tensor(1.)
    """
    if out is not None:
        return _quantile_out(nanquantile, input, q, dim, keepdim, interpolation, out,
                             "nanquantile")
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ---------------------------------------------------------------- mode

def _mode_impl(input, dim, keepdim):
    ember = _ember()
    if input.dim() == 0:
        return mode_result(input.clone(), ember.zeros((), dtype=int64, device=input.device))
    values, indices = sort(input, dim)
    n = input.shape[dim]
    pos = ember.arange(n, device=input.device).reshape(
        [n if k == dim else 1 for k in range(input.dim())])
    pos = pos.expand(*values.shape)
    prev = values.narrow(dim, 0, n - 1)
    nxt = values.narrow(dim, 1, n - 1)
    differs = (prev != nxt)
    starts = ember.ones(tuple(values.shape), dtype=differs.dtype, device=input.device)
    starts.narrow(dim, 1, n - 1).copy_(differs)   # a run of equal values starts here
    ends = ember.ones(tuple(values.shape), dtype=differs.dtype, device=input.device)
    ends.narrow(dim, 0, n - 1).copy_(differs)     # ... ends here
    run_start = ember.cummax(where(starts, pos, 0), dim)[0]
    run_end = ember.cummin(where(ends, pos, n).flip(dim), dim)[0].flip(dim)
    length = run_end - run_start
    best = length.argmax(dim, keepdim=True)            # the first longest run: smallest value
    last = run_end.gather(dim, best)                   # its last element (stable sort)
    return mode_result(*_pick(values, indices, last, dim, keepdim))


def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along ``dim`` (the smallest among ties) and the last
    position it occurs at.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
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
    >>> ember.mode(ember.tensor([1, 2, 2, 3, 3, 1, 1]))
    mode(values=tensor(1), indices=tensor(6))
    """
    if out is not None:
        return _with_out("mode", out, ("same", "same"), mode, (input, dim, keepdim), None,
                         (input,))
    _check_tensor(input, "mode")
    d = _wrap_dim(dim, input.dim())
    if input.dim() > 0 and input.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    if _recorded(input):
        return record("mode", _mode_impl, (input, d, bool(keepdim)))
    return _mode_impl(input, d, bool(keepdim))


@derivative("mode", save_inputs=False, save_result=(1,))
def _mode_backward(ctx, grad, input, dim, keepdim):
    return _select_backward(ctx, grad, input, dim, keepdim, False)


# ---------------------------------------------------------------- cov, corrcoef

def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance matrix of the variables in the rows of ``input`` (observations in
    the columns), with integer frequency weights and/or observation weights.

    Parameters
    ----------
    input : Tensor
        1-D (one variable) or 2-D.
    correction : int, optional
        Subtracted from the number of observations (1: Bessel's correction).
    fweights : Tensor, optional
        Integer repeat counts of the observations.
    aweights : Tensor, optional
        Observation weights.

    Returns
    -------
    Tensor
        (variables, variables), or 0-d for one variable.

    Examples
    --------
    >>> import ember
    >>> ember.cov(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    ember = _ember()
    _check_tensor(input, "cov")
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.dim()} dimensions")
    if input.dtype == ember.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(ember.get_default_dtype())
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.dim() > 1 or fweights.numel() != n_obs:
            raise RuntimeError("cov(): expected fweights to have one dimension and the same "
                               f"number of elements as the observations ({n_obs})")
        if fweights.is_floating_point() or fweights.is_complex():
            raise RuntimeError("cov(): expected fweights to have integral dtype but got "
                               f"fweights with {fweights.dtype} dtype")
        if bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if aweights.dim() > 1 or aweights.numel() != n_obs:
            raise RuntimeError("cov(): expected aweights to have one dimension and the same "
                               f"number of elements as the observations ({n_obs})")
        if not aweights.is_floating_point():
            raise RuntimeError("cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {aweights.dtype} dtype")
        if bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n_obs
        avg = x.mean(1)
        norm = n_obs - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights).sum() / w_sum
    if isinstance(norm, numbers.Number):
        norm = max(norm, 0)
    else:
        norm = norm.clamp_min(0)
    xm = x - avg.unsqueeze(1)
    weighted = xm if w is None else xm * w
    c = weighted.matmul(conj(xm).transpose(0, 1)) / norm
    return c.squeeze() if input.dim() < 2 or c.shape[0] == 1 else c


def corrcoef(input):
    """Pearson correlation coefficients of the variables in the rows of ``input``.

    Examples
    --------
    >>> import ember
    >>> ember.corrcoef(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))
    tensor([[ 1.0000, -0.9820],
            [-0.9820,  1.0000]])
    """
    _check_tensor(input, "corrcoef")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    std = (d.real if d.is_complex() else d).sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    if c.is_complex():
        return c.real.clamp(-1, 1) + c.imag.clamp(-1, 1) * 1j
    return c.clamp(-1, 1)


# ---------------------------------------------------------------- Tensor methods

for _name in ("nansum", "nanmean", "aminmax", "median", "nanmedian",
              "quantile", "nanquantile", "mode", "cov", "corrcoef"):
    _add_method(_name, globals()[_name])
_add_method("count_nonzero", _count_nonzero_method)
_add_method("cumprod_", _cumprod_)
_add_method("cumsum_", _cumsum_)
del _name
