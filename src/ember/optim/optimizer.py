"""The :class:`Optimizer` base class: parameter groups, per-parameter state,
``state_dict``/``load_state_dict`` and step hooks, laid out as in PyTorch."""
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

import ember
from ember._core import _optim as _fused

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an optimizer default that every parameter group must set."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class _HookHandle:
    """Handle returned by the ``register_*_hook`` methods; ``remove()`` unregisters."""

    def __init__(self, hooks, key):
        self._hooks = hooks
        self._key = key

    def remove(self):
        """Unregister the hook (a second call does nothing)."""
        self._hooks.pop(self._key, None)


def _add_hook(hooks, hook, prepend=False):
    key = object()
    hooks[key] = hook
    if prepend:
        hooks.move_to_end(key, last=False)
    return _HookHandle(hooks, key)


# the hook tables of an optimizer, each an OrderedDict of its hooks in calling order
_HOOK_TABLES = ("_step_pre_hooks", "_step_post_hooks", "_state_dict_pre_hooks",
                "_state_dict_post_hooks", "_load_state_dict_pre_hooks",
                "_load_state_dict_post_hooks")


def _typename(obj):
    if isinstance(obj, ember.Tensor):
        return "ember.Tensor"
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _with_step_hooks(step):
    """Wrap an optimizer's ``step`` so that its pre/post hooks run around it."""
    if getattr(step, "_ember_hooked", False):
        return step

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for hook in list(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"optimizer step pre-hook must return None or a tuple of "
                        f"(new_args, new_kwargs), but got {result}")
                args, kwargs = result
        out = step(self, *args, **kwargs)
        self._opt_called = True
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._ember_hooked = True
    return wrapper


def _scalar_step():
    """A fresh ``step`` counter: a zero-dim tensor of the default float dtype, as in PyTorch."""
    dtype = ember.float64 if ember.get_default_dtype() == ember.float64 else ember.float32
    return ember.tensor(0.0, dtype=dtype)


class Optimizer:
    """Base class of all optimizers.

    Parameters
    ----------
    params : iterable
        Tensors to optimize, ``(name, tensor)`` pairs, or dicts defining parameter
        groups (each with a ``"params"`` entry and optional per-group options).
    defaults : dict
        Default values of the optimization options, used by groups that do not set them.

    Notes
    -----
    ``state`` maps each parameter tensor to a dict of its optimizer state (e.g. momentum
    buffers); ``param_groups`` is a list of dicts holding ``"params"`` and the options.
    Subclasses implement :meth:`step`.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        for table in _HOOK_TABLES:
            setattr(self, table, OrderedDict())
        if isinstance(params, ember.Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for table in _HOOK_TABLES:
            self.__dict__.setdefault(table, OrderedDict())

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def add_param_group(self, param_group):
        """Add a parameter group to :attr:`param_groups`.

        Parameters
        ----------
        param_group : dict
            ``{"params": tensors, **options}``; options not given take the optimizer's
            defaults.

        Raises
        ------
        TypeError
            If ``param_group`` is not a dict, its params are a set or not tensors.
        ValueError
            If a parameter is not a leaf, a required option is missing, or a parameter
            is already in another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, ember.Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. "
                                 "Some param names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, ember.Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        existing = set()
        for group in self.param_groups:
            existing.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        if not existing.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors.

        Parameters
        ----------
        set_to_none : bool, optional
            Set ``.grad`` to None (default) instead of filling it with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def step(self, closure=None):
        """Perform a single optimization step (implemented by subclasses).

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss.
        """
        raise NotImplementedError

    def register_step_pre_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs)`` to run before each :meth:`step`.

        The hook may return ``(new_args, new_kwargs)`` to replace the step's arguments.

        Returns
        -------
        handle
            An object whose ``remove()`` unregisters the hook.
        """
        return _add_hook(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs)`` to run after each :meth:`step`.

        Returns
        -------
        handle
            An object whose ``remove()`` unregisters the hook.
        """
        return _add_hook(self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Register ``hook(optimizer)`` to run at the start of :meth:`state_dict`.

        Parameters
        ----------
        hook : callable
        prepend : bool, default False
            Run it before the hooks already registered.

        Returns
        -------
        handle
            An object whose ``remove()`` unregisters the hook.
        """
        return _add_hook(self._state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Register ``hook(optimizer, state_dict)`` to run at the end of :meth:`state_dict`;
        a returned dict replaces the state dict.

        Parameters
        ----------
        hook : callable
        prepend : bool, default False

        Returns
        -------
        handle
        """
        return _add_hook(self._state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Register ``hook(optimizer, state_dict)`` to run at the start of
        :meth:`load_state_dict` (on a shallow copy); a returned dict is loaded instead.

        Parameters
        ----------
        hook : callable
        prepend : bool, default False

        Returns
        -------
        handle
        """
        return _add_hook(self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Register ``hook(optimizer)`` to run at the end of :meth:`load_state_dict`.

        Parameters
        ----------
        hook : callable
        prepend : bool, default False

        Returns
        -------
        handle

        Examples
        --------
        >>> import ember
        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(2))], lr=0.1)
        >>> _ = opt.register_load_state_dict_post_hook(lambda o: print("loaded"))
        >>> opt.load_state_dict(opt.state_dict())
        loaded
        """
        return _add_hook(self._load_state_dict_post_hooks, hook, prepend)

    def state_dict(self):
        """Return the optimizer state as a dict.

        Returns
        -------
        dict
            ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``:
            parameters are replaced by their position counted across all groups. State
            tensors are returned by reference, as in PyTorch.
        """
        for hook in list(self._state_dict_pre_hooks.values()):
            hook(self)
        index_of = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(index_of[id(k)] if isinstance(k, ember.Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for hook in list(self._state_dict_post_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load an optimizer state returned by :meth:`state_dict`.

        Parameters
        ----------
        state_dict : dict
            The saved state. Floating state tensors are cast to their parameter's dtype
            (the ``step`` counter excepted).

        Raises
        ------
        ValueError
            If the number or sizes of the parameter groups differ from this optimizer's.
        """
        state_dict = dict(state_dict)
        for hook in list(self._load_state_dict_pre_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, ember.Tensor):
                if key != "step" and param.is_floating_point():
                    return value.to(param.dtype)
                return value
            if isinstance(value, dict):
                return {k: cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for hook in list(self._load_state_dict_post_hooks.values()):
            hook(self)


def _check_differentiable(differentiable):
    """Reject ``differentiable=True``: updates run in place under no_grad."""
    if differentiable:
        raise RuntimeError("differentiable=True is not supported by ember optimizers yet")


def _params_with_grad(group):
    """The group's parameters that have a gradient, with their gradients."""
    params, grads = [], []
    for p in group["params"]:
        grad = p.grad
        if grad is not None:
            params.append(p)
            grads.append(grad)
    return params, grads


def _split_sparse(params, grads, refused, fused, fused_error):
    """``(dense params, dense grads, sparse params, sparse grads)``: sparse gradients
    (``Embedding(sparse=True)``) take the loop of ember ops; an optimizer that takes
    none raises ``RuntimeError(refused)``, and ``fused=True`` ``RuntimeError(fused_error)``,
    as in PyTorch."""
    sparse = [not isinstance(g, ember.Tensor) for g in grads]     # a sparse one is no Tensor
    if not any(sparse):
        return params, grads, [], []
    if refused is not None:
        raise RuntimeError(refused)
    if fused:
        raise RuntimeError(fused_error)
    split = ([], [], [], [])
    for p, g, is_sparse in zip(params, grads, sparse):
        split[2 * is_sparse].append(p)
        split[2 * is_sparse + 1].append(g)
    return split


def _add_sparse_(p, grad, alpha=1):
    """``p += alpha * grad`` in place for a sparse COO ``grad`` (repeated indices add)."""
    values = grad._values()
    p.index_put_(tuple(grad._indices()), values * alpha if alpha != 1 else values,
                 accumulate=True)


def _real_views(*tensors):
    """Real views of complex tensors, with a trailing dimension of 2 (``view_as_real``):
    elementwise optimizers treat real and imaginary parts as separate coordinates."""
    views = []
    for t in tensors:
        real = t.real
        views.append(real.as_strided(tuple(t.shape) + (2,),
                                     tuple(2 * s for s in t.stride()) + (1,),
                                     real.storage_offset()))
    return views


def _check_fused_args(fused, foreach, differentiable):
    """PyTorch's rules for the ``fused`` and ``foreach`` options."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")


def _wants_fused(group):
    """Whether a group's step may use the fused loops.

    They are ember's multi-tensor implementation: used unless ``fused=False`` or
    ``foreach=False`` asks for the loop of ember ops over the parameters, and the
    other option is not True.
    """
    fused, foreach = group.get("fused"), group.get("foreach")
    if fused or foreach:
        return True
    return fused is not False and foreach is not False


def _dense_grad(p, grad):
    """``grad``, copied to a contiguous tensor when it is a strided view and ``p`` is
    contiguous: one copy costs less than the chain of ember ops the fused loop saves."""
    if grad.is_contiguous() or grad.requires_grad or not p.is_contiguous():
        return grad
    return grad.contiguous()


class _PerParameterOptimizer(Optimizer):
    """An optimizer whose step updates each parameter on its own, in
    ``_update(p, grad, state, group)`` (every optimizer here but SGD and LBFGS).

    Subclasses with a fused loop name it in ``_fused_kind`` and give
    ``_init_state(p, state, group)`` (create the state of a new parameter) and
    ``_fused_states(state, group)`` (its buffers in the loop's order, see
    ``ember/optim.h``); parameters the loop cannot take go through ``_update``.
    """

    _fused_kind = None
    # the message of the RuntimeError a sparse gradient raises (PyTorch's); None for
    # optimizers whose ``_update`` takes sparse gradients
    _sparse_error = None

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
                params, grads = _params_with_grad(group)
                params, grads, sparse_params, sparse_grads = _split_sparse(
                    params, grads, self._sparse_error, group.get("fused"),
                    "`fused` does not support sparse grad or complex param")
                if self._fused_kind is not None and _wants_fused(group):
                    params, grads = self._fused_step(group, params, grads)
                for p, grad in zip(params + sparse_params, grads + sparse_grads):
                    self._update(p, grad, self.state[p], group)
        return loss

    def _fused_step(self, group, params, grads):
        """Update the parameters the fused loop takes, in one call; return the others."""
        fused_params, fused_grads, states, steps, extra = [], [], [], [], []
        rest_params, rest_grads = [], []
        for p, grad in zip(params, grads):
            grad = _dense_grad(p, grad)
            if _fused.fusable(p, grad, kind=self._fused_kind):
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(p, state, group)
                buffers = self._fused_states(state, group)
                counters = (state["step"], state["mu_product"]) if "mu_product" in state \
                    else (state["step"],)
                if buffers is not None and _fused.fusable(p, grad, buffers, counters,
                                                          self._fused_kind):
                    fused_params.append(p)
                    fused_grads.append(grad)
                    states.append(buffers)
                    steps.append(counters[0])
                    extra.append(counters[-1])
                    continue
            rest_params.append(p)
            rest_grads.append(grad)
        if fused_params:
            _fused.step(self._fused_kind, group, fused_params, fused_grads, states, steps, extra)
        return rest_params, rest_grads


def _decayed_grad(p, grad, group, decoupled):
    """The gradient after ``maximize`` and weight decay; decoupled decay shrinks ``p`` itself."""
    if group["maximize"]:
        grad = -grad
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if decoupled:
            p.mul_(1 - group["lr"] * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    return grad


def _run_closure(closure):
    if closure is None:
        return None
    with ember.enable_grad():
        return closure()
