"""Structured control flow: ``ember.cond`` and ``ember.while_loop``, as ``torch.cond`` and
``torch.while_loop`` run eagerly.

PyTorch compiles both branches (or the loop body) with its graph capture when the
predicate is a tensor, and checks that they agree; ember has no such capture, so it runs
the branch taken, or the loop, as Python, with PyTorch's checks on the arguments and on
what the functions return.  Gradients flow through the ops that ran, as in PyTorch's
eager mode.
"""
from ember._core._dtype import bool_
from ember._core._tensor import Tensor
from ember.func import _pytree

__all__ = ["cond", "while_loop"]


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` is true, else ``false_fn(*operands)``.

    Parameters
    ----------
    pred : bool, int, float or Tensor
        The condition: a Python value, or a tensor of one element (of any dtype; its
        truth value is that of its element).
    true_fn, false_fn : callable
        The branches.  They take ``*operands`` and return tensors or ints, or tuples,
        lists and dicts of them, that are new tensors (not views of the operands).
    operands : tuple or list, optional
        The branches' arguments: tensors, or tuples, lists and dicts of tensors.

    Returns
    -------
    object
        The output of the branch taken.

    Raises
    ------
    RuntimeError
        For a tensor ``pred`` of more than one element, a ``pred`` of another type, a
        branch that is not callable, operands that are not tensors, or a branch whose
        output is not made of tensors and ints or aliases an operand (with a tensor
        ``pred``: a Python ``pred`` runs the branch unchecked, as in PyTorch).

    Notes
    -----
    Under PyTorch a tensor ``pred`` compiles both branches and checks that their
    outputs have the same structure, shapes and dtypes; ember runs only the branch
    taken, so it cannot see a disagreement with the other one.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([1.0, 2.0])
    >>> ember.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, (x,))
    tensor([2., 4.])
    """
    if isinstance(pred, (bool, int, float)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or _pytree.tree_any(
            lambda t: not isinstance(t, Tensor), operands):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    out = true_fn(*operands) if bool(pred) else false_fn(*operands)
    _check_outputs(out, _pytree.tree_leaves(operands), "torch.cond")
    return out


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried_inputs = body_fn(*carried_inputs)`` while ``cond_fn(*carried_inputs)``.

    Parameters
    ----------
    cond_fn : callable
        Takes the carried values and returns a Python bool or a boolean tensor of
        shape ``()``.
    body_fn : callable
        Takes the carried values and returns new ones: the same number of tensors and
        ints, each tensor of the shape and dtype of the one it replaces, and new
        tensors (not views of its inputs).
    carried_inputs : tuple or list
        The initial values: tensors and ints, or tuples, lists and dicts of them.

    Returns
    -------
    tuple or object
        The last output of ``body_fn``; if it never ran, a tuple of clones of
        ``carried_inputs``.

    Raises
    ------
    RuntimeError
        For functions that are not callable, ``carried_inputs`` that is not a tuple or
        list, a ``cond_fn`` result that is not a boolean scalar, or a ``body_fn``
        output that does not match the carried values or aliases them.
    AssertionError
        For carried values that are not tensors or ints (PyTorch's check of them).

    Notes
    -----
    PyTorch's graph capture also wants each output tensor to keep the strides of the
    one it replaces; ember, running eagerly, checks shapes and dtypes only.

    Examples
    --------
    >>> import ember
    >>> i, x = ember.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2),
    ...                         (ember.tensor(0), ember.tensor([1.0, 5.0])))
    >>> i, x
    (tensor(3), tensor([ 8., 40.]))
    """
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list but got {type(carried_inputs)}")
    leaves = _pytree.tree_leaves(carried_inputs)
    if not all(isinstance(v, (Tensor, int)) for v in leaves):
        raise AssertionError(f"{leaves} can only be of (Tensor, int) but got "
                             f"{tuple(type(v).__name__ for v in leaves)}")
    args = carried_inputs
    if not _predicate(cond_fn(*args)):
        return tuple(v.clone() if isinstance(v, Tensor) else v for v in args)
    while True:
        out = body_fn(*args)
        _check_body(out, leaves)
        # PyTorch matches outputs to inputs leaf by leaf: a lone tensor is one argument
        args, leaves = (out if isinstance(out, (tuple, list)) else (out,)), _pytree.tree_leaves(out)
        if not _predicate(cond_fn(*args)):
            return out


def _predicate(pred):
    if isinstance(pred, bool):
        return pred
    if isinstance(pred, Tensor) and pred.dim() == 0 and pred.dtype == bool_:
        return bool(pred)
    shape = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
    raise RuntimeError("torch.while_loop: expected cond_fn to return a scalar tensor or a "
                       f"bool but got {shape}")


def _check_body(out, carried):
    """PyTorch's checks of one body output against the carried values it replaces."""
    leaves = _pytree.tree_leaves(out)
    if len(leaves) != len(carried):
        raise RuntimeError("Expected body_fn_output and carried_inputs to have same number of "
                           f"outputs but got {len(leaves)} and {len(carried)}")
    for i, (new, old) in enumerate(zip(leaves, carried)):
        if isinstance(old, Tensor) != isinstance(new, Tensor):
            raise RuntimeError(f"Expected body_fn_output and carried_inputs to have same "
                               f"metadata but found: pair[{i}] differ in type: "
                               f"{type(new).__name__} vs {type(old).__name__}")
        if isinstance(old, Tensor) and (new.shape != old.shape or new.dtype != old.dtype):
            raise RuntimeError("Expected body_fn_output and carried_inputs to have same "
                               f"metadata but found: pair[{i}] differ in shape or dtype: "
                               f"{tuple(new.shape)}, {new.dtype} vs {tuple(old.shape)}, "
                               f"{old.dtype}")
    _check_outputs(out, carried, "torch.while_loop")


def _check_outputs(out, inputs, name):
    """Outputs must be tensors or ints that share no memory with the inputs."""
    storages = {t.untyped_storage().data_ptr() for t in inputs
                if isinstance(t, Tensor) and t.numel() and not t.is_meta}
    for leaf in _pytree.tree_leaves(out):
        if isinstance(leaf, Tensor):
            if leaf.numel() and not leaf.is_meta and \
                    leaf.untyped_storage().data_ptr() in storages:
                raise RuntimeError(f"{name}: a branch output aliases an input: higher order "
                                   "ops do not support aliasing; return a clone instead.")
        elif not isinstance(leaf, int):
            raise RuntimeError(f"{name}: unsupported branch return type "
                               f"{type(leaf).__name__}: expected tensors or ints.")
