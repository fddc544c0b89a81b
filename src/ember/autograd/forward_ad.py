"""Forward-mode automatic differentiation: dual tensors, whose tangent every op carries along.

Inside a :class:`dual_level`, :func:`make_dual` pairs a tensor with a tangent ``v``;
every differentiable op on it then gives its result the tangent ``J v`` (``J`` the op's
Jacobian), and :func:`unpack_dual` reads it back.  One Jacobian-vector product costs
one pass through the function, whatever its number of outputs.

How the tangents are computed: a dual tensor takes the recorded paths of the ops (as
one that requires grad, without reporting ``requires_grad``; under ``no_grad`` too,
while the level is open), and a hook of the recorders gives each result its tangent
from the op's own backward formula, so that every op with a gradient has a tangent
too, from one table:

* elementwise ops: the Jacobian is diagonal, hence its own transpose, so the backward
  formula applied to the tangent is the tangent of the result;
* views: the result's tangent is the same view of the input's tangent (tangents have
  their primal's layout), so in-place ops through views update the base's tangent;
* ops linear in their tensor arguments (sums, concatenation) or in each of them
  (matrix products): the op's own kernel applied to the tangents, when no graph of the
  tangent is needed;
* every other op: the double-backward trick, ``J v = d/du <J^T u, v>`` (the backward
  formula is linear in the gradient ``u``; the inner product is the real one, so
  complex numbers work alike).

Tangents are computed with ember ops, so a tangent is differentiable (reverse mode)
in the primals and tangents that require grad.
"""
import weakref
from typing import NamedTuple, Optional

from ember._core._tensor import Tensor, _set_forward_mode
from ember.autograd import _graph
from ember.autograd.grad_mode import _GradModeManager, enable_grad, is_grad_enabled
from ember.ops.derivatives import ELEMENTWISE, OPS

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]

_current_level = -1
_highest_level = -1     # the highest level ever entered (unpacking at it is no error)
# the tangents of the current level: id(tensor) -> (weak reference to it, its tangent)
_tangents = {}
# set while the hook computes a tangent (its own ops are not dual computations)
_busy = False
# in-place ops under way: (target, its value before the write, its tangent before)
_writes = []


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: the ``primal`` and its ``tangent`` (None when
    the tensor has none at the level)."""
    primal: Tensor
    tangent: Optional[Tensor]


def enter_dual_level():
    """Enter a new forward-mode level (where dual tensors can be made and unpacked) and
    return its number.

    Only one level at a time is supported, as in PyTorch: entering a second raises.
    :class:`dual_level` enters and exits one around a ``with`` block.

    Returns
    -------
    int
        The level entered.
    """
    global _current_level, _highest_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level += 1
    _highest_level = max(_highest_level, _current_level)
    _graph._set_forward_hook(_on_op)
    _set_forward_mode(True)
    return _current_level


def exit_dual_level(*, level=None):
    """Exit the forward-mode level: the tangents of every dual tensor of the level are
    dropped.

    Parameters
    ----------
    level : int, optional
        The level to exit (default: the current one); only the last one entered can be.
    """
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    _graph._set_forward_hook(None)
    _set_forward_mode(False)
    for ref, _ in list(_tangents.values()):
        t = ref()
        if t is not None:
            _graph._set_forward_flag(t, False)
    _tangents.clear()
    _writes.clear()
    _current_level = level - 1


class dual_level(_GradModeManager):
    """Context manager (and decorator) around a forward-mode computation: enters a level
    on entry (``as`` gives its number) and exits it, dropping the tangents, on exit.

    Examples
    --------
    >>> import ember
    >>> import ember.autograd.forward_ad as fwAD
    >>> x = ember.tensor([1.0, 2.0, 3.0])
    >>> with fwAD.dual_level():
    ...     y = fwAD.make_dual(x, ember.ones(3)) ** 2
    ...     fwAD.unpack_dual(y).tangent
    tensor([2., 4., 6.])
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def make_dual(tensor, tangent, *, level=None):
    """A dual tensor: an alias of ``tensor`` carrying ``tangent`` through the ops that use it.

    The tangent is kept as it is when it has the layout of ``tensor`` (the same
    strides), else copied into that layout.  The alias is differentiable (reverse mode)
    like ``tensor``: it requires grad exactly when ``tensor`` does.

    Parameters
    ----------
    tensor : Tensor
        The primal, of a floating point or complex dtype.
    tangent : Tensor
        Its tangent, of the same shape.
    level : int, optional
        The forward-mode level (default: the current one).

    Returns
    -------
    Tensor
        The dual tensor.
    """
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if level != _current_level:
        raise RuntimeError("Invalid level given to _make_dual")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than "
                           "that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    if tangent.device != tensor.device:
        raise RuntimeError(f"Trying to set a forward gradient on {tangent.device} for a "
                           f"Tensor on {tensor.device}: they must be on the same device.")
    if _tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    dual = _quietly(lambda: tensor.view_as(tensor))
    _attach(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """The primal and the tangent of a dual tensor, as a :class:`UnpackedDualTensor`.

    Parameters
    ----------
    tensor : Tensor
        A dual tensor (or any tensor: its tangent is then None).
    level : int, optional
        The forward-mode level (default: the current one).

    Returns
    -------
    UnpackedDualTensor
        ``primal``: a view of ``tensor`` without the tangent (differentiable in reverse
        mode like ``tensor``); ``tangent``: the tangent itself, or None.  Outside the
        level, ``(tensor, None)``.
    """
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if level > _highest_level:
        raise RuntimeError("Invalid level given to _fw_primal")
    if level != _current_level:
        return UnpackedDualTensor(tensor, None)        # a level exited: no tangents left
    return UnpackedDualTensor(_quietly(lambda: tensor.view_as(tensor)), _tangent_of(tensor))


# ---------------------------------------------------------------- the tangents

def _tangent_of(t):
    if not isinstance(t, Tensor):
        return None
    entry = _tangents.get(id(t))
    return entry[1] if entry is not None and entry[0]() is t else None


def _attach(t, tangent):
    """Give ``t`` its tangent, in ``t``'s layout (views of ``t`` view the tangent alike)."""
    key = id(t)

    def forget(ref):
        entry = _tangents.get(key)
        if entry is not None and entry[0] is ref:
            del _tangents[key]

    _tangents[key] = (weakref.ref(t, forget), _in_layout_of(t, tangent))
    _graph._set_forward_flag(t, True)


def _adopt_tangent(t, view):
    """``t`` became ``view`` in place (``unsqueeze_``, ``t_`` ...): it takes its tangent."""
    tangent = _tangent_of(view)
    if tangent is not None:
        _attach(t, tangent)


def _storage_numel(t):
    return t.untyped_storage().nbytes() // t.element_size()


def _in_layout_of(t, tangent):
    """``tangent``, or a copy of it over a storage like ``t``'s with ``t``'s strides and
    offset: a view of ``t`` then finds its tangent at the same place in that storage."""
    if (tangent.stride() == t.stride() and tangent.storage_offset() == t.storage_offset()
            and _storage_numel(tangent) >= _storage_numel(t)):
        return tangent
    from ember import zeros
    like = zeros(_storage_numel(t), dtype=tangent.dtype, device=t.device)
    like = like.as_strided(t.shape, t.stride(), t.storage_offset())
    like.copy_(tangent)
    return like


def _quietly(fn):
    """Run ``fn`` without the hook: its ops are no dual computation of the user's."""
    global _busy
    busy, _busy = _busy, True
    try:
        return fn()
    finally:
        _busy = busy


def _flat_tensors(args, kwargs=None):
    """The tensor arguments (lists flattened), then the tensor keyword arguments (an
    elementwise op's ``kwargs`` is its ``(out, inplace)`` pair: none)."""
    extra = [v for key, v in kwargs.items() if key != "out"] if type(kwargs) is dict else []
    for a in list(args) + extra:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            for x in a:
                if isinstance(x, Tensor):
                    yield x


def _differentiable(o):
    return isinstance(o, Tensor) and (o.is_floating_point() or o.is_complex())


# ---------------------------------------------------------------- the recorders' hook

def _on_op(kind, name, fn, args, kwargs, result):
    """Called by the recorders around each op on a dual tensor (or one that requires
    grad): gives the result its tangent."""
    if _busy:
        return
    _quietly(lambda: _propagate(kind, name, fn, args, kwargs, result))


def _write_target(kind, args, kwargs):
    if kind == "ew":
        out, inplace = kwargs
        return args[0] if inplace else out
    out = kwargs.get("out") if kwargs else None
    return out if out is not None else args[0]


def _propagate(kind, name, fn, args, kwargs, result):
    if kind == "alias":
        # a saved output the engine rebuilt for a backward formula: the same values
        _adopt_tangent(result, args[0])
        return
    if kind == "write":
        # keep what the tangent of the write needs: the target's old value and tangent
        if any(_tangent_of(t) is not None for t in _flat_tensors(args, kwargs)):
            target = _write_target("ew" if isinstance(name, int) else "op", args, kwargs)
            old_tangent = _tangent_of(target)
            # an entry of an earlier write to the same target is stale (that op raised)
            _writes[:] = [w for w in _writes if w[0] is not target]
            _writes.append((target, target.clone(),
                            None if old_tangent is None else old_tangent.clone()))
        return
    write = None
    if _writes:
        target = _write_target(kind, args, kwargs) if kind != "view" else None
        if target is not None and _writes[-1][0] is target:
            write = _writes.pop()
    tangents = {id(t): _tangent_of(t) for t in _flat_tensors(args, kwargs)}
    if write is not None:
        target, old, old_tangent = write
        args = tuple(old if a is target else a for a in args)
        tangents[id(old)] = old_tangent
        tangents.pop(id(target), None)
    if not any(v is not None for v in tangents.values()):
        return
    outputs = [result] if isinstance(result, Tensor) else \
        list(result) if isinstance(result, (tuple, list)) else []
    if write is not None:
        # an in-place op (or out=): the target's tangent is updated in place, so that its
        # views and its base see the change
        new = _tangents_of_op(kind, name, fn, args, kwargs, result, outputs, tangents)[0]
        current = _tangent_of(write[0])
        if current is None and new is not None:
            current = _view_of_base_tangent(write[0])
        if current is not None and new is not None:
            current.copy_(new)
        elif new is not None:
            _attach(write[0], new)
        return
    inputs = {id(t) for t in _flat_tensors(args, kwargs)}
    new_tangents = _tangents_of_op(kind, name, fn, args, kwargs, result, outputs, tangents)
    for o, t in zip(outputs, new_tangents):
        if t is not None and id(o) not in inputs:
            _attach(o, t)


def _view_of_base_tangent(view):
    """A dual value written into a view of a plain tensor: the tensor viewed gets a zero
    tangent, and the view the matching view of it (None when ``view`` is no view)."""
    from ember import zeros_like
    base = view._base
    if base is None or not _differentiable(base):
        return None
    if _tangent_of(base) is None:
        _attach(base, zeros_like(base))
    tangent = _tangent_of(base).as_strided(view.shape, view.stride(), view.storage_offset())
    _attach(view, tangent)
    return tangent


def _tangents_of_op(kind, name, fn, args, kwargs, result, outputs, tangents):
    """The tangent of each output (None for those that have none)."""
    if kind == "ew":
        return [_elementwise_tangent(name, args, outputs[0], tangents)]
    if kind == "view" or OPS.get(name, {}).get("view"):
        first = args[0]
        if _shares_storage(outputs, first) and tangents.get(id(first)) is not None and \
                all(o.dtype == first.dtype for o in outputs if _differentiable(o)):
            base = tangents[id(first)]
            return [base.as_strided(o.shape, o.stride(), o.storage_offset())
                    if _differentiable(o) else None for o in outputs]
    if (name in _LINEAR or name in _MULTILINEAR) and isinstance(result, Tensor) \
            and not _builds_graph(args, kwargs, tangents):
        return [_linear_tangent(name, fn, args, kwargs, tangents)]
    return _double_backward_tangents(name, args, kwargs, result, outputs, tangents)


# Ops linear in their floating tensor arguments together: the tangent is the op itself
# applied to the tangents (zeros for arguments without one).
_LINEAR = {"sum", "mean", "cumsum", "cat", "stack", "index_select", "gather", "clone",
           "contiguous"}
# Ops linear in each floating tensor argument (products): the tangent is the sum, over
# the arguments with a tangent, of the op with that argument replaced by its tangent.
_MULTILINEAR = {"matmul", "mm", "bmm", "mv", "dot"}


def _builds_graph(args, kwargs, tangents):
    """Whether the tangent must be differentiable: something requires grad."""
    return is_grad_enabled() and (
        any(t.requires_grad for t in _flat_tensors(args, kwargs)) or
        any(v is not None and v.requires_grad for v in tangents.values()))


def _linear_tangent(name, fn, args, kwargs, tangents):
    """The tangent of an op of ``_LINEAR`` or ``_MULTILINEAR``, by the op's own kernel
    (``fn``, which records nothing: only for tangents that need no graph)."""
    from ember import zeros_like
    slots = [(k, j) for k, a in enumerate(args) for j, x in
             ([(None, a)] if isinstance(a, Tensor) else
              enumerate(a) if isinstance(a, (list, tuple)) else [])
             if isinstance(x, Tensor) and _differentiable(x)]

    def arg(slot):
        return args[slot[0]] if slot[1] is None else args[slot[0]][slot[1]]

    def run_with_tangents_at(chosen):
        new = [list(a) if isinstance(a, (list, tuple)) else a for a in args]
        for slot in chosen:
            x = arg(slot)
            v = tangents.get(id(x))
            v = zeros_like(x) if v is None else v
            if slot[1] is None:
                new[slot[0]] = v
            else:
                new[slot[0]][slot[1]] = v
        new = [type(a)(n) if isinstance(a, (list, tuple)) else n for a, n in zip(args, new)]
        return fn(*new, **(kwargs or {}))

    if name in _LINEAR:
        return run_with_tangents_at(slots)
    total = None
    for slot in slots:
        if tangents.get(id(arg(slot))) is not None:
            term = run_with_tangents_at([slot])
            total = term if total is None else total + term
    return total


def _shares_storage(outputs, first):
    root = first if first._base is None else first._base
    return all(not _differentiable(o) or o._base is root or
               o.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
               for o in outputs)


def _elementwise_tangent(op, args, result, tangents):
    """A real elementwise op's Jacobian is diagonal: its backward formulas, applied to the
    inputs' tangents (broadcast to the result's shape), give the result's tangent.  With
    complex numbers the Jacobian (of the real and imaginary parts) is no longer
    symmetric: the double-backward identity then."""
    entry = ELEMENTWISE.get(op)
    if entry is None or not _differentiable(result):
        return None
    formulas = entry[1]
    pairs = [(formulas[k], tangents.get(id(a))) for k, a in enumerate(args)
             if isinstance(a, Tensor) and formulas[k] is not None
             and tangents.get(id(a)) is not None]
    if result.is_complex() or any(a.is_complex() for a in args if isinstance(a, Tensor)):
        return _by_double_backward(
            [result], lambda us: [(f(us[0], *args, result), v) for f, v in pairs],
            _builds_graph(args, None, tangents))[0]
    total = None
    for formula, tangent in pairs:
        if tuple(tangent.shape) != tuple(result.shape):
            tangent = tangent.expand(result.shape)
        term = formula(tangent, *args, result)
        total = term if total is None else total + term
    if total is not None and total.dtype != result.dtype:
        total = total.to(result.dtype)
    return total


class _Context:
    """What a backward formula reads besides the gradient (see ``BackwardContext``)."""

    def __init__(self, result, outputs, needs_input_grad):
        self.result = result
        self.outputs = outputs
        self.needs_input_grad = needs_input_grad


class _OutputMeta:
    """An output as a formula sees it (``TensorMeta``): its layout and whether it views
    the op's first argument."""

    def __init__(self, output, first):
        self._output = output
        self.shares_storage = isinstance(first, Tensor) and \
            output.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()

    def __getattr__(self, name):
        return getattr(self._output, name)


def _double_backward_tangents(name, args, kwargs, result, outputs, tangents):
    """The tangents of an op's outputs by the double-backward identity, ``J^T u`` being
    the op's backward formula."""
    entry = OPS.get(name)
    if entry is None:
        raise RuntimeError(f"the derivative for '{name}' is not implemented, so forward-mode "
                           "AD cannot go through it.")
    needs = tuple(tangents.get(id(t)) is not None for t in _flat_tensors(args, kwargs))
    first = args[0] if args else None
    single = isinstance(result, Tensor)

    def vjp(us):
        ctx = _Context(result if single else tuple(outputs),
                       tuple(_OutputMeta(o, first) if u is not None else None
                             for o, u in zip(outputs, us)), needs)
        grads = entry["formula"](ctx, us[0] if single else tuple(us), *args, **(kwargs or {}))
        if not isinstance(grads, tuple):
            grads = (grads,)
        return [(g_in, tangents.get(id(t)))
                for g_in, t in zip(_per_tensor(args, grads), _per_tensor_args(args))]

    return _by_double_backward(outputs, vjp, _builds_graph(args, kwargs, tangents))


def _by_double_backward(outputs, vjp, build_graph):
    """``J v = d/du <J^T u, v>``: ``vjp(us)`` gives, for the gradients ``us`` of the
    outputs, the pairs (gradient of an input, its tangent).  The inner product is the
    real one (``Re sum(conj(a) b)``), for which a backward formula is the transpose of
    the Jacobian of the real and imaginary parts."""
    from ember import zeros_like
    from ember.autograd.engine import grad
    us = [zeros_like(o).requires_grad_() if _differentiable(o) else None for o in outputs]
    with enable_grad():
        total = None
        for g_in, v in vjp(us):
            if g_in is None or v is None:
                continue
            if g_in.is_complex() or v.is_complex():
                term = (g_in.conj() * v).real.sum()
            else:
                term = (g_in * v).sum()
            total = term if total is None else total + term
    live = [u for u in us if u is not None]
    if total is None or not total.requires_grad:
        jvps = [None] * len(live)
    else:
        jvps = list(grad(total, live, allow_unused=True, create_graph=build_graph))
    out, k = [], 0
    for o, u in zip(outputs, us):
        if u is None:
            out.append(None)
            continue
        j = jvps[k]
        k += 1
        out.append(zeros_like(o) if j is None else j)
    return out


def _function_tangents(fn_class, ctx, args, outputs):
    """A custom :class:`~ember.autograd.Function` applied to dual tensors: the tangents of
    its outputs from its ``jvp`` (the inputs' tangents in, one tangent per output out)."""
    tangents = [_tangent_of(a) for a in args]
    if all(t is None for t in tangents):
        return
    ctx._in_jvp = True
    try:
        result = _quietly(lambda: fn_class.jvp(ctx, *tangents))
    finally:
        ctx._in_jvp = False
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != len(outputs):
        raise RuntimeError(f"function {fn_class.__name__} returned an incorrect number of "
                           f"forward gradients (expected {len(outputs)}, got {len(result)})")
    for o, t in zip(outputs, result):
        if not (_differentiable(o) and isinstance(t, Tensor)):
            continue
        current = _tangent_of(o)
        if current is not None:
            _quietly(lambda: current.copy_(t))     # an input modified in place
        else:
            _attach(o, t)


def _per_tensor_args(args):
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (x for x in a if isinstance(x, Tensor))


def _per_tensor(args, grads):
    """The formula's answer, one gradient per tensor argument (lists flattened), in the
    order of :func:`_per_tensor_args`."""
    for k, a in enumerate(args):
        g = grads[k] if k < len(grads) else None
        if isinstance(a, Tensor):
            yield g
        elif isinstance(a, (list, tuple)):
            for j, x in enumerate(a):
                if isinstance(x, Tensor):
                    yield g[j] if g is not None else None

