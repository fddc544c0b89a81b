"""``ember.nn.attention``: choosing the kernel of scaled dot product attention.

PyTorch has several kernels behind
:func:`ember.nn.functional.scaled_dot_product_attention` (flash, memory-efficient,
cuDNN and the math composition); ember has one, the math kernel
(``SDPBackend.MATH``), on every device.  :func:`sdpa_kernel` restricts the kernels
allowed inside a ``with`` block: a selection without ``MATH`` leaves ember nothing
to run, and the attention raises PyTorch's "No viable backend" RuntimeError.

Examples
--------
>>> import ember
>>> import ember.nn.functional as F
>>> from ember.nn.attention import SDPBackend, sdpa_kernel
>>> q = ember.randn(1, 2, 3, 4)
>>> with sdpa_kernel(SDPBackend.MATH):
...     F.scaled_dot_product_attention(q, q, q).shape
ember.Size([1, 2, 3, 4])
"""
import contextlib
import enum

from ember import _switches

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

# PyTorch's switch for warnings about why a fused kernel was not used: ember has none
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The kernels of scaled dot product attention, with PyTorch's names and values.

    ``ERROR`` (-1), ``MATH`` (0, the one ember has), ``FLASH_ATTENTION`` (1),
    ``EFFICIENT_ATTENTION`` (2), ``CUDNN_ATTENTION`` (3), ``OVERRIDEABLE`` (4).
    """

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value

    __index__ = __int__


_SWITCH_OF = {SDPBackend.FLASH_ATTENTION: "flash",
              SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
              SDPBackend.MATH: "math",
              SDPBackend.CUDNN_ATTENTION: "cudnn",
              SDPBackend.OVERRIDEABLE: "overrideable"}


def _enabled_backends():
    return [b for b, name in _SWITCH_OF.items() if _switches._sdp_enabled[name]]


def _enable_only(backends):
    for backend, name in _SWITCH_OF.items():
        _switches._sdp_enabled[name] = backend in backends


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Allow only ``backends`` for scaled dot product attention inside a ``with``
    block; the previous selection is restored on exit.

    Parameters
    ----------
    backends : SDPBackend or list of SDPBackend
        The kernels allowed; ember runs the attention only when ``SDPBackend.MATH``
        is among them.
    set_priority : bool, default False
        Whether the order of ``backends`` is their priority; accepted for PyTorch
        compatibility (ember has a single kernel, so there is nothing to order).

    Raises
    ------
    AssertionError
        ``backends`` is neither an SDPBackend nor a list, as in PyTorch.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> from ember.nn.attention import SDPBackend, sdpa_kernel
    >>> q = ember.randn(1, 1, 2, 4)
    >>> with sdpa_kernel(SDPBackend.FLASH_ATTENTION):  # doctest: +ELLIPSIS
    ...     F.scaled_dot_product_attention(q, q, q)
    Traceback (most recent call last):
    ...
    RuntimeError: No viable backend for scaled_dot_product_attention was found. ...
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    previous = _enabled_backends()
    try:
        _enable_only(backends)
        yield {}
    finally:
        _enable_only(previous)
