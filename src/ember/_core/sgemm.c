/* ember's single-precision GEMM (see include/ember/sgemm.h).
 *
 * The BLIS scheme.  The product is computed as C' = A' B' in the orientation
 * where C's unit stride runs down the columns of C' (C' = C^T, A' = B^T,
 * B' = A^T for a row-major C), so the micro-kernel's vectors lie along C's
 * contiguous direction.  Loops, outer to inner:
 *
 *   jc: NC columns of C'      pc: KC of the inner dimension (B' block packed, L3)
 *   ic: MC rows of C' (A' block packed, L2)
 *   jr: NR columns, ir: MR rows: one micro-kernel call, an MR x NR tile of C'
 *       summed over KC in registers (the B' micro-panel stays in L1).
 *
 * A' is packed in MR-row panels (MR values per step of k), B' in NR-column
 * panels (NR values per step of k), zero-padded at the edges, so the kernel
 * has no edge cases; an edge tile of C (or one whose vector direction is not
 * unit-stride) is computed into a local tile and then merged with the same
 * arithmetic as the kernel's own update, which keeps the bits of every element
 * independent of where a tile boundary falls (splitting C across threads
 * gives the same result).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "ember/sgemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EM_SGEMM_X86 1
#endif

#define MAX_MR 32
#define MAX_NR 12
/* An operand is read in place, unpacked, when it is small (packing would be a
 * large part of the work) and its row pitch is no multiple of 4 KiB (rows at
 * such a pitch share cache sets). */
#ifndef DIRECT_A_MAX_FLOATS
#define DIRECT_A_MAX_FLOATS (1 << 17)   /* A' panels are re-read from L2 for every jr */
#endif
#ifndef DIRECT_B_MAX_FLOATS
#define DIRECT_B_MAX_FLOATS (1 << 19)   /* a B' micro-panel is re-read from L1 */
#endif
/* An A' micro-panel of at most this many floats stays in L1 (of 48 KiB) while B'
 * micro-panels pass; a B' block of at most this many stays in L2. */
#define L1_PANEL_FLOATS (10 * 1024)
#define L2_BLOCK_FLOATS (64 * 1024)
#ifndef DIRECT_ALIAS
#define DIRECT_ALIAS 1024
#endif
static inline int direct_ok(intptr_t rows, intptr_t k, intptr_t pitch, intptr_t max_floats)
{
    intptr_t p = pitch < 0 ? -pitch : pitch;
    return rows * k <= max_floats && p % DIRECT_ALIAS != 0;
}

typedef void (*ukernel_fn)(intptr_t kc, const float *pa, intptr_t as, const float *pb,
                           intptr_t bj, intptr_t bp, float *c, intptr_t ldc,
                           float alpha, float beta);

typedef struct {
    const char *name;
    int mr, nr;             /* register tile */
    intptr_t mc, kc, nc;    /* cache blocks: multiples of mr, -, nr */
    ukernel_fn packed;      /* both operands packed */
    ukernel_fn strided;     /* any operand strides (see KERNEL_ARGS) */
    void (*merge)(const float *, int, intptr_t, intptr_t, float, float, float *,
                  intptr_t, intptr_t);    /* a local tile into C */
} kernel_info;

/* The store of one element: alpha*acc (C not read when beta == 0) or
 * fma(beta, c, alpha*acc), exactly what the SIMD kernels compute per lane. */
static inline float update(float alpha_acc, float beta, const float *c)
{
    return beta == 0.0f ? alpha_acc : fmaf(beta, *c, alpha_acc);
}

/* ---------------------------------------------------------------- micro-kernels
 *
 * Each computes acc = sum_p pa[p*MR + i] * pb[p*NR + j] and stores
 * c[i + j*ldc] = alpha*acc (beta == 0, C not read) or fma(beta, c, alpha*acc).
 */

/* Operands of a micro-kernel: the A' panel gives MR values of step p at
 * pa + p*as (unit stride within; as == MR when packed), the B' panel value j of
 * step p is pb[j*bj + p*bp] (bj == 1, bp == NR when packed). */
#define KERNEL_ARGS intptr_t kc, const float *pa, intptr_t as, const float *pb, \
                    intptr_t bj, intptr_t bp, float *c, intptr_t ldc, float alpha, float beta

static void ukernel_generic(KERNEL_ARGS)
{
    enum { MR = 8, NR = 4 };
    float acc[NR][MR] = {{0}};
    for (intptr_t p = 0; p < kc; p++)
        for (int j = 0; j < NR; j++)
            for (int i = 0; i < MR; i++)
                acc[j][i] += pa[p * as + i] * pb[j * bj + p * bp];
    for (int j = 0; j < NR; j++)
        for (int i = 0; i < MR; i++)
            c[i + j * ldc] = update(alpha * acc[j][i], beta, c + i + j * ldc);
}

#ifdef EM_SGEMM_X86
__attribute__((target("avx2,fma")))
static void ukernel_avx2(KERNEL_ARGS)
{
    enum { NR = 6 };
    __m256 acc0[NR], acc1[NR];
    for (int j = 0; j < NR; j++)
        acc0[j] = acc1[j] = _mm256_setzero_ps();
    for (intptr_t p = 0; p < kc; p++, pa += as, pb += bp) {
        __m256 a0 = _mm256_loadu_ps(pa), a1 = _mm256_loadu_ps(pa + 8);
#pragma GCC unroll 6
        for (int j = 0; j < NR; j++) {
            __m256 b = _mm256_broadcast_ss(pb + j * bj);
            acc0[j] = _mm256_fmadd_ps(a0, b, acc0[j]);
            acc1[j] = _mm256_fmadd_ps(a1, b, acc1[j]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int j = 0; j < NR; j++) {
        float *cj = c + j * ldc;
        __m256 r0 = _mm256_mul_ps(va, acc0[j]), r1 = _mm256_mul_ps(va, acc1[j]);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cj), r0);
            r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cj + 8), r1);
        }
        _mm256_storeu_ps(cj, r0);
        _mm256_storeu_ps(cj + 8, r1);
    }
}

/* The AVX-512 body, inlined into a packed instance (constant strides, aligned
 * loads) and a strided one (operands read in place from memory). */
__attribute__((target("avx512f,fma"), always_inline))
static inline void avx512_body(KERNEL_ARGS, const int packed, const int NR)
{
    __m512 acc0[MAX_NR], acc1[MAX_NR];
    for (int j = 0; j < NR; j++)
        acc0[j] = acc1[j] = _mm512_setzero_ps();
    for (int j = 0; j < NR; j++)
        _mm_prefetch((const char *)(c + j * ldc), _MM_HINT_T0);
#pragma GCC unroll 2
    for (intptr_t p = 0; p < kc; p++, pa += as, pb += bp) {
        __m512 a0, a1;
        if (packed) {
            a0 = _mm512_load_ps(pa);
            a1 = _mm512_load_ps(pa + 16);
            _mm_prefetch((const char *)(pa + 256), _MM_HINT_T0);
        } else {
            a0 = _mm512_loadu_ps(pa);
            a1 = _mm512_loadu_ps(pa + 16);
            /* rows read in place: fetch the panel 8 steps ahead (a matrix of a batch
             * arrives from L3) */
            _mm_prefetch((const char *)(pa + 8 * as), _MM_HINT_T0);
            _mm_prefetch((const char *)(pa + 8 * as + 16), _MM_HINT_T0);
        }
#pragma GCC unroll 12
        for (int j = 0; j < NR; j++) {
            __m512 b = _mm512_set1_ps(pb[j * bj]);
            acc0[j] = _mm512_fmadd_ps(a0, b, acc0[j]);
            acc1[j] = _mm512_fmadd_ps(a1, b, acc1[j]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int j = 0; j < NR; j++) {
        float *cj = c + j * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc0[j]), r1 = _mm512_mul_ps(va, acc1[j]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cj), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cj + 16), r1);
        }
        _mm512_storeu_ps(cj, r0);
        _mm512_storeu_ps(cj + 16, r1);
    }
}

/* The packed and strided instances of 32 x NR tiles: NR = 12, and NR = 8 for products
 * whose C' has a multiple of 8 columns that 12 does not divide (a convolution's 64
 * channels: 12-wide tiles would compute 72). */
#define AVX512_KERNELS(SUFFIX, NR)                                          \
__attribute__((target("avx512f,fma")))                                      \
static void ukernel_avx512_packed##SUFFIX(KERNEL_ARGS)                      \
{                                                                           \
    (void)as; (void)bj; (void)bp;                                           \
    avx512_body(kc, pa, 32, pb, 1, NR, c, ldc, alpha, beta, 1, NR);          \
}                                                                           \
__attribute__((target("avx512f,fma")))                                      \
static void ukernel_avx512##SUFFIX(KERNEL_ARGS)                             \
{                                                                           \
    avx512_body(kc, pa, as, pb, bj, bp, c, ldc, alpha, beta, 0, NR);         \
}
AVX512_KERNELS(, 12)
AVX512_KERNELS(_nr8, 8)
#undef AVX512_KERNELS
#endif

/* merging a local tile into C (defined with the loops below) */
#define MERGE_ARGS const float *tile, int mr, intptr_t h, intptr_t w, float alpha, \
                   float beta, float *c, intptr_t ci, intptr_t cj
static void merge_generic(MERGE_ARGS);
#ifdef EM_SGEMM_X86
static void merge_fma(MERGE_ARGS);
#endif

static const kernel_info kernel_generic = {"generic", 8, 4, 128, 256, 2048,
                                           ukernel_generic, ukernel_generic, merge_generic};
#ifdef EM_SGEMM_X86
static const kernel_info kernel_avx2 = {"avx2", 16, 6, 144, 256, 3072,
                                        ukernel_avx2, ukernel_avx2, merge_fma};
static const kernel_info kernel_avx512 = {"avx512", 32, 12, 192, 384, 4092,
                                          ukernel_avx512_packed, ukernel_avx512, merge_fma};
static const kernel_info kernel_avx512_nr8 = {"avx512", 32, 8, 192, 384, 4088,
                                              ukernel_avx512_packed_nr8, ukernel_avx512_nr8,
                                              merge_fma};
#endif

/* The kernel for a C' of n columns: K, or its 8-wide sibling where 12-wide tiles
 * would pad n by over 5% more (same mr and kc, so the same packed A' and the same
 * sums, bit for bit).  Below that the 12-wide tile's fewer loads per multiply-add win
 * (tools/bench_gemm.py: 1024 and 128 columns ran 2-4% slower 8-wide). */
static const kernel_info *fitted_kernel(const kernel_info *K, intptr_t n)
{
#ifdef EM_SGEMM_X86
    if (K == &kernel_avx512 && 20 * ((n + 11) / 12 * 12) > 21 * ((n + 7) / 8 * 8))
        return &kernel_avx512_nr8;
#endif
    (void)n;
    return K;
}

static const kernel_info *chosen = NULL;

/* The fastest kernel this CPU runs (NULL name) or the named one if it runs it. */
static const kernel_info *supported_kernel(const char *name)
{
    const kernel_info *best = &kernel_generic;
#ifdef EM_SGEMM_X86
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (__builtin_cpu_supports("avx512f") && avx2)
        best = &kernel_avx512;
    else if (avx2)
        best = &kernel_avx2;
    if (name && strcmp(name, "avx2") == 0)
        return avx2 ? &kernel_avx2 : NULL;
    if (name && strcmp(name, "avx512") == 0)
        return best == &kernel_avx512 ? best : NULL;
#endif
    if (name && strcmp(name, "generic") == 0)
        return &kernel_generic;
    return name ? NULL : best;
}

static const kernel_info *chosen_kernel(void)
{
    const kernel_info *k = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (!k) {
        k = supported_kernel(NULL);
        __atomic_store_n(&chosen, k, __ATOMIC_RELEASE);
    }
    return k;
}

int em_sgemm_set_kernel(const char *name)
{
    const kernel_info *k = supported_kernel(name);
    if (!k)
        return -1;
    __atomic_store_n(&chosen, k, __ATOMIC_RELEASE);
    return 0;
}

const char *em_sgemm_kernel_name(void) { return chosen_kernel()->name; }

/* ---------------------------------------------------------------- packing */

/* Rows [0, rows) x steps [0, kc) of X (x(i, p) = x[i*rs + p*cs]) into panels of
 * `w` rows: panel q holds x(q*w + r, p) at dst[q*w*kc + p*w + r], zero-padded. */
static void pack_panels(intptr_t rows, intptr_t kc, int w, const float *x, intptr_t rs,
                        intptr_t cs, float *dst)
{
    for (intptr_t i0 = 0; i0 < rows; i0 += w, dst += (intptr_t)w * kc) {
        intptr_t h = rows - i0 < w ? rows - i0 : w;
        const float *src = x + i0 * rs;
        if (rs == 1) {
            for (intptr_t p = 0; p < kc; p++) {
                const float *s = src + p * cs;
                float *d = dst + p * w;
                intptr_t r = 0;
                for (; r < h; r++)
                    d[r] = s[r];
                for (; r < w; r++)
                    d[r] = 0.0f;
            }
        } else {
            intptr_t r = 0;
#ifdef EM_SGEMM_X86
            if (cs == 1) {
                /* 4 x 4 blocks transposed in SSE registers (baseline x86-64) */
                intptr_t k4 = kc & ~(intptr_t)3;
                for (; r + 4 <= h; r += 4) {
                    const float *s = src + r * rs;
                    for (intptr_t p = 0; p < k4; p += 4) {
                        __m128 r0 = _mm_loadu_ps(s + p), r1 = _mm_loadu_ps(s + rs + p);
                        __m128 r2 = _mm_loadu_ps(s + 2 * rs + p), r3 = _mm_loadu_ps(s + 3 * rs + p);
                        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                        _mm_storeu_ps(dst + p * w + r, r0);
                        _mm_storeu_ps(dst + (p + 1) * w + r, r1);
                        _mm_storeu_ps(dst + (p + 2) * w + r, r2);
                        _mm_storeu_ps(dst + (p + 3) * w + r, r3);
                    }
                    for (intptr_t p = k4; p < kc; p++)
                        for (int q = 0; q < 4; q++)
                            dst[p * w + r + q] = s[q * rs + p];
                }
            }
#endif
            /* step along each remaining row of X */
            for (; r < h; r++) {
                const float *s = src + r * rs;
                for (intptr_t p = 0; p < kc; p++)
                    dst[p * w + r] = s[p * cs];
            }
            for (intptr_t r = h; r < w; r++)
                for (intptr_t p = 0; p < kc; p++)
                    dst[p * w + r] = 0.0f;
        }
    }
}

/* ---------------------------------------------------------------- the loops */

/* C' = alpha * A' B' + beta * C' with A' m x k and B' k x n; c'(i, j) = c[i*ci + j*cj].
 * A' comes packed for all of k (panels of mr, block pc at packed_a + pc*round_up(m, mr))
 * or from memory (a[i*ars + p*acs]).  B' is b[p*brs + j*bcs]. */
typedef struct {
    intptr_t m, n, k;
    float alpha, beta;
    const float *a;
    intptr_t ars, acs;
    const float *packed_a;
    const float *b;
    intptr_t brs, bcs;
    float *c;
    intptr_t ci, cj;
} problem;

/* Per-thread packing buffers, grown on demand and kept for the thread's life. */
static _Thread_local float *tl_buffer = NULL;
static _Thread_local size_t tl_capacity = 0;

static float *thread_buffer(size_t floats)
{
    if (floats > tl_capacity) {
        free(tl_buffer);
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        tl_buffer = aligned_alloc(64, bytes);
        tl_capacity = tl_buffer ? floats : 0;
    }
    return tl_buffer;
}

static inline intptr_t round_up(intptr_t x, intptr_t to) { return (x + to - 1) / to * to; }

/* The inner dimension is cut into equal blocks of at most K->kc (multiples of 8):
 * a function of k alone, so every part of C sums in the same order. */
static inline intptr_t kc_block(const kernel_info *K, intptr_t k)
{
    if (k <= 0)
        return 1;       /* no steps of k: any block size (and no division by zero blocks) */
    intptr_t blocks = (k + K->kc - 1) / K->kc;
    intptr_t kb = round_up((k + blocks - 1) / blocks, 8);
    return kb < k ? kb : k;
}

/* Element (i, p) of a packed A'. */
static inline float packed_at(const kernel_info *K, const problem *pr, intptr_t i, intptr_t p)
{
    intptr_t kb = kc_block(K, pr->k), pc = p / kb * kb, kc = pr->k - pc < kb ? pr->k - pc : kb;
    return pr->packed_a[pc * round_up(pr->m, K->mr) + (i / K->mr) * K->mr * kc
                        + (p - pc) * K->mr + i % K->mr];
}

/* An edge tile (or one with non-unit vector stride) merged from a local tile. */
/* An edge tile (or one with non-unit vector stride) merged from a local tile,
 * along C's unit stride when it has one.  Compiled per instruction set so that
 * fmaf is one instruction where the CPU has it. */
__attribute__((always_inline))
static inline void merge_body(MERGE_ARGS)
{
    if (cj == 1 && ci != 1) {
        for (intptr_t i = 0; i < h; i++)
            for (intptr_t j = 0; j < w; j++)
                c[i * ci + j] = update(alpha * tile[i + j * mr], beta, c + i * ci + j);
    } else {
        for (intptr_t j = 0; j < w; j++)
            for (intptr_t i = 0; i < h; i++) {
                float *cc = c + i * ci + j * cj;
                *cc = update(alpha * tile[i + j * mr], beta, cc);
            }
    }
}

static void merge_generic(MERGE_ARGS) { merge_body(tile, mr, h, w, alpha, beta, c, ci, cj); }
#ifdef EM_SGEMM_X86
__attribute__((target("avx2,fma")))
static void merge_fma(MERGE_ARGS) { merge_body(tile, mr, h, w, alpha, beta, c, ci, cj); }
#endif

static void scale_c(const problem *pr)
{
    for (intptr_t i = 0; i < pr->m; i++)
        for (intptr_t j = 0; j < pr->n; j++) {
            float *cc = pr->c + i * pr->ci + j * pr->cj;
            *cc = pr->beta == 0.0f ? 0.0f : pr->beta * *cc;
        }
}

/* Without memory for the packing buffers: the same sums, element by element. */
static void run_unpacked(const kernel_info *K, const problem *pr)
{
    for (intptr_t i = 0; i < pr->m; i++)
        for (intptr_t j = 0; j < pr->n; j++) {
            float *cc = pr->c + i * pr->ci + j * pr->cj;
            for (intptr_t pc = 0; pc < pr->k; pc += kc_block(K, pr->k)) {
                intptr_t kc = pr->k - pc < kc_block(K, pr->k) ? pr->k - pc : kc_block(K, pr->k);
                float acc = 0.0f;
                for (intptr_t p = pc; p < pc + kc; p++) {
                    float x = pr->packed_a ? packed_at(K, pr, i, p) : pr->a[i * pr->ars + p * pr->acs];
                    acc = fmaf(x, pr->b[p * pr->brs + j * pr->bcs], acc);
                }
                *cc = update(pr->alpha * acc, pc == 0 ? pr->beta : 1.0f, cc);
            }
        }
}

static void run_problem(const kernel_info *K, const problem *pr)
{
    K = fitted_kernel(K, pr->n);
    const int mr = K->mr, nr = K->nr;
    const intptr_t m = pr->m, n = pr->n, k = pr->k;
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0 || pr->alpha == 0.0f) {
        scale_c(pr);
        return;
    }
    const intptr_t kc_max = kc_block(K, k);
    const intptr_t nc_max = n < K->nc ? round_up(n, nr) : K->nc;
    const intptr_t mc_max = m < K->mc ? round_up(m, mr) : K->mc;
    const intptr_t mpad = round_up(m, mr);
    /* A' after B' on a 64-byte boundary: the kernels load A' panels aligned */
    const size_t b_floats = (size_t)round_up(kc_max * nc_max, 16);
    size_t need = b_floats + (pr->packed_a ? 0 : (size_t)kc_max * mc_max);
    float *bbuf = thread_buffer(need);
    if (!bbuf) {
        run_unpacked(K, pr);
        return;
    }
    float *abuf = bbuf + b_floats;
    float tile[MAX_MR * MAX_NR] __attribute__((aligned(64)));
    const int unit = pr->ci == 1;

    /* Read an operand in place when its panels are unit-stride rows in memory of
     * moderate pitch (no packing pass; the pitch bounds the pages a panel spans);
     * only a partial last panel is then packed (zero-padded, no reads past the end). */
    const int a_direct = !pr->packed_a && pr->ars == 1 && direct_ok(m, k, pr->acs, DIRECT_A_MAX_FLOATS);
    const int b_direct = pr->brs == 1 && direct_ok(n, k, pr->bcs, DIRECT_B_MAX_FLOATS);

    for (intptr_t jc = 0; jc < n; jc += K->nc) {
        intptr_t nc = n - jc < K->nc ? n - jc : K->nc;
        intptr_t nfull = b_direct ? nc / nr * nr : 0;
        for (intptr_t pc = 0; pc < k; pc += kc_max) {
            intptr_t kc = k - pc < kc_max ? k - pc : kc_max;
            float beta = pc == 0 ? pr->beta : 1.0f;
            const float *bblock = pr->b + pc * pr->brs + jc * pr->bcs;
            /* B' panels of nr columns: the transposed view of pack_panels */
            pack_panels(nc - nfull, kc, nr, bblock + nfull * pr->bcs, pr->bcs, pr->brs, bbuf);
            for (intptr_t ic = 0; ic < m; ic += K->mc) {
                intptr_t mc = m - ic < K->mc ? m - ic : K->mc;
                intptr_t mfull = a_direct ? mc / mr * mr : 0;
                const float *ablock = pr->a + ic * pr->ars + pc * pr->acs;
                if (pr->packed_a)
                    ablock = pr->packed_a + pc * mpad + ic * kc;
                else
                    pack_panels(mc - mfull, kc, mr, ablock + mfull * pr->ars, pr->ars, pr->acs,
                                abuf);
                /* The tile loops: B' micro-panel in L1 across the A' block (BLIS's
                 * order), or, when an A' micro-panel fits in L1 and the B' block in L2
                 * (a small product: a convolution's 64 channels over 288 taps), the A'
                 * micro-panel in L1 across the B' block, which then streams from L2
                 * mc / mr times instead of the A' block nc / nr times. */
                const int a_stays = kc * mr <= L1_PANEL_FLOATS && kc * nc <= L2_BLOCK_FLOATS;
                const intptr_t outer_end = a_stays ? mc : nc, inner_end = a_stays ? nc : mc;
                const intptr_t outer_step = a_stays ? mr : nr, inner_step = a_stays ? nr : mr;
                for (intptr_t outer = 0; outer < outer_end; outer += outer_step)
                for (intptr_t inner = 0; inner < inner_end; inner += inner_step) {
                    const intptr_t ir = a_stays ? outer : inner, jr = a_stays ? inner : outer;
                    intptr_t w = nc - jr < nr ? nc - jr : nr;
                    const float *pb = jr < nfull ? bblock + jr * pr->bcs : bbuf + (jr - nfull) * kc;
                    intptr_t bj = jr < nfull ? pr->bcs : 1, bp = jr < nfull ? 1 : nr;
                    intptr_t h = mc - ir < mr ? mc - ir : mr;
                    int a_in_place = ir < mfull;
                    const float *pa = a_in_place ? ablock + ir
                                    : pr->packed_a ? ablock + ir * kc : abuf + (ir - mfull) * kc;
                    intptr_t as = a_in_place ? pr->acs : mr;
                    ukernel_fn kern = a_in_place || jr < nfull ? K->strided : K->packed;
                    float *c = pr->c + (ic + ir) * pr->ci + (jc + jr) * pr->cj;
                    if (unit && h == mr && w == nr) {
                        kern(kc, pa, as, pb, bj, bp, c, pr->cj, pr->alpha, beta);
                    } else {
                        kern(kc, pa, as, pb, bj, bp, tile, mr, 1.0f, 0.0f);
                        K->merge(tile, mr, h, w, pr->alpha, beta, c, pr->ci, pr->cj);
                    }
                }
            }
        }
    }
}

/* Rough cost, in cycles, of running pr: the padded multiply-adds (mr lanes a
 * cycle), packing each operand (a copy when its panels are unit-stride, a
 * transpose otherwise, nothing when read in place) and merging C through the
 * local tile when its vector direction is not unit-stride. */
static double problem_cost(const kernel_info *K, const problem *pr)
{
    K = fitted_kernel(K, pr->n);
    double m = (double)pr->m, n = (double)pr->n, k = (double)pr->k;
    double cost = (double)round_up(pr->m, K->mr) * (double)round_up(pr->n, K->nr) * k / K->mr;
    int a_direct = pr->ars == 1 && direct_ok(pr->m, pr->k, pr->acs, DIRECT_A_MAX_FLOATS);
    int b_direct = pr->brs == 1 && direct_ok(pr->n, pr->k, pr->bcs, DIRECT_B_MAX_FLOATS);
    if (!a_direct)
        cost += m * k * (pr->ars == 1 ? 0.25 : 1.0);
    if (!b_direct)
        cost += n * k * (pr->bcs == 1 ? 0.25 : 1.0);
    if (pr->ci != 1)
        cost += 2.0 * m * n;
    return cost;
}

void em_sgemm(intptr_t m, intptr_t n, intptr_t k, float alpha,
              const float *a, intptr_t a_rs, intptr_t a_cs,
              const float *b, intptr_t b_rs, intptr_t b_cs,
              float beta, float *c, intptr_t c_rs, intptr_t c_cs)
{
    const kernel_info *K = chosen_kernel();
    /* C' = C, or C' = C^T = B^T A^T: whichever costs less (the bits are the same:
     * each element is the same products summed in the same order) */
    problem same = {.m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
                    .a = a, .ars = a_rs, .acs = a_cs, .packed_a = NULL,
                    .b = b, .brs = b_rs, .bcs = b_cs, .c = c, .ci = c_rs, .cj = c_cs};
    problem transposed = {.m = n, .n = m, .k = k, .alpha = alpha, .beta = beta,
                          .a = b, .ars = b_cs, .acs = b_rs, .packed_a = NULL,
                          .b = a, .brs = a_cs, .bcs = a_rs, .c = c, .ci = c_cs, .cj = c_rs};
    if (problem_cost(K, &same) < problem_cost(K, &transposed))
        run_problem(K, &same);
    else
        run_problem(K, &transposed);
}

/* ---------------------------------------------------------------- packed B */

struct em_sgemm_packed {
    const kernel_info *kernel;
    intptr_t k, n;
    float *panels;      /* B^T as the A' of C^T = B^T A^T, every KC block */
};

em_sgemm_packed *em_sgemm_pack_b(intptr_t k, intptr_t n, const float *b,
                                 intptr_t b_rs, intptr_t b_cs)
{
    const kernel_info *K = chosen_kernel();
    em_sgemm_packed *pk = malloc(sizeof *pk);
    if (!pk)
        return NULL;
    intptr_t npad = round_up(n > 0 ? n : 1, K->mr);
    size_t bytes = ((size_t)npad * (size_t)(k > 0 ? k : 1) * sizeof(float) + 63) & ~(size_t)63;
    pk->panels = aligned_alloc(64, bytes);
    if (!pk->panels) {
        free(pk);
        return NULL;
    }
    pk->kernel = K;
    pk->k = k;
    pk->n = n;
    /* KC block pc holds panels of MC rows of B^T: the layout run_problem reads */
    const intptr_t kb = kc_block(K, k);
    for (intptr_t pc = 0; pc < k; pc += kb) {
        intptr_t kc = k - pc < kb ? k - pc : kb;
        pack_panels(n, kc, K->mr, b + pc * b_rs, b_cs, b_rs, pk->panels + pc * npad);
    }
    return pk;
}

void em_sgemm_packed_free(em_sgemm_packed *packed)
{
    if (packed) {
        free(packed->panels);
        free(packed);
    }
}

void em_sgemm_packed_b(intptr_t m, float alpha, const float *a, intptr_t a_rs, intptr_t a_cs,
                       const em_sgemm_packed *b, float beta,
                       float *c, intptr_t c_rs, intptr_t c_cs)
{
    problem pr = {.m = b->n, .n = m, .k = b->k, .alpha = alpha, .beta = beta,
                  .a = NULL, .ars = 0, .acs = 0, .packed_a = b->panels,
                  .b = a, .brs = a_cs, .bcs = a_rs, .c = c, .ci = c_cs, .cj = c_rs};
    run_problem(b->kernel, &pr);
}

void em_sgemm_packed_b_rows(intptr_t m, const float *a, intptr_t lda,
                            const em_sgemm_packed *b, float beta, float *c, intptr_t ldc,
                            int threads)
{
    if (threads <= 1 || m < 16) {
        em_sgemm_packed_b(m, 1.0f, a, lda, 1, b, beta, c, ldc, 1);
        return;
    }
    /* whole groups of 8 rows per thread; a row's sums do not depend on the split */
    const intptr_t chunk = ((m + threads - 1) / threads + 7) / 8 * 8;
    const intptr_t parts = (m + chunk - 1) / chunk;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (intptr_t t = 0; t < parts; t++) {
        const intptr_t r0 = t * chunk, r1 = r0 + chunk < m ? r0 + chunk : m;
        em_sgemm_packed_b(r1 - r0, 1.0f, a + r0 * lda, lda, 1, b, beta, c + r0 * ldc, ldc, 1);
    }
}
