"""Shared checks of the ONNX tests: export, validate, run in onnxruntime and in onnx's
reference evaluator, compare with ember's eager outputs."""
import io

import numpy as np
import onnx
import onnxruntime
from onnx.reference import ReferenceEvaluator

import ember
import ember.onnx


def flatten(x, found=None):
    found = [] if found is None else found
    if isinstance(x, ember.Tensor):
        found.append(x)
    else:
        for y in x:
            flatten(y, found)
    return found


def export_bytes(model, args, **kwargs):
    buffer = io.BytesIO()
    ember.onnx.export(model, args, buffer, **kwargs)
    return buffer.getvalue()


def names_read(graph):
    """The names the nodes of ``graph`` read, those of subgraphs (a Scan's body) too."""
    found = set()
    for node in graph.node:
        found.update(node.input)
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                found |= names_read(attribute.g)
    return found


def run_everywhere(data, inputs):
    """Outputs of onnxruntime and of the reference evaluator for ``inputs``
    ({name: Tensor})."""
    proto = onnx.load_model_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    used = names_read(proto.graph)
    assert [t.name for t in proto.graph.initializer if t.name not in used] == []
    feeds = {name: x.numpy() for name, x in inputs.items()}
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, feeds), ReferenceEvaluator(proto).run(None, feeds)


def assert_matches(model, export_args, run_args, input_names, dynamic_axes, atol=1e-5,
                   **export_kwargs):
    """Export at ``export_args``, run at ``run_args`` (another batch size): onnxruntime,
    the reference evaluator and the round trip through ember.onnx.load match eager."""
    if isinstance(model, ember.nn.Module):
        model.eval()
    data = export_bytes(model, export_args, input_names=input_names,
                        dynamic_axes=dynamic_axes, **export_kwargs)
    inputs = dict(zip(input_names, flatten(run_args)))
    with ember.no_grad():
        expected = [t.numpy() for t in flatten(model(*run_args))]
    from_ort, from_reference = run_everywhere(data, inputs)
    loaded = ember.onnx.load(io.BytesIO(data))
    with ember.no_grad():
        from_ember = loaded(*inputs.values())
    from_ember = [t.numpy() for t in flatten(from_ember)]
    assert len(from_ort) == len(expected) == len(from_ember)
    for got_ort, got_ref, got_ember, want in zip(from_ort, from_reference, from_ember,
                                                 expected):
        assert got_ort.shape == want.shape
        np.testing.assert_allclose(got_ort, want, rtol=1e-4, atol=atol)
        np.testing.assert_allclose(got_ref, want, rtol=1e-4, atol=atol)
        np.testing.assert_allclose(got_ember, want, rtol=1e-4, atol=atol)
    return data
