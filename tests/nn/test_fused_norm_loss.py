"""Fused normalisation, cross-entropy and embedding kernels (ember.ops.nn_fused behind
ember.nn.functional): values and gradients against torch, running statistics,
gradcheck/gradgradcheck in float64, argument errors."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from functional_oracle import Const, compare

rng = np.random.default_rng(7)


def arr(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, normalized", [((6, 8), (8,)), ((2, 3, 5), (3, 5)),
                                               ((2, 3, 4, 4), (4,)), ((0, 7), (7,))])
def test_layer_norm(dtype, shape, normalized):
    compare(lambda F, lib, x, w, b: F.layer_norm(x, normalized, w, b, 1e-5),
            arr(*shape), arr(*normalized), arr(*normalized), dtype=dtype)
    compare(lambda F, lib, x: F.layer_norm(x, normalized), arr(*shape), dtype=dtype)
    compare(lambda F, lib, x, w: F.rms_norm(x, normalized, w, 1e-6), arr(*shape),
            arr(*normalized), dtype=dtype)


def test_layer_norm_noncontiguous_and_flipped():
    x = arr(5, 6)
    compare(lambda F, lib, x, w, b: F.layer_norm(x.transpose(0, 1), (5,), w, b), x, arr(5),
            arr(5))
    flipped = ember.tensor(x)[:, ::-1]
    np.testing.assert_allclose(np.asarray(F.layer_norm(flipped, (6,))),
                               np.asarray(F.layer_norm(flipped.contiguous(), (6,))), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5), (3, 2, 2, 2, 2)])
def test_batch_norm_train_and_eval(dtype, shape):
    c = shape[1]
    for training in (True, False):
        compare(lambda F, lib, x, w, b: F.batch_norm(
            x, lib.tensor(np.arange(c, dtype=dtype)), lib.tensor(np.ones(c, dtype=dtype) * 2),
            w, b, training, 0.1, 1e-5), arr(*shape), arr(c), arr(c), dtype=dtype)


def test_batch_norm_running_stats_after_steps():
    runs = {}
    for lib in (ember, torch):
        mean, var = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        for step in range(4):
            x = lib.tensor(np.random.default_rng(step).standard_normal((5, 3, 4)))
            (F if lib is ember else torch.nn.functional).batch_norm(
                x, mean, var, None, None, True, 0.3, 1e-5)
        runs[lib] = np.asarray(mean), np.asarray(var)
    np.testing.assert_allclose(runs[ember][0], runs[torch][0], rtol=1e-12)
    np.testing.assert_allclose(runs[ember][1], runs[torch][1], rtol=1e-12)


def test_batch_norm_module_and_relu_inplace():
    torch.manual_seed(0)
    tm = torch.nn.BatchNorm2d(4).double()
    em = ember.nn.BatchNorm2d(4, dtype=ember.float64)
    x = arr(3, 4, 5, 5)
    for _ in range(2):
        tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
        torch.nn.functional.relu(tm(tx), inplace=True).sum().backward()
        F.relu(em(ex), inplace=True).sum().backward()
        np.testing.assert_allclose(np.asarray(ex.grad), tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(np.asarray(em.running_var), tm.running_var.numpy(), rtol=1e-12)
    em.eval()
    tm.eval()
    np.testing.assert_allclose(np.asarray(em(ember.tensor(x)).detach()),
                               tm(torch.tensor(x)).detach().numpy(), atol=1e-10)


def test_instance_and_group_norm():
    compare(lambda F, lib, x, w, b: F.instance_norm(
        x, lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64), w, b),
        arr(2, 3, 6), arr(3), arr(3))
    compare(lambda F, lib, x, w, b: F.group_norm(x, 2, w, b), arr(3, 4, 5), arr(4), arr(4))
    compare(lambda F, lib, x: F.group_norm(x, 3, eps=1e-3), arr(2, 6, 2, 3), dtype=np.float32)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy(reduction, smoothing, weighted):
    weight = Const(rng.random(5) + 0.5)
    for shape, target in (((7, 5), rng.integers(0, 5, 7)), ((5,), np.array(2)),
                          ((3, 5, 2, 3), rng.integers(0, 5, (3, 2, 3)))):
        target = np.where(np.arange(target.size).reshape(target.shape) % 4 == 1, -100, target) \
            if target.ndim else target

        def fn(F, lib, x, w, target=target):
            return F.cross_entropy(x, lib.tensor(target), weight=w, reduction=reduction,
                                   label_smoothing=smoothing)
        compare(fn, arr(*shape), weight if weighted else None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_cross_entropy_over_many_positions(dtype, threads):
    # (N, C, H, W) logits run in blocks of 256 positions: several full blocks and a
    # partial one per image, ignored targets, a position of -inf logits, weights, smoothing
    x = rng.standard_normal((2, 6, 23, 29)) * 3
    x[1, :, 0, 0] = -np.inf
    target = rng.integers(0, 6, (2, 23, 29))
    target[:, ::7, 3] = -100
    weight = rng.random(6) + 0.5
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for w in (None, weight):
            for smoothing in (0.0, 0.1):
                for reduction in ("mean", "none"):
                    compare(lambda F, lib, x, w=w, s=smoothing, r=reduction: F.cross_entropy(
                        x[1:] if s else x, lib.tensor(target[1:] if s else target),
                        weight=None if w is None else lib.tensor(w.astype(dtype)),
                        reduction=r, label_smoothing=s), x, dtype=dtype)
    finally:
        ember.set_num_threads(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nll_loss(dtype):
    target = np.array([1, 0, 3, -1, 2])
    for reduction in ("mean", "sum", "none"):
        compare(lambda F, lib, x, w: F.nll_loss(lib.log_softmax(x, 1), lib.tensor(target), w,
                                                ignore_index=-1, reduction=reduction),
                arr(5, 4), Const(rng.random(4)), dtype=dtype)
    spatial_target = rng.integers(0, 3, (2, 4))
    compare(lambda F, lib, x: F.nll_loss(x, lib.tensor(spatial_target)), arr(2, 3, 4),
            dtype=dtype)


def test_cross_entropy_empty_and_all_ignored():
    compare(lambda F, lib, x: F.cross_entropy(x, lib.tensor(np.zeros(0, np.int64)),
                                              reduction="sum"), arr(0, 4))
    compare(lambda F, lib, x: F.cross_entropy(x, lib.tensor(np.full(3, -100))), arr(3, 4))


def test_embedding_grads():
    idx = np.array([[1, 3, 1], [0, 3, 3]])
    for padding_idx, scale in ((None, False), (3, False), (1, True), (-1, True)):
        compare(lambda F, lib, w: F.embedding(lib.tensor(idx), w, padding_idx=padding_idx,
                                              scale_grad_by_freq=scale), arr(4, 5))
    compare(lambda F, lib, w: F.embedding(lib.tensor(idx.astype(np.int32)), w), arr(4, 3),
            dtype=np.float32)


def _double(*shape):
    return ember.tensor(arr(*shape), requires_grad=True)


@pytest.mark.parametrize("fn, inputs", [
    (lambda x, w, b: F.layer_norm(x, (4,), w, b), lambda: (_double(3, 4), _double(4),
                                                           _double(4))),
    (lambda x, w: F.rms_norm(x, (2, 3), w), lambda: (_double(2, 2, 3), _double(2, 3))),
    (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), lambda: (_double(3, 2, 2),
                                                                       _double(2), _double(2))),
    (lambda x, w, b: F.batch_norm(x, ember.zeros(2, dtype=ember.float64),
                                  ember.ones(2, dtype=ember.float64) * 3, w, b, False),
     lambda: (_double(3, 2, 2), _double(2), _double(2))),
    (lambda x, w, b: F.group_norm(x, 2, w, b), lambda: (_double(2, 4, 3), _double(4),
                                                        _double(4))),
    (lambda x, w: F.cross_entropy(x, ember.tensor([1, 0, -100, 2]), w, label_smoothing=0.1),
     lambda: (_double(4, 3), ember.tensor([1.0, 2.0, 0.5], dtype=ember.float64))),
    (lambda x: F.cross_entropy(x, ember.tensor([[1, 0], [2, 2]]), reduction="none"),
     lambda: (_double(2, 3, 2),)),
    (lambda x: F.nll_loss(x, ember.tensor([1, 0, 2]), reduction="sum"),
     lambda: (_double(3, 3),)),
    (lambda w: F.embedding(ember.tensor([[0, 2], [2, 1]]), w), lambda: (_double(3, 2),)),
])
def test_gradcheck_and_gradgradcheck(fn, inputs):
    assert gradcheck(fn, inputs())
    assert gradgradcheck(fn, inputs())


def test_half_precision_runs_in_float32():
    x = arr(4, 6).astype(np.float32)
    for dtype in (ember.float16, ember.bfloat16):
        out = F.layer_norm(ember.tensor(x).to(dtype), (6,))
        assert out.dtype == dtype
        np.testing.assert_allclose(np.asarray(out.to(ember.float32)),
                                   torch.nn.functional.layer_norm(torch.tensor(x), (6,)).numpy(),
                                   atol=3e-2)


def test_errors():
    x = ember.randn(3, 4)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, ember.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.nll_loss(x, ember.tensor([0, -3, 1]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, ember.tensor([0, 1, 1]), weight=ember.ones(3))
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(ember.tensor([0, 5]), ember.randn(4, 2, requires_grad=True))
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (5,))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(ember.randn(2, 6, 3), 4)
