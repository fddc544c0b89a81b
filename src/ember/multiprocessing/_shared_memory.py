"""POSIX shared-memory segments: the blocks shared storages live in.

:class:`SharedMemoryBlock` is the class the core registers (``register_shared_memory``):
``Storage.share_memory_()`` makes one and moves its bytes into it.  How a block is
named depends on the sharing strategy in force when it is made:

``'file_descriptor'``
    The segment's name is unlinked as soon as it is made; the block keeps the file
    descriptor open and another process receives a duplicate of it
    (:class:`multiprocessing.reduction.DupFd`).  Nothing ever stays in the shared-memory
    file system, but the sending process must be alive when the receiver unpickles.
``'file_system'``
    The segment keeps its name, and the 64-byte header of the segment holds a reference
    count (updated under ``flock``) of the blocks and in-flight messages using it; the
    last one to let go unlinks the name.

The segment functions below are also what ``ember.utils.data``'s worker arena uses.
"""
import fcntl
import mmap
import os
import secrets
import weakref

try:
    import _posixshmem
except ImportError:  # pragma: no cover - every POSIX CPython has it
    _posixshmem = None

__all__ = ["SharedMemoryBlock", "create_segment", "open_segment", "unlink_segment", "new_name",
           "SHARING_STRATEGIES", "sharing_strategy", "set_strategy"]

# bytes before a block's data: its reference count (file_system strategy), 64-byte aligned data
HEADER_BYTES = 64
SHARING_STRATEGIES = frozenset({"file_descriptor", "file_system"})
_strategy = "file_descriptor"


def sharing_strategy():
    """The strategy new blocks are made with."""
    return _strategy


def set_strategy(name):
    """Make ``name`` the strategy of the blocks made from now on."""
    global _strategy
    _strategy = name


def _require_shm():
    if _posixshmem is None:  # pragma: no cover
        raise RuntimeError("shared memory needs POSIX shared memory (shm_open)")


def new_name(prefix="ember_"):
    """A segment name unique to this process and call."""
    return f"{prefix}{os.getpid()}_{secrets.token_hex(6)}"


def create_segment(name, size):
    """Create the segment ``name`` of ``size`` bytes; returns its open descriptor and a mapping."""
    _require_shm()
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
    try:
        os.ftruncate(fd, size)
        return fd, mmap.mmap(fd, size, flags=mmap.MAP_SHARED)
    except BaseException:
        os.close(fd)
        unlink_segment(name)
        raise


def open_segment(name):
    """Open the existing segment ``name``; returns its descriptor."""
    _require_shm()
    return _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)


def unlink_segment(name):
    """Remove the name ``name`` (mappings and descriptors stay valid); absent names are ignored."""
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        pass


def add_reference(fd, mapping, delta):
    """Add ``delta`` to a named segment's reference count, under a lock; returns the new count."""
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        count = int.from_bytes(mapping[:8], "little") + delta
        mapping[:8] = count.to_bytes(8, "little")
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
    return count


def _release(fd, mapping, name, pid):
    # a forked child inherits its parent's blocks without holding references of its own
    if name is not None and pid == os.getpid() and add_reference(fd, mapping, -1) == 0:
        unlink_segment(name)
    os.close(fd)


class SharedMemoryBlock:
    """One storage's bytes in a shared-memory segment.

    Parameters
    ----------
    nbytes : int
        Bytes of data the block holds.

    Attributes
    ----------
    name : str or None
        The segment's name (``'file_system'`` strategy), or None once unlinked.
    fd : int
        The open descriptor of the segment, closed when the block dies.
    memory : memoryview
        The writable data bytes (after the header); the core points the storage at them.
    """

    def __init__(self, nbytes, *, _fd=None, _name=None):
        if _fd is None:
            name = new_name()
            fd, mapping = create_segment(name, HEADER_BYTES + nbytes)
            if _strategy == "file_system":
                mapping[:8] = (1).to_bytes(8, "little")
            else:
                unlink_segment(name)
                name = None
        else:
            # a segment received from another process
            fd, name = _fd, _name
            mapping = mmap.mmap(fd, HEADER_BYTES + nbytes, flags=mmap.MAP_SHARED)
            if name is not None:
                add_reference(fd, mapping, 1)
        self.name = name
        self.fd = fd
        self.nbytes = nbytes
        self._mapping = mapping
        # this export keeps the mapping from being closed while a storage points into it
        self.memory = memoryview(mapping)[HEADER_BYTES:HEADER_BYTES + nbytes]
        weakref.finalize(self, _release, fd, mapping, name, os.getpid())

    @classmethod
    def attach(cls, fd, nbytes, name=None):
        """The block of a segment another process made, from its descriptor (owned hereafter)."""
        return cls(nbytes, _fd=fd, _name=name)

    def add_reference(self, delta):
        """Add ``delta`` to the count of users of a named segment (a message in flight is one)."""
        return add_reference(self.fd, self._mapping, delta)
