"""ember.special against scipy.special (values) and torch.special 2.13 (values, dtypes,
errors, gradients)."""
import inspect

import numpy as np
import pytest
import scipy.special as sc
import torch

import ember
from core_oracle import check_out_like_torch
from ember.special._table import TABLE
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

UNARY = sorted(n for n, s in TABLE.items() if s.arity == 1 and n != "gammaln")
POLYNOMIALS = sorted(n for n in TABLE if "_polynomial_" in n)
BINARY = ["xlog1py", "zeta", "gammainc", "gammaincc"]
DIFFERENTIABLE_UNARY = [n for n in UNARY if TABLE[n].grads is not None]

# where each function is defined and smooth enough to compare (unary: x; binary: x, y)
DOMAIN = {"erfinv": (-0.9, 0.9), "ndtri": (0.05, 0.95), "zeta": ((1.5, 4.0), (0.5, 3.0))}
# scipy reference per name, where it differs from the compute function of the table
SCIPY = {"spherical_bessel_j0": lambda x: sc.spherical_jn(0, x),
         "airy_ai": lambda x: sc.airy(x)[0]}


def _sample(name, shape, seed=0, which=0):
    rng = np.random.default_rng(seed)
    lo, hi = DOMAIN.get(name, (0.1, 3.0)) if name != "zeta" else DOMAIN["zeta"][which]
    return rng.uniform(lo, hi, size=shape)


def _scipy(name, *arrays):
    if name in SCIPY:
        return SCIPY[name](*arrays)
    out = np.empty(np.broadcast_shapes(*(np.shape(a) for a in arrays)))
    TABLE[name].compute(*arrays, out=out)
    return out


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_values_match_scipy_and_torch(name, dtype):
    x = _sample(name, (3, 4)).astype(dtype)
    got = getattr(ember.special, name)(ember.tensor(x))
    assert got.dtype == getattr(ember, dtype)
    rtol = 1e-12 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(got.numpy(), _scipy(name, x.astype(np.float64)), rtol=rtol,
                               atol=rtol)
    expected = getattr(torch.special, name)(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=100 * rtol, atol=100 * rtol)


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_broadcast_and_scalars(name):
    x, y = _sample(name, (3, 1), which=0), _sample(name, (4,), seed=1, which=1)
    got = getattr(ember.special, name)(ember.tensor(x), ember.tensor(y))
    assert tuple(got.shape) == (3, 4)
    np.testing.assert_allclose(got.numpy(), _scipy(name, x, y), rtol=1e-12)
    expected = getattr(torch.special, name)(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)
    # a Python number on either side keeps the tensor's dtype
    left = getattr(ember.special, name)(2.0, ember.tensor(y, dtype=ember.float32))
    right = getattr(ember.special, name)(ember.tensor(x, dtype=ember.float32), 2.0)
    assert left.dtype == right.dtype == ember.float32
    np.testing.assert_allclose(left.numpy(), _scipy(name, 2.0, y), rtol=2e-6)
    np.testing.assert_allclose(right.numpy(), _scipy(name, x, 2.0), rtol=2e-6)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_match_torch(name):
    x = np.linspace(-1.2, 1.2, 13)
    n = np.array([-2, -1, 0, 1, 2, 3, 5, 8, 0, 3, 4, 6, 7])
    for degree in (n, 3, 0, -1, 2.7):
        e_n = ember.tensor(degree) if isinstance(degree, np.ndarray) else degree
        t_n = torch.tensor(degree) if isinstance(degree, np.ndarray) else degree
        got = getattr(ember.special, name)(ember.tensor(x), e_n)
        expected = getattr(torch.special, name)(torch.tensor(x), t_n)
        assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-9, atol=1e-9)
    # scalar x, tensor n; integer x promotes to the default float
    got = getattr(ember.special, name)(0.5, ember.tensor([1, 2, 3]))
    expected = getattr(torch.special, name)(0.5, torch.tensor([1, 2, 3]))
    assert got.dtype == ember.float32 and expected.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_aliases_and_composites():
    x = ember.tensor([0.5, 1.5, 2.5], dtype=ember.float64)
    t = torch.tensor([0.5, 1.5, 2.5], dtype=torch.float64)
    for name in ("psi", "log1p", "expm1", "expit", "erf", "round"):
        np.testing.assert_allclose(getattr(ember.special, name)(x).numpy(),
                                   getattr(torch.special, name)(t).numpy(), rtol=1e-12)
    for name in ("softmax", "log_softmax"):
        np.testing.assert_allclose(getattr(ember.special, name)(x, 0).numpy(),
                                   getattr(torch.special, name)(t, 0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ember.special.logsumexp(x, 0).numpy(),
                               torch.special.logsumexp(t, 0).numpy(), rtol=1e-12)
    for n in (0, 1, 2, 4):
        np.testing.assert_allclose(ember.special.polygamma(n, x).numpy(),
                                   torch.special.polygamma(n, t).numpy(), rtol=1e-8)
        np.testing.assert_allclose(ember.polygamma(n, x).numpy(), sc.polygamma(n, x.numpy()),
                                   rtol=1e-12)
    for p in (1, 2, 3):
        a = x + 2
        np.testing.assert_allclose(ember.special.multigammaln(a, p).numpy(),
                                   sc.multigammaln(a.numpy()[:, None], p).ravel(), rtol=1e-12)
        np.testing.assert_allclose(ember.mvlgamma(a, p).numpy(),
                                   torch.mvlgamma(t + 2, p).numpy(), rtol=1e-12)
    assert ember.special.psi is ember.special.digamma
    assert ember.digamma is ember.special.digamma and ember.i0 is ember.special.i0


def test_airy_ai_far_from_zero_matches_torch():
    # SciPy's airy is NaN past |x| ~ 1e6 (the OpInfo reference inputs reach 1e20)
    x = [-1e20, -4988429.2, -2e6, -1e5, 0.5, 2e6, 1e20, float("inf"), float("nan")]
    got = ember.special.airy_ai(ember.tensor(x, dtype=ember.float64))
    expected = torch.special.airy_ai(torch.tensor(x, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-8, atol=0)


# ---------------------------------------------------------------- layouts, dtypes, errors

def _views(x):
    """(name, ember view, NumPy equivalent) for the layouts every op must handle."""
    base = ember.tensor(x)
    return [("transposed", base.t(), x.T), ("sliced", base[:, ::2], x[:, ::2]),
            ("expanded", base[:1].expand(5, x.shape[1]), np.broadcast_to(x[:1], (5, x.shape[1]))),
            ("negative", base.flip(0), x[::-1]), ("empty", base[:0], x[:0]),
            ("zero-dim", base[1, 2], x[1, 2])]


@pytest.mark.parametrize("name", ["i0e", "digamma", "bessel_y1", "erfcx"])
def test_unary_layouts(name):
    x = _sample(name, (4, 6))
    for layout, view, expected in _views(x):
        got = getattr(ember.special, name)(view)
        assert tuple(got.shape) == expected.shape, layout
        np.testing.assert_allclose(got.numpy(), _scipy(name, expected), rtol=1e-12,
                                   err_msg=layout)


def test_binary_layouts():
    x, y = _sample("zeta", (4, 6), which=0), _sample("zeta", (4, 6), which=1)
    for (layout, vx, ex), (_, vy, ey) in zip(_views(x), _views(y)):
        got = ember.special.zeta(vx, vy)
        np.testing.assert_allclose(got.numpy(), sc.zeta(ex, ey), rtol=1e-12, err_msg=layout)


@pytest.mark.parametrize("name", UNARY + ["digamma_top", "polygamma1"])
def test_dtypes_follow_torch(name):
    """Integer and bool inputs give the default float dtype; float16/bfloat16 compute in
    float32 where torch's CPU kernel has them, and raise NotImplementedError otherwise."""
    def call(lib, x):
        if name == "digamma_top":
            return lib.digamma(x)
        if name == "polygamma1":
            return lib.polygamma(1, x)
        return getattr(lib.special, name)(x)
    for dtype in ("int64", "bool", "float16", "bfloat16", "complex64"):
        values = [1, 2, 0] if dtype != "complex64" else [1, 2j, 0]
        try:
            expected = call(torch, torch.tensor(values, dtype=getattr(torch, dtype)))
        except NotImplementedError:
            with pytest.raises(NotImplementedError, match="not implemented for"):
                call(ember, ember.tensor(values, dtype=getattr(ember, dtype)))
            continue
        got = call(ember, ember.tensor(values, dtype=getattr(ember, dtype)))
        assert got.dtype.name == str(expected.dtype).split(".")[-1], dtype
        np.testing.assert_allclose(got.to(ember.float64).numpy(),
                                   expected.double().numpy(), rtol=1e-2, atol=1e-2)


def test_bad_input():
    with pytest.raises(TypeError, match="at least one Tensor"):
        ember.special.xlog1py(1.0, 2.0)
    with pytest.raises(TypeError, match="str"):
        ember.special.i0("x")
    with pytest.raises(RuntimeError, match="negative n"):
        ember.polygamma(-1, ember.tensor([1.0]))
    with pytest.raises(TypeError, match="'n'"):
        ember.polygamma(1.5, ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="greater than or equal to 1"):
        ember.mvlgamma(ember.tensor([3.0]), 0)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.special.i0e(ember.ones(2), out=ember.ones(2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([1, 2]).i0_()
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match .* \(4\)"):
        ember.special.zeta(ember.ones(2, 3), ember.ones(4))
    out = ember.ones(2)
    with pytest.warns(UserWarning, match="resized"):       # as torch
        ember.special.ndtr(ember.ones(3), out=out)
    assert out.shape == (3,)
    with pytest.raises(TypeError, match="'out' must be Tensor"):
        ember.special.ndtr(ember.ones(3), out=[0.0])


@pytest.mark.parametrize("name", sorted(TABLE))
def test_inputs_by_keyword_take_torchs_names(name):
    """Each input can be given by the keyword PyTorch's binding names it: ``x`` (and ``n``)
    for airy_ai, the scaled K0/K1, spherical_bessel_j0 and the polynomials, ``input`` (and
    ``other``) for the rest."""
    names = [p for p in inspect.signature(getattr(ember.special, name)).parameters
             if p != "out"]
    arrays = [_sample(name, (3,), seed=k, which=k) for k in range(len(names))]
    if names[-1] == "n":
        arrays[-1] = np.array([0.0, 2.0, 5.0])
    got = getattr(ember.special, name)(**{k: ember.tensor(a) for k, a in zip(names, arrays)})
    want = getattr(torch.special, name)(**{k: torch.tensor(a) for k, a in zip(names, arrays)})
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-12)
    if name in ("airy_ai", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
                "spherical_bessel_j0") or "_polynomial_" in name:
        assert names[0] == "x"


def test_logsumexp_out():
    check_out_like_torch(lambda L, a, **kw: L.special.logsumexp(a, 1, **kw),
                         _sample("logsumexp", (3, 4)))
    check_out_like_torch(lambda L, a, **kw: L.special.logsumexp(a, (0, 1), True, **kw),
                         _sample("logsumexp", (3, 4)))


def test_out_inplace_and_methods():
    x = ember.tensor([0.25, 0.5, 0.75], dtype=ember.float64)
    out = ember.empty(3, dtype=ember.float64)
    assert ember.special.ndtri(x, out=out) is out
    np.testing.assert_allclose(out.numpy(), sc.ndtri(x.numpy()), rtol=1e-12)
    ember.special.zeta(x + 1, 2.0, out=out)
    np.testing.assert_allclose(out.numpy(), sc.zeta(x.numpy() + 1, 2.0), rtol=1e-12)
    ember.special.polygamma(1, x, out=out)
    np.testing.assert_allclose(out.numpy(), sc.polygamma(1, x.numpy()), rtol=1e-12)
    narrow = ember.empty(3, dtype=ember.float32)
    ember.special.multigammaln(x + 2, 2, out=narrow)
    np.testing.assert_allclose(narrow.numpy(), sc.multigammaln(x.numpy()[:, None] + 2, 2).ravel(),
                               rtol=1e-6)
    for name, reference in (("digamma", sc.psi), ("erfinv", sc.erfinv), ("i0", sc.i0)):
        np.testing.assert_allclose(getattr(x, name)().numpy(), reference(x.numpy()), rtol=1e-12)
        y = x.clone()
        assert getattr(y, name + "_")() is y
        np.testing.assert_allclose(y.numpy(), reference(x.numpy()), rtol=1e-12)
    y = x.clone()
    y.polygamma_(2)
    np.testing.assert_allclose(y.numpy(), sc.polygamma(2, x.numpy()), rtol=1e-12)
    np.testing.assert_allclose(x.polygamma(2).numpy(), y.numpy())
    y = x + 2
    y.mvlgamma_(3)
    np.testing.assert_allclose(y.numpy(), (x + 2).mvlgamma(3).numpy())


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("name", DIFFERENTIABLE_UNARY)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_unary_gradients_match_torch(name, layout):
    x = _sample(name, (3, 4))
    assert_grads_match_torch(lambda lib, a: getattr(lib.special, name)(a), x,
                             layout=LAYOUTS[layout], rtol=1e-9, atol=1e-10)


def test_gradients_at_zero_match_torch():
    x = np.array([-1.5, 0.0, 0.0, 2.0])
    for name in ("i0", "i0e", "i1", "i1e", "entr"):
        assert_grads_match_torch(lambda lib, a: getattr(lib.special, name)(a), x, rtol=1e-9)
    assert_grads_match_torch(lambda lib, a, b: lib.special.xlog1py(a, b),
                             np.array([0.0, 0.0, 1.0, 2.0]), np.array([-1.0, -2.0, 1.0, 0.5]))


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradients_match_torch(name):
    x, y = _sample(name, (3, 1), which=0), _sample(name, (4,), seed=1, which=1)
    if name == "xlog1py":
        assert_grads_match_torch(lambda lib, a, b: lib.special.xlog1py(a, b), x, y)
    else:   # torch differentiates only the second argument
        assert_grads_match_torch(lambda lib, b: getattr(lib.special, name)(lib.tensor(x), b),
                                 y, rtol=1e-9)
        for lib in (ember, torch):
            xs = lib.tensor(x, requires_grad=True)
            with pytest.raises(NotImplementedError, match="derivative for '.*' is not implemented"):
                getattr(lib.special, name)(xs, lib.tensor(y)).sum().backward()


def test_polygamma_and_mvlgamma_gradients_match_torch():
    x = _sample("digamma", (2, 3)) + 0.5
    for n in (0, 1, 3):
        assert_grads_match_torch(lambda lib, a: lib.polygamma(n, a), x, rtol=1e-9)
    assert_grads_match_torch(lambda lib, a: lib.mvlgamma(a + 2, 3), x, rtol=1e-9)
    assert_grads_match_torch(lambda lib, a: a.clone().digamma_() * a.clone().erfinv_().exp(),
                             x / 5, rtol=1e-9)


@pytest.mark.parametrize("name", ["erfcx", "erfinv", "i0", "i0e", "i1", "i1e", "ndtr",
                                  "ndtri", "log_ndtr", "entr", "digamma"])
def test_gradcheck_and_gradgradcheck(name):
    check_gradients(lambda lib, a: getattr(lib.special, name)(a), _sample(name, (5,)))


def test_binary_gradcheck_and_polygamma():
    check_gradients(lambda lib, a, b: lib.special.xlog1py(a, b), _sample("xlog1py", (4,)),
                    _sample("xlog1py", (4,), seed=2))
    check_gradients(lambda lib, q: lib.special.zeta(3.0, q), _sample("zeta", (4,), which=1))
    check_gradients(lambda lib, x: lib.special.gammainc(lib.tensor([1.5, 2.5]), x),
                    np.array([0.7, 1.9]))
    check_gradients(lambda lib, x: lib.polygamma(2, x), _sample("digamma", (4,)) + 0.5)
    check_gradients(lambda lib, x: lib.mvlgamma(x, 2), _sample("digamma", (4,)) + 1)
    # negative strides (torch has no such views)
    check_gradients(lambda lib, x: lib.special.i1e(x.flip(0)[::-1]), _sample("i1e", (6,)))


def test_non_differentiable_functions_as_torch():
    """torch gives the Bessel, Airy and polynomial functions no gradient: their results
    do not require grad."""
    x = ember.tensor([0.5, 0.7], dtype=ember.float64, requires_grad=True)
    for name in UNARY:
        if TABLE[name].grads is None:
            assert not getattr(ember.special, name)(x).requires_grad
            tx = torch.tensor([0.5, 0.7], dtype=torch.float64, requires_grad=True)
            assert not getattr(torch.special, name)(tx).requires_grad
    for name in POLYNOMIALS:
        assert not getattr(ember.special, name)(x, 3).requires_grad


def test_grad_fn_names():
    x = ember.tensor([0.5], dtype=ember.float64, requires_grad=True)
    assert ember.special.i0e(x).grad_fn.name() == "SpecialI0eBackward0"
    assert ember.special.digamma(x).grad_fn is not None
