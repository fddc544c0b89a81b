"""scaled_dot_product_attention, multi_head_attention_forward and MultiheadAttention
against PyTorch: outputs, attention weights, input and parameter gradients, every mask
kind, layouts, dtypes, and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import nn
from functional_oracle import Const, compare
from nn_helpers import copy_weights, to_ember

RNG = np.random.default_rng(0)
TORCH_DTYPES = {np.float32: torch.float32, np.float64: torch.float64}
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def normal(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------- scaled_dot_product_attention

def _sdpa_mask(kind, shape):
    if kind == "bool":
        mask = RNG.random(shape) > 0.3
        mask[..., 0] = True  # every row may attend somewhere
        return mask
    if kind == "bool_blocked_row":
        mask = RNG.random(shape) > 0.3
        mask[..., 1, :] = False
        return mask
    return Const(normal(*shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_kind, mask_shape", [
    (None, None), ("bool", (5, 6)), ("bool", (2, 1, 5, 6)), ("bool_blocked_row", (5, 6)),
    ("float", (5, 6)), ("float", (2, 3, 5, 6)), ("float", (2, 1, 1, 6)),
])
def test_sdpa_matches_torch_with_masks(dtype, mask_kind, mask_shape):
    q, k, v = normal(2, 3, 5, 4), normal(2, 3, 6, 4), normal(2, 3, 6, 7)
    mask = _sdpa_mask(mask_kind, mask_shape) if mask_kind else None

    def fn(F, lib, q, k, v, mask=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    compare(fn, q, k, v, *([mask] if mask is not None else []), dtype=dtype)


def test_sdpa_float_mask_gets_a_gradient():
    def fn(F, lib, q, k, v, mask):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    compare(fn, normal(3, 5, 4), normal(3, 6, 4), normal(3, 6, 2), normal(5, 6))


@pytest.mark.parametrize("length, source", [(5, 5), (3, 6), (6, 3)])
def test_sdpa_causal_scale_and_unbatched(length, source):
    def fn(F, lib, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7)
    compare(fn, normal(2, length, 4), normal(2, source, 4), normal(2, source, 3))
    compare(fn, normal(length, 4), normal(source, 4), normal(source, 3))


def test_sdpa_broadcasts_batch_dims_and_strided_inputs():
    def fn(F, lib, q, k, v):
        k = k.transpose(1, 2)
        k = k[..., ::-1, :] if lib is ember else k.flip(-2)  # a negative-stride view in ember
        return F.scaled_dot_product_attention(q.transpose(1, 2), k, v[None])
    compare(fn, normal(2, 5, 3, 4), normal(2, 6, 3, 4), normal(3, 6, 2))


def test_sdpa_grouped_query_attention():
    def fn(F, lib, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    compare(fn, normal(2, 6, 3, 4), normal(2, 2, 5, 4), normal(2, 2, 5, 3))


@pytest.mark.parametrize("length, source", [(0, 3), (3, 0)])
def test_sdpa_empty_sequences(length, source):
    def fn(F, lib, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)
    compare(fn, normal(2, length, 4), normal(2, source, 4), normal(2, source, 5))


def test_mha_non_contiguous_inputs():
    torch_mha, ember_mha = _mha_pair(np.float64, embed_dim=E, num_heads=H)
    query = torch.tensor(normal(2 * L, N, E), requires_grad=True)
    memory = torch.tensor(normal(N, S, E), requires_grad=True)
    e_query, e_memory = to_ember(query, True), to_ember(memory, True)
    expected = torch_mha(query[::2], memory.transpose(0, 1), memory.transpose(0, 1))[0]
    actual = ember_mha(e_query[::2], e_memory.transpose(0, 1), e_memory.transpose(0, 1))[0]
    np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy(), rtol=1e-9,
                               atol=1e-11)
    expected.sum().backward()
    actual.sum().backward()
    np.testing.assert_allclose(e_query.grad.numpy(), query.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(e_memory.grad.numpy(), memory.grad.numpy(), rtol=1e-9,
                               atol=1e-11)


def test_sdpa_dropout_keeps_expectation_and_zeroes():
    ember.manual_seed(0)
    q, k = ember.zeros(1, 200, 4), ember.zeros(1, 50, 4)
    v = ember.ones(1, 50, 1)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    assert abs(out.mean() - 1.0) < 0.1
    assert not np.allclose(out, 1.0)
    assert np.array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy(),
                          np.zeros((1, 200, 1), np.float32))


def test_sdpa_errors():
    q, k, v = ember.randn(2, 3), ember.randn(4, 3), ember.randn(4, 6)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ember.ones(2, 4, dtype=ember.bool),
                                       is_causal=True)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ember.ones(2, 4, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same"):
        F.scaled_dot_product_attention(q, k.to(ember.float64), v)
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide"):
        F.scaled_dot_product_attention(ember.randn(1, 6, 2, 3), ember.randn(1, 4, 4, 3),
                                       ember.randn(1, 4, 4, 3), enable_gqa=True)
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(q, ember.randn(4, 2), v)


def test_sdpa_gradcheck_float64():
    from ember.autograd import gradcheck, gradgradcheck
    leaves = [ember.randn(*s, dtype=ember.float64, requires_grad=True)
              for s in ((2, 3, 2), (2, 4, 2), (2, 4, 3))]
    mask = ember.tensor([[True, False, True, True], [True, True, False, False],
                         [False, False, False, False]])

    def fn(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert gradcheck(fn, leaves)
    assert gradgradcheck(fn, leaves)


# ---------------------------------------------------------------- MultiheadAttention

def _mha_pair(dtype, **kwargs):
    torch.manual_seed(0)
    torch_mha = torch.nn.MultiheadAttention(**kwargs, dtype=TORCH_DTYPES[dtype])
    ember_mha = nn.MultiheadAttention(**kwargs, dtype=ember.float32 if dtype == np.float32
                                      else ember.float64)
    copy_weights(torch_mha, ember_mha)
    return torch_mha, ember_mha


def _run_pair(torch_mha, ember_mha, inputs, masks, dtype, mode="train", **kwargs):
    """Call both modules on the same inputs (the first ``same`` names reuse one tensor so
    that ``query is key is value`` holds) and compare outputs, weights and gradients."""
    tol = TOL[dtype]
    torch_mha.train(mode == "train")
    ember_mha.train(mode == "train")
    torch_in, ember_in = {}, {}
    for name, array in inputs.items():
        if isinstance(array, str):  # an alias of another input
            torch_in[name], ember_in[name] = torch_in[array], ember_in[array]
            continue
        torch_in[name] = torch.tensor(array, dtype=TORCH_DTYPES[dtype], requires_grad=True)
        ember_in[name] = to_ember(torch_in[name], requires_grad=True)
    torch_masks = {k: (torch.tensor(v) if v.dtype == bool else
                       torch.tensor(v, dtype=TORCH_DTYPES[dtype])) for k, v in masks.items()}
    ember_masks = {k: to_ember(v) for k, v in torch_masks.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out, t_weights = torch_mha(torch_in["query"], torch_in["key"], torch_in["value"],
                                     **torch_masks, **kwargs)
        e_out, e_weights = ember_mha(ember_in["query"], ember_in["key"], ember_in["value"],
                                     **ember_masks, **kwargs)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), **tol)
    if t_weights is None:
        assert e_weights is None
    else:
        assert tuple(e_weights.shape) == tuple(t_weights.shape)
        np.testing.assert_allclose(e_weights.detach().numpy(), t_weights.detach().numpy(),
                                   **tol, equal_nan=True)
    if not t_out.requires_grad:
        return
    seed = normal(*t_out.shape)
    loss = (t_out * torch.tensor(seed, dtype=t_out.dtype)).sum()
    e_loss = (e_out * ember.tensor(seed).to(e_out.dtype)).sum()
    if t_weights is not None:
        weight_seed = normal(*t_weights.shape)
        loss = loss + (t_weights * torch.tensor(weight_seed, dtype=t_out.dtype)).nansum()
        e_loss = e_loss + (e_weights * ember.tensor(weight_seed).to(e_out.dtype)).sum()
    loss.backward()
    e_loss.backward()
    for name, t in torch_in.items():
        if not isinstance(inputs[name], str):
            np.testing.assert_allclose(ember_in[name].grad.numpy(), t.grad.numpy(), **tol)
    torch_params = dict(torch_mha.named_parameters())
    for name, param in ember_mha.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), torch_params[name].grad.numpy(), **tol,
                                   err_msg=name)


def _mask(kind, shape):
    if kind == "bool":
        mask = RNG.random(shape) > 0.7
        mask[..., 0] = False  # no fully blocked row (PyTorch gives NaN weights there)
        return mask
    return normal(*shape)


L, S, N, E, H = 4, 5, 3, 8, 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
def test_mha_self_attention(dtype, batch_first, need_weights, average):
    torch_mha, ember_mha = _mha_pair(dtype, embed_dim=E, num_heads=H, batch_first=batch_first)
    shape = (N, L, E) if batch_first else (L, N, E)
    _run_pair(torch_mha, ember_mha, {"query": normal(*shape), "key": "query", "value": "query"},
              {}, dtype, need_weights=need_weights, average_attn_weights=average)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("attn_kind, attn_dims, pad_kind", [
    ("bool", 2, None), ("float", 2, None), ("bool", 3, None), ("float", 3, None),
    (None, None, "bool"), (None, None, "float"), ("bool", 2, "bool"), ("float", 3, "float"),
])
def test_mha_masks(mode, batch_first, attn_kind, attn_dims, pad_kind):
    dtype = np.float64
    torch_mha, ember_mha = _mha_pair(dtype, embed_dim=E, num_heads=H, batch_first=batch_first)
    shape = (N, S, E) if batch_first else (S, N, E)
    masks = {}
    if attn_kind:
        masks["attn_mask"] = _mask(attn_kind, (S, S) if attn_dims == 2 else (N * H, S, S))
    if pad_kind:
        masks["key_padding_mask"] = _mask(pad_kind, (N, S))
    for need_weights in (True, False):
        _run_pair(torch_mha, ember_mha, {"query": normal(*shape), "key": "query",
                                         "value": "query"},
                  masks, dtype, mode, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_is_causal_with_its_mask(need_weights):
    torch_mha, ember_mha = _mha_pair(np.float64, embed_dim=E, num_heads=H)
    causal = np.triu(np.ones((L, L), bool), 1)
    _run_pair(torch_mha, ember_mha, {"query": normal(L, N, E), "key": "query", "value": "query"},
              {"attn_mask": causal}, np.float64, is_causal=True, need_weights=need_weights)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [
    dict(kdim=6, vdim=5), dict(add_bias_kv=True), dict(add_zero_attn=True),
    dict(add_bias_kv=True, add_zero_attn=True, kdim=6, vdim=5), dict(bias=False),
])
def test_mha_cross_attention_options(dtype, options):
    torch_mha, ember_mha = _mha_pair(dtype, embed_dim=E, num_heads=H, **options)
    inputs = {"query": normal(L, N, E), "key": normal(S, N, options.get("kdim", E)),
              "value": normal(S, N, options.get("vdim", E))}
    masks = {"key_padding_mask": _mask("bool", (N, S)), "attn_mask": _mask("float", (L, S))}
    _run_pair(torch_mha, ember_mha, inputs, masks, dtype, average_attn_weights=False)
    _run_pair(torch_mha, ember_mha, inputs, {}, dtype, need_weights=False)


def test_mha_key_is_value_and_unbatched():
    torch_mha, ember_mha = _mha_pair(np.float64, embed_dim=E, num_heads=H, batch_first=True)
    _run_pair(torch_mha, ember_mha, {"query": normal(N, L, E), "key": normal(N, S, E),
                                     "value": "key"}, {}, np.float64)
    _run_pair(torch_mha, ember_mha, {"query": normal(L, E), "key": normal(S, E),
                                     "value": normal(S, E)},
              {"key_padding_mask": _mask("bool", (S,)), "attn_mask": _mask("bool", (H, L, S))},
              np.float64, average_attn_weights=False)


def test_mha_fully_masked_rows_match_torch():
    torch_mha, ember_mha = _mha_pair(np.float64, embed_dim=E, num_heads=H)
    padding = np.zeros((N, S), bool)
    padding[1] = True  # the second sequence is all padding
    for need_weights in (True, False):
        _run_pair(torch_mha, ember_mha, {"query": normal(S, N, E), "key": "query",
                                         "value": "query"},
                  {"key_padding_mask": padding}, np.float64, "eval", need_weights=need_weights)


def test_mha_parameters_init_and_repr():
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True)
    torch_mha = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    assert list(mha.state_dict()) == list(torch_mha.state_dict())
    assert repr(mha) == repr(torch_mha)
    assert not mha.in_proj_bias.detach().numpy().any()
    assert not mha.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (8 + 24))  # xavier uniform of a (24, 8) weight
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    separate = nn.MultiheadAttention(8, 2, kdim=3, vdim=4)
    names = [n for n, _ in separate.named_parameters()]
    assert names == [n for n, _ in torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=4)
                     .named_parameters()]
    assert tuple(separate.k_proj_weight.shape) == (8, 3) and separate.in_proj_weight is None
    assert isinstance(mha.out_proj, nn.Linear)


def test_mha_dropout_in_training_only():
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(6, 2, 8)
    _, weights = mha(x, x, x, average_attn_weights=False)
    assert (weights.detach().numpy() == 0).any()
    mha.eval()
    _, weights = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1.0, rtol=1e-5)


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 1)
    mha = nn.MultiheadAttention(8, 2)
    x = ember.randn(4, 3, 8)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is .*\(4, 4\)"):
        mha(x, x, x, attn_mask=ember.zeros(4, 5))
    with pytest.raises(RuntimeError, match=r"The shape of the 3D attn_mask is .*\(6, 4, 4\)"):
        mha(x, x, x, attn_mask=ember.zeros(3, 4, 4))
    with pytest.raises(AssertionError, match="Expected key_padded_mask.shape"):
        mha(x, x, x, key_padding_mask=ember.zeros(3, 5, dtype=ember.bool))
    with pytest.raises(AssertionError, match="expected `key_padding_mask` to be `None` or 2-D"):
        mha(x, x, x, key_padding_mask=ember.zeros(3, dtype=ember.bool))
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        mha(x, x, x, attn_mask=ember.zeros(4, 4, dtype=ember.int64))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
        mha(ember.randn(4, 3, 6), x, x)
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        mha(ember.randn(8), x, x)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask"):
        mha(x, x, x, key_padding_mask=ember.zeros(3, 4, dtype=ember.bool),
            attn_mask=ember.zeros(4, 4))


def test_functional_mha_matches_torch():
    torch_mha, _ = _mha_pair(np.float64, embed_dim=E, num_heads=H)
    weights = {n: p.detach().numpy() for n, p in torch_mha.named_parameters()}

    def fn(F, lib, query, in_w, in_b, out_w, out_b):
        out, attn = F.multi_head_attention_forward(
            query, query, query, E, H, in_w, in_b, None, None, False, 0.0, out_w, out_b,
            average_attn_weights=False)
        return out.sum(-1) + attn.sum((1, 3)).transpose(0, 1)
    compare(fn, normal(L, N, E), weights["in_proj_weight"], weights["in_proj_bias"],
            weights["out_proj.weight"], weights["out_proj.bias"])


def test_functional_mha_static_kv():
    torch_mha, _ = _mha_pair(np.float64, embed_dim=E, num_heads=H)
    weights = {n: p.detach().numpy() for n, p in torch_mha.named_parameters()}

    def fn(F, lib, query, static_k, static_v, in_w, out_w):
        return F.multi_head_attention_forward(
            query, query, query, E, H, in_w, None, None, None, False, 0.0, out_w, None,
            static_k=static_k, static_v=static_v, need_weights=False)[0]
    compare(fn, normal(L, N, E), normal(N * H, S, E // H), normal(N * H, S, E // H),
            weights["in_proj_weight"], weights["out_proj.weight"])


def test_mha_gradcheck_float64():
    from ember.autograd import gradcheck, gradgradcheck
    ember.manual_seed(0)

    def leaf(*shape):
        return ember.randn(*shape, dtype=ember.float64, requires_grad=True)
    leaves = (leaf(3, 2, 4), leaf(2, 2, 4), leaf(12, 4), leaf(12), leaf(4, 4), leaf(1, 1, 4),
              leaf(1, 1, 4))
    padding = ember.tensor([[False, True], [False, False]])

    def fn(query, key, in_w, in_b, out_w, bias_k, bias_v):
        return F.multi_head_attention_forward(
            query, key, key, 4, 2, in_w, in_b, bias_k, bias_v, True, 0.0, out_w, None,
            key_padding_mask=padding, average_attn_weights=False)
    assert gradcheck(fn, leaves)
    assert gradgradcheck(lambda q, k, w: fn(q, k, w, *leaves[3:])[0], leaves[:3])
