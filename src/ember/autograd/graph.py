"""Looking at the graph: its node type, and Graphviz DOT text of the graph behind a
tensor for people who would rather look than read."""
from ember._core._tensor import Tensor
from ember.autograd._graph import AccumulateGrad, Node

__all__ = ["Node", "to_dot"]


NEWLINE = "\\n"    # a line break inside a DOT label


def _quote(text):
    return '"' + str(text).replace('"', '\\"') + '"'


def _shape(t):
    return str(tuple(t.shape))


def to_dot(tensor, name="output"):
    """Graphviz DOT text of the graph that produced ``tensor``.

    Each operation is a box named like its node (``MulBackward0``); leaf tensors
    (what ``.grad`` is accumulated into) are green ellipses with their shape and
    dtype; the tensor itself is a blue ellipse.  Arrows point from inputs to the
    operations that used them, the way the forward pass ran.

    Parameters
    ----------
    tensor : Tensor
    name : str, default "output"
        Label of the tensor's own node.

    Returns
    -------
    str
        DOT source: render it with ``dot -Tsvg`` or any Graphviz viewer.

    Examples
    --------
    >>> import ember
    >>> w = ember.ones(3, requires_grad=True)
    >>> print(ember.autograd.graph.to_dot((w * 2).sum()))  # doctest: +ELLIPSIS
    digraph autograd {
    ...
    }
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot() expects a Tensor, got {type(tensor).__name__}")
    lines = ["digraph autograd {", '  node [fontname="Helvetica", fontsize=11];']
    ids = {}

    def node_id(node):
        if node not in ids:
            ids[node] = f"n{len(ids)}"
        return ids[node]

    out_id = "out"
    described = f"{_shape(tensor)} {tensor.dtype}"
    lines.append(f"  {out_id} [label={_quote(name + NEWLINE + described)}, "
                 'shape=ellipse, style=filled, fillcolor="#cfe2ff"];')
    root = tensor.grad_fn
    if root is None:
        if tensor.requires_grad:
            lines[-1] = (f"  {out_id} [label={_quote(name + ' (leaf)' + NEWLINE + described)}, "
                         'shape=ellipse, style=filled, fillcolor="#d1e7dd"];')
        lines.append("}")
        return "\n".join(lines)
    seen = set()
    stack = [root]
    edges = [f"  {node_id(root)} -> {out_id};"]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nid = node_id(node)
        if isinstance(node, AccumulateGrad):
            v = node.variable
            label = f"leaf{NEWLINE}{_shape(v)} {v.dtype}"
            lines.append(f"  {nid} [label={_quote(label)}, shape=ellipse, style=filled, "
                         'fillcolor="#d1e7dd"];')
        else:
            lines.append(f"  {nid} [label={_quote(node.name())}, shape=box, style=filled, "
                         'fillcolor="#eeeeee"];')
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            edges.append(f"  {node_id(nxt)} -> {nid};")
            stack.append(nxt)
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines)
