"""PyTorch's ``torch.utils.dlpack``: DLPack capsules to and from ember tensors."""
from ember._core._dlpack import from_dlpack

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory (``tensor.__dlpack__()``), for a
    consumer's ``from_dlpack``.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.dlpack import from_dlpack, to_dlpack
    >>> from_dlpack(to_dlpack(ember.arange(3)))
    tensor([0, 1, 2])
    """
    return tensor.__dlpack__()
