"""Convolutions, transposed convolutions and ``fold`` / ``unfold`` of
:mod:`ember.nn.functional`, on the fused kernels of :mod:`ember.ops.conv` (im2col
plus one matrix product per sample and group, backward included).  This module
checks the arguments with PyTorch's messages and turns the string paddings,
unbatched inputs and output paddings into the fused ops' explicit geometry.  Complex
convolutions are sums of real ones."""
from ember.ops.autocast import autocasts
import ember
from ember.nn._functional.misc import pad as _pad
from ember.ops import conv as _ops

# PyTorch's scalar type names, as its dtype-mismatch messages spell them
_SCALAR_NAMES = {"float16": ("Half", "c10::Half"), "bfloat16": ("BFloat16", "c10::BFloat16"),
                 "float32": ("Float", "float"), "float64": ("Double", "double")}
_FLOATING = tuple(_SCALAR_NAMES)
_COMPLEX = ("complex64", "complex128")


def _tuple(value, count, name):
    if isinstance(value, int):
        return (value,) * count
    value = tuple(value)
    if len(value) == 1:
        return value * count
    if len(value) != count:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {count} "
                           f"values to match the convolution dimensions, but got {name}={list(value)}")
    return value


def _windows(input, spatial, kernel, stride, dilation):
    """View of ``input`` (``(N, C, *spatial)``) with one window per output position:
    ``(N, C, *out, *kernel)`` (used by the window pooling)."""
    for k in range(spatial):
        span = dilation[k] * (kernel[k] - 1) + 1
        input = input.unfold(2 + k, span, stride[k])
        if dilation[k] > 1:
            index = [slice(None)] * input.dim()
            index[-1] = slice(None, None, dilation[k])
            input = input[tuple(index)]
    return input


def _dtype_name(t):
    return str(t.dtype).split(".")[-1]


def _check_common(name, input, weight, bias, stride, dilation, groups, spatial):
    """Checks shared by convolutions and transposed convolutions; returns whether the
    input is unbatched."""
    if not isinstance(input, ember.Tensor) or not isinstance(weight, ember.Tensor):
        raise TypeError(f"{name}() expected Tensor input and weight, but got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if bias is not None and not isinstance(bias, ember.Tensor):
        raise TypeError(f"{name}(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input "
                           f"to {name}, but got input of size: {list(input.shape)}")
    if weight.dim() != spatial + 2:
        raise RuntimeError(f"weight should have {spatial + 2} dimensions for {name}, got "
                           f"{weight.dim()}")
    kind = _dtype_name(input)
    if _dtype_name(weight) != kind:
        raise RuntimeError(f"expected scalar type {_SCALAR_NAMES.get(kind, (kind,))[0]} but "
                           f"found {_SCALAR_NAMES.get(_dtype_name(weight), (weight.dtype,))[0]}")
    if bias is not None and _dtype_name(bias) != kind:
        names = _SCALAR_NAMES.get(kind, (kind, kind))
        other = _SCALAR_NAMES.get(_dtype_name(bias), (bias.dtype, bias.dtype))
        raise RuntimeError(f"Input type ({names[1]}) and bias type ({other[1]}) should be the "
                           "same")
    if kind not in _FLOATING + _COMPLEX:
        raise RuntimeError(f"\"{name}\" not implemented for '{kind}': convolutions take "
                           "floating-point or complex tensors")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"{name}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    return input.dim() == spatial + 1


def _by_parts(op, input, weight, bias):
    """``op(input, weight, bias)``; complex from four real ones, as the convolution is
    bilinear: ``(a + ib) * (c + id) = (ac - bd) + i(ad + bc)``."""
    if not input.is_complex():
        return op(input, weight, bias)
    (a, b), (c, d) = ((t.real.contiguous(), t.imag.contiguous()) for t in (input, weight))
    result = ember.complex(op(a, c, None) - op(b, d, None), op(a, d, None) + op(b, c, None))
    if bias is not None:
        result = result + bias.reshape((-1,) + (1,) * (input.dim() - 2))
    return result


def _conv(input, weight, bias, stride, padding, dilation, groups, spatial):
    name = f"conv{spatial}d"
    stride = _tuple(stride, spatial, "stride")
    dilation = _tuple(dilation, spatial, "dilation")
    unbatched = _check_common(name, input, weight, bias, stride, dilation, groups, spatial)
    if unbatched:
        input = input.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    out_channels, group_channels = weight.shape[0], weight.shape[1]
    channels = input.shape[1]
    if channels != group_channels * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {group_channels * groups} channels, "
                           f"but got {channels} channels instead")
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                           "instead")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * spatial
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # both sides get half the total; an odd total puts the extra element after
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            padding = tuple(t // 2 for t in total)
            if any(t % 2 for t in total):
                input = _pad(input, [p for t in reversed(total) for p in (0, t % 2)])
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    padding = _tuple(padding, spatial, "padding")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    for k in range(spatial):
        if input.shape[2 + k] + 2 * padding[k] < dilation[k] * (kernel[k] - 1) + 1:
            padded = [size + 2 * p for size, p in zip(input.shape[2:], padding)]
            raise RuntimeError(f"Calculated padded input size per channel: "
                               f"({' x '.join(map(str, padded))}). Kernel size: "
                               f"({' x '.join(map(str, kernel))}). Kernel size can't be greater "
                               "than actual input size")
    result = _by_parts(lambda x, w, b: _ops.convolution(x, w, b, stride, padding, dilation,
                                                        groups), input, weight, bias)
    return _in_layout_of(result.squeeze(0) if unbatched else result, input, weight)


def _channels_last(t):
    """Whether ``t`` is stored channels-last (and not also plainly contiguous), PyTorch's
    ``suggest_memory_format``."""
    return t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(
        memory_format=ember.channels_last)


def _in_layout_of(result, input, weight):
    """``result`` channels-last when a 4-D input or the weight is, as PyTorch's CPU
    convolutions return it (the kernels compute in NCHW)."""
    if result.dim() == 4 and (_channels_last(input) or _channels_last(weight)):
        return result.contiguous(memory_format=ember.channels_last)
    return result


@autocasts("conv1d")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of ``(N, C_in, L)`` (or ``(C_in, L)``) with ``(C_out, C_in / groups, k)``.

    Parameters
    ----------
    input : Tensor
    weight : Tensor
    bias : Tensor, optional
        ``(C_out,)``.
    stride, dilation : int or tuple, optional
    padding : int, tuple or {'valid', 'same'}, optional
        Zero padding on both sides.
    groups : int, optional
        Split the channels into this many independent convolutions.

    Returns
    -------
    Tensor
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


@autocasts("conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``(N, C_in, H, W)`` with ``(C_out, C_in / groups, kH, kW)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
    weight : Tensor
    bias : Tensor, optional
        ``(C_out,)``.
    stride, dilation : int or tuple, optional
    padding : int, tuple or {'valid', 'same'}, optional
    groups : int, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv2d(ember.ones(1, 1, 4, 4), ember.ones(2, 1, 3, 3), padding=1).shape
    ember.Size([1, 2, 4, 4])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


@autocasts("conv3d")
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of ``(N, C_in, D, H, W)`` with ``(C_out, C_in / groups, kD, kH, kW)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``.
    weight : Tensor
    bias : Tensor, optional
    stride, dilation : int or tuple, optional
    padding : int, tuple or {'valid', 'same'}, optional
    groups : int, optional

    Returns
    -------
    Tensor
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    spatial):
    """The transposed convolution as the fused op (see below for output paddings of a
    stride or more)."""
    name = f"conv_transpose{spatial}d"
    stride = _tuple(stride, spatial, "stride")
    padding = _tuple(padding, spatial, "padding")
    output_padding = _tuple(output_padding, spatial, "output_padding")
    dilation = _tuple(dilation, spatial, "dilation")
    unbatched = _check_common(name, input, weight, bias, stride, dilation, groups, spatial)
    if unbatched:
        input = input.unsqueeze(0)
    in_channels, kernel = weight.shape[0], tuple(weight.shape[2:])
    if in_channels % groups or input.shape[1] != in_channels:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {in_channels} channels, but got "
                           f"{input.shape[1]} channels instead")
    out_channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {out_channels} elements, but got "
                           f"bias of size {list(bias.shape)} instead")
    if any(p < 0 for p in padding) or any(p < 0 for p in output_padding):
        raise RuntimeError("negative padding is not supported")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        axes = ("depth", "height", "width")[3 - spatial:] if spatial > 1 else ("height",)
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            + " ".join(f"output_padding_{a}: {v}" for a, v in zip(axes, output_padding)) + " "
            + " ".join(f"stride_{a}: {v}" for a, v in zip(axes, stride)) + " "
            + " ".join(f"dilation_{a}: {v}" for a, v in zip(axes, dilation)))
    out_size = tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op in
                     zip(input.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out_size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, input.shape[2:]))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, out_size))}). Output size is too small")
    if all(op < s for op, s in zip(output_padding, stride)):
        # the convolution maps out_size back to the input size: one fused op
        result = _by_parts(lambda x, w, b: _ops.convolution_transpose(
            x, w, b, out_size, stride, padding, dilation, groups), input, weight, bias)
    else:
        # An output padding of a stride or more (allowed below the dilation) has no
        # convolution mapping out_size back: scatter every window in full (no padding),
        # then take torch's output from it, [padding, padding + out_size), zero past its end.
        full = tuple((size - 1) * s + d * (k - 1) + 1 for size, s, d, k in
                     zip(input.shape[2:], stride, dilation, kernel))
        result = _by_parts(lambda x, w, b: _ops.convolution_transpose(
            x, w, b, full, stride, (0,) * spatial, dilation, groups), input, weight, None)
        for axis, (p, o, f) in enumerate(zip(padding, out_size, full)):
            result = result.narrow(2 + axis, p, min(o, f - p))
        short = [o - min(o, f - p) for p, o, f in zip(padding, out_size, full)]
        if any(short):
            result = _pad(result, [p for e in reversed(short) for p in (0, e)])
        if bias is not None:
            result = result + bias.reshape((out_channels,) + (1,) * spatial)
    return _in_layout_of(result.squeeze(0) if unbatched else result, input, weight)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of a time-major sequence: ``input`` ``(time, batch, in_channels)``,
    ``weight`` ``(kernel_width, in_channels, out_channels)``, ``bias`` ``(out_channels,)``,
    ``pad`` zero steps on both ends; returns ``(time + 2 * pad - kernel_width + 1, batch,
    out_channels)``.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv_tbc(ember.ones(5, 2, 3), ember.ones(2, 3, 4), ember.zeros(4), 1).shape
    ember.Size([6, 2, 4])
    """
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if bias.shape[0] != weight.shape[2]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


@autocasts("conv_transpose1d")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution (the gradient of :func:`ember.nn.functional.conv1d`).

    Parameters
    ----------
    input : Tensor
        ``(N, C_in, L)`` or ``(C_in, L)``.
    weight : Tensor
        ``(C_in, C_out / groups, k)``.
    bias : Tensor, optional
        ``(C_out,)``.
    stride, padding, output_padding, dilation : int or tuple, optional
        ``padding`` trims the output on both sides; ``output_padding`` extends it
        on one side (to pick among the input sizes a strided convolution maps alike).
    groups : int, optional

    Returns
    -------
    Tensor
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


@autocasts("conv_transpose2d")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution (the gradient of :func:`ember.nn.functional.conv2d`).

    Parameters
    ----------
    input : Tensor
        ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
    weight : Tensor
        ``(C_in, C_out / groups, kH, kW)``.
    bias : Tensor, optional
    stride, padding, output_padding, dilation : int or tuple, optional
    groups : int, optional

    Returns
    -------
    Tensor
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


@autocasts("conv_transpose3d")
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 3-D convolution (the gradient of :func:`ember.nn.functional.conv3d`).

    Parameters
    ----------
    input : Tensor
        ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``.
    weight : Tensor
        ``(C_in, C_out / groups, kD, kH, kW)``.
    bias : Tensor, optional
    stride, padding, output_padding, dilation : int or tuple, optional
    groups : int, optional

    Returns
    -------
    Tensor
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


def _pair(value, name):
    value = (value,) * 2 if isinstance(value, int) else tuple(value)
    if len(value) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(value)}")
    return value


def _window_args(kernel_size, dilation, padding, stride):
    kernel = _pair(kernel_size, "kernel_size")
    dilation = _pair(dilation, "dilation")
    padding = _pair(padding, "padding")
    stride = _pair(stride, "stride")
    for name, values, low in (("kernel", kernel, 1), ("dilation", dilation, 1),
                              ("stride", stride, 1), ("padding", padding, 0)):
        if any(v < low for v in values):
            which = "should be non-negative" if low == 0 else "should be greater than zero"
            short = {"kernel": "kernel", "dilation": "dilation", "stride": "stride",
                     "padding": "pad"}[name]
            raise RuntimeError(f"{name} {which}, but got {short}_height: {values[0]} "
                               f"{short}_width: {values[1]}")
    return kernel, dilation, padding, stride


def _check_window_dtype(input, name):
    if not isinstance(input, ember.Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if _dtype_name(input) not in _FLOATING + _COMPLEX:
        raise NotImplementedError(f"\"{name}\" not implemented for '{_dtype_name(input)}'")


def _linear_parts(op, input):
    """``op(input)`` for a linear ``op``: complex from the real and imaginary parts."""
    if not input.is_complex():
        return op(input)
    return ember.complex(op(input.real.contiguous()), op(input.imag.contiguous()))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks of a batched image as columns (im2col).

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
    kernel_size : int or tuple of 2 ints
        Size of the blocks.
    dilation : int or tuple, optional
        Spacing of the elements of a block.
    padding : int or tuple, optional
        Zero padding added to both sides of each spatial dim.
    stride : int or tuple, optional
        Step between blocks.

    Returns
    -------
    Tensor
        ``(N, C * kH * kW, L)`` (``L`` blocks), or ``(C * kH * kW, L)`` unbatched.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.unfold(ember.arange(16.0).reshape(1, 1, 4, 4), 2, stride=2)[0]
    tensor([[ 0.,  2.,  8., 10.],
            [ 1.,  3.,  9., 11.],
            [ 4.,  6., 12., 14.],
            [ 5.,  7., 13., 15.]])
    """
    _check_window_dtype(input, "im2col")
    if input.dim() not in (3, 4) or any(s == 0 for s in input.shape[-3:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(input.shape)}")
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride)
    unbatched = input.dim() == 3
    if unbatched:
        input = input.unsqueeze(0)
    result = _linear_parts(lambda x: _ops.im2col(x, kernel, stride, padding, dilation), input)
    return result.squeeze(0) if unbatched else result


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks (columns) back into an image (col2im), the adjoint of
    :func:`unfold`.

    Parameters
    ----------
    input : Tensor
        ``(N, C * kH * kW, L)`` or unbatched ``(C * kH * kW, L)``.
    output_size : int or tuple of 2 ints
        Spatial size ``(H, W)`` of the image.
    kernel_size : int or tuple of 2 ints
    dilation, padding, stride : int or tuple, optional
        As in :func:`unfold`.

    Returns
    -------
    Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``; overlapping blocks add up.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.fold(ember.ones(1, 4, 4), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    _check_window_dtype(input, "col2im")
    if input.dim() not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch "
                           f"size and non-zero dimensions for input, but got: {list(input.shape)}")
    output_size = _pair(output_size, "output_size")
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride)
    unbatched = input.dim() == 2
    if unbatched:
        input = input.unsqueeze(0)
    result = _linear_parts(
        lambda x: _ops.col2im(x, output_size, kernel, stride, padding, dilation), input)
    return result.squeeze(0) if unbatched else result
