"""The model registry: ``get_model``, ``get_model_builder`` and ``list_models``, as
torchvision's (every constructor registers itself under its name)."""
import fnmatch

__all__ = ["get_model", "get_model_builder", "list_models"]

BUILTIN_MODELS = {}


def _register(fn):
    """Register a model constructor under its ``__name__``."""
    if fn.__name__ in BUILTIN_MODELS:
        raise ValueError(f"An entry is already registered under the name '{fn.__name__}'.")
    BUILTIN_MODELS[fn.__name__] = fn
    return fn


def list_models(module=None, include=None, exclude=None):
    """The names of the registered model constructors, sorted.

    Parameters
    ----------
    module : module, optional
        Only the constructors defined in this package's submodules (``ember.vision.models``
        holds them all).
    include : str or iterable of str, optional
        Keep the names matching any of these ``fnmatch`` patterns (default: all).
    exclude : str or iterable of str, optional
        Then drop the names matching any of these patterns.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from ember.vision import models
    >>> models.list_models(include="resnet*", exclude=["*50", "*101"])
    ['resnet152', 'resnet18', 'resnet34']
    """
    all_models = {k for k, v in BUILTIN_MODELS.items()
                  if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        if isinstance(include, str):
            include = [include]
        names = set()
        for pattern in include:
            names |= set(fnmatch.filter(all_models, pattern))
    else:
        names = all_models
    if exclude:
        if isinstance(exclude, str):
            exclude = [exclude]
        for pattern in exclude:
            names -= set(fnmatch.filter(all_models, pattern))
    return sorted(names)


def get_model_builder(name):
    """The constructor registered under ``name`` (case-insensitive).

    Parameters
    ----------
    name : str
        A name from :func:`list_models`.

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        When no model has this name.
    """
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    """Build the model registered under ``name``.

    Parameters
    ----------
    name : str
        A name from :func:`list_models` (case-insensitive).
    **config
        Passed to the constructor (``num_classes``, the architecture's options).

    Returns
    -------
    Module

    Raises
    ------
    ValueError
        When no model has this name.

    Examples
    --------
    >>> from ember.vision import models
    >>> model = models.get_model("mobilenet_v3_small", num_classes=10)
    >>> type(model).__name__, model.classifier[-1].out_features
    ('MobileNetV3', 10)
    """
    return get_model_builder(name)(**config)
