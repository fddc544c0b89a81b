"""Adaptive pooling of :mod:`ember.nn.functional`: PyTorch's bins
``[floor(i * L / out), ceil((i + 1) * L / out))`` along each pooled dimension, one
dimension at a time (mean and max over a box are both separable)."""
import ember


def _output_sizes(input, output_size, spatial, name):
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}(): Expected {spatial + 1}D or {spatial + 2}D tensor, but got "
                           f"{list(input.shape)}")
    sizes = (output_size,) * spatial if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"{name}: output_size must be {spatial} values, got {list(sizes)}")
    in_sizes = tuple(input.shape[-spatial:])
    if any(s == 0 for s in in_sizes) and input.numel() == 0 and input.dim() == spatial + 1:
        raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(input.shape)}")
    return tuple(i if o is None else o for o, i in zip(sizes, in_sizes))


def _bins(size, out):
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _average_matrix(size, out, dtype):
    """``(out, size)`` matrix whose rows average the bins."""
    rows = ember.zeros(out, size, dtype=dtype)
    for i, (start, stop) in enumerate(_bins(size, out)):
        rows[i, start:stop] = 1.0 / (stop - start)
    return rows


def _adaptive_avg(input, output_size, spatial, name):
    sizes = _output_sizes(input, output_size, spatial, name)
    result = input
    for k, out in enumerate(sizes):
        dim = input.dim() - spatial + k
        averages = _average_matrix(input.shape[dim], out, input.dtype)
        # contract dimension ``dim`` with the averaging matrix, keeping the dimension order
        result = ember.matmul(result.movedim(dim, -1), averages.t()).movedim(-1, dim)
    return result


def _adaptive_max(input, output_size, spatial, name, return_indices):
    if return_indices:
        raise NotImplementedError(f"{name}: return_indices=True is not supported by ember yet")
    sizes = _output_sizes(input, output_size, spatial, name)
    result = input
    for k, out in enumerate(sizes):
        dim = input.dim() - spatial + k
        bins = _bins(input.shape[dim], out)
        widest = max(stop - start for start, stop in bins)
        # each bin as ``widest`` positions, the short ones repeating their last element
        index = ember.tensor([[min(start + j, stop - 1) for j in range(widest)]
                              for start, stop in bins], dtype=ember.int64)
        gathered = result.movedim(dim, -1).index_select(-1, index.reshape(-1))
        gathered = gathered.reshape(tuple(gathered.shape[:-1]) + (out, widest))
        result = ember.max(gathered, -1).values.movedim(-1, dim)
    return result


def adaptive_avg_pool1d(input, output_size):
    """Mean over ``output_size`` adaptive bins of the last dimension.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)`` or ``(C, L)``.
    output_size : int

    Returns
    -------
    Tensor
    """
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Mean over adaptive bins of the last two dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    output_size : int or tuple
        ``None`` in the tuple keeps that dimension's size.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.adaptive_avg_pool2d(ember.ones(2, 3, 7, 5), 1).shape
    ember.Size([2, 3, 1, 1])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    """Mean over adaptive bins of the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    output_size : int or tuple

    Returns
    -------
    Tensor
    """
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` adaptive bins of the last dimension.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)`` or ``(C, L)``.
    output_size : int
    return_indices : bool, optional
        Not supported yet (only False).

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d", return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over adaptive bins of the last two dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    output_size : int or tuple
    return_indices : bool, optional
        Not supported yet (only False).

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over adaptive bins of the last three dimensions.

    Parameters
    ----------
    input : Tensor
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    output_size : int or tuple
    return_indices : bool, optional
        Not supported yet (only False).

    Returns
    -------
    Tensor
    """
    return _adaptive_max(input, output_size, 3, "adaptive_max_pool3d", return_indices)
