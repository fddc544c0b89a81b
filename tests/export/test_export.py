"""ember.export against torch.export on the same small models: outputs at the traced and
at other batch sizes, the graph signature, guards, dynamic shapes, errors, save/load."""
import io

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.export import Dim, export


# ---------------------------------------------------------------- model pairs

def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))


def _cnn(lib):
    n = lib.nn
    return n.Sequential(n.Conv2d(2, 4, 3, padding=1), n.BatchNorm2d(4), n.ReLU(),
                        n.MaxPool2d(2), n.Flatten(), n.Linear(4 * 3 * 3, 5))


def _kwargs_model(lib):
    class WithBuffers(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(4, 3)
            self.register_buffer("scale", lib.arange(3, dtype=lib.float32) + 1)
            self.register_buffer("shift", lib.full((3,), 0.5), persistent=False)

        def forward(self, x, *, mask=None):
            y = self.fc(x) * self.scale + self.shift
            return y * mask if mask is not None else y

    return WithBuffers()


MODELS = {"mlp": (_mlp, (6,)), "cnn": (_cnn, (2, 6, 6)), "kwargs": (_kwargs_model, (4,))}


def _pair(kind, dtype=np.float32):
    build, _ = MODELS[kind]
    torch.manual_seed(0)
    reference = build(torch).eval()
    model = build(ember).eval()
    state = {k: ember.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()}
    model.load_state_dict(state)
    if dtype == np.float64:
        reference, model = reference.double(), model.double()
    return model, reference


def _inputs(kind, batch, dtype=np.float32, seed=0):
    shape = (batch,) + MODELS[kind][1]
    x = np.random.default_rng(seed + batch).standard_normal(shape).astype(dtype)
    args = (x,)
    kwargs = {"mask": np.random.default_rng(seed).random((batch, 3)).astype(dtype)} \
        if kind == "kwargs" else {}
    return args, kwargs


def _to(lib, args, kwargs):
    convert = ember.from_numpy if lib is ember else torch.from_numpy
    return tuple(convert(a.copy()) for a in args), {k: convert(v.copy())
                                                    for k, v in kwargs.items()}


def _dynamic(kind, lib):
    batch = lib.export.Dim("batch", min=1, max=16)
    shapes = {"x" if kind != "kwargs" else "x": {0: batch}}
    if kind == "kwargs":
        shapes["mask"] = {0: batch}
    return shapes


def _export_both(kind, dtype=np.float32):
    model, reference = _pair(kind, dtype)
    args, kwargs = _inputs(kind, 2, dtype)
    # torch names a Sequential's input "input"; the dict key follows each forward
    names = {"mlp": "input", "cnn": "input", "kwargs": "x"}
    shapes_e, shapes_t = _dynamic(kind, ember), _dynamic(kind, torch)
    shapes_e[names[kind]] = shapes_e.pop("x")
    shapes_t[names[kind]] = shapes_t.pop("x")
    ep = export(model, *_to(ember, args, kwargs), dynamic_shapes=shapes_e)
    tp = torch.export.export(reference, *_to(torch, args, kwargs), dynamic_shapes=shapes_t)
    return ep, tp, model, reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_outputs_match_torch_at_traced_and_other_batch_sizes(kind, dtype):
    ep, tp, model, _ = _export_both(kind, dtype)
    module, reference = ep.module(), tp.module()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for batch in (2, 5, 1, 16):
        args, kwargs = _inputs(kind, batch, dtype, seed=1)
        out = module(*_to(ember, args, kwargs)[0], **_to(ember, args, kwargs)[1])
        expected = reference(*_to(torch, args, kwargs)[0], **_to(torch, args, kwargs)[1])
        assert out.dtype == getattr(ember, np.dtype(dtype).name)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tol, atol=tol)
        with ember.no_grad():
            eager = model(*_to(ember, args, kwargs)[0], **_to(ember, args, kwargs)[1])
        np.testing.assert_allclose(out.numpy(), eager.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_graph_signature_matches_torch(kind):
    ep, tp, _, _ = _export_both(kind)

    def specs(program):
        return [(s.kind.name, s.arg.name, s.target, s.persistent)
                for s in program.graph_signature.input_specs]

    assert specs(ep) == specs(tp)
    assert [s.kind.name for s in ep.graph_signature.output_specs] == \
        [s.kind.name for s in tp.graph_signature.output_specs]
    sig, tsig = ep.graph_signature, tp.graph_signature
    assert sig.parameters == tsig.parameters and sig.buffers == tsig.buffers
    assert sig.user_inputs == tsig.user_inputs
    assert sig.inputs_to_parameters == tsig.inputs_to_parameters
    assert sig.inputs_to_buffers == tsig.inputs_to_buffers
    assert sig.non_persistent_buffers == tsig.non_persistent_buffers
    assert list(ep.state_dict) == list(tp.state_dict)
    assert list(ep.constants) == list(tp.constants)
    assert [n for n, _ in ep.named_parameters()] == [n for n, _ in tp.named_parameters()]
    assert [n for n, _ in ep.named_buffers()] == [n for n, _ in tp.named_buffers()]
    module, reference = ep.module(), tp.module()
    assert [n for n, _ in module.named_parameters()] == \
        [n for n, _ in reference.named_parameters()]
    assert sorted(n for n, _ in module.named_buffers()) == \
        sorted(n for n, _ in reference.named_buffers())
    assert isinstance(module, nn.Module)


def test_state_is_the_models_own_tensors():
    model, _ = _pair("kwargs")
    ep = export(model, (ember.randn(2, 4),))
    assert ep.state_dict["fc.weight"] is model.fc.weight
    assert ep.constants["shift"] is model.shift
    assert ep.example_inputs[1] == {} and ep.example_inputs[0][0].shape == (2, 4)


def test_range_constraints_and_dim_hints():
    model, reference = _pair("mlp")
    x = np.ones((4, 6), np.float32)
    for hint in ("AUTO", "DYNAMIC"):
        ep = export(model, (ember.from_numpy(x),),
                    dynamic_shapes=({0: getattr(Dim, hint)},))
        assert list(ep.range_constraints.values())[0].upper == float("inf")
        assert ep.module()(ember.ones(9, 6)).shape == (9, 3)
    ep = export(model, (ember.from_numpy(x),), dynamic_shapes=[{0: Dim.STATIC}])
    tp = torch.export.export(reference, (torch.from_numpy(x),),
                             dynamic_shapes=[{0: torch.export.Dim.STATIC}])
    assert ep.range_constraints == {} and tp.range_constraints == {}
    with pytest.raises(AssertionError, match=r"input\.size\(\)\[0\] == 4"):
        ep.module()(ember.ones(5, 6))
    ep = export(model, (ember.from_numpy(x),),
                dynamic_shapes=[(Dim("b", min=2, max=8), None)])
    assert repr(ep.range_constraints["b"]) == "VR[2, 8]"


@pytest.mark.parametrize("bad, message", [
    ((2, 5), r"x\.size\(\)\[1\] == 4"),
    ((17, 4), r"x\.size\(\)\[0\] <= 16"),
])
def test_guards_raise_where_torch_does(bad, message):
    ep, tp, _, _ = _export_both("kwargs")
    mask = np.ones((bad[0], 3), np.float32)
    x = np.ones(bad, np.float32)
    with pytest.raises(AssertionError, match=message):
        tp.module()(torch.from_numpy(x), mask=torch.from_numpy(mask))
    with pytest.raises(AssertionError, match=message):
        ep.module()(ember.from_numpy(x), mask=ember.from_numpy(mask))


def test_guards_name_the_input_and_dim_and_check_shared_dims():
    ep, _, _, _ = _export_both("kwargs")
    module = ep.module()
    with pytest.raises(AssertionError, match=r"dim 1 of input x was exported as static"):
        module(ember.ones(2, 5), mask=ember.ones(2, 3))
    with pytest.raises(AssertionError, match=r"mask\.size\(\)\[0\] == x\.size\(\)\[0\]"):
        module(ember.ones(3, 4), mask=ember.ones(2, 3))
    with pytest.raises(AssertionError, match=r"x\.size\(\)\[0\] >= 1"):
        module(ember.ones(0, 4), mask=ember.ones(0, 3))
    with pytest.raises(AssertionError, match=r"x\.dim\(\) == 2"):
        module(ember.ones(2, 4, 1), mask=ember.ones(2, 3))
    with pytest.raises(ValueError, match="keyword arguments"):
        module(ember.ones(2, 4))
    with pytest.raises(ValueError, match="to be a Tensor"):
        module([1.0], mask=ember.ones(2, 3))


def test_non_contiguous_and_empty_inputs():
    model, _ = _pair("mlp")
    ep = export(model, (ember.randn(3, 6),), dynamic_shapes={"input": {0: Dim("b")}})
    x = ember.randn(6, 5).t()
    assert not x.is_contiguous()
    with ember.no_grad():
        np.testing.assert_allclose(ep.module()(x).numpy(), model(x).numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert ep.module()(ember.ones(0, 6)).shape == (0, 3)
    assert not ep.module()(ember.ones(2, 6)).requires_grad     # inference only


def test_constant_arguments_are_fixed_as_torch_fixes_them():
    class Scale(nn.Module):
        def forward(self, x, n):
            return x * n

    class TorchScale(torch.nn.Module):
        def forward(self, x, n):
            return x * n

    ep = export(Scale(), (ember.ones(2), 3))
    tp = torch.export.export(TorchScale(), (torch.ones(2), 3))
    assert [s.kind.name for s in ep.graph_signature.input_specs] == \
        [s.kind.name for s in tp.graph_signature.input_specs]
    assert ep.module()(ember.ones(2), 3).tolist() == [3.0, 3.0]
    with pytest.raises(AssertionError, match="n == 3"):
        tp.module()(torch.ones(2), 4)
    with pytest.raises(AssertionError, match="n == 3"):
        ep.module()(ember.ones(2), 4)


def test_nested_inputs_and_nested_dynamic_shapes():
    class Pair(nn.Module):
        def forward(self, xs, extra):
            return xs[0] + xs[1] * extra["w"]

    b = Dim("b")
    xs = (ember.randn(2, 3), ember.randn(2, 3))
    ep = export(Pair(), (xs, {"w": ember.randn(3)}),
                dynamic_shapes={"xs": ({0: b}, {0: b}), "extra": {"w": None}})
    assert ep.graph_signature.user_inputs == ("xs_0", "xs_1", "extra_w")
    ys, w = (ember.randn(5, 3), ember.randn(5, 3)), ember.randn(3)
    np.testing.assert_allclose(ep.module()(ys, {"w": w}).numpy(),
                               (ys[0] + ys[1] * w).numpy(), rtol=1e-6)
    with pytest.raises(AssertionError, match=r"xs_1\.size\(\)\[0\] == xs_0\.size\(\)\[0\]"):
        ep.module()((ember.randn(5, 3), ember.randn(4, 3)), {"w": w})


def test_shapes_collection_and_dims():
    batch, length = ember.export.dims("batch", "length", max=32)
    assert (batch.__name__, batch.min, batch.max) == ("batch", 0, 32)
    model, _ = _pair("mlp")
    x = ember.randn(3, 6)
    shapes = ember.export.ShapesCollection()
    shapes[x] = {0: batch}
    ep = export(model, (x,), dynamic_shapes=shapes.dynamic_shapes(model, (x,)))
    assert list(ep.range_constraints) == ["batch"]
    assert ep.module()(ember.randn(7, 6)).shape == (7, 3)


@pytest.mark.parametrize("shapes, error", [
    ({"y": None}, "top-level keys must be the arg names"),
    (({0: Dim("b")}, None), "one entry per input"),
    ({"input": {2: Dim("b")}}, "out of range"),
    ({"input": {0: 3}}, "expected a Dim"),
])
def test_malformed_dynamic_shapes_raise(shapes, error):
    model, _ = _pair("mlp")
    with pytest.raises(RuntimeError, match=error):
        export(model, (ember.randn(2, 6),), dynamic_shapes=shapes)


def test_example_outside_a_dims_range_raises():
    model, _ = _pair("mlp")
    with pytest.raises(RuntimeError, match="Constraints violated"):
        export(model, (ember.randn(2, 6),), dynamic_shapes=[{0: Dim("b", min=3)}])
    with pytest.raises(RuntimeError, match="different definitions"):
        export(Pair2(), (ember.randn(2), ember.randn(2)),
               dynamic_shapes=[{0: Dim("b", max=4)}, {0: Dim("b", max=5)}])


class Pair2(nn.Module):
    def forward(self, x, y):
        return x + y


def test_a_dynamic_dim_the_model_fixes_raises_as_torch():
    class Fixed(nn.Module):
        def forward(self, x):
            return x.view(2, -1)

    class TorchFixed(torch.nn.Module):
        def forward(self, x):
            return x.view(2, -1)

    with pytest.raises(RuntimeError, match=r"Constraints violated \(b\)"):
        torch.export.export(TorchFixed(), (torch.ones(2, 3),),
                            dynamic_shapes={"x": {0: torch.export.Dim("b")}})
    with pytest.raises(RuntimeError, match=r"Constraints violated \(b\)"):
        export(Fixed(), (ember.ones(2, 3),), dynamic_shapes={"x": {0: Dim("b")}})
    with pytest.raises(RuntimeError, match="Constraints violated"):
        export(Fixed(), (ember.ones(2, 3),), dynamic_shapes={"x": {0: Dim.DYNAMIC}})
    # AUTO: dim 0 becomes static, dim 1 stays dynamic
    ep = export(Fixed(), (ember.ones(2, 3),), dynamic_shapes={"x": (Dim.AUTO, Dim.AUTO)})
    assert list(ep.range_constraints) == ["x_dim1"]
    assert ep.module()(ember.ones(2, 5)).shape == (2, 5)
    with pytest.raises(AssertionError, match=r"x\.size\(\)\[0\] == 2"):
        ep.module()(ember.ones(4, 3))


def test_data_dependent_control_flow_raises_as_torch():
    class Branch(nn.Module):
        def forward(self, x):
            return x * 2 if x.sum() > 0 else x

    class TorchBranch(torch.nn.Module):
        def forward(self, x):
            return x * 2 if x.sum() > 0 else x

    with pytest.raises(RuntimeError):
        torch.export.export(TorchBranch(), (torch.ones(3),))
    with pytest.raises(RuntimeError, match="depends on the values of its inputs"):
        export(Branch(), (ember.ones(3),))


def test_call_raises_and_run_decompositions_is_equivalent():
    ep, tp, _, _ = _export_both("mlp")
    x = ember.randn(4, 6)
    with pytest.raises(RuntimeError) as torch_error:
        tp(torch.ones(4, 6))
    with pytest.raises(RuntimeError) as error:
        ep(x)
    assert str(error.value) == str(torch_error.value)
    decomposed = ep.run_decompositions()
    assert isinstance(decomposed, ember.export.ExportedProgram) and decomposed is not ep
    assert ember.equal(decomposed.module()(x), ep.module()(x))


def test_print_shows_graph_signature_and_ranges():
    ep, _, _, _ = _export_both("kwargs")
    text = str(ep)
    assert text.startswith("ExportedProgram:\n    graph(%p_fc_weight : Float(3, 4),")
    assert "%x : Float(batch, 4)" in text and "addmm(%p_fc_bias, %x" in text
    assert "b_shift: BUFFER target='shift' persistent=False" in text
    assert "x: USER_INPUT" in text and "USER_OUTPUT" in text
    assert "Range constraints: {batch: VR[1, 16]}" in text
    assert "addmm" in ep.graph_module.code and len(ep.graph.nodes) > 0


def test_frozen_parameters_and_lifted_constants():
    class Offset(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.fc.requires_grad_(False)

        def forward(self, x):
            return self.fc(x) + ember.tensor([1.0, 2.0, 3.0])

    model = Offset().eval()
    ep = export(model, (ember.randn(2, 3),))
    kinds = [s.kind.name for s in ep.graph_signature.input_specs]
    assert kinds == ["PARAMETER", "PARAMETER", "CONSTANT_TENSOR", "USER_INPUT"]
    assert ep.graph_signature.lifted_tensor_constants == ("lifted_tensor_0",)
    x = ember.randn(2, 3)
    with ember.no_grad():
        assert ember.allclose(ep.module()(x), model(x))
    assert not model.fc.weight.requires_grad


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_save_load_round_trip(kind, tmp_path):
    ep, _, _, _ = _export_both(kind)
    path = tmp_path / "model.pt2"
    ember.export.save(ep, path)
    loaded = ember.export.load(path)
    args, kwargs = _inputs(kind, 5, seed=3)
    a, k = _to(ember, args, kwargs)
    assert ember.equal(loaded.module()(*a, **k), ep.module()(*a, **k))
    assert str(loaded.graph_signature) == str(ep.graph_signature)
    assert loaded.range_constraints == ep.range_constraints
    assert list(loaded.state_dict) == list(ep.state_dict)
    assert all(ember.equal(loaded.state_dict[n], t) for n, t in ep.state_dict.items())
    assert list(loaded.constants) == list(ep.constants)
    assert [n for n, _ in loaded.module().named_parameters()] == \
        [n for n, _ in ep.module().named_parameters()]
    assert ember.equal(loaded.example_inputs[0][0], ep.example_inputs[0][0])
    with pytest.raises(AssertionError, match=r"\.size\(\)\[0\] <= 16"):
        a, k = _to(ember, *_inputs(kind, 17))
        loaded.module()(*a, **k)


def test_save_load_keeps_unused_state_constants_and_extra_files():
    class Partial(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(2, 2)
            self.unused = nn.Linear(2, 2)

        def forward(self, x, n):
            return self.used(x) * n

    ep = export(Partial(), (ember.randn(1, 2), 2.0))
    buffer = io.BytesIO()
    ember.export.save(ep, buffer, extra_files={"note": "hello"})
    buffer.seek(0)
    extra = {"note": "", "missing": ""}
    loaded = ember.export.load(buffer, extra_files=extra)
    assert extra == {"note": "hello", "missing": ""}
    assert list(loaded.state_dict) == ["used.weight", "used.bias", "unused.weight",
                                       "unused.bias"]
    assert isinstance(loaded.state_dict["used.weight"], nn.Parameter)
    x = ember.randn(1, 2)
    assert ember.equal(loaded.module()(x, 2.0), ep.module()(x, 2.0))
    with pytest.raises(AssertionError, match="n == 2.0"):
        loaded.module()(x, 3.0)


def test_load_rejects_other_files(tmp_path):
    traced = ember.jit.trace(lambda x: x + 1, ember.ones(2))
    path = tmp_path / "graph.safetensors"
    traced.save(path)
    with pytest.raises(ValueError, match="not a saved ember.export program"):
        ember.export.load(path)
    ember.save({"format": "ember.export", "version": 1, "graph": "{}", "constants": {},
                "state": {}, "examples": {}, "program": "[1]"}, tmp_path / "bad")
    with pytest.raises(ValueError, match="malformed program"):
        ember.export.load(tmp_path / "bad")


def test_importable_as_a_submodule():
    import importlib
    module = importlib.import_module("ember.export")
    assert module is ember.export and module.export is export
    with pytest.raises(TypeError, match="args must be a tuple"):
        export(nn.Linear(2, 2), ember.ones(2))
    with pytest.raises(TypeError, match="nn.Module"):
        export(lambda x: x, (ember.ones(2),))


def test_export_leaves_a_training_models_buffers_unchanged():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).train()
    before = {n: b.clone() for n, b in model.named_buffers()}
    ep = export(model, (ember.randn(5, 3),), dynamic_shapes=[{0: Dim("b", min=2)}])
    assert all(ember.equal(b, before[n]) for n, b in model.named_buffers())
    assert ep.module()(ember.randn(6, 3)).shape == (6, 4)
