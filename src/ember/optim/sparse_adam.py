"""SparseAdam: Adam restricted to the rows a sparse gradient holds."""
import math

import ember
from ember.optim.optimizer import Optimizer, _run_closure

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam for sparse gradients (``nn.Embedding(sparse=True)``), PyTorch's algorithm.

    Only the moments and parameter entries a gradient specifies are updated (lazily):
    with ``g`` the coalesced gradient values (negated when ``maximize``) and ``t`` the
    parameter's step count, for those entries only::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        p = p - lr * sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * m / (sqrt(v) + eps)

    Parameters
    ----------
    params : iterable
        Dense tensors or parameter-group dicts to optimize (their gradients must be
        sparse).
    lr : float, optional
        Learning rate (default 1e-3).
    betas : tuple of two floats, optional
        Decay rates of the moment averages (default ``(0.9, 0.999)``).
    eps : float, optional
        Added to the denominator (default 1e-8).
    maximize : bool, optional
        Maximize the objective instead of minimizing it (default False).

    Raises
    ------
    ValueError
        For a bad option or a complex parameter.
    RuntimeError
        From :meth:`step`, for a dense gradient (use :class:`Adam`).

    Examples
    --------
    >>> import ember
    >>> emb = ember.nn.Embedding(4, 2, sparse=True)
    >>> opt = ember.optim.SparseAdam(emb.parameters(), lr=0.1)
    >>> before = emb.weight.detach().clone()
    >>> emb(ember.tensor([1, 3])).sum().backward()
    >>> emb.weight.grad.is_sparse
    True
    >>> opt.step()
    >>> (emb.weight != before).any(1)
    tensor([False,  True, False,  True])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, ember.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        complex_params = [[i, k] for i, group in enumerate(self.param_groups)
                          for k, p in enumerate(group["params"]) if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

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
                # the whole group is checked before any update, as in PyTorch
                todo = []
                for p in group["params"]:
                    grad = p.grad
                    if grad is None:
                        continue
                    if isinstance(grad, ember.Tensor):
                        raise RuntimeError("SparseAdam does not support dense gradients, "
                                           "please consider Adam instead")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = ember.zeros_like(p)
                        state["exp_avg_sq"] = ember.zeros_like(p)
                    state["step"] += 1
                    todo.append((p, grad, state))
                for p, grad, state in todo:
                    self._update(p, grad, state, group)
        return loss

    @staticmethod
    def _update(p, grad, state, group):
        beta1, beta2 = group["betas"]
        lr = float(group["lr"])
        if group["maximize"]:
            grad = -grad
        grad = grad.coalesce()      # the update is not linear: repeated indices add first
        values = grad._values()
        if values.numel() == 0:
            return
        index = tuple(grad._indices())
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        # old <- b * old + (1 - b) * new, as old += (1 - b) * (new - old) on the rows present
        old_avg = exp_avg[index]
        avg_update = (values - old_avg) * (1 - beta1)
        exp_avg.index_put_(index, avg_update, accumulate=True)
        old_sq = exp_avg_sq[index]
        sq_update = (values * values - old_sq) * (1 - beta2)
        exp_avg_sq.index_put_(index, sq_update, accumulate=True)
        numer = avg_update + old_avg
        denom = (sq_update + old_sq).sqrt_().add_(group["eps"])
        step = state["step"]
        step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        p.index_put_(index, -step_size * (numer / denom), accumulate=True)
