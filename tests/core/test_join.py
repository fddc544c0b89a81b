"""cat (concat, concatenate) and stack against NumPy (values) and PyTorch (rules, errors)."""
import ml_dtypes
import numpy as np
import pytest
import torch

import ember

DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
          ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128]
TORCH_DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
                torch.complex128]
EMBER_DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
                ember.float16, ember.bfloat16, ember.float32, ember.float64, ember.complex64,
                ember.complex128]


def values(shape, dtype, seed=0):
    a = np.random.default_rng(seed).integers(-9, 9, size=shape)
    return (a > 0) if np.dtype(dtype) == np.bool_ else a.astype(dtype)


def as_numpy(t):
    return np.asarray(t.numpy())


def assert_same_error(ember_fn, torch_fn):
    with pytest.raises(Exception) as expected:
        torch_fn()
    with pytest.raises(expected.type) as got:
        ember_fn()
    assert str(got.value).replace("ember.", "torch.") == str(expected.value)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cat_values_and_layouts(dtype):
    a, b = values((2, 3, 4), dtype, 1), values((2, 5, 4), dtype, 2)
    views = [ember.from_numpy(a), ember.from_numpy(a.transpose(2, 1, 0).copy()).permute(2, 1, 0),
             ember.from_numpy(a[::-1].copy())[::-1]]
    for ta in views:
        tb = ember.from_numpy(b[:, ::-1].copy())[:, ::-1]
        np.testing.assert_array_equal(as_numpy(ember.cat([ta, tb], 1)), np.concatenate([a, b], 1))
        np.testing.assert_array_equal(as_numpy(ember.cat((ta, ta), -1)), np.concatenate([a, a], -1))
        np.testing.assert_array_equal(as_numpy(ember.concat([ta, ta])), np.concatenate([a, a]))
    row = ember.from_numpy(a[:1, :1].copy()).expand(2, 3, 4)
    np.testing.assert_array_equal(as_numpy(ember.concatenate([row, ember.from_numpy(a)], axis=0)),
                                  np.concatenate([np.broadcast_to(a[:1, :1], a.shape), a]))


@pytest.mark.parametrize("i", range(12))
def test_cat_and_stack_promote_like_torch(i):
    for j in range(12):
        ours = ember.cat([ember.ones(2, dtype=EMBER_DTYPES[i]), ember.zeros(1, dtype=EMBER_DTYPES[j])])
        theirs = torch.cat([torch.ones(2, dtype=TORCH_DTYPES[i]), torch.zeros(1, dtype=TORCH_DTYPES[j])])
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        assert ours.tolist() == [bool(v) if theirs.dtype == torch.bool else v for v in theirs.tolist()]
        st = ember.stack([ember.ones(2, dtype=EMBER_DTYPES[i]), ember.zeros(2, dtype=EMBER_DTYPES[j])])
        assert st.dtype == ours.dtype and st.shape == (2, 2)


def test_cat_skips_legacy_empty_tensors():
    a, b, e = ember.ones(2, 3), ember.zeros(1, 3, dtype=ember.int64), ember.empty(0)
    assert ember.cat([a, e, b]).shape == (3, 3)
    assert ember.cat([e, e]).shape == (0,)
    assert ember.cat([e, e], 1).shape == (0,)
    assert ember.cat([e.double(), a]).dtype == ember.float64   # skipped, yet promoted
    assert ember.cat([ember.empty(0, 3), a]).shape == (2, 3)
    assert ember.cat([ember.ones(2, 0), ember.ones(3, 0)]).shape == (5, 0)
    assert ember.cat([ember.empty(2, 0), a], 1).tolist() == a.tolist()


def test_cat_errors_match_torch():
    a, b, e = ember.ones(2, 3), ember.zeros(1, 3, dtype=ember.int64), ember.empty(0)
    ta, tb, te = torch.ones(2, 3), torch.zeros(1, 3, dtype=torch.int64), torch.empty(0)
    cases = [
        (lambda: ember.cat([a, b], 1), lambda: torch.cat([ta, tb], 1)),
        (lambda: ember.cat([ember.tensor(1.0)]), lambda: torch.cat([torch.tensor(1.0)])),
        (lambda: ember.cat([a, ember.tensor(1.0)]), lambda: torch.cat([ta, torch.tensor(1.0)])),
        (lambda: ember.cat([a, ember.ones(3)]), lambda: torch.cat([ta, torch.ones(3)])),
        (lambda: ember.cat([a, ember.ones(2, 2)]), lambda: torch.cat([ta, torch.ones(2, 2)])),
        (lambda: ember.cat([a, a], 2), lambda: torch.cat([ta, ta], 2)),
        (lambda: ember.cat([e, a], 5), lambda: torch.cat([te, ta], 5)),
        (lambda: ember.cat([ember.empty(0, 2), a]), lambda: torch.cat([torch.empty(0, 2), ta])),
        (lambda: ember.cat([a, a.T], 1), lambda: torch.cat([ta, ta.T], 1)),
        (lambda: ember.cat([a, ember.empty(0, 2, 3)]), lambda: torch.cat([ta, torch.empty(0, 2, 3)])),
    ]
    for ours, theirs in cases:
        assert_same_error(ours, theirs)
    with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
        ember.cat([])
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        ember.cat(a)
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got int"):
        ember.cat([a, 1])
    with pytest.raises(TypeError, match="argument 'dim' must be int, not float"):
        ember.cat([a, a], dim=1.0)


def test_cat_out():
    a = ember.arange(6.0).reshape(2, 3)
    out = ember.empty(4, 3)
    assert ember.cat([a, a], out=out) is out
    assert out.tolist() == ember.cat([a, a]).tolist()
    small = ember.empty(5)
    with pytest.warns(UserWarning, match="resized"):
        ember.cat([a, a], out=small)
    assert small.shape == (4, 3)
    ints = ember.empty(0, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ember.cat([a], out=ints)
    # out= that is also an input: the result is built apart, then copied
    x = ember.arange(3.0)
    ember.cat([x[:2], x[1:]], out=ember.empty(0))
    y = ember.arange(4.0)
    ember.cat([y[2:], y[:2]], out=y)
    assert y.tolist() == [2.0, 3.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_stack_values(dtype):
    parts = [values((3, 4), dtype, s) for s in range(3)]
    tensors = [ember.from_numpy(parts[0]), ember.from_numpy(parts[1].T.copy()).T,
               ember.from_numpy(parts[2][::-1].copy())[::-1]]
    for dim in range(-3, 3):
        np.testing.assert_array_equal(as_numpy(ember.stack(tensors, dim)), np.stack(parts, dim))
    scalars = [ember.tensor(1.0), ember.tensor(2)]
    assert ember.stack(scalars).tolist() == [1.0, 2.0]
    assert ember.stack([ember.empty(0), ember.empty(0)]).shape == (2, 0)


def test_stack_errors_match_torch():
    a, b = ember.ones(2, 3), ember.zeros(1, 3)
    ta, tb = torch.ones(2, 3), torch.zeros(1, 3)
    assert_same_error(lambda: ember.stack([a, b]), lambda: torch.stack([ta, tb]))
    assert_same_error(lambda: ember.stack([a, a], 3), lambda: torch.stack([ta, ta], 3))
    assert_same_error(lambda: ember.stack([]), lambda: torch.stack([]))
    out = ember.empty(0)
    assert ember.stack([a, a], 1, out=out).shape == (2, 2, 3)
