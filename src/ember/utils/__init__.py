"""Utilities around tensors: data loading (:mod:`ember.utils.data`), activation
checkpointing (:mod:`ember.utils.checkpoint`), timing (:mod:`ember.utils.benchmark`) and
TensorBoard logging (:mod:`ember.utils.tensorboard`, imported on use: it needs the
``tensorboard`` package)."""
from ember.utils import benchmark, data, checkpoint  # noqa: F401
