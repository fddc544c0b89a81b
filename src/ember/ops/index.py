"""Index ops: advanced indexing, gather/scatter, masked fill, nonzero and joining.

The implementations are compiled (``ember._core._index``); this module installs
the advanced-indexing hooks of ``Tensor.__getitem__``/``__setitem__``, attaches
the Tensor methods and lists the public functions.
"""
from ember._core import _index
from ember._core._index import (
    advanced_getitem, advanced_setitem, cat, concat, concatenate, gather, index_put,
    index_put_, index_select, masked_fill, masked_fill_, nonzero, scatter, scatter_,
    scatter_add, scatter_add_, stack,
)
from ember._core._tensor import _add_method, _advanced_index_hooks

__all__ = [
    "cat", "concat", "concatenate", "stack", "index_select", "gather", "scatter",
    "scatter_add", "index_put", "masked_fill", "nonzero", "advanced_setitem",
]

_advanced_index_hooks["getitem"] = advanced_getitem
_advanced_index_hooks["setitem"] = advanced_setitem


def _nonzero_method(self, *, as_tuple=False):
    """Indices of the nonzero elements (see :func:`ember.nonzero`)."""
    return nonzero(self, as_tuple=as_tuple)


def _index_select_method(self, dim, index):
    """Entries at positions ``index`` along ``dim`` (see :func:`ember.index_select`)."""
    return index_select(self, dim, index)


def _gather_method(self, dim, index, *, sparse_grad=False):
    """Values along ``dim`` at positions ``index`` (see :func:`ember.gather`)."""
    return gather(self, dim, index, sparse_grad=sparse_grad)


for _name, _fn in {
    "index_select": _index_select_method,
    "gather": _gather_method,
    "scatter": scatter,
    "scatter_": scatter_,
    "scatter_add": scatter_add,
    "scatter_add_": scatter_add_,
    "index_put": index_put,
    "index_put_": index_put_,
    "masked_fill": masked_fill,
    "masked_fill_": masked_fill_,
    "nonzero": _nonzero_method,
}.items():
    _add_method(_name, _fn)
del _name, _fn, _index
