"""Special functions, as ``torch.special``.

The functions without a short C formula come from one table
(``ember.special._table.TABLE``: name -> SciPy ufunc, arity, gradient formulas) and are
computed by :mod:`scipy.special` on NumPy views of the tensors; the rest are aliases of
ember's elementwise ops.
"""
from ember.ops.autocast import autocasts
import math

from ember._core._dtype import can_cast, get_default_dtype
from ember._core._tensor import Tensor, _add_method, arange
from ember.ops import elementwise_math as _elementwise_math
from ember.ops.elementwise import functions as _ew
from ember.special._table import (TABLE, arg_names, evaluate, evaluate_inplace, type_name,
                                 write_out)
from ember.special._table import polygamma as _polygamma

__all__ = sorted([*TABLE, "psi", "polygamma", "multigammaln", "gammaln", "log1p", "expm1",
                  "expit", "exp2", "erf", "erfc", "logit", "xlogy", "sinc", "round", "softmax",
                  "log_softmax", "logsumexp"])

_EXAMPLE_INPUT = {1: "ember.tensor([0.5, 1.0])", 2: "ember.tensor([0.5, 1.0]), 2.0"}


def _docstring(name):
    spec = TABLE[name]
    names = arg_names(name)
    params = "\n".join(f"{arg} : Tensor or float\n    {'Input' if i == 0 else 'Second input'}"
                       f"{' (at least one of the inputs is a Tensor)' if spec.arity == 2 else ''}."
                       for i, arg in enumerate(names))
    if names[-1] == "n":
        params = params.replace("Second input", "Degree, truncated to an integer (0 below 0)")
    grad = ("Differentiable as in PyTorch." if spec.grads is not None else
            "Not differentiable (as in PyTorch): the result never requires grad.")
    example = _EXAMPLE_INPUT[spec.arity] if names[-1] != "n" else "ember.tensor([0.5, 1.0]), 3"
    return f"""{spec.doc}

Computed by :mod:`scipy.special` in the input's floating dtype (integer and bool
inputs give the default float dtype).  {grad}

Parameters
----------
{params}
out : Tensor, optional
    Where to write the result.

Returns
-------
Tensor
    The values, at the inputs' broadcast shape.

Examples
--------
>>> import ember
>>> r = ember.special.{name}({example})
"""


def _make_function(name):
    names = arg_names(name)
    if names == ("input",):
        def function(input, *, out=None):
            return evaluate(name, (input,), out)
    elif names == ("x",):
        def function(x, *, out=None):
            return evaluate(name, (x,), out)
    elif names == ("x", "n"):
        def function(x, n, *, out=None):
            return evaluate(name, (x, n), out)
    else:
        def function(input, other, *, out=None):
            return evaluate(name, (input, other), out)
    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    function.__doc__ = _docstring(name)
    return function


for _name in TABLE:
    globals()[_name] = _make_function(_name)
del _name
# float32 under CUDA autocast, as PyTorch's table says
erfinv = autocasts("erfinv")(erfinv)  # noqa: F821 (defined by the loop above)
psi = digamma          # noqa: F821 (defined by the loop above)


def polygamma(n, input, *, out=None):
    """The ``n``-th derivative of the digamma function.

    Parameters
    ----------
    n : int
        The order, at least 0 (``polygamma(0, x)`` is ``digamma(x)``).
    input : Tensor
        The points.
    out : Tensor, optional
        Where to write the result.

    Returns
    -------
    Tensor
        ``polygamma(n, input)``; differentiable (its gradient is ``polygamma(n + 1, x)``).

    Examples
    --------
    >>> import ember
    >>> ember.special.polygamma(1, ember.tensor([1.0]))
    tensor([1.6449])
    """
    result = _polygamma(n, input)
    return result if out is None else write_out("polygamma", result, out)


def multigammaln(input, p, *, out=None):
    """Multivariate log-gamma function of dimension ``p``.

    ``log(pi) * p (p - 1) / 4 + sum(gammaln(input - j / 2) for j in range(p))``, built
    from :func:`gammaln`, so it is differentiable (and twice).

    Parameters
    ----------
    input : Tensor
        The points (each above ``(p - 1) / 2`` for a finite value).
    p : int
        The dimension, at least 1.
    out : Tensor, optional
        Where to write the result.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.special.multigammaln(ember.tensor([2.0, 3.0]), 2)
    tensor([0.4516, 1.5502])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multigammaln(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(p, int) or isinstance(p, bool):
        raise TypeError(f"multigammaln(): argument 'p' (position 2) must be int, not "
                        f"{type(p).__name__}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = input if input.is_floating_point() else input.to(get_default_dtype())
    shifts = arange(p, dtype=x.dtype) * -0.5
    terms = gammaln(x.unsqueeze(-1) + shifts)
    result = terms.sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    return result if out is None else write_out("multigammaln", result, out)


# aliases of ember's elementwise ops (torch.special has the same functions)
log1p = _ew["log1p"]
expm1 = _ew["expm1"]
expit = _ew["sigmoid"]
erf = _ew["erf"]
exp2 = _ew["exp2"]
erfc = _ew["erfc"]
xlogy = _ew["xlogy"]
sinc = _ew["sinc"]
gammaln = _ew["lgamma"]
logit = _elementwise_math.logit
round = _elementwise_math.round


def softmax(input, dim, *, dtype=None):
    """Softmax over ``dim`` (alias of :func:`ember.softmax`)."""
    from ember import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax over ``dim`` (alias of :func:`ember.log_softmax`)."""
    from ember import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(input), dim))``, computed stably (alias of :func:`ember.logsumexp`,
    whose ``out`` this takes too)."""
    from ember import logsumexp as _logsumexp
    return _logsumexp(input, dim, keepdim, out=out)


# ---------------------------------------------------------------- top-level ops and methods

def mvlgamma(input, p, *, out=None):
    """Multivariate log-gamma function (the same as :func:`ember.special.multigammaln`).

    Examples
    --------
    >>> import ember
    >>> ember.mvlgamma(ember.tensor([2.0]), 2)
    tensor([0.4516])
    """
    return multigammaln(input, p, out=out)


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _polygamma_method(self, n):
    """``polygamma(n, self)``."""
    return polygamma(n, self)


def _polygamma_(self, n):
    """In-place :func:`polygamma`: ``self = polygamma(n, self)``."""
    source = self.clone() if self.requires_grad else self
    return self.copy_(_refuse(polygamma(n, source), self))


def _mvlgamma_(self, p):
    """In-place :func:`mvlgamma`."""
    source = self.clone() if self.requires_grad else self
    return self.copy_(_refuse(multigammaln(source, p), self))


def _refuse(result, self):
    """``result``, unless PyTorch refuses to write its dtype into ``self``."""
    if not can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {type_name(result.dtype)} can't be cast to "
                           f"the desired output type {type_name(self.dtype)}")
    return result


def _inplace(name):
    def method(self):
        return evaluate_inplace(name, self, ())
    method.__name__ = name + "_"
    method.__doc__ = f"In-place :func:`ember.special.{name}`."
    return method


for _name in ("digamma", "erfinv", "i0"):
    _add_method(_name, _method(globals()[_name]))
    _add_method(_name + "_", _inplace(_name))
del _name
_add_method("polygamma", _polygamma_method)
_add_method("polygamma_", _polygamma_)
_add_method("mvlgamma", _method(mvlgamma))
_add_method("mvlgamma_", _mvlgamma_)



def _igamma_alias(name, special):
    def function(input, other, *, out=None):
        # PyTorch's top-level names take two tensors (special.* also takes numbers)
        for position, (arg, value) in enumerate((("input", input), ("other", other)), 1):
            if not isinstance(value, Tensor):
                raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be "
                                f"Tensor, not {type(value).__name__}")
        return evaluate(special, (input, other), out)

    def inplace(self, other):
        return evaluate_inplace(special, self, (other,))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"""Alias of :func:`ember.special.{special}` (PyTorch's older name).

    Examples
    --------
    >>> import ember
    >>> r = ember.{name}(ember.tensor([1.0, 2.0]), ember.tensor([0.5, 3.0]))
    """
    inplace.__name__ = inplace.__qualname__ = name + "_"
    inplace.__doc__ = f"In-place :func:`ember.{name}`."
    _add_method(name, _method(function))
    _add_method(name + "_", inplace)
    return function


# ember.igamma and ember.igammac (not names of torch.special)
_igamma = _igamma_alias("igamma", "gammainc")
_igammac = _igamma_alias("igammac", "gammaincc")
