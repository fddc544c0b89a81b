"""The exponential-family base class, as ``torch.distributions.ExponentialFamily``."""
import ember
from ember.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    r"""Base of the distributions with density
    :math:`p(x; \theta) = \exp(\langle t(x), \theta \rangle - F(\theta) + k(x))`.

    A subclass gives its natural parameters :math:`\theta` (``_natural_params``), the
    log-normaliser :math:`F` (``_log_normalizer``) and the expected carrier measure
    :math:`E[k(x)]` (``_mean_carrier_measure``); the entropy, and KL divergences
    between two members of the same family, then follow from the Bregman divergence of
    :math:`F`, differentiated by autograd.
    """

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """``F(theta) - <theta, grad F(theta)> - E[k(x)]``."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = ember.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for param, grad in zip(nparams, gradients):
            result = result - (param * grad).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
