"""Functional ops without a family file of their own: local response normalisation,
Gumbel-softmax sampling and condensed pairwise distances.  Compositions of
differentiable ember ops."""
from ember.ops.autocast import autocasts
import numpy as np

import ember
from ember.nn._functional.misc import pad


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Normalise each channel by the activity of its ``size`` neighbouring channels.

    ``b_c = a_c / (k + alpha / size * sum_{c'} a_{c'}^2) ** beta``, the sum over the
    window of channels centred on ``c`` (zero-padded at the ends).

    Parameters
    ----------
    input : Tensor
        ``(N, C, *)`` with at least one spatial dim.
    size : int
        Number of channels in the window.
    alpha, beta, k : float, optional
        Scale, exponent and additive constant.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.local_response_norm(ember.ones(1, 3, 1), size=3, alpha=3.0, beta=1.0)
    tensor([[[0.3333],
             [0.2500],
             [0.3333]]])
    """
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    shape = tuple(input.shape)
    squares = (input * input).reshape(shape[0], shape[1], -1)
    padded = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    # the mean over each window of `size` channels (avg_pool with the padding counted),
    # rounded down for int64 as PyTorch's integer average pooling
    windows = padded.unfold(1, size, 1)
    if input.dtype == ember.int64:
        div = ember.div(windows.sum(-1), size, rounding_mode="floor").reshape(shape)
    else:
        div = windows.mean(-1).reshape(shape)
    return input / (div * alpha + k) ** beta


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Sample from the Gumbel-softmax (concrete) distribution.

    Parameters
    ----------
    logits : Tensor
        Unnormalised log probabilities.
    tau : float, default 1.0
        Temperature.
    hard : bool, default False
        Return one-hot samples whose gradient is that of the soft sample
        (straight-through estimator).
    eps : float, default 1e-10
        Unused (kept for PyTorch compatibility).
    dim : int, default -1
        The dim of the categories.

    Returns
    -------
    Tensor
        Samples of the shape of ``logits``, summing to one along ``dim``.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> sample = F.gumbel_softmax(ember.zeros(2, 5), hard=True)
    >>> sample.sum(-1)
    tensor([1., 1.])
    """
    if eps != 1e-10:
        import warnings
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -ember.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = ember.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


@autocasts("pdist")
def pdist(input, p=2):
    """``p``-norm distances between all pairs of rows of a 2-D input.

    Parameters
    ----------
    input : Tensor
        ``(N, M)``.
    p : float, default 2
        The norm degree (non-negative).

    Returns
    -------
    Tensor
        ``(N * (N - 1) / 2,)``: the distances of rows ``i < j`` in row-major order
        (the upper triangle of the distance matrix).

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    rows, cols = np.triu_indices(input.shape[0], k=1)
    first = input.index_select(0, ember.from_numpy(rows.astype(np.int64)))
    second = input.index_select(0, ember.from_numpy(cols.astype(np.int64)))
    return ember.norm(first - second, p, dim=1)
