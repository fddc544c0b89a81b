"""ember.autograd.gradcheck / gradgradcheck: they pass on correct derivatives and catch
wrong ones (custom Functions with deliberately wrong backwards), in slow and fast mode,
agreeing with torch.autograd.gradcheck on the same functions."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import GradcheckError, gradcheck, gradgradcheck
from grad_oracle import check_gradients

RNG = np.random.default_rng(3)
M34 = RNG.standard_normal((3, 4))
V4 = RNG.standard_normal(4)
Z3 = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
MODES = [False, True]


def leaf(lib, a):
    return lib.tensor(np.array(a), requires_grad=True)


def custom(lib, forward, backward):
    """A ``lib.autograd.Function`` with the given forward(x) and backward(x, grad)."""
    class Op(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return forward(x)

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return backward(x, grad)
    return Op.apply


# forward, backward pairs; "right" ones are correct, the others are deliberately wrong
CUBE = (lambda x: x * x * x, lambda x, g: 3 * x * x * g)
CUBE_WRONG = (lambda x: x * x * x, lambda x, g: 2 * x * x * g)
# f(z) = z * z is holomorphic: the gradient is grad * conj(2 z); without conj it is wrong
SQUARE_RIGHT = (lambda z: z * z, lambda z, g: g * (2 * z).conj())
SQUARE_NO_CONJ = (lambda z: z * z, lambda z, g: g * 2 * z)
# right except at one element (fast mode sees it through random weights of that element,
# which for ember's fixed generator are not small at element 0)
EXP_ONE_WRONG = (lambda x: x.exp(),
                 lambda x, g: g * x.exp() * (1 + (x == x.reshape(-1)[0]).to(x.dtype)))


def both_agree(make_fn, arrays, expected, fast_mode):
    """ember's and torch's gradcheck give ``expected`` on the same function and data."""
    for lib in (ember, torch):
        xs = tuple(leaf(lib, a) for a in arrays)
        got = lib.autograd.gradcheck(make_fn(lib), xs, fast_mode=fast_mode,
                                     raise_exception=False)
        assert got is expected, f"{lib.__name__} gradcheck gave {got}"


@pytest.mark.parametrize("fast_mode", MODES)
def test_correct_functions_pass(fast_mode):
    both_agree(lambda lib: lambda x: (x * x).sin(), [M34], True, fast_mode)
    both_agree(lambda lib: custom(lib, *CUBE), [M34], True, fast_mode)
    both_agree(lambda lib: lambda x, y: (x * y, (x.exp() / y).sum(1)), [M34, V4], True,
               fast_mode)
    both_agree(lambda lib: lambda x: x.reshape(2, 6).transpose(0, 1)[1:5, 0].tanh(), [M34],
               True, fast_mode)


@pytest.mark.parametrize("fast_mode", MODES)
def test_wrong_derivatives_are_caught(fast_mode):
    both_agree(lambda lib: custom(lib, *CUBE_WRONG), [M34], False, fast_mode)
    both_agree(lambda lib: custom(lib, *EXP_ONE_WRONG), [M34], False, fast_mode)
    # the wrong op as one of several inputs and outputs
    both_agree(lambda lib: lambda x, y: (x.sin() * y, custom(lib, *CUBE_WRONG)(y).sum()),
               [M34, V4], False, fast_mode)
    x = leaf(ember, M34)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0"):
        gradcheck(custom(ember, *CUBE_WRONG), (x,), fast_mode=fast_mode)
    assert gradcheck(custom(ember, *CUBE_WRONG), (x,), fast_mode=fast_mode,
                     raise_exception=False) is False


def test_mismatch_message_names_output_input_and_element():
    x, y = leaf(ember, M34), leaf(ember, V4)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (a.sin(), custom(ember, *CUBE_WRONG)(b)), (x, y))
    message = str(info.value)
    assert "output 1 with respect to input 1" in message
    assert "at output element (0,) and input element (0,)" in message
    expected, got = 3 * V4[0] ** 2, 2 * V4[0] ** 2
    numbers = [float(line.split(":")[1]) for line in message.splitlines()
               if line.startswith(("numerical:", "analytical:"))]
    np.testing.assert_allclose(numbers, [expected, got], rtol=1e-6)


@pytest.mark.parametrize("fast_mode", MODES)
def test_complex_inputs(fast_mode):
    both_agree(lambda lib: custom(lib, *SQUARE_RIGHT), [Z3], True, fast_mode)
    both_agree(lambda lib: custom(lib, *SQUARE_NO_CONJ), [Z3], False, fast_mode)
    both_agree(lambda lib: lambda z: z * z.conj() + z.exp(), [Z3], True, fast_mode)
    both_agree(lambda lib: lambda z: (z.real * z.imag, z.abs()), [Z3], True, fast_mode)
    both_agree(lambda lib: lambda z, x: (z * x[:3]).exp(), [Z3, V4], True, fast_mode)


@pytest.mark.parametrize("layout", ["transposed", "strided", "reversed"])
@pytest.mark.parametrize("fast_mode", MODES)
def test_non_contiguous_inputs(layout, fast_mode):
    """The finite differences perturb the input's own (strided) memory."""
    base = ember.tensor(np.concatenate([M34, M34], axis=1))
    view = {"transposed": lambda t: t.mT, "strided": lambda t: t[:, ::2],
            "reversed": lambda t: t[::-1]}[layout](base).requires_grad_(True)
    assert not view.is_contiguous()
    assert gradcheck(lambda t: t.exp() * t.sum(0), (view,), fast_mode=fast_mode)
    assert not gradcheck(custom(ember, *CUBE_WRONG), (view,), fast_mode=fast_mode,
                         raise_exception=False)


def test_input_checks():
    for lib in (ember, torch):
        expanded = lib.tensor(V4).expand(3, 4).requires_grad_(True)
        with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
            lib.autograd.gradcheck(lambda t: t * 2, (expanded,))
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            lib.autograd.gradcheck(lambda t: t * 2, (lib.tensor(V4),))
        with pytest.warns(UserWarning, match="Input #1 requires gradient and is not a double "
                                             "precision floating point or complex"):
            lib.autograd.gradcheck(lambda a, b: a * b, (leaf(lib, V4), leaf(lib, V4).float()),
                                   eps=1e-3, atol=1e-2, rtol=1e-2)
        with pytest.raises(AssertionError, match="check_batched_forward_grad=True requires "
                                                 "check_forward_ad"):
            lib.autograd.gradcheck(lambda t: t * 2, (leaf(lib, V4),),
                                   check_batched_forward_grad=True)
        with pytest.raises(AssertionError, match="check_batched_grad=True requires "
                                                 "check_backward_ad"):
            lib.autograd.gradcheck(lambda t: t * 2, (leaf(lib, V4),), check_batched_grad=True,
                                   check_backward_ad=False, check_forward_ad=True)


def custom_with_jvp(lib, forward, backward, jvp):
    """Like :func:`custom`, with a forward-mode formula jvp(x, tangent)."""
    class Op(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return forward(x)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return backward(x, grad)

        @staticmethod
        def jvp(ctx, tangent):
            x, = ctx.saved_tensors
            return jvp(x, tangent)
    return Op.apply


@pytest.mark.parametrize("fast_mode", MODES)
@pytest.mark.parametrize("backward_too", [True, False])
def test_check_forward_ad_agrees_with_torch(fast_mode, backward_too):
    cases = [
        (lambda lib: lambda x, y: (x * y, (x.exp() / y).sum(1)), [M34, V4], True),
        (lambda lib: lambda z: (z * z.conj()).real + z.exp().imag, [Z3], True),
        (lambda lib: lambda z: z.exp() * z, [Z3], True),
        (lambda lib: custom_with_jvp(lib, *CUBE, lambda x, t: 3 * x * x * t), [V4], True),
        (lambda lib: custom_with_jvp(lib, *CUBE, lambda x, t: 2 * x * x * t), [V4], False),
    ]
    for make_fn, arrays, expected in cases:
        for lib in (ember, torch):
            got = lib.autograd.gradcheck(make_fn(lib), tuple(leaf(lib, a) for a in arrays),
                                         check_forward_ad=True, check_backward_ad=backward_too,
                                         fast_mode=fast_mode, raise_exception=False)
            assert got is expected, f"{lib.__name__} gradcheck gave {got}"
    with pytest.raises(GradcheckError, match="Jacobian computed with forward mode mismatch"):
        gradcheck(custom_with_jvp(ember, *CUBE, lambda x, t: t), (leaf(ember, V4),),
                  check_forward_ad=True, check_backward_ad=False)


def test_check_batched_grad_agrees_with_torch():
    for lib in (ember, torch):
        assert lib.autograd.gradcheck(lambda x, y: (x * y, (x.exp() / y).sum(1)),
                                      (leaf(lib, M34), leaf(lib, V4)), check_batched_grad=True)
        assert lib.autograd.gradgradcheck(lambda x: (x * x).sin(), (leaf(lib, M34),),
                                          check_batched_grad=True)


@pytest.mark.parametrize("fast_mode", MODES)
def test_outputs_that_do_not_require_grad(fast_mode):
    both_agree(lambda lib: lambda x: (x * 2, x.detach()), [V4], True, fast_mode)
    both_agree(lambda lib: lambda x: lib.ones(2, dtype=lib.float64), [V4], True, fast_mode)
    both_agree(lambda lib: lambda x: (x * 2).detach(), [V4], False, fast_mode)
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be "
                                             "zero"):
        gradcheck(lambda x: (x * 2).detach(), (leaf(ember, V4),), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", MODES)
def test_nondeterministic_backward(fast_mode):
    noise = np.random.default_rng(0)
    noisy = (lambda x: x * 2,
             lambda x, g: g * (2 + ember.tensor(noise.standard_normal(4) * 1e-9)))
    x = leaf(ember, V4)
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(custom(ember, *noisy), (x,), fast_mode=fast_mode)
    assert gradcheck(custom(ember, *noisy), (x,), nondet_tol=1e-7, fast_mode=fast_mode)


def test_backward_must_scale_with_grad_output():
    # right for a grad of ones (each output element's row), but not linear in grad
    affine = (lambda x: x * 1.0, lambda x, g: g + (g == 0).to(x.dtype))
    with pytest.raises(GradcheckError, match="backward not multiplied by grad_output"):
        gradcheck(custom(ember, *affine), (leaf(ember, V4[:1]),))


# ---------------------------------------------------------------- gradgradcheck

@pytest.mark.parametrize("fast_mode", MODES)
def test_gradgradcheck_catches_a_first_order_only_backward(fast_mode):
    """A backward right to first order but written with a detached input has a wrong
    derivative itself: gradcheck passes, gradgradcheck fails (as in torch)."""
    detached = (lambda x: x * x, lambda x, g: 2 * x.detach() * g)
    for lib in (ember, torch):
        fn = custom(lib, *detached)
        x = leaf(lib, M34)
        assert lib.autograd.gradcheck(fn, (x,), fast_mode=fast_mode)
        assert not lib.autograd.gradgradcheck(fn, (x,), fast_mode=fast_mode,
                                              raise_exception=False)
        assert lib.autograd.gradgradcheck(custom(lib, *CUBE), (x,), fast_mode=fast_mode)


def test_gradgradcheck_arguments():
    x, y = leaf(ember, M34), leaf(ember, V4)
    fn = lambda a, b: (a * b).sin()
    assert gradgradcheck(fn, (x, y), gen_non_contig_grad_outputs=True)
    given = ember.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert gradgradcheck(fn, (x, y), given)
    assert gradgradcheck(lambda z: z * z.exp(), (leaf(ember, Z3),))
    assert gradgradcheck(lambda z: z * z.exp(), (leaf(ember, Z3),), fast_mode=True)


POSITIVE = np.abs(M34) + 0.5
OPS = {
    "exp": (lambda lib, x: x.exp(), [M34]),
    "log": (lambda lib, x: x.log(), [POSITIVE]),
    "sin": (lambda lib, x: x.sin(), [M34]),
    "tanh": (lambda lib, x: x.tanh(), [M34]),
    "sigmoid": (lambda lib, x: x.sigmoid(), [M34]),
    "pow_scalar": (lambda lib, x: x.pow(3), [M34]),
    "pow_tensor": (lambda lib, x, y: x.pow(y), [POSITIVE, V4]),
    "div": (lambda lib, x, y: x / y, [M34, V4 + 2 * np.sign(V4)]),
    "mul": (lambda lib, x, y: x * y, [M34, V4]),
    "sum": (lambda lib, x: (x * x).sum(1), [M34]),
    "sum_all": (lambda lib, x: (x * x).sum(), [M34]),
    "mean": (lambda lib, x: (x * x).mean(0, keepdim=True), [M34]),
    "softmax": (lambda lib, x: x.softmax(1), [M34]),
    "log_softmax": (lambda lib, x: x.log_softmax(0), [M34]),
    "reshape": (lambda lib, x: (x * x).reshape(2, 6), [M34]),
    "transpose": (lambda lib, x: (x * x).transpose(0, 1), [M34]),
    "select": (lambda lib, x: (x * x).select(1, 2), [M34]),
    "getitem": (lambda lib, x: (x * x)[1:, ::2], [M34]),
    "getitem_advanced": (lambda lib, x: (x * x)[lib.tensor([2, 0, 2])], [M34]),
    "complex_mul_exp": (lambda lib, z: (z * z).exp(), [Z3]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradgradcheck_ops(name):
    fn, arrays = OPS[name]
    check_gradients(fn, *arrays)
    xs = [leaf(torch, a) for a in arrays]       # the same check holds in torch
    assert torch.autograd.gradgradcheck(lambda *a: fn(torch, *a), tuple(xs))


@pytest.mark.parametrize("fn", [lambda L, t: t.exp().sum() * t, lambda L, t: t.sigmoid() * t,
                                lambda L, t: L.tanh(t) ** 2, lambda L, t: L.softmax(t, 0)])
def test_gradgradcheck_forward_over_reverse(fn):
    # forward mode through the backward pass: formulas that read the op's own result
    # (exp, sigmoid, tanh, softmax) need the saved output's tangent
    for lib in (ember, torch):
        assert lib.autograd.gradgradcheck(lambda t: fn(lib, t), (leaf(lib, V4),),
                                          check_fwd_over_rev=True)
        assert lib.autograd.gradgradcheck(lambda t: fn(lib, t), (leaf(lib, V4),),
                                          check_fwd_over_rev=True, check_rev_over_rev=False,
                                          check_undefined_grad=False)
        with pytest.raises(AssertionError, match="check_undefined_grad=True requires"):
            lib.autograd.gradgradcheck(lambda t: fn(lib, t), (leaf(lib, V4),),
                                       check_fwd_over_rev=True, check_rev_over_rev=False)


def test_forward_tangent_of_a_saved_output_matches_torch():
    import ember.autograd.forward_ad as efw
    import torch.autograd.forward_ad as tfw
    got = {}
    for lib, fw in ((ember, efw), (torch, tfw)):
        x = lib.tensor(V4, dtype=lib.float64, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(x, lib.ones(4, dtype=lib.float64))
            g, = lib.autograd.grad(d.exp(), d, lib.ones(4, dtype=lib.float64), create_graph=True)
            got[lib.__name__] = fw.unpack_dual(g).tangent.detach().numpy()
    np.testing.assert_allclose(got["ember"], got["torch"], rtol=1e-12)


def test_check_batched_forward_grad_agrees_with_torch(monkeypatch):
    cases = [(lambda x, y: (x * y, (x.exp() / y).sum(1)), [M34, V4]),
             (lambda z: z.exp() * z, [Z3]),    # (not conj or .real: torch's own check
             (lambda x: x.sin().cumsum(0), [V4])]      # fails on them, an internal assert)
    for fn, arrays in cases:
        for lib in (ember, torch):
            assert lib.autograd.gradcheck(fn, tuple(leaf(lib, a) for a in arrays),
                                          check_forward_ad=True, check_batched_forward_grad=True)
    # the check maps the tangents with ember.func.vmap, one batch per floating input
    calls = []
    real_vmap = ember.func.vmap
    monkeypatch.setattr(ember.func, "vmap", lambda f: calls.append(f) or real_vmap(f))
    gradcheck(cases[0][0], (leaf(ember, M34), leaf(ember, V4)), check_forward_ad=True,
              check_batched_forward_grad=True)
    assert len(calls) == 2
