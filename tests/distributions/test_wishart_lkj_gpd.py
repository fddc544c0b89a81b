"""Wishart, LKJCholesky and GeneralizedPareto against torch 2.13: values in float64 and
float32, sample shapes and moments (the random streams differ), gradients and errors."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as D
from ember.autograd import gradcheck

RNG = np.random.default_rng(11)
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])
VALUE = np.array([[1.5, 0.2, 0.0], [0.2, 2.0, 0.1], [0.0, 0.1, 1.0]])


def _t(a, dtype=ember.float64):
    return ember.tensor(np.asarray(a), dtype=dtype)


def _tt(a, dtype=torch.float64):
    return torch.tensor(np.asarray(a), dtype=dtype)


def _close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol,
                               atol=atol, equal_nan=True)


def _tol(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-5)


def _batch_cov():
    a = RNG.normal(size=(2, 3, 3))
    return a @ a.transpose(0, 2, 1) + 3 * np.eye(3)


# ----------------------------------------------------------------------------- Wishart

@pytest.mark.parametrize("param", ["covariance_matrix", "precision_matrix", "scale_tril"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_wishart_values(param, dtype):
    cov = _batch_cov()
    mat = np.linalg.cholesky(cov) if param == "scale_tril" else cov
    df = np.array([4.0, 3.5])
    edt, tdt = getattr(ember, dtype), getattr(torch, dtype)
    e = D.Wishart(_t(df, edt), **{param: _t(mat, edt)})
    t = TD.Wishart(_tt(df, tdt), **{param: _tt(mat, tdt)})
    tol = _tol(dtype) if dtype == "float64" else dict(rtol=1e-4, atol=1e-4)
    for name in ("mean", "mode", "variance", "covariance_matrix", "precision_matrix",
                 "scale_tril"):
        _close(getattr(e, name), getattr(t, name), **tol)
    values = np.stack([VALUE, 2 * VALUE, np.eye(3)])[:, None]  # (3, 1, 3, 3): broadcast
    _close(e.log_prob(_t(values, edt)), t.log_prob(_tt(values, tdt)), **tol)
    _close(e.entropy(), t.entropy(), **tol)
    assert e.batch_shape == (2,) and e.event_shape == (3, 3)


def test_wishart_number_df_expand_and_kl():
    e = D.Wishart(5.0, covariance_matrix=_t(COV))
    t = TD.Wishart(5.0, covariance_matrix=_tt(COV))
    _close(e.log_prob(_t(VALUE)), t.log_prob(_tt(VALUE)))
    big = e.expand((4, 2))
    assert big.batch_shape == (4, 2) and big.df.shape == (4, 2)
    _close(big.log_prob(_t(VALUE)), t.expand((4, 2)).log_prob(_tt(VALUE)))
    assert big.rsample((3,)).shape == (3, 4, 2, 3, 3)
    # the exponential-family Bregman divergence, as torch's fallback
    e2 = D.Wishart(6.0, scale_tril=_t(np.linalg.cholesky(2 * COV)))
    t2 = TD.Wishart(6.0, scale_tril=_tt(np.linalg.cholesky(2 * COV)))
    _close(D.kl_divergence(e, e2), TD.kl_divergence(t, t2), rtol=1e-8)


def test_wishart_sample_moments():
    ember.manual_seed(0)
    d = D.Wishart(_t([4.0, 7.5]), covariance_matrix=_t(COV))
    s = d.sample((20000,))
    assert s.shape == (20000, 2, 3, 3) and not s.requires_grad
    assert bool(D.constraints.positive_definite.check(s).all())
    n = s.numpy()
    t = TD.Wishart(_tt([4.0, 7.5]), covariance_matrix=_tt(COV))
    mean, var = t.mean.numpy(), t.variance.numpy()
    # standard errors sqrt(var / n) are below 0.04 here
    np.testing.assert_allclose(n.mean(0), mean, atol=6 * np.sqrt(var.max() / 20000))
    np.testing.assert_allclose(n.var(0), var, rtol=0.1)


def test_wishart_rsample_gradients():
    L = _t(np.linalg.cholesky(COV)).requires_grad_()

    def draw(scale_tril):
        ember.manual_seed(3)
        return D.Wishart(_t(5.0), scale_tril=scale_tril, validate_args=False).rsample((2,))

    assert gradcheck(draw, (L,))
    df = _t([4.5, 6.0]).requires_grad_()
    D.Wishart(df, covariance_matrix=_t(COV)).rsample().sum().backward()
    assert df.grad.shape == (2,) and bool(ember.isfinite(df.grad).all())


def test_wishart_log_prob_gradients_against_torch():
    df, cov, x = _t(4.5).requires_grad_(), _t(COV).requires_grad_(), _t(VALUE).requires_grad_()

    def log_prob(df, cov, x):
        sym = (cov + cov.mT) / 2
        return D.Wishart(df, covariance_matrix=sym).log_prob((x + x.mT) / 2)

    assert gradcheck(log_prob, (df, cov, x))
    assert gradcheck(lambda df, cov: D.Wishart(df, covariance_matrix=(cov + cov.mT) / 2)
                     .entropy(), (df, cov))
    D.Wishart(df, covariance_matrix=cov).log_prob(x).backward()
    tdf, tcov, tx = (_tt(4.5).requires_grad_(), _tt(COV).requires_grad_(),
                     _tt(VALUE).requires_grad_())
    TD.Wishart(tdf, covariance_matrix=tcov).log_prob(tx).backward()
    _close(df.grad, tdf.grad, rtol=1e-8)
    _close(x.grad, tx.grad, rtol=1e-8)


def test_wishart_errors():
    eye = ember.eye(3, dtype=ember.float64)
    with pytest.raises(AssertionError, match="Exactly one"):
        D.Wishart(4.0)
    with pytest.raises(AssertionError, match="Exactly one"):
        D.Wishart(4.0, covariance_matrix=eye, scale_tril=eye)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        D.Wishart(4.0, covariance_matrix=ember.ones(3, dtype=ember.float64))
    with pytest.raises(ValueError, match="greater than ndim - 1"):
        D.Wishart(2.0, covariance_matrix=eye)
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.Wishart(4.0, covariance_matrix=-eye)
    with pytest.warns(UserWarning, match="Low df"):
        D.Wishart(2.5, covariance_matrix=eye)
    with pytest.raises(ValueError, match="support"):
        D.Wishart(4.0, covariance_matrix=eye).log_prob(-eye)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a regular draw does not warn
        D.Wishart(4.0, covariance_matrix=eye).sample((5,))


# ----------------------------------------------------------------------------- LKJCholesky

@pytest.mark.parametrize("dim", [2, 3, 5])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lkj_log_prob(dim, dtype):
    conc = np.array([[0.5, 1.0, 3.0]])
    edt, tdt = getattr(ember, dtype), getattr(torch, dtype)
    t = TD.LKJCholesky(dim, _tt(conc, tdt))
    e = D.LKJCholesky(dim, _t(conc, edt))
    torch.manual_seed(0)
    values = t.sample((4,))
    _close(e.log_prob(_t(values.numpy(), edt)), t.log_prob(values), **_tol(dtype))
    assert e.batch_shape == (1, 3) and e.event_shape == (dim, dim)
    assert e.expand((2, 3)).sample((4,)).shape == (4, 2, 3, dim, dim)


def test_lkj_number_concentration_and_support():
    ember.manual_seed(1)
    e = D.LKJCholesky(4, 2.0)
    s = e.sample((100,))
    assert s.shape == (100, 4, 4) and e.batch_shape == ()
    assert bool(D.constraints.corr_cholesky.check(s).all())
    _close(e.log_prob(s), TD.LKJCholesky(4, 2.0).log_prob(torch.tensor(s.numpy())), rtol=1e-5,
           atol=1e-5)
    assert not e.has_rsample


@pytest.mark.parametrize("conc", [0.5, 1.0, 4.0])
def test_lkj_sample_moments(conc):
    # off-diagonal correlations of LKJ(eta) in D dimensions: mean 0 and variance
    # 1 / (2 eta + D - 1)
    ember.manual_seed(2)
    dim = 4
    L = D.LKJCholesky(dim, _t(conc)).sample((20000,))
    corr = (L @ L.mT).numpy()
    off = corr[:, np.tril_indices(dim, -1)[0], np.tril_indices(dim, -1)[1]]
    var = 1.0 / (2 * conc + dim - 1)
    np.testing.assert_allclose(off.mean(0), 0.0, atol=6 * math.sqrt(var / 20000))
    np.testing.assert_allclose(off.var(0), var, rtol=0.06)
    np.testing.assert_allclose(np.diagonal(corr, 0, 1, 2), 1.0, atol=1e-12)


def test_lkj_log_prob_gradients_against_torch():
    value = TD.CorrCholeskyTransform()(_tt(RNG.normal(size=3)))
    conc = _t([0.7, 2.0]).requires_grad_()
    assert gradcheck(lambda c: D.LKJCholesky(3, c).log_prob(_t(value.numpy())), (conc,))
    x = _t(RNG.normal(size=3)).requires_grad_()
    assert gradcheck(lambda v: D.LKJCholesky(3, _t(1.5)).log_prob(
        D.CorrCholeskyTransform()(v)), (x,))
    D.LKJCholesky(3, conc).log_prob(_t(value.numpy())).sum().backward()
    tconc = _tt([0.7, 2.0]).requires_grad_()
    TD.LKJCholesky(3, tconc).log_prob(value).sum().backward()
    _close(conc.grad, tconc.grad, rtol=1e-8)


def test_lkj_errors():
    with pytest.raises(ValueError, match="greater than or equal to 2"):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="concentration"):
        D.LKJCholesky(3, _t([1.0, -0.5]))
    with pytest.raises(ValueError, match="support"):
        D.LKJCholesky(3).log_prob(2 * ember.eye(3))


# ----------------------------------------------------------------------------- GeneralizedPareto

LOC = np.array([0.0, 1.0, -1.0, 0.5, 0.2])
SCALE = np.array([1.0, 2.0, 0.5, 1.0, 0.7])
CONC = np.array([0.0, 0.3, -0.5, -1.0, 1.2])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gpd_values(dtype):
    edt, tdt = getattr(ember, dtype), getattr(torch, dtype)
    e = D.GeneralizedPareto(_t(LOC, edt), _t(SCALE, edt), _t(CONC, edt))
    t = TD.GeneralizedPareto(_tt(LOC, tdt), _tt(SCALE, tdt), _tt(CONC, tdt))
    tol = _tol(dtype)
    for name in ("mean", "variance", "mode", "stddev"):
        _close(getattr(e, name), getattr(t, name), **tol)
    _close(e.entropy(), t.entropy(), **tol)
    _close(e.support.upper_bound, t.support.upper_bound, **tol)
    _close(e.support.lower_bound, t.support.lower_bound, **tol)
    u = np.array([[0.1, 0.5, 0.7, 0.99, 0.3], [0.0, 0.25, 0.5, 0.75, 0.999]])
    _close(e.icdf(_t(u, edt)), t.icdf(_tt(u, tdt)), **tol)
    x = LOC + SCALE * np.array([[0.4, 0.1, 0.9, 0.5, 3.0], [0.0, 2.0, 1.5, 0.99, 0.01]])
    # torch's log_prob (isclose against a float32 zero) only runs in float32
    t32 = TD.GeneralizedPareto(_tt(LOC, torch.float32), _tt(SCALE, torch.float32),
                               _tt(CONC, torch.float32))
    for name in ("log_prob", "cdf", "log_cdf", "log_survival_function"):
        _close(getattr(e, name)(_t(x, edt)).to(ember.float64),
               getattr(t32, name)(_tt(x, torch.float32)).double(), rtol=1e-5, atol=1e-5)


def test_gpd_numbers_expand_and_support():
    e = D.GeneralizedPareto(0.0, 1.0, -0.5)
    assert e.batch_shape == () and e.sample((3,)).shape == (3,)
    assert e.expand((2, 4)).rsample((3,)).shape == (3, 2, 4)
    assert float(e.support.upper_bound) == 2.0
    assert float(D.GeneralizedPareto(0.0, 1.0, 0.5).support.upper_bound) == math.inf
    s = D.GeneralizedPareto(_t(LOC), _t(SCALE), _t(CONC)).sample((200,))
    assert bool(D.GeneralizedPareto(_t(LOC), _t(SCALE), _t(CONC)).support.check(s).all())


@pytest.mark.parametrize("conc", [0.0, 0.2, -0.5])
def test_gpd_sample_moments(conc):
    ember.manual_seed(4)
    d = D.GeneralizedPareto(_t(0.5), _t(2.0), _t(conc))
    s = d.sample((100000,)).numpy()
    mean, var = float(d.mean), float(d.variance)
    np.testing.assert_allclose(s.mean(), mean, atol=6 * math.sqrt(var / 100000))
    np.testing.assert_allclose(s.var(), var, rtol=0.08)


def test_gpd_gradients_against_torch():
    params = [_t(v).requires_grad_() for v in ([0.1, -0.3], [1.5, 0.7], [0.0, 0.25])]

    def draw(loc, scale, conc):
        ember.manual_seed(5)
        return D.GeneralizedPareto(loc, scale, conc).rsample((3,))

    # the concentration-0 entry takes the exponential branch, constant in the concentration
    assert gradcheck(lambda loc, scale: draw(loc, scale, params[2]), tuple(params[:2]))
    conc = _t([-0.2, 0.25]).requires_grad_()
    assert gradcheck(lambda c: draw(params[0], params[1], c), (conc,))
    value = _t([[0.6, 1.0], [2.0, 0.1]])
    assert gradcheck(lambda l, s, c: D.GeneralizedPareto(l, s, c).log_prob(value),
                     (params[0], params[1], conc))
    u = np.array([0.3, 0.8])
    tparams = [_tt(v).requires_grad_() for v in ([0.1, -0.3], [1.5, 0.7], [-0.2, 0.25])]
    TD.GeneralizedPareto(*tparams).icdf(_tt(u)).sum().backward()
    D.GeneralizedPareto(params[0], params[1], conc).icdf(_t(u)).sum().backward()
    for e, t in zip((params[0], params[1], conc), tparams):
        _close(e.grad, t.grad, rtol=1e-8)


def test_gpd_errors():
    with pytest.raises(ValueError, match="scale"):
        D.GeneralizedPareto(0.0, _t([1.0, -1.0]), 0.1)
    with pytest.raises(ValueError, match="support"):
        D.GeneralizedPareto(_t(0.0), _t(1.0), _t(-0.5)).log_prob(_t(3.0))
    with pytest.raises(ValueError, match="support"):
        D.GeneralizedPareto(_t(1.0), _t(1.0), _t(0.5)).log_prob(_t(0.5))
    with pytest.raises(ValueError, match="numbers.Number"):
        D.GeneralizedPareto("a", 1.0, 0.1)


def test_empty_and_noncontiguous_parameters():
    cov = _batch_cov()
    # a batch of scale matrices taken with a stride (every other one of four)
    strided = _t(np.concatenate([cov, cov]))[::2]
    assert not strided.is_contiguous()
    e = D.Wishart(_t([4.0, 5.0]), covariance_matrix=strided)
    t = TD.Wishart(_tt([4.0, 5.0]), covariance_matrix=_tt(np.concatenate([cov, cov]))[::2])
    _close(e.log_prob(_t(VALUE)), t.log_prob(_tt(VALUE)))
    assert D.Wishart(_t(np.zeros(0) + 4.0), covariance_matrix=_t(COV)).sample().shape == (0, 3, 3)
    assert D.LKJCholesky(3, _t(np.ones((0, 2)))).sample((2,)).shape == (2, 0, 2, 3, 3)
    loc = _t(np.stack([LOC, LOC]).T)[:, 0]  # a column: strided
    g = D.GeneralizedPareto(loc, _t(SCALE), _t(CONC))
    tg = TD.GeneralizedPareto(_tt(LOC), _tt(SCALE), _tt(CONC))
    _close(g.icdf(_t(0.3)), tg.icdf(_tt(0.3)))
    empty = D.GeneralizedPareto(_t(np.zeros(0)), _t(np.ones(0)), _t(np.zeros(0)))
    assert empty.rsample((3,)).shape == (3, 0) and empty.entropy().shape == (0,)


def test_wishart_redraws_singular_samples():
    # df just above p - 1 rounds many float32 Bartlett draws to singular matrices
    with pytest.warns(UserWarning, match="Low df"):
        w = D.Wishart(ember.tensor(2.0001), covariance_matrix=ember.eye(3))
    ember.manual_seed(0)
    with pytest.warns(UserWarning, match="Singular sample"):
        raw = w.rsample((2000,), max_try_correction=0)
    ember.manual_seed(0)
    with pytest.warns(UserWarning, match="Singular sample"):
        fixed = w.rsample((2000,))
    ok_raw = D.constraints.positive_definite.check(raw).double().mean()
    ok_fixed = D.constraints.positive_definite.check(fixed).double().mean()
    assert float(ok_raw) < 0.6 < 0.95 < float(ok_fixed)
