"""``ember.backends.cudnn``: ember has no cuDNN.

:func:`is_available` is False and :func:`version` None.  The flags ``enabled``,
``benchmark``, ``benchmark_limit``, ``deterministic`` and ``allow_tf32`` are kept
with PyTorch's defaults so that scripts can set and read them; they change nothing
in ember.  As in PyTorch, ``deterministic`` is independent of
:func:`ember.use_deterministic_algorithms` (ember's kernels are deterministic anyway).

Examples
--------
>>> import ember
>>> ember.backends.cudnn.benchmark = True
>>> ember.backends.cudnn.benchmark
True
>>> ember.backends.cudnn.benchmark = False
"""
import contextlib

__all__ = ["is_available", "version", "is_acceptable", "set_flags", "flags", "enabled",
           "benchmark", "benchmark_limit", "deterministic", "allow_tf32"]

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    """Whether cuDNN can be used: never in ember.

    Returns
    -------
    bool
        False.
    """
    return False


def version():
    """The cuDNN version: None, as PyTorch answers without cuDNN.

    Returns
    -------
    None
    """
    return None


def is_acceptable(tensor):
    """Whether cuDNN would take ``tensor``: the ``enabled`` flag, as in PyTorch.

    Parameters
    ----------
    tensor : Tensor

    Returns
    -------
    bool
    """
    return bool(enabled)


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None):
    """Set the flags given (None leaves one as it is); returns the previous values.

    Returns
    -------
    tuple
        ``(enabled, benchmark, benchmark_limit, deterministic, allow_tf32)`` before
        the call (``benchmark_limit`` is None, as in PyTorch without cuDNN).
    """
    global enabled, benchmark, deterministic, allow_tf32
    previous = (enabled, benchmark, None, deterministic, allow_tf32)
    if _enabled is not None:
        enabled = _enabled
    if _benchmark is not None:
        benchmark = _benchmark
    if _deterministic is not None:
        deterministic = _deterministic
    if _allow_tf32 is not None:
        allow_tf32 = _allow_tf32
    return previous


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """Set every flag for the duration of a ``with`` block (PyTorch's defaults: note
    ``enabled=False``), then restore them.

    Examples
    --------
    >>> import ember
    >>> with ember.backends.cudnn.flags(enabled=True, deterministic=True):
    ...     ember.backends.cudnn.deterministic
    True
    >>> ember.backends.cudnn.deterministic
    False
    """
    previous = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    try:
        yield
    finally:
        set_flags(*previous)
