"""The pixel-shuffle layers under PyTorch's module path ``torch.nn.modules.pixelshuffle``.

They are defined in :mod:`ember.nn.modules.resample`.
"""
from ember.nn.modules.resample import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
