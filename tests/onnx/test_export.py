"""ember.onnx.export: the issue's four models (MLP, digits CNN, LSTM, Transformer encoder)
exported at batch 2 and run at batch 5 in onnxruntime, onnx's reference evaluator and
back in ember (ember.onnx.load); nn modules op by op; errors."""
import io
import os

import numpy as np
import onnx
import onnxruntime
import pytest

import ember
import ember.onnx
from ember import nn
from ember.examples.digits import build_model as digits_cnn
from onnx_helpers import assert_matches, export_bytes, run_everywhere

BATCH = {0: "batch"}


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


def test_mlp():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                          nn.ReLU(), nn.Linear(256, 10))
    data = assert_matches(model, ember.randn(2, 1, 28, 28), (ember.randn(5, 1, 28, 28),),
                          ["x"], {"x": BATCH, "output": BATCH})
    proto = onnx.load_model_from_string(data)
    assert [n.op_type for n in proto.graph.node].count("Gemm") == 3
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_digits_cnn():
    data = assert_matches(digits_cnn(), ember.randn(2, 1, 8, 8), (ember.randn(5, 1, 8, 8),),
                          ["image"], {"image": BATCH, "output": BATCH})
    ops = {n.op_type for n in onnx.load_model_from_string(data).graph.node}
    assert {"Conv", "MaxPool", "Gemm", "Relu"} <= ops
    assert "Dropout" not in ops         # exported in eval mode: identity


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("initial_states", [False, True])
def test_lstm(batch_first, initial_states):
    lstm = nn.LSTM(4, 6, num_layers=2, batch_first=batch_first)
    axis = 0 if batch_first else 1

    def inputs(batch):
        x = ember.randn(*((batch, 3, 4) if batch_first else (3, batch, 4)))
        if not initial_states:
            return (x,)
        return (x, (ember.randn(2, batch, 6), ember.randn(2, batch, 6)))

    names = ["x", "h0", "c0"] if initial_states else ["x"]
    dynamic = {"x": {axis: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}}
    data = assert_matches(lstm, inputs(2), inputs(5), names,
                          {k: v for k, v in dynamic.items() if k in names})
    lstms = [n for n in onnx.load_model_from_string(data).graph.node if n.op_type == "LSTM"]
    assert len(lstms) == 2
    # zero initial states (made from the running batch size) are left out of the node
    assert all(len(n.input) == (7 if initial_states else 4) for n in lstms)


def test_lstm_dynamic_sequence_length():
    lstm = nn.LSTM(3, 4, batch_first=True)
    assert_matches(lstm, ember.randn(2, 5, 3), (ember.randn(3, 8, 3),), ["x"],
                   {"x": {0: "batch", 1: "time"}})


@pytest.mark.parametrize("cls", [nn.GRU, nn.RNN])
def test_gru_rnn_bidirectional(cls):
    model = cls(4, 5, num_layers=1, bidirectional=True, batch_first=True)
    assert_matches(model, ember.randn(2, 3, 4), (ember.randn(5, 3, 4),), ["x"],
                   {"x": BATCH})


@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_encoder(with_mask, batch_first):
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=batch_first)
    # enable_nested_tensor=False: eager then computes the padded positions as the traced
    # (and PyTorch's exported) graph does, instead of returning zeros there
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    axis = 0 if batch_first else 1

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def forward(self, src, mask=None):
            return self.encoder(src, src_key_padding_mask=mask)

    def inputs(batch):
        src = ember.randn(*((batch, 3, 8) if batch_first else (3, batch, 8)))
        if not with_mask:
            return (src,)
        mask = ember.zeros((batch, 3), dtype=ember.bool)
        mask[0, 2] = True
        mask[batch - 1, 1:] = True
        return (src, mask)

    names = ["src", "mask"] if with_mask else ["src"]
    dynamic = {"src": {axis: "batch"}, "mask": BATCH}
    assert_matches(Model(), inputs(2), inputs(5), names,
                   {k: v for k, v in dynamic.items() if k in names}, atol=1e-4)


def test_transformer_encoder_decoder_with_causal_mask():
    """A full nn.Transformer with the causal target mask made inside forward (an in-place
    masked_fill_ on a tensor sized by the traced length) and padding masks, exported with
    dynamic batch and sequence lengths."""
    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.transformer = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True)
            self.head = nn.Linear(8, 20)

        def forward(self, src, tgt):
            causal = self.transformer.generate_square_subsequent_mask(tgt.size(1))
            h = self.transformer(self.embed(src), self.embed(tgt), tgt_mask=causal,
                                 src_key_padding_mask=src == 0,
                                 memory_key_padding_mask=src == 0)
            return self.head(h)

    def inputs(batch, s, t):
        src = ember.randint(1, 20, (batch, s))
        src[0, -1] = 0
        return (src, ember.randint(1, 20, (batch, t)))

    axes = {"src": {0: "batch", 1: "s"}, "tgt": {0: "batch", 1: "t"}}
    assert_matches(Seq2Seq().eval(), inputs(2, 5, 4), inputs(3, 7, 6), ["src", "tgt"], axes,
                   atol=1e-4)


def test_in_place_writes_in_forward():
    """zero_, fill_ (a number or a 0-d tensor), index assignment and in-place elementwise
    ops on computed tensors: each becomes a new value in the exported graph."""
    class Model(nn.Module):
        def forward(self, x):
            y = x * 1
            y.zero_()
            y += x
            z = (x * 1).fill_(2.5) + (x * 1).fill_(x.sum())
            w = x.clone()
            w[:, 0] = 0
            return y.relu_() + z + w

    assert_matches(Model(), ember.randn(2, 3), (ember.randn(5, 3),), ["x"], {"x": BATCH})


SELECTIONS = {
    "topk": lambda x: x.topk(2, dim=1).values + x.topk(2, dim=-1, largest=False).indices,
    "argmax": lambda x: x.argmax(1) + x.argmin(-1, keepdim=True) + x.argmax(),
    "argsort_gather": lambda x: x.gather(1, x.argsort(1)),
    "sort": lambda x: x.sort(1).values + x.sort(-1, descending=True).indices,
    "one_hot_argmax": lambda x: nn.functional.one_hot(x.argmax(1), 3).float(),
    "atan2": lambda x: ember.atan2(x, x.flip(1)),
}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selection_ops(name):
    class Model(nn.Module):
        def forward(self, x):
            return SELECTIONS[name](x)

    assert_matches(Model(), ember.randn(2, 3), (ember.randn(5, 3),), ["x"], {"x": BATCH})


MODULES = {
    "activations": lambda: nn.Sequential(
        nn.ELU(), nn.SELU(), nn.CELU(0.5), nn.LeakyReLU(0.1), nn.GELU(), nn.GELU("tanh"),
        nn.Hardsigmoid(), nn.Hardswish(), nn.Mish(), nn.SiLU(), nn.Softplus(), nn.Softsign(),
        nn.Tanhshrink(), nn.Hardshrink(0.3), nn.Softshrink(0.2), nn.ReLU6(), nn.Hardtanh(),
        nn.Threshold(0.1, 2.0), nn.PReLU(4), nn.Sigmoid(), nn.Tanh()),
    "softmax": lambda: nn.Sequential(nn.Softmax(1), nn.LogSoftmax(-1)),
    "norms": lambda: nn.Sequential(nn.BatchNorm2d(4), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4),
                                   nn.InstanceNorm2d(4, affine=True), nn.LayerNorm([6, 6])),
    "convs": lambda: nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1,
                                             groups=2),
                                   nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1,
                                                      output_padding=1)),
    "pools": lambda: nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.AvgPool2d(3, 1, 1),
                                   nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
                                   nn.AdaptiveAvgPool2d(1)),
    "shapes": lambda: nn.Sequential(nn.PixelShuffle(2), nn.Unflatten(1, (1, 1)),
                                    nn.Flatten(1, 2), nn.Upsample(scale_factor=2),
                                    nn.ReflectionPad2d(1), nn.ReplicationPad2d((1, 0, 2, 1)),
                                    nn.ZeroPad2d((1, 2, 0, 1)), nn.ConstantPad2d((-1, 2, 1, 0), 0.5),
                                    nn.Upsample(scale_factor=2, mode="bilinear"),
                                    nn.Dropout(0.5)),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_nn_modules(name):
    assert_matches(MODULES[name](), ember.randn(2, 4, 6, 6), (ember.randn(5, 4, 6, 6),),
                   ["x"], {"x": BATCH}, atol=1e-4)


SEQUENCE_MODULES = {
    "multihead_attention": lambda: nn.MultiheadAttention(6, 2, batch_first=True),
    "transformer": lambda: nn.Transformer(6, 2, 1, 1, 8, batch_first=True),
    "bilinear": lambda: nn.Bilinear(6, 6, 3),
    "pairwise_distance": lambda: nn.PairwiseDistance(),
}


@pytest.mark.parametrize("name", sorted(SEQUENCE_MODULES))
def test_two_input_modules(name):
    def inputs(batch):
        return (ember.randn(batch, 4, 6), ember.randn(batch, 4, 6)) + (
            (ember.randn(batch, 4, 6),) if name == "multihead_attention" else ())
    names = ["a", "b", "c"][:len(inputs(1))]
    assert_matches(SEQUENCE_MODULES[name](), inputs(2), inputs(5), names,
                   {k: BATCH for k in names}, atol=1e-4)


MORE_MODULES = {
    "shuffles": lambda: nn.Sequential(nn.ChannelShuffle(2), nn.PixelUnshuffle(2),
                                      nn.PixelShuffle(2), nn.CircularPad2d(1)),
    "activations_more": lambda: nn.Sequential(nn.LogSigmoid(), nn.Softmin(1), nn.Softmax2d(),
                                              nn.Hardtanh(-0.5, 0.5), nn.RReLU(), nn.GLU(1)),
    "pools_more": lambda: nn.Sequential(nn.AdaptiveMaxPool2d(3), nn.LPPool2d(2, 2),
                                        nn.Upsample(size=(5, 5)),
                                        nn.Upsample(scale_factor=2, mode="bicubic")),
    "norms_more": lambda: nn.Sequential(nn.RMSNorm(6), nn.Identity(), nn.Dropout2d(),
                                        nn.AlphaDropout(0.2)),
    "unfold_fold": lambda: nn.Sequential(nn.Unfold(3, padding=1, stride=2),
                                         nn.Fold((6, 6), 3, padding=1, stride=2),
                                         nn.Unfold((2, 3), dilation=2),
                                         nn.Unflatten(1, (4, 6)), nn.Flatten(2)),
}


@pytest.mark.parametrize("name", sorted(MORE_MODULES))
def test_more_nn_modules(name):
    assert_matches(MORE_MODULES[name](), ember.randn(2, 4, 6, 6), (ember.randn(5, 4, 6, 6),),
                   ["x"], {"x": BATCH}, atol=1e-4)


def test_modules_tracing_sizes_as_constants():
    """EmbeddingBag's bags make tensors of the traced batch size (frozen in the trace, as
    in PyTorch's): exported and run at that size.  CosineSimilarity's broadcast follows
    the batch."""
    x1, x2 = ember.randn(2, 4, 6), ember.randn(2, 4, 6)
    assert_matches(nn.CosineSimilarity(), (x1, x2), (ember.randn(5, 4, 6), ember.randn(5, 4, 6)),
                   ["a", "b"], {"a": BATCH, "b": BATCH})
    bags = ember.randint(0, 10, (2, 4))
    assert_matches(nn.EmbeddingBag(10, 3, mode="mean"), bags, (bags,), ["bags"], {})
    assert_matches(nn.Sequential(nn.Conv1d(4, 2, 3, stride=2), nn.ConvTranspose1d(2, 4, 3),
                                 nn.BatchNorm1d(4)), ember.randn(2, 4, 9),
                   (ember.randn(5, 4, 9),), ["x"], {"x": BATCH})
    assert_matches(nn.Sequential(nn.Conv3d(4, 2, 3, padding=1), nn.AvgPool3d(2)),
                   ember.randn(2, 4, 4, 4, 4), (ember.randn(5, 4, 4, 4, 4),), ["x"],
                   {"x": BATCH})


def test_embedding_and_conv1d():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(1), nn.Unflatten(1, (4, 3)),
                          nn.Conv1d(4, 4, 2, groups=2, dilation=2, padding=1),
                          nn.MaxPool1d(2), nn.AdaptiveAvgPool1d(1))
    assert_matches(model, ember.tensor([[1, 2, 3], [4, 5, 9]]),
                   (ember.randint(0, 10, (5, 3)),), ["tokens"], {"tokens": BATCH})


def test_unmapped_op_raises_naming_it():
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="'cummax'"):
        export_bytes(lambda x: ember.cummax(x, 0)[0] + 1, ember.randn(3, 2) + 2)
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="'diagonal'"):
        export_bytes(lambda x: ember.diagonal(x) + 1, ember.randn(3, 3))
    assert issubclass(ember.onnx.UnsupportedOperatorError, RuntimeError)


def test_adaptive_max_pool_indices_are_refused():
    pool = nn.AdaptiveMaxPool2d(2, return_indices=True)
    with pytest.raises(ember.onnx.UnsupportedOperatorError,
                       match="adaptive_max_pool.*indices"):
        export_bytes(lambda x: pool(x)[1].float() + x[:, :, :1, :1], ember.randn(1, 1, 4, 4))


def test_writes_path_atomically_and_file_objects(tmp_path):
    model = nn.Linear(3, 2).eval()
    path = tmp_path / "model.onnx"
    ember.onnx.export(model, ember.randn(1, 3), path)
    ember.onnx.export(model, ember.randn(1, 3), str(path))       # replaces the file
    assert sorted(os.listdir(tmp_path)) == ["model.onnx"]
    with open(path, "rb") as f:
        from_path = f.read()
    buffer = io.BytesIO()
    ember.onnx.export(model, ember.randn(1, 3), buffer)
    assert onnx.load_model_from_string(from_path).graph == \
        onnx.load_model_from_string(buffer.getvalue()).graph


def test_options():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    data = export_bytes(model, ember.randn(2, 3), input_names=["a"], output_names=["b"],
                        opset_version=18, do_constant_folding=False,
                        dynamic_axes={"a": [0], "b": [0]})
    proto = onnx.load_model_from_string(data)
    assert proto.opset_import[0].version == 18
    assert [i.name for i in proto.graph.input] == ["a"]
    assert [o.name for o in proto.graph.output] == ["b"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "a_dynamic_axes_1"
    assert "Transpose" in {n.op_type for n in proto.graph.node}     # weight.t() kept
    x = ember.randn(4, 3)
    got, _ = run_everywhere(data, {"a": x})
    with ember.no_grad():
        np.testing.assert_allclose(got[0], model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert model.training                   # restored after the export ran it in eval
    data = export_bytes(model, ember.randn(2, 3), keep_initializers_as_inputs=True)
    proto = onnx.load_model_from_string(data)
    assert {i.name for i in proto.graph.input} == \
        {"input"} | {t.name for t in proto.graph.initializer}
    model.eval()
    got, _ = run_everywhere(data, {"input": x[:2]})
    with ember.no_grad():
        np.testing.assert_allclose(got[0], model(x[:2]).numpy(), rtol=1e-5, atol=1e-6)
    assert ember.onnx.load(io.BytesIO(data)).input_names == ["input"]


def test_modes_are_restored():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model[1].eval()                 # a frozen norm in a training model keeps its mode
    export_bytes(model, ember.randn(4, 2))
    assert model.training and model[0].training and not model[1].training
    lstm = nn.LSTM(2, 3, dropout=0.5, num_layers=2)
    args = (ember.randn(4, 1, 2), (ember.zeros(2, 1, 3), ember.zeros(2, 1, 3)))
    for training in (False, True):  # nested arguments: the model is wrapped for the trace
        lstm.train(training)
        export_bytes(lstm, args)
        assert lstm.training == training


def test_bad_arguments():
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="opset_version"):
        export_bytes(model, ember.randn(1, 3), opset_version=9)
    with pytest.raises(ValueError, match="dynamic_axes"):
        export_bytes(model, ember.randn(1, 3), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="input_names"):
        export_bytes(model, ember.randn(1, 3), input_names=["a", "b"])
    with pytest.raises(TypeError, match="args"):
        export_bytes(model, [ember.randn(1, 3), 3])


@pytest.mark.parametrize("opset", [17, 18, 21])
def test_opsets(opset):
    model = nn.Sequential(nn.GroupNorm(2, 4), nn.InstanceNorm2d(4), nn.LayerNorm(6),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3), nn.GELU())
    model.eval()
    data = export_bytes(model, ember.randn(2, 4, 6, 6), input_names=["x"],
                        dynamic_axes={"x": BATCH}, opset_version=opset)
    assert onnx.load_model_from_string(data).opset_import[0].version == opset
    x = ember.randn(3, 4, 6, 6)
    from_ort, from_reference = run_everywhere(data, {"x": x})
    with ember.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(from_ort[0], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(from_reference[0], expected, rtol=1e-4, atol=1e-5)


def _arithmetic(x, y, k):
    z = (x * 2 - y / 3) ** 2 + ember.remainder(x, 0.7) + ember.floor_divide(y, 0.4)
    z = z + ember.where(x > y, x, y.neg()) + ember.clamp(x, -0.5, 0.5) + ember.clamp(y, min=0)
    z = z + ember.fmod(x, 0.3) + ember.maximum(x, y) - ember.minimum(x, y).abs().sqrt()
    z = z + ember.exp(-x.abs()) + ember.log1p(y.abs()) + ember.rsqrt(y.abs() + 1) + x.sign()
    z = z + ember.expm1(x) + ember.log2(y.abs() + 1) + ember.erf(x) + ember.atan(y)
    z = z + ((x >= 0) & (y != 0)).float() + (x <= y).float() * (k % 3 + k // 2).float()
    z = z + z.sum(-1, keepdim=True) - z.mean((0, 1)) + z.amax(1, keepdim=True)
    z = z + z.var(1, keepdim=True) + z.std() + z.norm(dim=1, keepdim=True) + z.prod(0)
    z = z + z.logsumexp(1, keepdim=True) + z.cumsum(1) + z.max(1, keepdim=True)[0]
    return z, ember.softmax(z, 0), z.max(1)[1], z[:, 1:4:2], z[..., None, -1], z.t()


def test_arithmetic_and_reductions():
    def inputs(batch):
        return (ember.randn(batch, 5), ember.randn(batch, 5), ember.randint(-5, 5, (batch, 5)))
    names = ["x", "y", "k"]
    assert_matches(_arithmetic, inputs(3), inputs(4), names, {n: BATCH for n in names},
                   atol=1e-4)


def _assignments(x, rows):
    y = x.clone()
    y[:, 1:3] = 0.5
    y[0] = rows[1] * 2
    y[..., -1] = x[:, 0]
    y[1:, 0] = rows[0, :1]
    y[-2:, 1:2] = -1.0
    y[:] = y * 3
    return y


def test_setitem():
    def inputs(batch):
        return ember.randn(batch, 4), ember.randn(2, 4)
    assert_matches(_assignments, inputs(3), inputs(6), ["x", "rows"], {"x": BATCH})
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="step"):
        export_bytes(lambda x: x.clone().__setitem__(slice(None, None, 2), 1.0) or x,
                     ember.randn(4))


def test_shape_following_helpers_export_with_a_dynamic_batch():
    """cosine_similarity (broadcast_shapes, detach) and grid_sample traced at batch 2 and
    run at batch 5 (opset 20: onnx's reference evaluator runs GridSample-20 only)."""
    class Model(nn.Module):
        def forward(self, x):
            grid = ember.zeros(x.shape[0], 3, 3, 2) + 0.25
            sampled = nn.functional.grid_sample(x, grid, align_corners=False)
            flat = x.flatten(1)
            return sampled.flatten(1).sum(1) + nn.functional.cosine_similarity(flat,
                                                                               flat.flip(1))

    assert_matches(Model(), ember.randn(2, 2, 5, 5), (ember.randn(5, 2, 5, 5),), ["x"],
                   {"x": BATCH}, atol=1e-4, opset_version=20)


class _PatchEncoder(nn.Module):
    """A ViT's front: patches, a class token expanded to the batch, and positions sliced
    to the token count (a slice of a weight by a traced size: not folded to a constant)."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 4, 4)
        self.cls = nn.Parameter(ember.randn(1, 1, 8))
        self.pos = nn.Parameter(ember.randn(1, 17, 8))
        self.block = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = ember.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos[:, :x.shape[1] + 1]
        return self.block(x)[:, 0]


class _CausalBlock(nn.Module):
    """A GPT block written as nanoGPT does: sizes from x.size(), a causal mask made from
    them, positions from arange."""

    def __init__(self, d=8, heads=2):
        super().__init__()
        self.qkv, self.proj, self.heads = nn.Linear(d, 3 * d), nn.Linear(d, d), heads

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2)
                   for t in self.qkv(x).split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) * (1.0 / k.size(-1) ** 0.5)
        mask = ember.tril(ember.ones(T, T)).view(1, 1, T, T)
        att = nn.functional.softmax(att.masked_fill(mask[:, :, :T, :T] == 0, float("-inf")), -1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return x + self.proj(y) + ember.arange(0, T)[None, :, None].float() * 0.01


def test_vit_and_gpt_style_models_follow_batch_and_length():
    assert_matches(_PatchEncoder().eval(), ember.randn(2, 3, 16, 16),
                   (ember.randn(5, 3, 16, 16),), ["x"], {"x": BATCH}, atol=1e-4)
    assert_matches(_CausalBlock().eval(), ember.randn(2, 5, 8), (ember.randn(3, 9, 8),),
                   ["x"], {"x": {0: "batch", 1: "time"}}, atol=1e-4)


class _SkipUpsample(nn.Module):
    """A U-Net step: downsample, upsample back to the input's own size (read from it),
    concatenate, and a 2x upsampling by factor."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, 2, 1)
        self.up = nn.Conv2d(7, 2, 3, padding=1)

    def forward(self, x):
        low = self.down(x)
        back = nn.functional.interpolate(low, size=x.shape[-2:], mode="bilinear",
                                         align_corners=False)
        near = nn.functional.interpolate(low, size=x.shape[-2:], mode="nearest")
        out = self.up(ember.cat([back + near, x], 1))
        return nn.functional.interpolate(out, scale_factor=2, mode="bilinear",
                                         align_corners=True)


def test_interpolation_follows_spatial_sizes():
    assert_matches(_SkipUpsample().eval(), ember.randn(2, 3, 8, 10),
                   (ember.randn(3, 3, 12, 6),), ["x"], {"x": {0: "b", 2: "h", 3: "w"}},
                   atol=1e-4)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_exports_as_grid_sample(mode):
    """grid_sample is one GridSample node: opset 16's mode names below opset 20 (run in
    onnxruntime; onnx's reference evaluator knows GridSample-20 only), opset 20's at 20,
    where 5-D input is allowed too."""
    class Model(nn.Module):
        def forward(self, x, grid):
            return nn.functional.grid_sample(x, grid, mode=mode, padding_mode="border",
                                             align_corners=True)

    x, grid = ember.randn(2, 3, 5, 6), ember.rand(2, 4, 3, 2) * 2.4 - 1.2
    data = export_bytes(Model(), (x, grid), input_names=["x", "grid"])
    proto = onnx.load_model_from_string(data)
    assert [node.op_type for node in proto.graph.node if node.op_type != "Identity"] == \
        ["GridSample"]
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.numpy(), "grid": grid.numpy()})[0]
    np.testing.assert_allclose(got, Model()(x, grid).numpy(), rtol=1e-4, atol=1e-5)
    assert_matches(Model(), (x, grid), (ember.randn(3, 3, 5, 6), ember.rand(3, 4, 3, 2)),
                   ["x", "grid"], {"x": BATCH, "grid": BATCH}, opset_version=20)
    if mode != "bicubic":
        volume, points = ember.randn(1, 2, 3, 4, 5), ember.rand(1, 2, 3, 4, 3) * 2 - 1
        with pytest.raises(ember.onnx.UnsupportedOperatorError, match="opset 20"):
            export_bytes(Model(), (volume, points))
        assert_matches(Model(), (volume, points), (volume, points), ["x", "grid"], {},
                       opset_version=20)


def _ops_of(data):
    return {n.op_type for n in onnx.load_model_from_string(data).graph.node}


ADAPTIVE_POOLS = {
    # (module, input shape): bins of unequal widths, overlapping ones, and an output
    # larger than the input along a dim
    "avg1d_10_to_3": (lambda: nn.AdaptiveAvgPool1d(3), (4, 10)),
    "max1d_10_to_4": (lambda: nn.AdaptiveMaxPool1d(4), (4, 10)),
    "avg2d_8x7_to_3x5": (lambda: nn.AdaptiveAvgPool2d((3, 5)), (3, 8, 7)),
    "max2d_8x7_to_5x3": (lambda: nn.AdaptiveMaxPool2d((5, 3)), (3, 8, 7)),
    "avg2d_one_dim_kept": (lambda: nn.AdaptiveAvgPool2d((None, 3)), (3, 6, 7)),
    "avg3d_4x4x4_to_3x2x5": (lambda: nn.AdaptiveAvgPool3d((3, 2, 5)), (2, 4, 4, 4)),
    "max3d_5x4x6_to_2x3x4": (lambda: nn.AdaptiveMaxPool3d((2, 3, 4)), (2, 5, 4, 6)),
}


@pytest.mark.parametrize("name", sorted(ADAPTIVE_POOLS))
def test_adaptive_pooling_to_sizes_that_do_not_divide(name):
    """Bins no kernel and stride give: per-bin reductions of slices, concatenated."""
    make, shape = ADAPTIVE_POOLS[name]
    data = assert_matches(make(), ember.randn(2, *shape), (ember.randn(5, *shape),), ["x"],
                          {"x": BATCH})
    assert {"Slice", "Concat"} <= _ops_of(data)
    assert ("ReduceMean" if "avg" in name else "ReduceMax") in _ops_of(data)


@pytest.mark.parametrize("size", [2, 3, 5])
def test_local_response_norm(size):
    """Even and odd window sizes (ONNX's LRN centres even windows otherwise, so the
    traced composition, a sliding window of ``unfold``, is exported)."""
    model = nn.LocalResponseNorm(size, alpha=0.2, beta=0.6, k=1.5)
    assert_matches(model, ember.randn(2, 6, 4, 5), (ember.randn(5, 6, 4, 5),), ["x"],
                   {"x": BATCH})
    assert_matches(model, ember.randn(2, 4, 7), (ember.randn(3, 4, 7),), ["x"], {"x": BATCH})


def test_tensor_unfold_follows_the_running_length():
    class Model(nn.Module):
        def forward(self, x):
            return x.unfold(1, 3, 2).sum(-1), x.unfold(-1, 2, 1) * 2

    assert_matches(Model(), ember.randn(2, 7, 4), (ember.randn(3, 11, 4),), ["x"],
                   {"x": {0: "batch", 1: "time"}})


def test_embedding_bag_max():
    """mode='max' writes the bags' rows with index_put (ScatterND); as for the other
    modes, the bag layout is frozen at the traced batch."""
    bags = ember.randint(0, 10, (3, 4))
    data = assert_matches(nn.EmbeddingBag(10, 3, mode="max"), bags,
                          (ember.randint(0, 10, (3, 4)),), ["bags"], {})
    assert "ScatterND" in _ops_of(data)

    class Bags(nn.Module):
        """Offsets of the model's own (ember reads them on the host), an empty bag (zeros)
        among them."""

        def __init__(self):
            super().__init__()
            self.bag = nn.EmbeddingBag(10, 3, mode="max")

        def forward(self, indices):
            return self.bag(indices, ember.tensor([0, 2, 2, 5]))

    assert_matches(Bags(), ember.randint(0, 10, (6,)), (ember.randint(0, 10, (6,)),),
                   ["indices"], {})


def _index_puts(x, rows, cols):
    y = ember.index_put(x, (rows,), x[:1] * 10)                      # rows, negative too
    y = ember.index_put(y, (rows.unsqueeze(1), cols), ember.tensor(-1.0))  # broadcast
    return ember.index_put(y, (cols,), ember.ones(y.shape[1]), True)  # repeats accumulate


def test_index_put_follows_batch():
    def inputs(batch):
        return (ember.randn(batch, 4), ember.tensor([0, -1]), ember.tensor([1, 3, 1]))
    data = assert_matches(_index_puts, inputs(4), inputs(6), ["x", "rows", "cols"],
                          {"x": BATCH})
    assert "ScatterND" in _ops_of(data)
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="'index_put'.*boolean"):
        export_bytes(lambda x: ember.index_put(x, (x > 0,), ember.tensor(0.0)),
                     ember.randn(3))


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_with_projection(batch_first, bidirectional):
    """proj_size: a Scan over time per layer and direction (ONNX's LSTM has no
    projection), following the running batch and sequence length, with and without
    initial states."""
    lstm = nn.LSTM(4, 6, num_layers=2, proj_size=3, batch_first=batch_first,
                   bidirectional=bidirectional)
    directions = 2 if bidirectional else 1

    def x(batch, steps):
        return ember.randn(*((batch, steps, 4) if batch_first else (steps, batch, 4)))

    axes = {0: "batch", 1: "time"} if batch_first else {0: "time", 1: "batch"}
    data = assert_matches(lstm, x(2, 5), (x(3, 7),), ["x"], {"x": axes})
    scans = [n for n in onnx.load_model_from_string(data).graph.node if n.op_type == "Scan"]
    assert len(scans) == 2 * directions
    assert "LSTM" not in _ops_of(data)

    def with_states(batch):
        return (x(batch, 5), (ember.randn(2 * directions, batch, 3),
                              ember.randn(2 * directions, batch, 6)))
    assert_matches(lstm, with_states(2), with_states(4), ["x", "h0", "c0"],
                   {"x": {0 if batch_first else 1: "batch"}, "h0": {1: "batch"},
                    "c0": {1: "batch"}})


class _Classifier(nn.Module):
    """A head with its loss inside forward (as exported training-step graphs have)."""

    def __init__(self, loss, log_probs=False):
        super().__init__()
        self.head = nn.Conv2d(3, 4, 1)
        self.loss = loss
        self.log_probs = log_probs

    def forward(self, x, target):
        logits = self.head(x)
        if logits.shape[-1] == 1:
            logits = logits.flatten(1)         # (N, C) for class-per-sample losses
        if self.log_probs:
            logits = logits.log_softmax(1)
        return self.loss(logits, target), logits


CLASS_LOSSES = {
    "cross_entropy": (lambda: nn.CrossEntropyLoss(), False),
    "cross_entropy_smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), False),
    "cross_entropy_weight_ignore_smoothing": (
        lambda: nn.CrossEntropyLoss(weight=ember.tensor([0.5, 1.0, 2.0, 0.25]),
                                    ignore_index=2, label_smoothing=0.2), False),
    "cross_entropy_none": (
        lambda: nn.CrossEntropyLoss(weight=ember.tensor([0.5, 1.0, 2.0, 0.25]),
                                    reduction="none", label_smoothing=0.3), False),
    "cross_entropy_sum": (lambda: nn.CrossEntropyLoss(reduction="sum", ignore_index=1),
                          False),
    "nll": (lambda: nn.NLLLoss(), True),
    "nll_weight_ignore_sum": (
        lambda: nn.NLLLoss(weight=ember.tensor([0.5, 1.0, 2.0, 0.25]), ignore_index=3,
                           reduction="sum"), True),
    "nll_weight_mean": (lambda: nn.NLLLoss(weight=ember.tensor([0.5, 1.0, 2.0, 0.25])),
                        True),
}


@pytest.mark.parametrize("spatial", [False, True])
@pytest.mark.parametrize("name", sorted(CLASS_LOSSES))
def test_classification_losses(name, spatial):
    """CrossEntropyLoss / NLLLoss inside an exported model: per sample (N, C) and per
    pixel (N, C, H, W), targets hitting ignore_index, dynamic batch."""
    make, log_probs = CLASS_LOSSES[name]
    model = _Classifier(make(), log_probs)
    size = 3 if spatial else 1

    def inputs(batch):
        target = ember.randint(0, 4, (batch, size, size) if spatial else (batch,))
        target.view(-1)[:2] = ember.tensor([1, 2])     # the ignored classes are present
        target.view(-1)[-1] = 3
        return ember.randn(batch, 3, size, size), target

    data = assert_matches(model, inputs(2), inputs(5), ["x", "target"],
                          {"x": BATCH, "target": BATCH, "output_0": BATCH, "output_1": BATCH}
                          if "none" in name else {"x": BATCH, "target": BATCH}, atol=1e-5)
    assert "GatherElements" in _ops_of(data)


def test_cross_entropy_of_unbatched_logits():
    loss = nn.CrossEntropyLoss(weight=ember.tensor([1.0, 2.0, 0.5]), label_smoothing=0.25)
    assert_matches(loss, (ember.randn(3), ember.tensor(1)), (ember.randn(3), ember.tensor(2)),
                   ["logits", "target"], {})


BINARY_LOSSES = {
    "bce": lambda: nn.BCELoss(),
    "bce_weight_sum": lambda: nn.BCELoss(weight=ember.tensor([0.5, 2.0, 1.0, 1.5]),
                                         reduction="sum"),
    "bce_none": lambda: nn.BCELoss(reduction="none"),
    "bce_with_logits": lambda: nn.BCEWithLogitsLoss(),
    "bce_with_logits_pos_weight": lambda: nn.BCEWithLogitsLoss(
        pos_weight=ember.tensor([0.5, 2.0, 1.0, 3.0]), weight=ember.tensor(0.7)),
}


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")   # log(0): clamped
@pytest.mark.parametrize("name", sorted(BINARY_LOSSES))
def test_binary_losses(name):
    """BCELoss on sigmoid outputs (its clamped logs: probabilities of exactly 0 and 1
    give 100, as in eager) and BCEWithLogitsLoss on logits."""
    head = nn.Linear(5, 4)
    loss = BINARY_LOSSES[name]()
    logits_in = "with_logits" in name

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.head, self.loss = head, loss

        def forward(self, x, target):
            z = self.head(x)
            return self.loss(z if logits_in else z.sigmoid(), target)

    def inputs(batch):
        target = ember.rand(batch, 4)
        target[0] = ember.tensor([0.0, 1.0, 0.0, 1.0])
        return ember.randn(batch, 5), target

    axes = {"x": BATCH, "target": BATCH}
    if name == "bce_none":
        axes["output"] = BATCH
    assert_matches(Model(), inputs(2), inputs(5), ["x", "target"], axes)
    if not logits_in:           # saturated probabilities: the clamped logs
        probs = ember.tensor([[0.0, 1.0, 0.3, 1.0], [1.0, 0.0, 1e-30, 0.5]])
        target = ember.tensor([[1.0, 0.0, 0.5, 1.0], [0.0, 0.0, 1.0, 0.25]])
        assert_matches(loss, (probs, target), (probs, target), ["p", "t"], {})


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_max_unpool_of_max_pool_indices(spatial):
    """MaxPool's indices (ONNX numbers the whole tensor's positions: taken modulo the
    plane) feed MaxUnpool (a ScatterElements into each flattened plane)."""
    pool = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}[spatial]
    unpool = {1: nn.MaxUnpool1d, 2: nn.MaxUnpool2d, 3: nn.MaxUnpool3d}[spatial]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = pool(3, 2, padding=1, return_indices=True)
            self.unpool = unpool(3, 2, padding=1)

        def forward(self, x):
            values, indices = self.pool(x)
            return self.unpool(values, indices, output_size=x.shape[2:]), indices

    shape = (3,) + (6, 5, 4)[:spatial] if spatial < 3 else (2, 4, 5, 4)
    data = assert_matches(Model(), ember.randn(2, *shape), (ember.randn(4, *shape),), ["x"],
                          {"x": BATCH})
    assert {"MaxPool", "Mod", "ScatterElements"} <= _ops_of(data)


def test_max_pool_indices_follow_batch_and_channels():
    class Model(nn.Module):
        def forward(self, x):
            return nn.functional.max_pool2d(x, 2, return_indices=True, ceil_mode=True)

    assert_matches(Model(), ember.randn(2, 3, 5, 5), (ember.randn(4, 3, 7, 5),), ["x"],
                   {"x": {0: "batch", 2: "height"}})


def _cumprods(x, k):
    return x.cumprod(1), x.cumprod(-1), ember.cumprod(k, 0), x.cumprod(0, dtype=ember.float64)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")     # inf * 0, as eager
def test_cumprod_exact_for_zeros_signs_and_infinities():
    """Products of the actual factors: zeros stay zero after them, signs alternate,
    inf * 0 is NaN as in eager; the scanned dim may be dynamic."""
    def inputs(batch, length):
        x = ember.randn(batch, length, 3)
        x[0, 1] = 0.0
        x[1, :, 0] = ember.tensor([-2.0, float("inf"), 0.0, -0.5, 3.0, 1.0, 2.0])[:length]
        return x, ember.randint(-3, 4, (length, 2))
    data = assert_matches(_cumprods, inputs(2, 4), inputs(3, 7), ["x", "k"],
                          {"x": {0: "batch", 1: "length"}, "k": {0: "length"}})
    assert "ReduceProd" in _ops_of(data) and "Log" not in _ops_of(data)


def test_ctc_loss_is_refused_naming_it():
    """ctc_loss reads its targets and lengths on the host: the trace cannot take them as
    graph inputs (and ONNX has no CTC operator), so the export names the op."""
    log_probs = ember.randn(6, 2, 5).log_softmax(2)
    args = (log_probs, ember.randint(1, 5, (2, 3)), ember.tensor([6, 6]), ember.tensor([3, 2]))
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="'ctc_loss'.*host"):
        export_bytes(nn.CTCLoss(), args)


class _CompositeMappings(nn.Module):
    """The composed mappings in one model: reductions over slices, windows, a Scan,
    indices and scatters, the losses."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveMaxPool2d((3, 5))
        self.norm = nn.LocalResponseNorm(2)
        self.lstm = nn.LSTM(5, 4, proj_size=2, batch_first=True, bidirectional=True)
        self.down = nn.MaxPool2d(2, return_indices=True)
        self.up = nn.MaxUnpool2d(2)

    def forward(self, x, target):
        seq, _ = self.lstm(self.norm(self.pool(x)).flatten(1, 2))
        restored = self.up(*self.down(x), output_size=x.shape[2:])
        scores = seq.flatten(1)[:, :6]
        return (seq.cumprod(1), restored,
                nn.functional.cross_entropy(scores, target, label_smoothing=0.1),
                nn.functional.binary_cross_entropy(scores.sigmoid(), scores.sigmoid().detach()))


@pytest.mark.parametrize("opset", [17, 18, 21])
def test_composite_mappings_at_each_opset(opset):
    """Opset 18 moved the reductions' axes to an input: each form runs."""
    def inputs(batch):
        return ember.randn(batch, 3, 8, 7), ember.randint(0, 6, (batch,))
    assert_matches(_CompositeMappings(), inputs(2), inputs(4), ["x", "target"],
                   {"x": BATCH, "target": BATCH}, atol=1e-4, opset_version=opset)
