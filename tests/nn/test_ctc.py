"""CTC loss (the compiled alpha/beta kernel and its op) against torch: losses and
gradients for several shapes, both target layouts, all reductions, both float dtypes,
repeated labels, empty targets, impossible alignments, and the argument errors."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import nn

RNG = np.random.default_rng(0)


def make_case(T, N, C, S, blank=0, repeat=False, dtype=np.float64):
    logits = RNG.standard_normal((T, N, C)).astype(dtype)
    labels = [c for c in range(C) if c != blank]
    targets = RNG.choice(labels, (N, S))
    if repeat and S > 1:
        targets[:, 1] = targets[:, 0]          # a repeated label needs a blank between
    target_lengths = RNG.integers(0, S + 1, N)
    input_lengths = RNG.integers(1, T + 1, N)
    input_lengths[0] = T
    target_lengths[0] = S
    return logits, targets, input_lengths, target_lengths


def run_both(logits, targets, input_lengths, target_lengths, layout="padded", seed=None,
             **kwargs):
    """Loss and d(loss * seed)/d logits from torch and ember (log_softmax in front)."""
    if layout == "concatenated":
        targets = np.concatenate([targets[b, :n] for b, n in enumerate(target_lengths)])
    results = []
    for lib in (torch, ember):
        x = lib.tensor(logits, requires_grad=True)
        lp = x.log_softmax(-1)
        fn = torch.nn.functional.ctc_loss if lib is torch else F.ctc_loss
        loss = fn(lp, lib.tensor(targets), lib.tensor(input_lengths), lib.tensor(target_lengths),
                  **kwargs)
        weight = lib.tensor(seed if seed is not None else np.ones(tuple(loss.shape)),
                            dtype=loss.dtype)
        (loss * weight).sum().backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    return results


def assert_match(results, rtol=1e-10, atol=1e-12):
    (t_loss, t_grad), (e_loss, e_grad) = results
    assert e_loss.shape == t_loss.shape and e_loss.dtype == t_loss.dtype
    np.testing.assert_allclose(e_loss, t_loss, rtol=rtol, atol=atol)
    np.testing.assert_allclose(e_grad, t_grad, rtol=rtol, atol=atol)


@pytest.mark.parametrize("T,N,C,S", [(1, 1, 2, 1), (6, 3, 4, 2), (20, 5, 7, 6), (50, 2, 30, 12)])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_matches_torch(T, N, C, S, layout, reduction):
    logits, targets, il, tl = make_case(T, N, C, S)
    il = np.maximum(il, np.minimum(T, 2 * tl + 1))     # feasible alignments only
    seed = RNG.standard_normal(N) if reduction == "none" else None
    assert_match(run_both(logits, targets, il, tl, layout, seed, reduction=reduction))


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-4), (np.float64, 1e-10)])
def test_dtypes_repeated_labels_and_blank(dtype, rtol):
    logits, targets, il, tl = make_case(15, 4, 5, 4, blank=3, repeat=True, dtype=dtype)
    il[:] = 15
    results = run_both(logits, targets, il, tl, blank=3, reduction="none",
                       seed=RNG.standard_normal(4))
    assert results[1][0].dtype == dtype and results[1][1].dtype == dtype
    assert_match(results, rtol=rtol, atol=rtol * 1e-2)


def test_empty_targets_and_zero_input_length():
    logits, targets, il, tl = make_case(8, 4, 3, 3)
    tl[:] = [0, 2, 0, 1]
    il[:] = [8, 5, 0, 0]            # sample 3: one label, no frames: infinite loss
    results = run_both(logits, targets, il, tl, reduction="none", seed=np.ones(4))
    assert np.isinf(results[1][0][3])
    assert_match(results)
    assert_match(run_both(logits, targets, il, tl, reduction="none", zero_infinity=True))


def test_impossible_alignments():
    logits, targets, il, tl = make_case(6, 3, 4, 3, repeat=True)
    tl[:] = 3
    il[:] = [6, 3, 4]               # a repeat needs 4 frames for 3 labels: sample 1 impossible
    (t_loss, t_grad), (e_loss, e_grad) = run_both(logits, targets, il, tl, reduction="none")
    assert np.isinf(t_loss[1]) and np.isinf(e_loss[1])
    np.testing.assert_allclose(e_loss, t_loss)
    np.testing.assert_array_equal(np.isnan(e_grad), np.isnan(t_grad))
    np.testing.assert_allclose(e_grad[:, [0, 2]], t_grad[:, [0, 2]], rtol=1e-10, atol=1e-12)
    for reduction in ("none", "mean", "sum"):
        results = run_both(logits, targets, il, tl, reduction=reduction, zero_infinity=True)
        assert np.isfinite(results[1][0]).all() and np.isfinite(results[1][1]).all()
        assert_match(results)


def test_unbatched_and_tuple_lengths():
    logits = RNG.standard_normal((7, 5))
    expected = torch.nn.functional.ctc_loss(torch.tensor(logits).log_softmax(-1),
                                            torch.tensor([1, 2, 2]), (7,), (3,),
                                            reduction="none")
    actual = F.ctc_loss(ember.tensor(logits).log_softmax(-1), ember.tensor([1, 2, 2]), (7,),
                        (3,), reduction="none")
    assert tuple(actual.shape) == () and np.allclose(actual.numpy(), expected.numpy())
    logits, targets, il, tl = make_case(9, 3, 4, 2)
    expected = torch.nn.functional.ctc_loss(torch.tensor(logits).log_softmax(-1),
                                            torch.tensor(targets), tuple(il.tolist()),
                                            tuple(tl.tolist()))
    actual = F.ctc_loss(ember.tensor(logits).log_softmax(-1), ember.tensor(targets),
                        tuple(il.tolist()), tuple(tl.tolist()))
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-10)


def test_module_matches_functional():
    logits, targets, il, tl = make_case(10, 3, 5, 3)
    module = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert repr(module) == "CTCLoss()"
    lp = ember.tensor(logits).log_softmax(-1)
    expected = torch.nn.CTCLoss(reduction="sum", zero_infinity=True)(
        torch.tensor(logits).log_softmax(-1), torch.tensor(targets), torch.tensor(il),
        torch.tensor(tl))
    np.testing.assert_allclose(module(lp, ember.tensor(targets), ember.tensor(il),
                                      ember.tensor(tl)).numpy(), expected.numpy(), rtol=1e-10)


def test_grad_fn_and_no_double_backward():
    logits, targets, il, tl = make_case(5, 2, 4, 2)
    lp = ember.tensor(logits, requires_grad=True)
    loss = F.ctc_loss(lp, ember.tensor(targets), ember.tensor(il), ember.tensor(tl),
                      reduction="none")
    assert loss.grad_fn.name() == "CtcLossBackward0"
    (grad,) = ember.autograd.grad(loss.sum(), lp, create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        ember.autograd.grad(grad.sum(), lp)
    with ember.no_grad():
        assert F.ctc_loss(lp, ember.tensor(targets), ember.tensor(il), ember.tensor(tl)).grad_fn \
            is None


def test_non_contiguous_log_probs():
    logits = RNG.standard_normal((3, 6, 5))          # (N, T, C) stored, transposed to (T, N, C)
    targets, il, tl = np.array([[1, 2], [3, 3], [4, 1]]), np.array([6, 5, 6]), np.array([2, 2, 1])
    expected = torch.nn.functional.ctc_loss(
        torch.tensor(logits).log_softmax(-1).transpose(0, 1), torch.tensor(targets),
        torch.tensor(il), torch.tensor(tl), reduction="none")
    actual = F.ctc_loss(ember.tensor(logits).log_softmax(-1).transpose(0, 1),
                        ember.tensor(targets), ember.tensor(il), ember.tensor(tl),
                        reduction="none")
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-10)


@pytest.mark.parametrize("targets,il,tl,exc,match", [
    ([[1, 2], [1, 1]], [6, 5], [2, 2], RuntimeError, "input_lengths to have value in"),
    ([[1, 2], [1, 1]], [-1, 5], [2, 2], RuntimeError, "input_lengths to have value in"),
    ([[1, 2], [1, 1]], [5, 5], [3, 2], RuntimeError, "size at least 3 at dimension 1"),
    ([[1, 2], [1, 1]], [5, 5], [-1, 2], RuntimeError, "target_lengths to have value at least 0"),
    ([1, 2, 1], [5, 5], [1, 1], RuntimeError, "target_lengths sum to 2"),
    ([[1, 7], [1, 1]], [5, 5], [2, 2], IndexError, "label 7 is out of range for 4 classes"),
    ([[1, 2]], [5, 5], [2, 2], RuntimeError, "batch size 2"),
    ([[1, 2], [1, 1]], [5, 5, 5], [2, 2], RuntimeError, "input_lengths must be of size"),
])
def test_errors(targets, il, tl, exc, match):
    lp = ember.randn(5, 2, 4, dtype=ember.float64).log_softmax(2)
    with pytest.raises(exc, match=match):
        F.ctc_loss(lp, ember.tensor(targets), ember.tensor(il), ember.tensor(tl))


def test_argument_type_errors():
    lp = ember.randn(5, 2, 4).log_softmax(2)
    tg, il, tl = ember.tensor([[1, 2], [1, 1]]), ember.tensor([5, 5]), ember.tensor([2, 2])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, tg, il, tl, blank=4)
    with pytest.raises(RuntimeError, match="input_lengths must be integral"):
        F.ctc_loss(lp, tg, ember.tensor([5.0, 5.0]), tl)
    with pytest.raises(TypeError, match="input_lengths"):
        F.ctc_loss(lp, tg, 5, tl)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.ctc_loss(lp, tg, il, tl, reduction="bad")
    with pytest.raises(RuntimeError, match="not implemented for 'ember.float16'"):
        F.ctc_loss(lp.half(), tg, il, tl)
    with pytest.raises(RuntimeError, match="2-D .* or 3-D"):
        F.ctc_loss(lp[0, 0], tg, il, tl)


def test_gradient_of_log_probs_leaf_matches_torch():
    # PyTorch's gradient with respect to log_probs itself (not through log_softmax)
    logits, targets, il, tl = make_case(7, 3, 4, 2)
    lp = torch.tensor(logits).log_softmax(-1).detach().requires_grad_()
    torch.nn.functional.ctc_loss(lp, torch.tensor(targets), torch.tensor(il),
                                 torch.tensor(tl)).backward()
    elp = ember.tensor(lp.detach().numpy(), requires_grad=True)
    F.ctc_loss(elp, ember.tensor(targets), ember.tensor(il), ember.tensor(tl)).backward()
    np.testing.assert_allclose(elp.grad.numpy(), lp.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck_through_log_softmax():
    logits, targets, il, tl = make_case(5, 2, 3, 2)
    x = ember.tensor(logits, requires_grad=True)
    tg, ilt, tlt = ember.tensor(targets), ember.tensor(il), ember.tensor(tl)
    assert ember.autograd.gradcheck(
        lambda v: F.ctc_loss(v.log_softmax(-1), tg, ilt, tlt, reduction="none"), (x,))


def test_threads_give_identical_results():
    logits, targets, il, tl = make_case(30, 9, 6, 5)
    lp = ember.tensor(logits).log_softmax(-1)
    args = (ember.tensor(targets), ember.tensor(il), ember.tensor(tl))
    threads = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = F.ctc_loss(lp, *args, reduction="none").numpy()
        ember.set_num_threads(2)
        two = F.ctc_loss(lp, *args, reduction="none").numpy()
    finally:
        ember.set_num_threads(threads)
    np.testing.assert_array_equal(one, two)


def test_target_dtypes_and_layouts():
    logits, targets, il, tl = make_case(9, 3, 5, 3)
    lp = ember.tensor(logits).log_softmax(-1)
    expected = F.ctc_loss(lp, ember.tensor(targets), ember.tensor(il), ember.tensor(tl),
                          reduction="none").numpy()
    as_int32 = ember.tensor(targets.astype(np.int32))
    transposed = ember.tensor(np.ascontiguousarray(targets.T)).transpose(0, 1)
    for tg in (as_int32, transposed):
        actual = F.ctc_loss(lp, tg, ember.tensor(il.astype(np.int32)), tuple(tl.tolist()),
                            reduction="none")
        np.testing.assert_array_equal(actual.numpy(), expected)
    expanded = ember.tensor(logits[:, :1]).log_softmax(-1).expand(9, 3, 5)
    same_input = F.ctc_loss(expanded, ember.tensor(targets), (9, 9, 9), ember.tensor(tl),
                            reduction="none")
    reference = torch.nn.functional.ctc_loss(
        torch.tensor(logits[:, :1]).log_softmax(-1).expand(9, 3, 5), torch.tensor(targets),
        (9, 9, 9), tuple(tl.tolist()), reduction="none")
    np.testing.assert_allclose(same_input.numpy(), reference.numpy(), rtol=1e-10)


def test_empty_batch():
    lp = ember.zeros(4, 0, 3, requires_grad=True)
    loss = F.ctc_loss(lp, ember.zeros(0, 2, dtype=ember.int64), ember.zeros(0, dtype=ember.int64),
                      ember.zeros(0, dtype=ember.int64), reduction="sum")
    assert float(loss) == 0.0
    loss.backward()
    assert tuple(lp.grad.shape) == (4, 0, 3)
