"""Tensor.new, the legacy per-dtype types (ember.FloatTensor...), sum_to_size, adjoint, apply_/map_/map2_, the layout queries dense_dim,
is_set_to and const_data_ptr, nonzero_static, as_strided_scatter and ember.frombuffer
against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember
from core_oracle import check_out_like_torch


def outcome(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn()
        except (RuntimeError, TypeError, ValueError) as exc:
            return type(exc).__name__
    if isinstance(out, (torch.Tensor, ember.Tensor)):
        return ("tensor", str(out.dtype).split(".")[-1], tuple(out.shape),
                np.asarray(out.detach()).tolist())
    return out


CALLS = {
    "new-empty": lambda lib, x: x.new().shape,
    "new-size": lambda lib, x: x.new(2, 3).shape,
    "new-Size": lambda lib, x: x.new(lib.Size([2, 2])).shape,
    "new-tuple-data": lambda lib, x: x.new((2, 3)),
    "new-list-data": lambda lib, x: x.new([1, 2]),
    "new-tensor": lambda lib, x: x.new(lib.tensor([1.0, 2.0], dtype=lib.float64)),
    "new-other-dtype": lambda lib, x: x.new(lib.tensor([1, 2])),
    "new-scalar": lambda lib, x: x.new(2.5),
    "LongTensor-data": lambda lib, x: lib.LongTensor([[0, 1], [2, 3]]),
    "LongTensor-float-data": lambda lib, x: lib.LongTensor([1.7, -2.2]),
    "FloatTensor-int-data": lambda lib, x: lib.FloatTensor([1, 2]),
    "FloatTensor-tuple-data": lambda lib, x: lib.FloatTensor((2,)),
    "FloatTensor-array": lambda lib, x: lib.FloatTensor(np.array([1, 2])),
    "FloatTensor-sizes": lambda lib, x: (lib.FloatTensor(2, 3).shape, str(lib.IntTensor(2).dtype)[-5:]),
    "FloatTensor-Size": lambda lib, x: lib.FloatTensor(lib.Size([2, 1])).shape,
    "FloatTensor-empty": lambda lib, x: lib.FloatTensor(),
    "FloatTensor-device": lambda lib, x: lib.FloatTensor([1], device="cpu"),
    "FloatTensor-bad-size": lambda lib, x: lib.FloatTensor(2, [3]),
    "FloatTensor-str": lambda lib, x: lib.FloatTensor("a"),
    "LongTensor-other-dtype-tensor": lambda lib, x: lib.LongTensor(x),
    "DoubleTensor-same-dtype-tensor": lambda lib, x: lib.DoubleTensor(x),
    "typed-dtypes": lambda lib, x: [str(t([1]).dtype).split(".")[-1] for t in (
        lib.BoolTensor, lib.ByteTensor, lib.CharTensor, lib.ShortTensor, lib.IntTensor,
        lib.LongTensor, lib.HalfTensor, lib.BFloat16Tensor, lib.FloatTensor, lib.DoubleTensor)],
    "typed-isinstance": lambda lib, x: (isinstance(x, lib.DoubleTensor),
                                        isinstance(x, lib.FloatTensor),
                                        isinstance(x.long(), lib.LongTensor),
                                        isinstance(1.0, lib.FloatTensor),
                                        issubclass(lib.FloatTensor, lib.Tensor),
                                        lib.FloatTensor.is_cuda, str(lib.LongTensor.dtype)[-5:]),
    "type-legacy-class": lambda lib, x: x.type(lib.LongTensor),
    "type-legacy-name": lambda lib, x: x.type(lib.__name__ + ".IntTensor"),
    "type-same-is-self": lambda lib, x: (x.type(lib.DoubleTensor) is x,
                                         x.type(lib.__name__ + ".DoubleTensor") is x),
    "type-dtype": lambda lib, x: x.type(lib.float32),
    "type-bad-name": lambda lib, x: x.type("float64"),
    "type-unknown-name": lambda lib, x: x.type(lib.__name__ + ".Foo"),
    "sum_to_size-lead": lambda lib, x: x.sum_to_size(3),
    "sum_to_size-ones": lambda lib, x: x.sum_to_size(1, 3),
    "sum_to_size-tuple": lambda lib, x: x.sum_to_size((2, 1)),
    "sum_to_size-same": lambda lib, x: x.sum_to_size(2, 3),
    "sum_to_size-bad": lambda lib, x: x.sum_to_size(4),
    "sum_to_size-longer": lambda lib, x: x.sum_to_size(2, 2, 3),
    "sum_to_size-empty-0d-bool": lambda lib, x: lib.tensor(True).sum_to_size(()),
    "sum_to_size-empty-0d-int8": lambda lib, x: lib.tensor(3, dtype=lib.int8).sum_to_size(()),
    "sum_to_size-empty": lambda lib, x: x.sum_to_size(()),
    "sum_to_size-keyword": lambda lib, x: x.sum_to_size(size=(1, 3)),
    "sum_to_size-keyword-and-positional": lambda lib, x: x.sum_to_size(1, size=(1, 3)),
    "adjoint": lambda lib, x: x.adjoint(),
    "adjoint-complex": lambda lib, x: lib.tensor([[1 + 1j, 2], [3j, 4]]).adjoint()
                                      .resolve_conj(),
    "adjoint-batch": lambda lib, x: lib.arange(12.0).reshape(2, 2, 3).adjoint(),
    "adjoint-1d": lambda lib, x: lib.ones(3).adjoint(),
    "apply_": lambda lib, x: x.clone().apply_(lambda v: v * 2 + 1),
    "apply_-0d": lambda lib, x: lib.tensor(3.0).apply_(lambda v: -v),
    "apply_-grad": lambda lib, x: lib.ones(2, requires_grad=True).apply_(lambda v: v),
    "map_": lambda lib, x: x.clone().map_(lib.arange(3.0, dtype=lib.float64),
                                          lambda a, b: a * 10 + b),
    "map_-0d-other": lambda lib, x: x.clone().map_(lib.tensor(5.0, dtype=lib.float64),
                                                   lambda a, b: a * b),
    "map2_": lambda lib, x: x.clone().map2_(lib.arange(3.0, dtype=lib.float64),
                                            lib.tensor(0.5, dtype=lib.float64),
                                            lambda a, b, c: a * 10 + b + c),
    "map2_-bad-shape": lambda lib, x: x.clone().map2_(lib.ones(2, dtype=lib.float64), x,
                                                      lambda a, b, c: a),
    "adjoint-function": lambda lib, x: lib.adjoint(x),
    "dense_dim": lambda lib, x: (x.dense_dim(), lib.tensor(1.0).dense_dim()),
    "is_set_to": lambda lib, x: (x.is_set_to(x), x.is_set_to(x.view(3, 2)),
                                 x.is_set_to(x[:]), x.is_set_to(x.clone()),
                                 x.t().is_set_to(x.t()), x[1:].is_set_to(x[1:])),
    "const_data_ptr": lambda lib, x: x[1].const_data_ptr() == x[1].data_ptr(),
    "nonzero_static-pad": lambda lib, x: lib.nonzero_static(x, size=8),
    "nonzero_static-cut": lambda lib, x: x.nonzero_static(size=2, fill_value=7),
    "nonzero_static-0": lambda lib, x: lib.nonzero_static(x, size=0),
    "nonzero_static-0d": lambda lib, x: lib.nonzero_static(lib.tensor(5), size=2),
    "nonzero_static-negative": lambda lib, x: lib.nonzero_static(x, size=-1),
    "as_strided_scatter": lambda lib, x: lib.as_strided_scatter(x, lib.ones(2, dtype=x.dtype),
                                                                (2,), (4,)),
    "as_strided_scatter-offset": lambda lib, x: x.as_strided_scatter(
        -lib.ones(2, 2, dtype=x.dtype), (2, 2), (1, 3), 1),
    "as_strided_scatter-view": lambda lib, x: lib.as_strided_scatter(
        x[:, 1], lib.ones(2, dtype=x.dtype), (2,), (1,), 1),
    "as_strided_scatter-transposed": lambda lib, x: x.t().as_strided_scatter(
        lib.ones(2, dtype=x.dtype), (2,), (1,), 1),
    "as_strided_scatter-bad-size": lambda lib, x: lib.as_strided_scatter(
        x, lib.ones(3, dtype=x.dtype), (2,), (4,)),
    "frombuffer": lambda lib, x: lib.frombuffer(bytearray(b"\x00\x00\x80?\x00\x00\x00@"),
                                                dtype=lib.float32),
    "frombuffer-count-offset": lambda lib, x: lib.frombuffer(bytearray(12), dtype=lib.int16,
                                                             count=3, offset=2),
    "frombuffer-ragged": lambda lib, x: lib.frombuffer(bytearray(7), dtype=lib.float32),
    "frombuffer-empty": lambda lib, x: lib.frombuffer(bytearray(0), dtype=lib.float32),
    "frombuffer-too-many": lambda lib, x: lib.frombuffer(bytearray(8), dtype=lib.float32,
                                                         count=3),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_matches_torch(name):
    def run(lib):
        x = lib.arange(6.0, dtype=lib.float64).reshape(2, 3)
        return outcome(lambda: CALLS[name](lib, x))
    assert run(ember) == run(torch)


@pytest.mark.parametrize("size, fill_value", [(9, -1), (2, 5), (0, -1)])
def test_nonzero_static_out(size, fill_value):
    # an int64 out only; the indices take no grad, so PyTorch lets a grad input through
    a = np.random.default_rng(17).integers(-2, 2, (3, 4))
    check_out_like_torch(lambda L, x, **kw: L.nonzero_static(x, size=size,
                                                             fill_value=fill_value, **kw),
                         a, differentiable=False)
    check_out_like_torch(lambda L, x, **kw: L.nonzero_static(x, size=size, **kw),
                         a.astype(np.float64), differentiable=False)


def test_legacy_type_of_a_tensor_of_that_type_is_a_view():
    x = ember.arange(3)
    y = ember.LongTensor(x)
    y[0] = 7
    assert x[0].item() == 7 and y is not x
    assert repr(ember.LongTensor) == "<class 'ember.LongTensor'>"
    with pytest.raises(RuntimeError, match="device type: cpu"):
        ember.FloatTensor([1.0], device="cuda")


def test_sum_to_size_is_differentiable():
    x = ember.randn(4, 2, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.sum_to_size(2, 1), (x,))


def test_frombuffer_shares_the_memory():
    buffer = bytearray(8)
    t = ember.frombuffer(buffer, dtype=ember.float32)
    t[1] = 2.0
    assert bytes(buffer[4:]) == np.float32(2.0).tobytes()
    with pytest.warns(UserWarning, match="not writable"):
        ro = ember.frombuffer(b"\x00\x00\x80?", dtype=ember.float32)
    with pytest.raises(RuntimeError, match="read-only"):
        ro[0] = 1.0


def test_as_strided_scatter_gradients():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    src = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    for fn in (lambda x, s: ember.as_strided_scatter(x, s, (2, 2), (5, 1)),
               lambda x, s: ember.as_strided_scatter(x.t(), s, (2, 2), (1, 3), 2),
               lambda x, s: ember.as_strided_scatter(x[:, 1:], s, (2, 2), (4, 1))):
        assert ember.autograd.gradcheck(fn, (x, src))
        assert ember.autograd.gradgradcheck(fn, (x, src))
    # src's gradient is torch's (its input gradient is not: it misses the zeroed elements)
    g = np.random.default_rng(0).standard_normal((3, 4))
    ts = torch.ones(2, 2, dtype=torch.float64, requires_grad=True)
    torch.as_strided_scatter(torch.zeros(3, 4, dtype=torch.float64), ts, (2, 2),
                             (5, 1)).backward(torch.tensor(g))
    es = ember.ones(2, 2, dtype=ember.float64, requires_grad=True)
    ember.as_strided_scatter(ember.zeros(3, 4, dtype=ember.float64), es, (2, 2),
                             (5, 1)).backward(ember.tensor(g))
    np.testing.assert_array_equal(np.asarray(es.grad), ts.grad.numpy())


def test_tensor_constructor_takes_a_size_as_a_shape():
    # ember.Tensor(x.shape) is an uninitialised tensor of that shape (a list is data)
    for lib in (ember, torch):
        assert tuple(lib.Tensor(lib.Size([2, 3])).shape) == (2, 3)
        assert lib.Tensor([2, 3]).tolist() == [2.0, 3.0]
        assert tuple(lib.Tensor(2, 3).shape) == (2, 3)


def _alias_facts(lib, t):
    """What ``lib.Tensor(t)`` is: its type, dtype, layout, values, whether it shares
    ``t``'s memory and version counter, its view base and its autograd state."""
    a = lib.Tensor(t)
    facts = [type(a).__name__, str(a.dtype).split(".")[-1], tuple(a.shape), a.stride(),
             a.storage_offset(), a.data_ptr() == t.data_ptr(), a is t, a.requires_grad,
             a.is_leaf, None if a.grad_fn is None else a.grad_fn.name(),
             a._base is (t if t._base is None else t._base), a._version == t._version]
    with lib.no_grad():
        a.add_(1) if a.dtype != lib.bool else a.logical_not_()
    facts += [t._version, a._version, a.tolist() == t.tolist()]
    return facts


@pytest.mark.parametrize("make", [
    lambda lib: lib.arange(6, dtype=lib.float32).reshape(2, 3),
    lambda lib: lib.arange(6, dtype=lib.float64).reshape(2, 3).t(),
    lambda lib: lib.arange(6, dtype=lib.int64)[1:4],
    lambda lib: lib.tensor([True, False]),
    lambda lib: lib.arange(4, dtype=lib.float16),
    lambda lib: lib.tensor(3.0),
    lambda lib: lib.ones(2, 2, requires_grad=True) * 1,
], ids=["float32", "float64_transposed", "int64_view", "bool", "float16", "0d", "nonleaf"])
def test_tensor_constructor_of_a_tensor_is_an_alias_as_torch(make):
    assert _alias_facts(ember, make(ember)) == _alias_facts(torch, make(torch))


def test_tensor_constructor_of_a_tensor_stays_in_the_graph():
    results = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = lib.Tensor(x)
        facts = [a.requires_grad, a.is_leaf, type(a.grad_fn).__name__ if lib is torch
                 else a.grad_fn.name(), a._base is x]
        (a * a).sum().backward()
        facts.append(x.grad.tolist())
        with lib.no_grad():
            b = lib.Tensor(x)
        # (torch's views made under no_grad report requires_grad=True, ember's any view
        # made there False: a difference of every view, not compared here)
        facts += [b.grad_fn is None, b._base is x]
        results.append(facts)
    assert results[0] == results[1]
    assert results[0][2] == "AliasBackward0"
