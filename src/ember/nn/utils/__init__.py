"""Utilities for ``ember.nn``: gradient clipping and parameter/vector conversion."""
from ember.nn.utils.clip_grad import (
    clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_,
)
from ember.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]
from ember.nn.utils import parametrize, parametrizations  # noqa: E402
from ember.nn.utils.weight_norm import weight_norm, remove_weight_norm  # noqa: E402
from ember.nn.utils.spectral_norm import spectral_norm, remove_spectral_norm  # noqa: E402

__all__ += ["parametrize", "parametrizations", "weight_norm", "remove_weight_norm",
            "spectral_norm", "remove_spectral_norm"]
