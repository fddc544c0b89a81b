"""The ``torch.*`` forms of functional ops, with ``torch``'s own signatures where they
differ from ``torch.nn.functional``'s: ``torch.dropout(input, p, train)``, losses taking
``reduction`` as an int (0: none, 1: mean, 2: sum), ``torch.embedding(weight, indices)``,
``torch.batch_norm``/``instance_norm`` with every argument positional, pools with
``stride=()`` for "the kernel size", ``adaptive_max_pool1d`` returning indices too,
``grid_sampler`` with its modes as ints, and the generic ``convolution``.

Each is a thin adapter over :mod:`ember.nn.functional`, so values and gradients are
those of the functional op.  The ``cudnn_enable(d)`` flags are accepted and ignored
(they pick a PyTorch backend).
"""
import ember.nn.functional as F
from ember._core._tensor import _add_method
from ember.nn._functional.activation import _rrelu
from ember.nn._functional.misc import _dropout, _embedding_renorm

# same signature under both names
from ember.nn.functional import (  # noqa: F401
    adaptive_avg_pool1d, bilinear, channel_shuffle, conv1d, conv2d, conv3d, conv_tbc,
    conv_transpose1d, conv_transpose2d, conv_transpose3d, cosine_similarity, pairwise_distance,
    pdist, pixel_shuffle, pixel_unshuffle, prelu, rms_norm,
)

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}(): reduction must be 0 (none), 1 (mean) or 2 (sum), "
                         f"got {reduction!r}")
    return _REDUCTIONS[reduction]


def _stride(stride):
    """``torch.max_pool*``'s empty stride means "the kernel size", as F's ``None``."""
    return None if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else stride


# ---- dropout: (input, p, train), all required

def _dropout_form(name, functional, inplace):
    def fn(input, p, train):
        return functional(input, p, train, inplace=inplace)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.{name}(input, p, train)``: :func:`ember.nn.functional."
                  f"{functional.__name__}` with ``training=train``"
                  + (", in place." if inplace else "."))
    return fn


dropout = _dropout_form("dropout", F.dropout, False)
dropout_ = _dropout_form("dropout_", F.dropout, True)
alpha_dropout = _dropout_form("alpha_dropout", F.alpha_dropout, False)
alpha_dropout_ = _dropout_form("alpha_dropout_", F.alpha_dropout, True)
feature_alpha_dropout = _dropout_form("feature_alpha_dropout", F.feature_alpha_dropout, False)
feature_alpha_dropout_ = _dropout_form("feature_alpha_dropout_", F.feature_alpha_dropout, True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """Randomised leaky ReLU (see :func:`ember.nn.functional.rrelu`); ``generator``
    draws the slopes when ``training``."""
    return _rrelu(input, lower, upper, training, False, generator)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """In-place :func:`rrelu`."""
    return _rrelu(input, lower, upper, training, True, generator)


def _feature_dropout_form(name, inplace):
    def fn(input, p, train):
        return _dropout(input, p, train, inplace, 2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.{name}(input, p, train)``: zero whole channels ``input[n, c]`` "
                  "with probability ``p`` (when ``train``) and scale the rest by "
                  "``1 / (1 - p)``" + (", in place." if inplace else "."))
    return fn


feature_dropout = _feature_dropout_form("feature_dropout", False)
feature_dropout_ = _feature_dropout_form("feature_dropout_", True)


# ---- embedding and normalisation

def embedding_renorm_(input, indices, max_norm, norm_type):
    """Scale the rows of the embedding matrix ``input`` picked by ``indices`` whose
    ``norm_type``-norm exceeds ``max_norm`` down to norm ``max_norm``, in place (what
    :func:`ember.nn.functional.embedding` does with ``max_norm``); returns ``input``."""
    _embedding_renorm(input, indices, max_norm, norm_type)
    return input


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, kept as size-1 dims; with
    ``dim=-1`` the norm of the whole tensor (a scalar).  Weight normalisation divides by
    it.

    Examples
    --------
    >>> import ember
    >>> ember.norm_except_dim(ember.tensor([[3.0, 4.0], [6.0, 8.0]]), 2, 0)
    tensor([[ 5.],
            [10.]])
    """
    if dim == -1:
        return v.norm(pow)
    dim = dim + v.dim() if dim < 0 else dim
    others = tuple(d for d in range(v.dim()) if d != dim)
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()

def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by ``indices``; a negative ``padding_idx`` means none
    (note the argument order: ``weight`` first)."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """See :func:`ember.nn.functional.layer_norm`."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """See :func:`ember.nn.functional.group_norm`."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """See :func:`ember.nn.functional.batch_norm` (here every argument is positional and
    required, and the affine parameters come before the running statistics)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                        eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    """See :func:`ember.nn.functional.instance_norm` (every argument positional)."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


# ---- losses: reduction as an int

def kl_div(input, target, reduction=1, *, log_target=False):
    """See :func:`ember.nn.functional.kl_div` (``reduction`` 1 is the element mean)."""
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"),
                    log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    """See :func:`ember.nn.functional.margin_ranking_loss`."""
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    """See :func:`ember.nn.functional.hinge_embedding_loss`."""
    return F.hinge_embedding_loss(input, target, margin,
                                  reduction=_reduction(reduction, "hinge_embedding_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction=1):
    """See :func:`ember.nn.functional.triplet_margin_loss`."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """See :func:`ember.nn.functional.poisson_nll_loss` (every argument required)."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    """See :func:`ember.nn.functional.cosine_embedding_loss`."""
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """See :func:`ember.nn.functional.binary_cross_entropy_with_logits`."""
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
        pos_weight=pos_weight)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    """See :func:`ember.nn.functional.ctc_loss`."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction, "ctc_loss"), zero_infinity)


# ---- pooling and padding

def _max_pool_form(name, functional, with_indices):
    def fn(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return functional(input, kernel_size, _stride(stride), padding, dilation, ceil_mode,
                          return_indices=with_indices)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"See :func:`ember.nn.functional.{functional.__name__}` (an empty "
                  "``stride`` means the kernel size)"
                  + ("; returns ``(values, indices)``." if with_indices else "."))
    return fn


max_pool1d = _max_pool_form("max_pool1d", F.max_pool1d, False)
max_pool2d = _max_pool_form("max_pool2d", F.max_pool2d, False)
max_pool3d = _max_pool_form("max_pool3d", F.max_pool3d, False)
max_pool1d_with_indices = _max_pool_form("max_pool1d_with_indices", F.max_pool1d, True)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    """See :func:`ember.nn.functional.avg_pool1d` (an empty ``stride`` means the kernel
    size)."""
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                        count_include_pad)


def adaptive_max_pool1d(input, output_size):
    """See :func:`ember.nn.functional.adaptive_max_pool1d`; returns ``(values, indices)``."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


# ---- convolution and sampling

def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """Convolution with every option given (PyTorch's ``torch.convolution``): a
    cross-correlation (see :func:`ember.nn.functional.conv2d`) or, with ``transposed``, a
    transposed convolution (:func:`ember.nn.functional.conv_transpose2d`), of as many
    spatial dims as ``weight`` has beyond two."""
    spatial = weight.dim() - 2
    if spatial not in (1, 2, 3):
        raise RuntimeError(f"convolution(): expected a 3-D, 4-D or 5-D weight, got "
                           f"{weight.dim()}-D")
    if transposed:
        return getattr(F, f"conv_transpose{spatial}d")(input, weight, bias, stride, padding,
                                                       output_padding, groups, dilation)
    return getattr(F, f"conv{spatial}d")(input, weight, bias, stride, padding, dilation, groups)


def affine_grid_generator(theta, size, align_corners):
    """See :func:`ember.nn.functional.affine_grid` (``align_corners`` required)."""
    return F.affine_grid(theta, size, align_corners)


_INTERPOLATION = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def _grid_sampler_form(name, dims):
    def fn(input, grid, interpolation_mode, padding_mode, align_corners):
        if dims is not None and input.dim() != dims:
            raise RuntimeError(f"{name}(): expected {dims}-D input and grid, but got input with "
                               f"sizes {list(input.shape)}")
        if interpolation_mode not in _INTERPOLATION:
            raise RuntimeError(f"{name}(): interpolation_mode must be 0 (bilinear), 1 (nearest) "
                               f"or 2 (bicubic), got {interpolation_mode}")
        if padding_mode not in _PADDING:
            raise RuntimeError(f"{name}(): padding_mode must be 0 (zeros), 1 (border) or 2 "
                               f"(reflection), got {padding_mode}")
        return F.grid_sample(input, grid, _INTERPOLATION[interpolation_mode],
                             _PADDING[padding_mode], align_corners)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.{name}``: :func:`ember.nn.functional.grid_sample` with "
                  "``interpolation_mode`` 0 (bilinear), 1 (nearest) or 2 (bicubic) and "
                  "``padding_mode`` 0 (zeros), 1 (border) or 2 (reflection)"
                  + (f", for {dims}-D inputs." if dims else "."))
    return fn


grid_sampler = _grid_sampler_form("grid_sampler", None)
grid_sampler_2d = _grid_sampler_form("grid_sampler_2d", 4)
grid_sampler_3d = _grid_sampler_form("grid_sampler_3d", 5)


def constant_pad_nd(input, pad, value=0):
    """Pad with the constant ``value`` (see :func:`ember.nn.functional.pad`)."""
    return F.pad(input, pad, "constant", value)


__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "affine_grid_generator", "alpha_dropout",
    "alpha_dropout_", "avg_pool1d", "batch_norm", "bilinear",
    "binary_cross_entropy_with_logits", "channel_shuffle", "constant_pad_nd", "conv1d",
    "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution", "cosine_embedding_loss", "cosine_similarity", "ctc_loss", "dropout",
    "dropout_", "embedding", "embedding_renorm_", "feature_alpha_dropout",
    "feature_alpha_dropout_", "feature_dropout", "feature_dropout_", "grid_sampler",
    "grid_sampler_2d", "grid_sampler_3d", "group_norm", "hinge_embedding_loss",
    "instance_norm", "kl_div", "layer_norm", "margin_ranking_loss", "max_pool1d",
    "max_pool1d_with_indices", "max_pool2d", "max_pool3d", "norm_except_dim",
    "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss",
    "prelu", "rms_norm", "rrelu", "rrelu_", "triplet_margin_loss",
]


def _prelu_method(self, weight):
    """See :func:`ember.nn.functional.prelu`."""
    return prelu(self, weight)


_prelu_method.__name__ = _prelu_method.__qualname__ = "prelu"
_add_method("prelu", _prelu_method)
