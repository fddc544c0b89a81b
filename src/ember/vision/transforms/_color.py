"""The random colour transforms that apply one adjustment with probability ``p``
(``RandomGrayscale``, ``RandomInvert``, ``RandomPosterize``, ``RandomSolarize``,
``RandomAdjustSharpness``, ``RandomAutocontrast``), as torchvision's."""
import ember
from ember.vision.transforms import functional as TF

__all__ = ["RandomGrayscale", "RandomInvert", "RandomPosterize", "RandomSolarize",
           "RandomAdjustSharpness", "RandomAutocontrast"]


class _RandomAdjustment:
    """Apply ``self._apply`` with probability ``p`` (one draw from ember's default
    generator per call)."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if ember.rand(1).item() < self.p:
            return self._apply(img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomGrayscale(_RandomAdjustment):
    """Convert to grey levels with probability ``p``, keeping the number of channels.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomGrayscale
    >>> RandomGrayscale(p=1.0)(ember.tensor([[[1.0]], [[0.0]], [[0.0]]]))
    tensor([[[0.2989]],
    <BLANKLINE>
            [[0.2989]],
    <BLANKLINE>
            [[0.2989]]])
    """

    def __init__(self, p=0.1):
        super().__init__(p)

    def _apply(self, img):
        return TF.rgb_to_grayscale(img, num_output_channels=TF.get_dimensions(img)[0])


class RandomInvert(_RandomAdjustment):
    """Invert the colours (:func:`~ember.vision.transforms.functional.invert`) with
    probability ``p``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomInvert
    >>> RandomInvert(p=1.0)(ember.tensor([[[0.25, 1.0]]]))
    tensor([[[0.7500, 0.0000]]])
    """

    def _apply(self, img):
        return TF.invert(img)


class RandomPosterize(_RandomAdjustment):
    """Keep the ``bits`` highest bits of each ``uint8`` value with probability ``p``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomPosterize
    >>> RandomPosterize(bits=2, p=1.0)(ember.tensor([[[100, 200]]], dtype=ember.uint8))
    tensor([[[ 64, 192]]], dtype=ember.uint8)
    """

    def __init__(self, bits, p=0.5):
        super().__init__(p)
        self.bits = bits

    def _apply(self, img):
        return TF.posterize(img, self.bits)

    def __repr__(self):
        return f"{type(self).__name__}(bits={self.bits},p={self.p})"


class RandomSolarize(_RandomAdjustment):
    """Invert the values at or above ``threshold`` with probability ``p``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomSolarize
    >>> RandomSolarize(threshold=0.5, p=1.0)(ember.tensor([[[0.25, 0.75]]]))
    tensor([[[0.2500, 0.2500]]])
    """

    def __init__(self, threshold, p=0.5):
        super().__init__(p)
        self.threshold = threshold

    def _apply(self, img):
        return TF.solarize(img, self.threshold)

    def __repr__(self):
        return f"{type(self).__name__}(threshold={self.threshold},p={self.p})"


class RandomAdjustSharpness(_RandomAdjustment):
    """Change the sharpness by ``sharpness_factor`` (see
    :func:`~ember.vision.transforms.functional.adjust_sharpness`) with probability ``p``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomAdjustSharpness
    >>> RandomAdjustSharpness(2.0, p=1.0)(ember.ones(3, 4, 4)).shape
    ember.Size([3, 4, 4])
    """

    def __init__(self, sharpness_factor, p=0.5):
        super().__init__(p)
        self.sharpness_factor = sharpness_factor

    def _apply(self, img):
        return TF.adjust_sharpness(img, self.sharpness_factor)

    def __repr__(self):
        return f"{type(self).__name__}(sharpness_factor={self.sharpness_factor},p={self.p})"


class RandomAutocontrast(_RandomAdjustment):
    """Stretch each channel to the full range with probability ``p``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomAutocontrast
    >>> RandomAutocontrast(p=1.0)(ember.tensor([[[0.25, 0.5]]]))
    tensor([[[0., 1.]]])
    """

    def _apply(self, img):
        return TF.autocontrast(img)
