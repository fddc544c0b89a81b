"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``."""
import math
import warnings

import ember
from ember._core._tensor import Tensor
from ember.autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "clip_grad_norm"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated).

    Parameters
    ----------
    tensors : Tensor or iterable of Tensor
    norm_type : float, default 2.0
        Order of the norm; ``inf`` for the max norm.
    error_if_nonfinite : bool, default False
        Raise when the norm is nan or inf.
    foreach : bool, optional
        Accepted for compatibility; ember computes the norm the same way either way.

    Returns
    -------
    Tensor
        A 0-d tensor.
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return ember.tensor(0.0)
    with no_grad():
        norms = [t.norm(norm_type) for t in tensors]
        total = ember.stack([n.to(norms[0].dtype) for n in norms]).norm(norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by ``max_norm / (total_norm + 1e-6)``
    when that is below 1."""
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        clip_coef = float(max_norm) / (total_norm + 1e-6)
        clip_coef_clamped = clip_coef.clamp(max=1.0)
        for g in grads:
            g.mul_(clip_coef_clamped.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Clip the gradient norm of ``parameters`` in place.

    The norm is computed over all gradients together, as if they were
    concatenated into one vector.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clipped.
    max_norm : float
        The largest allowed norm.
    norm_type : float, default 2.0
        Order of the norm; ``inf`` for the max norm.
    error_if_nonfinite : bool, default False
        Raise when the total norm is nan or inf.
    foreach : bool, optional
        Accepted for compatibility.

    Returns
    -------
    Tensor
        The total norm of the gradients before clipping (0-d).

    Notes
    -----
    A sparse gradient (``Embedding(sparse=True)``) counts with the norm of its
    coalesced values and is scaled in place; PyTorch 2.13 raises
    NotImplementedError for it.

    Examples
    --------
    >>> import ember
    >>> p = ember.nn.Parameter(ember.zeros(2))
    >>> p.grad = ember.tensor([3.0, 4.0])
    >>> ember.nn.utils.clip_grad_norm_([p], max_norm=1.0)
    tensor(5.)
    >>> p.grad
    tensor([0.6000, 0.8000])
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        parameters = list(parameters)
    grads = _grads(parameters)
    if not grads:
        return ember.tensor(0.0)
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of :func:`clip_grad_norm_`: warns (FutureWarning), then calls it, as
    PyTorch's.

    Returns
    -------
    Tensor
        The total norm of the gradients before clipping (0-d).
    """
    warnings.warn("`ember.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`ember.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp the gradients of ``parameters`` to ``[-clip_value, clip_value]`` in place.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    clip_value : float
    foreach : bool, optional
        Accepted for compatibility.
    """
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            if not isinstance(g, Tensor):
                raise NotImplementedError("clip_grad_value_: sparse gradients are not "
                                          "supported (as in PyTorch)")
            g.clamp_(min=-clip_value, max=clip_value)
