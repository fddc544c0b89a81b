"""Stochastic weight averaging and exponential moving averages of a model's weights, as
``torch.optim.swa_utils``: :class:`AveragedModel`, :class:`SWALR`, :func:`update_bn`
and the averaging functions.

Examples
--------
>>> import ember
>>> from ember import nn
>>> from ember.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
>>> model = nn.Linear(2, 1)
>>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
>>> ema.update_parameters(model)          # the first update copies the weights
>>> with ember.no_grad():
...     _ = model.weight.add_(1.0)
>>> ema.update_parameters(model)          # then 0.9 * average + 0.1 * model
>>> ember.allclose(ema.module.weight, model.weight - 0.9)
True
>>> int(ema.n_averaged)
2
"""
import copy
import itertools
import math
import warnings

import ember
from ember.nn.modules.module import Module
from ember.nn.modules.normalization import _BatchNorm
from ember.optim._lr_base import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """The in-place exponential moving average of lists of parameters:
    ``ema = decay * ema + (1 - decay) * current``.

    Parameters
    ----------
    decay : float, optional
        In [0, 1].

    Returns
    -------
    callable
        ``fn(ema_params, current_params, num_averaged)``, updating ``ema_params`` in place.
    """
    _check_decay(decay)

    def ema_update(ema_params, current_params, num_averaged):
        with ember.no_grad():
            for ema, current in zip(ema_params, current_params):
                if ema.is_floating_point() or ema.is_complex():
                    ema.lerp_(current, 1 - decay)
                else:
                    ema.copy_(ema * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """The in-place running mean of lists of parameters:
    ``average += (current - average) / (num_averaged + 1)``.

    Returns
    -------
    callable
        ``fn(averaged_params, current_params, num_averaged)``.
    """
    def swa_update(averaged_params, current_params, num_averaged):
        count = int(num_averaged) + 1
        with ember.no_grad():
            for average, current in zip(averaged_params, current_params):
                if average.is_floating_point() or average.is_complex():
                    average.lerp_(current, 1 / count)
                else:
                    average.copy_(average + (current - average) / count)
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average of one parameter (returns the new value).

    Parameters
    ----------
    decay : float, optional
        In [0, 1].

    Returns
    -------
    callable
        ``fn(ema_param, current_param, num_averaged) -> Tensor``.
    """
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with ember.no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The running mean of one parameter (returns the new value).

    Returns
    -------
    callable
        ``fn(averaged_param, current_param, num_averaged) -> Tensor``.
    """
    def swa_update(averaged_param, current_param, num_averaged):
        with ember.no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are a running average of ``model``'s (SWA, by
    default) or an exponential moving average (EMA, with :func:`get_ema_multi_avg_fn`).

    Parameters
    ----------
    model : Module
        The model to average (deep-copied).
    device : str or ember.device, optional
        Where the copy lives.
    avg_fn : callable, optional
        ``fn(averaged, current, num_averaged) -> Tensor`` for one parameter.
    multi_avg_fn : callable, optional
        ``fn(averaged_list, current_list, num_averaged)`` updating in place; only one of
        ``avg_fn`` and ``multi_avg_fn`` may be given (neither: the equal-weight SWA mean).
    use_buffers : bool, optional
        Average the buffers too (else they are copied from ``model`` at each update).

    Notes
    -----
    The first :meth:`update_parameters` copies ``model``'s parameters; ``n_averaged`` (a
    buffer, in the state dict) counts the updates.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ember.tensor(0, dtype=ember.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters into the average.

        Parameters
        ----------
        model : Module
            A model with the same parameters (and buffers) as the averaged one.
        """
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        averaged, current = [], []
        first = int(self.n_averaged) == 0
        with ember.no_grad():
            for p_averaged, p_model in zip(mine, theirs):
                p_model = p_model.detach().to(p_averaged.device)
                averaged.append(p_averaged.detach())
                current.append(p_model)
                if first:
                    p_averaged.detach().copy_(p_model)
            if not first:
                if self.multi_avg_fn is not None:
                    self.multi_avg_fn(averaged, current, self.n_averaged)
                else:
                    # the plain mean, one parameter at a time: PyTorch's path on the CPU
                    avg_fn = self.avg_fn or get_swa_avg_fn()
                    for p_averaged, p_model in zip(averaged, current):
                        p_averaged.copy_(avg_fn(p_averaged, p_model, self.n_averaged))
            if not self.use_buffers:
                for b_averaged, b_model in zip(self.module.buffers(), model.buffers()):
                    b_averaged.detach().copy_(b_model.detach().to(b_averaged.device))
            self.n_averaged += 1


def update_bn(loader, model, device=None):
    """Recompute the running statistics of ``model``'s batch-norm layers in one pass over
    ``loader`` (a cumulative average, as with ``momentum=None``).

    Parameters
    ----------
    loader : iterable
        Batches: tensors, or lists/tuples whose first item is the input.
    model : Module
    device : str or ember.device, optional
        Where to move each batch first.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with ember.no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs (cosine or
    linear), then hold it: the schedule of stochastic weight averaging.

    Parameters
    ----------
    optimizer : Optimizer
    swa_lr : float or list of float
        The target lr, for all groups or one per group.
    anneal_epochs : int, optional
        Epochs of the annealing phase (default 10; 0 jumps to ``swa_lr``).
    anneal_strategy : {'cos', 'linear'}, optional
    last_epoch : int, optional
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        for lr, group in zip(_format_param("swa_lr", optimizer, swa_lr),
                             optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t):
        return t if self._anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    def get_lr(self):
        """Return the lr of each group for the current step."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # the lr the annealing started from, recovered from the current one
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        lrs = []
        for group in self.optimizer.param_groups:
            start = group["swa_lr"] if prev_alpha == 1 else \
                (group["lr"] - prev_alpha * group["swa_lr"]) / (1 - prev_alpha)
            lrs.append(group["swa_lr"] * alpha + start * (1 - alpha))
        return lrs
