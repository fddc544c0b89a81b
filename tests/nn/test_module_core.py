"""Module registration, traversal, modes, conversions and repr, against torch.nn."""
import copy
import pickle

import pytest
import torch

import ember
from ember import nn
from nn_helpers import ember_repr, same


def _build(lib):
    """A nested model with parameters, buffers (persistent or not) and shared modules."""
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(4, 4)
            self.register_buffer("running", lib.zeros(4))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.scale = lib.nn.Parameter(lib.ones(1))

        def forward(self, x):
            return self.fc(x) * self.scale + self.running

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = lib.nn.Linear(3, 4)
            self.blocks = lib.nn.Sequential(Block(), Block())
            self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(4, 2), "b": lib.nn.Identity()})
            self.register_buffer("steps", lib.tensor(0))
            self.register_parameter("unused", None)

        def forward(self, x):
            return self.heads["a"](self.blocks(self.stem(x)))

    return Net()


def test_named_members_match_torch():
    e, t = _build(ember), _build(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert ([n for n, _ in e.named_parameters(prefix="m", recurse=False)]
            == [n for n, _ in t.named_parameters(prefix="m", recurse=False)])
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert all(isinstance(p, nn.Parameter) for p in e.parameters())


def test_shared_parameters_and_modules_deduplicated():
    for lib in (ember, torch):
        shared = lib.nn.Linear(2, 2)
        seq = lib.nn.Sequential(shared, shared)
        assert len(list(seq.parameters())) == 2
        assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
        assert len(list(seq.named_modules(remove_duplicate=False))) == 3
    shared = nn.Linear(2, 2)
    assert [n for n, _ in nn.Sequential(shared, shared).named_modules()] == ["", "0"]


def test_modules_remove_duplicate_matches_torch():
    def build(lib):
        shared = lib.nn.Linear(2, 2)
        inner = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        outer = lib.nn.Sequential(inner, shared, inner)
        outer.add_module("again", outer[1])
        return outer

    e, t = build(ember), build(torch)

    def kinds(modules):
        return [type(m).__name__ for m in modules]

    for remove_duplicate in (True, False):
        ours = list(e.modules(remove_duplicate=remove_duplicate))
        theirs = list(t.modules(remove_duplicate=remove_duplicate))
        assert kinds(ours) == kinds(theirs)
        assert ours == [m for _, m in e.named_modules(remove_duplicate=remove_duplicate)]
    # the root, inner (twice, with its three children each time), shared and "again"
    assert len(list(e.modules(remove_duplicate=False))) == 11
    assert len(list(e.modules(False))) == 11 and len(list(e.modules())) == 4
    assert list(e.modules()) == list(e.modules(remove_duplicate=True))


def test_setattr_getattr_delattr():
    m = nn.Module()
    m.w = nn.Parameter(ember.ones(2))
    m.register_buffer("b", ember.zeros(2))
    m.child = nn.Linear(2, 2)
    m.plain = 3
    assert "w" in m._parameters and "b" in m._buffers and "child" in m._modules
    assert "plain" in m.__dict__
    m.b = ember.ones(2)       # assigning a tensor to a buffer name keeps it a buffer
    assert same(m._buffers["b"], ember.ones(2))
    m.w = None
    assert m.w is None and "w" in m._parameters
    with pytest.raises(TypeError, match="cannot assign 'ember.FloatTensor' as parameter 'w'"):
        m.w = ember.ones(2)
    with pytest.raises(TypeError, match="as child module 'child'"):
        m.child = 3
    del m.child
    assert "child" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'child'"):
        m.child
    m.x = nn.Linear(1, 1)
    m.x = nn.Parameter(ember.ones(1))    # replacing a module by a parameter
    assert "x" not in m._modules and "x" in m._parameters
    assert "w" in dir(m) and "b" in dir(m)


def test_registration_errors_like_torch():
    for lib, name in ((ember, "ember"), (torch, "torch")):
        m = lib.nn.Module()
        with pytest.raises(KeyError, match="name can.*t contain"):
            m.register_parameter("a.b", None)
        with pytest.raises(KeyError, match="empty string"):
            m.register_buffer("", None)
        with pytest.raises(TypeError, match="parameter name should be a string"):
            m.register_parameter(1, None)
        with pytest.raises(TypeError, match=f"cannot assign '{name}.FloatTensor' object to "
                                            "parameter 'p'"):
            m.register_parameter("p", lib.ones(1))
        with pytest.raises(TypeError, match="is not a Module subclass"):
            m.add_module("c", 3)
        m.attr = 1
        with pytest.raises(KeyError, match="attribute 'attr' already exists"):
            m.register_buffer("attr", None)
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_non_leaf_parameter_rejected():
    p = nn.Parameter(ember.ones(1))
    q = nn.Parameter(ember.ones(1))
    q._set_grad_fn((p * 2).grad_fn)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'q'"):
        nn.Module().register_parameter("q", q)


def test_get_submodule_parameter_buffer():
    e = _build(ember)
    assert e.get_submodule("blocks.1.fc") is e.blocks[1].fc
    assert e.get_submodule("") is e
    assert e.get_parameter("blocks.0.scale") is e.blocks[0].scale
    assert e.get_buffer("blocks.0.running") is e.blocks[0].running
    with pytest.raises(AttributeError, match="Linear has no attribute `nope`"):
        e.get_submodule("stem.nope")
    with pytest.raises(AttributeError, match="`running` is not an nn.Parameter"):
        e.get_parameter("blocks.0.running")


def test_train_eval_propagate():
    e = _build(ember)
    assert all(m.training for m in e.modules())
    assert e.eval() is e
    assert not any(m.training for m in e.modules())
    e.blocks.train()
    assert not e.training and e.blocks[1].fc.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        e.train(1)


def test_zero_grad_and_requires_grad_():
    m = nn.Linear(3, 2)
    m(ember.randn(4, 3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert same(m.weight.grad, ember.zeros(2, 3))
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_dtype_keeps_parameter_identity():
    e = _build(ember)
    w = e.stem.weight
    e.stem.weight.grad = ember.ones(4, 3)
    assert e.double() is e
    assert e.stem.weight is w and w.dtype == ember.float64 and w.grad.dtype == ember.float64
    assert isinstance(e.stem.weight, nn.Parameter) and e.stem.weight.requires_grad
    assert e.blocks[0].running.dtype == ember.float64
    assert e.steps.dtype == ember.int64          # integer buffers are left alone
    e.to(ember.float32)
    assert w.dtype == ember.float32
    e.half()
    assert w.dtype == ember.float16
    e.to("cpu", dtype=ember.float32)
    assert w.dtype == ember.float32 and w.device.type == "cpu"
    e.to(ember.zeros(1, dtype=ember.float64))
    assert w.dtype == ember.float64
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
        e.to(ember.int32)
    e.float()
    out = e(ember.randn(2, 3))
    assert out.dtype == ember.float32


def test_apply_order_matches_torch():
    seen = {}
    for lib in (ember, torch):
        names = []
        _build(lib).apply(lambda m: names.append(type(m).__name__))
        seen[lib.__name__] = names
    assert seen["ember"] == seen["torch"]


def test_repr_matches_torch():
    e, t = _build(ember), _build(torch)
    assert repr(e) == ember_repr(repr(t))
    for lib_mods in [(nn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)),
                     (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)),
                     (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
                     (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
                     (nn.Identity(), torch.nn.Identity()),
                     (nn.Sequential(), torch.nn.Sequential()),
                     (nn.ModuleList(), torch.nn.ModuleList())]:
        assert repr(lib_mods[0]) == repr(lib_mods[1])
    e_list = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Identity(), nn.Linear(2, 2)])
    t_list = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2),
                                  torch.nn.Identity(), torch.nn.Linear(2, 2)])
    assert repr(e_list) == repr(t_list)
    e_p = nn.ParameterList([ember.ones(2, 3), 5])
    t_p = torch.nn.ParameterList([torch.ones(2, 3), 5])
    assert repr(e_p) == ember_repr(repr(t_p))
    e_d = nn.ParameterDict({"b": ember.ones(2), "a": ember.zeros(3, dtype=ember.float64)})
    t_d = torch.nn.ParameterDict({"b": torch.ones(2), "a": torch.zeros(3, dtype=torch.float64)})
    assert repr(e_d) == ember_repr(repr(t_d))

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(1, 1)

        def extra_repr(self):
            return "k=1\nj=2"
    assert repr(WithExtra()) == ("WithExtra(\n  k=1\n  j=2\n  (inner): Linear(in_features=1, "
                                 "out_features=1, bias=True)\n)")


def test_parameter_semantics():
    data = ember.ones(2, 3)
    p = nn.Parameter(data)
    t = torch.nn.Parameter(torch.ones(2, 3))
    assert isinstance(p, ember.Tensor) and p.is_leaf and p.requires_grad
    assert repr(p) == ember_repr(repr(t))
    data[0, 0] = 7                      # shares storage
    assert p[0, 0].item() == 7
    assert type(p * 2) is ember.Tensor and type(p.detach()) is ember.Tensor
    assert not nn.Parameter(ember.ones(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.data_ptr() != p.data_ptr()
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and same(r, p)
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        nn.Parameter(ember.ones(2, dtype=ember.int64))
    assert not nn.Parameter(ember.ones(2, dtype=ember.int64), requires_grad=False).requires_grad


def test_module_deepcopy_and_pickle():
    e = _build(ember)
    c = copy.deepcopy(e)
    assert c.stem.weight is not e.stem.weight
    assert same(c.stem.weight, e.stem.weight)
    x = ember.randn(2, 3)
    assert same(c(x), e(x))
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in e.named_parameters()]


def test_forward_unimplemented():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required '
                                                  '"forward" function'):
        nn.Module()(ember.ones(1))


def test_module_pickle_roundtrip():
    e = nn.Sequential(nn.Linear(3, 4), nn.ModuleDict({"a": nn.Linear(4, 2)})["a"])
    e.register_buffer("steps", ember.tensor(3))
    r = pickle.loads(pickle.dumps(e))
    assert [n for n, _ in r.named_parameters()] == [n for n, _ in e.named_parameters()]
    assert [n for n, _ in r.named_buffers()] == ["steps"]
    assert type(r[0].weight) is nn.Parameter and r[0].weight.requires_grad
    x = ember.randn(2, 3)
    assert same(r(x), e(x))


def test_zero_grad_detaches_graph_grads():
    m = nn.Linear(2, 1)
    x = ember.ones(1, 2)
    (m(x) ** 2).sum().backward(create_graph=True)
    assert m.weight.grad.grad_fn is not None
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and g.grad_fn is None and not g.requires_grad
    assert same(g, ember.zeros(1, 2))


def test_cpu_type_and_dir():
    m = nn.Linear(2, 2)
    w = m.weight
    assert m.cpu() is m and m.weight is w
    m.type(ember.float64)
    assert w.dtype == ember.float64
    names = dir(m)
    assert {"weight", "bias", "forward", "in_features", "training"} <= set(names)
    assert names == sorted(names)
    assert not any(n[0].isdigit() for n in dir(nn.Sequential(nn.Identity())))


def test_module_init_rejects_arguments():
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        nn.Module(foo=1)


def test_buffer_assignment_registers_like_torch():
    results = {}
    for lib in (ember, torch):
        m = lib.nn.Module()
        m.mean = lib.nn.Buffer(lib.zeros(2))
        m.scratch = lib.nn.Buffer(lib.ones(1), persistent=False)
        m.scratch = lib.ones(3)                # stays non-persistent
        m.plain = lib.ones(1)                  # a plain tensor attribute is no buffer
        m.register_buffer("empty", None)
        with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'empty'"):
            m.empty = 3
        results[lib.__name__] = ([n for n, _ in m.named_buffers()], list(m.state_dict()),
                                 tuple(m.scratch.shape))
    assert results["ember"] == results["torch"]
    data = ember.ones(2)
    b = nn.Buffer(data)
    data[0] = 4
    assert b[0].item() == 4 and isinstance(b, ember.Tensor) and not b.requires_grad
    assert type(b + 1) is ember.Tensor
    r = pickle.loads(pickle.dumps(nn.Buffer(ember.ones(1), persistent=False)))
    assert type(r) is nn.Buffer and r.persistent is False
