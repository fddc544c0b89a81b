"""Image transforms with torchvision's semantics (``torchvision.transforms``, v1 API).

Images are tensors of shape ``(..., C, H, W)`` (a 2-D tensor is one ``(H, W)`` channel);
:class:`ToTensor` also takes PIL images and ``uint8`` NumPy arrays or tensors laid out
``(H, W)`` or ``(H, W, C)``.  The geometric and colour transforms also take PIL images, as
torchvision's do (see :mod:`ember.vision.transforms.functional`).
Random transforms draw from ember's default generator, so ``ember.manual_seed`` makes them
reproducible.
"""
from ember.vision.transforms._basic import (  # noqa: F401 (_pad: for the tests)
    Compose, InterpolationMode, Normalize, RandomCrop, RandomHorizontalFlip, RandomRotation,
    ToTensor, _pad)
from ember.vision.transforms._more import (
    CenterCrop, ColorJitter, ConvertImageDtype, GaussianBlur, Grayscale, Lambda, Pad,
    PILToTensor, RandomAffine, RandomApply, RandomChoice, RandomErasing, RandomOrder,
    RandomResizedCrop, RandomVerticalFlip, Resize, ToPILImage)
from ember.vision.transforms._color import (
    RandomAdjustSharpness, RandomAutocontrast, RandomGrayscale, RandomInvert, RandomPosterize,
    RandomSolarize)
from ember.vision.transforms import functional

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomRotation", "InterpolationMode", "Resize", "CenterCrop",
           "RandomResizedCrop", "Pad", "RandomVerticalFlip", "Grayscale", "ColorJitter",
           "RandomAffine", "GaussianBlur", "RandomErasing", "Lambda", "RandomApply",
           "RandomChoice", "RandomOrder", "PILToTensor", "ToPILImage", "ConvertImageDtype",
           "RandomGrayscale", "RandomInvert", "RandomPosterize", "RandomSolarize",
           "RandomAdjustSharpness", "RandomAutocontrast", "functional"]
