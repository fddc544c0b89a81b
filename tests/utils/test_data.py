"""ember.utils.data against torch.utils.data: batches, samplers, collation, splits, loaders."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
from ember.utils import data as edata

Point = collections.namedtuple("Point", ["x", "y"])


def _same(ours, theirs):
    """Structural and value equality of an ember batch and a torch batch."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), type(ours)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            _same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert type(ours) is type(theirs) and ours == theirs


def _samples(make_tensor):
    return [{"img": make_tensor(np.full((2, 3), i, np.float32)), "label": i, "w": i / 2,
             "name": f"s{i}", "pt": Point(i, float(i)), "pair": (i, [i, i + 1]),
             "flag": i % 2 == 0, "arr": np.arange(3, dtype=np.int16) + i,
             "np_scalar": np.float32(i)}
            for i in range(5)]


def test_default_collate_nested_matches_torch():
    ours = edata.default_collate(_samples(ember.from_numpy))
    theirs = tdata.default_collate(_samples(torch.from_numpy))
    _same(ours, theirs)
    assert isinstance(ours["pt"], Point) and isinstance(ours["pair"], list)
    assert ours["w"].dtype == ember.float64 and ours["label"].dtype == ember.int64
    assert ours["flag"].dtype == ember.bool


@pytest.mark.parametrize("batch", [
    [1, 2, 3], [1.5, 2.5], ["a", "b"], [b"a", b"b"], [[1, 2], [3, 4]], [(1, "a"), (2, "b")],
    [np.float64(1), np.float64(2)], [np.int32(1), np.int32(2)], [np.array(1.0), np.array(2.0)],
    [True, False],
])
def test_default_collate_leaves_match_torch(batch):
    _same(edata.default_collate(batch), tdata.default_collate(batch))


def test_default_collate_tensor_views():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    ours = [ember.from_numpy(base)[:, ::-2], ember.from_numpy(base).t()[1:5]]
    theirs = [torch.from_numpy(base[:, ::-2].copy()), torch.from_numpy(base).t()[1:5]]
    _same(edata.default_collate([ours[0], ours[0]]), tdata.default_collate([theirs[0]] * 2))
    _same(edata.default_collate([ours[1]] * 3), tdata.default_collate([theirs[1]] * 3))
    # zero-dim and empty tensors
    _same(edata.default_collate([ember.tensor(1.0), ember.tensor(2.0)]),
          tdata.default_collate([torch.tensor(1.0), torch.tensor(2.0)]))
    assert tuple(edata.default_collate([ember.zeros(0, 3)] * 2).shape) == (2, 0, 3)


def test_default_collate_errors_like_torch():
    with pytest.raises(RuntimeError, match="equal size"):
        tdata.default_collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        edata.default_collate([ember.zeros(2), ember.zeros(3)])
    for collate_fn in (tdata.default_collate, edata.default_collate):
        with pytest.raises(RuntimeError, match="each element in list of batch"):
            collate_fn([[1, 2], [3]])
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            collate_fn([object(), object()])
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            collate_fn([np.array(["a"]), np.array(["b"])])


class _Box:
    def __init__(self, value):
        self.value = value


def test_default_collate_extends_through_torchs_documented_path(monkeypatch):
    # PyTorch's default_collate documentation registers a type this way
    from ember.utils.data._utils.collate import collate, default_collate_fn_map
    from torch.utils.data._utils import collate as torch_collate

    def collate_box(batch, *, collate_fn_map):
        return sum(b.value for b in batch)

    for table in (default_collate_fn_map, torch_collate.default_collate_fn_map):
        monkeypatch.setitem(table, _Box, collate_box)
    batch = [{"box": _Box(1), "x": 1.5}, {"box": _Box(2), "x": 2.5}]
    _same(edata.default_collate(batch), tdata.default_collate(batch))
    _same(collate(batch, collate_fn_map={_Box: collate_box, float: lambda b, **_: len(b)}),
          torch_collate.collate(batch, collate_fn_map={_Box: collate_box,
                                                       float: lambda b, **_: len(b)}))
    from ember.utils.data.dataloader import default_collate, get_worker_info
    assert default_collate is edata.default_collate and get_worker_info() is None

def test_default_collate_takes_pytorch_tensors_through_dlpack():
    # a dataset kept from a PyTorch script (torchvision's ToTensor) in an ember DataLoader
    samples = [(torch.full((1, 2, 2), float(i)), i) for i in range(5)]
    batches = list(edata.DataLoader(samples, batch_size=2))
    images, labels = batches[0]
    assert isinstance(images, ember.Tensor) and images.dtype == ember.float32
    assert tuple(images.shape) == (2, 1, 2, 2) and labels.tolist() == [0, 1]
    _same(batches[-1], tdata.default_collate(samples[4:]))

def test_default_convert_matches_torch():
    sample = {"a": np.arange(3), "b": (np.float32(1), "s"), "c": Point(np.array([1.0]), 2),
              "d": np.array(["x"]), "e": [np.int8(3)]}
    ours, theirs = edata.default_convert(sample), tdata.default_convert(sample)
    assert ours["d"] is sample["d"] and theirs["d"] is sample["d"]
    del ours["d"], theirs["d"]
    _same(ours, theirs)


def _pair(n=11):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int64)
    return (edata.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)),
            tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))


@pytest.mark.parametrize("kwargs", [
    {}, {"batch_size": 4}, {"batch_size": 4, "drop_last": True}, {"batch_size": 11},
    {"batch_size": 20, "drop_last": True}, {"batch_size": None},
])
def test_sequential_batches_match_torch(kwargs):
    ours_ds, theirs_ds = _pair()
    ours, theirs = edata.DataLoader(ours_ds, **kwargs), tdata.DataLoader(theirs_ds, **kwargs)
    assert len(ours) == len(theirs)
    ours_batches, theirs_batches = list(ours), list(theirs)
    assert len(ours_batches) == len(theirs_batches) == len(ours)
    for a, b in zip(ours_batches, theirs_batches):
        _same(a, b)


def test_batch_sampler_and_custom_collate_match_torch():
    ours_ds, theirs_ds = _pair()
    batches = [[3, 1], [0, 2, 4], [10]]
    ours = list(edata.DataLoader(ours_ds, batch_sampler=batches))
    theirs = list(tdata.DataLoader(theirs_ds, batch_sampler=batches))
    for a, b in zip(ours, theirs):
        _same(a, b)
    sizes = list(edata.DataLoader(range(7), batch_size=3, collate_fn=len))
    assert sizes == list(tdata.DataLoader(range(7), batch_size=3, collate_fn=len)) == [3, 3, 1]


def test_iterable_dataset_batches_and_len():
    class Stream(edata.IterableDataset):
        def __iter__(self):
            return iter(range(10))

        def __len__(self):
            return 10

    class TStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(10))

        def __len__(self):
            return 10

    for kwargs in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        ours, theirs = edata.DataLoader(Stream(), **kwargs), tdata.DataLoader(TStream(), **kwargs)
        assert len(ours) == len(theirs)
        _same(list(ours), list(theirs))
    with pytest.raises(ValueError, match="expected unspecified shuffle"):
        edata.DataLoader(Stream(), shuffle=True)


def test_shuffle_covers_dataset_and_follows_generator():
    ds = edata.TensorDataset(ember.arange(23))
    seen = [torch.cat([torch.from_numpy(b[0].numpy()) for b in
                       edata.DataLoader(ds, batch_size=5, shuffle=True,
                                        generator=ember.Generator().manual_seed(s))]).tolist()
            for s in (0, 0, 1)]
    assert sorted(seen[0]) == list(range(23))
    assert seen[0] == seen[1] and seen[0] != seen[2]


def test_loader_argument_errors_like_torch():
    ds = list(range(4))
    cases = [dict(sampler=[0], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_size=None, drop_last=True), dict(num_workers=-1),
             dict(prefetch_factor=2), dict(persistent_workers=True)]
    for kwargs in cases:
        with pytest.raises(ValueError):
            tdata.DataLoader(ds, **kwargs)
        with pytest.raises(ValueError):
            edata.DataLoader(ds, **kwargs)
    loader = edata.DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3


def test_samplers_sequential_subset_and_batch():
    assert list(edata.SequentialSampler(range(4))) == list(tdata.SequentialSampler(range(4)))
    g = ember.Generator().manual_seed(3)
    assert sorted(edata.SubsetRandomSampler([5, 9, 2], generator=g)) == [2, 5, 9]
    for drop_last in (False, True):
        ours = edata.BatchSampler(range(10), 3, drop_last)
        theirs = tdata.BatchSampler(range(10), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            edata.BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        edata.BatchSampler(range(3), 2, 1)


def test_random_sampler_permutation_and_replacement():
    g = ember.Generator().manual_seed(0)
    perm = list(edata.RandomSampler(range(50), generator=g))
    assert sorted(perm) == list(range(50))
    # more samples than items without replacement chains whole permutations
    chained = list(edata.RandomSampler(range(7), num_samples=17, generator=g))
    assert len(chained) == 17 and sorted(chained[:7]) == sorted(chained[7:14]) == list(range(7))
    assert len(set(chained[14:])) == 3
    drawn = list(edata.RandomSampler(range(5), replacement=True, num_samples=1000, generator=g))
    assert len(drawn) == 1000 and set(drawn) == set(range(5))
    assert len(edata.RandomSampler(range(5), replacement=True, num_samples=70)) == 70
    ember.manual_seed(1)
    first = list(edata.RandomSampler(range(20)))
    ember.manual_seed(1)
    assert list(edata.RandomSampler(range(20))) == first
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        tdata.RandomSampler(range(3), replacement=1)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        edata.RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        edata.RandomSampler(range(3), num_samples=0)


def test_weighted_random_sampler_statistics():
    weights = [1.0, 0.0, 3.0, 6.0]
    g = ember.Generator().manual_seed(0)
    n = 20000
    counts = np.bincount(list(edata.WeightedRandomSampler(weights, n, generator=g)), minlength=4)
    expected = np.array(weights) / sum(weights) * n
    assert counts[1] == 0
    np.testing.assert_allclose(counts, expected, atol=5 * np.sqrt(n * 0.25))
    # without replacement: distinct indices, zero weights never drawn
    for _ in range(20):
        picks = list(edata.WeightedRandomSampler(weights, 3, replacement=False, generator=g))
        assert sorted(picks) == [0, 2, 3]
    # the heaviest index comes first most often
    firsts = [list(edata.WeightedRandomSampler(weights, 1, replacement=False, generator=g))[0]
              for _ in range(400)]
    assert 0.5 < firsts.count(3) / 400 < 0.7
    with pytest.raises(RuntimeError, match="without replacement"):
        list(edata.WeightedRandomSampler(weights, 4, replacement=False))
    with pytest.raises(RuntimeError, match="< 0"):
        list(edata.WeightedRandomSampler([1.0, -1.0], 2))
    with pytest.raises(RuntimeError, match="sum of probabilities"):
        list(edata.WeightedRandomSampler([0.0, 0.0], 2))
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        edata.WeightedRandomSampler([[1.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        edata.WeightedRandomSampler([1.0], 0)


def test_random_split_sizes_and_disjointness():
    g = ember.Generator().manual_seed(0)
    parts = edata.random_split(range(10), [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    indices = [i for p in parts for i in p.indices]
    assert sorted(indices) == list(range(10))
    for fractions in ([0.5, 0.3, 0.2], [0.33, 0.33, 0.34], [0.1, 0.9]):
        ours = edata.random_split(range(11), fractions, generator=g)
        theirs = tdata.random_split(range(11), fractions)
        assert [len(p) for p in ours] == [len(p) for p in theirs]
        assert sorted(i for p in ours for i in p) == list(range(11))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        edata.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        edata.random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        edata.random_split(range(2), [0.9, 0.1])


def test_datasets_concat_subset_tensor():
    ds = edata.ConcatDataset([[0, 1], [2, 3, 4]]) + [5]
    theirs = tdata.ConcatDataset([[0, 1], [2, 3, 4]]) + [5]
    assert len(ds) == len(theirs) == 6
    assert [ds[i] for i in range(-6, 6)] == [theirs[i] for i in range(-6, 6)]
    with pytest.raises(ValueError, match="absolute value of index"):
        ds[-7]
    with pytest.raises(IndexError):
        ds[6]
    sub = edata.Subset(edata.TensorDataset(ember.arange(5) * 2), [4, 0])
    assert len(sub) == 2 and sub[0][0].item() == 8 and sub[1][0].item() == 0
    with pytest.raises(NotImplementedError):
        edata.Dataset()[0]
    assert list(edata.ChainDataset([range(2), range(1)])) == [0, 1, 0]


def _raised(make):
    try:
        make()
    except Exception as error:  # noqa: BLE001 -- the class and message are compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize("shapes", [[(3,), (4,)], [(2, 5), (2,), (3, 5)], [(0,), (1, 2)]])
def test_tensor_dataset_size_mismatch_asserts_as_torch(shapes):
    theirs = _raised(lambda: tdata.TensorDataset(*[torch.zeros(s) for s in shapes]))
    ours = _raised(lambda: edata.TensorDataset(*[ember.zeros(s) for s in shapes]))
    assert ours == theirs == (AssertionError, "Size mismatch between tensors")


def test_tensor_dataset_zero_dim_raises_index_error_as_torch():
    with pytest.raises(IndexError):
        tdata.TensorDataset(torch.tensor(1.0), torch.zeros(2))
    with pytest.raises(IndexError):
        edata.TensorDataset(ember.tensor(1.0), ember.zeros(2))


def test_worker_info_none_in_main_process():
    assert edata.get_worker_info() is None


class _WorkerTagged(edata.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        info = edata.get_worker_info()
        return {"index": index, "worker": info.id, "n": info.num_workers}


class _Shards(edata.IterableDataset):
    def __iter__(self):
        info = edata.get_worker_info()
        return iter(range(info.id, 10, info.num_workers))


class _Failing(edata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 2:
            raise KeyError(f"missing {index}")
        return index


def test_workers_keep_order_and_report_info():
    batches = list(edata.DataLoader(_WorkerTagged(), batch_size=3, num_workers=2))
    assert [b["index"].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert [b["worker"].tolist()[0] for b in batches] == [0, 1, 0]
    assert all(b["n"].tolist()[0] == 2 for b in batches)
    ours = [b.tolist() for b in edata.DataLoader(_Shards(), batch_size=3, num_workers=2)]
    assert ours == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]


def test_worker_errors_reach_the_main_process():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(edata.DataLoader(_Failing(), batch_size=1, num_workers=2))
