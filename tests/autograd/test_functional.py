"""ember.autograd.functional against torch.autograd.functional on the same float64 data:
values, nesting of the results, shapes, dtypes, requires_grad, and the errors."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
X3 = np.array([0.5, -1.25, 2.0])
Y3 = np.array([1.5, 0.75, -0.5])


def make(lib, arrays, requires_grad=False):
    """``arrays`` (an ndarray or a tuple or list of them) as ``lib`` tensors of the same
    nesting; anything else passes through."""
    if isinstance(arrays, (tuple, list)):
        return type(arrays)(make(lib, a, requires_grad) for a in arrays)
    if not isinstance(arrays, np.ndarray):
        return arrays
    return lib.tensor(arrays.copy(), requires_grad=requires_grad)


def assert_same(e, t, requires_grad=None, path="result"):
    """Same nesting, shapes, dtypes, requires_grad and values (to rounding)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: ember gave {type(e).__name__}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {e.shape} vs {t.shape}"
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"{path}: dtype"
        assert e.requires_grad == t.requires_grad, f"{path}: requires_grad {e.requires_grad}"
        if requires_grad is not None:
            assert e.requires_grad == requires_grad, f"{path}: requires_grad"
        double = t.dtype in (torch.float64, torch.complex128)
        np.testing.assert_allclose(np.asarray(e.detach()), t.detach().resolve_conj().numpy(),
                                   rtol=1e-10 if double else 1e-6,
                                   atol=1e-12 if double else 1e-6, err_msg=path)
        return
    assert isinstance(t, tuple) and isinstance(e, tuple), f"{path}: {type(e)} vs {type(t)}"
    assert len(e) == len(t), f"{path}: length {len(e)} vs {len(t)}"
    for k, (ee, tt) in enumerate(zip(e, t)):
        assert_same(ee, tt, requires_grad, f"{path}[{k}]")


def both(name, fn, inputs, *args, inputs_require_grad=False, **kwargs):
    """``lib.autograd.functional.<name>(fn(lib), inputs, *args)`` for ember and torch."""
    results = []
    for lib in (ember, torch):
        ins = make(lib, inputs, inputs_require_grad)
        extra = [make(lib, a) for a in args]
        results.append(getattr(lib.autograd.functional, name)(fn(lib), ins, *extra, **kwargs))
    return results


def same_error(name, fn, inputs, *args, **kwargs):
    """Both raise the same class with the same message (up to the library's name)."""
    messages = []
    for lib in (ember, torch):
        ins = make(lib, inputs)
        extra = [make(lib, a) for a in args]
        with pytest.raises(Exception) as info:
            getattr(lib.autograd.functional, name)(fn(lib), ins, *extra, **kwargs)
        messages.append((info.type, str(info.value).replace(lib.__name__, "LIB")))
    assert messages[0] == messages[1]


# functions of lib, used by several tests
def exp_reducer(lib):
    return lambda x: x.exp().sum(dim=1)


def adder(lib):
    return lambda x, y: 2 * x + 3 * y


def two_outputs(lib):
    return lambda x, y: (x * y, (x.sin() * y).sum())


def ignores_y(lib):
    return lambda x, y: x.tanh() * 2


def constant(lib):
    return lambda x: lib.ones(3, dtype=lib.float64)


def cubic(lib):
    return lambda x: x.pow(3).sum()


def mixed_scalar(lib):
    return lambda x, y: (x.pow(3) * y).sum() + (y.sigmoid() / (1 + x * x)).sum()


def views(lib):
    return lambda x: (x.reshape(2, 6).transpose(0, 1)[1:4].select(1, 0) * x[0, :3]).exp()


# ---------------------------------------------------------------- vjp

@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_matches_torch(create_graph):
    e, t = both("vjp", exp_reducer, A, np.array([1.0, -2.0, 0.5]), create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)
    e, t = both("vjp", adder, (X3, Y3), X3, create_graph=create_graph)
    assert_same(e, t)
    e, t = both("vjp", two_outputs, (X3, Y3), (Y3, np.array(2.0)), create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)
    e, t = both("vjp", views, A, np.array([1.0, 2.0, 3.0]), create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)


def test_vjp_scalar_output_needs_no_v():
    e, t = both("vjp", cubic, X3)
    assert_same(e, t, requires_grad=False)
    np.testing.assert_allclose(np.asarray(e[1]), 3 * X3 ** 2)


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_independent_input_and_output_give_zeros(create_graph):
    e, t = both("vjp", ignores_y, (X3, Y3), Y3, create_graph=create_graph)
    assert_same(e, t)
    assert not np.any(np.asarray(e[1][1]))
    e, t = both("vjp", constant, X3, Y3, create_graph=create_graph)
    assert_same(e, t, requires_grad=False)


def test_vjp_float32_and_complex():
    e, t = both("vjp", exp_reducer, A.astype(np.float32), np.ones(3, np.float32))
    assert_same(e, t)
    z = X3 + 1j * Y3
    e, t = both("vjp", lambda lib: lambda x: x * x.conj() + x.exp(), z, z[::-1].copy())
    assert_same(e, t)


def test_create_graph_keeps_the_callers_inputs_linked():
    for lib in (ember, torch):
        x = lib.tensor(X3.copy(), requires_grad=True)
        _, g = lib.autograd.functional.vjp(cubic(lib), x, create_graph=True)
        # d/dx sum(3x^2) = 6x: the result is differentiable with respect to the caller's x
        second, = lib.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(np.asarray(second.detach()), 6 * X3)
        _, g = lib.autograd.functional.vjp(cubic(lib), x)
        assert not g.requires_grad and g.grad_fn is None
        assert x.grad is None


def test_vjp_under_no_grad():
    for create_graph in (False, True):
        with ember.no_grad():
            e = ember.autograd.functional.vjp(cubic(ember), ember.tensor(X3),
                                              create_graph=create_graph)
        with torch.no_grad():
            t = torch.autograd.functional.vjp(cubic(torch), torch.tensor(X3),
                                              create_graph=create_graph)
        assert_same(e, t)
        assert ember.is_grad_enabled()


def test_v_checks():
    same_error("vjp", exp_reducer, A)                                       # v None, 3 outputs
    same_error("vjp", exp_reducer, A, np.ones(4))                           # wrong size
    same_error("vjp", exp_reducer, A, (np.ones(3), np.ones(3)))             # tuple for one
    same_error("vjp", two_outputs, (X3, Y3), (np.ones(3),))                 # wrong length
    same_error("vjp", two_outputs, (X3, Y3), (np.ones(3), np.ones(2)))      # entry 1 size
    same_error("jvp", adder, (X3, Y3), (np.ones(3), np.ones(4)))
    same_error("jvp", adder, (X3, Y3))
    same_error("hvp", cubic, X3)
    same_error("vhp", cubic, X3, np.ones(2))


def test_argument_types():
    same_error("vjp", cubic, [X3])                       # a list is not a tuple of tensors
    same_error("jacobian", adder, (X3, 2.0))
    same_error("vjp", cubic, X3, 1.0)
    same_error("jacobian", lambda lib: lambda x: [x], X3)
    same_error("jvp", lambda lib: lambda x: (x, 3), X3, X3)


def test_strict_mode():
    same_error("vjp", ignores_y, (X3, Y3), Y3, strict=True)
    same_error("vjp", constant, X3, Y3, strict=True)
    same_error("jvp", ignores_y, (X3, Y3), (X3, Y3), strict=True)
    same_error("jvp", constant, X3, X3, strict=True)
    same_error("jacobian", ignores_y, (X3, Y3), strict=True)
    same_error("jacobian", ignores_y, (X3, Y3), strict=True, vectorize=True)
    same_error("hessian", lambda lib: lambda x: (2 * x).sum(), X3, strict=True)  # linear
    same_error("vhp", lambda lib: lambda x, y: (x * x).sum() + y.sum(), (X3, Y3), (X3, Y3),
               strict=True)
    same_error("hvp", lambda lib: lambda x: (3 * x).sum(), X3, X3, strict=True)
    # with create_graph, strict also refuses gradients that are constants (linear functions)
    same_error("jacobian", lambda lib: lambda x: 2 * x, X3, strict=True, create_graph=True)
    same_error("vjp", lambda lib: lambda x: 2 * x, X3, X3, strict=True, create_graph=True)
    same_error("vhp", lambda lib: lambda x: (x * x).sum(), X3, X3, strict=True,
               create_graph=True)
    # strict and dependent: the same results as without
    e, t = both("vjp", adder, (X3, Y3), X3, strict=True)
    assert_same(e, t)


# ---------------------------------------------------------------- jvp

@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp_matches_torch(create_graph):
    e, t = both("jvp", exp_reducer, A, B, create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)
    e, t = both("jvp", two_outputs, (X3, Y3), (Y3, X3), create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)
    e, t = both("jvp", views, A, B, create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)
    e, t = both("jvp", lambda lib: lambda x: x.log().mean() / x.sum(), np.abs(A) + 0.5, B,
                create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)


def test_jvp_analytic_and_independent_outputs():
    e, _ = both("jvp", exp_reducer, A, B)
    np.testing.assert_allclose(np.asarray(e[1]), (np.exp(A) * B).sum(1))
    e, t = both("jvp", lambda lib: lambda x, y: (x * 2, lib.ones(2, dtype=lib.float64)),
                (X3, Y3), (X3, Y3))
    assert_same(e, t)
    assert not np.any(np.asarray(e[1][1]))
    e, t = both("jvp", lambda lib: lambda x: x.sum(), np.array([2.0]))     # v None
    assert_same(e, t)


# ---------------------------------------------------------------- jacobian

@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_structure_matches_torch(create_graph):
    cases = [(exp_reducer, A), (adder, (X3, Y3)), (two_outputs, (X3, Y3)), (views, A),
             (lambda lib: lambda x: (x.exp(), x.sum()), X3),
             (ignores_y, (X3, Y3)), (constant, X3)]
    for fn, inputs in cases:
        e, t = both("jacobian", fn, inputs, create_graph=create_graph)
        assert_same(e, t)


def test_jacobian_analytic():
    e, _ = both("jacobian", lambda lib: lambda x: x * x, X3)
    np.testing.assert_allclose(np.asarray(e), np.diag(2 * X3))
    (jxy, jyy), _ = both("jacobian", lambda lib: lambda x, y: x * y,
                         (X3, Y3))
    np.testing.assert_allclose(np.asarray(jxy), np.diag(Y3))
    np.testing.assert_allclose(np.asarray(jyy), np.diag(X3))


def test_jacobian_zero_dim_and_empty():
    e, t = both("jacobian", lambda lib: lambda x: x * x, np.array(3.0))
    assert_same(e, t)
    e, t = both("jacobian", lambda lib: lambda x: (x * x).sum(), np.zeros((0, 2)))
    assert_same(e, t)
    # an empty output has an empty Jacobian (PyTorch's loop raises in stack here)
    j = ember.autograd.functional.jacobian(lambda x: x[:0] * 2, ember.ones(3, 2))
    assert tuple(j.shape) == (0, 2, 3, 2) and j.dtype == ember.float32


def test_jacobian_vectorize_is_row_by_row():
    e, t = both("jacobian", two_outputs, (X3, Y3), vectorize=True)
    assert_same(e, t)


def test_jacobian_strategy():
    same_error("jacobian", adder, (X3, Y3), strategy="sideways")
    same_error("jacobian", adder, (X3, Y3), strategy="forward-mode", create_graph=True)
    same_error("jacobian", adder, (X3, Y3), strategy="forward-mode", strict=True)
    same_error("jacobian", adder, (X3, Y3), strategy="forward-mode")     # needs vectorize
    same_error("hessian", cubic, X3, outer_jacobian_strategy="forward-mode")


def _tuples(t, detach=False):
    """torch's forward-mode results nest lists where its reverse mode (and ember) nest
    tuples; its forward-over-reverse Hessian leaks a graph (detached here)."""
    if isinstance(t, (list, tuple)):
        return tuple(_tuples(x, detach) for x in t)
    return t.detach() if detach else t


@pytest.mark.parametrize("inputs", [X3, (X3, Y3), np.array(3.0)])
def test_jacobian_forward_mode_matches_torch(inputs):
    fn = two_outputs if isinstance(inputs, tuple) else (lambda lib: lambda x: x.sin() * x)
    e, t = both("jacobian", fn, inputs, strategy="forward-mode", vectorize=True)
    assert_same(e, _tuples(t), requires_grad=False)


@pytest.mark.parametrize("inputs", [X3, (X3, Y3)])
def test_hessian_forward_over_reverse_matches_torch(inputs):
    if isinstance(inputs, tuple):
        def fn(lib):
            return lambda a, b: (a ** 2).sum() * b.sin().sum() + (a * b).exp().sum()
    else:
        def fn(lib):
            return lambda x: (x ** 3).sum() * x.exp().sum()
    e, t = both("hessian", fn, inputs, outer_jacobian_strategy="forward-mode", vectorize=True)
    assert_same(e, _tuples(t, detach=True), requires_grad=False)


# ---------------------------------------------------------------- hessian, hvp, vhp

@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian_matches_torch(create_graph):
    for fn, inputs in [(cubic, X3), (mixed_scalar, (X3, Y3)),
                       (lambda lib: lambda x: (x.exp() * x.sin()).sum().tanh(), A[:2, :2]),
                       (lambda lib: lambda x, y: (x * x).sum() + (2 * y).sum(), (X3, Y3))]:
        e, t = both("hessian", fn, inputs, create_graph=create_graph)
        assert_same(e, t)


def test_hessian_analytic():
    e, _ = both("hessian", cubic, X3)
    np.testing.assert_allclose(np.asarray(e), np.diag(6 * X3))
    (hxx, hxy), (hyx, hyy) = ember.autograd.functional.hessian(
        lambda x, y: (x * x * y).sum(), (ember.tensor(X3), ember.tensor(Y3)))
    np.testing.assert_allclose(np.asarray(hxx), np.diag(2 * Y3))
    np.testing.assert_allclose(np.asarray(hxy), np.diag(2 * X3))
    np.testing.assert_allclose(np.asarray(hyx), np.diag(2 * X3))
    np.testing.assert_allclose(np.asarray(hyy), np.zeros((3, 3)))


def test_hessian_of_a_non_scalar_function_raises():
    same_error("hessian", exp_reducer, A)
    same_error("hessian", lambda lib: lambda x: (x.sum(), x.sum()), X3)
    same_error("vhp", exp_reducer, A, A)
    same_error("hvp", lambda lib: lambda x: (x.sum(),), X3, X3)


@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hvp_vhp_match_torch(name, create_graph):
    e, t = both(name, mixed_scalar, (X3, Y3), (Y3, X3), create_graph=create_graph)
    assert_same(e, t)
    e, t = both(name, cubic, X3, Y3, create_graph=create_graph)
    assert_same(e, t, requires_grad=create_graph)
    np.testing.assert_allclose(np.asarray(e[1].detach()), 6 * X3 * Y3)
    e, t = both(name, lambda lib: lambda x, y: (x * x).sum() + 0 * y.sum(), (X3, Y3), (X3, Y3),
                create_graph=create_graph)
    assert_same(e, t)


def test_hvp_equals_hessian_times_v():
    v = np.array([0.25, -1.0, 2.0])
    h = np.asarray(ember.autograd.functional.hessian(mixed_scalar(ember),
                                                     (ember.tensor(X3), ember.tensor(Y3)))[0][0])
    _, (hv, _) = ember.autograd.functional.hvp(mixed_scalar(ember),
                                               (ember.tensor(X3), ember.tensor(Y3)),
                                               (ember.tensor(v), ember.zeros(3, dtype=ember.float64)))
    np.testing.assert_allclose(np.asarray(hv), h @ v, rtol=1e-12)


def test_higher_order_through_create_graph():
    """The Hessian made with create_graph=True is differentiable: its gradient is the
    third derivative, 6 for x**3."""
    for lib in (ember, torch):
        x = lib.tensor(X3.copy(), requires_grad=True)
        h = lib.autograd.functional.hessian(cubic(lib), x, create_graph=True)
        third, = lib.autograd.grad(h.sum(), x)
        np.testing.assert_allclose(np.asarray(third.detach()), np.full(3, 6.0))


LAYOUTS = {
    "transposed": lambda t: t.mT,
    "strided": lambda t: t[:, ::2],
    "expanded": lambda t: t[0].expand(3, 4),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_non_contiguous_inputs(layout, create_graph):
    """Views as inputs (leaves' views, so that create_graph links them to the leaf)."""
    results = []
    for lib in (ember, torch):
        x = LAYOUTS[layout](lib.tensor(A.copy(), requires_grad=True))
        F = lib.autograd.functional
        results.append((F.jacobian(lambda t: (t * t.sin()).sum(0), x, create_graph=create_graph),
                        F.hessian(lambda t: t.pow(3).sum(), x, create_graph=create_graph),
                        F.vjp(lambda t: t.exp() * 2, x, x.detach(), create_graph=create_graph),
                        F.jvp(lambda t: t.exp() * 2, x, x.detach(), create_graph=create_graph)))
    assert_same(*results, requires_grad=None)


def test_negative_strides():
    x = ember.tensor(A.copy())[::-1]
    jac = ember.autograd.functional.jacobian(lambda t: t * t, x)
    expected = np.diag(2 * A[::-1].ravel()).reshape(3, 4, 3, 4)
    np.testing.assert_allclose(np.asarray(jac), expected)
    _, hv = ember.autograd.functional.hvp(lambda t: t.pow(3).sum(), x, x)
    np.testing.assert_allclose(np.asarray(hv), 6 * A[::-1] ** 2)


POSITIVE = np.abs(A) + 0.5
Z3 = X3 + 1j * Y3
PRODUCT_OPS = {
    "log_div": (lambda lib: lambda x, y: x.log() / (y * y + 1), (POSITIVE, B)),
    "pow_tensor": (lambda lib: lambda x, y: x.pow(y.sigmoid()), (POSITIVE, B)),
    "mean_keepdim": (lambda lib: lambda x: (x * x.sin()).mean(1, keepdim=True), A),
    "softmax": (lambda lib: lambda x, y: x.softmax(1) * y.log_softmax(0), (A, B)),
    "advanced_index": (lambda lib: lambda x: x.tanh()[lib.tensor([2, 0, 2])] * x[0], A),
    "identity": (lambda lib: lambda x: x, A),
    "complex": (lambda lib: lambda z: (z * z).exp() * z.conj(), Z3),
}


@pytest.mark.parametrize("name", sorted(PRODUCT_OPS))
def test_products_over_ops(name):
    """jvp, vjp, hvp and vhp (of the squared norm of the output) agree with torch."""
    fn, inputs = PRODUCT_OPS[name]
    tangents = tuple(a[::-1].copy() for a in inputs) if isinstance(inputs, tuple) \
        else inputs[::-1].copy()

    def squared_norm(lib):
        return lambda *a: (fn(lib)(*a).abs() ** 2).sum()

    e, t = both("jvp", fn, inputs, tangents)
    assert_same(e, t)
    e, t = both("vjp", fn, inputs, e[0].numpy())
    assert_same(e, t)
    for name in ("hvp", "vhp"):
        e, t = both(name, squared_norm, inputs, tangents)
        assert_same(e, t)


def test_complex_outputs_need_v():
    same_error("jacobian", lambda lib: lambda z: z * z, Z3)
    same_error("vjp", lambda lib: lambda z: (z * z).sum(), Z3)


@pytest.mark.parametrize("name", ["jvp", "vjp", "hvp", "vhp"])
def test_create_graph_differentiates_through_inputs_and_v(name):
    """With create_graph=True the product is a function of the caller's inputs and v."""
    scalar = name in ("hvp", "vhp")
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(X3.copy(), requires_grad=True)
        v = lib.tensor(Y3.copy(), requires_grad=True)
        fn = (lambda t: t.pow(3).sum().sin()) if scalar else (lambda t: t.exp() * t)
        _, product = getattr(lib.autograd.functional, name)(fn, x, v, create_graph=True)
        grads.append(tuple(g.detach() for g in lib.autograd.grad(product.sum(), (x, v))))
    assert_same(*grads)
