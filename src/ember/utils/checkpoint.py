"""Activation checkpointing: trade compute for memory, as ``torch.utils.checkpoint``.

A checkpointed function keeps only its inputs after the forward pass; the backward
pass runs it again with gradients recorded and backpropagates through that fresh
graph.  The random number generators are put back as they were before the forward,
so dropout draws the same mask both times.

Two variants, chosen by ``use_reentrant`` as in PyTorch:

* ``use_reentrant=True`` (the default when not given, with a warning): the forward
  runs under :class:`ember.no_grad`; the backward calls ``ember.autograd.backward``
  on the recomputed graph, so gradients of the parameters used inside are
  accumulated into their ``.grad`` directly.  Positional arguments only; when no
  input requires grad the output does not either; backpropagating through it with
  :func:`ember.autograd.grad` or ``backward(inputs=...)`` raises, as in PyTorch.
* ``use_reentrant=False`` (recommended): the forward records a graph once to find
  what the result depends on (the tensors among the arguments, however nested,
  and the leaf tensors the function reads, such as a module's parameters), then
  frees it; the result is linked to those tensors only, and the backward returns
  their gradients to the engine.  Keyword arguments, :func:`ember.autograd.grad`,
  ``inputs=`` and double backward work.
"""
import contextlib
import warnings

from ember._core._tensor import Tensor, is_grad_enabled, ones as _ones
from ember._core._random import get_rng_state, set_rng_state
from ember.autograd import _graph
from ember.autograd.engine import _is_checkpoint_valid, backward as _backward, grad as _grad
from ember.autograd.function import Function
from ember.autograd.grad_mode import enable_grad, no_grad
from ember.random import fork_rng

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn",
           "set_checkpoint_early_stop"]


_PROBE = _ones(1, requires_grad=True)


class CheckpointError(RuntimeError):
    """The recomputation of a checkpointed function did not match its forward pass."""


def noop_context_fn():
    """The default ``context_fn`` of :func:`checkpoint`: two null context managers."""
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Context manager choosing whether a ``use_reentrant=False`` recomputation may stop
    once it has recomputed every saved tensor, as PyTorch's.

    Accepted for PyTorch compatibility: ember's recomputation always runs the whole
    function (as with ``enable=False``), so the results are the same either way.

    Parameters
    ----------
    enable : bool
        Whether to stop early.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.checkpoint import checkpoint, set_checkpoint_early_stop
    >>> x = ember.ones(3, requires_grad=True)
    >>> with set_checkpoint_early_stop(False):
    ...     y = checkpoint(ember.sin, x, use_reentrant=False)
    >>> y.sum().backward()
    >>> x.grad.shape
    ember.Size([3])
    """
    yield


# ---------------------------------------------------------------- shared pieces

def _flatten(obj, out):
    """Append the tensors in ``obj`` (tuples, lists and dicts, nested) to ``out``."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _flatten(item, out)
    elif isinstance(obj, dict):
        for item in obj.values():
            _flatten(item, out)
    return out


def _replace(obj, mapping):
    """``obj`` with each tensor ``t`` replaced by ``mapping[id(t)]`` (when there)."""
    if isinstance(obj, Tensor):
        return mapping.get(id(obj), obj)
    if isinstance(obj, (tuple, list)):
        items = [_replace(item, mapping) for item in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if isinstance(obj, dict):
        return type(obj)((k, _replace(v, mapping)) for k, v in obj.items())
    return obj


def _uses_cuda(tensors):
    return any(t.device.type == "cuda" for t in tensors)


class _RngState:
    """The CPU generator's state (and the current GPU's, when cuda tensors are in
    use), to replay the forward's random draws in the recomputation."""

    def __init__(self, tensors, preserve):
        self.preserve = preserve
        self.cpu = get_rng_state() if preserve else None
        self.cuda = None
        if preserve and _uses_cuda(tensors):
            from ember import cuda
            self.device = cuda.current_device()
            self.cuda = cuda.get_rng_state(self.device)

    @contextlib.contextmanager
    def replay(self):
        devices = [] if self.cuda is None else [self.device]
        with fork_rng(devices=devices, enabled=self.preserve):
            if self.preserve:
                set_rng_state(self.cpu)
                if self.cuda is not None:
                    from ember import cuda
                    cuda.set_rng_state(self.cuda, self.device)
            yield


def _autocast_state():
    """The autocast settings in force, to recompute under the same ones."""
    from ember.amp.autocast_mode import get_autocast_dtype, is_autocast_enabled
    return [(d, get_autocast_dtype(d)) for d in ("cpu", "cuda") if is_autocast_enabled(d)]


def _autocast_contexts(state):
    from ember.amp import autocast
    stack = contextlib.ExitStack()
    for device_type, dtype in state:
        stack.enter_context(autocast(device_type, dtype=dtype))
    return stack


def _as_outputs(result):
    return (list(result), True) if isinstance(result, tuple) else ([result], False)


# ---------------------------------------------------------------- use_reentrant=True

class _ReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=5)
        ctx.run_function = run_function
        ctx.rng = _RngState([a for a in args if isinstance(a, Tensor)], preserve_rng_state)
        ctx.autocast = _autocast_state()
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not _is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, ember.utils.checkpoint is incompatible with .grad() or "
                "passing an `inputs` parameter to .backward(). To resolve this error, you can "
                "either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        inputs = list(ctx.inputs)
        saved = iter(ctx.saved_tensors)
        for k, value in enumerate(inputs):
            if value is None and ctx._tensor_args[k + 2]:
                inputs[k] = next(saved)
        with ctx.rng.replay():
            detached = []
            for a in inputs:
                if isinstance(a, Tensor):
                    d = a.detach()
                    d.requires_grad_(a.requires_grad)
                    a = d
                detached.append(a)
            with enable_grad(), _autocast_contexts(ctx.autocast):
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        with_grad = [(o, g) for o, g in zip(outputs, grads)
                     if isinstance(o, Tensor) and o.requires_grad]
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        _backward([o for o, _ in with_grad], [g for _, g in with_grad])
        return (None, None) + tuple(a.grad if isinstance(a, Tensor) else None for a in detached)


# ---------------------------------------------------------------- use_reentrant=False

def _next_sequence_nr():
    """A number below that of every graph node recorded from now on."""
    with enable_grad():
        return (_PROBE * 1).grad_fn._sequence_nr + 1


def _boundary(outputs, arg_tensors, start):
    """The tensors outside the recorded forward that its graph reaches: ``arg_tensors``
    that require grad, and the leaves the function read (a module's parameters).
    None when it reaches a computed tensor that is not an argument (a closure over
    a non-leaf), whose gradient could not be passed on."""
    by_edge = {}
    for t in arg_tensors:
        if t.requires_grad:
            by_edge[(id(t.grad_fn), t.output_nr) if t.grad_fn is not None else id(t)] = t
    found = {}
    edges = [(o.grad_fn, o.output_nr) if o.grad_fn is not None else o
             for o in outputs if isinstance(o, Tensor) and o.requires_grad]
    seen = set()
    while edges:
        edge = edges.pop()
        if isinstance(edge, Tensor):            # a leaf returned as it is
            found[id(edge)] = edge
            continue
        node, nr = edge
        if (id(node), nr) in by_edge:
            t = by_edge[(id(node), nr)]
        elif isinstance(node, _graph.AccumulateGrad):
            t = by_edge.get(id(node.variable), node.variable)
        elif node._sequence_nr < start:
            return None
        else:
            if id(node) not in seen:
                seen.add(id(node))
                edges.extend(e for e in node.next_functions if e[0] is not None)
            continue
        found[id(t)] = t
    return list(found.values())


class _NonReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx, run, *boundary):
        ctx.run = run
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[o for o, r in zip(run.detached, run.requires)
                                      if isinstance(o, Tensor) and not r])
        ctx.save_for_backward(*run.arg_tensors)
        return tuple(run.detached)

    @staticmethod
    def backward(ctx, *grads):
        run = ctx.run
        saved = ctx.saved_tensors
        # double backward differentiates the gradients with respect to the arguments
        # themselves; otherwise detached copies keep the recomputed graph to itself
        create_graph = is_grad_enabled()
        mapping = {}
        for t, s in zip(run.arg_tensors, saved):
            if not create_graph:
                s = s.detach().requires_grad_(s.requires_grad)
            mapping[id(t)] = s
        inputs = [mapping.get(id(b), b) for b in run.boundary]
        with run.rng.replay(), enable_grad(), _autocast_contexts(run.autocast):
            with run.context_fn()[1]:
                result = run.function(*_replace(run.args, mapping),
                                      **_replace(run.kwargs, mapping))
        outputs, _ = _as_outputs(result)
        if run.check and len(outputs) == len(run.meta):
            for k, (o, meta) in enumerate(zip(outputs, run.meta)):
                got = (tuple(o.shape), o.dtype, o.device) if isinstance(o, Tensor) else None
                if got != meta:
                    raise CheckpointError(
                        "ember.utils.checkpoint: Recomputed values for the following tensors "
                        f"have different metadata than during the forward pass.\noutput {k}: "
                        f"{meta} during the forward pass, {got} during recomputation")
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if g is not None and isinstance(o, Tensor) and o.requires_grad]
        if not pairs or not inputs:
            return (None,) * (len(run.boundary) + 1)
        result = _grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                       create_graph=create_graph, allow_unused=True)
        return (None,) + tuple(result)


class _Run:
    """Everything the recomputation needs, kept by the checkpoint's graph node."""


def _checkpoint_non_reentrant(function, preserve, context_fn, determinism_check, args, kwargs):
    run = _Run()
    run.function, run.args, run.kwargs, run.context_fn = function, args, kwargs, context_fn
    run.arg_tensors = _flatten(kwargs, _flatten(args, []))
    run.rng = _RngState(run.arg_tensors, preserve)
    run.autocast = _autocast_state()
    run.check = determinism_check == "default"
    if not is_grad_enabled():
        with context_fn()[0]:
            return function(*args, **kwargs)
    start = _next_sequence_nr()
    with context_fn()[0]:
        result = function(*args, **kwargs)
    outputs, is_tuple = _as_outputs(result)
    boundary = _boundary(outputs, run.arg_tensors, start)
    if boundary is None:
        warnings.warn("checkpoint: the function reads a tensor that requires grad and is neither "
                      "an argument nor a leaf; its graph is kept, so this call saves no memory. "
                      "Pass such tensors as arguments.", stacklevel=3)
        return result
    if not boundary:
        return result
    run.requires = [isinstance(o, Tensor) and o.requires_grad for o in outputs]
    run.detached = [o.detach() if isinstance(o, Tensor) else o for o in outputs]
    run.meta = [(tuple(o.shape), o.dtype, o.device) if isinstance(o, Tensor) else None
                for o in outputs]
    run.boundary = boundary
    del outputs, result
    linked = list(_NonReentrantCheckpoint.apply(run, *boundary))
    run.detached = None
    return tuple(linked) if is_tuple else linked[0]


# ---------------------------------------------------------------- public functions

_REENTRANT_WARNING = (
    "{name}: the use_reentrant parameter should be passed explicitly (PyTorch warns the same "
    "and means to raise an exception). use_reentrant=False is recommended, but if you need to "
    "preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for "
    "more details on the differences between the two variants.")


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediate results; the
    backward pass computes them again.

    Parameters
    ----------
    function : callable
        What to run (a module, a function); it should draw random numbers only from
        the default generators, which are replayed during the recomputation.
    *args
        Its arguments: tensors and anything else.
    use_reentrant : bool, optional
        Which variant (see the module's description).  Not passing it warns, as in
        PyTorch, and selects ``True``.
    context_fn : callable, default :func:`noop_context_fn`
        Returns two context managers: the first wraps the forward, the second the
        recomputation (``use_reentrant=False`` only).
    determinism_check : {'default', 'none'}
        ``'default'`` checks that the recomputation returns tensors of the same
        shapes, dtypes and devices as the forward (``use_reentrant=False`` only).
    debug : bool, default False
        Accepted for PyTorch compatibility (``use_reentrant=False`` only); ember's
        errors already name the mismatching output.
    early_stop : bool, default True
        Accepted for PyTorch compatibility: the recomputation always runs the whole
        function.
    preserve_rng_state : bool, default True
        Keyword: save the generators' state before the forward and replay it in the
        recomputation.
    **kwargs
        Keyword arguments of ``function`` (``use_reentrant=False`` only).

    Returns
    -------
    object
        What ``function`` returns (a tensor or a tuple).

    Raises
    ------
    ValueError
        Keyword arguments, ``context_fn`` or ``debug`` with ``use_reentrant=True``; an
        unknown ``determinism_check``.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.checkpoint import checkpoint
    >>> layer = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 1))
    >>> x = ember.randn(2, 4, requires_grad=True)
    >>> checkpoint(layer, x, use_reentrant=False).sum().backward()
    >>> x.grad.shape
    ember.Size([2, 4])
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING.format(name="ember.utils.checkpoint"), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return _ReentrantCheckpoint.apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    return _checkpoint_non_reentrant(function, preserve, context_fn, determinism_check,
                                     args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Checkpoint a sequential model in ``segments`` chunks: all but the last keep
    only their input.

    Parameters
    ----------
    functions : ember.nn.Sequential or list of callables
        Run one after the other, each on the previous one's result.
    segments : int
        How many chunks to cut ``functions`` into.
    input : Tensor
    use_reentrant : bool, optional
        As in :func:`checkpoint` (not passing it warns and selects ``True``).
    preserve_rng_state : bool, default True
        Keyword, as in :func:`checkpoint`.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> from ember.utils.checkpoint import checkpoint_sequential
    >>> model = ember.nn.Sequential(*[ember.nn.Linear(3, 3) for _ in range(4)])
    >>> x = ember.randn(5, 3, requires_grad=True)
    >>> out = checkpoint_sequential(model, 2, x, use_reentrant=False)
    >>> out.sum().backward()
    >>> model[0].weight.grad.shape
    ember.Size([3, 3])
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING.format(
            name="ember.utils.checkpoint.checkpoint_sequential"), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ember.nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    # the last chunk runs normally: its activations are needed right away
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
