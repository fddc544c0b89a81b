"""ember.linalg (and the torch-level names built on it) on cuda tensors against the CPU's
result: values, gradients, errors and ``info`` tensors, batched and non-contiguous
inputs, real and complex dtypes.  The decompositions are compared through quantities
their sign and phase choices do not change (``U diag(S) Vh``, ``|R|``, ...), so that a
GPU solver may choose differently from LAPACK.  Marked gpu: without a GPU they run on
the emulated one."""
import numpy as np
import pytest

import ember
import ember.linalg as LA

pytestmark = pytest.mark.gpu

DTYPES = [ember.float32, ember.float64, ember.complex128]
TOL = {ember.float32: dict(rtol=2e-4, atol=2e-4), ember.float64: dict(rtol=1e-9, atol=1e-9),
       ember.complex128: dict(rtol=1e-9, atol=1e-9)}


def _spd(A):
    """A well-conditioned Hermitian positive-definite matrix made from ``A``."""
    n = A.shape[-1]
    return A @ A.mH + n * ember.eye(n, dtype=A.dtype, device=A.device)


def _tall(A):
    return A[..., :, :3]


def _svd(A):
    U, S, Vh = LA.svd(_tall(A), full_matrices=False)
    return (U * S.unsqueeze(-2).to(U.dtype)) @ Vh, S


def _eigh(A):
    L, V = LA.eigh(_spd(A))
    return L, (V * L.unsqueeze(-2).to(V.dtype)) @ V.mH


def _eig(A):
    L, V = LA.eig(A)
    # eigenvalues in a fixed order, and A V = V diag(L) (V's scaling does not matter)
    return LA.eigvals(A).abs().sort(-1).values, A.to(V.dtype) @ V - V * L.unsqueeze(-2)


def _qr(A):
    Q, R = LA.qr(_tall(A))
    Qc, Rc = LA.qr(_tall(A).mT, mode="complete")
    # neither mode='r' nor a complete Q of a tall matrix has a derivative
    Qt, Rt = LA.qr(_tall(A).detach(), mode="complete")
    return (Q @ R, R.abs(), Qc @ Rc, LA.qr(_tall(A).detach(), mode="r").R.abs(), Qt @ Rt,
            Qt.mH @ Qt)


def _lu(A):
    P, L, U = LA.lu(A)
    return P, L, U


def _ldl(A):
    H = _spd(A)
    LD, pivots = LA.ldl_factor(H)
    return LD, pivots, LA.ldl_solve(LD, pivots, A)


def _householder(A):
    # geqrf has no derivative: differentiate householder_product and ormqr in A
    a, tau = ember.geqrf(A.detach())
    return a.triu().abs(), tau.abs(), LA.householder_product(A, tau), ember.ormqr(A, tau, A)


# name -> (function of one (*, 4, 4) matrix, whether it is differentiable)
CASES = {
    "solve": (lambda A: LA.solve(A, A[..., :2] + 1), True),
    "solve_ex": (lambda A: tuple(LA.solve_ex(A, A[..., 0])), True),
    "inv": (LA.inv, True),
    "inv_ex": (lambda A: tuple(LA.inv_ex(A)), True),
    "det": (LA.det, True),
    "slogdet": (lambda A: tuple(LA.slogdet(A)), True),
    "logdet": (lambda A: ember.logdet(_spd(A)), True),
    "cholesky": (lambda A: LA.cholesky(_spd(A)), True),
    "cholesky_upper": (lambda A: LA.cholesky(_spd(A), upper=True), True),
    "cholesky_ex": (lambda A: tuple(LA.cholesky_ex(_spd(A))), True),
    "cholesky_solve": (lambda A: ember.cholesky_solve(A, LA.cholesky(_spd(A))), True),
    "cholesky_inverse": (lambda A: ember.cholesky_inverse(LA.cholesky(_spd(A))), True),
    "solve_triangular": (lambda A: LA.solve_triangular(_spd(A).triu(), A, upper=True), True),
    "solve_triangular_right": (lambda A: LA.solve_triangular(
        _spd(A).tril(), A, upper=False, left=False), True),
    "triangular_solve": (lambda A: ember.triangular_solve(A, _spd(A).triu())[0], True),
    "lu_factor": (lambda A: tuple(LA.lu_factor(A)), True),
    "lu": (_lu, True),
    "lu_solve": (lambda A: LA.lu_solve(*LA.lu_factor(A), A[..., :2]), True),
    "lu_solve_adjoint": (lambda A: LA.lu_solve(*LA.lu_factor(A), A[..., :2], adjoint=True),
                         True),
    "lu_unpack": (lambda A: tuple(ember.lu_unpack(*LA.lu_factor(A))), True),
    "qr": (_qr, True),
    "svd": (_svd, True),
    "svdvals": (LA.svdvals, True),
    "eigh": (_eigh, True),
    "eigvalsh": (lambda A: LA.eigvalsh(_spd(A)), True),
    "eig": (_eig, True),
    "lstsq": (lambda A: LA.lstsq(_tall(A), A[..., :2]).solution, True),
    "pinv": (lambda A: LA.pinv(_tall(A)), True),
    "pinv_hermitian": (lambda A: LA.pinv(_spd(A), hermitian=True), True),
    "matrix_rank": (LA.matrix_rank, False),
    "norm_nuc": (lambda A: LA.matrix_norm(A, "nuc"), True),
    "norm_2": (lambda A: LA.matrix_norm(A, 2), True),
    "cond": (LA.cond, True),
    "cond_fro": (lambda A: LA.cond(A, "fro"), True),
    "matrix_exp": (LA.matrix_exp, True),
    "matrix_power": (lambda A: LA.matrix_power(A, -2), True),
    "tensorinv": (lambda A: LA.tensorinv(A.reshape(*A.shape[:-2], 4, 2, 2), 1), True),
    "ldl": (_ldl, False),
    "householder_product": (_householder, True),
    "inverse": (ember.inverse, True),
    "pinverse": (ember.pinverse, True),
}


def sample(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if dtype.is_complex:
        x = x + 1j * rng.standard_normal(shape)
    return ember.tensor(x).to(dtype)


def layouts(dtype):
    """One matrix, a batch, and a transposed (non-contiguous) batch."""
    yield sample((4, 4), dtype)
    yield sample((2, 3, 4, 4), dtype, seed=1)
    yield sample((3, 4, 4), dtype, seed=2).mT


def outputs(result):
    return [r for r in (result if isinstance(result, tuple) else (result,))]


def same(got, want, dtype):
    assert got.device.type == "cuda", got.device
    assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape)
    g, w = got.detach().cpu().numpy(), want.detach().numpy()
    if w.dtype.kind in "fc":
        np.testing.assert_allclose(g, w, **TOL[dtype])
    else:
        np.testing.assert_array_equal(g, w)


def _run(fn, A):
    try:
        return fn(A), None
    except (RuntimeError, NotImplementedError) as e:
        return None, e


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_matches_cpu(name, dtype):
    fn, differentiable = CASES[name]
    for A in layouts(dtype):
        want, error = _run(fn, A)
        if error is not None:
            # what the CPU refuses the GPU refuses with the same error
            with pytest.raises(type(error)) as got:
                fn(A.cuda())
            assert str(got.value) == str(error)
            continue
        for g, w in zip(outputs(fn(A.cuda())), outputs(want), strict=True):
            same(g, w, dtype)
        if not differentiable:
            continue
        # the gradients of a fixed weighted sum of the (floating) outputs
        grads = []
        for X in (A, A.cuda()):
            X = X.detach().requires_grad_()
            outs = [o for o in outputs(fn(X)) if o.is_floating_point() or o.is_complex()]
            weights = [sample(tuple(o.shape), o.dtype, seed=3 + k).to(X.device)
                       for k, o in enumerate(outs)]
            loss = sum((o * w.conj()).real.sum() if o.is_complex() else (o * w).sum()
                       for o, w in zip(outs, weights))
            loss.backward()
            grads.append(X.grad)
        same(grads[1], grads[0], dtype)


def test_gradcheck_on_cuda():
    A = sample((2, 3, 3), ember.float64).cuda().requires_grad_()
    B = sample((2, 3, 2), ember.float64, seed=1).cuda().requires_grad_()
    assert ember.autograd.gradcheck(LA.solve, (A, B))
    assert ember.autograd.gradcheck(lambda A: LA.eigvalsh(_spd(A)), (A,))
    assert ember.autograd.gradcheck(lambda A: LA.cholesky(_spd(A)), (A,))


def test_singular_and_not_positive_definite_raise_as_on_the_cpu():
    singular = ember.tensor([[[1., 2.], [2., 4.]], [[1., 0.], [0., 1.]]])
    for fn in (LA.inv, lambda A: LA.solve(A, A), LA.cholesky, LA.lu_factor):
        with pytest.raises(LA.LinAlgError) as cpu:
            fn(singular.flip(0))
        with pytest.raises(LA.LinAlgError) as gpu:
            fn(singular.flip(0).cuda())
        assert str(gpu.value) == str(cpu.value)


def test_ex_info_stays_on_the_device():
    A = ember.tensor([[[1., 2.], [2., 4.]], [[4., 1.], [1., 3.]]]).cuda()
    for fn in (LA.cholesky_ex, LA.inv_ex, LA.lu_factor_ex, LA.ldl_factor_ex):
        info = fn(A).info
        assert info.device.type == "cuda" and info.dtype == ember.int32
        same(info, fn(A.cpu()).info, ember.float64)


def test_out_on_the_device():
    A = sample((3, 3), ember.float64)
    out = ember.empty((3, 3), dtype=ember.float64, device="cuda")
    assert LA.inv(A.cuda(), out=out) is out
    same(out, LA.inv(A), ember.float64)
    L = ember.empty(3, dtype=ember.float64, device="cuda")
    V = ember.empty((3, 3), dtype=ember.float64, device="cuda")
    LA.eigh(_spd(A).cuda(), out=(L, V))
    same(L, LA.eigvalsh(_spd(A)), ember.float64)


def test_mixed_devices_raise():
    A = sample((3, 3), ember.float64)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        LA.solve(A.cuda(), A)


def test_decompositions_go_to_cusolver(monkeypatch):
    """eigh, svd, qr, det, slogdet, cholesky, solve and the LU (and what is built on
    them) run on the GPU; the rest copies to the host; empty inputs never reach CuPy."""
    from ember.cuda._backend import CudaBackend
    called = []
    routine = CudaBackend.linalg

    def record(self, name, *args):
        called.append(name)
        return routine(self, name, *args)
    monkeypatch.setattr(CudaBackend, "linalg", record)
    A = sample((2, 4, 4), ember.float64).cuda()
    expected = {LA.eigh: "eigh", LA.eigvalsh: "eigh", LA.svd: "svd", LA.svdvals: "svd",
                LA.det: "det", LA.slogdet: "slogdet", LA.pinv: "svd", LA.matrix_rank: "svd",
                LA.cond: "svd", lambda A: LA.pinv(A, hermitian=True): "eigh", LA.qr: "qr",
                lambda A: LA.qr(A, mode="r"): "qr", lambda A: LA.qr(A, "complete"): "qr",
                lambda A: LA.cholesky_ex(A): "cholesky",
                lambda A: LA.cholesky_ex(A, upper=True): "cholesky",
                lambda A: LA.solve(A, A): "solve", LA.inv: "solve", LA.lu_factor: "lu_factor",
                LA.lu: "lu_factor"}
    for fn, name in expected.items():
        called.clear()
        fn(A)
        assert called and set(called) == {name}, (fn, called)
    LU, pivots = LA.lu_factor(A)
    called.clear()
    LA.lu_solve(LU, pivots, A, adjoint=True)
    assert called == ["lu_solve"]
    called.clear()
    LA.lu_factor(A[:, :3])                  # not square: on the host
    LA.solve_triangular(A, A, upper=True)
    LA.svd(A[:, :0])
    LA.eigvalsh(A[:0])
    assert called == []


def test_singular_determinants_match_cpu():
    A = ember.tensor([[[1., 2.], [2., 4.]], [[0., 1.], [1., 0.]]], dtype=ember.float64)
    same(LA.det(A.cuda()), LA.det(A), ember.float64)
    for g, w in zip(LA.slogdet(A.cuda()), LA.slogdet(A)):
        same(g, w, ember.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_cholesky_info_names_the_failing_minor(dtype):
    # batch element 1 fails at order 2, element 2 at order 3; upper=True reads the
    # upper triangle, as on the CPU
    A = sample((3, 3, 3), dtype)
    A = _spd(A).clone()
    A[1, 1, 1] = -5
    A[2, 2, 2] = -50
    A[2, 0, 2] = 7                      # the upper and lower triangles differ
    A[0, 0, 2] += 0.5
    for upper in (False, True):
        got, want = LA.cholesky_ex(A.cuda(), upper=upper), LA.cholesky_ex(A, upper=upper)
        same(got.info, want.info, dtype)
        assert want.info.tolist() == [0, 2, 3]
        same(got.L[0], want.L[0], dtype)
        with pytest.raises(LA.LinAlgError) as cpu:
            LA.cholesky(A, upper=upper)
        with pytest.raises(LA.LinAlgError) as gpu:
            LA.cholesky(A.cuda(), upper=upper)
        assert str(gpu.value) == str(cpu.value)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_solve_broadcasts_and_leaves_singular_systems_as_the_cpu(dtype):
    A = sample((3, 3), dtype)
    B = sample((2, 3, 3, 2), dtype, seed=1)
    for a, b in ((A, B), (A.expand(2, 3, 3, 3).mT, B[0, 0]), (A, B[0, 0, :, 0])):
        same(LA.solve(a.cuda(), b.cuda()), LA.solve(a, b), dtype)
        LU, pivots = LA.lu_factor(a)
        for adjoint in (False, True):
            same(LA.lu_solve(LU.cuda(), pivots.cuda(), b.cuda() if b.dim() > 1 else
                             b.unsqueeze(-1).cuda(), adjoint=adjoint),
                 LA.lu_solve(LU, pivots, b if b.dim() > 1 else b.unsqueeze(-1),
                             adjoint=adjoint), dtype)
    singular = ember.stack([ember.ones(3, 3, dtype=dtype), A])
    got, want = LA.solve_ex(singular.cuda(), B[0, :2].cuda()), LA.solve_ex(singular, B[0, :2])
    same(got.info, want.info, dtype)
    same(got.result, want.result, dtype)          # a singular system keeps its B
