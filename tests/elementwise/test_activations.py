"""The fused activation kernels and their fused backward kernels, against PyTorch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from core_oracle import check_out_like_torch, compare_outcomes
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

# (name, keyword parameters): each is F.<name> in both libraries
ACTIVATIONS = [("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
               ("celu", {"alpha": 1.3}), ("selu", {}), ("hardsigmoid", {}), ("hardswish", {}),
               ("mish", {}), ("softsign", {}), ("tanhshrink", {}),
               ("threshold", {"threshold": 0.25, "value": -2.0}), ("hardshrink", {"lambd": 0.4}),
               ("softshrink", {"lambd": 0.4})]
IDS = [name for name, _ in ACTIVATIONS]
# the kinks (0, +-3, +-lambd, the threshold) and values around them
POINTS = np.array([-3.0, 3.0, 0.0, 0.4, -0.4, 0.25, -30.0, 30.0, 1.7, -0.9, 2.9, -2.9])


def _call(lib, name, kwargs, x):
    fn = getattr(torch.nn.functional if lib is torch else F, name)
    return fn(x, **kwargs)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=IDS)
def test_values_match_torch(name, kwargs, dtype):
    data = np.concatenate([POINTS, np.random.default_rng(1).uniform(-5, 5, 20)]).reshape(4, 8)
    t = torch.tensor(data).to(getattr(torch, dtype))
    e = ember.tensor(data).to(getattr(ember, dtype))
    for view in (lambda a: a, lambda a: a.t(), lambda a: a[:, ::-1] if isinstance(a, ember.Tensor)
                 else a.flip(1), lambda a: a[:1].expand(3, 8), lambda a: a[:0], lambda a: a[1, 2]):
        compare_outcomes(_call(ember, name, kwargs, view(e)), _call(torch, name, kwargs, view(t)),
                         dtype)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=IDS)
def test_grads_match_torch(name, kwargs, layout):
    x = np.concatenate([POINTS, np.random.default_rng(2).uniform(-4, 4, 12)]).reshape(4, 6)
    assert_grads_match_torch(lambda lib, a: _call(lib, name, kwargs, a), x,
                             layout=LAYOUTS[layout], rtol=1e-6)


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=IDS)
def test_gradcheck_and_gradgradcheck(name, kwargs):
    # away from the kinks, where finite differences are meaningful
    x = np.random.default_rng(3).choice([-1, 1], 12) * np.random.default_rng(4).uniform(0.6, 2.7, 12)
    check_gradients(lambda lib, a: _call(lib, name, kwargs, a), x.reshape(3, 4))


def test_double_backward_matches_torch():
    x = np.random.default_rng(5).uniform(-4, 4, 10)
    for name, kwargs in ACTIVATIONS:
        if name == "hardsigmoid":
            continue  # torch has no double backward for it (ember's is 0, the exact value)
        grads = []
        for lib in (ember, torch):
            a = lib.tensor(x, requires_grad=True)
            (g,) = lib.autograd.grad(_call(lib, name, kwargs, a).sum(), a, create_graph=True)
            (gg,) = lib.autograd.grad((g * g).sum(), a)
            grads.append(np.asarray(gg.detach()))
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=IDS)
def test_inplace_forms(name, kwargs):
    if name not in ("leaky_relu", "elu", "celu", "selu", "hardsigmoid", "hardswish", "mish",
                    "threshold"):
        return
    x = np.random.default_rng(6).uniform(-4, 4, (3, 4))
    e, t = ember.tensor(x), torch.tensor(x)
    out = getattr(F, name)(e, **kwargs, inplace=True)
    assert out is e
    compare_outcomes(e, getattr(torch.nn.functional, name)(t, **kwargs), "float64")


def test_top_level_names_as_torch():
    for name in ("selu", "selu_", "celu", "celu_", "threshold", "threshold_", "hardshrink"):
        assert hasattr(torch, name) and hasattr(ember, name), name
    for name in ("elu", "leaky_relu", "mish", "softsign", "softshrink", "hardswish"):
        assert hasattr(ember, name) == hasattr(torch, name), name
    x = np.array([-1.0, 0.1, 2.0])
    compare_outcomes(ember.threshold(ember.tensor(x), 0.5, 7.0),
                     torch.threshold(torch.tensor(x), 0.5, 7.0), "float64")
    compare_outcomes(ember.tensor(x).hardshrink(0.5), torch.tensor(x).hardshrink(0.5), "float64")
    e, t = ember.tensor(x), torch.tensor(x)
    ember.celu_(e, 0.5)
    torch.celu_(t, 0.5)
    compare_outcomes(e, t, "float64")
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        ember.celu(ember.tensor(x), 0.0)
    for fn in (F.elu, F.leaky_relu, F.hardshrink, F.softshrink, F.celu, F.mish, ember.celu):
        with pytest.raises(NotImplementedError):
            fn(ember.tensor([1, 2]))  # integer input, as torch


@pytest.mark.parametrize("dtype, threshold, value", [
    ("int32", -0.5, 9), ("int32", 1.5, 9.7), ("int64", 0.9, -1), ("int16", 1, 3),
    ("uint8", 0.9, 7.5), ("int8", 2.7, -3)])
def test_threshold_integer_input_keeps_its_dtype(dtype, threshold, value):
    # PyTorch converts both scalars to the input's dtype (truncating) before comparing
    x = np.array([-1, 0, 1, 2, 5]).astype(dtype)
    for fn in (lambda lib, a: lib.threshold(a, threshold, value),
               lambda lib, a: lib.nn.functional.threshold(a, threshold, value)):
        compare_outcomes(fn(ember, ember.tensor(x)), fn(torch, torch.tensor(x)), dtype)
    e, t = ember.tensor(x), torch.tensor(x)
    assert ember.threshold_(e, threshold, value) is e
    torch.threshold_(t, threshold, value)
    compare_outcomes(e, t, dtype)
    with pytest.raises(NotImplementedError, match="threshold_cpu"):
        ember.threshold(ember.tensor([True, False]), 0, 1)
    for bad in ((1, -1000), (1000, 1), (1.5, 200), (-200.5, 3)):    # do not fit int8
        with pytest.raises(RuntimeError, match="without overflow"):
            ember.threshold(ember.tensor([1, 2], dtype=ember.int8), *bad)


def test_inplace_forms_refuse_a_wider_result_dtype():
    # computed out of place then copied back: the cast check ew_ makes still applies
    x = ember.tensor([1, 2], dtype=ember.int32)
    for call in (lambda: x.clone().logit_(0.1), lambda: x.bool().logit_(0.1),
                 lambda: x.clone().addcdiv_(ember.ones(2), ember.ones(2))):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                               "output type (Int|Bool)"):
            call()
    h = ember.tensor([1.0, -2.0], dtype=ember.float16)
    assert ember.selu_(h) is h and h.dtype == ember.float16


_OUT_X = np.random.default_rng(19).standard_normal((3, 4))


@pytest.mark.parametrize("name", ["hardshrink", "threshold", "threshold_int"])
def test_top_level_out(name):
    # torch.hardshrink (torch.nn.functional's too) and torch.threshold take out=:
    # hardshrink an out of the result's dtype, threshold any dtype the result casts to
    call, array = {
        "hardshrink": (lambda L, a, **kw: L.hardshrink(a, 0.4, **kw), _OUT_X),
        "threshold": (lambda L, a, **kw: L.threshold(a, 0.1, -2.0, **kw), _OUT_X),
        "threshold_int": (lambda L, a, **kw: L.threshold(a, 1, 7, **kw),
                          (_OUT_X * 3).astype(np.int64)),
    }[name]
    check_out_like_torch(call, array)
    if name == "hardshrink":
        check_out_like_torch(lambda L, a, **kw: L.nn.functional.hardshrink(a, 0.4, **kw), array)


def test_functional_threshold_takes_no_out():
    # torch.nn.functional.threshold is a Python function without out= (unlike torch.threshold)
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            lib.nn.functional.threshold(lib.ones(2), 0.5, 0.0, out=lib.empty(2))
