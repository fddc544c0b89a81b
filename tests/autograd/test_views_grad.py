"""Derivatives of the views, indexing, copies and conversions, and of in-place ops on
views (the base's gradient through CopySlices), against PyTorch and finite
differences."""
import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


X3 = _normal(3, 4, 5)     # for the comparisons with PyTorch
X2 = _normal(3, 4)
SMALL = _normal(2, 3)     # for finite differences


def _idx(lib, values):
    return lib.tensor(values)


# name -> (fn(lib, x), input): every view keeps the gradient of every element it shows
VIEWS = {
    "view": (lambda lib, x: x.contiguous().view(4, -1), X2),
    "view_as": (lambda lib, x: x.contiguous().view_as(lib.zeros(12)), X2),
    "reshape viewable": (lambda lib, x: x.reshape(2, 6), X2),
    "reshape copying": (lambda lib, x: x.t().reshape(-1), X2),
    "reshape_as": (lambda lib, x: x.reshape_as(lib.zeros(6, 2)), X2),
    "flatten": (lambda lib, x: x.flatten(), X3),
    "flatten dims": (lambda lib, x: x.flatten(1, 2), X3),
    "ravel": (lambda lib, x: x.ravel(), X2),
    "squeeze all": (lambda lib, x: x[None, :, None].squeeze(), X2),
    "squeeze dim": (lambda lib, x: x[:, None].squeeze(1), X2),
    "squeeze dims": (lambda lib, x: x[None, :, None].squeeze((0, 2)), X2),
    "squeeze size>1": (lambda lib, x: x.squeeze(0), X2),
    "unsqueeze": (lambda lib, x: x.unsqueeze(-1).unsqueeze(0), X2),
    "transpose": (lambda lib, x: x.transpose(0, 2), X3),
    "swapaxes": (lambda lib, x: x.swapaxes(1, 0), X2),
    "t": (lambda lib, x: x.t(), X2),
    "T": (lambda lib, x: x.T, X2),
    "mT": (lambda lib, x: x.mT, X3),
    "permute": (lambda lib, x: x.permute(2, 0, 1), X3),
    "permute negative": (lambda lib, x: x.permute(-1, 0, -2), X3),
    "movedim": (lambda lib, x: x.movedim(0, 2), X3),
    "movedim sequences": (lambda lib, x: x.movedim((0, 1), (2, 0)), X3),
    "expand": (lambda lib, x: x[:, None].expand(3, 2, 4), X2),
    "expand new dims": (lambda lib, x: x.expand(2, -1, -1), X2),
    "expand_as": (lambda lib, x: x[:1].expand_as(lib.zeros(5, 4)), X2),
    "broadcast_to": (lambda lib, x: x[:, :1].broadcast_to((2, 3, 4)), X2),
    "narrow": (lambda lib, x: x.narrow(1, 1, 2), X2),
    "narrow negative dim": (lambda lib, x: x.narrow(-1, 2, 3), X3),
    "select": (lambda lib, x: x.select(1, -1), X3),
    "split int": (lambda lib, x: x.split(2, 1), X2),
    "split sections": (lambda lib, x: x.split([1, 3], 1), X2),
    "split one used": (lambda lib, x: x.split(2, 0)[1], X2),
    "chunk": (lambda lib, x: x.chunk(2, 1), X3),
    "chunk one used": (lambda lib, x: x.chunk(3, 2)[1], X3),
    "unbind": (lambda lib, x: x.unbind(1), X2),
    "unbind one used": (lambda lib, x: x.unbind(0)[2], X2),
    "diagonal": (lambda lib, x: x.diagonal(), X2),
    "diagonal offset": (lambda lib, x: x.diagonal(1), X2),
    "diagonal negative offset": (lambda lib, x: x.diagonal(-2), X2),
    "diagonal dims": (lambda lib, x: x.diagonal(0, 2, 0), X3),
    "diagonal dims offset": (lambda lib, x: lib.diagonal(x, offset=1, dim1=-1, dim2=1), X3),
    "as_strided": (lambda lib, x: x.contiguous().as_strided((2, 2), (1, 4), 1), X2),
    "as_strided overlapping": (lambda lib, x: x.contiguous().as_strided((3, 3), (1, 1)), X2),
    "as_strided zero stride": (lambda lib, x: x.contiguous().as_strided((3, 2), (0, 1), 2), X2),
    "as_strided windows": (lambda lib, x: x.contiguous().as_strided((2, 3, 2), (1, 1, 2)), X2),
    "as_strided all overlapping": (lambda lib, x: x.contiguous().as_strided((2, 2, 2), (1, 1, 1)),
                                   X2),
    "as_strided of a view": (lambda lib, x: x.contiguous()[1:].as_strided((2, 3), (2, 1)), X2),
    "unfold": (lambda lib, x: x.unfold(1, 2, 1), X2),
    "unfold step": (lambda lib, x: x.unfold(2, 3, 2), X3),
    "unfold dim 0": (lambda lib, x: x.unfold(0, 2, 1), X2),
    "real": (lambda lib, x: (x * (1 + 2j)).real, X2),
    "imag": (lambda lib, x: (x * (1 + 2j)).imag, X2),
    "chain": (lambda lib, x: x.t()[1:].unsqueeze(0).expand(2, 3, 3).flatten(), X2),
    "empty": (lambda lib, x: x[:, :0].reshape(0, 3), X2),
    "zero-dim": (lambda lib, x: x[1, 2].reshape(1, 1).expand(2, 2), X2),
}


INDEXING = {
    "int": (lambda lib, x: x[1], X2),
    "ints": (lambda lib, x: x[-1, 1], X3),
    "slice": (lambda lib, x: x[1:, 1:3], X3),
    "slice step": (lambda lib, x: x[:, ::2], X2),
    "slice step offset": (lambda lib, x: x[::2, 1::3], X2),
    "slice empty": (lambda lib, x: x[:, 4:], X2),
    "None": (lambda lib, x: x[None, :, None, 1], X2),
    "Ellipsis": (lambda lib, x: x[..., 1], X3),
    "Ellipsis None": (lambda lib, x: x[0, ..., None], X3),
    "int tensor": (lambda lib, x: x[_idx(lib, [2, 0, 2])], X2),
    "list": (lambda lib, x: x[[1, 0, 1]], X2),
    "repeated indices": (lambda lib, x: x[_idx(lib, [0, 0, 1, 0])], X2),
    "negative indices": (lambda lib, x: x[_idx(lib, [-1, 0])], X2),
    "two tensors": (lambda lib, x: x[_idx(lib, [0, 2, 2]), _idx(lib, [3, 0, 3])], X2),
    "2-d index": (lambda lib, x: x[_idx(lib, [[0, 1], [2, 2]])], X2),
    "slice and tensor": (lambda lib, x: x[:, _idx(lib, [3, 0, 3])], X2),
    "separated tensors": (lambda lib, x: x[_idx(lib, [0, 2]), :, _idx(lib, [1, 4])], X3),
    "mixed with step": (lambda lib, x: x[1:, _idx(lib, [[0, 1], [3, 3]]), ::2], X3),
    "bool mask": (lambda lib, x: x[x > 0], X2),
    "bool rows": (lambda lib, x: x[_idx(lib, [True, False, True])], X2),
    "bool and slice": (lambda lib, x: x[:, _idx(lib, [True, False, True, True])], X2),
    "index then view": (lambda lib, x: x[_idx(lib, [1, 1])].t()[0], X2),
}


def _check_all_layouts(fn, x):
    for layout in LAYOUTS.values():
        assert_grads_match_torch(fn, x, layout=layout)


@pytest.mark.parametrize("name", VIEWS)
def test_views_against_torch(name):
    _check_all_layouts(*VIEWS[name])


@pytest.mark.parametrize("name", INDEXING)
def test_indexing_against_torch(name):
    _check_all_layouts(*INDEXING[name])


def test_bool_mask_from_numpy():
    mask = np.array([[True, False, True, True], [False, False, True, False],
                     [True, True, True, True]])
    assert_grads_match_torch(lambda lib, x, m: x[m] * 2, X2, mask)


# gradcheck + gradgradcheck on small inputs; the multi-output views go back through
# cat/stack (whose own derivatives give the second order)
GRADCHECK = {
    "view": lambda lib, x: x.view(3, 2),
    "reshape copying": lambda lib, x: x.t().reshape(6),
    "flatten": lambda lib, x: x.flatten(),
    "squeeze": lambda lib, x: x[None, :, None].squeeze((0, 2)),
    "unsqueeze": lambda lib, x: x.unsqueeze(1),
    "transpose": lambda lib, x: x.transpose(0, 1),
    "permute": lambda lib, x: x[None].permute(2, 0, 1),
    "movedim": lambda lib, x: x[None].movedim(0, 2),
    "expand": lambda lib, x: x[:, None].expand(2, 2, 3),
    "narrow": lambda lib, x: x.narrow(1, 1, 2),
    "select": lambda lib, x: x.select(1, 2),
    "diagonal": lambda lib, x: x.diagonal(1),
    "as_strided overlapping": lambda lib, x: x.as_strided((3, 3), (1, 1)),
    "as_strided zero stride": lambda lib, x: x.as_strided((2, 2), (0, 2), 1),
    "as_strided all overlapping": lambda lib, x: x.as_strided((2, 2, 2), (1, 1, 1)),
    "unfold": lambda lib, x: x.unfold(1, 2, 1),
    "basic index": lambda lib, x: x[1:, None, ::2],
    "int tensor index": lambda lib, x: x[lib.tensor([1, 1, 0])],
    "two tensor index": lambda lib, x: x[lib.tensor([0, 1, 1]), lib.tensor([2, 0, 2])],
    "bool mask": lambda lib, x: x[x > 0],
    "clone": lambda lib, x: x.clone(),
    "contiguous": lambda lib, x: x.t().contiguous(),
    "to complex": lambda lib, x: x.to(lib.complex128),
    "real of complex": lambda lib, x: (x * (1 - 2j)).real,
    "imag of complex": lambda lib, x: (x * (1 - 2j)).imag,
}
MULTI_OUTPUT = {
    "split": (lambda lib, x: x.split(2, 1), "cat"),
    "split sections": (lambda lib, x: x.split([1, 2], 1), "cat"),
    "chunk": (lambda lib, x: x.chunk(2, 0), "cat"),
    "unbind": (lambda lib, x: x.unbind(1), "stack"),
}


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck(name):
    check_gradients(GRADCHECK[name], SMALL)


@pytest.mark.parametrize("name", [n for n in GRADCHECK if not n.startswith("as_strided")])
def test_gradcheck_negative_strides(name):
    # PyTorch has no negative steps: finite differences are the oracle
    check_gradients(lambda lib, x: GRADCHECK[name](lib, x[::-1, ::-1]), SMALL)


def test_gradcheck_as_strided_of_negative_strides():
    # as_strided addresses the storage, whatever the view's strides
    check_gradients(lambda lib, x: x[::-1, ::-1].as_strided((3, 3), (1, 1), 0), SMALL)
    check_gradients(lambda lib, x: x[::-1].as_strided((2, 2), (0, 2), 1), SMALL)
    check_gradients(lambda lib, x: x[:, ::-1].as_strided((2, 2), (-1, 3), 2), SMALL)


@pytest.mark.parametrize("name", MULTI_OUTPUT)
def test_gradcheck_multi_output(name):
    fn, join = MULTI_OUTPUT[name]
    check_gradients(fn, SMALL, gradgrad=False)
    check_gradients(lambda lib, x: fn(lib, x[::-1]), SMALL, gradgrad=False)
    check_gradients(fn, SMALL)


def test_gradcheck_complex_views():
    c = _normal(2, 3) + 1j * _normal(2, 3, seed=1)
    for fn in (lambda lib, x: x.t()[1:], lambda lib, x: x.diagonal(), lambda lib, x: x.real,
               lambda lib, x: x.imag * x.real, lambda lib, x: x[lib.tensor([1, 1])],
               lambda lib, x: x.unfold(1, 2, 1)):
        assert_grads_match_torch(fn, c)
        check_gradients(fn, c)


# ---------------------------------------------------------------- copies and conversions

def test_copies_against_torch():
    y = _normal(4, seed=1)
    cases = [
        (lambda lib, x: x.clone() * x, X2),
        (lambda lib, x: x.t().contiguous(), X2),
        (lambda lib, x: x.to(lib.float32) * 2, X2),
        (lambda lib, x: x.float().double(), X2),
        (lambda lib, x: x.to(lib.float64), X2),
        (lambda lib, x: x.to(lib.complex128) * (1 + 1j), X2),
        (lambda lib, x, v: (x * 1).copy_(v), X2, y),
        (lambda lib, x, v: _copy_into_transposed(x * 1, v[:3]), X2, y),
        (lambda lib, x, v: (x * 1).copy_(v.float()), X2, y),
        (lambda lib, x: (x * 1).fill_(2.5) * x, X2),
        (lambda lib, x, v: (x * 1).fill_(v[0]), X2, y),
        (lambda lib, x: (x * 1).zero_() + x, X2),
    ]
    for fn, *arrays in cases:
        for layout in LAYOUTS.values():
            assert_grads_match_torch(fn, *arrays, rtol=1e-6, atol=1e-7, layout=layout)


def _copy_into_transposed(a, v):
    a.t().copy_(v)
    return a


def test_copies_gradcheck():
    v = _normal(3, seed=1)
    check_gradients(lambda lib, x, src: (x * 1).copy_(src), SMALL, v)
    check_gradients(lambda lib, x, src: (x * 1).copy_(src[::-1]), SMALL, v)
    check_gradients(lambda lib, x, src: (x * 1).fill_(src[1]) * src[0], SMALL, v)
    check_gradients(lambda lib, x: (x * 1).zero_() + x, SMALL)


@pytest.mark.parametrize("convert, dtype", [("float", "float64"), ("double", "float32"),
                                            ("half", "float64"), ("bfloat16", "float32"),
                                            ("to_complex", "float32"), ("to_float", "complex128")])
def test_conversion_gradient_dtype(convert, dtype):
    got = {}
    for lib in (ember, torch):
        x = lib.tensor(X2, dtype=getattr(lib, dtype), requires_grad=True)
        if convert == "to_complex":
            y = x.to(lib.complex64) * (1 + 1j)
        elif convert == "to_float":
            y = x.real.to(lib.float32)
        else:
            y = getattr(x, convert)()
        (y.abs() if y.is_complex() else y).sum().backward()
        got[lib] = x.grad
    assert str(got[ember].dtype).split(".")[-1] == str(got[torch].dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(got[ember].to(ember.complex128)),
                               got[torch].to(torch.complex128).numpy(), rtol=1e-2)


def test_copy_source_gradient_dtype():
    for lib in (ember, torch):
        x = lib.tensor(X2, requires_grad=True)
        src = lib.tensor(X2[0], dtype=lib.float32, requires_grad=True)
        (x * 1).copy_(src).sum().backward()
        assert src.grad.dtype == lib.float32 and tuple(src.grad.shape) == (4,)
        np.testing.assert_allclose(np.asarray(src.grad), np.full(4, 3.0))


# ---------------------------------------------------------------- assignment

def _assign(index_fn):
    def fn(lib, x, v):
        a = x * 1
        a[index_fn(lib)] = v
        return a * a
    return fn


SETITEM = {
    "int": (lambda lib: 1, (4,)),
    "int broadcast": (lambda lib: 0, (1,)),
    "slice": (lambda lib: (slice(None), slice(1, 3)), (3, 2)),
    "slice step": (lambda lib: (slice(None, None, 2), 0), (2,)),
    "Ellipsis": (lambda lib: (Ellipsis, 1), (3,)),
    "int tensor": (lambda lib: lib.tensor([0, 2]), (4,)),
    "repeated": (lambda lib: lib.tensor([0, 0]), (2, 4)),
    "two tensors": (lambda lib: (lib.tensor([0, 2, 2]), lib.tensor([1, 1, 3])), (3,)),
    "tensor and slice": (lambda lib: (slice(1, None), lib.tensor([3, 0])), (2, 2)),
    "bool mask": (lambda lib: lib.tensor([[True, False, True, False]] * 3), (6,)),
    "bool rows": (lambda lib: lib.tensor([False, True, True]), (1, 4)),
}


@pytest.mark.parametrize("name", SETITEM)
def test_setitem_value_requires_grad(name):
    index_fn, value_shape = SETITEM[name]
    assert_grads_match_torch(_assign(index_fn), X2, _normal(*value_shape, seed=2))
    assert_grads_match_torch(_assign(index_fn), X2, _normal(*value_shape, seed=2),
                             layout=LAYOUTS["transposed"])


@pytest.mark.parametrize("name", ["int", "slice step", "int tensor", "bool mask"])
def test_setitem_gradcheck(name):
    index_fn, value_shape = SETITEM[name]
    check_gradients(lambda lib, x, v: _assign(index_fn)(lib, x[:3, :4], v), _normal(3, 4),
                    _normal(*value_shape, seed=2))


def test_setitem_scalar_and_dtypes():
    assert_grads_match_torch(_assign(lambda lib: (slice(None), 0)), X2, 5.0)
    assert_grads_match_torch(_assign(lambda lib: X2 > 0), X2, 0.0)
    assert_grads_match_torch(_assign(lambda lib: 1), X2, _normal(4).astype(np.float32),
                             rtol=1e-6, atol=1e-7)
    for lib in (ember, torch):
        x = lib.tensor(X2, requires_grad=True)
        v = lib.tensor(X2[0], dtype=lib.float32, requires_grad=True)
        a = x * 1
        a[::2] = v                   # PyTorch's index_put refuses mixed dtypes
        a.sum().backward()
        assert v.grad.dtype == lib.float32
        np.testing.assert_allclose(np.asarray(v.grad), np.full(4, 2.0))


# ---------------------------------------------------------------- in-place ops on views

def _inplace_cases():
    def add_to_row_of_clone(lib, x, y):
        a = x.clone()
        a[0].add_(2.0)
        return a * a

    def exp_of_column(lib, x, y):
        a = x * 1
        v = a[:, 1]
        v.exp_()
        return a * a

    def narrow_add(lib, x, y):
        a = x * 1
        a.narrow(0, 1, 2).add_(y)
        return a * a

    def diagonal_zero(lib, x, y):
        a = x * 1
        a.diagonal().zero_()
        return a * a

    def diagonal_fill(lib, x, y):
        a = x * 1
        a.diagonal(1).fill_(3.0)
        return a * a

    def transposed_row_sub(lib, x, y):
        a = x * 1
        a.t()[1].sub_(y[:3], alpha=2)
        return a * a

    def flat_view_slice(lib, x, y):
        a = (x * 1).contiguous()
        a.view(12)[3:7].exp_()
        return a * a

    def view_of_view(lib, x, y):
        a = x * 1
        a[1:][:, 2].sigmoid_()
        return a * a

    def copy_into_row(lib, x, y):
        a = x * 1
        a[1].copy_(y)
        return a * a

    def copy_broadcast(lib, x, y):
        a = x * 1
        a[1:].copy_(y)
        return a * a

    def setitem_through_view(lib, x, y):
        a = x * 1
        a[1:][lib.tensor([1, 0])] = y
        return a * a

    def setitem_into_slice(lib, x, y):
        a = x * 1
        a[:, 1:][0] = y[:3]
        return a * a

    def operator_on_view(lib, x, y):
        a = x * 1
        v = a[::2]
        v += y
        return a * a

    def two_views(lib, x, y):
        a = x * 1
        a[0].add_(y)
        a[:, 0].neg_()
        return a * a

    def unfold_window(lib, x, y):
        a = x * 1
        a.unfold(1, 2, 2)[:, 0].relu_()
        return a * a

    return [add_to_row_of_clone, exp_of_column, narrow_add, diagonal_zero, diagonal_fill,
            transposed_row_sub, flat_view_slice, view_of_view, copy_into_row, copy_broadcast,
            setitem_through_view, setitem_into_slice, operator_on_view, two_views,
            unfold_window]


INPLACE_ON_VIEWS = _inplace_cases()


@pytest.mark.parametrize("fn", INPLACE_ON_VIEWS, ids=[f.__name__ for f in INPLACE_ON_VIEWS])
def test_inplace_on_view_of_non_leaf(fn):
    assert_grads_match_torch(fn, X2, _normal(4, seed=3))
    assert_grads_match_torch(fn, X2, _normal(4, seed=3), layout=LAYOUTS["transposed"])
    assert_grads_match_torch(fn, X2, _normal(4, seed=3), layout=LAYOUTS["strided"])


@pytest.mark.parametrize("fn", INPLACE_ON_VIEWS[:4],
                         ids=[f.__name__ for f in INPLACE_ON_VIEWS[:4]])
def test_inplace_on_view_gradcheck(fn):
    check_gradients(fn, X2, _normal(4, seed=3), gradgrad=False)


def _complex_part_cases():
    """In-place writes through real views of a complex tensor (and a complex view of a
    real one): the base's gradient is moved in reals, as PyTorch's CopySlices does."""
    def assign_real(lib, x, y):
        c = lib.complex(x, x * 0.5) * (1 - 0.5j)
        c.real = y * 2                                  # broadcast over the rows
        return c

    def assign_imag_of_row(lib, x, y):
        c = lib.complex(x, x * 0.5) * (1 - 0.5j)
        c[1].imag = y.exp()
        return c.abs()

    def mul_real_of_column(lib, x, y):
        c = lib.complex(x, x.flip(0))
        c[:, 1].real.mul_(y[:3])
        return c

    def copy_into_view_as_real(lib, x, y):
        c = lib.complex(x, x * 0.5)
        lib.view_as_real(c)[..., 1].copy_(y)
        return c * c

    def inplace_on_view_as_complex(lib, x, y):
        r = x.contiguous() * 1
        lib.view_as_complex(r.view(3, 2, 2))[1].mul_(2 - 1j)
        return r * r

    def real_view_read_after_its_base_changed(lib, x, y):
        c = lib.complex(x, y.expand(3, 4))
        part = c.real
        c.mul_(1 + 1j)
        return part * 2

    return [assign_real, assign_imag_of_row, mul_real_of_column, copy_into_view_as_real,
            inplace_on_view_as_complex, real_view_read_after_its_base_changed]


COMPLEX_PARTS = _complex_part_cases()


@pytest.mark.parametrize("fn", COMPLEX_PARTS, ids=[f.__name__ for f in COMPLEX_PARTS])
def test_inplace_on_complex_parts(fn):
    assert_grads_match_torch(fn, X2, _normal(4, seed=3))
    assert_grads_match_torch(fn, X2, _normal(4, seed=3), layout=LAYOUTS["transposed"])


def test_inplace_on_view_grad_fn_names():
    for lib in (ember, torch):
        a = lib.tensor(X2, requires_grad=True) * 1
        a[0].mul_(2)
        assert "CopySlices" in a.grad_fn.name()


@pytest.mark.parametrize("op", [
    lambda lib, x: x[0].mul_(2), lambda lib, x: x.t().add_(1), lambda lib, x: x.diagonal().zero_(),
    lambda lib, x: x.view(12).fill_(1.0), lambda lib, x: x[1:].copy_(lib.ones(4)),
    lambda lib, x: x.narrow(1, 0, 2).exp_(), lambda lib, x: x.exp_(),
    lambda lib, x: x.__setitem__(0, 1.0), lambda lib, x: x.__setitem__(lib.tensor([0]), 1.0),
    lambda lib, x: x.zero_(),
])
def test_inplace_on_leaf_or_its_views_raises_as_torch(op):
    for lib in (ember, torch):
        x = lib.tensor(X2, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op(lib, x)


def test_inplace_on_leaf_views_allowed_without_grad():
    for lib in (ember, torch):
        x = lib.tensor(X2, requires_grad=True)
        with lib.no_grad():
            x[0].mul_(2)
            x[1] = 0.0
        np.testing.assert_allclose(np.asarray(x.detach())[0], 2 * X2[0])


# ---------------------------------------------------------------- graph node names

NODE_NAMES = [
    ("x.view(4, 3)", "ViewBackward0"), ("x.reshape(4, 3)", "ViewBackward0"),
    ("x.t().reshape(12)", "UnsafeViewBackward0"), ("x.t()", "TBackward0"),
    ("x[:1].squeeze(0)", "SqueezeBackward1"), ("x[:1].squeeze((0,))", "SqueezeBackward2"),
    ("x.split([1, 2])[0]", "SplitWithSizesBackward0"), ("x[1]", "SelectBackward0"),
    ("x[1:]", "SliceBackward0"), ("x[1, :]", "SelectBackward0"), ("x[:, ::2]", "SliceBackward0"),
    ("x[None]", "UnsqueezeBackward0"), ("x[...]", "AliasBackward0"),
    ("x[0, [1, 2]]", "IndexBackward0"), ("(x * 1).zero_()", "ZeroBackward0"),
    ("(x * 1).fill_(lib.tensor(2.0))", "FillBackward3"),
    ("x.flatten()", "ViewBackward0"), ("x[None].squeeze()", "SqueezeBackward0"),
    ("x.unsqueeze(1)", "UnsqueezeBackward0"), ("x.transpose(0, 1)", "TransposeBackward0"),
    ("x.mT", "TransposeBackward0"), ("x.T", "PermuteBackward0"),
    ("x.permute(1, 0)", "PermuteBackward0"), ("x.movedim(0, 1)", "PermuteBackward0"),
    ("x[:1].expand(3, 4)", "ExpandBackward0"), ("x.narrow(1, 1, 2)", "SliceBackward0"),
    ("x.select(0, 1)", "SelectBackward0"), ("x.split(2, 1)[0]", "SplitBackward0"),
    ("x.chunk(2, 1)[0]", "SplitBackward0"), ("x.unbind(1)[0]", "UnbindBackward0"),
    ("x.diagonal()", "DiagonalBackward0"), ("x.as_strided((2, 2), (1, 1))", "AsStridedBackward0"),
    ("x.unfold(1, 2, 1)", "UnfoldBackward0"), ("x[lib.tensor([1, 0])]", "IndexBackward0"),
    ("x[x > 0]", "IndexBackward0"), ("x.clone()", "CloneBackward0"),
    ("x.t().contiguous()", "CloneBackward0"), ("x.float()", "ToCopyBackward0"),
    ("x.to(lib.float32)", "ToCopyBackward0"), ("(x * 1).fill_(2.0)", "FillBackward2"),
    ("(x * (1 + 1j)).real", "SelectBackward0"), ("(x * (1 + 1j)).imag", "SelectBackward0"),
]


@pytest.mark.parametrize("expr, expected", NODE_NAMES)
def test_node_names(expr, expected):
    for lib in (ember, torch):
        x = lib.tensor(X2, requires_grad=True)
        out = eval(expr, dict(lib=lib, x=x))
        assert out.grad_fn.name() == expected, (lib.__name__, expr)


@pytest.mark.parametrize("view", [
    lambda t: t[1], lambda t: t.select(0, 0), lambda t: t.diagonal(), lambda t: t.narrow(0, 1, 2),
    lambda t: t.unfold(1, 2, 1), lambda t: t[1:, ::2],
])
def test_slicing_an_expanded_tensor(view):
    # the input's elements share memory: the gradient goes to element indices, not storage
    data = np.array([1.0, 2.0, 3.0])
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(data, requires_grad=True)
        y = view(x.unsqueeze(0).expand(4, 3))
        (y * y).sum().backward()
        grads.append(np.asarray(x.grad) if lib is ember else x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_contiguous_of_a_transpose_is_row_major_while_recording():
    """``contiguous()`` records CloneBackward0 but, unlike ``clone``, never keeps the
    input's layout: attention's ``transpose(1, 2).contiguous().view(...)`` must work
    under autograd, in traced graphs and in saved ones."""
    import io

    def merge_heads(x):
        return x.transpose(1, 2).contiguous().view(x.shape[0], x.shape[2], -1)

    x = ember.randn(2, 3, 4, 5, requires_grad=True)
    y = merge_heads(x)
    assert y.is_contiguous() and y.grad_fn.name() == "ViewBackward0"
    y.square().sum().backward()
    assert ember.allclose(x.grad, 2 * x)
    traced = ember.jit.trace(merge_heads, ember.randn(2, 3, 4, 5))
    buffer = io.BytesIO()
    traced.save(buffer)
    buffer.seek(0)
    probe = ember.randn(3, 3, 4, 5)
    for graph in (traced, ember.jit.load(buffer)):
        assert ember.equal(graph(probe), merge_heads(probe))
