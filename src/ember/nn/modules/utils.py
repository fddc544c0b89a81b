"""Helpers of ``torch.nn.modules.utils``: argument tuples and state-dict key prefixes.

Layer code written for PyTorch imports ``_pair`` and its siblings from here to expand an
``int`` argument (kernel size, stride) into one value per spatial dim.
"""
import collections.abc
from itertools import repeat

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n, name="parse"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """Reverse ``t`` and repeat each element ``n`` times: a layer's ``padding`` in the
    last-dim-first pairs that ``F.pad`` takes."""
    return tuple(x for x in reversed(t) for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip ``prefix`` from the keys of a state dict that start with it, in place.

    A state dict saved from a wrapped model (``DataParallel`` or
    ``DistributedDataParallel``, whose keys start with ``"module."``) then loads into the
    bare model.  Keys without the prefix are left as they are; the stripped ones move
    to the end, in their order (as in PyTorch).  The state dict's ``_metadata``, if any,
    is renamed the same way.

    Parameters
    ----------
    state_dict : dict
        The state dict to change (an ``OrderedDict`` from :meth:`ember.nn.Module.state_dict`
        or :func:`ember.load`).
    prefix : str
        The prefix to strip, e.g. ``"module."``.

    Returns
    -------
    None

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.modules.utils import consume_prefix_in_state_dict_if_present
    >>> state = {"module.weight": ember.ones(2, 3), "module.bias": ember.zeros(2)}
    >>> consume_prefix_in_state_dict_if_present(state, "module.")
    >>> sorted(state)
    ['bias', 'weight']
    >>> nn.Linear(3, 2).load_state_dict(state)
    <All keys matched successfully>
    """
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is None:
        return
    for key in list(metadata.keys()):
        # '' is the wrapper itself and stays; 'module' (the prefix without its dot) is the
        # wrapped model, which becomes the root ''
        if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
            metadata[key[len(prefix):]] = metadata.pop(key)
