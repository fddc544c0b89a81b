/* Kernel tables exported by ember's C code to the Cython core. */
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#include "ember/dtype.h"
#include "ember/strided.h"

/* One elementwise op: a loop per compute dtype (NULL where the op has none). */
typedef struct {
    const char *name;
    int arity;
    int promote_float;   /* integer and bool inputs compute in the default float dtype */
    int out_rule;        /* EM_OUT_SAME, EM_OUT_BOOL or EM_OUT_REAL */
    em_loop_fn loops[EM_NTYPES];
} em_ew_op;

enum { EM_OUT_SAME = 0, EM_OUT_BOOL = 1, EM_OUT_REAL = 2 };

extern const em_ew_op em_unary_ops[];
extern const int em_n_unary_ops;
extern const em_ew_op em_binary_ops[];
extern const int em_n_binary_ops;
extern const em_ew_op em_ternary_ops[];
extern const int em_n_ternary_ops;

/* em_cast_loops[from][to]: 2-operand loops (out, in) converting dtypes. */
extern const em_loop_fn em_cast_loops[EM_NTYPES][EM_NTYPES];

/* Run a prepared 2-operand (out, in) cast iteration as a cache-blocked
 * transpose when the input is contiguous along another dimension than the
 * output's innermost one.  Returns 1 when it ran the copy, 0 when the caller
 * should run em_cast_loops[from][to] over the iterator instead. */
int em_cast_transposed(const em_iter *it, int from, int to, int parallel);

/* dst[r * dst_row + c * size] = src[r * size + c * src_col] for r < rows, c < cols
 * (byte strides): a tile of `size`-byte elements copied across (transpose.c). */
void em_transpose_tile(char *dst, intptr_t dst_row, const char *src, intptr_t src_col,
                       intptr_t rows, intptr_t cols, intptr_t size);

/* The calling thread's scratch for transposed tiles, at least `bytes` (a few MiB
 * at most), kept until the thread ends; NULL when memory is short. */
char *em_transpose_scratch(intptr_t bytes);

/* A scratch row pitch for rows of `row_bytes`: an odd number of whole cache
 * lines, so the rows that one block of a transpose writes fall in different
 * cache sets (at a power of two lines they would share a few). */
intptr_t em_transpose_pitch(intptr_t row_bytes);

#endif
