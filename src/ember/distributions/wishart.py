"""The Wishart distribution over positive-definite matrices, as
``torch.distributions.Wishart``.

As :class:`~ember.distributions.MultivariateNormal`, everything runs through the lower
Cholesky factor ``L`` of the scale matrix.  Samples come from the Bartlett
decomposition: ``X = (L A) (L A)^T`` with ``A`` lower-triangular, ``A_ii`` the square
root of a chi-squared variable with ``df - i`` degrees of freedom and normal entries
below the diagonal, so ``rsample`` is differentiable in ``df`` (through the gamma
sampler's implicit gradient) and in the scale.
"""
import math
import warnings
from numbers import Number

import ember
from ember.distributions import constraints
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.gamma import Chi2
from ember.distributions.multivariate_normal import _precision_to_scale_tril
from ember.distributions.utils import _EPS, lazy_property, vec_to_tril_matrix

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x, p):
    """The multivariate digamma function ``sum_i digamma(x - i / 2)``, ``i < p``."""
    if not bool(x.gt((p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    offsets = ember.arange(p, dtype=x.dtype, device=x.device) / 2
    return ember.digamma(x.unsqueeze(-1) - offsets).sum(-1)


class Wishart(ExponentialFamily):
    r"""The Wishart distribution with ``df`` degrees of freedom and a positive-definite
    scale matrix :math:`\Sigma` (given as a covariance, a precision or its Cholesky
    factor): the law of :math:`\sum_{k=1}^{df} x_k x_k^T` for :math:`x_k \sim N(0, \Sigma)`
    when ``df`` is an integer.

    Parameters
    ----------
    df : float or Tensor
        Greater than ``p - 1`` for ``p x p`` matrices (samples may be singular for
        ``df < p``, which warns).
    covariance_matrix : Tensor, optional
        Symmetric positive-definite scale matrix, shape ``batch_shape + (p, p)``.
    precision_matrix : Tensor, optional
        Its inverse.
    scale_tril : Tensor, optional
        Its lower Cholesky factor (the cheapest to give).
    validate_args : bool, optional

    Exactly one of ``covariance_matrix``, ``precision_matrix`` and ``scale_tril`` is
    given; the batch shapes of ``df`` and the matrix broadcast together.

    Raises
    ------
    AssertionError
        Unless exactly one of the matrices is given (as PyTorch).
    ValueError
        If the matrix has fewer than two dimensions or ``df <= p - 1``.

    Examples
    --------
    >>> import ember
    >>> from ember.distributions import Wishart
    >>> d = Wishart(ember.tensor(4.0), covariance_matrix=ember.eye(2))
    >>> d.mean
    tensor([[4., 0.],
            [0., 4.]])
    >>> d.rsample((5,)).shape
    ember.Size([5, 2, 2])
    >>> round(float(d.log_prob(2 * ember.eye(2))), 4)
    -4.531
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if (covariance_matrix is not None) + (scale_tril is not None) + \
                (precision_matrix is not None) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril)
                     if p is not None)
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = ember.tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = tuple(ember.broadcast_shapes(tuple(param.shape[:-2]),
                                                       tuple(df.shape)))
            self.df = df.expand(batch_shape)
        event_shape = tuple(param.shape[-2:])
        p = event_shape[-1]
        if bool(self.df.le(p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        matrix = param.expand(batch_shape + (-1, -1))
        if scale_tril is not None:
            self.scale_tril = matrix
        elif covariance_matrix is not None:
            self.covariance_matrix = matrix
        else:
            self.precision_matrix = matrix
        if bool(self.df.lt(p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to "
                          "occur for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = ember.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._bartlett_chi2()

    def _bartlett_chi2(self):
        # the squared diagonal of the Bartlett factor: chi-squared with df - i dof
        L = self._unbroadcasted_scale_tril
        p = self._event_shape[-1]
        offsets = ember.arange(p, dtype=L.dtype, device=L.device)
        return Chi2(self.df.unsqueeze(-1) - offsets.expand(tuple(self._batch_shape) + (p,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        ExponentialFamily.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._bartlett_chi2()
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        identity = ember.eye(self._event_shape[-1], dtype=L.dtype, device=L.device)
        return ember.cholesky_solve(identity, L).expand(self._matrix_shape())

    def _df_matrix(self, value):
        """``value`` (over the batch) shaped to scale matrices."""
        return value.reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self):
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = ember.where(factor <= 0, ember.full_like(factor, math.nan), factor)
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        diag_V = V.diagonal(0, -2, -1)
        return self._df_matrix(self.df) * (V.pow(2) + diag_V.unsqueeze(-1) * diag_V.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape):
        p = self._event_shape[-1]
        diag = self._dist_chi2.rsample(sample_shape).sqrt().clamp(min=_EPS[self.df.dtype])
        below = ember.randn(tuple(sample_shape) + tuple(self._batch_shape) + (p * (p - 1) // 2,),
                            dtype=diag.dtype, device=diag.device)
        chol = self._unbroadcasted_scale_tril @ (
            diag.diag_embed() + vec_to_tril_matrix(below, diag=-1))
        return chol @ chol.mT

    def rsample(self, sample_shape=(), max_try_correction=None):
        """Reparameterised samples (Bartlett decomposition).

        The decomposition may round to a singular matrix (likely for small ``df``); such
        samples are redrawn up to ``max_try_correction`` times (default 10), with a
        warning, and one still singular after that gets ``-inf`` from :meth:`log_prob`.
        """
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = tuple(sample_shape)
        sample = self._bartlett_sampling(sample_shape)

        # PyTorch 2.13 flags the *valid* draws here (a missing negation), so it warns on
        # every call and redraws good samples; this redraws the singular ones as intended
        def singular(x):
            # one flag per sample index: a batch with any singular matrix is redrawn whole
            return (~self.support.check(x)).reshape(sample_shape + (-1,)).any(-1)

        is_singular = singular(sample)
        if bool(is_singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            flag_shape = tuple(is_singular.shape) + (1,) * (sample.dim() - is_singular.dim())
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(sample_shape)
                sample = ember.where(is_singular.reshape(flag_shape), sample_new, sample)
                is_singular = is_singular & singular(sample_new)
                if not bool(is_singular.any()):
                    break
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return (-nu * (p * _LOG_2 / 2 + L.diagonal(0, -2, -1).log().sum(-1))
                - ember.mvlgamma(nu / 2, p=p)
                + (nu - p - 1) / 2 * ember.linalg.slogdet(value).logabsdet
                - ember.cholesky_solve(value, L).diagonal(0, -2, -1).sum(-1) / 2)

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return ((p + 1) * (p * _LOG_2 / 2 + L.diagonal(0, -2, -1).log().sum(-1))
                + ember.mvlgamma(nu / 2, p=p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p=p)
                + nu * p / 2)

    @property
    def _natural_params(self):
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-ember.linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + ember.mvlgamma(y + (p + 1) / 2, p=p))
