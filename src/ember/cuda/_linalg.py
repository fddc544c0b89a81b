"""ember.linalg's decompositions on the GPU through CuPy's cuSOLVER routines.

``ember.linalg`` hands the kernels of ``eigh``/``eigvalsh``, ``svd``/``svdvals``,
``qr``, ``det``, ``slogdet`` and ``cholesky`` (and so ``pinv``, ``matrix_rank``,
``cond`` and the 2- and nuclear matrix norms, built on them) to
:class:`~ember.cuda._backend.CudaBackend` (``linalg``) for non-empty cuda tensors: the
tensor is viewed as a CuPy array without a copy (CuPy copies a layout cuSOLVER cannot
read), CuPy runs the batched routine, and the results are copied into ember cuda
tensors.  The Cholesky factorization calls cuSOLVER's ``potrfBatched`` itself, for
the ``info`` per matrix that ``cupy.linalg.cholesky`` does not return (the CPU's
errors name the order of the failing minor).  The other ``linalg`` kernels run LAPACK
on host copies (see ``ember.linalg._common.on_host``).
"""
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
