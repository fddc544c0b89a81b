/* Winograd F(2x2, 3x3) convolution, float32 (see ember/conv.h).
 *
 * A 3x3 unit-stride convolution computes each 2x2 output tile from a 4x4 input tile
 * with 16 products per (output channel, input channel) pair instead of 36 (Lavin and
 * Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
 *
 *   Y = A^T [ (G g G^T) . (B^T d B) ] A
 *
 * with g a 3x3 kernel, d a 4x4 input tile and . the elementwise product.  Summed over
 * the input channels, the 16 elementwise positions xi become 16 matrix products
 * M_xi (O x K) = U_xi (O x C) V_xi (C x K) over the K tiles of a chunk of samples, run
 * by ember's float32 GEMM; around them, the transforms are adds (and halves for G).
 * Each thread takes chunks of whole samples, so that V and M of a chunk stay in cache.
 *
 * The transforms run on four tiles of a row of tiles at once (generic vectors; the
 * last group of a row overlaps the one before, writing the same values again): each
 * input channel is first copied into a zero-bordered plane, whose rows then give the
 * four tiles' columns by even/odd shuffles.  On CPUs with AVX2 (chosen at run time) the
 * output transform takes eight tiles at once, and the same values.  The rounding
 * differs from the direct sum's by a few float32 ulps of the inputs' and weights'
 * magnitudes.
 *
 * Each 2x2 output tile is also one window of a 2x2 max pooling at stride 2: a traced
 * graph's convolution-pooling pair writes the tiles' maxima alone.  A traced graph's
 * constant weight is transformed once, by the caller (em_winograd_weights_float32).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ember/conv.h"
#include "ember/sgemm.h"
#include "ember/simd.h"
#include "ember/strided.h"

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define VECTORS 1
typedef float vec4 __attribute__((vector_size(16)));
typedef int32_t vec4i __attribute__((vector_size(16)));
typedef float vec8 __attribute__((vector_size(32)));
#else
#define VECTORS 0
#endif

/* A vector of type VEC from p (any alignment), as a value (a memcpy into an array element
 * would go through the stack). */
#define LOAD(VEC, p) __extension__({ VEC v_; memcpy(&v_, (p), sizeof v_); v_; })

/* Tiles a chunk aims at: V (16 C K) and M (16 O K) floats of a chunk of 64 channels
 * each side fit in a core's L2. */
#define CHUNK_TILES 128

/* The 16 matrices of U, V and M lie at a pitch of their size + 16 floats: at a multiple
 * of 4 KiB, the 16 stores of one tile or kernel would share one L1 set and evict each
 * other. */
static int64_t pitch_of(int64_t rows, int64_t cols)
{
    return rows * cols + 16;
}

/* U[xi][o][c] = (G g G^T)[xi] for every kernel g = w[o][c] of output channel o. */
static void transform_weights(const float *w, int64_t O, int64_t C, int64_t o, float *U)
{
    const int64_t pitch = pitch_of(O, C);
    for (int64_t c = 0; c < C; c++) {
        const float *g = w + (o * C + c) * 9;
        float t[4][3];          /* G g */
        for (int j = 0; j < 3; j++) {
            t[0][j] = g[j];
            t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
            t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
            t[3][j] = g[6 + j];
        }
        for (int i = 0; i < 4; i++) {   /* (G g) G^T */
            const float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                                0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
            for (int j = 0; j < 4; j++)
                U[(i * 4 + j) * pitch + o * C + c] = u[j];
        }
    }
}

size_t em_winograd_weights_floats(int64_t out_channels, int64_t channels)
{
    return (size_t)(16 * pitch_of(out_channels, channels));
}

void em_winograd_weights_float32(const float *w, int64_t out_channels, int64_t channels,
                                 float *U)
{
    for (int64_t o = 0; o < out_channels; o++)
        transform_weights(w, out_channels, channels, o, U);
}

/* Per-thread buffers, grown on demand and kept for the thread's life (as the GEMM's):
 * the chunk's (one per OpenMP thread) and the transformed weights (the caller's), so
 * that no call pays page faults on fresh memory. */
typedef struct {
    float *data;
    size_t floats;
} buffer;

static _Thread_local buffer tl_chunk, tl_weights;

static float *grown(buffer *b, size_t floats)
{
    if (floats > b->floats) {
        free(b->data);
        b->data = aligned_alloc(64, (floats * sizeof(float) + 63) & ~(size_t)63);
        b->floats = b->data ? floats : 0;
    }
    return b->data;
}

typedef struct {
    int64_t TH, TW, tiles;      /* tiles per sample: TH x TW */
    int64_t PH, PW;             /* the zero-bordered plane */
} layout;

/* v[xi] (xi = 4 i + j) = (B^T d B)[i][j] for one tile, d[i][j] = p[i * pitch + j]. */
static inline void input_tile(const float *p, int64_t pitch, float v[16])
{
    float e[4][4];
    for (int j = 0; j < 4; j++) {
        const float d0 = p[j], d1 = p[pitch + j], d2 = p[2 * pitch + j], d3 = p[3 * pitch + j];
        e[0][j] = d0 - d2;
        e[1][j] = d1 + d2;
        e[2][j] = d2 - d1;
        e[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; i++) {
        v[4 * i] = e[i][0] - e[i][2];
        v[4 * i + 1] = e[i][1] + e[i][2];
        v[4 * i + 2] = e[i][2] - e[i][1];
        v[4 * i + 3] = e[i][1] - e[i][3];
    }
}

/* V[xi][c][k0 + tw] for the tiles of one row of tiles of one channel, read from rows
 * 2 th .. 2 th + 3 of the bordered plane. */
static void input_row(const float *rows, int64_t PW, int64_t TW, float *V, int64_t xi_stride)
{
    int64_t tw = 0;
#if VECTORS
    for (; TW >= 4 && tw < TW; tw += 4) {
        const int64_t at = tw + 4 <= TW ? tw : TW - 4;
        vec4 d[4][4];
        for (int i = 0; i < 4; i++) {   /* even / odd columns: one shufps of two loads each */
            const float *row = rows + i * PW + 2 * at;
            const vec4 a0 = LOAD(vec4, row), a1 = LOAD(vec4, row + 4);
            const vec4 b0 = LOAD(vec4, row + 2), b1 = LOAD(vec4, row + 6);
            d[i][0] = __builtin_shufflevector(a0, a1, 0, 2, 4, 6);
            d[i][1] = __builtin_shufflevector(a0, a1, 1, 3, 5, 7);
            d[i][2] = __builtin_shufflevector(b0, b1, 0, 2, 4, 6);
            d[i][3] = __builtin_shufflevector(b0, b1, 1, 3, 5, 7);
        }
        vec4 e[4][4];
        for (int j = 0; j < 4; j++) {
            e[0][j] = d[0][j] - d[2][j];
            e[1][j] = d[1][j] + d[2][j];
            e[2][j] = d[2][j] - d[1][j];
            e[3][j] = d[1][j] - d[3][j];
        }
        for (int i = 0; i < 4; i++) {
            const vec4 v[4] = {e[i][0] - e[i][2], e[i][1] + e[i][2], e[i][2] - e[i][1],
                               e[i][1] - e[i][3]};
            for (int j = 0; j < 4; j++)
                memcpy(V + (4 * i + j) * xi_stride + at, &v[j], sizeof v[j]);
        }
    }
#endif
    for (; tw < TW; tw++) {
        float v[16];
        input_tile(rows + 2 * tw, PW, v);
        for (int xi = 0; xi < 16; xi++)
            V[xi * xi_stride + tw] = v[xi];
    }
}

/* r[i][j], the 2x2 values of one output tile from m[xi] (xi = 4 i + j), bias added,
 * ReLU'd (v < 0 ? 0 : v: NaN kept). */
static inline void tile_values(const float m[16], float shift, int relu, float r[2][2])
{
    float a[2][4];
    for (int j = 0; j < 4; j++) {
        a[0][j] = m[j] + m[4 + j] + m[8 + j];
        a[1][j] = m[4 + j] - m[8 + j] - m[12 + j];
    }
    for (int i = 0; i < 2; i++) {
        r[i][0] = a[i][0] + a[i][1] + a[i][2] + shift;
        r[i][1] = a[i][1] - a[i][2] - a[i][3] + shift;
        if (relu)
            for (int j = 0; j < 2; j++)
                r[i][j] = r[i][j] < 0.0f ? 0.0f : r[i][j];
    }
}

/* The maximum of a tile's values in max_pool's order: a later value replaces the
 * running maximum when larger or NaN. */
static inline float tile_max(const float r[2][2])
{
    float best = r[0][0];
    const float later[3] = {r[0][1], r[1][0], r[1][1]};
    for (int t = 0; t < 3; t++)
        if (later[t] > best || later[t] != later[t])
            best = later[t];
    return best;
}

/* tile_values of the tiles at..at + W - 1 at once in vectors VEC of W floats (VECI: as
 * integers), lane = tile, from M[xi][at...] at xi_stride: r[2 i + j] = value (i, j).
 * The same sums in the same order. */
#define TILE_VALUES(VEC, VECI, r)                                                          \
    do {                                                                                   \
        const VEC zero_ = (VEC){0}, bias_ = zero_ + shift;                                 \
        VEC a_[2][4];                                                                      \
        for (int j = 0; j < 4; j++) {   /* column j of M: loaded once, into registers */   \
            VEC m_[4];                                                                     \
            for (int i = 0; i < 4; i++)                                                    \
                m_[i] = LOAD(VEC, M + (4 * i + j) * xi_stride + at);                       \
            a_[0][j] = m_[0] + m_[1] + m_[2];                                              \
            a_[1][j] = m_[1] - m_[2] - m_[3];                                              \
        }                                                                                  \
        for (int i = 0; i < 2; i++) {                                                      \
            r[2 * i] = a_[i][0] + a_[i][1] + a_[i][2] + bias_;                             \
            r[2 * i + 1] = a_[i][1] - a_[i][2] - a_[i][3] + bias_;                         \
        }                                                                                  \
        if (relu)                       /* v < 0 ? 0 : v, NaN kept */                      \
            for (int j = 0; j < 4; j++)                                                    \
                r[j] = (VEC)(~(r[j] < zero_) & (VECI)r[j]);                                \
    } while (0)

/* Tile tw of output rows 2 th and 2 th + 1 (`rows` of them inside the output, its
 * columns inside too) from M[xi][k0 + tw]. */
static inline void output_tile(const float *M, int64_t xi_stride, int64_t tw, int64_t OW,
                               int rows, float shift, int relu, float *out)
{
    float m[16], r[2][2];
    for (int xi = 0; xi < 16; xi++)
        m[xi] = M[xi * xi_stride + tw];
    tile_values(m, shift, relu, r);
    const int cols = 2 * tw + 1 < OW ? 2 : 1;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            out[i * OW + 2 * tw + j] = r[i][j];
}

/* Output rows 2 th and 2 th + 1 of one channel from M[xi][k0 + tw]. */
static void output_row(const float *M, int64_t xi_stride, int64_t TW, int64_t OW,
                       int rows, float shift, int relu, float *out)
{
    const int64_t full = rows == 2 ? OW / 2 : 0;   /* tiles wholly inside */
    int64_t tw = 0;
#if VECTORS
    for (; full >= 4 && tw < full; tw += 4) {
        const int64_t at = tw + 4 <= full ? tw : full - 4;
        vec4 r[4];
        TILE_VALUES(vec4, vec4i, r);
        for (int i = 0; i < 2; i++) {
            const vec8 both = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 4, 1, 5, 2, 6,
                                                      3, 7);
            memcpy(out + i * OW + 2 * at, &both, sizeof both);
        }
    }
    tw = full >= 4 ? full : 0;
#endif
    for (; tw < TW; tw++)
        output_tile(M, xi_stride, tw, OW, rows, shift, relu, out);
}

#if VECTORS && defined(EM_ISA_DISPATCH)
typedef int32_t vec8i __attribute__((vector_size(32)));

/* output_row eight tiles at a time, for CPUs with AVX2 (the same values). */
EM_TARGET_AVX2 static void output_row_avx2(const float *M, int64_t xi_stride, int64_t TW,
                                           int64_t OW, int rows, float shift, int relu,
                                           float *out)
{
    const int64_t full = rows == 2 ? OW / 2 : 0;
    if (full < 8) {
        output_row(M, xi_stride, TW, OW, rows, shift, relu, out);
        return;
    }
    for (int64_t tw = 0; tw < full; tw += 8) {
        const int64_t at = tw + 8 <= full ? tw : full - 8;
        vec8 r[4];
        TILE_VALUES(vec8, vec8i, r);
        for (int i = 0; i < 2; i++) {   /* the tiles' columns 0 and 1, interleaved */
            const vec8 lo = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 8, 1, 9, 2, 10,
                                                    3, 11);
            const vec8 hi = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 4, 12, 5, 13, 6, 14,
                                                    7, 15);
            memcpy(out + i * OW + 2 * at, &lo, sizeof lo);
            memcpy(out + i * OW + 2 * at + 8, &hi, sizeof hi);
        }
    }
    for (int64_t tw = full; tw < TW; tw++)
        output_tile(M, xi_stride, tw, OW, rows, shift, relu, out);
}

/* Output rows 2 th .. 2 th + 3 of a channel 8 wide (four whole tiles a row): the eight
 * tiles of tile rows th and th + 1 at once (AVX2; the same values). */
EM_TARGET_AVX2 static void output_rows8_avx2(const float *M, int64_t xi_stride, float shift,
                                             int relu, float *out)
{
    const int64_t at = 0;
    vec8 r[4];
    TILE_VALUES(vec8, vec8i, r);
    for (int i = 0; i < 2; i++) {
        const vec8 upper = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 8, 1, 9, 2, 10,
                                                   3, 11);
        const vec8 lower = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 4, 12, 5, 13, 6, 14,
                                                   7, 15);
        memcpy(out + i * 8, &upper, sizeof upper);
        memcpy(out + (2 + i) * 8, &lower, sizeof lower);
    }
}
#endif

/* The 2x2 max pooling of `count` whole tiles, M[xi][t] for t < count, into out[t]: W
 * tiles at a time in vectors VEC of W floats (VECI: as integers), the last group
 * overlapping the one before; the sums of tile_values, then tile_max's order. */
#define POOLED_TILES(VEC, VECI, W)                                                         \
    for (; count >= W && t < count; t += W) {                                              \
        const int64_t at = t + W <= count ? t : count - W;                                 \
        VEC r[4];                                                                          \
        TILE_VALUES(VEC, VECI, r);                                                         \
        VEC best = r[0];                                                                   \
        for (int j = 1; j < 4; j++) {                                                      \
            const VECI take = (r[j] > best) | (r[j] != r[j]);                              \
            best = (VEC)((take & (VECI)r[j]) | (~take & (VECI)best));                      \
        }                                                                                  \
        memcpy(out + at, &best, sizeof best);                                              \
    }

static void pooled_tiles(const float *M, int64_t xi_stride, int64_t count, float shift,
                         int relu, float *out)
{
    int64_t t = 0;
#if VECTORS
    POOLED_TILES(vec4, vec4i, 4)
    t = count >= 4 ? count : 0;
#endif
    for (; t < count; t++) {
        float m[16], r[2][2];
        for (int xi = 0; xi < 16; xi++)
            m[xi] = M[xi * xi_stride + t];
        tile_values(m, shift, relu, r);
        out[t] = tile_max(r);
    }
}

#if VECTORS && defined(EM_ISA_DISPATCH)
/* pooled_tiles eight tiles at a time, for CPUs with AVX2 (the same values). */
EM_TARGET_AVX2 static void pooled_tiles_avx2(const float *M, int64_t xi_stride, int64_t count,
                                             float shift, int relu, float *out)
{
    int64_t t = 0;
    if (count < 8) {
        pooled_tiles(M, xi_stride, count, shift, relu, out);
        return;
    }
    POOLED_TILES(vec8, vec8i, 8)
}
#endif

/* Samples [s0, s0 + S): their tiles' V, the 16 products, the outputs. */
static void run_chunk(const em_winograd_geom *q, const layout *L, const float *x,
                      const float *U, const float *bias, int relu, int pool, int64_t s0,
                      int64_t S,
                      float *plane, float *V, float *M, float *y)
{
    const int64_t C = q->channels, O = q->out_channels, H = q->height, W = q->width;
    const int64_t OH = q->out_height, OW = q->out_width, K = S * L->tiles;
    for (int64_t s = 0; s < S; s++)
        for (int64_t c = 0; c < C; c++) {
            const float *in = x + ((s0 + s) * C + c) * H * W;
            float *inner = plane + q->pad_h * L->PW + q->pad_w;
            for (int64_t h = 0; h < H; h++)
                memcpy(inner + h * L->PW, in + h * W, (size_t)W * sizeof(float));
            for (int64_t th = 0; th < L->TH; th++)
                input_row(plane + 2 * th * L->PW, L->PW, L->TW,
                          V + c * K + s * L->tiles + th * L->TW, pitch_of(C, K));
        }
    for (int xi = 0; xi < 16; xi++)
        em_sgemm(O, K, C, 1.0f, U + xi * pitch_of(O, C), C, 1, V + xi * pitch_of(C, K), K, 1,
                 0.0f, M + xi * pitch_of(O, K), K, 1);
    const int64_t PH = OH / 2, PW = OW / 2;
    void (*pooled)(const float *, int64_t, int64_t, float, int, float *) = pooled_tiles;
    void (*output)(const float *, int64_t, int64_t, int64_t, int, float, int, float *) =
        output_row;
#if VECTORS && defined(EM_ISA_DISPATCH)
    const int avx2 = em_have_avx2();
    if (avx2) {
        pooled = pooled_tiles_avx2;
        output = output_row_avx2;
    }
#endif
    for (int64_t s = 0; s < S; s++)
        for (int64_t o = 0; o < O; o++) {
            const float *m = M + o * K + s * L->tiles;
            const float shift = bias ? bias[o] : 0.0f;
            if (pool) {
                /* whole rows of tiles, or (with even sides) the whole plane at once */
                float *out = y + ((s0 + s) * O + o) * PH * PW;
                const int64_t rows = L->TW == PW && L->TH == PH ? 1 : PH;
                for (int64_t th = 0; th < rows; th++)
                    pooled(m + th * L->TW, pitch_of(O, K), PH * PW / rows, shift, relu,
                           out + th * PW);
                continue;
            }
            float *out = y + ((s0 + s) * O + o) * OH * OW;
            int64_t th = 0;
#if VECTORS && defined(EM_ISA_DISPATCH)
            if (avx2 && OW == 8)    /* pairs of whole tile rows */
                for (; 2 * th + 3 < OH; th += 2)
                    output_rows8_avx2(m + th * 4, pitch_of(O, K), shift, relu, out + 2 * th * 8);
#endif
            for (; th < L->TH; th++)
                output(m + th * L->TW, pitch_of(O, K), L->TW, OW, 2 * th + 1 < OH ? 2 : 1,
                       shift, relu, out + 2 * th * OW);
        }
}

int em_winograd_conv3x3_float32(const em_winograd_geom *q, const float *x, const float *w,
                                const float *U, const float *bias, int relu, int pool,
                                float *y)
{
    const int64_t C = q->channels, O = q->out_channels;
    layout L;
    L.TH = (q->out_height + 1) / 2;
    L.TW = (q->out_width + 1) / 2;
    L.tiles = L.TH * L.TW;
    L.PH = 2 * L.TH + 2;
    L.PW = 2 * L.TW + 2;
    const int64_t per_chunk = L.tiles >= CHUNK_TILES ? 1 : CHUNK_TILES / L.tiles;
    const int64_t chunks = (q->batch + per_chunk - 1) / per_chunk;
    float *own = NULL;
    if (!U) {
        own = grown(&tl_weights, em_winograd_weights_floats(O, C));
        if (!own)
            return -1;
    }
    const size_t plane_floats = (size_t)(L.PH * L.PW + 15) / 16 * 16;
    const size_t v_floats = (size_t)(16 * pitch_of(C, per_chunk * L.tiles));
    const size_t m_floats = (size_t)(16 * pitch_of(O, per_chunk * L.tiles));
    int failed = 0;
    const int threads = em_get_num_threads();
#pragma omp parallel num_threads(threads) if(threads > 1) reduction(|:failed)
    {
        float *plane = grown(&tl_chunk, plane_floats + v_floats + m_floats);
        failed |= plane == NULL;
        if (plane)
            memset(plane, 0, plane_floats * sizeof(float));    /* the border stays zero */
        if (own) {
#pragma omp for schedule(static)
            for (int64_t o = 0; o < O; o++)
                transform_weights(w, O, C, o, own);
        }
        /* every thread meets the loops (worksharing constructs; U is whole after the
         * one above) */
        const float *weights = own ? own : U;
#pragma omp for schedule(static)
        for (int64_t chunk = 0; chunk < chunks; chunk++) {
            if (!plane)
                continue;
            const int64_t s0 = chunk * per_chunk;
            const int64_t S = q->batch - s0 < per_chunk ? q->batch - s0 : per_chunk;
            run_chunk(q, &L, x, weights, bias, relu, pool, s0, S, plane, plane + plane_floats,
                      plane + plane_floats + v_floats, y);
        }
    }
    return failed ? -1 : 0;
}
