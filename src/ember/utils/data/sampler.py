"""Samplers: the order in which a DataLoader visits a map-style dataset (as ``torch.utils.data``)."""
import numpy as np

import ember

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]

# RandomSampler with replacement draws indices in chunks of this size (as PyTorch)
_REPLACEMENT_CHUNK = 32


def _is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _fresh_generator():
    """A generator seeded from the default one, as PyTorch's samplers make when given none."""
    seed = int(ember.empty((), dtype=ember.int64).random_().item())
    return ember.Generator().manual_seed(seed)


def _multinomial(weights, num_samples, replacement, generator):
    """Indices drawn with probabilities proportional to ``weights`` (float64, 1-d)."""
    w = weights.numpy()
    if not np.all(np.isfinite(w)):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                           "that is infinite or NaN)")
    if np.any(w < 0):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
    if w.sum() <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        # inverse CDF: the first category whose running total exceeds u * total
        cdf = np.cumsum(w)
        u = ember.rand(num_samples, dtype=ember.float64, generator=generator).numpy()
        picks = np.searchsorted(cdf, u * cdf[-1], side="right")
        # u * total can round up to total; never pick past the last positive weight
        return np.minimum(picks, np.flatnonzero(w)[-1]).tolist()
    if num_samples > np.count_nonzero(w):
        raise RuntimeError(f"cannot sample n_sample ({num_samples}) > number of categories with "
                           f"non-zero weight ({np.count_nonzero(w)}) without replacement")
    # exponential race: the num_samples smallest E_i / w_i are a weighted draw without replacement
    keys = ember.empty(len(w), dtype=ember.float64).exponential_(generator=generator).numpy()
    with np.errstate(divide="ignore"):
        keys = keys / w
    return np.argsort(keys, kind="stable")[:num_samples].tolist()


class Sampler:
    """Base class of samplers: an iterable of dataset indices (or of lists of them).

    Subclasses implement ``__iter__`` and, when the number of indices is known, ``__len__``.

    Examples
    --------
    >>> from ember.utils.data import Sampler
    >>> class Evens(Sampler):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(0, self.n, 2))
    >>> list(Evens(5))
    [0, 2, 4]
    """

    def __init__(self, data_source=None):
        self.data_source = data_source

    def __iter__(self):
        raise NotImplementedError("Subclasses of Sampler should implement __iter__.")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    Parameters
    ----------
    data_source : Dataset
        The dataset to sample from.

    Examples
    --------
    >>> from ember.utils.data import SequentialSampler
    >>> list(SequentialSampler("abc"))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a permutation, or independent draws with replacement.

    Parameters
    ----------
    data_source : Dataset
        The dataset to sample from.
    replacement : bool, optional
        Draw with replacement (default False).
    num_samples : int, optional
        How many indices one pass yields (default ``len(data_source)``); without
        replacement, more than the length chains several permutations.
    generator : Generator, optional
        Source of randomness; by default each pass seeds a fresh generator
        from ember's default generator.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.data import RandomSampler
    >>> sorted(RandomSampler(range(5), generator=ember.Generator().manual_seed(0)))
    [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not _is_positive_int(self.num_samples):
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        """Number of indices one pass yields."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else _fresh_generator()
        if self.replacement:
            for _ in range(self.num_samples // _REPLACEMENT_CHUNK):
                yield from ember.randint(high=n, size=(_REPLACEMENT_CHUNK,), dtype=ember.int64,
                                         generator=generator).tolist()
            yield from ember.randint(high=n, size=(self.num_samples % _REPLACEMENT_CHUNK,),
                                     dtype=ember.int64, generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from ember.randperm(n, generator=generator).tolist()
            yield from ember.randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in random order, without replacement.

    Parameters
    ----------
    indices : sequence
        The indices to permute.
    generator : Generator, optional
        Source of randomness.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.data import SubsetRandomSampler
    >>> sorted(SubsetRandomSampler([7, 3, 5], generator=ember.Generator().manual_seed(0)))
    [3, 5, 7]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in ember.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0 .. len(weights) - 1`` drawn with probabilities proportional to ``weights``.

    Parameters
    ----------
    weights : sequence of float
        Non-negative weights, one per index (need not sum to one).
    num_samples : int
        Number of indices to draw.
    replacement : bool, optional
        Draw with replacement (default True); without, an index appears at most once.
    generator : Generator, optional
        Source of randomness.

    Raises
    ------
    ValueError
        For a non-positive ``num_samples``, a non-bool ``replacement`` or weights that are not 1-d.
    RuntimeError
        When iterating, for negative weights, an all-zero weight vector, or
        more samples than non-zero weights without replacement.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.data import WeightedRandomSampler
    >>> list(WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=ember.Generator().manual_seed(0)))
    [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_positive_int(num_samples):
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = ember.as_tensor(weights, dtype=ember.float64)
        if weights_tensor.dim() != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        yield from _multinomial(self.weights.contiguous(), self.num_samples, self.replacement,
                                self.generator)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of another sampler into lists of ``batch_size``.

    Parameters
    ----------
    sampler : Sampler or iterable
        Source of indices.
    batch_size : int
        Size of each batch.
    drop_last : bool
        Drop the last batch when it is smaller than ``batch_size``.

    Examples
    --------
    >>> from ember.utils.data import BatchSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_positive_int(batch_size):
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError("drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
