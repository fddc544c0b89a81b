"""Quantized modules: ``ember.nn.quantized`` (static, quantized tensors in and out)
and ``ember.nn.quantized.dynamic`` (float in and out, int8 weights)."""
from ember.nn.quantized import dynamic
from ember.nn.quantized.modules import (
    Quantize, DeQuantize, Linear, LinearReLU, Conv2d, ConvReLU2d, ReLU, MaxPool2d,
)

__all__ = ["dynamic", "Quantize", "DeQuantize", "Linear", "LinearReLU", "Conv2d",
           "ConvReLU2d", "ReLU", "MaxPool2d"]
