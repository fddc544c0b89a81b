"""Norms: ``vector_norm``, ``matrix_norm`` and ``norm``, as ``torch.linalg`` defines them.

The p-norms for finite ``p`` are one recorded op with PyTorch's derivative (zero where
the norm is zero, rather than the ``0/0`` a composite of ``pow`` would give; zero for the
count of nonzeros ``p = 0``, whose result still requires grad as in PyTorch); the
``inf`` norms are ``amax``/``amin`` of ``abs`` (which share the gradient among ties, as
PyTorch does); matrix norms reduce one dim and then the other.  The spectral and
nuclear norms need the singular values (``ember.linalg.svdvals``).
"""
from ember.ops.autocast import autocasts
import math
import operator

from ember._core._dtype import bfloat16, float16, promote_types
from ember._core._tensor import record
from ember.ops.derivatives import derivative
from ember.ops.reduce import expand_reduced
from ember.linalg._common import (binding_names, check_tensor, out_into, requires_grad,
                                  torch_dtype_name)

__all__ = ["vector_norm", "matrix_norm", "norm"]


def _check_floating(x, fname, low_precision=True):
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {torch_dtype_name(x.dtype)}")
    if not low_precision and x.dtype in (float16, bfloat16):
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got "
                           f"{torch_dtype_name(x.dtype)}")


def _check_dtype(x, fname, dtype):
    """``x`` in ``dtype``, which PyTorch requires to be a floating or complex dtype of the
    same kind as ``x``'s that ``x``'s converts to without narrowing."""
    if dtype is None:
        return x
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{fname}: dtype should be floating point or complex, but got "
                           f"{torch_dtype_name(dtype)}")
    kind = "complex" if x.is_complex() else "real"
    if x.is_complex() != dtype.is_complex:
        raise RuntimeError(f"{fname}: dtype should be {kind} for {kind} inputs, but got "
                           f"{torch_dtype_name(dtype)}")
    if promote_types(x.dtype, dtype) != dtype:
        raise RuntimeError(f"{fname}: the dtype of the input ({torch_dtype_name(x.dtype)}) "
                           f"should be convertible without narrowing to the specified dtype "
                           f"({torch_dtype_name(dtype)})")
    return x.to(dtype)


def _composite_out(result, out, fname):
    """``out=`` of ``matrix_norm`` and ``norm``, which PyTorch writes as composites: the
    result computed first, then their own message for an out of another dtype."""
    if out is not None and out.dtype != result.dtype:
        raise RuntimeError(f"{fname} expected out tensor dtype {torch_dtype_name(result.dtype)} "
                           f"but got: {torch_dtype_name(out.dtype)}")
    return out_into(result, out, fname=None)


def _dims(dim, ndim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(operator.index(d) for d in dim)
    top = max(ndim, 1)
    for d in dims:
        if not -top <= d < top:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, "
                             f"{top - 1}], but got {d})")
    return dims


def _p_norm_kernel(x, ord, dim, keepdim):
    reduce_dim = () if dim is None else dim
    a = x.abs()
    if a.dtype in (float16, bfloat16):
        # powers and sums in float32, as PyTorch's accumulation: 300**2 overflows float16
        return _p_norm_kernel(a.float(), ord, dim, keepdim).to(a.dtype)
    if ord == 0:
        return (a != 0).sum(reduce_dim, keepdim=keepdim).to(a.dtype)
    if ord == 2:
        return (a * a).sum(reduce_dim, keepdim=keepdim).sqrt()
    if ord == 1:
        return a.sum(reduce_dim, keepdim=keepdim)
    if ord == 0:
        return (a != 0).sum(reduce_dim, keepdim=keepdim).to(a.dtype)
    return a.pow(ord).sum(reduce_dim, keepdim=keepdim).pow(1.0 / ord)


def _sgn(x):
    """``x / |x|`` (0 at 0): the direction of ``x``, complex or real."""
    if not x.is_complex():
        return x.sign()
    a = x.abs()
    return (x / a.masked_fill(a == 0, 1).to(x.dtype)).masked_fill(a == 0, 0)


@derivative("linalg_vector_norm", save_result=True)
def _p_norm_backward(ctx, grad, x, ord, dim, keepdim):
    shape = tuple(x.shape)
    reduce_dim = () if dim is None else dim
    if ord == 0:                        # a count: no gradient (x.grad stays None, as in PyTorch)
        return None
    norm = expand_reduced(ctx.result, shape, reduce_dim, keepdim)
    g = expand_reduced(grad, shape, reduce_dim, keepdim)
    if ord == 0:
        return None     # a count: no gradient reaches x, as in PyTorch
    if ord == 1:
        return _sgn(x) * g
    if ord == 2:
        scale = g / norm.masked_fill(norm == 0, 1)
        return x * scale.masked_fill(norm == 0, 0)
    a = x.abs()
    if ord < 1:
        # |x|^(p-1) is infinite at x = 0: PyTorch takes 0 there (a subgradient)
        return _sgn(x) * a.pow(ord - 1).masked_fill(a == 0, 0) * g * norm.pow(1 - ord)
    scale = g / norm.pow(ord - 1).masked_fill(norm == 0, 1)
    return _sgn(x) * (a.pow(ord - 1) * scale.masked_fill(norm == 0, 0))


@binding_names(input="x")
@autocasts("linalg_vector_norm")
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector ``ord``-norm of ``x`` over ``dim`` (all elements when None).

    ``ord`` is any real number or ``inf``/``-inf``: ``sum(|x|**ord)**(1/ord)``,
    ``max(|x|)``, ``min(|x|)``, and for ``ord=0`` the number of non-zeros.

    Parameters
    ----------
    x : Tensor
        Floating or complex tensor.
    ord : float
    dim : int or tuple of int, optional
    keepdim : bool
    dtype : dtype, optional
        Cast ``x`` to this dtype first.
    out : Tensor, optional

    Returns
    -------
    Tensor
        Real (the real counterpart of a complex ``x``).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.vector_norm(ember.tensor([3., -4.]))
    tensor(5.)
    >>> ember.linalg.vector_norm(ember.tensor([3., -4.]), ord=float("inf"))
    tensor(4.)
    """
    check_tensor(x, "linalg_vector_norm", "input")
    _check_floating(x, "linalg.vector_norm")
    x = _check_dtype(x, "linalg.vector_norm", dtype)
    if out is not None and requires_grad(x):
        raise RuntimeError("linalg_vector_norm(): functions with out=... arguments don't "
                           "support automatic differentiation, but one of the arguments "
                           "requires grad.")
    dims = _dims(dim, x.dim())
    if dims == ():
        dims = None
    ord = float(ord)
    reduce_dim = () if dims is None else dims
    if math.isinf(ord):
        if x.numel() == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                               f"tensor because the operation does not have an identity")
        a = x.abs()
        result = a.amax(reduce_dim, keepdim) if ord > 0 else a.amin(reduce_dim, keepdim)
    elif requires_grad(x):
        result = record("linalg_vector_norm", _p_norm_kernel, (x, ord, dims, bool(keepdim)))
    else:
        result = _p_norm_kernel(x, ord, dims, bool(keepdim))
    return out_into(result, out, fname="linalg_vector_norm")


def _amax(t, dim, keepdim=False):
    """``amax`` of nonnegative values, 0 over an empty dim (PyTorch's 2, 1 and inf norms of
    an empty matrix are 0; only the negative orders, with ``amin``, raise)."""
    if t.shape[dim] == 0:
        return t.sum(dim, keepdim=keepdim)
    return t.amax(dim, keepdim=keepdim)


def _svdvals(A, dims):
    """Singular values of the matrices over ``dims`` (the last dim of the result)."""
    from ember import linalg
    return linalg.svdvals(A.movedim(dims, (-2, -1)))


@binding_names(input="A")
@autocasts("linalg_matrix_norm")
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm of the matrices of ``A`` over the two dims ``dim``.

    ``ord``: ``'fro'`` (Frobenius), ``'nuc'`` (sum of singular values), ``inf``/``-inf``
    (max/min absolute row sum), ``1``/``-1`` (max/min absolute column sum), ``2``/``-2``
    (largest/smallest singular value).

    Examples
    --------
    >>> import ember
    >>> A = ember.tensor([[1., -2.], [3., 4.]])
    >>> ember.linalg.matrix_norm(A, ord=1)
    tensor(6.)
    """
    check_tensor(A, "linalg_matrix_norm", "input")
    if ord not in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    # the singular values (2-norms, nuclear norm) are not computed in half precision
    _check_floating(A, "linalg.matrix_norm", low_precision=ord not in ("nuc", 2, -2))
    dims = tuple(dim)
    if len(dims) != 2:
        # PyTorch prints the dims separated by spaces here
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    d0, d1 = (d % A.dim() for d in _dims(dims, A.dim()))
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    A = _check_dtype(A, "linalg.matrix_norm", dtype)
    if ord == "fro":
        return _composite_out(vector_norm(A, 2, (d0, d1), keepdim), out, "linalg.matrix_norm")
    if ord in ("nuc", 2, -2):
        sv = _svdvals(A, (d0, d1))
        result = sv.sum(-1) if ord == "nuc" else _amax(sv, -1) if ord == 2 else sv.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                result = result.unsqueeze(d)
        return _composite_out(result, out, "linalg.matrix_norm")
    # 1-norms sum down the columns (over d0) first, inf-norms along the rows (over d1)
    summed, other = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    result = _amax(sums, other, True) if ord > 0 else sums.amin(other, keepdim=True)
    if not keepdim:
        result = result.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    return _composite_out(result, out, "linalg.matrix_norm")


@binding_names(input="A")
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector or matrix norm, chosen as ``torch.linalg.norm`` chooses it.

    Without ``ord``, the 2-norm of the elements over ``dim`` (all of them when None),
    which over two dims is the Frobenius norm.  A string ``ord`` (``"fro"``, ``"nuc"``)
    is a matrix norm over ``dim`` (the two dims of a 2-D ``A`` when None).  A number
    ``ord`` is a vector norm over one dim and a matrix norm over two; with ``dim=None``,
    that of a 1-D or a 2-D ``A``.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.norm(ember.tensor([[1., 2.], [2., 4.]]))
    tensor(5.)
    """
    check_tensor(A, "linalg_norm", "input")
    dims = None if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    if dims is None and ord is not None and A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.dim()}D.")
    over_two_dims = A.dim() == 2 if dims is None else len(dims) == 2
    # as PyTorch: a str ord is always a matrix norm; without ord, the 2-norm of the vectors
    if isinstance(ord, str) or (ord is not None and over_two_dims):
        result = matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    else:
        result = vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    return _composite_out(result, out, "linalg.norm")
