"""``ember.cuda.amp``: ``autocast``, ``GradScaler``, ``custom_fwd`` and ``custom_bwd``
for CUDA devices (the ``torch.cuda.amp`` spellings of :mod:`ember.amp`)."""
import warnings

from ember.amp import autocast as _autocast
from ember.amp import GradScaler as _GradScaler
from ember.amp import autocast_mode as _autocast_mode

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


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


def custom_fwd(fwd=None, *, cast_inputs=None):
    """Deprecated spelling of ``ember.amp.custom_fwd(..., device_type='cuda')``, as in
    PyTorch (warns ``FutureWarning``).

    Parameters
    ----------
    fwd : callable, optional
        The ``forward`` staticmethod (omitted when used as ``@custom_fwd(...)``).
    cast_inputs : ember.dtype, optional

    Returns
    -------
    callable
    """
    warnings.warn("`ember.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`ember.amp.custom_fwd(args..., device_type='cuda')` instead.",
                  FutureWarning, stacklevel=2)
    return _autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    """Deprecated spelling of ``ember.amp.custom_bwd(..., device_type='cuda')``, as in
    PyTorch (warns ``FutureWarning``).

    Parameters
    ----------
    bwd : callable
        The ``backward`` staticmethod.

    Returns
    -------
    callable
    """
    warnings.warn("`ember.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`ember.amp.custom_bwd(args..., device_type='cuda')` instead.",
                  FutureWarning, stacklevel=2)
    return _autocast_mode.custom_bwd(bwd, device_type="cuda")
