"""where's branch-free contiguous loops (random conditions; each value a tensor or a
scalar) give NumPy's results, and the strided loop still serves views."""
import numpy as np
import pytest

import ember

rng = np.random.default_rng(3)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "bool"])
@pytest.mark.parametrize("which", ["tensors", "scalar_input", "scalar_other", "scalars"])
def test_where_contiguous_matches_numpy(dtype, which):
    n = 1000
    cond = rng.random(n) < 0.5
    a = (rng.standard_normal(n) * 10).astype(dtype)
    b = (rng.standard_normal(n) * 10).astype(dtype)
    x = ember.from_numpy(a) if which in ("tensors", "scalar_other") else a[0].item()
    y = ember.from_numpy(b) if which in ("tensors", "scalar_input") else b[0].item()
    got = ember.where(ember.from_numpy(cond), x, y)
    want = np.where(cond, a if not np.isscalar(x) else a[0], b if not np.isscalar(y) else b[0])
    np.testing.assert_array_equal(got.numpy(), want.astype(got.numpy().dtype))


def test_where_views_and_relu_backward():
    cond = rng.random((6, 8)) < 0.5
    a = rng.standard_normal((8, 6)).astype(np.float32)
    got = ember.where(ember.from_numpy(cond)[::-1], ember.from_numpy(a).t(), 0.0)
    np.testing.assert_array_equal(got.numpy(), np.where(cond[::-1], a.T, 0.0))
    x = ember.tensor(rng.standard_normal((64, 32)), requires_grad=True)
    g = rng.standard_normal((64, 32))
    ember.relu(x).backward(ember.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(x.detach().numpy() > 0, g, 0.0))
