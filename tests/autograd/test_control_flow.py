"""ember.cond and ember.while_loop against torch.cond and torch.while_loop run eagerly:
the branch or iterations taken, outputs, gradients through them, and the errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck

RNG = np.random.default_rng(5)
DTYPES = ["float64", "float32"]


@pytest.fixture(autouse=True, scope="module")
def _restore_torch_validation():
    """torch.cond and torch.while_loop run through Dynamo, whose first use turns off
    torch.distributions' argument validation for the whole process: put it back for the
    tests that follow."""
    validate = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(validate)


@pytest.fixture(autouse=True)
def _quiet():
    # torch's graph capture of a tensor predicate warns about the prototype feature
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def pair(a, dtype="float64", requires_grad=False):
    return (ember.tensor(a.copy(), dtype=getattr(ember, dtype), requires_grad=requires_grad),
            torch.tensor(a.copy(), dtype=getattr(torch, dtype), requires_grad=requires_grad))


def close(e, t, dtype="float64"):
    np.testing.assert_allclose(np.asarray(e.detach()), t.detach().numpy(),
                               rtol=1e-12 if dtype == "float64" else 2e-6, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pred", [True, 0, 2.5, 0.0])
def test_cond_python_pred_runs_the_branch(pred, dtype):
    e, t = pair(RNG.standard_normal((3, 4)), dtype)
    out_e = ember.cond(pred, lambda a: a.cos(), lambda a: a.sin(), (e,))
    out_t = torch.cond(pred, lambda a: a.cos(), lambda a: a.sin(), (t,))
    close(out_e, out_t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make_pred", [lambda lib: lib.tensor(True), lambda lib: lib.tensor(0.0),
                                       lambda lib: lib.tensor([3]), lambda lib: lib.tensor([[0]])])
def test_cond_tensor_pred_values_and_gradients(make_pred, dtype):
    a = RNG.standard_normal((4, 3))
    e, t = pair(a, dtype, requires_grad=True)
    b_e, b_t = pair(RNG.standard_normal(3), dtype)
    # non-contiguous operand (a transpose) and a batched one broadcast against it
    out_e = ember.cond(make_pred(ember), lambda x, y: (x.T * y[:, None]).exp(),
                       lambda x, y: x.T.tanh() - y[:, None], [e, b_e])
    out_t = torch.cond(make_pred(torch), lambda x, y: (x.T * y[:, None]).exp(),
                       lambda x, y: x.T.tanh() - y[:, None], [t, b_t])
    close(out_e, out_t, dtype)
    g = RNG.standard_normal(out_t.shape)
    out_e.backward(ember.tensor(g, dtype=getattr(ember, dtype)))
    out_t.backward(torch.tensor(g, dtype=getattr(torch, dtype)))
    close(e.grad, t.grad, dtype)


def test_cond_gradcheck_both_branches():
    x = ember.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    for pred in (ember.tensor(True), ember.tensor(False)):
        assert gradcheck(lambda x: ember.cond(pred, lambda a: (a * a).sum(1),
                                              lambda a: a.sin().prod(1), (x,)), (x,))


def test_cond_nested_operands_outputs_and_closures():
    x_e, x_t = pair(RNG.standard_normal(3))
    ops_e, ops_t = ((x_e, {"k": x_e * 2}),), ((x_t, {"k": x_t * 2}),)
    out_e = ember.cond(ember.tensor(False), lambda p: {"s": p[0] + p[1]["k"]},
                       lambda p: {"s": p[0] * p[1]["k"]}, ops_e)
    out_t = torch.cond(torch.tensor(False), lambda p: {"s": p[0] + p[1]["k"]},
                       lambda p: {"s": p[0] * p[1]["k"]}, ops_t)
    close(out_e["s"], out_t["s"])
    # no operands: the branches close over what they need; a tuple of outputs and an int
    out_e = ember.cond(ember.tensor(True), lambda: (x_e + 1, 3), lambda: (x_e - 1, 4))
    out_t = torch.cond(torch.tensor(True), lambda: (x_t + 1, 3), lambda: (x_t - 1, 4))
    close(out_e[0], out_t[0])
    assert out_e[1] == out_t[1] == 3


def test_cond_empty_tensor_operand():
    out = ember.cond(ember.tensor(True), lambda a: a + 1, lambda a: a - 1, (ember.zeros(0, 2),))
    assert out.shape == (0, 2)


@pytest.mark.parametrize("case", [
    lambda lib, x: lib.cond(lib.tensor([True, False]), lambda a: a * 2, lambda a: a, (x,)),
    lambda lib, x: lib.cond(None, lambda a: a * 2, lambda a: a, (x,)),
    lambda lib, x: lib.cond("yes", lambda a: a * 2, lambda a: a, (x,)),
    lambda lib, x: lib.cond(lib.tensor(True), 3, lambda a: a, (x,)),
    lambda lib, x: lib.cond(lib.tensor(True), lambda a, b: a * b, lambda a, b: a, (x, 1)),
    lambda lib, x: lib.cond(lib.tensor(True), lambda a: a[:2], lambda a: a[1:], (x,)),
    lambda lib, x: lib.cond(lib.tensor(True), lambda a: None, lambda a: None, (x,)),
], ids=["two-elements", "none", "str", "not-callable", "int-operand", "aliasing", "none-output"])
def test_cond_errors_match_torch(case):
    a = RNG.standard_normal(3)
    e, t = pair(a)
    with pytest.raises(RuntimeError):
        case(torch, t)
    with pytest.raises(RuntimeError):
        case(ember, e)


@pytest.mark.parametrize("dtype", DTYPES)
def test_while_loop_values_and_gradients(dtype):
    # PyTorch's capture wants the body's outputs to keep the carried strides: contiguous
    # carries, and a non-contiguous weight (a transpose) closed over
    e, t = pair(RNG.standard_normal((2, 3)), dtype, requires_grad=True)
    w_e, w_t = pair(RNG.standard_normal((3, 3)) / 2, dtype, requires_grad=True)

    def body(lib):
        return lambda i, x: (i + 1, (x @ w_e.T if lib is ember else x @ w_t.T).tanh() + x)

    i_e, out_e = ember.while_loop(lambda i, x: i < 3, body(ember), (ember.tensor(0), e))
    i_t, out_t = torch.while_loop(lambda i, x: i < 3, body(torch), (torch.tensor(0), t))
    assert int(i_e) == int(i_t) == 3
    close(out_e, out_t, dtype)
    out_e.sum().backward()
    out_t.sum().backward()
    close(e.grad, t.grad, dtype)
    close(w_e.grad, w_t.grad, dtype)


def test_while_loop_gradcheck():
    x = ember.tensor(RNG.standard_normal(3), requires_grad=True)

    def f(x):
        return ember.while_loop(lambda i, y: i < 4, lambda i, y: (i + 1, y.sin() * 1.5),
                                (ember.tensor(0), x))[1]
    assert gradcheck(f, (x,))


def test_while_loop_containers_ints_and_zero_iterations():
    x_e, x_t = pair(RNG.standard_normal(3))
    # a list of carries gives the body's list back
    out_e = ember.while_loop(lambda i, x: i < 2, lambda i, x: [i + 1, x * 2], [ember.tensor(0), x_e])
    out_t = torch.while_loop(lambda i, x: i < 2, lambda i, x: [i + 1, x * 2], [torch.tensor(0), x_t])
    assert type(out_e) is type(out_t) is list
    close(out_e[1], out_t[1])
    # nested dict carry
    (d_e,) = ember.while_loop(lambda d: d["i"] < 3, lambda d: ({"i": d["i"] + 1, "a": d["a"] + 1},),
                              ({"i": ember.tensor(0), "a": x_e},))
    (d_t,) = torch.while_loop(lambda d: d["i"] < 3, lambda d: ({"i": d["i"] + 1, "a": d["a"] + 1},),
                              ({"i": torch.tensor(0), "a": x_t},))
    close(d_e["a"], d_t["a"])
    # a Python int carry and a Python bool condition
    n, y = ember.while_loop(lambda n, y: n < 3, lambda n, y: (n + 1, y + n), (0, x_e))
    assert n == 3
    close(y, x_t + 3)
    # the body never runs: clones of the inputs, in a tuple
    out_e = ember.while_loop(lambda i, x: i < 0, lambda i, x: (i + 1, x * 2), [ember.tensor(0), x_e])
    out_t = torch.while_loop(lambda i, x: i < 0, lambda i, x: (i + 1, x * 2), [torch.tensor(0), x_t])
    assert type(out_e) is type(out_t) is tuple
    assert out_e[1] is not x_e and out_e[1].data_ptr() != x_e.data_ptr()
    close(out_e[1], out_t[1])
    # one tensor carried, the body returning it alone
    out = ember.while_loop(lambda a: a.sum() < 10, lambda a: a + 1, (ember.zeros(2),))
    np.testing.assert_array_equal(np.asarray(out), [5.0, 5.0])


@pytest.mark.parametrize("case", [
    lambda lib, x: lib.while_loop(lambda i, a: (i < 3).float(), lambda i, a: (i + 1, a), (lib.tensor(0), x)),
    lambda lib, x: lib.while_loop(lambda i, a: (i < 3).reshape(1), lambda i, a: (i + 1, a * 2),
                                  (lib.tensor(0), x)),
    lambda lib, x: lib.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1,), (lib.tensor(0), x)),
    lambda lib, x: lib.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a.sum()), (lib.tensor(0), x)),
    lambda lib, x: lib.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a.float()), (lib.tensor(0), x)),
    lambda lib, x: lib.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a), (lib.tensor(0), x)),
    lambda lib, x: lib.while_loop(3, lambda i, a: (i + 1, a), (0, x)),
], ids=["float-condition", "one-element-condition", "wrong-length", "shape-change",
        "dtype-change", "aliasing", "not-callable"])
def test_while_loop_errors_match_torch(case):
    e, t = pair(RNG.standard_normal(3))
    with pytest.raises(RuntimeError):
        case(torch, t)
    with pytest.raises(RuntimeError):
        case(ember, e)


def test_while_loop_rejects_float_carry_and_non_sequence():
    for lib in (torch, ember):
        with pytest.raises(AssertionError):
            lib.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a), (0.5, lib.zeros(2)))
    with pytest.raises(RuntimeError, match="tuple or list"):
        ember.while_loop(lambda a: a.sum() < 3, lambda a: (a + 1,), ember.zeros(2))
