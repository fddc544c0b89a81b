"""Shared helper of the ember.nn.functional tests: one computation run with
ember.nn.functional and torch.nn.functional on the same data, values and input
gradients compared."""
import warnings

import numpy as np
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


class Const:
    """A float array passed as a tensor that does not require grad (class weights, ...)."""

    def __init__(self, array):
        self.array = array


def _leaf(lib, a, dtype):
    if isinstance(a, Const):
        return lib.tensor(a.array.astype(dtype))
    if not isinstance(a, np.ndarray):
        return a
    if a.dtype.kind == "f":
        t = lib.tensor(a.astype(dtype))
        return t.requires_grad_(True)
    return lib.tensor(a)


def compare(fn, *arrays, dtype=np.float64, seed=0, tol=None):
    """Run ``fn(F, lib, *leaves)`` with ember and torch; compare outputs and the gradients of
    every float leaf under the same random output gradient."""
    tol = tol or TOL[dtype]
    runs = {}
    for functional, lib in ((F, ember), (TF, torch)):
        leaves = [_leaf(lib, a, dtype) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs[lib] = leaves, fn(functional, lib, *leaves)
    (e_leaves, e_out), (t_leaves, t_out) = runs[ember], runs[torch]
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert str(e_out.dtype).split(".")[-1] == str(t_out.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(e_out.detach()), t_out.detach().numpy(), **tol,
                               equal_nan=True)
    if not t_out.requires_grad:
        return
    grad = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(grad).to(t_out.dtype))
    e_out.backward(ember.tensor(grad).to(e_out.dtype))
    for e, t in zip(e_leaves, t_leaves):
        if not isinstance(t, torch.Tensor) or not t.requires_grad:
            continue
        t_grad = np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy()
        e_grad = np.zeros(tuple(e.shape)) if e.grad is None else np.asarray(e.grad)
        np.testing.assert_allclose(e_grad, t_grad, **tol, equal_nan=True)
