"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch.nn."""
from collections import OrderedDict

import pytest
import torch

import ember
from ember import nn


def _names(module):
    return [n for n, _ in module.named_modules()]


def _lin_seq(lib, n=4):
    return lib.nn.Sequential(*[lib.nn.Linear(i + 1, i + 2) for i in range(n)])


def test_sequential_indexing_slicing_len_iter():
    for lib in (ember, torch):
        s = _lin_seq(lib)
        assert len(s) == 4
        assert s[-1].out_features == 5 and s[1].in_features == 2
        sub = s[1:3]
        assert type(sub) is lib.nn.Sequential and len(sub) == 2 and sub[0] is s[1]
        assert list(sub._modules) == ["1", "2"]           # slices keep their names, as torch
        assert [m.in_features for m in s] == [1, 2, 3, 4]
        with pytest.raises(IndexError, match="index 4 is out of range"):
            s[4]
        s[0] = lib.nn.Identity()
        assert type(s[0]).__name__ == "Identity"
        del s[1]
        assert list(s._modules) == ["0", "1", "2"] and s[1].in_features == 3


def test_sequential_append_insert_extend_pop_and_arith():
    results = {}
    for lib in (ember, torch):
        s = lib.nn.Sequential(lib.nn.Identity())
        s.append(lib.nn.Linear(1, 1)).insert(0, lib.nn.Flatten()).insert(-1, lib.nn.Identity())
        s.extend(lib.nn.Sequential(lib.nn.Linear(2, 2)))
        popped = s.pop(1)
        doubled = s + s
        s += lib.nn.Sequential(lib.nn.Identity())
        results[lib.__name__] = (repr(s), type(popped).__name__, repr(doubled), repr(s * 2))
        with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
            s + lib.nn.Identity()
        with pytest.raises(IndexError):
            s.insert(10, lib.nn.Identity())
    assert results["ember"] == results["torch"]


def test_sequential_ordered_dict_and_forward():
    s = nn.Sequential(OrderedDict([("first", nn.Flatten(0)), ("second", nn.Unflatten(0, (3, 2)))]))
    assert list(s._modules) == ["first", "second"] and s.first is s[0]
    assert s(ember.ones(2, 3)).shape == (3, 2)
    assert nn.Sequential()(ember.ones(1)).shape == (1,)


def test_module_list():
    results = {}
    for lib in (ember, torch):
        ml = lib.nn.ModuleList([lib.nn.Linear(1, 1), lib.nn.Identity()])
        ml.append(lib.nn.Linear(2, 2))
        ml.extend([lib.nn.Flatten()])
        ml.insert(1, lib.nn.Identity())
        ml += [lib.nn.Linear(3, 3)]
        ml[0] = lib.nn.Linear(4, 4)
        del ml[-2]
        added = ml + lib.nn.ModuleList([lib.nn.Identity()])
        sliced = ml[1:3]
        popped = ml.pop(0)
        results[lib.__name__] = (repr(ml), len(ml), repr(added), repr(sliced),
                                 type(popped).__name__, len(list(ml.parameters())),
                                 _names(ml), [k for k in dir(ml) if k.isdigit()])
        with pytest.raises(IndexError, match="index 10 is out of range"):
            ml[10]
        with pytest.raises(TypeError, match="ModuleList.extend should be called with an "
                                            "iterable"):
            ml.extend(5)
    assert results["ember"] == results["torch"]


def test_module_dict():
    results = {}
    for lib in (ember, torch):
        md = lib.nn.ModuleDict({"b": lib.nn.Linear(1, 1), "a": lib.nn.Identity()})
        md["c"] = lib.nn.Flatten()
        md.update([("d", lib.nn.Identity())])
        md.update(OrderedDict(e=lib.nn.Linear(2, 2)))
        popped = md.pop("a")
        results[lib.__name__] = (list(md.keys()), [type(v).__name__ for v in md.values()],
                                 [k for k, _ in md.items()], "c" in md, len(md), repr(md),
                                 type(popped).__name__, list(iter(md)), _names(md))
        with pytest.raises(ValueError, match="has length 1; 2 is required"):
            md.update([("x",)])
        md.clear()
        assert len(md) == 0
    assert results["ember"] == results["torch"]


def test_parameter_list():
    results = {}
    for lib in (ember, torch):
        pl = lib.nn.ParameterList([lib.ones(2), lib.nn.Parameter(lib.zeros(3))])
        pl.append(lib.ones(1, 2))
        pl.extend([lib.zeros(4)])
        pl[0] = lib.full((2,), 5.0)
        results[lib.__name__] = (len(pl), [type(p).__name__ for p in pl],
                                 [tuple(p.shape) for p in pl.parameters()],
                                 [n for n, _ in pl.named_parameters()],
                                 len(pl[1:3]), float(pl[0].detach()[0]), pl[-1].shape[0])
        assert all(p.requires_grad for p in pl)
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            pl(1)
    results["ember"] = results["ember"][:1] + ([n.replace("ember", "torch")
                                                for n in results["ember"][1]],) + \
        results["ember"][2:]
    assert results["ember"][0] == results["torch"][0]
    assert results["ember"][2:] == results["torch"][2:]
    assert results["ember"][1] == ["Parameter"] * 4


def test_parameter_dict():
    results = {}
    for lib in (ember, torch):
        pd = lib.nn.ParameterDict({"w": lib.ones(2), "a": lib.zeros(1)})
        pd["b"] = lib.nn.Parameter(lib.ones(3))
        pd.update([("c", lib.ones(4))])
        popped = pd.pop("a")
        default = pd.setdefault("d", lib.zeros(5))
        results[lib.__name__] = (list(pd.keys()), [tuple(v.shape) for v in pd.values()],
                                 [n for n, _ in pd.named_parameters()], "c" in pd, len(pd),
                                 tuple(popped.shape), tuple(default.shape),
                                 pd.get("zz") is None, list(reversed(pd)),
                                 list((pd | lib.nn.ParameterDict({"z": lib.ones(1)})).keys()),
                                 pd.popitem()[0], list(pd.copy().keys()))
        assert all(isinstance(v, lib.nn.Parameter) for v in pd.values())
        with pytest.raises(TypeError, match="not a string"):
            lib.nn.ParameterDict()[1] = lib.ones(1)
        pd.clear()
        assert len(pd) == 0 and not list(pd.parameters())
    assert results["ember"] == results["torch"]


def test_containers_in_state_dict_and_train():
    model = nn.ModuleDict({"layers": nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)]),
                           "extra": nn.ParameterList([ember.ones(1)])})
    t_model = torch.nn.ModuleDict({"layers": torch.nn.ModuleList([torch.nn.Linear(2, 2),
                                                                  torch.nn.Linear(2, 1)]),
                                   "extra": torch.nn.ParameterList([torch.ones(1)])})
    assert list(model.state_dict()) == list(t_model.state_dict())
    model.eval()
    assert not model["layers"][1].training
