"""Observers: modules that watch the values flowing through them and compute the
quantization parameters (scale, zero point) that cover them, as
``torch.ao.quantization.observer``."""
import functools

import numpy as np

import ember
from ember import nn
from ember.quantization._qtensor import (
    qint8, quint8, per_tensor_affine, per_tensor_symmetric, per_channel_affine,
    per_channel_symmetric,
)

__all__ = ["ObserverBase", "MinMaxObserver", "MovingAverageMinMaxObserver",
           "PerChannelMinMaxObserver", "PlaceholderObserver", "default_observer",
           "default_weight_observer", "default_per_channel_weight_observer"]

_EPS = float(np.finfo(np.float32).eps)


class _PartialConstructor(functools.partial):
    """A constructor with some arguments bound (``Observer.with_args(...)``)."""

    def with_args(self, **kwargs):
        return _PartialConstructor(self.func, *self.args, **{**self.keywords, **kwargs})


class ObserverBase(nn.Module):
    """Base of the observers: ``forward`` records its input and returns it unchanged;
    ``calculate_qparams`` gives ``(scale, zero_point)`` tensors.

    Parameters
    ----------
    dtype : QuantizedDtype
        ``ember.quint8`` or ``ember.qint8``.
    qscheme : QScheme
        Affine (a zero point anywhere in range) or symmetric (zero point in the middle).
    reduce_range : bool
        Use one bit less of the range (PyTorch's option for saturating kernels; ember's
        int8 GEMM is exact, so it is never needed).
    quant_min, quant_max : int, optional
        A narrower integer range.
    eps : float
        The smallest scale.
    """

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, eps=_EPS):
        super().__init__()
        if dtype not in (quint8, qint8):
            raise ValueError(f"observers support ember.quint8 and ember.qint8, got {dtype!r}")
        self.dtype = dtype
        self.qscheme = qscheme
        self.reduce_range = reduce_range
        self.eps = eps
        if (quant_min is None) != (quant_max is None):
            raise ValueError("quant_min and quant_max must be given together")
        if quant_min is None:
            quant_min, quant_max = dtype.quant_min, dtype.quant_max
            if reduce_range:
                quant_min, quant_max = quant_min // 2, quant_max // 2
        elif not dtype.quant_min <= quant_min < quant_max <= dtype.quant_max:
            raise ValueError(f"quant_min {quant_min} and quant_max {quant_max} must satisfy "
                             f"{dtype.quant_min} <= quant_min < quant_max <= {dtype.quant_max}")
        self.quant_min, self.quant_max = quant_min, quant_max

    with_args = classmethod(lambda cls, **kwargs: _PartialConstructor(cls, **kwargs))

    def _symmetric(self):
        return self.qscheme in (per_tensor_symmetric, per_channel_symmetric)

    def _calculate_qparams(self, min_val, max_val):
        """PyTorch's ``_calculate_qparams``: scales and zero points (float32 and int64
        tensors shaped like ``min_val``) for ranges ``[min_val, max_val]``."""
        qmin, qmax = self.quant_min, self.quant_max
        min_neg = ember.minimum(min_val, ember.zeros_like(min_val))
        max_pos = ember.maximum(max_val, ember.zeros_like(max_val))
        eps = ember.full_like(min_val, self.eps)
        if self._symmetric():
            max_pos = ember.maximum(-min_neg, max_pos)
            scale = ember.maximum(max_pos / ((qmax - qmin) / 2), eps)
            middle = (qmax + qmin + 1) // 2 if self.dtype is quint8 else 0
            zero_point = ember.full(min_val.shape, middle, dtype=ember.int64)
        else:
            scale = ember.maximum((max_pos - min_neg) / float(qmax - qmin), eps)
            zero_point = (qmin - ember.round(min_neg / scale)).to(ember.int64)
            zero_point = zero_point.clamp(qmin, qmax)
        return scale, zero_point

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class MinMaxObserver(ObserverBase):
    """Tracks the running minimum and maximum of everything it sees (per tensor).

    Examples
    --------
    >>> import ember
    >>> from ember.quantization import MinMaxObserver
    >>> obs = MinMaxObserver()
    >>> _ = obs(ember.tensor([-1.0, 3.0]))
    >>> scale, zero_point = obs.calculate_qparams()
    >>> round(scale.item(), 6), zero_point.item()
    (0.015686, 64)
    """

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, eps=_EPS):
        if qscheme not in (per_tensor_affine, per_tensor_symmetric):
            raise NotImplementedError(f"MinMaxObserver is per tensor, got {qscheme!r}")
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        self.register_buffer("min_val", ember.tensor(float("inf")))
        self.register_buffer("max_val", ember.tensor(float("-inf")))

    def _update(self, lo, hi):
        self.min_val = ember.minimum(lo, self.min_val)
        self.max_val = ember.maximum(hi, self.max_val)

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(ember.float32)
        self._update(x.min(), x.max())
        return x_orig

    def calculate_qparams(self):
        """``(scale, zero_point)`` as one-element tensors."""
        if not bool(self.min_val <= self.max_val):
            raise RuntimeError(f"{type(self).__name__} has observed no values: run data "
                               "through the model before calculate_qparams()")
        scale, zero_point = self._calculate_qparams(self.min_val, self.max_val)
        return scale.reshape(1), zero_point.reshape(1)


class MovingAverageMinMaxObserver(MinMaxObserver):
    """Tracks an exponential moving average of each batch's minimum and maximum
    (``averaging_constant`` the weight of the newest batch).

    Examples
    --------
    >>> import ember
    >>> from ember.quantization import MovingAverageMinMaxObserver
    >>> obs = MovingAverageMinMaxObserver(averaging_constant=0.5)
    >>> _ = obs(ember.tensor([0.0, 2.0])); _ = obs(ember.tensor([0.0, 4.0]))
    >>> obs.max_val.item()
    3.0
    """

    def __init__(self, averaging_constant=0.01, dtype=quint8, qscheme=per_tensor_affine,
                 reduce_range=False, quant_min=None, quant_max=None, eps=_EPS):
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        self.averaging_constant = averaging_constant

    def _update(self, lo, hi):
        if not bool(self.min_val <= self.max_val):     # first batch
            self.min_val, self.max_val = lo, hi
        else:
            c = self.averaging_constant
            self.min_val = self.min_val + c * (lo - self.min_val)
            self.max_val = self.max_val + c * (hi - self.max_val)


class PerChannelMinMaxObserver(ObserverBase):
    """Tracks the minimum and maximum of each slice along ``ch_axis`` (weights: one
    scale per output channel).

    Examples
    --------
    >>> import ember
    >>> from ember.quantization import PerChannelMinMaxObserver
    >>> obs = PerChannelMinMaxObserver()
    >>> _ = obs(ember.tensor([[1.0, -2.0], [0.5, 0.25]]))
    >>> obs.calculate_qparams()[0]
    tensor([0.0157, 0.0039])
    """

    def __init__(self, ch_axis=0, dtype=qint8, qscheme=per_channel_symmetric,
                 reduce_range=False, quant_min=None, quant_max=None, eps=_EPS):
        if qscheme not in (per_channel_affine, per_channel_symmetric):
            raise NotImplementedError(f"PerChannelMinMaxObserver is per channel, got {qscheme!r}")
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        self.ch_axis = ch_axis
        self.register_buffer("min_val", ember.tensor([]))
        self.register_buffer("max_val", ember.tensor([]))

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(ember.float32).movedim(self.ch_axis, 0).flatten(1)
        lo, hi = x.amin(1), x.amax(1)
        if self.min_val.numel() == 0:
            self.min_val, self.max_val = lo, hi
        else:
            self.min_val = ember.minimum(lo, self.min_val)
            self.max_val = ember.maximum(hi, self.max_val)
        return x_orig

    def calculate_qparams(self):
        """``(scales, zero_points)``, one per channel."""
        if self.min_val.numel() == 0:
            raise RuntimeError("PerChannelMinMaxObserver has observed no values: run data "
                               "through it before calculate_qparams()")
        return self._calculate_qparams(self.min_val, self.max_val)


class PlaceholderObserver(nn.Module):
    """An observer that records nothing and only carries a dtype, as
    ``torch.ao.quantization.PlaceholderObserver``: with ``ember.float16`` it asks for
    float16 weights (``float16_dynamic_qconfig``).

    Parameters
    ----------
    dtype : dtype or QuantizedDtype, default ember.float32
    is_dynamic : bool, default False
        Whether it stands for an activation quantized per call.

    Examples
    --------
    >>> import ember
    >>> from ember.quantization import PlaceholderObserver
    >>> PlaceholderObserver.with_args(dtype=ember.float16)().dtype
    ember.float16
    """

    def __init__(self, dtype=ember.float32, custom_op_name="", compute_dtype=None,
                 quant_min=None, quant_max=None, qscheme=None, eps=None, is_dynamic=False):
        super().__init__()
        self.dtype, self.qscheme, self.is_dynamic = dtype, qscheme, is_dynamic

    with_args = classmethod(lambda cls, **kwargs: _PartialConstructor(cls, **kwargs))

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")


default_observer = MinMaxObserver.with_args(dtype=quint8)
default_weight_observer = MinMaxObserver.with_args(dtype=qint8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=qint8, qscheme=per_channel_symmetric)
