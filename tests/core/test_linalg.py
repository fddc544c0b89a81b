"""The matmul family against NumPy (values) and PyTorch (shapes, dtypes, errors)."""
import itertools

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(1234)

NP_DTYPES = {
    "uint8": np.uint8, "int8": np.int8, "int16": np.int16, "int32": np.int32,
    "int64": np.int64, "float32": np.float32, "float64": np.float64,
    "complex64": np.complex64, "complex128": np.complex128,
}
INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
BLAS_DTYPES = ["float32", "float64", "complex64", "complex128"]
HALF_DTYPES = ["float16", "bfloat16"]
ALL_DTYPES = INT_DTYPES + BLAS_DTYPES + HALF_DTYPES


def values(shape, dt):
    """Random NumPy values for dtype name `dt` (halves as float32 values they can hold)."""
    if dt in INT_DTYPES:
        return RNG.integers(0 if dt == "uint8" else -5, 6, shape).astype(NP_DTYPES[dt])
    if dt.startswith("complex"):
        return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(NP_DTYPES[dt])
    x = RNG.standard_normal(shape)
    if dt in HALF_DTYPES:
        return ember.from_numpy(x.astype(np.float32)).to(getattr(ember, dt)).float().numpy()
    return x.astype(NP_DTYPES[dt])


def as_ember(x, dt):
    t = ember.from_numpy(np.ascontiguousarray(x))
    return t.to(getattr(ember, dt)) if dt in HALF_DTYPES else t


def as_numpy(t):
    if t.dtype in (ember.float16, ember.bfloat16):
        t = t.float()
    return np.asarray(t)


def as_torch(t):
    if t.dtype in (ember.float16, ember.bfloat16):
        return torch.from_numpy(np.asarray(t.float())).to(getattr(torch, str(t.dtype).split(".")[1]))
    return torch.from_numpy(np.array(t))


def reference(fn, *arrays, dt):
    """`fn` on exact (wide) values, rounded back to `dt` for integers (wrap-around)."""
    if dt in INT_DTYPES:
        return fn(*[a.astype(np.int64) for a in arrays]).astype(NP_DTYPES[dt])
    return fn(*[a.astype(np.complex128) for a in arrays])


def assert_close(t, ref, dt, k=1):
    got = as_numpy(t)
    assert got.shape == ref.shape
    if dt in INT_DTYPES:
        np.testing.assert_array_equal(got, ref)
        return
    tol = {"float16": 3e-3, "bfloat16": 2e-2}.get(dt, 1e-5 if dt in ("float32", "complex64") else 1e-12)
    scale = max(1.0, np.sqrt(k))
    np.testing.assert_allclose(got, ref.real if not np.iscomplexobj(got) else ref,
                               rtol=tol, atol=tol * scale * 4)


# -------------------------------------------------------------------- layouts

def layout(x, kind, dt):
    """An ember view holding the values of `x` with the given memory layout."""
    if kind == "contig" or x.ndim == 0:
        return as_ember(x, dt)
    if kind == "transposed":
        if x.ndim < 2:
            return as_ember(x, dt)
        return as_ember(np.swapaxes(x, -1, -2), dt).transpose(-1, -2)
    if kind == "sliced":
        big = np.zeros(x.shape[:-1] + (2 * x.shape[-1] + 1,), x.dtype)
        big[..., 1::2] = x
        return as_ember(big, dt)[..., 1::2]
    if kind == "reversed":         # negative stride on the rows (or the only dim)
        axis = -2 if x.ndim >= 2 else -1
        return _flip(as_ember(np.flip(x, axis), dt), axis)
    if kind == "reversed_cols":
        return _flip(as_ember(np.flip(x, -1), dt), -1)
    raise ValueError(kind)


def _flip(t, axis):
    index = [slice(None)] * t.ndim
    index[axis] = slice(None, None, -1)
    return t[tuple(index)]


LAYOUTS = ["contig", "transposed", "sliced", "reversed", "reversed_cols"]

SHAPES = [
    ((3,), (3,)),                 # dot
    ((2, 3), (3, 4)),             # mm
    ((3,), (3, 4)),               # vector @ matrix
    ((2, 3), (3,)),               # matrix @ vector
    ((5, 2, 3), (3,)),            # batch @ vector (folded gemv)
    ((3,), (5, 3, 4)),            # vector @ batch
    ((5, 2, 3), (5, 3, 4)),       # bmm
    ((5, 2, 3), (3, 4)),          # shared right operand (folded)
    ((2, 3), (5, 3, 4)),          # shared left operand
    ((2, 1, 2, 3), (5, 3, 4)),    # batch broadcasting
    ((4, 1, 2, 3), (1, 5, 3, 4)),
    ((1, 3), (3, 1)),             # 1 x 1 result
    ((6, 1, 3), (3, 1)),
    ((2, 3, 1), (1, 4)),          # k == 1
    ((1, 3), (3, 5)),             # m == 1
    ((4, 3), (3, 1)),             # n == 1
    ((7, 1, 4), (4, 1)),
]


@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul_shapes_match_numpy_and_torch(sa, sb):
    a, b = values(sa, "float64"), values(sb, "float64")
    r = ember.matmul(as_ember(a, "float64"), as_ember(b, "float64"))
    expected = torch.matmul(torch.from_numpy(a), torch.from_numpy(b))
    assert tuple(r.shape) == tuple(expected.shape)
    assert r.dtype == ember.float64
    np.testing.assert_allclose(as_numpy(r), a @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dt", ["float32", "complex128", "int32", "int8"])
@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((3,), (3,)),
                                   ((2, 3), (3,)), ((3,), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4))])
def test_matmul_every_layout(dt, sa, sb):
    a, b = values(sa, dt), values(sb, dt)
    ref = reference(np.matmul, a, b, dt=dt)
    for ka, kb in itertools.product(LAYOUTS, repeat=2):
        ta, tb = layout(a, ka, dt), layout(b, kb, dt)
        assert np.array_equal(as_numpy(ta), a) and np.array_equal(as_numpy(tb), b)
        assert_close(ember.matmul(ta, tb), ref, dt, sa[-1])


def random_view(shape, dt, rng):
    """Values of `shape` in a random strided layout: dims permuted, spaced out and flipped."""
    x = values(shape, dt)
    nd = len(shape)
    perm = list(range(nd))
    if nd >= 2 and rng.random() < 0.5:
        perm[-1], perm[-2] = perm[-2], perm[-1]
    steps = [int(rng.choice([1, 2, -1])) for _ in range(nd)]
    base = np.zeros([shape[p] * abs(steps[p]) for p in perm], x.dtype)
    index = tuple(slice(None, None, s) for s in steps)
    inverse = list(np.argsort(perm))
    np.transpose(base, inverse)[index] = x
    t = ember.from_numpy(base).permute(*inverse)[index]
    assert np.array_equal(np.asarray(t), x)
    return t, x


@pytest.mark.parametrize("dt", ["float32", "float64", "complex64", "int32", "uint8"])
def test_matmul_random_layouts_and_broadcasts(dt):
    rng = np.random.default_rng(7)
    for _ in range(40):
        m, k, n = rng.integers(0, 5, 3) if rng.random() < 0.1 else rng.integers(1, 7, 3)
        batch = [int(b) for b in rng.integers(1, 4, rng.integers(0, 3))]
        sa = [b if rng.random() < 0.7 else 1 for b in batch][rng.integers(0, len(batch) + 1):]
        sb = [b if rng.random() < 0.7 else 1 for b in batch][rng.integers(0, len(batch) + 1):]
        sa = (k,) if rng.random() < 0.15 else tuple(sa) + (m, k)
        sb = (k,) if rng.random() < 0.15 else tuple(sb) + (k, n)
        (ta, a), (tb, b) = random_view(sa, dt, rng), random_view(sb, dt, rng)
        ref = reference(np.matmul, a, b, dt=dt)
        assert_close(ember.matmul(ta, tb), ref, dt, k)
        if ref.ndim and rng.random() < 0.5:       # a strided destination
            out, _ = random_view(ref.shape, dt, rng)
            assert ember.matmul(ta, tb, out=out) is out
            assert_close(out, ref, dt, k)


@pytest.mark.parametrize("dt", ["float64", "int64"])
def test_matmul_expanded_operands(dt):
    row = values((1, 4), dt)
    a = as_ember(row, dt).expand(3, 4)                  # zero row stride
    col = values((4, 1), dt)
    b = as_ember(col, dt).expand(4, 5)                  # zero column stride
    ref = reference(np.matmul, np.broadcast_to(row, (3, 4)), np.broadcast_to(col, (4, 5)), dt=dt)
    assert_close(a @ b, ref, dt, 4)
    # expanded batch dims (stride 0) on either side
    m = values((2, 4), dt)
    ab = as_ember(m, dt).expand(6, 2, 4)
    bb = as_ember(values((4, 3), dt), dt)
    assert_close(ab @ bb, reference(np.matmul, np.broadcast_to(m, (6, 2, 4)), np.asarray(bb), dt=dt), dt, 4)
    # a scalar broadcast to a whole vector
    v = as_ember(values((1,), dt), dt).expand(4)
    assert_close(ember.dot(v, v), reference(np.dot, np.asarray(v), np.asarray(v), dt=dt), dt, 4)


def test_matmul_non_foldable_batches():
    # batch stride that does not continue the rows (every other matrix), with a shared right
    # operand: one product per matrix instead of one folded product
    base = values((6, 3, 4), "float32")
    a = as_ember(base, "float32")[::2]
    b = as_ember(values((4, 5), "float32"), "float32")
    assert_close(a @ b, base[::2] @ np.asarray(b), "float32", 4)
    # per-matrix transposed left operand with a shared right operand
    at = as_ember(np.swapaxes(base, 1, 2), "float32").transpose(1, 2)
    assert_close(at @ b, base @ np.asarray(b), "float32", 4)


@pytest.mark.parametrize("dt", ALL_DTYPES)
def test_matmul_dtypes(dt):
    for sa, sb in [((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((5,), (5,)), ((3, 5), (5,)),
                   ((5,), (5, 2))]:
        a, b = values(sa, dt), values(sb, dt)
        ta, tb = as_ember(a, dt), as_ember(b, dt)
        r = ta @ tb
        assert r.dtype == getattr(ember, dt)
        expected = torch.matmul(as_torch(ta), as_torch(tb))
        assert str(expected.dtype).split(".")[1] == dt
        assert tuple(r.shape) == tuple(expected.shape)
        assert_close(r, reference(np.matmul, a, b, dt=dt), dt, 5)


@pytest.mark.parametrize("dt", ["int8", "uint8", "int16", "int32", "int64"])
def test_integer_matmul_wraps_like_torch(dt):
    a = np.full((2, 3), 100 if dt != "uint8" else 200, NP_DTYPES[dt])
    b = np.full((3, 2), 3, NP_DTYPES[dt])
    expected = torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_array_equal(as_numpy(ember.from_numpy(a) @ ember.from_numpy(b)), expected)


@pytest.mark.parametrize("dt", ["int32", "int64"])
def test_integer_matmul_large_parallel(dt):
    # big enough for the blocked kernel's OpenMP path and several column / depth blocks
    a, b = values((70, 300), dt), values((300, 270), dt)
    assert_close(as_ember(a, dt) @ as_ember(b, dt), reference(np.matmul, a, b, dt=dt), dt)
    ta = as_ember(np.ascontiguousarray(b.T), dt).t()   # strided (non-unit column) B
    assert_close(as_ember(a, dt) @ ta, reference(np.matmul, a, b, dt=dt), dt)


def test_float_matmul_large():
    a, b = values((130, 257), "float32"), values((257, 190), "float32")
    assert_close(as_ember(a, "float32") @ as_ember(b, "float32"), a.astype(np.float64) @ b,
                 "float32", 257)


def test_bool_is_not_implemented():
    a = ember.ones(2, 2, dtype=ember.bool)
    for fn in (ember.matmul, ember.mm, ember.addmm):
        with pytest.raises(NotImplementedError, match="Bool"):
            fn(a, a, a) if fn is ember.addmm else fn(a, a)
    with pytest.raises(NotImplementedError, match="Bool"):
        ember.dot(a[0], a[0])
    with pytest.raises(RuntimeError):              # NotImplementedError is a RuntimeError
        a @ a
    o = ember.outer(a[0], a[0])                    # outer is a product of elements: bool works
    assert o.dtype == ember.bool and o.shape == (2, 2)


# -------------------------------------------------------------------- empty dims

@pytest.mark.parametrize("dt", ["float32", "complex64", "int64", "float16"])
@pytest.mark.parametrize("sa,sb", [((0, 3), (3, 4)), ((2, 0), (0, 4)), ((2, 3), (3, 0)),
                                   ((0, 2, 3), (3, 4)), ((3, 0, 2), (3, 2, 5)), ((0,), (0,)),
                                   ((2, 0), (0,)), ((0,), (0, 3)), ((4, 2, 0), (0, 3))])
def test_empty_dims(dt, sa, sb):
    a, b = as_ember(values(sa, dt), dt), as_ember(values(sb, dt), dt)
    r = a @ b
    expected = torch.matmul(as_torch(a), as_torch(b))
    assert tuple(r.shape) == tuple(expected.shape)
    assert r.dtype == a.dtype
    assert np.all(as_numpy(r) == 0)


def test_k_zero_ignores_old_output_contents():
    out = ember.full((2, 4), float("nan"))
    ember.matmul(ember.ones(2, 0), ember.ones(0, 4), out=out)
    assert np.all(out.numpy() == 0)


# -------------------------------------------------------------------- out=

@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,)),
                                   ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 4), (4, 1))])
@pytest.mark.parametrize("dt", ["float64", "int32", "bfloat16"])
def test_out_is_written_without_reading_it(sa, sb, dt):
    a, b = values(sa, dt), values(sb, dt)
    ta, tb = as_ember(a, dt), as_ember(b, dt)
    ref = reference(np.matmul, a, b, dt=dt)
    fill = float("nan") if dt != "int32" else 77
    out = ember.full(ref.shape, fill, dtype=getattr(ember, dt))
    r = ember.matmul(ta, tb, out=out)
    assert r is out
    assert_close(out, ref, dt, sa[-1])


def test_out_non_contiguous_and_resized():
    a, b = values((3, 4), "float32"), values((4, 5), "float32")
    ta, tb = ember.from_numpy(a), ember.from_numpy(b)
    out = ember.empty(5, 3).t()                     # column-major destination
    ember.matmul(ta, tb, out=out)
    assert out.stride() == (1, 3)
    assert_close(out, a.astype(np.float64) @ b, "float32", 4)
    strided = ember.zeros(3, 10)[:, ::2]            # BLAS cannot write this: via a temporary
    ember.mm(ta, tb, out=strided)
    assert_close(strided, a.astype(np.float64) @ b, "float32", 4)
    empty = ember.empty(0)
    ember.matmul(ta, tb, out=empty)
    assert empty.shape == (3, 5)
    assert_close(empty, a.astype(np.float64) @ b, "float32", 4)
    batch_out = ember.empty(2, 5, 3).transpose(1, 2)
    ember.matmul(ta.expand(2, 3, 4), tb, out=batch_out)
    assert_close(batch_out, np.broadcast_to(a.astype(np.float64) @ b, (2, 3, 5)), "float32", 4)


def test_out_aliasing_an_input():
    a, b = values((4, 4), "float64"), values((4, 4), "float64")
    ta, tb = ember.from_numpy(a.copy()), ember.from_numpy(b.copy())
    ember.matmul(ta, tb, out=ta)
    np.testing.assert_allclose(ta.numpy(), a @ b, rtol=1e-12)
    ember.mm(ta, tb, out=tb)
    np.testing.assert_allclose(tb.numpy(), (a @ b) @ b, rtol=1e-12)


def test_out_errors():
    a = ember.ones(2, 3)
    b = ember.ones(3, 4)
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float, but got double"):
        ember.matmul(a, b, out=ember.empty(2, 4, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="single memory location"):
        ember.matmul(a, b, out=ember.empty(2, 1).expand(2, 4))
    with pytest.raises(TypeError):
        ember.matmul(a, b, out=np.empty((2, 4), np.float32))


# -------------------------------------------------------------------- named products

def test_mm_bmm_mv_dot_vdot_values():
    a, b = values((3, 4), "complex128"), values((4, 2), "complex128")
    np.testing.assert_allclose(ember.mm(ember.from_numpy(a), ember.from_numpy(b)).numpy(), a @ b)
    x, y = values((5, 3, 4), "float64"), values((5, 4, 2), "float64")
    np.testing.assert_allclose(ember.bmm(ember.from_numpy(x), ember.from_numpy(y)).numpy(), x @ y)
    v = values((4,), "float64")
    np.testing.assert_allclose(ember.mv(ember.from_numpy(x[0]), ember.from_numpy(v)).numpy(), x[0] @ v)
    p, q = values((6,), "complex64"), values((6,), "complex64")
    tp, tq = ember.from_numpy(p), ember.from_numpy(q)
    np.testing.assert_allclose(ember.dot(tp, tq).item(), np.dot(p, q), rtol=1e-5)
    np.testing.assert_allclose(ember.vdot(tp, tq).item(), np.vdot(p, q), rtol=1e-5)
    np.testing.assert_allclose(ember.vdot(tp[::-2], tq[::2]).item(), np.vdot(p[::-2], q[::2]),
                               rtol=1e-5)
    expected = torch.vdot(torch.from_numpy(p), torch.from_numpy(q)).item()
    np.testing.assert_allclose(ember.vdot(tp, tq).item(), expected, rtol=1e-5)
    r = ember.dot(ember.from_numpy(v), ember.from_numpy(v))
    assert r.shape == () and r.dtype == ember.float64


def test_outer_promotes_like_torch():
    a = ember.tensor([1, 2], dtype=ember.int32)
    b = ember.tensor([1.5, 2.0, 3.0], dtype=ember.float64)
    r = ember.outer(a, b)
    expected = torch.outer(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([1.5, 2.0, 3.0]).double())
    assert r.dtype == ember.float64 and tuple(r.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(r.numpy(), expected.numpy())
    assert ember.ger is ember.outer
    out = ember.empty(2, 3, dtype=ember.float64)
    assert ember.outer(a, b, out=out) is out
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_tensor_methods_and_operators():
    a, b = values((3, 4), "float64"), values((4, 5), "float64")
    ta, tb = ember.from_numpy(a), ember.from_numpy(b)
    np.testing.assert_allclose(ta.matmul(tb).numpy(), a @ b)
    np.testing.assert_allclose(ta.mm(tb).numpy(), a @ b)
    np.testing.assert_allclose((ta @ b).numpy(), a @ b)          # ndarray on the right
    r = a @ tb                                                     # ndarray on the left
    assert isinstance(r, ember.Tensor)
    np.testing.assert_allclose(r.numpy(), a @ b)
    np.testing.assert_allclose(ta.unsqueeze(0).bmm(tb.unsqueeze(0)).numpy(), (a @ b)[None])
    v = values((4,), "float64")
    np.testing.assert_allclose(ta.mv(ember.from_numpy(v)).numpy(), a @ v)
    tv = ember.from_numpy(v)
    assert tv.dot(tv).item() == pytest.approx(v @ v)
    assert tv.vdot(tv).item() == pytest.approx(v @ v)
    np.testing.assert_allclose(tv.outer(tv).numpy(), np.outer(v, v))
    np.testing.assert_allclose(tv.ger(tv).numpy(), np.outer(v, v))
    c = ember.from_numpy(values((3, 5), "float64"))
    np.testing.assert_allclose(c.addmm(ta, tb, beta=2).numpy(), 2 * c.numpy() + a @ b)
    with pytest.raises(TypeError):
        ta @ [[1.0] * 5] * 4
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        ember.matmul(ta, [[1.0]])


# -------------------------------------------------------------------- addmm & co.

@pytest.mark.parametrize("dt", ["float32", "float64", "complex128", "int64", "float16"])
def test_addmm_alpha_beta(dt):
    a, b = values((3, 4), dt), values((4, 5), dt)
    ta, tb = as_ember(a, dt), as_ember(b, dt)
    for shape in [(3, 5), (5,), (1, 5), (3, 1), ()]:
        c = values(shape, dt)
        tc = as_ember(c, dt)
        for beta, alpha in [(1, 1), (2, 3), (0, 2), (1, 0)]:
            r = ember.addmm(tc, ta, tb, beta=beta, alpha=alpha)
            ref = reference(lambda c, a, b: beta * c + alpha * (a @ b), c, a, b, dt=dt)
            assert_close(r, ref, dt, 4)


def test_addmm_beta_zero_ignores_nan_and_int_truncation():
    nan = ember.full((2, 2), float("nan"))
    r = ember.addmm(nan, ember.ones(2, 3), ember.ones(3, 2), beta=0)
    np.testing.assert_array_equal(r.numpy(), np.full((2, 2), 3.0))
    i = ember.full((2, 2), 3, dtype=ember.int64)
    ones = ember.ones(2, 3, dtype=ember.int64)
    r = ember.addmm(i, ones, ones.t(), beta=0.5, alpha=1.7)       # truncated to 0 and 1
    expected = torch.addmm(torch.full((2, 2), 3), torch.ones(2, 3, dtype=torch.int64),
                           torch.ones(3, 2, dtype=torch.int64), beta=0.5, alpha=1.7)
    np.testing.assert_array_equal(r.numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match="cannot be converted"):
        ember.addmm(ember.ones(2, 4), ember.ones(2, 3), ember.ones(3, 4), alpha=2j)
    with pytest.raises(TypeError, match="alpha"):
        ember.addmm(ember.ones(2, 4), ember.ones(2, 3), ember.ones(3, 4), alpha="x")


def test_addmm_out_and_inplace():
    a, b, c = values((3, 4), "float64"), values((4, 5), "float64"), values((3, 5), "float64")
    ta, tb, tc = ember.from_numpy(a), ember.from_numpy(b), ember.from_numpy(c.copy())
    out = ember.full((3, 5), float("nan"), dtype=ember.float64)
    ember.addmm(tc, ta, tb, beta=0.5, out=out)
    np.testing.assert_allclose(out.numpy(), 0.5 * c + a @ b)
    version = tc._version
    assert tc.addmm_(ta, tb, alpha=2) is tc
    assert tc._version > version
    np.testing.assert_allclose(tc.numpy(), c + 2 * (a @ b))
    sq = ember.from_numpy(values((4, 4), "float64"))
    ref = sq.numpy() + sq.numpy() @ sq.numpy()
    sq.addmm_(sq, sq)                                  # self is also both factors
    np.testing.assert_allclose(sq.numpy(), ref)
    with pytest.raises(RuntimeError, match="Bad in-place call"):
        ember.ones(1, 5, dtype=ember.float64).addmm_(ta, tb)


def test_addmv_baddbmm_addbmm():
    m, v, c = values((3, 4), "float64"), values((4,), "float64"), values((3,), "float64")
    r = ember.addmv(ember.from_numpy(c), ember.from_numpy(m), ember.from_numpy(v), beta=2, alpha=3)
    np.testing.assert_allclose(r.numpy(), 2 * c + 3 * (m @ v))
    x, y, z = values((5, 2, 3), "float32"), values((5, 3, 4), "float32"), values((2, 4), "float32")
    tx, ty, tz = ember.from_numpy(x), ember.from_numpy(y), ember.from_numpy(z)
    r = ember.baddbmm(tz, tx, ty, beta=0.5, alpha=2)
    np.testing.assert_allclose(r.numpy(), 0.5 * z + 2 * (x @ y), rtol=1e-5, atol=1e-5)
    assert tuple(r.shape) == tuple(torch.baddbmm(torch.from_numpy(z), torch.from_numpy(x),
                                                 torch.from_numpy(y)).shape)
    r = ember.addbmm(tz, tx, ty, beta=0.5, alpha=2)
    np.testing.assert_allclose(r.numpy(), 0.5 * z + 2 * (x @ y).sum(0), rtol=1e-5, atol=1e-5)
    ti = ember.from_numpy(values((5, 2, 3), "int16"))
    tj = ember.from_numpy(values((5, 3, 4), "int16"))
    r = ember.addbmm(ember.zeros(2, 4, dtype=ember.int16), ti, tj)
    np.testing.assert_array_equal(r.numpy(), (ti.numpy().astype(np.int64) @ tj.numpy()).sum(0))
    # no batches: beta * input
    r = ember.addbmm(tz, ember.ones(0, 2, 3), ember.ones(0, 3, 4), beta=2)
    np.testing.assert_allclose(r.numpy(), 2 * z)
    r = tz.clone().addbmm_(tx, ty)
    np.testing.assert_allclose(r.numpy(), z + (x @ y).sum(0), rtol=1e-5, atol=1e-5)
    r = ember.from_numpy(values((5, 2, 4), "float32")).baddbmm_(tx, ty, beta=0)
    np.testing.assert_allclose(r.numpy(), x @ y, rtol=1e-5, atol=1e-5)
    r = ember.from_numpy(c.copy()).addmv_(ember.from_numpy(m), ember.from_numpy(v))
    np.testing.assert_allclose(r.numpy(), c + m @ v)


# -------------------------------------------------------------------- errors against torch

# (function, operand shapes or (shape, dtype) pairs); every message is PyTorch's word for word
# except where matmul's batched mismatch names the full shapes (test_matmul_messages)
ERROR_CASES = [
    ("matmul", [(2, 3), (4, 5)]),
    ("matmul", [(3,), (4,)]),
    ("matmul", [(3,), (4, 5)]),
    ("matmul", [(2, 3), (4,)]),
    ("matmul", [(7, 2, 3), (6, 3, 5)]),
    ("matmul", [(), (3,)]),
    ("matmul", [(3,), ()]),
    ("matmul", [((2, 3), "float32"), ((3, 4), "float64")]),
    ("matmul", [((3,), "float32"), ((3,), "float64")]),
    ("matmul", [((2, 3), "int32"), ((3, 4), "int64")]),
    ("matmul", [((2, 3), "float16"), ((3, 4), "bfloat16")]),
    ("matmul", [((2, 3), "complex64"), ((3, 4), "complex128")]),
    ("mm", [(2, 3), (4, 5)]),
    ("mm", [(3,), (3, 3)]),
    ("mm", [(3, 3), (3,)]),
    ("mm", [((2, 3), "uint8"), ((3, 4), "int8")]),
    ("bmm", [(2, 3, 3), (3, 3)]),
    ("bmm", [(2, 3, 4), (3, 4, 3)]),
    ("bmm", [(2, 3, 4), (2, 3, 3)]),
    ("mv", [(3, 4), (3,)]),
    ("mv", [(3, 4), (3, 4)]),
    ("dot", [(3, 1), (3,)]),
    ("dot", [(3,), (4,)]),
    ("dot", [((3,), "float32"), ((3,), "float64")]),
    ("dot", [((3,), "bool"), ((3,), "bool")]),
    ("vdot", [(3,), (4,)]),
    ("outer", [(2, 2), (3,)]),
    ("addmm", [(2, 4), (3,), (3, 4)]),
    ("addmm", [(2, 4), (2, 3), (4, 4)]),
    ("addmm", [(3, 4), (2, 3), (3, 4)]),
    ("addmm", [((2, 4), "float64"), ((2, 3), "float32"), ((3, 4), "float32")]),
    ("addmv", [(2,), (2, 3), (4,)]),
    ("addmv", [(2, 2), (2, 3), (3,)]),
    ("addmv", [((2,), "float64"), ((2, 3), "float32"), ((3,), "float32")]),
    ("baddbmm", [(5, 2, 4), (5, 2, 3), (5, 4, 4)]),
    ("baddbmm", [(3, 2, 4), (5, 2, 3), (5, 3, 4)]),
    ("addbmm", [(2, 4), (5, 2, 3), (4, 3, 4)]),
    ("addbmm", [(2, 4), (5, 2, 3), (5, 4, 4)]),
]


@pytest.mark.parametrize("name,specs", ERROR_CASES)
def test_errors_match_torch(name, specs):
    em_args, th_args = [], []
    for spec in specs:
        shape, dt = spec if spec and isinstance(spec[0], tuple) else (spec, "float32")
        em_args.append(ember.ones(shape, dtype=getattr(ember, dt)))
        th_args.append(torch.ones(shape, dtype=getattr(torch, dt)))
    with pytest.raises(Exception) as torch_err:
        getattr(torch, name)(*th_args)
    with pytest.raises(torch_err.type) as ember_err:
        getattr(ember, name)(*em_args)
    assert str(ember_err.value) == str(torch_err.value).split("\n")[0]


def test_matmul_messages():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        ember.ones(2, 3) @ ember.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"\(7x2x3 and 7x4x5\)"):
        ember.ones(7, 2, 3) @ ember.ones(7, 4, 5)
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: "
                                           "float != double"):
        ember.ones(2, 3) @ ember.ones(3, 4, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="at least 1D"):
        ember.tensor(1.0) @ ember.ones(3)


def test_blas_int_limit_raises_before_allocating():
    big = 2 ** 31
    a = ember.zeros(1, 1).expand(2, big)
    b = ember.zeros(1, 1).expand(big, 2)
    with pytest.raises(RuntimeError, match="32-bit"):
        a @ b
    v = ember.zeros(1).expand(big)
    with pytest.raises(RuntimeError, match="32-bit"):
        ember.dot(v, v)
    h = ember.zeros(1, 1, dtype=ember.float16).expand(2, big)
    with pytest.raises(RuntimeError, match="32-bit"):
        ember.matmul(h, ember.zeros(1, 1, dtype=ember.float16).expand(big, 2))


@pytest.fixture
def two_threads():
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(before)


def scipy_blas_threads():
    import os

    import scipy
    from threadpoolctl import threadpool_info
    root = os.path.dirname(scipy.__file__)
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas" and
            i["filepath"].startswith((root + os.sep, root + ".libs" + os.sep))}


def test_blas_runs_on_embers_threads(two_threads):
    # set_num_threads sets every BLAS to n through threadpoolctl; SciPy's BLAS then goes
    # back to one thread at the next product, which ember's own threads share out
    assert ember.get_num_threads() == 2
    a = values((160, 160), "float64")
    np.testing.assert_allclose((ember.from_numpy(a) @ ember.from_numpy(a)).numpy(), a @ a)
    assert scipy_blas_threads() == {1}
    ember.set_num_threads(1)
    ember.set_num_threads(2)
    ember.from_numpy(a) @ ember.from_numpy(a)
    assert scipy_blas_threads() == {1}


@pytest.mark.parametrize("dt", ["float32", "complex128", "int32"])
def test_products_shared_out_across_threads(two_threads, dt):
    cases = [
        ((300, 64), (64, 200)),          # rows of C per thread
        ((40, 64), (64, 900)),           # columns of C per thread
        ((3000, 64), (64,)),             # rows of a matrix-vector product
        ((64,), (64, 3000)),             # columns of a vector-matrix product
        ((8, 64, 64), (8, 64, 64)),      # whole matrices per thread
        ((3, 90, 64), (3, 64, 90)),      # an odd batch: each product split instead
    ]
    for sa, sb in cases:
        a, b = values(sa, dt), values(sb, dt)
        ta = layout(a, "transposed", dt)
        assert_close(ta @ as_ember(b, dt), reference(np.matmul, a, b, dt=dt), dt, 64)
    x, y, z = values((3, 90, 64), dt), values((3, 64, 90), dt), values((90, 90), dt)
    r = ember.addbmm(as_ember(z, dt), as_ember(x, dt), as_ember(y, dt), beta=2)
    assert_close(r, reference(lambda z, x, y: 2 * z + (x @ y).sum(0), z, x, y, dt=dt), dt, 200)
