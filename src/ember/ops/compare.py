"""Whole-tensor comparisons: ``equal``, ``isclose``, ``allclose`` and the ``hash_tensor``
fingerprint.

``isclose`` follows PyTorch's formula: exactly equal elements are close, NaNs are
close to NaNs only with ``equal_nan``, and otherwise ``|input - other| <= atol +
rtol * |other|`` with a finite difference.  Integers and booleans are compared in
the default float dtype, so that the difference cannot wrap around.
"""
import numpy as np

from ember._core._dtype import TORCH_NAMES, float64, get_default_dtype, int64, uint64
from ember._core._tensor import Tensor, _add_method, tensor
from ember.ops.sorting import _wrap_dim

# PyTorch's scalar-type names, by dtype number, for its "did not match" message

__all__ = ["equal", "isclose", "allclose", "hash_tensor"]


def _check_tensor(x, fname, position, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(x).__name__}")


def equal(input, other):
    """Whether two tensors have the same shape and the same elements.

    The elements are compared after promoting both to a common dtype, as in
    PyTorch; NaN is never equal to NaN.

    Examples
    --------
    >>> import ember
    >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1.0, 2.0]))
    True
    >>> ember.equal(ember.tensor([1, 2]), ember.tensor([[1, 2]]))
    False
    """
    _check_tensor(input, "equal", 1, "input")
    _check_tensor(other, "equal", 2, "other")
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input == other).all())


def _check_tolerances(input, other, rtol, atol):
    if input.dtype != other.dtype:
        raise RuntimeError(f"{TORCH_NAMES[input.dtype.num]} did not match "
                           f"{TORCH_NAMES[other.dtype.num]}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|``, as a bool tensor.

    Parameters
    ----------
    input, other : Tensor
        Tensors of the same dtype, broadcast against each other.
    rtol, atol : float, optional
        Relative and absolute tolerances (non-negative).
    equal_nan : bool, optional
        Count two NaNs as close.

    Returns
    -------
    Tensor
        A bool tensor of the broadcast shape.

    Examples
    --------
    >>> import ember
    >>> nan = float("nan")
    >>> ember.isclose(ember.tensor([1.0, 2.0, nan]), ember.tensor([1.0 + 1e-7, 2.1, nan]))
    tensor([ True, False, False])
    """
    _check_tensor(input, "isclose", 1, "input")
    _check_tensor(other, "isclose", 2, "other")
    _check_tolerances(input, other, rtol, atol)
    close = input == other
    inexact = input.is_floating_point() or input.is_complex()
    if equal_nan and inexact:
        close = close | (input.isnan() & other.isnan())
    if rtol == 0 and atol == 0:
        return close
    if not inexact:
        input, other = input.to(get_default_dtype()), other.to(get_default_dtype())
    allowed_error = atol + (rtol * other).abs()
    actual_error = (input - other).abs()
    return close | (actual_error.isfinite() & (actual_error <= allowed_error))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`).

    Examples
    --------
    >>> import ember
    >>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-6]))
    True
    """
    _check_tensor(input, "allclose", 1, "input")
    _check_tensor(other, "allclose", 2, "other")
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


for _name, _fn in {"equal": equal, "isclose": isclose, "allclose": allclose}.items():
    _add_method(_name, _fn)
del _name, _fn


def hash_tensor(input, dim=None, *, keepdim=False, mode=0):
    """A 64-bit hash of the elements of ``input`` (over ``dim``), as ``torch.hash_tensor``:
    each element is widened to 64 bits (floats to float64, integers and booleans to
    int64), its bits are read as a ``uint64``, and the words are combined by xor.

    Parameters
    ----------
    input : Tensor
        Of a floating, signed integer, ``uint8`` or boolean dtype.
    dim : int or sequence of int, optional
        The dimensions to hash over (default: all, then ``input`` must not be empty).
    keepdim : bool, optional
        Keep the hashed dimensions with size 1.
    mode : int, optional
        The hash: 0 (xor of the words) is the only one.

    Returns
    -------
    Tensor
        ``uint64`` hashes, equal to PyTorch's bit for bit (except for NaNs in bfloat16
        inputs, which PyTorch widens with or without a sign bit depending on its
        reduction path).

    Raises
    ------
    RuntimeError
        For another ``mode``, or an empty ``input`` without ``dim``.
    IndexError
        For a dimension out of range or of size 0.
    NotImplementedError
        For complex and wider unsigned dtypes (as PyTorch).

    Examples
    --------
    >>> import ember
    >>> ember.hash_tensor(ember.tensor([1.5, 2.0]))
    tensor(9221120237041090560, dtype=ember.uint64)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"hash_tensor(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise TypeError(f"hash_tensor(): argument 'mode' must be int, not {type(mode).__name__}")
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    if input.is_complex() or input.dtype.name in ("uint16", "uint32", "uint64"):
        raise NotImplementedError(f"\"xor_sum_cpu\" not implemented for "
                                  f"'{TORCH_NAMES[input.dtype.num]}'")
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("hash_tensor: Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        axes = tuple(range(input.dim()))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = tuple(sorted({_wrap_dim(d, input.dim()) for d in dims})) if input.dim() else ()
        for a in axes:
            if input.shape[a] == 0:
                raise IndexError(f"hash_tensor: Expected reduction dim {a} to have non-zero size.")
    wide = input.detach().to(float64 if input.is_floating_point() else int64)
    words = np.array(wide.cpu().numpy(), order="C").view(np.uint64)
    hashed = np.bitwise_xor.reduce(words, axis=axes, keepdims=keepdim) if axes else words
    return tensor(np.asarray(hashed), dtype=uint64, device=input.device)


def _hash_tensor_method(self, dim=None, *, keepdim=False, mode=0):
    """See :func:`ember.hash_tensor`."""
    return hash_tensor(self, dim, keepdim=keepdim, mode=mode)


_add_method("hash_tensor", _hash_tensor_method)
