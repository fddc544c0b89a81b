"""The CTC loss op: per-sample negative log likelihoods from the compiled kernel,
whose backward uses the gradient the kernel computed in the same pass."""
from ember._core import _ctc
from ember._core._tensor import Tensor, _recorded, record
from ember.ops.derivatives import derivative


def _ctc_raw(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity,
             need_grad):
    # targets and lengths are checked on the host (as PyTorch takes the lengths there);
    # the log probabilities stay where they are
    def host(x):
        return x.cpu() if isinstance(x, Tensor) else x
    return _ctc.ctc_loss(log_probs, host(targets), host(input_lengths), host(target_lengths),
                         blank, zero_infinity, need_grad)


def ctc_loss_per_sample(log_probs, targets, input_lengths, target_lengths, blank=0,
                        zero_infinity=False):
    """Negative log likelihood of each sample of a (T, N, C) batch, differentiable in
    ``log_probs`` (once: like PyTorch's, its backward is not differentiable)."""
    if _recorded(log_probs):
        return record("ctc_loss", _ctc_raw, (log_probs, targets, input_lengths,
                                             target_lengths, blank, zero_infinity, True))[0]
    return _ctc_raw(log_probs, targets, input_lengths, target_lengths, blank,
                    zero_infinity, False)[0]


def _scale_saved_grad(grad, log_probs, saved):
    return saved * grad.reshape(1, -1, 1)


@derivative("ctc_loss", node="CtcLossBackward0", save_result=(1,))
def _ctc_loss_backward(ctx, grad, log_probs, targets, input_lengths, target_lengths, blank,
                       zero_infinity, need_grad):
    saved = ctx.result[1]
    if (_recorded(grad[0]) or _recorded(log_probs)):
        # recorded without a derivative: a second derivative raises, as in PyTorch
        return record("ctc_loss_backward", _scale_saved_grad, (grad[0], log_probs, saved))
    return _scale_saved_grad(grad[0], log_probs, saved)
