"""ember.linalg decompositions against NumPy/SciPy (values) and PyTorch (semantics,
errors, gradients)."""
import warnings

import numpy as np
import pytest
import torch

import ember

DTYPES = [(ember.float32, np.float32, 1e-4), (ember.float64, np.float64, 1e-10),
          (ember.complex64, np.complex64, 1e-4), (ember.complex128, np.complex128, 1e-10)]


def _rand(shape, npdt, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(npdt).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(npdt)


def _hermitian(shape, npdt, seed=0):
    a = _rand(shape, npdt, seed)
    return (a + np.conj(np.swapaxes(a, -1, -2))) / 2


def _views(a):
    """The same matrices as contiguous, transposed, sliced, negative-stride and
    expanded ember tensors."""
    t = ember.from_numpy(a.copy())
    yield "contiguous", t, a
    yield "transposed", ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, -1, -2))).mT, a
    big = ember.from_numpy(np.repeat(a, 2, axis=-1).copy())
    yield "sliced", big[..., ::2], a
    flipped = ember.from_numpy(a[..., ::-1, :].copy())
    yield "negative", flipped[..., ::-1, :], a
    yield "expanded", t[..., :1, :].expand(*a.shape), np.broadcast_to(a[..., :1, :], a.shape)


def _unphase(v):
    """Eigenvector columns scaled so that their largest element is real positive."""
    top = np.take_along_axis(v, np.abs(v).argmax(-2)[..., None, :], -2)
    return v * (np.abs(top) / top)


def _np(t):
    return np.asarray(t.detach() if t.requires_grad else t)


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("edt,npdt,tol", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_values(edt, npdt, tol, shape, full):
    a = _rand(shape, npdt)
    U, S, Vh = ember.linalg.svd(ember.from_numpy(a), full_matrices=full)
    assert U.dtype == edt and Vh.dtype == edt and S.dtype == (
        ember.float32 if npdt in (np.float32, np.complex64) else ember.float64)
    tU, tS, tVh = torch.linalg.svd(torch.from_numpy(a), full_matrices=full)
    assert tuple(U.shape) == tuple(tU.shape) and tuple(Vh.shape) == tuple(tVh.shape)
    np.testing.assert_allclose(_np(S), np.linalg.svd(a, compute_uv=False), rtol=tol, atol=tol)
    k = S.shape[-1]
    rebuilt = _np(U)[..., :k] * _np(S)[..., None, :] @ _np(Vh)[..., :k, :]
    np.testing.assert_allclose(rebuilt, a, rtol=tol * 10, atol=tol * 10)
    eye = np.eye(U.shape[-1])
    np.testing.assert_allclose(np.conj(np.swapaxes(_np(U), -1, -2)) @ _np(U), np.broadcast_to(
        eye, U.shape[:-2] + eye.shape), atol=tol * 10)
    np.testing.assert_allclose(_np(ember.linalg.svdvals(ember.from_numpy(a))), _np(S),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced", "negative", "expanded"])
def test_layouts(layout):
    a = _rand((2, 4, 3), np.float64, seed=3)
    views = {name: (t, ref) for name, t, ref in _views(a)}
    t, ref = views[layout]
    before = _np(t).copy()
    np.testing.assert_allclose(_np(ember.linalg.svdvals(t)),
                               np.linalg.svd(ref, compute_uv=False), atol=1e-12)
    Q, R = ember.linalg.qr(t)
    tQ, tR = torch.linalg.qr(torch.from_numpy(np.ascontiguousarray(ref)))
    np.testing.assert_allclose(_np(Q) @ _np(R), ref, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(_np(Q), -1, -2) @ _np(Q), np.eye(3)[None].repeat(2, 0),
                               atol=1e-12)
    # past the rank (the expanded matrices have one) Q's columns are any orthonormal
    # completion, which LAPACK builds differently on different CPUs
    rank = min(np.linalg.matrix_rank(ref))
    np.testing.assert_allclose(_np(Q)[..., :rank], tQ.numpy()[..., :rank], atol=1e-12)
    np.testing.assert_allclose(_np(R)[..., :rank, :], tR.numpy()[..., :rank, :], atol=1e-12)
    np.testing.assert_allclose(np.triu(_np(R)), _np(R), atol=0)
    sq = _hermitian((2, 3, 3), np.float64, seed=4)
    st = {name: tt for name, tt, _ in _views(sq)}[layout]
    np.testing.assert_allclose(_np(ember.linalg.eigvals(st)), torch.linalg.eigvals(
        torch.from_numpy(_np(st).copy())).numpy(), atol=1e-10)
    np.testing.assert_array_equal(_np(t), before)          # the input is not overwritten


@pytest.mark.parametrize("edt,npdt,tol", DTYPES)
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_qr_matches_torch(edt, npdt, tol, mode, shape):
    a = _rand(shape, npdt, seed=1)
    Q, R = ember.linalg.qr(ember.from_numpy(a), mode=mode)
    tQ, tR = torch.linalg.qr(torch.from_numpy(a), mode=mode)
    assert tuple(Q.shape) == tuple(tQ.shape) and tuple(R.shape) == tuple(tR.shape)
    assert Q.dtype == edt and R.dtype == edt
    np.testing.assert_allclose(_np(R), tR.numpy(), rtol=tol * 10, atol=tol * 10)
    if mode != "r":
        np.testing.assert_allclose(_np(Q), tQ.numpy(), rtol=tol * 10, atol=tol * 10)
        with warnings.catch_warnings():          # torch.qr is deprecated in torch
            warnings.simplefilter("ignore")
            tq2, _ = torch.qr(torch.from_numpy(a), some=mode == "reduced")
        q2, _ = ember.qr(ember.from_numpy(a), some=mode == "reduced")
        np.testing.assert_allclose(_np(q2), tq2.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("edt,npdt,tol", DTYPES)
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(edt, npdt, tol, uplo):
    a = _rand((3, 4, 4), npdt, seed=2)            # only the UPLO triangle is read
    L, V = ember.linalg.eigh(ember.from_numpy(a), UPLO=uplo)
    ref = np.linalg.eigvalsh(a, UPLO=uplo)
    np.testing.assert_allclose(_np(L), ref, rtol=tol * 10, atol=tol * 10)
    h = np.tril(a) if uplo == "L" else np.triu(a)
    h = h + np.conj(np.swapaxes(h, -1, -2)) - np.real(np.eye(4) * h) * np.eye(4) * 1
    h = h - np.eye(4) * (h - np.conj(h)) / 2           # the diagonal's imaginary part is ignored
    v = _np(V)
    np.testing.assert_allclose(h @ v, v * _np(L)[..., None, :], atol=tol * 100)
    np.testing.assert_allclose(_np(ember.linalg.eigvalsh(ember.from_numpy(a), UPLO=uplo)),
                               ref, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("edt,npdt,tol", DTYPES)
def test_eig(edt, npdt, tol):
    a = _rand((2, 5, 5), npdt, seed=5)
    w, v = ember.linalg.eig(ember.from_numpy(a))
    tw, tv = torch.linalg.eig(torch.from_numpy(a))
    assert w.dtype == ember.complex64 if npdt in (np.float32, np.complex64) else ember.complex128
    np.testing.assert_allclose(_np(w), tw.numpy(), rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(_unphase(_np(v)), _unphase(tv.numpy()), rtol=tol * 100,
                               atol=tol * 100)      # eigenvectors are unique up to a phase
    np.testing.assert_allclose(_np(ember.linalg.eigvals(ember.from_numpy(a))), tw.numpy(),
                               rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("npdt", [np.float64, np.complex128, np.float32])
def test_pinv_rank_cond(hermitian, npdt):
    a = _hermitian((2, 4, 4), npdt, seed=6) if hermitian else _rand((2, 4, 3), npdt, seed=6)
    a[0] = a[0] @ np.diag([1, 1, 0, 1][:a.shape[-1]]).astype(npdt)   # rank deficient
    ta, ea = torch.from_numpy(a), ember.from_numpy(a)
    tol = 1e-4 if npdt == np.float32 else 1e-10
    np.testing.assert_allclose(_np(ember.linalg.pinv(ea, hermitian=hermitian)),
                               torch.linalg.pinv(ta, hermitian=hermitian).numpy(), atol=tol)
    np.testing.assert_array_equal(_np(ember.linalg.matrix_rank(ea, hermitian=hermitian)),
                                  torch.linalg.matrix_rank(ta, hermitian=hermitian).numpy())
    # tensor tolerances are per matrix of the batch
    per_matrix = ({"atol": [0.5, 0.1]}, {"rtol": [0.3, 0.05]},
                  {"atol": [0.1, 0.0], "rtol": [0.2, 0.2]})
    for kw in per_matrix:
        np.testing.assert_array_equal(
            _np(ember.linalg.matrix_rank(ea, hermitian=hermitian, **{
                k: ember.tensor(v) if isinstance(v, list) else v for k, v in kw.items()})),
            torch.linalg.matrix_rank(ta, hermitian=hermitian, **{
                k: torch.tensor(v) if isinstance(v, list) else v for k, v in kw.items()}).numpy())
    for kw in ({"atol": 0.5}, {"rtol": 0.3}, {"atol": 0.1, "rtol": 0.2}):
        np.testing.assert_array_equal(
            _np(ember.linalg.matrix_rank(ea, hermitian=hermitian, **kw)),
            torch.linalg.matrix_rank(ta, hermitian=hermitian, **kw).numpy())
        np.testing.assert_allclose(_np(ember.linalg.pinv(ea, hermitian=hermitian, **kw)),
                                   torch.linalg.pinv(ta, hermitian=hermitian, **kw).numpy(),
                                   atol=tol)
    np.testing.assert_allclose(_np(ember.pinverse(ea)), torch.pinverse(ta).numpy(), atol=tol)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond(p):
    a = _rand((3, 4, 4), np.float64, seed=7)
    np.testing.assert_allclose(_np(ember.linalg.cond(ember.from_numpy(a), p)),
                               torch.linalg.cond(torch.from_numpy(a), p).numpy(), rtol=1e-10)


def _singular():
    """Matrices LU finds singular (an exactly zero pivot), batched with an invertible one;
    and ones whose inverse overflows or is NaN."""
    yield np.stack([np.ones((3, 3)), np.eye(3), np.array([[1., 2, 3], [2, 4, 6], [0, 1, 1]])])
    yield np.zeros((2, 2))
    yield np.array([[1.0, 2.0], [2.0, 4.0]])
    yield np.array([[np.nan, 1.0], [0.0, 1.0]])
    yield np.array([[np.inf, 1.0], [0.0, 1.0]])
    yield np.diag([1e-200, 1e-200])
    yield np.zeros((2, 2), dtype=np.complex128)
    yield np.ones((3, 3), dtype=np.complex128) * (1 + 1j)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond_of_singular_matrices_matches_torch(p):
    """PyTorch's cond is inf where LU finds A singular (for 'fro', 1, -1, inf, -inf; a 0 * inf
    NaN becomes inf too), and sum(S) * sum(1/S) for 'nuc'."""
    svd_based = p in (None, 2, -2, "nuc")
    for a in _singular():
        if svd_based and a.dtype.kind == "c" and a.any():
            continue    # whether LAPACK's smallest singular value is exactly 0 varies
        try:
            want = torch.linalg.cond(torch.from_numpy(a), p)
        except torch.linalg.LinAlgError:     # NaN in the SVD
            with pytest.raises(ember.linalg.LinAlgError):
                ember.linalg.cond(ember.from_numpy(a), p)
            continue
        got = _np(ember.linalg.cond(ember.from_numpy(a), p))
        want = want.numpy()
        if svd_based:
            # a singular matrix's smallest singular value is rounding noise (exactly 0 or
            # ~1e-17 depending on the LAPACK build): there, ember only has to say
            # "singular" (0 / 0 for a zero matrix is NaN in both)
            s = torch.linalg.svdvals(torch.from_numpy(a)).numpy()
            noise = s[..., -1] <= 1e-12 * s[..., 0]
            noise = noise | (s[..., 0] == 0)
            huge = (np.abs(got) <= 1e-12) if p == -2 else (np.abs(got) >= 1e12)
            huge = huge | (np.isnan(got) & np.isnan(want))
            assert np.all(huge[noise]), (p, a, got)
            got, want = got[~noise], want[~noise]
        np.testing.assert_allclose(got, want, rtol=1e-10)
    if p not in (None, 2, -2, "nuc"):
        assert ember.linalg.cond(ember.ones(3, 3, dtype=ember.float64), p).item() == np.inf


def test_cond_of_singular_matrices_keeps_gradients_of_the_others():
    # PyTorch's own cond backward fails here (its inverse is masked in place): the oracle is
    # the definition norm(A) * norm(inv(A)), differentiated by torch
    a = np.stack([np.ones((2, 2)), np.array([[2.0, 1.0], [0.5, 3.0]])])
    x = ember.tensor(a, requires_grad=True)
    for p in ("fro", 1, -np.inf):
        x.grad = None
        cond = ember.linalg.cond(x, p)
        assert cond[0].item() == np.inf
        cond[1].backward()
        want = torch.tensor(a, requires_grad=True)
        A = want[1]
        (torch.linalg.matrix_norm(A, p) * torch.linalg.matrix_norm(torch.linalg.inv(A), p)
         ).backward()
        np.testing.assert_allclose(_np(x.grad), want.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("hermitian", [False, True])
def test_pinv_rcond_is_a_relative_tolerance(hermitian):
    """PyTorch's older rcond (positional or by keyword): atol=0, rtol=rcond."""
    a = _hermitian((2, 4, 4), np.float64, seed=3)
    ta, ea = torch.from_numpy(a), ember.from_numpy(a)
    spectrum = np.abs(np.linalg.eigvalsh(a))
    rcond = float(np.sort(spectrum[0])[1] / spectrum[0].max()) * 1.01   # drops two values
    for call in (lambda L, x: L.linalg.pinv(x, rcond, hermitian),
                 lambda L, x: L.linalg.pinv(x, rcond=rcond, hermitian=hermitian),
                 lambda L, x: L.linalg.pinv(x, rcond=L.tensor([rcond, 0.5], dtype=L.float64),
                                            hermitian=hermitian)):
        np.testing.assert_allclose(_np(call(ember, ea)), call(torch, ta).numpy(), atol=1e-10)
    # the rank drops as in matrix_rank with the same rtol
    assert ember.linalg.matrix_rank(ea[0], rtol=rcond, hermitian=hermitian).item() == 2
    for lib, x in ((ember, ea), (torch, ta)):
        with pytest.raises(TypeError):           # one form of the tolerance, not both
            lib.linalg.pinv(x, rcond=0.1, rtol=0.1)
        with pytest.raises(RuntimeError, match="rcond tensor of complex type"):
            lib.linalg.pinv(x, rcond=lib.tensor(0.1j))


@pytest.mark.parametrize("npdt", [np.float64, np.complex64])
def test_householder_product(npdt):
    a, tau = _rand((2, 5, 3), npdt, seed=8), _rand((2, 2), npdt, seed=9)
    tol = 1e-5 if npdt == np.complex64 else 1e-12
    ref = torch.linalg.householder_product(torch.from_numpy(a), torch.from_numpy(tau)).numpy()
    np.testing.assert_allclose(_np(ember.linalg.householder_product(
        ember.from_numpy(a), ember.from_numpy(tau))), ref, atol=tol)
    np.testing.assert_allclose(_np(ember.orgqr(ember.from_numpy(a), ember.from_numpy(tau))),
                               ref, atol=tol)


def test_old_svd_signature():
    a = _rand((4, 3), np.float64, seed=10)
    for some in (True, False):
        U, S, V = ember.svd(ember.from_numpy(a), some=some)
        tU, tS, tV = torch.svd(torch.from_numpy(a), some=some)
        assert tuple(U.shape) == tuple(tU.shape) and tuple(V.shape) == tuple(tV.shape)
        np.testing.assert_allclose(_np(U)[:, :3] * _np(S) @ _np(V)[:, :3].T, a, atol=1e-12)
    U, S, V = ember.from_numpy(a).svd(compute_uv=False)
    tU, tS, tV = torch.svd(torch.from_numpy(a), compute_uv=False)
    assert tuple(U.shape) == tuple(tU.shape) and not _np(U).any() and not _np(V).any()
    np.testing.assert_allclose(_np(S), tS.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 4), (0, 3, 3)])
def test_empty(shape):
    a = np.zeros(shape)
    ea, ta = ember.from_numpy(a), torch.from_numpy(a)
    for full in (True, False):
        e, t = ember.linalg.svd(ea, full_matrices=full), torch.linalg.svd(ta, full_matrices=full)
        for x, y in zip(e, t):
            assert tuple(x.shape) == tuple(y.shape)
            np.testing.assert_allclose(_np(x), y.numpy())
    for mode in ("reduced", "complete"):
        for x, y in zip(ember.linalg.qr(ea, mode=mode), torch.linalg.qr(ta, mode=mode)):
            assert tuple(x.shape) == tuple(y.shape)
            np.testing.assert_allclose(_np(x), y.numpy())
    assert tuple(ember.linalg.pinv(ea).shape) == tuple(torch.linalg.pinv(ta).shape)
    if shape[-1] == shape[-2]:
        assert tuple(ember.linalg.eigh(ea)[1].shape) == tuple(torch.linalg.eigh(ta)[1].shape)
        assert tuple(ember.linalg.eig(ea)[0].shape) == tuple(torch.linalg.eig(ta)[0].shape)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("call", [
    lambda L, a: L.linalg.svd(a.to(L.int64)),
    lambda L, a: L.linalg.svd(a[0]),
    lambda L, a: L.linalg.qr(a, mode="x"),
    lambda L, a: L.linalg.eigh(a[:, :2]),
    lambda L, a: L.linalg.eigh(a, UPLO="X"),
    lambda L, a: L.linalg.eig(a[:2]),
    lambda L, a: L.linalg.qr(a.to(L.int32)),
    lambda L, a: L.linalg.eigh(a.to(L.int64)),
    lambda L, a: L.linalg.svd([[1.0]]),
    lambda L, a: L.linalg.svd(a.to(L.float16)),
    lambda L, a: L.linalg.householder_product(a[:2], a[0, :2]),
    lambda L, a: L.linalg.householder_product(a, L.ones(4, dtype=L.float64)),
])
def test_errors_match_torch(call):
    a = np.eye(3)
    with pytest.raises(Exception) as expected:
        call(torch, torch.from_numpy(a))
    with pytest.raises(type(expected.value)) as got:
        call(ember, ember.from_numpy(a))
    assert str(got.value).split(":")[0] == str(expected.value).split(":")[0]


@pytest.mark.parametrize("call", [lambda L, a: L.linalg.svd(a), lambda L, a: L.linalg.eigh(a)])
def test_nonconvergence_is_linalg_error(call):
    a = np.full((2, 3, 3), np.inf)
    a[0] = np.eye(3)
    with pytest.raises(torch.linalg.LinAlgError) as expected:
        call(torch, torch.from_numpy(a))
    with pytest.raises(ember.linalg.LinAlgError) as got:
        call(ember, ember.from_numpy(a))
    assert str(got.value) == str(expected.value)
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


def test_out():
    a = ember.from_numpy(_rand((4, 3), np.float64))
    S = ember.empty(3, dtype=ember.float64)
    assert ember.linalg.svdvals(a, out=S) is S
    np.testing.assert_allclose(_np(S), np.linalg.svd(_np(a), compute_uv=False))
    Q, R = ember.empty(4, 3, dtype=ember.float64), ember.empty(3, 3, dtype=ember.float64)
    res = ember.linalg.qr(a, out=(Q, R))
    assert res.Q is Q and res.R is R
    np.testing.assert_allclose(_np(Q) @ _np(R), _np(a), atol=1e-12)
    S = ember.empty(2, dtype=ember.float64)
    with pytest.warns(UserWarning, match="resized"):
        ember.linalg.svdvals(a, out=S)
    np.testing.assert_allclose(_np(S), np.linalg.svd(_np(a), compute_uv=False))
