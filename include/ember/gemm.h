/* Matrix-product kernels that BLAS does not provide: integer GEMM.
 *
 * C = beta * C + alpha * A @ B for an m x k matrix A and a k x n matrix B, each
 * operand given by its first element and its row / column strides in elements
 * (any sign, zero allowed for A and B).  beta == 0 ignores C's old contents.
 * Arithmetic wraps modulo 2^bits, as PyTorch's integer matmul does.
 */
#ifndef EMBER_GEMM_H
#define EMBER_GEMM_H

#include <stdint.h>

#define EM_DECLARE_INT_GEMM(NAME, T)                                                   \
    void em_gemm_##NAME(intptr_t m, intptr_t n, intptr_t k,                            \
                        const T *a, intptr_t a_rs, intptr_t a_cs,                      \
                        const T *b, intptr_t b_rs, intptr_t b_cs,                      \
                        T *c, intptr_t c_rs, intptr_t c_cs, T alpha, T beta);

EM_DECLARE_INT_GEMM(uint8, uint8_t)
EM_DECLARE_INT_GEMM(int8, int8_t)
EM_DECLARE_INT_GEMM(int16, int16_t)
EM_DECLARE_INT_GEMM(int32, int32_t)
EM_DECLARE_INT_GEMM(int64, int64_t)

#undef EM_DECLARE_INT_GEMM

#endif
