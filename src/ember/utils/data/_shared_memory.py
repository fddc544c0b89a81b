"""Tensors in POSIX shared memory, handed to another process as a small descriptor.

A producer process owns a :class:`SharedArena`: a pool of shared-memory segments
into which it writes tensors (``arena.empty(shape, dtype)`` gives a tensor whose
memory is in a segment).  :func:`dumps` pickles any object with every tensor (and
numeric NumPy array) replaced by a descriptor ``(segment name, offset, dtype,
shape)``; tensors not yet in the arena are copied there once.  The consumer calls
:func:`pickle.loads` on the bytes: each segment is mapped (zero copy) and the tensors
are views of that mapping, which they keep alive.

Each segment starts with a 64-byte header whose first byte says whether the
consumer still holds a batch in it.  The producer sets it when it writes a batch,
the consumer clears it when the last tensor viewing that batch's mapping is
released, and the producer then reuses the segment, so that a steady stream of
batches costs no system call on the producer's side and one ``mmap`` per batch on
the consumer's.  The consumer unlinks a segment's name as soon as it has opened it,
so nothing is left in the shared-memory file system once both sides have it open;
:func:`unlink_prefix` removes the names of segments a dead producer left unclaimed.
"""
import io
import math
import mmap
import os
import pickle
import secrets
import weakref

import numpy as np

import ember
from ember.multiprocessing._shared_memory import create_segment, open_segment, unlink_segment

__all__ = ["SharedArena", "dumps", "detach", "unlink_prefix", "new_prefix", "current_arena",
           "set_current_arena"]

HEADER_BYTES = 64
ALIGNMENT = 64
# smallest segment created; one page multiple keeps mmap offsets valid
MIN_SEGMENT_BYTES = 64 * 1024
# free segments a producer keeps for reuse beyond those in flight
MAX_FREE_SEGMENTS = 4
_SHM_DIR = "/dev/shm"
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)

_current_arena = None


def new_prefix():
    """A name prefix unique to this process and call, for one family of segments."""
    return f"ember_{os.getpid()}_{secrets.token_hex(4)}_"


def current_arena():
    """The arena tensors of this process are collated into, or None (the main process)."""
    return _current_arena


def set_current_arena(arena):
    """Make ``arena`` (or None) the arena :func:`current_arena` returns."""
    global _current_arena
    _current_arena = arena


_itemsizes = {}


def _nbytes(shape, dtype):
    itemsize = _itemsizes.get(dtype)
    if itemsize is None:
        itemsize = _itemsizes[dtype] = ember.empty((), dtype=dtype).element_size()
    return itemsize * math.prod(shape)


def _round_up(value, multiple):
    return -(-value // multiple) * multiple


class _Segment:
    """A segment created by this process: a header byte (in use by the consumer) then data."""

    def __init__(self, name, capacity):
        self.name = name
        self.capacity = capacity
        fd, self.map = create_segment(name, HEADER_BYTES + capacity)
        os.close(fd)
        self.bytes = np.frombuffer(self.map, dtype=np.uint8)
        self.address = self.bytes.ctypes.data

    @property
    def in_use(self):
        return self.map[0] != 0

    @in_use.setter
    def in_use(self, value):
        self.map[0] = 1 if value else 0

    def destroy(self):
        unlink_segment(self.name)  # unless the consumer did when it opened it
        self.bytes = None
        try:
            self.map.close()
        except BufferError:
            pass  # a tensor of this process still views it: unmapped when it dies


class SharedArena:
    """A producer's pool of shared-memory segments that tensors are written into.

    Parameters
    ----------
    prefix : str
        Name prefix of the segments (see :func:`new_prefix`); the consumer can
        remove leftovers with :func:`unlink_prefix`.

    Notes
    -----
    A batch is written between :meth:`begin` and :meth:`end`; its tensors are
    bump-allocated, 64-byte aligned, in as few segments as possible.  The segments
    it used stay reserved until the consumer releases the batch.
    """

    def __init__(self, prefix):
        self.prefix = prefix
        self._segments = []
        self._counter = 0
        self._batch = []            # segments used by the batch being written
        self._cursor = 0            # next free byte in self._batch[-1]
        self._size_hint = 0         # bytes the largest batch so far needed
        self._batch_bytes = 0
        self.retired = []           # names the consumer may forget (sent with the next batch)

    def begin(self):
        """Start writing a batch."""
        self._batch = []
        self._cursor = 0
        self._batch_bytes = 0

    def end(self, sent):
        """Finish a batch; if it was not ``sent``, its segments are free again."""
        if not sent:
            for segment in self._batch:
                segment.in_use = False
        self._size_hint = max(self._size_hint, self._batch_bytes)
        self._batch = []
        free = [s for s in self._segments if not s.in_use]
        for segment in free[:max(0, len(free) - MAX_FREE_SEGMENTS)]:
            self._retire(segment)

    def _retire(self, segment):
        self._segments.remove(segment)
        self.retired.append(segment.name)
        segment.destroy()

    def _acquire(self, nbytes):
        need = max(nbytes, self._size_hint - self._batch_bytes)
        for segment in self._segments:
            if not segment.in_use and segment.capacity >= need:
                break
        else:
            for small in [s for s in self._segments if not s.in_use]:
                self._retire(small)
            capacity = _round_up(max(need, MIN_SEGMENT_BYTES - HEADER_BYTES) + HEADER_BYTES,
                                 mmap.PAGESIZE) - HEADER_BYTES
            segment = _Segment(f"{self.prefix}{self._counter}", capacity)
            self._counter += 1
            self._segments.append(segment)
        segment.in_use = True
        self._batch.append(segment)
        self._cursor = HEADER_BYTES
        return segment

    def allocate(self, nbytes):
        """Reserve ``nbytes`` for the current batch; returns ``(segment, offset)``."""
        offset = _round_up(self._cursor, ALIGNMENT)
        if not self._batch or offset + nbytes > HEADER_BYTES + self._batch[-1].capacity:
            segment = self._acquire(nbytes)
            offset = HEADER_BYTES
        segment = self._batch[-1]
        self._cursor = offset + nbytes
        self._batch_bytes += nbytes
        return segment, offset

    def empty(self, shape, dtype):
        """An uninitialised contiguous tensor whose memory is in this arena's current batch."""
        shape = tuple(shape)
        nbytes = _nbytes(shape, dtype)
        segment, offset = self.allocate(nbytes)
        raw = ember.from_numpy(segment.bytes[offset:offset + nbytes])
        return raw.view(dtype).view(shape)

    def locate(self, tensor):
        """``(segment, offset)`` of a contiguous tensor whose memory is in a segment, else None."""
        address = tensor.data_ptr()
        for segment in self._batch:
            if segment.address <= address < segment.address + HEADER_BYTES + segment.capacity:
                return segment, address - segment.address
        return None

    def close(self):
        """Unlink and unmap every segment (the consumer keeps the ones it holds mapped)."""
        for segment in list(self._segments):
            segment.destroy()
        self._segments = []


class _SegmentRef:
    """Pickles as a request to map a segment; one object per segment and batch (pickle memoizes)."""

    def __init__(self, name, size):
        self.name = name
        self.size = size

    def __reduce__(self):
        return _map_segment, (self.name, self.size)


class _Pickler(pickle.Pickler):
    def __init__(self, file, arena):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._arena = arena
        self._refs = {}

    def _ref(self, segment):
        ref = self._refs.get(segment.name)
        if ref is None:
            ref = self._refs[segment.name] = _SegmentRef(
                segment.name, HEADER_BYTES + segment.capacity)
        return ref

    def _place(self, tensor):
        located = self._arena.locate(tensor) if tensor.is_contiguous() else None
        if located is None:
            copy = self._arena.empty(tensor.shape, tensor.dtype)
            with ember.no_grad():
                copy.copy_(tensor)
            located = self._arena.locate(copy)
        return located

    def reducer_override(self, obj):
        if isinstance(obj, ember.Tensor):
            segment, offset = self._place(obj)
            return _rebuild_tensor, (self._ref(segment), offset, str(obj.dtype).split(".")[-1],
                                     tuple(obj.shape), bool(obj.requires_grad))
        if type(obj) is np.ndarray and not obj.dtype.hasobject:
            segment, offset = self._place(ember.from_numpy(np.ascontiguousarray(obj)))
            return _rebuild_array, (self._ref(segment), offset, obj.dtype, obj.shape)
        return NotImplemented


def dumps(obj, arena):
    """Pickle ``obj`` with its tensors and NumPy arrays passed through ``arena``'s shared memory.

    Parameters
    ----------
    obj : object
        Any picklable object; its tensors may already be in the arena's current batch.
    arena : SharedArena
        Where tensor data goes; call ``arena.begin()`` before and ``arena.end()`` after.

    Returns
    -------
    bytes
        A pickle holding only descriptors of the tensor data, for :func:`pickle.loads`.
    """
    buffer = io.BytesIO()
    _Pickler(buffer, arena).dump(obj)
    return buffer.getvalue()


class _Attached:
    """The consumer's handle on a segment: its descriptor and a one-page header mapping."""

    def __init__(self, name):
        self.fd = open_segment(name)
        # both sides have it open now: nothing needs the name any more
        unlink_segment(name)
        self.header = mmap.mmap(self.fd, mmap.PAGESIZE, flags=mmap.MAP_SHARED)

    def release(self):
        self.header[0] = 0

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# name -> _Attached, for the segments this process maps
_attached = {}


def _map_segment(name, size):
    record = _attached.get(name)
    if record is None:
        record = _attached[name] = _Attached(name)
    mapping = mmap.mmap(record.fd, size, flags=_MAP_FLAGS)
    # the producer may reuse the segment once every tensor viewing this mapping is gone
    weakref.finalize(mapping, record.release)
    return mapping


def _view(mapping, offset, nbytes):
    return np.frombuffer(mapping, dtype=np.uint8, count=nbytes, offset=offset)


def _rebuild_tensor(mapping, offset, dtype_name, shape, requires_grad):
    dtype = getattr(ember, dtype_name)
    nbytes = _nbytes(shape, dtype)
    tensor = ember.from_numpy(_view(mapping, offset, nbytes)).view(dtype).view(shape)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _rebuild_array(mapping, offset, dtype, shape):
    return np.frombuffer(mapping, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape)


def detach(names):
    """Forget the segments ``names`` (their producer retired them); mapped batches stay valid."""
    for name in names:
        record = _attached.pop(name, None)
        if record is not None:
            record.close()


def unlink_prefix(prefix):
    """Forget and unlink every segment whose name starts with ``prefix`` (after its producer ended).

    Parameters
    ----------
    prefix : str
        The prefix given to the producers' :class:`SharedArena`.
    """
    detach([name for name in _attached if name.startswith(prefix)])
    if not os.path.isdir(_SHM_DIR):
        return
    for name in os.listdir(_SHM_DIR):
        if name.startswith(prefix):
            unlink_segment(name)
