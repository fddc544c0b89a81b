"""How much of PyTorch's public API ember provides.

Lists the public names of ``torch``, ``torch.Tensor``, ``torch.linalg``,
``torch.fft``, ``torch.func``, ``torch.special`` and ``torch.nn.functional`` next
to ember's (``ember``, ``ember.Tensor``, ``ember.linalg``, ...) and prints the share that
ember has, per namespace and overall.  A name counts when ember defines it; ember
has no stubs, so every name it defines is a working implementation.

Two shares are printed: over every public name, and over the names left after
taking out PyTorch's backend plumbing (cuDNN/MIOpen/oneDNN/FBGEMM entry points,
quantized and sparse kernels, TorchScript and compiler internals), which no
user script calls.

Usage::

    python tools/api_coverage.py              # the summary table
    python tools/api_coverage.py --missing    # plus the names ember lacks
    python tools/api_coverage.py --rst FILE   # the table as reStructuredText (for the docs)
"""
import argparse
import importlib
import re
import sys
import types

# (label, torch namespace, ember namespace), as dotted paths
NAMESPACES = [
    ("torch", "torch", "ember"),
    ("torch.Tensor", "torch.Tensor", "ember.Tensor"),
    ("torch.linalg", "torch.linalg", "ember.linalg"),
    ("torch.fft", "torch.fft", "ember.fft"),
    ("torch.func", "torch.func", "ember.func"),
    ("torch.special", "torch.special", "ember.special"),
    ("torch.nn.functional", "torch.nn.functional", "ember.nn.functional"),
]

# PyTorch's backend plumbing: public by spelling, but kernels of one backend, quantized
# or sparse layouts, or TorchScript/compiler machinery rather than user API
BACKEND_PATTERN = re.compile(
    r"^(cudnn|miopen|mkldnn|fbgemm|native_|quantize|quantized|q_|dequantize|fake_quantize|"
    r"sparse|to_sparse|is_sparse|ccol|crow|col_indices|row_indices|values$|indices$|"
    r"coalesce|is_coalesced|sspaddmm|smm|hspmm|int_repr|qscheme|qr_|"
    r"compile|compiler|export|jit|fx|script|trace|sym|Sym|dynamo|functionalize|debug_unwrap|"
    r"is_nonzero|is_same_size|is_inference|has_torch_function|handle_torch_function|"
    r"boolean_dispatch|assert_int_or_pair|BroadcastingList|Callable|_)"
)


# classes of torch._C that users construct or meet directly (the rest of torch._C's
# classes are TorchScript's IR, type system and serialisation machinery)
USER_CLASSES = {"Generator", "Size", "dtype", "device", "finfo", "iinfo", "Stream", "Event",
                "layout", "memory_format", "Tensor"}


def is_user_api(name, value):
    """Whether a public torch name is user API rather than backend or compiler plumbing,
    typing helpers, docstring fragments, legacy per-dtype tensor types or storages."""
    if BACKEND_PATTERN.match(name) or isinstance(value, (str, dict)):
        return False
    if name.endswith(("Storage", "Type")) or re.fullmatch(r"[A-Z][a-z]+Tensor", name):
        return False
    module = getattr(value, "__module__", None) or ""
    if module == "typing" or module.startswith("typing"):
        return False
    if name.isupper():          # build flags and internal constants (TYPE_CHECKING, AVG)
        return False
    kind = type(value).__name__
    if kind in ("tensortype", "AggregationType", "_LegacyStorageMeta"):
        return False
    if (kind == "pybind11_type" or isinstance(value, type) and module.startswith("torch._C")) \
            and name not in USER_CLASSES:
        return False
    return True


def resolve(path):
    """The object at dotted ``path`` (a module or a class), or None when it is absent."""
    parts = path.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except ImportError:
        return None
    for i, part in enumerate(parts[1:], 1):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(".".join(parts[:i + 1]))
        except ImportError:
            return None
    return obj


def public_names(namespace):
    """The public API names of a module or class: no leading underscore, no submodules."""
    if namespace is None:
        return set()
    names = set()
    for name in dir(namespace):
        if name.startswith("_"):
            continue
        try:
            value = getattr(namespace, name)
        except Exception:        # properties that raise on the class
            value = None
        if isinstance(value, types.ModuleType):
            continue
        names.add(name)
    return names


def coverage():
    """One row per namespace: label, torch's names, the names ember has, the user-API subset."""
    rows = []
    for label, torch_path, ember_path in NAMESPACES:
        wanted = public_names(resolve(torch_path))
        have = wanted & public_names(resolve(ember_path))
        torch_ns = resolve(torch_path)
        user_api = {n for n in wanted if is_user_api(n, getattr(torch_ns, n, None))
                    and not (n == "Tensor" and label != "torch")}   # a re-export
        rows.append((label, wanted, have, user_api))
    return rows


def _share(part, whole):
    return 100.0 * part / whole if whole else 100.0


def table(rows):
    """The summary as rows of strings: namespace, counts and shares, a total row last."""
    out = []
    totals = [0, 0, 0, 0]
    for label, wanted, have, user_api in rows:
        counts = [len(wanted), len(have), len(user_api), len(have & user_api)]
        totals = [t + c for t, c in zip(totals, counts)]
        out.append([label, *map(str, counts), f"{_share(counts[1], counts[0]):.1f}%",
                    f"{_share(counts[3], counts[2]):.1f}%"])
    out.append(["total", *map(str, totals), f"{_share(totals[1], totals[0]):.1f}%",
                f"{_share(totals[3], totals[2]):.1f}%"])
    return out


HEADER = ["namespace", "torch names", "in ember", "user API", "in ember",
          "share (all)", "share (user API)"]


def format_text(rows):
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths))) for r in [HEADER, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def format_rst(rows, detail):
    """A list-table of the summary, then the names ember lacks per namespace."""
    import torch
    lines = [f"Measured against PyTorch {torch.__version__}, when this documentation was built.",
             "", ".. list-table::", "   :header-rows: 1", ""]
    for r in [HEADER, *rows]:
        lines.append("   * - " + r[0])
        lines.extend("     - " + c for c in r[1:])
    for label, wanted, have, user_api in detail:
        missing = sorted(user_api - have)
        if not missing:
            continue
        lines += ["", f"Not yet in ember from ``{label}`` ({len(missing)})", "-" * 60, ""]
        lines.append(", ".join(f"``{n}``" for n in missing))
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", action="store_true",
                        help="also list the user-API names ember lacks")
    parser.add_argument("--rst", metavar="FILE", help="write the table as reStructuredText")
    args = parser.parse_args(argv)
    rows = coverage()
    summary = table(rows)
    if args.rst:
        with open(args.rst, "w") as f:
            f.write(format_rst(summary, rows))
        return 0
    print(format_text(summary))
    if args.missing:
        for label, wanted, have, user_api in rows:
            missing = sorted(user_api - have)
            print(f"\n{label}: {len(missing)} missing\n  " + " ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
