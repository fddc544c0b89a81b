"""Resampling (interpolate modes, shuffles, grid sampling, affine grids) and the pooling and
resampling modules, against torch."""
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import compare  # noqa: E402
from nn_helpers import assert_close, to_ember  # noqa: E402

rng = np.random.default_rng(5)


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [
    dict(size=(9, 4), mode="bicubic"), dict(size=(3, 11), mode="bicubic", align_corners=True),
    dict(scale_factor=1.5, mode="bicubic"), dict(scale_factor=(2, 0.5), mode="nearest-exact"),
    dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
    dict(size=(2, 3), mode="area"), dict(scale_factor=0.5, mode="area"),
])
def test_interpolate_modes(options, dtype):
    compare(lambda F, lib, x: F.interpolate(x, **options), randn(2, 3, 5, 7), dtype=dtype)


@pytest.mark.parametrize("shape,options", [
    ((2, 1, 48000), dict(size=16000, mode="linear")),
    ((2, 1, 48000), dict(size=95999, mode="linear", align_corners=True)),
    ((2, 1, 48000), dict(scale_factor=0.5, mode="nearest")),
    ((2, 1, 48000), dict(size=20000, mode="nearest-exact")),
    ((1, 2, 3, 1100), dict(size=(4, 1000), mode="bicubic")),
    ((1, 1, 2, 3, 1024), dict(size=(3, 2, 2048), mode="trilinear", align_corners=True))])
def test_interpolate_long_signal(shape, options):
    # a second of audio: the resampling weights were a dense (out, in) matrix built in a
    # Python loop (gigabytes and seconds); long dimensions now gather each output's taps.
    # Sizes where PyTorch rounds no source coordinate to float32 (its floorf): both exact
    compare(lambda F, lib, x: F.interpolate(x, **options), randn(*shape))


@pytest.mark.parametrize("shape,options", [
    ((1, 1, 10), dict(size=0)), ((1, 1, 10), dict(size=0, mode="linear")),
    ((1, 1, 0), dict(size=3, mode="linear")), ((1, 1, 4), dict(scale_factor=0.1)),
    ((1, 1, 4, 5), dict(size=(0, 3), mode="bilinear")),
    ((1, 1, 4, 4), dict(size=(0, 2), mode="nearest-exact")),
    ((1, 1, 2, 4, 5), dict(size=(2, 0, 1), mode="trilinear"))])
def test_interpolate_empty_sizes_raise_as_torch(shape, options):
    # it was a ZeroDivisionError (or a NumPy IndexError) from the weights
    with pytest.raises(RuntimeError) as want:
        TF.interpolate(torch.zeros(shape), **options)
    with pytest.raises(RuntimeError) as got:
        F.interpolate(ember.zeros(shape), **options)
    assert str(got.value) == str(want.value)


def test_grid_functions_warn_on_default_align_corners():
    # PyTorch warns when align_corners is left out (its default changed in 1.3)
    for functional, lib in ((TF, torch), (F, ember)):
        for call in (lambda: functional.grid_sample(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 1, 2)),
                     lambda: functional.affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2))):
            with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
                call()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            functional.grid_sample(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 1, 2),
                                   align_corners=False)


def test_interpolate_taps_gradcheck():
    for mode, shape in (("linear", (1, 2, 7)), ("bicubic", (1, 1, 4, 5))):
        x = ember.tensor(randn(*shape), requires_grad=True)
        size = 11 if mode == "linear" else (6, 3)
        assert gradcheck(lambda x: F.interpolate(x, size=size, mode=mode), (x,))
        assert gradgradcheck(lambda x: F.interpolate(x, size=size, mode=mode,
                                                     align_corners=True), (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("options", [
    dict(size=(4, 3)), dict(size=(12, 20)), dict(scale_factor=0.3),
    dict(scale_factor=(0.5, 1.7)), dict(size=(4, 3), align_corners=True), dict(size=(1, 1)),
    dict(scale_factor=0.3, recompute_scale_factor=True),
])
def test_interpolate_antialias(mode, options, dtype):
    # it raised NotImplementedError (torchvision-style downscaling in diffusion pipelines)
    compare(lambda F, lib, x: F.interpolate(x, mode=mode, antialias=True, **options),
            randn(2, 3, 13, 11), dtype=dtype)


def test_interpolate_antialias_gradcheck_and_errors():
    x = ember.tensor(randn(1, 2, 7, 6), requires_grad=True)
    assert gradcheck(lambda x: F.interpolate(x, size=(3, 4), mode="bicubic", antialias=True),
                     (x,))
    for lib, functional in ((torch, TF), (ember, F)):
        for mode, shape in (("linear", (1, 1, 4)), ("nearest", (1, 1, 4, 4))):
            with pytest.raises(ValueError, match="Anti-alias option is restricted"):
                functional.interpolate(lib.ones(*shape), size=2, mode=mode, antialias=True)


def test_upsample_aliases_warn():
    x = randn(1, 2, 3, 4)
    for name, kwargs in (("upsample", dict(scale_factor=2)),
                         ("upsample_nearest", dict(size=(5, 6))),
                         ("upsample_bilinear", dict(scale_factor=2))):
        with pytest.warns(UserWarning, match="deprecated"):
            e = getattr(F, name)(ember.tensor(x), **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = getattr(TF, name)(torch.tensor(x), **kwargs)
        assert_close(e, t, rtol=1e-12, atol=1e-12)


def test_shuffles_match_torch():
    x = randn(2, 12, 3, 4)
    compare(lambda F, lib, x: F.pixel_shuffle(x, 2), x)
    compare(lambda F, lib, x: F.pixel_shuffle(x[0], 2), x)
    compare(lambda F, lib, x: F.pixel_unshuffle(x, 1), x)
    compare(lambda F, lib, x: F.pixel_unshuffle(x.transpose(2, 3)[..., :2], 2), x)
    compare(lambda F, lib, x: F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2), x)
    compare(lambda F, lib, x: F.channel_shuffle(x, 3), x)
    compare(lambda F, lib, x: F.channel_shuffle(x[..., 0], 4), x)


@pytest.mark.parametrize("fn", [
    lambda F, lib: F.pixel_shuffle(lib.ones(1, 5, 2, 2), 2),
    lambda F, lib: F.pixel_shuffle(lib.ones(4, 2), 2),
    lambda F, lib: F.pixel_unshuffle(lib.ones(1, 1, 5, 4), 2),
    lambda F, lib: F.channel_shuffle(lib.ones(1, 5, 2), 2),
    lambda F, lib: F.channel_shuffle(lib.ones(1, 4, 2), 0),
    lambda F, lib: F.grid_sample(lib.ones(1, 1, 3, 3), lib.zeros(1, 2, 2, 3)),
    lambda F, lib: F.grid_sample(lib.ones(1, 1, 3, 3), lib.zeros(1, 2, 2, 2), mode="foo"),
    lambda F, lib: F.grid_sample(lib.ones(1, 1, 3, 3), lib.zeros(1, 2, 2, 2), padding_mode="x"),
    lambda F, lib: F.grid_sample(lib.ones(1, 1, 3, 3), lib.zeros(2, 2, 2, 2)),
    lambda F, lib: F.grid_sample(lib.ones(1, 1, 2, 3, 3), lib.zeros(1, 2, 2, 2, 3), mode="bicubic"),
    lambda F, lib: F.affine_grid(lib.zeros(1, 3, 3), (1, 1, 2, 2)),
], ids=["shuffle-channels", "shuffle-dims", "unshuffle-height", "channel-groups",
        "groups0", "grid-last-dim", "grid-mode", "grid-padding", "grid-batch", "grid-bicubic-3d",
        "theta-shape"])
def test_errors_match_torch(fn):
    try:
        fn(TF, torch)
    except Exception as error:  # noqa: BLE001
        expected = type(error)
    else:
        raise AssertionError("torch raised nothing")
    with pytest.raises(expected):
        fn(F, ember)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d(mode, padding_mode, align_corners):
    x = randn(2, 3, 5, 6)
    grid = rng.uniform(-1.4, 1.4, (2, 4, 7, 2))
    options = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    compare(lambda F, lib, x, g: F.grid_sample(x, g, **options), x, grid)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("input_shape, grid_shape", [
    ((0, 3, 4, 5), (0, 2, 3, 2)), ((2, 3, 4, 5), (2, 0, 3, 2)), ((2, 0, 4, 5), (2, 3, 3, 2)),
    ((0, 2, 3, 4, 5), (0, 1, 2, 2, 3))])
def test_grid_sample_empty(mode, input_shape, grid_shape):
    if mode == "bicubic" and len(input_shape) == 5:
        return
    compare(lambda F, lib, x, g: F.grid_sample(x, g, mode=mode, align_corners=False),
            np.zeros(input_shape), np.zeros(grid_shape))


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_3d(padding_mode):
    x = randn(1, 2, 3, 4, 5)
    grid = rng.uniform(-1.3, 1.3, (1, 2, 3, 4, 3))
    compare(lambda F, lib, x, g: F.grid_sample(x, g, padding_mode=padding_mode,
                                               align_corners=False), x, grid)
    compare(lambda F, lib, x, g: F.grid_sample(x, g, mode="nearest", align_corners=True), x, grid)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners):
    theta = randn(2, 2, 3)
    compare(lambda F, lib, t: F.affine_grid(t, (2, 3, 4, 5), align_corners=align_corners), theta)
    compare(lambda F, lib, t: F.affine_grid(t, (2, 1, 1, 3), align_corners=align_corners), theta)
    theta3 = randn(1, 3, 4)
    compare(lambda F, lib, t: F.affine_grid(t, (1, 2, 3, 2, 4), align_corners=align_corners),
            theta3)
    # the affine grid fed to grid_sample, differentiable in both
    compare(lambda F, lib, x, t: F.grid_sample(x, F.affine_grid(t, (2, 3, 4, 4), align_corners),
                                               align_corners=align_corners),
            randn(2, 3, 5, 5), theta)


def test_resampling_gradgradcheck():
    x = ember.tensor(randn(1, 2, 4, 3), requires_grad=True)
    grid = ember.tensor(rng.uniform(-0.9, 0.9, (1, 3, 2, 2)), requires_grad=True)
    assert gradcheck(lambda x, g: F.grid_sample(x, g, align_corners=False), (x, grid))
    assert gradgradcheck(lambda x: F.grid_sample(x, grid.detach(), align_corners=True), (x,))
    for padding_mode in ("zeros", "reflection"):
        assert gradcheck(lambda x, g: F.grid_sample(x, g, mode="bicubic", align_corners=False,
                                                    padding_mode=padding_mode), (x, grid))
    for fn in (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"),
               lambda x: F.pixel_shuffle(x.reshape(1, 4, 2, 3), 2),
               lambda x: F.interpolate(x, size=(3, 2), mode="area")):
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


# ---------------------------------------------------------------- modules

MODULES = [
    ("MaxPool3d", (2,), dict(stride=1, padding=1), (2, 3, 4, 5, 4)),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 5, 5, 4)),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}, (2, 3, 5, 4, 6)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 8)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 5, 7)),
    ("AdaptiveMaxPool3d", (2,), {}, (2, 3, 5, 4, 6)),
    ("LPPool1d", (2.0, 3), dict(stride=2), (2, 3, 9)),
    ("LPPool2d", (3, 2), {}, (2, 3, 6, 6)),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", ((6, 9),), dict(mode="bicubic", align_corners=True), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", ((7, 8),), {}, (2, 3, 4, 5)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("PixelUnshuffle", (2,), {}, (2, 3, 4, 6)),
    ("ChannelShuffle", (2,), {}, (2, 4, 3, 3)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", MODULES,
                         ids=[m[0] + str(i) for i, m in enumerate(MODULES)])
def test_modules_match_torch(name, args, kwargs, shape):
    t_module = getattr(tnn, name)(*args, **kwargs)
    e_module = getattr(nn, name)(*args, **kwargs)
    assert repr(e_module) == repr(t_module)
    x = np.abs(randn(*shape)) + 0.1
    for train in (True, False):
        t_module.train(train)
        e_module.train(train)
        t_x = torch.tensor(x, requires_grad=True)
        e_x = to_ember(t_x, requires_grad=True)
        t_out, e_out = t_module(t_x), e_module(e_x)
        assert_close(e_out, t_out, rtol=1e-10, atol=1e-12)
        grad = randn(*tuple(t_out.shape))
        t_out.backward(torch.tensor(grad))
        e_out.backward(ember.tensor(grad))
        assert_close(e_x.grad, t_x.grad, rtol=1e-10, atol=1e-12)


def test_return_indices_and_unpool_modules():
    x = randn(2, 3, 6, 8)
    t_pool, e_pool = tnn.MaxPool2d(2, return_indices=True), nn.MaxPool2d(2, return_indices=True)
    t_unpool, e_unpool = tnn.MaxUnpool2d(2), nn.MaxUnpool2d(2)
    assert repr(e_unpool) == repr(t_unpool)
    t_values, t_indices = t_pool(torch.tensor(x))
    e_values, e_indices = e_pool(ember.tensor(x))
    assert_close(e_unpool(e_values, e_indices), t_unpool(t_values, t_indices))
    assert_close(e_unpool(e_values, e_indices, output_size=(2, 3, 7, 9)),
                 t_unpool(t_values, t_indices, output_size=(2, 3, 7, 9)))
    for spatial in (1, 3):
        assert repr(getattr(nn, f"MaxUnpool{spatial}d")(3, 2)) == \
            repr(getattr(tnn, f"MaxUnpool{spatial}d")(3, 2))
    t_adaptive = tnn.AdaptiveMaxPool2d(3, return_indices=True)
    e_adaptive = nn.AdaptiveMaxPool2d(3, return_indices=True)
    np.testing.assert_array_equal(np.asarray(e_adaptive(ember.tensor(x))[1]),
                                  t_adaptive(torch.tensor(x))[1].numpy())
