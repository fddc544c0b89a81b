"""Fractional max pooling (Graham, "Fractional Max-Pooling", 2014) with PyTorch's
pseudo-random windows.

Each plane draws one number ``u`` in ``[0, 1)`` per pooled dimension; with
``alpha = (in - k) / (out - 1)`` the windows of that dimension start at
``int((i + u) * alpha) - int(u * alpha)`` for ``i < out - 1`` and at ``in - k`` for the
last, computed in the input's floating type as PyTorch's kernel does, so the same
samples give the same windows.  The windows are gathered, the position of each
maximum is picked with PyTorch's rule (the first maximum, or the last NaN), and the
values are gathered from the input at those positions: autograd then sends each
output's gradient to its maximum.
"""
import math
import operator

import ember

_DIMS = {2: ("height", "width"), 3: ("time", "height", "width")}


def _sizes(value, spatial, name, what):
    """``value`` as ``spatial`` ints (one int is repeated), as PyTorch's int-list arguments."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) == 1:
        values *= spatial
    if len(values) != spatial:
        ints = "Ints" if spatial == 2 else "three Ints"
        raise RuntimeError(f"{name}: {what} must either be a single Int or tuple of {ints}")
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        kinds = ", ".join(type(v).__name__ for v in values)
        raise TypeError(f"{name}(): argument '{what}' must be a tuple of ints, got "
                        f"({kinds})") from None


def _output_size(input, spatial, name, output_size, output_ratio):
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        return _sizes(output_size, spatial, name, "output_size")
    ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,)
    if len(ratio) == 1:
        ratio *= spatial
    if len(ratio) != spatial:
        raise ValueError(f"{name} requires output_ratio to either be a single number or a "
                         f"tuple of {spatial} numbers")
    return tuple(int(input.shape[input.dim() - spatial + d] * ratio[d]) for d in range(spatial))


def _check(input, spatial, name, kernel, outs, samples):
    label = f"{name}()" if spatial == 2 else f"{name}_out()"
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{label}: Expected {spatial + 1}D or {spatial + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{label}: Expected input to have non-zero size for non-batch "
                               f"dimensions, but got {list(input.shape)} with dimension {d} "
                               "being empty.")
    if any(k <= 0 for k in kernel):
        raise ValueError(f"kernel_size must be greater than 0, but got {kernel}")
    if any(o < 0 for o in outs):
        raise RuntimeError(f"{name}: output_size must not be negative, got {list(outs)}")
    sizes = input.shape[input.dim() - spatial:]
    for what, k, o, size in zip(_DIMS[spatial], kernel, outs, sizes):
        if o + k - 1 > size:
            raise RuntimeError(f"{label}: pool {what} {k} too large relative to input {what} "
                               f"{size}")
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    batch = input.shape[0] if input.dim() == spatial + 2 else 1
    if samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != input.shape[-spatial - 1]:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != spatial:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {spatial}; got "
                           f"{samples.shape[2]}.")


def _starts(sample, size, out, kernel):
    """Window starts ``(N, C, out)`` of one dimension from its samples ``(N, C)``: PyTorch's
    ``generate_intervals``, in the samples' dtype."""
    dtype = sample.dtype
    last = ember.full(tuple(sample.shape) + (1,), size - kernel, dtype=ember.int64,
                      device=sample.device)
    if out <= 1:
        return last[..., :out]
    alpha = (ember.tensor(float(size - kernel), dtype=dtype, device=sample.device)
             / ember.tensor(float(out - 1), dtype=dtype, device=sample.device))
    steps = ember.arange(out - 1, dtype=dtype, device=sample.device)
    u = sample.unsqueeze(-1)
    starts = ((steps + u) * alpha).to(ember.int64) - (u * alpha).to(ember.int64)
    return ember.cat([starts, last], -1)


def _fractional_max_pool(input, spatial, kernel_size, output_size, output_ratio, samples):
    name = f"fractional_max_pool{spatial}d"
    kernel = _sizes(kernel_size, spatial, name, "kernel_size")
    outs = _output_size(input, spatial, name, output_size, output_ratio)
    batched = input.dim() == spatial + 2
    if samples is None:
        if input.dim() in (spatial + 1, spatial + 2):
            planes = input.shape[-spatial - 1]
            samples = ember.rand(input.shape[0] if batched else 1, planes, spatial,
                                 dtype=input.dtype, device=input.device)
        else:
            samples = ember.empty(0, dtype=input.dtype)
    _check(input, spatial, name, kernel, outs, samples)
    x = input if batched else input.unsqueeze(0)
    n, c = x.shape[0], x.shape[1]
    sizes = tuple(x.shape[2:])
    with ember.no_grad():
        u = samples.detach()[:n]
        # sample 0 drives the last dimension (2d) or the first (3d), as in PyTorch's kernels
        order = (1, 0) if spatial == 2 else (0, 1, 2)
        # flat per-plane offset of every window element, built one dimension at a time:
        # shape (N, C, o_0, ..., o_{s-1}, k_0, ..., k_{s-1})
        flat = ember.zeros((n, c) + (1,) * (2 * spatial), dtype=ember.int64, device=x.device)
        stride = 1
        for d in range(spatial - 1, -1, -1):
            starts = _starts(u[:, :, order[d]], sizes[d], outs[d], kernel[d])
            pos = starts.unsqueeze(-1) + ember.arange(kernel[d], device=x.device)
            shape = [n, c] + [1] * (2 * spatial)
            shape[2 + d], shape[2 + spatial + d] = outs[d], kernel[d]
            flat = flat + (pos * stride).reshape(shape)
            stride *= sizes[d]
        count, window = math.prod(outs), math.prod(kernel)
        flat = flat.expand((n, c) + outs + kernel).reshape(n, c, count * window)
        plane = x.detach().reshape(n, c, stride)
        values = plane.gather(2, flat).reshape(n, c, count, window)
        flat = flat.reshape(n, c, count, window)
        # the first maximum, unless the window holds a NaN: then its last NaN
        first_max = values.argmax(-1, keepdim=True)
        nan = values.isnan()
        last_nan = window - 1 - nan.flip(-1).to(ember.uint8).argmax(-1, keepdim=True)
        pick = ember.where(nan.any(-1, keepdim=True), last_nan, first_max)
        indices = flat.gather(-1, pick).reshape((n, c) + outs)
    out = x.reshape(n, c, stride).gather(2, indices.reshape(n, c, count))
    out = out.reshape(indices.shape)
    if not batched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return out, indices


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool2d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size, output_size, output_ratio, _random_samples
        As in :func:`fractional_max_pool2d`.
    return_indices : bool, optional
        Ignored: the indices are always returned, as in PyTorch.

    Returns
    -------
    tuple of Tensor
        The maxima and their flat per-plane input positions ``h * W + w`` (int64).
    """
    return _fractional_max_pool(input, 2, kernel_size, output_size, output_ratio,
                                _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """2-D fractional max pooling: maxima over ``kH x kW`` windows placed at pseudo-random,
    non-uniform steps so that the output has a chosen size.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size : int or tuple of 2 ints
        Window size.
    output_size : int or tuple of 2 ints, optional
        Output ``(oH, oW)``; needs ``oH + kH - 1 <= H`` and ``oW + kW - 1 <= W``.
    output_ratio : float or tuple of 2 floats, optional
        Output size as a fraction of the input size (rounded down), when ``output_size``
        is not given.
    return_indices : bool, optional
        Also return the flat per-plane positions of the maxima (for
        :func:`max_unpool2d`).
    _random_samples : Tensor, optional
        ``(N, C, 2)`` numbers in ``[0, 1)`` of the input's dtype that place the windows
        (``[..., 0]`` the columns, ``[..., 1]`` the rows); drawn with :func:`ember.rand`
        when not given.

    Returns
    -------
    Tensor or tuple of Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> x = ember.arange(25.0).reshape(1, 1, 5, 5)
    >>> samples = ember.tensor([[[0.5, 0.5]]])
    >>> F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=samples)
    tensor([[[[ 6.,  8.,  9.],
              [16., 18., 19.],
              [21., 23., 24.]]]])
    """
    out = _fractional_max_pool(input, 2, kernel_size, output_size, output_ratio,
                               _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool3d` returning ``(values, indices)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, T, H, W)`` or ``(C, T, H, W)``.
    kernel_size, output_size, output_ratio, _random_samples
        As in :func:`fractional_max_pool3d`.
    return_indices : bool, optional
        Ignored: the indices are always returned, as in PyTorch.

    Returns
    -------
    tuple of Tensor
        The maxima and their flat per-plane input positions ``(t * H + h) * W + w``.
    """
    return _fractional_max_pool(input, 3, kernel_size, output_size, output_ratio,
                                _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """3-D fractional max pooling: maxima over ``kT x kH x kW`` windows placed at
    pseudo-random, non-uniform steps so that the output has a chosen size.

    Parameters
    ----------
    input : Tensor
        ``(N, C, T, H, W)`` or ``(C, T, H, W)``.
    kernel_size : int or tuple of 3 ints
    output_size : int or tuple of 3 ints, optional
        Output ``(oT, oH, oW)``; each needs ``o + k - 1 <= size``.
    output_ratio : float or tuple of 3 floats, optional
        Output size as a fraction of the input size, when ``output_size`` is not given.
    return_indices : bool, optional
        Also return the flat per-plane positions of the maxima.
    _random_samples : Tensor, optional
        ``(N, C, 3)`` numbers in ``[0, 1)`` of the input's dtype (for T, H and W);
        drawn with :func:`ember.rand` when not given.

    Returns
    -------
    Tensor or tuple of Tensor
    """
    out = _fractional_max_pool(input, 3, kernel_size, output_size, output_ratio,
                               _random_samples)
    return out if return_indices else out[0]
