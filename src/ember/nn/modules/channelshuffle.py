"""``ChannelShuffle`` under PyTorch's module path ``torch.nn.modules.channelshuffle``.

It is defined in :mod:`ember.nn.modules.resample`.
"""
from ember.nn.modules.resample import ChannelShuffle

__all__ = ["ChannelShuffle"]
