# The recorder of every other op, its node, and the formulas' context.
# Included by _graph.pyx.

# ---------------------------------------------------------------- other ops

cdef dict _OP_SPECS = {}


@cython.final
cdef class OpSpec:
    """The derivative of a non-elementwise op (see ``ember.ops.derivatives``)."""
    cdef str name
    cdef str node_name
    cdef object name_of_call     # callable(*args, **kwargs) -> node name, or None
    cdef object save_of_call     # callable(*args, **kwargs) -> save_inputs, or None
    cdef object formula
    cdef bint save_inputs
    cdef bint save_result
    cdef tuple saved_outputs     # of an op with several outputs: those kept (None: all)
    cdef bint is_view
    cdef bint inplace


cdef OpSpec op_spec(str name):
    cdef OpSpec spec = _OP_SPECS.get(name)
    if spec is not None:
        return spec
    entry = OPS.get(name)
    spec = OpSpec.__new__(OpSpec)
    spec.name = name
    if entry is None:
        spec.node_name = "NotImplemented"
        spec.formula = _missing_derivative(name)
        spec.save_inputs = False
        spec.inplace = name.endswith("_")
        return spec
    spec.node_name = entry["node_name"] if isinstance(entry["node_name"], str) else None
    spec.name_of_call = None if isinstance(entry["node_name"], str) else entry["node_name"]
    spec.formula = entry["formula"]
    if callable(entry["save_inputs"]):
        spec.save_of_call = entry["save_inputs"]
    else:
        spec.save_inputs = entry["save_inputs"]
    spec.save_result = bool(entry["save_result"])
    if type(entry["save_result"]) is tuple:
        spec.saved_outputs = entry["save_result"]
    spec.is_view = entry["view"]
    spec.inplace = entry["inplace"]
    _OP_SPECS[name] = spec
    return spec


def _missing_derivative(name):
    def formula(*args, **kwargs):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    return formula


cdef enum:
    META_DIMS = 12         # dims kept inline by TensorMeta (more: in tuples)


@cython.final
cdef class TensorMeta:
    """What a formula may ask of a tensor that was not saved: its shape, dtype, device and
    layout (``shares_storage``: an output that views its op's first input).  Kept in C
    arrays: most are never read."""
    cdef readonly object dtype
    cdef readonly object device
    cdef readonly Py_ssize_t offset
    cdef readonly bint shares_storage
    cdef int ndim_c
    cdef int dtype_num
    cdef Py_ssize_t shape_c[META_DIMS]
    cdef Py_ssize_t strides_c[META_DIMS]
    cdef tuple _shape, _strides      # built on first use (always, past META_DIMS dims)

    @property
    def shape(self):
        if self._shape is None:
            self._shape = _int_tuple(self.shape_c, self.ndim_c)
        return self._shape

    @property
    def strides(self):
        if self._strides is None:
            self._strides = _int_tuple(self.strides_c, self.ndim_c)
        return self._strides

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def stride(self, dim=None):
        return self.strides if dim is None else self.strides[dim]

    def storage_offset(self):
        return self.offset

    def dim(self):
        return self.ndim_c

    @property
    def ndim(self):
        return self.ndim_c

    def numel(self):
        cdef Py_ssize_t n = 1
        for s in self.shape:
            n *= s
        return n

    def is_complex(self):
        return self.dtype.is_complex

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def __repr__(self):
        return f"TensorMeta(shape={tuple(self.shape)}, dtype={self.dtype})"


cdef TensorMeta meta_record(Tensor t):
    cdef TensorMeta m = TensorMeta.__new__(TensorMeta)
    cdef int d
    m.dtype = t.get_dtype()
    m.dtype_num = t._dtype
    m.device = t._storage.device
    m.offset = t._offset
    m.ndim_c = t._ndim
    if t._ndim <= META_DIMS:
        for d in range(t._ndim):
            m.shape_c[d] = t._shape[d]
            m.strides_c[d] = t._strides[d]
    else:
        m._shape = _int_tuple(t._shape, t._ndim)
        m._strides = _int_tuple(t._strides, t._ndim)
    return m


@cython.final
cdef class BackwardContext:
    """What an op's formula sees besides the gradient: the saved result, the outputs'
    metadata and which tensor arguments need a gradient."""
    cdef readonly object result
    cdef readonly tuple outputs
    cdef readonly tuple needs_input_grad


@cython.final
cdef class OpBackward(Node):
    cdef OpSpec spec
    cdef tuple args
    cdef dict kwargs
    cdef object result           # SavedTensor, tuple of them / None, or None
    cdef tuple out_meta          # per output: TensorMeta of a differentiable output, else None
    cdef bint single_output
    cdef tuple needs             # per tensor argument (lists flattened): needs a gradient
    cdef str _name               # when the op's node name depends on the call

    def name(self):
        if self._name is None and self.spec.name_of_call is not None and self.args is not None:
            self._name = self._name_of_call()
        return self._name if self._name is not None else self.spec.node_name

    cdef str _name_of_call(self):
        # names that depend on the call are worked out when asked for (or before the saved
        # arguments are freed), from the arguments as saved
        args = [(<SavedTensor>a).peek() if type(a) is SavedTensor else
                type(a)([(<SavedTensor>x).peek() if type(x) is SavedTensor else x for x in a])
                if type(a) is list or type(a) is tuple else a for a in self.args]
        kwargs = {key: (<SavedTensor>v).peek() if type(v) is SavedTensor else v
                  for key, v in self.kwargs.items()} if self.kwargs else {}
        return self.spec.name_of_call(*args, **kwargs)

    cdef tuple apply(self, tuple grads):
        cdef BackwardContext ctx = BackwardContext.__new__(BackwardContext)
        cdef int k
        self.check_alive()
        args = [_unpack_arg(a, self) for a in self.args]
        kwargs = {key: _unpack_arg(v, self) for key, v in self.kwargs.items()} if self.kwargs else {}
        if type(self.result) is tuple:
            ctx.result = tuple([unpack(r, self) for r in <tuple>self.result])
        else:
            ctx.result = unpack(self.result, self)
        ctx.outputs = self.out_meta
        ctx.needs_input_grad = self.needs
        if self.single_output:
            g = grads[0]
        else:
            g = tuple([_zeros_for(grads[k], self.out_meta[k]) for k in range(len(grads))])
        out = self.spec.formula(ctx, g, *args, **kwargs)
        if not isinstance(out, tuple):
            out = (out,)
        # the formula answers per argument (a sequence for a list of tensors): flatten it
        # to one gradient per tensor, then keep those that need one
        cdef list flat = []
        for k in range(len(self.args)):
            a = self.args[k]
            r = out[k] if k < len(out) else None
            if type(a) is SavedTensor or type(a) is TensorMeta:
                flat.append(r)
            elif type(a) is list or type(a) is tuple:
                for j in range(len(<object>a)):
                    x = (<object>a)[j]
                    if type(x) is SavedTensor or type(x) is TensorMeta:
                        flat.append(r[j] if r is not None else None)
        cdef list picked = []
        for k in range(len(self.needs)):
            if self.needs[k]:
                picked.append(flat[k] if k < len(flat) else None)
        return tuple(picked)

    cdef int release(self) except -1:
        if self._name is None and self.spec.name_of_call is not None:
            self._name = self._name_of_call()
        self.args = tuple([_drop_saved(a, self) for a in self.args])
        if self.kwargs:
            self.kwargs = {key: _drop_saved(v, self) for key, v in self.kwargs.items()}
        if self.result is not None:
            self.result = None
            self._released = True
        return 0


cdef object _drop_saved(object a, Node node):
    if type(a) is SavedTensor:
        node._released = True
        return None
    if type(a) is list or type(a) is tuple:
        return type(a)([_drop_saved(x, node) for x in a])
    return a


cdef object _zeros_for(object g, object meta):
    if g is not None or meta is None:
        return g
    from ember import zeros
    return zeros((<TensorMeta>meta).shape, dtype=(<TensorMeta>meta).dtype,
                 device=(<TensorMeta>meta).device)


cdef object _unpack_arg(object a, Node node):
    if type(a) is SavedTensor:
        return (<SavedTensor>a).unpack(node)
    if type(a) is list or type(a) is tuple:
        return type(a)([unpack(x, node) for x in a])
    return a


cdef object _save_tensor(Tensor t, bint save):
    # tensors that need no gradient (indices, masks) are always kept: formulas read them
    if save or not (t._requires_grad & REQUIRES_GRAD):
        return save_input(t)
    return meta_record(t)


cdef object _save_arg(object a, bint save, list tensors):
    cdef list items
    if isinstance(a, Tensor):
        tensors.append(a)
        return _save_tensor(<Tensor>a, save)
    if type(a) is list or type(a) is tuple:
        for x in a:
            if isinstance(x, Tensor):
                break
        else:
            return a                    # shapes, dims: kept as they are
        items = []
        for x in a:
            if isinstance(x, Tensor):
                tensors.append(x)
                items.append(_save_tensor(<Tensor>x, save))
            else:
                items.append(x)
        return type(a)(items)
    return a


cdef object record_op(str name, object fn, tuple args, dict kwargs):
    """The recorder of every non-elementwise op: run ``fn(*args, **kwargs)`` with grad
    mode off, then link a node whose formula is the op's registered derivative."""
    cdef OpSpec spec = op_spec(name)
    cdef OpBackward node
    cdef list tensors = [], edges, conforms, outs
    cdef tuple saved_args, needs
    cdef Tensor t, o, first
    cdef Py_ssize_t k, n_out, n_args = len(args)
    cdef bint save, single, any_differentiable = False, previous
    cdef object result, a
    if not grad_enabled() & GRAD_MODE:
        # a dual level under no_grad: the op runs plainly (the forward hook follows)
        previous = set_grad_mode(False)
        try:
            return fn(*args, **kwargs) if kwargs else fn(*args)
        finally:
            set_grad_mode(previous)
    if kwargs and kwargs.get("out") is not None:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if spec.inplace:
        check_inplace(<Tensor>args[0])
    save = spec.save_inputs
    if spec.save_of_call is not None:
        save = spec.save_of_call(*args, **kwargs) if kwargs else spec.save_of_call(*args)
    saved_args = PyTuple_New(n_args)
    for k in range(n_args):
        if spec.inplace and k == 0:
            # the op overwrites its target: a formula that reads its old value gets a
            # copy, others its metadata (the target itself would fail the version check)
            t = <Tensor>args[0]
            tensors.append(t)
            a = save_input(t.clone()) if save else meta_record(t)
        else:
            a = _save_arg(args[k], save, tensors)
        Py_INCREF(a)
        PyTuple_SET_ITEM(saved_args, k, a)
    saved_kwargs = {key: _save_arg(v, save, tensors) for key, v in kwargs.items()} \
        if kwargs else None
    previous = set_grad_mode(False)
    try:
        result = fn(*args, **kwargs) if kwargs else fn(*args)
    finally:
        set_grad_mode(previous)
    single = isinstance(result, Tensor)
    if single:
        outs = None
        n_out = 1
        if not _differentiable(result) or (not spec.inplace and _is_one_of(result, tensors)):
            return result               # not differentiable, or an input given back unchanged
    elif isinstance(result, (tuple, list)):
        outs = list(result)
        n_out = len(outs)
        for k in range(n_out):
            if _differentiable(outs[k]):
                any_differentiable = True
                if not spec.inplace and _is_one_of(outs[k], tensors):
                    return result
        if not any_differentiable:
            return result
    else:
        return result
    # edges and the layouts gradients must take, per tensor argument that requires grad
    edges = []
    conforms = []
    needs = PyTuple_New(len(tensors))
    for k in range(len(tensors)):
        t = <Tensor>tensors[k]
        a = True if (t._requires_grad & REQUIRES_GRAD) else False
        Py_INCREF(a)
        PyTuple_SET_ITEM(needs, k, a)
        if t._requires_grad & REQUIRES_GRAD:
            edges.append(gradient_edge(t))
            # the argument's saved metadata serves the engine too, when it is one
            a = saved_args[k] if k < n_args else None
            conforms.append(a if type(a) is TensorMeta and <object>args[k] is t
                            else meta_record(t))
    if not edges:
        return result
    first = <Tensor>tensors[0]
    node = OpBackward.__new__(OpBackward)
    node.spec = spec
    node.args = saved_args
    node.kwargs = saved_kwargs
    node.needs = needs
    node.next_functions = tuple(edges)
    node._target_edge = ((<Tensor>tensors[0])._requires_grad & REQUIRES_GRAD)
    node._num_outputs = n_out
    node.single_output = single
    node._conform = tuple(conforms)
    if single:
        if spec.is_view:
            node.out_meta = (_output_meta(<Tensor>result, first),)
        if spec.save_result:
            node.result = save_output(<Tensor>result, 0)
        _link_output(<Tensor>result, node, 0, spec, first)
        return result
    # several outputs: the layouts (views go back through them, and outputs that get no
    # gradient are given zeros of their shape)
    node.out_meta = tuple([_output_meta(<Tensor>outs[k], first) if _differentiable(outs[k])
                           else None for k in range(n_out)])
    if spec.save_result:
        # only the outputs the formula reads: an output kept but unread (max pooling's
        # values next to its indices) would refuse a later in-place op on it for nothing
        node.result = tuple([None if spec.saved_outputs is not None
                             and k not in spec.saved_outputs
                             else save_output(<Tensor>outs[k], k) if _differentiable(outs[k])
                             else outs[k] for k in range(n_out)])
    for k in range(n_out):
        if _differentiable(outs[k]):
            _link_output(<Tensor>outs[k], node, k, spec, first)
    return result


cdef object record_view(str name, Tensor input, Tensor output, tuple args):
    """The recorder of one-input view-like ops (views, basic indexing, reshape): the core
    has already computed ``output`` with grad mode off; only the node is made here.
    The op's other arguments are shapes, dims and basic index items."""
    cdef OpSpec spec = op_spec(name)
    cdef OpBackward node
    cdef TensorMeta meta
    if (output is input or em_category[output._dtype] < 2
            or not input._requires_grad & REQUIRES_GRAD or not grad_enabled() & GRAD_MODE):
        return output           # a forward-mode dual alone: no graph
    meta = meta_record(input)
    node = OpBackward.__new__(OpBackward)
    node.spec = spec
    node.args = (meta,) + args[1:]
    node.needs = (True,)
    node.next_functions = (gradient_edge(input),)
    node._target_edge = True
    node._num_outputs = 1
    node.single_output = True
    node._conform = (meta,)
    node.out_meta = (_output_meta(output, input),)
    _link_output(output, node, 0, spec, input)
    return output


cdef inline bint _is_one_of(object x, list tensors):
    for y in tensors:
        if x is y:
            return True
    return False


cdef TensorMeta _output_meta(Tensor o, Tensor first):
    cdef TensorMeta m = meta_record(o)
    m.shares_storage = o._storage is first._storage
    return m


cdef int _link_output(Tensor o, OpBackward node, int k, OpSpec spec, Tensor first) except -1:
    cdef AutogradMeta bm, om
    set_history(o, node, k, spec.inplace)
    if spec.is_view and o._storage is first._storage:
        bm = meta_of(first, False)
        om = meta_of(o, True)
        om.base = bm.base if bm is not None and bm.base is not None else first
        om.version = version_of(o)
    elif not spec.inplace:
        # an op that is not a view may still hand out a view of a buffer of its own
        # (median's values squeezed out of a gather): it is no view for autograd, or an
        # in-place op on it would send its gradient to that buffer instead of the op
        o._view_base = None
    return 0


cdef inline bint _differentiable(object o):
    return isinstance(o, Tensor) and em_category[(<Tensor>o)._dtype] >= 2
