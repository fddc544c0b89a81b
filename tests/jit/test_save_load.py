"""Saved graphs: one safetensors file, values equal after a round trip, loadable without
the model's source, and no code from a crafted file runs."""
import io
import json
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import nn
from ember.examples.digits import build_model


def _round_trip(traced):
    buffer = io.BytesIO()
    traced.save(buffer)
    buffer.seek(0)
    return ember.jit.load(buffer)


def test_round_trip_of_the_digits_cnn(tmp_path):
    ember.manual_seed(0)
    model = build_model().eval()
    traced = ember.jit.trace(model, ember.randn(2, 1, 8, 8))
    path = tmp_path / "cnn.safetensors"
    traced.save(path)
    loaded = ember.jit.load(path)
    x = ember.randn(5, 1, 8, 8)
    # (a folded weight.t() is saved contiguous: the GEMM may sum in another order)
    np.testing.assert_allclose(loaded(x).numpy(), traced(x).numpy(), rtol=1e-5, atol=1e-6)
    assert str(loaded.graph) == str(traced.graph)
    # an ordinary safetensors file: the weights are readable by ember.load
    assert set(ember.load(path)["constants"]) >= {"0.weight", "0.bias"}


def test_round_trip_of_lstm_transformer_and_embedding():
    ember.manual_seed(0)
    cases = [
        (nn.LSTM(4, 6, batch_first=True), ember.randn(3, 5, 4)),
        (nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), ember.randn(2, 3, 8)),
        (nn.Sequential(nn.Embedding(9, 3), nn.Flatten(), nn.Linear(6, 2)),
         ember.tensor([[1, 8], [0, 4]])),
        (nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3), nn.GELU(), nn.AvgPool1d(2)),
         ember.randn(4, 2, 9)),
        (nn.GRU(4, 5, num_layers=2, batch_first=True), ember.randn(3, 6, 4)),
        (nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4), nn.SiLU(),
                       nn.AdaptiveAvgPool2d((2, 2)), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                       nn.LogSoftmax(dim=1)), ember.randn(2, 3, 9, 9)),
    ]
    for model, x in cases:
        model.eval()
        traced = ember.jit.trace(model, x)
        loaded = _round_trip(traced)
        for got, want in zip(_flat(loaded(x)), _flat(traced(x))):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def _flat(out):
    if isinstance(out, ember.Tensor):
        return [out]
    return [t for x in out for t in _flat(x)]


def test_loads_in_a_fresh_process_without_the_model_source(tmp_path):
    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return (self.fc(x) * 2).sigmoid()

    ember.manual_seed(0)
    model = Hidden().eval()
    traced = ember.jit.trace(model, ember.randn(4, 3))
    path = tmp_path / "hidden.safetensors"
    traced.save(path)
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    expected = traced(ember.from_numpy(x)).numpy()
    script = (
        "import json, sys, numpy as np, ember\n"
        "m = ember.jit.load(sys.argv[1])\n"
        "x = np.arange(6, dtype=np.float32).reshape(2, 3) / 7\n"
        "print(json.dumps(m(ember.from_numpy(x)).numpy().tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    np.testing.assert_allclose(np.array(json.loads(out.stdout), dtype=np.float32), expected,
                               rtol=1e-5, atol=1e-6)


def _graph_of(traced):
    buffer = io.BytesIO()
    traced.save(buffer)
    buffer.seek(0)
    saved = ember.load(buffer)
    return saved, json.loads(saved["graph"])


def _load_crafted(saved, graph):
    saved = dict(saved, graph=json.dumps(graph))
    buffer = io.BytesIO()
    ember.save(saved, buffer)
    buffer.seek(0)
    return ember.jit.load(buffer)


def test_crafted_files_cannot_call_arbitrary_functions():
    traced = ember.jit.trace(lambda x: (x + 1).sum(0), ember.ones(2, 2), optimize=False)
    saved, graph = _graph_of(traced)
    kinds = {n["kind"] for n in graph["nodes"]}
    assert kinds == {"ew", "op"}
    for kind, op in [("op", "os.system"), ("op", "__import__"), ("ew", "system"),
                     ("view", "__class__"), ("exec", "sum")]:
        crafted = json.loads(json.dumps(graph))
        node = next(n for n in crafted["nodes"] if n["kind"] == "op")
        node["kind"], node["op"] = kind, op
        with pytest.raises(ValueError, match="ember.jit"):
            _load_crafted(saved, crafted)
    # a keyword name that would be code in the generated runner
    crafted = json.loads(json.dumps(graph))
    node = next(n for n in crafted["nodes"] if n["kind"] == "op")
    node["kwargs"] = {"dict": {"x=__import__('os').system('false'),y": 1}}
    with pytest.raises(ValueError, match="not an identifier"):
        _load_crafted(saved, crafted)
    # values read before they exist, unknown dtypes and scratch types
    crafted = json.loads(json.dumps(graph))
    crafted["nodes"][0]["args"] = {"tuple": [{"v": 999}, 1]}
    with pytest.raises(ValueError, match="read before"):
        _load_crafted(saved, crafted)
    crafted = json.loads(json.dumps(graph))
    crafted["nodes"][0]["args"] = {"tuple": [{"v": 0}, {"dtype": "object"}]}
    with pytest.raises(ValueError, match="unknown dtype"):
        _load_crafted(saved, crafted)
    crafted = json.loads(json.dumps(graph))
    crafted["nodes"][0]["args"] = {"tuple": [{"v": 0}, {"scratch": "os.system"}]}
    with pytest.raises(ValueError, match="unknown scratch"):
        _load_crafted(saved, crafted)


def test_crafted_fused_programs_are_checked():
    traced = ember.jit.trace(lambda x: (x * 2).exp() + 1, ember.ones(3))
    saved, graph = _graph_of(traced)
    node = graph["nodes"][0]
    assert node["kind"] == "fused"
    for program, match in [([["system", 2, 0, 0, 0]], "not in the op table"),
                           ([["exp", 9, 40, 0, 0]], "read before"),
                           ([["exp", 5000, 0, 0, 0]], "destination")]:
        crafted = json.loads(json.dumps(graph))
        crafted["nodes"][0]["spec"]["program"] = program
        with pytest.raises(ValueError, match=match):
            _load_crafted(saved, crafted)


def test_other_files_are_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    ember.save({"w": ember.ones(2)}, path)
    with pytest.raises(ValueError, match="not a saved ember.jit graph"):
        ember.jit.load(path)


def test_ops_outside_the_registry_cannot_be_saved():
    traced = ember.jit.trace(lambda x: ember.linalg.det(x), ember.randn(3, 3))
    with pytest.raises(RuntimeError, match="cannot be saved"):
        traced.save(io.BytesIO())
