"""Vision data helpers in the manner of torchvision.

* :mod:`ember.vision.datasets`: MNIST and Fashion-MNIST read from local IDX files, CIFAR-10
  and CIFAR-100 from their (safely unpickled) Python batches, ``ImageFolder`` /
  ``DatasetFolder`` and ``FakeData``;
* :mod:`ember.vision.transforms`: conversions (``ToTensor``, ``PILToTensor``,
  ``ToPILImage``, ``ConvertImageDtype``), ``Normalize``, resizing and cropping, colour,
  blur, affine and erasing augmentations, the containers ``Compose``, ``RandomApply``,
  ``RandomChoice`` and ``RandomOrder``, and ``transforms.functional``;
* :mod:`ember.vision.utils`: ``make_grid`` and ``save_image`` (PNG, standard library only);
* :mod:`ember.vision.models`: ResNet, VGG, AlexNet, MobileNet, SqueezeNet, DenseNet,
  ShuffleNetV2, EfficientNet, ConvNeXt and Vision Transformers with torchvision's module
  structure and parameter names (no pretrained weights), and ``get_model`` / ``list_models``;
* :mod:`ember.vision.ops`: the layers they share (``Conv2dNormActivation``,
  ``SqueezeExcitation``, ``MLP``, ``Permute``, ``StochasticDepth``).
"""
from ember.vision import datasets, models, ops, transforms, utils

__all__ = ["datasets", "models", "ops", "transforms", "utils"]
