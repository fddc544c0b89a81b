"""Distance layers: cosine similarity and p-norm distance between two inputs."""
from ember.nn import functional as F
from ember.nn.modules.module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``.

    Parameters
    ----------
    dim : int, default 1
        The dim along which the vectors lie.
    eps : float, default 1e-8
        Floor of each vector's norm.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.CosineSimilarity(dim=0)(ember.tensor([1.0, 0.0]), ember.tensor([1.0, 1.0]))
    tensor(0.7071)
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        """Similarity of ``x1`` and ``x2`` (broadcast together)."""
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``p``-norm distance between the rows of ``x1`` and ``x2``: ``||x1 - x2 + eps||_p``.

    Parameters
    ----------
    p : float, default 2.0
        The norm degree.
    eps : float, default 1e-6
        Added to the difference (avoids a zero norm).
    keepdim : bool, default False
        Keep the reduced last dim.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.PairwiseDistance(eps=0.0)(ember.tensor([[3.0, 0.0]]), ember.tensor([[0.0, 4.0]]))
    tensor([5.])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        """Distance of ``x1`` and ``x2`` along their last dim."""
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
