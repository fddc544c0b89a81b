"""Margin and ranking losses of :mod:`ember.nn.functional`, written as compositions of
differentiable ember ops."""
from ember.ops.autocast import autocasts
import ember
from ember.nn._functional.activation import _log1p_exp
from ember.nn._functional.loss import _check_reduction, _legacy_reduction, _reduce
from ember.nn._functional.misc import pairwise_distance


@autocasts("cosine_embedding_loss")
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for target -1.

    Parameters
    ----------
    input1, input2 : Tensor
        ``(N, D)`` or ``(D,)``.
    target : Tensor
        ``(N,)`` or ``()`` of 1 and -1.
    margin : float, optional
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.dim() == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if target.dim() == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    dim = target.dim()
    eps = 1e-12
    dot = (input1 * input2).sum(dim)
    squared1 = (input1 * input1).sum(dim) + eps
    squared2 = (input2 * input2).sum(dim) + eps
    cos = dot / ember.sqrt(squared1 * squared2)
    positive = ember.where(target == 1, 1 - cos, 0.0)
    negative = ember.where(target == -1, ember.clamp(cos - margin, min=0.0), 0.0)
    return _reduce(positive + negative, reduction)


@autocasts("margin_ranking_loss")
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``.

    Parameters
    ----------
    input1, input2, target : Tensor
        Same number of dimensions; ``target`` holds 1 or -1.
    margin : float, optional
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not input1.dim() == input2.dim() == target.dim():
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension but got "
                           f"sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    loss = ember.clamp(-target * (input1 - input2) + margin, min=0.0)
    return _reduce(loss, reduction)


@autocasts("triplet_margin_loss")
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the ``p``-norm pairwise distance ``d``.

    Parameters
    ----------
    anchor, positive, negative : Tensor
        ``(N, D)`` or ``(D,)``, all with the same number of dimensions.
    margin : float, optional
        Positive.
    p : float, optional
        Norm degree of the distance.
    eps : float, optional
        Added to the differences before the norm.
    swap : bool, optional
        Use ``min(d(a, n), d(p, n))`` as the negative distance.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    positive_distance = pairwise_distance(anchor, positive, p, eps)
    negative_distance = pairwise_distance(anchor, negative, p, eps)
    if swap:
        negative_distance = ember.minimum(negative_distance,
                                          pairwise_distance(positive, negative, p, eps))
    loss = ember.clamp(positive_distance - negative_distance + margin, min=0.0)
    return _reduce(loss, reduction)


def _check_triplet_dims(anchor, positive, negative):
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same "
                           f"number of dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, "
                           f"and negative {dims[2]}D inputs")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """:func:`triplet_margin_loss` with any distance function.

    Parameters
    ----------
    anchor, positive, negative : Tensor
    distance_function : callable, optional
        ``d(x1, x2) -> Tensor`` of non-negative distances; defaults to
        :func:`pairwise_distance`.
    margin : float, optional
        Positive.
    swap : bool, optional
        Use ``min(d(a, n), d(p, n))`` as the negative distance.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    _check_triplet_dims(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:
        negative_distance = ember.minimum(negative_distance, distance(positive, negative))
    loss = ember.clamp(positive_distance - negative_distance + margin, min=0.0)
    return _reduce(loss, reduction)


@autocasts("hinge_embedding_loss")
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1.

    Parameters
    ----------
    input : Tensor
        Distances.
    target : Tensor
        1 or -1, broadcastable with ``input``.
    margin : float, optional
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    below_margin = ember.where(target != 1, ember.clamp(margin - input, min=0.0), 0.0)
    return _reduce(below_margin + ember.where(target != -1, input, 0.0), reduction)


@autocasts("soft_margin_loss")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))``.

    Parameters
    ----------
    input : Tensor
    target : Tensor
        1 or -1, same shape as ``input``.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _reduce(_log1p_exp(-input * target), reduction)


def _check_margin_target(name, input, target):
    # a 0-d input is one sample of one class, as in PyTorch
    frames = input.shape[0] if input.dim() == 2 else 1
    if input.dim() > 2 or target.dim() > 1 or target.numel() != frames or \
            (input.dim() == 2 and target.dim() == 0):
        raise RuntimeError(f"{name}: inconsistent target size: {list(target.shape)} for input of "
                           f"size: {list(input.shape)}")
    if target.dtype != ember.int64:
        raise RuntimeError(f"{name}: expected target dtype to be Long, but got {target.dtype}")


@autocasts("multi_margin_loss")
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss ``sum_j max(0, margin - x[y] + x[j]) ** p / C`` over ``j != y``.

    Parameters
    ----------
    input : Tensor
        ``(N, C)`` or ``(C,)`` scores.
    target : Tensor
        ``(N,)`` or ``()`` class indices (int64).
    p : {1, 2}, optional
    margin : float, optional
    weight : Tensor, optional
        ``(C,)`` weight of each target class.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_margin_target("multi_margin_loss", input, target)
    unbatched = input.dim() < 2
    scores = input.reshape(1, -1) if unbatched else input
    labels = target.reshape(-1, 1)
    classes = scores.shape[1]
    if labels.numel() and ((labels < 0) | (labels >= classes)).any():
        raise RuntimeError(f"target out of range: classes are 0 to {classes - 1}")
    hinge = ember.clamp(scores - scores.gather(1, labels) + margin, min=0.0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.index_select(0, labels.reshape(-1)).unsqueeze(1)
    is_label = labels == ember.arange(classes, device=labels.device)
    loss = ember.where(is_label, 0.0, hinge).sum(1) / classes
    return _reduce(loss.reshape(()) if unbatched else loss, reduction)


@autocasts("multilabel_margin_loss")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss ``sum max(0, 1 - (x[y_j] - x[i])) / C`` over targets ``y_j`` and
    non-targets ``i``.

    Parameters
    ----------
    input : Tensor
        ``(N, C)`` or ``(C,)`` scores.
    target : Tensor
        Same shape (int64): each row lists target classes, ended by the first -1.
    size_average, reduce : bool, optional
        Deprecated; see ``reduction``.
    reduction : {'mean', 'sum', 'none'}, optional

    Returns
    -------
    Tensor
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    # a 0-d input is one sample of one class, with a 0-d or one-element target
    unbatched = input.dim() < 2
    if input.dim() > 2 or (tuple(target.shape) != tuple(input.shape) and not (
            unbatched and target.dim() <= 1 and target.numel() == input.numel())):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                           f"{list(target.shape)} for input of size: {list(input.shape)}")
    scores = input.reshape(1, -1) if unbatched else input
    labels = target.reshape(scores.shape)
    classes = scores.shape[1]
    # a target entry counts only before the first -1 of its row
    listed = ember.cumsum((labels == -1).to(ember.int64), 1) == 0
    safe_labels = ember.where(listed, labels, 0)
    if labels.numel() and ((safe_labels < 0) | (safe_labels >= classes)).any():
        raise RuntimeError(f"argument #2 'target' is out of range: classes are 0 to {classes - 1}")
    hits = ember.zeros(scores.shape, dtype=ember.int64, device=scores.device).scatter_add(
        1, safe_labels, listed.to(ember.int64))
    is_target = hits > 0
    target_scores = scores.gather(1, safe_labels)
    hinge = ember.clamp(1 - target_scores.unsqueeze(2) + scores.unsqueeze(1), min=0.0)
    counted = listed.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = ember.where(counted, hinge, 0.0).sum((1, 2)) / classes
    return _reduce(loss.reshape(()) if unbatched else loss, reduction)
