"""Rprop and ASGD (PyTorch's update rules, one parameter at a time)."""
import ember

from ember.optim.optimizer import (_PerParameterOptimizer, _check_differentiable, _real_views,
                                   _scalar_step)

__all__ = ["Rprop", "ASGD"]


class Rprop(_PerParameterOptimizer):
    """Resilient backpropagation: per-coordinate step sizes driven by gradient signs.

    A coordinate whose gradient keeps its sign grows its step size by ``etas[1]``;
    one whose gradient flips shrinks it by ``etas[0]`` and skips that update. Step
    sizes stay within ``step_sizes``; the parameter moves by ``-sign(g) * step_size``.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Initial step size (default 1e-2).
    etas : tuple of float, optional
        ``(etaminus, etaplus)`` with ``0 < etaminus < 1 < etaplus`` (default (0.5, 1.2)).
    step_sizes : tuple of float, optional
        Minimal and maximal step sizes (default (1e-6, 50)).
    capturable, foreach : optional
        Accepted for compatibility; they do not change the result.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.

    Examples
    --------
    >>> import ember
    >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = ember.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    _sparse_error = "Rprop does not support sparse gradients"

    def _update(self, p, grad, state, group):
        if len(state) == 0:
            state["step"] = _scalar_step()
            state["prev"] = ember.zeros_like(p)
            lr = group["lr"]
            state["step_size"] = ember.full_like(p, complex(lr, lr) if p.is_complex() else lr)
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        state["step"].add_(1)
        if group["maximize"]:
            grad = -grad
        prev, step_size = state["prev"], state["step_size"]
        if p.is_complex():
            p, grad, prev, step_size = _real_views(p, grad, prev, step_size)
        sign = (grad * prev).sign()
        flipped = sign < 0
        factor = sign.masked_fill(sign > 0, etaplus).masked_fill_(flipped, etaminus)
        factor.masked_fill_(sign == 0, 1)
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)
        # a coordinate whose gradient changed sign does not move this step
        grad = grad.masked_fill(flipped, 0)
        p.sub_(grad.sign() * step_size)
        prev.copy_(grad)


class ASGD(_PerParameterOptimizer):
    """Averaged stochastic gradient descent (Polyak & Juditsky).

    Each step decays and updates ``p`` with the step size ``eta``, then updates the
    running average ``ax`` of the iterates (from step ``t0`` on); ``eta`` and the
    averaging weight ``mu`` follow PyTorch's schedules and are kept, like PyTorch,
    as float32 zero-dim tensors.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 1e-2).
    lambd : float, optional
        Decay term (default 1e-4).
    alpha : float, optional
        Power of the ``eta`` schedule (default 0.75).
    t0 : float, optional
        Step at which averaging starts (default 1e6).
    weight_decay : float, optional
        L2 penalty (default 0).
    foreach, capturable : optional
        Accepted for compatibility; they do not change the result.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.

    Examples
    --------
    >>> import ember
    >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = ember.optim.ASGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    _sparse_error = "ASGD does not support sparse gradients"

    def _update(self, p, grad, state, group):
        if len(state) == 0:
            state["step"] = _scalar_step()
            state["eta"] = _scalar_step().add_(group["lr"])
            state["mu"] = _scalar_step().add_(1)
            state["ax"] = ember.zeros_like(p)
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
        if group["maximize"]:
            grad = -grad
        ax = state["ax"]
        if p.is_complex():
            p, grad, ax = _real_views(p, grad, ax)
        step = state["step"].add_(1).item()
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        eta = state["eta"].item()
        p.mul_(1 - lambd * eta)
        p.add_(grad, alpha=-eta)
        mu = state["mu"].item()
        if mu != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
        # new values pass through the default float dtype (PyTorch's torch.as_tensor),
        # also when loading made the state tensors float64
        state["eta"].copy_(ember.tensor(lr / ((1 + lambd * lr * step) ** alpha)))
        state["mu"].copy_(ember.tensor(1 / max(1, step - t0)))
