"""Convolution modules (Conv1d/2d/3d, ConvTranspose1d/2d/3d, Fold, Unfold) against torch.nn
with torch's weights copied in: repr, state_dict, outputs, input and parameter gradients."""
import inspect
import math

import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import assert_close, copy_weights, ember_repr, same, to_ember

RNG = np.random.default_rng(5)


def randn(*shape):
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


def check_module(torch_module, ember_module, inputs, forward_kwargs=None, rtol=1e-4, atol=1e-4):
    """Copy torch's state into ember's, then compare repr, outputs, input gradients and
    parameter gradients in train and eval mode."""
    forward_kwargs = forward_kwargs or {}
    assert repr(ember_module) == ember_repr(repr(torch_module))
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    copy_weights(torch_module, ember_module)
    for mode in (True, False):
        torch_module.train(mode)
        ember_module.train(mode)
        torch_in = [t.detach().clone().requires_grad_() for t in inputs]
        ember_in = [to_ember(t, requires_grad=True) for t in inputs]
        expected = torch_module(*torch_in, **forward_kwargs)
        actual = ember_module(*ember_in, **forward_kwargs)
        assert tuple(actual.shape) == tuple(expected.shape)
        assert_close(actual, expected, rtol, atol)
        seed = randn(*expected.shape)
        (expected * seed).sum().backward()
        (actual * to_ember(seed)).sum().backward()
        for t, e in zip(torch_in, ember_in):
            assert_close(e.grad, t.grad, rtol, atol)
        torch_params = dict(torch_module.named_parameters())
        for name, param in ember_module.named_parameters():
            assert_close(param.grad, torch_params[name].grad, rtol, atol)
            param.grad = None
            torch_params[name].grad = None


SIZES = {1: (9,), 2: (7, 6), 3: (5, 6, 4)}
CONV_CASES = [
    dict(),
    dict(stride=2, padding=1, bias=False),
    dict(padding="same", dilation=2),
    dict(padding=(1, 2, 1), stride=(1, 2, 1)),
    dict(groups=2, padding=1, padding_mode="reflect"),
    dict(padding=2, padding_mode="replicate"),
    dict(padding=1, padding_mode="circular", stride=2),
    dict(padding="same", padding_mode="circular"),
]


def _fit(kwargs, spatial):
    """Per-dimension tuples cut down to ``spatial`` dims."""
    return {k: v[:spatial] if isinstance(v, tuple) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv_module_matches_torch(spatial, case):
    kwargs = _fit(CONV_CASES[case], spatial)
    name = f"Conv{spatial}d"
    torch_module = getattr(torch.nn, name)(4, 6, 3, **kwargs)
    ember_module = getattr(nn, name)(4, 6, 3, **kwargs)
    check_module(torch_module, ember_module, [randn(2, 4, *SIZES[spatial])])
    # unbatched input
    check_module(torch_module, ember_module, [randn(4, *SIZES[spatial])])


TRANSPOSE_CASES = [
    dict(),
    dict(stride=2, output_padding=1, bias=False),
    dict(stride=(2, 3, 1), padding=(1, 0, 1), dilation=(1, 2, 1)),
    dict(groups=2, stride=2, padding=1),
]


@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("case", range(len(TRANSPOSE_CASES)))
def test_conv_transpose_module_matches_torch(spatial, case):
    kwargs = _fit(TRANSPOSE_CASES[case], spatial)
    name = f"ConvTranspose{spatial}d"
    torch_module = getattr(torch.nn, name)(4, 6, 3, **kwargs)
    ember_module = getattr(nn, name)(4, 6, 3, **kwargs)
    check_module(torch_module, ember_module, [randn(2, 4, *SIZES[spatial])])
    check_module(torch_module, ember_module, [randn(4, *SIZES[spatial])])


def test_conv_transpose_output_size():
    torch_module, ember_module = torch.nn.ConvTranspose2d(3, 2, 3, stride=3), nn.ConvTranspose2d(
        3, 2, 3, stride=3)
    x = randn(1, 3, 4, 5)
    for size in [(12, 15), (13, 17), [1, 2, 14, 16]]:
        check_module(torch_module, ember_module, [x], dict(output_size=size))
    with pytest.raises(ValueError, match=r"requested an output size of \[15, 15\], but valid "
                                         r"sizes range from \[12, 15\] to \[14, 17\]"):
        ember_module(to_ember(x), output_size=(15, 15))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        ember_module(to_ember(x), output_size=(12,))


def test_fold_unfold_modules():
    check_module(torch.nn.Unfold((2, 3), padding=1, stride=(1, 2)),
                 nn.Unfold((2, 3), padding=1, stride=(1, 2)), [randn(2, 3, 5, 6)])
    check_module(torch.nn.Fold((5, 6), 2, dilation=(2, 1)), nn.Fold((5, 6), 2, dilation=(2, 1)),
                 [randn(2, 8, 15)])


def _parameters(fn):
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]


NAMES = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


@pytest.mark.parametrize("name", NAMES + ["Fold", "Unfold"])
def test_signatures_match_torch(name):
    torch_class, ember_class = getattr(torch.nn, name), getattr(nn, name)
    assert _parameters(ember_class.__init__) == _parameters(torch_class.__init__)
    assert ([p[0] for p in _parameters(ember_class.forward)]
            == [p[0] for p in _parameters(torch_class.forward)])


@pytest.mark.parametrize("name", NAMES)
def test_default_initialisation_matches_torch(name):
    """Shapes, dtypes and the bounds of PyTorch's kaiming-uniform initialisation."""
    torch_module, ember_module = getattr(torch.nn, name)(4, 6, 3), getattr(nn, name)(4, 6, 3)
    assert repr(ember_module) == ember_repr(repr(torch_module))
    for (key, t), (ekey, e) in zip(torch_module.state_dict().items(),
                                   ember_module.state_dict().items()):
        assert key == ekey and tuple(e.shape) == tuple(t.shape)
        assert str(e.dtype) == ember_repr(str(t.dtype))
    fan_in = ember_module.weight.shape[1] * math.prod(ember_module.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    assert float(ember_module.weight.abs().max()) <= bound + 1e-7
    assert float(ember_module.bias.abs().max()) <= bound + 1e-7
    assert float(ember_module.weight.std()) > bound / 4


def test_module_argument_errors():
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv3d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         "ConvTranspose2d"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.ConvTranspose1d(3, 2, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv3d(2, 2, 3, stride=2, padding="same")


def test_conv_module_float64_and_no_grad():
    torch_module = torch.nn.Conv2d(3, 4, 3, padding=1).double()
    ember_module = nn.Conv2d(3, 4, 3, padding=1, dtype=ember.float64)
    copy_weights(torch_module, ember_module)
    x = RNG.standard_normal((2, 3, 5, 5))
    with ember.no_grad():
        out = ember_module(ember.tensor(x))
    assert not out.requires_grad and out.dtype == ember.float64
    np.testing.assert_allclose(np.asarray(out), torch_module(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def _masked_conv_class(lib, base):
    class MaskedConv(base):
        """A PixelCNN-style masked convolution, as written for PyTorch."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            mask = lib.ones_like(self.weight.detach())
            mask[..., mask.shape[-1] // 2 + 1:] = 0
            self.register_buffer("mask", mask)

        def forward(self, x):
            return self._conv_forward(x, self.weight * self.mask, self.bias)

    return MaskedConv


@pytest.mark.parametrize("spatial, kwargs", [
    (1, {"padding": 1}), (2, {"padding": 2, "stride": 2, "bias": False}),
    (2, {"padding": 1, "padding_mode": "reflect", "groups": 2}),
    (3, {"padding": 1, "padding_mode": "circular"}),
])
def test_conv_forward_takes_weight_and_bias_as_torch(spatial, kwargs):
    """_conv_forward(input, weight, bias) is PyTorch's: subclasses pass a changed weight."""
    name = f"Conv{spatial}d"
    torch_module = _masked_conv_class(torch, getattr(torch.nn, name))(4, 6, 5 - 2 * (spatial == 3),
                                                                     **kwargs)
    ember_module = _masked_conv_class(ember, getattr(nn, name))(4, 6, 5 - 2 * (spatial == 3),
                                                                **kwargs)
    check_module(torch_module, ember_module, [randn(2, 4, *(7,) * spatial)])
    x = to_ember(randn(1, 4, *(7,) * spatial))
    plain = getattr(nn, name)(4, 6, 3, **kwargs)
    assert same(plain._conv_forward(x, plain.weight, plain.bias), plain(x))


@pytest.mark.parametrize("module_channels_last", [False, True])
@pytest.mark.parametrize("input_channels_last", [False, True])
@pytest.mark.parametrize("transposed", [False, True])
def test_convolution_output_layout_follows_channels_last_as_torch(
        module_channels_last, input_channels_last, transposed):
    cls = "ConvTranspose2d" if transposed else "Conv2d"
    ember.manual_seed(0)
    module = getattr(ember.nn, cls)(2, 3, 3)
    reference = getattr(torch.nn, cls)(2, 3, 3)
    reference.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                               for k, v in module.state_dict().items()})
    x = ember.randn(2, 2, 5, 5)
    tx = torch.from_numpy(x.numpy().copy())
    if module_channels_last:
        module = module.to(memory_format=ember.channels_last)
        reference = reference.to(memory_format=torch.channels_last)
    if input_channels_last:
        x = x.to(memory_format=ember.channels_last)
        tx = tx.to(memory_format=torch.channels_last)
    got, want = module(x), reference(tx)
    assert (got.is_contiguous(memory_format=ember.channels_last)
            == want.is_contiguous(memory_format=torch.channels_last))
    assert got.is_contiguous() == want.is_contiguous()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
