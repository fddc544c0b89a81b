"""PyTorch's ``torch.utils._pytree`` under its name: see :mod:`ember.func._pytree`."""
from ember.func._pytree import (  # noqa: F401
    TreeSpec, tree_flatten, tree_unflatten, tree_map, tree_map_only, tree_leaves,
    tree_structure, tree_any, tree_all, register_pytree_node,
)

__all__ = ["TreeSpec", "tree_flatten", "tree_unflatten", "tree_map", "tree_map_only",
           "tree_leaves", "tree_structure", "tree_any", "tree_all", "register_pytree_node"]
