"""``QConfig``: which observers watch a module's activations and weights."""
from collections import namedtuple

import ember
from ember.quantization.observer import (
    MinMaxObserver, PlaceholderObserver, default_per_channel_weight_observer,
    default_weight_observer,
)
from ember.quantization._qtensor import quint8

__all__ = ["QConfig", "get_default_qconfig", "default_qconfig", "default_dynamic_qconfig",
           "per_channel_dynamic_qconfig", "float16_dynamic_qconfig"]


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """Observer constructors for a module's output (``activation``) and weight
    (``weight``), e.g. ``MinMaxObserver.with_args(dtype=ember.quint8)``; as
    ``torch.ao.quantization.QConfig``.

    Examples
    --------
    >>> from ember.quantization import QConfig, MinMaxObserver, default_weight_observer
    >>> qconfig = QConfig(activation=MinMaxObserver, weight=default_weight_observer)
    >>> type(qconfig.activation()).__name__
    'MinMaxObserver'
    """

    __slots__ = ()

    def __new__(cls, activation, weight):
        from ember import nn
        if isinstance(activation, nn.Module) or isinstance(weight, nn.Module):
            raise ValueError("QConfig takes observer classes or constructors "
                             "(Observer.with_args(...)), not observer instances")
        return super().__new__(cls, activation, weight)


default_qconfig = QConfig(activation=MinMaxObserver.with_args(dtype=quint8),
                          weight=default_weight_observer)
# dynamic quantization observes no activations (they are quantized per call)
default_dynamic_qconfig = QConfig(activation=None, weight=default_weight_observer)
per_channel_dynamic_qconfig = QConfig(activation=None,
                                      weight=default_per_channel_weight_observer)
# float16 weights, float32 arithmetic
float16_dynamic_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype=ember.float16, is_dynamic=True),
    weight=PlaceholderObserver.with_args(dtype=ember.float16))


def get_default_qconfig(backend="x86"):
    """The default static QConfig: min/max of the activations (uint8, affine, full range:
    ember's int8 GEMM does not saturate) and per-channel symmetric int8 weights for
    ``"x86"``/``"fbgemm"``, per-tensor weights for ``"qnnpack"``.

    Examples
    --------
    >>> from ember.quantization import get_default_qconfig
    >>> get_default_qconfig().weight.func.__name__
    'PerChannelMinMaxObserver'
    """
    activation = MinMaxObserver.with_args(dtype=quint8)
    if backend in ("x86", "fbgemm"):
        return QConfig(activation=activation, weight=default_per_channel_weight_observer)
    if backend == "qnnpack":
        return QConfig(activation=activation, weight=default_weight_observer)
    raise ValueError(f"get_default_qconfig(): unknown backend {backend!r} (expected 'x86', "
                     "'fbgemm' or 'qnnpack')")
