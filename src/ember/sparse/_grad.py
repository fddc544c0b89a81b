"""Sparse gradients of dense tensors (``Embedding(sparse=True)``): ``Tensor.grad`` may hold
a sparse COO tensor of the tensor's shape, as in PyTorch.

The autograd engine carries dense gradients only, so the backward of the op that makes a
sparse gradient adds it into ``.grad`` itself with :func:`accumulate`; when the engine then
accumulates a dense gradient into it (a weight also used densely), the sum is dense.
"""
import ember

__all__ = ["accumulate"]


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
