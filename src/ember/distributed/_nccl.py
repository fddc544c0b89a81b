"""The NCCL backend: collectives on CUDA tensors through ``cupy.cuda.nccl``.

CuPy is imported on first use.  Each rank uses one GPU (``local rank % device count``,
selected before the communicator is created); rank 0's NCCL unique id reaches the other
ranks over MPI.  Operations are enqueued on CuPy's current stream; a synchronous call waits
for the stream, an asynchronous one returns a :class:`Work` waiting on an event recorded
after the operation.
"""
import os

import ember
from ember.distributed._process_group import ReduceOp, Work, chain


def _cupy():
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as exc:
        raise RuntimeError("the NCCL backend needs CuPy with NCCL: `pip install "
                           "'ember[cuda]' nvidia-nccl-cu13`") from exc
    return cupy, nccl


def nccl_available():
    """Whether CuPy imports, reports NCCL as available, and sees a CUDA device."""
    try:
        cupy, nccl = _cupy()
        return bool(nccl.available) and cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, no driver, no device: all mean "not available"
        return False


def _local_rank(comm):
    for name in ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", "LOCAL_RANK"):
        if name in os.environ:
            return int(os.environ[name])
    return comm.Get_rank()


class NcclCommunicator:
    """An NCCL communicator over the ranks of the MPI communicator ``comm``."""

    def __init__(self, comm):
        cupy, nccl = _cupy()
        if not nccl.available:
            raise RuntimeError("CuPy finds no NCCL library: `pip install nvidia-nccl-cu13`")
        self._cupy, self._nccl = cupy, nccl
        device = _local_rank(comm) % cupy.cuda.runtime.getDeviceCount()
        cupy.cuda.Device(device).use()
        uid = nccl.get_unique_id() if comm.Get_rank() == 0 else None
        uid = comm.bcast(uid, root=0)
        self.size = comm.Get_size()
        self.comm = nccl.NcclCommunicator(self.size, uid, comm.Get_rank())
        self._dtypes = {
            ember.float32: nccl.NCCL_FLOAT32, ember.float64: nccl.NCCL_FLOAT64,
            ember.float16: nccl.NCCL_FLOAT16, ember.int8: nccl.NCCL_INT8,
            ember.uint8: nccl.NCCL_UINT8, ember.int32: nccl.NCCL_INT32,
            ember.int64: nccl.NCCL_INT64, ember.bool: nccl.NCCL_UINT8,
        }
        bf16 = getattr(nccl, "NCCL_BFLOAT16", None)
        if bf16 is not None:
            self._dtypes[ember.bfloat16] = bf16
        self._ops = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
                     ReduceOp.MIN: nccl.NCCL_MIN, ReduceOp.MAX: nccl.NCCL_MAX,
                     ReduceOp.AVG: getattr(nccl, "NCCL_AVG", nccl.NCCL_SUM)}

    def destroy(self):
        self.comm.destroy()

    def _type(self, t):
        if not t.is_contiguous():
            raise RuntimeError("the NCCL backend needs contiguous tensors")
        try:
            return self._dtypes[t.dtype]
        except KeyError:
            raise RuntimeError(f"the NCCL backend does not support dtype {t.dtype}") from None

    def _op(self, op, t):
        if not isinstance(op, ReduceOp):
            raise TypeError(f"op must be an ember.distributed.ReduceOp, got {op!r}")
        if t.dtype == ember.bool:
            # bool travels as uint8: or (SUM, MAX) and and (MIN, PRODUCT), as on MPI
            if op is ReduceOp.AVG:
                raise RuntimeError("ReduceOp.AVG is not supported for bool tensors")
            op = ReduceOp.MAX if op in (ReduceOp.SUM, ReduceOp.MAX) else ReduceOp.MIN
        return self._ops[op]

    def _done(self, outputs, async_op, after=None):
        stream = self._cupy.cuda.get_current_stream()
        if after is not None:
            after()
        if not async_op:
            stream.synchronize()
            return None
        event = self._cupy.cuda.Event()
        event.record(stream)
        return _EventWork(event, outputs)

    def _stream(self):
        return self._cupy.cuda.get_current_stream().ptr

    def all_reduce(self, t, op, async_op):
        self.comm.allReduce(t.data_ptr(), t.data_ptr(), t.numel(), self._type(t),
                            self._op(op, t), self._stream())
        return self._done([t], async_op, self._average_after(op, t))

    def broadcast(self, t, root, async_op):
        self.comm.broadcast(t.data_ptr(), t.data_ptr(), t.numel(), self._type(t), root,
                            self._stream())
        return self._done([t], async_op)

    def reduce(self, t, root, op, async_op):
        self.comm.reduce(t.data_ptr(), t.data_ptr(), t.numel(), self._type(t), self._op(op, t),
                         root, self._stream())
        return self._done([t], async_op, self._average_after(op, t))

    def all_gather(self, out, inp, async_op, after=None, outputs=None):
        self.comm.allGather(inp.data_ptr(), out.data_ptr(), inp.numel(), self._type(inp),
                            self._stream())
        return self._done(outputs or [out], async_op, after)

    def reduce_scatter(self, out, inp, op, async_op, after=None, outputs=None):
        self.comm.reduceScatter(inp.data_ptr(), out.data_ptr(), out.numel(), self._type(inp),
                                self._op(op, inp), self._stream())
        return self._done(outputs or [out], async_op,
                          chain(self._average_after(op, out), after))

    def exchange(self, sends, recvs, async_op, outputs, after=None):
        """Point-to-point transfers as one NCCL group (all-to-all, gather, scatter):
        ``sends`` and ``recvs`` are ``(contiguous tensor, peer)`` pairs; empty ones are
        skipped (the peer skips its side too)."""
        nccl, stream = self._nccl, self._stream()
        nccl.groupStart()
        try:
            for t, peer in sends:
                if t.numel():
                    self.comm.send(t.data_ptr(), t.numel(), self._type(t), peer, stream)
            for t, peer in recvs:
                if t.numel():
                    self.comm.recv(t.data_ptr(), t.numel(), self._type(t), peer, stream)
        finally:
            nccl.groupEnd()
        return self._done(outputs, async_op, after)

    def send(self, t, peer, async_op):
        self.comm.send(t.data_ptr(), t.numel(), self._type(t), peer, self._stream())
        return self._done([t], async_op)

    def recv(self, t, peer, async_op):
        self.comm.recv(t.data_ptr(), t.numel(), self._type(t), peer, self._stream())
        return self._done([t], async_op)

    def _average_after(self, op, t):
        """NCCL older than 2.10 has no average: divide the sum afterwards."""
        if op is ReduceOp.AVG and not hasattr(self._nccl, "NCCL_AVG"):
            def divide():
                with ember.no_grad():
                    t.div_(self.size)
            return divide
        return None


class _EventWork(Work):
    """A Work that completes when a CUDA event recorded after the operation has passed."""

    def __init__(self, event, outputs):
        super().__init__((), None, outputs)
        self._event = event

    def wait(self, timeout=None):
        if not self._done:
            self._event.synchronize()
            self._done = True
        return True

    def is_completed(self):
        if not self._done and self._event.done:
            self._done = True
        return self._done
