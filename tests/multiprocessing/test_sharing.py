"""Storages moved into shared memory, and tensors pickled through it by ForkingPickler."""
import multiprocessing
import os
import pickle
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import torch

import ember
import ember.multiprocessing as mp


def _round_trip(obj):
    """Pickle ``obj`` as a multiprocessing queue does, and unpickle it in this process."""
    return ForkingPickler.loads(ForkingPickler.dumps(obj))


def test_reexports_the_standard_library():
    for name in multiprocessing.__all__:
        assert hasattr(mp, name), name
    assert mp.Queue is not None and mp.get_context("fork").Process is not None
    for name in ["spawn", "ProcessContext", "ProcessRaisedException", "ProcessExitedException",
                 "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"]:
        assert hasattr(mp, name) and hasattr(torch.multiprocessing, name), name


def test_share_memory_moves_the_storage_in_place():
    t = ember.arange(12, dtype=ember.float32)
    view = t[2:8:2]
    before = t.data_ptr()
    assert not t.is_shared() and not t.untyped_storage().is_shared()
    assert t.share_memory_() is t
    assert t.data_ptr() != before
    assert t.is_shared() and view.is_shared() and t.untyped_storage().is_shared()
    np.testing.assert_array_equal(t.numpy(), np.arange(12, dtype=np.float32))
    view.fill_(-1)  # the view follows the moved storage
    np.testing.assert_array_equal(t.numpy()[2:8:2], [-1, -1, -1])
    moved = t.data_ptr()
    t.share_memory_()  # a no-op once shared
    assert t.data_ptr() == moved
    # as in PyTorch
    tt = torch.arange(12, dtype=torch.float32)
    assert tt.share_memory_() is tt and tt.is_shared()


def test_share_memory_of_numpy_backed_tensor_stops_aliasing_the_array():
    a = np.arange(4.0)
    t = ember.from_numpy(a)
    t.share_memory_()[0] = 9
    assert t.is_shared() and a[0] == 0 and t[0].item() == 9
    ta = np.arange(4.0)
    tt = torch.from_numpy(ta)
    tt.share_memory_()[0] = 9
    assert tt.is_shared() and ta[0] == 0


def test_share_memory_of_readonly_memory_makes_it_writable():
    a = np.arange(3.0)
    a.setflags(write=False)
    t = ember.from_numpy(a)
    with pytest.raises(RuntimeError, match="read-only"):
        t.add_(1)
    t.share_memory_().add_(1)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_round_trip_shares_memory_for_every_dtype(dtype_name, sharing_strategy):
    dtype = getattr(ember, dtype_name)
    t = ember.arange(6).reshape(2, 3).to(dtype)
    received = _round_trip(t)
    assert received.dtype == dtype and received.shape == t.shape and received.is_shared()
    assert t.is_shared()
    assert received.data_ptr() != t.data_ptr()  # a second mapping of the same memory
    assert ember.equal(received, t)
    received[0, 0] = 1
    assert t[0, 0].item() == received[0, 0].item()
    t[1, 2] = 0
    assert received[1, 2].item() == t[1, 2].item()


def test_views_keep_their_layout_and_share_one_storage():
    base = ember.arange(24.0).reshape(4, 6)
    # ember views may have negative strides (PyTorch's may not)
    flipped = ember.as_strided(base, (4, 6), (-6, 1), 18)
    views = [base.t(), base[1:, ::2], flipped, base[2, 3]]
    received = _round_trip(views)
    for view, got in zip(views, received):
        assert got.shape == view.shape and got.stride() == view.stride()
        assert got.storage_offset() == view.storage_offset()
        np.testing.assert_array_equal(got.numpy(), view.numpy())
    storages = {got.untyped_storage().data_ptr() for got in received}
    assert len(storages) == 1 and received[0].untyped_storage().nbytes() == 24 * base.element_size()
    received[2][0, 0] = -5  # flipped: row 0 is the base's last row
    assert base[3, 0].item() == -5


def test_empty_and_zero_dim_tensors():
    for t in [ember.empty(0), ember.zeros(0, 3), ember.tensor(2.5), ember.tensor(True)]:
        got = _round_trip(t)
        assert got.shape == t.shape and got.dtype == t.dtype and got.is_shared()
        np.testing.assert_array_equal(got.numpy(), t.numpy())
    zero_dim = ember.tensor(1.0)
    _round_trip(zero_dim).fill_(4)
    assert zero_dim.item() == 4


def test_refuses_non_leaf_tensor_requiring_grad():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        ForkingPickler.dumps(x * 2)
    xt = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        ForkingPickler.dumps(xt * 2)
    got = _round_trip(x)
    assert got.requires_grad and got.is_leaf
    assert not _round_trip((x * 2).detach()).requires_grad


def test_parameter_round_trip():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.ones(3)
    got = _round_trip(p)
    assert type(got) is ember.nn.Parameter and got.requires_grad
    assert got.grad is None  # as in PyTorch, the gradient is not sent
    got.data.add_(1)
    np.testing.assert_array_equal(p.detach().numpy(), [2.0, 2.0, 2.0])


def test_module_share_memory_moves_parameters_grads_and_buffers():
    for lib in (ember, torch):
        m = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
        m(lib.ones(4, 3)).sum().backward()
        params = list(m.parameters())
        assert not any(p.is_shared() for p in params)
        assert m.share_memory() is m
        assert all(p is q for p, q in zip(params, m.parameters()))  # optimizers keep theirs
        assert all(p.is_shared() and p.grad.is_shared() for p in params)
        assert all(b.is_shared() for b in m.buffers())
        assert all(p.requires_grad and p.is_leaf for p in params)


def test_plain_pickle_still_copies():
    t = ember.arange(3.0)
    got = pickle.loads(pickle.dumps(t))
    got.add_(1)
    assert not got.is_shared() and not t.is_shared()
    np.testing.assert_array_equal(t.numpy(), [0.0, 1.0, 2.0])


def test_sharing_strategies():
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()
    with pytest.raises(ValueError, match="invalid sharing strategy 'bad'"):
        mp.set_sharing_strategy("bad")


def test_file_system_strategy_unlinks_with_the_last_user(sharing_strategy):
    t = ember.ones(4).share_memory_()
    block = t.untyped_storage()._shared_block
    if sharing_strategy == "file_descriptor":
        assert block.name is None
        return
    path = os.path.join("/dev/shm", block.name)
    received = _round_trip(t)
    assert block.add_reference(0) == 2  # this block and the receiver's
    del t, block
    assert os.path.exists(path)  # the receiver still uses it
    received.add_(1)
    assert received.sum().item() == 8
    del received
    assert not os.path.exists(path)


def test_storage_round_trip(sharing_strategy):
    storage = ember.arange(4, dtype=ember.int32).untyped_storage()
    got = _round_trip(storage)
    assert type(got) is ember.Storage and got.is_shared() and storage.is_shared()
    assert got.nbytes() == storage.nbytes() and got.data_ptr() != storage.data_ptr()
