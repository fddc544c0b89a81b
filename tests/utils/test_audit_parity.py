"""Differential checks of ember.utils.data against torch.utils.data: the same batches,
lengths, collated structures and exception classes."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data

import ember
import ember.utils.data as ember_data

Point = collections.namedtuple("Point", "x y")


def _plain(x):
    """A library-neutral description of a batch."""
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return ("tensor", str(x.dtype).split(".")[1], x.tolist())
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _plain(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return ("namedtuple", type(x).__name__, [_plain(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    return (type(x).__name__, x)


def _outcome(fn, lib, data):
    try:
        return _plain(fn(lib, data))
    except Exception as error:  # the class must match, not the message
        return ("raises", type(error).__name__)


class Records:
    """A map-style dataset of nested records, built from either library."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 7

    def __getitem__(self, i):
        if i >= 7:
            raise IndexError(i)
        return {"a": self.lib.tensor([i, i + 1.0]), "b": (i, i / 2, f"s{i}"),
                "c": np.array([i, 2 * i]), "p": Point(i, self.lib.tensor(i)),
                "n": np.float64(i), "flag": i % 2 == 0}


def _stream(lib, data, sized=False):
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter([lib.tensor([i]) for i in range(5)])

    if sized:
        Stream.__len__ = lambda self: 5
    return Stream()


CASES = {
    "batched": lambda lib, D: list(D.DataLoader(Records(lib), batch_size=3)),
    "drop_last": lambda lib, D: list(D.DataLoader(Records(lib), batch_size=3, drop_last=True)),
    "unbatched": lambda lib, D: list(D.DataLoader(Records(lib), batch_size=None))[:2],
    "lengths": lambda lib, D: [len(D.DataLoader(Records(lib), batch_size=3)),
                               len(D.DataLoader(Records(lib), batch_size=3, drop_last=True)),
                               len(D.DataLoader(Records(lib), batch_size=None))],
    "sampler": lambda lib, D: list(D.DataLoader(list(range(10)), batch_size=4,
                                                sampler=[9, 1, 3, 5, 7])),
    "batch_sampler": lambda lib, D: list(D.DataLoader(list(range(10)),
                                                      batch_sampler=[[1, 2], [3], [9, 8]])),
    "batch_sampler_and_batch_size": lambda lib, D: D.DataLoader(range(4), batch_size=2,
                                                                batch_sampler=[[0]]),
    "sampler_and_shuffle": lambda lib, D: D.DataLoader(range(4), sampler=[0], shuffle=True),
    "unbatched_drop_last": lambda lib, D: D.DataLoader(range(4), batch_size=None,
                                                       drop_last=True),
    "bad_batch_size": lambda lib, D: D.DataLoader(range(5), batch_size=0),
    "iterable": lambda lib, D: list(D.DataLoader(_stream(lib, D), batch_size=2)),
    "iterable_drop_last": lambda lib, D: list(D.DataLoader(_stream(lib, D), batch_size=2,
                                                           drop_last=True)),
    "iterable_unbatched": lambda lib, D: list(D.DataLoader(_stream(lib, D), batch_size=None)),
    "iterable_len": lambda lib, D: len(D.DataLoader(_stream(lib, D, sized=True), batch_size=2)),
    "iterable_no_len": lambda lib, D: len(D.DataLoader(_stream(lib, D), batch_size=2)),
    "iterable_shuffle": lambda lib, D: D.DataLoader(_stream(lib, D), shuffle=True),
    "iterable_workers": lambda lib, D: sorted(
        x.item() for x in D.DataLoader(_stream(lib, D), batch_size=None, num_workers=2)),
    "workers": lambda lib, D: list(D.DataLoader(Records(lib), batch_size=3, num_workers=2)),
    "collate_nested": lambda lib, D: D.default_collate([[(1, 2), {"k": [3.0]}],
                                                        [(4, 5), {"k": [6.0]}]]),
    "collate_numpy": lambda lib, D: D.default_collate([np.float32(1), np.float32(2)]) ,
    "collate_numpy_int16": lambda lib, D: D.default_collate([np.int16(1), np.int16(2)]),
    "collate_bools": lambda lib, D: D.default_collate([True, False]),
    "collate_bytes": lambda lib, D: D.default_collate([b"a", b"b"]),
    "collate_ragged": lambda lib, D: D.default_collate([[1, 2], [3]]),
    "collate_ragged_tensors": lambda lib, D: D.default_collate([lib.zeros(2), lib.zeros(3)]),
    "collate_none": lambda lib, D: D.default_collate([None, None]),
    "collate_str_array": lambda lib, D: D.default_collate([np.array(["a"]), np.array(["b"])]),
    "collate_ordered": lambda lib, D: D.default_collate([collections.OrderedDict(a=1)] * 2),
    "collate_half": lambda lib, D: D.default_collate([lib.tensor([1.0], dtype=lib.float16)]),
    "convert": lambda lib, D: D.default_convert([np.zeros(2), (np.int64(3), "x"),
                                                 {"a": np.float32(1.5)}, 3]),
    "convert_str_array": lambda lib, D: D.default_convert(np.array(["a"])),
    "concat": lambda lib, D: [D.ConcatDataset([[1, 2], [3], [4, 5, 6]])[i]
                              for i in [0, 2, 3, 5, -1, -6]],
    "concat_out_of_range": lambda lib, D: D.ConcatDataset([[1, 2], [3]])[3],
    "concat_negative_out_of_range": lambda lib, D: D.ConcatDataset([[1, 2], [3]])[-4],
    "concat_len": lambda lib, D: len(D.ConcatDataset([[1, 2], [], [4, 5, 6]])),
    "dataset_add": lambda lib, D: type(D.TensorDataset(lib.zeros(2))
                                       + D.TensorDataset(lib.ones(3))).__name__,
    "chain": lambda lib, D: list(D.ChainDataset([_stream(lib, D), _stream(lib, D)])),
    "stack": lambda lib, D: [D.StackDataset([1, 2], [3, 4])[1],
                             D.StackDataset(a=[1, 2], b=[3, 4])[0],
                             len(D.StackDataset([1, 2], [3, 4]))],
    "stack_loader": lambda lib, D: list(D.DataLoader(
        D.StackDataset(x=D.TensorDataset(lib.arange(5)), y=list(range(5))), batch_size=2)),
    "stack_tuple_loader": lambda lib, D: list(D.DataLoader(
        D.StackDataset(D.TensorDataset(lib.arange(5)), list(range(5))), batch_size=3)),
    "stack_size_mismatch": lambda lib, D: D.StackDataset([1, 2], [3]),
    "stack_both_kinds": lambda lib, D: D.StackDataset([1], y=[3]),
    "stack_empty": lambda lib, D: D.StackDataset(),
    "split_fractions": lambda lib, D: [len(s) for s in D.random_split(range(10),
                                                                      [0.33, 0.33, 0.34])],
    "split_odd": lambda lib, D: [len(s) for s in D.random_split(range(11), [0.5, 0.5])],
    "split_small": lambda lib, D: [len(s) for s in D.random_split(range(3), [0.1, 0.9])],
    "split_bad_sum": lambda lib, D: D.random_split(range(10), [3, 8]),
    "split_bad_fractions": lambda lib, D: D.random_split(range(10), [0.5, 0.6]),
    "weighted_len": lambda lib, D: len(D.WeightedRandomSampler([0.1, 0.9, 0.4], 7)),
    "weighted_zero_weights": lambda lib, D: sorted(set(D.WeightedRandomSampler([0, 1, 0, 2.], 50))),
    "weighted_without_replacement": lambda lib, D: sorted(
        D.WeightedRandomSampler([1, 1.0, 1, 2.0], 4, replacement=False)),
    "weighted_too_many": lambda lib, D: list(D.WeightedRandomSampler([1, 1.0], 4,
                                                                     replacement=False)),
    "weighted_bad_num_samples": lambda lib, D: D.WeightedRandomSampler([1, 1.0], 2.0),
    "weighted_negative": lambda lib, D: list(D.WeightedRandomSampler([-1, 1.0], 2)),
    "weighted_2d": lambda lib, D: list(D.WeightedRandomSampler([[1, 1.0]], 2)),
    "subset_random": lambda lib, D: sorted(D.SubsetRandomSampler([4, 2, 9])),
    "subset_random_type": lambda lib, D: type(next(iter(D.SubsetRandomSampler([4, 2])))).__name__,
    "random_counts": lambda lib, D: sorted(collections.Counter(
        D.RandomSampler(range(6), num_samples=12)).values()),
    "random_bad_replacement": lambda lib, D: D.RandomSampler(range(6), replacement=1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    assert _outcome(CASES[name], ember, ember_data) == _outcome(CASES[name], torch, torch_data)


def test_seeded_shuffling_and_splits_are_deterministic():
    def epoch(generator=None):
        loader = ember_data.DataLoader(range(20), batch_size=4, shuffle=True, generator=generator)
        return [batch.tolist() for batch in loader]

    first = epoch(ember.Generator().manual_seed(3))
    assert first == epoch(ember.Generator().manual_seed(3))
    assert sorted(sum(first, [])) == list(range(20))
    ember.manual_seed(5)
    seeded = epoch()
    ember.manual_seed(5)
    assert epoch() == seeded
    loader = ember_data.DataLoader(range(30), batch_size=30, shuffle=True,
                                   generator=ember.Generator().manual_seed(0))
    assert [b.tolist() for b in loader] != [b.tolist() for b in loader]  # new order each epoch
    splits = [[list(part) for part in ember_data.random_split(
        range(10), [0.3, 0.7], generator=ember.Generator().manual_seed(1))] for _ in range(2)]
    assert splits[0] == splits[1]
    assert sorted(splits[0][0] + splits[0][1]) == list(range(10))
