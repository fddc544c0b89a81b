"""The LKJ distribution over Cholesky factors of correlation matrices, as
``torch.distributions.LKJCholesky``."""
import math

import ember
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.gamma import Beta
from ember.distributions.utils import _TINY, broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    r"""The LKJ distribution of the lower Cholesky factor ``L`` of a ``dim x dim``
    correlation matrix: the correlation matrix ``M = L L^T`` has density proportional to
    :math:`\det(M)^{\eta - 1}` for the concentration :math:`\eta` (uniform over
    correlation matrices at :math:`\eta = 1`).

    Samples come from the onion method of Lewandowski, Kurowicka and Joe (2009),
    vectorised over rows: row ``i`` is ``sqrt(y_i)`` times a uniform direction in its
    first ``i`` coordinates, with ``y_i`` beta-distributed, and the diagonal entry takes
    the rest of the unit length.  The distribution has no ``rsample``.

    Parameters
    ----------
    dim : int
        The matrix size, at least 2.
    concentration : float or Tensor
        Positive (:math:`\eta`); its shape is the batch shape.
    validate_args : bool, optional

    Raises
    ------
    ValueError
        If ``dim < 2``.

    Examples
    --------
    >>> import ember
    >>> from ember.distributions import LKJCholesky
    >>> d = LKJCholesky(3, 0.5)
    >>> L = d.sample()
    >>> bool(ember.allclose((L @ L.mT).diagonal(), ember.ones(3)))
    True
    >>> round(float(d.log_prob(ember.eye(3))), 4)
    -2.531
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = tuple(self.concentration.shape)
        # the squared off-diagonal length of row i >= 1 is Beta(i / 2, eta + (D - 2) / 2
        # - (i - 1) / 2) (Sec. 3.2 of the paper); row 0, whose off-diagonal part is empty,
        # gets a dummy law.  PyTorch 2.13 takes i - 1/2 for the first concentration, which
        # is not the LKJ law for D > 2 (its off-diagonal correlations then have unequal
        # variances); this follows the paper, which gives every one of them the variance
        # 1 / (2 eta + D - 1)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = ember.arange(self.dim - 1, dtype=self.concentration.dtype,
                              device=self.concentration.device)
        offset = ember.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta((offset + 1) / 2, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(batch_shape, (dim, dim), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()):
        with ember.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = ember.randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype,
                                   device=y.device).tril(-1)
            u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
            # row 0 has no off-diagonal entries: replace its 0 / 0
            u_hypersphere[..., 0, :] = 0.0
            w = y.sqrt() * u_hypersphere
            diag = (1 - (w ** 2).sum(-1)).clamp(min=_TINY[w.dtype]).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value):
        # p(L) is proportional to prod_i L_ii ** (2 (eta - 1) + dim - i) for rows
        # i = 2..dim: det(M) ** (eta - 1) times the Jacobian of L -> L L^T
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(0, -1, -2)[..., 1:]
        order = ember.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        # the normalising constant (page 1999 of the paper)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ember.lgamma(alpha) * dm1
        numerator = ember.mvlgamma(alpha - 0.5, dm1)
        # the paper's pi term is D (D - 1) / 4 log(pi) and mvlgamma's (D - 1)(D - 2) / 4
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
