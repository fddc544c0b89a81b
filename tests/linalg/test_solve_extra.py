"""ember.linalg lstsq, norms and matrix functions against NumPy/SciPy and torch 2.13."""
import math

import numpy as np
import pytest
import scipy.linalg
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

RNG = np.random.default_rng(1)


def rand(*shape, dtype=np.float64):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


def close(e, expected, tol=1e-9):
    np.testing.assert_allclose(np.asarray(e), expected, rtol=tol, atol=tol)


# ---------------------------------------------------------------- lstsq

@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 5)])
def test_lstsq_matches_torch(driver, dtype, shape):
    a = rand(*shape, dtype=dtype)
    b = rand(*shape[:-1], 2, dtype=dtype)
    tol = 1e-4 if dtype in (np.float32, np.complex64) else 1e-9
    got = ember.linalg.lstsq(ember.tensor(a), ember.tensor(b), driver=driver)
    want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        assert str(g.dtype).rsplit(".")[-1] == str(w.dtype).rsplit(".")[-1]
        close(g, w.numpy(), tol)


def test_lstsq_vector_broadcast_rank_deficient_errors():
    a = rand(4, 3)
    b = rand(4)
    close(ember.linalg.lstsq(ember.tensor(a), ember.tensor(b)).solution,
          np.linalg.lstsq(a, b, rcond=None)[0])
    low = a.copy()
    low[:, 2] = low[:, 0]
    r = ember.linalg.lstsq(ember.tensor(low), ember.tensor(rand(4, 2)), driver="gelsd")
    assert r.rank.item() == 2
    r = ember.linalg.lstsq(ember.tensor(rand(3, 4, 3)), ember.tensor(rand(1, 4, 2)))
    assert tuple(r.solution.shape) == (3, 3, 2)
    with pytest.raises(RuntimeError, match="should be one of"):
        ember.linalg.lstsq(ember.tensor(a), ember.tensor(b), driver="foo")
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        ember.linalg.lstsq(ember.ones(3, 3, dtype=ember.int64), ember.ones(3, 1, dtype=ember.int64))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_lstsq_grads(shape):
    def f(lib, A, B):
        return lib.linalg.lstsq(A, B).solution
    assert_grads_match_torch(f, rand(*shape), rand(shape[0], 2), layout=LAYOUTS["transposed"])
    check_gradients(f, rand(*shape), rand(shape[0], 2))
    assert_grads_match_torch(f, rand(*shape, dtype=np.complex128),
                             rand(shape[0], 2, dtype=np.complex128))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 6, 3)])
def test_lstsq_grads_rank_deficient(shape):
    # a repeated column: the minimum-norm solution, differentiated through pinv as torch does
    a = rand(*shape)
    a[..., -1] = a[..., 0]

    def f(lib, A, B):
        return lib.linalg.lstsq(A, B, driver="gelsd").solution
    assert_grads_match_torch(f, a, rand(*shape[:-1], 2))


@pytest.mark.parametrize("driver", ["gels", "gelsd"])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_lstsq_residuals_gradient_and_differentiable_outputs(driver, dtype):
    # the residuals carry a gradient (2 R diag(g) X^H); the singular values do not
    def f(lib, A, B):
        return tuple(lib.linalg.lstsq(A, B, driver=driver))
    assert_grads_match_torch(f, rand(2, 5, 3, dtype=dtype), rand(2, 5, 2, dtype=dtype))
    check_gradients(lambda lib, A, B: lib.linalg.lstsq(A, B, driver=driver)[:2],
                    rand(5, 3), rand(5, 2))


# ---------------------------------------------------------------- norms

@pytest.mark.parametrize("ord", [2, 1, 3.5, 0, math.inf, -math.inf, -1.5])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), ((0, 2), False)])
def test_vector_norm(ord, dim, keepdim):
    a = rand(2, 3, 4)
    for x in (a, rand(2, 3, 4, dtype=np.complex128)):
        got = ember.linalg.vector_norm(ember.tensor(x), ord, dim, keepdim)
        want = torch.linalg.vector_norm(torch.tensor(x), ord, dim, keepdim)
        assert tuple(got.shape) == tuple(want.shape)
        close(got, want.numpy())
    t = ember.tensor(a)
    close(ember.linalg.vector_norm(t.mT, ord, dim, keepdim),
          torch.linalg.vector_norm(torch.tensor(a).mT, ord, dim, keepdim).numpy())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("ord", [2, 1, 3.5, 0.5])
def test_vector_norm_half_precision_accumulates_in_float32(dtype, ord):
    # 300**2 overflows float16: PyTorch takes powers and sums in float32
    x = np.array([[300.0, -1.0, 2.5], [0.5, 250.0, -200.0]])
    for fn in (lambda lib, t: lib.linalg.vector_norm(t, ord, 1),
               lambda lib, t: lib.linalg.vector_norm(t.mT, ord, 0, True),
               lambda lib, t: lib.linalg.vector_norm(t, ord)):
        got = fn(ember, ember.tensor(x).to(getattr(ember, dtype)))
        want = fn(torch, torch.tensor(x).to(getattr(torch, dtype)))
        assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=1e-2)


def test_norm_dispatch_and_errors():
    a = rand(3, 4)
    ta = torch.tensor(a)
    for ord in ("fro", 1, -1, math.inf, -math.inf):
        close(ember.linalg.matrix_norm(ember.tensor(a), ord),
              torch.linalg.matrix_norm(ta, ord).numpy())
        close(ember.linalg.norm(ember.tensor(a), ord), torch.linalg.norm(ta, ord).numpy())
    x = rand(2, 3, 4)
    close(ember.linalg.matrix_norm(ember.tensor(x), 1, dim=(0, 2), keepdim=True),
          torch.linalg.matrix_norm(torch.tensor(x), 1, dim=(0, 2), keepdim=True).numpy())
    close(ember.linalg.norm(ember.tensor(x)), np.linalg.norm(x.ravel()))
    close(ember.linalg.norm(ember.tensor(x), dim=1), np.linalg.norm(x, axis=1))
    v = rand(4)
    close(ember.linalg.norm(ember.tensor(v), 3), torch.linalg.norm(torch.tensor(v), 3).numpy())
    assert ember.linalg.vector_norm(ember.tensor([3.0, 4.0]), dtype=ember.float64).dtype == \
        ember.float64
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as "
                                           "input. Got Long"):
        ember.linalg.vector_norm(ember.ones(3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.linalg.matrix_norm(ember.ones(3), "fro")
    with pytest.raises(RuntimeError, match="must be 1D or 2D. Got 3D"):
        ember.linalg.norm(ember.ones(2, 2, 2), 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.linalg.vector_norm(ember.ones(3), dim=2)


@pytest.mark.parametrize("ord", [2, 1, 3, math.inf])
def test_vector_norm_grads(ord):
    x = rand(3, 4)
    f = (lambda lib, X: lib.linalg.vector_norm(X, ord, 1))
    assert_grads_match_torch(f, x, layout=LAYOUTS["strided"])
    assert_grads_match_torch(lambda lib, X: lib.linalg.vector_norm(X, ord),
                             rand(3, dtype=np.complex128))
    if not math.isinf(ord):
        check_gradients(f, x)


def test_vector_norm_ord_0_stays_in_the_graph():
    # the count of non-zeros requires grad but sends none back, as torch's
    x = rand(3, 4)
    x[0, 1] = 0.0
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ember.linalg.vector_norm(e, 0, 1, keepdim=True)
    w = torch.linalg.vector_norm(t, 0, 1, keepdim=True)
    assert y.requires_grad and w.requires_grad
    assert y.tolist() == w.tolist() == [[3.0], [4.0], [4.0]]
    (y * 2).sum().backward()
    (w * 2).sum().backward()
    assert e.grad is None and t.grad is None


def test_norm_grad_at_zero_is_zero():
    x = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    ember.linalg.vector_norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("ord", [0, 0.5, -1, -3.5])
def test_vector_norm_subgradients_at_zero(ord):
    # p < 1: |x|^(p-1) is infinite at 0, PyTorch takes 0; p = 0 counts (zero gradient,
    # but its result requires grad)
    x = np.array([[0.0, 0.0, 0.0], [0.0, 1.5, -2.0]])
    assert_grads_match_torch(lambda lib, X: lib.linalg.vector_norm(X, ord, 1), x)
    assert_grads_match_torch(lambda lib, X: lib.linalg.norm(X[0], ord), x.astype(np.complex128))


@pytest.mark.parametrize("shape", [(0, 0), (2, 3, 0), (0, 4)])
def test_matrix_norms_of_empty_matrices_are_zero(shape):
    for ord in (1, 2, math.inf, "fro", "nuc"):
        got = ember.linalg.matrix_norm(ember.zeros(shape), ord)
        want = torch.linalg.matrix_norm(torch.zeros(shape), ord)
        assert tuple(got.shape) == tuple(want.shape) and got.tolist() == want.tolist()
    for ord in (-1, -2, -math.inf):
        with pytest.raises(IndexError):
            ember.linalg.matrix_norm(ember.zeros(0, 0), ord)


def test_matrix_norm_grads():
    for ord in ("fro", 1, -math.inf):
        assert_grads_match_torch(lambda lib, A: lib.linalg.matrix_norm(A, ord), rand(2, 3, 4))


# ---------------------------------------------------------------- matrix functions

@pytest.mark.parametrize("scale", [0.005, 0.2, 0.8, 2.0, 5.0, 40.0])
def test_matrix_exp_values(scale):
    a = rand(2, 4, 4) * scale
    close(ember.linalg.matrix_exp(ember.tensor(a)), scipy.linalg.expm(a), 1e-9 * max(1, scale))
    # complex64 holds expm of moderate matrices only (at scale 40 it can pass 3e38)
    c = rand(3, 3, dtype=np.complex64) * min(scale, 5.0)
    np.testing.assert_allclose(np.asarray(ember.matrix_exp(ember.tensor(c))),
                               scipy.linalg.expm(c.astype(np.complex128)), rtol=1e-4,
                               atol=1e-4 * np.abs(scipy.linalg.expm(c)).max())
    assert tuple(ember.linalg.matrix_exp(ember.zeros(2, 0, 0)).shape) == (2, 0, 0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_matrix_exp_half_types(dtype):
    # torch takes them (its OpInfo lists them); computed in float32 and rounded (torch
    # 2.13's own half result overflows to inf here)
    a = (rand(2, 4, 4) * 0.5).astype(np.float32)
    x = ember.tensor(a).to(getattr(ember, dtype)).requires_grad_(True)
    y = ember.linalg.matrix_exp(x)
    assert y.dtype == x.dtype
    want = scipy.linalg.expm(np.asarray(x.detach().float()).astype(np.float64))
    np.testing.assert_allclose(np.asarray(y.detach().float()), want, rtol=2e-2, atol=2e-2)
    y.float().sum().backward()
    assert x.grad.dtype == x.dtype and tuple(x.grad.shape) == (2, 4, 4)


def test_matrix_exp_grads():
    assert_grads_match_torch(lambda lib, A: lib.linalg.matrix_exp(A), rand(2, 3, 3))
    assert_grads_match_torch(lambda lib, A: lib.linalg.matrix_exp(A), rand(3, 3) * 4,
                             rtol=1e-6)
    check_gradients(lambda lib, A: lib.linalg.matrix_exp(A), rand(3, 3))
    y = ember.linalg.matrix_exp(ember.tensor(rand(3, 3)).requires_grad_())
    assert y.grad_fn.name() == "LinalgMatrixExpBackward0"


def test_matrix_power():
    a = rand(2, 3, 3) + 3 * np.eye(3)
    for n in (0, 1, 2, 5, -1, -3):
        close(ember.linalg.matrix_power(ember.tensor(a), n), np.linalg.matrix_power(a, n), 1e-8)
    i = np.arange(9).reshape(3, 3)
    assert np.array_equal(np.asarray(ember.matrix_power(ember.tensor(i), 3)),
                          np.linalg.matrix_power(i, 3))
    assert_grads_match_torch(lambda lib, A: lib.linalg.matrix_power(A, -2), a)
    # the identity of n = 0 requires grad (a zero gradient), as in PyTorch
    assert_grads_match_torch(lambda lib, A: lib.linalg.matrix_power(A.mT, 0), a)
    with pytest.raises(RuntimeError, match="square"):
        ember.linalg.matrix_power(ember.ones(2, 3), 2)


def test_multi_dot_cross_vecdot():
    mats = [rand(4), rand(4, 7), rand(7, 2), rand(2, 3), rand(3)]
    close(ember.linalg.multi_dot([ember.tensor(m) for m in mats]), np.linalg.multi_dot(mats))
    assert_grads_match_torch(lambda lib, *ms: lib.linalg.multi_dot(ms), *mats[1:4])
    a, b = rand(2, 3), rand(4, 1, 3)
    close(ember.linalg.cross(ember.tensor(a[None]), ember.tensor(b)), np.cross(a, b))
    close(ember.linalg.cross(ember.tensor(a.T.copy()), ember.tensor(b[0].T.copy()), dim=0),
          np.cross(a, b[0]).T)
    assert_grads_match_torch(lambda lib, x, y: lib.linalg.cross(x, y), a, rand(2, 3))
    x, y = rand(3, 4, dtype=np.complex128), rand(3, 4, dtype=np.complex128)
    close(ember.linalg.vecdot(ember.tensor(x), ember.tensor(y)),
          torch.linalg.vecdot(torch.tensor(x), torch.tensor(y)).numpy())
    with pytest.raises(RuntimeError, match="must have length 3"):
        ember.linalg.cross(ember.ones(2), ember.ones(2))
    with pytest.raises(RuntimeError, match="at least 2 tensors"):
        ember.linalg.multi_dot([ember.ones(2)])


def test_tensorinv_tensorsolve():
    a = (rand(6, 6) + 4 * np.eye(6)).reshape(6, 2, 3)
    close(ember.linalg.tensorinv(ember.tensor(a), ind=1), np.linalg.tensorinv(a, ind=1))
    b = rand(6)
    close(ember.linalg.tensorsolve(ember.tensor(a), ember.tensor(b)), np.linalg.tensorsolve(a, b))
    t = torch.tensor(a).permute(1, 0, 2).contiguous().numpy()
    close(ember.linalg.tensorsolve(ember.tensor(t), ember.tensor(b), dims=(0,)),
          torch.linalg.tensorsolve(torch.tensor(t), torch.tensor(b), dims=(0,)).numpy())
    with pytest.raises(RuntimeError, match="prod"):
        ember.linalg.tensorinv(ember.ones(2, 3), ind=1)


@pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated")
def test_top_level_aliases_and_methods():
    a = rand(2, 3, 3) + 3 * np.eye(3)
    s = a @ np.swapaxes(a, -1, -2)
    t, ts = ember.tensor(a), ember.tensor(s)
    ta, tts = torch.tensor(a), torch.tensor(s)
    close(ember.det(t), torch.det(ta).numpy())
    close(t.det(), torch.det(ta).numpy())
    close(t.logdet(), torch.logdet(ta).numpy())
    close(ember.slogdet(t).logabsdet, torch.slogdet(ta).logabsdet.numpy())
    close(t.inverse(), torch.inverse(ta).numpy())
    close(ember.inverse(t), torch.inverse(ta).numpy())
    close(ember.cholesky(ts, True), torch.cholesky(tts, True).numpy())
    close(ts.cholesky(), torch.linalg.cholesky(tts).numpy())
    L = torch.linalg.cholesky(tts)
    close(ember.tensor(L.numpy()).cholesky_inverse(), torch.cholesky_inverse(L).numpy())
    close(t.matrix_power(3), torch.matrix_power(ta, 3).numpy())
    close(t.matrix_exp(), torch.matrix_exp(ta).numpy())
    assert_grads_match_torch(lambda lib, L: lib.cholesky_inverse(L.tril() + 3 * lib.eye(3,
                             dtype=L.dtype)), rand(3, 3))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_gradient_is_torchs_full_matrix(upper):
    # as for cholesky_solve, torch's gradient of the factor fills both triangles
    a = rand(2, 3, 3)
    L = np.linalg.cholesky(a @ a.swapaxes(-1, -2) + 3 * np.eye(3))
    F = L.swapaxes(-1, -2).copy() if upper else L
    assert_grads_match_torch(lambda lib, F: lib.cholesky_inverse(F, upper), F)


@pytest.mark.parametrize("batch", [(), (2,), (0,)])
def test_triangular_solves_of_empty_matrices(batch):
    for lib in (ember, torch):
        Z = lib.zeros(*batch, 0, 0, dtype=lib.float64)
        assert tuple(lib.cholesky_inverse(Z).shape) == (*batch, 0, 0)
        assert tuple(lib.cholesky_solve(lib.zeros(*batch, 0, 4, dtype=lib.float64), Z).shape) \
            == (*batch, 0, 4)
        LU, piv = lib.linalg.lu_factor(Z)
        assert tuple(lib.lu_solve(lib.zeros(*batch, 0, 4, dtype=lib.float64), LU, piv).shape) \
            == (*batch, 0, 4)
