"""The int8 weight shared by the quantized Linear and Conv2d modules: its integers,
scales (one per output channel, equal for a per-tensor weight) and float bias are buffers (so ``state_dict`` and
``ember.save``/``ember.load`` carry them); the panels the int8 GEMM reads are packed
from them once, and again after ``load_state_dict``."""
import ember
from ember import nn
from ember._core import _quant
from ember.quantization._qtensor import (
    QuantizedTensor, qint8, per_channel_affine, per_tensor_affine,
)


def weight_observer(mod):
    """The observer for ``mod``'s weight: its qconfig's, or PyTorch's default (per-tensor
    symmetric int8)."""
    from ember.quantization.observer import default_weight_observer
    qconfig = getattr(mod, "qconfig", None)
    return (qconfig.weight if qconfig is not None else default_weight_observer)()


def quantize_weight(weight, observer):
    """``weight`` as a qint8 QuantizedTensor with the observer's parameters, which must be
    symmetric (zero point 0): the GEMM's weights have no zero point.  A float16 observer
    (``float16_dynamic_qconfig``) asks for the weight rounded to float16 instead."""
    if getattr(observer, "dtype", None) is ember.float16:
        return weight.detach().to(ember.float16)
    observer(weight)
    scale, zero_point = observer.calculate_qparams()
    if getattr(observer, "dtype", qint8) is not qint8 or bool((zero_point != 0).any()):
        raise RuntimeError(f"quantized weights must be symmetric ember.qint8 (zero point 0), "
                           f"but the weight observer {type(observer).__name__} gives "
                           f"dtype {observer.dtype!r} and zero points {zero_point.tolist()}")
    weight = weight.detach().to(ember.float32)
    if scale.numel() == 1:
        return ember.quantize_per_tensor(weight, scale.item(), 0, qint8)
    return ember.quantize_per_channel(weight, scale, zero_point, 0, qint8)


class PackedWeightModule(nn.Module):
    """Base of modules computing with an int8 weight ``(out, in...)`` and a float bias."""

    def _init_weight(self, shape, bias):
        self.register_buffer("weight_int_repr", ember.zeros(shape, dtype=ember.int8))
        self.register_buffer("weight_scales", ember.ones(shape[0]))
        self.register_buffer("bias_fp32", ember.zeros(shape[0]) if bias else None)
        self.qscheme = per_tensor_affine
        self._pack()

    def _pack(self):
        w = self.weight_int_repr
        self._packed = _quant.PackedWeight(w.reshape(w.shape[0], -1).contiguous())

    def weight(self):
        """The quantized weight (qint8, zero point 0)."""
        if self.qscheme is per_tensor_affine:
            return QuantizedTensor(self.weight_int_repr, qint8, per_tensor_affine,
                                   self.weight_scales[0].item(), 0)
        channels = self.weight_int_repr.shape[0]
        return QuantizedTensor(self.weight_int_repr, qint8, per_channel_affine,
                               self.weight_scales.to(ember.float64),
                               ember.zeros(channels, dtype=ember.int64), 0)

    def bias(self):
        """The float32 bias (or None)."""
        return self.bias_fp32

    def set_weight_bias(self, w, b):
        """Take a qint8 QuantizedTensor weight (per tensor or per channel along dim 0,
        zero point 0) and a float bias (or None)."""
        if not isinstance(w, QuantizedTensor) or w.dtype is not qint8:
            raise RuntimeError(f"set_weight_bias(): the weight must be an ember.qint8 quantized "
                               f"tensor, but got {getattr(w, 'dtype', type(w).__name__)}")
        if tuple(w.shape) != tuple(self.weight_int_repr.shape):
            raise RuntimeError(f"set_weight_bias(): expected a weight of shape "
                               f"{tuple(self.weight_int_repr.shape)}, but got {tuple(w.shape)}")
        channels = w.shape[0]
        if w.qscheme() is per_tensor_affine:
            zero = ember.tensor([w.q_zero_point()])
            scales = ember.full((channels,), w.q_scale())
        else:
            if w.q_per_channel_axis() != 0:
                raise RuntimeError("set_weight_bias(): per-channel weights must be quantized "
                                   f"along dim 0, not {w.q_per_channel_axis()}")
            zero = w.q_per_channel_zero_points()
            scales = w.q_per_channel_scales().to(ember.float32)
        if bool((zero != 0).any()):
            raise RuntimeError("set_weight_bias(): quantized weights must have zero point 0")
        self.qscheme = w.qscheme()
        self.weight_int_repr = w.int_repr().contiguous()
        self.weight_scales = scales
        self.bias_fp32 = None if b is None else b.detach().to(ember.float32).contiguous()
        self._pack()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        # the scheme is not in the state_dict: scales that differ can only be per channel
        if bool((self.weight_scales != self.weight_scales[:1]).any()):
            self.qscheme = per_channel_affine
        self._pack()
