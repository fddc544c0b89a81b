"""``ember.autocast``: regions where the ops of :data:`ember.ops.autocast.POLICIES` run
in float16/bfloat16 or float32, with PyTorch's names and per-thread state."""
import functools
import warnings

from ember._core import _dtype
from ember._core._tensor import Tensor
from ember.ops import autocast as _autocast

__all__ = [
    "autocast", "is_autocast_available", "is_autocast_enabled", "set_autocast_enabled",
    "get_autocast_dtype", "set_autocast_dtype", "is_autocast_cache_enabled",
    "set_autocast_cache_enabled", "clear_autocast_cache", "autocast_increment_nesting",
    "autocast_decrement_nesting", "custom_fwd", "custom_bwd", "is_autocast_cpu_enabled",
    "set_autocast_cpu_enabled", "get_autocast_cpu_dtype", "set_autocast_cpu_dtype",
    "get_autocast_gpu_dtype", "set_autocast_gpu_dtype",
]

_state = _autocast.state


def is_autocast_available(device_type):
    """Whether autocast supports ``device_type`` (``'cpu'`` and ``'cuda'``).

    Parameters
    ----------
    device_type : str

    Returns
    -------
    bool
    """
    return device_type in _state.dtype


def is_autocast_enabled(device_type="cuda"):
    """Whether an autocast region of ``device_type`` is enabled on this thread.

    Parameters
    ----------
    device_type : str, default 'cuda'

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember
    >>> with ember.autocast("cpu"):
    ...     ember.is_autocast_enabled("cpu")
    True
    >>> ember.is_autocast_enabled("cpu")
    False
    """
    _autocast.check_device_type(device_type)
    return _state.enabled[device_type]


def set_autocast_enabled(device_type, enabled):
    """Enable or disable autocast of ``device_type`` on this thread (what
    :class:`autocast` does on entry and exit).

    Parameters
    ----------
    device_type : str
    enabled : bool
    """
    _autocast.check_device_type(device_type)
    _state.enabled[device_type] = bool(enabled)
    _state.sync()


def get_autocast_dtype(device_type):
    """The lower precision dtype of ``device_type``'s autocast on this thread
    (``bfloat16`` for ``'cpu'``, ``float16`` for ``'cuda'`` unless set).

    Parameters
    ----------
    device_type : str

    Returns
    -------
    ember.dtype
    """
    _autocast.check_device_type(device_type)
    return _state.dtype[device_type]


def set_autocast_dtype(device_type, dtype):
    """Set the lower precision dtype of ``device_type``'s autocast on this thread.

    Parameters
    ----------
    device_type : str
    dtype : ember.dtype
    """
    _autocast.check_device_type(device_type)
    _state.dtype[device_type] = dtype


def _deprecated_form(name, replacement, fn):
    """PyTorch's older per-device spelling of an autocast query, with its warning."""
    def deprecated(*args):
        warnings.warn(f"ember.{name} is deprecated. Please use ember.{replacement} instead.",
                      DeprecationWarning, stacklevel=2)
        return fn(*args)
    deprecated.__name__ = deprecated.__qualname__ = name.split("(")[0]
    deprecated.__doc__ = (f"Deprecated spelling of ``ember.{replacement}``, as in PyTorch "
                          f"(warns ``DeprecationWarning``).")
    return deprecated


is_autocast_cpu_enabled = _deprecated_form(
    "is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')",
    lambda: is_autocast_enabled("cpu"))
set_autocast_cpu_enabled = _deprecated_form(
    "set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)",
    lambda enabled: set_autocast_enabled("cpu", enabled))
get_autocast_cpu_dtype = _deprecated_form(
    "get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')", lambda: get_autocast_dtype("cpu"))
set_autocast_cpu_dtype = _deprecated_form(
    "set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)",
    lambda dtype: set_autocast_dtype("cpu", dtype))
get_autocast_gpu_dtype = _deprecated_form(
    "get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')",
    lambda: get_autocast_dtype("cuda"))
set_autocast_gpu_dtype = _deprecated_form(
    "set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)",
    lambda dtype: set_autocast_dtype("cuda", dtype))


def is_autocast_cache_enabled():
    """Whether autocast caches the lower precision casts of weights on this thread.

    Returns
    -------
    bool
    """
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled):
    """Enable or disable the cache of weight casts on this thread.

    Parameters
    ----------
    enabled : bool
    """
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache():
    """Drop the cached weight casts of this thread (done when the outermost region exits)."""
    _state.cache.clear()


def autocast_increment_nesting():
    """Count one more autocast region entered on this thread; return the new depth.

    Returns
    -------
    int
    """
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting():
    """Count one autocast region left on this thread; return the new depth.

    Returns
    -------
    int
    """
    _state.nesting -= 1
    return _state.nesting


class autocast:
    """A region (context manager or decorator) where ops run in mixed precision.

    Inside, the ops of PyTorch's autocast tables (:data:`ember.ops.autocast.POLICIES`)
    on tensors of ``device_type`` cast their arguments first: matrix products and
    convolutions to ``dtype``, ops that need range or precision (losses, ``exp``,
    ``log``, norms, ``softmax`` and sums on CUDA...) to float32, and joining ops to the
    widest input type.  Other ops run in their inputs' dtype.  The casts are
    differentiable, so gradients reach the float32 parameters in float32; run
    ``backward`` outside the region.

    Parameters
    ----------
    device_type : str
        ``'cuda'`` or ``'cpu'``.
    dtype : ember.dtype, optional
        ``float16`` or ``bfloat16``; by default :func:`get_autocast_dtype` (``float16``
        on CUDA, ``bfloat16`` on the CPU).
    enabled : bool, default True
        False makes a region where autocast of ``device_type`` is off (inside another).
    cache_enabled : bool, optional
        Cast each float32 leaf that requires grad once per region (default: the
        thread's setting, on).

    Examples
    --------
    >>> import ember
    >>> a, b = ember.randn(4, 4), ember.randn(4, 4)
    >>> with ember.autocast("cpu"):
    ...     c = a @ b
    ...     with ember.autocast("cpu", enabled=False):
    ...         d = a @ b
    >>> c.dtype, d.dtype
    (ember.bfloat16, ember.float32)
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        _autocast.check_device_type(device_type)
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = (is_autocast_cache_enabled() if cache_enabled is None
                               else cache_enabled)
        if enabled:
            if device_type == "cuda" and not _cuda_available():
                warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=2)
                enabled = False
            elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                              f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                              "ember.bfloat16, ember.float16 currently.", stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        # the cache lives as long as the outermost region (one forward pass)
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def _cuda_available():
    from ember import cuda        # imported on use: ember.amp loads before ember.cuda
    return cuda.is_available()


def _cast(value, device_type, dtype):
    """``value`` with its floating tensors on ``device_type`` (not float64) cast to
    ``dtype``, looking into lists, tuples and dicts."""
    if isinstance(value, Tensor):
        eligible = (value.device.type == device_type and value.is_floating_point()
                    and value.dtype != _dtype.float64)
        return value.to(dtype) if eligible else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, device_type, dtype) for k, v in value.items()}
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorate the ``forward`` of a custom :class:`ember.autograd.Function` for autocast.

    Parameters
    ----------
    fwd : callable, optional
        The ``forward`` staticmethod (omitted when used as ``@custom_fwd(...)``).
    device_type : str
        ``'cuda'`` or ``'cpu'``.
    cast_inputs : ember.dtype, optional
        Inside an enabled autocast region of ``device_type``, cast the floating tensor
        arguments to this dtype and run ``forward`` with autocast off; without it,
        ``forward`` runs in the current autocast state.  Outside a region, nothing.

    Returns
    -------
    callable

    Examples
    --------
    >>> import ember
    >>> class Square(ember.autograd.Function):
    ...     @staticmethod
    ...     @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     @ember.amp.custom_bwd(device_type="cpu")
    ...     def backward(ctx, grad):
    ...         x, = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> with ember.autocast("cpu"):
    ...     y = Square.apply(ember.ones(2, dtype=ember.bfloat16))
    >>> y.dtype
    ember.float32
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(ctx, *args, **kwargs):
        ctx._dtype = get_autocast_dtype(device_type)
        enabled = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = enabled and cast_inputs is None
        if cast_inputs is None or not enabled:
            return fwd(ctx, *args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast(args, device_type, cast_inputs),
                       **_cast(kwargs, device_type, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorate the ``backward`` of a custom :class:`ember.autograd.Function` so that it
    runs in the autocast state its ``forward`` ran in (see :func:`custom_fwd`).

    Parameters
    ----------
    bwd : callable, optional
        The ``backward`` staticmethod (omitted when used as ``@custom_bwd(...)``).
    device_type : str

    Returns
    -------
    callable
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(ctx, *args, **kwargs):
        with autocast(device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(ctx, *args, **kwargs)
    return decorate_bwd
