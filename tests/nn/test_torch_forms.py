"""The torch.* forms of functional ops (torch.dropout(input, p, train), int reductions,
torch.embedding(weight, indices), positional batch_norm, pools with stride=(), int-coded
grid_sampler, convolution, conv_tbc, norm_except_dim) against torch 2.13: values,
gradients, argument order and errors."""
import numpy as np
import pytest
import torch

import ember


def _pair(shape, seed=0, positive=False, grad=True):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float64)
    if positive:
        a = np.abs(a) + 0.1
    return (ember.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad))


def _same(got, want, rtol=1e-6, atol=1e-8):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w, rtol, atol)
        return
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(got.detach()), want.detach().numpy(), rtol=rtol,
                               atol=atol)


def _check(name, make, rtol=1e-6):
    """Same values, and same gradients for every input that requires one."""
    eargs, targs = make(ember), make(torch)
    got, want = getattr(ember, name)(*eargs), getattr(torch, name)(*targs)
    _same(got, want, rtol)
    g = got[0] if isinstance(got, tuple) else got
    w = want[0] if isinstance(want, tuple) else want
    weights = np.random.default_rng(7).standard_normal(tuple(w.shape))
    (g * ember.tensor(weights)).sum().backward()
    (w * torch.tensor(weights)).sum().backward()
    for e, t in zip(eargs, targs):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            _same(e.grad, t.grad, rtol=1e-5, atol=1e-8)


_ARRAYS = {}


def _args(module, *specs):
    """Tensors from named specs (shared between the ember and torch calls), others as is."""
    out = []
    for s in specs:
        if isinstance(s, tuple) and s and s[0] == "T":
            _, key, shape, kw = s
            if key not in _ARRAYS:
                _ARRAYS[key] = _pair(shape, seed=len(_ARRAYS), **kw)
            e, t = _ARRAYS[key]
            src = e if module is ember else t
            out.append(src.detach().clone().requires_grad_(kw.get("grad", True)))
        elif isinstance(s, tuple) and s and s[0] == "L":
            out.append(module.tensor(s[1]))
        else:
            out.append(s)
    return out


def T(key, *shape, **kw):
    return ("T", key, shape, kw)


CASES = [
    ("conv1d", (T("x1", 2, 3, 8), T("w1", 4, 3, 3), T("b4", 4), 2, 1)),
    ("conv2d", (T("x2", 1, 2, 5, 5), T("w2", 4, 1, 3, 3), None, 1, 1, 1, 2)),
    ("conv3d", (T("x3", 1, 2, 4, 4, 4), T("w3", 3, 2, 2, 2, 2))),
    ("conv_transpose1d", (T("x1", 2, 3, 8), T("wt1", 3, 2, 3), None, 2, 1, 1)),
    ("conv_transpose2d", (T("x2", 1, 2, 5, 5), T("wt2", 2, 3, 3, 3), T("b3", 3), 2)),
    ("conv_transpose3d", (T("x3", 1, 2, 4, 4, 4), T("wt3", 2, 2, 2, 2, 2))),
    ("layer_norm", (T("x2", 1, 2, 5, 5), [5, 5], T("lw", 5, 5), T("lb", 5, 5), 1e-3, True)),
    ("group_norm", (T("x2", 1, 2, 5, 5), 2, T("gw", 2), T("gb", 2), 1e-5, True)),
    ("batch_norm", (T("x2", 1, 2, 5, 5), T("gw", 2), T("gb", 2), None, None, True, 0.1, 1e-5,
                    False)),
    ("instance_norm", (T("x2", 1, 2, 5, 5), T("gw", 2), T("gb", 2), None, None, True, 0.1,
                       1e-5, False)),
    ("rms_norm", (T("x2", 1, 2, 5, 5), [5], T("rw", 5), 1e-6)),
    ("pixel_shuffle", (T("x4", 1, 8, 2, 3), 2)),
    ("pixel_unshuffle", (T("x6", 1, 2, 4, 4), 2)),
    ("channel_shuffle", (T("x4", 1, 8, 2, 3), 4)),
    ("cosine_similarity", (T("p1", 4, 5), T("p2", 4, 5), 1, 1e-8)),
    ("pairwise_distance", (T("p1", 4, 5), T("p2", 4, 5), 3.0, 1e-6, True)),
    ("pdist", (T("p1", 4, 5), 2.0)),
    ("prelu", (T("x4", 1, 8, 2, 3), T("pw", 8))),
    ("bilinear", (T("p1", 4, 5), T("p3", 4, 3), T("bw", 2, 5, 3), T("bb", 2))),
    ("kl_div", (T("p1", 4, 5), T("pp", 4, 5, positive=True, grad=False), 2)),
    ("margin_ranking_loss", (T("v1", 6), T("v2", 6), ("L", [1.0, -1, 1, 1, -1, -1]), 0.1, 0)),
    ("hinge_embedding_loss", (T("v1", 6), ("L", [1.0, -1, 1, 1, -1, -1]), 0.5, 2)),
    ("triplet_margin_loss", (T("p1", 4, 5), T("p2", 4, 5), T("p4", 4, 5), 1.0, 2.0, 1e-6,
                             True, 1)),
    ("poisson_nll_loss", (T("p1", 4, 5), T("pp", 4, 5, positive=True, grad=False), True, True,
                          1e-8, 1)),
    ("cosine_embedding_loss", (T("p1", 4, 5), T("p2", 4, 5), ("L", [1.0, -1, 1, -1]), 0.2, 2)),
    ("binary_cross_entropy_with_logits", (T("p1", 4, 5), T("pr", 4, 5, positive=True, grad=False),
                                          None, T("pw5", 5, grad=False), 1)),
    ("max_pool1d", (T("x1", 2, 3, 8), 2)),
    ("max_pool2d", (T("x2", 1, 2, 5, 5), 2, (), 1, 1, True)),
    ("max_pool3d", (T("x3", 1, 2, 4, 4, 4), 2, 1)),
    ("max_pool1d_with_indices", (T("x1", 2, 3, 8), 3, 2, 1)),
    ("avg_pool1d", (T("x1", 2, 3, 8), 3, (), 1, False, False)),
    ("adaptive_avg_pool1d", (T("x1", 2, 3, 8), 3)),
    ("adaptive_max_pool1d", (T("x1", 2, 3, 8), 3)),
    ("constant_pad_nd", (T("x1", 2, 3, 8), [1, 2, 0, 1], 1.5)),
    ("conv_tbc", (T("tbc", 7, 2, 3), T("wtbc", 3, 3, 4), T("b4", 4), 1)),
    ("conv_tbc", (T("tbc", 7, 2, 3), T("wtbc", 3, 3, 4), T("b4", 4))),
    ("convolution", (T("x2", 1, 2, 5, 5), T("w2", 4, 1, 3, 3), T("b4", 4), [2, 1], [1, 0],
                     [1, 2], False, [0, 0], 2)),
    ("convolution", (T("x1", 2, 3, 8), T("wt1", 3, 2, 3), None, [2], [1], [1], True, [1], 1)),
    ("convolution", (T("x3", 1, 2, 4, 4, 4), T("wt3", 2, 2, 2, 2, 2), None, [1, 1, 1],
                     [0, 0, 0], [1, 1, 1], True, [0, 0, 0], 1)),
    ("affine_grid_generator", (T("theta", 2, 2, 3), [2, 3, 4, 5], False)),
    ("grid_sampler", (T("gx", 2, 3, 5, 6), T("grid", 2, 4, 5, 2), 0, 0, False)),
    ("grid_sampler", (T("gx", 2, 3, 5, 6), T("gridn", 2, 4, 5, 2, grad=False), 1, 2, True)),
    ("grid_sampler_2d", (T("gx", 2, 3, 5, 6), T("grid", 2, 4, 5, 2), 0, 1, True)),
    ("grid_sampler_3d", (T("gx3", 1, 2, 3, 4, 5), T("grid3", 1, 2, 3, 4, 3), 0, 2, False)),
    ("norm_except_dim", (T("nv", 3, 4, 5), 2, 0)),
    ("norm_except_dim", (T("nv", 3, 4, 5), 3, 1)),
    ("norm_except_dim", (T("nv", 3, 4, 5), 1, 2)),
    ("norm_except_dim", (T("nv", 3, 4, 5), 2, -1)),
    ("norm_except_dim", (T("v1", 6), 2, 0)),
]


@pytest.mark.parametrize("name,specs", CASES, ids=[c[0] for c in CASES])
def test_torch_form_matches(name, specs):
    _check(name, lambda m: _args(m, *specs))


def test_dropout_forms():
    x = ember.ones(200, 50, dtype=ember.float64)
    for name in ("dropout", "alpha_dropout", "feature_alpha_dropout"):
        fn = getattr(ember, name)
        assert fn(x, 0.5, False) is x or ember.equal(fn(x, 0.5, False), x)
        y = fn(x, 0.3, True)
        assert y.shape == x.shape and not ember.equal(y, x)
        z = x.clone()
        assert getattr(ember, name + "_")(z, 0.3, True) is z and not ember.equal(z, x)
    kept = (ember.dropout(x, 0.25, True) != 0).to(ember.float64).mean().item()
    assert abs(kept - 0.75) < 0.03
    with pytest.raises(TypeError):
        ember.dropout(x, 0.5)      # train is required, as in torch


def test_feature_dropout_zeroes_whole_channels():
    x = ember.ones(40, 30, 6, dtype=ember.float64)
    assert ember.equal(ember.feature_dropout(x, 0.5, False), x)
    y = ember.feature_dropout(x, 0.4, True)
    # one draw per (n, c): every channel is all zeros or all 1 / (1 - p)
    per_channel = y.amax(2)
    assert bool((y == per_channel.unsqueeze(2)).all())
    assert set(np.unique(np.asarray(per_channel)).round(6)) <= {0.0, round(1 / 0.6, 6)}
    kept = (per_channel != 0).to(ember.float64).mean().item()
    assert abs(kept - 0.6) < 0.06
    z = x.clone()
    assert ember.feature_dropout_(z, 0.4, True) is z and not ember.equal(z, x)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            lib.feature_dropout(lib.ones(3), 0.5, True)


def test_embedding_renorm_():
    a = np.random.default_rng(4).standard_normal((5, 3)) * 3
    w, tw = ember.tensor(a), torch.tensor(a)
    for lib, weight in ((ember, w), (torch, tw)):
        assert lib.embedding_renorm_(weight, lib.tensor([0, 2, 2]), 1.0, 2.0) is weight
    _same(w, tw)


def test_conv_tbc_and_grid_sampler_errors():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Input must have 3 dims"):
            lib.conv_tbc(lib.ones(2, 3), lib.ones(1, 3, 2), lib.ones(2))
        with pytest.raises(RuntimeError, match="input channels"):
            lib.conv_tbc(lib.ones(4, 2, 3), lib.ones(1, 2, 2), lib.ones(2))
    with pytest.raises(RuntimeError, match="interpolation_mode"):
        ember.grid_sampler(ember.ones(1, 1, 2, 2), ember.zeros(1, 1, 1, 2), 5, 0, False)
    with pytest.raises(RuntimeError, match="expected 4-D"):
        ember.grid_sampler_2d(ember.ones(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 3), 0, 0,
                              False)


def test_embedding_argument_order():
    w, tw = _pair((5, 3))
    idx = [[0, 4], [2, 2]]
    _same(ember.embedding(w, ember.tensor(idx)), torch.embedding(tw, torch.tensor(idx)))
    e, t = ember.embedding(w, ember.tensor(idx), 2), torch.embedding(tw, torch.tensor(idx), 2)
    _same(e, t)
    e.sum().backward()
    t.sum().backward()
    _same(w.grad, tw.grad)


def test_ctc_loss_int_reduction():
    rng = np.random.default_rng(3)
    lp = np.log(rng.dirichlet(np.ones(5), size=(6, 2)))
    targets = [[1, 2, 3], [2, 2, 0]]
    for reduction in (0, 1, 2):
        e = ember.ctc_loss(ember.tensor(lp), ember.tensor(targets), [6, 5], [3, 2], 0,
                           reduction)
        t = torch.ctc_loss(torch.tensor(lp), torch.tensor(targets), [6, 5], [3, 2], 0,
                           reduction)
        _same(e, t, rtol=1e-6)


def test_rrelu_forms():
    x, tx = _pair((4, 5))
    _same(ember.rrelu(x), torch.rrelu(tx))
    g = ember.Generator().manual_seed(1)
    a = ember.rrelu(x, 0.1, 0.3, True, g)
    b = ember.rrelu(x, 0.1, 0.3, True, ember.Generator().manual_seed(1))
    assert ember.equal(a, b)
    neg = x.detach() < 0
    slope = (a.detach() / x.detach())[neg]
    assert bool((slope >= 0.1).all()) and bool((slope <= 0.3).all())
    y = x.detach().clone()
    assert ember.rrelu_(y) is y
    _same(y, torch.rrelu(tx.detach()))


def test_reduction_errors_and_prelu_method():
    with pytest.raises(ValueError, match="reduction"):
        ember.kl_div(ember.zeros(2), ember.zeros(2), "mean")
    x, tx = _pair((2, 3, 4))
    w, tw = ember.tensor([0.25, 0.5, 0.1]), torch.tensor([0.25, 0.5, 0.1])
    _same(x.prelu(w.to(ember.float64)), tx.prelu(tw.double()))
