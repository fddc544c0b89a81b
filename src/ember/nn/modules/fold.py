"""``Fold`` and ``Unfold``: sliding blocks of an image to columns and back."""
from ember.nn import functional as F
from ember.nn.modules.module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Sum sliding local blocks (columns) into an image: :func:`ember.nn.functional.fold`.

    Parameters
    ----------
    output_size : int or tuple of 2 ints
        Spatial size of the image.
    kernel_size : int or tuple of 2 ints
        Size of the blocks.
    dilation, padding, stride : int or tuple, optional
        As in :class:`Unfold`.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.Fold((4, 5), 2)(ember.ones(2, 3 * 4, 12)).shape
    ember.Size([2, 3, 4, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        """Fold ``(N, C * kH * kW, L)`` columns into ``(N, C, *output_size)``."""
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Extract sliding local blocks of an image as columns: :func:`ember.nn.functional.unfold`.

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
        Size of the blocks.
    dilation : int or tuple, default 1
        Spacing of the elements of a block.
    padding : int or tuple, default 0
        Zero padding on both sides of each spatial dim.
    stride : int or tuple, default 1
        Step between blocks.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.Unfold(2, padding=1)(ember.ones(2, 3, 4, 5)).shape
    ember.Size([2, 12, 30])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        """Unfold ``(N, C, H, W)`` into ``(N, C * kH * kW, L)`` columns."""
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
