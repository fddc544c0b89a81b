"""ember.autograd.graph.saved_tensors_hooks, save_on_cpu and disable_saved_tensors_hooks,
as PyTorch's: every tensor saved for backward goes through the pack hook, backward gets
the unpack hook's result, gradients (also of gradients) are unchanged."""
import gc
import threading
import weakref

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.autograd.graph import (disable_saved_tensors_hooks, save_on_cpu,
                                  saved_tensors_hooks)


def _to_numpy(t):
    return t.detach().numpy().copy()


def _graph(lib, x, w):
    h = (x @ w).tanh()
    return (h * h.exp()).sum() + (x.sin() / (1 + w.abs().sum())).sum()


def _values(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 3)), rng.standard_normal((3, 5))


def test_gradients_through_numpy_round_trips_match_torch():
    xv, wv = _values(0)
    x, w = (ember.tensor(v, requires_grad=True) for v in (xv, wv))
    packed = []
    with saved_tensors_hooks(lambda t: packed.append(tuple(t.shape)) or _to_numpy(t),
                             ember.from_numpy):
        y = _graph(ember, x, w)
    assert packed
    y.backward()
    tx, tw = (torch.tensor(v, requires_grad=True) for v in (xv, wv))
    _graph(torch, tx, tw).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_gradients_of_gradients_flow_through_unpacked_tensors():
    xv, wv = _values(1)
    x, w = (ember.tensor(v, requires_grad=True) for v in (xv, wv))
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda p: p):
        y = _graph(ember, x, w)
    gx, gw = ember.autograd.grad(y, (x, w), create_graph=True)
    hx, = ember.autograd.grad((gx.sum() + (gw * gw).sum()), x)
    tx, tw = (torch.tensor(v, requires_grad=True) for v in (xv, wv))
    tgx, tgw = torch.autograd.grad(_graph(torch, tx, tw), (tx, tw), create_graph=True)
    thx, = torch.autograd.grad((tgx.sum() + (tgw * tgw).sum()), tx)
    np.testing.assert_allclose(hx.numpy(), thx.numpy(), rtol=1e-10)


def test_modules_and_custom_functions_save_through_the_hooks():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return 2 * x * grad

    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 16, 2))
    x = ember.randn(2, 1, 4, 4)
    model(Square.apply(x)).sum().backward()
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    count = [0]

    def pack(t):
        count[0] += 1
        return _to_numpy(t), t.dtype

    with saved_tensors_hooks(pack, lambda p: ember.from_numpy(p[0]).to(p[1])):
        out = model(Square.apply(x)).sum()
    out.backward()
    assert count[0] >= 4
    for p, e in zip(model.parameters(), expected):
        assert ember.allclose(p.grad, e, rtol=1e-6, atol=1e-7)


def test_intermediates_are_freed_when_packed_elsewhere():
    x = ember.randn(1000, requires_grad=True)
    with saved_tensors_hooks(_to_numpy, ember.from_numpy):
        h = x.exp()
        alive = weakref.ref(h)
        y = (h * h).sum()
    del h
    gc.collect()
    assert alive() is None          # the graph kept a NumPy copy, not the tensor
    y.backward()
    assert ember.allclose(x.grad, 2 * x.exp() ** 2)


def test_hooks_run_with_grad_mode_off_and_the_innermost_applies():
    modes, used = [], []
    x = ember.ones(2, requires_grad=True)

    def pack(tag):
        return lambda t: modes.append(ember.is_grad_enabled()) or used.append(tag) or t

    with saved_tensors_hooks(pack("outer"), lambda p: p):
        with saved_tensors_hooks(pack("inner"), lambda p: p):
            (x * x).sum()
        (x * x).sum()
    assert modes and not any(modes)
    assert used[:2] == ["inner", "inner"] and used[2:] == ["outer", "outer"]


def test_unpack_must_return_a_tensor():
    x = ember.ones(2, requires_grad=True)
    with saved_tensors_hooks(lambda t: 5, lambda p: p):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result "
                                        "of type int"):
        y.backward()


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("no hooks in here"):
        with pytest.raises(RuntimeError, match="no hooks in here"):
            with saved_tensors_hooks(lambda t: t, lambda p: p):
                pass

    @disable_saved_tensors_hooks("not in this function")
    def install():
        with saved_tensors_hooks(lambda t: t, lambda p: p):
            pass

    with pytest.raises(RuntimeError, match="not in this function"):
        install()
    with saved_tensors_hooks(lambda t: t, lambda p: p):    # usable again outside
        pass


def test_hooks_belong_to_their_thread():
    packed = []
    x = ember.ones(2, requires_grad=True)
    with saved_tensors_hooks(lambda t: packed.append(1) or t, lambda p: p):
        worker = threading.Thread(target=lambda: (x * x).sum())
        worker.start()
        worker.join()
    assert packed == []


def test_save_on_cpu_on_the_cpu_gives_the_same_gradients():
    xv, wv = _values(2)
    x, w = (ember.tensor(v, requires_grad=True) for v in (xv, wv))
    with save_on_cpu():
        y = _graph(ember, x, w)
    y.backward()
    tx, tw = (torch.tensor(v, requires_grad=True) for v in (xv, wv))
    _graph(torch, tx, tw).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
