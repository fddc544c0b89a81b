"""DenseNet-BC, as ``torchvision.models.densenet``."""
from collections import OrderedDict

import ember
from ember import nn
from ember.nn import functional as F
from ember.utils import checkpoint as cp
from ember.vision.models._utils import _builder, _check_weights

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    """Batch norm, ReLU, 1x1 convolution, batch norm, ReLU, 3x3 convolution to ``growth_rate``
    new channels, from the concatenation of all earlier features."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate,
                 memory_efficient=False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs):
        """The bottleneck of the concatenated ``inputs``."""
        return self.conv1(self.relu1(self.norm1(ember.cat(inputs, 1))))

    def forward(self, input):
        """New features from a tensor or a list of the earlier features."""
        prev_features = [input] if isinstance(input, ember.Tensor) else input
        if self.memory_efficient and any(t.requires_grad for t in prev_features):
            # recompute the concatenation and bottleneck in backward instead of keeping them
            bottleneck_output = cp.checkpoint(lambda *inputs: self.bn_function(inputs),
                                              *prev_features, use_reentrant=False)
        else:
            bottleneck_output = self.bn_function(prev_features)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers, each fed all the features before it."""

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate,
                 memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate,
                                bn_size=bn_size, drop_rate=drop_rate,
                                memory_efficient=memory_efficient)
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features):
        """The input and every layer's new features, concatenated on channels."""
        features = [init_features]
        for _, layer in self.items():
            features.append(layer(features))
        return ember.cat(features, 1)


class _Transition(nn.Sequential):
    """Batch norm, ReLU, 1x1 convolution and 2x2 average pooling between dense blocks."""

    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1,
                              bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al.), as ``torchvision.models.DenseNet``.

    Parameters
    ----------
    growth_rate : int, default 32
        Channels each dense layer adds (``k`` in the paper).
    block_config : tuple of 4 int, default (6, 12, 24, 16)
        Layers in each dense block.
    num_init_features : int, default 64
        Channels of the first convolution.
    bn_size : int, default 4
        The bottleneck has ``bn_size * growth_rate`` channels.
    drop_rate : float, default 0
        Dropout probability after each dense layer.
    num_classes : int, default 1000
        Outputs of the final linear layer.
    memory_efficient : bool, default False
        Recompute each layer's bottleneck in backward (``ember.utils.checkpoint``): less
        memory, more time.
    """

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                 bn_size=4, drop_rate=0, num_classes=1000, memory_efficient=False):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3,
                                bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers=num_layers, num_input_features=num_features,
                                bn_size=bn_size, growth_rate=growth_rate, drop_rate=drop_rate,
                                memory_efficient=memory_efficient)
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_input_features=num_features,
                                    num_output_features=num_features // 2)
                self.features.add_module("transition%d" % (i + 1), trans)
                num_features = num_features // 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        out = F.relu(self.features(x), inplace=True)
        out = ember.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1)
        return self.classifier(out)


def _densenet(growth_rate, block_config, num_init_features, weights, progress, **kwargs):
    _check_weights(weights)
    return DenseNet(growth_rate, block_config, num_init_features, **kwargs)


_DENSENET = ("DenseNet", " (``num_classes``, ``drop_rate``, ``memory_efficient``, ...)")


@_builder(_DENSENET, "DenseNet-121 (Huang et al., 2016)")
def densenet121(*, weights=None, progress=True, **kwargs):
    return _densenet(32, (6, 12, 24, 16), 64, weights, progress, **kwargs)


@_builder(_DENSENET, "DenseNet-161 (Huang et al., 2016)")
def densenet161(*, weights=None, progress=True, **kwargs):
    return _densenet(48, (6, 12, 36, 24), 96, weights, progress, **kwargs)


@_builder(_DENSENET, "DenseNet-169 (Huang et al., 2016)")
def densenet169(*, weights=None, progress=True, **kwargs):
    return _densenet(32, (6, 12, 32, 32), 64, weights, progress, **kwargs)


@_builder(_DENSENET, "DenseNet-201 (Huang et al., 2016)")
def densenet201(*, weights=None, progress=True, **kwargs):
    return _densenet(32, (6, 12, 48, 32), 64, weights, progress, **kwargs)
