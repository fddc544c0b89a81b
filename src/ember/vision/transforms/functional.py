"""The transforms as functions of the image and explicit parameters, as
``torchvision.transforms.functional``.

Images are tensors ``(..., C, H, W)``, computed as torchvision's tensor kernels compute them.
A PIL image is accepted where torchvision accepts one: it goes through the same tensor kernel
(as a ``uint8`` tensor) and comes back as a PIL image of the same mode, so its pixels may
differ slightly from what Pillow's own kernels (torchvision's PIL path) give.
"""
import numbers

import numpy as np

import ember
import ember.nn.functional as F
from ember.nn._functional.resample import _antialias_matrix
from ember.vision.transforms._basic import (InterpolationMode, ToTensor, Normalize,
                                            _apply_affine, _check_image, _expanded_size,
                                            _inverse_affine_matrix, _is_pil_image, _pad,
                                            _through_tensor)

__all__ = ["get_dimensions", "to_tensor", "pil_to_tensor", "to_pil_image",
           "convert_image_dtype", "normalize", "hflip", "vflip", "crop", "center_crop",
           "resized_crop", "pad", "resize", "rgb_to_grayscale", "adjust_brightness",
           "adjust_contrast", "adjust_saturation", "adjust_hue", "affine", "rotate",
           "gaussian_blur", "erase", "invert", "posterize", "solarize", "adjust_sharpness",
           "autocontrast"]

_INTEGER_MAX = {ember.uint8: 255, ember.int8: 127, ember.int16: 32767,
                ember.int32: 2 ** 31 - 1, ember.int64: 2 ** 63 - 1}
_PIL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _max_value(dtype):
    return _INTEGER_MAX.get(dtype, 1)


def _tensor_kernel(kernel):
    """Run ``kernel`` (a function of a tensor image) on a PIL image as a ``uint8`` tensor,
    giving a PIL image of the same mode back."""
    def wrapped(img, *args, **kwargs):
        if _is_pil_image(img):
            return _through_tensor(lambda tensor: kernel(tensor, *args, **kwargs), img)
        _check_image(img)
        return kernel(img, *args, **kwargs)
    wrapped.__name__, wrapped.__qualname__ = kernel.__name__, kernel.__qualname__
    wrapped.__doc__, wrapped.__wrapped__ = kernel.__doc__, kernel
    return wrapped


def get_dimensions(img):
    """``[channels, height, width]`` of a tensor or PIL image.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.get_dimensions(ember.zeros(2, 3, 4, 5))
    [3, 4, 5]
    """
    if _is_pil_image(img):
        return [len(img.getbands()), img.height, img.width]
    _check_image(img)
    return [1 if img.dim() == 2 else img.shape[-3], img.shape[-2], img.shape[-1]]


def to_tensor(pic):
    """:class:`~ember.vision.transforms.ToTensor` as a function."""
    return ToTensor()(pic)


def normalize(tensor, mean, std, inplace=False):
    """:class:`~ember.vision.transforms.Normalize` as a function."""
    return Normalize(mean, std, inplace)(tensor)


def pil_to_tensor(pic):
    """A PIL image as a ``(C, H, W)`` tensor of its own element type (not scaled).

    Raises
    ------
    TypeError
        If ``pic`` is not a PIL image.

    Examples
    --------
    >>> from PIL import Image
    >>> from ember.vision.transforms import functional as TF
    >>> TF.pil_to_tensor(Image.new("RGB", (4, 2), (255, 0, 9))).shape
    ember.Size([3, 2, 4])
    """
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic, copy=True)
    array = array.reshape(pic.height, pic.width, -1)
    return ember.from_numpy(array).permute(2, 0, 1)


def to_pil_image(pic, mode=None):
    """A ``(C, H, W)`` tensor or ``(H, W, C)`` array as a PIL image.

    Floating-point values are taken as [0, 1] and become ``uint8`` (``x * 255`` converted,
    as torchvision); 1, 2, 3 and 4 channels give modes ``L``, ``LA``, ``RGB`` and ``RGBA``
    unless ``mode`` says otherwise.  Needs Pillow.

    Raises
    ------
    TypeError
        If ``pic`` is neither a tensor nor an array.
    ValueError
        If it is not 2- or 3-dimensional, or has more than 4 channels.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> image = TF.to_pil_image(ember.ones(3, 2, 5))
    >>> image.mode, image.size, image.getpixel((0, 0))
    ('RGB', (5, 2), (255, 255, 255))
    """
    from PIL import Image

    if isinstance(pic, ember.Tensor):
        if pic.dim() not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.dim()} dimensions.")
        if pic.dim() == 2:
            pic = pic.unsqueeze(0)
        if pic.is_floating_point() and mode != "F":
            pic = pic.mul(255).to(ember.uint8)
        array = pic.permute(1, 2, 0).numpy()
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = array.shape[-1]
    if channels > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {channels} channels.")
    if channels == 1:
        array = array[:, :, 0]
        if mode is None:
            mode = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(array.dtype)
    elif mode is None:
        mode = _PIL_MODES[channels]
    if mode is None:
        raise TypeError(f"Input type {array.dtype} is not supported")
    if mode in ("L", "LA", "RGB", "RGBA") and array.dtype != np.uint8:
        array = array.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(array)).convert(mode)


def convert_image_dtype(image, dtype=ember.float32):
    """Convert an image to ``dtype``, rescaling between the value ranges of the types
    (floats [0, 1], integers [0, max]), as torchvision.

    Raises
    ------
    RuntimeError
        For float32 to int32/int64 and float64 to int64, which cannot be exact.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.convert_image_dtype(ember.tensor([0, 128, 255], dtype=ember.uint8))
    tensor([0.0000, 0.5020, 1.0000])
    >>> TF.convert_image_dtype(ember.tensor([0.0, 0.5, 1.0]), ember.uint8)
    tensor([  0, 127, 255], dtype=ember.uint8)
    """
    if not isinstance(image, ember.Tensor):
        raise TypeError("Input img should be Tensor Image")
    if image.dtype == dtype:
        return image
    to_float = ember.empty(0, dtype=dtype).is_floating_point()
    if image.is_floating_point():
        if to_float:
            return image.to(dtype)
        if (image.dtype == ember.float32 and dtype in (ember.int32, ember.int64)) or \
                (image.dtype == ember.float64 and dtype == ember.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed "
                               f"safely.")
        # just under max + 1, so that 1.0 maps to max and the bins are equal
        return image.mul(float(_max_value(dtype)) + 1.0 - 1e-3).to(dtype)
    input_max = float(_max_value(image.dtype))
    if to_float:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return ember.div(image, factor, rounding_mode="floor").to(dtype)
    return image.to(dtype) * int((output_max + 1) // (input_max + 1))


@_tensor_kernel
def hflip(img):
    """Mirror left-right."""
    return img.flip(-1)


@_tensor_kernel
def vflip(img):
    """Mirror top-bottom.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.vflip(ember.tensor([[1, 2], [3, 4]]))
    tensor([[3, 4],
            [1, 2]])
    """
    return img.flip(-2)


@_tensor_kernel
def crop(img, top, left, height, width):
    """The ``height`` x ``width`` window at ``(top, left)``; parts outside the image are
    zero-padded."""
    right, bottom = left + width, top + height
    img_height, img_width = img.shape[-2], img.shape[-1]
    if left < 0 or top < 0 or right > img_width or bottom > img_height:
        padding = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                   max(right - max(img_width, left), 0), max(bottom - max(img_height, top), 0)]
        window = img[..., max(top, 0):bottom, max(left, 0):right]
        return _pad(window, padding, fill=0)
    return img[..., top:bottom, left:right]


@_tensor_kernel
def center_crop(img, output_size):
    """The central ``output_size`` window (zero-padding an image smaller than it).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.center_crop(ember.arange(16).view(4, 4), 2)
    tensor([[ 5,  6],
            [ 9, 10]])
    """
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    crop_height, crop_width = output_size
    height, width = img.shape[-2], img.shape[-1]
    if crop_width > width or crop_height > height:
        padding = [(crop_width - width) // 2 if crop_width > width else 0,
                   (crop_height - height) // 2 if crop_height > height else 0,
                   (crop_width - width + 1) // 2 if crop_width > width else 0,
                   (crop_height - height + 1) // 2 if crop_height > height else 0]
        img = _pad(img, padding, fill=0)
        height, width = img.shape[-2], img.shape[-1]
        if (crop_height, crop_width) == (height, width):
            return img
    top = int(round((height - crop_height) / 2.0))
    left = int(round((width - crop_width) / 2.0))
    return crop.__wrapped__(img, top, left, crop_height, crop_width)


@_tensor_kernel
def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: ``padding`` is one int, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``padding_mode`` is ``constant`` (with ``fill``),
    ``edge``, ``reflect`` or ``symmetric``."""
    return _pad(img, padding, 0 if fill is None else fill, padding_mode)


def _resized_size(height, width, size, max_size):
    """torchvision's output ``[height, width]``: one size is the smaller edge's."""
    if len(size) == 2:
        return [size[0], size[1]]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return [new_long, new_short] if width <= height else [new_short, new_long]


@_tensor_kernel
def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
           antialias=True):
    """Resize to ``size``: ``(h, w)``, or an int for the smaller edge (keeping the aspect
    ratio, the longer edge capped at ``max_size``).

    ``antialias`` (bilinear and bicubic only) low-pass filters when shrinking, as PyTorch's
    ``interpolate(..., antialias=True)``; integer images are computed in float32 and
    rounded.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.resize(ember.zeros(3, 40, 60), 20).shape
    ember.Size([3, 20, 30])
    """
    interpolation = InterpolationMode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a "
                             f"{len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             "length 1 in torchscript mode.")
    elif not isinstance(size, int):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    height, width = img.shape[-2], img.shape[-1]
    out_size = _resized_size(height, width, [size] if isinstance(size, int) else list(size),
                             max_size)
    if [height, width] == out_size:
        return img
    dtype = img.dtype if img.dtype in (ember.float32, ember.float64) else ember.float32
    images = img.reshape((-1, 1 if img.dim() == 2 else img.shape[-3], height, width)).to(dtype)
    # PyTorch's anti-aliased kernels also serve upsampling (where bicubic's differs: a = -0.5)
    if antialias and interpolation is not InterpolationMode.NEAREST:
        cubic = interpolation is InterpolationMode.BICUBIC
        rows = ember.tensor(_antialias_matrix(height, out_size[0], height / out_size[0], cubic),
                            dtype=dtype)
        cols = ember.tensor(_antialias_matrix(width, out_size[1], width / out_size[1], cubic),
                            dtype=dtype)
        out = rows @ images @ cols.t()
    else:
        out = F.interpolate(images, size=out_size, mode=interpolation.value,
                            align_corners=None if interpolation is InterpolationMode.NEAREST
                            else False)
    if img.dtype != dtype:
        if interpolation is InterpolationMode.BICUBIC and img.dtype == ember.uint8:
            out = out.clamp(0, 255)
        out = ember.round(out) if not img.dtype.is_floating_point else out
        out = out.to(img.dtype)
    return out.reshape(tuple(img.shape[:-2]) + tuple(out_size))


@_tensor_kernel
def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
    """:func:`crop`, then :func:`resize` to ``size``."""
    return resize.__wrapped__(crop.__wrapped__(img, top, left, height, width), size,
                              interpolation, antialias=antialias)


def _check_channels(img, allowed):
    channels = 1 if img.dim() == 2 else img.shape[-3]
    if channels not in allowed:
        raise TypeError(f"Input image tensor permitted channel values are {allowed}, but "
                        f"found {channels}")
    return channels


@_tensor_kernel
def rgb_to_grayscale(img, num_output_channels=1):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` (in the image's type: integers truncate), as
    1 channel or repeated to 3."""
    if img.dim() < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.dim()}")
    channels = _check_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if channels == 3:
        r, g, b = img.unbind(dim=-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(-3)
    else:
        gray = img.clone()
    return gray.expand(img.shape) if num_output_channels == 3 else gray


def _blend(img1, img2, ratio):
    bound = _max_value(img1.dtype)
    ratio = float(ratio)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


@_tensor_kernel
def adjust_brightness(img, brightness_factor):
    """Scale the values by ``brightness_factor`` (clamped to the type's range).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.adjust_brightness(ember.tensor([[[0.2, 0.7]]]), 2.0)
    tensor([[[0.4000, 1.0000]]])
    """
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _check_channels(img, [1, 3])
    return _blend(img, ember.zeros_like(img), brightness_factor)


@_tensor_kernel
def adjust_contrast(img, contrast_factor):
    """Blend with the mean grey level: 0 gives a uniform grey image, 1 the image."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    channels = _check_channels(img, [3, 1])
    dtype = img.dtype if img.is_floating_point() else ember.float32
    gray = rgb_to_grayscale.__wrapped__(img) if channels == 3 else img
    mean = gray.to(dtype).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


@_tensor_kernel
def adjust_saturation(img, saturation_factor):
    """Blend with the grey image: 0 gives grey, 1 the image, 2 doubles the saturation."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if _check_channels(img, [1, 3]) == 1:
        return img
    return _blend(img, rgb_to_grayscale.__wrapped__(img), saturation_factor)


def _rgb_to_hsv(img):
    r, g, b = img.unbind(dim=-3)
    maxc, minc = img.amax(dim=-3), img.amin(dim=-3)
    equal = maxc == minc
    spread = maxc - minc
    ones = ember.ones_like(maxc)
    saturation = spread / ember.where(equal, ones, maxc)
    divisor = ember.where(equal, ones, spread)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hue = (maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (2.0 + rc - bc) + \
        ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    return ember.stack((ember.fmod(hue / 6.0 + 1.0, 1.0), saturation, maxc), dim=-3)


def _hsv_to_rgb(img):
    h, s, v = img.unbind(dim=-3)
    sector = ember.floor(h * 6.0)
    frac = h * 6.0 - sector
    sector = sector.to(ember.int32) % 6
    p = ember.clamp(v * (1.0 - s), 0.0, 1.0)
    q = ember.clamp(v * (1.0 - s * frac), 0.0, 1.0)
    t = ember.clamp(v * (1.0 - s * (1.0 - frac)), 0.0, 1.0)
    choices = ember.stack((ember.stack((v, q, p, p, t, v), dim=-3),
                           ember.stack((t, v, v, q, p, p), dim=-3),
                           ember.stack((p, p, t, v, v, q), dim=-3)), dim=-4)
    mask = (sector.unsqueeze(-3) == ember.arange(6).view(-1, 1, 1)).to(img.dtype)
    return (choices * mask.unsqueeze(-4)).sum(dim=-3)


@_tensor_kernel
def adjust_hue(img, hue_factor):
    """Shift the hue by ``hue_factor`` (in [-0.5, 0.5], a fraction of the colour wheel),
    through HSV in float32."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _check_channels(img, [1, 3]) == 1:
        return img
    hsv = _rgb_to_hsv(convert_image_dtype(img, ember.float32))
    h, s, v = hsv.unbind(dim=-3)
    rgb = _hsv_to_rgb(ember.stack(((h + hue_factor) % 1.0, s, v), dim=-3))
    return convert_image_dtype(rgb, img.dtype)


def _fill_list(fill, channels):
    if fill is None:
        return None
    fill = [float(fill)] * channels if isinstance(fill, numbers.Number) else \
        [float(f) for f in fill]
    if len(fill) not in (1, channels):
        raise ValueError(f"The number of elements in 'fill' cannot broadcast to match the "
                         f"number of channels of the image ({len(fill)} != {channels})")
    return fill


def _warp(img, matrix, interpolation, fill, out_size=None):
    interpolation = InterpolationMode(interpolation)
    if interpolation is InterpolationMode.BICUBIC:
        raise ValueError("Interpolation mode 'bicubic' is unsupported with Tensor input")
    channels = 1 if img.dim() == 2 else img.shape[-3]
    images = img.reshape((-1, channels) + tuple(img.shape[-2:]))
    out_size = out_size or (img.shape[-1], img.shape[-2])
    out = _apply_affine(images, matrix, interpolation, out_size, _fill_list(fill, channels))
    return out.reshape(tuple(img.shape[:-2]) + tuple(out.shape[-2:]))


@_tensor_kernel
def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Rotate by ``angle`` degrees (clockwise), shear by ``shear`` degrees (one value for x,
    or ``(x, y)``), scale and translate by ``(dx, dy)`` pixels, about ``center`` (default
    the image centre), keeping the size; uncovered pixels get ``fill``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.affine(ember.tensor([[1, 2, 3]]), angle=0.0, translate=[1, 0], scale=1.0,
    ...           shear=[0.0])
    tensor([[0, 1, 2]])
    """
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    height, width = img.shape[-2], img.shape[-1]
    center_f = [0.0, 0.0] if center is None else \
        [float(c) - s * 0.5 for c, s in zip(center, (width, height))]
    matrix = _inverse_affine_matrix(center_f, float(angle), [float(t) for t in translate],
                                    float(scale), [float(s) for s in shear])
    return _warp(img, matrix, interpolation, fill)


@_tensor_kernel
def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default the image
    centre); ``expand`` enlarges the output to hold the whole image."""
    height, width = img.shape[-2], img.shape[-1]
    center_f = [0.0, 0.0] if center is None else \
        [float(c) - s * 0.5 for c, s in zip(center, (width, height))]
    matrix = _inverse_affine_matrix(center_f, -float(angle), [0.0, 0.0], 1.0, [0.0, 0.0])
    out_size = _expanded_size(matrix, width, height) if expand else None
    return _warp(img, matrix, interpolation, fill, out_size)


def _gaussian_kernel1d(size, sigma, dtype):
    half = (size - 1) * 0.5
    pdf = ember.exp(-0.5 * (ember.linspace(-half, half, steps=size, dtype=dtype) / sigma) ** 2)
    return pdf / pdf.sum()


@_tensor_kernel
def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel of ``kernel_size`` (odd, ``(kx, ky)`` or one int) and
    standard deviation ``sigma`` (``(sx, sy)`` or one value; default
    ``0.3 * ((k - 1) * 0.5 - 1) + 0.8``), reflecting at the borders.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.gaussian_blur(ember.ones(3, 5, 5), 3).allclose(ember.ones(3, 5, 5))
    True
    """
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got "
                        f"{type(kernel_size)}")
    kernel_size = [kernel_size, kernel_size] if isinstance(kernel_size, int) else \
        list(kernel_size)
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got "
                         f"{len(kernel_size)}")
    if any(k % 2 == 0 or k < 0 for k in kernel_size):
        raise ValueError(f"kernel_size should have odd and positive integers. Got "
                         f"{kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    elif isinstance(sigma, numbers.Number):
        sigma = [float(sigma), float(sigma)]
    elif isinstance(sigma, (list, tuple)) and len(sigma) == 1:
        sigma = [float(sigma[0])] * 2
    elif not (isinstance(sigma, (list, tuple)) and len(sigma) == 2):
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {sigma}")
    if any(s <= 0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    dtype = img.dtype if img.is_floating_point() else ember.float32
    kernel = ember.outer(_gaussian_kernel1d(kernel_size[1], sigma[1], dtype),
                         _gaussian_kernel1d(kernel_size[0], sigma[0], dtype))
    channels = 1 if img.dim() == 2 else img.shape[-3]
    images = img.reshape((-1, channels) + tuple(img.shape[-2:])).to(dtype)
    images = F.pad(images, [kernel_size[0] // 2] * 2 + [kernel_size[1] // 2] * 2,
                   mode="reflect")
    out = F.conv2d(images, kernel.expand(channels, 1, *kernel.shape), groups=channels)
    if img.dtype != dtype:
        out = ember.round(out).to(img.dtype)
    return out.reshape(img.shape)


def erase(img, i, j, h, w, v, inplace=False):
    """Set the ``h`` x ``w`` window at ``(i, j)`` (top, left) to ``v`` (a value or a tensor
    that broadcasts to the window).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.erase(ember.ones(1, 3, 3), 1, 1, 2, 2, 0.0)
    tensor([[[1., 1., 1.],
             [1., 0., 0.],
             [1., 0., 0.]]])
    """
    _check_image(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img


def _check_image_3d(img):
    if img.dim() < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.dim()}")
    _check_channels(img, [1, 3])


@_tensor_kernel
def invert(img):
    """The negative: ``bound - img``, the bound being 1 for floats and the type's maximum
    for integers.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.invert(ember.tensor([[[0, 100, 255]]], dtype=ember.uint8))
    tensor([[[255, 155,   0]]], dtype=ember.uint8)
    """
    _check_image_3d(img)
    return _max_value(img.dtype) - img


@_tensor_kernel
def posterize(img, bits):
    """Keep the ``bits`` highest bits of each ``uint8`` value (0 to 8).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.posterize(ember.tensor([[[7, 100, 255]]], dtype=ember.uint8), 3)
    tensor([[[  0,  96, 224]]], dtype=ember.uint8)
    """
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if img.dtype != ember.uint8:
        raise TypeError(f"Only ember.uint8 image tensors are supported, but found {img.dtype}")
    _check_channels(img, [1, 3])
    return img & (256 - 2 ** (8 - bits))     # PyTorch's mask -2**(8 - bits) as a byte


@_tensor_kernel
def solarize(img, threshold):
    """Invert the values at or above ``threshold``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.solarize(ember.tensor([[[0.2, 0.6, 0.9]]]), 0.5)
    tensor([[[0.2000, 0.4000, 0.1000]]])
    """
    _check_image_3d(img)
    if threshold > _max_value(img.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return ember.where(img >= threshold, invert.__wrapped__(img), img)


@_tensor_kernel
def adjust_sharpness(img, sharpness_factor):
    """Blend with a smoothed image (3 x 3 kernel, centre weight 5, borders kept): 0 gives
    the smoothed image, 1 the image, 2 doubles the sharpness."""
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    channels = _check_channels(img, [1, 3])
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img
    dtype = img.dtype if img.is_floating_point() else ember.float32
    kernel = ember.ones(3, 3, dtype=dtype, device=img.device)
    kernel[1, 1] = 5.0
    kernel = (kernel / kernel.sum()).expand(channels, 1, 3, 3)
    images = img.reshape((-1, channels) + tuple(img.shape[-2:])).to(dtype)
    smooth = F.conv2d(images, kernel, groups=channels)
    if img.dtype != dtype:
        smooth = ember.round(smooth).to(img.dtype)
    degenerate = img.clone()
    degenerate[..., 1:-1, 1:-1] = smooth.reshape(img.shape[:-2] + smooth.shape[-2:])
    return _blend(img, degenerate, sharpness_factor)


@_tensor_kernel
def autocontrast(img):
    """Stretch each channel's values to the full range (a constant channel is kept).

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import functional as TF
    >>> TF.autocontrast(ember.tensor([[[0.2, 0.4, 0.6]]]))
    tensor([[[0.0000, 0.5000, 1.0000]]])
    """
    _check_image_3d(img)
    bound = _max_value(img.dtype)
    dtype = img.dtype if img.is_floating_point() else ember.float32
    minimum = img.amin(dim=(-2, -1), keepdim=True).to(dtype)
    maximum = img.amax(dim=(-2, -1), keepdim=True).to(dtype)
    scale = bound / (maximum - minimum)
    constant = ~ember.isfinite(scale)
    minimum = ember.where(constant, 0, minimum)
    scale = ember.where(constant, 1, scale)
    return ((img - minimum) * scale).clamp(0, bound).to(img.dtype)
