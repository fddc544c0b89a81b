"""Index ops: advanced indexing, gather/scatter, masked fill, nonzero and joining.

The implementations are compiled (``ember._core._index``); this module installs
the advanced-indexing hooks of ``Tensor.__getitem__``/``__setitem__``, attaches
the Tensor methods, lists the public functions and registers the ops'
derivatives.  Each backward is written with these same ops (a gather's is a
scatter-add into zeros, a scatter's source gathers the gradient back), so the
derivatives of the derivatives close over the family.
"""
from ember._core import _index
from ember._core._index import (
    advanced_getitem, advanced_setitem, cat, concat, concatenate, gather, index_put,
    index_put_, index_select, masked_fill, masked_fill_, nonzero, scatter, scatter_,
    scatter_add, scatter_add_, stack,
)
from ember._core._tensor import Tensor, _add_method, _advanced_index_hooks, zeros
from ember.ops.derivatives import derivative

__all__ = [
    "cat", "concat", "concatenate", "stack", "index_select", "gather", "scatter",
    "scatter_add", "index_put", "masked_fill", "nonzero", "advanced_setitem",
]

_advanced_index_hooks["getitem"] = advanced_getitem
_advanced_index_hooks["setitem"] = advanced_setitem


def _nonzero_method(self, *, as_tuple=False):
    """Indices of the nonzero elements (see :func:`ember.nonzero`)."""
    return nonzero(self, as_tuple=as_tuple)


def _index_select_method(self, dim, index):
    """Entries at positions ``index`` along ``dim`` (see :func:`ember.index_select`)."""
    return index_select(self, dim, index)


def _gather_method(self, dim, index, *, sparse_grad=False):
    """Values along ``dim`` at positions ``index`` (see :func:`ember.gather`)."""
    return gather(self, dim, index, sparse_grad=sparse_grad)


for _name, _fn in {
    "index_select": _index_select_method,
    "gather": _gather_method,
    "scatter": scatter,
    "scatter_": scatter_,
    "scatter_add": scatter_add,
    "scatter_add_": scatter_add_,
    "index_put": index_put,
    "index_put_": index_put_,
    "masked_fill": masked_fill,
    "masked_fill_": masked_fill_,
    "nonzero": _nonzero_method,
}.items():
    _add_method(_name, _fn)
del _name, _fn, _index


# ---------------------------------------------------------------- derivatives
# Formulas see the op's arguments as recorded by its entry point; tensors that
# require grad arrive as metadata (``save_inputs=False``): these backwards need
# only the indices and masks, which are always kept.  The in-place forms share
# the out-of-place formulas: the gradient of ``self`` is that of its old value.

def _pad_to(grad, shape):
    """``grad`` in the leading corner of zeros of ``shape`` (a scatter's ``src`` may be
    larger than its ``index``: the elements it never reads get no gradient)."""
    for d, size in enumerate(shape):
        have = grad.shape[d]
        if have < size:
            fill = list(grad.shape)
            fill[d] = size - have
            grad = cat([grad, zeros(fill, dtype=grad.dtype, device=grad.device)], d)
    return grad


def _gathered(grad, dim, index, src):
    """The gradient of a scatter's ``src``: the output gradient read back at ``index``."""
    out = grad.gather(dim, index)
    shape = tuple(src.shape)
    return _pad_to(out, shape) if len(shape) == out.dim() and tuple(out.shape) != shape else out


@derivative("gather", save_inputs=False)
def _gather_backward(ctx, grad, input, dim, index, *, out=None):
    # repeated indices add up: a scatter-add into zeros (differentiable: its own
    # derivative gathers back)
    return zeros(tuple(input.shape), dtype=grad.dtype, device=grad.device).scatter_add(
        dim, index, grad)


def _scatter_backward(ctx, grad, input, dim, index, src=None, *, value=None, reduce=None):
    if reduce is not None:
        # as in PyTorch, which has no derivative for the deprecated reduce= forms
        raise RuntimeError("the derivative for 'scatter' with reduce= is not implemented "
                           "(use scatter_add for reduce='add')")
    grad_input = grad.scatter(dim, index, 0) if ctx.needs_input_grad[0] else None
    grad_src = None
    if len(ctx.needs_input_grad) == 3 and ctx.needs_input_grad[2]:     # src is a tensor
        grad_src = _gathered(grad, dim, index, src)
    return grad_input, None, None, grad_src


def _scatter_add_backward(ctx, grad, input, dim, index, src):
    grad_src = _gathered(grad, dim, index, src) if ctx.needs_input_grad[2] else None
    return grad, None, None, grad_src


def _index_put_backward(ctx, grad, input, indices, values, accumulate=False):
    grad_input = grad_values = None
    if ctx.needs_input_grad[0]:
        # written positions lose their old value; accumulated ones keep it
        grad_input = grad if accumulate else \
            grad.index_put(tuple(indices), zeros((), dtype=grad.dtype, device=grad.device))
    if ctx.needs_input_grad[-1]:
        grad_values = grad[tuple(slice(None) if i is None else i for i in indices)]
        extra = values.dim() - grad_values.dim()
        if extra > 0:       # values may carry extra leading 1s (the engine sums the rest)
            grad_values = grad_values.reshape((1,) * extra + tuple(grad_values.shape))
    return grad_input, None, grad_values


def _masked_fill_backward(ctx, grad, input, mask, value):
    grad_input = grad.masked_fill(mask, 0) if ctx.needs_input_grad[0] else None
    grad_value = None
    if len(ctx.needs_input_grad) == 3 and ctx.needs_input_grad[2]:     # a 0-d tensor value
        grad_value = grad.where(mask, 0).sum()
    return grad_input, None, grad_value


def _scatter_node_name(input, dim, index, src=None, **kwargs):
    return "ScatterBackward0" if src is not None and not _is_number(src) else "ScatterBackward1"


def _masked_fill_node_name(input, mask, value):
    return "MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0"


def _is_number(x):
    return isinstance(x, (bool, int, float, complex))


for _name, _formula, _node in (
        ("scatter", _scatter_backward, _scatter_node_name),
        ("scatter_", _scatter_backward, _scatter_node_name),
        ("scatter_add", _scatter_add_backward, None),
        ("scatter_add_", _scatter_add_backward, None),
        ("index_put", _index_put_backward, None),
        ("index_put_", _index_put_backward, None),
        ("masked_fill", _masked_fill_backward, _masked_fill_node_name),
        ("masked_fill_", _masked_fill_backward, _masked_fill_node_name)):
    derivative(_name, node=_node, save_inputs=False)(_formula)
del _name, _formula, _node


@derivative("index_select", save_inputs=False)
def _index_select_backward(ctx, grad, input, dim, index, *, out=None):
    shape = tuple(input.shape)
    if not shape:           # a 0-d input: its one element was picked
        return grad.reshape(())
    d = dim + len(shape) if dim < 0 else dim
    # index_put with accumulate: repeated positions add up
    positions = (None,) * d + (index.reshape(-1),)
    return zeros(shape, dtype=grad.dtype, device=grad.device).index_put(positions, grad, True)


@derivative("cat", save_inputs=False)
def _cat_backward(ctx, grad, tensors, dim=0, *, out=None):
    shapes = [tuple(t.shape) for t in tensors]
    joined = [s for s in shapes if s != (0,)]       # 1-D empty tensors are skipped
    d = 0
    if joined:
        d = dim + len(joined[0]) if dim < 0 else dim
    grads, start = [], 0
    for shape, need in zip(shapes, ctx.needs_input_grad):
        if shape == (0,):
            grads.append(zeros(shape, dtype=grad.dtype, device=grad.device) if need else None)
            continue
        grads.append(grad.narrow(d, start, shape[d]) if need else None)
        start += shape[d]
    return grads, None


@derivative("stack", save_inputs=False)
def _stack_backward(ctx, grad, tensors, dim=0, *, out=None):
    d = dim + grad.dim() if dim < 0 else dim
    return [grad.select(d, k) if need else None
            for k, need in enumerate(ctx.needs_input_grad)], None
