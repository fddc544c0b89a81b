"""Custom differentiable operations: ``ember.autograd.Function``, as in PyTorch.

Subclass :class:`Function` with static ``forward(ctx, *args)`` and
``backward(ctx, *grad_outputs)`` methods and call ``MyOp.apply(*args)``; the
forward runs without recording, and its outputs are linked to a graph node whose
formula is ``backward``.
"""
import functools
import weakref

from ember._core._tensor import Tensor, zeros
from ember.autograd import _graph, forward_ad
from ember.autograd.grad_mode import no_grad
from ember._core._tensor import is_grad_enabled

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` of a custom Function: what forward leaves for backward."""

    def __init__(self):
        self.needs_input_grad = ()
        self._to_save = None
        self._saved = None
        self._dirty = ()
        self._non_differentiable = ()
        self.materialize_grads = True
        self._node = None
        self._released = False
        self._in_jvp = False

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or None) for backward, checked against in-place changes."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        """Keep ``tensors`` (or None) for ``jvp``, which reads them as
        :attr:`saved_tensors`."""
        self._to_save_forward = tensors

    @property
    def saved_tensors(self):
        """The tensors given to :meth:`save_for_backward`, as they were when saved."""
        if self._released:
            raise RuntimeError("Trying to backward through the graph a second time (or directly "
                               "access saved tensors after they have already been freed). Specify "
                               "retain_graph=True if you need to backward through the graph a "
                               "second time.")
        if self._in_jvp:
            return tuple(getattr(self, "_to_save_forward", ()))
        if self._saved is None:
            return tuple(self._to_save or ())
        node = self._node() if self._node is not None else None
        return tuple(None if s is None else _graph.unpack_saved(s, node) for s in self._saved)

    def mark_dirty(self, *tensors):
        """Declare the inputs that forward modified in place."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient (indices, masks)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """Whether backward gets zeros (True, the default) or None for outputs that
        received no gradient."""
        self.materialize_grads = bool(value)

    def _release(self):
        """Free the saved tensors; whether there were any."""
        had = bool(self._saved)
        if had:
            self._released = True
            self._saved = None
        return had


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = cls


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations.

    Examples
    --------
    >>> import ember
    >>> class Square(ember.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         x, = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> x = ember.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).backward()
    >>> x.grad
    tensor([6.])
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Function objects are not created: call the class's apply() "
                           "(e.g. MyFunction.apply(x)) with static forward/backward methods")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """The forward-mode formula: the tangent of each output from the tangents of the
        inputs (None for an input without one), for :mod:`ember.autograd.forward_ad`."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx._tensor_args = tuple(isinstance(a, Tensor) for a in args)
        recording = _graph._needs_any_grad(list(args))
        separate_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate_setup:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if separate_setup:
            cls.setup_context(ctx, args, output)
        is_tuple = isinstance(output, tuple)
        outputs = list(output) if is_tuple else [output]
        if recording:
            dirty = {id(t) for t in ctx._dirty}
            inputs_by_id = {id(a) for a in args if isinstance(a, Tensor)}
            for k, o in enumerate(outputs):
                # an input returned unchanged becomes a new tensor, so that it can get a
                # grad_fn without changing the caller's tensor
                if isinstance(o, Tensor) and id(o) in inputs_by_id and id(o) not in dirty:
                    outputs[k] = o.detach()
            ctx._output_meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else None
                                for o in outputs]
            node = _graph._make_function_node(cls, ctx, list(args), outputs,
                                              {id(t) for t in ctx._non_differentiable}, dirty)
            ctx._node = weakref.ref(node)
            if ctx._to_save is not None:
                output_ids = {id(o): k for k, o in enumerate(outputs) if isinstance(o, Tensor)}
                ctx._saved = [None if t is None else
                              _graph.save_tensor(t, output_ids.get(id(t), -1))
                              for t in ctx._to_save]
                ctx._to_save = None
        if forward_ad._current_level >= 0:
            forward_ad._function_tangents(cls, ctx, args, outputs)
        return tuple(outputs) if is_tuple else outputs[0]

    @classmethod
    def _run_backward(cls, ctx, grads):
        if ctx.materialize_grads:
            grads = tuple(zeros(meta[0], dtype=meta[1]) if g is None and meta is not None else g
                          for g, meta in zip(grads, ctx._output_meta))
        result = cls.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = len(ctx.needs_input_grad)
        if len(result) != n_args:
            if len(result) > n_args and all(r is None for r in result[n_args:]):
                result = result[:n_args]
            else:
                raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number "
                                   f"of gradients (expected {n_args}, got {len(result)})")
        picked = []
        for k, (r, tensor_arg) in enumerate(zip(result, ctx._tensor_args)):
            if not tensor_arg:
                continue
            if r is not None and not isinstance(r, Tensor):
                raise TypeError(f"function {cls.__name__}Backward returned a gradient of type "
                                f"{type(r).__name__} for input {k}; expected a Tensor or None")
            picked.append(r)
        return tuple(picked)


class _DelayedError(Function):
    """Passes ``value`` through, linked to ``deps``: differentiating it raises."""

    @staticmethod
    def forward(ctx, message, value, *deps):
        ctx.message = message
        return value.detach()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(ctx.message)


def once_differentiable(backward):
    """Decorate a Function's ``backward`` that is not itself differentiable: it runs
    without recording, and differentiating its result raises an error."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            result = backward(ctx, *grads)
        if not is_grad_enabled() or not any(isinstance(g, Tensor) and g.requires_grad
                                            for g in grads):
            return result
        single = not isinstance(result, tuple)
        results = (result,) if single else result
        message = "trying to differentiate twice a function that was marked with " \
                  "@once_differentiable"
        deps = [g for g in grads if isinstance(g, Tensor) and g.requires_grad]
        wrapped = tuple(_DelayedError.apply(message, r, *deps) if isinstance(r, Tensor) and
                        (r.is_floating_point() or r.is_complex()) else r for r in results)
        return wrapped[0] if single else wrapped
    return wrapper
