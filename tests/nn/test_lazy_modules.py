"""Lazy modules and uninitialized parameters against torch.nn: shape inference at the
first forward, the class change, initialisation, state dicts, conversions and errors."""
import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from nn_helpers import assert_close, to_ember

# lazy class, constructor arguments, input shape, the class it becomes
CASES = [
    ("LazyLinear", (5,), (4, 3), "Linear"),
    ("LazyLinear", (5, False), (2, 4, 3), "Linear"),
    ("LazyConv1d", (6, 3), (2, 4, 7), "Conv1d"),
    ("LazyConv1d", (6, 3), (4, 7), "Conv1d"),                       # unbatched
    ("LazyConv2d", (6, 3, 2, 1, 1, 2), (2, 4, 6, 5), "Conv2d"),     # groups=2
    ("LazyConv3d", (4, 2), (1, 3, 4, 4, 3), "Conv3d"),
    ("LazyConvTranspose1d", (6, 3, 2), (2, 4, 5), "ConvTranspose1d"),
    ("LazyConvTranspose2d", (6, 3, 2, 1, 1, 2), (2, 4, 4, 3), "ConvTranspose2d"),
    ("LazyConvTranspose3d", (2, 2, 1, 0, 0, 1, False), (1, 3, 3, 3, 2), "ConvTranspose3d"),
    ("LazyBatchNorm1d", (), (6, 4), "BatchNorm1d"),
    ("LazyBatchNorm1d", (1e-3, None), (6, 4, 3), "BatchNorm1d"),
    ("LazyBatchNorm2d", (), (3, 4, 2, 2), "BatchNorm2d"),
    ("LazyBatchNorm3d", (1e-5, 0.1, False), (3, 4, 2, 2, 2), "BatchNorm3d"),
    ("LazyInstanceNorm1d", (), (3, 4, 5), "InstanceNorm1d"),
    ("LazyInstanceNorm2d", (1e-5, 0.1, True, False), (3, 4, 3, 3), "InstanceNorm2d"),
    ("LazyInstanceNorm3d", (), (2, 4, 2, 3, 3), "InstanceNorm3d"),
]
IDS = [f"{c[0]}{c[1]}{c[2]}" for c in CASES]


def torch_state(state):
    return {k: torch.from_numpy(np.asarray(v.detach()).copy()) for k, v in state.items()}


@pytest.mark.parametrize("name,args,shape,becomes", CASES, ids=IDS)
def test_first_forward_matches_torch(name, args, shape, becomes):
    """The first forward initialises, changes the class and computes what torch's lazy
    module computes with the same initial state; gradients and updated running
    statistics agree too."""
    ember.manual_seed(0)
    m = getattr(nn, name)(*args)
    assert m.has_uninitialized_params()
    initial = {}
    # runs after the lazy module's own pre-hook: sees the freshly initialised state
    m.register_forward_pre_hook(lambda mod, inputs: initial.update(
        {k: v.clone() for k, v in mod.state_dict().items()}))
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ex = ember.from_numpy(x).requires_grad_()
    out = m(ex)
    assert type(m) is getattr(nn, becomes)
    assert not any(map(is_lazy, list(m.parameters()) + list(m.buffers())))
    tm = getattr(torch.nn, name)(*args)
    if "Norm" in name:
        # deterministic initial state: torch's own first forward starts from the same one
        # (loading would leave torch's num_features at 0, which its InstanceNorm refuses)
        tinitial = {}
        tm.register_forward_pre_hook(lambda mod, inputs: tinitial.update(
            {k: v.clone() for k, v in mod.state_dict().items()}))
    else:
        tm.load_state_dict(torch_state(initial))
    tx = torch.from_numpy(x).requires_grad_()
    tout = tm(tx)
    assert type(tm) is getattr(torch.nn, becomes)
    if "Norm" in name:
        assert list(initial) == list(tinitial)
        for key, value in initial.items():
            assert_close(value, tinitial[key])
    assert_close(out, tout, rtol=1e-4, atol=1e-5)
    out.pow(2).sum().backward()
    tout.pow(2).sum().backward()
    assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    tparams = dict(tm.named_parameters())
    for key, param in m.named_parameters():
        assert tuple(param.shape) == tuple(tparams[key].shape)
        assert_close(param.grad, tparams[key].grad, rtol=1e-4, atol=1e-4)
    tstate = tm.state_dict()
    assert list(m.state_dict()) == list(tstate)
    for key, value in m.state_dict().items():
        assert_close(value, tstate[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lazy,ordinary,in_shape", [
    (lambda: nn.LazyLinear(7), lambda: nn.Linear(3, 7), (2, 3)),
    (lambda: nn.LazyConv2d(6, 3, groups=2), lambda: nn.Conv2d(4, 6, 3, groups=2), (1, 4, 5, 5)),
    (lambda: nn.LazyConvTranspose1d(6, 3), lambda: nn.ConvTranspose1d(4, 6, 3), (1, 4, 5)),
    (lambda: nn.LazyConv3d(2, 2, bias=False), lambda: nn.Conv3d(3, 2, 2, bias=False),
     (1, 3, 2, 2, 2)),
])
def test_same_seed_draws_the_ordinary_modules_weights(lazy, ordinary, in_shape):
    """Materialising uses the ordinary class's reset_parameters: under one seed the lazy
    module ends with the weights the ordinary one is constructed with."""
    x = ember.randn(*in_shape)
    ember.manual_seed(42)
    m = lazy()
    m(x)
    ember.manual_seed(42)
    ref = ordinary()
    assert repr(m) == repr(ref)
    for (key, a), (ref_key, b) in zip(m.named_parameters(), ref.named_parameters()):
        assert key == ref_key and np.array_equal(np.asarray(a.detach()), np.asarray(b.detach()))
    np.testing.assert_array_equal(np.asarray(m(x).detach()), np.asarray(ref(x).detach()))


def test_training_with_an_optimizer_made_before_the_first_forward():
    """Parameters are materialised in place, so an optimizer built on the uninitialized
    parameters trains them (as in torch)."""
    def build(lib):
        return lib.nn.Sequential(lib.nn.LazyLinear(8), lib.nn.ReLU(), lib.nn.LazyBatchNorm1d(),
                                 lib.nn.LazyLinear(2))
    ember.manual_seed(3)
    m, tm = build(ember), build(torch)
    opt = ember.optim.Adam(m.parameters(), lr=0.05)
    topt = torch.optim.Adam(tm.parameters(), lr=0.05)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 5)).astype(np.float32)
    target = rng.standard_normal((10, 2)).astype(np.float32)
    # initialise ember's net in evaluation mode (running statistics untouched), then
    # start torch's lazy net from the same state through its load hook
    with ember.no_grad():
        m.eval()(ember.from_numpy(x))
    tm.load_state_dict(torch_state(m.state_dict()))
    m.train()
    for _ in range(3):
        loss = (m(ember.from_numpy(x)) - ember.from_numpy(target)).pow(2).mean()
        tloss = (tm(torch.from_numpy(x)) - torch.from_numpy(target)).pow(2).mean()
        assert_close(loss, tloss, rtol=1e-5, atol=1e-6)
        opt.zero_grad()
        topt.zero_grad()
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
    assert [type(c).__name__ for c in m] == ["Linear", "ReLU", "BatchNorm1d", "Linear"]
    tstate = tm.state_dict()
    for key, value in m.state_dict().items():
        assert_close(value, tstate[key], rtol=1e-4, atol=1e-5)


def test_state_dict_of_a_lazy_module():
    m = nn.LazyBatchNorm2d()
    state = m.state_dict()
    assert list(state) == list(torch.nn.LazyBatchNorm2d().state_dict())
    assert isinstance(state["weight"], UninitializedParameter)
    assert isinstance(state["running_mean"], UninitializedBuffer)
    assert state["weight"] is m.weight           # kept as is: nothing to detach
    assert int(state["num_batches_tracked"]) == 0
    # a lazy state dict loads into a lazy module, which stays lazy
    other = nn.LazyBatchNorm2d()
    other.load_state_dict(state)
    assert other.has_uninitialized_params() and type(other) is nn.LazyBatchNorm2d


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_loading_materialises_a_lazy_module(lib):
    src = lib.nn.Linear(3, 4)
    m = lib.nn.LazyLinear(4)
    m.load_state_dict(src.state_dict())
    assert not m.has_uninitialized_params()
    assert type(m) is lib.nn.LazyLinear and m.in_features == 0
    assert tuple(m.weight.shape) == (4, 3) and type(m.weight) is lib.nn.Parameter
    x = lib.ones(2, 3)
    assert np.array_equal(np.asarray(m(x).detach()), np.asarray(src(x).detach()))
    assert type(m) is lib.nn.Linear and m.in_features == 3
    # the inferred in_features must agree with the loaded weight
    m2 = lib.nn.LazyLinear(4)
    m2.load_state_dict(src.state_dict())
    with pytest.raises(AssertionError, match="in_features inferred from input: 5"):
        m2(lib.ones(2, 5))


def test_loading_buffers_materialises_them():
    src = nn.BatchNorm1d(3)
    src(ember.randn(5, 3))
    m = nn.LazyBatchNorm1d()
    m.load_state_dict(src.state_dict())
    assert not m.has_uninitialized_params()
    assert isinstance(m.running_mean, nn.Buffer) and not is_lazy(m.running_mean)
    for key, value in src.state_dict().items():
        assert np.array_equal(np.asarray(m.state_dict()[key]), np.asarray(value))


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_loading_an_uninitialized_entry_into_an_initialized_module(lib):
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        lib.nn.Linear(3, 4).load_state_dict(lib.nn.LazyLinear(4).state_dict())


def test_round_trip_after_initialisation():
    m = nn.LazyConv2d(3, 2)
    m(ember.randn(1, 2, 4, 4))
    fresh = nn.LazyConv2d(3, 2)
    fresh.load_state_dict(m.state_dict())
    x = ember.randn(2, 2, 5, 5)
    assert np.array_equal(np.asarray(fresh(x).detach()), np.asarray(m(x).detach()))


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_repr_before_and_after(lib):
    m = lib.nn.LazyConvTranspose2d(4, 3, stride=2, bias=False)
    before = repr(m)
    m(lib.ones(1, 2, 3, 3))
    after = repr(m)
    tm = torch.nn.LazyConvTranspose2d(4, 3, stride=2, bias=False)
    assert before == repr(tm)
    tm(torch.ones(1, 2, 3, 3))
    assert after == repr(tm)
    assert repr(lib.nn.LazyInstanceNorm3d(affine=False)) == repr(
        torch.nn.LazyInstanceNorm3d(affine=False))
    assert repr(lib.nn.LazyLinear(3)) == repr(torch.nn.LazyLinear(3))
    assert repr(lib.nn.UninitializedParameter()) == "<UninitializedParameter>"


def test_dtype_conversion_before_initialisation_is_kept():
    m = nn.LazyBatchNorm1d().double()
    assert m.weight.dtype == ember.float64 and is_lazy(m.weight)
    assert is_lazy(m.running_mean) and m.running_mean.dtype == ember.float64
    assert m.num_batches_tracked.dtype == ember.int64
    m(ember.randn(4, 3, dtype=ember.float64))
    assert {t.dtype for t in (m.weight, m.bias, m.running_mean, m.running_var)} == {
        ember.float64}
    lin = nn.LazyLinear(2, dtype=ember.float64).to(ember.float32)
    assert lin.weight.dtype == ember.float32
    assert nn.LazyLinear(2, dtype=ember.float64).weight.dtype == ember.float64


def test_deepcopy_and_pickle_of_a_lazy_module():
    m = nn.LazyLinear(3)
    c = copy.deepcopy(m)
    p = pickle.loads(pickle.dumps(m))
    c(ember.ones(2, 5))
    p(ember.ones(2, 4))
    # each copy initialised on its own; the original is untouched
    assert (c.in_features, p.in_features) == (5, 4)
    assert type(m) is nn.LazyLinear and m.has_uninitialized_params()
    m(ember.ones(1, 6))
    assert type(m) is nn.Linear and m.in_features == 6


def test_uninitialized_parameter_and_buffer():
    p = nn.UninitializedParameter(requires_grad=False, dtype=ember.float64)
    assert nn.UninitializedParameter is UninitializedParameter
    assert isinstance(p, nn.Parameter) and is_lazy(p) and not p.requires_grad
    assert p.dtype == ember.float64 and p.size() == (0,)
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and not p.requires_grad
    assert p.dtype == ember.float64 and not is_lazy(p)
    b = nn.UninitializedBuffer(persistent=False)
    assert b.persistent is False and not b.requires_grad and isinstance(b, nn.Buffer)
    b.materialize((4,), dtype=ember.float16)
    assert type(b) is nn.Buffer and b.dtype == ember.float16 and b.persistent is False
    q = copy.deepcopy(nn.UninitializedParameter(dtype=ember.float64))
    assert type(q) is UninitializedParameter and q.dtype == ember.float64
    r = pickle.loads(pickle.dumps(nn.UninitializedBuffer(dtype=ember.float64)))
    assert type(r) is UninitializedBuffer and r.dtype == ember.float64
    assert not is_lazy(ember.ones(1)) and not is_lazy(nn.Parameter(ember.ones(1)))


USES = [
    ("add", lambda p: p + 1),
    ("rsub", lambda p: 1 - p),
    ("sum", lambda p: p.sum()),
    ("view", lambda p: p.view(-1)),
    ("detach", lambda p: p.detach()),
    ("linear", lambda p: ember.nn.functional.linear(ember.ones(2, 3), p)),
    ("init", lambda p: nn.init.zeros_(p)),
    ("getitem", lambda p: p[0]),
]


@pytest.mark.parametrize("use", [u[1] for u in USES], ids=[u[0] for u in USES])
@pytest.mark.parametrize("cls", [nn.UninitializedParameter, nn.UninitializedBuffer])
def test_using_an_uninitialized_tensor_raises(cls, use):
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in"):
        use(cls())


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_what_an_uninitialized_parameter_allows_and_refuses(lib):
    m = lib.nn.LazyLinear(3)
    with pytest.raises(RuntimeError, match="Can't access the shape"):
        m.weight.shape
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized"):
        m.weight.share_memory_()
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        lib.nn.utils.parameters_to_vector(m.parameters())
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        m.requires_grad_(False)
    # no gradients yet: nothing to clip
    assert float(lib.nn.utils.clip_grad_norm_(m.parameters(), 1.0)) == 0.0
    assert m.weight.is_floating_point() and not m.weight.is_complex()
    assert m.weight.requires_grad and m.weight.is_leaf and m.weight.grad is None
    # optimizers accept uninitialized parameters (they are materialised in place)
    lib.optim.SGD(m.parameters(), lr=0.1)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_input_errors(lib):
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) "
                                           "input to LazyConv2d"):
        lib.nn.LazyConv2d(4, 3)(lib.ones(2, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        lib.nn.LazyConv1d(4, 3, groups=2)(lib.ones(1, 3, 5))


def test_a_lazy_module_that_does_not_initialise_everything():
    class Half(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.UninitializedParameter()
            self.b = nn.UninitializedParameter()

        def initialize_parameters(self, x):
            self.a.materialize(x.shape)

        def forward(self, x):
            return x

    with pytest.raises(RuntimeError, match="module Half has not been fully initialized"):
        Half()(ember.ones(2))

    class NoInit(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented "
                                                  "for NoInit"):
        NoInit()(ember.ones(2))


def test_unbatched_conv_infers_channels_from_dim_0():
    m = nn.LazyConv1d(2, 3)
    assert tuple(m(ember.ones(5, 7)).shape) == (2, 5)
    assert m.in_channels == 5 and tuple(m.weight.shape) == (2, 5, 3)


def test_to_ember_weights_are_the_loaded_ones():
    tm = torch.nn.Linear(3, 2)
    m = nn.LazyLinear(2)
    m.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    x = torch.randn(4, 3)
    assert_close(m(to_ember(x)), tm(x))
