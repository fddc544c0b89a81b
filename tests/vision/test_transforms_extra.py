"""The transforms added on top of the first ones, against torchvision's tensor path: the
same output on the same input for the deterministic ones, and for the random ones the same
parameters' ranges and the output of fixed parameters."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as TF

torchvision = pytest.importorskip("torchvision")
Image = pytest.importorskip("PIL.Image")
tvT = torchvision.transforms
tvF = torchvision.transforms.functional
IM = T.InterpolationMode
TV_IM = tvT.InterpolationMode


def _pair(shape, dtype="float64", seed=0, contiguous=True):
    """The same image as an ember and a torch tensor (uint8 or floats in [0, 1])."""
    rng = np.random.default_rng(seed)
    if dtype == "uint8":
        array = rng.integers(0, 256, shape, dtype=np.uint8)
    else:
        array = rng.random(shape).astype(dtype)
    ours = ember.from_numpy(array.copy())
    if not contiguous:  # the same values through a transposed view
        ours = ember.from_numpy(np.ascontiguousarray(np.swapaxes(array, -1, -2))) \
            .transpose(-1, -2)
        assert not ours.is_contiguous()
    return ours, torch.from_numpy(array.copy())


def _close(ours, theirs, atol=None):
    theirs = theirs.numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = ours.numpy()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    if atol is None:
        atol = 1 if ours.dtype == np.uint8 else 1e-5 if ours.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), atol=atol,
                               rtol=0)


DTYPES = ["float64", "float32", "uint8"]


# ---------------------------------------------------------------- resize and crops

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [(7, 5), 9, [6], (40, 31), (13, 70)])
@pytest.mark.parametrize("mode", [IM.BILINEAR, IM.NEAREST, IM.BICUBIC])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_matches_torchvision(dtype, size, mode, antialias):
    ours, theirs = _pair((2, 3, 23, 17), dtype)
    expected = tvF.resize(theirs, size, TV_IM(mode.value), antialias=antialias)
    _close(T.Resize(size, mode, antialias=antialias)(ours), expected,
           atol=1 if dtype == "uint8" else 1e-4 if dtype == "float32" else 1e-9)


def test_resize_max_size_non_contiguous_and_errors():
    ours, theirs = _pair((3, 20, 10), contiguous=False)
    _close(T.Resize(8, max_size=12)(ours), tvT.Resize(8, max_size=12)(theirs))
    _close(TF.resize(ours[0], [5, 4]), tvF.resize(theirs[:1], [5, 4])[0])  # a 2-D image
    assert T.Resize((20, 10))(ours) is ours
    with pytest.raises(ValueError, match="must be strictly greater"):
        TF.resize(ours, 10, max_size=10)
    with pytest.raises(ValueError, match="1 or 2 element"):
        TF.resize(ours, [1, 2, 3])
    with pytest.raises(TypeError, match="Tensor image"):
        TF.resize(np.zeros((3, 4, 4)), 2)


@pytest.mark.parametrize("size", [3, (4, 2), (9, 12), (5, 20)])
def test_center_crop_matches_torchvision(size):
    ours, theirs = _pair((2, 3, 7, 10), "uint8")
    _close(T.CenterCrop(size)(ours), tvT.CenterCrop(size)(theirs), atol=0)


@pytest.mark.parametrize("box", [(1, 2, 3, 4), (-2, -1, 5, 6), (4, 5, 6, 9)])
def test_crop_and_resized_crop(box):
    ours, theirs = _pair((3, 7, 10))
    _close(TF.crop(ours, *box), tvF.crop(theirs, *box), atol=0)
    _close(TF.resized_crop(ours, *box, [5, 5]), tvF.resized_crop(theirs, *box, [5, 5]))


def test_random_resized_crop_params_and_output():
    ours, theirs = _pair((3, 30, 50))
    transform = T.RandomResizedCrop(12, scale=(0.2, 0.9), ratio=(0.5, 2.0))
    ember.manual_seed(0)
    for _ in range(200):
        top, left, h, w = transform.get_params(ours, transform.scale, transform.ratio)
        assert 0 <= top <= 30 - h and 0 <= left <= 50 - w
        assert 0.2 * 1500 * 0.8 <= h * w <= 0.9 * 1500 * 1.2
        assert 0.5 / 1.3 <= w / h <= 2.0 * 1.3
    # impossible draws fall back to the central crop clamped to the ratio, as torchvision
    assert T.RandomResizedCrop.get_params(ours, (5.0, 6.0), (3.0, 4.0)) == \
        tvT.RandomResizedCrop.get_params(theirs, (5.0, 6.0), (3.0, 4.0)) == (6, 0, 17, 50)
    ember.manual_seed(3)
    out = transform(ours)
    ember.manual_seed(3)
    box = transform.get_params(ours, transform.scale, transform.ratio)
    assert out.shape == (3, 12, 12)
    _close(out, tvF.resized_crop(theirs, *box, [12, 12]))


@pytest.mark.parametrize("padding", [1, (2, 1), (1, 0, 3, 2)])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_torchvision(padding, mode):
    ours, theirs = _pair((2, 3, 5, 4), "uint8")
    _close(T.Pad(padding, fill=7, padding_mode=mode)(ours),
           tvT.Pad(padding, fill=7, padding_mode=mode)(theirs), atol=0)


def test_flips():
    ours, theirs = _pair((2, 3, 4, 5), contiguous=False)
    _close(T.RandomVerticalFlip(p=1.0)(ours), tvF.vflip(theirs))
    assert T.RandomVerticalFlip(p=0.0)(ours) is ours
    _close(TF.hflip(ours), tvF.hflip(theirs))


# ---------------------------------------------------------------- colour

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_grayscale_matches_torchvision(dtype, channels):
    ours, theirs = _pair((2, 3, 4, 5), dtype)
    _close(T.Grayscale(channels)(ours), tvT.Grayscale(channels)(theirs), atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, factor", [("brightness", 1.4), ("brightness", 0.3),
                                          ("contrast", 0.5), ("contrast", 1.7),
                                          ("saturation", 0.0), ("saturation", 2.2),
                                          ("hue", 0.2), ("hue", -0.45)])
def test_colour_adjustments_match_torchvision(dtype, name, factor):
    ours, theirs = _pair((2, 3, 6, 5), dtype, contiguous=False)
    adjust = f"adjust_{name}"
    _close(getattr(TF, adjust)(ours, factor), getattr(tvF, adjust)(theirs, factor),
           atol=1 if dtype == "uint8" else 1e-5 if dtype == "float32" else 1e-12)
    gray_ours, gray_theirs = _pair((1, 6, 5), dtype)
    _close(getattr(TF, adjust)(gray_ours, factor), getattr(tvF, adjust)(gray_theirs, factor),
           atol=1 if dtype == "uint8" else 1e-5)


def test_colour_errors():
    image = ember.rand(3, 2, 2)
    with pytest.raises(ValueError, match="is not in \\[-0.5, 0.5\\]"):
        TF.adjust_hue(image, 0.6)
    with pytest.raises(ValueError, match="not non-negative"):
        TF.adjust_brightness(image, -1)
    with pytest.raises(TypeError, match="permitted channel values"):
        TF.adjust_saturation(ember.rand(2, 2, 2), 0.5)
    with pytest.raises(ValueError, match="brightness values should be between"):
        T.ColorJitter(brightness=(-1, 2))
    with pytest.raises(TypeError, match="hue should be a single number"):
        T.ColorJitter(hue="x")


def test_color_jitter_ranges_params_and_output():
    ours = T.ColorJitter(0.5, (0.2, 1.1), 0, 0.25)
    theirs = tvT.ColorJitter(0.5, (0.2, 1.1), 0, 0.25)
    assert ours.brightness == theirs.brightness and ours.contrast == theirs.contrast
    assert ours.saturation is theirs.saturation is None and ours.hue == theirs.hue
    ember.manual_seed(0)
    for _ in range(50):
        order, b, c, s, h = ours.get_params(ours.brightness, ours.contrast, ours.saturation,
                                            ours.hue)
        assert sorted(order.tolist()) == [0, 1, 2, 3] and s is None
        assert 0.5 <= b <= 1.5 and 0.2 <= c <= 1.1 and -0.25 <= h <= 0.25
    image, expected = _pair((3, 5, 5))
    ember.manual_seed(7)
    out = ours(image)
    ember.manual_seed(7)
    order, *factors = ours.get_params(ours.brightness, ours.contrast, ours.saturation, ours.hue)
    adjust = [tvF.adjust_brightness, tvF.adjust_contrast, tvF.adjust_saturation,
              tvF.adjust_hue]
    for index in order.tolist():
        if factors[index] is not None:
            expected = adjust[index](expected, factors[index])
    _close(out, expected)


# ---------------------------------------------------------------- affine, blur, erasing

@pytest.mark.parametrize("params", [(30.0, [2, -1], 1.2, [10.0, 0.0]),
                                    (-75.0, [0, 3], 0.7, [0.0, -20.0]),
                                    (10.0, [1, 1], 1.0, [5.0, 5.0])])
@pytest.mark.parametrize("mode", [IM.NEAREST, IM.BILINEAR])
@pytest.mark.parametrize("center", [None, [2, 3]])
def test_affine_matches_torchvision(params, mode, center):
    ours, theirs = _pair((2, 3, 9, 11))
    fill = [0.5, 0.25, 1.0]
    _close(TF.affine(ours, *params, interpolation=mode, fill=fill, center=center),
           tvF.affine(theirs, *params, interpolation=TV_IM(mode.value), fill=fill,
                      center=center), atol=1e-6)
    ours, theirs = _pair((1, 9, 11), "uint8")
    _close(TF.affine(ours, *params, interpolation=mode, center=center),
           tvF.affine(theirs, *params, interpolation=TV_IM(mode.value), center=center))


def test_rotate_matches_torchvision():
    ours, theirs = _pair((3, 7, 10))
    for angle, expand in ((33.0, True), (-120.0, False)):
        _close(TF.rotate(ours, angle, IM.BILINEAR, expand=expand, fill=[1.0]),
               tvF.rotate(theirs, angle, TV_IM.BILINEAR, expand=expand, fill=[1.0]), atol=1e-6)


def test_random_affine_params_and_output():
    transform = T.RandomAffine(20, translate=(0.1, 0.3), scale=(0.8, 1.2),
                               shear=(-5, 5, -10, 10), interpolation=IM.BILINEAR, fill=0.5)
    reference = tvT.RandomAffine(20, translate=(0.1, 0.3), scale=(0.8, 1.2),
                                 shear=(-5, 5, -10, 10))
    assert transform.degrees == reference.degrees and transform.shear == reference.shear
    ember.manual_seed(0)
    for _ in range(100):
        angle, (tx, ty), scale, (sx, sy) = transform.get_params(
            transform.degrees, transform.translate, transform.scale, transform.shear, [20, 10])
        assert -20 <= angle <= 20 and abs(tx) <= 2 and abs(ty) <= 3
        assert isinstance(tx, int) and 0.8 <= scale <= 1.2 and -5 <= sx <= 5 and -10 <= sy <= 10
    ours, theirs = _pair((3, 10, 20))
    ember.manual_seed(4)
    out = transform(ours)
    ember.manual_seed(4)
    angle, translate, scale, shear = transform.get_params(
        transform.degrees, transform.translate, transform.scale, transform.shear, [20, 10])
    _close(out, tvF.affine(theirs, angle, list(translate), scale, list(shear),
                           TV_IM.BILINEAR, fill=[0.5] * 3), atol=1e-6)
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.1, 2))
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomAffine(-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel_size, sigma", [(3, 1.0), ((5, 3), (0.7, 2.0)), (7, None)])
def test_gaussian_blur_matches_torchvision(dtype, kernel_size, sigma):
    ours, theirs = _pair((2, 3, 8, 9), dtype, contiguous=False)
    _close(TF.gaussian_blur(ours, kernel_size, sigma), tvF.gaussian_blur(theirs, kernel_size,
                                                                         sigma))


def test_gaussian_blur_transform_and_errors():
    blur = T.GaussianBlur((3, 5), sigma=(0.5, 1.5))
    assert blur.kernel_size == tvT.GaussianBlur((3, 5), sigma=(0.5, 1.5)).kernel_size
    ember.manual_seed(0)
    sigmas = [blur.get_params(0.5, 1.5) for _ in range(100)]
    assert all(0.5 <= s <= 1.5 for s in sigmas)
    ours, theirs = _pair((3, 9, 9))
    ember.manual_seed(2)
    out = blur(ours)
    ember.manual_seed(2)
    sigma = blur.get_params(0.5, 1.5)
    _close(out, tvF.gaussian_blur(theirs, [3, 5], [sigma, sigma]))
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="odd and positive"):
        TF.gaussian_blur(ours, [2, 3])
    with pytest.raises(ValueError, match="positive"):
        TF.gaussian_blur(ours, 3, -1.0)


def test_random_erasing_params_and_output():
    erasing = T.RandomErasing(p=1.0, scale=(0.1, 0.3), ratio=(0.5, 2.0), value=[1, 2, 3])
    ours, theirs = _pair((3, 12, 16))
    ember.manual_seed(0)
    for _ in range(100):
        top, left, h, w, v = erasing.get_params(ours, erasing.scale, erasing.ratio, [1.0])
        assert h < 12 and w < 16 and top + h <= 12 and left + w <= 16
        assert 0.1 * 192 * 0.7 <= h * w <= 0.3 * 192 * 1.3
    ember.manual_seed(5)
    out = erasing(ours)
    ember.manual_seed(5)
    ember.rand(1)  # the draw for p
    top, left, h, w, v = erasing.get_params(ours, erasing.scale, erasing.ratio, [1., 2., 3.])
    _close(out, tvF.erase(theirs, top, left, h, w, torch.tensor([1., 2., 3.])[:, None, None]))
    assert not bool((ours == out).all())  # not in place
    noise = T.RandomErasing(p=1.0, value="random")(ours)
    assert noise.shape == ours.shape
    # no rectangle fits: the image is returned as it is
    assert T.RandomErasing.get_params(ours, (1.0, 1.0), (1.0, 1.0))[4] is ours
    assert T.RandomErasing(p=0.0)(ours) is ours
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=[1, 2])(ours)
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value="noise")


# ---------------------------------------------------------------- containers and conversions

def test_lambda_and_random_containers():
    double, inc = T.Lambda(lambda x: x * 2), T.Lambda(lambda x: x + 1)
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    assert T.RandomApply([double, inc], p=1.0)(1) == 3
    assert T.RandomApply([double, inc], p=0.0)(1) == 1
    ember.manual_seed(0)
    results = {T.RandomOrder([double, inc])(1) for _ in range(40)}
    assert results == {3, 4}
    choice = T.RandomChoice([double, inc], p=[3, 1])
    assert choice.p == [0.75, 0.25]
    picks = [choice(10) for _ in range(400)]
    assert 0.65 < picks.count(20) / 400 < 0.85
    with pytest.raises(ValueError, match="Length of p"):
        T.RandomChoice([double], p=[0.5, 0.5])


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_pil_conversions_match_torchvision(mode):
    rng = np.random.default_rng(0)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    array = rng.integers(0, 256, (5, 7, channels), dtype=np.uint8)
    pil = Image.fromarray(array[:, :, 0] if channels == 1 else array, mode)
    ours = T.PILToTensor()(pil)
    _close(ours, tvT.PILToTensor()(pil), atol=0)
    assert ours.dtype == ember.uint8
    _close(T.ToTensor()(pil), tvT.ToTensor()(pil), atol=0)
    back = T.ToPILImage()(ours)
    assert back.mode == mode and np.array_equal(np.asarray(back), np.asarray(pil))
    floats, floats_t = _pair((channels, 4, 6), "float32")
    assert np.array_equal(np.asarray(T.ToPILImage()(floats)),
                          np.asarray(tvT.ToPILImage()(floats_t)))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        TF.pil_to_tensor(ours)


def test_pil_inputs_go_through_the_tensor_kernels():
    rng = np.random.default_rng(1)
    pil = Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))
    tensor = TF.pil_to_tensor(pil)
    for transform in (T.CenterCrop(6), T.Pad(2), T.Grayscale(3), T.Resize((5, 4)),
                      T.RandomVerticalFlip(1.0), T.GaussianBlur(3, 1.0), T.RandomCrop(5),
                      T.RandomRotation(30)):
        ember.manual_seed(0)
        out = transform(pil)
        ember.manual_seed(0)
        assert isinstance(out, Image.Image) and out.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(out),
                                      transform(tensor).permute(1, 2, 0).numpy())
    flipped = T.RandomHorizontalFlip(1.0)(pil)
    assert np.array_equal(np.asarray(flipped), np.asarray(tvT.RandomHorizontalFlip(1.0)(pil)))
    # PIL's own kernels (torchvision's PIL path) agree to within rounding
    ours = np.asarray(T.Resize((6, 5))(pil)).astype(int)
    assert np.abs(ours - np.asarray(tvT.Resize((6, 5))(pil)).astype(int)).max() <= 2


@pytest.mark.parametrize("source, target", [("uint8", "float32"), ("float64", "uint8"),
                                            ("uint8", "int32"), ("int32", "uint8"),
                                            ("int16", "float64"), ("float32", "int16"),
                                            ("float32", "float64")])
def test_convert_image_dtype_matches_torchvision(source, target):
    rng = np.random.default_rng(0)
    if source.startswith("float"):
        array = rng.random((2, 3, 4)).astype(source)
    else:
        array = rng.integers(0, np.iinfo(source).max, (2, 3, 4)).astype(source)
    out = T.ConvertImageDtype(getattr(ember, target))(ember.from_numpy(array))
    _close(out, tvT.ConvertImageDtype(getattr(torch, target))(torch.from_numpy(array)),
           atol=1e-7)


def test_convert_image_dtype_refuses_unsafe_casts():
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        TF.convert_image_dtype(ember.rand(2), ember.int32)
    image = ember.rand(2)
    assert TF.convert_image_dtype(image, ember.float32) is image


def test_reprs_and_pipeline():
    pipeline = T.Compose([T.RandomResizedCrop(8), T.RandomApply([T.ColorJitter(0.4)], p=0.8),
                          T.RandomErasing()])
    text = repr(pipeline)
    assert "RandomResizedCrop(size=(8, 8)" in text and "p=0.8" in text
    ember.manual_seed(0)
    assert pipeline(ember.rand(3, 20, 20)).shape == (3, 8, 8)
    assert math.isclose(T.Resize(4).antialias, 1)


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("kernel, tv_kernel", [
    (lambda x: TF.resize(x, [4, 3]), lambda x: tvF.resize(x, [4, 3])),
    (lambda x: TF.resize(x, [9, 8], IM.BICUBIC), lambda x: tvF.resize(x, [9, 8], TV_IM.BICUBIC)),
    (lambda x: TF.affine(x, 20.0, [1, 0], 1.1, [5.0], IM.BILINEAR, fill=[0.5]),
     lambda x: tvF.affine(x, 20.0, [1, 0], 1.1, [5.0], TV_IM.BILINEAR, fill=[0.5])),
    (lambda x: TF.gaussian_blur(x, 3, 0.8), lambda x: tvF.gaussian_blur(x, 3, 0.8)),
    (lambda x: TF.adjust_contrast(x, 0.6), lambda x: tvF.adjust_contrast(x, 0.6)),
])
def test_gradients_match_torch(kernel, tv_kernel):
    ours, theirs = _pair((2, 3, 6, 5), contiguous=False)
    ours.requires_grad_(True)
    theirs.requires_grad_(True)
    assert ember.autograd.gradcheck(kernel, (ours,))
    weights = np.random.default_rng(1).random(tuple(kernel(ours).shape))
    (kernel(ours) * ember.from_numpy(weights)).sum().backward()
    (tv_kernel(theirs) * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-9)


def test_hue_gradient_matches_torch():
    """adjust_hue computes in float32 (as torchvision), too coarse for gradcheck."""
    ours, theirs = _pair((3, 4, 5), "float32")
    ours.requires_grad_(True)
    theirs.requires_grad_(True)
    TF.adjust_hue(ours, 0.1).sum().backward()
    tvF.adjust_hue(theirs, 0.1).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-4)


def test_empty_batches():
    ours, theirs = _pair((0, 3, 8, 6))
    for name, args in (("resize", ([4, 3],)), ("center_crop", (4,)), ("gaussian_blur", (3,)),
                       ("rgb_to_grayscale", ())):
        _close(getattr(TF, name)(ours, *args), getattr(tvF, name)(theirs, *args))
    # torchvision's affine fails on an empty batch (its grid keeps a batch of 1)
    assert TF.affine(ours, 10.0, [0, 0], 1.0, [0.0]).shape == (0, 3, 8, 6)
