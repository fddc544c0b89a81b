"""MobileNetV2, as ``torchvision.models.mobilenetv2``."""
import ember
from ember import nn
from ember.vision.models._layers import _init_mobilenet
from ember.vision.models._utils import _builder, _check_weights, _make_divisible
from ember.vision.ops import Conv2dNormActivation

__all__ = ["MobileNetV2", "mobilenet_v2"]


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion, 3x3 depthwise convolution, linear 1x1 projection.

    Parameters
    ----------
    inp, oup : int
        Input and output channels; the shortcut is used when they are equal at stride 1.
    stride : int
        1 or 2.
    expand_ratio : float
        Hidden channels per input channel.
    norm_layer : callable, optional
        Builds the normalization from a channel count; default ``nn.BatchNorm2d``.
    """

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        self.stride = stride
        if stride not in [1, 2]:
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = self.stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=nn.ReLU6))
        layers.extend([
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ])
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        """Apply the block to ``x`` of shape ``(N, inp, H, W)``."""
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 (Sandler et al.), as ``torchvision.models.MobileNetV2``.

    Parameters
    ----------
    num_classes : int, default 1000
        Outputs of the final linear layer.
    width_mult : float, default 1.0
        Multiplies every layer's channel count.
    inverted_residual_setting : list of [t, c, n, s], optional
        Per stage: expansion ratio, channels, blocks and first stride; default the paper's.
    round_nearest : int, default 8
        Round channel counts to multiples of this (1 turns rounding off).
    block : callable, optional
        Builds the blocks; default ``InvertedResidual``.
    norm_layer : callable, optional
        Builds the normalization from a channel count; default ``nn.BatchNorm2d``.
    dropout : float, default 0.2
        Dropout probability before the classifier.
    """

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None,
                 round_nearest=8, block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        if block is None:
            block = InvertedResidual
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        input_channel = 32
        last_channel = 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element list, "
                             f"got {inverted_residual_setting}")
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                         activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(block(input_channel, output_channel, stride, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.last_channel, num_classes),
        )
        _init_mobilenet(self)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(ember.flatten(x, 1))


@_builder(("MobileNetV2", " (``num_classes``, ``width_mult``, ``dropout``, ...)"),
           "MobileNetV2 (Sandler et al., 2018)")
def mobilenet_v2(*, weights=None, progress=True, **kwargs):
    _check_weights(weights)
    return MobileNetV2(**kwargs)
