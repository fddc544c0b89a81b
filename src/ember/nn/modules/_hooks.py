"""Hook handles and the autograd plumbing behind a module's full backward hooks."""
import itertools
from collections import OrderedDict
import warnings
import weakref

from ember._core._tensor import Tensor, is_grad_enabled
from ember.autograd.function import Function

__all__ = ["RemovableHandle", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook"]


class RemovableHandle:
    """A handle that removes a registered hook; also a context manager.

    Parameters
    ----------
    hooks_dict : dict
        The dictionary the hook was added to (under ``handle.id``).
    extra_dict : dict or list of dict, optional
        Other dictionaries keyed by the same id (e.g. the "with kwargs" flags).
    """

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self):
        """Unregister the hook (doing nothing when it already was)."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __getstate__(self):
        # the dictionaries themselves, so that deepcopy and pickle carry a module's hook
        # handles over to the copy's dictionaries (weak references would not follow)
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        hooks_dict, self.id, extra = state
        self.hooks_dict_ref = weakref.ref(OrderedDict() if hooks_dict is None else hooks_dict)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra if d is not None)
        # ids registered after unpickling must not collide with this one
        RemovableHandle._next_id = itertools.count(max(next(RemovableHandle._next_id),
                                                       self.id + 1))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _BackwardHookFunction(Function):
    """Identity on tensors whose backward hands the gradients to ``on_grad``."""

    @staticmethod
    def forward(ctx, on_grad, *tensors):
        ctx.on_grad = on_grad
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_grad(grads))


def _pack_with_none(indices, values, size):
    res = [None] * size
    for i, v in zip(indices, values):
        res[i] = v
    return tuple(res)


class BackwardHook:
    """Calls a module's full backward (pre-)hooks with the gradients of its
    positional tensor inputs and of its tensor outputs, as PyTorch does: the inputs
    and outputs are passed through identity autograd functions whose backward sees
    all of those gradients at once."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_index = None
        self.n_inputs = -1
        self.input_index = None

    @staticmethod
    def _wrap(values, on_grad):
        """Pass the tensors of ``values`` that require grad through the identity;
        the wrapped values and the indices of those tensors (None if none)."""
        single = isinstance(values, Tensor)
        items = [values] if single else list(values)
        index = [i for i, v in enumerate(items) if isinstance(v, Tensor) and v.requires_grad]
        if not index or not is_grad_enabled():
            return values, None
        wrapped = _BackwardHookFunction.apply(on_grad, *[items[i] for i in index])
        for i, w in zip(index, wrapped):
            items[i] = w
        if single:
            return items[0], index
        if hasattr(values, "_fields"):     # a namedtuple takes its fields positionally
            return type(values)(*items), index
        return type(values)(items), index

    def setup_input_hook(self, args):
        """Wrap the positional arguments so that their gradients reach the hooks."""
        self.n_inputs = len(args)
        args, self.input_index = self._wrap(args, self._on_grad_inputs)
        return args

    def setup_output_hook(self, result):
        """Wrap the forward result so that its gradients reach the pre-hooks."""
        self.n_outputs = 1 if isinstance(result, Tensor) else len(result)
        result, self.output_index = self._wrap(result, self._on_grad_outputs)
        return result

    def _on_grad_outputs(self, grads):
        self.grad_outputs = _pack_with_none(self.output_index, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            new = hook(self.module, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(new)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs = tuple(new)
        local_grad_outputs = self.grad_outputs
        if self.input_index is None:
            # no input requires grad: the hooks run now, with None for every grad_input
            grad_inputs = (None,) * self.n_inputs
            if self.user_hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients.",
                              stacklevel=2)
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple)
                                            and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(local_grad_outputs[i] for i in self.output_index)

    def _on_grad_inputs(self, grads):
        if self.grad_outputs is None:
            # the backward pass did not go through this module's outputs
            return grads
        res = _pack_with_none(self.input_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(res)}")
            res = tuple(out)
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)


# hooks common to all modules; they run before each module's own hooks
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()


def any_global_hooks():
    """Whether a hook common to all modules is registered."""
    return bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_pre_hooks
                or _global_backward_hooks)


def register_module_forward_pre_hook(hook):
    """Register ``hook(module, args)`` to run before the forward of every module.

    Returns
    -------
    RemovableHandle
    """
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """Register ``hook(module, args, output)`` to run after the forward of every module
    (``hook(module, args, kwargs, output)`` with ``with_kwargs``).

    Returns
    -------
    RemovableHandle
    """
    handle = RemovableHandle(_global_forward_hooks,
                             extra_dict=[_global_forward_hooks_with_kwargs,
                                         _global_forward_hooks_always_called])
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook):
    """Register ``hook(module, grad_output)`` as a full backward pre-hook of every module.

    Returns
    -------
    RemovableHandle
    """
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook):
    """Register ``hook(module, grad_input, grad_output)`` as a full backward hook of
    every module.

    Returns
    -------
    RemovableHandle
    """
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def _run_forward_hooks(module, hooks, args, kwargs, result, called):
    for hook_id, hook in hooks:
        called.add(hook_id)
        if hook_id in module._forward_hooks_with_kwargs or \
                hook_id in _global_forward_hooks_with_kwargs:
            res = hook(module, args, kwargs, result)
        else:
            res = hook(module, args, result)
        if res is not None:
            result = res
    return result


def call_with_hooks(module, args, kwargs):
    """Run ``module.forward(*args, **kwargs)`` with the global and the module's hooks,
    in PyTorch's order: forward pre-hooks, backward-hook wrapping of the inputs,
    forward, forward hooks, backward-hook wrapping of the outputs."""
    pre_hooks = [*_global_forward_pre_hooks.items(), *module._forward_pre_hooks.items()]
    for hook_id, hook in pre_hooks:
        if hook_id in module._forward_pre_hooks_with_kwargs:
            res = hook(module, args, kwargs)
            if res is not None:
                if isinstance(res, tuple) and len(res) == 2:
                    args, kwargs = res
                else:
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {res}.")
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    bw_hook = None
    backward_hooks = [*_global_backward_hooks.values(), *module._backward_hooks.values()]
    backward_pre_hooks = [*_global_backward_pre_hooks.values(),
                          *module._backward_pre_hooks.values()]
    if backward_hooks or backward_pre_hooks:
        bw_hook = BackwardHook(module, backward_hooks, backward_pre_hooks)
        args = bw_hook.setup_input_hook(args)
    forward_hooks = [*_global_forward_hooks.items(), *module._forward_hooks.items()]
    called = set()
    try:
        result = module.forward(*args, **kwargs)
        result = _run_forward_hooks(module, forward_hooks, args, kwargs, result, called)
    except Exception:
        always = [(i, h) for i, h in forward_hooks if i not in called and (
            i in module._forward_hooks_always_called or i in _global_forward_hooks_always_called)]
        try:
            _run_forward_hooks(module, always, args, kwargs, None, called)
        except Exception as e:
            warnings.warn("forward hook with ``always_call=True`` raised an exception that was "
                          f"silenced as another error was raised in forward: {e}")
        raise
    if bw_hook is not None:
        if not isinstance(result, (Tensor, tuple)):
            warnings.warn("For backward hooks to be called, module output should be a Tensor "
                          f"or a tuple of Tensors but received {type(result)}")
        else:
            result = bw_hook.setup_output_hook(result)
    return result
