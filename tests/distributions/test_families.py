"""The families added on top of the core ones (heavy-tailed, transformed, counts,
relaxed) against torch 2.13 in float64: log_prob, moments, entropy, cdf/icdf, shapes,
log_prob gradients, argument validation and sample moments."""

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as D

RNG = np.random.default_rng(1)
A = RNG.uniform(0.5, 3.0, 4)
B = RNG.uniform(0.5, 3.0, 4)
P = RNG.uniform(0.1, 0.9, 4)
SIMPLEX = RNG.dirichlet(np.ones(3), size=2)
POS = RNG.uniform(0.1, 2.5, 4)
COUNTS = np.array([0.0, 1.0, 3.0, 2.0])
TEMP = np.array(0.7)


def _t(a):
    return ember.tensor(np.asarray(a, dtype=np.float64))


# name -> (positional args, keyword args, values for log_prob); arrays become tensors
CASES = {
    "Cauchy": ((A - 1, B), {}, RNG.normal(size=4)),
    "StudentT": ((A + 1.5, A - 1, B), {}, RNG.normal(size=4)),
    "Chi2": ((A,), {}, POS),
    "LogNormal": ((A - 1, B), {}, POS),
    "HalfNormal": ((B,), {}, POS),
    "HalfCauchy": ((B,), {}, POS),
    "Gumbel": ((A - 1, B), {}, RNG.normal(size=4)),
    "Weibull": ((B, A + 1), {}, POS),
    "Pareto": ((B, A + 2), {}, B + POS),
    "Kumaraswamy": ((A, B), {}, P),
    "InverseGamma": ((A + 2, B), {}, POS),
    "Poisson": ((A,), {}, COUNTS),
    "Binomial": ((np.full(4, 5.0),), {"probs": P}, COUNTS),
    "Geometric": ((), {"probs": P}, COUNTS),
    "NegativeBinomial": ((A,), {"logits": P - 0.5}, COUNTS),
    "OneHotCategorical": ((), {"probs": SIMPLEX}, np.eye(3)[[0, 2]]),
    "RelaxedBernoulli": ((TEMP,), {"probs": P}, P[::-1].copy()),
    "RelaxedOneHotCategorical": ((TEMP,), {"logits": np.log(SIMPLEX)}, SIMPLEX[::-1].copy()),
    "FisherSnedecor": ((A + 4.5, B + 4.5), {}, POS),
    "VonMises": ((A - 1, B), {}, RNG.normal(size=4) * 2),
    "ContinuousBernoulli": ((), {"probs": np.array([0.1, 0.4995, 0.7, 0.95])}, P),
}
CASES["LogisticNormal"] = ((A[:3] - 1, B[:3]), {}, np.append(SIMPLEX[0] * 0.8, 0.2))
# as torch: no entropy for these (Poisson's raises, see test_value_validation_and_errors)
NO_ENTROPY = {"LogisticNormal", "RelaxedBernoulli", "RelaxedOneHotCategorical", "Poisson",
              "NegativeBinomial", "FisherSnedecor", "VonMises"}
NO_MOMENTS = {"LogisticNormal", "RelaxedBernoulli", "RelaxedOneHotCategorical"}
HAS_CDF = {"Cauchy", "HalfNormal", "HalfCauchy", "Gumbel", "Weibull", "Pareto", "LogNormal",
           "Chi2", "Kumaraswamy", "InverseGamma", "ContinuousBernoulli"}
HAS_ICDF = {"Cauchy", "HalfNormal", "HalfCauchy", "Gumbel", "Weibull", "Pareto", "LogNormal",
            "ContinuousBernoulli"}
HAS_MODE = set(CASES) - NO_MOMENTS - {"ContinuousBernoulli"}


def _build(module, name, convert):
    args, kwargs, _ = CASES[name]
    return getattr(module, name)(*[convert(a) for a in args],
                                 **{k: convert(v) for k, v in kwargs.items()})


def _pair(name):
    return _build(D, name, _t), _build(TD, name, lambda a: torch.tensor(np.asarray(a, float)))


def _close(a, b, rtol=1e-9, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_torch(name):
    d, td = _pair(name)
    assert tuple(d.batch_shape) == tuple(td.batch_shape)
    assert tuple(d.event_shape) == tuple(td.event_shape)
    assert d.has_rsample == td.has_rsample
    value = CASES[name][2]
    _close(d.log_prob(_t(value)), td.log_prob(torch.tensor(np.asarray(value, float))))
    if name not in NO_MOMENTS:
        _close(d.mean, td.mean)
        _close(d.variance, td.variance)
    if name in HAS_MODE:
        _close(d.mode, td.mode)
    if name not in NO_ENTROPY:
        _close(d.entropy(), td.entropy())
    if name in HAS_CDF:
        _close(d.cdf(_t(value)), td.cdf(torch.tensor(np.asarray(value, float))))
    if name in HAS_ICDF:
        q = np.array([0.1, 0.3, 0.6, 0.9])
        _close(d.icdf(_t(q)), td.icdf(torch.tensor(q)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes(name):
    d, td = _pair(name)
    assert tuple(d.sample().shape) == tuple(td.sample().shape)
    assert tuple(d.sample((5, 2)).shape) == tuple(td.sample((5, 2)).shape)
    if d.has_rsample:
        assert tuple(d.rsample((3,)).shape) == tuple(td.rsample((3,)).shape)
    batch = (2,) + tuple(d.batch_shape)
    e, te = d.expand(batch), td.expand(batch)
    assert type(e) is type(d)
    assert tuple(e.batch_shape) == tuple(te.batch_shape)
    assert tuple(e.sample((3,)).shape) == tuple(te.sample((3,)).shape)
    value = CASES[name][2]
    _close(e.log_prob(_t(value)), te.log_prob(torch.tensor(np.asarray(value, float))))


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_gradients_match_torch(name):
    args, kwargs, value = CASES[name]
    leaves = [_t(a).requires_grad_() for a in args] + [_t(v).requires_grad_()
                                                        for v in kwargs.values()]
    tleaves = [torch.tensor(np.asarray(a, float), requires_grad=True) for a in args] + [
        torch.tensor(np.asarray(v, float), requires_grad=True) for v in kwargs.values()]
    n = len(args)
    getattr(D, name)(*leaves[:n], **dict(zip(kwargs, leaves[n:]))).log_prob(
        _t(value)).sum().backward()
    getattr(TD, name)(*tleaves[:n], **dict(zip(kwargs, tleaves[n:]))).log_prob(
        torch.tensor(np.asarray(value, float))).sum().backward()
    for x, y in zip(leaves, tleaves):
        if y.grad is None:
            assert x.grad is None or not x.grad.numpy().any()
        else:
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-8, atol=1e-12)


# name -> the batch element's exact mean and variance are compared with 40000 draws
SAMPLED = ["Cauchy", "StudentT", "Chi2", "LogNormal", "HalfNormal", "Gumbel", "Weibull",
           "Pareto", "Kumaraswamy", "InverseGamma", "Poisson", "Binomial", "Geometric",
           "NegativeBinomial", "OneHotCategorical", "FisherSnedecor", "ContinuousBernoulli"]


@pytest.mark.parametrize("name", SAMPLED)
def test_sample_moments(name):
    ember.manual_seed(0)
    d, _ = _pair(name)
    s = d.sample((40000,)).numpy()
    if name == "Cauchy":   # no moments: compare the median and quartiles instead
        q = np.quantile(s, [0.25, 0.5, 0.75], axis=0)
        expected = d.icdf(_t(np.array([[0.25], [0.5], [0.75]]))).numpy()
        np.testing.assert_allclose(q, expected, atol=0.1 * B.max())
        return
    mean, var = d.mean.numpy(), d.variance.numpy()
    finite = np.isfinite(var)
    se = np.sqrt(np.where(finite, var, 1.0) / s.shape[0])
    assert np.all(np.abs(s.mean(0) - mean)[finite] < 6 * se[finite] + 1e-9)
    if name not in ("Pareto", "InverseGamma", "StudentT", "LogNormal", "FisherSnedecor"):
        # (the heavy-tailed ones have no finite fourth moment here)
        np.testing.assert_allclose(s.var(0), var, rtol=0.1)


@pytest.mark.parametrize("name,args,kwargs,message", [
    ("Cauchy", (0.0, -1.0), {}, "scale"),
    ("StudentT", (-1.0,), {}, "df"),
    ("HalfNormal", (0.0,), {}, "scale"),
    ("Pareto", (1.0, -2.0), {}, "rate"),   # as torch: its Exponential base checks first
    ("Poisson", (-1.0,), {}, "rate"),
    ("Binomial", (5,), {"probs": 1.5}, "probs"),
    ("Geometric", (), {"probs": 0.0}, "probs"),
    ("NegativeBinomial", (-1.0,), {"probs": 0.5}, "total_count"),
    ("Weibull", (1.0, 0.0), {}, "concentration"),
])
def test_argument_validation(name, args, kwargs, message):
    with pytest.raises(ValueError, match=f"Expected parameter {message}"):
        getattr(D, name)(*args, **kwargs)
    with pytest.raises(ValueError, match=f"Expected parameter {message}"):
        getattr(TD, name)(*args, **kwargs)


def test_value_validation_and_errors():
    with pytest.raises(ValueError, match="support"):
        D.Poisson(_t([1.0])).log_prob(_t([0.5]))
    with pytest.raises(ValueError, match="support"):
        D.HalfNormal(_t([1.0])).log_prob(_t([-0.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Binomial(5, probs=_t([0.3]), logits=_t([0.1]))
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        D.Multinomial(_t([3.0]), probs=_t([0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        D.Binomial(_t([2.0, 3.0]), probs=_t([0.5, 0.5])).entropy()
    with pytest.raises(NotImplementedError):
        D.Poisson(_t([1.0])).entropy()   # as torch: no expected carrier measure


def test_multinomial_matches_torch():
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    d = D.Multinomial(6, probs=_t(probs))
    td = TD.Multinomial(6, probs=torch.tensor(probs))
    value = np.array([[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]])
    _close(d.log_prob(_t(value)), td.log_prob(torch.tensor(value)))
    # torch evaluates lgamma(total_count + 1) on an integer tensor, in float32
    _close(d.entropy(), td.entropy(), rtol=1e-6)
    _close(d.mean, td.mean)
    _close(d.variance, td.variance)
    s = d.sample((4000,))
    assert tuple(s.shape) == (4000, 2, 3)
    assert bool((s.sum(-1) == 6).all())
    np.testing.assert_allclose(s.numpy().mean(0), 6 * probs, atol=0.15)
    assert tuple(d.expand((5, 2)).sample().shape) == (5, 2, 3)


def test_enumerate_support_matches_torch():
    for name in ("Binomial", "OneHotCategorical"):
        d, td = _pair(name)
        for expand in (True, False):
            _close(d.enumerate_support(expand), td.enumerate_support(expand))


def test_studentt_rsample_gradient_is_pathwise():
    # d E[X] / d loc = 1 and d E[X] / d scale ~ 0 (mean zero noise) for df > 1
    loc = _t([0.5]).requires_grad_()
    scale = _t([2.0]).requires_grad_()
    ember.manual_seed(0)
    D.StudentT(_t([5.0]), loc, scale).rsample((20000,)).mean().backward()
    assert abs(float(loc.grad) - 1.0) < 1e-12
    assert abs(float(scale.grad)) < 0.05


def test_straight_through_gradient():
    probs = _t([[0.2, 0.3, 0.5]]).requires_grad_()
    d = D.OneHotCategoricalStraightThrough(probs=probs)
    sample = d.rsample((4,))
    assert bool(((sample == 0) | (sample == 1)).all())
    (sample * _t([1.0, 2.0, 3.0])).sum().backward()
    tprobs = torch.tensor([[0.2, 0.3, 0.5]], dtype=torch.float64, requires_grad=True)
    td = TD.OneHotCategoricalStraightThrough(probs=tprobs)
    (td.rsample((4,)) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    _close(probs.grad, tprobs.grad)


def test_relaxed_rsample_is_differentiable():
    logits = _t([[0.1, -0.4, 0.3]]).requires_grad_()
    s = D.RelaxedOneHotCategorical(_t(0.5), logits=logits).rsample((100,))
    np.testing.assert_allclose(s.sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    (s[..., 0]).sum().backward()
    assert logits.grad is not None and bool((logits.grad != 0).any())
    p = _t([0.3, 0.7]).requires_grad_()
    b = D.RelaxedBernoulli(_t(0.5), probs=p).rsample((50,))
    assert bool(((b > 0) & (b < 1)).all())
    b.sum().backward()
    assert bool((p.grad > 0).all())


def _kl_cases():
    """(p, q) constructor pairs for the KL divergences registered for these families."""
    a, b = A + 2.5, B + 0.5
    return [
        (("Binomial", (np.full(4, 5.0),), {"probs": P}),
         ("Binomial", (np.full(4, 5.0),), {"probs": P[::-1].copy()})),
        (("Binomial", (np.full(4, 6.0),), {"probs": P}),
         ("Binomial", (np.full(4, 5.0),), {"probs": P})),
        (("Geometric", (), {"probs": P}), ("Geometric", (), {"probs": P[::-1].copy()})),
        (("Gumbel", (A, B), {}), ("Gumbel", (B, A), {})),
        (("HalfNormal", (A,), {}), ("HalfNormal", (B,), {})),
        (("OneHotCategorical", (), {"probs": SIMPLEX}),
         ("OneHotCategorical", (), {"probs": SIMPLEX[::-1].copy()})),
        (("Pareto", (B, a), {}), ("Pareto", (A, b), {})),
        (("Poisson", (A,), {}), ("Poisson", (B,), {})),
        (("Cauchy", (A, B), {}), ("Cauchy", (B, A), {})),
        (("LogNormal", (A, B), {}), ("LogNormal", (B, A), {})),
        (("Chi2", (A,), {}), ("Chi2", (B,), {})),
        (("Bernoulli", (P,), {}), ("Poisson", (A,), {})),
        (("Exponential", (A,), {}), ("Gumbel", (B, A), {})),
        (("Gamma", (A, B), {}), ("Gumbel", (B, A), {})),
        (("Gumbel", (A, B), {}), ("Normal", (B, A), {})),
        (("Normal", (A, B), {}), ("Gumbel", (B, A), {})),
        (("Pareto", (B, a), {}), ("Exponential", (A,), {})),
        (("Pareto", (B, a), {}), ("Gamma", (A, B), {})),
        (("Pareto", (B, a), {}), ("Normal", (A, B), {})),
        (("Pareto", (B, A - 0.4), {}), ("Normal", (A, B), {})),
        (("Uniform", (B, B + A), {}), ("Gumbel", (A, B), {})),
        (("Uniform", (B, B + A), {}), ("Pareto", (B * 0.9, A), {})),
        (("Uniform", (B * 0.5, B + A), {}), ("Pareto", (B, A), {})),
        (("Gumbel", (A, B), {}), ("Pareto", (A, B), {})),
        (("Normal", (A, B), {}), ("Pareto", (A, B), {})),
        (("Poisson", (A,), {}), ("Binomial", (np.full(4, 5.0),), {"probs": P})),
        (("ContinuousBernoulli", (P,), {}), ("ContinuousBernoulli", (P[::-1].copy(),), {})),
        (("Beta", (A, B), {}), ("ContinuousBernoulli", (P,), {})),
        (("Uniform", (P * 0.5, P * 0.5 + 0.4), {}), ("ContinuousBernoulli", (P,), {})),
        (("Uniform", (P * 0.0, P * 0.5 + 0.4), {}), ("ContinuousBernoulli", (P,), {})),
        (("ContinuousBernoulli", (P,), {}), ("Exponential", (A,), {})),
        (("ContinuousBernoulli", (P,), {}), ("Normal", (A, B), {})),
        (("ContinuousBernoulli", (P,), {}), ("Uniform", (-A, A), {})),
        (("ContinuousBernoulli", (P,), {}), ("Uniform", (P - 1, A), {})),
        (("ContinuousBernoulli", (P,), {}), ("Pareto", (A, B), {})),
        (("Normal", (A, B), {}), ("ContinuousBernoulli", (P,), {})),
    ]


def _make(module, spec, convert):
    name, args, kwargs = spec
    return getattr(module, name)(*[convert(a) for a in args],
                                 **{k: convert(v) for k, v in kwargs.items()})


@pytest.mark.parametrize("index", range(len(_kl_cases())))
def test_kl_matches_torch(index):
    p, q = _kl_cases()[index]
    tconv = lambda a: torch.tensor(np.asarray(a, float))   # noqa: E731
    kl = D.kl_divergence(_make(D, p, _t), _make(D, q, _t))
    tkl = TD.kl_divergence(_make(TD, p, tconv), _make(TD, q, tconv))
    _close(kl, tkl, rtol=1e-8)


def test_kl_errors():
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(_t([2.0]), probs=_t([0.5])),
                        D.Binomial(_t([3.0]), probs=_t([0.5])))
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Independent(D.Normal(_t([[0.0]]), _t([[1.0]])), 1),
                        D.Independent(D.Normal(_t([[0.0]]), _t([[1.0]])), 2))
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.LogNormal(_t([0.0]), _t([1.0])),
                        D.TransformedDistribution(D.Normal(_t([0.0]), _t([1.0])),
                                                  D.transforms.SigmoidTransform()))


def test_von_mises_samples():
    ember.manual_seed(0)
    loc, kappa = np.array([0.5, -2.0, 3.0]), np.array([0.5, 2.0, 8.0])
    d = D.VonMises(_t(loc), _t(kappa))
    s = d.sample((20000,)).numpy()
    assert s.shape == (20000, 3) and s.min() >= -np.pi and s.max() < np.pi
    resultant = np.exp(1j * s).mean(0)
    np.testing.assert_allclose(np.angle(resultant * np.exp(-1j * loc)), 0, atol=0.05)
    np.testing.assert_allclose(1 - np.abs(resultant), d.variance.numpy(), atol=0.02)
    assert tuple(d.expand((2, 3)).sample().shape) == (2, 3)


RNG_MIX = np.random.default_rng(5)
MIX_LOGITS = RNG_MIX.normal(size=(2, 3))
MIX_LOC = RNG_MIX.normal(size=(2, 3, 4))
MIX_SCALE = RNG_MIX.uniform(0.5, 1.5, (2, 3, 4))


def _mixture(module, tensor):
    comp = module.Independent(module.Normal(tensor(MIX_LOC), tensor(MIX_SCALE)), 1)
    return module.MixtureSameFamily(module.Categorical(logits=tensor(MIX_LOGITS)), comp)


def test_mixture_same_family_matches_torch():
    d, td = _mixture(D, _t), _mixture(TD, torch.tensor)
    x = np.random.default_rng(7).normal(size=(5, 2, 4))
    _close(d.log_prob(_t(x)), td.log_prob(torch.tensor(x)))
    _close(d.mean, td.mean)
    _close(d.variance, td.variance)
    assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((2,), (4,))
    assert tuple(d.sample((7,)).shape) == (7, 2, 4)
    assert tuple(d.expand((3, 2)).sample().shape) == (3, 2, 4)
    # univariate components: cdf and sample moments
    probs = np.array([0.2, 0.3, 0.5])
    loc, scale = np.array([-2.0, 0.0, 3.0]), np.array([0.5, 1.0, 0.3])
    g = D.MixtureSameFamily(D.Categorical(_t(probs)), D.Normal(_t(loc), _t(scale)))
    tg = TD.MixtureSameFamily(TD.Categorical(torch.tensor(probs)),
                              TD.Normal(torch.tensor(loc), torch.tensor(scale)))
    v = np.array([-1.0, 0.5, 2.5])
    _close(g.cdf(_t(v)), tg.cdf(torch.tensor(v)))
    ember.manual_seed(0)
    s = g.sample((40000,)).numpy()
    assert abs(s.mean() - float(g.mean)) < 6 * np.sqrt(float(g.variance) / 40000)
    np.testing.assert_allclose(s.var(), float(g.variance), rtol=0.05)
    with pytest.raises(ValueError, match="needs to be an"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(_t(loc), _t(scale)))
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(_t(probs[:2])), D.Normal(_t(loc), _t(scale)))
    with pytest.raises(ValueError, match="not compatible"):
        D.MixtureSameFamily(D.Categorical(_t(np.ones((4, 3)))),
                            D.Normal(_t(np.zeros((2, 3))), _t(np.ones((2, 3)))))


def test_lowrank_multivariate_normal_matches_torch():
    rng = np.random.default_rng(8)
    loc, w, diag = rng.normal(size=(3, 4)), rng.normal(size=(3, 4, 2)), rng.uniform(
        0.5, 1.5, (3, 4))
    leaves = [_t(a).requires_grad_() for a in (loc, w, diag)]
    tleaves = [torch.tensor(a, requires_grad=True) for a in (loc, w, diag)]
    d, td = D.LowRankMultivariateNormal(*leaves), TD.LowRankMultivariateNormal(*tleaves)
    x = rng.normal(size=(5, 3, 4))
    lp, tlp = d.log_prob(_t(x)), td.log_prob(torch.tensor(x))
    _close(lp, tlp)
    for attr in ("mean", "variance", "scale_tril", "covariance_matrix", "precision_matrix"):
        _close(getattr(d, attr), getattr(td, attr))
    _close(d.entropy(), td.entropy())
    (lp.sum() + d.entropy().sum()).backward()
    (tlp.sum() + td.entropy().sum()).backward()
    for a, b in zip(leaves, tleaves):
        _close(a.grad, b.grad, rtol=1e-8)
    assert tuple(d.rsample((2,)).shape) == (2, 3, 4)
    assert tuple(d.expand((2, 3)).sample().shape) == (2, 3, 4)
    ember.manual_seed(0)
    s = D.LowRankMultivariateNormal(_t(loc[0]), _t(w[0]), _t(diag[0])).sample((40000,))
    np.testing.assert_allclose(np.cov(s.numpy().T), w[0] @ w[0].T + np.diag(diag[0]),
                               atol=0.12)
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices"):
        D.LowRankMultivariateNormal(_t(loc), _t(w[..., :3, :]), _t(diag))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        D.LowRankMultivariateNormal(_t(1.0), _t(w), _t(diag))


def _expfamily_members():
    a, b, p = _t(A), _t(B), _t(P)
    return [(D.Normal(a, b), D.Normal(b, a)), (D.Exponential(a), D.Exponential(b)),
            (D.Gamma(a, b), D.Gamma(b, a)), (D.Beta(a, b), D.Beta(b, a)),
            (D.Dirichlet(_t(SIMPLEX * 3)), D.Dirichlet(_t(SIMPLEX[::-1].copy() * 2))),
            (D.Bernoulli(p), D.Bernoulli(_t(P[::-1].copy()))), (D.Chi2(a), D.Chi2(b)),
            (D.Poisson(a), D.Poisson(b)),
            (D.ContinuousBernoulli(p), D.ContinuousBernoulli(_t(P[::-1].copy())))]


@pytest.mark.parametrize("index", range(len(_expfamily_members())))
def test_exponential_family_bregman_identities(index):
    # the generic Bregman entropy and KL agree with the closed forms (and with torch's
    # class hierarchy: these are ExponentialFamily members there too)
    from ember.distributions.kl_families import _kl_expfamily_expfamily
    p, q = _expfamily_members()[index]
    assert isinstance(p, D.ExponentialFamily)
    assert issubclass(getattr(TD, type(p).__name__), TD.ExponentialFamily)
    if not isinstance(p, (D.Poisson, D.Beta, D.Dirichlet)):   # (no carrier measure)
        _close(D.ExponentialFamily.entropy(p), p.entropy(), rtol=1e-8)
    _close(_kl_expfamily_expfamily(p, q), D.kl_divergence(p, q), rtol=1e-8)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        _kl_expfamily_expfamily(p, D.Poisson(_t(A)) if not isinstance(p, D.Poisson)
                                else D.Exponential(_t(A)))


def test_lowrank_kl_matches_torch():
    rng = np.random.default_rng(9)
    args = [(rng.normal(size=(2, 3)), rng.normal(size=(2, 3, 2)), rng.uniform(0.5, 1.5, (2, 3)))
            for _ in range(2)]
    tril = np.tril(rng.normal(size=(3, 3)), -1) + np.diag(rng.uniform(0.5, 1.5, 3))
    mvn = (D.MultivariateNormal(_t(args[0][0][0]), scale_tril=_t(tril)),
           TD.MultivariateNormal(torch.tensor(args[0][0][0]), scale_tril=torch.tensor(tril)))
    lr = [(D.LowRankMultivariateNormal(*[_t(a) for a in arg]),
           TD.LowRankMultivariateNormal(*[torch.tensor(a) for a in arg])) for arg in args]
    for p, q in [(lr[0], lr[1]), (mvn, lr[1]), (lr[0], mvn)]:
        _close(D.kl_divergence(p[0], q[0]), TD.kl_divergence(p[1], q[1]), rtol=1e-8)
    with pytest.raises(ValueError, match="different event shapes"):
        D.kl_divergence(lr[0][0], D.LowRankMultivariateNormal(_t(np.zeros(2)),
                                                              _t(np.ones((2, 1))),
                                                              _t(np.ones(2))))


# reparameterised families whose samples are smooth functions of the parameters at fixed
# noise: the rsample gradient must equal central differences under the same seed (the
# gamma-based ones use the implicit gradient instead, checked in test_studentt_... and
# through the Gamma tests)
PATHWISE = ["Cauchy", "LogNormal", "HalfNormal", "HalfCauchy", "Gumbel", "Weibull", "Pareto",
            "Kumaraswamy", "LogisticNormal", "RelaxedBernoulli", "RelaxedOneHotCategorical",
            "ContinuousBernoulli"]


@pytest.mark.parametrize("name", PATHWISE)
def test_rsample_gradient_is_the_pathwise_derivative(name):
    args, kwargs, _ = CASES[name]
    params = [np.asarray(a, dtype=np.float64) for a in args] + [
        np.asarray(v, dtype=np.float64) for v in kwargs.values()]
    n = len(args)

    def draw(values):
        ember.manual_seed(123)
        d = getattr(D, name)(*values[:n], **dict(zip(kwargs, values[n:])))
        # a fixed weighting so every sample coordinate contributes differently
        s = d.rsample((3,))
        return (s * ember.arange(1, s.numel() + 1, dtype=s.dtype).reshape(s.shape)).sum()

    leaves = [_t(p).requires_grad_() for p in params]
    draw(leaves).backward()
    eps = 1e-6
    for i, p in enumerate(params):
        numeric = np.zeros_like(p)
        for j in np.ndindex(p.shape):
            hi, lo = p.copy(), p.copy()
            hi[j] += eps
            lo[j] -= eps
            up = float(draw([_t(q) for q in params[:i] + [hi] + params[i + 1:]]))
            down = float(draw([_t(q) for q in params[:i] + [lo] + params[i + 1:]]))
            numeric[j] = (up - down) / (2 * eps)
        np.testing.assert_allclose(leaves[i].grad.numpy(), numeric, rtol=1e-5, atol=1e-6)
