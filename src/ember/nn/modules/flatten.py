"""``Flatten`` and ``Unflatten``: reshape a range of dimensions."""
import math

from ember.nn.modules.module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Flatten the dimensions ``start_dim`` to ``end_dim`` into one.

    Parameters
    ----------
    start_dim : int, default 1
        First dimension to flatten (the batch dimension 0 is kept by default).
    end_dim : int, default -1
        Last dimension to flatten.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.Flatten()(ember.zeros(32, 1, 5, 5)).shape
    ember.Size([32, 25])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        """Flatten ``input``'s dimensions ``start_dim`` to ``end_dim``."""
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def unflatten(input, dim, sizes):
    """Expand dimension ``dim`` of ``input`` into the shape ``sizes`` (one may be -1)."""
    ndim = input.dim()
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {dim})")
    dim %= ndim
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[dim]
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or size % known:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                               f"the size of dim {dim} ({size}) in the input tensor")
        sizes = tuple(size // known if s == -1 else s for s in sizes)
    elif known != size:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({size}) in the input tensor")
    shape = tuple(input.shape)
    return input.reshape(shape[:dim] + sizes + shape[dim + 1:])


class Unflatten(Module):
    """Expand dimension ``dim`` into the shape ``unflattened_size``.

    Parameters
    ----------
    dim : int
        The dimension to expand.
    unflattened_size : tuple of int
        Its new shape (product equal to the dimension's size; one entry may be -1).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.Unflatten(1, (2, 5, 5))(ember.zeros(2, 50)).shape
    ember.Size([2, 2, 5, 5])
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"invalid argument type for dim parameter, got {type(dim)}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, int) for s in unflattened_size):
            raise TypeError("unflattened_size must be tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        """Expand ``input``'s dimension ``dim``."""
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
