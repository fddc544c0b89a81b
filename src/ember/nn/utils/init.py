"""Creating a module without initialising its parameters."""
import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """Create ``module_cls(*args, **kwargs)`` with uninitialised parameters and buffers.

    The module is built on the meta device (so its initialisation costs nothing),
    then given uninitialised memory (as ``ember.empty``) on ``device`` (default the
    CPU), ready to be overwritten, e.g. by ``load_state_dict``.  The module class must
    take a ``device`` argument and pass it to its parameters and buffers, as in PyTorch.

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
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
