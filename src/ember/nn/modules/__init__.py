"""The layers of ``ember.nn``."""
# core: module, containers, linear, flatten
from ember.nn.modules.module import Module
from ember.nn.modules.container import (
    Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
)
from ember.nn.modules.linear import Identity, Linear, Bilinear
from ember.nn.modules.flatten import Flatten, Unflatten
