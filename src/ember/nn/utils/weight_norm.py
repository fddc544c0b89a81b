"""Weight normalisation by a forward pre-hook (PyTorch's legacy
``torch.nn.utils.weight_norm``; :func:`ember.nn.utils.parametrizations.weight_norm`
is the newer form)."""
import warnings

from ember.nn.parameter import Parameter
from ember.nn._functional.torch_forms import norm_except_dim
from ember.nn.utils.parametrizations import weight_norm_of

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``<name>`` from ``<name>_g`` and ``<name>_v``.

    Parameters
    ----------
    name : str
        The reparametrized parameter.
    dim : int or None
        The dim kept by the norm (``None`` or ``-1``: the whole tensor).
    """

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        """``g * v / ||v||`` from the module's current ``<name>_g`` and ``<name>_v``."""
        return weight_norm_of(getattr(module, self.name + "_v"),
                              getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        """Reparametrize ``module.<name>`` and register the hook; returns the hook."""
        warnings.warn("ember.nn.utils.weight_norm is deprecated in favor of "
                      "ember.nn.utils.parametrizations.weight_norm.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        """Put back ``<name>`` as one parameter with the current value."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Split ``module.<name>`` into a magnitude ``<name>_g`` and a direction ``<name>_v``.

    The weight is recomputed as ``g * v / ||v||`` (norm over every dim but ``dim``)
    before every forward.  Deprecated in PyTorch in favour of
    :func:`ember.nn.utils.parametrizations.weight_norm`.

    Parameters
    ----------
    module : Module
        The module to change.
    name : str, default 'weight'
        The parameter to reparametrize.
    dim : int or None, default 0
        The dim kept by the norm; ``None`` takes the norm of the whole tensor.

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import warnings
    >>> from ember import nn
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     layer = nn.utils.weight_norm(nn.Linear(20, 40), name="weight")
    >>> layer.weight_g.shape, layer.weight_v.shape
    (ember.Size([40, 1]), ember.Size([40, 20]))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo :func:`weight_norm`: ``<name>`` becomes one parameter again.

    Parameters
    ----------
    module : Module
    name : str, default 'weight'

    Returns
    -------
    Module
        ``module``.

    Raises
    ------
    ValueError
        When ``module`` has no weight norm on ``name``.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
