"""Helpers shared by the distributions: broadcasting of parameters, probability and
logit conversions, and a cached property."""
from numbers import Number

import ember
from ember.nn import functional as F

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits"]


def broadcast_all(*values):
    """Broadcast tensors and numbers to one shape (numbers become tensors of the
    tensors' dtype, or of the default dtype when all are numbers).

    Raises
    ------
    ValueError
        If an argument is neither a tensor nor a number.
    """
    tensors = [v for v in values if isinstance(v, ember.Tensor)]
    for v in values:
        if not isinstance(v, (ember.Tensor, Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "ember.Tensor or objects implementing __torch_function__.")
    if tensors:
        dtype = tensors[0].dtype
        device = tensors[0].device
    else:
        dtype, device = ember.get_default_dtype(), None
    values = [v if isinstance(v, ember.Tensor) else ember.tensor(v, dtype=dtype, device=device)
              for v in values]
    shape = ember.broadcast_shapes(*[tuple(v.shape) for v in values])
    return tuple(v if tuple(v.shape) == tuple(shape) else v.expand(shape) for v in values)


def _standard_normal(shape, dtype, device):
    return ember.randn(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def clamp_probs(probs):
    """Clamp probabilities into the open interval ``(eps, 1 - eps)`` of their dtype."""
    eps = _EPS[probs.dtype]
    return probs.clamp(eps, 1 - eps)


_EPS = {ember.float16: 2.0 ** -10, ember.bfloat16: 2.0 ** -7, ember.float32: 2.0 ** -23,
        ember.float64: 2.0 ** -52}
# the smallest positive normal number per floating dtype (PyTorch's finfo(dtype).tiny)
_TINY = {ember.float16: 2.0 ** -14, ember.bfloat16: 2.0 ** -126, ember.float32: 2.0 ** -126,
         ember.float64: 2.0 ** -1022}


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: a sigmoid for binary events, else a softmax over the
    last dimension."""
    if is_binary:
        return ember.sigmoid(logits)
    return F.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (clamped away from 0 and 1): ``log(p) - log1p(-p)``
    for binary events, else ``log(p)``."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ember.log(ps_clamped) - ember.log1p(-ps_clamped)
    return ember.log(ps_clamped)


class lazy_property:
    """A property computed on first access and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with ember.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
