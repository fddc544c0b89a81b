"""Stochastic gradient descent."""
import ember

from ember._core import _optim as _fused
from ember.optim.optimizer import (Optimizer, _add_sparse_, _check_differentiable,
                                   _check_fused_args, _dense_grad, _params_with_grad,
                                   _run_closure, _split_sparse, _wants_fused)

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
    foreach : bool or None, optional
        ``False`` (with ``fused`` not True) updates each parameter with a chain of
        ember ops instead of the fused loop; None or True use the fused loop.
    differentiable : bool, optional
        Must be False: updates run in place without recording a graph.
    fused : bool or None, optional
        None or True (default None): contiguous float16, bfloat16, float32 and
        float64 CPU parameters of a group are updated by one fused multi-tensor loop
        (one pass over each parameter, gradient and momentum buffer, without the
        GIL); other parameters (complex, non-contiguous) by ember ops.  ``False``
        (with ``foreach`` not True) uses ember ops for all.  ``fused=True`` with
        ``foreach=True`` is a RuntimeError, as in PyTorch.

    Notes
    -----
    Sparse gradients (``Embedding(sparse=True)``) update only the rows they hold, by
    ember ops, as in PyTorch: with momentum the buffer is sparse too; ``weight_decay``
    and ``fused=True`` refuse them.

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
        _check_fused_args(fused, foreach, differentiable)
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
        params, grads, sparse_params, sparse_grads = _split_sparse(
            params, grads, None, group.get("fused"),
            "`_fused_sgd` does not support sparse gradients")
        if _wants_fused(group):
            params, grads = self._fused_update(group, params, grads)
        params, grads = params + sparse_params, grads + sparse_grads
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
            if isinstance(grad, ember.Tensor):
                p.add_(grad, alpha=-lr)
            else:
                _add_sparse_(p, grad, -lr)

    def _fused_update(self, group, params, grads):
        """Update the parameters the fused loop takes, in one call; return the others."""
        with_momentum = group["momentum"] != 0
        fused_params, fused_grads, buffers, new_buffer = [], [], [], []
        rest_params, rest_grads = [], []
        for p, grad in zip(params, grads):
            grad = _dense_grad(p, grad)
            buf = self.state[p].get("momentum_buffer") if with_momentum else None
            fresh = with_momentum and buf is None
            if fresh:
                buf = ember.empty_like(p)
            if _fused.fusable(p, grad, (buf,) if with_momentum else (), kind="sgd"):
                if fresh:
                    self.state[p]["momentum_buffer"] = buf
                fused_params.append(p)
                fused_grads.append(grad)
                buffers.append((buf,) if with_momentum else ())
                new_buffer.append(fresh)
            else:
                rest_params.append(p)
                rest_grads.append(grad)
        if fused_params:
            _fused.step("sgd", group, fused_params, fused_grads, buffers, None, new_buffer)
        return rest_params, rest_grads
