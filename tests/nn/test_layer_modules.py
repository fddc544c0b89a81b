"""Layer modules (activations, losses, dropout, embedding, normalisation, convolution,
pooling) against torch.nn: outputs, input and parameter gradients, buffers, repr and
state_dict keys, with torch's parameters copied into the ember module."""
import inspect

import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import assert_close, copy_weights, ember_repr, to_ember

RNG = np.random.default_rng(0)


def randn(*shape):
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


def rand(*shape):
    return torch.from_numpy(RNG.uniform(0.05, 0.95, shape).astype(np.float32))


def check_module(torch_module, ember_module, inputs, modes=("train",), rtol=1e-5, atol=1e-5):
    """Copy torch's state into ember's, then compare repr, state_dict keys, outputs,
    gradients of the floating inputs and parameters, and buffers, in each mode."""
    assert repr(ember_module) == ember_repr(repr(torch_module))
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    copy_weights(torch_module, ember_module)
    for mode in modes:
        torch_module.train(mode == "train")
        ember_module.train(mode == "train")
        torch_in = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
        ember_in = [to_ember(t, requires_grad=t.is_floating_point()) for t in inputs]
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
            elif t.is_floating_point():
                assert_close(e.grad, t.grad, rtol, atol)
        torch_params = dict(torch_module.named_parameters())
        for name, param in ember_module.named_parameters():
            assert_close(param.grad, torch_params[name].grad, rtol, atol)
            param.grad = None
            torch_params[name].grad = None
        torch_buffers = dict(torch_module.named_buffers())
        for name, buffer in ember_module.named_buffers():
            assert_close(buffer, torch_buffers[name], rtol, atol)


LAYER_NAMES = [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "Tanh", "Softplus", "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish", "Softmax",
    "LogSoftmax", "Softmin", "GLU", "Threshold", "LogSigmoid", "Tanhshrink", "Softshrink",
    "Hardshrink", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
    "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "MultiLabelSoftMarginLoss",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Embedding", "LayerNorm",
    "GroupNorm", "RMSNorm", "BatchNorm1d", "BatchNorm2d", "InstanceNorm2d", "Conv1d", "Conv2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
]


def _parameters(function):
    return [(p.name, p.kind, p.default)
            for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_signatures_match_torch(name):
    torch_class, ember_class = getattr(torch.nn, name), getattr(nn, name)
    assert _parameters(ember_class.__init__) == _parameters(torch_class.__init__)
    assert ([p[0] for p in _parameters(ember_class.forward)]
            == [p[0] for p in _parameters(torch_class.forward)])


REQUIRED_ARGS = {
    "Threshold": (0.1, 2.0), "Embedding": (7, 3), "LayerNorm": (4,), "GroupNorm": (2, 4),
    "RMSNorm": ((2, 3),), "BatchNorm1d": (4,), "BatchNorm2d": (4,), "InstanceNorm2d": (4,),
    "Conv1d": (2, 4, 3), "Conv2d": (2, 4, (2, 3)), "MaxPool1d": (3,), "MaxPool2d": (3,),
    "AvgPool1d": (3,), "AvgPool2d": ((2, 3),), "AdaptiveAvgPool1d": (4,),
    "AdaptiveAvgPool2d": ((4, None),),
}


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_default_construction_matches_torch(name):
    """repr, state_dict keys, and parameter and buffer shapes and dtypes with default args."""
    args = REQUIRED_ARGS.get(name, ())
    torch_module, ember_module = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    assert repr(ember_module) == ember_repr(repr(torch_module))
    torch_state, ember_state = torch_module.state_dict(), ember_module.state_dict()
    assert list(ember_state) == list(torch_state)
    for key, value in torch_state.items():
        assert tuple(ember_state[key].shape) == tuple(value.shape)
        assert str(ember_state[key].dtype) == ember_repr(str(value.dtype))
        if name in ("PReLU", "LayerNorm", "GroupNorm", "RMSNorm", "BatchNorm1d", "BatchNorm2d",
                    "InstanceNorm2d"):
            # deterministic initialisations
            np.testing.assert_array_equal(ember_state[key].numpy(), value.numpy())


def test_layers_accept_non_contiguous_inputs():
    base = randn(5, 4, 6, 3)
    x = base.transpose(1, 3)
    transposed = to_ember(base).transpose(1, 3)
    # negative strides along the height, same values
    flipped = to_ember(base.flip(2)).transpose(1, 3)[:, :, ::-1]
    for torch_module, ember_module in [(torch.nn.Conv2d(3, 2, 3), nn.Conv2d(3, 2, 3)),
                                       (torch.nn.BatchNorm2d(3), nn.BatchNorm2d(3)),
                                       (torch.nn.LayerNorm(4), nn.LayerNorm(4)),
                                       (torch.nn.MaxPool2d(2), nn.MaxPool2d(2))]:
        copy_weights(torch_module, ember_module)
        torch_module.eval()
        ember_module.eval()
        expected = torch_module(x)
        assert_close(ember_module(transposed), expected, 1e-4, 1e-4)
        assert_close(ember_module(flipped), expected, 1e-4, 1e-4)


# ---------------------------------------------------------------- activations

ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {"alpha": 0.7}),
    ("SELU", (), {}), ("CELU", (), {"alpha": 1.5}), ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Mish", (), {}), ("Sigmoid", (), {}),
    ("Tanh", (), {}), ("Softplus", (), {"beta": 2.0, "threshold": 5.0}), ("Softsign", (), {}),
    ("Hardtanh", (-0.5, 0.8), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
    ("Softmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": -1}), ("Softmin", (), {"dim": 0}),
    ("GLU", (), {}), ("GLU", (), {"dim": 1}), ("Threshold", (0.1, 20.0), {}),
    ("LogSigmoid", (), {}), ("Tanhshrink", (), {}), ("Softshrink", (), {"lambd": 0.3}),
    ("Hardshrink", (0.4,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(ACTIVATIONS)])
def test_activation_matches_torch(name, args, kwargs):
    x = randn(3, 4, 6) * 3
    check_module(getattr(torch.nn, name)(*args, **kwargs),
                 getattr(nn, name)(*args, **kwargs), [x])


@pytest.mark.parametrize("num_parameters", [1, 4])
def test_prelu(num_parameters):
    torch_module = torch.nn.PReLU(num_parameters, init=0.1)
    ember_module = nn.PReLU(num_parameters, init=0.1)
    assert tuple(ember_module.weight.shape) == (num_parameters,)
    np.testing.assert_allclose(ember_module.weight.detach().numpy(), 0.1)
    assert nn.PReLU().weight.item() == 0.25
    check_module(torch_module, ember_module, [randn(2, 4, 5)])


@pytest.mark.parametrize("name", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "SiLU",
                                  "Mish", "Hardtanh", "Hardsigmoid", "Hardswish"])
def test_inplace_activation_repr_and_values(name):
    torch_module = getattr(torch.nn, name)(inplace=True)
    ember_module = getattr(nn, name)(inplace=True)
    assert repr(ember_module) == repr(torch_module)
    x = randn(4, 5)
    expected = torch_module(x.clone())
    ex = to_ember(x)
    out = ember_module(ex)
    assert_close(ex, expected)
    assert_close(out, expected)


def test_threshold_inplace_repr_and_softmax_default_dim():
    assert repr(nn.Threshold(0.5, 2, inplace=True)) == repr(torch.nn.Threshold(0.5, 2, True))
    assert repr(nn.Softmax()) == repr(torch.nn.Softmax())
    with pytest.raises(AssertionError, match="greater than min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.warns(FutureWarning):
        assert nn.Hardtanh(min_value=-2.0).min_val == -2.0


# ---------------------------------------------------------------------- losses

def _class_target(*shape, classes=5):
    return torch.from_numpy(RNG.integers(0, classes, shape))


def _sign_target(n):
    return torch.from_numpy(RNG.choice([-1.0, 1.0], n).astype(np.float32))


LOSSES = [
    ("MSELoss", {}, lambda: [randn(4, 5), randn(4, 5)]),
    ("MSELoss", {"reduction": "sum"}, lambda: [randn(4, 5), randn(4, 5)]),
    ("L1Loss", {"reduction": "none"}, lambda: [randn(4, 5), randn(4, 5)]),
    ("SmoothL1Loss", {"beta": 0.5}, lambda: [randn(4, 5), randn(4, 5)]),
    ("HuberLoss", {"delta": 0.7}, lambda: [randn(4, 5), randn(4, 5)]),
    ("CrossEntropyLoss", {}, lambda: [randn(6, 5), _class_target(6)]),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 2},
     lambda: [randn(6, 5, 3), _class_target(6, 3)]),
    ("CrossEntropyLoss", {"weight": rand(5)}, lambda: [randn(6, 5), _class_target(6)]),
    ("NLLLoss", {"weight": rand(5), "reduction": "sum"},
     lambda: [randn(6, 5).log_softmax(1), _class_target(6)]),
    ("BCELoss", {}, lambda: [rand(4, 3), rand(4, 3)]),
    ("BCELoss", {"weight": rand(3)}, lambda: [rand(4, 3), rand(4, 3)]),
    ("BCEWithLogitsLoss", {"pos_weight": rand(3) + 0.5}, lambda: [randn(4, 3), rand(4, 3)]),
    ("BCEWithLogitsLoss", {"weight": rand(4, 3), "reduction": "none"},
     lambda: [randn(4, 3), rand(4, 3)]),
    ("KLDivLoss", {"reduction": "batchmean"},
     lambda: [randn(4, 5).log_softmax(1), randn(4, 5).softmax(1)]),
    ("KLDivLoss", {"log_target": True, "reduction": "sum"},
     lambda: [randn(4, 5).log_softmax(1), randn(4, 5).log_softmax(1)]),
    ("PoissonNLLLoss", {}, lambda: [randn(4, 5), rand(4, 5) * 4]),
    ("PoissonNLLLoss", {"log_input": False, "full": True},
     lambda: [rand(4, 5) + 0.5, (rand(4, 5) * 4).round() + 1]),
    ("GaussianNLLLoss", {}, lambda: [randn(4, 5), randn(4, 5), rand(4, 5)]),
    ("GaussianNLLLoss", {"full": True, "reduction": "sum"},
     lambda: [randn(4, 5), randn(4, 5), rand(4, 1)]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, lambda: [randn(6, 4), randn(6, 4), _sign_target(6)]),
    ("MarginRankingLoss", {"margin": 0.3}, lambda: [randn(6), randn(6), _sign_target(6)]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True},
     lambda: [randn(5, 4), randn(5, 4), randn(5, 4)]),
    ("TripletMarginLoss", {}, lambda: [randn(5, 4), randn(5, 4), randn(5, 4)]),
    ("MultiLabelSoftMarginLoss", {"weight": rand(5)},
     lambda: [randn(4, 5), torch.from_numpy(RNG.integers(0, 2, (4, 5)).astype(np.float32))]),
]


@pytest.mark.parametrize("name,kwargs,make_inputs", LOSSES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSSES)])
def test_loss_matches_torch(name, kwargs, make_inputs):
    ember_kwargs = {k: to_ember(v) if isinstance(v, torch.Tensor) else v
                    for k, v in kwargs.items()}
    torch_module = getattr(torch.nn, name)(**kwargs)
    ember_module = getattr(nn, name)(**ember_kwargs)
    check_module(torch_module, ember_module, make_inputs())


def test_loss_weight_buffers_and_legacy_reduction():
    weight = rand(5)
    module = nn.CrossEntropyLoss(weight=to_ember(weight))
    assert list(module.state_dict()) == ["weight"]
    assert [name for name, _ in module.named_buffers()] == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=to_ember(weight)).state_dict()) == ["pos_weight"]
    assert list(nn.NLLLoss().state_dict()) == []
    with pytest.warns(UserWarning):
        legacy = nn.MSELoss(size_average=False)
    assert legacy.reduction == "sum"
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginLoss(margin=0)


# --------------------------------------------------------------------- dropout

@pytest.mark.parametrize("name,shape", [("Dropout", (200, 50)), ("Dropout1d", (40, 50, 3)),
                                        ("Dropout2d", (40, 50, 2, 3)),
                                        ("Dropout3d", (40, 50, 2, 2, 2)),
                                        ("AlphaDropout", (200, 50))])
def test_dropout_train_and_eval(name, shape):
    module = getattr(nn, name)(p=0.3)
    assert repr(module) == repr(getattr(torch.nn, name)(p=0.3))
    x = ember.randn(*shape)
    module.eval()
    assert module(x) is x or bool((module(x) == x).all())
    module.train()
    out = module(x).numpy()
    x_np = x.numpy()
    if name == "AlphaDropout":
        # dropped elements all take one value; the rest are an affine map of the input
        dropped_value = np.bincount(np.unique(out, return_inverse=True)[1].ravel()).argmax()
        dropped = out == np.unique(out)[dropped_value]
    else:
        dropped = out == 0
        kept = ~dropped
        np.testing.assert_allclose(out[kept], x_np[kept] / 0.7, rtol=1e-5)
    assert 0.2 < dropped.mean() < 0.4
    if name in ("Dropout1d", "Dropout2d", "Dropout3d"):
        # whole channels are dropped together
        per_channel = dropped.reshape(shape[0], shape[1], -1)
        assert (per_channel.all(-1) | ~per_channel.any(-1)).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        getattr(nn, name)(p=1.5)


def test_dropout_zero_probability_is_identity_with_gradient():
    module = nn.Dropout(p=0.0)
    x = ember.randn(3, 4).requires_grad_()
    module(x).sum().backward()
    assert bool((x.grad == 1).all())


# ------------------------------------------------------------------- embedding

@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                    {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0},
                                    {"scale_grad_by_freq": True}])
def test_embedding_matches_torch(kwargs):
    torch_module = torch.nn.Embedding(10, 4, **kwargs)
    ember_module = nn.Embedding(10, 4, **kwargs)
    assert tuple(ember_module.weight.shape) == (10, 4)
    if "padding_idx" in kwargs:
        assert not ember_module.weight[kwargs["padding_idx"]].detach().numpy().any()
    index = torch.tensor([[1, 2, 9, 2], [0, 2, 5, 1]])
    check_module(torch_module, ember_module, [index])


def test_embedding_from_pretrained():
    table = randn(6, 3)
    torch_module = torch.nn.Embedding.from_pretrained(table, padding_idx=1)
    ember_module = nn.Embedding.from_pretrained(to_ember(table), padding_idx=1)
    assert repr(ember_module) == repr(torch_module)
    assert not ember_module.weight.requires_grad
    assert_close(ember_module(ember.tensor([1, 4])), torch_module(torch.tensor([1, 4])))
    assert nn.Embedding.from_pretrained(to_ember(table), freeze=False).weight.requires_grad
    with pytest.raises(AssertionError):
        nn.Embedding(5, 2, padding_idx=5)


# --------------------------------------------------------------- normalisation

NORMS = [
    ("LayerNorm", (6,), {}, (3, 4, 6)),
    ("LayerNorm", ((4, 6),), {"bias": False}, (3, 4, 6)),
    ("LayerNorm", (6,), {"elementwise_affine": False, "eps": 1e-3}, (3, 4, 6)),
    ("GroupNorm", (2, 6), {}, (3, 6, 5)),
    ("GroupNorm", (3, 6), {"affine": False}, (3, 6, 2, 2)),
    ("GroupNorm", (3, 6), {"bias": False}, (3, 6, 4)),
    ("RMSNorm", (6,), {}, (3, 4, 6)),
    ("RMSNorm", ((4, 6),), {"eps": 1e-4, "elementwise_affine": False}, (3, 4, 6)),
    ("BatchNorm1d", (4,), {}, (8, 4)),
    ("BatchNorm1d", (4,), {"momentum": 0.3}, (8, 4, 5)),
    ("BatchNorm1d", (4,), {"momentum": None}, (8, 4)),
    ("BatchNorm1d", (4,), {"affine": False}, (8, 4)),
    ("BatchNorm1d", (4,), {"bias": False}, (8, 4)),
    ("BatchNorm1d", (4,), {"track_running_stats": False}, (8, 4, 3)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 5)),
    ("BatchNorm2d", (3,), {"affine": False, "eps": 1e-3}, (4, 3, 2, 5)),
    ("InstanceNorm2d", (3,), {}, (4, 3, 5, 5)),
    ("InstanceNorm2d", (3,), {"affine": True}, (3, 5, 4)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, (4, 3, 5, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", NORMS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(NORMS)])
def test_norm_matches_torch(name, args, kwargs, shape):
    torch_module = getattr(torch.nn, name)(*args, **kwargs)
    ember_module = getattr(nn, name)(*args, **kwargs)
    # non-trivial affine parameters and running statistics
    with torch.no_grad():
        for tensor in list(torch_module.parameters()):
            tensor.copy_(randn(*tensor.shape))
        for buffer_name in ("running_mean", "running_var"):
            buffer = getattr(torch_module, buffer_name, None)
            if buffer is not None:
                buffer.copy_(rand(*buffer.shape) + (0.5 if buffer_name == "running_var" else 0))
    x = randn(*shape) * 2 + 1
    # several training steps, so the momentum (and its cumulative None form) matter
    check_module(torch_module, ember_module, [x], modes=("train", "train", "eval", "train"),
                 rtol=1e-4, atol=1e-4)


def test_batchnorm_buffers_and_errors():
    module = nn.BatchNorm2d(3)
    assert [n for n, _ in module.named_buffers()] == ["running_mean", "running_var",
                                                      "num_batches_tracked"]
    assert module.num_batches_tracked.dtype == ember.int64
    assert module.running_var.numpy().tolist() == [1.0, 1.0, 1.0]
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match="expected 4D input"):
        module(ember.randn(2, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(ember.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    module.eval()
    x = ember.randn(2, 3, 2, 2)
    module(x)
    assert int(module.num_batches_tracked) == 0
    # an old state dict without num_batches_tracked loads strictly, as in torch
    old_state = {k: v for k, v in torch.nn.BatchNorm2d(3).state_dict().items()
                 if k != "num_batches_tracked"}
    torch.nn.BatchNorm2d(3).load_state_dict(old_state)
    module.load_state_dict({k: to_ember(v) for k, v in old_state.items()})
    assert int(module.num_batches_tracked) == 0


# ----------------------------------------------------------------- convolution

CONVS = [
    ("Conv1d", (4, 6, 3), {}, (2, 4, 9)),
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, (2, 4, 11)),
    ("Conv1d", (4, 6, 4), {"padding": "same", "bias": False}, (2, 4, 9)),
    ("Conv1d", (4, 6, 3), {"padding": 2, "padding_mode": "reflect"}, (4, 9)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "groups": 2},
     (2, 4, 7, 6)),
    ("Conv2d", (3, 4, 3), {"padding": "same", "dilation": 2}, (2, 3, 7, 6)),
    ("Conv2d", (3, 4, 2), {"padding": "valid"}, (3, 5, 5)),
    ("Conv2d", (3, 4, 3), {"padding": 1, "padding_mode": "circular"}, (2, 3, 5, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CONVS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONVS)])
def test_conv_matches_torch(name, args, kwargs, shape):
    torch_module = getattr(torch.nn, name)(*args, **kwargs)
    ember_module = getattr(nn, name)(*args, **kwargs)
    assert ember_module.weight.shape == tuple(torch_module.weight.shape)
    check_module(torch_module, ember_module, [randn(*shape)], rtol=1e-4, atol=1e-4)


def test_conv_default_init_bounds_and_errors():
    module = nn.Conv2d(3, 4, 3)
    bound = 1 / np.sqrt(27)
    assert np.abs(module.weight.detach().numpy()).max() <= bound
    assert np.abs(module.bias.detach().numpy()).max() <= bound
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv1d(3, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="Invalid padding string"):
        nn.Conv1d(3, 4, 3, padding="full")


# --------------------------------------------------------------------- pooling

POOLS = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
     (2, 3, 10)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", ((3, 2),), {"stride": 1, "padding": (1, 0)}, (3, 6, 5)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 10)),
    ("AvgPool1d", (2,), {"ceil_mode": True, "count_include_pad": False}, (2, 3, 9)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 6)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False},
     (2, 3, 7, 6)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (3, 4, 4)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (2,), {}, (3, 7, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", POOLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(POOLS)])
def test_pool_matches_torch(name, args, kwargs, shape):
    check_module(getattr(torch.nn, name)(*args, **kwargs), getattr(nn, name)(*args, **kwargs),
                 [randn(*shape)])


def test_maxpool_return_indices():
    x = randn(2, 3, 6, 6)
    values, indices = nn.MaxPool2d(2, return_indices=True)(to_ember(x))
    expected_values, expected_indices = torch.nn.MaxPool2d(2, return_indices=True)(x)
    assert_close(values, expected_values)
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


@pytest.mark.parametrize("name,args,shape", [("Conv2d", (3, 4, 3), (2, 3, 6, 6)),
                                             ("BatchNorm1d", (3,), (5, 3)),
                                             ("LayerNorm", (6,), (2, 6)),
                                             ("PReLU", (3,), (2, 3, 4)),
                                             ("Embedding", (6, 3), None)])
def test_float64_layers(name, args, shape):
    torch_module = getattr(torch.nn, name)(*args, dtype=torch.float64)
    ember_module = getattr(nn, name)(*args, dtype=ember.float64)
    assert all(p.dtype == ember.float64 for p in ember_module.parameters())
    inputs = ([torch.tensor([[0, 5], [2, 2]])] if shape is None
              else [randn(*shape).double()])
    check_module(torch_module, ember_module, inputs, rtol=1e-10, atol=1e-10)


def test_layer_classes_subclass_each_other_as_in_torch():
    """isinstance tests written for PyTorch sort layers alike: a CELU is no ELU, a
    Hardswish no Hardsigmoid, a Hardshrink no Softshrink, an AvgPool3d no AvgPool2d.
    (An uninitialised lazy layer is already an instance of its final class in ember; in
    PyTorch it becomes one when it is initialised.)"""
    names = [n for n in dir(torch.nn) if not n.startswith(("_", "Lazy", "Uninitialized"))
             and inspect.isclass(getattr(torch.nn, n)) and inspect.isclass(getattr(nn, n, None))]
    different = [(a, b) for a in names for b in names if a != b and
                 issubclass(getattr(nn, a), getattr(nn, b)) !=
                 issubclass(getattr(torch.nn, a), getattr(torch.nn, b))]
    assert not different
    for name, kwargs in [("ELU", {"alpha": 0.5, "inplace": True}), ("CELU", {"inplace": True}),
                         ("Hardsigmoid", {"inplace": True}), ("Hardswish", {"inplace": True}),
                         ("Softshrink", {"lambd": 0.3}), ("Hardshrink", {"lambd": 0.3}),
                         ("AvgPool3d", {"kernel_size": 3, "stride": 1, "padding": 1}),
                         ("AvgPool2d", {"kernel_size": 2, "divisor_override": 3})]:
        assert repr(getattr(nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))
