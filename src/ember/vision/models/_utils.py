"""What the model constructors share: the ``weights`` check, torchvision's legacy calling
forms, the docstring, and the channel rounding."""
import functools
import warnings

from ember.vision.models._api import _register


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
    When ``weights`` is not ``None`` or ``pretrained`` is true{raises}.

Notes
-----
As in torchvision, the deprecated forms ``pretrained=False`` and ``weights`` or
``progress`` given by position still work, with torchvision's ``UserWarning``.
"""


def _legacy_pretrained(kwargs):
    """Turn torchvision's deprecated ``pretrained`` (by keyword, or a boolean in place of
    ``weights``) into ``weights``, warning as torchvision does."""
    if "pretrained" in kwargs:
        if kwargs.get("weights") is not None:
            raise TypeError("pass weights only, not pretrained as well")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed "
                      "in the future, please use 'weights' instead.", stacklevel=3)
        pretrained = kwargs.pop("pretrained")
    else:
        pretrained = kwargs["weights"]
    if pretrained:
        raise ValueError(f"pretrained={pretrained!r}: ember downloads no pretrained weights; "
                         f"build the model with weights=None and load a state dict with "
                         f"model.load_state_dict(...)")
    warnings.warn("Arguments other than a weight enum or `None` for 'weights' are deprecated "
                  "since 0.13 and may be removed in the future. The current behavior is "
                  "equivalent to passing `weights=None`.", stacklevel=3)
    kwargs["weights"] = None


def _builder(model, title, raises=""):
    """Make a model constructor: torchvision's docstring and legacy calling forms, registered
    for ``get_model``.

    ``model`` is (class name, what its keyword arguments take).
    """
    cls, extra = model

    def decorate(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            if args:
                names = ("weights", "progress")[:len(args)]
                if len(args) > 2 or set(names) & set(kwargs):
                    raise TypeError(f"{builder.__name__}() takes weights and progress by "
                                    f"keyword (or, deprecated, by position), got {len(args)} "
                                    f"positional argument(s) and {sorted(kwargs)}")
                warnings.warn(f"Using {' and '.join(map(repr, names))} as positional "
                              f"parameter(s) is deprecated since 0.13 and may be removed in the "
                              f"future. Please use keyword parameter(s) instead.", stacklevel=2)
                kwargs.update(zip(names, args))
            weights = kwargs.get("weights")
            if "pretrained" in kwargs or not (weights is None or isinstance(weights, str)):
                _legacy_pretrained(kwargs)
            return builder(**kwargs)

        wrapper.__doc__ = _DOC.format(title=title, name=builder.__name__, cls=cls, extra=extra,
                                      raises=raises)
        return _register(wrapper)
    return decorate
