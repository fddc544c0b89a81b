"""Normalisation layers: batch, instance, layer, group and RMS normalisation."""
import numbers

import numpy as np

import ember
from ember.autograd.function import Function
from ember.nn import functional as F
from ember.nn import init
from ember.nn.parameter import Parameter, UninitializedBuffer, UninitializedParameter
from ember.nn.modules.lazy import LazyModuleMixin
from ember.nn.modules.module import Module

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "BatchNorm1d", "BatchNorm2d", "InstanceNorm2d"]
__all__ += ["BatchNorm3d", "InstanceNorm1d", "InstanceNorm3d", "LocalResponseNorm",
            "CrossMapLRN2d"]
__all__ += ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
            "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing dimensions normalised.
    eps : float, default 1e-5
        Added to the variance.
    elementwise_affine : bool, default True
        Learn a per-element ``weight`` (ones) and ``bias`` (zeros).
    bias : bool, default True
        Learn the ``bias`` (with ``elementwise_affine``).
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.LayerNorm(4)(ember.randn(2, 4)).shape
    ember.Size([2, 4])
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ember.empty(self.normalized_shape, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(ember.empty(self.normalized_shape, device=device,
                                                  dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Set the weight to ones and the bias to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        """Normalise ``input``."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Divide by the root mean square over the trailing ``normalized_shape`` dimensions.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing dimensions normalised.
    eps : float, optional
        Added to the mean square; default the machine epsilon of the dtype it is computed
        in (float64 for a float64 input, else float32).
    elementwise_affine : bool, default True
        Learn a per-element ``weight`` (ones).
    device, dtype : optional
        Where and of what dtype the weight is created.
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ember.empty(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Set the weight to ones."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        """Normalise ``x``."""
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise groups of channels of each sample, then scale and shift each channel.

    Parameters
    ----------
    num_groups : int
        Number of groups; must divide ``num_channels``.
    num_channels : int
        Number of channels (dimension 1 of the input).
    eps : float, default 1e-5
        Added to the variance.
    affine : bool, default True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    device, dtype : optional
        Where and of what dtype the parameters are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(ember.empty(num_channels, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(ember.empty(num_channels, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Set the weight to ones and the bias to zeros."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        """Normalise ``input``."""
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _NormBase(Module):
    """Per-channel affine parameters and running statistics shared by batch/instance norm."""

    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(ember.empty(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(ember.empty(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", ember.zeros(num_features, device=device,
                                                             dtype=dtype))
            self.register_buffer("running_var", ember.ones(num_features, device=device,
                                                           dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 ember.tensor(0, dtype=ember.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Zero the running mean and batch count, set the running variance to ones."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Reset the running statistics, the weight to ones and the bias to zeros."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # state dicts from before num_batches_tracked existed (version < 2) load with the
        # current count, as in PyTorch
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats \
                and key not in state_dict:
            state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                               else ember.tensor(0, dtype=ember.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input):
        """Normalise ``input`` with batch statistics (training) or running ones (evaluation)."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with ember.no_grad():
                self.num_batches_tracked.add_(1)
            # momentum None: the running statistics are a cumulative average
            factor = (1.0 / int(self.num_batches_tracked) if self.momentum is None
                      else self.momentum)
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep_stats else None,
                            self.running_var if keep_stats else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float, default 1e-5
        Added to the variance.
    momentum : float or None, default 0.1
        Weight of the batch statistics in the running ones; None for a cumulative average.
    affine : bool, default True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        Keep ``running_mean``, ``running_var`` and ``num_batches_tracked`` buffers; without
        them batch statistics are used in evaluation mode too.
    device, dtype : optional
        Where and of what dtype the parameters and buffers are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.BatchNorm1d(3)
    >>> m(ember.randn(4, 3)).shape
    ember.Size([4, 3])
    >>> int(m.num_batches_tracked)
    1
    """

    def _check_input_dim(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` inputs.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float, default 1e-5
        Added to the variance.
    momentum : float or None, default 0.1
        Weight of the batch statistics in the running ones; None for a cumulative average.
    affine : bool, default True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        Keep ``running_mean``, ``running_var`` and ``num_batches_tracked`` buffers.
    device, dtype : optional
        Where and of what dtype the parameters and buffers are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).
    """

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class _InstanceNorm(_NormBase):
    """Instance normalisation over ``spatial_dims`` trailing dims (the base of
    ``InstanceNorm1d/2d/3d``, as in PyTorch: none of them is an instance of another)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        """Normalise each channel of each sample over its spatial dimensions."""
        batched = self.spatial_dims + 2
        if input.dim() not in (batched - 1, batched):
            raise ValueError(f"expected {batched - 1}D or {batched}D input (got {input.dim()}D "
                             "input)")
        unbatched = input.dim() == batched - 1
        if unbatched:
            input = input.unsqueeze(0)
        output = F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                                 self.bias, self.training or not self.track_running_stats,
                                 self.momentum if self.momentum is not None else 0.0, self.eps)
        return output.squeeze(0) if unbatched else output


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` inputs.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float, default 1e-5
        Added to the variance.
    momentum : float or None, default 0.1
        Weight of the instance statistics in the running ones.
    affine : bool, default False
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default False
        Keep running statistics and use them in evaluation mode.
    device, dtype : optional
        Where and of what dtype the parameters and buffers are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).
    """

    spatial_dims = 2


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``(N, C, D, H, W)`` inputs.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float, default 1e-5
        Added to the variance.
    momentum : float or None, default 0.1
        Weight of the batch statistics in the running ones (None: cumulative average).
    affine : bool, default True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        Keep running statistics and use them in evaluation mode.
    device, dtype : optional
        Where and of what dtype the parameters and buffers are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).
    """

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or ``(C, L)`` inputs.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float, default 1e-5
        Added to the variance.
    momentum : float or None, default 0.1
        Weight of the instance statistics in the running ones.
    affine : bool, default False
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default False
        Keep running statistics and use them in evaluation mode.
    device, dtype : optional
        Where and of what dtype the parameters and buffers are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).
    """

    spatial_dims = 1


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float, default 1e-5
        Added to the variance.
    momentum : float or None, default 0.1
        Weight of the instance statistics in the running ones.
    affine : bool, default False
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default False
        Keep running statistics and use them in evaluation mode.
    device, dtype : optional
        Where and of what dtype the parameters and buffers are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).
    """

    spatial_dims = 3


class LocalResponseNorm(Module):
    """Local response normalisation across channels (see
    :func:`ember.nn.functional.local_response_norm`).

    Parameters
    ----------
    size : int
        Number of neighbouring channels in the window.
    alpha : float, default 1e-4
        Scale.
    beta : float, default 0.75
        Exponent.
    k : float, default 1.0
        Additive constant.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        """Normalise ``input``."""
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _channel_windows(channels, lows, highs, like):
    """The ``(C, C)`` 0/1 matrix whose row ``c`` selects channels ``lows[c]..highs[c]``."""
    cols = np.arange(channels)[None, :]
    mask = (cols >= np.asarray(lows)[:, None]) & (cols <= np.asarray(highs)[:, None])
    return ember.tensor(mask, dtype=like.dtype, device=like.device)


def _over_channels(matrix, x):
    """``matrix`` (C, C) applied along dim 1 of the ``(N, C, H, W)`` tensor ``x``."""
    return (x.permute(0, 2, 3, 1) @ matrix.t()).permute(0, 3, 1, 2)


class _CrossMapLRN2dFunction(Function):
    """torch's legacy cross-map LRN, window for window: the forward's running window
    keeps channel 0 (it subtracts a channel only past ``pre_pad``) and the backward
    uses its own ``size``-wide window, so the gradient is torch's, not the forward's."""

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             f"instead.")
        channels = input.shape[1]
        pre_pad = int((size - 1) / 2 + 1)
        # channel c sums channels lo..hi, plus channel 0 once the window has left it
        highs = [min(c + pre_pad - 1, channels - 1) for c in range(channels)]
        lows = [c - pre_pad + 1 if c > pre_pad else 0 for c in range(channels)]
        window = _channel_windows(channels, lows, highs, input)
        squares = input * input
        scale = _over_channels(window, squares)
        late = [c for c in range(channels) if c > pre_pad]
        if late:
            scale[:, late] += squares[:, :1]
        scale = scale * (alpha / size) + k
        output = input * scale.pow(-beta)
        ctx.save_for_backward(input, output, scale)
        ctx.params = size, alpha, beta
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, output, scale = ctx.saved_tensors
        size, alpha, beta = ctx.params
        channels = input.shape[1]
        inverse_pre_pad = int(size - (size - 1) / 2)
        window = _channel_windows(channels, [c - inverse_pre_pad for c in range(channels)],
                                  [c + size - 1 - inverse_pre_pad for c in range(channels)],
                                  input)
        ratio = _over_channels(window, grad_output * output / scale)
        grad = scale.pow(-beta) * grad_output - (2 * alpha * beta / size) * input * ratio
        return grad, None, None, None, None


class CrossMapLRN2d(Module):
    """PyTorch's legacy local response normalisation across the channels of a 4-d input,
    with its exact windows and hand-written gradient (:class:`LocalResponseNorm` is the
    usual form).  As PyTorch's, that gradient is not in general the forward's: its
    window over the channels is not the forward's window.

    Parameters
    ----------
    size : int
        Number of neighbouring channels in the window.
    alpha : float, default 1e-4
    beta : float, default 0.75
    k : float, default 1

    Examples
    --------
    >>> import ember
    >>> lrn = ember.nn.CrossMapLRN2d(3, alpha=1.0, beta=1.0, k=1.0)
    >>> lrn(ember.ones(1, 2, 1, 1)).flatten()
    tensor([0.6000, 0.6000])
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        """Normalise ``input`` ``(N, C, H, W)``."""
        return _CrossMapLRN2dFunction.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _LazyNormBase(LazyModuleMixin):
    """``num_features`` inferred from the first input's ``shape[1]``."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        # no features, affine or statistics yet: the base allocates nothing
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = ember.tensor(0, dtype=ember.int64, device=device)

    def reset_parameters(self):
        """Reset as the ordinary module does, once the parameters are materialised."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Infer ``num_features`` from ``input`` and materialise and initialise the
        parameters and running statistics."""
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            for tensor in (self.weight, self.bias, self.running_mean, self.running_var):
                if tensor is not None:
                    tensor.materialize((self.num_features,))
            self.reset_parameters()


_LAZY_DOC = """:class:`{base}` with ``num_features`` inferred from the first input's
    ``shape[1]``; the module then becomes a ``{base}`` (see
    :class:`~ember.nn.modules.lazy.LazyModuleMixin`).

    Parameters
    ----------
    eps : float, default 1e-5
        Added to the variance.
    momentum : float or None, default 0.1
        Weight of the new statistics in the running ones.
    affine : bool, default True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        Keep running statistics (:class:`~ember.nn.UninitializedBuffer` until the first
        forward).
    device, dtype : optional
        Where and of what dtype the parameters and buffers are created.
    bias : bool, default True
        Learn the ``bias`` (with ``affine``).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Lazy{base}()
    >>> m(ember.randn({example})).shape, type(m).__name__, m.num_features
    (ember.Size([{example}]), '{base}', 3)
    """


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    __doc__ = _LAZY_DOC.format(base="BatchNorm1d", example="4, 3")
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    __doc__ = _LAZY_DOC.format(base="BatchNorm2d", example="4, 3, 2, 2")
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    __doc__ = _LAZY_DOC.format(base="BatchNorm3d", example="4, 3, 2, 2, 2")
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    __doc__ = _LAZY_DOC.format(base="InstanceNorm1d", example="4, 3, 5")
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    __doc__ = _LAZY_DOC.format(base="InstanceNorm2d", example="4, 3, 5, 5")
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    __doc__ = _LAZY_DOC.format(base="InstanceNorm3d", example="4, 3, 2, 5, 5")
    cls_to_become = InstanceNorm3d
