"""Manipulation, indexing and main-namespace linear algebra functions of the Array API
namespace (``axis`` for ``dim``, the standard's names)."""
import builtins

import ember

from ember.array_api._dtypes import result_type, astype


def _common(arrays, name):
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{name}: expected at least one array")
    dtype = result_type(*arrays)
    return [astype(a, dtype, copy=False) for a in arrays]


def broadcast_arrays(*arrays):
    """Views of ``arrays`` broadcast to one shape.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> [a.shape for a in xp.broadcast_arrays(xp.ones((2, 1)), xp.ones(3))]
    [ember.Size([2, 3]), ember.Size([2, 3])]
    """
    shape = ember.broadcast_shapes(*(a.shape for a in arrays))
    return [a.broadcast_to(shape) for a in arrays]


def broadcast_to(x, /, shape):
    """A view of ``x`` broadcast to ``shape``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.broadcast_to(xp.asarray([1, 2]), (2, 2))
    tensor([[1, 2],
            [1, 2]])
    """
    return x.broadcast_to(tuple(shape))


def concat(arrays, /, *, axis=0):
    """Join arrays along ``axis`` (flattened first when ``axis`` is None).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.concat([xp.asarray([1]), xp.asarray([2.5])])
    tensor([1.0000, 2.5000])
    """
    arrays = _common(arrays, "concat")
    if axis is None:
        return ember.cat([a.reshape(-1) for a in arrays])
    return ember.cat(arrays, axis)


def stack(arrays, /, *, axis=0):
    """Join arrays of one shape along a new ``axis``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.stack([xp.asarray([1, 2]), xp.asarray([3, 4])], axis=1)
    tensor([[1, 3],
            [2, 4]])
    """
    return ember.stack(_common(arrays, "stack"), axis)


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.unstack(xp.asarray([[1, 2], [3, 4]]))
    (tensor([1, 2]), tensor([3, 4]))
    """
    return tuple(ember.unbind(x, axis))


def expand_dims(x, /, *, axis=0):
    """``x`` with a new axis of size one at ``axis``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.expand_dims(xp.ones(3), axis=-1).shape
    ember.Size([3, 1])
    """
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexError(f"expand_dims: axis {axis} is out of range for an array of "
                         f"{x.ndim} dimensions")
    return ember.unsqueeze(x, axis)


def squeeze(x, /, axis):
    """``x`` without the size-one axes ``axis``; ``ValueError`` if one is not of size one.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.squeeze(xp.ones((1, 3, 1)), axis=(0, 2)).shape
    ember.Size([3])
    """
    axes = (axis,) if isinstance(axis, builtins.int) else tuple(axis)
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise IndexError(f"squeeze: axis {a} is out of range for {x.ndim} dimensions")
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1")
    return ember.squeeze(x, axes) if axes else x


def flip(x, /, *, axis=None):
    """``x`` reversed along ``axis`` (all axes when None).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.flip(xp.asarray([1, 2, 3]))
    tensor([3, 2, 1])
    """
    axes = tuple(range(x.ndim)) if axis is None else axis
    return ember.flip(x, (axes,) if isinstance(axes, builtins.int) else tuple(axes))


def moveaxis(x, source, destination, /):
    """``x`` with axes moved from ``source`` to ``destination``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.moveaxis(xp.ones((2, 3, 4)), 0, -1).shape
    ember.Size([3, 4, 2])
    """
    return ember.movedim(x, source, destination)


def permute_dims(x, /, axes):
    """``x`` with its axes permuted.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.permute_dims(xp.ones((2, 3)), (1, 0)).shape
    ember.Size([3, 2])
    """
    return ember.permute(x, tuple(axes))


def reshape(x, /, shape, *, copy=None):
    """``x`` with a new shape: a view when possible (``copy=False`` raises ``ValueError``
    when it is not), a copy with ``copy=True``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.reshape(xp.arange(6), (2, -1))
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    shape = tuple(shape)
    if copy:
        return ember.clone(x).reshape(shape)
    if copy is False:
        try:
            return x.view(shape)
        except RuntimeError as exc:
            raise ValueError(f"reshape(copy=False): cannot reshape {tuple(x.shape)} to "
                             f"{shape} without a copy") from exc
    return ember.reshape(x, shape)


def roll(x, /, shift, *, axis=None):
    """``x`` rolled by ``shift`` along ``axis`` (over the flattened array when None).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.roll(xp.asarray([1, 2, 3]), 1)
    tensor([3, 1, 2])
    """
    return ember.roll(x, shift, axis)


def repeat(x, repeats, /, *, axis=None):
    """Each element of ``x`` repeated ``repeats`` times (an int or a 1-d array) along
    ``axis`` (of the flattened array when None).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.repeat(xp.asarray([1, 2]), xp.asarray([2, 1]))
    tensor([1, 1, 2])
    """
    if axis is None:
        x, axis = x.reshape(-1), 0
    return ember.repeat_interleave(x, repeats, dim=axis)


def tile(x, repetitions, /):
    """``x`` repeated ``repetitions`` times along each axis.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.tile(xp.asarray([1, 2]), (2,))
    tensor([1, 2, 1, 2])
    """
    return ember.tile(x, tuple(repetitions))


def take(x, indices, /, *, axis=None):
    """Elements of ``x`` at ``indices`` (1-d, negative counting from the end) along ``axis``.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.take(xp.asarray([10, 20, 30]), xp.asarray([2, -3]))
    tensor([30, 10])
    """
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"take: axis is required for a {x.ndim}-d array")
        axis = 0
    indices = ember.where(indices < 0, indices + x.shape[axis], indices)
    return ember.index_select(x, axis, indices)


def take_along_axis(x, indices, /, *, axis=-1):
    """Elements of ``x`` picked along ``axis`` by ``indices`` of the same rank.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.take_along_axis(xp.asarray([[3, 1], [0, 5]]), xp.asarray([[1], [0]]))
    tensor([[1],
            [0]])
    """
    indices = ember.where(indices < 0, indices + x.shape[axis], indices)
    return ember.take_along_dim(x, indices, axis)


def matmul(x1, x2, /):
    """Matrix product with broadcasting (``x1 @ x2``).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.matmul(xp.asarray([[1, 2]]), xp.asarray([[3], [4]]))
    tensor([[11]])
    """
    return ember.matmul(*_common((x1, x2), "matmul"))


def matrix_transpose(x, /):
    """Transpose of the last two axes.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.matrix_transpose(xp.ones((4, 2, 3))).shape
    ember.Size([4, 3, 2])
    """
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: expected at least 2 dimensions, got {x.ndim}")
    return x.mT


def tensordot(x1, x2, /, *, axes=2):
    """Sum of products over ``axes`` (an int, or two sequences of axes).

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.tensordot(xp.ones((2, 3)), xp.ones((3, 4)), axes=1).shape
    ember.Size([2, 4])
    """
    x1, x2 = _common((x1, x2), "tensordot")
    if not isinstance(axes, builtins.int):
        axes = [list(axes[0]), list(axes[1])]
    return ember.tensordot(x1, x2, dims=axes)


def vecdot(x1, x2, /, *, axis=-1):
    """Dot product of vectors along ``axis`` (``x1`` conjugated), with broadcasting.

    Examples
    --------
    >>> import ember.array_api as xp
    >>> xp.vecdot(xp.asarray([1.0, 2.0]), xp.asarray([3.0, 4.0]))
    tensor(11.)
    """
    x1, x2 = _common((x1, x2), "vecdot")
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot: axis {axis} has sizes {x1.shape[axis]} and "
                         f"{x2.shape[axis]}")
    return ember.linalg.vecdot(x1, x2, dim=axis)
