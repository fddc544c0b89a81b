"""The dtypes linalg's out= tensors may have, against torch: the result's own for most
functions, a safely castable one for pinv and matrix_power(A, 0); the errors word for word
(a silent cast into an integer out would truncate the result)."""
import pytest
import torch

import ember

CALLS = {
    "inv": lambda L, o: L.linalg.inv(L.eye(3) * 2, out=o),
    "det": lambda L, o: L.linalg.det(L.eye(3) * 2, out=o),
    "solve": lambda L, o: L.linalg.solve(L.eye(3) * 2, L.ones(3), out=o),
    "cholesky": lambda L, o: L.linalg.cholesky(L.eye(3), out=o),
    "vector_norm": lambda L, o: L.linalg.vector_norm(L.ones(3), out=o),
    "cross": lambda L, o: L.linalg.cross(L.ones(3), L.ones(3), out=o),
    "svdvals": lambda L, o: L.linalg.svdvals(L.eye(3), out=o),
    "slogdet": lambda L, o: L.linalg.slogdet(L.eye(2), out=(o, o.clone())),
    "pinv": lambda L, o: L.linalg.pinv(L.eye(3), out=o),
    "matrix_power": lambda L, o: L.linalg.matrix_power(L.eye(3), 2, out=o),
    "matrix_power_0": lambda L, o: L.linalg.matrix_power(L.eye(3), 0, out=o),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex128"])
def test_out_dtype_rules_match_torch(name, dtype):
    outcomes = []
    for lib in (torch, ember):
        out = lib.zeros(0, dtype=getattr(lib, dtype))
        try:
            CALLS[name](lib, out)
            outcomes.append(("ok", tuple(out.shape)))
        except RuntimeError as err:
            outcomes.append(("error", str(err)))
    assert outcomes[1] == outcomes[0]


# matrix_rank writes its int64 count into any out it safely casts to (not bool), as torch
RANK_CALLS = {
    "rank": lambda L, A, o: L.linalg.matrix_rank(A, out=o),
    "rank_hermitian": lambda L, A, o: L.linalg.matrix_rank(A, hermitian=True, out=o),
    "rank_tol": lambda L, A, o: L.linalg.matrix_rank(A, tol=0.5, out=o),
    "rank_atol_tensor": lambda L, A, o: L.linalg.matrix_rank(
        A, atol=L.tensor([0.5, 0.1], dtype=A.dtype), out=o),
}
RANK_OUT_DTYPES = ["int64", "int32", "int16", "uint8", "bool", "float16", "float32", "float64",
                   "complex64"]


def _rank_outcome(lib, name, out_dtype, shape, out_shape):
    A = lib.tensor([[[1., 2.], [2., 4.]], [[1., 0.], [0., 3.]]], dtype=lib.float64)
    A = A.reshape(shape) if shape != (2, 2, 2) else A
    out = lib.zeros(out_shape, dtype=getattr(lib, out_dtype))
    try:
        RANK_CALLS[name](lib, A, out)
    except RuntimeError as err:
        return ("error", str(err))
    return ("ok", str(out.dtype).split(".")[-1], tuple(out.shape), out.tolist())


@pytest.mark.parametrize("name", RANK_CALLS)
@pytest.mark.parametrize("out_dtype", RANK_OUT_DTYPES)
def test_matrix_rank_out_dtypes_match_torch(name, out_dtype):
    for out_shape in [(2,), (0,), (5, 1)]:
        ours = _rank_outcome(ember, name, out_dtype, (2, 2, 2), out_shape)
        assert ours == _rank_outcome(torch, name, out_dtype, (2, 2, 2), out_shape)


@pytest.mark.parametrize("out_dtype", ["int32", "float32", "bool"])
def test_matrix_rank_of_empty_matrices_out_dtypes_match_torch(out_dtype):
    outcomes = []
    for lib in (torch, ember):
        out = lib.zeros(3, dtype=getattr(lib, out_dtype))
        try:
            lib.linalg.matrix_rank(lib.zeros(2, 0, 3, dtype=lib.float64), out=out)
            outcomes.append(("ok", str(out.dtype).split(".")[-1], out.tolist()))
        except RuntimeError as err:
            outcomes.append(("error", str(err)))
    assert outcomes[1] == outcomes[0]


def test_matrix_rank_out_under_autograd_matches_torch():
    # the rank is not differentiable: an out of any castable dtype takes it
    for lib in (torch, ember):
        A = lib.tensor([[1., 2.], [2., 4.]], dtype=lib.float64, requires_grad=True)
        out = lib.zeros((), dtype=lib.int32)
        lib.linalg.matrix_rank(A, out=out)
        assert out.item() == 1 and not out.requires_grad


# the norms: vector_norm is a structured op in PyTorch (the generic message); matrix_norm
# and norm are composites that check the out dtype with their own message
NORM_CALLS = {
    "vector_norm": lambda L, A, o, **k: L.linalg.vector_norm(A, out=o, **k),
    "vector_norm_inf": lambda L, A, o, **k: L.linalg.vector_norm(A, float("inf"), out=o, **k),
    "vector_norm_dim": lambda L, A, o, **k: L.linalg.vector_norm(A, 3, dim=-1, out=o, **k),
    "matrix_norm": lambda L, A, o, **k: L.linalg.matrix_norm(A, out=o, **k),
    "matrix_norm_nuc": lambda L, A, o, **k: L.linalg.matrix_norm(A, "nuc", out=o, **k),
    "matrix_norm_2": lambda L, A, o, **k: L.linalg.matrix_norm(A, 2, out=o, **k),
    "matrix_norm_-inf": lambda L, A, o, **k: L.linalg.matrix_norm(A, -float("inf"), out=o, **k),
    "norm": lambda L, A, o, **k: L.linalg.norm(A, out=o, **k),
    "norm_fro": lambda L, A, o, **k: L.linalg.norm(A, "fro", out=o, **k),
    "norm_1": lambda L, A, o, **k: L.linalg.norm(A, 1, out=o, **k),
    "norm_dim": lambda L, A, o, **k: L.linalg.norm(A, dim=0, out=o, **k),
    "norm_dims": lambda L, A, o, **k: L.linalg.norm(A, -2, dim=(1, 0), out=o, **k),
    "nuclear_norm": lambda L, A, o, **k: L.nuclear_norm(A, out=o, **k),
    "frobenius_norm": lambda L, A, o, **k: L.frobenius_norm(A, (0, 1), out=o, **k),
}


def _norm_outcome(lib, name, in_dtype, out_dtype, out_shape=(0,), **kwargs):
    A = lib.tensor([[1., -2.], [3., 4.]], dtype=getattr(lib, in_dtype))
    out = lib.zeros(out_shape, dtype=getattr(lib, out_dtype))
    try:
        NORM_CALLS[name](lib, A, out, **kwargs)
    except RuntimeError as err:
        # torch's frobenius_norm resizes the out before it finds the dtype wrong
        return ("error", str(err)) + ((tuple(out.shape),) if name != "frobenius_norm" else ())
    return ("ok", tuple(out.shape))


@pytest.mark.parametrize("name", NORM_CALLS)
@pytest.mark.parametrize("in_dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64", "complex64", "float16"])
def test_norm_out_dtypes_match_torch(name, in_dtype, out_dtype):
    for out_shape in [(0,), (3, 3)]:
        assert _norm_outcome(ember, name, in_dtype, out_dtype, out_shape) == \
            _norm_outcome(torch, name, in_dtype, out_dtype, out_shape)


@pytest.mark.parametrize("name", ["vector_norm", "matrix_norm", "norm", "norm_dim"])
@pytest.mark.parametrize("out_dtype", ["float32", "float64"])
def test_norm_out_dtype_follows_the_dtype_argument(name, out_dtype):
    theirs = _norm_outcome(torch, name, "float32", out_dtype, dtype=torch.float64)
    assert _norm_outcome(ember, name, "float32", out_dtype, dtype=ember.float64) == theirs


@pytest.mark.parametrize("name", ["vector_norm", "matrix_norm", "norm", "frobenius_norm",
                                  "nuclear_norm"])
@pytest.mark.parametrize("out_dtype", ["float64", "float32"])
def test_norm_out_under_autograd_matches_torch(name, out_dtype):
    """vector_norm (and frobenius_norm, under its older name) refuse an out= when an input
    requires grad; PyTorch's composite matrix_norm and norm write into it."""
    outcomes = []
    for lib in (torch, ember):
        A = lib.tensor([[1., -2.], [3., 4.]], dtype=lib.float64, requires_grad=True)
        out = lib.zeros((), dtype=getattr(lib, out_dtype))
        try:
            NORM_CALLS[name](lib, A, out)
            outcomes.append(("ok", round(out.item(), 6)))
        except RuntimeError as err:
            outcomes.append(("error", str(err)))
        with lib.no_grad():
            if out_dtype == "float64":
                NORM_CALLS[name](lib, A, out)  # no graph is recorded: accepted
    assert outcomes[1] == outcomes[0]


# out= under autograd: PyTorch refuses an out= call whose result would be on the graph
# (out cannot carry the gradient), naming its kernel; its composites let it through
def _out_under_autograd(lib, name):
    A = (lib.eye(3, dtype=lib.float64) * 2).requires_grad_(True)
    i32 = lib.int32

    def E(*shape, dtype=lib.float64):
        return lib.empty(*shape, dtype=dtype)

    cases = {
        "inv": lambda: lib.linalg.inv(A, out=E(3, 3)),
        "solve": lambda: lib.linalg.solve(A, lib.ones(3, dtype=lib.float64), out=E(3)),
        "det": lambda: lib.linalg.det(A, out=E(())),
        "cholesky": lambda: lib.linalg.cholesky(A, out=E(3, 3)),
        "cond": lambda: lib.linalg.cond(A, out=E(())),
        "cond_fro": lambda: lib.linalg.cond(A, 'fro', out=E(())),
        "svd_old": lambda: lib.svd(A, out=(E(3, 3), E(3), E(3, 3))),
        "qr_old": lambda: lib.qr(A, out=(E(3, 3), E(3, 3))),
        "svd": lambda: lib.linalg.svd(A, out=(E(3, 3), E(3), E(3, 3))),
        "svdvals": lambda: lib.linalg.svdvals(A, out=E(3)),
        "eigvalsh": lambda: lib.linalg.eigvalsh(A, out=E(3)),
        "eigh": lambda: lib.linalg.eigh(A, out=(E(3), E(3, 3))),
        "eig": lambda: lib.linalg.eig(A, out=(E(3, dtype=lib.complex128), E(3, 3, dtype=lib.complex128))),
        "eigvals": lambda: lib.linalg.eigvals(A, out=E(3, dtype=lib.complex128)),
        "householder": lambda: lib.linalg.householder_product(A, lib.ones(2, dtype=lib.float64), out=E(3, 3)),
        "norm": lambda: lib.linalg.norm(A, out=E(())),
        "matrix_norm": lambda: lib.linalg.matrix_norm(A, out=E(())),
        "vector_norm": lambda: lib.linalg.vector_norm(A, out=E(())),
        "matrix_power": lambda: lib.linalg.matrix_power(A, 2, out=E(3, 3)),
        "matrix_power0": lambda: lib.linalg.matrix_power(A, 0, out=E(3, 3)),
        "multi_dot": lambda: lib.linalg.multi_dot([A, A], out=E(3, 3)),
        "vecdot": lambda: lib.linalg.vecdot(A, A, out=E(3)),
        "cross": lambda: lib.linalg.cross(A, A, out=E(3, 3)),
        "tensorinv": lambda: lib.linalg.tensorinv(A, ind=1, out=E(3, 3)),
        "tensorsolve": lambda: lib.linalg.tensorsolve(A, lib.ones(3, dtype=lib.float64), out=E(3)),
        "solve_triangular": lambda: lib.linalg.solve_triangular(A, A, upper=True, out=E(3, 3)),
        "lu_factor": lambda: lib.linalg.lu_factor(A, out=(E(3, 3), E(3, dtype=i32))),
        "lu": lambda: lib.linalg.lu(A, out=(E(3, 3), E(3, 3), E(3, 3))),
        "slogdet": lambda: lib.linalg.slogdet(A, out=(E(()), E(()))),
        "inv_ex": lambda: lib.linalg.inv_ex(A, out=(E(3, 3), E((), dtype=i32))),
        "cholesky_solve": lambda: lib.cholesky_solve(A, A, out=E(3, 3)),
        "cholesky_inverse": lambda: lib.cholesky_inverse(A, out=E(3, 3)),
        "triangular_solve": lambda: lib.triangular_solve(A, A, out=(E(3, 3), E(3, 3))),
        "ldl_factor": lambda: lib.linalg.ldl_factor(A, out=(E(3, 3), E(3, dtype=i32))),
        "lu_solve": lambda: lib.linalg.lu_solve(*lib.linalg.lu_factor(A.detach()), A, out=E(3, 3)),
        "lu_unpack": lambda: lib.lu_unpack(A, lib.tensor([1, 2, 3], dtype=i32), out=(E(3, 3), E(3, 3), E(3, 3))),
        "geqrf": lambda: lib.geqrf(A, out=(E(3, 3), E(3))),
        "ormqr": lambda: lib.ormqr(A, lib.ones(3, dtype=lib.float64), A, out=E(3, 3)),
        "ldl_solve": lambda: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(A.detach()), A, out=E(3, 3)),
        "lu_factor_ex": lambda: lib.linalg.lu_factor_ex(A, out=(E(3, 3), E(3, dtype=i32), E((), dtype=i32))),
        "pinv": lambda: lib.linalg.pinv(A, out=E(3, 3)),
        "matrix_rank": lambda: lib.linalg.matrix_rank(A, out=E((), dtype=lib.int64)),
        "lstsq": lambda: lib.linalg.lstsq(A, A),
    }
    try:
        cases[name]()
    except RuntimeError as err:
        return str(err)
    return "ok"


OUT_GRAD_CASES = ["inv", "solve", "det", "cholesky", "cond", "cond_fro", "svd_old", "qr_old",
                  "svd", "svdvals", "eigvalsh", "eigh", "eig", "eigvals", "householder", "norm",
                  "matrix_norm", "vector_norm", "matrix_power", "matrix_power0", "multi_dot",
                  "vecdot", "cross", "tensorinv", "tensorsolve", "solve_triangular", "lu_factor",
                  "lu", "slogdet", "inv_ex", "cholesky_solve", "cholesky_inverse",
                  "triangular_solve", "ldl_factor", "lu_solve", "lu_unpack", "geqrf", "ormqr",
                  "ldl_solve", "lu_factor_ex", "pinv", "matrix_rank", "lstsq"]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", OUT_GRAD_CASES)
def test_out_under_autograd_as_torch(name):
    assert _out_under_autograd(ember, name) == _out_under_autograd(torch, name)


def test_out_without_grad_mode_writes():
    A = (ember.eye(3, dtype=ember.float64) * 2).requires_grad_(True)
    out = ember.empty(3, 3, dtype=ember.float64)
    with ember.no_grad():
        ember.linalg.inv(A, out=out)
    assert out.tolist()[0][0] == 0.5 and not out.requires_grad
