"""The matmul family (cuBLAS) and the index kernels against the CPU result, across dtypes
and layouts.  Marked gpu: skipped, with the reason, where CuPy or a GPU is missing."""
import numpy as np
import pytest

import ember

from test_gpu import ALL_REAL, assert_same, sample

pytestmark = pytest.mark.gpu

FLOATS = [ember.float16, ember.bfloat16, ember.float32, ember.float64]
# cuBLAS sums in another order than the CPU's BLAS: a few ulps of the sum's terms
GEMM_TOL = {ember.float16: 1e-2, ember.bfloat16: 5e-2, ember.float32: 1e-5,
            ember.float64: 1e-12}


def signed(shape, dtype, seed=0):
    return sample(shape, dtype, seed=seed, low=-2.0)


def assert_close(cuda_result, cpu_result):
    assert cuda_result.device.type == "cuda"
    got = cuda_result.cpu()
    assert got.dtype == cpu_result.dtype and got.shape == cpu_result.shape
    tol = GEMM_TOL[cpu_result.dtype]
    np.testing.assert_allclose(got.to(ember.float64).numpy(),
                               cpu_result.to(ember.float64).numpy(), rtol=tol, atol=tol)


def both(fn, *args, **kwargs):
    """``fn`` on the CPU tensors and on their cuda copies."""
    expected = fn(*args, **kwargs)
    moved = [a.cuda() if isinstance(a, ember.Tensor) else a for a in args]
    return fn(*moved, **kwargs), expected


# ---------------------------------------------------------------- matrix products

LAYOUTS = {
    "contiguous": lambda a, b: (a, b),
    "transposed": lambda a, b: (a.t().contiguous().t(), b.t().contiguous().t()),
    "sliced": lambda a, b: (ember.cat([a, a], 1)[:, ::2], b),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_mm_matches_cpu(dtype, layout):
    a, b = LAYOUTS[layout](signed((37, 19), dtype), signed((19, 23), dtype, 1))
    got, expected = both(ember.mm, a, b)
    assert_close(got, expected)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", [((5, 7), (7,)), ((7,), (7, 4)), ((7,), (7,)),
                                    ((3, 5, 7), (7, 4)), ((5, 7), (3, 7, 4)),
                                    ((2, 1, 5, 7), (3, 7, 4)), ((4, 3, 5, 7), (7,))])
def test_matmul_broadcasting_matches_cpu(dtype, shapes):
    a, b = signed(shapes[0], dtype), signed(shapes[1], dtype, 1)
    got, expected = both(ember.matmul, a, b)
    assert_close(got, expected)


@pytest.mark.parametrize("dtype", FLOATS)
def test_add_products_match_cpu(dtype):
    t2, m1, m2 = signed((6, 5), dtype), signed((6, 4), dtype, 1), signed((4, 5), dtype, 2)
    assert_close(*both(ember.addmm, t2, m1, m2, beta=0.5, alpha=-2))
    assert_close(*both(ember.addmm, signed((5,), dtype), m1, m2))
    assert_close(*both(ember.addmv, signed((6,), dtype), m1, signed((4,), dtype, 3), beta=2))
    b1, b2 = signed((3, 6, 4), dtype, 4), signed((3, 4, 5), dtype, 5)
    assert_close(*both(ember.baddbmm, signed((3, 6, 5), dtype), b1, b2, alpha=0.5))
    assert_close(*both(ember.addbmm, t2, b1, b2, beta=0.25))
    assert_close(*both(ember.bmm, b1, b2))
    assert_close(*both(ember.mv, m1, signed((4,), dtype, 3)))
    assert_close(*both(ember.dot, signed((9,), dtype), signed((9,), dtype, 1)))
    assert_close(*both(ember.vdot, signed((9,), dtype), signed((9,), dtype, 1)))
    assert_close(*both(ember.outer, signed((4,), dtype), signed((3,), dtype, 1)))


def test_beta_zero_ignores_nan_and_out_may_alias():
    t = ember.full((3, 3), float("nan"))
    a, b = signed((3, 3), ember.float32), signed((3, 3), ember.float32, 1)
    got, expected = both(ember.addmm, t, a, b, beta=0)
    assert_close(got, expected)
    ga = a.cuda()
    ember.mm(ga, b.cuda(), out=ga)
    assert_close(ga, a @ b)
    assert_close(ember.mm(ember.ones(2, 0, device="cuda"), ember.ones(0, 3, device="cuda")),
                 ember.zeros(2, 3))


def test_linear_layer_and_its_gradients_match_cpu():
    ember.manual_seed(0)
    model = ember.nn.Linear(5, 3, bias=False)
    x = signed((4, 5), ember.float32)
    model(x).backward(ember.ones(4, 3))
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.to("cuda")
    model(x.cuda()).backward(ember.ones(4, 3, device="cuda"))
    for p, e in zip(model.parameters(), expected):
        assert_close(p.grad, e)


# ---------------------------------------------------------------- index ops

def index(shape, high, dtype=ember.int64, seed=0):
    return ember.tensor(np.random.default_rng(seed).integers(0, high, shape)).to(dtype)


@pytest.mark.parametrize("dtype", ALL_REAL)
@pytest.mark.parametrize("index_dtype", [ember.int32, ember.int64])
def test_index_select_and_gather_match_cpu(dtype, index_dtype):
    x = sample((6, 5), dtype)
    assert_same(*both(ember.index_select, x, 1, index((7,), 5, index_dtype)))
    assert_same(*both(ember.index_select, x.t(), 0, index((3,), 5, index_dtype)))
    assert_same(*both(ember.gather, x, 0, index((4, 5), 6, index_dtype)))


@pytest.mark.parametrize("dtype", ALL_REAL)
def test_scatters_match_cpu(dtype):
    x = sample((6, 5), dtype)
    perm = ember.tensor(np.stack([np.random.default_rng(k).permutation(6)[:3]
                                  for k in range(5)], 1))          # no repeats per column
    src = sample((3, 5), dtype, seed=1)
    assert_same(*both(lambda t, i, s: t.clone().scatter_(0, i, s), x, perm, src))
    assert_same(*both(lambda t, i: t.clone().scatter_(0, i, 1), x, perm))
    repeated = index((8, 5), 6, seed=2)
    values = sample((8, 5), dtype, seed=3)
    assert_same(*both(lambda t, i, s: t.clone().scatter_add_(0, i, s), x, repeated, values))
    reductions = ["sum", "prod", "amax", "amin"] + (["mean"] if dtype.is_floating_point else [])
    for reduce in reductions:
        for include_self in (True, False):
            assert_same(*both(lambda t, i, s: ember.scatter_reduce(
                t, 0, i, s, reduce, include_self=include_self), x, repeated, values))
    alpha = 1 if dtype == ember.bool else 2
    assert_same(*both(lambda t, i, s: t.clone().index_add_(0, i, s, alpha=alpha), x,
                      index((8,), 6), values))


@pytest.mark.parametrize("dtype", ALL_REAL)
def test_masked_fill_and_advanced_indexing_match_cpu(dtype):
    x = sample((4, 5, 3), dtype)
    mask = sample((5, 1), ember.bool)
    assert_same(*both(ember.masked_fill, x, mask, 1))
    assert_same(*both(ember.masked_select, x, mask))
    assert_same(*both(lambda t, m: t[m], x, sample((4, 5), ember.bool, 3)))
    assert_same(*both(lambda t, i: t[i], x, index((2, 3), 4) - 2))        # negative wrap
    assert_same(*both(lambda t, i, j: t[i, :, j], x, index((2, 1), 4), index((3,), 3)))
    values = sample((2, 5, 3), dtype, seed=5)
    assert_same(*both(lambda t, i, v: t.clone().index_put_((i,), v), x,
                      ember.tensor([3, 0]), values))
    assert_same(*both(lambda t, i, v: t.clone().index_put_((i,), v, accumulate=True), x,
                      ember.tensor([1, 1]), values))


def test_embedding_forward_and_backward_match_cpu():
    ember.manual_seed(0)
    for dtype in (ember.float32, ember.float16):
        weight = signed((10, 4), dtype)
        idx = index((3, 5), 10)
        results = []
        for w, i in ((weight, idx), (weight.cuda(), idx.cuda())):
            w = w.detach().requires_grad_()
            out = ember.nn.functional.embedding(i, w, padding_idx=2, scale_grad_by_freq=True)
            out.backward(ember.ones_like(out))
            results.append((out.detach(), w.grad))
        assert_same(results[1][0], results[0][0])
        assert_same(results[1][1], results[0][1])


def test_out_of_range_indices_raise_the_cpus_errors():
    x = ember.zeros(4, 3, device="cuda")
    bad = ember.tensor([0, 4], device="cuda")
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, bad)
    with pytest.raises(RuntimeError, match="out of bounds for dimension 0 with size 4"):
        x.gather(0, bad.reshape(2, 1))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter_(0, bad.reshape(2, 1), 1.0)
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 4"):
        x[bad]
    with pytest.raises(IndexError, match="out of bounds"):
        x[bad] = 1.0
    assert (x.cpu() == 0).all()       # nothing was written
    y = x + 1                         # the error word was cleared for the next kernel
    assert (y.cpu() == 1).all()
