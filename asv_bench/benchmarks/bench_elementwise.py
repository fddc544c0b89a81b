"""Elementwise ops: small tensors (call overhead) and 1e7 elements (bandwidth)."""
import ember

LARGE = 10_000_000


class SmallBinary:
    """``a + b`` and ``a * b`` where the call overhead dominates."""

    params = [[(4,), (64, 64)]]
    param_names = ["shape"]

    def setup(self, shape):
        self.a = ember.ones(shape)
        self.b = ember.full(shape, 2.0)

    def time_add(self, shape):
        self.a + self.b

    def time_mul(self, shape):
        self.a * self.b

    def time_add_function(self, shape):
        ember.add(self.a, self.b)


class SmallBroadcast:
    """``(64, 64) + (64,)``: the strided path with a zero stride."""

    def setup(self):
        self.a = ember.ones(64, 64)
        self.row = ember.ones(64)

    def time_add_row(self):
        self.a + self.row


class LargeElementwise:
    """1e7 float32 elements into a new output and with ``out=``, on 1 and 2 threads."""

    params = [[1, 2]]
    param_names = ["threads"]

    def setup(self, threads):
        self._threads = ember.get_num_threads()
        ember.set_num_threads(threads)
        self.a = ember.ones(LARGE)
        self.b = ember.full((LARGE,), 2.0)
        self.out = ember.empty(LARGE)

    def teardown(self, threads):
        ember.set_num_threads(self._threads)

    def time_add(self, threads):
        self.a + self.b

    def time_add_out(self, threads):
        ember.add(self.a, self.b, out=self.out)

    def time_mul(self, threads):
        self.a * self.b

    def time_mul_out(self, threads):
        ember.mul(self.a, self.b, out=self.out)

    def time_exp(self, threads):
        ember.exp(self.a)

    def time_exp_out(self, threads):
        ember.exp(self.a, out=self.out)


class LargeTransposed:
    """``x.T + y`` and ``x.T.contiguous()`` on 2500 x 4000 float32: a transposed input."""

    params = [[1, 2]]
    param_names = ["threads"]

    def setup(self, threads):
        self._threads = ember.get_num_threads()
        ember.set_num_threads(threads)
        self.x = ember.ones(4000, 2500)
        self.y = ember.ones(2500, 4000)

    def teardown(self, threads):
        ember.set_num_threads(self._threads)

    def time_add_transposed(self, threads):
        self.x.T + self.y

    def time_contiguous_of_transposed(self, threads):
        self.x.T.contiguous()


class TransposedSquare:
    """``x.T + y`` and ``x.T.contiguous()`` on n x n float32, one thread: sizes in the
    cache and rows of a power-of-two stride, where tile rows compete for cache sets."""

    params = [[256, 1000, 1024, 2048]]
    param_names = ["n"]

    def setup(self, n):
        self._threads = ember.get_num_threads()
        ember.set_num_threads(1)
        self.x = ember.ones(n, n)
        self.y = ember.ones(n, n)

    def teardown(self, n):
        ember.set_num_threads(self._threads)

    def time_add_transposed(self, n):
        self.x.T + self.y

    def time_add_contiguous(self, n):
        self.x + self.y

    def time_contiguous_of_transposed(self, n):
        self.x.T.contiguous()

    def time_clone(self, n):
        self.x.clone()
