"""Variable-length sequences for recurrent layers: ``PackedSequence`` and the
functions that pack, pad and unpack, as in ``torch.nn.utils.rnn``.

A packed sequence stores the rows of a batch of sequences time step by time step:
step ``t`` holds ``batch_sizes[t]`` rows, those of the sequences (sorted by
decreasing length) that are at least ``t + 1`` long.  Every function here is made
of differentiable ember ops.
"""
from collections import namedtuple

import numpy as np

import ember

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                    "unsorted_indices"])):
    """The rows of a batch of variable-length sequences, packed time step by step.

    Parameters
    ----------
    data : Tensor
        ``(sum(lengths), *)``: the rows, step after step.
    batch_sizes : Tensor
        int64, the number of rows of each step.
    sorted_indices : Tensor, optional
        The batch order the sequences were packed in (None: as given).
    unsorted_indices : Tensor, optional
        The inverse permutation (computed from ``sorted_indices`` when omitted).

    Examples
    --------
    >>> import ember
    >>> from ember.nn.utils.rnn import pack_sequence
    >>> p = pack_sequence([ember.tensor([1., 2., 3.]), ember.tensor([4., 5.])])
    >>> p.data
    tensor([1., 4., 2., 5., 3.])
    >>> p.batch_sizes
    tensor([2, 2, 1])
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes must be given")
        if not isinstance(batch_sizes, ember.Tensor):
            batch_sizes = ember.tensor(list(batch_sizes), dtype=ember.int64)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The sequence with ``data.to(*args, **kwargs)``; indices follow the device only."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        moved = [None if t is None else t.to(device) for t in
                 (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, moved[0], moved[1])

    def cpu(self):
        """The sequence on the CPU."""
        return self.to("cpu")

    def double(self):
        """The sequence with float64 data."""
        return self.to(dtype=ember.float64)

    def float(self):
        """The sequence with float32 data."""
        return self.to(dtype=ember.float32)

    @property
    def is_cuda(self):
        """Whether the data is on a CUDA device."""
        return self.data.device.type == "cuda"

    def is_pinned(self):
        """Whether the data is in pinned memory (never, on ember's CPU)."""
        return False


def invert_permutation(permutation):
    """The inverse of an index permutation (None for None).

    Parameters
    ----------
    permutation : Tensor or None
        int64, a permutation of ``0 .. n-1``.

    Returns
    -------
    Tensor or None
    """
    if permutation is None:
        return None
    perm = np.asarray(permutation)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=perm.dtype)
    return ember.from_numpy(inverse)


def _lengths_list(lengths):
    if isinstance(lengths, ember.Tensor):
        return [int(n) for n in lengths.tolist()]
    return [int(n) for n in lengths]


def _packed_positions(lengths_sorted, batch):
    """Flat (step * batch + row) positions of the packed rows, and the batch sizes."""
    steps = lengths_sorted[0] if lengths_sorted else 0
    lens = np.asarray(lengths_sorted)
    batch_sizes = np.array([(lens > t).sum() for t in range(steps)], dtype=np.int64)
    positions = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(batch_sizes)])
    return positions.astype(np.int64), batch_sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of variable-length sequences.

    Parameters
    ----------
    input : Tensor
        ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``.
    lengths : Tensor or list of int
        The length of each sequence.
    batch_first : bool, default False
    enforce_sorted : bool, default True
        Require lengths sorted in decreasing order; otherwise they are sorted here and
        the permutation is kept in the result.

    Returns
    -------
    PackedSequence

    Examples
    --------
    >>> import ember
    >>> from ember.nn.utils.rnn import pack_padded_sequence
    >>> x = ember.tensor([[1., 4.], [2., 5.], [3., 0.]])
    >>> pack_padded_sequence(x, [3, 2]).data
    tensor([1., 4., 2., 5., 3.])
    """
    lens = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    if len(lens) != input.shape[batch_dim]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{len(lens)} (batch_size={input.shape[batch_dim]})")
    if any(n <= 0 for n in lens):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-np.asarray(lens), kind="stable")
        sorted_indices = ember.from_numpy(order.astype(np.int64))
        input = input.index_select(batch_dim, sorted_indices)
        lens = [lens[i] for i in order]
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if lens[0] > steps:
        raise RuntimeError(f"Expected lengths at most the padded length {steps}, got "
                           f"{lens[0]}")
    positions, batch_sizes = _packed_positions(lens, batch)
    flat = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = flat[ember.from_numpy(positions)]
    return PackedSequence(data, ember.from_numpy(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a :class:`PackedSequence` into a padded batch (the inverse of
    :func:`pack_padded_sequence`).

    Parameters
    ----------
    sequence : PackedSequence
    batch_first : bool, default False
    padding_value : float, default 0.0
    total_length : int, optional
        Pad to this many steps (at least the longest sequence).

    Returns
    -------
    tuple
        ``(padded, lengths)``: ``(T, B, *)`` (or ``(B, T, *)``) and an int64 tensor of the
        lengths, both in the original batch order.
    """
    sizes = [int(n) for n in sequence.batch_sizes.tolist()]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    data = sequence.data
    positions = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(sizes)])
    rest = tuple(data.shape[1:])
    padded = ember.full((steps * batch,) + rest, padding_value, dtype=data.dtype,
                        device=data.device)
    padded[ember.from_numpy(positions.astype(np.int64))] = data
    padded = padded.reshape((steps, batch) + rest)
    lengths = np.array([sum(1 for n in sizes if n > b) for b in range(batch)], dtype=np.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[np.asarray(sequence.unsorted_indices)]
    return padded, ember.from_numpy(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length sequences, padding them to the longest.

    Parameters
    ----------
    sequences : list of Tensor
        Each ``(L_i, *)`` with the same trailing dims.
    batch_first : bool, default False
        Return ``(B, T, *)`` instead of ``(T, B, *)``.
    padding_value : float, default 0.0
    padding_side : {'right', 'left'}, default 'right'

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> from ember.nn.utils.rnn import pad_sequence
    >>> pad_sequence([ember.tensor([1, 2, 3]), ember.tensor([4])], batch_first=True)
    tensor([[1, 2, 3],
            [4, 0, 0]])
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = ember.full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype,
                             device=s.device)
            s = ember.cat([s, pad] if padding_side == "right" else [pad, s])
        rows.append(s)
    return ember.stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of sequences.

    Parameters
    ----------
    padded_sequences : Tensor
        ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``.
    lengths : Tensor or list of int
    batch_first : bool, default False

    Returns
    -------
    list of Tensor
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :n] for i, n in enumerate(_lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length sequences.

    Parameters
    ----------
    sequences : list of Tensor
        Each ``(L_i, *)``.
    enforce_sorted : bool, default True
        Require the sequences sorted by decreasing length.

    Returns
    -------
    PackedSequence
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Unpack a :class:`PackedSequence` into a list of sequences.

    Parameters
    ----------
    packed_sequences : PackedSequence

    Returns
    -------
    list of Tensor
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
