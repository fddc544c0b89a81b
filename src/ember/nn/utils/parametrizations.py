"""Weight and spectral normalisation as parametrizations (PyTorch's
``torch.nn.utils.parametrizations``)."""
import ember
from ember.nn import functional as F
from ember.nn._functional.torch_forms import norm_except_dim
from ember.nn.modules.module import Module
from ember.nn.utils import parametrize
from ember.nn.utils._orthogonal import _Orthogonal, _OrthMaps

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


def weight_norm_of(v, g, dim):
    """``v`` rescaled to the norm ``g`` (over every dim but ``dim``)."""
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_norm_of(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` by a magnitude and a direction.

    ``weight = g * v / ||v||``, the norm taken over every dim but ``dim``: ``g``
    and ``v`` are ``parametrizations.<name>.original0`` and ``original1``
    (Salimans and Kingma, 2016).

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
    >>> from ember import nn
    >>> from ember.nn.utils.parametrizations import weight_norm
    >>> layer = weight_norm(nn.Linear(20, 40))
    >>> layer.parametrizations.weight.original0.shape
    ember.Size([40, 1])
    >>> layer.parametrizations.weight.original1.shape
    ember.Size([40, 20])
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(module, state_dict, prefix, local_metadata, strict,
                                 missing_keys, unexpected_keys, error_msgs):
        # state_dicts saved by the legacy hook have <name>_g / <name>_v
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = ember.empty(h, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            v = ember.empty(w, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        # u and v are updated in place: they are buffers, and sigma's estimate improves
        # with every training forward
        with ember.no_grad():
            for _ in range(n_power_iterations):
                F.normalize(ember.mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u)
                F.normalize(ember.mv(weight_mat.mH, self._u), dim=0, eps=self.eps,
                            out=self._v)

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = ember.vdot(u, ember.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (largest singular value).

    The norm is estimated by power iteration (Miyato et al., 2018): the vectors
    ``parametrizations.<name>[0]._u`` and ``_v`` are buffers refined by
    ``n_power_iterations`` steps at every access in training mode, and frozen in
    evaluation mode.

    Parameters
    ----------
    module : Module
        The module to change.
    name : str, default 'weight'
        The parameter or buffer to normalise.
    n_power_iterations : int, default 1
        Power iteration steps per access in training mode.
    eps : float, default 1e-12
        Floor of the norms when normalising ``u`` and ``v``.
    dim : int, optional
        The dim of the weight that indexes the rows of the matrix whose norm is
        taken (default 0, or 1 for transposed convolutions).

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils.parametrizations import spectral_norm
    >>> layer = spectral_norm(nn.Linear(20, 40))
    >>> layer.parametrizations.weight.original.shape
    ember.Size([40, 20])
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, ember.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        kind = parametrize.type_before_parametrizations(module).__name__
        dim = 1 if kind in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain ``module.<name>`` to be orthogonal (orthonormal rows or columns).

    The weight is ``Q = f(X)`` for an unconstrained ``X`` (the original): the
    exponential of the skew-symmetric part ``A`` of ``X`` (``'matrix_exp'``), its
    Cayley transform ``(I - A/2)^-1 (I + A/2)`` (``'cayley'``) or a product of
    Householder reflections (``'householder'``).  With ``use_trivialization``,
    the initial orthogonal matrix is kept as the buffer ``base`` and ``Q = base @
    f(X)``, the original starting at ``-I``.

    Parameters
    ----------
    module : Module
        The module to change.
    name : str, default 'weight'
        A matrix (or batch of matrices) parameter.
    orthogonal_map : {'matrix_exp', 'cayley', 'householder'}, optional
        Default: ``'matrix_exp'`` for square or complex weights, else
        ``'householder'``.
    use_trivialization : bool, default True
        Keep a base orthogonal matrix (dynamic trivialization).

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils.parametrizations import orthogonal
    >>> layer = orthogonal(nn.Linear(5, 3))
    >>> w = layer.weight
    >>> bool(((w @ w.T - ember.eye(3)).abs() < 1e-5).all())
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, ember.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} "
                         "dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) \
        else None
    if orth_enum is None:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    parametrize.register_parametrization(
        module, name, _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization),
        unsafe=True)
    return module
