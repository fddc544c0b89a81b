"""Utilities around tensors: data loading (:mod:`ember.utils.data`)."""
from ember.utils import data  # noqa: F401
