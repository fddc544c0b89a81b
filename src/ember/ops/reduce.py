"""Derivatives of the reductions, scans and softmax (the ops are the core's
``ember._core._reduce``)."""
from ember.ops.derivatives import derivative


def _reduced_dims(dim, ndim):
    if dim is None or dim == () or dim == []:
        return list(range(ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    return sorted(d % ndim if ndim else 0 for d in dims)


def expand_reduced(grad, shape, dim, keepdim):
    """``grad`` of a reduction over ``dim`` broadcast back to the input's ``shape``."""
    if not keepdim and len(shape):
        for d in _reduced_dims(dim, len(shape)):
            grad = grad.unsqueeze(d)
    return grad.expand(*shape)


@derivative("sum", save_inputs=False)
def _sum_backward(ctx, grad, input, dim=None, keepdim=False, *, dtype=None):
    return expand_reduced(grad, tuple(input.shape), dim, keepdim)


@derivative("mean", save_inputs=False)
def _mean_backward(ctx, grad, input, dim=None, keepdim=False, *, dtype=None):
    shape = tuple(input.shape)
    count = 1
    for d in _reduced_dims(dim, len(shape)):
        count *= shape[d]
    return expand_reduced(grad, shape, dim, keepdim) / count
