"""The upsampling layers under PyTorch's module path ``torch.nn.modules.upsampling``.

They are defined in :mod:`ember.nn.modules.resample`.
"""
from ember.nn.modules.resample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
