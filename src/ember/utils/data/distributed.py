"""``DistributedSampler``: each rank's share of a dataset, with PyTorch's semantics."""
import math

import ember
from ember.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Restrict a dataset to one rank's share: the (optionally shuffled) index list is padded
    by repeating its start to a multiple of ``num_replicas`` (or cut to one with
    ``drop_last``) and rank ``r`` takes every ``num_replicas``-th index from ``r``.

    Parameters
    ----------
    dataset : Dataset
        Any sized dataset.
    num_replicas : int, optional
        Number of ranks (the world size of the default process group by default).
    rank : int, optional
        This rank (the default process group's rank by default).
    shuffle : bool, default True
        Shuffle with a permutation seeded by ``seed + epoch``: the same on every rank.
    seed : int, default 0
    drop_last : bool, default False
        Drop the tail instead of padding, so every rank gets the same number of samples.

    Notes
    -----
    Call :meth:`set_epoch` at the start of every epoch, or every epoch reuses the same order.

    Examples
    --------
    >>> from ember.utils.data import DistributedSampler
    >>> list(DistributedSampler(range(10), num_replicas=3, rank=0, shuffle=False))
    [0, 3, 6, 9]
    >>> list(DistributedSampler(range(10), num_replicas=3, rank=2, shuffle=False))
    [2, 5, 8, 1]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            import ember.distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        if self.shuffle:
            g = ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ember.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which seeds the shuffle together with ``seed``.

        Examples
        --------
        >>> from ember.utils.data import DistributedSampler
        >>> sampler = DistributedSampler(range(8), num_replicas=2, rank=0)
        >>> sampler.set_epoch(1)
        """
        self.epoch = epoch
