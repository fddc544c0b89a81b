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

from ember._core._tensor cimport (Tensor, Storage, storage_base, grad_enabled, set_grad_mode,
                                  version_of,
                                  make_view, ew_forward, REQUIRES_GRAD, FW_GRAD,
                                  GRAD_MODE)
from ember._core._tensor import _set_recorders, empty_strided
from cpython.pycapsule cimport PyCapsule_New
from ember._core._dtype cimport em_category, em_itemsize

import threading
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
    cdef list _post_hooks       # Tensor.register_post_accumulate_grad_hook's, or None

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
            accumulate_grad(var, <Tensor>grads[0], grad_enabled() & GRAD_MODE, None)
            self.run_post_hooks(var)
        return ()

    cdef int run_post_hooks(self, Tensor var) except -1:
        cdef object result
        if self._post_hooks is not None:
            for hook in list(self._post_hooks):
                result = hook(var)
                if result is not None:
                    raise TypeError(f"post accumulate grad hooks must return None, but the "
                                    f"hook returned '{type(result).__name__}'")
        return 0


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


cdef void _own_view_storage(Tensor g, Storage storage, bint create_graph) noexcept:
    """Turn a gradient that views a whole storage (a transposed product, a reduction
    reshaped) into its plain owner when its base is reachable only through it, so that
    ``accumulate_grad`` can steal it instead of copying it."""
    cdef Tensor base = g._view_base
    # references to the base: g's field and the local; to g: the engine's tuple and the argument
    if (base is None or create_graph or Py_REFCNT(base) > 2 or Py_REFCNT(g) > 2
            or (g._requires_grad & REQUIRES_GRAD) or base._autograd_meta is not None
            or g._numel * em_itemsize[g._dtype] != storage.size_bytes):
        return
    g._view_base = None


cdef int accumulate_grad(Tensor var, Tensor g, bint create_graph, set root_storages) except -1:
    """PyTorch's rule: the first gradient is stolen when nothing else can see it (else
    cloned); later ones are added in place, or out of place when building a graph."""
    if var._grad is not None and not isinstance(var._grad, Tensor):
        var._grad = g + var._grad     # a dense gradient plus a sparse one is dense
        return 0
    cdef Tensor old = var._grad
    cdef Storage storage = g._storage
    if old is None:
        _own_view_storage(g, storage, create_graph)
        # stealable: referenced only by the engine's gradient tuple and this call's argument,
        # the only tensor on its storage (besides the local above), not the caller's own
        # gradient, and dense
        if (not create_graph and Py_REFCNT(g) <= 2 and Py_REFCNT(storage) <= 2
                and not (root_storages and storage in root_storages)
                and g.is_contig() and not (g._requires_grad & REQUIRES_GRAD)):
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
        if m.base is not None and m.version != version_of(t):
            refresh_view(t, m)
        return (t._grad_fn, m.output_nr)
    if t._requires_grad & REQUIRES_GRAD:
        return leaf_edge(t)
    return (None, 0)


cdef int refresh_view(Tensor view, AutogradMeta m) except -1:
    """The base (or another view of it) changed in place since this view's history was
    recorded: the view now reads the base's current history, as in PyTorch."""
    cdef AsStridedViewBackward vb = view_of_base(m.base, view)
    vb.next_functions = (gradient_edge(m.base),)
    view._grad_fn = vb
    m.output_nr = 0
    m.version = version_of(view)
    return 0


# ---------------------------------------------------------------- saved tensors

# The (pack_hook, unpack_hook) pairs of ember.autograd.graph.saved_tensors_hooks, per
# thread, innermost last; a pair of (None, message) disables hooks.  Until some thread
# installs one, saving checks `_hooks_in_use` alone.
_hook_state = threading.local()
cdef Py_ssize_t _hooks_in_use = 0


def _push_saved_tensors_hooks(pack_hook, unpack_hook):
    global _hooks_in_use
    stack = getattr(_hook_state, "stack", None)
    if stack is None:
        stack = _hook_state.stack = []
    if stack and stack[len(stack) - 1][0] is None and pack_hook is not None:
        raise RuntimeError(stack[len(stack) - 1][1])
    stack.append((pack_hook, unpack_hook))
    _hooks_in_use += 1


def _pop_saved_tensors_hooks():
    global _hooks_in_use
    _hook_state.stack.pop()
    _hooks_in_use -= 1


def _current_saved_tensors_hooks():
    """The innermost (pack_hook, unpack_hook) of this thread, or None."""
    if _hooks_in_use == 0:
        return None
    stack = getattr(_hook_state, "stack", None)
    if not stack:
        return None
    hooks = stack[len(stack) - 1]
    return None if hooks[0] is None else hooks


@cython.final
cdef class SavedTensor:
    """A tensor kept for backward, with the version it had when saved; under saved-tensor
    hooks, what the pack hook made of it instead (and the unpack hook that undoes it)."""
    cdef Tensor data
    cdef Py_ssize_t version
    cdef bint is_output
    cdef int output_nr
    cdef object packed
    cdef object unpack_hook
    cdef tuple edge             # a packed input's gradient edge, to relink what unpacks
    cdef tuple meta             # a packed tensor's (shape, dtype), for peek()

    cdef int pack(self, Tensor t) except -1:
        """Keep `t` itself, or what the thread's pack hook returns for it (run with grad
        mode off, as PyTorch does)."""
        hooks = _current_saved_tensors_hooks() if _hooks_in_use else None
        if hooks is None:
            self.data = t
            return 0
        if (t._requires_grad & REQUIRES_GRAD) and not self.is_output:
            self.edge = gradient_edge(t)
        self.meta = (tuple(t.shape), t.dtype)
        cdef bint previous = set_grad_mode(False)
        try:
            self.packed = hooks[0](t)
        finally:
            set_grad_mode(previous)
        self.unpack_hook = hooks[1]
        return 0

    cdef object unpack(self, Node node):
        cdef Tensor t
        node.check_alive()
        if self.unpack_hook is not None:
            return self.unpack_packed(node)
        if version_of(self.data) != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{_type_str(self.data)}], which is "
                f"{'output' if self.is_output else 'an input'} {self.output_nr} of {node.name()}, "
                f"is at version {version_of(self.data)}; expected version {self.version} "
                "instead. Hint: the backtrace further above can show the operation that failed "
                "to compute its gradient. Use ember.autograd.set_detect_anomaly(True) to find it.")
        if not self.is_output:
            return self.data
        # an output is stored without its grad_fn (that would be a cycle): rebuild the link
        t = make_view(self.data, self.data._ndim, self.data._shape, self.data._strides,
                      self.data._offset)
        t._view_base = None
        t._grad_fn = node
        t._requires_grad |= REQUIRES_GRAD
        if self.output_nr:
            meta_of(t, True).output_nr = self.output_nr
        if _forward_hook is not None and (self.data._requires_grad & FW_GRAD):
            # forward-mode AD over a backward formula that reuses its result (exp,
            # sigmoid...): the rebuilt output carries the output's tangent
            _forward_hook("alias", None, None, (self.data,), None, t)
        return t


    cdef object peek(self):
        """The saved tensor as it stands, for reading its shape and dtype (node names): a
        packed one is stood in for by an empty-strided tensor of its shape and dtype."""
        if self.unpack_hook is None:
            return self.data
        return empty_strided(self.meta[0], (0,) * len(self.meta[0]), dtype=self.meta[1])

    cdef object unpack_packed(self, Node node):
        """What the unpack hook gives back, relinked to the history of the tensor it
        stands for (its node, or the saved input's gradient edge), so that gradients of
        gradients still reach it.  The version check has nothing to look at here: the
        hook's result replaces the tensor."""
        cdef Tensor t
        cdef bint previous = set_grad_mode(False)
        try:
            result = self.unpack_hook(self.packed)
        finally:
            set_grad_mode(previous)
        if not isinstance(result, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but "
                            f"got result of type {type(result).__name__}")
        t = <Tensor>result
        if self.is_output:
            history, output_nr = node, self.output_nr
        elif self.edge is not None and self.edge[0] is not None:
            history, output_nr = self.edge
        else:
            return t
        t = make_view(t, t._ndim, t._shape, t._strides, t._offset)
        t._view_base = None
        t._grad_fn = history
        t._requires_grad |= REQUIRES_GRAD
        if output_nr:
            meta_of(t, True).output_nr = output_nr
        return t


cdef str _type_str(Tensor t):
    return f"{t.dtype} {list(t.shape)}"


cdef int _refuse_inference(Tensor t) except -1:
    raise RuntimeError("Inference tensors cannot be saved for backward. Please do not use "
                       "Tensors created in inference mode in computation tracked by autograd. "
                       "To work around this, you can make a clone to get a normal tensor and "
                       "use it in autograd, or use `ember.no_grad()` instead of "
                       "`ember.inference_mode()`.")


cdef inline SavedTensor save_input(Tensor t):
    if t._storage.inference:
        _refuse_inference(t)
    cdef SavedTensor s = SavedTensor.__new__(SavedTensor)
    s.version = version_of(t)
    if _hooks_in_use:
        s.pack(t)
    else:
        s.data = t
    return s


cdef SavedTensor save_output(Tensor t, int output_nr):
    if t._storage.inference:
        _refuse_inference(t)
    cdef SavedTensor s = SavedTensor.__new__(SavedTensor)
    alias = make_view(t, t._ndim, t._shape, t._strides, t._offset)
    alias._view_base = None         # an alias, not a view: referring to t would be a cycle
    s.version = version_of(t)
    s.is_output = True
    s.output_nr = output_nr
    s.pack(alias)
    if _forward_hook is not None:
        # the forward hook gives t its tangent once the op is recorded: the alias takes
        # it then (t itself may be gone by the time a backward formula reads the alias)
        _fw_saved_outputs.append((t, s))
    return s


cdef inline object unpack(object v, Node node):
    return (<SavedTensor>v).unpack(node) if type(v) is SavedTensor else v


def save_tensor(Tensor t, int output_nr):
    """Save ``t`` for a custom Function's backward (``output_nr`` >= 0 for its outputs)."""
    return save_input(t) if output_nr < 0 else save_output(t, output_nr)


def unpack_saved(SavedTensor saved not None, Node node):
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

include "_record_elementwise.pxi"
include "_record_op.pxi"
include "_inplace_views.pxi"
include "_function_nodes.pxi"
include "_engine.pxi"


# ---------------------------------------------------------------- in-place view ops

def _adopt_view_history(Tensor t, Tensor view):
    """``t.unsqueeze_(0)`` and the other in-place view ops: ``t`` takes the layout of
    ``view`` (a view of it, just recorded) and its history, so the gradient of what is
    computed from ``t`` next flows back through the view's node to ``t``'s old history."""
    cdef AutogradMeta m
    t._grad_fn = view._grad_fn
    t._requires_grad |= REQUIRES_GRAD
    m = meta_of(t, t._autograd_meta is not None or output_nr_of(view) != 0)
    if m is not None:
        m.output_nr = output_nr_of(view)


# ---------------------------------------------------------------- the tracer's hooks

# ember.jit's tracer: told of every recorded op, with its arguments and result, after the
# op ran (None when not tracing: one pointer test per recorded op).  Forward-mode AD
# (ember.autograd.forward_ad) installs a second hook of the same form while a dual level
# is open: it gives the result of each op on a dual tensor its tangent.
cdef object _trace_hook = None
cdef object _forward_hook = None
# outputs saved for backward since the forward hook last ran, with their SavedTensor
cdef list _fw_saved_outputs = []


cdef void _tangents_to_saved_outputs(Py_ssize_t mark) except *:
    """Give the aliases of the outputs one op saved for backward (the entries from
    `mark` on: the hook's own ops nest inside and take theirs first) their tangents."""
    for t, s in _fw_saved_outputs[mark:]:
        if ((<Tensor>t)._requires_grad & FW_GRAD) and (<SavedTensor>s).unpack_hook is None:
            _forward_hook("alias", None, None, (t,), None, (<SavedTensor>s).data)
    del _fw_saved_outputs[mark:]


def _set_trace_hook(hook):
    """Install ``hook(kind, name, fn, args, kwargs, result)`` (or None); return the previous
    one.  ``kind`` is ``"ew"`` (``name`` the elementwise op number, ``kwargs`` the
    ``(out, inplace)`` pair), ``"op"`` or ``"view"``, after the op ran; or ``"write"``
    before an op writes ``args[0]`` in place (``result`` None).  The forward hook also
    gets ``"alias"`` when the engine rebuilds a saved output ``args[0]`` as ``result``."""
    global _trace_hook
    previous = _trace_hook
    _trace_hook = hook
    return previous


def _set_forward_hook(hook):
    """Install forward-mode AD's hook (or None), of the form of :func:`_set_trace_hook`'s,
    except that ``"write"`` gets all the op's arguments; return the previous one."""
    global _forward_hook
    previous = _forward_hook
    _forward_hook = hook
    _fw_saved_outputs.clear()
    return previous


def _set_forward_flag(Tensor t, bint carries_tangent):
    """Mark ``t`` as carrying a forward-mode tangent (its ops then reach the recorders and
    the forward hook), or clear the mark; its ``requires_grad`` is left as it is."""
    if carries_tangent:
        t._requires_grad |= FW_GRAD
    else:
        t._requires_grad &= ~FW_GRAD


cdef object _traced_elementwise(int op, list args, object out, bint inplace):
    if _trace_hook is not None and (inplace or out is not None):
        _trace_hook("write", op, None, (args[0] if inplace else out,), None, None)
    if _forward_hook is not None and (inplace or out is not None):
        _forward_hook("write", op, None, tuple(args), (out, inplace), None)
    cdef Py_ssize_t mark = len(_fw_saved_outputs)
    result = record_elementwise(op, args, out, inplace)
    if _trace_hook is not None:
        _trace_hook("ew", op, None, tuple(args), (out, inplace), result)
    if _forward_hook is not None:
        _forward_hook("ew", op, None, tuple(args), (out, inplace), result)
        if len(_fw_saved_outputs) > mark:
            _tangents_to_saved_outputs(mark)
    return result


cdef object _traced_op(str name, object fn, tuple args, dict kwargs):
    if _trace_hook is not None or _forward_hook is not None:
        target = kwargs.get("out") if kwargs else None
        if target is None and args and (name.endswith("_") or name == "setitem"):
            target = args[0]
        if target is not None:
            if _trace_hook is not None:
                _trace_hook("write", name, fn, (target,), None, None)
            if _forward_hook is not None:
                _forward_hook("write", name, fn, args, kwargs, None)
    cdef Py_ssize_t mark = len(_fw_saved_outputs)
    result = record_op(name, fn, args, kwargs)
    if _trace_hook is not None:
        _trace_hook("op", name, fn, args, kwargs, result)
    if _forward_hook is not None:
        _forward_hook("op", name, fn, args, kwargs, result)
        if len(_fw_saved_outputs) > mark:
            _tangents_to_saved_outputs(mark)
    return result


cdef object _traced_view(str name, Tensor input, Tensor output, tuple args):
    result = record_view(name, input, output, args)
    if _trace_hook is not None:
        _trace_hook("view", name, None, args, None, result)
    if _forward_hook is not None:
        _forward_hook("view", name, None, args, None, result)
    return result


_set_recorders(PyCapsule_New(<void *>_traced_elementwise, NULL, NULL),
               PyCapsule_New(<void *>_traced_op, NULL, NULL),
               PyCapsule_New(<void *>_traced_view, NULL, NULL))
