"""Modules as functions: calling a module with other tensors in place of its parameters
and buffers, stacking the states of several models, batch norm without running stats."""
from collections.abc import Sequence

from ember._core._index import stack
from ember.nn.modules.normalization import _BatchNorm

__all__ = ["functional_call", "stack_module_state", "replace_all_batch_norm_modules_"]


def _merge_dicts(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return parameter_and_buffer_dicts
    if not isinstance(parameter_and_buffer_dicts, Sequence):
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple "
                         f"of dicts, but got {type(parameter_and_buffer_dicts)}")
    if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                         "dictionaries")
    counts = {}
    for d in parameter_and_buffer_dicts:
        for k in d:
            counts[k] = counts.get(k, 0) + 1
    repeated = [k for k, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                         "call is ambiguous")
    return {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}


def _all_named_tensors(module):
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untie(module, tensors):
    """``tensors`` completed with every name tied to a given one (names that hold the
    same parameter or buffer object in ``module``)."""
    names_of = {}
    for name, t in _all_named_tensors(module).items():
        names_of.setdefault(id(t), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given_tied = [name for name in tensors if name in tied]
    for name in given_tied:
        group = tied[name]
        values = {id(tensors[n]) for n in group if n in tensors}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(group)}, "
                             "which are tied. Consider using tie_weights=False")
    untied = dict(tensors)
    for name in given_tied:
        for other in tied[name]:
            untied[other] = tensors[name]
    return untied


def _check_keys(module, tensors):
    expected = set(_all_named_tensors(module))
    unexpected = sorted(set(tensors) - expected)
    missing = sorted(expected - set(tensors))
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
            module._get_name(), "\n\t".join(msgs)))


_ABSENT = object()


def _swap(module, name, value):
    """Put ``value`` at the dotted ``name`` of ``module`` (a parameter's or buffer's slot,
    or a plain attribute) and return what was there (``_ABSENT`` if nothing)."""
    prefix, _, attr = name.rpartition(".")
    owner = module.get_submodule(prefix) if prefix else module
    for store in (owner._parameters, owner._buffers):
        if attr in store:
            old, store[attr] = store[attr], value
            return old
    old = owner.__dict__.get(attr, _ABSENT)
    if value is _ABSENT:
        owner.__dict__.pop(attr, None)
    else:
        # written around Module.__setattr__, which accepts only Parameters in slots
        owner.__dict__[attr] = value
    return old


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with the given tensors standing in for its parameters and buffers.

    The module's own tensors are put back afterwards, also when the call raises.
    This makes a module usable as a pure function of its parameters, which the
    other ``ember.func`` transforms need (to differentiate or :func:`vmap` with
    respect to the parameters, for instance).

    Parameters
    ----------
    module : ember.nn.Module
    parameter_and_buffer_dicts : dict or sequence of dict
        ``{name: tensor}`` with the dotted names of ``named_parameters()`` and
        ``named_buffers()`` (``"0.weight"``); several dicts are merged, and a
        name may then appear in only one.  Names not given keep the module's
        own tensors.
    args : Any or tuple, optional
        Positional arguments of the call (a single non-tuple value is one
        argument).
    kwargs : dict, optional
        Keyword arguments of the call.
    tie_weights : bool, default True
        A value given for one of several names that share one tensor in the
        module (tied weights) is used for all of them; giving different values
        for such names raises ValueError.
    strict : bool, default False
        Require the given names to be exactly the module's parameters and
        buffers (RuntimeError listing the missing and unexpected ones).

    Returns
    -------
    Any
        What ``module(*args, **kwargs)`` returns.

    Notes
    -----
    As in PyTorch, when the module assigns a new tensor to one of the given
    names during the call (``self.count = self.count + 1``), the new tensor is
    written back into the given dict.

    Examples
    --------
    >>> import ember
    >>> from ember.func import functional_call
    >>> lin = ember.nn.Linear(2, 1)
    >>> params = {"weight": ember.tensor([[1.0, 2.0]]), "bias": ember.tensor([0.5])}
    >>> functional_call(lin, params, (ember.tensor([[3.0, 4.0]]),))
    tensor([[11.5000]])
    """
    tensors = _merge_dicts(parameter_and_buffer_dicts)
    swapped = _untie(module, tensors) if tie_weights else dict(tensors)
    if strict:
        _check_keys(module, swapped)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    originals = {}
    try:
        for name, value in swapped.items():
            originals[name] = _swap(module, name, value)
        return module(*args, **(kwargs or {}))
    finally:
        # put back in reverse order, so that a name swapped twice (tied) ends as it was
        for name, old in reversed(list(originals.items())):
            current = _swap(module, name, old)
            if name in tensors and current is not _ABSENT:
                tensors[name] = current


def stack_module_state(models):
    """Stack the parameters and buffers of several same-shaped models, for :func:`vmap`.

    Parameters
    ----------
    models : sequence of ember.nn.Module
        Modules of the same class, in the same training/eval mode.

    Returns
    -------
    params : dict of str to Tensor
        Each parameter of the models stacked along a new first dimension; a new
        leaf that requires grad when the parameters do.
    buffers : dict of str to Tensor
        The buffers, stacked the same way.

    Examples
    --------
    >>> import ember
    >>> from ember.func import stack_module_state
    >>> params, buffers = stack_module_state([ember.nn.Linear(3, 2) for _ in range(4)])
    >>> params["weight"].shape
    ember.Size([4, 2, 3])
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named_dicts):
        out = {}
        for name in named_dicts[0]:
            ts = [d[name] for d in named_dicts]
            flags = {t.requires_grad for t in ts}
            if len(flags) != 1:
                raise RuntimeError(f"Expected {name} from each model to have the same "
                                   ".requires_grad")
            t = stack([t.detach() for t in ts])
            out[name] = t.requires_grad_() if flags.pop() else t
        return out

    return (stacked([dict(m.named_parameters()) for m in models]),
            stacked([dict(m.named_buffers()) for m in models]))


def replace_all_batch_norm_modules_(root):
    """Make every batch-norm module of ``root`` use batch statistics only, in place.

    Sets ``running_mean``, ``running_var`` and ``num_batches_tracked`` to None and
    ``track_running_stats`` to False, so that the modules no longer update
    buffers in place during the forward pass (PyTorch's ``vmap`` cannot batch
    such updates; with ember's :func:`vmap` each slice would update them in
    turn).

    Parameters
    ----------
    root : ember.nn.Module

    Returns
    -------
    ember.nn.Module
        ``root`` itself.

    Examples
    --------
    >>> import ember
    >>> from ember.func import replace_all_batch_norm_modules_
    >>> net = replace_all_batch_norm_modules_(ember.nn.Sequential(ember.nn.BatchNorm1d(3)))
    >>> net[0].running_mean is None, net[0].track_running_stats
    (True, False)
    """
    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
