"""nn.utils.prune against torch.nn.utils.prune: masks (identical for the deterministic
methods on tie-free weights), pruned tensors, outputs and gradients of the originals,
state_dict keys, iterative pruning through PruningContainer, global pruning, remove,
rollback and errors; the random methods by the number of entries or channels pruned."""
import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import ember
from ember import nn
from ember.autograd import gradcheck
from ember.nn.utils import prune
from nn_helpers import assert_close, copy_weights, to_ember

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}
EMBER_DTYPES = {"float32": ember.float32, "float64": ember.float64}


def pair(kind, dtype="float32", seed=0):
    """The same module in torch and ember, with torch's (tie-free) random weights."""
    torch.manual_seed(seed)
    if kind == "linear":
        t, e = torch.nn.Linear(6, 5), nn.Linear(6, 5)
    else:
        t, e = torch.nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)
    t.to(TORCH_DTYPES[dtype])
    e.to(EMBER_DTYPES[dtype])
    copy_weights(t, e)
    return t, e


def inputs(kind, dtype):
    shape = (4, 6) if kind == "linear" else (2, 3, 7, 7)
    x = torch.from_numpy(np.random.default_rng(1).standard_normal(shape)).to(TORCH_DTYPES[dtype])
    return x, to_ember(x)


def assert_same_mask(e_module, t_module, name):
    np.testing.assert_array_equal(np.asarray(getattr(e_module, name + "_mask")),
                                  getattr(t_module, name + "_mask").numpy())


def assert_same_training(e_module, t_module, kind, dtype):
    """Equal forward outputs and equal gradients of every parameter (``*_orig`` included)."""
    x_t, x_e = inputs(kind, dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    out_t, out_e = t_module(x_t), e_module(x_e)
    assert_close(out_e, out_t, **tol)
    (out_t ** 2).sum().backward()
    (out_e ** 2).sum().backward()
    t_params = dict(t_module.named_parameters())
    e_params = dict(e_module.named_parameters())
    assert list(e_params) == list(t_params)
    # float32 weight gradients sum hundreds of products in an order that depends on
    # torch's kernel choice for the CPU it runs on: a few ulps of the largest term
    grad_tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else tol
    for k in t_params:
        assert_close(e_params[k].grad, t_params[k].grad, **grad_tol)


def state_keys(module):
    return list(module.state_dict())


# ---------------------------------------------------------------- deterministic methods

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("amount", [0, 3, 0.3, 0.5, 1.0])
def test_l1_unstructured_matches_torch(kind, dtype, amount):
    t, e = pair(kind, dtype)
    assert tprune.l1_unstructured(t, "weight", amount=amount) is t
    assert prune.l1_unstructured(e, "weight", amount=amount) is e
    assert_same_mask(e, t, "weight")
    assert_close(e.weight, t.weight)
    assert getattr(e, "weight_mask").dtype == EMBER_DTYPES[dtype]
    assert state_keys(e) == state_keys(t) == ["bias", "weight_orig", "weight_mask"]
    assert "weight" not in dict(e.named_parameters())
    assert_same_training(e, t, kind, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 2, 3, math.inf, -math.inf, "fro"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_torch(n, dim, dtype):
    t, e = pair("conv", dtype)
    if n == "fro":      # a Frobenius norm over three dims is refused by both
        for lib, m in ((tprune, t), (prune, e)):
            with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
                lib.ln_structured(m, "weight", amount=0.5, n=n, dim=dim)
        # rolled back: weight is a parameter again (registered anew, so after bias)
        assert state_keys(e) == state_keys(t) == ["bias", "weight"]
        return
    tprune.ln_structured(t, "weight", amount=0.5, n=n, dim=dim)
    prune.ln_structured(e, "weight", amount=0.5, n=n, dim=dim)
    assert_same_mask(e, t, "weight")
    assert_same_training(e, t, "conv", dtype)


@pytest.mark.parametrize("n", [1, "fro"])
@pytest.mark.parametrize("amount", [0, 1, 2, 0.4])
def test_ln_structured_linear_amounts(amount, n):
    t, e = pair("linear")
    tprune.ln_structured(t, "weight", amount=amount, n=n, dim=0)
    prune.ln_structured(e, "weight", amount=amount, n=n, dim=0)
    assert_same_mask(e, t, "weight")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_custom_from_mask_matches_torch(dtype):
    t, e = pair("linear", dtype)
    mask = torch.from_numpy(np.random.default_rng(3).integers(0, 2, (5, 6)))
    tprune.custom_from_mask(t, "weight", mask=mask)
    prune.custom_from_mask(e, "weight", mask=to_ember(mask))
    assert_same_mask(e, t, "weight")
    assert e.weight_mask.dtype == EMBER_DTYPES[dtype]
    assert_same_training(e, t, "linear", dtype)


def test_identity_matches_torch():
    t, e = pair("linear")
    tprune.identity(t, "bias")
    prune.identity(e, "bias")
    assert_same_mask(e, t, "bias")
    assert state_keys(e) == state_keys(t) == ["weight", "bias_orig", "bias_mask"]
    assert_same_training(e, t, "linear", "float32")


@pytest.mark.parametrize("amount", [0.3, 25])
def test_global_unstructured_matches_torch(amount):
    (t1, e1), (t2, e2) = pair("linear", seed=0), pair("conv", seed=1)
    tprune.global_unstructured([(t1, "weight"), (t2, "weight"), (t1, "bias")],
                               tprune.L1Unstructured, amount=amount)
    prune.global_unstructured([(e1, "weight"), (e2, "weight"), (e1, "bias")],
                              prune.L1Unstructured, amount=amount)
    for em, tm, name in ((e1, t1, "weight"), (e2, t2, "weight"), (e1, t1, "bias")):
        assert_same_mask(em, tm, name)
    assert state_keys(e1) == state_keys(t1)
    assert_same_training(e1, t1, "linear", "float32")
    assert_same_training(e2, t2, "conv", "float32")


def test_global_unstructured_importance_scores_and_generator():
    """ember also takes a generator of (module, name) (torch reads its argument thrice)."""
    (t1, e1), (t2, e2) = pair("linear", seed=0), pair("linear", seed=1)
    scores = torch.from_numpy(np.random.default_rng(5).random((5, 6)).astype(np.float32))
    tprune.global_unstructured([(m, "weight") for m in (t1, t2)], tprune.L1Unstructured,
                               importance_scores={(t1, "weight"): scores}, amount=20)
    prune.global_unstructured(((m, "weight") for m in (e1, e2)), prune.L1Unstructured,
                              importance_scores={(e1, "weight"): to_ember(scores)}, amount=20)
    assert_same_mask(e1, t1, "weight")
    assert_same_mask(e2, t2, "weight")


def test_importance_scores_matches_torch():
    t, e = pair("conv")
    scores = torch.from_numpy(np.random.default_rng(4).standard_normal((4, 3, 3, 6)))[..., ::2]
    e_scores = ember.from_numpy(scores.numpy())
    assert not e_scores.is_contiguous()
    tprune.l1_unstructured(t, "weight", amount=40, importance_scores=scores)
    prune.l1_unstructured(e, "weight", amount=40, importance_scores=e_scores)
    assert_same_mask(e, t, "weight")
    t2, e2 = pair("conv")
    tprune.ln_structured(t2, "weight", amount=2, n=2, dim=0, importance_scores=scores)
    prune.ln_structured(e2, "weight", amount=2, n=2, dim=0, importance_scores=e_scores)
    assert_same_mask(e2, t2, "weight")


def test_l1_tie_choice_count():
    """With ties, the number pruned and the values pruned are PyTorch's; which of the
    tied entries go may differ (torch's topk leaves it unspecified)."""
    w = [[3.0, 1.0, 1.0], [2.0, -1.0, 0.0]]
    t, e = torch.nn.Linear(3, 2), nn.Linear(3, 2)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
    with ember.no_grad():
        e.weight.copy_(ember.tensor(w))
    tprune.l1_unstructured(t, "weight", amount=3)
    prune.l1_unstructured(e, "weight", amount=3)
    assert int((e.weight_mask == 0).sum()) == 3
    kept_e = sorted(np.abs(np.asarray(e.weight.detach())).ravel().tolist())
    kept_t = sorted(t.weight.detach().abs().numpy().ravel().tolist())
    assert kept_e == kept_t


# ---------------------------------------------------------------- iterative pruning

def test_iterative_pruning_matches_torch():
    t, e = pair("conv", "float64")
    steps = [("l1_unstructured", dict(amount=0.2)),
             ("ln_structured", dict(amount=1, n=2, dim=0)),
             ("l1_unstructured", dict(amount=10)),
             ("ln_structured", dict(amount=0.5, n=1, dim=1)),
             ("identity", {})]
    for fn, kwargs in steps:
        getattr(tprune, fn)(t, "weight", **kwargs)
        getattr(prune, fn)(e, "weight", **kwargs)
        assert_same_mask(e, t, "weight")
    hooks = [h for h in e._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    assert [type(m).__name__ for m in hooks[0]] == [
        "L1Unstructured", "LnStructured", "L1Unstructured", "LnStructured", "Identity"]
    assert len(hooks[0]) == 5 and isinstance(hooks[0][1], prune.LnStructured)
    mask = torch.from_numpy(np.random.default_rng(7).integers(0, 2, (4, 3, 3, 3)))
    tprune.custom_from_mask(t, "weight", mask)
    prune.custom_from_mask(e, "weight", to_ember(mask))
    assert_same_mask(e, t, "weight")
    tprune.l1_unstructured(t, "bias", amount=1)
    prune.l1_unstructured(e, "bias", amount=1)
    assert state_keys(e) == state_keys(t)
    assert_same_training(e, t, "conv", "float64")


def test_global_after_local_pruning_matches_torch():
    (t1, e1), (t2, e2) = pair("linear", seed=0), pair("linear", seed=1)
    tprune.l1_unstructured(t1, "weight", amount=10)
    prune.l1_unstructured(e1, "weight", amount=10)
    tprune.global_unstructured([(t1, "weight"), (t2, "weight")], tprune.L1Unstructured,
                               amount=0.5)
    prune.global_unstructured([(e1, "weight"), (e2, "weight")], prune.L1Unstructured,
                              amount=0.5)
    assert_same_mask(e1, t1, "weight")
    assert_same_mask(e2, t2, "weight")


def test_hook_recomputes_pruned_tensor():
    t, e = pair("linear")
    tprune.l1_unstructured(t, "weight", amount=0.5)
    prune.l1_unstructured(e, "weight", amount=0.5)
    with torch.no_grad():
        t.weight_orig.mul_(3)
    with ember.no_grad():
        e.weight_orig.mul_(3)
    assert_same_training(e, t, "linear", "float32")
    assert_close(e.weight, t.weight)


# ---------------------------------------------------------------- remove, is_pruned

@pytest.mark.parametrize("iterative", [False, True])
def test_remove_matches_torch(iterative):
    t, e = pair("conv")
    for _ in range(2 if iterative else 1):
        tprune.ln_structured(t, "weight", amount=1, n=1, dim=0)
        prune.ln_structured(e, "weight", amount=1, n=1, dim=0)
    assert prune.is_pruned(e) and tprune.is_pruned(t)
    assert tprune.remove(t, "weight") is t
    assert prune.remove(e, "weight") is e
    assert state_keys(e) == state_keys(t) == ["bias", "weight"]
    assert isinstance(e.weight, nn.Parameter) and e.weight.is_leaf
    assert not e._forward_pre_hooks
    assert not prune.is_pruned(e)
    assert_close(e.weight, t.weight)
    assert_same_training(e, t, "conv", "float32")


def test_is_pruned_looks_into_submodules():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    assert not prune.is_pruned(net)
    prune.random_unstructured(net[1][1], "bias", amount=1)
    assert prune.is_pruned(net)


def test_prune_method_without_module():
    w = ember.from_numpy(np.random.default_rng(2).standard_normal((4, 5)))
    tw = torch.from_numpy(w.numpy())
    out = prune.L1Unstructured(amount=7).prune(w)
    expected = tprune.L1Unstructured(amount=7).prune(tw)
    assert_close(out, expected, rtol=0, atol=0)
    scores = ember.from_numpy(np.random.default_rng(3).random((4, 5)))
    out = prune.LnStructured(2, n=2, dim=1).prune(w, importance_scores=scores)
    expected = tprune.LnStructured(2, n=2, dim=1).prune(
        tw, importance_scores=torch.from_numpy(scores.numpy()))
    assert_close(out, expected, rtol=0, atol=0)


def test_gradcheck_through_mask():
    """The pruned tensor is ``mask * orig``: its gradient is the mask."""
    w = ember.from_numpy(np.random.default_rng(6).standard_normal((3, 4))).requires_grad_()
    method = prune.L1Unstructured(amount=5)
    assert gradcheck(lambda x: method.prune(x, importance_scores=w.detach()), (w,))
    m = nn.Linear(4, 3).double()
    prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
    x = ember.from_numpy(np.random.default_rng(8).standard_normal((2, 4)))
    x.requires_grad_()

    def f(orig, x):
        return nn.functional.linear(x, m.weight_mask * orig, m.bias)

    assert gradcheck(f, (m.weight_orig.detach().clone().requires_grad_(), x))


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_empty_tensor():
    t, e = torch.nn.Linear(0, 3), nn.Linear(0, 3)
    tprune.l1_unstructured(t, "weight", amount=0.5)
    prune.l1_unstructured(e, "weight", amount=0.5)
    assert tuple(e.weight_mask.shape) == (3, 0)
    assert state_keys(e) == state_keys(t)


# ---------------------------------------------------------------- random methods

@pytest.mark.parametrize("amount,expected", [(0, 0), (7, 7), (0.25, 8), (0.5, 15), (1.0, 30)])
def test_random_unstructured_count(amount, expected):
    m = prune.random_unstructured(nn.Linear(6, 5), "weight", amount=amount)
    assert int((m.weight_mask == 0).sum()) == expected
    assert bool((m.weight == m.weight_mask * m.weight_orig).all())
    # a second round prunes among the entries left
    prune.random_unstructured(m, "weight", amount=0.5)
    left = 30 - expected
    assert int((m.weight_mask == 0).sum()) == expected + round(0.5 * left)


@pytest.mark.parametrize("dim,amount,expected", [(0, 2, 2), (1, 0.5, 3), (-1, 1, 1), (0, 0, 0)])
def test_random_structured_count(dim, amount, expected):
    m = prune.random_structured(nn.Linear(6, 5), "weight", amount=amount, dim=dim)
    other = 1 if dim == 0 else 0
    pruned = (m.weight_mask.sum(dim=other) == 0)
    assert int(pruned.sum()) == expected
    # whole channels: every other entry of a kept channel is 1
    assert int(m.weight_mask.sum()) == (m.weight_mask.shape[dim] - expected) * \
        m.weight_mask.shape[other]


def test_random_structured_after_unstructured_keeps_old_mask():
    m = prune.custom_from_mask(nn.Linear(4, 3), "weight",
                               mask=ember.tensor([[0, 1, 1, 1]] * 3))
    prune.random_structured(m, "weight", amount=1, dim=0)
    mask = m.weight_mask
    assert int((mask.sum(dim=1) == 0).sum()) == 1
    assert bool((mask[:, 0] == 0).all())


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("amount,exc", [("0.5", TypeError), (None, TypeError),
                                        (-1, ValueError), (1.5, ValueError), (-0.1, ValueError)])
def test_bad_amount(amount, exc):
    for lib, module in ((tprune, torch.nn.Linear(3, 2)), (prune, nn.Linear(3, 2))):
        with pytest.raises(exc) as info:
            lib.l1_unstructured(module, "weight", amount=amount)
        assert "amount" in str(info.value)


def test_errors_match_torch():
    cases = [
        (lambda lib, m: lib.l1_unstructured(m, "weight", amount=7), ValueError),
        (lambda lib, m: lib.ln_structured(m, "bias", amount=1, n=2, dim=0), ValueError),
        (lambda lib, m: lib.ln_structured(m, "weight", amount=1, n=2, dim=2), IndexError),
        (lambda lib, m: lib.random_structured(m, "weight", amount=4, dim=0), ValueError),
        (lambda lib, m: lib.remove(m, "weight"), ValueError),
        (lambda lib, m: lib.global_unstructured(3, lib.L1Unstructured, amount=1), TypeError),
        (lambda lib, m: lib.global_unstructured([(m, "weight")], lib.L1Unstructured,
                                                importance_scores=[1], amount=1), TypeError),
        (lambda lib, m: lib.global_unstructured([(m, "weight")], lib.LnStructured,
                                                amount=1, n=2), TypeError),
        (lambda lib, m: lib.CustomFromMask.apply(m, "weight", mask=ones(lib, 2, 3)),
         AssertionError),
        (lambda lib, m: lib.l1_unstructured(m, "weight", amount=1,
                                            importance_scores=ones(lib, 3)), AssertionError),
    ]
    for case, exc in cases:
        module_t, module_e = torch.nn.Linear(2, 3), nn.Linear(2, 3)
        with pytest.raises(exc) as info_t:
            case(tprune, module_t)
        with pytest.raises(exc) as info_e:
            case(prune, module_e)
        assert str(info_e.value).replace("ember", "torch").split(" of ")[0] == \
            str(info_t.value).split(" of ")[0]
        # a failed first pruning leaves the module as it was
        assert state_keys(module_e) == state_keys(module_t)
        assert sorted(state_keys(module_e)) == ["bias", "weight"]
        assert not prune.is_pruned(module_e)


def ones(lib, *shape):
    return (torch if lib is tprune else ember).ones(*shape)


def test_container_rejects_other_names_and_types():
    a = prune.L1Unstructured(amount=1)
    a._tensor_name = "weight"
    b = prune.L1Unstructured(amount=1)
    b._tensor_name = "bias"
    container = prune.PruningContainer(a)
    with pytest.raises(ValueError, match="named 'weight'"):
        container.add_pruning_method(b)
    with pytest.raises(TypeError, match="is not a BasePruningMethod"):
        container.add_pruning_method(3)
    with pytest.raises(TypeError):
        prune.BasePruningMethod()


def test_state_dict_from_torch_and_deepcopy():
    """A pruned torch state_dict loads into an ember module pruned the same way (the
    mask comes with it), and a deep copy keeps pruning by its own hook."""
    import copy
    t, e = pair("linear")
    tprune.random_unstructured(t, "weight", amount=0.4)
    prune.identity(e, "weight")
    e.load_state_dict({k: to_ember(v) for k, v in t.state_dict().items()})
    assert_same_mask(e, t, "weight")
    assert_same_training(e, t, "linear", "float32")
    c = copy.deepcopy(e)
    with ember.no_grad():
        c.weight_mask.fill_(0)
    x = ember.ones(1, 6)
    assert bool((c(x) == c.bias).all())
    assert not bool((e(x) == e.bias).all())
