"""Default initialisation of every ember.nn layer with parameters, checked
statistically against PyTorch's defaults: the exact law of each parameter
(uniform bounds, normal moments, constants), tested on large draws with
Kolmogorov-Smirnov tests, and the same checks passed by torch's own draws (so the
law written here is torch's)."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

import ember
from ember import nn

N_INSTANCES = 8          # draws per layer; small parameters (biases) pool these


def uniform(bound):
    return ("uniform", bound)


def normal(std):
    return ("normal", std)


def constant(value):
    return ("constant", value)


def kaiming_uniform_a5(fan_in):
    """kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return uniform(1 / math.sqrt(fan_in))


def xavier_uniform(fan_in, fan_out):
    """xavier_uniform_: U(-b, b) with b = sqrt(6 / (fan_in + fan_out))."""
    return uniform(math.sqrt(6 / (fan_in + fan_out)))


def xavier_normal(fan_in, fan_out):
    """xavier_normal_: N(0, 2 / (fan_in + fan_out))."""
    return normal(math.sqrt(2 / (fan_in + fan_out)))


def transformer_laws(d_model, dim_feedforward, num_encoder_layers, num_decoder_layers):
    """nn.Transformer._reset_parameters: xavier_uniform_ on every parameter of two or more
    dimensions; the biases and norms keep their layers' defaults (the attention's zero
    biases, Linear's U(+-1/sqrt(fan_in)), LayerNorm's ones and zeros)."""
    def attention(prefix):
        return {prefix + "in_proj_weight": xavier_uniform(d_model, 3 * d_model),
                prefix + "in_proj_bias": constant(0.0),
                prefix + "out_proj.weight": xavier_uniform(d_model, d_model),
                prefix + "out_proj.bias": constant(0.0)}

    def feedforward(prefix):
        return {prefix + "linear1.weight": xavier_uniform(d_model, dim_feedforward),
                prefix + "linear1.bias": uniform(1 / math.sqrt(d_model)),
                prefix + "linear2.weight": xavier_uniform(dim_feedforward, d_model),
                prefix + "linear2.bias": uniform(1 / math.sqrt(dim_feedforward))}

    def norms(*prefixes):
        laws = {}
        for prefix in prefixes:
            laws.update({prefix + "weight": constant(1.0), prefix + "bias": constant(0.0)})
        return laws

    laws = {}
    for i in range(num_encoder_layers):
        layer = f"encoder.layers.{i}."
        laws.update(attention(layer + "self_attn."), **feedforward(layer),
                    **norms(layer + "norm1.", layer + "norm2."))
    for i in range(num_decoder_layers):
        layer = f"decoder.layers.{i}."
        laws.update(attention(layer + "self_attn."), **attention(layer + "multihead_attn."),
                    **feedforward(layer),
                    **norms(layer + "norm1.", layer + "norm2.", layer + "norm3."))
    laws.update(norms("encoder.norm.", "decoder.norm."))
    return laws


# layer name, constructor arguments, {parameter or buffer name: law}
CASES = [
    ("Linear", (300, 200), {"weight": kaiming_uniform_a5(300),
                            "bias": uniform(1 / math.sqrt(300))}),
    ("Linear", (7, 400), {"weight": kaiming_uniform_a5(7), "bias": uniform(1 / math.sqrt(7))}),
    ("Bilinear", (30, 20, 50), {"weight": uniform(1 / math.sqrt(30)),
                                "bias": uniform(1 / math.sqrt(30))}),
    ("Conv1d", (16, 64, 5), {"weight": kaiming_uniform_a5(16 * 5),
                             "bias": uniform(1 / math.sqrt(16 * 5))}),
    ("Conv2d", (8, 64, 3), {"weight": kaiming_uniform_a5(8 * 9),
                            "bias": uniform(1 / math.sqrt(8 * 9))}),
    ("Conv2d", (8, 64, (3, 2)), {"weight": kaiming_uniform_a5(8 * 6),
                                 "bias": uniform(1 / math.sqrt(8 * 6))}),
    ("Embedding", (500, 64), {"weight": normal(1.0)}),
    ("PReLU", (64,), {"weight": constant(0.25)}),
    ("LayerNorm", (64,), {"weight": constant(1.0), "bias": constant(0.0)}),
    ("GroupNorm", (4, 64), {"weight": constant(1.0), "bias": constant(0.0)}),
    ("RMSNorm", (64,), {"weight": constant(1.0)}),
]
for _name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"):
    CASES.append((_name, (32,), {"weight": constant(1.0), "bias": constant(0.0),
                                 "running_mean": constant(0.0), "running_var": constant(1.0),
                                 "num_batches_tracked": constant(0)}))
for _name in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"):
    CASES.append((_name, (32,), {}))       # no affine parameters by default

for _name, _args, _fan_in in (("Conv3d", (4, 32, 3), 4 * 27),
                               ("ConvTranspose1d", (16, 32, 5), 32 * 5),  # fan_in: dim 1
                               ("ConvTranspose2d", (8, 16, 3), 16 * 9),
                               ("ConvTranspose3d", (4, 8, 3), 8 * 27)):
    CASES.append((_name, _args, {"weight": kaiming_uniform_a5(_fan_in),
                                 "bias": uniform(1 / math.sqrt(_fan_in))}))
CASES.append(("EmbeddingBag", (500, 64), {"weight": normal(1.0)}))
# recurrent layers: every weight and bias U(-1/sqrt(hidden), 1/sqrt(hidden))
_RECURRENT = {key: uniform(1 / math.sqrt(64))
              for key in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
for _name in ("RNN", "LSTM", "GRU"):
    CASES.append((_name, (32, 64), _RECURRENT))
CASES.append(("RNNBase", ("LSTM", 32, 64), _RECURRENT))
_CELL = {key.removesuffix("_l0"): law for key, law in _RECURRENT.items()}
for _name in ("RNNCell", "LSTMCell", "GRUCell"):
    CASES.append((_name, (32, 64), _CELL))
CASES.append(("RNNCellBase", (32, 64, True, 4), _CELL))

# lazy layers: initialised from an input of this shape, the laws of the layer they become
LAZY_INPUTS = {}
for _name, _args, _shape, _fan_in in (
        ("LazyLinear", (200,), (1, 300), 300), ("LazyConv1d", (64, 5), (1, 16, 8), 16 * 5),
        ("LazyConv2d", (64, 3), (1, 8, 4, 4), 8 * 9),
        ("LazyConv3d", (32, 3), (1, 4, 3, 3, 3), 4 * 27),
        ("LazyConvTranspose1d", (32, 5), (1, 16, 8), 32 * 5),
        ("LazyConvTranspose2d", (16, 3), (1, 8, 4, 4), 16 * 9),
        ("LazyConvTranspose3d", (8, 3), (1, 4, 3, 3, 3), 8 * 27)):
    LAZY_INPUTS[_name] = _shape
    CASES.append((_name, _args, {"weight": kaiming_uniform_a5(_fan_in),
                                 "bias": uniform(1 / math.sqrt(_fan_in))}))
for _name, _shape in (("LazyBatchNorm1d", (2, 32)), ("LazyBatchNorm2d", (2, 32, 2, 2)),
                      ("LazyBatchNorm3d", (2, 32, 2, 2, 2)), ("LazyInstanceNorm1d", (2, 32, 3)),
                      ("LazyInstanceNorm2d", (2, 32, 3, 3)),
                      ("LazyInstanceNorm3d", (2, 32, 2, 2, 2))):
    LAZY_INPUTS[_name] = _shape     # lazy norms default to affine with running statistics
    CASES.append((_name, (), {"weight": constant(1.0), "bias": constant(0.0),
                              "running_mean": constant(0.0), "running_var": constant(1.0),
                              "num_batches_tracked": constant(0)}))

# layers initialised by _reset_parameters instead of reset_parameters
CASES.append(("MultiheadAttention", (64, 4), {
    "in_proj_weight": xavier_uniform(64, 3 * 64), "in_proj_bias": constant(0.0),
    "out_proj.weight": kaiming_uniform_a5(64), "out_proj.bias": constant(0.0)}))
# kdim=32, vdim=16 (separate projections), add_bias_kv=True
CASES.append(("MultiheadAttention", (64, 4, 0.0, True, True, False, 32, 16), {
    "q_proj_weight": xavier_uniform(64, 64), "k_proj_weight": xavier_uniform(32, 64),
    "v_proj_weight": xavier_uniform(16, 64), "in_proj_bias": constant(0.0),
    # (1, 1, 64): fans of 1 * 64 each (the trailing dimension is the receptive field)
    "bias_k": xavier_normal(64, 64), "bias_v": xavier_normal(64, 64),
    "out_proj.weight": kaiming_uniform_a5(64), "out_proj.bias": constant(0.0)}))
# d_model=32, nhead=4, 2 encoder and 2 decoder layers, dim_feedforward=48
CASES.append(("Transformer", (32, 4, 2, 2, 48), transformer_laws(32, 48, 2, 2)))

CASES.append(("AdaptiveLogSoftmaxWithLoss", (64, 100, [20, 50]), {
    "head.weight": kaiming_uniform_a5(64), "tail.0.0.weight": kaiming_uniform_a5(64),
    "tail.0.1.weight": kaiming_uniform_a5(16), "tail.1.0.weight": kaiming_uniform_a5(64),
    "tail.1.1.weight": kaiming_uniform_a5(4)}))


def draw(lib, name, args):
    """Every parameter and buffer of N_INSTANCES fresh layers, flattened and pooled."""
    pooled = {}
    for _ in range(N_INSTANCES):
        layer = getattr(lib.nn, name)(*args)
        if name in LAZY_INPUTS:
            # what the first forward's pre-hook does, without the forward's statistics update
            layer.initialize_parameters(lib.zeros(LAZY_INPUTS[name]))
        for key, value in list(layer.named_parameters()) + list(layer.named_buffers()):
            values = value.detach().numpy() if lib is torch else np.asarray(value.detach())
            pooled.setdefault(key, []).append(values.astype(np.float64).ravel())
    return {key: np.concatenate(chunks) for key, chunks in pooled.items()}


def check_law(values, law, where):
    kind, param = law
    n = values.size
    if kind == "constant":
        assert (values == param).all(), f"{where}: expected all {param}"
        return
    if kind == "uniform":
        assert values.min() >= -param and values.max() <= param, f"{where}: out of bounds"
        # the extremes approach the bounds: within a few expected gaps of them
        assert values.max() > param * (1 - 20 / n) and values.min() < -param * (1 - 20 / n)
        std = param / math.sqrt(3)
        p_value = stats.kstest(values, "uniform", args=(-param, 2 * param)).pvalue
    else:
        std = param
        p_value = stats.kstest(values, "norm", args=(0.0, param)).pvalue
    assert abs(values.mean()) < 5 * std / math.sqrt(n), f"{where}: mean {values.mean()}"
    # the sample std's standard error is about std / sqrt(2n) (normal) or less (uniform)
    assert abs(values.std() - std) < 5 * std / math.sqrt(2 * n), f"{where}: std {values.std()}"
    assert p_value > 1e-4, f"{where}: KS p-value {p_value}"


# torch.nn.Transformer warns that batch_first=False leaves its nested-tensor path off
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("name,args,laws", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_default_init_matches_torch_law(name, args, laws):
    ember.manual_seed(1234)
    torch.manual_seed(1234)
    ours, theirs = draw(ember, name, args), draw(torch, name, args)
    assert list(ours) == list(theirs)
    assert set(ours) == set(laws)
    for key, law in laws.items():
        assert ours[key].shape == theirs[key].shape
        check_law(theirs[key], law, f"torch {name}.{key}")       # the law is torch's
        check_law(ours[key], law, f"ember {name}.{key}")


def test_embedding_padding_row_is_zero():
    ember.manual_seed(0)
    layer = nn.Embedding(200, 50, padding_idx=3)
    weight = layer.weight.detach().numpy()
    assert (weight[3] == 0).all()
    check_law(np.delete(weight, 3, axis=0).ravel().astype(np.float64), normal(1.0),
              "Embedding(padding_idx=3).weight")


def test_affine_instance_norm_and_no_bias_variants():
    for layer in (nn.InstanceNorm1d(16, affine=True), nn.InstanceNorm2d(16, affine=True),
                  nn.InstanceNorm3d(16, affine=True), nn.LayerNorm(16, bias=False),
                  nn.BatchNorm2d(16, bias=False)):
        assert (layer.weight.detach().numpy() == 1).all()
        assert layer.bias is None or (layer.bias.detach().numpy() == 0).all()
    linear = nn.Linear(100, 300, bias=False)
    assert linear.bias is None
    check_law(linear.weight.detach().numpy().ravel().astype(np.float64), kaiming_uniform_a5(100),
              "Linear(bias=False).weight")


def test_every_layer_with_parameters_is_covered():
    # layers initialise in reset_parameters, or in _reset_parameters as MultiheadAttention
    # and Transformer do (in torch too)
    covered = {case[0] for case in CASES}
    with_parameters = {name for name in dir(nn)
                       if isinstance(getattr(nn, name), type)
                       and issubclass(getattr(nn, name), nn.Module)
                       and (hasattr(getattr(nn, name), "reset_parameters")
                            or hasattr(getattr(nn, name), "_reset_parameters"))}
    assert {"MultiheadAttention", "Transformer"} <= with_parameters
    assert with_parameters <= covered, f"add a case for {sorted(with_parameters - covered)}"


def test_different_seeds_give_different_draws():
    ember.manual_seed(1)
    first = nn.Linear(20, 20).weight.detach().numpy().copy()
    ember.manual_seed(2)
    assert not np.array_equal(first, nn.Linear(20, 20).weight.detach().numpy())
    ember.manual_seed(1)
    assert np.array_equal(first, nn.Linear(20, 20).weight.detach().numpy())
