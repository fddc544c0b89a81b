"""Gradients of the matmul family (matmul, mm, bmm, mv, dot, vdot, outer and the
``beta * input + alpha * product`` forms), against PyTorch and finite differences."""
import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

RNG = np.random.default_rng(1)
LAYOUT_NAMES = list(LAYOUTS)


def data(*shape, dtype=np.float64):
    out = np.asarray(RNG.standard_normal(shape))
    if np.dtype(dtype).kind == "c":
        out = out + 1j * RNG.standard_normal(shape)
    return out.astype(dtype)


# ---------------------------------------------------------------- matmul, every rank

MATMUL_SHAPES = [
    ((3,), (3,)),               # dot
    ((3,), (3, 2)),             # vector @ matrix
    ((3,), (2, 3, 4)),          # vector @ batch
    ((2, 3), (3,)),             # mv
    ((2, 2, 3), (3,)),          # batch @ vector: folded
    ((2, 3), (3, 4)),           # mm
    ((2, 2, 3), (3, 4)),        # batch @ matrix: folded
    ((2, 3), (2, 3, 4)),        # matrix @ batch: broadcast
    ((2, 1, 2, 3), (3, 3, 2)),  # batch dims broadcast both ways
    ((1, 2, 3), (2, 3, 4)),
]


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_ranks(shapes, layout):
    assert_grads_match_torch(lambda lib, a, b: lib.matmul(a, b), data(*shapes[0]),
                             data(*shapes[1]), layout=LAYOUTS[layout])


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_complex(shapes):
    assert_grads_match_torch(lambda lib, a, b: a @ b, data(*shapes[0], dtype=np.complex128),
                             data(*shapes[1], dtype=np.complex128))


@pytest.mark.parametrize("which", [0, 1])
def test_matmul_one_operand_requires_grad(which):
    def fn(lib, a, b):
        return lib.matmul(a.detach(), b) if which else lib.matmul(a, b.detach())
    assert_grads_match_torch(fn, data(2, 2, 3), data(3, 4))


@pytest.mark.parametrize("shapes", [((0, 3), (3, 2)), ((2, 0), (0, 3)), ((0,), (0,)),
                                    ((2, 0, 3), (3,))], ids=str)
def test_matmul_empty(shapes):
    assert_grads_match_torch(lambda lib, a, b: lib.matmul(a, b), data(*shapes[0]),
                             data(*shapes[1]))


# ---------------------------------------------------------------- the fixed-rank products

PRODUCTS = {
    "mm": (lambda lib, a, b: lib.mm(a, b), (3, 2), (2, 4)),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), (2, 3, 2), (2, 2, 4)),
    "mv": (lambda lib, a, b: lib.mv(a, b), (3, 2), (2,)),
    "dot": (lambda lib, a, b: lib.dot(a, b), (4,), (4,)),
    "vdot": (lambda lib, a, b: lib.vdot(a, b), (4,), (4,)),
    "outer": (lambda lib, a, b: lib.outer(a, b), (3,), (2,)),
    "ger": (lambda lib, a, b: a.ger(b), (3,), (2,)),
}


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products(name, layout):
    fn, sa, sb = PRODUCTS[name]
    assert_grads_match_torch(fn, data(*sa), data(*sb), layout=LAYOUTS[layout])


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_complex(name):
    fn, sa, sb = PRODUCTS[name]
    assert_grads_match_torch(fn, data(*sa, dtype=np.complex128), data(*sb, dtype=np.complex128))


# ---------------------------------------------------------------- beta * input + alpha * product

ADDED = {
    "addmm": (lambda lib, t, a, b, **kw: lib.addmm(t, a, b, **kw), (3, 4), (3, 2), (2, 4)),
    "addmv": (lambda lib, t, a, b, **kw: lib.addmv(t, a, b, **kw), (3,), (3, 2), (2,)),
    "baddbmm": (lambda lib, t, a, b, **kw: lib.baddbmm(t, a, b, **kw), (2, 3, 4), (2, 3, 2),
                (2, 2, 4)),
    "addbmm": (lambda lib, t, a, b, **kw: lib.addbmm(t, a, b, **kw), (3, 4), (2, 3, 2),
               (2, 2, 4)),
}
SCALES = [{}, {"beta": 0.5, "alpha": -2.0}, {"beta": 0, "alpha": 3}, {"alpha": 0}]


@pytest.mark.parametrize("scales", SCALES, ids=str)
@pytest.mark.parametrize("name", list(ADDED))
def test_added_products(name, scales):
    fn, st, sa, sb = ADDED[name]
    assert_grads_match_torch(lambda lib, t, a, b: fn(lib, t, a, b, **scales), data(*st),
                             data(*sa), data(*sb))


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("name", list(ADDED))
def test_added_products_broadcast_input(name, layout):
    fn, st, sa, sb = ADDED[name]
    # the added tensor broadcasts (a bias row): its gradient sums back
    assert_grads_match_torch(lambda lib, t, a, b: fn(lib, t, a, b, beta=2), data(st[-1]),
                             data(*sa), data(*sb), layout=LAYOUTS[layout])


@pytest.mark.parametrize("name", list(ADDED))
def test_added_products_complex(name):
    fn, st, sa, sb = ADDED[name]
    c = np.complex128
    assert_grads_match_torch(lambda lib, t, a, b: fn(lib, t, a, b, beta=0.5 - 1j, alpha=2j),
                             data(*st, dtype=c), data(*sa, dtype=c), data(*sb, dtype=c))


def test_beta_zero_ignores_nan_input_but_gives_it_zero_gradient():
    nan_input = np.full((2, 2), np.nan)
    assert_grads_match_torch(lambda lib, t, a, b: lib.addmm(t, a, b, beta=0), nan_input,
                             data(2, 3), data(3, 2))


@pytest.mark.parametrize("name", list(ADDED))
def test_inplace_added_products_on_non_leaf(name):
    fn, st, sa, sb = ADDED[name]

    def inplace(lib, t, a, b):
        return getattr(t * 1, name + "_")(a.detach(), b, beta=0.5, alpha=2)
    assert_grads_match_torch(inplace, data(*st), data(*sa), data(*sb))


@pytest.mark.parametrize("name", list(ADDED))
def test_inplace_added_products_need_both_operands(name):
    fn, st, sa, sb = ADDED[name]

    def inplace(lib, t, a, b):
        return getattr(t.detach().clone(), name + "_")(a, b, alpha=-1)
    assert_grads_match_torch(inplace, data(*st), data(*sa), data(*sb))


@pytest.mark.parametrize("name", list(ADDED))
def test_inplace_added_product_on_leaf_raises(name):
    fn, st, sa, sb = ADDED[name]
    for lib in (torch, ember):
        t = lib.tensor(data(*st), requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               r"used in an in-place operation\."):
            getattr(t, name + "_")(lib.tensor(data(*sa)), lib.tensor(data(*sb)))


# ---------------------------------------------------------------- float32 against torch

def test_float32_values_and_gradients():
    def fn(lib, t, a, b, v):
        h = lib.addmm(t, a, b, alpha=0.5).relu()
        return lib.matmul(h.unsqueeze(0).expand(2, 3, 4), v) + lib.mv(a, b[:, 0]).unsqueeze(0)
    f = np.float32
    assert_grads_match_torch(fn, data(3, 4, dtype=f), data(3, 5, dtype=f), data(5, 4, dtype=f),
                             data(4, dtype=f), rtol=1e-5, atol=1e-5)


def test_output_gradient_of_another_dtype_is_cast():
    # PyTorch casts a gradient given for an output to that output's dtype
    for lib in (torch, ember):
        a = lib.tensor(data(3, 2, dtype=np.float32), requires_grad=True)
        v = lib.tensor(data(2, dtype=np.float32))
        lib.mv(a, v).backward(lib.tensor(data(3)))
        assert a.grad.dtype == lib.float32


# ---------------------------------------------------------------- finite differences

GRADCHECK_CASES = {
    "matmul_vec_batch": (lambda lib, a, b: lib.matmul(a, b), [data(2), data(2, 2, 1)]),
    "matmul_batch_vec": (lambda lib, a, b: lib.matmul(a, b), [data(2, 1, 2), data(2)]),
    "matmul_broadcast": (lambda lib, a, b: lib.matmul(a, b), [data(2, 1, 2), data(1, 2, 2)]),
    "matmul_folded": (lambda lib, a, b: lib.matmul(a, b), [data(2, 1, 2), data(2, 1)]),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), [data(2, 1, 2), data(2, 2, 1)]),
    "mv": (lambda lib, a, b: lib.mv(a, b), [data(2, 2), data(2)]),
    # 1-element outputs, not 0-d: gradgradcheck cannot draw a 0-d random grad_output
    "dot": (lambda lib, a, b: lib.dot(a, b).unsqueeze(0), [data(3), data(3)]),
    "addmm": (lambda lib, t, a, b: lib.addmm(t, a, b, beta=0.5, alpha=2),
              [data(2), data(2, 2), data(2, 2)]),
    "addmv": (lambda lib, t, a, b: lib.addmv(t, a, b, alpha=-1), [data(2), data(2, 2), data(2)]),
    "baddbmm": (lambda lib, t, a, b: lib.baddbmm(t, a, b), [data(1), data(2, 1, 2),
                                                            data(2, 2, 1)]),
    "addbmm": (lambda lib, t, a, b: lib.addbmm(t, a, b, beta=2),
               [data(1, 2), data(2, 1, 2), data(2, 2, 2)]),
}
COMPLEX_CASES = {
    "matmul": (lambda lib, a, b: lib.matmul(a, b), [(2, 1, 2), (2, 2)]),
    "vdot": (lambda lib, a, b: lib.vdot(a, b).unsqueeze(0), [(2,), (2,)]),
    "dot": (lambda lib, a, b: lib.dot(a, b).unsqueeze(0), [(2,), (2,)]),
    "addmv": (lambda lib, t, a, b: lib.addmv(t, a, b, beta=0.5, alpha=-2),
              [(2,), (2, 2), (2,)]),
    "baddbmm": (lambda lib, t, a, b: lib.baddbmm(t, a, b), [(1,), (1, 1, 2), (1, 2, 2)]),
}


@pytest.mark.parametrize("name", list(GRADCHECK_CASES))
def test_gradcheck_and_gradgradcheck(name):
    fn, arrays = GRADCHECK_CASES[name]
    check_gradients(fn, *arrays)


@pytest.mark.parametrize("name", list(COMPLEX_CASES))
def test_gradcheck_complex(name):
    fn, shapes = COMPLEX_CASES[name]
    check_gradients(fn, *[data(*s, dtype=np.complex128) for s in shapes])


def test_gradgradcheck_complex_scales():
    check_gradients(lambda lib, t, a, b: lib.addmv(t, a, b, beta=1j, alpha=1 - 1j),
                    *[data(*s, dtype=np.complex128) for s in [(2,), (2, 2), (2,)]])


def test_gradcheck_inplace():
    check_gradients(lambda lib, t, a, b: (t * 1).addmm_(a, b, alpha=3),
                    data(2, 2), data(2, 2), data(2, 2))


@pytest.mark.parametrize("name", ["matmul_broadcast", "mv", "addmm", "bmm"])
def test_gradcheck_negative_strides(name):
    fn, arrays = GRADCHECK_CASES[name]
    check_gradients(lambda lib, x, *rest: fn(lib, x[::-1], *rest), *arrays)


# ---------------------------------------------------------------- graph metadata and errors

@pytest.mark.parametrize("op, name", [("mm", "MmBackward0"), ("bmm", "BmmBackward0"),
                                      ("mv", "MvBackward0"), ("dot", "DotBackward0"),
                                      ("vdot", "VdotBackward0"), ("addmm", "AddmmBackward0"),
                                      ("addmv", "AddmvBackward0"),
                                      ("baddbmm", "BaddbmmBackward0"),
                                      ("addbmm", "AddbmmBackward0"),
                                      ("outer", "MulBackward0")])
def test_node_names_match_torch(op, name):
    shapes = {"mm": [(2, 2), (2, 2)], "bmm": [(1, 2, 2), (1, 2, 2)], "mv": [(2, 2), (2,)],
              "outer": [(2,), (3,)],
              "dot": [(2,), (2,)], "vdot": [(2,), (2,)], "addmm": [(2, 2), (2, 2), (2, 2)],
              "addmv": [(2,), (2, 2), (2,)], "baddbmm": [(1, 2, 2), (1, 2, 2), (1, 2, 2)],
              "addbmm": [(2, 2), (1, 2, 2), (1, 2, 2)]}[op]
    for lib in (torch, ember):
        args = [lib.tensor(data(*s), requires_grad=True) for s in shapes]
        assert getattr(lib, op)(*args).grad_fn.name() == name


@pytest.mark.parametrize("op, shapes", [
    ("matmul", [(2, 2), (2, 2)]), ("mm", [(2, 2), (2, 2)]), ("bmm", [(1, 2, 2), (1, 2, 2)]),
    ("mv", [(2, 2), (2,)]), ("dot", [(2,), (2,)]), ("vdot", [(2,), (2,)]),
    ("addmm", [(2, 2), (2, 2), (2, 2)]), ("addmv", [(2,), (2, 2), (2,)]),
    ("baddbmm", [(1, 2, 2), (1, 2, 2), (1, 2, 2)]), ("addbmm", [(2, 2), (1, 2, 2), (1, 2, 2)]),
])
def test_out_with_requires_grad_raises(op, shapes):
    for lib in (torch, ember):
        args = [lib.tensor(data(*s)) for s in shapes]
        args[-1].requires_grad_(True)
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic "
                                               "differentiation"):
            getattr(lib, op)(*args, out=lib.empty(0, dtype=lib.float64))


class _ProductSpy:
    """Records the operands of the products the formulas call (ember.ops.linalg's names)."""

    def __init__(self, monkeypatch):
        import ember.ops.linalg as linalg
        self.calls = []
        for name in ("matmul", "mm", "bmm", "mv"):
            monkeypatch.setattr(linalg, name, self._wrap(getattr(linalg, name)))

    def _wrap(self, fn):
        def product(a, b, **kwargs):
            self.calls.append((a, b))
            return fn(a, b, **kwargs)
        return product


@pytest.mark.parametrize("op, shapes", [("mm", [(3, 2), (2, 4)]), ("matmul", [(2, 3, 2), (2, 4)]),
                                        ("bmm", [(2, 3, 2), (2, 2, 4)]),
                                        ("addmm", [(3, 4), (3, 2), (2, 4)])])
def test_backward_skips_products_nobody_needs(monkeypatch, op, shapes):
    args = [ember.tensor(data(*s)) for s in shapes]
    args[-2].requires_grad_(True)
    out = getattr(ember, op)(*args)
    spy = _ProductSpy(monkeypatch)
    out.sum().backward()
    assert len(spy.calls) == 1
    assert args[-1].grad is None and args[-2].grad is not None


def test_backward_multiplies_by_transposed_views_without_copies(monkeypatch):
    a = ember.tensor(data(4, 3), requires_grad=True)
    b = ember.tensor(data(3, 5), requires_grad=True)
    out = ember.matmul(a, b)
    spy = _ProductSpy(monkeypatch)
    out.backward(ember.tensor(data(4, 5)))
    # grad @ b.mT and a.mT @ grad: the saved inputs themselves, read transposed
    (g1, bt), (at, g2) = spy.calls
    assert bt.data_ptr() == b.data_ptr() and bt.stride() == (1, 5)
    assert at.data_ptr() == a.data_ptr() and at.stride() == (1, 3)


def test_integer_products_are_not_recorded():
    a = ember.tensor([[1, 2], [3, 4]])
    assert not ember.matmul(a, a).requires_grad
    x = ember.tensor(data(2, 2), requires_grad=True)
    y = ember.matmul(x, x)
    assert y.requires_grad and y.grad_fn is not None
