"""What the model constructors share: the ``weights`` check and the channel rounding."""


def _check_weights(weights):
    """Refuse pretrained weights: ember downloads nothing."""
    if weights is not None:
        raise ValueError(
            f"weights={weights!r}: ember downloads no pretrained weights; build the model with "
            f"weights=None and load a state dict with model.load_state_dict(...)")


def _ovewrite_named_param(kwargs, param, new_value):
    """Set ``kwargs[param]`` to what the architecture fixes, refusing a different value."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got "
                             f"{kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _make_divisible(v, divisor, min_value=None):
    """Round a channel count to a multiple of ``divisor``, losing at most 10% (MobileNet)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


_DOC = """{title}, as ``torchvision.models.{name}``.

Parameters
----------
weights : None
    Only ``None``: ember downloads no pretrained weights (load a state dict instead).
progress : bool, default True
    Accepted for compatibility; nothing is downloaded.
**kwargs
    Passed to :class:`{cls}`{extra}.

Returns
-------
{cls}

Raises
------
ValueError
    When ``weights`` is not ``None``{raises}.
"""


def _document(model, title, raises=""):
    """Give a constructor the shared docstring; ``model`` is (class name, what kwargs take)."""
    cls, extra = model

    def decorate(function):
        function.__doc__ = _DOC.format(title=title, name=function.__name__, cls=cls, extra=extra,
                                       raises=raises)
        return function
    return decorate
