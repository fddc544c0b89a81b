"""DistributedSampler against torch's, and what works without an MPI launcher."""
import subprocess
import sys

import pytest
import torch
import torch.utils.data

import ember
import ember.distributed as dist
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset


@pytest.mark.parametrize("n", [0, 1, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_matches_torch(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(data, replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert len(ours) == len(theirs)
        if n:
            assert list(ours) == list(theirs)


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_shards_are_a_padded_permutation(drop_last):
    n, replicas = 23, 4
    samplers = [DistributedSampler(range(n), replicas, r, seed=5, drop_last=drop_last)
                for r in range(replicas)]
    for epoch in range(2):
        for s in samplers:
            s.set_epoch(epoch)
        shards = [list(s) for s in samplers]
        assert all(len(shard) == len(samplers[0]) for shard in shards)
        union = [i for shard in shards for i in shard]
        if drop_last:
            assert len(set(union)) == len(union) == 20
        else:
            assert set(union) == set(range(n)) and len(union) == 24
        if epoch == 0:
            first = shards
    assert first != shards                                       # set_epoch reshuffles
    again = DistributedSampler(range(n), replicas, 0, seed=5, drop_last=drop_last)
    assert list(again) == first[0]                               # same seed, same order


def test_errors_and_loader():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=2, rank=-1)
    ds = TensorDataset(ember.arange(10))
    loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]


def test_uninitialized_errors():
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.all_reduce(ember.ones(1))
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedSampler(range(4))


def test_import_ember_does_not_import_mpi4py():
    code = "import sys, ember, ember.distributed; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
