"""Matrix functions and products: ``matrix_power``, ``matrix_exp``, ``multi_dot``,
``cross``, ``vecdot``, ``tensorinv``, ``tensorsolve``, and the aliases ``diagonal`` and
``matmul``.

All but ``matrix_exp`` are composites of differentiable ember ops.  ``matrix_exp``
is Higham's scaling and squaring with Pade approximants (degree chosen from the
1-norm, the batch scaled by its largest norm), recorded as one op whose derivative
is PyTorch's: the upper-right block of the exponential of ``[[A^H, G], [0, A^H]]``.
"""
from ember.ops.autocast import autocasts
import math

from ember._core._dtype import bfloat16, float16
from ember._core._index import cat
from ember._core._tensor import broadcast_shapes, contiguous_format, eye, record, zeros
from ember.ops.derivatives import derivative
from ember.linalg._common import (
    binding_names, check_float, check_same_dtype, check_square, check_tensor, out_into,
    requires_grad,
)
from ember.linalg._solve import inv, solve
from ember.ops.linalg import matmul as _matmul

__all__ = ["matrix_power", "matrix_exp", "multi_dot", "cross", "vecdot", "tensorinv",
           "tensorsolve", "diagonal", "matmul"]


@binding_names(input="A")
def matrix_power(A, n, *, out=None):
    """``A`` multiplied by itself ``n`` times (``n < 0``: the inverse's power, ``n == 0``:
    the identity), by repeated squaring.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.matrix_power(ember.tensor([[1, 1], [0, 1]]), 3)
    tensor([[1, 3],
            [0, 1]])
    """
    check_tensor(A, "linalg.matrix_power")
    check_square(A, "linalg.matrix_power")
    n = int(n)
    if n == 0:
        # the identity copied over a clone of A, as PyTorch: the result requires grad
        # when A does (with a zero gradient)
        identity = eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(*A.shape)
        return out_into(A.clone(memory_format=contiguous_format).copy_(identity), out,
                        "matrix_power", exact=False, fname=None)
    if n < 0:
        check_float(A, "linalg.matrix_power")
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return out_into(result if result is not A else A.clone(), out, "matrix_power", fname="matmul")


# Pade coefficients and the 1-norm bounds up to which each degree is accurate in double
# precision (Higham 2005, Table 2.3)
_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.),
}
_THETA = ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1), (7, 9.504178996162932e-1),
          (9, 2.097847961257068), (13, 5.371920351148152))


def _pade(A, degree):
    """``(U, V)`` with ``exp(A) ~ (V - U)^{-1} (V + U)``."""
    b = _PADE[degree]
    identity = eye(A.shape[-1], dtype=A.dtype, device=A.device)
    A2 = A @ A
    if degree < 13:
        powers = [identity, A2]
        while len(powers) <= degree // 2:
            powers.append(powers[-1] @ A2)
        u = sum(b[2 * k + 1] * powers[k] for k in range(degree // 2 + 1))
        v = sum(b[2 * k] * powers[k] for k in range(degree // 2 + 1))
        return A @ u, v
    A4 = A2 @ A2
    A6 = A4 @ A2
    u = A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 \
        + b[1] * identity
    v = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 \
        + b[0] * identity
    return A @ u, v


def _matrix_exp_kernel(A):
    if A.numel() == 0:
        return A.clone()
    norm = float(A.abs().sum(-2).amax().item())       # largest 1-norm of the batch
    for degree, theta in _THETA[:-1]:
        if norm <= theta:
            U, V = _pade(A, degree)
            return solve(V - U, V + U)
    squarings = max(0, math.ceil(math.log2(norm / _THETA[-1][1]))) if norm > 0 else 0
    U, V = _pade(A / (2 ** squarings), 13)
    R = solve(V - U, V + U)
    for _ in range(squarings):
        R = R @ R
    return R


@derivative("linalg_matrix_exp", save_inputs=True)
def _matrix_exp_backward(ctx, grad, A):
    n = A.shape[-1]
    batch = tuple(grad.shape[:-2])
    Ah = A.mH.expand(*batch, n, n)
    top = cat([Ah, grad], -1)
    bottom = cat([zeros(batch + (n, n), dtype=grad.dtype, device=grad.device), Ah], -1)
    block = cat([top, bottom], -2)
    return matrix_exp(block)[..., :n, n:]


# a kernel of its own in PyTorch, which autocast does not reach: its matrix products
# stay in the input's dtype
@binding_names(input="A")
@autocasts("linalg_matrix_exp")
def matrix_exp(A):
    """Matrix exponential ``sum_k A^k / k!`` of each square matrix of ``A``.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.matrix_exp(ember.tensor([[0., 1.], [0., 0.]]))
    tensor([[1., 1.],
            [0., 1.]])
    """
    check_tensor(A, "linalg.matrix_exp")
    if A.dtype in (float16, bfloat16):
        # PyTorch takes the half types too (no LAPACK here): computed in float32
        return matrix_exp(A.float()).to(A.dtype)
    check_float(A, "linalg.matrix_exp", "linalg_matrix_exp")
    check_square(A, "linalg.matrix_exp")
    if requires_grad(A):
        return record("linalg_matrix_exp", _matrix_exp_kernel, (A,))
    return _matrix_exp_kernel(A)


@autocasts("linalg_multi_dot")
def multi_dot(tensors, *, out=None):
    """Product of a chain of matrices, multiplied in the cheapest order.

    The first may be a 1-D row vector and the last a 1-D column vector.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.multi_dot([ember.tensor([1., 2.]), ember.eye(2), ember.tensor([3., 4.])])
    tensor(11.)
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for k, t in enumerate(tensors):
        check_tensor(t, "linalg.multi_dot", "tensors", 1)
        if not (t.dim() == 2 or (t.dim() == 1 and k in (0, len(tensors) - 1))):
            where = ("first" if k == 0 else "last") if k in (0, len(tensors) - 1) else None
            raise RuntimeError(
                f"multi_dot(): the {where} tensor must be 1D or 2D but got {t.dim()}D"
                if where else
                f"multi_dot(): tensor {k} must be 2D but got {t.dim()}D")
    first_vector, last_vector = tensors[0].dim() == 1, tensors[-1].dim() == 1
    mats = list(tensors)
    if first_vector:
        mats[0] = mats[0].unsqueeze(0)
    if last_vector:
        mats[-1] = mats[-1].unsqueeze(-1)
    for k in range(len(mats) - 1):
        if mats[k].shape[-1] != mats[k + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {k} and {k + 1} with shapes "
                               f"{tuple(tensors[k].shape)} and {tuple(tensors[k + 1].shape)} "
                               f"cannot be multiplied")
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    count = len(mats)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return product(i, k) @ product(k + 1, j)

    result = product(0, count - 1)
    if first_vector:
        result = result.squeeze(0)
    if last_vector:
        result = result.squeeze(-1)
    return out_into(result, out, fname="mm")


def cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim`` (batches broadcast).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.cross(ember.tensor([1., 0., 0.]), ember.tensor([0., 1., 0.]))
    tensor([0., 0., 1.])
    """
    check_tensor(input, "linalg.cross", "input")
    check_tensor(other, "linalg.cross", "other", 2)
    if input.dim() != other.dim():
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions. "
                           f"Got {input.dim()} and {other.dim()}")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    shape = broadcast_shapes(tuple(input.shape), tuple(other.shape))
    a, b = input.expand(*shape), other.expand(*shape)
    result = a.roll(-1, dim) * b.roll(-2, dim) - a.roll(-2, dim) * b.roll(-1, dim)
    return out_into(result, out, fname="linalg_cross")


@autocasts("linalg_vecdot")
def vecdot(x, y, *, dim=-1, out=None):
    """Dot product of vectors along ``dim``, conjugating ``x``: ``sum(conj(x) * y)``.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.vecdot(ember.tensor([1., 2.]), ember.tensor([3., 4.]))
    tensor(11.)
    """
    check_tensor(x, "linalg.vecdot", "x")
    check_tensor(y, "linalg.vecdot", "y", 2)
    return out_into((x.conj() * y).sum(dim), out, fname="sum")


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices of ``A``: :meth:`ember.Tensor.diagonal` with
    keyword-only arguments that default to the last two dims (a view).

    Examples
    --------
    >>> import ember
    >>> ember.linalg.diagonal(ember.tensor([[1., 2.], [3., 4.]]), offset=1)
    tensor([2.])
    """
    check_tensor(A, "linalg_diagonal")
    return A.diagonal(offset, dim1, dim2)


def matmul(input, other, *, out=None):
    """Alias of :func:`ember.matmul`.

    Examples
    --------
    >>> import ember
    >>> ember.linalg.matmul(ember.tensor([[1., 2.]]), ember.tensor([[3.], [4.]]))
    tensor([[11.]])
    """
    return _matmul(input, other, out=out)


@binding_names(input="A")
@autocasts("linalg_tensorinv")
def tensorinv(A, ind=2, *, out=None):
    """Inverse of ``A`` for :func:`ember.tensordot` over its first ``ind`` dims.

    Examples
    --------
    >>> import ember
    >>> A = ember.eye(4).reshape(4, 2, 2)
    >>> ember.linalg.tensorinv(A, ind=1).shape
    ember.Size([2, 2, 4])
    """
    check_tensor(A, "linalg.tensorinv")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows = math.prod(A.shape[:ind])
    cols = math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {cols} != {rows}")
    result = inv(A.reshape(rows, cols)).reshape(*A.shape[ind:], *A.shape[:ind])
    return out_into(result, out, fname=None)


@binding_names(input="A", other="B")
@autocasts("linalg_tensorsolve")
def tensorsolve(A, B, dims=None, *, out=None):
    """``X`` with ``tensordot(A, X, X.ndim) == B``; ``dims`` of ``A`` are moved last first.

    Examples
    --------
    >>> import ember
    >>> A = ember.eye(6).reshape(6, 2, 3)
    >>> ember.linalg.tensorsolve(A, ember.ones(6)).shape
    ember.Size([2, 3])
    """
    check_tensor(A, "linalg.tensorsolve")
    check_tensor(B, "linalg.tensorsolve", "B", 2)
    check_same_dtype(A, B, "linalg.tensorsolve")
    if dims is not None:
        dims = [d % A.dim() for d in dims]
        A = A.movedim(dims, list(range(A.dim() - len(dims), A.dim())))
    result_shape = tuple(A.shape[B.dim():])
    rows, cols = B.numel(), math.prod(result_shape)
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement "
                           f"prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
                           f"but got {cols} != {rows}")
    result = solve(A.reshape(rows, cols), B.reshape(rows)).reshape(result_shape)
    return out_into(result, out, fname=None)
