"""The argument checks of linalg.vector_norm, matrix_norm and norm against torch, word for
word: the ``dtype=`` rules (floating or complex, same kind as the input, no narrowing),
the ``dim`` rules, which function ``norm`` hands the work to, and the order of the checks."""
import numpy as np
import pytest
import torch

import ember


def _outcome(lib, fn, in_dtype="float64", shape=(2, 2)):
    values = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape).tolist()
    A = lib.tensor(values).to(getattr(lib, in_dtype))
    try:
        r = fn(lib, A)
    except (RuntimeError, IndexError) as err:
        return (type(err).__name__, str(err))
    return ("ok", str(r.dtype).split(".")[-1], tuple(r.shape), np.round(r.tolist(), 5).tolist())


def _check(fn, in_dtype="float64", shape=(2, 2)):
    assert _outcome(ember, fn, in_dtype, shape) == _outcome(torch, fn, in_dtype, shape)


NORMS = {
    "vector_norm": lambda L, A, **k: L.linalg.vector_norm(A, **k),
    "vector_norm_inf": lambda L, A, **k: L.linalg.vector_norm(A, float("inf"), **k),
    "matrix_norm": lambda L, A, **k: L.linalg.matrix_norm(A, **k),
    "matrix_norm_nuc": lambda L, A, **k: L.linalg.matrix_norm(A, "nuc", **k),
    "matrix_norm_1": lambda L, A, **k: L.linalg.matrix_norm(A, 1, **k),
    "matrix_norm_-2": lambda L, A, **k: L.linalg.matrix_norm(A, -2, **k),
    "norm": lambda L, A, **k: L.linalg.norm(A, **k),
    "norm_fro": lambda L, A, **k: L.linalg.norm(A, "fro", **k),
    "norm_2": lambda L, A, **k: L.linalg.norm(A, 2, **k),
    "norm_dim": lambda L, A, **k: L.linalg.norm(A, dim=1, **k),
}
IN_DTYPES = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int64"]
DTYPES = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int32"]


@pytest.mark.parametrize("name", NORMS)
@pytest.mark.parametrize("in_dtype", IN_DTYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_argument_rules_match_torch(name, in_dtype, dtype):
    _check(lambda L, A: NORMS[name](L, A, dtype=getattr(L, dtype)), in_dtype)


@pytest.mark.parametrize("dim", [(0,), (1,), (0, 1, 2), (), (-1, 2), (0, 0), (2, 0), (0, 3)])
@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -2])
def test_matrix_norm_dim_rules_match_torch(dim, ord):
    _check(lambda L, A: L.linalg.matrix_norm(A, ord, dim=dim), shape=(2, 2, 3))


@pytest.mark.parametrize("dim", [None, 0, (1,), (0, 2), (2, 0), (0, 1, 2), ()])
@pytest.mark.parametrize("ord", [None, "fro", "nuc", 2, float("inf"), 0, 3])
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 2, 3)])
def test_norm_dispatch_and_errors_match_torch(dim, ord, shape):
    _check(lambda L, A: L.linalg.norm(A, ord, dim), shape=shape)


@pytest.mark.parametrize("ord", [3, "foo", 1.5])
def test_matrix_norm_checks_the_order_first(ord):
    # PyTorch rejects an unsupported order before it looks at the input's dimensions
    _check(lambda L, A: L.linalg.matrix_norm(A, ord), shape=(4,))
    _check(lambda L, A: L.linalg.matrix_norm(A, ord, dtype=L.float32))


def test_norm_over_two_dims_without_ord_is_the_vector_2_norm():
    """As in PyTorch: the same value and gradient as the Frobenius norm, through the
    vector norm (so its checks apply: a repeated dim is an error there)."""
    x = ember.randn(3, 4, 2, dtype=ember.float64, requires_grad=True)
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    ours, theirs = ember.linalg.norm(x, dim=(0, 2)), torch.linalg.norm(t, dim=(0, 2))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert ember.autograd.gradcheck(lambda a: ember.linalg.norm(a, dim=(0, 2)), (x,))
    _check(lambda L, A: L.linalg.norm(A, dim=(0, 0)), shape=(2, 2))


def test_dtype_argument_with_gradients():
    x = ember.randn(3, 3, dtype=ember.float32, requires_grad=True)
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    ours = ember.linalg.matrix_norm(x, "nuc", dtype=ember.float64)
    theirs = torch.linalg.matrix_norm(t, "nuc", dtype=torch.float64)
    assert ours.dtype == ember.float64
    ours.backward()
    theirs.backward()
    assert x.grad.dtype == ember.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5)


def test_dtype_names_in_linalg_messages_are_torchs():
    """PyTorch's scalar-type names (Double, ComplexFloat), not NumPy's (Float64)."""
    for L in (torch, ember):
        with pytest.raises(RuntimeError, match="found A of type Double and B of type Float "
                                               "instead"):
            L.linalg.solve(L.eye(2, dtype=L.float64), L.ones(2, dtype=L.float32))
        with pytest.raises(RuntimeError, match="found b of type ComplexDouble and A of type "
                                               "Double instead"):
            L.linalg.ldl_solve(L.eye(2, dtype=L.float64), L.ones(2, dtype=L.int32),
                               L.ones(2, 1, dtype=L.complex128))


@pytest.mark.parametrize("name", ["vector_norm", "matrix_norm", "norm"])
def test_non_tensor_input_matches_torch(name):
    messages = []
    for L in (torch, ember):
        with pytest.raises(TypeError) as info:
            getattr(L.linalg, name)([[1.0, 2.0], [3.0, 4.0]])
        messages.append(str(info.value))
    assert messages[1] == messages[0]


TORCH_NORMS = {
    "norm": lambda L, A, **k: L.norm(A, **k),
    "norm_p3": lambda L, A, **k: L.norm(A, 3, dim=1, **k),
    "norm_inf": lambda L, A, **k: L.norm(A, float("inf"), **k),
    "method": lambda L, A, **k: A.norm(**k),
}


@pytest.mark.parametrize("name", list(TORCH_NORMS))
@pytest.mark.parametrize("in_dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_norm_dtype_rules(name, in_dtype, dtype):
    # torch.norm and Tensor.norm check dtype= as linalg.vector_norm does
    fn = TORCH_NORMS[name]
    _check(lambda L, A: fn(L, A, dtype=getattr(L, dtype)), in_dtype)
