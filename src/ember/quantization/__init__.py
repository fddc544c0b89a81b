"""int8 quantization: dynamic (``quantize_dynamic``) and post-training static
(``prepare``, calibration, ``convert``), on ember's int8 GEMM; quantized dtypes and
tensors.  The API follows ``torch.ao.quantization``."""
from ember.quantization._qtensor import (
    QuantizedDtype, QuantizedTensor, qint8, quint8, qint32, quantize_per_tensor,
    quantize_per_channel, dequantize, per_tensor_affine, per_channel_affine,
    per_tensor_symmetric, per_channel_symmetric,
)
from ember.quantization.observer import (
    ObserverBase, MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
    PlaceholderObserver, default_observer, default_weight_observer, default_per_channel_weight_observer,
)
from ember.quantization.qconfig import (
    QConfig, get_default_qconfig, default_qconfig, default_dynamic_qconfig,
    per_channel_dynamic_qconfig, float16_dynamic_qconfig,
)
from ember.quantization.quantize import (
    quantize_dynamic, fuse_modules, prepare, convert, QuantStub, DeQuantStub,
)

__all__ = [
    "QuantizedDtype", "QuantizedTensor", "qint8", "quint8", "qint32", "quantize_per_tensor",
    "quantize_per_channel", "dequantize", "per_tensor_affine", "per_channel_affine",
    "per_tensor_symmetric", "per_channel_symmetric",
    "ObserverBase", "MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
    "PlaceholderObserver", "default_observer", "default_weight_observer", "default_per_channel_weight_observer",
    "QConfig", "get_default_qconfig", "default_qconfig", "default_dynamic_qconfig",
    "per_channel_dynamic_qconfig", "float16_dynamic_qconfig",
    "quantize_dynamic", "fuse_modules", "prepare", "convert", "QuantStub", "DeQuantStub",
]
