# cython: embedsignature=False
"""The autograd graph: nodes, saved tensors, the recorders and the backward engine.

Typed Cython, because every recorded op creates a node and every backward walks
them: a node costs tens of nanoseconds here against microseconds in PyTorch.
The backward formulas themselves are Python written with ember ops (see
``ember.ops``), so that gradients of gradients come for free.
"""
cimport cython
from cpython.ref cimport Py_REFCNT
from cpython.weakref cimport PyWeakref_NewRef, PyWeakref_GetObject
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.long cimport PyLong_FromSsize_t
from cpython.ref cimport Py_INCREF

from ember._core._tensor cimport Tensor, Storage, storage_base, grad_enabled, set_grad_mode, make_view, ew_forward
from ember._core._tensor import _set_recorders
from cpython.pycapsule cimport PyCapsule_New
from ember._core._dtype cimport em_category

import weakref

from ember.ops.derivatives import ELEMENTWISE, OPS

# ---------------------------------------------------------------- node bookkeeping

cdef Py_ssize_t _sequence = 0      # creation order; the engine runs later nodes first
cdef object _anomaly = None        # anomaly mode's stack recorder (set by anomaly_mode)
cdef bint _anomaly_check_nan = False


def _set_anomaly_recorder(fn, bint check_nan):
    global _anomaly, _anomaly_check_nan
    _anomaly = fn
    _anomaly_check_nan = check_nan


cdef class AutogradMeta:
    """Per-tensor autograd state that most tensors never need."""
    cdef public int output_nr          # which output of its grad_fn the tensor is
    cdef public list hooks             # tensor hooks of a leaf
    cdef public object accumulator     # the leaf's AccumulateGrad
    cdef tuple edge                    # (accumulator, 0)
    cdef public Tensor base            # for differentiable views: the tensor viewed
    cdef public Py_ssize_t version     # of the storage when the view's history was set
    cdef public bint retains_grad

    def __cinit__(self):
        self.output_nr = 0


cdef inline AutogradMeta meta_of(Tensor t, bint create):
    cdef AutogradMeta m = <AutogradMeta?>t._autograd_meta if t._autograd_meta is not None else None
    if m is None and create:
        m = AutogradMeta()
        t._autograd_meta = m
    return m


cdef inline int output_nr_of(Tensor t):
    return 0 if t._autograd_meta is None else (<AutogradMeta>t._autograd_meta).output_nr


cdef class RemovableHandle:
    """Returned by ``register_hook``: ``remove()`` unregisters the hook."""
    cdef object _list
    cdef object _fn

    def __init__(self, hooks, fn):
        self._list = hooks
        self._fn = fn

    def remove(self):
        try:
            self._list.remove(self._fn)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


cdef class Node:
    """A recorded operation of the graph: maps gradients of its outputs to gradients of
    its inputs.  ``next_functions`` holds, per input, the node that produced it and
    which of that node's outputs it was."""
    cdef readonly tuple next_functions
    cdef dict _metadata
    cdef Py_ssize_t _seq
    cdef int _num_outputs
    cdef tuple _conform           # per edge: None, or (shape, dtype) the gradient must take
    cdef list _pre_hooks
    cdef list _hooks
    cdef dict _tensor_pre_hooks   # output_nr -> hooks registered on the non-leaf tensor
    cdef dict _retained           # output_nr -> weakref of a tensor that retains its grad
    cdef public object _forward_trace
    cdef bint _released
    cdef object __weakref__
    # the engine's bookkeeping while a backward run owns the node
    cdef Py_ssize_t _run
    cdef Py_ssize_t _deps
    cdef list _buffer
    # an in-place op's node: whether its first edge is the modified tensor's old history
    cdef bint _target_edge

    def __cinit__(self):
        global _sequence
        self._seq = _sequence
        _sequence += 1
        self._num_outputs = 1
        self.next_functions = ()
        if _anomaly is not None:
            self._forward_trace = _anomaly()

    cdef tuple apply(self, tuple grads):
        raise NotImplementedError

    cdef int release(self) except -1:
        """Free what was saved for backward (retain_graph=False); using it again raises."""
        return 0

    cdef int check_alive(self) except -1:
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")
        return 0

    def name(self):
        """The node's name, e.g. ``'MulBackward0'``."""
        return type(self).__name__

    @property
    def metadata(self):
        """A dict for the user's own annotations of this node."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def __call__(self, *grads):
        return self.apply(grads)

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after the node ran; it may return new
        grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before the node runs; it may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return RemovableHandle(self._pre_hooks, fn)

    def _register_tensor_hook(self, int output_nr, fn):
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        hooks = self._tensor_pre_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def _retain_grad(self, int output_nr, Tensor t):
        if self._retained is None:
            self._retained = {}
        self._retained[output_nr] = weakref.ref(t)

    @property
    def _sequence_nr(self):
        return self._seq

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


@cython.final
cdef class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds the gradient that reaches it into ``.grad``.

    The leaf owns its AccumulateGrad (so recording an op on a leaf allocates nothing for
    it); the node refers back to the leaf weakly, so that the two form no cycle."""
    cdef object _variable_ref

    def __cinit__(self):
        self._seq = 1 << 62     # run as soon as ready, as PyTorch does

    cdef inline Tensor leaf(self):
        obj = <object>PyWeakref_GetObject(self._variable_ref)
        return None if obj is None else <Tensor>obj

    @property
    def variable(self):
        """The leaf tensor (None once it no longer exists)."""
        return self.leaf()

    cdef tuple apply(self, tuple grads):
        cdef Tensor var = self.leaf()
        if var is not None:
            accumulate_grad(var, <Tensor>grads[0], grad_enabled(), None)
        return ()


cdef AccumulateGrad accumulator_of(Tensor leaf):
    return <AccumulateGrad>leaf_edge(leaf)[0]


cdef tuple leaf_edge(Tensor leaf):
    """The edge ``(AccumulateGrad, 0)`` of a leaf, made once and kept by the leaf."""
    cdef AutogradMeta m = meta_of(leaf, True)
    cdef AccumulateGrad acc
    if m.edge is None:
        acc = AccumulateGrad.__new__(AccumulateGrad)
        acc._variable_ref = PyWeakref_NewRef(leaf, None)
        m.accumulator = acc
        m.edge = (acc, 0)
    return m.edge


cdef int accumulate_grad(Tensor var, Tensor g, bint create_graph, set root_storages) except -1:
    """PyTorch's rule: the first gradient is stolen when nothing else can see it (else
    cloned); later ones are added in place, or out of place when building a graph."""
    cdef Tensor old = var._grad
    cdef Storage storage = g._storage
    if old is None:
        # stealable: referenced only by the engine's gradient tuple and this call's argument,
        # the only tensor on its storage (besides the local above), not the caller's own
        # gradient, and dense
        if (not create_graph and Py_REFCNT(g) <= 2 and Py_REFCNT(storage) <= 2
                and not (root_storages and storage in root_storages)
                and g.is_contig() and not g._requires_grad):
            var._grad = g if g._autograd_meta is None else g.detach()
        else:
            var._grad = g.clone()
    elif create_graph:
        var._grad = old + g
    else:
        old.add_(g)
    return 0


cdef inline tuple gradient_edge(Tensor t):
    cdef AutogradMeta m
    if t._grad_fn is not None:
        if t._autograd_meta is None:
            return (t._grad_fn, 0)
        m = <AutogradMeta>t._autograd_meta
        if m.base is not None and m.version != t._storage.version:
            refresh_view(t, m)
        return (t._grad_fn, m.output_nr)
    if t._requires_grad:
        return leaf_edge(t)
    return (None, 0)


cdef int refresh_view(Tensor view, AutogradMeta m) except -1:
    """The base (or another view of it) changed in place since this view's history was
    recorded: the view now reads the base's current history, as in PyTorch."""
    cdef AsStridedViewBackward vb = AsStridedViewBackward.__new__(AsStridedViewBackward)
    vb.base_geometry = geometry(m.base)
    vb.view_geometry = geometry(view)
    vb.next_functions = (gradient_edge(m.base),)
    view._grad_fn = vb
    m.output_nr = 0
    m.version = view._storage.version
    return 0


# ---------------------------------------------------------------- saved tensors

@cython.final
cdef class SavedTensor:
    """A tensor kept for backward, with the version it had when saved."""
    cdef Tensor data
    cdef Py_ssize_t version
    cdef bint is_output
    cdef int output_nr

    cdef object unpack(self, Node node):
        cdef Tensor t
        node.check_alive()
        if self.data._storage.version != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{_type_str(self.data)}], which is "
                f"{'output' if self.is_output else 'an input'} {self.output_nr} of {node.name()}, "
                f"is at version {self.data._storage.version}; expected version {self.version} "
                "instead. Hint: the backtrace further above can show the operation that failed "
                "to compute its gradient. Use ember.autograd.set_detect_anomaly(True) to find it.")
        if not self.is_output:
            return self.data
        # an output is stored without its grad_fn (that would be a cycle): rebuild the link
        t = make_view(self.data, self.data._ndim, self.data._shape, self.data._strides,
                      self.data._offset)
        t._view_base = None
        t._grad_fn = node
        t._requires_grad = True
        if self.output_nr:
            meta_of(t, True).output_nr = self.output_nr
        return t


cdef str _type_str(Tensor t):
    return f"{t.dtype} {list(t.shape)}"


cdef inline SavedTensor save_input(Tensor t):
    cdef SavedTensor s = SavedTensor.__new__(SavedTensor)
    s.data = t
    s.version = t._storage.version
    return s


cdef SavedTensor save_output(Tensor t, int output_nr):
    cdef SavedTensor s = SavedTensor.__new__(SavedTensor)
    s.data = make_view(t, t._ndim, t._shape, t._strides, t._offset)
    s.data._view_base = None        # an alias, not a view: referring to t would be a cycle
    s.version = t._storage.version
    s.is_output = True
    s.output_nr = output_nr
    return s


cdef inline object unpack(object v, Node node):
    return (<SavedTensor>v).unpack(node) if type(v) is SavedTensor else v


def save_tensor(Tensor t, int output_nr):
    """Save ``t`` for a custom Function's backward (``output_nr`` >= 0 for its outputs)."""
    return save_input(t) if output_nr < 0 else save_output(t, output_nr)


def unpack_saved(SavedTensor saved, Node node):
    if node is None:
        raise RuntimeError("the graph node of these saved tensors no longer exists")
    return saved.unpack(node)


# ---------------------------------------------------------------- conforming gradients

cdef tuple shape_of(Tensor t):
    return _int_tuple(t._shape, t._ndim)


cdef tuple _int_tuple(const Py_ssize_t *values, int n):
    cdef tuple out = PyTuple_New(n)
    cdef int d
    for d in range(n):
        v = PyLong_FromSsize_t(values[d])
        Py_INCREF(v)
        PyTuple_SET_ITEM(out, d, v)
    return out


cdef inline object conform_spec(Tensor t, Tensor like):
    """What the engine must do to a gradient shaped like `like` to fit input `t`: None
    when nothing (the common case, checked in C)."""
    cdef int d
    if t._dtype == like._dtype and t._ndim == like._ndim:
        for d in range(t._ndim):
            if t._shape[d] != like._shape[d]:
                break
        else:
            return None
    return meta_record(t)


cdef object conform(object g, object spec):
    """Sum a broadcast gradient back to its input's shape (``spec``: the input's
    TensorMeta) and give it the input's dtype."""
    cdef Tensor t = <Tensor>g
    cdef TensorMeta m = <TensorMeta>spec
    cdef int nd = m.ndim_c, lead = t._ndim - nd, d
    cdef tuple shape
    if lead == 0 and t._dtype == m.dtype_num and nd <= META_DIMS:
        for d in range(nd):
            if t._shape[d] != m.shape_c[d]:
                break
        else:
            return g
    shape = m.shape
    if lead != 0 or any([t._shape[lead + d] != shape[d] for d in range(nd)]):
        if lead < 0:
            raise RuntimeError(f"Function returned a gradient of shape {list(t.shape)} for an "
                               f"input of shape {list(shape)}")
        dims = list(range(lead)) + [lead + d for d in range(nd)
                                    if shape[d] == 1 and t._shape[lead + d] != 1]
        for d in range(nd):
            if shape[d] != 1 and t._shape[lead + d] != shape[d]:
                raise RuntimeError(f"Function returned a gradient of shape {list(t.shape)} "
                                   f"that cannot be summed to its input's shape {list(shape)}")
        if dims:
            g = t.sum(dims, keepdim=True)
            if lead:
                g = g.reshape(shape)
        t = <Tensor>g
    if t._dtype != m.dtype_num:
        if em_category[t._dtype] == 3 and em_category[m.dtype_num] != 3:
            g = g.real
        g = g.to(m.dtype)
    return g


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
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    m = meta_of(t, False)
    base = m.base if m is not None and m.base is not None else storage_base(t)
    if base is not None and base._grad_fn is None and base._requires_grad:
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
    if spec is None:
        # not differentiable (comparisons, integer ops): plain kernel, no graph
        return _run_ew_plain(op, args, out, inplace)
    if out is not None:
        _refuse_out(spec.node_name)
    if inplace:
        check_inplace(<Tensor>args[0])
    for k in range(n):
        a = args[k]
        edge_of[k] = -1
        if isinstance(a, Tensor) and (<Tensor>a)._requires_grad and spec.formulas[k] is not None:
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
    t._requires_grad = True
    if m is not None:
        m.output_nr = output_nr
    elif output_nr:
        meta_of(t, True).output_nr = output_nr
    return 0


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
    spec.save_result = entry["save_result"]
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
        args = [(<SavedTensor>a).data if type(a) is SavedTensor else
                type(a)([(<SavedTensor>x).data if type(x) is SavedTensor else x for x in a])
                if type(a) is list or type(a) is tuple else a for a in self.args]
        kwargs = {key: (<SavedTensor>v).data if type(v) is SavedTensor else v
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
    return zeros((<TensorMeta>meta).shape, dtype=(<TensorMeta>meta).dtype)


cdef object _unpack_arg(object a, Node node):
    if type(a) is SavedTensor:
        return (<SavedTensor>a).unpack(node)
    if type(a) is list or type(a) is tuple:
        return type(a)([unpack(x, node) for x in a])
    return a


cdef object _save_tensor(Tensor t, bint save):
    # tensors that need no gradient (indices, masks) are always kept: formulas read them
    if save or not t._requires_grad:
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
        a = True if t._requires_grad else False
        Py_INCREF(a)
        PyTuple_SET_ITEM(needs, k, a)
        if t._requires_grad:
            edges.append(gradient_edge(t))
            conforms.append(meta_record(t))
    if not edges:
        return result
    first = <Tensor>tensors[0]
    node = OpBackward.__new__(OpBackward)
    node.spec = spec
    node.args = saved_args
    node.kwargs = saved_kwargs
    node.needs = needs
    node.next_functions = tuple(edges)
    node._target_edge = (<Tensor>tensors[0])._requires_grad
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
        node.result = tuple([save_output(<Tensor>outs[k], k) if _differentiable(outs[k])
                             else outs[k] for k in range(n_out)])
    for k in range(n_out):
        if _differentiable(outs[k]):
            _link_output(<Tensor>outs[k], node, k, spec, first)
    return result


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
        om.version = o._storage.version
    return 0


cdef inline bint _differentiable(object o):
    return isinstance(o, Tensor) and em_category[(<Tensor>o)._dtype] >= 2


# ---------------------------------------------------------------- in-place ops on views

@cython.final
cdef class CopySlices(Node):
    """The base of a view that an in-place op changed: the gradient of the base is the
    incoming one, with the view's region replaced by what the op's node makes of it."""
    cdef tuple base_geometry    # (shape, strides, offset) of the base
    cdef tuple view_geometry    # (shape, strides, offset) of the view, in the base's storage
    cdef Node fn

    def name(self):
        return "CopySlices"

    cdef tuple apply(self, tuple grads):
        # the base's gradient, with the view's region replaced by the gradient the op's
        # node gives the view's old value (written with differentiable ops)
        from ember.ops.views import restride
        g = grads[0]
        region = restride(g, self.base_geometry, self.view_geometry)
        res = self.fn.apply((region,))
        result = g - restride(region, self.view_geometry, self.base_geometry)
        if not self.fn._target_edge:
            # the view's old value had no history: its region's gradient stops here
            return (result,) + tuple(res)
        if res[0] is not None:
            result = result + restride(conform_if(res[0], self.fn._conform, 0),
                                       self.view_geometry, self.base_geometry)
        return (result,) + tuple(res[1:])

    cdef int release(self) except -1:
        self.fn.release()
        self._released = self.fn._released
        return 0


cdef object conform_if(object g, tuple conforms, int k):
    if conforms is not None and conforms[k] is not None:
        return conform(g, conforms[k])
    return g


@cython.final
cdef class AsStridedViewBackward(Node):
    """The grad_fn a view gets after an in-place op on it: its gradient lands in its
    region of the base."""
    cdef tuple base_geometry
    cdef tuple view_geometry

    def name(self):
        return "AsStridedBackward0"

    cdef tuple apply(self, tuple grads):
        from ember.ops.views import restride
        return (restride(grads[0], self.view_geometry, self.base_geometry),)


cdef tuple geometry(Tensor t):
    return (shape_of(t), _int_tuple(t._strides, t._ndim), t._offset)


cdef int rebase_view(Tensor view, AutogradMeta m, Node node) except -1:
    """An in-place op on a view changes its base: the base's history becomes CopySlices
    of the op's node, and the view's history a view of the new base."""
    cdef Tensor base = m.base
    cdef CopySlices cs = CopySlices.__new__(CopySlices)
    cdef AsStridedViewBackward vb
    cs.base_geometry = geometry(base)
    cs.view_geometry = geometry(view)
    cs.fn = node
    # the node's first edge is the view's old history, itself leading to the base's: the
    # base's own edge replaces it
    cdef int skip = 1 if node._target_edge else 0
    cs.next_functions = (gradient_edge(base),) + node.next_functions[skip:]
    cs._conform = (None,) + (node._conform[skip:] if node._conform is not None
                             else (None,) * (len(node.next_functions) - skip))
    base._grad_fn = cs
    base._requires_grad = True
    bm = meta_of(base, False)
    if bm is not None:
        bm.output_nr = 0
    vb = AsStridedViewBackward.__new__(AsStridedViewBackward)
    vb.base_geometry = cs.base_geometry
    vb.view_geometry = cs.view_geometry
    vb.next_functions = ((cs, 0),)
    view._grad_fn = vb
    view._requires_grad = True
    m.output_nr = 0
    m.version = view._storage.version
    return 0


# ---------------------------------------------------------------- custom Functions

@cython.final
cdef class PyFunctionNode(Node):
    """The node of an ``ember.autograd.Function``: its ``backward`` is the formula."""
    cdef public object ctx
    cdef public object fn_class
    cdef public tuple needs

    def name(self):
        return self.fn_class.__name__ + "Backward"

    cdef tuple apply(self, tuple grads):
        self.check_alive()
        out = self.fn_class._run_backward(self.ctx, grads)
        cdef list picked = []
        cdef int k
        for k in range(len(self.needs)):
            if self.needs[k]:
                picked.append(out[k] if k < len(out) else None)
        return tuple(picked)

    cdef int release(self) except -1:
        if self.ctx is not None and self.ctx._release():
            self._released = True
        return 0


def _make_function_node(fn_class, ctx, list inputs, list outputs, set non_differentiable,
                        set dirty):
    """Link the outputs of a custom Function's forward into the graph."""
    cdef PyFunctionNode node = PyFunctionNode.__new__(PyFunctionNode)
    cdef list edges = [], needs = [], conforms = []
    cdef Tensor t
    cdef int k
    for x in inputs:
        if isinstance(x, Tensor):
            t = <Tensor>x
            needs.append(bool(t._requires_grad))
            if t._requires_grad:
                edges.append(gradient_edge(t))
                conforms.append(meta_record(t))
    node.ctx = ctx
    node.fn_class = fn_class
    node.needs = tuple(needs)
    node.next_functions = tuple(edges)
    node._conform = tuple(conforms)
    node._num_outputs = len(outputs)
    for k in range(len(outputs)):
        o = outputs[k]
        if not isinstance(o, Tensor):
            continue
        t = <Tensor>o
        if id(t) in dirty:
            check_inplace(t)
        if id(t) in non_differentiable or em_category[t._dtype] < 2:
            continue
        set_history(t, node, k, id(t) in dirty)
    return node


def _needs_any_grad(list inputs):
    cdef object x
    if not grad_enabled():
        return False
    for x in inputs:
        if isinstance(x, Tensor) and (<Tensor>x)._requires_grad:
            return True
    return False


# ---------------------------------------------------------------- tensor-side API

def tensor_output_nr(Tensor t):
    return output_nr_of(t)


def tensor_register_hook(Tensor t, fn):
    """``Tensor.register_hook``: ``fn(grad)`` runs when the gradient of ``t`` is computed
    and may return a replacement."""
    cdef AutogradMeta m
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._grad_fn is not None:
        return (<Node>t._grad_fn)._register_tensor_hook(output_nr_of(t), fn)
    m = meta_of(t, True)
    if m.hooks is None:
        m.hooks = []
    m.hooks.append(fn)
    return RemovableHandle(m.hooks, fn)


def tensor_retain_grad(Tensor t):
    """``Tensor.retain_grad``: keep the gradient of a non-leaf in ``.grad``."""
    if not t._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t._grad_fn is None:
        return
    meta_of(t, True).retains_grad = True
    (<Node>t._grad_fn)._retain_grad(output_nr_of(t), t)


def tensor_retains_grad(Tensor t):
    cdef AutogradMeta m = meta_of(t, False)
    return t._grad_fn is not None and m is not None and m.retains_grad


def tensor_gradient_edge(Tensor t):
    return gradient_edge(t)


# ---------------------------------------------------------------- the engine

cdef object _run_hooks(list hooks, object g):
    for h in list(hooks):
        r = h(g)
        if r is not None:
            g = r
    return g


cdef object _check_nan(Node node, tuple outs):
    from ember.autograd.anomaly_mode import _report_nan
    for k in range(len(outs)):
        g = outs[k]
        if g is not None and bool((g != g).any()):
            _report_nan(node, k)


# The engine keeps its per-run bookkeeping (dependency count, gradient buffer) in the
# nodes themselves, claimed for the run: dictionaries cost more than the nodes' own work.
# A node that another run (another thread's backward through a shared leaf) has claimed
# keeps its state for this run in a dictionary instead.
cdef Py_ssize_t _run_counter = 0
cdef set _active_runs = set()


@cython.final
cdef class _Run:
    cdef Py_ssize_t id
    cdef list claimed
    cdef dict foreign        # node -> [dependency count, buffer]

    cdef bint visit(self, Node node):
        """Claim ``node`` for this run; False when it was already visited."""
        if node._run == self.id:
            return False
        if node._run != 0 and node._run in _active_runs:
            if self.foreign is None:
                self.foreign = {}
            if node in self.foreign:
                return False
            self.foreign[node] = [0, None]
            return True
        node._run = self.id
        node._deps = 0
        node._buffer = None
        self.claimed.append(node)
        return True

    cdef inline Py_ssize_t add_deps(self, Node node, Py_ssize_t delta):
        cdef list state
        if node._run == self.id:
            node._deps += delta
            return node._deps
        state = <list>self.foreign[node]
        state[0] = <Py_ssize_t>state[0] + delta
        return state[0]

    cdef inline list buffer(self, Node node, bint create):
        cdef list state
        if node._run == self.id:
            if node._buffer is None and create:
                node._buffer = [None] * node._num_outputs
            return node._buffer
        state = <list>self.foreign[node]
        if state[1] is None and create:
            state[1] = [None] * node._num_outputs
        return state[1]

    cdef inline list take_buffer(self, Node node):
        cdef list buf, state
        if node._run == self.id:
            buf = node._buffer
            node._buffer = None
            return buf
        state = <list>self.foreign[node]
        buf = state[1]
        state[1] = None
        return buf

    cdef void finish(self) noexcept:
        cdef Node node
        for obj in self.claimed:
            node = <Node>obj
            node._run = 0
            node._buffer = None
        _active_runs.discard(self.id)


cdef inline void _add_to_buffer(list buf, int nr, object g):
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def run_backward(tuple outputs, tuple grad_outputs, bint keep_graph, bint create_graph,
                 tuple inputs, bint accumulate, bint allow_unused):
    """Run the graph behind ``outputs`` backward from ``grad_outputs``.

    ``accumulate``: add into the ``.grad`` of leaves (``Tensor.backward``), restricted to
    ``inputs`` when given; else return the gradients of ``inputs`` (``autograd.grad``).
    """
    global _run_counter
    cdef dict capture = None
    cdef set needed = None, root_storages = None
    cdef list stack = [], ready = [], captured, roots = [], buf
    cdef Node node, nxt
    cdef Tensor t
    cdef tuple edge, grads, outs, conforms, nexts
    cdef Py_ssize_t k, nr, n_next
    cdef object g, nxt_obj
    cdef bint check_nan = _anomaly_check_nan, all_none
    cdef _Run run = _Run.__new__(_Run)
    _run_counter += 1
    run.id = _run_counter
    run.claimed = []
    _active_runs.add(run.id)
    previous = set_grad_mode(create_graph)
    try:
        # roots: each output's edge gets its gradient
        for k in range(len(outputs)):
            t = <Tensor>outputs[k]
            edge = gradient_edge(t)
            if edge[0] is None:
                raise RuntimeError(f"element {k} of tensors does not require grad and does not "
                                   "have a grad_fn")
            roots.append(edge)
            if grad_outputs[k] is not None:
                if root_storages is None:
                    root_storages = set()
                root_storages.add((<Tensor>grad_outputs[k])._storage)
        # what to capture: gradients reaching the inputs' edges
        captured = [None] * len(inputs)
        if inputs:
            capture = {}
        for k in range(len(inputs)):
            t = <Tensor>inputs[k]
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            edge = gradient_edge(t)
            capture.setdefault(edge[0], []).append((edge[1], k, t))
        # count each node's dependents (edges from nodes reachable from the roots)
        for edge in roots:
            if run.visit(<Node>edge[0]):
                stack.append(edge[0])
        while stack:
            node = <Node>stack.pop()
            for edge in node.next_functions:
                nxt_obj = edge[0]
                if nxt_obj is None:
                    continue
                nxt = <Node>nxt_obj
                if run.visit(nxt):
                    stack.append(nxt)
                run.add_deps(nxt, 1)
        if inputs:
            needed = _needed_nodes(roots, capture)
        # seed the buffers with the root gradients
        for k in range(len(roots)):
            node = <Node>roots[k][0]
            _add_to_buffer(run.buffer(node, True), roots[k][1], grad_outputs[k])
        for edge in roots:
            if run.add_deps(<Node>edge[0], 0) == 0 and edge[0] not in ready:
                ready.append(edge[0])
        while ready:
            node = <Node>_pop_latest(ready)
            grads = tuple(run.take_buffer(node))
            if (type(node) is AccumulateGrad or node._tensor_pre_hooks is not None
                    or node._retained is not None or node._pre_hooks is not None):
                grads = _pre_hooks(node, grads)
            if capture is not None and node in capture:
                for nr, k, t in capture[node]:
                    g = grads[nr]
                    captured[k] = g
                    if accumulate and t._grad_fn is not None and g is not None:
                        # backward(inputs=[non-leaf]) accumulates into its .grad
                        accumulate_grad(t, <Tensor>g, create_graph, root_storages)
                if not accumulate and type(node) is AccumulateGrad:
                    continue
            if needed is not None and node not in needed:
                continue
            if type(node) is AccumulateGrad:
                t = (<AccumulateGrad>node).leaf()
                if (grads[0] is not None and t is not None and accumulate
                        and (not inputs or node in capture)):
                    accumulate_grad(t, <Tensor>grads[0], create_graph, root_storages)
                continue
            nexts = node.next_functions
            n_next = len(nexts)
            all_none = True
            for g in grads:
                if g is not None:
                    all_none = False
                    break
            if all_none:
                outs = (None,) * n_next
            else:
                node.check_alive()
                outs = node.apply(grads)
                if len(outs) != n_next:
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                                       f"gradients (expected {n_next}, got {len(outs)})")
                if check_nan:
                    _check_nan(node, outs)
                if node._hooks is not None:
                    for h in list(node._hooks):
                        r = h(outs, grads)
                        if r is not None:
                            outs = tuple(r)
            if not keep_graph:
                node.release()
            conforms = node._conform
            for k in range(n_next):
                edge = <tuple>nexts[k]
                nxt_obj = edge[0]
                if nxt_obj is None:
                    continue
                nxt = <Node>nxt_obj
                g = outs[k]
                if g is not None and (needed is None or nxt in needed):
                    if conforms is not None and conforms[k] is not None:
                        g = conform(g, conforms[k])
                    _add_to_buffer(run.buffer(nxt, True), edge[1], g)
                if run.add_deps(nxt, -1) == 0:
                    if run.buffer(nxt, False) is not None:
                        ready.append(nxt)
                    else:
                        _skip_subgraph(nxt, run, ready)
            # drop this node's references to the gradients it passed on: a leaf may then
            # take its gradient without a copy (see accumulate_grad)
            outs = None
            g = None
            grads = None
        if not accumulate:
            for k in range(len(inputs)):
                if captured[k] is None and not allow_unused:
                    raise RuntimeError("One of the differentiated Tensors appears to not have "
                                       "been used in the graph. Set allow_unused=True if this "
                                       "is the desired behavior.")
        return captured
    finally:
        set_grad_mode(previous)
        run.finish()


cdef object _pop_latest(list ready):
    """The ready node created last (PyTorch's order on the CPU)."""
    cdef Py_ssize_t i, best = 0, n = len(ready)
    if n > 1:
        for i in range(1, n):
            if (<Node>ready[i])._seq > (<Node>ready[best])._seq:
                best = i
    return ready.pop(best)


cdef void _skip_subgraph(Node start, _Run run, list ready):
    """A node that received no gradient at all: its inputs get none from it either."""
    cdef list stack = [start]
    cdef Node node, nxt
    while stack:
        node = <Node>stack.pop()
        for edge in node.next_functions:
            if edge[0] is None:
                continue
            nxt = <Node>edge[0]
            if run.add_deps(nxt, -1) == 0:
                if run.buffer(nxt, False) is not None:
                    ready.append(nxt)
                else:
                    stack.append(nxt)


cdef tuple _pre_hooks(Node node, tuple grads):
    cdef list gl
    cdef Tensor var
    if type(node) is AccumulateGrad:
        var = (<AccumulateGrad>node).leaf()
        m = meta_of(var, False) if var is not None else None
        if m is not None and m.hooks and grads[0] is not None:
            grads = (_run_hooks(m.hooks, grads[0]),)
    elif node._tensor_pre_hooks is not None or node._retained is not None:
        gl = list(grads)
        if node._tensor_pre_hooks is not None:
            for nr, hooks in node._tensor_pre_hooks.items():
                if gl[nr] is not None and hooks:
                    gl[nr] = _run_hooks(hooks, gl[nr])
        if node._retained is not None:
            for nr, ref in node._retained.items():
                t = ref()
                if t is not None and gl[nr] is not None:
                    _retain(<Tensor>t, gl[nr])
        grads = tuple(gl)
    if node._pre_hooks is not None:
        for h in list(node._pre_hooks):
            r = h(grads)
            if r is not None:
                grads = tuple(r)
    return grads


cdef void _retain(Tensor t, object g):
    if t._grad is None:
        t._grad = g.detach().clone() if not grad_enabled() else g.clone()
    else:
        t._grad = t._grad + g


cdef set _needed_nodes(list roots, dict capture):
    """Nodes from which a captured edge can be reached: the only ones grad() must run."""
    cdef dict memo = {}
    cdef list stack
    cdef Node node
    cdef set needed = set()
    for edge in roots:
        stack = [(edge[0], False)]
        while stack:
            obj, expanded = stack.pop()
            if obj is None or (obj in memo and not expanded):
                continue
            node = <Node>obj
            if not expanded:
                memo[obj] = False
                stack.append((obj, True))
                for e in node.next_functions:
                    if e[0] is not None and e[0] not in memo:
                        stack.append((e[0], False))
            else:
                hit = obj in capture or any([memo.get(e[0], False) for e in node.next_functions
                                             if e[0] is not None])
                memo[obj] = hit
                if hit:
                    needed.add(obj)
    return needed


_set_recorders(PyCapsule_New(<void *>record_elementwise, NULL, NULL),
               PyCapsule_New(<void *>record_op, NULL, NULL))
