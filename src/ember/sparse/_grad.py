"""Sparse gradients of dense tensors (``Embedding(sparse=True)``): ``Tensor.grad`` may hold
a sparse COO tensor of the tensor's shape, as in PyTorch.

The compiled ``grad`` slot takes dense tensors only, so the first sparse COO tensor made
replaces the ``grad`` property by one that keeps sparse gradients in a table keyed by the
tensor and reads the slot otherwise: a program without sparse tensors keeps the compiled
property's speed.  The autograd engine accumulates only dense gradients; a sparse one is
added by :func:`accumulate` from the backward of the op that makes it.
"""
import weakref

import ember
from ember._core._tensor import Tensor, _add_method

__all__ = ["install", "accumulate", "any_sparse"]

_slot = Tensor.__dict__["grad"]
_slot_get, _slot_set = _slot.__get__, _slot.__set__
# id(tensor) -> (weak reference to the tensor, its sparse gradient)
_sparse = {}
_sparse_type = None     # SparseCooTensor, once install() ran


def _forget(key, ref):
    entry = _sparse.get(key)
    if entry is not None and entry[0] is ref:
        del _sparse[key]


def _get_grad(self):
    grad = _slot_get(self)
    if _sparse:
        entry = _sparse.get(id(self))
        if entry is not None:
            if grad is None:
                return entry[1]
            # the engine accumulated a dense gradient (the tensor is also used densely):
            # dense + sparse is dense, as in PyTorch
            del _sparse[id(self)]
            grad = grad + entry[1]
            _slot_set(self, grad)
    return grad


def _set_grad(self, value):
    if not isinstance(value, _sparse_type):
        _sparse.pop(id(self), None)
        _slot_set(self, value)
        return
    if value.dtype != self.dtype:
        raise RuntimeError("assigned grad has data of a different type")
    if value.device != self.device:
        raise RuntimeError("assigned grad has data located on a different device")
    if tuple(value.shape) != tuple(self.shape):
        raise RuntimeError("assigned grad has data of a different size")
    _slot_set(self, None)
    key = id(self)
    _sparse[key] = (weakref.ref(self, lambda ref: _forget(key, ref)), value)


def _del_grad(self):
    _sparse.pop(id(self), None)
    _slot_set(self, None)


def any_sparse():
    """Whether some tensor's ``grad`` holds a sparse gradient now."""
    return bool(_sparse)


def install(sparse_type):
    """Let ``Tensor.grad`` hold the sparse COO tensors of ``sparse_type`` (done once, when
    the first one is made)."""
    global _sparse_type
    if _sparse_type is None:
        _sparse_type = sparse_type
        _add_method("grad", property(_get_grad, _set_grad, _del_grad, _slot.__doc__))


def accumulate(tensor, grad):
    """Add the sparse gradient ``grad`` into ``tensor.grad`` as PyTorch's gradient
    accumulation does: sparse + sparse concatenates (uncoalesced) unless both have the same
    indices (the values add up), dense + sparse is dense."""
    with ember.no_grad():
        old = tensor.grad
        if old is None:
            tensor.grad = grad
        elif (getattr(old, "is_sparse", False) and old._idx.shape == grad._idx.shape
              and bool((old._idx == grad._idx).all())):
            tensor.grad = old._with_values(old._vals + grad._vals)
        else:
            tensor.grad = old + grad
