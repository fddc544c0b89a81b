"""Resizing, cropping, colour, blur, affine and erasing transforms, conversions, and the
random containers (``RandomApply``, ``RandomChoice``, ``RandomOrder``)."""
import math
import numbers

import ember
from ember.vision.transforms import functional as TF
from ember.vision.transforms._basic import InterpolationMode, _pair

__all__ = ["Resize", "CenterCrop", "RandomResizedCrop", "Pad", "RandomVerticalFlip",
           "Grayscale", "ColorJitter", "RandomAffine", "GaussianBlur", "RandomErasing",
           "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "PILToTensor",
           "ToPILImage", "ConvertImageDtype"]


def _uniform(low, high):
    return ember.empty(1).uniform_(float(low), float(high)).item()


def _range(value, name, center=1.0, bound=(0.0, math.inf), clip_first_on_zero=True):
    """ColorJitter's ``[low, high]`` for a factor (``None`` when it is the identity)."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == center else tuple(value)


class Resize:
    """Resize to ``size``: ``(h, w)``, or an int for the smaller edge (see
    :func:`~ember.vision.transforms.functional.resize`).

    Parameters
    ----------
    size : int or (int, int)
    interpolation : InterpolationMode, default BILINEAR
        ``NEAREST``, ``BILINEAR`` or ``BICUBIC``.
    max_size : int, optional
        The longest edge allowed when ``size`` is an int.
    antialias : bool, default True
        Low-pass filter when shrinking (bilinear and bicubic).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import Resize
    >>> image = ember.arange(16.).view(1, 4, 4)
    >>> Resize((2, 2), antialias=False)(image)  # samples between pixels
    tensor([[[ 2.5000,  4.5000],
             [10.5000, 12.5000]]])
    >>> Resize((2, 2))(image)  # a wider filter when shrinking
    tensor([[[ 3.5714,  5.1429],
             [ 9.8571, 11.4286]]])
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        if not isinstance(size, (int, list, tuple)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, (list, tuple)) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = InterpolationMode(interpolation)

    def __call__(self, img):
        return TF.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, "
                f"interpolation={self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop:
    """Crop the centre ``size`` window (zero-padding a smaller image).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import CenterCrop
    >>> CenterCrop(2)(ember.arange(16).view(4, 4))
    tensor([[ 5,  6],
            [ 9, 10]])
    """

    def __init__(self, size):
        self.size = _pair(size, "size")

    def __call__(self, img):
        return TF.center_crop(img, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class RandomResizedCrop:
    """Crop a random window of random area and aspect ratio, resized to ``size``.

    Parameters
    ----------
    size : int or (int, int)
        The output ``(height, width)``.
    scale : (float, float), default (0.08, 1.0)
        The range of the window's area, as a fraction of the image's.
    ratio : (float, float), default (3/4, 4/3)
        The range of its aspect ratio (width / height), sampled log-uniformly.
    interpolation : InterpolationMode, default BILINEAR
    antialias : bool, default True

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomResizedCrop
    >>> _ = ember.manual_seed(0)
    >>> RandomResizedCrop(8)(ember.rand(3, 32, 48)).shape
    ember.Size([3, 8, 8])
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = _pair(size, "size")
        if not isinstance(scale, (tuple, list)):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, (tuple, list)):
            raise TypeError("Ratio should be a sequence")
        self.scale, self.ratio, self.antialias = scale, ratio, antialias
        self.interpolation = InterpolationMode(interpolation)

    @staticmethod
    def get_params(img, scale, ratio):
        """``(top, left, height, width)``: up to 10 draws of area and log aspect ratio, the
        first window that fits; else the centre window clamped to ``ratio``."""
        _, height, width = TF.get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                top = ember.randint(0, height - h + 1, size=(1,)).item()
                left = ember.randint(0, width - w + 1, size=(1,)).item()
                return top, left, h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            w, h = int(round(height * max(ratio))), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        top, left, height, width = self.get_params(img, self.scale, self.ratio)
        return TF.resized_crop(img, top, left, height, width, list(self.size),
                               self.interpolation, antialias=self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale={tuple(self.scale)}, "
                f"ratio={tuple(self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")


class Pad:
    """Pad the borders (see :func:`~ember.vision.transforms.functional.pad`).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import Pad
    >>> Pad((1, 0), padding_mode="edge")(ember.tensor([[1, 2]]))
    tensor([[1, 1, 2, 2]])
    """

    def __init__(self, padding, fill=0, padding_mode="constant"):
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return TF.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomVerticalFlip:
    """Mirror the image top-bottom with probability ``p``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomVerticalFlip
    >>> RandomVerticalFlip(p=1.0)(ember.tensor([[1], [2]]))
    tensor([[2],
            [1]])
    """

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if ember.rand(1).item() < self.p:
            return TF.vflip(img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class Grayscale:
    """Convert RGB to grey levels (``num_output_channels`` 1 or 3).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import Grayscale
    >>> Grayscale()(ember.ones(3, 1, 2))
    tensor([[[0.9999, 0.9999]]])
    """

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return TF.rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class ColorJitter:
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Parameters
    ----------
    brightness, contrast, saturation : float or (float, float), default 0
        A factor drawn from ``[max(0, 1 - x), 1 + x]`` (or the given range).
    hue : float or (float, float), default 0
        A shift drawn from ``[-x, x]`` (or the given range), within [-0.5, 0.5].

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import ColorJitter
    >>> _ = ember.manual_seed(0)
    >>> ColorJitter(0.4, 0.4, 0.4, 0.1)(ember.rand(3, 4, 4)).shape
    ember.Size([3, 4, 4])
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _range(brightness, "brightness")
        self.contrast = _range(contrast, "contrast")
        self.saturation = _range(saturation, "saturation")
        self.hue = _range(hue, "hue", center=0.0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """``(order, b, c, s, h)``: a permutation of the four adjustments and each factor
        (``None`` for a range that is ``None``)."""
        order = ember.randperm(4)
        factors = [None if r is None else _uniform(r[0], r[1])
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation,
                                          self.hue)
        adjust = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation,
                  TF.adjust_hue)
        for index in order.tolist():
            if factors[index] is not None:
                img = adjust[index](img, factors[index])
        return img

    def __repr__(self):
        return (f"{type(self).__name__}(brightness={self.brightness}, "
                f"contrast={self.contrast}, saturation={self.saturation}, hue={self.hue})")


class RandomAffine:
    """A random rotation, translation, scale and shear, keeping the size.

    Parameters
    ----------
    degrees : number or (number, number)
        The rotation range (``d`` means ``(-d, d)``), degrees clockwise.
    translate : (float, float), optional
        The largest shifts as fractions of the width and height.
    scale : (float, float), optional
        The range of the scale factor.
    shear : number or sequence of 2 or 4 numbers, optional
        The x shear range (``s`` means ``(-s, s)``), then optionally the y range.
    interpolation : InterpolationMode, default NEAREST
    fill : number or sequence, default 0
    center : (number, number), optional

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomAffine
    >>> _ = ember.manual_seed(0)
    >>> RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1))(ember.rand(1, 8, 8)).shape
    ember.Size([1, 8, 8])
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        self.degrees = self._sequence(degrees, "degrees", (2,))
        if translate is not None:
            if not isinstance(translate, (tuple, list)) or len(translate) != 2:
                raise ValueError("translate should be a sequence of length 2.")
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translation values should be between 0 and 1")
        if scale is not None:
            if not isinstance(scale, (tuple, list)) or len(scale) != 2:
                raise ValueError("scale should be a sequence of length 2.")
            if any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else self._sequence(shear, "shear", (2, 4))
        self.interpolation = InterpolationMode(interpolation)
        if fill is None:
            fill = 0
        elif not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Fill should be either a sequence or a number.")
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError("center should be a sequence of length 2.")
        self.fill, self.center = fill, center

    @staticmethod
    def _sequence(value, name, lengths):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be positive.")
            return [-float(value), float(value)]
        if not isinstance(value, (tuple, list)) or len(value) not in lengths:
            raise ValueError(f"{name} should be a sequence of length "
                             f"{' or '.join(str(n) for n in lengths)}.")
        return [float(v) for v in value]

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """``(angle, (tx, ty), scale, (shear_x, shear_y))`` for an image of ``img_size``
        ``[width, height]``; the shifts are rounded to whole pixels."""
        angle = _uniform(degrees[0], degrees[1])
        translations = (0, 0)
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx))),
                            int(round(_uniform(-max_dy, max_dy))))
        scale = 1.0 if scale_ranges is None else _uniform(scale_ranges[0], scale_ranges[1])
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, img):
        channels, height, width = TF.get_dimensions(img)
        fill = [float(self.fill)] * channels if isinstance(self.fill, numbers.Number) else \
            [float(f) for f in self.fill]
        angle, translations, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, [width, height])
        return TF.affine(img, angle, list(translations), scale, list(shear),
                         interpolation=self.interpolation, fill=fill, center=self.center)

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate}, "
                f"scale={self.scale}, shear={self.shear}, "
                f"interpolation={self.interpolation.value}, fill={self.fill})")


class GaussianBlur:
    """Blur with a Gaussian of a random standard deviation in ``sigma``.

    Parameters
    ----------
    kernel_size : int or (int, int)
        Odd and positive, ``(kx, ky)``.
    sigma : float or (float, float), default (0.1, 2.0)
        A fixed value, or the range it is drawn from.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import GaussianBlur
    >>> GaussianBlur(3, sigma=1.0)(ember.ones(3, 4, 4)).allclose(ember.ones(3, 4, 4))
    True
    """

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = _pair(kernel_size, "kernel size")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (float(sigma), float(sigma))
        elif isinstance(sigma, (tuple, list)) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min, sigma_max):
        """A standard deviation drawn uniformly from ``[sigma_min, sigma_max]``."""
        return _uniform(sigma_min, sigma_max)

    def __call__(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return TF.gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


class RandomErasing:
    """With probability ``p``, erase a random rectangle of a tensor image.

    Parameters
    ----------
    p : float, default 0.5
    scale : (float, float), default (0.02, 0.33)
        The range of the rectangle's area, as a fraction of the image's.
    ratio : (float, float), default (0.3, 3.3)
        The range of its aspect ratio (height / width), sampled log-uniformly.
    value : number, sequence or 'random', default 0
        The erased value: one for all channels, one per channel, or standard normal noise.
    inplace : bool, default False

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomErasing
    >>> _ = ember.manual_seed(0)
    >>> int((RandomErasing(p=1.0)(ember.ones(3, 16, 16)) == 0).sum()) > 0
    True
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, (tuple, list)):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, (tuple, list)):
            raise TypeError("Ratio should be a sequence")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio = p, scale, ratio
        self.value, self.inplace = value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """``(top, left, h, w, v)``: up to 10 draws of area and log aspect ratio, the first
        rectangle strictly inside the image, ``v`` the value tensor (standard normal noise
        when ``value`` is ``None``); else the whole image, unchanged."""
        channels, height, width = img.shape[-3], img.shape[-2], img.shape[-1]
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < height and w < width):
                continue
            if value is None:
                v = ember.empty(channels, h, w, dtype=ember.float32).normal_()
            else:
                v = ember.tensor(value)[:, None, None]
            top = ember.randint(0, height - h + 1, size=(1,)).item()
            left = ember.randint(0, width - w + 1, size=(1,)).item()
            return top, left, h, w, v
        return 0, 0, height, width, img

    def __call__(self, img):
        if not ember.rand(1).item() < self.p:
            return img
        if isinstance(self.value, numbers.Number):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]
        if value is not None and len(value) not in (1, img.shape[-3]):
            raise ValueError(f"If value is a sequence, it should have either a single value "
                             f"or {img.shape[-3]} (number of input channels)")
        top, left, h, w, v = self.get_params(img, self.scale, self.ratio, value)
        return TF.erase(img, top, left, h, w, v, self.inplace)

    def __repr__(self):
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")


class Lambda:
    """A function as a transform.

    Examples
    --------
    >>> from ember.vision.transforms import Lambda
    >>> Lambda(lambda x: x + 1)(1)
    2
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got "
                            f"{repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomApply:
    """Apply all ``transforms``, in order, with probability ``p`` (else none).

    Examples
    --------
    >>> from ember.vision.transforms import Lambda, RandomApply
    >>> RandomApply([Lambda(lambda x: x * 2)], p=1.0)(3)
    6
    """

    def __init__(self, transforms, p=0.5):
        self.transforms, self.p = transforms, p

    def __call__(self, img):
        if self.p < ember.rand(1).item():
            return img
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        return "\n".join([f"{type(self).__name__}(", f"    p={self.p}"]
                         + [f"    {t}" for t in self.transforms] + [")"])


class RandomChoice:
    """Apply one of ``transforms``, picked with probabilities ``p`` (default uniform).

    Examples
    --------
    >>> from ember.vision.transforms import Lambda, RandomChoice
    >>> RandomChoice([Lambda(lambda x: x + 1), Lambda(lambda x: x - 1)], p=[0.0, 1.0])(5)
    4
    """

    def __init__(self, transforms, p=None):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence")
        if p is not None and not isinstance(p, (list, tuple)):
            raise TypeError("Argument p should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} "
                             f"!= {len(transforms)}")
        self.transforms = transforms
        self.p = [1.0] * len(transforms) if p is None else list(p)
        total = sum(self.p)
        self.p = [w / total for w in self.p]

    def __call__(self, *args):
        index = int(ember.multinomial(ember.tensor(self.p), 1))
        return self.transforms[index](*args)

    def __repr__(self):
        return f"{type(self).__name__}(transforms={self.transforms}, p={self.p})"


class RandomOrder:
    """Apply all ``transforms`` in a random order.

    Examples
    --------
    >>> from ember.vision.transforms import Lambda, RandomOrder
    >>> RandomOrder([Lambda(lambda x: x + 1), Lambda(lambda x: x + 2)])(0)
    3
    """

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __call__(self, img):
        for index in ember.randperm(len(self.transforms)).tolist():
            img = self.transforms[index](img)
        return img

    def __repr__(self):
        return "\n".join([f"{type(self).__name__}("]
                         + [f"    {t}" for t in self.transforms] + [")"])


class PILToTensor:
    """A PIL image as a ``(C, H, W)`` tensor of its own type, unscaled (see
    :func:`~ember.vision.transforms.functional.pil_to_tensor`)."""

    def __call__(self, pic):
        return TF.pil_to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToPILImage:
    """A tensor or array as a PIL image (see
    :func:`~ember.vision.transforms.functional.to_pil_image`); needs Pillow."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return TF.to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{type(self).__name__}(mode={self.mode})"


class ConvertImageDtype:
    """Convert a tensor image to ``dtype``, rescaling the values (see
    :func:`~ember.vision.transforms.functional.convert_image_dtype`).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import ConvertImageDtype
    >>> ConvertImageDtype(ember.float32)(ember.tensor([255], dtype=ember.uint8))
    tensor([1.])
    """

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, image):
        return TF.convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}(dtype={self.dtype})"
