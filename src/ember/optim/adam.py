"""Adam and its relatives: AdamW, Adamax, NAdam, RAdam (PyTorch's update rules)."""
import math

import ember

from ember.optim.optimizer import (_PerParameterOptimizer, _check_differentiable,
                                   _check_fused_args, _decayed_grad, _real_views, _scalar_step)

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


def _check_adam_args(lr, betas, eps, weight_decay):
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _moments(state, p, names):
    """The state of ``p``, created (step counter and zero buffers ``names``) on first use."""
    if len(state) == 0:
        state["step"] = _scalar_step()
        for name in names:
            state[name] = ember.zeros_like(p)
    return state


def _buffers(state, names):
    """The state tensors ``names`` in this order, or None if one is missing."""
    try:
        return tuple(state[name] for name in names)
    except KeyError:
        return None


class _MomentOptimizer(_PerParameterOptimizer):
    """An Adam-family optimizer whose state is a step counter and zero buffers
    ``_state_names(group)``, created on first use."""

    def _state_names(self, group):
        return ("exp_avg", "exp_avg_sq")

    def _init_state(self, p, state, group):
        _moments(state, p, self._state_names(group))

    def _fused_states(self, state, group):
        return _buffers(state, self._state_names(group))


class Adam(_MomentOptimizer):
    """Adam (Kingma & Ba), with optional AMSGrad and decoupled weight decay.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 1e-3).
    betas : tuple of float, optional
        Decay rates of the first and second moment estimates (default (0.9, 0.999)).
    eps : float, optional
        Added to the denominator for stability (default 1e-8).
    weight_decay : float, optional
        L2 penalty, or decoupled decay with ``decoupled_weight_decay`` (default 0).
    amsgrad : bool, optional
        Use the running maximum of the second moment (default False).
    foreach : bool or None, optional
        ``False`` (with ``fused`` not True) updates each parameter with a chain of
        ember ops instead of the fused loop; None or True use the fused loop.
    capturable : bool, optional
        Accepted for compatibility; it does not change the result.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.
    fused : bool or None, optional
        None or True (default None): contiguous float16, bfloat16, float32 and
        float64 CPU parameters of a group are updated by one fused multi-tensor loop
        (one pass over each parameter and its state, without the GIL); other
        parameters (complex, non-contiguous) by ember ops.  ``False`` (with
        ``foreach`` not True) uses ember ops for all.  ``fused=True`` with
        ``foreach=True`` is a RuntimeError, as in PyTorch.
    decoupled_weight_decay : bool, optional
        Decay the parameters directly, as AdamW does (default False).

    Examples
    --------
    >>> import ember
    >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = ember.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_differentiable(differentiable)
        _check_fused_args(fused, foreach, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    _fused_kind = "adam"
    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def _state_names(self, group):
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def _update(self, p, grad, state, group):
        amsgrad = group["amsgrad"]
        state = _moments(state, p, self._state_names(group))
        beta1, beta2 = group["betas"]
        step = state["step"].add_(1).item()
        grad = _decayed_grad(p, grad, group, group["decoupled_weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        max_sq = state["max_exp_avg_sq"] if amsgrad else exp_avg_sq
        if p.is_complex():
            p, grad, exp_avg, exp_avg_sq, max_sq = _real_views(p, grad, exp_avg, exp_avg_sq, max_sq)
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
        step_size = group["lr"] / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if amsgrad:
            ember.maximum(max_sq, exp_avg_sq, out=max_sq)
            denom = max_sq.sqrt()
        else:
            denom = exp_avg_sq.sqrt()
        denom.div_(bias_correction2_sqrt).add_(group["eps"])
        p.add_(exp_avg / denom, alpha=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter).

    Same parameters as :class:`Adam`, with ``weight_decay`` defaulting to 1e-2 and the
    decay applied to the parameters directly (``p *= 1 - lr * weight_decay``).

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 1e-3).
    betas : tuple of float, optional
        Moment decay rates (default (0.9, 0.999)).
    eps : float, optional
        Denominator term (default 1e-8).
    weight_decay : float, optional
        Decoupled weight decay (default 1e-2).
    amsgrad : bool, optional
        Use AMSGrad (default False).
    maximize, foreach, capturable, differentiable, fused : optional
        As for :class:`Adam` (``fused``: the fused multi-tensor loop).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


class Adamax(_MomentOptimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 2e-3).
    betas : tuple of float, optional
        Decay rates of the first moment and the infinity norm (default (0.9, 0.999)).
    eps : float, optional
        Added to ``|g|`` (default 1e-8).
    weight_decay : float, optional
        L2 penalty (default 0).
    foreach : bool or None, optional
        ``False`` updates each parameter with a chain of ember ops; None or True (the
        default None) update contiguous float CPU parameters with one fused loop.
    capturable : optional
        Accepted for compatibility.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    _fused_kind = "adamax"
    _sparse_error = "Adamax does not support sparse gradients"

    def _state_names(self, group):
        return ("exp_avg", "exp_inf")

    def _update(self, p, grad, state, group):
        state = _moments(state, p, ("exp_avg", "exp_inf"))
        beta1, beta2 = group["betas"]
        step = state["step"].add_(1).item()
        grad = _decayed_grad(p, grad, group, False)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        if p.is_complex():
            p, grad, exp_avg, exp_inf = _real_views(p, grad, exp_avg, exp_inf)
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        ember.maximum(exp_inf.mul_(beta2), grad.abs().add_(group["eps"]), out=exp_inf)
        clr = group["lr"] / (1 - beta1 ** step)
        p.add_(exp_avg / exp_inf, alpha=-clr)


class NAdam(_MomentOptimizer):
    """NAdam: Adam with Nesterov momentum and a momentum-decay schedule.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 2e-3).
    betas : tuple of float, optional
        Moment decay rates (default (0.9, 0.999)).
    eps : float, optional
        Denominator term (default 1e-8).
    weight_decay : float, optional
        L2 penalty, or decoupled decay (default 0).
    momentum_decay : float, optional
        The momentum schedule's decay ``psi`` (default 4e-3).
    decoupled_weight_decay : bool, optional
        Decay the parameters directly, as AdamW does (default False).
    foreach : bool or None, optional
        ``False`` updates each parameter with a chain of ember ops; None or True (the
        default None) update contiguous float CPU parameters with one fused loop.
    capturable : optional
        Accepted for compatibility.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    _fused_kind = "nadam"
    _sparse_error = "NAdam does not support sparse gradients"

    def _init_state(self, p, state, group):
        state["step"] = _scalar_step()
        state["mu_product"] = _scalar_step().add_(1)
        state["exp_avg"] = ember.zeros_like(p)
        state["exp_avg_sq"] = ember.zeros_like(p)

    def _update(self, p, grad, state, group):
        if len(state) == 0:
            self._init_state(p, state, group)
        beta1, beta2 = group["betas"]
        lr, momentum_decay = group["lr"], group["momentum_decay"]
        step = state["step"].add_(1).item()
        bias_correction2 = 1 - beta2 ** step
        grad = _decayed_grad(p, grad, group, group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # the running product lives in a (float32) tensor, as in PyTorch
        mu_product = state["mu_product"].mul_(mu).item()
        mu_product_next = mu_product * mu_next
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if p.is_complex():
            p, grad, exp_avg, exp_avg_sq = _real_views(p, grad, exp_avg, exp_avg_sq)
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(group["eps"])
        p.add_(grad / denom, alpha=-lr * (1.0 - mu) / (1.0 - mu_product))
        p.add_(exp_avg / denom, alpha=(-lr * mu_next) / (1.0 - mu_product_next))


class RAdam(_MomentOptimizer):
    """RAdam: Adam with a rectified adaptive learning rate.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 1e-3).
    betas : tuple of float, optional
        Moment decay rates (default (0.9, 0.999)).
    eps : float, optional
        Denominator term (default 1e-8).
    weight_decay : float, optional
        L2 penalty, or decoupled decay (default 0).
    decoupled_weight_decay : bool, optional
        Decay the parameters directly, as AdamW does (default False).
    foreach : bool or None, optional
        ``False`` updates each parameter with a chain of ember ops; None or True (the
        default None) update contiguous float CPU parameters with one fused loop.
    capturable : optional
        Accepted for compatibility.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _fused_kind = "radam"
    _sparse_error = "RAdam does not support sparse gradients"

    def _update(self, p, grad, state, group):
        state = _moments(state, p, ("exp_avg", "exp_avg_sq"))
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        step = state["step"].add_(1).item()
        grad = _decayed_grad(p, grad, group, group["decoupled_weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if p.is_complex():
            p, grad, exp_avg, exp_avg_sq = _real_views(p, grad, exp_avg, exp_avg_sq)
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = exp_avg_sq.sqrt().add_(group["eps"])
            scale = lr * rect * bias_correction2 ** 0.5 / bias_correction1
            p.add_(exp_avg / denom, alpha=-scale)
        else:
            p.add_(exp_avg, alpha=-lr / bias_correction1)
