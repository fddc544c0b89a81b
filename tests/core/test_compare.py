"""equal, isclose and allclose against PyTorch."""
import numpy as np
import pytest
import torch

import ember

NAN, INF = float("nan"), float("inf")


def _pair(dtype):
    a = [1.0, 2.0, NAN, INF, -INF, 0.0, 1e-9, 100.0, NAN, 3.0]
    b = [1.0 + 1e-6, 2.1, NAN, INF, INF, 1e-8, 0.0, 100.001, 1.0, NAN]
    if dtype in ("complex64", "complex128"):
        return [complex(x, 1) for x in a], [complex(x, 1) for x in b]
    if dtype in ("int32", "int64", "uint8"):
        return [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 3, 3, 5, 5, 0, 7, 9, 9, 12]
    if dtype == "bool":
        return [True, False] * 5, [True, True, False, False, True] * 2
    return a, b


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float16", "float32",
                                   "float64", "complex64", "complex128"])
@pytest.mark.parametrize("rtol,atol,equal_nan", [(1e-5, 1e-8, False), (1e-3, 1e-3, True),
                                                 (0.0, 0.0, True), (0.5, 1.0, False)])
def test_isclose_matches_torch(dtype, rtol, atol, equal_nan):
    a, b = _pair(dtype)
    ta, tb = torch.tensor(a, dtype=getattr(torch, dtype)), torch.tensor(b, dtype=getattr(torch, dtype))
    ea, eb = ember.tensor(ta.numpy()), ember.tensor(tb.numpy())
    want = torch.isclose(ta, tb, rtol, atol, equal_nan)
    got = ember.isclose(ea, eb, rtol, atol, equal_nan)
    assert got.dtype == ember.bool
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert ember.allclose(ea, eb, rtol, atol, equal_nan) == torch.allclose(ta, tb, rtol, atol,
                                                                           equal_nan)
    assert ea.isclose(eb, rtol=rtol, atol=atol, equal_nan=equal_nan).numpy().tolist() == \
        want.tolist()


def test_isclose_broadcast_views():
    t = torch.randn(4, 5, dtype=torch.float64)
    e = ember.tensor(t.numpy())
    noisy = t + 1e-6 * torch.randn(4, 5, dtype=torch.float64)
    en = ember.tensor(noisy.numpy())
    np.testing.assert_array_equal(ember.isclose(e.t(), en.t()).numpy(),
                                  torch.isclose(t.t(), noisy.t()).numpy())
    np.testing.assert_array_equal(ember.isclose(e[::-1], e[0]).numpy(),
                                  torch.isclose(t.flip(0), t[0]).numpy())
    np.testing.assert_array_equal(ember.isclose(e[:1].expand(3, 5), en[1:4], atol=1.0).numpy(),
                                  torch.isclose(t[:1].expand(3, 5), noisy[1:4], atol=1.0).numpy())
    assert ember.isclose(ember.zeros(0), ember.zeros(0)).shape == (0,)
    assert ember.isclose(ember.tensor(1.0), ember.tensor(1.0 + 1e-7)).item() is True
    assert ember.allclose(ember.zeros(0, 3), ember.zeros(0, 3))


def test_isclose_errors():
    x = ember.zeros(3)
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        ember.isclose(x, x.double())
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        ember.allclose(x.long(), x)
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero, but got -1"):
        ember.isclose(x, x, rtol=-1)
    with pytest.raises(RuntimeError, match="atol must be greater than or equal to zero"):
        ember.allclose(x, x, atol=-0.5)
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        ember.isclose(x, [0.0, 0.0, 0.0])


def test_equal():
    cases = [([1, 2], [1.0, 2.0]), ([1, 2], [[1, 2]]), ([NAN], [NAN]), ([], []),
             ([True, False], [1, 0]), ([1.5, 2], [1.5, 2.5])]
    for a, b in cases:
        assert ember.equal(ember.tensor(a), ember.tensor(b)) == torch.equal(torch.tensor(a),
                                                                          torch.tensor(b))
    x = ember.arange(6).reshape(2, 3)
    assert ember.equal(x.t(), x.t().contiguous()) and x.equal(x.clone())
    assert not ember.equal(x, x[::-1])
    assert ember.equal(ember.tensor(3), ember.tensor(3.0))
    assert ember.equal(ember.zeros(1).expand(4), ember.zeros(4))
    with pytest.raises(TypeError):
        ember.equal(x, 3)
