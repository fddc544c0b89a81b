"""Utilities for ``ember.nn``: gradient clipping and parameter/vector conversion."""
from ember.nn.utils.clip_grad import (
    clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_,
)
from ember.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]
from ember.nn.utils import rnn  # noqa: E402,F401
