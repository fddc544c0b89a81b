"""The registry of ops a saved graph may name, and the callables that run each node.

A node traced in this process runs the callable its recorder was given (the op's own
forward).  A node read from a file names its op, and only the names below resolve: the
elementwise ops of the op table, the view-like ops, and the ops in ``OPS`` (each bound
here to an ember function, by names written in this file).  Nothing read from a file is
ever passed to ``getattr``, ``eval`` or an import.
"""
import importlib
import operator

import ember
from ember._core import _tensor as _core
from ember.ops import nn_fused as _nn_fused

__all__ = ["bind", "resolve", "source_name", "is_saveable", "EW_ARITY"]

# elementwise ops: name -> arity, in the compiled table's order
EW_ARITY = {name: arity for name, (arity, _) in _core.elementwise_ops().items()}
_INTERNAL_EW = set(ember.ops.elementwise.internal)

# view-like ops: the recorded name -> the function taking the recorded arguments
VIEWS = {
    "view": _core.view, "reshape": _core.reshape, "reshape_copy": _core.reshape,
    "flatten": _core.flatten, "flatten_copy": _core.flatten, "real": _core.real,
    "imag": _core.imag, "squeeze": _core.squeeze, "unsqueeze": _core.unsqueeze,
    "transpose": _core.transpose, "permute": _core.permute, "expand": _core.expand,
    "narrow": _core.narrow, "select": _core.select, "diagonal": _core.diagonal,
    "as_strided": _core.as_strided, "unfold": _core.unfold, "getitem": operator.getitem,
}


def _fused_layer_norm(input, weight, bias, cols, eps, center, saved):
    return _nn_fused.fused_layer_norm(input, cols, weight, bias, eps, center)


def _fused_batch_norm(input, weight, bias, training, eps, saved, running_mean, running_var,
                      momentum):
    return _nn_fused.fused_batch_norm(input, running_mean, running_var, weight, bias,
                                      training, momentum, eps)


def _fused_group_norm(input, weight, bias, num_groups, eps, saved):
    return _nn_fused.fused_group_norm(input, num_groups, weight, bias, eps)


def _fused_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing,
                         log_input, saved):
    return _nn_fused.fused_cross_entropy(input, target, weight, ignore_index, reduction,
                                         label_smoothing, log_input)


# other ops: the recorded name -> "module:attribute" of the function taking the recorded
# arguments (module-level ember functions), or an adapter above (ops whose recorded
# callable is a closure over the same arguments)
OPS = {
    **{name: "ember._core._reduce:" + name for name in (
        "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "softmax",
        "log_softmax", "logsumexp", "cumsum", "cumprod", "std", "var", "norm")},
    **{name: "ember._core._blas:" + name for name in (
        "matmul", "mm", "bmm", "mv", "dot", "vdot", "addmm", "addmv", "baddbmm", "addbmm")},
    **{name: "ember._core._index:" + name for name in (
        "index_select", "gather", "scatter", "scatter_add", "masked_fill", "masked_fill_",
        "index_put", "index_put_", "cat", "stack")},
    **{name: "ember._core._tensor:" + name for name in (
        "zeros", "ones", "full", "arange", "zeros_like", "ones_like", "full_like")},
    "clone": "ember._core._tensor:clone",
    "detach": "ember._core._tensor:Tensor.detach",
    "contiguous": "ember._core._tensor:contiguous_clone",
    "getitem": "ember._core._tensor:Tensor.__getitem__",
    "setitem": "ember._core._tensor:_assign",
    "t": "ember._core._tensor:Tensor.t",
    "copy_": "ember._core._tensor:Tensor.copy_",
    "fill_": "ember._core._tensor:Tensor.fill_",
    "zero_": "ember._core._tensor:Tensor.zero_",
    "split": "ember._core._tensor:split",
    "unbind": "ember._core._tensor:unbind",
    "max_pool": "ember._core._pool:max_pool",
    "avg_pool": "ember._core._pool:avg_pool",
    "adaptive_max_pool": "ember._core._pool:adaptive_max_pool",
    "adaptive_avg_pool": "ember._core._pool:adaptive_avg_pool",
    "grid_sample": "ember._core._grid:grid_sample",
    "convolution": "ember._core._conv:convolution",
    "convolution_transpose": "ember._core._conv:convolution_transpose",
    "im2col": "ember.ops.conv:im2col",
    "col2im": "ember.ops.conv:col2im",
    "rnn_layer": "ember.ops.rnn:_forward_saving",
    "div_rounding": "ember.ops.elementwise:_rounded_div",
    "fused_layer_norm": _fused_layer_norm,
    "fused_batch_norm": _fused_batch_norm,
    "fused_group_norm": _fused_group_norm,
    "fused_cross_entropy": _fused_cross_entropy,
    "fused_embedding": _nn_fused.fused_embedding,
}
_RESOLVED = {}


def _resolve_op(name):
    fn = _RESOLVED.get(name)
    if fn is None:
        entry = OPS[name]
        if isinstance(entry, str):
            module, path = entry.split(":")
            fn = importlib.import_module(module)
            for part in path.split("."):
                fn = getattr(fn, part)
        else:
            fn = entry
        _RESOLVED[name] = fn
    return fn


def resolve(kind, name, n_args, inplace, keywords=()):
    """The callable running op ``name`` of ``kind`` from the registry, called with
    ``n_args`` arguments and the named ``keywords``; ValueError for a name it does not
    hold."""
    if kind == "ew":
        if name not in EW_ARITY:
            raise ValueError(f"ember.jit: unknown elementwise op {name!r}")
        if n_args != EW_ARITY[name]:
            raise ValueError(f"ember.jit: elementwise op {name!r} takes {EW_ARITY[name]} "
                             f"arguments, the graph gives {n_args}")
        op = _core.op_id(name)
        if inplace and not keywords:
            return _core._ew_callables(op, EW_ARITY[name])[2]     # as Tensor.relu_
        if inplace:
            def run_inplace(target, *others, out=None):
                if out is not None:
                    return _core.ew(op, target, *others, out=out)
                return _core.ew_(op, target, *others)
            return run_inplace
        return _core._ew_callables(op, EW_ARITY[name])[0]
    if kind == "view":
        if name not in VIEWS:
            raise ValueError(f"ember.jit: unknown view op {name!r}")
        return VIEWS[name]
    if kind == "op":
        if name not in OPS:
            raise ValueError(f"ember.jit: op {name!r} is not in the registry of ops a saved "
                             "graph may use")
        return _resolve_op(name)
    raise ValueError(f"ember.jit: unknown node kind {kind!r}")


def is_saveable(node):
    """Whether a saved graph can name ``node``'s op (with the arguments it has)."""
    if node.kind == "op":
        if node.op == "fused_batch_norm" and len(node.args) != 9:
            return False            # traced in training mode: the statistics are not arguments
        return node.op in OPS
    return node.kind in ("ew", "view", "fused")


def bind(node):
    """Set ``node.fn`` where tracing left none (elementwise and view ops, loaded nodes)."""
    if node.fn is None:
        if node.kind == "fused":
            from ember.jit._fusion import fused_callable
            node.fn = fused_callable(node)
        else:
            node.fn = resolve(node.kind, node.op, len(node.args), node.inplace,
                              tuple(node.kwargs))
    return node


def source_name(node):
    """How ``.code`` spells the op of ``node``."""
    if node.kind == "ew":
        base = ("ember.ops.elementwise." if node.op in _INTERNAL_EW else "ember.") + node.op
        return base + "_" if node.inplace and "out" not in node.kwargs else base
    if node.kind == "view":
        return "ember." + node.op
    if node.kind == "fused":
        return "ember.jit.fused"
    fn = _resolve_op(node.op) if node.op in OPS else None
    if fn is None:
        return "ember." + node.op
    if getattr(ember, node.op, None) is fn:
        return "ember." + node.op               # a public function: ember.addmm, ember.cat
    entry = OPS[node.op]                         # else where the callable lives
    if isinstance(entry, str):
        return entry.replace(":", ".")
    return f"{fn.__module__}.{fn.__qualname__}"
