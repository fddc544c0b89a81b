"""Saving and loading a module's state dict, as ``torch.nn.Module`` does it."""
import warnings
from collections import OrderedDict, namedtuple

from ember._core._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn.parameter import Parameter, is_lazy

EXTRA_STATE_KEY = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _overrides(module, method):
    """Whether ``module``'s class overrides ``Module.<method>`` (the extra-state hooks)."""
    from ember.nn.modules.module import Module
    return getattr(type(module), method) is not getattr(Module, method)


def save_own_state(module, destination, prefix, keep_vars):
    """Put ``module``'s own parameters, persistent buffers and extra state into
    ``destination`` (not its children's)."""
    for name, param in module._parameters.items():
        if param is not None:
            destination[prefix + name] = param if keep_vars else param.detach()
    for name, buf in module._buffers.items():
        if buf is not None and name not in module._non_persistent_buffers_set:
            destination[prefix + name] = buf if keep_vars else buf.detach()
    if _overrides(module, "get_extra_state"):
        destination[prefix + EXTRA_STATE_KEY] = module.get_extra_state()


def state_dict(module, destination, prefix, keep_vars):
    """The state dict of ``module`` and its descendants, with the state-dict hooks."""
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    # per-module format versions, read back by _load_from_state_dict overrides
    local_metadata = {"version": module._version}
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = local_metadata
    for hook in module._state_dict_pre_hooks.values():
        hook(module, prefix, keep_vars)
    module._save_to_state_dict(destination, prefix, keep_vars)
    for name, child in module._modules.items():
        if child is not None:
            child.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
    for hook in module._state_dict_hooks.values():
        result = hook(module, destination, prefix, local_metadata)
        if getattr(hook, "_from_public_api", False):
            if result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        elif result is not None:
            destination = result
    return destination


def _copy_entry(module, name, param, input_param, key, assign, error_msgs):
    if not isinstance(input_param, Tensor):
        error_msgs.append(f'While copying the parameter named "{key}", expected ember.Tensor or '
                          f"Tensor-like object from checkpoint but received {type(input_param)}")
        return
    # an uninitialized entry takes any shape (copying into it is the caller's business);
    # an uninitialized input into an initialized entry fails on its shape, as in PyTorch
    if not is_lazy(param) and input_param.shape != param.shape:
        error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                          f"{input_param.shape} from checkpoint, the shape in current model is "
                          f"{param.shape}.")
        return
    try:
        with no_grad():
            if assign:
                if isinstance(param, Parameter):
                    if not isinstance(input_param, Parameter):
                        input_param = Parameter(input_param, requires_grad=param.requires_grad)
                    else:
                        input_param.requires_grad_(param.requires_grad)
                setattr(module, name, input_param)
            else:
                if param.is_meta and not input_param.is_meta:
                    warnings.warn(f"for {key}: copying from a non-meta parameter in the "
                                  "checkpoint to a meta parameter in the current model, which "
                                  "is a no-op. (Did you mean to pass `assign=True` to assign "
                                  "items in the state dictionary to their corresponding key in "
                                  "the module instead of copying them in place?)", stacklevel=2)
                param.copy_(input_param)
    except Exception as ex:
        error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the '
                          f"model are {param.size()} and whose dimensions in the checkpoint are "
                          f"{input_param.size()}, an exception occurred : {ex.args}.")


def load_own_state(module, state_dict, prefix, local_metadata, strict, missing_keys,
                   unexpected_keys, error_msgs):
    """Load ``module``'s own entries of ``state_dict`` (keys under ``prefix``), recording
    missing and (when ``strict``) unexpected keys."""
    for hook in module._load_state_dict_pre_hooks.values():
        hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
             error_msgs)
    assign = local_metadata.get("assign_to_params_buffers", False)
    persistent_buffers = {k: v for k, v in module._buffers.items()
                          if k not in module._non_persistent_buffers_set}
    local_state = {k: v for k, v in {**module._parameters, **persistent_buffers}.items()
                   if v is not None}
    for name, param in local_state.items():
        key = prefix + name
        if key in state_dict:
            _copy_entry(module, name, param, state_dict[key], key, assign, error_msgs)
        elif strict:
            missing_keys.append(key)
    extra_state_key = prefix + EXTRA_STATE_KEY
    if _overrides(module, "set_extra_state"):
        if extra_state_key in state_dict:
            module.set_extra_state(state_dict[extra_state_key])
        elif strict:
            missing_keys.append(extra_state_key)
    elif strict and extra_state_key in state_dict:
        unexpected_keys.append(extra_state_key)
    if strict:
        for key in state_dict:
            if not key.startswith(prefix) or key == extra_state_key:
                continue
            input_name = key[len(prefix):].split(".", 1)
            if len(input_name) > 1:
                if input_name[0] not in module._modules:
                    unexpected_keys.append(key)
            elif input_name[0] not in local_state:
                unexpected_keys.append(key)


def load_state_dict(module, state_dict, strict, assign):
    """Load ``state_dict`` into ``module`` and its descendants (``Module.load_state_dict``)."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing_keys, unexpected_keys, error_msgs = [], [], []
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)
    if metadata is not None:
        state_dict._metadata = metadata

    def load(mod, local_state_dict, prefix=""):
        local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = assign
        mod._load_from_state_dict(local_state_dict, prefix, local_metadata, True, missing_keys,
                                  unexpected_keys, error_msgs)
        for name, child in mod._modules.items():
            if child is not None:
                child_prefix = prefix + name + "."
                load(child, {k: v for k, v in local_state_dict.items()
                             if k.startswith(child_prefix)}, child_prefix)
        incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
        for hook in mod._load_state_dict_post_hooks.values():
            out = hook(mod, incompatible)
            if out is not None:
                raise RuntimeError("Hooks registered with ``register_load_state_dict_post_hook`` "
                                   "are not expected to return new values, if incompatible_keys "
                                   "need to be modified, it should be done inplace.")

    load(module, state_dict)
    if strict:
        if unexpected_keys:
            error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in unexpected_keys)))
        if missing_keys:
            error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in missing_keys)))
    if error_msgs:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
            type(module).__name__, "\n\t".join(error_msgs)))
    return _IncompatibleKeys(missing_keys, unexpected_keys)
