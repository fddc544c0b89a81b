"""Products by a constant matrix packed once (``ember._core._blas.PackedMatrix``), which
the traced-graph runner uses for a folded ``weight.t()``: the same bits as the eager
product, and the eager product itself wherever ember's GEMM would not run."""
import numpy as np
import pytest

import ember
from ember import nn
from ember._core import _blas
from ember._core._blas import PackedMatrix


def _same(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("m,k,n", [(64, 784, 256), (64, 256, 256), (33, 1000, 64),
                                   (128, 300, 17), (16, 16, 16), (200, 77, 130)])
@pytest.mark.parametrize("threads", [1, 2])
def test_same_bits_as_the_eager_products(m, k, n, threads):
    saved = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        gen = np.random.default_rng(m * k + n)
        x = ember.from_numpy(gen.standard_normal((m, k), dtype=np.float32))
        w = ember.from_numpy(gen.standard_normal((k, n), dtype=np.float32))
        bias = ember.from_numpy(gen.standard_normal(n, dtype=np.float32))
        packed = PackedMatrix(w)
        _same(packed.addmm(bias, x, w), ember.addmm(bias, x, w))
        _same(packed.addmm(bias.reshape(1, n), x, w), ember.addmm(bias, x, w))
        _same(packed.mm(x, w), ember.mm(x, w))
        _same(packed.matmul(x, w), ember.matmul(x, w))
        x3 = x.reshape(1, m, k).expand(2, m, k).contiguous()
        _same(packed.matmul(x3, w), ember.matmul(x3, w))
        # rows at a pitch wider than k: a column slice of a wider matrix
        wide = ember.from_numpy(gen.standard_normal((m, k + 5), dtype=np.float32))[:, 2:k + 2]
        _same(packed.mm(wide, w), ember.mm(wide, w))
    finally:
        ember.set_num_threads(saved)


def test_other_calls_are_the_eager_functions():
    gen = np.random.default_rng(0)
    w = ember.from_numpy(gen.standard_normal((40, 24), dtype=np.float32))
    packed = PackedMatrix(w)
    x = ember.from_numpy(gen.standard_normal((32, 40), dtype=np.float32))
    bias = ember.ones(24)
    other = w.clone()
    cases = [
        (lambda p: p.mm(x, other), lambda: ember.mm(x, other)),            # another matrix
        (lambda p: p.mm(x[:1], w), lambda: ember.mm(x[:1], w)),            # one row: GEMV
        (lambda p: p.mm(x.t().contiguous().t(), w), lambda: ember.mm(x, w)),  # column-major
        (lambda p: p.mm(x.double(), w.double()), lambda: ember.mm(x.double(), w.double())),
        (lambda p: p.addmm(bias, x, w, beta=2), lambda: ember.addmm(bias, x, w, beta=2)),
        (lambda p: p.addmm(bias, x, w, alpha=0.5), lambda: ember.addmm(bias, x, w, alpha=0.5)),
        (lambda p: p.matmul(x[0], w), lambda: ember.matmul(x[0], w)),      # 1-d
    ]
    for through_packed, eager in cases:
        _same(through_packed(packed), eager())
    out = ember.empty(32, 24)
    assert packed.mm(x, w, out=out) is out
    _same(out, ember.mm(x, w))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        packed.mm(ember.ones(32, 7), w)


@pytest.mark.parametrize("m,k,n", [(0, 5, 20), (20, 0, 20), (32, 16, 0), (16, 0, 0)])
def test_empty_products(m, k, n):
    w, x, bias = ember.randn(k, n), ember.randn(m, k), ember.randn(n)
    packed = PackedMatrix(w)            # an empty matrix is not packed: nothing to read
    _same(packed.addmm(bias, x, w), ember.addmm(bias, x, w))
    _same(packed.mm(x, w), ember.mm(x, w))


def test_special_values_and_bad_addends_as_eager():
    gen = np.random.default_rng(3)
    w = ember.from_numpy(gen.standard_normal((40, 30), dtype=np.float32))
    packed = PackedMatrix(w)
    x = ember.from_numpy(gen.standard_normal((32, 40), dtype=np.float32))
    x[3, 5], x[7, 1] = float("nan"), float("inf")
    bias = ember.from_numpy(gen.standard_normal(30, dtype=np.float32))
    bias[2] = float("nan")
    for through_packed, eager in [(packed.addmm(bias, x, w), ember.addmm(bias, x, w)),
                                  (packed.addmm(ember.tensor(2.0), x, w),
                                   ember.addmm(ember.tensor(2.0), x, w))]:
        np.testing.assert_array_equal(through_packed.numpy(), eager.numpy())
    with pytest.raises(RuntimeError, match="expanded size"):
        packed.addmm(ember.ones(7), x, w)
    with pytest.raises(RuntimeError, match="same dtype"):
        packed.addmm(ember.ones(30, dtype=ember.float64), x, w)


def test_autograd_goes_to_the_recorded_product():
    w = ember.randn(20, 30)
    packed = PackedMatrix(w)
    x = ember.randn(16, 20, requires_grad=True)
    packed.mm(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.tile(w.numpy().sum(1), (16, 1)), rtol=1e-5)


def test_only_2d_float32_cpu_matrices_are_packed():
    with pytest.raises(TypeError, match="2-D float32 CPU"):
        PackedMatrix(ember.ones(3, 4, dtype=ember.float64))
    with pytest.raises(TypeError, match="2-D float32 CPU"):
        PackedMatrix(ember.ones(3))


def test_traced_linear_layers_run_packed_and_match_eager():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64)).eval()
    x = ember.randn(48, 784)
    with ember.no_grad():
        traced = ember.jit.trace(model, x)
        expected = model(x)
    assert traced.graph.owned, "the folded weight.t() copies belong to the graph"
    assert traced._run.packed_constants == sorted(traced.graph.owned)
    np.testing.assert_allclose(traced(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    # the traced graph keeps its packed copy: changing the model afterwards changes
    # neither (as before packing: the folded weight.t() was copied at trace time)
    with ember.no_grad():
        model[0].weight.zero_()
    np.testing.assert_allclose(traced(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_a_saved_graph_runs_packed_after_loading(tmp_path):
    ember.manual_seed(1)
    model = nn.Sequential(nn.Linear(300, 128), nn.Tanh(), nn.Linear(128, 32)).eval()
    x = ember.randn(40, 300)
    with ember.no_grad():
        traced = ember.jit.trace(model, x)
    traced.save(tmp_path / "mlp.ember")
    loaded = ember.jit.load(tmp_path / "mlp.ember")
    assert loaded.graph.owned == {v.index for v in loaded.graph.constants}
    _same(loaded(x), traced(x))


def test_a_constant_written_in_place_is_not_packed(tmp_path):
    # every constant of a loaded graph is its own; one that an in-place node writes (as a
    # crafted file may have) would go stale packed
    from ember.jit._graph import Node
    from ember.jit._ops import bind
    from ember.jit._runner import compile_graph
    model = nn.Sequential(nn.Linear(32, 32), nn.Linear(32, 32)).eval()
    x = ember.randn(20, 32)
    with ember.no_grad():
        ember.jit.trace(model, x).save(tmp_path / "m.ember")
    graph = ember.jit.load(tmp_path / "m.ember").graph
    products = [n for n in graph.nodes if n.op == "addmm"]
    first, second = products[0].args[2], products[1].args[2]
    assert compile_graph(graph).packed_constants == sorted([first.index, second.index])
    out = graph.new_value("node", graph.constants[second])
    write = Node("ew", "add", (second, 1.0), {}, [out], out, inplace=True)
    bind(write)
    graph.nodes.append(write)
    assert compile_graph(graph).packed_constants == [first.index]


def test_kernel_choice_is_kept_by_a_packed_matrix():
    previous = _blas._sgemm_kernel_name()
    w = ember.randn(64, 48)
    packed = PackedMatrix(w)
    x = ember.randn(32, 64)
    expected = ember.mm(x, w)
    try:
        _blas._set_sgemm_kernel("generic")
        np.testing.assert_allclose(packed.mm(x, w).numpy(), expected.numpy(), rtol=1e-5,
                                   atol=1e-5)
    finally:
        _blas._set_sgemm_kernel(previous)
