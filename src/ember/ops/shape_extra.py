"""Everyday tensor ops built from ember's core ops: triangles (``tril``, ``triu``),
``flip``/``fliplr``/``flipud``, ``roll``, ``diag``, ``masked_select``, ``meshgrid``,
``square``, ``lerp``, ``nan_to_num``, ``clamp_min``/``clamp_max`` and
``multinomial``.

Each is a short composite of differentiable ops (masked fills, views and copies,
concatenation, ``where``), so gradients, and gradients of gradients, follow from
theirs; ``diag`` of a vector records itself, with ``diagonal`` as its backward.
"""
import operator

from ember._core._dtype import TORCH_NAMES, bool_, int64, float16, bfloat16, float32, float64
from ember._core._reduce import _with_out
from ember._core._tensor import Tensor, _add_method, _factory_out, _recorded, record, zeros
from ember._switches import _warn_once
from ember.ops.derivatives import derivative
from ember.ops.elementwise import functions as _ew
from ember.ops.index import cat

__all__ = ["tril", "triu", "flip", "fliplr", "flipud", "roll", "diag", "masked_select",
           "meshgrid", "square", "lerp", "nan_to_num", "clamp_min", "clamp_max", "multinomial"]

_where = _ew["where"]
_clamp = _ew["clamp"]

# PyTorch's scalar-type names (by dtype number) and C type names, for its messages
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}

# largest finite value per floating dtype, nan_to_num's default for +-inf
_FLOAT_MAX = {float16: 65504.0, bfloat16: 3.3895313892515355e38,
              float32: 3.4028234663852886e38, float64: 1.7976931348623157e308}


def _check_tensor(x, fname, position=1, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(x).__name__}")


def _args_or_keyword(args, value, fname, name):
    """A method's ``*args``, or ``(value,)`` when its keyword ``name`` came instead (PyTorch's
    binding takes either); ``value`` is None when the keyword is absent."""
    if value is not None:
        if args:
            raise TypeError(f"{fname}() got multiple values for argument '{name}'")
        return (value,)
    if not args:
        raise TypeError(f'{fname}() missing 1 required positional arguments: "{name}"')
    return args


def _int_list(args, value, fname, name):
    """The ints that a PyTorch method takes as arguments, as one sequence or by the
    keyword ``name`` (``t.tile(2, 2)``, ``t.tile((2, 2))``, ``t.tile(dims=(2, 2))``);
    ``value`` is the keyword's (None when absent)."""
    args = _args_or_keyword(args, value, fname, name)
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    return tuple(operator.index(a) for a in args)


def _c_name(t):
    return _C_NAMES.get(t.dtype.name, t.dtype.name)


def _wrap_dim(dim, ndim):
    dim = operator.index(dim)
    top = max(ndim, 1)
    if not -top <= dim < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], "
                         f"but got {dim})")
    return dim % top


# ---------------------------------------------------------------- triangles

def _outside_triangle(input, diagonal, lower, fname):
    """Mask of the elements that ``tril`` (``lower``) or ``triu`` zero."""
    _check_tensor(input, fname)
    if input.dim() < 2:
        raise RuntimeError(f"{fname}: input tensor must have at least 2 dimensions")
    from ember import arange
    rows, cols = input.shape[-2], input.shape[-1]
    offset = (arange(cols, device=input.device).unsqueeze(0)
              - arange(rows, device=input.device).unsqueeze(1))        # j - i
    diagonal = operator.index(diagonal)
    return offset > diagonal if lower else offset < diagonal


def tril(input, diagonal=0, *, out=None):
    """The lower triangle of the last two dims of ``input``; the rest set to zero.

    Parameters
    ----------
    input : Tensor
        A tensor of at least 2 dimensions (a batch of matrices).
    diagonal : int, optional
        Keep the elements with ``column - row <= diagonal``.
    out : Tensor, optional
        Where to write the result (returned): of ``input``'s dtype, resized to its
        shape.

    Examples
    --------
    >>> import ember
    >>> ember.tril(ember.ones(3, 3, dtype=ember.int64))
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]])
    """
    if out is not None:
        return _with_out("tril", out, "same", tril, (input, diagonal), None, (input,))
    return input.masked_fill(_outside_triangle(input, diagonal, True, "tril"), 0)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle of the last two dims of ``input``; the rest set to zero.

    Keeps the elements with ``column - row >= diagonal`` (see :func:`tril`, also for
    ``out``).

    Examples
    --------
    >>> import ember
    >>> ember.triu(ember.ones(2, 3), diagonal=1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]])
    """
    if out is not None:
        return _with_out("triu", out, "same", triu, (input, diagonal), None, (input,))
    return input.masked_fill(_outside_triangle(input, diagonal, False, "triu"), 0)


def _tril_(self, diagonal=0):
    """In-place :func:`tril`."""
    return self.masked_fill_(_outside_triangle(self, diagonal, True, "tril"), 0)


def _triu_(self, diagonal=0):
    """In-place :func:`triu`."""
    return self.masked_fill_(_outside_triangle(self, diagonal, False, "triu"), 0)


# ---------------------------------------------------------------- flips, roll

def _dims_list(dims, ndim, fname):
    if isinstance(dims, int):
        dims = (dims,)
    wrapped = []
    for d in dims:
        w = _wrap_dim(d, ndim)
        if w in wrapped:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        wrapped.append(w)
    return wrapped


def flip(input, dims):
    """A copy of ``input`` with the order of elements reversed along ``dims``.

    Unlike NumPy's ``flip`` (a view), this returns a new tensor, as PyTorch does.

    Examples
    --------
    >>> import ember
    >>> ember.flip(ember.arange(4).reshape(2, 2), [0, 1])
    tensor([[3, 2],
            [1, 0]])
    """
    _check_tensor(input, "flip")
    flipped = _dims_list(dims, input.dim(), "flip")
    if input.dim() == 0:
        return input.clone()
    index = tuple(slice(None, None, -1) if d in flipped else slice(None)
                  for d in range(input.dim()))
    return input[index].clone()


def _flip_method(self, *args, dims=None):
    """A flipped copy (see :func:`ember.flip`); the dims as ints, one sequence or
    ``dims=``."""
    return flip(self, _int_list(args, dims, "flip", "dims"))


def fliplr(input):
    """Reverse the order of columns (dim 1); ``input`` must be at least 2-d.

    Examples
    --------
    >>> import ember
    >>> ember.fliplr(ember.tensor([[1, 2], [3, 4]]))
    tensor([[2, 1],
            [4, 3]])
    """
    _check_tensor(input, "fliplr")
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, [1])


def flipud(input):
    """Reverse the order of rows (dim 0); ``input`` must be at least 1-d.

    Examples
    --------
    >>> import ember
    >>> ember.flipud(ember.tensor([1, 2, 3]))
    tensor([3, 2, 1])
    """
    _check_tensor(input, "flipud")
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, [0])


def roll(input, shifts, dims=None):
    """Shift the elements of ``input`` circularly along ``dims``.

    Parameters
    ----------
    input : Tensor
    shifts : int or tuple of int
        Places to shift by, one per dim (negative shifts go the other way).
    dims : int or tuple of int, optional
        The dims to roll; without them the tensor is rolled as if flattened.

    Examples
    --------
    >>> import ember
    >>> ember.roll(ember.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3])
    >>> ember.roll(ember.tensor([[1, 2], [3, 4]]), (1, -1), (0, 1))
    tensor([[4, 3],
            [2, 1]])
    """
    _check_tensor(input, "roll")
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return roll(input.flatten(), shifts, 0).view(tuple(input.shape))
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if input.dim() == 0 and dims:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    result = input
    for shift, dim in zip(shifts, dims):
        dim = _wrap_dim(dim, input.dim())
        size = input.shape[dim]
        if size == 0 or operator.index(shift) % size == 0:
            continue
        s = operator.index(shift) % size
        result = cat([result.narrow(dim, size - s, s), result.narrow(dim, 0, size - s)], dim)
    return input.clone() if result is input else result


# ---------------------------------------------------------------- diag, masked_select, meshgrid

def _diag_matrix(input, diagonal):
    n = input.shape[0] + abs(diagonal)
    out = zeros((n, n), dtype=input.dtype, device=input.device)
    out.diagonal(diagonal).copy_(input)
    return out


@derivative("diag", save_inputs=False)
def _diag_backward(ctx, grad, input, diagonal):
    return grad.diagonal(diagonal)


def diag(input, diagonal=0, *, out=None):
    """A square matrix with vector ``input`` on a diagonal, or the diagonal of a matrix.

    Parameters
    ----------
    input : Tensor
        A 1-d tensor (to place) or a 2-d tensor (to read).
    diagonal : int, optional
        0 the main diagonal, positive above it, negative below.
    out : Tensor, optional
        Where to write the result (returned): of ``input``'s dtype, resized to its
        shape.

    Returns
    -------
    Tensor
        A new tensor (the 2-d case copies, unlike :meth:`Tensor.diagonal`).

    Examples
    --------
    >>> import ember
    >>> ember.diag(ember.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    >>> ember.diag(ember.tensor([[1, 2], [3, 4]]), 1)
    tensor([2])
    """
    _check_tensor(input, "diag")
    if out is not None:
        return _with_out("diag", out, "same", diag, (input, diagonal), None, (input,))
    diagonal = operator.index(diagonal)
    if input.dim() == 2:
        return input.diagonal(diagonal).clone()
    if input.dim() != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")
    if _recorded(input):
        return record("diag", _diag_matrix, (input, diagonal))
    return _diag_matrix(input, diagonal)


def masked_select(input, mask, *, out=None):
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-d tensor.

    ``input`` and ``mask`` are broadcast against each other.  ``out`` (of ``input``'s
    dtype) receives the result, resized as PyTorch resizes ``out=`` tensors.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1, 2], [3, 4]])
    >>> ember.masked_select(x, x > 1)
    tensor([2, 3, 4])
    """
    _check_tensor(input, "masked_select")
    _check_tensor(mask, "masked_select", 2, "mask")
    if out is not None:
        if isinstance(out, Tensor) and out.dtype != input.dtype:
            raise RuntimeError("masked_select(): self and result must have the same scalar type")
        return _with_out("masked_select", out, "same", masked_select, (input, mask), None,
                         (input,))
    if mask.dtype != bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    from ember import broadcast_shapes
    shape = broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    return input.expand(shape)[mask.expand(shape)]


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-d tensors, as expanded views.

    Parameters
    ----------
    *tensors : Tensor
        0-d or 1-d tensors of one dtype (or a single list of them).
    indexing : {'ij', 'xy'}, optional
        ``'ij'``: output ``k`` varies along dim ``k``; ``'xy'``: the first two dims
        swapped, as in NumPy.  Left out, it is ``'ij'`` with a warning, as in
        PyTorch.

    Examples
    --------
    >>> import ember
    >>> a, b = ember.meshgrid(ember.tensor([1, 2]), ember.tensor([3, 4, 5]), indexing="ij")
    >>> a
    tensor([[1, 1, 1],
            [2, 2, 2]])
    >>> b
    tensor([[3, 4, 5],
            [3, 4, 5]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        _warn_once("torch.meshgrid: in an upcoming release, it will be required to pass the "
                   "indexing argument.")
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for k, t in enumerate(tensors):
        _check_tensor(t, "meshgrid", k + 1, "tensors")
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t.numel() for t in order)
    grids = []
    for k, t in enumerate(order):
        view_shape = [1] * len(order)
        view_shape[k] = shape[k]
        grids.append(t.reshape(view_shape).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# ---------------------------------------------------------------- arithmetic

def square(input, *, out=None):
    """``input * input``; bool tensors give int64, as in PyTorch.  ``out`` receives the
    result in any dtype it casts to (resized to its shape).

    Examples
    --------
    >>> import ember
    >>> ember.square(ember.tensor([-2, 3]))
    tensor([4, 9])
    """
    _check_tensor(input, "square")
    if out is not None:
        return _with_out("square", out, "cast", square, (input,), None, (input,))
    if input.dtype == bool_:
        input = input.to(int64)
    return input * input


def lerp(input, end, weight, *, out=None):
    """Linear interpolation ``input + weight * (end - input)``.

    Parameters
    ----------
    input, end : Tensor
        Floating tensors of one dtype, broadcast against each other.
    weight : float or Tensor
        The weight (a tensor of the same dtype is broadcast too).
    out : Tensor, optional
        Where to write the result (returned), resized to its shape: of a dtype the
        result casts to, or with a tensor ``weight`` of the result's dtype (as in
        PyTorch).

    Examples
    --------
    >>> import ember
    >>> ember.lerp(ember.tensor([0.0, 10.0]), ember.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5000, 12.5000])
    """
    _check_tensor(input, "lerp")
    _check_tensor(end, "lerp", 2, "end")
    if out is not None:
        tensor_weight = isinstance(weight, Tensor)
        if tensor_weight and isinstance(out, Tensor) and out.dtype != input.dtype:
            raise RuntimeError(f"Found dtype {TORCH_NAMES[out.dtype.num]} but expected "
                               f"{TORCH_NAMES[input.dtype.num]}")
        return _with_out("lerp", out, "same" if tensor_weight else "cast", lerp,
                         (input, end, weight), None,
                         (input, end, weight) if tensor_weight else (input, end))
    if end.dtype != input.dtype:
        raise RuntimeError(f"expected dtype {_c_name(input)} for `end` but got dtype "
                           f"{_c_name(end)}")
    if not (input.is_floating_point() or input.is_complex()):
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{TORCH_NAMES[input.dtype.num]}'")
    if isinstance(weight, Tensor):
        if weight.dtype != input.dtype:
            raise RuntimeError(f"expected dtype {_c_name(input)} for `weight` but got dtype "
                               f"{_c_name(weight)}")
        # PyTorch's two-sided formula: exact at both ends
        return _where(weight.abs() < 0.5, input + weight * (end - input),
                      end - (end - input) * (1 - weight))
    if abs(weight) < 0.5:
        return input + weight * (end - input)
    return end - (end - input) * (1 - weight)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN, +inf and -inf in ``input`` by finite values.

    Parameters
    ----------
    nan : float, optional
        The value for NaN (default 0).
    posinf, neginf : float, optional
        The values for +inf and -inf (default: the largest and lowest finite value
        of the dtype).
    out : Tensor, optional
        Where to write the result (returned): of ``input``'s dtype, resized to its
        shape.

    Examples
    --------
    >>> import ember
    >>> ember.nan_to_num(ember.tensor([float("nan"), float("inf"), -1.0]), posinf=9.0)
    tensor([ 0.,  9., -1.])
    """
    _check_tensor(input, "nan_to_num")
    if out is not None:
        if isinstance(out, Tensor) and out.dtype != input.dtype:
            raise RuntimeError(f"nan_to_num: dtype of out: {TORCH_NAMES[out.dtype.num]} "
                               f"should be same as input: {TORCH_NAMES[input.dtype.num]}")
        return _with_out("nan_to_num", out, "same", nan_to_num, (input, nan, posinf, neginf),
                         None, (input,))
    if input.is_complex():
        # each part on its own, as PyTorch does (the parts are finite afterwards)
        return (nan_to_num(input.real, nan, posinf, neginf)
                + nan_to_num(input.imag, nan, posinf, neginf) * 1j)
    if not input.is_floating_point():
        return input.clone()
    big = _FLOAT_MAX[input.dtype]
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    out = _where(input.isnan(), nan, input)
    out = _where(input == float("inf"), posinf, out)
    return _where(input == float("-inf"), neginf, out)


def clamp_min(input, min, *, out=None):
    """Elements below ``min`` raised to ``min`` (``clamp(input, min=min)``).

    ``out`` receives the result (resized to its shape): of the result's dtype for a
    number ``min``, of any dtype it casts to for a tensor ``min``, as in PyTorch.

    Examples
    --------
    >>> import ember
    >>> ember.clamp_min(ember.tensor([-1.0, 2.0]), 0.0)
    tensor([0., 2.])
    """
    if out is not None:
        return _with_out("clamp_min", out, "cast" if isinstance(min, Tensor) else "same", clamp_min,
                         (input, min), None, (input, min))
    return _clamp(input, min=min)


def clamp_max(input, max, *, out=None):
    """Elements above ``max`` lowered to ``max`` (``clamp(input, max=max)``).

    ``out`` receives the result (resized to its shape): of the result's dtype for a
    number ``max``, of any dtype it casts to for a tensor ``max``, as in PyTorch.

    Examples
    --------
    >>> import ember
    >>> ember.clamp_max(ember.tensor([-1.0, 2.0]), 0.0)
    tensor([-1.,  0.])
    """
    if out is not None:
        return _with_out("clamp_max", out, "cast" if isinstance(max, Tensor) else "same", clamp_max,
                         (input, max), None, (input, max))
    return _clamp(input, max=max)


def _lerp_(self, end, weight):
    """In-place :func:`lerp` (``self`` moves towards ``end``)."""
    return self.copy_(lerp(self, end, weight))


def _nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    """In-place :func:`nan_to_num`."""
    return self.copy_(nan_to_num(self, nan, posinf, neginf))


def _clamp_min_(self, min):
    """In-place :func:`clamp_min`."""
    return self.clamp_(min=min)


def _clamp_max_(self, max):
    """In-place :func:`clamp_max`."""
    return self.clamp_(max=max)


# ---------------------------------------------------------------- multinomial

def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Draw category indices from rows of non-negative weights.

    Parameters
    ----------
    input : Tensor
        A 1-d or 2-d floating tensor; each row holds the (unnormalised) weights of
        its categories.
    num_samples : int
        Draws per row.
    replacement : bool, optional
        Draw with replacement; without it ``num_samples`` may not exceed the number
        of categories and each category is drawn at most once per row.
    generator : Generator, optional
        The random number generator to draw from.
    out : Tensor, optional
        An int64 tensor that receives the draws, resized silently as PyTorch's samplers
        resize ``out=`` tensors.

    Returns
    -------
    Tensor
        int64 indices of shape ``(num_samples,)`` or ``(rows, num_samples)``.

    Examples
    --------
    >>> import ember
    >>> g = ember.Generator().manual_seed(0)
    >>> ember.multinomial(ember.tensor([0.0, 1.0, 0.0]), 2, replacement=True, generator=g)
    tensor([1, 1])
    """
    from ember import rand, argsort as _argsort
    _check_tensor(input, "multinomial")
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"multinomial(): argument 'out' must be Tensor, not "
                            f"{type(out).__name__}")
        if out.dtype != int64:
            raise RuntimeError(f"multinomial expects Long tensor out, got: "
                               f"{TORCH_NAMES[out.dtype.num]}")
        return _factory_out(multinomial(input, num_samples, replacement, generator=generator),
                            out)
    num_samples = operator.index(num_samples)
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{TORCH_NAMES[input.dtype.num]}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if categories > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    weights = input.detach().to(float64).reshape(-1, categories)
    if bool((weights < 0).any()) or not bool(weights.isfinite().all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = weights.sum(-1, keepdim=True)
    if bool((totals <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = weights.shape[0]
    if replacement:
        # inverse CDF: the first category whose cumulative weight exceeds a uniform
        # draw; the CDF is exactly 1 from the last positive weight on, so neither
        # rounding nor trailing zero weights can pick a category of weight zero
        cumulative = weights.cumsum(-1)
        last = cumulative[:, -1:]
        cdf = _where(cumulative == last, 1.0, cumulative / last)
        draws = rand((rows, num_samples, 1), dtype=float64, generator=generator)
        samples = (cdf.unsqueeze(1) <= draws).sum(-1)
    else:
        # exponential race: the categories with the smallest E / w, E ~ Exp(1), are an
        # ordered sample without replacement (zero weights never win)
        draws = rand((rows, categories), dtype=float64, generator=generator)
        keys = -(1.0 - draws).log() / weights
        samples = _argsort(keys, dim=-1)[:, :num_samples].contiguous()
    return samples.reshape(tuple(input.shape[:-1]) + (num_samples,))


for _name, _fn in {"tril": tril, "triu": triu, "tril_": _tril_, "triu_": _triu_,
                   "flip": _flip_method,
                   "fliplr": fliplr, "flipud": flipud, "roll": roll, "diag": diag,
                   "masked_select": masked_select, "square": square, "lerp": lerp,
                   "nan_to_num": nan_to_num, "clamp_min": clamp_min,
                   "clamp_max": clamp_max, "multinomial": multinomial, "lerp_": _lerp_,
                   "nan_to_num_": _nan_to_num_, "clamp_min_": _clamp_min_,
                   "clamp_max_": _clamp_max_}.items():
    _add_method(_name, _fn)
del _name, _fn
