"""``ember.backends.cuda``: the CUDA switches of PyTorch that mean something in ember.

``matmul.allow_tf32`` is the other face of :func:`ember.set_float32_matmul_precision`,
as in PyTorch: True is ``'high'``, False ``'highest'``.  The ``*_sdp`` functions choose
which kernels :func:`ember.nn.functional.scaled_dot_product_attention` may use (see
:func:`ember.nn.attention.sdpa_kernel`): ember has one, the math kernel, so turning
it off leaves no kernel to run.

Examples
--------
>>> import ember
>>> ember.backends.cuda.matmul.allow_tf32 = True
>>> ember.get_float32_matmul_precision()
'high'
>>> ember.backends.cuda.matmul.allow_tf32 = False
>>> ember.get_float32_matmul_precision()
'highest'
"""
import contextlib
import warnings

from ember import _switches

__all__ = ["is_built", "matmul", "flash_sdp_enabled", "enable_flash_sdp",
           "mem_efficient_sdp_enabled", "enable_mem_efficient_sdp", "math_sdp_enabled",
           "enable_math_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp",
           "is_flash_attention_available", "sdp_kernel"]


def is_built():
    """Whether ember has CUDA support: True (through CuPy, imported on first use);
    :func:`ember.cuda.is_available` says whether a GPU can be used now.

    Returns
    -------
    bool
    """
    return True


class _Matmul:
    """``ember.backends.cuda.matmul``: ``allow_tf32`` reads and sets the float32 matmul
    precision (``'highest'`` <-> False, ``'high'`` <-> True)."""

    @property
    def allow_tf32(self):
        return _switches.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value):
        _switches.set_float32_matmul_precision("high" if value else "highest")

    def __setattr__(self, name, value):
        if name != "allow_tf32":
            raise AttributeError(f"Unknown attribute {name}")
        super().__setattr__(name, value)


matmul = _Matmul()


def flash_sdp_enabled():
    """Whether scaled dot product attention may use the flash attention kernel
    (``SDPBackend.FLASH_ATTENTION; ember does not have it``).

    Returns
    -------
    bool
    """
    return _switches._sdp_enabled["flash"]


def enable_flash_sdp(enabled):
    """Allow or forbid the flash attention kernel of scaled dot product attention.

    Parameters
    ----------
    enabled : bool
    """
    _switches._sdp_enabled["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    """Whether scaled dot product attention may use the memory-efficient attention kernel
    (``SDPBackend.EFFICIENT_ATTENTION; ember does not have it``).

    Returns
    -------
    bool
    """
    return _switches._sdp_enabled["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    """Allow or forbid the memory-efficient attention kernel of scaled dot product attention.

    Parameters
    ----------
    enabled : bool
    """
    _switches._sdp_enabled["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    """Whether scaled dot product attention may use the math kernel
    (``SDPBackend.MATH: ember's implementation``).

    Returns
    -------
    bool
    """
    return _switches._sdp_enabled["math"]


def enable_math_sdp(enabled):
    """Allow or forbid the math kernel of scaled dot product attention.

    Parameters
    ----------
    enabled : bool
    """
    _switches._sdp_enabled["math"] = bool(enabled)


def cudnn_sdp_enabled():
    """Whether scaled dot product attention may use the cuDNN attention kernel
    (``SDPBackend.CUDNN_ATTENTION; ember does not have it``).

    Returns
    -------
    bool
    """
    return _switches._sdp_enabled["cudnn"]


def enable_cudnn_sdp(enabled):
    """Allow or forbid the cuDNN attention kernel of scaled dot product attention.

    Parameters
    ----------
    enabled : bool
    """
    _switches._sdp_enabled["cudnn"] = bool(enabled)


def is_flash_attention_available():
    """Whether ember has a flash attention kernel: no.

    Returns
    -------
    bool
        False.
    """
    return False


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """Deprecated form of :func:`ember.nn.attention.sdpa_kernel` that takes one switch per
    kernel (still common: ``with torch.backends.cuda.sdp_kernel(enable_flash=True):``).

    Parameters
    ----------
    enable_flash, enable_math, enable_mem_efficient, enable_cudnn : bool, optional
        Which kernels scaled dot product attention may use inside the block; ember runs
        only the math one, so ``enable_math=False`` leaves it nothing to run.

    Examples
    --------
    >>> import warnings
    >>> import ember
    >>> q = ember.randn(1, 2, 3, 4)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     with ember.backends.cuda.sdp_kernel(enable_flash=False):
    ...         ember.nn.functional.scaled_dot_product_attention(q, q, q).shape
    ember.Size([1, 2, 3, 4])
    """
    warnings.warn("`ember.backends.cuda.sdp_kernel()` is deprecated. In the future, this "
                  "context manager will be removed. Please see "
                  "`ember.nn.attention.sdpa_kernel()` for the new context manager, with "
                  "updated signature.", FutureWarning, stacklevel=3)
    from ember.nn.attention import SDPBackend, sdpa_kernel   # ember.nn imports backends
    chosen = [backend for backend, enabled in (
        (SDPBackend.FLASH_ATTENTION, enable_flash),
        (SDPBackend.EFFICIENT_ATTENTION, enable_mem_efficient),
        (SDPBackend.MATH, enable_math), (SDPBackend.CUDNN_ATTENTION, enable_cudnn)) if enabled]
    with sdpa_kernel(chosen) as context:
        yield context
