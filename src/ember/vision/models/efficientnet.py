"""EfficientNet B0 to B7 and V2, as ``torchvision.models.efficientnet``."""
import copy
import math
from collections.abc import Sequence
from functools import partial

import ember
from ember import nn
from ember.vision.models._utils import _builder, _check_weights, _make_divisible
from ember.vision.ops import Conv2dNormActivation, SqueezeExcitation, StochasticDepth

__all__ = ["EfficientNet", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2",
           "efficientnet_b3", "efficientnet_b4", "efficientnet_b5", "efficientnet_b6",
           "efficientnet_b7", "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"]


class _MBConvConfig:
    """One EfficientNet stage's settings: ``num_layers`` blocks built by ``block``."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                 block):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels, width_mult, min_value=None):
        """``channels * width_mult`` rounded to a multiple of 8."""
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """A stage of ``MBConv`` blocks: channels scaled by ``width_mult`` (to multiples of 8),
    the number of blocks by ``depth_mult`` (rounded up)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                 width_mult=1.0, depth_mult=1.0, block=None):
        super().__init__(expand_ratio, kernel, stride,
                         self.adjust_channels(input_channels, width_mult),
                         self.adjust_channels(out_channels, width_mult),
                         self.adjust_depth(num_layers, depth_mult),
                         MBConv if block is None else block)

    @staticmethod
    def adjust_depth(num_layers, depth_mult):
        """``num_layers * depth_mult`` rounded up."""
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    """A stage of ``FusedMBConv`` blocks (EfficientNetV2's early stages)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                 block=None):
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                         FusedMBConv if block is None else block)


class MBConv(nn.Module):
    """EfficientNet's block: expansion, depthwise convolution, squeeze-excitation, linear
    projection, and a shortcut (through stochastic depth) when the shape is kept."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=SqueezeExcitation):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers = []
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded_channels,
                                               kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded_channels, expanded_channels,
                                           kernel_size=cnf.kernel, stride=cnf.stride,
                                           groups=expanded_channels, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(se_layer(expanded_channels, squeeze_channels,
                               activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded_channels, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        """Apply the block to ``input`` of shape ``(N, C, H, W)``."""
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class FusedMBConv(nn.Module):
    """EfficientNetV2's fused block: one full convolution in place of the expansion and the
    depthwise convolution, then a linear projection (when expanding), and a shortcut
    (through stochastic depth) when the shape is kept."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:
            layers = [
                Conv2dNormActivation(cnf.input_channels, expanded_channels,
                                     kernel_size=cnf.kernel, stride=cnf.stride,
                                     norm_layer=norm_layer, activation_layer=nn.SiLU),
                Conv2dNormActivation(expanded_channels, cnf.out_channels, kernel_size=1,
                                     norm_layer=norm_layer, activation_layer=None),
            ]
        else:
            layers = [Conv2dNormActivation(cnf.input_channels, cnf.out_channels,
                                           kernel_size=cnf.kernel, stride=cnf.stride,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        """Apply the block to ``input`` of shape ``(N, C, H, W)``."""
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class EfficientNet(nn.Module):
    """EfficientNet and EfficientNetV2 (Tan and Le), as ``torchvision.models.EfficientNet``.

    Parameters
    ----------
    inverted_residual_setting : list of MBConvConfig or FusedMBConvConfig
        The stages.
    dropout : float
        Dropout probability before the classifier.
    stochastic_depth_prob : float, default 0.2
        Drop probability of the last block's branch; block ``i`` of ``n`` uses
        ``stochastic_depth_prob * i / n``.
    num_classes : int, default 1000
        Outputs of the final linear layer.
    norm_layer : callable, optional
        Builds the normalization from a channel count; default ``nn.BatchNorm2d``.
    last_channel : int, optional
        Channels of the last convolution; default four times the last stage's.

    Notes
    -----
    Convolutions are initialized by Kaiming normal on the fan-out, the linear layer
    uniformly in ``±1/sqrt(num_classes)``, as in torchvision.
    """

    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2,
                 num_classes=1000, norm_layer=None, last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence) and
                all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels,
                                       kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.SiLU)]
        total_stage_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # the stage's first block changes the shape, the others keep it
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = (last_channel if last_channel is not None
                                    else 4 * lastconv_input_channels)
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(lastconv_output_channels, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        x = ember.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def _efficientnet(inverted_residual_setting, default_dropout, last_channel, weights, progress,
                  **kwargs):
    _check_weights(weights)
    return EfficientNet(inverted_residual_setting, kwargs.pop("dropout", default_dropout),
                        last_channel=last_channel, **kwargs)


def _efficientnet_v1(width_mult, depth_mult, default_dropout, weights, progress, **kwargs):
    bneck_conf = partial(MBConvConfig, width_mult=width_mult, depth_mult=depth_mult)
    inverted_residual_setting = [
        bneck_conf(1, 3, 1, 32, 16, 1),
        bneck_conf(6, 3, 2, 16, 24, 2),
        bneck_conf(6, 5, 2, 24, 40, 2),
        bneck_conf(6, 3, 2, 40, 80, 3),
        bneck_conf(6, 5, 1, 80, 112, 3),
        bneck_conf(6, 5, 2, 112, 192, 4),
        bneck_conf(6, 3, 1, 192, 320, 1),
    ]
    return _efficientnet(inverted_residual_setting, default_dropout, None, weights, progress,
                         **kwargs)


_EFF = ("EfficientNet", " (``num_classes``, ``dropout``, ``stochastic_depth_prob``, "
        "``norm_layer``)")
# B5 to B7 normalize with the TensorFlow original's batch norm settings
_TF_NORM = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)


@_builder(_EFF, "EfficientNet-B0 (Tan and Le, 2019)")
def efficientnet_b0(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(1.0, 1.0, 0.2, weights, progress, **kwargs)


@_builder(_EFF, "EfficientNet-B1 (Tan and Le, 2019)")
def efficientnet_b1(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(1.0, 1.1, 0.2, weights, progress, **kwargs)


@_builder(_EFF, "EfficientNet-B2 (Tan and Le, 2019)")
def efficientnet_b2(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(1.1, 1.2, 0.3, weights, progress, **kwargs)


@_builder(_EFF, "EfficientNet-B3 (Tan and Le, 2019)")
def efficientnet_b3(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(1.2, 1.4, 0.3, weights, progress, **kwargs)


@_builder(_EFF, "EfficientNet-B4 (Tan and Le, 2019)")
def efficientnet_b4(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(1.4, 1.8, 0.4, weights, progress, **kwargs)


@_builder(_EFF, "EfficientNet-B5 (Tan and Le, 2019)")
def efficientnet_b5(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(1.6, 2.2, 0.4, weights, progress, norm_layer=_TF_NORM, **kwargs)


@_builder(_EFF, "EfficientNet-B6 (Tan and Le, 2019)")
def efficientnet_b6(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(1.8, 2.6, 0.5, weights, progress, norm_layer=_TF_NORM, **kwargs)


@_builder(_EFF, "EfficientNet-B7 (Tan and Le, 2019)")
def efficientnet_b7(*, weights=None, progress=True, **kwargs):
    return _efficientnet_v1(2.0, 3.1, 0.5, weights, progress, norm_layer=_TF_NORM, **kwargs)


_V2_NORM = partial(nn.BatchNorm2d, eps=1e-03)


@_builder(_EFF, "EfficientNetV2-S (Tan and Le, 2021)")
def efficientnet_v2_s(*, weights=None, progress=True, **kwargs):
    inverted_residual_setting = [
        FusedMBConvConfig(1, 3, 1, 24, 24, 2),
        FusedMBConvConfig(4, 3, 2, 24, 48, 4),
        FusedMBConvConfig(4, 3, 2, 48, 64, 4),
        MBConvConfig(4, 3, 2, 64, 128, 6),
        MBConvConfig(6, 3, 1, 128, 160, 9),
        MBConvConfig(6, 3, 2, 160, 256, 15),
    ]
    return _efficientnet(inverted_residual_setting, 0.2, 1280, weights, progress,
                         norm_layer=_V2_NORM, **kwargs)


@_builder(_EFF, "EfficientNetV2-M (Tan and Le, 2021)")
def efficientnet_v2_m(*, weights=None, progress=True, **kwargs):
    inverted_residual_setting = [
        FusedMBConvConfig(1, 3, 1, 24, 24, 3),
        FusedMBConvConfig(4, 3, 2, 24, 48, 5),
        FusedMBConvConfig(4, 3, 2, 48, 80, 5),
        MBConvConfig(4, 3, 2, 80, 160, 7),
        MBConvConfig(6, 3, 1, 160, 176, 14),
        MBConvConfig(6, 3, 2, 176, 304, 18),
        MBConvConfig(6, 3, 1, 304, 512, 5),
    ]
    return _efficientnet(inverted_residual_setting, 0.3, 1280, weights, progress,
                         norm_layer=_V2_NORM, **kwargs)


@_builder(_EFF, "EfficientNetV2-L (Tan and Le, 2021)")
def efficientnet_v2_l(*, weights=None, progress=True, **kwargs):
    inverted_residual_setting = [
        FusedMBConvConfig(1, 3, 1, 32, 32, 4),
        FusedMBConvConfig(4, 3, 2, 32, 64, 7),
        FusedMBConvConfig(4, 3, 2, 64, 96, 7),
        MBConvConfig(4, 3, 2, 96, 192, 10),
        MBConvConfig(6, 3, 1, 192, 224, 19),
        MBConvConfig(6, 3, 2, 224, 384, 25),
        MBConvConfig(6, 3, 1, 384, 640, 7),
    ]
    return _efficientnet(inverted_residual_setting, 0.4, 1280, weights, progress,
                         norm_layer=_V2_NORM, **kwargs)
