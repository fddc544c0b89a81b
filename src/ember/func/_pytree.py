"""Nested containers of tensors ("pytrees"), as ``torch.utils._pytree`` sees them.

Tuples, lists, dicts (in insertion order), namedtuples, ``OrderedDict``,
``defaultdict``, ``deque`` and the types given to :func:`register_pytree_node` are
containers; anything else, ``None`` included, is a leaf.  A :class:`TreeSpec` records
the structure so that the leaves can be put back: the transforms flatten their
arguments and outputs, work on the flat list of tensors, and unflatten the results.
(``ember.utils._pytree`` is this module under PyTorch's name.)
"""
import collections

__all__ = ["TreeSpec", "tree_flatten", "tree_unflatten", "tree_map", "tree_map_only",
           "tree_leaves", "tree_structure", "tree_any", "tree_all", "register_pytree_node",
           "broadcast_to_and_flatten"]


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
        if issubclass(self.type, tuple) and self.type is not tuple:
            # a namedtuple: PyTorch names the kind and gives the class as context
            return f"TreeSpec(namedtuple, {self.type!r}, [{children}])"
        return f"TreeSpec({self.type.__name__}, {self.context}, [{children}])"

    def pprint(self):
        """The structure written as the container it describes, ``*`` for each leaf
        (PyTorch's ``treespec_pprint``)."""
        return repr(tree_unflatten([_Star()] * self.num_leaves, self))


class _Star:
    def __repr__(self):
        return "*"


_LEAF = TreeSpec()


# container type -> (flatten: node -> (children, context), unflatten: (children, context) -> node)
_NODES = {
    collections.OrderedDict: (lambda d: (list(d.values()), list(d.keys())),
                              lambda values, keys: collections.OrderedDict(zip(keys, values))),
    collections.defaultdict: (lambda d: (list(d.values()), (d.default_factory, list(d.keys()))),
                              lambda values, context: collections.defaultdict(
                                  context[0], zip(context[1], values))),
    collections.deque: (lambda d: (list(d), d.maxlen),
                        lambda values, maxlen: collections.deque(values, maxlen)),
}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None):
    """Make ``cls`` a container: ``flatten_fn(node)`` gives ``(children, context)`` and
    ``unflatten_fn(children, context)`` rebuilds the node (PyTorch's signature; the
    serialization arguments are accepted and unused).

    Examples
    --------
    >>> import ember.utils._pytree as pytree
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> pytree.register_pytree_node(Pair, lambda p: ([p.a, p.b], None),
    ...                             lambda children, _: Pair(*children))
    >>> pytree.tree_leaves([Pair(1, 2), 3])
    [1, 2, 3]
    """
    if cls in _NODES or cls in (tuple, list, dict):
        raise ValueError(f"{cls} is already registered as a pytree node")
    _NODES[cls] = (flatten_fn, unflatten_fn)


def _children(tree, is_leaf=None):
    """``(type, context, children)`` of a container, or None for a leaf."""
    if is_leaf is not None and is_leaf(tree):
        return None
    if isinstance(tree, tuple):
        kind = tuple if type(tree) is tuple else (type(tree) if hasattr(tree, "_fields")
                                                  else None)
        if kind is not None:
            return kind, None, list(tree)
    elif type(tree) is list:
        return list, None, tree
    elif type(tree) is dict:
        return dict, list(tree.keys()), list(tree.values())
    node = _NODES.get(type(tree))
    if node is not None:
        children, context = node[0](tree)
        return type(tree), context, list(children)
    return None


def tree_flatten(tree, is_leaf=None):
    """``(leaves, spec)``: the leaves of ``tree`` in order, and its structure
    (``is_leaf(node)`` True stops the walk at ``node``)."""
    leaves = []

    def walk(node):
        parts = _children(node, is_leaf)
        if parts is None:
            leaves.append(node)
            return _LEAF
        kind, context, children = parts
        return TreeSpec(kind, context, [walk(c) for c in children])

    return leaves, walk(tree)


def tree_unflatten(leaves, spec):
    """The pytree of structure ``spec`` holding ``leaves``."""
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but "
                         f"the spec refers to a pytree that holds {spec.num_leaves} items "
                         f"({spec}).")
    it = iter(leaves)

    def build(s):
        if s.type is None:
            return next(it)
        children = [build(c) for c in s.children]
        if s.type is dict:
            return dict(zip(s.context, children))
        if s.type is tuple or s.type is list:
            return s.type(children)
        node = _NODES.get(s.type)
        if node is not None:
            return node[1](children, s.context)
        return s.type(*children)        # a namedtuple

    return build(spec)


def tree_leaves(tree, is_leaf=None):
    """The leaves of ``tree`` in order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    """The :class:`TreeSpec` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(fn, tree, *rests, is_leaf=None):
    """``tree`` with ``fn`` applied to each leaf (and to the matching leaves of
    ``rests``, pytrees of the same structure).

    Examples
    --------
    >>> from ember.utils._pytree import tree_map
    >>> tree_map(lambda a, b: a + b, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves]
    for other in rests:
        other_leaves, other_spec = tree_flatten(other, is_leaf)
        if other_spec != spec:
            raise ValueError(f"tree_map: the trees have different structures: {spec} and "
                             f"{other_spec}")
        columns.append(other_leaves)
    return tree_unflatten([fn(*xs) for xs in zip(*columns)], spec)


def tree_map_only(type_or_types, fn, tree, is_leaf=None):
    """``tree`` with ``fn`` applied to the leaves that are instances of
    ``type_or_types``; other leaves stay as they are."""
    return tree_map(lambda x: fn(x) if isinstance(x, type_or_types) else x, tree,
                    is_leaf=is_leaf)


def tree_any(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_leaves(tree, is_leaf)))


def tree_all(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_leaves(tree, is_leaf)))


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
