"""``ember.amp.GradScaler``: dynamic loss scaling for float16 training, with PyTorch's
names, checks and scale sequence.  Every step stays on the device: the inf/NaN check,
the unscaling and the scale update are ember ops on 0-d tensors, and only ``step``
reads one number per device (whether to skip the optimizer's step)."""
import enum
import warnings
from collections import defaultdict

import ember

__all__ = ["GradScaler", "OptState"]


class OptState(enum.Enum):
    """Where an optimizer is in the iteration: grads not unscaled yet, unscaled, stepped."""
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class _PerDevice:
    """A 0-d tensor and its copies on the other devices it is asked for (made once)."""

    def __init__(self, master):
        self.master = master
        self.copies = {}

    def get(self, device):
        value = self.copies.get(str(device))
        if value is None:
            value = self.copies[str(device)] = self.master.to(device)
        return value


def non_finite_check_and_unscale_(grads, found_inf, inv_scale):
    """Multiply each of ``grads`` by ``inv_scale`` in place and set ``found_inf`` (a 0-d
    float32 tensor) to 1 when an element of a gradient was inf or NaN: ember's
    ``_amp_foreach_non_finite_check_and_unscale_``, queued on the device without reading
    anything back.

    Parameters
    ----------
    grads : list of Tensor
        Gradients on one device (any floating dtypes).
    found_inf, inv_scale : Tensor
        0-d float32 tensors on that device.
    """
    backend = _cuda_backend(found_inf)
    if backend is not None:
        backend.non_finite_check_and_unscale_(grads, found_inf, inv_scale)
        return
    for grad in grads:
        bad = ember.logical_not(ember.isfinite(grad)).any()
        found_inf.copy_(ember.maximum(found_inf, bad.to(ember.float32)))
        grad.mul_(inv_scale)


def update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor,
                  growth_interval):
    """Update ``scale`` and ``growth_tracker`` in place, on the device (ember's
    ``_amp_update_scale_``): back off and restart counting after a step with inf/NaN
    gradients, grow after ``growth_interval`` good steps in a row (when the grown scale
    is finite).

    Parameters
    ----------
    scale : Tensor
        0-d float32.
    growth_tracker : Tensor
        0-d int32, the good steps since the last change.
    found_inf : Tensor
        0-d float32, nonzero when the step had inf/NaN gradients.
    growth_factor, backoff_factor : float
    growth_interval : int
    """
    skipped = found_inf > 0
    successful = growth_tracker + 1
    grow = ember.logical_and(ember.logical_not(skipped), successful == growth_interval)
    grown = scale * growth_factor
    kept = ember.where(ember.logical_and(grow, ember.isfinite(grown)), grown, scale)
    scale.copy_(ember.where(skipped, scale * backoff_factor, kept))
    growth_tracker.copy_(ember.where(ember.logical_or(skipped, grow),
                                     ember.zeros_like(successful), successful))


def _cuda_backend(t):
    """The CUDA backend for a tensor on a GPU, else None (the CPU never imports it)."""
    if t.device.type != "cuda":
        return None
    from ember.cuda import _amp
    return _amp


class GradScaler:
    """Dynamic loss scaling for mixed precision training.

    ``scale(loss).backward()`` makes float16 gradients that would underflow
    representable; ``step(optimizer)`` unscales the gradients (unless
    :meth:`unscale_` already did) and skips the optimizer's step when one of them
    has an inf or NaN; ``update()`` halves the scale after such a step and doubles
    it after ``growth_interval`` good steps in a row.

    Parameters
    ----------
    device : str, default 'cuda'
        Device type of the scale (``'cuda'`` or ``'cpu'``).
    init_scale : float, default 2.0**16
    growth_factor : float, default 2.0
    backoff_factor : float, default 0.5
    growth_interval : int, default 2000
    enabled : bool, default True
        False makes every method a pass-through (``scale`` returns its input, ``step``
        calls ``optimizer.step()``).

    Examples
    --------
    >>> import ember
    >>> model = ember.nn.Linear(4, 1)
    >>> opt = ember.optim.SGD(model.parameters(), lr=0.1)
    >>> scaler = ember.amp.GradScaler("cpu")
    >>> with ember.autocast("cpu"):
    ...     loss = model(ember.ones(2, 4)).float().pow(2).mean()
    >>> scaler.scale(loss).backward()
    >>> scaler.step(opt)
    >>> scaler.update()
    >>> scaler.get_scale()
    65536.0
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not ember.cuda.is_available():
            warnings.warn("ember.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None                  # made on the device of the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname):
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  This may indicate "
                                 "your script did not use scaler.scale(loss or outputs) "
                                 "earlier in the iteration.")
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, device):
        self._scale = ember.full((), self._init_scale, dtype=ember.float32, device=device)
        self._growth_tracker = ember.full((), self._init_growth_tracker, dtype=ember.int32,
                                          device=device)

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists and tuples of them) times the scale.

        Parameters
        ----------
        outputs : Tensor or iterable of Tensors

        Returns
        -------
        Tensor or iterable of Tensors
        """
        if not self._enabled:
            return outputs
        if isinstance(outputs, ember.Tensor):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            return outputs * self._scale.to(outputs.device)
        stash = []

        def apply_scale(value):
            if isinstance(value, ember.Tensor):
                if not stash:
                    if self._scale is None:
                        self._lazy_init_scale_growth_tracker(value.device)
                    stash.append(_PerDevice(self._scale))
                return value * stash[0].get(value.device)
            if isinstance(value, (list, tuple)):
                return type(value)(map(apply_scale, value))
            if hasattr(value, "__iter__"):
                return map(apply_scale, value)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        per_device_inv_scale = _PerDevice(inv_scale)
        per_device_found_inf = _PerDevice(found_inf)
        # one fused call per (device, dtype): there may be hundreds of gradients
        groups = defaultdict(lambda: defaultdict(list))
        with ember.no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    if not allow_fp16 and param.grad.dtype == ember.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    groups[str(param.grad.device)][param.grad.dtype].append(param.grad)
            for device, per_dtype in groups.items():
                for grads in per_dtype.values():
                    non_finite_check_and_unscale_(grads, per_device_found_inf.get(device),
                                                  per_device_inv_scale.get(device))
        return dict(per_device_found_inf.copies)

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale, in place (to clip them, say),
        and note whether one had an inf or NaN.

        Parameters
        ----------
        optimizer : ember.optim.Optimizer
        """
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64: float32 division can be inexact
        inv_scale = self._scale.double().reciprocal().float()
        found_inf = ember.full((), 0.0, dtype=ember.float32, device=self._scale.device)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf,
                                                             False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale ``optimizer``'s gradients if :meth:`unscale_` did not, then run
        ``optimizer.step(*args, **kwargs)`` unless a gradient had an inf or NaN.

        Parameters
        ----------
        optimizer : ember.optim.Optimizer
        *args, **kwargs
            Passed to ``optimizer.step`` (a ``closure`` is not supported).

        Returns
        -------
        object
            What ``optimizer.step`` returned, None when the step was skipped.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Set the scale for the next iteration: ``new_scale`` when given, else from
        whether this iteration's gradients had an inf or NaN.

        Parameters
        ----------
        new_scale : float or Tensor, optional
        """
        if not self._enabled:
            return
        scale, growth_tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element ember.Tensor with "
                          "requires_grad=False.")
                if (new_scale.device.type != self._device or new_scale.numel() != 1
                        or new_scale.requires_grad):
                    raise AssertionError(reason)
                scale.copy_(new_scale.reshape(()))
        else:
            found_infs = [found_inf.to(scale.device)
                          for state in self._per_optimizer_states.values()
                          for found_inf in state["found_inf_per_device"].values()]
            if not found_infs:
                raise AssertionError("No inf checks were recorded prior to update.")
            combined = found_infs[0]
            for found_inf in found_infs[1:]:
                combined = combined + found_inf
            update_scale_(scale, growth_tracker, combined, self._growth_factor,
                          self._backoff_factor, self._growth_interval)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def get_scale(self):
        """The current scale as a Python float (reads it from the device); 1.0 when
        disabled.

        Returns
        -------
        float
        """
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        """The factor the scale grows by.

        Returns
        -------
        float
        """
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Set the factor the scale grows by.

        Parameters
        ----------
        new_factor : float
        """
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        """The factor the scale backs off by.

        Returns
        -------
        float
        """
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Set the factor the scale backs off by.

        Parameters
        ----------
        new_factor : float
        """
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        """The number of good steps in a row after which the scale grows.

        Returns
        -------
        int
        """
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Set the number of good steps in a row after which the scale grows.

        Parameters
        ----------
        new_interval : int
        """
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return int(self._growth_tracker.item())

    def is_enabled(self):
        """Whether this scaler is enabled.

        Returns
        -------
        bool
        """
        return self._enabled

    def state_dict(self):
        """The scaler's state: ``scale``, ``growth_factor``, ``backoff_factor``,
        ``growth_interval`` and ``_growth_tracker`` (empty when disabled).

        Returns
        -------
        dict
        """
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        """Restore a state from :meth:`state_dict` (nothing when disabled).

        Parameters
        ----------
        state_dict : dict
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])
