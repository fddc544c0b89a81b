"""Functional interface of ember.nn: activations, losses and other stateless
operations with PyTorch's ``torch.nn.functional`` names, signatures and defaults.

Every function is a composition of differentiable ember ops, so gradients and
double backward come from autograd.
"""
from ember.nn._functional.activation import (
    celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, leaky_relu, log_softmax,
    logsigmoid, mish, prelu, relu, relu6, selu, sigmoid, silu, softmax, softmin, softplus,
    softshrink, softsign, tanh, tanhshrink, threshold,
)
from ember.nn._functional.loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss, cross_entropy,
    gaussian_nll_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss, mse_loss,
    multilabel_soft_margin_loss, nll_loss, poisson_nll_loss, smooth_l1_loss, triplet_margin_loss,
)
from ember.nn._functional.misc import (
    bilinear, cosine_similarity, dropout, embedding, linear, normalize, one_hot, pad,
    pairwise_distance, scaled_dot_product_attention,
)

__all__ = [
    # activations
    "celu", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "leaky_relu", "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6", "selu",
    "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold",
    # losses
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cross_entropy", "gaussian_nll_loss", "huber_loss", "kl_div", "l1_loss",
    "margin_ranking_loss", "mse_loss", "multilabel_soft_margin_loss", "nll_loss",
    "poisson_nll_loss", "smooth_l1_loss", "triplet_margin_loss",
    # others
    "bilinear", "cosine_similarity", "dropout", "embedding", "linear", "normalize", "one_hot",
    "pad", "pairwise_distance", "scaled_dot_product_attention",
]
