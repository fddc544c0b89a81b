"""ember.func.rearrange against torch.func.rearrange: shapes, values, strides, whether
the result is a view, gradients, stacking of sequences, and the errors."""
import numpy as np
import pytest
import torch
from torch.func import rearrange as torch_rearrange

import ember
from ember.autograd import gradcheck
from ember.func import rearrange

RNG = np.random.default_rng(3)
BASE = RNG.standard_normal((6, 8, 10))

PATTERNS = [
    ("a b c -> c a b", {}), ("a b c -> (a b) c", {}), ("a b c -> (c a) b", {}),
    ("a b c -> a (b c)", {}), ("(a1 a2) b c -> a2 b (a1 c)", {"a1": 2}),
    ("(a1 a2) b c -> a1 a2 b c", {"a1": 3, "a2": 2}), ("a b c -> (a b c)", {}),
    ("a ... -> (...) a", {}), ("... c -> c ...", {}), ("a b c ... -> a b c ...", {}),
    ("a b c -> a 1 (b c) 1", {}), ("a b c -> a b c ()", {}), ("a b c -> a (b 1 c)", {}),
    ("a (b1 b2) c -> b1 a b2 c", {"b1": 2}), ("a b c -> a b c", {"a": 6}),
]


def views(lib):
    """The same values as contiguous, transposed, strided and broadcast (stride 0) tensors."""
    base = lib.tensor(BASE.copy())
    return {"contiguous": base, "transposed": base.permute(2, 1, 0).transpose(0, 2),
            "sliced": lib.tensor(RNG.standard_normal((6, 16, 10)))[:, ::2] * 0 + base,
            "expanded": lib.tensor(BASE[:, :1].copy()).expand(6, 8, 10)}


def shares_memory(result, source):
    return result.untyped_storage().data_ptr() == source.untyped_storage().data_ptr()


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced", "expanded"])
@pytest.mark.parametrize("pattern,lengths", PATTERNS)
def test_matches_torch_values_strides_and_views(pattern, lengths, layout):
    e, t = views(ember)[layout], views(torch)[layout]
    out_e, out_t = rearrange(e, pattern, **lengths), torch_rearrange(t, pattern, **lengths)
    assert tuple(out_e.shape) == tuple(out_t.shape)
    np.testing.assert_array_equal(np.asarray(out_e), out_t.numpy())
    assert tuple(out_e.stride()) == tuple(out_t.stride())
    assert shares_memory(out_e, e) == shares_memory(out_t, t)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("pattern,lengths", [
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2}),
    ("b h w c -> (b w) c h", {}), ("b h ... -> h (b ...)", {}), ("b h w 1 -> w b h", {}),
])
def test_gradients_match_torch(pattern, lengths, dtype):
    a = RNG.standard_normal((2, 4, 6, 3 if "1 ->" not in pattern else 1))
    e = ember.tensor(a, dtype=getattr(ember, dtype), requires_grad=True)
    t = torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)
    out_e, out_t = rearrange(e, pattern, **lengths), torch_rearrange(t, pattern, **lengths)
    g = RNG.standard_normal(tuple(out_t.shape))
    out_e.backward(ember.tensor(g, dtype=getattr(ember, dtype)))
    out_t.backward(torch.tensor(g, dtype=getattr(torch, dtype)))
    np.testing.assert_allclose(np.asarray(e.grad), t.grad.numpy(), rtol=1e-6)


def test_gradcheck():
    x = ember.tensor(RNG.standard_normal((4, 3, 2)), requires_grad=True)
    assert gradcheck(lambda x: rearrange(x, "(a b) c d -> b (d a) c", a=2) ** 2, (x,))
    assert gradcheck(lambda x: rearrange([x, x.sin()], "n a c d -> c (n a) d"), (x,))


def test_sequence_input_is_stacked_and_anonymous_left_axis_is_summed():
    parts = [RNG.standard_normal((2, 3)) for _ in range(4)]
    out_e = rearrange(tuple(ember.tensor(p) for p in parts), "n a b -> a (n b)")
    out_t = torch_rearrange([torch.tensor(p) for p in parts], "n a b -> a (n b)")
    np.testing.assert_array_equal(np.asarray(out_e), out_t.numpy())
    # PyTorch sums an unnamed left axis (it is meant to be of size one)
    x = RNG.standard_normal((2, 3))
    for pattern in ("a 1 -> a", "a () -> a", "(a 1) b -> a b"):
        np.testing.assert_array_equal(np.asarray(rearrange(ember.tensor(x), pattern)),
                                      torch_rearrange(torch.tensor(x), pattern).numpy())


def test_zero_dimensional_and_empty():
    s = ember.tensor(3.0)
    assert rearrange(s, "-> 1 1") is s        # as PyTorch: no axis named, the input itself
    assert rearrange(s, "... -> ...") is s
    assert rearrange(s, "... -> 1 (...)") is s
    for pattern, lengths in [("a (b c) -> b a c", {"b": 2}), ("a b -> (b a)", {})]:
        out_e = rearrange(ember.zeros(0, 4), pattern, **lengths)
        out_t = torch_rearrange(torch.zeros(0, 4), pattern, **lengths)
        assert tuple(out_e.shape) == tuple(out_t.shape)


@pytest.mark.parametrize("pattern,lengths", [
    ("a b c", {}), ("a b c -> a b", {}), ("a a c -> a c", {}), ("a b c -> a b c 2", {}),
    ("a b -> a b", {}), ("a b c 1 -> a b c", {}), ("a b c d ... -> a b c d ...", {}),
    ("a b c -> a b c!", {}), ("a b c -> ((a b)) c", {}), ("a b c -> (a b c", {}),
    ("a b c -> a b c)", {}), ("a b c -> a b c ...", {}), ("a (...) -> a ...", {}),
    ("a ... -> ... ...", {}), ("a. b c -> a b c", {}), ("_a b c -> _a b c", {}),
    ("a b c -> a b c", {"z": 2}), ("a ... -> a ...", {"\u2026": 2}),
])
def test_pattern_errors_match_torch(pattern, lengths):
    with pytest.raises(ValueError) as expected:
        torch_rearrange(torch.zeros(6, 4, 5), pattern, **lengths)
    with pytest.raises(ValueError) as got:
        rearrange(ember.zeros(6, 4, 5), pattern, **lengths)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("length", [True, 2.0, "2"])
def test_non_int_length_is_a_type_error(length):
    with pytest.raises(TypeError, match="axis lengths must be integers"):
        rearrange(ember.zeros(6, 4, 5), "(a1 a2) b c -> a1 a2 b c", a1=length)


@pytest.mark.parametrize("lengths,message", [
    ({}, "cannot infer the sizes of two dimensions at once"),
    ({"a1": 4}, "inferred dimension does not evenly fit"),
    ({"a1": 2, "a2": 2}, r"Dimension sizes to do not match \(6 != 4\)"),
])
def test_size_errors(lengths, message):
    # PyTorch raises functorch's DimensionBindError (an Exception) with these messages
    with pytest.raises(Exception, match=message):
        torch_rearrange(torch.zeros(6, 4, 5), "(a1 a2) b c -> a1 a2 b c", **lengths)
    with pytest.raises(ValueError, match=message):
        rearrange(ember.zeros(6, 4, 5), "(a1 a2) b c -> a1 a2 b c", **lengths)


def test_zero_length_cannot_be_divided_out():
    # PyTorch raises ZeroDivisionError from its size arithmetic
    with pytest.raises(ValueError, match="does not evenly fit"):
        rearrange(ember.zeros(6, 4, 5), "(a1 a2) b c -> a1 a2 b c", a1=0)
