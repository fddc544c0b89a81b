"""Parallel training wrappers: :class:`DataParallel` (one process, at most one GPU) and
:class:`DistributedDataParallel`."""
from ember.nn.parallel.data_parallel import DataParallel
from ember.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
