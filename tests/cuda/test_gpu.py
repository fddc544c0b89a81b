"""Every CUDA kernel against the CPU result, across dtypes and layouts.  Marked gpu:
skipped, with the reason, where CuPy or a GPU is missing."""
import numpy as np
import pytest

import ember
from ember.ops import elementwise as ew

pytestmark = pytest.mark.gpu

REAL = {"b": [ember.bool], "u": [ember.uint8],
        "i": [ember.int8, ember.int16, ember.int32, ember.int64],
        "f": [ember.float16, ember.bfloat16, ember.float32, ember.float64]}
ALL_REAL = [d for k in "buif" for d in REAL[k]]
TOL = {ember.float16: 2e-3, ember.bfloat16: 1.6e-2, ember.float32: 2e-6, ember.float64: 1e-12}


def sample(shape, dtype, seed=0, low=0.5, high=2.0):
    """Values valid for every op's domain (no zero divisors, positive for logs)."""
    rng = np.random.default_rng(seed)
    if dtype == ember.bool:
        return ember.tensor(rng.random(shape) > 0.5)
    if dtype.is_floating_point:
        sign = np.where(rng.random(shape) > 0.3, 1.0, -1.0) if low < 0 else 1.0
        return ember.tensor(sign * rng.uniform(abs(low) if low > 0 else 0.5, high, shape)).to(dtype)
    return ember.tensor(rng.integers(1, 6, shape)).to(dtype)


def assert_same(cuda_result, cpu_result):
    if isinstance(cpu_result, tuple):
        for a, b in zip(cuda_result, cpu_result):
            assert_same(a, b)
        return
    assert cuda_result.device.type == "cuda"
    got = cuda_result.cpu()
    assert got.dtype == cpu_result.dtype and got.shape == cpu_result.shape
    tol = TOL.get(cpu_result.dtype, 0)
    np.testing.assert_allclose(got.to(ember.float64).numpy() if got.dtype.is_floating_point
                               else got.numpy(),
                               cpu_result.to(ember.float64).numpy() if tol else cpu_result.numpy(),
                               rtol=tol, atol=tol, equal_nan=True)


# table ops that are reached through another function
INDIRECT = {"gelu_tanh": lambda x: ember.nn.functional.gelu(x, approximate="tanh")}


def op_function(name):
    return (INDIRECT.get(name) or ew.functions.get(name) or ew.internal.get(name) or getattr(ember, name, None)
            or getattr(ew, name))


CASES = [(name, dt) for name, spec in ew.TABLE.items() for kind in spec["kinds"] if kind != "c"
         for dt in REAL[kind] if name != "where"]


@pytest.mark.parametrize("name,dtype", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_elementwise_op_matches_cpu(name, dtype):
    fn = op_function(name)
    arity = ew.TABLE[name]["arity"]
    args = [sample((5, 7), dtype, seed=k) for k in range(arity)]
    try:
        expected = fn(*args)
    except (RuntimeError, TypeError) as exc:
        with pytest.raises(type(exc)):
            fn(*[a.cuda() for a in args])
        return
    assert_same(fn(*[a.cuda() for a in args]), expected)


LAYOUTS = {
    "contiguous": lambda x, y: (x, y),
    "transposed": lambda x, y: (x.t(), y.t()),
    "broadcast_row": lambda x, y: (x, y[:1]),
    "broadcast_col": lambda x, y: (x[:, :1], y),
    "strided_slice": lambda x, y: (x[::2, 1::3], y[1::2, ::3]),
    "expanded": lambda x, y: (x[:1].expand(6, 9), y),
    "tensor_scalar": lambda x, y: (x, 3),
    "zero_dim": lambda x, y: (x, y[0, 0]),
    "cpu_zero_dim": lambda x, y: (x, "cpu0"),
    "unaligned": lambda x, y: (x.reshape(-1)[1:50], y.reshape(-1)[3:52]),
    "empty": lambda x, y: (x[:0], y[:0]),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", [ember.float32, ember.float16, ember.bfloat16, ember.int64,
                                   ember.int32, ember.uint8, ember.float64])
@pytest.mark.parametrize("op", ["add", "mul", "maximum", "lt"])
def test_binary_layouts_match_cpu(layout, dtype, op):
    fn = getattr(ember, op)
    x, y = sample((6, 9), dtype, 1), sample((6, 9), dtype, 2)
    a, b = LAYOUTS[layout](x, y)
    if isinstance(b, str):
        expected = fn(a, ember.tensor(2, dtype=dtype))
        got = fn(a.cuda(), ember.tensor(2, dtype=dtype))
    else:
        expected = fn(a, b)
        got = fn(a.cuda(), b.cuda() if isinstance(b, ember.Tensor) else b)
    assert_same(got, expected)


def test_large_contiguous_and_int64_index_paths():
    x = sample((3, 1 << 20), ember.float32)
    assert_same(ember.exp(x.cuda()), ember.exp(x))
    assert_same(x.cuda().t() * 2, x.t() * 2)


def test_where_and_ternary_ops():
    c = sample((4, 5), ember.bool)
    x, y = sample((4, 5), ember.float32, 1), sample((1, 5), ember.float32, 2)
    assert_same(ember.where(c.cuda(), x.cuda(), y.cuda()), ember.where(c, x, y))
    assert_same(ember.clamp(x.cuda(), 0.7, 1.5), ember.clamp(x, 0.7, 1.5))


def test_out_and_inplace():
    x, y = sample((4, 5), ember.float32, 1), sample((4, 5), ember.float32, 2)
    xc, yc = x.cuda(), y.cuda()
    out = ember.empty(4, 5, device="cuda")
    ember.add(xc, yc, out=out)
    assert_same(out, x + y)
    xc.mul_(yc)
    assert_same(xc, x * y)
    xc.t().add_(1)          # in place through a transposed view
    assert_same(xc, x * y + 1)
    wide = ember.empty(4, 5, dtype=ember.float64, device="cuda")
    ember.mul(x.cuda(), y.cuda(), out=wide)
    assert_same(wide, (x * y).double())


def test_integer_division_by_zero_raises_like_the_cpu():
    a = ember.tensor([4, 5], dtype=ember.int64)
    b = ember.tensor([2, 0], dtype=ember.int64)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a // b
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a.cuda() // b.cuda()
    assert_same(a.cuda() // 2, a // 2)      # the flag was cleared


@pytest.mark.parametrize("src", ALL_REAL)
@pytest.mark.parametrize("dst", ALL_REAL)
def test_casts_match_cpu(src, dst):
    x = sample((3, 4), src, low=-3.0, high=3.0)
    assert_same(x.cuda().to(dst), x.to(dst))
    assert_same(x.cuda().t().to(dst), x.t().to(dst))       # strided cast


@pytest.mark.parametrize("dtype", ALL_REAL)
def test_roundtrip_and_fill(dtype):
    x = sample((5, 3), dtype)
    assert ember.equal(x.cuda().cpu(), x)
    assert ember.equal(x.t().cuda().cpu(), x.t())
    y = x.cuda()
    y[1:4:2].fill_(1)
    expected = x.clone()
    expected[1:4:2].fill_(1)
    assert_same(y, expected)
    assert_same(ember.full((2, 3), 1, dtype=dtype, device="cuda"),
                ember.full((2, 3), 1, dtype=dtype))


def test_creation_functions_take_device():
    for make in (lambda d: ember.zeros(2, 3, device=d), lambda d: ember.ones(4, device=d),
                 lambda d: ember.full((2,), 7.5, device=d), lambda d: ember.arange(10, device=d),
                 lambda d: ember.empty(3, device=d).fill_(2), lambda d: ember.eye(3, device=d),
                 lambda d: ember.linspace(0, 1, 5, device=d)):
        assert_same(make("cuda"), make("cpu"))
    assert ember.zeros(2, device="cuda").device == ember.device("cuda", 0)


def test_random_matches_the_cpu_stream():
    ember.manual_seed(7)
    a = ember.rand(100)
    ember.manual_seed(7)
    b = ember.rand(100, device="cuda")
    assert_same(b, a)


def test_copies_between_devices_and_non_blocking():
    x = sample((4, 4), ember.float32)
    y = ember.empty(4, 4, device="cuda")
    y.copy_(x)
    assert_same(y, x)
    z = ember.empty(4, 4)
    z.copy_(y.t())
    assert ember.equal(z, x.t())
    assert_same(x.to("cuda", non_blocking=True), x)
    assert x.cuda().to("cuda") is not None and x.cuda().cuda().device.type == "cuda"


def test_mixing_devices_names_both():
    with pytest.raises(RuntimeError, match="cuda:0"):
        ember.ones(3).cuda() + ember.ones(3)


def test_cpu_scalar_tensors_join_cuda_ones_in_either_order():
    x = ember.arange(3.0).cuda()
    for got, expected in ((ember.tensor(2.0) * x, [0, 2, 4]), (x * ember.tensor(2.0), [0, 2, 4]),
                          (ember.tensor(1j) + x, [1j, 1 + 1j, 2 + 1j])):
        assert got.device.type == "cuda"
        np.testing.assert_array_equal(got.cpu().numpy(), expected)
    with pytest.raises(RuntimeError, match="cuda:0"):      # a cuda scalar does not move
        ember.tensor(2.0, device="cuda") + ember.ones(3)


def test_ops_without_kernel_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="not implemented for device cuda"):
        ember.ones(3, dtype=ember.complex64, device="cuda").scatter_(
            0, ember.zeros(2, dtype=ember.int64, device="cuda"), 2.0, reduce="multiply")


def test_memory_stats_streams_and_events():
    ember.cuda.synchronize()
    before = ember.cuda.memory_allocated()
    x = ember.empty(1 << 20, device="cuda")
    assert ember.cuda.memory_allocated() == before + 4 * (1 << 20)
    assert ember.cuda.max_memory_allocated() >= ember.cuda.memory_allocated()
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del x
    assert ember.cuda.memory_allocated() == before
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() == before
    s = ember.cuda.Stream()
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    with ember.cuda.stream(s):
        start.record()
        y = ember.ones(1000, device="cuda") * 3
        end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0
    s.synchronize()
    assert s.query()
    assert_same(y, ember.ones(1000) * 3)
    assert ember.cuda.device_count() >= 1 and ember.cuda.current_device() == 0
    assert isinstance(ember.cuda.get_device_name(), str)
    assert ember.cuda.get_device_properties(0).total_memory > 0
    with ember.cuda.device(0):
        ember.cuda.synchronize()


@pytest.mark.real_gpu
def test_zero_copy_interop_with_cupy_and_torch():
    import cupy as cp
    x = ember.arange(6.0).reshape(2, 3).cuda()
    c = cp.asarray(x)                                     # __cuda_array_interface__
    assert c.data.ptr == x.data_ptr() and c.get().tolist() == x.cpu().tolist()
    assert cp.from_dlpack(x).data.ptr == x.data_ptr()    # DLPack, kDLCUDA
    y = ember.from_dlpack(cp.arange(4, dtype=cp.float32))
    assert y.device == ember.device("cuda", 0) and y.cpu().tolist() == [0.0, 1.0, 2.0, 3.0]
    import torch
    if torch.cuda.is_available():
        t = torch.from_dlpack(x)
        assert t.is_cuda and t.data_ptr() == x.data_ptr()
        back = ember.from_dlpack(torch.ones(3, device="cuda"))
        assert back.device.type == "cuda" and back.cpu().tolist() == [1.0, 1.0, 1.0]
