"""ResNet, ResNeXt and Wide ResNet, as ``torchvision.models.resnet``."""
import ember
from ember import nn
from ember.vision.models._utils import _builder, _check_weights, _ovewrite_named_param

__all__ = [
    "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
    "wide_resnet101_2",
]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution without bias, padded to keep the size at stride 1."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """The two 3x3 convolutions of ResNet-18 and ResNet-34, with a shortcut.

    Parameters
    ----------
    inplanes : int
        Input channels.
    planes : int
        Output channels (``expansion`` is 1).
    stride : int, default 1
        Stride of the first convolution.
    downsample : Module, optional
        Applied to the input to match the output's shape on the shortcut.
    groups : int, default 1
        Must be 1.
    base_width : int, default 64
        Must be 64.
    dilation : int, default 1
        Must be 1.
    norm_layer : callable, optional
        Builds the normalization from a channel count; default ``nn.BatchNorm2d``.

    Raises
    ------
    ValueError
        When ``groups != 1`` or ``base_width != 64``.
    NotImplementedError
        When ``dilation > 1``.
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        """Apply the block to ``x`` of shape ``(N, inplanes, H, W)``."""
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1, 3x3 and 1x1 convolutions with a shortcut (ResNet-50 and deeper).

    The stride is on the 3x3 convolution (ResNet v1.5), as in torchvision.

    Parameters
    ----------
    inplanes : int
        Input channels.
    planes : int
        Output channels divided by ``expansion`` (4).
    stride : int, default 1
        Stride of the 3x3 convolution.
    downsample : Module, optional
        Applied to the input to match the output's shape on the shortcut.
    groups : int, default 1
        Groups of the 3x3 convolution (ResNeXt's cardinality).
    base_width : int, default 64
        Width per group; the inner width is ``int(planes * base_width / 64) * groups``.
    dilation : int, default 1
        Dilation of the 3x3 convolution.
    norm_layer : callable, optional
        Builds the normalization from a channel count; default ``nn.BatchNorm2d``.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        """Apply the block to ``x`` of shape ``(N, inplanes, H, W)``."""
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """The residual network of He et al., as ``torchvision.models.ResNet``.

    Parameters
    ----------
    block : type
        :class:`BasicBlock` or :class:`Bottleneck`.
    layers : list of int
        Blocks in each of the four stages.
    num_classes : int, default 1000
        Outputs of the final linear layer.
    zero_init_residual : bool, default False
        Start the last normalization of every block at zero weight, so that each residual
        branch starts as the identity.
    groups : int, default 1
        Groups of the blocks' 3x3 convolutions.
    width_per_group : int, default 64
        Width of each group.
    replace_stride_with_dilation : list of 3 bool, optional
        For stages 2 to 4, dilate the convolutions instead of striding them.
    norm_layer : callable, optional
        Builds the normalization from a channel count; default ``nn.BatchNorm2d``.

    Notes
    -----
    Convolutions start from ``kaiming_normal_(mode="fan_out", nonlinearity="relu")``,
    normalizations at weight 1 and bias 0, and the linear layer at ``nn.Linear``'s default,
    as in torchvision.  Parameter and buffer names are torchvision's, so its state dicts
    load with ``strict=True``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.models import resnet18
    >>> model = resnet18(num_classes=10).eval()
    >>> model(ember.randn(2, 3, 32, 32)).shape
    ember.Size([2, 10])
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, "
                             f"got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = ember.flatten(self.avgpool(x), 1)
        return self.fc(x)


def _resnet(block, layers, weights, progress, **kwargs):
    _check_weights(weights)
    return ResNet(block, layers, **kwargs)


_RESNET = ("ResNet", " (``num_classes``, ``zero_init_residual``, ...)")
_FIXED = ", or fixes ``groups`` or ``width_per_group`` to another value"


@_builder(_RESNET, "ResNet-18 (He et al., 2015)")
def resnet18(*, weights=None, progress=True, **kwargs):
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, progress, **kwargs)


@_builder(_RESNET, "ResNet-34 (He et al., 2015)")
def resnet34(*, weights=None, progress=True, **kwargs):
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, progress, **kwargs)


@_builder(_RESNET, "ResNet-50 (He et al., 2015)")
def resnet50(*, weights=None, progress=True, **kwargs):
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)


@_builder(_RESNET, "ResNet-101 (He et al., 2015)")
def resnet101(*, weights=None, progress=True, **kwargs):
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)


@_builder(_RESNET, "ResNet-152 (He et al., 2015)")
def resnet152(*, weights=None, progress=True, **kwargs):
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, progress, **kwargs)


@_builder(_RESNET, "ResNeXt-50 32x4d (Xie et al., 2016)", raises=_FIXED)
def resnext50_32x4d(*, weights=None, progress=True, **kwargs):
    _ovewrite_named_param(kwargs, "groups", 32)
    _ovewrite_named_param(kwargs, "width_per_group", 4)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)


@_builder(_RESNET, "ResNeXt-101 32x8d (Xie et al., 2016)", raises=_FIXED)
def resnext101_32x8d(*, weights=None, progress=True, **kwargs):
    _ovewrite_named_param(kwargs, "groups", 32)
    _ovewrite_named_param(kwargs, "width_per_group", 8)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)


@_builder(_RESNET, "ResNeXt-101 64x4d (Xie et al., 2016)", raises=_FIXED)
def resnext101_64x4d(*, weights=None, progress=True, **kwargs):
    _ovewrite_named_param(kwargs, "groups", 64)
    _ovewrite_named_param(kwargs, "width_per_group", 4)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)


@_builder(_RESNET, "Wide ResNet-50-2 (Zagoruyko and Komodakis, 2016): bottlenecks twice as wide",
           raises=", or ``width_per_group`` is not 128")
def wide_resnet50_2(*, weights=None, progress=True, **kwargs):
    _ovewrite_named_param(kwargs, "width_per_group", 64 * 2)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)


@_builder(_RESNET, "Wide ResNet-101-2 (Zagoruyko and Komodakis, 2016): bottlenecks twice as wide",
           raises=", or ``width_per_group`` is not 128")
def wide_resnet101_2(*, weights=None, progress=True, **kwargs):
    _ovewrite_named_param(kwargs, "width_per_group", 64 * 2)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)
