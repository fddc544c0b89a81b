"""Shared helpers of the autograd tests: the same computation run on ember and on
PyTorch (the oracle), and its gradients compared."""
import numpy as np
import torch

import ember


def leaves(lib, arrays, requires_grad=True):
    """Leaf tensors of ``lib`` (ember or torch) holding copies of ``arrays``; arrays with a
    non-float dtype (indices, masks) are passed as tensors that do not require grad."""
    out = []
    for a in arrays:
        if not isinstance(a, np.ndarray):
            out.append(a)
            continue
        t = lib.tensor(a.copy())
        if a.dtype.kind in "fc" and requires_grad:
            t.requires_grad_(True)
        out.append(t)
    return out


def _outputs(result):
    return [r for r in (result if isinstance(result, (tuple, list)) else (result,))
            if isinstance(r, (ember.Tensor, torch.Tensor)) and (r.is_floating_point() or
                                                               r.is_complex())]


def assert_grads_match_torch(fn, *arrays, seed=0, rtol=1e-7, atol=1e-9, layout=None):
    """Run ``fn(lib, *leaves)`` with ``lib`` = ember and torch on the same float64 data,
    backpropagate the same random output gradients, and compare the values and every
    input's gradient.  ``layout(lib, t)`` may turn each leaf into a view (transposed,
    strided, ...) before ``fn`` sees it."""
    rng = np.random.default_rng(seed)
    results = {}
    for lib in (ember, torch):
        xs = leaves(lib, arrays)
        args = [layout(lib, x) if layout is not None and hasattr(x, "requires_grad") and
                x.requires_grad else x for x in xs]
        outs = _outputs(fn(lib, *args))
        results[lib] = (xs, outs)
    e_xs, e_outs = results[ember]
    t_xs, t_outs = results[torch]
    assert len(e_outs) == len(t_outs)
    grads = []
    for o in t_outs:
        g = rng.standard_normal(tuple(o.shape))
        if o.is_complex():
            g = g + 1j * rng.standard_normal(tuple(o.shape))
        grads.append(g.astype(np.complex128 if o.is_complex() else np.float64))
    for eo, to in zip(e_outs, t_outs):
        np.testing.assert_allclose(np.asarray(eo.detach()), to.detach().resolve_conj().numpy(),
                                   rtol=rtol, atol=atol)
    diff_e = [(o, ember.tensor(g)) for o, g in zip(e_outs, grads) if o.requires_grad]
    diff_t = [(o, torch.tensor(g)) for o, g in zip(t_outs, grads) if o.requires_grad]
    assert len(diff_e) == len(diff_t), "requires_grad of the outputs differs from torch"
    if diff_t:
        torch.autograd.backward([o for o, _ in diff_t], [g for _, g in diff_t])
        ember.autograd.backward([o for o, _ in diff_e], [g for _, g in diff_e])
    for k, (ex, tx) in enumerate(zip(e_xs, t_xs)):
        if not isinstance(tx, torch.Tensor) or not tx.requires_grad:
            continue
        if tx.grad is None:
            assert ex.grad is None, f"input {k}: torch has no gradient, ember has one"
            continue
        assert ex.grad is not None, f"input {k}: ember has no gradient"
        assert tuple(ex.grad.shape) == tuple(tx.grad.shape)
        np.testing.assert_allclose(np.asarray(ex.grad), tx.grad.resolve_conj().numpy(),
                                   rtol=rtol, atol=atol, err_msg=f"gradient of input {k}")


def check_gradients(fn, *arrays, gradgrad=True, eps=1e-6, atol=1e-5, rtol=1e-3):
    """``ember.autograd.gradcheck`` (and gradgradcheck) of ``fn(ember, *leaves)``."""
    xs = leaves(ember, arrays)
    assert ember.autograd.gradcheck(lambda *a: fn(ember, *a), tuple(xs), eps=eps, atol=atol,
                                    rtol=rtol)
    if gradgrad:
        assert ember.autograd.gradgradcheck(lambda *a: fn(ember, *a), tuple(xs), eps=eps,
                                            atol=atol, rtol=rtol)


def _strided(lib, t):
    """The same values, every other element of a larger buffer."""
    return t.unsqueeze(-1).expand(*t.shape, 2).clone()[..., 0]


# layouts a test can run its inputs through (the op must give the same gradients);
# negative strides have no torch counterpart: test them with check_gradients and x[::-1]
LAYOUTS = {
    "contiguous": None,
    "transposed": lambda lib, t: t.mT.contiguous().mT if t.dim() >= 2 else t,
    "strided": _strided,
}
