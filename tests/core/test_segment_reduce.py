"""ember.segment_reduce against torch (values and gradients, lengths and offsets, any
axis, initial values, empty segments, NaNs, errors), and the deprecated ember.range."""
import re
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(3)
REDUCES = ["sum", "mean", "max", "min", "prod"]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def _compare(data, reduce, dtype, grad=None, **kwargs):
    """Run both libraries on ``data`` (numpy) with index tensors given as numpy arrays."""
    t = torch.tensor(data.astype(dtype), requires_grad=True)
    e = ember.tensor(data.astype(dtype), requires_grad=True)
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    e_kw = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_out = torch.segment_reduce(t, reduce, **t_kw)
    e_out = ember.segment_reduce(e, reduce, **e_kw)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert e_out.dtype == getattr(ember, str(t_out.dtype).split(".")[-1])
    np.testing.assert_allclose(np.asarray(e_out.detach()), t_out.detach().numpy(),
                               equal_nan=True, **TOL[dtype])
    # torch shares tied extremes' gradient only when it is positive: use positive gradients
    grad = rng.random(tuple(t_out.shape)) + 0.5 if grad is None else grad
    t_out.backward(torch.tensor(grad.astype(dtype)))
    e_out.backward(ember.tensor(grad.astype(dtype)))
    np.testing.assert_allclose(np.asarray(e.grad), t.grad.numpy(), equal_nan=True, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduce", REDUCES)
def test_lengths_and_offsets_match_torch(reduce, dtype):
    data = rng.standard_normal((9, 3))
    lengths = np.array([2, 0, 4, 1, 2])
    for initial in (None, 0.5, -1):
        _compare(data, reduce, dtype, lengths=lengths, initial=initial)
        _compare(data, reduce, dtype, offsets=np.array([0, 2, 2, 6, 7, 9]), initial=initial)
    # offsets need not cover the whole dimension
    _compare(data, reduce, dtype, offsets=np.array([1, 4, 6]))
    _compare(data[:, 0], reduce, dtype, lengths=lengths.astype(np.int32))


@pytest.mark.parametrize("reduce", REDUCES)
def test_inner_axis_with_rows_of_lengths(reduce):
    data = rng.standard_normal((2, 7, 3))
    lengths = np.array([[2, 3, 2], [0, 7, 0]])
    _compare(data, reduce, np.float64, lengths=lengths, axis=1)
    _compare(data, reduce, np.float64, lengths=lengths, axis=-2, initial=2.0)
    offsets = np.array([[0, 3, 7], [1, 1, 5]])
    _compare(data, reduce, np.float64, offsets=offsets, axis=1)
    split = rng.integers(0, 3, (7, 3))
    _compare(data.transpose(1, 2, 0).copy(), reduce, np.float64,
             lengths=np.stack([split, 2 - split], -1), axis=2)


@pytest.mark.parametrize("reduce", REDUCES)
def test_nan_inf_ties_and_zeros(reduce):
    nan, inf = np.nan, np.inf
    data = np.array([1., 3., 3., -2., 0., 5., nan, 2., 0., 0., 4., -inf, -inf, inf, 7.])
    lengths = np.array([3, 0, 2, 1, 2, 3, 2, 2])
    if reduce == "prod":
        # torch's product gradient divides the result by the element: NaN at infinities
        data[-4:] = [-3.0, -1.0, 6.0, 7.0]
    _compare(data, reduce, np.float64, lengths=lengths)
    _compare(data, reduce, np.float32, lengths=lengths, initial=2.0)


def test_tied_extremes_share_any_gradient_evenly():
    # torch shares only positive gradients between ties; ember shares every gradient
    data = ember.tensor([3.0, 3.0, 3.0, 1.0], requires_grad=True)
    ember.segment_reduce(data, "max", lengths=ember.tensor([4])).backward(ember.tensor([-6.0]))
    np.testing.assert_array_equal(np.asarray(data.grad), [-2.0, -2.0, -2.0, 0.0])


def test_non_contiguous_and_empty():
    data = rng.standard_normal((4, 6))
    t = torch.tensor(data).t()
    e = ember.tensor(data).t()
    lengths = [1, 5]
    for reduce in REDUCES:
        np.testing.assert_allclose(
            np.asarray(ember.segment_reduce(e, reduce, lengths=ember.tensor(lengths))),
            torch.segment_reduce(t, reduce, lengths=torch.tensor(lengths)).numpy())
    empty = ember.segment_reduce(ember.zeros(0, 2), "max", lengths=ember.tensor([0, 0]))
    np.testing.assert_array_equal(np.asarray(empty), np.full((2, 2), -np.inf))
    none = ember.segment_reduce(ember.zeros(0, 2), "sum",
                                lengths=ember.tensor([], dtype=ember.int64))
    assert none.shape == (0, 2)


def test_gradcheck_and_gradgradcheck():
    data = ember.tensor(rng.permutation(12).reshape(6, 2) / 4.0 + 0.5, requires_grad=True)
    lengths = ember.tensor([2, 0, 3, 1])
    for reduce in REDUCES:
        def fn(x):
            return ember.segment_reduce(x, reduce, lengths=lengths, initial=0.25)
        assert gradcheck(fn, (data,))
        assert gradgradcheck(fn, (data,))


def test_errors_match_torch():
    data = ember.randn(5, 2)
    t_data = torch.randn(5, 2)
    cases = [
        (dict(lengths=[2, 2]), RuntimeError),
        (dict(lengths=[-1, 6]), RuntimeError),
        (dict(lengths=[[2, 3]]), RuntimeError),
        (dict(lengths=[2, 3], axis=1), RuntimeError),
        (dict(indices=[0, 1]), RuntimeError),
        ({}, RuntimeError),
        (dict(lengths=[2, 3], axis=2), IndexError),
    ]
    for kwargs, exc in cases:
        t_kw = {k: torch.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        e_kw = {k: ember.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        with pytest.raises(exc) as expected:
            torch.segment_reduce(t_data, "sum", **t_kw)
        with pytest.raises(exc, match=re.escape(str(expected.value)[:40])):
            ember.segment_reduce(data, "sum", **e_kw)
    with pytest.raises(RuntimeError, match="reduce argument must be either"):
        ember.segment_reduce(data, "foo", lengths=ember.tensor([5]))
    with pytest.raises(NotImplementedError):
        ember.segment_reduce(data, "sum", lengths=ember.tensor([5.0]))
    with pytest.raises(NotImplementedError):
        ember.segment_reduce(data.long(), "sum", lengths=ember.tensor([5]))
    with pytest.raises(RuntimeError, match="offsets"):
        ember.segment_reduce(data, "sum", offsets=ember.tensor([0, 3, 2]))
    with pytest.raises(RuntimeError, match="offsets"):
        ember.segment_reduce(data, "sum", offsets=ember.tensor([0, 6]))
    # unsafe skips the checks: lengths summing short of the dimension read a prefix
    short = ember.segment_reduce(data, "sum", lengths=ember.tensor([2, 2]), unsafe=True)
    np.testing.assert_allclose(np.asarray(short), np.asarray(data[:4].reshape(2, 2, 2).sum(1)))


# ---------------------------------------------------------------- ember.range

@pytest.mark.parametrize("args, kwargs", [
    ((1, 4), {}), ((0, 1, 0.1), {}), ((0.0, 1.0, 0.1), dict(dtype="float32")),
    ((4, 1, -1), {}), ((1, 1), {}), ((-3, 7, 2.5), {}), ((1.5, 4), dict(dtype="int64")),
    ((1, 10, 3), dict(dtype="int32")), ((0, 1, 0.3), dict(dtype="float64")),
    ((-2.5, -7.9, -1.1), dict(dtype="int64")), ((0, 0.9, 0.1), {}),
])
def test_range_matches_torch(args, kwargs):
    t_kwargs = {k: getattr(torch, v) for k, v in kwargs.items()}
    e_kwargs = {k: getattr(ember, v) for k, v in kwargs.items()}
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        expected = torch.range(*args, **t_kwargs)
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        got = ember.range(*args, **e_kwargs)
    assert got.dtype == getattr(ember, str(expected.dtype).split(".")[-1])
    np.testing.assert_array_equal(np.asarray(got), expected.numpy())


def test_range_options_and_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = ember.range(ember.tensor(1), 3, requires_grad=True)
        assert x.requires_grad and x.tolist() == [1.0, 2.0, 3.0]
        out = ember.empty(7)
        assert ember.range(0, 2, out=out) is out and out.tolist() == [0.0, 1.0, 2.0]
        with pytest.raises(RuntimeError, match="step must be nonzero"):
            ember.range(1, 4, 0)
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            ember.range(4, 1)
        with pytest.raises(RuntimeError, match="unsupported range"):
            ember.range(0, float("inf"))
    with pytest.raises(TypeError, match="end"):
        ember.range(5)
