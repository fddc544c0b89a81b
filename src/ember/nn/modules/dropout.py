"""Dropout layers: active in training mode, the identity in evaluation mode."""
from ember.nn import functional as F
from ember.nn.modules.module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]
__all__ += ["FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of an element being zeroed.
    inplace : bool, default False
        Overwrite the input.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Dropout(0.2).eval()
    >>> x = ember.ones(3)
    >>> bool((m(x) == x).all())
    True
    """

    def forward(self, input):
        """Apply dropout when training; return the input unchanged otherwise."""
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` inputs with probability ``p``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel being zeroed.
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply channel dropout when training."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` or ``(C, H, W)`` inputs with probability ``p``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel being zeroed.
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply channel dropout when training."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs with probability ``p``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel being zeroed.
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply channel dropout when training."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps the mean and variance of SELU activations.

    Parameters
    ----------
    p : float, default 0.5
        Probability of an element being dropped.
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply alpha dropout when training."""
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (SELU-preserving), in training mode only.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel being dropped.
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Drop channels of ``input`` (the identity in evaluation mode)."""
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
