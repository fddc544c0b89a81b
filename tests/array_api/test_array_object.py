"""The Tensor as an array object of the Array API standard: attributes, operators with
Python scalars, conversions, indexing (against array-api-strict) and the namespace hook."""
import math
import operator

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra.array_api import make_strategies_namespace

import ember
import ember.array_api as xp

import array_api_strict as strict  # noqa: E402  (the test extra installs it)
xps = make_strategies_namespace(xp)
SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_array_namespace_returns_the_namespace():
    x = ember.ones(2)
    assert x.__array_namespace__() is xp
    for version in ("2021.12", "2022.12", "2023.12", "2024.12"):
        assert x.__array_namespace__(api_version=version) is xp
    with pytest.raises(ValueError, match="2030.12"):
        x.__array_namespace__(api_version="2030.12")
    assert xp.__array_api_version__ == "2024.12"


def test_array_api_compat_recognises_ember():
    import array_api_compat as compat
    x = ember.ones(3)
    assert compat.is_array_api_obj(x)
    assert compat.array_namespace(x) is xp
    assert compat.size(x) == 3 and compat.device(x) == ember.device("cpu")


def test_attributes():
    x = ember.arange(24.0).reshape(2, 3, 4)
    assert x.dtype == xp.float32 and x.ndim == 3 and tuple(x.shape) == (2, 3, 4)
    assert x.device == ember.device("cpu") == xp.__array_namespace_info__().default_device()
    assert tuple(x.mT.shape) == (2, 4, 3)
    np.testing.assert_array_equal(np.asarray(x.mT), np.swapaxes(np.asarray(x), -1, -2))
    two_d = x[0]
    np.testing.assert_array_equal(np.asarray(two_d.T), np.asarray(two_d).T)
    # size stays PyTorch's method; the element count is math.prod(x.shape)
    assert x.size() == (2, 3, 4) and math.prod(x.shape) == 24
    assert x.size() == torch.ones(2, 3, 4).size()


def test_to_device():
    x = ember.ones(3)
    assert x.to_device("cpu") is x
    assert x.to_device(ember.device("cpu")) is x
    with pytest.raises(ValueError, match="stream"):
        x.to_device("cpu", stream=1)


def test_dlpack_round_trip_shares_memory():
    x = xp.arange(6, dtype=xp.float64)
    y = np.from_dlpack(x)
    assert np.shares_memory(y, np.asarray(x))
    z = xp.from_dlpack(strict.asarray([1.0, 2.0]))
    assert z.dtype == xp.float64 and z.tolist() == [1.0, 2.0]
    assert x.__dlpack_device__() == (1, 0)


OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
             operator.mod, operator.pow, operator.lt, operator.le, operator.gt, operator.ge,
             operator.eq, operator.ne]


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("scalar", [2, 2.5])
def test_operators_with_python_scalars(op, scalar):
    values = [1.5, -3.0, 4.0]
    x, ref = xp.asarray(values, dtype=xp.float64), strict.asarray(values, dtype=strict.float64)
    for ours, expected in ((op(x, scalar), op(ref, scalar)), (op(scalar, x), op(scalar, ref))):
        assert str(ours.dtype).rsplit(".")[-1] == str(expected.dtype).rsplit(".")[-1]
        np.testing.assert_allclose(np.asarray(ours), np.from_dlpack(expected))


@pytest.mark.parametrize("op", [operator.and_, operator.or_, operator.xor, operator.lshift,
                                operator.rshift], ids=lambda op: op.__name__)
def test_bitwise_operators_with_python_ints(op):
    x = xp.asarray([1, 6, 12], dtype=xp.int16)
    ref = strict.asarray([1, 6, 12], dtype=strict.int16)
    assert op(x, 2).dtype == xp.int16
    np.testing.assert_array_equal(np.asarray(op(x, 2)), np.from_dlpack(op(ref, 2)))
    np.testing.assert_array_equal(np.asarray(~x), np.from_dlpack(~ref))


def test_in_place_operators_keep_identity_and_dtype():
    x = xp.asarray([1.0, 2.0, 4.0])
    y = x
    x += 1
    x *= 2.0
    x -= xp.asarray([1.0, 1.0, 1.0])
    x /= 2
    x **= 2
    x //= 1
    x %= 5
    assert y is x and x.dtype == xp.float32
    expected = ((((np.array([1.0, 2.0, 4.0]) + 1) * 2 - 1) / 2) ** 2 // 1) % 5
    np.testing.assert_allclose(np.asarray(x), expected)
    i = xp.asarray([5, 6])
    i &= 3
    i |= 8
    i ^= 1
    i <<= 1
    i >>= 1
    np.testing.assert_array_equal(np.asarray(i), ((np.array([5, 6]) & 3 | 8) ^ 1) << 1 >> 1)


def test_matmul_operator():
    a, b = xp.ones((2, 3)), xp.ones((3, 4))
    assert tuple((a @ b).shape) == (2, 4)
    a @= xp.eye(3)
    assert tuple(a.shape) == (2, 3)


def test_python_conversions():
    assert bool(xp.asarray(True)) is True
    assert int(xp.asarray(7)) == 7 and float(xp.asarray(2.5)) == 2.5
    assert complex(xp.asarray(1 + 2j)) == 1 + 2j
    assert operator.index(xp.asarray(3)) == 3
    assert [0, 10, 20][xp.asarray(2)] == 20
    with pytest.raises((TypeError, RuntimeError)):
        operator.index(xp.asarray(2.0))
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        bool(xp.ones(2))


@SETTINGS
@given(data=st.data())
def test_basic_indexing_matches_the_reference(data):
    shape = data.draw(xps.array_shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    x = xp.reshape(xp.arange(math.prod(shape)), shape)
    ref = strict.reshape(strict.arange(math.prod(shape)), shape)
    index = data.draw(xps.indices(shape, allow_newaxis=True, allow_ellipsis=True), label="index")
    np.testing.assert_array_equal(np.asarray(x[index]), np.from_dlpack(ref[index]))
    if index is None or (isinstance(index, tuple) and None in index):
        return  # the standard allows newaxis only when reading
    value = data.draw(st.integers(-5, 5), label="value")
    x[index] = value
    ref[index] = value
    np.testing.assert_array_equal(np.asarray(x), np.from_dlpack(ref))


@SETTINGS
@given(data=st.data())
def test_integer_array_and_boolean_indexing(data):
    shape = data.draw(xps.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = xp.reshape(xp.arange(math.prod(shape)), shape)
    expected = np.arange(math.prod(shape)).reshape(shape)
    index = tuple(xp.asarray(data.draw(st.lists(st.integers(-n, n - 1), min_size=2,
                                                max_size=2)))
                  for n in shape)
    np.testing.assert_array_equal(np.asarray(x[index]),
                                  expected[tuple(np.asarray(i) for i in index)])
    mask = x % 3 == 0
    np.testing.assert_array_equal(np.asarray(x[mask]), expected[expected % 3 == 0])
    x[mask] = -1
    expected[expected % 3 == 0] = -1
    np.testing.assert_array_equal(np.asarray(x), expected)


def test_negative_step_slices():
    x = xp.arange(10)
    np.testing.assert_array_equal(np.asarray(x[::-3]), np.arange(10)[::-3])
    np.testing.assert_array_equal(np.asarray(x[7:2:-2]), np.arange(10)[7:2:-2])


def test_numpy_dtypes_are_taken_where_dtypes_are_expected():
    # code written for NumPy passes them (scikit-learn's check_array(dtype=np.float64))
    assert xp.isdtype(np.dtype("int64"), "integral")
    assert not xp.isdtype(np.float64, "integral")
    assert xp.isdtype(np.float32, xp.float32) and xp.isdtype(xp.float32, np.dtype("float32"))
    assert xp.astype(xp.asarray([1.5]), np.int32).dtype == xp.int32
    with pytest.raises(TypeError, match="expected an ember dtype"):
        xp.isdtype("float32", "real floating")
    with pytest.raises(TypeError, match="expected an ember dtype"):
        xp.astype(xp.asarray([1.5]), float)


def test_numpy_style_where_and_diff():
    condition = xp.asarray([[True, False], [False, True]])
    rows, cols = xp.where(condition)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    with pytest.raises(TypeError, match="or the condition alone"):
        xp.where(condition, xp.asarray(1))
    x = xp.asarray([1, 4, 9, 16, 25])
    assert xp.diff(x, 2).tolist() == [2, 2, 2] == xp.diff(x, n=2).tolist()
    assert xp.diff(xp.reshape(x[:4], (2, 2)), 1, 0).tolist() == [[8, 12]]
