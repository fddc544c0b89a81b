"""ember.distributions against scipy.stats (densities, cdf, moments, entropy), torch
(KL divergences, shapes, errors, reparameterised gradients) and sample moments."""
import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as TD

import ember
import ember.distributions as D

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 3.0, 4)
B = RNG.uniform(0.5, 3.0, 4)
P = RNG.uniform(0.1, 0.9, 4)

# name -> (ember/torch constructor args as arrays, scipy frozen distribution, values)
CASES = {
    "Normal": ((A - 1, B), st.norm(A - 1, B), RNG.normal(size=4)),
    "Laplace": ((A - 1, B), st.laplace(A - 1, B), RNG.normal(size=4)),
    "Uniform": ((A - 1, A + B), st.uniform(A - 1, B + 1), A - 1 + 0.5 * B),
    "Exponential": ((A,), st.expon(scale=1 / A), RNG.uniform(0.1, 2, 4)),
    "Gamma": ((A, B), st.gamma(A, scale=1 / B), RNG.uniform(0.1, 2, 4)),
    "Beta": ((A, B), st.beta(A, B), RNG.uniform(0.05, 0.95, 4)),
}
HAS_CDF = {"Normal", "Laplace", "Uniform", "Exponential", "Gamma"}
HAS_ICDF = HAS_CDF - {"Gamma"}     # as torch: no Gamma.icdf


def _t(a):
    return ember.tensor(np.asarray(a, dtype=np.float64))


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_scipy(name):
    args, ref, values = CASES[name]
    d = getattr(D, name)(*[_t(a) for a in args])
    v = _t(values)
    np.testing.assert_allclose(d.log_prob(v).numpy(), ref.logpdf(values), rtol=1e-10)
    np.testing.assert_allclose(d.mean.numpy(), ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(d.variance.numpy(), ref.var(), rtol=1e-10)
    np.testing.assert_allclose(d.stddev.numpy(), ref.std(), rtol=1e-10)
    np.testing.assert_allclose(d.entropy().numpy(), ref.entropy(), rtol=1e-10)
    if name in HAS_CDF:
        np.testing.assert_allclose(d.cdf(v).numpy(), ref.cdf(values), rtol=1e-10)
    if name in HAS_ICDF:
        q = np.array([0.1, 0.3, 0.6, 0.9])
        np.testing.assert_allclose(d.icdf(_t(q)).numpy(), ref.ppf(q), rtol=1e-9)
    s = d.sample((20000,)).numpy()
    assert s.shape == (20000, 4)
    for j in range(4):
        assert st.kstest(s[:, j], _frozen_cdf(ref, j)).pvalue > 1e-4


def _frozen_cdf(ref, j):
    args = [np.asarray(a)[j] if np.ndim(a) else a for a in ref.args]
    kwds = {k: np.asarray(v)[j] if np.ndim(v) else v for k, v in ref.kwds.items()}
    return ref.dist(*args, **kwds).cdf


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_and_rsample_grads(name):
    args, _, values = CASES[name]
    d = getattr(D, name)(*[_t(a) for a in args])
    td = getattr(TD, name)(*[torch.tensor(a) for a in args])
    assert tuple(d.batch_shape) == tuple(td.batch_shape)
    assert tuple(d.event_shape) == tuple(td.event_shape)
    np.testing.assert_allclose(d.mode.numpy(), td.mode.numpy(), rtol=1e-10)
    assert tuple(d.expand((3, 4)).sample().shape) == (3, 4)
    # log_prob gradients in the parameters match torch's
    leaves = [_t(a).requires_grad_() for a in args]
    tleaves = [torch.tensor(a, requires_grad=True) for a in args]
    getattr(D, name)(*leaves).log_prob(_t(values)).sum().backward()
    getattr(TD, name)(*tleaves).log_prob(torch.tensor(values)).sum().backward()
    for x, y in zip(leaves, tleaves):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-8)
    # rsample is differentiable: d E[sample] / d params matches the mean's gradient
    leaves = [_t(a).requires_grad_() for a in args]
    dd = getattr(D, name)(*[x.expand(20000, 4) for x in leaves])
    dd.rsample().mean(0).sum().backward()
    mleaves = [_t(a).requires_grad_() for a in args]
    getattr(D, name)(*mleaves).mean.sum().backward()
    for x, y in zip(leaves, mleaves):
        want = np.zeros(4) if y.grad is None else y.grad.numpy()  # the mean may ignore scale
        np.testing.assert_allclose(x.grad.numpy(), want, rtol=0.1, atol=0.05)


def test_bernoulli_and_categorical_against_torch():
    for kw in ({"probs": P}, {"logits": A - 1.5}):
        d = D.Bernoulli(**{k: _t(v) for k, v in kw.items()})
        td = TD.Bernoulli(**{k: torch.tensor(v) for k, v in kw.items()})
        v = np.array([0.0, 1.0, 1.0, 0.0])
        np.testing.assert_allclose(d.log_prob(_t(v)).numpy(), td.log_prob(torch.tensor(v)))
        np.testing.assert_allclose(d.entropy().numpy(), td.entropy().numpy())
        np.testing.assert_allclose(d.variance.numpy(), td.variance.numpy())
        assert d.enumerate_support().shape == td.enumerate_support().shape
    probs = RNG.uniform(0.1, 1, (3, 5))
    d, td = D.Categorical(probs=_t(probs)), TD.Categorical(probs=torch.tensor(probs))
    v = np.array([[0, 4, 2], [1, 1, 3]])
    np.testing.assert_allclose(d.log_prob(ember.tensor(v)).numpy(),
                               td.log_prob(torch.tensor(v)).numpy())
    np.testing.assert_allclose(d.entropy().numpy(), td.entropy().numpy())
    assert d.mode.tolist() == td.mode.tolist()
    s = D.Categorical(probs=_t(probs[0])).sample((40000,)).numpy()
    np.testing.assert_allclose(np.bincount(s, minlength=5) / s.size,
                               probs[0] / probs[0].sum(), atol=0.015)
    dl = D.Categorical(logits=_t(np.log(probs)))
    np.testing.assert_allclose(dl.probs.numpy(), td.probs.numpy())
    b = D.Bernoulli(probs=_t(P)).sample((40000,)).numpy()
    np.testing.assert_allclose(b.mean(0), P, atol=0.015)


def test_dirichlet_against_scipy():
    alpha = np.array([0.7, 2.0, 3.5])
    d = D.Dirichlet(_t(alpha))
    x = np.array([0.2, 0.3, 0.5])
    ref = st.dirichlet(alpha)
    np.testing.assert_allclose(float(d.log_prob(_t(x))), ref.logpdf(x), rtol=1e-10)
    np.testing.assert_allclose(float(d.entropy()), ref.entropy(), rtol=1e-10)
    np.testing.assert_allclose(d.mean.numpy(), ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(d.variance.numpy(), ref.var(), rtol=1e-10)
    td = TD.Dirichlet(torch.tensor(alpha))
    np.testing.assert_allclose(d.mode.numpy(), td.mode.numpy())
    low = D.Dirichlet(_t([0.3, 0.5, 0.2])).mode.numpy()
    np.testing.assert_allclose(low, TD.Dirichlet(torch.tensor([0.3, 0.5, 0.2])).mode.numpy())
    c = _t(alpha).requires_grad_()
    D.Dirichlet(c.expand(20000, 3)).rsample().mean(0)[0].backward()
    m = _t(alpha).requires_grad_()
    D.Dirichlet(m).mean[0].backward()
    np.testing.assert_allclose(c.grad.numpy(), m.grad.numpy(), atol=0.01)


KL_PAIRS = [
    ("Normal", "Normal"), ("Laplace", "Laplace"), ("Uniform", "Uniform"),
    ("Exponential", "Exponential"), ("Gamma", "Gamma"), ("Beta", "Beta"),
    ("Normal", "Laplace"), ("Laplace", "Normal"), ("Exponential", "Normal"),
    ("Exponential", "Gamma"), ("Gamma", "Normal"), ("Gamma", "Exponential"),
    ("Beta", "Normal"), ("Beta", "Gamma"), ("Beta", "Exponential"), ("Beta", "Uniform"),
    ("Uniform", "Normal"), ("Uniform", "Gamma"), ("Uniform", "Exponential"),
    ("Uniform", "Beta"), ("Normal", "Gamma"), ("Gamma", "Uniform"),
]
KL_ARGS = {"Normal": (A - 1, B), "Laplace": (A - 1, B), "Uniform": (0.1 * P, 0.1 * P + 0.5),
           "Exponential": (A,), "Gamma": (A, B), "Beta": (A, B)}


@pytest.mark.parametrize("pair", KL_PAIRS, ids="-".join)
def test_kl_matches_torch(pair):
    p_name, q_name = pair
    q_args = KL_ARGS[q_name] if q_name != "Uniform" else (np.zeros(4), np.full(4, 2.0))
    p = [_t(a).requires_grad_() for a in KL_ARGS[p_name]]
    tp = [torch.tensor(a, requires_grad=True) for a in KL_ARGS[p_name]]
    got = D.kl_divergence(getattr(D, p_name)(*p), getattr(D, q_name)(*[_t(a) for a in q_args]))
    want = TD.kl_divergence(getattr(TD, p_name)(*tp),
                            getattr(TD, q_name)(*[torch.tensor(a) for a in q_args]))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-9)
    if np.isfinite(want.detach().numpy()).all():
        got.sum().backward()
        want.sum().backward()
        for x, y in zip(p, tp):
            # torch's own digamma differs from scipy's in the 7th digit
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_kl_discrete_and_dirichlet():
    p, q = RNG.uniform(0.05, 1, (2, 5)), RNG.uniform(0.05, 1, (2, 5))
    np.testing.assert_allclose(
        D.kl_divergence(D.Categorical(probs=_t(p)), D.Categorical(probs=_t(q))).numpy(),
        TD.kl_divergence(TD.Categorical(probs=torch.tensor(p)),
                         TD.Categorical(probs=torch.tensor(q))).numpy())
    pp = np.array([0.0, 0.3, 1.0]); qq = np.array([0.5, 0.0, 1.0])
    np.testing.assert_allclose(
        D.kl_divergence(D.Bernoulli(probs=_t(pp)), D.Bernoulli(probs=_t(qq))).numpy(),
        TD.kl_divergence(TD.Bernoulli(probs=torch.tensor(pp)),
                         TD.Bernoulli(probs=torch.tensor(qq))).numpy())
    np.testing.assert_allclose(
        D.kl_divergence(D.Dirichlet(_t(p)), D.Dirichlet(_t(q))).numpy(),
        TD.kl_divergence(TD.Dirichlet(torch.tensor(p)), TD.Dirichlet(torch.tensor(q))).numpy())


def test_register_kl_and_missing_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return ember.zeros_like(p.loc)

    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(3.0, 1.0))) == 0.0
    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Laplace(0.0, 1.0))) > 0
    with pytest.raises(NotImplementedError, match="Bernoulli"):
        D.kl_divergence(D.Bernoulli(0.3), D.Laplace(0.0, 1.0))
    # two exponential families fall back to the Bregman divergence, as in torch
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Bernoulli(0.3), D.Normal(0.0, 1.0))
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


def test_validation_errors_like_torch():
    with pytest.raises(ValueError, match="scale"):
        D.Normal(_t([0.0]), _t([-1.0]))
    with pytest.raises(ValueError, match="low>= high"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="support"):
        D.Exponential(_t([1.0])).log_prob(_t([-1.0]))
    with pytest.raises(ValueError, match="not both"):
        D.Bernoulli(probs=0.3, logits=0.1)
    with pytest.raises(ValueError, match="one-dimensional"):
        D.Dirichlet(ember.tensor(1.0))
    assert D.Normal(_t([0.0]), _t([-1.0]), validate_args=False).scale.tolist() == [-1.0]
    with pytest.raises(ValueError, match="broadcastable"):
        D.Normal(_t([0.0, 1.0]), _t([1.0, 1.0])).log_prob(_t([0.0, 1.0, 2.0]))


def test_shapes_scalars_and_repr():
    d = D.Normal(0.0, 1.0)
    assert tuple(d.batch_shape) == () and tuple(d.sample().shape) == ()
    assert tuple(d.sample((2, 3)).shape) == (2, 3)
    assert repr(D.Normal(_t([0.0]), _t([1.0]))).startswith("Normal(loc:")
    g = D.Gamma(_t(np.ones((2, 3))), 1.0)
    assert tuple(g.rsample((5,)).shape) == (5, 2, 3)
    assert tuple(D.Beta(0.5, 0.5).sample((7,)).shape) == (7,)
    t = _t(np.ones((3, 4))).T  # a transposed parameter
    assert tuple(D.Normal(t, 1.0).sample().shape) == (4, 3)
    assert D.Normal(_t(np.zeros(0)), _t(np.ones(0))).sample().shape == (0,)
    np.testing.assert_allclose(float(D.Normal(0.0, 1.0).perplexity()),
                               np.exp(st.norm().entropy()))


def test_gamma_rsample_never_returns_zero():
    # tiny concentrations underflow to 0 in float32; PyTorch clamps to the smallest normal
    ember.manual_seed(0)
    concentration = ember.tensor([1e-3, 1e-3], requires_grad=True)
    s = D.Gamma(concentration, 1.0).rsample((2000,))
    assert float(s.min()) >= 2.0 ** -126
    s.sum().backward()
    assert bool(ember.isfinite(concentration.grad).all())
