"""``LinearCrossEntropyOptions`` under PyTorch's module path
``torch.nn.modules.linear_cross_entropy_options``.

It is defined in :mod:`ember.nn._functional.linear_cross_entropy`.
"""
from ember.nn._functional.linear_cross_entropy import LinearCrossEntropyOptions

__all__ = ["LinearCrossEntropyOptions"]
