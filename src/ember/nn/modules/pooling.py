"""Pooling layers: max, average, adaptive, power-average and fractional max pooling, and max
unpooling."""
from ember.nn import functional as F
from ember.nn.modules.module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d",
           "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d",
           "LPPool2d", "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def _pool(self, input, pool):
        return pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                    ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Maximum over sliding windows of ``(N, C, L)`` or ``(C, L)`` inputs.

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    stride : int or tuple, optional
        Window step; default ``kernel_size``.
    padding : int or tuple, default 0
        Implicit negative-infinity padding on both sides.
    dilation : int or tuple, default 1
        Spacing of the window elements.
    return_indices : bool, default False
        Also return the flat indices of the maxima.
    ceil_mode : bool, default False
        Round the output size up.
    """

    def forward(self, input):
        """Pool ``input``."""
        return self._pool(input, F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Maximum over sliding windows of ``(N, C, H, W)`` or ``(C, H, W)`` inputs.

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    stride : int or tuple, optional
        Window step; default ``kernel_size``.
    padding : int or tuple, default 0
        Implicit negative-infinity padding on both sides.
    dilation : int or tuple, default 1
        Spacing of the window elements.
    return_indices : bool, default False
        Also return the flat indices of the maxima.
    ceil_mode : bool, default False
        Round the output size up.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.MaxPool2d(2)(ember.randn(1, 3, 8, 8)).shape
    ember.Size([1, 3, 4, 4])
    """

    def forward(self, input):
        """Pool ``input``."""
        return self._pool(input, F.max_pool2d)


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class AvgPool1d(Module):
    """Mean over sliding windows of ``(N, C, L)`` or ``(C, L)`` inputs.

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    stride : int or tuple, optional
        Window step; default ``kernel_size``.
    padding : int or tuple, default 0
        Implicit zero padding on both sides.
    ceil_mode : bool, default False
        Round the output size up.
    count_include_pad : bool, default True
        Count the padding in the divisor.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        """Pool ``input``."""
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    """AvgPool2d and AvgPool3d's options (siblings, as in PyTorch)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, H, W)`` or ``(C, H, W)`` inputs.

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    stride : int or tuple, optional
        Window step; default ``kernel_size``.
    padding : int or tuple, default 0
        Implicit zero padding on both sides.
    ceil_mode : bool, default False
        Round the output size up.
    count_include_pad : bool, default True
        Count the padding in the divisor.
    divisor_override : int, optional
        Divide by this instead of the window size.
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Mean over ``output_size`` adaptive windows of ``(N, C, L)`` or ``(C, L)`` inputs.

    Parameters
    ----------
    output_size : int
        Output length.
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Mean over adaptive windows of ``(N, C, H, W)`` or ``(C, H, W)`` inputs.

    Parameters
    ----------
    output_size : int or tuple
        Output size ``(H_out, W_out)``; None in a place keeps that input size.
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.adaptive_avg_pool2d(input, self.output_size)


class MaxPool3d(_MaxPoolNd):
    """Maximum over sliding windows of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs.

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    stride : int or tuple, optional
        Window step; default ``kernel_size``.
    padding : int or tuple, default 0
        Implicit negative-infinity padding on both sides.
    dilation : int or tuple, default 1
        Spacing of the window elements.
    return_indices : bool, default False
        Also return the flat indices of the maxima.
    ceil_mode : bool, default False
        Round the output size up.
    """

    def forward(self, input):
        """Pool ``input``."""
        return self._pool(input, F.max_pool3d)


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs.

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    stride : int or tuple, optional
        Window step; default ``kernel_size``.
    padding : int or tuple, default 0
        Implicit zero padding on both sides.
    ceil_mode : bool, default False
        Round the output size up.
    count_include_pad : bool, default True
        Count the padding in the divisor.
    divisor_override : int, optional
        Divide by this instead of the window size.
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Mean over adaptive windows of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs.

    Parameters
    ----------
    output_size : int or tuple
        Output size ``(D_out, H_out, W_out)``; None in a place keeps that input size.
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.adaptive_avg_pool3d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Maximum over ``output_size`` adaptive windows of ``(N, C, L)`` or ``(C, L)`` inputs.

    Parameters
    ----------
    output_size : int
        Output length.
    return_indices : bool, default False
        Also return the flat indices of the maxima.
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Maximum over adaptive windows of ``(N, C, H, W)`` or ``(C, H, W)`` inputs.

    Parameters
    ----------
    output_size : int or tuple
        Output size; None in a place keeps that input size.
    return_indices : bool, default False
        Also return the flat indices of the maxima.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.AdaptiveMaxPool2d((2, 1))(ember.randn(1, 3, 5, 4)).shape
    ember.Size([1, 3, 2, 1])
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Maximum over adaptive windows of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs.

    Parameters
    ----------
    output_size : int or tuple
        Output size; None in a place keeps that input size.
    return_indices : bool, default False
        Also return the flat indices of the maxima.
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = self._expand(kernel_size)
        self.stride = self._expand(stride if stride is not None else kernel_size)
        self.padding = self._expand(padding)

    def _expand(self, value):
        if isinstance(value, (tuple, list)):
            return tuple(value)
        return (value,) * self._spatial

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool1d`: maxima put back at their indices, zeros
    elsewhere.

    Parameters
    ----------
    kernel_size : int or tuple
    stride : int or tuple, optional
        Default ``kernel_size``.
    padding : int or tuple, default 0
    """

    _spatial = 1

    def forward(self, input, indices, output_size=None):
        """Unpool ``input`` with the ``indices`` of the pooling."""
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool2d`: maxima put back at their indices, zeros
    elsewhere.

    Parameters
    ----------
    kernel_size : int or tuple
    stride : int or tuple, optional
        Default ``kernel_size``.
    padding : int or tuple, default 0
    """

    _spatial = 2

    def forward(self, input, indices, output_size=None):
        """Unpool ``input`` with the ``indices`` of the pooling."""
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool3d`: maxima put back at their indices, zeros
    elsewhere.

    Parameters
    ----------
    kernel_size : int or tuple
    stride : int or tuple, optional
        Default ``kernel_size``.
    padding : int or tuple, default 0
    """

    _spatial = 3

    def forward(self, input, indices, output_size=None):
        """Unpool ``input`` with the ``indices`` of the pooling."""
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling ``(sum x ** p) ** (1 / p)`` over windows of ``(N, C, L)``.

    Parameters
    ----------
    norm_type : float
        The power ``p``.
    kernel_size : int
    stride : int, optional
        Default ``kernel_size``.
    ceil_mode : bool, default False
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over windows of ``(N, C, H, W)``.

    Parameters
    ----------
    norm_type : float
        The power ``p``.
    kernel_size : int or tuple
    stride : int or tuple, optional
        Default ``kernel_size``.
    ceil_mode : bool, default False
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """Power-average pooling over windows of ``(N, C, D, H, W)``.

    Parameters
    ----------
    norm_type : float
        The power ``p``.
    kernel_size : int or tuple
    stride : int or tuple, optional
        Default ``kernel_size``.
    ceil_mode : bool, default False
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class _FractionalMaxPoolNd(Module):
    _spatial = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        name, n = type(self).__name__, self._spatial
        if (isinstance(kernel_size, int) and kernel_size <= 0) or (
                isinstance(kernel_size, (tuple, list)) and not all(k > 0 for k in kernel_size)):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = _expand(kernel_size, n)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else _expand(output_size, n)
        self.output_ratio = None if output_ratio is None else _expand(output_ratio, n)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")


def _expand(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling of ``(N, C, H, W)`` or ``(C, H, W)`` inputs (see
    :func:`ember.nn.functional.fractional_max_pool2d`).

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    output_size : int or tuple, optional
        Output ``(oH, oW)``.
    output_ratio : float or tuple, optional
        Output size as a fraction in ``(0, 1)`` of the input size; exactly one of
        ``output_size`` and ``output_ratio`` is given.
    return_indices : bool, default False
        Also return the flat indices of the maxima.
    _random_samples : Tensor, optional
        Fixed ``(N, C, 2)`` window samples (a buffer); fresh ones each call when None.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.FractionalMaxPool2d(3, output_ratio=0.5)(ember.randn(1, 3, 10, 12)).shape
    ember.Size([1, 3, 5, 6])
    """

    def forward(self, input):
        """Pool ``input``."""
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       _random_samples=self._random_samples)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling of ``(N, C, T, H, W)`` or ``(C, T, H, W)`` inputs (see
    :func:`ember.nn.functional.fractional_max_pool3d`).

    Parameters
    ----------
    kernel_size : int or tuple
        Window size.
    output_size : int or tuple, optional
        Output ``(oT, oH, oW)``.
    output_ratio : float or tuple, optional
        Output size as a fraction in ``(0, 1)`` of the input size; exactly one of
        ``output_size`` and ``output_ratio`` is given.
    return_indices : bool, default False
        Also return the flat indices of the maxima.
    _random_samples : Tensor, optional
        Fixed ``(N, C, 3)`` window samples (a buffer); fresh ones each call when None.
    """

    _spatial = 3

    def forward(self, input):
        """Pool ``input``."""
        return F.fractional_max_pool3d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       _random_samples=self._random_samples)
