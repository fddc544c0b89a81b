"""A model's graph as TensorBoard's ``GraphDef``, from an :func:`ember.jit.trace` of it.

Unoptimised (no fusion, folding or pruning), so each node is one ember op as the model
ran it.  Graph values become edges: a node's ``input`` names the node that made each
value it reads (``name:k`` for the k-th output of a node with several).
"""
from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

import ember
from ember.jit._graph import format_template, type_name


def _shape(shape):
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(s)) for s in shape])


def _node(name, op, inputs, values, description=""):
    attr = {"attr": AttrValue(s=description.encode("utf-8"))}
    if values:
        attr["_output_shapes"] = AttrValue(list=AttrValue.ListValue(
            shape=[_shape(v.shape) for v in values]))
        attr["dtype"] = AttrValue(s=", ".join(type_name(v.dtype, v.shape)
                                              for v in values).encode("utf-8"))
    return NodeDef(name=name, op=op, input=inputs, attr=attr)


def graph_def(model, inputs, verbose=False, strict=True):
    """The ``GraphDef`` of ``model`` run on ``inputs`` (a tensor or a tuple of them)."""
    if inputs is None:
        raise TypeError("add_graph needs input_to_model: the example inputs to trace "
                        "the model with")
    if isinstance(inputs, list):
        inputs = tuple(inputs)
    # traced in eval mode (dropout off, batch norm's running statistics), as PyTorch does
    modules = list(model.modules()) if isinstance(model, ember.nn.Module) else []
    modes = [m.training for m in modules]
    for m in modules:
        m.training = False
    try:
        traced = ember.jit.trace(model, inputs, strict=strict, optimize=False)
    finally:
        for m, mode in zip(modules, modes):
            m.training = mode
    graph = traced.graph
    if verbose:
        print(graph)

    nodes, source = [], {}      # Value index -> the edge name that reads it
    for value in graph.inputs:
        source[value.index] = f"input/{value.name}"
        nodes.append(_node(source[value.index], "IO Node", [], [value]))
    for value in graph.values:
        if value.kind == "constant":
            # a parameter's attribute path as a name scope: fc.weight -> fc/weight
            source[value.index] = value.name.replace(".", "/")
            nodes.append(_node(source[value.index], "prim::Constant", [], [value]))
    for position, node in enumerate(graph.nodes):
        name = f"{node.op}_{position}"
        reads = list(dict.fromkeys(source[v.index] for v in node.inputs()))
        arguments = [format_template(a) for a in node.args]
        arguments += [f"{k}={format_template(v)}" for k, v in node.kwargs.items()]
        nodes.append(_node(name, f"ember::{node.op}", reads, node.outputs,
                           "(" + ", ".join(arguments) + ")"))
        for k, value in enumerate(node.outputs):
            source[value.index] = name if k == 0 else f"{name}:{k}"
    for k, value in enumerate(graph.outputs()):
        nodes.append(_node(f"output/output{k}", "IO Node", [source[value.index]], [value]))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
