"""MultivariateNormal against scipy.stats (density, entropy) and torch (every
parameterisation, derived matrices, gradients, KL, errors), and sample moments."""
import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as TD

import ember
import ember.distributions as D
from grad_oracle import check_gradients

RNG = np.random.default_rng(3)
_A = RNG.standard_normal((3, 4, 4))
COV = _A @ _A.transpose(0, 2, 1) + 4 * np.eye(4)
LOC = RNG.standard_normal((3, 4))
X = RNG.standard_normal((5, 3, 4))
MATRICES = {"covariance_matrix": COV, "precision_matrix": np.linalg.inv(COV),
            "scale_tril": np.linalg.cholesky(COV)}


def _pair(kind, loc=LOC, matrix=None):
    matrix = MATRICES[kind] if matrix is None else matrix
    le, me = ember.tensor(loc, requires_grad=True), ember.tensor(matrix, requires_grad=True)
    lt, mt = torch.tensor(loc, requires_grad=True), torch.tensor(matrix, requires_grad=True)
    return (D.MultivariateNormal(le, **{kind: me}), (le, me),
            TD.MultivariateNormal(lt, **{kind: mt}), (lt, mt))


def test_density_and_entropy_match_scipy():
    d = D.MultivariateNormal(ember.tensor(LOC[1]), covariance_matrix=ember.tensor(COV[1]))
    ref = st.multivariate_normal(LOC[1], COV[1])
    np.testing.assert_allclose(d.log_prob(ember.tensor(X[:, 1])).numpy(), ref.logpdf(X[:, 1]),
                               rtol=1e-12)
    np.testing.assert_allclose(float(d.entropy()), ref.entropy(), rtol=1e-12)


@pytest.mark.parametrize("kind", sorted(MATRICES))
def test_parameterisations_match_torch(kind):
    de, (le, me), dt, (lt, mt) = _pair(kind)
    value_e, value_t = ember.tensor(X), torch.tensor(X)
    out_e = de.log_prob(value_e).sum() + de.entropy().sum()
    out_t = dt.log_prob(value_t).sum() + dt.entropy().sum()
    np.testing.assert_allclose(float(out_e.detach()), float(out_t.detach()), rtol=1e-12)
    for name in ("covariance_matrix", "precision_matrix", "scale_tril", "variance", "mean",
                 "mode"):
        np.testing.assert_allclose(getattr(de, name).detach().numpy(),
                                   getattr(dt, name).detach().numpy(), rtol=1e-10, atol=1e-12)
    assert de.batch_shape == dt.batch_shape and de.event_shape == dt.event_shape
    out_e.backward()
    out_t.backward()
    np.testing.assert_allclose(le.grad.numpy(), lt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(me.grad.numpy(), mt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_broadcast_batch_shapes():
    # one covariance for a batch of means, and a batch of covariances for one mean
    d = D.MultivariateNormal(ember.tensor(LOC), covariance_matrix=ember.tensor(COV[0]))
    t = TD.MultivariateNormal(torch.tensor(LOC), covariance_matrix=torch.tensor(COV[0]))
    assert d.batch_shape == (3,)
    np.testing.assert_allclose(d.log_prob(ember.tensor(X)).numpy(),
                               t.log_prob(torch.tensor(X)).numpy(), rtol=1e-12)
    d = D.MultivariateNormal(ember.tensor(LOC[0]), scale_tril=ember.tensor(MATRICES["scale_tril"]))
    assert d.batch_shape == (3,) and d.loc.shape == (3, 4)
    e = d.expand((2, 3))
    assert e.batch_shape == (2, 3) and e.covariance_matrix.shape == (2, 3, 4, 4)
    assert e.entropy().shape == (2, 3)


def test_rsample_is_reparameterised_and_moments_match():
    ember.manual_seed(0)
    loc = ember.tensor(LOC[2], requires_grad=True)
    tril = ember.tensor(MATRICES["scale_tril"][2], requires_grad=True)
    d = D.MultivariateNormal(loc, scale_tril=tril)
    s = d.rsample((40000,))
    assert s.shape == (40000, 4) and s.requires_grad
    s.mean(0).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), np.ones(4))
    draws = d.sample((40000,)).numpy()
    assert not d.sample().requires_grad
    np.testing.assert_allclose(draws.mean(0), LOC[2], atol=0.06)
    np.testing.assert_allclose(np.cov(draws.T), COV[2], atol=0.1 * np.abs(COV[2]).max())


def test_gradcheck_log_prob():
    value = X[:2, 0]

    def fn(lib, loc, tril_raw):
        tril = lib.tril(tril_raw, -1) + lib.diag_embed(tril_raw.diagonal().exp())
        dist = (D if lib is ember else TD).MultivariateNormal(loc, scale_tril=tril)
        return dist.log_prob(lib.tensor(value, dtype=loc.dtype))

    check_gradients(fn, LOC[0], RNG.standard_normal((4, 4)) * 0.3)


def test_kl_matches_torch():
    pe, (ple, pme), pt, (plt, pmt) = _pair("covariance_matrix")
    qe, _, qt, _ = _pair("scale_tril", loc=LOC[::-1].copy(), matrix=np.linalg.cholesky(COV[0]))
    kl_e, kl_t = D.kl_divergence(pe, qe), TD.kl_divergence(pt, qt)
    np.testing.assert_allclose(kl_e.detach().numpy(), kl_t.detach().numpy(), rtol=1e-10)
    kl_e.sum().backward()
    kl_t.sum().backward()
    np.testing.assert_allclose(pme.grad.numpy(), pmt.grad.numpy(), rtol=1e-8, atol=1e-12)
    assert float(D.kl_divergence(pe, pe).abs().max()) < 1e-12
    other = D.MultivariateNormal(ember.zeros(3, dtype=ember.float64),
                                 ember.eye(3, dtype=ember.float64))
    with pytest.raises(ValueError, match="different event shapes"):
        D.kl_divergence(pe, other)


def test_float32_log_prob():
    d = D.MultivariateNormal(ember.tensor(LOC, dtype=ember.float32),
                             ember.tensor(COV, dtype=ember.float32))
    t = TD.MultivariateNormal(torch.tensor(LOC, dtype=torch.float32),
                              torch.tensor(COV, dtype=torch.float32))
    got = d.log_prob(ember.tensor(X, dtype=ember.float32))
    assert got.dtype == ember.float32
    np.testing.assert_allclose(got.numpy(), t.log_prob(torch.tensor(X, dtype=torch.float32)),
                               rtol=1e-5)


def test_bad_arguments():
    loc = ember.zeros(2)
    with pytest.raises(ValueError, match="Exactly one of"):
        D.MultivariateNormal(loc)
    with pytest.raises(ValueError, match="Exactly one of"):
        D.MultivariateNormal(loc, ember.eye(2), scale_tril=ember.eye(2))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.MultivariateNormal(ember.tensor(0.0), ember.eye(1))
    with pytest.raises(ValueError, match="at least two-dimensional"):
        D.MultivariateNormal(loc, ember.ones(2))
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.MultivariateNormal(loc, ember.tensor([[1.0, 2.0], [2.0, 1.0]]), validate_args=True)
    with pytest.raises(ValueError, match="scale_tril"):
        D.MultivariateNormal(loc, scale_tril=ember.tensor([[1.0, 1.0], [0.0, 1.0]]),
                             validate_args=True)
    with pytest.raises(RuntimeError):       # not positive definite: the Cholesky fails
        D.MultivariateNormal(loc, ember.tensor([[1.0, 2.0], [2.0, 1.0]]), validate_args=False)
