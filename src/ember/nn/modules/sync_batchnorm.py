"""``SyncBatchNorm``: batch normalisation whose statistics cover the whole batch of every
rank of a process group, as ``torch.nn.SyncBatchNorm``.

In training under an initialized process group of more than one rank, each forward
all-reduces the per-channel sums, sums of squares and counts, so every rank normalises
with the global mean and variance (and updates its running statistics with them); the
backward all-reduces the per-channel sums of the gradient and of ``grad * (x - mean)``,
so the input gradient is that of one batch norm over the whole batch.  The weight and
bias gradients stay local: DistributedDataParallel averages them as it does every
parameter's.  Otherwise (evaluation, one rank, no process group) it is ``BatchNorm``.
"""
import ember
from ember import distributed as dist
from ember.autograd.function import Function
from ember.nn.modules.normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


def _channel_view(t, ndim):
    """A per-channel vector shaped to broadcast over an ``ndim``-d (N, C, ...) input."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


class _SyncBatchNormFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, momentum, group):
        dims = (0,) + tuple(range(2, input.dim()))
        x = input.double()          # the sums in float64: the variance is E[x^2] - E[x]^2
        local = ember.cat([x.sum(dims), (x * x).sum(dims),
                           ember.tensor([input.numel() // input.shape[1]], dtype=ember.float64)])
        dist.all_reduce(local, group=group)
        channels = input.shape[1]
        count = float(local[-1])
        mean = local[:channels] / count
        var = (local[channels:2 * channels] / count - mean * mean).clamp(min=0)
        if running_mean is not None:
            unbiased = var * (count / (count - 1)) if count > 1 else var
            running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype) * momentum)
            running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)
        mean, invstd = mean.to(input.dtype), (var + eps).rsqrt().to(input.dtype)
        xhat = (input - _channel_view(mean, input.dim())) * _channel_view(invstd, input.dim())
        ctx.save_for_backward(xhat, weight, invstd)
        ctx.group, ctx.count, ctx.dims = group, count, dims
        if weight is not None:
            xhat = xhat * _channel_view(weight, input.dim())
        if bias is not None:
            xhat = xhat + _channel_view(bias, input.dim())
        return xhat

    @staticmethod
    def backward(ctx, grad):
        xhat, weight, invstd = ctx.saved_tensors
        ndim = grad.dim()
        sum_dy = grad.sum(ctx.dims)
        sum_dy_xhat = (grad * xhat).sum(ctx.dims)
        grad_weight = sum_dy_xhat if weight is not None and ctx.needs_input_grad[1] else None
        grad_bias = sum_dy if ctx.needs_input_grad[2] else None
        grad_input = None
        if ctx.needs_input_grad[0]:
            both = ember.cat([sum_dy, sum_dy_xhat])
            dist.all_reduce(both, group=ctx.group)
            mean_dy, mean_dy_xhat = (both / ctx.count).chunk(2)
            scale = invstd if weight is None else invstd * weight
            grad_input = (grad - _channel_view(mean_dy, ndim)
                          - xhat * _channel_view(mean_dy_xhat, ndim)) * _channel_view(scale, ndim)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over the batch of every rank of ``process_group``.

    Parameters
    ----------
    num_features : int
        Number of channels ``C`` of the ``(N, C, ...)`` input.
    eps : float, default 1e-5
    momentum : float or None, default 0.1
    affine : bool, default True
    track_running_stats : bool, default True
    process_group : ProcessGroup, optional
        The ranks whose batches are normalised together (default: the whole world).
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    >>> type(model[1]).__name__
    'SyncBatchNorm'
    >>> model(ember.randn(2, 1, 5, 5)).shape      # no process group: plain batch norm
    ember.Size([2, 4, 3, 3])
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _world_size(self):
        if not dist.is_initialized():
            return 1
        return dist.get_world_size(self.process_group)

    def forward(self, input):
        """Normalise ``input``, with the statistics of every rank's batch in training."""
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"expected input with {self.num_features} channels, got "
                             f"{input.shape[1]}")
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        if not use_batch_stats or self._world_size() == 1:
            return super().forward(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with ember.no_grad():
                self.num_batches_tracked.add_(1)
            factor = (1.0 / int(self.num_batches_tracked) if self.momentum is None
                      else self.momentum)
        keep_stats = self.training and self.track_running_stats
        running = (self.running_mean, self.running_var) if keep_stats else (None, None)
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, *running, self.eps,
                                            factor, self.process_group)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every batch-norm layer replaced by a :class:`SyncBatchNorm`
        holding the same parameters, buffers and mode (the module itself when it is one).

        Parameters
        ----------
        module : Module
        process_group : ProcessGroup, optional

        Returns
        -------
        Module
        """
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            if module.affine:
                with ember.no_grad():
                    converted.weight = module.weight
                    converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
            if hasattr(module, "qconfig"):
                converted.qconfig = module.qconfig
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return converted
