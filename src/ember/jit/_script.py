"""TorchScript's Python-side names, for code written for ``torch.jit.script``.

ember compiles no Python source: :func:`script` returns its argument, which then runs
eagerly, exactly as PyTorch's ``torch.jit.script`` does with the JIT disabled
(``PYTORCH_JIT=0``).  The decorators and queries that scripted code uses (``ignore``,
``unused``, ``export``, ``is_scripting``, ``annotate``, ...) behave as they do in eager
PyTorch, so such code runs unchanged; :func:`ember.jit.trace` is how ember makes graphs.
"""
import threading

from ember.jit._trace import Tracer

__all__ = ["script", "ignore", "unused", "export", "interface", "is_scripting",
           "is_tracing", "annotate", "Final", "save", "freeze", "optimize_for_inference"]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function, module or class), to run eagerly: ember has no
    TorchScript compiler, and this is what PyTorch's ``torch.jit.script`` returns when
    its JIT is disabled.  Use :func:`ember.jit.trace` or :func:`ember.compile` for graphs.

    Examples
    --------
    >>> import ember
    >>> @ember.jit.script
    ... def gelu_tanh(x):
    ...     return 0.5 * x * (1 + ember.tanh(0.79788456 * (x + 0.044715 * x ** 3)))
    >>> gelu_tanh(ember.zeros(2))
    tensor([0., 0.])
    """
    return obj


def ignore(drop=False, **kwargs):
    """Mark a function to be left to Python by the TorchScript compiler: a no-op in
    eager code (usable as ``@ignore`` or ``@ignore(drop=True)``)."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """Mark a method as unused by scripted code: a no-op in eager code."""
    return fn


def export(fn):
    """Mark a module method for compilation beside ``forward``: a no-op in eager code."""
    return fn


def interface(obj):
    """Declare a TorchScript interface class: the class itself in eager code."""
    return obj


def is_scripting():
    """False: code never runs as TorchScript in ember."""
    return False


def is_tracing():
    """Whether :func:`ember.jit.trace` is recording this call (on this thread's ops)."""
    return Tracer.active.get(threading.get_ident(), 0) > 0


def annotate(the_type, the_value):
    """``the_value`` (the type is a hint for the TorchScript compiler)."""
    return the_value


class _FinalAlias:
    """``ember.jit.Final[T]``: the hint for constant module attributes; ``T`` itself."""

    def __getitem__(self, item):
        return item


Final = _FinalAlias()


def save(m, f, _extra_files=None):
    """Save a traced module (:meth:`TracedModule.save`) to ``f``.

    Raises
    ------
    TypeError
        For anything but a :class:`TracedModule`: ember saves models' weights with
        :func:`ember.save` of a ``state_dict``, and graphs only from traces.
    """
    from ember.jit import TracedModule
    if not isinstance(m, TracedModule):
        raise TypeError(f"ember.jit.save() saves a traced module (ember.jit.trace), not "
                        f"{type(m).__name__}; save a model's weights with "
                        f"ember.save(model.state_dict(), f)")
    if _extra_files:
        raise ValueError("ember.jit.save() takes no _extra_files")
    m.save(f)


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """A traced module's graph with its weights as constants: what :func:`trace`
    already gives (parameters are folded in), so ``mod`` itself."""
    from ember.jit import TracedModule
    if not isinstance(mod, TracedModule):
        raise TypeError(f"ember.jit.freeze() expects a traced module (ember.jit.trace), "
                        f"got {type(mod).__name__}")
    return mod


def optimize_for_inference(mod, other_methods=None):
    """As :func:`freeze`: a traced graph is already optimised for inference."""
    return freeze(mod)
