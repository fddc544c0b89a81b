/* ember's single-precision GEMM.
 *
 * C = alpha * A @ B + beta * C for an m x k matrix A, a k x n matrix B and an
 * m x n matrix C, each given by its first element and its row / column strides
 * in elements (any sign; A and B may have zero strides, C must not overlap
 * itself).  beta == 0 never reads C (old NaNs do not leak); alpha == 0 or
 * k == 0 only scales C.
 *
 * The product is blocked for the caches and packed into panels for a
 * register-blocked micro-kernel chosen at run time (AVX-512F, AVX2+FMA or
 * portable C).  Each element of C is summed in the same order whatever part of
 * C a call computes, so splitting C across threads gives identical bits.
 *
 * A "packed B" holds B once in the kernel's panel layout, for callers that
 * multiply many left operands by the same matrix (an RNN's W_hh, a layer's
 * weight): the product then skips packing B.
 */
#ifndef EMBER_SGEMM_H
#define EMBER_SGEMM_H

#include <stdint.h>

void em_sgemm(intptr_t m, intptr_t n, intptr_t k, float alpha,
              const float *a, intptr_t a_rs, intptr_t a_cs,
              const float *b, intptr_t b_rs, intptr_t b_cs,
              float beta, float *c, intptr_t c_rs, intptr_t c_cs);

typedef struct em_sgemm_packed em_sgemm_packed;

/* B (k x n) packed for em_sgemm_packed_b; NULL when out of memory. */
em_sgemm_packed *em_sgemm_pack_b(intptr_t k, intptr_t n, const float *b,
                                 intptr_t b_rs, intptr_t b_cs);
void em_sgemm_packed_free(em_sgemm_packed *packed);

/* em_sgemm with a packed B (its k and n); same results bit for bit. */
void em_sgemm_packed_b(intptr_t m, float alpha, const float *a, intptr_t a_rs, intptr_t a_cs,
                       const em_sgemm_packed *b, float beta,
                       float *c, intptr_t c_rs, intptr_t c_cs);

/* Row-major C (m x n) = A (m x k, rows at pitch lda) @ B + beta * C with a packed B, the
 * rows shared out over `threads` OpenMP threads (1: this one); the same bits for any
 * number of threads. */
void em_sgemm_packed_b_rows(intptr_t m, const float *a, intptr_t lda,
                            const em_sgemm_packed *b, float beta, float *c, intptr_t ldc,
                            int threads);

/* Name of the micro-kernel in use ("avx512", "avx2" or "generic"). */
const char *em_sgemm_kernel_name(void);

/* Use the named micro-kernel from now on (tests); -1 if this CPU cannot run it.
 * Not to be called while products run on other threads. */
int em_sgemm_set_kernel(const char *name);

#endif
