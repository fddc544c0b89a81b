"""The fused convolutions (ember.ops.conv and the nn.functional convolutions, fold and
unfold on them) against torch.nn.functional: values, input / weight / bias gradients,
double backward, layouts and errors."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import conv as ops

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import compare  # noqa: E402

rng = np.random.default_rng(11)


def randn(*shape):
    return rng.standard_normal(shape)


SIZES = {1: (10,), 2: (7, 6), 3: (5, 4, 6)}
KERNELS = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}
# (options, in channels, out channels)
CONFIGS = [
    ({}, 4, 6),
    ({"stride": 2, "padding": 1}, 4, 6),
    ({"dilation": 2, "padding": 2, "stride": 1}, 4, 6),
    ({"groups": 2, "stride": 2}, 4, 6),
    ({"groups": 4}, 4, 8),                                  # depthwise
    ({"padding": "same"}, 4, 6),
    ({"padding": "same", "dilation": 3}, 4, 6),
    ({"padding": "valid", "stride": 3}, 4, 6),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("config", range(len(CONFIGS)))
def test_conv_values_and_gradients(spatial, config, dtype):
    options, cin, cout = CONFIGS[config]
    groups = options.get("groups", 1)
    name = f"conv{spatial}d"
    compare(lambda F, lib, x, w, b: getattr(F, name)(x, w, b, **options),
            randn(2, cin, *SIZES[spatial]), randn(cout, cin // groups, *KERNELS[spatial]),
            randn(cout), dtype=dtype)


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_same_padding_even_kernel_and_per_dim_options(spatial):
    kernel = (4, 2, 3)[:spatial]
    compare(lambda F, lib, x, w: getattr(F, f"conv{spatial}d")(x, w, padding="same",
                                                                dilation=(1, 2, 1)[:spatial]),
            randn(2, 3, *SIZES[spatial]), randn(2, 3, *kernel))
    compare(lambda F, lib, x, w, b: getattr(F, f"conv{spatial}d")(
        x, w, b, stride=(1, 2, 3)[:spatial], padding=(2, 0, 1)[:spatial]),
        randn(2, 3, *SIZES[spatial]), randn(2, 3, *KERNELS[spatial]), randn(2))


def test_pointwise_kernel_and_layouts():
    # 1x1 kernels take the no-im2col path; inputs that are transposed, sliced, flipped
    # or expanded are made contiguous first
    compare(lambda F, lib, x, w, b: F.conv2d(x, w, b), randn(3, 8, 5, 4), randn(6, 8, 1, 1),
            randn(6))
    compare(lambda F, lib, x, w: F.conv2d(x, w, groups=2), randn(3, 8, 5, 4), randn(4, 4, 1, 1))
    compare(lambda F, lib, x, w: F.conv2d(x.transpose(2, 3), w.transpose(2, 3), padding=1),
            randn(2, 3, 6, 5), randn(4, 3, 2, 3))
    compare(lambda F, lib, x, w: F.conv2d(x[:, :, ::2, 1:], w), randn(2, 3, 9, 7),
            randn(4, 3, 3, 3))
    compare(lambda F, lib, x, w: F.conv2d(x.flip(3) if lib is torch else x[:, :, :, ::-1], w),
            randn(2, 3, 6, 6), randn(4, 3, 3, 3))
    compare(lambda F, lib, x, w: F.conv1d(x.expand(3, 2, 9), w), randn(1, 2, 9),
            randn(4, 2, 3))
    compare(lambda F, lib, x, w: F.conv2d(x.permute(0, 3, 1, 2), w), randn(2, 6, 5, 3),
            randn(4, 3, 3, 3))


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_unbatched_and_empty(spatial):
    name = f"conv{spatial}d"
    compare(lambda F, lib, x, w, b: getattr(F, name)(x, w, b, padding=1),
            randn(3, *SIZES[spatial]), randn(4, 3, *KERNELS[spatial]), randn(4))
    compare(lambda F, lib, x, w, b: getattr(F, name)(x, w, b),
            randn(0, 3, *SIZES[spatial]), randn(4, 3, *KERNELS[spatial]), randn(4))
    compare(lambda F, lib, x, w, b: getattr(F, f"conv_transpose{spatial}d")(x, w, b, stride=2),
            randn(0, 3, *SIZES[spatial]), randn(3, 4, *KERNELS[spatial]), randn(4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_conv_transpose_values_and_gradients(spatial, dtype):
    name = f"conv_transpose{spatial}d"
    x, kernel = randn(2, 4, *SIZES[spatial]), KERNELS[spatial]
    for options in [{}, {"stride": 2, "output_padding": 1}, {"padding": 1, "dilation": 2},
                    {"groups": 2, "stride": 3, "padding": 1, "output_padding": 2},
                    {"stride": 1, "dilation": 3, "output_padding": 2}]:
        groups = options.get("groups", 1)
        compare(lambda F, lib, x, w, b: getattr(F, name)(x, w, b, **options), x,
                randn(4, 6 // groups, *kernel), randn(6), dtype=dtype)
    compare(lambda F, lib, x, w: getattr(F, name)(x, w, stride=2), x[0],
            randn(4, 3, *kernel), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fold_unfold(dtype):
    x = randn(2, 3, 7, 6)
    for options in [{}, {"stride": 2}, {"padding": 1, "dilation": (2, 1)},
                    {"stride": (1, 2), "padding": (0, 1)}]:
        compare(lambda F, lib, x: F.unfold(x, (3, 2), **options), x, dtype=dtype)
        blocks = TF.unfold(torch.tensor(x), (3, 2), **options).shape[-1]
        compare(lambda F, lib, c: F.fold(c, (7, 6), (3, 2), **options), randn(2, 18, blocks),
                dtype=dtype)
    compare(lambda F, lib, x: F.unfold(x, 2), x[0], dtype=dtype)
    compare(lambda F, lib, c: F.fold(c, (4, 5), 2), randn(12, 12), dtype=dtype)
    compare(lambda F, lib, x: F.unfold(x, 2), randn(0, 3, 4, 4), dtype=dtype)


def test_half_precision_computes_in_float32():
    x, w = randn(2, 3, 6, 6), randn(4, 3, 3, 3)
    for dtype, torch_dtype in ((ember.float16, torch.float16), (ember.bfloat16, torch.bfloat16)):
        out = F.conv2d(ember.tensor(x).to(dtype), ember.tensor(w).to(dtype), padding=1)
        expected = TF.conv2d(torch.tensor(x).to(torch_dtype).float(),
                             torch.tensor(w).to(torch_dtype).float(), padding=1)
        assert out.dtype == dtype
        np.testing.assert_allclose(np.asarray(out.to(ember.float32)), expected.numpy(),
                                   rtol=2e-2, atol=5e-2)


def _leaves(*arrays):
    return tuple(ember.tensor(a).requires_grad_() for a in arrays)


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_gradcheck_and_gradgradcheck(spatial):
    size, kernel = (5, 6, 4)[:spatial], (2, 3, 2)[:spatial]
    stride, padding, dilation = (2, 1, 1)[:spatial], (1, 0, 1)[:spatial], (1, 2, 1)[:spatial]
    x, w, b = _leaves(randn(2, 4, *size), randn(4, 2, *kernel), randn(4))
    name = f"conv{spatial}d"

    def conv(x, w, b):
        return getattr(F, name)(x, w, b, stride, padding, dilation, 2)
    assert gradcheck(conv, (x, w, b))
    assert gradgradcheck(conv, (x, w, b))
    g = _leaves(randn(*conv(x, w, b).shape))[0]

    def transpose(g, w, b):
        return getattr(F, f"conv_transpose{spatial}d")(g, w, b, stride, padding, 0, 2, dilation)
    assert gradcheck(transpose, (g, w, b))
    assert gradgradcheck(transpose, (g, w, b))

    def weight_grad(x, g):
        return ops.convolution_weight_grad(x, g, kernel, stride, padding, dilation, 2)
    assert gradcheck(weight_grad, (x, g))
    assert gradgradcheck(weight_grad, (x, g))


def test_gradgradcheck_same_padding_fold_unfold():
    x, w = _leaves(randn(1, 2, 5, 4), randn(3, 2, 2, 3))
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, padding="same"), (x, w))
    assert gradgradcheck(lambda x: F.unfold(x, 2, padding=1, stride=2), (x,))
    cols = _leaves(randn(1, 8, 6))[0]
    assert gradgradcheck(lambda c: F.fold(c, (3, 4), 2), (cols,))


def test_double_backward_matches_torch():
    x, w = randn(2, 3, 6, 5), randn(4, 3, 3, 2)
    results = {}
    for lib, fn in ((ember, F), (torch, TF)):
        X, W = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = fn.conv2d(X, W, stride=(2, 1), padding=1)
        gx, = lib.autograd.grad((y * y).sum(), X, create_graph=True)
        (gx * gx).sum().backward()
        results[lib] = X.grad, W.grad
    for e, t in zip(results[ember], results[torch]):
        np.testing.assert_allclose(np.asarray(e), t.numpy(), rtol=1e-9, atol=1e-10)


def test_grad_fn_names():
    x = ember.randn(1, 2, 5, 5, requires_grad=True)
    assert F.conv2d(x, ember.randn(3, 2, 3, 3)).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv_transpose2d(x, ember.randn(2, 3, 3, 3)).grad_fn.name() == "ConvolutionBackward0"
    assert F.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"
    assert F.fold(F.unfold(x, 2), (5, 5), 2).grad_fn.name() == "Col2ImBackward0"


def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


def test_errors_match_torch_messages():
    ones = ember.ones
    _raises(RuntimeError, "expected scalar type Double but found Float",
            lambda: F.conv2d(ones(1, 1, 4, 4, dtype=ember.float64), ones(1, 1, 3, 3)))
    _raises(RuntimeError, r"Input type \(float\) and bias type \(double\) should be the same",
            lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 3, 3), ones(1, dtype=ember.float64)))
    _raises(RuntimeError, "expected bias to be 1-dimensional with 1 elements",
            lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 3, 3), ones(2)))
    _raises(RuntimeError, "expected weight to be divisible by 2 at dimension 0",
            lambda: F.conv2d(ones(1, 2, 4, 4), ones(3, 1, 3, 3), groups=2))
    _raises(RuntimeError, "non-positive stride is not supported",
            lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 3, 3), stride=0))
    _raises(RuntimeError, "negative padding is not supported",
            lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 3, 3), padding=-1))
    _raises(RuntimeError, "dilation should be greater than zero",
            lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 3, 3), dilation=0))
    _raises(RuntimeError, "non-positive groups is not supported",
            lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 3, 3), groups=0))
    _raises(RuntimeError, "not implemented for 'int64'",
            lambda: F.conv2d(ones(1, 1, 4, 4, dtype=ember.int64),
                             ones(1, 1, 3, 3, dtype=ember.int64)))
    _raises(RuntimeError, "Invalid padding string: 'full'",
            lambda: F.conv1d(ones(1, 1, 4), ones(1, 1, 3), padding="full"))
    _raises(RuntimeError, "padding='same' is not supported for strided convolutions",
            lambda: F.conv3d(ones(1, 1, 4, 4, 4), ones(1, 1, 3, 3, 3), stride=2, padding="same"))
    _raises(RuntimeError, "output padding must be smaller than either stride or dilation",
            lambda: F.conv_transpose2d(ones(1, 1, 4, 4), ones(1, 1, 3, 3), stride=2,
                                       output_padding=2))
    _raises(RuntimeError, r"expected input\[1, 2, 4, 4\] to have 1 channels",
            lambda: F.conv_transpose2d(ones(1, 2, 4, 4), ones(1, 1, 3, 3)))
    _raises(RuntimeError, "calculated shape of the array of sliding blocks as",
            lambda: F.unfold(ones(1, 1, 4, 4), 5))
    _raises(RuntimeError, "calculated number of sliding blocks 3 \\* 3 = 9",
            lambda: F.fold(ones(1, 4, 5), (4, 4), 2))
    _raises(RuntimeError, "divisible by the product of kernel_size",
            lambda: F.fold(ones(1, 3, 9), (4, 4), 2))
    _raises(RuntimeError, "stride should be greater than zero",
            lambda: F.unfold(ones(1, 4, 4), 2, stride=0))
    _raises(RuntimeError, "padding should be non-negative",
            lambda: F.fold(ones(1, 8, 9), (4, 4), 2, padding=-1))
    _raises(RuntimeError, "Expected 3D or 4D",
            lambda: F.unfold(ones(1, 1, 1, 4, 4), 2))
    _raises(RuntimeError, "Expected 2D or 3D",
            lambda: F.fold(ones(1, 1, 4, 4), (3, 3), 2))
    _raises(TypeError, "must be a Tensor|expected Tensor",
            lambda: F.conv2d(np.ones((1, 1, 4, 4)), ones(1, 1, 3, 3)))
    _raises(RuntimeError, "does not map to the input size",
            lambda: ops.convolution_transpose(ones(1, 1, 4), ones(1, 1, 3), None, (9,), (1,),
                                              (0,), (1,), 1))


def test_threads_give_the_same_result():
    x, w = ember.randn(8, 6, 12, 12), ember.randn(5, 6, 3, 3)
    y = F.conv2d(x, w, padding=1)
    saved = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = F.conv2d(x, w, padding=1)
        X = x.clone().requires_grad_()
        F.conv2d(X, w.requires_grad_(), padding=1).sum().backward()
        grad_one = w.grad.clone()
    finally:
        ember.set_num_threads(saved)
    w.grad = None
    F.conv2d(x, w, padding=1).sum().backward()
    np.testing.assert_allclose(np.asarray(y), np.asarray(one), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(w.grad), np.asarray(grad_one), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("groups", [1, 2])
def test_single_image_shares_positions_among_threads(groups):
    # fewer (sample, group) products than threads: the threads split each product's columns
    saved = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        compare(lambda F, lib, x, w, b: F.conv2d(x, w, b, padding=1, groups=groups),
                randn(1, 8, 20, 20), randn(16, 8 // groups, 3, 3), randn(16), dtype=np.float32)
        compare(lambda F, lib, x, w: F.conv2d(x, w), randn(1, 32, 20, 20), randn(48, 32, 1, 1),
                dtype=np.float32)
    finally:
        ember.set_num_threads(saved)


def test_convolutions_in_threads_beside_allocations():
    # the kernels' work buffers come from ember's caching allocator, whose free lists the
    # GIL guards: convolutions running without the GIL in several threads, beside a
    # thread allocating and freeing tensors, must neither corrupt it nor their results
    import threading
    x = ember.randn(4, 3, 12, 12)
    w = ember.randn(5, 3, 3, 3)
    want = torch.nn.functional.conv2d(torch.from_numpy(x.numpy()), torch.from_numpy(w.numpy()),
                                      padding=1).numpy()
    errors = []

    def convolve():
        for _ in range(200):
            got = ember.nn.functional.conv2d(x, w, padding=1).numpy()
            if not np.allclose(got, want, rtol=1e-4, atol=1e-4):
                errors.append("wrong result")

    def allocate():
        for _ in range(2000):
            ember.empty(4096 + _ % 7 * 64)

    threads = [threading.Thread(target=convolve) for _ in range(2)]
    threads.append(threading.Thread(target=allocate))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


WINOGRAD_SHAPES = [  # (N, C, O, H, W, padding): rows of 4 tiles and more (the last group
    # overlapping), partial tiles at odd sizes, rows of 2 tiles (scalar), paddings 0-2
    (4, 32, 32, 8, 8, 1), (1, 32, 48, 16, 16, 1), (5, 32, 32, 9, 7, 1),
    (2, 40, 32, 17, 18, 0), (3, 32, 32, 6, 10, 2), (5, 32, 32, 20, 3, 1),
    (64, 32, 64, 8, 8, 1),
    # 8 wide (pairs of tile rows at once) with an odd height; rows of 8+ whole tiles with
    # a partial last tile, and with a last group of 8 overlapping the one before
    (5, 32, 32, 7, 8, 1), (2, 32, 32, 9, 17, 1), (3, 32, 32, 5, 24, 1)]


@pytest.mark.parametrize("shape", WINOGRAD_SHAPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_winograd_convolution_matches_torch_and_the_gemm_path(shape, threads):
    # float32 3x3 unit-stride convolutions with 32+ channels run Winograd's F(2x2, 3x3):
    # as accurate as the direct sum against a float64 reference, and the same values
    n, c, o, h, w, pad = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    k = rng.standard_normal((o, c, 3, 3)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    exact = TF.conv2d(torch.from_numpy(x).double(), torch.from_numpy(k).double(),
                      torch.from_numpy(b).double(), padding=pad).numpy()
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        got = F.conv2d(ember.from_numpy(x), ember.from_numpy(k), ember.from_numpy(b),
                       padding=pad).numpy()
        was = ember._core._conv._set_winograd(False)
        direct = F.conv2d(ember.from_numpy(x), ember.from_numpy(k), ember.from_numpy(b),
                          padding=pad).numpy()
        ember._core._conv._set_winograd(was)
    finally:
        ember.set_num_threads(previous)
    scale = np.abs(exact).max()
    assert got.shape == exact.shape
    assert not np.array_equal(got, direct)          # another algorithm ran: other roundings
    assert np.abs(got - exact).max() <= 4 * max(np.abs(direct - exact).max(), 1e-7 * scale)
    np.testing.assert_allclose(got, direct, rtol=1e-4, atol=1e-5 * scale)


def test_winograd_convolution_with_relu_nan_and_half_precision():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 32, 10, 12)).astype(np.float32)
    x[0, 3, 4, 5] = np.nan
    k = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    got = ember._core._conv.convolution(ember.from_numpy(x), ember.from_numpy(k), None,
                                        (1, 1), (1, 1), (1, 1), 1, "relu").numpy()
    want = TF.relu(TF.conv2d(torch.from_numpy(x), torch.from_numpy(k), padding=1)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    half = F.conv2d(ember.from_numpy(x).half(), ember.from_numpy(k).half(), padding=1)
    want = TF.conv2d(torch.from_numpy(x).half().float(), torch.from_numpy(k).half().float(),
                     padding=1).half().numpy()
    assert half.dtype == ember.float16
    np.testing.assert_allclose(half.float().numpy(), want.astype(np.float32), rtol=2e-2,
                               atol=2e-2, equal_nan=True)
