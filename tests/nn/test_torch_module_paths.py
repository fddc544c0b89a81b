"""PyTorch's module paths under ``torch.nn.modules`` (and ``torch.nn._reduction``) exist in
ember: code written for PyTorch imports layers from the submodule that defines them
(``from torch.nn.modules.pixelshuffle import PixelShuffle``)."""
import importlib
import inspect
import pkgutil
import warnings

import pytest
import torch
import torch.nn.modules

import ember
import ember.nn.functional as F
from ember import nn

TORCH_SUBMODULES = sorted(info.name for info in pkgutil.iter_modules(torch.nn.modules.__path__)
                          if not info.name.startswith("_"))


def torch_classes(name):
    """The public classes that ``torch.nn.modules.<name>`` defines."""
    module = importlib.import_module(f"torch.nn.modules.{name}")
    return [key for key, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == module.__name__
            and not key.startswith("_")]


def ember_classes():
    """{name: class} of the public classes that ember.nn and its layer modules define."""
    found = {}
    for info in pkgutil.iter_modules(ember.nn.modules.__path__):
        module = importlib.import_module(f"ember.nn.modules.{info.name}")
        for key, value in vars(module).items():
            if inspect.isclass(value) and value.__module__.startswith("ember.nn"):
                found.setdefault(key, value)
    found.update({key: value for key, value in vars(nn).items() if inspect.isclass(value)})
    return found


EMBER_CLASSES = ember_classes()
# the submodules defining a class ember has (all but utils, which defines none, and
# linear_cross_entropy, whose LinearCrossEntropy ember does not have)
SHARED_SUBMODULES = [name for name in TORCH_SUBMODULES
                     if any(key in EMBER_CLASSES for key in torch_classes(name))]


def test_nearly_every_torch_submodule_has_classes_ember_has():
    assert set(TORCH_SUBMODULES) - set(SHARED_SUBMODULES) <= {"utils", "linear_cross_entropy"}


@pytest.mark.parametrize("name", SHARED_SUBMODULES)
def test_every_class_ember_has_imports_from_torchs_submodule(name):
    classes = [key for key in torch_classes(name) if key in EMBER_CLASSES]
    module = importlib.import_module(f"ember.nn.modules.{name}")
    for key in classes:
        assert getattr(module, key, None) is EMBER_CLASSES[key], f"ember.nn.modules.{name}.{key}"
    if hasattr(torch.nn.modules, name):
        assert getattr(ember.nn.modules, name) is module


def test_the_new_paths_import_like_torchs():
    from ember.nn.modules.channelshuffle import ChannelShuffle
    from ember.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle
    from ember.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
    assert (PixelShuffle, PixelUnshuffle, ChannelShuffle) == (
        nn.PixelShuffle, nn.PixelUnshuffle, nn.ChannelShuffle)
    assert (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d) == (
        nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)


def test_ember_nn_modules_names_the_submodules_torch_names():
    # the submodules that export something (not linear_cross_entropy, whose __all__ is
    # empty), and the classes ember has
    def exports(module):
        return bool(getattr(module, "__all__", True))
    torch_names = {key for key in dir(torch.nn.modules) if not key.startswith("_")}
    missing = sorted(key for key in torch_names - set(dir(ember.nn.modules))
                     if (exports(getattr(torch.nn.modules, key))
                         if inspect.ismodule(getattr(torch.nn.modules, key))
                         else key in EMBER_CLASSES))
    assert missing == []


@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "elementwise_mean", "max"])
def test_reduction_get_enum(reduction):
    def call(module):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = module.get_enum(reduction)
            except ValueError as error:
                value = ("ValueError", str(error))
        return value, [str(w.message) for w in caught]
    assert call(F._Reduction) == call(torch.nn.functional._Reduction)


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_reduction_legacy_helpers(size_average, reduce):
    from ember.nn import _reduction
    assert F._Reduction is _reduction
    for name in ("legacy_get_string", "legacy_get_enum"):
        results = []
        for module in (_reduction, torch.nn._reduction):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = getattr(module, name)(size_average, reduce)
                quiet = getattr(module, name)(size_average, reduce, emit_warning=False)
            results.append((value, quiet, [str(w.message) for w in caught]))
        assert results[0] == results[1]
