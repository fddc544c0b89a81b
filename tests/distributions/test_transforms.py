"""ember.distributions.transforms, constraint_registry, Independent and
TransformedDistribution against torch 2.13 (float64)."""
import numpy as np
import pytest
import torch
import torch.distributions as TD
import torch.distributions.transforms as TT

import ember
import ember.distributions as D
import ember.distributions.transforms as T
from ember.distributions import constraints as C

RNG = np.random.default_rng(2)
X = RNG.normal(size=(3, 4))
POS = RNG.uniform(0.2, 2.0, (3, 4))
LOC = RNG.normal(size=4)
SCALE = RNG.uniform(0.5, 2.0, 4)


def _t(a):
    return ember.tensor(np.asarray(a, dtype=np.float64))


def _tt(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def _close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


# name -> (ember transform, torch transform, input)
def _cases():
    return {
        "exp": (T.ExpTransform(), TT.ExpTransform(), X),
        "affine": (T.AffineTransform(_t(LOC), _t(SCALE)),
                   TT.AffineTransform(_tt(LOC), _tt(SCALE)), X),
        "affine_event": (T.AffineTransform(_t(LOC), _t(-SCALE), event_dim=1),
                         TT.AffineTransform(_tt(LOC), _tt(-SCALE), event_dim=1), X),
        "affine_number": (T.AffineTransform(1.0, -2.0), TT.AffineTransform(1.0, -2.0), X),
        "sigmoid": (T.SigmoidTransform(), TT.SigmoidTransform(), X),
        "tanh": (T.TanhTransform(), TT.TanhTransform(), X),
        "softplus": (T.SoftplusTransform(), TT.SoftplusTransform(), X),
        "power": (T.PowerTransform(_t(SCALE)), TT.PowerTransform(_tt(SCALE)), POS),
        "stick_breaking": (T.StickBreakingTransform(), TT.StickBreakingTransform(), X),
        "lower_cholesky": (T.LowerCholeskyTransform(), TT.LowerCholeskyTransform(), X[:, :3]),
        "reshape": (T.ReshapeTransform((4,), (2, 2)), TT.ReshapeTransform((4,), (2, 2)), X),
        "compose": (T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.ExpTransform(),
                                        T.PowerTransform(_t(SCALE))]),
                    TT.ComposeTransform([TT.AffineTransform(0.5, 2.0), TT.ExpTransform(),
                                         TT.PowerTransform(_tt(SCALE))]), X),
        "compose_event": (T.ComposeTransform([T.ExpTransform(), T.AffineTransform(
            _t(LOC), _t(SCALE), event_dim=1)]), TT.ComposeTransform([TT.ExpTransform(),
            TT.AffineTransform(_tt(LOC), _tt(SCALE), event_dim=1)]), X),
        "independent": (T.IndependentTransform(T.SigmoidTransform(), 1),
                        TT.IndependentTransform(TT.SigmoidTransform(), 1), X),
        "cat": (T.CatTransform([T.ExpTransform(), T.TanhTransform()], dim=1, lengths=[1, 3]),
                TT.CatTransform([TT.ExpTransform(), TT.TanhTransform()], dim=1, lengths=[1, 3]),
                X),
        "cat_event": (T.CatTransform([T.IndependentTransform(T.ExpTransform(), 1),
                                      T.AffineTransform(_t(LOC[:2]), 2.0, event_dim=1)],
                                     dim=-1, lengths=[2, 2]),
                      TT.CatTransform([TT.IndependentTransform(TT.ExpTransform(), 1),
                                       TT.AffineTransform(_tt(LOC[:2]), 2.0, event_dim=1)],
                                      dim=-1, lengths=[2, 2]), X),
        "stack": (T.StackTransform([T.ExpTransform(), T.SoftplusTransform(),
                                    T.SigmoidTransform()], dim=0),
                  TT.StackTransform([TT.ExpTransform(), TT.SoftplusTransform(),
                                     TT.SigmoidTransform()], dim=0), X),
        "identity": (T.identity_transform, TT.identity_transform, X),
    }


NO_JACOBIAN = {"lower_cholesky"}


@pytest.mark.parametrize("name", sorted(_cases()))
def test_transform_matches_torch(name):
    t, tt, x = _cases()[name]
    y, ty = t(_t(x)), tt(_tt(x))
    _close(y, ty)
    _close(t.inv(y), tt.inv(ty), rtol=1e-8)
    if t.bijective:
        _close(t.inv(y), _t(x), rtol=1e-7, atol=1e-9)
    assert t.domain.event_dim == tt.domain.event_dim
    assert t.codomain.event_dim == tt.codomain.event_dim
    assert t.bijective == tt.bijective
    assert tuple(t.forward_shape(x.shape)) == tuple(tt.forward_shape(x.shape))
    assert tuple(t.inverse_shape(y.shape)) == tuple(tt.inverse_shape(ty.shape))
    assert bool(t.codomain.check(y).all())
    if name not in NO_JACOBIAN:
        _close(t.log_abs_det_jacobian(_t(x), y), tt.log_abs_det_jacobian(_tt(x), ty))
        _close(t.inv.log_abs_det_jacobian(y, _t(x)), tt.inv.log_abs_det_jacobian(ty, _tt(x)))


@pytest.mark.parametrize("name", ["exp", "affine", "sigmoid", "tanh", "softplus", "power",
                                  "stick_breaking", "compose"])
def test_jacobian_is_the_derivative(name):
    # log |det dy/dx| against autograd's Jacobian of one event
    t, _, x = _cases()[name]
    xt = torch.tensor(np.asarray(x[0], dtype=np.float64))
    tt = _cases()[name][1]
    jac = torch.autograd.functional.jacobian(tt, xt)
    t_lad = t.log_abs_det_jacobian(_t(x[0]), t(_t(x[0])))
    if name == "stick_breaking":   # K -> K + 1: the density is on the first K coordinates
        expected = torch.linalg.slogdet(jac[:-1])[1]
    else:
        expected = jac.diagonal().abs().log()
    np.testing.assert_allclose(np.atleast_1d(t_lad.numpy()), np.atleast_1d(expected.numpy()),
                               rtol=1e-9)


def test_sign_eq_repr_and_errors():
    assert T.ExpTransform().sign == 1 and T.AffineTransform(0.0, -2.0).sign == -1
    assert T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, -1.0)]).sign == -1
    np.testing.assert_array_equal(T.PowerTransform(_t([-1.0, 2.0])).sign.numpy(), [-1, 1])
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.TanhTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(_t([1.0]), 2.0) != T.AffineTransform(_t([3.0]), 2.0)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.ExpTransform().inv.inv == T.ExpTransform()
    assert repr(T.ExpTransform().inv) == "_InverseTransform(ExpTransform())"
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    with pytest.raises(ValueError, match="different numbers of elements"):
        T.ReshapeTransform((4,), (3,))
    with pytest.raises(ValueError, match="Too few dimensions on input"):
        T.StickBreakingTransform().forward_shape(())
    with pytest.raises(NotImplementedError):
        T.AbsTransform().sign
    with pytest.raises(ValueError, match="Please use either"):
        T.ReshapeTransform((4,), (2, 2)).event_dim


def test_cache_returns_the_same_objects():
    t = T.TanhTransform(cache_size=1)
    x = _t([30.0, -1.0])
    y = t(x)
    assert t.inv(y) is x        # exact, although atanh(1.0) would be inf
    assert t(x) is y
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    compose = T.ComposeTransform([T.ExpTransform(), T.TanhTransform()], cache_size=1)
    assert all(p._cache_size == 1 for p in compose.parts)
    assert compose.inv.inv is compose


def _constraints():
    return [C.real, C.positive, C.nonnegative, C.greater_than(1.5), C.greater_than_eq(-2.0),
            C.less_than(3.0), C.unit_interval, C.interval(-1.0, 4.0),
            C.half_open_interval(0.0, 2.0), C.simplex, C.real_vector,
            C.independent(C.positive, 1), C.lower_cholesky, C.positive_definite,
            C.cat([C.positive, C.real], 1, [2, 2]), C.stack([C.positive, C.unit_interval], 1)]


def _torch_constraint(c):
    if isinstance(c, C._Cat):
        return TD.constraints.cat([_torch_constraint(x) for x in c.cseq], c.dim, c.lengths)
    if isinstance(c, C._Stack):
        return TD.constraints.stack([_torch_constraint(x) for x in c.cseq], c.dim)
    if isinstance(c, C._IndependentConstraint):
        return TD.constraints.independent(_torch_constraint(c.base_constraint),
                                          c.reinterpreted_batch_ndims)
    for name in ("lower_bound", "upper_bound"):
        if hasattr(c, name):
            return getattr(TD.constraints, _names[type(c)])(
                *[getattr(c, n) for n in ("lower_bound", "upper_bound") if hasattr(c, n)])
    return getattr(TD.constraints, _names[type(c)])


_names = {type(C.real): "real", type(C.greater_than(0.0)): "greater_than",
          type(C.greater_than_eq(0.0)): "greater_than_eq", type(C.less_than(0.0)): "less_than",
          type(C.interval(0.0, 1.0)): "interval",
          type(C.half_open_interval(0.0, 1.0)): "half_open_interval",
          type(C.simplex): "simplex", type(C.lower_cholesky): "lower_cholesky",
          type(C.positive_definite): "positive_definite"}


@pytest.mark.parametrize("index", range(len(_constraints())))
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_registry_matches_torch(registry, index):
    c = _constraints()[index]
    tc = _torch_constraint(c)
    x = RNG.normal(size=(2, 4, 4) if c.event_dim == 2 else (2, 4))
    if c.event_dim == 2 or isinstance(c, C._Stack):
        x = x[..., :2] if isinstance(c, C._Stack) else x
    if getattr(D, registry) is D.biject_to and type(c) in (type(C.lower_cholesky),
                                                           type(C.positive_definite)):
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            D.biject_to(c)
        return
    t, tt = getattr(D, registry)(c), getattr(TD, registry)(tc)
    y, ty = t(_t(x)), tt(_tt(x))
    _close(y, ty, rtol=1e-9)
    assert bool(c.check(y).all())
    if t.bijective and c.event_dim < 2:
        _close(t.log_abs_det_jacobian(_t(x), y), tt.log_abs_det_jacobian(_tt(x), ty),
               rtol=1e-9)


def test_registry_register_and_errors():
    registry = type(D.biject_to)()
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        registry(C.real)
    registry.register(C.real, lambda c: T.ExpTransform())
    assert registry(C.real) == T.ExpTransform()
    with pytest.raises(TypeError, match="Expected constraint"):
        registry.register(3, lambda c: None)


def test_independent_matches_torch():
    base = D.Normal(_t(X), _t(POS))
    tbase = TD.Normal(_tt(X), _tt(POS))
    d, td = D.Independent(base, 1), TD.Independent(tbase, 1)
    assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((3,), (4,))
    _close(d.log_prob(_t(POS)), td.log_prob(_tt(POS)))
    _close(d.entropy(), td.entropy())
    _close(d.mean, td.mean)
    _close(d.variance, td.variance)
    assert d.has_rsample and not d.has_enumerate_support
    assert tuple(d.rsample((2,)).shape) == (2, 3, 4)
    e = d.expand((5, 3))
    assert (tuple(e.batch_shape), tuple(e.event_shape)) == ((5, 3), (4,))
    assert tuple(e.sample().shape) == (5, 3, 4)
    assert d.support.event_dim == 1
    assert repr(D.Independent(D.Normal(0.0, 1.0).expand((2,)), 1)).startswith("Independent(")
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims"):
        D.Independent(base, 3)
    with pytest.raises(NotImplementedError, match="cartesian product"):
        D.Independent(D.Bernoulli(_t(P2)), 1).enumerate_support()
    kl = D.kl_divergence(d, D.Independent(D.Normal(_t(X) + 1, _t(POS)), 1))
    tkl = TD.kl_divergence(td, TD.Independent(TD.Normal(_tt(X) + 1, _tt(POS)), 1))
    _close(kl, tkl)


P2 = RNG.uniform(0.1, 0.9, (2, 3))


def test_tanh_squashed_gaussian_matches_torch():
    loc, scale = _t(LOC).requires_grad_(), _t(SCALE).requires_grad_()
    tloc, tscale = _tt(LOC).requires_grad_(), _tt(SCALE).requires_grad_()
    d = D.TransformedDistribution(D.Normal(loc, scale), [T.TanhTransform(cache_size=1)])
    td = TD.TransformedDistribution(TD.Normal(tloc, tscale), [TT.TanhTransform(cache_size=1)])
    assert d.has_rsample and tuple(d.batch_shape) == (4,)
    # the pathwise gradient with the same noise: y = tanh(loc + scale * eps)
    eps = RNG.normal(size=(6, 4))
    y = T.TanhTransform(cache_size=1)(loc + scale * _t(eps))
    ty = TT.TanhTransform(cache_size=1)(tloc + tscale * _tt(eps))
    d.transforms[0]._cached_x_y = (None, None)
    logp = d.log_prob(y)
    tlogp = td.log_prob(ty)
    _close(logp, tlogp)
    (logp.sum() + y.sum()).backward()
    (tlogp.sum() + ty.sum()).backward()
    _close(loc.grad, tloc.grad, rtol=1e-8)
    _close(scale.grad, tscale.grad, rtol=1e-8)
    # rsample then log_prob uses the cached pre-image
    a = d.rsample((3,))
    assert tuple(a.shape) == (3, 4) and bool((a.abs() < 1).all())
    assert bool(d.log_prob(a).isfinite().all())


def test_transformed_distribution_shapes_cdf_and_errors():
    base = D.Normal(_t(LOC), _t(SCALE))
    tbase = TD.Normal(_tt(LOC), _tt(SCALE))
    parts = [T.AffineTransform(1.0, -2.0), T.ExpTransform()]
    tparts = [TT.AffineTransform(1.0, -2.0), TT.ExpTransform()]
    d, td = D.TransformedDistribution(base, parts), TD.TransformedDistribution(tbase, tparts)
    v = RNG.uniform(0.5, 2.0, 4)
    _close(d.cdf(_t(v)), td.cdf(_tt(v)))   # decreasing: the cdf is flipped
    q = np.array([0.2, 0.4, 0.6, 0.8])
    _close(d.icdf(_t(q)), td.icdf(_tt(q)))
    assert d.support.check(_t(v)).all()
    e = d.expand((2, 4))
    assert tuple(e.sample((3,)).shape) == (3, 2, 4)
    # a coupling transform makes events: stick breaking turns (3, 4) into (3,) x (5,)
    sb = D.TransformedDistribution(D.Normal(_t(X), _t(POS)), T.StickBreakingTransform())
    tsb = TD.TransformedDistribution(TD.Normal(_tt(X), _tt(POS)), TT.StickBreakingTransform())
    assert (tuple(sb.batch_shape), tuple(sb.event_shape)) == ((3,), (5,))
    s = tsb.sample()
    _close(sb.log_prob(ember.tensor(s.numpy())), tsb.log_prob(s))
    # a reshape turns the base's batch into events
    r = D.TransformedDistribution(D.Normal(_t(X), _t(POS)), T.ReshapeTransform((4,), (2, 2)))
    assert (tuple(r.batch_shape), tuple(r.event_shape)) == ((3,), (2, 2))
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        D.TransformedDistribution(base, "exp")
    with pytest.raises(ValueError, match="base_distribution needs to have shape"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), T.StickBreakingTransform())


def test_transforms_compare_by_value_and_are_unhashable_as_in_torch():
    for t in (T.ExpTransform(), T.AffineTransform(0.0, 1.0), T.identity_transform,
              T.ExpTransform().inv):
        with pytest.raises(TypeError, match="unhashable"):
            hash(t)
