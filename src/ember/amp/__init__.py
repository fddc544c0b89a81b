"""``ember.amp``: automatic mixed precision, as ``torch.amp``.

:class:`autocast` regions run matrix products and convolutions in float16/bfloat16
and the ops that need range in float32; :class:`GradScaler` scales the loss so that
float16 gradients do not underflow, and skips steps whose gradients overflowed.
"""
from ember.amp.autocast_mode import (
    autocast, is_autocast_available, is_autocast_enabled, set_autocast_enabled,
    get_autocast_dtype, set_autocast_dtype, is_autocast_cache_enabled,
    set_autocast_cache_enabled, clear_autocast_cache, autocast_increment_nesting,
    autocast_decrement_nesting, custom_fwd, custom_bwd,
)
from ember.amp.grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd"]
