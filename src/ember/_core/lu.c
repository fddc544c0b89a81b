/* Blocked right-looking LU factorization with partial pivoting (see ember/lu.h).
 *
 * Per panel of LU_NB columns: the panel is factored column by column (pivot
 * search, row interchange, scaling and rank-1 updates, all along contiguous
 * columns), then every column right of it takes the panel's interchanges, the
 * triangular solve with the panel's unit lower block, and the rank-LU_NB update
 * A22 -= L21 U12 on ember's sgemm.  Those columns are independent, so they are
 * split over the threads, with one step of look-ahead: one thread updates the
 * next panel's columns and factors that panel while the others update the rest,
 * so the serial panel work overlaps the products.  The pivots and the result do
 * not depend on the thread count (each element's update is one sgemm sum in a
 * fixed order).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ember/lu.h"
#include "ember/sgemm.h"
#include "ember/simd.h"

#define LU_NB 32
/* columns per thread below which splitting the trailing update is not worth a fork */
#define LU_MIN_COLUMNS_PER_THREAD 32

#define A(i, j) a[(i) + (j) * lda]

/* The index of the first largest |x[i]| of x[0..n), as isamax picks (NaNs are never
 * larger; a NaN x[0] is kept).  The maximum is found first with independent lanes
 * (a serial compare-and-select chain costs its latency per element), then its
 * first position. */
EM_MULTIVERSION static intptr_t first_largest(intptr_t n, const float *x)
{
    enum { LANES = 16 };
    float first = fabsf(x[0]);
    if (isnan(first)) {
        return 0;
    }
    float lane[LANES];
    for (int l = 0; l < LANES; l++) {
        lane[l] = first;
    }
    intptr_t i = 1;
    for (; i + LANES <= n; i += LANES) {
        for (int l = 0; l < LANES; l++) {
            float v = fabsf(x[i + l]);
            lane[l] = v > lane[l] ? v : lane[l];
        }
    }
    for (; i < n; i++) {
        float v = fabsf(x[i]);
        lane[0] = v > lane[0] ? v : lane[0];
    }
    float best = first;
    for (int l = 0; l < LANES; l++) {
        best = lane[l] > best ? lane[l] : best;
    }
    for (i = 0; fabsf(x[i]) != best; i++) {
    }
    return i;
}

/* Factor the m x n panel at `a` unblocked; 0-based local pivots into ipiv,
 * the first zero pivot's 1-based local index into *info. */
EM_MULTIVERSION static void getf2(intptr_t m, intptr_t n, float *a, intptr_t lda,
                                  int *ipiv, int *info)
{
    intptr_t k = m < n ? m : n;
    for (intptr_t j = 0; j < k; j++) {
        intptr_t p = first_largest(m - j, &A(j, j)) + j;
        ipiv[j] = (int)p;
        float pivot = A(p, j);
        if (pivot != 0.0f) {
            if (p != j) {
                for (intptr_t c = 0; c < n; c++) {
                    float t = A(j, c);
                    A(j, c) = A(p, c);
                    A(p, c) = t;
                }
            }
            float *col = &A(0, j);
            if (fabsf(pivot) >= FLT_MIN) {
                float r = 1.0f / pivot;
                for (intptr_t i = j + 1; i < m; i++) {
                    col[i] *= r;
                }
            } else {
                for (intptr_t i = j + 1; i < m; i++) {
                    col[i] /= pivot;
                }
            }
        } else if (*info == 0) {
            *info = (int)j + 1;
        }
        const float *l = &A(0, j);
        for (intptr_t c = j + 1; c < n; c++) {
            float u = A(j, c);
            if (u != 0.0f) {
                float *col = &A(0, c);
                for (intptr_t i = j + 1; i < m; i++) {
                    col[i] -= l[i] * u;
                }
            }
        }
    }
}

/* The panel (m x n, m >= n) factored recursively, as LAPACK's sgetrf2: the left
 * half, its interchanges and triangular solve applied to the right half, the
 * right half's update as one product, then the right half; most of the work
 * is in the products.  Local 0-based pivots, local *info as getf2. */
static void panel_getrf(intptr_t m, intptr_t n, float *a, intptr_t lda, int *ipiv, int *info)
{
    if (n <= 4) {
        getf2(m, n, a, lda, ipiv, info);
        return;
    }
    intptr_t n1 = n / 2, n2 = n - n1;
    panel_getrf(m, n1, a, lda, ipiv, info);
    for (intptr_t i = 0; i < n1; i++) {                 /* interchanges of the right half */
        intptr_t p = ipiv[i];
        if (p != i) {
            for (intptr_t c = n1; c < n; c++) {
                float t = A(i, c);
                A(i, c) = A(p, c);
                A(p, c) = t;
            }
        }
    }
    for (intptr_t c = n1; c < n; c++) {                 /* A12 = L11^-1 A12 */
        float *u = &A(0, c);
        for (intptr_t r = 0; r < n1; r++) {
            const float *l = &A(0, r);
            for (intptr_t i = r + 1; i < n1; i++) {
                u[i] -= l[i] * u[r];
            }
        }
    }
    em_sgemm(m - n1, n2, n1, -1.0f, &A(n1, 0), 1, lda, &A(0, n1), 1, lda,
             1.0f, &A(n1, n1), 1, lda);
    int right_info = 0;
    panel_getrf(m - n1, n2, &A(n1, n1), lda, ipiv + n1, &right_info);
    if (right_info != 0 && *info == 0) {
        *info = right_info + (int)n1;
    }
    for (intptr_t i = n1; i < n; i++) {                 /* back to this panel's rows */
        ipiv[i] += (int)n1;
        intptr_t p = ipiv[i];
        if (p != i) {
            for (intptr_t c = 0; c < n1; c++) {
                float t = A(i, c);
                A(i, c) = A(p, c);
                A(p, c) = t;
            }
        }
    }
}

/* Rows j0 .. j0+nb-1 interchanged as ipiv (global, 1-based) says, over columns [c0, c1).
 * Column by column, every interchange within one contiguous column: row by row would
 * touch a cache line of every column per interchange. */
static void swap_rows(float *a, intptr_t lda, const int *ipiv, intptr_t j0, intptr_t nb,
                      intptr_t c0, intptr_t c1)
{
    intptr_t rows[LU_NB], partners[LU_NB], n = 0;     /* the interchanges that move rows */
    for (intptr_t i = j0; i < j0 + nb; i++) {
        if (ipiv[i] - 1 != i) {
            rows[n] = i;
            partners[n++] = ipiv[i] - 1;
        }
    }
    for (intptr_t c = c0; n > 0 && c < c1; c++) {
        float *col = &A(0, c);
        for (intptr_t k = 0; k < n; k++) {
            float t = col[rows[k]];
            col[rows[k]] = col[partners[k]];
            col[partners[k]] = t;
        }
    }
}

/* X = L^-1 for the unit lower triangular jb x jb block L at `l` (column-major,
 * leading dimension lda), into x (column-major, jb x jb). */
static void invert_unit_lower(intptr_t jb, const float *l, intptr_t lda, float *x)
{
    for (intptr_t c = 0; c < jb; c++) {
        float *col = x + c * jb;
        for (intptr_t i = 0; i < jb; i++) {
            col[i] = i == c ? 1.0f : 0.0f;
        }
        for (intptr_t r = c; r < jb; r++) {
            const float *lr = l + r * lda;
            for (intptr_t i = r + 1; i < jb; i++) {
                col[i] -= lr[i] * col[r];
            }
        }
    }
}

/* Columns [c0, c1) right of the panel at (j, j) of width jb: interchanges,
 * U12 = L11^-1 A12 (as a product with the inverse `linv`, through `tmp`, jb rows
 * per column), then A22 -= L21 U12. */
static void update_columns(intptr_t m, float *a, intptr_t lda, const int *ipiv,
                           intptr_t j, intptr_t jb, const float *linv, float *tmp,
                           intptr_t c0, intptr_t c1)
{
    if (c0 >= c1) {
        return;
    }
    swap_rows(a, lda, ipiv, j, jb, c0, c1);
    em_sgemm(jb, c1 - c0, jb, 1.0f, linv, 1, jb, &A(j, c0), 1, lda, 0.0f, tmp, 1, jb);
    for (intptr_t c = c0; c < c1; c++) {
        const float *src = tmp + (c - c0) * jb;
        float *dst = &A(j, c);
        for (intptr_t i = 0; i < jb; i++) {
            dst[i] = src[i];
        }
    }
    if (m > j + jb) {
        em_sgemm(m - j - jb, c1 - c0, jb, -1.0f,
                 &A(j + jb, j), 1, lda,
                 &A(j, c0), 1, lda,
                 1.0f, &A(j + jb, c0), 1, lda);
    }
}

/* Panel j (rows j.., columns j .. j+jb) factored, its pivots made global and 1-based,
 * and its interchanges applied to the columns left of it; the first zero pivot into *info. */
static void factor_panel(intptr_t m, float *a, intptr_t lda, int *ipiv, intptr_t j,
                         intptr_t jb, int *info)
{
    int panel_info = 0;
    panel_getrf(m - j, jb, &A(j, j), lda, ipiv + j, &panel_info);
    if (panel_info != 0 && *info == 0) {
        *info = panel_info + (int)j;
    }
    for (intptr_t i = j; i < j + jb; i++) {
        ipiv[i] += (int)j + 1;
    }
}

int em_sgetrf(intptr_t m, intptr_t n, float *a, intptr_t lda, int *ipiv, int nthreads)
{
    intptr_t k = m < n ? m : n;
    float *linv = malloc(sizeof(float) * (LU_NB * LU_NB + (size_t)LU_NB * (size_t)n));
    if (linv == NULL) {
        return -1;
    }
    float *tmp = linv + LU_NB * LU_NB;
    int info = 0;
    if (k > 0) {
        factor_panel(m, a, lda, ipiv, 0, k < LU_NB ? k : LU_NB, &info);
    }
    for (intptr_t j = 0; j < k; j += LU_NB) {
        intptr_t jb = k - j < LU_NB ? k - j : LU_NB;
        swap_rows(a, lda, ipiv, j, jb, 0, j);
        intptr_t first = j + jb, cols = n - first;
        /* the next panel's columns, when there is a next panel */
        intptr_t next = first < k ? (k - first < LU_NB ? k - first : LU_NB) : 0;
        if (cols <= 0) {
            continue;
        }
        invert_unit_lower(jb, &A(j, j), lda, linv);
        int threads = nthreads;
        if (threads > 1 && cols - next < (intptr_t)(threads - 1) * LU_MIN_COLUMNS_PER_THREAD) {
            threads = (int)((cols - next) / LU_MIN_COLUMNS_PER_THREAD) + 1;
        }
        if (threads <= 1) {
            update_columns(m, a, lda, ipiv, j, jb, linv, tmp, first, n);
            if (next > 0) {
                factor_panel(m, a, lda, ipiv, first, next, &info);
            }
            continue;
        }
        /* Look-ahead: thread 0 updates the next panel's columns and factors that panel
         * while the other threads update the columns right of it; the panel's row
         * interchanges reach the columns left of it at the next step, once no thread
         * reads this step's L21 any more.  The updates are the same products as without
         * look-ahead, so the result does not depend on the thread count. */
        intptr_t rest = first + next, workers = threads - 1;
        intptr_t chunk = ((n - rest + workers - 1) / workers + 15) / 16 * 16;
        int next_info = 0;
        #pragma omp parallel for num_threads(threads) schedule(static)
        for (int t = 0; t < threads; t++) {
            if (t == 0) {
                update_columns(m, a, lda, ipiv, j, jb, linv, tmp, first, rest);
                if (next > 0) {
                    factor_panel(m, a, lda, ipiv, first, next, &next_info);
                }
            } else {
                intptr_t c0 = rest + (t - 1) * chunk;
                intptr_t c1 = c0 + chunk < n ? c0 + chunk : n;
                if (c0 < c1) {
                    update_columns(m, a, lda, ipiv, j, jb, linv, tmp + (c0 - first) * jb,
                                   c0, c1);
                }
            }
        }
        if (next_info != 0 && info == 0) {
            info = next_info;
        }
    }
    free(linv);
    return info;
}
