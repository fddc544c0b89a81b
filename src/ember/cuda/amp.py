"""``ember.cuda.amp``: ``autocast`` and ``GradScaler`` for CUDA devices (the
``torch.cuda.amp`` spellings of :mod:`ember.amp`)."""
from ember.amp import autocast as _autocast
from ember.amp import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler"]


class autocast(_autocast):
    """:class:`ember.autocast` with ``device_type='cuda'``.

    Parameters
    ----------
    enabled : bool, default True
    dtype : ember.dtype, optional
        Default ``float16``.
    cache_enabled : bool, default True
    """

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """:class:`ember.amp.GradScaler` with ``device='cuda'``.

    Parameters
    ----------
    init_scale : float, default 2.0**16
    growth_factor : float, default 2.0
    backoff_factor : float, default 0.5
    growth_interval : int, default 2000
    enabled : bool, default True
    """

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
