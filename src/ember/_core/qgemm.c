/* ember's int8 GEMM (see include/ember/qgemm.h).
 *
 * C (m x n) = A (m x k, uint8, rows in place) times W^T (W n x k, int8, packed
 * once).  The packed W holds panels of NR = 16 output channels; within a panel,
 * k runs in groups of 4, each group 16 channels x 4 bytes (64 bytes: one
 * AVX-512 register, the layout vpdpbusd multiplies against 4 broadcast bytes of
 * a row of A).  Panels are zero-padded in k and in n (to a multiple of the
 * widest kernel's panel count), so kernels have no column edge cases; a
 * partial last group of A's row (k % 4 bytes) is read into a zero-padded word.
 *
 * A micro-kernel computes an MR x (NB * 16) tile of exact int32 sums over all
 * of k into a local tile; the epilogue then stores the tile as int32, or
 * dequantizes it (scales, zero point, bias) to float32, or requantizes it to
 * uint8.  Work is split into (column block, row chunk) tasks over OpenMP
 * threads, column blocks outermost so that a thread reuses its weight panels
 * from cache across its row chunks.
 *
 * Kernels, fastest first: AVX-512 VNNI (vpdpbusd: 4 u8 x s8 products summed
 * into each int32 lane, no intermediate saturation); AVX2 (weights and
 * activations widened to int16 and multiplied with vpmaddwd, whose pair sums
 * are exact in int32, avoiding vpmaddubsw's int16 saturation); portable C.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ember/qgemm.h"
#include "ember/strided.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EM_QGEMM_X86 1
#endif

#define NR EM_QGEMM_NR
#define GROUP_BYTES (NR * 4)       /* one k-group of a panel */
#define MAX_MR 6
#define MAX_NB 4
#define TILE_LD (MAX_NB * NR)      /* int32 row pitch of the local tile */
#define ROW_GROUPS 8               /* kernel calls (of MR rows) per row chunk, at most */
/* Multiply-adds below which one thread does the work. */
#define QGEMM_GRAIN (1 << 18)

struct em_qgemm_packed {
    intptr_t n, k;
    intptr_t groups;         /* ceil(k / 4) */
    intptr_t panels;         /* ceil(n / NR), rounded up to a multiple of MAX_NB */
    int8_t *data;            /* panel q at data + q * groups * GROUP_BYTES */
    int32_t *col_sums;
};

static inline uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The last, partial group of 4 bytes of a row (k % 4 of them), zero-padded. */
static inline uint32_t load_tail(const uint8_t *p, int bytes)
{
    uint32_t v = 0;
    memcpy(&v, p, (size_t)bytes);
    return v;
}

/* ---------------------------------------------------------------- micro-kernels
 *
 * Each computes, for rows r < MR of A (row r at a + min(r, h - 1) * lda: a short
 * last chunk repeats its last row, whose results are not stored) and NB panels
 * starting at w (panel_bytes apart), tile[r * TILE_LD + c] = sum_p a[r, p] w[c, p]
 * for the NB * 16 channels c.
 */
#define KERNEL_ARGS intptr_t k, const uint8_t *a, intptr_t lda, intptr_t h, \
                    const int8_t *w, intptr_t panel_bytes, int32_t *tile

typedef void (*qkernel_fn)(KERNEL_ARGS);

typedef struct {
    const char *name;
    int mr, nb;
    qkernel_fn fn;
    void (*store)(const int32_t *, intptr_t, intptr_t, intptr_t, intptr_t,
                  const em_qgemm_packed *, int32_t *, intptr_t, const em_qgemm_epilogue *);
    void (*range)(intptr_t, intptr_t, const float *, intptr_t, float *, float *);
    void (*quantize)(intptr_t, intptr_t, const float *, intptr_t, float, int32_t, uint8_t *);
} qkernel_info;

static void kernel_generic(KERNEL_ARGS)
{
    (void)lda; (void)h; (void)panel_bytes;
    /* one partial sum per byte of a group (channel c, tap t at 4c + t), summed over
     * the taps at the end: plain loops over 64 lanes that compilers vectorize */
    int32_t acc[GROUP_BYTES] = {0};
    const intptr_t full = k / 4, groups = (k + 3) / 4;
    for (intptr_t g = 0; g < groups; g++) {
        uint32_t word = g < full ? load_u32(a + 4 * g) : load_tail(a + 4 * g, (int)(k % 4));
        uint8_t av[4];
        memcpy(av, &word, 4);
        const int8_t *wg = w + g * GROUP_BYTES;
        for (int e = 0; e < GROUP_BYTES; e++)
            acc[e] += (int32_t)av[e & 3] * (int32_t)wg[e];
    }
    for (int c = 0; c < NR; c++)
        tile[c] = acc[4 * c] + acc[4 * c + 1] + acc[4 * c + 2] + acc[4 * c + 3];
}

#ifdef EM_QGEMM_X86
__attribute__((target("avx2")))
static void kernel_avx2(KERNEL_ARGS)
{
    enum { MR = 2 };
    (void)panel_bytes;
    const uint8_t *rows[MR];
    for (int r = 0; r < MR; r++)
        rows[r] = a + (r < h ? r : h - 1) * lda;
    /* acc[r][q]: channels 4q..4q+3 of row r, two partial sums (k pairs) each */
    __m256i acc[MR][4];
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < 4; q++)
            acc[r][q] = _mm256_setzero_si256();
    const intptr_t full = k / 4, groups = (k + 3) / 4;
    for (intptr_t g = 0; g < groups; g++) {
        const int8_t *wg = w + g * GROUP_BYTES;
        __m256i wq[4];
        for (int q = 0; q < 4; q++)
            wq[q] = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(wg + 16 * q)));
        for (int r = 0; r < MR; r++) {
            uint32_t word = g < full ? load_u32(rows[r] + 4 * g)
                                     : load_tail(rows[r] + 4 * g, (int)(k % 4));
            __m128i a16 = _mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)word));
            __m256i av = _mm256_broadcastq_epi64(a16);
            for (int q = 0; q < 4; q++)
                acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(wq[q], av));
        }
    }
    for (int r = 0; r < MR; r++)
        for (int half = 0; half < 2; half++) {
            __m256i s = _mm256_hadd_epi32(acc[r][2 * half], acc[r][2 * half + 1]);
            s = _mm256_permute4x64_epi64(s, _MM_SHUFFLE(3, 1, 2, 0));
            _mm256_storeu_si256((__m256i *)(tile + r * TILE_LD + 8 * half), s);
        }
}

/* One k-group of 4 bytes for row r: its word broadcast, times the NB = 4 weight
 * registers into the row's 4 accumulators.  The accumulators are named variables, not
 * an array: with an array GCC kept a copy of every accumulator on the stack, one store
 * per multiply-add (40% of the VNNI peak). */
#define VNNI_ROW(r, word)                                                       \
    do {                                                                        \
        const __m512i av = _mm512_set1_epi32((int)(word));                      \
        c##r##0 = _mm512_dpbusd_epi32(c##r##0, av, w0);                         \
        c##r##1 = _mm512_dpbusd_epi32(c##r##1, av, w1);                         \
        c##r##2 = _mm512_dpbusd_epi32(c##r##2, av, w2);                         \
        c##r##3 = _mm512_dpbusd_epi32(c##r##3, av, w3);                         \
    } while (0)
#define VNNI_GROUP(at, WORD)                                                    \
    do {                                                                        \
        const __m512i w0 = _mm512_load_si512((const void *)(w + (at)));         \
        const __m512i w1 = _mm512_load_si512((const void *)(w + panel_bytes + (at))); \
        const __m512i w2 = _mm512_load_si512((const void *)(w + 2 * panel_bytes + (at))); \
        const __m512i w3 = _mm512_load_si512((const void *)(w + 3 * panel_bytes + (at))); \
        VNNI_ROW(0, WORD(0)); VNNI_ROW(1, WORD(1)); VNNI_ROW(2, WORD(2));       \
        VNNI_ROW(3, WORD(3)); VNNI_ROW(4, WORD(4)); VNNI_ROW(5, WORD(5));       \
    } while (0)
#define VNNI_STORE(r)                                                           \
    do {                                                                        \
        _mm512_storeu_si512((void *)(tile + r * TILE_LD), c##r##0);             \
        _mm512_storeu_si512((void *)(tile + r * TILE_LD + NR), c##r##1);        \
        _mm512_storeu_si512((void *)(tile + r * TILE_LD + 2 * NR), c##r##2);    \
        _mm512_storeu_si512((void *)(tile + r * TILE_LD + 3 * NR), c##r##3);    \
    } while (0)

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void kernel_vnni(KERNEL_ARGS)
{
    /* MR = 6 rows (the last one repeated when h < 6), NB = 4 panels */
    const uint8_t *r0 = a, *r1 = a + (h > 1 ? 1 : h - 1) * lda;
    const uint8_t *r2 = a + (h > 2 ? 2 : h - 1) * lda, *r3 = a + (h > 3 ? 3 : h - 1) * lda;
    const uint8_t *r4 = a + (h > 4 ? 4 : h - 1) * lda, *r5 = a + (h > 5 ? 5 : h - 1) * lda;
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c02 = c00, c03 = c00;
    __m512i c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m512i c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    __m512i c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    __m512i c40 = c00, c41 = c00, c42 = c00, c43 = c00;
    __m512i c50 = c00, c51 = c00, c52 = c00, c53 = c00;
    /* the last, partial group's words first, so that one loop runs every group (with
     * a second loop for the tail GCC again spilled the accumulators) */
    const intptr_t full = k / 4, groups = (k + 3) / 4;
    const int rest = (int)(k % 4);
    const uint32_t t0 = rest ? load_tail(r0 + 4 * full, rest) : 0;
    const uint32_t t1 = rest ? load_tail(r1 + 4 * full, rest) : 0;
    const uint32_t t2 = rest ? load_tail(r2 + 4 * full, rest) : 0;
    const uint32_t t3 = rest ? load_tail(r3 + 4 * full, rest) : 0;
    const uint32_t t4 = rest ? load_tail(r4 + 4 * full, rest) : 0;
    const uint32_t t5 = rest ? load_tail(r5 + 4 * full, rest) : 0;
    for (intptr_t g = 0; g < groups; g++) {
        const int in_full = g < full;
#define WORD(row) (in_full ? load_u32(r##row + 4 * g) : t##row)
        VNNI_GROUP(g * GROUP_BYTES, WORD);
#undef WORD
    }
    VNNI_STORE(0); VNNI_STORE(1); VNNI_STORE(2);
    VNNI_STORE(3); VNNI_STORE(4); VNNI_STORE(5);
}
#undef VNNI_ROW
#undef VNNI_GROUP
#undef VNNI_STORE
#endif

/* ---------------------------------------------------------------- packing */

em_qgemm_packed *em_qgemm_pack(intptr_t n, intptr_t k, const int8_t *w, intptr_t w_rs,
                               intptr_t w_cs)
{
    em_qgemm_packed *pk = calloc(1, sizeof *pk);
    if (!pk)
        return NULL;
    pk->n = n;
    pk->k = k;
    pk->groups = (k + 3) / 4;
    pk->panels = ((n + NR - 1) / NR + MAX_NB - 1) / MAX_NB * MAX_NB;
    size_t bytes = (size_t)(pk->panels * (pk->groups > 0 ? pk->groups : 1)) * GROUP_BYTES;
    pk->data = aligned_alloc(64, bytes);
    pk->col_sums = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (!pk->data || !pk->col_sums) {
        em_qgemm_packed_free(pk);
        return NULL;
    }
    memset(pk->data, 0, bytes);
    for (intptr_t j = 0; j < n; j++) {
        int8_t *panel = pk->data + (j / NR) * pk->groups * GROUP_BYTES + (j % NR) * 4;
        int32_t sum = 0;
        for (intptr_t p = 0; p < k; p++) {
            int8_t v = w[j * w_rs + p * w_cs];
            panel[(p / 4) * GROUP_BYTES + p % 4] = v;
            sum += v;
        }
        pk->col_sums[j] = sum;
    }
    return pk;
}

void em_qgemm_packed_free(em_qgemm_packed *packed)
{
    if (packed) {
        free(packed->data);
        free(packed->col_sums);
        free(packed);
    }
}

const int32_t *em_qgemm_col_sums(const em_qgemm_packed *packed) { return packed->col_sums; }

/* ---------------------------------------------------------------- epilogues
 *
 * In int32: acc - a_zero * colsum is the exact sum of (a - a_zero) w, which fits
 * in int32 (|a - a_zero| <= 255, |w| <= 128, k <= EM_QGEMM_MAX_K) even where the
 * product a_zero * colsum alone does not (the arithmetic wraps, -fwrapv).  The
 * bodies are compiled per instruction set, so the loops vectorize with the
 * rounding instructions the CPU has.
 */
#define STORE_ARGS const int32_t *tile, intptr_t i0, intptr_t h, intptr_t j0, intptr_t w, \
                   const em_qgemm_packed *pk, int32_t *c, intptr_t ldc, \
                   const em_qgemm_epilogue *ep

/* Rows [0, h) x channels [j0, j0 + w) of a local tile into the destination. */
__attribute__((always_inline))
static inline void store_body(STORE_ARGS)
{
    for (intptr_t r = 0; r < h; r++) {
        const int32_t *acc = tile + r * TILE_LD;
        if (!ep) {
            memcpy(c + (i0 + r) * ldc + j0, acc, (size_t)w * sizeof(int32_t));
            continue;
        }
        const int32_t *sums = pk->col_sums + j0;
        const float *ws = ep->w_scale + j0;
        const float *bias = ep->bias ? ep->bias + j0 : NULL;
        const int32_t za = ep->a_zero;
        const float sa = ep->a_scale;
        if (ep->out_u8) {
            uint8_t *out = ep->out_u8 + (i0 + r) * ep->ldo + j0;
            const float inv = 1.0f / ep->out_scale, zo = (float)ep->out_zero;
            const float lo = ep->relu ? zo : 0.0f;
            for (intptr_t j = 0; j < w; j++) {
                float y = sa * ws[j] * (float)(acc[j] - za * sums[j]) + (bias ? bias[j] : 0.0f);
                float q = nearbyintf(y * inv) + zo;
                q = q > lo ? q : lo;
                out[j] = (uint8_t)(q < 255.0f ? q : 255.0f);
            }
        } else {
            float *out = ep->out_f32 + (i0 + r) * ep->ldo + j0;
            for (intptr_t j = 0; j < w; j++)
                out[j] = sa * ws[j] * (float)(acc[j] - za * sums[j]) + (bias ? bias[j] : 0.0f);
        }
    }
}

static void store_generic(STORE_ARGS) { store_body(tile, i0, h, j0, w, pk, c, ldc, ep); }
#ifdef EM_QGEMM_X86
__attribute__((target("avx2,fma")))
static void store_avx2(STORE_ARGS) { store_body(tile, i0, h, j0, w, pk, c, ldc, ep); }
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
static void store_avx512(STORE_ARGS) { store_body(tile, i0, h, j0, w, pk, c, ldc, ep); }
#endif

/* ---------------------------------------------------------------- quantizing rows
 *
 * The range [lo, hi] of m rows of k floats (0 included, NaN ignored), and the rows
 * quantized to uint8 (round half to even, saturating; NaN gives 0), written at
 * pitch k.
 */
#define RANGE_ARGS intptr_t m, intptr_t k, const float *x, intptr_t ldx, float *lo, float *hi
#define QUANT_ARGS intptr_t m, intptr_t k, const float *x, intptr_t ldx, float inv, \
                   int32_t zero, uint8_t *q

static void range_generic(RANGE_ARGS)
{
    float l = 0.0f, u = 0.0f;
    for (intptr_t i = 0; i < m; i++)
        for (intptr_t p = 0; p < k; p++) {
            float v = x[i * ldx + p];
            l = v < l ? v : l;
            u = v > u ? v : u;
        }
    *lo = l;
    *hi = u;
}

__attribute__((always_inline))
static inline void quantize_body(QUANT_ARGS)
{
    const float z = (float)zero;
    for (intptr_t i = 0; i < m; i++) {
        const float *row = x + i * ldx;
        uint8_t *qrow = q + i * k;
        for (intptr_t p = 0; p < k; p++) {
            float v = nearbyintf(row[p] * inv) + z;
            qrow[p] = (uint8_t)(v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f);   /* NaN: 0 */
        }
    }
}

static void quantize_generic(QUANT_ARGS) { quantize_body(m, k, x, ldx, inv, zero, q); }

#ifdef EM_QGEMM_X86
__attribute__((target("avx2,fma")))
static void quantize_avx2(QUANT_ARGS) { quantize_body(m, k, x, ldx, inv, zero, q); }

__attribute__((target("avx512f")))
static void range_avx512(RANGE_ARGS)
{
    __m512 l = _mm512_setzero_ps(), u = _mm512_setzero_ps();
    for (intptr_t i = 0; i < m; i++) {
        const float *row = x + i * ldx;
        for (intptr_t p = 0; p < k; p += 16) {
            __mmask16 mask = k - p >= 16 ? 0xffff : (__mmask16)((1u << (k - p)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(mask, row + p);   /* masked lanes: 0 */
            l = _mm512_min_ps(v, l);     /* the second operand where v is NaN */
            u = _mm512_max_ps(v, u);
        }
    }
    *lo = _mm512_reduce_min_ps(l);
    *hi = _mm512_reduce_max_ps(u);
}

__attribute__((target("avx512f")))
static void quantize_avx512(QUANT_ARGS)
{
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i vzero = _mm512_set1_epi32(zero), none = _mm512_setzero_si512();
    for (intptr_t i = 0; i < m; i++) {
        const float *row = x + i * ldx;
        uint8_t *qrow = q + i * k;
        for (intptr_t p = 0; p < k; p += 16) {
            __mmask16 mask = k - p >= 16 ? 0xffff : (__mmask16)((1u << (k - p)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(mask, row + p);
            /* round to nearest even (the default mode); NaN gives INT_MIN, then 0 */
            __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, vinv)), vzero);
            r = _mm512_max_epi32(r, none);
            _mm512_mask_cvtusepi32_storeu_epi8(qrow + p, mask, r);
        }
    }
}
#endif

/* ---------------------------------------------------------------- kernel choice */

static const qkernel_info kernel_generic_info = {"generic", 1, 1, kernel_generic, store_generic,
                                               range_generic, quantize_generic};
#ifdef EM_QGEMM_X86
static const qkernel_info kernel_avx2_info = {"avx2", 2, 1, kernel_avx2, store_avx2,
                                            range_generic, quantize_avx2};
static const qkernel_info kernel_vnni_info = {"avx512_vnni", 6, 4, kernel_vnni, store_avx512,
                                            range_avx512, quantize_avx512};
#endif

static const qkernel_info *chosen = NULL;

/* The fastest kernel this CPU runs (NULL name) or the named one if it runs it. */
static const qkernel_info *supported_kernel(const char *name)
{
    const qkernel_info *best = &kernel_generic_info;
    int vnni = 0, avx2 = 0;
#ifdef EM_QGEMM_X86
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2");
    vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
           && __builtin_cpu_supports("avx512vnni");
    if (vnni)
        best = &kernel_vnni_info;
    else if (avx2)
        best = &kernel_avx2_info;
    if (name && strcmp(name, "avx512_vnni") == 0)
        return vnni ? &kernel_vnni_info : NULL;
    if (name && strcmp(name, "avx2") == 0)
        return avx2 ? &kernel_avx2_info : NULL;
#endif
    (void)vnni; (void)avx2;
    if (name && strcmp(name, "generic") == 0)
        return &kernel_generic_info;
    return name ? NULL : best;
}

static const qkernel_info *chosen_kernel(void)
{
    const qkernel_info *K = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (!K) {
        K = supported_kernel(NULL);
        __atomic_store_n(&chosen, K, __ATOMIC_RELEASE);
    }
    return K;
}

int em_qgemm_set_kernel(const char *name)
{
    const qkernel_info *K = supported_kernel(name);
    if (!K)
        return -1;
    __atomic_store_n(&chosen, K, __ATOMIC_RELEASE);
    return 0;
}

const char *em_qgemm_kernel_name(void) { return chosen_kernel()->name; }

/* ---------------------------------------------------------------- the loops */

static void run(intptr_t m, const uint8_t *a, intptr_t lda, const em_qgemm_packed *pk,
                int32_t *c, intptr_t ldc, const em_qgemm_epilogue *ep)
{
    const qkernel_info *K = chosen_kernel();
    const intptr_t n = pk->n, k = pk->k;
    if (m <= 0 || n <= 0)
        return;
    const intptr_t block_cols = (intptr_t)K->nb * NR;
    const intptr_t col_blocks = (n + block_cols - 1) / block_cols;
    /* row chunks of at most ROW_GROUPS kernel calls, balanced in size */
    const intptr_t chunk_max = (intptr_t)K->mr * ROW_GROUPS;
    const intptr_t chunks = (m + chunk_max - 1) / chunk_max;
    intptr_t chunk = (m + chunks - 1) / chunks;
    chunk = (chunk + K->mr - 1) / K->mr * K->mr;
    const intptr_t row_chunks = (m + chunk - 1) / chunk;
    const intptr_t panel_bytes = pk->groups * GROUP_BYTES;
    const double work = (double)m * (double)n * (double)k;
    int threads = work > QGEMM_GRAIN ? em_get_num_threads() : 1;
    intptr_t tasks = col_blocks * row_chunks;
    if (threads > tasks)
        threads = (int)tasks;

    #pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (intptr_t t = 0; t < tasks; t++) {
        int32_t tile[MAX_MR * TILE_LD] __attribute__((aligned(64)));
        /* column block outermost: a thread's tasks share weight panels */
        const intptr_t j0 = t / row_chunks * block_cols, i0 = t % row_chunks * chunk;
        const intptr_t i_end = i0 + chunk < m ? i0 + chunk : m;
        const intptr_t w = n - j0 < block_cols ? n - j0 : block_cols;
        const int8_t *panels = pk->data + (j0 / NR) * panel_bytes;
        for (intptr_t i = i0; i < i_end; i += K->mr) {
            intptr_t h = i_end - i < K->mr ? i_end - i : K->mr;
            K->fn(k, a + i * lda, lda, h, panels, panel_bytes, tile);
            K->store(tile, i, h, j0, w, pk, c, ldc, ep);
        }
    }
}

void em_qgemm_s32(intptr_t m, const uint8_t *a, intptr_t lda, const em_qgemm_packed *w,
                  int32_t *c, intptr_t ldc)
{
    run(m, a, lda, w, c, ldc, NULL);
}

void em_qgemm(intptr_t m, const uint8_t *a, intptr_t lda, const em_qgemm_packed *w,
              const em_qgemm_epilogue *ep)
{
    run(m, a, lda, w, NULL, 0, ep);
}

/* ---------------------------------------------------------------- dynamic linear */

void em_qgemm_choose_params(float lo, float hi, float *scale, int32_t *zero)
{
    const double qmin = 0.0, qmax = 255.0;
    lo = lo < 0.0f ? lo : 0.0f;
    hi = hi > 0.0f ? hi : 0.0f;
    double s = ((double)hi - (double)lo) / (qmax - qmin);
    if ((float)s == 0.0f || isinf(1.0f / (float)s))
        s = 0.1;
    double from_min = qmin - lo / s, from_max = qmax - hi / s;
    double err_min = fabs(qmin) - fabs(lo / s), err_max = fabs(qmax) - fabs(hi / s);
    double z = err_min < err_max ? from_min : from_max;
    *zero = z < qmin ? (int32_t)qmin : z > qmax ? (int32_t)qmax : (int32_t)nearbyint(z);
    *scale = (float)s;
}

int em_qlinear_dynamic(intptr_t m, const float *x, intptr_t ldx, const em_qgemm_packed *w,
                       const float *w_scale, const float *bias, float *out, intptr_t ldo)
{
    const qkernel_info *K = chosen_kernel();
    const intptr_t k = w->k;
    float lo, hi, scale;
    int32_t zero;
    K->range(m, k, x, ldx, &lo, &hi);
    em_qgemm_choose_params(lo, hi, &scale, &zero);
    uint8_t *q = malloc((size_t)(m * k > 0 ? m * k : 1));
    if (!q)
        return -1;
    K->quantize(m, k, x, ldx, 1.0f / scale, zero, q);
    em_qgemm_epilogue ep = {.a_scale = scale, .a_zero = zero, .w_scale = w_scale,
                            .bias = bias, .out_f32 = out, .ldo = ldo};
    em_qgemm(m, q, k, w, &ep);
    free(q);
    return 0;
}
