"""Looking at the graph and shaping what it keeps: its node type, Graphviz DOT text of
the graph behind a tensor, and hooks on the tensors the graph saves for backward."""
import contextlib
import functools
import threading

from ember._core._tensor import Tensor, _increment_version
from ember.autograd._graph import (AccumulateGrad, Node, _current_graph_task_id,
                                   _pop_saved_tensors_hooks, _push_saved_tensors_hooks,
                                   _will_engine_execute_node)

__all__ = ["Node", "to_dot", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks", "increment_version", "register_multi_grad_hook",
           "allow_mutation_on_saved_tensors"]


def increment_version(tensor):
    """Tell autograd that ``tensor`` (or each tensor of an iterable) was changed in place
    behind its back, as ``torch.autograd.graph.increment_version``.

    ember's ops and a custom Function's ``mark_dirty`` already do this; call it after
    writing a tensor's memory through a pointer (``data_ptr()``, a NumPy view from
    ``numpy()``), so that backward refuses to use the stale saved value.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.graph import increment_version
    >>> x = ember.ones(2)
    >>> increment_version(x)
    >>> x._version
    1
    """
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        if not isinstance(t, Tensor):
            raise TypeError(f"increment_version(): expected a Tensor or an iterable of "
                            f"Tensors, got {type(t).__name__}")
        _increment_version(t)


class saved_tensors_hooks:
    """Replace each tensor the graph saves for backward by ``pack_hook(tensor)`` while the
    block runs, and give backward ``unpack_hook(packed)`` in its place (PyTorch's hooks).

    Both hooks run with grad mode off.  ``unpack_hook`` must return a tensor with the
    saved one's values; what it returns is relinked to the saved tensor's history, so
    gradients of gradients still flow.  Hooks are per thread; the innermost wins.

    Parameters
    ----------
    pack_hook : callable
        Tensor -> anything.
    unpack_hook : callable
        What ``pack_hook`` returned -> Tensor.

    Examples
    --------
    >>> import ember
    >>> sizes = []
    >>> x = ember.ones(3, requires_grad=True)
    >>> with ember.autograd.graph.saved_tensors_hooks(
    ...         lambda t: sizes.append(t.numel()) or t.detach().numpy().copy(),
    ...         lambda packed: ember.from_numpy(packed)):
    ...     y = (x * x).sum()
    >>> y.backward()
    >>> sizes, x.grad
    ([3, 3], tensor([2., 2., 2.]))
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _push_saved_tensors_hooks(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc_info):
        _pop_saved_tensors_hooks()


class save_on_cpu(saved_tensors_hooks):
    """Keep the tensors saved for backward in CPU memory while the block runs, and move
    them back to their device when backward needs them (PyTorch's ``save_on_cpu``):
    trades device memory for copies.

    Parameters
    ----------
    pin_memory : bool, optional
        Copy back with ``non_blocking=True``.  (PyTorch also packs into page-locked
        memory; ember allocates none, see :meth:`ember.Tensor.pin_memory`.)
    device_type : str, optional
        Accepted for PyTorch's signature (any device's tensors are moved).
    """

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            return tensor.device, tensor.cpu()

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:
    """Make installing saved-tensor hooks inside the block (or decorated function) raise
    ``RuntimeError(error_message)``; hooks installed outside do not apply inside.

    Parameters
    ----------
    error_message : str
    """

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        _push_saved_tensors_hooks(None, self.error_message)
        return self

    def __exit__(self, *exc_info):
        _pop_saved_tensors_hooks()

    def __call__(self, fn):
        @functools.wraps(fn)
        def without_hooks(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return without_hooks


NEWLINE = "\\n"    # a line break inside a DOT label


def _quote(text):
    return '"' + str(text).replace('"', '\\"') + '"'


def _shape(t):
    return str(tuple(t.shape))


def to_dot(tensor, name="output"):
    """Graphviz DOT text of the graph that produced ``tensor``.

    Each operation is a box named like its node (``MulBackward0``); leaf tensors
    (what ``.grad`` is accumulated into) are green ellipses with their shape and
    dtype; the tensor itself is a blue ellipse.  Arrows point from inputs to the
    operations that used them, the way the forward pass ran.

    Parameters
    ----------
    tensor : Tensor
    name : str, default "output"
        Label of the tensor's own node.

    Returns
    -------
    str
        DOT source: render it with ``dot -Tsvg`` or any Graphviz viewer.

    Examples
    --------
    >>> import ember
    >>> w = ember.ones(3, requires_grad=True)
    >>> print(ember.autograd.graph.to_dot((w * 2).sum()))  # doctest: +ELLIPSIS
    digraph autograd {
    ...
    }
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot() expects a Tensor, got {type(tensor).__name__}")
    lines = ["digraph autograd {", '  node [fontname="Helvetica", fontsize=11];']
    ids = {}

    def node_id(node):
        if node not in ids:
            ids[node] = f"n{len(ids)}"
        return ids[node]

    out_id = "out"
    described = f"{_shape(tensor)} {tensor.dtype}"
    lines.append(f"  {out_id} [label={_quote(name + NEWLINE + described)}, "
                 'shape=ellipse, style=filled, fillcolor="#cfe2ff"];')
    root = tensor.grad_fn
    if root is None:
        if tensor.requires_grad:
            lines[-1] = (f"  {out_id} [label={_quote(name + ' (leaf)' + NEWLINE + described)}, "
                         'shape=ellipse, style=filled, fillcolor="#d1e7dd"];')
        lines.append("}")
        return "\n".join(lines)
    seen = set()
    stack = [root]
    edges = [f"  {node_id(root)} -> {out_id};"]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nid = node_id(node)
        if isinstance(node, AccumulateGrad):
            v = node.variable
            label = f"leaf{NEWLINE}{_shape(v)} {v.dtype}"
            lines.append(f"  {nid} [label={_quote(label)}, shape=ellipse, style=filled, "
                         'fillcolor="#d1e7dd"];')
        else:
            lines.append(f"  {nid} [label={_quote(node.name())}, shape=box, style=filled, "
                         'fillcolor="#eeeeee"];')
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            edges.append(f"  {node_id(nxt)} -> {nid};")
            stack.append(nxt)
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines)


class _MultiHandle:
    """Removes every per-tensor hook of :func:`register_multi_grad_hook`."""

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _node_of(t):
    """The node whose gradient is ``t``'s: its grad_fn, or a leaf's AccumulateGrad."""
    return t.grad_fn if t.grad_fn is not None else t.view_as(t).grad_fn.next_functions[0][0]


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once the gradients of several tensors are computed, as PyTorch's
    ``torch.autograd.graph.register_multi_grad_hook``.

    Parameters
    ----------
    tensors : sequence of Tensor
        Tensors that require grad.
    fn : callable
        ``mode="all"``: ``fn(grads)`` once per backward pass, after the gradients of all
        the tensors this pass computes, with ``grads`` in the order of ``tensors`` (None
        for those it does not compute).  ``mode="any"``: ``fn(grad)`` with the first
        gradient of them that the pass computes.
    mode : {"all", "any"}, default "all"

    Returns
    -------
    handle
        Its ``remove()`` takes the hooks off.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.graph import register_multi_grad_hook
    >>> a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    >>> seen = []
    >>> handle = register_multi_grad_hook((a, b), lambda grads: seen.append(len(grads)))
    >>> (a * 2 + b).sum().backward()
    >>> seen
    [2]
    """
    supported = ("all", "any")
    if mode not in supported:
        raise ValueError(f"Expects mode to be one of {supported} but got {mode}")
    lock = threading.Lock()
    tensors = tuple(tensors)
    if mode == "all":
        count, buffer = {}, {}
        nodes = [_node_of(t) for t in tensors]
        expected = {}

        def inner_hook(idx):
            def hook(grad):
                run = _current_graph_task_id()
                with lock:
                    seen = count.get(run, 0)
                    count[run] = seen + 1
                    if seen == 0:
                        # on the first call of this pass: how many of the tensors it reaches
                        expected[run] = sum(map(_will_engine_execute_node, nodes))
                        buffer[run] = [None] * len(tensors)
                    buffer[run][idx] = grad
                    done = seen == expected[run] - 1
                if done:
                    grads = buffer.pop(run)
                    del count[run], expected[run]
                    fn(grads)
            return hook

        handles = tuple(t.register_hook(inner_hook(i)) for i, t in enumerate(tensors))
    else:
        ran = set()

        @functools.wraps(fn)
        def wrapped(grad):
            run = _current_graph_task_id()
            with lock:
                if run in ran:
                    return
                ran.add(run)
            fn(grad)

        handles = tuple(t.register_hook(wrapped) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)


class _AllowMutationOnSavedContext:
    """The state of an :func:`allow_mutation_on_saved_tensors` block: the copies made of
    the tensors saved for backward, dropped when the block ends."""

    def __init__(self):
        self.cloned = []

    def clear(self):
        self.cloned.clear()


_mutation_allowed = threading.local()


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Allow changing in place the tensors that backward will read, as PyTorch's
    ``torch.autograd.graph.allow_mutation_on_saved_tensors``.

    Backward then uses each tensor as it was when the operation saved it, instead of
    raising.  ember copies every tensor saved inside the block when it is saved
    (PyTorch copies one when it is first changed): the same gradients, more memory.
    Run the forward and the backward inside the same block.  Blocks cannot nest.

    Yields
    ------
    context
        Holds the copies; cleared when the block ends.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.graph import allow_mutation_on_saved_tensors
    >>> with allow_mutation_on_saved_tensors():
    ...     a = ember.ones(2, requires_grad=True)
    ...     b = a.clone()
    ...     out = (b ** 2).sum()
    ...     _ = b.sin_()
    ...     out.backward()
    >>> a.grad
    tensor([2., 2.])
    """
    if getattr(_mutation_allowed, "on", False):
        raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
    ctx = _AllowMutationOnSavedContext()

    def pack(t):
        copy = t.clone()
        ctx.cloned.append(copy)
        return copy

    _mutation_allowed.on = True
    try:
        with saved_tensors_hooks(pack, lambda copy: copy):
            yield ctx
    finally:
        ctx.clear()
        _mutation_allowed.on = False
