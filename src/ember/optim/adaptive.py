"""Per-coordinate adaptive methods: RMSprop, Adagrad, Adadelta (PyTorch's update rules)."""
import ember

from ember.optim.optimizer import (_PerParameterOptimizer, _check_differentiable,
                                   _check_fused_args, _decayed_grad, _real_views, _scalar_step)

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


def _check_nonnegative(**values):
    for name, value in values.items():
        if not 0.0 <= value:
            label = {"lr": "learning rate"}.get(name)
            raise ValueError(f"Invalid learning rate: {value}" if label
                             else f"Invalid {name} value: {value}")


class _Adaptive(_PerParameterOptimizer):
    """Gradients pass ``maximize`` and (coupled) weight decay before ``_adapt``."""

    def _update(self, p, grad, state, group):
        self._adapt(p, _decayed_grad(p, grad, group, False), state, group)

    def _fused_states(self, state, group):
        try:
            return tuple(state[name] for name in self._state_names(group))
        except KeyError:
            return None


class RMSprop(_Adaptive):
    """RMSprop: divide the gradient by a running root mean square of its history.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 1e-2).
    alpha : float, optional
        Smoothing constant of the squared-gradient average (default 0.99).
    eps : float, optional
        Added to the denominator (default 1e-8).
    weight_decay : float, optional
        L2 penalty (default 0).
    momentum : float, optional
        Momentum factor (default 0).
    centered : bool, optional
        Normalize by the estimated variance instead of the second moment (default False).
    capturable : optional
        Accepted for compatibility.
    foreach : bool or None, optional
        ``False`` updates each parameter with a chain of ember ops; None or True (the
        default None) update contiguous float CPU parameters with one fused loop.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_nonnegative(lr=lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay,
                           alpha=alpha)
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    _fused_kind = "rmsprop"
    _sparse_error = "RMSprop does not support sparse gradients"

    def _state_names(self, group):
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _init_state(self, p, state, group):
        state["step"] = _scalar_step()
        for name in self._state_names(group):
            state[name] = ember.zeros_like(p)

    def _adapt(self, p, grad, state, group):
        momentum, centered, alpha = group["momentum"], group["centered"], group["alpha"]
        if len(state) == 0:
            self._init_state(p, state, group)
        state["step"].add_(1)
        square_avg = state["square_avg"]
        grad_avg = state.get("grad_avg", square_avg)
        buf = state.get("momentum_buffer", square_avg)
        if p.is_complex():
            p, grad, square_avg, grad_avg, buf = _real_views(p, grad, square_avg, grad_avg, buf)
        square_avg.mul_(alpha).add_(grad * grad, alpha=1 - alpha)
        if centered:
            grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
            avg = (square_avg - grad_avg * grad_avg).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg.add_(group["eps"])
        if momentum > 0:
            buf.mul_(momentum).add_(grad / avg)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.add_(grad / avg, alpha=-group["lr"])


class Adagrad(_Adaptive):
    """Adagrad: scale each coordinate by the root of its summed squared gradients.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 1e-2).
    lr_decay : float, optional
        The step ``t`` uses ``lr / (1 + (t - 1) * lr_decay)`` (default 0).
    weight_decay : float, optional
        L2 penalty (default 0).
    initial_accumulator_value : float, optional
        Starting value of the squared-gradient sums (default 0); the constructor's
        value serves every group, as in PyTorch.
    eps : float, optional
        Added to the denominator (default 1e-10).
    foreach : bool or None, optional
        ``False`` (with ``fused`` not True) updates each parameter with a chain of
        ember ops; None or True use the fused loop.
    fused : bool or None, optional
        None or True (default None): contiguous float CPU parameters are updated by
        one fused multi-tensor loop, the others by ember ops; ``False`` (with
        ``foreach`` not True) uses ember ops for all.
    maximize : bool, optional
        Maximize the objective (default False).
    differentiable : bool, optional
        Must be False.

    Notes
    -----
    A sparse gradient (``Embedding(sparse=True)``) updates only the sums and the rows
    it holds, as in PyTorch; it takes no ``weight_decay`` and no ``fused=True``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        _check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_differentiable(differentiable)
        _check_fused_args(fused, foreach, differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state eagerly, so state_dict() holds it before any step
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    _fused_kind = "adagrad"

    def _state_names(self, group):
        return ("sum",)

    def _init_state(self, p, state, group):
        # the constructor's value, not the group's, as in PyTorch
        value = self.defaults["initial_accumulator_value"]
        state["step"] = _scalar_step()
        state["sum"] = ember.full_like(p, complex(value, value) if p.is_complex() else value)

    def _update(self, p, grad, state, group):
        if isinstance(grad, ember.Tensor):
            return super()._update(p, grad, state, group)
        if len(state) == 0:
            self._init_state(p, state, group)
        step = state["step"].add_(1).item()
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        # PyTorch's sparse update: only the rows present change (the update is not linear,
        # so repeated indices are summed first)
        grad = grad.coalesce()
        index, values = tuple(grad._indices()), grad._values()
        state_sum = state["sum"]
        state_sum.index_put_(index, values * values, accumulate=True)
        std = state_sum[index].sqrt().add_(group["eps"])
        p.index_put_(index, values / std * -clr, accumulate=True)

    def _adapt(self, p, grad, state, group):
        if len(state) == 0:  # a parameter added by add_param_group
            self._init_state(p, state, group)
        step = state["step"].add_(1).item()
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]
        if p.is_complex():
            p, grad, state_sum = _real_views(p, grad, state_sum)
        state_sum.add_(grad * grad)
        std = state_sum.sqrt().add_(group["eps"])
        p.add_(grad / std, alpha=-clr)


class Adadelta(_Adaptive):
    """Adadelta: step sizes from running averages of squared gradients and updates.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Scale applied to the computed update (default 1.0).
    rho : float, optional
        Decay of the running averages (default 0.9).
    eps : float, optional
        Added inside the square roots (default 1e-6).
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

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    _fused_kind = "adadelta"
    _sparse_error = "Adadelta does not support sparse gradients"

    def _state_names(self, group):
        return ("square_avg", "acc_delta")

    def _init_state(self, p, state, group):
        state["step"] = _scalar_step()
        for name in self._state_names(group):
            state[name] = ember.zeros_like(p)

    def _adapt(self, p, grad, state, group):
        if len(state) == 0:
            self._init_state(p, state, group)
        rho, eps = group["rho"], group["eps"]
        state["step"].add_(1)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        if p.is_complex():
            p, grad, square_avg, acc_delta = _real_views(p, grad, square_avg, acc_delta)
        square_avg.mul_(rho).add_(grad * grad, alpha=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).add_(delta * delta, alpha=1 - rho)
        p.add_(delta, alpha=-group["lr"])
