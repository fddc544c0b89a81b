"""cat, stack and mv of sparse COO tensors against PyTorch 2.13: the dense result, the
layout and sparse_dim, gradients of the values, hybrid tensors, and the errors."""
import warnings

import numpy as np
import pytest
import torch

import ember

warnings.filterwarnings("ignore", message="Sparse invariant checks")
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

INDICES = [[0, 1, 1, 2], [2, 0, 2, 1]]
HYBRID = [[0, 2]]


def pair(requires_grad=False, hybrid=False, seed=0):
    """The same sparse tensor in both libraries: (3, 3), or (3, 2) with a dense dim."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((2, 2) if hybrid else 4)
    indices, shape = (HYBRID, (3, 2)) if hybrid else (INDICES, (3, 3))
    ev = ember.tensor(values, requires_grad=requires_grad)
    tv = torch.tensor(values, requires_grad=requires_grad)
    return (ember.sparse_coo_tensor(indices, ev, shape), torch.sparse_coo_tensor(indices, tv, shape),
            ev, tv)


def check(e, t):
    assert e.layout == ember.sparse_coo and t.layout == torch.sparse_coo
    assert tuple(e.shape) == tuple(t.shape) and e.sparse_dim() == t.sparse_dim()
    np.testing.assert_allclose(e.to_dense().detach().numpy(), t.to_dense().detach().numpy())


@pytest.mark.parametrize("hybrid", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(hybrid, dim):
    a, ta, av, tav = pair(True, hybrid, 1)
    b, tb, bv, tbv = pair(True, hybrid, 2)
    e, t = ember.cat([a, b], dim), torch.cat([ta, tb], dim)
    check(e, t)
    weights = np.random.default_rng(3).standard_normal(tuple(t.shape))
    (e.to_dense() * ember.tensor(weights)).sum().backward()
    # torch cannot differentiate its sparse cat: its gradient through the dense cat
    dense = torch.cat([ta.to_dense(), tb.to_dense()], dim)
    (dense * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(av.grad.numpy(), tav.grad.numpy())
    np.testing.assert_allclose(bv.grad.numpy(), tbv.grad.numpy())


@pytest.mark.parametrize("hybrid", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(hybrid, dim):
    a, ta, av, tav = pair(True, hybrid, 4)
    b, tb, _, _ = pair(False, hybrid, 5)
    e, t = ember.stack([a, b], dim), torch.stack([ta, tb], dim)
    check(e, t)
    e.to_dense().pow(2).sum().backward()
    t.to_dense().pow(2).sum().backward()
    np.testing.assert_allclose(av.grad.numpy(), tav.grad.numpy())


def test_mv_and_mixed_dtypes():
    a, ta, _, _ = pair()
    vec = np.arange(3.0)
    np.testing.assert_allclose(ember.mv(a, ember.tensor(vec)).numpy(),
                               torch.mv(ta, torch.tensor(vec)).numpy())
    s32 = ember.sparse_coo_tensor(INDICES, ember.ones(4, dtype=ember.float32), (3, 3))
    assert ember.cat([a, s32]).dtype == ember.float64


@pytest.mark.parametrize("call", [
    lambda L, s: L.cat([s, s.to_dense()]),
    lambda L, s: L.cat([s, L.sparse_coo_tensor([[0], [0]], [1.0], (3, 4))], 0),
    lambda L, s: L.stack([s, L.sparse_coo_tensor([[0], [0]], [1.0], (3, 4))]),
    lambda L, s: L.mv(s, L.ones(2, dtype=L.float64)),
    lambda L, s: L.cat([s, s], 2),
])
def test_errors_match_torch(call):
    e, t, _, _ = pair()
    with pytest.raises((RuntimeError, IndexError)) as expected:
        call(torch, t)
    with pytest.raises(expected.type) as got:
        call(ember, e)
    assert str(got.value) == str(expected.value)


def test_errors_of_ember_only():
    e, _, _, _ = pair()
    with pytest.raises(RuntimeError, match="dense tensor was found at position 0"):
        ember.cat([e.to_dense(), e])
    with pytest.raises(RuntimeError, match="out= is not supported"):
        ember.cat([e, e], out=ember.empty(0))
    with pytest.raises(RuntimeError, match="only sparse COO"):
        ember.cat([e, e.to_sparse_csr()])
    with pytest.raises(TypeError, match="expected Tensor"):
        ember.cat([e, [1.0]])
