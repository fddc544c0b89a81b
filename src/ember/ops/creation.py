"""Creation ops beyond the core factories: ``tril_indices``, ``triu_indices``,
``logspace``, the deprecated ``range`` and ``from_file``."""
import errno
import math
import operator
import os
import warnings

import numpy as np

from ember._core import _tensor as _core
from ember._core._dtype import float64, get_default_dtype, int64, to_dtype as as_dtype
from ember.ops.index import nonzero

__all__ = ["tril_indices", "triu_indices", "logspace", "range", "from_file"]


def _triangle_indices(row, col, offset, dtype, device, lower, fname):
    row, col, offset = operator.index(row), operator.index(col), operator.index(offset)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dtype = int64 if dtype is None else as_dtype(dtype)
    if dtype.name not in ("int32", "int64"):
        raise RuntimeError(f"\"{fname}\" not implemented for '{dtype.name}'")
    # found on the CPU (nonzero needs values), then moved: the device may be meta
    diff = (_core.arange(col, device="cpu").unsqueeze(0)
            - _core.arange(row, device="cpu").unsqueeze(1))    # j - i
    keep = diff <= offset if lower else diff >= offset
    device = _core.get_default_device() if device is None else device
    return nonzero(keep).t().contiguous().to(device, dtype)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices (a ``(2, N)`` tensor, row-major order) of the lower triangle
    of a ``row x col`` matrix, diagonal ``offset`` included.

    Examples
    --------
    >>> import ember
    >>> ember.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]])
    """
    _core._check_layout(layout, "tril_indices")
    return _triangle_indices(row, col, offset, dtype, device, True, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices of the upper triangle of a ``row x col`` matrix (see
    :func:`tril_indices`).

    Examples
    --------
    >>> import ember
    >>> ember.triu_indices(2, 3, 1)
    tensor([[0, 0, 1],
            [1, 2, 2]])
    """
    _core._check_layout(layout, "triu_indices")
    return _triangle_indices(row, col, offset, dtype, device, False, "triu_indices")


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False,
             out=None, layout=None):
    """``steps`` values ``base ** x`` for ``x`` evenly spaced from ``start`` to ``end``.

    Computed in float64 and rounded once to ``dtype`` (default: the default float dtype).

    Examples
    --------
    >>> import ember
    >>> ember.logspace(0, 3, 4)
    tensor([   1.,   10.,  100., 1000.])
    """
    _core._check_layout(layout, "logspace")
    dtype, device = _core._out_dtype("logspace", out, dtype), _core._out_device(out, device)
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    for name, bound in (("start", start), ("end", end)):
        if isinstance(bound, _core.Tensor) and bound.dim():
            raise RuntimeError(f"logspace only supports 0-dimensional start and end tensors, "
                               f"but got {name} with {bound.dim()} dimension(s).")
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
    start, end = float(start), float(end)
    if not (dtype.is_floating_point or dtype.is_complex):
        start, end = math.trunc(start), math.trunc(end)     # as PyTorch: integer bounds
    exponents = _core.linspace(start, end, steps, dtype=float64, device=device)
    result = (_core.full((), float(base), dtype=float64, device=device) ** exponents).to(dtype)
    return _finish(result, out, requires_grad)


def _finish(result, out, requires_grad):
    if out is not None:
        return _core._factory_out(result, out, requires_grad, True)
    return result.requires_grad_(requires_grad) if requires_grad else result


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False):
    """Values from ``start`` to ``end`` *inclusive*, spaced by ``step``: PyTorch's
    deprecated ``torch.range`` (it warns; :func:`arange` excludes ``end``).

    The result has ``floor((end - start) / step) + 1`` elements and the default float
    dtype whatever the arguments' types.  With an integer ``dtype``, the bounds and the
    step are first truncated to integers, as in PyTorch.

    Parameters
    ----------
    start : number, default 0
    end : number
    step : number, default 1
    out : Tensor, optional
    dtype : dtype, optional
    layout : optional
        Accepted for compatibility (strided only).
    device : optional
    requires_grad : bool, default False

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ember.range(1, 4)
    tensor([1., 2., 3., 4.])
    """
    _core._check_layout(layout, "range")
    dtype, device = _core._out_dtype("range", out, dtype), _core._out_device(out, device)
    if end is None:
        raise TypeError("range() missing 1 required positional arguments: \"end\"")
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
    start, end, step = (v.item() if isinstance(v, _core.Tensor) else v
                        for v in (start, end, step))
    # PyTorch computes in int64 for integer dtypes (the arguments truncated), else in double
    integral = not (dtype.is_floating_point or dtype.is_complex)
    cast = int if integral else float
    start, end, step = cast(start), cast(end), cast(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if integral:
        # C++ division truncates; the operands have the same sign here
        size = abs(end - start) // abs(step) + 1
        values = _core.arange(size, dtype=int64, device=device) * step + start
    else:
        size = int((end - start) / step + 1)
        values = _core.arange(size, dtype=float64, device=device) * step + start
    return _finish(values.to(dtype), out, requires_grad)


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False):
    """A 1-D CPU tensor of ``size`` elements read from a raw binary file by mapping it into
    memory, as ``torch.from_file``.

    Parameters
    ----------
    filename : str or bytes
        The file: its first ``size * dtype.itemsize`` bytes, in the machine's byte order.
    shared : bool, optional
        True: the tensor and the file share memory, so writes to the tensor go to the file
        (and other processes mapping it see them); the file is created, or extended with
        zeros, to the size needed.  False or None (default): the tensor starts with the
        file's bytes, and writes to it stay private (copy on write).
    size : int, optional
        The number of elements (default 0: an empty tensor).
    dtype : ember.dtype, optional
        The element type (default: the default dtype).
    layout, device, pin_memory
        As for the other factories; only a strided CPU tensor, not pinned, can map a file.

    Returns
    -------
    Tensor

    Raises
    ------
    RuntimeError
        For a missing file (unless ``shared``), a file shorter than the mapping (unless
        ``shared``), a negative ``size``, or another device or pinned memory.
    TypeError
        For a ``filename`` that is not a ``str`` or ``bytes``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import ember
    >>> path = os.path.join(tempfile.mkdtemp(), "data.bin")
    >>> np.arange(4, dtype=np.float32).tofile(path)
    >>> t = ember.from_file(path, shared=True, size=4, dtype=ember.float32)
    >>> t
    tensor([0., 1., 2., 3.])
    >>> t[0] = 7.0
    >>> np.fromfile(path, dtype=np.float32)
    array([7., 1., 2., 3.], dtype=float32)
    """
    if not isinstance(filename, (str, bytes)):
        raise TypeError(f"from_file(): argument 'filename' (position 1) must be str, not "
                        f"{type(filename).__name__}")
    _core._check_layout(layout, "from_file")
    if device is not None and _core.device(device).type != "cpu":
        raise RuntimeError("from_file: only CPU tensors can be mapped to files, not "
                           f"{_core.device(device)}")
    if pin_memory:
        raise RuntimeError("from_file: tensors mapped to files cannot be in pinned memory")
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
    size = operator.index(size)
    nbytes = size * dtype.itemsize
    name = os.fsdecode(filename)
    if nbytes < 0:
        raise RuntimeError(f"unable to mmap {nbytes} bytes from file <{name}>: Cannot allocate "
                           f"memory ({errno.ENOMEM})")
    if shared:
        # PyTorch opens the file read-write, creating it, and grows it to the mapping
        with open(name, "ab"):
            pass
        if os.path.getsize(name) < nbytes:
            os.truncate(name, nbytes)
    elif not os.path.exists(name):
        raise RuntimeError(f"unable to open file <{name}> in read-only mode: "
                           f"{os.strerror(errno.ENOENT)} ({errno.ENOENT})")
    elif os.path.getsize(name) < nbytes:
        raise RuntimeError(f"file <{name}> size <{os.path.getsize(name)}> is smaller than the "
                           f"required mapping size <{nbytes}>")
    if nbytes == 0:
        return _core.empty(0, dtype=dtype)
    # map the bytes (numpy keeps the mapping; the tensor keeps the array alive) and view
    # them as the dtype, which numpy may not have (bfloat16)
    mapped = np.memmap(name, dtype=np.uint8, mode="r+" if shared else "c", shape=(nbytes,))
    return _core.from_numpy(mapped).view(dtype)
