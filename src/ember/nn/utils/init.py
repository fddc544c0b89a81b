"""Creating a module without initialising its parameters."""
import inspect

import ember

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """Create ``module_cls(*args, **kwargs)`` with uninitialised parameters and buffers.

    The module's parameters and buffers hold whatever memory they were given
    (as ``ember.empty``), ready to be overwritten, e.g. by ``load_state_dict``.
    ember has no meta device, so the constructor still runs: the module class must
    take a ``device`` argument, as in PyTorch.

    Parameters
    ----------
    module_cls : type
        A Module class accepting ``device``.
    *args, **kwargs
        Passed to the constructor.

    Returns
    -------
    Module

    Examples
    --------
    >>> from ember import nn
    >>> layer = nn.utils.skip_init(nn.Linear, 5, 1)
    >>> layer.weight.shape
    ember.Size([1, 5])
    """
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    module = module_cls(*args, **kwargs)
    with ember.no_grad():
        for submodule in module.modules():
            for name, param in list(submodule._parameters.items()):
                if param is not None:
                    param.data = ember.empty_like(param)
            for name, buffer in list(submodule._buffers.items()):
                if buffer is not None:
                    submodule._buffers[name] = ember.empty_like(buffer)
    return module
