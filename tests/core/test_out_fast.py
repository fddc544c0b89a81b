"""Elementwise ``out=`` on contiguous same-dtype operands takes a fast path straight to
the kernel: these cases (aliasing, overlap, dtypes, gradients, read-only outputs, the
version counter) must behave exactly as the general path and as torch."""
import numpy as np
import pytest
import torch

import ember


def _pair(a):
    return ember.tensor(a), torch.tensor(a)


@pytest.mark.parametrize("op,dtype", [(op, dtype) for op in ("add", "mul", "sub", "maximum", "atan2")
                                      for dtype in ("float32", "float64", "int64")
                                      if (op, dtype) != ("atan2", "int64")])   # atan2 promotes
def test_binary_out_matches_torch(op, dtype):
    rng = np.random.default_rng(0)
    a, b = (rng.integers(-9, 9, (3, 5)).astype(dtype) for _ in range(2))
    (ea, ta), (eb, tb) = _pair(a), _pair(b)
    eo, to = ember.empty(3, 5, dtype=ea.dtype), torch.empty(3, 5, dtype=ta.dtype)
    version = eo._version
    got = getattr(ember, op)(ea, eb, out=eo)
    getattr(torch, op)(ta, tb, out=to)
    assert got is eo and eo._version > version
    np.testing.assert_array_equal(eo.numpy(), to.numpy())


@pytest.mark.parametrize("which", [0, 1])
def test_out_aliasing_an_operand(which):
    a = np.arange(6.0).reshape(2, 3)
    b = np.full((2, 3), 10.0)
    ea, eb = ember.tensor(a), ember.tensor(b)
    out = (ea, eb)[which]
    ember.sub(ea, eb, out=out)
    np.testing.assert_array_equal(out.numpy(), a - b)
    ember.exp(out, out=out)
    np.testing.assert_allclose(out.numpy(), np.exp(a - b))


def test_out_overlapping_a_shifted_operand():
    # out and the input share memory one element apart: the result is as if the input
    # were read whole first (torch refuses partial overlap; ember copies the input)
    base = ember.arange(8.0)
    ember.add(base[:7], base[:7], out=base[1:])
    np.testing.assert_array_equal(base.numpy(), [0, 0, 2, 4, 6, 8, 10, 12])


def test_out_of_a_castable_dtype_and_errors_match_torch():
    ea, ta = _pair(np.arange(4, dtype=np.float32))
    eo, to = ember.empty(4, dtype=ember.float64), torch.empty(4, dtype=torch.float64)
    ember.add(ea, ea, out=eo)
    torch.add(ta, ta, out=to)
    np.testing.assert_array_equal(eo.numpy(), to.numpy())
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ember.add(ea, ea, out=ember.empty(4, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        torch.add(ta, ta, out=torch.empty(4, dtype=torch.int64))


def test_out_of_another_shape_or_layout():
    ea = ember.ones(2, 3)
    eo = ember.empty(3, 2).t()                 # non-contiguous out: the general path
    ember.mul(ea, 2.0, out=eo)
    np.testing.assert_array_equal(eo.numpy(), np.full((2, 3), 2.0))
    with pytest.warns(UserWarning, match="resized"):
        ember.add(ea, ea, out=ember.ones(5))


def test_out_and_gradients_as_torch():
    for lib in (ember, torch):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic "
                                               "differentiation"):
            lib.exp(x, out=lib.empty(3))
        w = lib.ones(3, requires_grad=True)      # the out itself requires grad
        with pytest.raises(RuntimeError, match="add.*out=... arguments don't support"):
            lib.add(lib.ones(3), lib.ones(3), out=w)
        with lib.no_grad():
            lib.add(lib.ones(3), lib.ones(3), out=w)
        assert w.tolist() == [2.0, 2.0, 2.0]


def test_read_only_out_is_refused():
    a = np.zeros(3, dtype=np.float32)
    a.setflags(write=False)
    ro = ember.from_numpy(a)
    with pytest.raises(RuntimeError, match="read-only"):
        ember.add(ember.ones(3), ember.ones(3), out=ro)


@pytest.mark.parametrize("n", [1023, 1024, 1025, 3000, 4096, 4097, 32767])
def test_fast_paths_sweeping_both_ways_match_numpy(n):
    # serial contiguous calls alternate their sweep direction (backward in pieces of
    # 1024 elements): every call, whichever way it ran, must give NumPy's values
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    ea, eb = ember.tensor(a), ember.tensor(b)
    for _ in range(2):
        np.testing.assert_array_equal((ea + eb).numpy(), a + b)
        np.testing.assert_array_equal((ea * 2.5).numpy(), a * np.float32(2.5))
        np.testing.assert_array_equal((3.0 - ea).numpy(), np.float32(3.0) - a)
        np.testing.assert_allclose(ember.exp(ea).numpy(), np.exp(a), rtol=1e-6)
        out = ember.empty(n)
        ember.mul(ea, eb, out=out)
        np.testing.assert_array_equal(out.numpy(), a * b)
    acc, expect = ember.tensor(a), a.copy()
    for _ in range(3):
        acc.add_(eb)
        expect += b
    np.testing.assert_array_equal(acc.numpy(), expect)


@pytest.mark.parametrize("n", [3000, 5000])
def test_integer_division_by_zero_raises_in_either_sweep_direction(n):
    a = ember.arange(n)
    b = ember.ones(n, dtype=ember.int64)
    b[0] = 0                       # in the first piece, the last one a backward sweep runs
    for _ in range(2):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            a // b


# Outputs of 32 MiB and more are written through an L1 buffer with non-temporal
# stores, in pieces of 512 bytes after an unaligned head: these cover the head, the
# pieces and the tail for each element size, in place, strided rows and errors.
_STREAMED = 32 << 20


@pytest.mark.parametrize("dtype,offset", [("float32", 0), ("float32", 3), ("float64", 1),
                                          ("int8", 5), ("float16", 7), ("complex128", 1)])
def test_outputs_past_the_cache_match_numpy(dtype, offset):
    itemsize = np.dtype(dtype).itemsize
    n = _STREAMED // itemsize + 77            # not a whole number of pieces
    rng = np.random.default_rng(1)
    a = rng.integers(-50, 50, n + offset).astype(dtype)
    b = rng.integers(-50, 50, n).astype(dtype)
    ea, eb = ember.tensor(a)[offset:], ember.tensor(b)          # `offset` leaves a head
    np.testing.assert_array_equal((ea + eb).numpy(), a[offset:] + b)
    out = ember.zeros(n + offset, dtype=ea.dtype)[offset:]
    ember.mul(ea, eb, out=out)
    np.testing.assert_array_equal(out.numpy(), a[offset:] * b)
    ea.sub_(eb)                                                 # in place: read, then written
    np.testing.assert_array_equal(ea.numpy(), a[offset:] - b)
    np.testing.assert_array_equal(ember.tensor(a)[:offset].numpy(), a[:offset])


def test_streamed_rows_of_a_broadcast_and_a_strided_output():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2100, 4001)).astype(np.float32)    # 33.6 MB, rows not 64-aligned
    row = rng.standard_normal(4001).astype(np.float32)
    np.testing.assert_array_equal((ember.tensor(a) + ember.tensor(row)).numpy(), a + row)
    wide = ember.zeros(2100, 8002)
    ember.add(ember.tensor(a), ember.tensor(row), out=wide[:, ::2])   # elements 8 bytes apart
    np.testing.assert_array_equal(wide[:, ::2].numpy(), a + row)
    np.testing.assert_array_equal(wide[:, 1::2].numpy(), 0)


def test_streamed_casts_and_division_by_zero():
    n = _STREAMED // 8 + 5
    a = ember.arange(n)
    np.testing.assert_array_equal(a.double().numpy(), np.arange(n, dtype=np.float64))
    b = ember.ones(n, dtype=ember.int64)
    b[n - 2] = 0                                                # in the tail
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a // b
