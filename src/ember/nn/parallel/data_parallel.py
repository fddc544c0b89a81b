"""``DataParallel``: PyTorch's single-process data-parallel wrapper, for no GPU or one.

Without a GPU it only wraps the module (the forward passes through); with one device
the module lives on it and the inputs are moved there, as PyTorch does with one
device.  Splitting a batch over several GPUs needs the module replicated on each with
its gradients summed back: ember leaves that to :class:`DistributedDataParallel` and
refuses more than one device.
"""
import itertools

import ember
from ember.nn.modules.module import Module

__all__ = ["DataParallel"]


def _cuda_index(device):
    """The ordinal of a device given as an int, ``'cuda:N'`` or an ``ember.device``."""
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    device = ember.device(device)
    if device.type != "cuda":
        raise ValueError(f"DataParallel: expected a cuda device, got {device}")
    return ember.cuda.current_device() if device.index is None else device.index


def _moved(obj, device):
    """``obj`` with every tensor inside (tuples, lists, dicts) moved to ``device``."""
    if isinstance(obj, ember.Tensor):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):     # a namedtuple
        return type(obj)(*(_moved(o, device) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_moved(o, device) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((key, _moved(value, device)) for key, value in obj.items())
    return obj


class DataParallel(Module):
    """Wrap ``module`` for data parallelism in one process, with PyTorch's semantics for
    no GPU or one: the wrapped module is ``.module`` (so state-dict keys gain the prefix
    ``module.``), the forward passes straight through without a GPU, and with one device
    the module is moved to it and each forward's tensors are moved there too.

    Parameters
    ----------
    module : Module
    device_ids : list of int, str or ember.device, optional
        Default: every visible GPU (none without CUDA).  At most one: several GPUs raise
        NotImplementedError (use :class:`DistributedDataParallel`).
    output_device : int, str or ember.device, optional
        Default: ``device_ids[0]``.
    dim : int, default 0
        The batch dimension.

    Examples
    --------
    >>> import ember
    >>> model = ember.nn.DataParallel(ember.nn.Linear(3, 2))
    >>> model(ember.ones(4, 3)).shape
    ember.Size([4, 2])
    >>> sorted(model.state_dict())
    ['module.bias', 'module.weight']
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.dim = dim
        if not ember.cuda.is_available():
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(ember.cuda.device_count()))
        self.device_ids = [_cuda_index(d) for d in device_ids]
        if len(self.device_ids) > 1:
            raise NotImplementedError(
                f"ember.nn.DataParallel runs on one device; got device_ids={self.device_ids}. "
                f"Pass device_ids=[0] or use ember.nn.parallel.DistributedDataParallel "
                f"(one process per GPU)")
        if not self.device_ids:
            return
        self.output_device = _cuda_index(self.device_ids[0] if output_device is None
                                         else output_device)
        self.src_device_obj = ember.device("cuda", self.device_ids[0])
        module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        """Run the module; with a device, on ``inputs`` and ``kwargs`` moved to it."""
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in itertools.chain(self.module.parameters(), self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device "
                                   f"{self.src_device_obj} (device_ids[0]) but found one of "
                                   f"them on device: {t.device}")
        return self.module(*_moved(inputs, self.src_device_obj),
                           **_moved(kwargs, self.src_device_obj))
