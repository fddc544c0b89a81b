"""The exported program: graph, signature, state, and the module that runs it with guards.

Inputs are described by a *tree spec* (JSON-able, so a saved program stores it as is):
``{"t": k}`` is the ``k``-th tensor input of the graph, ``{"c": v}`` a constant (None,
bool, int, float or str, fixed at export), ``{"tuple": [...]}``, ``{"list": [...]}`` and
``{"dict": [[key, spec], ...]}`` containers.  The top spec is that of ``(args, kwargs)``.
"""
import enum
import math

import ember
from ember.jit._graph import type_name
from ember.jit._runner import compile_graph
from ember.export._dims import ValueRange

__all__ = ["InputKind", "OutputKind", "TensorArgument", "ConstantArgument", "InputSpec",
           "OutputSpec", "ExportGraphSignature", "ExportedProgram"]


class InputKind(enum.Enum):
    """What a graph input is (torch's names)."""
    USER_INPUT = 1
    PARAMETER = 2
    BUFFER = 3
    CONSTANT_TENSOR = 4
    CUSTOM_OBJ = 5
    TOKEN = 6


class OutputKind(enum.Enum):
    """What a graph output is (torch's names; ember's exported graphs have user outputs)."""
    USER_OUTPUT = 1
    LOSS_OUTPUT = 2
    BUFFER_MUTATION = 3
    GRADIENT_TO_PARAMETER = 4
    GRADIENT_TO_USER_INPUT = 5
    USER_INPUT_MUTATION = 6
    TOKEN = 7
    PARAMETER_MUTATION = 8


class TensorArgument:
    """A tensor of the graph, by its value name."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, TensorArgument) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"TensorArgument(name={self.name!r})"


class ConstantArgument:
    """A non-tensor input fixed at export (guarded to be equal when the module runs)."""
    __slots__ = ("name", "value")

    def __init__(self, name, value):
        self.name = name
        self.value = value

    def __eq__(self, other):
        return isinstance(other, ConstantArgument) and \
            (other.name, other.value) == (self.name, self.value)

    def __hash__(self):
        return hash((self.name, repr(self.value)))

    def __repr__(self):
        return f"ConstantArgument(name={self.name!r}, value={self.value!r})"


class InputSpec:
    """One input of the graph: its kind, argument, the state name it reads (``target``,
    for parameters, buffers and constants) and, for buffers, whether it is persistent."""
    __slots__ = ("kind", "arg", "target", "persistent")

    def __init__(self, kind, arg, target=None, persistent=None):
        self.kind = kind
        self.arg = arg
        self.target = target
        self.persistent = persistent

    def __repr__(self):
        return (f"InputSpec(kind={self.kind}, arg={self.arg!r}, target={self.target!r}, "
                f"persistent={self.persistent!r})")


class OutputSpec:
    """One output of the graph: its kind and argument."""
    __slots__ = ("kind", "arg", "target")

    def __init__(self, kind, arg, target=None):
        self.kind = kind
        self.arg = arg
        self.target = target

    def __repr__(self):
        return f"OutputSpec(kind={self.kind}, arg={self.arg!r}, target={self.target!r})"


class ExportGraphSignature:
    """Which graph inputs are parameters, buffers, constants and user inputs, and what
    the outputs are (``input_specs``, ``output_specs``), as torch's."""

    def __init__(self, input_specs, output_specs):
        self.input_specs = list(input_specs)
        self.output_specs = list(output_specs)

    def _names(self, kind):
        return tuple(s.target for s in self.input_specs if s.kind is kind)

    @property
    def parameters(self):
        return self._names(InputKind.PARAMETER)

    @property
    def buffers(self):
        return self._names(InputKind.BUFFER)

    @property
    def non_persistent_buffers(self):
        return tuple(s.target for s in self.input_specs
                     if s.kind is InputKind.BUFFER and not s.persistent)

    @property
    def lifted_tensor_constants(self):
        return self._names(InputKind.CONSTANT_TENSOR)

    @property
    def user_inputs(self):
        return tuple(s.arg.name if isinstance(s.arg, TensorArgument) else s.arg.value
                     for s in self.input_specs if s.kind is InputKind.USER_INPUT)

    @property
    def user_outputs(self):
        return tuple(s.arg.name for s in self.output_specs
                     if s.kind is OutputKind.USER_OUTPUT)

    def _inputs_to(self, kind):
        return {s.arg.name: s.target for s in self.input_specs if s.kind is kind}

    @property
    def inputs_to_parameters(self):
        return self._inputs_to(InputKind.PARAMETER)

    @property
    def inputs_to_buffers(self):
        return self._inputs_to(InputKind.BUFFER)

    @property
    def inputs_to_lifted_tensor_constants(self):
        return self._inputs_to(InputKind.CONSTANT_TENSOR)

    @property
    def buffers_to_mutate(self):
        return {}

    def __str__(self):
        lines = ["# inputs"]
        for s in self.input_specs:
            line = f"{s.arg.name}: {s.kind.name}"
            if s.target is not None:
                line += f" target={s.target!r}"
            if s.persistent is not None:
                line += f" persistent={s.persistent}"
            lines.append(line)
        lines += ["", "# outputs"] + [f"{s.arg.name}: {s.kind.name}" for s in self.output_specs]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- input trees

def flatten(obj, tensors, names, name, leaves):
    """The tree spec of ``obj``; its tensors are appended to ``tensors`` with their leaf
    names to ``names``, and each leaf's ``(name, value, is_tensor)`` to ``leaves``."""
    if isinstance(obj, ember.Tensor):
        tensors.append(obj)
        names.append(name)
        leaves.append((name, obj, True))
        return {"t": len(tensors) - 1}
    if isinstance(obj, (tuple, list)):
        return {type(obj).__name__: [flatten(x, tensors, names, f"{name}_{k}", leaves)
                                     for k, x in enumerate(obj)]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"ember.export: dict input {name} must have str keys")
        return {"dict": [[k, flatten(v, tensors, names, f"{name}_{k}", leaves)]
                         for k, v in obj.items()]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        leaves.append((name, obj, False))
        return {"c": obj}
    raise TypeError(f"ember.export: input {name} is a {type(obj).__name__}; inputs are "
                    "tensors, numbers, strings, None, and tuples, lists and dicts of them")


def unflatten(spec, tensors):
    """The object of ``spec`` with the tensors ``tensors``."""
    (tag, body), = spec.items()
    if tag == "t":
        return tensors[body]
    if tag == "c":
        return body
    if tag == "dict":
        return {k: unflatten(v, tensors) for k, v in body}
    items = [unflatten(x, tensors) for x in body]
    return items if tag == "list" else tuple(items)


def match(spec, obj, tensors, where, constant_names):
    """Append the tensors of ``obj`` (laid out as ``spec``) to ``tensors``; raise
    ValueError when the structure differs, AssertionError when a constant differs
    (named by the next of ``constant_names``)."""
    (tag, body), = spec.items()
    if tag == "t":
        if not isinstance(obj, ember.Tensor):
            raise ValueError(f"Expected input at {where} to be a Tensor, got "
                             f"{type(obj).__name__}")
        tensors.append(obj)
    elif tag == "c":
        name = next(constant_names)
        if type(obj) is not type(body) or obj != body:
            raise AssertionError(f"Guard failed: {name} == {body!r} (got {obj!r}; "
                                 "non-tensor inputs are fixed at export)")
    elif tag == "dict":
        if not isinstance(obj, dict) or list(obj) != [k for k, _ in body]:
            raise ValueError(f"Expected {where} to be a dict with keys "
                             f"{[k for k, _ in body]}, got {_describe(obj)}")
        for k, v in body:
            match(v, obj[k], tensors, f"{where}[{k!r}]", constant_names)
    else:
        if not isinstance(obj, (tuple, list)) or len(obj) != len(body):
            raise ValueError(f"Expected {where} to be a {tag} of {len(body)} items, got "
                             f"{_describe(obj)}")
        for k, (s, x) in enumerate(zip(body, obj)):
            match(s, x, tensors, f"{where}[{k}]", constant_names)


def _describe(obj):
    if isinstance(obj, dict):
        return f"a dict with keys {list(obj)}"
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of {len(obj)} items"
    return f"a {type(obj).__name__}"


def match_inputs(spec, args, kwargs, constant_names):
    """The tensor inputs of a call, checked against the exported ``(args, kwargs)``
    (``constant_names``: the names of its non-tensor leaves, in order)."""
    (_, (arg_spec, kwarg_spec)), = spec.items()
    n_args = len(next(iter(arg_spec.values())))
    kwarg_names = [k for k, _ in next(iter(kwarg_spec.values()))]
    if len(args) != n_args or set(kwargs) != set(kwarg_names):
        raise ValueError(
            f"The exported program takes {n_args} positional arguments and the keyword "
            f"arguments {kwarg_names}, got {len(args)} positional arguments and the keyword "
            f"arguments {list(kwargs)}. Please check that the inputs have the same number "
            "and type of args and kwargs as the ones used when exporting")
    tensors, names = [], iter(constant_names)
    match(arg_spec, tuple(args), tensors, "*args", names)
    match(kwarg_spec, {k: kwargs[k] for k in kwarg_names}, tensors, "**kwargs", names)
    return tensors


def check_guards(tensors, names, dims, symbols):
    """Raise AssertionError when an input's sizes break the export's guards: a static dim
    of another size, a symbol out of its range, or two dims of one symbol that differ."""
    seen = {}
    for x, name, entries in zip(tensors, names, dims):
        if x.dim() != len(entries):
            raise AssertionError(f"Guard failed: {name}.dim() == {len(entries)} (got a "
                                 f"{x.dim()}-d tensor)")
        for d, entry in enumerate(entries):
            size = x.shape[d]
            where = f"{name}.size()[{d}]"
            if isinstance(entry, int):
                if size != entry:
                    raise AssertionError(
                        f"Guard failed: {where} == {entry} (got {size}; dim {d} of input "
                        f"{name} was exported as static: mark it with a Dim in "
                        "dynamic_shapes to vary it)")
                continue
            low, high, _ = symbols[entry]
            if entry in seen:
                first, first_size = seen[entry]
                if size != first_size:
                    raise AssertionError(f"Guard failed: {where} == {first} (got {size} and "
                                         f"{first_size}: both are {entry})")
                continue
            seen[entry] = (where, size)
            if size < low:
                raise AssertionError(f"Guard failed: {where} >= {low} (got {size}; "
                                     f"{entry} is in {ValueRange(low, high)})")
            if size > high:
                raise AssertionError(f"Guard failed: {where} <= {high} (got {size}; "
                                     f"{entry} is in {ValueRange(low, high)})")


# ---------------------------------------------------------------- the program

class ExportedProgram:
    """A model exported by :func:`ember.export.export`: its graph, its signature, its
    state and the sizes it accepts.  Run it through :meth:`module`.

    Attributes
    ----------
    graph : ember.jit.Graph
        The traced graph (printable); parameters and buffers are its constants, named
        as the signature's inputs (``p_fc_weight``, ``b_running_mean``).
    graph_signature : ExportGraphSignature
        Which graph inputs are parameters, buffers, constants and user inputs.
    state_dict : dict
        The parameters and persistent buffers, by their module paths.
    constants : dict
        The non-persistent buffers and the tensor constants the graph holds.
    range_constraints : dict
        Each dynamic size's name -> :class:`ValueRange`.
    example_inputs : tuple
        ``(args, kwargs)`` of the export.
    """

    def __init__(self, graph, signature, state_dict, constants, in_spec, leaf_names, dims,
                 symbols, example_inputs):
        self.graph = graph
        self.graph_signature = signature
        self.state_dict = state_dict
        self.constants = constants
        self._in_spec = in_spec
        self._leaf_names = leaf_names
        self._dims = dims
        self._symbols = symbols
        self.example_inputs = example_inputs
        self._graph_module = None

    @property
    def range_constraints(self):
        return {name: ValueRange(low, high) for name, (low, high, _) in self._symbols.items()}

    @property
    def graph_module(self):
        """The graph as an :class:`ember.jit.TracedModule` (its ``.graph`` and ``.code``
        print it; it takes the user's tensor inputs, flattened, without guards)."""
        if self._graph_module is None:
            self._graph_module = ember.jit.TracedModule(self.graph)
        return self._graph_module

    def named_parameters(self):
        """Iterate over ``(name, parameter)``."""
        for name in self.graph_signature.parameters:
            yield name, self.state_dict[name]

    def parameters(self):
        """Iterate over the parameters."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self):
        """Iterate over ``(name, buffer)``, persistent or not."""
        for spec in self.graph_signature.input_specs:
            if spec.kind is InputKind.BUFFER:
                store = self.state_dict if spec.persistent else self.constants
                yield spec.target, store[spec.target]

    def buffers(self):
        """Iterate over the buffers."""
        for _, b in self.named_buffers():
            yield b

    def module(self):
        """A new :class:`ember.nn.Module` running the graph (inference only: grad mode is
        off inside).  It takes the exported arguments and checks the guards: a static dim
        of another size, a dynamic one out of its range, or a non-tensor argument of
        another value raises AssertionError (as torch's ``Guard failed: ...``)."""
        return _ExportedModule(self)

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops=False):
        """An equivalent program.  ember's graphs are already made of ember's own ops, so
        there is nothing to decompose: the new program shares this one's graph and state.
        """
        return ExportedProgram(self.graph, self.graph_signature, self.state_dict,
                               self.constants, self._in_spec, self._leaf_names, self._dims,
                               self._symbols, self.example_inputs)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unable to call ExportedProgram directly. You should use "
                           "`exported_program.module()` instead.")

    def _input_header(self):
        tensors = {**self.state_dict, **self.constants}
        items = []
        for spec in self.graph_signature.input_specs:
            if isinstance(spec.arg, ConstantArgument):
                continue
            if spec.kind is InputKind.USER_INPUT:
                k = self._leaf_names.index(spec.arg.name)
                value = self.graph.inputs[k]
                items.append(f"%{spec.arg.name} : {type_name(value.dtype, self._dims[k])}")
            else:
                t = tensors[spec.target]
                items.append(f"%{spec.arg.name} : {type_name(t.dtype, tuple(t.shape))}")
        return "graph(" + ",\n      ".join(items) + "):"

    def __str__(self):
        body = str(self.graph).splitlines()[len(self.graph.inputs) or 1:]
        graph = [self._input_header()] + body
        ranges = ", ".join(f"{k}: {v!r}" for k, v in self.range_constraints.items())
        return ("ExportedProgram:\n" + "".join(f"    {line}\n" for line in graph) +
                "\nGraph signature:\n" +
                "".join(f"    {line}\n" for line in str(self.graph_signature).splitlines()) +
                f"\nRange constraints: {{{ranges}}}\n")

    def __repr__(self):
        return (f"ExportedProgram(inputs={len(self.graph_signature.input_specs)}, "
                f"nodes={len(self.graph.nodes)})")


class _ExportedModule(ember.nn.Module):
    """The module of :meth:`ExportedProgram.module`: the program's parameters and
    buffers under their paths, and a forward that checks the guards and runs the graph."""

    def __init__(self, program):
        super().__init__()
        for spec in program.graph_signature.input_specs:
            if spec.kind not in (InputKind.PARAMETER, InputKind.BUFFER):
                continue
            *path, leaf = spec.target.split(".")
            owner = self
            for part in path:
                if part not in owner._modules:
                    owner.add_module(part, ember.nn.Module())
                owner = owner._modules[part]
            if spec.kind is InputKind.PARAMETER:
                owner.register_parameter(leaf, program.state_dict[spec.target])
            else:
                store = program.state_dict if spec.persistent else program.constants
                owner.register_buffer(leaf, store[spec.target], persistent=spec.persistent)
        object.__setattr__(self, "_program", program)
        object.__setattr__(self, "_constant_names", [
            s.arg.name for s in program.graph_signature.input_specs
            if isinstance(s.arg, ConstantArgument)])
        object.__setattr__(self, "_run", compile_graph(program.graph))

    def forward(self, *args, **kwargs):
        program = self._program
        tensors = match_inputs(program._in_spec, args, kwargs, self._constant_names)
        check_guards(tensors, program._leaf_names, program._dims, program._symbols)
        return self._run(*tensors)


def unbounded(x):
    """``math.inf`` for a saved ``None`` upper bound, and back."""
    if x is None:
        return math.inf
    return None if x == math.inf else x
