# Tensor methods that convert: to other dtypes and devices (.to, .float(), .cpu()...),
# to NumPy and Python values (.numpy(), .tolist(), __array__), and for pickle and copy.
# Module functions attached to Tensor (keeping the class body readable); none of them
# is a type slot, so they are found through the type's dict like any method.
# Included by _tensor.pyx.

def _numpy(Tensor self, *, force=False):
    """A NumPy array sharing this tensor's memory (CPU tensors only)."""
    if self._storage.device.type_num != DEV_CPU:
        if not force:
            raise TypeError(f"can't convert {self._storage.device} device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        return _to_numpy_copy(self)
    if (self._requires_grad & REQUIRES_GRAD) and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                           "Use tensor.detach().numpy() instead.")
    return to_numpy_view(self)


def _to(Tensor self, *args, dtype=None, device=None, non_blocking=False, copy=False,
        memory_format=None):
    """Convert to another dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(other)``,
    each optionally followed by the positional ``non_blocking`` and ``copy``."""
    cdef int flags = 0
    for a in args:
        if isinstance(a, bool):
            if flags == 2:
                raise TypeError("to() takes at most two positional bools (non_blocking, copy)")
            if flags == 1:
                copy = a
            else:
                non_blocking = a
            flags += 1
        elif isinstance(a, Tensor):
            dtype = (<Tensor>a).get_dtype() if dtype is None else dtype
            device = (<Tensor>a)._storage.device if device is None else device
        elif isinstance(a, (device_cls, str, int)):
            if device is not None:
                raise TypeError("to() received two devices")
            device = a
        elif a is not None:
            if dtype is not None:
                raise TypeError("to() received two dtypes")
            dtype = a
    cdef object dt = None if dtype is None else as_dtype(dtype)
    cdef object dev = None if device is None else as_device(device)
    cdef int code = format_code(memory_format, "to")
    cdef Tensor out
    if code == FORMAT_CHANNELS_LAST or code == FORMAT_CHANNELS_LAST_3D:
        if (copy or (dt is not None and dt.num != self._dtype)
                or (dev is not None and dev != self._storage.device)):
            # a copy anyway: straight into the new layout, as torch
            out = new_in_format(self._ndim, self._shape,
                                self._dtype if dt is None else <int>dt.num,
                                self._storage.device if dev is None else dev, code)
            return out.copy_(self)
        return in_format(self, code)
    out = to_dtype_device(self, dt, dev, copy)
    return out if code == FORMAT_PRESERVE else in_format(out, code)


def _cpu(Tensor self):
    """This tensor on the CPU (itself when it already is)."""
    return to_dtype_device(self, None, CPU, False)


def _cuda(Tensor self, device=None, non_blocking=False):
    """This tensor on a CUDA device."""
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to_dtype_device(self, None, as_device(device), False)


def _type_as(Tensor self, other):
    """Convert to the dtype of ``other``."""
    return to_dtype_device(self, (<Tensor?>other).get_dtype(), None, False)


cdef object _dtype_method(int num, str name):
    def method(Tensor self, memory_format=None):
        if memory_format is not None:
            # Tensor.to's layout rules (what torch's .double(memory_format=...) follows)
            return self.to(dtype_of(num), memory_format=memory_format)
        return to_dtype_device(self, dtype_of(num), None, False)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Convert to ``ember.{dtype_of(num).name}``."
    return method


def _tolist(Tensor self):
    """The elements as (nested) Python lists of Python numbers."""
    if _python_value_hook is not None:
        _python_value_hook(self, "a Python list")
    if self._ndim == 0:
        return _item(self)
    arr = _to_numpy_copy(self)
    if self._dtype == EM_BFLOAT16 or self._dtype == EM_FLOAT16:
        arr = arr.astype(np.float32)
    return arr.tolist()


def _array(Tensor self, dtype=None, copy=None):
    if self._requires_grad & REQUIRES_GRAD:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                           "Use tensor.detach().numpy() instead.")
    arr = _to_numpy_copy(self) if (copy or self._storage.device.type_num != DEV_CPU) \
        else to_numpy_view(self)
    if dtype is not None and arr.dtype != np.dtype(dtype):
        if copy is False:
            raise ValueError("converting the tensor to the requested dtype needs a copy")
        arr = arr.astype(dtype)
    return arr


def _reduce_ex(Tensor self, protocol):
    cdef int d
    if self._storage.device.type_num == DEV_META:
        # no values: the layout alone, as PyTorch pickles meta tensors
        return (_rebuild_meta_tensor, (self.get_dtype().name, _shape_tuple(self),
                                       tuple([self._strides[d] for d in range(self._ndim)]),
                                       self.requires_grad))
    if self._storage.device.type_num != DEV_CPU:
        return (_rebuild_tensor, (_to_numpy_copy(self), self.get_dtype().name,
                                  str(self._storage.device), self.requires_grad))
    # the storage, shape, strides and offset, as PyTorch pickles tensors: views keep
    # their layout, and views pickled together share one storage again
    return (_rebuild_tensor_view, (self._storage, self.get_dtype().name, _shape_tuple(self),
                                   tuple([self._strides[d] for d in range(self._ndim)]),
                                   self._offset, self.requires_grad))


def _deepcopy(Tensor self, memo):
    if id(self) in memo:
        return memo[id(self)]
    cdef Tensor c = <Tensor>type(self).__new__(type(self))
    if self._storage.device.type_num == DEV_CPU:
        # same layout over a copied storage, shared by views deep-copied together
        _init_from(c, self)
        storage = memo.get(id(self._storage))
        if storage is None:
            storage = copy_storage(self._storage)
            memo[id(self._storage)] = storage
        c._storage = <Storage>storage
    else:
        _init_from(c, clone(self))
    c._requires_grad = self._requires_grad & REQUIRES_GRAD
    memo[id(self)] = c
    if self._grad is not None:
        c._grad = _deepcopy(self._grad, memo)
    if type(self) is not Tensor and hasattr(self, "__dict__"):
        import copy
        c.__dict__.update(copy.deepcopy(self.__dict__, memo))
    return c


def _copy(Tensor self):
    return self


for _name, _fn in (("numpy", _numpy), ("to", _to), ("cpu", _cpu),
                   ("cuda", _cuda), ("type_as", _type_as), ("tolist", _tolist),
                   ("__array__", _array), ("__reduce_ex__", _reduce_ex),
                   ("__deepcopy__", _deepcopy), ("__copy__", _copy)):
    _fn.__name__ = _fn.__qualname__ = _name
    _add_method(_name, _fn)
_add_method("__array_interface__", property(array_interface))
for _name, _num in (("float", EM_FLOAT32), ("double", EM_FLOAT64), ("half", EM_FLOAT16),
                    ("bfloat16", EM_BFLOAT16), ("int", EM_INT32), ("long", EM_INT64),
                    ("short", EM_INT16), ("char", EM_INT8), ("byte", EM_UINT8),
                    ("bool", EM_BOOL), ("cfloat", EM_COMPLEX64), ("cdouble", EM_COMPLEX128)):
    _add_method(_name, _dtype_method(_num, _name))
del _name, _fn, _num
