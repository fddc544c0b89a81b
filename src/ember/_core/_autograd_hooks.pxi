# Where ember.autograd plugs into the core.  The core knows nothing of graphs: an
# op entry whose tensor inputs require grad, while grad mode is on, hands the call
# to the recorder that ember.autograd installed, which runs the op with grad mode
# off (so the entry takes its plain path) and records a graph node.  Inside a
# forward-mode dual level the thread's mode has a second bit (FW_MODE): the ops on
# tensors that carry a tangent then reach the recorders even under no_grad.

from cpython.pycapsule cimport PyCapsule_GetPointer

cdef extern from *:
    """
    /* grad mode is per thread, as PyTorch's: every new thread starts with it on */
    static __thread int em_grad_mode = 1;
    /* what grad_mode_off() found, for grad_mode_on() to put back */
    static __thread int em_grad_mode_saved = 1;
    """
    int em_grad_mode
    int em_grad_mode_saved

# the elementwise recorder is a C function (every recorded a + b goes through it); the
# recorder of every other op is a Python callable: recorder(name, fn, args, kwargs)
ctypedef object (*ew_recorder_fn)(int op, list args, object out, bint inplace)
ctypedef object (*op_recorder_fn)(str name, object fn, tuple args, dict kwargs)
ctypedef object (*view_recorder_fn)(str name, Tensor input, Tensor output, tuple args)
cdef ew_recorder_fn _ew_recorder = NULL
cdef op_recorder_fn _op_recorder = NULL
cdef view_recorder_fn _view_recorder = NULL


cdef bint grad_enabled() noexcept:
    """Whether an op whose inputs take the recorded path calls the recorders (gradients
    are recorded, or a dual level is open: the GRAD_MODE bit tells which)."""
    return em_grad_mode


cdef inline void grad_mode_off() noexcept:
    global em_grad_mode, em_grad_mode_saved
    em_grad_mode_saved = em_grad_mode
    em_grad_mode = 0


cdef inline void grad_mode_on() noexcept:
    global em_grad_mode
    em_grad_mode = em_grad_mode_saved


cdef Tensor record_view(str name, Tensor input, object output, tuple args):
    """Link the output of a one-input view-like op, computed with grad mode off, into the
    graph (no second call of the op, unlike record_op)."""
    if _view_recorder == NULL:
        raise RuntimeError("ember.autograd is not loaded")
    return <Tensor>_view_recorder(name, input, <Tensor>output, args)


cdef bint set_grad_mode(bint mode) noexcept:
    """Set this thread's grad mode; return the previous one (for C callers)."""
    global em_grad_mode
    cdef bint previous = em_grad_mode
    em_grad_mode = mode
    return previous


cdef object record_op(str name, object fn, tuple args, dict kwargs):
    if _op_recorder == NULL:
        raise RuntimeError("ember.autograd is not loaded")
    return _op_recorder(name, fn, args, kwargs)


def is_grad_enabled():
    """Whether gradients are recorded by operations run on this thread."""
    return (em_grad_mode & GRAD_MODE) != 0


def _set_grad_enabled(bint mode):
    """Set this thread's grad mode and return the previous one."""
    global em_grad_mode
    cdef bint previous = (em_grad_mode & GRAD_MODE) != 0
    em_grad_mode = (em_grad_mode & FW_MODE) | (GRAD_MODE if mode else 0)
    return previous


def _set_forward_mode(bint mode):
    """Mark this thread as inside a forward-mode dual level (or not); return the previous
    state."""
    global em_grad_mode
    cdef bint previous = (em_grad_mode & FW_MODE) != 0
    em_grad_mode = (em_grad_mode & GRAD_MODE) | (FW_MODE if mode else 0)
    return previous


def _recorded(Tensor t):
    """Whether an op on ``t`` takes autograd's recorded path now: grad mode is on or a
    dual level is open, and ``t`` requires grad or carries a forward-mode tangent.
    What the ops written in Python ask before recording."""
    return em_grad_mode != 0 and t._requires_grad != 0


def _set_recorders(ew_recorder, op_recorder, view_recorder):
    """Install autograd's recorders: PyCapsules of C functions (they run on every
    recorded op)."""
    global _ew_recorder, _op_recorder, _view_recorder
    _ew_recorder = <ew_recorder_fn>PyCapsule_GetPointer(ew_recorder, NULL)
    _op_recorder = <op_recorder_fn>PyCapsule_GetPointer(op_recorder, NULL)
    _view_recorder = <view_recorder_fn>PyCapsule_GetPointer(view_recorder, NULL)


def record(str name, fn, tuple args, dict kwargs=None):
    """Run ``fn(*args, **kwargs)`` and record it as op ``name`` (whose derivative is
    registered in ``ember.ops.derivatives``): for ops written in Python."""
    if em_grad_mode:
        return record_op(name, fn, args, kwargs)
    return fn(*args, **kwargs) if kwargs else fn(*args)
