"""Copies between layouts transposed against each other (the cache-blocked tile path).

Covers `contiguous()` of transposed and permuted views, `copy_` and casts from and into
transposed layouts, for every dtype, odd and degenerate shapes, negative and zero strides,
sizes on both sides of the threading grain, and copies whose source aliases the destination.
"""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from core_oracle import np_of

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128"]
# 2-D shapes: unit and empty dims, odd edges, one tile, partial tiles, above the grain size
SHAPES = [(1, 1), (1, 9), (9, 1), (2, 3), (0, 5), (5, 0), (31, 33), (64, 64), (65, 97),
          (200, 3), (3, 200), (130, 257)]


def make(shape, dtype, seed=0):
    """A contiguous ember tensor of `dtype` with values every dtype holds exactly."""
    rng = np.random.default_rng(seed)
    values = rng.integers(-60, 60, size=shape).astype(np.float64)
    if dtype == "bool":
        return ember.from_numpy(values > 0)
    t = ember.from_numpy(values).to(getattr(ember, dtype))
    if dtype.startswith("complex"):
        t = t + ember.from_numpy(rng.integers(-9, 9, size=shape).astype(np.float64)).to(t.dtype) * 1j
    return t


def torch_of(t):
    """The same values as a torch tensor of the same dtype."""
    return torch.from_numpy(np.ascontiguousarray(np_of(t))).to(getattr(torch, t.dtype.name))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_transposed_contiguous_matches_numpy(dtype, shape):
    x = make(shape, dtype)
    out = x.t().contiguous()
    assert out.is_contiguous() and out.shape == (shape[1], shape[0]) and out.dtype == x.dtype
    np.testing.assert_array_equal(np_of(out), np_of(x).T)


# same-dtype copies move 2 KiB tile edges in vector blocks (8x8 of 4-byte, 4x4 of 8-byte
# elements): shapes across several tiles and with ragged blocks, for every element size
@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64", "complex128"])
@pytest.mark.parametrize("shape", [(2051, 3), (3, 2051), (517, 1029), (1030, 263), (8, 8),
                                   (16, 4), (9, 7)])
def test_transposed_copy_across_tiles_and_blocks(dtype, shape):
    x = make(shape, dtype)
    np.testing.assert_array_equal(np_of(x.t().contiguous()), np_of(x).T)
    # an odd storage offset (unaligned vector loads and stores) and reversed runs
    y = make((shape[0] + 1, shape[1] + 1), dtype, seed=2)
    for view in (y[1:, 1:].t(), y[1:, 1:].flip(0).t(), y[1:, :-1].flip(1).t()):
        np.testing.assert_array_equal(np_of(view.contiguous()), np.ascontiguousarray(np_of(view)))


@pytest.mark.parametrize("dtype", ["bool", "int16", "float32", "bfloat16", "complex128"])
@pytest.mark.parametrize("perm", list(itertools.permutations(range(3))))
def test_permuted_3d_contiguous(dtype, perm):
    x = make((5, 34, 40), dtype)
    out = x.permute(*perm).contiguous()
    assert out.is_contiguous()
    np.testing.assert_array_equal(np_of(out), np_of(x).transpose(perm))


@pytest.mark.parametrize("perm", [(0, 1, 3, 2), (3, 2, 1, 0), (2, 0, 3, 1), (1, 3, 0, 2),
                                  (0, 3, 1, 2), (0, 2, 3, 1)])
def test_permuted_4d_contiguous(perm):
    x = make((3, 4, 33, 35), "float64")
    np.testing.assert_array_equal(np_of(x.permute(*perm).contiguous()),
                                  np_of(x).transpose(perm))


# destination rows a multiple of 512 bytes apart go through a scratch tile of 64 rows by
# 2 KiB: row counts that leave a partial stage, widths across several 2 KiB columns,
# batched planes, a destination that is a view with such a row stride, and two threads
@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64", "complex128"])
@pytest.mark.parametrize("shape", [(129, 512), (200, 1024), (65, 512), (300, 1536), (3, 2048)])
@pytest.mark.parametrize("threads", [1, 2])
def test_transposed_copy_into_rows_of_power_of_two_stride(dtype, shape, threads):
    saved = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        x = make(shape[::-1], dtype)                     # x.t() has `shape`
        np.testing.assert_array_equal(np_of(x.t().contiguous()), np_of(x).T)
        batch = make((3,) + shape[::-1], dtype, seed=1)
        np.testing.assert_array_equal(np_of(batch.transpose(1, 2).contiguous()),
                                      np_of(batch).transpose(0, 2, 1))
        wide = ember.zeros(shape[0], shape[1] + 512, dtype=getattr(ember, dtype))
        dst = wide[:, 33:33 + shape[1]]
        dst.copy_(x.t())
        np.testing.assert_array_equal(np_of(dst), np_of(x).T)
        assert not np_of(wide[:, :33]).any() and not np_of(wide[:, 33 + shape[1]:]).any()
    finally:
        ember.set_num_threads(saved)


# views written with `.T` and slicing, so the same recipe applies to NumPy arrays
@pytest.mark.parametrize("dtype", ["uint8", "float32", "complex64"])
@pytest.mark.parametrize("view", [
    lambda t: t.T[::-1], lambda t: t.T[:, ::-1], lambda t: t[::-1].T, lambda t: t.T[::-1, ::-1],
    lambda t: t[::2].T, lambda t: t[:, ::3].T, lambda t: t[3:40, 5:].T, lambda t: t[::-3].T,
], ids=["T-rev0", "T-rev1", "rev0-T", "T-rev01", "step-rows", "step-cols", "narrow", "rev-step"])
def test_negative_strided_and_sliced_sources(dtype, view):
    x = make((67, 45), dtype)
    out = view(x).contiguous()
    assert out.is_contiguous()
    np.testing.assert_array_equal(np_of(out), view(np_of(x)))


@pytest.mark.parametrize("dtype", ["bool", "float16", "float32", "complex128"])
def test_expanded_sources(dtype):
    row = make((1, 70), dtype)
    col = make((50, 1), dtype, seed=1)
    np.testing.assert_array_equal(np_of(row.expand(50, 70).t().contiguous()),
                                  np.broadcast_to(np_of(row), (50, 70)).T)
    np.testing.assert_array_equal(np_of(col.expand(50, 70).t().contiguous()),
                                  np.broadcast_to(np_of(col), (50, 70)).T)
    x = make((40, 36), dtype)
    e = x.t().unsqueeze(0).expand(3, 36, 40).contiguous()
    np.testing.assert_array_equal(np_of(e), np.broadcast_to(np_of(x).T, (3, 36, 40)))


@pytest.mark.parametrize("src_dtype", DTYPES)
@pytest.mark.parametrize("dst_dtype", DTYPES)
@pytest.mark.parametrize("shape", [(37, 70), (190, 181)])
def test_cast_copy_from_transposed_matches_torch(src_dtype, dst_dtype, shape):
    x = make(shape, src_dtype)
    dst = ember.empty(shape[1], shape[0], dtype=getattr(ember, dst_dtype))
    dst.copy_(x.t())
    want = torch.empty(shape[1], shape[0], dtype=getattr(torch, dst_dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when casting complex to real
        want.copy_(torch_of(x).t())
    if want.dtype in (torch.float16, torch.bfloat16):
        want = want.to(torch.float64)
    np.testing.assert_array_equal(np_of(dst), want.numpy())


@pytest.mark.parametrize("dtype", ["int8", "float32", "complex64"])
def test_copy_into_transposed_destination(dtype):
    x = make((70, 90), dtype)
    dst = ember.zeros(90, 70, dtype=getattr(ember, dtype)).t()
    dst.copy_(x)
    np.testing.assert_array_equal(np_of(dst), np_of(x))
    # and a casting one: float64 source into a transposed float32 destination
    y = make((70, 90), "float64")
    dst32 = ember.zeros(90, 70, dtype=ember.float32).t()
    dst32.copy_(y)
    np.testing.assert_array_equal(np_of(dst32), np_of(y))


def test_cast_of_transposed_input():
    x = make((130, 257), "float32")
    for target in (ember.float64, ember.float16, ember.int32, ember.bool, ember.complex64):
        got = x.t().to(target)
        want = torch_of(x).t().to(getattr(torch, target.name))
        assert tuple(got.shape) == tuple(want.shape) and got.dtype == target
        np.testing.assert_array_equal(np_of(got.contiguous()), np.asarray(
            want.to(torch.float64) if target == ember.float16 else want))


@pytest.mark.parametrize("threads", [1, 2])
def test_large_transpose_across_threads(threads):
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        x = make((301, 515), "float32")
        np.testing.assert_array_equal(np_of(x.t().contiguous()), np_of(x).T)
        y = make((6, 70, 90), "int64")
        np.testing.assert_array_equal(np_of(y.permute(2, 0, 1).contiguous()),
                                      np_of(y).transpose(2, 0, 1))
    finally:
        ember.set_num_threads(before)


def test_copy_from_aliasing_transpose_is_a_true_transpose():
    # the source shares the destination's memory: it is copied out first, as before
    x = make((65, 65), "float32")
    want = np_of(x).T.copy()
    x.copy_(x.t())
    np.testing.assert_array_equal(np_of(x), want)
    y = make((40, 40), "int32")
    want = np_of(y).T.copy()
    y[:, :] = y.t()
    np.testing.assert_array_equal(np_of(y), want)


def test_copy_into_expanded_destination_raises():
    dst = ember.zeros(1, 40).expand(30, 40)
    with pytest.raises(RuntimeError, match="single memory location"):
        dst.copy_(make((40, 30), "float32").t())
    with pytest.raises(RuntimeError):
        torch.zeros(1, 40).expand(30, 40).copy_(torch.zeros(40, 30).t())
