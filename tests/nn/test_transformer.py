"""Transformer layers against PyTorch: torch's weights copied in, outputs and the
gradients of inputs and parameters compared in train (dropout 0) and eval mode."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import copy_weights, ember_repr, to_ember

RNG = np.random.default_rng(0)
TORCH_DTYPES = {np.float32: torch.float32, np.float64: torch.float64}
EMBER_DTYPES = {np.float32: ember.float32, np.float64: ember.float64}
TOL = {np.float32: dict(rtol=2e-4, atol=5e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}
D, NHEAD, FF = 8, 2, 16


def normal(*shape):
    return RNG.standard_normal(shape)


def build(name, dtype, *args, **kwargs):
    """The same module built in torch and ember, torch's weights copied into ember's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        torch_module = _construct(torch.nn, name, *args, dtype=TORCH_DTYPES[dtype], **kwargs)
        ember_module = _construct(nn, name, *args, dtype=EMBER_DTYPES[dtype], **kwargs)
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    copy_weights(torch_module, ember_module)
    return torch_module, ember_module


def _construct(lib_nn, name, *args, dtype, stack=None, **kwargs):
    if stack is None:
        return getattr(lib_nn, name)(*args, dtype=dtype, **kwargs)
    layer_name, num_layers, with_norm = stack
    layer = getattr(lib_nn, layer_name)(*args, dtype=dtype, **kwargs)
    norm = lib_nn.LayerNorm(D, dtype=dtype) if with_norm else None
    return getattr(lib_nn, name)(layer, num_layers, norm)


def check(torch_module, ember_module, arrays, dtype, modes=("train", "eval"), **masks):
    """Compare outputs, input gradients and parameter gradients in each mode."""
    tol = TOL[dtype]
    torch_masks = {k: (v if v is None or isinstance(v, bool) else
                       torch.tensor(v) if v.dtype == bool
                       else torch.tensor(v, dtype=TORCH_DTYPES[dtype]))
                   for k, v in masks.items()}
    ember_masks = {k: (v if v is None or isinstance(v, bool) else to_ember(v))
                   for k, v in torch_masks.items()}
    for mode in modes:
        torch_module.train(mode == "train")
        ember_module.train(mode == "train")
        torch_in = [torch.tensor(a, dtype=TORCH_DTYPES[dtype], requires_grad=True)
                    for a in arrays]
        ember_in = [to_ember(t, requires_grad=True) for t in torch_in]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = torch_module(*torch_in, **torch_masks)
            actual = ember_module(*ember_in, **ember_masks)
        assert tuple(actual.shape) == tuple(expected.shape)
        np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy(), **tol)
        seed = normal(*expected.shape)
        (expected * torch.tensor(seed, dtype=expected.dtype)).sum().backward()
        (actual * ember.tensor(seed).to(actual.dtype)).sum().backward()
        for e, t in zip(ember_in, torch_in):
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **tol)
        torch_params = dict(torch_module.named_parameters())
        for name, param in ember_module.named_parameters():
            np.testing.assert_allclose(param.grad.numpy(), torch_params[name].grad.numpy(),
                                       **tol, err_msg=name)
            param.grad = None
            torch_params[name].grad = None


def _padding(batch, length, kind="bool"):
    mask = np.zeros((batch, length), bool)
    mask[0, -2:] = True
    mask[-1, -1] = True
    return mask if kind == "bool" else np.where(mask, -np.inf, 0.0)


def _causal(length, kind="bool"):
    mask = np.triu(np.ones((length, length), bool), 1)
    return mask if kind == "bool" else np.where(mask, -np.inf, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu"),
                                                    (False, "callable")])
def test_encoder_layer(dtype, batch_first, norm_first, activation):
    act = {"relu": "relu", "gelu": "gelu"}.get(activation)
    torch_layer, ember_layer = build("TransformerEncoderLayer", dtype, D, NHEAD, FF, 0.0,
                                     act or torch.tanh, batch_first=batch_first,
                                     norm_first=norm_first)
    if act is None:
        ember_layer.activation = ember.tanh
    shape = (3, 5, D) if batch_first else (5, 3, D)
    check(torch_layer, ember_layer, [normal(*shape)], dtype)
    check(torch_layer, ember_layer, [normal(*shape)], dtype,
          src_key_padding_mask=_padding(3, 5), src_mask=_causal(5))


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_encoder_layer_masks(mask_kind):
    torch_layer, ember_layer = build("TransformerEncoderLayer", np.float64, D, NHEAD, FF, 0.0,
                                     batch_first=True)
    x = normal(3, 5, D)
    check(torch_layer, ember_layer, [x], np.float64, src_mask=_causal(5, mask_kind),
          is_causal=True)
    check(torch_layer, ember_layer, [x], np.float64,
          src_key_padding_mask=_padding(3, 5, mask_kind))
    check(torch_layer, ember_layer, [x], np.float64,
          src_mask=np.where(RNG.random((3 * NHEAD, 5, 5)) > 0.8, -np.inf, 0.0))
    check(torch_layer, ember_layer, [normal(5, D)], np.float64, src_mask=_causal(5, mask_kind))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first, norm_first", [(False, False), (True, True)])
def test_decoder_layer(dtype, batch_first, norm_first):
    torch_layer, ember_layer = build("TransformerDecoderLayer", dtype, D, NHEAD, FF, 0.0,
                                     "gelu", batch_first=batch_first, norm_first=norm_first)
    tgt, memory = ((3, 4, D), (3, 6, D)) if batch_first else ((4, 3, D), (6, 3, D))
    check(torch_layer, ember_layer, [normal(*tgt), normal(*memory)], dtype)
    check(torch_layer, ember_layer, [normal(*tgt), normal(*memory)], dtype,
          tgt_mask=_causal(4, "float"), tgt_is_causal=True,
          memory_key_padding_mask=_padding(3, 6), tgt_key_padding_mask=_padding(3, 4),
          memory_mask=np.zeros((4, 6)))


@pytest.mark.parametrize("with_norm", [False, True])
def test_encoder_stack(with_norm):
    torch_encoder, ember_encoder = build("TransformerEncoder", np.float64, D, NHEAD, FF, 0.0,
                                         stack=("TransformerEncoderLayer", 2, with_norm))
    x = normal(5, 3, D)
    check(torch_encoder, ember_encoder, [x], np.float64)
    check(torch_encoder, ember_encoder, [x], np.float64, mask=_causal(5, "float"))
    check(torch_encoder, ember_encoder, [x], np.float64, src_key_padding_mask=_padding(3, 5),
          mask=_causal(5), is_causal=True)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_stack_nested_tensor_inference_zeroes_padding():
    torch_encoder, ember_encoder = build("TransformerEncoder", np.float32, D, NHEAD, FF, 0.0,
                                         stack=("TransformerEncoderLayer", 2, True),
                                         batch_first=True)
    torch_encoder.eval()
    ember_encoder.eval()
    x, padding = normal(3, 5, D).astype(np.float32), _padding(3, 5)
    with torch.no_grad(), ember.no_grad():
        expected = torch_encoder(torch.tensor(x), src_key_padding_mask=torch.tensor(padding))
        actual = ember_encoder(ember.tensor(x), src_key_padding_mask=ember.tensor(padding))
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=2e-4, atol=5e-5)
    padding[1, 0] = True  # padding at the start: not PyTorch's nested path any more
    with torch.no_grad(), ember.no_grad():
        expected = torch_encoder(torch.tensor(x), src_key_padding_mask=torch.tensor(padding))
        actual = ember_encoder(ember.tensor(x), src_key_padding_mask=ember.tensor(padding))
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=2e-4, atol=5e-5)


def test_decoder_stack_detects_causal_mask():
    torch_decoder, ember_decoder = build("TransformerDecoder", np.float64, D, NHEAD, FF, 0.0,
                                         stack=("TransformerDecoderLayer", 2, True))
    check(torch_decoder, ember_decoder, [normal(4, 3, D), normal(6, 3, D)], np.float64,
          tgt_mask=_causal(4, "float"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(dtype, batch_first):
    torch_model, ember_model = build("Transformer", dtype, D, NHEAD, 2, 1, FF, 0.0,
                                     batch_first=batch_first)
    src, tgt = ((3, 6, D), (3, 4, D)) if batch_first else ((6, 3, D), (4, 3, D))
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=EMBER_DTYPES[dtype])
    check(torch_model, ember_model, [normal(*src), normal(*tgt)], dtype,
          tgt_mask=mask.numpy(), src_key_padding_mask=_padding(3, 6),
          memory_key_padding_mask=_padding(3, 6))
    check(torch_model, ember_model, [normal(6, D), normal(4, D)], dtype, modes=("eval",))


def test_generate_square_subsequent_mask():
    actual = nn.Transformer.generate_square_subsequent_mask(5)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert actual.dtype == ember.float32
    np.testing.assert_array_equal(actual.numpy(), expected.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype == \
        ember.float64


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_layers_are_deep_copies_and_initialised():
    layer = nn.TransformerEncoderLayer(D, NHEAD, FF)
    encoder = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    weights = [m.linear1.weight for m in encoder.layers]
    assert len({id(w) for w in weights}) == 3 and all(w is not layer.linear1.weight
                                                      for w in weights)
    np.testing.assert_array_equal(weights[0].detach().numpy(), weights[2].detach().numpy())
    model = nn.Transformer(D, NHEAD, 1, 1, FF)
    torch_model = torch.nn.Transformer(D, NHEAD, 1, 1, FF)
    assert repr(model) == ember_repr(repr(torch_model))
    assert list(model.state_dict()) == list(torch_model.state_dict())
    assert model.encoder.norm is not None and model.decoder.norm is not None
    bound = np.sqrt(6 / (D + FF))  # xavier uniform of linear1 (FF, D) in the full model
    assert np.abs(model.encoder.layers[0].linear1.weight.detach().numpy()).max() <= bound


def test_dropout_is_active_in_training():
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.5)
    x = ember.randn(4, 2, D)
    with ember.no_grad():
        assert not np.allclose(layer(x).numpy(), layer(x).numpy())
        layer.eval()
        np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_errors_and_warnings():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(D, NHEAD, activation="tanh")
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but "
                                         "self.use_nested_tensor is False because "
                                         "encoder_layer.self_attn.batch_first was not True"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NHEAD, FF), 1)
    model = nn.Transformer(D, NHEAD, 1, 1, FF, batch_first=True)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ember.randn(2, 5, D), ember.randn(3, 4, D))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        model(ember.randn(2, 5, D), ember.randn(2, 4, D + 1))
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.TransformerEncoderLayer(10, 3)
