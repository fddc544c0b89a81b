"""Graph passes run at trace time: dead-code elimination, constant folding, common-
subexpression elimination (fusion is in ``_fusion``).

Nodes that write an argument (``node.inplace``) are side effects: never removed, folded
or merged, and the passes that would move or share work across them stop there.
"""
import ember
from ember.jit._graph import SymSize, Value, map_template
from ember.jit._trace import SCRATCH_TYPES, Scratch

__all__ = ["eliminate_dead_code", "fold_constants", "eliminate_common_subexpressions",
           "contiguous_product_constants", "skip_unread_pool_indices", "fuse_convolution_relu"]

# ops whose results are random: two calls differ, so they are neither folded nor merged
_RANDOM_OPS = {"poisson", "binomial", "_standard_gamma", "_sample_dirichlet"}


def eliminate_dead_code(graph):
    """Remove nodes whose outputs nothing reads, and constants no node reads.  Returns
    the number of nodes removed."""
    live = {v.index for v in graph.outputs()}
    kept = []
    for node in reversed(graph.nodes):
        if node.inplace or any(v.index in live for v in node.outputs):
            kept.append(node)
            live.update(v.index for v in node.inputs())
    removed = len(graph.nodes) - len(kept)
    graph.nodes = kept[::-1]
    graph.constants = {v: t for v, t in graph.constants.items() if v.index in live}
    return removed


def _mutated(graph):
    """Indexes of values an in-place node writes, with the values they are views of."""
    written = set()
    for node in graph.nodes:
        if node.inplace:
            written.update(v.index for v in node.inputs()[:1])
    for node in reversed(graph.nodes):
        if node.kind == "view" and any(v.index in written for v in node.outputs):
            written.update(v.index for v in node.inputs())
    return written


def _materialize(template, graph):
    """A template's arguments for a node reading only constants."""
    def value(x):
        if isinstance(x, Value):
            return graph.constants[x]
        return x.evaluate(lambda v: graph.constants[v])
    args = map_template(template, value)
    return _fresh_scratch(args)


def _fresh_scratch(template):
    if isinstance(template, Scratch):
        return SCRATCH_TYPES[template.name]()
    if isinstance(template, (tuple, list)):
        return type(template)(_fresh_scratch(x) for x in template)
    if isinstance(template, dict):
        return {k: _fresh_scratch(v) for k, v in template.items()}
    return template


def _mentions_sizes(template):
    """Whether a template holds a size read from a tensor (a SymSize, slices included):
    such a node depends on the sizes the graph runs at, even if it reads only constants."""
    if isinstance(template, SymSize):
        return True
    if isinstance(template, slice):
        return any(_mentions_sizes(x) for x in (template.start, template.stop, template.step))
    if isinstance(template, (tuple, list)):
        return any(_mentions_sizes(x) for x in template)
    if isinstance(template, dict):
        return any(_mentions_sizes(x) for x in template.values())
    return False


def fold_constants(graph):
    """Run, once, the nodes that read only constants (weights, buffers, tensors made
    without the inputs), e.g. a linear layer's ``weight.t()``: their outputs become
    constants.  Returns the number of nodes folded."""
    written = _mutated(graph)
    kept, folded = [], 0
    with ember.no_grad():
        for node in graph.nodes:
            inputs = node.inputs()
            if (node.inplace or node.op in _RANDOM_OPS or node.kind == "fused"
                    or any(v.kind != "constant" for v in inputs)
                    or _mentions_sizes(node.args) or _mentions_sizes(node.kwargs)
                    or any(v.index in written for v in node.outputs)):
                kept.append(node)
                continue
            result = node.fn(*_materialize(node.args, graph),
                             **_materialize(node.kwargs, graph))
            _bind_results(node.result, result, graph)
            folded += 1
    graph.nodes = kept
    return folded


def _bind_results(template, result, graph):
    if isinstance(template, Value):
        template.kind = "constant"
        template.name = f"c{template.index}"
        graph.constants[template] = result.detach()
    elif isinstance(template, (tuple, list)):
        for t, r in zip(template, result):
            _bind_results(t, r, graph)


# matrix products whose constant operands are made contiguous
_PRODUCT_OPS = {"addmm", "mm", "matmul", "bmm", "baddbmm", "addmv", "mv"}


def contiguous_product_constants(graph):
    """Store the constant operands of matrix products contiguously: a folded
    ``weight.t()`` is a transposed view, which the product packs again on every call
    (with a row pitch of a multiple of 4 KiB it cannot be read in place at all).  The
    values are the same; a constant some other node also reads stays as it is.  The
    copies are the graph's own, which the runner packs once for ember's GEMM.
    Returns the number of constants copied."""
    readers = {}
    for node in graph.nodes:
        for v in node.inputs():
            readers.setdefault(v.index, set()).add(node.op)
    copied = 0
    for value, tensor in list(graph.constants.items()):
        if (readers.get(value.index, set()) <= _PRODUCT_OPS and value.index in readers
                and not tensor.is_contiguous()):
            graph.constants[value] = tensor.contiguous()
            graph.owned.add(value.index)
            copied += 1
    return copied


def _readers_and_producers(graph):
    """How many times each value is read (a graph output counts twice: it must be kept
    whole) and the node producing each value, by value index."""
    readers = {}
    for node in graph.nodes:
        for v in node.inputs():
            readers[v.index] = readers.get(v.index, 0) + 1
    for v in graph.outputs():
        readers[v.index] = readers.get(v.index, 0) + 2
    producer = {v.index: node for node in graph.nodes for v in node.outputs}
    return readers, producer


def fuse_convolution_relu(graph):
    """A ReLU whose input is a convolution's result that nothing else reads is applied by
    the convolution, to each block of its output while that is in cache (one pass over
    memory less).  Returns the number of pairs fused."""
    readers, producer = _readers_and_producers(graph)
    replaced, kept, fused = {}, [], 0
    for node in graph.nodes:
        first = node.args[0] if node.args else None
        conv = producer.get(first.index) if isinstance(first, Value) else None
        if (node.op == "relu" and node.kind == "ew" and not node.inplace and not node.kwargs
                and len(node.args) == 1 and conv is not None and conv.op == "convolution"
                and not conv.kwargs and readers.get(first.index) == 1):
            conv.kwargs = {"activation": "relu"}
            replaced[node.outputs[0].index] = first
            fused += 1
            continue
        kept.append(node)
    if fused:
        def substitute(x):
            return replaced.get(x.index, x) if isinstance(x, Value) else x
        for node in kept:
            node.args = map_template(node.args, substitute)
            node.kwargs = map_template(node.kwargs, substitute)
        graph.output = map_template(graph.output, substitute)
        graph.nodes = kept
    return fused


def fuse_convolution_pool(graph):
    """A 2x2 max pooling at stride 2 (values only) of a 2-D convolution's result that
    nothing else reads is computed by the convolution: Winograd's algorithm makes its
    output in 2x2 tiles, each one pooling window, so the full-size result is never
    written (other convolutions pool their result themselves).  Run after
    :func:`skip_unread_pool_indices`.  Returns the number of pairs fused."""
    readers, producer = _readers_and_producers(graph)
    kept, fused = [], 0
    for node in graph.nodes:
        first = node.args[0] if node.args else None
        conv = producer.get(first.index) if isinstance(first, Value) else None
        if (node.op == "max_pool" and node.kwargs == {"with_indices": False}
                and conv is not None and conv.op == "convolution" and conv.kind == "op"
                and set(conv.kwargs) <= {"activation"} and readers.get(first.index) == 1
                and len(first.shape) == 4 and len(node.args) == 7
                and tuple(node.args[1:6]) == (2, (2, 2), (2, 2), (0, 0), (1, 1))
                and node.args[6] == (first.shape[2] // 2, first.shape[3] // 2)
                and min(first.shape[2:]) >= 2):
            conv.kwargs = {**conv.kwargs, "pool_2x2": True}
            conv.result = node.result[0]
            conv.outputs = [conv.result]
            fused += 1
            continue
        kept.append(node)
    graph.nodes = kept
    return fused


def skip_unread_pool_indices(graph):
    """Max poolings whose indices nothing reads compute their values only (the indices,
    8 bytes an output, cost more to write than the values; a traced graph runs without
    autograd, which is what would read them).  Returns the number of such nodes."""
    read = {v.index for node in graph.nodes for v in node.inputs()}
    read.update(v.index for v in graph.outputs())
    skipped = 0
    for node in graph.nodes:
        if node.op == "max_pool" and not node.kwargs and node.outputs[1].index not in read:
            node.kwargs = {"with_indices": False}
            skipped += 1
    return skipped


def eliminate_common_subexpressions(graph):
    """Merge nodes that compute the same op of the same values with the same arguments:
    later ones read the first one's outputs.  An in-place node starts afresh (what was
    computed before it may differ after).  Returns the number of nodes merged."""
    seen = {}
    replaced = {}
    kept = []

    def substitute(x):
        if isinstance(x, Value):
            return replaced.get(x.index, x)
        return _substitute_sym(x, replaced)

    merged = 0
    for node in graph.nodes:
        node.args = map_template(node.args, substitute)
        node.kwargs = map_template(node.kwargs, substitute)
        if node.inplace:
            seen.clear()
            kept.append(node)
            continue
        if node.op in _RANDOM_OPS:
            kept.append(node)
            continue
        key = node.signature()
        first = seen.get(key)
        if first is None:
            seen[key] = node
            kept.append(node)
            continue
        for mine, theirs in zip(node.outputs, first.outputs):
            replaced[mine.index] = theirs
        merged += 1
    graph.nodes = kept
    graph.output = map_template(graph.output, substitute)
    return merged


def _substitute_sym(sym, replaced):
    a = sym.a
    if isinstance(a, Value):
        a = replaced.get(a.index, a)
    elif isinstance(a, SymSize):
        a = _substitute_sym(a, replaced)
    b = _substitute_sym(sym.b, replaced) if isinstance(sym.b, SymSize) else sym.b
    return SymSize(sym.op, a, b)

