"""The built-in DDP communication hooks: plain all-reduce and fp16-compressed all-reduce.

A hook is called as ``hook(state, bucket)`` with a :class:`GradBucket` and returns a
:class:`ember.distributed.Future` whose value is the bucket's averaged flat gradient.
"""
import ember
from ember.distributed import _collectives, _shm
from ember.distributed._process_group import GroupMember, ReduceOp, Work

__all__ = ["allreduce_hook", "fp16_compress_hook"]


def _group(process_group):
    return process_group if process_group is not None else GroupMember.WORLD


def allreduce_hook(process_group, bucket):
    """Average the bucket across ``process_group`` (the world when None): DDP's default.

    Examples
    --------
    >>> from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
    >>> ddp.register_comm_hook(None, default_hooks.allreduce_hook)   # doctest: +SKIP
    """
    group = _group(process_group)
    tensor = bucket.buffer()
    with ember.no_grad():
        tensor.div_(group.size())
    if _shm.usable(group, tensor, ReduceOp.SUM) and _shm.window_of(group) is not None:
        # ranks on one node reduce through shared memory, which needs no progress engine
        # and so gains nothing from waiting: done here, in the bucket order every rank keeps
        _collectives.all_reduce(tensor, group=group)
        work = Work(outputs=[tensor])
    else:
        work = _collectives.all_reduce(tensor, group=group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


def fp16_compress_hook(process_group, bucket):
    """Average the bucket in float16 (half the bytes on the wire), then cast back into the
    bucket's dtype.

    Examples
    --------
    >>> from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
    >>> ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)   # doctest: +SKIP
    """
    group = _group(process_group)
    buffer = bucket.buffer()
    with ember.no_grad():
        compressed = buffer.to(ember.float16).div_(group.size())
    work = _collectives.all_reduce(compressed, group=group, async_op=True)

    def decompress(fut):
        with ember.no_grad():
            buffer.copy_(fut.value()[0])
        return buffer

    return work.get_future().then(decompress)
