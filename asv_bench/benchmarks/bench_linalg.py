"""Speed of the matmul family (BLAS for floating and complex dtypes, C for integers)."""
import numpy as np

import ember


def _random(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return ember.from_numpy(rng.integers(-5, 6, shape).astype(dtype))
    return ember.from_numpy(rng.standard_normal(shape).astype(dtype))


class MatmulSquare:
    """Large square products: the BLAS kernel's throughput."""

    params = ([64, 256, 1024], ["float32", "float64", "complex64"])
    param_names = ["n", "dtype"]

    def setup(self, n, dtype):
        self.a = _random((n, n), dtype, 0)
        self.b = _random((n, n), dtype, 1)
        self.out = ember.empty(n, n, dtype=getattr(ember, dtype))
        self.bt = self.b.t()

    def time_matmul(self, n, dtype):
        self.a @ self.b

    def time_matmul_out(self, n, dtype):
        ember.matmul(self.a, self.b, out=self.out)

    def time_matmul_transposed(self, n, dtype):
        self.a @ self.bt


class MatmulSmall:
    """Tiny products: the per-call overhead from Python to BLAS."""

    params = ([(4, 4), (16, 16), (16,)], ["float32"])
    param_names = ["shape", "dtype"]

    def setup(self, shape, dtype):
        self.a = _random(shape, dtype, 0)
        self.b = _random(shape[::-1], dtype, 1)

    def time_matmul(self, shape, dtype):
        self.a @ self.b


class MatmulBatched:
    """Batches: one GEMM per matrix, or one folded GEMM when the right operand is shared."""

    params = ([8, 64], ["float32"])
    param_names = ["size", "dtype"]

    def setup(self, size, dtype):
        self.a = _random((64, size, size), dtype, 0)
        self.b = _random((64, size, size), dtype, 1)
        self.shared = _random((size, size), dtype, 2)
        self.a_t = self.a.transpose(1, 2)

    def time_bmm(self, size, dtype):
        ember.bmm(self.a, self.b)

    def time_shared_right(self, size, dtype):
        self.a @ self.shared

    def time_shared_right_transposed_left(self, size, dtype):
        self.a_t @ self.shared


class MatmulOtherDtypes:
    """Integer (C kernel) and half-precision (float32 BLAS plus conversions) products."""

    params = ([128, 512], ["int32", "int64", "float16", "bfloat16"])
    param_names = ["n", "dtype"]

    def setup(self, n, dtype):
        if dtype in ("float16", "bfloat16"):
            self.a = _random((n, n), "float32", 0).to(getattr(ember, dtype))
            self.b = _random((n, n), "float32", 1).to(getattr(ember, dtype))
        else:
            self.a = _random((n, n), dtype, 0)
            self.b = _random((n, n), dtype, 1)

    def time_matmul(self, n, dtype):
        self.a @ self.b


class MatrixVector:
    """Level-2 and level-1 routines: mv, vector @ matrix and dot."""

    params = ([256, 2048], ["float32", "float64"])
    param_names = ["n", "dtype"]

    def setup(self, n, dtype):
        self.m = _random((n, n), dtype, 0)
        self.v = _random((n,), dtype, 1)
        self.long = _random((n * n,), dtype, 2)

    def time_mv(self, n, dtype):
        ember.mv(self.m, self.v)

    def time_vector_matrix(self, n, dtype):
        self.v @ self.m

    def time_dot(self, n, dtype):
        ember.dot(self.long, self.long)


class AddMM:
    """The fused forms: beta * input + alpha * product."""

    params = ([64, 512], ["float32"])
    param_names = ["n", "dtype"]

    def setup(self, n, dtype):
        self.bias = _random((n,), dtype, 0)
        self.a = _random((n, n), dtype, 1)
        self.b = _random((n, n), dtype, 2)
        self.batch_a = _random((8, n, n), dtype, 3)
        self.batch_b = _random((8, n, n), dtype, 4)

    def time_addmm(self, n, dtype):
        ember.addmm(self.bias, self.a, self.b, beta=0.5, alpha=2.0)

    def time_addbmm(self, n, dtype):
        ember.addbmm(self.a, self.batch_a, self.batch_b)


class MatmulThenElementwise:
    """A product followed by elementwise kernels, as in a linear layer: BLAS and ember's
    OpenMP kernels share one pool of threads instead of spinning against each other."""

    params = ([256, 512], ["float32"])
    param_names = ["n", "dtype"]

    def setup(self, n, dtype):
        self.x = _random((n, n), dtype, 0)
        self.w = _random((n, n), dtype, 1)
        self.bias = _random((n,), dtype, 2)

    def time_linear(self, n, dtype):
        ember.exp(self.x @ self.w + self.bias)
