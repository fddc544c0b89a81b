"""Elementwise ops over short rows against one broadcast row: the iterator repeats the
row into a buffer so that one loop call covers many rows.  Checked against NumPy
around every edge of that path: row widths on both sides of the buffer's limit, row
counts that leave a partial last call, two broadcast operands, a bool output, the row
on either side, in place, out=, and a row that overlaps the output."""
import numpy as np
import pytest

import ember

ROWS = [1, 2, 5, 17, 100]
# float32 widths: 256 elements fill the 4096-byte buffer four rows deep, 257 do not
WIDTHS = [1, 3, 16, 64, 256, 257]


def pair(rows, width, dtype, rng):
    a = rng.standard_normal((rows, width)).astype(dtype)
    b = rng.standard_normal(width).astype(dtype)
    return a, b


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("width", WIDTHS)
def test_add_matrix_and_row(rows, width):
    a, b = pair(rows, width, np.float32, np.random.default_rng(rows * 1000 + width))
    np.testing.assert_array_equal((ember.from_numpy(a) + ember.from_numpy(b)).numpy(), a + b)
    np.testing.assert_array_equal((ember.from_numpy(b) - ember.from_numpy(a)).numpy(), b - a)


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.float16, np.float64, np.complex128])
def test_dtypes(dtype):
    rng = np.random.default_rng(3)
    for width in (5, 64, 300):
        a = (rng.standard_normal((33, width)) * 20).astype(dtype)
        b = (rng.standard_normal(width) * 20).astype(dtype)
        np.testing.assert_array_equal((ember.from_numpy(a) * ember.from_numpy(b)).numpy(), a * b)


def test_bool_output_of_a_comparison():
    a, b = pair(40, 24, np.float64, np.random.default_rng(4))
    np.testing.assert_array_equal((ember.from_numpy(a) < ember.from_numpy(b)).numpy(), a < b)


def test_two_broadcast_rows():
    rng = np.random.default_rng(5)
    cond = rng.standard_normal((50, 12)) > 0
    x, y = rng.standard_normal(12), rng.standard_normal(12)
    got = ember.where(ember.from_numpy(cond), ember.from_numpy(x), ember.from_numpy(y))
    np.testing.assert_array_equal(got.numpy(), np.where(cond, x, y))


def test_mixed_dtypes_promote():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((30, 8)).astype(np.float32)
    b = rng.integers(-5, 5, 8).astype(np.int64)
    np.testing.assert_allclose((ember.from_numpy(a) + ember.from_numpy(b)).numpy(), a + b)


def test_in_place_and_out():
    a, b = pair(45, 10, np.float32, np.random.default_rng(7))
    t = ember.from_numpy(a.copy())
    t += ember.from_numpy(b)
    np.testing.assert_array_equal(t.numpy(), a + b)
    out = ember.empty(45, 10)
    ember.mul(ember.from_numpy(a), ember.from_numpy(b), out=out)
    np.testing.assert_array_equal(out.numpy(), a * b)


def test_row_overlapping_the_output_is_read_before_writing():
    # NumPy's answer: the row's old values throughout
    x = np.arange(60.0).reshape(20, 3)
    t = ember.from_numpy(x.copy())
    t += t[0]
    x += x[0]
    np.testing.assert_array_equal(t.numpy(), x)


def test_views_that_are_not_packed_rows_take_the_general_path():
    rng = np.random.default_rng(8)
    a = rng.standard_normal((20, 16))
    b = rng.standard_normal(32)
    ta, tb = ember.from_numpy(a), ember.from_numpy(b)
    np.testing.assert_array_equal((ta + tb[::2]).numpy(), a + b[::2])
    np.testing.assert_array_equal((ta[:, ::-1] + tb[:16]).numpy(), a[:, ::-1] + b[:16])
    np.testing.assert_array_equal((ta[::2] + tb[:16]).numpy(), a[::2] + b[:16])
