"""Collation: turning a list of samples into one batch of tensors (as ``torch.utils.data``)."""
import collections.abc
import copy
import re

import numpy as np

import ember
from ember.utils.data import _shared_memory

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map"]

# NumPy dtype codes of bytes, str and object arrays, which do not become tensors
_NP_STR_OBJ_PATTERN = re.compile(r"[SaUO]")

_ERR_FORMAT = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
               "dicts or lists; found {}")


def _is_numpy_value(data):
    kind = type(data)
    return kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_", "string_")


def default_convert(data):
    """Convert the NumPy arrays and scalars in ``data`` to tensors, keeping its structure.

    Used by :class:`~ember.utils.data.DataLoader` when automatic batching is off
    (``batch_size=None``).  Mappings, named tuples and sequences are converted
    elementwise (a plain tuple becomes a list, as in PyTorch); NumPy arrays of
    strings or objects and every other value are returned unchanged.

    Parameters
    ----------
    data : object
        One sample.

    Returns
    -------
    object
        ``data`` with its NumPy values replaced by tensors.

    Examples
    --------
    >>> import numpy as np
    >>> from ember.utils.data import default_convert
    >>> default_convert({"x": np.array([0, 1]), "label": 3})
    {'x': tensor([0, 1]), 'label': 3}
    """
    if isinstance(data, ember.Tensor):
        return data
    if _is_numpy_value(data):
        if isinstance(data, np.ndarray) and _NP_STR_OBJ_PATTERN.search(data.dtype.str):
            return data
        return ember.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        return _rebuild_mapping(data, converted)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(template, items):
    """A mapping of ``template``'s type holding ``items``; a dict if that type cannot be built."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(items)
            return clone
        return type(template)(items)
    except TypeError:
        return items


def _rebuild_sequence(template, items):
    """A sequence of ``template``'s type holding ``items``; a list if that type cannot be built."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` recursively, dispatching leaf types through ``collate_fn_map``.

    Parameters
    ----------
    batch : sequence
        The samples of one batch.
    collate_fn_map : dict, optional
        ``{type or tuple of types: fn}``; ``fn(batch, *, collate_fn_map)`` collates a
        batch whose first element is of that type (exact type first, then
        ``isinstance`` in insertion order).  Mappings, named tuples and sequences
        are handled here, elementwise.

    Returns
    -------
    object
        The collated batch.

    Raises
    ------
    RuntimeError
        If the sequences in the batch differ in length.
    TypeError
        If an element has no collate function.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        items = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                 for key in elem}
        return _rebuild_mapping(elem, items)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        elem_size = len(elem)
        if not all(len(e) == elem_size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        items = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return items
        return _rebuild_sequence(elem, items)
    if hasattr(elem, "__dlpack__") and not isinstance(elem, ember.Tensor):
        # another library's tensors (a PyTorch dataset's samples), taken through DLPack
        return collate([ember.from_dlpack(e) for e in batch], collate_fn_map=collate_fn_map)
    raise TypeError(_ERR_FORMAT.format(elem_type))


def _collate_tensor(batch, *, collate_fn_map=None):
    arena = _shared_memory.current_arena()
    elem = batch[0]
    if arena is None or not isinstance(elem, ember.Tensor) or any(
            isinstance(t, ember.Tensor) and t.requires_grad for t in batch):
        return ember.stack(batch, 0)
    # in a DataLoader worker: stack straight into shared memory, which the main
    # process maps instead of receiving a pickled copy
    dtype = elem.dtype
    if any(not isinstance(t, ember.Tensor) or t.dtype is not dtype for t in batch):
        return ember.stack(batch, 0)  # promotes dtypes or raises PyTorch's error
    out = arena.empty((len(batch),) + tuple(elem.shape), elem.dtype)
    return ember.stack(batch, 0, out=out)


def _collate_numpy_array(batch, *, collate_fn_map=None):
    if _NP_STR_OBJ_PATTERN.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERR_FORMAT.format(batch[0].dtype))
    return collate([ember.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalar(batch, *, collate_fn_map=None):
    return ember.as_tensor(np.asarray(batch))


def _collate_float(batch, *, collate_fn_map=None):
    return ember.tensor(batch, dtype=ember.float64)


def _collate_int(batch, *, collate_fn_map=None):
    return ember.tensor(batch)


def _collate_str(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    ember.Tensor: _collate_tensor,
    np.ndarray: _collate_numpy_array,
    (np.bool_, np.number, np.object_): _collate_numpy_scalar,
    float: _collate_float,
    int: _collate_int,
    str: _collate_str,
    bytes: _collate_str,
}


def default_collate(batch):
    """Stack a list of samples into a batch with a new leading dimension.

    By type of the batch's elements (as PyTorch's ``default_collate``):

    * Tensor -> Tensor stacked along a new dimension 0 (sizes must match); so are
      other libraries' tensors (PyTorch's, CuPy's...), taken through DLPack;
    * NumPy array -> Tensor (stacked); NumPy scalar -> Tensor of its dtype;
    * float -> float64 Tensor; int -> int64 Tensor (bool -> bool Tensor);
    * str, bytes -> the list, unchanged;
    * Mapping -> the same mapping, each key's values collated;
    * named tuple -> the same named tuple, field by field;
    * other sequences (tuple, list) -> a list (a tuple gives a list), position by position.

    Parameters
    ----------
    batch : sequence
        The samples of one batch.

    Returns
    -------
    object
        The batch.

    Raises
    ------
    RuntimeError
        If tensors differ in size or sequences in length.
    TypeError
        For elements of any other type.

    Examples
    --------
    >>> from ember.utils.data import default_collate
    >>> default_collate([0, 1, 2])
    tensor([0, 1, 2])
    >>> default_collate([(0, 1.5), (2, 3.5)])
    [tensor([0, 2]), tensor([1.5000, 3.5000], dtype=ember.float64)]
    >>> default_collate([{"a": 1, "s": "x"}, {"a": 2, "s": "y"}])
    {'a': tensor([1, 2]), 's': ['x', 'y']}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
