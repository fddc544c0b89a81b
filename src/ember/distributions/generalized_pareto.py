"""The generalized Pareto distribution, as ``torch.distributions.GeneralizedPareto``.

Its survival function is ``(1 + xi z) ** (-1 / xi)`` for ``z = (x - loc) / scale`` and
concentration ``xi``, and ``exp(-z)`` in the limit ``xi = 0``; every method takes the
limit branch where the concentration is (close to) zero and a safe concentration of 1
in the other branch, so that neither branch produces NaNs in the gradient.
"""
import math
from numbers import Number

import ember
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    r"""The generalized Pareto distribution with location ``loc``, scale ``scale`` and
    shape ``concentration`` :math:`\xi`.

    Its support is :math:`[loc, \infty)` for :math:`\xi \ge 0` and
    :math:`[loc, loc - scale / \xi]` for :math:`\xi < 0`; the exponential
    (``loc = 0``, :math:`\xi = 0`), Pareto (:math:`\xi > 0`, ``loc = scale / xi``) and
    uniform (:math:`\xi = -1`) distributions are special cases.

    Parameters
    ----------
    loc : float or Tensor
    scale : float or Tensor
        Positive.
    concentration : float or Tensor
        Any real; the mean exists for :math:`\xi < 1` and the variance for
        :math:`\xi < 1/2` (NaN otherwise).
    validate_args : bool, optional

    Examples
    --------
    >>> import ember
    >>> from ember.distributions import GeneralizedPareto
    >>> d = GeneralizedPareto(0.0, 1.0, ember.tensor([0.0, 0.5, -1.0]))
    >>> d.mean
    tensor([1.0000, 2.0000, 0.5000])
    >>> d.cdf(ember.tensor(0.5))
    tensor([0.3935, 0.3600, 0.5000])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, Number) for v in (loc, scale, concentration)):
            batch_shape = ()
        else:
            batch_shape = self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _safe_concentration(self):
        """Where the concentration is zero (to ``isclose``'s tolerance), and the
        concentration with those entries replaced by 1."""
        conc = self.concentration
        eq_zero = ember.isclose(conc, ember.zeros_like(conc))
        return eq_zero, ember.where(eq_zero, ember.ones_like(conc), conc)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        u = ember.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ember.ones_like(z)
        # at concentration -1 (uniform) the factor y is 0 and log1p may be -inf at the edge
        where_nonzero = ember.where(y == 0, y, y * ember.log1p(safe_conc * z))
        return -self.scale.log() - ember.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        """The log of ``P(X > value)``."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -ember.log1p(safe_conc * z) / safe_conc
        return ember.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        """The log of the cumulative distribution function."""
        return ember.log1p(-ember.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return ember.exp(self.log_cdf(value))

    def icdf(self, value):
        eq_zero, safe_conc = self._safe_concentration()
        logu = ember.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * ember.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return ember.where(eq_zero, where_zero, where_nonzero)

    @property
    def mean(self):
        conc = self.concentration
        valid = conc < 1
        safe_conc = ember.where(valid, conc, ember.full_like(conc, 0.5))
        return ember.where(valid, self.loc + self.scale / (1 - safe_conc),
                           ember.full_like(conc, math.nan))

    @property
    def variance(self):
        conc = self.concentration
        valid = conc < 0.5
        safe_conc = ember.where(valid, conc, ember.full_like(conc, 0.25))
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ember.where(valid, result, ember.full_like(conc, math.nan))

    def entropy(self):
        return ember.broadcast_to(self.scale.log() + self.concentration + 1,
                                  tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = ember.where(self.concentration < 0, lower - self.scale / self.concentration,
                            ember.full_like(lower, math.inf))
        return constraints.interval(lower, upper)
