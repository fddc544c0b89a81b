"""Discrete Fourier transforms (``torch.fft``).

The transforms take ``n`` (or ``s``), ``dim`` and ``norm`` as PyTorch's do, are
computed by SciPy's pocketfft on the tensors' memory, and are differentiable
(the backward of each transform is another transform).
"""
from ember.fft._transforms import (  # noqa: F401
    fft, ifft, rfft, irfft, hfft, ihfft, fft2, ifft2, rfft2, irfft2, hfft2, ihfft2,
    fftn, ifftn, rfftn, irfftn, hfftn, ihfftn)
from ember.fft._helpers import fftfreq, rfftfreq, fftshift, ifftshift  # noqa: F401

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft",
           "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]
