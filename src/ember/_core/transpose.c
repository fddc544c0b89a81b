/* Transposing copies of tiles, the step that lets transposed operands be read in
 * long runs: contiguous copies of x.t() and elementwise ops whose input is laid
 * out across the output's rows both go through em_transpose_tile.
 *
 * 4- and 8-byte elements move in 8x8 / 4x4 blocks of vector registers (three /
 * two rounds of shuffles), other sizes element by element in 8x8 blocks.  The
 * vectors are GCC/Clang generic vectors, so each multiversioned clone compiles
 * them to its own instruction set.  Short runs are prefetched ahead of the
 * blocks; the per-thread scratch tiles of both callers are kept here. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "ember/kernels.h"
#include "ember/simd.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Scratch tiles are kept per thread between calls (a fresh block each call
 * costs its page faults) and freed when the thread ends. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_made = 0;

typedef struct {
    intptr_t bytes;
    _Alignas(64) char data[];
} scratch_block;

static void make_scratch_key(void)
{
    scratch_key_made = pthread_key_create(&scratch_key, free) == 0;
}

char *em_transpose_scratch(intptr_t bytes)
{
    pthread_once(&scratch_once, make_scratch_key);
    if (!scratch_key_made) {
        return NULL;
    }
    scratch_block *b = pthread_getspecific(scratch_key);
    if (b == NULL || b->bytes < bytes) {
        free(b);
        b = aligned_alloc(64, sizeof(scratch_block) + (size_t)bytes);
        if (b != NULL) {
            b->bytes = bytes;
        }
        pthread_setspecific(scratch_key, b);
    }
    return b ? b->data : NULL;
}

intptr_t em_transpose_pitch(intptr_t row_bytes)
{
    return (((row_bytes + 63) / 64) | 1) * 64;
}

/* dst[r * dst_row + c * size] = src[r * size + c * src_col], element by element */
ALWAYS_INLINE void transpose_scalar(char *dst, intptr_t dst_row, const char *src, intptr_t src_col,
                                    intptr_t rows, intptr_t cols, intptr_t size)
{
    for (intptr_t c = 0; c < cols; c++) {
        for (intptr_t r = 0; r < rows; r++) {
            memcpy(dst + r * dst_row + c * size, src + r * size + c * src_col, (size_t)size);
        }
    }
}

#ifdef EM_HAVE_SHUFFLEVECTOR
typedef uint32_t v8u32 __attribute__((vector_size(32)));
typedef uint64_t v4u64 __attribute__((vector_size(32)));

/* An 8x8 block of 4-byte elements: src run c (8 elements along r) becomes
 * column c of dst rows r. */
ALWAYS_INLINE void block_4(char *dst, intptr_t dst_row, const char *src, intptr_t src_col)
{
    v8u32 a[8], t[8], u[8];
    for (int i = 0; i < 8; i++) {
        memcpy(&a[i], src + i * src_col, 32);
    }
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(a[i], a[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(a[i], a[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        v8u32 lo = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        v8u32 hi = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
        memcpy(dst + i * dst_row, &lo, 32);
        memcpy(dst + (i + 4) * dst_row, &hi, 32);
    }
}

/* A 4x4 block of 8-byte elements, the same way. */
ALWAYS_INLINE void block_8(char *dst, intptr_t dst_row, const char *src, intptr_t src_col)
{
    v4u64 a[4], t[4];
    for (int i = 0; i < 4; i++) {
        memcpy(&a[i], src + i * src_col, 32);
    }
    t[0] = __builtin_shufflevector(a[0], a[1], 0, 4, 2, 6);
    t[1] = __builtin_shufflevector(a[0], a[1], 1, 5, 3, 7);
    t[2] = __builtin_shufflevector(a[2], a[3], 0, 4, 2, 6);
    t[3] = __builtin_shufflevector(a[2], a[3], 1, 5, 3, 7);
    v4u64 o[4] = {
        __builtin_shufflevector(t[0], t[2], 0, 1, 4, 5),
        __builtin_shufflevector(t[1], t[3], 0, 1, 4, 5),
        __builtin_shufflevector(t[0], t[2], 2, 3, 6, 7),
        __builtin_shufflevector(t[1], t[3], 2, 3, 6, 7),
    };
    for (int i = 0; i < 4; i++) {
        memcpy(dst + i * dst_row, &o[i], 32);
    }
}

/* Runs of at most PREFETCH_RUN_MAX bytes (a tile's rows) are too short for the
 * hardware prefetcher to get going before each one ends, so the transpose
 * prefetches the runs of the block column PREFETCH_AHEAD bytes on before each
 * block column.  x.T + y, 2500x4000 float32 in 64-row tiles, one thread, AMD
 * EPYC (Zen 4): transposing 3.4 -> 1.8-2.1 ms.  Runs of 2 KiB (the 512-row tiles
 * of x.T.contiguous()) are streamed well by the hardware, and prefetching them
 * too cost 5%. */
#define PREFETCH_AHEAD 8192
#define PREFETCH_RUN_MAX 1024

/* Prefetch runs [cb, ce) (src + c * src_col on, `run` bytes each) into L1. */
ALWAYS_INLINE void prefetch_runs(const char *src, intptr_t src_col, intptr_t run, intptr_t cb,
                                 intptr_t ce)
{
    for (intptr_t c = cb; c < ce; c++) {
        const char *start = src + c * src_col, *end = start + run;
        for (const char *p = (const char *)((uintptr_t)start & ~(uintptr_t)63); p < end; p += 64) {
            __builtin_prefetch(p, 0, 3);
        }
    }
}

/* Whole blocks of `edge` with `block`, the ragged edges element by element;
 * short runs are prefetched a block column at a time, PREFETCH_AHEAD bytes on. */
#define TRANSPOSE_BLOCKS(edge, block, size)                                                   \
    do {                                                                                      \
        intptr_t rb = rows - rows % (edge), cb = cols - cols % (edge);                        \
        intptr_t run = rows * (size), ahead = cols;                                           \
        if (run > 0 && run <= PREFETCH_RUN_MAX) {                                             \
            ahead = PREFETCH_AHEAD / ((edge) * run);                                          \
            ahead = (ahead < 1 ? 1 : ahead) * (edge);                                         \
        }                                                                                     \
        for (intptr_t c = 0; c < cb; c += (edge)) {                                           \
            if (c + ahead < cols) {                                                           \
                intptr_t pe = c + ahead + (edge) < cols ? c + ahead + (edge) : cols;          \
                prefetch_runs(src, src_col, run, c + ahead, pe);                              \
            }                                                                                 \
            for (intptr_t r = 0; r < rb; r += (edge)) {                                       \
                block(dst + r * dst_row + c * (size), dst_row, src + r * (size) + c * src_col, \
                      src_col);                                                               \
            }                                                                                 \
        }                                                                                     \
        transpose_scalar(dst + rb * dst_row, dst_row, src + rb * (size), src_col, rows - rb,  \
                         cb, (size));                                                         \
        transpose_scalar(dst + cb * (size), dst_row, src + cb * src_col, src_col, rows,       \
                         cols - cb, (size));                                                  \
    } while (0)
#endif

EM_MULTIVERSION
void em_transpose_tile(char *dst, intptr_t dst_row, const char *src, intptr_t src_col,
                       intptr_t rows, intptr_t cols, intptr_t size)
{
#ifdef EM_HAVE_SHUFFLEVECTOR
    if (size == 4) {
        TRANSPOSE_BLOCKS(8, block_4, 4);
        return;
    }
    if (size == 8) {
        TRANSPOSE_BLOCKS(4, block_8, 8);
        return;
    }
#endif
    /* 8x8 blocks keep both sides within a few cache lines */
    for (intptr_t c0 = 0; c0 < cols; c0 += 8) {
        for (intptr_t r0 = 0; r0 < rows; r0 += 8) {
            intptr_t nr = rows - r0 < 8 ? rows - r0 : 8, nc = cols - c0 < 8 ? cols - c0 : 8;
            char *d = dst + r0 * dst_row + c0 * size;
            const char *s = src + r0 * size + c0 * src_col;
            switch (size) {
            case 1: transpose_scalar(d, dst_row, s, src_col, nr, nc, 1); break;
            case 2: transpose_scalar(d, dst_row, s, src_col, nr, nc, 2); break;
            case 4: transpose_scalar(d, dst_row, s, src_col, nr, nc, 4); break;
            case 8: transpose_scalar(d, dst_row, s, src_col, nr, nc, 8); break;
            case 16: transpose_scalar(d, dst_row, s, src_col, nr, nc, 16); break;
            default: transpose_scalar(d, dst_row, s, src_col, nr, nc, size); break;
            }
        }
    }
}
