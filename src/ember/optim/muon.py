"""Muon (Keller Jordan's MomentUm Orthogonalized by Newton-Schulz), as ``torch.optim.Muon``."""
import math

import ember

from ember.optim.optimizer import _PerParameterOptimizer

__all__ = ["Muon"]

# the constants of Keller Jordan's post (https://kellerjordan.github.io/posts/muon/)
EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """``grad`` (2-d) orthogonalised by ``ns_steps`` quintic Newton-Schulz iterations, in
    bfloat16 as torch: about ``U S' V^T`` with ``S'`` near 1 (not exactly ``U V^T``)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    ortho = grad.bfloat16()
    tall = grad.size(0) > grad.size(1)
    if tall:
        ortho = ortho.T
    # the Frobenius norm bounds the spectral norm: singular values start at most 1
    ortho = ortho / ortho.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = ortho @ ortho.T
        gram_update = ember.addmm(gram, gram, gram, beta=b, alpha=c)
        ortho = ember.addmm(ortho, gram_update, ortho, beta=a)
    return ortho.T if tall else ortho


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    """``lr`` scaled for a ``(A, B)`` matrix: ``sqrt(max(1, A/B))`` ("original", the
    default) or ``0.2 sqrt(max(A, B))`` ("match_rms_adamw", AdamW's update RMS)."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(_PerParameterOptimizer):
    """Muon: SGD momentum whose update is orthogonalised by Newton-Schulz iterations, for
    the 2-d weights of hidden layers (biases, embeddings and the rest belong with another
    optimizer, such as AdamW).

    Each step: ``buf = momentum * buf + (1 - momentum) * grad`` (a lerp), the update is
    ``grad.lerp(buf, momentum)`` with ``nesterov`` else ``buf``, orthogonalised in
    bfloat16 (``ns_steps`` quintic iterations with ``ns_coefficients``, after dividing by
    its Frobenius norm, at least ``eps``); then ``param *= 1 - lr * weight_decay`` and
    ``param -= adjusted_lr * update``, ``adjusted_lr`` following ``adjust_lr_fn``.  This
    is ``torch.optim.Muon``'s algorithm.

    Parameters
    ----------
    params : iterable
        2-d tensors or parameter-group dicts to optimize.
    lr : float or Tensor, optional
        Learning rate (default 1e-3).
    weight_decay : float, optional
        Decoupled weight decay (default 0.1).
    momentum : float, optional
        Momentum factor (default 0.95).
    nesterov : bool, optional
        Nesterov momentum (default True).
    ns_coefficients : tuple of 3 float, optional
        ``(a, b, c)`` of the Newton-Schulz polynomial (default (3.4445, -4.775, 2.0315)).
    eps : float, optional
        Floor of the norm the update is divided by (default 1e-7).
    ns_steps : int, optional
        Newton-Schulz iterations, < 100 (default 5).
    adjust_lr_fn : {None, 'original', 'match_rms_adamw'}, optional
        Learning-rate scaling by the matrix's shape (None: 'original').

    Examples
    --------
    >>> import ember
    >>> w = ember.ones(3, 2, requires_grad=True)
    >>> opt = ember.optim.Muon([w], lr=0.02)
    >>> (w * ember.arange(6.0).reshape(3, 2)).sum().backward()
    >>> opt.step()
    >>> sorted(opt.state[w])
    ['momentum_buffer']
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, ember.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                        nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
                        ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    _sparse_error = "Muon does not support sparse gradients"

    def _update(self, p, grad, state, group):
        if p.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = ember.zeros_like(grad)
        lr = group["lr"]
        if isinstance(lr, ember.Tensor) and lr.dim() != 0:
            lr = lr.squeeze()
        momentum = group["momentum"]
        buf = state["momentum_buffer"]
        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if group["nesterov"] else buf
        update = _zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                             group["ns_steps"], group["eps"])
        # a tensor lr stays one: the decay factor and the step are rounded to its dtype,
        # as in PyTorch
        p.mul_(1 - lr * group["weight_decay"])
        p.add_(update, alpha=-float(_adjust_lr(lr, group["adjust_lr_fn"], p.shape)))
