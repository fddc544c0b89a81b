"""ShuffleNetV2, as ``torchvision.models.shufflenetv2``."""
import ember
from ember import nn
from ember.vision.models._utils import _builder, _check_weights

__all__ = ["ShuffleNetV2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
           "shufflenet_v2_x2_0"]


def channel_shuffle(x, groups):
    """Interleave the channels of ``groups`` groups: ``(N, g*c, H, W)``, channel ``i*c + j``
    moved to ``j*g + i``, so the next block's halves mix both branches."""
    batchsize, num_channels, height, width = x.shape
    x = x.view(batchsize, groups, num_channels // groups, height, width)
    return ember.transpose(x, 1, 2).contiguous().view(batchsize, num_channels, height, width)


class InvertedResidual(nn.Module):
    """ShuffleNetV2's unit: at stride 1 half the channels pass through and the other half go
    through the branch; at stride 2 both halves are computed from the whole input.  The
    halves are concatenated and shuffled."""

    def __init__(self, inp, oup, stride):
        super().__init__()
        if not (1 <= stride <= 3):
            raise ValueError("illegal stride value")
        self.stride = stride
        branch_features = oup // 2
        if stride == 1 and inp != branch_features << 1:
            raise ValueError(f"Invalid combination of stride {stride}, inp {inp} and oup {oup} "
                             f"values. If stride == 1 then inp should be equal to oup // 2 << 1.")
        if stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=stride, padding=1),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, kernel_size=1, bias=False),
                nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch_features, branch_features, kernel_size=1,
                      bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
            self.depthwise_conv(branch_features, branch_features, kernel_size=3, stride=stride,
                                padding=1),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, kernel_size=1, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
        )

    @staticmethod
    def depthwise_conv(i, o, kernel_size, stride=1, padding=0, bias=False):
        """A convolution with one group per input channel."""
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x):
        """Apply the unit to ``x`` of shape ``(N, C, H, W)``."""
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = ember.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = ember.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2 (Ma et al.), as ``torchvision.models.ShuffleNetV2``.

    Parameters
    ----------
    stages_repeats : list of 3 int
        Units in ``stage2``, ``stage3`` and ``stage4``.
    stages_out_channels : list of 5 int
        Channels out of ``conv1``, the three stages and ``conv5``.
    num_classes : int, default 1000
        Outputs of the final linear layer.
    inverted_residual : callable, optional
        Builds a unit from ``(inp, oup, stride)``; default ShuffleNetV2's unit.

    Notes
    -----
    Layers keep ``nn``'s default initialization, as in torchvision.
    """

    def __init__(self, stages_repeats, stages_out_channels, num_classes=1000,
                 inverted_residual=InvertedResidual):
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels
        output_channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, output_channels, 3, 2, 1, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(inplace=True),
        )
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, repeats, output_channels in zip(("stage2", "stage3", "stage4"),
                                                  stages_repeats, stages_out_channels[1:]):
            seq = [inverted_residual(input_channels, output_channels, 2)]
            seq += [inverted_residual(output_channels, output_channels, 1)
                    for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*seq))
            input_channels = output_channels
        output_channels = stages_out_channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 1, 1, 0, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(output_channels, num_classes)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return self.fc(x.mean([2, 3]))


def _shufflenetv2(weights, progress, *args, **kwargs):
    _check_weights(weights)
    return ShuffleNetV2(*args, **kwargs)


_SHUFFLE = ("ShuffleNetV2", " (``num_classes``, ``inverted_residual``)")


@_builder(_SHUFFLE, "ShuffleNetV2 with 0.5x output channels (Ma et al., 2018)")
def shufflenet_v2_x0_5(*, weights=None, progress=True, **kwargs):
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 48, 96, 192, 1024], **kwargs)


@_builder(_SHUFFLE, "ShuffleNetV2 with 1.0x output channels (Ma et al., 2018)")
def shufflenet_v2_x1_0(*, weights=None, progress=True, **kwargs):
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 116, 232, 464, 1024], **kwargs)


@_builder(_SHUFFLE, "ShuffleNetV2 with 1.5x output channels (Ma et al., 2018)")
def shufflenet_v2_x1_5(*, weights=None, progress=True, **kwargs):
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 176, 352, 704, 1024], **kwargs)


@_builder(_SHUFFLE, "ShuffleNetV2 with 2.0x output channels (Ma et al., 2018)")
def shufflenet_v2_x2_0(*, weights=None, progress=True, **kwargs):
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 244, 488, 976, 2048], **kwargs)
