"""The connectionist temporal classification loss of :mod:`ember.nn.functional`."""
from ember.ops.autocast import autocasts
import numpy as np

import ember
from ember.nn._functional.loss import _check_reduction
from ember.ops.ctc import ctc_loss_per_sample


def _lengths_array(lengths, name):
    """Lengths given as a tensor, a sequence or an integer, as a 1-D int64 array."""
    if isinstance(lengths, ember.Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == ember.bool:
            raise RuntimeError(f"{name} must be integral, got dtype {lengths.dtype}")
        return np.asarray(lengths.detach().cpu()).astype(np.int64).reshape(-1)
    values = np.asarray(lengths) if isinstance(lengths, (tuple, list)) else None
    if values is None or values.dtype.kind not in "iu" or values.ndim != 1:
        raise TypeError(f"ctc_loss(): {name} must be a tensor or a sequence of ints, got "
                        f"{type(lengths).__name__}")
    return values.astype(np.int64).reshape(-1)


@autocasts("ctc_loss")
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification loss (Graves et al., 2006).

    The negative log likelihood of each target sequence, summed over all the
    alignments of it to the input frames (with blanks and repeats).

    Parameters
    ----------
    log_probs : Tensor
        (T, N, C) or unbatched (T, C) log probabilities (e.g. from ``log_softmax``),
        float32 or float64.
    targets : Tensor
        Integer labels: (N, S) padded, or the targets of all samples concatenated
        into one 1-D tensor (for unbatched input, (S,)).
    input_lengths, target_lengths : Tensor or tuple of int
        (N,) lengths of each input (at most T) and each target.
    blank : int, default 0
        The blank label.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'`` divides each loss by its target length, then averages over the
        batch.
    zero_infinity : bool, default False
        Replace infinite losses (inputs too short for their targets) and their
        gradients by zero.

    Returns
    -------
    Tensor
        The loss: scalar, or (N,) (a scalar for unbatched input) with
        ``reduction='none'``.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> log_probs = ember.full((3, 1, 2), 0.5).log()
    >>> F.ctc_loss(log_probs, ember.tensor([[1]]), (3,), (1,), reduction="sum")
    tensor(0.2877)
    """
    _check_reduction(reduction)
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D (unbatched) or 3-D, got "
                           f"{log_probs.dim()}-D")
    batched = log_probs.dim() == 3
    if not isinstance(targets, ember.Tensor):
        raise TypeError(f"ctc_loss(): targets must be a Tensor, got {type(targets).__name__}")
    if not batched and targets.dim() != 1:
        raise RuntimeError(f"ctc_loss: expected 1-D targets for unbatched log_probs, got "
                           f"{targets.dim()}-D")
    lengths = _lengths_array(target_lengths, "target_lengths")
    loss = ctc_loss_per_sample(log_probs if batched else log_probs.unsqueeze(1),
                               np.asarray(targets.detach().cpu()),
                               _lengths_array(input_lengths, "input_lengths"), lengths,
                               int(blank), bool(zero_infinity))
    if reduction == "mean":
        divisor = ember.tensor(np.maximum(lengths, 1).tolist(), dtype=loss.dtype,
                               device=loss.device)
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)
