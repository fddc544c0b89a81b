"""ember.utils.checkpoint against torch.utils.checkpoint and against running without
checkpointing: gradients, dropout replay, freed intermediates, variants' rules."""
import warnings
import weakref

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcheckpoint

import ember
from ember.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

VARIANTS = [True, False]


def _mlp(lib, dtype, p=0.5):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Dropout(p),
                             lib.nn.Linear(8, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3)).to(dtype)


def _pair(dtype_name, p=0.5):
    ours = _mlp(ember, getattr(ember, dtype_name), p)
    theirs = _mlp(torch, getattr(torch, dtype_name), p)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        a.data = ember.tensor(b.detach().numpy())
    return ours, theirs


def _grads(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mlp_gradients_match_torch(use_reentrant, dtype):
    # without dropout the two libraries draw nothing: the gradients must agree
    ours, theirs = _pair(dtype, p=0.0)
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(dtype)
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    checkpoint(ours, ex, use_reentrant=use_reentrant).pow(2).sum().backward()
    tcheckpoint.checkpoint(theirs, tx, use_reentrant=use_reentrant).pow(2).sum().backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_dropout_mask_replayed(use_reentrant):
    model, _ = _pair("float64")
    x = np.random.default_rng(2).standard_normal((16, 4))
    ember.manual_seed(7)
    ex = ember.tensor(x, requires_grad=True)
    out = checkpoint(model, ex, use_reentrant=use_reentrant)
    after_forward = ember.get_rng_state()
    out.sum().backward()
    # the recomputation does not move the outer stream
    assert bool((ember.get_rng_state() == after_forward).all())
    got_x, got_w = ex.grad.numpy(), _grads(model)
    model.zero_grad()
    ember.manual_seed(7)
    ex2 = ember.tensor(x, requires_grad=True)
    model(ex2).sum().backward()
    np.testing.assert_array_equal(got_x, ex2.grad.numpy())
    for a, b in zip(got_w, _grads(model)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_without_preserving_rng_the_mask_differs(use_reentrant):
    model, _ = _pair("float64")
    x = ember.randn(64, 4, dtype=ember.float64, requires_grad=True)
    ember.manual_seed(7)
    checkpoint(model, x, use_reentrant=use_reentrant, preserve_rng_state=False).sum().backward()
    got = x.grad.numpy().copy()
    x.grad = None
    ember.manual_seed(7)
    model(x).sum().backward()
    assert not np.array_equal(got, x.grad.numpy())


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_intermediates_are_not_kept(use_reentrant):
    refs = []

    def f(a):
        h = a.exp()
        refs.append(weakref.ref(h))
        return h.sin()

    a = ember.randn(5, dtype=ember.float64, requires_grad=True)
    out = checkpoint(f, a, use_reentrant=use_reentrant)
    assert refs[0]() is None
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), (a.exp().cos() * a.exp()).detach().numpy())
    # without checkpointing the graph keeps it alive
    refs.clear()
    out = f(a)
    assert refs[0]() is not None


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_non_tensor_args_and_tuple_outputs(use_reentrant):
    def f(a, scale, b, name):
        assert name == "x"
        return a * b * scale, (a + b).sum(), "tag"

    a = ember.randn(3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, dtype=ember.float64)        # does not require grad
    o1, o2, tag = checkpoint(f, a, 2.0, b, "x", use_reentrant=use_reentrant)
    assert tag == "tag" and not b.requires_grad
    (o1.sum() + o2).backward()
    np.testing.assert_allclose(a.grad.numpy(), (2 * b + 1).numpy())
    assert b.grad is None


def test_keyword_arguments_non_reentrant():
    def f(a, *, b, scale=1.0):
        return (a * b * scale).sum()

    a = ember.randn(3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, dtype=ember.float64, requires_grad=True)
    checkpoint(f, a, b=b, scale=3.0, use_reentrant=False).backward()
    np.testing.assert_allclose(a.grad.numpy(), 3 * b.detach().numpy())
    np.testing.assert_allclose(b.grad.numpy(), 3 * a.detach().numpy())


def test_gradcheck_non_reentrant():
    def f(a, b):
        return checkpoint(lambda x, y: (x.sin() * y, x @ y), a, b, use_reentrant=False)

    a = ember.randn(4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(f, (a, b))
    assert ember.autograd.gradgradcheck(f, (a, b))


def test_autograd_grad_and_parameters_non_reentrant():
    model, _ = _pair("float64", p=0.0)
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    out = checkpoint(model, x, use_reentrant=False).sum()
    gx, gw = ember.autograd.grad(out, [x, model[0].weight])
    assert model[0].weight.grad is None        # grad() does not accumulate
    model(x).sum().backward()
    np.testing.assert_allclose(gw.numpy(), model[0].weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-12)


def test_inputs_without_grad_still_train_parameters():
    model, theirs = _pair("float32", p=0.0)
    x = np.ones((2, 4), np.float32)
    out = checkpoint(model, ember.tensor(x), use_reentrant=False)
    tout = tcheckpoint.checkpoint(theirs, torch.tensor(x), use_reentrant=False)
    assert out.requires_grad and tout.requires_grad
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(),
                               rtol=1e-5, atol=1e-6)
    # the reentrant variant: no input requires grad, so the output does not either
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(model, ember.tensor(x), use_reentrant=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        tout = tcheckpoint.checkpoint(theirs, torch.tensor(x), use_reentrant=True)
    assert out.requires_grad == tout.requires_grad == False  # noqa: E712


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_nested_checkpoints(use_reentrant):
    def inner(t):
        return t.sin() * 2

    def outer(t):
        return checkpoint(inner, t, use_reentrant=use_reentrant).exp()

    a = ember.randn(4, dtype=ember.float64, requires_grad=True)
    checkpoint(outer, a, use_reentrant=use_reentrant).sum().backward()
    expected = (a.sin() * 2).exp() * 2 * a.cos()
    np.testing.assert_allclose(a.grad.numpy(), expected.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential(use_reentrant, segments):
    ours, theirs = _pair("float64", p=0.0)
    x = np.random.default_rng(3).standard_normal((4, 4))
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    checkpoint_sequential(ours, segments, ex, use_reentrant=use_reentrant).sum().backward()
    tcheckpoint.checkpoint_sequential(theirs, segments, tx,
                                      use_reentrant=use_reentrant).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_use_reentrant_not_passed_warns_like_torch():
    a = ember.randn(2, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(ember.sin, a)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint_sequential([ember.sin], 1, a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(ember.sin, a, use_reentrant=False)


def test_errors_match_torch():
    a = ember.randn(2, requires_grad=True)
    t = torch.randn(2, requires_grad=True)
    for lib, fn, x in ((ember, checkpoint, a), (torch, tcheckpoint.checkpoint, t)):
        with pytest.raises(ValueError, match="Unexpected keyword arguments: b"):
            fn(lambda x, b: x * b, x, b=x, use_reentrant=True)
        with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
            fn(lib.sin, x, use_reentrant=True, debug=True)
        with pytest.raises(ValueError, match="determinism_check should be one of"):
            fn(lib.sin, x, use_reentrant=False, determinism_check="bogus")
        with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
            (tcheckpoint.checkpoint_sequential if lib is torch else checkpoint_sequential)(
                [lib.sin], 1, x, use_reentrant=False, foo=1)


def test_reentrant_backward_with_no_differentiable_output():
    a = ember.randn(2, requires_grad=True)
    out = checkpoint(lambda x: (x.detach() * 2), a, use_reentrant=True)
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True"):
        out.sum().backward()


def test_recomputation_mismatch_raises_checkpoint_error():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2 if len(calls) == 1 else x[:1] * 2

    a = ember.randn(2, requires_grad=True)
    out = checkpoint(f, a, use_reentrant=False)
    with pytest.raises(CheckpointError, match="different metadata"):
        out.sum().backward()
    # 'none' skips the check: the recomputed graph is what backward differentiates
    calls.clear()
    out = checkpoint(lambda x: x * (2 + len(calls.append(1) or calls)), a,
                     use_reentrant=False, determinism_check="none")
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 4.0])


def test_context_fn_wraps_forward_and_recomputation():
    seen = []

    class Note:
        def __init__(self, tag):
            self.tag = tag

        def __enter__(self):
            seen.append(self.tag)

        def __exit__(self, *exc):
            return False

    a = ember.randn(2, requires_grad=True)
    out = checkpoint(ember.sin, a, use_reentrant=False,
                     context_fn=lambda: (Note("forward"), Note("recompute")))
    out.sum().backward()
    assert seen == ["forward", "recompute"]


def test_under_no_grad_runs_plainly():
    a = ember.randn(2, requires_grad=True)
    with ember.no_grad():
        out = checkpoint(ember.sin, a, use_reentrant=False)
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), a.detach().sin().numpy())


def test_input_modified_in_place_after_forward_is_detected():
    a = ember.randn(3, requires_grad=True)
    b = a * 1
    out = checkpoint(ember.exp, b, use_reentrant=False)
    with ember.no_grad():
        b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_reentrant_refuses_grad_and_backward_inputs_like_torch():
    for lib, fn in ((ember, checkpoint), (torch, tcheckpoint.checkpoint)):
        x = lib.ones(3, requires_grad=True)
        out = fn(lib.sin, x, use_reentrant=True).sum()
        with pytest.raises(RuntimeError, match="incompatible with .grad"):
            lib.autograd.grad(out, x, retain_graph=True)
        with pytest.raises(RuntimeError, match="incompatible with .grad"):
            out.backward(inputs=[x], retain_graph=True)
        out.backward()
        np.testing.assert_allclose(np.asarray(x.grad.tolist()), np.cos(np.ones(3)), rtol=1e-6)


def test_closure_over_a_non_leaf_keeps_the_graph_with_a_warning():
    w = ember.randn(3, dtype=ember.float64, requires_grad=True)
    h = w * 2                                   # computed, requires grad, not an argument
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="neither an argument nor a leaf"):
        out = checkpoint(lambda t: (t * h).sum(), x, use_reentrant=False)
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), h.detach().numpy())


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_integer_arguments_and_non_differentiable_outputs(use_reentrant):
    def f(x, index):
        y = x.exp()
        return y[index], y.argmax()

    x = ember.randn(5, dtype=ember.float64, requires_grad=True)
    index = ember.tensor([0, 2, 2])
    picked, where = checkpoint(f, x, index, use_reentrant=use_reentrant)
    assert not where.requires_grad and where.dtype == ember.int64
    picked.sum().backward()
    expected = np.zeros(5)
    np.add.at(expected, [0, 2, 2], np.exp(x.detach().numpy())[[0, 2, 2]])
    np.testing.assert_allclose(x.grad.numpy(), expected)


@pytest.mark.parametrize("enable", [False, True])
def test_set_checkpoint_early_stop_gives_the_same_gradients_as_torch(enable):
    x = np.random.default_rng(5).standard_normal(4)

    def run(lib, module):
        t = lib.from_numpy(x.copy()).requires_grad_()
        with module.set_checkpoint_early_stop(enable):
            y = module.checkpoint(lambda a: (a.sin() * a).exp(), t, use_reentrant=False,
                                  early_stop=enable)
        y.sum().backward()
        return t.grad.numpy()

    import ember.utils.checkpoint as echeckpoint
    np.testing.assert_allclose(run(ember, echeckpoint), run(torch, tcheckpoint), rtol=1e-12)
