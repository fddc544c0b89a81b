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


def _with_extra_state(lib):
    class Counter(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(1, 1)
            self.calls = 3

        def get_extra_state(self):
            return {"calls": self.calls}

        def set_extra_state(self, state):
            self.calls = state["calls"]

    return lib.nn.Sequential(Counter())


def test_extra_state_matches_torch():
    e, t = _with_extra_state(ember), _with_extra_state(torch)
    assert list(e.state_dict()) == list(t.state_dict()) == ["0._extra_state", "0.fc.weight",
                                                            "0.fc.bias"]
    state = e.state_dict()
    state["0._extra_state"] = {"calls": 9}
    e.load_state_dict(state)
    assert e[0].calls == 9
    del state["0._extra_state"]
    t_state = {k: torch.zeros(1, 1) if k.endswith("weight") else torch.zeros(1) for k in state}
    assert _error(ember, e, state) == _error(torch, t, t_state)
    plain = nn.Linear(1, 1)
    bad = dict(plain.state_dict(), _extra_state=1)
    t_plain = torch.nn.Linear(1, 1)
    t_bad = dict(t_plain.state_dict(), _extra_state=1)
    assert _error(ember, plain, bad) == _error(torch, t_plain, t_bad)


def _hook_trace(lib):
    log = []
    model = lib.nn.Sequential(lib.nn.Linear(1, 1), lib.nn.Linear(1, 1))
    model.register_state_dict_pre_hook(lambda m, prefix, keep: log.append(("pre", prefix)))
    model[1].register_state_dict_pre_hook(lambda m, prefix, keep: log.append(("pre1", prefix)))
    model[1].register_state_dict_post_hook(
        lambda m, sd, prefix, meta: log.append(("post1", sorted(sd))))
    model.register_load_state_dict_pre_hook(
        lambda m, sd, prefix, meta, strict, missing, unexpected, errors:
        log.append(("lpre", prefix, sorted(sd))))

    def post(m, keys):
        log.append(("lpost", list(keys.missing_keys), list(keys.unexpected_keys)))
        keys.unexpected_keys.clear()            # the hook may forgive keys in place
    model.register_load_state_dict_post_hook(post)
    state = model.state_dict()
    state["junk"] = state["0.bias"]
    model.load_state_dict(state)
    return log


def test_state_dict_hooks_match_torch():
    assert _hook_trace(ember) == _hook_trace(torch)
    m = nn.Linear(1, 1)
    m.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()


def test_consume_prefix_matches_torch_on_a_wrapped_models_state_dict():
    from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present as t_consume
    from ember.nn.modules.utils import consume_prefix_in_state_dict_if_present as e_consume

    def wrapped(lib):
        class Wrapper(lib.nn.Module):  # as DataParallel: the model under "module"
            def __init__(self):
                super().__init__()
                self.module = _build(lib)
        return Wrapper()

    t_wrapper, e_wrapper = wrapped(torch), wrapped(ember)
    e_wrapper.load_state_dict(OrderedDict(
        (k, to_ember(v)) for k, v in t_wrapper.state_dict().items()))
    t_state, e_state = t_wrapper.state_dict(), e_wrapper.state_dict()
    t_state["extra"] = torch.zeros(1)  # a key without the prefix stays; stripped keys move after it
    e_state["extra"] = ember.zeros(1)
    assert t_consume(t_state, "module.") is None and e_consume(e_state, "module.") is None
    assert list(e_state) == list(t_state)
    assert list(e_state._metadata) == list(t_state._metadata)
    assert e_state._metadata[""] == {"version": 1}  # the wrapped model is the root now
    e_state.pop("extra")
    e = _build(ember)
    assert repr(e.load_state_dict(e_state)) == "<All keys matched successfully>"
    for k, v in e.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), t_wrapper.module.state_dict()[k].numpy())
    plain = {"a.weight": ember.ones(1), "module_b": ember.ones(1)}  # no metadata, no match
    e_consume(plain, "module.")
    assert list(plain) == ["a.weight", "module_b"]


@pytest.mark.parametrize("name, n", [("_single", 1), ("_pair", 2), ("_triple", 3),
                                     ("_quadruple", 4)])
def test_ntuple_helpers_match_torch(name, n):
    import torch.nn.modules.utils as t_utils
    e_helper, t_helper = getattr(nn.modules.utils, name), getattr(t_utils, name)
    for value in (3, 0.5, [1, 2], (4, 5, 6), range(2)):
        assert e_helper(value) == t_helper(value)
    assert e_helper(3) == (3,) * n and e_helper.__name__ == name
    assert nn.modules.utils._reverse_repeat_tuple((1, 2), 2) == \
        t_utils._reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)
