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


def _tril_flat_index(n, diag, device):
    """Row-major positions, in a flattened ``n x n`` matrix, of the entries on or below
    diagonal ``diag``."""
    rows, cols = ember.tril_indices(n, n, offset=diag, device=device)
    return rows * n + cols


def vec_to_tril_matrix(vec, diag=0):
    """Fill the entries on or below diagonal ``diag`` of a batch of ``D x D`` matrices,
    in row order, from the last dimension of ``vec`` (zeros elsewhere).

    Raises
    ------
    ValueError
        If ``vec.shape[-1]`` is not the size of such a triangle.
    """
    # the positive root of D**2 + (1 + 2 diag) D - |diag| (diag + 1) - 2 len = 0
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if abs(round(n) - n) > ember.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    # gather from [0, vec...]: index 0 feeds the entries above the triangle, so the
    # result stays differentiable in vec
    index = ember.zeros(n * n, dtype=ember.int64, device=vec.device)
    index[_tril_flat_index(n, diag, vec.device)] = ember.arange(
        1, vec.shape[-1] + 1, device=vec.device)
    padded = F.pad(vec, [1, 0])
    return padded[..., index].reshape(tuple(vec.shape[:-1]) + (n, n))


def tril_matrix_to_vec(mat, diag=0):
    """The entries on or below diagonal ``diag`` of a batch of square matrices, in row
    order, along a new last dimension (the inverse of :func:`vec_to_tril_matrix`).

    Raises
    ------
    ValueError
        If ``diag`` is outside ``[-n, n - 1]``.
    """
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return flat[..., _tril_flat_index(n, diag, mat.device)]
