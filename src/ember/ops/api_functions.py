"""Small functions of the ``torch`` namespace that compose existing ember ops: set
membership (``isin``), infinity and realness tests, ``moveaxis``/``ravel``/``t``,
``unravel_index``, ``vander``, ``rsub``, ``scalar_tensor``, ``frexp``, split variants,
the ``*_copy`` forms of the view ops, the ``torch.X_`` function forms of in-place
methods, and the window functions with ``torch``'s signatures.

Gradients come from the composed ops.
"""
import math
from collections import namedtuple

import ember
from ember._core import _dtype
from ember._core._reduce import _with_out
from ember._core._tensor import Tensor, _add_method, _check_layout
from ember.ops.sorting import _check_tensor, _wrap_dim
from ember.signal import windows as _windows

__all__ = [
    "isin", "isposinf", "isneginf", "isreal", "moveaxis", "ravel", "t", "detach",
    "unravel_index", "vander", "rsub", "scalar_tensor", "frexp", "fill",
    "split_with_sizes", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
    "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window",
    "get_device", "empty_permuted",
]


def _as_tensor(x):
    return x if isinstance(x, Tensor) else ember.tensor(x)


def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """Whether each of ``elements`` is in ``test_elements`` (either may be a scalar).
    ``out``, of dtype ``bool``, receives the result (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> ember.isin(ember.tensor([1, 2, 3]), ember.tensor([2, 3]))
    tensor([False,  True,  True])
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected elements or test_elements to be a Tensor")
    if out is not None:
        return _with_out("isin", out, "same", isin, (elements, test_elements),
                         {"assume_unique": assume_unique, "invert": invert},
                         differentiable=False)
    elements, test = _as_tensor(elements), _as_tensor(test_elements).reshape(-1)
    common = ember.promote_types(elements.dtype, test.dtype)
    values, test = elements.detach().to(common), test.detach().to(common)
    if test.is_floating_point() or test.is_complex():
        test = test[test == test]       # NaN equals nothing, and would upset the search
    if test.numel() == 0:
        found = ember.zeros(values.shape, dtype=ember.bool, device=values.device)
    else:
        # binary search in the sorted test set: O((n + m) log m) rather than an n x m table
        ordered = ember.sort(test).values
        at = ember.searchsorted(ordered, values.reshape(-1)).clamp(max=test.numel() - 1)
        found = (ordered[at] == values.reshape(-1)).reshape(values.shape)
    return found.logical_not() if invert else found


def _check_real(input, name):
    _check_tensor(input, name)
    if input.is_complex():
        raise RuntimeError(f"{name} does not support complex inputs.")


def isposinf(input, *, out=None):
    """Whether each element is positive infinity.  ``out``, of
    dtype ``bool``, receives the result (resized to its shape)."""
    _check_real(input, "isposinf")
    if out is not None:
        return _with_out("isposinf", out, "same", isposinf, (input,), None, differentiable=False)
    if not input.is_floating_point():
        return ember.zeros(input.shape, dtype=ember.bool, device=input.device)
    return input.detach() == math.inf


def isneginf(input, *, out=None):
    """Whether each element is negative infinity.  ``out``, of
    dtype ``bool``, receives the result (resized to its shape)."""
    _check_real(input, "isneginf")
    if out is not None:
        return _with_out("isneginf", out, "same", isneginf, (input,), None, differentiable=False)
    if not input.is_floating_point():
        return ember.zeros(input.shape, dtype=ember.bool, device=input.device)
    return input.detach() == -math.inf


def isreal(input):
    """Whether each element is real: always for a real dtype, else a zero imaginary part."""
    _check_tensor(input, "isreal")
    if not input.is_complex():
        return ember.ones(input.shape, dtype=ember.bool, device=input.device)
    return input.detach().imag == 0


def moveaxis(input, source, destination):
    """Alias of :func:`ember.movedim`."""
    return ember.movedim(input, source, destination)


def ravel(input):
    """``input`` as a contiguous 1-D tensor (a view when it already is contiguous).

    Examples
    --------
    >>> import ember
    >>> ember.ravel(ember.arange(6).reshape(2, 3)[:, ::2])
    tensor([0, 2, 3, 5])
    """
    _check_tensor(input, "ravel")
    # reshape keeps a strided 1-D input as the view it is; ravel promises contiguity
    return input.reshape(-1).contiguous()


def t(input):
    """Transpose of a tensor of at most 2 dims (see :meth:`Tensor.t`)."""
    _check_tensor(input, "t")
    return input.t()


def detach(input):
    """``input`` cut from the autograd graph (see :meth:`Tensor.detach`)."""
    _check_tensor(input, "detach")
    return input.detach()


def unravel_index(indices, shape):
    """Coordinates in an array of ``shape`` of the flat ``indices`` (a tuple of tensors,
    one per dim; indices wrap around modulo the number of elements, as in PyTorch).

    Examples
    --------
    >>> import ember
    >>> ember.unravel_index(ember.tensor([5, 1]), (2, 3))
    (tensor([1, 0]), tensor([2, 1]))
    """
    indices = _as_tensor(indices)
    if indices.is_floating_point() or indices.is_complex() or indices.dtype == ember.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    # in int64 from the start: a step past a small dtype's range must not wrap
    indices = indices.to(ember.int64)
    out, step = [], 1
    for size in reversed(shape):
        out.append(ember.remainder(ember.floor_divide(indices, step), size))
        step *= size
    return tuple(reversed(out))


def _powers(x, N):
    """``[x**0, x**1, ..., x**(N-1)]`` stacked on a new last dim, by running products
    (differentiable at 0, unlike ``pow``)."""
    if N == 0:
        return x.new_empty((*x.shape, 0))
    first = ember.ones_like(x).unsqueeze(-1)
    if N == 1:
        return first
    return ember.cat([first, x.unsqueeze(-1).expand(*x.shape, N - 1)], -1).cumprod(-1)


def _vander_input(x, N, name):
    _check_tensor(x, name)
    if N is None:
        N = x.shape[-1] if x.dim() else 1
    if N < 0:
        raise RuntimeError(f"{name}: N must be non-negative.")
    if x.dtype == ember.bool or not (x.is_floating_point() or x.is_complex()):
        x = x.to(ember.int64)       # integer inputs give int64, as in PyTorch
    return x, N


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns ``x**(N-1), ..., x**0`` (or
    increasing powers).

    Examples
    --------
    >>> import ember
    >>> ember.vander(ember.tensor([1, 2, 3]))
    tensor([[1, 1, 1],
            [4, 2, 1],
            [9, 3, 1]])
    """
    if isinstance(x, Tensor) and x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    x, N = _vander_input(x, N, "vander")
    out = _powers(x, N)
    return out if increasing else out.flip(-1)


def linalg_vander(x, *, N=None):
    """The Vandermonde matrices of ``x`` of shape ``(*, n)``: ``(*, n, N)`` with columns
    ``x**0, ..., x**(N-1)`` (a 0-d ``x`` counts as one element: ``(1, N)``)."""
    x, N = _vander_input(x, N, "linalg.vander")
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    return _powers(x.reshape(1) if x.dim() == 0 else x, N)


linalg_vander.__name__ = linalg_vander.__qualname__ = "vander"


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    _check_tensor(input, "rsub")
    return ember.sub(other if isinstance(other, Tensor) else
                     ember.full_like(input, other, dtype=ember.result_type(input, other)),
                     input, alpha=alpha)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False):
    """A 0-dim tensor holding ``s``, of the default dtype unless ``dtype`` is given."""
    _check_layout(layout, "scalar_tensor")
    return ember.tensor(s, dtype=_dtype.get_default_dtype() if dtype is None else dtype,
                        device=device, requires_grad=requires_grad)


frexp_result = namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input, *, out=None):
    """Split ``input`` into mantissas in ``[0.5, 1)`` (in magnitude) and int32 exponents,
    ``input == mantissa * 2 ** exponent`` (zero, infinities and NaN give exponent 0).
    ``out`` is a ``(mantissa, exponent)`` pair of ``input``'s dtype and int32, resized as
    PyTorch resizes ``out=`` tensors.

    Examples
    --------
    >>> import ember
    >>> ember.frexp(ember.tensor([8.0, -3.0]))
    frexp(mantissa=tensor([ 0.5000, -0.7500]), exponent=tensor([4, 2], dtype=ember.int32))
    """
    _check_tensor(input, "frexp")
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    if out is not None:
        if isinstance(out, (tuple, list)) and len(out) == 2 and all(
                isinstance(t, Tensor) for t in out):
            if out[0].dtype != input.dtype:
                raise RuntimeError(f"torch.frexp() expects mantissa to have dtype "
                                   f"{_dtype.CPP_NAMES[input.dtype.num]} but got "
                                   f"{_dtype.CPP_NAMES[out[0].dtype.num]}")
            if out[1].dtype != ember.int32:
                raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got "
                                   f"{_dtype.CPP_NAMES[out[1].dtype.num]}")
        return frexp_result(*_with_out("frexp", out, ("same", "same"), frexp, (input,), None,
                                       (input,)))
    # in float64, where float32/16 values and their mantissas are exact
    x = input.detach().to(ember.float64)
    finite = ember.isfinite(x) & (x != 0)
    mag = ember.where(finite, x.abs(), ember.ones_like(x))
    exp = ember.floor(ember.log2(mag)) + 1
    mant = mag / ember.pow(2.0, exp)
    # log2 may round across a power of two: bring the mantissa back into [0.5, 1)
    exp = exp + (mant >= 1).to(x.dtype) - (mant < 0.5).to(x.dtype)
    exp = ember.where(finite, exp, ember.zeros_like(exp))
    # input / 2 ** exponent is exact, and differentiable in input as in PyTorch
    mant = input.to(ember.float64) / ember.pow(2.0, exp)
    return frexp_result(mant.to(input.dtype), exp.to(ember.int32))


def get_device(input):
    """The index of ``input``'s device: -1 for the CPU (as ``Tensor.get_device``)."""
    _check_tensor(input, "get_device")
    return input.get_device()


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialised tensor of logical shape ``size`` whose memory holds its dims in the
    order ``physical_layout`` (outermost first): ``(0, 2, 3, 1)`` on 4 dims is channels-last.

    Examples
    --------
    >>> import ember
    >>> ember.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
    (12, 1, 3)
    """
    size, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"empty_permuted: physical_layout {list(order)} is not a "
                           f"permutation of the {len(size)} dims of size {list(size)}")
    base = ember.empty([size[d] for d in order], dtype=dtype, layout=layout, device=device)
    inverse = [order.index(d) for d in range(len(size))]
    return base.permute(inverse).requires_grad_(requires_grad)


def fill(input, value):
    """A copy of ``input`` with every element set to ``value`` (out-of-place ``fill_``)."""
    _check_tensor(input, "fill")
    return input.clone().fill_(value)


# ---- split variants

def split_with_sizes(input, split_sizes, dim=0):
    """Views of ``input`` split along ``dim`` into pieces of ``split_sizes``, which
    must add up to the size of ``dim``."""
    _check_tensor(input, "split_with_sizes")
    d = _wrap_dim(dim, input.dim())
    split_sizes = [int(s) for s in split_sizes]
    if any(s < 0 for s in split_sizes) or sum(split_sizes) != input.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[d]} (input tensor's size at dimension {dim}), "
                           f"but got split_sizes={split_sizes}")
    return ember.split(input, split_sizes, d)


def unsafe_split(input, split_size, dim=0):
    """:func:`ember.split` (ember's split views need no safety checks to skip)."""
    return ember.split(input, split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    """:func:`ember.chunk` (ember's chunk views need no safety checks to skip)."""
    return ember.chunk(input, chunks, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """:func:`split_with_sizes`."""
    return split_with_sizes(input, split_sizes, dim)


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = f"See :func:`ember.{fn.__name__}`."
    return method


for _fn in (isposinf, isneginf, isreal, moveaxis, ravel, frexp, split_with_sizes, unsafe_split,
            unsafe_chunk, unsafe_split_with_sizes):
    _add_method(_fn.__name__, _method(_fn))


# ---- torch.X_ function forms of in-place Tensor methods, generated from one list

INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
    "arctan_", "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_",
    "clamp_", "clamp_max_", "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_",
    "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "resize_as_",
    "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_", "zero_",
)


def _inplace_function(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, "
                            f"not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In-place: ``input.{name}(...)`` (see :meth:`Tensor.{name}`)."
    return fn


inplace_functions = {name: _inplace_function(name) for name in INPLACE_FUNCTIONS}


# ---- *_copy: the view ops returning a fresh contiguous tensor instead of a view

def _fresh(view):
    """A new contiguous tensor with the values of ``view`` (one copy either way)."""
    return view.clone() if view.is_contiguous() else view.contiguous()


def _copy_function(name, view):
    def fn(input, *args, **kwargs):
        _check_tensor(input, name)
        out = view(input, *args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(_fresh(o) for o in out)
        return _fresh(out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Like ``{name[:-5]}``, but a new contiguous tensor rather than a view "
                  "of ``input``.")
    return fn


def _slice(input, dim=0, start=None, end=None, step=1):
    index = [slice(None)] * input.dim()
    index[_wrap_dim(dim, input.dim())] = slice(start, end, step)
    return input[tuple(index)]


def _squeeze(input, dim=None):
    return input.squeeze() if dim is None else input.squeeze(dim)


def _expand(input, size, *, implicit=False):
    return input.expand(tuple(size))


_VIEWS = {
    "view_copy": lambda input, size: input.view(size if isinstance(size, _dtype.dtype)
                                                else tuple(size)),
    "permute_copy": lambda input, dims: input.permute(*dims),
    "expand_copy": _expand,
    "transpose_copy": lambda input, dim0, dim1: input.transpose(dim0, dim1),
    "t_copy": lambda input: input.t(),
    "squeeze_copy": _squeeze,
    "unsqueeze_copy": lambda input, dim: input.unsqueeze(dim),
    "select_copy": lambda input, dim, index: input.select(dim, index),
    "diagonal_copy": lambda input, offset=0, dim1=0, dim2=1: input.diagonal(offset, dim1, dim2),
    "detach_copy": lambda input: input.detach(),
    "alias_copy": lambda input: input,
    "as_strided_copy": lambda input, size, stride, storage_offset=None:
        ember.as_strided(input, size, stride, storage_offset),
    "unbind_copy": lambda input, dim=0: input.unbind(dim),
    "split_copy": lambda input, split_size, dim=0: ember.split(input, split_size, dim),
    "split_with_sizes_copy": split_with_sizes,
    "unfold_copy": lambda input, dimension, size, step: input.unfold(dimension, size, step),
    "view_as_real_copy": lambda input: ember.view_as_real(input),
    "view_as_complex_copy": lambda input: ember.view_as_complex(input),
    "slice_copy": _slice,
}
copy_functions = {name: _copy_function(name, view) for name, view in _VIEWS.items()}


# ---- window functions with torch's signatures, on ember.signal.windows

def _torch_window(name, build, extra=()):
    """``torch.<name>(window_length, periodic=True, <extra>..., *, dtype, layout,
    device, requires_grad)`` from ``build(M, sym=..., **extras, dtype=...)``."""
    defaults = dict(extra)

    def fn(window_length, periodic=True, *args, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False, **kwargs):
        _check_layout(layout, name)
        if len(args) > len(defaults):
            raise TypeError(f"{name}() takes at most {2 + len(defaults)} positional "
                            f"arguments ({2 + len(args)} given)")
        # the extras (beta, alpha) may also come by keyword, as in torch.kaiser_window(n, beta=8.)
        given = dict(zip(defaults, args))
        for key, value in kwargs.items():
            if key not in defaults:
                raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
            if key in given:
                raise TypeError(f"{name}() got multiple values for argument '{key}'")
            given[key] = value
        params = {**defaults, **given}
        if window_length == 1:      # PyTorch: a single 1, periodic or not
            periodic = False
        return build(window_length, sym=not periodic, dtype=dtype, layout=layout,
                     device=device, requires_grad=requires_grad, **params)
    fn.__name__ = fn.__qualname__ = name
    return fn


def _hamming(M, *, alpha, beta, **kwargs):
    return _windows.general_cosine(M, a=[alpha, beta], **kwargs)


hann_window = _torch_window("hann_window", _windows.hann)
hamming_window = _torch_window("hamming_window", _hamming, (("alpha", 0.54), ("beta", 0.46)))
blackman_window = _torch_window("blackman_window", _windows.blackman)
bartlett_window = _torch_window("bartlett_window", _windows.bartlett)
kaiser_window = _torch_window("kaiser_window", _windows.kaiser, (("beta", 12.0),))

_WINDOW_DOC = """The {what} window of ``window_length`` points, as ``torch.{name}``.

Parameters
----------
window_length : int
periodic : bool, optional
    True (default): periodic, for spectral analysis (the symmetric window of
    ``window_length + 1`` points without its last one); False: symmetric.{extra}
dtype : ember.dtype, optional
    float32 or float64 (default: the default dtype).
layout, device, requires_grad, pin_memory
    As for the other factories.
"""
for _fn, _what, _extra in (
        (hann_window, "Hann", ""), (blackman_window, "Blackman", ""),
        (bartlett_window, "Bartlett (triangular)", ""),
        (hamming_window, "Hamming", "\nalpha, beta : float, optional\n"
         "    The window is ``alpha - beta * cos(2 pi n / N)``."),
        (kaiser_window, "Kaiser", "\nbeta : float, optional\n    The shape parameter.")):
    _fn.__doc__ = _WINDOW_DOC.format(what=_what, name=_fn.__name__, extra=_extra)
