"""Single layers of the digits CNN (convolution, max pooling, forward and backward), a
spatial transformer's grid sampling, and inference of a small model eager, traced and
through ember.compile; one thread."""
import ember
from ember import nn
import ember.nn.functional as F


class _OneThread:
    def setup(self, *params):
        self._threads = ember.get_num_threads()
        ember.set_num_threads(1)
        ember.manual_seed(0)

    def teardown(self, *params):
        ember.set_num_threads(self._threads)


class Conv2d(_OneThread):
    """3x3 convolution, padding 1, 32 -> 64 channels on 8x8 images (im2col + GEMM)."""

    params = [1, 64]
    param_names = ["batch"]

    def setup(self, batch):
        super().setup(batch)
        self.x = ember.randn(batch, 32, 8, 8, requires_grad=True)
        self.w = ember.randn(64, 32, 3, 3, requires_grad=True)
        self.b = ember.randn(64, requires_grad=True)
        self.grad = ember.randn(batch, 64, 8, 8)

    def time_forward(self, batch):
        with ember.no_grad():
            F.conv2d(self.x, self.w, self.b, padding=1)

    def time_forward_backward(self, batch):
        F.conv2d(self.x, self.w, self.b, padding=1).backward(self.grad)


class MaxPool2d(_OneThread):
    """2x2 max pooling (values and indices) of 64 channels of 8x8 or 28x28 images."""

    params = [8, 28]
    param_names = ["size"]

    def setup(self, size):
        super().setup(size)
        self.x = ember.randn(64, 64, size, size)

    def time_forward(self, size):
        F.max_pool2d(self.x, 2, return_indices=True)


class GridSample(_OneThread):
    """A spatial transformer's warp: an affine grid sampled from 16 channels of 64x64
    images (batch 8), or 8 channels of 16x32x32 volumes (batch 2)."""

    # bicubic is 2-D only
    params = [["bilinear 2d", "nearest 2d", "bicubic 2d", "bilinear 3d", "nearest 3d"]]
    param_names = ["case"]

    def setup(self, case):
        super().setup(case)
        mode, spatial = case.split()
        self.mode = mode
        size = (8, 16, 64, 64) if spatial == "2d" else (2, 8, 16, 32, 32)
        theta = ember.eye(len(size) - 2, len(size) - 1).expand(size[0], -1, -1) * 0.9
        self.grid = F.affine_grid(theta + 0.05, size, align_corners=False).requires_grad_()
        self.x = ember.randn(*size, requires_grad=True)

    def time_forward(self, case):
        with ember.no_grad():
            F.grid_sample(self.x, self.grid, mode=self.mode, align_corners=False)

    def time_forward_backward(self, case):
        F.grid_sample(self.x, self.grid, mode=self.mode, align_corners=False).sum().backward()


class CompiledInference(_OneThread):
    """The MLP 784-256-256-10 at batch 1: eager, ember.jit.trace'd and ember.compile'd."""

    def setup(self):
        super().setup()
        self.model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                                   nn.ReLU(), nn.Linear(256, 10)).eval()
        self.x = ember.randn(1, 784)
        self.traced = ember.jit.trace(self.model, self.x)
        self.compiled = ember.compile(self.model)
        with ember.no_grad():
            self.compiled(self.x)

    def time_eager(self):
        with ember.no_grad():
            self.model(self.x)

    def time_traced(self):
        self.traced(self.x)

    def time_compiled(self):
        with ember.no_grad():
            self.compiled(self.x)
