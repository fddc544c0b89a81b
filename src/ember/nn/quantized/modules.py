"""Statically quantized modules (``ember.nn.quantized``): they take and give quint8
per-tensor quantized tensors, with the output scale and zero point fixed at
conversion from what calibration observed.  Linear and Conv2d run on ember's int8
GEMM (Conv2d through im2col on the integers) and requantize in its epilogue."""
import ember
from ember import nn
from ember._core import _quant
from ember.nn import intrinsic
from ember.nn.quantized._packed import PackedWeightModule, quantize_weight, weight_observer
from ember.quantization._qtensor import (
    QuantizedTensor, quint8, per_tensor_affine, quantize_per_tensor,
)

__all__ = ["Quantize", "DeQuantize", "Linear", "LinearReLU", "Conv2d", "ConvReLU2d", "ReLU",
           "MaxPool2d"]


def _check_input(x, who):
    if not isinstance(x, QuantizedTensor):
        raise TypeError(f"{who} expects a quantized tensor (insert a QuantStub before it), "
                        f"got {type(x).__name__}")
    if x.dtype is not quint8 or x.qscheme() is not per_tensor_affine:
        raise RuntimeError(f"{who} expects a per-tensor ember.quint8 input, got {x.dtype!r} "
                           f"{x.qscheme()!r}")


def _output_qparams(mod):
    """``(scale, zero_point)`` from the observer that ``prepare`` put on ``mod``'s output."""
    observer = getattr(mod, "activation_post_process", None)
    if observer is None:
        raise RuntimeError(f"{type(mod).__name__} has no output observer: run "
                           "ember.quantization.prepare and calibrate before convert")
    scale, zero_point = observer.calculate_qparams()
    return float(scale.item()), int(zero_point.item())


class Quantize(nn.Module):
    """Quantizes float input to ``dtype`` with a fixed scale and zero point.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.quantized.Quantize(0.5, 1, ember.quint8)(ember.tensor([1.0])).int_repr()
    tensor([3], dtype=ember.uint8)
    """

    def __init__(self, scale, zero_point, dtype=quint8):
        super().__init__()
        self.register_buffer("scale", ember.tensor(float(scale)))
        self.register_buffer("zero_point", ember.tensor(int(zero_point)))
        self.dtype = dtype

    def forward(self, x):
        return quantize_per_tensor(x, float(self.scale), int(self.zero_point), self.dtype)

    def extra_repr(self):
        return (f"scale={float(self.scale)}, zero_point={int(self.zero_point)}, "
                f"dtype={self.dtype!r}")

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(*_output_qparams(mod), quint8)


class DeQuantize(nn.Module):
    """Returns the float32 values of a quantized input.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> q = ember.quantize_per_tensor(ember.tensor([0.5]), 0.25, 0, ember.quint8)
    >>> nn.quantized.DeQuantize()(q)
    tensor([0.5000])
    """

    def forward(self, x):
        return x.dequantize()

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls()


class _QuantizedGemmModule(PackedWeightModule):
    """A module whose output is ``requantize(dequantized input @ W^T + b)``."""

    _relu = False

    def _finish_init(self, out_shape_weight, bias):
        # the output's quantization parameters: buffers, so the state dict carries them
        self.register_buffer("scale", ember.tensor(1.0))
        self.register_buffer("zero_point", ember.tensor(0))
        self._init_weight(out_shape_weight, bias)

    def _set_output_qparams(self, scale, zero_point):
        self.scale, self.zero_point = ember.tensor(scale), ember.tensor(zero_point)

    def _output_params(self):
        return float(self.scale), int(self.zero_point)

    def _gemm(self, rows, x):
        return _quant.qgemm(rows, x.q_scale(), x.q_zero_point(), self._packed,
                            self.weight_scales, self.bias_fp32, *self._output_params(),
                            self._relu)

    def _output(self, int_repr):
        return QuantizedTensor(int_repr, quint8, per_tensor_affine, *self._output_params())

    @classmethod
    def _float_parts(cls, mod):
        """(the weighted float module, the module with the qconfig and output observer)."""
        fused = cls._FLOAT_MODULE[1]
        if isinstance(mod, fused):
            return mod[0], mod
        if isinstance(mod, cls._FLOAT_MODULE[0]):
            return mod, mod
        raise TypeError(f"{cls.__name__}.from_float() takes a {cls._FLOAT_MODULE[0].__name__} "
                        f"(or {fused.__name__}), got {type(mod).__name__}")


class Linear(_QuantizedGemmModule):
    """A statically quantized linear layer, as ``torch.ao.nn.quantized.Linear``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> q = nn.quantized.Linear(4, 2)
    >>> q
    QuantizedLinear(in_features=4, out_features=2, scale=1.0, zero_point=0, qscheme=ember.per_tensor_affine)
    """

    _FLOAT_MODULE = (nn.Linear, intrinsic.LinearReLU)

    def __init__(self, in_features, out_features, bias_=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self._finish_init((out_features, in_features), bias_)

    def _get_name(self):
        return "QuantizedLinear" + ("ReLU" if self._relu else "")

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"scale={float(self.scale)}, zero_point={int(self.zero_point)}, "
                f"qscheme={self.qscheme!r}")

    def forward(self, x):
        _check_input(x, self._get_name())
        if x.shape[-1] != self.in_features:
            raise RuntimeError(f"{self._get_name()}: input of shape {tuple(x.shape)} does not "
                               f"end in in_features={self.in_features}")
        rows = x.int_repr().reshape(-1, self.in_features)
        out = self._gemm(rows, x)
        return self._output(out.reshape(*x.shape[:-1], self.out_features))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        linear, observed = cls._float_parts(mod)
        qmod = cls(linear.in_features, linear.out_features, linear.bias is not None)
        qmod.set_weight_bias(quantize_weight(linear.weight, weight_observer(observed)),
                             linear.bias)
        qmod._set_output_qparams(*_output_qparams(observed))
        return qmod


class LinearReLU(Linear):
    """``Linear`` then ``ReLU`` in one quantized module (the ReLU clamps the
    requantized output at its zero point)."""

    _relu = True


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class Conv2d(_QuantizedGemmModule):
    """A statically quantized 2-D convolution (zero padding, groups=1), as
    ``torch.ao.nn.quantized.Conv2d``: im2col on the uint8 input (padding with its zero
    point) and the int8 GEMM.

    Examples
    --------
    >>> from ember import nn
    >>> nn.quantized.Conv2d(1, 4, 3, padding=1)
    QuantizedConv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), scale=1.0, zero_point=0)
    """

    _FLOAT_MODULE = (nn.Conv2d, intrinsic.ConvReLU2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros"):
        super().__init__()
        if groups != 1 or padding_mode != "zeros" or isinstance(padding, str):
            raise NotImplementedError(
                f"quantized Conv2d supports groups=1, numeric zero padding; got groups={groups}, "
                f"padding={padding!r}, padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self._finish_init((out_channels, in_channels) + self.kernel_size, bias)

    def _get_name(self):
        return "QuantizedConv" + ("ReLU" if self._relu else "") + "2d"

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        return s + f", scale={float(self.scale)}, zero_point={int(self.zero_point)}"

    def _columns(self, q, zero_point):
        """The input windows as rows ``(N * OH * OW, C * KH * KW)`` of uint8."""
        n, c, h, w = q.shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        (ph, pw), (dh, dw) = self.padding, self.dilation
        oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        if oh <= 0 or ow <= 0:
            raise RuntimeError(f"{self._get_name()}: input of shape {tuple(q.shape)} is "
                               f"smaller than the kernel {self.kernel_size}")
        padded = ember.full((n, c, h + 2 * ph, w + 2 * pw), zero_point, dtype=ember.uint8)
        padded[:, :, ph:ph + h, pw:pw + w] = q
        hp, wp = h + 2 * ph, w + 2 * pw
        windows = padded.as_strided(
            (n, oh, ow, c, kh, kw),
            (c * hp * wp, sh * wp, sw, hp * wp, dh * wp, dw))
        return windows.reshape(n * oh * ow, c * kh * kw), (n, oh, ow)

    def forward(self, x):
        _check_input(x, self._get_name())
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise RuntimeError(f"{self._get_name()}: expected input of shape (N, "
                               f"{self.in_channels}, H, W), got {tuple(x.shape)}")
        rows, (n, oh, ow) = self._columns(x.int_repr(), x.q_zero_point())
        out = self._gemm(rows, x)
        # (N, OH, OW, C) in memory viewed as (N, C, OH, OW): no copy
        return self._output(out.reshape(n, oh, ow, self.out_channels).permute(0, 3, 1, 2))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        conv, observed = cls._float_parts(mod)
        qmod = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                   conv.padding, conv.dilation, conv.groups, conv.bias is not None,
                   conv.padding_mode)
        qmod.set_weight_bias(quantize_weight(conv.weight, weight_observer(observed)), conv.bias)
        qmod._set_output_qparams(*_output_qparams(observed))
        return qmod


class ConvReLU2d(Conv2d):
    """``Conv2d`` then ``ReLU`` in one quantized module."""

    _relu = True


class ReLU(nn.Module):
    """ReLU on a quantized tensor: the integers clamped below at the zero point (the
    output keeps the input's scale and zero point).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> q = ember.quantize_per_tensor(ember.tensor([-1.0, 2.0]), 0.5, 4, ember.quint8)
    >>> nn.quantized.ReLU()(q).dequantize()
    tensor([0., 2.])
    """

    def forward(self, x):
        _check_input(x, "QuantizedReLU")
        q = x.int_repr()
        return x._like(ember.maximum(q, ember.full_like(q, x.q_zero_point())))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls()


class MaxPool2d(nn.MaxPool2d):
    """Max pooling of a quantized tensor on its integers (the maximum commutes with the
    increasing map from integers to values); scale and zero point are kept."""

    def forward(self, x):
        _check_input(x, "QuantizedMaxPool2d")
        pooled = super().forward(x.int_repr().to(ember.float32))
        return x._like(pooled.to(ember.uint8))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(mod.kernel_size, mod.stride, mod.padding, mod.dilation,
                   ceil_mode=mod.ceil_mode)
