"""Convolution weights in a memory format (as ``torch.nn.utils.memory_format``)."""
from ember import nn


def _convert(module, memory_format, classes):
    if isinstance(module, classes):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, classes)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Lay out the weight of every ``Conv2d``/``ConvTranspose2d`` in ``module`` (itself
    included) in ``memory_format``, in place.

    Parameters
    ----------
    module : Module
    memory_format : ember.memory_format
        Usually ``ember.channels_last``.

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    >>> net = nn.utils.convert_conv2d_weight_memory_format(net, ember.channels_last)
    >>> net[0].weight.is_contiguous(memory_format=ember.channels_last)
    True
    """
    return _convert(module, memory_format, (nn.Conv2d, nn.ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Lay out the weight of every ``Conv3d``/``ConvTranspose3d`` in ``module`` (itself
    included) in ``memory_format`` (usually ``ember.channels_last_3d``), in place.

    Parameters
    ----------
    module : Module
    memory_format : ember.memory_format

    Returns
    -------
    Module
        ``module``.
    """
    return _convert(module, memory_format, (nn.Conv3d, nn.ConvTranspose3d))
