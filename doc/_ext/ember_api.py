"""Write the API reference from the live ``ember`` namespace.

Runs at ``config-inited``, before Sphinx looks for source files, and writes
``reference/generated/``: one page per kind of function (creation, views,
elementwise, reductions, ...), a page for :class:`ember.Tensor` listing every
method and attribute, a page for the dtypes, and one page per public
submodule (``ember.nn``, ...).  Nothing is listed by hand, so a function added
anywhere in the package appears in the reference at the next build.

How a function finds its page:

1. A function of an op module ``ember.ops.<kind>`` (defined there, or listed
   in that module's ``functions`` dict, as the generated elementwise ops are)
   goes to ``<kind>``.
2. Core functions (from ``ember._core`` and ``ember/__init__.py``) are placed
   by the ``CORE_KINDS`` table, or else by ``CORE_MODULE_KINDS``.
3. Anything else goes to the kind named by its defining module
   (``ember.autograd.grad_mode`` -> ``autograd``), and failing that to
   "Utilities".
"""
import importlib
import importlib.util
import inspect
import sys
import types
from pathlib import Path

# Page order and titles.  Kinds not listed here get a page titled from their name.
KIND_TITLES = {
    "tensor": "The Tensor class",
    "creation": "Tensor creation",
    "views": "Views and shape manipulation",
    "index": "Indexing, slicing and selection",
    "elementwise": "Elementwise operations",
    "elementwise_math": "Elementwise math with parameters",
    "reduce": "Reductions",
    "stats": "Statistics",
    "linalg": "Linear algebra",
    "random": "Random sampling",
    "autograd": "Automatic differentiation",
    "func": "Function transforms",
    "dtypes": "Data types and promotion",
    "devices": "Devices and threads",
    "interop": "Interoperability",
    "serialization": "Saving and loading",
    "utilities": "Utilities",
    "tensor_api": "Broadcasting, dtype limits and tensor queries",
    "api_functions": "More PyTorch functions: copies, windows, in-place forms",
    "switches": "Global switches",
    "control_flow": "Control flow",
}

CORE_KINDS = {
    "tensor": ["Tensor", "Size", "Storage", "UntypedStorage", "TypedStorage", "layout", "strided",
               "BoolTensor", "ByteTensor", "CharTensor", "ShortTensor", "IntTensor", "LongTensor",
               "HalfTensor", "BFloat16Tensor", "FloatTensor", "DoubleTensor", "BoolStorage",
               "ByteStorage", "CharStorage", "ShortStorage", "IntStorage", "LongStorage",
               "HalfStorage", "BFloat16Storage", "FloatStorage", "DoubleStorage",
               "ComplexFloatStorage", "ComplexDoubleStorage"],
    "creation": [
        "empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like", "full_like",
        "empty_strided", "arange", "linspace", "logspace", "eye", "tensor", "as_tensor",
        "asarray", "clone",
    ],
    "views": [
        "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute", "narrow",
        "select", "split", "chunk", "unbind", "diagonal", "as_strided", "movedim",
        "swapaxes", "swapdims", "broadcast_shapes", "broadcast_to", "real", "imag",
    ],
    "dtypes": [
        "dtype", "promote_types", "can_cast", "result_type", "get_default_dtype",
        "set_default_dtype", "set_default_tensor_type", "is_floating_point", "is_complex",
    ],
    "devices": ["device", "set_num_threads", "get_num_threads", "set_flush_denormal"],
    "interop": ["from_numpy", "from_dlpack", "to_dlpack"],
    "utilities": ["is_tensor", "numel", "set_printoptions"],
}
_CORE_KIND_OF = {name: kind for kind, names in CORE_KINDS.items() for name in names}

# Subpackages that only implement what the top-level namespace re-exports.
IMPLEMENTATION_MODULES = {"ember.ops", "ember._core"}
# Kind of a function defined in ``ember._core.<module>`` and not in CORE_KINDS.
CORE_MODULE_KINDS = {"_tensor": "utilities", "_dtype": "dtypes", "_creation": "creation"}

OUT_DIR = Path("reference") / "generated"


def _defining_module(obj):
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(obj), "__module__", "") or ""
    return module


def _op_modules():
    """``{kind: module}`` for every loaded ``ember.ops.<kind>`` module."""
    return {
        name.split(".")[2]: module
        for name, module in sorted(sys.modules.items())
        if name.startswith("ember.ops.") and name.count(".") == 2 and module is not None
    }


def _op_kinds():
    """``{id(function): kind}`` for the functions of the op modules."""
    kind_of = {}
    for kind, module in _op_modules().items():
        for name, obj in vars(module).items():
            if callable(obj) and _defining_module(obj) == module.__name__ and not name.startswith("_"):
                kind_of[id(obj)] = kind
        for obj in getattr(module, "functions", {}).values():
            kind_of[id(obj)] = kind
    return kind_of


def _kind(name, obj, op_kinds):
    if name in _CORE_KIND_OF:
        return _CORE_KIND_OF[name]
    if id(obj) in op_kinds:
        return op_kinds[id(obj)]
    parts = _defining_module(obj).split(".")
    if len(parts) > 2 and parts[:2] == ["ember", "_core"]:
        return CORE_MODULE_KINDS.get(parts[2], parts[2].lstrip("_"))
    if len(parts) > 1 and parts[0] == "ember" and parts[1] != "ops":
        return parts[1].lstrip("_")
    return "utilities"


def public_namespace(module):
    """``{name: object}`` that ``module`` makes public.

    ``__all__`` when defined; otherwise every name without a leading
    underscore, except submodules and classes or functions imported from
    outside ember (``typing.Optional`` and the like).
    """
    if hasattr(module, "__all__"):
        return {n: getattr(module, n) for n in module.__all__}
    namespace = {}
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        if (inspect.isclass(obj) or callable(obj)) and \
                not _defining_module(obj).startswith("ember"):
            continue
        namespace[name] = obj
    return namespace


def _submodule_names(module):
    """Public names of a submodule: ``__all__``, else what is defined in it or below it.

    Stricter than :func:`public_namespace`: a submodule such as ``ember.nn``
    often imports ``Tensor`` or other top-level names, which it should not list
    again.  Op functions (from ``ember.ops``) count as its own.
    """
    if hasattr(module, "__all__"):
        return sorted(module.__all__)
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        origin = _defining_module(obj)
        if origin == module.__name__ or origin.startswith(module.__name__ + ".") or \
                origin.startswith("ember.ops") or (origin == "ember" and callable(obj)):
            names.append(name)
    return sorted(names)


def _public_submodules(module):
    """Public submodules of ``module`` that hold something not re-exported by ``module``."""
    exported = {id(getattr(module, n)) for n in dir(module) if not n.startswith("_")}
    found = []
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or not isinstance(obj, types.ModuleType):
            continue
        full = obj.__name__
        if not full.startswith(module.__name__ + ".") or full in IMPLEMENTATION_MODULES:
            continue
        if module.__name__ != "ember" and all(
                id(getattr(obj, n)) in exported for n in _submodule_names(obj)):
            continue
        found.append(obj)
    return found


def _title(text, char="="):
    return f"{text}\n{char * len(text)}\n"


def _signature(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _canonical(names, namespace):
    """Map each name to the name under which its object is documented in full.

    Several names may hold one object (``clip`` and ``clamp``): the one equal
    to the object's ``__name__`` is documented, the others point to it.
    """
    first = {}
    for name in names:
        obj = namespace[name]
        key = id(obj)
        own = getattr(obj, "__name__", None) == name
        if key not in first or own:
            first[key] = name
    return {name: first[id(namespace[name])] for name in names}


def _entries(prefix, names, namespace, elsewhere=None):
    """autodoc directives for ``names``; aliases get a one-line entry, as do names
    documented elsewhere (``elsewhere``: name -> full name of their documentation)."""
    canonical = _canonical(names, namespace)
    elsewhere = elsewhere or {}
    lines = []
    for name in names:
        obj = namespace[name]
        full = f"{prefix}.{name}"
        target = canonical[name]
        if target != name or name in elsewhere:
            role = _role(obj)
            kind = {"class": "class", "func": "function", "data": "data"}[role]
            sig = _signature(obj) if kind == "function" else ""
            lines += [f".. py:{kind}:: {name}{sig}", f"   :module: {prefix}", "",
                      f"   Alias of :{role}:`{elsewhere.get(name, f'{prefix}.{target}')}`.", ""]
        elif inspect.isclass(obj):
            lines += [f".. autoclass:: {full}", "   :members:", ""]
        elif callable(obj):
            lines += [f".. autofunction:: {full}", ""]
        else:
            lines += [f".. py:data:: {name}", f"   :module: {prefix}", f"   :value: {obj!r}", ""]
    return lines


def _summary(obj):
    """The first paragraph of ``obj``'s docstring, on one line."""
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _role(obj):
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "func"
    return "data"


def _summary_table(prefix, names, namespace, role=None):
    """A two-column table: link and one-line summary of each name.

    Written here rather than with ``autosummary``, whose lookups try every
    dotted prefix as a module and make the build slow.
    """
    if not names:
        return []
    lines = [".. list-table::", "   :widths: 30 70", "   :class: autosummary", ""]
    for name in names:
        obj = namespace[name]
        lines += [f"   * - :{role or _role(obj)}:`~{prefix}.{name}`",
                  f"     - {_summary(obj) or ' '}"]
    return lines + [""]


def _kind_page(title, names, namespace):
    lines = [_title(title), ".. currentmodule:: ember", ""]
    lines += _summary_table("ember", names, namespace)
    lines += _entries("ember", names, namespace)
    return "\n".join(lines)


def _tensor_page(names, namespace):
    tensor = namespace["Tensor"]
    members = {n: getattr(tensor, n) for n in sorted(dir(tensor)) if not n.startswith("_")}
    attributes = [n for n, obj in members.items() if not callable(obj)]
    methods = [n for n, obj in members.items() if callable(obj)]
    lines = [_title(KIND_TITLES["tensor"]), ".. currentmodule:: ember", "",
             ".. autoclass:: ember.Tensor", ""]
    lines += _title("Attributes", "-").splitlines() + [""]
    lines += _summary_table("ember.Tensor", attributes, members, role="attr")
    lines += _title("Methods", "-").splitlines() + [""]
    lines += _summary_table("ember.Tensor", methods, members, role="meth")
    lines += [_title("Details", "-")]
    lines += [f".. auto{'property' if isinstance(members[n], property) else 'attribute'}"
              f":: ember.Tensor.{n}\n" for n in attributes]
    lines += [f".. automethod:: ember.Tensor.{n}\n" for n in methods]
    others = [n for n in names if n != "Tensor"]
    if others:
        lines += [_title("Related classes", "-")] + _entries("ember", others, namespace)
    return "\n".join(lines)


def _dtype_rows(dtype_names, namespace):
    """One list-table row per dtype object, with all the names it goes by."""
    by_object = {}
    for name in dtype_names:
        by_object.setdefault(id(namespace[name]), []).append(name)
    rows = []
    for names in by_object.values():
        obj = namespace[names[0]]
        primary = repr(obj).removeprefix("ember.")
        aliases = ", ".join(f"``ember.{n}``" for n in names if n != primary) or "--"
        category = ("complex" if obj.is_complex else "floating point" if obj.is_floating_point
                    else "boolean" if primary == "bool" else "integer")
        rows.append((obj.itemsize, category, primary, aliases))
    rows.sort(key=lambda r: (["boolean", "integer", "floating point", "complex"].index(r[1]),
                             r[0], r[2]))
    lines = [".. list-table::", "   :header-rows: 1", "",
             "   * - dtype", "     - other names", "     - kind", "     - bytes"]
    for itemsize, category, primary, aliases in rows:
        lines += [f"   * - :data:`ember.{primary}`", f"     - {aliases}",
                  f"     - {category}", f"     - {itemsize}"]
    return lines + [""]


def _dtypes_page(names, dtype_names, namespace):
    lines = [_title(KIND_TITLES["dtypes"]), ".. currentmodule:: ember", ""]
    lines += _summary_table("ember", names, namespace)
    lines += _title("dtype objects", "-").splitlines() + [""]
    lines += _dtype_rows(dtype_names, namespace)
    for name in dtype_names:
        obj = namespace[name]
        primary = repr(obj).removeprefix("ember.")
        text = (f"Alias of :data:`ember.{primary}`." if primary != name else
                f"The ``{name}`` dtype: {obj.itemsize} byte{'s' if obj.itemsize > 1 else ''} per element.")
        lines += [f".. py:data:: {name}", "   :module: ember", "", f"   {text}", ""]
    lines += _title("Functions and classes", "-").splitlines() + [""]
    lines += _entries("ember", names, namespace)
    return "\n".join(lines)


def _home_pages(modules):
    """``(module name, name) -> full name documented`` for each class or function that
    the pages of unrelated submodules list (``ember.profiler.record_function`` is also
    ``ember.autograd.profiler``'s): it is documented on the page of the module that
    defines it, else on the first page; the other pages give an alias.  (A submodule
    that re-exports from its own child is left as it was.)"""
    places = {}
    for module in modules:
        for name in _submodule_names(module):
            obj = getattr(module, name)
            if callable(obj) and not isinstance(obj, types.ModuleType):
                places.setdefault(id(obj), []).append((module.__name__, name, obj))
    home = {}
    for found in places.values():
        tops = [f for f in found if not any(f[0].startswith(g[0] + ".") for g in found)]
        if len(tops) > 1:
            origin = _defining_module(found[0][2])
            best = next((f for f in tops if origin == f[0] or origin.startswith(f[0] + ".")),
                        tops[0])
            home.update({f[:2]: f"{best[0]}.{best[1]}" for f in tops if f is not best})
    return home


def _module_page(module, top_level, home):
    """A submodule's page; what the top level also exports is documented there, and
    what another submodule's page documents (``home``) is an alias here."""
    names = [n for n in _submodule_names(module)
             if not isinstance(getattr(module, n), types.ModuleType)]
    namespace = {n: getattr(module, n) for n in names}
    top_ids = {id(obj): f"ember.{n}" for n, obj in top_level.items()}
    elsewhere = {n: top_ids[id(obj)] for n, obj in namespace.items() if id(obj) in top_ids}
    for n in namespace:
        if n not in elsewhere and (module.__name__, n) in home:
            elsewhere[n] = home[module.__name__, n]
    lines = [_title(f"``{module.__name__}``"), f".. automodule:: {module.__name__}",
             "   :no-members:", ""]
    lines += _summary_table(module.__name__, names, namespace)
    lines += _entries(module.__name__, names, namespace, elsewhere)
    return "\n".join(lines)


# submodules that need optional packages (``ember`` imports them on first use)
OPTIONAL_SUBMODULES = ("ember.onnx", "ember.utils.tensorboard")


def build_pages():
    """``{relative file name: text}`` of every reference page, from the live package."""
    ember = importlib.import_module("ember")
    for name in OPTIONAL_SUBMODULES:
        importlib.import_module(name)       # imported on first use, so not yet loaded
    namespace = public_namespace(ember)
    dtype_type = namespace["dtype"]
    op_kinds = _op_kinds()

    by_kind, dtype_names = {}, []
    for name, obj in sorted(namespace.items()):
        if isinstance(obj, dtype_type):
            dtype_names.append(name)
            continue
        by_kind.setdefault(_kind(name, obj, op_kinds), []).append(name)

    order = list(KIND_TITLES) + sorted(set(by_kind) - set(KIND_TITLES))
    pages, toc = {}, []
    for kind in order:
        names = by_kind.get(kind, [])
        if kind == "tensor":
            pages["tensor.rst"] = _tensor_page(names, namespace)
        elif kind == "dtypes":
            pages["dtypes.rst"] = _dtypes_page(names, dtype_names, namespace)
        elif names:
            title = KIND_TITLES.get(kind, kind.replace("_", " ").capitalize())
            pages[f"{kind}.rst"] = _kind_page(title, names, namespace)
        else:
            continue
        toc.append(kind)

    modules, stack = [], _public_submodules(ember)
    while stack:
        module = stack.pop(0)
        modules.append(module)
        stack = _public_submodules(module) + stack
    home = _home_pages(modules)
    for module in modules:
        pages[f"{module.__name__}.rst"] = _module_page(module, namespace, home)
        toc.append(module.__name__)

    pages["contents.inc"] = "\n".join(
        [".. toctree::", "   :maxdepth: 1", ""] + [f"   generated/{page}" for page in toc]) + "\n"
    return pages


def coverage_table():
    """The API-coverage table of ``tools/api_coverage.py`` (ember's share of PyTorch's
    public API) as reStructuredText, measured against the installed PyTorch."""
    tool = Path(__file__).resolve().parents[2] / "tools" / "api_coverage.py"
    spec = importlib.util.spec_from_file_location("api_coverage", tool)
    api_coverage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(api_coverage)
    try:
        import torch  # noqa: F401  (the reference the table measures against)
    except ImportError:
        return ("PyTorch is not installed where these pages were built, so the table is "
                "absent; ``python tools/api_coverage.py`` prints it.\n")
    rows = api_coverage.coverage()
    return api_coverage.format_rst(api_coverage.table(rows), rows)


def write_pages(out_dir):
    """Write the pages into ``out_dir``, touching only files whose text changed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = build_pages()
    pages["api_coverage.inc"] = coverage_table()
    for name, text in pages.items():
        path = out_dir / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    for path in out_dir.iterdir():
        if path.name not in pages:
            path.unlink()
    return pages


def _on_config_inited(app, config):
    write_pages(Path(app.srcdir) / OUT_DIR)


def setup(app):
    app.connect("config-inited", _on_config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
