"""Reductions, scans and softmax: call overhead on small tensors, bandwidth on large ones."""
import numpy as np

import ember

LARGE = 10_000_000


def _random(shape, dtype="float32"):
    data = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    return ember.from_numpy(data).to(getattr(ember, dtype))


class SmallReduce:
    """Reductions of a (64, 64) tensor, where the per-call overhead dominates."""

    def setup(self):
        self.x = _random((64, 64))

    def time_sum(self):
        self.x.sum()

    def time_sum_dim(self):
        self.x.sum(1)

    def time_mean(self):
        self.x.mean()

    def time_amax(self):
        self.x.amax()

    def time_max_dim(self):
        self.x.max(1)

    def time_argmax(self):
        self.x.argmax()

    def time_var(self):
        self.x.var()

    def time_softmax(self):
        self.x.softmax(-1)


class FlatSum:
    """Sum of 1e7 elements (one output: the reduction is split across threads)."""

    params = [["float32", "float64", "float16", "int32"], [1, 2]]
    param_names = ["dtype", "threads"]

    def setup(self, dtype, threads):
        self.x = _random(LARGE, dtype)
        self.threads = ember.get_num_threads()
        ember.set_num_threads(threads)

    def teardown(self, dtype, threads):
        ember.set_num_threads(self.threads)

    def time_sum(self, dtype, threads):
        self.x.sum()


class MatrixReduce:
    """Reductions of a (4096, 4096) float32 matrix along each axis, on 2 threads."""

    params = [[0, 1]]
    param_names = ["axis"]

    def setup(self, axis):
        self.x = _random((4096, 4096))
        self.threads = ember.get_num_threads()
        ember.set_num_threads(2)

    def teardown(self, axis):
        ember.set_num_threads(self.threads)

    def time_sum(self, axis):
        self.x.sum(axis)

    def time_mean(self, axis):
        self.x.mean(axis)

    def time_amax(self, axis):
        self.x.amax(axis)

    def time_argmax(self, axis):
        self.x.argmax(axis)

    def time_var(self, axis):
        self.x.var(axis)

    def time_norm(self, axis):
        self.x.norm(2, axis)

    def time_all(self, axis):
        self.x.all(axis)

    def time_cumsum(self, axis):
        self.x.cumsum(axis)

    def time_logsumexp(self, axis):
        ember.logsumexp(self.x, axis)


class ShortRowReduce:
    """Folds along rows of 64, 256 and 1000 float32 (2**20 elements), one thread: the
    per-row setup of short runs, and amax across rows (a select-combining fold)."""

    params = [[64, 256, 1000]]
    param_names = ["width"]

    def setup(self, width):
        self.x = _random((2**20 // width, width))
        self.threads = ember.get_num_threads()
        ember.set_num_threads(1)

    def teardown(self, width):
        ember.set_num_threads(self.threads)

    def time_sum_rows(self, width):
        self.x.sum(1)

    def time_amax_rows(self, width):
        self.x.amax(1)

    def time_amax_columns(self, width):
        self.x.amax(0)


class Softmax:
    """Fused softmax and log_softmax over the last and the first dim of (4096, 1024)."""

    params = [[-1, 0]]
    param_names = ["dim"]

    def setup(self, dim):
        self.x = _random((4096, 1024))

    def time_softmax(self, dim):
        self.x.softmax(dim)

    def time_log_softmax(self, dim):
        self.x.log_softmax(dim)


class SoftmaxRows:
    """softmax and log_softmax along rows of attention-like widths (64, 250, 1000): the
    per-row cost of the lane folds and of the rest past the last block of 64."""

    params = [[64, 250, 1000]]
    param_names = ["width"]

    def setup(self, width):
        self.x = _random(((1 << 20) // width, width))

    def time_softmax(self, width):
        self.x.softmax(-1)

    def time_log_softmax(self, width):
        self.x.log_softmax(-1)


class StridedReduce:
    """Sums over transposed, negative-step and expanded views of a (2048, 2048) matrix."""

    def setup(self):
        self.x = _random((2048, 2048))
        self.row = _random((1, 2048))

    def time_sum_transposed(self):
        self.x.T.sum(1)

    def time_sum_negative_step(self):
        self.x[::-1, ::-2].sum(0)

    def time_sum_expanded(self):
        self.row.expand(2048, 2048).sum(0)
