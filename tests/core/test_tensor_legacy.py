"""Tensor.new, sum_to_size, adjoint, apply_/map_ and ember.frombuffer against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember


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
    "sum_to_size-lead": lambda lib, x: x.sum_to_size(3),
    "sum_to_size-ones": lambda lib, x: x.sum_to_size(1, 3),
    "sum_to_size-tuple": lambda lib, x: x.sum_to_size((2, 1)),
    "sum_to_size-same": lambda lib, x: x.sum_to_size(2, 3),
    "sum_to_size-bad": lambda lib, x: x.sum_to_size(4),
    "sum_to_size-longer": lambda lib, x: x.sum_to_size(2, 2, 3),
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
