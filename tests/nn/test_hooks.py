"""Forward (pre-)hooks and full backward (pre-)hooks: order, arguments, replacement
and removal, compared with torch.nn on the same programs."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import copy_weights, assert_close


def _record_forward(lib):
    log = []
    m = lib.nn.Linear(2, 2)
    m.register_forward_pre_hook(lambda mod, args: log.append("pre1"))
    h = m.register_forward_pre_hook(lambda mod, args: log.append("pre2"))
    m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: log.append(("prekw", len(args),
                                                                      sorted(kwargs))),
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("post1", tuple(out.shape))))
    m.register_forward_hook(lambda mod, args, out: log.append("post0"), prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: log.append("postkw"),
                            with_kwargs=True)
    m(lib.ones(3, 2))
    h.remove()
    h.remove()          # removing twice is harmless
    m(lib.ones(1, 2))
    return log


def test_forward_hook_order_matches_torch():
    assert _record_forward(ember) == _record_forward(torch)


def test_forward_hooks_replace_inputs_and_outputs():
    for lib in (ember, torch):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args: args[0] * 2)          # non-tuple
        m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
        m.register_forward_hook(lambda mod, args, out: out * 10)
        assert m(lib.ones(1)).item() == 30
        k = lib.nn.Identity()
        k.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] - 1,), kwargs),
                                    with_kwargs=True)
        assert k(lib.ones(1)).item() == 0
        bad = lib.nn.Identity()
        bad.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
            bad(lib.ones(1))


def test_handle_context_manager_and_always_call():
    m = nn.Identity()
    calls = []
    with m.register_forward_hook(lambda mod, args, out: calls.append(out)):
        m(ember.ones(1))
    m(ember.ones(1))
    assert len(calls) == 1 and not m._forward_hooks

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    b = Boom()
    seen = []
    b.register_forward_hook(lambda mod, args, out: seen.append("always"), always_call=True)
    b.register_forward_hook(lambda mod, args, out: seen.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        b(ember.ones(1))
    assert seen == ["always"]


class _Two(object):
    """A module of two inputs and two outputs, built for either library."""

    @staticmethod
    def build(lib):
        class Two(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(3, 3).double()

            def forward(self, a, scale, b):
                return self.fc(a) * scale, (a * b).sum(-1)
        return Two()


def _backward_trace(lib, e_src=None):
    m = _Two.build(lib)
    if e_src is not None:
        copy_weights(e_src, m)
    log = []

    def pre_hook(mod, grad_output):
        log.append(("pre", [None if g is None else np.asarray(g.detach()).copy()
                            for g in grad_output]))
        return (grad_output[0] * 2, grad_output[1])

    def hook(mod, grad_input, grad_output):
        log.append(("full", [None if g is None else np.asarray(g.detach()).copy()
                             for g in grad_input],
                    [None if g is None else np.asarray(g.detach()).copy()
                     for g in grad_output]))
        return (grad_input[0] + 1, None, grad_input[2])

    m.register_full_backward_pre_hook(pre_hook)
    m.register_full_backward_hook(hook)
    rng = np.random.default_rng(5)
    a_np, b_np = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    a = (ember.from_numpy(a_np.copy()) if lib is ember else torch.from_numpy(a_np)).requires_grad_()
    b = (ember.from_numpy(b_np.copy()) if lib is ember else torch.from_numpy(b_np)).requires_grad_()
    y1, y2 = m(a, 3.0, b)
    (y1.sum() + (y2 * y2).sum()).backward()
    return m, log, a.grad, b.grad


def test_full_backward_hooks_multi_input_output_match_torch():
    t_mod, t_log, t_ga, t_gb = _backward_trace(torch)
    e_mod, e_log, e_ga, e_gb = _backward_trace(ember, t_mod)
    assert [entry[0] for entry in e_log] == [entry[0] for entry in t_log] == ["pre", "full"]
    for e_entry, t_entry in zip(e_log, t_log):
        for e_list, t_list in zip(e_entry[1:], t_entry[1:]):
            assert len(e_list) == len(t_list)
            for eg, tg in zip(e_list, t_list):
                assert (eg is None) == (tg is None)
                if eg is not None:
                    np.testing.assert_allclose(eg, tg, rtol=1e-10)
    # the replaced gradients reached the inputs
    assert_close(e_ga, t_ga)
    assert_close(e_gb, t_gb)
    assert_close(e_mod.fc.weight.grad, t_mod.fc.weight.grad)


def test_full_backward_hook_single_tensor_and_order():
    for lib in (ember, torch):
        log = []
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda mod, gi, go: log.append((lib.__name__, "h1")))
        m.register_full_backward_hook(lambda mod, gi, go: log.append((lib.__name__, "h0")),
                                      prepend=True)
        m.register_full_backward_pre_hook(lambda mod, go: log.append((lib.__name__, "pre")))
        x = lib.ones(1, 2, requires_grad=True)
        out = m(x)
        assert type(out) is (ember.Tensor if lib is ember else torch.Tensor)
        out.sum().backward()
        assert [e[1] for e in log] == ["pre", "h0", "h1"]


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_when_no_input_requires_grad():
    results = {}
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, tuple(go[0].shape))))
        m(lib.ones(3, 2)).sum().backward()
        results[lib.__name__] = seen
        assert m.weight.grad is not None
    assert results["ember"] == [((None,), (3, 2))] and results["torch"] == [((None,), (3, 2))]
    m = nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: None)
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                         "computed with respect to module outputs"):
        m(ember.ones(3, 2)).sum().backward()
    m = nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: (ember.ones(1),))
    with pytest.raises(RuntimeError, match="where no input requires gradient should always "
                                           "return None"):
        m(ember.ones(3, 2)).sum().backward()


def test_backward_hook_wrong_length_raises():
    m = nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: (None, None))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of "
                                           "grad_input, got 2, but expected 1"):
        m(ember.ones(1, 2, requires_grad=True)).sum().backward()
    p = nn.Linear(2, 2)
    p.register_full_backward_pre_hook(lambda mod, go: (None, None))
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of "
                                           "grad_output, got 2, but expected 1"):
        p(ember.ones(1, 2, requires_grad=True)).sum().backward()


def test_backward_hooks_removed_and_not_called_under_no_grad():
    m = nn.Linear(2, 2)
    calls = []
    h = m.register_full_backward_hook(lambda mod, gi, go: calls.append(1))
    x = ember.ones(1, 2, requires_grad=True)
    with ember.no_grad():
        y = m(x)
    assert y.grad_fn is None
    h.remove()
    m(x).sum().backward()
    assert calls == []


def test_backward_hook_sees_gradient_through_sequential():
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
    e = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).double()
    copy_weights(t, e)
    grads = {}
    for lib, model in (("ember", e), ("torch", t)):
        grads[lib] = []
        model[1].register_full_backward_hook(
            lambda mod, gi, go, out=grads[lib]: out.append(np.asarray(gi[0].detach()).copy()))
    x = np.arange(6.0).reshape(2, 3)
    e(ember.from_numpy(x.copy()).requires_grad_()).pow(2).sum().backward()
    t(torch.from_numpy(x).requires_grad_()).pow(2).sum().backward()
    np.testing.assert_allclose(grads["ember"][0], grads["torch"][0], rtol=1e-10)


def test_non_tensor_output_warns():
    class Dicty(nn.Module):
        def forward(self, x):
            return {"x": x}
    m = Dicty()
    m.register_full_backward_hook(lambda *a: None)
    with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple"):
        m(ember.ones(1, requires_grad=True))


def _global_trace(lib):
    mod = lib.nn.modules.module
    log = []
    handles = [
        mod.register_module_forward_pre_hook(lambda m, a: log.append(("gpre", type(m).__name__))),
        mod.register_module_forward_hook(lambda m, a, o: log.append(("gpost", type(m).__name__))),
        mod.register_module_full_backward_pre_hook(
            lambda m, go: log.append(("gbpre", type(m).__name__))),
        mod.register_module_full_backward_hook(
            lambda m, gi, go: log.append(("gbwd", type(m).__name__))),
    ]
    try:
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Identity())
        seq[0].register_forward_pre_hook(lambda m, a: log.append(("own_pre", "Linear")))
        seq(lib.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for h in handles:
            h.remove()
    seq(lib.ones(1, 2))
    return log


def test_global_module_hooks_match_torch():
    assert _global_trace(ember) == _global_trace(torch)


def test_backward_hooks_with_namedtuple_output_and_repeated_input():
    from collections import namedtuple
    Pair = namedtuple("Pair", ["first", "second"])

    class Split(nn.Module):
        def forward(self, a, b):
            return Pair(a * 2, a * b)

    m = Split()
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(
        ([np.asarray(g).tolist() for g in gi], [np.asarray(g).tolist() for g in go])))
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    out = m(x, x)
    assert type(out) is Pair
    (out.first.sum() + out.second.sum()).backward()
    # d/da = 2 + b, d/db = a, both reaching x
    assert seen == [([[3.0, 4.0], [1.0, 2.0]], [[1.0, 1.0], [1.0, 1.0]])]
    assert np.asarray(x.grad).tolist() == [4.0, 6.0]
