"""Tensor creation: allocation cost, small and large."""
import numpy as np

import ember


class CreateSmall:
    def setup(self):
        self.array = np.ones(4, dtype=np.float32)

    def time_zeros(self):
        ember.zeros((4,))

    def time_empty(self):
        ember.empty((4,))

    def time_tensor_from_list(self):
        ember.tensor([1.0, 2.0, 3.0, 4.0])

    def time_from_numpy(self):
        ember.from_numpy(self.array)


class CreateLarge:
    """1e7 float32 elements: the caching allocator reuses freed blocks."""

    def time_zeros(self):
        ember.zeros(10_000_000)

    def time_empty(self):
        ember.empty(10_000_000)

    def time_arange(self):
        ember.arange(10_000_000, dtype=ember.float32)
