"""Helpers of the shape/indexing tests: one op run on ember and torch, with ember's inputs
in several memory layouts holding the same values."""
import numpy as np
import torch

import ember


def _transposed(a):
    return ember.tensor(np.ascontiguousarray(a.T)).T if a.ndim >= 2 else ember.tensor(a)


def _sliced(a):
    return ember.tensor(np.repeat(a, 2, axis=-1))[..., ::2] if a.ndim else ember.tensor(a)


def _flipped(a):
    return ember.tensor(np.ascontiguousarray(a[::-1]))[::-1] if a.ndim else ember.tensor(a)


def _expanded(a):
    # a zero-stride view: the values repeat along dim 0, so the same NumPy data is used
    return ember.tensor(np.ascontiguousarray(a[:1])).expand(a.shape) if a.ndim else \
        ember.tensor(a)


LAYOUTS = {"contiguous": ember.tensor, "transposed": _transposed, "sliced": _sliced,
           "flipped": _flipped}


def expandable(a):
    """``a`` with all rows equal to its first, so that an expanded view can hold it."""
    return np.ascontiguousarray(np.broadcast_to(a[:1], a.shape)) if a.ndim else a


def as_numpy(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().resolve_conj()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.numpy()
    if t.dtype == ember.bfloat16:
        t = t.to(ember.float32)
    return np.asarray(t.detach())


def same(got, want):
    """ember result ``got`` equals torch result ``want`` (values, shape and dtype; nested
    tuples and lists too)."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            same(g, w)
        return
    assert isinstance(got, ember.Tensor), type(got)
    assert str(got.dtype).replace("ember.", "") == str(want.dtype).replace("torch.", ""), \
        (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (got.shape, want.shape)
    np.testing.assert_allclose(as_numpy(got), as_numpy(want), rtol=1e-6, atol=1e-6)


def check(fn, *arrays, layout="contiguous"):
    """``fn(lib, *tensors)`` agrees between ember (inputs in ``layout``) and torch."""
    make = _expanded if layout == "expanded" else LAYOUTS[layout]
    ours = [make(a) if isinstance(a, np.ndarray) else a for a in arrays]
    theirs = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    for t, a in zip(ours, arrays):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(as_numpy(t), a)
    same(fn(ember, *ours), fn(torch, *theirs))


def raises_like_torch(fn, *arrays):
    """ember raises the exception class torch raises for ``fn``."""
    import pytest
    with pytest.raises(Exception) as want:
        fn(torch, *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    with pytest.raises(want.type):
        fn(ember, *[ember.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
