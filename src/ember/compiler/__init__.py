"""``ember.compile`` (PyTorch's ``torch.compile``) and the ``ember.compiler`` helpers.

A compiled function or module runs as an :mod:`ember.jit` traced graph -- dead code
removed, constants folded, common subexpressions merged, elementwise chains fused --
whenever that gives the eager result, and eagerly otherwise:

* Graphs are traced on first use and cached per *guard key*: the shapes, strides,
  dtypes and devices of the tensor arguments, the other (hashable) arguments, a
  module's training flags, the autocast state and the default dtype.  A cached graph also remembers the version of every tensor
  it took from outside (parameters, buffers, closed-over tensors), so an optimizer
  step or any in-place update retraces instead of running stale weights.
* The graph is inference-only, so a call that autograd must record (grad mode on and
  an argument or parameter requiring grad) runs eagerly: training loops keep exact
  gradients, and inference under ``ember.no_grad()`` gets the graph.
* Where a trace would not generalise -- the function turns a tensor into a Python value
  (data-dependent control flow), returns something a graph cannot hold, takes keyword
  arguments, or calls a :func:`disable`-d function -- that guard key runs eagerly from
  then on (PyTorch's graph break); with ``fullgraph=True`` it raises instead.

Python state other than the above (globals, attributes read by the function, a
module's structure: submodules or parameters added or replaced after the first call)
is not guarded, as with :func:`ember.jit.trace`: call :func:`reset` after changing it.
"""
import functools
import operator
import threading
import warnings
import weakref

import ember
from ember.jit._trace import TracerWarning
from ember.nn.modules import _hooks as _module_hooks

__all__ = ["compile", "reset", "disable", "is_compiling"]

MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
BACKENDS = ("inductor", "eager")
# graphs kept per compiled callable (PyTorch's cache_size_limit); past it, new guard
# keys run eagerly
CACHE_SIZE_LIMIT = 8

_state = threading.local()
_tracing = 0            # traces running in any thread: is_compiling() is asked only then
_caches = weakref.WeakSet()
_version_of = operator.attrgetter("_version")
_training_of = operator.attrgetter("training")


class _GraphBreak(Exception):
    """Raised inside a trace by what must not be traced (see :func:`disable`)."""


def is_compiling():
    """Whether the calling thread is tracing a function for :func:`ember.compile`."""
    return getattr(_state, "tracing", False)


def disable(fn=None, recursive=True):
    """Run ``fn`` eagerly even when a compiled function calls it (a graph break there).

    Parameters
    ----------
    fn : callable, optional
        Without it, returns a decorator.
    recursive : bool, optional
        Accepted for PyTorch's signature: what ``fn`` calls runs eagerly either way.

    Examples
    --------
    >>> import ember
    >>> @ember.compiler.disable
    ... def log_value(x):
    ...     print(float(x.sum()))
    ...     return x
    >>> f = ember.compile(lambda x: log_value(x * 2) + 1)
    >>> with ember.no_grad():
    ...     f(ember.ones(2))
    4.0
    tensor([3., 3.])
    """
    if fn is None:
        return lambda f: disable(f, recursive)

    @functools.wraps(fn)
    def eager_only(*args, **kwargs):
        if is_compiling():
            raise _GraphBreak(f"{getattr(fn, '__qualname__', fn)} is disabled for compilation")
        return fn(*args, **kwargs)
    return eager_only


def reset():
    """Forget every graph traced by every compiled function and module (they retrace
    on their next call)."""
    for cache in list(_caches):
        cache.clear()


class _Cache:
    """The traced graphs of one compiled callable, keyed by guard key."""

    def __init__(self, fn, module, fullgraph):
        self.fn = fn
        self.module = module
        self.fullgraph = fullgraph
        # key -> (traced, captured versions, all arguments are tensors), or None: eager
        self.graphs = {}
        self.parts = None       # a module's (submodules, parameters), read once
        _caches.add(self)

    def clear(self):
        self.graphs.clear()
        self.parts = None

    def __call__(self, *args, **kwargs):
        # inside another compiled function's trace, run inline: its graph records the ops
        key = None if kwargs or (_tracing and is_compiling()) else self._key(args)
        if key is None:
            return self.fn(*args, **kwargs)
        entry = self.graphs.get(key, False)
        if entry is None:
            return self.fn(*args)
        if entry is not False:
            traced, versions, only_tensors = entry
            if not versions or tuple(map(_version_of, traced.captured)) == versions:
                if only_tensors:
                    return traced(*args)
                return traced(*[a for a in args if isinstance(a, ember.Tensor)])
        elif len(self.graphs) >= CACHE_SIZE_LIMIT:
            warnings.warn(f"ember.compile: {CACHE_SIZE_LIMIT} graphs are cached for "
                          f"{getattr(self.fn, '__qualname__', self.fn)}; new argument "
                          "shapes run eagerly (ember.compiler.reset() clears the cache)",
                          stacklevel=3)
            self.graphs[key] = None
            return self.fn(*args)
        return self._trace(key, args)

    def _key(self, args):
        """The guard key of a call, or None when it must run eagerly (autograd records it,
        or an argument is neither a tensor nor a hashable constant)."""
        grad = ember.is_grad_enabled()
        parts = []
        for a in args:
            if isinstance(a, ember.Tensor):
                if grad and a.requires_grad:
                    return None
                parts.append((a.shape, a.stride(), a.dtype, a.device))
            else:
                try:
                    hash(a)
                except TypeError:
                    return None
                parts.append((type(a), a))
        # state the ops read besides their arguments: autocast and the default dtype
        parts.append((ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu"),
                      ember.is_autocast_enabled("cuda") and ember.get_autocast_dtype("cuda"),
                      ember.get_default_dtype()))
        if self.module is not None:
            if self.parts is None:
                self.parts = (tuple(self.module.modules()), tuple(self.module.parameters()))
            modules, parameters = self.parts
            if grad and any(p.requires_grad for p in parameters):
                return None
            parts.append(tuple(map(_training_of, modules)))
        return tuple(parts)

    def _trace(self, key, args):
        tensors = [a for a in args if isinstance(a, ember.Tensor)]
        constants = [(i, a) for i, a in enumerate(args) if not isinstance(a, ember.Tensor)]

        def with_constants(*traced_tensors):
            merged, it = list(args), iter(traced_tensors)
            for i in range(len(merged)):
                if isinstance(merged[i], ember.Tensor):
                    merged[i] = next(it)
            for i, value in constants:
                merged[i] = value
            return self.fn(*merged)

        global _tracing
        why = None
        _state.tracing = True
        _tracing += 1
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", TracerWarning)
                traced = ember.jit.trace(with_constants, tuple(tensors), check_trace=False,
                                         strict=False)
            breaks = [w for w in caught if issubclass(w.category, TracerWarning)]
            for w in caught:
                if not issubclass(w.category, TracerWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            if breaks:
                why = str(breaks[0].message)
        except (_GraphBreak, TypeError, RuntimeError, NotImplementedError) as error:
            why = f"{type(error).__name__}: {error}"
        finally:
            _state.tracing = False
            _tracing -= 1
        if why is not None:
            if self.fullgraph:
                raise RuntimeError(f"ember.compile(fullgraph=True): the function cannot run "
                                   f"as one graph: {why}")
            self.graphs[key] = None
            return self.fn(*args)
        self.graphs[key] = (traced, tuple(map(_version_of, traced.captured)),
                            len(tensors) == len(args))
        return traced(*tensors)


class OptimizedModule(ember.nn.Module):
    """A compiled module (what :func:`compile` returns for an :class:`ember.nn.Module`):
    calls run the traced graph of the module's ``__call__`` where they can.  Its
    parameters, buffers and ``state_dict`` are the original module's, under
    ``_orig_mod.``."""

    def __init__(self, mod, fullgraph):
        super().__init__()
        self._orig_mod = mod
        self._cache = _Cache(mod, mod, fullgraph)

    def forward(self, *args, **kwargs):
        return self._cache(*args, **kwargs)

    def __getattr__(self, name):
        # what the wrapper lacks is the wrapped module's, as in PyTorch: nanoGPT calls
        # ``torch.compile(model).generate(...)`` (which then runs eagerly)
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules")
            if modules is None or "_orig_mod" not in modules:
                raise
            return getattr(modules["_orig_mod"], name)

    def __call__(self, *args, **kwargs):
        # straight to the cache unless hooks were registered on the wrapper itself
        if self._forward_hooks or self._forward_pre_hooks or self._backward_hooks \
                or self._backward_pre_hooks or _module_hooks.any_global_hooks():
            return super().__call__(*args, **kwargs)
        return self._cache(*args, **kwargs)


@functools.lru_cache(maxsize=None)
def _compiled_class(cls):
    """``cls`` with calls going to the instance's compiled call (``Module.compile``): a
    subclass per module class, so that no other module pays a check per call."""
    def __call__(self, *args, **kwargs):
        return self._compiled_call_impl(*args, **kwargs)
    return type(cls.__name__, (cls,), {"__call__": __call__, "__module__": cls.__module__,
                                        "__qualname__": cls.__qualname__,
                                        "_compiled_base": cls})


def compile_module_in_place(module, fullgraph=False, dynamic=None, backend="inductor",
                            mode=None, options=None, disable=False):
    """``Module.compile``: calls of ``module`` itself run its compiled graphs (its class,
    parameters and ``state_dict`` keys stay as they are)."""
    base = getattr(type(module), "_compiled_base", type(module))
    call = compile(functools.partial(base._call_impl, module), fullgraph=fullgraph,
                   dynamic=dynamic, backend=backend, mode=mode, options=options,
                   disable=disable)
    if call is not None and hasattr(call, "_cache"):
        call._cache.module = module         # guard on the module's weights and modes
    object.__setattr__(module, "_compiled_call_impl", call)
    module.__class__ = _compiled_class(base)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """Compile a function or module into ember.jit traced graphs (PyTorch's
    ``torch.compile``; see :mod:`ember.compiler` for the guards and when a call runs
    eagerly).

    Parameters
    ----------
    model : callable or ember.nn.Module, optional
        Without it, returns a decorator.
    fullgraph : bool, optional
        Raise instead of running eagerly where the function cannot be one graph.
    dynamic : bool or None, optional
        Accepted for PyTorch's signature: every new shape is traced anew.
    backend : {'inductor', 'eager'}, optional
        ``'eager'`` runs the function as it is (PyTorch's debugging backend).
    mode : str or None, optional
        One of PyTorch's modes; all compile the same graphs here.
    options : dict, optional
        Accepted for PyTorch's signature (no options apply).
    disable : bool, optional
        Return ``model`` itself.

    Returns
    -------
    callable or OptimizedModule

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2)).eval()
    >>> compiled = ember.compile(model)
    >>> x = ember.randn(3, 4)
    >>> with ember.no_grad():
    ...     ember.allclose(compiled(x), model(x))
    True
    """
    if mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(m for m in MODES if m)}")
    if backend not in BACKENDS:
        raise ValueError(f"ember.compile: backend must be one of {BACKENDS}, got {backend!r}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"ember.compile: options must be a dict, got {type(options).__name__}")
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if not callable(model):
        raise RuntimeError("ember.compile: model must be a callable or an nn.Module")
    if disable or backend == "eager":
        return model
    if isinstance(model, ember.nn.Module):
        return OptimizedModule(model, fullgraph)
    cache = _Cache(model, None, fullgraph)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return cache(*args, **kwargs)
    compiled._cache = cache
    return compiled
