"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``."""
import math

import ember
from ember.nn import functional as F
from ember.nn import init
from ember.nn.parameter import Parameter, UninitializedParameter
from ember.nn.modules.lazy import LazyModuleMixin
from ember.nn.modules.module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, count):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,) * count


class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, spatial, device, dtype, transposed=False,
                 output_padding=0):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in _ntuple(stride, spatial)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, spatial)
        self.stride = _ntuple(stride, spatial)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, spatial)
        self.dilation = _ntuple(dilation, spatial)
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, spatial)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad order: last dimension first, (before, after) per dimension
        if isinstance(self.padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * spatial
            if padding == "same":
                for d, k, i in zip(self.dilation, self.kernel_size,
                                   range(spatial - 1, -1, -1)):
                    total = d * (k - 1)
                    left = total // 2
                    self._reversed_padding_repeated_twice[2 * i] = left
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding)
                                                     for _ in range(2)]
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups))
        self.weight = Parameter(ember.empty(shape + self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the weight and bias from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` as PyTorch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input, weight, bias):
        # PyTorch's signature: layers written for it subclass Conv2d and call
        # self._conv_forward(x, self.weight * self.mask, self.bias)
        conv = (F.conv1d, F.conv2d, F.conv3d)[len(self.kernel_size) - 1]
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) of ``(N, C_in, L)`` or ``(C_in, L)`` inputs.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and the output.
    kernel_size : int or tuple
        Size of the kernel.
    stride : int or tuple, default 1
        Step of the kernel.
    padding : int, tuple or {'valid', 'same'}, default 0
        Padding added to both sides.
    dilation : int or tuple, default 1
        Spacing of the kernel elements.
    groups : int, default 1
        Number of blocked connections from input to output channels.
    bias : bool, default True
        Learn a per-output-channel bias.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, default 'zeros'
        How the padding is filled.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    weight : Parameter
        ``(out_channels, in_channels // groups, kernel_size)``, kaiming uniform (``a=sqrt(5)``).
    bias : Parameter or None
        ``(out_channels,)``, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.Conv1d(4, 6, 3, padding="same")(ember.randn(2, 4, 10)).shape
    ember.Size([2, 6, 10])
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 1, device, dtype)

    def forward(self, input):
        """Convolve ``input`` with the weight."""
        return self._conv_forward(input, self.weight, self.bias)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of ``(N, C_in, H, W)`` or ``(C_in, H, W)`` inputs.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and the output.
    kernel_size : int or tuple
        Size of the kernel.
    stride : int or tuple, default 1
        Step of the kernel.
    padding : int, tuple or {'valid', 'same'}, default 0
        Padding added to both sides.
    dilation : int or tuple, default 1
        Spacing of the kernel elements.
    groups : int, default 1
        Number of blocked connections from input to output channels.
    bias : bool, default True
        Learn a per-output-channel bias.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, default 'zeros'
        How the padding is filled.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    weight : Parameter
        ``(out_channels, in_channels // groups, kH, kW)``, kaiming uniform (``a=sqrt(5)``).
    bias : Parameter or None
        ``(out_channels,)``, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 2, device, dtype)

    def forward(self, input):
        """Convolve ``input`` with the weight."""
        return self._conv_forward(input, self.weight, self.bias)


class Conv3d(_ConvNd):
    """3-D convolution (cross-correlation) of ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``
    inputs.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and the output.
    kernel_size : int or tuple
        Size of the kernel.
    stride : int or tuple, default 1
        Step of the kernel.
    padding : int, tuple or {'valid', 'same'}, default 0
        Padding added to both sides.
    dilation : int or tuple, default 1
        Spacing of the kernel elements.
    groups : int, default 1
        Number of blocked connections from input to output channels.
    bias : bool, default True
        Learn a per-output-channel bias.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, default 'zeros'
        How the padding is filled.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    weight : Parameter
        ``(out_channels, in_channels // groups, kD, kH, kW)``, kaiming uniform (``a=sqrt(5)``).
    bias : Parameter or None
        ``(out_channels,)``, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.Conv3d(2, 4, 3, padding=1)(ember.randn(1, 2, 5, 5, 5)).shape
    ember.Size([1, 4, 5, 5, 5])
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 3, device, dtype)

    def forward(self, input):
        """Convolve ``input`` with the weight."""
        return self._conv_forward(input, self.weight, self.bias)


class _ConvTransposeNd(_ConvNd):
    _spatial = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__} does not support string padding")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, self._spatial, device, dtype,
                         transposed=True, output_padding=output_padding)

    def _output_padding(self, input, output_size):
        """The output padding that gives ``output_size`` (PyTorch's rule), or the module's."""
        if output_size is None:
            return self.output_padding
        spatial = self._spatial
        batched = input.dim() == spatial + 2
        leading = 2 if batched else 1
        output_size = list(output_size)
        if len(output_size) == leading + spatial:
            output_size = output_size[leading:]
        if len(output_size) != spatial:
            raise ValueError(f"ConvTranspose{spatial}D: for {input.dim()}D input, output_size "
                             f"must have {spatial} or {leading + spatial} elements (got "
                             f"{len(output_size)})")
        min_sizes = [(input.shape[leading + d] - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(spatial)]
        max_sizes = [low + self.stride[d] - 1 for d, low in enumerate(min_sizes)]
        for size, low, high in zip(output_size, min_sizes, max_sizes):
            if size < low or size > high:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {min_sizes} to {max_sizes} (for an input of "
                                 f"{list(input.shape[leading:])})")
        return tuple(size - low for size, low in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        """Transposed convolution of ``input``; ``output_size`` picks among the output
        sizes a strided convolution maps alike (it sets the output padding)."""
        output_padding = self._output_padding(input, output_size)
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._spatial - 1]
        return conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                    self.groups, self.dilation)


_TRANSPOSED_DOC = """Transposed {n}-D convolution (the gradient of ``Conv{n}d`` to its input)
    of ``(N, C_in, {dims})`` or ``(C_in, {dims})`` inputs.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and the output.
    kernel_size : int or tuple
        Size of the kernel.
    stride : int or tuple, default 1
        Step of the kernel over the output.
    padding : int or tuple, default 0
        ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides of the input.
    output_padding : int or tuple, default 0
        Extra size added to one side of the output (smaller than the stride or the dilation).
    groups : int, default 1
        Number of blocked connections from input to output channels.
    bias : bool, default True
        Learn a per-output-channel bias.
    dilation : int or tuple, default 1
        Spacing of the kernel elements.
    padding_mode : {{'zeros'}}, default 'zeros'
        Only zero padding is supported, as in PyTorch.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    weight : Parameter
        ``(in_channels, out_channels // groups, *kernel_size)``, kaiming uniform
        (``a=sqrt(5)``).
    bias : Parameter or None
        ``(out_channels,)``, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.ConvTranspose{n}d(2, 3, 3, stride=2)(ember.randn(1, 2, {example})).shape
    ember.Size([1, 3, {result}])
    """


class ConvTranspose1d(_ConvTransposeNd):
    __doc__ = _TRANSPOSED_DOC.format(n=1, dims="L", example="4", result="9")
    _spatial = 1


class ConvTranspose2d(_ConvTransposeNd):
    __doc__ = _TRANSPOSED_DOC.format(n=2, dims="H, W", example="4, 4", result="9, 9")
    _spatial = 2


class ConvTranspose3d(_ConvTransposeNd):
    __doc__ = _TRANSPOSED_DOC.format(n=3, dims="D, H, W", example="2, 4, 4",
                                     result="5, 9, 9")
    _spatial = 3


class _LazyConvXdMixin(LazyModuleMixin):
    """``in_channels`` inferred from the first input (``input.shape[1]``, or
    ``input.shape[0]`` unbatched)."""

    def _make_lazy(self, out_channels, bias, device, dtype):
        # the base was built with no channels and no bias, so it allocated nothing
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        """Initialise as the ordinary convolution does, once the parameters are
        materialised."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """Infer ``in_channels`` from ``input`` and materialise and initialise the
        parameters."""
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            channels = ((self.in_channels, self.out_channels // self.groups) if self.transposed
                        else (self.out_channels, self.in_channels // self.groups))
            self.weight.materialize(channels + self.kernel_size)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _get_in_channels(self, input):
        no_batch = len(self.kernel_size) + 1
        if input.dim() not in (no_batch, no_batch + 1):
            raise RuntimeError(f"Expected {no_batch}D (unbatched) or {no_batch + 1}D (batched) "
                               f"input to {self.__class__.__name__}, but got input of size: "
                               f"{input.shape}")
        return input.shape[1] if input.dim() == no_batch + 1 else input.shape[0]


class _LazyConvNd(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class _LazyConvTransposeNd(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


_LAZY_DOC = """:class:`{base}` with ``in_channels`` inferred from the first input's ``shape[1]``
    (``shape[0]`` unbatched); the module then becomes a ``{base}`` (see
    :class:`~ember.nn.modules.lazy.LazyModuleMixin`).

    Takes ``{base}``'s arguments without ``in_channels``; ``weight`` and ``bias`` are
    :class:`~ember.nn.UninitializedParameter` until the first forward, then initialised as
    ``{base}``'s.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Lazy{base}(6, 3)
    >>> m(ember.randn({example})).shape, type(m).__name__, m.in_channels
    (ember.Size([{result}]), '{base}', 2)
    """


class LazyConv1d(_LazyConvNd, Conv1d):
    __doc__ = _LAZY_DOC.format(base="Conv1d", example="1, 2, 5", result="1, 6, 3")
    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    __doc__ = _LAZY_DOC.format(base="Conv2d", example="1, 2, 5, 5", result="1, 6, 3, 3")
    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    __doc__ = _LAZY_DOC.format(base="Conv3d", example="1, 2, 5, 5, 5", result="1, 6, 3, 3, 3")
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    __doc__ = _LAZY_DOC.format(base="ConvTranspose1d", example="1, 2, 5", result="1, 6, 7")
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    __doc__ = _LAZY_DOC.format(base="ConvTranspose2d", example="1, 2, 5, 5",
                               result="1, 6, 7, 7")
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    __doc__ = _LAZY_DOC.format(base="ConvTranspose3d", example="1, 2, 5, 5, 5",
                               result="1, 6, 7, 7, 7")
    cls_to_become = ConvTranspose3d
