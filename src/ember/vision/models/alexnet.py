"""AlexNet, as ``torchvision.models.alexnet``."""
import ember
from ember import nn
from ember.vision.models._utils import _builder, _check_weights

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """The network of Krizhevsky et al. (the one-GPU variant), as ``torchvision.models.AlexNet``.

    Parameters
    ----------
    num_classes : int, default 1000
        Outputs of the final linear layer.
    dropout : float, default 0.5
        Dropout probability of the classifier.

    Notes
    -----
    Layers keep ``nn``'s default initialization, as in torchvision.  Inputs need at least
    63x63 pixels.
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, H, W)``."""
        x = ember.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


@_builder(("AlexNet", " (``num_classes``, ``dropout``)"),
           "AlexNet (Krizhevsky et al., 2012)")
def alexnet(*, weights=None, progress=True, **kwargs):
    _check_weights(weights)
    return AlexNet(**kwargs)
