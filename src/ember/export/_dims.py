"""Dynamic sizes of an export: :class:`Dim`, its hints, and the reading of
``dynamic_shapes`` into one entry per dim of each tensor input.

A tensor input's dims are either *static* (an int: the example's size, guarded by
``ExportedProgram.module()``) or *symbols* (a name shared by every dim the same
:class:`Dim` marks, with a range).  The graph itself runs at any size (the tracer keeps
sizes read from inputs symbolic); the symbols only say which sizes the program accepts.
"""
import math

import ember

__all__ = ["Dim", "DimHint", "dims", "ShapesCollection", "ValueRange"]


class DimHint:
    """``Dim.AUTO``, ``Dim.STATIC`` or ``Dim.DYNAMIC``: a dim marked without a name.

    ``AUTO`` makes the dim dynamic when the traced graph runs at other sizes and static
    otherwise; ``DYNAMIC`` makes it dynamic and raises when it cannot be; ``STATIC``
    keeps the example's size (as not marking it does).
    """
    __slots__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"DimHint({self.kind})"


class Dim:
    """A named dynamic size, as ``torch.export.Dim``: every dim marked with the same Dim
    must have the same size, within ``[min, max]``.

    Parameters
    ----------
    name : str
        Its name (a Python identifier), shown in ``range_constraints`` and guards.
    min : int, optional
        Smallest size accepted (default 0).
    max : int, optional
        Largest size accepted (default: no limit).

    Examples
    --------
    >>> import ember
    >>> batch = ember.export.Dim("batch", min=1, max=64)
    >>> batch
    Dim('batch', min=1, max=64)
    """
    AUTO = DimHint("AUTO")
    STATIC = DimHint("STATIC")
    DYNAMIC = DimHint("DYNAMIC")

    def __init__(self, name, *, min=None, max=None):   # noqa: A002 -- torch's names
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Dim name must be a Python identifier, got {name!r}")
        low = 0 if min is None else min
        high = math.inf if max is None else max
        if not isinstance(low, int) or low < 0 or not (high == math.inf or
                                                       isinstance(high, int)) or high < low:
            raise ValueError(f"Dim {name!r}: need 0 <= min <= max (integers), got "
                             f"min={min!r}, max={max!r}")
        self.__name__ = name
        self.min = low
        self.max = high

    def __repr__(self):
        extra = (f", min={self.min}" if self.min else "") + \
            (f", max={self.max}" if self.max != math.inf else "")
        return f"Dim({self.__name__!r}{extra})"


def dims(*names, min=None, max=None):   # noqa: A002 -- torch's names
    """Several :class:`Dim` with the same range, as ``torch.export.dims``.

    Examples
    --------
    >>> import ember
    >>> ember.export.dims("batch", "length", max=512)
    (Dim('batch', max=512), Dim('length', max=512))
    """
    return tuple(Dim(name, min=min, max=max) for name in names)


class ValueRange:
    """The sizes a symbol of ``range_constraints`` accepts: ``lower`` to ``upper``
    (``math.inf`` when unbounded), both included."""
    __slots__ = ("lower", "upper")

    def __init__(self, lower, upper):
        self.lower = lower
        self.upper = upper

    def __eq__(self, other):
        return isinstance(other, ValueRange) and (self.lower, self.upper) == \
            (other.lower, other.upper)

    def __hash__(self):
        return hash((self.lower, self.upper))

    def __repr__(self):
        upper = "int_oo" if self.upper == math.inf else self.upper
        return f"VR[{self.lower}, {upper}]"


class ShapesCollection:
    """Dynamic shapes given per tensor rather than per argument, as
    ``torch.export.ShapesCollection``: ``shapes[x] = {0: batch}``, then
    ``dynamic_shapes=shapes.dynamic_shapes(model, args, kwargs)``.

    Examples
    --------
    >>> import ember
    >>> x = ember.randn(2, 3)
    >>> shapes = ember.export.ShapesCollection()
    >>> shapes[x] = {0: ember.export.Dim("batch")}
    >>> shapes.dynamic_shapes(None, (x, 3))
    ({0: Dim('batch')}, None)
    """

    def __init__(self):
        self._shapes = {}

    def __setitem__(self, tensor, shape):
        if not isinstance(tensor, ember.Tensor):
            raise TypeError(f"ShapesCollection keys are tensors, got {type(tensor).__name__}")
        self._shapes[id(tensor)] = (tensor, shape)

    def __getitem__(self, tensor):
        return self._shapes[id(tensor)][1]

    def __contains__(self, tensor):
        return id(tensor) in self._shapes

    def dynamic_shapes(self, m, args, kwargs=None):
        """The ``dynamic_shapes`` of ``export(m, args, kwargs)``: one entry per argument
        (positional, then keyword), with the shapes set here for its tensors."""
        def walk(obj):
            if isinstance(obj, ember.Tensor):
                return self[obj] if obj in self else None
            if isinstance(obj, (tuple, list)):
                return type(obj)(walk(x) for x in obj)
            if isinstance(obj, dict):
                return {k: walk(v) for k, v in obj.items()}
            return None
        return tuple(walk(x) for x in tuple(args) + tuple((kwargs or {}).values()))


class Symbols:
    """The symbols of an export: name -> ``[min, max, kind]`` (kind ``"dim"``,
    ``"dynamic"`` or ``"auto"``), filled while reading ``dynamic_shapes``."""

    def __init__(self):
        self.table = {}

    def add(self, hint, leaf, d):
        if isinstance(hint, Dim):
            entry = [hint.min, hint.max, "dim"]
            known = self.table.setdefault(hint.__name__, entry)
            if known != entry:
                raise RuntimeError(f"Found different definitions {known[:2]} and "
                                   f"{entry[:2]} for the same Dim {hint.__name__!r}")
            return hint.__name__
        name = f"{leaf}_dim{d}"
        self.table[name] = [0, math.inf, hint.kind.lower()]
        return name


def read_dynamic_shapes(dynamic_shapes, top, leaves):
    """Per tensor leaf, a list with an int (static) or a symbol name per dim, and the
    :class:`Symbols`.

    ``top`` is ``[(argument name, value)]`` (positional, then keyword) and ``leaves``
    ``{id(tensor): leaf name}``.
    """
    symbols = Symbols()
    per_leaf = {}
    if dynamic_shapes is None:
        specs = [None] * len(top)
    elif isinstance(dynamic_shapes, dict):
        names = [name for name, _ in top]
        unknown = [k for k in dynamic_shapes if k not in names]
        if unknown:
            raise RuntimeError(f"When `dynamic_shapes` is specified as a dict, its top-level "
                               f"keys must be the arg names {names} of `inputs`, but here "
                               f"they are {list(dynamic_shapes)}")
        specs = [dynamic_shapes.get(name) for name in names]
    elif isinstance(dynamic_shapes, (tuple, list)):
        if len(dynamic_shapes) != len(top):
            raise RuntimeError(f"`dynamic_shapes` as a tuple or list must have one entry per "
                               f"input ({len(top)}), got {len(dynamic_shapes)}")
        specs = list(dynamic_shapes)
    else:
        raise TypeError("dynamic_shapes must be a dict, tuple or list, got "
                        f"{type(dynamic_shapes).__name__}")

    def walk(value, spec, where):
        if isinstance(value, ember.Tensor):
            per_leaf[id(value)] = _tensor_dims(value, spec, where, leaves[id(value)], symbols)
        elif isinstance(value, (tuple, list, dict)):
            if spec is None:
                spec = type(value)([None] * len(value)) if not isinstance(value, dict) \
                    else dict.fromkeys(value)
            if isinstance(value, dict):
                if not isinstance(spec, dict) or set(spec) - set(value):
                    raise RuntimeError(f"dynamic_shapes of {where} must be a dict with keys "
                                       f"among {list(value)}, got {spec!r}")
                for k, v in value.items():
                    walk(v, spec.get(k), f"{where}[{k!r}]")
            else:
                if not isinstance(spec, (tuple, list)) or len(spec) != len(value):
                    raise RuntimeError(f"dynamic_shapes of {where} must be a tuple or list "
                                       f"of {len(value)} entries, got {spec!r}")
                for k, (v, s) in enumerate(zip(value, spec)):
                    walk(v, s, f"{where}[{k}]")
        elif spec is not None:
            raise RuntimeError(f"dynamic_shapes of {where} must be None: it is not a tensor "
                               f"({type(value).__name__})")

    for (name, value), spec in zip(top, specs):
        walk(value, spec, name)
    return per_leaf, symbols


def _tensor_dims(x, spec, where, leaf, symbols):
    ndim = x.dim()
    hints = [None] * ndim
    if isinstance(spec, dict):
        for d, hint in spec.items():
            if not isinstance(d, int) or not -ndim <= d < ndim:
                raise RuntimeError(f"dynamic_shapes of {where}: dim {d!r} is out of range "
                                   f"for a {ndim}-d tensor")
            hints[d % ndim] = hint
    elif isinstance(spec, (tuple, list)):
        if len(spec) != ndim:
            raise RuntimeError(f"dynamic_shapes of {where}: {len(spec)} entries for a "
                               f"{ndim}-d tensor")
        hints = list(spec)
    elif spec is not None:
        raise RuntimeError(f"dynamic_shapes of {where} must be None, a dict of dims or a "
                           f"tuple, got {type(spec).__name__}")
    entries = []
    for d, hint in enumerate(hints):
        size = x.shape[d]
        if hint is None or hint is Dim.STATIC:
            entries.append(size)
            continue
        if not isinstance(hint, (Dim, DimHint)):
            raise RuntimeError(f"dynamic_shapes of {where}, dim {d}: expected a Dim, "
                               f"Dim.AUTO, Dim.DYNAMIC, Dim.STATIC or None, got {hint!r}")
        name = symbols.add(hint, leaf, d)
        low, high, _ = symbols.table[name]
        if not low <= size <= high:
            raise RuntimeError(f"Constraints violated ({name})! The example size of "
                               f"{leaf}.size()[{d}] is {size}, outside the range "
                               f"{ValueRange(low, high)} of {name}")
        entries.append(name)
    return entries
