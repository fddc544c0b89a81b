"""ember.vision.ops against torchvision.ops: the layers the classification networks share."""
import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.autograd import gradcheck
from ember.vision import ops

tv_ops = pytest.importorskip("torchvision.ops")


def _to_ember(t):
    return ember.from_numpy(t.detach().numpy().copy())


def _images(*shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def _pair(tv_module, em_module):
    em_module.load_state_dict({k: _to_ember(v) for k, v in tv_module.state_dict().items()},
                              strict=True)
    return tv_module, em_module


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [
    {},
    {"kernel_size": 1, "activation_layer": None},
    {"stride": 2, "groups": 2, "dilation": 2, "activation_layer": nn.SiLU},
    {"norm_layer": None, "bias": None},
], ids=["default", "pointwise_linear", "strided_grouped_dilated", "no_norm"])
def test_conv2d_norm_activation_matches(kwargs, dtype):
    tv_kwargs = {k: (getattr(torch.nn, v.__name__) if isinstance(v, type) else v)
                 for k, v in kwargs.items()}
    torch.manual_seed(0)
    tv_module, em_module = _pair(tv_ops.Conv2dNormActivation(4, 6, **tv_kwargs),
                                 ops.Conv2dNormActivation(4, 6, **kwargs))
    assert list(em_module.state_dict()) == list(tv_module.state_dict())
    assert em_module.out_channels == tv_module.out_channels == 6
    x = _images(2, 4, 9, 9, dtype=dtype)
    tv_module.to(torch.from_numpy(x).dtype).eval(), em_module.to(ember.from_numpy(x).dtype).eval()
    # a non-contiguous batch: every other column
    got = em_module(ember.from_numpy(x)[..., ::2])
    expected = tv_module(torch.from_numpy(x)[..., ::2]).detach().numpy()
    np.testing.assert_allclose(got.detach().numpy(), expected,
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_squeeze_excitation_matches_with_gradients():
    torch.manual_seed(0)
    tv_module, em_module = _pair(
        tv_ops.SqueezeExcitation(8, 2, activation=torch.nn.SiLU),
        ops.SqueezeExcitation(8, 2, activation=nn.SiLU))
    tv_module.double(), em_module.double()
    x = _images(3, 8, 5, 5, dtype=np.float64)
    tx = torch.from_numpy(x).requires_grad_(True)
    ex = ember.from_numpy(x).requires_grad_(True)
    tv_out, em_out = tv_module(tx), em_module(ex)
    np.testing.assert_allclose(em_out.detach().numpy(), tv_out.detach().numpy(), rtol=1e-12)
    tv_out.square().sum().backward()
    em_out.square().sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(em_module.fc1.weight.grad.numpy(),
                               tv_module.fc1.weight.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert gradcheck(em_module, (ember.randn(2, 8, 3, 3, dtype=ember.float64,
                                             requires_grad=True),))
    assert em_module(ember.zeros(0, 8, 3, 3, dtype=ember.float64)).shape == (0, 8, 3, 3)


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_keeps_or_drops_and_rescales(mode):
    ember.manual_seed(0)
    x = ember.rand(4000, 3, 2) + 1.0
    out = ops.stochastic_depth(x, 0.25, mode)
    ratio = (out / x).reshape(4000, -1).numpy()
    # whole rows (or the whole batch) are either dropped or scaled by 1 / (1 - p)
    assert np.all((np.abs(ratio) < 1e-6) | (np.abs(ratio - 4 / 3) < 1e-5))
    same = ratio[:, :1] if mode == "row" else ratio[0, 0]
    np.testing.assert_allclose(ratio, np.broadcast_to(same, ratio.shape), atol=1e-5)
    if mode == "row":
        assert (ratio[:, 0] > 0).mean() == pytest.approx(0.75, abs=0.03)


def test_stochastic_depth_inactive_cases_and_gradient():
    x = ember.randn(5, 3, dtype=ember.float64, requires_grad=True)
    assert ops.stochastic_depth(x, 0.5, "row", training=False) is x
    assert ops.stochastic_depth(x, 0.0, "batch") is x
    assert float(ops.stochastic_depth(x, 1.0, "row").abs().sum()) == 0.0
    out = ops.stochastic_depth(x, 0.5, "row")
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (out / x).detach().numpy())  # the mask
    assert ops.stochastic_depth(ember.ones(0, 4), 0.5, "row").shape == (0, 4)
    assert ops.stochastic_depth(ember.ones(3, 4, dtype=ember.float64), 0.5, "row").dtype == \
        ember.float64


def test_stochastic_depth_module():
    module = ops.StochasticDepth(0.3, "row")
    assert repr(module) == repr(tv_ops.StochasticDepth(0.3, "row"))
    x = ember.ones(64, 2)
    assert module.eval()(x) is x
    out = module.train()(x)
    assert set(out.flatten().tolist()) <= {0.0, float(np.float32(1 / 0.7))}
    assert float(out.min()) == 0.0


@pytest.mark.parametrize("p, mode, match", [
    (-0.1, "row", "between 0 and 1, but got -0.1"),
    (1.5, "row", "between 0 and 1, but got 1.5"),
    (0.5, "col", "either 'batch' or 'row', but got col"),
])
def test_stochastic_depth_bad_arguments_raise(p, mode, match):
    x = torch.ones(2, 3)
    with pytest.raises(ValueError, match=match):
        tv_ops.stochastic_depth(x, p, mode)
    with pytest.raises(ValueError, match=match):
        ops.stochastic_depth(ember.ones(2, 3), p, mode)


def test_permute_matches():
    x = _images(2, 3, 4, 5)
    got = ops.Permute([0, 2, 3, 1])(ember.from_numpy(x))
    np.testing.assert_array_equal(got.numpy(),
                                  tv_ops.Permute([0, 2, 3, 1])(torch.from_numpy(x)).numpy())
    assert list(ops.Permute([1, 0]).state_dict()) == []


@pytest.mark.parametrize("kwargs", [
    {},
    {"norm_layer": "LayerNorm", "activation_layer": "ReLU6", "inplace": False, "dropout": 0.3,
     "bias": False},
], ids=["default", "norm_no_bias_dropout"])
def test_mlp_matches(kwargs):
    def options(lib):
        return {k: getattr(lib, v) if k.endswith("layer") else v for k, v in kwargs.items()}
    torch.manual_seed(0)
    tv_module, em_module = _pair(tv_ops.MLP(5, [7, 6, 3], **options(torch.nn)),
                                 ops.MLP(5, [7, 6, 3], **options(nn)))
    assert repr(em_module) == repr(tv_module)
    tv_module.eval(), em_module.eval()
    x = _images(4, 2, 5)
    np.testing.assert_allclose(em_module(ember.from_numpy(x)).detach().numpy(),
                               tv_module(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
