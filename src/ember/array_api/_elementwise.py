"""Elementwise functions of the Array API namespace, adapted from ember's ops.

Binary functions accept a Python scalar for one argument (it takes the array's kind) and
promote two arrays by the standard's rules, where a 0-d array counts like any other.
"""
import builtins

import ember
from ember import Tensor

from ember.array_api._dtypes import _is_scalar, result_type, astype


def _as_array(obj, name):
    if not isinstance(obj, Tensor):
        raise TypeError(f"{name}: expected an ember Tensor, got {type(obj).__name__}")
    return obj


def _operands(name, x1, x2):
    """``x1`` and ``x2`` as tensors of their common dtype (one may be a Python scalar)."""
    if isinstance(x1, Tensor) and isinstance(x2, Tensor):
        dtype = result_type(x1, x2)
        return astype(x1, dtype, copy=False), astype(x2, dtype, copy=False)
    if isinstance(x1, Tensor) and _is_scalar(x2):
        dtype = result_type(x1, x2)
        return astype(x1, dtype, copy=False), ember.tensor(x2, dtype=dtype, device=x1.device)
    if isinstance(x2, Tensor) and _is_scalar(x1):
        dtype = result_type(x2, x1)
        return ember.tensor(x1, dtype=dtype, device=x2.device), astype(x2, dtype, copy=False)
    raise TypeError(f"{name}: expected arrays or one array and a Python scalar, got "
                    f"{type(x1).__name__} and {type(x2).__name__}")


def _example(name):
    """An input literal the function ``name`` accepts, for its docstring example."""
    return "[1, 6]" if name.startswith(("bitwise", "logical")) else "[0.5, 2.0]"


def _unary(name, op):
    def fn(x, /):
        return op(_as_array(x, name))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` of the Array API standard: :func:`ember.{op.__name__}`"
                  f".\n\nExamples\n--------\n>>> import ember.array_api as xp\n"
                  f">>> y = xp.{name}(xp.asarray({_example(name)}))\n")
    return fn


def _binary(name, op):
    def fn(x1, x2, /):
        return op(*_operands(name, x1, x2))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` of the Array API standard: :func:`ember.{op.__name__}`"
                  f"; one argument may be a Python scalar.\n\nExamples\n--------\n"
                  f">>> import ember.array_api as xp\n"
                  f">>> y = xp.{name}(xp.asarray({_example(name)}), 3)\n")
    return fn


_UNARY = {
    "abs": ember.abs, "acos": ember.acos, "acosh": ember.acosh, "asin": ember.asin,
    "asinh": ember.asinh, "atan": ember.atan, "atanh": ember.atanh,
    "bitwise_invert": ember.bitwise_not, "ceil": ember.ceil, "cos": ember.cos,
    "cosh": ember.cosh, "exp": ember.exp, "expm1": ember.expm1, "floor": ember.floor,
    "isfinite": ember.isfinite, "isinf": ember.isinf, "isnan": ember.isnan, "log": ember.log,
    "log1p": ember.log1p, "log2": ember.log2, "log10": ember.log10,
    "logical_not": ember.logical_not, "negative": ember.negative, "positive": ember.positive,
    "reciprocal": ember.reciprocal, "signbit": ember.signbit,
    "sin": ember.sin, "sinh": ember.sinh, "square": ember.square, "sqrt": ember.sqrt,
    "tan": ember.tan, "tanh": ember.tanh, "trunc": ember.trunc,
}
_BINARY = {
    "add": ember.add, "atan2": ember.atan2, "bitwise_and": ember.bitwise_and,
    "bitwise_left_shift": ember.bitwise_left_shift, "bitwise_or": ember.bitwise_or,
    "bitwise_right_shift": ember.bitwise_right_shift, "bitwise_xor": ember.bitwise_xor,
    "copysign": ember.copysign, "divide": ember.divide, "equal": ember.eq,
    "floor_divide": ember.floor_divide, "greater": ember.gt, "greater_equal": ember.ge,
    "hypot": ember.hypot, "less": ember.lt, "less_equal": ember.le,
    "logaddexp": ember.logaddexp, "logical_and": ember.logical_and,
    "logical_or": ember.logical_or, "logical_xor": ember.logical_xor,
    "maximum": ember.maximum, "minimum": ember.minimum, "multiply": ember.mul,
    "nextafter": ember.nextafter, "not_equal": ember.ne, "pow": ember.pow,
    "subtract": ember.sub,
}
functions = {name: _unary(name, op) for name, op in _UNARY.items()}
functions.update({name: _binary(name, op) for name, op in _BINARY.items()})


def sign(x, /):
    """Sign of ``x``: -1, 0 or 1 for real input, ``x / |x|`` (0 at 0) for complex input.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.sign(xp.asarray([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """
    x = _as_array(x, "sign")
    if x.dtype.is_complex:
        return ember.sgn(x)
    if x.dtype.is_floating_point:
        # the standard gives NaN for NaN, where PyTorch's sign gives 0
        return ember.where(ember.isnan(x), x, ember.sign(x))
    return ember.sign(x)


def round(x, /):
    """Round to the nearest integer, halves to even; a complex number has its real and
    imaginary parts rounded each, as the 2024.12 standard says (PyTorch's ``round``
    refuses complex input).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.round(xp.asarray([0.5, 1.5, 2.5 - 0.5j]))
    tensor([0.+0.j, 2.+0.j, 2.-0.j])
    """
    x = _as_array(x, "round")
    if x.dtype.is_complex:
        return ember.complex(ember.round(ember.real(x)), ember.round(ember.imag(x)))
    return ember.round(x)


def remainder(x1, x2, /):
    """Remainder of ``x1 / x2`` with the sign of ``x2`` (Python's ``%``), a zero result
    included (``remainder(-1.0, 1.0)`` is ``+0.0``); one argument may be a Python scalar.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.remainder(xp.asarray([-3.0, 3.0]), 2)
    tensor([1., 1.])
    """
    x1, x2 = _operands("remainder", x1, x2)
    out = ember.remainder(x1, x2)
    if out.dtype.is_floating_point:
        # the standard gives a zero the sign of x2, where PyTorch's keeps the sign of x1
        out = ember.where(out == 0, ember.copysign(out, x2), out)
    return out


def conj(x, /):
    """Complex conjugate (``x`` itself for real input).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.conj(xp.asarray([1 + 2j]))
    tensor([1.-2.j])
    """
    x = _as_array(x, "conj")
    return ember.conj_physical(x) if x.dtype.is_complex else x


def real(x, /):
    """Real component (``x`` itself for real input).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.real(xp.asarray([1 + 2j]))
    tensor([1.])
    """
    x = _as_array(x, "real")
    return ember.real(x) if x.dtype.is_complex else x


def imag(x, /):
    """Imaginary component (zeros for real input).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.imag(xp.asarray([1 + 2j]))
    tensor([2.])
    """
    x = _as_array(x, "imag")
    return ember.imag(x) if x.dtype.is_complex else ember.zeros_like(x)


def clip(x, /, min=None, max=None):
    """``x`` clamped into ``[min, max]``; the bounds are scalars or arrays broadcastable to
    ``x``, and the result keeps ``x``'s shape and dtype.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.clip(xp.asarray([1, 5, 9]), 2, 6)
    tensor([2, 5, 6])
    """
    x = _as_array(x, "clip")
    bounds = []
    for bound in (min, max):
        if bound is None or isinstance(bound, Tensor):
            bounds.append(bound)
        elif _is_scalar(bound):
            if x.dtype.is_floating_point or isinstance(bound, builtins.int):
                bounds.append(ember.tensor(bound, dtype=x.dtype, device=x.device))
            else:
                bounds.append(ember.tensor(bound, device=x.device))
        else:
            raise TypeError(f"clip: bounds must be arrays or Python scalars, got {bound!r}")
    if bounds[0] is None and bounds[1] is None:
        return ember.clone(x)
    out = ember.clamp(x, bounds[0], bounds[1])
    if out.shape != x.shape:
        raise ValueError(f"clip: bounds of shapes {[b.shape for b in bounds if b is not None]}"
                         f" do not broadcast to x's shape {tuple(x.shape)}")
    return astype(out, x.dtype, copy=False)
