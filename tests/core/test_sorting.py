"""sort, argsort, msort, topk and kthvalue against PyTorch (stable sort, NaN last)."""
import numpy as np
import pytest
import torch

import ember
from core_oracle import check_out_like_torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64"]


def _data(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-4, 5, size=shape)          # many ties: checks stability
    if dtype == "bool":
        return torch.tensor(a > 0)
    t = torch.tensor(a).to(getattr(torch, dtype))
    if t.is_floating_point() and t.numel() > 3:
        flat = t.view(-1)
        flat[1], flat[-1], flat[2] = float("nan"), float("inf"), float("-inf")
    return t


def _ember(t):
    if t.dtype == torch.bfloat16:
        return ember.tensor(t.float().numpy()).to(ember.bfloat16)
    return ember.tensor(t.numpy())


def _np(t):
    return t.float().numpy() if t.dtype in (torch.bfloat16, torch.float16) else t.numpy()


def _same(got, want):
    np.testing.assert_array_equal(np.asarray(got.to(ember.float64) if got.dtype == ember.bfloat16
                                             else got).astype(_np(want).dtype), _np(want))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_torch_stable(dtype, descending):
    t = _data(dtype, (3, 40))
    e = _ember(t)
    for dim in (-1, 0):
        got = ember.sort(e, dim=dim, descending=descending, stable=True)
        want = torch.sort(t, dim=dim, descending=descending, stable=True)
        _same(got.values, want.values)
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
        assert got.values.dtype == e.dtype and got.indices.dtype == ember.int64


@pytest.mark.parametrize("layout", ["transposed", "expanded", "flipped", "strided"])
def test_sort_views(layout):
    base = _data("float32", (6, 5), seed=1)
    views = {"transposed": lambda x: x.t(), "expanded": lambda x: x[:1].expand(4, 5),
             "flipped": lambda x: x.flip(0) if isinstance(x, torch.Tensor) else x[::-1],
             "strided": lambda x: x[::2, 1:]}
    t, e = views[layout](base), views[layout](_ember(base))
    for dim in (0, 1):
        got = e.sort(dim, True, stable=True)
        want = t.sort(dim=dim, descending=True, stable=True)
        _same(got.values, want.values)
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
        assert got.values.is_contiguous()


def test_sort_long_rows_and_threads():
    t = torch.randn(8, 5000, dtype=torch.float64)
    got = ember.sort(_ember(t), descending=True)
    want = torch.sort(t, descending=True, stable=True)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_sort_edge_shapes():
    for shape in [(0,), (3, 0), (0, 4), (1,)]:
        t = torch.zeros(shape)
        got = ember.sort(ember.zeros(shape))
        assert tuple(got.values.shape) == tuple(t.shape)
        assert tuple(got.indices.shape) == tuple(t.shape)
    got = ember.sort(ember.tensor(2.5), dim=-1)
    assert got.values.item() == 2.5 and got.indices.item() == 0 and got.indices.dim() == 0
    assert type(got).__name__ == "sort" and got._fields == ("values", "indices")


def test_sort_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        ember.sort(x, 2)
    with pytest.raises(RuntimeError, match="complex"):
        ember.sort(ember.zeros(3, dtype=ember.complex64))
    with pytest.raises(TypeError):
        ember.sort([3, 1])


def test_argsort_msort():
    t = _data("int32", (5, 7), seed=2)
    e = _ember(t)
    np.testing.assert_array_equal(ember.argsort(e, 0, stable=True).numpy(),
                                  torch.argsort(t, dim=0, stable=True).numpy())
    np.testing.assert_array_equal(e.argsort(descending=True, stable=True).numpy(),
                                  t.argsort(descending=True, stable=True).numpy())
    np.testing.assert_array_equal(ember.msort(e).numpy(), torch.msort(t).numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk(largest):
    t = torch.randn(4, 9, 3, dtype=torch.float64)
    e = _ember(t)
    for k, dim in [(3, 1), (0, -1), (4, 0), (3, -1)]:
        got = ember.topk(e, k, dim, largest=largest)
        want = torch.topk(t, k, dim, largest=largest)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())   # no ties
    with_ties = _ember(_data("int64", (3, 10)))
    got = with_ties.topk(4)
    np.testing.assert_array_equal(got.values.numpy(),
                                  torch.tensor(with_ties.numpy()).topk(4).values.numpy())
    # the indices point at the values
    np.testing.assert_array_equal(with_ties.gather(1, got.indices).numpy(), got.values.numpy())
    assert ember.topk(ember.tensor(3.0), 1).values.item() == 3.0


def test_topk_kthvalue_errors():
    x = ember.zeros(3, 4)
    for call, message in [(lambda: ember.topk(x, 5), "selected index k out of range"),
                          (lambda: ember.topk(x, -1), "selected index k out of range"),
                          (lambda: ember.kthvalue(x, 5), "selected number k out of range for "
                                                         "dimension 1"),
                          (lambda: ember.kthvalue(x, 0, 0), "out of range for dimension 0")]:
        with pytest.raises(RuntimeError, match=message):
            call()


@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(keepdim):
    t = torch.randn(5, 6, dtype=torch.float32)
    e = _ember(t)
    for k, dim in [(1, 0), (3, 1), (6, -1)]:
        got = ember.kthvalue(e, k, dim, keepdim)
        want = torch.kthvalue(t, k, dim, keepdim)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    got = e.kthvalue(2)
    assert type(got).__name__ == "kthvalue"


@pytest.mark.parametrize("dtype", ["int8", "float16", "float32", "float64"])
def test_topk_kthvalue_select_like_stable_sort(dtype):
    # topk and kthvalue select before sorting: with many ties and NaNs they must still
    # agree with the stable sort (first among equals), values and indices
    for n in (1, 7, 33, 200, 1000):
        t = _data(dtype, (3, n), seed=n)
        e = _ember(t)
        for k in sorted({1, min(2, n), n // 3 or 1, n}):
            for largest in (True, False):
                want = torch.sort(t, dim=1, descending=largest, stable=True)
                got = ember.topk(e, k, 1, largest=largest)
                _same(got.values, want.values[:, :k])
                np.testing.assert_array_equal(got.indices.numpy(), want.indices[:, :k].numpy())
            got = ember.kthvalue(e, k, 1)
            want = torch.sort(t, dim=1, stable=True)
            _same(got.values, want.values[:, k - 1])
            np.testing.assert_array_equal(got.indices.numpy(), want.indices[:, k - 1].numpy())


def test_take_along_dim():
    t = torch.randn(3, 4, dtype=torch.float64)
    e = _ember(t)
    i = torch.argsort(t, 1)
    ei = ember.tensor(i.numpy())
    cases = [(lambda x, j: (x, j, 1)), (lambda x, j: (x, j[:, :1], 1)),
             (lambda x, j: (x[:1], j, -1)), (lambda x, j: (x.t(), j.t(), 0)),
             (lambda x, j: (x, j[:1, :2].expand(3, 2), 1))]
    for case in cases:
        got = ember.take_along_dim(*case(e, ei))
        want = torch.take_along_dim(*case(t, i))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    flat = torch.tensor([0, 5, 11])
    np.testing.assert_array_equal(e.take_along_dim(ember.tensor(flat.numpy())).numpy(),
                                  torch.take_along_dim(t, flat).numpy())
    with pytest.raises(RuntimeError, match="dtype of indices should be Long but got Int"):
        ember.take_along_dim(e, ei.int(), 1)
    with pytest.raises(RuntimeError, match="same number of dimensions, but got 2 dimensions for "
                                           "input, and 1 dimensions for indices"):
        ember.take_along_dim(e, ei[0], 1)
    # differentiable through gather
    x = ember.tensor(t.numpy(), requires_grad=True)
    ember.take_along_dim(x, ei[:, :2], 1).sum().backward()
    tx = t.clone().requires_grad_()
    torch.take_along_dim(tx, i[:, :2], 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


_TIES = np.random.default_rng(7).integers(-3, 4, (3, 5)).astype(np.float64)


@pytest.mark.parametrize("name,call", [
    ("argsort_stable", lambda L, a, **kw: L.argsort(a, stable=True, **kw)),
    ("argsort_stable_descending",
     lambda L, a, **kw: L.argsort(a, stable=True, dim=0, descending=True, **kw)),
    ("take_along_dim", lambda L, a, **kw: L.take_along_dim(a, L.argsort(a, dim=1), 1, **kw)),
    ("take_along_dim_flat", lambda L, a, **kw: L.take_along_dim(
        a, L.tensor([[4, 0, 14]]), **kw)),
])
def test_out(name, call):
    check_out_like_torch(call, _TIES)


def test_take_along_dim_negative_indices():
    # with a dim, negative indices count from the end of it (OpInfo reference input)
    t = torch.randn(5, 5, dtype=torch.float64)
    i = torch.tensor([[-2, 0, 1, 4, -1], [-5, -1, 2, 3, 0]]).repeat(3, 1)[:5]
    got = ember.take_along_dim(_ember(t), ember.tensor(i.numpy()), 1)
    np.testing.assert_array_equal(got.numpy(), torch.take_along_dim(t, i, 1).numpy())
    x = ember.tensor(t.numpy(), requires_grad=True)
    ember.take_along_dim(x, ember.tensor(i.numpy()), 1).sum().backward()
    tx = t.clone().requires_grad_()
    torch.take_along_dim(tx, i, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
