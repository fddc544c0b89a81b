"""state_dict / load_state_dict against torch.nn on the same nested models."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import to_ember, same


def _build(lib):
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)
            self.register_buffer("mean", lib.zeros(3))
            self.register_buffer("tmp", lib.zeros(3), persistent=False)

        def forward(self, x):
            return self.fc(x) - self.mean

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Linear(2, 3, bias=False)
            self.body = lib.nn.Sequential(Block(), lib.nn.Identity(), Block())
            self.gate = lib.nn.Parameter(lib.ones(1))
            self.register_buffer("count", lib.tensor(0))

        def forward(self, x):
            return self.body(self.embed(x)) * self.gate

    return Net()


def _torch_state_in_ember(t_model):
    return OrderedDict((k, to_ember(v)) for k, v in t_model.state_dict().items())


def test_keys_order_values_match_torch():
    t = _build(torch)
    e = _build(ember)
    result = e.load_state_dict(_torch_state_in_ember(t))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == repr(t.load_state_dict(t.state_dict())) == \
        "<All keys matched successfully>"
    e_state, t_state = e.state_dict(), t.state_dict()
    assert isinstance(e_state, OrderedDict)
    assert list(e_state) == list(t_state)
    for k in t_state:
        np.testing.assert_array_equal(np.asarray(e_state[k]), t_state[k].numpy())
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(e(ember.from_numpy(x)).detach()),
                               t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_detached_unless_keep_vars():
    e = _build(ember)
    state = e.state_dict()
    w = state["embed.weight"]
    assert type(w) is ember.Tensor and not w.requires_grad
    assert w.data_ptr() == e.embed.weight.data_ptr()       # a view, not a copy
    kept = e.state_dict(keep_vars=True)
    assert kept["embed.weight"] is e.embed.weight
    prefixed = e.state_dict(prefix="model.")
    assert all(k.startswith("model.") for k in prefixed)
    dest = OrderedDict()
    assert e.state_dict(destination=dest) is dest and len(dest) == len(state)


def test_load_copies_into_existing_parameters():
    e = _build(ember)
    w = e.embed.weight
    new = {k: v.clone() + 1 for k, v in e.state_dict().items()}
    e.load_state_dict(new)
    assert e.embed.weight is w and same(w, new["embed.weight"])
    assert w.requires_grad and w.is_leaf


def test_load_assign_uses_given_tensors():
    e = _build(ember)
    new = {k: v.clone() for k, v in e.state_dict().items()}
    e.load_state_dict(new, assign=True)
    assert isinstance(e.embed.weight, nn.Parameter) and e.embed.weight.requires_grad
    assert e.embed.weight.data_ptr() == new["embed.weight"].data_ptr()
    assert e.count is new["count"]


def _error(lib, model, state, **kw):
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state, **kw)
    return str(info.value)


def test_strict_errors_match_torch():
    t, e = _build(torch), _build(ember)
    t_state = t.state_dict()
    del t_state["body.0.fc.bias"]
    t_state["body.2.extra"] = torch.zeros(1)
    t_state["nothere.weight"] = torch.zeros(1)
    e_state = OrderedDict((k, to_ember(v)) for k, v in t_state.items())
    t_msg = _error(torch, t, t_state)
    e_msg = _error(ember, e, e_state)
    assert e_msg == t_msg
    assert e_msg.startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s)")
    # non-strict: the keys are reported, nothing raises
    t_res = t.load_state_dict(t_state, strict=False)
    e_res = e.load_state_dict(e_state, strict=False)
    assert e_res.missing_keys == t_res.missing_keys == ["body.0.fc.bias"]
    assert e_res.unexpected_keys == t_res.unexpected_keys


def test_size_mismatch_error_matches_torch():
    t, e = _build(torch), _build(ember)
    t_state = t.state_dict()
    t_state["body.2.fc.weight"] = torch.zeros(3, 4)
    e_state = OrderedDict((k, to_ember(v)) for k, v in t_state.items())
    t_msg = _error(torch, t, t_state)
    e_msg = _error(ember, e, e_state)
    assert e_msg == t_msg.replace("torch.Size", "ember.Size")
    # size mismatches are errors even when not strict
    assert _error(ember, e, e_state, strict=False) == e_msg


def test_non_tensor_value_and_type_checks():
    e = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias", expected '
                                           "ember.Tensor"):
        e.load_state_dict({"weight": ember.zeros(2, 2), "bias": [1.0, 2.0]})
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        e.load_state_dict([("weight", ember.zeros(2, 2))])


def test_load_casts_dtype_like_copy():
    e = nn.Linear(2, 2)
    e.load_state_dict({"weight": ember.ones(2, 2, dtype=ember.float64),
                       "bias": ember.zeros(2, dtype=ember.float64)})
    assert e.weight.dtype == ember.float32 and same(e.weight, ember.ones(2, 2))


def test_non_persistent_and_none_entries_skipped():
    m = nn.Module()
    m.register_buffer("keep", ember.ones(1))
    m.register_buffer("drop", ember.ones(1), persistent=False)
    m.register_buffer("none", None)
    m.register_parameter("nothing", None)
    assert list(m.state_dict()) == ["keep"]
    m.load_state_dict({"keep": ember.zeros(1)})
    m.drop = ember.ones(2)              # still a non-persistent buffer after reassignment
    assert list(m.state_dict()) == ["keep"]
    m.register_buffer("drop", ember.ones(1), persistent=True)
    assert list(m.state_dict()) == ["keep", "drop"]
