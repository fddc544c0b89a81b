# The elementwise recorder (the hot path: every recorded a + b) and its node.
# Included by _graph.pyx.

# ---------------------------------------------------------------- elementwise nodes

cdef list _EW_SPECS = []     # per op number: EwSpec, None (no gradient) or _UNLOADED
cdef object _UNLOADED = object()


@cython.final
cdef class EwSpec:
    """The derivative of one elementwise op: one formula per input."""
    cdef str node_name
    cdef tuple formulas     # per input: callable(grad, *inputs, result) or None
    cdef tuple reads        # per formula: per input, whether the formula reads it
    cdef tuple reads_result # per formula: whether it reads the op's result
    cdef object name_rule   # None, or callable(is_tensor tuple) -> node name


cdef inline EwSpec ew_spec(int op):
    if op < len(_EW_SPECS):
        spec = _EW_SPECS[op]
        if spec is not _UNLOADED:
            return <EwSpec>spec
    return _load_ew_spec(op)


cdef EwSpec _load_ew_spec(int op):
    cdef EwSpec spec = None
    entry = ELEMENTWISE.get(op)
    if entry is not None:
        spec = EwSpec.__new__(EwSpec)
        spec.node_name = entry[0]
        spec.formulas = tuple(entry[1])
        spec.reads = tuple([tuple(r) for r in entry[2]])
        spec.reads_result = tuple(entry[3])
        spec.name_rule = entry[4]
    while len(_EW_SPECS) <= op:
        _EW_SPECS.append(_UNLOADED)
    _EW_SPECS[op] = spec
    return spec


@cython.final
@cython.freelist(256)
cdef class EwBackward(Node):
    cdef EwSpec spec
    cdef list args           # inputs: SavedTensor, a number, or None when not read; None if none
    cdef object result       # SavedTensor or None
    cdef int nargs
    cdef int edge_of[3]      # per input position: edge index or -1
    cdef int tensor_args     # bit k: input k was a tensor (some node names depend on it)

    def name(self):
        if self.spec.name_rule is not None:
            return self.spec.name_rule(tuple([bool(self.tensor_args & (1 << k))
                                              for k in range(self.nargs)]))
        return self.spec.node_name

    cdef tuple apply(self, tuple grads):
        cdef object g = grads[0], x0 = None, x1 = None, x2 = None, r = None
        cdef int k, e
        cdef list out
        self.check_alive()
        if self.args is not None:
            x0 = unpack(self.args[0], self)
            if self.nargs > 1:
                x1 = unpack(self.args[1], self)
            if self.nargs > 2:
                x2 = unpack(self.args[2], self)
        if self.result is not None:
            r = unpack(self.result, self)
        out = [None] * len(self.next_functions)
        for k in range(self.nargs):
            e = self.edge_of[k]
            if e >= 0:
                f = self.spec.formulas[k]
                if self.nargs == 1:
                    out[e] = f(g, x0, r)
                elif self.nargs == 2:
                    out[e] = f(g, x0, x1, r)
                else:
                    out[e] = f(g, x0, x1, x2, r)
        return tuple(out)

    cdef int release(self) except -1:
        # drop the saved tensors (numbers stay: the formulas need them again)
        cdef int k
        if self.args is not None:
            for k in range(self.nargs):
                if type(self.args[k]) is SavedTensor:
                    self.args[k] = None
                    self._released = True
        if self.result is not None:
            self.result = None
            self._released = True
        return 0


cdef int check_inplace(Tensor t) except -1:
    cdef AutogradMeta m
    cdef Tensor base
    if t._grad_fn is None and (t._requires_grad & REQUIRES_GRAD):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    m = meta_of(t, False)
    base = m.base if m is not None and m.base is not None else storage_base(t)
    if base is not None and base._grad_fn is None and base._requires_grad & REQUIRES_GRAD:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    return 0


cdef object record_elementwise(int op, list args, object out, bint inplace):
    """The elementwise recorder: run the kernel, then link a node when grads can flow."""
    cdef EwSpec spec = ew_spec(op)
    cdef Tensor t, result
    cdef EwBackward node
    cdef int k, j, n = len(args), nedges = 0
    cdef int edge_of[3]
    cdef list saved = None
    cdef tuple reads
    cdef object a, c, conforms = None
    cdef bint need_result = False, previous
    if spec is None or not grad_enabled() & GRAD_MODE:
        # not differentiable (comparisons, integer ops), or a dual level under no_grad:
        # plain kernel, no graph
        return _run_ew_plain(op, args, out, inplace)
    if out is not None:
        _refuse_out(spec.node_name)
    if inplace:
        check_inplace(<Tensor>args[0])
    for k in range(n):
        a = args[k]
        edge_of[k] = -1
        if (isinstance(a, Tensor) and ((<Tensor>a)._requires_grad & REQUIRES_GRAD)
                and spec.formulas[k] is not None):
            edge_of[k] = nedges
            nedges += 1
    if nedges == 0:
        return _run_ew_plain(op, args, out, inplace)
    # save what the formulas of the inputs that need a gradient read, before the kernel
    # runs (an in-place op changes its target: its old value is kept as a copy, as PyTorch)
    for k in range(n):
        if edge_of[k] < 0:
            continue
        reads = <tuple>spec.reads[k]
        for j in range(n):
            if reads[j]:
                if saved is None:
                    saved = [None] * n
                if saved[j] is None:
                    a = args[j]
                    if isinstance(a, Tensor):
                        # the copy is recorded (clone is differentiable): the old value
                        # stays linked to the graph for double backward
                        saved[j] = save_input((<Tensor>a).clone() if inplace and j == 0
                                              else <Tensor>a)
                    else:
                        saved[j] = a
        if spec.reads_result[k]:
            need_result = True
    node = EwBackward.__new__(EwBackward)
    if nedges == 1:
        for k in range(n):
            if edge_of[k] >= 0:
                node.next_functions = (gradient_edge(<Tensor>args[k]),)
    else:
        node.next_functions = tuple([gradient_edge(<Tensor>args[k]) for k in range(n)
                                     if edge_of[k] >= 0])
    previous = set_grad_mode(False)
    try:
        result = <Tensor>ew_forward(op, args, out, inplace)
    finally:
        set_grad_mode(previous)
    if em_category[result._dtype] < 2:
        return result
    node.spec = spec
    node.args = saved
    node.nargs = n
    for k in range(n):
        node.edge_of[k] = edge_of[k]
        if isinstance(args[k], Tensor):
            node.tensor_args |= 1 << k
    for k in range(n):
        if edge_of[k] >= 0:
            c = conform_spec(<Tensor>args[k], result)
            if c is not None:
                if conforms is None:
                    conforms = [None] * nedges
                conforms[edge_of[k]] = c
    node._conform = tuple(conforms) if conforms is not None else None
    if need_result:
        node.result = save_output(result, 0)
    node._target_edge = edge_of[0] >= 0
    set_history(result, node, 0, inplace)
    return result


cdef int _refuse_out(str node_name) except -1:
    name = node_name[:-len("Backward0")].lower() if node_name.endswith("Backward0") else node_name
    raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                       "differentiation, but one of the arguments requires grad.")


cdef object _run_ew_plain(int op, list args, out, bint inplace):
    previous = set_grad_mode(False)
    try:
        return ew_forward(op, args, out, inplace)
    finally:
        set_grad_mode(previous)


cdef int set_history(Tensor t, Node node, int output_nr, bint inplace) except -1:
    cdef AutogradMeta m = meta_of(t, False)
    cdef Tensor base
    if inplace:
        if m is None or m.base is None:
            # a view made while nothing required grad: its base now gets the op's
            # history too (CopySlices)
            base = storage_base(t)
            if base is not None and base._storage is t._storage:
                m = meta_of(t, True)
                m.base = base
        if m is not None and m.base is not None:
            rebase_view(t, m, node)
            return 0
    t._grad_fn = node
    t._requires_grad |= REQUIRES_GRAD
    if m is not None:
        m.output_nr = output_nr
    elif output_nr:
        meta_of(t, True).output_nr = output_nr
    return 0
