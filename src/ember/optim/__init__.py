"""Optimization algorithms and learning-rate schedules, as in ``torch.optim``.

Every optimizer updates its parameters in place under :class:`ember.no_grad`, with the
same update rule, options, state layout and ``state_dict`` format as PyTorch.
"""
from ember.optim.optimizer import Optimizer
from ember.optim.sgd import SGD
from ember.optim.adam import Adam, AdamW, Adamax, NAdam, RAdam
from ember.optim.adaptive import RMSprop, Adagrad, Adadelta
from ember.optim.lbfgs import LBFGS
from ember.optim.rprop_asgd import ASGD, Rprop
from ember.optim.adafactor import Adafactor
from ember.optim.muon import Muon
from ember.optim.sparse_adam import SparseAdam
from ember.optim import lr_scheduler, swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop",
           "Adagrad", "Adadelta", "LBFGS", "lr_scheduler", "swa_utils", "Rprop", "ASGD",
           "Adafactor", "Muon", "SparseAdam"]
