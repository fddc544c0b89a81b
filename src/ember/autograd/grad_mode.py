"""Grad modes: whether the ops run on this thread record a graph.

As in PyTorch, the mode is per thread (a new thread starts with gradients on) and
each manager works both as a context manager and as a function decorator.
"""
import functools
import inspect
import threading

from ember._core._tensor import _set_grad_enabled, _set_inference_mode, is_grad_enabled

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

_inference = threading.local()


class _GradModeManager:
    """A context manager that is also a decorator: each decorated call enters a fresh
    copy, so the manager can be shared between threads and nested calls."""

    def clone(self):
        return type(self)()

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError(f"{type(self).__name__} cannot decorate a class")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with self.clone():
                                response = gen.throw(exc)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper


class _NoParamGradModeManager(_GradModeManager):
    """A manager without arguments, also usable as a bare decorator (``@no_grad``, no
    parentheses), as in PyTorch."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamGradModeManager):
    """Turn gradient recording off (in a ``with`` block or a decorated function).

    Examples
    --------
    >>> import ember
    >>> x = ember.ones(2, requires_grad=True)
    >>> with ember.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self):
        self._previous = _set_grad_enabled(False)

    def __exit__(self, *exc):
        _set_grad_enabled(self._previous)


class enable_grad(_NoParamGradModeManager):
    """Turn gradient recording on, e.g. inside a :class:`no_grad` block."""

    def __enter__(self):
        self._previous = _set_grad_enabled(True)

    def __exit__(self, *exc):
        _set_grad_enabled(self._previous)


class set_grad_enabled(_GradModeManager):
    """Set gradient recording on or off: at once when called, and back to the previous
    mode at the end of a ``with`` block.

    Parameters
    ----------
    mode : bool
    """

    def __init__(self, mode):
        self._previous = _set_grad_enabled(bool(mode))
        self.mode = bool(mode)

    def clone(self):
        return type(self)(self.mode)

    def __call__(self, func):
        _set_grad_enabled(self._previous)   # as a decorator it applies per call only
        return super().__call__(func)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_grad_enabled(self._previous)


class inference_mode(_GradModeManager):
    """No gradient recording, for inference code (``mode=False`` turns it off again).

    The tensors made inside are inference tensors (``Tensor.is_inference()``), as in
    PyTorch: outside the mode they cannot be written in place, saved for backward or
    made to require grad.  Use :class:`no_grad` for tensors that meet autograd later.

    Parameters
    ----------
    mode : bool, default True
        Also usable as a bare decorator (``@inference_mode``, no parentheses).
    """

    def __new__(cls, mode=True):
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)              # @inference_mode on a function

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def clone(self):
        return type(self)(self.mode)

    def __call__(self, func):
        if isinstance(func, bool):     # @inference_mode(False) style misuse guard
            return inference_mode(func)
        return super().__call__(func)

    def __enter__(self):
        self._previous = (is_grad_enabled(), is_inference_mode_enabled())
        _inference.on = self.mode
        _set_inference_mode(self.mode)
        if self.mode:
            _set_grad_enabled(False)

    def __exit__(self, *exc):
        _set_grad_enabled(self._previous[0])
        _inference.on = self._previous[1]
        _set_inference_mode(self._previous[1])


def is_inference_mode_enabled():
    """Whether an :class:`inference_mode` block is active on this thread."""
    return getattr(_inference, "on", False)
