"""Dynamically quantized modules (``ember.nn.quantized.dynamic``): int8 weights, float
inputs and outputs; each call quantizes its input to uint8 with parameters chosen from
the input's own range and multiplies with ember's int8 GEMM.  With ``dtype=float16``
the weights are only rounded to float16, and the products are float32."""
import ember
from ember import nn
from ember._core import _quant
from ember.nn import functional as F
from ember.nn.quantized._packed import PackedWeightModule, quantize_weight, weight_observer
from ember.quantization._qtensor import qint8

__all__ = ["Linear", "LSTM"]


def _check_dtype(dtype):
    if dtype is not qint8 and dtype is not ember.float16:
        raise ValueError(f"dynamic quantization supports dtype=ember.qint8 and ember.float16, "
                         f"got {dtype!r}")


def _weight_dtype(observer):
    return ember.float16 if getattr(observer, "dtype", None) is ember.float16 else qint8


class Linear(PackedWeightModule):
    """``y = x W^T + b`` with ``W`` int8 (symmetric, one scale per output feature) and
    ``x`` quantized to uint8 per call, as ``torch.ao.nn.quantized.dynamic.Linear``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output sample.
    bias_ : bool
        Whether there is a (float32) bias.
    dtype : QuantizedDtype or dtype
        ``ember.qint8``, or ``ember.float16`` for weights rounded to float16 and
        float32 products.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> _ = ember.manual_seed(0)
    >>> q = nn.quantized.dynamic.Linear.from_float(nn.Linear(4, 3))
    >>> q
    DynamicQuantizedLinear(in_features=4, out_features=3, dtype=ember.qint8, qscheme=ember.per_tensor_affine)
    >>> q(ember.ones(2, 4)).shape
    ember.Size([2, 3])
    """

    _FLOAT_MODULE = nn.Linear

    def __init__(self, in_features, out_features, bias_=True, dtype=qint8):
        super().__init__()
        _check_dtype(dtype)
        self.in_features, self.out_features = in_features, out_features
        self.dtype = dtype
        if dtype is ember.float16:
            self.register_buffer("weight_fp16", ember.zeros(out_features, in_features,
                                                            dtype=ember.float16))
            self.register_buffer("bias_fp32", ember.zeros(out_features) if bias_ else None)
        else:
            self._init_weight((out_features, in_features), bias_)

    def _get_name(self):
        return "DynamicQuantizedLinear"

    def extra_repr(self):
        text = (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"dtype={self.dtype!r}")
        return text if self.dtype is ember.float16 else f"{text}, qscheme={self.qscheme!r}"

    def weight(self):
        """The weight: a qint8 QuantizedTensor, or float32 values rounded to float16."""
        if self.dtype is ember.float16:
            return self.weight_fp16.to(ember.float32)
        return super().weight()

    def set_weight_bias(self, w, b):
        """Take the weight (a qint8 QuantizedTensor, or a float tensor when ``dtype`` is
        ``ember.float16``) and a float bias (or None)."""
        if self.dtype is not ember.float16:
            return super().set_weight_bias(w, b)
        if tuple(w.shape) != tuple(self.weight_fp16.shape):
            raise RuntimeError(f"set_weight_bias(): expected a weight of shape "
                               f"{tuple(self.weight_fp16.shape)}, but got {tuple(w.shape)}")
        self.weight_fp16 = w.detach().to(ember.float16).contiguous()
        self.bias_fp32 = None if b is None else b.detach().to(ember.float32).contiguous()

    def _load_from_state_dict(self, *args):
        if self.dtype is ember.float16:     # nothing to pack
            return nn.Module._load_from_state_dict(self, *args)
        return super()._load_from_state_dict(*args)

    def forward(self, x):
        if not isinstance(x, ember.Tensor):
            raise TypeError(f"DynamicQuantizedLinear expects a Tensor, got {type(x).__name__}")
        if x.dim() < 2:
            raise RuntimeError(f"The dimension of input tensor should be larger than or equal "
                               f"to 2, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.in_features:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (input of shape "
                               f"{tuple(x.shape)}, weight of shape ({self.out_features}, "
                               f"{self.in_features}))")
        if self.dtype is ember.float16:
            return F.linear(x, self.weight_fp16.to(ember.float32), self.bias_fp32)
        if x.dim() == 2:
            return _quant.linear_dynamic(x, self._packed, self.weight_scales, self.bias_fp32)
        rows = x.reshape(-1, self.in_features)
        y = _quant.linear_dynamic(rows, self._packed, self.weight_scales, self.bias_fp32)
        return y.reshape(*x.shape[:-1], self.out_features)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized version of a float ``nn.Linear`` (its weight observed
        with ``mod.qconfig.weight``, by default per-tensor symmetric int8; a float16
        ``PlaceholderObserver`` gives float16 weights)."""
        if not isinstance(mod, cls._FLOAT_MODULE):
            raise TypeError(f"{cls.__name__}.from_float() takes an nn.Linear, got "
                            f"{type(mod).__name__}")
        observer = weight_observer(mod)
        qmod = cls(mod.in_features, mod.out_features, mod.bias is not None,
                   _weight_dtype(observer))
        qmod.set_weight_bias(quantize_weight(mod.weight, observer), mod.bias)
        return qmod


class LSTM(nn.Module):
    """A multi-layer LSTM with int8 weights, as ``torch.ao.nn.quantized.dynamic.LSTM``:
    the input projections of a whole sequence are one int8 GEMM per layer and
    direction, the recurrent projection one per time step; gates and states are float32.

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional
        As ``nn.LSTM`` (dropout is an inference no-op, as in PyTorch's eval mode).
    dtype : QuantizedDtype or dtype
        ``ember.qint8`` or ``ember.float16`` (see :class:`Linear`).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> _ = ember.manual_seed(0)
    >>> q = nn.quantized.dynamic.LSTM.from_float(nn.LSTM(4, 8, num_layers=2))
    >>> q
    DynamicQuantizedLSTM(4, 8, num_layers=2)
    >>> out, (h, c) = q(ember.randn(5, 3, 4))
    >>> out.shape, h.shape
    (ember.Size([5, 3, 8]), ember.Size([2, 3, 8]))
    """

    _FLOAT_MODULE = nn.LSTM

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=qint8):
        super().__init__()
        _check_dtype(dtype)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        self.dtype = dtype
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                in_size = input_size if layer == 0 else hidden_size * directions
                # the gate projections: b_ih rides with W_ih, b_hh with W_hh
                self.add_module(f"ih_l{layer}{suffix}",
                                Linear(in_size, 4 * hidden_size, bias, dtype))
                self.add_module(f"hh_l{layer}{suffix}",
                                Linear(hidden_size, 4 * hidden_size, bias, dtype))

    def _get_name(self):
        return "DynamicQuantizedLSTM"

    def __repr__(self):
        args = [str(self.input_size), str(self.hidden_size)]
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                args.append(f"{name}={getattr(self, name)}")
        return f"{self._get_name()}({', '.join(args)})"

    def _run_direction(self, x, h, c, ih, hh, reverse):
        steps, batch = x.shape[0], x.shape[1]
        proj = ih(x.reshape(steps * batch, x.shape[2])).reshape(steps, batch, -1)
        outputs = [None] * steps
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            i, f, g, o = (proj[t] + hh(h)).chunk(4, 1)
            c = ember.sigmoid(f) * c + ember.sigmoid(i) * ember.tanh(g)
            h = ember.sigmoid(o) * ember.tanh(c)
            outputs[t] = h
        return ember.stack(outputs), h, c

    def forward(self, input, hx=None):
        if not isinstance(input, ember.Tensor):
            raise TypeError(f"DynamicQuantizedLSTM expects a Tensor input (packed sequences "
                            f"are not supported), got {type(input).__name__}")
        if input.dim() not in (2, 3) or input.shape[-1] != self.input_size:
            raise RuntimeError(f"DynamicQuantizedLSTM: expected input of shape (L, N, "
                               f"{self.input_size}) or (L, {self.input_size}), got "
                               f"{tuple(input.shape)}")
        unbatched = input.dim() == 2
        x = input.unsqueeze(1) if unbatched else (
            input.transpose(0, 1) if self.batch_first else input)
        directions = 2 if self.bidirectional else 1
        state_shape = (self.num_layers * directions, x.shape[1], self.hidden_size)
        if hx is None:
            h0 = c0 = ember.zeros(state_shape)
        else:
            h0, c0 = hx
            if unbatched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            if tuple(h0.shape) != state_shape or tuple(c0.shape) != state_shape:
                raise RuntimeError(f"DynamicQuantizedLSTM: expected hidden states of shape "
                                   f"{state_shape}, got {tuple(h0.shape)} and {tuple(c0.shape)}")
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                out, h, c = self._run_direction(
                    x, h0[k], c0[k], getattr(self, f"ih_l{layer}{suffix}"),
                    getattr(self, f"hh_l{layer}{suffix}"), reverse=d == 1)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else ember.cat(outs, 2)
        h_n, c_n = ember.stack(h_n), ember.stack(c_n)
        if unbatched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized version of a float ``nn.LSTM``."""
        if not isinstance(mod, cls._FLOAT_MODULE):
            raise TypeError(f"{cls.__name__}.from_float() takes an nn.LSTM, got "
                            f"{type(mod).__name__}")
        if mod.proj_size:
            raise RuntimeError("DynamicQuantizedLSTM does not support proj_size > 0")
        qmod = cls(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first,
                   mod.dropout, mod.bidirectional, _weight_dtype(weight_observer(mod)))
        for layer in range(mod.num_layers):
            for suffix in ("", "_reverse")[:2 if mod.bidirectional else 1]:
                for kind in ("ih", "hh"):
                    weight = getattr(mod, f"weight_{kind}_l{layer}{suffix}")
                    bias = getattr(mod, f"bias_{kind}_l{layer}{suffix}") if mod.bias else None
                    getattr(qmod, f"{kind}_l{layer}{suffix}").set_weight_bias(
                        quantize_weight(weight, weight_observer(mod)), bias)
        return qmod
