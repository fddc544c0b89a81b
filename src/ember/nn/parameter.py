"""``Parameter``: a tensor that a :class:`~ember.nn.Module` registers as one of its weights."""
import copy

from ember._core._tensor import Tensor, empty

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]


class Parameter(Tensor):
    """A tensor that is a module parameter.

    Assigning a ``Parameter`` as an attribute of a :class:`~ember.nn.Module`
    registers it, so that it appears in :meth:`~ember.nn.Module.parameters`.
    The parameter shares the storage of ``data`` and is a leaf of the autograd
    graph.  Results of operations on parameters are plain tensors.

    Parameters
    ----------
    data : Tensor, optional
        The parameter's data (an empty float tensor when omitted).
    requires_grad : bool, default True
        Whether the parameter requires gradient.

    Examples
    --------
    >>> import ember
    >>> p = ember.nn.Parameter(ember.ones(2))
    >>> p
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    >>> type(p * 2).__name__
    'Tensor'
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        param = Tensor.__new__(cls)
        param.data = data   # shares storage and layout, outside any graph
        param.requires_grad_(requires_grad)
        return param

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        if self.grad is not None:
            result.grad = self.grad.clone()
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.data, self.requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """A tensor that is module state but not a parameter (e.g. running statistics).

    Assigning a ``Buffer`` as an attribute of a :class:`~ember.nn.Module`
    registers it as a buffer, as :meth:`~ember.nn.Module.register_buffer` does.
    The buffer shares the storage of ``data``.

    Parameters
    ----------
    data : Tensor, optional
        The buffer's data (an empty float tensor when omitted).
    persistent : bool, default True
        Whether the buffer is part of the module's state dict.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Module()
    >>> m.mean = nn.Buffer(ember.zeros(2))
    >>> list(m.state_dict())
    ['mean']
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer(): data must be a Tensor, got {type(data).__name__}")
        buf = Tensor.__new__(cls)
        buf.data = data
        buf.requires_grad_(data.requires_grad)
        buf.persistent = persistent
        return buf

    def __init__(self, data=None, *, persistent=True):
        pass

    def __reduce_ex__(self, protocol):
        return (_rebuild_buffer, (self.data, self.requires_grad, self.persistent))


def _rebuild_buffer(data, requires_grad, persistent):
    return Buffer(data.requires_grad_(requires_grad), persistent=persistent)


# the Tensor methods an uninitialized parameter or buffer still answers, as in PyTorch:
# conversions (so Module.to/double/cuda work before the first forward), size, copy_, hash
_ALLOWED_METHODS = frozenset({
    "size", "copy_", "is_complex", "is_floating_point", "half", "float", "double", "char",
    "short", "int", "long", "cuda", "cpu", "to", "get_device",
})
_CONVERSIONS = ("half", "float", "double", "char", "short", "int", "long", "cuda", "cpu", "to")
# operators reach the type's slots without attribute lookup, so they are overridden one by one
_OPERATORS = (
    "add", "radd", "iadd", "sub", "rsub", "isub", "mul", "rmul", "imul", "matmul", "rmatmul",
    "imatmul", "truediv", "rtruediv", "itruediv", "floordiv", "rfloordiv", "ifloordiv", "mod",
    "rmod", "imod", "pow", "rpow", "ipow", "and", "rand", "iand", "or", "ror", "ior", "xor",
    "rxor", "ixor", "lshift", "rlshift", "ilshift", "rshift", "rrshift", "irshift", "neg",
    "pos", "abs", "invert", "lt", "le", "gt", "ge", "eq", "ne", "getitem", "setitem",
    "delitem", "len", "iter", "bool", "float", "int", "index", "complex", "array", "contains",
)


def _uninitialized_error(cls, what):
    return ValueError(
        f"Attempted to use an uninitialized parameter in {what}. This error happens when you "
        "are using a `LazyModule` or explicitly manipulating "
        f"`ember.nn.parameter.{cls.__name__}` objects. When using LazyModules Call `forward` "
        "with a dummy batch to initialize the parameters before calling ember functions")


def _refuse(name):
    def refused(self, *args, **kwargs):
        raise _uninitialized_error(type(self), f"<method '{name}' of 'ember.Tensor' objects>")
    refused.__name__ = name
    return refused


def _tensor_method_names():
    import inspect
    return frozenset(name for name in dir(Tensor)
                     if inspect.isroutine(inspect.getattr_static(Tensor, name))
                     and not name.startswith("__"))


class UninitializedTensorMixin:
    """What :class:`UninitializedParameter` and :class:`UninitializedBuffer` share: a
    tensor whose shape is not known yet.

    Only conversions (``to``, ``cpu``, ``double``...), ``size``, ``copy_``,
    ``is_floating_point``/``is_complex``, ``get_device`` and the tensor's properties
    (``dtype``, ``device``, ``requires_grad``...) work; other methods and operators raise
    ``ValueError`` ("Attempted to use an uninitialized parameter ...") and ``shape`` raises
    ``RuntimeError``.  :meth:`materialize` gives the tensor its shape and turns it into
    :attr:`cls_to_become`.

    ember functions implemented in the compiled core (``ember.matmul(x, p)``) see the
    0-element placeholder instead: they raise their own shape errors, not this one.
    """

    _tensor_methods = None

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor ``shape`` (uninitialised values) and make it a
        :attr:`cls_to_become` in place.

        Parameters
        ----------
        shape : tuple of int
            The shape of the materialised tensor.
        device, dtype : optional
            Default to the placeholder's (as set at construction or by ``to``).
        """
        self.data = empty(shape, device=self.device if device is None else device,
                          dtype=self.dtype if dtype is None else dtype)
        self.__class__ = self.cls_to_become

    @property
    def data(self):
        # Tensor's getter goes through self.detach(), which is refused here
        return Tensor.detach(self)

    @data.setter
    def data(self, value):
        Tensor.data.__set__(self, value)

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           "`forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    def __getattribute__(self, name):
        cls = type(self)
        if cls._tensor_methods is None:
            UninitializedTensorMixin._tensor_methods = _tensor_method_names()
        if (name in cls._tensor_methods and name not in _ALLOWED_METHODS
                and not any(name in vars(k) for k in cls.__mro__[:cls.__mro__.index(Tensor)])):
            return _refuse(name).__get__(self)
        return super().__getattribute__(name)

    def _converted(self, method, *args, **kwargs):
        data = getattr(self.data, method)(*args, **kwargs)
        if data.dtype == self.dtype and data.device == self.device:
            return self
        return self._like(data)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __hash__ = Tensor.__hash__


for _name in _CONVERSIONS:
    setattr(UninitializedTensorMixin, _name,
            lambda self, *args, _method=_name, **kwargs: self._converted(_method, *args, **kwargs))
for _name in _OPERATORS:
    setattr(UninitializedTensorMixin, f"__{_name}__", _refuse(f"__{_name}__"))
del _name


def _placeholder(cls, requires_grad, device, dtype):
    # the methods of an uninitialized tensor refuse to run, so Tensor's are called directly
    tensor = Tensor.__new__(cls)
    tensor.data = empty(0, device=device, dtype=dtype)
    Tensor.requires_grad_(tensor, requires_grad)
    return tensor


def is_lazy(param):
    """Whether ``param`` is an :class:`UninitializedParameter` or an
    :class:`UninitializedBuffer`."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A :class:`Parameter` whose shape is not known yet (a lazy module's weight).

    Parameters
    ----------
    requires_grad : bool, default True
    device, dtype : optional
        Those of the parameter once materialised.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> p = nn.UninitializedParameter(dtype=ember.float64)
    >>> p
    <UninitializedParameter>
    >>> p.materialize((2, 3))
    >>> type(p).__name__, p.shape, p.dtype
    ('Parameter', ember.Size([2, 3]), ember.float64)
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _placeholder(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def _like(self, data):
        return type(self)(self.requires_grad, data.device, data.dtype)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = self._like(self)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad, self.device, self.dtype))


class UninitializedBuffer(UninitializedTensorMixin, Buffer):
    """A buffer whose shape is not known yet (a lazy module's running statistics).

    Once materialised it is a :class:`Buffer` (PyTorch makes it a plain tensor; ember's
    compiled ``Tensor`` cannot be the target of an in-place class change, and ``Buffer``
    is the tensor subclass PyTorch's ``isinstance(t, nn.Buffer)`` also reports).

    Parameters
    ----------
    requires_grad : bool, default False
    device, dtype : optional
        Those of the buffer once materialised.
    persistent : bool, default True
        Whether the buffer is part of the module's state dict.
    """

    cls_to_become = Buffer

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        buf = _placeholder(cls, requires_grad, device, dtype)
        buf.persistent = persistent
        return buf

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def _like(self, data):
        return type(self)(self.requires_grad, data.device, data.dtype, self.persistent)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = self._like(self)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad, self.device, self.dtype, self.persistent))
