"""Utilities around tensors: data loading (:mod:`ember.utils.data`), activation
checkpointing (:mod:`ember.utils.checkpoint`) and TensorBoard logging
(:mod:`ember.utils.tensorboard`, imported on use: it needs the ``tensorboard`` package)."""
from ember.utils import data, checkpoint  # noqa: F401
