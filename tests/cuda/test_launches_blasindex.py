"""The matmul family's cuBLAS calls and the index kernels' launches, checked without a
GPU: a CuPy stand-in hands out unreadable 'device' pages and records every cuBLAS call
and kernel launch instead of running it.  The numbers are checked on a GPU
(test_gpu_blasindex.py)."""
import ctypes
import types

import numpy as np
import pytest

import ember
from ember.cuda import _backend, _blas, _kernels, _runtime

from cuda_helpers import NoAccessPages

F16, BF16, F32, F64 = 2, 14, 0, 1        # cudaDataType_t
N, T = _blas.OP_N, _blas.OP_T


class FlagArray:
    """cupy.zeros(1, int32) stand-in: the error word, in host memory."""
    reads = 0             # each read waits for the GPU

    def __init__(self):
        self.value = np.zeros(1, np.int32)
        self.data = types.SimpleNamespace(ptr=self.value.ctypes.data)

    def __getitem__(self, i):
        FlagArray.reads += 1
        return self.value[i]

    def fill(self, v):
        self.value[:] = v


class Recorder:
    def __init__(self):
        self.launches = []
        self.copies = []
        self.gemms = []
        self.math_modes = []
        self.fail_with = 0          # error code the next index kernel 'sets'

    def function(self, family, name):
        def launch(grid, block, args):
            self.launches.append((family, name, args))
            if self.fail_with and family == "index":
                for flag in _backend._error_flags.values():
                    flag.fill(self.fail_with)
        return launch

    def names(self, family=None):
        return [n for f, n, _ in self.launches if family is None or f == family]

    def gemm(self, name, scalar_args):
        def call(*args):
            args = list(args)
            # read the host scalars now, as cuBLAS does
            dtype = np.float64 if args[-2] == _blas.COMPUTE_64F else np.float32
            for i in scalar_args:
                args[i] = np.frombuffer((ctypes.c_char * 8).from_address(args[i]),
                                        dtype=dtype, count=1)[0]
            self.gemms.append((name, args))
        return call


@pytest.fixture
def rec(monkeypatch):
    recorder = Recorder()

    def alloc(n):
        pages = NoAccessPages(n)
        return types.SimpleNamespace(ptr=pages.address, pages=pages)

    runtime = types.SimpleNamespace(
        getDevice=lambda: 0, getDeviceCount=lambda: 1,
        memcpyAsync=lambda dst, src, n, kind, stream: recorder.copies.append((kind, n)))
    stream = types.SimpleNamespace(ptr=0, synchronize=lambda: None)
    cublas = types.SimpleNamespace(
        gemmEx=recorder.gemm("gemmEx", (6, 13)),
        gemmStridedBatchedEx=recorder.gemm("gemmStridedBatchedEx", (6, 15)),
        getMathMode=lambda h: 3, setMathMode=lambda h, m: recorder.math_modes.append(m))

    class Device:
        def __init__(self, index):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(runtime=runtime, alloc=alloc, cublas=cublas, Device=Device,
                                   device=types.SimpleNamespace(get_cublas_handle=lambda: 77),
                                   get_current_stream=lambda: stream),
        get_default_memory_pool=lambda: types.SimpleNamespace(total_bytes=lambda: 0),
        zeros=lambda n, dtype: FlagArray(), int32=np.int32)
    monkeypatch.setattr(_runtime, "_cupy", fake)
    monkeypatch.setattr(_runtime, "_gpu_count", 1)
    monkeypatch.setattr(_kernels, "function", recorder.function)
    monkeypatch.setattr(_backend, "_error_flags", {})
    return recorder


def cuda(*shape, dtype=ember.float32):
    return ember.empty(*shape, dtype=dtype, device="cuda")


def gemm_args(call):
    """The arguments of a recorded gemmEx call by name."""
    name, a = call
    assert name == "gemmEx"
    keys = ["handle", "transa", "transb", "m", "n", "k", "alpha", "A", "Atype", "lda", "B",
            "Btype", "ldb", "beta", "C", "Ctype", "ldc", "compute", "algo"]
    return dict(zip(keys, a))


def batched_args(call):
    name, a = call
    assert name == "gemmStridedBatchedEx"
    keys = ["handle", "transa", "transb", "m", "n", "k", "alpha", "A", "Atype", "lda",
            "strideA", "B", "Btype", "ldb", "strideB", "beta", "C", "Ctype", "ldc", "strideC",
            "batch", "compute", "algo"]
    return dict(zip(keys, a))


# ---------------------------------------------------------------- cuBLAS

def test_contiguous_mm_is_one_gemm_of_the_transposed_problem(rec):
    a, b = cuda(4, 3), cuda(3, 5)
    c = a @ b
    assert c.shape == (4, 5) and c.device.type == "cuda" and c.dtype == ember.float32
    g = gemm_args(rec.gemms[-1])
    # row-major C = A B is column-major C^T = B^T A^T: B first, m and n swapped
    assert (g["transa"], g["transb"], g["m"], g["n"], g["k"]) == (N, N, 5, 4, 3)
    assert (g["A"], g["lda"], g["B"], g["ldb"], g["C"], g["ldc"]) == \
        (b.data_ptr(), 5, a.data_ptr(), 3, c.data_ptr(), 5)
    assert (g["Atype"], g["Btype"], g["Ctype"], g["compute"]) == (F32, F32, F32, 68)
    assert (g["alpha"], g["beta"], g["handle"], g["algo"]) == (1.0, 0.0, 77, -1)
    assert rec.launches == []                 # no copies, no kernels
    assert rec.math_modes == [0, 3]           # TF32 off for the call, CuPy's mode restored


def test_transposed_operands_are_read_in_place(rec):
    x, y = cuda(3, 4), cuda(5, 3)
    c = ember.mm(x.t(), y.t())                # (4, 3) @ (3, 5), both column-major
    g = gemm_args(rec.gemms[-1])
    assert (g["transa"], g["transb"], g["m"], g["n"], g["k"]) == (T, T, 5, 4, 3)
    assert (g["A"], g["lda"], g["B"], g["ldb"], g["ldc"]) == (y.data_ptr(), 3, x.data_ptr(), 4, 5)
    assert rec.launches == [] and c.shape == (4, 5)


def test_sliced_rows_keep_their_leading_dimension_and_gapped_columns_are_copied(rec):
    x = cuda(4, 8)
    b = cuda(3, 5)
    ember.mm(x[:, 2:5], b)
    g = gemm_args(rec.gemms[-1])
    assert g["B"] == x.data_ptr() + 2 * 4 and g["ldb"] == 8 and rec.launches == []
    ember.mm(x[:, ::3], b)                    # column stride 3: not BLAS-able
    assert rec.names() == ["em_cu_cast_float32_float32_s32"]
    g = gemm_args(rec.gemms[-1])
    assert g["ldb"] == 3 and g["transb"] == N


def test_output_column_major_computes_c_directly(rec):
    a, b = cuda(4, 3), cuda(3, 5)
    out = cuda(5, 4).t()
    ember.mm(a, b, out=out)
    g = gemm_args(rec.gemms[-1])
    assert (g["transa"], g["transb"], g["m"], g["n"]) == (T, T, 4, 5)
    assert (g["A"], g["lda"], g["B"], g["ldb"], g["C"], g["ldc"]) == \
        (a.data_ptr(), 3, b.data_ptr(), 5, out.data_ptr(), 4)


def test_bmm_is_one_strided_batched_gemm(rec):
    a, b = cuda(6, 4, 3), cuda(6, 3, 5)
    c = ember.bmm(a, b)
    g = batched_args(rec.gemms[-1])
    assert (g["m"], g["n"], g["k"], g["batch"]) == (5, 4, 3, 6)
    assert (g["strideA"], g["strideB"], g["strideC"]) == (15, 12, 20)
    assert g["C"] == c.data_ptr() and c.shape == (6, 4, 5)


def test_shared_right_operand_folds_the_batch_into_rows(rec):
    a, b = cuda(2, 6, 4, 3), cuda(3, 5)
    c = a @ b
    g = gemm_args(rec.gemms[-1])
    assert (g["m"], g["n"], g["k"]) == (5, 48, 3) and c.shape == (2, 6, 4, 5)


def test_broadcast_left_operand_has_batch_stride_zero(rec):
    a, b = cuda(4, 3), cuda(2, 3, 5)
    a @ b
    g = batched_args(rec.gemms[-1])
    assert (g["strideA"], g["strideB"], g["strideC"], g["batch"]) == (15, 0, 20, 2)
    assert g["B"] == a.data_ptr()


def test_batch_dims_without_one_stride_are_expanded(rec):
    a, b = cuda(2, 1, 4, 3), cuda(3, 3, 5)
    c = a @ b
    assert c.shape == (2, 3, 4, 5)
    assert rec.names() == ["em_cu_cast_float32_float32_s32"] * 2    # both expanded copies
    g = batched_args(rec.gemms[-1])
    assert (g["strideA"], g["strideB"], g["batch"]) == (15, 12, 6)


@pytest.mark.parametrize("dtype,code,compute,scalar", [
    (ember.float16, F16, 68, np.float32), (ember.bfloat16, BF16, 68, np.float32),
    (ember.float64, F64, 70, np.float64)])
def test_dtype_codes_and_compute_types(rec, dtype, code, compute, scalar):
    ember.addmm(cuda(4, 5, dtype=dtype), cuda(4, 3, dtype=dtype), cuda(3, 5, dtype=dtype),
                beta=0.5, alpha=2)
    g = gemm_args(rec.gemms[-1])
    assert (g["Atype"], g["Btype"], g["Ctype"], g["compute"]) == (code, code, code, compute)
    assert (g["alpha"], g["beta"]) == (2.0, 0.5)
    assert rec.copies[-1][0] == 3             # input copied into the result first


def test_vectors_map_to_one_row_or_column(rec):
    m, v = cuda(4, 3), cuda(3)
    r = ember.mv(m, v)
    g = gemm_args(rec.gemms[-1])
    assert (g["m"], g["n"], g["k"], g["ldc"]) == (1, 4, 3, 1) and r.shape == (4,)
    d = ember.dot(cuda(7), cuda(7))
    g = gemm_args(rec.gemms[-1])
    assert (g["m"], g["n"], g["k"]) == (1, 1, 7) and d.shape == ()


def test_addbmm_sums_in_float32_and_rounds_once(rec):
    t = cuda(4, 5, dtype=ember.float16)
    ember.addbmm(t, cuda(3, 4, 2, dtype=ember.float16), cuda(3, 2, 5, dtype=ember.float16),
                 beta=0)
    calls = [gemm_args(c) for c in rec.gemms]
    assert len(calls) == 3 and [c["beta"] for c in calls] == [0.0, 1.0, 1.0]
    assert {c["Ctype"] for c in calls} == {F32} and {c["Atype"] for c in calls} == {F16}
    assert calls[1]["A"] - calls[0]["A"] == 10 * 2          # the next batch2 matrix
    assert rec.names()[-1] == "em_cu_cast_float32_float16_c"


def test_output_aliasing_an_operand_gets_a_fresh_target(rec):
    a, b = cuda(3, 3), cuda(3, 3)
    ember.mm(a, b, out=a)
    g = gemm_args(rec.gemms[-1])
    assert g["C"] != a.data_ptr() and rec.copies[-1] == (3, 36)


def test_empty_inner_dimension_fills_or_scales(rec):
    c = ember.mm(cuda(2, 0), cuda(0, 3))
    assert rec.gemms == [] and rec.names() == ["em_cu_fill32_s32"] and c.shape == (2, 3)


def test_integer_products_raise_as_pytorch_on_cuda(rec):
    a = cuda(2, 2, dtype=ember.int32)
    with pytest.raises(RuntimeError, match="\"addmm_cuda\" not implemented for 'Int'"):
        a @ a
    with pytest.raises(RuntimeError, match="\"bmm_cuda\" not implemented for 'Long'"):
        ember.bmm(cuda(1, 2, 2, dtype=ember.int64), cuda(1, 2, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="same device"):
        ember.mm(cuda(2, 2), ember.ones(2, 2))
    assert rec.gemms == []


def test_linear_layers_run_on_cuda(rec):
    model = ember.nn.Linear(3, 4).to("cuda")
    y = model(cuda(2, 3))
    assert y.shape == (2, 4) and y.device.type == "cuda" and rec.gemms


# ---------------------------------------------------------------- index kernels

def index_launch(rec, k=-1):
    family, name, args = [x for x in rec.launches if x[0] == "index"][k]
    return name, args


def test_index_select_gathers_along_the_dim(rec):
    x = cuda(4, 6)
    idx = ember.empty(3, dtype=ember.int64, device="cuda")
    r = ember.index_select(x, 1, idx)
    assert r.shape == (4, 3) and r.device.type == "cuda"
    name, (out, src, index, layout, size, stride, wrap, err) = index_launch(rec)
    assert name == "em_cu_gather32_i64"
    assert (out, src, index) == (r.data_ptr(), x.data_ptr(), idx.data_ptr())
    assert (int(size), int(stride), int(wrap)) == (6, 4, 0) and err != 0
    assert layout["shape"][0, :2].tolist() == [4, 3]
    assert layout["strides"][0, 1, :2].tolist() == [24, 0]     # the input: 0 along dim 1
    assert layout["strides"][0, 2, :2].tolist() == [0, 8]      # the index: only along dim 1


def test_out_of_range_index_raises_the_cpus_error(rec):
    x = cuda(4, 6, dtype=ember.float16)
    idx = ember.empty(2, 3, dtype=ember.int32, device="cuda")
    rec.fail_with = 2                  # as a kernel that met a bad index
    with pytest.raises(RuntimeError, match=r"index \(its value is not known: checked on the "
                                           r"device\) is out of bounds for dimension 1"):
        ember.gather(x, 1, idx)
    assert index_launch(rec)[0] == "em_cu_gather16_i32"
    with pytest.raises(IndexError, match="index out of range in self"):
        ember.index_select(x, 0, idx[0])
    assert _backend._error_flags[0][0] == 0           # cleared for the next kernel


def test_scatter_checks_every_index_before_writing(rec):
    x = cuda(5, 3)
    idx = ember.empty(2, 3, dtype=ember.int64, device="cuda")
    reads = FlagArray.reads
    x.scatter_(0, idx, cuda(2, 3))
    assert rec.names("index") == ["em_cu_index_check_i64", "em_cu_scatter32_i64"]
    assert FlagArray.reads == reads + 1           # after the check only
    x.scatter_add_(0, idx, cuda(2, 3))
    assert rec.names("index")[-1] == "em_cu_scatter_add_float32_i64"
    x.scatter_(0, idx, 2.5)                          # the value becomes a 0-d device tensor
    name, args = index_launch(rec)
    assert name == "em_cu_scatter32_i64" and args[3]["strides"][0, 1, :2].tolist() == [0, 0]
    rec.fail_with = 2
    with pytest.raises(RuntimeError, match="out of bounds for dimension 0 with size 5"):
        x.scatter_(0, idx, cuda(2, 3))
    assert rec.names("index")[-1] == "em_cu_index_check_i64"      # nothing was scattered


def test_scatter_errors_before_any_launch(rec):
    x = cuda(5, 3)
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        x.scatter_(0, ember.empty(2, 3, dtype=ember.float32, device="cuda"), 1.0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter_(0, ember.empty(3, dtype=ember.int64, device="cuda"), 1.0)
    with pytest.raises(RuntimeError, match="same device"):
        x.scatter_(0, ember.zeros(2, 3, dtype=ember.int64), 1.0)
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        ember.index_select(x, 0, ember.empty(2, 2, dtype=ember.int64, device="cuda"))
    assert rec.names("index") == []
    # complex data moves through the 64-bit kernels; of its scatter reductions only the add
    # has kernels
    ember.index_select(cuda(3, dtype=ember.complex64), 0,
                       ember.zeros(2, dtype=ember.int64, device="cuda"))
    assert rec.names("index") == ["em_cu_gather64_i64"]
    with pytest.raises(NotImplementedError, match="complex"):
        cuda(3, dtype=ember.complex128).scatter_(
            0, ember.zeros(2, dtype=ember.int64, device="cuda"), 2.0, reduce="multiply")
    assert not any(n.startswith("em_cu_scatter") for n in rec.names("index"))


@pytest.mark.parametrize("dtype", [ember.bool, ember.uint8, ember.int16, ember.int64,
                                   ember.float16, ember.bfloat16, ember.float64])
def test_scatter_reductions_per_dtype(rec, dtype):
    x = cuda(4, dtype=dtype)
    idx = ember.empty(3, dtype=ember.int32, device="cuda")
    x.scatter_add_(0, idx, cuda(3, dtype=dtype))
    assert rec.names("index")[-1] == f"em_cu_scatter_add_{dtype.name}_i32"
    x.scatter_(0, idx, 1, reduce="multiply")
    assert rec.names("index")[-1] == f"em_cu_scatter_mul_{dtype.name}_i32"
    ember.scatter_reduce(x, 0, idx, cuda(3, dtype=dtype), "amax")
    assert f"em_cu_scatter_max_{dtype.name}_i32" in rec.names("index")


def test_masked_fill_passes_the_value_bits(rec):
    x = cuda(3, 4, dtype=ember.bfloat16)
    mask = ember.empty(4, dtype=ember.bool, device="cuda")
    x.masked_fill_(mask, 1.0)
    name, (out, m, layout, value) = index_launch(rec)
    assert name == "em_cu_masked_fill16" and int(value) == 0x3F80
    assert (out, m) == (x.data_ptr(), mask.data_ptr())
    assert layout["strides"][0, 1, :2].tolist() == [0, 1]        # the mask, broadcast


def test_advanced_getitem_with_one_index_tensor_gathers(rec):
    x = cuda(5, 2)
    idx = ember.empty(2, 3, dtype=ember.int64, device="cuda")
    r = x[idx]
    assert r.shape == (2, 3, 2)
    name, args = index_launch(rec)
    assert name == "em_cu_gather32_i64" and int(args[6]) == 1   # negative indices wrap
    assert (int(args[4]), int(args[5])) == (5, 8)
    r = x[[0, 2]]                      # a CPU list: moved to the device
    assert r.shape == (2, 2) and (1, 16) in rec.copies[-2:]


def test_several_index_tensors_combine_into_offsets(rec):
    x = cuda(5, 4, 3)
    i = ember.empty(2, dtype=ember.int64, device="cuda")
    j = ember.empty(2, dtype=ember.int32, device="cuda")
    r = x[i, j]
    assert r.shape == (2, 3)
    assert rec.names("index")[-3:] == ["em_cu_index_offset_i64", "em_cu_index_offset_i32",
                                       "em_cu_gather32_i64"]
    first = [a for f, n, a in rec.launches if f == "index"][-3]
    assert first[1] == 0 and int(first[5]) == 48      # no previous offsets; 48 bytes per row
    gather = index_launch(rec)[1]
    assert int(gather[4]) == 2**63 - 1 and int(gather[5]) == 1    # byte offsets, unlimited


def test_boolean_masks_are_compacted_on_the_device(rec, monkeypatch):
    """Tile counts, their prefix sum and the scatter of the rows all run on the device:
    the one copy back to the host is the count (8 bytes) that sizes the result."""
    def memcpy(dst, src, n, kind, stream):
        rec.copies.append((kind, n))
        if kind == 2:
            ctypes.c_int64.from_address(dst).value = 2      # the count the kernels found
    monkeypatch.setattr(_runtime._cupy.cuda.runtime, "memcpyAsync", memcpy)
    x = cuda(3, 4)
    r = x[ember.empty(3, dtype=ember.bool, device="cuda")]
    assert r.shape == (2, 4) and rec.names("index")[-1] == "em_cu_gather32_i64"
    assert rec.names("scan") == ["em_cu_mask_count", "em_cu_mask_offsets", "em_cu_mask_write"]
    assert [c for c in rec.copies if c[0] == 2] == [(2, 8)]
    count, offsets, write = [a for f, _, a in rec.launches if f == "scan"]
    assert int(count[1]) == 3 and offsets[0] == count[2] and int(offsets[1]) == 1
    geom = write[-1]
    assert (int(geom["ndim"][0]), int(geom["coords"][0])) == (1, 0)
    assert geom["shape"][0, :1].tolist() == [3] and geom["weights"][0, :1].tolist() == [16]
    rec.launches.clear()
    rec.copies.clear()
    rows = ember.nonzero(cuda(3, 5, 7, dtype=ember.int16))
    assert rows.shape == (2, 3) and [c for c in rec.copies if c[0] == 2] == [(2, 8)]
    geom = [a for f, _, a in rec.launches if f == "scan"][-1][-1]
    assert (int(geom["ndim"][0]), int(geom["coords"][0])) == (3, 1)
    assert geom["shape"][0, :3].tolist() == [3, 5, 7]


def test_index_put_accumulate_and_index_add_use_atomic_adds(rec):
    x = cuda(5, 2)
    idx = ember.empty(3, dtype=ember.int64, device="cuda")
    x.index_put_((idx,), cuda(3, 2), accumulate=True)
    assert rec.names("index")[-2:] == ["em_cu_index_check_i64", "em_cu_scatter_add_float32_i64"]
    x.index_add_(0, idx, cuda(3, 2))
    assert rec.names("index")[-1] == "em_cu_scatter_add_float32_i64"
    x[idx] = 1.0
    assert rec.names("index")[-1] == "em_cu_scatter32_i64"
    with pytest.raises(RuntimeError, match="dtypes match"):
        x.index_put_((idx,), cuda(3, 2, dtype=ember.float64))


def test_embedding_forward_and_backward(rec):
    weight = cuda(10, 4).requires_grad_()
    idx = ember.empty(2, 3, dtype=ember.int64, device="cuda")
    out = ember.nn.functional.embedding(idx, weight)
    assert out.shape == (2, 3, 4) and rec.names("index")[-1] == "em_cu_gather32_i64"
    from ember.ops.nn_fused import embedding_dense_backward
    gw = embedding_dense_backward(cuda(2, 3, 4), idx, 10, 1, False)
    assert gw.shape == (10, 4) and gw.device.type == "cuda"
    assert "em_cu_scatter_add_float32_i64" in rec.names("index")


def test_launch_arguments_match_the_kernel_signatures(rec):
    """Every index kernel launched above exists in the shipped index.cu and gets one
    argument per parameter (a mismatch would read garbage on the GPU)."""
    import re
    source = _kernels.kernel_file("index.cu").read_text()
    params = {name: len(args.split(","))
              for name, args in re.findall(r'__global__ void (em_cu_\w+)\(([^)]*)\)', source)}
    x = cuda(5, 3)
    idx = ember.empty(2, 3, dtype=ember.int32, device="cuda")
    x.scatter_add_(0, idx, cuda(2, 3))
    x.gather(1, idx)
    x[idx.long(), idx[:1]]
    x.masked_fill_(ember.empty(3, dtype=ember.bool, device="cuda"), 2.0)
    launched = [(n, a) for f, n, a in rec.launches if f == "index"]
    assert {n for n, _ in launched} >= {"em_cu_index_check_i32", "em_cu_scatter_add_float32_i32",
                                        "em_cu_gather32_i32", "em_cu_index_offset_i64",
                                        "em_cu_index_offset_i32", "em_cu_gather32_i64",
                                        "em_cu_masked_fill32"}
    for name, args in launched:
        assert params[name] == len(args), name
