"""DataLoader with worker processes: shared-memory batches, workers' life cycle, errors."""
import collections
import gc
import os
import pickle
import random
import signal
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from ember.utils.data import _shared_memory, _worker

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGALRM") or not os.path.isdir("/dev/shm"),
                                reason="needs POSIX signals and /dev/shm")

Pair = collections.namedtuple("Pair", ["left", "right"])


@pytest.fixture(autouse=True)
def deadline():
    """Bound every test so that a regression that hangs fails instead."""
    def on_alarm(signum, frame):
        raise TimeoutError("test exceeded its 30 s deadline")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def our_segments():
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"ember_{os.getpid()}_")]


def shared_mappings():
    """Address ranges of this process's mappings of ember shared-memory segments."""
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "/dev/shm/ember_" in line:
                start, end = line.split()[0].split("-")
                ranges.append((int(start, 16), int(end, 16)))
    return ranges


class Mixed(edata.Dataset):
    """Samples of every kind default_collate handles."""

    def __len__(self):
        return 11

    def __getitem__(self, index):
        return {
            "image": ember.full((3, 4), float(index)),
            "pair": Pair(index, np.arange(2, dtype=np.int16) + index),
            "tuple": (float(index) / 2, np.float32(index)),
            "name": f"item{index}",
            "half": ember.full((2,), index, dtype=ember.bfloat16),
        }


def assert_same_batch(ours, expected):
    if isinstance(expected, ember.Tensor):
        assert ours.dtype == expected.dtype and ours.shape == expected.shape
        assert ours.float().tolist() == expected.float().tolist()
    elif isinstance(expected, dict):
        assert ours.keys() == expected.keys()
        for key in expected:
            assert_same_batch(ours[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert type(ours) is type(expected) and len(ours) == len(expected)
        for a, b in zip(ours, expected):
            assert_same_batch(a, b)
    else:
        assert ours == expected


@pytest.mark.parametrize("in_order", [True, False])
def test_map_batches_match_single_process(in_order):
    def batches(num_workers):
        generator = ember.Generator().manual_seed(5)
        loader = edata.DataLoader(Mixed(), batch_size=3, shuffle=True, generator=generator,
                                  num_workers=num_workers, in_order=in_order)
        return list(loader)

    expected, ours = batches(0), batches(2)
    assert len(ours) == len(expected) == 4
    if not in_order:
        key = lambda b: b["name"][0]  # noqa: E731
        expected, ours = sorted(expected, key=key), sorted(ours, key=key)
    for a, b in zip(ours, expected):
        assert_same_batch(a, b)
    assert isinstance(ours[0]["pair"], Pair)
    assert our_segments() == []


class ShardsMixin:
    """Worker ``i`` of ``n`` yields ``i, i + n, ...`` below ``stop``."""

    def __init__(self, stop):
        self.stop = stop

    def __iter__(self):
        info = self.get_worker_info()
        return iter(range(info.id, self.stop, info.num_workers))


class Shards(ShardsMixin, edata.IterableDataset):
    get_worker_info = staticmethod(edata.get_worker_info)


class TorchShards(ShardsMixin, tdata.IterableDataset):
    get_worker_info = staticmethod(tdata.get_worker_info)


def test_iterable_dataset_order_matches_torch():
    for batch_size, drop_last in [(3, False), (2, True)]:
        ours = [b.tolist() for b in edata.DataLoader(Shards(11), batch_size=batch_size,
                                                     drop_last=drop_last, num_workers=2)]
        theirs = [b.tolist() for b in tdata.DataLoader(TorchShards(11), batch_size=batch_size,
                                                       drop_last=drop_last, num_workers=2)]
        assert ours == theirs


def test_batches_arrive_in_shared_memory_without_pickled_data():
    dataset = edata.TensorDataset(ember.randn(64, 128, 128), ember.arange(64))
    loader = edata.DataLoader(dataset, batch_size=16, num_workers=2)
    batches = list(loader)
    del loader
    gc.collect()
    mapped = shared_mappings()
    for images, labels in batches:
        for tensor in (images, labels):
            address = tensor.data_ptr()
            assert any(start <= address < end for start, end in mapped)
    # still valid after the workers exited and the names were unlinked
    for position in range(2):
        np.testing.assert_array_equal(ember.cat([b[position] for b in batches]).numpy(),
                                      dataset.tensors[position].numpy())
    assert our_segments() == []


def test_descriptor_is_small_and_round_trips_every_layout():
    arena = _shared_memory.SharedArena(_shared_memory.new_prefix())
    base = ember.arange(24, dtype=ember.float64).reshape(4, 6)
    sample = {
        "big": ember.randn(512, 512),                          # 1 MiB of float32
        "transposed": base.T,
        "reversed": ember.arange(5)[::-1],
        "expanded": ember.ones(3, 1).expand(3, 4),
        "scalar": ember.tensor(2.5),
        "empty": ember.zeros(0, 3),
        "bf16": ember.ones(3, dtype=ember.bfloat16),
        "complex": ember.ones(2, dtype=ember.complex64),
        "grad": ember.ones(2, requires_grad=True),
        "array": np.arange(6, dtype=np.float32).reshape(2, 3)[:, ::-1],
        "other": ["text", 3, None],
    }
    arena.begin()
    payload = _shared_memory.dumps(sample, arena)
    arena.end(sent=True)
    assert len(payload) < 2048
    assert len(pickle.dumps(sample["big"])) > 2 ** 20
    received = pickle.loads(payload)
    for key, value in sample.items():
        if isinstance(value, ember.Tensor):
            assert received[key].dtype == value.dtype and received[key].shape == value.shape
            assert received[key].detach().to(ember.float64 if not value.is_complex()
                                              else ember.complex128).tolist() == \
                value.detach().to(ember.float64 if not value.is_complex()
                                  else ember.complex128).tolist()
            assert received[key].requires_grad == value.requires_grad
    np.testing.assert_array_equal(received["array"], sample["array"])
    assert received["other"] == ["text", 3, None]
    arena.close()
    assert our_segments() == []


def test_segments_are_reused_batch_after_batch():
    dataset = edata.TensorDataset(ember.randn(400, 32))
    loader = edata.DataLoader(dataset, batch_size=4, num_workers=2, persistent_workers=True)
    for _ in range(2):
        for (batch,) in loader:
            assert batch.shape == (4, 32)
    # 200 batches, but each worker cycles through a handful of segments
    assert len([n for n in _shared_memory._attached if n.startswith(loader._iterator._shm_prefix)]) <= 12
    loader._iterator._shutdown()
    assert our_segments() == []


class Pids(edata.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        return os.getpid()


def test_persistent_workers_survive_epochs():
    loader = edata.DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    first = {p for b in loader for p in b.tolist()}
    # an epoch abandoned half-way, then a complete one, still on the same workers
    for _ in zip(range(1), loader):
        pass
    second = [p for b in loader for p in b.tolist()]
    assert len(first) == 2 and set(second) == first and len(second) == 8
    fresh = edata.DataLoader(Pids(), batch_size=2, num_workers=2)
    assert {p for b in fresh for p in b.tolist()}.isdisjoint(first)
    streams = edata.DataLoader(Shards(7), batch_size=2, num_workers=2,
                               persistent_workers=True)
    assert [b.tolist() for b in streams] == [b.tolist() for b in streams] == \
        [[0, 2], [1, 3], [4, 6], [5]]


class Seeds(edata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        info = edata.get_worker_info()
        return [info.id, info.seed, ember.rand(1).item(), random.random(), np.random.rand(),
                info.dataset is self, info.num_workers, getattr(self, "tag", None)]


def tag_worker(worker_id):
    edata.get_worker_info().dataset.tag = 10 * worker_id


def test_worker_seeds_and_init_fn():
    def run(seed):
        loader = edata.DataLoader(Seeds(), batch_size=None, num_workers=2,
                                  generator=ember.Generator().manual_seed(seed),
                                  worker_init_fn=tag_worker)
        return list(loader)

    rows = run(3)
    assert rows == run(3) and rows != run(4)
    base_seed = ember.empty((), dtype=ember.int64).random_(
        generator=ember.Generator().manual_seed(3)).item()
    by_worker = {row[0]: row for row in rows}
    assert set(by_worker) == {0, 1}
    for worker_id, row in by_worker.items():
        assert row[1] == base_seed + worker_id
        assert row[5] is True and row[6] == 2 and row[7] == 10 * worker_id
    assert len({row[2] for row in by_worker.values()}) == 2
    assert len({row[4] for row in by_worker.values()}) == 2
    # NumPy is seeded as PyTorch seeds it
    from torch.utils.data._utils.worker import _generate_state
    for seed, worker_id in [(0, 0), (base_seed, 1), (2 ** 63 - 1, 7)]:
        assert _worker.numpy_seed(seed, worker_id) == _generate_state(seed, worker_id)


class Sleepy(edata.Dataset):
    def __init__(self, seconds):
        self.seconds = seconds

    def __len__(self):
        return 4

    def __getitem__(self, index):
        time.sleep(self.seconds)
        return index


def test_timeout_raises_and_shutdown_does_not_hang():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        list(edata.DataLoader(Sleepy(60), num_workers=2, timeout=0.3))
    assert time.monotonic() - start < 6
    # an iterator dropped while its workers are busy
    start = time.monotonic()
    iterator = iter(edata.DataLoader(Sleepy(60), num_workers=1))
    del iterator
    gc.collect()
    assert time.monotonic() - start < 6
    assert our_segments() == []


class Faulty(edata.Dataset):
    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 8

    def __getitem__(self, index):
        if index == 5:
            if self.how == "raise":
                raise ValueError(f"bad sample {index}")
            if self.how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return ember.ones(1000) * index


def test_worker_exception_names_worker_and_traceback():
    with pytest.raises(ValueError) as info:
        list(edata.DataLoader(Faulty("raise"), batch_size=1, num_workers=2))
    message = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1." in message
    assert "Original Traceback (most recent call last)" in message and "bad sample 5" in message
    assert our_segments() == []


@pytest.mark.parametrize("how, expected", [
    ("exit", r"DataLoader worker process 1 \(pid \d+\) exited unexpectedly with exit code 3"),
    ("kill", r"DataLoader worker process 1 \(pid \d+\) was killed by signal: .*SIGKILL"),
])
def test_dead_worker_raises_promptly(how, expected):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=expected):
        list(edata.DataLoader(Faulty(how), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 5
    assert our_segments() == []


def failing_init(worker_id):
    raise OSError(f"init failed in {worker_id}")


def test_worker_init_fn_error_reaches_main_process():
    with pytest.raises(OSError, match="Caught OSError in DataLoader worker process 0"):
        list(edata.DataLoader(Pids(), num_workers=1, worker_init_fn=failing_init))


def test_spawn_context():
    dataset = edata.TensorDataset(ember.arange(10, dtype=ember.float32), ember.arange(10))
    loader = edata.DataLoader(dataset, batch_size=4, num_workers=2,
                              multiprocessing_context="spawn")
    assert [[x.tolist(), y.tolist()] for x, y in loader] == \
        [[x.tolist(), y.tolist()] for x, y in edata.DataLoader(dataset, batch_size=4)]
    assert our_segments() == []


def error_of(make):
    try:
        make()
    except Exception as exc:  # noqa: BLE001 - the class and message are compared
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("kwargs", [
    {"num_workers": -1},
    {"prefetch_factor": 2},
    {"num_workers": 1, "prefetch_factor": -1},
    {"persistent_workers": True},
    {"timeout": -1},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "drop_last": True},
    {"batch_sampler": [[0, 1]], "sampler": [0, 1]},
    {"multiprocessing_context": "fork"},
    {"num_workers": 1, "multiprocessing_context": "nonsense"},
    {"num_workers": 1, "multiprocessing_context": 3},
])
def test_argument_errors_match_torch(kwargs):
    ours = error_of(lambda: edata.DataLoader(list(range(4)), **kwargs))
    theirs = error_of(lambda: tdata.DataLoader(list(range(4)), **kwargs))
    assert ours is not None and ours[0] is theirs[0]
    if "nonsense" not in str(kwargs):  # torch lists its own start methods
        assert ours[1] == theirs[1]


def test_len_pin_memory_and_prefetch_factor():
    loader = edata.DataLoader(list(range(10)), batch_size=4, num_workers=2, pin_memory=True,
                              prefetch_factor=1, pin_memory_device="")
    assert loader.prefetch_factor == 1
    with pytest.warns(UserWarning, match="pin_memory"):
        iterator = iter(loader)
    assert len(iterator) == len(loader) == 3
    assert [b.tolist() for b in iterator] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert edata.DataLoader(list(range(10)), num_workers=2).prefetch_factor == 2
    assert len(edata.DataLoader(list(range(10)), batch_size=4, drop_last=True,
                                num_workers=2)) == 2
