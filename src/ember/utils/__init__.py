"""Utilities around tensors: data loading (:mod:`ember.utils.data`), activation
checkpointing (:mod:`ember.utils.checkpoint`), timing (:mod:`ember.utils.benchmark`),
TensorBoard logging (:mod:`ember.utils.tensorboard`, imported on use: it needs the
``tensorboard`` package), and PyTorch's :mod:`~ember.utils.hooks`,
:mod:`~ember.utils.dlpack` and :mod:`~ember.utils._pytree` modules."""
from ember.utils import benchmark, data, checkpoint, hooks, dlpack  # noqa: F401
