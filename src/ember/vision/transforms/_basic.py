"""The first transforms: composition, conversion to a normalized tensor, random crops,
flips and rotations (images are tensors ``(..., C, H, W)``)."""
import enum
import math
import numbers

import numpy as np

import ember
import ember.nn.functional as F

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomRotation", "InterpolationMode"]


class InterpolationMode(enum.Enum):
    """How resizing and warping sample between pixels (bicubic: resizing only)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _is_pil_image(img):
    """Whether ``img`` is a PIL image (without importing Pillow, which is optional)."""
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image"
               for c in type(img).__mro__)


def _through_tensor(transform, img):
    """Apply ``transform`` to a PIL image as a ``uint8`` tensor, giving a PIL image back."""
    from ember.vision.transforms import functional  # it imports this module
    return functional.to_pil_image(transform(functional.pil_to_tensor(img)), mode=img.mode)


def _check_image(img):
    if not isinstance(img, ember.Tensor):
        raise TypeError(f"img should be a Tensor image. Got {type(img)}")
    if img.dim() < 2:
        raise TypeError(f"Tensor is not an image: expected at least 2 dimensions "
                        f"(..., H, W), got shape {tuple(img.shape)}")


def _num_channels(img):
    return 1 if img.dim() == 2 else img.shape[-3]


def _pair(value, name):
    """``value`` as ``(height, width)``: an int is square; a sequence has 1 or 2 ints."""
    if isinstance(value, numbers.Number):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return int(value[0]), int(value[0])
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"Please provide only two dimensions (h, w) for {name}, got {value!r}")


class Compose:
    """Apply transforms one after the other.

    Parameters
    ----------
    transforms : list of callable
        Each takes the previous one's output.

    Examples
    --------
    >>> import ember
    >>> from ember.vision import transforms
    >>> pipeline = transforms.Compose([transforms.ToTensor(),
    ...                                transforms.Normalize((0.5,), (0.5,))])
    >>> pipeline(ember.tensor([[0, 255]], dtype=ember.uint8))
    tensor([[[-1.,  1.]]])
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        return "\n".join([f"{type(self).__name__}("]
                         + [f"    {t}" for t in self.transforms] + [")"])


class ToTensor:
    """Convert an ``(H, W)`` or ``(H, W, C)`` image to a ``(C, H, W)`` tensor.

    A ``uint8`` image is scaled from [0, 255] to floats in [0, 1] (of the default dtype);
    other element types keep their values and type.  Accepts PIL images, NumPy arrays and
    ember tensors (ember's data sets give ``uint8`` tensors).

    Examples
    --------
    >>> import numpy as np
    >>> from ember.vision.transforms import ToTensor
    >>> ToTensor()(np.full((2, 3, 3), 51, dtype=np.uint8)).shape
    ember.Size([3, 2, 3])
    """

    def __call__(self, pic):
        if _is_pil_image(pic):
            pic = np.array(pic, dtype=np.uint8) * 255 if pic.mode == "1" else np.array(pic)
        if isinstance(pic, np.ndarray):
            pic = ember.from_numpy(np.ascontiguousarray(pic))
        elif not isinstance(pic, ember.Tensor):
            raise TypeError(f"pic should be PIL Image, Tensor or ndarray. Got {type(pic)}")
        if pic.dim() not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.dim()} dimensions.")
        if pic.dim() == 2:
            pic = pic.unsqueeze(-1)
        img = pic.permute(2, 0, 1).contiguous()
        if img.dtype == ember.uint8:
            return img.to(ember.get_default_dtype()).div(255)
        return img

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    """Normalize each channel: ``(img[c] - mean[c]) / std[c]``.

    Parameters
    ----------
    mean, std : sequence of float
        One value per channel (or one for all).
    inplace : bool, default False
        Overwrite the input tensor instead of returning a new one.

    Raises
    ------
    TypeError
        If the image is not a floating-point tensor.
    ValueError
        If it has fewer than 3 dimensions, or a ``std`` is zero.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import Normalize
    >>> Normalize(mean=[1.0, 2.0], std=[2.0, 4.0])(ember.full((2, 1, 1), 3.0))
    tensor([[[1.0000]],
    <BLANKLINE>
            [[0.2500]]])
    """

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not isinstance(tensor, ember.Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        if not tensor.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.dim() < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). "
                             f"Got tensor.size() = {tuple(tensor.shape)}")
        mean = ember.as_tensor(self.mean, dtype=tensor.dtype)
        std = ember.as_tensor(self.std, dtype=tensor.dtype)
        if bool((std == 0).any()):
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, "
                             f"leading to division by zero.")
        if mean.dim() == 1:
            mean = mean.view(-1, 1, 1)
        if std.dim() == 1:
            std = std.view(-1, 1, 1)
        if not self.inplace:
            tensor = tensor.clone()
        return tensor.sub_(mean).div_(std)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the last two dimensions; ``padding`` is an int, ``(lr, tb)`` or ``(l, t, r, b)``;
    negative amounts crop."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}")
    if not isinstance(fill, numbers.Number):
        raise TypeError(f"Got inappropriate fill arg for a tensor image: {fill!r}")
    if not isinstance(padding_mode, str):
        raise TypeError(f"Got inappropriate padding_mode arg: {padding_mode!r}")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, "
                         f"not a {len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"Padding mode should be either constant, edge, reflect or "
                         f"symmetric, got {padding_mode!r}")
    amounts = [int(padding)] * 4 if isinstance(padding, numbers.Number) else \
        [int(p) for p in padding]
    if len(amounts) == 1:
        amounts *= 4
    elif len(amounts) == 2:
        amounts *= 2
    left, top, right, bottom = amounts
    height, width = img.shape[-2], img.shape[-1]
    img = img[..., max(-top, 0):height - max(-bottom, 0), max(-left, 0):width - max(-right, 0)]
    (top, bottom), (left, right) = [(max(a, 0), max(b, 0)) for a, b in
                                    ((top, bottom), (left, right))]
    if padding_mode == "constant":
        out = ember.full(tuple(img.shape[:-2]) + (img.shape[-2] + top + bottom,
                                                  img.shape[-1] + left + right),
                         fill, dtype=img.dtype)
        out[..., top:top + img.shape[-2], left:left + img.shape[-1]] = img
        return out
    # Other modes gather rows and columns: NumPy's np.pad modes of the same names give the
    # source index of every output position.
    for dim, before, after in ((-2, top, bottom), (-1, left, right)):
        size = img.shape[dim]
        limit = size - 1 if padding_mode == "reflect" else size
        if max(before, after) > limit or size == 0:
            raise RuntimeError(f"{padding_mode} padding of ({before}, {after}) needs a "
                               f"dimension larger than both, got size {size}")
        index = np.pad(np.arange(size), (before, after), mode=padding_mode)
        img = img.index_select(img.dim() + dim, ember.from_numpy(index))
    return img


class RandomCrop:
    """Crop a random ``size`` window, optionally padding the image first.

    Parameters
    ----------
    size : int or (int, int)
        Output ``(height, width)``; an int gives a square.
    padding : int or sequence of int, optional
        Padding applied first: one int for all borders, ``(left/right, top/bottom)`` or
        ``(left, top, right, bottom)``.
    pad_if_needed : bool, default False
        Pad an image smaller than ``size`` so that a crop fits.
    fill : number, default 0
        The value of ``constant`` padding.
    padding_mode : {'constant', 'edge', 'reflect', 'symmetric'}
        ``edge`` repeats the border pixel; ``reflect`` mirrors without repeating it;
        ``symmetric`` mirrors repeating it.

    Raises
    ------
    ValueError
        If the (padded) image is smaller than ``size``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomCrop
    >>> _ = ember.manual_seed(0)
    >>> RandomCrop(28, padding=4)(ember.zeros(1, 28, 28)).shape
    ember.Size([1, 28, 28])
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size = _pair(size, "size")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """A random crop window ``(top, left, height, width)`` of ``output_size``."""
        height, width = img.shape[-2], img.shape[-1]
        crop_height, crop_width = output_size
        if height < crop_height or width < crop_width:
            raise ValueError(f"Required crop size {(crop_height, crop_width)} is larger than "
                             f"input image size {(height, width)}")
        if (height, width) == (crop_height, crop_width):
            return 0, 0, height, width
        top = ember.randint(0, height - crop_height + 1, size=(1,)).item()
        left = ember.randint(0, width - crop_width + 1, size=(1,)).item()
        return top, left, crop_height, crop_width

    def __call__(self, img):
        if _is_pil_image(img):
            return _through_tensor(self, img)
        _check_image(img)
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        if self.pad_if_needed and img.shape[-1] < self.size[1]:
            img = _pad(img, [self.size[1] - img.shape[-1], 0], self.fill, self.padding_mode)
        if self.pad_if_needed and img.shape[-2] < self.size[0]:
            img = _pad(img, [0, self.size[0] - img.shape[-2]], self.fill, self.padding_mode)
        top, left, height, width = self.get_params(img, self.size)
        return img[..., top:top + height, left:left + width]

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image (a tensor or PIL image) left-right with probability ``p``.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomHorizontalFlip
    >>> RandomHorizontalFlip(p=1.0)(ember.tensor([[1, 2, 3]]))
    tensor([[3, 2, 1]])
    """

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if not _is_pil_image(img):
            _check_image(img)
        if ember.rand(1).item() < self.p:
            return img.transpose(0) if _is_pil_image(img) else img.flip(-1)  # 0: left-right
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """torchvision's inverse affine matrix (2x3, row-major) of a rotation by ``angle``
    degrees clockwise, ``shear`` degrees, ``scale`` and ``translate`` about ``center``
    (offsets in pixels; the tensor kernels measure them from the image centre)."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # rotation x shear, without the scale
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix


def _expanded_size(matrix, width, height):
    """``(width, height)`` that holds the whole rotated image (PIL's rule, computed in
    float32 with torchvision's 1e-4 truncation)."""
    half = np.array([0.5 * width, 0.5 * height], dtype=np.float32)
    corners = np.array([[-half[0], -half[1], 1], [-half[0], half[1], 1],
                        [half[0], half[1], 1], [half[0], -half[1], 1]], dtype=np.float32)
    points = corners @ np.array(matrix, dtype=np.float32).reshape(2, 3).T
    tol = np.float32(1e-4)
    high = np.ceil(np.trunc((points.max(0) + half) * np.float32(1 / tol)) * tol)
    low = np.floor(np.trunc((points.min(0) + half) * np.float32(1 / tol)) * tol)
    size = high - low
    return int(size[0]), int(size[1])


def _apply_affine(img, matrix, interpolation, out_size, fill):
    """Warp ``(N, C, H, W)`` images as torchvision's tensor ``affine``/``rotate`` do: the
    inverse ``matrix`` applied to an output grid in pixel units, ``grid_sample`` with zero
    padding, and (unless ``fill`` is None: zeros blend in) an appended ones channel whose
    sampled value marks where ``fill`` shows through.  ``out_size`` is ``(width, height)``."""
    height, width = img.shape[-2], img.shape[-1]
    out_width, out_height = out_size
    if img.shape[0] == 0:  # grid_sample cannot reshape an empty batch
        return img.new_zeros((0, img.shape[1], out_height, out_width))
    dtype = img.dtype if img.is_floating_point() else ember.float32
    theta = ember.tensor(matrix, dtype=dtype).view(2, 3)
    xs = ember.linspace(-out_width * 0.5 + 0.5, out_width * 0.5 - 0.5, steps=out_width,
                        dtype=dtype)
    ys = ember.linspace(-out_height * 0.5 + 0.5, out_height * 0.5 - 0.5, steps=out_height,
                        dtype=dtype)
    base = ember.stack([xs.expand(out_height, out_width),
                        ys.unsqueeze(-1).expand(out_height, out_width),
                        ember.ones(out_height, out_width, dtype=dtype)], dim=-1)
    scale = ember.tensor([0.5 * width, 0.5 * height], dtype=dtype)
    grid = (base.reshape(-1, 3) @ theta.t() / scale).view(1, out_height, out_width, 2)
    source = img.to(dtype)
    batch = source.shape[0]
    if fill is not None:
        source = ember.cat([source, ember.ones(batch, 1, height, width, dtype=dtype)], dim=1)
    out = F.grid_sample(source, grid.expand(batch, out_height, out_width, 2),
                        mode=interpolation.value, padding_mode="zeros", align_corners=False)
    if fill is not None:
        out, mask = out[:, :-1], out[:, -1:].expand(-1, out.shape[1] - 1, -1, -1)
        fill_image = ember.tensor(fill, dtype=dtype).view(1, -1, 1, 1).expand_as(out)
        if interpolation is InterpolationMode.NEAREST:
            out = ember.where(mask < 0.5, fill_image, out)
        else:
            out = out * mask + (1.0 - mask) * fill_image
    if not img.is_floating_point():
        out = ember.round(out)
    return out.to(img.dtype)


def _rotate(img, angle, interpolation, expand, center, fill):
    """Rotate ``(N, C, H, W)`` images by ``angle`` degrees counter-clockwise."""
    height, width = img.shape[-2], img.shape[-1]
    center_offset = [0.0, 0.0] if center is None else \
        [float(c) - s * 0.5 for c, s in zip(center, (width, height))]
    matrix = _inverse_affine_matrix(center_offset, -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
    out_size = _expanded_size(matrix, width, height) if expand else (width, height)
    return _apply_affine(img, matrix, interpolation, out_size, fill)


class RandomRotation:
    """Rotate the image by a random angle (degrees, counter-clockwise).

    Parameters
    ----------
    degrees : number or (number, number)
        The range of angles: ``d`` means ``(-d, d)``.
    interpolation : InterpolationMode or {'nearest', 'bilinear'}, default nearest
    expand : bool, default False
        Enlarge the output to hold the whole rotated image (else keep the input size).
    center : (number, number), optional
        The rotation centre ``(x, y)`` in pixels from the top left (default: the centre).
    fill : number or sequence of number, default 0
        The value of pixels that come from outside the image (one, or one per channel);
        ``None`` means 0.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.transforms import RandomRotation
    >>> image = ember.tensor([[[1., 2.], [3., 4.]]])
    >>> RandomRotation((90, 90))(image)  # a quarter turn counter-clockwise
    tensor([[[2., 4.],
             [1., 3.]]])
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"If degrees is a single number, it must be positive, "
                                 f"got {degrees}")
            degrees = (-degrees, degrees)
        elif not isinstance(degrees, (tuple, list)):
            raise TypeError(f"degrees should be a number or a sequence of length 2, "
                            f"got {degrees!r}")
        elif len(degrees) != 2:
            raise ValueError(f"degrees should be a sequence of length 2, got {degrees!r}")
        self.degrees = [float(d) for d in degrees]
        try:
            self.interpolation = InterpolationMode(interpolation)
            if self.interpolation is InterpolationMode.BICUBIC:
                raise ValueError
        except ValueError:
            raise ValueError(f"interpolation should be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}") from None
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError(f"If center is a sequence, it must be of len 2, got {center!r}")
        if fill is None:
            fill = 0
        elif not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError(f"Fill should be either a sequence or a number, got {fill!r}")
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees):
        """A random angle drawn uniformly from ``[degrees[0], degrees[1]]``."""
        return ember.empty(1).uniform_(float(degrees[0]), float(degrees[1])).item()

    def __call__(self, img):
        if _is_pil_image(img):
            return _through_tensor(self, img)
        _check_image(img)
        channels = _num_channels(img)
        fill = [float(self.fill)] * channels if isinstance(self.fill, numbers.Number) else \
            [float(f) for f in self.fill]
        if len(fill) not in (1, channels):
            raise ValueError(f"The number of elements in 'fill' cannot broadcast to match "
                             f"the number of channels of the image "
                             f"({len(fill)} != {channels})")
        angle = self.get_params(self.degrees)
        images = img.reshape((-1, channels) + tuple(img.shape[-2:]))
        out = _rotate(images, angle, self.interpolation, self.expand, self.center, fill)
        leading = tuple(img.shape[:-2]) if img.dim() > 2 else ()
        return out.reshape(leading + tuple(out.shape[-2:]))

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, "
                f"interpolation={self.interpolation.value}, expand={self.expand}, "
                + (f"center={self.center}, " if self.center is not None else "")
                + f"fill={self.fill})")
