"""ConvNeXt, as ``torchvision.models.convnext``."""
from collections.abc import Sequence
from functools import partial

import ember
from ember import nn
from ember.nn import functional as F
from ember.vision.models._utils import _builder, _check_weights
from ember.vision.ops import Conv2dNormActivation, Permute, StochasticDepth

__all__ = ["ConvNeXt", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]


class LayerNorm2d(nn.LayerNorm):
    """Layer normalization over the channels of ``(N, C, H, W)`` images, at each pixel."""

    def forward(self, x):
        """Normalize ``x`` of shape ``(N, C, H, W)`` over ``C``."""
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """ConvNeXt's block: a 7x7 depthwise convolution, then, channels last, a layer norm and
    a 4x expanding MLP, scaled per channel by ``layer_scale`` and added to the input through
    stochastic depth."""

    def __init__(self, dim, layer_scale, stochastic_depth_prob, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(ember.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input):
        """Apply the block to ``input`` of shape ``(N, C, H, W)``."""
        result = self.stochastic_depth(self.layer_scale * self.block(input))
        result += input
        return result


class CNBlockConfig:
    """One ConvNeXt stage: ``num_layers`` blocks on ``input_channels``, then (unless
    ``out_channels`` is ``None``) a downsampling to ``out_channels``."""

    def __init__(self, input_channels, out_channels, num_layers):
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self):
        return (f"{self.__class__.__name__}(input_channels={self.input_channels}, "
                f"out_channels={self.out_channels}, num_layers={self.num_layers})")


class ConvNeXt(nn.Module):
    """ConvNeXt (Liu et al.), as ``torchvision.models.ConvNeXt``.

    Parameters
    ----------
    block_setting : list of CNBlockConfig
        The stages.
    stochastic_depth_prob : float, default 0.0
        Drop probability of the last block's branch; block ``i`` of ``n`` uses
        ``stochastic_depth_prob * i / (n - 1)``.
    layer_scale : float, default 1e-6
        Initial value of each block's per-channel scale.
    num_classes : int, default 1000
        Outputs of the final linear layer.
    block : callable, optional
        Builds a block from ``(channels, layer_scale, stochastic_depth_prob)``; default
        ``CNBlock``.
    norm_layer : callable, optional
        Builds the normalization of the stem, the downsamplings and the classifier from a
        channel count; default ``LayerNorm2d`` with ``eps=1e-6``.
    **kwargs
        Ignored, as in torchvision.

    Notes
    -----
    Convolutions and linear layers are initialized from a normal of standard deviation
    0.02 truncated to ``[-2, 2]``, biases at zero, as in torchvision.
    """

    def __init__(self, block_setting, stochastic_depth_prob=0.0, layer_scale=1e-6,
                 num_classes=1000, block=None, norm_layer=None, **kwargs):
        super().__init__()
        if not block_setting:
            raise ValueError("The block_setting should not be empty")
        if not (isinstance(block_setting, Sequence) and
                all(isinstance(s, CNBlockConfig) for s in block_setting)):
            raise TypeError("The block_setting should be List[CNBlockConfig]")
        if block is None:
            block = CNBlock
        if norm_layer is None:
            norm_layer = partial(LayerNorm2d, eps=1e-6)
        layers = [Conv2dNormActivation(3, block_setting[0].input_channels, kernel_size=4,
                                       stride=4, padding=0, norm_layer=norm_layer,
                                       activation_layer=None, bias=True)]
        total_stage_blocks = sum(cnf.num_layers for cnf in block_setting)
        stage_block_id = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                sd_prob = stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:
                layers.append(nn.Sequential(
                    norm_layer(cnf.input_channels),
                    nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2),
                ))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        lastblock = block_setting[-1]
        lastconv_output_channels = (lastblock.out_channels if lastblock.out_channels is not None
                                    else lastblock.input_channels)
        self.classifier = nn.Sequential(norm_layer(lastconv_output_channels), nn.Flatten(1),
                                        nn.Linear(lastconv_output_channels, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        return self.classifier(self.avgpool(self.features(x)))


def _convnext(block_setting, default_sd_prob, weights, progress, **kwargs):
    _check_weights(weights)
    stochastic_depth_prob = kwargs.pop("stochastic_depth_prob", default_sd_prob)
    return ConvNeXt(block_setting, stochastic_depth_prob=stochastic_depth_prob, **kwargs)


_CNX = ("ConvNeXt", " (``num_classes``, ``stochastic_depth_prob``, ``layer_scale``, "
        "``block``, ``norm_layer``)")


@_builder(_CNX, "ConvNeXt-T (Liu et al., 2022)")
def convnext_tiny(*, weights=None, progress=True, **kwargs):
    block_setting = [CNBlockConfig(96, 192, 3), CNBlockConfig(192, 384, 3),
                     CNBlockConfig(384, 768, 9), CNBlockConfig(768, None, 3)]
    return _convnext(block_setting, 0.1, weights, progress, **kwargs)


@_builder(_CNX, "ConvNeXt-S (Liu et al., 2022)")
def convnext_small(*, weights=None, progress=True, **kwargs):
    block_setting = [CNBlockConfig(96, 192, 3), CNBlockConfig(192, 384, 3),
                     CNBlockConfig(384, 768, 27), CNBlockConfig(768, None, 3)]
    return _convnext(block_setting, 0.4, weights, progress, **kwargs)


@_builder(_CNX, "ConvNeXt-B (Liu et al., 2022)")
def convnext_base(*, weights=None, progress=True, **kwargs):
    block_setting = [CNBlockConfig(128, 256, 3), CNBlockConfig(256, 512, 3),
                     CNBlockConfig(512, 1024, 27), CNBlockConfig(1024, None, 3)]
    return _convnext(block_setting, 0.5, weights, progress, **kwargs)


@_builder(_CNX, "ConvNeXt-L (Liu et al., 2022)")
def convnext_large(*, weights=None, progress=True, **kwargs):
    block_setting = [CNBlockConfig(192, 384, 3), CNBlockConfig(384, 768, 3),
                     CNBlockConfig(768, 1536, 27), CNBlockConfig(1536, None, 3)]
    return _convnext(block_setting, 0.5, weights, progress, **kwargs)
