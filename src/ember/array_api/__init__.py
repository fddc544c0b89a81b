"""The Array API standard (2024.12) namespace of ember.

``x.__array_namespace__()`` returns this module, so libraries written against the standard
(SciPy with ``SCIPY_ARRAY_API=1``, scikit-learn with ``array_api_dispatch=True``, ...) take
ember tensors and give ember tensors back. Every function adapts an ember op (``axis`` for
``dim``, the standard's names, promotion and scalar rules); no kernel is implemented twice.

Differences from the standard, shared with PyTorch: the default floating-point dtype is
``float32`` (see :func:`ember.set_default_dtype`), and ``x.size`` is PyTorch's method, not
the element count (use ``math.prod(x.shape)``).
"""
import math as _math

from ember.array_api._dtypes import (
    bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, complex64, complex128,
    astype, can_cast, finfo, iinfo, isdtype, result_type, __array_namespace_info__,
)
from ember.array_api._creation import (
    arange, asarray, empty, empty_like, eye, from_dlpack, full, full_like, linspace, meshgrid,
    ones, ones_like, tril, triu, zeros, zeros_like,
)
from ember.array_api._elementwise import functions as _elementwise_functions
from ember.array_api._elementwise import clip, conj, imag, real, remainder, round, sign
from ember.array_api._manipulation import (
    broadcast_arrays, broadcast_to, concat, expand_dims, flip, moveaxis, permute_dims, repeat,
    reshape, roll, squeeze, stack, tile, unstack, take, take_along_axis, matmul,
    matrix_transpose, tensordot, vecdot,
)
from ember.array_api._reductions import (
    max, min, mean, prod, std, sum, var, cumulative_sum, cumulative_prod, all, any,
    count_nonzero, diff, argmax, argmin, nonzero, searchsorted, where, unique_all,
    unique_counts, unique_inverse, unique_values, argsort, sort,
)
from ember.array_api import linalg, fft
from ember.array_api import _array_object  # noqa: F401 (attaches Tensor methods)

globals().update(_elementwise_functions)

__array_api_version__ = "2024.12"

e = _math.e
inf = _math.inf
nan = _math.nan
pi = _math.pi
newaxis = None

__all__ = sorted([
    "__array_api_version__", "__array_namespace_info__", "e", "inf", "nan", "pi", "newaxis",
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32",
    "float64", "complex64", "complex128", "astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type",
    "arange", "asarray", "empty", "empty_like", "eye", "from_dlpack", "full", "full_like",
    "linspace", "meshgrid", "ones", "ones_like", "tril", "triu", "zeros", "zeros_like",
    "clip", "conj", "imag", "real", "remainder", "round", "sign", *_elementwise_functions,
    "broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip",
    "moveaxis", "permute_dims", "repeat", "reshape", "roll", "squeeze", "stack", "tile",
    "unstack", "take", "take_along_axis", "matmul", "matrix_transpose", "tensordot", "vecdot",
    "max", "min", "mean", "prod", "std", "sum", "var", "cumulative_sum", "cumulative_prod",
    "all", "any", "count_nonzero", "diff", "argmax", "argmin", "nonzero", "searchsorted",
    "where", "unique_all", "unique_counts", "unique_inverse", "unique_values", "argsort",
    "sort", "linalg", "fft",
])
del _elementwise_functions
