"""``ember.cuda``'s memory statistics and limits beyond the basic counters, with
PyTorch's names: what ember counts itself (the bytes of live tensors, their peak, the
pool's peak, out-of-memory errors) and what CuPy's memory pool knows (the bytes it
holds, its limit).  CuPy's pool has no counter of its internal retries, so
``memory_stats`` has no ``num_alloc_retries``."""
import warnings

from ember.cuda._backend import OutOfMemoryError, _Stats
from ember.cuda import _runtime
from ember.cuda._runtime import device_index, require_gpu


def _pool_bytes(index):
    """Bytes CuPy's pool holds on device ``index``."""
    cp = require_gpu()
    with cp.cuda.Device(index):
        return cp.get_default_memory_pool().total_bytes()


def max_memory_reserved(device=None):
    """The peak of :func:`memory_reserved` since the start or the last
    :func:`reset_peak_memory_stats` (as ember saw it after each of its allocations; 0
    before any GPU use).

    Returns
    -------
    int

    Examples
    --------
    >>> import ember
    >>> ember.cuda.max_memory_reserved() >= ember.cuda.memory_reserved()   # doctest: +SKIP
    True
    """
    if not _runtime.initialized:
        return 0
    index = device_index(device)
    return max(_Stats.reserved_peak.get(index, 0), _pool_bytes(index))


def memory_stats(device=None):
    """Memory statistics of ``device``, under PyTorch's keys: ``allocated_bytes.all.current``
    and ``.peak`` (ember tensors), ``reserved_bytes.all.current`` and ``.peak`` (CuPy's
    pool), ``num_ooms`` (:class:`OutOfMemoryError` raised); empty before any GPU use, as
    in PyTorch.

    Returns
    -------
    dict

    Examples
    --------
    >>> import ember
    >>> ember.cuda.memory_stats()["allocated_bytes.all.current"]   # doctest: +SKIP
    0
    """
    if not _runtime.initialized:
        return {}
    index = device_index(device)
    return {"allocated_bytes.all.current": _Stats.allocated.get(index, 0),
            "allocated_bytes.all.peak": _Stats.peak.get(index, 0),
            "reserved_bytes.all.current": _pool_bytes(index),
            "reserved_bytes.all.peak": max_memory_reserved(index),
            "num_ooms": _Stats.ooms.get(index, 0)}


def _size(nbytes):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.2f} {unit}"
        nbytes /= 1024


def memory_summary(device=None, abbreviated=False):
    """A printable table of :func:`memory_stats` for ``device``.

    Parameters
    ----------
    device : int, str or ember.device, optional
    abbreviated : bool, optional
        Accepted for PyTorch's signature; the table is always short.

    Returns
    -------
    str

    Examples
    --------
    >>> import ember
    >>> print(ember.cuda.memory_summary())   # doctest: +SKIP
    """
    index = device_index(device)
    stats = memory_stats(index)
    rows = [("Allocated memory", "allocated_bytes.all"), ("GPU reserved memory",
                                                           "reserved_bytes.all")]
    lines = [f"ember.cuda memory summary, device {index}",
             f"{'Metric':<24}{'Cur Usage':>14}{'Peak Usage':>14}"]
    lines += [f"{label:<24}{_size(stats[key + '.current']):>14}{_size(stats[key + '.peak']):>14}"
              for label, key in rows]
    lines.append(f"{'CUDA OOMs':<24}{stats['num_ooms']:>14}")
    return "\n".join(lines) + "\n"


def mem_get_info(device=None):
    """``(free, total)`` bytes of ``device``'s memory, as the driver reports them.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> import ember
    >>> free, total = ember.cuda.mem_get_info()   # doctest: +SKIP
    """
    cp = require_gpu()
    with cp.cuda.Device(device_index(device)):
        return tuple(cp.cuda.runtime.memGetInfo())


def reset_max_memory_allocated(device=None):
    """Deprecated: calls :func:`reset_peak_memory_stats`, which resets every peak.

    Examples
    --------
    >>> import ember
    >>> ember.cuda.reset_max_memory_allocated()   # doctest: +SKIP
    """
    from ember.cuda import reset_peak_memory_stats
    warnings.warn("ember.cuda.reset_max_memory_allocated now calls "
                  "ember.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def memory_cached(device=None):
    """Deprecated name of :func:`memory_reserved`.

    Examples
    --------
    >>> import ember
    >>> ember.cuda.memory_cached()   # doctest: +SKIP
    0
    """
    from ember.cuda import memory_reserved
    warnings.warn("`ember.cuda.memory_cached` has been renamed to `ember.cuda.memory_reserved`",
                  FutureWarning, stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None):
    """Deprecated name of :func:`max_memory_reserved`.

    Examples
    --------
    >>> import ember
    >>> ember.cuda.max_memory_cached()   # doctest: +SKIP
    0
    """
    warnings.warn("`ember.cuda.max_memory_cached` has been renamed to "
                  "`ember.cuda.max_memory_reserved`", FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def set_per_process_memory_fraction(fraction, device=None):
    """Limit CuPy's memory pool on ``device`` to ``fraction`` of the device's memory:
    allocations past it raise :class:`OutOfMemoryError`.

    Parameters
    ----------
    fraction : float
        In ``[0, 1]``.
    device : int, str or ember.device, optional

    Examples
    --------
    >>> import ember
    >>> ember.cuda.set_per_process_memory_fraction(0.5)   # doctest: +SKIP
    """
    cp = require_gpu()
    index = device_index(device)
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if fraction < 0 or fraction > 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    total = cp.cuda.runtime.getDeviceProperties(index)["totalGlobalMem"]
    with cp.cuda.Device(index):
        # CuPy reads a limit of 0 as "none": fraction 0 becomes one byte, so nothing fits
        cp.get_default_memory_pool().set_limit(size=max(int(fraction * total), 1))


def get_per_process_memory_fraction(device=None):
    """The fraction of ``device``'s memory CuPy's pool may hold (1.0 without a limit).

    Returns
    -------
    float

    Examples
    --------
    >>> import ember
    >>> ember.cuda.get_per_process_memory_fraction()   # doctest: +SKIP
    1.0
    """
    cp = require_gpu()
    index = device_index(device)
    with cp.cuda.Device(index):
        limit = cp.get_default_memory_pool().get_limit()
    if limit == 0:
        return 1.0
    return min(limit / cp.cuda.runtime.getDeviceProperties(index)["totalGlobalMem"], 1.0)


__all__ = ["OutOfMemoryError", "max_memory_reserved", "memory_stats", "memory_summary",
           "mem_get_info", "reset_max_memory_allocated", "memory_cached", "max_memory_cached",
           "set_per_process_memory_fraction", "get_per_process_memory_fraction"]
