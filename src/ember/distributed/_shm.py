"""All-reduce through one shared-memory window, for groups whose ranks share a node.

MPI's ``Allreduce`` between processes of one node pipelines the data through the
library's own shared-memory cells, a copy and a handshake per cell.  Here every rank
copies its data once into its segment of an MPI-3 shared window
(``MPI_Win_allocate_shared``), reduces its own slice of every rank's copy in place of
its segment, and takes the other slices back from their owners' segments: two barriers
per pass of at most ``CHUNK_BYTES``.  Each slice is summed by one rank in rank order, so
every rank gets the same bits.  Measured with tools/bench_distributed.py (2 ranks, one
thread each): see ``MIN_BYTES``.

The window is created by the first all-reduce of a group that takes this path (every
rank of the group calls it, as a collective requires), and only when the whole group
is on one node.
"""
import numpy as np

from ember.distributed._buffers import UFUNCS, FAST_DTYPES
from ember.distributed._process_group import _mpi

# bytes of one pass through a rank's segment; a segment holds two, used in turn, so a
# rank writes the next pass while a slower one still reads the last
CHUNK_BYTES = 4 << 20
# smaller tensors go to MPI's Allreduce, whose single handshake is quicker than two
# barriers: 2 ranks, float32, medians (MPI / shared window), a Python prototype on a
# loaded machine: 1e3 elements 15 / 26 us, 2.25e5 (a 0.9 MB gradient bucket) 115 / 63 us;
# tools/bench_distributed.py on a quiet one: 1e6 425 / 285 us
MIN_BYTES = 64 << 10


class NodeWindow:
    """The shared segments of a group's ranks (create with :func:`window_of`)."""

    def __init__(self, node, win):
        self.node, self.win = node, win
        self.rank, self.size = node.Get_rank(), node.Get_size()
        self.segments = [np.frombuffer(win.Shared_query(q)[0], dtype=np.uint8)
                         for q in range(self.size)]
        self.passes = 0

    def all_reduce(self, arrays, ufunc, divisor=None, outs=None):
        """Reduce 1-d contiguous ``arrays`` (one dtype), taken together as one vector,
        across the ranks with ``ufunc``, into ``outs`` (arrays of the same sizes; by
        default ``arrays`` themselves); ``divisor``: each rank's values are divided by it
        on their way in (an average's division before the sum, as PyTorch's DDP divides
        its buckets)."""
        dtype = arrays[0].dtype
        per = CHUNK_BYTES // dtype.itemsize
        pieces, fill = [], 0       # (array, out, start, length, offset in the pass)
        for a, out in zip(arrays, arrays if outs is None else outs):
            start = 0
            while start < a.size:
                take = min(a.size - start, per - fill)
                pieces.append((a, out, start, take, fill))
                start += take
                fill += take
                if fill == per:
                    self._reduce_pass(pieces, fill, dtype, ufunc, divisor)
                    pieces, fill = [], 0
        if fill:
            self._reduce_pass(pieces, fill, dtype, ufunc, divisor)

    def _reduce_pass(self, pieces, count, dtype, ufunc, divisor):
        half = (self.passes & 1) * CHUNK_BYTES
        self.passes += 1
        views = [s[half:half + count * dtype.itemsize].view(dtype) for s in self.segments]
        mine = views[self.rank]
        for a, _, start, n, at in pieces:
            if divisor is None:
                mine[at:at + n] = a[start:start + n]
            else:
                np.divide(a[start:start + n], divisor, out=mine[at:at + n])
        self._barrier()
        # this rank's slice of the pass, summed over the ranks in rank order into its
        # own segment (the same positions it read there)
        per = -(-count // self.size)
        lo, hi = min(count, self.rank * per), min(count, (self.rank + 1) * per)
        ufunc(views[0][lo:hi], views[1][lo:hi], out=mine[lo:hi])
        for q in range(2, self.size):
            ufunc(mine[lo:hi], views[q][lo:hi], out=mine[lo:hi])
        self._barrier()
        # each piece back from the segments of the slices' owners
        for _, out, start, n, at in pieces:
            q, end = at // per, at + n
            while at < end:
                stop = min(end, (q + 1) * per)
                out[start:start + stop - at] = views[q][at:stop]
                start += stop - at
                at = stop
                q += 1

    def _barrier(self):
        # MPI_Win_sync orders this rank's stores to the window before the barrier, and
        # the others' loads after it
        self.win.Sync()
        self.node.Barrier()
        self.win.Sync()

    def free(self):
        self.win.Unlock_all()
        self.win.Free()
        self.node.Free()


def window_of(pg):
    """The group's :class:`NodeWindow`, created on first use (collective over the group);
    None when its ranks are on more than one node or the window cannot be made."""
    if pg._shm is None:
        pg._shm = _create(pg.comm) or False
    return pg._shm or None


def _create(comm):
    MPI = _mpi()
    node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
    win = None
    if node.Get_size() == comm.Get_size() > 1:
        try:
            win = MPI.Win.Allocate_shared(2 * CHUNK_BYTES, 1, comm=node)
        except MPI.Exception:
            win = None
    # every rank takes the same path, even where only one could not map the memory
    if not comm.allreduce(win is not None, op=MPI.LAND):
        if win is not None:
            win.Free()
        node.Free()
        return None
    win.Lock_all(MPI.MODE_NOCHECK)
    return NodeWindow(node, win)


def usable(pg, buffer, op):
    """Whether an all-reduce of contiguous CPU tensor ``buffer`` with ``op`` takes the
    shared window (decided from what is the same on every rank of the group)."""
    return (buffer.device.type == "cpu" and op in UFUNCS and buffer.dtype in FAST_DTYPES
            and buffer.nbytes >= MIN_BYTES and pg._shm is not False)
