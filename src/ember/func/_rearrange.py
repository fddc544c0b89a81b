"""``ember.func.rearrange``: einops-style rearrangement, as ``torch.func.rearrange``.

A pattern such as ``"b (h1 h) w c -> (b h1) h w c"`` names the axes of the input and
of the result; parentheses group several axes into one dimension (or split one), ``...``
stands for the axes the pattern does not name, and ``1`` (or ``()``) is an axis of size
one.  The result is one ``reshape`` that splits the input's groups into single axes, a
``permute``, and one ``reshape`` that merges the output's groups: a view whenever those
are views (as PyTorch's is), with their gradients.
"""
import functools
import keyword
import math
import warnings

from ember._core._tensor import Tensor
from ember.ops.index import stack

__all__ = ["rearrange"]

_ELLIPSIS = "\u2026"      # "..." once parsed: one character, not a name


class _Side:
    """One side of a pattern: ``composition`` lists, per dimension, either the names
    grouped in it (``[]`` for an axis of size one) or ``_ELLIPSIS``."""

    def __init__(self, expression):
        self.identifiers = set()
        self.composition = []
        self.has_ellipsis = False
        self.ellipsis_in_group = False
        self.has_numbers = False       # anonymous axes of a size other than one
        if "." in expression:
            if "..." not in expression:
                raise ValueError("Expression may contain dots only inside ellipsis (...)")
            if expression.count("...") != 1 or expression.count(".") != 3:
                raise ValueError("Expression may contain dots only inside ellipsis (...); "
                                 "only one ellipsis for tensor ")
            expression = expression.replace("...", _ELLIPSIS)
            self.has_ellipsis = True
        group, name = None, ""
        for char in expression + " ":
            if char in "() ":
                if name:
                    self._add(name, group)
                name = ""
                if char == "(":
                    if group is not None:
                        raise ValueError("Axis composition is one-level (brackets inside "
                                         "brackets not allowed)")
                    group = []
                elif char == ")":
                    if group is None:
                        raise ValueError("Brackets are not balanced")
                    self.composition.append(group)
                    group = None
            elif char.isalnum() or char in ("_", _ELLIPSIS):
                name += char
            else:
                raise ValueError(f"Unknown character '{char}'")
        if group is not None:
            raise ValueError(f"Imbalanced parentheses in expression: '{expression}'")

    def _add(self, name, group):
        if name in self.identifiers:
            raise ValueError(f"Indexing expression contains duplicate dimension '{name}'")
        if name == _ELLIPSIS:
            self.identifiers.add(name)
            if group is None:
                self.composition.append(name)
            else:
                group.append(name)
                self.ellipsis_in_group = True
            return
        if name.isdecimal():
            if int(name) == 1:
                if group is None:         # a 1 inside parentheses changes nothing
                    self.composition.append([])
                return
            if int(name) < 1:
                raise ValueError(f"Anonymous axis should have positive length, not {int(name)}")
            # each such axis is distinct; rearrange refuses them once both sides are read
            self.has_numbers = True
            name = object()
        elif not name.isidentifier():
            raise ValueError(f"Invalid axis identifier: {name}\nnot a valid python identifier")
        elif name[0] == "_" or name[-1] == "_":
            raise ValueError(f"Invalid axis identifier: {name}\naxis name should should not "
                             "start or end with underscore")
        elif keyword.iskeyword(name):
            warnings.warn(f"It is discouraged to use axes names that are keywords: {name}",
                          RuntimeWarning, stacklevel=5)
        elif name == "axis":
            warnings.warn("It is discouraged to use 'axis' as an axis name and will raise an "
                          "error in future", FutureWarning, stacklevel=5)
        self.identifiers.add(name)
        if group is None:
            self.composition.append([name])
        else:
            group.append(name)


@functools.lru_cache(256)
def _parse(pattern):
    try:
        left, right = pattern.split("->")
    except ValueError:
        raise ValueError("Pattern must contain a single '->' separator") from None
    left, right = _Side(left), _Side(right)
    if not left.has_ellipsis and right.has_ellipsis:
        raise ValueError(f"Ellipsis found in right side, but not left side of a pattern {pattern}")
    if left.ellipsis_in_group:
        raise ValueError(f"Ellipsis is parenthesis in the left side is not allowed: {pattern}")
    if left.has_numbers or right.has_numbers:
        raise ValueError("rearrange only supports unnamed axes of size 1")
    difference = left.identifiers ^ right.identifiers
    if difference:
        raise ValueError("Identifiers only on one side of rearrange expression (should be on "
                         f"both): {difference}")
    return left, right


def _group_sizes(names, size, lengths):
    """The sizes of the axes ``names`` that one input dimension of ``size`` splits into."""
    unknown = [n for n in names if n not in lengths]
    known = math.prod(lengths[n] for n in names if n in lengths)
    if len(unknown) > 1:
        raise ValueError(f"cannot infer the sizes of two dimensions at once {unknown[0]} and "
                         f"{unknown[1]}")
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"inferred dimension does not evenly fit into larger dimension: "
                             f"{size} vs {tuple(lengths.get(n, '?') for n in names)}")
        return [size // known if n in unknown else lengths[n] for n in names]
    if known != size:
        raise ValueError(f"Dimension sizes to do not match ({size} != {known}) when matching "
                         f"dimension pack {tuple(names)}")
    return [lengths[n] for n in names]


def rearrange(tensor, pattern, **axes_lengths):
    """Reorder, group and split the axes of a tensor by an einops pattern, as
    ``torch.func.rearrange``.

    Parameters
    ----------
    tensor : Tensor or sequence of Tensor
        The input; a list or tuple of tensors is stacked along a new first axis.
    pattern : str
        ``"<input axes> -> <output axes>"``: names separated by spaces, ``(a b)`` for
        axes grouped into one dimension, ``...`` for the axes not named (once per
        side, not in a group on the left), ``1`` or ``()`` for an axis of size one.
        Every name appears on both sides.
    **axes_lengths : int
        Sizes of axes that a group on the left splits into (one size per group may be
        left out and is inferred).

    Returns
    -------
    Tensor
        The rearranged tensor: a view of ``tensor`` when the regrouping allows it (as
        ``reshape``), else a copy.

    Raises
    ------
    ValueError
        For a malformed pattern, a name on one side only, an axis of a size other than
        one without a name, a number of dimensions that does not match the tensor's, or
        sizes that do not divide (PyTorch raises its ``DimensionBindError`` for those).
    TypeError
        For an axis length that is not an int.

    Notes
    -----
    As PyTorch's, an unnamed axis ``1`` on the left is summed over (it is meant for a
    dimension of size one), and a pattern naming no axis returns a zero-dimensional
    ``tensor`` itself.

    Examples
    --------
    >>> import ember
    >>> from ember.func import rearrange
    >>> images = ember.zeros(32, 30, 40, 3)
    >>> rearrange(images, "b h w c -> b c h w").shape
    ember.Size([32, 3, 30, 40])
    >>> rearrange(images, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2).shape
    ember.Size([32, 15, 20, 12])
    """
    if not isinstance(tensor, Tensor):
        tensor = stack(tensor)
    if _ELLIPSIS in axes_lengths:
        raise ValueError(f"'{_ELLIPSIS}' is not an allowed axis identifier")
    left, right = _parse(pattern)
    for length in axes_lengths.values():
        if type(length) is not int:
            raise TypeError(f"rearrange axis lengths must be integers, got: {type(length)}")
    unmatched = axes_lengths.keys() - left.identifiers
    if unmatched:
        raise ValueError(f"Identifiers not found in rearrange expression: {unmatched}")
    anonymous = sum(not dim for dim in left.composition)
    if left.has_ellipsis:
        named = len(left.identifiers) - 1
        n_ellipsis = tensor.dim() - (len(left.composition) - 1)
        if anonymous + named > tensor.dim():
            raise ValueError(f"Number of dimensions in pattern ({anonymous + named}) must be less "
                             "than or equal to the number of dimensions in the tensor "
                             f"({tensor.dim()})")
    else:
        named, n_ellipsis = len(left.identifiers), 0
        if len(left.composition) != tensor.dim():
            raise ValueError(f"Number of dimensions in pattern ({len(left.composition)}) must be "
                             f"equal to the number of dimensions in the tensor ({tensor.dim()})")
    if named + n_ellipsis + anonymous == 0:
        return tensor

    # split the input into single axes: the sizes and positions of the names, the
    # ellipsis and the anonymous axes (numbered, as they have no name)
    sizes, position, summed = [], {}, []
    dims = iter(tensor.shape)
    for dim in left.composition:
        if dim == _ELLIPSIS:
            position[_ELLIPSIS] = range(len(sizes), len(sizes) + n_ellipsis)
            sizes.extend(next(dims) for _ in range(n_ellipsis))
        elif not dim:
            summed.append(len(sizes))
            sizes.append(next(dims))
        else:
            for name, size in zip(dim, _group_sizes(dim, next(dims), axes_lengths)):
                position[name] = len(sizes)
                sizes.append(size)

    def axes(dim):
        return list(position[_ELLIPSIS]) if dim == _ELLIPSIS else [position[dim]]

    out_shape, order = [], []
    for dim in right.composition:
        if dim == _ELLIPSIS:
            order.extend(position[_ELLIPSIS])
            out_shape.extend(sizes[a] for a in position[_ELLIPSIS])
        else:
            group = [a for name in dim for a in axes(name)]
            order.extend(group)
            out_shape.append(math.prod(sizes[a] for a in group))
    result = tensor.reshape(sizes)
    if summed:
        result = result.sum(summed)
        kept = [a for a in range(len(sizes)) if a not in summed]
        order = [kept.index(a) for a in order]
    if order != sorted(order):
        result = result.permute(order)
    return result.reshape(out_shape)
