"""Sorting and searching: radix sort, top-k, unique and binary search."""
import numpy as np

import ember


def _random(shape, seed=0):
    return ember.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


class SortLong:
    """One long float32 row: the radix sort and the top-k scan."""

    def setup(self):
        self.x = _random((1_000_000,))

    def time_sort(self):
        ember.sort(self.x)

    def time_argsort_descending(self):
        ember.argsort(self.x, descending=True)

    def time_topk_10(self):
        ember.topk(self.x, 10)

    def time_topk_1000(self):
        ember.topk(self.x, 1000)


class SortRows:
    """Many short rows (256 of 4096), sorted in parallel."""

    def setup(self):
        self.x = _random((256, 4096))

    def time_sort(self):
        ember.sort(self.x, -1)

    def time_topk_10(self):
        ember.topk(self.x, 10)


class Search:
    """unique, searchsorted and histograms of 1e6 values."""

    def setup(self):
        rng = np.random.default_rng(0)
        self.ints = ember.from_numpy(rng.integers(0, 1000, 1_000_000))
        self.edges = ember.from_numpy(np.sort(rng.standard_normal(1000)).astype(np.float32))
        self.values = _random((1_000_000,), 1)

    def time_unique(self):
        ember.unique(self.ints, return_counts=True)

    def time_searchsorted(self):
        ember.searchsorted(self.edges, self.values)

    def time_bincount(self):
        ember.bincount(self.ints)

    def time_histc(self):
        ember.histc(self.values, 100, -3, 3)
