"""Random number generation: Philox stream, generators, samplers and their errors."""
import math
import pickle
import warnings

import numpy as np
import pytest
import scipy.stats
import torch

import ember
from ember._core._random import _philox4x32_10

M64 = (1 << 64) - 1


def arr(t):
    """A tensor's values as a float64 or int64 NumPy array."""
    a = np.asarray(t)
    if a.dtype.kind == "V" or str(a.dtype) == "bfloat16":
        return a.astype(np.float64)
    return a


# ---------------------------------------------------------------- the Philox stream

def philox_reference(ctr, key):
    """Philox4x32-10 written from the paper, independent of the C header."""
    c = list(ctr)
    k0, k1 = key
    for rnd in range(10):
        if rnd:
            k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
            k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & 0xFFFFFFFF, (p0 >> 32) ^ c[3] ^ k1, p0 & 0xFFFFFFFF]
    return tuple(c)


def block(seed, offset, b):
    """The four words of Philox block b of generator state (seed, offset)."""
    ctr = (b & 0xFFFFFFFF, b >> 32, offset & 0xFFFFFFFF, offset >> 32)
    return philox_reference(ctr, (seed & 0xFFFFFFFF, seed >> 32))


def word64(w, half):
    return w[2 * half] | (w[2 * half + 1] << 32)


@pytest.mark.parametrize("ctr,key,expected", [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_known_answers(ctr, key, expected):
    # Random123's published known-answer vectors
    assert _philox4x32_10(ctr, key) == expected
    assert philox_reference(ctr, key) == expected


def test_stream_layout_float32_float64():
    seed = 0x0123456789ABCDEF
    g = ember.Generator().manual_seed(seed)
    got = arr(ember.rand(10, generator=g))
    want = [(block(seed, 0, i // 4)[i % 4] >> 8) * 2.0 ** -24 for i in range(10)]
    np.testing.assert_array_equal(got, np.array(want, dtype=np.float32))
    assert g.get_offset() == 3
    got = arr(ember.rand(5, generator=g, dtype=ember.float64))
    want = [(word64(block(seed, 3, i // 2), i % 2) >> 11) * 2.0 ** -53 for i in range(5)]
    np.testing.assert_array_equal(got, want)
    assert g.get_offset() == 6


@pytest.mark.parametrize("low,high", [(-5, 7), (0, 2 ** 32), (-(2 ** 40), 2 ** 41),
                                      (-(2 ** 63), 2 ** 63 - 1), (3, 2 ** 32 + 4)])
def test_stream_layout_randint(low, high):
    seed = 99
    g = ember.Generator().manual_seed(seed)
    got = arr(ember.randint(low, high, (7,), generator=g)).tolist()
    rng = high - low
    want = []
    for i in range(7):
        if rng <= 2 ** 32:
            # a 64-bit draw scaled by multiplication (no modulo bias)
            v = (word64(block(seed, 0, i // 2), i % 2) * rng) >> 64
        else:
            w = block(seed, 0, i)
            v = ((word64(w, 1) << 64 | word64(w, 0)) * rng) >> 128
        want.append(low + v)
    assert got == want
    assert all(low <= v < high for v in got)


def test_prefix_property_and_offsets():
    # value i depends only on (seed, offset, i)
    ember.manual_seed(5)
    long = arr(ember.randn(1001))
    ember.manual_seed(5)
    short = arr(ember.randn(9))
    np.testing.assert_array_equal(long[:9], short)
    g = ember.Generator().manual_seed(1)
    ember.rand(10, generator=g)
    assert g.get_offset() == 3
    ember.randint(0, 5, (3,), generator=g)   # 2 per block
    assert g.get_offset() == 5
    ember.randint(0, 2 ** 40, (3,), generator=g)   # 1 per block
    assert g.get_offset() == 8
    ember.randn(3, generator=g, dtype=ember.float64)
    assert g.get_offset() == 10
    ember.rand(0, generator=g)
    assert g.get_offset() == 10


# ---------------------------------------------------------------- determinism and state

SAMPLERS = {
    "rand": lambda g: ember.rand(3, 4, generator=g),
    "randn": lambda g: ember.randn(50, generator=g),
    "randn64": lambda g: ember.randn(7, dtype=ember.float64, generator=g),
    "randint": lambda g: ember.randint(-3, 100, (20,), generator=g),
    "randperm": lambda g: ember.randperm(30, generator=g),
    "uniform_": lambda g: ember.empty(9).uniform_(-2, 5, generator=g),
    "normal_": lambda g: ember.empty(9).normal_(1, 3, generator=g),
    "random_": lambda g: ember.empty(9, dtype=ember.int32).random_(generator=g),
    "bernoulli_": lambda g: ember.empty(40).bernoulli_(0.3, generator=g),
    "exponential_": lambda g: ember.empty(9).exponential_(2.0, generator=g),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_seed_same_numbers(name):
    f = SAMPLERS[name]
    a = arr(f(ember.Generator().manual_seed(42)))
    b = arr(f(ember.Generator().manual_seed(42)))
    c = arr(f(ember.Generator().manual_seed(43)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    g = ember.Generator().manual_seed(42)
    f(g)
    assert not np.array_equal(arr(f(g)), a)   # successive calls give fresh numbers


def test_global_seed_and_independent_generators():
    ember.manual_seed(7)
    a = arr(ember.rand(5))
    g = ember.Generator().manual_seed(7)
    ember.manual_seed(7)
    b1 = arr(ember.rand(5, generator=g))
    # drawing from g did not advance the default generator
    np.testing.assert_array_equal(arr(ember.rand(5)), a)
    np.testing.assert_array_equal(b1, a)
    assert ember.initial_seed() == 7


def test_manual_seed_returns_and_wraps():
    assert ember.manual_seed(3) is ember.default_generator
    assert ember.manual_seed(2.0).initial_seed() == 2       # int(seed), as torch
    g = ember.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert g.manual_seed(-1) is g
    assert g.initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    assert g.manual_seed(-(2 ** 63)).initial_seed() == 2 ** 63
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and g.initial_seed() == s
    s = ember.seed()
    assert ember.initial_seed() == s


def test_state_round_trip():
    g = ember.Generator().manual_seed(11)
    ember.randn(13, generator=g)
    state = g.get_state()
    assert state.dtype == ember.uint8 and state.shape == (16,)
    a = arr(ember.randn(20, generator=g))
    g.set_state(state)
    np.testing.assert_array_equal(arr(ember.randn(20, generator=g)), a)
    other = ember.Generator().set_state(state)
    ember.randn(20, generator=other)
    assert other.get_offset() == g.get_offset()
    s = ember.get_rng_state()
    x = arr(ember.rand(8))
    ember.set_rng_state(s)
    np.testing.assert_array_equal(arr(ember.rand(8)), x)
    # get_state is a copy: drawing does not change it
    before = arr(s).copy()
    ember.rand(8)
    np.testing.assert_array_equal(arr(s), before)


def test_state_errors_match_torch():
    g, tg = ember.Generator(), torch.Generator()
    for bad, tbad in [([1, 2], [1, 2]), (ember.zeros(16), torch.zeros(16))]:
        with pytest.raises(TypeError):
            tg.set_state(tbad)
        with pytest.raises(TypeError, match="uint8"):
            g.set_state(bad)
    with pytest.raises(RuntimeError, match="16 bytes.*3"):
        g.set_state(ember.zeros(3, dtype=ember.uint8))
    for bad in (1.5, "3", True):
        with pytest.raises(RuntimeError, match="manual_seed expected a long"):
            g.manual_seed(bad)
        with pytest.raises(RuntimeError):
            tg.manual_seed(bad)
    with pytest.raises(ValueError):
        g.manual_seed(2 ** 64)
    with pytest.raises(ValueError):
        g.set_offset(-1)


def test_generator_pickle_and_device():
    g = ember.Generator(device="cpu").manual_seed(9)
    ember.rand(7, generator=g)
    h = pickle.loads(pickle.dumps(g))
    assert h.initial_seed() == 9 and h.get_offset() == g.get_offset()
    np.testing.assert_array_equal(arr(ember.rand(4, generator=h)), arr(ember.rand(4, generator=g)))
    assert g.device == ember.device("cpu")
    cuda_gen = ember.Generator(device="cuda")
    assert cuda_gen.device.type == "cuda"
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator"):
        ember.rand(3, generator=cuda_gen)
    with pytest.raises(TypeError, match="Generator"):
        ember.rand(3, generator=3)


def test_thread_count_does_not_change_results():
    calls = [
        lambda: ember.rand(300_001),
        lambda: ember.rand(100_003, dtype=ember.float64),
        lambda: ember.randn(300_001),
        lambda: ember.randn(100_003, dtype=ember.complex128),
        lambda: ember.randint(-7, 1000, (200_001,)),
        lambda: ember.randint(0, 2 ** 50, (100_001,)),
        lambda: ember.empty(100_001).bernoulli_(0.25),
        lambda: ember.empty(100_001, dtype=ember.float64).exponential_(),
        lambda: ember.randperm(100_000),
    ]
    old = ember.get_num_threads()
    try:
        results = {}
        for threads in (1, 2):
            ember.set_num_threads(threads)
            ember.manual_seed(123)
            results[threads] = [arr(f()) for f in calls]
        for a, b in zip(results[1], results[2]):
            np.testing.assert_array_equal(a, b)
    finally:
        ember.set_num_threads(old)


# ---------------------------------------------------------------- distributions

def test_normal_moments_and_ks():
    g = ember.Generator().manual_seed(2024)
    for dt in (ember.float32, ember.float64):
        z = arr(ember.randn(1_000_000, generator=g, dtype=dt)).astype(np.float64)
        assert abs(z.mean()) < 0.004
        assert abs(z.std() - 1) < 0.004
        assert abs(np.mean(np.abs(z) > 3) - 0.0026998) < 0.0003
        assert scipy.stats.kstest(z[:200_000], "norm").pvalue > 1e-3
    x = arr(ember.empty(200_000).normal_(3.0, 0.5, generator=g))
    assert abs(x.mean() - 3) < 0.01 and abs(x.std() - 0.5) < 0.005


def test_complex_normal_and_uniform():
    g = ember.Generator().manual_seed(8)
    z = arr(ember.randn(200_000, dtype=ember.complex64, generator=g))
    # each part carries half the variance, as torch.randn does
    assert abs(z.real.std() - math.sqrt(0.5)) < 0.005
    assert abs(z.imag.std() - math.sqrt(0.5)) < 0.005
    u = arr(ember.rand(100_000, dtype=ember.complex128, generator=g))
    for part in (u.real, u.imag):
        assert part.min() >= 0 and part.max() < 1 and abs(part.mean() - 0.5) < 0.01


def test_uniform_ks_and_histogram():
    g = ember.Generator().manual_seed(77)
    for dt in (ember.float32, ember.float64):
        u = arr(ember.rand(200_000, generator=g, dtype=dt))
        assert u.min() >= 0 and u.max() < 1
        assert scipy.stats.kstest(u, "uniform").pvalue > 1e-3
        counts, _ = np.histogram(u, bins=20, range=(0, 1))
        assert scipy.stats.chisquare(counts).pvalue > 1e-3
    x = arr(ember.empty(100_000).uniform_(-3, 5, generator=g))
    assert x.min() >= -3 and x.max() < 5
    assert scipy.stats.kstest(x, "uniform", args=(-3, 8)).pvalue > 1e-3


@pytest.mark.parametrize("dt,bits", [(ember.float16, 11), (ember.bfloat16, 8)])
def test_low_precision_uniform_stays_below_one(dt, bits):
    u = arr(ember.rand(100_000, dtype=dt, generator=ember.Generator().manual_seed(1)))
    assert u.min() >= 0 and u.max() < 1
    # values are multiples of 2^-bits, so all of [0, 1) is reachable
    np.testing.assert_array_equal(u * 2 ** bits, np.round(u * 2 ** bits))
    assert len(np.unique(u)) > 2 ** bits * 0.9


def test_uniform_upper_bound_is_exclusive_after_rounding():
    # x * (to - from) + from can round up to `to` in float32; the kernel clamps
    x = arr(ember.empty(400_000).uniform_(1.0, 2.0, generator=ember.Generator().manual_seed(3)))
    assert x.max() < 2.0 and x.min() >= 1.0
    np.testing.assert_array_equal(arr(ember.zeros(4).uniform_(2.5, 2.5)), 2.5)


@pytest.mark.parametrize("low,high", [(0, 10), (-7, 6), (5, 6), (0, 1000)])
def test_randint_covers_range_uniformly(low, high):
    x = arr(ember.randint(low, high, (200_000,), generator=ember.Generator().manual_seed(4)))
    assert x.dtype == np.int64 and x.min() == low and x.max() == high - 1
    counts = np.bincount(x - low, minlength=high - low)
    if high - low > 1:
        assert scipy.stats.chisquare(counts).pvalue > 1e-3


def test_randint_wide_ranges_are_unbiased():
    g = ember.Generator().manual_seed(6)
    # a range just above 2^63: modulo of a 64-bit draw would favour the low half 2:1
    lo, hi = -(2 ** 62), 2 ** 63 - 1
    x = arr(ember.randint(lo, hi, (100_000,), generator=g)).astype(object)
    mid = lo + (hi - lo) // 2
    assert abs(np.mean(x < mid) - 0.5) < 0.01
    full = arr(ember.randint(-(2 ** 63), 2 ** 63 - 1, (100_000,), generator=g))
    assert abs(np.mean(full < 0) - 0.5) < 0.01


def test_randperm_is_permutation():
    g = ember.Generator().manual_seed(10)
    for n in (0, 1, 2, 5, 31, 33, 64, 1000, 65_537):
        p = arr(ember.randperm(n, generator=g))
        assert p.dtype == np.int64
        np.testing.assert_array_equal(np.sort(p), np.arange(n))
    # every position is equally likely to hold 0
    firsts = [int(arr(ember.randperm(4, generator=g))[0]) for _ in range(4000)]
    assert scipy.stats.chisquare(np.bincount(firsts, minlength=4)).pvalue > 1e-3
    # and neighbouring elements show no order preference
    p = arr(ember.randperm(100_000, generator=g))
    assert abs(np.mean(np.diff(p) > 0) - 0.5) < 0.01


@pytest.mark.parametrize("dt", [ember.int8, ember.uint8, ember.int16, ember.int32,
                                ember.float16, ember.bfloat16, ember.float32, ember.float64])
def test_randperm_dtypes(dt):
    n = 100
    p = ember.randperm(n, dtype=dt)
    assert p.dtype == dt
    np.testing.assert_array_equal(np.sort(arr(p).astype(np.int64)), np.arange(n))


def test_bernoulli_and_exponential():
    g = ember.Generator().manual_seed(12)
    b = arr(ember.empty(200_000).bernoulli_(0.3, generator=g))
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.005
    assert arr(ember.empty(100).bernoulli_(0.0)).sum() == 0
    assert arr(ember.empty(100).bernoulli_(1.0)).sum() == 100
    ints = ember.zeros(1000, dtype=ember.int64).bernoulli_(generator=g)
    assert ints.dtype == ember.int64 and 400 < arr(ints).sum() < 600
    e = arr(ember.empty(200_000, dtype=ember.float64).exponential_(4.0, generator=g))
    assert e.min() > 0 and abs(e.mean() - 0.25) < 0.003
    assert scipy.stats.kstest(e[:100_000], "expon", args=(0, 0.25)).pvalue > 1e-3
    np.testing.assert_array_equal(arr(ember.empty(5).exponential_(float("inf"))), 0)


def test_bernoulli_tensor_probabilities():
    g = ember.Generator().manual_seed(13)
    p = ember.tensor([0.0, 1.0, 0.5])
    x = ember.zeros(4000, 3).bernoulli_(p, generator=g)
    xa = arr(x)
    assert (xa[:, 0] == 0).all() and (xa[:, 1] == 1).all()
    assert abs(xa[:, 2].mean() - 0.5) < 0.05
    y = ember.bernoulli(ember.full((2000,), 0.2, dtype=ember.float64), generator=g)
    assert y.dtype == ember.float64 and abs(arr(y).mean() - 0.2) < 0.03
    assert ember.tensor([0.0, 1.0]).bernoulli().tolist() == [0.0, 1.0]
    q = ember.bernoulli(ember.zeros(3), 1.0)
    assert q.tolist() == [1.0, 1.0, 1.0]
    # probabilities that require grad are read, not refused (torch draws from them too)
    p = ember.tensor([0.0, 1.0], dtype=ember.float64, requires_grad=True)
    assert ember.bernoulli(p, generator=g).tolist() == [0.0, 1.0]
    # a scalar probability and a filled tensor draw the same numbers
    a = ember.empty(50).bernoulli_(0.4, generator=ember.Generator().manual_seed(2))
    b = ember.empty(50).bernoulli_(ember.full((50,), 0.4, dtype=ember.float64),
                                   generator=ember.Generator().manual_seed(2))
    np.testing.assert_array_equal(arr(a), arr(b))


def test_normal_function_overloads():
    g = ember.Generator().manual_seed(14)
    mean = ember.arange(3, dtype=ember.float32) * 100
    x = ember.normal(mean, 1e-3, generator=g)
    assert x.shape == (3,) and np.allclose(arr(x), [0, 100, 200], atol=0.1)
    y = ember.normal(ember.zeros(2, 1), ember.ones(3), generator=g)
    assert y.shape == (2, 3) and y.dtype == ember.float32
    z = ember.normal(5.0, ember.zeros(4, dtype=ember.float64))
    assert z.dtype == ember.float64 and arr(z).tolist() == [5.0] * 4
    w = ember.normal(2.0, 3.0, (1000,), generator=g)
    assert w.shape == (1000,) and abs(arr(w).mean() - 2) < 0.4
    with pytest.raises(RuntimeError, match="std >= 0"):
        ember.normal(ember.zeros(2), ember.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="size"):
        ember.normal(0.0, 1.0)


def test_random_defaults_match_torch_ranges():
    g = ember.Generator().manual_seed(15)
    tg = torch.Generator().manual_seed(15)
    for dt, tdt in [(ember.bool, torch.bool), (ember.uint8, torch.uint8), (ember.int8, torch.int8),
                    (ember.float16, torch.float16), (ember.bfloat16, torch.bfloat16)]:
        x = arr(ember.zeros(100_000, dtype=dt).random_(generator=g)).astype(np.float64)
        t = torch.zeros(100_000, dtype=tdt).random_(generator=tg).double().numpy()
        assert x.min() == t.min() == 0 and x.max() == t.max()
    x = arr(ember.zeros(100_000, dtype=ember.int16).random_(generator=g))
    assert x.min() >= 0 and x.max() > 32000
    big = arr(ember.zeros(1000, dtype=ember.int64).random_(generator=g))
    assert big.min() >= 0 and big.max() > 2 ** 60
    x = arr(ember.zeros(100, dtype=ember.int64).random_(5, generator=g))
    assert x.min() >= 0 and x.max() < 5
    x = arr(ember.zeros(100, dtype=ember.int64).random_(-3, 2, generator=g))
    assert x.min() == -3 and x.max() == 1
    x = arr(ember.zeros(100, dtype=ember.int32).random_(**{"from": -5}, generator=g))
    assert x.min() >= -5


# ---------------------------------------------------------------- dtypes, shapes, layouts

@pytest.mark.parametrize("dt", [ember.float16, ember.bfloat16, ember.float32, ember.float64,
                                ember.complex64, ember.complex128])
def test_float_dtypes(dt):
    assert ember.rand(3, dtype=dt).dtype == dt
    assert ember.randn(3, dtype=dt).dtype == dt
    assert ember.empty(3, dtype=dt).uniform_().dtype == dt
    assert ember.empty(3, dtype=dt).normal_().dtype == dt
    assert ember.empty(3, dtype=dt).uniform_(-1, 1).dtype == dt


def test_default_dtype_is_followed():
    old = ember.get_default_dtype()
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.rand(2).dtype == ember.float64 and ember.randn(2).dtype == ember.float64
    finally:
        ember.set_default_dtype(old)
    assert ember.randint(3, (2,)).dtype == ember.int64
    assert ember.randperm(3).dtype == ember.int64


@pytest.mark.parametrize("dt", [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32,
                                ember.int64, ember.float16, ember.bfloat16, ember.float32,
                                ember.float64])
def test_randint_dtypes(dt):
    hi = 2 if dt == ember.bool else 100
    x = ember.randint(0, hi, (500,), dtype=dt)
    assert x.dtype == dt
    v = arr(x).astype(np.float64)
    assert v.min() == 0 and v.max() == hi - 1
    np.testing.assert_array_equal(v, np.round(v))


@pytest.mark.parametrize("fn", [ember.rand, ember.randn])
def test_shapes(fn):
    assert fn(2, 3).shape == (2, 3)
    assert fn((2, 3)).shape == (2, 3)
    assert fn([4]).shape == (4,)
    assert fn(ember.Size([2, 2])).shape == (2, 2)
    assert fn(size=(2, 3)).shape == (2, 3)
    assert fn(()).shape == () and fn([]).shape == ()
    assert fn(()).ndim == 0
    assert fn(0).shape == (0,) and fn(2, 0, 3).shape == (2, 0, 3)
    assert ember.randint(5, ()).shape == ()
    assert ember.randint(5, (0, 2)).shape == (0, 2)
    assert ember.randint(5, [3]).shape == (3,)


def test_inplace_on_empty_and_zero_dim():
    g = ember.Generator().manual_seed(3)
    for t in (ember.empty(0), ember.empty(3, 0), ember.empty(())):
        for fill in (t.uniform_, t.normal_, t.bernoulli_, t.exponential_):
            assert fill(generator=g).shape == t.shape
        assert t.random_(0, 5, generator=g).shape == t.shape
    # empty requests use no counters; a 0-d one uses one block
    assert g.get_offset() == 5
    x = ember.tensor(0.0).uniform_(2, 3)
    assert x.ndim == 0 and 2 <= x.item() < 3


def test_noncontiguous_inplace_follows_logical_order():
    def logical(fill, shape):
        g = ember.Generator().manual_seed(21)
        return arr(fill(ember.empty(*shape), g))

    fills = [lambda t, g: t.uniform_(generator=g), lambda t, g: t.normal_(generator=g),
             lambda t, g: t.random_(0, 1000, generator=g), lambda t, g: t.bernoulli_(generator=g),
             lambda t, g: t.exponential_(generator=g)]
    for fill in fills:
        want = logical(fill, (5, 4))
        # transposed view
        base = ember.zeros(4, 5)
        fill(base.t(), ember.Generator().manual_seed(21))
        np.testing.assert_array_equal(arr(base).T, want)
        # negative strides
        base = ember.zeros(5, 4)
        fill(base[::-1], ember.Generator().manual_seed(21))
        np.testing.assert_array_equal(arr(base)[::-1], want)
    # strided slice leaves the other elements alone
    base = ember.zeros(10)
    base[::2].uniform_(5, 6)
    b = arr(base)
    assert (b[1::2] == 0).all() and (b[::2] >= 5).all()
    # other dtypes through a contiguous temporary
    base = ember.zeros(6, 4, dtype=ember.float16)
    base.t().normal_()
    assert base.dtype == ember.float16 and np.isfinite(arr(base)).all()


def test_inplace_returns_self_and_bumps_version():
    x = ember.zeros(5)
    v = x._version
    assert x.uniform_() is x
    assert x.normal_() is x and x.random_(3) is x and x.bernoulli_() is x
    assert x.exponential_() is x
    assert x._version >= v + 5


def test_expanded_target_raises():
    x = ember.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        x.uniform_()
    with pytest.raises(RuntimeError, match="single memory location"):
        x.normal_()


def test_like_functions():
    src = ember.zeros(3, 4, dtype=ember.float64)
    assert ember.rand_like(src).dtype == ember.float64 and ember.rand_like(src).shape == (3, 4)
    assert ember.randn_like(src, dtype=ember.float16).dtype == ember.float16
    assert ember.rand_like(ember.zeros(3, 4).t()).stride() == (1, 4)   # preserve_format
    r = ember.randint_like(src, 5)
    assert r.dtype == ember.float64 and arr(r).max() < 5
    r = ember.randint_like(ember.zeros(100, dtype=ember.int32), 2, 5)
    assert r.dtype == ember.int32 and arr(r).min() >= 2 and arr(r).max() < 5
    r = ember.randint_like(src, low=2, high=5)
    assert arr(r).min() >= 2
    g = ember.Generator().manual_seed(1)
    a = ember.rand_like(src, generator=g)
    b = ember.rand(3, 4, dtype=ember.float64, generator=ember.Generator().manual_seed(1))
    np.testing.assert_array_equal(arr(a), arr(b))
    with pytest.raises(NotImplementedError):
        ember.rand_like(ember.zeros(2, dtype=ember.int32))


def test_out_and_requires_grad():
    out = ember.empty(2, 3)
    assert ember.rand(2, 3, out=out) is out
    assert ember.randint(5, (4,), out=ember.empty(4, dtype=ember.int64)).dtype == ember.int64
    out = ember.empty(4)            # resized silently, as torch's samplers do
    assert ember.rand(3, out=out) is out and out.shape == (3,)
    assert ember.rand(2, requires_grad=True).requires_grad
    assert ember.randn(2, requires_grad=True).requires_grad
    assert ember.randperm(3, dtype=ember.float32, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError):
        ember.randint(10, (2,), requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.randint(10, (2,), requires_grad=True)


# ---------------------------------------------------------------- errors (same class as torch)

ERROR_CASES = [
    ("randint(5, 5, (3,))", RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
    ("randint(6, 5, (3,))", RuntimeError, "from=6 >= to=5"),
    ("randint(0, 300, (3,), dtype=LIB.int8)", RuntimeError, "to - 1 is out of bounds"),
    ("randint(-300, 3, (3,), dtype=LIB.int8)", RuntimeError, "from is out of bounds"),
    ("randint(0, 3, (3,), dtype=LIB.bool)", RuntimeError, "out of bounds"),
    ("randint(0, 2, (3,), dtype=LIB.complex64)", RuntimeError, "not implemented"),
    ("randint(10, 2)", TypeError, "size"),
    ("randint(1.5, (2,))", TypeError, "high"),
    ("randint(10)", TypeError, "size"),
    ("randint(-2**63, 2**63, (2,))", ValueError, ""),
    ("randperm(-1)", RuntimeError, "negative dimension -1"),
    ("randperm(300, dtype=LIB.int8)", RuntimeError, ""),
    ("randperm(257, dtype=LIB.uint8)", RuntimeError, ""),
    ("randperm(2050, dtype=LIB.float16)", RuntimeError, "2050"),
    ("randperm(3, dtype=LIB.bool)", NotImplementedError, "randperm"),
    ("randperm(3, dtype=LIB.complex64)", NotImplementedError, "randperm"),
    ("randperm(2.0)", TypeError, "n"),
    ("rand(2, 3, dtype=LIB.int64)", NotImplementedError, "int64"),
    ("randn(2, dtype=LIB.int32)", NotImplementedError, "int32"),
    ("rand(-1)", RuntimeError, "negative dimension -1"),
    ("rand(2, -3)", RuntimeError, "negative dimension -3"),
    ("rand()", TypeError, "size"),
    ("rand(2.0)", TypeError, "size"),
    ("rand(2, generator=3)", TypeError, "enerator"),
    ("zeros(3).uniform_(1, 0)", RuntimeError, "from=1 > to=0"),
    ("zeros(3).uniform_(-3e38, 3e38)", RuntimeError, "to-from"),
    ("zeros(3).uniform_(float('nan'), 1)", RuntimeError, "from is out of bounds"),
    ("zeros(3).uniform_(0, float('inf'))", RuntimeError, "to is out of bounds"),
    ("zeros(3, dtype=LIB.int64).uniform_()", NotImplementedError, "int64"),
    ("zeros(3).uniform_(a=2)", TypeError, "unexpected keyword"),
    ("zeros(3).normal_(0, -1)", RuntimeError, "normal expects std >= 0.0, but found std -1"),
    ("zeros(3).normal_(0, float('nan'))", RuntimeError, "std >= 0.0"),
    ("zeros(3, dtype=LIB.int64).normal_()", NotImplementedError, "int64"),
    ("zeros(3).bernoulli_(1.5)", RuntimeError, "p to be in [0, 1], but got p=1.5"),
    ("zeros(3).bernoulli_(-0.1)", RuntimeError, "p=-0.1"),
    ("zeros(3).bernoulli_(float('nan'))", RuntimeError, "p=nan"),
    ("zeros(3).bernoulli_(LIB.tensor([0, 1, 1]))", NotImplementedError, "int64"),
    ("zeros(3).bernoulli_(LIB.tensor([0., 1., 2.]))", RuntimeError, ""),
    ("zeros(3).exponential_(-1)", RuntimeError, "lambda > 0.0, but found lambda=-1"),
    ("zeros(3).exponential_(0)", RuntimeError, "lambda=0"),
    ("zeros(3).exponential_(float('nan'))", RuntimeError, "lambda=nan"),
    ("zeros(3, dtype=LIB.int64).exponential_()", RuntimeError, "floating point"),
    ("zeros(3, dtype=LIB.int64).random_(5, 3)", RuntimeError, "from=5 >= to=3"),
    ("zeros(3, dtype=LIB.int64).random_(0)", RuntimeError, "from=0 >= to=0"),
    ("zeros(3, dtype=LIB.int8).random_(0, 200)", RuntimeError, "to - 1 is out of bounds"),
    ("zeros(3, dtype=LIB.int32).random_(-2**40, 5)", RuntimeError, "from is out of bounds"),
    ("zeros(3, dtype=LIB.float16).random_(0, 70000)", RuntimeError, "out of bounds"),
    ("zeros(3).random_(1.5)", TypeError, "int"),
    ("zeros(3, dtype=LIB.complex64).random_()", NotImplementedError, "complex64"),
]


@pytest.mark.parametrize("expr,exc,msg", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_match_torch(expr, exc, msg):
    for lib in (ember, torch):
        names = {name: getattr(lib, name)
                 for name in ("rand", "randn", "randint", "randperm", "zeros")}
        with pytest.raises(exc) as einfo:
            eval(expr.replace("LIB", "lib"), {"lib": lib, **names})
        if lib is ember:
            assert msg in str(einfo.value)


def test_float_randint_warns_beyond_exact_integers():
    with pytest.warns(UserWarning, match="out of bounds"):
        ember.randint(0, 2 ** 24 + 2, (3,), dtype=ember.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.randint(0, 2 ** 24 + 1, (3,), dtype=ember.float32)


def test_readonly_target_raises():
    a = np.zeros(4, dtype=np.float32)
    a.flags.writeable = False
    t = ember.asarray(a)
    with pytest.raises(RuntimeError, match="read-only"):
        t.uniform_()


def test_bare_generator_new_is_a_cpu_generator():
    g = ember.Generator.__new__(ember.Generator)
    assert g.device == ember.device("cpu")
    assert ember.rand(3, generator=g).shape == (3,)
