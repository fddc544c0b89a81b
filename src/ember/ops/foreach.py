"""PyTorch's ``_foreach_*`` functions: one operation applied to each tensor of a list.

Private in PyTorch, but called directly by popular training code (the weight EMAs of
timm's ``ModelEmaV3`` and diffusers' ``EMAModel``), so they exist under the same names
with the same argument forms.  Each is a loop over ember's own op (no fused kernel):
``_foreach_add(tensors, other)`` gives a tuple of results, ``_foreach_add_`` updates the
tensors in place and returns the list it was given.  A list argument is taken element by
element; any other argument (a scalar, a tensor) is used for every tensor.
"""
import numbers

import ember
from ember._core._tensor import Tensor, _recorded

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
          "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("add", "sub", "mul", "div", "pow", "clamp_min", "clamp_max")

functions = {}


def _per_tensor(tensors, *args):
    """``tensors`` as a list, and each argument as one value per tensor."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("Tensor list must have at least one tensor.")
    columns = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            if len(arg) != len(tensors):
                if all(isinstance(a, numbers.Number) for a in arg):
                    raise RuntimeError("Tensor list must have same number of elements as "
                                       "scalar list.")
                raise RuntimeError(f"Tensor lists must have the same number of tensors, got "
                                   f"{len(tensors)} and {len(arg)}")
            columns.append(list(arg))
        else:
            columns.append([arg] * len(tensors))
    return tensors, list(zip(*columns)) if columns else [()] * len(tensors)


def _publish(name, outplace, inplace, doc):
    outplace.__name__ = outplace.__qualname__ = f"_foreach_{name}"
    outplace.__doc__ = doc + " (a loop over the list; PyTorch's private name)."
    functions[outplace.__name__] = outplace
    if inplace is not None:
        inplace.__name__ = inplace.__qualname__ = f"_foreach_{name}_"
        inplace.__doc__ = f"In-place :func:`_foreach_{name}`; returns the list given."
        functions[inplace.__name__] = inplace


def _register(name, apply, apply_=None, args=""):
    """Define ``_foreach_<name>`` from ``apply(tensor, *args, **kwargs)``, and its in-place
    form from ``apply_`` (default: the tensor method ``<name>_``)."""
    if apply_ is None:
        def apply_(t, *args, **kwargs):
            getattr(t, name + "_")(*args, **kwargs)

    def outplace(self, *args, **kwargs):
        tensors, rows = _per_tensor(self, *args)
        return tuple(apply(t, *row, **kwargs) for t, row in zip(tensors, rows))

    def inplace(self, *args, **kwargs):
        tensors, rows = _per_tensor(self, *args)
        for t, row in zip(tensors, rows):
            apply_(t, *row, **kwargs)
        return self
    _publish(name, outplace, inplace,
             f"``{name}`` of each tensor of a list{args}: a tuple of the results")


def _method(name):
    return lambda t, *args, **kwargs: getattr(t, name)(*args, **kwargs)


_OTHER = " with ``other`` (a scalar, a tensor, or a list of either)"
for _name in _UNARY:
    _register(_name, _method(_name))
for _name in _BINARY:
    _register(_name, _method(_name), args=_OTHER)
_register("lerp", _method("lerp"),
          args=" towards ``tensors1`` by ``weight`` (a scalar, or a list of scalars or tensors)")


def _extreme(name):
    # a scalar bound is a clamp; a tensor is compared elementwise
    clamp = "clamp_min" if name == "maximum" else "clamp_max"

    def apply(t, other):
        if isinstance(other, Tensor):
            return getattr(ember, name)(t, other)
        return getattr(t, clamp)(other)

    def apply_(t, other):
        if not isinstance(other, Tensor):
            getattr(t, clamp + "_")(other)
            return
        # the derivative saves its inputs: a recorded tensor is read from a copy
        source = t.clone() if _recorded(t) else t
        t.copy_(getattr(ember, name)(source, other))
    _register(name, apply, apply_, args=_OTHER)


_extreme("maximum")
_extreme("minimum")


def _pointwise(name):
    # ``value``: a scalar, or one scalar per tensor (a list or a 1-D tensor)
    def outplace(self, tensor1, tensor2, value=1):
        tensors, rows = _per_tensor(self, tensor1, tensor2, _values(value))
        return tuple(getattr(t, name)(a, b, value=v) for t, (a, b, v) in zip(tensors, rows))

    def inplace(self, tensor1, tensor2, value=1):
        tensors, rows = _per_tensor(self, tensor1, tensor2, _values(value))
        for t, (a, b, v) in zip(tensors, rows):
            getattr(t, name + "_")(a, b, value=v)
        return self
    _publish(name, outplace, inplace,
             f"``t.{name}(tensor1, tensor2, value=v)`` for each tensor ``t`` of a list "
             f"(``value``: a scalar, or one per tensor as a list or a 1-D tensor): a tuple of "
             f"the results")


def _values(value):
    return value.tolist() if isinstance(value, Tensor) else value


_pointwise("addcmul")
_pointwise("addcdiv")


def _pow(self, exponent):
    if isinstance(self, numbers.Number):        # a scalar base, a list of exponents
        exponents, _ = _per_tensor(exponent)
        return tuple(ember.pow(self, e) for e in exponents)
    tensors, rows = _per_tensor(self, exponent)
    return tuple(t.pow(e) for t, (e,) in zip(tensors, rows))


_publish("pow", _pow, functions["_foreach_pow_"],
         "``pow`` of each tensor of a list with ``exponent`` (a scalar, a tensor, or a list "
         "of either), or of a scalar base with each exponent of a list: a tuple of the "
         "results")


def _norm(self, ord=2, dtype=None):
    tensors, _ = _per_tensor(self)
    return tuple(ember.linalg.vector_norm(t, ord, dtype=dtype) for t in tensors)


def _max(self):
    tensors, _ = _per_tensor(self)
    return tuple(t.max() for t in tensors)


def _clone(self):
    tensors, _ = _per_tensor(self)
    return tuple(t.clone() for t in tensors)


def _copy_(self, src, non_blocking=False):
    tensors, rows = _per_tensor(self, src)
    for t, (s,) in zip(tensors, rows):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _zero_(self):
    for t in _per_tensor(self)[0]:
        t.zero_()
    return self


_publish("norm", _norm, None, "The ``ord``-norm of each tensor of a list (0-d tensors)")
_publish("max", _max, None, "The largest element of each tensor of a list (0-d tensors)")
_publish("clone", _clone, None, "A copy of each tensor of a list")
for _fn, _doc in ((_copy_, "Copy ``src[i]`` into the i-th tensor of a list"),
                  (_zero_, "Fill each tensor of a list with zeros")):
    _fn.__name__ = _fn.__qualname__ = "_foreach" + _fn.__name__
    _fn.__doc__ = _doc + "; returns the list given."
    functions[_fn.__name__] = _fn
