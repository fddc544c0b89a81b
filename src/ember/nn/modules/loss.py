"""Loss layers: thin modules over the losses of ``ember.nn.functional``."""
import math
import warnings

from ember.nn import functional as F
from ember.nn._functional.loss import _legacy_reduction
from ember.nn.modules.module import Module
from ember.nn.modules.distance import PairwiseDistance
from ember.nn.modules.linear import Linear

__all__ = [
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss",
    "MarginRankingLoss", "TripletMarginLoss", "MultiLabelSoftMarginLoss",
    "CTCLoss",
    "HingeEmbeddingLoss", "MultiMarginLoss", "MultiLabelMarginLoss", "SoftMarginLoss",
    "TripletMarginWithDistanceLoss", "NLLLoss2d", "LinearCrossEntropyLoss",
]


class _Loss(Module):
    """A loss with a ``reduction``; the deprecated ``size_average`` / ``reduce`` pair maps onto it."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` tensor, kept as a buffer (so it follows ``.to()``)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """Mean (or sum) absolute error.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.L1Loss()(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 0.0]))
    tensor(1.5000)
    """

    def forward(self, input, target):
        """Compute the loss."""
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean (or sum) squared error.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    """

    def forward(self, input, target):
        """Compute the loss."""
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error (less ``beta / 2``) above, divided by ``beta``.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    beta : float, default 1.0
        Where the quadratic part ends.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        """Compute the loss."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta``-scaled absolute error above.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    delta : float, default 1.0
        Where the quadratic part ends.
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        if not isinstance(delta, (float, int)):
            raise TypeError(f"delta must be a float or int, got: {type(delta)}")
        self.delta = delta

    def forward(self, input, target):
        """Compute the loss."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities.

    Parameters
    ----------
    weight : Tensor, optional
        ``(C,)`` per-class weights (a buffer).
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    ignore_index : int, default -100
        Target value that contributes nothing.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-sample losses are reduced.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """Compute the loss."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """Deprecated name of :class:`NLLLoss` (warns FutureWarning when made), as torch.

    Examples
    --------
    >>> import warnings, ember
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     loss = ember.nn.NLLLoss2d()
    >>> logp = ember.full((1, 2, 2, 2), -0.5)
    >>> loss(logp, ember.zeros(1, 2, 2, dtype=ember.int64)).item()
    0.5
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement.", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits against class indices or class probabilities.

    Parameters
    ----------
    weight : Tensor, optional
        ``(C,)`` per-class weights (a buffer).
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    ignore_index : int, default -100
        Target value that contributes nothing.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-sample losses are reduced.
    label_smoothing : float, default 0.0
        Mass spread uniformly over the classes.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        """Compute the loss."""
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities.

    Parameters
    ----------
    weight : Tensor, optional
        Rescaling weight broadcast against the input (a buffer).
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    """

    def forward(self, input, target):
        """Compute the loss."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits, computed stably.

    Parameters
    ----------
    weight : Tensor, optional
        Rescaling weight broadcast against the input (a buffer).
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    pos_weight : Tensor, optional
        Weight of the positive term, broadcast along the class dimension (a buffer).
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """Compute the loss."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of ``target`` from the log-probabilities ``input``.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'batchmean', 'sum', 'none'}, default 'mean'
        How the elementwise terms are reduced.
    log_target : bool, default False
        Whether ``target`` is given as log-probabilities.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        """Compute the loss."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of ``target`` under a Poisson distribution.

    Parameters
    ----------
    log_input : bool, default True
        Whether ``input`` is the log of the rate.
    full : bool, default False
        Add the Stirling approximation term.
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    eps : float, default 1e-8
        Added to the rate before the log when ``log_input`` is False.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        """Compute the loss."""
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input``, variance ``var``.

    Parameters
    ----------
    full : bool, default False
        Add the constant term.
    eps : float, default 1e-6
        Lower clamp of the variance.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the losses are reduced.
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        """Compute the loss."""
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for target -1.

    Parameters
    ----------
    margin : float, default 0.0
        Margin of the dissimilar pairs.
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-pair losses are reduced.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        """Compute the loss."""
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """``max(0, -target * (x1 - x2) + margin)``.

    Parameters
    ----------
    margin : float, default 0.0
        The margin.
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        """Compute the loss."""
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the p-norm distance ``d``.

    Parameters
    ----------
    margin : float, default 1.0
        The margin.
    p : float, default 2.0
        Norm degree of the distance.
    eps : float, default 1e-6
        Added to the difference before the norm.
    swap : bool, default False
        Use the smaller of ``d(a, n)`` and ``d(p, n)``.
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-triplet losses are reduced.
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        """Compute the loss."""
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss.

    Parameters
    ----------
    weight : Tensor, optional
        ``(C,)`` per-class weights (a buffer).
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-sample losses are reduced.
    """

    def forward(self, input, target):
        """Compute the loss."""
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (see :func:`ember.nn.functional.ctc_loss`).

    Parameters
    ----------
    blank : int, default 0
        The blank label.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'`` divides each loss by its target length, then averages over the batch.
    zero_infinity : bool, default False
        Replace infinite losses (inputs too short for their targets) and their
        gradients by zero.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> log_probs = ember.full((3, 1, 2), 0.5).log()
    >>> nn.CTCLoss()(log_probs, ember.tensor([[1]]), (3,), (1,))
    tensor(0.2877)
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        """Compute the loss."""
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)


class HingeEmbeddingLoss(_Loss):
    """Hinge embedding loss: ``x`` where the target is 1, ``max(0, margin - x)`` where -1.

    Parameters
    ----------
    margin : float, default 1.0
        The margin for the -1 targets.
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        """Compute the loss."""
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss between scores ``(N, C)`` and class indices ``(N,)``.

    Parameters
    ----------
    p : {1, 2}, default 1
        The power of the hinge.
    margin : float, default 1.0
        The margin.
    weight : Tensor, optional
        ``(C,)`` per-class weights (a buffer).
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-sample losses are reduced.
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.dim()}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        """Compute the loss."""
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; each target row lists class indices, ended by -1.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-sample losses are reduced.
    """

    def forward(self, input, target):
        """Compute the loss."""
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-y x))`` with targets in {-1, 1}.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated; use ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the elementwise losses are reduced.
    """

    def forward(self, input, target):
        """Compute the loss."""
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet margin loss with a custom distance function.

    Parameters
    ----------
    distance_function : callable, optional
        ``f(x1, x2)`` returning distances (default: :class:`PairwiseDistance`, kept as
        a child module).
    margin : float, default 1.0
        The margin (positive).
    swap : bool, default False
        Use the distance swap of Balntas et al.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-triplet losses are reduced.
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = (distance_function if distance_function is not None
                                  else PairwiseDistance())
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        """Compute the loss."""
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class LinearCrossEntropyLoss(_WeightedLoss):
    """A linear layer to class logits and the cross entropy of those, in one module
    (:func:`ember.nn.functional.linear_cross_entropy`), as ``torch.nn.LinearCrossEntropyLoss``.

    Parameters
    ----------
    in_features : int
        Size of each input sample.
    num_classes : int
        Number of classes ``C``.
    out_features : tuple of int, optional
        ``(d1, ..., dK)`` for a K-dimensional loss: the logits are ``(N, C, d1, ..., dK)``.
    bias : bool, default False
        Whether the linear layer adds a bias.
    device, dtype : optional
        Of the linear layer's parameters.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    weight : Tensor, optional
        ``(C,)`` per-class weights (a buffer).
    ignore_index : int, optional
        A class index to ignore (None: -100 for class indices).
    label_smoothing : float, default 0.0
    options : LinearCrossEntropyOptions, optional
        Compute chunk by chunk over the batch (see
        :class:`ember.nn.LinearCrossEntropyOptions`).

    Attributes
    ----------
    linear : Linear
        The layer, with ``C * prod(out_features)`` outputs (its weight and bias are
        reshaped to ``(C, *out_features, in_features)`` and ``(C, *out_features)``).

    Examples
    --------
    >>> import ember
    >>> loss = ember.nn.LinearCrossEntropyLoss(5, 10, out_features=(4, 3))
    >>> out = loss(ember.randn(2, 5), ember.randint(0, 10, (2, 4, 3)))
    >>> out.shape
    ember.Size([])
    """

    def __init__(self, in_features, num_classes, *, out_features=(), bias=False, device=None,
                 dtype=None, reduction="mean", weight=None, ignore_index=None,
                 label_smoothing=0.0, options=None):
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got "
                               f"{tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError("expected label_smoothing to be in range [0, 1], got "
                               f"{label_smoothing}")
        super().__init__(weight=weight, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        # the layer holds the weights flat: Linear has 2-D weights only
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias,
                             device=device, dtype=dtype)
        self.options = options

    def forward(self, input, target):
        """Compute the loss."""
        weight = self.linear.weight.reshape(
            (self.num_classes, *self.out_features, self.linear.in_features))
        bias = None if self.linear.bias is None else \
            self.linear.bias.reshape((self.num_classes, *self.out_features))
        return F.linear_cross_entropy(
            input, weight, target, linear_bias=bias, weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self):
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
