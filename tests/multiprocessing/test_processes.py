"""Tensors through queues, pools and spawned processes: shared, not copied."""
import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
import mp_workers


def test_queue_round_trip_writes_are_seen_both_ways(fork, sharing_strategy):
    inbox, outbox = fork.Queue(), fork.Queue()
    child = fork.Process(target=mp_workers.fill_and_reply, args=(inbox, outbox))
    child.start()
    t = ember.zeros(5)
    inbox.put(t)
    back, made = outbox.get(timeout=30)
    inbox.put(None)
    child.join(30)
    assert child.exitcode == 0
    np.testing.assert_array_equal(t.numpy(), np.ones(5))  # the child's write is seen here
    back.add_(1)  # and back is the same memory
    np.testing.assert_array_equal(t.numpy(), np.full(5, 2.0))
    assert made.is_shared()
    np.testing.assert_array_equal(made.numpy(), [7.0, 7.0, 7.0])


def test_pool_map_with_tensors(fork):
    tensors = [ember.full((4,), float(i)) for i in range(3)]
    with fork.Pool(2) as pool:
        sums = pool.map(mp_workers.sum_tensor, tensors)
    assert sums == [0.0, 8.0, 16.0]
    for i, t in enumerate(tensors):
        np.testing.assert_array_equal(t.numpy(), np.full(4, 2.0 * i))


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_spawn_shares_tensor_arguments(start_method):
    t = ember.zeros(2, dtype=ember.int64)
    if start_method == "fork":
        t.share_memory_()  # a forked child gets a copy of unshared memory, as in PyTorch
    assert mp.spawn(mp_workers.write_index, args=(t,), nprocs=2,
                    start_method=start_method) is None
    np.testing.assert_array_equal(t.numpy(), [1, 2])


def test_hogwild_updates_a_shared_module():
    shared = ember.nn.Linear(2, 1)
    with ember.no_grad():
        shared.weight.fill_(1.0)
        shared.bias.fill_(0.0)
    shared.share_memory()
    lock = mp.get_context("fork").Lock()
    mp.spawn(mp_workers.hogwild_step, args=(shared, lock), nprocs=2, start_method="fork")
    # each of the two workers took one SGD step of 0.25 on the shared parameters
    np.testing.assert_array_equal(shared.weight.detach().numpy(), [[0.5, 0.5]])
    np.testing.assert_array_equal(shared.bias.detach().numpy(), [-0.5])


def test_spawn_join_false_returns_context():
    t = ember.zeros(2, dtype=ember.int64).share_memory_()
    context = mp.spawn(mp_workers.write_index, args=(t,), nprocs=2, join=False,
                       start_method="fork")
    assert isinstance(context, mp.ProcessContext) and len(context.pids()) == 2
    while not context.join():
        pass
    np.testing.assert_array_equal(t.numpy(), [1, 2])


def test_spawn_child_raising():
    with pytest.raises(mp.ProcessRaisedException,
                       match="(?s)Process 1 terminated with the following error.*ValueError: "
                             "bad input in process 1") as info:
        mp.spawn(mp_workers.raise_on_one, nprocs=2, start_method="fork")
    assert info.value.error_index == 1 and info.value.pid > 0


def test_spawn_child_exit_code_and_signal():
    with pytest.raises(mp.ProcessExitedException,
                       match="process 0 terminated with exit code 3") as info:
        mp.spawn(mp_workers.exit_with, args=(3,), start_method="fork")
    assert info.value.exit_code == 3 and info.value.signal_name is None
    with pytest.raises(mp.ProcessExitedException,
                       match="process 0 terminated with signal SIGKILL") as info:
        mp.spawn(mp_workers.kill_self, start_method="fork")
    assert info.value.exit_code == -9 and info.value.signal_name == "SIGKILL"


def test_spawn_checks_arguments():
    with pytest.raises(TypeError, match="args must be a tuple"):
        mp.spawn(mp_workers.write_index, args=[1])
    with pytest.raises(ValueError, match="nprocs must be a positive int"):
        mp.spawn(mp_workers.write_index, nprocs=0)
