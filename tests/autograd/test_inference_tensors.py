"""Inference tensors, against torch: what ember.inference_mode makes, what is refused of
such tensors outside the mode (in-place writes through every path, out=, saving for
backward, requires_grad, the version counter), what stays allowed, views, clones,
nesting, other threads and parameters made inside."""
import threading

import numpy as np
import pytest
import torch

import ember

WRITES = {
    "add_": lambda L, x, n: x.add_(1),
    "view mul_": lambda L, x, n: x[:2].mul_(2),
    "setitem": lambda L, x, n: x.__setitem__(0, 5.0),
    "fill_": lambda L, x, n: x.fill_(0),
    "zero_": lambda L, x, n: x.zero_(),
    "copy_": lambda L, x, n: x.copy_(L.zeros(3)),
    "add out": lambda L, x, n: L.add(n, n, out=x),
    "exp out": lambda L, x, n: L.exp(n, out=x),
    "matmul out": lambda L, x, n: L.matmul(L.ones(3, 3), n, out=x),
    "sum out": lambda L, x, n: L.sum(L.ones(2, 3), 0, out=x),
    "normal_": lambda L, x, n: x.normal_(),
    "index_put_": lambda L, x, n: x.index_put_((L.tensor([0]),), L.tensor(1.0)),
    "scatter_": lambda L, x, n: x.scatter_(0, L.tensor([1]), L.tensor([2.0])),
    "clamp_": lambda L, x, n: x.clamp_(0, 1),
    "version": lambda L, x, n: x._version,
    "requires_grad_": lambda L, x, n: x.requires_grad_(),
    "saved for backward": lambda L, x, n: (L.ones(3, requires_grad=True) * x).sum().backward(),
    "not saved": lambda L, x, n: (L.ones(3, requires_grad=True) + x).sum().backward(),
    "clone": lambda L, x, n: (L.ones(3, requires_grad=True) * x.clone()).sum().backward(),
    "read": lambda L, x, n: (x * 2).sum().item(),
}


def _outcome(lib, name):
    with lib.inference_mode():
        x = lib.ones(3)
    normal = lib.ones(3)
    try:
        WRITES[name](lib, x, normal)
    except RuntimeError as err:
        return str(err).split(".")[0]
    return "ok"


@pytest.mark.parametrize("name", list(WRITES))
def test_inference_tensor_rules_as_torch(name):
    assert _outcome(ember, name) == _outcome(torch, name)


def test_which_tensors_are_inference_tensors():
    def flags(lib):
        normal = lib.ones(3)
        with lib.inference_mode():
            x = lib.ones(3)
            made = (x, x[:2], x * 2, normal[:2], normal * 2, x.clone())
            with lib.inference_mode(False):
                inner = lib.ones(1)
            lin = lib.nn.Linear(2, 2)
            normal.add_(1)                      # normal tensors stay writable inside
            x.add_(1)                           # and inference tensors too
        with lib.no_grad():
            ng = lib.ones(1)
        result = []

        def worker():
            result.append(lib.ones(1).is_inference())

        with lib.inference_mode():
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        return ([t.is_inference() for t in made] + [inner.is_inference(), ng.is_inference(),
                lin.weight.is_inference(), normal.is_inference(), x.clone().is_inference()]
                + result)

    assert flags(ember) == flags(torch)


def test_inference_params_refuse_an_optimizer_step():
    for lib in (ember, torch):
        with lib.inference_mode():
            w = lib.nn.Parameter(lib.ones(3))
        w.grad = lib.ones(3)
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
            lib.optim.SGD([w], lr=0.1).step()
        with lib.inference_mode():
            np.testing.assert_array_equal(lib.ones(2).numpy(), np.ones(2))
