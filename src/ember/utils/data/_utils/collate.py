"""``collate``, ``default_collate_fn_map`` and the default collate functions under
PyTorch's ``torch.utils.data._utils.collate`` path: registering a type in
``default_collate_fn_map`` here changes what :func:`ember.utils.data.default_collate`
does, as in PyTorch."""
from ember.utils.data._collate import (
    collate, default_collate, default_collate_fn_map, default_convert,
)

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]
