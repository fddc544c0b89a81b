"""Gradients of sort/topk/kthvalue, the triangle, flip and roll ops, diag,
masked_select, meshgrid, square, lerp, nan_to_num and clamp_min/max, compared with
PyTorch and checked numerically (float64)."""
import numpy as np
import pytest

from grad_oracle import assert_grads_match_torch, check_gradients

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 5))          # distinct values: sort order is unambiguous
Y = rng.standard_normal((4, 5))
W = rng.uniform(-0.2, 1.2, (4, 5))
V = rng.standard_normal(4)


def _transposed(lib, t):
    return t.t()


def _flipped(lib, t):
    return t.flip(0) if lib.__name__ == "torch" else t[::-1]


CASES = {
    "sort": lambda lib, x: lib.sort(x, dim=0, descending=True).values,
    "sort_last": lambda lib, x: x.sort().values * 2,
    "topk": lambda lib, x: lib.topk(x, 3, dim=1).values,
    "topk_smallest": lambda lib, x: x.topk(2, 0, largest=False).values,
    "kthvalue": lambda lib, x: lib.kthvalue(x, 2, 1).values,
    "kthvalue_keepdim": lambda lib, x: lib.kthvalue(x, 3, 0, keepdim=True).values,
    "tril": lambda lib, x: lib.tril(x, -1),
    "triu": lambda lib, x: x.triu(1),
    "flip": lambda lib, x: lib.flip(x, [0, 1]),
    "fliplr": lambda lib, x: lib.fliplr(x),
    "roll": lambda lib, x: lib.roll(x, (1, -2), (0, 1)),
    "roll_flat": lambda lib, x: x.roll(3),
    "diag_of_matrix": lambda lib, x: lib.diag(x, 1),
    "masked_select": lambda lib, x: lib.masked_select(x, x > 0),
    "square": lambda lib, x: lib.square(x),
    "nan_to_num": lambda lib, x: lib.nan_to_num(x / (x > 0), posinf=5.0),
    "clamp_min": lambda lib, x: lib.clamp_min(x, 0.1),
    "clamp_max": lambda lib, x: x.clamp_max(-0.1),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("layout", [None, _transposed, _flipped])
def test_unary_grads_match_torch(name, layout):
    data = X if layout is not _transposed else X[:, :4]     # square for diag of a transpose
    assert_grads_match_torch(CASES[name], data, layout=layout)


@pytest.mark.parametrize("name", ["sort", "topk", "kthvalue", "tril", "roll", "square",
                                  "diag_of_matrix", "masked_select"])
def test_unary_gradcheck(name):
    check_gradients(CASES[name], X)


def test_diag_of_vector():
    assert_grads_match_torch(lambda lib, v: lib.diag(v, -1) * 3, V)
    check_gradients(lambda lib, v: lib.diag(v, 2), V)


def test_meshgrid_grads():
    fn = lambda lib, a, b: [g * (k + 1) for k, g in enumerate(lib.meshgrid(a, b, indexing="xy"))]
    assert_grads_match_torch(fn, V, V[:3])
    check_gradients(lambda lib, a, b: lib.meshgrid(a, b, indexing="ij")[1] * 2.0, V, V[:3])


@pytest.mark.parametrize("weight", [0.3, 0.8])
def test_lerp_scalar_weight(weight):
    assert_grads_match_torch(lambda lib, a, b: lib.lerp(a, b, weight), X, Y)
    check_gradients(lambda lib, a, b: lib.lerp(a, b, weight), X, Y)


def test_lerp_tensor_weight():
    assert_grads_match_torch(lambda lib, a, b, w: lib.lerp(a, b, w), X, Y, W)
    assert_grads_match_torch(lambda lib, a, b, w: a.lerp(b[0], w), X, Y, W,
                             layout=_transposed)
    check_gradients(lambda lib, a, b, w: lib.lerp(a, b, w), X, Y, W)


def test_sort_grad_names():
    import ember
    x = ember.tensor(X, requires_grad=True)
    assert ember.sort(x).values.grad_fn.name() == "SortBackward0"
    assert ember.topk(x, 2).values.grad_fn.name() == "TopkBackward0"
    assert ember.kthvalue(x, 2).values.grad_fn.name() == "KthvalueBackward0"
    assert not ember.sort(x).indices.requires_grad
