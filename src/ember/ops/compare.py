"""Whole-tensor comparisons: ``equal``, ``isclose`` and ``allclose``.

``isclose`` follows PyTorch's formula: exactly equal elements are close, NaNs are
close to NaNs only with ``equal_nan``, and otherwise ``|input - other| <= atol +
rtol * |other|`` with a finite difference.  Integers and booleans are compared in
the default float dtype, so that the difference cannot wrap around.
"""
from ember._core._dtype import TORCH_NAMES, get_default_dtype
from ember._core._tensor import Tensor, _add_method

# PyTorch's scalar-type names, by dtype number, for its "did not match" message

__all__ = ["equal", "isclose", "allclose"]


def _check_tensor(x, fname, position, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(x).__name__}")


def equal(input, other):
    """Whether two tensors have the same shape and the same elements.

    The elements are compared after promoting both to a common dtype, as in
    PyTorch; NaN is never equal to NaN.

    Examples
    --------
    >>> import ember
    >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1.0, 2.0]))
    True
    >>> ember.equal(ember.tensor([1, 2]), ember.tensor([[1, 2]]))
    False
    """
    _check_tensor(input, "equal", 1, "input")
    _check_tensor(other, "equal", 2, "other")
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input == other).all())


def _check_tolerances(input, other, rtol, atol):
    if input.dtype != other.dtype:
        raise RuntimeError(f"{TORCH_NAMES[input.dtype.num]} did not match "
                           f"{TORCH_NAMES[other.dtype.num]}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|``, as a bool tensor.

    Parameters
    ----------
    input, other : Tensor
        Tensors of the same dtype, broadcast against each other.
    rtol, atol : float, optional
        Relative and absolute tolerances (non-negative).
    equal_nan : bool, optional
        Count two NaNs as close.

    Returns
    -------
    Tensor
        A bool tensor of the broadcast shape.

    Examples
    --------
    >>> import ember
    >>> nan = float("nan")
    >>> ember.isclose(ember.tensor([1.0, 2.0, nan]), ember.tensor([1.0 + 1e-7, 2.1, nan]))
    tensor([ True, False, False])
    """
    _check_tensor(input, "isclose", 1, "input")
    _check_tensor(other, "isclose", 2, "other")
    _check_tolerances(input, other, rtol, atol)
    close = input == other
    inexact = input.is_floating_point() or input.is_complex()
    if equal_nan and inexact:
        close = close | (input.isnan() & other.isnan())
    if rtol == 0 and atol == 0:
        return close
    if not inexact:
        input, other = input.to(get_default_dtype()), other.to(get_default_dtype())
    allowed_error = atol + (rtol * other).abs()
    actual_error = (input - other).abs()
    return close | (actual_error.isfinite() & (actual_error <= allowed_error))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`).

    Examples
    --------
    >>> import ember
    >>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-6]))
    True
    """
    _check_tensor(input, "allclose", 1, "input")
    _check_tensor(other, "allclose", 2, "other")
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


for _name, _fn in {"equal": equal, "isclose": isclose, "allclose": allclose}.items():
    _add_method(_name, _fn)
del _name, _fn
