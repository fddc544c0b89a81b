"""make_grid against a transcription of torchvision's algorithm; save_image read back."""
import io
import math
import os

import numpy as np
import pytest

import ember
from ember.vision._png import encode_png
from ember.vision.utils import make_grid, save_image
from vision_files import read_png


def torchvision_make_grid(batch, nrow=8, padding=2, normalize=False, value_range=None,
                          scale_each=False, pad_value=0.0):
    """torchvision.utils.make_grid transcribed into NumPy (for 2-D, 3-D or 4-D arrays)."""
    batch = np.array(batch, dtype=np.float64)
    if batch.ndim == 2:
        batch = batch[None]
    if batch.ndim == 3:
        if batch.shape[0] == 1:
            batch = np.concatenate([batch] * 3, 0)
        batch = batch[None]
    if batch.shape[1] == 1:
        batch = np.concatenate([batch] * 3, 1)
    if normalize:
        def norm(img):
            low, high = value_range if value_range is not None else (img.min(), img.max())
            np.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)
        for img in (batch if scale_each else [batch]):
            norm(img)
    if batch.shape[0] == 1:
        return batch[0]
    nmaps = batch.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(nmaps / xmaps))
    height, width = batch.shape[2] + padding, batch.shape[3] + padding
    grid = np.full((batch.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = \
                batch[k]
            k += 1
    return grid


@pytest.mark.parametrize("shape", [(7, 3, 4, 5), (5, 1, 3, 3), (1, 3, 4, 4), (2, 4, 2, 3),
                                   (1, 5, 6), (4, 4)])
@pytest.mark.parametrize("kwargs", [{}, {"nrow": 3, "padding": 1, "pad_value": 0.5},
                                    {"nrow": 2, "padding": 0}, {"normalize": True},
                                    {"normalize": True, "scale_each": True, "padding": 3},
                                    {"normalize": True, "value_range": (-0.5, 0.5)}])
def test_make_grid_matches_torchvision_algorithm(shape, kwargs):
    batch = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = make_grid(ember.from_numpy(batch), **kwargs)
    np.testing.assert_allclose(out.numpy(), torchvision_make_grid(batch, **kwargs),
                               rtol=1e-5, atol=1e-6)


def test_make_grid_small_case_by_hand():
    batch = ember.tensor([[[[1.0]]], [[[2.0]]], [[[3.0]]]])  # three 1x1 grey images
    grid = make_grid(batch, nrow=2, padding=1, pad_value=9.0)
    assert grid.shape == (3, 5, 5)
    expected = np.array([[9, 9, 9, 9, 9], [9, 1, 9, 2, 9], [9, 9, 9, 9, 9],
                         [9, 3, 9, 9, 9], [9, 9, 9, 9, 9]], np.float32)
    for channel in grid.numpy():
        np.testing.assert_array_equal(channel, expected)


def test_make_grid_list_input_keeps_input_and_errors():
    images = [ember.full((3, 2, 2), float(i)) for i in range(3)]
    grid = make_grid(images, normalize=True)
    np.testing.assert_allclose(grid.numpy(), torchvision_make_grid(
        np.stack([i.numpy() for i in images]), normalize=True))
    assert images[2].numpy().max() == 2.0  # normalize works on a copy
    with pytest.raises(TypeError, match="list containing <class 'int'>"):
        make_grid([images[0], 3])
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(np.zeros((3, 2, 2)))
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(ember.zeros(2, 3, 2, 2), normalize=True, value_range=[0, 1])
    with pytest.raises(ValueError, match=r"2, 3 or 4 dimensions, got shape \(1, 1, 1, 1, 1\)"):
        make_grid(ember.zeros(1, 1, 1, 1, 1))


@pytest.mark.parametrize("kwargs", [{}, {"normalize": True},
                                    {"normalize": True, "scale_each": True}])
def test_make_grid_of_samples_that_require_grad_is_outside_autograd(kwargs):
    # torchvision's make_grid runs under no_grad: a grid of a generator's samples taken
    # without .detach() converts to NumPy, and the samples are left as they were
    weight = ember.randn(3, 1, 4, 4, requires_grad=True)
    samples = weight * 2.0
    before = samples.detach().numpy().copy()
    grid = make_grid(samples, **kwargs)
    assert not grid.requires_grad and grid.grad_fn is None
    np.testing.assert_allclose(grid.numpy(), torchvision_make_grid(before, **kwargs),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(samples.detach().numpy(), before)
    assert samples.requires_grad
    samples.sum().backward()  # the graph of the samples is intact
    np.testing.assert_array_equal(weight.grad.numpy(), np.full((3, 1, 4, 4), 2.0, np.float32))


def _expected_pixels(batch, **kwargs):
    grid = torchvision_make_grid(batch, **kwargs).astype(np.float32)
    return np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)


def test_save_image_writes_a_png_that_reads_back(tmp_path):
    batch = np.random.default_rng(1).random((5, 1, 6, 7)).astype(np.float32)
    batch[0, 0, 0, 0], batch[0, 0, 0, 1] = -3.0, 4.0  # clipped
    path = tmp_path / "grid.png"
    save_image(ember.from_numpy(batch), path, nrow=3, padding=1)
    np.testing.assert_array_equal(read_png(path.read_bytes()),
                                  _expected_pixels(batch, nrow=3, padding=1))
    assert os.listdir(tmp_path) == ["grid.png"]  # no temporary file left behind
    save_image(ember.from_numpy(batch[:2]), str(path))  # replaces the file
    np.testing.assert_array_equal(read_png(path.read_bytes()), _expected_pixels(batch[:2]))


def test_save_image_to_file_objects_and_rgba():
    batch = np.random.default_rng(2).random((4, 3, 3)).astype(np.float32)  # one RGBA image
    buffer = io.BytesIO()
    save_image(ember.from_numpy(batch), buffer, format="PNG")
    pixels = read_png(buffer.getvalue())
    assert pixels.shape == (3, 3, 4)
    np.testing.assert_array_equal(pixels, _expected_pixels(batch))


@pytest.mark.parametrize("name, format, kwargs", [
    ("grid.jpg", None, {}), ("grid.JPEG", None, {"normalize": True}), ("grid.bmp", None, {}),
    ("grid.dat", "jpeg", {"nrow": 2}), (None, "bmp", {}), (None, "TIFF", {"padding": 0}),
])
def test_save_image_other_formats_by_pillow_as_torchvision(tmp_path, name, format, kwargs):
    """torchvision hands the grid to Pillow: the same bytes come out."""
    from PIL import Image            # the test extra installs Pillow (ember[vision])
    batch = np.random.default_rng(3).random((5, 3, 6, 7)).astype(np.float32)
    expected = io.BytesIO()
    pil_format = format or Image.registered_extensions()[os.path.splitext(name)[1].lower()]
    Image.fromarray(_expected_pixels(batch, **kwargs)).save(expected, pil_format.upper())
    if name is None:
        target = io.BytesIO()
        save_image(ember.from_numpy(batch), target, format=format, **kwargs)
        data = target.getvalue()
    else:
        save_image(ember.from_numpy(batch), tmp_path / name, format=format, **kwargs)
        assert os.listdir(tmp_path) == [name]
        data = (tmp_path / name).read_bytes()
    assert data == expected.getvalue()


def test_save_image_formats_without_pillow(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)  # import PIL fails
    with pytest.raises(ValueError, match="format 'jpg' needs Pillow"):
        save_image(ember.zeros(3, 2, 2), tmp_path / "a.jpg")
    save_image(ember.zeros(3, 2, 2), tmp_path / "a.png")  # PNG needs nothing
    assert os.listdir(tmp_path) == ["a.png"]


def test_save_image_errors_leave_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"C in 1..4, got uint8 of shape \(2, 2, 5\)"):
        save_image(ember.zeros(5, 2, 2), tmp_path / "a.png")
    with pytest.raises(ValueError, match="unknown image format 'xyz'"):
        save_image(ember.zeros(3, 2, 2), tmp_path / "a.xyz")
    with pytest.raises(ValueError, match="unknown image format 'nope'"):
        save_image(ember.zeros(3, 2, 2), io.BytesIO(), format="nope")
    with pytest.raises(OSError, match="RGBA"):
        save_image(ember.zeros(4, 2, 2), tmp_path / "a.jpg")  # as torchvision (Pillow)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_encode_png_color_types(channels):
    pixels = np.random.default_rng(channels).integers(0, 256, (3, 5, channels), dtype=np.uint8)
    np.testing.assert_array_equal(read_png(encode_png(pixels)), pixels)
    if channels == 1:
        np.testing.assert_array_equal(read_png(encode_png(pixels[:, :, 0])), pixels)
    with pytest.raises(ValueError, match="non-empty"):
        encode_png(np.zeros((0, 3, channels), np.uint8))


def test_benchmark_tool_runs(capsys):
    """tools/bench_vision.py keeps working as the API changes (one repeat, not timed)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "bench_vision.py"
    spec = importlib.util.spec_from_file_location("bench_vision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import torch

    threads = ember.get_num_threads(), torch.get_num_threads()
    try:
        module.main(["--repeats", "1"])
    finally:
        ember.set_num_threads(threads[0])
        torch.set_num_threads(threads[1])
    assert capsys.readouterr().out.count("\n") == 6
