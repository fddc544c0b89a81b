"""ember.cpu: the CPU's device module, as ``torch.cpu``.

It mirrors the device API of :mod:`ember.cuda` for the one CPU device so that
device-agnostic code (``ember.get_device_module(device).synchronize()``) runs on both:
streams and events exist but order nothing, as every CPU op has finished when it returns.
"""
import contextlib

__all__ = ["is_available", "is_initialized", "device_count", "current_device", "set_device",
           "synchronize", "Stream", "Event", "current_stream", "stream", "StreamContext"]


def is_available():
    """True: the CPU is always there."""
    return True


def is_initialized():
    """True: the CPU needs no initialisation."""
    return True


def device_count():
    """1: ember sees the CPU as one device (its cores are threads, see
    :func:`ember.set_num_threads`)."""
    return 1


def current_device():
    """``"cpu"``, the only CPU device."""
    return "cpu"


def set_device(device):
    """Select the current CPU device: there is only one, so nothing to do.

    Parameters
    ----------
    device : ember.device, str or int
        Ignored.
    """


def synchronize(device=None):
    """Wait for the CPU's work to finish: it has, since CPU ops return when done.

    Parameters
    ----------
    device : ember.device, str or int, optional
        Ignored.
    """


class Stream:
    """A CPU stream, as torch.cpu.Stream: CPU ops run in order on the calling thread, so
    it has nothing to order and code written for device streams runs unchanged.

    Parameters
    ----------
    priority : int, optional
        Ignored.
    """

    def __init__(self, priority=-1):
        pass

    def wait_stream(self, stream):
        """Nothing to wait for."""

    def record_event(self):
        """Nothing to record."""

    def wait_event(self, event):
        """Nothing to wait for."""


class Event:
    """A CPU event: always complete."""

    def query(self):
        """True: the work before the event is done."""
        return True

    def record(self, stream=None):
        """Nothing to record."""

    def synchronize(self):
        """Nothing to wait for."""

    def wait(self, stream=None):
        """Nothing to wait for."""


_current = [Stream()]


def current_stream(device=None):
    """The stream selected by :func:`stream` (a default one outside any).

    Parameters
    ----------
    device : ember.device, str or int, optional
        Ignored.
    """
    return _current[-1]


class StreamContext(contextlib.AbstractContextManager):
    """Select ``stream`` as the current stream inside a ``with`` block (None: no change).

    Parameters
    ----------
    stream : Stream or None
    """

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            _current.append(self.stream)

    def __exit__(self, *exc):
        if self.stream is not None:
            _current.pop()


def stream(stream):
    """A :class:`StreamContext` selecting ``stream``.

    Examples
    --------
    >>> import ember
    >>> s = ember.cpu.Stream()
    >>> with ember.cpu.stream(s):
    ...     ember.cpu.current_stream() is s
    True
    """
    return StreamContext(stream)
