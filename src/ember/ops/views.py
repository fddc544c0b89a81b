"""Derivatives of the views, copies and conversions.

The ops themselves are the core's (``ember._core``: views are a few lines of
stride arithmetic in Cython); their backward formulas live here.  A view's
gradient is the incoming gradient moved from the view's elements back to the
input's: a reshape or a permutation for the views that keep every element, and
for the slicing views (``select``, ``narrow``, ``diagonal``, basic indexing,
``unfold``, ``as_strided``) :func:`restride`, which writes the gradient into the
places of the input's storage the view reads and is its own adjoint.
"""
from ember._core import _tensor as _core
from ember._core._index import advanced_setitem
from ember._core._tensor import Tensor, _recorded, is_grad_enabled, record
from ember.autograd._graph import _adopt_view_history
from ember.ops.derivatives import derivative


def _no_overlap(shape, strides):
    """Whether distinct indices of this geometry always land on distinct elements."""
    span = 1
    for stride, n in sorted((abs(st), n) for n, st in zip(shape, strides) if n > 1):
        if stride < span:
            return False
        span += stride * (n - 1)
    return True


def _geometry(t):
    """``(shape, strides, storage_offset)`` of a tensor or of a formula's TensorMeta."""
    return tuple(t.shape), tuple(t.stride()), t.storage_offset()


def _lowest(geometry):
    shape, strides, offset = geometry
    return offset + sum(min(0, (n - 1) * st) for n, st in zip(shape, strides) if n > 0)


def _highest(geometry):
    shape, strides, offset = geometry
    return offset + sum(max(0, (n - 1) * st) for n, st in zip(shape, strides) if n > 0)


def _restride_raw(grad, source, target):
    src_shape, src_strides, src_offset = source
    dst_shape, dst_strides, dst_offset = target
    numel = 1
    for n in dst_shape:
        numel *= n
    lo = _lowest(target)
    if (numel > 0 and _highest(target) - lo + 1 == numel and _no_overlap(dst_shape, dst_strides)
            and _lowest(source) >= lo and _highest(source) < lo + numel):
        # the target fills a block of the storage (contiguous, transposed, flipped...) that
        # holds the source: a zeroed block receives the source where the view reads it
        block = _core.zeros(numel, dtype=grad.dtype, device=grad.device)
        _scatter_into_block(block, grad, (src_shape, src_strides, src_offset - lo))
        return block.as_strided(dst_shape, dst_strides, dst_offset - lo)
    # any geometry: through the positions of the storage the two share
    lo = min(_lowest(source), lo)
    hi = max(_highest(source), _highest(target))
    positions = _core.arange(hi - lo + 1, device=grad.device)
    src_pos = positions.as_strided(src_shape, src_strides, src_offset - lo).reshape(-1)
    dst_pos = positions.as_strided(dst_shape, dst_strides, dst_offset - lo)
    storage = _core.zeros(hi - lo + 1, dtype=grad.dtype, device=grad.device)
    storage.index_put_((src_pos,), grad.reshape(-1), accumulate=True)
    return storage[dst_pos]


def _scatter_into_block(block, grad, source):
    """Add ``grad`` into ``block`` at the places of geometry ``source``."""
    shape, strides, offset = source
    if _no_overlap(shape, strides):
        block.as_strided(shape, strides, offset).copy_(grad)
        return
    # windows that share elements (unfold, as_strided) add up: one strided add per index
    # of a dimension without which nothing overlaps (unfold's window), else one scatter
    split = [d for d, n in enumerate(shape) if 1 < n <= _MAX_SPLIT and
             _no_overlap(shape[:d] + shape[d + 1:], strides[:d] + strides[d + 1:])]
    if split:
        d = min(split, key=lambda d: shape[d])
        rest_shape, rest_strides = shape[:d] + shape[d + 1:], strides[:d] + strides[d + 1:]
        for i in range(shape[d]):
            block.as_strided(rest_shape, rest_strides, offset + i * strides[d]).add_(
                grad.select(d, i))
        return
    positions = _core.arange(block.numel(), device=block.device).as_strided(shape, strides,
                                                                            offset)
    block.index_put_((positions.reshape(-1),), grad.reshape(-1), accumulate=True)


_MAX_SPLIT = 64     # past this many strided adds, one scatter is faster


def restride(grad, source, target):
    """Move a gradient from the elements of geometry ``source`` to those of ``target``.

    Geometries are ``(shape, strides, storage_offset)`` triples over one storage; each
    target element receives the sum of the source elements at its storage position.
    This is the backward of every view (``source`` the view's geometry, ``target`` the
    input's), and it is differentiable: its adjoint is the move back.
    """
    if _recorded(grad):
        return record("restride", _restride_raw, (grad, source, target))
    return _restride_raw(grad, source, target)


@derivative("restride", node="AsStridedScatterBackward0", save_inputs=False)
def _restride_backward(ctx, grad, g, source, target):
    return restride(grad, target, source)


def _view_backward_of(ctx, grad, input, replay=None):
    """The gradient of a slicing view: its elements go back to their places in the input.

    By storage position, unless the input's own elements overlap (an expanded tensor):
    then ``replay`` (the view op as a function of a tensor) is applied to a contiguous
    stand-in of the input, whose positions are the input's element indices."""
    if replay is not None and not _no_overlap(tuple(input.shape), tuple(input.stride())):
        stand_in = _core.empty(tuple(input.shape), dtype=grad.dtype, device=grad.device)
        return restride(grad, _geometry(replay(stand_in)), _geometry(stand_in))
    return restride(grad, _geometry(ctx.outputs[0]), _geometry(input))


# ---------------------------------------------------------------- views that keep every element

@derivative("alias", node="AliasBackward0", save_inputs=False, view=True)
def _alias_backward(ctx, grad, input):
    # ember.Tensor(t): the same elements in the same places
    return grad


@derivative("view", node="ViewBackward0", save_inputs=False, view=True)
def _view_backward(ctx, grad, input, shape):
    return grad.reshape(tuple(input.shape))


@derivative("reshape", node="ViewBackward0", save_inputs=False, view=True)
def _reshape_backward(ctx, grad, input, shape):
    return grad.reshape(tuple(input.shape))


@derivative("reshape_copy", node="UnsafeViewBackward0", save_inputs=False)
def _reshape_copy_backward(ctx, grad, input, shape):
    return grad.reshape(tuple(input.shape))


@derivative("flatten", node="ViewBackward0", save_inputs=False, view=True)
def _flatten_backward(ctx, grad, input, start_dim, end_dim):
    return grad.reshape(tuple(input.shape))


@derivative("flatten_copy", node="UnsafeViewBackward0", save_inputs=False)
def _flatten_copy_backward(ctx, grad, input, start_dim, end_dim):
    return grad.reshape(tuple(input.shape))


def _squeeze_node(input, dim=None):
    if dim is None:
        return "SqueezeBackward0"
    return "SqueezeBackward2" if isinstance(dim, (tuple, list)) else "SqueezeBackward1"


@derivative("squeeze", node=_squeeze_node, save_inputs=False, view=True)
def _squeeze_backward(ctx, grad, input, dim=None):
    return grad.reshape(tuple(input.shape))


@derivative("unsqueeze", save_inputs=False, view=True)
def _unsqueeze_backward(ctx, grad, input, dim):
    return grad.reshape(tuple(input.shape))


@derivative("transpose", save_inputs=False, view=True)
def _transpose_backward(ctx, grad, input, dim0, dim1):
    return grad.transpose(dim0, dim1)


@derivative("t", node="TBackward0", save_inputs=False, view=True)
def _t_backward(ctx, grad, input):
    return grad.t()


@derivative("permute", save_inputs=False, view=True)
def _permute_backward(ctx, grad, input, dims):
    nd = len(dims)
    inverse = [0] * nd
    for i, d in enumerate(dims):
        inverse[d % nd if nd else 0] = i
    return grad.permute(*inverse)


@derivative("expand", save_inputs=False, view=True)
def _expand_backward(ctx, grad, input, sizes):
    return sum_to(grad, tuple(input.shape))


def sum_to(grad, shape):
    """Sum ``grad`` over the dimensions that broadcasting added to reach its shape."""
    lead = grad.dim() - len(shape)
    dims = list(range(lead)) + [lead + d for d, n in enumerate(shape)
                                if n == 1 and grad.shape[lead + d] != 1]
    if not dims:
        return grad
    out = grad.sum(dims, keepdim=True)
    return out.reshape(shape) if lead else out


# ---------------------------------------------------------------- slicing views

@derivative("narrow", node="SliceBackward0", save_inputs=False, view=True)
def _narrow_backward(ctx, grad, input, dim, start, length):
    return _view_backward_of(ctx, grad, input, lambda t: t.narrow(dim, start, length))


@derivative("select", save_inputs=False, view=True)
def _select_backward(ctx, grad, input, dim, index):
    return _view_backward_of(ctx, grad, input, lambda t: t.select(dim, index))


@derivative("diagonal", save_inputs=False, view=True)
def _diagonal_backward(ctx, grad, input, offset=0, dim1=0, dim2=1):
    return _view_backward_of(ctx, grad, input, lambda t: t.diagonal(offset, dim1, dim2))


@derivative("as_strided", save_inputs=False, view=True)
def _as_strided_backward(ctx, grad, input, size, stride, storage_offset=None):
    return _view_backward_of(ctx, grad, input)


@derivative("unfold", save_inputs=False, view=True)
def _unfold_backward(ctx, grad, input, dimension, size, step):
    return _view_backward_of(ctx, grad, input, lambda t: t.unfold(dimension, size, step))


@derivative("split", node=lambda input, sizes, dim=0: "SplitWithSizesBackward0"
            if isinstance(sizes, (tuple, list)) else "SplitBackward0", save_inputs=False, view=True)
def _split_backward(ctx, grads, input, split_size_or_sections, dim=0):
    from ember.ops.index import cat
    return cat(list(grads), dim)


@derivative("unbind", save_inputs=False, view=True)
def _unbind_backward(ctx, grads, input, dim=0):
    from ember.ops.index import stack
    return stack(list(grads), dim)


@derivative("real", node="SelectBackward0", save_inputs=False, view=True)
def _real_backward(ctx, grad, input):
    return grad


@derivative("imag", node="SelectBackward0", save_inputs=False, view=True)
def _imag_backward(ctx, grad, input):
    return grad * 1j


# ---------------------------------------------------------------- indexing

def _getitem_node(input, index):
    """PyTorch applies an index item by item: the node is that of the last item that did
    something (a full ``:`` does nothing), IndexBackward0 for advanced indexing."""
    items = index if type(index) is tuple else (index,)
    name = "AliasBackward0"
    for item in items:
        if item is None:
            name = "UnsqueezeBackward0"
        elif type(item) is slice:
            if item != slice(None):
                name = "SliceBackward0"
        elif item is Ellipsis:
            continue
        elif isinstance(item, Tensor) and (item.dim() != 0 or item.is_floating_point()
                                           or item.dtype.itemsize == 1):
            return "IndexBackward0"
        elif isinstance(item, (list, bool)) or hasattr(item, "__array__"):
            return "IndexBackward0"
        else:
            name = "SelectBackward0"
    return name


@derivative("getitem", node=_getitem_node, save_inputs=False, view=True)
def _getitem_backward(ctx, grad, input, index):
    if ctx.outputs[0].shares_storage:       # basic indexing: a view
        return _view_backward_of(ctx, grad, input, lambda t: t[index])
    return index_backward(grad, tuple(input.shape), index)


def _index_backward_raw(grad, shape, index):
    out = _core.zeros(shape, dtype=grad.dtype, device=grad.device)
    advanced_setitem(out, index, grad, True)
    return out


def index_backward(grad, shape, index):
    """``zeros(shape)`` with ``grad`` added at ``index`` (repeated indices accumulate)."""
    if _recorded(grad):
        return record("index_backward", _index_backward_raw, (grad, shape, index))
    return _index_backward_raw(grad, shape, index)


@derivative("index_backward", save_inputs=False)
def _index_backward_backward(ctx, grad, g, shape, index):
    return grad[index]


def _setitem_node(self, index, value):
    # PyTorch writes through a view for basic indexing (its node is CopySlices)
    return "IndexPutBackward0" if _getitem_node(self, index) == "IndexBackward0" \
        else "CopySlices"


@derivative("setitem", node=_setitem_node, save_inputs=False, inplace=True)
def _setitem_backward(ctx, grad, self, index, value):
    grad_self = None
    if ctx.needs_input_grad[0]:
        grad_self = grad.clone()
        grad_self[index] = 0
    grad_value = grad[index] if ctx.needs_input_grad[-1] else None
    return grad_self, None, grad_value


# ---------------------------------------------------------------- copies and conversions

@derivative("clone", save_inputs=False)
def _clone_backward(ctx, grad, input):
    return grad


@derivative("contiguous", node="CloneBackward0", save_inputs=False)
def _contiguous_backward(ctx, grad, input):
    return grad


@derivative("to", node="ToCopyBackward0", save_inputs=False)
def _to_backward(ctx, grad, input, dtype, device, copy):
    # back to the input's device (the engine casts the dtype)
    return grad if grad.device == input.device else grad.to(input.device)


@derivative("copy_", node="CopyBackwards", save_inputs=False)
def _copy_backward(ctx, grad, self, src):
    return _core.zeros_like(grad), grad


@derivative("fill_", node=lambda self, value: "FillBackward3" if isinstance(value, Tensor)
            else "FillBackward2", save_inputs=False)
def _fill_backward(ctx, grad, self, value):
    return _core.zeros_like(grad), grad.sum()


@derivative("zero_", node="ZeroBackward0", save_inputs=False)
def _zero_backward(ctx, grad, self):
    return _core.zeros_like(grad)


# ---------------------------------------------------------------- in-place view ops

def _inplace_view(name):
    """``Tensor.<name>_``: the view ``<name>`` taken in place (the tensor itself gets the
    view's shape, strides and offset; under autograd, the view's history too)."""
    def method(self, *args, **kwargs):
        view = getattr(self, name)(*args, **kwargs)
        if self.requires_grad and is_grad_enabled():
            if self.is_leaf:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            _adopt_view_history(self, view)
        result = _core._take_layout(self, view)
        if _recorded(view):
            # a dual tensor: it takes the view's tangent too
            from ember.autograd.forward_ad import _adopt_tangent
            _adopt_tangent(self, view)
        return result
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`: ``self`` becomes the view."
    return method


for _name in ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims", "as_strided"):
    _core._add_method(_name + "_", _inplace_view(_name))
_core._add_method("resize_", _core.resize_)
_core._add_method("resize_as_", _core.resize_as_)


def _ge(a, b):
    """PyTorch's order on sizes and strides for dim_order: 0 is above everything."""
    if b == 0:
        return True
    if a == 0:
        return False
    return a >= b or a % b == 0


def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory, as ``torch.Tensor.dim_order``.

    Parameters
    ----------
    ambiguity_check : bool or list of memory_format, optional
        Raise a RuntimeError when the order is not unique (equal strides, size-1 dims),
        unless (given a list) the tensor is in exactly one of those memory formats.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> import ember
    >>> ember.empty(2, 3, 4, 5, memory_format=ember.channels_last).dim_order()
    (0, 2, 3, 1)
    """
    shape, strides, nd = tuple(self.shape), self.stride(), self.dim()
    if ambiguity_check:
        formats = ambiguity_check if isinstance(ambiguity_check, list) else []
        ambiguous = (any(a == b for a, b in zip(strides, strides[1:]))
                     or any(s == 1 for s in shape))
        unique_format = sum(self.is_contiguous(memory_format=f) for f in formats) == 1
        if ambiguous and not unique_format:
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                               "exact one of the given memory formats.")
    if nd <= 1:
        return tuple(range(nd))
    contiguous = self.is_contiguous()
    channels_last = self.is_contiguous(memory_format=_core.channels_last)
    if contiguous and not channels_last:
        return tuple(range(nd))
    if channels_last and not contiguous:
        return (0, *range(2, nd), 1)

    def should_swap(a, b):
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa == sb:
            return 0 if _ge(shape[b], shape[a]) else 1
        if _ge(sb, sa):
            return -1
        return 1 if _ge(sa, sb) else 0

    # insertion sort from the innermost dim, as PyTorch's elementwise output order
    perm = list(reversed(range(nd)))
    for i in range(1, nd):
        dim1 = i
        for dim0 in reversed(range(i)):
            order = should_swap(perm[dim0], perm[dim1])
            if order > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif order < 0:
                break
    if ambiguity_check and any(should_swap(perm[i], perm[i + 1]) != -1
                               for i in range(nd - 1)):
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(reversed(perm))


_core._add_method("dim_order", dim_order)
del _name
