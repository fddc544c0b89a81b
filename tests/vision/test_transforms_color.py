"""The random colour transforms (RandomGrayscale, RandomInvert, RandomPosterize,
RandomSolarize, RandomAdjustSharpness, RandomAutocontrast) and their functionals, against
torchvision's tensor path."""
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


def _pair(shape, dtype, seed=0, contiguous=True):
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, shape, dtype=np.uint8) if dtype == "uint8" else \
        rng.random(shape).astype(dtype)
    if shape[-1] > 2:
        array[..., 0, :2] = array[..., 0, 2:3]   # some ties for solarize's threshold
    ours = ember.from_numpy(array.copy())
    if not contiguous:
        ours = ember.from_numpy(np.ascontiguousarray(np.swapaxes(array, -1, -2))) \
            .transpose(-1, -2)
    return ours, torch.from_numpy(array.copy())


def _close(ours, theirs):
    theirs = np.asarray(theirs.numpy() if isinstance(theirs, torch.Tensor) else theirs)
    ours = np.asarray(ours.numpy() if isinstance(ours, ember.Tensor) else ours)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    atol = 1 if ours.dtype == np.uint8 else 1e-6 if ours.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), atol=atol,
                               rtol=0)


KERNELS = {
    "invert": ((), ()),
    "solarize": ((0.5,), (128,)),
    "adjust_sharpness": ((1.7,), (1.7,)),
    "adjust_sharpness0": ((0.0,), (0.0,)),
    "autocontrast": ((), ()),
}


@pytest.mark.parametrize("dtype", ["float64", "float32", "uint8"])
@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("shape, contiguous", [((3, 6, 5), True), ((2, 1, 4, 7), False),
                                               ((2, 3, 2, 2), True)])
def test_functionals_match_torchvision(dtype, name, shape, contiguous):
    float_args, int_args = KERNELS[name]
    args = int_args if dtype == "uint8" else float_args
    function = name.rstrip("0")
    ours, theirs = _pair(shape, dtype, contiguous=contiguous)
    _close(getattr(TF, function)(ours, *args), getattr(tvF, function)(theirs, *args))


@pytest.mark.parametrize("bits", [0, 1, 4, 8])
def test_posterize_matches_torchvision(bits):
    ours, theirs = _pair((2, 3, 4, 5), "uint8")
    _close(TF.posterize(ours, bits), tvF.posterize(theirs, bits))


def test_autocontrast_keeps_constant_channels():
    ours, theirs = _pair((3, 4, 4), "float32")
    ours[1], theirs[1] = 0.25, 0.25
    _close(TF.autocontrast(ours), tvF.autocontrast(theirs))


@pytest.mark.parametrize("call", [
    lambda F, lib: F.invert(lib.zeros(4, 4)),
    lambda F, lib: F.invert(lib.zeros(2, 4, 4)),
    lambda F, lib: F.posterize(lib.zeros(3, 4, 4), 2),
    lambda F, lib: F.posterize(lib.zeros(3, 4, 4, dtype=lib.uint8), 9),
    lambda F, lib: F.solarize(lib.zeros(3, 4, 4), 2.0),
    lambda F, lib: F.adjust_sharpness(lib.zeros(3, 4, 4), -1.0),
    lambda F, lib: F.autocontrast(lib.zeros(4, 4)),
])
def test_errors_match_torchvision(call):
    with pytest.raises(Exception) as theirs:
        call(tvF, torch)
    with pytest.raises(theirs.type):
        call(TF, ember)


TRANSFORMS = [
    ("RandomGrayscale", (), TF.rgb_to_grayscale),
    ("RandomInvert", (), TF.invert),
    ("RandomPosterize", (3,), TF.posterize),
    ("RandomSolarize", (128,), TF.solarize),
    ("RandomAdjustSharpness", (2.0,), TF.adjust_sharpness),
    ("RandomAutocontrast", (), TF.autocontrast),
]


@pytest.mark.parametrize("name, args, function", TRANSFORMS)
def test_random_transforms(name, args, function):
    ours, theirs = _pair((2, 3, 5, 6), "uint8")
    always = getattr(T, name)(*args, p=1.0)
    expected = getattr(tvT, name)(*args, p=1.0)(theirs)
    _close(always(ours), expected)
    assert getattr(T, name)(*args, p=0.0)(ours) is ours
    assert repr(always) == repr(getattr(tvT, name)(*args, p=1.0))
    assert repr(getattr(T, name)(*args)) == repr(getattr(tvT, name)(*args))  # default p
    # about p of the calls apply it; ember.manual_seed repeats them
    transform = getattr(T, name)(*args, p=0.3)
    ember.manual_seed(0)
    applied = [transform(ours) is not ours for _ in range(200)]
    assert 35 <= sum(applied) <= 85
    ember.manual_seed(0)
    assert applied == [transform(ours) is not ours for _ in range(200)]


def test_random_grayscale_keeps_the_channel_count():
    ours, theirs = _pair((1, 4, 4), "float32")
    assert T.RandomGrayscale(p=1.0)(ours).shape == (1, 4, 4)
    rgb, _ = _pair((3, 4, 4), "float32")
    gray = T.RandomGrayscale(p=1.0)(rgb)
    assert gray.shape == (3, 4, 4) and bool((gray[0] == gray[2]).all())


@pytest.mark.parametrize("name, args", [("RandomInvert", ()), ("RandomPosterize", (2,)),
                                        ("RandomSolarize", (100,)), ("RandomGrayscale", ())])
def test_pil_images(name, args):
    array = np.random.default_rng(3).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    image = Image.fromarray(array)
    ours = getattr(T, name)(*args, p=1.0)(image)
    theirs = getattr(tvT, name)(*args, p=1.0)(image)
    assert isinstance(ours, Image.Image) and ours.mode == theirs.mode and ours.size == theirs.size
    _close(ours, theirs)
