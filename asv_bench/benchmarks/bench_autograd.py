"""Autograd: recording a node, the engine on a long chain, and a large backward."""
import ember


class Recording:
    """A small op on tensors that require grad: the op plus one graph node."""

    def setup(self):
        self.a = ember.ones(4, requires_grad=True)
        self.b = ember.ones(4, requires_grad=True)
        self.h = self.a * 2

    def time_add_leaves(self):
        self.a + self.b

    def time_mul_scalar_non_leaf(self):
        self.h * 1.0001

    def time_add_under_no_grad(self):
        with ember.no_grad():
            self.a + self.b


class Chain:
    """``x = x * 1.0001 + 0.0001`` 100 times on shape (8,), forward and backward."""

    def setup(self):
        self.x0 = ember.ones(8, requires_grad=True)

    def time_chain_forward_backward(self):
        x = self.x0
        for _ in range(100):
            x = x * 1.0001 + 0.0001
        x.sum().backward()


class MatmulBackward:
    """(1024, 1024) float32 matmul: forward alone and forward + backward (two GEMMs)."""

    def setup(self):
        self._threads = ember.get_num_threads()
        ember.set_num_threads(1)
        self.a = ember.randn(1024, 1024, requires_grad=True)
        self.b = ember.randn(1024, 1024, requires_grad=True)
        self.g = ember.ones(1024, 1024)

    def teardown(self):
        ember.set_num_threads(self._threads)

    def time_forward(self):
        self.a @ self.b

    def time_forward_backward(self):
        (self.a @ self.b).backward(self.g)
        self.a.grad = self.b.grad = None
