"""ember.jit.trace: traced graphs run like the Python model, print, and warn or raise
where a trace cannot follow the function."""
import importlib
import re
import warnings

import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from ember.examples.digits import build_model


def _assert_same(expected, actual):
    np.testing.assert_allclose(actual.numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10)).eval()


def test_mlp_matches_eager_and_runs_at_other_batch_sizes():
    model = _mlp()
    traced = ember.jit.trace(model, ember.randn(4, 784))
    for batch in (4, 7, 1):
        x = ember.randn(batch, 784)
        with ember.no_grad():
            _assert_same(model(x), traced(x))
    assert not traced(ember.randn(3, 784)).requires_grad


def test_digits_cnn_matches_eager_at_other_batch_sizes():
    ember.manual_seed(0)
    model = build_model().eval()
    traced = ember.jit.trace(model, ember.randn(4, 1, 8, 8))
    ops = [n.op for n in traced.graph.nodes]
    assert ops.count("convolution") == 2 and "flatten" in ops
    assert "max_pool" not in ops        # the second convolution pools its own result
    flatten = next(n for n in traced.graph.nodes if n.op == "flatten")
    assert flatten.args[1:] == (1, -1)          # the dims the model named, not sizes
    for batch in (4, 7, 64):            # 64: Winograd's algorithm, pooling in its tiles
        x = ember.randn(batch, 1, 8, 8)
        with ember.no_grad():
            _assert_same(model(x), traced(x))


def test_batch_norm_and_layer_norm_in_eval():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.LayerNorm(4 * 4 * 4), nn.Linear(64, 5), nn.Softmax(dim=1))
    model.train()
    model(ember.randn(8, 3, 6, 6))              # running statistics away from 0 and 1
    model.eval()
    traced = ember.jit.trace(model, ember.randn(2, 3, 6, 6))
    x = ember.randn(5, 3, 6, 6)
    with ember.no_grad():
        _assert_same(model(x), traced(x))


def test_lstm_matches_eager():
    ember.manual_seed(0)

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 8, batch_first=True)
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    model = Classifier().eval()
    x = ember.randn(4, 5, 6)
    traced = ember.jit.trace(model, x)
    assert "rnn_layer" in [n.op for n in traced.graph.nodes]
    y = ember.randn(4, 5, 6)
    with ember.no_grad():
        _assert_same(model(y), traced(y))


def test_transformer_encoder_layer_matches_eager():
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True).eval()
    traced = ember.jit.trace(layer, ember.randn(2, 5, 16))
    x = ember.randn(2, 5, 16)
    with ember.no_grad():
        _assert_same(layer(x), traced(x))


def test_embedding_with_integer_input():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2)).eval()
    idx = ember.tensor([[1, 2, 3], [4, 5, 9]])
    traced = ember.jit.trace(model, idx)
    other = ember.tensor([[0, 0, 7], [8, 1, 2], [3, 3, 3]])
    with ember.no_grad():
        _assert_same(model(other), traced(other))


def test_several_inputs_and_tuple_outputs():
    def fn(x, y):
        s = x + y
        return s.sum(1), (x * y, s.t())

    x, y = ember.randn(3, 4), ember.randn(3, 4)
    traced = ember.jit.trace(fn, (x, y))
    a, b = ember.randn(3, 4), ember.randn(3, 4)
    got = traced(a, b)
    want = fn(a, b)
    assert isinstance(got, tuple) and isinstance(got[1], tuple)
    _assert_same(want[0], got[0])
    _assert_same(want[1][0], got[1][0])
    _assert_same(want[1][1], got[1][1])
    assert [v.name for v in traced.graph.inputs] == ["x", "y"]


def test_symbolic_sizes_in_views():
    def fn(x):
        return x.view(x.size(0), -1).relu() * x.shape[1]

    traced = ember.jit.trace(fn, ember.randn(4, 3, 2))
    x = ember.randn(7, 3, 2)
    _assert_same(fn(x), traced(x))
    assert "x.size(0)" in traced.code


def test_list_output_needs_strict_false():
    fn = lambda x: [x + 1, x * 2]  # noqa: E731
    with pytest.raises(TypeError, match="strict=False"):
        ember.jit.trace(fn, ember.randn(2))
    traced = ember.jit.trace(fn, ember.randn(2), strict=False)
    assert isinstance(traced(ember.ones(2)), list)


def test_python_value_of_a_traced_tensor_warns():
    def fn(x):
        if x.sum() > 0:
            return x * 2
        return x

    with pytest.warns(ember.jit.TracerWarning, match="Python boolean"):
        ember.jit.trace(fn, ember.ones(3), check_trace=False)
    with pytest.warns(ember.jit.TracerWarning, match="Python number"):
        ember.jit.trace(lambda x: x * x.max().item(), ember.ones(3), check_trace=False)


def test_parameters_do_not_warn():
    model = _mlp()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.jit.trace(model, ember.randn(2, 784))


def test_op_outside_the_tracer_raises():
    def through_numpy(x):
        doubled = ember.from_numpy(x.detach().numpy() * 2)
        return x + doubled

    with pytest.raises(RuntimeError, match="not produced by an op the tracer saw"):
        ember.jit.trace(through_numpy, ember.randn(5))


def test_constants_made_inside_the_function_are_kept():
    def fn(x):
        return x + ember.arange(3.0)

    traced = ember.jit.trace(fn, ember.zeros(3))
    _assert_same(fn(ember.ones(3)), traced(ember.ones(3)))


def test_check_trace_warns_when_outputs_differ():
    def fn(x):
        return x * 2 if float(x.sum()) > 0 else x * 3

    with pytest.warns(ember.jit.TracerWarning) as caught:
        ember.jit.trace(fn, ember.ones(2), check_inputs=[(-ember.ones(2),)])
    messages = [str(w.message) for w in caught]
    assert any("Python float" in m for m in messages)
    assert any("does not match" in m for m in messages)


def test_graph_printing_and_code():
    model = nn.Sequential(nn.Linear(3, 2)).eval()
    traced = ember.jit.trace(model, ember.randn(5, 3))
    text = str(traced.graph)
    assert text.startswith("graph(%input : Float(5, 3)):")
    lines = text.splitlines()
    assert any(line.strip().startswith("%") and ": Float(5, 2) = addmm(%0.bias, %input, %"
               in line for line in lines), text
    assert lines[-1].strip().startswith("return %")
    assert "def forward(input):" in traced.code
    assert "ember.addmm(getattr(self, '0').bias, input" in traced.code


def test_code_names_functions_that_exist():
    # every op in .code is spelled as a callable one can import, passes' kwargs included
    traced = ember.jit.trace(build_model().eval(), ember.randn(2, 1, 8, 8))
    names = re.findall(r"= (ember\.[\w.]+)\(", traced.code)
    assert "ember._core._conv.convolution" in names and "ember.addmm" in names, traced.code
    for name in names:
        module, _, attr = name.rpartition(".")
        target = importlib.import_module(module) if module != "ember" else ember
        assert callable(getattr(target, attr)), name
    assert "activation='relu'" in traced.code


def test_wrong_inputs_raise():
    traced = ember.jit.trace(lambda x: x + 1, ember.ones(2, 2))
    with pytest.raises(TypeError, match="takes 1 input"):
        traced(ember.ones(2, 2), ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="traced as a 2-d ember.float32"):
        traced(ember.ones(2, 2, dtype=ember.float64))
    with pytest.raises(TypeError, match="must be a Tensor"):
        traced([1.0, 2.0])


def test_in_place_ops_keep_their_order():
    def fn(x):
        y = x * 1
        view = y[0]
        y.add_(1)
        return view * 2, y

    traced = ember.jit.trace(fn, ember.ones(2, 3))
    x = ember.randn(2, 3)
    for got, want in zip(traced(x), fn(x)):
        _assert_same(want, got)


def test_functional_ops_of_nn():
    def fn(x, w):
        h = F.gelu(F.linear(x, w))
        h = F.dropout(h, 0.5, training=False)
        a = F.softmax(h, dim=-1) + F.log_softmax(h, dim=-1)
        b = ember.cat([a, h], dim=1).mean(0, keepdim=True)
        return ember.stack([b, b.tanh()]).sigmoid() + F.silu(h).max(dim=1, keepdim=True).values.sum()

    x, w = ember.randn(3, 4), ember.randn(5, 4)
    traced = ember.jit.trace(fn, (x, w))
    x2, w2 = ember.randn(3, 4), ember.randn(5, 4)
    _assert_same(fn(x2, w2), traced(x2, w2))


def test_argmax_and_integer_results_are_traced():
    def predict(x):
        return x.argmax(1), (x > 0).sum(1)

    traced = ember.jit.trace(predict, ember.randn(4, 5))
    x = ember.randn(6, 5)
    for got, want in zip(traced(x), predict(x)):
        assert ember.equal(got, want)


def test_view_keeps_the_minus_one():
    traced = ember.jit.trace(lambda x: x.view(-1, 6).exp(), ember.randn(4, 2, 3))
    node = next(n for n in traced.graph.nodes if n.op == "view")
    assert node.args[1] == (-1, 6)
    assert traced(ember.randn(2, 2, 3)).shape == (2, 6)


def test_ops_of_other_threads_are_not_traced():
    import threading

    weight = ember.randn(3, requires_grad=True)
    started, finish = threading.Event(), threading.Event()

    def other():
        started.set()
        while not finish.is_set():
            (weight * 2).sum()

    worker = threading.Thread(target=other)
    worker.start()
    started.wait()
    try:
        traced = ember.jit.trace(lambda x: x + 1, ember.ones(3), optimize=False)
    finally:
        finish.set()
        worker.join()
    assert [n.op for n in traced.graph.nodes] == ["add"]


def test_indexing_and_assignment():
    def fn(x):
        y = x * 1
        y[0, 1:] = x[1, 1:] * 3
        return (x[:, 1:3].sum(1, keepdim=True) + x[[0, 1, 0]][:, :2].sum() + y
                + x.masked_fill(x > 0, 0.0) + ember.where(x > 0, x, x * 2) + x[x > 0].sum())

    traced = ember.jit.trace(fn, ember.randn(3, 4))
    assert "setitem" in [n.op for n in traced.graph.nodes]
    x = ember.randn(3, 4)
    _assert_same(fn(x), traced(x))


_TABLE = ember.arange(6.0).reshape(2, 3)


def _scattered(index):
    out = ember.zeros(3)
    out[index[0]] = 5.0
    return out


@pytest.mark.parametrize("fn", [
    lambda x: _TABLE.masked_fill(x > 0, -1.0),
    lambda x: ember.where(x > 0, _TABLE, _TABLE * 2),
    lambda x: _TABLE.gather(1, (x > 0).long()),
    lambda x: _TABLE.index_select(1, (x[0] > 0).long()),
    lambda x: _TABLE[:, (x[0] > 0).long()],
    lambda x: ember.zeros(2, 3).scatter_add(1, (x > 0).long(), _TABLE),
    lambda x: ember.zeros(3).index_put(((x[0] > 0).long(),), ember.tensor(1.0), accumulate=True),
    lambda x: _scattered((x > 0).long()),
], ids=["masked_fill", "where", "gather", "index_select", "getitem", "scatter_add",
        "index_put", "setitem"])
def test_ops_on_constants_with_traced_indices_or_masks(fn):
    # only the index or mask comes from the input: the op must still be in the graph
    x = ember.tensor([[1.0, -1.0, 2.0], [-3.0, 4.0, -5.0]])
    traced = ember.jit.trace(fn, x)
    for y in (-x, x.flip(1)):
        _assert_same(fn(y), traced(y))


def test_writes_into_constants_start_from_a_fresh_copy_each_run():
    def fn(x):
        z = ember.ones(4, 3)
        before = z * x.sum()       # reads the value from before the write
        z[1:3] = x                 # a write into a view of the constant
        z.add_(x.mean())
        return before + z

    x = ember.randn(2, 3)
    traced = ember.jit.trace(fn, x)
    assert "clone" in [n.op for n in traced.graph.nodes]
    for y in (ember.randn(2, 3), ember.randn(2, 3)):
        _assert_same(fn(y), traced(y))
        _assert_same(fn(y), traced(y))     # a second run sees the same constant


def test_flatten_is_recorded_with_pytorch_node_names():
    import torch

    x = ember.randn(2, 3, 4, requires_grad=True)
    t = torch.from_numpy(x.detach().numpy()).requires_grad_()
    for make in (lambda a: a.flatten(1), lambda a: a.transpose(0, 1).flatten(1)):
        y, u = make(x), make(t)
        assert y.grad_fn.name() == u.grad_fn.name()
        (y * y).sum().backward()
        (u * u).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
        x.grad, t.grad = None, None


def test_tensors_made_from_traced_sizes_follow_the_running_sizes():
    def fn(x):
        steps = ember.arange(x.size(1)) * 2
        return x + ember.zeros(x.size(0), 1) + ember.full((x.shape[1],), x.size(0)) + steps

    traced = ember.jit.trace(fn, ember.randn(4, 3))
    assert {"zeros", "full", "arange"} <= {n.op for n in traced.graph.nodes}
    x = ember.randn(6, 5)
    _assert_same(fn(x), traced(x))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_recurrent_layers_run_at_other_batch_sizes_and_lengths(mode):
    ember.manual_seed(0)
    layer = getattr(nn, mode)(4, 6, num_layers=2, batch_first=True).eval()
    traced = ember.jit.trace(layer, ember.randn(3, 5, 4))
    for shape in ((7, 5, 4), (2, 9, 4)):
        x = ember.randn(*shape)
        with ember.no_grad():
            want = layer(x)
        got = traced(x)
        _assert_same(want[0], got[0])


def test_writing_into_a_tensor_made_from_traced_sizes():
    def fn(x):
        buffer = ember.zeros(x.size(0), 3)
        buffer[0] = 1.0
        buffer[:, 1:].add_(x[:, :2])
        return x + F.pad(x, (1, 2), value=0.5)[:, :3] + buffer

    traced = ember.jit.trace(fn, ember.randn(2, 3))
    for batch in (1, 5):
        x = ember.randn(batch, 3)
        _assert_same(fn(x), traced(x))


def test_in_place_ops_on_integer_tensors_from_the_inputs():
    def fn(x, index):
        index = index.clone()
        index += 1
        keep = x > 0
        keep &= x < 2
        return x.masked_fill(keep, 0.0)[ember.arange(x.shape[0]), index]

    x, index = ember.randn(3, 4), ember.tensor([0, 2, 1])
    traced = ember.jit.trace(fn, (x, index))
    for batch in (2, 6):
        x, index = ember.randn(batch, 4) * 2, ember.randint(0, 3, (batch,))
        _assert_same(fn(x, index), traced(x, index))


def test_detach_and_like_factories_follow_the_inputs():
    """detach() of a computed tensor, zeros_like/ones_like/full_like of one, and sizes
    from broadcast_shapes stay nodes of the graph: a trace at batch 2 runs at batch 5."""
    def f(x):
        clamped = x.norm(dim=1, keepdim=True)
        clamped = clamped + (clamped.clamp(min=0.5) - clamped).detach()
        shape = ember.broadcast_shapes(tuple(x.shape), (1, x.shape[1]))
        base = ember.zeros_like(x) + ember.full_like(x, 2.0) * ember.ones_like(x)
        return x.expand(shape) / clamped + base + x * x.detach()

    traced = ember.jit.trace(f, ember.randn(2, 3))
    ops = [node.op for node in traced.graph.nodes]
    assert "detach" in ops and not traced.graph.constants
    x = ember.randn(5, 3)
    assert ember.allclose(traced(x), f(x))


def test_cosine_similarity_and_grid_sample_trace_at_any_batch():
    traced = ember.jit.trace(lambda x: nn.functional.cosine_similarity(x, x.flip(1)),
                             ember.randn(2, 4))
    x = ember.randn(6, 4)
    assert ember.allclose(traced(x), nn.functional.cosine_similarity(x, x.flip(1)))

    def sample(x):
        grid = ember.zeros(x.shape[0], 3, 3, 2) + 0.25
        return nn.functional.grid_sample(x, grid, align_corners=False)

    traced = ember.jit.trace(sample, ember.randn(2, 2, 5, 5))
    x = ember.randn(4, 2, 5, 5)
    assert ember.allclose(traced(x), sample(x))
