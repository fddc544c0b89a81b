"""Adafactor (PyTorch's variant of Shazeer and Stern's algorithm, one parameter at a time)."""
import ember

from ember.optim.optimizer import _PerParameterOptimizer, _scalar_step

__all__ = ["Adafactor"]


class Adafactor(_PerParameterOptimizer):
    """Adafactor: adaptive steps from factored second moments, with a relative step size.

    A parameter of two or more dimensions keeps running means of its squared gradient
    over its last dimension (``row_var``) and its second-to-last (``col_var``), whose
    outer product estimates the full second moment at a fraction of the memory; vectors
    and scalars keep the full ``variance``.  At step ``t`` the averages move towards the
    new statistics by ``t ** beta2_decay``; the update ``grad / sqrt(estimate)`` is
    clipped to an RMS of ``d`` and scaled by ``max(eps2, RMS(param)) * min(lr, 1/sqrt(t))``.
    This is ``torch.optim.Adafactor``'s algorithm: ``eps1`` is added to (clamps) the
    denominators, and ``lr`` both caps the relative step size and scales the weight decay
    (``param *= 1 - lr * weight_decay``).

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float or Tensor, optional
        Maximum relative step size and weight-decay scale (default 1e-2).
    beta2_decay : float, optional
        Decay rate of the second-moment averaging coefficient, <= 0 (default -0.8).
    eps : tuple of (float or None, float), optional
        ``(eps1, eps2)``: eps1 floors the variance estimates (None: the machine epsilon
        of the parameter's dtype), eps2 floors the parameter scale (default (None, 1e-3)).
    d : float, optional
        Clipping threshold of the update's RMS, >= 1 (default 1.0).
    weight_decay : float, optional
        Decoupled weight-decay coefficient (default 0.0).
    foreach : bool or None, optional
        Accepted for compatibility: every parameter is updated by the same ember ops.
    maximize : bool, optional
        Maximize the objective (default False).

    Examples
    --------
    >>> import ember
    >>> w = ember.ones(2, 3, requires_grad=True)
    >>> opt = ember.optim.Adafactor([w])
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> sorted(opt.state[w])
    ['col_var', 'row_var', 'step']
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, ember.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    _sparse_error = "Adafactor does not support sparse gradients"

    def _update(self, p, grad, state, group):
        if p.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        if len(state) == 0:
            state["step"] = _scalar_step()
            if grad.dim() > 1:
                state["row_var"] = grad.new_zeros(tuple(grad.shape[:-1]) + (1,))
                state["col_var"] = grad.new_zeros(tuple(grad.shape[:-2]) + (1, grad.shape[-1]))
            else:
                state["variance"] = ember.zeros_like(grad)
        if group["maximize"]:
            grad = -grad
        lr = group["lr"]
        if isinstance(lr, ember.Tensor) and lr.dim() != 0:
            lr = lr.squeeze()
        # a tensor lr stays one: rho, alpha and the decay factor are then rounded to its
        # dtype, as in PyTorch
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = ember.finfo(p.dtype).eps
        state["step"].add_(1)
        step = state["step"].item()
        # the averaging weight 1 - beta2_t and the relative step size rho_t
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, p.norm(2).item() / p.numel() ** 0.5) * rho
        if group["weight_decay"] != 0:
            p.mul_(1 - lr * group["weight_decay"])
        if grad.dim() > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_var.lerp_(ember.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1)),
                          one_minus_beta2)
            col_var.lerp_(ember.norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2)),
                          one_minus_beta2)
            # the rank-1 estimate row x col / mean(row) of the squared gradient's mean
            estimate = row_var @ col_var
            estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            state["variance"].lerp_(grad * grad, one_minus_beta2)
            estimate = state["variance"].clone()
        update = estimate.clamp_(min=eps1 * eps1).rsqrt_().mul_(grad)
        denom = max(1.0, update.norm(2).item() / (update.numel() ** 0.5 * group["d"]))
        p.add_(update, alpha=-alpha / denom)
