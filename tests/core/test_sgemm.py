"""ember's own float32 GEMM (sgemm.c), through the matmul family.

The kernel is forced on (``_set_sgemm_backend("ember")``) so that every shape
runs through it, whatever the automatic choice would be; values are compared
with NumPy float64 products, within the float32 error bound of a k-term sum.
"""
import numpy as np
import pytest

import ember
from ember._core import _blas

EPS = np.finfo(np.float32).eps


def supported_kernels():
    default = _blas._sgemm_kernel_name()
    names = []
    for name in ("avx512", "avx2", "generic"):
        try:
            _blas._set_sgemm_kernel(name)
            names.append(name)
        except ValueError:
            pass
    _blas._set_sgemm_kernel(default)
    return names


KERNELS = supported_kernels()


@pytest.fixture(autouse=True)
def ember_sgemm():
    previous = _blas._set_sgemm_backend("ember")
    yield
    _blas._set_sgemm_backend(previous)


@pytest.fixture(params=KERNELS)
def kernel(request):
    """Each micro-kernel this CPU runs, in turn."""
    previous = _blas._set_sgemm_kernel(request.param)
    yield request.param
    _blas._set_sgemm_kernel(previous)


def reference_bound(a, b, c=None, alpha=1.0, beta=0.0):
    """float64 result and the float32 error bound of each element (k-scaled magnitude)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ref = alpha * (a64 @ b64)
    mag = abs(alpha) * (np.abs(a64) @ np.abs(b64))
    if c is not None and beta != 0:
        ref = ref + beta * c.astype(np.float64)
        mag = mag + abs(beta) * np.abs(c.astype(np.float64))
    k = a.shape[-1]
    return ref, (k + 3) * EPS * mag + 1e-30


def assert_close_gemm(got, a, b, c=None, alpha=1.0, beta=0.0):
    ref, bound = reference_bound(a, b, c, alpha, beta)
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == ref.shape
    err = np.abs(got - ref)
    assert np.all(err <= bound), f"max error {err.max()} over bound {bound.flat[np.argmax(err)]}"


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def layout(x, how):
    """An ember view of the float32 array x with the given memory layout (same values)."""
    if how == "contig":
        return ember.from_numpy(x.copy())
    if how == "transposed":                     # unit row stride
        return ember.from_numpy(np.ascontiguousarray(x.T)).t()
    if how == "sliced":                         # rows and columns both strided
        big = np.zeros((x.shape[0] * 2, x.shape[1] * 3), np.float32)
        big[::2, ::3] = x
        return ember.from_numpy(big)[::2, ::3]
    if how == "padded":                         # unit column stride, row pitch > width
        big = np.zeros((x.shape[0], x.shape[1] + 5), np.float32)
        big[:, : x.shape[1]] = x
        return ember.from_numpy(big)[:, : x.shape[1]]
    if how == "negative":
        return ember.from_numpy(np.ascontiguousarray(x[::-1]))[::-1]
    raise AssertionError(how)


SHAPES = [(0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (1, 7, 33), (17, 1, 13), (16, 16, 16),
          (31, 29, 37), (32, 12, 64), (33, 385, 13), (64, 128, 97), (130, 70, 257),
          (257, 300, 45), (300, 17, 300), (64, 288, 64), (100, 40, 56), (8, 9, 16)]


@pytest.mark.parametrize("m,k,n", SHAPES)
def test_shapes_contiguous(m, k, n, kernel):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a, b = rand(rng, m, k), rand(rng, k, n)
    got = ember.mm(ember.from_numpy(a), ember.from_numpy(b))
    assert_close_gemm(got.numpy(), a, b)


LAYOUTS = ["contig", "transposed", "sliced", "padded", "negative"]


@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lb", LAYOUTS)
@pytest.mark.parametrize("m,k,n", [(45, 67, 29), (96, 400, 36)])
def test_operand_layouts(la, lb, m, k, n, kernel):
    rng = np.random.default_rng(7)
    a, b = rand(rng, m, k), rand(rng, k, n)
    got = ember.mm(layout(a, la), layout(b, lb))
    assert_close_gemm(got.numpy(), a, b)


@pytest.mark.parametrize("lc", ["contig", "transposed", "sliced"])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (1.0, 1.0), (0.5, -2.0), (0.0, 3.0),
                                        (-1.5, 0.0), (0.0, 0.0)])
def test_alpha_beta_output_layouts(lc, alpha, beta, kernel):
    rng = np.random.default_rng(11)
    m, k, n = 50, 77, 70
    a, b, c = rand(rng, m, k), rand(rng, k, n), rand(rng, m, n)
    out = layout(c, lc)
    ember.Tensor.addmm_(out, ember.from_numpy(a), ember.from_numpy(b), beta=beta, alpha=alpha)
    assert_close_gemm(out.numpy(), a, b, c, alpha, beta)


def test_beta_zero_ignores_nan_in_c():
    rng = np.random.default_rng(3)
    a, b = rand(rng, 40, 20), rand(rng, 20, 35)
    c = np.full((40, 35), np.nan, np.float32)
    got = ember.addmm(ember.from_numpy(c), ember.from_numpy(a), ember.from_numpy(b), beta=0)
    assert_close_gemm(got.numpy(), a, b)
    out = ember.from_numpy(c.copy())
    ember.mm(ember.from_numpy(a), ember.from_numpy(b), out=out)
    assert not np.isnan(out.numpy()).any()


def test_nan_inf_propagate(kernel):
    rng = np.random.default_rng(5)
    a, b = rand(rng, 37, 50), rand(rng, 50, 41)
    a[3, 7] = np.nan
    a[10, 2] = np.inf
    b[4, 30] = -np.inf
    got = ember.mm(ember.from_numpy(a), ember.from_numpy(b)).numpy()
    with np.errstate(invalid="ignore"):
        ref = (a.astype(np.float64) @ b.astype(np.float64))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    finite = np.isfinite(ref)
    _, bound = reference_bound(np.nan_to_num(a, posinf=0), np.nan_to_num(b, neginf=0))
    assert np.all(np.abs(got[finite] - ref[finite]) <= bound[finite])


def test_batched_and_broadcast():
    rng = np.random.default_rng(9)
    a, b = rand(rng, 6, 33, 40), rand(rng, 6, 40, 21)
    assert_close_gemm(ember.bmm(ember.from_numpy(a), ember.from_numpy(b)).numpy(), a, b)
    w = rand(rng, 40, 19)                                   # shared right operand (folded)
    assert_close_gemm(ember.matmul(ember.from_numpy(a), ember.from_numpy(w)).numpy(), a, w)
    at = ember.from_numpy(np.ascontiguousarray(a.transpose(0, 2, 1))).transpose(1, 2)
    assert_close_gemm(ember.matmul(at, ember.from_numpy(b)).numpy(), a, b)
    c = rand(rng, 6, 33, 21)
    got = ember.baddbmm(ember.from_numpy(c), ember.from_numpy(a), ember.from_numpy(b),
                        beta=0.25, alpha=2.0)
    assert_close_gemm(got.numpy(), a, b, c, 2.0, 0.25)


def test_linear_and_half_precision_inputs():
    rng = np.random.default_rng(13)
    x, w, bias = rand(rng, 64, 70), rand(rng, 48, 70), rand(rng, 48)
    got = ember.nn.functional.linear(ember.from_numpy(x), ember.from_numpy(w), ember.from_numpy(bias))
    assert_close_gemm(got.numpy() - bias, x, w.T)
    xh = ember.from_numpy(x).to(ember.bfloat16)
    wh = ember.from_numpy(w).to(ember.bfloat16)
    ref = xh.float().numpy() @ wh.float().numpy().T
    np.testing.assert_allclose(ember.mm(xh, wh.t()).float().numpy(), ref, rtol=2e-2, atol=0.3)


@pytest.mark.parametrize("m,k,n", [(300, 64, 190), (8, 70, 500), (7, 3, 130)])
def test_thread_count_gives_identical_bits(m, k, n, kernel):
    rng = np.random.default_rng(17)
    a = ember.from_numpy(rand(rng, 4, m, k))
    b = ember.from_numpy(rand(rng, 4, k, n))
    previous = ember.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            ember.set_num_threads(threads)
            results.append((ember.matmul(a, b).numpy().copy(),       # split over the batch
                            ember.mm(a[0], b[0]).numpy().copy(),         # split over rows or columns
                            ember.mm(b[1].t(), a[1].t()).numpy().copy()))  # transposed
        for one, two in zip(*results):
            assert one.tobytes() == two.tobytes()
    finally:
        ember.set_num_threads(previous)


@pytest.mark.parametrize("m,k,n", [(64, 288, 64), (96, 70, 40)])
def test_tile_width_gives_identical_bits(m, k, n, kernel):
    # n columns a multiple of 8 but not 12 run 8-wide tiles on AVX-512; the same columns
    # inside a product whose width 12 divides run 12-wide: each element is the same sum
    rng = np.random.default_rng(23)
    a, b = rand(rng, m, k), rand(rng, k, 72)
    full = ember.mm(ember.from_numpy(a), ember.from_numpy(b)).numpy()
    part = ember.mm(ember.from_numpy(a), ember.from_numpy(np.ascontiguousarray(b[:, :n]))).numpy()
    assert part.tobytes() == np.ascontiguousarray(full[:, :n]).tobytes()


def test_automatic_choice_matches_openblas_values():
    rng = np.random.default_rng(19)
    a, b = rand(rng, 100, 90), rand(rng, 90, 80)
    results = {}
    for backend in ("auto", "openblas", "ember"):
        _blas._set_sgemm_backend(backend)
        results[backend] = ember.mm(ember.from_numpy(a), ember.from_numpy(b)).numpy().copy()
    for got in results.values():
        assert_close_gemm(got, a, b)
    with pytest.raises(ValueError, match="sgemm backend"):
        _blas._set_sgemm_backend("mkl")


def test_kernel_choice():
    assert _blas._sgemm_kernel_name() == KERNELS[0]
    assert "generic" in KERNELS
    with pytest.raises(ValueError, match="sgemm kernel 'mkl'"):
        _blas._set_sgemm_kernel("mkl")
    assert _blas._sgemm_kernel_name() == KERNELS[0]


def test_expanded_operands():
    rng = np.random.default_rng(23)
    row, col = rand(rng, 1, 45), rand(rng, 45, 1)
    a = ember.from_numpy(row).expand(40, 45)                 # zero row stride
    b = ember.from_numpy(col).expand(45, 33)                 # zero column stride
    got = ember.mm(a, b).numpy()
    assert_close_gemm(got, np.broadcast_to(row, (40, 45)), np.broadcast_to(col, (45, 33)))


def test_lstm_float32_matches_float64():
    # the LSTM multiplies by W_hh packed once per sequence (forward and backward)
    import torch
    torch.manual_seed(0)
    ref = torch.nn.LSTM(20, 48, batch_first=True).double()
    lstm = ember.nn.LSTM(20, 48, batch_first=True)
    with ember.no_grad():
        for name, p in lstm.named_parameters():
            p.copy_(ember.from_numpy(getattr(ref, name).detach().float().numpy()))
    x = rand(np.random.default_rng(29), 24, 9, 20)
    ex = ember.from_numpy(x).requires_grad_()
    out, _ = lstm(ex)
    out.sum().backward()
    tx = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    tout, _ = ref(tx)
    tout.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=5e-5)
