/* Index kernels: gather, scatter, masked fill and nonzero.
 *
 * Every loop has the strided-loop signature of strided.h.  Indices are read as
 * int32 or int64 ("i32"/"i64" tables); positions are checked against the
 * extent of the indexed dimension inside the loop and an error is reported in
 * the context instead of touching memory out of range.  "Offset" loops take
 * precomputed byte offsets that were checked when they were built.
 *
 * Copy loops depend only on the element size (1, 2, 4, 8 or 16 bytes, see
 * em_size_class); accumulating loops exist per dtype, float16 and bfloat16
 * computed in float32.
 */
#ifndef EMBER_INDEX_H
#define EMBER_INDEX_H

#include <stdint.h>
#include "ember/dtype.h"
#include "ember/strided.h"

#define EM_N_SIZE_CLASSES 5
#define EM_N_INDEX_TYPES 2 /* 0: int32, 1: int64 */

typedef struct {
    int64_t size;      /* extent of the indexed dimension */
    int64_t stride;    /* bytes between neighbours along it */
    int wrap;          /* negative indices count from the end */
    int error;         /* set to 1 when an index is out of range */
    int64_t bad_index; /* the offending index, as written */
} em_index_ctx;

typedef struct {
    int64_t count;     /* accumulated by em_count_nonzero_loops */
} em_count_ctx;

typedef struct {
    unsigned char value[16]; /* one element of the destination's dtype */
} em_fill_ctx;

/* Size class of an element size in bytes (1, 2, 4, 8, 16 -> 0..4). */
static inline int em_size_class(int itemsize)
{
    return itemsize == 1 ? 0 : itemsize == 2 ? 1 : itemsize == 4 ? 2 : itemsize == 8 ? 3 : 4;
}

/* Operands (out, src, index): out = src[index * stride], index checked. */
extern const em_loop_fn em_gather_loops[EM_N_INDEX_TYPES][EM_N_SIZE_CLASSES];
/* Operands (out, src, int64 byte offsets): out = src[offset]. */
extern const em_loop_fn em_gather_offset_loops[EM_N_SIZE_CLASSES];
/* Operands (int64 out, int64 acc, index): out = acc + index * stride, index checked. */
extern const em_loop_fn em_offset_loops[EM_N_INDEX_TYPES];
/* Operands (int64 out, int64 acc, int64 offsets): out = acc + offsets. */
extern const em_loop_fn em_offset_add_loop;
/* Operands (index): check only. */
extern const em_loop_fn em_check_loops[EM_N_INDEX_TYPES];
/* Operands (dst, src, index): dst[index * stride] = src, index checked. */
extern const em_loop_fn em_scatter_loops[EM_N_INDEX_TYPES][EM_N_SIZE_CLASSES];
/* Operands (dst, src, int64 byte offsets): dst[offset] = src. */
extern const em_loop_fn em_scatter_offset_loops[EM_N_SIZE_CLASSES];
/* Operands (dst, src, index): dst[index * stride] (+|*|max|min)= src, index checked
 * (max and min propagate NaN; for complex they leave dst as it is). */
extern const em_loop_fn em_scatter_add_loops[EM_N_INDEX_TYPES][EM_NTYPES];
extern const em_loop_fn em_scatter_mul_loops[EM_N_INDEX_TYPES][EM_NTYPES];
extern const em_loop_fn em_scatter_max_loops[EM_N_INDEX_TYPES][EM_NTYPES];
extern const em_loop_fn em_scatter_min_loops[EM_N_INDEX_TYPES][EM_NTYPES];
/* Operands (dst, src, int64 byte offsets): dst[offset] += src. */
extern const em_loop_fn em_scatter_add_offset_loops[EM_NTYPES];
/* Operands (dst, bool mask): dst = value where mask (em_fill_ctx). */
extern const em_loop_fn em_masked_fill_loops[EM_N_SIZE_CLASSES];
/* Operands (src): counts nonzero elements into an em_count_ctx (thread safe). */
extern const em_loop_fn em_count_nonzero_loops[EM_NTYPES];

/* Walk `data` (ndim, shape, byte strides) in row-major order and write, for each
 * nonzero element, either its ndim coordinates (weights == NULL) or the single
 * value sum(coordinate[d] * weights[d]).  Writes at most `capacity` records and
 * returns how many nonzero elements it saw. */
typedef int64_t (*em_nonzero_fn)(const char *data, int ndim, const intptr_t *shape,
                                 const intptr_t *strides, const int64_t *weights,
                                 int64_t *out, int64_t capacity);
extern const em_nonzero_fn em_nonzero_fill[EM_NTYPES];


#endif
