"""Datasets: map-style and iterable, and the ways to combine and split them (as ``torch.utils.data``)."""
import bisect
import itertools
import math
import warnings

import ember

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
           "Subset", "StackDataset", "random_split"]


class Dataset:
    """A map-style dataset: samples indexed by keys (usually ``0 .. len - 1``).

    Subclasses implement ``__getitem__`` and, for the default samplers of
    :class:`~ember.utils.data.DataLoader`, ``__len__``.

    Examples
    --------
    >>> from ember.utils.data import Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, index):
    ...         return index * index
    >>> [Squares()[i] for i in range(4)]
    [0, 1, 4, 9]
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream of samples: subclasses implement ``__iter__``.

    With worker processes each worker holds a copy of the dataset; use
    :func:`~ember.utils.data.get_worker_info` inside ``__iter__`` to split the
    stream between them.

    Examples
    --------
    >>> from ember.utils.data import IterableDataset
    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(3))
    >>> list(Count())
    [0, 1, 2]
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Dataset of tensors sharing their first dimension: sample ``i`` is ``tuple(t[i] for t in tensors)``.

    Parameters
    ----------
    *tensors : Tensor
        Tensors with the same size of dimension 0.

    Raises
    ------
    AssertionError
        If the tensors differ in the size of their first dimension (``"Size mismatch
        between tensors"``, as PyTorch asserts).
    IndexError
        For a zero-dimensional tensor, which has no first dimension to index.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.data import TensorDataset
    >>> ds = TensorDataset(ember.arange(3), ember.arange(3) * 10)
    >>> len(ds), ds[1]
    (3, (tensor(1), tensor(10)))
    """

    def __init__(self, *tensors):
        for i, tensor in enumerate(tensors):
            if not isinstance(tensor, ember.Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(tensor).__name__}, "
                                "not a Tensor")
        # an explicit raise rather than PyTorch's assert, which python -O would strip
        # (a 0-d tensor's size(0) raises IndexError, as in PyTorch)
        if tensors and any(t.size(0) != tensors[0].size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


class ConcatDataset(Dataset):
    """The concatenation of several map-style datasets.

    Parameters
    ----------
    datasets : iterable of Dataset
        The datasets, in order; none may be an :class:`IterableDataset`.

    Attributes
    ----------
    cumulative_sizes : list of int
        Running totals of the datasets' lengths.

    Examples
    --------
    >>> from ember.utils.data import ConcatDataset
    >>> ds = ConcatDataset([[1, 2], [3, 4, 5]])
    >>> len(ds), ds[2], ds[-1], ds.cumulative_sizes
    (5, 3, 5, [2, 5])
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of the lengths of ``sequence``'s items."""
        return list(itertools.accumulate(len(item) for item in sequence))

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        dataset_index = bisect.bisect_right(self.cumulative_sizes, index)
        if dataset_index == len(self.datasets):
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length "
                             f"{len(self)}")
        start = self.cumulative_sizes[dataset_index - 1] if dataset_index > 0 else 0
        return self.datasets[dataset_index][index - start]


class ChainDataset(IterableDataset):
    """The chaining of several iterable datasets: their streams one after the other.

    Parameters
    ----------
    datasets : iterable of IterableDataset
        The datasets, in order.

    Examples
    --------
    >>> from ember.utils.data import ChainDataset
    >>> list(ChainDataset([range(2), range(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            yield from dataset

    def __len__(self):
        return sum(len(dataset) for dataset in self.datasets)


class StackDataset(Dataset):
    """Several map-style datasets of one length, read side by side: item ``i`` is the
    tuple (or dict) of their items ``i``.

    Parameters
    ----------
    *args : Dataset
        Datasets whose items are returned as a tuple.
    **kwargs : Dataset
        Datasets whose items are returned as a dict under these names (not with ``args``).

    Raises
    ------
    ValueError
        If no dataset is given, both ``args`` and ``kwargs`` are, or the lengths differ.

    Examples
    --------
    >>> from ember.utils.data import StackDataset
    >>> StackDataset([1, 2], "ab")[1]
    (2, 'b')
    >>> StackDataset(x=[1, 2], y="ab")[0]
    {'x': 1, 'y': 'a'}
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset takes datasets either as positional arguments (items "
                             "are tuples) or as keyword arguments (items are dicts), not both")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        datasets = args if args else kwargs
        lengths = [len(dataset) for dataset in (args or kwargs.values())]
        if any(length != lengths[0] for length in lengths):
            raise ValueError(f"Size mismatch between datasets: lengths {lengths}")
        self.datasets = datasets
        self._length = lengths[0]

    def _named(self):
        return self.datasets.items() if isinstance(self.datasets, dict) \
            else enumerate(self.datasets)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices):
        # batched fetch from the datasets that support it (as PyTorch)
        columns = {}
        for key, dataset in self._named():
            if callable(getattr(dataset, "__getitems__", None)):
                items = dataset.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError(f"Nested dataset's output size mismatch. Expected "
                                     f"{len(indices)}, got {len(items)}")
                columns[key] = items
            else:
                columns[key] = [dataset[i] for i in indices]
        if isinstance(self.datasets, dict):
            return [{key: column[row] for key, column in columns.items()}
                    for row in range(len(indices))]
        return [tuple(column[row] for column in columns.values()) for row in range(len(indices))]

    def __len__(self):
        return self._length


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Parameters
    ----------
    dataset : Dataset
        The whole dataset.
    indices : sequence of int
        Indices into ``dataset``.

    Examples
    --------
    >>> from ember.utils.data import Subset
    >>> s = Subset([10, 11, 12, 13], [3, 1])
    >>> len(s), s[0], s[1]
    (2, 13, 11)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        # batched fetch when the underlying dataset supports it (as PyTorch)
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into non-overlapping subsets.

    Parameters
    ----------
    dataset : Dataset
        The dataset to split.
    lengths : sequence of int or float
        Lengths of the splits, or fractions summing to 1: each split then gets
        ``floor(len(dataset) * fraction)`` samples and the remainder is dealt
        round-robin from the first split on.
    generator : Generator, optional
        Source of the permutation (default: ember's default generator).

    Returns
    -------
    list of Subset

    Raises
    ------
    ValueError
        If a fraction is outside [0, 1] or the lengths do not add up to ``len(dataset)``.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.data import random_split
    >>> parts = random_split(range(10), [0.7, 0.3], generator=ember.Generator().manual_seed(0))
    >>> [len(p) for p in parts]
    [7, 3]
    """
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        split_lengths = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            split_lengths.append(int(math.floor(len(dataset) * fraction)))
        remainder = len(dataset) - sum(split_lengths)
        for i in range(remainder):
            split_lengths[i % len(split_lengths)] += 1
        lengths = split_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              "This might result in an empty dataset.", stacklevel=2)
    if any(not isinstance(length, int) or length < 0 for length in lengths):
        raise ValueError(f"lengths must be non-negative integers or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = ember.randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, indices[end - length:end])
            for end, length in zip(itertools.accumulate(lengths), lengths)]
