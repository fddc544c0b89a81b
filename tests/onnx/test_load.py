"""ember.onnx.load: ONNX files as ember modules (the round trips of the four models are
in test_export.py); what it refuses."""
import io

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import ember
import ember.onnx
from ember import nn
from onnx_helpers import export_bytes


def test_load_path_parameters_and_names(tmp_path):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 3)).eval()
    path = tmp_path / "m.onnx"
    ember.onnx.export(model, ember.randn(1, 1, 4, 4), path, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "n"}})
    loaded = ember.onnx.load(path)
    assert isinstance(loaded, nn.Module)
    assert loaded.input_names == ["image"] and loaded.output_names == ["logits"]
    names = set(loaded.onnx_names.values())
    assert {"0.weight", "0.bias", "1.running_mean", "1.running_var"} <= names
    params = dict(loaded.named_parameters())
    attribute = next(a for a, n in loaded.onnx_names.items() if n == "0.weight")
    np.testing.assert_array_equal(params[attribute].detach().numpy(),
                                  model[0].weight.detach().numpy())
    x = ember.randn(6, 1, 4, 4)
    with ember.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="takes 1 inputs"):
        loaded(x, x)


def test_load_runs_onnx_built_graph():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])
    graph = helper.make_graph(
        [helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0]),
         helper.make_node("LeakyRelu", ["t"], ["y"], alpha=0.5)], "g", [x], [y])
    buffer = io.BytesIO(helper.make_model(graph).SerializeToString())
    loaded = ember.onnx.load(buffer)
    value = ember.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    np.testing.assert_allclose(loaded(value).numpy(),
                               np.where(value.numpy().T > 0, value.numpy().T,
                                        0.5 * value.numpy().T))


def _model_with(op_type, domain=""):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    node = helper.make_node(op_type, ["x"], ["y"], domain=domain)
    graph = helper.make_graph([node], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain
                                              else [])
    return io.BytesIO(helper.make_model(graph, opset_imports=opsets).SerializeToString())


@pytest.mark.parametrize("op_type", ["Upsample", "__import__", "eval"])
def test_load_refuses_operators_outside_its_table(op_type):
    with pytest.raises(ValueError, match=f"{op_type}.*not supported"):
        ember.onnx.load(_model_with(op_type))


def test_load_refuses_other_domains():
    with pytest.raises(ValueError, match="domain 'com.example'"):
        ember.onnx.load(_model_with("Relu", domain="com.example"))


def test_load_refuses_unsupported_forms():
    data = export_bytes(nn.GRU(2, 3).eval(), ember.randn(4, 1, 2))
    proto = onnx.load_model_from_string(data)
    gru = next(n for n in proto.graph.node if n.op_type == "GRU")
    for attribute in gru.attribute:
        if attribute.name == "linear_before_reset":
            attribute.i = 0
    loaded = ember.onnx.load(io.BytesIO(proto.SerializeToString()))
    with pytest.raises(ValueError, match="linear_before_reset"):
        loaded(ember.randn(4, 1, 2))


def test_load_checks_the_operators_of_subgraphs():
    """A Scan's body is looked up in the table too (at load, as the main graph)."""
    state = helper.make_tensor_value_info("s", TensorProto.FLOAT, [None])
    step = helper.make_tensor_value_info("x_t", TensorProto.FLOAT, [None])
    out = helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [None])
    seen = helper.make_tensor_value_info("y_t", TensorProto.FLOAT, [None])

    def model(op_type):
        body = helper.make_graph([helper.make_node("Add", ["s", "x_t"], ["total"]),
                                  helper.make_node(op_type, ["total"], ["s_out"]),
                                  helper.make_node("Identity", ["s_out"], ["y_t"])],
                                 "step", [state, step], [out, seen])
        scan = helper.make_node("Scan", ["s0", "xs"], ["s_n", "ys"], body=body,
                                num_scan_inputs=1)
        graph = helper.make_graph(
            [scan], "g", [helper.make_tensor_value_info("s0", TensorProto.FLOAT, [2]),
                          helper.make_tensor_value_info("xs", TensorProto.FLOAT, [3, 2])],
            [helper.make_tensor_value_info("s_n", TensorProto.FLOAT, [2]),
             helper.make_tensor_value_info("ys", TensorProto.FLOAT, [3, 2])])
        return io.BytesIO(helper.make_model(graph).SerializeToString())

    with pytest.raises(ValueError, match="Upsample.*not supported"):
        ember.onnx.load(model("Upsample"))
    s_n, ys = ember.onnx.load(model("Relu"))(ember.tensor([0.5, -1.0]),
                                             ember.tensor([[1.0, 0.5], [-2.0, 0.25],
                                                           [0.5, 1.0]]))
    np.testing.assert_allclose(ys.numpy(), [[1.5, 0.0], [0.0, 0.25], [0.5, 1.25]])
    np.testing.assert_allclose(s_n.numpy(), [0.5, 1.25])
