"""Utilities around tensors: data loading (:mod:`ember.utils.data`) and activation
checkpointing (:mod:`ember.utils.checkpoint`)."""
from ember.utils import data, checkpoint  # noqa: F401
