"""The legacy per-dtype tensor types (``ember.FloatTensor``, ``ember.LongTensor``...).

PyTorch keeps them for old code, and much of it is still copied from tutorials:
``torch.LongTensor([[1, 2]])`` builds a tensor from data, ``torch.FloatTensor(2, 3)`` an
uninitialised one, ``isinstance(t, torch.FloatTensor)`` tests dtype and device, and
``t.type(torch.LongTensor)`` or ``t.type('torch.LongTensor')`` converts.  They are not
subclasses of :class:`ember.Tensor`: calling one returns a plain tensor.
"""
import ember
from ember._core._tensor import Tensor, Size, _add_method
from ember._switches import _warn_once

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "ShortTensor", "IntTensor", "LongTensor",
           "HalfTensor", "BFloat16Tensor", "FloatTensor", "DoubleTensor",
           "set_default_tensor_type"]


class _TensorType(type):
    """Metaclass of the legacy types: calls build tensors, ``isinstance`` checks dtype."""

    def __call__(cls, *args, device=None):
        if device is not None and ember.device(device).type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{ember.device(device).type} was passed")
        if not args:
            return ember.empty(0, dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], Tensor):
            # an alias of a tensor of this very type, as PyTorch (no silent conversion)
            if not isinstance(args[0], cls):
                raise TypeError(f"expected {cls.__name__} (got {args[0].type()})")
            return args[0].view(args[0].shape)
        if len(args) == 1 and isinstance(args[0], Size):
            return ember.empty(args[0], dtype=cls.dtype)
        if len(args) == 1 and not isinstance(args[0], int):
            if isinstance(args[0], str):
                raise TypeError("new(): invalid data type 'str'")
            return ember.tensor(args[0], dtype=cls.dtype)
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise TypeError(f"{cls.__name__}(): expected a sequence of integers for a size, "
                            f"got {args}")
        return ember.empty(*args, dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __repr__(cls):
        return f"<class 'ember.{cls.__name__}'>"


def _legacy_type(name, dtype):
    doc = f"""Legacy constructor of ``ember.{dtype.name}`` tensors on the CPU (PyTorch's
    ``torch.{name}``).

    ``{name}(data)`` builds a tensor from nested sequences or an array, ``{name}(*sizes)``
    or ``{name}(ember.Size(...))`` an uninitialised one, ``{name}()`` an empty one and
    ``{name}(tensor)`` a view of a tensor of this type.  ``isinstance(t, ember.{name})``
    is true for CPU tensors of dtype ``ember.{dtype.name}``.  New code should call
    :func:`ember.tensor` or :func:`ember.empty` with ``dtype=``.

    Examples
    --------
    >>> import ember
    >>> t = ember.{name}([1, 2])
    >>> t.dtype
    ember.{dtype.name}
    >>> isinstance(t, ember.{name})
    True
    """
    return _TensorType(name, (), {"__doc__": doc, "__module__": "ember", "dtype": dtype,
                                  "is_cuda": False, "is_sparse": False})


BoolTensor = _legacy_type("BoolTensor", ember.bool)
ByteTensor = _legacy_type("ByteTensor", ember.uint8)
CharTensor = _legacy_type("CharTensor", ember.int8)
ShortTensor = _legacy_type("ShortTensor", ember.int16)
IntTensor = _legacy_type("IntTensor", ember.int32)
LongTensor = _legacy_type("LongTensor", ember.int64)
HalfTensor = _legacy_type("HalfTensor", ember.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", ember.bfloat16)
FloatTensor = _legacy_type("FloatTensor", ember.float32)
DoubleTensor = _legacy_type("DoubleTensor", ember.float64)

_TYPES = {cls.__name__: cls for cls in (
    BoolTensor, ByteTensor, CharTensor, ShortTensor, IntTensor, LongTensor, HalfTensor,
    BFloat16Tensor, FloatTensor, DoubleTensor)}
# the names Tensor.type() gives (complex tensors have names but no legacy class)
_NAMES = {cls.dtype: name for name, cls in _TYPES.items()}
_NAMES.update({ember.complex64: "ComplexFloatTensor", ember.complex128: "ComplexDoubleTensor"})


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """The legacy type's name (``'ember.FloatTensor'``), or this tensor converted to a type.

    Parameters
    ----------
    dtype : ember.dtype, legacy type or str, optional
        A dtype, a legacy type such as :class:`ember.LongTensor`, or its name
        (``'ember.LongTensor'``; ``'torch.LongTensor'`` too, for ported code;
        ``'ember.cuda.LongTensor'`` for a CUDA tensor).  Without it, the name of this
        tensor's type is returned.
    non_blocking : bool, optional
        Passed to :meth:`Tensor.to` when the device changes.

    Returns
    -------
    str or Tensor
        The name, or ``self`` when it already has the type, else a converted copy.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([1.5, 2.5])
    >>> x.type()
    'ember.FloatTensor'
    >>> x.type(ember.LongTensor)
    tensor([1, 2])
    >>> x.type('ember.DoubleTensor').dtype
    ember.float64
    """
    if dtype is None:
        return ("ember.cuda." if self.is_cuda else "ember.") + _NAMES[self.dtype]
    device = None
    if isinstance(dtype, str):
        prefix, _, name = dtype.rpartition(".")
        if prefix not in ("ember", "torch", "ember.cuda", "torch.cuda") or name not in _TYPES:
            raise ValueError(f"invalid type: {dtype!r}")
        device = "cuda" if prefix.endswith("cuda") else "cpu"
        dtype = _TYPES[name].dtype
    elif isinstance(dtype, _TensorType):
        device, dtype = "cpu", dtype.dtype
    if device is not None and device != self.device.type:
        return self.to(device=device, dtype=dtype, non_blocking=non_blocking)
    return self.to(dtype)


_add_method("type", _type)


def set_default_tensor_type(t, /):
    """Set the default floating point dtype (and device) from a legacy tensor type.

    Deprecated in PyTorch 2.1, as here (it warns once): new code calls
    :func:`ember.set_default_dtype` and :func:`ember.set_default_device`.  Kept for the scripts that still call
    ``torch.set_default_tensor_type(torch.DoubleTensor)``.

    Parameters
    ----------
    t : legacy type or str
        A floating point legacy type (:class:`ember.DoubleTensor`, ...) or its name
        (``'ember.DoubleTensor'``; ``'torch.DoubleTensor'`` too, for ported code;
        ``'ember.cuda.FloatTensor'`` also makes ``cuda`` the default device).

    Raises
    ------
    TypeError
        For a type that is not floating point, or a CUDA type without a GPU.
    AttributeError
        For a name that is no legacy type.

    Examples
    --------
    >>> import warnings, ember
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ember.set_default_tensor_type(ember.DoubleTensor)
    >>> ember.tensor([1.5]).dtype
    ember.float64
    >>> ember.set_default_dtype(ember.float32)
    """
    _warn_once("ember.set_default_tensor_type() is deprecated (as PyTorch's is since 2.1), "
               "please use ember.set_default_dtype() and ember.set_default_device() as "
               "alternatives.")
    device = None
    if isinstance(t, str):
        prefix, _, name = t.rpartition(".")
        if prefix not in ("ember", "torch", "ember.cuda", "torch.cuda"):
            raise TypeError(f"invalid type: {t!r}")
        if name not in _TYPES:
            raise AttributeError(f"module {prefix!r} has no attribute {name!r}")
        cls = _TYPES[name]
        if prefix.endswith("cuda"):
            if not ember.cuda.is_available():
                raise TypeError(f"type {t} not available. ember.cuda found no GPU (or no CuPy).")
            device = "cuda"
    elif isinstance(t, _TensorType):
        cls = t
    else:
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    if not cls.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    ember.set_default_dtype(cls.dtype)
    if device is not None:
        ember.set_default_device(device)
