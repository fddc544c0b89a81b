"""The instance-norm layers under PyTorch's module path ``torch.nn.modules.instancenorm``.

They are defined in :mod:`ember.nn.modules.normalization`; ``_InstanceNorm`` is their
common base, which code written for PyTorch tests with ``isinstance``.
"""
from ember.nn.modules.normalization import (  # noqa: F401  (_InstanceNorm: the base)
    _InstanceNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LazyInstanceNorm1d,
    LazyInstanceNorm2d, LazyInstanceNorm3d,
)

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]
