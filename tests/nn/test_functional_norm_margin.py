"""ember.nn.functional normalisation, margin losses, dropout variants and in-place
activations against torch.nn.functional."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import Const, compare  # noqa: E402

rng = np.random.default_rng(99)
REDUCTIONS = ["none", "mean", "sum"]


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_group_rms_norm(dtype):
    x = randn(3, 4, 5)
    w, b = randn(4, 5), randn(4, 5)
    compare(lambda F, lib, x: F.layer_norm(x, (5,)), x, dtype=dtype)
    compare(lambda F, lib, x, w, b: F.layer_norm(x, [4, 5], w, b, eps=1e-3), x, w, b, dtype=dtype)
    compare(lambda F, lib, x, w: F.rms_norm(x, (5,), w[0]), x, w, dtype=dtype)
    compare(lambda F, lib, x: F.rms_norm(x, (4, 5), eps=1e-2), x, dtype=dtype)
    x4, gw, gb = randn(2, 6, 3, 2), randn(6), randn(6)
    compare(lambda F, lib, x, w, b: F.group_norm(x, 3, w, b), x4, gw, gb, dtype=dtype)
    compare(lambda F, lib, x: F.group_norm(x, 2), x4, dtype=dtype)
    compare(lambda F, lib, x: F.group_norm(x, 6, eps=1e-3), x4.reshape(2, 6, 6), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 2, 4)])
def test_batch_and_instance_norm(shape, dtype):
    x, w, b = randn(*shape), randn(3), randn(3)
    mean, var = randn(3), rng.uniform(0.5, 2.0, 3)
    compare(lambda F, lib, x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b,
            dtype=dtype)
    compare(lambda F, lib, x, m, v: F.batch_norm(x, m, v), x, Const(mean), Const(var),
            dtype=dtype)
    if len(shape) > 2:
        compare(lambda F, lib, x, w, b: F.instance_norm(x, weight=w, bias=b), x, w, b,
                dtype=dtype)
        compare(lambda F, lib, x, m, v: F.instance_norm(x, m, v, use_input_stats=False), x,
                Const(mean), Const(var), dtype=dtype)


MIXED_NORMS = {
    "layer_norm": lambda F, x, w, b, m, v: F.layer_norm(x, (6,), w, b),
    "layer_norm-weight-only": lambda F, x, w, b, m, v: F.layer_norm(x, (6,), w),
    "rms_norm": lambda F, x, w, b, m, v: F.rms_norm(x, (6,), w),
    "rms_norm-default-eps": lambda F, x, w, b, m, v: F.rms_norm(x * 0.01, (6,)),
    "group_norm": lambda F, x, w, b, m, v: F.group_norm(x.reshape(4, 6, 1), 3, w, b),
    "batch_norm-train": lambda F, x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=True),
    "batch_norm-eval": lambda F, x, w, b, m, v: F.batch_norm(x, m, v, w, b),
    "instance_norm": lambda F, x, w, b, m, v: F.instance_norm(x.reshape(4, 6, 1).expand(
        4, 6, 3) * x.new_tensor([1.0, 2.0, -1.0]), m, v, w, b),
}


@pytest.mark.parametrize("low", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(MIXED_NORMS))
def test_half_input_with_float32_parameters(name, low):
    # a CPU autocast region, or a half model with float32 norm layers: the input's dtype
    # comes out (it came out float32), and rms_norm's default eps is float32's (bfloat16's
    # 2 ** -7 swamped small activations)
    x, w, b = randn(4, 6), randn(6), randn(6)
    results = {}
    for lib, functional in ((ember, F), (torch, TF)):
        xl = lib.tensor(x, dtype=lib.float32).to(getattr(lib, low)).requires_grad_()
        wl = lib.tensor(w, dtype=lib.float32).requires_grad_()
        bl = lib.tensor(b, dtype=lib.float32).requires_grad_()
        m, v = lib.zeros(6), lib.ones(6)
        out = MIXED_NORMS[name](functional, xl, wl, bl, m, v)
        out.float().pow(2).sum().backward()
        results[lib] = [out, xl.grad, wl.grad, bl.grad, m, v]
    for ours, theirs in zip(results[ember], results[torch]):
        if theirs is None:
            assert ours is None
            continue
        assert str(ours.dtype)[6:] == str(theirs.dtype)[6:]
        np.testing.assert_allclose(np.asarray(ours.detach().float()),
                                   theirs.detach().float().numpy(), rtol=2e-2, atol=5e-2)


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_running_statistics_update_in_place(norm):
    x = randn(4, 3, 5)
    stats = {}
    for lib, functional in ((ember, F), (torch, TF)):
        mean, var = lib.tensor(np.zeros(3)), lib.tensor(np.ones(3))
        if norm == "batch":
            functional.batch_norm(lib.tensor(x), mean, var, training=True, momentum=0.3)
        else:
            functional.instance_norm(lib.tensor(x), mean, var, momentum=0.3)
        stats[lib] = (np.asarray(mean), np.asarray(var))
    for ours, theirs in zip(stats[ember], stats[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("low", ["bfloat16", "float16"])
def test_rms_norm_default_eps_of_reduced_input_is_float32s(low):
    # PyTorch takes the epsilon of the float32 it computes in, not bfloat16's 2**-7
    x = np.full((2, 4), 0.01, np.float32)
    ours = F.rms_norm(ember.tensor(x).to(getattr(ember, low)), (4,))
    theirs = TF.rms_norm(torch.tensor(x).to(getattr(torch, low)), (4,))
    np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=1e-3)


def test_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(ember.ones(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean"):
        F.batch_norm(ember.ones(2, 3), None, None)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(ember.ones(3, 4), (5,))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(ember.ones(2, 6, 3), 4)
    with pytest.raises(ValueError):
        TF.batch_norm(torch.ones(1, 3), None, None, training=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction, dtype):
    x = randn(5, 4)
    signs = np.where(rng.random((5, 4)) > 0.5, 1.0, -1.0)
    compare(lambda F, lib, x, y: F.hinge_embedding_loss(x, y, reduction=reduction), x, signs,
            dtype=dtype)
    compare(lambda F, lib, x, y: F.hinge_embedding_loss(x, y, margin=0.3, reduction=reduction),
            np.abs(x), signs, dtype=dtype)
    compare(lambda F, lib, x, y: F.soft_margin_loss(x, y, reduction=reduction), x, Const(signs),
            dtype=dtype)
    labels = rng.integers(0, 4, 5)
    weight = Const(rng.uniform(0.5, 2.0, 4))
    for p in (1, 2):
        compare(lambda F, lib, x, y: F.multi_margin_loss(x, y, p=p, reduction=reduction),
                x, labels, dtype=dtype)
        compare(lambda F, lib, x, y, w: F.multi_margin_loss(x, y, p=p, margin=0.5, weight=w,
                                                             reduction=reduction),
                x, labels, weight, dtype=dtype)
    compare(lambda F, lib, x, y: F.multi_margin_loss(x, y, reduction=reduction), x[0],
            np.array(labels[0]), dtype=dtype)
    multi = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 2, 3], [2, 2, -1, 0], [0, -1, 3, 3]])
    compare(lambda F, lib, x, y: F.multilabel_margin_loss(x, y, reduction=reduction), x, multi,
            dtype=dtype)
    compare(lambda F, lib, x, y: F.multilabel_margin_loss(x, y, reduction=reduction), x[0],
            multi[0], dtype=dtype)
    a, p_, n = randn(5, 4), randn(5, 4), randn(5, 4)
    compare(lambda F, lib, a, p, n: F.triplet_margin_with_distance_loss(a, p, n,
                                                                         reduction=reduction),
            a, p_, n, dtype=dtype)

    def cosine_distance(F):
        return lambda u, v: 1 - F.cosine_similarity(u, v)

    compare(lambda F, lib, a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, distance_function=cosine_distance(F), margin=0.5, swap=True,
        reduction=reduction), a, p_, n, dtype=dtype)


def test_margin_loss_errors():
    x = ember.ones(3, 4)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, ember.tensor([0, 1, 2]), p=3)
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multi_margin_loss(x, ember.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(x, ember.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, ember.tensor([0, 1, 4]))
    with pytest.raises(RuntimeError, match="'target' is out of range"):
        F.multilabel_margin_loss(x, ember.tensor([[0, 5, -1, 0]] * 3))
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="min_val cannot be greater"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.warns(UserWarning, match="reduction='none'"):
        F.l1_loss(x, x, reduce=False)
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=0.0)
    with pytest.raises(RuntimeError):
        TF.multi_margin_loss(torch.ones(3, 4), torch.tensor([0, 1]))


def test_feature_dropout_zeroes_whole_channels():
    ember.manual_seed(5)
    x = ember.ones(8, 6, 4, 3)
    # (function, input shape, leading dimensions that index a channel)
    for fn, shape, lead in ((F.dropout1d, (8, 6, 12), 2), (F.dropout2d, (8, 6, 4, 3), 2),
                            (F.dropout3d, (8, 6, 2, 2, 3), 2), (F.dropout3d, (6, 2, 2, 3), 1),
                            (F.dropout1d, (6, 12), 1)):
        y = np.asarray(fn(ember.ones(shape), 0.5))
        channels = y.reshape(shape[:lead] + (-1,))
        assert 0 < (channels == 0).mean() < 1
        assert set(np.unique(channels)) <= {0.0, 2.0}
        assert (channels.min(-1) == channels.max(-1)).all(), fn.__name__
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(ember.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(ember.ones(2, 3, 4, 5))
    assert F.dropout2d(x, 0.5, training=False) is x


def test_alpha_dropout_keeps_selu_statistics():
    ember.manual_seed(2)
    x = ember.randn(200000, dtype=ember.float64)
    y = np.asarray(F.alpha_dropout(x, 0.2, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    alpha = 1.7580993408473766

    def affine(p):
        scale = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
        return scale, alpha * scale * p  # kept: x * scale + shift; dropped: shift - alpha * scale

    scale, shift = affine(0.2)
    dropped = np.isclose(y, shift - alpha * scale)
    assert abs(dropped.mean() - 0.2) < 0.01
    np.testing.assert_allclose(y[~dropped], np.asarray(x)[~dropped] * scale + shift)
    assert F.alpha_dropout(x, 0.2) is x  # training defaults to False
    x3 = ember.randn(50, 40, 6, dtype=ember.float64)
    z = np.asarray(F.feature_alpha_dropout(x3, 0.5, training=True))
    scale, shift = affine(0.5)
    channel_dropped = np.isclose(z, shift - alpha * scale).all(-1)
    assert 0.4 < channel_dropped.mean() < 0.6
    np.testing.assert_allclose(z[~channel_dropped], np.asarray(x3)[~channel_dropped] * scale + shift)


def test_rrelu_and_inplace_variants():
    x = randn(4, 5)
    np.testing.assert_allclose(np.asarray(F.rrelu(ember.tensor(x))),
                               TF.rrelu(torch.tensor(x)).numpy())
    y = np.asarray(F.rrelu(ember.tensor(x), 0.1, 0.3, training=True))
    slopes = y[x < 0] / x[x < 0]
    assert ((slopes >= 0.1) & (slopes <= 0.3)).all()
    np.testing.assert_array_equal(y[x >= 0], x[x >= 0])
    for name, args in [("relu_", ()), ("elu_", ()), ("selu_", ()), ("celu_", ()),
                       ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.5)),
                       ("threshold_", (0.1, 3.0))]:
        e, t = ember.tensor(x.copy()), torch.tensor(x.copy())
        assert getattr(F, name)(e, *args) is e
        getattr(TF, name)(t, *args)
        np.testing.assert_allclose(np.asarray(e), t.numpy(), rtol=1e-12, err_msg=name)


def _reversed(lib, x):
    return x.flip(0) if lib is torch else x[::-1]


LAYOUT_CASES = {
    "cross_entropy_transposed": (lambda F, lib, x, t: F.cross_entropy(x.t(), t, label_smoothing=0.1),
                                 lambda: (randn(5, 6), rng.integers(0, 5, 6))),
    "nll_reversed": (lambda F, lib, x, t: F.nll_loss(_reversed(lib, x), t),
                     lambda: (randn(6, 5), rng.integers(0, 5, 6))),
    "mse_expanded_target": (lambda F, lib, x, y: F.mse_loss(x, y.expand(4, 3)),
                            lambda: (randn(4, 3), randn(1, 3))),
    "bce_logits_reversed": (lambda F, lib, x, y: F.binary_cross_entropy_with_logits(
        _reversed(lib, x), y), lambda: (randn(4, 3), Const(rng.random((4, 3))))),
    "layer_norm_transposed": (lambda F, lib, x: F.layer_norm(x.transpose(0, 1), (4,)),
                              lambda: (randn(4, 3),)),
    "batch_norm_permuted": (lambda F, lib, x: F.batch_norm(x.permute(2, 1, 0), None, None,
                                                           training=True),
                            lambda: (randn(2, 3, 4),)),
    "softmax_expanded": (lambda F, lib, x: F.softmax(x.expand(3, 4), 1), lambda: (randn(1, 4),)),
    "embedding_transposed_weight": (lambda F, lib, w, i: F.embedding(i, w.t()),
                                    lambda: (randn(3, 10), rng.integers(0, 10, (2, 4)))),
    "pad_reflect_transposed": (lambda F, lib, x: F.pad(x.transpose(1, 2), (2, 1), mode="reflect"),
                               lambda: (randn(2, 5, 3),)),
    "linear_transposed_weight": (lambda F, lib, x, w: F.linear(x, w.t()),
                                 lambda: (randn(4, 3), randn(3, 5))),
    "attention_transposed_key": (lambda F, lib, q, k: F.scaled_dot_product_attention(
        q, k.transpose(-2, -1), k.transpose(-2, -1)), lambda: (randn(2, 4, 3), randn(2, 3, 5))),
    "group_norm_sliced": (lambda F, lib, x: F.group_norm(x[:, ::2], 2), lambda: (randn(2, 8, 3),)),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_CASES))
def test_strided_layouts(name):
    fn, arrays = LAYOUT_CASES[name]
    compare(fn, *arrays())


def test_zero_dim_and_empty_inputs():
    compare(lambda F, lib, x, y: F.huber_loss(x, y), np.array(0.3), np.array(2.0))
    compare(lambda F, lib, x, y: F.binary_cross_entropy_with_logits(x, y), np.array(0.3),
            Const(np.array(1.0)))
    for reduction in REDUCTIONS:
        compare(lambda F, lib, x, y: F.l1_loss(x, y, reduction=reduction), np.zeros((0, 2)),
                np.zeros((0, 2)))
        compare(lambda F, lib, x, y: F.binary_cross_entropy_with_logits(x, y,
                                                                         reduction=reduction),
                np.zeros((0, 2)), Const(np.zeros((0, 2))))
        compare(lambda F, lib, x, y: F.nll_loss(x, y, reduction=reduction), np.zeros((0, 4, 2)),
                np.zeros((0, 2), dtype=np.int64))
    compare(lambda F, lib, x: F.layer_norm(x, (3,)), np.zeros((0, 3)))
    compare(lambda F, lib, x: F.pad(x, (1, 1)), np.zeros((0, 3)))


@pytest.mark.parametrize("case", [
    lambda F, x: F.layer_norm(x, (4,)),
    lambda F, x: F.batch_norm(x, None, None, training=True),
    lambda F, x: F.group_norm(x.reshape(1, 4, 4), 2),
    lambda F, x: F.rms_norm(x, (4,)),
    lambda F, x: F.multi_margin_loss(x, ember.tensor([0, 3, 1, 2]), p=2),
    lambda F, x: F.multilabel_margin_loss(x, ember.tensor([[0, 2, -1, 0]] * 4)),
    lambda F, x: F.bilinear(x, x * 2, x.reshape(1, 4, 4).expand(2, 4, 4)),
    lambda F, x: F.pad(x.reshape(1, 4, 4), (2, 1), mode="reflect"),
    lambda F, x: F.embedding(ember.tensor([[0, 3], [3, 1]]), x) * x[:2].unsqueeze(0),
], ids=["layer_norm", "batch_norm", "group_norm", "rms_norm", "multi_margin", "multilabel_margin",
        "bilinear", "pad_reflect", "embedding"])
def test_double_backward(case):
    x = ember.tensor(randn(4, 4), requires_grad=True)

    def fn(x):
        return case(F, x)

    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))
