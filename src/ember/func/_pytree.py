"""Nested containers of tensors ("pytrees"), as ``torch.utils._pytree`` sees them.

Tuples, lists, dicts (in insertion order) and namedtuples are containers; anything
else, ``None`` included, is a leaf.  A :class:`TreeSpec` records the structure so
that the leaves can be put back: the transforms flatten their arguments and
outputs, work on the flat list of tensors, and unflatten the results.
"""

__all__ = ["TreeSpec", "tree_flatten", "tree_unflatten", "tree_map", "broadcast_to_and_flatten"]


class TreeSpec:
    """The structure of a pytree: its container type, dict keys, and children's specs
    (a leaf has type None and no children)."""

    __slots__ = ("type", "context", "children", "num_leaves")

    def __init__(self, type_=None, context=None, children=()):
        self.type = type_
        self.context = context
        self.children = tuple(children)
        self.num_leaves = 1 if type_ is None else sum(c.num_leaves for c in self.children)

    def is_leaf(self):
        return self.type is None

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.type is other.type
                and self.context == other.context and self.children == other.children)

    def __hash__(self):
        return hash((self.type, self.children))

    def __repr__(self, indent=0):
        # PyTorch's form: ``*`` for a leaf, ``TreeSpec(type, context, [children])``
        if self.type is None:
            return "*"
        indent += 2
        children = (",\n" + " " * indent).join(c.__repr__(indent) for c in self.children)
        return f"TreeSpec({self.type.__name__}, {self.context}, [{children}])"

    def pprint(self):
        """The structure written as the container it describes, ``*`` for each leaf
        (PyTorch's ``treespec_pprint``)."""
        return repr(tree_unflatten([_Star()] * self.num_leaves, self))


class _Star:
    def __repr__(self):
        return "*"


_LEAF = TreeSpec()


def _children(tree):
    """``(type, context, children)`` of a container, or None for a leaf."""
    if isinstance(tree, tuple):
        kind = tuple if type(tree) is tuple else (type(tree) if hasattr(tree, "_fields")
                                                  else None)
        if kind is not None:
            return kind, None, list(tree)
    elif type(tree) is list:
        return list, None, tree
    elif isinstance(tree, dict):
        return dict, list(tree.keys()), list(tree.values())
    return None


def tree_flatten(tree):
    """``(leaves, spec)``: the leaves of ``tree`` in order, and its structure."""
    leaves = []

    def walk(node):
        parts = _children(node)
        if parts is None:
            leaves.append(node)
            return _LEAF
        kind, context, children = parts
        return TreeSpec(kind, context, [walk(c) for c in children])

    return leaves, walk(tree)


def tree_unflatten(leaves, spec):
    """The pytree of structure ``spec`` holding ``leaves``."""
    it = iter(leaves)

    def build(s):
        if s.type is None:
            return next(it)
        children = [build(c) for c in s.children]
        if s.type is dict:
            return dict(zip(s.context, children))
        if s.type is tuple or s.type is list:
            return s.type(children)
        return s.type(*children)        # a namedtuple

    return build(spec)


def tree_map(fn, tree):
    """``tree`` with ``fn`` applied to each leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_to_and_flatten(tree, spec):
    """One leaf of ``tree`` per leaf of ``spec``, a leaf of ``tree`` standing for the
    whole subtree of ``spec`` below it (as ``in_dims`` and ``out_dims`` are read);
    None when the structures do not match."""
    parts = _children(tree)
    if parts is None:
        return [tree] * spec.num_leaves
    kind, context, children = parts
    if kind is not spec.type or context != spec.context or len(children) != len(spec.children):
        return None
    out = []
    for child, child_spec in zip(children, spec.children):
        flat = broadcast_to_and_flatten(child, child_spec)
        if flat is None:
            return None
        out += flat
    return out
