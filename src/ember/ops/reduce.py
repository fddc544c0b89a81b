"""Derivatives of the reductions, scans and softmax (the ops are the core's
``ember._core._reduce``).

Each formula follows PyTorch's (``tools/autograd/derivatives.yaml`` and its
helpers), including the subgradients it picks where the function has a kink:
ties of ``amax``/``max`` share the gradient, ``prod`` with zeros takes the
product of the other elements instead of ``result / input``, the 2-norm and
the standard deviation of a zero lane have a zero gradient.  The formulas are
written with ember ops, so that they are recorded themselves under
``create_graph=True`` and double backward works.

PyTorch names some nodes after the form of the call (``SumBackward0`` for
``x.sum()``, ``SumBackward1`` for ``x.sum(dim)``); a node here has one name per
op: that of the all-elements form for ``sum``, ``mean`` and ``prod``, and that of
the ``dim`` form (``MaxBackward0``) for ``max`` and ``min``.
"""
import math

from ember._core import _tensor as _core
from ember._core._reduce import log_softmax_backward_data, softmax_backward_data
from ember._core._tensor import is_grad_enabled
from ember.ops.derivatives import derivative
from ember.ops.elementwise import conj, sgn, where


# ---------------------------------------------------------------- reduced dims

def _reduced_dims(dim, ndim):
    """The sorted, non-negative dims a reduction over ``dim`` removes (all for None
    or an empty sequence; none of a 0-d tensor)."""
    if ndim == 0:
        return []
    if dim is None or dim == () or dim == []:
        return list(range(ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    return sorted(d % ndim for d in dims)


def _restore(t, dims, keepdim):
    """A reduction's output ``t`` with its reduced ``dims`` back, as size 1."""
    if not keepdim:
        for d in dims:
            t = t.unsqueeze(d)
    return t


def expand_reduced(grad, shape, dim, keepdim):
    """``grad`` of a reduction over ``dim`` broadcast back to the input's ``shape``."""
    return _restore(grad, _reduced_dims(dim, len(shape)), keepdim).expand(*shape)


def _along(n, d, ndim, device):
    """``arange(n)`` on ``device`` laid along dim ``d`` of an ``ndim``-d tensor (size 1
    elsewhere)."""
    return _core.arange(n, device=device).reshape([n if k == d else 1 for k in range(ndim)])


# ---------------------------------------------------------------- sum, mean

@derivative("sum", node=lambda input, dim=None, *a, **k: "SumBackward0" if dim is None else "SumBackward1",
            save_inputs=False)
def _sum_backward(ctx, grad, input, dim=None, keepdim=False, *, dtype=None):
    return expand_reduced(grad, tuple(input.shape), dim, keepdim)


@derivative("mean", node=lambda input, dim=None, *a, **k: "MeanBackward0" if dim is None else "MeanBackward1",
            save_inputs=False)
def _mean_backward(ctx, grad, input, dim=None, keepdim=False, *, dtype=None):
    shape = tuple(input.shape)
    count = 1
    for d in _reduced_dims(dim, len(shape)):
        count *= shape[d]
    return expand_reduced(grad, shape, dim, keepdim) / count


# ---------------------------------------------------------------- prod

def _exclusive_products(x, d, reverse):
    """Product of the elements before each one along dim ``d`` (after it, when
    ``reverse``): an exclusive scan in log2(n) doubling steps of ember ops, so
    that it is differentiable (ember has no ``cumprod``)."""
    n, ndim = x.shape[d], x.dim()
    pos = _along(n, d, ndim, x.device)
    lead = (slice(None),) * d

    def neighbour(t, s):
        """``t`` shifted by ``s`` along ``d`` (towards the scan's start), edges repeated."""
        idx = _core.arange(n, device=x.device) + s if reverse else \
            _core.arange(n, device=x.device) - s
        return t[lead + (idx.clamp(0, max(n - 1, 0)),)]

    first = pos == (n - 1) if reverse else pos == 0
    out = where(first, 1, neighbour(x, 1))
    step = 1
    while step < n:
        has_partner = pos < n - step if reverse else pos >= step
        out = where(has_partner, out * neighbour(out, step), out)
        step *= 2
    return out


def _products_of_others(x, d):
    """For each element, the product of the other elements of its lane along ``d``:
    right where ``result / x`` divides by zero."""
    return _exclusive_products(x, d, False) * _exclusive_products(x, d, True)


@derivative("prod", node=lambda input, dim=None, *a, **k: "ProdBackward0" if dim is None else "ProdBackward1",
            save_result=True)
def _prod_backward(ctx, grad, input, dim=None, keepdim=False, *, dtype=None):
    if input.dim() == 0:
        return grad
    result = ctx.result
    zeros = input == 0
    if dim is None:
        if not bool(zeros.any()):
            return grad * conj(result / input)
        if not is_grad_enabled() and int(zeros.sum()) > 1:
            return _core.zeros_like(input)      # every product of the others has a zero
        others = _products_of_others(input.reshape(-1), 0).reshape(tuple(input.shape))
        return grad * conj(others)
    d = dim % input.dim()
    if not keepdim:
        grad, result = grad.unsqueeze(d), result.unsqueeze(d)
    if not bool(zeros.any()):
        return grad * conj(result / input)
    return grad * conj(_products_of_others(input, d))


# ---------------------------------------------------------------- amax, amin, max, min

def _share_among_ties(grad, input, result, dim, keepdim):
    """The gradient of a reduction that picks an extreme: split evenly among the
    elements equal to it (NaN lanes, where none is, get NaN)."""
    dims = _reduced_dims(dim, input.dim())
    grad, result = _restore(grad, dims, keepdim), _restore(result, dims, keepdim)
    ties = result == input
    return grad / ties.sum(dims, keepdim=True) * ties


@derivative("amax", save_result=True)
def _amax_backward(ctx, grad, input, dim=(), keepdim=False):
    return _share_among_ties(grad, input, ctx.result, dim, keepdim)


@derivative("amin", save_result=True)
def _amin_backward(ctx, grad, input, dim=(), keepdim=False):
    return _share_among_ties(grad, input, ctx.result, dim, keepdim)


def _evenly_distribute(grad, input, value):
    """The gradient of the extreme of all elements: split evenly among the elements
    equal to it, or among the NaNs when it is NaN."""
    ties = input.isnan() if bool(value.isnan().any()) else input == value
    return where(ties, grad / ties.sum(), 0)


def _to_index(grad, shape, dim, indices, keepdim):
    """``zeros(shape)`` with ``grad`` at ``indices`` along ``dim``, built from a
    comparison so that it is differentiable in ``grad``."""
    if len(shape) == 0:
        return grad
    d = dim % len(shape)
    if not keepdim:
        grad, indices = grad.unsqueeze(d), indices.unsqueeze(d)
    return where(_along(shape[d], d, len(shape), grad.device) == indices, grad, 0)


def _all_elements(input, dim=None, *args, **kwargs):
    """max/min over all elements keep their input (to find ties); along a dim they need
    only its shape (the indices say where the gradient goes), as in PyTorch."""
    return dim is None


def _max_min_backward(ctx, grad, input, dim, keepdim):
    if dim is None:
        return _evenly_distribute(grad, input, ctx.result)
    return _to_index(grad[0], tuple(input.shape), dim, ctx.result[1], keepdim)


@derivative("max", node=lambda input, dim=None, *a, **k: "MaxBackward1" if dim is None else "MaxBackward0",
            save_inputs=_all_elements, save_result=(1,))
def _max_backward(ctx, grad, input, dim=None, keepdim=False):
    return _max_min_backward(ctx, grad, input, dim, keepdim)


@derivative("min", node=lambda input, dim=None, *a, **k: "MinBackward1" if dim is None else "MinBackward0",
            save_inputs=_all_elements, save_result=(1,))
def _min_backward(ctx, grad, input, dim=None, keepdim=False):
    return _max_min_backward(ctx, grad, input, dim, keepdim)


# ---------------------------------------------------------------- var, std

def _correction(dim, unbiased, correction):
    """``(dim, correction)`` of a var/std call (``var(x, True)`` passes unbiased as dim)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None else int(bool(unbiased))
    return dim, correction


def _var_backward_of(grad, input, dim, correction, keepdim):
    """PyTorch's ``var_backward``: ``2 / (N - correction) * grad * (x - mean)``."""
    ndim = input.dim()
    if ndim == 0 or dim is None or dim == () or dim == []:
        # (PyTorch divides by N - correction with N = 1 for an empty dim list, an
        # infinite gradient; the empty list reduces every dim, so N is numel here)
        dof = input.numel() - correction
        if dof <= 0:
            # 2 / dof is infinite: NaN where x is the mean (inf * 0), else inf
            return grad * where(input == input.mean(), math.nan, math.inf)
        return (2.0 / dof) * grad * (input - input.mean())
    dims = _reduced_dims(dim, ndim)
    grad = _restore(grad, dims, keepdim)
    count = 1
    for d in dims:
        count *= input.shape[d]
    scale = 2.0 / (count - correction) if count != correction else math.inf
    return scale * grad * (input - input.mean(dims, keepdim=True))


@derivative("var")
def _var_backward(ctx, grad, input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction)
    return _var_backward_of(grad, input, dim, correction, keepdim)


@derivative("std", save_result=True)
def _std_backward(ctx, grad, input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction)
    result = ctx.result
    # d sqrt(v) = dv / (2 sqrt(v)); at zero variance PyTorch takes 0
    grad_var = where(result == 0, 0, grad / (result * 2))
    return _var_backward_of(grad_var, input, dim, correction, keepdim)


# ---------------------------------------------------------------- norm

@derivative("norm", node="LinalgVectorNormBackward0", save_result=True)
def _norm_backward(ctx, grad, input, p="fro", dim=None, keepdim=False, dtype=None):
    order = 2.0 if p is None or isinstance(p, str) else float(p)
    if order == 0.0:
        return None                 # a count of non-zeros: no gradient, as in PyTorch
    dims = _reduced_dims(dim, input.dim())
    norm = _restore(ctx.result, dims, keepdim)
    grad = _restore(grad, dims, keepdim)
    if order == 1.0:
        return sgn(input) * grad
    if order == 2.0:
        return grad * where(norm == 0, 0, input / norm)
    if math.isinf(order):
        # the largest (smallest) magnitudes share the gradient; NaNs count as extremes
        magnitude = input.abs()
        extremes = (magnitude == norm).logical_or(magnitude.isnan())
        return sgn(input) * (grad / extremes.sum(dims, keepdim=True) * extremes)
    if order < 1.0:
        scaled = sgn(input) * where(input == 0, 0, input.abs().pow(order - 1))
        return scaled * grad * norm.pow(1 - order)
    if order < 2.0:
        scaled = sgn(input) * input.abs().pow(order - 1)
    else:
        scaled = input * input.abs().pow(order - 2)
    return scaled * where(norm == 0, 0, grad / norm.pow(order - 1))


# ---------------------------------------------------------------- logsumexp

@derivative("logsumexp", save_result=True)
def _logsumexp_backward(ctx, grad, input, dim, keepdim=False):
    dims = _reduced_dims(dim, input.dim())
    result = _restore(ctx.result, dims, keepdim)
    return _restore(grad, dims, keepdim) * conj((input - result).exp())


# ---------------------------------------------------------------- cumsum, softmax, log_softmax

@derivative("cumsum", save_inputs=False)
def _cumsum_backward(ctx, grad, input, dim, *, dtype=None):
    if grad.dtype != input.dtype:
        if grad.is_complex() and not input.dtype.is_complex:
            grad = grad.real
        grad = grad.to(input.dtype)
    if input.numel() <= 1 or input.shape[dim] == 1:
        return grad
    # the sum of the gradients at and after each position: a reversed cumsum
    reverse = (slice(None),) * (dim % input.dim()) + (slice(None, None, -1),)
    return grad[reverse].cumsum(dim)[reverse]


@derivative("softmax", save_inputs=False, save_result=True)
def _softmax_backward(ctx, grad, input, dim, dtype=None):
    return softmax_backward_data(grad, ctx.result, dim)


@derivative("log_softmax", save_inputs=False, save_result=True)
def _log_softmax_backward(ctx, grad, input, dim, dtype=None):
    return log_softmax_backward_data(grad, ctx.result, dim)


# the fused backward kernels are differentiable in turn (double backward), by composites

@derivative("softmax_backward_data")
def _softmax_backward_data_backward(ctx, grad, grad_output, output, dim):
    # out = y * (g - sum(g * y)): linear in g with the same form; in y its own product rule
    grad_g = softmax_backward_data(grad, output, dim) if ctx.needs_input_grad[0] else None
    grad_y = None
    if ctx.needs_input_grad[-1]:
        s = (grad_output * output).sum(dim, keepdim=True)
        grad_y = grad * (grad_output - s) - grad_output * (grad * output).sum(dim, keepdim=True)
    return grad_g, grad_y, None


@derivative("log_softmax_backward_data")
def _log_softmax_backward_data_backward(ctx, grad, grad_output, output, dim):
    # out = g - exp(y) * sum(g)
    e = output.exp()
    grad_g = grad - (grad * e).sum(dim, keepdim=True) if ctx.needs_input_grad[0] else None
    grad_y = None
    if ctx.needs_input_grad[-1]:
        grad_y = -grad * e * grad_output.sum(dim, keepdim=True)
    return grad_g, grad_y, None
