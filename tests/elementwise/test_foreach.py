"""The _foreach_* list functions against PyTorch's."""
import numpy as np
import pytest
import torch

import ember
from ember.ops.foreach import _BINARY, _UNARY

SHAPES = [(3, 2), (4,), (), (0, 3)]


def lists(seed=0, positive=False, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(0.2, 0.9, s) if positive else rng.normal(size=s) for s in shapes]
    return ([ember.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays])


def same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape) and str(g.dtype)[6:] == str(w.dtype)[6:]
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)


def both(name, make_args, positive=False, **kwargs):
    """``_foreach_<name>`` and its in-place form on ember and torch: same results, the
    in-place form returns the list given."""
    (e, t), (ea, ta) = lists(0, positive), make_args()
    same(getattr(ember, f"_foreach_{name}")(e, *ea, **kwargs),
         getattr(torch, f"_foreach_{name}")(t, *ta, **kwargs))
    if hasattr(torch, f"_foreach_{name}_"):
        assert getattr(ember, f"_foreach_{name}_")(e, *ea, **kwargs) is e
        getattr(torch, f"_foreach_{name}_")(t, *ta, **kwargs)
        same(e, t)


def test_every_torch_foreach_function_exists():
    missing = [n for n in dir(torch) if n.startswith("_foreach_") and not hasattr(ember, n)]
    assert missing == ["_foreach_mm", "_foreach_powsum"]


@pytest.mark.parametrize("name", _UNARY)
def test_unary(name):
    both(name, lambda: ((), ()), positive=name in ("acos", "asin", "log", "log10", "log2",
                                                   "rsqrt", "sqrt", "lgamma"))


@pytest.mark.parametrize("name", _BINARY + ("maximum", "minimum"))
@pytest.mark.parametrize("form", ["scalar", "scalar_list", "tensor_list", "tensor"])
def test_binary(name, form):
    e, t = lists(1, positive=True)
    args = {"scalar": lambda: ((0.5,), (0.5,)),
            "scalar_list": lambda: (([0.5, 2.0, -1.0, 3.0],), ([0.5, 2.0, -1.0, 3.0],)),
            "tensor_list": lambda: ((e,), (t,)),
            "tensor": lambda: ((ember.tensor(2.0, dtype=ember.float64),),
                               (torch.tensor(2.0, dtype=torch.float64),))}[form]
    both(name, args, positive=True)


def test_add_and_sub_alpha():
    e, t = lists(1)
    both("add", lambda: ((e,), (t,)), alpha=-2)
    both("sub", lambda: ((e,), (t,)), alpha=0.5)


@pytest.mark.parametrize("weight", ["scalar", "scalar_list", "tensor_list"])
def test_lerp(weight):
    e, t = lists(2)
    args = {"scalar": lambda: ((e, 0.1), (t, 0.1)),
            "scalar_list": lambda: ((e, [0.1, 0.2, 0.3, 0.4]), (t, [0.1, 0.2, 0.3, 0.4])),
            "tensor_list": lambda: ((e, lists(3, True)[0]), (t, lists(3, True)[1]))}[weight]
    both("lerp", args)


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", [None, 0.5, [1.0, 2.0, 3.0, 4.0], "tensor"])
def test_addcmul_addcdiv(name, value):
    (e1, t1), (e2, t2) = lists(4), lists(5, positive=True)
    if value is None:
        both(name, lambda: ((e1, e2), (t1, t2)))
    elif value == "tensor":
        both(name, lambda: ((e1, e2, ember.tensor([1.0, 2.0, 3.0, 4.0])),
                            (t1, t2, torch.tensor([1.0, 2.0, 3.0, 4.0]))))
    else:
        both(name, lambda: ((e1, e2, value), (t1, t2, value)))


def test_norm_max_clone_copy_zero_and_scalar_pow():
    e, t = lists(6, shapes=[(3, 2), (4,), ()])
    for ord in (2, 1, float("inf")):
        same(ember._foreach_norm(e, ord), torch._foreach_norm(t, ord))
    same(ember._foreach_max(e), torch._foreach_max(t))
    same(ember._foreach_pow(2.0, e), torch._foreach_pow(2.0, t))
    clones = ember._foreach_clone(e)
    assert clones[0] is not e[0]
    same(clones, e)
    source_e, source_t = lists(7, shapes=[(3, 2), (4,), ()])
    assert ember._foreach_copy_(e, source_e) is e
    same(e, source_t)
    assert ember._foreach_zero_(e) is e
    same(e, torch._foreach_zero_(t))


def test_an_ema_update_matches_torch():
    # timm's ModelEmaV3 / diffusers' EMAModel update, on parameters under no_grad
    (e, t), (me, mt) = lists(8), lists(9)
    with ember.no_grad():
        ember._foreach_lerp_(e, me, 1 - 0.99)
        ember._foreach_mul_(e, 0.99)
        ember._foreach_add_(e, me, alpha=0.01)
        ember._foreach_sub_(e, ember._foreach_sub(e, me), alpha=0.1)
    torch._foreach_lerp_(t, mt, 1 - 0.99)
    torch._foreach_mul_(t, 0.99)
    torch._foreach_add_(t, mt, alpha=0.01)
    torch._foreach_sub_(t, torch._foreach_sub(t, mt), alpha=0.1)
    same(e, t)


def test_gradients_flow_through_each_tensor():
    (e, t), (oe, ot) = lists(10, shapes=[(3,), (2, 2)]), lists(11, shapes=[(3,), (2, 2)])
    for x in e + t:
        x.requires_grad_()
    for lib, xs, others in ((ember, e, oe), (torch, t, ot)):
        ys = [x * 1 for x in xs]
        lib._foreach_maximum_(ys, others)
        lib._foreach_mul_(ys, others)
        sum(y.sum() for y in lib._foreach_exp(ys)).backward()
    same([x.grad for x in e], [x.grad for x in t])


def test_errors_match_torch():
    e, t = lists(12)
    cases = [lambda lib, xs: lib._foreach_add([], 1.0),
             lambda lib, xs: lib._foreach_add(xs, [1.0]),
             lambda lib, xs: lib._foreach_add(xs, xs[:2]),
             lambda lib, xs: lib._foreach_lerp_(xs, xs[:1], 0.5)]
    for case in cases:
        with pytest.raises(RuntimeError) as want:
            case(torch, t)
        with pytest.raises(RuntimeError, match=str(want.value).split(",")[0]):
            case(ember, e)
