"""Gradients of the decompositions: gradcheck/gradgradcheck in float64 and against
PyTorch, on gauge-invariant functions of the factors (singular vectors and
eigenvectors are unique only up to sign / phase)."""
import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients


def _rand(shape, seed=0, complex_=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if complex_ else a


def _svd_fn(full):
    def fn(lib, a):
        U, S, Vh = lib.linalg.svd(a, full_matrices=full)
        k = S.shape[-1]
        U, Vh = U[..., :k], Vh[..., :k, :]
        # U diag(f(S)) Vh does not depend on the signs / phases of the vectors
        return S, (U * (S ** 2).unsqueeze(-2)) @ Vh, U @ Vh
    return fn


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_svd_matches_torch(shape, layout):
    assert_grads_match_torch(_svd_fn(False), _rand(shape, 1), layout=LAYOUTS[layout],
                             rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4)])
def test_svd_full_matrices_complex_matches_torch(shape):
    assert_grads_match_torch(_svd_fn(True), _rand(shape, 2, True), rtol=1e-6, atol=1e-8)


def test_svd_gradcheck():
    check_gradients(_svd_fn(False), _rand((4, 3), 3))
    check_gradients(lambda lib, a: lib.linalg.svdvals(a), _rand((3, 4), 4))
    check_gradients(_svd_fn(False), _rand((2, 3), 5, True), gradgrad=False)


def test_svd_gauge_error_like_torch():
    a = _rand((3, 3), 6, True)
    for lib in (torch, ember):
        x = lib.tensor(a, requires_grad=True)
        U = lib.linalg.svd(x)[0]
        with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
            U[0, 0].real.backward() if lib is torch else U[0, 0].real.sum().backward()


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("complex_", [False, True])
def test_eigh_matches_torch(uplo, complex_):
    def fn(lib, a):
        L, V = lib.linalg.eigh(a, UPLO=uplo)
        return L, (V * (L ** 3).unsqueeze(-2)) @ V.mH
    assert_grads_match_torch(fn, _rand((2, 4, 4), 7, complex_), rtol=1e-6, atol=1e-8)
    assert_grads_match_torch(lambda lib, a: lib.linalg.eigvalsh(a, UPLO=uplo),
                             _rand((4, 4), 8, complex_), rtol=1e-6, atol=1e-8)


def test_eigh_gradcheck():
    def fn(lib, a):
        a = a + a.mT
        L, V = lib.linalg.eigh(a)
        return L, (V * L.exp().unsqueeze(-2)) @ V.mT
    check_gradients(fn, _rand((3, 3), 9))


@pytest.mark.parametrize("complex_", [False, True])
def test_eig_matches_torch(complex_):
    def fn(lib, a):
        L, V = lib.linalg.eig(a)
        return L, V.abs() ** 2          # independent of the eigenvectors' phases
    assert_grads_match_torch(fn, _rand((3, 3), 10, complex_), rtol=1e-6, atol=1e-8)
    assert_grads_match_torch(lambda lib, a: lib.linalg.eigvals(a), _rand((2, 4, 4), 11, complex_),
                             rtol=1e-6, atol=1e-8)


def test_eig_gradcheck():
    check_gradients(lambda lib, a: lib.linalg.eigvals(a).real, _rand((3, 3), 12))


@pytest.mark.parametrize("complex_", [False, True])
def test_value_only_grads_at_repeated_values_match_torch(complex_):
    # eigvalsh, eigvals, svdvals and the norms built on them need no division by the
    # gaps between values: finite (not 0/0 = NaN) at the identity, as in PyTorch
    eye = np.eye(3) + 0j if complex_ else np.eye(3)
    weights = np.array([1.0, 2.0, 3.0])
    assert_grads_match_torch(lambda lib, a: lib.linalg.eigvalsh(a), eye)
    assert_grads_match_torch(lambda lib, a: lib.linalg.svdvals(a) * lib.tensor(weights), eye)
    assert_grads_match_torch(lambda lib, a: lib.linalg.matrix_norm(a, ord="nuc"),
                             np.diag([2.0, 2.0, 1.0]))
    for shape in [(2, 3), (3, 2)]:
        _check_rank_one_svdvals_grad(shape)
    x = ember.tensor(eye, requires_grad=True)
    ember.linalg.eigvals(x).real.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad.real), np.eye(3), atol=1e-12)


def _check_rank_one_svdvals_grad(shape):
    # the gradient of svdvals(a).sum() is U V^T (reduced SVD). For a rank-one matrix the
    # pairs beyond the first span a null space whose basis LAPACK picks freely (ember's
    # and torch's differ between CPUs), so check what any valid U V^T satisfies, for
    # both libraries: finite, maps v1 to u1 and u1 to v1, orthonormal on its short side
    a = np.ones(shape)
    u1, v1 = np.ones(shape[0]) / np.sqrt(shape[0]), np.ones(shape[1]) / np.sqrt(shape[1])
    x = ember.tensor(a, requires_grad=True)
    ember.linalg.svdvals(x).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    torch.linalg.svdvals(tx).sum().backward()
    for g in (np.asarray(x.grad), tx.grad.numpy()):
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g @ v1, u1, atol=1e-12)
        np.testing.assert_allclose(u1 @ g, v1, atol=1e-12)
        gram = g.T @ g if shape[0] >= shape[1] else g @ g.T
        np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


# mode='complete' with more rows than columns is not differentiable (test_qr_errors)
@pytest.mark.parametrize("mode,shape", [("reduced", (5, 3)), ("reduced", (3, 3)),
                                        ("reduced", (3, 5)), ("reduced", (2, 4, 3)),
                                        ("complete", (3, 3)), ("complete", (3, 5))])
@pytest.mark.parametrize("complex_", [False, True])
def test_qr_matches_torch(mode, shape, complex_):
    assert_grads_match_torch(lambda lib, a: tuple(lib.linalg.qr(a, mode=mode)),
                             _rand(shape, 13, complex_), rtol=1e-6, atol=1e-8)


def test_qr_gradcheck():
    check_gradients(lambda lib, a: tuple(lib.linalg.qr(a)), _rand((4, 3), 14))
    check_gradients(lambda lib, a: tuple(lib.linalg.qr(a)), _rand((2, 4), 15))
    check_gradients(lambda lib, a: tuple(lib.linalg.qr(a[::-1])), _rand((3, 3), 16))


def test_qr_errors():
    for mode, msg in (("complete", "nrows > ncols"), ("r", "mode='r'")):
        for lib in (torch, ember):
            x = lib.tensor(_rand((4, 3), 17), requires_grad=True)
            with pytest.raises(RuntimeError, match=msg):
                lib.linalg.qr(x, mode=mode)[1].sum().backward()


@pytest.mark.parametrize("hermitian", [False, True])
def test_pinv_matches_torch(hermitian):
    def fn(lib, a):
        if hermitian:
            a = a + a.mT
        return lib.linalg.pinv(a, hermitian=hermitian)
    shape = (3, 3) if hermitian else (4, 3)
    assert_grads_match_torch(fn, _rand(shape, 18), rtol=1e-6, atol=1e-8)
    check_gradients(fn, _rand(shape, 19))


def test_pinv_gradient_is_torchs_formula():
    # a Hermitian leaf (no symmetrised change), a rank-deficient product (repeated zero
    # singular values: NaN through the SVD) and an empty matrix (a zero gradient)
    h = _rand((2, 4, 4), 24)
    assert_grads_match_torch(lambda lib, a: lib.linalg.pinv(a, hermitian=True),
                             h @ np.swapaxes(h, -1, -2), rtol=1e-6, atol=1e-8)
    a, b = np.linalg.qr(_rand((5, 2), 25))[0], np.linalg.qr(_rand((4, 2), 26))[0]
    assert_grads_match_torch(lambda lib, a, b: lib.linalg.pinv(a @ b.mT), a, b,
                             rtol=1e-6, atol=1e-8)
    check_gradients(lambda lib, a, b: lib.linalg.pinv(a @ b.mT), a, b)
    assert_grads_match_torch(lambda lib, a: lib.linalg.pinv(a), np.zeros((0, 3)))


@pytest.mark.parametrize("shape", [(0, 0), (0, 5, 5), (2, 0, 0), (3, 0), (1, 1, 0, 0)])
def test_pinverse_empty_stays_in_graph(shape):
    # an empty input still gives a result that requires grad, as torch's
    x, tx = ember.zeros(*shape, requires_grad=True), torch.zeros(*shape, requires_grad=True)
    got, want = ember.pinverse(x), torch.pinverse(tx)
    assert tuple(got.shape) == tuple(want.shape)
    assert got.requires_grad and want.requires_grad
    got.sum().backward()
    assert tuple(x.grad.shape) == shape


def test_cond_gradients():
    assert_grads_match_torch(lambda lib, a: lib.linalg.cond(a), _rand((3, 3), 20),
                             rtol=1e-6, atol=1e-8)
    # torch 2.13 cannot differentiate the other norms (its inv_ex output is modified in place)
    for p in ("fro", 1):
        check_gradients(lambda lib, a: lib.linalg.cond(a, p), _rand((3, 3), 23), gradgrad=False)


@pytest.mark.parametrize("complex_", [False, True])
def test_householder_product_matches_torch(complex_):
    a, tau = _rand((2, 4, 3), 21, complex_), _rand((2, 2), 22, complex_)
    assert_grads_match_torch(lambda lib, a, t: lib.linalg.householder_product(a, t), a, tau,
                             rtol=1e-6, atol=1e-8)
    check_gradients(lambda lib, a, t: lib.linalg.householder_product(a, t), a[0], tau[0])
