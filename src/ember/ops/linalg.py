"""The matmul family: ``matmul`` (``@``), ``mm``, ``bmm``, ``mv``, ``dot``, ``vdot``,
``outer``, and the fused ``beta * input + alpha * product`` forms.

The products themselves live in the Cython module ``ember._core._blas`` (BLAS
through SciPy for floating and complex dtypes, a C kernel for integers); this
module is their public face: the ``ember.*`` functions and the Tensor methods,
and their derivatives.
"""
from ember._core._blas import (
    matmul, mm, bmm, mv, dot, vdot,
    addmm, addmm_, addmv, addmv_, baddbmm, baddbmm_, addbmm, addbmm_,
)
from ember._core._tensor import Tensor, _add_method, ew, op_id
from ember.ops.derivatives import derivative

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger",
           "addmm", "addmv", "baddbmm", "addbmm"]

_MUL = op_id("mul")


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

# Tensor methods: the functions above with the tensor as first argument
for _name, _fn in {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot,
    "outer": outer, "ger": outer,
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
