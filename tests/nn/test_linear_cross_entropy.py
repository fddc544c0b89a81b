"""F.linear_cross_entropy and nn.LinearCrossEntropyOptions against torch: the reference
path (class indices, probabilities, K-dimensional loss, class weights, ignore_index,
label smoothing), the chunked path (values, gradients, chunk sizes, memory), and errors."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from ember.nn._functional import linear_cross_entropy as lce_module
from functional_oracle import Const, compare

rng = np.random.default_rng(17)
N, D, C = 13, 5, 7


def arr(*shape):
    return rng.standard_normal(shape)


def labels(*shape, ignored=()):
    t = rng.integers(0, C, shape)
    t.reshape(-1)[list(ignored)] = -100
    return t


def options(lib, **kwargs):
    return None if kwargs.get("off") else lib.nn.LinearCrossEntropyOptions(**kwargs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_reference_class_indices(reduction, dtype):
    target = labels(N, ignored=(2, 5))
    compare(lambda F, lib, x, w, b: F.linear_cross_entropy(x, w, lib.tensor(target),
                                                           linear_bias=b, reduction=reduction),
            arr(N, D), arr(C, D), arr(C), dtype=dtype)
    # class weights, an explicit ignore_index, label smoothing, a transposed input
    target = labels(N)
    compare(lambda F, lib, x, w, cw: F.linear_cross_entropy(
                x.t(), w, lib.tensor(target), weight=cw, reduction=reduction,
                ignore_index=3, label_smoothing=0.2),
            arr(D, N), arr(C, D), Const(rng.random(C)), dtype=dtype)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_reference_probabilities_k_dimensional_and_unbatched(reduction):
    probs = rng.random((N, C))
    probs /= probs.sum(1, keepdims=True)
    compare(lambda F, lib, x, w, p: F.linear_cross_entropy(x, w, p, reduction=reduction),
            arr(N, D), arr(C, D), Const(probs))
    # K-dimensional: linear_weight (C, 3, D), logits (N, C, 3)
    target = labels(N, 3)
    compare(lambda F, lib, x, w, b: F.linear_cross_entropy(
                x, w, lib.tensor(target), linear_bias=b, reduction=reduction),
            arr(N, D), arr(C, 3, D), arr(C, 3))
    # unbatched input and a 0-d target
    compare(lambda F, lib, x, w: F.linear_cross_entropy(x, w, lib.tensor(4), reduction=reduction),
            arr(D), arr(C, D))


def test_reference_gradcheck_and_empty_batch():
    x = ember.tensor(arr(4, D), requires_grad=True)
    w = ember.tensor(arr(C, D), requires_grad=True)
    target = ember.tensor(labels(4, ignored=(1,)))
    assert gradcheck(lambda x, w: F.linear_cross_entropy(x, w, target, label_smoothing=0.1),
                     (x, w))
    out = F.linear_cross_entropy(ember.zeros(0, D), ember.zeros(C, D),
                                 ember.zeros(0, dtype=ember.int64), reduction="none")
    assert out.shape == (0,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", [dict(), dict(batch_chunk_size=4), dict(batch_chunk_size=1),
                                  dict(chunking_method="aspect_ratio"),
                                  dict(chunking_method=None, batch_chunk_size=100)])
def test_chunked_matches_torch(opts, reduction, dtype):
    target = labels(N, ignored=(0, 6))
    compare(lambda F, lib, x, w, b, cw: F.linear_cross_entropy(
                x, w, lib.tensor(target), linear_bias=b, weight=cw, reduction=reduction,
                options=options(lib, **opts)),
            arr(N, D), arr(C, D), arr(C), Const(rng.random(C)), dtype=dtype)


def test_chunked_unbatched_all_ignored_and_gradcheck():
    compare(lambda F, lib, x, w: F.linear_cross_entropy(x, w, lib.tensor(2), reduction="none",
                                                        options=options(lib)),
            arr(D), arr(C, D))
    # every target ignored: the mean is 0/0, as in PyTorch
    compare(lambda F, lib, x, w: F.linear_cross_entropy(x, w, lib.tensor([-100, -100]),
                                                        options=options(lib)),
            arr(2, D), arr(C, D))
    x = ember.tensor(arr(6, D), requires_grad=True)
    w = ember.tensor(arr(C, D), requires_grad=True)
    b = ember.tensor(arr(C), requires_grad=True)
    target = ember.tensor(labels(6, ignored=(4,)))
    for reduction in ("mean", "sum", "none"):
        opts = ember.nn.LinearCrossEntropyOptions(batch_chunk_size=4)
        assert gradcheck(lambda x, w, b: F.linear_cross_entropy(
            x, w, target, linear_bias=b, reduction=reduction, options=opts), (x, w, b))


def test_chunked_never_holds_the_whole_logits(monkeypatch):
    seen = []
    linear = lce_module.linear

    def spy(x, w, b=None):
        seen.append(x.shape[0])
        return linear(x, w, b)
    monkeypatch.setattr(lce_module, "linear", spy)
    x = ember.tensor(arr(64, D), requires_grad=True)
    opts = ember.nn.LinearCrossEntropyOptions(batch_chunk_size=8)
    loss = F.linear_cross_entropy(x, ember.tensor(arr(C, D)), ember.tensor(labels(64)),
                                  options=opts)
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    loss.backward()                 # a second backward works: each chunk is recomputed
    np.testing.assert_allclose(np.asarray(x.grad), 2 * np.asarray(first))
    assert seen and max(seen) == 8 and sum(seen) == 3 * 64


def test_chunked_acc_dtype_keeps_the_input_dtype():
    x, w, t = arr(N, D), arr(C, D), labels(N)
    opts = ember.nn.LinearCrossEntropyOptions(acc_dtype=ember.float64)
    out = F.linear_cross_entropy(ember.tensor(x, dtype=ember.float32),
                                 ember.tensor(w, dtype=ember.float32), ember.tensor(t),
                                 options=opts)
    assert out.dtype == ember.float32
    ref = TF.cross_entropy(torch.tensor(x) @ torch.tensor(w).T, torch.tensor(t))
    np.testing.assert_allclose(float(out), float(ref), rtol=1e-6)


def test_unsupported_options_fall_back_with_a_warning():
    x, w, t = arr(N, D), arr(C, D), labels(N)
    for lib, functional in ((torch, TF), (ember, F)):
        with pytest.warns(UserWarning, match="``options`` ignored"):
            out = functional.linear_cross_entropy(lib.tensor(x), lib.tensor(w), lib.tensor(t),
                                                  label_smoothing=0.1, options=options(lib))
        expected = TF.cross_entropy(torch.tensor(x) @ torch.tensor(w).T, torch.tensor(t),
                                    label_smoothing=0.1)
        np.testing.assert_allclose(float(out), float(expected), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(acc_policy="fast"), dict(chunking_method="rows"),
                                    dict(chunking_method="aspect_ratio:0"),
                                    dict(batch_chunk_size=0), dict(batch_chunk_size=2.0),
                                    dict(acc_dtype="int64")])
def test_options_validation(kwargs):
    def convert(lib):
        return {k: getattr(lib, v) if k == "acc_dtype" else v for k, v in kwargs.items()}
    with pytest.raises(ValueError):
        torch.nn.LinearCrossEntropyOptions(**convert(torch))
    with pytest.raises(ValueError):
        ember.nn.LinearCrossEntropyOptions(**convert(ember))


def test_options_are_a_frozen_dataclass_with_torch_fields():
    o = ember.nn.LinearCrossEntropyOptions()
    t = torch.nn.LinearCrossEntropyOptions()
    assert repr(o) == repr(t).replace("torch", "ember")
    with pytest.raises(AttributeError):
        o.batch_chunk_size = 3
    # an explicit size and a method that disagree
    for lib, functional in ((torch, TF), (ember, F)):
        opts = lib.nn.LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio")
        with pytest.raises(ValueError, match="give different chunk sizes"):
            functional.linear_cross_entropy(lib.zeros(N, D), lib.zeros(C, D),
                                            lib.zeros(N, dtype=lib.int64), options=opts)


@pytest.mark.parametrize("case", [
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, 3, D), lib.zeros(C, D), lib.zeros(2, 3, dtype=lib.int64)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, D), lib.zeros(D), lib.zeros(2, dtype=lib.int64)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, D), lib.zeros(C, D + 1), lib.zeros(2, dtype=lib.int64)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, D), lib.zeros(C, D), lib.zeros(2, dtype=lib.int64),
                                          linear_bias=lib.zeros(C + 1)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(D), lib.zeros(C, 3, D), lib.zeros(3, dtype=lib.int64)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, D), lib.zeros(C, D), lib.zeros(2, C), ignore_index=1),
], ids=["3d-input", "1d-weight", "in-features", "bias-shape", "k-dim-unbatched", "ignore-probs"])
def test_errors_match_torch(case):
    with pytest.raises(RuntimeError) as expected:
        case(TF, torch)
    with pytest.raises(RuntimeError) as got:
        case(F, ember)
    assert str(got.value) == str(expected.value)


def test_chunked_target_errors():
    opts = ember.nn.LinearCrossEntropyOptions()
    x, w = ember.zeros(3, D), ember.zeros(C, D)
    with pytest.raises(IndexError, match="Target 9 is out of bounds"):
        F.linear_cross_entropy(x, w, ember.tensor([0, 9, 1]), options=opts)
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(2\)"):
        F.linear_cross_entropy(x, w, ember.tensor([0, 1]), options=opts)
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.linear_cross_entropy(x, w, ember.tensor([0, 1, 2]), weight=ember.ones(3), options=opts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a supported call does not warn
        F.linear_cross_entropy(x, w, ember.tensor([0, 1, 2]), options=opts)


@pytest.mark.parametrize("out_features,bias", [((), False), ((), True), ((3,), True)])
def test_module_matches_torch(out_features, bias):
    cw = rng.random(C)
    t_loss = torch.nn.LinearCrossEntropyLoss(D, C, out_features=out_features, bias=bias,
                                             dtype=torch.float64, weight=torch.tensor(cw),
                                             ignore_index=1)
    e_loss = ember.nn.LinearCrossEntropyLoss(D, C, out_features=out_features, bias=bias,
                                             dtype=ember.float64, weight=ember.tensor(cw),
                                             ignore_index=1)
    state = {k: ember.tensor(v.detach().numpy()) for k, v in t_loss.state_dict().items()}
    e_loss.load_state_dict(state)
    assert sorted(e_loss.state_dict()) == sorted(t_loss.state_dict())
    assert repr(e_loss) == repr(t_loss)
    x, target = arr(N, D), labels(N, *out_features)
    out_e = e_loss(ember.tensor(x), ember.tensor(target))
    out_t = t_loss(torch.tensor(x), torch.tensor(target))
    np.testing.assert_allclose(float(out_e.detach()), float(out_t.detach()), rtol=1e-12)
    out_e.backward()
    out_t.backward()
    np.testing.assert_allclose(np.asarray(e_loss.linear.weight.grad),
                               t_loss.linear.weight.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_module_argument_errors():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="expected weight shape"):
            lib.nn.LinearCrossEntropyLoss(D, C, weight=lib.ones(C + 1))
        with pytest.raises(RuntimeError, match="label_smoothing to be in range"):
            lib.nn.LinearCrossEntropyLoss(D, C, label_smoothing=1.5)
