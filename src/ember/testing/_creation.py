"""``make_tensor``: random test tensors as ``torch.testing.make_tensor`` draws them."""
import collections.abc
import math
import warnings

import ember

__all__ = ["make_tensor"]

_INTEGRAL_TYPES = [ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64]
_FLOATING_TYPES = [ember.float16, ember.bfloat16, ember.float32, ember.float64]
_COMPLEX_TYPES = [ember.complex64, ember.complex128]
_BOOLEAN_OR_INTEGRAL_TYPES = [ember.bool, *_INTEGRAL_TYPES]
_FLOATING_OR_COMPLEX_TYPES = [*_FLOATING_TYPES, *_COMPLEX_TYPES]


def _uniform_random_(t, low, high):
    # a range wider than the dtype's largest value would overflow: draw half of it
    if high - low >= ember.finfo(t.dtype).max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def _low_high(dtype, low, high, lowest_inclusive, highest_exclusive, default_low,
              default_high):
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype in _FLOATING_OR_COMPLEX_TYPES:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. Use "
                      "`torch.full(...)` instead.", FutureWarning, stacklevel=4)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest_inclusive}, {highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    if dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)``, as
    ``torch.testing.make_tensor``.

    Without ``low``/``high`` the range depends on the dtype: ``[0, 2)`` for bool,
    ``[0, 10)`` for uint8, ``[-9, 10)`` for signed integers and ``[-9, 9)`` for floating
    and complex dtypes (both parts).  Bounds outside the dtype's finite range are
    clamped to it.

    Parameters
    ----------
    *shape : int, or one sequence of int
    dtype : ember.dtype
    device : str or ember.device
    low, high : number, optional
    requires_grad : bool, default False
        Floating and complex dtypes only.
    noncontiguous : bool, default False
        Return a non-contiguous view (every other element of a twice-as-wide last
        dimension) when the tensor has more than one element.
    exclude_zero : bool, default False
        Replace zeros by 1 (bool, integers) or the dtype's smallest normal number.
    memory_format : ember.memory_format, optional
        Layout of the result; excludes ``noncontiguous``.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        ``low >= high``, a NaN bound, a range outside the dtype, ``requires_grad``
        with an integral dtype, or both ``noncontiguous`` and ``memory_format``.
    TypeError
        An unsupported dtype.

    Examples
    --------
    >>> import ember
    >>> from ember.testing import make_tensor
    >>> t = make_tensor(2, 3, dtype=ember.float32, device="cpu", low=-1, high=1)
    >>> t.shape, bool(((t >= -1) & (t < 1)).all())
    (ember.Size([2, 3]), True)
    >>> make_tensor((4, 4), dtype=ember.int64, device="cpu", noncontiguous=True).is_contiguous()
    False
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    if requires_grad and dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is ember.bool:
        low, high = _low_high(dtype, low, high, 0, 2, 0, 2)
        result = ember.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _INTEGRAL_TYPES:
        info = ember.iinfo(dtype)
        low, high = _low_high(dtype, low, high, info.min,
                              info.max + (1 if dtype is not ember.int64 else 0), -9, 10)
        result = ember.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _FLOATING_OR_COMPLEX_TYPES:
        info = ember.finfo(dtype)
        low, high = _low_high(dtype, low, high, info.min, info.max, -9, 9)
        result = ember.empty(shape, device=device, dtype=dtype)
        _uniform_random_(ember.view_as_real(result) if dtype in _COMPLEX_TYPES else result,
                         low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        "torch.testing.make_tensor(). To request support, file an issue at: "
                        "https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        tiny = 1 if dtype in _BOOLEAN_OR_INTEGRAL_TYPES else ember.finfo(dtype).tiny
        result[result == 0] = tiny
    if dtype in _FLOATING_OR_COMPLEX_TYPES:
        result.requires_grad = requires_grad
    return result
