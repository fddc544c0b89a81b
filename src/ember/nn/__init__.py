"""Neural-network building blocks (PyTorch's ``torch.nn``)."""
from ember.nn import functional  # noqa: F401
# core: parameters, modules, containers, init, utils
from ember.nn.parameter import Parameter, Buffer
from ember.nn.modules import (
    Module, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
    Identity, Linear, Bilinear, Flatten, Unflatten,
)
from ember.nn import init, utils
