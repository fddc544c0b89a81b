"""VGG networks, as ``torchvision.models.vgg``."""
import ember
from ember import nn
from ember.vision.models._utils import _builder, _check_weights

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn"]


class VGG(nn.Module):
    """The network of Simonyan and Zisserman, as ``torchvision.models.VGG``.

    Parameters
    ----------
    features : Module
        The convolutional part, ``(N, 3, H, W)`` to ``(N, 512, H', W')``.
    num_classes : int, default 1000
        Outputs of the final linear layer.
    init_weights : bool, default True
        Initialize as torchvision: convolutions by ``kaiming_normal_(mode="fan_out")`` with
        zero bias, normalizations at 1 and 0, linear layers by ``normal_(0, 0.01)`` with zero
        bias.
    dropout : float, default 0.5
        Dropout probability of the classifier.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        x = ember.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def make_layers(cfg, batch_norm=False):
    """The convolutional part of a VGG: ``cfg`` lists channel counts and ``"M"`` (max pool).

    Parameters
    ----------
    cfg : list of int or str
        Each int adds a 3x3 convolution (then batch norm if ``batch_norm``) and a ReLU;
        each ``"M"`` adds a 2x2 max pool of stride 2.
    batch_norm : bool, default False
        Add ``nn.BatchNorm2d`` after each convolution.

    Returns
    -------
    Sequential
    """
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


# the configurations of the paper's table 1: A (11 layers), B (13), D (16), E (19)
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512,
          512, 512, "M"],
}


def _vgg(cfg, batch_norm, weights, progress, **kwargs):
    _check_weights(weights)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


_VGG = ("VGG", " (``num_classes``, ``init_weights``, ``dropout``)")


@_builder(_VGG, "VGG-11 (Simonyan and Zisserman, 2014)")
def vgg11(*, weights=None, progress=True, **kwargs):
    return _vgg("A", False, weights, progress, **kwargs)


@_builder(_VGG, "VGG-11 with batch normalization")
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("A", True, weights, progress, **kwargs)


@_builder(_VGG, "VGG-13 (Simonyan and Zisserman, 2014)")
def vgg13(*, weights=None, progress=True, **kwargs):
    return _vgg("B", False, weights, progress, **kwargs)


@_builder(_VGG, "VGG-13 with batch normalization")
def vgg13_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("B", True, weights, progress, **kwargs)


@_builder(_VGG, "VGG-16 (Simonyan and Zisserman, 2014)")
def vgg16(*, weights=None, progress=True, **kwargs):
    return _vgg("D", False, weights, progress, **kwargs)


@_builder(_VGG, "VGG-16 with batch normalization")
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("D", True, weights, progress, **kwargs)


@_builder(_VGG, "VGG-19 (Simonyan and Zisserman, 2014)")
def vgg19(*, weights=None, progress=True, **kwargs):
    return _vgg("E", False, weights, progress, **kwargs)


@_builder(_VGG, "VGG-19 with batch normalization")
def vgg19_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("E", True, weights, progress, **kwargs)
