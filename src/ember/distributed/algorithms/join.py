"""``Join``: training with uneven numbers of inputs per rank without hanging.

PyTorch's design: every iteration, a rank still training announces itself with an
all-reduce of 1 (:meth:`Join.notify_join_context`, called by the first joinable, e.g. DDP's
forward).  A rank whose inputs are exhausted leaves the ``with`` body and, in
``__exit__``, answers each such all-reduce with 0 and then shadows the collectives of one
iteration (each joinable's :meth:`JoinHook.main_hook`), until the all-reduce sums to 0:
every rank has joined.
"""
import abc

import ember
from ember.distributed import _collectives

__all__ = ["Join", "JoinHook", "Joinable"]


class JoinHook:
    """What a joined rank runs for a joinable: ``main_hook`` once per iteration that other
    ranks still train (shadowing that iteration's collectives), ``post_hook`` once at the
    end."""

    def main_hook(self):
        """Shadow one training iteration's collectives."""

    def post_hook(self, is_last_joiner):
        """Run once every rank has joined; ``is_last_joiner`` tells whether this rank was
        the last."""


class Joinable(abc.ABC):
    """An object taking part in :class:`Join` (``DistributedDataParallel`` is one)."""

    @abc.abstractmethod
    def join_hook(self, **kwargs):
        """The :class:`JoinHook` a joined rank runs for this object."""

    @property
    @abc.abstractmethod
    def join_device(self):
        """The device of the join all-reduces."""

    @property
    @abc.abstractmethod
    def join_process_group(self):
        """The process group of the join all-reduces."""


class Join:
    """Context manager letting ranks with fewer inputs finish while the others train.

    Parameters
    ----------
    joinables : list of Joinable
        All must share one process group; the first one's collectives announce each
        iteration.
    enable : bool, default True
        False makes the context manager do nothing.
    throw_on_early_termination : bool, default False
        Raise RuntimeError on every rank as soon as one rank runs out of inputs, instead
        of shadowing.
    **kwargs
        Passed to each joinable's ``join_hook``.

    Examples
    --------
    >>> from ember.distributed.algorithms import Join
    >>> with Join([ddp_model]):                             # doctest: +SKIP
    ...     for x, y in my_uneven_batches:
    ...         loss_fn(ddp_model(x), y).backward()
    ...         optimizer.step()
    """

    _active = None

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        for j in joinables:
            if not isinstance(j, Joinable):
                raise TypeError(f"Join takes Joinable objects, got {type(j).__name__}")
        groups = {id(j.join_process_group) for j in joinables}
        if len(groups) > 1:
            raise ValueError("Using join context manager with multiple process groups")
        self._joinables = list(joinables)
        self._hooks = [j.join_hook(**kwargs) for j in joinables]
        self._enable = enable
        self._throw = throw_on_early_termination
        self._group = joinables[0].join_process_group

    def __enter__(self):
        if Join._active is not None:
            raise RuntimeError("Join context managers cannot be nested")
        if self._enable:
            Join._active = self

    def __exit__(self, exc_type, exc, tb):
        Join._active = None
        if not self._enable or exc_type is not None:
            return False
        is_last_joiner = True
        while _sum_of(0, self._group) > 0:
            if self._throw:
                _sum_of(1, self._group)   # the termination flag the others wait for
                raise RuntimeError(f"Rank {self._group.rank()} exhausted all inputs.")
            is_last_joiner = False
            for hook in self._hooks:
                hook.main_hook()
        for hook in self._hooks:
            hook.post_hook(is_last_joiner)
        return False

    @staticmethod
    def notify_join_context(joinable):
        """Announce one more training iteration of ``joinable`` to joined ranks (a no-op
        outside a :class:`Join` or for joinables other than its first).

        Examples
        --------
        >>> from ember.distributed.algorithms import Join
        >>> Join.notify_join_context(ddp_model)             # doctest: +SKIP
        """
        join = Join._active
        if join is None or joinable is not join._joinables[0]:
            return
        _sum_of(1, join._group)
        if join._throw and _sum_of(0, join._group) > 0:
            raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing "
                               "across all ranks.")


def _sum_of(value, group):
    """The sum of ``value`` over the ranks of ``group`` (blocking)."""
    t = ember.full((1,), value, dtype=ember.int64)
    _collectives.all_reduce(t, group=group)
    return int(t.item())
