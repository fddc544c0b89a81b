"""``ember.cuda``: CUDA devices, streams, events and memory, with PyTorch's names.

CuPy (the optional ``cuda`` extra, ``pip install 'ember[cuda]'``) provides the
driver, the memory pool, streams and events; it is imported on first use, so
importing ember never needs it.  Without CuPy or without a GPU,
:func:`is_available` is False and ember answers what PyTorch answers without CUDA: the
support queries (``is_bf16_supported``, ...) say False, :func:`device_count` 0, the
memory counters 0, and the seeding calls and :func:`empty_cache` do nothing (training
scripts call them unguarded: ``torch.cuda.manual_seed_all(seed)``); every call that
needs a device raises a RuntimeError saying what is missing.

Examples
--------
>>> import ember
>>> ember.cuda.is_available() in (True, False)
True
"""
import contextlib

from ember._core._tensor import _add_method, register_backend
from ember.cuda import _runtime
from ember.cuda._backend import CudaBackend, _Stats, cuda_array_interface
from ember.cuda._memory import (OutOfMemoryError, get_per_process_memory_fraction,
                                max_memory_cached, max_memory_reserved, mem_get_info,
                                memory_cached, memory_stats, memory_summary,
                                reset_max_memory_allocated, set_per_process_memory_fraction)
from ember.cuda._runtime import device_index, require_gpu

register_backend("cuda", CudaBackend())
# zero-copy export to CuPy, Numba, PyTorch...; CPU tensors have no such attribute
_add_method("__cuda_array_interface__", property(cuda_array_interface))


def is_initialized():
    """Whether an ``ember.cuda`` call (or a cuda tensor) has found a GPU yet.

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember
    >>> isinstance(ember.cuda.is_initialized(), bool)
    True
    """
    return _runtime.initialized


def init():
    """Load CuPy and check that a GPU is visible (ember does the same lazily on first use).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.init()   # doctest: +SKIP
    """
    require_gpu()


def is_available():
    """Whether CuPy is installed and sees at least one CUDA GPU (never raises).

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember
    >>> isinstance(ember.cuda.is_available(), bool)
    True
    """
    return _runtime.gpu_visible()


def device_count():
    """The number of visible CUDA GPUs (0 without a GPU or without CuPy).

    Returns
    -------
    int

    Examples
    --------
    >>> import ember
    >>> ember.cuda.device_count() if ember.cuda.is_available() else 0   # doctest: +SKIP
    1
    """
    return _runtime.gpu_count() if is_available() else 0


def current_device():
    """The ordinal of the current CUDA device.

    Returns
    -------
    int

    Examples
    --------
    >>> import ember
    >>> ember.cuda.current_device()   # doctest: +SKIP
    0
    """
    return require_gpu().cuda.runtime.getDevice()


def set_device(device):
    """Make ``device`` (an int, ``'cuda:N'`` or an ``ember.device``) the current device.

    Examples
    --------
    >>> import ember
    >>> ember.cuda.set_device(0)   # doctest: +SKIP
    """
    require_gpu().cuda.runtime.setDevice(device_index(device))


class device:
    """Context manager making ``device`` current inside the ``with`` block.

    Parameters
    ----------
    device : int, str or ember.device

    Examples
    --------
    >>> import ember
    >>> with ember.cuda.device(0):   # doctest: +SKIP
    ...     x = ember.ones(3, device='cuda')
    """

    def __init__(self, device):
        self.index = device_index(device)
        self._previous = None

    def __enter__(self):
        runtime = require_gpu().cuda.runtime
        self._previous = runtime.getDevice()
        runtime.setDevice(self.index)
        return self

    def __exit__(self, *exc):
        require_gpu().cuda.runtime.setDevice(self._previous)
        return False


class device_of(device):
    """Context manager making the device of tensor ``obj`` current inside the ``with``
    block; nothing changes for a CPU tensor.

    Parameters
    ----------
    obj : Tensor

    Examples
    --------
    >>> import ember
    >>> with ember.cuda.device_of(ember.ones(2)):
    ...     pass
    """

    def __init__(self, obj):
        self.index = obj.get_device() if obj.is_cuda else None
        self._previous = None

    def __enter__(self):
        return self if self.index is None else super().__enter__()

    def __exit__(self, *exc):
        return False if self.index is None else super().__exit__(*exc)


def synchronize(device=None):
    """Wait for every kernel and copy queued on ``device`` (default: the current one).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.synchronize()   # doctest: +SKIP
    """
    cp = require_gpu()
    with cp.cuda.Device(device_index(device)):
        cp.cuda.runtime.deviceSynchronize()


class Stream:
    """A CUDA stream: ember's kernels and copies issued inside ``ember.cuda.stream(s)``
    run on it, in order.

    Parameters
    ----------
    device : int, str or ember.device, optional
        Default: the current device.
    priority : int, optional
        Lower numbers run first (``0`` default, ``-1`` high).

    Examples
    --------
    >>> import ember
    >>> s = ember.cuda.Stream()   # doctest: +SKIP
    >>> with ember.cuda.stream(s):   # doctest: +SKIP
    ...     y = ember.ones(4, device='cuda') * 2
    >>> s.synchronize()   # doctest: +SKIP
    """

    def __init__(self, device=None, priority=0, *, _cupy_stream=None):
        cp = require_gpu()
        self.device_index = device_index(device)
        if _cupy_stream is not None:
            self._stream = _cupy_stream
        else:
            with cp.cuda.Device(self.device_index):
                self._stream = cp.cuda.Stream(non_blocking=True, priority=priority)

    @property
    def cuda_stream(self):
        """The ``cudaStream_t`` handle, as an int."""
        return self._stream.ptr

    def synchronize(self):
        """Wait until everything queued on the stream has run."""
        self._stream.synchronize()

    def query(self):
        """Whether everything queued on the stream has run."""
        return self._stream.done

    def record_event(self, event=None):
        """Record ``event`` (a new one when None) on this stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event):
        """Make later work on this stream wait for ``event``."""
        self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        """Make later work on this stream wait for what is queued on ``stream`` now."""
        self.wait_event(stream.record_event())

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream

    def __hash__(self):
        return hash(self.cuda_stream)

    def __repr__(self):
        return (f"<ember.cuda.Stream device=cuda:{self.device_index} "
                f"cuda_stream={self.cuda_stream:#x}>")


def current_stream(device=None):
    """The stream ember's work on ``device`` goes to now.

    Returns
    -------
    Stream

    Examples
    --------
    >>> import ember
    >>> ember.cuda.current_stream().synchronize()   # doctest: +SKIP
    """
    cp = require_gpu()
    index = device_index(device)
    with cp.cuda.Device(index):
        return Stream(index, _cupy_stream=cp.cuda.get_current_stream())


@contextlib.contextmanager
def stream(stream):
    """Context manager sending ember's kernels and copies to ``stream`` (None: no change).

    Examples
    --------
    >>> import ember
    >>> with ember.cuda.stream(ember.cuda.Stream()):   # doctest: +SKIP
    ...     x = ember.zeros(8, device='cuda')
    """
    if stream is None:
        yield None
        return
    with stream._stream:
        yield stream


class ExternalStream(Stream):
    """A CUDA stream made elsewhere (by CuPy, PyTorch, a C library), given by its
    ``cudaStream_t`` handle; ember never destroys it.

    Parameters
    ----------
    stream_ptr : int
        The ``cudaStream_t``.
    device : int, str or ember.device, optional
        The stream's device (default: the current one).

    Examples
    --------
    >>> import ember
    >>> s = ember.cuda.ExternalStream(ember.cuda.Stream().cuda_stream)   # doctest: +SKIP
    """

    def __init__(self, stream_ptr, device=None):
        cp = require_gpu()
        index = device_index(device)
        super().__init__(index, _cupy_stream=cp.cuda.ExternalStream(stream_ptr, index))


def default_stream(device=None):
    """The default (null) stream of ``device`` (default: the current one).

    Returns
    -------
    Stream

    Examples
    --------
    >>> import ember
    >>> ember.cuda.default_stream().cuda_stream   # doctest: +SKIP
    0
    """
    cp = require_gpu()
    return Stream(device_index(device), _cupy_stream=cp.cuda.Stream.null)


class StreamContext:
    """Context manager sending ember's kernels and copies to ``stream`` inside the ``with``
    block (None: no change), as :func:`stream`.

    Parameters
    ----------
    stream : Stream or None

    Examples
    --------
    >>> import ember
    >>> with ember.cuda.StreamContext(ember.cuda.Stream()):   # doctest: +SKIP
    ...     x = ember.zeros(8, device='cuda')
    """

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            self.stream._stream.__enter__()

    def __exit__(self, *exc):
        if self.stream is not None:
            self.stream._stream.__exit__(*exc)
        return False


class Event:
    """A CUDA event: a marker in a stream, for synchronisation and timing.

    Parameters
    ----------
    enable_timing : bool, optional
        Record times, so :meth:`elapsed_time` works.
    blocking : bool, optional
        :meth:`synchronize` blocks the thread instead of spinning.
    interprocess : bool, optional
        Not supported (ValueError when True).

    Examples
    --------
    >>> import ember
    >>> start = ember.cuda.Event(enable_timing=True)   # doctest: +SKIP
    >>> end = ember.cuda.Event(enable_timing=True)   # doctest: +SKIP
    >>> start.record(); y = ember.ones(1000, device='cuda') + 1; end.record()   # doctest: +SKIP
    >>> end.synchronize(); ms = start.elapsed_time(end)   # doctest: +SKIP
    """

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if interprocess:
            raise ValueError("ember.cuda.Event: interprocess events are not supported")
        cp = require_gpu()
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing)
        self.enable_timing = enable_timing

    def record(self, stream=None):
        """Record the event on ``stream`` (default: the current stream)."""
        self._event.record(None if stream is None else stream._stream)

    def wait(self, stream=None):
        """Make later work on ``stream`` (default: the current one) wait for the event."""
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self):
        """Whether the work before the event has run."""
        return self._event.done

    def synchronize(self):
        """Wait until the work before the event has run."""
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded, timing enabled)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        return require_gpu().cuda.get_elapsed_time(self._event, end_event._event)


def memory_allocated(device=None):
    """Bytes of GPU memory held by ember tensors on ``device`` now (0 before any GPU use,
    as in PyTorch, which needs no GPU then).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.memory_allocated()   # doctest: +SKIP
    0
    """
    if not _runtime.initialized:
        return 0
    return _Stats.allocated.get(device_index(device), 0)


def max_memory_allocated(device=None):
    """The peak of :func:`memory_allocated` since the start or the last
    :func:`reset_peak_memory_stats` (0 before any GPU use).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.max_memory_allocated()   # doctest: +SKIP
    0
    """
    if not _runtime.initialized:
        return 0
    return _Stats.peak.get(device_index(device), 0)


def reset_peak_memory_stats(device=None):
    """Restart :func:`max_memory_allocated` and :func:`max_memory_reserved` from the current
    allocation.

    Examples
    --------
    >>> import ember
    >>> ember.cuda.reset_peak_memory_stats()   # doctest: +SKIP
    """
    index = device_index(device)
    _Stats.peak[index] = _Stats.allocated.get(index, 0)
    _Stats.reserved_peak[index] = memory_reserved(index)


def memory_reserved(device=None):
    """Bytes CuPy's memory pool holds on ``device`` (in use plus cached for reuse; 0
    before any GPU use).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()   # doctest: +SKIP
    True
    """
    if not _runtime.initialized:
        return 0
    cp = require_gpu()
    with cp.cuda.Device(device_index(device)):
        return cp.get_default_memory_pool().total_bytes()


def empty_cache():
    """Give the cached, unused blocks of CuPy's memory pool back to the driver (nothing
    to do before any GPU use).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.empty_cache()   # doctest: +SKIP
    """
    if _runtime.initialized:
        require_gpu().get_default_memory_pool().free_all_blocks()


def get_device_properties(device=None):
    """The properties of ``device``: ``name``, ``major``, ``minor``, ``total_memory``,
    ``multi_processor_count`` (a namespace).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.get_device_properties(0).total_memory > 0   # doctest: +SKIP
    True
    """
    import types
    cp = require_gpu()
    props = cp.cuda.runtime.getDeviceProperties(device_index(device))
    name = props["name"]
    return types.SimpleNamespace(
        name=name.decode() if isinstance(name, bytes) else name,
        major=props["major"], minor=props["minor"], total_memory=props["totalGlobalMem"],
        multi_processor_count=props["multiProcessorCount"])


def get_device_name(device=None):
    """The name of ``device`` (default: the current one).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.get_device_name(0)   # doctest: +SKIP
    'NVIDIA H100 80GB HBM3'
    """
    return get_device_properties(device).name


def get_device_capability(device=None):
    """The CUDA compute capability ``(major, minor)`` of ``device`` (default: the current one).

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> import ember
    >>> ember.cuda.get_device_capability()   # doctest: +SKIP
    (9, 0)
    """
    props = get_device_properties(device)
    return props.major, props.minor


def is_bf16_supported(including_emulation=True):
    """Whether the current GPU supports bfloat16: natively from compute capability 8.0;
    with ``including_emulation``, wherever a bfloat16 tensor can be made on it.  False
    without a GPU.

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember
    >>> ember.cuda.is_bf16_supported() in (True, False)
    True
    """
    import ember
    if not is_available():
        return False
    if get_device_capability()[0] >= 8:
        return True
    if not including_emulation:
        return False
    try:
        ember.tensor([1.0], dtype=ember.bfloat16, device="cuda")
        return True
    except Exception:
        return False


def is_tf32_supported():
    """Whether the current GPU has TensorFloat-32 (as native bfloat16: compute capability
    8.0 and later).  False without a GPU.

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember
    >>> ember.cuda.is_tf32_supported() in (True, False)
    True
    """
    return is_bf16_supported(including_emulation=False)


def get_arch_list():
    """The architectures ember's kernel fatbins were compiled for (``sm_XX``, and
    ``compute_XX`` for the PTX of the last); empty when built without ``nvcc`` (the
    kernels are then compiled at run time for the GPU found).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import ember
    >>> isinstance(ember.cuda.get_arch_list(), list)
    True
    """
    from ember.cuda._build import FATBIN_ARCHS
    if not FATBIN_ARCHS:
        return []
    return [f"sm_{arch}" for arch in FATBIN_ARCHS] + [f"compute_{FATBIN_ARCHS[-1]}"]


def get_gencode_flags():
    """The ``nvcc`` gencode flags of :func:`get_arch_list`, formatted as PyTorch's.

    Returns
    -------
    str

    Examples
    --------
    >>> import ember
    >>> isinstance(ember.cuda.get_gencode_flags(), str)
    True
    """
    return " ".join(f"-gencode compute=compute_{arch},code={kind}_{arch}"
                    for kind, arch in (flag.split("_") for flag in get_arch_list()))


def can_device_access_peer(device, peer_device):
    """Whether ``device`` can read and write ``peer_device``'s memory directly.

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember
    >>> ember.cuda.can_device_access_peer(0, 1)   # doctest: +SKIP
    True
    """
    cp = require_gpu()
    return bool(cp.cuda.runtime.deviceCanAccessPeer(device_index(device),
                                                    device_index(peer_device)))


def ipc_collect():
    """Free CUDA memory shared with other processes that they no longer use: ember shares
    no CUDA memory between processes, so this only checks that a GPU is visible.

    Examples
    --------
    >>> import ember
    >>> ember.cuda.ipc_collect()   # doctest: +SKIP
    """
    require_gpu()


def manual_seed(seed):
    """Seed the default generator of the current CUDA device.

    ember draws cuda random numbers from the same Philox stream as the CPU, so a
    seed gives the same numbers on both devices.  Without a GPU it does nothing, as
    PyTorch's (so that seeding code written for a GPU runs on the CPU).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.manual_seed(0)   # doctest: +SKIP
    """
    if not is_available():
        return
    from ember._core._random import device_generator
    # ops on device 'cuda' (no index) and on 'cuda:N' draw from separate generators
    for name in ("cuda", f"cuda:{device_index(None)}"):
        device_generator(name).manual_seed(int(seed))


def manual_seed_all(seed):
    """Seed the default generators of every CUDA device (nothing without a GPU).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.manual_seed_all(0)   # doctest: +SKIP
    """
    if not is_available():
        return
    from ember._core._random import device_generator
    for name in ["cuda"] + [f"cuda:{index}" for index in range(device_count())]:
        device_generator(name).manual_seed(int(seed))


def _generators(device):
    """The default generators that draw for ``device`` (None: the current one): ops on
    ``'cuda'`` and on ``'cuda:N'`` have one each, both set together."""
    from ember._core._random import device_generator
    index = device_index(device)
    names = [f"cuda:{index}"]
    if index == device_index(None):
        names.insert(0, "cuda")
    return [device_generator(name) for name in names]


def seed():
    """Seed the current CUDA device's generators from the OS's entropy source (nothing
    without a GPU).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.seed()   # doctest: +SKIP
    """
    if not is_available():
        return
    first, *rest = _generators(None)
    value = first.seed()
    for g in rest:
        g.manual_seed(value)


def seed_all():
    """Seed every CUDA device's generators with one seed from the OS's entropy source
    (nothing without a GPU).

    Examples
    --------
    >>> import ember
    >>> ember.cuda.seed_all()   # doctest: +SKIP
    """
    if not is_available():
        return      # silently ignored without a GPU, as in PyTorch
    from ember._core._random import Generator
    manual_seed_all(Generator().seed())


def initial_seed():
    """The seed of the current CUDA device's default generator.

    Returns
    -------
    int

    Examples
    --------
    >>> import ember
    >>> ember.cuda.manual_seed(3)   # doctest: +SKIP
    >>> ember.cuda.initial_seed()   # doctest: +SKIP
    3
    """
    return _generators(None)[0].initial_seed()


def get_rng_state(device="cuda"):
    """The state of ``device``'s default generator (a 16-byte ``ember.uint8`` tensor on the
    CPU: the Philox seed and offset, as :func:`ember.get_rng_state`).

    Parameters
    ----------
    device : int, str or ember.device, default 'cuda' (the current device)

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> state = ember.cuda.get_rng_state()   # doctest: +SKIP
    """
    return _generators(device)[0].get_state()


def set_rng_state(new_state, device="cuda"):
    """Restore a state from :func:`get_rng_state` into ``device``'s default generators.

    Parameters
    ----------
    new_state : Tensor
    device : int, str or ember.device, default 'cuda' (the current device)

    Examples
    --------
    >>> import ember
    >>> ember.cuda.set_rng_state(ember.cuda.get_rng_state())   # doctest: +SKIP
    """
    for g in _generators(device):
        g.set_state(new_state)


def get_rng_state_all():
    """The states of every CUDA device's default generator.

    Returns
    -------
    list of Tensor
    """
    return [get_rng_state(index) for index in range(device_count())]


def set_rng_state_all(new_states):
    """Restore the states of every CUDA device's default generator.

    Parameters
    ----------
    new_states : sequence of Tensor
        One per device, as :func:`get_rng_state_all` returns them.
    """
    for index, state in enumerate(new_states):
        set_rng_state(state, index)


__all__ = ["is_available", "is_initialized", "init", "get_device_capability", "is_bf16_supported",
           "is_tf32_supported", "get_arch_list", "get_gencode_flags", "can_device_access_peer",
           "ipc_collect", "ExternalStream", "default_stream", "StreamContext", "device_of",
           "OutOfMemoryError", "max_memory_reserved", "memory_stats", "memory_summary",
           "mem_get_info", "reset_max_memory_allocated", "memory_cached", "max_memory_cached",
           "set_per_process_memory_fraction", "get_per_process_memory_fraction", "device_count",
           "current_device", "set_device", "device", "synchronize", "Stream", "Event", "stream",
           "current_stream", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "reset_peak_memory_stats", "empty_cache", "get_device_name", "get_device_properties",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
           "set_rng_state", "get_rng_state_all", "set_rng_state_all"]
