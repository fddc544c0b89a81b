"""Exported programs (the role of ``torch.export``): :func:`export` traces a module with
ember's tracer (:mod:`ember.jit`) into an :class:`ExportedProgram` holding the graph, its
signature (which inputs are parameters, buffers, constants, user inputs), the state, and
the sizes it accepts (``dynamic_shapes`` with :class:`Dim`).  :meth:`ExportedProgram.module`
runs it with guards on the input shapes; :func:`save` and :func:`load` store it in one
safetensors file, with no pickled code.
"""
import inspect
import json
import math
import warnings

import ember
from ember.jit import TracerWarning, _trace_graph
from ember.jit._ops import bind
from ember.jit._passes import eliminate_dead_code
from ember.jit._serialize import decode_graph, encode_graph
from ember.export._dims import Dim, DimHint, ShapesCollection, ValueRange, dims, \
    read_dynamic_shapes
from ember.export._program import (ConstantArgument, ExportedProgram, ExportGraphSignature,
                                   InputKind, InputSpec, OutputKind, OutputSpec,
                                   TensorArgument, flatten, unbounded, unflatten)

__all__ = ["export", "save", "load", "ExportedProgram", "Dim", "DimHint", "dims",
           "ShapesCollection", "ExportGraphSignature", "InputKind", "OutputKind", "InputSpec",
           "OutputSpec", "TensorArgument", "ConstantArgument", "ValueRange"]

FORMAT = "ember.export"
VERSION = 1


def _top_inputs(forward, args, kwargs):
    """``[(name, value)]`` of the positional arguments (by the forward's parameter
    names) then the keyword arguments."""
    try:
        params = [p.name for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [params[k] if k < len(params) else f"args_{k}" for k in range(len(args))]
    return list(zip(names, args)) + list(kwargs.items())


def _resized(x, shape):
    """A tensor of ``shape`` with ``x``'s elements, repeated as needed (its values stay
    in the input's domain, e.g. valid indices)."""
    flat = x.detach().reshape(-1)
    n = math.prod(shape)
    if flat.numel() == 0:
        return ember.zeros(shape, dtype=x.dtype)
    return flat[ember.arange(n) % flat.numel()].reshape(shape)


def _runs_at(mod, run, in_spec, tensors, dims, sizes):
    """``None`` when the model and the graph agree on output shapes at the symbol sizes
    ``sizes`` (the other dims as exported), else why not."""
    resized = [_resized(x, [s if isinstance(s, int) else sizes.get(s, x.shape[d])
                            for d, s in enumerate(entries)])
               for x, entries in zip(tensors, dims)]
    args, kwargs = unflatten(in_spec, resized)
    try:
        with ember.no_grad():
            expected = mod(*args, **kwargs)
        actual = run(*resized)
    except Exception as error:      # noqa: BLE001 -- any failure means "specialized"
        return f"{type(error).__name__}: {error}"
    if _shapes(expected) != _shapes(actual):
        return f"the graph gives outputs of shapes {_shapes(actual)}, the model " \
               f"{_shapes(expected)}"
    return None


def _shapes(result):
    if isinstance(result, ember.Tensor):
        return tuple(result.shape)
    if isinstance(result, (tuple, list)):
        return [_shapes(x) for x in result]
    return type(result).__name__


def _other_size(low, high, size):
    for candidate in (size + 1, size - 1, size + 2):
        if candidate >= 0 and low <= candidate <= high and candidate != size:
            return candidate
    return None


def _check_dynamic(mod, run, in_spec, tensors, dims, symbols):
    """Run the model and the graph at other sizes of the dynamic symbols: a named or
    DYNAMIC dim the trace fixed raises; AUTO dims the trace fixed become static."""
    example = {}
    for x, entries in zip(tensors, dims):
        for d, s in enumerate(entries):
            if isinstance(s, str):
                example.setdefault(s, x.shape[d])
    failed = {}
    for name, (low, high, kind) in symbols.items():
        other = _other_size(low, high, example[name])
        if other is not None:
            failure = _runs_at(mod, run, in_spec, tensors, dims, {name: other})
            if failure is not None:
                failed[name] = (other, failure)
    fixed = [name for name in failed if symbols[name][2] != "auto"]
    if fixed:
        names = ", ".join(fixed)
        other, failure = failed[fixed[0]]
        raise RuntimeError(
            f"Constraints violated ({names})! You marked {names} as dynamic but the traced "
            f"graph fixed {'them' if len(fixed) > 1 else 'it'} to the example's size: "
            f"at {fixed[0]} = {other} (example {example[fixed[0]]}), {failure}. The model "
            "likely uses a literal size (view(2, -1)) where it could read x.size(d); or "
            "mark the dim Dim.STATIC or Dim.AUTO")
    for entries in dims:
        entries[:] = [example[s] if s in failed else s for s in entries]
    for name in failed:
        del symbols[name]


def _name(prefix, target):
    return prefix + target.replace(".", "_")


def _signature(mod, graph, leaves):
    """Name the graph's constants as torch names its inputs, and build the signature."""
    params = dict(mod.named_parameters())
    non_persistent = {f"{prefix}{'.' if prefix else ''}{name}"
                      for prefix, m in mod.named_modules()
                      for name in m._non_persistent_buffers_set}
    buffers = dict(mod.named_buffers())
    by_id = {}
    for target in params:
        by_id.setdefault(id(params[target]), (InputKind.PARAMETER, target))
    for target in buffers:
        by_id.setdefault(id(buffers[target]), (InputKind.BUFFER, target))
    prefix = {InputKind.PARAMETER: "p_", InputKind.BUFFER: "b_"}
    lifted = {}
    for value, tensor in graph.constants.items():
        kind, target = by_id.get(id(tensor), (InputKind.CONSTANT_TENSOR, None))
        if kind is InputKind.CONSTANT_TENSOR:
            target = f"lifted_tensor_{len(lifted)}"
            lifted[target] = tensor
            value.name = _name("c_", target)
        else:
            value.name = _name(prefix[kind], target)
    specs = [InputSpec(InputKind.PARAMETER, TensorArgument(_name("p_", t)), t)
             for t in params]
    specs += [InputSpec(InputKind.BUFFER, TensorArgument(_name("b_", t)), t,
                        t not in non_persistent) for t in buffers]
    specs += [InputSpec(InputKind.CONSTANT_TENSOR, TensorArgument(_name("c_", t)), t)
              for t in lifted]
    specs += [InputSpec(InputKind.USER_INPUT, TensorArgument(name) if is_tensor
                        else ConstantArgument(name, value))
              for name, value, is_tensor in leaves]
    outputs = [OutputSpec(OutputKind.USER_OUTPUT, TensorArgument(v.name))
               for v in graph.outputs()]
    state = {t: p for t, p in params.items()}
    state.update((t, b) for t, b in buffers.items() if t not in non_persistent)
    constants = {t: b for t, b in buffers.items() if t in non_persistent}
    constants.update(lifted)
    return ExportGraphSignature(specs, outputs), state, constants


def export(mod, args, kwargs=None, *, dynamic_shapes=None, strict=False,
           preserve_module_call_signature=()):
    """Export a module into an :class:`ExportedProgram`, as ``torch.export.export``.

    The module runs once on ``args``/``kwargs`` under ember's tracer (see
    :func:`ember.jit.trace`): the program's graph is the ops of that run, parameters
    and buffers are its inputs of kinds ``PARAMETER`` and ``BUFFER``, tensors it makes
    without the inputs are ``CONSTANT_TENSOR``, and the tensors of ``args`` and
    ``kwargs`` (nested in tuples, lists and dicts) are ``USER_INPUT``.  Non-tensor
    arguments are fixed to their example values.

    Every dim of a tensor input is static (the example's size) unless ``dynamic_shapes``
    marks it.  The tracer keeps the sizes a model reads from its inputs symbolic, and to
    check that the graph does run at other sizes of the dynamic dims, the model and the
    graph run once more at other sizes: a dim the trace fixed raises (or, for
    ``Dim.AUTO``, becomes static).

    Parameters
    ----------
    mod : ember.nn.Module
        The model (call ``.eval()`` first for inference: a graph traced in training
        mode keeps the training behaviour and does not update running statistics).
    args : tuple
        Positional arguments of the example run.
    kwargs : dict, optional
        Keyword arguments of the example run.
    dynamic_shapes : dict, tuple or list, optional
        Per argument (a dict by argument name, or a tuple/list by position, positional
        then keyword arguments): for a tensor, None (static), a dict ``{dim: Dim}`` or a
        tuple with one entry per dim, the entries a :class:`Dim`, ``Dim.AUTO``,
        ``Dim.DYNAMIC``, ``Dim.STATIC`` or None; nested as the argument is.
    strict : bool, optional
        Accepted for torch's signature; ember has one tracer (torch's non-strict mode).
    preserve_module_call_signature : tuple of str, optional
        Accepted for torch's signature; ember's graphs are flat.

    Returns
    -------
    ExportedProgram

    Raises
    ------
    RuntimeError
        When the model converts a tensor computed from the inputs to a Python value
        (data-dependent control flow, ``.item()``), runs other ops for other inputs,
        or fixes a dim marked dynamic; for a malformed ``dynamic_shapes``.
    TypeError
        For arguments or outputs other than tensors (and containers of them).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).eval()
    >>> batch = ember.export.Dim("batch", max=64)
    >>> ep = ember.export.export(model, (ember.randn(2, 4),),
    ...                          dynamic_shapes={"input": {0: batch}})
    >>> ep.module()(ember.randn(5, 4)).shape
    ember.Size([5, 3])
    >>> ep.range_constraints
    {'batch': VR[0, 64]}
    """
    if not isinstance(mod, ember.nn.Module):
        raise TypeError(f"ember.export.export: expected an ember.nn.Module, got "
                        f"{type(mod).__name__}")
    if not isinstance(args, tuple):
        raise TypeError(f"ember.export.export: args must be a tuple, got "
                        f"{type(args).__name__}")
    kwargs = dict(kwargs or {})
    top = _top_inputs(mod.forward, args, kwargs)
    # leaf names from the argument names ("x", "x_0" inside a tuple, "mask" for a kwarg)
    tensors, leaf_names, leaves = [], [], []
    arg_specs = [flatten(value, tensors, leaf_names, name, leaves)
                 for name, value in top[:len(args)]]
    kwarg_specs = [[name, flatten(value, tensors, leaf_names, name, leaves)]
                   for name, value in top[len(args):]]
    in_spec = {"tuple": [{"tuple": arg_specs}, {"dict": kwarg_specs}]}
    per_leaf, symbols = read_dynamic_shapes(dynamic_shapes, top,
                                            {id(x): n for x, n in zip(tensors, leaf_names)})
    dims = [per_leaf[id(x)] for x in tensors]

    def call(*inputs):
        call_args, call_kwargs = unflatten(in_spec, inputs)
        return mod(*call_args, **call_kwargs)

    # the export runs the model several times: a model in training mode would update its
    # running statistics each time, so the buffers are put back afterwards
    with ember.no_grad():
        buffers = [(b, b.clone()) for b in mod.buffers()]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TracerWarning)
            graph = _trace_graph(call, tuple(tensors), leaf_names, mod)
        for w in caught:
            if issubclass(w.category, TracerWarning) and "shuffled" not in str(w.message):
                raise RuntimeError(
                    f"ember.export: the model's graph depends on the values of its inputs, "
                    f"which an exported graph cannot capture ({w.message}). Rewrite "
                    "data-dependent control flow with tensor ops (ember.where, masks)")
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        for node in graph.nodes:
            bind(node)
        eliminate_dead_code(graph)
        signature, state, constants = _signature(mod, graph, leaves)
        program = ExportedProgram(graph, signature, state, constants, in_spec, leaf_names,
                                  dims, symbols.table, (tuple(args), kwargs))
        if symbols.table:
            _check_dynamic(mod, program.module()._run, in_spec, tensors, dims, symbols.table)
    finally:
        with ember.no_grad():
            for b, before in buffers:
                b.copy_(before)
    return program


# ---------------------------------------------------------------- saving

def save(ep, f, *, extra_files=None, opset_version=None, pickle_protocol=2):
    """Save an exported program to one safetensors file, as ``torch.export.save``.

    The graph is stored as :meth:`ember.jit.TracedModule.save` stores it (JSON, ops by
    name), with the signature, the input structure, the dynamic sizes, the example
    inputs and the state; nothing is pickled.

    Parameters
    ----------
    ep : ExportedProgram
    f : str, os.PathLike or binary file object
        Written atomically when a path (as :func:`ember.save`).
    extra_files : dict of str to str, optional
        More text to store; :func:`load` gives it back.
    opset_version, pickle_protocol : optional
        Accepted for torch's signature (unused).

    Raises
    ------
    RuntimeError
        When the graph uses an op that a saved graph cannot name.

    Examples
    --------
    >>> import io, ember
    >>> from ember import nn
    >>> ep = ember.export.export(nn.Linear(3, 2), (ember.randn(4, 3),))
    >>> buffer = io.BytesIO()
    >>> ember.export.save(ep, buffer, extra_files={"note": "v1"})
    >>> _ = buffer.seek(0)
    >>> extra = {"note": ""}
    >>> ep2 = ember.export.load(buffer, extra_files=extra)
    >>> extra
    {'note': 'v1'}
    >>> x = ember.randn(4, 3)
    >>> ember.equal(ep2.module()(x), ep.module()(x))
    True
    """
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"ember.export.save: expected an ExportedProgram, got "
                        f"{type(ep).__name__}")
    graph_text, graph_constants = encode_graph(ep.graph)
    state = {**ep.state_dict, **ep.constants}
    used = {id(t) for t in graph_constants.values()}
    signature = ep.graph_signature
    args, kwargs = ep.example_inputs
    examples, example_leaves = [], []
    example_spec = flatten((tuple(args), kwargs), examples, [], "", example_leaves)
    program = {
        "in_spec": ep._in_spec, "leaf_names": ep._leaf_names, "dims": ep._dims,
        "symbols": {k: [low, unbounded(high), kind]
                    for k, (low, high, kind) in ep._symbols.items()},
        "inputs": [[s.kind.name, s.arg.name, s.target, s.persistent,
                    isinstance(s.arg, ConstantArgument),
                    s.arg.value if isinstance(s.arg, ConstantArgument) else None]
                   for s in signature.input_specs],
        "outputs": [[s.kind.name, s.arg.name] for s in signature.output_specs],
        "example_spec": example_spec,
        "extra_files": dict(extra_files or {}),
    }
    ember.save({"format": FORMAT, "version": VERSION, "graph": graph_text,
                "constants": graph_constants,
                # state the graph does not read (unused parameters) is kept beside it
                "state": {k: t for k, t in state.items() if id(t) not in used},
                "examples": {str(k): t for k, t in enumerate(examples)},
                "program": json.dumps(program, allow_nan=False)}, f)


def _fail(what):
    raise ValueError(f"ember.export.load: malformed program: {what}")


def _check_spec(spec, n_tensors):
    """Raise ValueError unless ``spec`` is a tree spec over ``n_tensors`` tensors."""
    if not isinstance(spec, dict) or len(spec) != 1:
        _fail("bad input structure")
    (tag, body), = spec.items()
    if tag == "t":
        if type(body) is not int or not 0 <= body < n_tensors:
            _fail("bad tensor leaf")
    elif tag == "c":
        if body is not None and not isinstance(body, (bool, int, float, str)):
            _fail("bad constant leaf")
    elif tag in ("tuple", "list"):
        if not isinstance(body, list):
            _fail("bad container")
        for x in body:
            _check_spec(x, n_tensors)
    elif tag == "dict":
        if not isinstance(body, list) or not all(
                isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) for e in body):
            _fail("bad dict")
        for _, x in body:
            _check_spec(x, n_tensors)
    else:
        _fail(f"unknown tag {tag!r:.80}")


def load(f, *, extra_files=None, expected_opset_version=None):
    """Load a program saved by :func:`save`; no code from the file runs.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
    extra_files : dict, optional
        Its keys are looked up among the extra files saved, and their text written in.
    expected_opset_version : optional
        Accepted for torch's signature (unused).

    Returns
    -------
    ExportedProgram

    Raises
    ------
    ValueError
        For a file that is not a saved program, or a malformed one.
    """
    saved = ember.load(f)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError("ember.export.load: not a saved ember.export program (no "
                         "'ember.export' format marker)")
    if saved.get("version") != VERSION:
        raise ValueError(f"ember.export.load: unsupported version {saved.get('version')!r}")
    graph = decode_graph(saved.get("graph"), saved.get("constants"))
    try:
        program = json.loads(saved.get("program"))
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"ember.export.load: the program is not valid JSON: {error}") \
            from None
    state, examples = saved.get("state"), saved.get("examples")
    if not isinstance(program, dict) or not isinstance(state, dict) or \
            not isinstance(examples, dict):
        _fail("missing fields")
    n = len(graph.inputs)
    in_spec, names, dims = program.get("in_spec"), program.get("leaf_names"), \
        program.get("dims")
    _check_spec(in_spec, n)
    symbols = program.get("symbols")
    if not isinstance(symbols, dict) or not all(
            isinstance(v, list) and len(v) == 3 and type(v[0]) is int and
            (v[1] is None or type(v[1]) is int) and v[2] in ("dim", "dynamic", "auto")
            for v in symbols.values()):
        _fail("bad symbols")
    symbols = {k: [low, unbounded(high), kind] for k, (low, high, kind) in symbols.items()}
    if not isinstance(names, list) or len(names) != n or \
            not all(isinstance(x, str) for x in names) or \
            not isinstance(dims, list) or len(dims) != n or \
            not all(isinstance(d, list) and all(type(s) is int or s in symbols for s in d)
                    for d in dims):
        _fail("bad input names or dims")
    by_name = {v.name: v for v in graph.constants}
    specs, state_dict, constants = [], {}, {}
    for entry in program.get("inputs", []):
        if not isinstance(entry, list) or len(entry) != 6 or \
                entry[0] not in InputKind.__members__ or not isinstance(entry[1], str):
            _fail("bad input spec")
        kind, name, target, persistent, is_constant, value = entry
        kind = InputKind[kind]
        if is_constant:
            specs.append(InputSpec(kind, ConstantArgument(name, value)))
            continue
        specs.append(InputSpec(kind, TensorArgument(name), target, persistent))
        if kind is InputKind.USER_INPUT:
            continue
        value = by_name.get(name)
        tensor = graph.constants[value] if value is not None else state.get(target)
        if not isinstance(target, str) or not isinstance(tensor, ember.Tensor):
            _fail(f"no tensor for input {name!r:.80}")
        if kind is InputKind.PARAMETER:
            tensor = ember.nn.Parameter(tensor, requires_grad=tensor.is_floating_point())
            if value is not None:
                graph.constants[value] = tensor     # the graph reads the module's parameter
        (state_dict if kind is not InputKind.CONSTANT_TENSOR and persistent is not False
         else constants)[target] = tensor
    outputs = []
    for entry in program.get("outputs", []):
        if not isinstance(entry, list) or len(entry) != 2 or \
                entry[0] not in OutputKind.__members__ or not isinstance(entry[1], str):
            _fail("bad output spec")
        outputs.append(OutputSpec(OutputKind[entry[0]], TensorArgument(entry[1])))
    example_tensors = [examples.get(str(k)) for k in range(len(examples))]
    if not all(isinstance(t, ember.Tensor) for t in example_tensors):
        _fail("bad example inputs")
    example_spec = program.get("example_spec")
    _check_spec(example_spec, len(example_tensors))
    example_inputs = unflatten(example_spec, example_tensors)
    extra = program.get("extra_files")
    if extra_files is not None and isinstance(extra, dict):
        for key in extra_files:
            if key in extra:
                extra_files[key] = extra[key]
    return ExportedProgram(graph, ExportGraphSignature(specs, outputs), state_dict, constants,
                           in_spec, names, dims, symbols, tuple(example_inputs))
