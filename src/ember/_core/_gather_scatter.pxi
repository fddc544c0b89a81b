# The index ops: advanced getitem/setitem entry points, index_put, index_select,
# gather, scatter, scatter_add, masked_fill and nonzero.  Included by _index.pyx.

# ---------------------------------------------------------------- advanced indexing

def advanced_getitem(Tensor self not None, index):
    """``self[index]`` for an index holding advanced items (the Tensor getitem hook).

    Basic items (ints, slices, None, Ellipsis, integer scalars and 0-dim integer
    tensors) make a view; integer tensors, lists, arrays, boolean masks and
    True/False then select a copy.  The broadcast shape of the index tensors
    replaces the indexed dimensions where they are adjacent, else it goes first.

    Parameters
    ----------
    self : Tensor
    index : object
        The index as written: a tuple, or one item (a short list holding
        sequences, slices, None or Ellipsis reads as a tuple, as in PyTorch).

    Returns
    -------
    Tensor
        A view when the index holds no advanced item, else a new tensor.
    """
    cdef _Parsed parsed = _parse(self, _index_tuple(index))
    if not parsed.indices:
        return parsed.view
    return _gather_plan(_plan(parsed.view, parsed.dims, parsed.indices))


def advanced_setitem(Tensor self not None, index, value, accumulate=False):
    """``self[index] = value`` for an index holding advanced items (the Tensor setitem hook).

    Parameters
    ----------
    self : Tensor
    index : object
        As for :func:`advanced_getitem`.
    value : Tensor, array, list or number
        Converted to ``self``'s dtype and broadcast to the indexing result
        (leading size-1 dimensions may be dropped).  With repeated indices the
        last write wins.
    accumulate : bool, optional
        Add ``value`` instead of writing it; repeated indices then sum (the
        backward of indexing uses this).
    """
    _check_writable(self)
    cdef _Parsed parsed = _parse(self, _index_tuple(index))
    if parsed.indices:
        _warn_expanded(self, "index_put_", "tensor[indices] = tensor")
    cdef _Plan plan
    if not parsed.indices:
        if accumulate:
            parsed.view.add_(value)
        else:
            parsed.view.copy_(value)
        return
    plan = _plan(parsed.view, parsed.dims, parsed.indices)
    _scatter_plan(plan, _values_for(self, value, plan.nd, plan.shape), accumulate)
    _bump_version(self)


cdef tuple _index_tensors(indices):
    # the tensors among index_put's indices (the tracer marks those computed from its inputs)
    if isinstance(indices, (tuple, list)):
        return tuple(i for i in indices if isinstance(i, Tensor))
    return ()


def index_put_(Tensor self not None, indices, values, accumulate=False):
    """Put ``values`` into ``self`` at ``indices``, in place.

    Parameters
    ----------
    self : Tensor
    indices : tuple of Tensor
        One index tensor (int64, int32 or a boolean mask) per leading dimension of
        ``self``; ``None`` leaves a dimension whole.  They broadcast together.
    values : Tensor
        Values of ``self``'s dtype, broadcast to the indexing result.
    accumulate : bool, optional
        Add the values instead of writing them; repeated indices then sum.

    Returns
    -------
    Tensor
        ``self``.

    Examples
    --------
    >>> import ember
    >>> ember.zeros(3).index_put_((ember.tensor([0, 0, 2]),), ember.tensor(1.), accumulate=True)
    tensor([2., 0., 1.])
    """
    if _records_any((self, values)) or _records_any(_index_tensors(indices)):
        return record_op("index_put_", index_put_, (self, indices, values, accumulate), None)
    cdef list dims = [], items = []
    cdef int pos = 0
    cdef Tensor t, v
    cdef _Plan plan
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put_(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    v = _tensor_arg(values, "index_put_", "values")
    if v._dtype != self._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_TYPE_NAMES[self._dtype]} for the destination and "
                           f"{_TYPE_NAMES[v._dtype]} for the source.")
    _check_writable(self)
    for i, item in enumerate(indices):
        if item is None:
            pos += 1
            continue
        if not isinstance(item, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(item).__name__}")
        t = <Tensor>item
        if t._dtype == EM_UINT8:
            t = _warn_uint8_mask(t)
        if t._dtype == EM_BOOL:
            if t._ndim == 0:
                raise IndexError("index_put_(): a 0-dim boolean index is not supported; "
                                 "use self[mask] = values")
        elif t._dtype != EM_INT64 and t._dtype != EM_INT32:
            raise IndexError(_INDEX_DTYPE_ERROR)
        dims.append(pos)
        items.append(t)
        pos += t._ndim if t._dtype == EM_BOOL else 1
    if pos > self._ndim:
        raise IndexError(f"too many indices for tensor of dimension {self._ndim} (got {pos})")
    if not items:
        raise RuntimeError("index_put_(): expected at least one index tensor")
    _warn_expanded(self, "index_put_", "tensor[indices] = tensor")
    plan = _plan(self, dims, items)
    _scatter_plan(plan, _values_for(self, v, plan.nd, plan.shape), bool(accumulate))
    _bump_version(self)
    return self


def index_put(Tensor input not None, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` put at ``indices`` (out-of-place :func:`index_put_`).

    Parameters
    ----------
    input : Tensor
    indices : tuple of Tensor
    values : Tensor
    accumulate : bool, optional

    Returns
    -------
    Tensor
    """
    if autocast_mode():
        return autocast_op("index_put", index_put, (input, indices, values, accumulate), None)
    if _records_any((input, values)) or _records_any(_index_tensors(indices)):
        return record_op("index_put", index_put, (input, indices, values, accumulate), None)
    return index_put_(_copy_of(input, input._dtype), indices, values, accumulate)


# ---------------------------------------------------------------- index_select and gather

cdef int _check_index_dtype(Tensor index, str op, str expected) except -1:
    if index._dtype != EM_INT64 and index._dtype != EM_INT32:
        raise RuntimeError(f"{op}(): Expected dtype {expected} for index")
    return 0


def index_select(Tensor input not None, dim, Tensor index not None, *, out=None):
    """The entries of ``input`` at positions ``index`` along ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor
        A vector (or scalar) of int64 or int32 positions in ``[0, input.size(dim))``.
    out : Tensor, optional

    Returns
    -------
    Tensor
        ``input``'s shape with ``dim`` of size ``index.numel()``.

    Examples
    --------
    >>> import ember
    >>> x = ember.arange(6).reshape(2, 3)
    >>> ember.index_select(x, 1, ember.tensor([2, 0]))
    tensor([[2, 0],
            [5, 3]])
    """
    if _records_any((input, index)):
        return record_op("index_select", index_select, (input, dim, index), {"out": out})
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t n = index._numel
    cdef em_iter it
    cdef em_index_ctx ctx
    cdef Tensor result
    cdef device dev = input._storage.device
    _check_same_device(input, index, "index_select")
    _check_index_dtype(index, "index_select", "int32 or int64")
    if index._ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input._ndim == 0 and n != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {n} "
                           f"value(s)")
    memcpy(shape, input._shape, input._ndim * sizeof(Py_ssize_t))
    if input._ndim:
        shape[d] = n
    result = new_tensor(input._ndim, shape, input._dtype, dev)
    if result._numel:
        it.nop = 3
        it.ndim = input._ndim
        memcpy(it.shape, shape, input._ndim * sizeof(Py_ssize_t))
        _tensor_strides(result, strides)
        _set_operand(&it, 0, _data(result), strides)
        _tensor_strides(input, strides)
        if input._ndim:
            strides[d] = 0
        _set_operand(&it, 1, _data(input), strides)
        memset(strides, 0, sizeof(strides))
        if input._ndim and index._ndim:
            strides[d] = index._strides[0] * em_itemsize[index._dtype]
        _set_operand(&it, 2, _data(index), strides)
        _init_ctx(&ctx, input._shape[d] if input._ndim else 1,
                  input._strides[d] * em_itemsize[input._dtype] if input._ndim else 0, False)
        _run_on(dev, &it,
                em_gather_loops[_index_type(index)][em_size_class(em_itemsize[input._dtype])],
                &ctx, False, _gpu_kernel(dev, "gather", input, index, False, "index_select"),
                &ctx, False)
        if ctx.error:
            raise IndexError("index out of range in self")
    return _finish_out(result, out, "index_select")


cdef object _finish_out(Tensor result, object out, str op):
    if out is None:
        return result
    cdef Tensor o = _tensor_arg(out, op, "out")
    _resize_out(o, result._ndim, result._shape, result._dtype, op)
    copy_into(o, result)
    _bump_version(o)
    return o


cdef int _check_gather_shapes(Tensor self, int d, Tensor index, Tensor src, str op) except -1:
    """PyTorch's shape rules for gather/scatter: index no larger than self (except along
    `d`) and than src (`src` None for gather and scalar scatters)."""
    cdef int k, n = max(self._ndim, 1)
    cdef bint too_big = False
    if max(index._ndim, 1) != n:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if op == 'gather' else 'self'} tensor")
    if src is not None and max(src._ndim, 1) != max(index._ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for k in range(index._ndim):
        if self._ndim and k != d and index._shape[k] > self._shape[k]:
            if op == "gather":
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{_sizes(index)} to be no larger than self {_sizes(self)} "
                                   f"apart from dimension {d}")
            too_big = True
        if src is not None and src._ndim and index._shape[k] > src._shape[k]:
            too_big = True
    if too_big:
        msg = (f"Expected index {_sizes(index)} to be no larger than self {_sizes(self)} apart "
               f"from dimension {d}")
        if src is not None:
            msg += f" and to be no larger size than src {_sizes(src)}"
        raise RuntimeError(msg)
    return 0


cdef int _index_iter(em_iter *it, Tensor self, int d, Tensor index, em_index_ctx *ctx) except -1:
    """Iteration over `index`'s shape: operand 0 walks `self` with a zero stride along `d`,
    operand 2 walks `index`; the context steps along `d` (operand 1 is left to the caller)."""
    cdef Py_ssize_t strides[64]
    cdef int k
    it.nop = 3
    it.ndim = index._ndim
    memcpy(it.shape, index._shape, index._ndim * sizeof(Py_ssize_t))
    for k in range(index._ndim):
        if k == d or self._ndim == 0:
            strides[k] = 0
        else:
            strides[k] = self._strides[k] * em_itemsize[self._dtype]
    _set_operand(it, 0, _data(self), strides)
    _tensor_strides(index, strides)
    _set_operand(it, 2, _data(index), strides)
    _init_ctx(ctx, self._shape[d] if self._ndim else 1,
              self._strides[d] * em_itemsize[self._dtype] if self._ndim else 0, False)
    return 0


def gather(Tensor input not None, dim, Tensor index not None, *, sparse_grad=False, out=None):
    """Values of ``input`` along ``dim`` at positions ``index``.

    ``out[i][j][k] = input[index[i][j][k]][j][k]`` for ``dim=0`` (and so on).

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor
        int64 or int32 positions in ``[0, input.size(dim))``, with ``input``'s number
        of dimensions and no larger than ``input`` except along ``dim``.
    sparse_grad : bool, optional
        Accepted for PyTorch compatibility; gradients are dense.
    out : Tensor, optional

    Returns
    -------
    Tensor
        ``index``'s shape, ``input``'s dtype.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1, 2], [3, 4]])
    >>> ember.gather(x, 1, ember.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]])
    """
    if _records_any((input, index)):
        return record_op("gather", gather, (input, dim, index), {"out": out})
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Py_ssize_t strides[64]
    cdef em_iter it
    cdef em_index_ctx ctx
    cdef device dev = input._storage.device
    _check_same_device(input, index, "gather")
    _check_index_dtype(index, "gather", "int32/int64")
    _check_gather_shapes(input, d, index, None, "gather")
    cdef Tensor result = new_tensor(index._ndim, index._shape, input._dtype, dev)
    if result._numel:
        # gather is a scatter's mirror: operand 0 is the output here, the input moves to 1
        _index_iter(&it, input, d, index, &ctx)
        it.data[1] = it.data[0]
        memcpy(it.strides[1], it.strides[0], it.ndim * sizeof(Py_ssize_t))
        _tensor_strides(result, strides)
        _set_operand(&it, 0, _data(result), strides)
        _run_on(dev, &it,
                em_gather_loops[_index_type(index)][em_size_class(em_itemsize[input._dtype])],
                &ctx, False, _gpu_kernel(dev, "gather", input, index, False, "gather"), &ctx,
                False)
        if ctx.error:
            raise RuntimeError(f"index {_index_text(&ctx)} is out of bounds for dimension {d} "
                               f"with size {ctx.size}")
    return _finish_out(result, out, "gather")


# ---------------------------------------------------------------- scatter

# the index kernels of scatter's reductions (kernels/index.cu.in)
cdef dict _SCATTER_KERNELS = {"add": "scatter_add", "multiply": "scatter_mul",
                              "amax": "scatter_max", "amin": "scatter_min"}


cdef int _scatter_into(Tensor self, int d, Tensor index, object src, str reduce, str op) except -1:
    """The in-place scatter behind scatter_, scatter_add_ and their out-of-place forms."""
    cdef Tensor s = None
    cdef Py_ssize_t strides[64]
    cdef em_iter it
    cdef em_index_ctx ctx
    cdef int it_type, sc = em_size_class(em_itemsize[self._dtype])
    cdef em_loop_fn fn
    cdef device dev = self._storage.device
    cdef str kind = "scatter" if reduce is None else _SCATTER_KERNELS[reduce]
    _check_same_device(self, index, op)
    _check_index_dtype(index, "scatter", "int32/int64")
    if isinstance(src, Tensor):
        s = <Tensor>src
        _check_same_device(self, s, op)
        if s._dtype != self._dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_gather_shapes(self, d, index, s, "scatter")
    _check_writable(self)
    _check_no_internal_overlap(self)
    if index._numel == 0:
        return 0
    _check_indices(index, self._shape[d] if self._ndim else 1, False, &ctx)
    if ctx.error:
        raise RuntimeError(f"index {_index_text(&ctx)} is out of bounds for dimension {d} with "
                           f"size {ctx.size}")
    if s is None:
        s = _on(_scalar_tensor(src, self._dtype), dev)
    elif _shares_memory(s, self):
        s = _copy_of(s, s._dtype)
    if _shares_memory(index, self):
        index = _copy_of(index, index._dtype)
    _index_iter(&it, self, d, index, &ctx)
    if s._ndim:
        _tensor_strides(s, strides)
    else:
        memset(strides, 0, sizeof(strides))
    _set_operand(&it, 1, _data(s), strides)
    it_type = _index_type(index)
    if reduce is None:
        fn = em_scatter_loops[it_type][sc]
    elif reduce == "add":
        fn = em_scatter_add_loops[it_type][self._dtype]
    elif reduce == "amax":
        fn = em_scatter_max_loops[it_type][self._dtype]
    elif reduce == "amin":
        fn = em_scatter_min_loops[it_type][self._dtype]
    else:
        fn = em_scatter_mul_loops[it_type][self._dtype]
    _run_on(dev, &it, fn, &ctx, True, _gpu_kernel(dev, kind, self, index, False, op), &ctx,
            False, True)
    _bump_version(self)
    return 0


_SCATTER_REDUCE_LOOPS = {"sum": "add", "prod": "multiply", "amax": "amax", "amin": "amin"}


def _scatter_reduce_into(Tensor self not None, dim, Tensor index not None, Tensor src not None,
                         str reduce):
    """``self[index[i][j]][j] = reduce(self[...], src[i][j])`` (for dim 0) in place, with
    ``reduce`` one of sum, prod, amax, amin; no recording (scatter_reduce's kernel)."""
    _scatter_into(self, wrap_dim(dim, self._ndim), index, src, _SCATTER_REDUCE_LOOPS[reduce],
                  "scatter_reduce")
    return self


cdef str _check_reduce(object reduce, object src):
    if reduce is None:
        return None
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(src, Tensor):
        warnings.warn("The reduce argument of scatter with Tensor src is deprecated and will be "
                      "removed in a future release. Use scatter_reduce instead for more "
                      "reduction options.", UserWarning)
    return reduce


cdef object _scatter_source(object src, object value):
    """The tensor or number to scatter, from scatter's ``src``/``value`` arguments."""
    if value is not None:
        if src is not None:
            raise TypeError("scatter(): pass either src or value, not both")
        src = value
    if src is None:
        raise TypeError("scatter(): missing the src (Tensor) or value (number) argument")
    if isinstance(src, Tensor):
        return src
    if not _is_number(src):
        raise TypeError(f"scatter(): src must be a Tensor or a number, not {type(src).__name__}")
    return src


def scatter_(Tensor self not None, dim, Tensor index not None, src=None, *, value=None,
             reduce=None):
    """Write ``src`` (a tensor, or the number ``value``) into ``self`` at ``index`` along ``dim``.

    ``self[index[i][j]][j] = src[i][j]`` for ``dim=0`` (and so on).  ``reduce='add'``
    or ``'multiply'`` combines with the existing values instead.

    Parameters
    ----------
    self : Tensor
    dim : int
    index : Tensor
        int64 or int32 positions in ``[0, self.size(dim))``, with ``self``'s number of
        dimensions, no larger than ``src`` and than ``self`` except along ``dim``.
    src : Tensor or number
        Values of ``self``'s dtype (or one number, as ``value``).
    value : number, optional
    reduce : {'add', 'multiply'}, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if _records_any((self, index, src)):
        return record_op("scatter_", scatter_, (self, dim, index, src), {"value": value, "reduce": reduce})
    src = _scatter_source(src, value)
    cdef str how = _check_reduce(reduce, src)
    _scatter_into(self, wrap_dim(dim, self._ndim), index, src, how, "scatter_")
    return self


def scatter(Tensor input not None, dim, Tensor index not None, src=None, *, value=None,
            reduce=None, out=None):
    """A copy of ``input`` with ``src`` scattered into it (out-of-place :func:`scatter_`).

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor
    src : Tensor or number
    value : number, optional
    reduce : {'add', 'multiply'}, optional
    out : Tensor, optional
        Where to write the result (returned): of ``input``'s dtype, resized to its shape.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.scatter(ember.zeros(2, 3), 1, ember.tensor([[2], [0]]), 5.0)
    tensor([[0., 0., 5.],
            [5., 0., 0.]])
    """
    if out is not None:
        from ember._core._reduce import _with_out
        return _with_out("scatter", out, "same", scatter, (input, dim, index, src),
                         {"value": value, "reduce": reduce}, (input, src))
    if _records_any((input, index, src)):
        return record_op("scatter", scatter, (input, dim, index, src), {"value": value, "reduce": reduce})
    src = _scatter_source(src, value)
    cdef str how = _check_reduce(reduce, src)
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Tensor result = _copy_of(input, input._dtype)
    _scatter_into(result, d, index, src, how, "scatter")
    return result


def scatter_add_(Tensor self not None, dim, Tensor index not None, Tensor src not None):
    """Add ``src`` into ``self`` at ``index`` along ``dim``; repeated indices sum.

    Parameters
    ----------
    self : Tensor
    dim : int
    index : Tensor
        As for :func:`scatter_`.
    src : Tensor
        Values of ``self``'s dtype.

    Returns
    -------
    Tensor
        ``self``.
    """
    if _records_any((self, index, src)):
        return record_op("scatter_add_", scatter_add_, (self, dim, index, src), None)
    _scatter_into(self, wrap_dim(dim, self._ndim), index, src, "add", "scatter_add_")
    return self


def scatter_add(Tensor input not None, dim, Tensor index not None, Tensor src not None, *,
                out=None):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (see :func:`scatter_add_`).

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor
    src : Tensor
    out : Tensor, optional
        Where to write the result (returned): of ``input``'s dtype, resized to its shape.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.scatter_add(ember.zeros(3), 0, ember.tensor([0, 0, 2]), ember.ones(3))
    tensor([2., 0., 1.])
    """
    if out is not None:
        from ember._core._reduce import _with_out
        return _with_out("scatter_add", out, "same", scatter_add, (input, dim, index, src),
                         None, (input, src))
    if autocast_mode():
        return autocast_op("scatter_add", scatter_add, (input, dim, index, src), None)
    if _records_any((input, index, src)):
        return record_op("scatter_add", scatter_add, (input, dim, index, src), None)
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Tensor result = _copy_of(input, input._dtype)
    _scatter_into(result, d, index, src, "add", "scatter_add")
    return result


# ---------------------------------------------------------------- masked_fill

def masked_fill_(Tensor self not None, Tensor mask not None, value):
    """Fill ``self`` with ``value`` where the boolean ``mask`` (broadcast to ``self``) is True.

    Parameters
    ----------
    self : Tensor
    mask : Tensor
        A bool tensor broadcastable to ``self``'s shape.
    value : number or 0-dim Tensor

    Returns
    -------
    Tensor
        ``self``.
    """
    if _records_any((self, mask, value)):
        return record_op("masked_fill_", masked_fill_, (self, mask, value), None)
    cdef em_fill_ctx ctx
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t shape[64]
    cdef em_iter it
    cdef int nd
    cdef device dev = self._storage.device
    _check_same_device(self, mask, "masked_fill_")
    if mask._dtype != EM_BOOL:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_META_NAMES[mask._dtype]}")
    value = _scalar_of(value, "masked_fill_")
    nd = _broadcast_pair(self, mask, shape)
    if nd != self._ndim or memcmp(shape, self._shape, nd * sizeof(Py_ssize_t)) != 0:
        raise RuntimeError(f"output with shape {_sizes(self)} doesn't match the broadcast shape "
                           f"{_ints(shape, nd)}")
    _check_writable(self)
    _warn_expanded(self, "masked_fill_", "tensor[mask] = scalar")
    memset(ctx.value, 0, sizeof(ctx.value))
    _write_value(<char *>ctx.value, self._dtype, value)
    if _shares_memory(mask, self):
        mask = _copy_of(mask, EM_BOOL)
    it.nop = 2
    it.ndim = self._ndim
    memcpy(it.shape, self._shape, self._ndim * sizeof(Py_ssize_t))
    _tensor_strides(self, strides)
    _set_operand(&it, 0, _data(self), strides)
    _aligned_strides(mask, self._ndim, self._shape, strides)
    _set_operand(&it, 1, _data(mask), strides)
    _run_on(dev, &it, em_masked_fill_loops[em_size_class(em_itemsize[self._dtype])], &ctx, False,
            _gpu_kernel(dev, "masked_fill", self, None, False, "masked_fill_"), NULL, False)
    _bump_version(self)
    return self


def masked_fill(Tensor input not None, Tensor mask not None, value):
    """``input`` with ``value`` where ``mask`` is True; ``input`` and ``mask`` broadcast together.

    Parameters
    ----------
    input : Tensor
    mask : Tensor
        A bool tensor.
    value : number or 0-dim Tensor

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([1., -2., 3.])
    >>> ember.masked_fill(x, x < 0, 0.0)
    tensor([1., 0., 3.])
    """
    if _records_any((input, mask, value)):
        return record_op("masked_fill", masked_fill, (input, mask, value), None)
    cdef Py_ssize_t shape[64]
    if mask._dtype != EM_BOOL:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_META_NAMES[mask._dtype]}")
    cdef int nd = _broadcast_pair(mask, input, shape)
    cdef Tensor out = _copy_of(_core.expand(input, tuple(_ints(shape, nd))), input._dtype)
    return masked_fill_(out, mask, value)


cdef int _broadcast_pair(Tensor a, Tensor b, Py_ssize_t *shape) except -1:
    """The broadcast shape of `a` and `b` (returns its ndim), with PyTorch's error message."""
    cdef int nd = max(a._ndim, b._ndim), d
    cdef Py_ssize_t sa, sb
    for d in range(nd):
        sa = a._shape[d - (nd - a._ndim)] if d >= nd - a._ndim else 1
        sb = b._shape[d - (nd - b._ndim)] if d >= nd - b._ndim else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                               f"({sb}) at non-singleton dimension {d}")
        shape[d] = sb if sa == 1 else sa
    return nd


# ---------------------------------------------------------------- nonzero

def nonzero(Tensor input not None, *, out=None, as_tuple=False):
    """Indices of the nonzero elements of ``input``.

    Parameters
    ----------
    input : Tensor
    out : Tensor, optional
        int64 tensor to write the ``(n, input.ndim)`` result into.
    as_tuple : bool, optional
        Return one 1-D index tensor per dimension instead (a 0-dim input counts as
        1-D), ready for ``input[...]``.

    Returns
    -------
    Tensor or tuple of Tensor
        Row-major ordered indices: shape ``(n, input.ndim)``, int64.

    Examples
    --------
    >>> import ember
    >>> ember.nonzero(ember.tensor([[1, 0], [0, 2]]))
    tensor([[0, 0],
            [1, 1]])
    """
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t col_strides[1]
    cdef int d, nd = input._ndim
    cdef Tensor result
    if input._storage.device.type_num != DEV_CPU:
        result = <Tensor>_core.backend(input._storage.device.type).nonzero(input)
    else:
        result = _nonzero_cpu(input)
    shape[0] = result._shape[0]
    if as_tuple:
        if nd == 0:
            return (_core.zeros(shape[0], dtype=dtype_of(EM_INT64), device=input.device),)
        col_strides[0] = nd
        return tuple([make_view(result, 1, shape, col_strides, d) for d in range(nd)])
    return _finish_out(result, out, "nonzero")


cdef Tensor _nonzero_cpu(Tensor input):
    """The ``(n, ndim)`` int64 indices of the nonzero elements of a CPU tensor."""
    cdef em_count_ctx count
    cdef em_iter it
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t shape[2]
    cdef int nd = input._ndim
    _tensor_strides(input, strides)
    count.count = 0
    it.nop = 1
    it.ndim = nd
    memcpy(it.shape, input._shape, nd * sizeof(Py_ssize_t))
    _set_operand(&it, 0, input.ptr(), strides)
    _run(&it, em_count_nonzero_loops[input._dtype], &count, False)
    shape[0] = count.count
    shape[1] = nd
    cdef Tensor result = new_tensor(2, shape, EM_INT64, _CPU)
    if count.count and nd:
        em_nonzero_fill[input._dtype](input.ptr(), nd, input._shape, strides, NULL,
                                      <int64_t *>result.ptr(), count.count)
    return result
