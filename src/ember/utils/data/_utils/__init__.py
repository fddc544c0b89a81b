"""PyTorch's ``torch.utils.data._utils`` path, kept because PyTorch's documentation of
:func:`~ember.utils.data.default_collate` extends it from here (``from
torch.utils.data._utils.collate import collate, default_collate_fn_map``)."""
from ember.utils.data._utils import collate

__all__ = ["collate"]
