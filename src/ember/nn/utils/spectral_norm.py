"""Spectral normalisation by a forward pre-hook (PyTorch's legacy
``torch.nn.utils.spectral_norm``; :func:`ember.nn.utils.parametrizations.spectral_norm`
is the newer form)."""
import ember
from ember.nn import functional as F
from ember.nn.parameter import Parameter

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that sets ``<name>`` to ``<name>_orig / sigma``.

    Parameters
    ----------
    name : str, default 'weight'
    n_power_iterations : int, default 1
    dim : int, default 0
    eps : float, default 1e-12
    """

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        """``weight`` as a matrix whose rows are indexed by dim ``self.dim``."""
        if self.dim != 0:
            weight = weight.permute(self.dim,
                                    *[d for d in range(weight.dim()) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        """The normalised weight; ``do_power_iteration`` refines ``u``, ``v`` in place first."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with ember.no_grad():
                for _ in range(self.n_power_iterations):
                    F.normalize(ember.mv(weight_mat.t(), u), dim=0, eps=self.eps, out=v)
                    F.normalize(ember.mv(weight_mat, v), dim=0, eps=self.eps, out=u)
                u = u.clone()
                v = v.clone()
        sigma = ember.dot(u, ember.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module):
        """Put back ``<name>`` as one parameter holding the normalised weight."""
        with ember.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        """Register the hook on ``module.<name>``; returns the hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with ember.no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            dev = weight.device
            u = F.normalize(ember.empty(h, dtype=weight.dtype, device=dev).normal_(0, 1), dim=0,
                            eps=fn.eps)
            v = F.normalize(ember.empty(w, dtype=weight.dtype, device=dev).normal_(0, 1), dim=0,
                            eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # code that expects module.<name> to exist keeps working: a plain attribute
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm before every forward.

    The weight moves to ``<name>_orig``; the power-iteration vectors are the
    buffers ``<name>_u`` and ``<name>_v``, refined in training mode only.

    Parameters
    ----------
    module : Module
        The module to change.
    name : str, default 'weight'
        The parameter to normalise.
    n_power_iterations : int, default 1
        Power iteration steps per forward in training mode.
    eps : float, default 1e-12
        Floor of the norms when normalising ``u`` and ``v``.
    dim : int, optional
        The dim indexing the rows of the weight matrix (default 0, or 1 for
        transposed convolutions).

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> from ember import nn
    >>> layer = nn.utils.spectral_norm(nn.Linear(20, 40))
    >>> layer.weight_u.shape, layer.weight_v.shape
    (ember.Size([40]), ember.Size([20]))
    """
    if dim is None:
        kind = type(module).__name__
        dim = 1 if kind in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``<name>`` becomes one parameter again.

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
        When ``module`` has no spectral norm on ``name``.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
