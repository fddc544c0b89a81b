"""Typed storages: ``Tensor.storage()`` and :class:`TypedStorage`, PyTorch's deprecated
but still used element view of a tensor's memory.

A :class:`TypedStorage` is a dtype over an :class:`ember.UntypedStorage` (the bytes a
tensor views, ``Tensor.untyped_storage()``): indexing, ``tolist``, ``fill_`` and
``copy_`` read and write those bytes as elements, shared with every tensor viewing them.
As in PyTorch, the first use in a process warns that the class is deprecated.
The legacy per-dtype classes (``ember.FloatStorage``, ...) are typed storages of one dtype,
and ``Tensor.storage_type()`` names the one of a tensor.
"""
import warnings

from ember._core import _dtype
from ember._core._dtype import dtype as _dtype_type, get_default_dtype
from ember._core._tensor import Storage, _add_method, empty, tensor

__all__ = ["TypedStorage", "UntypedStorage", "BoolStorage", "ByteStorage", "CharStorage",
           "ShortStorage", "IntStorage", "LongStorage", "HalfStorage", "BFloat16Storage",
           "FloatStorage", "DoubleStorage", "ComplexFloatStorage", "ComplexDoubleStorage"]

UntypedStorage = Storage

_warned = False


def _warn_typed_storage_removal(stacklevel=2):
    """PyTorch's deprecation warning, given once per process."""
    global _warned
    if not _warned:
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                      "UntypedStorage will be the only storage class. This should only "
                      "matter to you if you are using storages directly.  To access "
                      "UntypedStorage directly, use tensor.untyped_storage() instead of "
                      "tensor.storage()", UserWarning, stacklevel=stacklevel + 1)
        _warned = True


def _reset_warn_typed_storage_removal():
    """Let the next use of a typed storage warn again."""
    global _warned
    _warned = False


_ARG_ERROR = ("TypedStorage.__init__ received an invalid combination of arguments. Expected "
              "one of:\n * (*, ember.device device, ember.dtype dtype)\n"
              " * (int size, *, ember.device device, ember.dtype dtype)\n"
              " * (Sequence data, *, ember.device device, ember.dtype dtype)\n"
              " * (*, UntypedStorage wrap_storage, ember.dtype dtype)")


class TypedStorage:
    """The elements of an :class:`ember.UntypedStorage` read as ``dtype``.

    ``tensor.storage()`` gives the one a tensor views (the whole storage, whatever the
    tensor's offset and strides).

    Parameters
    ----------
    *args : int or sequence, optional
        A number of elements (uninitialised) or the elements, for a new storage.
    device : device, optional
        Where a new storage lives.
    dtype : dtype, optional
        The element type (default: the default float dtype).
    wrap_storage : UntypedStorage, optional
        The bytes to view instead of new ones (with ``dtype``, and no ``args`` or
        ``device``).

    Examples
    --------
    >>> import ember
    >>> t = ember.tensor([1.0, 2.0, 3.0])
    >>> s = t.storage()
    >>> s[0] = 5.0
    >>> t
    tensor([5., 2., 3.])
    """

    def __init__(self, *args, device=None, dtype=None, wrap_storage=None, _internal=False):
        if not _internal:
            _warn_typed_storage_removal()
        if dtype is not None and not isinstance(dtype, _dtype_type):
            raise TypeError(f"{_ARG_ERROR}\nArgument 'dtype' must be ember.dtype, not "
                            f"{type(dtype).__name__}")
        if wrap_storage is not None:
            if args:
                raise RuntimeError(f"{_ARG_ERROR}\nNo positional arguments should be given "
                                   f"when using 'wrap_storage'")
            if dtype is None:
                raise RuntimeError(f"{_ARG_ERROR}\nArgument 'dtype' must be specified")
            if device is not None:
                raise RuntimeError(f"{_ARG_ERROR}\nArgument 'device' should not be specified "
                                   f"when 'wrap_storage' is given")
            if not isinstance(wrap_storage, Storage):
                raise TypeError(f"{_ARG_ERROR}\nArgument 'wrap_storage' must be "
                                f"UntypedStorage, but got {type(wrap_storage).__name__}")
            self.dtype, self._untyped_storage = dtype, wrap_storage
            return
        self.dtype = get_default_dtype() if dtype is None else dtype
        if len(args) > 1:
            raise RuntimeError(f"{_ARG_ERROR}\nToo many positional arguments")
        if not args:
            self._untyped_storage = Storage(0, device=device)
        elif isinstance(args[0], int) and not isinstance(args[0], bool):
            self._untyped_storage = Storage(args[0] * self.dtype.itemsize, device=device)
        else:
            data = list(args[0])
            self._untyped_storage = (tensor(data, dtype=self.dtype, device=device)
                                     .untyped_storage() if data else Storage(0, device=device))

    def _tensor(self):
        """The elements as a 1-D tensor sharing them."""
        return empty(0, dtype=self.dtype, device=self._untyped_storage.device).set_(
            self._untyped_storage)

    def _size(self):
        return self._untyped_storage.nbytes() // self.dtype.itemsize

    @property
    def device(self):
        """The device holding the elements."""
        _warn_typed_storage_removal()
        return self._untyped_storage.device

    @property
    def is_cuda(self):
        """Whether the elements are on a CUDA device."""
        _warn_typed_storage_removal()
        return self._untyped_storage.device.type == "cuda"

    def untyped(self):
        """The :class:`ember.UntypedStorage` holding the bytes."""
        _warn_typed_storage_removal()
        return self._untyped_storage

    def size(self):
        """The number of elements."""
        _warn_typed_storage_removal()
        return self._size()

    def __len__(self):
        _warn_typed_storage_removal()
        return self._size()

    def nbytes(self):
        """The size in bytes."""
        _warn_typed_storage_removal()
        return self._untyped_storage.nbytes()

    def element_size(self):
        """Bytes per element."""
        _warn_typed_storage_removal()
        return self.dtype.itemsize

    def data_ptr(self):
        """The address of the first element."""
        _warn_typed_storage_removal()
        return self._untyped_storage.data_ptr()

    def __getitem__(self, idx):
        """The element at ``idx`` as a Python number (slices are refused, as in PyTorch)."""
        _warn_typed_storage_removal()
        if isinstance(idx, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        if type(idx) is not int:
            raise RuntimeError(f"can't index a {type(self).__name__} with "
                               f"{type(idx).__name__}")
        size = self._size()
        if idx >= size or idx < -size:
            raise IndexError(f"index {idx} out of range for storage of size {size}")
        return self._tensor()[idx].item()

    def __setitem__(self, idx, value):
        _warn_typed_storage_removal()
        if not isinstance(idx, (int, slice)):
            raise RuntimeError(f"can't index a {type(self).__name__} with "
                               f"{type(idx).__name__}")
        if isinstance(value, (Storage, TypedStorage)):
            raise RuntimeError(f"cannot set item with value type {type(value).__name__}")
        self._tensor()[idx] = value

    def __iter__(self):
        _warn_typed_storage_removal()
        return iter(self._tensor().tolist())

    def tolist(self):
        """The elements as a list of Python numbers."""
        _warn_typed_storage_removal()
        return self._tensor().tolist()

    def fill_(self, value):
        """Set every element to ``value``; returns ``self``."""
        _warn_typed_storage_removal()
        self._tensor().fill_(value)
        return self

    def copy_(self, source, non_blocking=None):
        """Copy the bytes of ``source`` (a storage of as many bytes); returns ``self``."""
        _warn_typed_storage_removal()
        self._untyped_storage.copy_(getattr(source, "_untyped_storage", source), non_blocking)
        return self

    def clone(self):
        """A copy of the elements in a new storage on the same device."""
        _warn_typed_storage_removal()
        return TypedStorage(wrap_storage=self._untyped_storage.clone(), dtype=self.dtype,
                            _internal=True)

    def cpu(self):
        """The storage itself on the CPU, else a copy on the CPU."""
        _warn_typed_storage_removal()
        return TypedStorage(wrap_storage=self._untyped_storage.cpu(), dtype=self.dtype,
                            _internal=True)

    def is_shared(self):
        """Whether the bytes are in shared memory."""
        _warn_typed_storage_removal()
        return self._untyped_storage.is_shared()

    def share_memory_(self):
        """Move the bytes into shared memory (see :meth:`ember.UntypedStorage.share_memory_`)."""
        _warn_typed_storage_removal()
        self._untyped_storage.share_memory_()
        return self

    def __str__(self):
        _warn_typed_storage_removal()
        data = " " + "\n ".join(str(v) for v in self._tensor().tolist())
        return (f"{data}\n[ember.TypedStorage(dtype={self.dtype}, device="
                f"{self._untyped_storage.device}) of size {self._size()}]")

    def __repr__(self):
        return str(self)


def _storage(self):
    """The tensor's memory as a :class:`TypedStorage` of its dtype (deprecated, as in
    PyTorch: :meth:`untyped_storage` gives the bytes).

    Examples
    --------
    >>> import ember
    >>> ember.arange(4)[2:].storage().tolist()
    [0, 1, 2, 3]
    """
    _warn_typed_storage_removal()
    return TypedStorage(wrap_storage=self.untyped_storage(), dtype=self.dtype, _internal=True)


_add_method("storage", _storage)


class _LegacyStorageType(type):
    """Metaclass of the per-dtype storage classes: ``isinstance`` checks the dtype (and
    the CPU), so that ``t.storage()`` is an ``ember.FloatStorage`` for a float32 ``t``."""

    def __instancecheck__(cls, obj):
        return (isinstance(obj, TypedStorage) and obj.dtype == cls.dtype
                and obj._untyped_storage.device.type == "cpu")

    def __repr__(cls):
        return f"<class 'ember.{cls.__name__}'>"


def _legacy_storage(name, dtype):
    def __init__(self, *args, wrap_storage=None, device=None):
        TypedStorage.__init__(self, *args, device=device, dtype=dtype, wrap_storage=wrap_storage)

    doc = f"""A :class:`TypedStorage` of ``ember.{dtype.name}`` elements on the CPU
    (PyTorch's legacy ``torch.{name}``): ``{name}(size)`` or ``{name}(sequence)``
    makes one, and ``isinstance(t.storage(), ember.{name})`` is true for CPU tensors
    of that dtype.
    """
    return _LegacyStorageType(name, (TypedStorage,), {
        "__init__": __init__, "__doc__": doc, "__module__": "ember", "dtype": dtype})


(BoolStorage, ByteStorage, CharStorage, ShortStorage, IntStorage, LongStorage, HalfStorage,
 BFloat16Storage, FloatStorage, DoubleStorage, ComplexFloatStorage,
 ComplexDoubleStorage) = _LEGACY_STORAGES = tuple(_legacy_storage(name, dtype) for name, dtype in (
    ("BoolStorage", _dtype.bool_), ("ByteStorage", _dtype.uint8), ("CharStorage", _dtype.int8),
    ("ShortStorage", _dtype.int16), ("IntStorage", _dtype.int32),
    ("LongStorage", _dtype.int64), ("HalfStorage", _dtype.float16),
    ("BFloat16Storage", _dtype.bfloat16), ("FloatStorage", _dtype.float32),
    ("DoubleStorage", _dtype.float64), ("ComplexFloatStorage", _dtype.complex64),
    ("ComplexDoubleStorage", _dtype.complex128)))


def _storage_type(self):
    """The legacy storage class of the tensor's dtype (``ember.FloatStorage`` for float32),
    None for the unsigned dtypes wider than 8 bits, which have none (deprecated, as in
    PyTorch: it warns as :meth:`storage` does)."""
    _warn_typed_storage_removal()
    for cls in _LEGACY_STORAGES:
        if cls.dtype == self.dtype:
            return cls
    return None


_add_method("storage_type", _storage_type)
