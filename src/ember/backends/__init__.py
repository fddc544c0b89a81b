"""``ember.backends``: PyTorch's switches and queries for the libraries behind its ops,
answered for ember.

ember computes with its own kernels (and CuPy on a GPU): there is no cuDNN, MPS or
opt_einsum behind it.  The modules keep PyTorch's names so that scripts which set
or read them run unchanged; each flag is documented with what it does in ember.

Examples
--------
>>> import ember
>>> ember.backends.cudnn.is_available(), ember.backends.mps.is_available()
(False, False)
>>> ember.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
True
"""
from ember.backends import cpu, cuda, cudnn, mps, opt_einsum  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mps", "opt_einsum"]
