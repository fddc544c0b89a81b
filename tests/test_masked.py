"""ember.masked against torch.masked: values, dtypes and gradients, with full, partial,
broadcast and fully-masked-out masks."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 4, 5))
# row 1 of dim 1 fully masked out for every reduction over dim 2
MASK = RNG.random((3, 4, 5)) > 0.4
MASK[:, 1, :] = False
MASKS = [None, MASK, MASK[0, :, :], np.array(True), MASK[0, 0, :]]

REDUCTIONS = ["sum", "prod", "amax", "amin", "mean", "norm", "var", "std", "logsumexp"]


def _same(got, want, rtol=1e-10, atol=1e-12):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=rtol,
                               atol=atol, equal_nan=True)


def _call(lib, name, x, mask, *args, **kwargs):
    if mask is not None:
        kwargs["mask"] = lib.tensor(mask)
    if "dtype" in kwargs:
        kwargs["dtype"] = getattr(lib, kwargs["dtype"])
    return getattr(lib.masked, name)(x, *args, **kwargs)


def _both(name, data, mask, *args, grad=True, **kwargs):
    """Compare values and (for float64 data) the gradient of a weighted sum."""
    t = torch.tensor(data, requires_grad=grad)
    e = ember.tensor(data, requires_grad=grad)
    want = _call(torch, name, t, mask, *args, **kwargs)
    got = _call(ember, name, e, mask, *args, **kwargs)
    _same(got, want)
    if grad:
        w = RNG.standard_normal(tuple(want.shape))
        # NaN results (all masked out) have no meaningful gradient
        keep = ~np.isnan(want.detach().numpy())
        w = np.where(keep, w, 0.0)
        torch.where(torch.tensor(keep), want * torch.tensor(w), 0).sum().backward()
        ember.where(ember.tensor(keep), got * ember.tensor(w), 0.0).sum().backward()
        _same(e.grad, t.grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("mask", range(len(MASKS)))
def test_reductions_match_torch(name, mask):
    for dim, keepdim in [(2, False), ((0, 2), True), (None, False)]:
        _both(name, X, MASKS[mask], dim=dim, keepdim=keepdim)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "cumsum", "cumprod",
                                  "median"])
@pytest.mark.parametrize("mask", range(len(MASKS)))
def test_along_one_dim_match_torch(name, mask):
    for dim in (2, 0, -1):
        _both(name, X, MASKS[mask], dim)


@pytest.mark.parametrize("mask", range(len(MASKS)))
def test_argmax_argmin_normalize_logaddexp(mask):
    for name in ("argmax", "argmin"):
        _both(name, X, MASKS[mask], 2, grad=False)
        _both(name, X, MASKS[mask], 1, grad=False, keepdim=True, dtype="int64")
    _both("normalize", X, MASKS[mask], 2.0, 2)
    _both("normalize", X, MASKS[mask], 1.0, 0, eps=0.5)
    m = None if MASKS[mask] is None else {"input_mask": MASKS[mask], "other_mask": MASK}
    t, e = torch.tensor(X), ember.tensor(X)
    tm = {} if m is None else {k: torch.tensor(v) for k, v in m.items()}
    em = {} if m is None else {k: ember.tensor(v) for k, v in m.items()}
    _same(ember.masked.logaddexp(e, e.flip(0), **em), torch.masked.logaddexp(t, t.flip(0), **tm))


def test_norm_orders_and_var_corrections():
    for ord in (1.0, 3.0, float("inf"), -float("inf")):
        _both("norm", X, MASK, ord, 2, grad=ord != -float("inf"))
    for kwargs in ({"unbiased": False}, {"correction": 0}, {"correction": 2}):
        _both("var", X, MASK, 2, **kwargs)
        _both("std", X, MASK, (1, 2), **kwargs)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_integer_inputs(dtype):
    data = RNG.integers(0, 5, size=(4, 5)).astype(dtype)
    mask = MASK[0]
    for name in ("sum", "prod", "amax", "amin", "cumsum", "var"):
        args = (1,) if name == "cumsum" else ()
        if dtype == "bool" and name == "cumsum":
            continue        # torch has no bool cumsum kernel
        if dtype == "bool" and name == "var":
            with pytest.raises(RuntimeError, match="bool"):   # bool subtraction
                _call(ember, name, ember.tensor(data), mask)
            continue
        if dtype == "bool" and name in ("amax", "amin"):
            # no identity to fill in, as in torch
            with pytest.raises(NotImplementedError, match="identity"):
                _call(ember, name, ember.tensor(data), mask)
            continue
        want = _call(torch, name, torch.tensor(data), mask, *args)
        got = _call(ember, name, ember.tensor(data), mask, *args)
        _same(got, want, rtol=1e-6)
    # no identity for an integer median of a fully masked-out row
    with pytest.raises(ValueError, match="fully masked out"):
        ember.masked.median(ember.tensor(data.astype("int64")), 1, mask=ember.tensor(mask))


def test_errors():
    x = ember.ones(2, 3)
    with pytest.raises(ValueError, match="floating point or complex"):
        ember.masked.mean(ember.ones(2, dtype=ember.int64))
    with pytest.raises(IndexError, match="broadcastable mask"):
        ember.masked.sum(x, mask=ember.ones(1, 2, 3, dtype=ember.bool))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.masked.sum(x, 2)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        ember.masked.amax(x, (1, -1))
    with pytest.raises(RuntimeError, match="Only one of unbiased and correction"):
        ember.masked.var(x, unbiased=True, correction=1)
