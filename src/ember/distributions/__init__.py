"""Probability distributions: sampling (plain and reparameterised), log-densities,
moments, entropies and KL divergences, as ``torch.distributions``; transforms and
transformed distributions (``ember.distributions.transforms``, ``biject_to``,
``transform_to``)."""
from ember.distributions import constraints, transforms
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.continuous import Exponential, Laplace, Normal, Uniform
from ember.distributions.discrete import Bernoulli, Categorical
from ember.distributions.gamma import Beta, Chi2, Dirichlet, Gamma
from ember.distributions.heavy_tailed import Cauchy, FisherSnedecor, StudentT
from ember.distributions.multivariate_normal import MultivariateNormal
from ember.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from ember.distributions.continuous_bernoulli import ContinuousBernoulli
from ember.distributions.von_mises import VonMises
from ember.distributions.independent import Independent
from ember.distributions.transformed_distribution import TransformedDistribution
from ember.distributions.transformed import (
    Gumbel, HalfCauchy, HalfNormal, InverseGamma, Kumaraswamy, LogNormal, LogisticNormal,
    Pareto, Weibull,
)
from ember.distributions.counts import (
    Binomial, Geometric, Multinomial, NegativeBinomial, OneHotCategorical,
    OneHotCategoricalStraightThrough, Poisson,
)
from ember.distributions.relaxed import (
    ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical,
)
from ember.distributions.mixture import MixtureSameFamily
from ember.distributions.wishart import Wishart
from ember.distributions.lkj_cholesky import LKJCholesky
from ember.distributions.generalized_pareto import GeneralizedPareto
from ember.distributions.transforms import (
    AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
    CumulativeDistributionTransform, ExpTransform, IndependentTransform,
    LowerCholeskyTransform, PositiveDefiniteTransform, PowerTransform, ReshapeTransform,
    SigmoidTransform, SoftmaxTransform, SoftplusTransform, StackTransform,
    StickBreakingTransform, TanhTransform, Transform, identity_transform,
)
from ember.distributions.constraint_registry import biject_to, transform_to
from ember.distributions.kl import kl_divergence, register_kl
from ember.distributions import kl_families  # noqa: F401  (registers the pairs)

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli",
    "Dirichlet", "Distribution", "ExpRelaxedCategorical", "Exponential", "ExponentialFamily",
    "FisherSnedecor", "Gamma", "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy",
    "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace",
    "LogNormal", "LogisticNormal", "LogitRelaxedBernoulli", "LowRankMultivariateNormal",
    "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal",
    "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
    "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution",
    "Uniform", "VonMises", "Weibull", "Wishart",
    "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform",
    "CorrCholeskyTransform", "CumulativeDistributionTransform", "ExpTransform",
    "IndependentTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
    "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
    "SoftplusTransform", "StackTransform", "StickBreakingTransform", "TanhTransform",
    "Transform", "identity_transform",
    "biject_to", "constraints", "kl_divergence", "register_kl", "transform_to", "transforms",
]
