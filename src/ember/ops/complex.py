"""Complex tensors from real ones and back: the zero-copy views ``view_as_real`` /
``view_as_complex``, and ``complex`` / ``polar`` (new tensors).

The views and ``complex`` record themselves with their own derivatives; ``polar``
is a composite of them.
"""
from ember.ops.autocast import autocasts
from ember._core import _tensor as _core
from ember._core._dtype import complex64, complex128
from ember._core._index import stack
from ember._core._tensor import _recorded, record
from ember.ops.derivatives import derivative
from ember.ops.joining import _tname
from ember.ops.shape_extra import _check_tensor

__all__ = ["view_as_real", "view_as_complex", "complex", "polar"]


def _view_as_real_raw(input):
    part = input.real
    return part.as_strided(tuple(input.shape) + (2,), tuple(part.stride()) + (1,),
                           part.storage_offset())


def view_as_real(input):
    """A real view of a complex tensor with a last dimension of size 2 (real, imaginary).

    Examples
    --------
    >>> import ember
    >>> ember.view_as_real(ember.tensor([1 + 2j]))
    tensor([[1., 2.]])
    """
    _check_tensor(input, "view_as_real")
    if not input.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if _recorded(input):
        return record("view_as_real", _view_as_real_raw, (input,))
    return _view_as_real_raw(input)


def _view_as_complex_raw(input):
    joined = _core.view_dtype(input, _COMPLEX_OF[input.dtype.name])
    return joined.select(-1, 0)


@autocasts("view_as_complex")
def view_as_complex(input):
    """A complex view of a float32/float64 tensor whose last dimension (size 2, stride 1)
    holds real and imaginary parts.

    Examples
    --------
    >>> import ember
    >>> ember.view_as_complex(ember.tensor([[1., 2.], [3., 4.]]))
    tensor([1.+2.j, 3.+4.j])
    """
    _check_tensor(input, "view_as_complex")
    if input.dtype.name not in _COMPLEX_OF:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {_tname(input)}")
    if input.dim() == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if input.stride(-1) != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in input.stride()[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    if _recorded(input):
        return record("view_as_complex", _view_as_complex_raw, (input,))
    return _view_as_complex_raw(input)


_COMPLEX_OF = {"float32": complex64, "float64": complex128}


@derivative("view_as_real", save_inputs=False, view=True)
def _view_as_real_backward(ctx, grad, input):
    return view_as_complex(grad.contiguous())


@derivative("view_as_complex", save_inputs=False, view=True)
def _view_as_complex_backward(ctx, grad, input):
    return view_as_real(grad)


def _complex_raw(real, imag):
    # the pairs interleaved by a stack, then viewed as complex: a new tensor, written
    # by no in-place op (its version stays 0, as in PyTorch)
    shape = _core.broadcast_shapes(tuple(real.shape), tuple(imag.shape))
    pairs = stack([real.expand(shape), imag.expand(shape)], -1)
    return _view_as_complex_raw(pairs)


def complex(real, imag, *, out=None):
    """The complex tensor ``real + 1j * imag`` (float32 -> complex64, float64 ->
    complex128; both inputs of one dtype, broadcast).

    Examples
    --------
    >>> import ember
    >>> ember.complex(ember.tensor([1.]), ember.tensor([2.]))
    tensor([1.+2.j])
    """
    _check_tensor(real, "complex", 1, "real")
    _check_tensor(imag, "complex", 2, "imag")
    for t in (real, imag):
        if t.dtype.name not in ("float16", "float32", "float64"):
            raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but "
                               f"got {_tname(real)} and {_tname(imag)}")
    if real.dtype != imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {_tname(real)} but got scalar type "
                           f"{_tname(imag)} for second argument")
    if real.dtype.name == "float16":
        raise RuntimeError("complex: ComplexHalf (from float16 inputs) is not supported")
    if _recorded(real) or _recorded(imag):
        result = record("complex", _complex_raw, (real, imag))
    else:
        result = _complex_raw(real, imag)
    if out is not None:
        if out.dtype != result.dtype:       # PyTorch casts nothing into complex's out
            raise RuntimeError(f"Expected object of scalar type {_tname(result)} but got scalar "
                               f"type {_tname(out)} for argument 'out'")
        _core._resize_output(out, result.shape)
        out.copy_(result)
        return out
    return result


@derivative("complex", save_inputs=False)
def _complex_backward(ctx, grad, real, imag):
    return grad.real, grad.imag


@autocasts("polar")
def polar(abs, angle, *, out=None):
    """The complex tensor with magnitude ``abs`` and phase ``angle``.

    Examples
    --------
    >>> import ember
    >>> ember.polar(ember.tensor([2.]), ember.tensor([0.]))
    tensor([2.+0.j])
    """
    _check_tensor(abs, "polar", 1, "abs")
    _check_tensor(angle, "polar", 2, "angle")
    if abs.dtype != angle.dtype or abs.dtype.name not in ("float32", "float64"):
        raise RuntimeError(f"Expected both inputs to be Float or Double tensors but got "
                           f"{_tname(abs)} and {_tname(angle)}")
    return complex(abs * angle.cos(), abs * angle.sin(), out=out)

