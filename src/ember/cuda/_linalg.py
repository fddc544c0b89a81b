"""ember.linalg's factorizations on the GPU: CuPy's cuSOLVER routines and cuBLAS's
batched LU.

``ember.linalg`` hands the kernels of ``eigh``/``eigvalsh``, ``svd``/``svdvals``,
``qr``, ``det``, ``slogdet``, ``cholesky``, ``solve``, ``lu_factor`` (square) and
``lu_solve`` (and so ``inv``, ``pinv``, ``matrix_rank``, ``cond``, the 2- and nuclear
matrix norms, ``lu``, ... built on them) to :class:`~ember.cuda._backend.CudaBackend`
(``linalg``) for non-empty cuda tensors.  The decompositions view the tensor as a CuPy
array without a copy (CuPy copies a layout cuSOLVER cannot read), CuPy runs the
batched routine, and the results are copied into ember cuda tensors.  The Cholesky
factorization calls cuSOLVER's ``potrfBatched`` and the LU cuBLAS's ``getrfBatched``
and ``getrsBatched`` directly, for the ``info`` per matrix that ``cupy.linalg`` does
not return (the CPU's errors name the failing minor or pivot) and for LAPACK's packed
factors and pivots.  The other ``linalg`` kernels run LAPACK on host copies (see
``ember.linalg._common.on_host``).
"""
import numpy as np

from ember.cuda._runtime import require_gpu

FILL_LOWER, FILL_UPPER = 0, 1           # cublasFillMode_t
_POTRF = {"float32": "spotrfBatched", "float64": "dpotrfBatched",
          "complex64": "cpotrfBatched", "complex128": "zpotrfBatched"}
from ember.cuda._sort import as_cupy


def _ember():
    import ember
    return ember


def _real(dtype):
    ember = _ember()
    return {ember.complex64: ember.float32, ember.complex128: ember.float64}.get(dtype, dtype)


def _tensor(x, dtype, device):
    """An ember tensor on ``device`` holding the CuPy array ``x``."""
    out = _ember().empty(tuple(x.shape), dtype=dtype, device=device)
    as_cupy(out)[...] = x
    return out


def eigh(A, uplo, vectors):
    """Eigenvalues (ascending) and, with ``vectors``, eigenvectors of the Hermitian
    matrices of ``A`` read from the ``uplo`` triangle."""
    cp = require_gpu()
    if not vectors:
        return _tensor(cp.linalg.eigvalsh(as_cupy(A), UPLO=uplo), _real(A.dtype), A.device)
    w, v = cp.linalg.eigh(as_cupy(A), UPLO=uplo)
    return _tensor(w, _real(A.dtype), A.device), _tensor(v, A.dtype, A.device)


def svd(A, full_matrices, compute_uv):
    """``(U, S, Vh)`` of each matrix of ``A`` (``S`` alone without ``compute_uv``)."""
    cp = require_gpu()
    if not compute_uv:
        return _tensor(cp.linalg.svd(as_cupy(A), compute_uv=False), _real(A.dtype), A.device)
    u, s, vh = cp.linalg.svd(as_cupy(A), full_matrices=full_matrices, compute_uv=True)
    return (_tensor(u, A.dtype, A.device), _tensor(s, _real(A.dtype), A.device),
            _tensor(vh, A.dtype, A.device))


def qr(A, mode):
    """``(Q, R)`` of each matrix of ``A`` (Householder, as LAPACK); ``mode='r'``: ``Q``
    empty."""
    cp = require_gpu()
    if mode == "r":
        R = _tensor(cp.linalg.qr(as_cupy(A), mode="r"), A.dtype, A.device)
        return _ember().empty((0,), dtype=A.dtype, device=A.device), R
    q, r = cp.linalg.qr(as_cupy(A), mode=mode)
    return _tensor(q, A.dtype, A.device), _tensor(r, A.dtype, A.device)


def det(A):
    """The determinant of each matrix of ``A`` (LU with partial pivoting)."""
    return _tensor(require_gpu().linalg.det(as_cupy(A)), A.dtype, A.device)


def slogdet(A):
    """``(sign, logabsdet)`` of each matrix of ``A``: sign 0 and ``-inf`` when singular."""
    sign, logabsdet = require_gpu().linalg.slogdet(as_cupy(A))
    return _tensor(sign, A.dtype, A.device), _tensor(logabsdet, _real(A.dtype), A.device)


def cholesky(A, upper):
    """The Cholesky factor of each matrix of ``A`` (lower, or upper with ``upper``) and
    cuSOLVER's ``info`` per matrix, as the CPU's LAPACK kernel: the factor is computed
    in a row-major copy, which cuSOLVER reads as ``A^T``, so that its other triangle is
    the one the CPU reads."""
    ember = _ember()
    cp = require_gpu()
    batch_shape = tuple(A.shape[:-2])
    n = A.shape[-1]
    buf = ember.empty(tuple(A.shape), dtype=A.dtype, device=A.device)
    buf.copy_(A)                        # cuSOLVER factors in place
    count = buf.numel() // (n * n)
    step = n * n * buf.element_size()
    pointers = ember.tensor([buf.data_ptr() + i * step for i in range(count)],
                            dtype=ember.int64, device=A.device)
    info = ember.zeros(batch_shape, dtype=ember.int32, device=A.device)
    with cp.cuda.Device(A.device.index):
        potrf = getattr(cp.cuda.cusolver, _POTRF[A.dtype.name])
        potrf(cp.cuda.device.get_cusolver_handle(), FILL_LOWER if upper else FILL_UPPER, n,
              pointers.data_ptr(), n, info.data_ptr(), count)
    return (buf.triu() if upper else buf.tril()), info


# ---------------------------------------------------------------- LU: cuBLAS's batched getrf/getrs

_BLAS_PREFIX = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}
OP_N, OP_T, OP_C = 0, 1, 2              # cublasOperation_t


def _column_major(t, batch_shape):
    """A fresh ``(batch, cols, rows)`` cuda buffer holding each matrix of ``t``
    (broadcast to ``batch_shape``) column by column, as cuBLAS reads it."""
    ember = _ember()
    rows, cols = t.shape[-2], t.shape[-1]
    count = 1
    for s in batch_shape:
        count *= s
    buf = ember.empty((count, cols, rows), dtype=t.dtype, device=t.device)
    buf.view(*batch_shape, cols, rows).copy_(t.mT)
    return buf


def _pointers(buf):
    """The device array of the addresses of ``buf``'s matrices (cuBLAS's batched form)."""
    ember = _ember()
    step = buf.shape[-1] * buf.shape[-2] * buf.element_size()
    return ember.tensor([buf.data_ptr() + i * step for i in range(buf.shape[0])],
                        dtype=ember.int64, device=buf.device)


def _cublas(name, dtype):
    return getattr(require_gpu().cuda.cublas, _BLAS_PREFIX[dtype.name] + name)


def _getrf(buf):
    """LU with partial pivoting in place of the column-major square matrices of ``buf``:
    (pivots (batch, n) int32, 1-based; info (batch,) int32: ``i > 0``, ``U[i-1, i-1]``
    is zero)."""
    ember = _ember()
    cp = require_gpu()
    count, n = buf.shape[0], buf.shape[-1]
    piv = ember.zeros((count, n), dtype=ember.int32, device=buf.device)
    info = ember.zeros(count, dtype=ember.int32, device=buf.device)
    pointers = _pointers(buf)           # held for cuBLAS (a temporary would be freed)
    with cp.cuda.Device(buf.device.index):
        _cublas("getrfBatched", buf.dtype)(cp.cuda.device.get_cublas_handle(), n,
                                           pointers.data_ptr(), n, piv.data_ptr(),
                                           info.data_ptr(), count)
    return piv, info


def _getrs(lu, piv, x, trans):
    """Solve ``op(A) X = B`` in place of the column-major ``x`` (``(batch, nrhs, n)``)
    from ``_getrf``'s factors ``lu`` and ``piv`` (one per matrix of ``x``)."""
    cp = require_gpu()
    count, k, n = x.shape
    status = np.zeros(1, dtype=np.int32)        # cuBLAS's argument check, on the host
    lu_pointers, x_pointers = _pointers(lu), _pointers(x)     # held for cuBLAS
    with cp.cuda.Device(x.device.index):
        _cublas("getrsBatched", x.dtype)(cp.cuda.device.get_cublas_handle(), trans, n, k,
                                         lu_pointers.data_ptr(), n, piv.data_ptr(),
                                         x_pointers.data_ptr(), n, status.ctypes.data, count)
    if status[0] != 0:
        raise RuntimeError(f"cublas getrsBatched: argument {-int(status[0])} is invalid")


def lu_factor(A):
    """``(LU, pivots, info)`` of the square matrices of ``A``, packed as LAPACK's."""
    batch_shape = tuple(A.shape[:-2])
    n = A.shape[-1]
    buf = _column_major(A, batch_shape)
    piv, info = _getrf(buf)
    return buf.view(*batch_shape, n, n).mT, piv.view(*batch_shape, n), info.view(batch_shape)


def solve(A, B):
    """``(X, info)`` with ``A X = B`` for the (broadcast) batches of matrices ``B``."""
    ember = _ember()
    batch_shape = tuple(ember.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])))
    n, k = A.shape[-1], B.shape[-1]
    a = _column_major(A, batch_shape)
    x = _column_major(B, batch_shape)
    piv, info = _getrf(a)
    if k:
        # as LAPACK's gesv, a singular matrix leaves its B as it was (no wait for info)
        b = x.clone()
        _getrs(a, piv, x, OP_N)
        x = ember.where((info != 0).view(-1, 1, 1), b, x)
    return x.view(*batch_shape, k, n).mT, info.view(batch_shape)


def lu_solve(LU, pivots, B, adjoint):
    """``X`` with ``A X = B`` (``A^H X = B``) from ``lu_factor``'s ``LU`` and ``pivots``."""
    ember = _ember()
    batch_shape = tuple(ember.broadcast_shapes(tuple(LU.shape[:-2]), tuple(B.shape[:-2])))
    n, k = LU.shape[-1], B.shape[-1]
    x = _column_major(B, batch_shape)
    if k:
        lu = _column_major(LU, batch_shape)
        piv = pivots.to(ember.int32).expand(*batch_shape, n).contiguous()
        _getrs(lu, piv, x, OP_C if adjoint else OP_N)
    return x.view(*batch_shape, k, n).mT
