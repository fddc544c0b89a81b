"""Vision data helpers in the manner of torchvision.

* :mod:`ember.vision.datasets`: MNIST and Fashion-MNIST read from local IDX files;
* :mod:`ember.vision.transforms`: ``Compose``, ``ToTensor``, ``Normalize`` and the random
  augmentations ``RandomCrop``, ``RandomHorizontalFlip`` and ``RandomRotation``;
* :mod:`ember.vision.utils`: ``make_grid`` and ``save_image`` (PNG, standard library only).
"""
from ember.vision import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
