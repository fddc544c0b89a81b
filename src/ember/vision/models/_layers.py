"""The building blocks of ``torchvision.ops.misc`` that the MobileNets use.

Their submodule names are torchvision's (``Conv2dNormActivation`` is a ``Sequential`` of
``0``, ``1``, ``2``; ``SqueezeExcitation`` has ``fc1`` and ``fc2``), so state dicts match.
"""
from ember import nn


class Conv2dNormActivation(nn.Sequential):
    """A convolution, a normalization and an activation, as torchvision's.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the convolution.
    kernel_size : int, default 3
        Kernel size.
    stride : int, default 1
        Stride.
    padding : int, optional
        Default ``(kernel_size - 1) // 2 * dilation`` (same size at stride 1).
    groups : int, default 1
        Groups of the convolution.
    norm_layer : callable or None, default ``nn.BatchNorm2d``
        Builds the normalization from ``out_channels``; ``None`` leaves it out.
    activation_layer : callable or None, default ``nn.ReLU``
        Builds the activation; ``None`` leaves it out.
    dilation : int, default 1
        Dilation of the convolution.
    inplace : bool or None, default True
        Passed to ``activation_layer`` unless ``None``.
    bias : bool, optional
        Bias of the convolution; default: only without normalization.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace=True, bias=None):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al.): channels rescaled by a gate of their means.

    Parameters
    ----------
    input_channels : int
        Channels of the input (and output).
    squeeze_channels : int
        Channels of the bottleneck between ``fc1`` and ``fc2``.
    activation : callable, default ``nn.ReLU``
        Builds the activation after ``fc1``.
    scale_activation : callable, default ``nn.Sigmoid``
        Builds the gate's activation.
    """

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input):
        """``input`` of shape ``(N, C, H, W)`` times its gate of shape ``(N, C, 1, 1)``."""
        scale = self.activation(self.fc1(self.avgpool(input)))
        return self.scale_activation(self.fc2(scale)) * input


def _init_mobilenet(model):
    """The MobileNets' initialization: fan-out normal convolutions, small normal linears."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
