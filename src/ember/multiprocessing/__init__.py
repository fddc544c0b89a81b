"""``ember.multiprocessing``: the standard library's :mod:`multiprocessing`, sharing tensors.

Every name of :mod:`multiprocessing` (``Process``, ``Queue``, ``SimpleQueue``,
``Pool``, ``get_context``, ``set_start_method``, ...) is re-exported.  Importing
ember registers reducers with :class:`multiprocessing.reduction.ForkingPickler`,
so a tensor put on a queue, sent through a pipe or passed to a pool moves its
storage into shared memory (if it is not there yet) and the receiver maps the same
memory: no data is copied, and writes by one process are seen by the other.

Examples
--------
>>> import ember
>>> import ember.multiprocessing as mp
>>> t = ember.zeros(3)
>>> t.is_shared()
False
>>> t.share_memory_().is_shared()
True
>>> mp.get_sharing_strategy()
'file_descriptor'
"""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from ember._core._tensor import register_shared_memory
from ember.multiprocessing import _shared_memory
from ember.multiprocessing.reductions import init_reductions
from ember.multiprocessing.spawn import (ProcessContext, ProcessException, ProcessExitedException,
                                         ProcessRaisedException, spawn, start_processes)

# ember's own names; the standard library's are re-exported above (and documented there)
__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessException",
           "ProcessRaisedException", "ProcessExitedException", "get_sharing_strategy",
           "set_sharing_strategy", "get_all_sharing_strategies"]


def set_sharing_strategy(new_strategy):
    """Choose how the storages shared from now on are handed to other processes.

    Parameters
    ----------
    new_strategy : str
        ``'file_descriptor'`` (the default: the segment has no name and the
        receiver gets a duplicate of its descriptor, so nothing can be left behind)
        or ``'file_system'`` (the segment is found by name; the last process to
        release it removes the name).

    Raises
    ------
    ValueError
        For another name.

    Examples
    --------
    >>> import ember.multiprocessing as mp
    >>> mp.set_sharing_strategy("file_system")
    >>> mp.get_sharing_strategy()
    'file_system'
    >>> mp.set_sharing_strategy("file_descriptor")
    """
    if new_strategy not in _shared_memory.SHARING_STRATEGIES:
        raise ValueError(f"invalid sharing strategy {new_strategy!r}, expected one of "
                         f"{sorted(_shared_memory.SHARING_STRATEGIES)}")
    _shared_memory.set_strategy(new_strategy)


def get_sharing_strategy():
    """The current sharing strategy (see :func:`set_sharing_strategy`).

    Examples
    --------
    >>> import ember.multiprocessing as mp
    >>> mp.get_sharing_strategy()
    'file_descriptor'
    """
    return _shared_memory.sharing_strategy()


def get_all_sharing_strategies():
    """The set of sharing strategies this system supports.

    Examples
    --------
    >>> import ember.multiprocessing as mp
    >>> sorted(mp.get_all_sharing_strategies())
    ['file_descriptor', 'file_system']
    """
    return set(_shared_memory.SHARING_STRATEGIES)


register_shared_memory(_shared_memory.SharedMemoryBlock)
init_reductions()
