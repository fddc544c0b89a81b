"""ember's int8 GEMM (``qgemm.c`` through ``ember._core._quant``): every micro-kernel this
CPU runs against an exact int32 NumPy reference, the dequantizing and requantizing
epilogues, and the checks at the Python boundary."""
import numpy as np
import pytest

import ember
from ember._core import _quant

KERNELS = ["generic", "avx2", "avx512_vnni"]


@pytest.fixture(params=KERNELS)
def kernel(request):
    """Run the test with each micro-kernel this CPU supports, then restore the default."""
    try:
        previous = _quant._set_qgemm_kernel(request.param)
    except ValueError:
        pytest.skip(f"this CPU does not run the {request.param} kernel")
    yield request.param
    _quant._set_qgemm_kernel(previous)


def random_operands(m, n, k, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    w = rng.integers(-128, 128, (n, k), dtype=np.int8)
    return a, w


def reference(a, w):
    return a.astype(np.int64) @ w.astype(np.int64).T


SHAPES = [(1, 1, 1), (7, 19, 13), (6, 64, 4), (13, 70, 131), (64, 256, 1024), (5, 17, 3),
          (33, 100, 255), (2, 130, 66)]


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_exact_int32_sums(kernel, m, n, k):
    a, w = random_operands(m, n, k)
    out = _quant.qgemm_s32(ember.from_numpy(a), _quant.PackedWeight(ember.from_numpy(w)))
    assert out.dtype == ember.int32 and out.shape == (m, n)
    np.testing.assert_array_equal(out.numpy(), reference(a, w))


def test_extreme_values_do_not_saturate(kernel):
    """255 * -128 and 255 * 127 in every product: AVX2's int16 pair sums would overflow."""
    k = 1000
    a = np.full((3, k), 255, np.uint8)
    w = np.stack([np.full(k, -128, np.int8), np.full(k, 127, np.int8),
                  np.tile(np.array([127, -128], np.int8), k // 2)])
    out = _quant.qgemm_s32(ember.from_numpy(a), _quant.PackedWeight(ember.from_numpy(w)))
    np.testing.assert_array_equal(out.numpy(), reference(a, w))


def test_threads_give_the_same_sums(kernel):
    a, w = random_operands(150, 200, 300, seed=1)
    packed = _quant.PackedWeight(ember.from_numpy(w))
    previous = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        out = _quant.qgemm_s32(ember.from_numpy(a), packed)
    finally:
        ember.set_num_threads(previous)
    np.testing.assert_array_equal(out.numpy(), reference(a, w))


def test_strided_activation_rows_are_read_correctly(kernel):
    a, w = random_operands(9, 20, 40, seed=2)
    wide = np.zeros((9, 50), np.uint8)
    wide[:, 5:45] = a
    view = ember.from_numpy(wide)[:, 5:45]
    out = _quant.qgemm_s32(view, _quant.PackedWeight(ember.from_numpy(w)))
    np.testing.assert_array_equal(out.numpy(), reference(a, w))
    transposed = ember.from_numpy(np.ascontiguousarray(a.T)).t()
    np.testing.assert_array_equal(
        _quant.qgemm_s32(transposed, _quant.PackedWeight(ember.from_numpy(w))).numpy(),
        reference(a, w))


def test_column_sums():
    _, w = random_operands(1, 37, 29)
    sums = _quant.PackedWeight(ember.from_numpy(w)).col_sums()
    np.testing.assert_array_equal(sums.numpy(), w.astype(np.int64).sum(1))


@pytest.mark.parametrize("m,n,k", [(7, 19, 13), (40, 70, 131)])
def test_dequantizing_epilogue(kernel, m, n, k):
    a, w = random_operands(m, n, k, seed=3)
    rng = np.random.default_rng(4)
    w_scale = rng.uniform(0.001, 0.02, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    a_scale, a_zero = 0.05, 117
    out = _quant.qgemm(ember.from_numpy(a), a_scale, a_zero,
                       _quant.PackedWeight(ember.from_numpy(w)), ember.from_numpy(w_scale),
                       ember.from_numpy(bias))
    expected = (a_scale * w_scale * (reference(a, w) - a_zero * w.astype(np.int64).sum(1))
                + bias)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("relu", [False, True])
def test_requantizing_epilogue(kernel, relu):
    a, w = random_operands(11, 23, 50, seed=5)
    w_scale = np.full(23, 0.01, np.float32)
    out_scale, out_zero = 0.5, 100
    out = _quant.qgemm(ember.from_numpy(a), 0.02, 128, _quant.PackedWeight(ember.from_numpy(w)),
                       ember.from_numpy(w_scale), None, out_scale, out_zero, relu)
    assert out.dtype == ember.uint8
    y = 0.02 * w_scale * (reference(a, w) - 128 * w.astype(np.int64).sum(1))
    q = np.clip(np.rint(y / out_scale) + out_zero, out_zero if relu else 0, 255)
    # the epilogue multiplies by 1/out_scale in float32: a tie may round either way
    assert np.abs(out.numpy().astype(np.int64) - q).max() <= 1
    assert (out.numpy() >= (out_zero if relu else 0)).all()


def test_choose_qparams_matches_pytorch():
    import torch
    for lo, hi in [(-1.0, 3.0), (0.5, 2.0), (-4.0, -1.0), (0.0, 0.0), (-0.3, 0.7)]:
        x = torch.tensor([lo, hi])
        scale, zero = torch._choose_qparams_per_tensor(x, False)
        ours = _quant.choose_qparams(lo, hi)
        assert ours[1] == zero
        assert ours[0] == pytest.approx(scale, rel=1e-6)


def test_linear_dynamic_close_to_float(kernel):
    """Each kernel's range, quantization and epilogue (compiled per instruction set)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 70)).astype(np.float32)   # 70: a partial vector
    x[3, 5] = np.nan      # ignored by the range, quantized to 0
    w = rng.integers(-127, 128, (32, 70), dtype=np.int8)
    w_scale = np.full(32, 0.01, np.float32)
    out = _quant.linear_dynamic(ember.from_numpy(x), _quant.PackedWeight(ember.from_numpy(w)),
                                ember.from_numpy(w_scale), None)
    x[3, 5] = 0.0
    lo, hi = min(np.nanmin(x), 0), max(np.nanmax(x), 0)
    scale, zero = _quant.choose_qparams(lo, hi)
    x[3, 5] = -zero * scale       # what a NaN becomes: the integer 0
    expected = x @ (w.astype(np.float32) * 0.01).T
    # one activation rounding error (scale / 2) per product, summed over k
    assert np.abs(out.numpy() - expected).max() <= 70 * scale / 2 * 1.27 + 1e-4


def test_bad_input_raises():
    w = _quant.PackedWeight(ember.zeros(4, 8, dtype=ember.int8))
    with pytest.raises(RuntimeError, match="dtype ember.uint8"):
        _quant.qgemm_s32(ember.zeros(2, 8), w)
    with pytest.raises(RuntimeError, match=r"shape \(2, 7\)"):
        _quant.qgemm_s32(ember.zeros(2, 7, dtype=ember.uint8), w)
    with pytest.raises(RuntimeError, match="2-D"):
        _quant.qgemm_s32(ember.zeros(8, dtype=ember.uint8), w)
    with pytest.raises(TypeError, match="must be a Tensor"):
        _quant.qgemm_s32(np.zeros((2, 8), np.uint8), w)
    with pytest.raises(RuntimeError, match="dtype ember.int8"):
        _quant.PackedWeight(ember.zeros(4, 8))
    with pytest.raises(RuntimeError, match="4 elements"):
        _quant.qgemm(ember.zeros(2, 8, dtype=ember.uint8), 0.1, 0, w, ember.ones(3))
    with pytest.raises(ValueError, match="a_zero"):
        _quant.qgemm(ember.zeros(2, 8, dtype=ember.uint8), 0.1, 300, w, ember.ones(4))
    with pytest.raises(RuntimeError, match="dtype ember.float32"):
        _quant.linear_dynamic(ember.zeros(2, 8, dtype=ember.float64), w, ember.ones(4))
    with pytest.raises(ValueError, match="not supported|unknown"):
        _quant._set_qgemm_kernel("sse9")


def test_empty_operands():
    w = _quant.PackedWeight(ember.zeros(5, 3, dtype=ember.int8))
    assert _quant.qgemm_s32(ember.zeros(0, 3, dtype=ember.uint8), w).shape == (0, 5)
    empty_k = _quant.PackedWeight(ember.zeros(5, 0, dtype=ember.int8))
    out = _quant.qgemm_s32(ember.zeros(2, 0, dtype=ember.uint8), empty_k)
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 5)))
