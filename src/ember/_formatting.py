"""``repr`` of tensors, laid out exactly as PyTorch prints them."""
import math
from dataclasses import dataclass

import numpy as np


@dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors are printed (same arguments as ``torch.set_printoptions``)."""
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        p = PRINT_OPTS.precision
        if not floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if finite.size:
                absval = np.abs(finite)
                lo, hi = absval.min(), absval.max()
                self.int_mode = bool(np.all(finite == np.ceil(finite)))
                if PRINT_OPTS.sci_mode is not None:
                    # decided before the widths are measured, as in PyTorch
                    self.sci_mode = PRINT_OPTS.sci_mode
                else:
                    with np.errstate(over="ignore"):  # max / tiny subnormal is inf: sci mode
                        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                for v in finite.tolist():
                    if self.sci_mode:
                        s = f"{v:.{p}e}"
                    elif self.int_mode:
                        s = f"{v:.0f}" + "."
                    else:
                        s = f"{v:.{p}f}"
                    self.max_width = max(self.max_width, len(s))

    def width(self):
        return self.max_width

    def format(self, value):
        p = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a):
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * e:
        a = np.concatenate([a[:e], a[-e:]])
    return np.stack([_summarized(x) for x in a]) if a.ndim > 1 else a


def _val_str(val, f1, f2):
    if f2 is not None:
        real = f1.format(val.real)
        imag = (f2.format(val.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag
    return f1.format(val)


def _vector_str(a, indent, summarize, f1, f2):
    element_length = f1.width() + 2
    if f2 is not None:
        element_length += f2.width() + 1
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([_val_str(v, f1, f2) for v in a[:e].tolist()] + [" ..."]
                + [_val_str(v, f1, f2) for v in a[-e:].tolist()])
    else:
        data = [_val_str(v, f1, f2) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with(a, indent, summarize, f1, f2):
    if a.ndim == 0:
        return _val_str(a.item(), f1, f2)
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, f1, f2)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_tensor_str_with(a[i], indent + 1, summarize, f1, f2) for i in range(e)] + ["..."]
                  + [_tensor_str_with(a[i], indent + 1, summarize, f1, f2)
                     for i in range(a.shape[0] - e, a.shape[0])])
    else:
        slices = [_tensor_str_with(a[i], indent + 1, summarize, f1, f2) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(t, indent):
    if t.numel() == 0:
        return "[]"
    summarize = t.numel() > PRINT_OPTS.threshold
    a = np.asarray(t.detach().cpu().numpy(force=True))
    if a.dtype.kind == "V" or a.dtype.itemsize == 2 and a.dtype.kind == "f" or str(a.dtype) == "bfloat16":
        a = a.astype(np.float32)
    if a.dtype.kind == "c":
        src = _summarized(a) if summarize else a
        f1 = _Formatter(src.real, True)
        f2 = _Formatter(src.imag, True)
        return _tensor_str_with(a, indent, summarize, f1, f2)
    f1 = _Formatter(_summarized(a) if summarize else a, a.dtype.kind == "f")
    return _tensor_str_with(a, indent, summarize, f1, None)


def _add_suffixes(tensor_str, suffixes, indent, force_newline=False):
    parts = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _has_default_dtype(dtype):
    import ember

    default = ember.get_default_dtype()
    default_complex = ember.complex128 if default == ember.float64 else ember.complex64
    return dtype in (default, default_complex, ember.int64, ember.bool)


def _grad_suffixes(values):
    if values.grad_fn is not None:
        name = getattr(values.grad_fn, "name", None)
        name = name() if callable(name) else type(values.grad_fn).__name__
        return [f"grad_fn=<{name}>"]
    return ["requires_grad=True"] if values.requires_grad else []


def sparse_repr(components, values, shape, nnz, layout_name):
    """PyTorch's repr of a sparse tensor: its index and value tensors by name
    (``components``: ``(name, tensor)`` pairs), then size, nnz, dtype and layout."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = [f"device='{values.device}'"] if values.device.type != "cpu" else []
    suffixes += ["size=" + str(tuple(shape)), "nnz=" + str(nnz)]
    if not _has_default_dtype(values.dtype):
        suffixes.append(f"dtype={values.dtype!r}")
    pieces = []
    for name, part in components:
        start = f"{name}=tensor("
        body = _tensor_str(part.detach(), indent + len(start))
        if part.numel() == 0:
            body += ", size=" + str(tuple(part.shape))
        pieces.append(start + body + ")")
    suffixes.append(f"layout=ember.{layout_name}")
    suffixes += _grad_suffixes(values)
    return _add_suffixes(prefix + (",\n" + " " * indent).join(pieces), suffixes, indent,
                         force_newline=layout_name == "sparse_coo")


def tensor_repr(t):
    import ember

    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    default = ember.get_default_dtype()
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if t.device.type == "meta":
        # no values to show: the size always, as PyTorch prints meta tensors
        suffixes.append("size=" + str(tuple(t.shape)))
        if t.dtype != default:
            suffixes.append(f"dtype={t.dtype!r}")
        body = "..."
    elif t.numel() == 0:
        if t.dim() != 1:
            suffixes.append("size=" + str(tuple(t.shape)))
        if t.dtype != default:
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if not _has_default_dtype(t.dtype):
            suffixes.append(f"dtype={t.dtype!r}")
        body = _tensor_str(t, indent)
    suffixes += _grad_suffixes(t)
    return _add_suffixes(prefix + body, suffixes, indent)
