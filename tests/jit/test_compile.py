"""ember.compile (torch.compile's role) on ember.jit traced graphs: results equal to eager
in every case, graphs cached per guard key and retraced after in-place updates of what
they captured, eager runs where autograd records or a trace would not generalise."""
import warnings

import numpy as np
import pytest

import ember
from ember import nn


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3))


def _graphs(compiled):
    return compiled._cache.graphs


def test_module_inference_runs_one_cached_graph():
    model = _mlp().eval()
    compiled = ember.compile(model)
    x = ember.randn(5, 4)
    with ember.no_grad():
        expected = model(x)
        for _ in range(3):
            assert ember.allclose(compiled(x), expected, atol=1e-6)
        assert len(_graphs(compiled)) == 1
        (traced, _, _), = _graphs(compiled).values()
        assert traced.passes["fused"] >= 1 or traced.passes["folded"] >= 1
        compiled(ember.randn(2, 4))        # a new shape: a second graph
    assert len(_graphs(compiled)) == 2


def test_state_dict_is_the_original_modules_under_orig_mod():
    model = _mlp()
    compiled = ember.compile(model)
    assert compiled._orig_mod is model
    assert list(compiled.state_dict()) == [f"_orig_mod.{k}" for k in model.state_dict()]
    assert sum(p.numel() for p in compiled.parameters()) == sum(
        p.numel() for p in model.parameters())


def test_wrapper_forwards_the_modules_own_methods_and_attributes():
    # nanoGPT's sample.py: model = torch.compile(model); model.generate(...)
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.config = {"block_size": 4}
            self.proj = nn.Linear(2, 2)

        def forward(self, x):
            return self.proj(x)

        def generate(self, x):
            return self(x) * 2

    model = LM()
    compiled = ember.compile(model)
    x = ember.randn(3, 2)
    assert compiled.config is model.config
    assert compiled.proj is model.proj
    assert ember.equal(compiled.generate(x), model(x) * 2)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        compiled.missing


def test_training_runs_eagerly_with_exact_gradients():
    model, reference = _mlp(), _mlp()
    compiled = ember.compile(model)
    x, target = ember.randn(6, 4), ember.randn(6, 3)
    for net in (compiled, reference):
        loss = nn.functional.mse_loss(net(x), target)
        loss.backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        assert ember.equal(p.grad, q.grad)
    assert not _graphs(compiled)


def test_optimizer_steps_retrace_instead_of_running_stale_weights():
    model = _mlp()
    compiled = ember.compile(model)
    optimizer = ember.optim.Adam(model.parameters(), lr=0.1)
    x = ember.randn(3, 4)
    for _ in range(3):
        with ember.no_grad():
            assert ember.allclose(compiled(x), model(x), atol=1e-6)
        optimizer.zero_grad()
        compiled(x).sum().backward()
        optimizer.step()
    with ember.no_grad():
        assert ember.allclose(compiled(x), model(x), atol=1e-6)


def test_closed_over_tensors_are_guarded_by_version():
    scale = ember.tensor([2.0, 3.0])
    compiled = ember.compile(lambda x: (x * scale).exp())
    x = ember.ones(2)
    assert ember.allclose(compiled(x), (x * scale).exp())
    scale.mul_(0.5)
    assert ember.allclose(compiled(x), (x * scale).exp())


def test_train_and_eval_modes_get_their_own_graphs():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).eval()
    compiled = ember.compile(model)
    x = ember.ones(8, 4)
    with ember.no_grad():
        assert ember.allclose(compiled(x), model(x))
        model.train()
        ember.manual_seed(1)
        zeroed = (compiled(x) == 0).sum().item()
    assert zeroed > 0
    assert len(_graphs(compiled)) == 2


def test_data_dependent_control_flow_runs_eagerly():
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x - 1
    compiled = ember.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the TracerWarning is not shown to users
        assert ember.equal(compiled(ember.ones(2)), ember.full((2,), 2.0))
        assert ember.equal(compiled(-ember.ones(2)), ember.full((2,), -2.0))
    assert list(_graphs(compiled).values()) == [None]
    with pytest.raises(RuntimeError, match="fullgraph=True.*Python"):
        ember.compile(f, fullgraph=True)(ember.ones(2))


def test_disable_breaks_the_graph_and_is_compiling():
    seen = []

    @ember.compiler.disable
    def observe(x):
        seen.append(ember.compiler.is_compiling())
        return x

    compiled = ember.compile(lambda x: observe(x + 1) * 2)
    assert ember.equal(compiled(ember.ones(2)), ember.full((2,), 4.0))
    assert seen == [False] and list(_graphs(compiled).values()) == [None]
    inside = []
    ember.compile(lambda x: inside.append(ember.compiler.is_compiling()) or x + 1)(ember.ones(1))
    assert inside[0] is True and not ember.compiler.is_compiling()


def test_constant_arguments_are_part_of_the_key():
    compiled = ember.compile(lambda x, n, mode: x.pow(n) if mode == "pow" else x * n)
    x = ember.arange(1.0, 4.0)
    assert ember.equal(compiled(x, 2, "pow"), x.pow(2))
    assert ember.equal(compiled(x, 3, "pow"), x.pow(3))
    assert ember.equal(compiled(x, 3, "mul"), x * 3)
    assert len(_graphs(compiled)) == 3
    # unhashable arguments and keyword arguments run eagerly
    assert ember.equal(compiled(x, 2, ["pow"]), x * 2)
    assert ember.equal(compiled(x, n=2, mode="pow"), x.pow(2))
    assert len(_graphs(compiled)) == 3


def test_outputs_a_graph_cannot_hold_run_eagerly():
    compiled = ember.compile(lambda x: {"double": x * 2})
    assert ember.equal(compiled(ember.ones(2))["double"], ember.full((2,), 2.0))
    assert list(_graphs(compiled).values()) == [None]


def test_cache_size_limit_and_reset():
    compiled = ember.compile(lambda x: x + 1)
    for n in range(1, ember.compiler.CACHE_SIZE_LIMIT + 1):
        compiled(ember.ones(n))
    with pytest.warns(UserWarning, match="graphs are cached"):
        assert ember.equal(compiled(ember.ones(20)), ember.full((20,), 2.0))
    ember.compiler.reset()
    assert not _graphs(compiled)
    compiled(ember.ones(20))
    assert _graphs(compiled)[next(iter(_graphs(compiled)))] is not None


def test_signature_forms_and_errors():
    model = _mlp()
    assert ember.compile(model, backend="eager") is model
    assert ember.compile(model, disable=True) is model

    @ember.compile(mode="max-autotune", dynamic=True)
    def double(x):
        return x * 2

    @ember.compile
    def triple(x):
        return x * 3

    assert double.__name__ == "double"
    assert ember.equal(double(ember.ones(2)) + triple(ember.ones(2)), ember.full((2,), 5.0))
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        ember.compile(model, mode="fastest")
    with pytest.raises(ValueError, match="backend"):
        ember.compile(model, backend="tvm")
    with pytest.raises(RuntimeError, match="callable"):
        ember.compile(3)


def test_the_digits_cnn_compiles_to_the_eager_result():
    from ember.examples.digits import build_model
    ember.manual_seed(0)
    model = build_model().eval()
    compiled = ember.compile(model)
    x = ember.from_numpy(np.random.default_rng(0).standard_normal((16, 1, 8, 8))).float()
    with ember.no_grad():
        assert ember.allclose(compiled(x), model(x), atol=1e-5)
        assert ember.allclose(compiled(x), model(x), atol=1e-5)
    assert all(v is not None for v in _graphs(compiled).values())


def test_autocast_and_the_default_dtype_are_guarded():
    weight = ember.randn(4, 4)
    product = ember.compile(lambda x: (x @ weight).relu())
    x = ember.randn(2, 4)
    assert product(x).dtype == ember.float32
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert product(x).dtype == ember.bfloat16
    assert product(x).dtype == ember.float32
    assert len(_graphs(product)) == 2
    scaled = ember.compile(lambda x: x * ember.ones(4))     # ones: the default dtype
    assert scaled(x).dtype == ember.float32
    try:
        ember.set_default_dtype(ember.float64)
        assert scaled(x).dtype == ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    assert len(_graphs(scaled)) == 2


def test_a_compiled_function_inside_another_is_traced_inline():
    inner = ember.compile(lambda x: x.exp() * 2)
    outer = ember.compile(lambda x: inner(x) + 1)
    x = ember.randn(3)
    assert ember.allclose(outer(x), x.exp() * 2 + 1)
    assert not _graphs(inner) and len(_graphs(outer)) == 1
    assert ember.allclose(inner(x), x.exp() * 2)


def test_module_compile_in_place_keeps_the_module():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    x = ember.randn(3, 4)
    with ember.no_grad():
        ref = model(x)
    keys = list(model.state_dict())
    assert model.compile() is None
    assert isinstance(model, nn.Sequential) and type(model).__name__ == "Sequential"
    assert list(model.state_dict()) == keys
    cache = model._compiled_call_impl._cache
    with ember.no_grad():
        assert ember.allclose(model(x), ref) and ember.allclose(model(x), ref)
    assert len(cache.graphs) == 1
    # weights updated in place: the guard sees the new versions
    with ember.no_grad():
        model[0].weight.add_(1.0)
        assert ember.allclose(model(x), nn.Sequential.__call__(model, x))
    # training calls run eagerly and record gradients
    model.train()
    model(x).sum().backward()
    assert model[0].weight.grad is not None
    # compiling again replaces the compiled call (no subclass of the subclass)
    model.compile()
    assert type(model).__mro__[1] is nn.Sequential
    other = nn.Sequential(nn.Linear(4, 2))
    assert type(other) is nn.Sequential
