"""Stochastic gradient descent."""
import ember

from ember.optim.optimizer import Optimizer, _check_differentiable, _params_with_grad, _run_closure

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's update rule).

    With ``g`` the gradient (negated when ``maximize``), each step does::

        g = g + weight_decay * p
        b = g (first step)  or  b = momentum * b + (1 - dampening) * g
        g = g + momentum * b (nesterov)  or  g = b
        p = p - lr * g

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts to optimize.
    lr : float, optional
        Learning rate (default 1e-3).
    momentum : float, optional
        Momentum factor (default 0).
    dampening : float, optional
        Dampening of the momentum (default 0).
    weight_decay : float, optional
        L2 penalty (default 0).
    nesterov : bool, optional
        Use Nesterov momentum (default False).
    maximize : bool, optional
        Maximize the objective instead of minimizing it (default False).
    foreach, fused : bool or None, optional
        Accepted for compatibility; ember runs one loop over the parameters either way.
    differentiable : bool, optional
        Must be False: updates run in place without recording a graph.

    Examples
    --------
    >>> import ember
    >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = ember.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss.

        Returns
        -------
        object
            The closure's loss, or None.
        """
        loss = _run_closure(closure)
        with ember.no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group):
        params, grads = _params_with_grad(group)
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        maximize = group["maximize"]
        for p, grad in zip(params, grads):
            if maximize:
                grad = -grad
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = grad.detach().clone()
                    state["momentum_buffer"] = buf
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                grad = grad.add(buf, alpha=momentum) if nesterov else buf
            p.add_(grad, alpha=-lr)
