"""Gradient checks: the graph's gradients against finite differences.

The convention is PyTorch's for complex numbers: for a real loss
``L = Re(sum(conj(v) * y))`` the gradient of an input ``x`` is
``dL/dRe(x) + 1j * dL/dIm(x)``, and ``y.backward(v)`` computes it.  Seen as a
real map from ``(Re x, Im x)`` to ``(Re y, Im y)`` with real Jacobian ``J``,
that gradient is ``J^T (Re v, Im v)``; every check below compares such
products with central differences of ``func``.
"""
import warnings

import numpy as np

from ember._core._index import stack
from ember._core._tensor import Tensor, tensor, zeros_like
from ember.autograd.engine import grad as _grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]

_NONDET_MSG = ("Backward is not reentrant, i.e., running backward with same input and "
               "grad_output multiple times gives different values, although analytical "
               "gradient matches numerical gradient. The tolerance for nondeterminism was "
               "{tol}. If the backward relies on non-deterministic operations, pass "
               "nondet_tol=<tol>.")


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when analytical and numerical gradients differ."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _differentiable(t):
    return isinstance(t, Tensor) and (t.is_floating_point() or t.is_complex())


def _outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return [o for o in out if _differentiable(o)]


def _as_complex(t):
    return np.array(t.detach(), dtype=np.complex128)


def _check_inputs(inputs):
    """The indices of the inputs to check; warn about low precision, refuse overlap."""
    wrt = []
    for idx, inp in enumerate(inputs):
        if not (isinstance(inp, Tensor) and inp.requires_grad):
            continue
        if inp.dtype.itemsize < (16 if inp.is_complex() else 8):
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision "
                          "floating point or complex. This check will likely fail if all the "
                          "inputs are not of double precision floating point or complex. ",
                          stacklevel=3)
        if not all(st != 0 or sz <= 1 for st, sz in zip(inp.stride(), inp.shape)):
            raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck "
                               "only supports inputs that are non-overlapping to be able to "
                               "compute the numerical gradients correctly. You should call "
                               ".contiguous on the input before passing it to gradcheck.")
        wrt.append(idx)
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    return wrt


def _central_difference(func, inputs, x, index, direction, eps):
    """``(f(x + eps d) - f(x - eps d)) / (2 eps)`` for every output (complex arrays), where
    ``d`` is ``direction`` at ``index`` of ``x`` (an element, or ``...`` with an array)."""
    flat = np.asarray(x.detach())                    # shares memory: perturb in place
    original = flat[index].copy()
    flat[index] = original + eps * direction
    plus = [_as_complex(o) for o in _outputs(func, inputs)]
    flat[index] = original - eps * direction
    minus = [_as_complex(o) for o in _outputs(func, inputs)]
    flat[index] = original
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _numerical_jacobians(func, inputs, wrt, eps):
    """Per checked input, per output, the central-difference Jacobian as a complex array
    of shape (directions, input elements, output elements): the real direction and, for
    a complex input, the imaginary one."""
    result = []
    for i in wrt:
        x = inputs[i]
        columns = [[_central_difference(func, inputs, x, index, d, eps)
                    for d in ((1.0, 1j) if x.is_complex() else (1.0,))]
                   for index in np.ndindex(*x.shape)]
        n_dirs = 2 if x.is_complex() else 1
        per_output = []
        for k, out in enumerate(_outputs(func, inputs)):
            jac = np.zeros((n_dirs, x.numel(), out.numel()), np.complex128)
            for j, column in enumerate(columns):
                for d, changes in enumerate(column):
                    jac[d, j] = changes[k].ravel()
            per_output.append(jac)
        result.append(per_output)
    return result


def _vjp(output, wrt_inputs, v, nondet_tol, check_grad_dtypes):
    """The gradient of ``Re(sum(conj(v) * output))`` for each input (None where unused),
    computed twice to check that backward is deterministic."""
    grads = [_grad([output], wrt_inputs, grad_outputs=[v], retain_graph=True,
                   allow_unused=True) for _ in range(2)]
    for g1, g2, x in zip(grads[0], grads[1], wrt_inputs):
        if g1 is None:
            continue
        if tuple(g1.shape) != tuple(x.shape):
            raise GradcheckError("Analytical gradient has incorrect size")
        if check_grad_dtypes and g1.dtype != x.dtype:
            raise GradcheckError("Gradient has dtype mismatch")
        a1, a2 = _as_complex(g1), _as_complex(g2)
        if a1.size and np.max(np.abs(a1 - a2)) > nondet_tol:
            raise GradcheckError(_NONDET_MSG.format(tol=nondet_tol))
    return [None if g is None else _as_complex(g) for g in grads[0]]


def _mismatch(k, i, numerical, analytical, where=""):
    return GradcheckError(f"Jacobian mismatch for output {k} with respect to input {i},\n"
                          f"{where}numerical:{numerical}\nanalytical:{analytical}\n")


def _slow_check(func, inputs, wrt, outputs, eps, atol, rtol, nondet_tol, check_grad_dtypes):
    """Every element of every Jacobian, each output element's row by one backward."""
    numerical = _numerical_jacobians(func, inputs, wrt, eps)
    wrt_inputs = [inputs[i] for i in wrt]
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for e, index in enumerate(np.ndindex(*out.shape)):
            for c in ((1.0, 1j) if out.is_complex() else (1.0,)):
                v = zeros_like(out)
                np.asarray(v)[index] = c
                rows = _vjp(out, wrt_inputs, v, nondet_tol, check_grad_dtypes)
                for n, i in enumerate(wrt):
                    jac = numerical[n][k]
                    # the real-Jacobian entries that the gradient's real (imaginary) part
                    # holds: d Re(conj(c) y) / d Re(x) (and / d Im(x))
                    expected = np.real(np.conj(c) * jac[0, :, e])
                    if len(jac) == 2:
                        expected = expected + 1j * np.real(np.conj(c) * jac[1, :, e])
                    got = np.zeros_like(expected) if rows[n] is None else rows[n].ravel()
                    if not inputs[i].is_complex():
                        expected, got = expected.real, got.real
                    bad = np.flatnonzero(~(np.abs(got - expected) <=
                                           atol + rtol * np.abs(expected)))
                    if bad.size:
                        elem = np.unravel_index(bad[0], tuple(inputs[i].shape))
                        part = " (imaginary part)" if c == 1j else ""
                        raise _mismatch(k, i, expected[bad[0]], got[bad[0]],
                                        f"at output element {index}{part} and input element "
                                        f"{tuple(int(t) for t in elem)}:\n")


def _unit_random(rng, shape, is_complex):
    """A random non-negative vector of unit norm (real and imaginary parts each)."""
    def part():
        r = rng.random(shape)
        norm = np.linalg.norm(r)
        return r / norm if norm else r
    return part() + 1j * part() if is_complex else part()


def _fast_check(func, inputs, wrt, outputs, eps, atol, rtol, nondet_tol, check_grad_dtypes):
    """PyTorch's fast mode: for random ``u`` (per input) and ``v`` (per output), compare
    ``v^T J u`` from one backward (``(J^T v) . u``) with one central difference along
    ``u``; the absolute tolerance grows with ``sum(u) * sum(v)``, as an element-wise
    tolerance would after the projection."""
    rng = np.random.default_rng(0)                   # own generator: the user's is untouched
    us = [_unit_random(rng, tuple(inputs[i].shape), inputs[i].is_complex()) for i in wrt]
    diff = [k for k, o in enumerate(outputs) if o.requires_grad]
    vs = {k: _unit_random(rng, tuple(outputs[k].shape), outputs[k].is_complex()) for k in diff}
    wrt_inputs = [inputs[i] for i in wrt]
    analytical = {k: _vjp(outputs[k], wrt_inputs, tensor(vs[k], dtype=outputs[k].dtype),
                          nondet_tol, check_grad_dtypes) for k in diff}
    for n, (i, u) in enumerate(zip(wrt, us)):
        if not u.size:
            continue
        changes = _central_difference(func, inputs, inputs[i], ..., u, eps)     # J u
        u_sum = np.sum(u.real) + np.sum(u.imag)
        for k in diff:
            numerical = np.real(np.sum(np.conj(vs[k]) * changes[k]))
            g = analytical[k][n]
            got = 0.0 if g is None else np.real(np.sum(np.conj(g) * u))
            tol = atol * u_sum * (np.sum(vs[k].real) + np.sum(vs[k].imag))
            if not abs(got - numerical) <= tol + rtol * abs(numerical):
                raise _mismatch(k, i, numerical, got,
                                "in fast mode (v^T J u for random vectors u, v; rerun with "
                                "fast_mode=False for the element-wise comparison):\n")


def _check_no_differentiable_outputs(func, inputs, wrt, eps, nondet_tol):
    for per_input in _numerical_jacobians(func, inputs, wrt, eps):
        if any(jac.size and np.max(np.abs(jac)) > nondet_tol for jac in per_input):
            raise GradcheckError("Numerical gradient for function expected to be zero")


def _check_backward_mul_by_grad_output(outputs, wrt_inputs):
    """Zero output gradients must give zero input gradients."""
    diff_outs = [o for o in outputs if o.requires_grad]
    grads = _grad(diff_outs, wrt_inputs, grad_outputs=[zeros_like(o) for o in diff_outs],
                  retain_graph=True, allow_unused=True)
    for g, x in zip(grads, wrt_inputs):
        if g is None:
            continue
        if tuple(g.shape) != tuple(x.shape):
            raise GradcheckError("grad is incorrect size")
        if g.numel() and np.any(_as_complex(g) != 0):
            raise GradcheckError("backward not multiplied by grad_output")


def _check_forward_ad(func, inputs, wrt, eps, atol, rtol, fast_mode):
    """Forward-mode derivatives against central differences: the output tangents ``J u``
    for each input and each unit direction ``u`` (one random ``u`` in fast mode)."""
    from ember.autograd import forward_ad
    rng = np.random.default_rng(0)                   # own generator: the user's is untouched
    for i in wrt:
        x = inputs[i]
        if fast_mode:
            directions = [(..., _unit_random(rng, tuple(x.shape), x.is_complex()))]
        else:
            directions = [(index, d) for index in np.ndindex(*x.shape)
                          for d in ((1.0, 1j) if x.is_complex() else (1.0,))]
        for index, d in directions:
            expected = _central_difference(func, inputs, x, index, d, eps)
            u = np.zeros(tuple(x.shape), np.complex128 if x.is_complex() else np.float64)
            u[index] = d
            with forward_ad.dual_level():
                duals = list(inputs)
                duals[i] = forward_ad.make_dual(x, tensor(u, dtype=x.dtype))
                got = [forward_ad.unpack_dual(o).tangent for o in _outputs(func, duals)]
                got = [np.zeros(e.shape) if t is None else _as_complex(t)
                       for t, e in zip(got, expected)]
            for k, (g, e) in enumerate(zip(got, expected)):
                bad = np.flatnonzero(~(np.abs(g - e) <= atol + rtol * np.abs(e)))
                if bad.size:
                    raise GradcheckError(
                        f"Jacobian computed with forward mode mismatch for output {k} with "
                        f"respect to input {i},\nnumerical:{e.ravel()[bad[0]]}\n"
                        f"analytical:{g.ravel()[bad[0]]}\n")


def _check_batched_grad(outputs, wrt_inputs, atol, rtol):
    """``grad(..., is_grads_batched=True)`` for a batch of two random output gradients
    against the two gradients computed one at a time."""
    rng = np.random.default_rng(0)
    diff_outs = [o for o in outputs if o.requires_grad]
    batched = [_random_grad_output(o, rng, False).detach().unsqueeze(0).repeat(
        2, *([1] * o.dim())) * tensor([1.0, -0.5], dtype=o.dtype).view(2, *([1] * o.dim()))
        for o in diff_outs]
    together = _grad(diff_outs, wrt_inputs, grad_outputs=batched, retain_graph=True,
                     allow_unused=True, is_grads_batched=True)
    for b in range(2):
        alone = _grad(diff_outs, wrt_inputs, grad_outputs=[g[b] for g in batched],
                      retain_graph=True, allow_unused=True)
        for n, (g, a) in enumerate(zip(together, alone)):
            if (g is None) != (a is None) or (a is not None and not np.allclose(
                    _as_complex(g[b]), _as_complex(a), rtol=rtol, atol=atol)):
                raise GradcheckError(f"While computing batched gradients, got a result for "
                                     f"input {n} that differs from the gradient computed "
                                     f"alone (batch element {b})")


def _check_batched_forward_grad(func, inputs, wrt, atol, rtol):
    """``vmap`` over the tangent of a forward-mode derivative: for each floating input,
    the output tangents of a batch of two random tangents against the two computed one
    at a time (as PyTorch's check)."""
    from ember.autograd import forward_ad
    from ember.func import vmap
    rng = np.random.default_rng(0)
    for i in wrt:
        x = inputs[i]
        if not (x.is_floating_point() or x.is_complex()):
            continue

        def jvp(u, i=i, x=x):
            with forward_ad.dual_level():
                duals = [t.detach() if isinstance(t, Tensor) else t for t in inputs]
                duals[i] = forward_ad.make_dual(x.detach(), u)
                result = []
                for out in _outputs(func, duals):
                    primal, tangent = forward_ad.unpack_dual(out)
                    result.append(zeros_like(primal) if tangent is None else tangent)
                return tuple(result)

        tangents = [_random_grad_output(x, rng, False).detach() for _ in range(2)]
        expected = [stack(shards) for shards in zip(*(jvp(u) for u in tangents))]
        try:
            got = vmap(jvp)(stack(tangents))
        except RuntimeError as exc:
            raise GradcheckError(f"While computing batched forward gradients, got: {exc}") \
                from exc
        for k, (g, e) in enumerate(zip(got, expected)):
            if not np.allclose(_as_complex(g), _as_complex(e), rtol=rtol, atol=atol):
                raise GradcheckError(f"While computing batched forward gradients, got a result "
                                     f"for output {k} with respect to input {i} that differs "
                                     f"from the tangents computed one at a time")


def _check_undefined_grad(outputs, wrt_inputs):
    """Backward through one output at a time: the others' gradients are undefined (the
    engine gives their nodes zeros) and must be accepted."""
    diff_outs = [o for o in outputs if o.requires_grad]
    if len(diff_outs) < 2:
        return
    for o in diff_outs:
        try:
            _grad([o], wrt_inputs, grad_outputs=[zeros_like(o)], retain_graph=True,
                  allow_unused=True)
        except RuntimeError as exc:
            raise GradcheckError("Expected backward function to handle undefined output grads "
                                 f"(outputs that receive no gradient), but it raised: {exc}")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    Each output element's gradient (computed by the graph, with
    :func:`ember.autograd.grad`) is compared with central differences of step
    ``eps`` over every element of every input that requires grad.  Use float64
    (or complex128) inputs: in lower precision the differences are noise.

    Parameters
    ----------
    func : callable
        Takes the inputs, returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
        The point to check at; the tensors with ``requires_grad=True`` are checked.
        They must not overlap in memory (no stride-0 dimension, as from ``expand``).
    eps : float, default 1e-6
        Finite-difference step.
    atol, rtol : float
        An analytical value ``a`` passes when ``|a - n| <= atol + rtol * |n|``.
    raise_exception : bool, default True
        Raise :class:`GradcheckError` on a mismatch (else return False).
    nondet_tol : float, default 0.0
        Every gradient is computed twice; the two may differ by at most this.
    check_undefined_grad : bool, default True
        Also check that backward accepts outputs that receive no gradient.
    check_grad_dtypes : bool, default False
        Also check that each gradient has its input's dtype.
    fast_mode : bool, default False
        Compare ``v^T J u`` for random vectors ``u``, ``v`` (one backward per output
        and one finite difference per input) instead of every Jacobian entry.
    check_batched_grad : bool, default False
        Also check that ``grad(..., is_grads_batched=True)`` gives, for a batch of
        output gradients, the gradients computed one at a time.
    check_batched_forward_grad : bool, default False
        Also check that :func:`ember.func.vmap` over the tangent of a forward-mode
        derivative gives, for a batch of two tangents, the output tangents computed one
        at a time (needs ``check_forward_ad=True``).
    check_forward_ad : bool, default False
        Also check forward-mode derivatives (:mod:`ember.autograd.forward_ad`): the
        output tangents for each input direction against central differences.
    check_backward_ad : bool, default True
        Check the backward (reverse-mode) gradients.
    masked : bool, optional
        Accepted for compatibility (the inputs are dense tensors).

    Returns
    -------
    bool
        True when every gradient matches (False on a mismatch when
        ``raise_exception=False``).

    Examples
    --------
    >>> import ember
    >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    >>> ember.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
    True
    >>> ember.autograd.gradcheck(lambda t: (t * t).sin(), (x,), fast_mode=True)
    True
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad "
                             "to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to "
                             "be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires "
                             "check_forward_ad to be True")
    inputs = _as_tuple(inputs)
    wrt = _check_inputs(inputs)
    wrt_inputs = [inputs[i] for i in wrt]
    try:
        outputs = _outputs(func, inputs)
        if not any(o.requires_grad for o in outputs):
            _check_no_differentiable_outputs(func, inputs, wrt, eps, nondet_tol)
            return True
        if check_backward_ad:
            check = _fast_check if fast_mode else _slow_check
            check(func, inputs, wrt, outputs, eps, atol, rtol, nondet_tol, check_grad_dtypes)
            _check_backward_mul_by_grad_output(outputs, wrt_inputs)
            if check_undefined_grad:
                _check_undefined_grad(outputs, wrt_inputs)
            if check_batched_grad:
                _check_batched_grad(outputs, wrt_inputs, atol, rtol)
        if check_forward_ad:
            _check_forward_ad(func, inputs, wrt, eps, atol, rtol, fast_mode)
        if check_batched_forward_grad:
            _check_batched_forward_grad(func, inputs, wrt, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _random_grad_output(out, rng, non_contiguous):
    """Uniform in [-1, 1) like the output, requiring grad; every other element of a
    larger buffer when ``non_contiguous``."""
    shape = tuple(out.shape) + ((2,) if non_contiguous else ())
    values = rng.uniform(-1, 1, shape)
    if out.is_complex():
        values = values + 1j * rng.uniform(-1, 1, shape)
    g = tensor(values, dtype=out.dtype)
    if non_contiguous:
        g = g[..., 0]
    return g.requires_grad_(True)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True,
                  fast_mode=False, masked=False):
    """Check second derivatives: :func:`gradcheck` of the gradient of ``func``.

    The gradient of ``func``'s outputs, contracted with ``grad_outputs`` (random
    when not given), is itself differentiated with ``create_graph=True`` and checked
    against finite differences, with respect to the inputs and ``grad_outputs``.

    Parameters
    ----------
    func : callable
    inputs : Tensor or tuple of Tensor
    grad_outputs : Tensor or tuple of Tensor, optional
        Gradients of the outputs; random in [-1, 1) (and requiring grad) by default.
    gen_non_contig_grad_outputs : bool, default False
        Make the random ``grad_outputs`` non-contiguous.
    eps, atol, rtol, raise_exception, nondet_tol, fast_mode
        As for :func:`gradcheck`.
    check_undefined_grad, check_grad_dtypes, masked
        As for :func:`gradcheck`.
    check_batched_grad : bool, default False
        As for :func:`gradcheck`, on the first derivative.
    check_fwd_over_rev : bool, default False
        Also check forward-mode derivatives of the gradient (forward mode through
        the backward pass) against finite differences.
    check_rev_over_rev : bool, default True
        Check the reverse-mode derivatives of the gradient.

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember
    >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    >>> ember.autograd.gradgradcheck(lambda t: t.exp() * t, (x,))
    True
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or "
                             "check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev "
                             "to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)               # own generator: the user's is untouched
        grad_outputs = tuple(_random_grad_output(o, rng, gen_non_contig_grad_outputs)
                             for o in _outputs(func, inputs) if o.requires_grad)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*args):
        ins, gouts = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func, ins) if o.requires_grad]
        grads = _grad(outs, [ins[i] for i in wrt], grad_outputs=list(gouts),
                      create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev,
                     fast_mode=fast_mode, masked=masked)
