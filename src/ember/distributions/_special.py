"""lgamma, digamma, polygamma and erfinv for the distributions, computed by
``scipy.special`` and recorded as ops, so log-densities and entropies are
differentiable to any order (d lgamma = digamma, d polygamma(n) = polygamma(n + 1)).
"""
import math

import numpy as np
import scipy.special as sc

from ember._core._tensor import Tensor, record
from ember.ops.derivatives import derivative
import ember


def _apply(fn, x, *extra):
    """``fn`` of the values of ``x`` as a new tensor of ``x``'s (floating) dtype."""
    if not x.is_floating_point():
        x = x.to(ember.get_default_dtype())
    work = x.detach()
    if work.dtype not in (ember.float32, ember.float64):
        work = work.to(ember.float32)
    values = np.asarray(fn(*extra, np.asarray(work.cpu())), dtype=np.asarray(work.cpu()).dtype)
    return ember.from_numpy(np.array(values, order="C")).to(x.dtype)


def _polygamma_impl(n, x):
    return _apply(lambda v: sc.polygamma(n, v), x)


def _lgamma_impl(x):
    return _apply(sc.gammaln, x)


def _erfinv_impl(x):
    return _apply(sc.erfinv, x)


def polygamma(n, x):
    """The ``n``-th derivative of the digamma function at ``x`` (differentiable in ``x``)."""
    return record("_distributions_polygamma", _polygamma_impl, (n, x))


def digamma(x):
    """The logarithmic derivative of the gamma function (differentiable)."""
    return polygamma(0, x)


def lgamma(x):
    """log |Gamma(x)| (differentiable)."""
    return record("_distributions_lgamma", _lgamma_impl, (x,))


def erfinv(x):
    """The inverse error function (differentiable)."""
    return record("_distributions_erfinv", _erfinv_impl, (x,))


@derivative("_distributions_polygamma", node="PolygammaBackward0")
def _polygamma_backward(ctx, grad, n, x):
    return None, grad * polygamma(n + 1, x)


@derivative("_distributions_lgamma", node="LgammaBackward0")
def _lgamma_backward(ctx, grad, x):
    return grad * digamma(x)


@derivative("_distributions_erfinv", node="ErfinvBackward0", save_result=True)
def _erfinv_backward(ctx, grad, x):
    return grad * (0.5 * math.sqrt(math.pi)) * ember.exp(ctx.result * ctx.result)


def xlogy(x, y):
    """``x * log(y)``, 0 where ``x`` is 0."""
    return ember.where(x == 0, ember.zeros_like(x * y), x * ember.log(y))


__all__ = []
