"""Shape, joining and splitting ops.

Stacking (``hstack``, ``vstack``, ``dstack``, ``column_stack``), ``atleast_nd``,
splitting (``tensor_split``, ``hsplit``, ``vsplit``, ``dsplit``), repetition
(``Tensor.repeat``, ``tile``, ``repeat_interleave``), ``rot90``, ``unflatten``,
``kron``, ``cross``, ``block_diag``, ``cartesian_prod``, ``combinations``,
``trace``, ``diag_embed`` and ``diagflat``.

Most are short composites of differentiable ops (views, ``cat``, ``index_select``,
products), so their gradients (and gradients of gradients) follow.
"""
from ember.ops.autocast import autocasts
import operator

from ember._core import _tensor as _core
from ember._core._dtype import TORCH_NAMES, bool_, int64, promote_types
from ember._core._reduce import _with_out
from ember._core._tensor import Tensor, _add_method
from ember.ops.index import cat, index_select, stack
from ember.ops.index_extra import diagonal_scatter
from ember.ops.shape_extra import _check_tensor, _int_list, _wrap_dim, diag, meshgrid

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack", "dstack",
           "column_stack", "tensor_split", "hsplit", "vsplit", "dsplit", "rot90", "tile",
           "repeat_interleave", "unflatten", "kron", "cross", "block_diag", "cartesian_prod",
           "combinations", "trace", "diag_embed", "diagflat"]


def _tname(t):
    return TORCH_NAMES[t.dtype.num]


# ---------------------------------------------------------------- atleast_nd, stacks

def _tensors_arg(tensors, fname):
    """The tensors of a ``*tensors`` or a single sequence argument."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fname}(): expected Tensor as element {k} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


def _atleast(ndim, fname, tensors):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    out = []
    for t in _tensors_arg(tensors, fname):
        shape = tuple(t.shape)
        if len(shape) < ndim:
            if ndim == 3:       # as NumPy: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)
                shape = ((1,) + shape + (1,)) if len(shape) == 1 else \
                    (shape + (1,) if shape else (1, 1, 1))
            else:
                shape = (1,) * (ndim - len(shape)) + shape
            t = t.reshape(shape)
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each input viewed with at least one dimension (0-d tensors become shape ``(1,)``).

    Returns one tensor for one tensor argument, else a tuple.

    Examples
    --------
    >>> import ember
    >>> ember.atleast_1d(ember.tensor(1.5))
    tensor([1.5000])
    """
    return _atleast(1, "atleast_1d", tensors)


def atleast_2d(*tensors):
    """Each input viewed with at least two dimensions (``(n,)`` becomes ``(1, n)``).

    Examples
    --------
    >>> import ember
    >>> ember.atleast_2d(ember.arange(3)).shape
    ember.Size([1, 3])
    """
    return _atleast(2, "atleast_2d", tensors)


def atleast_3d(*tensors):
    """Each input viewed with at least three dimensions, as NumPy's ``atleast_3d``:
    ``()`` -> ``(1, 1, 1)``, ``(n,)`` -> ``(1, n, 1)``, ``(m, n)`` -> ``(m, n, 1)``.

    Examples
    --------
    >>> import ember
    >>> ember.atleast_3d(ember.arange(3)).shape
    ember.Size([1, 3, 1])
    """
    return _atleast(3, "atleast_3d", tensors)


def _nonempty(tensors, fname):
    tensors = _tensors_arg((tensors,) if isinstance(tensors, (list, tuple)) else (tensors,),
                           fname)
    if not tensors:
        raise RuntimeError(f"{fname} expects a non-empty TensorList")
    return tensors


def hstack(tensors, *, out=None):
    """Join tensors column-wise: along dim 0 for 1-d inputs, else along dim 1.

    Examples
    --------
    >>> import ember
    >>> ember.hstack([ember.tensor([1, 2]), ember.tensor([3])])
    tensor([1, 2, 3])
    """
    tensors = _atleast(1, "hstack", (list(_nonempty(tensors, "hstack")),))
    return cat(list(tensors), 0 if tensors[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Join tensors row-wise (along dim 0), 1-d inputs taken as rows.

    Examples
    --------
    >>> import ember
    >>> ember.vstack([ember.tensor([1, 2]), ember.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    tensors = _atleast(2, "vstack", (list(_nonempty(tensors, "vstack")),))
    return cat(list(tensors), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Join tensors depth-wise (along dim 2) after :func:`atleast_3d`.

    Examples
    --------
    >>> import ember
    >>> ember.dstack([ember.tensor([1, 2]), ember.tensor([3, 4])]).shape
    ember.Size([1, 2, 2])
    """
    tensors = _atleast(3, "dstack", (list(_nonempty(tensors, "dstack")),))
    return cat(list(tensors), 2, out=out)


def column_stack(tensors, *, out=None):
    """Join tensors as columns: 0-d and 1-d inputs become ``(n, 1)`` columns, then
    everything is joined along dim 1.

    Examples
    --------
    >>> import ember
    >>> ember.column_stack([ember.tensor([1, 2]), ember.tensor([3, 4])])
    tensor([[1, 3],
            [2, 4]])
    """
    tensors = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t
               for t in _nonempty(tensors, "column_stack")]
    return cat(tensors, 1, out=out)


# ---------------------------------------------------------------- splitting

def _split_spec(fname, indices_or_sections, keywords):
    """``indices_or_sections``, or the one keyword PyTorch's binding takes for it instead:
    ``sections=`` (an int), ``indices=`` (a sequence of ints) or, for ``tensor_split``,
    ``tensor_indices_or_sections=`` (a tensor)."""
    given = [(k, v) for k, v in keywords.items() if v is not None]
    if indices_or_sections is not None:
        given.insert(0, ("indices_or_sections", indices_or_sections))
    if len(given) != 1:
        names = ", ".join(["indices_or_sections"] + list(keywords))
        raise TypeError(f"{fname}() takes exactly one of {names}, got "
                        f"{len(given)}")
    name, value = given[0]
    if name == "sections" and isinstance(value, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'sections' must be int, not "
                        f"{type(value).__name__}")
    if name == "indices" and not isinstance(value, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'indices' must be tuple of ints, not "
                        f"{type(value).__name__}")
    if name == "tensor_indices_or_sections" and not isinstance(value, Tensor):
        raise TypeError(f"{fname}(): argument 'tensor_indices_or_sections' must be Tensor, "
                        f"not {type(value).__name__}")
    return value


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """Split ``input`` into views along ``dim``: into ``n`` nearly equal parts (an int; the
    first ``size % n`` parts one longer) or at the given indices (a sequence).

    Parameters
    ----------
    input : Tensor
    indices_or_sections : int, sequence of int, or Tensor
        A 0-d integer tensor counts as sections, a 1-d one as indices.
    dim : int, optional
    sections, indices, tensor_indices_or_sections : optional
        ``indices_or_sections`` by keyword, under the names PyTorch's overloads give
        it: an int, a sequence of ints, a tensor (give exactly one of the four).

    Returns
    -------
    tuple of Tensor

    Examples
    --------
    >>> import ember
    >>> [t.tolist() for t in ember.tensor_split(ember.arange(7), 3)]
    [[0, 1, 2], [3, 4], [5, 6]]
    >>> [t.tolist() for t in ember.tensor_split(ember.arange(7), [1, 5])]
    [[0], [1, 2, 3, 4], [5, 6]]
    """
    _check_tensor(input, "tensor_split")
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = _wrap_dim(dim, input.dim())
    size = input.shape[d]
    spec = _split_spec("tensor_split", indices_or_sections,
                       {"sections": sections, "indices": indices,
                        "tensor_indices_or_sections": tensor_indices_or_sections})
    if isinstance(spec, Tensor):
        if spec.is_floating_point() or spec.is_complex() or spec.dtype.name == "bool":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have an "
                               f"integral type, but got {spec.dtype}")
        if spec.dim() > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {spec.dim()} dims")
        spec = spec.item() if spec.dim() == 0 else spec.tolist()
    if isinstance(spec, (list, tuple)):
        bounds = [operator.index(i) for i in spec]
    else:
        sections = operator.index(spec)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        bounds, start = [], 0
        for k in range(sections - 1):
            start += small + (1 if k < extra else 0)
            bounds.append(start)
    parts, start = [], 0
    for stop in bounds + [size]:
        # each part starts at the previous index, even one past its end (then it is empty):
        # decreasing indices give overlapping parts, as in PyTorch and NumPy
        stop = min(max(stop + size if stop < 0 else stop, 0), size)
        parts.append(input.narrow(d, start, max(stop - start, 0)))
        start = stop
    return tuple(parts)


def _split_along(input, spec, dim, fname, need):
    _check_tensor(input, fname)
    if input.dim() < need:
        raise RuntimeError(f"torch.{fname} requires a tensor with at least {need} dimension, "
                           f"but got a tensor with {input.dim()} dimensions!")
    if not isinstance(spec, (list, tuple, Tensor)):
        sections = operator.index(spec)
        size = input.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{fname} attempted to split along dimension {dim}, but "
                               f"the size of the dimension {size} is not divisible by the "
                               f"split_size {sections}!")
    return tensor_split(input, spec, dim)


def hsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """Split column-wise: :func:`tensor_split` along dim 1 (dim 0 for 1-d inputs); an int
    must divide the dimension.  ``sections=`` (an int) or ``indices=`` (a sequence) may
    stand for ``indices_or_sections``, as PyTorch's overloads name it.

    Examples
    --------
    >>> import ember
    >>> [t.shape for t in ember.hsplit(ember.zeros(2, 4), 2)]
    [ember.Size([2, 2]), ember.Size([2, 2])]
    """
    _check_tensor(input, "hsplit")
    spec = _split_spec("hsplit", indices_or_sections, {"sections": sections, "indices": indices})
    return _split_along(input, spec, 1 if input.dim() > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """Split row-wise: :func:`tensor_split` along dim 0 of an at least 2-d tensor
    (``sections=`` or ``indices=`` as in :func:`hsplit`)."""
    spec = _split_spec("vsplit", indices_or_sections, {"sections": sections, "indices": indices})
    return _split_along(input, spec, 0, "vsplit", 2)


def dsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """Split depth-wise: :func:`tensor_split` along dim 2 of an at least 3-d tensor
    (``sections=`` or ``indices=`` as in :func:`hsplit`)."""
    spec = _split_spec("dsplit", indices_or_sections, {"sections": sections, "indices": indices})
    return _split_along(input, spec, 2, "dsplit", 3)


# ---------------------------------------------------------------- rotation, repetition

def rot90(input, k=1, dims=(0, 1)):
    """Rotate ``input`` by 90 degrees ``k`` times in the plane of ``dims`` (from the first
    towards the second); a copy.

    Examples
    --------
    >>> import ember
    >>> ember.rot90(ember.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]])
    """
    _check_tensor(input, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = _wrap_dim(dims[0], input.dim()), _wrap_dim(dims[1], input.dim())
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k = operator.index(k) % 4
    if k == 1:
        return input.flip([d1]).transpose(d0, d1)
    if k == 2:
        return input.flip([d0, d1])
    if k == 3:
        return input.flip([d0]).transpose(d0, d1)
    return input.clone()


def _repeat(self, *sizes, repeats=None):
    """``self`` repeated ``sizes[i]`` times along each dimension (a copy); extra leading
    sizes add dimensions.  The counts come as ints, one sequence or ``repeats=``.

    Examples
    --------
    >>> import ember
    >>> ember.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    sizes = _int_list(sizes, repeats, "repeat", "repeats")
    if len(sizes) < self.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(sizes)}")
    shape = (1,) * (len(sizes) - self.dim()) + tuple(self.shape)
    # (1, s0, 1, s1, ...) expanded to (r0, s0, r1, s1, ...), then merged pairwise
    paired = tuple(x for s in shape for x in (1, s))
    grown = tuple(x for r, s in zip(sizes, shape) for x in (r, s))
    return self.reshape(paired).expand(grown).reshape(tuple(r * s for r, s in zip(sizes, shape)))


def tile(input, dims):
    """``input`` repeated along each dimension, as NumPy's ``tile``: fewer ``dims`` than
    dimensions are padded with leading ones.

    Examples
    --------
    >>> import ember
    >>> ember.tile(ember.tensor([1, 2]), (2,))
    tensor([1, 2, 1, 2])
    """
    _check_tensor(input, "tile")
    dims = tuple(dims)
    return _repeat(input, (1,) * (input.dim() - len(dims)) + dims)


def _tile_method(self, *args, dims=None):
    """``self`` tiled (see :func:`ember.tile`); the counts as ints, one sequence or
    ``dims=``.

    Examples
    --------
    >>> import ember
    >>> ember.tensor([1, 2]).tile(2, 1)
    tensor([[1, 2],
            [1, 2]])
    """
    return tile(self, _int_list(args, dims, "tile", "dims"))


def _positions_of_repeats(repeats, total):
    """``[0]*repeats[0] + [1]*repeats[1] + ...`` of length ``total``, without a Python loop:
    a 1 lands at each run's end, and the running count is the run number."""
    ends = repeats.cumsum(0)
    marks = _core.zeros(total + 1, dtype=int64)
    marks.index_put_((ends,), _core.ones(repeats.shape[0], dtype=int64), True)
    return marks.cumsum(0)[:total]


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element of ``input`` ``repeats`` times (an int or a tensor of one count
    per element along ``dim``); without ``dim`` the input is flattened first.
    ``repeat_interleave(repeats)`` alone gives ``arange(len(repeats))`` repeated.

    Parameters
    ----------
    input : Tensor
    repeats : int or Tensor
    dim : int, optional
    output_size : int, optional
        The total length along ``dim`` (saves a sum of ``repeats``).

    Examples
    --------
    >>> import ember
    >>> ember.repeat_interleave(ember.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    >>> ember.repeat_interleave(ember.tensor([[1, 2], [3, 4]]), ember.tensor([1, 2]), dim=0)
    tensor([[1, 2],
            [3, 4],
            [3, 4]])
    """
    _check_tensor(input, "repeat_interleave")
    if repeats is None:              # repeat_interleave(repeats)
        counts = input
        if counts.dim() != 1 or counts.is_floating_point() or counts.is_complex():
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return _repeat_counts(counts, output_size)
    if dim is None:
        input, d = input.reshape(-1), 0
    else:
        d = _wrap_dim(dim, input.dim())
        if input.dim() == 0:
            input = input.reshape(1)
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.dim() <= 1:
        repeats = repeats.item()
    if not isinstance(repeats, Tensor):
        r = operator.index(repeats)
        if r < 0:
            raise RuntimeError("repeats can not be negative")
        shape = tuple(input.shape)
        grown = shape[:d + 1] + (r,) + shape[d + 1:]
        out = input.unsqueeze(d + 1).expand(grown)
        return out.reshape(shape[:d] + (shape[d] * r,) + shape[d + 1:])
    if repeats.dim() != 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.shape[0] != input.shape[d]:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {repeats.shape[0]} and input.size({d}) = "
                           f"{input.shape[d]}")
    return index_select(input, d, _repeat_counts(repeats, output_size))


def _repeat_counts(repeats, output_size):
    if repeats.is_floating_point() or repeats.is_complex() or repeats.dtype.name == "bool":
        raise RuntimeError("repeat_interleave: repeats has to be Long or Int tensor")
    repeats = repeats.to(int64)
    if repeats.numel() and bool((repeats < 0).any()):
        raise RuntimeError("repeats can not be negative")
    total = int(repeats.sum()) if output_size is None else operator.index(output_size)
    if output_size is not None and repeats.numel() and total != int(repeats.sum()):
        raise RuntimeError(f"repeat_interleave: output_size {total} does not match the sum of "
                           f"repeats {int(repeats.sum())}")
    return _positions_of_repeats(repeats, total)


def unflatten(input, dim, sizes):
    """Expand dimension ``dim`` of ``input`` into ``sizes`` (one entry may be -1); a view
    when the strides allow.

    Examples
    --------
    >>> import ember
    >>> ember.unflatten(ember.zeros(2, 6), 1, (2, -1)).shape
    ember.Size([2, 2, 3])
    """
    _check_tensor(input, "unflatten")
    d = _wrap_dim(dim, input.dim())
    sizes = [operator.index(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[d] if input.dim() else 1
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if -1 in sizes:
        if known == 0 or size % known:
            raise RuntimeError(f"shape '{sizes}' is invalid for input of size {size}")
        sizes[sizes.index(-1)] = size // known
    elif known != size:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size "
                           f"of dim {dim} ({size}) in the input tensor")
    shape = tuple(input.shape)
    return input.reshape(shape[:d] + tuple(sizes) + shape[d + 1:])


# ---------------------------------------------------------------- products, diagonals

def kron(input, other, *, out=None):
    """The Kronecker product of two tensors (the fewer dims padded with leading ones).
    ``out`` receives it in any dtype it casts to, resized to its shape.

    Examples
    --------
    >>> import ember
    >>> ember.kron(ember.eye(2), ember.tensor([[1., 2.]]))
    tensor([[1., 2., 0., 0.],
            [0., 0., 1., 2.]])
    """
    _check_tensor(input, "kron")
    _check_tensor(other, "kron", 2, "other")
    if out is not None:
        return _with_out("kron", out, "cast", kron, (input, other), None, (input, other))
    nd = max(input.dim(), other.dim())
    a_shape = (1,) * (nd - input.dim()) + tuple(input.shape)
    b_shape = (1,) * (nd - other.dim()) + tuple(other.shape)
    a = input.reshape(tuple(x for s in a_shape for x in (s, 1)))
    b = other.reshape(tuple(x for s in b_shape for x in (1, s)))
    return (a * b).reshape(tuple(p * q for p, q in zip(a_shape, b_shape)))


@autocasts("cross")
def cross(input, other, dim=None, *, out=None):
    """The cross product of 3-vectors along ``dim`` (broadcasting); without ``dim``, the
    first dimension of size 3.

    Examples
    --------
    >>> import ember
    >>> ember.cross(ember.tensor([1., 0., 0.]), ember.tensor([0., 1., 0.]))
    tensor([0., 0., 1.])
    """
    _check_tensor(input, "cross")
    _check_tensor(other, "cross", 2, "other")
    shape = _core.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if dim is None:
        sized3 = [k for k, n in enumerate(shape) if n == 3]
        if not sized3:
            raise RuntimeError("no dimension of size 3 in input")
        d = sized3[0]
    else:
        d = _wrap_dim(dim, len(shape))
        if input.dim() != other.dim():
            raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
        if (shape[d] if shape else 1) != 3 or input.shape[d] != 3 or other.shape[d] != 3:
            raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                               f"{input.shape[d]} and {other.shape[d]}")
    a, b = input.expand(shape), other.expand(shape)
    nxt = _core.tensor([1, 2, 0])
    nxt2 = _core.tensor([2, 0, 1])
    result = (index_select(a, d, nxt) * index_select(b, d, nxt2)
              - index_select(a, d, nxt2) * index_select(b, d, nxt))
    if out is not None:
        _core._resize_output(out, result.shape)
        out.copy_(result)
        return out
    return result


@autocasts("trace")
def trace(input):
    """The sum of the main diagonal of a matrix (integers sum in int64).

    Examples
    --------
    >>> import ember
    >>> ember.trace(ember.arange(9.).reshape(3, 3))
    tensor(12.)
    """
    _check_tensor(input, "trace")
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return input.diagonal().sum()


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose diagonals (in the plane ``dim1``, ``dim2`` of the result, shifted by
    ``offset``) are the last dimension of ``input``; zeros elsewhere.

    Examples
    --------
    >>> import ember
    >>> ember.diag_embed(ember.tensor([1., 2.]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    _check_tensor(input, "diag_embed")
    nd = input.dim() + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = operator.index(offset)
    n = (input.shape[-1] if input.dim() else 1) + abs(offset)
    rest = iter(tuple(input.shape)[:-1])
    shape = tuple(n if k in (d1, d2) else next(rest) for k in range(nd))
    base = _core.zeros(shape, dtype=input.dtype, device=input.device)
    return diagonal_scatter(base, input.reshape(tuple(input.shape) or (1,)), offset, d1, d2)


def diagflat(input, offset=0):
    """A matrix with the flattened ``input`` on diagonal ``offset``.

    Examples
    --------
    >>> import ember
    >>> ember.diagflat(ember.tensor([[1, 2]]))
    tensor([[1, 0],
            [0, 2]])
    """
    _check_tensor(input, "diagflat")
    return diag(input.reshape(-1), offset)


def block_diag(*tensors):
    """A block-diagonal matrix of the inputs (0-d, 1-d or 2-d; a 1-d input is one row),
    in their promoted dtype.

    Examples
    --------
    >>> import ember
    >>> ember.block_diag(ember.tensor([[1, 2]]), ember.tensor(3))
    tensor([[1, 2, 0],
            [0, 0, 3]])
    """
    blocks = []
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag(): argument 'tensors' must be tuple of Tensors, but "
                            f"found element of type {type(t).__name__} at pos {k}")
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {k} has {t.dim()} dimensions")
        blocks.append(t.reshape(1, -1) if t.dim() == 1 else t.reshape(1, 1) if t.dim() == 0
                      else t)
    if not blocks:
        return _core.empty(1, 0)
    dt = blocks[0].dtype
    for t in blocks[1:]:
        dt = promote_types(dt, t.dtype)
    width = sum(t.shape[1] for t in blocks)
    rows, before = [], 0
    for t in blocks:
        r, c = t.shape
        pieces = [_core.zeros(r, before, dtype=dt), t.to(dt),
                  _core.zeros(r, width - before - c, dtype=dt)]
        rows.append(cat(pieces, 1))
        before += c
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-d tensors, one combination per row (a single tensor is
    returned as it is).

    Examples
    --------
    >>> import ember
    >>> ember.cartesian_prod(ember.tensor([1, 2]), ember.tensor([3, 4]))
    tensor([[1, 3],
            [1, 4],
            [2, 3],
            [2, 4]])
    """
    tensors = _tensors_arg(tensors, "cartesian_prod")
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-d tensor, one per row, in
    lexicographic order of positions (as :func:`itertools.combinations`).

    Examples
    --------
    >>> import ember
    >>> ember.combinations(ember.tensor([1, 2, 3]))
    tensor([[1, 2],
            [1, 3],
            [2, 3]])
    """
    _check_tensor(input, "combinations")
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    r = operator.index(r)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _core.empty(0, dtype=input.dtype, device=input.device)
    n = input.shape[0]
    grids = meshgrid(*([_core.arange(n, device=input.device)] * r), indexing="ij")
    keep = _core.ones(grids[0].shape, dtype=bool_, device=input.device)
    for lo, hi in zip(grids, grids[1:]):
        keep = keep & ((lo <= hi) if with_replacement else (lo < hi))
    return stack([input[g[keep]] for g in grids], 1)


for _name, _fn in {
    "repeat": _repeat,
    "tile": _tile_method,
    "repeat_interleave": repeat_interleave,
    "unflatten": unflatten,
    "tensor_split": tensor_split,
    "hsplit": hsplit,
    "vsplit": vsplit,
    "dsplit": dsplit,
    "rot90": rot90,
    "kron": kron,
    "cross": cross,
    "trace": trace,
    "diag_embed": diag_embed,
    "diagflat": diagflat,
}.items():
    _add_method(_name, _fn)
del _name, _fn
