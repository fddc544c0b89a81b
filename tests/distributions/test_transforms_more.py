"""CorrCholeskyTransform, CumulativeDistributionTransform, the corr_cholesky constraint,
the triangle helpers and the top-level transform exports against torch 2.13."""
import numpy as np
import pytest
import torch
import torch.distributions as TD
from torch.distributions import utils as TU

import ember
import ember.distributions as D
from ember.autograd import gradcheck
from ember.distributions import constraints as C
from ember.distributions import utils as U

RNG = np.random.default_rng(7)


def _t(a, dtype=ember.float64):
    return ember.tensor(np.asarray(a), dtype=dtype)


def _tt(a, dtype=torch.float64):
    return torch.tensor(np.asarray(a), dtype=dtype)


def _close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def test_top_level_exports_match_torch():
    names = [n for n in TD.__all__ if n.endswith("Transform") or n == "identity_transform"]
    assert len(names) == 20
    for name in names:
        assert getattr(D, name) is getattr(D.transforms, name), name
        assert name in D.__all__
    assert D.identity_transform == D.ComposeTransform([])


@pytest.mark.parametrize("diag", [0, -1, -2])
@pytest.mark.parametrize("n", [1, 3, 6, 10])
def test_tril_helpers(diag, n):
    vec = RNG.normal(size=(2, n))
    try:
        expected = TU.vec_to_tril_matrix(_tt(vec), diag)
    except ValueError:
        with pytest.raises(ValueError, match="lower triangular part"):
            U.vec_to_tril_matrix(_t(vec), diag)
        return
    mat = U.vec_to_tril_matrix(_t(vec), diag)
    _close(mat, expected)
    if diag >= expected.shape[-1]:  # torch refuses to read such a triangle back
        with pytest.raises(ValueError, match="outside"):
            U.tril_matrix_to_vec(mat, diag)
        return
    _close(U.tril_matrix_to_vec(mat, diag), TU.tril_matrix_to_vec(expected, diag))


def test_tril_helpers_gradients_and_errors():
    vec = _t(RNG.normal(size=(2, 6))).requires_grad_()
    assert gradcheck(lambda v: U.vec_to_tril_matrix(v, -1) ** 2, (vec,))
    mat = _t(RNG.normal(size=(4, 4))).requires_grad_()
    assert gradcheck(lambda m: U.tril_matrix_to_vec(m.mT, -1) ** 2, (mat,))  # non-contiguous
    with pytest.raises(ValueError, match="outside"):
        U.tril_matrix_to_vec(ember.zeros(3, 3), 3)


@pytest.mark.parametrize("shape", [(6,), (2, 3, 6), (4, 1), (0, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_corr_cholesky_matches_torch(shape, dtype):
    # wide inputs saturate tanh, whose float32 inverse then loses digits
    x = RNG.normal(size=shape) * (2 if dtype == "float64" else 0.5)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    et, tt = D.CorrCholeskyTransform(), TD.CorrCholeskyTransform()
    ex, tx = _t(x, getattr(ember, dtype)), _tt(x, getattr(torch, dtype))
    ey, ty = et(ex), tt(tx)
    _close(ey, ty, **tol)
    _close(et.inv(ey), tt.inv(ty), **tol)
    _close(et.log_abs_det_jacobian(ex, ey), tt.log_abs_det_jacobian(tx, ty), **tol)
    assert bool(C.corr_cholesky.check(ey).all())
    if ey.numel():  # torch's check cannot reshape an empty batch
        np.testing.assert_array_equal(C.corr_cholesky.check(ey).numpy(),
                                      TD.constraints.corr_cholesky.check(ty).numpy())
    assert tuple(et.forward_shape(shape)) == tuple(ey.shape) == tuple(tt.forward_shape(shape))
    assert tuple(et.inverse_shape(ey.shape)) == shape


def test_corr_cholesky_gradients_and_noncontiguous():
    t = D.CorrCholeskyTransform()
    x = _t(RNG.normal(size=(3, 6))).requires_grad_()
    assert gradcheck(t, (x,))
    assert gradcheck(lambda a: t.log_abs_det_jacobian(a, t(a)), (x,))
    y = t(_t(RNG.normal(size=(2, 6)))).detach().requires_grad_()
    assert gradcheck(t.inv, (y,))
    # .grad against torch
    xn = RNG.normal(size=(2, 3))
    ex, tx = _t(xn).requires_grad_(), _tt(xn).requires_grad_()
    t.log_abs_det_jacobian(ex, t(ex)).sum().backward()
    tt = TD.CorrCholeskyTransform()
    tt.log_abs_det_jacobian(tx, tt(tx)).sum().backward()
    _close(ex.grad, tx.grad)
    wide = RNG.normal(size=(6, 4))  # a transposed (non-contiguous) input
    _close(t(_t(wide).mT), TD.CorrCholeskyTransform()(_tt(wide).mT))


def test_corr_cholesky_shapes_attributes_and_registry():
    t = D.CorrCholeskyTransform()
    assert t.domain is C.real_vector and t.codomain is C.corr_cholesky and t.bijective
    assert t == D.CorrCholeskyTransform() and t != D.StickBreakingTransform()
    with pytest.raises(ValueError, match="event_dim"):
        t.event_dim  # domain and codomain differ (1 and 2), as torch
    assert isinstance(D.biject_to(C.corr_cholesky), D.CorrCholeskyTransform)
    assert isinstance(D.transform_to(C.corr_cholesky), D.CorrCholeskyTransform)
    with pytest.raises(ValueError, match="lower-diagonal"):
        t.forward_shape((4,))
    with pytest.raises(ValueError, match="Too few"):
        t.forward_shape(())
    with pytest.raises(ValueError, match="square"):
        t.inverse_shape((3, 4))
    with pytest.raises(ValueError, match="Too few"):
        t.inverse_shape((3,))
    # the cache returns the exact input of the last call
    cached = t.with_cache(1)
    x = _t(RNG.normal(size=3))
    assert cached.inv(cached(x)) is x


def test_corr_cholesky_constraint_rejects():
    good = D.CorrCholeskyTransform()(_t(RNG.normal(size=(3,))))
    assert bool(C.corr_cholesky.check(good))
    assert not bool(C.corr_cholesky.check(good * 1.01))
    assert not bool(C.corr_cholesky.check(good.mT))
    assert not bool(C.corr_cholesky.check(-good))
    assert C.corr_cholesky.event_dim == 2


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cumulative_distribution_transform(dtype):
    loc, scale = RNG.normal(size=3), RNG.uniform(0.5, 2, 3)
    x = RNG.normal(size=(4, 3))
    edt, tdt = getattr(ember, dtype), getattr(torch, dtype)
    et = D.CumulativeDistributionTransform(D.Normal(_t(loc, edt), _t(scale, edt)))
    tt = TD.CumulativeDistributionTransform(TD.Normal(_tt(loc, tdt), _tt(scale, tdt)))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    ey, ty = et(_t(x, edt)), tt(_tt(x, tdt))
    _close(ey, ty, **tol)
    _close(et.inv(ey), tt.inv(ty), **tol)
    _close(et.log_abs_det_jacobian(_t(x, edt), ey), tt.log_abs_det_jacobian(_tt(x, tdt), ty),
           **tol)
    assert et.domain is et.distribution.support and et.codomain is C.unit_interval
    assert et.sign == 1 and et.bijective and et.event_dim == 0
    assert et.with_cache(0) is et and et.with_cache(1)._cache_size == 1


def test_cumulative_distribution_transform_gradient_and_copula():
    loc = _t([0.3]).requires_grad_()
    x = _t(RNG.normal(size=(5,))).requires_grad_()
    assert gradcheck(lambda l, v: D.CumulativeDistributionTransform(D.Normal(l, 1.5))(v),
                     (loc, x))
    base = D.MultivariateNormal(ember.zeros(2, dtype=ember.float64),
                                _t([[1.0, 0.5], [0.5, 1.0]]))
    copula = D.TransformedDistribution(base, [D.CumulativeDistributionTransform(
        D.Normal(_t(0.0), _t(1.0)))])
    u = copula.sample((200,))
    assert tuple(u.shape) == (200, 2) and bool(((u > 0) & (u < 1)).all())
    tcopula = TD.TransformedDistribution(
        TD.MultivariateNormal(torch.zeros(2, dtype=torch.float64),
                              _tt([[1.0, 0.5], [0.5, 1.0]])),
        [TD.CumulativeDistributionTransform(TD.Normal(_tt(0.0), _tt(1.0)))])
    v = RNG.uniform(0.05, 0.95, (3, 2))
    _close(copula.log_prob(_t(v)), tcopula.log_prob(_tt(v)), rtol=1e-8)
