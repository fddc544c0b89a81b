"""Utilities for ``ember.nn``: gradient clipping and parameter/vector conversion."""
from ember.nn.utils.clip_grad import (
    clip_grad_norm, clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_,
)
from ember.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "clip_grad_norm", "parameters_to_vector", "vector_to_parameters"]
from ember.nn.utils import parametrize, parametrizations  # noqa: E402
from ember.nn.utils.weight_norm import weight_norm, remove_weight_norm  # noqa: E402
from ember.nn.utils.spectral_norm import spectral_norm, remove_spectral_norm  # noqa: E402

__all__ += ["parametrize", "parametrizations", "weight_norm", "remove_weight_norm",
            "spectral_norm", "remove_spectral_norm"]
from ember.nn.utils.fusion import (  # noqa: E402
    fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights,
)
from ember.nn.utils.init import skip_init  # noqa: E402

__all__ += ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
            "fuse_linear_bn_weights", "skip_init"]
from ember.nn.utils.memory_format import (  # noqa: E402
    convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format,
)

__all__ += ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]
from ember.nn.utils import prune, rnn, stateless  # noqa: E402,F401
