"""No CPU kernel ever reads device memory.

A fake backend registered for 'cuda' hands out storages over host pages mapped
with no access rights (PROT_NONE): a CPU kernel touching one would crash the
process.  Every op family must instead raise (NotImplementedError from the core's
device gate, or the backend's own error), and views must work without touching
memory.  Runs on any machine: no GPU, no CuPy.
"""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._core import _ctc, _rnn
from ember._core._dtype import all_dtypes
from ember._core._tensor import device_storage, register_backend
from ember.cuda._backend import CudaBackend

from cuda_helpers import NoAccessPages

class ReachedBackend(Exception):
    """Raised by the fake backend's convolution and pooling entries: the op was handed to
    the backend (not to a CPU kernel)."""


class FakeBackend:
    """A device whose memory reads as zeros without ever being read: data movement
    'succeeds' without touching the unreadable pages, so that ops run on until they
    reach a CPU kernel, whose entry must refuse the device memory."""

    def new_storage(self, nbytes, dev):
        pages = NoAccessPages(nbytes)
        return device_storage(pages.address, nbytes, pages, ember.device("cuda", 0))

    def to_cpu(self, t):
        return ember.zeros(tuple(t.shape), dtype=t.dtype)

    def from_cpu(self, t, dev):
        return ember.empty(tuple(t.shape), dtype=t.dtype, device=dev)

    def to_device(self, t, dev):
        return t

    def copy_(self, dst, src):
        if dst.device.type == "cpu":
            dst.zero_()

    def fill_(self, dst, value):
        pass

    def check_device(self, dev):
        pass

    def dlpack_export_sync(self, t, stream):
        self.synced = stream

    def dlpack_consumer_stream(self, index):
        return 7

    def elementwise(self, op, operands, out, out_dtype, shape):
        if out is not None:
            return out
        return ember.empty(tuple(shape), dtype=all_dtypes[out_dtype], device="cuda")

    def gemm(self, a, a_vec, b, b_vec, c, input, bshape, alpha, beta, accumulate):
        return c

    def index_kernel(self, kernel, shape, strides, ptrs, size=0, stride=0, wrap=False,
                     value=0, check=True):
        return False            # no index out of range

    def random_fill(self, kind, buf, n, blocks, seed, offset, params):
        pass

    def optim_step(self, kind, hyper, params, grads, states, coefs):
        pass

    def reduce(self, op, x, mask, out, out_idx, *params):
        pass

    def lanes(self, op, out, x, dim, other=None):
        pass

    def conv(self, op, *args):
        raise ReachedBackend(op)

    def pool(self, op, *args):
        raise ReachedBackend(op)
    def nn_fused(self, kernel, *args):
        if kernel == "cross_entropy_forward":
            return fake(), fake(dtype=ember.float64)
        return None

    def sort_rows(self, src, descending, first):
        shape = tuple(src.shape[:-1]) + (first,)
        return fake(*shape, dtype=src.dtype), fake(*shape, dtype=ember.int64)

    def nonzero(self, t):
        return fake(0, t.dim(), dtype=ember.int64)

    def mask_offsets(self, mask, weights):
        return fake(0, dtype=ember.int64)


@pytest.fixture
def fake_cuda():
    fake_backend = FakeBackend()
    register_backend("cuda", fake_backend)
    try:
        yield fake_backend
    finally:
        register_backend("cuda", CudaBackend())


def fake(*shape, dtype=ember.float32):
    return ember.empty(*shape, dtype=dtype, device="cuda")


def test_fake_tensors_are_cuda_tensors(fake_cuda):
    x = fake(2, 3)
    assert x.is_cuda and not x.is_cpu and x.device == ember.device("cuda", 0)
    assert x.shape == (2, 3) and x.dtype == ember.float32


def test_views_work_without_touching_memory(fake_cuda):
    x = fake(4, 6)
    assert x.t().shape == (6, 4)
    assert x.reshape(2, 12).shape == (2, 12)
    assert x[1:3, ::2].shape == (2, 3)
    assert x.unsqueeze(0).expand(3, 4, 6).shape == (3, 4, 6)
    assert x.view(24).data_ptr() == x.data_ptr()
    assert x.permute(1, 0).stride() == (1, 6)


# data movement goes to the backend, which never touches the memory
MOVING = {
    "add": lambda x, y: x + y,
    "exp": lambda x, y: ember.exp(x),
    "clone": lambda x, y: x.clone(),
    "fill_": lambda x, y: x.fill_(1.0),
    "zeros": lambda x, y: ember.zeros(3, device="cuda"),
    "to_cpu": lambda x, y: x.cpu(),
    "item": lambda x, y: x[0, 0].item(),
    "tolist": lambda x, y: x.tolist(),
    "repr": lambda x, y: repr(x),
    "numpy_force": lambda x, y: x.numpy(force=True),
    "uniform_": lambda x, y: x.uniform_(),
    "randn": lambda x, y: ember.randn(3, device="cuda"),
    # linalg and fft compute on the host through the backend's copies
    "det": lambda x, y: ember.linalg.det(x[:, :4]),
    "fft": lambda x, y: ember.fft.fft(x),
    # matrix products and index ops run as the backend's own kernels
    "matmul": lambda x, y: x @ y.t(),
    "bmm": lambda x, y: ember.bmm(x.unsqueeze(0), y.t().unsqueeze(0)),
    "linear": lambda x, y: F.linear(x, y),
    "index_select": lambda x, y: x.index_select(0, ember.zeros(2, dtype=ember.int64,
                                                               device="cuda")),
    "gather": lambda x, y: x.gather(1, ember.zeros(4, 2, dtype=ember.int64, device="cuda")),
    "advanced_index": lambda x, y: x[ember.zeros(2, dtype=ember.int64, device="cuda")],
    "masked_fill": lambda x, y: x.masked_fill(ember.zeros(4, 6, dtype=ember.bool,
                                                          device="cuda"), 0.0),
    "embedding": lambda x, y: F.embedding(ember.zeros(3, dtype=ember.int64, device="cuda"), x),
    # reductions, scans and softmax run the backend's kernels
    "sum": lambda x, y: x.sum(),
    "sum_dim": lambda x, y: x.sum(1),
    "mean": lambda x, y: x.mean(0),
    "max": lambda x, y: x.max(1),
    "argmax": lambda x, y: x.argmax(),
    "prod": lambda x, y: x.prod(),
    "var": lambda x, y: x.var(1),
    "logsumexp": lambda x, y: ember.logsumexp(x, 1),
    "cumsum": lambda x, y: x.cumsum(1),
    "softmax": lambda x, y: ember.softmax(x, 1),
    "log_softmax": lambda x, y: F.log_softmax(x, 1),
    "cummax": lambda x, y: ember.cummax(x, 1),
    # fused norms, cross-entropy and ctc, sorting and mask compaction run the backend's
    # kernels
    "layer_norm": lambda x, y: F.layer_norm(x, (6,)),
    "cross_entropy": lambda x, y: F.cross_entropy(x, ember.zeros(4, dtype=ember.int64,
                                                                 device="cuda")),
    "sort": lambda x, y: ember.sort(x, 1),
    "topk": lambda x, y: ember.topk(x, 2),
    "nonzero": lambda x, y: ember.nonzero(x),
    "boolean_mask": lambda x, y: x[ember.zeros(4, dtype=ember.bool, device="cuda")],
    "ctc_loss": lambda x, y: _ctc.ctc_loss(x.reshape(4, 1, 6), [[1]], [4], [1], 0, False,
                                           True),
    # joining copies each input into its slice through the backend
    "cat": lambda x, y: ember.cat([x, y]),
    "stack": lambda x, y: ember.stack([x, y], 1),
}

# host-only kernels (their ops route device tensors elsewhere) must refuse device memory
KERNELS = {
    "rnn_forward": lambda x, y: _rnn.rnn_forward(0, x, y[:1], None, x[:, :6], None, None,
                                                 ember.tensor([1, 1, 1, 1]), False, False),
}

# convolution and pooling: checked by the core, then computed by the backend
CONV_POOL = {
    "conv2d": lambda x, y: F.conv2d(x.reshape(1, 1, 4, 6), y[:1, :4].reshape(1, 1, 2, 2)),
    "conv_transpose2d": lambda x, y: F.conv_transpose2d(x.reshape(1, 1, 4, 6),
                                                        y[:1, :4].reshape(1, 1, 2, 2)),
    "unfold": lambda x, y: F.unfold(x.reshape(1, 1, 4, 6), 2),
    "max_pool2d": lambda x, y: F.max_pool2d(x.reshape(1, 1, 4, 6), 2),
    "avg_pool2d": lambda x, y: F.avg_pool2d(x.reshape(1, 1, 4, 6), 2),
    "adaptive_avg_pool2d": lambda x, y: F.adaptive_avg_pool2d(x.reshape(1, 1, 4, 6), 2),
}


@pytest.mark.parametrize("name", sorted(MOVING))
def test_data_movement_goes_to_the_backend(fake_cuda, name):
    MOVING[name](fake(4, 6), fake(4, 6))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_cpu_kernels_refuse_device_memory(fake_cuda, name):
    with pytest.raises(NotImplementedError, match="not implemented for device cuda"):
        KERNELS[name](fake(4, 6), fake(4, 6))


@pytest.mark.parametrize("name", sorted(CONV_POOL))
def test_convolution_and_pooling_go_to_the_backend(fake_cuda, name):
    with pytest.raises(ReachedBackend):
        CONV_POOL[name](fake(4, 6), fake(4, 6))


def test_host_views_of_device_memory_are_refused(fake_cuda):
    x = fake(4, 6)
    with pytest.raises(BufferError, match="cuda:0"):
        memoryview(x)
    with pytest.raises(AttributeError, match="CPU"):
        x.__array_interface__


def test_optimizer_step_runs_through_the_backend(fake_cuda):
    p = fake(3)
    p.requires_grad_(True)
    p.grad = fake(3)
    for opt in (ember.optim.SGD([p], lr=0.1, momentum=0.9), ember.optim.Adam([p])):
        opt.step()


def test_mixing_devices_names_both(fake_cuda):
    with pytest.raises(RuntimeError, match="cpu.*cuda:0|cuda:0.*cpu"):
        ember.ones(4, 6) + fake(4, 6)


def test_cuda_array_interface_describes_device_memory(fake_cuda, monkeypatch):
    from ember.cuda import _runtime
    import types
    stream = types.SimpleNamespace(ptr=0)
    monkeypatch.setattr(_runtime, "_cupy", types.SimpleNamespace(
        cuda=types.SimpleNamespace(get_current_stream=lambda: stream)))
    monkeypatch.setattr(_runtime, "_gpu_count", 1)
    x = fake(4, 6)
    cai = x.__cuda_array_interface__
    assert cai == {"shape": (4, 6), "typestr": "<f4", "data": (x.data_ptr(), False),
                   "strides": None, "version": 3, "stream": 1}
    assert x.t().__cuda_array_interface__["strides"] == (4, 24)
    assert not hasattr(ember.ones(2), "__cuda_array_interface__")
    with pytest.raises(TypeError, match="bfloat16"):
        fake(2, dtype=ember.bfloat16).__cuda_array_interface__


def test_dlpack_round_trip_shares_device_memory(fake_cuda):
    x = fake(4, 6)[:, 1:4]
    assert x.__dlpack_device__() == (2, 0)
    y = ember.from_dlpack(x)
    assert fake_cuda.synced == 7            # our stream went to the producer, itself
    assert y.device == ember.device("cuda", 0) and y.shape == (4, 3)
    assert y.data_ptr() == x.data_ptr() and y.stride() == x.stride()
    capsule = x.__dlpack__(stream=None, dl_device=(2, 0))
    z = ember.from_dlpack(capsule)
    assert fake_cuda.synced is None and z.data_ptr() == x.data_ptr()
    with pytest.raises(BufferError, match="unsupported device"):
        x.__dlpack__(dl_device=(2, 1))
    with pytest.raises(RuntimeError, match="cuda:0, not cuda:1"):
        ember.from_dlpack(x, device="cuda:1")
    with pytest.raises(RuntimeError, match="move it there first"):
        ember.from_dlpack(np.ones(3), device="cuda")
    with pytest.raises((BufferError, RuntimeError)):
        np.from_dlpack(x)          # NumPy reads host memory only
