"""Gradients of the reductions, scans and softmax: against PyTorch (values, first and
second derivatives, including its subgradients at ties, zeros, NaN and inf) and
against finite differences (gradcheck, gradgradcheck)."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients, leaves

INF, NAN = math.inf, math.nan


def randn(*shape, seed=0, complex=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if complex:
        a = a + 1j * rng.standard_normal(shape)
    return a


def _numpy(t):
    # force: torch's second derivative of sgn is a ZeroTensor
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else np.asarray(t.detach())


def assert_double_backward_matches_torch(fn, *arrays, seed=1, rtol=1e-7, atol=1e-9):
    """The gradient of ``fn`` built with ``create_graph=True``, then differentiated
    again: both derivatives must equal PyTorch's."""
    results = {}
    for lib in (ember, torch):
        xs = leaves(lib, arrays)
        out = fn(lib, *xs)
        out = out[0] if isinstance(out, tuple) else out
        g = np.random.default_rng(seed).standard_normal(tuple(out.shape))
        grads = lib.autograd.grad(out, xs, grad_outputs=lib.tensor(g), create_graph=True)
        w = [np.random.default_rng(seed + k).standard_normal(tuple(gr.shape))
             for k, gr in enumerate(grads)]
        total = sum((gr * lib.tensor(wk)).sum() for gr, wk in zip(grads, w))
        # a linear op's gradient does not depend on its input: no second derivative
        second = (lib.autograd.grad(total, xs, allow_unused=True) if total.requires_grad
                  else [None] * len(xs))
        results[lib] = ([_numpy(gr) for gr in grads],
                        [None if s is None else _numpy(s) for s in second])
    (e_first, e_second), (t_first, t_second) = results[ember], results[torch]
    for e, t in zip(e_first, t_first):
        np.testing.assert_allclose(e, t, rtol=rtol, atol=atol, err_msg="first derivative")
    for e, t in zip(e_second, t_second):
        if t is None:
            assert e is None or not np.any(e), "torch has no second derivative"
            continue
        assert e is not None, "ember has no second derivative"
        np.testing.assert_allclose(e, t, rtol=rtol, atol=atol, err_msg="second derivative")


# ---------------------------------------------------------------- every op, every layout

CASES = {
    "sum": ((2, 3, 2), lambda L, x: x.sum()),
    "sum_dim": ((2, 3, 2), lambda L, x: x.sum(1)),
    "sum_dims_keepdim": ((2, 3, 2), lambda L, x: x.sum((0, -1), keepdim=True)),
    "sum_negative_list": ((2, 3, 2), lambda L, x: L.sum(x, [-1, 0])),
    "mean": ((2, 3, 2), lambda L, x: x.mean()),
    "mean_dim_keepdim": ((2, 3, 2), lambda L, x: x.mean(-2, keepdim=True)),
    "mean_dims": ((2, 3, 2), lambda L, x: x.mean((2, 0))),
    "prod": ((2, 3), lambda L, x: x.prod()),
    "prod_dim": ((2, 3), lambda L, x: x.prod(1)),
    "prod_keepdim": ((2, 3), lambda L, x: L.prod(x, -2, keepdim=True)),
    "amax": ((2, 3, 2), lambda L, x: x.amax()),
    "amax_dims": ((2, 3, 2), lambda L, x: x.amax((0, 2))),
    "amin_keepdim": ((2, 3, 2), lambda L, x: x.amin(1, keepdim=True)),
    "max": ((2, 3), lambda L, x: x.max()),
    "max_dim": ((2, 3), lambda L, x: x.max(1)),
    "max_keepdim": ((2, 3), lambda L, x: L.max(x, -2, keepdim=True)),
    "min": ((2, 3), lambda L, x: L.min(x)),
    "min_dim": ((2, 3), lambda L, x: x.min(0).values),
    "var": ((2, 3, 2), lambda L, x: x.var()),
    "var_dim": ((2, 3, 2), lambda L, x: x.var(1)),
    "var_dims_correction": ((2, 3, 2), lambda L, x: x.var((0, 2), correction=0, keepdim=True)),
    "var_unbiased_false": ((2, 3), lambda L, x: L.var(x, 1, unbiased=False)),
    "var_float_correction": ((2, 3), lambda L, x: x.var(-1, correction=0.5)),
    "std": ((2, 3, 2), lambda L, x: x.std()),
    "std_dim": ((2, 3, 2), lambda L, x: x.std(-1, keepdim=True)),
    "std_correction2": ((2, 3, 2), lambda L, x: x.std((1, 2), correction=2)),
    "norm": ((2, 3), lambda L, x: x.norm()),
    "norm_fro_dims": ((2, 3, 2), lambda L, x: x.norm("fro", (0, 2))),
    "norm_2_dim": ((2, 3), lambda L, x: x.norm(2, 1, keepdim=True)),
    "norm_1": ((2, 3), lambda L, x: x.norm(1, 0)),
    "norm_inf": ((2, 3), lambda L, x: x.norm(INF, 1)),
    "norm_neg_inf": ((2, 3), lambda L, x: x.norm(-INF)),
    "norm_3": ((2, 3), lambda L, x: x.norm(3, -1)),
    "norm_1.5": ((2, 3), lambda L, x: x.norm(1.5, 1)),
    "norm_0.5": ((2, 3), lambda L, x: x.norm(0.5, 1)),
    "norm_-1": ((2, 3), lambda L, x: x.norm(-1)),
    "norm_4_keepdim": ((2, 3), lambda L, x: x.norm(4, 0, keepdim=True)),
    "logsumexp": ((2, 3, 2), lambda L, x: x.logsumexp(1)),
    "logsumexp_dims": ((2, 3, 2), lambda L, x: L.logsumexp(x, (0, -1), keepdim=True)),
    "cumsum": ((2, 3), lambda L, x: x.cumsum(1)),
    "cumsum_dim0": ((3, 2), lambda L, x: L.cumsum(x, -2)),
    "softmax": ((2, 3), lambda L, x: x.softmax(1)),
    "softmax_dim0": ((3, 2), lambda L, x: L.softmax(x, 0)),
    "log_softmax": ((2, 3), lambda L, x: x.log_softmax(-1)),
    "log_softmax_dim0": ((3, 2), lambda L, x: L.log_softmax(x, 0)),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch(case, layout):
    shape, fn = CASES[case]
    assert_grads_match_torch(fn, randn(*shape, seed=len(case)), layout=LAYOUTS[layout])


@pytest.mark.parametrize("case", list(CASES))
def test_gradcheck(case):
    shape, fn = CASES[case]
    check_gradients(fn, randn(*shape, seed=len(case)))


@pytest.mark.parametrize("case", list(CASES))
def test_gradcheck_negative_strides(case):
    shape, fn = CASES[case]
    check_gradients(lambda L, x: fn(L, x[::-1]), randn(*shape, seed=len(case)))


@pytest.mark.parametrize("case", list(CASES))
def test_float32_matches_torch(case):
    shape, fn = CASES[case]
    a = randn(*shape, seed=len(case)).astype(np.float32)
    assert_grads_match_torch(fn, a, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["sum_dim", "mean_dims", "prod_dim", "amax_dims", "max_dim",
                                  "var_dim", "std", "norm_3", "logsumexp", "cumsum", "softmax"])
def test_expanded_input(case):
    # the op reads a zero-stride view of the leaf (a new leading dim of size 2)
    shape, fn = CASES[case]
    expanded = lambda L, x: fn(L, x.unsqueeze(0).expand(2, *shape))   # noqa: E731
    assert_grads_match_torch(expanded, randn(*shape, seed=len(case)))
    check_gradients(expanded, randn(*shape, seed=len(case)))


@pytest.mark.parametrize("values", ["random", "rounded"])
@pytest.mark.parametrize("case", list(CASES))
def test_double_backward_matches_torch(case, values):
    # rounded values bring ties and zeros
    shape, fn = CASES[case]
    a = randn(*shape, seed=len(case))
    assert_double_backward_matches_torch(fn, a if values == "random" else np.round(a))


# ---------------------------------------------------------------- reduced outputs broadcast on

@pytest.mark.parametrize("fn", [
    lambda L, x, y: x.sum(1, keepdim=True) * y,
    lambda L, x, y: x.mean(0) + y,
    lambda L, x, y: x.amax(1, keepdim=True) - y * x,
    lambda L, x, y: L.max(x, 1, keepdim=True).values * y,
    lambda L, x, y: x.std(0) * y,
    lambda L, x, y: x.norm(dim=1, keepdim=True) / (1 + y * y),
    lambda L, x, y: x.logsumexp(1, keepdim=True) * y,
    lambda L, x, y: x.softmax(1) * y[0],
    lambda L, x, y: x.log_softmax(0) * y,
    lambda L, x, y: x.prod(1, keepdim=True) * y,
    lambda L, x, y: (x - x.mean(1, keepdim=True)) / x.std(1, keepdim=True),
], ids=["sum", "mean", "amax", "max", "std", "norm", "logsumexp", "softmax", "log_softmax",
        "prod", "standardise"])
def test_broadcast_downstream(fn):
    assert_grads_match_torch(fn, randn(3, 4), randn(3, 4, seed=1))
    check_gradients(fn, randn(2, 3), randn(2, 3, seed=1), gradgrad=False)


# ---------------------------------------------------------------- sum and mean

@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (-1, 0, 1), [1], ()])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_dims(op, dim, keepdim):
    assert_grads_match_torch(lambda L, x: getattr(L, op)(x, dim=dim, keepdim=keepdim),
                             randn(2, 3, 4))


@pytest.mark.parametrize("dim", [None, 1, (0, -1)])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_complex(op, dim):
    c = randn(2, 3, 2, complex=True)
    assert_grads_match_torch(lambda L, x: getattr(L, op)(x, dim=dim), c)
    check_gradients(lambda L, x: getattr(L, op)(x, dim=dim), c, gradgrad=False)


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_dtype(op):
    # float32 input reduced in float64: the gradient comes back as float32
    a = randn(3, 4).astype(np.float32)
    assert_grads_match_torch(lambda L, x: getattr(L, op)(x, 1, dtype=L.float64), a,
                             rtol=1e-6, atol=1e-7)
    x = ember.tensor(a, requires_grad=True)
    getattr(ember, op)(x, dtype=ember.float64).backward()
    assert x.grad.dtype == ember.float32


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "amax", "amin", "max", "min", "var",
                                "std", "norm", "logsumexp", "cumsum", "softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_zero_dim_input(op, dim):
    needs_dim = op in ("logsumexp", "cumsum", "softmax", "log_softmax")
    if dim is None and needs_dim:
        dim = 0
    kwargs = {} if dim is None else {"dim": dim}
    with warnings.catch_warnings():
        # var/std of one element: degrees of freedom <= 0 (NaN), as in PyTorch
        warnings.simplefilter("ignore", UserWarning)
        assert_grads_match_torch(lambda L, x: getattr(L, op)(x, **kwargs), np.array(1.5))


@pytest.mark.parametrize("fn", [
    lambda L, x: x.sum(0),
    lambda L, x: x.sum(1),
    lambda L, x: x.sum(),
    lambda L, x: x.mean(1),
    lambda L, x: x.mean(0),
    lambda L, x: x.prod(0),
    lambda L, x: x.prod(),
    lambda L, x: x.amax(1),
    lambda L, x: L.max(x, 1).values,
    lambda L, x: x.norm(dim=0),
    lambda L, x: x.norm(1, 1),
    lambda L, x: x.logsumexp(0),
    lambda L, x: x.logsumexp(1),
    lambda L, x: x.cumsum(0),
    lambda L, x: x.softmax(1),
    lambda L, x: x.log_softmax(0),
], ids=["sum0", "sum1", "sum", "mean1", "mean0", "prod0", "prod", "amax1", "max1", "norm0",
        "norm1", "logsumexp0", "logsumexp1", "cumsum", "softmax", "log_softmax"])
def test_empty_input(fn):
    # shape (0, 3): reductions over the empty dim give identities (NaN for mean)
    assert_grads_match_torch(fn, np.zeros((0, 3)))


# ---------------------------------------------------------------- prod with zeros

@pytest.mark.parametrize("values", [
    [[1.5, 0.0, -2.0], [0.5, 3.0, -1.0]],          # one zero
    [[0.0, 2.0, 0.0], [0.5, 3.0, -1.0]],           # two zeros in a lane
    [[0.0, 0.0, 0.0], [0.0, 3.0, -1.0]],           # zeros in every lane
    [[2.0, -1.5, 0.0], [0.0, 1.25, 0.0]],
], ids=["one", "two_in_lane", "all_lanes", "mixed"])
@pytest.mark.parametrize("form", ["all", "dim1", "dim0_keepdim"])
def test_prod_with_zeros(values, form):
    fn = {"all": lambda L, x: x.prod(),
          "dim1": lambda L, x: x.prod(1),
          "dim0_keepdim": lambda L, x: x.prod(0, keepdim=True)}[form]
    a = np.array(values)
    assert_grads_match_torch(fn, a)
    assert_double_backward_matches_torch(fn, a)
    check_gradients(fn, a)     # prod is a polynomial: finite differences hold at zeros
    assert np.all(np.isfinite(_grad_of(fn, a)))


def _grad_of(fn, a, **kwargs):
    x = ember.tensor(a, requires_grad=True)
    out = fn(ember, x)
    out.backward(ember.ones_like(out), **kwargs)
    return np.asarray(x.grad)


def test_prod_zeros_with_inf():
    # two zeros and an inf: without a graph PyTorch gives zeros for the full product,
    # with a graph (and along a dim) the products of the others (0 * inf = NaN)
    a = np.array([[0.0, 0.0, INF]])
    assert_grads_match_torch(lambda L, x: x.prod(), a)
    assert_grads_match_torch(lambda L, x: x.prod(1), a)
    assert_double_backward_matches_torch(lambda L, x: x.prod(), np.array([[0.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(_grad_of(lambda L, x: x.prod(), a), [[0.0, 0.0, 0.0]])


def test_prod_long_lane_with_zero():
    # the products of the others are scanned in doubling steps: check a lane longer
    # than a few steps, with the zero at either end and inside
    for where in (0, 11, 36):
        a = np.linspace(0.5, 1.5, 37)
        a[where] = 0.0
        assert_grads_match_torch(lambda L, x: x.prod(), a)
        assert_grads_match_torch(lambda L, x: x.reshape(37, 1).prod(0), a)
        assert_double_backward_matches_torch(lambda L, x: x.reshape(1, 37).prod(1), a)


def test_prod_dtype_and_complex():
    a = randn(2, 3).astype(np.float32)
    assert_grads_match_torch(lambda L, x: x.prod(1, dtype=L.float64), a, rtol=1e-5, atol=1e-6)
    c = randn(2, 3, complex=True)
    assert_grads_match_torch(lambda L, x: x.prod(1), c)
    c[0, 1] = 0
    assert_grads_match_torch(lambda L, x: x.prod(), c)
    assert_grads_match_torch(lambda L, x: x.prod(1), c)
    check_gradients(lambda L, x: x.prod(1), c)


# ---------------------------------------------------------------- extremes: ties, NaN

TIES = np.array([[1.0, 3.0, 3.0, 2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 4.0, 2.0, 4.0]])


@pytest.mark.parametrize("fn", [
    lambda L, x: x.amax(),
    lambda L, x: x.amax(1),
    lambda L, x: x.amin(0, keepdim=True),
    lambda L, x: x.amax((0, 1)),
    lambda L, x: x.max(),
    lambda L, x: L.min(x),
    lambda L, x: x.max(1),
    lambda L, x: L.min(x, 0, keepdim=True),
    lambda L, x: x.norm(INF, 1),
    lambda L, x: x.norm(-INF),
], ids=["amax", "amax1", "amin0k", "amax01", "max", "min", "max1", "min0k", "norminf",
        "normneginf"])
def test_ties(fn):
    assert_grads_match_torch(fn, TIES)
    assert_grads_match_torch(fn, -TIES)


NANS = np.array([[1.0, NAN, 3.0, NAN], [0.5, 2.0, -1.0, 2.0]])


@pytest.mark.parametrize("fn", [
    lambda L, x: x.amax(),          # NaN everywhere: the ties mask is empty
    lambda L, x: x.amin(1),
    lambda L, x: x.max(),           # the NaNs share the gradient
    lambda L, x: L.min(x),
    lambda L, x: x.max(1),          # the first NaN takes it
    lambda L, x: L.min(x, 1),
    lambda L, x: x.norm(INF, 1),
    lambda L, x: x.norm(-INF, 1),
    lambda L, x: x.logsumexp(1),
    lambda L, x: x.sum(1),
    lambda L, x: x.softmax(1),
], ids=["amax", "amin1", "max", "min", "max1", "min1", "norminf", "normneginf", "logsumexp",
        "sum", "softmax"])
def test_nan(fn):
    assert_grads_match_torch(fn, NANS)


def test_max_indices_not_differentiable():
    x = ember.tensor(randn(2, 3), requires_grad=True)
    values, indices = ember.max(x, 1)
    assert values.requires_grad and not indices.requires_grad
    assert indices.grad_fn is None
    values.sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad).sum(1), [1.0, 1.0])


# ---------------------------------------------------------------- var and std

@pytest.mark.parametrize("correction", [0, 1, 2, 0.5])
@pytest.mark.parametrize("dim", [None, 1, (0, 2), -1])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_corrections(op, dim, correction):
    kwargs = {} if dim is None else {"dim": dim}
    assert_grads_match_torch(lambda L, x: getattr(L, op)(x, correction=correction, **kwargs),
                             randn(2, 3, 4))


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_legacy_unbiased(op):
    a = randn(3, 4)
    assert_grads_match_torch(lambda L, x: getattr(x, op)(False), a)
    assert_grads_match_torch(lambda L, x: getattr(x, op)(0, True, True), a)
    assert_grads_match_torch(lambda L, x: getattr(x, op)(1, unbiased=False), a)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("fn", [
    lambda L, op, x: getattr(x, op)(correction=12),        # dof = 0: inf / NaN
    lambda L, op, x: getattr(x, op)(correction=20),        # dof < 0
    lambda L, op, x: getattr(x, op)(1, correction=4),
    lambda L, op, x: getattr(x, op)((0, 1), correction=13),
], ids=["all_dof0", "all_dof_neg", "dim_dof0", "dims_dof_neg"])
def test_var_std_no_degrees_of_freedom(op, fn):
    a = randn(3, 4)
    a[1] = 2.0                      # a lane at its mean
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_grads_match_torch(lambda L, x: fn(L, op, x), a)


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_complex(op):
    c = randn(2, 3, complex=True)
    for fn in (lambda L, x: getattr(x, op)(), lambda L, x: getattr(x, op)(1, correction=0),
               lambda L, x: getattr(L, op)(x, 0, keepdim=True)):
        assert_grads_match_torch(fn, c)
    check_gradients(lambda L, x: getattr(x, op)(1), c)


def test_std_zero_variance():
    # a constant lane has std 0: PyTorch's gradient there is 0 (not NaN), also twice
    a = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    assert_grads_match_torch(lambda L, x: x.std(1), a)
    assert_double_backward_matches_torch(lambda L, x: x.std(1), a)
    assert_grads_match_torch(lambda L, x: x.std(), np.full((2, 2), 3.0))
    assert np.all(_grad_of(lambda L, x: x.std(1), a)[0] == 0)


def test_var_std_float32():
    a = randn(3, 5).astype(np.float32)
    assert_grads_match_torch(lambda L, x: x.var(1), a, rtol=1e-5, atol=1e-6)
    assert_grads_match_torch(lambda L, x: x.std(), a, rtol=1e-5, atol=1e-6)


def test_var_empty_dims_reduce_everything():
    # an empty dim list reduces every dim: the gradient divides by numel - correction
    # (PyTorch 2.13 divides by 1 - correction here: an infinite gradient)
    a = randn(2, 3)
    x = ember.tensor(a, requires_grad=True)
    x.var(dim=()).backward()
    np.testing.assert_allclose(np.asarray(x.grad), 2 * (a - a.mean()) / 5)
    check_gradients(lambda L, x: x.std(dim=()), a)


# ---------------------------------------------------------------- norm

ORDERS = ["fro", 2, 1, INF, -INF, 0, 3, 0.5, -1, 1.5, 4]


@pytest.mark.parametrize("p", ORDERS)
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_norm_orders(p, dim):
    if p == "fro" and dim is not None and not isinstance(dim, tuple):
        dim = (dim,)
    assert_grads_match_torch(lambda L, x: x.norm(p, dim), randn(2, 3, 4))


@pytest.mark.parametrize("p", ORDERS)
def test_norm_complex(p):
    c = randn(2, 3, complex=True)
    assert_grads_match_torch(lambda L, x: x.norm(p, 1), c)
    assert_grads_match_torch(lambda L, x: x.norm(p, keepdim=True), c)
    if p != 0:
        check_gradients(lambda L, x: x.norm(p, 1), c, gradgrad=p not in (INF, -INF))


@pytest.mark.parametrize("p", ORDERS)
def test_norm_at_zero(p):
    # a zero lane and zero entries: PyTorch's subgradients (0 for the 2-norm of a zero
    # vector, sgn(0) = 0 for the 1-norm, ...)
    a = np.array([[0.0, 0.0, 0.0], [0.0, 1.5, -2.0], [0.5, -1.0, 3.0]])
    assert_grads_match_torch(lambda L, x: x.norm(p, 1), a)
    assert_grads_match_torch(lambda L, x: x.norm(p, 1), np.zeros((2, 3), dtype=complex))
    g = _grad_of(lambda L, x: x.norm(p, 1), a)
    if p in ("fro", 2, 1, 1.5, 3, 4):
        assert np.all(g[0] == 0)


@pytest.mark.parametrize("p", ORDERS)
def test_norm_zero_dim_and_empty_dim_list(p):
    assert_grads_match_torch(lambda L, x: x.norm(p), np.array(-1.5))
    assert_grads_match_torch(lambda L, x: L.norm(x, p, dim=(), keepdim=True), randn(2, 3))


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_extremes_empty_dim_list(op):
    assert_grads_match_torch(lambda L, x: getattr(L, op)(x, dim=()), TIES)
    assert_grads_match_torch(lambda L, x: getattr(L, op)(x, (), keepdim=True), randn(2, 3))


def test_norm_zero_order_has_no_gradient():
    x = ember.tensor(randn(2, 3), requires_grad=True)
    y = x.norm(0)
    assert y.requires_grad and y.grad_fn.name() == "LinalgVectorNormBackward0"
    (y + x.sum()).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), np.ones((2, 3)))


def test_norm_dtype():
    a = randn(3, 4).astype(np.float32)
    for p in (2, 1, 3, INF):
        assert_grads_match_torch(lambda L, x: x.norm(p, 1, dtype=L.float64), a,
                                 rtol=1e-5, atol=1e-6)
    x = ember.tensor(a, requires_grad=True)
    x.norm(dtype=ember.float64).backward()
    assert x.grad.dtype == ember.float32


def test_norm_double_backward_at_zero():
    # the 2-norm's second derivative is infinite at 0: NaN there, as in PyTorch
    a = np.array([[0.0, 0.0, 0.0], [0.5, -1.0, 3.0]])
    for p in (2, 3, 1.5):
        assert_double_backward_matches_torch(lambda L, x: x.norm(p, 1), a)


# ---------------------------------------------------------------- logsumexp

@pytest.mark.parametrize("values", [
    [[-INF, 0.5, 1.0], [2.0, -INF, -INF]],      # -inf entries
    [[-INF, -INF, -INF], [1.0, 2.0, 3.0]],      # an all -inf lane: NaN gradient
    [[INF, 0.0, 1.0], [1.0, 2.0, 3.0]],         # +inf
    [[700.0, 701.0, 0.0], [-800.0, -799.0, -801.0]],   # far from 0: the shift matters
], ids=["neg_inf", "all_neg_inf", "pos_inf", "large"])
def test_logsumexp_infinities(values):
    a = np.array(values)
    assert_grads_match_torch(lambda L, x: x.logsumexp(1), a)
    assert_grads_match_torch(lambda L, x: x.logsumexp((0, 1)), a)


def test_logsumexp_complex_and_float32():
    assert_grads_match_torch(lambda L, x: x.logsumexp(1), randn(2, 3, complex=True))
    check_gradients(lambda L, x: x.logsumexp(1), randn(2, 3, complex=True))
    assert_grads_match_torch(lambda L, x: x.logsumexp(0), randn(3, 4).astype(np.float32),
                             rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- cumsum

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cumsum_dims(dim):
    assert_grads_match_torch(lambda L, x: x.cumsum(dim), randn(2, 3, 4))


def test_cumsum_dtype_complex_and_size_one():
    a = randn(3, 4).astype(np.float32)
    assert_grads_match_torch(lambda L, x: x.cumsum(1, dtype=L.float64), a, rtol=1e-5, atol=1e-6)
    x = ember.tensor(a, requires_grad=True)
    x.cumsum(0, dtype=ember.float64).sum().backward()
    assert x.grad.dtype == ember.float32
    assert_grads_match_torch(lambda L, x: x.cumsum(1), randn(2, 3, complex=True))
    check_gradients(lambda L, x: x.cumsum(0), randn(3, 2, complex=True))
    assert_grads_match_torch(lambda L, x: x.cumsum(1), randn(3, 1))


# ---------------------------------------------------------------- softmax, log_softmax

@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_dims(op, dim):
    assert_grads_match_torch(lambda L, x: getattr(L, op)(x, dim), randn(2, 3, 4))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_dtype_and_float32(op):
    a = randn(3, 5).astype(np.float32)
    assert_grads_match_torch(lambda L, x: getattr(x, op)(1), a, rtol=1e-5, atol=1e-6)
    assert_grads_match_torch(lambda L, x: getattr(x, op)(1, dtype=L.float64), a,
                             rtol=1e-5, atol=1e-6)
    x = ember.tensor(a, requires_grad=True)
    getattr(x, op)(0, dtype=ember.float64).sum().backward()
    assert x.grad.dtype == ember.float32


def test_softmax_infinities():
    a = np.array([[-INF, 0.5, 1.0], [2.0, -INF, 700.0]])
    assert_grads_match_torch(lambda L, x: x.softmax(1), a)
    assert_grads_match_torch(lambda L, x: x.log_softmax(1), np.array([[0.5, 1.0, 700.0]]))


# ---------------------------------------------------------------- saved tensors and in-place ops

def _modify_after(op, lib):
    x = lib.tensor(randn(2, 3), requires_grad=True)
    z = x * 1
    y = op(z)
    z.add_(1)
    (y[0] if isinstance(y, tuple) else y).sum().backward()
    return x.grad


@pytest.mark.parametrize("op", [lambda z: z.sum(1), lambda z: z.mean(), lambda z: z.cumsum(1),
                                lambda z: z.softmax(1) * 2, lambda z: z.log_softmax(0) * 2],
                         ids=["sum", "mean", "cumsum", "softmax", "log_softmax"])
def test_input_not_saved(op):
    # these formulas need only the input's shape (softmax: its output), so changing
    # the input in place is allowed
    np.testing.assert_allclose(np.asarray(_modify_after(op, ember)),
                               _modify_after(op, torch).numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("op", [lambda z: z.prod(), lambda z: z.amax(1), lambda z: z.max(),
                                lambda z: z.var(1), lambda z: z.norm(3, 1)],
                         ids=["prod", "amax", "max", "var", "norm"])
def test_saved_input_modified_in_place(op):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            _modify_after(op, lib)


@pytest.mark.parametrize("op", [lambda z: z.softmax(1), lambda z: z.log_softmax(0),
                                lambda z: z.logsumexp(1), lambda z: z.std(1)],
                         ids=["softmax", "log_softmax", "logsumexp", "std"])
def test_saved_output_modified_in_place(op):
    for lib in (ember, torch):
        x = lib.tensor(randn(2, 3), requires_grad=True)
        y = op(x * 1)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_max_dim_input_changed_in_place():
    # along a dim, max keeps only the input's shape (the indices say where the gradient
    # goes), so changing the input in place afterwards is fine, as in PyTorch
    np.testing.assert_array_equal(np.asarray(_modify_after(lambda z: ember.max(z, 1), ember)),
                                  _modify_after(lambda z: torch.max(z, 1), torch).numpy())


@pytest.mark.parametrize("op", [
    lambda L, z: L.max(z, 1), lambda L, z: L.min(z, 1), lambda L, z: L.sort(z, 1),
    lambda L, z: L.topk(z, 2, 1), lambda L, z: L.kthvalue(z, 2, 1),
    lambda L, z: L.median(z, 1), lambda L, z: L.nanmedian(z, 1), lambda L, z: L.mode(z, 1),
    lambda L, z: L.cummax(z, 1), lambda L, z: L.cummin(z, 1),
    lambda L, z: (L.msort(z),),
    lambda L, z: L.nn.functional.max_pool2d(z, 2, return_indices=True),
    lambda L, z: L.nn.functional.max_pool1d(z[0], 2, return_indices=True),
    lambda L, z: L.nn.functional.adaptive_max_pool2d(z, (3, 1), return_indices=True),
], ids=["max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax",
        "cummin", "msort", "max_pool2d", "max_pool1d", "adaptive_max_pool2d"])
def test_values_changed_in_place_when_only_indices_are_saved(op):
    # these backward formulas read only the indices, so an in-place op on the values
    # (MaxPool2d followed by ReLU(inplace=True)) is allowed and its gradient flows back
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(randn(2, 4, 6), requires_grad=True)
        values = op(lib, x * 1)[0]
        values.relu_()
        (values * lib.tensor(randn(*values.shape, seed=2))).sum().backward()
        grads.append(_numpy(x.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- node names

@pytest.mark.parametrize("fn, name", [
    (lambda x: x.sum(), "SumBackward0"),
    (lambda x: x.mean(), "MeanBackward0"),
    (lambda x: x.prod(), "ProdBackward0"),
    (lambda x: x.amax(1), "AmaxBackward0"),
    (lambda x: x.amin(), "AminBackward0"),
    (lambda x: x.max(1).values, "MaxBackward0"),
    (lambda x: x.min(0).values, "MinBackward0"),
    (lambda x: x.max(), "MaxBackward1"),
    (lambda x: x.min(), "MinBackward1"),
    (lambda x: x.sum(1), "SumBackward1"),
    (lambda x: x.mean((0, 1)), "MeanBackward1"),
    (lambda x: x.prod(0), "ProdBackward1"),
    (lambda x: x.var(1), "VarBackward0"),
    (lambda x: x.std(), "StdBackward0"),
    (lambda x: x.norm(3, 1), "LinalgVectorNormBackward0"),
    (lambda x: x.logsumexp(1), "LogsumexpBackward0"),
    (lambda x: x.cumsum(1), "CumsumBackward0"),
    (lambda x: x.softmax(1), "SoftmaxBackward0"),
    (lambda x: x.log_softmax(1), "LogSoftmaxBackward0"),
])
def test_node_names(fn, name):
    a = randn(2, 3)
    assert fn(torch.tensor(a, requires_grad=True)).grad_fn.name() == name
    assert fn(ember.tensor(a, requires_grad=True)).grad_fn.name() == name
