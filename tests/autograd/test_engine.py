"""The graph and the engine: PyTorch's semantics for leaves, accumulation, retained and
freed graphs, inputs=, grad(), create_graph, errors."""
import gc
import threading
import weakref

import numpy as np
import pytest
import torch

import ember
from ember.autograd import grad


def f64(*shape, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(data, requires_grad=requires_grad), torch.tensor(
        data, requires_grad=requires_grad)


# ---------------------------------------------------------------- leaves and graph structure

def test_creation_functions_take_requires_grad():
    for t in (ember.zeros(2, requires_grad=True), ember.ones(2, 3, requires_grad=True),
              ember.tensor([1.0], requires_grad=True), ember.randn(2, requires_grad=True),
              ember.full((2,), 3.0, requires_grad=True), ember.arange(3.0, requires_grad=True),
              ember.empty(2, requires_grad=True), ember.eye(2, requires_grad=True),
              ember.linspace(0, 1, 3, requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad_fn is None


def test_only_float_and_complex_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="floating point and complex"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point and complex"):
        ember.zeros(2, dtype=ember.int64, requires_grad=True)
    ember.zeros(2, dtype=ember.complex64, requires_grad=True)


def test_grad_fn_names_next_functions_and_leaves():
    x, _ = f64(3)
    y = x * 2
    z = y.exp().sum()
    assert z.grad_fn.name() == "SumBackward0"
    (exp_node, nr), = z.grad_fn.next_functions
    assert exp_node.name() == "ExpBackward0" and nr == 0
    mul_node = exp_node.next_functions[0][0]
    assert mul_node.name() == "MulBackward0"
    acc = mul_node.next_functions[0][0]
    assert acc.name() == "AccumulateGrad" and acc.variable is x
    assert not y.is_leaf and x.is_leaf and y.requires_grad
    # a constant operand has no edge
    assert len(mul_node.next_functions) == 1


def test_ops_without_grad_inputs_record_nothing():
    a = ember.ones(3)
    b = a * 2 + a.exp()
    assert b.grad_fn is None and not b.requires_grad and b.is_leaf


def test_detach_and_detach_():
    x, _ = f64(3)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert d.data_ptr() == y.data_ptr()
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_legacy_variable_matches_torch():
    from torch.autograd import Variable as TorchVariable

    from ember.autograd import Variable
    for lib, variable in ((ember, Variable), (torch, TorchVariable)):
        t = lib.ones(2)
        v = variable(t, requires_grad=True)
        assert v is not t and v.data_ptr() == t.data_ptr() and not t.requires_grad
        assert v.requires_grad and v.is_leaf
        (v * 3).sum().backward()
        assert v.grad.tolist() == [3.0, 3.0]
        from_graph = variable(v * 2)
        assert from_graph.grad_fn is None and not from_graph.requires_grad
        assert isinstance(t, variable) and not isinstance(1, variable)
        assert not issubclass(lib.Tensor, variable)
        assert tuple(variable().shape) == (0,)
        with pytest.warns(UserWarning, match="volatile was removed"):
            assert not variable(t, volatile=True).requires_grad
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            variable([1.0])

def test_non_differentiable_outputs_do_not_require_grad():
    x, _ = f64(4)
    for out in (x > 0, x == x, x.argmax(), x.isnan(), (x * 2).floor_divide(1) > 0,
                x.max(0).indices, x.nonzero()):
        assert not out.requires_grad and out.grad_fn is None


# ---------------------------------------------------------------- accumulation

def test_gradients_accumulate_across_backward_calls_and_uses():
    x, xt = f64(3)
    for lib_x in (x, xt):
        (lib_x * lib_x + lib_x).sum().backward()
        (lib_x * 3).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), xt.grad.numpy())


def test_grad_of_a_tensor_used_many_times_is_the_sum():
    x, xt = f64(2, 3)
    for v in (x, xt):
        y = v.sin()
        (y * y + y.exp() * v + v.sum(0) * y).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), xt.grad.numpy(), rtol=1e-12)


def test_backward_of_non_scalar_needs_gradient():
    x, _ = f64(3)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(4, dtype=ember.float64))


def test_backward_through_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ember.ones(2).sum().backward()


def test_broadcast_gradient_is_summed_to_each_input_shape_and_dtype():
    a = ember.ones(3, 1, dtype=ember.float32, requires_grad=True)
    b = ember.ones(4, dtype=ember.float64, requires_grad=True)
    c = ember.tensor(2.0, requires_grad=True)
    (a * b * c).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.dtype == ember.float32
    assert b.grad.shape == (4,) and b.grad.dtype == ember.float64
    assert c.grad.shape == () and float(c.grad) == 12.0
    np.testing.assert_allclose(np.asarray(a.grad), np.full((3, 1), 8.0))


def test_first_gradient_does_not_alias_the_callers_gradient():
    x = ember.zeros(3, requires_grad=True)
    g = ember.ones(3)
    x.backward(g)
    g.add_(5)
    np.testing.assert_array_equal(np.asarray(x.grad), np.ones(3))
    y = x * 1
    y.backward(g)
    np.testing.assert_array_equal(np.asarray(x.grad), np.full(3, 7.0))


# ---------------------------------------------------------------- retained and freed graphs

def test_second_backward_through_freed_graph_raises():
    x, _ = f64(3)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x, _ = f64(3)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = np.asarray(x.grad).copy()
    y.backward()
    np.testing.assert_allclose(np.asarray(x.grad), 2 * first)


def test_graph_without_saved_tensors_can_run_twice_like_torch():
    x, xt = f64(3)
    for v in (x, xt):
        y = (v + 1).sum()
        y.backward()
        y.backward()
    np.testing.assert_allclose(np.asarray(x.grad), xt.grad.numpy())


# ---------------------------------------------------------------- inputs=, grad()

def test_backward_inputs_accumulates_only_into_them():
    x, xt = f64(3)
    w, wt = f64(3, seed=1)
    for a, b in ((x, w), (xt, wt)):
        (a * b).sum().backward(inputs=[b])
    assert x.grad is None and xt.grad is None
    np.testing.assert_allclose(np.asarray(w.grad), wt.grad.numpy())


def test_backward_inputs_on_non_leaf():
    x, xt = f64(3)
    res = []
    for v in (x, xt):
        h = v * 2
        (h * h).sum().backward(inputs=[h])
        res.append(h.grad)
        assert v.grad is None
    np.testing.assert_allclose(np.asarray(res[0]), res[1].numpy())


def test_grad_returns_without_accumulating():
    x, xt = f64(2, 2)
    (g,) = grad((x.sin() * x).sum(), x)
    (gt,) = torch.autograd.grad((xt.sin() * xt).sum(), xt)
    np.testing.assert_allclose(np.asarray(g), gt.numpy())
    assert x.grad is None


def test_grad_with_respect_to_intermediate():
    x, xt = f64(3)
    out = []
    for v, lib in ((x, ember), (xt, torch)):
        h = v.exp()
        out.append(lib.autograd.grad((h * h).sum(), [h, v]))
    for a, b in zip(*out):
        np.testing.assert_allclose(np.asarray(a), b.numpy())


def test_unused_input_raises_or_gives_none_or_zeros():
    x, _ = f64(3)
    u, _ = f64(2, seed=3)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        grad(y, [x, u], retain_graph=True)
    gx, gu = grad(y, [x, u], allow_unused=True, retain_graph=True)
    assert gu is None
    gx, gu = grad(y, [x, u], materialize_grads=True)
    np.testing.assert_array_equal(np.asarray(gu), np.zeros(2))
    with pytest.raises(ValueError, match="allow_unused"):
        grad((x * 2).sum(), [x], allow_unused=False, materialize_grads=True)


def test_is_grads_batched_matches_torch_with_double_backward():
    x, xt = f64(2, 3)
    w, wt = f64(3, seed=1)
    u, ut = f64(2, seed=2)
    out = []
    for v, c, unused, lib in ((x, w, u, ember), (xt, wt, ut, torch)):
        y = (v.sin() * c).sum(1)                                   # (2,)
        z = v.exp()                                                # (2, 3)
        go = [lib.from_numpy(np.arange(8.0).reshape(4, 2)),
              lib.from_numpy(np.linspace(-1, 1, 24).reshape(4, 2, 3))]
        gx, gc, gu = lib.autograd.grad([y, z], [v, c, unused], go, create_graph=True,
                                       allow_unused=True, is_grads_batched=True)
        assert gu is None
        second = lib.autograd.grad((gx * gx).sum() + gc.sum(), [v, c])
        out.append([gx, gc, *second])
    for a, b in zip(*out):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=1e-12)


def test_is_grads_batched_errors_and_frees_the_graph():
    x, _ = f64(3)
    y = x * x
    with pytest.raises(RuntimeError, match="first dimension of each grad_output"):
        grad(y, x, ember.ones(2, 4, dtype=ember.float64), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="first dimension of each grad_output"):
        grad(y, x, ember.ones(3, dtype=ember.float64), is_grads_batched=True)
    with pytest.raises(ValueError, match="batched Tensor"):
        grad(y.sum(), x, is_grads_batched=True)
    with pytest.raises(ValueError, match="same, non-zero batch size"):
        grad([y, y], x, [ember.ones(2, 3), ember.ones(1, 3)], is_grads_batched=True)
    gx, = grad(y, x, ember.eye(3, dtype=ember.float64), is_grads_batched=True)
    np.testing.assert_allclose(np.asarray(gx), np.diag(2 * np.asarray(x.detach())))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        grad(y, x, ember.eye(3, dtype=ember.float64), is_grads_batched=True)


def test_grad_runs_only_the_needed_part_of_the_graph():
    x, _ = f64(3)
    calls = []
    a = x * 2
    b = x * 3
    b.register_hook(lambda g: calls.append("b"))
    (gx,) = grad((a + 0).sum() + 0 * b.sum(), [a], allow_unused=True)
    assert calls == []


# ---------------------------------------------------------------- create_graph

def test_higher_order_derivatives():
    x = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    y = (x ** 3).sum()
    (g1,) = grad(y, x, create_graph=True)
    np.testing.assert_allclose(np.asarray(g1.detach()), 3 * np.array([0.5, 2.0]) ** 2)
    (g2,) = grad(g1.sum(), x, create_graph=True)
    np.testing.assert_allclose(np.asarray(g2.detach()), 6 * np.array([0.5, 2.0]))
    (g3,) = grad(g2.sum(), x)
    np.testing.assert_allclose(np.asarray(g3), [6.0, 6.0])


def test_higher_order_of_a_composition_matches_torch():
    x, xt = f64(4)
    res = []
    for v, lib in ((x, ember), (xt, torch)):
        y = (v.sin() * v.exp()).sum()
        (g,) = lib.autograd.grad(y, v, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), v, create_graph=True)
        (k,) = lib.autograd.grad(h.tanh().sum(), v)
        res.append((g, h, k))
    for a, b in zip(*res):
        np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=1e-10)


def test_backward_create_graph_makes_grad_differentiable():
    x = ember.tensor([1.5], dtype=ember.float64, requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = grad(x.grad.sum(), x)
    assert float(g2) == 2.0


# ---------------------------------------------------------------- in-place ops

def test_inplace_on_leaf_requiring_grad_raises():
    x, _ = f64(3)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.exp_()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 2.0
    with ember.no_grad():
        x.add_(1)          # allowed without recording, as in PyTorch


def test_inplace_on_view_of_leaf_raises():
    x, _ = f64(3, 2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)


def test_modified_saved_tensor_is_detected_at_backward():
    x, _ = f64(3)
    h = x * 1
    y = h.exp() * h          # mul saves h (the input)
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*version 1; "
                                           r"expected version 0"):
        y.sum().backward()


def test_modified_saved_output_is_detected():
    x, _ = f64(3)
    y = x.exp()              # exp saves its result
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def _same_outcome_as_torch(program, *shapes):
    """Run ``program(lib, *leaves)`` (it ends with a backward) on ember and torch: both must
    raise a version error, or both succeed with the same gradients."""
    leaves = [f64(*shape, seed=k) for k, shape in enumerate(shapes)]
    outcomes = []
    for lib, xs in ((ember, [e for e, _ in leaves]), (torch, [t for _, t in leaves])):
        try:
            program(lib, *xs)
            outcomes.append([x.grad for x in xs])
        except RuntimeError as exc:
            assert "modified by an inplace operation" in str(exc)
            outcomes.append(None)
    if outcomes[1] is None:
        assert outcomes[0] is None, "torch raises a version error, ember does not"
        return False
    assert outcomes[0] is not None, "ember raises a version error, torch does not"
    for e, t in zip(*outcomes):
        np.testing.assert_allclose(np.asarray(e), t.numpy(), rtol=1e-12)
    return True


def _chain(lib, v):
    h = v * 2
    h.mul_(v)
    h.add_(1)
    h.sum().backward()


def _exp_then_mul(lib, v):
    h = v * 2
    h.exp_()
    h.mul_(v)
    h.sum().backward()


def _views(lib, x):
    a = x * 1
    a[0].mul_(3)
    a[:, 1].exp_()
    (a * a).sum().backward()


def _views_overwritten(lib, x, w):
    a = x * 1
    a[:, 1].exp_()
    a.narrow(0, 1, 2).add_(w)
    (a * a).sum().backward()


def _narrow_and_diagonal(lib, x, w):
    a = x.sin()
    a.narrow(0, 1, 2).add_(w)
    a.diagonal().mul_(w[:3])
    a.T[1:].sub_(2)
    (a * a).sum().backward()


def _setitem_saved(lib, x, w):
    a = x.exp()
    a[1] = w * 2
    (a * a).sum().backward()


def _setitem(lib, x, w):
    a = x * 3
    a[1] = w * 2
    a[:, 0] = w[:3].exp()
    (a * a).sum().backward()


def _inplace_forms_computed_out_of_place(lib, x, w):
    # in-place forms whose out-of-place derivative saves the input: it must be the value
    # before the write (they raised a version error)
    idx = lib.tensor([[0, 2, 0, 1], [1, 1, 0, 2], [2, 0, 1, 1]])
    outs = [(x * 1).scatter_reduce_(0, idx, w.expand(3, 4) * 2, "amax"),
            (x * 1).index_reduce_(1, lib.tensor([0, 0, 3]), w[:3].expand(3, 3) + 1, "prod"),
            (x * 1).cumprod_(1), (x * 1).renorm_(2, 0, 1.5), (x * 1).float_power_(2)]
    sum(o.sum() for o in outs).backward()


@pytest.mark.parametrize("program, shapes, succeeds", [
    (_chain, [(3,)], True),
    (_inplace_forms_computed_out_of_place, [(3, 4), (4,)], True),
    (_exp_then_mul, [(3,)], False),
    (_views, [(3, 4)], True),
    (_views_overwritten, [(3, 4), (4,)], False),
    (_narrow_and_diagonal, [(3, 4), (4,)], True),
    (_setitem_saved, [(3, 4), (4,)], False),
    (_setitem, [(3, 4), (4,)], True),
])
def test_inplace_programs_match_torch(program, shapes, succeeds):
    assert _same_outcome_as_torch(program, *shapes) == succeeds


def test_out_argument_with_grad_inputs_raises():
    x, _ = f64(3)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        ember.exp(x, out=ember.empty(3, dtype=ember.float64))


# ---------------------------------------------------------------- memory and threads

def test_no_reference_cycles_keep_the_graph_alive():
    gc.collect()
    gc.disable()
    try:
        x, _ = f64(3)
        y = (x.exp() * x).sin()
        node = weakref.ref(y.grad_fn)
        saved = weakref.ref(y)
        y.sum().backward()
        del y
        assert node() is None and saved() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("program", [
    lambda x: x.exp(), lambda x: x.relu().sqrt(), lambda x: x.exp()[0], lambda x: x.T.tanh(),
    lambda x: x.softmax(0), lambda x: (x * 1).exp_(), lambda x: x.sum(0).sigmoid(),
])
def test_graphs_never_backpropagated_are_freed_without_the_gc(program):
    gc.collect()
    gc.disable()
    try:
        x, _ = f64(3, 3)
        y = program(x)
        refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
        del y
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_memory_stays_flat_over_training_like_iterations():
    import tracemalloc
    w = ember.randn(16, 16, dtype=ember.float64, requires_grad=True)
    b = ember.zeros(16, dtype=ember.float64, requires_grad=True)
    data = ember.randn(8, 16, dtype=ember.float64)

    def step():
        h = (data @ w + b).tanh()
        loss = (h * h).mean() + h.softmax(1).sum()
        loss.backward()
        with ember.no_grad():
            w.sub_(w.grad * 0.01)
            b.sub_(b.grad * 0.01)
        w.grad = None
        b.grad = None

    gc.disable()
    try:
        for _ in range(50):
            step()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            step()
        grown = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    finally:
        gc.enable()
    assert grown < 200_000, grown


def test_backward_from_two_threads_on_separate_graphs():
    errors = []
    results = {}

    def work(k):
        try:
            x = ember.full((50,), float(k + 1), dtype=ember.float64, requires_grad=True)
            for _ in range(200):
                y = x
                for _ in range(10):
                    y = y * 1.5 + y.sin()
                y.sum().backward()
            results[k] = x.grad
        except Exception as exc:         # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(2):
        xt = torch.full((50,), float(k + 1), dtype=torch.float64, requires_grad=True)
        for _ in range(200):
            y = xt
            for _ in range(10):
                y = y * 1.5 + y.sin()
            y.sum().backward()
        np.testing.assert_allclose(np.asarray(results[k]), xt.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- hooks

def test_tensor_hooks_see_and_replace_gradients():
    x, _ = f64(3)
    seen = []
    h = x * 2
    handle = h.register_hook(lambda g: seen.append(g.clone()) or g * 10)
    x.register_hook(lambda g: g + 1)
    (h * 1).sum().backward()
    np.testing.assert_allclose(np.asarray(seen[0]), np.ones(3))
    np.testing.assert_allclose(np.asarray(x.grad), np.full(3, 21.0))
    handle.remove()
    x.grad = None
    h2 = x * 2
    (h2 * 1).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), np.full(3, 3.0))


def test_register_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_hook(lambda g: g)


def test_retain_grad_keeps_non_leaf_gradients():
    x, xt = f64(3)
    out = []
    for v in (x, xt):
        h = v.exp()
        h.retain_grad()
        (h * h).sum().backward()
        assert h.retains_grad
        out.append(h.grad)
    np.testing.assert_allclose(np.asarray(out[0]), out[1].numpy())
    y = x * 2
    assert not y.retains_grad and y.grad is None


def test_node_hooks():
    x, _ = f64(3)
    y = x.exp()
    calls = []
    y.grad_fn.register_prehook(lambda gout: calls.append("pre"))
    y.grad_fn.register_hook(lambda gin, gout: calls.append("post") or (gin[0] * 0,))
    y.sum().backward()
    assert calls == ["pre", "post"]
    np.testing.assert_array_equal(np.asarray(x.grad), np.zeros(3))


# ---------------------------------------------------------------- grad modes

def test_no_grad_enable_grad_set_grad_enabled():
    x, _ = f64(3)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ember.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_modes_as_decorators():
    x, _ = f64(3)

    @ember.no_grad()
    def f(v):
        return v * 2

    @ember.inference_mode()
    def g(v):
        assert ember.is_inference_mode_enabled()
        return v * 2

    def gen(v):
        yield v * 2
        yield v * 3

    assert not f(x).requires_grad and not g(x).requires_grad
    assert all(not t.requires_grad for t in ember.no_grad()(gen)(x))
    assert ember.is_grad_enabled() and not ember.is_inference_mode_enabled()


@pytest.mark.parametrize("lib", [ember, torch])
def test_grad_modes_as_bare_decorators(lib):
    # @no_grad / @enable_grad / @inference_mode without parentheses, as PyTorch allows
    w = lib.ones(3, requires_grad=True)

    @lib.no_grad
    def f():
        return (w * 2).requires_grad

    @lib.inference_mode
    def g():
        yield lib.is_inference_mode_enabled(), (w * 2).requires_grad

    with lib.no_grad():
        @lib.enable_grad
        def h():
            return (w * 2).requires_grad
        assert h()
    assert f() is False and f.__name__ == "f"
    assert list(g()) == [(True, False)]
    assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
    assert isinstance(lib.inference_mode(False), lib.inference_mode)


def test_grad_mode_is_thread_local():
    seen = []
    with ember.no_grad():
        t = threading.Thread(target=lambda: seen.append(ember.is_grad_enabled()))
        t.start()
        t.join()
        assert not ember.is_grad_enabled()
    assert seen == [True]


def test_the_no_grad_path_records_nothing_even_for_grad_tensors():
    x, _ = f64(4, 4)
    with ember.no_grad():
        for y in (x + 1, x.sum(), x.T, x[0], x @ x, x.reshape(-1), x.exp(), x.softmax(0)):
            assert y.grad_fn is None and not y.requires_grad


# ---------------------------------------------------------------- .data, .grad, random fills

def test_data_is_outside_the_graph_and_assignable():
    x, _ = f64(3)
    d = x.data
    assert not d.requires_grad and d.data_ptr() == x.data_ptr()
    x.data = ember.zeros(2, dtype=ember.float64)
    assert x.shape == (2,) and x.requires_grad and x.is_leaf


def test_data_has_its_own_version_counter_detach_shares_it():
    # torch's example: an in-place change through .data is hidden from autograd; the same
    # change through detach() is caught
    def through_data(lib, x):
        a = x.sigmoid()
        a.data.mul_(2)
        a.sum().backward()

    def through_detach(lib, x):
        a = x.sigmoid()
        a.detach().mul_(2)
        a.sum().backward()

    def saved_input_through_data(lib, x):
        h = x * 1
        y = h.exp() * h
        h.data.add_(1)
        y.sum().backward()

    assert _same_outcome_as_torch(through_data, (3,))
    assert not _same_outcome_as_torch(through_detach, (3,))
    assert _same_outcome_as_torch(saved_input_through_data, (4,))


def _version_trace(lib):
    """The ``_version`` of tensors along in-place changes through .data, detach(), views of
    them, data assignment, set_() and Parameter."""
    out = []
    x = lib.ones(3, requires_grad=True)
    a = x * 2
    d = a.data
    d.mul_(2)
    out += [a._version, d._version, a.data._version, d.requires_grad, d.is_leaf]
    v = d[0:2]
    v.add_(1)
    out += [d._version, v._version, a._version, v._base is d, d._base is None]
    e = a.detach()
    e.add_(1)
    out += [a._version, e._version, d._version]
    with lib.no_grad():
        a.add_(1)
    out += [a._version, d._version, e._version]
    dd = d.detach()
    dd.add_(1)
    out += [d._version, dd._version, d.data._version]
    # data assignment and set_ keep the tensor's own counter
    y, z = lib.zeros(3), lib.zeros(3)
    z.add_(1)
    y.data = z
    out += [y._version, z._version]
    z.add_(1)
    y.add_(1)
    out += [y._version, z._version]
    w = lib.ones(3)
    w.add_(1)
    w.set_(z)
    out += [w._version, z._version]
    # a parameter counts with the tensor it was made from; its .data does not
    t = lib.ones(2)
    t.add_(1)
    p = lib.nn.Parameter(t)
    t.add_(1)
    p.data.add_(1)
    out += [p._version, t._version]
    # every kind of in-place kernel bumps .data's counter, not the tensor's
    b = lib.ones(4)
    f = b.data
    f[0] = 5
    f.zero_()
    f.copy_(lib.ones(4))
    f.fill_(2)
    f.index_put_((lib.tensor([0]),), lib.tensor(1.0))
    f.clamp_(0, 1)
    lib.add(f, f, out=f)
    f.uniform_()
    f.scatter_(0, lib.tensor([0]), 1.0)
    f.resize_(2, 2)
    out += [b._version, f._version]
    return out


def test_version_counters_match_torch():
    assert _version_trace(ember) == _version_trace(torch)


def test_grad_assignment_is_checked_like_torch():
    x, _ = f64(3)
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = ember.ones(4, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = ember.ones(3, dtype=ember.float32)
    with pytest.raises(TypeError):
        x.grad = [1.0, 2.0, 3.0]
    x.grad = ember.ones(3, dtype=ember.float64)
    del x.grad
    assert x.grad is None


def test_underscore_grad_is_grad_like_torch():
    # A3C shares a worker's gradient with `shared_param._grad = param.grad`
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(3, dtype=lib.float64))
        g = lib.ones(3, dtype=lib.float64)
        p._grad = g
        assert p.grad is g and p._grad is g and "_grad" not in vars(p)
        lib.optim.SGD([p], lr=0.5).step()
        np.testing.assert_array_equal(p.detach().numpy(), [-0.5, -0.5, -0.5])
        with pytest.raises(RuntimeError, match="size"):
            p._grad = lib.ones(4, dtype=lib.float64)
        del p._grad
        assert p.grad is None
    x, _ = f64(3)
    x._grad = ember.ones(3, dtype=ember.float64)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    with pytest.warns(UserWarning, match="not a leaf"):
        assert (x * 2)._grad is None


def test_random_fills_follow_the_in_place_rules():
    x, _ = f64(3)
    for fill in (lambda t: t.uniform_(), lambda t: t.normal_(), lambda t: t.bernoulli_(0.5),
                 lambda t: t.exponential_(), lambda t: t.random_(0, 5)):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            fill(x)
        with ember.no_grad():
            fill(x)
        h = x * 2
        fill(h)
        (h * x).sum().backward()   # the filled tensor no longer depends on x through h
        np.testing.assert_allclose(np.asarray(x.grad), np.asarray(h.detach()))
        x.grad = None


def test_backward_through_integer_results_is_refused():
    x, _ = f64(3)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.long().sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x > 0).sum().backward()


def test_leaf_gradients_never_alias_but_are_taken_without_copy_when_private():
    x = ember.ones(3, requires_grad=True)
    y = ember.ones(3, requires_grad=True)
    (x + y).exp().backward(ember.ones(3))       # AddBackward hands one tensor to both leaves
    assert x.grad.data_ptr() != y.grad.data_ptr()
    x.grad.add_(1)
    np.testing.assert_allclose(np.asarray(y.grad), np.exp(2.0) * np.ones(3), rtol=1e-6)
    # a gradient nothing else holds becomes .grad as it is (PyTorch steals it too)
    z = ember.ones(3, requires_grad=True)
    seen = []
    z.register_hook(lambda g: seen.append(g.data_ptr()))
    (z * 2).exp().backward(ember.ones(3))
    assert z.grad.data_ptr() == seen[0]


def test_gradients_that_view_a_whole_private_storage_are_taken_without_copy():
    # the weight's gradient is the transpose of a product, the bias's a reduction
    w = ember.randn(4, 3, requires_grad=True)
    b = ember.randn(4, requires_grad=True)
    seen = {}
    w.register_hook(lambda g: seen.__setitem__("w", g.data_ptr()))
    b.register_hook(lambda g: seen.__setitem__("b", g.data_ptr()))
    x = ember.randn(5, 3)
    ember.addmm(b, x, w.t()).sum().backward()
    assert w.grad.data_ptr() == seen["w"] and b.grad.data_ptr() == seen["b"]
    assert w.grad._base is None and w.grad.is_contiguous()
    np.testing.assert_allclose(np.asarray(w.grad), np.ones((4, 5), np.float32) @ np.asarray(x),
                               rtol=1e-5)
    # views of parts of one gradient (split by cat's backward) are copied, never shared
    p = ember.ones(2, requires_grad=True)
    q = ember.ones(3, requires_grad=True)
    ember.cat([p, q]).exp().sum().backward()
    p.grad.add_(1)
    np.testing.assert_allclose(np.asarray(q.grad), np.exp(1.0) * np.ones(3), rtol=1e-6)


def _through_modified_view(lib, x, w):
    a = x.sin()
    v = a[1]
    v.mul_(w)
    (v.sin().sum() + (a * 2).sum()).backward()


def _view_of_view(lib, x, w):
    a = x * 1
    v = a[:, 1:][0]
    v.add_(w[:3] * 3)
    v.exp_()
    (a * a).sum().backward()


@pytest.mark.parametrize("program", [_through_modified_view, _view_of_view])
def test_gradient_through_a_view_changed_in_place(program):
    assert _same_outcome_as_torch(program, (3, 4), (4,))


def test_in_place_on_views_is_differentiable_twice():
    def f(x, w):
        a = x * 1
        a[1].mul_(w)
        a.narrow(1, 0, 2).sin_()
        return a * a
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(f, (x, w))
    assert ember.autograd.gradgradcheck(f, (x, w))


def _view_before_base_changed(lib, x, w):
    a = x * 1
    b = a[:2]
    c = a[1:]
    a.mul_(2)
    c.mul_(w)
    (b * b).sum().backward()


def _transposed_view_of_leaf_after_no_grad_update(lib, x, w):
    t = x.T
    with lib.no_grad():
        x.mul_(2)
    (t * w.unsqueeze(1)).sum().backward()


@pytest.mark.parametrize("program", [_view_before_base_changed,
                                     _transposed_view_of_leaf_after_no_grad_update])
def test_views_follow_in_place_changes_of_their_base(program):
    assert _same_outcome_as_torch(program, (3, 4), (4,))


def _fill_a_buffer_through_views(lib, x, w):
    out = lib.zeros(3, 4, dtype=lib.float64)
    out[0].copy_(x[0] * 2)
    out.narrow(0, 1, 2).add_(w)
    out[:, 1:3].mul_(x[1:, :2].sum())
    (out * out).sum().backward()


def test_in_place_on_views_of_a_tensor_without_grad():
    assert _same_outcome_as_torch(_fill_a_buffer_through_views, (3, 4), (4,))
    x = ember.ones(3, requires_grad=True)
    z = ember.zeros(2, 3)
    z[0].copy_(x * 2)
    assert z.grad_fn.name() == "CopySlices" and z.requires_grad


def test_views_know_their_base_like_torch():
    for lib in (torch, ember):
        x = lib.ones(3, 4)
        assert x.T._base is x and x[0]._base is x and x[0][1:]._base is x
        assert x._base is None and x.detach()._base is None and (x + 1)._base is None
        assert x.reshape(12)._base is x and x.T.contiguous()._base is None
