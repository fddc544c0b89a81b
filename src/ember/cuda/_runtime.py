"""CuPy, imported on first use, and the checks behind every ``ember.cuda`` call.

Nothing else in ember imports CuPy: the CPU package works without it.
"""
_cupy = None
_gpu_count = None
initialized = False    # a call found a GPU (ember.cuda.is_initialized)

NEEDS_CUPY = "ember.cuda needs CuPy: pip install 'ember[cuda]' (cupy-cuda13x)"


def cupy():
    """The ``cupy`` module; RuntimeError saying how to install it when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp
        except ImportError as exc:
            raise RuntimeError(NEEDS_CUPY) from exc
        _cupy = cp
    return _cupy


def gpu_count():
    """How many CUDA GPUs CuPy sees (0 when the driver or the GPU is missing)."""
    global _gpu_count
    if _gpu_count is None:
        cp = cupy()
        try:
            _gpu_count = cp.cuda.runtime.getDeviceCount()
        except Exception:   # CUDARuntimeError: no driver, no device, or an unusable one
            _gpu_count = 0
    return _gpu_count


def gpu_visible():
    """Whether CuPy is installed and sees at least one GPU (never raises)."""
    try:
        return gpu_count() > 0
    except RuntimeError:
        return False


def require_gpu():
    """The ``cupy`` module, after checking that a GPU is visible (RuntimeError if not)."""
    cp = cupy()
    if gpu_count() == 0:
        raise RuntimeError("ember.cuda: no CUDA GPU is visible (CuPy found no device; check the "
                           "NVIDIA driver and CUDA_VISIBLE_DEVICES)")
    global initialized
    initialized = True
    return cp


def device_index(device):
    """The ordinal of a cuda device given as None (the current one), an int, a str or an
    ``ember.device``; checked against the number of GPUs."""
    import ember
    cp = require_gpu()
    if device is None:
        return cp.cuda.runtime.getDevice()
    if isinstance(device, int) and not isinstance(device, bool):
        index = device
    else:
        dev = ember.device(device)
        if dev.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {dev}")
        index = cp.cuda.runtime.getDevice() if dev.index is None else dev.index
    if not 0 <= index < gpu_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal {index} "
                           f"({gpu_count()} device(s) visible)")
    return index
