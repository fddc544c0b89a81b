"""What every ``ember.linalg`` function shares: PyTorch's argument checks and
messages, ``LinAlgError``, and the column-major buffers the LAPACK kernels of
``ember._core._lapack_solve`` work in."""
import functools
from collections import namedtuple

import numpy as np

from ember._core._dtype import (CPP_NAMES, TORCH_NAMES, can_cast, float32, float64, complex64,
                                complex128, int32)
from ember._core._tensor import (Tensor, _recorded, _resize_output, backend, empty,
                                 is_grad_enabled, zeros)

_LAPACK_DTYPES = (float32, float64, complex64, complex128)


class LinAlgError(RuntimeError):
    """A linear-algebra routine could not complete: the matrix is singular, not positive
    definite, or an iterative method did not converge (PyTorch's ``torch.linalg.LinAlgError``,
    a subclass of ``RuntimeError``)."""


LinAlgError.__module__ = "ember.linalg"


def torch_dtype_name(dtype):
    """PyTorch's scalar-type name of ``dtype`` (``Long``, ``Double``, ``ComplexFloat``...)
    for messages (a quantized dtype, which has no number in the table, by its own name)."""
    num = getattr(dtype, "num", None)
    return TORCH_NAMES[num] if num is not None else str(dtype).rsplit(".", 1)[-1]


def binding_names(**aliases):
    """Decorate a function so that it also takes, by keyword, the names PyTorch's Python
    binding gives its arguments where they differ from the documented names ember's
    signature uses: ``torch.linalg.eigh(input=A)`` works (and ``A=`` does not, though its
    docs say ``A``), so ``eigh`` is decorated with ``binding_names(input="A")`` and takes
    either.

    Parameters
    ----------
    **aliases : str
        The binding's name -> the name in the signature.
    """
    def decorate(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            if kwargs:
                for alias, name in aliases.items():
                    if alias in kwargs:
                        if name in kwargs:
                            raise TypeError(f"{fn.__name__}() got multiple values for "
                                            f"argument '{name}'")
                        kwargs[name] = kwargs.pop(alias)
            return fn(*args, **kwargs)
        return call
    return decorate


def check_tensor(t, fname, name="A", position=1):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(t).__name__}")


def check_float(t, fname, kernel="lu_cpu"):
    """``t``'s dtype is one LAPACK computes in (as PyTorch on the CPU)."""
    if t.dtype in _LAPACK_DTYPES:
        return
    if t.is_floating_point():
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{torch_dtype_name(t.dtype)}'")
    raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                       f"Got {torch_dtype_name(t.dtype)}")


def _to_device(result, device):
    if isinstance(result, Tensor):
        return result.to(device)
    if isinstance(result, tuple):
        moved = [_to_device(r, device) for r in result]
        return result._make(moved) if hasattr(result, "_make") else tuple(moved)
    return result


def _device_of(args):
    """The device of the tensors among ``args`` (None without any); mixed devices raise
    PyTorch's error."""
    devices = {a.device for a in args if isinstance(a, Tensor)}
    if len(devices) > 1:
        found = sorted(map(str, devices), key=lambda d: d == "cpu")
        raise RuntimeError("Expected all tensors to be on the same device, but found at "
                           f"least two devices, {found[0]} and {found[1]}!")
    return devices.pop() if devices else None


def on_host(kernel):
    """``kernel`` (LAPACK over host buffers) for tensors on any device: tensors on a GPU
    are copied to the CPU and the tensors of the result copied back to that GPU, so
    that errors, ``info`` and results are the CPU's."""
    @functools.wraps(kernel)
    def run(*args, **kwargs):
        device = _device_of((*args, *kwargs.values()))
        if device is None or device.type == "cpu":
            return kernel(*args, **kwargs)

        def host(a):
            return a.cpu() if isinstance(a, Tensor) else a
        result = kernel(*map(host, args), **{k: host(v) for k, v in kwargs.items()})
        return _to_device(result, device)
    return run


def on_gpu(routine, when=None):
    """A kernel that, for non-empty tensors on a device whose backend computes
    ``routine`` (cuda: cuSOLVER and cuBLAS through CuPy), runs there with the same
    arguments (where ``when(*args)`` holds, if given); else as :func:`on_host`."""
    def wrap(kernel):
        host = on_host(kernel)

        @functools.wraps(kernel)
        def run(*args):
            device = _device_of(args)
            if device is not None and device.type != "cpu" and all(
                    a.numel() for a in args if isinstance(a, Tensor)) and (
                    when is None or when(*args)):
                device_backend = backend(device.type)
                if hasattr(device_backend, "linalg"):
                    return device_backend.linalg(routine, *args)
            return host(*args)
        return run
    return wrap


def check_matrix(t, fname, name="A"):
    if t.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")


def check_square(t, fname, name="A"):
    check_matrix(t, fname, name)
    if t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{fname}: {name} must be batches of square matrices, but they are "
                           f"{t.shape[-2]} by {t.shape[-1]} matrices")


def check_same_dtype(a, b, fname, na="A", nb="B"):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{fname}: Expected {na} and {nb} to have the same dtype, but found "
                           f"{na} of type {torch_dtype_name(a.dtype)} and {nb} of type "
                           f"{torch_dtype_name(b.dtype)} instead")


def requires_grad(*ts):
    return any(isinstance(t, Tensor) and _recorded(t) for t in ts)


def batch_numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def column_major(t, batch_shape):
    """A fresh buffer for LAPACK holding ``t`` (broadcast to ``batch_shape``) column by
    column: shape ``(batch, cols, rows)``; ``buffer.mT`` viewed back is the matrix."""
    rows, cols = t.shape[-2], t.shape[-1]
    buf = empty((batch_numel(batch_shape), cols, rows), dtype=t.dtype)
    buf.view(*batch_shape, cols, rows).copy_(t.mT)
    return buf


def row_major(t, batch_shape):
    """A fresh row-major buffer ``(batch, rows, cols)`` holding ``t`` broadcast to
    ``batch_shape`` (LAPACK reads each matrix as its transpose)."""
    rows, cols = t.shape[-2], t.shape[-1]
    buf = empty((batch_numel(batch_shape), rows, cols), dtype=t.dtype)
    buf.view(*batch_shape, rows, cols).copy_(t)
    return buf


def is_column_major(t):
    """Whether the matrices of ``t`` are stored column by column (``t.mT`` contiguous)."""
    return t.dim() >= 2 and t.mT.is_contiguous() and not t.is_contiguous()


def int_buffer(*shape):
    """Zeroed int32 buffer for pivots and info (LAPACK leaves empty problems alone)."""
    return zeros(shape, dtype=int32)


def raise_for_info(info, fname, message, batch_shape, always_batched=False):
    """Raise ``LinAlgError`` for the first matrix whose LAPACK ``info`` is positive, with
    PyTorch's message (``message(info_value)``) and batch prefix."""
    values = np.asarray(info.cpu() if isinstance(info, Tensor) else info).reshape(-1)
    bad = np.flatnonzero(values > 0)
    if bad.size == 0:
        return
    k = int(bad[0])
    prefix = f"{fname}: "
    if len(batch_shape) > 0 or always_batched:
        prefix += f"(Batch element {k}): "
    raise LinAlgError(prefix + message(int(values[k])))


def result_type(name, fields):
    result = namedtuple(name, fields)
    result.__module__ = "ember.return_types"
    return result


def out_into(result, out, castable=None, exact=True, *, fname):
    """``result``, or ``out`` holding it, resized as PyTorch resizes ``out=`` tensors.
    ``out`` must have ``result``'s dtype (`exact`), or one ``result`` safely casts to;
    the ops that check the cast first name themselves in `castable` (for the error).
    A result on the autograd graph is refused (``out`` would not carry its gradient)
    with PyTorch's message naming its kernel ``fname``; None for the composites that
    PyTorch lets through (``out`` then holds the values only)."""
    if out is None:
        return result
    if fname is not None and result.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{fname}(): functions with out=... arguments don't support "
                           f"automatic differentiation, but one of the arguments requires "
                           f"grad.")
    if castable is not None and not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"{castable}: Expected result to be safely castable from "
                           f"{TORCH_NAMES[result.dtype.num]} dtype, but got result with dtype "
                           f"{TORCH_NAMES[out.dtype.num]}")
    if exact and out.dtype != result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {CPP_NAMES[result.dtype.num]}, "
                           f"but got {CPP_NAMES[out.dtype.num]} instead")
    _resize_output(out, result.shape)
    out.copy_(result)
    return out


def outs_into(results, outs, fname):
    """:func:`out_into` for each of ``results`` and its ``outs`` (a tuple of results)."""
    return tuple(out_into(result, out, fname=fname) for result, out in zip(results, outs))
