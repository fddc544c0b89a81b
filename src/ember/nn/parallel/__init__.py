"""Parallel training wrappers: :class:`DistributedDataParallel`, and
:class:`ember.nn.DataParallel` (one process, at most one GPU; documented there)."""
# DataParallel is also here, as in torch.nn.parallel
from ember.nn.parallel.data_parallel import DataParallel  # noqa: F401
from ember.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
