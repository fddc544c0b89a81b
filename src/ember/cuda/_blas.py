"""Matrix products on cuda tensors through cuBLAS (CuPy's bindings).

``ember._core``'s matmul family checks arguments, shapes and dtypes as on the CPU
and then hands every product to :func:`gemm` (through the backend's ``gemm``):
``C = beta * input + alpha * A @ B`` over a (broadcast) batch.  Row-major data
meets column-major cuBLAS as on the CPU: a row-major ``C`` is computed as
``C^T = B^T A^T``, a column-major one directly, and each operand whose rows or
columns are unit-stride is passed with ``op = N`` or ``T`` and its leading
dimension, so transposed views are never copied.  Only operands cuBLAS cannot
describe (neither stride 1, zero or negative strides, batch dims that are not one
even stride) are copied.  A batch whose right operand is shared folds into one
GEMM.

float16 and bfloat16 accumulate in float32 (``CUBLAS_COMPUTE_32F``); float32
computes in full float32 (no TF32: PyTorch's default
``torch.backends.cuda.matmul.allow_tf32 = False``); float64 in float64; complex64 and
complex128 as ``CUDA_C_32F`` and ``CUDA_C_64F`` with complex ``alpha`` and ``beta``.
"""
import numpy as np

from ember.cuda._runtime import require_gpu

INT_MAX = 2**31 - 1
OP_N, OP_T = 0, 1                       # cublasOperation_t
COMPUTE_32F, COMPUTE_64F = 68, 70       # cublasComputeType_t
GEMM_DEFAULT = -1                       # cublasGemmAlgo_t
DEFAULT_MATH = 0                        # cublasMath_t: no TF32
# cudaDataType_t of each dtype cuBLAS multiplies here, and the compute type
DATA_TYPES = {"float16": (2, COMPUTE_32F), "bfloat16": (14, COMPUTE_32F),
              "float32": (0, COMPUTE_32F), "float64": (1, COMPUTE_64F),
              "complex64": (4, COMPUTE_32F), "complex128": (5, COMPUTE_64F)}
ROW, COL = "row", "col"


def _ember():
    import ember
    return ember


def layout_of(r, c, rs, cs):
    """How cuBLAS can read an ``r x c`` matrix with element strides ``rs``, ``cs``:
    ``(ROW, ld)`` (unit-stride rows), ``(COL, ld)`` or None (the CPU's rule)."""
    if (c == 1 or cs == 1) and (r == 1 or rs >= c):
        lead = c if r == 1 else rs
        if lead <= INT_MAX:
            return ROW, max(lead, 1)
    if (r == 1 or rs == 1) and (c == 1 or cs >= r):
        lead = r if c == 1 else cs
        if lead <= INT_MAX:
            return COL, max(lead, 1)
    return None


def batch_stride(bshape, strides):
    """The one element stride that steps through the batch ``bshape`` (strides right-
    aligned, 0 where broadcast), or None when the batch is not evenly strided."""
    dims = [(s, st) for s, st in zip(bshape, strides) if s != 1]
    if not dims:
        return 0
    inner = dims[-1][1]
    expected = inner
    for size, st in reversed(dims):
        if st != expected:
            return None
        expected = st * size
    return inner


class Operand:
    """One matrix of the product as cuBLAS reads it: the tensor, its matrix strides,
    its batch stride and its layout."""
    __slots__ = ("t", "rows", "cols", "rs", "cs", "bs", "layout", "ld")

    def __init__(self, t, rows, cols, mat_dims, is_row, bshape):
        self.t, self.rows, self.cols = t, rows, cols
        st = t.stride()
        nd = t.dim()
        self.rs = self.cs = 0
        if mat_dims == 2:
            self.rs, self.cs = st[nd - 2], st[nd - 1]
        elif mat_dims == 1:
            if is_row:
                self.cs = st[nd - 1]
            else:
                self.rs = st[nd - 1]
        nb = nd - mat_dims
        aligned = [0] * len(bshape)
        for d in range(nb):
            if t.shape[d] != 1:
                aligned[len(bshape) - nb + d] = st[d]
        self.bs = batch_stride(bshape, aligned)
        found = layout_of(rows, cols, self.rs, self.cs)
        self.layout, self.ld = found if found else (None, 0)

    def usable(self):
        return self.layout is not None and self.bs is not None


def _operand(backend, t, rows, cols, mat_dims, is_row, bshape):
    """`t` as an Operand, copied (and expanded over the batch if need be) when cuBLAS
    cannot read it as it is."""
    op = Operand(t, rows, cols, mat_dims, is_row, bshape)
    if op.layout is None:
        op = Operand(backend.contiguous(t), rows, cols, mat_dims, is_row, bshape)
    if op.bs is None:
        full = tuple(bshape) + tuple(t.shape[t.dim() - mat_dims:])
        op = Operand(backend.contiguous(t.expand(*full)), rows, cols, mat_dims, is_row, bshape)
    return op


def check_dims(m, n, k, batch):
    big = max(m, n, k, batch)
    if big > INT_MAX:
        raise RuntimeError(f"matmul: dimension of size {big} exceeds the largest size cuBLAS "
                           f"accepts ({INT_MAX}, a 32-bit int); split the product into smaller "
                           f"pieces")


def gemm(backend, a, a_vec, b, b_vec, c, input, bshape, alpha, beta, accumulate):
    """``c = beta * input + alpha * a @ b`` on the GPU; returns ``c``.

    As the CPU's ``gemm_into``: ``a`` is ``(..., m, k)`` or a vector (``a_vec``),
    ``b`` is ``(..., k, n)`` or a vector; ``c`` has the batch shape ``bshape``
    (none when ``accumulate`` sums the batch's products) and the non-vector matrix
    dims; ``input``, broadcastable to ``c``, is read only when ``beta`` is nonzero;
    ``c`` may alias the operands.  The caller checked shapes and dtypes.
    """
    ember = _ember()
    name = a.dtype.name
    if name not in DATA_TYPES:
        raise NotImplementedError(f"matmul: not implemented for device cuda yet for dtype "
                                  f"{a.dtype}")
    alpha, beta = complex(alpha), complex(beta)
    if not a.dtype.is_complex:
        alpha, beta = alpha.real, beta.real
    bshape = tuple(bshape)
    total = 1
    for s in bshape:
        total *= s
    m = 1 if a_vec else a.shape[-2]
    k = a.shape[-1]
    n = 1 if b_vec else b.shape[-1]
    if m == 0 or n == 0 or (total == 0 and not accumulate):
        return c
    if k == 0 or total == 0 or alpha == 0:
        # no products to add: C = beta * input (beta == 0 ignores NaN in input)
        if beta == 0:
            backend.fill_(c, 0)
        else:
            backend.copy_(c, ember.mul(input, beta) if beta != 1 else input)
        return c
    nbatch = 1 if accumulate else total
    check_dims(m, n, k, max(nbatch, total))
    mb = () if accumulate else bshape     # the batch as C sees it
    A = _operand(backend, a, m, k, 1 if a_vec else 2, True, bshape)
    B = _operand(backend, b, k, n, 1 if b_vec else 2, False, bshape)

    # C in place unless it has another dtype, aliases an operand or cuBLAS cannot use it;
    # a summed batch accumulates in float32 so that 16-bit results round once
    out_dtype = ember.float32 if accumulate and name in ("float16", "bfloat16") else c.dtype
    c_dims = (not a_vec) + (not b_vec)
    C = Operand(c, m, n, c_dims, a_vec, mb)
    from ember.cuda._backend import _overlap     # (_backend imports this module)
    if (c.dtype != out_dtype or not C.usable() or _overlap(c, A.t) or _overlap(c, B.t)):
        C = Operand(ember.empty(tuple(c.shape), dtype=out_dtype, device=c.device),
                    m, n, c_dims, a_vec, mb)
    if beta != 0 and input is not C.t:
        backend.copy_(C.t, input)

    # a shared right operand: the batch becomes rows of one product
    if (nbatch > 1 and B.bs == 0 and A.layout == ROW and C.layout == ROW
            and A.bs == m * A.ld and C.bs == m * C.ld and m * nbatch <= INT_MAX):
        m, nbatch = m * nbatch, 1
    _run(A, B, C, m, n, k, nbatch, total if accumulate else 1, alpha, beta, name,
         out_dtype.name)
    if C.t is not c:
        backend.copy_(c, C.t)
    return c


def _run(A, B, C, m, n, k, nbatch, nsum, alpha, beta, name, out_name):
    """The cuBLAS calls: one (strided-batched) GEMM, or ``nsum`` GEMMs summed into C."""
    cp = require_gpu()
    cublas = cp.cuda.cublas
    in_type, compute = DATA_TYPES[name]
    out_type = DATA_TYPES[out_name][0]
    # host scalars of the compute type (cuComplex / cuDoubleComplex for complex data)
    if name.startswith("complex"):
        scalar = np.complex128 if compute == COMPUTE_64F else np.complex64
    else:
        scalar = np.float64 if compute == COMPUTE_64F else np.float32
    # C row-major is C^T = B^T A^T in column-major terms; C column-major is A B
    if C.layout == ROW:
        first, second, rows, cols = B, A, n, m
    else:
        first, second, rows, cols = A, B, m, n
    op1 = OP_N if first.layout == C.layout else OP_T
    op2 = OP_N if second.layout == C.layout else OP_T
    step1 = first.bs * first.t.element_size()
    step2 = second.bs * second.t.element_size()
    # host scalars, read by cuBLAS before each call returns; the second beta sums in
    alphas = np.array([alpha], dtype=scalar)
    betas = np.array([beta, 1.0], dtype=scalar)
    with cp.cuda.Device(C.t.device.index):
        handle = cp.cuda.device.get_cublas_handle()
        # CuPy's shared handle may allow TF32 (CUPY_TF32=1): off here, as in PyTorch
        mode = cublas.getMathMode(handle)
        if mode != DEFAULT_MATH:
            cublas.setMathMode(handle, DEFAULT_MATH)
        try:
            if nsum == 1 and nbatch == 1:
                cublas.gemmEx(handle, op1, op2, rows, cols, k, alphas.ctypes.data,
                              first.t.data_ptr(), in_type, first.ld,
                              second.t.data_ptr(), in_type, second.ld,
                              betas.ctypes.data, C.t.data_ptr(), out_type, C.ld,
                              compute, GEMM_DEFAULT)
            elif nsum == 1:
                cublas.gemmStridedBatchedEx(
                    handle, op1, op2, rows, cols, k, alphas.ctypes.data,
                    first.t.data_ptr(), in_type, first.ld, first.bs,
                    second.t.data_ptr(), in_type, second.ld, second.bs,
                    betas.ctypes.data, C.t.data_ptr(), out_type, C.ld, C.bs,
                    nbatch, compute, GEMM_DEFAULT)
            else:
                # addbmm: the batch's products summed into one C, in order
                for i in range(nsum):
                    cublas.gemmEx(handle, op1, op2, rows, cols, k, alphas.ctypes.data,
                                  first.t.data_ptr() + i * step1, in_type, first.ld,
                                  second.t.data_ptr() + i * step2, in_type, second.ld,
                                  betas.ctypes.data + (betas.itemsize if i else 0),
                                  C.t.data_ptr(), out_type, C.ld, compute, GEMM_DEFAULT)
        finally:
            if mode != DEFAULT_MATH:
                cublas.setMathMode(handle, mode)
