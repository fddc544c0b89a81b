/* ember's blocked LU factorization of single-precision matrices.
 *
 * em_sgetrf factors an m x n column-major matrix (leading dimension lda) in
 * place as P A = L U, exactly in LAPACK's sgetrf format: L unit lower
 * triangular below the diagonal, U on and above it, and 1-based row
 * interchanges in ipiv[0 .. min(m, n)).  It returns LAPACK's info: 0, or the
 * 1-based index of the first exactly zero pivot (the factorization still
 * completes, as LAPACK's does), or -1 when it could not allocate its
 * workspace (the matrix is then untouched).
 *
 * The trailing updates are products on ember's sgemm, split by columns over
 * `nthreads` OpenMP threads, which is what makes it faster than the
 * (single-threaded inside ember) LAPACK call on the matrices it is used for.
 */
#ifndef EMBER_LU_H
#define EMBER_LU_H

#include <stdint.h>

int em_sgetrf(intptr_t m, intptr_t n, float *a, intptr_t lda, int *ipiv, int nthreads);

#endif
