"""Tensor API that PyTorch scripts use beside the ops: factories from a tensor
(``Tensor.new_*``), broadcasting functions, dtype limits (``finfo``/``iinfo``), the
conjugate/negative bits, device and pinning queries, ``put``, ``fill_diagonal_``, type
predicates, the backend flags PyTorch code tests (``is_mps``, ``is_nested``, ...), the
deprecated out-of-place ``resize``, ``as_subclass`` and the device modules.

Everything is composed from existing ember ops, so gradients come from autograd.
"""
import functools
import operator
import warnings

import numpy as np

from ember._core import _dtype
from ember._core._tensor import (
    Storage, Tensor, _add_method, _check_layout, broadcast_shapes, empty, empty_strided, full,
    tensor,
)
from ember.autograd.function import Function
from ember.ops.api_functions import _fresh
from ember.ops.shape_extra import _args_or_keyword

__all__ = ["broadcast_tensors", "broadcast_to", "finfo", "iinfo", "is_signed", "typename",
           "is_storage", "put", "resolve_conj", "resolve_neg", "is_conj", "is_neg",
           "frombuffer", "adjoint", "get_device_module", "is_distributed"]


def _size_args(size, name):
    """``new_zeros(2, 3)`` and ``new_zeros((2, 3))`` are the same call."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{name}(): argument 'size' must be a sequence of ints, "
                            f"but found element of type {type(s).__name__}")
    return tuple(int(s) for s in size)


def _like(self, dtype, device):
    return (self.dtype if dtype is None else dtype), (self.device if device is None else device)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    """A tensor of ``size`` filled with ``fill_value``; dtype and device default to
    this tensor's."""
    _check_layout(layout, "new_full")
    dtype, device = _like(self, dtype, device)
    return full(_size_args((size,), "new_full"), fill_value, dtype=dtype, device=device,
                requires_grad=requires_grad, layout=layout)


def _new_filler(name, value):
    def method(self, *sizes, size=None, dtype=None, device=None, requires_grad=False,
               layout=None, pin_memory=False):
        _check_layout(layout, name)
        dtype, device = _like(self, dtype, device)
        shape = _size_args(_args_or_keyword(sizes, size, name, "size"), name)
        if value is None:
            return empty(shape, dtype=dtype, device=device, requires_grad=requires_grad,
                         layout=layout)
        return full(shape, value, dtype=dtype, device=device, requires_grad=requires_grad,
                    layout=layout)
    method.__name__ = method.__qualname__ = name
    what = "uninitialised" if value is None else f"filled with {value}"
    method.__doc__ = (f"A tensor of ``size`` (ints, one sequence or ``size=``), {what}; "
                      "dtype and device default to this tensor's.")
    return method


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False,
                       layout=None, pin_memory=False):
    """An uninitialised tensor of ``size`` and ``stride``; dtype and device default to
    this tensor's."""
    _check_layout(layout, "new_empty_strided")
    dtype, device = _like(self, dtype, device)
    return empty_strided(size, stride, dtype=dtype, device=device, requires_grad=requires_grad,
                         layout=layout)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
                pin_memory=False):
    """A new tensor holding a copy of ``data`` (never a view of it); dtype and device
    default to this tensor's, whatever the type of ``data``."""
    _check_layout(layout, "new_tensor")
    dtype, device = _like(self, dtype, device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() rather than tensor.new_tensor("
                      "sourceTensor).", UserWarning, stacklevel=2)
        out = data.detach().to(dtype=dtype, device=device, copy=True)
        return out.requires_grad_(requires_grad)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _new(self, *args, device=None):
    """The legacy constructor: ``new()`` empty, ``new(2, 3)`` or ``new(size)``
    uninitialised, ``new(sequence)`` a copy of the data, ``new(tensor)`` that tensor
    (of this dtype); always of this tensor's dtype, on its device unless given."""
    device = self.device if device is None else device
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0].dtype != self.dtype or args[0].device.type != _device_type(device):
            raise TypeError(f"new(): expected a tensor of dtype {self.dtype} on {device}, got "
                            f"{args[0].dtype} on {args[0].device}")
        return args[0]
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)) \
            and type(args[0]).__name__ != "Size":
        if not isinstance(args[0], (tuple, list, np.ndarray)):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        return tensor(args[0], dtype=self.dtype, device=device)
    return empty(_size_args(args, "new") if args else (0,), dtype=self.dtype, device=device)


def _device_type(device):
    return device.type if hasattr(device, "type") else str(device).split(":")[0]


def _sum_to_size(self, *sizes, size=None):
    """Sum to ``size`` (ints, one sequence or ``size=``), which must broadcast to this
    tensor's shape: the gradient of an expand back to the expanded tensor's size."""
    size = _size_args(_args_or_keyword(sizes, size, "sum_to_size", "size"),
                      "sum_to_size")
    if not size:
        # PyTorch sums fully to (), a 0-d input too (so integers become int64)
        return self.sum()
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    out = self.sum(tuple(range(lead))) if lead else self
    dims = tuple(k for k, s in enumerate(size) if s == 1 and shape[lead + k] != 1)
    return out.sum(dims, keepdim=True) if dims else out


def _array_wrap(self, array, context=None, return_scalar=False):
    # NumPy hands a ufunc's result on a tensor (np.exp(t)) here: as in PyTorch it comes
    # back as a tensor sharing the result's memory, 0-d for a scalar result. Bool
    # results stay bool (PyTorch makes them uint8, a leftover from before torch.bool).
    from ember._core._tensor import from_numpy
    return from_numpy(np.asarray(array))


def _adjoint(self):
    """The conjugate transpose of the last two dims (a view for real tensors)."""
    if self.dim() < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {self.dim()}-D tensor.")
    out = self.transpose(-2, -1)
    return out.conj() if self.is_complex() else out


def _map_values(self, name, fn, *others):
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    if self.device.type != "cpu":
        raise TypeError(f"{name}_ is only implemented on CPU tensors")
    values = self.tolist() if self.dim() else [self.item()]
    # broadcast to this shape (a 0-d other too: its one value pairs with every element)
    args = [o.expand(self.shape).tolist() if self.dim() else [o.item()] for o in others]

    def walk(v, *a):
        if isinstance(v, list):
            return [walk(*items) for items in zip(v, *a)]
        return fn(v, *a)
    result = walk(values, *args)
    self.copy_(tensor(result if self.dim() else result[0], dtype=self.dtype))
    return self


def _apply_(self, callable):
    """Replace each element ``v`` by ``callable(v)``, in place (CPU, Python-speed: for
    small tensors and tests)."""
    return _map_values(self, "apply_", callable)


def _map_(self, tensor, callable):
    """Replace each element ``v`` by ``callable(v, w)``, ``w`` the matching element of
    ``tensor`` broadcast to this shape, in place (CPU, Python-speed)."""
    return _map_values(self, "map_", callable, tensor)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor viewing the memory of an object exposing the buffer protocol
    (``bytearray``, ``memoryview``, ``array.array``...), without a copy.

    Parameters
    ----------
    buffer : buffer-protocol object
    dtype : ember.dtype
    count : int, optional
        Elements to read; -1 reads to the end.
    offset : int, optional
        Bytes to skip at the start.
    requires_grad : bool, optional

    Examples
    --------
    >>> import ember
    >>> ember.frombuffer(bytearray(b"\\x00\\x00\\x80?"), dtype=ember.float32)
    tensor([1.])
    """
    from ember._core._tensor import from_numpy
    view = memoryview(buffer)
    size = dtype.itemsize
    length = view.nbytes - offset
    if offset < 0 or offset > view.nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({view.nbytes} bytes) minus 1")
    if count == -1:
        if length == 0:
            raise ValueError(f"both buffer length ({view.nbytes}) and count ({count}) must "
                             f"not be 0")
        if length % size:
            raise ValueError(f"buffer length ({length} bytes) after offset ({offset} bytes) "
                             f"must be a multiple of element size ({size})")
        count = length // size
    elif count <= 0 or count * size > length:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({view.nbytes} bytes)")
    if view.readonly:
        warnings.warn("The given buffer is not writable: the tensor views it read-only, and "
                      "writing to it raises.", UserWarning, stacklevel=2)
    raw = np.frombuffer(view, dtype=np.uint8, count=count * size, offset=offset)
    out = from_numpy(raw).view(dtype)
    return out.requires_grad_(requires_grad) if requires_grad else out


def _map2_(self, x, y, callable):
    """Replace each element ``v`` by ``callable(v, a, b)``, ``a`` and ``b`` the matching
    elements of ``x`` and ``y`` broadcast to this shape, in place (CPU, Python-speed)."""
    return _map_values(self, "map2_", callable, x, y)


def adjoint(input):
    """The conjugate transpose of the last two dims of ``input`` (a view for real
    tensors): :meth:`Tensor.adjoint`.

    Examples
    --------
    >>> import ember
    >>> ember.adjoint(ember.zeros(2, 3)).shape
    ember.Size([3, 2])
    """
    return _adjoint(input)


def _dense_dim(self):
    """The number of dense dimensions: all of them, ember's tensors being strided."""
    return self.dim()


def _const_data_ptr(self):
    """The address of the first element (as :meth:`data_ptr`; the memory is not to be
    written through it)."""
    return self.data_ptr()


def _is_set_to(self, tensor):
    """Whether ``tensor`` views the same memory the same way: same storage, offset, shape
    and strides."""
    return (self.untyped_storage() is tensor.untyped_storage()
            and self.storage_offset() == tensor.storage_offset()
            and tuple(self.shape) == tuple(tensor.shape)
            and tuple(self.stride()) == tuple(tensor.stride()))


_add_method("new", _new)
_add_method("sum_to_size", _sum_to_size)
_add_method("adjoint", _adjoint)
_add_method("__array_wrap__", _array_wrap)
_add_method("apply_", _apply_)
_add_method("map_", _map_)
_add_method("map2_", _map2_)
_add_method("dense_dim", _dense_dim)
_add_method("const_data_ptr", _const_data_ptr)
_add_method("is_set_to", _is_set_to)
# PyTorch's ``_grad`` is the ``grad`` attribute under another name; A3C-style code shares
# a worker's gradient with ``shared_param._grad = param.grad``
_add_method("_grad", Tensor.grad)


for _name, _value in (("new_zeros", 0), ("new_ones", 1), ("new_empty", None)):
    _add_method(_name, _new_filler(_name, _value))
_add_method("new_full", _new_full)
_add_method("new_empty_strided", _new_empty_strided)
_add_method("new_tensor", _new_tensor)


def broadcast_tensors(*tensors):
    """Views of ``tensors`` expanded to their common broadcast shape.

    Examples
    --------
    >>> import ember
    >>> a, b = ember.broadcast_tensors(ember.zeros(3, 1), ember.zeros(4))
    >>> a.shape, b.shape
    (ember.Size([3, 4]), ember.Size([3, 4]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"broadcast_tensors(): expected Tensor as element {i}, "
                            f"but got {type(t).__name__}")
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def broadcast_to(input, size):
    """``input`` viewed with the broadcast shape ``size`` (as :meth:`Tensor.expand`;
    ``-1`` keeps a dimension)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"broadcast_to(): argument 'input' must be Tensor, "
                        f"not {type(input).__name__}")
    return input.expand(tuple(size))


# ---- dtype limits, as torch.finfo / torch.iinfo (dtype is a name there, not an object)

def _bfloat16_limits():
    # 8 exponent bits as float32, 7 explicit mantissa bits
    eps = 2.0 ** -7
    return {"bits": 16, "eps": eps, "max": (2.0 - eps) * 2.0 ** 127,
            "smallest_normal": 2.0 ** -126}


class finfo:
    """Machine limits of a floating-point dtype, as ``torch.finfo``.

    Parameters
    ----------
    type : ember.dtype, optional
        A floating-point or complex dtype (a complex one gives its real part's limits);
        default: the default dtype.

    Attributes
    ----------
    bits, eps, max, min, tiny, smallest_normal, resolution
        The dtype's width and limits (``tiny`` is ``smallest_normal``).
    dtype : str
        The dtype's name, e.g. ``"float32"``.
    """

    def __init__(self, type=None):
        dtype = _dtype.get_default_dtype() if type is None else type
        if not isinstance(dtype, _dtype.dtype) or not (dtype.is_floating_point
                                                      or dtype.is_complex):
            raise TypeError("ember.finfo() requires a floating point input type. "
                            f"Use ember.iinfo to handle {dtype!r}")
        if dtype.is_complex:
            dtype = dtype.to_real()
        if dtype == _dtype.bfloat16:
            limits = _bfloat16_limits()
        else:
            info = np.finfo(dtype.numpy_dtype)
            limits = {"bits": info.bits, "eps": float(info.eps), "max": float(info.max),
                      "smallest_normal": float(info.smallest_normal)}
        self.bits, self.eps, self.max = limits["bits"], limits["eps"], limits["max"]
        self.min = -self.max
        self.tiny = self.smallest_normal = limits["smallest_normal"]
        # 10 ** -(decimal digits of precision), in double as PyTorch (numpy's is in dtype)
        self.resolution = 10.0 ** -int(-np.log10(self.eps))
        self.dtype = dtype.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype, as ``torch.iinfo``.

    Parameters
    ----------
    type : ember.dtype
        An integer dtype.

    Attributes
    ----------
    bits, min, max : int
    dtype : str
        The dtype's name, e.g. ``"int32"``.
    """

    def __init__(self, type):
        if type == _dtype.bool_:
            raise TypeError(f"{type} is not supported by ember.iinfo")
        if not isinstance(type, _dtype.dtype) or type.is_floating_point or type.is_complex:
            raise TypeError("ember.iinfo() requires an integer input type. "
                            f"Use ember.finfo to handle {type!r}")
        info = np.iinfo(type.numpy_dtype)
        self.bits, self.min, self.max, self.dtype = info.bits, int(info.min), int(info.max), \
            type.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def is_signed(input):
    """Whether the dtype of ``input`` is signed (every type but bool and the unsigned ones)."""
    return input.is_signed()


def typename(obj):
    """The type of ``obj`` as a string: ``Tensor.type()`` for a tensor, else the
    qualified name of ``obj`` (a class or function) or of its class."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__, obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_storage(obj):
    """Whether ``obj`` is an ember storage (:class:`ember.UntypedStorage` or
    :class:`ember.TypedStorage`)."""
    from ember.ops.storage import TypedStorage    # it adds Tensor.storage(), built on this module
    return isinstance(obj, (Storage, TypedStorage))


# ---- conjugate and negative bits: ember has none (conj() and neg() always compute), so
# resolving is the identity and the bits are always clear

def resolve_conj(input):
    """``input`` itself: ember has no lazy conjugate bit (``conj()`` materialises), so
    there is never a pending conjugation to resolve."""
    return input


def resolve_neg(input):
    """``input`` itself: ember has no lazy negative bit, so there is never a pending
    negation to resolve."""
    return input


def is_conj(input):
    """False: ember has no lazy conjugate bit (``conj()`` materialises its result)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_conj(): argument 'input' must be Tensor, not {type(input).__name__}")
    return False


def is_neg(input):
    """False: ember has no lazy negative bit."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_neg(): argument 'input' must be Tensor, not {type(input).__name__}")
    return False


def _get_device(self):
    """The index of this tensor's device: -1 for the CPU."""
    return -1 if self.device.type == "cpu" else (self.device.index or 0)


def _is_pinned(self, device=None):
    """False: ember allocates no page-locked host memory."""
    return False


def _pin_memory(self, device=None):
    """This tensor, unchanged, with a warning: ember allocates no page-locked host
    memory (as :class:`ember.utils.data.DataLoader` with ``pin_memory=True``)."""
    warnings.warn("pin_memory(): ember allocates no pinned host memory; the tensor is "
                  "returned unchanged.", stacklevel=2)
    return self


# ---- put and fill_diagonal_

def _check_put(input, index, source):
    if index.dtype != _dtype.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {index.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but "
                           f"got self.dtype = {input.dtype} and source.dtype = {source.dtype}")
    if index.numel() != source.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    n = input.numel()
    if index.numel() and (int(index.max()) >= n or int(index.min()) < -n):
        raise IndexError(f"put_(): index out of range for a tensor of {n} elements")


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written at the flat positions ``index``
    (``input`` read as 1-D; added when ``accumulate``).

    Examples
    --------
    >>> import ember
    >>> ember.put(ember.zeros(2, 2), ember.tensor([0, 3]), ember.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    _check_put(input, index, source)
    out = _fresh(input)     # contiguous, so that flat positions are row-major ones
    out.view(-1).index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
    return out


def _put_(self, index, source, accumulate=False):
    """In-place :func:`put`."""
    _check_put(self, index, source)
    if self.is_contiguous():
        self.view(-1).index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
        return self
    return self.copy_(put(self, index, source, accumulate))


def _put_method(self, index, source, accumulate=False):
    """See :func:`ember.put`."""
    return put(self, index, source, accumulate)


def _fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (``[i, i, ...]``) with ``fill_value``, in place.

    Parameters
    ----------
    fill_value : scalar
    wrap : bool, optional
        For a tall 2-D tensor, start the diagonal again every ``columns + 1`` rows.
    """
    if self.ndim < 2:
        raise RuntimeError("fill_diagonal_(): dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("fill_diagonal_(): all dimensions of input must be of equal length")
    rows, cols = self.shape[0], self.shape[1]
    if self.ndim == 2 and wrap and rows > cols:
        # numpy's wrapped diagonal: every (cols + 1)-th element of the row-major order
        flat = np.arange(0, rows * cols, cols + 1)
        index = (tensor(flat // cols), tensor(flat % cols))
    else:
        diag = tensor(np.arange(min(self.shape)))
        index = (diag,) * self.ndim
    self[index] = fill_value
    return self


def _square_(self):
    """In-place :func:`ember.square`."""
    return self.pow_(2)


def _same(name, fn):
    def method(self):
        return fn(self)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    return method


for _name, _fn in (("get_device", _get_device), ("is_pinned", _is_pinned),
                   ("pin_memory", _pin_memory), ("put_", _put_), ("put", _put_method),
                   ("fill_diagonal_", _fill_diagonal_), ("square_", _square_),
                   ("resolve_conj", _same("resolve_conj", resolve_conj)),
                   ("resolve_neg", _same("resolve_neg", resolve_neg)),
                   ("is_conj", _same("is_conj", is_conj)), ("is_neg", _same("is_neg", is_neg))):
    _add_method(_name, _fn)


# ---- backend flags: ember tensors are strided and dense, on the CPU or a CUDA device, so
# the flags of PyTorch's other backends and layouts are always False

def _false_flag(name, what):
    flag = property(lambda self: False, doc=f"False: {what}.")
    _add_method(name, flag)


for _name, _what in (
        ("is_quantized", "quantized tensors are :class:`ember.quantization.QuantizedTensor`, "
                         "whose ``is_quantized`` is True"),
        ("is_nested", "ember has no nested tensors"),
        ("is_mps", "ember has no MPS (Apple GPU) device"),
        ("is_xpu", "ember has no XPU (Intel GPU) device"),
        ("is_xla", "ember has no XLA device"),
        ("is_ipu", "ember has no IPU device"),
        ("is_mtia", "ember has no MTIA device"),
        ("is_maia", "ember has no MAIA device"),
        ("is_vulkan", "ember has no Vulkan device"),
        ("is_mkldnn", "ember has no MKL-DNN layout")):
    _false_flag(_name, _what)


class _Resize(Function):
    """PyTorch's autograd ``Resize``: a contiguous view of another shape, same elements."""

    @staticmethod
    def forward(ctx, input, sizes):
        numel = functools.reduce(operator.mul, sizes, 1)     # PyTorch's count, in its message
        if input.numel() != numel or any(not isinstance(s, int) or s < 0 for s in sizes):
            raise RuntimeError(
                f"requested resize to {'x'.join(map(str, sizes))} ({numel} elements in total), "
                f"but the given tensor has a size of {'x'.join(map(str, input.shape))} "
                f"({input.numel()} elements). autograd's resize can only change the shape of a "
                "given tensor, while preserving the number of elements. ")
        ctx.input_shape = input.shape
        return input.contiguous().view(sizes)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous().view(ctx.input_shape), None


def _resize(self, *sizes):
    """``self`` as a contiguous tensor of shape ``sizes`` with the same number of elements
    (deprecated, as in PyTorch, which warns: use :meth:`reshape` or :meth:`resize_`).

    A view of ``self`` when it is contiguous, else a copy; gradients flow back.
    """
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _Resize.apply(self, sizes)


def _resize_as(self, tensor):
    """``self.resize(*tensor.shape)`` (deprecated, as in PyTorch, which warns: use
    :meth:`reshape_as` or :meth:`resize_as_`)."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _Resize.apply(self, tuple(tensor.shape))


class _Alias(Function):
    @staticmethod
    def forward(ctx, input, cls):
        out = Tensor.__new__(cls)
        out.data = input     # the same storage, offset, shape and strides
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def _as_subclass(self, cls):
    """``self`` as an instance of ``cls``, a subclass of :class:`ember.Tensor`: the same
    memory, and in the same autograd graph (gradients flow back to ``self``).

    Parameters
    ----------
    cls : type
        A subclass of :class:`ember.Tensor`.

    Examples
    --------
    >>> import ember
    >>> class Tagged(ember.Tensor):
    ...     pass
    >>> t = ember.ones(2).as_subclass(Tagged)
    >>> type(t).__name__, t.tolist()
    ('Tagged', [1.0, 1.0])
    """
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
    return _Alias.apply(self, cls)


_add_method("resize", _resize)
_add_method("resize_as", _resize_as)
_add_method("as_subclass", _as_subclass)


def is_distributed(input):
    """False: ember tensors are not distributed tensors (PyTorch's legacy
    ``torch.is_distributed``; see :mod:`ember.distributed` for collectives)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_distributed(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    return False


def get_device_module(device=None):
    """The module of a device type: ``ember.cuda`` for ``"cuda"``, ``ember.cpu`` for
    ``"cpu"``, as ``torch.get_device_module``.

    Parameters
    ----------
    device : ember.device or str, optional
        The device; None: the current accelerator's (CUDA when available), else the CPU's.

    Returns
    -------
    module

    Raises
    ------
    RuntimeError
        For a device type without a module (``"meta"``) or a ``device`` of another type.

    Examples
    --------
    >>> import ember
    >>> ember.get_device_module("cpu").device_count()
    1
    """
    import ember
    if isinstance(device, ember.device):
        name = device.type
    elif isinstance(device, str):
        name = ember.device(device).type
    elif device is None:
        name = "cuda" if ember.cuda.is_available() else "cpu"
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect ember.device, str, "
                           "or None")
    if name not in ("cpu", "cuda"):
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered "
                           f"as 'ember.{name}'.")
    return getattr(ember, name)
