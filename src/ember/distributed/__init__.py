"""Distributed communication on MPI (CPU tensors) and NCCL (CUDA tensors), with
``torch.distributed``'s names.

Launch one process per rank with an MPI launcher, e.g.
``mpiexec -n 2 python -m mpi4py train.py`` (``-m mpi4py`` turns an uncaught exception on one
rank into an abort of the whole job instead of a hang), then call
:func:`init_process_group`.  mpi4py is imported only then: ``import ember`` never needs it.
"""
from ember.distributed._collectives import (
    all_gather, all_gather_into_tensor, all_gather_object, all_reduce, all_to_all,
    all_to_all_single, barrier, broadcast, broadcast_object_list, gather, gather_object, irecv,
    isend, recv, reduce, reduce_scatter, reduce_scatter_tensor, scatter, scatter_object_list,
    send,
)
from ember.distributed._process_group import (
    Backend, Future, GroupMember, ProcessGroup, ReduceOp, Work, destroy_process_group,
    get_backend, get_rank, get_world_size, init_process_group, is_available, is_initialized,
    is_mpi_available, is_nccl_available, new_group,
)

__all__ = [
    "Backend", "Future", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
    "all_to_all_single", "barrier", "broadcast", "broadcast_object_list",
    "destroy_process_group", "gather", "gather_object", "get_backend", "get_rank",
    "get_world_size", "init_process_group", "irecv", "is_available", "is_initialized",
    "is_mpi_available", "is_nccl_available", "isend", "new_group", "recv", "reduce",
    "reduce_scatter", "reduce_scatter_tensor", "scatter", "scatter_object_list", "send",
]
