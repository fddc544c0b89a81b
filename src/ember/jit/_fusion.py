"""Fusion of chains of elementwise ops into single kernels.

A group is a set of elementwise nodes of one floating dtype (float32 or float64) whose
intermediate results nothing outside the group reads; it becomes one ``fused`` node whose
callable is a :class:`ember._core._fused.Program`: register bytecode run per block of
elements by a C interpreter whose cases are the op table's own C expressions (no compiler
at run time).  An elementwise node (or group) whose first input is a fresh result read by
nothing else then writes over that input (the epilogue of a linear layer or convolution:
``addmm`` then ``relu`` in place), saving an allocation and a pass over memory.
"""
import ember
from ember._core import _fused
from ember.jit._graph import Node, Value

__all__ = ["fuse_elementwise", "fused_callable", "FUSED_OPS"]

FUSED_OPS = _fused.op_table()           # name -> (op number, arity)
_DTYPES = {"float32": ember.float32, "float64": ember.float64}
# ops whose outputs are new tensors (not views of an input), that an epilogue may overwrite
_FRESH_OPS = {"addmm", "matmul", "mm", "bmm", "baddbmm", "convolution",
              "convolution_transpose", "fused_layer_norm", "fused_batch_norm",
              "fused_group_norm", "avg_pool", "adaptive_avg_pool", "cat", "stack"}


def _dtype_name(dtype):
    return str(dtype).replace("ember.", "")


def _fusable(node):
    if node.kind != "ew" or node.inplace or node.kwargs or node.op not in FUSED_OPS:
        return False
    out = node.outputs[0]
    if _dtype_name(out.dtype) not in _DTYPES:
        return False
    for a in node.args:
        if isinstance(a, Value):
            if a.dtype != out.dtype:
                return False
        elif type(a) not in (int, float, bool):
            return False
    return True


class _Group:
    def __init__(self, node):
        self.nodes = [node]

    def inputs_and_constants(self):
        produced = {v.index for n in self.nodes for v in n.outputs}
        inputs, numbers = [], []
        for n in self.nodes:
            for a in n.args:
                if isinstance(a, Value):
                    if a.index not in produced and all(a is not x for x in inputs):
                        inputs.append(a)
                elif a not in numbers:
                    numbers.append(a)
        return inputs, numbers

    def fits(self):
        inputs, numbers = self.inputs_and_constants()
        return (len(inputs) <= _fused.MAX_INPUTS
                and len(inputs) + len(numbers) + len(self.nodes) <= _fused.MAX_REGISTERS)


def fuse_elementwise(graph):
    """Replace groups of two or more fusable elementwise nodes by fused nodes, then make
    elementwise epilogues write in place.  Returns the number of fused nodes made."""
    consumers = {}
    for node in graph.nodes:
        for v in node.inputs():
            consumers[v.index] = consumers.get(v.index, 0) + 1
    for v in graph.outputs():
        consumers[v.index] = consumers.get(v.index, 0) + 2     # never an intermediate
    group_of = {}               # value index -> the open group that produced it
    groups = []
    for node in graph.nodes:
        if node.inplace:
            group_of.clear()    # nothing moves across a write
            continue
        if not _fusable(node):
            continue
        joined = []
        for a in node.args:
            if isinstance(a, Value) and consumers.get(a.index) == 1 and a.index in group_of:
                g = group_of[a.index]
                if all(g is not h for h in joined):
                    joined.append(g)
        group = _Group(node)
        for g in joined:
            candidate = _Group(node)
            candidate.nodes = g.nodes + group.nodes
            if candidate.fits():
                g.nodes = []    # absorbed
                group = candidate
        groups.append(group)
        group_of[node.outputs[0].index] = group
    fused = 0
    replacement = {}            # id(root node) -> fused node
    members = set()
    for group in groups:
        if len(group.nodes) < 2:
            continue
        group.nodes.sort(key=graph.nodes.index)
        root = group.nodes[-1]
        replacement[id(root)] = _fused_node(group, root)
        members.update(id(n) for n in group.nodes)
        fused += 1
    graph.nodes = [replacement.get(id(n), n) for n in graph.nodes
                   if id(n) not in members or id(n) in replacement]
    _epilogues_in_place(graph, consumers)
    return fused


def _fused_node(group, root):
    inputs, numbers = group.inputs_and_constants()
    register = {v.index: k for k, v in enumerate(inputs)}
    number_register = {}
    for k, x in enumerate(numbers):
        number_register[_number_key(x)] = len(inputs) + k
    # an intermediate's register is free again after its last reader: fewer registers,
    # fewer blocks of memory the interpreter goes through
    last_read = {}
    for j, node in enumerate(group.nodes):
        for a in node.args:
            if isinstance(a, Value):
                last_read[a.index] = j
    program, free = [], []
    next_register = len(inputs) + len(numbers)
    for j, node in enumerate(group.nodes):
        operands = [register[a.index] if isinstance(a, Value)
                    else number_register[_number_key(a)] for a in node.args]
        operands += [0] * (3 - len(operands))
        if free:
            dst = free.pop()
        else:
            dst, next_register = next_register, next_register + 1
        program.append([node.op, dst] + operands)
        register[node.outputs[0].index] = dst
        for a in node.args:
            if (isinstance(a, Value) and last_read.get(a.index) == j
                    and register[a.index] >= len(inputs) + len(numbers)):
                del last_read[a.index]
                free.append(register[a.index])
    spec = {"program": program, "numbers": [float(x) for x in numbers],
            "out": register[root.outputs[0].index],
            "dtype": _dtype_name(root.outputs[0].dtype)}
    node = Node("fused", "fused", tuple(inputs), {}, list(root.outputs), root.result)
    node.spec = spec
    node.fn = fused_callable(node)
    return node


def _number_key(x):
    return (type(x).__name__, repr(x))


def fused_callable(node):
    """The :class:`~ember._core._fused.Program` of a fused node's ``spec`` (checked:
    ValueError for unknown ops or bad registers, as a crafted file could hold)."""
    spec = node.spec
    dtype = _DTYPES.get(spec.get("dtype"))
    if dtype is None:
        raise ValueError(f"ember.jit: a fused node computes in float32 or float64, not "
                         f"{spec.get('dtype')!r}")
    instructions = []
    for entry in spec["program"]:
        name, dst, a, b, c = entry
        if name not in FUSED_OPS:
            raise ValueError(f"ember.jit: fused op {name!r} is not in the op table")
        instructions.append((FUSED_OPS[name][0], dst, a, b, c))
    program = _fused.Program(instructions, len(node.args), spec["numbers"], spec["out"],
                             dtype)
    if spec.get("in_place"):
        def run_in_place(*inputs):
            return program(*inputs, out=inputs[0])
        return run_in_place
    return program


def _epilogues_in_place(graph, consumers):
    """An elementwise or fused node whose first input is a fresh tensor (the output of a
    non-view node), of the node's shape and dtype, read by nothing else, writes its
    result there."""
    fresh = {}
    for node in graph.nodes:
        if not node.inplace and (node.kind in ("ew", "fused") or node.op in _FRESH_OPS):
            for v in node.outputs:
                fresh[v.index] = v
    for node in graph.nodes:
        if node.kind not in ("ew", "fused") or node.inplace or node.kwargs:
            continue
        if node.kind == "ew" and not _fusable(node):
            continue
        first = node.args[0] if node.args else None
        out = node.outputs[0]
        if (not isinstance(first, Value) or first.index not in fresh
                or consumers.get(first.index) != 1 or first.shape != out.shape
                or first.dtype != out.dtype):
            continue
        # with other tensor inputs, a size 1 of the target might be broadcast to more at
        # other input sizes: the target is the output's shape for sure only without 1s
        if 1 in first.shape and any(isinstance(a, Value) for a in node.args[1:]):
            continue
        if node.kind == "fused":
            node.spec["in_place"] = True
            node.fn = fused_callable(node)
        else:
            node.inplace = True
            node.fn = None
            from ember.jit._ops import bind
            bind(node)
