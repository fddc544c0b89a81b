"""``linear_cross_entropy``: a linear layer followed by ``cross_entropy``, as PyTorch's, and
:class:`LinearCrossEntropyOptions`, which asks for it chunk by chunk over the batch.

The chunked form never holds the whole ``(N, C)`` logits: forward computes the loss of one
block of rows at a time, and backward computes the logits of each block again to form its
gradients (PyTorch keeps gradients from forward for the ``'mean'`` and ``'sum'``
reductions; the values are the same, and ``retain_graph`` always works here).
"""
import dataclasses
import math
import warnings

import ember
from ember.autograd.function import Function
from ember.nn._functional.loss import cross_entropy
from ember.nn._functional.misc import linear

__all__ = ["linear_cross_entropy", "LinearCrossEntropyOptions"]

# PyTorch's picks for acc_policy="auto" / chunking_method="auto" per (device type, dtype)
_AUTO_DEFAULTS = {("cuda", "bfloat16"): ("compact", "aspect_ratio:2"),
                  ("cuda", "float16"): ("compact", "aspect_ratio:2"),
                  ("cpu", "bfloat16"): ("accurate", "aspect_ratio"),
                  ("cpu", "float16"): ("accurate", "aspect_ratio")}
_AUTO_FALLBACK = ("compact", "aspect_ratio:2")
_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """How :func:`~ember.nn.functional.linear_cross_entropy` splits its batch into chunks, as
    ``torch.nn.LinearCrossEntropyOptions``.

    Passing an instance as ``options`` computes the loss block of rows by block of rows,
    so that the ``(N, C)`` logits are never held at once: worth it when the number of
    classes ``C`` is much larger than ``in_features`` (a language model's vocabulary).

    Parameters
    ----------
    allow_retain_graph : bool, optional
        Under PyTorch, whether ``backward(retain_graph=True)`` may run twice with the
        ``'mean'``/``'sum'`` reductions.  ember's backward recomputes each chunk, so it
        always may; the field is kept for compatibility.
    batch_chunk_size : int, optional
        Rows per chunk; ``None`` (default) leaves it to ``chunking_method``.
    chunking_method : str or None, optional
        ``"auto"`` (default): PyTorch's pick for the device and dtype;
        ``"aspect_ratio"``: chunks whose logits take the memory of the input,
        ``next_pow2(ceil(N / ceil(C / in_features)))`` rows; ``"aspect_ratio:k"``: that
        divided by ``k``; ``None``: ``batch_chunk_size`` (or one chunk).
    acc_policy : {'auto', 'accurate', 'balanced', 'compact'}, optional
        PyTorch's trade-off between precision and memory of its CUDA kernels; ember
        accepts and checks it (each chunk is computed in ``acc_dtype`` whatever it is).
    acc_dtype : ember.dtype, optional
        The dtype the chunks are computed in: float16, bfloat16, float32 or float64.
        ``None``: float32 for a float16 or bfloat16 input under ``acc_policy="auto"``,
        else the input's dtype.

    Raises
    ------
    ValueError
        For an unknown policy or chunking method, a chunk size that is not a positive
        int, or another ``acc_dtype``.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: ember.dtype | None = None

    def __post_init__(self):
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            factor = factor if sep else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if not (self.batch_chunk_size is None or (
                isinstance(self.batch_chunk_size, int) and self.batch_chunk_size > 0)):
            raise ValueError("batch_chunk_size must be positive int or None, got "
                             f"{self.batch_chunk_size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in (
                ember.float16, ember.bfloat16, ember.float32, ember.float64):
            raise ValueError("acc_dtype must be one of {None, ember.float16, ember.bfloat16, "
                             f"ember.float32, ember.float64}}, got {self.acc_dtype!r}. Pass "
                             "acc_dtype=None to let the op pick automatically.")

    def _chunk_and_dtype(self, num_batches, in_features, num_classes, dtype, device):
        """The rows per chunk and the dtype of the chunks for one call (PyTorch's rules)."""
        method = self.chunking_method
        if method == "auto" and self.batch_chunk_size is not None:
            method = None
        if method == "auto":
            method = _AUTO_DEFAULTS.get((device.type, str(dtype).split(".")[-1]),
                                        _AUTO_FALLBACK)[1]
        chunk = num_batches if self.batch_chunk_size is None else \
            min(self.batch_chunk_size, num_batches)
        if method is not None:
            factor = int(method.split(":")[1]) if ":" in method else 1
            target = -(-num_batches // -(-num_classes // in_features))
            chunk = min((1 << (target - 1).bit_length()) // factor, num_batches)
            if self.batch_chunk_size is not None and self.batch_chunk_size != chunk:
                raise ValueError(f"batch_chunk_size (={self.batch_chunk_size}) and "
                                 f"chunking_method ('{method}') give different chunk sizes "
                                 f"({self.batch_chunk_size} vs {chunk}); pass only one.")
        acc_dtype = self.acc_dtype
        if acc_dtype is None:
            low = dtype in (ember.float16, ember.bfloat16)
            acc_dtype = ember.float32 if low and self.acc_policy == "auto" else dtype
        return max(1, chunk), acc_dtype


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    """Cross entropy of ``linear(input, linear_weight, linear_bias)`` against ``target``,
    as ``torch.nn.functional.linear_cross_entropy``.

    Parameters
    ----------
    input : Tensor
        ``(in_features,)`` or ``(N, in_features)``.
    linear_weight : Tensor
        ``(C, in_features)``, or ``(C, d1, ..., dK, in_features)`` for a K-dimensional
        loss (which needs a batched input): the logits are then ``(N, C, d1, ..., dK)``.
    target : Tensor
        Class indices (int64) of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``, or class
        probabilities of the logits' shape.
    linear_bias : Tensor, optional
        ``(C,)`` or ``(C, d1, ..., dK)``, as ``linear_weight``.
    weight : Tensor, optional
        Weight of each of the ``C`` classes.
    reduction : {'mean', 'sum', 'none'}, optional
    ignore_index : int, optional
        A class index to ignore; ``None`` (default) means -100 for class indices, and it
        may not be given with class probabilities.
    label_smoothing : float, optional
        In ``[0, 1]``: mix the target with the uniform distribution.
    options : LinearCrossEntropyOptions, optional
        Compute chunk by chunk over the batch (see :class:`LinearCrossEntropyOptions`).
        The chunked path takes class indices (int64) with no label smoothing and no
        K-dimensional loss; otherwise the options are ignored with a warning, as in
        PyTorch.

    Returns
    -------
    Tensor
        The loss: a scalar, or per sample (``reduction='none'``).

    Raises
    ------
    RuntimeError
        For an input that is not 1- or 2-dimensional, a ``linear_weight`` of fewer than
        two dimensions, mismatched ``in_features`` or bias shape, a K-dimensional loss on
        an unbatched input, or ``ignore_index`` with class probabilities.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> x, w = ember.ones(4, 3), ember.eye(5, 3)
    >>> target = ember.tensor([0, 1, 2, 4])
    >>> F.linear_cross_entropy(x, w, target)
    tensor(1.5680)
    >>> F.cross_entropy(F.linear(x, w), target)
    tensor(1.5680)
    >>> F.linear_cross_entropy(x, w, target, options=ember.nn.LinearCrossEntropyOptions(batch_chunk_size=2))
    tensor(1.5680)
    """
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions "
                           f"(in_features), got {in_features} and {linear_weight.shape[-1]}, "
                           "respectively")
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, "
                           f"(N, {in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*batches, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index

    if options is not None:
        if (out_features or reduction not in ("mean", "sum", "none") or label_smoothing != 0.0
                or target.dtype != ember.int64):
            warnings.warn(
                "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
                f"out_features == (). Got reduction={reduction!r}, label_smoothing="
                f"{label_smoothing}, target.dtype={target.dtype}, out_features={out_features}, "
                "linear_bias.shape="
                f"{tuple(linear_bias.shape) if linear_bias is not None else None}.",
                stacklevel=2)
        else:
            return _chunked(input, linear_weight, target, linear_bias, weight, reduction,
                            ignore_index, options)

    if out_features:
        rows = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(rows, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(rows)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)


def _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
             options):
    """The checks of ``cross_entropy`` on the logits' shape, then the chunked Function."""
    batched = input.dim() == 2
    rows = input.shape[0] if batched else 1
    if target.dim() != (1 if batched else 0):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if batched and target.shape[0] != rows:
        raise ValueError(f"Expected input batch_size ({rows}) to match target batch_size "
                         f"({target.shape[0]}).")
    num_classes = linear_weight.shape[0]
    if weight is not None and tuple(weight.shape) != (num_classes,):
        raise RuntimeError(f"weight tensor should be defined either for all {num_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    bad = target[(target != ignore_index) & ((target < 0) | (target >= num_classes))]
    if bad.numel():
        raise IndexError(f"Target {int(bad.reshape(-1)[0])} is out of bounds.")
    chunk, acc_dtype = options._chunk_and_dtype(rows, input.shape[-1], num_classes,
                                                input.dtype, input.device)
    loss = _ChunkedLinearCrossEntropy.apply(
        input.reshape(rows, -1), linear_weight, linear_bias, target.reshape(rows), weight,
        reduction, ignore_index, chunk, acc_dtype)
    return loss if batched or reduction != "none" else loss.reshape(())


def _chunk_terms(x, linear_weight, linear_bias, target, weight, ignore_index, acc_dtype):
    """Logits of one chunk, their logsumexp, the targets (0 where ignored) and the weight
    of each row (0 where ignored)."""
    logits = linear(x.to(acc_dtype), linear_weight.to(acc_dtype),
                    None if linear_bias is None else linear_bias.to(acc_dtype))
    kept = target != ignore_index
    safe = ember.where(kept, target, 0)
    row_weight = kept.to(acc_dtype) if weight is None else \
        weight.to(acc_dtype)[safe] * kept.to(acc_dtype)
    return logits, ember.logsumexp(logits, 1), safe, row_weight


class _ChunkedLinearCrossEntropy(Function):
    """Forward: the loss chunk by chunk.  Backward: each chunk's logits again, and from
    them ``(softmax - one_hot) * row_weight * row_scale`` as the logits' gradient."""

    @staticmethod
    def forward(ctx, input, linear_weight, linear_bias, target, weight, reduction,
                ignore_index, chunk, acc_dtype):
        losses, total_weight = [], 0.0
        for start in range(0, input.shape[0], chunk):
            part = slice(start, start + chunk)
            logits, lse, safe, row_weight = _chunk_terms(
                input[part], linear_weight, linear_bias, target[part], weight, ignore_index,
                acc_dtype)
            picked = logits.gather(1, safe.unsqueeze(1)).squeeze(1)
            loss = (lse - picked) * row_weight
            losses.append(loss if reduction == "none" else loss.sum())
            total_weight = total_weight + row_weight.sum()
        ctx.save_for_backward(input, linear_weight, linear_bias, target, weight)
        ctx.options = (reduction, ignore_index, chunk, acc_dtype)
        if reduction == "none":
            out = ember.cat(losses) if losses else ember.zeros(0, dtype=acc_dtype)
        else:
            out = ember.stack(losses).sum() if losses else ember.zeros((), dtype=acc_dtype)
            if reduction == "mean":
                ctx.total_weight = total_weight
                out = out / total_weight
        return out.to(input.dtype)

    @staticmethod
    def backward(ctx, grad):
        input, linear_weight, linear_bias, target, weight = ctx.saved_tensors
        reduction, ignore_index, chunk, acc_dtype = ctx.options
        grad = grad.to(acc_dtype)
        if reduction == "mean":
            grad = grad / ctx.total_weight
        needs = ctx.needs_input_grad
        grad_input = ember.zeros(input.shape, dtype=acc_dtype, device=input.device) \
            if needs[0] else None
        grad_weight = ember.zeros(linear_weight.shape, dtype=acc_dtype, device=input.device) \
            if needs[1] else None
        grad_bias = ember.zeros(linear_bias.shape, dtype=acc_dtype, device=input.device) \
            if needs[2] else None
        for start in range(0, input.shape[0], chunk):
            part = slice(start, start + chunk)
            x = input[part].to(acc_dtype)
            logits, lse, safe, row_weight = _chunk_terms(
                x, linear_weight, linear_bias, target[part], weight, ignore_index, acc_dtype)
            scale = row_weight * (grad[part] if reduction == "none" else grad)
            grad_logits = (logits - lse.unsqueeze(1)).exp()
            grad_logits = grad_logits.scatter_add(
                1, safe.unsqueeze(1), ember.full((x.shape[0], 1), -1.0, dtype=acc_dtype,
                                                 device=x.device)) * scale.unsqueeze(1)
            if grad_input is not None:
                grad_input[part] = grad_logits @ linear_weight.to(acc_dtype)
            if grad_weight is not None:
                grad_weight = grad_weight + grad_logits.t() @ x
            if grad_bias is not None:
                grad_bias = grad_bias + grad_logits.sum(0)
        return (_cast(grad_input, input), _cast(grad_weight, linear_weight),
                _cast(grad_bias, linear_bias), None, None, None, None, None, None)


def _cast(grad, like):
    return None if grad is None else grad.to(like.dtype)
