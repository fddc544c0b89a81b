"""ember.linalg solvers and factorizations against NumPy/SciPy (values) and torch 2.13
(semantics, errors, gradients)."""
import numpy as np
import pytest
import scipy.linalg
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

RNG = np.random.default_rng(0)
DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
TOL = {np.float32: 2e-4, np.float64: 1e-10, np.complex64: 2e-4, np.complex128: 1e-10}


def rand(*shape, dtype=np.float64, rng=RNG):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def well_conditioned(*shape, dtype=np.float64):
    n = shape[-1]
    return (rand(*shape, dtype=dtype) + 3 * n ** 0.5 * np.eye(n)).astype(dtype)


def spd(*shape, dtype=np.float64):
    a = rand(*shape, dtype=dtype)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def E(a):
    return ember.tensor(a)


def close(e, expected, dtype=np.float64):
    np.testing.assert_allclose(np.asarray(e), expected, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


def views(a):
    """The same matrices as ember tensors in several layouts."""
    t = E(a)
    yield "contiguous", t
    yield "transposed", E(np.ascontiguousarray(np.swapaxes(a, -1, -2))).mT
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    big[..., ::2] = a
    yield "strided", E(big)[..., ::2]
    yield "negative", E(np.ascontiguousarray(a[..., ::-1, :]))[..., ::-1, :]


# ---------------------------------------------------------------- solve

@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_values_layouts(dtype):
    a = well_conditioned(3, 4, 4, dtype=dtype)
    b = rand(3, 4, 2, dtype=dtype)
    expected = np.linalg.solve(a, b)
    for _, A in views(a):
        for _, B in views(b):
            close(ember.linalg.solve(A, B), expected, dtype)


def test_solve_broadcast_vector_left_right():
    a = well_conditioned(2, 1, 3, 3)
    b = rand(3, 4)
    ta, tb = torch.tensor(a), torch.tensor(b)
    close(ember.linalg.solve(E(a), E(b)), torch.linalg.solve(ta, tb).resolve_conj().numpy())
    close(ember.linalg.solve(E(a[0, 0]), E(b[:, 0])), np.linalg.solve(a[0, 0], b[:, 0]))
    # a batch of vectors: B.shape == A.shape[:-1]
    bv = rand(2, 1, 3)
    close(ember.linalg.solve(E(a), E(bv)), torch.linalg.solve(ta, torch.tensor(bv)).numpy())
    br = rand(2, 5, 3)
    close(ember.linalg.solve(E(a), E(br), left=False),
          torch.linalg.solve(ta, torch.tensor(br), left=False).resolve_conj().numpy())
    # expanded (zero-stride) A shared by a batch
    A = E(a[0, 0]).expand(4, 3, 3)
    close(ember.linalg.solve(A, E(rand(4, 3, 2, rng=np.random.default_rng(1)))),
          np.linalg.solve(a[0, 0], rand(4, 3, 2, rng=np.random.default_rng(1))))


def test_solve_empty_and_ex():
    assert tuple(ember.linalg.solve(ember.zeros(0, 0), ember.zeros(0)).shape) == (0,)
    assert tuple(ember.linalg.solve(ember.zeros(2, 0, 0), ember.zeros(2, 0, 3)).shape) == (2, 0, 3)
    res, info = ember.linalg.solve_ex(ember.zeros(2, 3, 3), ember.ones(2, 3))
    assert info.dtype == ember.int32 and info.tolist() == [1, 1]
    res, info = ember.linalg.solve_ex(E(well_conditioned(3, 3)), E(rand(3)))
    assert info.item() == 0


@pytest.mark.parametrize("call, exc, text", [
    (lambda: ember.linalg.solve(ember.zeros(3, 3), ember.ones(3)), ember.linalg.LinAlgError,
     "input matrix is singular"),
    (lambda: ember.linalg.solve(ember.zeros(2, 3, 3), ember.ones(3)), ember.linalg.LinAlgError,
     "(Batch element 0)"),
    (lambda: ember.linalg.solve(ember.ones(3, 3, dtype=ember.int64), ember.ones(3)), RuntimeError,
     "Expected a floating point or complex tensor as input. Got Long"),
    (lambda: ember.linalg.solve(ember.ones(3, 2), ember.ones(3)), RuntimeError,
     "A must be batches of square matrices, but they are 3 by 2 matrices"),
    (lambda: ember.linalg.solve(ember.eye(3), ember.ones(4)), RuntimeError,
     "Incompatible shapes of A and B for the equation AX = B (3x3 and 4x1)"),
    (lambda: ember.linalg.solve(ember.eye(3), ember.ones(3, dtype=ember.float64)), RuntimeError,
     "Expected A and B to have the same dtype"),
    (lambda: ember.linalg.solve(ember.ones(3, 3, dtype=ember.float16),
                                ember.ones(3, dtype=ember.float16)), NotImplementedError, "Half"),
    (lambda: ember.linalg.inv(ember.zeros(3, 3)), ember.linalg.LinAlgError,
     "The diagonal element 1 is zero"),
    (lambda: ember.linalg.inv(ember.ones(3)), RuntimeError, "at least 2 dimensions"),
    (lambda: ember.linalg.solve([[1.]], ember.ones(1)), TypeError, "must be Tensor"),
])
def test_errors(call, exc, text):
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


# the keyword names PyTorch's Python binding gives, where its docs (and ember's signatures)
# say otherwise: torch.linalg.eigh(input=A) works, eigh(A=A) does not
BINDING_KEYWORDS = {
    "linalg.cholesky": lambda L, A, B: L.linalg.cholesky(input=A, upper=True),
    "linalg.cholesky_ex": lambda L, A, B: L.linalg.cholesky_ex(input=A),
    "linalg.eigh": lambda L, A, B: L.linalg.eigh(input=A, UPLO="U").eigenvalues,
    "linalg.eigvalsh": lambda L, A, B: L.linalg.eigvalsh(input=A),
    "linalg.eig": lambda L, A, B: L.linalg.eig(input=A).eigenvalues.abs(),
    "linalg.eigvals": lambda L, A, B: L.linalg.eigvals(input=A).abs(),
    "linalg.lstsq": lambda L, A, B: L.linalg.lstsq(input=A, b=B).solution,
    "linalg.lstsq_b": lambda L, A, B: L.linalg.lstsq(A, b=B, driver="gelsd").solution,
    "linalg.tensorsolve": lambda L, A, B: L.linalg.tensorsolve(input=A, other=B[:, 0]),
    "linalg.tensorinv": lambda L, A, B: L.linalg.tensorinv(input=A.reshape(3, 1, 3), ind=1),
    "linalg.solve_triangular": lambda L, A, B: L.linalg.solve_triangular(
        input=A.triu(), B=B, upper=True),
    "linalg.cond": lambda L, A, B: L.linalg.cond(input=A, p="fro"),
    "linalg.pinv": lambda L, A, B: L.linalg.pinv(input=A, hermitian=True),
    "linalg.matrix_rank": lambda L, A, B: L.linalg.matrix_rank(input=A),
    "linalg.matrix_norm": lambda L, A, B: L.linalg.matrix_norm(input=A, ord="nuc"),
    "linalg.norm": lambda L, A, B: L.linalg.norm(input=A, ord=2),
    "linalg.vector_norm": lambda L, A, B: L.linalg.vector_norm(input=A, ord=3),
    "linalg.matrix_power": lambda L, A, B: L.linalg.matrix_power(input=A, n=-2),
    "linalg.matrix_exp": lambda L, A, B: L.linalg.matrix_exp(input=A / 10),
    "linalg.ldl_factor": lambda L, A, B: L.linalg.ldl_factor(input=A).LD,
    "linalg.ldl_factor_ex": lambda L, A, B: L.linalg.ldl_factor_ex(input=A).LD,
    "det": lambda L, A, B: L.det(input=A),
    "logdet": lambda L, A, B: L.logdet(input=A),
    "slogdet": lambda L, A, B: L.slogdet(input=A).logabsdet,
    "inverse": lambda L, A, B: L.inverse(input=A),
    "matrix_exp": lambda L, A, B: L.matrix_exp(input=A / 10),
    "matrix_power": lambda L, A, B: L.matrix_power(input=A, n=3),
}


@pytest.mark.parametrize("name", sorted(BINDING_KEYWORDS))
def test_pytorchs_keyword_names(name):
    a = well_conditioned(3, 3)
    a = a @ a.T                          # positive definite, for cholesky and ldl
    b = rand(3, 2)
    call = BINDING_KEYWORDS[name]
    got, want = call(ember, ember.tensor(a), ember.tensor(b)), call(torch, torch.tensor(a),
                                                                    torch.tensor(b))
    for g, w in zip(got if isinstance(got, tuple) else (got,),
                    want if isinstance(want, tuple) else (want,)):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(np.asarray(g), w.numpy(), rtol=1e-9, atol=1e-12)


def test_documented_names_still_work_and_keywords_are_given_once():
    a = ember.eye(3, dtype=ember.float64) * 2
    assert ember.linalg.eigh(A=a).eigenvalues.tolist() == [2.0, 2.0, 2.0]
    assert ember.linalg.lstsq(A=a, B=a).solution.tolist() == ember.eye(3).tolist()
    with pytest.raises(TypeError, match="multiple values for argument 'A'"):
        ember.linalg.eigh(input=a, A=a)
    with pytest.raises(TypeError):
        ember.linalg.cholesky(a, input=a)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_solve_grads(layout):
    a, b = well_conditioned(2, 3, 3), rand(2, 3, 2)
    assert_grads_match_torch(lambda lib, A, B: lib.linalg.solve(A, B), a, b,
                             layout=LAYOUTS[layout])
    assert_grads_match_torch(lambda lib, A, B: lib.linalg.solve(A, B, left=False), a[0],
                             rand(4, 3), layout=LAYOUTS[layout])


def test_solve_grads_broadcast_complex_gradgrad():
    assert_grads_match_torch(lambda lib, A, B: lib.linalg.solve(A, B), well_conditioned(3, 3),
                             rand(2, 3, 2))
    assert_grads_match_torch(lambda lib, A, B: lib.linalg.solve(A, B).abs(),
                             well_conditioned(3, 3, dtype=np.complex128),
                             rand(3, 2, dtype=np.complex128))
    check_gradients(lambda lib, A, B: lib.linalg.solve(A, B), well_conditioned(3, 3), rand(3, 2))
    res = ember.linalg.solve(E(well_conditioned(3, 3)).requires_grad_(), E(rand(3, 1)))
    assert res.grad_fn.name() == "LinalgSolveExBackward0"


# ---------------------------------------------------------------- inv, det, slogdet

@pytest.mark.parametrize("dtype", DTYPES)
def test_inv_det_slogdet_values(dtype):
    a = rand(2, 4, 4, dtype=dtype)
    for _, A in views(a):
        close(ember.linalg.inv(A), np.linalg.inv(a), dtype)
        close(ember.linalg.det(A), np.linalg.det(a), dtype)
        sign, logabsdet = ember.linalg.slogdet(A)
        s2, l2 = np.linalg.slogdet(a)
        close(sign, s2, dtype)
        close(logabsdet, l2, dtype)
        assert logabsdet.dtype == ember.tensor(np.zeros(1, dtype).real).dtype


def test_det_edge_cases():
    assert ember.linalg.det(ember.zeros(0, 0)).item() == 1.0
    assert tuple(ember.linalg.det(ember.zeros(2, 0, 0)).shape) == (2,)
    assert ember.linalg.det(ember.zeros(3, 3)).item() == 0.0
    sign, logabsdet = ember.linalg.slogdet(ember.zeros(3, 3))
    assert sign.item() == 0 and logabsdet.item() == -np.inf
    assert np.isnan(ember.logdet(ember.tensor([[-1.0]])).item())
    s = spd(3, 3)
    close(ember.logdet(E(s)), np.linalg.slogdet(s)[1])
    assert ember.det is not None and ember.inverse is ember.linalg.inv
    with pytest.raises(RuntimeError, match="square matrices, but they are 3 by 2"):
        ember.linalg.det(ember.ones(3, 2))


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_inv_det_slogdet_grads(layout):
    a = well_conditioned(2, 3, 3)
    L = LAYOUTS[layout]
    assert_grads_match_torch(lambda lib, A: lib.linalg.inv(A), a, layout=L)
    assert_grads_match_torch(lambda lib, A: lib.linalg.det(A), a, layout=L)
    assert_grads_match_torch(lambda lib, A: lib.linalg.slogdet(A).logabsdet, a, layout=L)
    assert_grads_match_torch(lambda lib, A: lib.logdet(A @ A.mT), a, layout=L)


def test_inv_det_slogdet_complex_grads_and_gradgrad():
    a = well_conditioned(3, 3, dtype=np.complex128)
    assert_grads_match_torch(lambda lib, A: lib.linalg.inv(A), a)
    assert_grads_match_torch(lambda lib, A: lib.linalg.det(A), a)
    assert_grads_match_torch(lambda lib, A: lib.linalg.slogdet(A), a)
    for f in (lambda lib, A: lib.linalg.inv(A), lambda lib, A: lib.linalg.det(A),
              lambda lib, A: lib.linalg.slogdet(A).logabsdet):
        check_gradients(f, well_conditioned(3, 3))


# ---------------------------------------------------------------- cholesky

@pytest.mark.parametrize("dtype", DTYPES)
def test_cholesky_values(dtype):
    a = spd(2, 4, 4, dtype=dtype)
    for _, A in views(a):
        close(ember.linalg.cholesky(A), np.linalg.cholesky(a), dtype)
        close(ember.linalg.cholesky(A, upper=True),
              np.conj(np.swapaxes(np.linalg.cholesky(a), -1, -2)), dtype)


def test_cholesky_reads_one_triangle_and_errors():
    a = spd(3, 3)
    junk = a.copy()
    junk[np.triu_indices(3, 1)] = 99
    close(ember.linalg.cholesky(E(junk)), torch.linalg.cholesky(torch.tensor(junk)).numpy())
    junk = a.copy()
    junk[np.tril_indices(3, -1)] = 99
    close(ember.linalg.cholesky(E(junk), upper=True),
          torch.linalg.cholesky(torch.tensor(junk), upper=True).resolve_conj().numpy())
    with pytest.raises(ember.linalg.LinAlgError, match="leading minor of order 1 is not"):
        ember.linalg.cholesky(-ember.eye(3))
    with pytest.raises(ember.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        ember.linalg.cholesky(ember.stack([ember.eye(2), -ember.eye(2)]))
    L, info = ember.linalg.cholesky_ex(-ember.eye(3))
    assert info.item() == 1
    close(ember.cholesky_inverse(E(np.linalg.cholesky(a))), np.linalg.inv(a))
    close(ember.cholesky_inverse(E(np.linalg.cholesky(a).T), upper=True), np.linalg.inv(a))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_grads(upper):
    def f(lib, X):
        return lib.linalg.cholesky(X @ X.mH + 3 * lib.eye(3, dtype=X.dtype), upper=upper)
    assert_grads_match_torch(f, rand(2, 3, 3), layout=LAYOUTS["transposed"])
    assert_grads_match_torch(f, rand(3, 3, dtype=np.complex128))
    check_gradients(f, rand(3, 3))


# ---------------------------------------------------------------- solve_triangular

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular_values(dtype, upper, left):
    a = well_conditioned(2, 4, 4, dtype=dtype)
    b = rand(2, 4, 3, dtype=dtype) if left else rand(2, 3, 4, dtype=dtype)
    ta, tb = torch.tensor(a), torch.tensor(b)
    for unit in (False, True):
        expected = torch.linalg.solve_triangular(ta, tb, upper=upper, left=left,
                                                 unitriangular=unit).resolve_conj().numpy()
        for _, A in views(a):
            close(ember.linalg.solve_triangular(A, E(b), upper=upper, left=left,
                                                unitriangular=unit), expected, dtype)
    # one A shared by a batch of B (zero batch stride), and a broadcast batch of A
    shared = torch.linalg.solve_triangular(ta[0], tb, upper=upper, left=left).resolve_conj().numpy()
    close(ember.linalg.solve_triangular(E(a[0]), E(b), upper=upper, left=left), shared, dtype)
    close(ember.linalg.solve_triangular(E(a[0]).expand(2, 4, 4), E(b), upper=upper, left=left),
          shared, dtype)


def test_solve_triangular_errors():
    with pytest.raises(RuntimeError, match="B must have at least 2 dimensions"):
        ember.linalg.solve_triangular(ember.eye(3), ember.ones(3), upper=True)
    with pytest.raises(TypeError):
        ember.linalg.solve_triangular(ember.eye(3), ember.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"AX = B \(3x3 and 4x2\)"):
        ember.linalg.solve_triangular(ember.eye(3), ember.ones(4, 2), upper=True)


@pytest.mark.parametrize("upper,left,unit", [(True, True, False), (False, False, False),
                                             (False, True, True)])
def test_solve_triangular_grads(upper, left, unit):
    a = well_conditioned(2, 3, 3)
    b = rand(2, 3, 2) if left else rand(2, 2, 3)

    def f(lib, A, B):
        return lib.linalg.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
    assert_grads_match_torch(f, a, b, layout=LAYOUTS["transposed"])
    check_gradients(f, a[0], b[0])
    X = ember.linalg.solve_triangular(E(a).requires_grad_(), E(b), upper=upper, left=left)
    assert X.grad_fn.name() == "LinalgSolveTriangularBackward0"


@pytest.mark.parametrize("a_shape,b_shape,left", [((0, 0), (0, 2), True), ((0, 0), (3, 0), False),
                                                  ((2, 3, 3), (2, 3, 0), True),
                                                  ((2, 0, 0), (2, 0, 1), True)])
def test_solve_triangular_and_cholesky_of_empty_matrices(a_shape, b_shape, left):
    def f(lib, A, B):
        return lib.linalg.solve_triangular(A, B, upper=True, left=left)
    assert_grads_match_torch(f, rand(*a_shape), rand(*b_shape))
    if a_shape[-1] == 0:
        assert_grads_match_torch(lambda lib, A: lib.linalg.cholesky(A), rand(*a_shape))


# ---------------------------------------------------------------- LU

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 5)])
def test_lu_factor_and_lu(dtype, shape):
    a = rand(*shape, dtype=dtype)
    LU, piv = ember.linalg.lu_factor(E(a))
    tLU, tpiv = torch.linalg.lu_factor(torch.tensor(a))
    close(LU, tLU.resolve_conj().numpy(), dtype)
    assert piv.dtype == ember.int32 and np.array_equal(np.asarray(piv), tpiv.resolve_conj().numpy())
    P, L, U = ember.linalg.lu(E(a))
    for e, t in zip((P, L, U), torch.linalg.lu(torch.tensor(a))):
        close(e, t.resolve_conj().numpy(), dtype)
    close(P @ L @ U, a, dtype)


def test_lu_factor_singular():
    LU, piv, info = ember.linalg.lu_factor_ex(ember.zeros(3, 3))
    assert info.item() == 1 and piv.tolist() == [1, 2, 3]
    with pytest.raises(ember.linalg.LinAlgError, match=r"U\[1,1\] is zero"):
        ember.linalg.lu_factor(ember.zeros(3, 3))
    with pytest.raises(RuntimeError, match="without pivoting"):
        ember.linalg.lu_factor(ember.eye(3), pivot=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lu_solve(dtype):
    a = well_conditioned(2, 4, 4, dtype=dtype)
    b = rand(2, 4, 3, dtype=dtype)
    LU, piv = ember.linalg.lu_factor(E(a))
    tLU, tpiv = torch.linalg.lu_factor(torch.tensor(a))
    for left in (True, False):
        for adjoint in (False, True):
            rhs = b if left else np.swapaxes(b, -1, -2).copy()
            expected = torch.linalg.lu_solve(tLU, tpiv, torch.tensor(rhs), left=left,
                                             adjoint=adjoint).resolve_conj().numpy()
            close(ember.linalg.lu_solve(LU, piv, E(rhs), left=left, adjoint=adjoint),
                  expected, dtype)
    # a single factorization shared by a batch of right-hand sides
    close(ember.linalg.lu_solve(LU[0], piv[0], E(b)), np.linalg.solve(a[0], b), dtype)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 5, 3)])
def test_lu_grads_rectangular(shape):
    assert_grads_match_torch(lambda lib, A: lib.linalg.lu_factor(A).LU, rand(*shape))
    assert_grads_match_torch(lambda lib, A: lib.linalg.lu(A), rand(*shape))
    check_gradients(lambda lib, A: lib.linalg.lu_factor(A).LU, rand(*shape[1:]))


def test_lu_grads():
    a = well_conditioned(2, 3, 3)
    assert_grads_match_torch(lambda lib, A: lib.linalg.lu_factor(A).LU, a)
    assert_grads_match_torch(lambda lib, A: lib.linalg.lu(A), a)
    check_gradients(lambda lib, A: lib.linalg.lu_factor(A).LU, a[0])

    def f(lib, A, B):
        LU, piv = lib.linalg.lu_factor(A)
        return lib.linalg.lu_solve(LU, piv, B, adjoint=True)
    assert_grads_match_torch(f, a, rand(2, 3, 2))


def test_large_batches_run_in_parallel_correctly():
    # enough matrices that the batch is shared out over threads
    a = well_conditioned(600, 8, 8)
    b = rand(600, 8, 3)
    close(ember.linalg.solve(E(a), E(b)), np.linalg.solve(a, b))
    close(ember.linalg.det(E(a)), np.linalg.det(a))
    s = spd(600, 8, 8)
    close(ember.linalg.cholesky(E(s)), np.linalg.cholesky(s))
    close(ember.linalg.solve_triangular(E(a), E(b), upper=True),
          np.stack([scipy.linalg.solve_triangular(x, y) for x, y in zip(a, b)]))
    tall = rand(600, 10, 8)
    close(ember.linalg.lstsq(E(tall), E(rand(600, 10, 2, rng=np.random.default_rng(5))),
                             driver="gelsd").solution,
          np.stack([np.linalg.lstsq(x, y, rcond=None)[0] for x, y in
                    zip(tall, rand(600, 10, 2, rng=np.random.default_rng(5)))]))
    LU, piv = ember.linalg.lu_factor(E(a))
    close(ember.linalg.lu_solve(LU, piv, E(b)), np.linalg.solve(a, b))


def _cofactor_matrix(a):
    """d det(A) / dA: the cofactor matrix, by minors (exact for singular A too)."""
    n = a.shape[-1]
    out = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, -2), j, -1)
            out[..., i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


@pytest.mark.parametrize("matrix", [
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],     # rank 2
    [[1.0, 2.0], [2.0, 4.0]],                                 # det exactly 0
    [[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.0, 1.0, 5.0]],     # a batch: singular + regular
     [[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]],
])
def test_det_gradient_of_singular_matrices_is_the_cofactor_matrix(matrix):
    a = np.array(matrix)
    x = ember.tensor(a, requires_grad=True)
    ember.linalg.det(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _cofactor_matrix(a), atol=1e-12)
    # and once more through create_graph (torch's double-backward formula is the same)
    t = torch.tensor(a, requires_grad=True)
    g_t, = torch.autograd.grad(torch.linalg.det(t).sum(), t, create_graph=True)
    x = ember.tensor(a, requires_grad=True)
    g, = ember.autograd.grad(ember.linalg.det(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), g_t.detach().numpy(), atol=1e-12)
    (g * g).sum().backward()
    (g_t * g_t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("n", [1, 2, 5, 16, 17])     # 16: the last size ember solves itself
def test_small_matrix_solves_match_lapack(dtype, n):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((40, n, n))
    b = rng.standard_normal((40, n, 3))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal((40, n, n))
    a, b = a.astype(dtype), b.astype(dtype)
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    tol = 1e-3 if np.dtype(dtype).itemsize <= 8 and dtype != np.float64 else 1e-10
    for A in (a, np.swapaxes(a, 1, 2)):                 # row- and column-major inputs
        got = ember.linalg.solve(ember.tensor(A), ember.tensor(b)).numpy()
        want = np.linalg.solve(A.astype(wide), b.astype(wide))
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
        lu, piv = ember.linalg.lu_factor(ember.tensor(A))
        lu_t, piv_t = torch.linalg.lu_factor(torch.tensor(A))
        np.testing.assert_array_equal(piv.numpy(), piv_t.numpy())     # same pivots as LAPACK
        np.testing.assert_allclose(lu.numpy(), lu_t.numpy(), rtol=tol, atol=tol)
        for adjoint in (False, True):
            got = ember.linalg.lu_solve(lu, piv, ember.tensor(b), adjoint=adjoint).numpy()
            want = torch.linalg.lu_solve(lu_t, piv_t, torch.tensor(b), adjoint=adjoint).numpy()
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    singular = a.copy()
    singular[7, :, 0] = 0
    with pytest.raises(ember.linalg.LinAlgError, match=r"\(Batch element 7\)"):
        ember.linalg.solve(ember.tensor(singular), ember.tensor(b))
