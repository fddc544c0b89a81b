"""torch.nn's older names against torch: CrossMapLRN2d (legacy LRN, forward and its
hand-written backward), NLLLoss2d, the deprecated non-underscore nn.init functions,
and DataParallel without a GPU (tests/cuda/test_gpu_cuda_api.py: with one)."""
import numpy as np
import pytest
import torch

import ember
from nn_helpers import assert_close, to_ember


def _lrn_pair(shape, size, alpha, beta, k, dtype, transpose=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    g = rng.normal(size=shape).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    tin, ein = tx, ex
    if transpose:                                 # a non-contiguous input
        tin, ein = tx.transpose(2, 3), ex.transpose(2, 3)
        g = np.ascontiguousarray(g.transpose(0, 1, 3, 2))
    tout = torch.nn.CrossMapLRN2d(size, alpha, beta, k)(tin)
    eout = ember.nn.CrossMapLRN2d(size, alpha, beta, k)(ein)
    tout.backward(torch.tensor(g))
    eout.backward(ember.tensor(g))
    return (eout, tout), (ex.grad, tx.grad)


@pytest.mark.parametrize("channels", [1, 2, 3, 6, 11])
@pytest.mark.parametrize("size", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_map_lrn2d_matches_torch(channels, size, dtype):
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    (eout, tout), (egrad, tgrad) = _lrn_pair((2, channels, 3, 4), size, 0.3, 0.7, 1.5, dtype)
    assert eout.dtype == (ember.float64 if dtype == np.float64 else ember.float32)
    assert_close(eout, tout, **tol)
    assert_close(egrad, tgrad, **tol)


def test_cross_map_lrn2d_defaults_non_contiguous_and_empty():
    (eout, tout), (egrad, tgrad) = _lrn_pair((3, 5, 4, 2), 5, 1e-4, 0.75, 1, np.float64,
                                             transpose=True)
    assert_close(eout, tout, rtol=1e-12, atol=1e-12)
    assert_close(egrad, tgrad, rtol=1e-12, atol=1e-12)
    empty = ember.nn.CrossMapLRN2d(3)(ember.zeros(0, 4, 2, 2))
    assert tuple(empty.shape) == (0, 4, 2, 2)
    assert repr(ember.nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))


@pytest.mark.parametrize("channels, size", [(1, 3), (2, 5), (2, 3), (4, 5)])
def test_cross_map_lrn2d_gradcheck_agrees_with_torchs(channels, size):
    """torch's hand-written gradient uses another window than its forward, so it is exact
    only in a few cases: ember's gradcheck passes exactly where torch's does."""
    x = np.random.default_rng(3).normal(size=(2, channels, 2, 2))
    ok = torch.autograd.gradcheck(lambda t: torch.nn.CrossMapLRN2d(size, 0.3, 0.7, 1.5)(t),
                                  (torch.tensor(x, requires_grad=True),),
                                  raise_exception=False)
    eok = ember.autograd.gradcheck(lambda t: ember.nn.CrossMapLRN2d(size, 0.3, 0.7, 1.5)(t),
                                   (ember.tensor(x, requires_grad=True),),
                                   raise_exception=False)
    assert eok == ok == (channels == 1 or (channels, size) == (2, 5))


def test_cross_map_lrn2d_rejects_other_ranks():
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D instead"):
        ember.nn.CrossMapLRN2d(3)(ember.ones(2, 3, 4))


def test_nll_loss_2d_is_a_deprecated_nll_loss():
    rng = np.random.default_rng(0)
    logp = torch.log_softmax(torch.tensor(rng.normal(size=(2, 4, 3, 3))), 1).requires_grad_()
    target = torch.tensor(rng.integers(0, 4, size=(2, 3, 3)))
    target[0, 0, 0] = 1
    weight = torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=torch.float64)
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        loss = ember.nn.NLLLoss2d(weight=to_ember(weight), ignore_index=1)
    assert isinstance(loss, ember.nn.NLLLoss)
    with pytest.warns(FutureWarning):
        expected_loss = torch.nn.NLLLoss2d(weight=weight, ignore_index=1)
    elogp = to_ember(logp, requires_grad=True)
    got, expected = loss(elogp, to_ember(target)), expected_loss(logp, target)
    assert_close(got, expected, rtol=1e-12)
    got.backward()
    expected.backward()
    assert_close(elogp.grad, logp.grad, rtol=1e-12)


DEPRECATED_INIT = {
    "uniform": (), "normal": (), "constant": (0.25,), "eye": (), "dirac": (),
    "xavier_uniform": (), "xavier_normal": (), "kaiming_uniform": (), "kaiming_normal": (),
    "orthogonal": (),
}


@pytest.mark.parametrize("name", sorted(DEPRECATED_INIT))
def test_deprecated_init_names_warn_and_fill_as_the_new_ones(name):
    shape = (4, 3, 3) if name == "dirac" else (4, 3)
    args = DEPRECATED_INIT[name]
    message = f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`"
    with pytest.warns(FutureWarning, match=message):
        got = getattr(ember.nn.init, name)(ember.empty(*shape), *args,
                                           **_seeded(name, ember.Generator().manual_seed(3)))
    expected = getattr(ember.nn.init, name + "_")(
        ember.empty(*shape), *args, **_seeded(name, ember.Generator().manual_seed(3)))
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert getattr(ember.nn.init, name).__name__ == name
    with pytest.warns(FutureWarning, match=message):          # torch warns the same way
        getattr(torch.nn.init, name)(torch.empty(*shape), *args)


def _seeded(name, generator):
    """``generator=`` for the random fills."""
    return {} if name in ("constant", "eye", "dirac") else {"generator": generator}


def test_data_parallel_without_gpu_passes_through(monkeypatch):
    monkeypatch.setattr(ember.cuda, "is_available", lambda: False)
    torch.manual_seed(0)
    tmodule = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    emodule = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    emodule.load_state_dict({k: to_ember(v) for k, v in tmodule.state_dict().items()})
    twrapped = torch.nn.DataParallel(tmodule)
    ewrapped = ember.nn.DataParallel(emodule, device_ids=[0, 1])   # ignored without CUDA
    assert ewrapped.module is emodule and ewrapped.device_ids == []
    assert list(ewrapped.state_dict()) == list(twrapped.state_dict())
    x = torch.tensor(np.random.default_rng(0).normal(size=(5, 3)), dtype=torch.float32)
    ex = to_ember(x, requires_grad=True)
    x.requires_grad_()
    eout, tout = ewrapped(ex), twrapped(x)
    assert_close(eout, tout)
    (eout ** 2).sum().backward()
    (tout ** 2).sum().backward()
    assert_close(ex.grad, x.grad, rtol=1e-4, atol=1e-5)
    assert_close(emodule[0].weight.grad, tmodule[0].weight.grad, rtol=1e-4, atol=1e-5)
    reloaded = ember.nn.DataParallel(ember.nn.Sequential(ember.nn.Linear(3, 4),
                                                         ember.nn.BatchNorm1d(4)))
    reloaded.load_state_dict(ewrapped.state_dict())
    assert ember.nn.parallel.DataParallel is ember.nn.DataParallel
