"""PyTorch's top-level linear-algebra names older than torch.linalg (lu, lu_solve,
lu_unpack, cholesky_solve, triangular_solve, geqrf, ormqr, svd_lowrank, pca_lowrank,
nuclear_norm, frobenius_norm, igamma, igammac) and the torch.linalg functions diagonal,
matmul and ldl_factor(_ex)/ldl_solve, against torch 2.13."""
import warnings

import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

RNG = np.random.default_rng(7)
DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


@pytest.fixture(autouse=True)
def _quiet_torch():
    # torch warns that lu, lu_solve and triangular_solve are deprecated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def rand(*shape, dtype=np.float64):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


def tol(dtype):
    return 2e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def close(got, want, rtol=1e-10):
    want = want.resolve_conj().numpy() if isinstance(want, torch.Tensor) else want
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(got.detach()), want, rtol=rtol, atol=rtol)


def both(*arrays):
    return [ember.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def spd(*shape, dtype=np.float64):
    a = rand(*shape, dtype=dtype)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def triangular(*shape, upper=True, dtype=np.float64):
    a = rand(*shape, dtype=dtype) + 3 * np.eye(shape[-1])
    return (np.triu(a) if upper else np.tril(a)).astype(dtype)


# ---------------------------------------------------------------- lu, lu_solve, lu_unpack

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5), (5, 3), (0, 3, 3)])
def test_lu_and_unpack_match_torch(dtype, shape):
    (e,), (t,) = both(rand(*shape, dtype=dtype))
    got, want = ember.lu(e), torch.lu(t)
    assert type(got) is tuple and len(got) == 2
    close(got[0], want[0], tol(dtype))
    np.testing.assert_array_equal(np.asarray(got[1]), want[1].numpy())
    assert got[1].dtype == ember.int32
    info = ember.lu(e, get_infos=True)
    assert type(info).__name__ == "_lu_with_info" and info._fields == ("LU", "pivots", "info")
    assert tuple(info.info.shape) == shape[:-2]
    P, L, U = ember.lu_unpack(*got)
    tP, tL, tU = torch.lu_unpack(*want)
    assert type(ember.lu_unpack(*got)).__name__ == "lu_unpack"
    for g, w in ((P, tP), (L, tL), (U, tU)):
        close(g, w, tol(dtype))
    assert e.lu()[0].shape == got[0].shape


def test_lu_unpack_flags_and_errors():
    (e,), (t,) = both(rand(3, 4))
    LU, piv = ember.lu(e)
    tLU, tpiv = torch.lu(t)
    for flags in [(False, True), (True, False), (False, False)]:
        for g, w in zip(ember.lu_unpack(LU, piv, *flags), torch.lu_unpack(tLU, tpiv, *flags)):
            assert tuple(g.shape) == tuple(w.shape)
    with pytest.raises(RuntimeError, match="int32"):
        ember.lu_unpack(LU, piv.long())
    with pytest.raises(RuntimeError, match="2 or more dimensions"):
        ember.lu_unpack(LU[0], piv)
    outs = (ember.empty(3, 3), ember.empty(3, 3), ember.empty(3, 4))
    r = ember.lu_unpack(LU.float(), piv, out=outs)
    assert r.P is outs[0] and r.U is outs[2]


def test_lu_singular_and_errors():
    r = ember.lu(ember.zeros(2, 3, 3), get_infos=True)       # never raises, as torch
    np.testing.assert_array_equal(np.asarray(r.info), [1, 1])
    ember.lu(ember.zeros(3, 3))
    with pytest.raises(RuntimeError, match="2 or more dimensions"):
        ember.lu(ember.ones(3))
    with pytest.raises(NotImplementedError, match="lu_cpu"):
        ember.lu(ember.ones(3, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="without pivoting"):
        ember.lu(ember.ones(3, 3), pivot=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lu_solve_matches_torch(dtype):
    a, b = rand(2, 4, 4, dtype=dtype), rand(2, 4, 3, dtype=dtype)
    (ea, eb), (ta, tb) = both(a, b)
    LU, piv = ember.lu(ea)
    close(ember.lu_solve(eb, LU, piv), torch.lu_solve(tb, *torch.lu(ta)), tol(dtype))
    close(eb.lu_solve(LU, piv), torch.lu_solve(tb, *torch.lu(ta)), tol(dtype))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        ember.lu_solve(ember.tensor(rand(2, 5, 3, dtype=dtype)), LU, piv)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lu_family_gradients_match_torch(layout):
    a, b = rand(2, 4, 4), rand(2, 4, 2)

    def unpacked(lib, A):
        P, L, U = lib.lu_unpack(*lib.lu(A))
        return L, U

    def solved(lib, A, B):
        return lib.lu_solve(B, *lib.lu(A))

    assert_grads_match_torch(unpacked, a, layout=LAYOUTS[layout])
    assert_grads_match_torch(unpacked, rand(3, 5), layout=LAYOUTS[layout])
    assert_grads_match_torch(unpacked, rand(5, 3), layout=LAYOUTS[layout])
    assert_grads_match_torch(solved, a, b, layout=LAYOUTS[layout])
    assert_grads_match_torch(solved, rand(3, 3, dtype=np.complex128),
                             rand(3, 2, dtype=np.complex128))


def test_lu_family_gradcheck():
    check_gradients(lambda lib, A, B: lib.lu_solve(B, *lib.lu(A)), rand(3, 3), rand(3, 2))
    check_gradients(lambda lib, A: lib.lu_unpack(*lib.lu(A))[1:], rand(3, 4))


# ---------------------------------------------------------------- cholesky_solve

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_matches_torch(dtype, upper):
    A = spd(2, 4, 4, dtype=dtype)
    L = np.linalg.cholesky(A)
    F = np.conj(np.swapaxes(L, -1, -2)).copy() if upper else L
    b = rand(3, 1, 4, 2, dtype=dtype)                   # batches broadcast
    (eF, eb), (tF, tb) = both(F, b)
    got = ember.cholesky_solve(eb, eF, upper)
    close(got, torch.cholesky_solve(tb, tF, upper), tol(dtype))
    close(eb.cholesky_solve(eF, upper=upper), torch.cholesky_solve(tb, tF, upper), tol(dtype))
    np.testing.assert_allclose(np.asarray(got), np.linalg.solve(A, b), rtol=tol(dtype) * 10,
                               atol=tol(dtype) * 10)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_gradients(layout, upper):
    L = np.linalg.cholesky(spd(2, 3, 3))
    F = np.swapaxes(L, -1, -2).copy() if upper else L
    # torch's gradient of the factor is a full matrix: it is compared as it is
    assert_grads_match_torch(lambda lib, B, F: lib.cholesky_solve(B, F, upper), rand(2, 3, 2), F,
                             layout=LAYOUTS[layout])
    assert_grads_match_torch(lambda lib, B, F: lib.cholesky_solve(B, F, upper),
                             rand(2, 1, 3, 2), F[0])
    Lc = np.linalg.cholesky(spd(3, 3, dtype=np.complex128))
    assert_grads_match_torch(lambda lib, B, F: lib.cholesky_solve(B, F, upper),
                             rand(3, 2, dtype=np.complex128),
                             np.conj(Lc.T).copy() if upper else Lc)
    # gradcheck through a triangular parametrization (the op reads one triangle)
    tri = (lambda X: X.triu()) if upper else (lambda X: X.tril())
    check_gradients(lambda lib, B, F: lib.cholesky_solve(B, tri(F), upper), rand(3, 2), F[0])


def test_pytorchs_keyword_names():
    """The names PyTorch's binding gives (input, input2, input3), not those of its docs."""
    a = RNG.standard_normal((3, 3))
    spd, b = a @ a.T + 3 * np.eye(3), RNG.standard_normal((3, 2))
    calls = [
        lambda L, A, B: L.cholesky_solve(input=B, input2=L.linalg.cholesky(A)),
        lambda L, A, B: L.cholesky_inverse(input=L.linalg.cholesky(A)),
        lambda L, A, B: L.lu_solve(input=B, LU_data=L.linalg.lu_factor(A).LU,
                                   LU_pivots=L.linalg.lu_factor(A).pivots),
        lambda L, A, B: L.orgqr(A, input2=L.geqrf(A).tau),
        lambda L, A, B: L.ormqr(L.geqrf(A).a, input2=L.geqrf(A).tau, input3=B),
    ]
    for call in calls:
        got = call(ember, ember.tensor(spd), ember.tensor(b))
        want = call(torch, torch.tensor(spd), torch.tensor(b))
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-9, atol=1e-12)
    # the documented names still work
    L = ember.linalg.cholesky(ember.tensor(spd))
    np.testing.assert_allclose(np.asarray(ember.cholesky_solve(B=ember.tensor(b), L=L)),
                               np.linalg.solve(spd, b), rtol=1e-9)


def test_cholesky_solve_errors():
    L = ember.tensor(np.linalg.cholesky(spd(3, 3)))
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for cholesky_solve"):
        ember.cholesky_solve(ember.ones(4, 2, dtype=ember.float64), L)
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.cholesky_solve(ember.ones(3, 2), L)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.cholesky_solve(ember.ones(3, dtype=ember.float64), L)
    with pytest.raises(RuntimeError, match="square"):
        ember.cholesky_solve(ember.ones(3, 2, dtype=ember.float64), ember.ones(3, 4).double())
    with pytest.raises(NotImplementedError, match="cholesky_solve_cpu"):
        ember.cholesky_solve(ember.ones(3, 2, dtype=ember.int64), ember.ones(3, 3).long())


# ---------------------------------------------------------------- triangular_solve

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_triangular_solve_matches_torch(dtype, upper, transpose, unitriangular):
    A = rand(2, 1, 4, 4, dtype=dtype) + 3 * np.eye(4, dtype=dtype)   # both triangles set
    b = rand(3, 4, 2, dtype=dtype)
    (eA, eb), (tA, tb) = both(A, b)
    got = ember.triangular_solve(eb, eA, upper, transpose, unitriangular)
    want = torch.triangular_solve(tb, tA, upper, transpose, unitriangular)
    assert type(got).__name__ == "triangular_solve"
    assert got._fields == ("solution", "cloned_coefficient")
    close(got.solution, want.solution, tol(dtype))
    close(got.cloned_coefficient, want.cloned_coefficient, 0)
    close(eb.triangular_solve(eA, upper=upper, transpose=transpose,
                              unitriangular=unitriangular).solution, want.solution, tol(dtype))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("flags", [(True, False, False), (False, True, False),
                                   (True, True, True), (False, False, True)])
def test_triangular_solve_gradients(layout, flags):
    A = rand(2, 3, 3) + 3 * np.eye(3)

    def fn(lib, b, A):
        return lib.triangular_solve(b, A, *flags)

    assert_grads_match_torch(fn, rand(2, 3, 2), A, layout=LAYOUTS[layout])
    assert_grads_match_torch(fn, rand(3, 2, dtype=np.complex128),
                             rand(3, 3, dtype=np.complex128) + 3 * np.eye(3))
    check_gradients(lambda lib, b, A: lib.triangular_solve(b, A, *flags).solution,
                    rand(3, 2), A[0])


def test_triangular_solve_errors_and_out():
    A = ember.tensor(triangular(3, 3))
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for triangular_solve"):
        ember.triangular_solve(ember.ones(4, 2, dtype=ember.float64), A)
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.triangular_solve(ember.ones(3, 2), A)
    with pytest.raises(RuntimeError, match="Expected b to have at least 2 dimensions"):
        ember.triangular_solve(ember.ones(3, dtype=ember.float64), A)
    with pytest.raises(RuntimeError, match="square"):
        ember.triangular_solve(ember.ones(3, 2).double(), ember.ones(3, 4).double())
    outs = (ember.empty(3, 2, dtype=ember.float64), ember.empty(3, 3, dtype=ember.float64))
    r = ember.triangular_solve(ember.ones(3, 2, dtype=ember.float64), A, out=outs)
    assert r.solution is outs[0] and r.cloned_coefficient is outs[1]
    empty = ember.triangular_solve(ember.zeros(0, 3, 2).double(), A)
    assert tuple(empty.solution.shape) == (0, 3, 2)


@pytest.mark.parametrize("b_shape, a_shape", [((0, 1), (0, 0)), ((0, 3), (0, 0)),
                                              ((2, 0, 3), (2, 0, 0)), ((0, 0, 1), (0, 0, 0)),
                                              ((2, 2, 0, 3), (2, 2, 0, 0)), ((3, 0), (3, 3))])
def test_triangular_solve_empty(b_shape, a_shape):
    # OpInfo sample inputs: 0x0 systems and empty batches solve to empty results
    b, A = np.zeros(b_shape), np.zeros(a_shape)
    (eb, eA), (tb, tA) = both(b, A)
    got, want = ember.triangular_solve(eb, eA), torch.triangular_solve(tb, tA)
    assert tuple(got.solution.shape) == tuple(want.solution.shape)
    assert tuple(got.cloned_coefficient.shape) == tuple(want.cloned_coefficient.shape)
    eA.requires_grad_(True)
    eb.requires_grad_(True)
    ember.linalg.solve_triangular(eA, eb, upper=True).sum().backward()
    assert tuple(eA.grad.shape) == a_shape and tuple(eb.grad.shape) == b_shape


# ---------------------------------------------------------------- geqrf, ormqr

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 5), (2, 0, 3), (0, 3, 3)])
def test_geqrf_matches_torch(dtype, shape):
    (e,), (t,) = both(rand(*shape, dtype=dtype))
    got, want = ember.geqrf(e), torch.geqrf(t)
    assert type(got).__name__ == "geqrf" and got._fields == ("a", "tau")
    close(got.a, want.a, tol(dtype))
    close(got.tau, want.tau, tol(dtype))
    close(e.geqrf().a, want.a, tol(dtype))


def test_geqrf_has_no_derivative_and_errors():
    x = ember.tensor(rand(3, 3), requires_grad=True)
    a, tau = ember.geqrf(x)
    assert a.requires_grad and tau.requires_grad
    with pytest.raises(NotImplementedError, match="derivative for 'geqrf' is not implemented"):
        a.sum().backward()
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.geqrf(ember.ones(3))
    with pytest.raises(NotImplementedError, match="geqrf_cpu"):
        ember.geqrf(ember.ones(3, 3, dtype=ember.int64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("shapes", [((5, 3), (5, 2), (2, 5)), ((2, 4, 4), (2, 4, 3), (2, 3, 4))])
def test_ormqr_matches_torch(dtype, left, transpose, shapes):
    a_shape, left_other, right_other = shapes
    a, tau = torch.geqrf(torch.tensor(rand(*a_shape, dtype=dtype)))
    other = rand(*(left_other if left else right_other), dtype=dtype)
    want = torch.ormqr(a, tau, torch.tensor(other), left, transpose)
    ea, etau, eo = ember.tensor(a.numpy()), ember.tensor(tau.numpy()), ember.tensor(other)
    close(ember.ormqr(ea, etau, eo, left, transpose), want, tol(dtype))
    close(ea.ormqr(etau, eo, left=left, transpose=transpose), want, tol(dtype))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
def test_ormqr_gradients(left, transpose):
    def fn(lib, a, tau, c):
        return lib.ormqr(a, tau, c, left, transpose)

    a, tau = (x.numpy() for x in torch.geqrf(torch.tensor(rand(2, 4, 3))))
    c = rand(2, 4, 2) if left else rand(2, 2, 4)
    assert_grads_match_torch(fn, a, tau, c)
    ac, tauc = (x.numpy() for x in torch.geqrf(torch.tensor(rand(3, 3, dtype=np.complex128))))
    assert_grads_match_torch(fn, ac, tauc, rand(3, 3, dtype=np.complex128))
    check_gradients(fn, a[0], tau[0], c[0])


def test_ormqr_errors():
    a, tau = ember.geqrf(ember.tensor(rand(3, 3)))
    with pytest.raises(RuntimeError, match=r"other.shape\[-2\] must be equal to input.shape"):
        ember.ormqr(a, tau, ember.tensor(rand(4, 3)))
    with pytest.raises(RuntimeError, match=r"other.shape\[-1\] must be equal to input.shape"):
        ember.ormqr(a, tau, ember.tensor(rand(3, 4)), left=False)
    with pytest.raises(RuntimeError, match=r"tau.shape\[-1\] must be equal to min"):
        ember.ormqr(a, ember.tensor(rand(4)), ember.tensor(rand(3, 3)))
    with pytest.raises(RuntimeError, match="input must have at least 2 dimensions"):
        ember.ormqr(a[0], tau, ember.tensor(rand(3, 3)))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ember.ormqr(a.expand(2, 3, 3), tau.expand(2, 3), ember.tensor(rand(3, 2)))
    with pytest.raises(RuntimeError, match="batch dimensions of other"):
        ember.ormqr(a.expand(2, 3, 3), tau.expand(2, 3), ember.tensor(rand(3, 3, 2)))
    with pytest.raises(RuntimeError, match="Expected input and other to have the same dtype"):
        ember.ormqr(a, tau, ember.ones(3, 3))
    with pytest.raises(NotImplementedError, match="ormqr_cpu"):
        ember.ormqr(a.long(), tau.long(), ember.ones(3, 3).long())


# ---------------------------------------------------------------- svd_lowrank, pca_lowrank

@pytest.mark.parametrize("shape", [(30, 12), (12, 30), (2, 20, 15)])
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.complex128])
def test_svd_lowrank_recovers_a_low_rank_matrix(shape, dtype):
    ember.manual_seed(0)
    *batch, m, n = shape
    A = ember.randn(*batch, m, 3, dtype=dtype) @ ember.randn(*batch, 3, n, dtype=dtype)
    U, S, V = ember.svd_lowrank(A, q=5)
    assert type((U, S, V)) is tuple
    assert tuple(U.shape) == (*batch, m, 5) and tuple(V.shape) == (*batch, n, 5)
    assert tuple(S.shape) == (*batch, 5)
    rtol = 1e-3 if dtype == ember.float32 else 1e-8
    full = ember.linalg.svdvals(A)
    np.testing.assert_allclose(np.asarray(S[..., :3]), np.asarray(full[..., :3]), rtol=rtol)
    recon = U[..., :3] @ ember.diag_embed(S[..., :3].to(dtype)) @ V[..., :3].mH
    np.testing.assert_allclose(np.asarray(recon), np.asarray(A), atol=rtol * 10, rtol=rtol)


def test_svd_lowrank_with_mean_and_gradient():
    ember.manual_seed(1)
    A = ember.randn(25, 2, dtype=ember.float64) @ ember.randn(2, 8, dtype=ember.float64)
    M = ember.randn(1, 8, dtype=ember.float64)
    U, S, V = ember.svd_lowrank(A + M, q=4, M=M)
    np.testing.assert_allclose(np.asarray(S[:2]), np.asarray(ember.linalg.svdvals(A)[:2]),
                               rtol=1e-8)
    x = A.clone().requires_grad_()
    ember.svd_lowrank(x, q=2, niter=3)[1].sum().backward()
    # d(sum of singular values) = U V^T for a rank-2 matrix and its exact rank
    Uf, Sf, Vhf = ember.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(np.asarray(x.grad), np.asarray(Uf[:, :2] @ Vhf[:2]), atol=1e-7)


def test_pca_lowrank_matches_centered_svd():
    ember.manual_seed(2)
    X = ember.randn(2, 40, 3, dtype=ember.float64) @ ember.randn(2, 3, 6, dtype=ember.float64)
    X = X + 5
    U, S, V = ember.pca_lowrank(X)
    assert tuple(S.shape) == (2, 6)
    centered = X - X.mean(-2, keepdim=True)
    np.testing.assert_allclose(np.asarray(S[:, :3]),
                               np.asarray(ember.linalg.svdvals(centered)[:, :3]), rtol=1e-8)
    U, S, V = ember.pca_lowrank(X, q=4, center=False)     # uncentered: rank 4
    np.testing.assert_allclose(np.asarray(S), np.asarray(ember.linalg.svdvals(X)[:, :4]),
                               rtol=1e-8)
    with pytest.raises(ValueError, match=r"q\(=7\) must be non-negative"):
        ember.pca_lowrank(X, q=7)
    with pytest.raises(ValueError, match=r"niter\(=-1\)"):
        ember.pca_lowrank(X, niter=-1)


# ---------------------------------------------------------------- linalg.diagonal, matmul

def test_linalg_diagonal_and_matmul():
    (e, f), (t, s) = both(rand(2, 3, 4), rand(4, 5))
    for kw in [{}, {"offset": 1}, {"offset": -1, "dim1": 0, "dim2": 2}]:
        close(ember.linalg.diagonal(e, **kw), torch.linalg.diagonal(t, **kw), 0)
    with pytest.raises(TypeError):
        ember.linalg.diagonal(e, 1)
    close(ember.linalg.matmul(e, f), torch.linalg.matmul(t, s))
    out = ember.empty(2, 3, 5, dtype=ember.float64)
    assert ember.linalg.matmul(e, f, out=out) is out
    assert_grads_match_torch(lambda lib, A: lib.linalg.diagonal(A, offset=1), rand(2, 3, 3))


# ---------------------------------------------------------------- ldl_factor, ldl_solve

def symmetric(*shape, dtype=np.float64, hermitian=False):
    a = rand(*shape, dtype=dtype)
    at = np.swapaxes(a, -1, -2)
    return (a + (np.conj(at) if hermitian else at)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("shape", [(5, 5), (3, 6, 6), (0, 0), (2, 0, 3, 3)])
def test_ldl_factor_matches_torch(dtype, hermitian, shape):
    A = symmetric(*shape, dtype=dtype, hermitian=hermitian)
    (e,), (t,) = both(A)
    got = ember.linalg.ldl_factor_ex(e, hermitian=hermitian)
    want = torch.linalg.ldl_factor_ex(t, hermitian=hermitian)
    assert type(got).__name__ == "linalg_ldl_factor_ex"
    assert got._fields == ("LD", "pivots", "info")
    close(got.LD, want.LD, tol(dtype))
    np.testing.assert_array_equal(np.asarray(got.pivots), want.pivots.numpy())
    np.testing.assert_array_equal(np.asarray(got.info), want.info.numpy())
    assert got.pivots.dtype == ember.int32 and got.info.dtype == ember.int32
    plain = ember.linalg.ldl_factor(e, hermitian=hermitian)
    assert type(plain).__name__ == "linalg_ldl_factor" and plain._fields == ("LD", "pivots")
    b = rand(*shape[:-1], 2, dtype=dtype)
    (eb,), (tb,) = both(b)
    close(ember.linalg.ldl_solve(got.LD, got.pivots, eb, hermitian=hermitian),
          torch.linalg.ldl_solve(want.LD, want.pivots, tb, hermitian=hermitian), tol(dtype) * 10)


def test_ldl_has_two_by_two_blocks_and_solves():
    # a zero diagonal forces 2x2 pivots (negative pivots)
    A = np.array([[0., 1., 2.], [1., 0., 3.], [2., 3., 0.]])
    LD, piv = ember.linalg.ldl_factor(ember.tensor(A))
    tLD, tpiv = torch.linalg.ldl_factor(torch.tensor(A))
    np.testing.assert_array_equal(np.asarray(piv), tpiv.numpy())
    assert (np.asarray(piv) < 0).any()
    close(LD, tLD)
    b = rand(4, 3, 2)                              # B's batch broadcasts over LD
    x = ember.linalg.ldl_solve(LD, piv, ember.tensor(b))
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(A, b), atol=1e-12)
    x64 = ember.linalg.ldl_solve(LD, piv.long(), ember.tensor(b))
    np.testing.assert_allclose(np.asarray(x64), np.asarray(x))


def test_ldl_has_no_derivative():
    A = ember.tensor(symmetric(3, 3), requires_grad=True)
    LD, piv = ember.linalg.ldl_factor(A)
    assert LD.requires_grad and not piv.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex"):
        LD.sum().backward()
    B = ember.tensor(rand(3, 2), requires_grad=True)
    x = ember.linalg.ldl_solve(LD.detach(), piv, B)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve"):
        x.sum().backward()


def test_ldl_errors():
    e = ember.tensor(symmetric(3, 3))
    with pytest.raises(ember.linalg.LinAlgError, match="singular"):
        ember.linalg.ldl_factor(ember.zeros(3, 3, dtype=ember.float64))
    with pytest.raises(ember.linalg.LinAlgError, match="singular"):
        ember.linalg.ldl_factor_ex(ember.zeros(2, 3, 3), check_errors=True)
    assert ember.linalg.ldl_factor_ex(ember.zeros(3, 3)).info.item() == 1
    with pytest.raises(RuntimeError, match="square matrices"):
        ember.linalg.ldl_factor(ember.ones(3, 4))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        ember.linalg.ldl_factor(ember.ones(3, 3, dtype=ember.int64))
    with pytest.raises(NotImplementedError, match="ldl_factor_kernel_cpu"):
        ember.linalg.ldl_factor(ember.ones(3, 3, dtype=ember.float16))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.linalg.ldl_factor(ember.ones(3))
    LD, piv = ember.linalg.ldl_factor(e)
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes"):
        ember.linalg.ldl_solve(LD, piv, ember.ones(4, 2, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="pivots.shape to be the same"):
        ember.linalg.ldl_solve(LD, piv[:2], ember.ones(3, 2, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.linalg.ldl_solve(LD, piv, ember.ones(3, 2))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.linalg.ldl_solve(LD, piv, ember.ones(3, dtype=ember.float64))


# ---------------------------------------------------------------- nuclear_norm, frobenius_norm

@pytest.mark.parametrize("dtype", DTYPES)
def test_old_norm_names_match_torch(dtype):
    (e,), (t,) = both(rand(2, 3, 4, dtype=dtype))
    close(ember.nuclear_norm(e), torch.nuclear_norm(t), tol(dtype))
    close(ember.nuclear_norm(e, True), torch.nuclear_norm(t, True), tol(dtype))
    close(ember.nuclear_norm(e, (0, 2), keepdim=True), torch.nuclear_norm(t, (0, 2), True),
          tol(dtype))
    for dim in [(1, 2), (0,), 1, ()]:
        close(ember.frobenius_norm(e, dim), torch.frobenius_norm(t, dim), tol(dtype))
    close(ember.frobenius_norm(e, (0, 1), keepdim=True), torch.frobenius_norm(t, (0, 1), True),
          tol(dtype))
    assert ember.frobenius_norm(e, (0, 1)).dtype == ember.nuclear_norm(e).dtype


def test_old_norm_names_gradients_and_errors():
    assert_grads_match_torch(lambda lib, x: lib.nuclear_norm(x), rand(2, 3, 4))
    assert_grads_match_torch(lambda lib, x: lib.frobenius_norm(x, (0, 2)), rand(2, 3, 4))
    check_gradients(lambda lib, x: lib.frobenius_norm(x, (1,)), rand(2, 3))
    with pytest.raises(RuntimeError, match="Expected at most 2 dimensions"):
        ember.frobenius_norm(ember.ones(2, 3, 4), (0, 1, 2))
    with pytest.raises(RuntimeError, match="input dtype should be either floating point"):
        ember.frobenius_norm(ember.ones(2, 3, dtype=ember.int64), (0,))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.nuclear_norm(ember.ones(3))


# ---------------------------------------------------------------- igamma, igammac

@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_aliases_match_torch(name):
    a, x = np.abs(rand(2, 3)) + 0.1, np.abs(rand(3)) + 0.1
    (ea, ex), (ta, tx) = both(a, x)
    close(getattr(ember, name)(ea, ex), getattr(torch, name)(ta, tx))
    close(getattr(ea, name)(ex), getattr(ta, name)(tx))
    e_in, t_in = ea.clone(), ta.clone()
    assert getattr(e_in, name + "_")(ex) is e_in
    getattr(t_in, name + "_")(tx)
    close(e_in, t_in)
    close(getattr(ember, name)(ember.tensor([1, 2]), ember.tensor([0.5, 3.0])),
          getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([0.5, 3.0])), 1e-6)
    assert_grads_match_torch(lambda lib, a, x: getattr(lib, name)(a.detach(), x), a, x)
    with pytest.raises(TypeError, match="must be Tensor"):
        getattr(ember, name)(ea, 2.0)
    with pytest.raises(RuntimeError, match="can't be cast"):
        getattr(ember.tensor([1, 2]), name + "_")(ember.tensor([0.5, 3.0]))


def test_removed_torch_names_stay_absent():
    for name in ("solve", "lstsq", "eig", "matrix_rank", "symeig"):
        assert not hasattr(ember, name)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_views_are_read_as_they_are(layout):
    view = LAYOUTS[layout]
    A = symmetric(2, 4, 4)
    (e,), (t,) = both(A)
    e, t = view(ember, e), view(torch, t)
    for g, w in zip(ember.geqrf(e), torch.geqrf(t)):
        close(g, w)
    got, want = ember.linalg.ldl_factor(e), torch.linalg.ldl_factor(t)
    close(got.LD, want.LD)
    b = rand(2, 4, 3)
    (eb,), (tb,) = both(b)
    eb, tb = view(ember, eb), view(torch, tb)
    close(ember.linalg.ldl_solve(got.LD, got.pivots, eb),
          torch.linalg.ldl_solve(want.LD, want.pivots, tb))
    a, tau = torch.geqrf(t)
    close(ember.ormqr(ember.tensor(a.numpy()), ember.tensor(tau.numpy()), eb, transpose=True),
          torch.ormqr(a, tau, tb, transpose=True))
    L = np.linalg.cholesky(spd(2, 4, 4))
    close(ember.cholesky_solve(eb, view(ember, ember.tensor(L))),
          torch.cholesky_solve(tb, torch.tensor(L)))
