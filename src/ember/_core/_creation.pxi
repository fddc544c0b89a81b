# Creation functions.  Included by _tensor.pyx.

cdef int _dtype_num_or(object dt, int default) except -1:
    if dt is None:
        return default
    return as_dtype(dt).num


cdef Tensor _finish(Tensor t, bint requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


cdef int _fill_new(Tensor t, object value) except -1:
    """Fill a factory's own new tensor `t` (or a view of it): making its values is no
    in-place change, so its version stays 0, as in PyTorch."""
    fill(t, value)
    t._storage.version = 0
    return 0


cpdef object _out_dtype(str fname, object out, object dtype):
    """The dtype a factory makes given ``out=``: ``out``'s, which a given dtype must equal."""
    if out is None:
        return dtype
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if dtype is None:
        return (<Tensor>out).get_dtype()
    cdef int dt = as_dtype(dtype).num
    if dt != (<Tensor>out)._dtype:
        raise RuntimeError(f"dtype {TORCH_NAMES[dt]} does not match dtype of out parameter "
                           f"({TORCH_NAMES[(<Tensor>out)._dtype]})")
    return dtype


cpdef object _out_device(object out, object requested):
    """The device a factory makes given ``out=``: ``out``'s, whose type a requested one must
    have."""
    if out is None:
        return requested
    cdef device out_dev = (<Tensor>out)._storage.device
    if requested is None:
        return out_dev
    cdef device dev = as_device(requested)
    if dev.type != out_dev.type:
        raise RuntimeError(f"device type {dev.type} does not match device type of out parameter "
                           f"({out_dev.type})")
    return requested


cdef Tensor _into_out(Tensor result, object out, bint requires_grad, bint by_count=False):
    """``result``, or ``out`` holding it.  A factory resizes ``out`` without a warning, as
    PyTorch does; the ranges (`by_count`) keep ``out``'s shape when the counts agree and
    fill it in row-major order."""
    if out is None:
        return _finish(result, requires_grad)
    cdef Tensor o = <Tensor>out
    cdef int d
    cdef bint same = o._ndim == result._ndim
    for d in range(o._ndim if same else 0):
        same = same and o._shape[d] == result._shape[d]
    check_writable(o)
    if by_count and not same and o._numel == result._numel:
        result = result.reshape(_shape_tuple(o))
    else:
        resize_output(o, result._ndim, result._shape, False)
    copy_into(o, result)
    bump_version(o)
    return _finish(o, requires_grad)


def _factory_out(Tensor result, Tensor out, requires_grad=False, by_count=False):
    """:func:`_into_out` for the factories written in Python."""
    return _into_out(result, out, requires_grad, by_count)


cdef tuple _size_args(tuple size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    try:
        return tuple([operator.index(s) for s in size])
    except TypeError:
        raise TypeError(f"expected a sequence of integers for a size, got {size!r}") from None


cdef Tensor _new_from_size(tuple size, object dtype, object device):
    """A new tensor whose size is given as ints or as one sequence of ints (a factory's
    ``*size``), read straight into the shape: no intermediate tuples on this hot path."""
    cdef Py_ssize_t shape[64]
    cdef object dims = size
    cdef Py_ssize_t nd, d
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        dims = size[0]
    nd = len(dims)
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    for d in range(nd):
        s = dims[d]
        if type(s) is not int:
            try:
                s = operator.index(s)
            except TypeError:
                raise TypeError(f"expected a sequence of integers for a size, got "
                                f"{size!r}") from None
        shape[d] = s
    return new_tensor(<int>nd, shape, _dtype_num_or(dtype, default_float()),
                      as_device(default_device_arg(device)))


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False, memory_format=None):
    """A tensor of the given size with uninitialised memory.

    Examples
    --------
    >>> import ember
    >>> ember.empty(2, 3).shape
    ember.Size([2, 3])
    """
    check_layout(layout, "empty")
    cdef int code = format_code(memory_format, "empty")
    cdef Tensor t = _new_from_size(size, _out_dtype("empty", out, dtype), _out_device(out, device))
    if out is not None:
        # PyTorch's empty(out=) only resizes out: its values stay as they are
        check_writable(<Tensor>out)
        resize_output(<Tensor>out, t._ndim, t._shape, False)
        return _finish(<Tensor>out, requires_grad)
    if code == FORMAT_CHANNELS_LAST or code == FORMAT_CHANNELS_LAST_3D:
        t = new_in_format(t._ndim, t._shape, t._dtype, t._storage.device, code)
    return _finish(t, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False):
    """A tensor of the given size filled with zeros.

    Examples
    --------
    >>> import ember
    >>> ember.zeros(2)
    tensor([0., 0.])
    """
    check_layout(layout, "zeros")
    dtype, device = _out_dtype("zeros", out, dtype), _out_device(out, device)
    cdef Tensor t = _new_from_size(size, dtype, device)
    if t._storage.device.type_num == DEV_CPU:
        memset(t._storage.data, 0, t._numel * em_itemsize[t._dtype])
    else:
        _fill_new(t, 0)
    if _creation_hook is not None:
        _creation_hook("zeros", size, {"dtype": dtype, "device": device}, t)
    return _into_out(t, out, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
         pin_memory=False):
    """A tensor of the given size filled with ones.

    Examples
    --------
    >>> import ember
    >>> ember.ones(2, dtype=ember.int64)
    tensor([1, 1])
    """
    check_layout(layout, "ones")
    dtype, device = _out_dtype("ones", out, dtype), _out_device(out, device)
    cdef Tensor t = _new_from_size(size, dtype, device)
    _fill_new(t, 1)
    if _creation_hook is not None:
        _creation_hook("ones", size, {"dtype": dtype, "device": device}, t)
    return _into_out(t, out, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None,
         layout=None, pin_memory=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it when not given).

    Examples
    --------
    >>> import ember
    >>> ember.full((2,), 7)
    tensor([7, 7])
    """
    check_layout(layout, "full")
    dtype, device = _out_dtype("full", out, dtype), _out_device(out, device)
    if dtype is None:
        if isinstance(fill_value, Tensor):
            dtype = (<Tensor>fill_value).get_dtype()
        else:
            sd = scalar_dtype(fill_value)
            if sd < 0:
                raise TypeError(f"full(): fill_value must be a number, got {type(fill_value).__name__}")
            dtype = dtype_of(sd)
    cdef Tensor t = _new_from_size((size,), dtype, device)
    _fill_new(t, fill_value)
    if _creation_hook is not None:
        _creation_hook("full", (size, fill_value), {"dtype": dtype, "device": device}, t)
    return _into_out(t, out, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False,
                  layout=None, pin_memory=False):
    """An uninitialised tensor with the given sizes and strides (in elements)."""
    check_layout(layout, "empty_strided")
    cdef tuple sz = _size_args((size,)), st = tuple([operator.index(s) for s in stride])
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t extent = 1
    cdef int nd = len(sz), d
    cdef int dt = _dtype_num_or(dtype, default_float())
    if len(st) != nd:
        raise RuntimeError(f"mismatch in length of strides and shape: {nd} sizes, {len(st)} strides")
    if nd > EM_MAX_DIMS:
        raise RuntimeError(f"ember supports at most {EM_MAX_DIMS} dimensions, got {nd}")
    for d in range(nd):
        shape[d] = sz[d]
        strides[d] = st[d]
        if st[d] < 0:
            raise RuntimeError(f"empty_strided: negative strides are not supported, got {st[d]}")
    if _checked_numel(nd, shape) > 0:
        # Python integers, so that huge strides cannot wrap around
        span = 1 + sum([st[d] * (sz[d] - 1) for d in range(nd)])
        if span * em_itemsize[dt] > PY_SSIZE_T_MAX:
            raise RuntimeError(f"empty_strided: sizes {list(sz)} and strides {list(st)} need "
                               f"{span} elements, more than can be addressed")
        extent = span
    else:
        extent = 0
    cdef Tensor t = Tensor.__new__(Tensor)
    set_dims(t, nd, shape, strides)
    t._storage = new_storage(extent * em_itemsize[dt], as_device(default_device_arg(device)))
    t._dtype = dt
    return _finish(t, requires_grad)


cdef Tensor _like(Tensor t, object dtype, object device_arg, object fmt, str fname):
    """An uninitialised tensor shaped like `t`, of `t`'s dtype and device unless given, in
    memory format `fmt`: by default `t`'s dimension order when `t` is dense (PyTorch's
    preserve_format)."""
    cdef int dt = _dtype_num_or(dtype, t._dtype)
    cdef device dev = t._storage.device if device_arg is None else as_device(device_arg)
    cdef int code = format_code(fmt, fname)
    if code == FORMAT_CHANNELS_LAST or code == FORMAT_CHANNELS_LAST_3D:
        return new_in_format(t._ndim, t._shape, dt, dev, code)
    if code == FORMAT_PRESERVE:
        return new_like_layout_on(t, dt, dev)
    return new_tensor(t._ndim, t._shape, dt, dev)


def empty_like(Tensor input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None):
    """An uninitialised tensor shaped like ``input`` (same dtype, device and layout unless given)."""
    check_layout(layout, "empty_like")
    return _finish(_like(input, dtype, device, memory_format, "empty_like"), requires_grad)


def zeros_like(Tensor input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None):
    """Zeros shaped like ``input``."""
    check_layout(layout, "zeros_like")
    cdef Tensor t = _like(input, dtype, device, memory_format, "zeros_like")
    _fill_new(t, 0)
    if _creation_hook is not None:
        _creation_hook("zeros_like", (input,), {"dtype": t.get_dtype()}, t)
    return _finish(t, requires_grad)


def ones_like(Tensor input, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    """Ones shaped like ``input``."""
    check_layout(layout, "ones_like")
    cdef Tensor t = _like(input, dtype, device, memory_format, "ones_like")
    _fill_new(t, 1)
    if _creation_hook is not None:
        _creation_hook("ones_like", (input,), {"dtype": t.get_dtype()}, t)
    return _finish(t, requires_grad)


def full_like(Tensor input, fill_value, *, dtype=None, device=None, requires_grad=False,
              layout=None, memory_format=None):
    """``fill_value`` in the shape of ``input``."""
    check_layout(layout, "full_like")
    cdef Tensor t = _like(input, dtype, device, memory_format, "full_like")
    _fill_new(t, fill_value)
    if _creation_hook is not None:
        _creation_hook("full_like", (input, fill_value), {"dtype": t.get_dtype()}, t)
    return _finish(t, requires_grad)


# Ranges are built through NumPy: refuse sizes that no memory could hold before asking it.
_MAX_RANGE = 2**48


cdef object _numpy_range(Py_ssize_t n, object np_dtype):
    """np.arange(n), with a failed allocation reported as RuntimeError like ember's own."""
    try:
        return np.arange(n, dtype=np_dtype)
    except MemoryError:
        raise RuntimeError(f"can't allocate memory for a range of {n} elements") from None


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None,
           layout=None, pin_memory=False):
    """Values from ``start`` to ``end`` (exclusive) spaced by ``step``.

    The dtype is int64 when every argument is an integer, else the default float dtype.

    Examples
    --------
    >>> import ember
    >>> ember.arange(5)
    tensor([0, 1, 2, 3, 4])
    >>> ember.arange(1, 2.5, 0.5)
    tensor([1.0000, 1.5000, 2.0000])
    """
    check_layout(layout, "arange")
    dtype, device = _out_dtype("arange", out, dtype), _out_device(out, device)
    if end is None:
        start, end = 0, start
    for v in (start, end, step):
        if isinstance(v, Tensor):
            pass
        elif scalar_dtype(v) < 0 or isinstance(v, complex):
            raise TypeError(f"arange(): expected real numbers, got {v!r}")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    step = step.item() if isinstance(step, Tensor) else step
    import math
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    # bools count as integers, as in PyTorch
    all_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    if dtype is None:
        dtype = dtype_of(EM_INT64) if all_int else dtype_of(default_float())
    dt = as_dtype(dtype)
    if dt.num == EM_BOOL or em_category[dt.num] == 3:
        raise NotImplementedError(f'"arange" not implemented for \'{dt}\'')
    n = None
    if em_category[dt.num] == 1 and not all_int:
        # PyTorch steps integer ranges with the bounds and step cast to integers; it counts
        # the elements from those for int64 and from the original values otherwise
        if dt.num != EM_INT64 and step != 0:
            n = max(0, math.ceil((float(end) - float(start)) / float(step)))
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if isinstance(start, int) and isinstance(end, int) and isinstance(step, int):
        if n is None:
            n = max(0, -((start - end) // step))
        if n > _MAX_RANGE:
            raise RuntimeError(f"invalid size, possible overflow?: arange({start}, {end}, {step}) "
                               f"would have {n} elements")
        vals = start + _numpy_range(n, np.int64) * step
    else:
        n = max(0, math.ceil((float(end) - float(start)) / float(step)))
        if n > _MAX_RANGE:
            raise RuntimeError(f"invalid size, possible overflow?: arange({start}, {end}, {step}) "
                               f"would have {n} elements")
        vals = _numpy_range(n, np.float64) * float(step) + float(start)
    result = tensor_from_numpy_values(vals, dt.num, as_device(default_device_arg(device)))
    if _creation_hook is not None:
        _creation_hook("arange", (start, end, step), {"dtype": dtype, "device": device}, result)
    if out is not None and (<Tensor>out)._numel not in (0, n):
        warnings.warn(f"The number of elements in the out tensor of shape {list(out.shape)} is "
                      f"{out.numel()} which does not match the computed number of elements {n}. "
                      f"Note that this may occur as a result of rounding error. The out tensor "
                      f"will be resized to a tensor of shape ({n},).", UserWarning)
    return _into_out(result, out, requires_grad, True)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None,
             layout=None, pin_memory=False):
    """``steps`` values evenly spaced from ``start`` to ``end`` inclusive.

    Examples
    --------
    >>> import ember
    >>> ember.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    check_layout(layout, "linspace")
    dtype, device = _out_dtype("linspace", out, dtype), _out_device(out, device)
    cdef Py_ssize_t n = operator.index(steps)
    if n < 0:
        raise RuntimeError("number of steps must be non-negative")
    if n > _MAX_RANGE:
        raise RuntimeError(f"linspace: {n} steps is more than can be held in memory")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if dtype is None:
        is_c = isinstance(start, complex) or isinstance(end, complex)
        dtype = dtype_of(complex_of(default_float()) if is_c else default_float())
    dt = as_dtype(dtype)
    if dt.num == EM_BOOL:
        raise NotImplementedError(f'"linspace" not implemented for \'{dt}\'')
    if em_category[dt.num] <= 1:
        start, end = int(start), int(end)       # as PyTorch: integer bounds (truncated)
    # PyTorch fills the first half from start and the second half from end
    idx = _numpy_range(n, np.float64)
    step = (end - start) / (n - 1) if n > 1 else 0
    half = n // 2
    vals = np.where(idx < half, start + step * idx, end - step * (n - 1 - idx)) if n > 1 else \
        np.full(n, start, dtype=np.complex128 if isinstance(start, complex) else np.float64)
    if em_category[dt.num] <= 1:
        vals = np.trunc(np.real(vals)) if not np.iscomplexobj(vals) else vals
    return _into_out(tensor_from_numpy_values(vals, dt.num, as_device(default_device_arg(device))),
                     out, requires_grad, True)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None,
        pin_memory=False):
    """A 2-D tensor with ones on the diagonal and zeros elsewhere.

    Examples
    --------
    >>> import ember
    >>> ember.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    check_layout(layout, "eye")
    dtype, device = _out_dtype("eye", out, dtype), _out_device(out, device)
    cdef Py_ssize_t rows = operator.index(n), cols = rows if m is None else operator.index(m)
    if rows < 0 or cols < 0:
        raise RuntimeError(f"n and m must be non-negative, got {rows} and {cols}")
    cdef Tensor t = zeros(rows, cols, dtype=dtype, device=device)
    _fill_new(diagonal(t, 0, 0, 1), 1)
    return _into_out(t, out, requires_grad)


cdef Tensor tensor_from_numpy_values(object arr, int dt, device dev):
    """A new tensor of dtype `dt` holding a copy of NumPy array `arr`'s values."""
    cdef Tensor src = from_numpy_any(np.ascontiguousarray(arr))
    cdef Tensor out = new_tensor(src._ndim, src._shape, dt, CPU)
    copy_into(out, src)
    if dev.type_num != DEV_CPU:
        return to_dtype_device(out, None, dev, False)
    return out


cdef int _infer_list_dtype(object arr) except -1:
    kind = arr.dtype.kind
    if kind == "b":
        return EM_BOOL
    if kind in "iu":
        return EM_INT64
    if kind == "f":
        return default_float()
    if kind == "c":
        return complex_of(default_float())
    raise TypeError(f"Could not infer dtype of {arr.dtype}")


cdef Tensor tensor_from_data(object data, dtype dt, object device_arg):
    """A new tensor holding a copy of `data` (tensor, array, scalar or nested sequence)."""
    device_arg = default_device_arg(device_arg)
    cdef device dev = as_device(device_arg) if device_arg is not None else None
    cdef int target
    if isinstance(data, Tensor):
        t = <Tensor>data
        return to_dtype_device(clone(t) if dt is None or dt.num == t._dtype else t, dt, dev, False)
    if isinstance(data, np.ndarray):
        src = from_numpy_any(data)
        out = clone(src) if dt is None or dt.num == src._dtype else to_dtype_device(src, dt, None, False)
        if out._storage is src._storage:
            out = clone(src)
        return to_dtype_device(out, None, dev, False) if dev is not None else out
    sd = scalar_dtype(data)
    if sd >= 0:
        target = sd if dt is None else dt.num
        if dt is None and isinstance(data, np.generic):
            # a NumPy scalar keeps its dtype, as in PyTorch
            target = _NP_SUPPORTED.get(data.dtype, sd)
        if em_category[target] == 1:
            check_scalar_fits(target, data)
        if type(data) in (float, int, bool, complex):
            return scalar_tensor(data, target, CPU if dev is None else dev)
        return scalar_tensor(data.item() if hasattr(data, "item") else data, target,
                             CPU if dev is None else dev)
    if hasattr(data, "__dlpack__") and not isinstance(data, (list, tuple)):
        from ember._core._dlpack import from_dlpack
        return tensor_from_data(from_dlpack(data), dt, device_arg)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    cdef int inferred = -1
    values = _unwrap_tensors(data, &inferred)
    try:
        arr = np.array(values)
    except ValueError as e:
        raise ValueError(f"could not build a tensor from ragged nested sequences: {e}") from None
    if dt is not None and dt.num == EM_UINT64 and arr.dtype.kind in "fO":
        # NumPy gives float64 (or objects) for ints past int64 among smaller ones: be exact
        try:
            arr = np.array(values, dtype=np.uint64)
        except (OverflowError, TypeError, ValueError):
            pass
    if arr.dtype == object or arr.dtype.kind in "USVO":
        leaf = _first_non_number(data)
        if leaf is _ALL_NUMBERS:  # integers beyond 64 bits
            raise RuntimeError("value cannot be converted to type int64 without overflow")
        if isinstance(leaf, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(leaf).__name__}'")
        raise RuntimeError(f"Could not infer dtype of {type(leaf).__name__}")
    if dt is not None:
        target = dt.num
    elif inferred >= 0:
        target = inferred
    else:  # no leaves, or a NumPy dtype ember lacks (uint16...): NumPy's kind decides
        target = _infer_list_dtype(arr)
    if em_category[target] == 1:
        _check_list_fits(arr, target)
    return tensor_from_numpy_values(arr, target, CPU if dev is None else dev)


cdef int _check_list_fits(object arr, int target) except -1:
    """PyTorch refuses Python numbers that overflow an integer dtype in tensor(data)."""
    if arr.size == 0 or arr.dtype.kind == "b":
        return 0
    if target == EM_INT64 and arr.dtype == np.int64:
        # NumPy only picks int64 when every value fits it (uint64 or objects past it):
        # skip the two reductions, most of the cost of a small list like tensor([[a]])
        return 0
    if arr.dtype.kind == "c":
        raise TypeError("'complex' object cannot be interpreted as an integer")
    lo, hi = INT_LIMITS[target]
    if arr.dtype.kind in "iu" and target == EM_UINT8:
        lo = -255  # negative values wrap, as in PyTorch
    vmin, vmax = arr.min(), arr.max()
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        vmin = vmax = float("nan")
    for v in (vmin, vmax):
        v = v.item() if isinstance(v, np.generic) else v
        if not (lo <= v <= hi):  # NaN fails too
            raise RuntimeError(f"value cannot be converted to type {dtype_of(target)} without "
                               f"overflow: {v}")
    return 0


cdef object _ALL_NUMBERS = object()


cdef object _first_non_number(object data):
    """The first element of nested sequences `data` that is neither a number nor a tensor."""
    if isinstance(data, (list, tuple)):
        for x in data:
            leaf = _first_non_number(x)
            if leaf is not _ALL_NUMBERS:
                return leaf
        return _ALL_NUMBERS
    if isinstance(data, Tensor) or scalar_dtype(data) >= 0:
        return _ALL_NUMBERS
    return data


cdef object _unwrap_tensors(object data, int *inferred):
    """`data` with its tensors as nested lists. `inferred` gathers the dtype PyTorch
    infers for it: the promotion of its leaves' dtypes, where NumPy scalars and arrays
    and tensors keep theirs (a list of np.float64 gives float64) and Python numbers
    are bool, int64 or the default float dtype. It stays -1 without leaves and becomes
    -2 for good at a NumPy dtype ember lacks."""
    cdef int leaf
    if isinstance(data, (list, tuple)):
        return [_unwrap_tensors(x, inferred) for x in data]
    if isinstance(data, Tensor):
        # a tensor inside a sequence is a scalar, as in PyTorch
        if (<Tensor>data)._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        leaf = (<Tensor>data)._dtype
        data = (<Tensor>data).item()
    elif isinstance(data, (np.ndarray, np.generic)):
        leaf = _NP_SUPPORTED.get(data.dtype, -2)
    else:
        leaf = scalar_dtype(data)
    if leaf == -2 or inferred[0] == -2:
        inferred[0] = -2
    elif leaf >= 0:
        inferred[0] = leaf if inferred[0] < 0 else promote_nums(inferred[0], leaf)
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``.

    ``data`` may be a Python number, a nested sequence, a NumPy array or a tensor.
    Unless ``dtype`` is given, the dtype is inferred as PyTorch does: Python bools,
    ints, floats and complex numbers count as bool, int64, the default float dtype
    and the default complex dtype, NumPy scalars and arrays and tensors as their own
    dtypes, and a sequence takes the promotion of its elements' dtypes.

    Examples
    --------
    >>> import ember
    >>> ember.tensor([[1., 2.]], dtype=ember.float64)
    tensor([[1., 2.]], dtype=ember.float64)
    """
    dt = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "ember.tensor(sourceTensor).", UserWarning, stacklevel=2)
    return _finish(tensor_from_data(data, dt, device), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is one (or a NumPy array) of the right dtype and device."""
    dt = None if dtype is None else as_dtype(dtype)
    device = default_device_arg(device)
    dev = None if device is None else as_device(device)
    if isinstance(data, Tensor):
        return to_dtype_device(<Tensor>data, dt, dev, False)
    if isinstance(data, np.ndarray) and data.dtype in _NP_SUPPORTED:
        return to_dtype_device(from_numpy_any(data), dt, dev, False)
    return tensor_from_data(data, dt, device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor, sharing memory where possible (unless ``copy=True``).

    Accepts tensors, NumPy arrays, objects with ``__dlpack__`` or the buffer
    protocol, Python numbers and nested sequences.  ``copy=False`` raises when a
    copy cannot be avoided.
    """
    dt = None if dtype is None else as_dtype(dtype)
    device = default_device_arg(device)
    dev = None if device is None else as_device(device)
    shared = None
    if isinstance(obj, Tensor):
        shared = <Tensor>obj
    elif isinstance(obj, np.ndarray) and obj.dtype in _NP_SUPPORTED:
        shared = from_numpy_any(obj)
    elif hasattr(obj, "__dlpack__"):
        from ember._core._dlpack import from_dlpack
        shared = from_dlpack(obj)
    elif not isinstance(obj, (list, tuple, str, bytes)) and scalar_dtype(obj) < 0:
        try:
            view = memoryview(obj)
        except TypeError:
            view = None
        if view is not None:
            shared = from_numpy_any(np.asarray(view))
    if shared is not None:
        if copy:
            out = tensor_from_data(shared, dt, dev)
        else:
            out = to_dtype_device(shared, dt, dev, False)
            if copy is False and (<Tensor>out)._storage is not (<Tensor>shared)._storage:
                raise ValueError("asarray(copy=False): a copy is needed to convert to the "
                                 "requested dtype or device")
    else:
        if copy is False:
            raise ValueError(f"asarray(copy=False): cannot share memory with a {type(obj).__name__}")
        out = tensor_from_data(obj, dt, dev)
    return _finish(out, requires_grad)
