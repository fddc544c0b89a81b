"""The batch-norm layers under PyTorch's module path ``torch.nn.modules.batchnorm``.

They are defined in :mod:`ember.nn.modules.normalization`; code written for PyTorch
tests ``isinstance(m, nn.modules.batchnorm._BatchNorm)`` (to skip weight decay on
batch-norm parameters, or to reset running statistics), so the bases are here too.
"""
from ember.nn.modules.normalization import (  # noqa: F401  (_NormBase, _BatchNorm: bases)
    _NormBase, _BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d,
    LazyBatchNorm2d, LazyBatchNorm3d,
)
from ember.nn.modules.sync_batchnorm import SyncBatchNorm

__all__ = ["BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d", "BatchNorm3d",
           "LazyBatchNorm3d", "SyncBatchNorm"]
