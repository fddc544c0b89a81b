"""``ember.backends.cpu``: the vector instructions ember's CPU kernels use.

Examples
--------
>>> import ember
>>> ember.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
True
"""
from ember._core._blas import _sgemm_kernel_name

__all__ = ["get_cpu_capability"]

_CAPABILITIES = {"avx512": "AVX512", "avx2": "AVX2"}


def get_cpu_capability():
    """The widest vector instruction set ember's kernels use on this CPU, with
    PyTorch's names.

    It is the level of the micro-kernel ember's float32 matrix product selected at
    start-up from the CPU's features.

    Returns
    -------
    str
        ``"AVX512"``, ``"AVX2"`` or ``"DEFAULT"`` (no AVX2, or not an x86 CPU).
    """
    return _CAPABILITIES.get(_sgemm_kernel_name(), "DEFAULT")
