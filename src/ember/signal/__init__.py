"""Signal processing, as ``torch.signal``: the window functions of :mod:`ember.signal.windows`."""
from ember.signal import windows

__all__ = ["windows"]
