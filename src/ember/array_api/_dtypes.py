"""Data types of the Array API namespace: ``iinfo``/``finfo``, ``isdtype``, ``astype``,
``result_type``/``can_cast`` and the ``__array_namespace_info__`` inspection object.

The dtypes are ember's own dtype objects.  ember (like PyTorch) refuses to promote
``uint16``/``uint32``/``uint64`` with other integer types; the namespace's promotion
follows the standard's table there instead.
"""
import builtins
import sys

import numpy as np

import ember
from ember import Tensor
from ember._core._dtype import to_dtype

bool = ember.bool  # noqa: A001 (the standard's name)
int8, int16, int32, int64 = ember.int8, ember.int16, ember.int32, ember.int64
uint8, uint16, uint32, uint64 = ember.uint8, ember.uint16, ember.uint32, ember.uint64
float32, float64 = ember.float32, ember.float64
complex64, complex128 = ember.complex64, ember.complex128

_DTYPES = {
    "bool": bool, "int8": int8, "int16": int16, "int32": int32, "int64": int64, "uint8": uint8,
    "uint16": uint16, "uint32": uint32, "uint64": uint64,
    "float32": float32, "float64": float64, "complex64": complex64, "complex128": complex128,
}
_SIGNED = (int8, int16, int32, int64)
_UNSIGNED = (uint8, uint16, uint32, uint64)
_REAL_FLOATING = (float32, float64)
_COMPLEX_FLOATING = (complex64, complex128)
_KINDS = {
    "bool": (bool,),
    "signed integer": _SIGNED,
    "unsigned integer": _UNSIGNED,
    "integral": _SIGNED + _UNSIGNED,
    "real floating": _REAL_FLOATING,
    "complex floating": _COMPLEX_FLOATING,
    "numeric": _SIGNED + _UNSIGNED + _REAL_FLOATING + _COMPLEX_FLOATING,
}


def _check_dtype(dtype):
    """``dtype`` as an ember dtype: an ember dtype, or a NumPy dtype or scalar type (which
    code written for NumPy passes, as scikit-learn's ``check_array(dtype=np.float64)``:
    the same conversion ember's own functions make)."""
    if isinstance(dtype, ember.dtype):
        return dtype
    if isinstance(dtype, np.dtype) or (isinstance(dtype, type) and issubclass(dtype, np.generic)):
        try:
            return to_dtype(dtype)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"expected an ember dtype, got {dtype!r} of type {type(dtype).__name__}")


def isdtype(dtype, kind):
    """Whether ``dtype`` is of the given ``kind``.

    Parameters
    ----------
    dtype : ember.dtype
        The data type to test.
    kind : ember.dtype, str or tuple
        A dtype, one of ``'bool'``, ``'signed integer'``, ``'unsigned integer'``,
        ``'integral'``, ``'real floating'``, ``'complex floating'``, ``'numeric'``, or a
        tuple of those (true when any matches).

    Returns
    -------
    bool

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.isdtype(xp.float32, "real floating"), xp.isdtype(xp.int8, ("bool", "integral"))
    (True, True)
    """
    dtype = _check_dtype(dtype)
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, ember.dtype) or isinstance(kind, np.dtype):
        return dtype == _check_dtype(kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; expected one of {list(_KINDS)}")
        return dtype in _KINDS[kind]
    raise TypeError(f"isdtype: kind must be a dtype, a string or a tuple, got {kind!r}")


class finfo_object:
    """Machine limits of a floating-point dtype (the result of :func:`finfo`)."""

    def __init__(self, bits, eps, max, smallest_normal, dtype):
        self.bits, self.eps, self.max, self.min = bits, eps, max, -max
        self.smallest_normal, self.dtype = smallest_normal, dtype

    def __repr__(self):
        return (f"finfo(bits={self.bits}, eps={self.eps}, max={self.max}, "
                f"smallest_normal={self.smallest_normal}, dtype={self.dtype})")


class iinfo_object:
    """Machine limits of an integer dtype (the result of :func:`iinfo`)."""

    def __init__(self, bits, min, max, dtype):
        self.bits, self.min, self.max, self.dtype = bits, min, max, dtype

    def __repr__(self):
        return f"iinfo(bits={self.bits}, min={self.min}, max={self.max}, dtype={self.dtype})"


_FINFO = {
    float32: finfo_object(32, 2.0 ** -23, (2.0 - 2.0 ** -23) * 2.0 ** 127, 2.0 ** -126, float32),
    float64: finfo_object(64, sys.float_info.epsilon, sys.float_info.max, sys.float_info.min,
                          float64),
}


def _dtype_of(type):
    return type.dtype if isinstance(type, Tensor) else _check_dtype(type)


def finfo(type, /):
    """Machine limits of a floating-point dtype (or of an array's dtype).

    A complex dtype gives the limits of its real component.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.finfo(xp.float32).eps
    1.1920928955078125e-07
    """
    dtype = _dtype_of(type)
    if dtype.is_complex:
        dtype = dtype.to_real()
    if dtype not in _FINFO:
        raise ValueError(f"finfo: {dtype} is not a floating-point dtype of the namespace")
    return _FINFO[dtype]


def iinfo(type, /):
    """Machine limits of an integer dtype (or of an array's dtype).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.iinfo(xp.int8).min, xp.iinfo(xp.uint8).max
    (-128, 255)
    """
    dtype = _dtype_of(type)
    if dtype not in _KINDS["integral"]:
        raise ValueError(f"iinfo: {dtype} is not an integer dtype")
    bits = dtype.itemsize * 8
    if dtype.is_signed:
        return iinfo_object(bits, -(1 << (bits - 1)), (1 << (bits - 1)) - 1, dtype)
    return iinfo_object(bits, 0, (1 << bits) - 1, dtype)


def _category(dtype):
    if dtype == bool:
        return 0
    if dtype in _KINDS["integral"]:
        return 1
    return 2  # real and complex floating promote into each other


def can_cast(from_, to, /):
    """Whether the type promotion rules of the standard allow casting ``from_`` to ``to``.

    Unlike :func:`ember.can_cast` (PyTorch's "same kind" rule), a cast that loses range or
    precision, or crosses kinds (bool, integer, floating), is not allowed.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.can_cast(xp.int8, xp.int16), xp.can_cast(xp.float64, xp.float32)
    (True, False)
    """
    from_, to = _dtype_of(from_), _check_dtype(to)
    if _category(from_) != _category(to):
        return False
    try:
        return _promote(from_, to) == to
    except TypeError:       # uint64 and a signed type: no promotion, so no safe cast
        return False


_SCALAR_TYPES = (builtins.bool, builtins.int, builtins.float, builtins.complex)


def _is_scalar(obj):
    return isinstance(obj, _SCALAR_TYPES)


def _scalar_promote(dtype, scalar):
    """The dtype of ``array (dtype) op scalar``: a scalar never widens its own kind."""
    if isinstance(scalar, builtins.bool):
        return dtype
    if isinstance(scalar, builtins.int):
        return int64 if dtype == bool else dtype
    if isinstance(scalar, builtins.float):
        return dtype if dtype.is_floating_point or dtype.is_complex else \
            ember.get_default_dtype()
    # complex scalar
    if dtype.is_complex:
        return dtype
    return dtype.to_complex() if dtype.is_floating_point else \
        ember.get_default_dtype().to_complex()


def _promote(a, b):
    """The standard's promotion of two dtypes: ember's, except for the mixed signed and
    unsigned integer pairs that ember (as PyTorch) refuses for uint16/32/64."""
    if a in _UNSIGNED and b in _SIGNED:
        a, b = b, a
    if a in _SIGNED and b in _UNSIGNED and b is not uint8:
        if a.itemsize > b.itemsize:
            return a
        if b is uint64:
            raise TypeError(f"result_type: the standard defines no promotion of {a} and {b}")
        return {uint16: int32, uint32: int64}[b]
    if a in _UNSIGNED and b in _UNSIGNED:
        return a if a.itemsize >= b.itemsize else b
    return ember.promote_types(a, b)


def result_type(*arrays_and_dtypes):
    """The dtype of an operation on ``arrays_and_dtypes`` under the standard's promotion rules.

    Arrays of any rank promote alike (a 0-d array is not weaker than a 1-d one, unlike
    :func:`ember.result_type`); Python scalars take the kind of the arrays they meet.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.result_type(xp.int8, xp.uint8), xp.result_type(xp.asarray([1, 2], dtype=xp.int16), 1.5)
    (ember.int16, ember.float32)
    """
    dtypes = [a.dtype if isinstance(a, Tensor) else a for a in arrays_and_dtypes
              if not _is_scalar(a)]
    if not dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    result = _check_dtype(dtypes[0])
    for dt in dtypes[1:]:
        result = _promote(result, _check_dtype(dt))
    for a in arrays_and_dtypes:
        if _is_scalar(a):
            result = _scalar_promote(result, a)
    return result


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` converted to ``dtype`` (and moved to ``device``).

    Parameters
    ----------
    x : Tensor
    dtype : ember.dtype
    copy : bool, optional
        When ``False`` and nothing changes, ``x`` itself is returned.
    device : ember.device, optional

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.astype(xp.asarray([1.7, -2.5]), xp.int32)
    tensor([ 1, -2], dtype=ember.int32)
    """
    dtype = _check_dtype(dtype)
    target = x.device if device is None else ember.device(device)
    if not copy and x.dtype == dtype and x.device == target:
        return x
    return x.to(device=target, dtype=dtype, copy=True)


class __array_namespace_info__:
    """Inspection of the namespace: capabilities, devices and dtypes.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> info = xp.__array_namespace_info__()
    >>> info.default_dtypes()["indexing"], info.capabilities()["boolean indexing"]
    (ember.int64, True)
    """

    def capabilities(self):
        """What the namespace supports: boolean indexing and data-dependent shapes."""
        return {"boolean indexing": True, "data-dependent shapes": True,
                "max dimensions": 64}

    def default_device(self):
        """The device arrays are created on by default."""
        return ember.device("cpu")

    def devices(self):
        """The devices the namespace can create arrays on."""
        return [ember.device("cpu")]

    def default_dtypes(self, *, device=None):
        """The default dtypes for each kind (PyTorch's defaults: float32 unless changed by
        :func:`ember.set_default_dtype`)."""
        real = ember.get_default_dtype()
        return {"real floating": real, "complex floating": real.to_complex(),
                "integral": int64, "indexing": int64}

    def dtypes(self, *, device=None, kind=None):
        """The dtypes of ``kind`` (all of them when ``kind`` is None), by name."""
        if kind is None:
            return dict(_DTYPES)
        return {name: dt for name, dt in _DTYPES.items() if isdtype(dt, kind)}
