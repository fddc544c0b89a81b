"""Indexing and joining: advanced getitem/setitem, gather/scatter, masked fill, cat, stack."""
import numpy as np

import ember


class Indexing:
    params = [64, 1024]
    param_names = ["n"]

    def setup(self, n):
        rng = np.random.default_rng(0)
        self.x = ember.from_numpy(rng.standard_normal((n, n), dtype=np.float32))
        self.idx = ember.from_numpy(rng.integers(0, n, size=n))
        self.idx2d = ember.from_numpy(rng.integers(0, n, size=(n, n)))
        self.mask = self.x > 0

    def time_rows(self, n):
        self.x[self.idx]

    def time_columns(self, n):
        self.x[:, self.idx]

    def time_mask(self, n):
        self.x[self.mask]

    def time_set_rows(self, n):
        self.x[self.idx] = 0.0

    def time_gather(self, n):
        ember.gather(self.x, 1, self.idx2d)

    def time_scatter_add(self, n):
        self.x.scatter_add_(0, self.idx2d, self.x.clone())

    def time_masked_fill(self, n):
        self.x.masked_fill(self.mask, 0.0)

    def time_nonzero(self, n):
        ember.nonzero(self.mask)


class Join:
    params = [64, 1024]
    param_names = ["n"]

    def setup(self, n):
        self.parts = [ember.ones(n, n) for _ in range(4)]

    def time_cat(self, n):
        ember.cat(self.parts, 1)

    def time_stack(self, n):
        ember.stack(self.parts)
