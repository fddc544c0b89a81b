"""complex64 and complex128 on cuda tensors: elementwise math, type promotion with real
tensors and Python scalars, casts and fills, reductions, index ops, matrix products and
a backward, each against the CPU's result (itself checked against PyTorch's in the CPU
tests).  Marked gpu: without a GPU they run on the emulated one."""
import warnings

import numpy as np
import pytest

import ember

pytestmark = pytest.mark.gpu

CDTYPES = [ember.complex64, ember.complex128]
# the GPU's complex functions are not glibc's: a few ulps apart
TOL = {ember.complex64: dict(rtol=2e-5, atol=2e-6), ember.complex128: dict(rtol=1e-12, atol=1e-14),
       ember.float32: dict(rtol=2e-5, atol=2e-6), ember.float64: dict(rtol=1e-12, atol=1e-14)}


def cvalues(shape, dtype, seed=0, scale=1.5):
    rng = np.random.default_rng(seed)
    z = scale * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
    return ember.tensor(z).to(dtype)


def same(got, expected, dtype=None):
    assert got.device.type == "cuda"
    assert got.dtype == expected.dtype and got.shape == expected.shape
    e = expected.detach().numpy()
    if e.dtype.kind in "fc":
        # other real dtypes only come from casts, exact as on the CPU
        tol = TOL.get(dtype or expected.dtype, dict(rtol=0, atol=0))
        np.testing.assert_allclose(got.detach().cpu().numpy(), e, **tol)
    else:
        np.testing.assert_array_equal(got.detach().cpu().numpy(), e)


def check(fn, *args, dtype=None):
    expected = fn(*args)
    got = fn(*[a.cuda() if isinstance(a, ember.Tensor) else a for a in args])
    same(got, expected, dtype)


UNARY = ["neg", "conj", "conj_physical", "abs", "angle", "sgn", "exp", "expm1", "exp2", "log",
         "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "sigmoid", "sin", "cos", "tan",
         "sinh", "cosh", "tanh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "isnan",
         "isinf", "isfinite", "logical_not"]


@pytest.mark.parametrize("dtype", CDTYPES)
@pytest.mark.parametrize("op", UNARY)
def test_unary(op, dtype):
    x = cvalues((7, 9), dtype)
    fn = getattr(ember, op)
    check(fn, x, dtype=dtype)
    check(lambda t: fn(t.t()), x, dtype=dtype)            # strided
    check(lambda t: fn(t[::2, 1:]), x, dtype=dtype)
    check(fn, cvalues((0, 3), dtype), dtype=dtype)


@pytest.mark.parametrize("dtype", CDTYPES)
def test_special_values(dtype):
    z = ember.tensor([0j, 1 + 0j, -1 + 0j, complex("inf"), complex(0, float("nan")),
                      complex(1e30, -1e30), 2j, -2j]).to(dtype)
    for fn in (ember.isnan, ember.isinf, ember.isfinite, ember.abs, ember.neg, ember.conj,
               ember.real, ember.imag):
        check(fn, z, dtype=dtype)
    finite = z[ember.isfinite(z)]
    for fn in (ember.exp, ember.sqrt, ember.tanh, ember.angle):
        check(fn, finite[:3], dtype=dtype)
    check(lambda t: ember.sqrt(t), finite[4:], dtype=dtype)


# near the branch points and cuts (signed zeros pick the side), tiny and huge values
HARD = [1 + 1e-3j, 1 - 1e-3j, -1 + 1e-3j, 0.999 + 0j, 1.001 - 0j, 2 + 0j, complex(2, -0.0),
        -2 + 0j, complex(-2, -0.0), 1e-4 + 1e-4j, -1e-4 - 3e-4j, 3j, -3j, complex(0.0, -0.5),
        1e10 + 1e10j, -1e9 + 1e-3j, 0.5 + 0.5j, -0.3 + 2j]


@pytest.mark.parametrize("dtype", CDTYPES)
@pytest.mark.parametrize("op", ["sqrt", "log", "asin", "acos", "atan", "asinh", "acosh",
                                "atanh", "tanh", "tan", "sin", "cosh"])
def test_functions_near_branch_points(op, dtype):
    z = ember.tensor(HARD).to(dtype)
    if op in ("tanh", "tan", "sin", "cosh"):
        z = z[(z.abs() < 1e3)]
    check(getattr(ember, op), z, dtype=dtype)


@pytest.mark.parametrize("dtype", CDTYPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "eq", "ne"])
def test_binary(op, dtype):
    fn = getattr(ember, op)
    x, y = cvalues((4, 5), dtype), cvalues((4, 5), dtype, 1)
    check(fn, x, y, dtype=dtype)
    check(fn, x, y[:1], dtype=dtype)                              # broadcast
    check(lambda a, b: fn(a.t(), b.t()), x, y, dtype=dtype)
    check(fn, x, x, dtype=dtype)


@pytest.mark.parametrize("dtype", CDTYPES)
def test_promotion_with_real_tensors_and_scalars(dtype):
    x = cvalues((3, 4), dtype)
    real = ember.tensor(np.random.default_rng(2).standard_normal((3, 4)))
    for other in (real.float(), real.double(), real.int(), ember.tensor(2.5)):
        for fn in (ember.add, ember.sub, ember.mul, ember.div):
            check(fn, x, other)
            check(fn, other, x)
    for scalar in (2, -1.5, 0.5 - 2j, True):
        check(lambda t: t * scalar, x)
        check(lambda t: t + scalar, x)
        check(lambda t: scalar / t, x)
        check(lambda t: t ** scalar, x)
    check(lambda t: ember.tensor(1j) * t.float(), real)          # a real tensor becomes complex
    check(lambda t: t.float() + 1j, real)


@pytest.mark.parametrize("dtype", CDTYPES)
def test_where_and_in_place(dtype):
    x, y = cvalues((3, 4), dtype), cvalues((3, 4), dtype, 1)
    check(lambda c, a, b: ember.where(c, a, b), x.abs() > 2, x, y)
    check(lambda c, a: ember.where(c, a, 0), x.abs() > 2, x)
    check(lambda a, b: a.clone().mul_(b).add_(1j), x, y)
    check(lambda a, b: a.clone()[:, 1:].div_(b[:, :3]), x, y)


@pytest.mark.parametrize("dtype", CDTYPES)
def test_real_imag_and_views(dtype):
    x = cvalues((3, 4), dtype)
    check(lambda t: t.real, x)
    check(lambda t: t.imag.t(), x)
    check(lambda t: ember.view_as_real(t), x)
    check(lambda t: ember.view_as_complex(ember.view_as_real(t).contiguous()), x)

    def set_parts(t):
        t = t.clone()
        t.real.mul_(2)
        t.imag.fill_(3)
        return t
    check(set_parts, x)


def test_casts_and_fills():
    x = cvalues((3, 5), ember.complex128)
    for dst in (ember.complex64, ember.complex128):
        check(lambda t: t.to(dst), x)
        check(lambda t: t.t().to(dst), x)
        for src in (ember.bool, ember.uint8, ember.int32, ember.int64, ember.float16,
                    ember.bfloat16, ember.float32, ember.float64):
            check(lambda t: (t.real * 3).to(src).to(dst), x)
    for dst in (ember.bool, ember.int16, ember.int64, ember.float16, ember.float32,
                ember.float64):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # discarding the imaginary part warns
            check(lambda t: (t * 3).to(dst), x)
            check(lambda t: (t * 3).t().to(dst), x)
    for dtype in CDTYPES:
        got = ember.full((2, 3), 1.5 - 2j, dtype=dtype, device="cuda")
        same(got, ember.full((2, 3), 1.5 - 2j, dtype=dtype))
        same(ember.zeros(4, dtype=dtype, device="cuda"), ember.zeros(4, dtype=dtype))
        check(lambda t: t.to(dtype)[:, 1:].fill_(2j), x)
        check(lambda t: t.to(dtype).t().zero_(), x)


def test_complex_to_real_warns_as_on_the_cpu():
    x = cvalues((3,), ember.complex64)
    with warnings.catch_warnings(record=True) as on_cpu:
        warnings.simplefilter("always")
        x.to(ember.float32)
    with warnings.catch_warnings(record=True) as on_gpu:
        warnings.simplefilter("always")
        x.cuda().to(ember.float32)
    assert [type(w.message) for w in on_gpu] == [type(w.message) for w in on_cpu]


# ---------------------------------------------------------------- reductions

@pytest.mark.parametrize("dtype", CDTYPES)
def test_reductions(dtype):
    x = cvalues((6, 70), dtype, scale=0.6)
    for fn in (ember.sum, ember.mean, ember.prod):
        check(fn, x, dtype=dtype)
        check(lambda t: fn(t, 1), x, dtype=dtype)
        check(lambda t: fn(t, 0, keepdim=True), x, dtype=dtype)
        check(lambda t: fn(t.t(), 1), x, dtype=dtype)
    real = ember.float32 if dtype == ember.complex64 else ember.float64
    check(lambda t: ember.linalg.vector_norm(t), x, dtype=real)
    for ord in (1, 3, float("inf"), -float("inf"), 0):
        check(lambda t: ember.linalg.vector_norm(t, ord, dim=1), x, dtype=real)
    check(lambda t: t.norm(dim=0), x, dtype=real)
    check(lambda t: ember.count_nonzero(t * (t.real > 0)), x)
    check(lambda t: (t * (t.real > 0)).all(1), x)
    check(lambda t: (t * (t.real > 0)).any(), x)
    check(lambda t: ember.prod(t, 1), cvalues((3, 20000), dtype, scale=0.0), dtype=dtype)
    check(lambda t: t.sum(0), cvalues((0, 3), dtype), dtype=dtype)
    check(lambda t: t.var(1), x, dtype=real)
    check(lambda t: t.cumsum(1), x, dtype=dtype)
    check(lambda t: t.cumprod(1), x[:, :40], dtype=dtype)     # one block per lane
    check(lambda t: t.cumprod(0), x, dtype=dtype)             # one thread per lane


# ---------------------------------------------------------------- index ops

def index(shape, high, seed=0):
    return ember.tensor(np.random.default_rng(seed).integers(0, high, shape))


@pytest.mark.parametrize("dtype", CDTYPES)
def test_index_ops(dtype):
    x = cvalues((6, 5), dtype)
    check(lambda t, i: t.index_select(1, i), x, index((7,), 5))
    check(lambda t, i: t.gather(0, i), x, index((4, 5), 6))
    check(lambda t, i: t[i], x, index((2, 3), 6))
    check(lambda t, i: t[:, i.int()], x, index((3,), 5))
    check(lambda t, m: t[m], x, x.real > 0)
    check(lambda t, m: t.masked_fill(m, 2 - 1j), x, x.real > 0)
    check(lambda t, m: t.masked_select(m), x, x.real > 0)
    perm = ember.tensor(np.stack([np.random.default_rng(k).permutation(6)[:3]
                                  for k in range(5)], 1))
    src = cvalues((3, 5), dtype, 1)
    check(lambda t, i, s: t.clone().scatter_(0, i, s), x, perm, src)
    repeated, many = index((8, 5), 6, seed=2), cvalues((8, 5), dtype, 3)
    check(lambda t, i, s: t.clone().scatter_add_(0, i, s), x, repeated, many)
    check(lambda t, i, s: t.clone().index_add_(0, i, s), x, index((8,), 6), many)
    check(lambda t, v: t.clone().index_put_((ember.tensor([1, 1, 4]),), v, accumulate=True), x,
          cvalues((3, 5), dtype, 5))
    check(lambda t, v: t.clone().index_put_((ember.tensor([3, 0]),), v), x,
          cvalues((2, 5), dtype, 5))

    def setitem(t, m):
        t = t.clone()
        t[m] = 3j
        return t
    check(setitem, x, x.imag > 0)
    check(lambda a, b: ember.cat([a, b.t()], 0), x, cvalues((5, 4), dtype))
    check(lambda a, b: ember.stack([a, b], 1), x, cvalues((6, 5), dtype, 7))
    check(lambda t: t.flip(0).roll(2, 1), x)


@pytest.mark.parametrize("dtype", CDTYPES)
def test_scatter_reductions_other_than_the_sum_raise(dtype):
    x, src = cvalues((6, 5), dtype), cvalues((8, 5), dtype, 3)
    i = index((8, 5), 6, seed=2)
    check(lambda t, i, s: ember.scatter_reduce(t, 0, i, s, "sum"), x, i, src)
    with pytest.raises(NotImplementedError, match="complex"):
        x.cuda().scatter_(0, i[:2].cuda(), 2, reduce="multiply")
    with pytest.raises(NotImplementedError, match="complex"):
        ember.scatter_reduce(x.cuda(), 0, i.cuda(), src.cuda(), "prod")


# ---------------------------------------------------------------- matrix products

@pytest.mark.parametrize("dtype", CDTYPES)
def test_matmul(dtype):
    a, b = cvalues((5, 3), dtype), cvalues((3, 4), dtype, 1)
    check(ember.matmul, a, b, dtype=dtype)
    check(lambda p, q: p.t().contiguous().t() @ q.conj(), a, b, dtype=dtype)   # column-major
    check(lambda p, q: p @ q.mT, a, cvalues((4, 3), dtype, 1), dtype=dtype)
    check(lambda p, q: p[:, ::2] @ q[::2], cvalues((5, 6), dtype), cvalues((6, 4), dtype, 1),
          dtype=dtype)                                             # copied: no unit stride
    check(lambda p, q: p.mT @ q, cvalues((3, 5), dtype), b, dtype=dtype)
    check(lambda p, q: p @ q, a, cvalues((3,), dtype, 2), dtype=dtype)       # matrix-vector
    check(ember.bmm, cvalues((2, 5, 3), dtype), cvalues((2, 3, 4), dtype, 1), dtype=dtype)
    check(ember.matmul, cvalues((2, 1, 5, 3), dtype), cvalues((3, 3, 4), dtype, 1),
          dtype=dtype)
    check(lambda c, p, q: ember.addmm(c, p, q, beta=0.5 - 1j, alpha=2j), cvalues((5, 4), dtype, 3),
          a, b, dtype=dtype)
    check(lambda c, p, q: ember.addbmm(c, p, q), cvalues((5, 4), dtype, 3),
          cvalues((3, 5, 3), dtype), cvalues((3, 3, 4), dtype, 1), dtype=dtype)
    check(ember.dot, cvalues((7,), dtype), cvalues((7,), dtype, 1), dtype=dtype)
    check(ember.vdot, cvalues((7,), dtype), cvalues((7,), dtype, 1), dtype=dtype)


# ---------------------------------------------------------------- autograd

@pytest.mark.parametrize("dtype", CDTYPES)
def test_backward(dtype):
    def grads(device):
        z = cvalues((4, 3), dtype).to(device).requires_grad_()
        w = cvalues((4, 3), dtype, 1).to(device).requires_grad_()
        m = cvalues((3, 2), dtype, 2).to(device).requires_grad_()
        loss = (z * w.conj()).abs().sum() + ((z @ m).exp().real * 0.1).sum()
        loss.backward()
        return loss, z.grad, w.grad, m.grad

    for got, expected in zip(grads("cuda"), grads("cpu")):
        same(got, expected, dtype if got.dtype.is_complex else None)
