"""``ember.backends.opt_einsum``: ember's :func:`ember.einsum` does not use the
opt_einsum package (it contracts the operands from left to right), so the backend
is never available, as in a PyTorch without opt_einsum installed.  As there,
assigning ``enabled`` is accepted and changes nothing, and :func:`flags` or
:func:`set_flags` refuse to enable it.

Examples
--------
>>> import ember
>>> ember.backends.opt_einsum.is_available(), ember.backends.opt_einsum.enabled
(False, False)
"""
import contextlib

__all__ = ["is_available", "get_opt_einsum", "set_flags", "flags", "enabled", "strategy"]

enabled = False
strategy = None


def is_available():
    """Whether :func:`ember.einsum` can use opt_einsum to order its contractions: no.

    Returns
    -------
    bool
        False.
    """
    return False


def get_opt_einsum():
    """The opt_einsum package ember uses: None.

    Returns
    -------
    None
    """
    return None


def set_flags(_enabled=None, _strategy=None):
    """Set ``enabled``/``strategy``: enabling, or choosing a strategy, raises the
    ValueError PyTorch raises without opt_einsum; returns the previous values.

    Returns
    -------
    tuple
        ``(enabled, None)``.
    """
    global enabled
    previous = (enabled, None)
    if _enabled is not None:
        if _enabled:
            raise ValueError(
                f"opt_einsum is not available, so setting `enabled` to {_enabled} will not reap "
                "the benefits of calculating an optimal path for einsum. torch.einsum will "
                "fall back to contracting from left to right. To enable this optimal path "
                "calculation, please install opt-einsum.")
        enabled = _enabled
    if _strategy is not None:
        raise ValueError(
            f"opt_einsum is not available, so setting `strategy` to {_strategy} will not be "
            "meaningful. torch.einsum will bypass path calculation and simply contract from "
            "left to right. Please install opt_einsum or unset `strategy`.")
    return previous


@contextlib.contextmanager
def flags(enabled=None, strategy=None):
    """Set the flags for the duration of a ``with`` block (see :func:`set_flags`)."""
    previous = set_flags(enabled, strategy)
    try:
        yield
    finally:
        set_flags(*previous)

