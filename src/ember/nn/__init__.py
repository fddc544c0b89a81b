"""Neural network building blocks (``ember.nn``), as ``torch.nn``."""
# core: parameters, modules, containers, init, utils
from ember.nn.parameter import Parameter, Buffer
from ember.nn.modules import (
    Module, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
    Identity, Linear, Bilinear, Flatten, Unflatten,
)
from ember.nn import init, utils
