"""The contraction family (tensordot, inner, chain_matmul, addr, and checks of
outer, vdot, addmv, addbmm, baddbmm, einsum) against torch: values, dtypes, errors
and gradients."""
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ember

sys.path.insert(0, str(Path(__file__).parent.parent / "autograd"))
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients  # noqa: E402


def _rand(*shape, dtype="float64", seed=0):
    rng = np.random.default_rng(seed + len(shape))
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    if dtype in ("int64", "int32"):
        return (a * 4).astype(dtype)
    return a.astype(dtype)


def _same(e, t, rtol=1e-6):
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.resolve_conj().numpy(), rtol=rtol, atol=rtol)


def _run(fn, *arrays, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # chain_matmul's deprecation
        t = fn(torch, *[torch.tensor(a) for a in arrays], **kw)
    e = fn(ember, *[ember.tensor(a) for a in arrays], **kw)
    _same(e, t)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128", "int64"])
@pytest.mark.parametrize("shapes,dims", [
    (((3, 4, 5), (4, 5, 2)), 2), (((3, 4), (4, 2)), 1), (((3, 4), (5,)), 0),
    (((3, 4, 5), (5, 3)), ([2, 0], [0, 1])), (((2, 3), (3, 2)), ([0, 1], [1, 0])),
    (((3, 1), (4, 2)), ([1], [0])), (((3, 4), (1, 2)), ([1], [0])), (((0, 4), (4, 3)), 1),
    (((3, 4), (4, 3)), ([-1], [-2])), (((), ()), 0)])
def test_tensordot(dtype, shapes, dims):
    a, b = _rand(*shapes[0], dtype=dtype), _rand(*shapes[1], dtype=dtype, seed=1)
    _run(lambda lib, x, y: lib.tensordot(x, y, dims=dims), a, b)


@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "float32"])
def test_tensordot_size_one_dim_keeps_dtype(dtype):
    # a contracted size-1 dim against a longer one sums that side first, in its own dtype
    a = (_rand(3, 3, 3, dtype="int64") % 5).astype(dtype)
    b = (_rand(3, 1, 1, dtype="int64", seed=1) % 5).astype(dtype)
    _run(lambda lib, x, y: lib.tensordot(x, y), a, b)
    _run(lambda lib, x, y: lib.tensordot(x, y, dims=([0], [1])), b, a)


def test_tensordot_views_and_out():
    a = ember.tensor(_rand(5, 4))
    b = ember.tensor(_rand(3, 5, seed=2))
    e = ember.tensordot(a.T[::-1], b.T[:, ::2], dims=1)
    expected = np.tensordot(np.asarray(a.T)[::-1], np.asarray(b.T)[:, ::2], axes=1)
    np.testing.assert_allclose(e.numpy(), expected, rtol=1e-12)
    out = ember.empty(0, dtype=ember.float64)
    assert ember.tensordot(a, ember.tensor(_rand(4, 2)), 1, out=out) is out
    assert tuple(out.shape) == (5, 2)


@pytest.mark.parametrize("dtype", ["float32", "complex64", "int64"])
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)),
                                    ((2, 1, 3), (5, 3)), ((), (2, 3)), ((2, 3), ())])
def test_inner(dtype, shapes):
    _run(lambda lib, x, y: lib.inner(x, y), _rand(*shapes[0], dtype=dtype),
         _rand(*shapes[1], dtype=dtype, seed=1))
    _run(lambda lib, x, y: x.inner(y), _rand(*shapes[0], dtype=dtype),
         _rand(*shapes[1], dtype=dtype, seed=1))


@pytest.mark.parametrize("shapes", [[(3, 4)], [(3, 4), (4, 2)], [(2, 9), (9, 3), (3, 7), (7, 1)],
                                    [(5, 1), (1, 6), (6, 2)], [(0, 3), (3, 2)]])
def test_chain_matmul(shapes):
    arrays = [_rand(*s, seed=k) for k, s in enumerate(shapes)]
    _run(lambda lib, *ms: lib.chain_matmul(*ms), *arrays)


def test_chain_order_is_cheapest():
    from ember.ops.linalg import _chain_order
    # (10x100)(100x5)(5x50): ((AB)C) costs 7500, (A(BC)) 75000
    assert _chain_order([10, 100, 5, 50])[0][2] == 1
    assert _chain_order([50, 5, 100, 10])[0][2] == 0


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128", "int64", "bool"])
@pytest.mark.parametrize("kw", [{}, {"beta": 0}, {"beta": 2, "alpha": 3}])
@pytest.mark.parametrize("input_shape", [(3, 4), (4,), (3, 1), ()])
def test_addr(dtype, kw, input_shape):
    if dtype == "bool":
        kw = {k: bool(v) for k, v in kw.items()}
        arrays = [np.random.default_rng(k).random(s) > 0.5
                  for k, s in enumerate([input_shape, (3,), (4,)])]
    else:
        arrays = [_rand(*input_shape, dtype=dtype), _rand(3, dtype=dtype, seed=1),
                  _rand(4, dtype=dtype, seed=2)]
    _run(lambda lib, i, a, b: lib.addr(i, a, b, **kw), *arrays)
    if dtype == "bool":     # integer scales are truth values: the result stays bool
        _run(lambda lib, i, a, b: lib.addr(i, a, b, beta=3, alpha=2), *arrays)
        _run(lambda lib, i, a, b: lib.addr(i, a, b, beta=0, alpha=2), *arrays)
    if input_shape == (3, 4):
        _run(lambda lib, i, a, b: i.addr(a, b, **kw), *arrays)
        _run(lambda lib, i, a, b: i.clone().addr_(a, b, **kw), *arrays)


def test_addr_ignores_nan_input_when_beta_is_zero():
    e = ember.addr(ember.full((2, 2), float("nan")), ember.ones(2), ember.ones(2), beta=0)
    assert not ember.isnan(e).any()


def test_addr_promotes_dtypes():
    _run(lambda lib, i, a, b: lib.addr(i, a, b), _rand(3, 4, dtype="float32"),
         _rand(3), _rand(4, dtype="float32"))


@pytest.mark.parametrize("call", [
    lambda m, a, v: m.tensordot(a, a, dims=-1),
    lambda m, a, v: m.tensordot(a, a, dims=3),
    lambda m, a, v: m.tensordot(a, a, dims=([1], [0])),
    lambda m, a, v: m.tensordot(a, a.double(), dims=1),
    lambda m, a, v: m.tensordot(a, a, dims=([1], [0, 1])),
    lambda m, a, v: m.tensordot(a, a, dims=([2], [0])),
    lambda m, a, v: m.inner(a, a[:, :2]),
    lambda m, a, v: m.inner(a, a.double()),
    lambda m, a, v: m.chain_matmul(),
    lambda m, a, v: m.chain_matmul(v, a),
    lambda m, a, v: m.chain_matmul(a, a),
    lambda m, a, v: m.addr(a, a, v),
    lambda m, a, v: m.addr(a.long(), v.long(), v.long(), alpha=1.5),
    lambda m, a, v: m.addr(m.ones(2, 3, 4), v[:3], v),
])
def test_errors_match_torch(call):
    a, v = np.ones((3, 4), np.float32), np.ones(4, np.float32)
    with pytest.raises(Exception) as expected, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(torch, torch.tensor(a), torch.tensor(v))
    with pytest.raises(expected.type):
        call(ember, ember.tensor(a), ember.tensor(v))


def test_non_tensor_arguments_raise_type_error():
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.tensordot(ember.ones(2), "b")
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.addr(ember.ones(2, 2), [1.0, 2.0], ember.ones(2))


# the ops that existed before: spot checks of their semantics against torch
@pytest.mark.parametrize("case", [
    lambda lib, i, a, b: lib.addmv(i[0], a, b[0], beta=0.5, alpha=2),
    lambda lib, i, a, b: lib.addbmm(i, a.expand(2, 3, 4), b.T.expand(2, 4, 3), alpha=0.5),
    lambda lib, i, a, b: lib.baddbmm(i, a.expand(2, 3, 4), b.T.expand(2, 4, 3), beta=0),
    lambda lib, i, a, b: lib.vdot(a[0] * 1j, b[0] + 0j),
    lambda lib, i, a, b: lib.outer(a[0], b[1]),
    lambda lib, i, a, b: lib.einsum("ij,kj->ik", a, b),
    lambda lib, i, a, b: lib.einsum("bij,bjk->bik", a.expand(2, 3, 4), b.T.expand(2, 4, 3)),
])
def test_existing_products_match_torch(case):
    _run(case, _rand(3, 3), _rand(3, 4, seed=1), _rand(3, 4, seed=2))


def test_einsum_contraction_goes_to_bmm():
    a = ember.ones(2, 3, 4, requires_grad=True)
    out = ember.einsum("bij,bjk->bik", a, ember.ones(2, 4, 5))
    names, node = [], out.grad_fn
    while node is not None:
        names.append(node.name())
        node = next((f for f, _ in node.next_functions if f is not None), None)
    assert "BmmBackward0" in names


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("fn,shapes", [
    (lambda lib, a, b: lib.tensordot(a, b, dims=2), [(3, 4, 5), (4, 5, 2)]),
    (lambda lib, a, b: lib.tensordot(a, b, dims=([2, 0], [0, 1])), [(3, 4, 5), (5, 3)]),
    (lambda lib, a, b: lib.tensordot(a, b, dims=([1], [0])), [(3, 1), (4, 2)]),
    (lambda lib, a, b: lib.inner(a, b), [(2, 3), (4, 3)]),
    (lambda lib, a, b: lib.inner(a, b), [(), (4, 3)]),
    (lambda lib, a, b, c: lib.chain_matmul(a, b, c), [(2, 5), (5, 3), (3, 4)]),
    (lambda lib, i, a, b: lib.addr(i, a, b, beta=0.5, alpha=-2), [(3, 4), (3,), (4,)]),
    (lambda lib, i, a, b: lib.addr(i, a, b, beta=0), [(4,), (3,), (4,)]),
])
def test_gradients(fn, shapes):
    arrays = [_rand(*s, seed=k) for k, s in enumerate(shapes)]
    assert_grads_match_torch(fn, *arrays, layout=LAYOUTS["transposed"])
    check_gradients(fn, *arrays)


def test_complex_gradients():
    arrays = [_rand(3, 4, dtype="complex128"), _rand(4, 2, dtype="complex128", seed=1)]
    assert_grads_match_torch(lambda lib, a, b: lib.tensordot(a, b, dims=1), *arrays)
    vs = [_rand(3, 4, dtype="complex128"), _rand(3, dtype="complex128", seed=1),
          _rand(4, dtype="complex128", seed=2)]
    assert_grads_match_torch(lambda lib, i, a, b: lib.addr(i, a, b, alpha=1j), *vs)
