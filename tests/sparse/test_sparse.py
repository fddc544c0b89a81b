"""Sparse COO tensors and CSR matrices against PyTorch 2.13 (values, indices, gradients,
errors) and finite differences."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck

warnings.filterwarnings("ignore", message="Sparse invariant checks")
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


def T(x):
    """ember -> torch (dense)."""
    return torch.from_numpy(np.array(x.detach().numpy()))


def E(x):
    return ember.from_numpy(x.detach().numpy().copy())


def assert_same(e, t, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def pair(indices, values, size=None, **kw):
    """The same sparse COO tensor in ember and torch."""
    ti = torch.tensor(indices)
    tv = torch.tensor(values, dtype=kw.pop("torch_dtype", None))
    if "dtype" in kw:
        tv, kw = tv.to(kw["dtype"]), {k: v for k, v in kw.items() if k != "dtype"}
    if size is None:
        t = torch.sparse_coo_tensor(ti, tv, **kw)
    else:
        t = torch.sparse_coo_tensor(ti, tv, size, **kw)
    e = ember.sparse_coo_tensor(E(ti), E(tv), size, **kw)
    return e, t


DUP_INDICES = [[1, 0, 1, 2, 0], [2, 1, 2, 0, 1]]      # (1, 2) and (0, 1) repeated
DUP_VALUES = [1.0, 2.0, 3.0, 4.0, 5.0]


# ---------------------------------------------------------------- construction

@pytest.mark.parametrize("size", [None, (3, 4), (5, 3)])
def test_construction_and_to_dense(size):
    e, t = pair(DUP_INDICES, DUP_VALUES, size)
    assert tuple(e.shape) == tuple(t.shape)
    assert e.sparse_dim() == t.sparse_dim() and e.dense_dim() == t.dense_dim()
    assert e._nnz() == t._nnz() and not e.is_coalesced()
    assert_same(e.to_dense(), t.to_dense())
    assert e.is_sparse and not e.is_sparse_csr and e.layout == ember.sparse_coo
    assert e.dtype == ember.float32 and e.device == ember.device("cpu")


@pytest.mark.parametrize("dtype", ["float64", "int64", "complex128", "int32"])
def test_dtypes(dtype):
    values = [1, 2, 3] if "int" in dtype else [1.5, -2.0, 3.25]
    e, t = pair([[0, 1, 1], [0, 2, 0]], values, (2, 3), dtype=getattr(torch, dtype))
    assert str(e.dtype).split(".")[1] == dtype
    assert_same(e.to_dense(), t.to_dense())


def test_hybrid_dense_dims():
    values = np.arange(12.0).reshape(4, 3)
    t = torch.sparse_coo_tensor(torch.tensor([[0, 2, 0, 1]]), torch.tensor(values), (3, 3))
    e = ember.sparse_coo_tensor(ember.tensor([[0, 2, 0, 1]]), ember.tensor(values), (3, 3))
    assert e.sparse_dim() == 1 and e.dense_dim() == 1
    assert_same(e.to_dense(), t.to_dense())
    c, tc = e.coalesce(), t.coalesce()
    assert c.indices().tolist() == tc.indices().tolist()
    assert_same(c.values(), tc.values())


def test_empty_and_inferred_size():
    e = ember.sparse_coo_tensor(ember.zeros((2, 0), dtype=ember.int64), ember.zeros(0), (2, 3))
    assert e._nnz() == 0 and e.to_dense().tolist() == [[0.0] * 3] * 2
    assert tuple(ember.sparse_coo_tensor([[0, 2]], [1, 2]).shape) == (3,)
    assert tuple(ember.sparse_coo_tensor(ember.zeros((1, 0), dtype=ember.int64),
                                         ember.zeros(0)).shape) == (0,)
    assert e.coalesce()._nnz() == 0 and e.sum().item() == 0


def test_construction_errors():
    with pytest.raises(RuntimeError, match="same nnz"):
        ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0], (3,))
    with pytest.raises(RuntimeError, match="len\\(size\\) == sparse_dim \\+ dense_dim"):
        ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3, 4))
    with pytest.raises(RuntimeError, match="sparse_dim x nnz"):
        ember.sparse_coo_tensor(ember.tensor([0, 1]), [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
        ember.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="negative index -1"):
        ember.sparse_coo_tensor([[0, -1]], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="floating point and complex"):
        ember.sparse_coo_tensor([[0, 1]], [1, 2], (3,), requires_grad=True)
    with pytest.raises(RuntimeError, match="integer tensor"):
        ember.sparse_coo_tensor(ember.tensor([[0.0, 1.0]]), [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="values has incorrect size"):
        ember.sparse_coo_tensor([[0, 1]], ember.ones(2, 3), (3, 4))
    e = ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="uncoalesced"):
        e.indices()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        e.values()


def test_repr_matches_torch():
    e, t = pair([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
    assert repr(e) == repr(t).replace("torch.", "ember.")
    e, t = pair([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3), requires_grad=True)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    e, t = pair([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3), dtype=torch.float64)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    e = ember.sparse_coo_tensor(ember.zeros((2, 0), dtype=ember.int64), ember.zeros(0), (2, 3))
    t = torch.sparse_coo_tensor(torch.zeros((2, 0), dtype=torch.int64), torch.zeros(0), (2, 3))
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_coalesce_matches_torch():
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    c, tc = e.coalesce(), t.coalesce()
    assert c.is_coalesced() and c.indices().tolist() == tc.indices().tolist()
    assert_same(c.values(), tc.values())
    assert c.coalesce() is c


@pytest.mark.parametrize("sparse_dim", [None, 1, 2])
def test_dense_to_sparse(sparse_dim):
    x = np.array([[[0.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 3.0]], [[0, 0], [0, 0]]])
    t = torch.tensor(x).to_sparse(sparse_dim) if sparse_dim else torch.tensor(x).to_sparse()
    e = ember.tensor(x).to_sparse(sparse_dim) if sparse_dim else ember.tensor(x).to_sparse()
    assert e.is_coalesced() and e.indices().tolist() == t.indices().tolist()
    assert_same(e.values(), t.values())
    assert_same(e.to_dense(), t.to_dense())
    dense = ember.ones(2)
    assert not dense.is_sparse and not dense.is_sparse_csr and dense.to_dense() is dense
    with pytest.raises(RuntimeError, match="sparse_dim must be in"):
        ember.ones(2, 2).to_sparse(3)


# ---------------------------------------------------------------- products

@pytest.mark.parametrize("dense_shape", [(4, 3), (4,), (4, 1)])
def test_mm_and_gradients(dense_shape):
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4), torch_dtype=torch.float64,
                requires_grad=True)
    td = torch.randn(dense_shape, dtype=torch.float64, requires_grad=True)
    ed = E(td).requires_grad_()
    # torch.sparse.mm: the gradient of the sparse operand masked to its specified
    # elements, the only gradient ember's sparse tensors have
    tout = torch.sparse.mm(t, td) if td.dim() == 2 else torch.sparse.mm(t, td[:, None])[:, 0]
    eout = ember.sparse.mm(e, ed)
    assert_same(eout, tout)
    w = torch.randn(tout.shape, dtype=torch.float64)
    (tout * w).sum().backward()
    (eout * E(w)).sum().backward()
    assert_same(ed.grad, td.grad)
    assert e.grad.is_sparse and e.is_leaf
    assert_same(e.grad.to_dense(), t.grad.to_dense())
    assert_same((e @ ed).detach(), tout.detach())


def test_dense_times_sparse_and_spmm():
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    x = torch.randn(5, 3)
    assert_same(E(x) @ e, x @ t, rtol=1e-5)
    assert_same(E(x[0]) @ e, x[0] @ t, rtol=1e-5)
    y = torch.randn(4, 2)
    assert_same(ember.spmm(e, E(y)), torch.spmm(t, y), rtol=1e-5)


def test_addmm():
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    m, d = torch.randn(3, 2), torch.randn(4, 2)
    assert_same(ember.sparse.addmm(E(m), e, E(d), beta=0.5, alpha=2.0),
                torch.sparse.addmm(m, t, d, beta=0.5, alpha=2.0), rtol=1e-5)


def test_sparse_times_sparse():
    a, ta = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    b, tb = pair([[0, 1, 3, 3, 2], [1, 0, 0, 1, 1]], [1.0, -2.0, 0.5, 4.0, 3.0], (4, 2))
    out, tout = a @ b, torch.sparse.mm(ta, tb)
    assert out.is_sparse and out.is_coalesced()
    assert_same(out.to_dense(), tout.to_dense())
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        a @ a


def test_sparse_times_sparse_gradcheck():
    ia, ib = ember.tensor(DUP_INDICES), ember.tensor([[0, 1, 3, 2], [1, 0, 0, 1]])

    def f(va, vb):
        a = ember.sparse_coo_tensor(ia, va, (3, 4))
        b = ember.sparse_coo_tensor(ib, vb, (4, 2))
        return (a @ b).to_dense()

    va = ember.tensor(DUP_VALUES, dtype=ember.float64, requires_grad=True)
    vb = ember.tensor([1.0, -2.0, 0.5, 4.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(f, (va, vb))


def test_mm_errors():
    e, _ = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        e @ ember.ones(3, 2)
    with pytest.raises(RuntimeError, match="1-D or 2-D"):
        e @ ember.ones(4, 2, 2)
    h = ember.sparse_coo_tensor([[0, 1]], ember.ones(2, 3), (2, 3))
    with pytest.raises(RuntimeError, match="no dense dims"):
        h @ ember.ones(3)
    with pytest.raises(TypeError, match="second operand"):
        ember.sparse.mm(e, [1.0])


# ---------------------------------------------------------------- elementwise

def test_elementwise_against_torch():
    a, ta = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    b, tb = pair([[0, 2, 1], [1, 0, 3]], [10.0, 20.0, 30.0], (3, 4))
    d = torch.randn(3, 4)
    cases = [(a + b, ta + tb), (a - b, ta - tb), (E(d) + a, d + ta), (E(d) - a, d - ta),
             (a * E(d), ta * d), (E(d) * a, d * ta), (a * 2, ta * 2), (3 * a, 3 * ta),
             (a / 4, ta / 4), (-a, -ta), (a * b, ta * tb), (a.pow(2), ta.pow(2)),
             (a.abs(), ta.abs()), (a.sqrt(), ta.sqrt()), (a.tanh(), ta.tanh()),
             (a.sin(), ta.sin()), (a.neg(), ta.neg()), (a.add(b, alpha=2), ta.add(tb, alpha=2))]
    for got, want in cases:
        dense = got.to_dense() if hasattr(got, "to_dense") and not isinstance(
            got, ember.Tensor) else got
        assert_same(dense, want.to_dense(), rtol=1e-5, atol=1e-5)
    assert (a * b).is_sparse and (a + b)._nnz() == ta._nnz() + tb._nnz()
    with pytest.raises(RuntimeError, match="add\\(sparse, dense\\) is not supported"):
        a + E(d)
    with pytest.raises(RuntimeError, match="sizes and sparse dims to match"):
        a + ember.sparse_coo_tensor([[0]], [1.0], (3,))
    with pytest.raises(RuntimeError, match="positive scalar exponent"):
        a.pow(-1)


def test_elementwise_gradients():
    ia = ember.tensor(DUP_INDICES)
    d = ember.randn(3, 4, dtype=ember.float64)

    def f(v, dense):
        s = ember.sparse_coo_tensor(ia, v, (3, 4))
        return (dense + s * dense * 2).sum(0), (s * s).to_dense()

    v = ember.tensor(DUP_VALUES, dtype=ember.float64, requires_grad=True)
    assert gradcheck(f, (v, d.requires_grad_()))


# ---------------------------------------------------------------- reductions and softmax

@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_sum(dim):
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    got = ember.sparse.sum(e) if dim is None else ember.sparse.sum(e, dim)
    want = torch.sparse.sum(t) if dim is None else torch.sparse.sum(t, dim)
    assert got.is_sparse == want.is_sparse
    if want.is_sparse:
        assert_same(got.to_dense(), want.to_dense())
    else:
        assert_same(got, want)
    assert_same(e.sum(), t.sum())


def test_sum_hybrid():
    values = torch.arange(12.0).reshape(4, 3)
    t = torch.sparse_coo_tensor(torch.tensor([[0, 2, 0, 1], [1, 1, 1, 0]]), values, (3, 2, 3))
    e = ember.sparse_coo_tensor(ember.tensor([[0, 2, 0, 1], [1, 1, 1, 0]]), E(values), (3, 2, 3))
    for dim in (0, 1, 2, (0, 2), (0, 1), (1, 2)):
        got, want = ember.sparse.sum(e, dim), torch.sparse.sum(t, dim)
        assert got.is_sparse == want.is_sparse
        assert_same(got.to_dense() if got.is_sparse else got,
                    want.to_dense() if want.is_sparse else want)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_against_torch(dim, log):
    e, t = pair(DUP_INDICES, [1.0, -2.0, 0.5, 3.0, 2.0], (3, 4), torch_dtype=torch.float64,
                requires_grad=True)
    fe = ember.sparse.log_softmax if log else ember.sparse.softmax
    ft = torch.sparse.log_softmax if log else torch.sparse.softmax
    got, want = fe(e, dim), ft(t, dim)
    assert got.is_coalesced()
    assert got.indices().tolist() == want.coalesce().indices().tolist()
    assert_same(got.values(), want.coalesce().values())
    w = torch.randn(want._nnz(), dtype=torch.float64)
    (want.coalesce().values() * w).sum().backward()
    (got.values() * E(w)).sum().backward()
    assert_same(e.grad.to_dense(), t.grad.to_dense())


def test_softmax_gradcheck_and_errors():
    idx = ember.tensor([[0, 0, 1, 2, 2], [0, 3, 1, 2, 0]])

    def f(v):
        return ember.sparse.softmax(ember.sparse_coo_tensor(idx, v, (3, 4)), 1).to_dense()

    assert gradcheck(f, (ember.randn(5, dtype=ember.float64, requires_grad=True),))
    h = ember.sparse_coo_tensor([[0, 1]], ember.ones(2, 3), (2, 3))
    with pytest.raises(RuntimeError, match="without dense dims"):
        ember.sparse.softmax(h, 0)


# ---------------------------------------------------------------- shape and autograd

def test_transpose():
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    assert_same(e.t().to_dense(), t.t().to_dense())
    assert_same(e.transpose(0, 1).to_dense(), t.transpose(0, 1).to_dense())
    h = ember.sparse_coo_tensor([[0, 1]], ember.ones(2, 3), (2, 3))
    with pytest.raises(RuntimeError, match="must be sparse"):
        h.transpose(0, 1)
    with pytest.raises(IndexError, match="out of range"):
        e.transpose(0, 2)


@pytest.mark.parametrize("dense", [(4,), (1, 4), (3, 1), ()])
def test_mul_by_a_broadcast_dense_tensor(dense):
    # a degree vector scaling a graph's adjacency (it raised unless the shapes were equal)
    a, ta = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    d = torch.randn(dense, dtype=torch.float64).float()
    for got, want in ((a * E(d), ta * d), (E(d) * a, d * ta)):
        assert got.is_sparse
        assert_same(got.to_dense(), want.to_dense())
    h, th = pair([[0, 2]], [[1.0, 2.0], [3.0, 4.0]], (3, 2))
    assert_same((h * ember.tensor([10.0, 100.0])).to_dense(),
                (th * torch.tensor([10.0, 100.0])).to_dense())
    with pytest.raises(RuntimeError, match="broadcastable"):
        a * ember.ones(2, 3, 4)


def test_mul_by_a_broadcast_dense_tensor_gradcheck():
    idx = ember.tensor(DUP_INDICES)
    v = ember.tensor(DUP_VALUES, dtype=ember.float64, requires_grad=True)
    deg = ember.rand(4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v, deg: (ember.sparse_coo_tensor(idx, v, (3, 4)) * deg).to_dense(),
                     (v, deg))


@pytest.mark.parametrize("dim, index", [(0, [1, 1, 0]), (1, [3, 1, 3]), (-1, [0, 2]),
                                        (0, []), (0, [-1]), (1, [0])])
def test_index_select_matches_torch(dim, index):
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    got, want = e.index_select(dim, ember.tensor(index, dtype=ember.int64)), \
        t.index_select(dim, torch.tensor(index, dtype=torch.int64))
    assert got.shape == want.shape and got.is_coalesced() == want.is_coalesced()
    assert got._indices().tolist() == want._indices().tolist()
    assert_same(got._values(), want._values())


def test_index_select_dense_dim_gradients_and_errors():
    h, th = pair([[0, 2]], [[1.0, 2.0], [3.0, 4.0]], (3, 2))
    assert_same(h.index_select(1, ember.tensor([1, 1, 0])).to_dense(),
                th.index_select(1, torch.tensor([1, 1, 0])).to_dense())
    idx = ember.tensor(DUP_INDICES)
    v = ember.tensor(DUP_VALUES, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v: ember.sparse_coo_tensor(idx, v, (3, 4)).index_select(
        1, ember.tensor([2, 1, 2])).to_dense(), (v,))
    e = ember.sparse_coo_tensor(idx, v, (3, 4))
    with pytest.raises(IndexError, match="out of range"):
        e.index_select(0, ember.tensor([3]))
    with pytest.raises(IndexError, match="1-D"):
        e.index_select(0, ember.tensor([[0]]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        e.index_select(2, ember.tensor([0]))


@pytest.mark.parametrize("pick", [lambda s: s[1], lambda s: s.select(1, 2),
                                  lambda s: s.select(0, -1), lambda s: s[1, 2],
                                  lambda s: s[2, 0], lambda s: s.select(-1, 3)])
def test_select_and_integer_indexing_match_torch(pick):
    # a node's row of an adjacency (it raised: no select, not subscriptable)
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    got, want = pick(e), pick(t)
    if want.is_sparse:
        assert got.is_sparse and got.shape == want.shape
        assert got.is_coalesced() == want.is_coalesced()
        assert got._indices().tolist() == want._indices().tolist()
        got, want = got._values(), want._values()
    assert_same(got, want)


def test_select_dense_dim_gradients_and_errors():
    h, th = pair([[0, 2]], [[1.0, 2.0], [3.0, 4.0]], (3, 2))
    for got, want in ((h.select(1, 1), th.select(1, 1)), (h[2], th[2]), (h[1], th[1])):
        assert_same(got.to_dense() if got.is_sparse else got,
                    want.to_dense() if want.is_sparse else want)
    idx = ember.tensor(DUP_INDICES)
    v = ember.tensor(DUP_VALUES, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v: ember.sparse_coo_tensor(idx, v, (3, 4))[1].to_dense(), (v,))
    e = ember.sparse_coo_tensor(idx, v, (3, 4))
    with pytest.raises(IndexError, match="out of range"):
        e.select(0, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        e.select(2, 0)
    with pytest.raises(NotImplementedError, match="integers only"):
        e[1:]


def test_to_dense_gradcheck_and_graph_semantics():
    idx = ember.tensor(DUP_INDICES)
    v = ember.tensor(DUP_VALUES, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v: ember.sparse_coo_tensor(idx, v, (3, 4)).to_dense(), (v,))
    s = ember.sparse_coo_tensor(idx, v * 2, (3, 4))
    assert s.requires_grad and not s.is_leaf and s.grad_fn is not None
    assert not s.detach().requires_grad
    leaf = ember.sparse_coo_tensor(idx, ember.tensor(DUP_VALUES), (3, 4), requires_grad=True)
    assert leaf.is_leaf and leaf.requires_grad and leaf.grad is None
    leaf.to_dense().sum().backward()
    # the gradient of each specified element, on the coalesced indices (as torch)
    assert leaf.grad.is_sparse and leaf.grad.is_coalesced()
    assert leaf.grad.to_dense().tolist() == (leaf.to_dense() != 0).to(ember.float32).tolist()


def test_conversions():
    e, t = pair(DUP_INDICES, DUP_VALUES, (3, 4))
    assert e.double().dtype == ember.float64 and e.to(ember.float16).dtype == ember.float16
    assert e.clone().to_dense().tolist() == e.to_dense().tolist()
    assert e.to_sparse() is e and e.numel() == 12 and len(e) == 3


# ---------------------------------------------------------------- CSR

def test_csr_against_torch():
    x = torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    tc, ec = x.to_sparse_csr(), E(x).to_sparse_csr()
    assert ec.crow_indices().tolist() == tc.crow_indices().tolist()
    assert ec.col_indices().tolist() == tc.col_indices().tolist()
    assert_same(ec.values(), tc.values())
    assert_same(ec.to_dense(), x)
    assert repr(ec) == repr(tc).replace("torch.", "ember.")
    assert ec.layout == ember.sparse_csr and ec.is_sparse_csr and not ec.is_sparse
    d = torch.randn(3, 2)
    assert_same(ec @ E(d), tc @ d, rtol=1e-5)
    assert_same(ec.to_sparse_coo().to_dense(), x)
    made = ember.sparse_csr_tensor(E(tc.crow_indices()), E(tc.col_indices()), E(tc.values()),
                                   (4, 3))
    assert_same(made.to_dense(), x)
    assert_same((ec * 2).to_dense(), x * 2)


@pytest.mark.parametrize("beta, alpha", [(1.0, 1.0), (0.5, 2.0), (0.0, -1.0)])
def test_sampled_addmm_matches_torch(beta, alpha):
    # graph-attention edge scores: the product at the specified elements only (missing)
    rng = np.random.default_rng(3)
    m1, m2 = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    runs = []
    for lib in (torch, ember):
        v = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
        c = lib.sparse_csr_tensor(lib.tensor([0, 1, 1, 4]), lib.tensor([1, 0, 2, 4]), v, (3, 5))
        a, b = lib.tensor(m1, requires_grad=True), lib.tensor(m2, requires_grad=True)
        r = lib.sparse.sampled_addmm(c, a, b, beta=beta, alpha=alpha)
        assert r.layout == lib.sparse_csr
        (r.to_dense() * lib.arange(15.0, dtype=lib.float64).view(3, 5)).sum().backward()
        runs.append([r.to_dense(), r.crow_indices(), r.col_indices(), a.grad, b.grad, v.grad])
    for t, e in zip(*runs):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_sampled_addmm_gradcheck_and_errors():
    c = ember.sparse_csr_tensor(ember.tensor([0, 2, 3]), ember.tensor([0, 2, 1]),
                                ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64), (2, 3))
    a = ember.randn(2, 4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, b: ember.sparse.sampled_addmm(c, a, b, alpha=0.5).to_dense(),
                     (a, b))
    with pytest.raises(NotImplementedError, match="sparse CSR"):
        ember.sparse.sampled_addmm(c.to_sparse_coo(), a, b)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ember.sparse.sampled_addmm(c, a, b[:3])
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.sparse.sampled_addmm(c, a, b.float())
    with pytest.raises(RuntimeError, match="to be a matrix"):
        ember.sparse.sampled_addmm(c, a[0], b)


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin", "max", "min"])
def test_csr_mm_reduce_matches_torch(reduce):
    # torch.sparse.mm(csr, dense, reduce): each output reduces the products of the stored
    # elements of its row (the OpInfo "sparse.mm.reduce"); an empty row gives 0
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5, 4)) * (rng.random((5, 4)) > 0.5)
    x[2] = 0.0
    d = rng.normal(size=(4, 3))
    w = rng.normal(size=(5, 3))
    runs = []
    for lib in (torch, ember):
        v = lib.tensor(x).to_sparse_csr().values().detach().requires_grad_(True)
        t = lib.tensor(x).to_sparse_csr()
        c = lib.sparse_csr_tensor(t.crow_indices(), t.col_indices(), v, (5, 4))
        b = lib.tensor(d, requires_grad=True)
        r = lib.sparse.mm(c, b, reduce)
        (r * lib.tensor(w)).sum().backward()
        runs.append([r, b.grad, v.grad])
    for t, e in zip(*runs):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    c = ember.tensor(x).to_sparse_csr()
    with pytest.raises(NotImplementedError, match="sparse CSR"):
        ember.sparse.mm(c.to_sparse_coo(), ember.tensor(d), reduce)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ember.sparse.mm(c, ember.tensor(d[:3]), reduce)


def test_csr_mm_reduce_errors():
    c = ember.tensor([[1.0, 0.0], [0.0, 2.0]]).to_sparse_csr()
    with pytest.raises(RuntimeError, match="sum, mean, amax or amin"):
        ember.sparse.mm(c, ember.ones(2, 2), "prod")
    with pytest.raises(RuntimeError, match="dense"):
        ember.sparse.mm(c, c, "mean")


@pytest.mark.parametrize("diagonals, offsets, shape", [
    ((2, 4), [0, -1], (4, 4)), ((2, 3), [1, -2], (3, 5)), ((2, 3), [2, 0], (5, 3)),
    ((4,), 1, (4, 4)), ((3, 4), [-1, 0, 1], (4, 4)),
])
def test_spdiags_matches_torch(diagonals, offsets, shape):
    # a sparse degree-normalisation matrix (missing)
    d = torch.arange(1.0, 1.0 + np.prod(diagonals)).reshape(diagonals)
    want = torch.sparse.spdiags(d, torch.tensor(offsets), shape)
    got = ember.sparse.spdiags(E(d), ember.tensor(offsets), shape)
    assert got._indices().tolist() == want._indices().tolist()
    assert_same(got._values(), want._values())
    assert got.shape == want.shape and not got.is_coalesced()
    csr = ember.sparse.spdiags(E(d), ember.tensor(offsets), shape, layout=ember.sparse_csr)
    assert csr.layout == ember.sparse_csr
    assert_same(csr.to_dense(), want.to_dense())


def test_spdiags_errors_match_torch():
    cases = [lambda lib: lib.sparse.spdiags(lib.ones(2, 3), lib.tensor([0, 0]), (3, 3)),
             lambda lib: lib.sparse.spdiags(lib.ones(2, 3), lib.tensor([0]), (3, 3)),
             lambda lib: lib.sparse.spdiags(lib.ones(1, 3), lib.tensor([0]), (3, 3, 3)),
             lambda lib: lib.sparse.spdiags(lib.ones(1, 3), lib.tensor([0.0]), (3, 3))]
    for case in cases:
        with pytest.raises(RuntimeError) as want:
            case(torch)
        with pytest.raises(RuntimeError, match=str(want.value).split("(")[0]):
            case(ember)


def test_csr_gradients_and_errors():
    crow, col = ember.tensor([0, 1, 3]), ember.tensor([2, 0, 2])
    v = ember.tensor([3.0, 4.0, 5.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v: ember.sparse_csr_tensor(crow, col, v, (2, 3)) @ ember.ones(
        3, 2, dtype=ember.float64), (v,))
    with pytest.raises(RuntimeError, match="crow_indices\\[..., -1\\] == nnz"):
        ember.sparse_csr_tensor([0, 1, 2], [2, 0, 2], [1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="col_indices < ncols"):
        ember.sparse_csr_tensor([0, 1, 3], [2, 0, 5], [1.0, 2.0, 3.0], (2, 3))
    with pytest.raises(RuntimeError, match="decrease"):
        ember.sparse_csr_tensor([0, 2, 1, 3], [0, 1, 2], [1.0, 2.0, 3.0], (3, 3))
    with pytest.raises(RuntimeError, match="expected a 2-D tensor"):
        ember.ones(2, 2, 2).to_sparse_csr()


# ---------------------------------------------------------------- a user's program

def test_graph_convolution_matches_torch():
    """A two-layer GCN step on a random graph: same loss and gradients as torch."""
    rng = np.random.default_rng(0)
    n, f = 20, 5
    edges = rng.integers(0, n, size=(2, 60))
    edges = np.concatenate([edges, np.stack([np.arange(n)] * 2)], 1)
    deg = np.bincount(edges[0], minlength=n).astype(np.float64)
    weights = 1 / np.sqrt(deg[edges[0]] * deg[edges[1]])
    ta = torch.sparse_coo_tensor(torch.tensor(edges), torch.tensor(weights), (n, n))
    ea = ember.sparse_coo_tensor(ember.tensor(edges), ember.tensor(weights), (n, n))
    x, w1, w2 = (rng.standard_normal(s) for s in ((n, f), (f, 8), (8, 3)))
    tw = [torch.tensor(w, requires_grad=True) for w in (w1, w2)]
    ew = [ember.tensor(w, requires_grad=True) for w in (w1, w2)]
    tl = torch.sparse.mm(ta, torch.relu(torch.sparse.mm(ta, torch.tensor(x) @ tw[0])) @ tw[1])
    el = ember.sparse.mm(ea, ember.relu(ea @ (ember.tensor(x) @ ew[0])) @ ew[1])
    tl.logsumexp(1).sum().backward()
    el.logsumexp(1).sum().backward()
    assert_same(el, tl, rtol=1e-10)
    for a, b in zip(ew, tw):
        assert_same(a.grad, b.grad, rtol=1e-10)


def test_layouts():
    assert repr(ember.sparse_coo) == "ember.sparse_coo" and repr(ember.sparse_csr) == \
        "ember.sparse_csr"
    assert isinstance(ember.sparse_coo, ember.layout) and ember.sparse_coo != ember.strided
    x = ember.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert x.to_sparse(layout=ember.sparse_csr).layout == ember.sparse_csr
    assert x.to_sparse(layout=ember.sparse_coo).layout == ember.sparse_coo
    assert x.to_sparse_csr().to_sparse(layout=ember.sparse_csr).is_sparse_csr
    with pytest.raises(RuntimeError, match="layout=ember.sparse_coo is not supported"):
        ember.zeros(2, layout=ember.sparse_coo)
    import pickle
    assert pickle.loads(pickle.dumps(ember.sparse_csr)) is ember.sparse_csr
