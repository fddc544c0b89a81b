"""Quantized dtypes and tensors: ``ember.qint8``, ``ember.quint8``, ``ember.qint32``.

A quantized tensor holds integers ``q`` (its ``int_repr()``) that stand for the real
values ``(q - zero_point) * scale``: one scale and zero point for the whole tensor
(``per_tensor_affine``) or one per slice along an axis (``per_channel_affine``), as
PyTorch's quantized tensors.  Quantizing rounds half to even and saturates at the
dtype's range.
"""
import ember

__all__ = ["QuantizedDtype", "QuantizedTensor", "qint8", "quint8", "qint32",
           "quantize_per_tensor", "quantize_per_channel", "dequantize",
           "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
           "per_channel_symmetric"]


class QuantizedDtype:
    """A quantized element type: integers of ``int_dtype`` in ``[quant_min, quant_max]``.

    Examples
    --------
    >>> import ember
    >>> ember.qint8, ember.qint8.quant_min, ember.qint8.quant_max
    (ember.qint8, -128, 127)
    """

    is_quantized = True
    is_floating_point = False
    is_complex = False

    def __init__(self, name, int_dtype, quant_min, quant_max):
        self.name = name
        self.int_dtype = int_dtype
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.itemsize = int_dtype.itemsize

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):
        return self.name


qint8 = QuantizedDtype("qint8", ember.int8, -128, 127)
quint8 = QuantizedDtype("quint8", ember.uint8, 0, 255)
qint32 = QuantizedDtype("qint32", ember.int32, -(1 << 31), (1 << 31) - 1)


class QScheme:
    """A quantization scheme (``ember.per_tensor_affine``, ...), as ``torch.qscheme``."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):
        return self.name


per_tensor_affine = QScheme("per_tensor_affine")
per_channel_affine = QScheme("per_channel_affine")
per_tensor_symmetric = QScheme("per_tensor_symmetric")
per_channel_symmetric = QScheme("per_channel_symmetric")


def _check_float(input, fname):
    if not isinstance(input, ember.Tensor):
        raise TypeError(f"{fname}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{fname}(): expected a floating point input, but got {input.dtype}")


def _check_qdtype(dtype, fname):
    if not isinstance(dtype, QuantizedDtype):
        raise RuntimeError(f"{fname}(): dtype must be ember.qint8, ember.quint8 or "
                           f"ember.qint32, but got {dtype}")


def _quantize(x, scale, zero_point, dtype):
    """``clamp(round_half_even(x * (1 / scale) + zero_point))`` as ``dtype.int_dtype``,
    in float32 with the reciprocal of the float32 scale and the zero point added before
    rounding (PyTorch's arithmetic, so the integers are the same); ``scale`` and
    ``zero_point`` are numbers or tensors broadcasting against ``x``."""
    scale = scale if isinstance(scale, ember.Tensor) else ember.tensor(scale)
    inverse = 1.0 / scale.to(ember.float32)
    q = ember.round(x.to(ember.float32) * inverse + zero_point)
    return q.clamp(dtype.quant_min, dtype.quant_max).to(dtype.int_dtype)


class QuantizedTensor:
    """Integers with a scale and zero point standing for real values (see the module
    docstring); made by :func:`quantize_per_tensor` and :func:`quantize_per_channel`.

    Examples
    --------
    >>> import ember
    >>> q = ember.quantize_per_tensor(ember.tensor([-1.0, 0.0, 0.5]), 0.5, 2, ember.quint8)
    >>> q.int_repr()
    tensor([0, 2, 3], dtype=ember.uint8)
    >>> q.dequantize()
    tensor([-1.0000,  0.0000,  0.5000])
    """

    is_quantized = True

    def __init__(self, int_repr, dtype, qscheme, scale, zero_point, axis=None):
        self._int_repr = int_repr
        self.dtype = dtype
        self._qscheme = qscheme
        self._scale = scale            # float, or a float64 tensor per channel
        self._zero_point = zero_point  # int, or an int64 tensor per channel
        self._axis = axis

    # --- the parameters, with PyTorch's accessors
    def int_repr(self):
        """The integers, as a tensor of ``dtype.int_dtype``."""
        return self._int_repr

    def qscheme(self):
        return self._qscheme

    def _per_tensor(self, what):
        if self._qscheme is not per_tensor_affine:
            raise RuntimeError(f"{what}() is only for per-tensor quantized tensors, but this "
                               f"one is {self._qscheme!r}")

    def _per_channel(self, what):
        if self._qscheme is not per_channel_affine:
            raise RuntimeError(f"{what}() is only for per-channel quantized tensors, but this "
                               f"one is {self._qscheme!r}")

    def q_scale(self):
        self._per_tensor("q_scale")
        return self._scale

    def q_zero_point(self):
        self._per_tensor("q_zero_point")
        return self._zero_point

    def q_per_channel_scales(self):
        self._per_channel("q_per_channel_scales")
        return self._scale

    def q_per_channel_zero_points(self):
        self._per_channel("q_per_channel_zero_points")
        return self._zero_point

    def q_per_channel_axis(self):
        self._per_channel("q_per_channel_axis")
        return self._axis

    def _channel_shape(self):
        shape = [1] * self._int_repr.dim()
        shape[self._axis] = -1
        return shape

    def dequantize(self):
        """The real values ``(q - zero_point) * scale`` as float32."""
        q = self._int_repr.to(ember.float32)
        if self._qscheme is per_tensor_affine:
            return (q - self._zero_point) * self._scale
        shape = self._channel_shape()
        return ((q - self._zero_point.reshape(shape).to(ember.float32))
                * self._scale.reshape(shape).to(ember.float32))

    # --- shape, and the shape ops that keep per-tensor parameters
    @property
    def shape(self):
        return self._int_repr.shape

    def size(self, dim=None):
        return self._int_repr.size() if dim is None else self._int_repr.size(dim)

    def dim(self):
        return self._int_repr.dim()

    def numel(self):
        return self._int_repr.numel()

    @property
    def device(self):
        return self._int_repr.device

    def _like(self, int_repr):
        self._per_tensor("this shape operation")
        return QuantizedTensor(int_repr, self.dtype, self._qscheme, self._scale,
                               self._zero_point)

    def reshape(self, *shape):
        return self._like(self._int_repr.reshape(*shape))

    def flatten(self, start_dim=0, end_dim=-1):
        return self._like(self._int_repr.flatten(start_dim, end_dim))

    def contiguous(self):
        return self._like(self._int_repr.contiguous())

    def __len__(self):
        return len(self._int_repr)

    def __repr__(self):
        values = repr(self.dequantize())
        head = values[:values.rindex(")")] if values.endswith(")") else values
        if self._qscheme is per_tensor_affine:
            params = f"scale={self._scale}, zero_point={self._zero_point}"
        else:
            params = (f"scale={self._scale!r}, zero_point={self._zero_point!r}, "
                      f"axis={self._axis}")
        return (f"{head}, size={tuple(self.shape)}, dtype={self.dtype!r},\n"
                f"       quantization_scheme={self._qscheme!r}, {params})")


def quantize_per_tensor(input, scale, zero_point, dtype):
    """Quantize ``input`` with one ``scale`` and ``zero_point``: ``q = clamp(round(x /
    scale) + zero_point)`` in ``dtype``'s range (as ``torch.quantize_per_tensor``).

    Parameters
    ----------
    input : Tensor
        Floating point values.
    scale : float
        Positive step between quantized values.
    zero_point : int
        The integer standing for real zero.
    dtype : QuantizedDtype
        ``ember.quint8``, ``ember.qint8`` or ``ember.qint32``.

    Returns
    -------
    QuantizedTensor

    Examples
    --------
    >>> import ember
    >>> q = ember.quantize_per_tensor(ember.tensor([0.1, 0.26, 9.0]), 0.1, 0, ember.qint8)
    >>> q.int_repr(), q.q_scale(), q.q_zero_point()
    (tensor([ 1,  3, 90], dtype=ember.int8), 0.1, 0)
    """
    _check_float(input, "quantize_per_tensor")
    _check_qdtype(dtype, "quantize_per_tensor")
    scale, zero_point = float(scale), int(zero_point)
    if not scale > 0:
        raise RuntimeError(f"quantize_per_tensor(): scale must be positive, but got {scale}")
    if not dtype.quant_min <= zero_point <= dtype.quant_max:
        raise RuntimeError(f"quantize_per_tensor(): zero_point {zero_point} is out of the "
                           f"range [{dtype.quant_min}, {dtype.quant_max}] of {dtype!r}")
    return QuantizedTensor(_quantize(input, scale, zero_point, dtype), dtype,
                           per_tensor_affine, scale, zero_point)


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """Quantize ``input`` with one scale and zero point per slice along ``axis`` (as
    ``torch.quantize_per_channel``).

    Parameters
    ----------
    input : Tensor
        Floating point values.
    scales : Tensor
        ``input.shape[axis]`` positive scales.
    zero_points : Tensor
        ``input.shape[axis]`` integer zero points.
    axis : int
        The channel dimension.
    dtype : QuantizedDtype
        ``ember.quint8``, ``ember.qint8`` or ``ember.qint32``.

    Returns
    -------
    QuantizedTensor

    Examples
    --------
    >>> import ember
    >>> w = ember.tensor([[1.0, -2.0], [0.3, 0.1]])
    >>> q = ember.quantize_per_channel(w, ember.tensor([0.02, 0.01]), ember.tensor([0, 0]),
    ...                                0, ember.qint8)
    >>> q.int_repr()
    tensor([[  50, -100],
            [  30,   10]], dtype=ember.int8)
    """
    _check_float(input, "quantize_per_channel")
    _check_qdtype(dtype, "quantize_per_channel")
    if not isinstance(scales, ember.Tensor) or not isinstance(zero_points, ember.Tensor):
        raise TypeError("quantize_per_channel(): scales and zero_points must be Tensors")
    axis = axis + input.dim() if axis < 0 else axis
    if not 0 <= axis < input.dim():
        raise IndexError(f"quantize_per_channel(): axis {axis} is out of range for a "
                         f"{input.dim()}-D input")
    channels = input.shape[axis]
    if scales.shape != (channels,) or zero_points.shape != (channels,):
        raise RuntimeError(f"quantize_per_channel(): expected {channels} scales and zero "
                           f"points (input.shape[{axis}]), but got {tuple(scales.shape)} and "
                           f"{tuple(zero_points.shape)}")
    scales = scales.to(ember.float64)
    zero_points = zero_points.to(ember.int64)
    shape = [1] * input.dim()
    shape[axis] = -1
    q = _quantize(input, scales.to(ember.float32).reshape(shape),
                  zero_points.reshape(shape).to(ember.float32), dtype)
    return QuantizedTensor(q, dtype, per_channel_affine, scales, zero_points, axis)


def dequantize(input):
    """The real values of a quantized tensor as float32 (a float tensor is returned as
    is, as ``torch.dequantize``).

    Examples
    --------
    >>> import ember
    >>> ember.dequantize(ember.quantize_per_tensor(ember.tensor([0.3]), 0.25, 0, ember.qint8))
    tensor([0.2500])
    """
    if isinstance(input, QuantizedTensor):
        return input.dequantize()
    if isinstance(input, ember.Tensor):
        return input
    raise TypeError(f"dequantize(): expected a Tensor, but got {type(input).__name__}")
