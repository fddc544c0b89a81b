"""The reduction names of the losses and their enum values, under PyTorch's path
``torch.nn._reduction`` (``F._Reduction``): code written for PyTorch converts the
deprecated ``size_average`` / ``reduce`` pair with these helpers.

The values are those of ATen's ``Reduction`` enum: 0 ``'none'``, 1 ``'mean'``, 2 ``'sum'``.
"""
import warnings

__all__ = ["get_enum", "legacy_get_string", "legacy_get_enum"]


def get_enum(reduction):
    """The enum value of ``reduction``: 0 for ``'none'``, 1 for ``'mean'`` (and the
    deprecated ``'elementwise_mean'``, with a warning), 2 for ``'sum'``.

    Raises
    ------
    ValueError
        For any other name.

    Examples
    --------
    >>> from ember.nn import _reduction
    >>> _reduction.get_enum("sum")
    2
    """
    if reduction == "none":
        return 0
    if reduction == "mean":
        return 1
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. "
                      "Please use reduction='mean' instead.", stacklevel=2)
        return 1
    if reduction == "sum":
        return 2
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_get_string(size_average, reduce, emit_warning=True):
    """The reduction named by the deprecated ``size_average`` / ``reduce`` pair (None
    counts as True): ``'mean'`` when both hold, ``'sum'`` when only ``reduce`` does,
    else ``'none'``; warns that the pair is deprecated unless ``emit_warning`` is False.

    Examples
    --------
    >>> from ember.nn import _reduction
    >>> _reduction.legacy_get_string(False, True, emit_warning=False)
    'sum'
    """
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=2)
    return ret


def legacy_get_enum(size_average, reduce, emit_warning=True):
    """``get_enum(legacy_get_string(size_average, reduce, emit_warning))``."""
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
