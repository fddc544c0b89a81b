"""Probability distributions: sampling (plain and reparameterised), log-densities,
moments, entropies and KL divergences, as ``torch.distributions``."""
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.continuous import Exponential, Laplace, Normal, Uniform
from ember.distributions.discrete import Bernoulli, Categorical
from ember.distributions.gamma import Beta, Dirichlet, Gamma
from ember.distributions.multivariate_normal import MultivariateNormal
from ember.distributions.kl import kl_divergence, register_kl

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Exponential", "Gamma",
    "Laplace", "MultivariateNormal", "Normal", "Uniform", "constraints", "kl_divergence", "register_kl",
]
