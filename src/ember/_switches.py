"""Global switches that PyTorch scripts set at start-up, with ``torch``'s names and checks.

ember's CPU kernels are deterministic and compute float32 matmuls in float32, and ember
runs every op in the calling thread (no inter-op pool): these switches are kept and
reported, so that a script which sets and reads them behaves as under PyTorch, but they
change no result.
"""
import warnings

from ember.autograd import anomaly_mode as _anomaly

__all__ = [
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
    "get_deterministic_debug_mode", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "set_num_interop_threads", "get_num_interop_threads",
    "set_anomaly_enabled", "set_warn_always", "is_warn_always_enabled", "init_num_threads",
]

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest",
          "interop_threads": 1, "warn_always": False}
# the messages _warn_once has given (PyTorch's TORCH_WARN_ONCE sites)
_warned_once = set()
# the kernels scaled_dot_product_attention may use (ember.backends.cuda.*_sdp, sdpa_kernel)
_sdp_enabled = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True,
                "overrideable": True}
_DEBUG_MODES = ("default", "warn", "error")
_MATMUL_PRECISIONS = ("highest", "high", "medium")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms (kept and reported; ember's CPU kernels always are).

    Parameters
    ----------
    mode : bool
        Whether to ask for deterministic algorithms.
    warn_only : bool, optional
        Under PyTorch, warn instead of raising for an op without a deterministic
        implementation; ember has none such, so it is only reported.
    """
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, "
                        f"not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """Whether :func:`use_deterministic_algorithms` was turned on."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether :func:`use_deterministic_algorithms` was turned on with ``warn_only=True``."""
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """The same setting as :func:`use_deterministic_algorithms`, by name or number.

    Parameters
    ----------
    debug_mode : str or int
        ``"default"`` (0): off; ``"warn"`` (1): on, ``warn_only``; ``"error"`` (2): on.
    """
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif isinstance(debug_mode, int) and not isinstance(debug_mode, bool):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, "
                               f"but got {debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """The setting of :func:`set_deterministic_debug_mode` as a number (0, 1 or 2)."""
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_float32_matmul_precision(precision):
    """Set the internal precision of float32 matmuls (kept and reported: ember's CPU
    matmuls always compute in float32).

    Parameters
    ----------
    precision : {"highest", "high", "medium"}
        Another value warns and changes nothing, as in PyTorch.
    """
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the "
                      "current set_float32_matmul_precision call has no effect.", stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    """The setting of :func:`set_float32_matmul_precision` (``"highest"`` by default)."""
    return _state["matmul_precision"]


def set_num_interop_threads(num):
    """Set the number of inter-op threads (kept and reported: ember runs each op in the
    calling thread; :func:`ember.set_num_threads` sets the intra-op threads)."""
    if isinstance(num, bool) or not isinstance(num, int):
        raise TypeError(f"set_num_interop_threads(): argument 'num' must be int, "
                        f"not {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state["interop_threads"] = num


def get_num_interop_threads():
    """The setting of :func:`set_num_interop_threads` (1 by default)."""
    return _state["interop_threads"]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn autograd's anomaly mode on or off (see :class:`ember.autograd.set_detect_anomaly`).

    Parameters
    ----------
    enabled : bool
    check_nan : bool, optional
        Whether to stop a backward pass at the first node that returns NaN.
    """
    _anomaly._apply(bool(enabled), bool(check_nan))


def set_warn_always(b, /):
    """Make the warnings PyTorch gives once per process (``TORCH_WARN_ONCE``) warn every
    time, as ``torch.set_warn_always`` (for example ``meshgrid`` without ``indexing``).

    Parameters
    ----------
    b : bool
        True: warn every time; False (the default): once per process.

    Examples
    --------
    >>> import ember
    >>> ember.set_warn_always(True)
    >>> ember.is_warn_always_enabled()
    True
    >>> ember.set_warn_always(False)
    """
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled():
    """Whether :func:`set_warn_always` was turned on (False by default)."""
    return _state["warn_always"]


def _warn_once(message, category=UserWarning, stacklevel=2):
    """Warn the first time ``message`` comes up, or every time under :func:`set_warn_always`."""
    if _state["warn_always"] or message not in _warned_once:
        _warned_once.add(message)
        warnings.warn(message, category, stacklevel=stacklevel + 1)


def init_num_threads():
    """Initialise the intra-op thread pool of the calling thread, as
    ``torch.init_num_threads``: nothing to do in ember, whose OpenMP and BLAS threads
    follow :func:`ember.set_num_threads` in every thread."""
