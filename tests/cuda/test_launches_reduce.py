"""The dispatch of reductions, scans and softmax to the CUDA kernels, checked without a
GPU (the CuPy stand-in of cuda_helpers records launches): which kernel runs with what
layouts and grid, the outputs' dtypes and shapes, and the errors.  The layouts are
also walked in Python the way the kernels walk them, over CPU tensors, so that each
output is shown to fold exactly its elements."""
import numpy as np
import pytest

import ember
from ember._core._reduce import log_softmax_backward_data, softmax_backward_data
from ember.cuda import _reduce

from cuda_helpers import rec  # noqa: F401  (the fixture)


def cuda(*shape, dtype=ember.float32):
    return ember.empty(*shape, dtype=dtype, device="cuda")


def launch(rec, name):
    """The last launch of kernel ``name``: (grid, block, args)."""
    for _, n, grid, block, args in reversed(rec.launches):
        if n == name:
            return grid, block, args
    raise AssertionError(f"{name} was not launched; launches: {rec.names()}")


def layout_of(rec_):
    nd = int(rec_["ndim"][0])
    return (rec_["shape"][0, :nd].tolist(), [rec_["strides"][0, k, :nd].tolist() for k in range(3)],
            int(rec_["numel"][0]))


# ---------------------------------------------------------------- reductions

def test_full_reduction_is_one_block_over_the_contiguous_elements(rec):
    x = cuda(4, 6)
    s = x.sum()
    assert rec.names() == ["em_cu_red_sum_float32_inner"]
    grid, block, args = launch(rec, "em_cu_red_sum_float32_inner")
    assert grid == (1, 1) and block == (32,)                      # one warp for 24 elements
    assert args[:3] == (s.data_ptr(), 0, x.data_ptr())
    assert layout_of(args[3]) == ([], [[], [], []], 1)            # one output
    assert layout_of(args[4])[0] == [24] and layout_of(args[4])[1][0] == [4]
    assert args[5]["scale"][0] == 1.0 and args[6] == 0 and int(args[7]) == 24
    assert s.device.type == "cuda" and s.dtype == ember.float32 and s.shape == ()


def test_inner_dim_reduction_is_one_block_per_output(rec):
    x = cuda(4, 600)
    m = x.mean(1)
    grid, block, args = launch(rec, "em_cu_red_sum_float32_inner")
    assert grid == (4, 1) and block == (256,)
    assert layout_of(args[3])[:2] == ([4], [[2400], [0], [0]])
    assert layout_of(args[4])[:2] == ([600], [[4], [0], [0]])
    assert args[5]["scale"][0] == pytest.approx(1 / 600)
    assert m.shape == (4,)
    cuda(4, 6).sum(1)              # short rows: one thread per output instead
    assert rec.names()[-1] == "em_cu_red_sum_float32_outer"


def test_outer_dim_reduction_puts_threads_across_outputs(rec):
    x = cuda(100, 6)
    s = x.sum(0, keepdim=True)
    grid, block, args = launch(rec, "em_cu_red_sum_float32_outer")
    assert block == (32, 8) and grid == (1, 1)
    assert layout_of(args[3])[:2] == ([6], [[4], [0], [0]])
    assert layout_of(args[4])[:2] == ([100], [[24], [0], [0]])
    assert s.shape == (1, 6)


def test_multi_dim_and_transposed_reductions_walk_memory_order(rec):
    x = cuda(2, 3, 40)
    x.sum((0, 2))
    _, _, args = launch(rec, "em_cu_red_sum_float32_inner")
    assert layout_of(args[3])[:2] == ([3], [[160], [0], [0]])
    assert layout_of(args[4])[:2] == ([2, 40], [[480, 4], [0, 0], [0, 0]])
    cuda(4, 6).t().sum()                          # all dims: coalesced back into one run
    _, _, args = launch(rec, "em_cu_red_sum_float32_inner")
    assert layout_of(args[4])[:2] == ([24], [[4], [0], [0]])


def test_large_reductions_split_into_two_deterministic_passes(rec):
    x = cuda(1 << 20)
    s = x.sum()
    assert rec.names() == ["em_cu_red_sum_float32_inner", "em_cu_red_sum_float32_finish"]
    grid, _, args = launch(rec, "em_cu_red_sum_float32_inner")
    splits = grid[1]
    assert grid[0] == 1 and splits == 256 and int(args[7]) == (1 << 20) // 256
    partial = args[6]
    assert partial != 0
    grid, block, args = launch(rec, "em_cu_red_sum_float32_finish")
    assert args[:3] == (s.data_ptr(), 0, partial)
    assert int(args[3]) == 1 and int(args[4]) == splits
    # few long columns: the outer kernel splits its rows too
    cuda(1 << 16, 4).amax(0)
    grid, block, _ = launch(rec, "em_cu_red_max_float32_outer")
    assert grid[1] > 1 and rec.names()[-1] == "em_cu_red_max_float32_finish"


def test_result_dtypes_follow_the_cpu(rec):
    assert cuda(3, dtype=ember.int32).sum().dtype == ember.int64
    assert rec.names()[-1] == "em_cu_red_sum_int32_inner"
    assert cuda(3, dtype=ember.bool).prod().dtype == ember.int64
    s = cuda(3).sum(dtype=ember.float64)
    assert rec.names()[-2:] == ["em_cu_cast_float32_float64_c", "em_cu_red_sum_float64_inner"]
    assert s.dtype == ember.float64
    assert cuda(3, dtype=ember.uint8).all().dtype == ember.uint8
    assert cuda(3, dtype=ember.float16).any().dtype == ember.bool
    assert rec.names()[-1] == "em_cu_red_any_float16_inner"
    assert cuda(3, dtype=ember.float16).norm().dtype == ember.float16
    with pytest.raises(RuntimeError, match="could not infer output dtype"):
        cuda(3, dtype=ember.int64).mean()
    with pytest.raises(RuntimeError, match="floating point"):
        cuda(3, dtype=ember.int64).var()


def test_empty_inputs(rec):
    s = cuda(0, 3).sum()
    _, _, args = launch(rec, "em_cu_red_sum_float32_inner")
    assert s.shape == () and layout_of(args[4])[2] == 0    # no elements: writes the identity
    before = len(rec.launches)
    assert cuda(0, 3).sum(1).shape == (0,) and len(rec.launches) == before   # no outputs
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        cuda(0, 3).amax()
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        cuda(0, 3).max(0)
    assert cuda(0, 3).cumsum(0).shape == (0, 3) and len(rec.launches) == before


def test_zero_dim_inputs(rec):
    x = cuda(())
    assert x.sum().shape == () and x.amax(0).shape == ()
    _, _, args = launch(rec, "em_cu_red_max_float32_inner")
    assert layout_of(args[3])[2] == 1 and layout_of(args[4])[2] == 1
    assert x.cumsum(0).shape == ()
    assert rec.names()[-1] == "em_cu_cumsum_float32_serial"


def test_max_min_with_indices_and_argmax(rec):
    x = cuda(4, 60)
    values, indices = x.max(1, keepdim=True)
    _, _, args = launch(rec, "em_cu_red_argmax_float32_inner")
    assert args[:3] == (values.data_ptr(), indices.data_ptr(), x.data_ptr())
    assert values.shape == indices.shape == (4, 1) and indices.dtype == ember.int64
    i = x.t().argmin()                  # flattened: made contiguous first
    assert rec.names()[-2:] == ["em_cu_cast_float32_float32_s32", "em_cu_red_argmin_float32_inner"]
    _, _, args = launch(rec, "em_cu_red_argmin_float32_inner")
    assert args[0] == 0 and args[1] == i.data_ptr() and i.shape == ()
    with pytest.raises(RuntimeError, match="bool"):
        cuda(3, dtype=ember.bool).argmax()


def test_var_std_and_norm_parameters(rec):
    x = cuda(40, 60)
    x.var(1, correction=0)
    _, _, args = launch(rec, "em_cu_red_var_float32_inner")
    assert args[5]["correction"][0] == 0 and args[5]["take_sqrt"][0] == 0
    x.std(0)
    _, _, args = launch(rec, "em_cu_red_var_float32_outer")
    assert args[5]["correction"][0] == 1 and args[5]["take_sqrt"][0] == 1
    for p, op in ((2, "sq_sum"), ("fro", "sq_sum"), (1, "abs_sum"), (float("inf"), "max_abs"),
                  (float("-inf"), "min_abs"), (0, "nonzero"), (3, "pow_sum")):
        x.norm(p)
        assert rec.names()[-1] == f"em_cu_red_{op}_float32_inner", p
    assert rec.launches[-1][4][5]["p"][0] == 3
    assert rec.launches[-1][4][5]["inv_p"][0] == pytest.approx(1 / 3)


def test_logsumexp_shifts_by_the_max_then_sums(rec):
    out = ember.logsumexp(cuda(4, 60), 1)
    names = rec.names()
    assert names[0] == "em_cu_red_max_float32_inner" and "em_cu_red_sum_float32_inner" in names
    assert out.shape == (4,) and out.device.type == "cuda"


def test_complex_inputs(rec):
    z = cuda(4, 3, dtype=ember.complex64)
    s = z.sum(1)                 # real and imaginary parts: a float32 reduction
    _, _, args = launch(rec, "em_cu_red_sum_float32_outer")
    assert s.dtype == ember.complex64 and layout_of(args[3])[0] == [4, 2]
    z.prod()                     # a complex kernel, accumulating in complex64
    launch(rec, "em_cu_red_prod_complex64_inner")
    assert z.all(1).dtype == ember.bool
    launch(rec, "em_cu_red_all_complex64_outer")
    z.cumprod(0)
    launch(rec, "em_cu_cumprod_complex64_serial")


# ---------------------------------------------------------------- scans and softmax

def test_scans_take_a_block_per_long_inner_lane(rec):
    x = cuda(4, 300)
    c = x.cumsum(1)
    grid, block, args = launch(rec, "em_cu_cumsum_float32_block")
    assert grid == (4,) and block == (256,)
    assert args[:3] == (c.data_ptr(), x.data_ptr(), 0)
    assert layout_of(args[3])[:2] == ([4], [[1200], [1200], [0]])
    assert [int(a) for a in args[4:]] == [300, 4, 4, 0]
    cuda(4, 300).cumprod(0)                                  # along an outer dim: serial
    grid, block, args = launch(rec, "em_cu_cumprod_float32_serial")
    assert [int(a) for a in args[4:]] == [4, 1200, 1200, 0]
    c = cuda(5, dtype=ember.int32).cumsum(0)
    assert c.dtype == ember.int64 and rec.names()[-1] == "em_cu_cumsum_int32_serial"


def test_softmax_and_its_backward(rec):
    x = cuda(8, 1000)
    y = ember.softmax(x, -1)
    grid, block, args = launch(rec, "em_cu_softmax_float32_block")
    assert grid == (8,) and block == (256,) and args[:2] == (y.data_ptr(), x.data_ptr())
    ember.log_softmax(cuda(8, 3, 50), 1)
    grid, block, args = launch(rec, "em_cu_log_softmax_float32_serial")
    assert layout_of(args[3])[:2] == ([8, 50], [[600, 4], [600, 4], [0, 0]])
    assert [int(a) for a in args[4:]] == [3, 200, 200, 0]
    g = cuda(8, 1000)
    gi = softmax_backward_data(g, y, 1)
    grid, block, args = launch(rec, "em_cu_softmax_backward_float32_block")
    assert args[:3] == (gi.data_ptr(), g.data_ptr(), y.data_ptr())
    log_softmax_backward_data(g, y, 0)
    assert rec.names()[-1] == "em_cu_log_softmax_backward_float32_serial"
    with pytest.raises(NotImplementedError, match="softmax_lastdim_kernel_impl"):
        ember.softmax(cuda(3, dtype=ember.int64), 0)


# ---------------------------------------------------------------- the layouts, walked

def offset(rec_, i, k):
    """em_layout_offset of kernels/ember_cuda.cuh."""
    shape, strides, _ = layout_of(rec_)
    off = 0
    for d in range(len(shape) - 1, -1, -1):
        off += (i % shape[d]) * strides[k][d]
        i //= shape[d]
    return off


def views():
    base = ember.arange(2 * 3 * 4 * 5, dtype=ember.float64)
    a = base.reshape(2, 3, 4, 5)
    return base, {
        "contiguous": a,
        "transposed": a.transpose(1, 3),
        "sliced": a[:, 1:, ::2, 1:4],
        "permuted": a.permute(3, 0, 2, 1),
        "expanded": base[:5].reshape(5, 1).expand(5, 6),
    }


@pytest.mark.parametrize("name", ["contiguous", "transposed", "sliced", "permuted", "expanded"])
def test_reduction_layouts_fold_each_outputs_elements(name):
    base, all_views = views()
    x = all_views[name]
    flat = base.numpy()
    origin = x.data_ptr() - base.data_ptr()
    dims_cases = [None, (0,), (x.dim() - 1,), (0, x.dim() - 1), tuple(range(1, x.dim()))]
    for dims in dims_cases:
        mask = sum(1 << d for d in (dims if dims is not None else range(x.dim())))
        path, kept, red, n_out, count, splits, chunk = _reduce.plan_reduce(x, mask)
        got = np.array([sum(flat[(origin + offset(kept, o, 0) + offset(red, r, 0)) // 8]
                            for r in range(count)) for o in range(n_out)])
        want = x.sum(dims if dims is not None else ()).numpy().reshape(-1)
        np.testing.assert_array_equal(got, want, err_msg=f"{name} {dims} ({path})")
        assert splits * chunk >= count


@pytest.mark.parametrize("name", ["contiguous", "transposed", "sliced", "permuted"])
def test_lane_layouts_walk_each_lane_in_order(name, rec):
    base, all_views = views()
    x = all_views[name]
    flat = base.numpy()
    origin = x.data_ptr() - base.data_ptr()
    for dim in range(x.dim()):
        # a dense output in reversed dim order, so that its strides matter too
        out = ember.empty(tuple(reversed(x.shape)), dtype=x.dtype).permute(
            *reversed(range(x.dim())))
        _reduce.lanes("cumsum", out, x, dim)
        args = rec.launches[-1][4]
        lanes, length, s_out, s_in = args[3], int(args[4]), int(args[5]), int(args[6])
        got = np.full(out.numel(), np.nan)
        for k in range(int(lanes["numel"][0])):
            acc = 0.0
            for j in range(length):
                acc += flat[(origin + offset(lanes, k, 1) + j * s_in) // 8]
                got[(offset(lanes, k, 0) + j * s_out) // 8] = acc
        got = np.lib.stride_tricks.as_strided(got, shape=tuple(out.shape),
                                              strides=[8 * st for st in out.stride()])
        np.testing.assert_array_equal(got, x.cumsum(dim).numpy(), err_msg=f"{name} {dim}")
