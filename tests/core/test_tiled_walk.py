"""Elementwise ops whose operands are transposed against each other, above the threading
grain: the iterator walks such spaces in cache tiles, copying the transposed inputs across
into rows of a scratch tile first (or gathering them in place when it does not know their
element sizes).  Checked against NumPy for every dtype kind, shapes that leave partial tiles,
permuted 3-D views, negative and step strides, broadcasting, in place, out=, and one and
two threads."""
import numpy as np
import pytest

import ember

# above the 32768-element grain; (257, 513) leaves partial tiles on both edges, (300, 4500)
# more than one tile across for every element size (copied tiles are 64 rows of 16 KiB)
SHAPES = [(300, 400), (257, 513), (129, 1030), (2000, 70), (300, 4500)]
# below the grain: copied tiles from an extent of 128 on (either dim), the row walk below
SMALL_SHAPES = [(128, 128), (127, 127), (130, 5), (5, 130), (200, 150), (64, 96)]
DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128"]


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    saved = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(saved)


def make(shape, dtype, seed):
    """A contiguous tensor of `dtype` holding small integers, whose sums and products are
    exact in the 16-bit floats too."""
    rng = np.random.default_rng(seed)
    high = 16 if dtype in ("float16", "bfloat16") else 60
    values = rng.integers(1, high, size=shape).astype(np.float64)
    t = ember.from_numpy(values).to(getattr(ember, dtype))
    if dtype.startswith("complex"):
        t = t + ember.from_numpy(rng.integers(-9, 9, size=shape).astype(np.float64)).to(t.dtype) * 1j
    return t


def as_numpy(t):
    """`t`'s values in a dtype NumPy has (16-bit floats widen to float32, exactly)."""
    if t.dtype in (ember.float16, ember.bfloat16):
        t = t.float()
    return t.numpy()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_with_transposed_input(shape, dtype, threads):
    x = make(shape[::-1], dtype, 1)      # read through x.T
    y = make(shape, dtype, 2)
    xt, yn = as_numpy(x).T, as_numpy(y)
    for result, expected in [(x.T + y, xt + yn), (y - x.T, yn - xt), (x.T * y, xt * yn)]:
        assert result.shape == shape
        np.testing.assert_array_equal(as_numpy(result), expected.astype(as_numpy(result).dtype))


@pytest.mark.parametrize("shape", SMALL_SHAPES)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32", "float64", "complex128"])
def test_small_binary_with_transposed_input(shape, dtype):
    x = make(shape[::-1], dtype, 4)
    y = make(shape, dtype, 5)
    xt, yn = as_numpy(x).T, as_numpy(y)
    np.testing.assert_array_equal(as_numpy(x.T + y), xt + yn)
    np.testing.assert_array_equal(as_numpy(x.T * 3 - y), (xt * 3 - yn).astype(xt.dtype))
    # through a sliced view: the transposed operand starts mid-row
    z = make((shape[1] + 3, shape[0] + 2), dtype, 6)
    np.testing.assert_array_equal(as_numpy(z[3:, 2:].T + y), as_numpy(z)[3:, 2:].T + yn)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
def test_unary_into_transposed_layout(shape, dtype, threads):
    x = make(shape[::-1], dtype, 3)
    out = ember.empty(shape, dtype=getattr(ember, dtype))
    ember.neg(x.T, out=out)
    np.testing.assert_array_equal(as_numpy(out), -as_numpy(x).T)
    ember.abs(out, out=x.T)                      # the output transposed against the input
    np.testing.assert_array_equal(as_numpy(x), np.abs(as_numpy(out)).T)


@pytest.mark.parametrize("shape", SHAPES[:2])
def test_float_functions(shape, threads):
    x = make(shape[::-1], "float64", 4) / 7.0
    y = make(shape, "float64", 5) / 5.0
    xt, yn = x.numpy().T, y.numpy()
    np.testing.assert_allclose(ember.exp(x.T).numpy(), np.exp(xt), rtol=1e-14)
    out = ember.empty(shape, dtype=ember.float64)
    np.testing.assert_allclose(ember.exp(x.T, out=out).numpy(), np.exp(xt), rtol=1e-14)
    np.testing.assert_allclose(ember.atan2(y, x.T).numpy(), np.arctan2(yn, xt), rtol=1e-14)
    np.testing.assert_array_equal(ember.maximum(x.T, y).numpy(), np.maximum(xt, yn))
    np.testing.assert_array_equal(ember.where(x.T > y, x.T, y).numpy(), np.where(xt > yn, xt, yn))
    np.testing.assert_array_equal((x.T > y).numpy(), xt > yn)


@pytest.mark.parametrize("perm", [(0, 2, 1), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_permuted_3d(perm, threads):
    x = make((6, 90, 130), "float32", 6)
    shape = tuple(x.shape[p] for p in perm)
    y = make(shape, "float32", 7)
    np.testing.assert_array_equal((x.permute(*perm) + y).numpy(), x.numpy().transpose(perm) + y.numpy())
    np.testing.assert_array_equal((y * x.permute(*perm)).numpy(), y.numpy() * x.numpy().transpose(perm))


def test_negative_and_step_strides(threads):
    x = make((1200, 300), "float32", 8)
    y = make((300, 600), "float32", 9)
    xs = x[::2].flip(0)                          # (600, 300): step 2, walked backwards
    expected = x.numpy()[::2][::-1].T + y.numpy()
    np.testing.assert_array_equal((xs.T + y).numpy(), expected)
    np.testing.assert_array_equal((y.flip(1) + xs.T.flip(1)).numpy(), expected[:, ::-1])


def test_broadcast_with_transposed(threads):
    x = make((500, 300), "float64", 10)
    col = make((300, 1), "float64", 11)
    row = make((500,), "float64", 12)
    np.testing.assert_array_equal((x.T + col).numpy(), x.numpy().T + col.numpy())
    np.testing.assert_array_equal((x.T * row + col).numpy(), x.numpy().T * row.numpy() + col.numpy())
    s = ember.tensor(2.5, dtype=ember.float64)
    np.testing.assert_array_equal((x.T - s).numpy(), x.numpy().T - 2.5)


def test_in_place_and_out(threads):
    x = make((400, 350), "float32", 13)
    y = make((350, 400), "float32", 14)
    expected = x.numpy().T + 2 * y.numpy()
    x.T.add_(y, alpha=2)
    np.testing.assert_array_equal(x.numpy().T, expected)
    out = ember.empty((400, 350)).T              # a transposed out=
    ember.mul(y, y, out=out)
    np.testing.assert_array_equal(out.numpy(), y.numpy() * y.numpy())


def test_bool_and_complex_outputs(threads):
    a = make((300, 200), "complex128", 15)
    b = make((200, 300), "complex128", 16)
    np.testing.assert_array_equal((a.T == b).numpy(), a.numpy().T == b.numpy())
    np.testing.assert_allclose(ember.abs(a.T).numpy(), np.abs(a.numpy().T), rtol=1e-15)
    np.testing.assert_array_equal((a.T * b).numpy(), a.numpy().T * b.numpy())
    m = make((300, 200), "int32", 17) > 30
    n = make((200, 300), "int32", 18) > 30
    np.testing.assert_array_equal((m.T & n).numpy(), m.numpy().T & n.numpy())


def test_several_transposed_inputs(threads):
    a = make((700, 520), "float32", 20)
    b = make((700, 520), "float64", 21)
    c = make((520, 700), "float64", 22)
    cond = a > 30
    got = ember.where(cond.T, a.T.double(), b.T) + c
    want = np.where(cond.numpy().T, a.numpy().T, b.numpy().T) + c.numpy()
    np.testing.assert_array_equal(got.numpy(), want)
    got = ember.addcmul(c, a.T.double(), b.T, value=0.5)
    np.testing.assert_array_equal(got.numpy(), c.numpy() + 0.5 * a.numpy().T * b.numpy().T)


@pytest.mark.parametrize("dtype", ["float32", "int16", "complex64"])
def test_large_results_streamed_past_the_cache(dtype, threads):
    # 32 MiB and more of results are written with non-temporal stores, tile row by tile row
    rows = (1 << 25) // (ember.empty(0, dtype=getattr(ember, dtype)).element_size() * 4100) + 3
    x = make((4100, rows), dtype, 23)
    y = make((rows, 4100), dtype, 24)
    got = x.T + y
    assert got.nbytes >= 1 << 25
    np.testing.assert_array_equal(as_numpy(got), as_numpy(x).T + as_numpy(y))
    got = y - x.T
    np.testing.assert_array_equal(as_numpy(got), as_numpy(y) - as_numpy(x).T)
