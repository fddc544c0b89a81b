# Devices, the backend registry, Storage and the allocator/thread controls.
# Included by _tensor.pyx.
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release

# ---------------------------------------------------------------- devices

cdef dict _DEVICE_TYPES = {"cpu": DEV_CPU, "cuda": DEV_CUDA, "meta": DEV_META}


cdef class device:
    """Where a tensor's memory lives: ``ember.device('cpu')`` or ``ember.device('cuda', 0)``;
    ``ember.device('meta')`` holds tensors without memory (shapes and dtypes only).

    Parameters
    ----------
    type : str or device
        ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'meta'``.
    index : int, optional
        Device ordinal for ``'cuda'``.
    """

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(): an index cannot be given with a device object")
            self.type = (<device>type).type
            self.index = (<device>type).index
            self.type_num = (<device>type).type_num
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or device, got {type!r}")
        name = type
        if ":" in name:
            if index is not None:
                raise ValueError(f"device(): type {name!r} already names an index")
            name, _, idx = name.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(idx)
        if name not in _DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of cpu, cuda, meta device type at start of device string: {type}")
        if index is not None:
            index = operator.index(index)
            if index < 0:
                raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = name
        self.index = index
        self.type_num = _DEVICE_TYPES[name]

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == (<device>other).type and self.index == (<device>other).index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """``with ember.device('cuda'):`` makes this the default device of the factory
        functions inside the block (see :func:`set_default_device`)."""
        _push_thread_default(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        _pop_thread_default()


cdef device CPU = device("cpu")

# The default device of the factory functions, per thread as in PyTorch.  Until some
# thread sets one, `default_device_arg` answers without looking at the thread.
_thread_defaults = threading.local()
cdef bint _default_device_set = False


cdef object default_device_arg(object dev):
    """`dev`, or the thread's default device when `dev` is None and one is set (else
    None, so that each factory keeps its own rule for a missing device), as PyTorch's
    device context fills in a missing ``device=`` of its factory functions."""
    if dev is not None or not _default_device_set:
        return dev
    return getattr(_thread_defaults, "device", None)


def set_default_device(device):
    """Set the device on which factory functions (``zeros``, ``tensor``, ``rand``,
    ``arange``, ...) create tensors when given no ``device=``, for the calling thread.

    Parameters
    ----------
    device : device, str, int or None
        None (or ``'cpu'``) restores the CPU.

    Notes
    -----
    Functions that share memory with their input (``from_numpy``, ``frombuffer``)
    and the ``*_like`` functions (which follow their input) are not affected.
    ``with ember.device('cuda'):`` sets the default for a block.
    """
    _set_thread_default(device)


cdef int _set_thread_default(object requested) except -1:
    global _default_device_set
    cdef device dev = CPU if requested is None else as_device(requested)
    _thread_defaults.device = None if dev.type_num == DEV_CPU else dev
    if dev.type_num != DEV_CPU:
        _default_device_set = True
    return 0


cdef int _push_thread_default(device dev) except -1:
    """Enter a ``with device`` block: remember the thread's default, then set `dev`."""
    if not hasattr(_thread_defaults, "saved"):
        _thread_defaults.saved = []
    _thread_defaults.saved.append(getattr(_thread_defaults, "device", None))
    return _set_thread_default(dev)


cdef int _pop_thread_default() except -1:
    """Leave a ``with device`` block: restore the default it replaced."""
    return _set_thread_default(_thread_defaults.saved.pop())


def get_default_device():
    """The device on which factory functions create tensors when given no ``device=``
    (the CPU unless :func:`set_default_device` chose another); a ``'cuda'`` default
    without an index reads as the current CUDA device."""
    dev = default_device_arg(None)
    if dev is None:
        return CPU
    if (<device>dev).index is None:
        return new_tensor(0, NULL, EM_FLOAT32, dev)._storage.device
    return dev


cdef device as_device(object obj):
    if obj is None:
        return CPU
    if type(obj) is device:
        return <device>obj
    d = device(obj)
    if d.type == "cpu":
        return CPU
    return d


# Backends for devices other than the CPU register here (the CUDA backend, later).
cdef dict _backends = {}


def register_backend(str device_type, backend):
    """Register the object implementing ops for ``device_type`` (used by ember.cuda)."""
    _backends[device_type] = backend


def backend(str device_type):
    """The backend registered for ``device_type`` (RuntimeError when there is none)."""
    return backend_for(device(device_type))


cdef object backend_for(device dev):
    b = _backends.get(dev.type)
    if b is None:
        raise RuntimeError(
            f"ember has no backend for device '{dev}': the {dev.type} backend is not available "
            f"in this build")
    return b


def device_storage(size_t address, Py_ssize_t nbytes, object owner, device dev):
    """A Storage over memory a backend allocated on ``dev`` (not the CPU).

    ``owner`` keeps the memory alive (CuPy's pooled allocation for CUDA); ember's
    CPU kernels refuse the storage's tensors (``Tensor.ptr`` checks the device).
    """
    if dev.type_num == DEV_CPU:
        raise ValueError("device_storage: CPU storages come from ember's own allocator")
    if nbytes < 0:
        raise ValueError(f"device_storage: nbytes must be non-negative, got {nbytes}")
    return borrow_storage(<char *>address, nbytes, owner, False, dev)


# ---------------------------------------------------------------- storage

# Not tracked by the cycle collector: a storage refers only to its device and to
# the foreign owner of borrowed memory, never back to the tensors that view it.
@cython.final
@cython.freelist(256)
@cython.no_gc
cdef class Storage:
    """A block of memory on a device, shared by every tensor viewing it
    (``ember.UntypedStorage``, what ``Tensor.untyped_storage()`` returns).

    Owns memory from ember's caching allocator, or borrows memory from a
    foreign object (a NumPy array, a DLPack producer) and keeps it alive.
    Carries the version counter that in-place operations bump.  Indexing reads
    and writes bytes; a slice is a storage over part of the bytes.  Unlike
    PyTorch's, a storage keeps the size it was made with (no ``resize_``).

    Parameters
    ----------
    size : int, optional
        The number of bytes of a new storage (uninitialised).
    device : device, optional
        Where a new storage lives.
    """

    def __init__(self, size=0, *, device=None):
        """``ember.UntypedStorage(nbytes, device=None)``: ``nbytes`` new, uninitialised bytes."""
        if self.device is not None:
            raise RuntimeError("ember.UntypedStorage is already initialised")
        cdef Py_ssize_t nbytes = operator.index(size)
        if nbytes < 0:
            raise RuntimeError(f"Storage size must be non-negative, got {nbytes}")
        # borrow the bytes of a storage the allocator made, which knows how to free them
        cdef Storage block = new_storage(nbytes, as_device(device))
        self.data = block.data
        self.size_bytes = nbytes
        self.owner = block
        self.device = block.device

    def __dealloc__(self):
        if self.owns_data and self.data != NULL:
            em_free(self.data, <size_t>self.size_bytes)
            self.data = NULL

    def nbytes(self):
        """The size in bytes (a method, as ``torch.UntypedStorage.nbytes``)."""
        return self.size_bytes

    def size(self):
        """The size in bytes (an untyped storage counts bytes)."""
        return self.size_bytes

    def data_ptr(self):
        """The address of the first byte."""
        return <size_t>self.data

    def __len__(self):
        return self.size_bytes

    def element_size(self):
        """1: an untyped storage's elements are bytes."""
        return 1

    def untyped(self):
        """The storage itself (as ``TypedStorage.untyped()`` gives its bytes)."""
        return self

    @property
    def is_cuda(self):
        """Whether the bytes are on a CUDA device."""
        return self.device.type_num == DEV_CUDA

    def __getitem__(self, idx):
        """The byte at ``idx`` as an int, or for a slice (step 1) a storage viewing those bytes."""
        cdef Py_ssize_t start, stop, step
        if isinstance(idx, slice):
            start, stop, step = idx.indices(self.size_bytes)
            if step != 1:
                raise RuntimeError(f"Trying to slice with a step of {step}, but only a step "
                                   f"of 1 is supported")
            return borrow_storage(self.data + start, max(stop - start, 0), self,
                                  self.readonly_mem, self.device)
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise TypeError(f"can't index a ember.UntypedStorage with {type(idx).__name__}")
        if idx < -self.size_bytes or idx >= self.size_bytes:
            raise IndexError(f"index {idx} out of range for storage of size {self.size_bytes}")
        return _byte_view(self)[idx].item()

    def __setitem__(self, idx, value):
        if isinstance(idx, bool) or not isinstance(idx, (int, slice)):
            raise TypeError(f"can't index a ember.UntypedStorage with {type(idx).__name__}")
        _byte_view(self)[idx] = value

    def tolist(self):
        """The bytes as a list of ints."""
        return _byte_view(self).tolist()

    def fill_(self, value):
        """Set every byte to ``value``; returns ``self``."""
        _byte_view(self).fill_(value)
        return self

    def copy_(self, source, non_blocking=None):
        """Copy the bytes of ``source`` (a storage of the same size, on any device)."""
        if not isinstance(source, Storage):
            source = getattr(source, "_untyped_storage", source)
        if not isinstance(source, Storage):
            raise TypeError(f"copy_(): expected an ember.UntypedStorage, got "
                            f"{type(source).__name__}")
        if (<Storage>source).size_bytes != self.size_bytes:
            raise RuntimeError(f"size does not match, self was {self.size_bytes} bytes but src "
                               f"was {(<Storage>source).size_bytes} bytes")
        _byte_view(self).copy_(_byte_view(source))
        return self

    def clone(self):
        """A new storage on the same device with a copy of the bytes."""
        return Storage(self.size_bytes, device=self.device).copy_(self)

    def cpu(self):
        """The storage itself on the CPU, else a copy of its bytes on the CPU."""
        if self.device.type_num == DEV_CPU:
            return self
        return Storage(self.size_bytes).copy_(self)

    def __str__(self):
        # a meta storage has a size but no bytes to show
        data = " ..." if self.device.type_num == DEV_META else " " + "\n ".join(
            str(b) for b in self.tolist())
        return f"{data}\n[ember.UntypedStorage(device={self.device}) of size {self.size_bytes}]"

    def __repr__(self):
        return str(self)

    def share_memory_(self):
        """Move the bytes into shared memory in place: every tensor viewing the storage follows.

        A no-op for a storage already in shared memory or not on the CPU.  Returns ``self``.
        """
        if self.device.type_num != DEV_CPU or self.is_shared():
            return self
        if _shared_block_type is None:
            raise RuntimeError("shared memory is provided by ember.multiprocessing, not imported")
        block = _shared_block_type(self.size_bytes)
        cdef char *address = _block_address(block, self.size_bytes)
        memcpy(address, self.data, self.size_bytes)
        if self.owns_data:
            em_free(self.data, <size_t>self.size_bytes)
        self.data = address
        self.owns_data = False
        self.owner = block
        self.readonly_mem = False
        return self

    def is_shared(self):
        """Whether the bytes are in shared memory (see :meth:`share_memory_`)."""
        return _shared_block_type is not None and isinstance(self.owner, _shared_block_type)

    @property
    def _shared_block(self):
        """The shared-memory block holding the bytes, or None."""
        return self.owner if self.is_shared() else None

    def __reduce__(self):
        if self.device.type_num != DEV_CPU:
            raise TypeError(f"cannot pickle a storage on {self.device}: move the tensor to the CPU")
        return (_rebuild_storage, (PyBytes_FromStringAndSize(self.data, self.size_bytes),))


cdef Tensor _byte_view(Storage s):
    """The bytes of `s` as a 1-D uint8 tensor sharing them."""
    return _rebuild_tensor_view(s, "uint8", (s.size_bytes,), (1,), 0, False)


# inference_mode, per thread (PyTorch's is thread-local): storages made while it is on
# belong to inference tensors
cdef extern from *:
    """
    static _Thread_local int em_inference_on = 0;
    """
    int em_inference_on


cdef bint inference_mode_on() noexcept:
    return em_inference_on


def _set_inference_mode(bint on):
    """Mirror ember.inference_mode's state of the calling thread into the core."""
    global em_inference_on
    em_inference_on = on


cdef int check_not_inference(Tensor t, str what) except -1:
    """Refuse what PyTorch refuses of an inference tensor outside inference_mode: `what`
    is "inplace" (a write), "version" or "requires_grad"."""
    if not t._storage.inference or em_inference_on:
        return 0
    if what == "inplace":
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for "
                           "more details.")
    if what == "version":
        raise RuntimeError("Inference tensors do not track version counter.")
    raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode "
                       "is not allowed.")


cdef Storage new_storage(Py_ssize_t nbytes, device dev):
    cdef Storage s
    if dev.type_num != DEV_CPU:
        s = backend_for(dev).new_storage(nbytes, dev)
        s.inference = em_inference_on
        return s
    s = Storage.__new__(Storage)
    cdef Py_ssize_t alloc = nbytes if nbytes > 0 else 1
    s.data = <char *>em_alloc(<size_t>alloc)
    if s.data == NULL:
        # RuntimeError, as PyTorch's allocator raises for a request that cannot be met
        raise RuntimeError(f"CPU allocator: can't allocate memory: you tried to allocate "
                           f"{nbytes} bytes")
    s.size_bytes = alloc
    s.owns_data = True
    s.device = dev
    s.inference = em_inference_on
    return s


cdef Storage copy_storage(Storage s):
    """A new CPU storage holding a copy of `s`'s bytes."""
    cdef Storage c = new_storage(s.size_bytes, s.device)
    memcpy(c.data, s.data, s.size_bytes)
    return c


cdef Storage borrow_storage(char *data, Py_ssize_t nbytes, object owner, bint readonly, device dev):
    cdef Storage s = Storage.__new__(Storage)
    s.data = data
    s.size_bytes = nbytes
    s.owns_data = False
    s.owner = owner
    s.readonly_mem = readonly
    s.device = dev
    s.inference = em_inference_on
    return s


# The class of shared-memory blocks, registered by ember.multiprocessing: called with a byte
# count it makes a block whose `memory` attribute is a writable buffer of at least that size
# (which it keeps exported, so the mapping cannot be closed under a storage).
cdef object _shared_block_type = None


def register_shared_memory(block_type):
    """Register the class of the shared-memory blocks storages move into (ember.multiprocessing)."""
    global _shared_block_type
    _shared_block_type = block_type


cdef char *_block_address(object block, Py_ssize_t nbytes) except NULL:
    cdef Py_buffer view
    PyObject_GetBuffer(block.memory, &view, PyBUF_WRITABLE)
    cdef char *address = <char *>view.buf
    cdef Py_ssize_t length = view.len
    PyBuffer_Release(&view)
    if length < nbytes or address == NULL:
        raise ValueError(f"shared-memory block of {length} bytes cannot hold {nbytes} bytes")
    return address


def _shared_storage(block, Py_ssize_t nbytes):
    """A CPU storage of ``nbytes`` on the shared-memory ``block`` (mapped from another process)."""
    if _shared_block_type is None or not isinstance(block, _shared_block_type):
        raise TypeError(f"expected a shared-memory block, got {type(block).__name__}")
    return borrow_storage(_block_address(block, nbytes), nbytes, block, False, CPU)


cdef char _EMPTY_BYTES[16]
cdef Storage _EMPTY_STORAGE = borrow_storage(_EMPTY_BYTES, 0, None, True, CPU)


def empty_cache():
    """Release the CPU memory held by ember's caching allocator."""
    em_allocator_empty_cache()


def cached_bytes():
    """Bytes currently held in ember's CPU allocator cache."""
    return em_allocator_cached_bytes()


def set_cache_limit(Py_ssize_t nbytes):
    """Cap the bytes ember's CPU allocator keeps cached for reuse."""
    if nbytes < 0:
        raise ValueError(f"cache limit must be non-negative, got {nbytes}")
    em_allocator_set_limit(<size_t>nbytes)


def set_num_threads(int n):
    """Set the number of threads used by ember's CPU kernels and by BLAS."""
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n}")
    em_set_num_threads(n)
    _set_blas_threads(n)


def get_num_threads():
    """The number of threads used by ember's CPU kernels."""
    return em_get_num_threads()


def set_flush_denormal(bint mode):
    """Treat denormal floating point numbers as zero on the CPU, as PyTorch's
    ``torch.set_flush_denormal``.

    With ``mode`` True, denormal inputs read as zero and denormal results are
    flushed to zero (x86's FTZ and DAZ modes), which keeps arithmetic on tiny
    values at full speed; False restores IEEE behaviour.  It applies to the
    calling thread and ember's worker threads (not to the BLAS library's).

    Parameters
    ----------
    mode : bool

    Returns
    -------
    bool
        Whether this CPU has the mode (x86); where it does not, nothing changes.

    Examples
    --------
    >>> import ember
    >>> ember.set_flush_denormal(True)
    True
    >>> ember.tensor([1e-323], dtype=ember.float64) * 1
    tensor([0.], dtype=ember.float64)
    >>> ember.set_flush_denormal(False)
    True
    >>> ember.tensor([1e-323], dtype=ember.float64) * 1
    tensor([9.8813e-324], dtype=ember.float64)
    """
    return bool(em_set_flush_denormal(mode))


cdef object _blas_limiter = None


cdef _set_blas_threads(int n):
    global _blas_limiter
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return
    _blas_limiter = threadpool_limits(limits=n, user_api="blas")
