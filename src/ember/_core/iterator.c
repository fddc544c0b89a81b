/* The one strided-iteration engine behind every elementwise kernel. */
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "ember/strided.h"
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define EM_HAVE_MXCSR 1
#endif

/* The thread count lives in OpenMP's own state (one libgomp per process), so
 * every extension module that links these kernels sees the same setting. */
void em_set_num_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n > 0 ? n : 1);
#else
    (void)n;
#endif
}

int em_get_num_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

#ifdef EM_HAVE_MXCSR
/* flush-to-zero (results) and denormals-are-zero (inputs) in this thread's MXCSR */
static void set_mxcsr_denormal_bits(int on)
{
    const unsigned int bits = 0x8040;
    unsigned int csr = _mm_getcsr();
    _mm_setcsr(on ? csr | bits : csr & ~bits);
}
#endif

int em_set_flush_denormal(int on)
{
#ifdef EM_HAVE_MXCSR
    set_mxcsr_denormal_bits(on);
#ifdef _OPENMP
    /* the worker threads too (threads started later inherit the setting) */
#pragma omp parallel num_threads(em_get_num_threads())
    set_mxcsr_denormal_bits(on);
#endif
    return 1;
#else
    (void)on;
    return 0;
#endif
}

static intptr_t abs_intp(intptr_t v) { return v < 0 ? -v : v; }

/* Drop size-1 dims; returns the element count (0 when a dim is empty). */
static intptr_t drop_unit_dims(em_iter *it)
{
    int nop = it->nop, nd = 0;
    intptr_t total = 1;
    for (int d = 0; d < it->ndim; d++) {
        intptr_t n = it->shape[d];
        total *= n;
        if (n == 1) {
            continue;
        }
        it->shape[nd] = n;
        for (int k = 0; k < nop; k++) {
            it->strides[k][nd] = it->strides[k][d];
        }
        nd++;
    }
    it->ndim = nd;
    return total;
}

/* Merge dim d into its outer neighbour when every operand steps evenly across. */
static void coalesce(em_iter *it)
{
    int nop = it->nop, nd = it->ndim, out = 0;
    for (int d = 1; d < nd; d++) {
        int mergeable = 1;
        for (int k = 0; k < nop; k++) {
            if (it->strides[k][out] != it->strides[k][d] * it->shape[d]) {
                mergeable = 0;
                break;
            }
        }
        if (mergeable) {
            it->shape[out] *= it->shape[d];
        } else {
            out++;
            it->shape[out] = it->shape[d];
        }
        for (int k = 0; k < nop; k++) {
            it->strides[k][out] = it->strides[k][d];
        }
    }
    it->ndim = out + 1;
}

intptr_t em_iter_prepare(em_iter *it, int allow_flip)
{
    int nop = it->nop;
    intptr_t total = drop_unit_dims(it);
    int nd = it->ndim;
    if (total == 0 || nd == 0) {
        return total;
    }

    if (allow_flip) {
        /* walk the output forwards: flip dims where its stride is negative */
        for (int d = 0; d < nd; d++) {
            if (it->strides[0][d] < 0) {
                for (int k = 0; k < nop; k++) {
                    it->data[k] += it->strides[k][d] * (it->shape[d] - 1);
                    it->strides[k][d] = -it->strides[k][d];
                }
            }
        }
    }

    /* stable insertion sort: outermost = largest |stride| of the output,
       ties broken by the inputs so broadcast dims stay outside */
    for (int i = 1; i < nd; i++) {
        int j = i;
        while (j > 0) {
            int swap = 0;
            for (int k = 0; k < nop; k++) {
                intptr_t a = abs_intp(it->strides[k][j - 1]), b = abs_intp(it->strides[k][j]);
                if (a == 0 || b == 0) {
                    continue;
                }
                if (a < b) { swap = 1; }
                break;
            }
            if (!swap) {
                break;
            }
            intptr_t t = it->shape[j]; it->shape[j] = it->shape[j - 1]; it->shape[j - 1] = t;
            for (int k = 0; k < nop; k++) {
                t = it->strides[k][j]; it->strides[k][j] = it->strides[k][j - 1]; it->strides[k][j - 1] = t;
            }
            j--;
        }
    }

    coalesce(it);
    return total;
}

intptr_t em_iter_prepare_ordered(em_iter *it)
{
    intptr_t total = drop_unit_dims(it);
    if (total != 0 && it->ndim != 0) {
        coalesce(it);
    }
    return total;
}

/* Run elements [begin, end) of the (prepared) iteration space. */
static void run_range(const em_iter *it, em_loop_fn fn, void *ctx, intptr_t begin, intptr_t end)
{
    int nop = it->nop, nd = it->ndim;
    intptr_t idx[EM_MAX_DIMS];
    char *ptr[EM_MAX_OPERANDS];
    intptr_t inner_strides[EM_MAX_OPERANDS];
    intptr_t inner = it->shape[nd - 1];

    if (nd == 2) {
        /* the common broadcast case: rows of a 2-D space, no carry bookkeeping */
        intptr_t row = begin / inner, col = begin % inner, pos = begin;
        for (int k = 0; k < nop; k++) {
            inner_strides[k] = it->strides[k][1];
        }
        while (pos < end) {
            intptr_t count = inner - col;
            if (count > end - pos) {
                count = end - pos;
            }
            for (int k = 0; k < nop; k++) {
                ptr[k] = it->data[k] + row * it->strides[k][0] + col * inner_strides[k];
            }
            fn(ptr, inner_strides, count, ctx);
            pos += count;
            row++;
            col = 0;
        }
        return;
    }

    intptr_t rem = begin;
    for (int d = nd - 1; d >= 0; d--) {
        idx[d] = rem % it->shape[d];
        rem /= it->shape[d];
    }
    for (int k = 0; k < nop; k++) {
        char *p = it->data[k];
        for (int d = 0; d < nd; d++) {
            p += idx[d] * it->strides[k][d];
        }
        ptr[k] = p;
        inner_strides[k] = it->strides[k][nd - 1];
    }

    intptr_t pos = begin;
    while (pos < end) {
        intptr_t count = inner - idx[nd - 1];
        if (count > end - pos) {
            count = end - pos;
        }
        fn(ptr, inner_strides, count, ctx);
        pos += count;
        if (pos >= end) {
            break;
        }
        /* advance to the start of the next row, carrying into outer dims */
        for (int k = 0; k < nop; k++) {
            ptr[k] += (inner - idx[nd - 1]) * inner_strides[k];
        }
        idx[nd - 1] = 0;
        for (int d = nd - 1; d > 0; d--) {
            for (int k = 0; k < nop; k++) {
                ptr[k] -= it->shape[d] * it->strides[k][d];
                ptr[k] += it->strides[k][d - 1];
            }
            if (++idx[d - 1] < it->shape[d - 1]) {
                break;
            }
            idx[d - 1] = 0;
        }
    }
}

/* Bytes of the stack buffer a broadcast row is repeated into. */
#define TILE_BYTES 4096
#define MAX_TILED 2

int em_iter_run_tiled(const em_iter *it, em_loop_fn fn, void *ctx, const intptr_t *itemsize,
                      int backward)
{
    if (it->ndim != 2 || it->strides[0][0] == 0 || it->shape[0] == 0) {
        return 0;
    }
    int nop = it->nop, tiled[MAX_TILED], ntiled = 0;
    intptr_t rows = it->shape[0], inner = it->shape[1], widest = 0;
    for (int k = 0; k < nop; k++) {
        intptr_t outer = it->strides[k][0];
        if (it->strides[k][1] != itemsize[k]) {
            return 0;
        }
        if (outer == 0) {
            if (ntiled == MAX_TILED) {
                return 0;
            }
            tiled[ntiled++] = k;
        } else if (outer != inner * itemsize[k]) {
            return 0;
        }
        if (inner * itemsize[k] > widest) {
            widest = inner * itemsize[k];
        }
    }
    /* below four rows per call the per-call saving does not pay for the copies */
    intptr_t per = widest ? TILE_BYTES / widest : 0;
    if (ntiled == 0 || per < 4) {
        return 0;
    }
    if (per > rows) {
        per = rows;
    }
    _Alignas(64) char tiles[MAX_TILED][TILE_BYTES];
    char *ptr[EM_MAX_OPERANDS];
    intptr_t strides[EM_MAX_OPERANDS];
    for (int j = 0; j < ntiled; j++) {
        int k = tiled[j];
        size_t row_bytes = (size_t)(inner * itemsize[k]);
        for (intptr_t r = 0; r < per; r++) {
            memcpy(tiles[j] + r * row_bytes, it->data[k], row_bytes);
        }
        ptr[k] = tiles[j];
    }
    for (int k = 0; k < nop; k++) {
        strides[k] = itemsize[k];
    }
    intptr_t last = (rows - 1) / per * per;
    for (intptr_t step = 0; step <= last; step += per) {
        intptr_t r = backward ? last - step : step;
        intptr_t count = rows - r < per ? rows - r : per;
        for (int k = 0; k < nop; k++) {
            if (it->strides[k][0] != 0) {
                ptr[k] = it->data[k] + r * it->strides[k][0];
            }
        }
        fn(ptr, strides, count * inner, ctx);
    }
    return 1;
}

/* Tiles of a cache-blocked walk, in elements: TILE_ROWS of the outer of the
 * two innermost dims by TILE_COLS of the inner one.  A transposed operand then
 * reads runs of TILE_ROWS elements (whole lines, which the prefetcher follows)
 * from TILE_COLS places, and a tile of every operand stays in L2 while it is
 * walked row by row.  Measured on x.T + y, 2500x4000 float32, one thread, on
 * an AMD EPYC (Zen 4): 512x256 tiles 8.6 ms, 128x256 ones 9.9-10.5 ms, a
 * contiguous add 4.5 ms; row by row reads a new line per element and finds it
 * evicted when the next row comes back to it (4x slower than tiles).  Runs of 512 rows (2 KiB of float32)
 * are what the prefetcher follows well. */
#define TILE_ROWS 512
#define TILE_COLS 256

/* Whether the two innermost dims are better walked in tiles than row by row:
 * some operand steps more than a cache line per element along the inner dim
 * but less along the outer one, so row by row it would read a new line per
 * element and find it evicted when the next row comes back to it. */
static int wants_tiles(const em_iter *it)
{
    int nd = it->ndim;
    if (nd < 2 || (it->shape[nd - 1] <= TILE_COLS && it->shape[nd - 2] <= TILE_ROWS)) {
        return 0;
    }
    for (int k = 0; k < it->nop; k++) {
        intptr_t inner = abs_intp(it->strides[k][nd - 1]), outer = abs_intp(it->strides[k][nd - 2]);
        if (inner > 64 && outer != 0 && outer < inner) {
            return 1;
        }
    }
    return 0;
}

/* Run `fn` over the space tile by tile (one call per row of a tile), the
 * tiles shared out over the threads. */
static void run_tiles(const em_iter *it, em_loop_fn fn, void *ctx, int nthreads)
{
    int nop = it->nop, nd = it->ndim;
    intptr_t rows = it->shape[nd - 2], cols = it->shape[nd - 1];
    intptr_t row_tiles = (rows + TILE_ROWS - 1) / TILE_ROWS;
    intptr_t col_tiles = (cols + TILE_COLS - 1) / TILE_COLS;
    intptr_t planes = 1;
    for (int d = 0; d < nd - 2; d++) {
        planes *= it->shape[d];
    }
    intptr_t ntiles = planes * row_tiles * col_tiles;
    (void)nthreads;
    #pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1)
    for (intptr_t t = 0; t < ntiles; t++) {
        intptr_t ct = t % col_tiles, rt = (t / col_tiles) % row_tiles;
        intptr_t plane = t / (col_tiles * row_tiles);
        intptr_t r0 = rt * TILE_ROWS, c0 = ct * TILE_COLS;
        intptr_t r1 = r0 + TILE_ROWS < rows ? r0 + TILE_ROWS : rows;
        intptr_t count = c0 + TILE_COLS < cols ? TILE_COLS : cols - c0;
        char *base[EM_MAX_OPERANDS], *ptr[EM_MAX_OPERANDS];
        intptr_t inner_strides[EM_MAX_OPERANDS];
        for (int k = 0; k < nop; k++) {
            base[k] = it->data[k] + c0 * it->strides[k][nd - 1];
            inner_strides[k] = it->strides[k][nd - 1];
        }
        for (int d = nd - 3; d >= 0; d--) {
            intptr_t i = plane % it->shape[d];
            plane /= it->shape[d];
            for (int k = 0; k < nop; k++) {
                base[k] += i * it->strides[k][d];
            }
        }
        for (intptr_t r = r0; r < r1; r++) {
            for (int k = 0; k < nop; k++) {
                ptr[k] = base[k] + r * it->strides[k][nd - 2];
            }
            fn(ptr, inner_strides, count, ctx);
        }
    }
}

void em_iter_run(const em_iter *it, em_loop_fn fn, void *ctx, int parallel)
{
    intptr_t total = 1;
    for (int d = 0; d < it->ndim; d++) {
        total *= it->shape[d];
    }
    if (total == 0) {
        return;
    }
    if (it->ndim == 0) {
        intptr_t zero[EM_MAX_OPERANDS] = {0};
        char *ptr[EM_MAX_OPERANDS];
        memcpy(ptr, it->data, sizeof(char *) * (size_t)it->nop);
        fn(ptr, zero, 1, ctx);
        return;
    }
    int nthreads = parallel ? em_get_num_threads() : 1;
    if (nthreads > 1 && total >= EM_GRAIN_SIZE) {
        intptr_t max_chunks = total / (EM_GRAIN_SIZE / 2);
        if (nthreads > max_chunks) {
            nthreads = (int)max_chunks;
        }
    } else {
        nthreads = 1;
    }
    if (parallel && wants_tiles(it)) {
        run_tiles(it, fn, ctx, nthreads);
        return;
    }
    if (nthreads <= 1) {
        if (it->ndim == 1) {
            char *ptr[EM_MAX_OPERANDS];
            intptr_t strides[EM_MAX_OPERANDS];
            for (int k = 0; k < it->nop; k++) {
                ptr[k] = it->data[k];
                strides[k] = it->strides[k][0];
            }
            fn(ptr, strides, total, ctx);
        } else {
            run_range(it, fn, ctx, 0, total);
        }
        return;
    }
#ifdef _OPENMP
    #pragma omp parallel num_threads(nthreads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        /* chunk boundaries on multiples of 16 elements keep vector loops aligned */
        intptr_t per = ((total + nt - 1) / nt + 15) & ~(intptr_t)15;
        intptr_t b = per * t, e = b + per;
        if (e > total) {
            e = total;
        }
        if (b < e) {
            run_range(it, fn, ctx, b, e);
        }
    }
#else
    run_range(it, fn, ctx, 0, total);
#endif
}
