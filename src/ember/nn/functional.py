"""Functional interface of ember.nn: activations, losses and other stateless
operations with PyTorch's ``torch.nn.functional`` names, signatures and defaults.

Every function is a composition of differentiable ember ops, so gradients and
double backward come from autograd.
"""
from ember.nn._functional.activation import (
    celu, celu_, elu, elu_, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, hardtanh_,
    leaky_relu, leaky_relu_, log_softmax, logsigmoid, mish, prelu, relu, relu_, relu6, rrelu,
    rrelu_, selu, selu_, sigmoid, silu, softmax, softmin, softplus, softshrink, softsign, tanh,
    tanhshrink, threshold, threshold_,
)
from ember.nn._functional.conv import (
    conv1d, conv2d, conv3d, conv_tbc, conv_transpose1d, conv_transpose2d, conv_transpose3d,
)
from ember.nn._functional.loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, gaussian_nll_loss,
    huber_loss, kl_div, l1_loss, mse_loss, multilabel_soft_margin_loss, nll_loss,
    poisson_nll_loss, smooth_l1_loss,
)
from ember.nn._functional.margin import (
    cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
    multilabel_margin_loss, soft_margin_loss, triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ember.nn._functional.misc import (
    alpha_dropout, bilinear, cosine_similarity, dropout, dropout1d, dropout2d, dropout3d,
    embedding, feature_alpha_dropout, linear, normalize, one_hot, pad, pairwise_distance,
    scaled_dot_product_attention,
)
from ember.nn._functional.conv import fold, unfold
from ember.nn._functional.pooling import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,
    adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d, avg_pool2d, avg_pool3d, interpolate,
    max_pool1d, max_pool2d, max_pool3d,
)
from ember.nn._functional.pooling import (
    adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d_with_indices, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d_with_indices,
    max_pool2d_with_indices, max_pool3d_with_indices, max_unpool1d, max_unpool2d, max_unpool3d,
)
from ember.nn._functional.fractional import (
    fractional_max_pool2d, fractional_max_pool2d_with_indices, fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)
from ember.nn._functional.resample import (
    affine_grid, channel_shuffle, grid_sample, pixel_shuffle, pixel_unshuffle, upsample,
    upsample_bilinear, upsample_nearest,
)
from ember.nn._functional.normalization import (
    batch_norm, group_norm, instance_norm, layer_norm, rms_norm,
)
from ember.nn._functional.embedding_bag import embedding_bag
from ember.nn._functional.ctc import ctc_loss
from ember.nn._functional.extra import gumbel_softmax, local_response_norm, pdist
from ember.nn._functional.attention import multi_head_attention_forward
from ember.nn._functional.linear_cross_entropy import linear_cross_entropy
# PyTorch's F._Reduction: the reduction-name helpers of torch.nn._reduction
from ember.nn import _reduction as _Reduction  # noqa: F401

__all__ = [
    # activations
    "celu", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "leaky_relu", "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6", "selu",
    "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold", "rrelu",
    "celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "rrelu_", "selu_", "threshold_",
    # losses
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cross_entropy", "gaussian_nll_loss", "huber_loss", "kl_div", "l1_loss",
    "margin_ranking_loss", "mse_loss", "multilabel_soft_margin_loss", "nll_loss",
    "poisson_nll_loss", "smooth_l1_loss", "triplet_margin_loss", "hinge_embedding_loss",
    "multi_margin_loss", "multilabel_margin_loss", "soft_margin_loss",
    "triplet_margin_with_distance_loss", "linear_cross_entropy",
    # normalisation
    "batch_norm", "group_norm", "instance_norm", "layer_norm", "rms_norm",
    # convolution
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "conv_tbc",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d",
    "max_pool2d", "max_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    # others
    "alpha_dropout", "bilinear", "cosine_similarity", "dropout", "dropout1d", "dropout2d",
    "dropout3d", "embedding", "feature_alpha_dropout", "linear", "normalize", "one_hot", "pad",
    "pairwise_distance", "scaled_dot_product_attention", "interpolate",
    "embedding_bag",
    # pooling and resampling
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
    "lp_pool1d", "lp_pool2d", "lp_pool3d", "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample", "affine_grid",
    "ctc_loss",
    "gumbel_softmax", "local_response_norm", "pdist",
    "fold", "unfold",
    "multi_head_attention_forward",
]
