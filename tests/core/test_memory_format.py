"""Memory formats (channels_last and friends) against PyTorch: strides, the contiguity
checks, every entry point taking ``memory_format=``, gradients through a format change,
and modules whose convolution weights are converted."""
import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from ember import nn

FORMATS = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]
SHAPES = [(2, 3, 4, 5), (2, 3, 1, 1), (1, 1, 4, 5), (0, 3, 0, 2), (2, 3, 2, 4, 5), (3, 4)]


def outcome(fn):
    try:
        result = fn()
    except Exception as exc:                       # noqa: BLE001 - compared below
        return type(exc).__name__, str(exc).replace("torch", "ember")
    if isinstance(result, (torch.Tensor, ember.Tensor)):
        return "tensor", tuple(result.shape), tuple(result.stride())
    return "value", result


def same(fn):
    """fn(lib) gives the same outcome with torch and with ember."""
    assert outcome(lambda: fn(ember)) == outcome(lambda: fn(torch))


def layouts(lib, shape):
    x = lib.arange(int(np.prod(shape)), dtype=lib.float32).reshape(shape)
    yield x
    if len(shape) >= 4:
        yield x.permute(0, *range(2, len(shape)), 1).contiguous().permute(
            0, len(shape) - 1, *range(1, len(shape) - 1))         # channels-last memory
        yield x.transpose(2, 3)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_contiguity_and_conversions_match_torch(shape, fmt):
    for k in range(3 if len(shape) >= 4 else 1):
        def pick(lib):
            return list(layouts(lib, shape))[k]
        same(lambda lib: pick(lib).is_contiguous(memory_format=getattr(lib, fmt)))
        same(lambda lib: pick(lib).contiguous(memory_format=getattr(lib, fmt)))
        same(lambda lib: pick(lib).dim_order())
        if fmt == "preserve_format" and 0 in shape:
            continue    # no elements: torch keeps the strides as given, ember recomputes them
        same(lambda lib: pick(lib).clone(memory_format=getattr(lib, fmt)))
        same(lambda lib: lib.clone(pick(lib), memory_format=getattr(lib, fmt)))
        same(lambda lib: pick(lib).to(lib.float64, memory_format=getattr(lib, fmt)))
        same(lambda lib: pick(lib).double(memory_format=getattr(lib, fmt)))
        same(lambda lib: pick(lib).half(memory_format=getattr(lib, fmt)))
        same(lambda lib: lib.empty_like(pick(lib), memory_format=getattr(lib, fmt)))
        same(lambda lib: lib.zeros_like(pick(lib), memory_format=getattr(lib, fmt)))
        same(lambda lib: lib.rand_like(pick(lib), memory_format=getattr(lib, fmt)))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fmt", ["contiguous_format", "channels_last", "channels_last_3d"])
def test_empty_in_a_format(shape, fmt):
    same(lambda lib: lib.empty(shape, memory_format=getattr(lib, fmt)))


def test_values_survive_a_format_change():
    x = ember.randn(2, 3, 4, 5)
    for fmt in (ember.channels_last, ember.contiguous_format):
        y = x.contiguous(memory_format=ember.channels_last).contiguous(memory_format=fmt)
        np.testing.assert_array_equal(y.numpy(), x.numpy())
    z = x.contiguous(memory_format=ember.channels_last)
    assert z.contiguous(memory_format=ember.channels_last) is z
    assert np.shares_memory(z.numpy(), z.permute(0, 2, 3, 1).numpy())


def test_elementwise_keeps_channels_last():
    x = ember.randn(2, 3, 4, 5).contiguous(memory_format=ember.channels_last)
    assert (x * 2 + 1).is_contiguous(memory_format=ember.channels_last)


def test_gradient_flows_through_a_format_change():
    data = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    results = []
    for lib in (torch, ember):
        x = lib.tensor(data, requires_grad=True)
        y = x.contiguous(memory_format=lib.channels_last)
        w = x.clone(memory_format=lib.channels_last)
        ((y * y).sum() + (w * 3).sum()).backward()
        results.append(x.grad.numpy())
    np.testing.assert_allclose(results[1], results[0])


def test_bad_format_argument():
    x = ember.randn(2, 3, 4, 5)
    with pytest.raises(TypeError, match="must be ember.memory_format, not int"):
        x.contiguous(memory_format=3)
    with pytest.raises(TypeError, match="memory_format"):
        ember.empty(2, 3, memory_format="channels_last")


def test_formats_are_singletons_that_pickle():
    assert repr(ember.channels_last) == "ember.channels_last"
    assert isinstance(ember.channels_last, ember.memory_format)
    for fmt in (ember.channels_last, ember.preserve_format):
        assert pickle.loads(pickle.dumps(fmt)) is fmt
        assert copy.deepcopy(fmt) is fmt


def test_module_to_converts_only_4d_and_5d_tensors():
    for lib in (torch, ember):
        lib.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4, 2))
    enet = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(4, 2))
    tnet.to(memory_format=torch.channels_last)
    enet.to(memory_format=ember.channels_last)
    for (name, tp), (_, ep) in zip(tnet.named_parameters(), enet.named_parameters()):
        assert tp.stride() == ep.stride(), name
        assert isinstance(ep, nn.Parameter)


@pytest.mark.parametrize("dims", [2, 3])
def test_convert_conv_weight_memory_format(dims):
    conv = {2: (nn.Conv2d, nn.ConvTranspose2d), 3: (nn.Conv3d, nn.ConvTranspose3d)}[dims]
    fmt = ember.channels_last if dims == 2 else ember.channels_last_3d
    convert = getattr(nn.utils, f"convert_conv{dims}d_weight_memory_format")
    net = nn.Sequential(conv[0](3, 4, 3), nn.ReLU(), nn.Sequential(conv[1](4, 2, 3)))
    holder = nn.ModuleList([net, nn.Linear(2, 2)])
    x = ember.randn(*(1, 3) + (6,) * dims)
    before = net(x)
    assert convert(holder, fmt) is holder
    assert net[0].weight.is_contiguous(memory_format=fmt)
    assert net[2][0].weight.is_contiguous(memory_format=fmt)
    assert holder[1].weight.is_contiguous()
    np.testing.assert_allclose(net(x).detach().numpy(), before.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    net(x).sum().backward()
    assert net[0].weight.grad.shape == net[0].weight.shape


@pytest.mark.parametrize("make", [
    lambda lib: lib.empty(2, 3, 1, 4),
    lambda lib: lib.empty(2, 3, 4, 5),
    lambda lib: lib.empty(2, 3, 4, 5).permute(3, 1, 0, 2),
    lambda lib: lib.empty(2, 3, 4, 5, memory_format=lib.channels_last),
    lambda lib: lib.empty(2, 3, 4).expand(5, 2, 3, 4),
])
@pytest.mark.parametrize("check", [False, True, "formats"])
def test_dim_order_and_its_ambiguity_check(make, check):
    def run(lib):
        arg = [lib.channels_last, lib.contiguous_format] if check == "formats" else check
        return make(lib).dim_order(ambiguity_check=arg)
    same(run)
