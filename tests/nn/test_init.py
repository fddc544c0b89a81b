"""ember.nn.init: distributions checked statistically against PyTorch's formulas,
deterministic initialisers exactly, errors as torch.nn.init."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.nn import init


def _np(t):
    return np.asarray(t.detach())


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                        ("tanh", None), ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(5, 7), (4, 3, 2, 2), (6, 2, 3)])
def test_fan_in_fan_out_matches_torch(shape):
    assert (init._calculate_fan_in_and_fan_out(ember.empty(shape))
            == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(ember.empty(5))


def _check_uniform(values, bound):
    assert values.min() >= -bound and values.max() <= bound
    assert values.max() > 0.95 * bound and values.min() < -0.95 * bound
    assert abs(values.mean()) < 0.02 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound


def _check_normal(values, std, mean=0.0):
    assert abs(values.mean() - mean) < 0.02 * std
    assert abs(values.std() - std) < 0.02 * std


def test_uniform_and_normal():
    t = ember.empty(200, 100)
    assert init.uniform_(t, -2.0, 3.0) is t
    v = _np(t)
    assert v.min() >= -2 and v.max() <= 3 and abs(v.mean() - 0.5) < 0.05
    init.normal_(t, 1.5, 0.5)
    _check_normal(_np(t), 0.5, 1.5)


def test_xavier():
    t = ember.empty(300, 200)
    init.xavier_uniform_(t, gain=2.0)
    _check_uniform(_np(t), 2.0 * math.sqrt(6.0 / 500))
    init.xavier_normal_(t, gain=0.5)
    _check_normal(_np(t), 0.5 * math.sqrt(2.0 / 500))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", math.sqrt(5)),
                                            ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    t = ember.empty(120, 40, 3, 3)
    fan = 40 * 9 if mode == "fan_in" else 120 * 9
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(_np(t), gain * math.sqrt(3.0 / fan))
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_normal(_np(t), gain / math.sqrt(fan))


def test_kaiming_errors_and_empty():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_normal_(ember.empty(0, 3))


def test_trunc_normal():
    t = ember.empty(400, 250)
    init.trunc_normal_(t, mean=0.5, std=2.0, a=-1.0, b=3.0)
    v = _np(t)
    assert v.min() >= -1.0 and v.max() <= 3.0
    # moments of the truncated normal, by numerical integration of its density
    xs = np.linspace(-1.0, 3.0, 200001)
    pdf = np.exp(-0.5 * ((xs - 0.5) / 2.0) ** 2)
    pdf /= np.trapezoid(pdf, xs)
    mean = np.trapezoid(xs * pdf, xs)
    std = math.sqrt(np.trapezoid((xs - mean) ** 2 * pdf, xs))
    assert abs(v.mean() - mean) < 0.01 and abs(v.std() - std) < 0.01


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_trunc_normal_in_place_in_any_floating_dtype(dtype):
    t = ember.empty(300, 200, dtype=getattr(ember, dtype))[:, ::2]   # a strided view too
    assert init.trunc_normal_(t, std=0.02, a=-0.04, b=0.04) is t
    v = t.float().numpy()
    bound = ember.tensor(0.04, dtype=t.dtype).item()     # the bounds in the tensor's dtype
    assert t.dtype is getattr(ember, dtype) and v.min() >= -bound and v.max() <= bound
    # N(0, 0.02) cut at two standard deviations: std 0.88 * 0.02
    assert abs(v.mean()) < 1e-3 and abs(v.std() / 0.02 - 0.8796) < 0.02


def test_constant_ones_zeros_eye_dirac():
    t = ember.empty(3, 4)
    assert init.constant_(t, 2.5) is t and (_np(t) == 2.5).all()
    assert (_np(init.ones_(t)) == 1).all() and (_np(init.zeros_(t)) == 0).all()
    np.testing.assert_array_equal(_np(init.eye_(t)), np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ember.empty(2, 2, 2))
    for shape, groups in (((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 1, 3, 3), 1)):
        e = init.dirac_(ember.empty(shape), groups)
        t = torch.nn.init.dirac_(torch.empty(shape), groups)
        np.testing.assert_array_equal(_np(e), t.numpy())


def test_orthogonal():
    for shape in ((6, 4), (4, 6), (5, 2, 3)):
        t = ember.empty(shape)
        init.orthogonal_(t, gain=2.0)
        m = _np(t).reshape(shape[0], -1).astype(np.float64)
        if m.shape[0] < m.shape[1]:
            np.testing.assert_allclose(m @ m.T, 4.0 * np.eye(m.shape[0]), atol=1e-5)
        else:
            np.testing.assert_allclose(m.T @ m, 4.0 * np.eye(m.shape[1]), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(ember.empty(3))


@pytest.mark.parametrize("shape, sparsity", [((10, 4), 0.3), ((5, 3), 0.0), ((4, 6), 1.0)])
def test_sparse_zeroes_a_fraction_of_each_column(shape, sparsity):
    ours = _np(init.sparse_(ember.empty(shape), sparsity, std=0.02))
    theirs = torch.nn.init.sparse_(torch.empty(shape), sparsity, std=0.02).numpy()
    np.testing.assert_array_equal((ours == 0).sum(0), (theirs == 0).sum(0))
    assert np.abs(ours).max() < 0.02 * 6
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(ember.empty(3), 0.5)
    with pytest.warns(FutureWarning, match="nn.init.sparse_"):
        init.sparse(ember.empty(3, 3), 0.5)

def test_generator_makes_draws_reproducible():
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
               init.kaiming_uniform_, init.kaiming_normal_, init.trunc_normal_,
               init.orthogonal_, lambda t, generator: init.sparse_(t, 0.5, generator=generator)):
        a, b = ember.empty(8, 5), ember.empty(8, 5)
        fn(a, generator=ember.Generator().manual_seed(7))
        fn(b, generator=ember.Generator().manual_seed(7))
        np.testing.assert_array_equal(_np(a), _np(b))
        fn(b, generator=ember.Generator().manual_seed(8))
        assert not np.array_equal(_np(a), _np(b))


def test_init_of_parameter_records_no_graph():
    p = ember.nn.Parameter(ember.empty(4, 4))
    for fn in (init.kaiming_uniform_, init.normal_, init.zeros_, init.orthogonal_,
               init.trunc_normal_, init.eye_):
        out = fn(p)
        assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad
