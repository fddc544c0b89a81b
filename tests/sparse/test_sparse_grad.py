"""Sparse gradients against PyTorch 2.13: ``Embedding(sparse=True)``, ``EmbeddingBag``,
the optimizers that take them (SparseAdam, SGD, Adagrad) or refuse them, gradient
clipping, and the dense product functions called with sparse operands."""
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck

warnings.filterwarnings("ignore", message="Sparse invariant checks")
pytestmark = [pytest.mark.filterwarnings("ignore:Sparse invariant checks"),
              pytest.mark.filterwarnings("ignore:Sparse CSR tensor support")]

DTYPES = [(np.float64, 1e-12), (np.float32, 1e-5)]


def assert_same(e, t, tol=1e-12):
    e = e.to_dense() if e.is_sparse else e
    t = t.to_dense() if t.is_sparse else t
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def tables(rows=7, cols=3, dtype=np.float64, seed=0):
    """The same weight as an ember and a torch Parameter."""
    w = np.random.default_rng(seed).standard_normal((rows, cols)).astype(dtype)
    return (ember.nn.Parameter(ember.tensor(w)), torch.nn.Parameter(torch.tensor(w)))


def raises_like(fe, ft):
    """Both calls raise the same exception type and message."""
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(type(te.value), match=re.escape(str(te.value))):
        fe()


# ---------------------------------------------------------------- embedding gradients

@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 1, -4])
def test_embedding_sparse_grad_matches_torch(dtype, tol, padding_idx):
    we, wt = tables(dtype=dtype)
    idx = [[3, 1, 3], [0, 1, 6]]     # repeats and a padding entry, 2-D input
    scale = np.arange(3.0).astype(dtype)
    F.embedding(ember.tensor(idx), we, padding_idx, sparse=True).mul(
        ember.tensor(scale)).sum().backward()
    TF.embedding(torch.tensor(idx), wt, padding_idx, sparse=True).mul(
        torch.tensor(scale)).sum().backward()
    ge, gt = we.grad, wt.grad
    assert ge.is_sparse and not ge.is_sparse_csr and not ge.is_coalesced()
    assert ge.layout == ember.sparse_coo and ge.dtype == we.dtype
    assert tuple(ge.shape) == tuple(gt.shape)
    np.testing.assert_array_equal(ge._indices().numpy(), gt._indices().numpy())
    assert_same(ge._values(), gt._values(), tol)
    assert_same(ge, gt, tol)
    assert_same(ge.coalesce().values(), gt.coalesce().values(), tol)
    np.testing.assert_array_equal(ge.coalesce().indices().numpy(),
                                  gt.coalesce().indices().numpy())


def test_sparse_grads_accumulate_across_backward_calls():
    we, wt = tables()
    for k, batch in enumerate(([3, 1, 3], [3, 1, 3], [2, 0])):
        F.embedding(ember.tensor(batch), we, sparse=True).pow(2).sum().backward()
        TF.embedding(torch.tensor(batch), wt, sparse=True).pow(2).sum().backward()
        # the same indices add their values (PyTorch's in-place accumulation); others
        # concatenate, uncoalesced (in an order of PyTorch's own, so compared coalesced)
        assert we.grad._nnz() == wt.grad._nnz() and not we.grad.is_coalesced()
        if k < 2:
            np.testing.assert_array_equal(we.grad._indices().numpy(),
                                          wt.grad._indices().numpy())
        assert_same(we.grad.coalesce().values(), wt.grad.coalesce().values())
        assert_same(we.grad, wt.grad)


def test_all_padding_gives_an_empty_sparse_grad():
    we, wt = tables()
    F.embedding(ember.tensor([1, 1]), we, padding_idx=1, sparse=True).sum().backward()
    TF.embedding(torch.tensor([1, 1]), wt, padding_idx=1, sparse=True).sum().backward()
    assert we.grad._nnz() == 0 == wt.grad._nnz()
    assert tuple(we.grad._indices().shape) == (1, 0)
    assert tuple(we.grad._values().shape) == (0, 3)
    assert_same(we.grad, wt.grad)


def test_weight_also_used_densely_gets_a_dense_grad():
    # tied weights: dense + sparse accumulate to dense, in either order
    for sparse_first in (True, False):
        we, wt = tables()
        for w, mod, fn in ((we, ember, F), (wt, torch, TF)):
            sparse_loss = lambda: fn.embedding(mod.tensor([2, 5, 2]), w, sparse=True).sum()
            dense_loss = lambda: (w * w).sum()
            for loss in ((sparse_loss, dense_loss) if sparse_first else
                         (dense_loss, sparse_loss)):
                loss().backward()
        assert not we.grad.is_sparse and not wt.grad.is_sparse
        assert_same(we.grad, wt.grad)
    # in one graph
    we, wt = tables()
    (F.embedding(ember.tensor([2, 5]), we, sparse=True).sum() + we.sum()).backward()
    (TF.embedding(torch.tensor([2, 5]), wt, sparse=True).sum() + wt.sum()).backward()
    assert_same(we.grad, wt.grad)


def test_non_leaf_weight_and_no_grad():
    base_e, base_t = tables()
    (F.embedding(ember.tensor([1, 1, 4]), base_e * 2, sparse=True) ** 2).sum().backward()
    (TF.embedding(torch.tensor([1, 1, 4]), base_t * 2, sparse=True) ** 2).sum().backward()
    assert_same(base_e.grad, base_t.grad)
    with ember.no_grad():
        out = F.embedding(ember.tensor([1]), base_e, sparse=True)
    assert not out.requires_grad
    frozen = ember.tensor(base_e.detach().numpy())
    assert_same(F.embedding(ember.tensor([4, 0]), frozen, sparse=True),
                TF.embedding(torch.tensor([4, 0]), base_t.detach(), sparse=True))


def test_gradient_wrt_the_looked_up_rows_is_dense():
    we, wt = tables()
    xe = F.embedding(ember.tensor([3, 3]), we, sparse=True)
    xt = TF.embedding(torch.tensor([3, 3]), wt, sparse=True)
    (ge,) = ember.autograd.grad((xe ** 3).sum(), [xe])
    (gt,) = torch.autograd.grad((xt ** 3).sum(), [xt])
    assert_same(ge, gt)
    assert we.grad is None


def test_dense_path_gradcheck_unchanged():
    w = ember.randn(5, 2, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: F.embedding(ember.tensor([0, 3, 3]), t, padding_idx=1), (w,))


def test_scale_grad_by_freq_with_sparse_raises_at_backward():
    we, wt = tables()
    oe = F.embedding(ember.tensor([1, 1]), we, scale_grad_by_freq=True, sparse=True).sum()
    ot = TF.embedding(torch.tensor([1, 1]), wt, scale_grad_by_freq=True, sparse=True).sum()
    raises_like(oe.backward, ot.backward)


def test_embedding_modules():
    e = ember.nn.Embedding(6, 2, padding_idx=0, sparse=True)
    assert repr(e) == repr(torch.nn.Embedding(6, 2, padding_idx=0, sparse=True))
    e(ember.tensor([[0, 5], [5, 2]])).sum().backward()
    assert e.weight.grad.is_sparse
    assert e.weight.grad._indices().tolist() == [[5, 5, 2]]
    w = np.arange(12.0).reshape(6, 2)
    pe = ember.nn.Embedding.from_pretrained(ember.tensor(w), freeze=False, sparse=True)
    pt = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, sparse=True)
    assert pe.sparse and pt.sparse
    pe(ember.tensor([1, 4])).pow(2).sum().backward()
    pt(torch.tensor([1, 4])).pow(2).sum().backward()
    assert_same(pe.weight.grad, pt.weight.grad)


# ---------------------------------------------------------------- embedding_bag

@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag_sparse_grad_matches_torch(dtype, tol, mode, padding_idx):
    we, wt = tables(dtype=dtype)
    idx, offsets = [0, 1, 2, 1, 4, 4, 6], [0, 2, 2, 5]    # an empty bag too
    F.embedding_bag(ember.tensor(idx), we, ember.tensor(offsets), mode=mode, sparse=True,
                    padding_idx=padding_idx).pow(2).sum().backward()
    TF.embedding_bag(torch.tensor(idx), wt, torch.tensor(offsets), mode=mode, sparse=True,
                     padding_idx=padding_idx).pow(2).sum().backward()
    assert we.grad.is_sparse
    np.testing.assert_array_equal(we.grad._indices().numpy(), wt.grad._indices().numpy())
    assert_same(we.grad._values(), wt.grad._values(), tol)


def test_embedding_bag_module_2d_input_and_per_sample_weights():
    w = np.random.default_rng(1).standard_normal((5, 3))
    be = ember.nn.EmbeddingBag.from_pretrained(ember.tensor(w), freeze=False, mode="sum",
                                               sparse=True)
    bt = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), freeze=False, mode="sum",
                                               sparse=True)
    psw = np.array([[0.5, 2.0], [1.0, -1.0]])
    be(ember.tensor([[1, 3], [3, 0]]), per_sample_weights=ember.tensor(psw)).sum().backward()
    bt(torch.tensor([[1, 3], [3, 0]]), per_sample_weights=torch.tensor(psw)).sum().backward()
    assert_same(be.weight.grad, bt.weight.grad)


def test_embedding_bag_max_mode_refuses_sparse():
    we, wt = tables()
    raises_like(lambda: F.embedding_bag(ember.tensor([[1, 2]]), we, mode="max", sparse=True),
                lambda: TF.embedding_bag(torch.tensor([[1, 2]]), wt, mode="max", sparse=True))
    bag = ember.nn.EmbeddingBag(4, 2, mode="max", sparse=True)
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        bag(ember.tensor([[1, 2]]))


# ---------------------------------------------------------------- .grad of a dense tensor

def test_assigning_a_sparse_grad():
    w = ember.zeros(3, 2, requires_grad=True)
    g = ember.sparse_coo_tensor([[0, 2]], ember.ones(2, 2), (3, 2))
    w.grad = g
    assert w.grad is g
    w.grad = None
    assert w.grad is None
    w.grad = g
    del w.grad
    assert w.grad is None
    # the errors of a dense gradient of the same shape and dtype
    for bad in (ember.sparse_coo_tensor([[0]], ember.ones(1, 3), (3, 3)),
                ember.sparse_coo_tensor([[0]], ember.ones(1, 2, dtype=ember.float64), (3, 2))):
        def set_sparse():
            w.grad = bad

        def set_dense():
            w.grad = bad.to_dense()
        raises_like(set_sparse, set_dense)


# ---------------------------------------------------------------- optimizers

def _train(make_e, make_t, dtype=np.float64, steps=4, padding_idx=None):
    """A few steps of an Embedding(sparse=True) -> Linear model; the final weights."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((7, 3)).astype(dtype)
    head = rng.standard_normal((3, 1)).astype(dtype)
    emb_e = ember.nn.Embedding.from_pretrained(ember.tensor(w0), freeze=False,
                                               padding_idx=padding_idx, sparse=True)
    emb_t = torch.nn.Embedding.from_pretrained(torch.tensor(w0), freeze=False,
                                               padding_idx=padding_idx, sparse=True)
    opt_e, opt_t = make_e([emb_e.weight]), make_t([emb_t.weight])
    for _ in range(steps):
        idx = rng.integers(0, 7, (4, 2))
        opt_e.zero_grad()
        opt_t.zero_grad()
        (emb_e(ember.tensor(idx)) @ ember.tensor(head)).pow(2).sum().backward()
        (emb_t(torch.tensor(idx)) @ torch.tensor(head)).pow(2).sum().backward()
        opt_e.step()
        opt_t.step()
    return emb_e.weight, emb_t.weight


OPTIMIZERS = {
    "SparseAdam": dict(lr=0.1),
    "SparseAdam-maximize": dict(lr=0.1, betas=(0.8, 0.9), eps=1e-6, maximize=True),
    "SGD": dict(lr=0.1),
    "SGD-momentum": dict(lr=0.1, momentum=0.9, dampening=0.2),
    "SGD-nesterov": dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "Adagrad-maximize": dict(lr=0.1, maximize=True, foreach=False),
}


@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_training_trajectory_matches_torch(name, dtype, tol):
    cls, kwargs = name.split("-")[0], OPTIMIZERS[name]
    we, wt = _train(lambda p: getattr(ember.optim, cls)(p, **kwargs),
                    lambda p: getattr(torch.optim, cls)(p, **kwargs), dtype,
                    padding_idx=2 if "maximize" in name else None)
    assert_same(we, wt, tol * 10)


def test_sparse_adam_state_and_lazy_rows():
    we, wt = tables()
    oe, ot = ember.optim.SparseAdam([we], lr=0.5), torch.optim.SparseAdam([wt], lr=0.5)
    before = we.detach().clone()
    F.embedding(ember.tensor([4, 1]), we, sparse=True).sum().backward()
    TF.embedding(torch.tensor([4, 1]), wt, sparse=True).sum().backward()
    oe.step()
    ot.step()
    changed = (we.detach() != before).any(1).tolist()
    assert changed == [False, True, False, False, True, False, False]
    se, st = oe.state[we], ot.state[wt]
    assert se["step"] == st["step"] == 1
    assert_same(se["exp_avg"], st["exp_avg"])
    assert_same(se["exp_avg_sq"], st["exp_avg_sq"])
    assert oe.state_dict()["param_groups"] == ot.state_dict()["param_groups"]


@pytest.mark.parametrize("kwargs", [dict(lr=0.0), dict(lr=-1.0), dict(eps=0.0),
                                    dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1))])
def test_sparse_adam_bad_options(kwargs):
    raises_like(lambda: ember.optim.SparseAdam([ember.zeros(2, requires_grad=True)], **kwargs),
                lambda: torch.optim.SparseAdam([torch.zeros(2, requires_grad=True)], **kwargs))


def test_sparse_adam_refuses_dense_grads_and_complex_params():
    pe, pt = tables()
    (pe * 2).sum().backward()
    (pt * 2).sum().backward()
    raises_like(ember.optim.SparseAdam([pe]).step, torch.optim.SparseAdam([pt]).step)
    ce = ember.zeros(2, dtype=ember.complex64, requires_grad=True)
    ct = torch.zeros(2, dtype=torch.complex64, requires_grad=True)
    raises_like(lambda: ember.optim.SparseAdam([ember.zeros(1, requires_grad=True), ce]),
                lambda: torch.optim.SparseAdam([torch.zeros(1, requires_grad=True), ct]))


@pytest.mark.parametrize("name, kwargs", [
    ("Adam", {}), ("AdamW", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}),
    ("RMSprop", {}), ("Adadelta", {}), ("Rprop", {}), ("ASGD", {}), ("Adafactor", {}),
    ("SGD", dict(weight_decay=0.1)), ("SGD", dict(fused=True)),
    ("Adagrad", dict(weight_decay=0.1)), ("Adagrad", dict(fused=True))])
def test_optimizers_refusing_sparse_grads(name, kwargs):
    we, wt = tables()
    F.embedding(ember.tensor([1]), we, sparse=True).sum().backward()
    TF.embedding(torch.tensor([1]), wt, sparse=True).sum().backward()
    raises_like(getattr(ember.optim, name)([we], **kwargs).step,
                getattr(torch.optim, name)([wt], **kwargs).step)


def test_sparse_and_dense_grads_in_one_group():
    rng = np.random.default_rng(3)
    lin_w = rng.standard_normal((1, 3))
    for cls in ("SGD", "Adagrad"):
        results = []
        for mod, fn in ((ember, F), (torch, TF)):
            emb, _ = tables() if mod is ember else tables()[::-1]
            lin = mod.nn.Parameter(mod.tensor(lin_w))
            opt = getattr(mod.optim, cls)([emb, lin], lr=0.1)
            for _ in range(3):
                opt.zero_grad()
                (fn.embedding(mod.tensor([0, 2, 2]), emb, sparse=True) @ lin.t()).pow(2).sum(
                ).backward()
                opt.step()
            results.append((emb, lin))
        assert_same(results[0][0], results[1][0])
        assert_same(results[0][1], results[1][1])


def test_lbfgs_makes_sparse_grads_dense():
    results = []
    for mod, fn in ((ember, F), (torch, TF)):
        w = mod.nn.Parameter(mod.tensor(np.linspace(-1, 1, 12).reshape(4, 3)))
        opt = mod.optim.LBFGS([w], lr=0.5, max_iter=5)

        def closure():
            opt.zero_grad()
            loss = (fn.embedding(mod.tensor([1, 3, 3]), w, sparse=True) - 1).pow(2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        results.append(w)
    assert_same(*results, tol=1e-10)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    module = ember.nn.Embedding(7, 3, sparse=True)
    we, wt = module.weight, tables()[1]
    opt = ember.optim.SGD([we], lr=0.1)
    for zero in (opt.zero_grad, module.zero_grad):
        F.embedding(ember.tensor([2]), we, sparse=True).sum().backward()
        zero(set_to_none=set_to_none)
        TF.embedding(torch.tensor([2]), wt, sparse=True).sum().backward()
        torch.optim.SGD([wt], lr=0.1).zero_grad(set_to_none=set_to_none)
        if set_to_none:
            assert we.grad is None and wt.grad is None
        else:
            assert we.grad.is_sparse and we.grad._nnz() == 0 == wt.grad._nnz()
            assert_same(we.grad, wt.grad)


def test_clip_grad_norm_takes_sparse_grads():
    # PyTorch 2.13 raises NotImplementedError for a sparse gradient: ember clips it as
    # the dense gradient it stands for (compared with torch on that dense gradient)
    for norm_type in (2.0, 1.0, float("inf")):
        we, wt = tables()
        (F.embedding(ember.tensor([1, 1, 5]), we, sparse=True) ** 2).sum().backward()
        (TF.embedding(torch.tensor([1, 1, 5]), wt, sparse=False) ** 2).sum().backward()
        ne = ember.nn.utils.clip_grad_norm_([we], 0.5, norm_type)
        nt = torch.nn.utils.clip_grad_norm_([wt], 0.5, norm_type)
        assert we.grad.is_sparse
        assert_same(ne, nt)
        assert_same(we.grad, wt.grad)
    with pytest.raises(NotImplementedError, match="sparse"):
        ember.nn.utils.clip_grad_value_([we], 0.1)


# ---------------------------------------------------------------- dense functions

def _operands():
    rng = np.random.default_rng(5)
    dense = rng.standard_normal((3, 4))
    idx, vals = [[0, 2, 2, 0], [1, 0, 3, 1]], np.array([1.0, 2.0, -1.0, 0.5])
    se = ember.sparse_coo_tensor(idx, ember.tensor(vals), (3, 4))
    st = torch.sparse_coo_tensor(idx, torch.tensor(vals), (3, 4))
    return se, st, dense


@pytest.mark.parametrize("csr", [False, True])
def test_dense_product_functions_take_sparse_operands(csr):
    se, st, d = _operands()
    if csr:
        se, st = se.to_sparse_csr(), st.coalesce().to_sparse_csr()
    de, dt = ember.tensor(d.T.copy()), torch.tensor(d.T.copy())
    for fe, ft in ((ember.mm, torch.mm), (ember.matmul, torch.matmul)):
        assert_same(fe(se, de), ft(st, dt))
        assert_same(fe(de, se), ft(dt, st))
    assert_same(se.mm(de), st.mm(dt))
    assert_same(de.mm(se), dt.mm(st))
    assert_same(de.matmul(se), dt.matmul(st))
    assert_same(ember.matmul(se, de[:, 0]), torch.matmul(st, dt[:, 0]))
    bias_e, bias_t = ember.ones(3, 3, dtype=ember.float64), torch.ones(3, 3, dtype=torch.float64)
    assert_same(ember.addmm(bias_e, se, de), torch.addmm(bias_t, st, dt))
    assert_same(ember.addmm(bias_e, se, de, beta=0.5, alpha=2),
                torch.addmm(bias_t, st, dt, beta=0.5, alpha=2))
    assert_same(bias_e.addmm(se, de, alpha=3), bias_t.addmm(st, dt, alpha=3))
    nan = ember.full((3, 3), float("nan"), dtype=ember.float64)
    assert_same(ember.addmm(nan, se, de, beta=0), torch.addmm(bias_t, st, dt, beta=0))
    assert_same(ember.mm(se, se.t() if not csr else se.to_sparse_coo().t()),
                torch.mm(st.to_dense(), st.to_dense().t()))


def test_product_functions_with_sparse_operands_differentiate():
    se, _, d = _operands()
    dense = ember.tensor(d.T.copy(), requires_grad=True)
    assert gradcheck(lambda x: ember.mm(se, x), (dense,))
    assert gradcheck(lambda x: ember.addmm(ember.ones(3, 1, dtype=ember.float64), se, x,
                                           beta=2, alpha=0.5), (dense,))
    values = ember.tensor([1.0, 2.0, -1.0, 0.5], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v: ember.matmul(
        ember.sparse_coo_tensor([[0, 2, 2, 0], [1, 0, 3, 1]], v, (3, 4)), dense.detach()),
        (values,))


def test_product_functions_sparse_errors():
    se, st, d = _operands()
    # PyTorch raises an IndexError from inside its kernel: ember the dense mm's error
    with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
        ember.mm(se, ember.ones(4, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        ember.ones(4).mm(se)
    with pytest.raises(RuntimeError, match="out= is not supported"):
        ember.mm(se, ember.ones(4, 2, dtype=ember.float64), out=ember.empty(3, 2))
    with pytest.raises(RuntimeError, match="sparse input is not supported"):
        ember.addmm(se, se, ember.ones(4, 4, dtype=ember.float64))
    with pytest.raises(TypeError, match="must be Tensor, not str"):
        ember.mm(se.to_dense(), "x")


def test_autograd_grad_and_backward_inputs_get_the_gradient_dense():
    # the engine carries dense gradients: ember gives torch's values, dense, where torch
    # gives them sparse, and leaves .grad alone for autograd.grad as torch does
    we, wt = tables()
    idx = [3, 0, 3, 6]
    (ge,) = ember.autograd.grad((F.embedding(ember.tensor(idx), we, sparse=True) ** 2).sum(), we)
    (gt,) = torch.autograd.grad((TF.embedding(torch.tensor(idx), wt, sparse=True) ** 2).sum(),
                                wt)
    assert we.grad is None
    np.testing.assert_allclose(np.asarray(ge), gt.to_dense().numpy(), rtol=1e-12)
    (F.embedding(ember.tensor(idx), we, sparse=True) ** 2).sum().backward(inputs=[we])
    np.testing.assert_allclose(np.asarray(we.grad), gt.to_dense().numpy(), rtol=1e-12)
