# Constant right operands of float32 products packed once (ember.jit's runner).

cdef extern from "ember/sgemm.h" nogil:
    ctypedef struct em_sgemm_packed:
        pass
    em_sgemm_packed *em_sgemm_pack_b(Py_ssize_t k, Py_ssize_t n, const float *b,
                                     Py_ssize_t b_rs, Py_ssize_t b_cs)
    void em_sgemm_packed_free(em_sgemm_packed *packed)
    void em_sgemm_packed_b_rows(Py_ssize_t m, const float *a, Py_ssize_t lda,
                                const em_sgemm_packed *b, float beta, float *c,
                                Py_ssize_t ldc, int threads)


cdef inline Py_ssize_t rows_of(Tensor x) noexcept:
    cdef Py_ssize_t rows = 1
    cdef int d
    for d in range(x._ndim - 1):
        rows *= x._shape[d]
    return rows


cdef class PackedMatrix:
    """A 2-D float32 CPU matrix ``(k, n)`` packed once into the panels of ember's GEMM.

    A traced graph's products by a constant (a linear layer's ``weight.t()``) would
    otherwise pack it again at every call.  :meth:`mm`, :meth:`addmm` and :meth:`matmul`
    take the arguments of :func:`ember.mm`, :func:`ember.addmm` and :func:`ember.matmul`
    and give the same bits (the packed GEMM sums exactly as ``em_sgemm``); a call that
    would not run ember's GEMM there (another right operand, dtype or device, a product
    too small for it, autograd or autocast, ``out=``, other ``alpha``/``beta``) is passed
    to those functions.
    """
    cdef em_sgemm_packed *packed
    cdef readonly Tensor matrix

    def __cinit__(self, Tensor matrix):
        if (matrix._dtype != EM_FLOAT32 or matrix._ndim != 2
                or matrix._storage.device.type_num != DEV_CPU):
            raise TypeError(f"PackedMatrix packs a 2-D float32 CPU tensor, got a "
                            f"{matrix._ndim}-D {dtype_of(matrix._dtype)} tensor on "
                            f"{matrix._storage.device}")
        self.matrix = matrix
        if matrix._numel == 0:
            return          # nothing to pack: every product goes to the eager functions
        self.packed = em_sgemm_pack_b(matrix._shape[0], matrix._shape[1],
                                      <const float *>matrix.ptr(), matrix._strides[0],
                                      matrix._strides[1])
        if self.packed == NULL:
            raise MemoryError(f"cannot pack a matrix of shape {tuple(matrix.shape)}")

    def __dealloc__(self):
        em_sgemm_packed_free(self.packed)

    cdef bint takes(self, object a, object mat2, int nd):
        """Whether ``a @ mat2`` runs here: ``a`` an ``nd``-d float32 CPU tensor whose rows
        lie evenly (one GEMM), ``mat2`` this matrix, a product ember's GEMM would run."""
        cdef Tensor x
        if (self.packed == NULL or mat2 is not self.matrix or not isinstance(a, Tensor)
                or autocast_mode()):
            return False
        x = <Tensor>a
        if (x._dtype != EM_FLOAT32 or x._ndim != nd or x._storage.device.type_num != DEV_CPU
                or x._shape[nd - 1] != self.matrix._shape[0]
                or (grad_enabled() and (x._requires_grad or self.matrix._requires_grad))):
            return False
        # unit-stride rows, apart and in order (one GEMM over them, as matmul folds them)
        if x._strides[nd - 1] != 1 or x._strides[nd - 2] < x._shape[nd - 1] or (
                nd == 3 and x._strides[0] != x._shape[1] * x._strides[1]):
            return False
        return use_ember_sgemm(rows_of(x), self.matrix._shape[1])

    cdef Tensor run(self, Tensor x, object input):
        """``input + x @ matrix`` (``input`` None: no addend) over x's rows."""
        cdef int nd = x._ndim, threads, d
        cdef Py_ssize_t shape[3]
        cdef Py_ssize_t k = self.matrix._shape[0], n = self.matrix._shape[1]
        cdef Py_ssize_t m = rows_of(x), lda = x._strides[nd - 2]
        cdef float beta = 0
        cdef Tensor c
        cdef const float *a
        cdef float *cp
        for d in range(nd - 1):
            shape[d] = x._shape[d]
        shape[nd - 1] = n
        c = new_tensor(nd, shape, EM_FLOAT32, x._storage.device)
        if input is not None:
            check_expandable(<Tensor>input, nd, shape)
            copy_into(c, <Tensor>input)
            beta = 1
        a = <const float *>x.ptr()
        cp = <float *>c.ptr()
        threads = em_get_num_threads() if <double>m * n * k >= BLAS_GRAIN else 1
        with nogil:
            em_sgemm_packed_b_rows(m, a, lda, self.packed, beta, cp, n, threads)
        return c

    def mm(self, input, mat2, *, out=None):
        """:func:`ember.mm` with this matrix as ``mat2``."""
        if out is None and self.takes(input, mat2, 2):
            return self.run(<Tensor>input, None)
        return mm(input, mat2, out=out)

    def matmul(self, input, other, *, out=None):
        """:func:`ember.matmul` with this matrix as ``other``."""
        if out is None and isinstance(input, Tensor) and (<Tensor>input)._ndim in (2, 3) \
                and self.takes(input, other, (<Tensor>input)._ndim):
            return self.run(<Tensor>input, None)
        return matmul(input, other, out=out)

    def addmm(self, input, mat1, mat2, *, beta=1, alpha=1, out=None):
        """:func:`ember.addmm` with this matrix as ``mat2``."""
        if (out is None and type(beta) is int and beta == 1 and type(alpha) is int
                and alpha == 1 and isinstance(input, Tensor)
                and (<Tensor>input)._dtype == EM_FLOAT32
                and (<Tensor>input)._storage.device.type_num == DEV_CPU
                and not (grad_enabled() and (<Tensor>input)._requires_grad)
                and self.takes(mat1, mat2, 2)):
            return self.run(<Tensor>mat1, input)
        return addmm(input, mat1, mat2, beta=beta, alpha=alpha, out=out)
