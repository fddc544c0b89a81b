"""Gamma, Poisson, binomial and Dirichlet samplers, the inverse-transform fills and
the reparameterised gradients: distributions by KS tests and moments (fixed seeds),
determinism, thread independence, errors and gradients against torch."""
import numpy as np
import pytest
import scipy.stats as st
import torch

import ember


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5, 40.0])
def test_standard_gamma_ks(alpha):
    x = ember._standard_gamma(ember.full((4000,), alpha, dtype=ember.float64), generator=_gen())
    assert st.kstest(x.numpy(), st.gamma(alpha).cdf).pvalue > 1e-3


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.float16])
def test_standard_gamma_dtypes_and_layouts(dtype):
    base = ember.tensor([[0.5, 2.0, 5.0], [1.0, 3.0, 7.0]], dtype=dtype)
    for a in (base, base.T, base[:, ::2], base[::-1], base[:1].expand(4, 3)):
        x = ember._standard_gamma(a, generator=_gen())
        assert x.dtype == dtype and tuple(x.shape) == tuple(a.shape)
        assert bool((x > 0).all())
    assert tuple(ember._standard_gamma(ember.empty(0, 3, dtype=dtype)).shape) == (0, 3)
    assert ember._standard_gamma(ember.tensor(2.0, dtype=dtype)).dim() == 0


def test_gamma_edge_values_like_torch():
    a = [-1.0, float("nan"), 0.0, float("inf")]
    got = ember._standard_gamma(ember.tensor(a)).numpy()
    want = torch._standard_gamma(torch.tensor(a)).numpy()
    np.testing.assert_array_equal(got, want)


def test_samplers_deterministic_and_thread_independent():
    a = ember.rand(20000, dtype=ember.float64, generator=_gen(1)) * 30
    old = ember.get_num_threads()
    results = []
    for threads in (1, 2):
        ember.set_num_threads(threads)
        results.append([ember._standard_gamma(a, generator=_gen(3)).numpy(),
                        ember.poisson(a, generator=_gen(3)).numpy(),
                        ember.binomial(ember.full_like(a, 50.0), a / 30,
                                       generator=_gen(3)).numpy(),
                        ember.empty(20000).cauchy_(generator=_gen(3)).numpy()])
    ember.set_num_threads(old)
    for r1, r2 in zip(*results):
        np.testing.assert_array_equal(r1, r2)
    g = _gen(5)
    assert not np.array_equal(ember.poisson(a, generator=g).numpy(),
                              ember.poisson(a, generator=g).numpy())


@pytest.mark.parametrize("rate", [0.0, 0.7, 4.0, 10.0, 250.0])
def test_poisson_moments(rate):
    x = ember.poisson(ember.full((20000,), rate, dtype=ember.float64), generator=_gen()).numpy()
    assert np.all(x == np.round(x))
    assert abs(x.mean() - rate) < 5 * np.sqrt(rate / x.size) + 1e-12
    assert abs(x.var() - rate) < 0.1 * rate + 1e-12
    if rate > 0:
        values, counts = np.unique(x, return_counts=True)
        expected = st.poisson(rate).pmf(values) * x.size
        keep = expected > 20
        assert st.chisquare(counts[keep], expected[keep] * counts[keep].sum()
                            / expected[keep].sum()).pvalue > 1e-4


def test_poisson_errors_and_grad():
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.poisson(ember.tensor([-1.0]))
    with pytest.raises(NotImplementedError):
        ember.poisson(ember.tensor([1, 2]))
    r = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    ember.poisson(r).sum().backward()
    assert r.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("count,prob", [(5.0, 0.3), (100.0, 0.4), (60.0, 0.9), (1000.0, 0.02)])
def test_binomial_distribution(count, prob):
    x = ember.binomial(ember.full((20000,), count, dtype=ember.float64),
                       ember.full((20000,), prob, dtype=ember.float64), generator=_gen()).numpy()
    assert x.min() >= 0 and x.max() <= count
    mean, var = count * prob, count * prob * (1 - prob)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / x.size)
    assert abs(x.var() / var - 1) < 0.1


def test_binomial_edges_and_errors():
    got = ember.binomial(ember.tensor([10.0, 10.0, -3.0, 0.0]),
                         ember.tensor([0.0, 1.0, 0.5, 0.5])).tolist()
    assert got == [0.0, 10.0, 0.0, 0.0]
    assert ember.binomial(ember.tensor([10.0, 10.0]), ember.tensor([0.5])).shape == (2,)
    with pytest.raises(ValueError, match="floating-point"):
        ember.binomial(ember.tensor([10, 10]), ember.tensor([5, 2]))
    with pytest.raises(RuntimeError, match="float64"):
        ember.binomial(ember.tensor([10.0]), ember.tensor([0.5], dtype=ember.float64))
    c = ember.tensor([3.0]); p = ember.tensor([0.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        ember.binomial(c, p).sum().backward()


def test_sample_dirichlet():
    alpha = ember.tensor([[1.0, 2.0, 3.0], [0.2, 0.2, 5.0]], dtype=ember.float64)
    x = ember._sample_dirichlet(alpha.expand(5000, 2, 3).contiguous(), generator=_gen())
    np.testing.assert_allclose(x.sum(-1).numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(x.numpy().mean(0), (alpha / alpha.sum(-1, keepdim=True)).numpy(),
                               atol=0.02)
    assert float(ember._sample_dirichlet(ember.tensor(2.0))) == pytest.approx(1.0)


@pytest.mark.parametrize("alpha", [0.3, 1.5, 5.0, 20.0])
def test_standard_gamma_grad_matches_torch(alpha):
    a = np.full(2000, alpha)
    x = st.gamma(alpha).rvs(2000, random_state=np.random.default_rng(0))
    got = ember._standard_gamma_grad(ember.from_numpy(a), ember.from_numpy(x)).numpy()
    want = torch._standard_gamma_grad(torch.from_numpy(a), torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # against the exact implicit derivative -dF/dalpha / pdf, by finite differences
    h = 1e-6
    exact = -(st.gamma(alpha + h).cdf(x) - st.gamma(alpha - h).cdf(x)) / (2 * h) / \
        st.gamma(alpha).pdf(x)
    ok = np.isfinite(exact) & (st.gamma(alpha).pdf(x) > 1e-3)
    np.testing.assert_allclose(got[ok], exact[ok], rtol=5e-3, atol=1e-3)


def test_dirichlet_grad_matches_torch():
    rng = np.random.default_rng(1)
    alpha = rng.uniform(0.2, 12, 3000)
    total = alpha + rng.uniform(0.2, 12, 3000)
    x = rng.beta(alpha, total - alpha)
    got = ember._dirichlet_grad(*[ember.from_numpy(v) for v in (x, alpha, total)]).numpy()
    want = torch._dirichlet_grad(*[torch.from_numpy(v) for v in (x, alpha, total)]).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_standard_gamma_backward_node():
    a = ember.tensor([1.0, 2.0, 4.0], dtype=ember.float64, requires_grad=True)
    y = ember._standard_gamma(a, generator=_gen())
    assert y.grad_fn.name() == "StandardGammaBackward0"
    y.sum().backward()
    want = ember._standard_gamma_grad(a.detach(), y.detach())
    np.testing.assert_allclose(a.grad.numpy(), want.numpy())


def test_cauchy_log_normal_geometric():
    g = _gen(2)
    c = ember.empty(20000, dtype=ember.float64).cauchy_(1.0, 2.0, generator=g).numpy()
    assert st.kstest(c, st.cauchy(1.0, 2.0).cdf).pvalue > 1e-3
    ln = ember.empty(20000, dtype=ember.float64).log_normal_(0.5, 0.7, generator=g).numpy()
    assert st.kstest(ln, st.lognorm(0.7, scale=np.exp(0.5)).cdf).pvalue > 1e-3
    geo = ember.empty(20000, dtype=ember.int64).geometric_(0.3, generator=g).numpy()
    assert geo.min() >= 1 and abs(geo.mean() - 1 / 0.3) < 0.1
    t = ember.zeros(4, 6)
    t[:, ::2].cauchy_()
    assert bool((t[:, 1::2] == 0).all()) and bool((t[:, ::2] != 0).all())
    for fn, exc in [(lambda: ember.empty(3).cauchy_(0, -1), RuntimeError),
                    (lambda: ember.empty(3, dtype=ember.int64).cauchy_(), RuntimeError),
                    (lambda: ember.empty(3).log_normal_(1, -2), RuntimeError),
                    (lambda: ember.empty(3, dtype=ember.int64).log_normal_(), NotImplementedError),
                    (lambda: ember.empty(3).geometric_(0), RuntimeError),
                    (lambda: ember.empty(3).geometric_(1.5), RuntimeError)]:
        with pytest.raises(exc):
            fn()
