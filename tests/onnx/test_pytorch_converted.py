"""Golden data: the PyTorch-computed cases the ``onnx`` wheel ships in
``onnx/backend/test/data/pytorch-converted``.  Each case's ONNX graph is one PyTorch
module; the test builds the matching ember.nn module from the ONNX node's attributes,
loads the case's initializers into it, runs the shipped inputs and compares with the
shipped outputs.

Covered (by graph): AvgPool1d/2d/3d (``AveragePool``, 1-d through Unsqueeze/Squeeze),
BatchNorm1d/2d/3d in eval (``BatchNormalization``), Conv1d/2d/3d with stride, padding,
dilation, groups, depthwise and no bias (``Conv``), ConvTranspose2d (``ConvTranspose``),
ConstantPad2d/ZeroPad2d/ReflectionPad2d/ReplicationPad2d (``Pad``), Embedding
(``Gather``), GLU (``Split, Sigmoid, Mul``), Linear with and without bias (``Gemm``;
``Transpose, MatMul``), MaxPool1d/2d/3d with stride, padding, dilation (``MaxPool``),
PReLU with one and several parameters (``PRelu``), PixelShuffle (``Reshape, Transpose,
Reshape``), ELU, LeakyReLU, ReLU, SELU, Sigmoid, Tanh, Softplus, Softsign, Softmax,
Softmin, LogSoftmax (each its activation node).

Skipped, with the reason in ``SKIPPED``: test_PoissonNLLLLoss_no_reduce (a loss whose
target is a constant baked into the graph, not a module with weights to load).  Any other
case (a later onnx wheel may ship more) is skipped naming the graph's operators.
"""
import glob
import os

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import ember
from ember import nn

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data",
                    "pytorch-converted")
CASES = sorted(os.listdir(DATA)) if os.path.isdir(DATA) else []

SKIPPED = {
    "test_PoissonNLLLLoss_no_reduce": "a loss whose target is a constant baked into the "
                                      "graph, not a module with weights to load",
}


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _nd(table, spatial):
    return table[spatial - 1]


def _symmetric(pads):
    half = len(pads) // 2
    assert pads[:half] == pads[half:], "asymmetric pads have no ember module"
    return tuple(pads[:half])


def _conv(node, weights, rank):
    a = _attrs(node)
    w = weights[0]
    spatial = w.ndim - 2
    group = a.get("group", 1)
    cls = _nd((nn.Conv1d, nn.Conv2d, nn.Conv3d), spatial)
    module = cls(w.shape[1] * group, w.shape[0], tuple(a["kernel_shape"]),
                 stride=tuple(a["strides"]), padding=_symmetric(a["pads"]),
                 dilation=tuple(a["dilations"]), groups=group, bias=len(weights) > 1)
    return module, ["weight", "bias"]


def _conv_transpose(node, weights, rank):
    a = _attrs(node)
    w = weights[0]
    group = a.get("group", 1)
    module = nn.ConvTranspose2d(w.shape[0], w.shape[1] * group, tuple(a["kernel_shape"]),
                                stride=tuple(a["strides"]), padding=_symmetric(a["pads"]),
                                output_padding=tuple(a["output_padding"]), groups=group,
                                bias=len(weights) > 1, dilation=tuple(a["dilations"]))
    return module, ["weight", "bias"]


def _pool(node, weights, rank):
    a = _attrs(node)
    spatial = len(a["kernel_shape"])
    kwargs = dict(stride=tuple(a["strides"]), padding=_symmetric(a["pads"]))
    if node.op_type == "MaxPool":
        cls = _nd((nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d), spatial)
        kwargs["dilation"] = tuple(a.get("dilations", [1] * spatial))
    else:
        cls = _nd((nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d), spatial)
        kwargs["count_include_pad"] = bool(a.get("count_include_pad", 0))
    return cls(tuple(a["kernel_shape"]), **kwargs), []


def _pool_1d_as_2d(nodes, weights, rank):
    a = _attrs(nodes[1])
    return nn.AvgPool1d(a["kernel_shape"][0], a["strides"][0], a["pads"][0]), []


def _batch_norm(node, weights, rank):
    a = _attrs(node)
    cls = {3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[rank]
    module = cls(weights[0].shape[0], eps=a["epsilon"], momentum=1 - a["momentum"])
    return module, ["weight", "bias", "running_mean", "running_var"]


def _pad(node, weights, rank):
    a = _attrs(node)
    pads = a["pads"]
    half = len(pads) // 2
    torch_pads = []
    for dim in reversed(range(2, half)):
        torch_pads += [pads[dim], pads[half + dim]]
    mode = a.get("mode", b"constant").decode()
    if mode == "reflect":
        return nn.ReflectionPad2d(tuple(torch_pads)), []
    if mode == "edge":
        return nn.ReplicationPad2d(tuple(torch_pads)), []
    value = a.get("value", 0.0)
    return (nn.ZeroPad2d(tuple(torch_pads)) if value == 0 else
            nn.ConstantPad2d(tuple(torch_pads), value)), []


def _prelu(node, weights, rank):
    return nn.PReLU(int(weights[0].size)), ["weight"]


def _linear(nodes, weights, rank):
    w = weights[0]
    return nn.Linear(w.shape[1], w.shape[0], bias=len(weights) > 1), ["weight", "bias"]


def _pixel_shuffle(nodes, weights, rank, in_shape, out_shape):
    return nn.PixelShuffle(out_shape[-1] // in_shape[-1]), []


def _activation(make):
    return lambda node, weights, rank: (make(_attrs(node)), [])


# the graph's operators (Constant nodes left out) -> the ember module and the names of
# its weights, in the order of the graph's initializers
BUILDERS = {
    ("Conv",): _conv,
    ("ConvTranspose",): _conv_transpose,
    ("MaxPool",): _pool,
    ("AveragePool",): _pool,
    ("Unsqueeze", "AveragePool", "Squeeze"): _pool_1d_as_2d,
    ("BatchNormalization",): _batch_norm,
    ("Pad",): _pad,
    ("PRelu",): _prelu,
    ("Gemm",): _linear,
    ("Transpose", "MatMul"): _linear,
    ("Gather",): lambda node, weights, rank: (nn.Embedding(*weights[0].shape), ["weight"]),
    ("Reshape", "Transpose", "Reshape"): _pixel_shuffle,
    ("Split", "Sigmoid", "Mul"): lambda nodes, weights, rank: (
        nn.GLU(_attrs(nodes[0])["axis"]), []),
    ("Relu",): _activation(lambda a: nn.ReLU()),
    ("Elu",): _activation(lambda a: nn.ELU(a.get("alpha", 1.0))),
    ("LeakyRelu",): _activation(lambda a: nn.LeakyReLU(a.get("alpha", 0.01))),
    ("Selu",): _activation(lambda a: nn.SELU()),
    ("Sigmoid",): _activation(lambda a: nn.Sigmoid()),
    ("Tanh",): _activation(lambda a: nn.Tanh()),
    ("Softplus",): _activation(lambda a: nn.Softplus()),
    ("Softmax",): _activation(lambda a: nn.Softmax(a["axis"])),
    ("LogSoftmax",): _activation(lambda a: nn.LogSoftmax(a["axis"])),
    ("Neg", "Softmax"): lambda nodes, weights, rank: (nn.Softmin(_attrs(nodes[1])["axis"]),
                                                      []),
    ("Abs", "Add", "Div"): lambda nodes, weights, rank: (nn.Softsign(), []),
}


def _read(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def test_cases_are_shipped():
    assert len(CASES) >= 70


@pytest.mark.parametrize("case", CASES)
def test_pytorch_converted(case):
    if case in SKIPPED:
        pytest.skip(SKIPPED[case])
    folder = os.path.join(DATA, case)
    model = onnx.load(os.path.join(folder, "model.onnx"))
    nodes = [n for n in model.graph.node if n.op_type != "Constant"]
    signature = tuple(n.op_type for n in nodes)
    builder = BUILDERS.get(signature)
    if builder is None:
        pytest.skip(f"no ember module corresponds to a graph of {signature}")
    weights = [numpy_helper.to_array(t) for t in model.graph.initializer]
    for data_set in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
        inputs = [_read(p) for p in sorted(glob.glob(os.path.join(data_set, "input_*.pb")))]
        expected = [_read(p) for p in sorted(glob.glob(os.path.join(data_set, "output_*.pb")))]
        x = inputs[0]
        arg = nodes if len(nodes) > 1 else nodes[0]
        if builder is _pixel_shuffle:
            module, names = builder(arg, weights, x.ndim, x.shape, expected[0].shape)
        else:
            module, names = builder(arg, weights, x.ndim)
        with ember.no_grad():
            for name, array in zip(names, weights):
                target = getattr(module, name)
                target.copy_(ember.from_numpy(array.copy()).reshape(tuple(target.shape)))
        module.eval()
        tensor = ember.from_numpy(x.copy())
        if builder is BUILDERS[("Gather",)]:
            tensor = tensor.long()
        with ember.no_grad():
            got = module(tensor)
        np.testing.assert_allclose(got.numpy(), expected[0], rtol=1e-4, atol=1e-5)
