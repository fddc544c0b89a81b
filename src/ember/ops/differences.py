"""Differences, integration and distances: ``diff``, ``gradient``, ``trapezoid``
(``trapz``), ``cumulative_trapezoid``, ``renorm``, ``dist``, ``cdist``.

Composites of differentiable ember ops, so their gradients (and double backward)
come from those of the ops.
"""
import ember
from ember._core._dtype import float32, float64
from ember._core._reduce import _with_out
from ember._core._tensor import Tensor, _add_method, _recorded
from ember.ops.autocast import autocasts
from ember.ops.elementwise import where
from ember.ops.sorting import _check_tensor, _wrap_dim

__all__ = ["diff", "gradient", "trapezoid", "trapz", "cumulative_trapezoid", "renorm", "dist",
           "cdist"]


# ---------------------------------------------------------------- diff, trapezoid

def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """The ``n``-th forward difference along ``dim`` (``!=`` for bool).

    Parameters
    ----------
    input : Tensor
        At least 1-D.
    n : int, optional
    dim : int, optional
    prepend, append : Tensor, optional
        Joined to ``input`` along ``dim`` before differencing.
    out : Tensor, optional
        Where to write the result (returned): of a dtype the result casts to, resized
        to its shape.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.diff(ember.tensor([1, 3, 6, 10]))
    tensor([2, 3, 4])
    """
    _check_tensor(input, "diff")
    if out is not None:
        return _with_out("diff", out, "cast", diff, (input, n, dim, prepend, append), None,
                         tuple(t for t in (input, prepend, append) if isinstance(t, Tensor)))
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input.dim())
    if n == 0:
        return input.clone()            # as PyTorch: prepend and append are not joined
    parts = [t for t in (prepend, input, append) if t is not None]
    if len(parts) > 1:
        parts = [t if isinstance(t, Tensor) else ember.tensor(t, dtype=input.dtype) for t in parts]
        parts = [t.expand(*[input.shape[k] if k != d else t.shape[k] if t.dim() else 1
                            for k in range(input.dim())]) if t.dim() == 0 else t for t in parts]
        x = ember.cat(parts, d)
    else:
        x = input
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
        x = hi.logical_xor(lo) if x.dtype == ember.bool else hi - lo
    return x


def _trapezoid_steps(y, x, dx, d, name):
    if y.dtype == ember.bool:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")
    n = y.shape[d]
    hi, lo = y.narrow(d, 1, max(n - 1, 0)), y.narrow(d, 0, max(n - 1, 0))
    if x is None:
        step = 1 if dx is None else dx
        return (hi + lo) * (step / 2.0)
    if dx is not None:
        raise TypeError(f"{name}(): received both x and dx")
    if x.dim() == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        dxs = diff(x).reshape([n - 1 if k == d else 1 for k in range(y.dim())])
    else:
        dxs = diff(x, dim=d)
    return (hi + lo) * dxs / 2.0


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoidal rule, with sample points
    ``x`` or a constant spacing ``dx`` (1 by default).

    Examples
    --------
    >>> import ember
    >>> ember.trapezoid(ember.tensor([1.0, 2.0, 3.0]))
    tensor(4.)
    """
    _check_tensor(y, "trapezoid")
    d = _wrap_dim(dim, y.dim())
    if y.dim() > 0 and y.shape[d] == 0:
        return y.sum(d).to(y.dtype if y.is_floating_point() else ember.get_default_dtype())
    steps = _trapezoid_steps(y, x, dx, d, "trapezoid")
    return steps.sum(d)


trapz = trapezoid


def _gradient_spacings(input, spacing, dims):
    """One spacing per differentiated dim: a float, or a 1-D tensor of coordinates."""
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar "
                               f"or its length to match the number of dimensions specified "
                               f"({len(dims)}), but got {len(spacing)}")
        spacing = list(spacing)
    else:
        spacing = [spacing] * len(dims)
    for h, d in zip(spacing, dims):
        if isinstance(h, Tensor) and (h.dim() != 1 or h.shape[0] != input.shape[d]):
            raise RuntimeError(f"torch.gradient expected each tensor to be on the same "
                               f"device and of size {input.shape[d]} along dim {d}, "
                               f"got shape {tuple(h.shape)}")
    return spacing


def _along(t, d, ndim):
    """A 1-D tensor shaped to broadcast along dim ``d`` of an ``ndim``-D tensor."""
    return t.reshape([-1 if i == d else 1 for i in range(ndim)])


def _gradient_1d(f, h, d, edge_order):
    n = f.shape[d]
    part = f.narrow
    if not isinstance(h, Tensor):       # uniform spacing
        inner = (part(d, 2, n - 2) - part(d, 0, n - 2)) / (2.0 * h)
        if edge_order == 1:
            first = (part(d, 1, 1) - part(d, 0, 1)) / h
            last = (part(d, n - 1, 1) - part(d, n - 2, 1)) / h
        else:
            first = (-1.5 * part(d, 0, 1) + 2.0 * part(d, 1, 1) - 0.5 * part(d, 2, 1)) / h
            last = (0.5 * part(d, n - 3, 1) - 2.0 * part(d, n - 2, 1)
                    + 1.5 * part(d, n - 1, 1)) / h
        return ember.cat([first, inner, last], d)
    # coordinates: second-order differences on an uneven grid (as numpy.gradient)
    dx = _along(h.diff(), d, f.dim())
    dx1, dx2 = dx.narrow(d, 0, n - 2), dx.narrow(d, 1, n - 2)
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    inner = a * part(d, 0, n - 2) + b * part(d, 1, n - 2) + c * part(d, 2, n - 2)
    if edge_order == 1:
        first = (part(d, 1, 1) - part(d, 0, 1)) / dx.narrow(d, 0, 1)
        last = (part(d, n - 1, 1) - part(d, n - 2, 1)) / dx.narrow(d, n - 2, 1)
    else:
        d1, d2 = dx.narrow(d, 0, 1), dx.narrow(d, 1, 1)
        first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * part(d, 0, 1)
                 + (d1 + d2) / (d1 * d2) * part(d, 1, 1) - d1 / (d2 * (d1 + d2)) * part(d, 2, 1))
        d1, d2 = dx.narrow(d, n - 3, 1), dx.narrow(d, n - 2, 1)
        last = (d2 / (d1 * (d1 + d2)) * part(d, n - 3, 1) - (d2 + d1) / (d1 * d2)
                * part(d, n - 2, 1) + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * part(d, n - 1, 1))
    return ember.cat([first, inner, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimate the gradient of the function sampled by ``input``: second-order central
    differences inside, first- or second-order one-sided ones at the edges (as
    :func:`numpy.gradient`).

    Parameters
    ----------
    input : Tensor
    spacing : scalar, sequence of scalars or sequence of 1-D Tensors, optional
        The sample spacing, per dim or for all; tensors give the sample coordinates.
    dim : int or sequence of ints, optional
        The dims to differentiate along (default: all).
    edge_order : {1, 2}, optional

    Returns
    -------
    tuple of Tensor
        One estimate per dim in ``dim``.

    Examples
    --------
    >>> import ember
    >>> ember.gradient(ember.tensor([1.0, 4.0, 9.0, 16.0]))
    (tensor([3., 4., 6., 7.]),)
    """
    _check_tensor(input, "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, "
                           f"got {edge_order}")
    if dim is None:
        dims = list(range(input.dim()))
    elif isinstance(dim, int):
        dims = [_wrap_dim(dim, input.dim())]
    else:
        dims = [_wrap_dim(x, input.dim()) for x in dim]
    spacings = _gradient_spacings(input, spacing, dims)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    f = input if input.is_floating_point() or input.is_complex() else \
        input.to(ember.get_default_dtype())
    return tuple(_gradient_1d(f, h, d, edge_order) for h, d in zip(spacings, dims))


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running integral of ``y`` along ``dim`` by the trapezoidal rule (one element
    shorter than ``y`` along ``dim``).

    Examples
    --------
    >>> import ember
    >>> ember.cumulative_trapezoid(ember.tensor([1.0, 2.0, 3.0]))
    tensor([1.5000, 4.0000])
    """
    _check_tensor(y, "cumulative_trapezoid")
    d = _wrap_dim(dim, y.dim())
    return _trapezoid_steps(y, x, dx, d, "cumulative_trapezoid").cumsum(d)


# ---------------------------------------------------------------- renorm, dist, cdist

@autocasts("renorm")
def renorm(input, p, dim, maxnorm, *, out=None):
    """Each sub-tensor along ``dim`` rescaled so that its ``p``-norm is at most ``maxnorm``.
    ``out``, of ``input``'s dtype, receives the result (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> ember.renorm(ember.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    _check_tensor(input, "renorm")
    if out is not None:
        return _with_out("renorm", out, "same", renorm, (input, p, dim, maxnorm), None,
                         (input,))
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} "
                           "dimensions")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = _wrap_dim(dim, input.dim())
    others = tuple(k for k in range(input.dim()) if k != d)
    norms = input.norm(p, others, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


def _renorm_(self, p, dim, maxnorm):
    """In-place :func:`ember.renorm`."""
    # the derivative saves its input: a recorded self is read from a copy, then written
    source = self.clone() if _recorded(self) else self
    return self.copy_(renorm(source, p, dim, maxnorm))


@autocasts("dist")
def dist(input, other, p=2):
    """The ``p``-norm of ``input - other``.

    Examples
    --------
    >>> import ember
    >>> ember.dist(ember.tensor([0.0, 0.0]), ember.tensor([3.0, 4.0]))
    tensor(5.)
    """
    _check_tensor(input, "dist")
    _check_tensor(other, "dist")
    return (input - other).norm(float(p))


@autocasts("cdist")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise ``p``-norm distances between the rows of ``x1`` (..., P, M) and of
    ``x2`` (..., R, M): a (..., P, R) tensor.

    For ``p = 2`` the distances come from one matrix product
    (``|a|^2 + |b|^2 - 2 a.b``) when ``compute_mode`` asks for it, or by default when
    P or R exceeds 25, as in PyTorch.

    Examples
    --------
    >>> import ember
    >>> ember.cdist(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    _check_tensor(x1, "cdist")
    _check_tensor(x2, "cdist")
    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D, "
                           f"X2 got: {x2.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError("X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    for t in (x1, x2):
        if not t.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, X got: {t.dtype}")
        if t.dtype not in (float32, float64):
            raise NotImplementedError(f'"cdist" not implemented for {t.dtype}')
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
             "donot_use_mm_for_euclid_dist", None)
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    P, R = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode in ("use_mm_for_euclid_dist_if_necessary", None) and (P > 25 or R > 25)))
    if use_mm:
        sq1 = (x1 * x1).sum(-1, keepdim=True)
        sq2 = (x2 * x2).sum(-1, keepdim=True)
        inner = x1.matmul(x2.transpose(-2, -1))
        squared = sq1 - 2 * inner + sq2.transpose(-2, -1)
        # rounding can make it <= 0 for (near) equal rows: distance 0 as in PyTorch, whose
        # mask (d == 0) finds a row itself; the clamp keeps sqrt's gradient finite
        return where(squared > 0, squared.clamp_min(1e-30).sqrt(), 0.0)
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(float(p), -1)


# ---------------------------------------------------------------- Tensor methods

for _name in ("diff", "renorm", "dist"):
    _add_method(_name, globals()[_name])
_add_method("renorm_", _renorm_)
del _name
