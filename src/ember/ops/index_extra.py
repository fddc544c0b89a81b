"""More index ops: ``take``, the ``index_*`` family (``index_add``, ``index_copy``,
``index_fill``, ``index_reduce``), ``scatter_reduce``, ``masked_scatter``,
``argwhere``, ``narrow_copy`` and the view scatters (``select_scatter``,
``slice_scatter``, ``diagonal_scatter``).

The ``index_*`` ops are ``index_put`` with the index placed on one dimension, so
they share its kernel and derivative.  ``scatter_reduce`` runs the core's scatter
loops (sum, prod, amax, amin; mean as a sum and a count) and records itself with
PyTorch's backward formulas; the view scatters write ``src`` into a view of a copy
and record themselves (the gradient of ``src`` is the same view of the gradient).
"""
from ember.ops.autocast import autocasts
import operator

from ember._core import _tensor as _core
from ember._core._dtype import TORCH_NAMES, int64
from ember._core._index import _scatter_reduce_into, cat
from ember._core._reduce import _with_out
from ember._core._tensor import Tensor, _add_method, _recorded, record
from ember.autograd.grad_mode import is_grad_enabled, no_grad
from ember.ops.derivatives import derivative
from ember.ops.elementwise import where
from ember.ops.index import index_put, nonzero
from ember.ops.shape_extra import _check_tensor, _wrap_dim
from ember.ops.tensor_api import iinfo

__all__ = ["take", "index_add", "index_copy", "index_fill", "index_reduce", "scatter_reduce",
           "masked_scatter", "argwhere", "narrow_copy", "select_scatter", "slice_scatter",
           "diagonal_scatter", "nonzero_static", "as_strided_scatter"]


def _tname(t):
    return TORCH_NAMES[t.dtype.num]


def _check_index(index, fname, vector=True):
    if not isinstance(index, Tensor):
        raise TypeError(f"{fname}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"{fname}(): Expected dtype int32/int64 for index but got "
                           f"{index.dtype}")
    if vector and index.dim() > 1:
        raise IndexError(f"{fname}(): Index is supposed to be a vector, but got dim: "
                         f"{index.dim()} with type: {_tname(index)} and size: "
                         f"{list(index.shape)}")


# ---------------------------------------------------------------- take

def take(input, index, *, out=None):
    """The elements of ``input`` (read as 1-d) at ``index``, in the shape of ``index``;
    negative indices count from the end.  ``out`` (of ``input``'s dtype) receives the
    result, resized as PyTorch resizes ``out=`` tensors.

    Examples
    --------
    >>> import ember
    >>> ember.take(ember.tensor([[4, 3], [5, 7]]), ember.tensor([0, -1]))
    tensor([4, 7])
    """
    _check_tensor(input, "take")
    _check_index(index, "take", vector=False)
    if out is not None:
        if isinstance(out, Tensor) and out.dtype != input.dtype:
            raise RuntimeError(f"take(): self and out expected to have the same dtype, but got "
                               f"self.dtype = {TORCH_NAMES[input.dtype.num]} and out.dtype = "
                               f"{TORCH_NAMES[out.dtype.num]}")
        return _with_out("take", out, "same", take, (input, index), None, (input,))
    n = input.numel()
    if index.numel():
        lo, hi = int(index.min()), int(index.max())
        bad = lo if lo < -n else hi if hi >= n else None
        if bad is not None:
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                             "elements.")
    flat = index.reshape(-1).to(_core.tensor(0).dtype)
    flat = flat + (flat < 0).to(flat.dtype) * n
    return input.reshape(-1)[flat].reshape(tuple(index.shape))


# ---------------------------------------------------------------- index_add and family

def _along(dim, ndim, index):
    """An ``index_put`` index tuple that applies ``index`` along ``dim``."""
    return (None,) * dim + (index.reshape(-1),)


def _check_source(self, d, index, source, fname):
    _check_tensor(source, fname, 4, "source")
    if source.dtype != self.dtype:
        raise RuntimeError(f"{fname}(): self ({_tname(self)}) and source ({_tname(source)}) "
                           "must have the same scalar type")
    n = source.shape[d] if source.dim() else 1
    if index.numel() != n:
        raise RuntimeError(f"{fname}(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim) ({n})")
    if source.dim() and self.dim() and source.dim() != self.dim():
        raise RuntimeError(f"{fname}(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {list(self.shape[:d] + self.shape[d + 1:])}"
                           f" and source slice shape: "
                           f"{list(source.shape[:d] + source.shape[d + 1:])}")


def _index_op(self, dim, index, source, fname, accumulate, inplace, alpha=1):
    _check_tensor(self, fname)
    d = _wrap_dim(dim, self.dim())
    _check_index(index, fname)
    _check_source(self, d, index, source, fname)
    if alpha != 1:
        source = source * alpha
    target = self if self.dim() else self.reshape(1)
    values = source if source.dim() else source.reshape(1)
    if inplace:
        target.index_put_(_along(d, target.dim(), index), values, accumulate)
        return self
    return index_put(target, _along(d, target.dim(), index), values,
                     accumulate).reshape(tuple(self.shape))


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """``input`` with ``alpha * source`` added at positions ``index`` along ``dim``
    (repeated indices add up).

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor
        A 1-d int64/int32 tensor with one entry per slice of ``source`` along ``dim``.
    source : Tensor
        Same dtype as ``input``.
    alpha : number, optional
    out : Tensor, optional
        Where to write the result (returned): of ``input``'s dtype, resized to its
        shape.

    Examples
    --------
    >>> import ember
    >>> ember.zeros(3).index_add(0, ember.tensor([0, 0, 2]), ember.tensor([1., 2., 3.]))
    tensor([3., 0., 3.])
    """
    if out is not None:
        return _with_out("index_add", out, "same", index_add, (input, dim, index, source),
                         {"alpha": alpha}, (input, source))
    return _index_op(input, dim, index, source, "index_add", True, False, alpha)


def _index_add_(self, dim, index, source, *, alpha=1):
    """In-place :func:`index_add`."""
    return _index_op(self, dim, index, source, "index_add_", True, True, alpha)


@autocasts("index_copy")
def index_copy(input, dim, index, source, *, out=None):
    """``input`` with the slices of ``source`` copied to positions ``index`` along ``dim``.
    ``out``, of ``input``'s dtype, receives the result (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> ember.zeros(3).index_copy(0, ember.tensor([2, 0]), ember.tensor([1., 2.]))
    tensor([2., 0., 1.])
    """
    if out is not None:
        return _with_out("index_copy", out, "same", index_copy, (input, dim, index, source),
                         None, (input, source))
    return _index_op(input, dim, index, source, "index_copy", False, False)


def _index_copy_(self, dim, index, source):
    """In-place :func:`index_copy`."""
    return _index_op(self, dim, index, source, "index_copy_", False, True)


def _fill_value(self, value, fname):
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"{fname} only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.dim()} dimension(s).")
        return value.to(self.dtype)
    return _core.tensor(value, dtype=self.dtype)


def index_fill(input, dim, index, value):
    """``input`` with the slices at positions ``index`` along ``dim`` set to ``value`` (a
    number or a 0-d tensor).

    Examples
    --------
    >>> import ember
    >>> ember.zeros(2, 3).index_fill(1, ember.tensor([0, 2]), 5.)
    tensor([[5., 0., 5.],
            [5., 0., 5.]])
    """
    _check_tensor(input, "index_fill")
    d = _wrap_dim(dim, input.dim())
    _check_index(index, "index_fill")
    if isinstance(value, Tensor) and value.requires_grad:
        index = index.unique()      # as PyTorch: a repeated position adds its gradient once
    target = input if input.dim() else input.reshape(1)
    return index_put(target, _along(d, target.dim(), index),
                     _fill_value(input, value, "index_fill")).reshape(tuple(input.shape))


def _index_fill_(self, dim, index, value):
    """In-place :func:`index_fill`."""
    _check_tensor(self, "index_fill_")
    d = _wrap_dim(dim, self.dim())
    _check_index(index, "index_fill_")
    target = self if self.dim() else self.reshape(1)
    target.index_put_(_along(d, target.dim(), index), _fill_value(self, value, "index_fill_"))
    return self


def _expanded_index(self, d, index, source):
    """``index`` along ``d`` broadcast to ``source``'s shape: index_reduce as a scatter."""
    shape = [1] * max(source.dim(), 1)
    shape[d] = index.numel()
    return index.reshape(shape).expand(tuple(source.shape) or (1,))


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """``input`` with the slices of ``source`` combined into positions ``index`` along
    ``dim`` by ``reduce`` (``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``).

    With ``include_self=False`` the positions written start from the reduction's
    identity instead of ``input``'s values.  ``out``, of ``input``'s dtype, receives
    the result (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> x = ember.ones(3)
    >>> x.index_reduce(0, ember.tensor([0, 0]), ember.tensor([2., 3.]), 'prod')
    tensor([6., 1., 1.])
    """
    if out is not None:
        return _with_out("index_reduce", out, "same", index_reduce,
                         (input, dim, index, source, reduce), {"include_self": include_self},
                         (input, source))
    return _index_reduce(input, dim, index, source, reduce, include_self, False)


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """In-place :func:`index_reduce`."""
    return _index_reduce(self, dim, index, source, reduce, include_self, True)


def _index_reduce(self, dim, index, source, reduce, include_self, inplace):
    fname = "index_reduce_" if inplace else "index_reduce"
    _check_tensor(self, fname)
    d = _wrap_dim(dim, self.dim())
    _check_index(index, fname)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"{fname}(): Expected reduce to be one of prod, mean, amax or amin "
                           f"but got {reduce}.")
    _check_source(self, d, index, source, fname)
    scatter_index = _expanded_index(self, d, index, source)
    target = self if self.dim() else self.reshape(1)
    values = source if source.dim() else source.reshape(1)
    if inplace:
        return _scatter_reduce_inplace(self, target, d, scatter_index, values, reduce,
                                       include_self)
    return scatter_reduce(target, d, scatter_index, values, reduce,
                          include_self=include_self).reshape(tuple(self.shape))


# ---------------------------------------------------------------- scatter_reduce

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _identity(reduce, dtype):
    """The value a position starts from when ``include_self=False``."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.is_floating_point:
        return float("-inf") if reduce == "amax" else float("inf")
    if dtype.name == "bool":
        return reduce == "amin"
    info = iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_raw(input, dim, index, src, reduce, include_self=True):
    out = input.clone()
    _scatter_reduce_into_(out, dim, index, src, reduce, include_self)
    return out


def _scatter_reduce_into_(out, dim, index, src, reduce, include_self):
    """Scatter-reduce ``src`` into ``out`` in place (the kernels; no recording)."""
    count = None
    if reduce == "mean":
        count = (_core.ones if include_self else _core.zeros)(tuple(out.shape), dtype=out.dtype,
                                                              device=out.device)
        _scatter_reduce_into(count, dim, index, _core.ones(tuple(src.shape), dtype=out.dtype,
                                                           device=out.device), "sum")
    if not include_self:
        out.scatter_(dim, index, _identity(reduce, out.dtype))
    _scatter_reduce_into(out, dim, index, src, "sum" if reduce == "mean" else reduce)
    if count is not None:
        count.clamp_(min=1)
        if out.is_floating_point() or out.is_complex():
            out.div_(count)
        else:
            out.copy_(out.div(count, rounding_mode="floor"))
    return out


def _check_scatter_reduce(input, dim, index, src, reduce, fname):
    _check_tensor(input, fname)
    _check_tensor(src, fname, 4, "src")
    _check_index(index, fname, vector=False)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if input.dtype != src.dtype:
        raise RuntimeError(f"{fname}(): Expected self.dtype to be equal to src.dtype")
    if input.is_complex() and reduce in ("amax", "amin"):
        raise RuntimeError(f"{fname}(): {reduce} is not supported for complex tensors")
    return _wrap_dim(dim, input.dim())


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """``input`` with the values of ``src`` reduced into it at positions ``index`` along
    ``dim``: ``out[index[i][j]][j] = reduce(out[...], src[i][j])`` for ``dim=0``.

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor
        int64 indices, no larger than ``src`` in every dimension (and no larger than
        ``input`` outside ``dim``).
    src : Tensor
        Same dtype as ``input``.
    reduce : {'sum', 'prod', 'mean', 'amax', 'amin'}
    include_self : bool, optional
        Whether ``input``'s values at the written positions take part (else they start
        from the reduction's identity).  Positions never written keep ``input``'s values.
    out : Tensor, optional
        Where to write the result (returned): of ``input``'s dtype, resized to its
        shape.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> src = ember.tensor([1., 2., 3., 4.])
    >>> ember.zeros(2).scatter_reduce(0, ember.tensor([0, 1, 0, 1]), src, 'amax')
    tensor([3., 4.])
    >>> ember.zeros(2).scatter_reduce(0, ember.tensor([0, 1, 0, 1]), src, 'mean',
    ...                               include_self=False)
    tensor([2., 3.])
    """
    if out is not None:
        return _with_out("scatter_reduce", out, "same", scatter_reduce,
                         (input, dim, index, src, reduce), {"include_self": include_self},
                         (input, src))
    d = _check_scatter_reduce(input, dim, index, src, reduce, "scatter_reduce")
    if _recorded(input) or _recorded(src):
        return record("scatter_reduce", _scatter_reduce_raw,
                      (input, d, index, src, reduce), {"include_self": bool(include_self)})
    return _scatter_reduce_raw(input, d, index, src, reduce, bool(include_self))


def _scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place :func:`scatter_reduce`."""
    d = _check_scatter_reduce(self, dim, index, src, reduce, "scatter_reduce_")
    return _scatter_reduce_inplace(self, self, d, index, src, reduce, include_self)


def _scatter_reduce_inplace(self, target, d, index, src, reduce, include_self):
    if _recorded(self) or _recorded(src):
        # the out-of-place op recorded on a copy (its derivative saves the input), its
        # result copied back (the gradient of the old value flows through the copy)
        self.copy_(scatter_reduce(target.clone(), d, index, src, reduce,
                                  include_self=include_self).reshape(tuple(self.shape)))
        return self
    _scatter_reduce_into_(target, d, index, src, reduce, bool(include_self))
    return self


@derivative("scatter_reduce", save_result=True)
def _scatter_reduce_backward(ctx, grad, input, dim, index, src, reduce, include_self=True):
    # PyTorch's formulas (scatter_reduce_backward in its FunctionsManual)
    result = ctx.result
    if reduce == "sum":
        grad_self, grad_src = grad, grad.gather(dim, index)
    elif reduce == "prod":
        masked_self = input.masked_fill(input == 0, 1)
        masked_self_result = masked_self.scatter_reduce(dim, index, src, reduce,
                                                        include_self=include_self)
        grad_self = grad * masked_self_result / masked_self
        src_zero = src == 0
        src_num_zeros = _core.zeros(tuple(input.shape), dtype=grad.dtype,
                                    device=grad.device).scatter_add(
            dim, index, src_zero.to(grad.dtype)).gather(dim, index)
        src_single_zero = src_zero & (src_num_zeros == 1)
        masked_src = src.masked_fill(src_single_zero, 1)
        masked_src_result = input.scatter_reduce(dim, index, masked_src, reduce,
                                                 include_self=include_self)
        grad_src = (grad * masked_src_result).gather(dim, index).where(
            src_single_zero, (grad * result).gather(dim, index) / src.masked_fill(src_zero, 1))
    elif reduce == "mean":
        count = (_core.ones if include_self else _core.zeros)(tuple(grad.shape),
                                                             dtype=grad.dtype, device=grad.device)
        count = count.scatter_add(dim, index, _core.ones(tuple(src.shape), dtype=grad.dtype,
                                                          device=grad.device))
        count = count.masked_fill(count == 0, 1)
        grad_self = grad / count
        grad_src = grad_self.gather(dim, index)
    else:       # amax, amin: the gradient is shared evenly among the elements that won
        value = result.gather(dim, index)
        self_is_result = (input == result).to(grad.dtype)
        src_is_result = (src == value).to(grad.dtype)
        share = grad / self_is_result.scatter_add(dim, index, src_is_result)
        grad_self = self_is_result * share
        grad_src = src_is_result * share.gather(dim, index)
    if not include_self:
        grad_self = grad_self.scatter(dim, index, 0)
    return grad_self, None, None, grad_src, None


# ---------------------------------------------------------------- masked_scatter, argwhere

def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` (broadcast to ``input``) is True
    filled, in row-major order, by consecutive elements of ``source``.

    Examples
    --------
    >>> import ember
    >>> mask = ember.tensor([True, False, True])
    >>> ember.zeros(3).masked_scatter(mask, ember.tensor([1., 2., 3.]))
    tensor([1., 0., 2.])
    """
    return _masked_scatter(input, mask, source, False)


def _masked_scatter_(self, mask, source):
    """In-place :func:`masked_scatter`."""
    return _masked_scatter(self, mask, source, True)


def _masked_scatter(self, mask, source, inplace):
    fname = "masked_scatter_" if inplace else "masked_scatter"
    _check_tensor(self, fname)
    _check_tensor(mask, fname, 2, "mask")
    _check_tensor(source, fname, 3, "source")
    if mask.dtype.name != "bool":
        raise RuntimeError(f"{fname}_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    if source.dtype != self.dtype:
        raise RuntimeError(f"{fname}: expected self and source to have same dtypes but got "
                           f"{_tname(self)} and {_tname(source)}")
    shape = tuple(self.shape)
    if not inplace:
        shape = _core.broadcast_shapes(shape, tuple(mask.shape))
    mask = mask.expand(shape)
    target = self if inplace else self.expand(shape)
    if not shape:                    # 0-d: a one-element fill
        target, mask = target.reshape(1), mask.reshape(1)
    positions = nonzero(mask, as_tuple=True)
    count = positions[0].numel()
    if count > source.numel():
        raise RuntimeError("masked_scatter: Number of elements of source < number of ones in "
                           "mask")
    values = source.reshape(-1)[:count]
    if inplace:
        target.index_put_(positions, values)
        return self
    return index_put(target, positions, values).reshape(shape)


def argwhere(input):
    """The indices of the nonzero elements of ``input``, one row per element (as
    ``nonzero``).

    Examples
    --------
    >>> import ember
    >>> ember.argwhere(ember.tensor([[1, 0], [0, 2]]))
    tensor([[0, 0],
            [1, 1]])
    """
    _check_tensor(input, "argwhere")
    return nonzero(input)


def nonzero_static(input, *, size, fill_value=-1, out=None):
    """The indices of the nonzero elements of ``input`` (as :func:`nonzero`) in a result of
    a fixed number of rows: cut to the first ``size`` rows, or padded with ``fill_value``.
    ``out``, of dtype ``int64``, receives the result (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> ember.nonzero_static(ember.tensor([0, 3, 0, 5]), size=3)
    tensor([[ 1],
            [ 3],
            [-1]])
    """
    if out is not None:
        return _with_out("nonzero_static", out, "same", nonzero_static, (input,),
                         {"size": size, "fill_value": fill_value}, differentiable=False)
    _check_tensor(input, "nonzero_static")
    size = operator.index(size)
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = nonzero(input)[:size]
    if found.shape[0] == size:
        return found
    pad = _core.full((size - found.shape[0], found.shape[1]), fill_value, dtype=found.dtype,
                     device=found.device)
    return cat([found, pad])


def narrow_copy(input, dim, start, length, *, out=None):
    """A contiguous copy of ``input.narrow(dim, start, length)``.  ``out``, of
    ``input``'s dtype, receives it, resized silently (as PyTorch's ``narrow_copy`` does).

    Examples
    --------
    >>> import ember
    >>> ember.narrow_copy(ember.arange(5), 0, 1, 2)
    tensor([1, 2])
    """
    _check_tensor(input, "narrow_copy")
    if out is not None:
        _check_tensor(out, "narrow_copy", 5, "out")
        if out.dtype != input.dtype:
            raise RuntimeError("Expected self.dtype() == output.dtype() to be true, but got "
                               "false.")
        if is_grad_enabled() and (input.requires_grad or out.requires_grad):
            raise RuntimeError("narrow_copy(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        return _core._factory_out(input.narrow(dim, start, length), out)
    return input.narrow(dim, start, length).clone()


# ---------------------------------------------------------------- view scatters

def _view_scatter_raw(input, src, view, args):
    out = input.clone()
    target = view(out, *args)
    if tuple(target.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(target.shape)}")
    target.copy_(src)
    return out


def _select_view(t, dim, index):
    return t.select(dim, index)


def _slice_view(t, dim, start, end, step):
    d = _wrap_dim(dim, t.dim())
    return t[(slice(None),) * d + (slice(start, end, step),)]


def _diagonal_view(t, offset, dim1, dim2):
    return t.diagonal(offset, dim1, dim2)


def _view_scatter(name, input, src, view, args):
    _check_tensor(input, name)
    _check_tensor(src, name, 2, "src")
    if _recorded(input) or _recorded(src):
        return record(name, _view_scatter_raw, (input, src, view, args))
    return _view_scatter_raw(input, src, view, args)


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``.

    Examples
    --------
    >>> import ember
    >>> ember.select_scatter(ember.zeros(2, 2), ember.ones(2), 0, 0)
    tensor([[1., 1.],
            [0., 0.]])
    """
    return _view_scatter("select_scatter", input, src, _select_view,
                         (operator.index(dim), operator.index(index)))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1, *, out=None):
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim`` replaced by
    ``src``.  ``out``, of ``input``'s dtype, receives it (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> ember.slice_scatter(ember.zeros(4), ember.ones(2), start=0, step=2)
    tensor([1., 0., 1., 0.])
    """
    if out is not None:
        return _with_out("slice_scatter", out, "same", slice_scatter,
                         (input, src, dim, start, end, step), None, (input, src))
    return _view_scatter("slice_scatter", input, src, _slice_view,
                         (operator.index(dim), start, end, operator.index(step)))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``.

    Examples
    --------
    >>> import ember
    >>> ember.diagonal_scatter(ember.zeros(2, 2), ember.ones(2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    return _view_scatter("diagonal_scatter", input, src, _diagonal_view,
                         (operator.index(offset), operator.index(dim1), operator.index(dim2)))


def _positions(shape, strides, offset, extent, device):
    """The memory position of every element of a strided view, as an int64 tensor."""
    return _core.arange(extent, device=device).as_strided(shape, strides, offset)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``input.as_strided(size, stride, storage_offset)`` replaced
    by ``src``.

    ``size``, ``stride`` and ``storage_offset`` (default: ``input``'s) address ``input``'s
    memory, as in PyTorch: an element of ``input`` is replaced when the view covers its
    memory position.  The result is a fresh row-major tensor; the gradient of ``input``
    is that of the result with the replaced elements zeroed (PyTorch's own is wrong in
    general), that of ``src`` the result's gradient at the elements it replaced.

    Examples
    --------
    >>> import ember
    >>> ember.as_strided_scatter(ember.zeros(3, 3), ember.ones(3), (3,), (4,))
    tensor([[1., 0., 0.],
            [0., 1., 0.],
            [0., 0., 1.]])
    """
    _check_tensor(input, "as_strided_scatter")
    _check_tensor(src, "as_strided_scatter", 2, "src")
    if input.dtype != src.dtype:
        raise RuntimeError(f"as_strided_scatter(): expected src to have the dtype of self "
                           f"({input.dtype}), but got {src.dtype}")
    size, stride = tuple(operator.index(n) for n in size), tuple(operator.index(n) for n in stride)
    if tuple(size) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(size)}")
    shape, strides, offset = tuple(input.shape), tuple(input.stride()), input.storage_offset()
    start = offset if storage_offset is None else operator.index(storage_offset)
    ends = [first + sum((n - 1) * step for n, step in zip(dims, steps)) + 1
            for dims, steps, first in ((shape, strides, offset), (size, stride, start))
            if all(dims)]
    extent = max(ends, default=0)
    with no_grad():
        # which element of src (if any) lands on each element of input, by memory position
        owner = _core.full((extent,), -1, dtype=int64, device=input.device)
        slots = _positions(size, stride, start, extent, input.device).reshape(-1)
        owner[slots] = _core.arange(slots.shape[0], device=input.device)
        taken = owner[_positions(shape, strides, offset, extent, input.device)]
    if not slots.shape[0]:
        return input.clone()
    picked = src.reshape(-1)[taken.clamp_min(0)]
    return where(taken >= 0, picked, input)


def _view_scatter_backward(name):
    def formula(ctx, grad, input, src, view, args):
        # the input's gradient loses the overwritten view; src's is that view of the gradient
        grad_input = grad_src = None
        if ctx.needs_input_grad[0]:
            zeros = _core.zeros(tuple(src.shape), dtype=grad.dtype, device=grad.device)
            grad_input = _view_scatter(name, grad, zeros, view, args)
        if ctx.needs_input_grad[-1]:
            grad_src = view(grad, *args)
        return grad_input, grad_src, None, None
    return formula


for _name in ("select_scatter", "slice_scatter", "diagonal_scatter"):
    derivative(_name, save_inputs=False)(_view_scatter_backward(_name))


for _name, _fn in {
    "take": take,
    "index_add": index_add,
    "index_add_": _index_add_,
    "index_copy": index_copy,
    "index_copy_": _index_copy_,
    "index_fill": index_fill,
    "index_fill_": _index_fill_,
    "index_reduce": index_reduce,
    "index_reduce_": _index_reduce_,
    "scatter_reduce": scatter_reduce,
    "scatter_reduce_": _scatter_reduce_,
    "masked_scatter": masked_scatter,
    "masked_scatter_": _masked_scatter_,
    "argwhere": argwhere,
    "narrow_copy": narrow_copy,
    "nonzero_static": nonzero_static,
    "as_strided_scatter": as_strided_scatter,
    "select_scatter": select_scatter,
    "slice_scatter": slice_scatter,
    "diagonal_scatter": diagonal_scatter,
}.items():
    _add_method(_name, _fn)
del _name, _fn
