"""Image grids and image files, as ``torchvision.utils.make_grid`` / ``save_image``."""
import io
import math
import os
import tempfile

import ember
from ember.vision._png import encode_png

__all__ = ["make_grid", "save_image"]


# Without a graph, as torchvision's: a grid of samples from a model that still require grad
# can be shown with .numpy() directly.
@ember.no_grad()
def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Tile a batch of images into one image.

    Parameters
    ----------
    tensor : Tensor or list of Tensor
        ``(B, C, H, W)`` images, a list of ``(C, H, W)`` images, or one image ``(C, H, W)``
        or ``(H, W)``.  One-channel images become three-channel (grey) ones.
    nrow : int, default 8
        Images per row of the grid.
    padding : int, default 2
        Pixels between images and around the grid.
    normalize : bool, default False
        Shift and scale values to [0, 1]: by ``value_range`` if given (values outside are
        clipped), else by the minimum and maximum.
    value_range : (float, float), optional
        The ``(min, max)`` used by ``normalize``.
    scale_each : bool, default False
        Normalize each image by its own range instead of the batch's.
    pad_value : float, default 0.0
        The value of the padding pixels.

    Returns
    -------
    Tensor
        ``(C, H', W')``: the grid (a single image comes back without padding), built
        without autograd: it never requires grad.

    Examples
    --------
    >>> import ember
    >>> from ember.vision.utils import make_grid
    >>> make_grid(ember.ones(5, 1, 4, 4), nrow=3, padding=1).shape
    ember.Size([3, 11, 16])
    """
    if isinstance(tensor, list):
        for item in tensor:
            if not isinstance(item, ember.Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing "
                                f"{type(item)}")
        tensor = ember.stack(tensor, dim=0)
    elif not isinstance(tensor, ember.Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.shape[0] == 1:
            tensor = ember.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != 4:
        raise ValueError(f"make_grid expects images of 2, 3 or 4 dimensions, got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.shape[1] == 1:
        tensor = ember.cat((tensor, tensor, tensor), 1)

    if normalize:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. "
                            "min and max are numbers")

        def normalize_range(img):
            low, high = value_range if value_range is not None else \
                (float(img.min()), float(img.max()))
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        if scale_each:
            for index in range(tensor.shape[0]):
                normalize_range(tensor[index])
        else:
            normalize_range(tensor)

    if tensor.shape[0] == 1:
        return tensor.squeeze(0)
    count = tensor.shape[0]
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    height, width = tensor.shape[2] + padding, tensor.shape[3] + padding
    grid = ember.full((tensor.shape[1], height * rows + padding, width * columns + padding),
                      pad_value, dtype=tensor.dtype)
    for k in range(count):
        top, left = (k // columns) * height + padding, (k % columns) * width + padding
        grid[:, top:top + height - padding, left:left + width - padding] = tensor[k]
    return grid


def _encode(pixels, format):
    """The bytes of a ``(H, W, C)`` ``uint8`` image in ``format``: PNG by ember's encoder,
    the other formats Pillow writes (JPEG, BMP, ...) by Pillow."""
    if format.lower() == "png":
        return encode_png(pixels)
    try:
        from PIL import Image
    except ImportError:
        raise ValueError(f"save_image writes PNG files; format {format!r} needs Pillow "
                         "(pip install 'ember[vision]')") from None
    Image.init()
    name = Image.registered_extensions().get("." + format.lower(), format.upper())
    if name not in Image.SAVE:
        raise ValueError(f"save_image: unknown image format {format!r}")
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(buffer, name)
    return buffer.getvalue()


def save_image(tensor, fp, format=None, **kwargs):
    """Write images as an image file, tiled by :func:`make_grid`.

    Values in [0, 1] map to 0..255 (rounded, clipped).  PNG is written by ember itself;
    other formats (JPEG, BMP, TIFF, ...) by Pillow, as torchvision does.  A path is
    written atomically (a temporary file in the same folder, then renamed).

    Parameters
    ----------
    tensor : Tensor or list of Tensor
        What :func:`make_grid` takes.
    fp : str, os.PathLike or binary file object
        Where to write.
    format : str, optional
        ``'png'``, ``'jpeg'``, ...; by default the extension of a path, and PNG for a file
        object.
    **kwargs
        Passed to :func:`make_grid` (``nrow``, ``padding``, ``normalize``, ...).

    Raises
    ------
    ValueError
        For an unknown format, a format other than PNG without Pillow installed, or a
        grid whose channel count PNG cannot hold (1 to 4).

    Examples
    --------
    >>> import os, tempfile
    >>> import ember
    >>> from ember.vision.utils import save_image
    >>> path = os.path.join(tempfile.mkdtemp(), "grid.png")
    >>> save_image(ember.rand(4, 1, 8, 8), path, nrow=2)
    >>> open(path, "rb").read(4)
    b'\\x89PNG'
    """
    is_path = isinstance(fp, (str, os.PathLike))
    if format is None:
        format = os.path.splitext(os.fspath(fp))[1].lstrip(".") if is_path else "png"
    grid = make_grid(tensor, **kwargs)
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(ember.uint8)
    data = _encode(pixels.contiguous().numpy(), format)
    if not is_path:
        fp.write(data)
        return
    path = os.fspath(fp)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1],
                                         dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
