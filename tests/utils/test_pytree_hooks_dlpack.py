"""ember.utils._pytree, hooks and dlpack against torch.utils's modules."""
import collections

import numpy as np
import pytest
import torch
import torch.utils._pytree as tp

import ember
import ember.utils._pytree as ep
from ember.utils.dlpack import from_dlpack, to_dlpack
from ember.utils.hooks import RemovableHandle

Point = collections.namedtuple("Point", "x y")
TREES = [
    (1, None, [2, {"a": 3, "b": (4,)}]),
    {"z": [1, 2], "a": Point(3, [4, 5])},
    collections.OrderedDict(b=1, a=[2, 3]),
    collections.deque([1, (2, 3)]),
    [],
    7,
]


@pytest.mark.parametrize("tree", TREES)
def test_flatten_and_structure_match_torch(tree):
    leaves, spec = ep.tree_flatten(tree)
    t_leaves, t_spec = tp.tree_flatten(tree)
    assert leaves == t_leaves and repr(spec) == repr(t_spec)
    assert ep.tree_unflatten(leaves, spec) == tree
    assert ep.tree_leaves(tree) == tp.tree_leaves(tree)
    assert repr(ep.tree_structure(tree)) == repr(tp.tree_structure(tree))


def test_defaultdict_keeps_its_factory():
    tree = collections.defaultdict(list, {"x": 1, "y": [2]})
    out = ep.tree_map(lambda v: v * 10, tree)
    want = tp.tree_map(lambda v: v * 10, tree)
    assert type(out) is type(want) and out.default_factory is list and out == want


def test_map_variants_match_torch():
    a, b = (1, [2, {"k": 3}]), (10, [20, {"k": 30}])
    assert ep.tree_map(lambda x, y: x + y, a, b) == tp.tree_map(lambda x, y: x + y, a, b)
    mixed = (1, "s", 2.5, [3])
    assert ep.tree_map_only(int, lambda x: -x, mixed) == tp.tree_map_only(int, lambda x: -x,
                                                                          mixed)
    is_leaf = lambda x: isinstance(x, list)     # noqa: E731
    assert ep.tree_leaves(a, is_leaf=is_leaf) == tp.tree_leaves(a, is_leaf=is_leaf)
    assert ep.tree_any(lambda x: x == 3, a) and not ep.tree_all(lambda x: x == 3, a)
    with pytest.raises(ValueError, match="different structures"):
        ep.tree_map(lambda x, y: x, a, (1, 2))
    with pytest.raises(ValueError, match="has length"):
        ep.tree_unflatten([1], ep.tree_structure(a))


def test_tensors_move_through_a_batch():
    batch = {"x": ember.ones(2), "meta": ["id", 3], "y": (ember.zeros(1),)}
    out = ep.tree_map_only(ember.Tensor, lambda t: t + 1, batch)
    assert out["x"].tolist() == [2.0, 2.0] and out["y"][0].tolist() == [1.0]
    assert out["meta"] == ["id", 3]


def test_register_pytree_node():
    class Box:
        def __init__(self, items, tag):
            self.items, self.tag = items, tag

    ep.register_pytree_node(Box, lambda b: (b.items, b.tag), lambda items, tag: Box(items, tag))
    out = ep.tree_map(lambda v: v + 1, [Box([1, 2], "t"), 3])
    assert out[0].items == [2, 3] and out[0].tag == "t" and out[1] == 4
    with pytest.raises(ValueError, match="already registered"):
        ep.register_pytree_node(Box, lambda b: ([], None), lambda c, x: Box([], None))


def test_hooks_and_dlpack():
    m = ember.nn.Linear(2, 2)
    handle = m.register_forward_hook(lambda *a: None)
    assert isinstance(handle, RemovableHandle)
    handle.remove()
    assert not m._forward_hooks
    x = ember.arange(6.0).reshape(2, 3)[:, 1:]
    y = from_dlpack(to_dlpack(x))
    assert y.tolist() == x.tolist() and y.data_ptr() == x.data_ptr()
    t = torch.utils.dlpack.from_dlpack(to_dlpack(x))
    np.testing.assert_array_equal(t.numpy(), x.numpy())
    back = from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(4)))
    assert back.tolist() == [0, 1, 2, 3]
