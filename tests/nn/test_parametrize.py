"""nn.utils.parametrize, nn.utils.parametrizations and the legacy weight_norm /
spectral_norm hooks against torch: weights, outputs, gradients of the originals,
state_dict keys, removal, and spectral norm's power iteration in train and eval."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn.utils import parametrize, parametrizations
from nn_helpers import assert_close, copy_weights, ember_repr, to_ember

RNG = np.random.default_rng(0)


def randn(*shape):
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


class Symmetric:
    """The same parametrization for both libraries: X -> (X + X^T) / 2."""

    @staticmethod
    def make(lib):
        base = torch.nn.Module if lib is torch else nn.Module

        class SymmetricParam(base):
            def forward(self, X):
                return (X + X.transpose(-1, -2)) / 2

            def right_inverse(self, A):
                return A

        return SymmetricParam()


def make_scale(lib, factor):
    base = torch.nn.Module if lib is torch else nn.Module

    class Scale(base):
        def forward(self, X):
            return X * factor

        def right_inverse(self, A):
            return A / factor

    return Scale()


def make_pair(lib):
    """A parametrization of one tensor by two (right_inverse returns a tuple)."""
    base = torch.nn.Module if lib is torch else nn.Module

    class Sum(base):
        def forward(self, A, B):
            return A + B

        def right_inverse(self, X):
            return X * 0.25, X * 0.75

    return Sum()


def paired_linear(n_in=4, n_out=4):
    torch_layer = torch.nn.Linear(n_in, n_out)
    layer = nn.Linear(n_in, n_out)
    copy_weights(torch_layer, layer)
    return torch_layer, layer


def compare_forward_backward(torch_layer, layer, x, rtol=1e-5, atol=1e-6):
    t_out = torch_layer(x)
    e_out = layer(to_ember(x))
    assert_close(e_out, t_out, rtol, atol)
    seed = randn(*t_out.shape)
    (t_out * seed).sum().backward()
    (e_out * to_ember(seed)).sum().backward()
    t_params = dict(torch_layer.named_parameters())
    e_params = dict(layer.named_parameters())
    assert list(e_params) == list(t_params)
    for name, p in e_params.items():
        assert_close(p.grad, t_params[name].grad, rtol, atol)


def test_register_chain_and_remove():
    torch_layer, layer = paired_linear()
    for lib, mod in ((torch, torch_layer), (ember, layer)):
        P = torch.nn.utils.parametrize if lib is torch else parametrize
        P.register_parametrization(mod, "weight", Symmetric.make(lib))
        P.register_parametrization(mod, "weight", make_scale(lib, 2.0))
    assert type(layer).__name__ == "ParametrizedLinear"
    assert isinstance(layer, nn.Linear)
    assert repr(layer) == ember_repr(repr(torch_layer))
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert_close(layer.parametrizations.weight.original,
                 torch_layer.parametrizations.weight.original)
    assert_close(layer.weight, torch_layer.weight)
    compare_forward_backward(torch_layer, layer, randn(3, 4))
    # assignment goes through right_inverse of the whole chain
    value = randn(4, 4)
    value = value + value.T
    torch_layer.weight = value
    layer.weight = to_ember(value)
    assert_close(layer.parametrizations.weight.original,
                 torch_layer.parametrizations.weight.original)
    assert_close(layer.weight, torch_layer.weight)
    original = layer.parametrizations.weight.original
    parametrize.remove_parametrizations(layer, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(torch_layer, "weight")
    assert type(layer) is nn.Linear and not hasattr(layer, "parametrizations")
    assert layer.weight is original and isinstance(layer.weight, nn.Parameter)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    assert_close(layer.weight, torch_layer.weight)


def test_remove_keeps_original_when_asked():
    torch_layer, layer = paired_linear()
    torch_parametrize = torch.nn.utils.parametrize
    torch_parametrize.register_parametrization(torch_layer, "weight", make_scale(torch, 3.0))
    parametrize.register_parametrization(layer, "weight", make_scale(ember, 3.0))
    torch_parametrize.remove_parametrizations(torch_layer, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert_close(layer.weight, torch_layer.weight)


def test_sequence_right_inverse():
    torch_layer, layer = paired_linear(3, 2)
    torch.nn.utils.parametrize.register_parametrization(torch_layer, "weight", make_pair(torch))
    parametrize.register_parametrization(layer, "weight", make_pair(ember))
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    assert_close(layer.parametrizations.weight.original1,
                 torch_layer.parametrizations.weight.original1)
    compare_forward_backward(torch_layer, layer, randn(5, 3))
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(layer, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(torch_layer, "weight")
    assert_close(layer.weight, torch_layer.weight)


def test_buffer_and_unsafe_and_errors():
    module = nn.BatchNorm1d(3)
    parametrize.register_parametrization(module, "running_mean", make_scale(ember, 2.0))
    assert "parametrizations.running_mean.original" in module.state_dict()

    class Flat(nn.Module):
        def forward(self, X):
            return X.reshape(-1)

    layer = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(layer, "weight", Flat())
    parametrize.register_parametrization(layer, "weight", Flat(), unsafe=True)
    assert tuple(layer.weight.shape) == (6,)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nothing", Flat())
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        parametrize.remove_parametrizations(layer, "bias")
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        layer.weight = ember.zeros(6)


def test_cached():
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1.0

    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Counting())
    calls.clear()
    with parametrize.cached():
        first = layer.weight
        assert layer.weight is first
    assert len(calls) == 1
    assert layer.weight is not first


def test_weight_norm_parametrization():
    for dim in (0, 1, None):
        torch_layer, layer = paired_linear(5, 3)
        torch.nn.utils.parametrizations.weight_norm(torch_layer, dim=dim)
        parametrizations.weight_norm(layer, dim=dim)
        assert list(layer.state_dict()) == list(torch_layer.state_dict())
        for key, value in torch_layer.state_dict().items():
            assert_close(layer.state_dict()[key], value)
        assert_close(layer.weight, torch_layer.weight)
        compare_forward_backward(torch_layer, layer, randn(4, 5))


def test_weight_norm_conv_and_legacy_state_dict():
    torch_conv = torch.nn.Conv2d(2, 3, 3)
    conv = nn.Conv2d(2, 3, 3)
    copy_weights(torch_conv, conv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        legacy_state = torch.nn.utils.weight_norm(torch.nn.Conv2d(2, 3, 3)).state_dict()
    torch.nn.utils.parametrizations.weight_norm(torch_conv)
    parametrizations.weight_norm(conv)
    compare_forward_backward(torch_conv, conv, randn(2, 2, 5, 5))
    conv.load_state_dict({k: to_ember(v) for k, v in legacy_state.items()})
    assert_close(conv.parametrizations.weight.original1, legacy_state["weight_v"])


def test_legacy_weight_norm():
    torch_layer, layer = paired_linear(5, 3)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(torch_layer)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(layer)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())    # bias, weight_g, weight_v
    assert not isinstance(layer.weight, nn.Parameter)
    assert_close(layer.weight_g, torch_layer.weight_g)
    compare_forward_backward(torch_layer, layer, randn(4, 5))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(layer)
    nn.utils.remove_weight_norm(layer)
    torch.nn.utils.remove_weight_norm(torch_layer)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    assert_close(layer.weight, torch_layer.weight)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(layer)


def copy_power_vectors(torch_param, ember_param, names=("_u", "_v")):
    for name in names:
        getattr(ember_param, name).copy_(to_ember(getattr(torch_param, name)))


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(6, 4),
    lambda lib: lib.nn.Conv2d(3, 4, 2),
])
@pytest.mark.parametrize("n_power_iterations", [1, 3])
def test_spectral_norm_parametrization(make, n_power_iterations):
    torch_layer, layer = make(torch), make(ember)
    copy_weights(torch_layer, layer)
    torch.nn.utils.parametrizations.spectral_norm(torch_layer,
                                                  n_power_iterations=n_power_iterations)
    parametrizations.spectral_norm(layer, n_power_iterations=n_power_iterations)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    copy_power_vectors(torch_layer.parametrizations.weight[0], layer.parametrizations.weight[0])
    x = randn(2, 6) if isinstance(layer, nn.Linear) else randn(2, 3, 4, 4)
    for step in range(3):          # training: u, v follow the same sequence
        torch_layer.zero_grad()
        layer.zero_grad()
        compare_forward_backward(torch_layer, layer, x, rtol=1e-4, atol=1e-5)
        assert_close(layer.parametrizations.weight[0]._u,
                     torch_layer.parametrizations.weight[0]._u, 1e-4, 1e-5)
        assert_close(layer.parametrizations.weight[0]._v,
                     torch_layer.parametrizations.weight[0]._v, 1e-4, 1e-5)
    torch_layer.eval()
    layer.eval()
    u_before = layer.parametrizations.weight[0]._u.clone()
    torch_layer.zero_grad()
    layer.zero_grad()
    compare_forward_backward(torch_layer, layer, x, rtol=1e-4, atol=1e-5)
    assert np.array_equal(layer.parametrizations.weight[0]._u.numpy(), u_before.numpy())


def test_spectral_norm_errors_and_vector():
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'nothing'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), name="nothing")
    layer = parametrizations.spectral_norm(nn.Linear(3, 2), name="bias")
    expected = layer.parametrizations.bias.original / layer.parametrizations.bias.original.norm()
    assert_close(layer.bias, torch.from_numpy(expected.detach().numpy()))


def test_legacy_spectral_norm():
    torch_layer, layer = paired_linear(6, 4)
    torch.nn.utils.spectral_norm(torch_layer, n_power_iterations=2)
    nn.utils.spectral_norm(layer, n_power_iterations=2)
    # bias, weight_orig, weight_u, weight_v
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    layer.weight_u.copy_(to_ember(torch_layer.weight_u))
    layer.weight_v.copy_(to_ember(torch_layer.weight_v))
    x = randn(3, 6)
    for _ in range(2):
        torch_layer.zero_grad()
        layer.zero_grad()
        compare_forward_backward(torch_layer, layer, x, rtol=1e-4, atol=1e-5)
        assert_close(layer.weight_u, torch_layer.weight_u, 1e-4, 1e-5)
    torch_layer.eval()
    layer.eval()
    torch_layer.zero_grad()
    layer.zero_grad()
    compare_forward_backward(torch_layer, layer, x, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(layer)
    nn.utils.remove_spectral_norm(layer)
    torch.nn.utils.remove_spectral_norm(torch_layer)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    assert_close(layer.weight, torch_layer.weight, 1e-4, 1e-5)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(layer)


def test_transfer_parametrizations():
    source = parametrize.register_parametrization(nn.Linear(3, 3), "weight", make_scale(ember, 2.0))
    target = parametrize.transfer_parametrizations_and_params(source, nn.Linear(3, 3))
    assert parametrize.is_parametrized(target, "weight")
    assert np.allclose(target.weight.detach().numpy(), source.weight.detach().numpy())


def test_deepcopy_and_no_pickle():
    import copy
    import pickle

    layer = parametrizations.weight_norm(nn.Linear(3, 2))
    replica = copy.deepcopy(layer)
    assert type(replica) is type(layer) and replica is not layer
    assert replica.parametrizations.weight.original1 is not layer.parametrizations.weight.original1
    x = ember.randn(4, 3)
    assert np.allclose(replica(x).detach().numpy(), layer(x).detach().numpy())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(layer)


def load_torch_state(torch_module, ember_module):
    ember_module.load_state_dict({k: to_ember(v) for k, v in torch_module.state_dict().items()})


@pytest.mark.parametrize("shape,orthogonal_map,trivialization", [
    ((4, 4), None, True), ((5, 3), None, True), ((3, 5), None, True),
    ((5, 3), "matrix_exp", True), ((4, 4), "householder", False),
    ((5, 3), "householder", False), ((3, 5), "householder", True),
    ((4, 4), "cayley", True), ((5, 3), "cayley", True), ((3, 5), "cayley", False),
])
def test_orthogonal_matches_torch(shape, orthogonal_map, trivialization):
    torch_layer = torch.nn.Linear(shape[1], shape[0]).double()
    layer = nn.Linear(shape[1], shape[0]).double()
    copy_weights(torch_layer, layer)
    torch.nn.utils.parametrizations.orthogonal(torch_layer, orthogonal_map=orthogonal_map,
                                               use_trivialization=trivialization)
    parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map,
                                use_trivialization=trivialization)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    w = layer.weight.detach().numpy()
    gram = w @ w.T if shape[0] < shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    if not trivialization:          # deterministic: the same original as torch's
        assert_close(layer.parametrizations.weight.original,
                     torch_layer.parametrizations.weight.original, 1e-12, 1e-12)
    with torch.no_grad():           # move away from the starting point, same for both
        torch_layer.parametrizations.weight.original.add_(
            0.1 * torch.from_numpy(RNG.standard_normal(shape)))
    load_torch_state(torch_layer, layer)
    assert_close(layer.weight, torch_layer.weight, 1e-12, 1e-12)
    x = torch.from_numpy(RNG.standard_normal((3, shape[1])))
    compare_forward_backward(torch_layer, layer, x, rtol=1e-10, atol=1e-12)


def test_orthogonal_batched_assignment_and_errors():
    module = nn.Module()
    module.weight = nn.Parameter(ember.randn(2, 4, 3, dtype=ember.float64))
    parametrizations.orthogonal(module)
    w = module.weight.detach().numpy()
    np.testing.assert_allclose(np.swapaxes(w, -1, -2) @ w, np.broadcast_to(np.eye(3), (2, 3, 3)),
                               atol=1e-12)
    layer = parametrizations.orthogonal(nn.Linear(4, 4).double())
    q = np.linalg.qr(RNG.standard_normal((4, 4)))[0]
    layer.weight = ember.from_numpy(q)
    np.testing.assert_allclose(layer.weight.detach().numpy(), q, atol=1e-12)
    plain = parametrizations.orthogonal(nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        plain.weight = ember.eye(3)
    plain = parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="cayley",
                                        use_trivialization=False)
    with pytest.raises(NotImplementedError, match="Cayley"):
        plain.weight = ember.eye(3)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        parametrizations.orthogonal(nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match="has to be one of"):
        parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="bad")
