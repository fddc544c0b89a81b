"""Dynamic int8 Linear (ember's int8 GEMM) against the float32 Linear it replaces."""
import ember
from ember import nn


class DynamicLinear:
    """``Linear(1024, 1024)`` at batch 64, forward without autograd."""

    def setup(self):
        ember.manual_seed(0)
        self.float_model = nn.Sequential(nn.Linear(1024, 1024))
        self.int8_model = ember.quantization.quantize_dynamic(self.float_model, {nn.Linear})
        self.x = ember.randn(64, 1024)

    def time_float32(self):
        with ember.no_grad():
            self.float_model(self.x)

    def time_int8(self):
        self.int8_model(self.x)


class StaticConv:
    """A statically quantized 3x3 conv + ReLU (32 -> 64 channels, 8x8, batch 64)."""

    def setup(self):
        from ember.quantization import (
            DeQuantStub, QuantStub, convert, fuse_modules, get_default_qconfig, prepare)
        ember.manual_seed(0)
        model = nn.Sequential(QuantStub(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                              DeQuantStub()).eval()
        model = fuse_modules(model, [["1", "2"]])
        model.qconfig = get_default_qconfig()
        self.x = ember.rand(64, 32, 8, 8)
        prepared = prepare(model)
        with ember.no_grad():
            prepared(self.x)
        self.int8_model = convert(prepared)

    def time_int8_conv_relu(self):
        self.int8_model(self.x)
