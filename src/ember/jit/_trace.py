"""The tracer: records the ops of one run of a function into a :class:`Graph`.

How ops reach it: ember's op entries take their fast paths unless grad mode is on and an
input requires grad; then they go through autograd's recorders (elementwise, view-like
and every other op), which tell the tracer of each call after it ran (the hook in
``ember.autograd._graph``).  So the tracer runs the function with grad mode on and inputs
that require grad (floating inputs as non-leaf copies, so in-place ops on them stay legal;
integer and boolean inputs, and such results computed from the inputs, are marked to take
the same paths; a traced module's floating parameters are made to require grad for the
run): every op computed from the inputs is recorded, and ops on weights are recorded too (those the
constant-folding pass precomputes).  Sizes read from a traced tensor (``x.shape[0]``,
``x.size(1)``) come back as ints that remember where they came from, so views keep
them symbolic; conversions of traced tensors to Python values warn (:class:`TracerWarning`).

An op that computes from the inputs but never reaches a recorder (an integer-only path,
a round trip through NumPy) would be baked into the graph as a constant: ``trace`` runs
the function a second time on inputs whose elements are permuted and raises when a
constant of the graph changed with them (see :func:`check_constants`).
"""
import threading
import warnings

import ember
from ember._core import _tensor as _core
from ember.autograd import _graph as _autograd_graph
from ember.jit._graph import Graph, Node, SymSize, Value
from ember.ops import nn_fused as _nn_fused, rnn as _rnn

__all__ = ["TracerWarning", "Tracer"]

# objects some ops take as arguments to keep statistics for their backward: a fresh one
# per node when the graph runs (their names are what a saved graph stores)
SCRATCH_TYPES = {"nn_fused._Saved": _nn_fused._Saved, "rnn._Saved": _rnn._Saved}
_SCRATCH_NAMES = {cls: name for name, cls in SCRATCH_TYPES.items()}


class TracerWarning(Warning):
    """Warns that a traced graph may not be correct for other inputs (a traced tensor
    became a Python value, or the function took another path for other inputs)."""


class Scratch:
    """Marks an argument that is a scratch object of type ``SCRATCH_TYPES[name]``."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


class _TracedInt(int):
    """A size read from a traced tensor: an int that remembers its :class:`SymSize`
    through integer arithmetic."""
    # (no __slots__: int subtypes cannot have them)

    def __new__(cls, value, sym):
        obj = int.__new__(cls, value)
        obj.sym = sym
        return obj

    def _apply(self, op, other, reflected=False):
        if type(other) is bool or not isinstance(other, int):
            return NotImplemented
        a, b = int(self), int(other)
        sa, sb = self.sym, (other.sym if isinstance(other, _TracedInt) else b)
        if reflected:
            a, b, sa, sb = b, a, sb, sa
        if op == "add":
            value = a + b
        elif op == "sub":
            value = a - b
        elif op == "mul":
            value = a * b
        elif op == "floordiv":
            value = a // b          # ZeroDivisionError as for ints
        else:
            value = a % b
        return _TracedInt(value, SymSize(op, sa, sb))

    def __add__(self, other):
        return self._apply("add", other)

    def __radd__(self, other):
        return self._apply("add", other, True)

    def __sub__(self, other):
        return self._apply("sub", other)

    def __rsub__(self, other):
        return self._apply("sub", other, True)

    def __mul__(self, other):
        return self._apply("mul", other)

    def __rmul__(self, other):
        return self._apply("mul", other, True)

    def __floordiv__(self, other):
        return self._apply("floordiv", other)

    def __rfloordiv__(self, other):
        return self._apply("floordiv", other, True)

    def __mod__(self, other):
        return self._apply("mod", other)

    def __neg__(self):
        return _TracedInt(-int(self), SymSize("neg", self.sym, None))


class Tracer:
    """Builds the graph of one run: install with ``with tracer:``."""

    active = {}     # thread ident -> tracers installed by it now (ember.jit.is_tracing)

    def __init__(self, constant_names=None):
        self.graph = Graph()
        self.value_of = {}              # id(tensor) -> its latest Value
        self.keep = []                  # every tensor met: alive, so ids stay unique
        self.derived = set()            # indexes of values computed from the inputs
        self.constant_names = constant_names or {}
        self.ew_names = list(_core.elementwise_ops())
        self.created = []               # [tensor, its version as the graph last wrote it]
        self._previous = None

    # ---------------------------------------------------------------- install
    def __enter__(self):
        self._thread = threading.get_ident()      # ops of other threads are not traced
        Tracer.active[self._thread] = Tracer.active.get(self._thread, 0) + 1
        self._grad = ember.is_grad_enabled()
        ember.set_grad_enabled(True)
        self._previous = (_autograd_graph._set_trace_hook(self.on_op),
                          _core._set_python_value_hook(self.on_python_value),
                          _core._set_size_hook(self.on_size),
                          _core._set_creation_hook(self.on_create))
        return self

    def __exit__(self, *exc):
        Tracer.active[self._thread] -= 1
        hook, value_hook, size_hook, creation_hook = self._previous
        _autograd_graph._set_trace_hook(hook)
        _core._set_python_value_hook(value_hook)
        _core._set_size_hook(size_hook)
        _core._set_creation_hook(creation_hook)
        ember.set_grad_enabled(self._grad)
        return False

    # ---------------------------------------------------------------- values
    def add_input(self, tensor, name):
        """The traced stand-in of input ``tensor``: a floating one requires grad (and is
        not a leaf, so in-place ops on it are allowed)."""
        hook = _autograd_graph._set_trace_hook(None)    # the copy is not part of the graph
        try:
            if tensor.is_floating_point() or tensor.is_complex():
                tensor = tensor.detach().requires_grad_(True).clone()
            else:
                tensor = tensor.detach().clone()
                _core._mark_traced(tensor)
        finally:
            _autograd_graph._set_trace_hook(hook)
        value = self.graph.new_value("input", tensor, name)
        self.graph.inputs.append(value)
        self._bind(tensor, value)
        self.derived.add(value.index)
        return tensor

    def _bind(self, tensor, value):
        self.value_of[id(tensor)] = value
        self.keep.append(tensor)

    def lookup(self, tensor):
        """The value of ``tensor``: a new constant when the graph has not met it."""
        value = self.value_of.get(id(tensor))
        if value is None:
            name = self.constant_names.get(id(tensor))
            value = self.graph.new_value("constant", tensor,
                                         name or f"c{len(self.graph.values)}")
            self.graph.constants[value] = tensor
            self._bind(tensor, value)
        return value

    def template(self, obj, where):
        """``obj`` (an argument or a result) with tensors as values and traced sizes as
        SymSizes; raises TypeError naming ``where`` for what a graph cannot hold."""
        if isinstance(obj, ember.Tensor):
            return self.lookup(obj)
        if isinstance(obj, _TracedInt):
            return obj.sym
        if obj is None or isinstance(obj, (bool, int, float, complex, str)) or obj is Ellipsis:
            return obj
        if isinstance(obj, (tuple, list)):
            items = [self.template(x, where) for x in obj]
            return items if isinstance(obj, list) else tuple(items)
        if type(obj) is dict:
            return {k: self.template(v, where) for k, v in obj.items()}
        if isinstance(obj, slice):
            return slice(self.template(obj.start, where), self.template(obj.stop, where),
                         self.template(obj.step, where))
        if isinstance(obj, (ember.dtype, ember.device)):
            return obj
        if type(obj) in _SCRATCH_NAMES:
            return Scratch(_SCRATCH_NAMES[type(obj)])
        raise TypeError(f"ember.jit.trace: {where} got an argument of type "
                        f"{type(obj).__name__}, which a traced graph cannot hold")

    def _is_derived(self, values):
        return any(v.index in self.derived for v in values)

    # ---------------------------------------------------------------- hooks
    def on_op(self, kind, name, fn, args, kwargs, result):
        """Autograd's recorders call this after each op ran."""
        if threading.get_ident() != self._thread:
            return
        if kind == "write":
            self.before_write(args[0])
            return
        if kind == "ew":
            out, inplace = kwargs
            name = self.ew_names[name]
            kwargs = {} if out is None else {"out": out}
            inplace = inplace or out is not None
        elif kind == "op":
            kwargs = dict(kwargs) if kwargs else {}
            if kwargs.get("out") is None:
                kwargs.pop("out", None)
            # an op giving its first argument back wrote it (setitem) or did nothing: kept
            # as a write either way, so that a write is never lost
            inplace = (name.endswith("_") or "out" in kwargs
                       or (len(args) > 0 and result is args[0]))
        else:
            kwargs = {}
            inplace = False
        if not inplace and _returns_input(result, args):
            return                      # the op gave an input back unchanged: no node
        where = f"op '{name}'"
        arg_template = self.template(args, where)
        kwarg_template = self.template(kwargs, where)
        node = Node(kind, name, arg_template, kwarg_template, [], None, inplace, fn)
        derived = self._is_derived(node.inputs())
        if inplace and self.created:
            target = args[0] if args else None
            for entry in self.created:
                if _writes(target, entry[0]):
                    entry[1] = entry[0]._version
        node.result = self._outputs(result, node, derived)
        if not node.outputs:
            if derived:
                warnings.warn(f"ember.jit.trace: op '{name}' gave a Python value computed "
                              "from the inputs; the trace keeps it as a constant and might "
                              "be incorrect for other inputs", TracerWarning, stacklevel=3)
            return
        self.graph.nodes.append(node)

    def before_write(self, target):
        """An op is about to write ``target`` in place.  When it is (a view of) a constant,
        the graph must not write the constant it keeps: the constant becomes the value
        before the write, and a ``clone`` node gives each run a fresh copy to write."""
        if not isinstance(target, ember.Tensor):
            return
        base = target if target._base is None else target._base
        value = self.value_of.get(id(base))
        if value is not None and value.kind != "constant":
            # the graph computes it: writing is fine.  A leaf the tracer marked (an
            # integer tensor, one made from traced sizes) is no leaf of the user's:
            # unmarked, autograd lets the write through, and the result is marked again
            for t in (base, target):
                if t.grad_fn is None and t.requires_grad and \
                        self.value_of.get(id(t), value).kind != "constant":
                    _core._unmark_traced(t)
            return
        if base is not target and not (base.is_contiguous() and base.storage_offset() == 0):
            return      # a view the graph cannot re-make on the clone: check_constants tells
        hook = _autograd_graph._set_trace_hook(None)
        try:
            with ember.no_grad():
                snapshot = base.detach().clone()
        finally:
            _autograd_graph._set_trace_hook(hook)
        if value is None:
            value = self.graph.new_value("constant", snapshot, f"c{len(self.graph.values)}")
        self.graph.constants[value] = snapshot
        self.keep.append(snapshot)
        node = Node("op", "clone", (value,), {}, [], None, False, _core.clone)
        node.result = self._outputs(base, node, False)
        self.graph.nodes.append(node)
        if base is not target:
            view = Node("view", "as_strided", (node.result, tuple(target.shape),
                                               tuple(target.stride()), target.storage_offset()),
                        {}, [], None)
            view.result = self._outputs(target, view, False)
            self.graph.nodes.append(view)

    def on_create(self, name, args, kwargs, result):
        """``zeros``, ``ones``, ``full`` and ``arange`` tell this of each tensor they made:
        one made with sizes read from traced tensors becomes a node (so the graph makes it
        at the sizes it runs at); the others stay constants.  ``detach`` tells this too: the
        detached tensor of a computed value is a node of that value, not a constant."""
        if not ember.is_grad_enabled() or threading.get_ident() != self._thread:
            return
        if name == "detach":
            self.on_detach(args[0], result)
            return
        if name in ("zeros_like", "ones_like", "full_like"):
            self.on_like(name, args, kwargs, result)
            return
        if not _has_traced_int(args):
            return
        where = f"op '{name}'"
        node = Node("op", name, self.template(tuple(args), where),
                    self.template(kwargs, where), [], None)
        node.result = self._outputs(result, node, True)      # marked: its ops are recorded
        self.graph.nodes.append(node)
        # ops on it that do not reach the tracer must not write it (see check_created)
        self.created.append([result, result._version])

    def on_detach(self, source, result):
        value = self.value_of.get(id(source))
        if value is None or value.kind == "constant":
            return                      # a constant's detached view is a constant too
        node = Node("op", "detach", (value,), {}, [], None)
        # not marked (its numpy() and requires_grad stay as the user expects), so the ops
        # it meets reach the tracer through their other, traced, operands
        node.result = self._outputs(result, node, False)
        if value.index in self.derived:
            self.derived.add(node.result.index)
        self.graph.nodes.append(node)

    def on_like(self, name, args, kwargs, result):
        """``zeros_like(x)`` and the like of a computed ``x``: a node making the tensor at
        the shape ``x`` has when the graph runs (a tensor written later is checked as the
        tensors made from traced sizes are)."""
        value = self.value_of.get(id(args[0]))
        if value is None or value.kind == "constant" or value.index not in self.derived:
            return
        where = f"op '{name}'"
        node = Node("op", name, self.template(tuple(args), where),
                    self.template(kwargs, where), [], None)
        node.result = self._outputs(result, node, True)
        self.graph.nodes.append(node)
        self.created.append([result, result._version])

    def check_created(self):
        """Raise RuntimeError when a tensor made from traced sizes was written by an op
        the tracer did not see (the graph would make it without that write)."""
        for tensor, version in self.created:
            if tensor._version != version:
                raise RuntimeError(
                    "ember.jit.trace: a tensor made by zeros/ones/full/arange with sizes "
                    "read from the inputs (or by zeros_like/ones_like/full_like of a computed "
                    f"tensor) (value %{self.value_of[id(tensor)].name}) was "
                    "written in place by an op the tracer did not see; write it with ops on "
                    "traced tensors, or make it from plain sizes (it is then a constant)")

    def _outputs(self, result, node, derived):
        if isinstance(result, ember.Tensor):
            value = self.graph.new_value("node", result)
            node.outputs.append(value)
            self._bind(result, value)       # an in-place op's target now names its new value
            if derived:
                self.derived.add(value.index)
                if not result.requires_grad:
                    # an integer or boolean result: its ops must reach the tracer too
                    _core._mark_traced(result)
            return value
        if isinstance(result, (tuple, list)):
            items = [self._outputs(x, node, derived) for x in result]
            return items if isinstance(result, list) else tuple(items)
        return result

    def on_python_value(self, tensor, what):
        if threading.get_ident() != self._thread:
            return
        value = self.value_of.get(id(tensor))
        if value is not None and value.index in self.derived:
            warnings.warn(f"Converting a tensor to {what} might cause the trace to be "
                          "incorrect. We can't record the data flow of Python values, so "
                          "this value will be treated as a constant in the future. This "
                          "means that the trace might not generalize to other inputs!",
                          TracerWarning, stacklevel=3)

    def on_size(self, tensor):
        if not ember.is_grad_enabled() or threading.get_ident() != self._thread:
            return None                 # inside an op's own computation, or another thread
        value = self.value_of.get(id(tensor))
        if value is None or value.index not in self.derived:
            return None
        return ember.Size([_TracedInt(s, SymSize("size", value, d))
                           for d, s in enumerate(value.shape)])


def _has_traced_int(template):
    if isinstance(template, _TracedInt):
        return True
    if isinstance(template, (tuple, list)):
        return any(_has_traced_int(x) for x in template)
    return False


def _writes(target, tensor):
    """Whether writing ``target`` writes ``tensor`` (the same tensor, or a view of its
    memory)."""
    if not isinstance(target, ember.Tensor):
        return False
    if target is tensor:
        return True
    start = tensor.data_ptr()
    return start <= target.data_ptr() < start + tensor.numel() * tensor.element_size()


def _returns_input(result, args):
    if not isinstance(result, ember.Tensor):
        return False
    for a in args:
        if a is result:
            return True
        if isinstance(a, (tuple, list)) and any(x is result for x in a):
            return True
    return False


def check_constants(first, second):
    """Compare the graphs of two runs on different inputs: raise RuntimeError for a
    constant that changed (computed from the inputs by an op the tracer never saw), warn
    when the runs took different paths."""
    if [(n.kind, n.op) for n in first.nodes] != [(n.kind, n.op) for n in second.nodes]:
        warnings.warn("ember.jit.trace: the function ran other ops for other inputs "
                      "(data-dependent control flow); the trace follows the example "
                      "inputs' path only", TracerWarning, stacklevel=3)
        return
    for k, (a, b) in enumerate(zip(first.nodes, second.nodes)):
        for position, (x, y) in enumerate(zip(a.inputs(), b.inputs())):
            _check_pair(first, second, x, y, f"argument {position} of op '{a.op}' "
                                             f"(node {k}, value %{a.outputs[0].name})")
    for position, (x, y) in enumerate(zip(first.outputs(), second.outputs())):
        _check_pair(first, second, x, y, f"output {position}")


def _check_pair(first, second, x, y, where):
    if x.kind != "constant" or y.kind != "constant":
        return
    t, u = first.constants[x], second.constants[y]
    if t is u:
        return
    if tuple(t.shape) != tuple(u.shape) or t.dtype != u.dtype or \
            not ember.equal(t.detach(), u.detach()) and not (
                t.is_floating_point() and ember.allclose(t.detach(), u.detach(),
                                                         equal_nan=True)):
        raise RuntimeError(
            f"ember.jit.trace: {where} is a tensor that changes with the inputs but was not "
            "produced by an op the tracer saw: an operation ran outside the tracer (an op "
            "with no recorded path for these dtypes, such as argmax or integer arithmetic, "
            "a round trip through NumPy or Python numbers, or a random op) and would be "
            "baked into the graph as a constant")
