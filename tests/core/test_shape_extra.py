"""tril/triu, flips, roll, diag, masked_select, meshgrid, square, lerp, nan_to_num,
clamp_min/clamp_max and multinomial against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember
from core_oracle import check_out_like_torch

NAN, INF = float("nan"), float("inf")

# (name, ember view, torch view) of a (4, 5) base
LAYOUTS = [
    ("contiguous", lambda x: x, lambda x: x),
    ("transposed", lambda x: x.t(), lambda x: x.t()),
    ("expanded", lambda x: x[:1].expand(3, 5), lambda x: x[:1].expand(3, 5)),
    ("flipped", lambda x: x[::-1], lambda x: x.flip(0)),
    ("strided", lambda x: x[::2, 1::2], lambda x: x[::2, 1::2]),
]


def _pair(dtype="float64", shape=(4, 5), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 3
    if dtype in ("int32", "int64", "uint8"):
        a = np.abs(a).astype(dtype)
    elif dtype == "bool":
        a = a > 0
    else:
        a = a.astype(dtype)
    return ember.tensor(a), torch.tensor(a)


def _same(got, want):
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(np.asarray(got), want.numpy())


@pytest.mark.parametrize("name,ev,tv", LAYOUTS)
@pytest.mark.parametrize("dtype", ["bool", "int64", "float32"])
def test_tril_triu(name, ev, tv, dtype):
    e, t = _pair(dtype)
    e, t = ev(e), tv(t)
    for k in (0, 1, -2, 7, -9):
        _same(ember.tril(e, k), torch.tril(t, k))
        _same(e.triu(diagonal=k), t.triu(diagonal=k))


def test_tril_batched_inplace_errors():
    e, t = _pair(shape=(2, 3, 4))
    _same(ember.tril(e, -1), torch.tril(t, -1))
    _same(ember.triu(ember.zeros(0, 3)), torch.triu(torch.zeros(0, 3, dtype=torch.float32)))
    e2, t2 = e.clone(), t.clone()
    assert e2.tril_(1) is e2
    t2.tril_(1)
    _same(e2, t2)
    e2.triu_()
    _same(e2, t2.triu_())
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        ember.tril(ember.ones(3))
    with pytest.raises(RuntimeError, match="triu: input tensor must have at least 2 dimensions"):
        ember.ones(3).triu_()


@pytest.mark.parametrize("name,ev,tv", LAYOUTS)
def test_flip_roll_views(name, ev, tv):
    e, t = _pair("int64")
    e, t = ev(e), tv(t)
    for dims in ([0], [1], [0, 1], (-1,), 1):
        _same(ember.flip(e, dims), torch.flip(t, dims if not isinstance(dims, int) else [dims]))
    _same(ember.fliplr(e), torch.fliplr(t))
    _same(e.flipud(), t.flipud())
    for shifts, dims in [(1, None), (-7, None), (2, 0), ((1, -3), (0, 1)), ((2, 2), (1, 1)),
                         (0, 1)]:
        _same(ember.roll(e, shifts, dims), torch.roll(t, shifts, dims))
        _same(e.roll(shifts, dims), t.roll(shifts, dims))


def test_flip_method_varargs_and_meshgrid_warning():
    e, t = _pair("int64", shape=(2, 3, 2))
    _same(e.flip(0, 2), t.flip(0, 2))
    _same(e.flip((1,)), t.flip((1,)))
    # PyTorch warns once per process (TORCH_WARN_ONCE), every time under set_warn_always
    ember.set_warn_always(True)
    try:
        for _ in range(2):
            with pytest.warns(UserWarning, match="indexing"):
                grids = ember.meshgrid(ember.arange(2), ember.arange(3))
    finally:
        ember.set_warn_always(False)
    assert tuple(grids[0].shape) == (2, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.meshgrid(ember.arange(2), ember.arange(3))
    assert not caught


def test_flip_method_takes_dims_by_keyword():
    e, t = _pair("int64", shape=(2, 3, 2))
    _same(e.flip(dims=(0, 2)), t.flip(dims=(0, 2)))
    _same(e.flip(dims=[1]), t.flip(dims=[1]))
    _same(e.flip(()), t.flip(()))
    for lib, x in ((ember, e), (torch, t)):
        with pytest.raises(TypeError):      # the dims are required
            x.flip()
        with pytest.raises(TypeError):
            x.flip(0, dims=(1,))


def test_flip_roll_copies_and_edges():
    e = ember.arange(4)
    f = ember.flip(e, [0])
    f[0] = 100
    assert e[3].item() == 3                      # a new tensor, not a view
    r = ember.roll(e, 4)
    r[0] = 100
    assert e[0].item() == 0
    _same(ember.flip(ember.tensor(1.5), [0]), torch.flip(torch.tensor(1.5, dtype=torch.float32), [0]))
    _same(ember.roll(ember.tensor(2), 1), torch.roll(torch.tensor(2), 1))
    _same(ember.roll(ember.zeros(0, 3), 1, 0), torch.roll(torch.zeros(0, 3), 1, 0))
    for call, error, message in [
            (lambda: ember.flip(ember.ones(2, 2), [0, -2]), RuntimeError, "dim 0 appears multiple"),
            (lambda: ember.flip(ember.ones(2, 2), [2]), IndexError, "Dimension out of range"),
            (lambda: ember.fliplr(ember.ones(2)), RuntimeError, "Input must be >= 2-d."),
            (lambda: ember.flipud(ember.tensor(1.0)), RuntimeError, "Input must be >= 1-d."),
            (lambda: ember.roll(ember.ones(2, 2), (1, 2)), RuntimeError,
             "shifts and dimensions must align. shifts: 2, dims:0"),
            (lambda: ember.roll(ember.ones(2, 2), (1, 2), (0,)), RuntimeError,
             "shifts: 2, dims:1"),
            # a 0-d tensor has no dim to name (without dims it rolls as flattened)
            (lambda: ember.roll(ember.tensor(1.0), 0, 0), IndexError,
             "Dimension specified as 0 but tensor has no dimensions")]:
        with pytest.raises(error, match=message):
            call()


def test_diag():
    for k in (0, 2, -1):
        e, t = _pair(shape=(4,))
        _same(ember.diag(e, k), torch.diag(t, k))
        e, t = _pair("int32", shape=(3, 5))
        _same(ember.diag(e, k), torch.diag(t, k))
        _same(ember.diag(e.t(), k), torch.diag(t.t(), k))
    e, t = _pair(shape=(3, 3))
    d = ember.diag(e)
    d[0] = 100.0
    assert e[0, 0].item() != 100.0               # a copy, unlike diagonal()
    _same(ember.diag(ember.zeros(0)), torch.diag(torch.zeros(0)))
    with pytest.raises(RuntimeError, match="Supports 1D or 2D tensors. Got 3D"):
        ember.diag(ember.zeros(2, 2, 2))


def test_masked_select():
    e, t = _pair()
    _same(ember.masked_select(e, e > 0), torch.masked_select(t, t > 0))
    _same(e.t().masked_select(e.t() > 1), t.t().masked_select(t.t() > 1))
    row = torch.tensor([True, False, True, False, True])
    _same(ember.masked_select(e, ember.tensor(row.numpy())), torch.masked_select(t, row))
    _same(ember.masked_select(e[:, :1], ember.tensor(row.numpy())),
          torch.masked_select(t[:, :1], row))      # input broadcast too
    _same(ember.masked_select(ember.zeros(0), ember.zeros(0, dtype=ember.bool)),
          torch.masked_select(torch.zeros(0), torch.zeros(0, dtype=torch.bool)))
    with pytest.raises(RuntimeError, match="expected BoolTensor for mask"):
        ember.masked_select(e, e.long())


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    parts = [np.arange(3), np.arange(4) * 10, np.arange(2) * 100]
    for count in (1, 2, 3):
        got = ember.meshgrid(*[ember.tensor(p) for p in parts[:count]], indexing=indexing)
        want = torch.meshgrid(*[torch.tensor(p) for p in parts[:count]], indexing=indexing)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
    got = ember.meshgrid([ember.tensor(5), ember.arange(3)], indexing=indexing)
    want = torch.meshgrid([torch.tensor(5), torch.arange(3)], indexing=indexing)
    for g, w in zip(got, want):
        _same(g, w)


def test_meshgrid_errors():
    with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
        ember.meshgrid(indexing="ij")
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        ember.meshgrid(ember.ones(2, 2), indexing="ij")
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.meshgrid(ember.ones(2), ember.ones(2, dtype=ember.float64), indexing="xy")
    with pytest.raises(RuntimeError, match='indexing must be one of "xy" or "ij"'):
        ember.meshgrid(ember.ones(2), indexing="ab")


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int64", "float32", "float64"])
def test_square(dtype):
    e, t = _pair(dtype)
    _same(ember.square(e), torch.square(t))
    _same(e.t().square(), t.t().square())
    _same(ember.square(ember.tensor(3)), torch.square(torch.tensor(3)))


@pytest.mark.parametrize("name,ev,tv", LAYOUTS)
def test_lerp(name, ev, tv):
    e, t = _pair("float32")
    e2, t2 = _pair("float32", seed=1)
    e, t, e2, t2 = ev(e), tv(t), ev(e2), tv(t2)
    for w in (0.0, 0.25, 0.5, 1.0, 1.7, -0.3):
        np.testing.assert_allclose(np.asarray(ember.lerp(e, e2, w)), torch.lerp(t, t2, w).numpy(),
                                   rtol=1e-6, atol=1e-6)
    ew, tw = _pair("float32", seed=2)
    ew, tw = ev(ew), tv(tw)
    np.testing.assert_allclose(np.asarray(e.lerp(e2, ew)), t.lerp(t2, tw).numpy(), rtol=1e-6,
                               atol=1e-6)
    # broadcasting, and exact ends
    got = ember.lerp(ember.zeros(3, 1), ember.tensor([1.0, 3.0]), ember.tensor(1.0))
    np.testing.assert_array_equal(np.asarray(got), np.tile([1.0, 3.0], (3, 1)))


def test_lerp_errors():
    x = ember.ones(3)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        ember.lerp(x, x.double(), 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float for `weight` but got dtype double"):
        ember.lerp(x, x, x.double())
    with pytest.raises(NotImplementedError, match="\"lerp_kernel_scalar\" not implemented for 'Long'"):
        ember.lerp(x.long(), x.long(), 0.5)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_to_num(dtype):
    values = np.array([[NAN, INF, -INF, 1.5], [0.0, -2.0, NAN, INF]], dtype=dtype)
    e, t = ember.tensor(values), torch.tensor(values)
    for kwargs in ({}, {"nan": 7.0}, {"posinf": 3.0, "neginf": -4.0}, {"nan": -1.0, "neginf": 0.5}):
        _same(ember.nan_to_num(e, **kwargs), torch.nan_to_num(t, **kwargs))
        _same(e.t().nan_to_num(**kwargs), t.t().nan_to_num(**kwargs))
    _same(ember.nan_to_num(ember.tensor([1, 2])), torch.nan_to_num(torch.tensor([1, 2])))
    c = np.array([complex(NAN, INF), complex(1, -INF)], dtype=np.complex128)
    _same(ember.nan_to_num(ember.tensor(c)), torch.nan_to_num(torch.tensor(c)))


_OUT_A = np.random.default_rng(3).standard_normal((3, 4)) * 3
_OUT_B = np.random.default_rng(4).standard_normal((3, 4))
_OUT_CASES = {
    "tril": (lambda L, a, **kw: L.tril(a, -1, **kw), _OUT_A),
    "triu": (lambda L, a, **kw: L.triu(a, 1, **kw), _OUT_A),
    "triu_int": (lambda L, a, **kw: L.triu(a, **kw), _OUT_A.astype(np.int64)),
    "diag_vector": (lambda L, a, **kw: L.diag(a[0], 1, **kw), _OUT_A),
    "diag_matrix": (lambda L, a, **kw: L.diag(a, -1, **kw), _OUT_A),
    "square": (lambda L, a, **kw: L.square(a, **kw), _OUT_A),
    "square_int": (lambda L, a, **kw: L.square(a, **kw), _OUT_A.astype(np.int32)),
    "square_bool": (lambda L, a, **kw: L.square(a, **kw), _OUT_A > 0),
    "lerp": (lambda L, a, b, **kw: L.lerp(a, b, 0.3, **kw), _OUT_A, _OUT_B),
    "lerp_tensor_weight": (lambda L, a, b, **kw: L.lerp(a, b, b.abs(), **kw), _OUT_A, _OUT_B),
    "nan_to_num": (lambda L, a, **kw: L.nan_to_num(a / (a > 0), 0.5, 9.0, **kw), _OUT_A),
    "nan_to_num_int": (lambda L, a, **kw: L.nan_to_num(a, **kw), _OUT_A.astype(np.int64)),
    # a number bound: an out of the result's dtype; a tensor bound: any it casts to
    "clamp_min": (lambda L, a, **kw: L.clamp_min(a, 0.2, **kw), _OUT_A),
    "clamp_min_int": (lambda L, a, **kw: L.clamp_min(a, 1, **kw), _OUT_A.astype(np.int64)),
    "clamp_min_int_float_bound": (lambda L, a, **kw: L.clamp_min(a, 1.5, **kw),
                                  _OUT_A.astype(np.int64)),
    "clamp_min_tensor": (lambda L, a, b, **kw: L.clamp_min(a, b, **kw), _OUT_A, _OUT_B),
    "clamp_min_tensor_int": (lambda L, a, b, **kw: L.clamp_min(a, b, **kw),
                             _OUT_A.astype(np.int64), _OUT_B.astype(np.float32)),
    "clamp_max": (lambda L, a, **kw: L.clamp_max(a, 0.2, **kw), _OUT_A),
    "clamp_max_tensor": (lambda L, a, b, **kw: L.clamp_max(a, b, **kw), _OUT_A, _OUT_B[0]),
}


@pytest.mark.parametrize("name", _OUT_CASES)
def test_out(name):
    call, *arrays = _OUT_CASES[name]
    check_out_like_torch(call, *arrays)


def test_out_dtype_errors_name_the_dtypes():
    x, out = ember.ones(2, dtype=ember.float64), ember.empty(0)
    with pytest.raises(RuntimeError, match="nan_to_num: dtype of out: Float should be same as "
                                           "input: Double"):
        ember.nan_to_num(x, out=out)
    with pytest.raises(RuntimeError, match="Found dtype Float but expected Double"):
        ember.lerp(x, x, x, out=out)
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype double, but got "
                                           "float instead"):
        ember.tril(x.reshape(1, 2), out=out)


def test_clamp_min_max():
    e, t = _pair()
    _same(ember.clamp_min(e, 0.5), torch.clamp_min(t, 0.5))
    _same(e.clamp_max(-0.5), t.clamp_max(-0.5))
    ei, ti = _pair("int64")
    _same(ember.clamp_max(ei, 2), torch.clamp_max(ti, 2))
    _same(ember.clamp_min(e, ember.zeros(5, dtype=ember.float64)),
          torch.clamp_min(t, torch.zeros(5, dtype=torch.float64)))


def test_multinomial_distribution():
    g = ember.Generator().manual_seed(3)
    weights = ember.tensor([[0.0, 1.0, 0.0, 3.0, 0.0], [5.0, 0.0, 0.0, 0.0, 1.0]])
    draws = ember.multinomial(weights, 20000, replacement=True, generator=g)
    assert draws.dtype == ember.int64 and tuple(draws.shape) == (2, 20000)
    freq = np.stack([np.bincount(r, minlength=5) / 20000 for r in draws.numpy()])
    np.testing.assert_allclose(freq, np.asarray(weights) / np.asarray(weights).sum(1, keepdims=True),
                               atol=0.02)
    # without replacement: distinct, never a zero weight, first draw follows the weights
    rows = ember.multinomial(ember.tensor([1.0, 2.0, 0.0, 4.0, 3.0]).expand(3000, 5), 4,
                             generator=g).numpy()
    assert all(len(set(r)) == 4 and 2 not in r for r in rows)
    np.testing.assert_allclose(np.bincount(rows[:, 0], minlength=5) / 3000,
                               [0.1, 0.2, 0.0, 0.4, 0.3], atol=0.03)
    # the generator makes draws repeatable
    a = ember.multinomial(weights[0], 3, generator=ember.Generator().manual_seed(5))
    b = weights[0].multinomial(3, generator=ember.Generator().manual_seed(5))
    assert tuple(a.shape) == (3,) and a.tolist() == b.tolist()


def test_multinomial_errors():
    x = ember.ones(2, 3)
    for call, message in [
            (lambda: ember.multinomial(x.long(), 1), "only supports floating-point dtypes for "
                                                     "input, got: Long"),
            (lambda: ember.multinomial(ember.ones(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
            (lambda: ember.multinomial(x, 0), "cannot sample n_sample <= 0 samples"),
            (lambda: ember.multinomial(x, 4), "cannot sample n_sample > prob_dist.size"),
            (lambda: ember.multinomial(-x, 1), "element < 0"),
            (lambda: ember.multinomial(x * NAN, 1, True), "`inf`, `nan`"),
            (lambda: ember.multinomial(ember.zeros(3), 1), "sum of probabilities <= 0")]:
        with pytest.raises(RuntimeError, match=message):
            call()


def test_inplace_variants():
    e, t = _pair()
    e2, t2 = _pair(seed=1)
    for method, args in [("lerp_", (0.3,)), ("nan_to_num_", ()), ("clamp_min_", (0.2,)),
                         ("clamp_max_", (-0.2,))]:
        ec, tc = e.clone(), t.clone()
        eargs = (e2,) + args if method == "lerp_" else args
        targs = (t2,) + args if method == "lerp_" else args
        assert getattr(ec, method)(*eargs) is ec
        getattr(tc, method)(*targs)
        np.testing.assert_allclose(np.asarray(ec), tc.numpy(), rtol=1e-12)
    # an EMA update as training scripts write it, under no_grad
    ema = ember.zeros(3)
    with ember.no_grad():
        ema.lerp_(ember.ones(3), 0.1)
    np.testing.assert_allclose(np.asarray(ema), [0.1, 0.1, 0.1], rtol=1e-6)
