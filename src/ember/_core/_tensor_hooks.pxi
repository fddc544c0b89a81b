# The hooks that ember's Python layers install into the tensor core (the jit tracer's
# sizes, creations and traced marks, Python-value conversions, sparse gradients) and
# _add_method, through which the op tables attach methods.  Included by _tensor.pyx
# after the Tensor class.


cdef object _python_value_hook = None
cdef object _size_hook = None
cdef object _creation_hook = None


def _set_creation_hook(hook):
    """Install ``hook(name, args, kwargs, result)``, told of each tensor made by
    ``zeros``, ``ones``, ``full`` and ``arange`` (ember.jit records those whose sizes came
    from traced tensors); return the previous hook."""
    global _creation_hook
    previous = _creation_hook
    _creation_hook = hook
    return previous


def _set_size_hook(hook):
    """Install ``hook(tensor)``, asked by ``shape`` and ``size()`` first: an
    :class:`ember.Size` of int subclasses that remember where they came from (ember.jit's
    symbolic sizes), or None for the plain sizes; return the previous hook."""
    global _size_hook
    previous = _size_hook
    _size_hook = hook
    return previous


def _mark_traced(Tensor t):
    """Make ``t`` take the recorded paths of ops, whatever its dtype (ember.jit's tracer
    marks the integer and boolean tensors it computes from the inputs this way, so the
    ops on them reach it; such a tensor must not be used outside the trace)."""
    t._requires_grad = True


def _unmark_traced(Tensor t):
    """Undo :func:`_mark_traced` before the tracer lets an op write ``t`` in place."""
    t._requires_grad = False


cdef object _item(Tensor t):
    if t._storage.device.type_num == DEV_META:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")
    return read_scalar(t.cpu_tensor().ptr(), t._dtype)


def _set_python_value_hook(hook):
    """Install ``hook(tensor, what)``, called when a tensor is converted to a Python value
    (``what`` says which, e.g. ``"a Python boolean"``); return the previous hook."""
    global _python_value_hook
    previous = _python_value_hook
    _python_value_hook = hook
    return previous


# ember.sparse's COO tensors are Python objects; .grad may hold one (Embedding(sparse=True))
cdef object _sparse_grad_type = None


def _set_sparse_grad_type(cls):
    """Let ``Tensor.grad`` hold instances of ``cls``, ember.sparse's COO tensor."""
    global _sparse_grad_type
    _sparse_grad_type = cls


def _add_method(str name, fn):
    """Attach ``fn`` as method ``name`` of :class:`Tensor` (used by the op tables)."""
    (<dict>(<PyTypeObjectDict *>Tensor).tp_dict)[name] = fn
    PyType_Modified(<PyObject *>Tensor)
