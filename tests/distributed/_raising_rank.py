"""Rank 1 raises while rank 0 waits in a barrier: under ``python -m mpi4py`` the job must
abort with a non-zero status instead of hanging."""
import ember.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise RuntimeError("rank 1 fails on purpose")
dist.barrier()
