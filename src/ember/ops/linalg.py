"""The matmul family: ``matmul`` (``@``), ``mm``, ``bmm``, ``mv``, ``dot``, ``vdot``,
``outer``, the fused ``beta * input + alpha * product`` forms, and the contractions
built on them (``tensordot``, ``inner``, ``chain_matmul``, ``addr``).

The products themselves live in the Cython module ``ember._core._blas`` (BLAS
through SciPy for floating and complex dtypes, a C kernel for integers); this
module is their public face: the ``ember.*`` functions and the Tensor methods,
and their derivatives.
"""
from ember.ops.autocast import autocasts
from ember._core._blas import (
    matmul, mm, bmm, mv, dot, vdot,
    addmm, addmm_, addmv, addmv_, baddbmm, baddbmm_, addbmm, addbmm_,
)
from ember._core import _tensor as _core
from ember._core._dtype import bool_, promote_types
from ember._core._tensor import Tensor, _add_method, _recorded, ew, op_id, record
from ember.ops.derivatives import derivative

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger",
           "addmm", "addmv", "baddbmm", "addbmm",
           "tensordot", "inner", "chain_matmul", "addr"]

_MUL = op_id("mul")
_ADD = op_id("add")
_LOGICAL_OR = op_id("logical_or")


def outer(input, vec2, *, out=None):
    """Outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``.

    Unlike the matrix products, the dtypes promote as in multiplication.

    Parameters
    ----------
    input : Tensor
        A vector of size ``n``.
    vec2 : Tensor
        A vector of size ``m``.
    out : Tensor, optional
        Tensor to write the ``(n, m)`` result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.outer(ember.tensor([1, 2]), ember.tensor([1, 10, 100]))
    tensor([[  1,  10, 100],
            [  2,  20, 200]])
    """
    for name, v, pos in (("input", input, 1), ("vec2", vec2, 2)):
        if not isinstance(v, Tensor):
            raise TypeError(f"outer(): argument '{name}' (position {pos}) must be Tensor, "
                            f"not {type(v).__name__}")
    if input.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D")
    if vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return ew(_MUL, input.unsqueeze(1), vec2, out=out)


ger = outer


# ---------------------------------------------------------------- contractions
# Composites of views and one matrix product each, so that their gradients (and
# double gradients) are those of the views and of ``mm``.

def _check_tensor(fname, name, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _tensordot_dims(a, b, dims):
    """The contracted dims of ``a`` and ``b`` as two lists of non-negative dims."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                               f"dims={dims}")
        return list(range(a.dim() - dims, a.dim())), list(range(dims))
    dims_a, dims_b = dims
    dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
    dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    wrapped = []
    for t, ds in ((a, dims_a), (b, dims_b)):
        n = max(t.dim(), 1)
        for d in ds:
            if not -n <= d < n:
                raise IndexError(f"Dimension out of range (expected to be in range of "
                                 f"[{-n}, {n - 1}], but got {d})")
        wrapped.append([d % n for d in ds])
    return wrapped


@autocasts("tensordot")
def tensordot(a, b, dims=2, out=None):
    """Sum the products of ``a`` and ``b`` over the dims ``dims`` names.

    Parameters
    ----------
    a, b : Tensor
        The operands (of one dtype).
    dims : int or (list of int, list of int)
        ``d``: the last ``d`` dims of ``a`` with the first ``d`` of ``b``; a pair of
        lists: those dims of ``a`` with those of ``b``, in order.  Contracted sizes
        must match, or one of them be 1 (that dim is then summed out first).
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
        The free dims of ``a`` followed by those of ``b``.

    Examples
    --------
    >>> import ember
    >>> a = ember.arange(6.0).reshape(2, 3)
    >>> ember.tensordot(a, ember.ones(3, 2), dims=1)
    tensor([[ 3.,  3.],
            [12., 12.]])
    >>> ember.tensordot(a, a, dims=([0, 1], [0, 1]))
    tensor(55.)
    """
    _check_tensor("tensordot", "a", 1, a)
    _check_tensor("tensordot", "b", 2, b)
    if a.dtype != b.dtype:
        raise RuntimeError(f"both inputs should have same dtype, got {a.dtype} and {b.dtype}")
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    for da, db in zip(dims_a, dims_b):
        sa, sb = a.shape[da], b.shape[db]
        if sa != sb and 1 not in (sa, sb):
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} "
                               f"in dim {da} and second has size {sb} in dim {db}")
    # a size-1 dim against a longer one: the longer side is summed out first (in the
    # inputs' dtype: an integer sum would otherwise widen to int64 and mm would refuse it)
    sum_a = [da for da, db in zip(dims_a, dims_b) if a.shape[da] > b.shape[db]]
    sum_b = [db for da, db in zip(dims_a, dims_b) if b.shape[db] > a.shape[da]]
    if sum_a:
        a = a.sum(sum_a, keepdim=True, dtype=a.dtype)
    if sum_b:
        b = b.sum(sum_b, keepdim=True, dtype=b.dtype)
    free_a = [d for d in range(a.dim()) if d not in dims_a]
    free_b = [d for d in range(b.dim()) if d not in dims_b]
    k = 1
    for d in dims_a:
        k *= a.shape[d]
    shape_a = [a.shape[d] for d in free_a]
    shape_b = [b.shape[d] for d in free_b]
    m = n = 1
    for size in shape_a:
        m *= size
    for size in shape_b:
        n *= size
    product = mm(a.permute(free_a + dims_a).reshape(m, k), b.permute(dims_b + free_b).reshape(k, n))
    return _into(product.reshape(shape_a + shape_b), out)


def _into(result, out):
    """``result``, or copied into ``out`` (resized as PyTorch's ``out=`` is)."""
    if out is None:
        return result
    return ew(_MUL, result, 1, out=out)


def inner(input, other, *, out=None):
    """Sum of the products over the last dim of ``input`` and of ``other``.

    A 0-d operand multiplies the other elementwise.

    Parameters
    ----------
    input, other : Tensor
        The operands; their last dims must have the same size.
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor
        Of shape ``input.shape[:-1] + other.shape[:-1]``.

    Examples
    --------
    >>> import ember
    >>> ember.inner(ember.tensor([1.0, 2.0]), ember.tensor([[1.0, 0.0], [3.0, 4.0]]))
    tensor([ 1., 11.])
    """
    _check_tensor("inner", "input", 1, input)
    _check_tensor("inner", "other", 2, other)
    if input.dim() == 0 or other.dim() == 0:
        return ew(_MUL, input, other, out=out)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"both inputs should have same dtype, got {input.dtype} and "
                           f"{other.dtype}")
    return tensordot(input, other, ([input.dim() - 1], [other.dim() - 1]), out=out)


def _chain_order(sizes):
    """Split points of the cheapest product order of a matrix chain (dynamic programme
    over the classic cost ``rows * inner * cols``); ``sizes[i], sizes[i + 1]`` is
    the shape of matrix ``i``."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _multiply_chain(matrices, split, i, j):
    if i == j:
        return matrices[i]
    k = split[i][j]
    return mm(_multiply_chain(matrices, split, i, k), _multiply_chain(matrices, split, k + 1, j))


@autocasts("chain_matmul")
def chain_matmul(*matrices, out=None):
    """The product of the 2-D ``matrices``, multiplied in the cheapest order.

    PyTorch deprecates it for ``linalg.multi_dot``; it is kept for old code.

    Parameters
    ----------
    *matrices : Tensor
        Two-dimensional tensors whose shapes chain (``(a, b), (b, c), ...``).
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.chain_matmul(ember.ones(2, 3), ember.ones(3, 4), ember.ones(4, 1))
    tensor([[12.],
            [12.]])
    """
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for k, m in enumerate(matrices):
        _check_tensor("chain_matmul", "matrices", k + 1, m)
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead "
                               f"(matrix {k} of chain_matmul)")
    for k in range(len(matrices) - 1):
        if matrices[k].shape[1] != matrices[k + 1].shape[0]:
            raise RuntimeError(f"chain_matmul(): matrices {k} and {k + 1} cannot be multiplied "
                               f"({matrices[k].shape[0]}x{matrices[k].shape[1]} and "
                               f"{matrices[k + 1].shape[0]}x{matrices[k + 1].shape[1]})")
    if len(matrices) == 1:
        return _into(matrices[0].clone(), out)
    sizes = [m.shape[0] for m in matrices] + [matrices[-1].shape[1]]
    split = _chain_order(sizes)
    return _into(_multiply_chain(matrices, split, 0, len(matrices) - 1), out)


@autocasts("addr")
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``.

    With ``beta=0`` the values of ``input`` are ignored (NaN does not propagate).

    Parameters
    ----------
    input : Tensor
        Broadcastable to ``(len(vec1), len(vec2))``.
    vec1, vec2 : Tensor
        Vectors.
    beta, alpha : Number
        The scales (booleans for bool tensors; not floats for integer ones).
    out : Tensor, optional
        Tensor to write the result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.addr(ember.ones(2, 3), ember.tensor([1.0, 2.0]), ember.tensor([1.0, 0.0, -1.0]),
    ...            alpha=2)
    tensor([[ 3.,  1., -1.],
            [ 5.,  1., -3.]])
    """
    _check_tensor("addr", "input", 1, input)
    _check_tensor("addr", "vec1", 2, vec1)
    _check_tensor("addr", "vec2", 3, vec2)
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.dim()}-D")
    dtype = promote_types(input.dtype, promote_types(vec1.dtype, vec2.dtype))
    if not (dtype.is_floating_point or dtype.is_complex):
        for name, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, (float, complex)):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                                   f"floating point number.")
    shape = _core.broadcast_shapes(tuple(input.shape), (vec1.shape[0], vec2.shape[0]))
    if tuple(shape) != (vec1.shape[0], vec2.shape[0]):
        raise RuntimeError(f"addr: the shape of input {list(input.shape)} does not broadcast "
                           f"to the outer product's {[vec1.shape[0], vec2.shape[0]]}")
    if out is None and (_recorded(input) or _recorded(vec1) or _recorded(vec2)):
        return record("addr", _addr_raw, (input, vec1, vec2), {"beta": beta, "alpha": alpha})
    return _into(_addr_raw(input, vec1, vec2, beta=beta, alpha=alpha), out)


def _addr_raw(input, vec1, vec2, *, beta=1, alpha=1):
    product = outer(vec1, vec2)
    if product.dtype == input.dtype == bool_:
        # PyTorch's bool addr is logical: (beta and input) or (alpha and vec1 vec2^T)
        product = product if alpha else _core.zeros_like(product)
        return ew(_LOGICAL_OR, input, product) if beta else product
    if alpha != 1:
        product = ew(_MUL, product, alpha)
    if beta == 0:
        # the input's values are ignored, only its dtype counts
        return product.to(promote_types(input.dtype, product.dtype))
    return ew(_ADD, ew(_MUL, input, beta) if beta != 1 else input, product)


@derivative("addr")
def _addr_backward(ctx, grad, input, vec1, vec2, *, beta=1, alpha=1):
    need_input, need_vec1, need_vec2 = ctx.needs_input_grad
    scaled = _times_conj(grad, alpha)
    return (_times_conj(grad, beta) if need_input else None,
            mv(scaled, vec2.conj()) if need_vec1 else None,
            mv(scaled.mT, vec1.conj()) if need_vec2 else None)


def addr_(self, vec1, vec2, *, beta=1, alpha=1):
    """In-place version of :func:`addr`."""
    return self.copy_(addr(self, vec1, vec2, beta=beta, alpha=alpha))

# Tensor methods: the functions above with the tensor as first argument
for _name, _fn in {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot,
    "outer": outer, "ger": outer,
    "inner": inner, "addr": addr, "addr_": addr_,
    "addmm": addmm, "addmm_": addmm_, "addmv": addmv, "addmv_": addmv_,
    "baddbmm": baddbmm, "baddbmm_": baddbmm_, "addbmm": addbmm, "addbmm_": addbmm_,
}.items():
    _add_method(_name, _fn)
del _name, _fn


# ---------------------------------------------------------------- derivatives
# PyTorch's convention for complex tensors: for ``c = a @ b`` the gradients are
# ``grad @ b^H`` and ``a^H @ grad``.  ``mT`` is a view that BLAS reads as a
# transposed operand, so a backward costs its two products and no copies (``mH``
# of a complex tensor conjugates into a copy).  Products nobody needs are skipped.

def _times_conj(t, number):
    """``t * conj(number)``: the adjoint of scaling by ``number`` (``t`` itself for 1)."""
    z = complex(number)
    factor = z.conjugate() if z.imag else z.real
    return t if factor == 1 else t * factor


def _dot_grads(ctx, grad, a, b, conj_a):
    """``dot(a, b) = sum(a * b)``; ``vdot`` conjugates ``a``."""
    need_a, need_b = ctx.needs_input_grad
    if conj_a:
        return (grad.conj() * b if need_a else None,
                grad * a if need_b else None)
    return (grad * b.conj() if need_a else None,
            grad * a.conj() if need_b else None)


@derivative("dot")
def _dot_backward(ctx, grad, input, tensor, *, out=None):
    return _dot_grads(ctx, grad, input, tensor, False)


@derivative("vdot")
def _vdot_backward(ctx, grad, input, other, *, out=None):
    return _dot_grads(ctx, grad, input, other, True)


def _transposed(t):
    """Whether ``t`` is the transpose of a row-major matrix (as ``weight.t()`` in linear)."""
    return t.dim() == 2 and not t.is_contiguous() and t.mH.is_contiguous()


def _product_grads(ctx, grad, a, b, product):
    """``grad @ b^H`` and ``a^H @ grad``; for an operand that is a transposed row-major
    matrix, its gradient is computed transposed (the same GEMM, the operands swapped),
    so that the gradient reaching the untransposed tensor is row-major too."""
    need_a, need_b = ctx.needs_input_grad[-2:]
    grad_a = grad_b = None
    if need_a:
        grad_a = product(b, grad.mH).mH if _transposed(a) else product(grad, b.mH)
    if need_b:
        grad_b = product(grad.mH, a).mH if _transposed(b) else product(a.mH, grad)
    return grad_a, grad_b


def _mm_grads(ctx, grad, a, b):
    return _product_grads(ctx, grad, a, b, mm)


def _bmm_grads(ctx, grad, a, b):
    return _product_grads(ctx, grad, a, b, bmm)


def _batched_grads(ctx, grad, a, b):
    return _product_grads(ctx, grad, a, b, matmul)


@derivative("mm")
def _mm_backward(ctx, grad, input, mat2, *, out=None):
    return _mm_grads(ctx, grad, input, mat2)


@derivative("bmm")
def _bmm_backward(ctx, grad, input, mat2, *, out=None):
    return _bmm_grads(ctx, grad, input, mat2)


def _mv_grads(ctx, grad, mat, vec):
    need_mat, need_vec = ctx.needs_input_grad[-2:]
    return (grad.unsqueeze(-1) * vec.conj() if need_mat else None,
            mv(mat.mH, grad) if need_vec else None)


@derivative("mv")
def _mv_backward(ctx, grad, input, vec, *, out=None):
    return _mv_grads(ctx, grad, input, vec)


def _rows(t):
    """``t`` as one matrix: its leading dimensions folded into rows."""
    rows = 1
    for size in t.shape[:-1]:
        rows *= size
    return t.reshape(rows, t.shape[-1])


def _matmul_node_name(input, other, **kwargs):
    """PyTorch's node for a matmul depends on the ranks (it dispatches to mm, mv, ...)."""
    return {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0",
            (1, 2): "SqueezeBackward4"}.get((input.dim(), other.dim()), "UnsafeViewBackward0")


@derivative("matmul", node=_matmul_node_name)
def _matmul_backward(ctx, grad, input, other, *, out=None):
    """Every rank combination; the engine sums broadcast batch dimensions back."""
    need_a, need_b = ctx.needs_input_grad
    da, db = input.dim(), other.dim()
    if da == 1 and db == 1:
        return _dot_grads(ctx, grad, input, other, False)
    if da == 2 and db == 1:
        return _mv_grads(ctx, grad, input, other)
    grad_a = grad_b = None
    if da == 1:                     # (k) @ (..., k, n) -> (..., n)
        if need_a:
            grad_a = matmul(other.conj(), grad.unsqueeze(-1)).squeeze(-1)
        if need_b:
            grad_b = input.conj().unsqueeze(-1) * grad.unsqueeze(-2)
        return grad_a, grad_b
    if db == 1:                     # (..., m, k) @ (k) -> (..., m)
        if need_a:
            grad_a = grad.unsqueeze(-1) * other.conj()
        if need_b:
            # one product over the batch folded into rows (PyTorch folds it too)
            grad_b = mv(_rows(input).mH, grad.reshape(-1))
        return grad_a, grad_b
    if need_a:
        grad_a = matmul(grad, other.mH)
    if need_b:
        if db == 2 and da > 2:      # a 2-D right operand: fold the batch into rows
            grad_b = mm(_rows(input).mH, _rows(grad))
        else:
            grad_b = matmul(input.mH, grad)
    return grad_a, grad_b


def _added_product_grads(ctx, grad, beta, alpha, product_grads, mat1, mat2):
    """``beta * input + alpha * product(mat1, mat2)``: the input's gradient and the
    product's, scaled."""
    need = ctx.needs_input_grad
    grad_input = _times_conj(grad, beta) if need[0] else None
    grad_mats = (None, None)
    if need[1] or need[2]:
        grad_mats = product_grads(ctx, _times_conj(grad, alpha), mat1, mat2)
    return (grad_input,) + grad_mats


def _addmm_backward(ctx, grad, input, mat1, mat2, *, beta=1, alpha=1, out=None):
    return _added_product_grads(ctx, grad, beta, alpha, _mm_grads, mat1, mat2)


def _addmv_backward(ctx, grad, input, mat, vec, *, beta=1, alpha=1, out=None):
    return _added_product_grads(ctx, grad, beta, alpha, _mv_grads, mat, vec)


def _baddbmm_backward(ctx, grad, input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _added_product_grads(ctx, grad, beta, alpha, _bmm_grads, batch1, batch2)


def _addbmm_backward(ctx, grad, input, batch1, batch2, *, beta=1, alpha=1, out=None):
    # a sum over the batch: every product sees the same (broadcast) gradient
    return _added_product_grads(ctx, grad, beta, alpha, _batched_grads, batch1, batch2)


for _name, _formula in {
    "addmm": _addmm_backward, "addmv": _addmv_backward,
    "baddbmm": _baddbmm_backward, "addbmm": _addbmm_backward,
}.items():
    derivative(_name)(_formula)
    derivative(_name + "_")(_formula)
del _name, _formula
