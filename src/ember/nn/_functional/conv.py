"""Convolutions of :mod:`ember.nn.functional`: sliding windows are strided
views (``Tensor.unfold``) contracted with one matrix product, so autograd differentiates
them like any other composition of ember ops."""
import ember
from ember.nn._functional.misc import pad as _pad


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
    ``(N, C, *out, *kernel)``."""
    for k in range(spatial):
        span = dilation[k] * (kernel[k] - 1) + 1
        input = input.unfold(2 + k, span, stride[k])
        if dilation[k] > 1:
            index = [slice(None)] * input.dim()
            index[-1] = slice(None, None, dilation[k])
            input = input[tuple(index)]
    return input


def _conv(input, weight, bias, stride, padding, dilation, groups, spatial):
    name = f"conv{spatial}d"
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input "
                           f"to {name}, but got input of size: {list(input.shape)}")
    unbatched = input.dim() == spatial + 1
    if unbatched:
        input = input.unsqueeze(0)
    if weight.dim() != spatial + 2:
        raise RuntimeError(f"weight should have {spatial + 2} dimensions for {name}, got "
                           f"{weight.dim()}")
    stride = _tuple(stride, spatial, "stride")
    dilation = _tuple(dilation, spatial, "dilation")
    kernel = tuple(weight.shape[2:])
    out_channels, group_channels = weight.shape[0], weight.shape[1]
    channels = input.shape[1]
    if groups <= 0 or channels != group_channels * groups or out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {group_channels * groups} channels, "
                           f"but got {channels} channels instead")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * spatial
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            pads = []
            for t in reversed(total):
                pads += [t // 2, t - t // 2]
            input = _pad(input, pads)
            padding = (0,) * spatial
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of "
                             "{'valid', 'same'}")
    padding = _tuple(padding, spatial, "padding")
    if any(padding):
        input = _pad(input, [p for p in reversed(padding) for _ in range(2)])
    for k in range(spatial):
        if input.shape[2 + k] < dilation[k] * (kernel[k] - 1) + 1:
            raise RuntimeError(f"Calculated padded input size per channel: "
                               f"({' x '.join(str(s) for s in input.shape[2:])}). Kernel size: "
                               f"({' x '.join(map(str, kernel))}). Kernel size can't be greater "
                               "than actual input size")
    windows = _windows(input, spatial, kernel, stride, dilation)
    batch = input.shape[0]
    out_shape = tuple(windows.shape[2:2 + spatial])
    positions, patch = 1, group_channels
    for s in out_shape:
        positions *= s
    for k in kernel:
        patch *= k
    # (N, G, C/G, *out, *kernel) -> (G, N * positions, C/G * prod(kernel)): one matrix per
    # group, so neither product nor its backward broadcasts over the batch
    windows = windows.reshape((batch, groups, group_channels) + out_shape + kernel)
    order = (1, 0) + tuple(range(3, 3 + spatial)) + (2,) + tuple(range(3 + spatial, 3 + 2 * spatial))
    columns = windows.permute(order).reshape(groups, batch * positions, patch)
    kernels = weight.reshape(groups, out_channels // groups, patch).transpose(1, 2)
    if groups == 1:
        result = ember.mm(columns[0], kernels[0]).unsqueeze(0)
    else:
        result = ember.matmul(columns, kernels)  # (G, N * positions, O/G)
    result = result.reshape(groups, batch, positions, out_channels // groups)
    result = result.permute(1, 0, 3, 2).reshape((batch, out_channels) + out_shape)
    if bias is not None:
        result = result + bias.reshape((out_channels,) + (1,) * spatial)
    return result.squeeze(0) if unbatched else result


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
    """The gradient of a convolution with respect to its input, as a convolution: spread the
    input by ``stride`` (zeros between), pad, and correlate with the flipped, transposed kernel."""
    name = f"conv_transpose{spatial}d"
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input "
                           f"to {name}, but got input of size: {list(input.shape)}")
    unbatched = input.dim() == spatial + 1
    if unbatched:
        input = input.unsqueeze(0)
    if weight.dim() != spatial + 2:
        raise RuntimeError(f"weight should have {spatial + 2} dimensions for {name}, got "
                           f"{weight.dim()}")
    stride = _tuple(stride, spatial, "stride")
    padding = _tuple(padding, spatial, "padding")
    output_padding = _tuple(output_padding, spatial, "output_padding")
    dilation = _tuple(dilation, spatial, "dilation")
    in_channels, kernel = weight.shape[0], tuple(weight.shape[2:])
    if groups <= 0 or in_channels % groups or input.shape[1] != in_channels:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {in_channels} channels, but got "
                           f"{input.shape[1]} channels instead")
    for k in range(spatial):
        if output_padding[k] >= max(stride[k], dilation[k]):
            raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                               f"got output_padding_height: {output_padding[k]} stride: "
                               f"{stride[k]} dilation: {dilation[k]}")
    if any(s > 1 for s in stride):
        spread_shape = tuple(input.shape[:2]) + tuple(
            (size - 1) * s + 1 for size, s in zip(input.shape[2:], stride))
        spread = ember.zeros(spread_shape, dtype=input.dtype)
        spread[(slice(None),) * 2 + tuple(slice(None, None, s) for s in stride)] = input
        input = spread
    pads = []
    for k in reversed(range(spatial)):
        edge = dilation[k] * (kernel[k] - 1) - padding[k]
        pads += [edge, edge + output_padding[k]]
    input = _pad(input, pads)
    out_channels = weight.shape[1] * groups
    # (C_in, C_out/G, *k) -> (C_out, C_in/G, *k), kernel flipped along every spatial dimension
    regrouped = weight.reshape((groups, in_channels // groups, weight.shape[1]) + kernel)
    regrouped = regrouped.transpose(1, 2).reshape((out_channels, in_channels // groups) + kernel)
    for k in range(spatial):
        reverse = ember.arange(kernel[k] - 1, -1, -1, dtype=ember.int64)
        regrouped = regrouped.index_select(2 + k, reverse)
    result = _conv(input, regrouped, bias, 1, 0, dilation, groups, spatial)
    return result.squeeze(0) if unbatched else result


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
