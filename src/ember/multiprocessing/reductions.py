"""How tensors and storages pickle between processes: through shared memory, without copies.

:func:`init_reductions` registers these reducers with
:class:`multiprocessing.reduction.ForkingPickler`, the pickler of every
``multiprocessing`` queue, pipe and pool.  A storage moves into shared memory
(:meth:`ember.Storage.share_memory_`, if it is not there yet) and travels as a
descriptor of its segment; the receiver maps the same memory, so writes by either
process are seen by the other.  A tensor travels as its storage plus its layout
(dtype, shape, strides, offset), so views keep their layout and views sent in one
message share one storage again.  Plain :mod:`pickle` is not affected.
"""
from multiprocessing.reduction import DupFd, ForkingPickler

from ember._core._tensor import Storage, Tensor, _rebuild_tensor_view, _shared_storage
from ember.multiprocessing._shared_memory import SharedMemoryBlock, open_segment
from ember.nn.parameter import Parameter

__all__ = ["init_reductions", "reduce_tensor", "reduce_storage"]


def _rebuild_storage_fd(dup_fd, nbytes):
    block = SharedMemoryBlock.attach(dup_fd.detach(), nbytes)
    return _shared_storage(block, nbytes)


def _rebuild_storage_filename(name, nbytes):
    block = SharedMemoryBlock.attach(open_segment(name), nbytes, name)
    block.add_reference(-1)     # the message's reference, taken when it was pickled
    return _shared_storage(block, nbytes)


def reduce_storage(storage):
    """Pickle a CPU storage as a descriptor of its shared-memory segment (moved there if needed)."""
    if storage.device.type != "cpu":
        return storage.__reduce__()
    block = storage.share_memory_()._shared_block
    if block.name is None:
        return _rebuild_storage_fd, (DupFd(block.fd), block.nbytes)
    block.add_reference(1)      # released by the receiver once it has the segment open
    return _rebuild_storage_filename, (block.name, block.nbytes)


def _tensor_args(tensor):
    if tensor.requires_grad and not tensor.is_leaf:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
            "does not support crossing process boundaries.  If you just want to transfer the "
            "data, call detach() on the tensor before serializing (e.g., putting it on the queue).")
    return (tensor.untyped_storage(), str(tensor.dtype).split(".")[-1], tuple(tensor.shape),
            tensor.stride(), tensor.storage_offset(), tensor.requires_grad)


def reduce_tensor(tensor):
    """Pickle a tensor as its (shared) storage and its layout; refuses non-leaves requiring grad."""
    if tensor.device.type != "cpu":
        return tensor.__reduce_ex__(ForkingPickler.HIGHEST_PROTOCOL)
    return _rebuild_tensor_view, _tensor_args(tensor)


def _rebuild_parameter(args):
    tensor = _rebuild_tensor_view(*args)
    return Parameter(tensor.detach(), args[-1])


def _reduce_parameter(param):
    if param.device.type != "cpu":
        return param.__reduce_ex__(ForkingPickler.HIGHEST_PROTOCOL)
    return _rebuild_parameter, (_tensor_args(param),)


def init_reductions():
    """Register the shared-memory reducers of storages, tensors and parameters."""
    ForkingPickler.register(Storage, reduce_storage)
    ForkingPickler.register(Tensor, reduce_tensor)
    ForkingPickler.register(Parameter, _reduce_parameter)
