"""Masked reductions and normalizations, as ``torch.masked``.

Each function reads only the elements of ``input`` where the boolean ``mask`` is True
(the mask broadcasts to ``input``'s shape; None masks nothing out).  The masked-out
elements are replaced by the operation's identity (0 for ``sum``, 1 for ``prod``,
``-inf`` or the dtype's minimum for ``amax``...) before the plain ember op runs, so
gradients reach the masked-in elements only.  A reduction over elements that are all
masked out gives that identity, or NaN where the operation has none (``mean``,
``median``, ``var``, ``std``); ``softmax`` gives NaN there too.

Dense (strided) tensors only: PyTorch's ``MaskedTensor`` and sparse inputs are not
supported.
"""
import ember
from ember._core._tensor import Tensor

__all__ = ["sum", "prod", "cumsum", "cumprod", "amax", "amin", "argmax", "argmin", "mean",
           "median", "logsumexp", "logaddexp", "norm", "var", "std", "softmax",
           "log_softmax", "softmin", "normalize"]

# integer dtypes that sum and prod accumulate in int64, as the plain reductions do
_TO_INT64 = (ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32)


def _canonical_dim(dim, ndim):
    """``dim`` as a sorted tuple of non-negative dims (None and () mean all dims)."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims = []
    for d in ((dim,) if isinstance(dim, int) else dim):
        if d >= ndim or d < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        if d % ndim in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _input_mask(input, mask):
    """``mask`` as a bool tensor of ``input``'s shape."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"mask must be a Tensor, not {type(mask).__name__}")
    if tuple(mask.shape) != tuple(input.shape):
        if mask.dim() > input.dim():
            raise IndexError("_input_mask expected broadcastable mask (got mask "
                             "dimensionality higher than of the input)")
        mask = mask.broadcast_to(tuple(input.shape))
    return mask.to(ember.bool)


def _identity(op, input, ord=2.0):
    """The value that leaves reduction ``op`` unchanged, in ``input``'s dtype."""
    dtype = input.dtype
    floating = dtype.is_floating_point or dtype.is_complex
    if op in ("max", "min") and dtype == ember.bool:
        raise NotImplementedError(f"identity of a{op} on {dtype} input")
    if op == "sum":
        value = 0
    elif op == "prod":
        value = 1
    elif op == "max":
        value = -float("inf") if floating else ember.iinfo(dtype).min
    elif op == "min":
        value = float("inf") if floating else ember.iinfo(dtype).max
    elif op == "norm":
        value = float("inf") if ord == -float("inf") else 0
    else:  # median: NaN, which nanmedian skips
        value = float("nan")
    return ember.tensor(value, dtype=dtype, device=input.device)


def _combine(op, input, mask, ord=2.0):
    """``input`` with its masked-out elements replaced by the identity of ``op``."""
    if mask is None:
        return input
    return ember.where(_input_mask(input, mask), input, _identity(op, input, ord))


def _sum_dtype(input, dtype):
    if dtype is not None:
        return dtype
    return ember.int64 if input.dtype in _TO_INT64 else input.dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Sum of the masked-in elements of ``input`` over ``dim`` (all dims by default).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
    keepdim : bool, default False
    dtype : ember.dtype, optional
        The accumulation and result dtype (bool and integer inputs give int64).
    mask : Tensor, optional
        Bool, broadcastable to ``input``: True where an element takes part.

    Returns
    -------
    Tensor
        0 where every element is masked out.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 2., 3.], [4., 5., 6.]])
    >>> ember.masked.sum(x, 1, mask=ember.tensor([[True, False, True], [False, False, False]]))
    tensor([4., 0.])
    """
    return ember.sum(_combine("sum", input, mask), _canonical_dim(dim, input.dim()),
                     bool(keepdim), dtype=_sum_dtype(input, dtype))


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Product of the masked-in elements over ``dim`` (1 where all are masked out).

    Parameters are as :func:`sum`'s.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 2., 3.], [4., 5., 6.]])
    >>> ember.masked.prod(x, 1, mask=ember.tensor([True, False, True]))
    tensor([ 3., 24.])
    """
    result = _combine("prod", input, mask).to(_sum_dtype(input, dtype))
    for d in reversed(_canonical_dim(dim, input.dim())):
        result = result.prod(d, keepdim=bool(keepdim))
    return result


def cumsum(input, dim, *, dtype=None, mask=None):
    """Cumulative sum along ``dim`` where the masked-out elements count as 0.

    Parameters
    ----------
    input : Tensor
    dim : int
    dtype : ember.dtype, optional
        The result dtype (``input``'s by default).
    mask : Tensor, optional

    Examples
    --------
    >>> import ember
    >>> ember.masked.cumsum(ember.tensor([1., 2., 3.]), 0, mask=ember.tensor([True, False, True]))
    tensor([1., 1., 4.])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.cumsum(_combine("sum", input, mask), _canonical_dim(dim, input.dim())[0],
                        dtype=dtype).to(dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """Cumulative product along ``dim`` where the masked-out elements count as 1.

    Parameters are as :func:`cumsum`'s.

    Examples
    --------
    >>> import ember
    >>> ember.masked.cumprod(ember.tensor([2., 3., 4.]), 0, mask=ember.tensor([True, False, True]))
    tensor([2., 2., 8.])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.cumprod(_combine("prod", input, mask), _canonical_dim(dim, input.dim())[0],
                         dtype=dtype).to(dtype)


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Largest masked-in element over ``dim`` (``-inf``, or the integer dtype's minimum,
    where all are masked out).

    Parameters are as :func:`sum`'s; ``dtype`` converts the result.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 9., 3.], [4., 5., 6.]])
    >>> ember.masked.amax(x, 1, mask=ember.tensor([True, False, True]))
    tensor([3., 6.])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.amax(_combine("max", input, mask), _canonical_dim(dim, input.dim()),
                      bool(keepdim)).to(dtype)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Smallest masked-in element over ``dim`` (``inf``, or the integer dtype's maximum,
    where all are masked out).

    Parameters are as :func:`amax`'s.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 9., 3.], [4., 5., 6.]])
    >>> ember.masked.amin(x, 1, mask=ember.tensor([False, True, True]))
    tensor([3., 5.])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.amin(_combine("min", input, mask), _canonical_dim(dim, input.dim()),
                      bool(keepdim)).to(dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the largest masked-in element along ``dim`` (of the flattened input
    when ``dim`` is None).

    As PyTorch's, the result has ``input``'s dtype unless ``dtype`` says otherwise.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 9., 3.], [4., 5., 6.]])
    >>> ember.masked.argmax(x, 1, mask=ember.tensor([True, False, True]), dtype=ember.int64)
    tensor([2, 2])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.argmax(_combine("max", input, mask), dim, bool(keepdim)).to(dtype)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the smallest masked-in element along ``dim``; as :func:`argmax`.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 9., 3.], [4., 5., 6.]])
    >>> ember.masked.argmin(x, 1, mask=ember.tensor([False, True, True]), dtype=ember.int64)
    tensor([2, 1])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.argmin(_combine("min", input, mask), dim, bool(keepdim)).to(dtype)


def _count_and_total(input, dim, keepdim, dtype, mask):
    """Number and sum of the masked-in elements over ``dim``."""
    if mask is None:
        count = sum(ember.ones(tuple(input.shape), dtype=ember.int64, device=input.device),
                    dim, keepdim=keepdim)
        return count, sum(input, dim, keepdim=keepdim, dtype=dtype)
    inmask = _input_mask(input, mask)
    count = sum(inmask, dim, keepdim=keepdim)
    return count, sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Mean of the masked-in elements over ``dim`` (NaN where all are masked out).

    Parameters are as :func:`sum`'s; the input (or ``dtype``) must be floating point
    or complex.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 2., 3.], [4., 5., 6.]])
    >>> ember.masked.mean(x, 1, mask=ember.tensor([[True, False, True], [False, False, False]]))
    tensor([2., nan])
    """
    source = "Optional"
    if dtype is None:
        dtype, source = input.dtype, "Input"
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either "
                         f"a floating point or complex dtype. Got: {dtype}")
    count, total = _count_and_total(input, dim, bool(keepdim), dtype, mask)
    return total / count


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """Median of the masked-in elements along ``dim`` (NaN where all are masked out;
    an error for integer input then).

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 7., 3., 5.]])
    >>> ember.masked.median(x, 1, mask=ember.tensor([True, False, True, True]))
    tensor([3.])
    """
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.dim())[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(ember.float32)
    output = ember.nanmedian(_combine("median", input, mask), d, bool(keepdim)).values
    if is_float:
        return output
    if ember.isnan(output).any():
        raise ValueError("masked median expects no fully masked out rows if dtype is not "
                         "floating point")
    return output.to(dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """``log(sum(exp(input)))`` of the masked-in elements over ``dim`` (``-inf`` where
    all are masked out).

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([0., 100., 0.])
    >>> ember.masked.logsumexp(x, 0, mask=ember.tensor([True, False, True]))
    tensor(0.6931)
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.logsumexp(_combine("max", input, mask), _canonical_dim(dim, input.dim()),
                           keepdim=bool(keepdim)).to(dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """``log(exp(input) + exp(other))`` where the masked-out elements of either count as
    ``-inf`` (each tensor has its own mask).

    Examples
    --------
    >>> import ember
    >>> mask = ember.tensor([True, False, True])
    >>> ember.masked.logaddexp(ember.tensor([-100., -200., -300.]), ember.tensor([-1., -2., -3.]),
    ...                        input_mask=mask, other_mask=mask)
    tensor([-1., -inf, -3.])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.logaddexp(_combine("max", input, input_mask),
                           _combine("max", other, other_mask)).to(dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Vector ``ord``-norm of the masked-in elements over ``dim`` (see
    :func:`ember.linalg.vector_norm`); 0 where all are masked out (``inf`` for
    ``ord=-inf``).

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[3., 100., 4.]])
    >>> ember.masked.norm(x, 2.0, 1, mask=ember.tensor([True, False, True]))
    tensor([5.])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.linalg.vector_norm(_combine("norm", input, mask, ord), ord,
                                    _canonical_dim(dim, input.dim()), bool(keepdim),
                                    dtype=dtype)


def _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt):
    if unbiased is not None and correction is not None:
        raise RuntimeError("Only one of unbiased and correction may be given")
    if correction is None:
        correction = 1.0 if unbiased is None or unbiased else 0.0
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = ember.float32
    compute = dtype if dtype.is_floating_point or dtype.is_complex else ember.float32
    count, total = _count_and_total(input, dim, True, dtype, mask)
    x = input - total / count
    inmask = None if mask is None else _input_mask(input, mask)
    total = sum(x * x.conj(), dim, keepdim=bool(keepdim), dtype=compute, mask=inmask)
    if not keepdim:
        count = count.reshape(tuple(total.shape))
    if correction != 0:
        real = ember.float32 if compute == ember.complex64 else \
            ember.float64 if compute == ember.complex128 else compute
        count = ember.clamp_min(count.to(real) - correction, 0)
    output = (total / count).to(dtype)
    return ember.sqrt(output) if take_sqrt else output


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    """Variance of the masked-in elements over ``dim`` (NaN where all are masked out).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
    unbiased : bool, optional
        Divide by ``n - 1`` (the default) rather than ``n``.
    correction : float, optional
        Divide by ``n - correction`` (instead of ``unbiased``).
    keepdim : bool, default False
    dtype : ember.dtype, optional
    mask : Tensor, optional

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 100., 3.]])
    >>> ember.masked.var(x, 1, mask=ember.tensor([True, False, True]))
    tensor([2.])
    """
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    """Standard deviation of the masked-in elements over ``dim``; as :func:`var`.

    Examples
    --------
    >>> import ember
    >>> x = ember.tensor([[1., 100., 3.]])
    >>> ember.masked.std(x, 1, mask=ember.tensor([True, False, True]), correction=0)
    tensor([1.])
    """
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, True)


def softmax(input, dim, *, dtype=None, mask=None):
    """Softmax along ``dim`` over the masked-in elements; the masked-out ones get 0
    (NaN where all are masked out).

    Examples
    --------
    >>> import ember
    >>> ember.masked.softmax(ember.tensor([1., 5., 1.]), 0, mask=ember.tensor([True, False, True]))
    tensor([0.5000, 0.0000, 0.5000])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.nn.functional.softmax(_combine("max", input, mask),
                                       _canonical_dim(dim, input.dim())[0], dtype=dtype)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """Log of :func:`softmax` (``-inf`` at the masked-out elements).

    Examples
    --------
    >>> import ember
    >>> ember.masked.log_softmax(ember.tensor([1., 5., 1.]), 0,
    ...                          mask=ember.tensor([True, False, True]))
    tensor([-0.6931,    -inf, -0.6931])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.nn.functional.log_softmax(_combine("max", input, mask),
                                           _canonical_dim(dim, input.dim())[0], dtype=dtype)


def softmin(input, dim, *, dtype=None, mask=None):
    """Softmin (softmax of ``-input``) along ``dim`` over the masked-in elements.

    Examples
    --------
    >>> import ember
    >>> ember.masked.softmin(ember.tensor([1., -5., 1.]), 0,
    ...                      mask=ember.tensor([True, False, True]))
    tensor([0.5000, 0.0000, 0.5000])
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.nn.functional.softmin(_combine("min", input, mask),
                                       _canonical_dim(dim, input.dim())[0], dtype=dtype)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """``input`` divided by its masked :func:`norm` along ``dim`` (at least ``eps``);
    the masked-out elements become 0.

    Examples
    --------
    >>> import ember
    >>> ember.masked.normalize(ember.tensor([3., 100., 4.]), 2.0, 0,
    ...                        mask=ember.tensor([True, False, True]))
    tensor([0.6000, 0.0000, 0.8000])
    """
    dtype = input.dtype if dtype is None else dtype
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return _combine("sum", input, mask) / ember.clamp_min(nrm, eps)
