"""Turn what the writer is given (ember tensors, NumPy arrays, Python numbers) into
NumPy arrays, and images of any layout into one HWC array, as PyTorch's writer does."""
import numpy as np

import ember


def make_np(x):
    """``x`` as a NumPy array: a tensor detached and copied to the CPU, a Python or
    NumPy scalar as a 1-element array.

    Raises
    ------
    NotImplementedError
        For anything else (the error PyTorch's writer raises).
    """
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, ember.Tensor):
        x = x.detach()
        if x.device.type != "cpu":
            x = x.cpu()
        if x.dtype == ember.bfloat16:
            # ml_dtypes' bfloat16 is not a NumPy float: histograms and PIL want one
            x = x.to(ember.float32)
        return x.numpy()
    if np.isscalar(x):
        return np.array([x])
    raise NotImplementedError(
        f"Got {type(x).__name__}, but an ember Tensor, a NumPy array or a Python number "
        "is expected.")


def make_grid(images, ncols=8):
    """Tile an ``(N, 1 or 3, H, W)`` batch into one ``(3, H * rows, W * ncols)`` image,
    row by row, zeros where the last row is short."""
    if images.shape[1] == 1:
        images = np.concatenate([images, images, images], 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("a batch of images must have 1 or 3 channels: got shape "
                             f"{tuple(images.shape)} in NCHW order")
    nimg, _, height, width = images.shape
    ncols = min(nimg, ncols)
    nrows = int(np.ceil(float(nimg) / ncols))
    canvas = np.zeros((3, height * nrows, width * ncols), dtype=images.dtype)
    for i in range(nimg):
        y, x = divmod(i, ncols)
        canvas[:, y * height:(y + 1) * height, x * width:(x + 1) * width] = images[i]
    return canvas


def convert_to_hwc(array, dataformats):
    """An image array laid out as ``dataformats`` (``"CHW"``, ``"HWC"``, ``"HW"``,
    ``"NCHW"``, ``"NHWC"``, ...) as one ``(H, W, C)`` array: a batch is tiled with
    :func:`make_grid`, one gray channel (or none) is repeated to RGB."""
    if len(set(dataformats)) != len(dataformats):
        raise AssertionError(f"dataformats {dataformats!r} names a dimension twice")
    if array.ndim != len(dataformats):
        raise AssertionError(
            f"the image has {array.ndim} dimensions (shape {tuple(array.shape)}) but "
            f"dataformats {dataformats!r} names {len(dataformats)}")
    dataformats = dataformats.upper()
    wanted = {4: "NCHW", 3: "HWC", 2: "HW"}.get(len(dataformats))
    if wanted is None or set(dataformats) != set(wanted):
        raise AssertionError(f"dataformats {dataformats!r} is not a permutation of "
                             "NCHW, HWC or HW")
    array = array.transpose([dataformats.find(c) for c in wanted])
    if len(dataformats) == 4:
        return make_grid(array).transpose(1, 2, 0)
    if len(dataformats) == 2:
        return np.stack([array, array, array], 2)
    if array.shape[2] == 1:
        array = np.concatenate([array, array, array], 2)
    return array


def figure_to_image(figures, close=True):
    """Render a matplotlib figure (or a list of them) into a ``(3, H, W)`` uint8 array
    (``(N, 3, H, W)`` for a list)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure):
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        width, height = figure.canvas.get_width_height()
        image = np.moveaxis(data.reshape(height, width, 4)[:, :, :3], 2, 0)
        if close:
            plt.close(figure)
        return image

    if isinstance(figures, list):
        return np.stack([render(figure) for figure in figures])
    return render(figures)
