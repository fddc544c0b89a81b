"""``out=`` tensors of another shape, against torch: operations resize them with torch's
warning when they had elements (resize_ semantics: storage kept, grown when needed), the
factories and samplers resize them silently, and the ranges keep their shape when the
element counts agree.  The factories take their dtype and device from ``out``."""
import warnings

import numpy as np
import pytest
import torch

import ember

OPS = {
    "add": lambda L, o: L.add(L.ones(2, 3), L.ones(2, 3), out=o),
    "exp": lambda L, o: L.exp(L.ones(2, 3), out=o),
    "where": lambda L, o: L.where(L.ones(2, 3) > 0, L.ones(2, 3), L.zeros(2, 3), out=o),
    "maximum": lambda L, o: L.max(L.ones(2, 3), L.zeros(2, 3), out=o),
    "matmul": lambda L, o: L.matmul(L.ones(2, 3), L.ones(3, 4), out=o),
    "bmm": lambda L, o: L.bmm(L.ones(2, 2, 3), L.ones(2, 3, 4), out=o),
    "addmm": lambda L, o: L.addmm(L.ones(2, 4), L.ones(2, 3), L.ones(3, 4), out=o),
    "dot": lambda L, o: L.dot(L.ones(3), L.ones(3), out=o),
    "sum": lambda L, o: L.sum(L.ones(2, 3), 1, out=o),
    "cat": lambda L, o: L.cat([L.ones(2, 3), L.ones(2, 3)], out=o),
    "index_select": lambda L, o: L.index_select(L.ones(2, 3), 0, L.tensor([0, 1, 1]), out=o),
    "special": lambda L, o: L.special.ndtr(L.ones(2, 3), out=o),
    "linalg": lambda L, o: L.linalg.inv(L.eye(2) * 2, out=o),
    "cross": lambda L, o: L.cross(L.ones(2, 3), L.ones(2, 3), out=o),
    "normalize": lambda L, o: L.nn.functional.normalize(L.ones(2, 3), out=o),
}
FACTORIES = {
    "empty": lambda L, o: L.empty(2, 3, out=o),
    "zeros": lambda L, o: L.zeros(2, 3, out=o),
    "ones": lambda L, o: L.ones(2, 3, out=o),
    "full": lambda L, o: L.full((2, 3), 5.0, out=o),
    "eye": lambda L, o: L.eye(3, out=o),
    "linspace": lambda L, o: L.linspace(0, 1, 5, out=o),
    "logspace": lambda L, o: L.logspace(0, 1, 5, out=o),
    "rand": lambda L, o: L.rand(2, 3, out=o),
    "randn": lambda L, o: L.randn(2, 3, out=o),
}


def run(lib, fn, out):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(lib, out)
    # torch's messages end with where in its C++ they were raised
    return result, [str(w.message).split(" (Triggered internally")[0] for w in caught
                    if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("size", [0, 3, 7, 20])
def test_operations_resize_with_torchs_warning(name, size):
    t_out, e_out = torch.zeros(size), ember.zeros(size)
    t_res, t_warn = run(torch, OPS[name], t_out)
    e_res, e_warn = run(ember, OPS[name], e_out)
    assert e_res is e_out and t_res is t_out
    assert tuple(e_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), rtol=1e-6)
    assert e_warn == t_warn


def test_resizing_keeps_or_grows_the_storage():
    out = ember.zeros(20)
    ptr = out.data_ptr()
    with pytest.warns(UserWarning, match="resized"):
        ember.add(ember.ones(2, 3), 1, out=out)       # smaller: the same memory
    assert out.data_ptr() == ptr and out.is_contiguous() and out.tolist() == [[2.0] * 3] * 2
    view = out.view(-1)
    with pytest.warns(UserWarning, match="resized"):
        ember.add(ember.ones(5, 5), 1, out=out)       # bigger: grown, views still share it
    assert out.shape == (5, 5) and out.untyped_storage().nbytes() >= 100
    assert view.untyped_storage().data_ptr() == out.untyped_storage().data_ptr()


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("size", [0, 5, 7])
def test_factories_resize_silently(name, size):
    t_out, e_out = torch.zeros(size), ember.zeros(size)
    t_res, t_warn = run(torch, FACTORIES[name], t_out)
    e_res, e_warn = run(ember, FACTORIES[name], e_out)
    assert e_res is e_out and t_res is t_out
    assert tuple(e_out.shape) == tuple(t_out.shape) and e_warn == t_warn == []
    if name not in ("empty", "rand", "randn"):
        np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), rtol=1e-6)


def test_complex_and_normal_resize_with_torchs_warning():
    for call in (lambda L, o: L.complex(L.ones(2), L.ones(2), out=o.to(L.complex64)),
                 lambda L, o: L.normal(L.zeros(2, 3), L.ones(2, 3), out=o)):
        t_res, t_warn = run(torch, call, torch.zeros(7))
        e_res, e_warn = run(ember, call, ember.zeros(7))
        assert tuple(e_res.shape) == tuple(t_res.shape) and e_warn == t_warn and e_warn


def test_empty_out_keeps_the_values():
    out = ember.arange(7.0)
    assert ember.empty(2, 3, out=out) is out
    assert out.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


@pytest.mark.parametrize("fn", [
    lambda L, o: L.arange(5, out=o),
    lambda L, o: L.arange(0, 1, 0.25, out=o),
    lambda L, o: L.range(0, 4, out=o),
])
@pytest.mark.parametrize("size", [0, 7])
def test_ranges_warn_and_resize_on_another_count(fn, size):
    t_out, e_out = torch.zeros(size), ember.zeros(size)
    _, t_warn = run(torch, fn, t_out)
    _, e_warn = run(ember, fn, e_out)
    assert e_out.tolist() == t_out.tolist() and e_warn == t_warn


@pytest.mark.parametrize("fn", [
    lambda L, o: L.arange(6, out=o),
    lambda L, o: L.linspace(0, 1, 6, out=o),
    lambda L, o: L.logspace(0, 1, 6, out=o),
])
def test_ranges_keep_the_shape_when_the_count_agrees(fn):
    t_out, e_out = torch.zeros(3, 2).T, ember.zeros(3, 2).T
    fn(torch, t_out)
    fn(ember, e_out)
    assert e_out.shape == (2, 3) and e_out.stride() == t_out.stride() == (1, 2)
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda L, o: L.arange(5, out=o),
    lambda L, o: L.linspace(0, 10, 5, out=o),
    lambda L, o: L.zeros(2, out=o),
    lambda L, o: L.full((2,), 3, out=o),
    lambda L, o: L.eye(2, out=o),
])
@pytest.mark.parametrize("dtype", ["int32", "float64"])
def test_factories_take_outs_dtype(fn, dtype):
    t_out, e_out = torch.zeros(0, dtype=getattr(torch, dtype)), ember.zeros(0, dtype=getattr(ember, dtype))
    fn(torch, t_out)
    fn(ember, e_out)
    assert e_out.dtype == getattr(ember, dtype)
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())


@pytest.mark.parametrize("fn", [
    lambda L, o: L.zeros(2, 3, dtype=L.int64, out=o),
    lambda L, o: L.arange(5, dtype=L.int64, out=o),
    lambda L, o: L.full((2,), 1.5, dtype=L.float64, out=o),
    lambda L, o: L.eye(2, dtype=L.int64, out=o),
    lambda L, o: L.linspace(0, 1, 3, dtype=L.float64, out=o),
    lambda L, o: L.empty(2, device="meta", out=o),
    lambda L, o: L.ones(2, device="meta", out=o),
])
def test_factory_errors_match_torch(fn):
    with pytest.raises(RuntimeError) as expected:
        fn(torch, torch.zeros(7))
    with pytest.raises(RuntimeError) as got:
        fn(ember, ember.zeros(7))
    assert str(got.value) == str(expected.value)


def test_factory_requires_grad_marks_out():
    out = ember.zeros(3)
    assert ember.ones(2, out=out, requires_grad=True) is out
    assert out.requires_grad and out.tolist() == [1.0, 1.0]
    assert out.requires_grad == torch.ones(2, out=torch.zeros(3), requires_grad=True).requires_grad


def test_factories_into_meta_outs():
    out = ember.empty(0, device="meta")
    assert ember.zeros(2, 3, out=out) is out and out.shape == (2, 3) and out.is_meta
    with pytest.warns(UserWarning, match="will be resized"):
        assert ember.arange(4, out=out).shape == (4,)


@pytest.mark.parametrize("name", ["masked_select", "take"])
@pytest.mark.parametrize("size", [0, 3, 7])
def test_masked_select_and_take_write_out(name, size):
    calls = {"masked_select": lambda L, x, o: L.masked_select(x, x > 2, out=o),
             "take": lambda L, x, o: L.take(x, L.tensor([0, 5, -1]), out=o)}
    t_out, e_out = torch.zeros(size), ember.zeros(size)
    t_res, t_warn = run(torch, lambda L, o: calls[name](L, L.arange(6.0).reshape(2, 3), o), t_out)
    e_res, e_warn = run(ember, lambda L, o: calls[name](L, L.arange(6.0).reshape(2, 3), o), e_out)
    assert e_res is e_out and e_out.tolist() == t_out.tolist() and e_warn == t_warn
    for lib in (torch, ember):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            calls[name](lib, x, lib.zeros(0))


def test_masked_select_and_take_errors_match_torch():
    for name, call in (("masked_select", lambda L, x, o: L.masked_select(x, x > 2, out=o)),
                       ("take", lambda L, x, o: L.take(x, L.tensor([0]), out=o))):
        messages = []
        for lib in (torch, ember):
            with pytest.raises(RuntimeError) as err:
                call(lib, lib.arange(6.0), lib.zeros(3, dtype=lib.float64))
            messages.append(str(err.value))
        assert messages[0] == messages[1], name


def test_multinomial_out():
    out = ember.zeros(7, dtype=ember.int64)
    g = ember.Generator().manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # resized silently, as torch
        assert ember.multinomial(ember.tensor([0.0, 1.0, 0.0]), 2, True, generator=g, out=out) is out
    assert out.tolist() == [1, 1]
    with pytest.raises(RuntimeError, match="multinomial expects Long tensor out, got: Float"):
        ember.multinomial(ember.ones(3), 2, out=ember.zeros(2))
    with pytest.raises(RuntimeError, match="multinomial expects Long tensor out, got: Float"):
        torch.multinomial(torch.ones(3), 2, out=torch.zeros(2))


def test_frexp_out():
    outs = []
    for lib in (torch, ember):
        mantissa, exponent = lib.zeros(5), lib.zeros(5, dtype=lib.int32)
        _, caught = run(lib, lambda L, o: L.frexp(L.tensor([1.5, 8.0]), out=o), (mantissa, exponent))
        outs.append((mantissa.tolist(), exponent.tolist(), caught))
        for bad in ((lib.zeros(0, dtype=lib.float64), lib.zeros(0, dtype=lib.int32)),
                    (lib.zeros(0), lib.zeros(0, dtype=lib.int64))):
            with pytest.raises(RuntimeError) as err:
                lib.frexp(lib.tensor([1.5]), out=bad)
            outs.append(str(err.value))
    assert outs[:3] == outs[3:]
    result = ember.frexp(ember.tensor([3.0]), out=(ember.empty(0), ember.empty(0, dtype=ember.int32)))
    assert result.mantissa.tolist() == [0.75] and result.exponent.tolist() == [2]
