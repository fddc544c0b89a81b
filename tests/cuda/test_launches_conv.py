"""Convolution, fold/unfold and pooling on cuda tensors, checked without a GPU: the
CuPy stand-in of test_launches_blasindex hands out unreadable 'device' pages and
records the kernel launches and cuBLAS calls instead of running them, so these tests
check which kernels and GEMMs run with what geometry, and that the errors are the
CPU's.  The numbers are checked by test_gpu_conv.py (on the emulated GPU without one)."""
import ctypes

import pytest

import ember
import ember.nn.functional as F
from ember._core import _conv as core_conv
from ember._core import _pool as core_pool
from ember.cuda import _backend, _conv, _kernels, _runtime

from test_launches_blasindex import F16, F32, batched_args, gemm_args, rec  # noqa: F401

N, T = 0, 1


@pytest.fixture
def gpu(rec, monkeypatch):
    """test_launches_blasindex's stand-in, also keeping each launch's grid and block
    (``full``); device memory reads back as zeros (no kernel ran to write it)."""
    rec.full = []

    def function(family, name):
        def launch(grid, block, args):
            rec.launches.append((family, name, args))
            rec.full.append((family, name, grid, block, args))
        return launch

    def memcpy_async(dst, src, n, kind, stream):
        rec.copies.append((kind, n))
        if kind == 2:
            ctypes.memset(dst, 0, n)

    monkeypatch.setattr(_kernels, "function", function)
    monkeypatch.setattr(_runtime._cupy.cuda.runtime, "memcpyAsync", memcpy_async)
    return rec


def cuda(*shape, dtype=ember.float32):
    return ember.empty(*shape, dtype=dtype, device="cuda")


def launches(recorder, family):
    return [(name, args) for f, name, args in recorder.launches if f == family]


def geom_of(args):
    """The geometry record a conv or pool launch passed, as a dict of lists / ints."""
    record = args[-1]
    return {name: (record[name][0].tolist()) for name in record.dtype.names}


# ------------------------------------------------------------------ convolution

def test_grouped_convolution_is_im2col_then_one_gemm_batched_over_groups(gpu):
    x, w, b = cuda(3, 4, 7, 6), cuda(6, 2, 3, 2), cuda(6)
    y = F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    assert y.shape == (3, 6, 4, 6) and y.device.type == "cuda"
    (name, args), = launches(gpu, "conv")
    assert name == "em_cu_im2col32" and args[0] == x.data_ptr()
    positions = 4 * 6
    assert geom_of(args) == {"channels": 4, "batch": 3, "in": [1, 7, 6], "out": [1, 4, 6],
                             "kernel": [1, 3, 2], "pad": [0, 1, 1], "stride": [1, 2, 1],
                             "dilation": [1, 1, 2], "col_row": 3 * positions,
                             "col_batch": positions}
    g = batched_args(gpu.gemms[-1])
    # per group: (Og x N*P) = (Og x CgK) @ (CgK x N*P), as C^T = B^T A^T
    assert (g["transa"], g["transb"], g["m"], g["n"], g["k"], g["batch"]) == \
        (N, N, 3 * positions, 3, 2 * 3 * 2, 2)
    assert (g["A"], g["strideA"], g["B"], g["strideB"]) == \
        (args[1], 12 * 3 * positions, w.data_ptr(), 3 * 12)
    assert g["beta"] == 1.0 and (g["Atype"], g["Ctype"], g["compute"]) == (F32, F32, 68)
    # the bias broadcast into the product first, the product permuted into y after
    copies = [n for n in gpu.names() if n.startswith("em_cu_cast")]
    assert len(copies) == 2


def test_one_sample_writes_its_product_into_the_output(gpu):
    x, w = cuda(1, 3, 5, 5), cuda(8, 3, 3, 3)
    y = F.conv2d(x, w, padding=1)
    g = gemm_args(gpu.gemms[-1])
    assert (g["m"], g["n"], g["k"], g["C"], g["ldc"], g["beta"]) == \
        (25, 8, 27, y.data_ptr(), 25, 0.0)
    assert not [n for n in gpu.names() if n.startswith("em_cu_cast")]


def test_1d_and_3d_problems_use_unit_leading_dims(gpu):
    F.conv1d(cuda(2, 3, 9), cuda(4, 3, 3), stride=2, padding=1, dilation=2)
    geom = geom_of(launches(gpu, "conv")[-1][1])
    assert (geom["in"], geom["out"], geom["kernel"], geom["pad"], geom["stride"],
            geom["dilation"]) == ([1, 1, 9], [1, 1, 4], [1, 1, 3], [0, 0, 1], [1, 1, 2],
                                  [1, 1, 2])
    F.conv3d(cuda(1, 2, 4, 5, 6), cuda(2, 2, 2, 2, 2))
    geom = geom_of(launches(gpu, "conv")[-1][1])
    assert (geom["in"], geom["out"]) == ([4, 5, 6], [3, 4, 5])


def test_half_transposed_convolution_gathers_float32_columns(gpu):
    x, w, b = cuda(2, 4, 5, 5, dtype=ember.float16), cuda(4, 3, 3, 3, dtype=ember.float16), \
        cuda(6, dtype=ember.float16)
    y = F.conv_transpose2d(x, w, b, stride=2, groups=2)
    assert y.shape == (2, 6, 11, 11) and y.dtype == ember.float16
    g = batched_args(gpu.gemms[-1])
    # cols_g (CgK x N*P) = w_g^T (CgK x Og) @ grad_g (Og x N*P), in float32
    assert (g["transa"], g["transb"], g["m"], g["n"], g["k"], g["batch"]) == \
        (N, T, 2 * 25, 3 * 9, 2, 2)
    assert (g["Atype"], g["Btype"], g["Ctype"], g["compute"]) == (F16, F16, F32, 68)
    (name, args), = launches(gpu, "conv")
    assert name == "em_cu_col2im_float16"
    assert (args[0], args[1], args[2]) == (g["C"], y.data_ptr(), b.data_ptr())
    assert geom_of(args)["channels"] == 6 and geom_of(args)["out"] == [1, 5, 5]


def test_weight_gradient_sums_the_chunks_in_float32(gpu, monkeypatch):
    monkeypatch.setattr(_conv, "COLUMN_BUDGET", 2 * 27 * 16)
    x, g = cuda(5, 3, 6, 6, dtype=ember.float16), cuda(5, 4, 4, 4, dtype=ember.float16)
    gw = core_conv.convolution_weight_grad(x, g, (3, 3), (1, 1), (0, 0), (1, 1), 1)
    assert gw.shape == (4, 3, 3, 3) and gw.dtype == ember.float16
    calls = [gemm_args(c) for c in gpu.gemms]
    assert [c["beta"] for c in calls] == [0.0, 1.0, 1.0]         # chunks of 2, 2, 1 samples
    assert [c["k"] for c in calls] == [32, 32, 16]
    assert all(c["Ctype"] == F32 and c["C"] == calls[0]["C"] for c in calls)
    assert [n for n, _ in launches(gpu, "conv")] == ["em_cu_im2col16"] * 3
    assert gpu.names()[-1] == "em_cu_cast_float32_float16_c"     # rounded once


def test_unfold_and_fold_lay_columns_out_per_sample(gpu):
    x = cuda(2, 3, 6, 5)
    cols = F.unfold(x, (2, 3), padding=1, stride=2)
    assert cols.shape == (2, 18, 12)
    name, args = launches(gpu, "conv")[-1]
    assert name == "em_cu_im2col32" and geom_of(args)["col_row"] == 12 \
        and geom_of(args)["col_batch"] == 18 * 12
    image = F.fold(cuda(2, 18, 12, dtype=ember.bfloat16), (6, 5), (2, 3), padding=1, stride=2)
    assert image.shape == (2, 3, 6, 5) and image.dtype == ember.bfloat16
    assert gpu.names()[-2:] == ["em_cu_cast_bfloat16_float32_c", "em_cu_col2im_bfloat16"]


def test_empty_convolutions_launch_nothing(gpu):
    y = F.conv2d(cuda(0, 3, 5, 5), cuda(4, 3, 3, 3))
    assert y.shape == (0, 4, 3, 3) and y.device.type == "cuda"
    assert not gpu.gemms and not launches(gpu, "conv")


def test_unknown_ops_are_refused_by_the_backend():
    backend = _backend.CudaBackend()
    with pytest.raises(NotImplementedError, match="nope: not implemented for device cuda"):
        backend.conv("nope")
    with pytest.raises(NotImplementedError, match="nope: not implemented for device cuda"):
        backend.pool("nope")


def same_error(fn, *args):
    """``fn`` raises the same exception, with the same message, for CPU and cuda tensors."""
    cpu_args = [a.cpu() if isinstance(a, ember.Tensor) else a for a in args]
    with pytest.raises(Exception) as on_cpu:
        fn(*cpu_args)
    with pytest.raises(Exception) as on_gpu:
        fn(*args)
    assert type(on_gpu.value) is type(on_cpu.value)
    assert str(on_gpu.value) == str(on_cpu.value)


def test_convolution_errors_are_the_cpus(gpu):
    x, w = cuda(2, 4, 5, 5), cuda(6, 2, 3, 3)
    same_error(core_conv.convolution, x, w, None, (1, 1), (0, 0), (1, 1), 3)
    same_error(core_conv.convolution, x, w, cuda(5), (1, 1), (0, 0), (1, 1), 2)
    same_error(core_conv.convolution, x, w, None, (0, 1), (0, 0), (1, 1), 2)
    same_error(core_conv.convolution, x, cuda(6, 2, 7, 7), None, (1, 1), (0, 0), (1, 1), 2)
    same_error(core_conv.convolution, x, w.to(ember.float64), None, (1, 1), (0, 0), (1, 1), 2)
    same_error(core_conv.convolution_transpose, x, cuda(4, 3, 3, 3), None, (9, 9), (1, 1),
               (0, 0), (1, 1), 1)
    same_error(core_conv.convolution_weight_grad, x, cuda(2, 6, 2, 2), (3, 3), (1, 1), (0, 0),
               (1, 1), 2)
    same_error(core_conv.im2col_batch, x, (7, 7), (1, 1), (0, 0), (1, 1))
    same_error(core_conv.col2im_batch, cuda(2, 10, 4), (5, 5), (3, 3), (1, 1), (0, 0), (1, 1))
    assert not gpu.gemms and not launches(gpu, "conv")


def test_tensors_on_two_devices_are_refused(gpu):
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        core_conv.convolution(cuda(1, 2, 4, 4), ember.zeros(3, 2, 3, 3), None, (1, 1), (0, 0),
                              (1, 1), 1)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        core_conv.convolution(ember.zeros(1, 2, 4, 4), cuda(3, 2, 3, 3), None, (1, 1), (0, 0),
                              (1, 1), 1)
    with pytest.raises(RuntimeError, match="expected indices on cuda:0, but got them on cpu"):
        core_pool.scatter_planes(cuda(1, 2, 2), ember.zeros(1, 2, 2, dtype=ember.int64),
                                 (1, 4, 4), 2, True)


# ------------------------------------------------------------------ pooling

def test_max_pool_launches_one_thread_per_output(gpu):
    x = cuda(2, 3, 9, 8, dtype=ember.bfloat16)
    values, indices = F.max_pool2d(x, 3, 2, 1, dilation=(1, 2), ceil_mode=True,
                                   return_indices=True)
    assert values.shape == (2, 3, 5, 4) and indices.dtype == ember.int64
    (_, name, grid, block, args), = gpu.full
    assert name == "em_cu_max_pool_bfloat16" and block == (_kernels.BLOCK,)
    assert grid == (_kernels.grid_for(values.numel()),)
    assert args[:3] == (x.data_ptr(), values.data_ptr(), indices.data_ptr())
    assert geom_of(args) == {"planes": 6, "in": [1, 9, 8], "out": [1, 5, 4],
                             "kernel": [1, 3, 3], "stride": [1, 2, 2], "pad": [0, 1, 1],
                             "dilation": [1, 1, 2], "count_include_pad": 1, "divisor": 0}


def test_avg_pool_and_its_backward_pass_the_divisor_rules(gpu):
    x = cuda(4, 7, dtype=ember.float64).requires_grad_()
    y = F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    y.backward(cuda(*y.shape, dtype=ember.float64))
    names = [n for n, _ in launches(gpu, "pool")]
    assert names == ["em_cu_avg_pool_float64", "em_cu_avg_pool_backward_float64"]
    forward, backward = (geom_of(a) for _, a in launches(gpu, "pool"))
    assert forward == backward
    assert (forward["planes"], forward["count_include_pad"], forward["divisor"]) == (4, 0, 0)
    F.avg_pool2d(cuda(1, 2, 4, 4), 2, divisor_override=3)
    assert geom_of(launches(gpu, "pool")[-1][1])["divisor"] == 3


def test_adaptive_pools_and_backward_launch_their_kernels(gpu):
    x = cuda(2, 3, 5, 4, 6, dtype=ember.float16).requires_grad_()
    y = F.adaptive_avg_pool3d(x, (2, 3, 4))
    y.backward(cuda(*y.shape, dtype=ember.float16))
    F.adaptive_max_pool3d(x.detach(), 2)
    assert [n for n, _ in launches(gpu, "pool")] == [
        "em_cu_adaptive_avg_pool_float16", "em_cu_adaptive_avg_pool_backward_float16",
        "em_cu_adaptive_max_pool_float16"]
    assert geom_of(launches(gpu, "pool")[1][1])["out"] == [2, 3, 4]


def test_max_pool_backward_gathers_one_thread_per_input_element(gpu):
    x = cuda(2, 3, 7, 6, dtype=ember.float16).requires_grad_()
    y = F.max_pool2d(x, 3, 2, 1, dilation=(2, 1))
    y.backward(cuda(*y.shape, dtype=ember.float16))
    (_, name, grid, block, args), = [c for c in gpu.full if c[0] == "pool"][1:]
    assert name == "em_cu_max_pool_backward_float16" and block == (_kernels.BLOCK,)
    assert grid == (_kernels.grid_for(x.numel()),)
    assert args[2] == x.grad.data_ptr() and int(args[4]) == 0
    assert geom_of(args[:4]) == {"planes": 6, "in": [1, 7, 6], "out": [1, 3, 3],
                                 "kernel": [1, 3, 3], "stride": [1, 2, 2], "pad": [0, 1, 1],
                                 "dilation": [1, 2, 1], "count_include_pad": 1, "divisor": 0}
    z = cuda(2, 5, dtype=ember.float64).requires_grad_()
    F.adaptive_max_pool1d(z, 3).backward(cuda(2, 3, dtype=ember.float64))
    (_, name, _, _, args), = [c for c in gpu.full if c[0] == "pool"][3:]
    assert name == "em_cu_max_pool_backward_float64" and int(args[4]) == 1
    assert geom_of(args[:4])["out"] == [1, 1, 3]


def test_max_unpool_scatters_each_plane_in_float32(gpu):
    values = cuda(2, 3, 3, 3, dtype=ember.float16)
    F.max_unpool2d(values, ember.empty(2, 3, 3, 3, dtype=ember.int64, device="cuda"), 2)
    (_, name, grid, block, args), = [c for c in gpu.full if c[0] == "pool"]
    assert name == "em_cu_pool_scatter_float32" and grid == (_kernels.grid_for(6),)
    assert [int(a) for a in args[3:7]] == [6, 9, 36, 0]


def test_pooling_errors_are_the_cpus(gpu):
    x = cuda(2, 3, 6, 6)
    same_error(F.max_pool2d, x, 0)
    same_error(F.max_pool2d, x, 3, 2, 2)
    same_error(lambda x: F.avg_pool2d(x, 2, divisor_override=0), x)
    same_error(F.adaptive_avg_pool2d, cuda(2, 0, 4), 2)
    same_error(F.avg_pool2d, cuda(2, 3, 6, 6, dtype=ember.int32), 2)   # int64 only, as torch
    same_error(core_pool.avg_pool_backward, cuda(2, 3, 2, 2), (2, 4, 6, 6), 2, (2, 2), (2, 2),
               (0, 0), True, None)
    same_error(core_pool.scatter_planes, cuda(2, 3, 2), cuda(2, 3, 3, dtype=ember.int64),
               (2, 3, 8), 1, True)
    assert not launches(gpu, "pool")
