"""Padding, distance, margin-loss, normalisation, dropout and activation layers added
to ember.nn, plus F.pad's modes, F.pdist, F.local_response_norm, F.gumbel_softmax and
the fusion / skip_init utilities, against torch (torch's weights copied in)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import nn
from nn_helpers import assert_close, copy_weights, ember_repr, to_ember

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return torch.from_numpy(RNG.standard_normal(shape).astype(dtype))


def check_module(torch_module, ember_module, inputs, modes=("train", "eval"), rtol=1e-5,
                 atol=1e-6, n_differentiable=None):
    """Same repr and state_dict keys; same outputs, input and parameter gradients (of the
    first ``n_differentiable`` inputs, by default all floating ones)."""
    assert repr(ember_module) == ember_repr(repr(torch_module))
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    copy_weights(torch_module, ember_module)
    for mode in modes:
        torch_module.train(mode == "train")
        ember_module.train(mode == "train")
        torch_module.zero_grad()
        ember_module.zero_grad()
        wants = [t.is_floating_point() and (n_differentiable is None or i < n_differentiable)
                 for i, t in enumerate(inputs)]
        torch_in = [t.detach().clone().requires_grad_(w) for t, w in zip(inputs, wants)]
        ember_in = [to_ember(t, requires_grad=w) for t, w in zip(inputs, wants)]
        expected = torch_module(*torch_in)
        actual = ember_module(*ember_in)
        assert tuple(actual.shape) == tuple(expected.shape)
        assert_close(actual, expected, rtol, atol)
        seed = randn(*expected.shape)
        (expected * seed).sum().backward()
        (actual * to_ember(seed)).sum().backward()
        for t, e in zip(torch_in, ember_in):
            if t.grad is None:
                assert e.grad is None or not e.grad.numpy().any()
            else:
                assert_close(e.grad, t.grad, rtol, atol)
        torch_params = dict(torch_module.named_parameters())
        for name, param in ember_module.named_parameters():
            assert_close(param.grad, torch_params[name].grad, rtol, atol)
        for name, buf in ember_module.named_buffers():
            assert_close(buf, dict(torch_module.named_buffers())[name], rtol, atol)


# ---------------------------------------------------------------- padding

PADDING_CASES = [
    ("ConstantPad1d", (2, 1.5)), ("ConstantPad1d", ((1, 3), -2.0)),
    ("ConstantPad2d", ((1, 0, 2, 3), 0.5)), ("ConstantPad3d", (1, 3.0)),
    ("ZeroPad1d", ((0, 2),)), ("ZeroPad2d", ((1, 1, 2, 0),)), ("ZeroPad3d", (1,)),
    ("ReflectionPad1d", ((3, 1),)), ("ReflectionPad2d", (2,)),
    ("ReflectionPad3d", ((1, 0, 2, 1, 0, 3),)),
    ("ReplicationPad1d", (4,)), ("ReplicationPad2d", ((0, 3, 1, 2),)), ("ReplicationPad3d", (2,)),
    ("CircularPad1d", ((2, 3),)), ("CircularPad2d", (1,)), ("CircularPad3d", ((1, 2, 0, 1, 2, 0),)),
]


@pytest.mark.parametrize("name,args", PADDING_CASES)
@pytest.mark.parametrize("batched", [True, False])
def test_padding_layers(name, args, batched):
    n_dims = int(name[-2])
    shape = ((2,) if batched else ()) + (3,) + (4,) * n_dims
    check_module(getattr(torch.nn, name)(*args), getattr(nn, name)(*args), [randn(*shape)],
                 modes=("train",))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("n_dims", [1, 2, 3])
def test_pad_modes_match_torch(mode, n_dims):
    x = RNG.standard_normal((2, 3) + (5,) * n_dims)
    pad = tuple(RNG.integers(0, 5, 2 * n_dims).tolist())
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    expected = torch.nn.functional.pad(tx, pad, mode=mode)
    actual = F.pad(ex, pad, mode=mode)
    assert_close(actual, expected, 1e-12, 1e-12)
    seed = RNG.standard_normal(tuple(expected.shape))
    (expected * torch.tensor(seed)).sum().backward()
    (actual * ember.tensor(seed)).sum().backward()
    assert_close(ex.grad, tx.grad, 1e-12, 1e-12)


def test_padding_bad_input():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.CircularPad1d(1)(ember.zeros(4))
    with pytest.raises(ValueError, match="tuple of 4 ints"):
        nn.ZeroPad2d((1, 2, 3))


# ---------------------------------------------------------------- distance

def test_distance_layers():
    a, b = randn(4, 5), randn(4, 5)
    check_module(torch.nn.CosineSimilarity(), nn.CosineSimilarity(), [a, b])
    check_module(torch.nn.CosineSimilarity(dim=0, eps=1e-3), nn.CosineSimilarity(0, 1e-3), [a, b])
    check_module(torch.nn.PairwiseDistance(), nn.PairwiseDistance(), [a, b])
    check_module(torch.nn.PairwiseDistance(p=1.0, keepdim=True),
                 nn.PairwiseDistance(p=1.0, keepdim=True), [a, b])


def test_pdist():
    x = RNG.standard_normal((6, 4))
    for p in (1.0, 2.0, 3.0, float("inf")):
        tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
        expected, actual = torch.nn.functional.pdist(tx, p), F.pdist(ex, p)
        assert_close(actual, expected, 1e-10, 1e-12)
        expected.sum().backward()
        actual.sum().backward()
        assert_close(ex.grad, tx.grad, 1e-10, 1e-12)
    assert tuple(F.pdist(ember.zeros(1, 3)).shape) == (0,)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
        F.pdist(ember.zeros(2, 2, 2))


# ---------------------------------------------------------------- losses

def test_margin_losses():
    x, y = randn(5, 4), torch.from_numpy(RNG.choice([-1.0, 1.0], (5, 4)).astype(np.float32))
    for reduction in ("mean", "sum", "none"):
        check_module(torch.nn.HingeEmbeddingLoss(0.5, reduction=reduction),
                     nn.HingeEmbeddingLoss(0.5, reduction=reduction), [x, y],
                     n_differentiable=1)
        check_module(torch.nn.SoftMarginLoss(reduction=reduction),
                     nn.SoftMarginLoss(reduction=reduction), [x, y], n_differentiable=1)
    labels = torch.from_numpy(RNG.integers(0, 4, 5))
    weight = torch.rand(4)
    for p in (1, 2):
        check_module(torch.nn.MultiMarginLoss(p=p, margin=0.7, weight=weight),
                     nn.MultiMarginLoss(p=p, margin=0.7, weight=to_ember(weight)), [x, labels])
    multi = torch.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2], [2, 1, 0, 3], [-1, 0, 1, 2]])
    check_module(torch.nn.MultiLabelMarginLoss(), nn.MultiLabelMarginLoss(), [x, multi])
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)


def test_triplet_margin_with_distance_loss():
    a, p, n = randn(4, 3), randn(4, 3), randn(4, 3)
    check_module(torch.nn.TripletMarginWithDistanceLoss(),
                 nn.TripletMarginWithDistanceLoss(), [a, p, n])
    check_module(
        torch.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda x, y: 1 - torch.nn.functional.cosine_similarity(x, y),
            margin=0.3, swap=True, reduction="sum"),
        nn.TripletMarginWithDistanceLoss(
            distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), margin=0.3,
            swap=True, reduction="sum"),
        [a, p, n])
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0)


# ---------------------------------------------------------------- normalisation

def test_batch_norm_3d():
    for kwargs in ({}, {"affine": False}, {"momentum": None}, {"track_running_stats": False}):
        check_module(torch.nn.BatchNorm3d(3, **kwargs), nn.BatchNorm3d(3, **kwargs),
                     [randn(2, 3, 3, 4, 2)], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="expected 5D input"):
        nn.BatchNorm3d(3)(ember.zeros(2, 3, 4))


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (2, 3, 7)), ("InstanceNorm1d", (3, 7)),
                                       ("InstanceNorm3d", (2, 3, 2, 3, 4)),
                                       ("InstanceNorm3d", (3, 2, 3, 4))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True}])
def test_instance_norm(cls, shape, kwargs):
    check_module(getattr(torch.nn, cls)(3, **kwargs), getattr(nn, cls)(3, **kwargs),
                 [randn(*shape)], rtol=1e-4, atol=1e-5)


def test_instance_norm_bad_dims():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.InstanceNorm1d(3)(ember.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(ember.zeros(3, 2))


NORM_CLASSES = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d",
                "InstanceNorm2d", "InstanceNorm3d", "LazyBatchNorm2d", "LazyInstanceNorm1d",
                "GroupNorm", "LayerNorm"]


@pytest.mark.parametrize("name", NORM_CLASSES)
def test_norm_class_hierarchy_and_module_paths_match_torch(name):
    """isinstance tests written for PyTorch (weight-decay groups, weight init) sort the norm
    layers alike: nn.modules.batchnorm._BatchNorm / _NormBase and
    nn.modules.instancenorm._InstanceNorm, and no InstanceNorm is another's instance."""
    args = () if name.startswith("Lazy") else (4,) if name != "GroupNorm" else (2, 4)
    t_module, e_module = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    t_modules, e_modules = torch.nn.modules, nn.modules
    bases = [("batchnorm", "_NormBase"), ("batchnorm", "_BatchNorm"),
             ("instancenorm", "_InstanceNorm")]
    for path, base in bases:
        assert isinstance(e_module, getattr(getattr(e_modules, path), base)) == \
            isinstance(t_module, getattr(getattr(t_modules, path), base)), (path, base)
    # (an uninitialised lazy layer is already an instance of its final class in ember)
    for other in NORM_CLASSES if not name.startswith("Lazy") else ():
        assert isinstance(e_module, getattr(nn, other)) == \
            isinstance(t_module, getattr(torch.nn, other)), other
    for path in ("batchnorm", "instancenorm"):
        t_path, e_path = getattr(t_modules, path), getattr(e_modules, path)
        assert e_path.__all__ == t_path.__all__
        assert all(getattr(e_path, n) is getattr(nn, n) for n in e_path.__all__)


@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 6, 3, 3), (1, 4, 2, 2, 3)])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_local_response_norm(shape, size):
    check_module(torch.nn.LocalResponseNorm(size, alpha=0.5, beta=0.8, k=2.0),
                 nn.LocalResponseNorm(size, alpha=0.5, beta=0.8, k=2.0), [randn(*shape)],
                 rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="Expected 3D or higher"):
        F.local_response_norm(ember.zeros(2, 3), 2)


# ---------------------------------------------------------------- activations, dropout

def test_rrelu_and_softmax2d():
    x = randn(3, 4, 2, 2)
    check_module(torch.nn.RReLU(), nn.RReLU(), [x], modes=("eval",))
    assert repr(nn.RReLU(0.1, 0.3, True)) == repr(torch.nn.RReLU(0.1, 0.3, True))
    ex = to_ember(x, requires_grad=True)
    out = nn.RReLU(0.1, 0.3)(ex)              # training: a random slope per element
    slope = (out / ex).detach().numpy()[x.numpy() < 0]
    assert ((slope >= 0.1) & (slope <= 0.3)).all() and np.unique(slope).size > 1
    assert_close(out.detach().clamp(min=0), x.clamp(min=0))
    out.sum().backward()
    grad = ex.grad.numpy()
    np.testing.assert_allclose(grad[x.numpy() < 0], slope, rtol=1e-6)
    check_module(torch.nn.Softmax2d(), nn.Softmax2d(), [x])
    check_module(torch.nn.Softmax2d(), nn.Softmax2d(), [randn(4, 2, 2)])
    with pytest.raises(ValueError, match="expected input to be 3D or 4D"):
        nn.Softmax2d()(ember.zeros(2, 2))


def test_feature_alpha_dropout():
    x = randn(8, 16, 3)
    check_module(torch.nn.FeatureAlphaDropout(0.3), nn.FeatureAlphaDropout(0.3), [x],
                 modes=("eval",))
    out = nn.FeatureAlphaDropout(0.5)(to_ember(x)).numpy()
    # a dropped channel is constant over its positions; kept ones are affine in x
    per_channel = out.reshape(8 * 16, 3)
    constant = np.ptp(per_channel, axis=1) < 1e-6
    assert 0.2 < constant.mean() < 0.8
    assert np.allclose(per_channel[constant], per_channel[constant][0, 0])


def test_gumbel_softmax():
    logits = ember.tensor(np.log([[0.1, 0.2, 0.7]] * 4000), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(-1), 1.0, rtol=1e-6)
    hard = F.gumbel_softmax(logits, hard=True)
    values = hard.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1.0} and (values.sum(-1) == 1).all()
    np.testing.assert_allclose(values.mean(0), [0.1, 0.2, 0.7], atol=0.03)   # Gumbel-max
    hard.select(1, 2).sum().backward()
    assert logits.grad is not None and np.isfinite(logits.grad.numpy()).all()


# ---------------------------------------------------------------- utils

def random_eval_bn(channels):
    torch_bn = torch.nn.BatchNorm2d(channels).eval()
    torch_bn.running_mean.normal_()
    torch_bn.running_var.uniform_(0.5, 2.0)
    torch_bn.weight.data.normal_()
    torch_bn.bias.data.normal_()
    bn = nn.BatchNorm2d(channels).eval()
    copy_weights(torch_bn, bn)
    return torch_bn, bn


def test_fuse_conv_bn():
    torch_conv, conv = torch.nn.Conv2d(2, 3, 3).eval(), nn.Conv2d(2, 3, 3).eval()
    copy_weights(torch_conv, conv)
    torch_bn, bn = random_eval_bn(3)
    fused = nn.utils.fuse_conv_bn_eval(conv, bn)
    x = randn(2, 2, 5, 5)
    assert_close(fused(to_ember(x)), torch_bn(torch_conv(x)), 1e-4, 1e-5)
    assert_close(fused.weight, torch.nn.utils.fuse_conv_bn_eval(torch_conv, torch_bn).weight)
    assert fused is not conv and conv.weight is not fused.weight
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        nn.utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_conv_bn_weights_transposed():
    torch_conv = torch.nn.ConvTranspose2d(2, 3, 3)        # weight (in, out, kH, kW)
    torch_bn, bn = random_eval_bn(3)
    args = (torch_conv.weight, torch_conv.bias, torch_bn.running_mean, torch_bn.running_var,
            torch_bn.eps, torch_bn.weight, torch_bn.bias)
    expected = torch.nn.utils.fuse_conv_bn_weights(*args, transpose=True)
    actual = nn.utils.fuse_conv_bn_weights(
        *[to_ember(a) if isinstance(a, torch.Tensor) else a for a in args], transpose=True)
    for a, e in zip(actual, expected):
        assert isinstance(a, nn.Parameter)
        assert_close(a, e)
    no_bias = nn.utils.fuse_conv_bn_weights(to_ember(torch_conv.weight), None, bn.running_mean,
                                            bn.running_var, bn.eps, None, None, transpose=True)
    assert tuple(no_bias[1].shape) == (3,)


def test_fuse_linear_bn():
    torch_linear, torch_bn = torch.nn.Linear(4, 3).eval(), torch.nn.BatchNorm1d(3).eval()
    torch_bn.running_mean.normal_()
    torch_bn.running_var.uniform_(0.5, 2.0)
    linear, bn = nn.Linear(4, 3).eval(), nn.BatchNorm1d(3).eval()
    copy_weights(torch_linear, linear)
    copy_weights(torch_bn, bn)
    fused = nn.utils.fuse_linear_bn_eval(linear, bn)
    x = randn(5, 4)
    assert_close(fused(to_ember(x)), torch_bn(torch_linear(x)), 1e-5, 1e-6)
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(4, 2).eval(), bn)


def test_skip_init():
    layer = nn.utils.skip_init(nn.Linear, 5, 3, bias=False)
    assert tuple(layer.weight.shape) == (3, 5) and layer.bias is None
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad

    class NoDevice(nn.Module):
        def __init__(self):
            super().__init__()

    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        nn.utils.skip_init(NoDevice)
