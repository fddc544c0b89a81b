"""``vmap``: map a function over a dimension of its inputs.

ember has no per-op batching rules: ``vmap`` runs the function once per slice
(what PyTorch falls back to for an op without a batching rule) and stacks the
results.  Slices are views (``select``) and the results are joined with
``stack``, so gradients flow through ``vmap`` like through any other ops, and
``vmap`` composes with itself and with the differentiation transforms.  Its
speed is that of the Python loop: its purpose is the convenience and the
semantics (per-sample gradients, batched Jacobians), not speed.
"""
import functools

from ember._core._index import stack
from ember._core._random import default_generator, device_generator
from ember._core._tensor import Tensor, zeros
from ember.func._pytree import tree_flatten, tree_unflatten, broadcast_to_and_flatten

__all__ = ["vmap"]


def _check_randomness_arg(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


class _RandomnessCheck:
    """Watches the default generators (the CPU one and those of the arguments' devices)
    across calls of the mapped function: ``"error"`` raises as PyTorch does when one
    draws numbers, ``"same"`` rewinds them before each call, ``"different"`` lets
    them run on."""

    def __init__(self, randomness, args):
        self.randomness = randomness
        gens = {"cpu": default_generator}
        for x in tree_flatten(args)[0]:
            if isinstance(x, Tensor) and x.device.type != "cpu":
                gens.setdefault(str(x.device), device_generator(x.device))
        self.gens = list(gens.values())
        self.start = self._state()

    def _state(self):
        return [(g.initial_seed(), g.get_offset()) for g in self.gens]

    def before_call(self):
        if self.randomness == "same":
            for g, (seed, offset) in zip(self.gens, self.start):
                g.manual_seed(seed).set_offset(offset)

    def after_call(self):
        if self.randomness == "error" and self._state() != self.start:
            raise RuntimeError("vmap: called random operation while in randomness error mode. "
                               "Please either use the 'same' or 'different' randomness flags "
                               "on vmap or perform the randomness operation out of vmap")

    def __enter__(self):
        self.before_call()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.after_call()


def _wraps(func):
    """``functools.wraps`` that tolerates callables without a name (partials, objects)."""
    return functools.wraps(func, assigned=[a for a in functools.WRAPPER_ASSIGNMENTS
                                           if hasattr(func, a)])


def _name(func):
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return getattr(func, "__name__", repr(func))


def _flat_in_dims(func, in_dims, args):
    """``(flat_in_dims, flat_args, args_spec)``, the dims checked and made non-negative."""
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected "
                         "`in_dims` to be int or a (potentially nested) tuple matching the "
                         f"structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to "
                         "add inputs, or you are trying to vmap over a function with no inputs. "
                         "The latter is unsupported.")
    flat_args, args_spec = tree_flatten(args)
    flat_dims = broadcast_to_and_flatten(in_dims, args_spec)
    where = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
    if flat_dims is None:
        raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {args_spec}.")
    out = []
    for arg, d in zip(flat_args, flat_dims):
        if d is not None and (isinstance(d, bool) or not isinstance(d, int)):
            raise ValueError(f"{where}: Got in_dim={d} for an input but in_dim must be either "
                             "an integer dimension or None.")
        if d is not None and not isinstance(arg, Tensor):
            raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of type "
                             f"{type(arg)}. We cannot vmap over non-Tensor arguments, please "
                             "use None as the respective in_dim")
        if d is not None and not -arg.dim() <= d < arg.dim():
            raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a "
                             f"Tensor of dimensionality {arg.dim()} so expected in_dim to "
                             f"satisfy -{arg.dim()} <= in_dim < {arg.dim()}.")
        out.append(None if d is None else d % arg.dim())
    return out, flat_args, args_spec


def _batch_size(flat_dims, flat_args):
    sizes = [a.shape[d] for a, d in zip(flat_args, flat_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0]


def _slice(flat_args, flat_dims, i):
    """The arguments at index ``i`` of the mapped dims (``None``: a zero-filled slice,
    to learn the output's structure when the batch is empty)."""
    out = []
    for a, d in zip(flat_args, flat_dims):
        if d is None:
            out.append(a)
        elif i is None:
            shape = tuple(a.shape[:d]) + tuple(a.shape[d + 1:])
            out.append(zeros(shape, dtype=a.dtype, device=a.device))
        else:
            out.append(a.select(d, i))
    return out


def _same_everywhere(values):
    first = values[0]
    if isinstance(first, Tensor):
        return all(v is first or (isinstance(v, Tensor) and v.shape == first.shape
                                  and v.dtype == first.dtype and bool((v == first).all()))
                   for v in values[1:])
    return all(v is first or v == first for v in values[1:])


def _flat_out_dims(func, out_dims, output, out_spec):
    if isinstance(output, Tensor) and isinstance(out_dims, tuple) and len(out_dims) == 1:
        out_dims = out_dims[0]
    if out_dims is None or (isinstance(out_dims, int) and not isinstance(out_dims, bool)):
        return [out_dims] * out_spec.num_leaves
    if isinstance(out_dims, (tuple, list, dict)):
        flat = broadcast_to_and_flatten(out_dims, out_spec)
        if flat is None:
            raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): "
                             "out_dims is not compatible with the structure of `outputs`. "
                             f"out_dims has structure {tree_flatten(out_dims)[1]} but outputs "
                             f"has structure {out_spec}.")
        return flat
    raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an "
                     "int, None or a python collection of ints representing where in the "
                     "outputs the vmapped dimension should appear.")


def _join(func, outputs, out_dims, batch_size):
    """Stack the per-slice outputs (pytrees) leaf by leaf along their ``out_dims``."""
    flat0, out_spec = tree_flatten(outputs[0])
    flats = [flat0]
    for o in outputs[1:]:
        flat, spec = tree_flatten(o)
        if spec != out_spec:
            raise RuntimeError(f"vmap({_name(func)}, ...): `{_name(func)}` returned outputs of "
                               f"different structures for different slices: {out_spec} and "
                               f"{spec}")
        flats.append(flat)
    dims = _flat_out_dims(func, out_dims, outputs[0], out_spec)
    result = []
    for k, d in enumerate(dims):
        leaves = [f[k] for f in flats]
        if d is None:
            if batch_size and not _same_everywhere(leaves):
                raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` can not return a "
                                 "BatchedTensor when out_dim is None")
            result.append(leaves[0])
            continue
        if not isinstance(leaves[0], Tensor):
            raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return "
                             f"Tensors, got type {type(leaves[0])}. Did you mean to set "
                             "out_dims= to None for output?")
        joined = stack(leaves, dim=d)
        result.append(joined if batch_size else joined.narrow(d % joined.dim(), 0, 0))
    return tree_unflatten(result, out_spec)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a dimension of its inputs, as ``torch.vmap``.

    ``vmap(func)(x)`` equals ``ember.stack([func(x[0]), func(x[1]), ...])``,
    and that is how it is computed: ember has no per-op batching rules, so
    ``func`` runs once per slice (PyTorch's fallback for ops without a batching
    rule) and the results are stacked.  Its speed is that of this Python loop;
    use it for what it expresses (per-sample gradients with :func:`grad`,
    batched Jacobians, mapping a function written for one example), not to make
    code faster.  Gradients flow through it, and it nests.

    Parameters
    ----------
    func : callable
        Takes the (sliced) positional arguments and returns a Tensor or a pytree
        of Tensors.  Keyword arguments are passed unmapped.
    in_dims : int or tuple, default 0
        The dimension of each argument to map over: an int for all of them, or
        a tuple with one entry per argument, each an int, None (not mapped) or a
        pytree matching that argument.  Every mapped dimension must have the
        same size.
    out_dims : int, None or tuple, default 0
        Where the mapped dimension goes in each output (an int for all, or a
        pytree matching the outputs); None for an output that is the same for
        every slice (checked by value: PyTorch checks instead that the output
        does not depend on the mapped inputs).
    randomness : {"error", "different", "same"}, default "error"
        What random draws inside ``func`` do: ``"error"`` raises RuntimeError,
        ``"different"`` gives each slice its own draws, ``"same"`` gives every
        slice the same draws (the generators are rewound before each slice).
    chunk_size : int, optional
        Accepted for compatibility (must be positive): PyTorch maps that many
        slices at a time to bound memory; the loop already maps one at a time.

    Returns
    -------
    callable
        Takes ``func``'s arguments, mapped along ``in_dims``.

    Examples
    --------
    >>> import ember
    >>> x, y = ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 10.0])
    >>> ember.vmap(ember.dot)(x, x)
    tensor([ 5., 25.])
    >>> ember.vmap(lambda row, s: row * s, in_dims=(1, None))(x, y)
    tensor([[ 1., 30.],
            [ 2., 40.]])
    """
    _check_randomness_arg(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @_wraps(func)
    def wrapped(*args, **kwargs):
        flat_dims, flat_args, args_spec = _flat_in_dims(func, in_dims, args)
        batch_size = _batch_size(flat_dims, flat_args)
        check = _RandomnessCheck(randomness, args)
        outputs = []
        for i in range(batch_size) if batch_size else [None]:
            with check:
                outputs.append(func(*tree_unflatten(_slice(flat_args, flat_dims, i), args_spec),
                                    **kwargs))
        return _join(func, outputs, out_dims, batch_size)

    return wrapped
