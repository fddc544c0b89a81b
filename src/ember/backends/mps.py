"""``ember.backends.mps``: Apple's Metal backend, which ember does not have.

Examples
--------
>>> import ember
>>> ember.backends.mps.is_built(), ember.backends.mps.is_available()
(False, False)
"""

__all__ = ["is_built", "is_available"]


def is_built():
    """Whether ember was built with MPS support: no.

    Returns
    -------
    bool
        False.
    """
    return False


def is_available():
    """Whether an MPS device can be used: never in ember.

    Returns
    -------
    bool
        False.
    """
    return False
