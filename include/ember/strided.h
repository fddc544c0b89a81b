/* The strided-loop engine: one iterator drives every elementwise kernel.
 *
 * A kernel is a 1-D loop over `n` elements of `nop` operands (operand 0 is the
 * output), each with a byte stride; the iterator broadcasts, drops size-1
 * dimensions, orders dimensions by the output's strides, coalesces what is
 * contiguous and splits the work across OpenMP threads above a grain size.
 */
#ifndef EMBER_STRIDED_H
#define EMBER_STRIDED_H

#include <stddef.h>
#include <stdint.h>

#define EM_MAX_DIMS 64
#define EM_MAX_OPERANDS 8
/* Elements below which a loop runs on one thread (PyTorch's GRAIN_SIZE). */
#define EM_GRAIN_SIZE 32768

typedef void (*em_loop_fn)(char **data, const intptr_t *strides, intptr_t n, void *ctx);

typedef struct {
    int nop;
    int ndim;
    intptr_t shape[EM_MAX_DIMS];
    intptr_t strides[EM_MAX_OPERANDS][EM_MAX_DIMS]; /* bytes */
    char *data[EM_MAX_OPERANDS];
} em_iter;

/* Drop size-1 dims, order dims by operand 0's strides, make operand 0's strides
 * positive (flipping that dim for all operands: only for order-free loops) and
 * coalesce contiguous runs.  Returns the element count. */
intptr_t em_iter_prepare(em_iter *it, int allow_flip);

/* Prepare for loops whose result depends on the visiting order (scatters, where
 * the last write wins): drop size-1 dims and coalesce, keeping row-major order. */
intptr_t em_iter_prepare_ordered(em_iter *it);

/* Run `fn` over the iteration space.  `parallel` says the loop is order-free:
 * it may run on OpenMP threads and in cache tiles (when an operand is
 * transposed against the output); without it, elements run in iteration order. */
void em_iter_run(const em_iter *it, em_loop_fn fn, void *ctx, int parallel);

/* em_iter_run (order-free) for a loop that writes operand 0 without reading it,
 * `itemsize[k]` bytes per element of operand k (0: unknown): an output too large
 * to stay in cache (32 MiB and more) is written with non-temporal stores, where
 * the CPU has them, and inputs transposed against the output are read through
 * transposed copies of cache tiles. */
void em_iter_run_write_only(const em_iter *it, em_loop_fn fn, void *ctx, const intptr_t *itemsize);


/* Run `fn` on one thread over a prepared 2-D space whose operands are each either
 * dense (rows packed end to end) or one broadcast row (outer stride 0, elements
 * packed), with `itemsize[k]` bytes per element of operand k: the broadcast rows are
 * repeated into a stack buffer, so one call covers many short rows; `backward` runs
 * those calls last rows first.  Returns 0, running nothing, when the space does not
 * have that form. */
int em_iter_run_tiled(const em_iter *it, em_loop_fn fn, void *ctx, const intptr_t *itemsize,
                      int backward);

/* Threads used by ember's OpenMP kernels. */
void em_set_num_threads(int n);
int em_get_num_threads(void);

/* Treat denormal floats as zero (inputs and results) on the calling thread and the
 * OpenMP workers when `on`, restore IEEE behaviour when not; 0 where the CPU offers
 * no such mode (only x86's MXCSR is driven). */
int em_set_flush_denormal(int on);

/* Caching allocator: 64-byte aligned blocks, reused by size class. */
void *em_alloc(size_t nbytes);
void em_free(void *ptr, size_t nbytes);
void em_allocator_empty_cache(void);
size_t em_allocator_cached_bytes(void);
void em_allocator_set_limit(size_t nbytes);

#endif
