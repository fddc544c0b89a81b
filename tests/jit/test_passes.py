"""The graph passes, each on its own: dead code, constant folding, common
subexpressions, and elementwise fusion (values against eager ember and NumPy)."""
import numpy as np
import pytest

import ember
from ember import nn
from ember._core import _fused
from ember.jit._fusion import FUSED_OPS


def _ops(traced):
    return [n.op for n in traced.graph.nodes]


def test_dead_code_elimination():
    def fn(x):
        unused = x.exp().sum()          # noqa: F841 -- computed, never returned
        return x + 1

    plain = ember.jit.trace(fn, ember.ones(3), optimize=False)
    assert "exp" in _ops(plain) and "sum" in _ops(plain)
    traced = ember.jit.trace(fn, ember.ones(3))
    assert traced.passes["dead_code"] == 2
    assert _ops(traced) == ["add"]
    np.testing.assert_allclose(traced(ember.arange(3.0)).numpy(), [1, 2, 3])


def test_constant_folding_precomputes_weight_transposes():
    model = nn.Sequential(nn.Linear(4, 3)).eval()
    plain = ember.jit.trace(model, ember.randn(2, 4), optimize=False)
    assert "t" in _ops(plain)
    traced = ember.jit.trace(model, ember.randn(2, 4))
    assert "t" not in _ops(traced) and traced.passes["folded"] == 1
    x = ember.randn(6, 4)
    with ember.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_product_constants_are_stored_contiguously():
    # the folded weight.t() of each Linear is copied once, contiguously; a constant also
    # read by another op (the weight used elementwise) stays a view
    model = nn.Sequential(nn.Linear(1024, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    traced = ember.jit.trace(model, ember.randn(2, 1024))
    assert traced.passes["contiguous"] == 2
    products = [n for n in traced.graph.nodes if n.op == "addmm"]
    for node in products:
        weight = traced.graph.constants[node.args[2]]
        assert weight.is_contiguous()
    x = ember.randn(5, 1024)
    with ember.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)

    w = ember.randn(2, 4)

    def shared(x):
        wt = w.t()
        return x @ wt, x.t() * wt

    traced = ember.jit.trace(shared, ember.randn(2, 4))
    assert traced.passes["contiguous"] == 0
    for got, want in zip(traced(x[:2, :4]), shared(x[:2, :4])):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch", [1, 8])
def test_convolution_applies_the_relu_after_it(batch, tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1),
                          nn.ReLU()).eval()
    x = ember.randn(batch, 3, 10, 10)
    x[0, 0, 0, 0] = float("nan")
    traced = ember.jit.trace(model, x)
    assert traced.passes["conv_relu"] == 2
    assert _ops(traced) == ["convolution", "convolution"]
    assert all(n.kwargs == {"activation": "relu"} for n in traced.graph.nodes)
    with ember.no_grad():
        want = model(x).numpy()
    np.testing.assert_array_equal(traced(x).numpy(), want)      # NaN where eager has one
    traced.save(tmp_path / "conv.emb")
    np.testing.assert_array_equal(ember.jit.load(tmp_path / "conv.emb")(x).numpy(), want)


def test_convolution_keeps_a_result_that_others_read():
    conv = nn.Conv2d(2, 3, 3).eval()

    def fn(x):
        y = conv(x)
        return y.relu() + y

    x = ember.randn(2, 2, 5, 5)
    traced = ember.jit.trace(fn, x)
    assert traced.passes["conv_relu"] == 0
    with ember.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), fn(x).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="activation must be None or 'relu'"):
        ember._core._conv.convolution(x, conv.weight, None, (1, 1), (0, 0), (1, 1), 1,
                                      "gelu")


def test_max_pool_without_readers_of_its_indices_computes_values_only(tmp_path):
    # (after a convolution, the pooling would be the convolution's: test_conv_pool.py)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
                          nn.Flatten()).eval()
    x = ember.randn(4, 2, 6, 10)
    traced = ember.jit.trace(model, x)
    assert traced.passes["values_only"] == 1
    (pool,) = [n for n in traced.graph.nodes if n.op == "max_pool"]
    assert pool.kwargs == {"with_indices": False}
    with ember.no_grad():
        want = model(x).numpy()
    np.testing.assert_array_equal(traced(x).numpy(), want)
    traced.save(tmp_path / "pool.emb")
    np.testing.assert_array_equal(ember.jit.load(tmp_path / "pool.emb")(x).numpy(), want)

    def with_indices(x):                # the indices are read: they are computed
        values, indices = ember.nn.functional.max_pool2d(x, 2, return_indices=True)
        return values * 2, indices

    traced = ember.jit.trace(with_indices, x)
    assert traced.passes["values_only"] == 0
    for got, expected in zip(traced(x), with_indices(x)):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_constant_folding_of_created_constants():
    scale = ember.tensor([1.0, 2.0, 3.0])

    def fn(x):
        return x * (scale.exp() + 1)

    # scale does not require grad: its ops never reach the tracer, the result is a constant
    traced = ember.jit.trace(fn, ember.ones(3))
    assert _ops(traced) == ["mul"]
    weight = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    traced = ember.jit.trace(lambda x: x * (weight.exp() + 1), ember.ones(3))
    assert _ops(traced) == ["mul"] and traced.passes["folded"] == 2
    np.testing.assert_allclose(traced(ember.ones(3)).numpy(), np.exp([1, 2, 3]) + 1,
                               rtol=1e-6)


def test_common_subexpression_elimination():
    def fn(x):
        return x.exp() * 2 + x.exp().sum()

    plain = ember.jit.trace(fn, ember.ones(3), optimize=False)
    assert _ops(plain).count("exp") == 2
    traced = ember.jit.trace(fn, ember.ones(3))
    assert traced.passes["merged"] == 1
    x = ember.randn(3)
    np.testing.assert_allclose(traced(x).numpy(), fn(x).numpy(), rtol=1e-6)


def test_cse_does_not_merge_across_in_place_writes():
    def fn(x):
        y = x * 1
        a = y.exp()
        y.mul_(2)
        b = y.exp()
        return a + b

    traced = ember.jit.trace(fn, ember.ones(3))
    x = ember.randn(3)
    np.testing.assert_allclose(traced(x).numpy(), fn(x).numpy(), rtol=1e-6)


def _gelu_tanh(x):
    return 0.5 * x * (1 + ember.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_fusion_of_an_elementwise_chain(dtype):
    traced = ember.jit.trace(_gelu_tanh, ember.randn(4, 5, dtype=dtype))
    assert _ops(traced) == ["fused"] and traced.passes["fused"] == 1
    node = traced.graph.nodes[0]
    assert [entry[0] for entry in node.spec["program"]] == [
        "mul", "mul", "mul", "mul", "add", "mul", "tanh", "add", "mul", "mul"][:len(
            node.spec["program"])]
    x = ember.randn(7, 5, dtype=dtype)
    np.testing.assert_allclose(traced(x).numpy(), _gelu_tanh(x).numpy(),
                               rtol=1e-6 if dtype == ember.float32 else 1e-13)
    assert "fused[" in str(traced.graph)


def test_fusion_with_broadcasting_and_non_contiguous_inputs():
    def fn(x, y, z):
        return ((x * y).sigmoid() - z).relu() * 3 + x

    x = ember.randn(4, 6).t()                   # non-contiguous
    y = ember.randn(6, 1)                       # broadcast
    z = ember.randn(4)[::2].reshape(1, 2).expand(3, 2)[0, :1]  # strided, 1 element
    traced = ember.jit.trace(fn, (x, y, z))
    assert _ops(traced) == ["fused"]
    args = (ember.randn(5, 6).t(), ember.randn(6, 1), ember.randn(1))
    np.testing.assert_allclose(traced(*args).numpy(), fn(*args).numpy(), rtol=1e-6,
                               atol=1e-7)
    xn, yn, zn = (a.numpy() for a in args)
    expected = np.maximum(1 / (1 + np.exp(-(xn * yn))) - zn, 0) * 3 + xn
    np.testing.assert_allclose(traced(*args).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_fusion_keeps_values_other_nodes_read():
    def fn(x):
        a = x.exp()
        b = (a + 1).log()
        return b * 2, a.sum()

    traced = ember.jit.trace(fn, ember.randn(3, 3))
    x = ember.randn(3, 3)
    for got, want in zip(traced(x), fn(x)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_mixed_dtypes_are_not_fused():
    def fn(x, y):
        return (x * 2 + y).exp()

    x, y = ember.randn(3), ember.randn(3, dtype=ember.float64)
    traced = ember.jit.trace(fn, (x, y))
    assert "fused" not in _ops(traced)[:1]
    np.testing.assert_allclose(traced(x, y).numpy(), fn(x, y).numpy(), rtol=1e-12)


def test_fused_program_checks_its_bytecode():
    f32 = ember.float32
    add = FUSED_OPS["add"][0]
    with pytest.raises(ValueError, match="read before"):
        _fused.Program([(add, 2, 0, 5, 0)], 2, [], 2, f32)
    with pytest.raises(ValueError, match="no op number"):
        _fused.Program([(10_000, 2, 0, 1, 0)], 2, [], 2, f32)
    with pytest.raises(ValueError, match="destination"):
        _fused.Program([(add, 1, 0, 1, 0)], 2, [], 1, f32)
    with pytest.raises(ValueError, match="destination"):      # a number's register
        _fused.Program([(add, 2, 0, 1, 0)], 2, [3.0], 2, f32)
    with pytest.raises(ValueError, match="never written"):
        _fused.Program([(add, 2, 0, 1, 0)], 2, [], 3, f32)
    with pytest.raises(TypeError, match="float32 or float64"):
        _fused.Program([(add, 2, 0, 1, 0)], 2, [], 2, ember.int64)
    program = _fused.Program([(add, 3, 0, 2, 0), (FUSED_OPS["mul"][0], 4, 3, 1, 0)], 2,
                             [1.5], 4, f32)
    a, b = ember.arange(4.0), ember.full((2, 1), 2.0)
    np.testing.assert_allclose(program(a, b).numpy(), (np.arange(4.0) + 1.5) * 2 * np.ones((2, 1)))
    with pytest.raises(RuntimeError, match="computes in ember.float32"):
        program(a.double(), b)
    with pytest.raises(RuntimeError, match="must match"):
        program(ember.ones(3), b.reshape(1, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 511, 512, 513, 1023, 1024, 1025, 2049, 5000])
def test_fused_program_over_block_edges_and_layouts(dtype, n):
    """Registers reused (r5 holds tanh(y), then the result), numbers, a contiguous input read in
    place, a strided and a broadcast one, each written block by block; the result into
    a new tensor, into a transposed out=, and over its first input (the last instruction
    writes there; the earlier ones still read it)."""
    dt = ember.float32 if dtype == np.float32 else ember.float64
    ops = {name: FUSED_OPS[name][0] for name in ("mul", "add", "tanh", "sub")}
    # r0 x, r1 y, r2 z, r3 the number 2; r5 = tanh(y); r4 = x*2; r4 = r4 + r5; r5 = r4 - z
    # (r5, the result's register, is written before x is read)
    program = _fused.Program([(ops["tanh"], 5, 1, 0, 0), (ops["mul"], 4, 0, 3, 0),
                              (ops["add"], 4, 4, 5, 0), (ops["sub"], 5, 4, 2, 0)],
                             3, [2.0], 5, dt)
    rng = np.random.default_rng(n)
    x = rng.standard_normal((2, n)).astype(dtype)
    y = rng.standard_normal((n, 2)).astype(dtype)
    z = dtype(0.25)
    expected = x * 2 + np.tanh(y.T) - z
    tol = dict(rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)
    ex, ey, ez = ember.from_numpy(x), ember.from_numpy(y).t(), ember.tensor(z, dtype=dt)
    np.testing.assert_allclose(program(ex, ey, ez).numpy(), expected, **tol)
    out_t = ember.empty(n, 2, dtype=dt).t()
    assert program(ex, ey, ez, out=out_t) is out_t
    np.testing.assert_allclose(out_t.numpy(), expected, **tol)
    target = ember.from_numpy(x.copy())
    program(target, ey, ez, out=target)
    np.testing.assert_allclose(target.numpy(), expected, **tol)
