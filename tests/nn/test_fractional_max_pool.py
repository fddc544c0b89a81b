"""Fractional max pooling against torch: the same ``_random_samples`` give the same
windows, values, indices and gradients; the modules, the drawn samples and the errors."""
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import Const, compare  # noqa: E402

rng = np.random.default_rng(5)

CASES = {
    2: [((2, 3, 7, 8), 3, (5, 6), None), ((2, 3, 9, 11), (2, 3), (4, 5), None),
        ((3, 10, 9), 2, (5, 3), None), ((1, 2, 12, 10), 2, None, (0.5, 0.7)),
        ((2, 2, 6, 6), 2, 1, None), ((2, 2, 6, 5), 1, (6, 5), None),
        ((2, 1, 40, 33), (3, 2), (17, 20), None)],
    3: [((2, 2, 6, 7, 8), 2, (3, 4, 5), None), ((2, 2, 6, 7, 8), (1, 2, 3), 4, None),
        ((2, 6, 5, 7), 2, (4, 2, 3), None), ((1, 2, 9, 8, 10), 3, None, 0.5)],
}


def _samples(shape, spatial, dtype):
    batch = shape[0] if len(shape) == spatial + 2 else 1
    return rng.random((batch, shape[-spatial - 1], spatial)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial", [2, 3])
def test_values_indices_grads_match_torch(spatial, dtype):
    name = f"fractional_max_pool{spatial}d"
    for shape, kernel, size, ratio in CASES[spatial]:
        x = rng.standard_normal(shape)
        s = _samples(shape, spatial, dtype)
        compare(lambda F, lib, x, s: getattr(F, name)(x, kernel, size, ratio, _random_samples=s),
                x, Const(s), dtype=dtype)
        values, indices = getattr(F, name)(ember.tensor(x.astype(dtype)), kernel, size, ratio,
                                           return_indices=True,
                                           _random_samples=ember.tensor(s))
        t_values, t_indices = getattr(TF, name)(torch.tensor(x.astype(dtype)), kernel, size,
                                                ratio, return_indices=True,
                                                _random_samples=torch.tensor(s))
        assert indices.dtype == ember.int64
        np.testing.assert_array_equal(np.asarray(indices), t_indices.numpy())
        np.testing.assert_array_equal(np.asarray(values), t_values.numpy())


@pytest.mark.parametrize("spatial", [2, 3])
def test_with_indices_variants_and_extreme_samples(spatial):
    name = f"fractional_max_pool{spatial}d"
    shape = (2, 3) + (9,) * spatial
    x = rng.standard_normal(shape).astype(np.float32)
    # samples at the ends of [0, 1) move the windows most
    for value in (0.0, 0.999999):
        s = np.full((2, 3, spatial), value, dtype=np.float32)
        values, indices = getattr(F, name + "_with_indices")(
            ember.tensor(x), 2, 5, _random_samples=ember.tensor(s))
        t_values, t_indices = getattr(TF, name + "_with_indices")(
            torch.tensor(x), 2, 5, _random_samples=torch.tensor(s))
        np.testing.assert_array_equal(np.asarray(indices), t_indices.numpy())
        np.testing.assert_array_equal(np.asarray(values), t_values.numpy())


def test_ties_nan_and_infinities_follow_torch():
    nan, inf = float("nan"), float("inf")
    x = np.array([[[[1, 1, 2, 2, 0], [nan, 3, nan, 0, nan], [1, 1, 1, 1, 1],
                    [-inf, -inf, -inf, -inf, -inf], [-inf, -inf, -inf, 5, -inf]]]])
    s = np.array([[[0.3, 0.6]]])
    for size in (2, 3, 4):
        values, indices = F.fractional_max_pool2d(ember.tensor(x), 2, size, return_indices=True,
                                                  _random_samples=ember.tensor(s))
        t_values, t_indices = TF.fractional_max_pool2d(torch.tensor(x), 2, size,
                                                       return_indices=True,
                                                       _random_samples=torch.tensor(s))
        np.testing.assert_array_equal(np.asarray(indices), t_indices.numpy())
        np.testing.assert_array_equal(np.asarray(values), t_values.numpy())


def test_non_contiguous_and_gradcheck():
    x = rng.standard_normal((3, 2, 8, 9))
    s = _samples((2, 3, 9, 8), 2, np.float64)
    compare(lambda F, lib, x, s: F.fractional_max_pool2d(x.transpose(0, 1).transpose(2, 3), 2,
                                                         (5, 4), _random_samples=s),
            x, Const(s))
    # distinct values, so the maxima stay put under gradcheck's perturbations
    x = ember.tensor(rng.permutation(2 * 2 * 6 * 7).reshape(2, 2, 6, 7) / 10.0,
                     requires_grad=True)
    samples = ember.tensor(_samples((2, 2, 6, 7), 2, np.float64))
    assert gradcheck(lambda x: F.fractional_max_pool2d(x, 2, (4, 3), _random_samples=samples),
                     (x,))
    x3 = ember.tensor(rng.permutation(2 * 5 * 5 * 6).reshape(2, 5, 5, 6) / 10.0,
                      requires_grad=True)
    samples3 = ember.tensor(_samples((2, 5, 5, 6), 3, np.float64))
    assert gradcheck(lambda x: F.fractional_max_pool3d(x, 2, 3, _random_samples=samples3),
                     (x3,))


def test_overlapping_windows_accumulate_gradient():
    # a single large value is the maximum of several windows: its gradient is their sum
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 2, 2] = 10.0
    s = np.array([[[0.2, 0.7]]])
    compare(lambda F, lib, x, s: F.fractional_max_pool2d(x, 3, 4, _random_samples=s), x, Const(s))


def test_empty_batch_and_empty_output():
    x = ember.randn(0, 3, 7, 8)
    assert F.fractional_max_pool2d(x, 2, 4, _random_samples=ember.rand(0, 3, 2)).shape == \
        (0, 3, 4, 4)
    out = F.fractional_max_pool2d(ember.randn(2, 3, 7, 8), 2, 0,
                                  _random_samples=ember.rand(2, 3, 2))
    assert out.shape == (2, 3, 0, 0)
    out, idx = F.fractional_max_pool3d(ember.randn(1, 2, 4, 4, 4), 2, (3, 0, 2),
                                       return_indices=True)
    assert out.shape == idx.shape == (1, 2, 3, 0, 2)


def test_drawn_samples_use_ember_rng_and_dtype():
    x = ember.randn(2, 3, 11, 10)
    ember.manual_seed(3)
    drawn = F.fractional_max_pool2d(x, 2, (6, 5))
    ember.manual_seed(3)
    samples = ember.rand(2, 3, 2)
    np.testing.assert_array_equal(
        np.asarray(drawn), np.asarray(F.fractional_max_pool2d(x, 2, (6, 5),
                                                              _random_samples=samples)))
    # unbatched: one row of samples
    ember.manual_seed(4)
    drawn = F.fractional_max_pool3d(x[0, :2].reshape(2, 11, 2, 5), 2, (4, 1, 3))
    ember.manual_seed(4)
    samples = ember.rand(1, 2, 3)
    expected = F.fractional_max_pool3d(x[0, :2].reshape(2, 11, 2, 5), 2, (4, 1, 3),
                                       _random_samples=samples)
    np.testing.assert_array_equal(np.asarray(drawn), np.asarray(expected))
    half = F.fractional_max_pool2d(x.to(ember.float16), 2, 4)
    assert half.dtype == ember.float16 and half.shape == (2, 3, 4, 4)


def test_larger_sample_batch_and_unbatched_input():
    x = rng.standard_normal((3, 7, 8))
    s = rng.random((4, 3, 2))
    compare(lambda F, lib, x, s: F.fractional_max_pool2d(x, 2, (4, 5), _random_samples=s),
            x, Const(s))
    compare(lambda F, lib, x, s: F.fractional_max_pool2d(x.unsqueeze(0).expand(2, 3, 7, 8), 2,
                                                         (4, 5), _random_samples=s),
            x, Const(s))


def test_modules():
    s = rng.random((2, 3, 2)).astype(np.float32)
    x = rng.standard_normal((2, 3, 10, 12)).astype(np.float32)
    m = nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True,
                               _random_samples=ember.tensor(s))
    tm = torch.nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True,
                                      _random_samples=torch.tensor(s))
    (v, i), (tv, ti) = m(ember.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_array_equal(np.asarray(v), tv.numpy())
    np.testing.assert_array_equal(np.asarray(i), ti.numpy())
    assert list(m.state_dict()) == ["_random_samples"]
    assert m.kernel_size == (3, 3) and m.output_ratio == (0.5, 0.5) and m.output_size is None
    assert repr(m) == "FractionalMaxPool2d()"
    m3 = nn.FractionalMaxPool3d(2, output_size=(2, 3, 4))
    assert m3(ember.randn(1, 2, 5, 6, 7)).shape == (1, 2, 2, 3, 4)
    assert m3.output_size == (2, 3, 4) and list(m3.state_dict()) == []


def _error(fn_ember, fn_torch, exc):
    with pytest.raises(exc) as expected:
        fn_torch()
    with pytest.raises(exc, match=re.escape(str(expected.value).split(",")[0][:60])):
        fn_ember()


def test_errors_match_torch():
    x, s = rng.standard_normal((2, 3, 7, 8)).astype(np.float32), rng.random((2, 3, 2))
    s = s.astype(np.float32)
    cases = [
        (dict(kernel_size=3, output_size=6), s, RuntimeError),
        (dict(kernel_size=3, output_size=(5, 7)), s, RuntimeError),
        (dict(kernel_size=3), s, ValueError),
        (dict(kernel_size=(3, 3, 3), output_size=5), s, RuntimeError),
        (dict(kernel_size=3, output_size=(5, 5, 5)), s, RuntimeError),
        (dict(kernel_size=3, output_size=5), s.astype(np.float64), RuntimeError),
        (dict(kernel_size=3, output_size=5), s[:1], RuntimeError),
        (dict(kernel_size=3, output_size=5), s[:, :2], RuntimeError),
        (dict(kernel_size=3, output_size=5), s[:, :, :1], RuntimeError),
        (dict(kernel_size=3, output_size=5), s[0], RuntimeError),
        (dict(kernel_size=2, output_ratio=(0.5, 2.0)), s, RuntimeError),
        (dict(kernel_size=2, output_ratio=(0.5, 0.5, 0.5)), s, ValueError),
    ]
    for kwargs, samples, exc in cases:
        _error(lambda: F.fractional_max_pool2d(ember.tensor(x), _random_samples=ember.tensor(
                   samples), **kwargs),
               lambda: TF.fractional_max_pool2d(torch.tensor(x), _random_samples=torch.tensor(
                   samples), **kwargs), exc)
    _error(lambda: F.fractional_max_pool2d(ember.randn(2, 3, 6, 7, 8), 2, 3),
           lambda: TF.fractional_max_pool2d(torch.randn(2, 3, 6, 7, 8), 2, 3), RuntimeError)
    _error(lambda: F.fractional_max_pool2d(ember.randn(2, 0, 7, 8), 2, 3),
           lambda: TF.fractional_max_pool2d(torch.randn(2, 0, 7, 8), 2, 3), RuntimeError)
    _error(lambda: F.fractional_max_pool3d(ember.randn(2, 2, 6, 7, 8), 2, (6, 4, 5)),
           lambda: TF.fractional_max_pool3d(torch.randn(2, 2, 6, 7, 8), 2, (6, 4, 5)),
           RuntimeError)
    _error(lambda: F.fractional_max_pool3d(ember.randn(2, 2, 6, 7, 8), 2, (3, 4, 8)),
           lambda: TF.fractional_max_pool3d(torch.randn(2, 2, 6, 7, 8), 2, (3, 4, 8)),
           RuntimeError)
    _error(lambda: F.fractional_max_pool3d(ember.randn(2, 2, 6, 7, 8), (2, 2), 3),
           lambda: TF.fractional_max_pool3d(torch.randn(2, 2, 6, 7, 8), (2, 2), 3),
           RuntimeError)
    with pytest.raises(TypeError, match="output_size"):
        F.fractional_max_pool2d(ember.randn(2, 3, 7, 8), 2, (3.0, 4))
    with pytest.raises(ValueError, match="greater than 0"):
        F.fractional_max_pool2d(ember.randn(2, 3, 7, 8), 0, 3)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool2d(3, output_ratio=1.5)
    with pytest.raises(ValueError, match="either an output size, or a pooling ratio"):
        nn.FractionalMaxPool3d(3)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool2d(3, output_size=2, output_ratio=0.5)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0"):
        nn.FractionalMaxPool3d(0, 2)
