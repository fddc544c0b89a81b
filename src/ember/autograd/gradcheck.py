"""Gradient checks: the graph's gradients against finite differences.

The convention is PyTorch's for complex numbers: for a real loss
``L = Re(sum(conj(v) * y))`` the gradient of an input ``x`` is
``dL/dRe(x) + 1j * dL/dIm(x)``, and ``y.backward(v)`` computes it.
"""
import warnings

import numpy as np

from ember._core._tensor import Tensor, zeros_like
from ember.autograd.engine import grad as _grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when analytical and numerical gradients differ."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _differentiable(t):
    return isinstance(t, Tensor) and (t.is_floating_point() or t.is_complex())


def _outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return [o for o in out if _differentiable(o)]


def _numerical_jacobians(func, inputs, wrt, outputs, eps):
    """Per differentiable input, a list over its elements of the central-difference change
    of every output (complex arrays), for the real and, if complex, imaginary direction."""
    result = []
    for i in wrt:
        x = inputs[i]
        flat = np.asarray(x.detach())                # shares memory: perturb in place
        directions = (1.0, 1j) if x.is_complex() else (1.0,)
        columns = []
        for index in np.ndindex(*flat.shape):
            per_direction = []
            for d in directions:
                original = flat[index]
                flat[index] = original + eps * d
                plus = [np.array(o.detach(), dtype=np.complex128) for o in _outputs(func, inputs)]
                flat[index] = original - eps * d
                minus = [np.array(o.detach(), dtype=np.complex128) for o in _outputs(func, inputs)]
                flat[index] = original
                per_direction.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
            columns.append(per_direction)
        result.append(columns)
    return result


def _analytical_rows(outputs, inputs, wrt, k, index, component):
    """The gradient of ``Re(conj(component) * outputs[k][index])`` for each input in wrt."""
    v = zeros_like(outputs[k])
    np.asarray(v)[index] = component
    grads = _grad([outputs[k]], [inputs[i] for i in wrt], grad_outputs=[v],
                  retain_graph=True, allow_unused=True)
    return [None if g is None else np.array(g.detach(), dtype=np.complex128) for g in grads]


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
    eps : float, default 1e-6
        Finite-difference step.
    atol, rtol : float
        An analytical value ``a`` passes when ``|a - n| <= atol + rtol * |n|``.
    raise_exception : bool, default True
        Raise :class:`GradcheckError` on a mismatch (else return False).
    check_undefined_grad : bool, default True
        Also check that backward accepts an output gradient of zeros.

    Returns
    -------
    bool
        True when every gradient matches.

    Examples
    --------
    >>> import ember
    >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    >>> ember.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
    True
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    for i in wrt:
        if inputs[i].dtype.itemsize < 8 and not inputs[i].is_complex() or \
                (inputs[i].is_complex() and inputs[i].dtype.itemsize < 16):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex.", stacklevel=2)
    outputs = _outputs(func, inputs)
    numerical = _numerical_jacobians(func, inputs, wrt, outputs, eps)

    def fail(message):
        if raise_exception:
            raise GradcheckError(message)
        return False

    for k, out in enumerate(outputs):
        components = (1.0, 1j) if out.is_complex() else (1.0,)
        if not out.requires_grad:
            for n, i in enumerate(wrt):
                if any(np.any(col[d][k] != 0) for col in numerical[n] for d in range(len(col))):
                    return fail(f"Jacobian mismatch for output {k} with respect to input {i}: "
                                "the output does not require grad but depends on the input")
            continue
        for index in np.ndindex(*out.shape):
            for c in components:
                rows = _analytical_rows(outputs, inputs, wrt, k, index, c)
                for n, i in enumerate(wrt):
                    x = inputs[i]
                    for j, elem in enumerate(np.ndindex(*x.shape)):
                        column = numerical[n][j]
                        expected = np.real(np.conj(c) * column[0][k][index])
                        if x.is_complex():
                            expected = expected + 1j * np.real(np.conj(c) * column[1][k][index])
                        got = 0.0 if rows[n] is None else rows[n][elem]
                        if not abs(got - expected) <= atol + rtol * abs(expected):
                            return fail(
                                f"Jacobian mismatch for output {k} with respect to input {i},\n"
                                f"at output element {index}{' (imaginary part)' if c == 1j else ''}"
                                f" and input element {elem}:\n"
                                f"numerical:{expected}\nanalytical:{got}\n")
    if check_undefined_grad:
        diff_outs = [o for o in outputs if o.requires_grad]
        if diff_outs:
            try:
                _grad(diff_outs, [inputs[i] for i in wrt],
                      grad_outputs=[zeros_like(o) for o in diff_outs], allow_unused=True)
            except RuntimeError as exc:
                return fail(f"Backwards with zero output gradients failed: {exc}")
    return True


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
        Gradients of the outputs; random (and requiring grad) by default.
    eps, atol, rtol, raise_exception
        As for :func:`gradcheck`.

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
    import ember
    inputs = _as_tuple(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        gen = ember.Generator().manual_seed(0)
        grad_outputs = tuple(
            ember.randn(tuple(o.shape), dtype=o.dtype, generator=gen).requires_grad_(True)
            for o in outputs if o.requires_grad)
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
                     rtol=rtol, raise_exception=raise_exception,
                     check_undefined_grad=check_undefined_grad)
