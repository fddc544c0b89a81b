"""Anomaly mode: remember where each graph node was created, and stop a backward
pass at the first node that returns NaN, naming that forward call."""
import traceback

from ember.autograd import _graph

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

_state = {"enabled": False, "check_nan": True}


def _forward_stack():
    return traceback.format_stack()[:-1]


def _apply(enabled, check_nan):
    _state["enabled"] = enabled
    _state["check_nan"] = check_nan
    _graph._set_anomaly_recorder(_forward_stack if enabled else None, enabled and check_nan)


def is_anomaly_enabled():
    """Whether anomaly mode is on."""
    return _state["enabled"]


def is_anomaly_check_nan_enabled():
    """Whether anomaly mode, when on, stops a backward pass at a NaN gradient."""
    return _state["check_nan"]


def _report_nan(node, index):
    trace = node._forward_trace
    where = ("".join(trace) if trace else
             "(no forward trace: the node was created before anomaly mode was enabled)")
    raise RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th output.\n"
                       f"The forward call that created it:\n{where}")


class detect_anomaly:
    """Context manager: within it, a NaN returned by a backward formula raises an error
    that shows the forward call which created the failing node.

    Parameters
    ----------
    check_nan : bool, default True

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([0.0], requires_grad=True)
    >>> with ember.autograd.detect_anomaly():
    ...     y = x.sqrt() * 0.0
    ...     y.sum().backward()
    Traceback (most recent call last):
    ...
    RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output...
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = (_state["enabled"], _state["check_nan"])
        _apply(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _apply(*self._previous)


class set_detect_anomaly:
    """Turn anomaly mode on or off: at once, and back at the end of a ``with`` block.

    Parameters
    ----------
    mode : bool
    check_nan : bool, default True
    """

    def __init__(self, mode, check_nan=True):
        self._previous = (_state["enabled"], _state["check_nan"])
        _apply(bool(mode), check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _apply(*self._previous)
