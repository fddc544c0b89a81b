"""einsum against PyTorch: contractions, diagonals, ellipses, implicit outputs,
views, gradients and errors."""
import numpy as np
import pytest
import torch

import ember

rng = np.random.default_rng(0)

CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ba", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...j,j", [(2, 3, 4), (4,)]),
    ("i...->...", [(3, 2, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("abc,cd,a->bd", [(2, 3, 4), (4, 5), (2,)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("Ab,bA->", [(2, 3), (3, 2)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
]


def _operands(shapes, dtype="float64"):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("equation,shapes", CASES)
def test_einsum_matches_torch(equation, shapes):
    arrays = _operands(shapes)
    got = ember.einsum(equation, *[ember.tensor(a) for a in arrays])
    want = torch.einsum(equation, *[torch.tensor(a) for a in arrays])
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation,shapes", [c for c in CASES if "..." not in c[0]][:12])
def test_einsum_grads_match_torch(equation, shapes):
    arrays = _operands(shapes)
    results = {}
    for lib in (ember, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.einsum(equation, *xs)
        g = np.linspace(-1, 1, int(np.prod(out.shape)) or 0).reshape(tuple(out.shape))
        out.backward(lib.tensor(g))
        results[lib] = [np.asarray(x.grad) for x in xs]
    for ge, gt in zip(results[ember], results[torch]):
        np.testing.assert_allclose(ge, gt, rtol=1e-12, atol=1e-12)


def test_einsum_gradcheck():
    xs = [ember.tensor(a, requires_grad=True) for a in _operands([(2, 3), (3, 3), (3,)])]
    fn = lambda a, b, c: ember.einsum("ij,jj,j->i", a, b, c)
    assert ember.autograd.gradcheck(fn, tuple(xs))
    assert ember.autograd.gradgradcheck(fn, tuple(xs))


def test_einsum_views_dtypes_list_and_empty():
    a, b = _operands([(4, 3), (4, 5)], "float32")
    ea, eb = ember.tensor(a), ember.tensor(b)
    ta, tb = torch.tensor(a), torch.tensor(b)
    np.testing.assert_allclose(np.asarray(ember.einsum("ij,jk", ea.t(), eb[::-1])),
                               torch.einsum("ij,jk", ta.t(), tb.flip(0)).numpy(), rtol=1e-5)
    got = ember.einsum("ij,kj->ik", [ea[:1].expand(2, 3), ea])
    assert got.dtype == ember.float32
    np.testing.assert_allclose(np.asarray(got),
                               torch.einsum("ij,kj->ik", [ta[:1].expand(2, 3), ta]).numpy(),
                               rtol=1e-5)
    ia = np.arange(6).reshape(2, 3)
    gi = ember.einsum("ij,kj->ik", ember.tensor(ia), ember.tensor(ia))
    assert gi.dtype == ember.int64
    np.testing.assert_array_equal(np.asarray(gi), ia @ ia.T)
    assert tuple(ember.einsum("ij,jk->ik", ember.zeros(0, 3), ember.zeros(3, 2)).shape) == (0, 2)
    np.testing.assert_array_equal(np.asarray(ember.einsum("ij,jk->ik", ember.zeros(2, 0),
                                                          ember.zeros(0, 2))), np.zeros((2, 2)))
    assert ember.einsum(",->", ember.tensor(2.0), ember.tensor(3.0)).item() == 6.0


@pytest.mark.parametrize("equation,shapes,message", [
    ("ij,jk->ik", [(2, 3)], "fewer operands"),
    ("ij->ij", [(2, 3), (3, 2)], "more operands"),
    ("ij->ii", [(2, 2)], "output subscript i appears more than once"),
    ("ij->k", [(2, 2)], "output subscript k does not appear"),
    ("ijk->i", [(2, 2)], r"number of subscripts in the equation \(3\) does not match"),
    ("i1->i", [(2, 2)], "invalid subscript given at index 1"),
    ("ij,jk->ik", [(2, 3), (4, 2)], "operands do not broadcast"),
    ("ii->i", [(2, 3)], "sizes don't match"),
])
def test_einsum_errors(equation, shapes, message):
    with pytest.raises(RuntimeError, match=message):
        ember.einsum(equation, *[ember.zeros(s) for s in shapes])
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.zeros(s) for s in shapes])


def test_einsum_plan_is_reused_per_equation_and_shapes():
    # the steps are worked out once per (equation, shapes): later calls with other
    # values, dtypes and layouts, and other shapes, must still compute their own result
    for shapes in ([(2, 3, 4), (2, 4, 5)], [(3, 1, 4), (3, 4, 2)], [(2, 3, 4), (2, 4, 5)]):
        for dtype in ("float64", "float32"):
            a, b = _operands(shapes, dtype)
            got = ember.einsum("bij,bjk->bik", ember.tensor(a), ember.tensor(b))
            np.testing.assert_allclose(np.asarray(got), a @ b, rtol=1e-5)
    a, b = _operands([(2, 4, 3), (2, 4, 5)])
    got = ember.einsum("bij,bjk->bik", ember.tensor(a).transpose(1, 2), ember.tensor(b))
    np.testing.assert_allclose(np.asarray(got), a.transpose(0, 2, 1) @ b, rtol=1e-12)
    # an error found while working out the steps is raised on every call
    for _ in range(2):
        with pytest.raises(RuntimeError, match="operands do not broadcast"):
            ember.einsum("ij,jk->ik", ember.zeros(2, 3), ember.zeros(4, 2))


def test_einsum_identity_returns_a_view_not_the_operand():
    x = ember.arange(6.0).reshape(2, 3)
    y = ember.einsum("ij->ij", x)
    assert y is not x and y.data_ptr() == x.data_ptr() and y._base is not None
    tx = torch.arange(6.0).reshape(2, 3)
    ty = torch.einsum("ij->ij", tx)
    assert ty is not tx and ty.data_ptr() == tx.data_ptr() and ty._is_view()


@pytest.mark.parametrize("args", [
    ((2, 3), [0, 1], (3, 4), [1, 2]),
    ((2, 3), [0, 1], (3, 4), [1, 2], [2, 0]),
    ((2, 3, 4), [Ellipsis, 30, 31], (4,), [31], [Ellipsis]),
    ((3, 3), [5, 5], []),
    ((2, 3), [51, 0], (2, 3), [51, 0], (3,), [0], [0]),
])
def test_einsum_sublist_format_matches_torch(args):
    data = [rng.standard_normal(a) if isinstance(a, tuple) else a for a in args]
    as_ember = [ember.tensor(d, requires_grad=True) if isinstance(d, np.ndarray) else d
                for d in data]
    as_torch = [torch.tensor(d, requires_grad=True) if isinstance(d, np.ndarray) else d
                for d in data]
    got, want = ember.einsum(*as_ember), torch.einsum(*as_torch)
    np.testing.assert_allclose(np.asarray(got.detach()), want.detach().numpy(), rtol=1e-12)
    got.sum().backward()
    want.sum().backward()
    n = len(args) - len(args) % 2
    for e, t in zip(as_ember[:n:2], as_torch[:n:2]):
        np.testing.assert_allclose(np.asarray(e.grad), t.grad.numpy(), rtol=1e-12)


def test_einsum_sublist_format_errors():
    with pytest.raises(ValueError, match=r"valid range \[0, 52\)"):
        ember.einsum(ember.zeros(2), [52])
    with pytest.raises(ValueError):
        torch.einsum(torch.zeros(2), [52])
    with pytest.raises(TypeError, match="ints or Ellipsis"):
        ember.einsum(ember.zeros(2), ["a"])
    with pytest.raises(ValueError, match="at least one operand"):
        ember.einsum(ember.zeros(2))
    with pytest.raises(ValueError):
        torch.einsum(torch.zeros(2))
