"""Views, reshapes and basic indexing against PyTorch (layout, errors) and NumPy (values).

A view must share storage with its base, have PyTorch's shape, strides (in
elements) and storage offset, and see writes through the base; ember also takes
negative slice steps, which are checked against NumPy.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember

import torch


def _base(lib, dtype="float32"):
    return lib.arange(24, dtype=getattr(lib, dtype)).reshape(2, 3, 4)


def _layout(t):
    return tuple(t.shape), tuple(t.stride()), t.storage_offset(), t.tolist(), t.is_contiguous()


def _shares(t, base):
    if isinstance(t, torch.Tensor):
        return t.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    return t.untyped_storage() is base.untyped_storage()


def _run(lib, expr):
    x = _base(lib)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch deprecates .T on 3-d tensors
            r = eval(expr, {"x": x, "lib": lib})
    except Exception as ex:  # the exception class is part of the comparison
        return type(ex), x, None
    return None, x, r


# expressions valid for both libraries: results are compared for layout, values,
# storage sharing, or the class of the exception raised
VIEW_EXPRS = """x.view(6, 4)|x.view(-1)|x.view(-1, -1)|x.view(5, -1)|x.view(2, -3, 4)
x.transpose(0, 1).view(-1)|x.transpose(0, 1).reshape(-1)|x.transpose(1, 2).view(2, 12)
x.transpose(0, 1).view(3, 2, 4)|x[:, :, ::2].view(2, 6)|x[:, :, ::2].view(6, 2)
x.view(2, 3, 4, 1)|x.view(1, 2, 1, 3, 4, 1)|x.reshape(4, -1)|x.reshape(())|x[0, 0, 0].reshape(())
x[0, 0, 0].view(1, 1)|x[0, 0, 0].view(-1)|x.view(())|x.view([4, 6])|x.view((4, 6))|x.reshape([4, -1])
x.view(4, 6.0)|x.reshape(4, None)|x.view(24)[3:20:4].view(2, 2)|x.view(24)[3:20:4].reshape(2, 2)
x.expand(2, 2, 3, 4).reshape(4, 12)|x[:, :1].expand(2, 3, 4).view(6, 4)
x[:, :1].expand(2, 3, 4).reshape(6, 4)|x[:, :1].expand(2, 3, 4).view(2, 12)
x[:, :1].expand(2, 3, 4).view(2, 3, 2, 2)|x[:, :, :0].view(0)|x[:, :, :0].view(-1, 0)
x[:, :, :0].view(6, -1)|x[:, :, :0].reshape(3, 0, 5)|x[:, :, :0].flatten()|x.flatten()|x.flatten(1)
x.flatten(0, 1)|x.flatten(2, 1)|x.flatten(5)|x[0, 0, 0].flatten()|x.transpose(0, 2).flatten()
x.squeeze()|x.view(2, 1, 3, 1, 4).squeeze()|x.view(2, 1, 3, 1, 4).squeeze(1)
x.view(2, 1, 3, 1, 4).squeeze((1, 3))|x.view(2, 1, 3, 1, 4).squeeze(0)
x.view(2, 1, 3, 1, 4).squeeze(5)|x[:, :, :0].squeeze()|x[0, 0, 0].squeeze()|x[0, 0, 0].squeeze(0)
x.unsqueeze(0)|x.unsqueeze(3)|x.unsqueeze(-1)|x.unsqueeze(-4)|x.unsqueeze(4)|x.unsqueeze(-5)
x.transpose(1, 2).unsqueeze(2)|x[0, 0, 0].unsqueeze(0)|x.transpose(0, 2)|x.transpose(-1, 0)
x.transpose(0, 3)|x[0, 0, 0].transpose(0, -1)|x.permute(2, 0, 1)|x.permute((2, 0, 1))
x.permute(2, 0)|x.permute(2, 0, 0)|x.permute(2, 0, -1)|x.permute(2, 0, 3)|x.T|x.mT|x[0].mT
x[0, 0].mT|x[0, 0].T|x[0].t()|x.t()|x[0, 0].t()|x[0].swapdims(0, 1)|x.swapaxes(0, 2)
x.movedim(0, 2)|x.movedim((0, 1), (2, 0))|x.movedim(0, 3)|x.movedim((0, 0), (1, 2))
x.movedim((0, 1), (1,))|x.movedim(-1, 0)
x[0, :1].expand(3, 4)|x[0, :1].expand(2, 3, 4)|x[0, :1].expand(-1, 4)|x[0, :1].expand(3, -1)
x[0, :1].expand(4, 4)|x[0, :1].expand(4)|x[0, :1].expand(-1, 2, 4)|x[0, :1].expand(2, -1, 4)
x[0, :1].expand(0, 4)|x[0, :1].expand(3, 0)|x[0, 0].broadcast_to((2, 4))|x[0, 0].broadcast_to((3, 2))
x[0, 0, 0].expand(2, 2)|x[0, :1].expand_as(x)|x[0, :1].expand(-2, 4)
x.narrow(1, 1, 2)|x.narrow(-1, 2, 2)|x.narrow(1, -2, 2)|x.narrow(1, 2, 2)|x.narrow(1, 3, 0)
x.narrow(1, -4, 1)|x.narrow(1, 0, -1)|x.narrow(3, 0, 1)|x[0, 0, 0].narrow(0, 0, 1)
x.narrow(1, x[0, 0, 1].long(), 2)|x.narrow(1, x[0, 0, :2].long(), 1)|x.narrow(1, x[0, 0, 1] > 0, 1)
x.narrow(1, x[0, 0, 1].int(), 1)|x.narrow(1, x[0, 0, 1], 1)
x.select(1, 2)|x.select(1, -1)|x.select(1, 3)|x.select(-3, 0)|x.select(3, 0)|x[0, 0, 0].select(0, 0)
x.diagonal()|x.diagonal(1)|x.diagonal(-1)|x.diagonal(0, 1, 2)|x.diagonal(2, 1, 2)
x.diagonal(5, 1, 2)|x.diagonal(-5, 1, 2)|x.diagonal(0, 1, 1)|x.diagonal(0, -1, -2)|x[0].diagonal(3)
x[0].diagonal(-2)|x.diagonal(0, 0, 3)
x.as_strided((2, 2), (1, 2))|x.as_strided((2, 2), (1, 2), 3)|x.as_strided((25,), (1,))
x.as_strided((3,), (0,), 23)|x.as_strided((2, 2), (1, 2), -1)|x.as_strided((2,), (1, 2))
x.as_strided((0, 2), (100, 100), 23)|x[1].as_strided((2,), (1,))|x[1].as_strided((3, 3), (4, 1))
x.unfold(2, 2, 1)|x.unfold(2, 2, 2)|x.unfold(2, 4, 1)|x.unfold(2, 5, 1)|x.unfold(2, 0, 1)
x.unfold(2, 2, 0)|x.unfold(-1, 3, 2)|x[0, 0, 0].unfold(0, 1, 1)|x.unfold(0, 1, 1)|x.unfold(3, 1, 1)
x.transpose(0, 1).contiguous()|x.contiguous()|x[:, ::2].clone()|x.transpose(1, 2).clone()
x[:, 1].detach()|x.view_as(x[0].expand(2, 3, 4))|x.reshape_as(x[0, 0].unsqueeze(0))|x.ravel()
x.transpose(0, 2).ravel()|x[..., None]|x[None, ..., 1]|x[1, ..., None, 1:]|x[0, 0, 0, 0]|x[2]
x[-3]|x[-2]|x[1:100]|x[:, -100:2]|x[:, 5:1]|x[None]|x[()]|x[0][()]|x[0, 0, 0][()]
x[0, 0, 0][None]|x[0, 0, 0][...]|x[0, 0, 0][0]|x[1.5]|x[None, None, 0, None, :, None]
x[..., 0, 1]|x[1, 2, 3]|x[-1, -1, -1]|x[:, None, :, None]|x[:, :, 4]|x[:, -4]|x[5:, 0]
x.view(size=(6, 4))|x.view(size=[-1])|x.view(6, size=(6, 4))|x.reshape(shape=(4, 6))
x.reshape(shape=[-1, 2])|x.reshape(4, shape=(4, 6))|x.permute(dims=(2, 0, 1))
x.permute(dims=[1, 0, 2])
x.permute(2, 0, 1, dims=(2, 0, 1))|x[0, :1].expand(size=(3, 4))|x[0, :1].expand(3, 4, implicit=True)
x[0, :1].expand(size=[2, 3, 4], implicit=False)|x[0, :1].expand(3, size=(3, 4))
x[0, 0].broadcast_to(2, 4)|x[0, 0].broadcast_to(size=(3, 4))|x[0, 0].broadcast_to([2, 4])
x[:1, :, :1].squeeze(0, 2)|x[:1, :, :1].squeeze((0, 2))|x[:1, :, :1].squeeze(dim=(0, 2))
x[:1, :, :1].squeeze(dim=0)|x[:1, :, :1].squeeze(())|x[:1, :, :1].squeeze(0, dim=2)""".replace(
    "\n", "|").split("|")


@pytest.mark.parametrize("expr", VIEW_EXPRS)
def test_views_match_torch(expr):
    t_err, tx, t_res = _run(torch, expr)
    e_err, ex, e_res = _run(ember, expr)
    if t_err is not None:
        assert e_err is not None and issubclass(e_err, t_err), (e_err, t_err)
        return
    assert e_err is None, e_err
    if isinstance(t_res, (tuple, list)):
        assert len(e_res) == len(t_res)
        pairs = list(zip(e_res, t_res))
    else:
        pairs = [(e_res, t_res)]
    for e, t in pairs:
        e_layout, t_layout = _layout(e), _layout(t)
        if t.numel() == 0:  # the offset of an empty view is immaterial
            e_layout, t_layout = e_layout[:2] + e_layout[3:], t_layout[:2] + t_layout[3:]
        assert e_layout == t_layout
        assert _shares(e, ex) == _shares(t, tx)
        assert e.dtype is ember.float32


SPLIT_EXPRS = """x.split(2, 2)|x.split(3, 2)|x.split([1, 3], 2)|x.split([1, 2], 2)|x.split(0, 2)
x.split(5, 2)|x.split(2, -1)|x.split([4, 0], 2)|x.split([5, -1], 2)|x.split(-1, 2)|x.chunk(3, 2)
x.chunk(2, 1)|x.chunk(5, 2)|x.chunk(0, 2)|x.chunk(4, 1)|x.chunk(1, 0)|x.chunk(-1, 0)|x.chunk(2, 3)
x[:, :, :0].chunk(3, 2)|x[:, :, :0].split(2, 2)|x.unbind(1)|x.unbind(-1)|x.unbind(3)
x[:, :, :0].unbind(2)|x.transpose(0, 2).unbind(1)|ember.split(x, 2, 2)""".replace("\n", "|").split("|")


@pytest.mark.parametrize("expr", SPLIT_EXPRS)
def test_split_chunk_unbind_match_torch(expr):
    t_err, tx, t_res = _run(torch, expr.replace("ember.", "lib."))
    e_err, ex, e_res = _run(ember, expr.replace("ember.", "lib."))
    if t_err is not None:
        assert e_err is not None and issubclass(e_err, t_err), (e_err, t_err)
        return
    assert e_err is None, e_err
    assert isinstance(e_res, tuple) and len(e_res) == len(t_res)
    for e, t in zip(e_res, t_res):
        assert _layout(e)[:2] + _layout(e)[3:] == _layout(t)[:2] + _layout(t)[3:]
        assert _shares(e, ex)


# ---------------------------------------------------------------- storage sharing

def test_views_share_storage_and_see_writes():
    x = ember.zeros(3, 4)
    views = [x.view(12), x.T, x[1], x[:, 1:3], x.unsqueeze(0), x.narrow(0, 1, 1), x.select(1, 2),
             x.diagonal(), x.as_strided((2,), (5,)), x.unfold(1, 2, 2), x.permute(1, 0),
             x.expand(2, 3, 4), x.movedim(0, 1), x.reshape(2, 6), x.flatten(), x.detach(), x[..., None]]
    for v in views:
        assert v.untyped_storage() is x.untyped_storage()
    x.view(12)[5] = 7.0
    assert x[1, 1].item() == 7.0
    assert x.T[1, 1].item() == 7.0
    assert x.diagonal()[1].item() == 7.0
    x.T[3, 2] = 9.0
    assert x[2, 3].item() == 9.0
    x.select(1, 0).fill_(-1.0)
    assert x[:, 0].tolist() == [-1.0, -1.0, -1.0]
    x.unfold(1, 2, 2)[0, 1, 1] = 5.0
    assert x[0, 3].item() == 5.0


def test_data_ptr_and_storage_offset_of_views():
    x = ember.arange(24, dtype=ember.int32).reshape(2, 3, 4)
    t = torch.arange(24, dtype=torch.int32).reshape(2, 3, 4)
    for expr in ("x[1]", "x[1, 2]", "x[:, 1:, 2:]", "x.select(2, 3)", "x.narrow(1, 2, 1)",
                 "x.diagonal(1, 1, 2)", "x.as_strided((2,), (3,), 5)"):
        e, tt = eval(expr, {"x": x}), eval(expr, {"x": t})
        assert e.storage_offset() == tt.storage_offset()
        assert e.data_ptr() - x.data_ptr() == e.storage_offset() * 4
    assert x.element_size() == 4


@pytest.mark.parametrize("expr", ["x.reshape(-1)", "x.contiguous()", "x.flatten()"])
def test_copies_of_noncontiguous_tensors_are_fresh_and_contiguous(expr):
    x = ember.arange(12.0).reshape(3, 4).T
    r = eval(expr, {"x": x})
    assert r.is_contiguous()
    assert r.untyped_storage() is not x.untyped_storage()
    assert r.tolist() == np.arange(12.0).reshape(3, 4).T.reshape(r.shape).tolist()


def test_contiguous_returns_self_when_contiguous():
    x = ember.ones(2, 3)
    assert x.contiguous() is x
    assert x.clone().untyped_storage() is not x.untyped_storage()


def test_clone_keeps_dense_layouts():
    x = ember.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
    c = x.clone()
    assert c.stride() == x.stride() and c.tolist() == x.tolist()
    assert torch.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1).clone().stride() == c.stride()
    y = ember.arange(10.0)[::2]
    assert y.clone().stride() == (1,)


@pytest.mark.parametrize("expr", ["x.is_contiguous()", "x.T.is_contiguous()",
                                  "x[:, :1].is_contiguous()", "x[:1].is_contiguous()",
                                  "x[:, ::2].is_contiguous()", "x[:, :0].is_contiguous()",
                                  "x.unsqueeze(1).is_contiguous()", "x[0:1, 0:1].T.is_contiguous()",
                                  "x[:, :1].expand(3, 5).is_contiguous()"])
def test_is_contiguous_matches_torch(expr):
    assert eval(expr, {"x": ember.ones(3, 4)}) == eval(expr, {"x": torch.ones(3, 4)})


def test_is_non_overlapping_and_dense():
    x = ember.ones(3, 4)
    assert x.T.is_non_overlapping_and_dense()
    assert x.permute(1, 0).unsqueeze(1).is_non_overlapping_and_dense()
    assert not x[:, ::2].is_non_overlapping_and_dense()
    assert not x[:, :1].expand(3, 5).is_non_overlapping_and_dense()


# ---------------------------------------------------------------- copy_, setitem, versions

@pytest.mark.parametrize("src", [lambda lib: lib.arange(4.0), lambda lib: lib.ones(3, 1, dtype=lib.int32),
                                 lambda lib: lib.tensor(5.0), lambda lib: lib.arange(12).reshape(4, 3).T,
                                 lambda lib: lib.tensor([1 + 2j, 3j, 0, 1]).real if lib is torch else
                                 lib.tensor([1.0, 0.0, 0.0, 1.0])])
def test_copy_broadcasts_and_casts_like_torch(src):
    e, t = ember.zeros(3, 4), torch.zeros(3, 4)
    assert e.copy_(src(ember)) is e
    t.copy_(src(torch))
    assert e.tolist() == t.tolist()
    for bad in (lambda lib: lib.ones(2, 4), lambda lib: lib.ones(5)):
        with pytest.raises(RuntimeError):
            ember.zeros(3, 4).copy_(bad(ember))


def test_copy_between_overlapping_views_matches_numpy():
    a = np.arange(10.0)
    e = ember.tensor(a)
    e[1:].copy_(e[:-1])
    a[1:] = a[:-1].copy()
    assert e.tolist() == a.tolist()
    e = ember.arange(10.0)
    e.copy_(e.flip(0) if hasattr(e, "flip") else e[::-1])
    assert e.tolist() == list(np.arange(10.0)[::-1])


SETITEM_CASES = [
    ((0,), 5), ((0,), [1, 2, 3, 4]), ((0,), [[1], [2], [3]]), ((Ellipsis, 1), [[9.0]]),
    ((slice(None), slice(1, 2)), np.ones((1, 1, 4))), ((0, 0), 7), ((0, 0, 0), True),
    ((slice(None, None, -1),), "reversed"), ((1,), "row0"), ((slice(None), 2), -1.5),
    ((None, 0), [1, 2, 3, 4]), ((slice(1, None), slice(None, None, 2)), [[10], [20]]),
    ((0, slice(None), slice(None, None, -1)), np.arange(12).reshape(3, 4)),
]


@pytest.mark.parametrize("index, value", SETITEM_CASES)
def test_setitem_matches_numpy(index, value):
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    e = ember.tensor(a)
    version = e._version
    if isinstance(value, str):
        src = a[::-1].copy() if value == "reversed" else a[0].copy()
        e_src = ember.tensor(src)
    else:
        src, e_src = value, (ember.tensor(value) if isinstance(value, np.ndarray) else value)
    a[index] = src
    e[index] = e_src
    assert e.tolist() == a.tolist()
    assert e._version > version


def test_setitem_errors():
    e = ember.zeros(2, 3)
    with pytest.raises(RuntimeError):
        e[0] = ember.ones(4)
    with pytest.raises(RuntimeError):
        e[0] = ember.ones(2, 3)
    with pytest.raises(IndexError):
        e[2] = 1.0
    with pytest.raises(IndexError):
        e[0, 0, 0] = 1.0
    with pytest.raises(TypeError):
        e[0] = "a"
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        ember.zeros(1, 3).expand(2, 3)[:] = 1.0
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.zeros(3, dtype=ember.uint8)[0] = 300
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.zeros(3)[0] = 1j


def test_version_counter_bumps_on_inplace_ops_only():
    x = ember.ones(2, 3)
    v = x._version
    x + 1
    x.view(-1)
    x.clone()
    x.T.contiguous()
    assert x._version == v
    steps = [lambda: x.add_(1), lambda: x.__setitem__(0, 2.0), lambda: x.zero_(),
             lambda: x.view(-1).__setitem__(0, 3.0), lambda: x.copy_(x.clone()),
             lambda: x.fill_(1.0), lambda: x.mul_(2), lambda: x.__iadd__(1),
             lambda: ember.add(x, 1, out=x), lambda: x.T.sub_(1)]
    for step in steps:
        before = x._version
        step()
        assert x._version > before
    y = x.view(6)
    assert y._version == x._version
    y.add_(1)
    assert y._version == x._version


# ---------------------------------------------------------------- negative steps (ember extension)

def _strides_of_real_dims(t, a):
    """Element strides of `t` equal NumPy's where they matter: on dims of size > 1."""
    return all(s == sa // a.itemsize for s, sa, n in zip(t.stride(), a.strides, a.shape) if n > 1)


@pytest.mark.parametrize("index", [np.s_[::-1], np.s_[:, ::-1], np.s_[::-1, ::-2, 1::3],
                                   np.s_[:, 5:1:-1], np.s_[1, ::-3], np.s_[..., ::-2],
                                   np.s_[:, -1:-5:-1, None], np.s_[0, None, ::-1]])
def test_negative_slice_steps_match_numpy(index):
    a = np.arange(24).reshape(2, 3, 4)
    e = ember.tensor(a)
    r = e[index]
    assert r.tolist() == a[index].tolist()
    assert _strides_of_real_dims(r, a[index])
    assert r.untyped_storage() is e.untyped_storage()
    np.testing.assert_array_equal(np.asarray(r), a[index])
    assert (r + 0).tolist() == a[index].tolist()
    assert r.contiguous().tolist() == a[index].tolist()


def test_as_strided_negative_strides_are_bounds_checked():
    x = ember.arange(6.0)
    assert x.as_strided((3,), (-1,), 2).tolist() == [2.0, 1.0, 0.0]
    with pytest.raises(RuntimeError):
        x.as_strided((4,), (-1,), 2)
    with pytest.raises(RuntimeError):
        x.as_strided((2, 2), (1, 5))
    with pytest.raises(RuntimeError):
        x[2:].as_strided((3,), (1,), 4)


def test_view_dtype_reinterprets_bytes_like_torch():
    t = torch.arange(8, dtype=torch.int32)
    e = ember.arange(8, dtype=ember.int32)
    for dt in ("float32", "int16", "int64", "uint8", "complex64"):
        assert e.view(getattr(ember, dt)).tolist() == t.view(getattr(torch, dt)).tolist()
        assert e.view(getattr(ember, dt)).shape == tuple(t.view(getattr(torch, dt)).shape)
    with pytest.raises(RuntimeError):
        e[::2].view(ember.int64)
    with pytest.raises(RuntimeError):
        e[:3].view(ember.int64)
    # by keyword, as PyTorch's binding names it (not with a shape as well)
    assert e.view(dtype=ember.int16).tolist() == t.view(dtype=torch.int16).tolist()
    for lib, x in ((ember, e), (torch, t)):
        with pytest.raises(TypeError):
            x.view(8, dtype=lib.int32)


# ---------------------------------------------------------------- property tests

def _shape_strategy(max_dims=4):
    return st.lists(st.integers(0, 5), min_size=0, max_size=max_dims).map(tuple)


@st.composite
def _basic_index(draw, shape):
    items = []
    used = 0
    ellipsis = False
    for _ in range(draw(st.integers(0, len(shape) + 2))):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis"]))
        if kind == "none":
            items.append(None)
        elif kind == "ellipsis":
            if not ellipsis:
                ellipsis = True
                items.append(Ellipsis)
        elif used < len(shape):
            size = shape[used]
            if kind == "int" and size > 0:
                items.append(draw(st.integers(-size, size - 1)))
            else:
                bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
                step = draw(st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0)))
                items.append(slice(draw(bound), draw(bound), step))
            used += 1
    return tuple(items)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), shape=_shape_strategy())
def test_random_basic_indexing_matches_numpy(data, shape):
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    e = ember.tensor(a)
    index = data.draw(_basic_index(shape))
    try:
        want = a[index]
    except IndexError:  # an int after an Ellipsis may land on a shorter dim
        with pytest.raises(IndexError):
            e[index]
        return
    got = e[index]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(np.asarray(got), want)
    if want.size > 1:
        assert _strides_of_real_dims(got, want)
    assert got.untyped_storage() is e.untyped_storage()
    # writing through the view writes the same elements NumPy's view does
    got[...] = -1
    a[index] = -1
    np.testing.assert_array_equal(np.asarray(e), a)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=_shape_strategy())
def test_random_reshape_and_view_match_torch(data, shape):
    n = int(np.prod(shape))
    t = torch.arange(n).reshape(shape)
    e = ember.arange(n).reshape(shape)
    if len(shape) >= 2:
        perm = data.draw(st.permutations(range(len(shape))))
        t, e = t.permute(*perm), e.permute(*perm)
    new = data.draw(st.lists(st.integers(0, 6), min_size=0, max_size=4).map(tuple))
    if n > 0 and data.draw(st.booleans()) and new:
        new = new[:-1] + (-1,)
    for method in ("view", "reshape"):
        try:
            want = getattr(t, method)(new)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                getattr(e, method)(new)
            continue
        got = getattr(e, method)(new)
        assert tuple(got.shape) == tuple(want.shape)
        assert got.tolist() == want.tolist()
        assert _shares(got, e) == _shares(want, t)
        if want.numel() > 1 and _shares(want, t):
            kept = [i for i, s in enumerate(want.shape) if s != 1]
            assert [got.stride()[i] for i in kept] == [want.stride()[i] for i in kept]


@settings(max_examples=100, deadline=None)
@given(data=st.data(), shape=_shape_strategy())
def test_random_transpose_expand_squeeze_match_torch(data, shape):
    n = int(np.prod(shape))
    t = torch.arange(n).reshape(shape)
    e = ember.arange(n).reshape(shape)
    nd = max(len(shape), 1)
    d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    for fn in (lambda x: x.transpose(d0, d1), lambda x: x.unsqueeze(d0), lambda x: x.squeeze(d1),
               lambda x: x.movedim(d0, d1), lambda x: x.flatten(min(d0 % nd, d1 % nd)),
               lambda x: x.expand(3, *x.shape) if len(shape) < 4 else x):
        want, got = fn(t), fn(e)
        assert _layout(got)[:2] + _layout(got)[3:] == _layout(want)[:2] + _layout(want)[3:]


def test_dimension_limit_is_enforced_everywhere():
    b = ember.ones((1,) * 64)
    assert (b + b.transpose(0, 63)).dim() == 64
    assert b.permute(*range(63, -1, -1)).contiguous().dim() == 64
    too_many = [lambda: ember.ones((1,) * 65), lambda: b[None], lambda: b[..., None],
                lambda: b.unsqueeze(0), lambda: b.unsqueeze(-1), lambda: b.unfold(0, 1, 1),
                lambda: b.view((1,) * 65), lambda: b.reshape((1,) * 65),
                lambda: b.expand((1,) * 65), lambda: b.as_strided((1,) * 65, (1,) * 65),
                lambda: ember.empty_strided((1,) * 65, (1,) * 65),
                lambda: ember.broadcast_shapes((1,) * 200, (2,)),
                lambda: ember.ones(2, 3).expand((1,) * 63 + (2, 3))]
    for call in too_many:
        with pytest.raises((RuntimeError, IndexError), match="at most 64 dimensions"):
            call()


def test_tensors_beyond_the_inline_dims_match_numpy():
    a = np.arange(2**9, dtype=np.float64).reshape((2,) * 9)
    e = ember.tensor(a)
    perm = [8, 0, 7, 1, 6, 2, 5, 3, 4]
    np.testing.assert_array_equal((e.permute(*perm) * 2 + 1).numpy(), a.transpose(perm) * 2 + 1)
    np.testing.assert_array_equal(e[1, ..., ::-1, 0].numpy(), a[1, ..., ::-1, 0])
    np.testing.assert_array_equal(e.permute(*perm).reshape(16, 32).numpy(),
                                  a.transpose(perm).reshape(16, 32))
    assert e.unsqueeze(5).shape == (2,) * 5 + (1,) + (2,) * 4
    assert ember.broadcast_shapes((2, 1, 1, 1, 1, 1, 1, 3), (4, 1, 1, 1, 1, 1, 1)) == \
        (2, 4, 1, 1, 1, 1, 1, 3)


@pytest.mark.parametrize("index", ["np.int64(1)", "(np.int32(1), np.int8(-1))", "np.uint8(2)",
                                   "slice(np.intp(1), np.int64(3))", "lib.tensor(1)",
                                   "(lib.tensor(-1), Ellipsis, lib.tensor(2, dtype=lib.int32))",
                                   "np.int64(5)"])
def test_numpy_integers_and_0d_integer_tensors_index_like_ints(index):
    results = []
    for lib in (torch, ember):
        x = _base(lib)
        try:
            r = x[eval(index, {"np": np, "lib": lib})]
        except IndexError:
            results.append(IndexError)
            continue
        results.append((_layout(r), _shares(r, x)))
    assert results[0] == results[1]


def test_ravel_is_contiguous_like_torch():
    # reshape(-1) keeps a strided 1-D tensor as it is; ravel must still give a contiguous one
    for make in (lambda L: L.arange(8)[::2], lambda L: L.arange(8).flip(0)[1::3],
                 lambda L: L.arange(12).reshape(3, 4).T, lambda L: L.arange(6).reshape(2, 3)):
        for f in (lambda x, L: L.ravel(x), lambda x, L: x.ravel()):
            e, t = f(make(ember), ember), f(make(torch), torch)
            assert e.is_contiguous() and t.is_contiguous()
            assert e.tolist() == t.tolist()
    x = ember.arange(6).reshape(2, 3)
    assert x.ravel().data_ptr() == x.data_ptr()    # no copy when already contiguous


def test_squeeze_refuses_a_repeated_dim():
    for dims in ((0, 0), (0, -3), [2, -1]):
        with pytest.raises(RuntimeError, match="appears multiple times"):
            ember.zeros(1, 3, 1).squeeze(dims)
        with pytest.raises(RuntimeError, match="appears multiple times"):
            torch.zeros(1, 3, 1).squeeze(dims)


def test_permute_function_takes_a_list():
    x = np.arange(24.0).reshape(2, 3, 4)
    for dims in ([2, 0, 1], (1, 2, 0)):
        got = ember.permute(ember.tensor(x), dims)
        assert tuple(got.shape) == tuple(torch.permute(torch.tensor(x), dims).shape)
        np.testing.assert_array_equal(np.asarray(got), np.transpose(x, dims))
