"""The special-function table: each ``ember.special`` function that has no short C
formula, computed by a SciPy ufunc on NumPy views of ember tensors and recorded as an
op whose derivative is written with ember ops (so double backward works).

One entry per function::

    name: Special(compute, arity, half, grads, doc)

``compute(*arrays, out=array)`` fills ``out`` (a SciPy ufunc or a NumPy-level function
built from them); ``half`` says whether float16/bfloat16 inputs are accepted (computed
in float32, as PyTorch's CPU kernels do); ``grads`` holds, per input, the gradient as a
function ``(grad, *inputs, result)`` of ember ops, ``NOT_IMPLEMENTED`` where PyTorch
raises at backward, or ``grads=None`` for functions PyTorch does not differentiate
(their outputs never require grad).
"""
import math
from collections import namedtuple

import numpy as np
import scipy.special as sc

from ember._core._dtype import (bool_, float16, bfloat16, float32, float64, can_cast,
                                get_default_dtype)
from ember._core._tensor import (Tensor, _recorded, _resize_output, broadcast_shapes, empty, record,
                                 result_type)
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops.derivatives import derivative
from ember.ops.elementwise import functions as _ew

__all__ = ["TABLE", "evaluate", "evaluate_inplace"]

Special = namedtuple("Special", "compute arity half grads doc")
NOT_IMPLEMENTED = "not implemented"

_exp, _log, _sqrt, _where, _sgn = _ew["exp"], _ew["log"], _ew["sqrt"], _ew["where"], _ew["sign"]
_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_PI = math.sqrt(math.pi)


def _call(name, *args):
    """``TABLE[name]`` as an ember op (the table's functions refer to each other)."""
    return evaluate(name, args)


# ---------------------------------------------------------------- gradients (ember ops)

def _i1_grad(grad, x, result):
    # d/dx I1(x) = I0(x) - I1(x)/x, which tends to 1/2 at x = 0
    safe = _where(x == 0, 1, x)
    return grad * _where(x == 0, 0.5, _call("i0", x) - result / safe)


def _i1e_grad(grad, x, result):
    # d/dx I1e(x) = I0e(x) - I1e(x) (sign(x) + 1/x), which tends to 1/2 at x = 0
    safe = _where(x == 0, 1, x)
    return grad * _where(x == 0, 0.5, _call("i0e", x) - result * (_sgn(x) + 1 / safe))


def _xlog1py_grad_x(grad, x, y, result):
    # PyTorch sets the gradient to 0 where x == 0 and y <= -1 (log1p(y) is -inf or NaN)
    g = grad * _ew["log1p"](y)
    return _where((x == 0) & (y <= -1), 0, g)


def _gammainc_grad_x(grad, a, x, result):
    # d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a)
    return grad * _exp((a - 1) * _log(x) - x - _ew["lgamma"](a))


# ---------------------------------------------------------------- polynomials (NumPy level)

def _polynomial(evaluate_at):
    """A compute function for ``P_n(x)`` from ``evaluate_at(n, x)``: PyTorch truncates
    the degree ``n`` to an integer and gives 0 for a negative degree."""
    def compute(x, n, out):
        degree = np.trunc(n).astype(np.int64)
        values = evaluate_at(np.maximum(degree, 0), x)
        out[...] = np.where(degree < 0, 0, values)
    return compute


def _chebyshev_u_before(n, x):
    """U_{n-1}(x), with U_{-1} = 0 (the third and fourth kinds are U_n -+ U_{n-1})."""
    return np.where(n >= 1, sc.eval_chebyu(np.maximum(n - 1, 0), x), 0)


def _spherical_j0(x, out):
    out[...] = sc.spherical_jn(0, x)


def _airy_ai(x, out):
    sc.airy(x, out=(out, None, None, None))
    # SciPy gives NaN for |x| beyond about 1e6: Ai has underflowed to 0 on the right, and
    # on the left the first two terms of the asymptotic series are exact in float64
    # (PyTorch's Cephes kernel computes the same expression there)
    far = np.isnan(out) & np.isfinite(x)
    if far.any():
        z = np.abs(x[far]).astype(np.float64)
        zeta = 2 * z * np.sqrt(z) / 3
        theta = zeta + np.pi / 4
        left = (np.sin(theta) - 5 / (72 * zeta) * np.cos(theta)) / (_SQRT_PI * z ** 0.25)
        out[far] = np.where(x[far] > 0, 0, left)


# ---------------------------------------------------------------- the table

TABLE = {
    # differentiable (as PyTorch): gradients in ember ops
    "erfcx": Special(sc.erfcx, 1, False,
                     [lambda g, x, r: g * (2 * x * r - 2 / _SQRT_PI)],
                     "Scaled complementary error function, ``exp(x**2) * erfc(x)``."),
    "erfinv": Special(sc.erfinv, 1, True,
                      [lambda g, x, r: g * (_SQRT_PI / 2) * _exp(r * r)],
                      "Inverse error function, for ``x`` in ``[-1, 1]``."),
    "i0": Special(sc.i0, 1, True, [lambda g, x, r: g * _call("i1", x)],
                  "Modified Bessel function of the first kind, order 0."),
    "i0e": Special(sc.i0e, 1, True,
                   [lambda g, x, r: g * (_call("i1e", x) - _sgn(x) * r)],
                   "Exponentially scaled modified Bessel function of order 0, "
                   "``exp(-|x|) * i0(x)``."),
    "i1": Special(sc.i1, 1, True, [_i1_grad],
                  "Modified Bessel function of the first kind, order 1."),
    "i1e": Special(sc.i1e, 1, True, [_i1e_grad],
                   "Exponentially scaled modified Bessel function of order 1, "
                   "``exp(-|x|) * i1(x)``."),
    "ndtr": Special(sc.ndtr, 1, True,
                    [lambda g, x, r: g * _exp(-0.5 * x * x) / _SQRT_2PI],
                    "Standard normal cumulative distribution function."),
    "ndtri": Special(sc.ndtri, 1, False,
                     [lambda g, x, r: g * _SQRT_2PI * _exp(0.5 * r * r)],
                     "Inverse of :func:`ndtr`: the standard normal quantile function."),
    "log_ndtr": Special(sc.log_ndtr, 1, False,
                        [lambda g, x, r: g * _exp(-(r + 0.5 * x * x)) / _SQRT_2PI],
                        "Logarithm of the standard normal cumulative distribution function."),
    "entr": Special(sc.entr, 1, True, [lambda g, x, r: g * -(1 + _log(x))],
                    "Elementwise entropy: ``-x log x`` for ``x > 0``, 0 at 0, "
                    "``-inf`` below."),
    "digamma": Special(sc.psi, 1, True, [lambda g, x, r: g * polygamma(1, x)],
                       "Digamma function, the logarithmic derivative of the gamma "
                       "function."),
    "xlog1py": Special(sc.xlog1py, 2, True,
                       [_xlog1py_grad_x, lambda g, x, y, r: g * x / (y + 1)],
                       "``x * log1p(y)``, 0 where ``x`` is 0."),
    "zeta": Special(sc.zeta, 2, False,
                    [NOT_IMPLEMENTED, lambda g, x, q, r: g * -x * _call("zeta", x + 1, q)],
                    "Hurwitz zeta function ``sum((k + q) ** -x for k >= 0)``."),
    "gammainc": Special(sc.gammainc, 2, True, [NOT_IMPLEMENTED, _gammainc_grad_x],
                        "Regularized lower incomplete gamma function ``P(a, x)``."),
    "gammaincc": Special(sc.gammaincc, 2, True,
                         [NOT_IMPLEMENTED, lambda g, a, x, r: -_gammainc_grad_x(g, a, x, r)],
                         "Regularized upper incomplete gamma function ``Q(a, x)``."),
    # not differentiable in PyTorch
    "bessel_j0": Special(sc.j0, 1, False, None, "Bessel function of the first kind, order 0."),
    "bessel_j1": Special(sc.j1, 1, False, None, "Bessel function of the first kind, order 1."),
    "bessel_y0": Special(sc.y0, 1, False, None,
                         "Bessel function of the second kind, order 0."),
    "bessel_y1": Special(sc.y1, 1, False, None,
                         "Bessel function of the second kind, order 1."),
    "modified_bessel_i0": Special(sc.i0, 1, False, None,
                                  "Modified Bessel function of the first kind, order 0."),
    "modified_bessel_i1": Special(sc.i1, 1, False, None,
                                  "Modified Bessel function of the first kind, order 1."),
    "modified_bessel_k0": Special(sc.k0, 1, False, None,
                                  "Modified Bessel function of the second kind, order 0."),
    "modified_bessel_k1": Special(sc.k1, 1, False, None,
                                  "Modified Bessel function of the second kind, order 1."),
    "scaled_modified_bessel_k0": Special(sc.k0e, 1, False, None,
                                         "Exponentially scaled modified Bessel function of "
                                         "the second kind, order 0: ``exp(x) * k0(x)``."),
    "scaled_modified_bessel_k1": Special(sc.k1e, 1, False, None,
                                         "Exponentially scaled modified Bessel function of "
                                         "the second kind, order 1: ``exp(x) * k1(x)``."),
    "spherical_bessel_j0": Special(_spherical_j0, 1, False, None,
                                   "Spherical Bessel function of the first kind, order 0: "
                                   "``sin(x) / x``."),
    "airy_ai": Special(_airy_ai, 1, False, None, "Airy function ``Ai``."),
    "chebyshev_polynomial_t": Special(_polynomial(sc.eval_chebyt), 2, False, None,
                                      "Chebyshev polynomial of the first kind ``T_n(x)``."),
    "chebyshev_polynomial_u": Special(_polynomial(sc.eval_chebyu), 2, False, None,
                                      "Chebyshev polynomial of the second kind ``U_n(x)``."),
    "chebyshev_polynomial_v": Special(
        _polynomial(lambda n, x: sc.eval_chebyu(n, x) - _chebyshev_u_before(n, x)), 2, False,
        None, "Chebyshev polynomial of the third kind ``V_n(x)``."),
    "chebyshev_polynomial_w": Special(
        _polynomial(lambda n, x: sc.eval_chebyu(n, x) + _chebyshev_u_before(n, x)), 2, False,
        None, "Chebyshev polynomial of the fourth kind ``W_n(x)``."),
    "shifted_chebyshev_polynomial_t": Special(
        _polynomial(lambda n, x: sc.eval_chebyt(n, 2 * x - 1)), 2, False, None,
        "Shifted Chebyshev polynomial of the first kind ``T_n(2x - 1)``."),
    "shifted_chebyshev_polynomial_u": Special(
        _polynomial(lambda n, x: sc.eval_chebyu(n, 2 * x - 1)), 2, False, None,
        "Shifted Chebyshev polynomial of the second kind ``U_n(2x - 1)``."),
    "shifted_chebyshev_polynomial_v": Special(
        _polynomial(lambda n, x: sc.eval_chebyu(n, 2 * x - 1)
                    - _chebyshev_u_before(n, 2 * x - 1)), 2, False, None,
        "Shifted Chebyshev polynomial of the third kind ``V_n(2x - 1)``."),
    "shifted_chebyshev_polynomial_w": Special(
        _polynomial(lambda n, x: sc.eval_chebyu(n, 2 * x - 1)
                    + _chebyshev_u_before(n, 2 * x - 1)), 2, False, None,
        "Shifted Chebyshev polynomial of the fourth kind ``W_n(2x - 1)``."),
    "hermite_polynomial_h": Special(_polynomial(sc.eval_hermite), 2, False, None,
                                    "Physicists' Hermite polynomial ``H_n(x)``."),
    "hermite_polynomial_he": Special(_polynomial(sc.eval_hermitenorm), 2, False, None,
                                     "Probabilists' Hermite polynomial ``He_n(x)``."),
    "laguerre_polynomial_l": Special(_polynomial(sc.eval_laguerre), 2, False, None,
                                     "Laguerre polynomial ``L_n(x)``."),
    "legendre_polynomial_p": Special(_polynomial(sc.eval_legendre), 2, False, None,
                                     "Legendre polynomial ``P_n(x)``."),
}

_TORCH_TYPE_NAMES = {float16: "Half", bfloat16: "BFloat16", "complex64": "ComplexFloat",
                     "complex128": "ComplexDouble"}


# the functions whose first input PyTorch's binding calls ``x`` (its docs say ``input``):
# ``torch.special.airy_ai(x=t)`` works and ``airy_ai(input=t)`` does not
_X_NAMED = frozenset({"airy_ai", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
                      "spherical_bessel_j0"})


def arg_names(name):
    """The names of the inputs of ``TABLE[name]``, as PyTorch's binding has them."""
    if "_polynomial_" in name:
        return ("x", "n")
    if name in _X_NAMED:
        return ("x",)
    return ("input", "other")[:TABLE[name].arity]


# ---------------------------------------------------------------- evaluation

def _result_dtype(name, spec, args):
    """PyTorch's rule: the inputs' common dtype, integer and bool promoted to the
    default float dtype; complex inputs and (for some) half precision are refused."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not tensors:
        raise TypeError(f"special_{name}(): expected at least one Tensor argument, got "
                        f"{', '.join(type(a).__name__ for a in args)}")
    for a in args:
        if not isinstance(a, (Tensor, bool, int, float)):
            raise TypeError(f"special_{name}(): argument must be Tensor or a real number, "
                            f"not {type(a).__name__}")
    dtype = result_type(*args) if len(args) == 2 else args[0].dtype
    if dtype.is_complex:
        raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                  f"'{_TORCH_TYPE_NAMES[dtype.name]}'")
    if not dtype.is_floating_point:
        dtype = get_default_dtype()
    if dtype in (float16, bfloat16) and not spec.half:
        raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                  f"'{_TORCH_TYPE_NAMES[dtype]}'")
    return dtype


def _compute(name, *args):
    """Run the SciPy function of ``TABLE[name]`` on ``args`` into a new ember tensor."""
    spec = TABLE[name]
    dtype = _result_dtype(name, spec, args)
    work = float32 if dtype in (float16, bfloat16) else dtype
    arrays = [np.asarray(a.detach().to(work)) if isinstance(a, Tensor) else float(a)
              for a in args]
    shape = broadcast_shapes(*(a.shape for a in args if isinstance(a, Tensor)))
    result = empty(shape, dtype=work)
    if result.numel():
        with np.errstate(all="ignore"):
            spec.compute(*arrays, out=np.asarray(result))
    return result if work is dtype else result.to(dtype)


def _requires_grad(args):
    return any(isinstance(a, Tensor) and _recorded(a) for a in args)


def evaluate(name, args, out=None):
    """``TABLE[name]`` applied to ``args`` (tensors or numbers): recorded for autograd
    when an input requires grad and PyTorch differentiates the function."""
    if out is not None:
        return write_out(name, _compute(name, *args), out)
    if TABLE[name].grads is not None and _requires_grad(args):
        return record("special_" + name, _compute, (name, *args))
    return _compute(name, *args)


def write_out(name, result, out):
    """Copy ``result`` into the ``out=`` tensor, with PyTorch's checks."""
    if not isinstance(out, Tensor):
        raise TypeError(f"special_{name}(): argument 'out' must be Tensor, not "
                        f"{type(out).__name__}")
    if not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {type_name(result.dtype)} can't be cast to the "
                           f"desired output type {type_name(out.dtype)}")
    if out.requires_grad and is_grad_enabled():
        raise RuntimeError(f"special_{name}(): functions with out=... arguments don't "
                           "support automatic differentiation, but one of the arguments "
                           "requires grad.")
    _resize_output(out, result.shape)
    return out.copy_(result)


def type_name(dtype):
    names = {bool_: "Bool", float16: "Half", bfloat16: "BFloat16", float32: "Float",
             float64: "Double"}
    return names.get(dtype, dtype.name.capitalize())


def evaluate_inplace(name, self, args):
    """The in-place form ``self.name_(*args)``: ``self`` is the first input."""
    if not isinstance(self, Tensor):
        raise TypeError(f"{name}_(): self must be a Tensor")
    if _recorded(self):
        # the derivative reads the original input: compute from a copy of it
        result = evaluate(name, (self.clone(), *args))
    else:
        result = _compute(name, self, *args)
    if not can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {type_name(result.dtype)} can't be cast to the "
                           f"desired output type {type_name(self.dtype)}")
    return self.copy_(result)


# ---------------------------------------------------------------- derivatives

def _formula_for(name, grads):
    def formula(ctx, grad, fname, *args):
        result = ctx.result
        needs = iter(ctx.needs_input_grad)
        out = [None]                     # the function's name is argument 0
        for i, a in enumerate(args):
            if not isinstance(a, Tensor) or not next(needs):
                out.append(None)
            elif grads[i] is NOT_IMPLEMENTED:
                what = name if TABLE[name].arity == 1 or name == "zeta" else \
                    f"{'igammac' if name == 'gammaincc' else 'igamma'}: input"
                raise NotImplementedError(f"the derivative for '{what}' is not implemented.")
            else:
                out.append(grads[i](grad, *args, result))
        return tuple(out)
    return formula


def _register_derivatives():
    for name, spec in TABLE.items():
        if spec.grads is not None:
            derivative("special_" + name, save_result=True,
                       node=f"Special{''.join(p.capitalize() for p in name.split('_'))}"
                            "Backward0")(_formula_for(name, spec.grads))


_register_derivatives()


def polygamma(n, input):
    """``polygamma(n, x)``, the n-th derivative of digamma: ``digamma`` for n = 0, else
    ``(-1)**(n+1) n! zeta(n+1, x)`` (as SciPy computes it), so its gradient is
    ``polygamma(n+1, x)`` through zeta's."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return evaluate("digamma", (input,))
    half = isinstance(input, Tensor) and input.dtype in (float16, bfloat16)
    x = input.to(float32) if half else input       # zeta has no half-precision kernel
    result = evaluate("zeta", (float(n + 1), x)) * ((-1) ** (n + 1) * math.factorial(n))
    return result.to(input.dtype) if half else result
