"""Transforms against NumPy and a PyTorch transcription of torchvision's tensor kernels."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.vision import transforms as T
from ember.vision.transforms import _pad


def _image(shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- ToTensor, Normalize, Compose

@pytest.mark.parametrize("shape", [(5, 4), (5, 4, 3)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_to_tensor_scales_uint8_to_chw_floats(shape, as_tensor):
    pic = _image(shape, np.uint8)
    out = T.ToTensor()(ember.from_numpy(pic) if as_tensor else pic)
    expected = (pic if pic.ndim == 3 else pic[:, :, None]).transpose(2, 0, 1) / 255
    assert out.dtype == ember.float32 and out.is_contiguous()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_to_tensor_keeps_other_dtypes_and_follows_default_dtype(restore_default_dtype):
    pic = _image((3, 2, 2), np.float64)
    out = T.ToTensor()(pic)
    assert out.dtype == ember.float64
    np.testing.assert_array_equal(out.numpy(), pic.transpose(2, 0, 1))
    ember.set_default_dtype(ember.float64)
    assert T.ToTensor()(_image((2, 2), np.uint8)).dtype == ember.float64


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="list"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="2/3 dimensional. Got 4"):
        T.ToTensor()(np.zeros((1, 2, 2, 3), np.uint8))


def test_normalize_matches_formula_and_inplace_flag():
    img = ember.from_numpy(_image((3, 2, 5, 4)))
    mean, std = [0.5, -1.0], [2.0, 0.25]
    expected = (img.numpy() - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    before = img.numpy().copy()
    out = T.Normalize(mean, std)(img)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    np.testing.assert_array_equal(img.numpy(), before)
    same = T.Normalize(mean, std, inplace=True)(img)
    assert same is img
    np.testing.assert_allclose(img.numpy(), expected, rtol=1e-6)
    scalar = T.Normalize(0.5, 2.0)(ember.ones(1, 2, 2))
    np.testing.assert_allclose(scalar.numpy(), 0.25)


def test_normalize_errors():
    with pytest.raises(TypeError, match="float tensor. Got ember.uint8"):
        T.Normalize([0], [1])(ember.zeros(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\). Got tensor.size\(\) = \(2, 2\)"):
        T.Normalize([0], [1])(ember.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0, 0], [1, 0])(ember.zeros(2, 2, 2))
    with pytest.raises(TypeError, match="Tensor Image"):
        T.Normalize([0], [1])(np.zeros((1, 2, 2)))


def test_compose_applies_in_order_and_reprs():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    out = pipeline(np.array([[0, 255]], np.uint8))
    np.testing.assert_allclose(out.numpy(), [[[-1.0, 1.0]]])
    assert repr(pipeline) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"


# ---------------------------------------------------------------- padding and RandomCrop

@pytest.mark.parametrize("padding", [2, [1, 3], [1, 0, 2, 3], [-1, 2, 1, -2]])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_torch(padding, mode):
    img = _image((2, 5, 6))
    out = _pad(ember.from_numpy(img), padding, fill=7, padding_mode=mode)
    amounts = [padding] * 4 if isinstance(padding, int) else padding * (4 // len(padding))
    left, top, right, bottom = amounts
    source = torch.from_numpy(img)
    # torch's pad crops for negative amounts; symmetric is NumPy's mode of the same name
    if mode == "symmetric":
        source = source[:, max(-top, 0):5 - max(-bottom, 0), max(-left, 0):6 - max(-right, 0)]
        expected = np.pad(source.numpy(), [(0, 0), (max(top, 0), max(bottom, 0)),
                                           (max(left, 0), max(right, 0))], mode="symmetric")
    else:
        torch_mode = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}[mode]
        expected = torch.nn.functional.pad(
            source.unsqueeze(0), [left, right, top, bottom], mode=torch_mode,
            **({"value": 7.0} if mode == "constant" else {})).squeeze(0).numpy()
    np.testing.assert_array_equal(out.numpy(), expected)


def test_pad_errors():
    img = ember.zeros(1, 3, 3)
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple, not a 3 element"):
        _pad(img, [1, 2, 3])
    with pytest.raises(ValueError, match="constant, edge, reflect or symmetric"):
        _pad(img, 1, padding_mode="wrap")
    with pytest.raises(TypeError, match="fill"):
        _pad(img, 1, fill=(1, 2))
    with pytest.raises(RuntimeError, match="reflect padding of \\(3, 3\\).*size 3"):
        _pad(img, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="symmetric padding of \\(4, 4\\)"):
        _pad(img, 4, padding_mode="symmetric")


def _find_window(big, small):
    """Every (top, left) where ``small`` appears in ``big`` (over the last two dims)."""
    h, w = small.shape[-2:]
    return [(i, j) for i in range(big.shape[-2] - h + 1) for j in range(big.shape[-1] - w + 1)
            if np.array_equal(big[..., i:i + h, j:j + w], small)]


def test_random_crop_takes_a_window_of_the_padded_image():
    img = _image((3, 8, 8), np.uint8)
    crop = T.RandomCrop((5, 6), padding=2, fill=0)
    padded = np.pad(img, [(0, 0), (2, 2), (2, 2)])
    ember.manual_seed(3)
    windows = set()
    for _ in range(40):
        out = crop(ember.from_numpy(img))
        assert out.shape == (3, 5, 6) and out.dtype == ember.uint8
        found = _find_window(padded, out.numpy())
        assert found
        windows.update(found)
    assert len(windows) > 10  # positions vary
    ember.manual_seed(3)
    first = crop(ember.from_numpy(img))
    ember.manual_seed(3)
    np.testing.assert_array_equal(crop(ember.from_numpy(img)).numpy(), first.numpy())


def test_random_crop_pad_if_needed_and_sizes():
    img = ember.from_numpy(_image((2, 4, 3)))
    out = T.RandomCrop(6, pad_if_needed=True, padding_mode="edge")(img)
    # torchvision pads each side by the shortfall, then crops at random
    padded = np.pad(img.numpy(), [(0, 0), (2, 2), (3, 3)], mode="edge")
    assert out.shape == (2, 6, 6) and _find_window(padded, out.numpy())
    assert T.RandomCrop([3])(img).shape == (2, 3, 3)
    assert T.RandomCrop(2)(ember.zeros(5, 5)).shape == (2, 2)
    np.testing.assert_array_equal(T.RandomCrop((4, 3))(img).numpy(), img.numpy())
    with pytest.raises(ValueError, match=r"Required crop size \(5, 5\) is larger than input "
                                         r"image size \(4, 3\)"):
        T.RandomCrop(5)(img)
    with pytest.raises(ValueError, match="two dimensions"):
        T.RandomCrop((1, 2, 3))
    assert repr(T.RandomCrop(4, padding=1)) == "RandomCrop(size=(4, 4), padding=1)"


# ---------------------------------------------------------------- RandomHorizontalFlip

def test_horizontal_flip_probability_and_reproducibility():
    img = ember.from_numpy(_image((1, 2, 5)))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img).numpy(),
                                  img.numpy()[..., ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    flip = T.RandomHorizontalFlip()
    ember.manual_seed(0)
    flipped = [flip(img) is not img for _ in range(200)]
    assert 60 < sum(flipped) < 140
    ember.manual_seed(0)
    assert [flip(img) is not img for _ in range(200)] == flipped
    assert repr(flip) == "RandomHorizontalFlip(p=0.5)"


# ---------------------------------------------------------------- RandomRotation

def torchvision_rotate(img, angle, mode, expand, center, fill):
    """torchvision's tensor rotate, transcribed step by step into PyTorch."""
    height, width = img.shape[-2:]
    center_f = [0.0, 0.0] if center is None else \
        [c - s * 0.5 for c, s in zip(center, [width, height])]
    rot = math.radians(-angle)
    a, b, c, d = math.cos(rot), -math.sin(rot), math.sin(rot), math.cos(rot)
    matrix = [d, -b, 0.0, -c, a, 0.0]
    cx, cy = center_f
    matrix[2] += matrix[0] * -cx + matrix[1] * -cy + cx
    matrix[5] += matrix[3] * -cx + matrix[4] * -cy + cy
    ow, oh = width, height
    if expand:
        pts = torch.tensor([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                            [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]])
        theta = torch.tensor(matrix, dtype=torch.float).view(2, 3)
        min_vals, max_vals = torch.matmul(pts, theta.T).aminmax(dim=0)
        halfs = torch.tensor((0.5 * width, 0.5 * height))
        min_vals.add_(halfs)
        max_vals.add_(halfs)
        tol = 1e-4
        cmax = max_vals.mul_(1.0 / tol).trunc_().mul_(tol).ceil_()
        cmin = min_vals.mul_(1.0 / tol).trunc_().mul_(tol).floor_()
        size = cmax.sub_(cmin)
        ow, oh = int(size[0]), int(size[1])
    dtype = img.dtype if img.is_floating_point() else torch.float32
    theta = torch.tensor(matrix, dtype=dtype).reshape(1, 2, 3)
    base_grid = torch.empty(1, oh, ow, 3, dtype=dtype)
    base_grid[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, steps=ow))
    base_grid[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1,
                                           steps=oh).unsqueeze_(-1))
    base_grid[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * width, 0.5 * height], dtype=dtype)
    grid = base_grid.view(1, oh * ow, 3).bmm(rescaled).view(1, oh, ow, 2)
    squeeze = img.ndim < 4
    x = img.unsqueeze(0) if squeeze else img
    out_dtype = x.dtype
    x = x.to(dtype)
    grid = grid.expand(x.shape[0], oh, ow, 2)
    x = torch.cat((x, torch.ones((x.shape[0], 1, height, width), dtype=dtype)), dim=1)
    x = torch.nn.functional.grid_sample(x, grid, mode=mode, padding_mode="zeros",
                                        align_corners=False)
    mask, x = x[:, -1:], x[:, :-1]
    mask = mask.expand_as(x)
    fill_img = torch.tensor(fill, dtype=dtype).view(1, len(fill), 1, 1).expand_as(x)
    if mode == "nearest":
        x = x.clone()
        x[mask < 0.5] = fill_img[mask < 0.5]
    else:
        x = x * mask + (1.0 - mask) * fill_img
    if squeeze:
        x = x.squeeze(0)
    if out_dtype != dtype:
        x = torch.round(x).to(out_dtype)
    return x


@pytest.mark.parametrize("angle", [33.0, -71.5, 90.0, 180.0])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("expand, center", [(False, None), (True, None), (False, (1, 5))])
def test_rotation_matches_torchvision_kernel(angle, mode, expand, center):
    img = _image((3, 7, 9))
    fill = [0.5, -1.0, 2.0]
    rotation = T.RandomRotation((angle, angle), interpolation=mode, expand=expand,
                                center=center, fill=fill)
    out = rotation(ember.from_numpy(img))
    expected = torchvision_rotate(torch.from_numpy(img), angle, mode, expand, center, fill)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_rotation_of_uint8_batches_and_2d_images():
    img = _image((2, 1, 6, 6), np.uint8)
    out = T.RandomRotation((20, 20), interpolation=T.InterpolationMode.BILINEAR, fill=255)(
        ember.from_numpy(img))
    expected = torchvision_rotate(torch.from_numpy(img), 20.0, "bilinear", False, None,
                                  [255.0])
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    flat = T.RandomRotation((-45, -45), expand=True)(ember.from_numpy(img[0, 0]))
    expected = torchvision_rotate(torch.from_numpy(img[0]), -45.0, "nearest", True, None, [0.0])
    np.testing.assert_array_equal(flat.numpy(), expected.numpy()[0])


def test_rotation_draws_angles_reproducibly():
    assert T.RandomRotation(10).degrees == [-10.0, 10.0]
    ember.manual_seed(5)
    angles = [T.RandomRotation.get_params([-10, 30]) for _ in range(300)]
    assert -10 <= min(angles) < 0 and 20 < max(angles) <= 30
    ember.manual_seed(5)
    assert T.RandomRotation.get_params([-10, 30]) == angles[0]
    rotation = T.RandomRotation(40)
    img = ember.from_numpy(_image((1, 5, 5)))
    ember.manual_seed(1)
    first = rotation(img)
    ember.manual_seed(1)
    np.testing.assert_array_equal(rotation(img).numpy(), first.numpy())


def test_rotation_errors_and_repr():
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="sequence of length 2, got \\(1, 2, 3\\)"):
        T.RandomRotation((1, 2, 3))
    with pytest.raises(TypeError, match="number or a sequence"):
        T.RandomRotation("10")
    with pytest.raises(TypeError, match="Fill should be"):
        T.RandomRotation(3, fill="white")
    assert T.RandomRotation(3, fill=None).fill == 0
    with pytest.raises(ValueError, match="'nearest' or 'bilinear', got 'bicubic'"):
        T.RandomRotation(3, interpolation="bicubic")
    with pytest.raises(ValueError, match=r"cannot broadcast .* \(2 != 3\)"):
        T.RandomRotation(3, fill=[1, 2])(ember.zeros(3, 4, 4))
    with pytest.raises(TypeError, match="Tensor image"):
        T.RandomRotation(3)(np.zeros((4, 4)))
    assert repr(T.RandomRotation(3)) == \
        "RandomRotation(degrees=[-3.0, 3.0], interpolation=nearest, expand=False, fill=0)"
