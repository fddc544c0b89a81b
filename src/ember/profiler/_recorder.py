"""How ember's profiler sees op calls, and what it keeps of them.

While a profiler records, and only then, op calls are timed at three places:

* the public op entries: the functions of ``ember``, ``ember.nn.functional``,
  ``ember.linalg``, ``ember.fft`` and ``ember.special``, the methods of
  :class:`ember.Tensor` and the optimizers' ``step``/``zero_grad`` are replaced by timing
  wrappers, and put back when recording stops (so a program that does not profile
  runs the very same objects as before: no flag is tested on any op);
* the core's autocast hook (``ember.ops.autocast``): the operators (``a + b``, ``a @ b``)
  and the compiled entries never pass through a Python attribute, but every
  elementwise op and each entry autocast knows checks one per-thread C flag; the
  profiler turns that flag on and takes the calls that come through it;
* the autograd engine: each node that runs in ``backward()`` gets a pre- and a post-hook
  for the time of that run, giving PyTorch's
  ``autograd::engine::evaluate_function: MulBackward0`` events.

One op met at two of these places (``ember.add`` is wrapped, and reaches the hook) is
one event: an event of the same name as the innermost open one is not opened again.
Only the thread that started the profiler is recorded.
"""
import contextlib
import functools
import sys
import threading
import time
import types
from pathlib import Path

import ember
import ember.nn.functional as _functional
from ember._core import _tensor as _core
from ember.autograd import engine as _engine
from ember.ops import autocast as _autocast
from ember.profiler._events import FunctionEvent

__all__ = ["record_function"]

_HERE = str(Path(__file__).resolve().parent)
_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, type(_core.ew))
# not ops: queries of state or metadata, seeding, switches, conversions out of ember
_NOT_OPS = {
    "manual_seed", "seed", "initial_seed", "compile", "vmap", "load", "save", "typename",
    "finfo", "iinfo", "result_type", "promote_types", "can_cast", "broadcast_shapes",
    "numel", "from_numpy", "from_dlpack", "autocast_increment_nesting",
    "autocast_decrement_nesting", "clear_autocast_cache",
    # Tensor methods
    "size", "stride", "storage_offset", "dim", "ndimension", "nelement", "element_size",
    "data_ptr", "tolist", "numpy", "register_hook", "register_post_accumulate_grad_hook",
    "retain_grad", "requires_grad_", "backward", "untyped_storage", "storage", "type",
    "dim_order", "share_memory_", "dlpack",
}
_NOT_OP_PREFIXES = ("_", "is_", "set_", "get_", "use_", "are_", "has_")

# the Recorder of the profiler now recording, or None
_recorder = None


class Recorder:
    """The events of one recording, kept in the order they started."""

    def __init__(self, record_shapes=False, with_stack=False):
        self.thread = threading.get_ident()
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.events = []
        self.open = []              # the events begun and not yet ended, innermost last
        self.node_event = None      # the open event of the autograd node now running
        self._t0 = time.perf_counter_ns()

    def _now_us(self):
        return (time.perf_counter_ns() - self._t0) / 1e3

    def begin(self, name, args=(), kwargs=None, user=False):
        """Open an event; None for an op already open one level up (met twice)."""
        parent = self.open[-1] if self.open else None
        if not user and parent is not None and parent.name == name:
            return None
        trace_name = name
        if user and name.startswith("ProfilerStep#"):
            name = "ProfilerStep*"      # PyTorch's name: the table sums the steps
        # shapes and stack first: the event's time is the op's, not the profiler's
        shapes = _shapes(args, kwargs) if self.record_shapes else None
        stack = _stack() if self.with_stack else None
        event = FunctionEvent(len(self.events), name, self.thread, self._now_us(),
                              input_shapes=shapes, stack=stack, is_user_annotation=user,
                              trace_name=trace_name)
        if parent is not None:
            event.cpu_parent = parent
            parent.cpu_children.append(event)
        self.events.append(event)
        self.open.append(event)
        return event

    def end(self, event):
        """Close ``event`` and whatever is still open inside it (an exception left)."""
        if event is None or event not in self.open:
            return
        now = self._now_us()
        while self.open:
            top = self.open.pop()
            top.end_us = now
            if top is event:
                break

    def end_all(self):
        """Close every open event (recording stops)."""
        if self.open:
            self.end(self.open[0])


def _shapes(args, kwargs):
    """PyTorch's ``input_shapes``: a tensor's shape, a list of them for a tensor list,
    ``[]`` for anything else."""
    values = list(args) + (list(kwargs.values()) if kwargs else [])
    shapes = []
    for v in values:
        if isinstance(v, _core.Tensor):
            shapes.append(list(v.shape))
        elif (isinstance(v, (list, tuple)) and v
              and all(isinstance(x, _core.Tensor) for x in v)):
            shapes.append([list(x.shape) for x in v])
        else:
            shapes.append([])
    return shapes


def _stack():
    """The Python frames of the call site, innermost first, the profiler's own left out."""
    frames = []
    f = sys._getframe(1)
    while f is not None:
        path = f.f_code.co_filename
        if not path.startswith(_HERE):
            frames.append(f"{path}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return frames


def _own_recorder():
    rec = _recorder
    if rec is not None and rec.thread == threading.get_ident():
        return rec
    return None


# ---------------------------------------------------------------- the op entries

def _timed(label, fn):
    """``fn`` timed as event ``label`` while this thread records."""
    @functools.wraps(fn)
    def profiled(*args, **kwargs):
        rec = _own_recorder()
        if rec is None:
            return fn(*args, **kwargs)
        event = rec.begin(label, args, kwargs)
        try:
            return fn(*args, **kwargs)
        finally:
            rec.end(event)
    return profiled


def _timed_method(label_of, fn):
    """Optimizer method ``fn`` timed under the name ``label_of(self)``."""
    @functools.wraps(fn)
    def profiled(self, *args, **kwargs):
        rec = _own_recorder()
        if rec is None:
            return fn(self, *args, **kwargs)
        event = rec.begin(label_of(self), user=True)
        try:
            return fn(self, *args, **kwargs)
        finally:
            rec.end(event)
    return profiled


def _is_op(name, obj):
    return (isinstance(obj, _FUNCTION_TYPES) and not name.startswith(_NOT_OP_PREFIXES)
            and name not in _NOT_OPS
            and (getattr(obj, "__module__", None) or "").startswith("ember"))


@functools.cache
def _targets():
    """``(namespace, name, original, wrapper)`` for every op entry the profiler times;
    ``namespace`` a module or ``None`` for a Tensor method."""
    found = []
    for module in (ember, _functional, ember.linalg, ember.fft, ember.special):
        for name, obj in list(vars(module).items()):
            if _is_op(name, obj):
                found.append((module, name, obj, _timed("ember::" + name, obj)))
    for name, obj in list(vars(_core.Tensor).items()):
        if _is_op(name, obj):
            found.append((None, name, obj, _timed("ember::" + name, obj)))
    optimizers = [c for c in vars(ember.optim).values()
                  if isinstance(c, type) and issubclass(c, ember.optim.Optimizer)]
    for cls in optimizers:
        if "step" in vars(cls):
            step = vars(cls)["step"]
            found.append((cls, "step", step, _timed_method(
                lambda self: f"Optimizer.step#{type(self).__name__}.step", step)))
    zero_grad = vars(ember.optim.Optimizer)["zero_grad"]
    found.append((ember.optim.Optimizer, "zero_grad", zero_grad, _timed_method(
        lambda self: f"Optimizer.zero_grad#{type(self).__name__}.zero_grad", zero_grad)))
    return found


def _put(namespace, name, obj):
    if namespace is None:
        _core._add_method(name, obj)
    else:
        setattr(namespace, name, obj)


# ---------------------------------------------------------------- the core's hook

def _interposed(name, fn, args, kwargs):
    """Every call the core's autocast flag routes to Python while recording."""
    rec = _own_recorder()
    event = None
    if rec is not None:
        # an elementwise op comes as ew(op_number, *tensors)
        event = rec.begin("ember::" + name, args[1:] if fn is _core.ew else args, kwargs)
    try:
        if isinstance(fn, types.FunctionType) and not any(_autocast.state.enabled.values()):
            # an op written in Python: run it with the flag on, so its inner ops are seen
            return fn(*args, **(kwargs or {}))
        # a compiled entry tests the flag itself: autocast's caster runs it with the flag off
        return _autocast.cast_and_run(name, fn, args, kwargs)
    finally:
        if rec is not None:
            rec.end(event)


# ---------------------------------------------------------------- backward

def _graph_nodes(outputs):
    """Every node reachable from the outputs' ``grad_fn``."""
    stack = [t.grad_fn for t in outputs if getattr(t, "grad_fn", None) is not None]
    seen = {id(n) for n in stack}
    while stack:
        node = stack.pop()
        yield node
        for next_node, _ in node.next_functions:
            if next_node is not None and id(next_node) not in seen:
                seen.add(id(next_node))
                stack.append(next_node)


def _node_hooks(rec, node):
    label = f"autograd::engine::evaluate_function: {node.name()}"

    def pre(grad_outputs):
        # AccumulateGrad runs no post-hook: its event ends when the next node begins
        rec.end(rec.node_event)
        rec.node_event = rec.begin(label, user=True)

    def post(grad_inputs, grad_outputs):
        rec.end(rec.node_event)
        rec.node_event = None
    return pre, post


def _profiled_run_backward(outputs, *rest):
    rec = _own_recorder()
    if rec is None:
        return _run_backward(outputs, *rest)
    handles = []
    for node in _graph_nodes(outputs):
        pre, post = _node_hooks(rec, node)
        handles += [node.register_prehook(pre), node.register_hook(post)]
    outer, rec.node_event = rec.node_event, None    # a backward run inside a node's backward
    try:
        return _run_backward(outputs, *rest)
    finally:
        for handle in handles:
            handle.remove()
        rec.end(rec.node_event)
        rec.node_event = outer


_run_backward = _engine.run_backward


# ---------------------------------------------------------------- on and off

def start(recorder):
    """Make ``recorder`` record this thread's op calls."""
    global _recorder
    if _recorder is not None:
        raise RuntimeError("Profiler is already enabled on this thread")
    for namespace, name, _, wrapper in _targets():
        _put(namespace, name, wrapper)
    _engine.run_backward = _profiled_run_backward
    _autocast.interpose(_interposed)
    _recorder = recorder


def stop(recorder):
    """Stop ``recorder`` recording; put every op entry back as it was."""
    global _recorder
    if _recorder is not recorder:
        return
    _recorder = None
    _autocast.interpose(None)
    _engine.run_backward = _run_backward
    for namespace, name, original, _ in _targets():
        _put(namespace, name, original)
    recorder.end_all()


class record_function(contextlib.ContextDecorator):
    """Time a block of code as one user range, the ops it runs nested inside it.

    A context manager or a function decorator; it records only while a profiler does,
    and costs one attribute read otherwise.

    Parameters
    ----------
    name : str
        The range's name, as the profiler's table and trace show it.
    args : str, optional
        Accepted for PyTorch's signature (it adds them to the trace's event).

    Examples
    --------
    >>> import ember
    >>> from ember.profiler import profile, record_function
    >>> x = ember.ones(8, 8)
    >>> with profile() as prof:
    ...     with record_function("scale"):
    ...         y = x * 2
    >>> [(e.key, e.count) for e in prof.key_averages()]
    [('scale', 1), ('ember::mul', 1)]
    """

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._recorder = None
        self._event = None

    def __enter__(self):
        self._recorder = _own_recorder()
        if self._recorder is not None:
            self._event = self._recorder.begin(self.name, user=True)
        return self

    def __exit__(self, *exc):
        if self._recorder is not None:
            self._recorder.end(self._event)
            self._recorder = self._event = None
        return False

    def _recreate_cm(self):
        # a fresh range per decorated call, so that recursive calls nest
        return type(self)(self.name, self.args)
