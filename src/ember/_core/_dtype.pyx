"""ember's dtype objects and PyTorch's type-promotion rules."""
import numpy as np

try:
    import ml_dtypes
    _np_bfloat16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - ml_dtypes is a runtime dependency
    _np_bfloat16 = None

_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128", "uint16", "uint32", "uint64")
_SIZES = (1, 1, 1, 2, 4, 8, 2, 2, 4, 8, 8, 16, 2, 4, 8)
# PyTorch's names of each dtype in its messages, by dtype number: the scalar-type
# names ("not implemented for 'UInt16'"), the C++ type names that its dtype checks print
# ("expected scalar type short int"), and the C types of "value cannot be converted to
# type uint8_t without overflow"
TORCH_NAMES = ("Bool", "Byte", "Char", "Short", "Int", "Long", "Half", "BFloat16", "Float",
               "Double", "ComplexFloat", "ComplexDouble", "UInt16", "UInt32", "UInt64")
CPP_NAMES = ("bool", "unsigned char", "signed char", "short int", "int", "long int",
             "c10::Half", "c10::BFloat16", "float", "double", "c10::complex<float>",
             "c10::complex<double>", "unsigned short", "unsigned int", "unsigned long")
C_NAMES = ("bool", "uint8_t", "int8_t", "int16_t", "int32_t", "int64_t", "c10::Half",
           "c10::BFloat16", "float", "double", "c10::complex<float>", "c10::complex<double>",
           "uint16_t", "uint32_t", "uint64_t")
# PyTorch-style aliases that are also attributes of the ember namespace
ALIASES = {"half": "float16", "float": "float32", "double": "float64", "short": "int16",
           "int": "int32", "long": "int64", "cfloat": "complex64", "cdouble": "complex128",
           "complex32": "complex64"}


cdef class dtype:
    """The element type of a tensor, such as ``ember.float32``.

    Attributes
    ----------
    itemsize : int
        Bytes per element.
    is_floating_point, is_complex, is_signed : bool
        The dtype's category, as in PyTorch.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("ember.dtype objects are predefined: use ember.float32 and friends")

    def __repr__(self):
        return "ember." + self.name

    def __reduce__(self):
        return (_dtype_from_name, (self.name,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def to_real(self):
        """The real counterpart of a complex dtype (the dtype itself otherwise)."""
        return dtype_of(real_of(self.num))

    def to_complex(self):
        """The complex counterpart of a floating dtype."""
        return dtype_of(complex_of(self.num))


cdef dtype _make(int num):
    cdef dtype d = dtype.__new__(dtype)
    d.num = num
    d.name = _NAMES[num]
    d.itemsize = _SIZES[num]
    d.is_floating_point = em_category[num] == 2
    d.is_complex = em_category[num] == 3
    d.is_signed = num not in (EM_BOOL, EM_UINT8, EM_UINT16, EM_UINT32, EM_UINT64)
    d.numpy_dtype = _np_bfloat16 if num == EM_BFLOAT16 else np.dtype(_NAMES[num])
    return d


cdef list DTYPES = [_make(i) for i in range(<int>EM_NTYPES)]
cdef int default_float_num = EM_FLOAT32


cdef dtype dtype_of(int num):
    return <dtype>DTYPES[num]


cdef int default_float() noexcept:
    return default_float_num

bool_ = DTYPES[EM_BOOL]
uint8 = DTYPES[EM_UINT8]
int8 = DTYPES[EM_INT8]
int16 = DTYPES[EM_INT16]
int32 = DTYPES[EM_INT32]
int64 = DTYPES[EM_INT64]
float16 = DTYPES[EM_FLOAT16]
bfloat16 = DTYPES[EM_BFLOAT16]
float32 = DTYPES[EM_FLOAT32]
float64 = DTYPES[EM_FLOAT64]
complex64 = DTYPES[EM_COMPLEX64]
complex128 = DTYPES[EM_COMPLEX128]
uint16 = DTYPES[EM_UINT16]
uint32 = DTYPES[EM_UINT32]
uint64 = DTYPES[EM_UINT64]
all_dtypes = tuple(DTYPES[i] for i in range(<int>EM_NTYPES))

_BY_NAME = {d.name: d for d in all_dtypes}
_BY_NAME.update({alias: _BY_NAME[name] for alias, name in ALIASES.items()})
_BY_NUMPY = {d.numpy_dtype: d for d in all_dtypes if d.numpy_dtype is not None}


def _dtype_from_name(name):
    return _BY_NAME[name]


cdef dtype as_dtype(object obj):
    """Convert an ember dtype, NumPy dtype, Python type or name to an ember dtype."""
    if isinstance(obj, dtype):
        return <dtype>obj
    # Python's types name fixed dtypes, as in PyTorch (float is float64 whatever the default)
    if obj is float:
        return DTYPES[EM_FLOAT64]
    if obj is int:
        return DTYPES[EM_INT64]
    if obj is bool:
        return DTYPES[EM_BOOL]
    if obj is complex:
        return DTYPES[EM_COMPLEX128]
    if isinstance(obj, str) and obj in _BY_NAME:
        return _BY_NAME[obj]
    try:
        npd = np.dtype(obj)
    except TypeError:
        raise TypeError(f"cannot interpret {obj!r} as an ember dtype") from None
    d = _BY_NUMPY.get(npd.newbyteorder("=") if npd.byteorder not in "=|" else npd)
    if d is None:
        raise TypeError(f"ember has no dtype matching NumPy dtype {npd}")
    return d


def to_dtype(obj):
    """Return the ember dtype for ``obj`` (an ember dtype, NumPy dtype, type or name)."""
    return as_dtype(obj)


cdef int complex_of(int num) noexcept:
    if num == EM_FLOAT64 or num == EM_COMPLEX128:
        return EM_COMPLEX128
    return EM_COMPLEX64


cdef int real_of(int num) noexcept:
    if num == EM_COMPLEX64:
        return EM_FLOAT32
    if num == EM_COMPLEX128:
        return EM_FLOAT64
    return num


cdef bint _is_wide_unsigned(int num) noexcept:
    return num == EM_UINT16 or num == EM_UINT32 or num == EM_UINT64


cdef int promote_nums(int a, int b) except -1:
    """PyTorch's promote_types on dtype numbers."""
    cdef int ca = em_category[a], cb = em_category[b], t
    if a == b:
        return a
    # as PyTorch: uint16/32/64 promote only with the real floating types
    if (_is_wide_unsigned(a) and cb != 2) or (_is_wide_unsigned(b) and ca != 2):
        raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {TORCH_NAMES[a]} and {TORCH_NAMES[b]}")
    if ca == 0:
        return b
    if cb == 0:
        return a
    if ca > cb or (ca == cb and a > b):
        a, b = b, a
        ca, cb = cb, ca
    # now a's category <= b's; within a category a < b in enum order
    if cb == 1:
        # both integral: uint8 with a signed type
        if a == EM_UINT8:
            return EM_INT16 if b == EM_INT8 else b
        return b
    if cb == 2:
        if ca == 1:
            return b
        # float16 + bfloat16 -> float32; otherwise the wider
        if a == EM_FLOAT16 and b == EM_BFLOAT16:
            return EM_FLOAT32
        return b
    # b is complex
    if ca <= 1:
        return b
    if ca == 2:
        return EM_COMPLEX128 if (a == EM_FLOAT64 or b == EM_COMPLEX128) else EM_COMPLEX64
    return b


def promote_types(type1, type2):
    """The smallest dtype to which both ``type1`` and ``type2`` can be promoted (PyTorch rules).

    Examples
    --------
    >>> import ember
    >>> ember.promote_types(ember.uint8, ember.int8)
    ember.int16
    """
    return DTYPES[promote_nums(as_dtype(type1).num, as_dtype(type2).num)]


def can_cast(from_, to):
    """Whether a cast from ``from_`` to ``to`` is allowed by PyTorch's casting rules.

    Casting never moves down a category: complex to real, floating to integral,
    or anything but bool to bool.
    """
    cdef dtype f = as_dtype(from_), t = as_dtype(to)
    return em_category[f.num] <= em_category[t.num]


def get_default_dtype():
    """The dtype of floating-point tensors created from Python floats (``ember.float32`` at start)."""
    return DTYPES[default_float_num]


def set_default_dtype(d):
    """Set the default floating dtype: ``ember.float32`` or ``ember.float64`` (also float16/bfloat16)."""
    global default_float_num
    cdef dtype dt = as_dtype(d)
    if em_category[dt.num] != 2:
        raise TypeError(f"only floating-point types are supported as the default type, got {dt}")
    default_float_num = dt.num


def _default_float_num():
    return default_float_num
