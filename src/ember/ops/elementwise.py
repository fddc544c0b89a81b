"""Elementwise ops, built from the op table ``elementwise.toml``.

The table lists every elementwise op once.  The C loops are generated from it
at build time; this module builds, from the same table, the public functions
(``ember.exp``), the Tensor methods (``t.exp()``), their in-place forms
(``t.exp_()``) and ``out=`` support.  Ops whose Python signature differs from
"inputs in, tensor out" (``add`` with ``alpha``, ``clamp``, ``where``, ``gelu``)
are written out below the generated ones.
"""
import cmath
import inspect
import math
import re
import tomllib
from importlib.resources import files

import numpy as np

from ember._core import _tensor
from ember._core._dtype import bool_ as _BOOL
from ember._core._reduce import _with_out
from ember._core._tensor import (Tensor, _ew_callables, _keyword_callables, _recorded, ew, ew_,
                                 op_id, record, result_type, zeros_like)
from ember.ops import derivatives
from ember.ops.derivatives import derivative

# the op table: elementwise.toml, then activations.toml (op numbers follow this order)
TABLE = {name: spec for part in ("elementwise.toml", "activations.toml")
         for name, spec in tomllib.loads((files("ember.ops") / part).read_text()).items()}

# extra public names for table ops, as in PyTorch
ALIASES = {
    "sub": ["subtract"], "mul": ["multiply"], "div": ["divide", "true_divide"],
    "neg": ["negative"], "abs": ["absolute"], "eq": [], "ne": ["not_equal"],
    "lt": ["less"], "le": ["less_equal"], "gt": ["greater"], "ge": ["greater_equal"],
    "clamp": ["clip"], "pow": [], "trunc": ["fix"],
    "asin": ["arcsin"], "acos": ["arccos"], "atan": ["arctan"], "asinh": ["arcsinh"],
    "acosh": ["arccosh"], "atanh": ["arctanh"], "atan2": ["arctan2"],
}
# ops whose public function is written by hand below
CUSTOM = {"add", "sub", "div", "where", "clamp", "gelu", "gelu_tanh", "silu", "pow", "conj",
          # parameters or checks, in elementwise_math.py
          "logit", "round", "nextafter", "heaviside"}

_NUMPYDOC = """{doc}

Parameters
----------
{params}
out : Tensor, optional
    Tensor to write the result into.

Returns
-------
Tensor
"""


def _docstring(name, spec):
    names = ["input", "other", "third"][:spec["arity"]]
    params = "\n".join(f"{n} : Tensor or number" for n in names)
    return _NUMPYDOC.format(doc=spec["doc"], params=params)


def _make_function(name, spec):
    fn = _ew_callables(op_id(name), spec["arity"])[0]
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = "ember"
    fn.__doc__ = _docstring(name, spec)
    return fn


def _make_method(name, op, arity, doc):
    method = _ew_callables(op, arity)[1]
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"See :func:`ember.{name}`."
    return method


def _make_inplace(name, op, arity):
    method = _ew_callables(op, arity)[2]
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return method


functions = {}
# the fused backward ops (``internal = true``): module attributes, not ember.* names
internal = {}


def _build():
    for name, spec in TABLE.items():
        op = op_id(name)
        if spec.get("internal"):
            internal[name] = _make_function(name, spec)
            internal[name].__module__ = __name__
            continue
        if name not in CUSTOM:
            functions[name] = _make_function(name, spec)
            if spec.get("method", True):
                _tensor._add_method(name, _make_method(name, op, spec["arity"], spec["doc"]))
        if spec.get("inplace", spec.get("out", "same") == "same") and spec.get("method", True):
            _tensor._add_method(name + "_", _make_inplace(name, op, spec["arity"]))
        for alias in ALIASES.get(name, []):
            if name not in CUSTOM:
                functions[alias] = functions[name]
                if spec.get("method", True):
                    _tensor._add_method(alias, _make_method(alias, op, spec["arity"], spec["doc"]))
                    _tensor._add_method(alias + "_", _make_inplace(name, op, spec["arity"]))


_build()
globals().update(internal)
sgn = functions["sgn"]  # the formulas of other modules (norms) use it

# ---------------------------------------------------------------- hand-written signatures

_ADD, _SUB, _MUL, _DIV = op_id("add"), op_id("sub"), op_id("mul"), op_id("div")
_FLOOR_DIVIDE, _TRUNC = op_id("floor_divide"), op_id("trunc")
_REMAINDER, _NE, _LT, _LOGICAL_AND = (op_id("remainder"), op_id("ne"), op_id("lt"),
                                      op_id("logical_and"))
_WHERE, _CLAMP, _MIN, _MAX = op_id("where"), op_id("clamp"), op_id("minimum"), op_id("maximum")
_GELU, _GELU_TANH, _SILU, _POW = op_id("gelu"), op_id("gelu_tanh"), op_id("silu"), op_id("pow")


# what PyTorch's checked conversion of a Python scalar into a dtype accepts (c10::overflows):
# integers by value (uint8 also -255..-1, wrapping), floats up to their largest finite value
_SCALAR_RANGE = {"uint8": (-255, 255), "int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1),
                 "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1),
                 "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1),
                 "float16": (-65504.0, 65504.0),
                 "bfloat16": (-3.3895313892515355e38, 3.3895313892515355e38),
                 "float32": (-3.4028234663852886e38, 3.4028234663852886e38)}


def _check_fits(value, dtype):
    """Raise as PyTorch does when a Python number given as a clamp bound, a ``where``
    operand or an ``alpha`` does not fit the dtype it is converted to (it wrapped here)."""
    bounds = _SCALAR_RANGE.get(dtype.name)
    if bounds is None or type(value) is bool:
        return
    try:
        if bounds[0] <= value <= bounds[1]:
            return
    except TypeError:      # not a real number
        return
    if dtype.is_floating_point and (value != value or abs(value) == math.inf):
        return             # NaN and the infinities convert to any floating dtype
    raise RuntimeError(f"value cannot be converted to type {dtype} without overflow: {value}")


_PLAIN_NUMBERS = {int, float}


def _check_bounds(input, min, max):
    # the usual bounds, None or small Python numbers, fit every dtype: decided without
    # reading input.dtype, which is slow next to the clamp of a small tensor
    if ((min is None or type(min) in _PLAIN_NUMBERS and -127 <= min <= 127)
            and (max is None or type(max) in _PLAIN_NUMBERS and -127 <= max <= 127)):
        return
    if type(input) is not Tensor:
        return
    dtype = input.dtype
    for bound in (min, max):
        # the bounds that are converted to input's dtype: any real number for a floating
        # input, an int for an integer one (a float bound promotes it instead)
        if type(bound) is int or (type(bound) is float and dtype.is_floating_point):
            _check_fits(bound, dtype)
        elif (bound is not None and not isinstance(bound, (Tensor, int, float))
              and result_type(input, bound) is dtype):
            _check_fits(bound, dtype)


def _scaled(input, other, alpha):
    """``alpha * other`` for ``input + alpha * other``: alpha is checked and converted as
    PyTorch does, and takes no part in type promotion."""
    if type(alpha) is int and alpha == 1:
        return other
    if (type(alpha) is float and type(other) is Tensor and type(input) is Tensor
            and input.dtype is other.dtype and other.dtype.is_floating_point):
        return other * alpha            # the common case (p.add_(g, alpha=-lr)) in brief
    rt = result_type(input, other)
    if isinstance(alpha, (bool, np.bool_)) and rt is not _BOOL:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if not (rt.is_floating_point or rt.is_complex) and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if not rt.is_complex and isinstance(alpha, (complex, np.complexfloating)):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex "
                           "number.")
    if rt is _BOOL:
        alpha = bool(alpha)
    elif not (rt.is_floating_point or rt.is_complex):
        _check_fits(alpha, rt)
    if isinstance(other, Tensor):
        return ew(_MUL, other.to(rt), alpha)
    # a Python number stays a Python number of its own kind (True * True is not an int)
    return type(other)(other * alpha) if isinstance(other, (bool, int, float, complex)) \
        else other * alpha


def add(input, other, *, alpha=1, out=None):
    """Sum ``input + alpha * other``, elementwise, with broadcasting.

    Parameters
    ----------
    input, other : Tensor or number
    alpha : number, optional
        Multiplier for ``other``.
    out : Tensor, optional
        Tensor to write the result into.

    Examples
    --------
    >>> import ember
    >>> ember.add(ember.tensor([1, 2]), ember.tensor([10, 20]), alpha=2)
    tensor([21, 42])
    """
    return ew(_ADD, input, _scaled(input, other, alpha), out=out)


def sub(input, other, *, alpha=1, out=None):
    """Difference ``input - alpha * other``, elementwise, with broadcasting.

    Parameters
    ----------
    input, other : Tensor or number
    alpha : number, optional
        Multiplier for ``other``.
    out : Tensor, optional
        Tensor to write the result into.
    """
    return ew(_SUB, input, _scaled(input, other, alpha), out=out)


def div(input, other, *, rounding_mode=None, out=None):
    """Division ``input / other``: true division, or rounded with ``rounding_mode``.

    Parameters
    ----------
    input, other : Tensor or number
    rounding_mode : {None, 'trunc', 'floor'}
        None for true division; ``'trunc'`` rounds toward zero, ``'floor'`` toward
        negative infinity (integer inputs then stay integers).
    out : Tensor, optional
        Tensor to write the result into.
    """
    if rounding_mode is None:
        return ew(_DIV, input, other, out=out)
    if rounding_mode not in ("floor", "trunc"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    if _requires_grad(input) or _requires_grad(other):
        if out is not None:
            raise RuntimeError("div(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        return record("div_rounding", _rounded_div, (input, other, rounding_mode))
    return _rounded_div(input, other, rounding_mode, out)


def _rounded_div(input, other, rounding_mode, out=None):
    if rounding_mode == "floor":
        return ew(_FLOOR_DIVIDE, input, other, out=out)
    if rounding_mode == "trunc":
        ints = [a for a in (input, other) if isinstance(a, Tensor)]
        if all(not t.is_floating_point() and not t.is_complex() for t in ints) and \
                not any(isinstance(a, (float, complex)) for a in (input, other)):
            # exact integer division toward zero (through floats it loses digits past 2**24
            # and turns a zero divisor into garbage): the floor quotient, plus one where the
            # division is inexact and the signs differ
            q = ew(_FLOOR_DIVIDE, input, other)
            inexact = ew(_NE, ew(_REMAINDER, input, other), 0)
            signs_differ = ew(_NE, _is_negative(input), _is_negative(other))
            return ew(_ADD, q, ew(_LOGICAL_AND, inexact, signs_differ), out=out)
    return ew(_TRUNC, ew(_DIV, input, other), out=out)


@derivative("div_rounding", node="DivBackward2", save_inputs=False)
def _rounded_div_backward(ctx, grad, input, other, rounding_mode):
    # a step function: zero almost everywhere, as in PyTorch
    return zeros_like(grad), zeros_like(grad)


def _requires_grad(value):
    return isinstance(value, Tensor) and _recorded(value)


def _is_negative(value):
    return ew(_LT, value, 0) if isinstance(value, Tensor) else value < 0


def pow(input, exponent, *, out=None):
    """``input`` raised to ``exponent``, elementwise, with broadcasting.

    Parameters
    ----------
    input, exponent : Tensor or number
    out : Tensor, optional
        Tensor to write the result into.
    """
    return ew(_POW, input, exponent, out=out)


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` is True, of ``other`` elsewhere.

    Parameters
    ----------
    condition : Tensor of bool
    input, other : Tensor or number
        Broadcast together with ``condition``.
    out : Tensor, optional
        Tensor to write the result into.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([-1.0, 2.0])
    >>> ember.where(x > 0, x, 0.0)
    tensor([0., 2.])
    """
    if input is None and other is None:
        from ember.ops.index import nonzero
        return nonzero(condition, as_tuple=True)
    if isinstance(input, Tensor) != isinstance(other, Tensor):
        tensor, scalar = (input, other) if isinstance(input, Tensor) else (other, input)
        if not (type(scalar) in _PLAIN_NUMBERS and -127 <= scalar <= 127):  # fits any dtype
            dtype = tensor.dtype
            if not (dtype.is_floating_point or dtype.is_complex or dtype is _BOOL):
                _check_fits(scalar, result_type(input, other))
    return ew(_WHERE, condition, input, other, out=out)


def clamp(input, min=None, max=None, *, out=None):
    """Clamp each element of ``input`` into ``[min, max]`` (either bound may be None).

    Parameters
    ----------
    input : Tensor
    min, max : Tensor or number, optional
        Bounds, broadcast with ``input``.  If ``min > max`` the result is ``max``.
    out : Tensor, optional
        Tensor to write the result into.
    """
    if min is None and max is None:
        raise RuntimeError("ember.clamp: At least one of 'min' or 'max' must not be None")
    _check_bounds(input, min, max)
    if max is None or min is None:
        if _one_sided_gradient(input, min, max):
            return ew(_CLAMP, *_open_bounds(input, min, max), out=out)
        return ew(_MAX, input, min, out=out) if max is None else ew(_MIN, input, max, out=out)
    return ew(_CLAMP, input, min, max, out=out)


def clamp_(input, min=None, max=None):
    """In-place version of :meth:`Tensor.clamp`."""
    if min is None and max is None:
        raise RuntimeError("ember.clamp: At least one of 'min' or 'max' must not be None")
    _check_bounds(input, min, max)
    if max is None or min is None:
        if _one_sided_gradient(input, min, max):
            return ew_(_CLAMP, *_open_bounds(input, min, max))
        return ew_(_MAX, input, min) if max is None else ew_(_MIN, input, max)
    return ew_(_CLAMP, input, min, max)


def _one_sided_gradient(input, min, max):
    """Whether a clamp with one bound is recorded: it then runs as ``clamp`` with the other
    bound infinite, since its gradient is clamp's (the input keeps all of it at the bound),
    not that of ``maximum``/``minimum`` (which split it at ties)."""
    bound = max if min is None else min
    return ((_requires_grad(input) or _requires_grad(bound))
            and result_type(input, bound).is_floating_point)


def _open_bounds(input, min, max):
    return (input, -math.inf, max) if min is None else (input, min, math.inf)


def gelu(input, approximate="none"):
    """Gaussian error linear unit: ``x * Phi(x)``, exact or with the tanh approximation.

    Parameters
    ----------
    input : Tensor
    approximate : {'none', 'tanh'}
    """
    if approximate == "none":
        return ew(_GELU, input)
    if approximate == "tanh":
        return ew(_GELU_TANH, input)
    raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")


def silu(input, inplace=False):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``."""
    if inplace:
        return ew_(_SILU, input)
    return ew(_SILU, input)


def _where_method(self, condition, other):
    """Elements of ``self`` where ``condition`` is True, of ``other`` elsewhere."""
    return where(condition, self, other)


def _method(fn, name):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"See :func:`ember.{fn.__name__}`."
    return method


def _scaled_op(op):
    def slow(input, other, alpha, out):
        return ew(op, input, _scaled(input, other, alpha), out=out)
    return slow


def _rounded(input, other, rounding_mode, out):
    return div(input, other, rounding_mode=rounding_mode, out=out)


# add, sub and div as compiled closures over the operator fast paths (the Python
# definitions above give their docs and signatures)
for _fn, _aliases, _keyword, _default, _slow in (
        (add, (), "alpha", 1, _scaled_op(_ADD)),
        (sub, ("subtract",), "alpha", 1, _scaled_op(_SUB)),
        (div, ("divide", "true_divide"), "rounding_mode", None, _rounded)):
    _function, _method_fn, _inplace = _keyword_callables(op_id(_fn.__name__), _keyword,
                                                         _default, _slow)
    _function.__doc__, _function.__module__ = _fn.__doc__, "ember"
    _function.__text_signature__ = str(inspect.signature(_fn))
    for _name in (_fn.__name__,) + _aliases:
        functions[_name] = _function
        _tensor._add_method(_name, _method_fn)
        _tensor._add_method(_name + "_", _inplace)
    _function.__name__ = _function.__qualname__ = _fn.__name__
    _method_fn.__name__ = _method_fn.__qualname__ = _fn.__name__
    _method_fn.__doc__ = f"See :func:`ember.{_fn.__name__}`."
    _inplace.__name__ = _inplace.__qualname__ = _fn.__name__ + "_"
    _inplace.__doc__ = f"In-place version of :meth:`Tensor.{_fn.__name__}`."
for _fn in (pow, clamp):
    functions[_fn.__name__] = _fn
    _tensor._add_method(_fn.__name__, _method(_fn, _fn.__name__))
functions["clip"] = clamp
_tensor._add_method("clip", _method(clamp, "clip"))
functions.update(where=where, gelu=gelu, silu=silu)
_tensor._add_method("clamp_", clamp_)
_tensor._add_method("clip_", clamp_)
_tensor._add_method("where", _where_method)


def conj(input):
    """Complex conjugate, elementwise; a real tensor is returned as it is.

    Parameters
    ----------
    input : Tensor

    Notes
    -----
    A complex tensor's conjugate is a new tensor, as :func:`conj_physical` gives it.
    PyTorch returns a view with its conjugate bit set instead (``is_conj()`` True), which
    sees later writes to ``input``; ember has no conjugate bit, so ``is_conj()`` is
    always False.

    Examples
    --------
    >>> import ember
    >>> ember.conj(ember.tensor([1 + 2j]))
    tensor([1.-2.j])
    """
    if isinstance(input, Tensor) and input.is_complex():
        return ew(_CONJ, input)
    return input


def conj_physical(input, *, out=None):
    """Complex conjugate, elementwise, as :func:`conj` computes it.  ``out``, of the
    result's dtype (``input``'s), receives it (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> ember.conj_physical(ember.tensor([1 + 2j]))
    tensor([1.-2.j])
    """
    if out is not None:
        return _with_out("conj_physical", out, "same", conj_physical, (input,), None, (input,))
    return conj(input)


_CONJ = op_id("conj")
functions["conj"] = conj
functions["conj_physical"] = conj_physical
_tensor._add_method("conj", _method(conj, "conj"))
_tensor._add_method("conj_physical", _method(conj, "conj_physical"))


def _conj_physical_(self):
    """In-place :func:`conj_physical`: negates a complex tensor's imaginary parts."""
    return ew_(_CONJ, self) if self.is_complex() else self


_conj_physical_.__name__ = _conj_physical_.__qualname__ = "conj_physical_"
_tensor._add_method("conj_physical_", _conj_physical_)


# ---------------------------------------------------------------- derivatives
# The grad formulas of elementwise.toml are Python expressions over the names
# below: the ember functions, and helpers for formulas too long for one line.
# They follow PyTorch's derivatives.yaml, including its conventions at the points
# where a function is not differentiable (relu at 0, clamp at its bounds, pow at 0).

def conj_any(x):
    """The complex conjugate of a tensor or of a Python number (formulas see both)."""
    if isinstance(x, Tensor):
        return conj(x)
    return x.conjugate() if isinstance(x, complex) else x


def sgn_backward(grad, self, result):
    """The gradient of ``sgn``: 0 for real input; for complex input the part of ``grad``
    across the phase, ``(grad - sgn * Re(conj(grad) * sgn)) / |self|`` (0 at 0)."""
    if not self.is_complex():
        return zeros_like(grad)
    a = ew(_ABS, self)
    d = (grad - result * (conj(grad) * result).real) / ew(_WHERE, ew(_EQ, a, 0), 1, a)
    return ew(_WHERE, ew(_EQ, a, 0), 0, d)


def angle_backward(grad, self):
    """The gradient of ``angle``: 0 for real input, ``i * grad * z / |z|**2`` for complex."""
    if not self.is_complex():
        return zeros_like(grad)
    a = ew(_ABS, self)
    d = grad * self / ew(_WHERE, ew(_EQ, a, 0), 1, a * a) * 1j
    return ew(_WHERE, ew(_EQ, a, 0), 0, d)


def acosh_backward(grad, self):
    """``grad / sqrt(x**2 - 1)`` (finite below -1 too, as PyTorch); for complex input
    ``grad * conj(rsqrt(x + 1) * rsqrt(x - 1))``, the principal branch."""
    if self.is_complex():
        return grad * conj(ew(_RSQRT, self + 1) * ew(_RSQRT, self - 1))
    return grad * ew(_RSQRT, self * self - 1)


def sinc_backward(grad, self):
    """``grad * (cos(pi x) - sinc(x)) / x``, 0 at 0 (where sinc is flat); the divisor
    is kept away from 0 so that double backward stays finite there."""
    zero = ew(_EQ, self, 0)
    safe = ew(_WHERE, zero, 1, self)
    d = (ew(_COS, safe * math.pi) - ew(_SINC, safe)) / safe
    return grad * conj_any(ew(_WHERE, zero, 0, d))


def fminmax_backward(grad, self, other, is_min, first=True):
    """The gradient of ``fmin``/``fmax``: all of it to ``self`` where self wins or ties or
    ``other`` is NaN (PyTorch's rule), to ``other`` elsewhere (``first=False``)."""
    wins = ew(_LE, self, other) if is_min else ew(_GE, self, other)
    keep = ew(_LOGICAL_OR, wins, ew(_ISNAN, other))
    return ew(_WHERE, keep, grad, 0) if first else ew(_WHERE, keep, 0, grad)


def gelu_double_backward(grad, grad_output, x):
    """The gradient of ``gelu_backward`` for ``x``: ``grad * grad_output * gelu''(x)``, with
    ``gelu''(x) = phi(x) * (2 - x ** 2)``."""
    pdf = ew(_EXP, -0.5 * x * x) * 0.3989422804014327
    return grad * grad_output * pdf * (2 - x * x)


def gelu_tanh_double_backward(grad, grad_output, x):
    """The gradient of ``gelu_tanh_backward`` for ``x``: with ``u = k * (x + a * x ** 3)`` and
    ``t = tanh(u)``, the second derivative is ``(1 - t ** 2) * (u' - x * t * u' ** 2 + x * u'' / 2)``."""
    k, kappa = 0.7978845608028654, 0.044715
    t = ew(_TANH, k * (x + kappa * x * x * x))
    du = k * (1 + 3 * kappa * x * x)
    second = (1 - t * t) * (du - x * t * du * du + 3 * k * kappa * x * x)
    return grad * grad_output * second


def silu_double_backward(grad, grad_output, x):
    """The gradient of ``silu_backward`` for ``x``: ``silu''(x) = s * (1 - s) * (2 + x * (1 - 2 s))``
    with ``s = sigmoid(x)`` (conjugated for complex input, as PyTorch's convention asks)."""
    s = ew(_SIGMOID, x)
    return conj_any(grad) * grad_output * conj_any(s * (1 - s) * (2 + x * (1 - 2 * s)))


def mish_double_backward(grad, grad_output, x):
    """The gradient of ``mish_backward`` for ``x``: with ``s = sigmoid(x)`` and
    ``t = tanh(softplus(x))``, ``mish''(x) = (1 - t**2) * (2 s + x s (1 - s) - 2 x s**2 t)``."""
    s = ew(_SIGMOID, x)
    t = ew(_TANH, ew(_WHERE, ew(_GT, x, 20), x, ew(_LOG1P, ew(_EXP, x))))
    return grad * grad_output * (1 - t * t) * (2 * s + x * s * (1 - s) - 2 * x * s * s * t)


def pow_backward_self(grad, self, exponent):
    """``grad * conj(exponent * self ** (exponent - 1))``, 0 where the exponent is 0."""
    if not isinstance(exponent, Tensor):
        if exponent == 0:
            return zeros_like(grad)
        return grad * conj_any(exponent * ew(_POW, self, exponent - 1))
    d = grad * conj_any(exponent * ew(_POW, self, exponent - 1))
    return ew(_WHERE, ew(_EQ, exponent, 0), 0, d)


def _real_nonnegative(exponent):
    """Where ``0 ** exponent`` is flat: a real exponent >= 0 (complex: imaginary part 0)."""
    if exponent.is_complex():
        return ew(_LOGICAL_AND, ew(_EQ, exponent.imag, 0), ew(_GE, exponent.real, 0))
    return ew(_GE, exponent, 0)


def pow_backward_exponent(grad, self, exponent, result):
    """``grad * conj(result * log(self))``, 0 where the base is 0 and the exponent a real
    number >= 0; a real base of a complex power takes the complex logarithm."""
    if not isinstance(self, Tensor):
        base = complex(self) if result.is_complex() else self
        if base == 0:
            return ew(_WHERE, _real_nonnegative(exponent), 0, grad * conj_any(result * -math.inf))
        if isinstance(base, complex):
            log_base = cmath.log(base)
        else:
            log_base = math.log(base) if base > 0 else math.nan
        return grad * conj_any(result * log_base)
    base = self.to(result.dtype) if result.is_complex() and not self.is_complex() else self
    d = grad * conj_any(result * ew(_LOG, base))
    return ew(_WHERE, ew(_LOGICAL_AND, ew(_EQ, self, 0), _real_nonnegative(exponent)), 0, d)


def minmax_backward(grad, self, other, is_min):
    """The gradient of ``minimum``/``maximum`` for ``self``: all of it where self wins,
    half where the two tie (PyTorch's rule)."""
    loses = ew(_GT, self, other) if is_min else ew(_LT, self, other)
    half = ew(_WHERE, ew(_EQ, self, other), grad * 0.5, grad)
    return ew(_WHERE, loses, 0, half)


def clamp_backward_min(grad, self, min, max):
    """The gradient of ``clamp``'s lower bound: where it clamps and is below the upper."""
    return ew(_WHERE, ew(_LOGICAL_AND, ew(_LT, self, min), ew(_LT, min, max)), grad, 0)


def clamp_backward_max(grad, self, min, max):
    """The gradient of ``clamp``'s upper bound: where it clamps, or everywhere when it is
    below the lower bound (the result is then the upper bound)."""
    return ew(_WHERE, ew(_LOGICAL_OR, ew(_GT, self, max), ew(_LT, max, min)), grad, 0)


_ABS, _SIGN, _EQ, _GT, _GE, _LE, _LOG, _EXP, _ERF, _TANH, _SIGMOID, _LOGICAL_OR, _ISNAN = (
    op_id(n) for n in ("abs", "sign", "eq", "gt", "ge", "le", "log", "exp", "erf", "tanh",
                       "sigmoid", "logical_or", "isnan"))
_COS, _SINC, _LOG1P, _RSQRT = op_id("cos"), op_id("sinc"), op_id("log1p"), op_id("rsqrt")
_XLOGY = op_id("xlogy")


def atan2_backward(grad, self, other, first=True):
    """The gradient of ``atan2`` for ``self`` (``other`` with ``first=False``):
    ``grad * other / r2`` (``-grad * self / r2``), 0 at the origin where ``r2`` is 0,
    as PyTorch (the plain quotient is 0/0 there)."""
    r2 = self * self + other * other
    recip = ew(_WHERE, ew(_EQ, r2, 0), 0, 1 / ew(_WHERE, ew(_EQ, r2, 0), 1, r2))
    return grad * other * recip if first else -grad * self * recip


def xlogy_backward(grad, self, other):
    """The gradient of ``xlogy`` for ``self``: ``grad * log(other)`` also where ``self``
    is 0 (``x log y`` is linear in ``x``), as PyTorch; 0 where ``self`` is 0 and
    ``other <= 0``, where the log is not finite."""
    d = ew(_XLOGY, grad, other)
    if not isinstance(other, Tensor):
        return ew(_WHERE, ew(_EQ, self, 0), 0, d) if other <= 0 else d
    return ew(_WHERE, ew(_LOGICAL_AND, ew(_EQ, self, 0), ew(_LE, other, 0)), 0, d)

def _digamma(x):
    # lgamma's derivative; ember.special computes it (imported late: it builds on this module)
    from ember.special import digamma
    return digamma(x)


_FORMULA_NAMES = dict(functions, **internal, conj=conj_any, zeros_like=zeros_like,
                      digamma=_digamma,
                      sgn_backward=sgn_backward, angle_backward=angle_backward,
                      sinc_backward=sinc_backward, fminmax_backward=fminmax_backward,
                      mish_double_backward=mish_double_backward, acosh_backward=acosh_backward,
                      gelu_double_backward=gelu_double_backward,
                      gelu_tanh_double_backward=gelu_tanh_double_backward,
                      silu_double_backward=silu_double_backward,
                      pow_backward_self=pow_backward_self,
                      pow_backward_exponent=pow_backward_exponent,
                      minmax_backward=minmax_backward, clamp_backward_min=clamp_backward_min,
                      xlogy_backward=xlogy_backward, atan2_backward=atan2_backward,
                      clamp_backward_max=clamp_backward_max)

# graph node names where PyTorch's differ from the one derived from the op's name
NODE_NAMES = {"log1p": "Log1PBackward0", "gelu_tanh": "GeluBackward0",
              "clamp": "ClampBackward1", "relu_backward": "ThresholdBackwardBackward0",
              "gelu_tanh_backward": "GeluBackwardBackward0"}

# PyTorch names some nodes by which operands are tensors (is_tensor: one bool per input)
NAME_RULES = {
    "sub": lambda is_tensor: "SubBackward0" if is_tensor[0] else "RsubBackward1",
    "div": lambda is_tensor: "DivBackward0" if is_tensor[0] else "MulBackward0",
    "pow": lambda is_tensor: ("PowBackward1" if is_tensor[1] else "PowBackward0")
                             if is_tensor[0] else "PowBackward2",
    "remainder": lambda is_tensor: "RemainderBackward1" if is_tensor[1] else "RemainderBackward0",
    "clamp": lambda is_tensor: "ClampBackward0" if is_tensor[1] or is_tensor[2]
                               else "ClampBackward1",
}


def _not_implemented(name):
    def formula(*args):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    return formula


def _register_derivatives():
    for name, spec in TABLE.items():
        if spec.get("out") == "bool" or not set(spec["kinds"]) & set("fc"):
            continue
        args = spec.get("args", ["self", "other", "third"][:spec["arity"]])
        params = ", ".join(["grad", *args, "result"])
        if "grad" not in spec:
            formulas = [_not_implemented(name)] * spec["arity"]
            exprs = [""] * spec["arity"]
        else:
            exprs = spec["grad"]
            formulas = [None if expr == "None" else
                        eval(f"lambda {params}: {expr}", _FORMULA_NAMES) for expr in exprs]
        # what each formula reads: the recorder saves only what the needed formulas use
        used = [set(re.findall(r"[A-Za-z_]\w*", expr)) for expr in exprs]
        derivatives.ELEMENTWISE[op_id(name)] = (
            NODE_NAMES.get(name, derivatives.node_name(name)), formulas,
            [tuple(a in u for a in args) for u in used], ["result" in u for u in used],
            NAME_RULES.get(name))


_register_derivatives()
