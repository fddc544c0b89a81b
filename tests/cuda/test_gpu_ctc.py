"""The CTC loss on the GPU (the alpha/beta kernels of kernels/norm.cu) against the CPU:
losses and gradients in float32 and float64, padded and concatenated targets, repeated
labels, empty targets and inputs, impossible alignments with and without
zero_infinity, targets longer than a block of threads.  Marked gpu: without a GPU they
run on the emulated one."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.ops.ctc import ctc_loss_per_sample

pytestmark = pytest.mark.gpu

TOL = {ember.float32: 2e-5, ember.float64: 1e-12}


def log_probs(T, N, C, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal((T, N, C))
    return ember.tensor(x).log_softmax(2).to(dtype)


def loss_and_grad(lp, targets, input_lengths, target_lengths, device, **kw):
    """Per-sample losses and d(sum of weighted losses)/d log_probs on ``device``."""
    x = lp.to(device).detach().requires_grad_()
    loss = ctc_loss_per_sample(x, targets, input_lengths, target_lengths, **kw)
    weights = ember.arange(1.0, loss.shape[0] + 1, dtype=lp.dtype, device=device)
    (loss * weights).sum().backward()
    return loss.detach(), x.grad


def assert_close(got, want, tol):
    assert got.device.type == "cuda" and got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got.cpu().to(ember.float64).numpy(),
                               want.to(ember.float64).numpy(), rtol=tol, atol=tol)


def check(lp, targets, input_lengths, target_lengths, **kw):
    want = loss_and_grad(lp, targets, input_lengths, target_lengths, "cpu", **kw)
    cuda_targets = targets.cuda() if isinstance(targets, ember.Tensor) else targets
    got = loss_and_grad(lp, cuda_targets, input_lengths, target_lengths, "cuda", **kw)
    for g, w in zip(got, want):
        assert_close(g, w, TOL[lp.dtype])
    return got


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_padded_and_concatenated_targets(dtype):
    lp = log_probs(15, 4, 6, dtype)
    padded = ember.tensor([[1, 2, 2, 3], [4, 4, 4, 0], [5, 1, 0, 0], [2, 3, 1, 5]])
    lengths = ([15, 12, 9, 15], [4, 3, 2, 4])
    check(lp, padded, *lengths)
    concatenated = ember.tensor([1, 2, 2, 3, 4, 4, 4, 5, 1, 2, 3, 1, 5])
    check(lp, concatenated, *lengths, blank=0)
    check(lp, padded - 1 + (padded == 0).long() * 6, *lengths, blank=5)   # the last blank


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_empty_targets_empty_inputs_and_impossible_alignments(dtype):
    lp = log_probs(6, 5, 4, dtype, 1)
    targets = ember.tensor([[1, 2, 3], [1, 1, 1], [0, 0, 0], [2, 0, 0], [3, 3, 0]])
    # sample 1 needs 5 steps for 3 repeats but has 4; sample 2 has no target; sample 3 no
    # input; sample 4 no input and no target
    input_lengths, target_lengths = [6, 4, 5, 0, 0], [3, 3, 0, 1, 0]
    loss, _ = check(lp, targets, input_lengths, target_lengths)
    assert np.isinf(loss.cpu().numpy()[[1, 3]]).all()
    loss, grad = check(lp, targets, input_lengths, target_lengths, zero_infinity=True)
    assert (loss.cpu().numpy()[[1, 3]] == 0).all()
    assert (grad.cpu().numpy()[:, [1, 3]] == 0).all()


def test_targets_longer_than_a_block_and_a_non_contiguous_input():
    """2 * 150 + 1 extended positions: more than one per thread of a block."""
    lp = log_probs(400, 2, 7, ember.float64, 2)
    targets = ember.tensor(np.random.default_rng(3).integers(1, 7, (2, 150)))
    check(lp, targets, [400, 380], [150, 140])
    strided = log_probs(400, 7, 2, ember.float64, 4).permute(0, 2, 1)
    check(strided, targets, [400, 390], [150, 150])


def test_functional_reductions_and_batch_of_one():
    lp = log_probs(10, 3, 5, ember.float32, 5)
    targets, lengths = ember.tensor([[1, 2], [3, 3], [4, 1]]), ([10, 8, 9], [2, 2, 1])
    for reduction in ("none", "mean", "sum"):
        want = F.ctc_loss(lp, targets, *lengths, reduction=reduction)
        got = F.ctc_loss(lp.cuda(), targets.cuda(), ember.tensor(lengths[0]).cuda(),
                         ember.tensor(lengths[1]).cuda(), reduction=reduction)
        assert_close(got, want, TOL[ember.float32])
    check(lp[:, :1], targets[:1], [10], [2])
    none = ember.zeros(0, dtype=ember.int64)
    check(lp[:, :0], targets[:0], none, none)                   # an empty batch


def test_errors_are_the_cpus_with_the_device_named():
    lp = log_probs(5, 1, 4, ember.float32)
    with pytest.raises(RuntimeError, match='"ctc_loss_cuda" not implemented for '):
        ctc_loss_per_sample(lp.half().cuda(), [[1]], [5], [1])
    with pytest.raises(IndexError, match="target label 4 is out of range for 4 classes"):
        ctc_loss_per_sample(lp.cuda(), ember.tensor([[4]]).cuda(), [5], [1])
    with pytest.raises(RuntimeError, match="input_lengths to have value in"):
        ctc_loss_per_sample(lp.cuda(), [[1]], [6], [1])
