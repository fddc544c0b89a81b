"""Vision data helpers in the manner of torchvision.

* :mod:`ember.vision.datasets`: MNIST and Fashion-MNIST read from local IDX files;
* :mod:`ember.vision.transforms`: ``Compose``, ``ToTensor``, ``Normalize`` and the random
  augmentations ``RandomCrop``, ``RandomHorizontalFlip`` and ``RandomRotation``;
* :mod:`ember.vision.utils`: ``make_grid`` and ``save_image`` (PNG, standard library only);
* :mod:`ember.vision.models`: ResNet, VGG, AlexNet, MobileNet, SqueezeNet and DenseNet with
  torchvision's module structure and parameter names (no pretrained weights).
"""
from ember.vision import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
