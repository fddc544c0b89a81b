"""Elementwise math whose Python signature is more than "inputs in, tensor out".

The kernels are entries of the op table (``elementwise.toml``); this module adds the
parameters PyTorch's signatures have (``logit``'s ``eps``, ``round``'s ``decimals``,
``addcmul``'s ``value``) and the ops that are compositions of table ops
(``float_power``, ``ldexp``, ``addcmul``, ``addcdiv``).
"""
from ember.ops.autocast import autocasts
import functools
import math
import numbers

from ember._core import _tensor
from ember._core._dtype import (TORCH_NAMES, bool_ as _BOOL, float64 as _FLOAT64,
                               complex128 as _COMPLEX128, int16 as _INT16, can_cast, promote_types)
from ember._core._reduce import _with_out
from ember._core._tensor import Tensor, _recorded, ew, ew_, op_id, result_type
from ember.ops import elementwise as _elementwise

_LOGIT, _ROUND, _MUL, _DIV, _ADD, _POW = (op_id(n) for n in ("logit", "round", "mul", "div",
                                                             "add", "pow"))
_CLAMP, _NEXTAFTER, _EXP2, _HEAVISIDE = (op_id(n) for n in ("clamp", "nextafter", "exp2",
                                                              "heaviside"))
_EQ, _GT, _WHERE, _ISNAN, _LOGICAL_OR = (op_id(n) for n in ("eq", "gt", "where", "isnan",
                                                             "logical_or"))
_SUB, _FLOOR_DIVIDE, _LT = op_id("sub"), op_id("floor_divide"), op_id("lt")


def logit(input, eps=None, *, out=None):
    """Log-odds ``log(p / (1 - p))``, elementwise, with ``p`` clamped to ``[eps, 1 - eps]``.

    Parameters
    ----------
    input : Tensor
    eps : float, optional
        With None (the default), a negative value or NaN, ``input`` is used as it is (0
        and 1 give -inf and inf).  The gradient is 0 where ``input`` lies outside
        ``[eps, 1 - eps]``.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.logit(ember.tensor([0.5, 0.0]), eps=1e-6)
    tensor([  0.0000, -13.8155])
    """
    if eps is None or not eps >= 0:    # PyTorch clamps for eps >= 0 only (not NaN)
        return ew(_LOGIT, input, out=out)
    if eps > 0.5:
        # bounds crossed: PyTorch's kernel sends what is below eps to eps, then what is
        # above 1 - eps to 1 - eps (clamp would send everything to 1 - eps)
        inner = ew(_WHERE, ew(_GT, input, 1 - eps), 1 - eps, input)
        return ew(_LOGIT, ew(_WHERE, ew(_LT, input, eps), eps, inner), out=out)
    return ew(_LOGIT, ew(_CLAMP, input, eps, 1 - eps), out=out)


def _logit_(self, eps=None):
    """In-place version of :meth:`Tensor.logit`."""
    if eps is None:
        return ew_(_LOGIT, self)
    return _write(self, logit(self, eps))


def round(input, *, decimals=0, out=None):
    """Round to the nearest integer (halves to even), or to ``decimals`` decimal places.

    Parameters
    ----------
    input : Tensor
    decimals : int, optional
        Number of decimal places; negative values round to the left of the point.
        Computed as ``round(input * 10**decimals) / 10**decimals``, as PyTorch does.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.round(ember.tensor([1.2345, 125.0]), decimals=2)
    tensor([  1.2300, 125.0000])
    """
    if not isinstance(decimals, numbers.Integral) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    if decimals == 0:
        return ew(_ROUND, input, out=out)
    if isinstance(input, Tensor) and not input.is_floating_point():
        raise RuntimeError(f"round_with_decimals is not implemented for {input.dtype} input; "
                           "decimals needs a floating-point tensor")
    # a negative count divides first, so that 10**-decimals stays an exact power of ten
    scale = 10.0 ** abs(decimals)
    if decimals > 0:
        return ew(_DIV, ew(_ROUND, ew(_MUL, input, scale)), scale, out=out)
    return ew(_MUL, ew(_ROUND, ew(_DIV, input, scale)), scale, out=out)


def _round_(self, *, decimals=0):
    """In-place version of :meth:`Tensor.round`."""
    if decimals == 0:
        return ew_(_ROUND, self)
    return _write(self, round(self, decimals=decimals))


def nextafter(input, other, *, out=None):
    """The next floating-point value after ``input`` in the direction of ``other``.

    Parameters
    ----------
    input, other : Tensor
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.nextafter(ember.tensor([1.0]), ember.tensor([2.0])) - 1
    tensor([1.1921e-07])
    """
    dtype = result_type(input, other)
    if dtype.is_floating_point and dtype.itemsize == 2:
        return _nextafter_16bit(input, other, dtype, out)
    return ew(_NEXTAFTER, input, other, out=out)


def _nextafter_16bit(input, other, dtype, out):
    """nextafter for float16/bfloat16, which compute in float32: one step of the 16-bit
    pattern (sign and magnitude, so +1 moves away from zero on either side)."""
    x, y = _as_tensor(input, dtype), _as_tensor(other, dtype)
    bits = x.contiguous().view(_INT16)
    away = ew(_EQ, ew(_GT, y, x), ew(_GT, x, 0))
    stepped = ew(_WHERE, away, ew(_ADD, bits, 1), ew(_ADD, bits, -1)).view(dtype)
    # from zero, the smallest subnormal with the sign of `other` (0x0001 or 0x8001)
    smallest = ew(_WHERE, ew(_GT, y, 0), 1, -32767).to(_INT16).view(dtype)
    result = ew(_WHERE, ew(_EQ, x, 0), smallest, stepped)
    result = ew(_WHERE, ew(_EQ, x, y), y, result)
    nan = ew(_LOGICAL_OR, ew(_ISNAN, x), ew(_ISNAN, y))
    return ew(_WHERE, nan, math.nan, result, out=out)


def _as_tensor(value, dtype):
    if isinstance(value, Tensor):
        return value.to(dtype)
    return _tensor.full((), value, dtype=dtype)


def _nextafter_(self, other):
    """In-place version of :meth:`Tensor.nextafter`."""
    dtype = self.dtype
    if dtype.is_floating_point and dtype.itemsize == 2 and result_type(self, other) == dtype:
        return self.copy_(_nextafter_16bit(self, other, dtype, None))
    return ew_(_NEXTAFTER, self, other)


def heaviside(input, values, *, out=None):
    """Heaviside step: 0 where ``input < 0``, ``values`` where 0, 1 where positive.

    Parameters
    ----------
    input, values : Tensor
        Of the same dtype (as PyTorch requires); ``values`` broadcasts.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.heaviside(ember.tensor([-1.5, 0.0, 2.0]), ember.tensor(0.5))
    tensor([0.0000, 0.5000, 1.0000])
    """
    _check_heaviside(input, values)
    return ew(_HEAVISIDE, input, values, out=out)


def _heaviside_(self, values):
    """In-place version of :meth:`Tensor.heaviside`."""
    _check_heaviside(self, values)
    return ew_(_HEAVISIDE, self, values)


def _check_heaviside(input, values):
    if isinstance(input, Tensor) and isinstance(values, Tensor) and input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes "
                           f"(got {input.dtype} and {values.dtype}).")


def float_power(input, exponent, *, out=None):
    """``input ** exponent`` computed in double precision (complex128 if either is complex).

    Parameters
    ----------
    input, exponent : Tensor or number
    out : Tensor, optional
        Must be float64 (complex128 for complex operands).

    Returns
    -------
    Tensor of float64 or complex128
    """
    complex_ = any((isinstance(v, Tensor) and v.is_complex()) or isinstance(v, complex)
                   for v in (input, exponent))
    dtype = _COMPLEX128 if complex_ else _FLOAT64
    if out is not None and out.dtype != dtype:
        raise RuntimeError(f"the output given to float_power has dtype {out.dtype} but the "
                           f"operation's result requires dtype {dtype}")
    return ew(_POW, _as_dtype(input, dtype), _as_dtype(exponent, dtype), out=out)


def _float_power_(self, exponent):
    """In-place version of :meth:`Tensor.float_power` (``self`` must be float64/complex128)."""
    # pow's derivative saves its base: a recorded self is read from a copy, then written
    result = float_power(self.clone() if _grad_records(self) else self, exponent)
    if self.dtype != result.dtype:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           f"operation's result requires dtype {result.dtype}")
    return self.copy_(result)


def _as_dtype(value, dtype):
    if isinstance(value, Tensor):
        return value.to(dtype)
    return complex(value) if dtype is _COMPLEX128 else float(value)


def ldexp(input, other, *, out=None):
    """``input * 2 ** other``, elementwise; the result is floating point.

    Parameters
    ----------
    input : Tensor
    other : Tensor
        Exponents (integer or float).
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
        Of ``input``'s dtype when it is real floating point and ``other`` an integer
        tensor; the promoted (floating-point) dtype otherwise.
    """
    if (isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype.is_floating_point
            and not (other.dtype.is_floating_point or other.dtype.is_complex)):
        if other.dtype == _BOOL:
            raise NotImplementedError("\"ldexp_cpu_exp\" not implemented for 'Bool'")
        return _exact_ldexp(input, other, out)
    return ew(_MUL, input, ew(_EXP2, other), out=out)


def _exact_ldexp(input, other, out):
    """``input * 2 ** other`` for a real ``input`` and integer exponents, exact as C's
    ``ldexp`` (PyTorch's kernel): in float64, with the power in two halves that are each
    exact there, so that ``2**-30 * 2**140`` is finite in float32 and float16 keeps its
    dtype.  (PyTorch scales complex input by ``pow(2, other)``, as the general path.)"""
    half = ew(_FLOOR_DIVIDE, other, 2)
    result = ew(_MUL, ew(_MUL, input.to(_FLOAT64), ew(_EXP2, half.to(_FLOAT64))),
                ew(_EXP2, ew(_SUB, other, half).to(_FLOAT64)))
    return ew(_MUL, result.to(input.dtype), 1, out=out)


def _check_value(name, value, dtype):
    if isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument 'value' must be Number, not Tensor")
    if not (dtype.is_floating_point or dtype.is_complex) and isinstance(value, float):
        raise RuntimeError(f"For integral input tensors, argument value must not be a floating "
                           f"point number ({name} got value={value!r}).")


def _in_common_dtype(input, tensor1, tensor2):
    """``tensor1`` and ``tensor2`` in the dtype PyTorch promotes all three operands of
    addcmul/addcdiv to: a float32 product or quotient must not be rounded before a float64
    input adds it.  Tensors with dimensions take precedence over 0-d ones, as in
    :func:`result_type`."""
    operands = (input, tensor1, tensor2)
    if not all(isinstance(t, Tensor) for t in operands) or \
            input.dtype == tensor1.dtype == tensor2.dtype:
        return tensor1, tensor2
    classes = ([t.dtype for t in operands if t.dim()], [t.dtype for t in operands if not t.dim()])
    dim_res, zero_res = (functools.reduce(promote_types, c) if c else None for c in classes)
    if dim_res is None or zero_res is None:
        common = dim_res or zero_res
    else:
        common = result_type(_tensor.empty(0, dtype=dim_res), _tensor.empty((), dtype=zero_res))
    if result_type(tensor1, tensor2) == common:
        return tensor1, tensor2
    return tensor1.to(common), tensor2.to(common)


@autocasts("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2``, elementwise, with broadcasting.

    Parameters
    ----------
    input, tensor1, tensor2 : Tensor
    value : number, optional
        Multiplier of the product.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.addcmul(ember.ones(2), ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]), value=0.5)
    tensor([2.5000, 5.0000])
    """
    _check_value("addcmul", value, result_type(tensor1, tensor2))
    tensor1, tensor2 = _in_common_dtype(input, tensor1, tensor2)
    product = ew(_MUL, tensor1, tensor2)
    if not (type(value) is int and value == 1):
        product = ew(_MUL, product, value)
    return ew(_ADD, input, product, out=out)


@autocasts("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2``, elementwise, with broadcasting.

    Parameters
    ----------
    input, tensor1, tensor2 : Tensor
        ``tensor1`` and ``tensor2`` may not both be integer tensors (PyTorch no longer
        does integer division here).
    value : number, optional
        Multiplier of the quotient.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
    """
    if all(isinstance(t, Tensor) and not (t.is_floating_point() or t.is_complex())
           for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           f"tensor2 (got {tensor1.dtype} and {tensor2.dtype}).")
    _check_value("addcdiv", value, result_type(input, ew(_DIV, tensor1, tensor2)))
    tensor1, tensor2 = _in_common_dtype(input, tensor1, tensor2)
    quotient = ew(_DIV, tensor1, tensor2)
    if not (type(value) is int and value == 1):
        quotient = ew(_MUL, quotient, value)
    return ew(_ADD, input, quotient, out=out)


def _addcmul_(self, tensor1, tensor2, *, value=1):
    """In-place version of :meth:`Tensor.addcmul`."""
    _check_value("addcmul", value, result_type(tensor1, tensor2))
    tensor1, tensor2 = _in_common_dtype(self, tensor1, tensor2)
    return ew_(_ADD, self, ew(_MUL, ew(_MUL, tensor1, tensor2), value))


def _addcdiv_(self, tensor1, tensor2, *, value=1):
    """In-place version of :meth:`Tensor.addcdiv`."""
    return _write(self, addcdiv(self, tensor1, tensor2, value=value))


def positive(input):
    """``input`` itself (``+input``); bool tensors are refused as in PyTorch.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    if input.dtype == _BOOL:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def selu(input):
    """Scaled exponential linear unit (the self-normalising constants of Klambauer et al.).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return _elementwise.selu(input)


def celu(input, alpha=1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``, elementwise.

    Parameters
    ----------
    input : Tensor
    alpha : float, optional
        Not 0.

    Returns
    -------
    Tensor
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    require_float("elu", input)
    return _elementwise.celu(input, alpha)


def threshold(input, threshold, value, *, out=None):
    """``input`` where ``input > threshold``, else ``value``.

    Parameters
    ----------
    input : Tensor
    threshold, value : float
    out : Tensor, optional
        Where to write the result (returned), resized to its shape: of any dtype the
        result casts to, as in PyTorch.

    Returns
    -------
    Tensor
        Of ``input``'s dtype: for an integer ``input`` both scalars are converted to it first
        (truncated), as PyTorch does.
    """
    if out is not None:
        return _with_out("threshold", out, "cast", globals()["threshold"],
                         (input, threshold, value), None, (input,))
    if isinstance(input, Tensor) and input.dtype == _BOOL:
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    if isinstance(input, Tensor) and not (input.dtype.is_floating_point or input.dtype.is_complex):
        for scalar in (threshold, value):
            _elementwise._check_fits(scalar, input.dtype)
        threshold, value = int(threshold), int(value)
    return _elementwise.threshold(input, threshold, value)


def hardshrink(input, lambd=0.5, *, out=None):
    """``input`` where ``|input| > lambd``, else 0.

    Parameters
    ----------
    input : Tensor
    lambd : float, optional
    out : Tensor, optional
        Where to write the result (returned), resized to its shape: of the result's
        dtype, as in PyTorch.

    Returns
    -------
    Tensor
    """
    if out is not None:
        return _with_out("hardshrink", out, "same", hardshrink, (input, lambd), None, (input,))
    require_float("hardshrink", input)
    return _elementwise.hardshrink(input, lambd)


def require_float(name, input):
    """The fused activations with a scalar parameter compute floating-point input only: an
    integer tensor would otherwise be promoted by the float parameter (PyTorch refuses it)."""
    if isinstance(input, Tensor) and not input.is_floating_point():
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{input.dtype}'")


def _inplace(fn):
    def method(input, *args):
        # recorded, the derivative reads the original input (as PyTorch keeps it): compute
        # from a copy, then write
        source = input.clone() if _grad_records(input) else input
        return _write(input, fn(source, *args))
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`ember.{fn.__name__}`."
    return method


def _write(self, result):
    """``self.copy_(result)`` for an in-place form computed out of place, with the check
    ``ew_`` makes: a result dtype of a higher category (float into int, say) is refused."""
    if not can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {TORCH_NAMES[result.dtype.num]} can't be cast to the "
                           f"desired output type {TORCH_NAMES[self.dtype.num]}")
    return self.copy_(result)


def _grad_records(input):
    return _recorded(input)


selu_, celu_, threshold_ = _inplace(selu), _inplace(celu), _inplace(threshold)
_ldexp_ = _inplace(ldexp)


def _method(fn, name):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"See :func:`ember.{fn.__name__}`."
    return method


for _fn in (logit, round, nextafter, heaviside, float_power, ldexp, addcmul, addcdiv,
            positive, hardshrink):
    _tensor._add_method(_fn.__name__, _method(_fn, _fn.__name__))
for _name, _fn in (("logit_", _logit_), ("round_", _round_), ("nextafter_", _nextafter_), ("heaviside_", _heaviside_),
                   ("float_power_", _float_power_), ("ldexp_", _ldexp_),
                   ("addcmul_", _addcmul_), ("addcdiv_", _addcdiv_)):
    _tensor._add_method(_name, _fn)
