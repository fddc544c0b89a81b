"""PyTorch's ``torch.utils.hooks``: the handle that removes a registered hook."""
from ember.nn.modules._hooks import RemovableHandle

__all__ = ["RemovableHandle"]
