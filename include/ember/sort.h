/* Stable sort along rows, and binary search in sorted rows (see sort.c.in). */
#ifndef EMBER_SORT_H
#define EMBER_SORT_H

#include <stdint.h>
#include "ember/dtype.h"

/* Sorts `rows` contiguous rows of `n` elements of `in` and writes the first `k`
 * (1 <= k <= n) of each sorted row to `values` and `indices` (contiguous rows of
 * k).  Stable; NaN sorts as the largest value.  Returns 0, or -1 when out of
 * memory. */
typedef int (*em_sort_fn)(const char *in, char *values, int64_t *indices, int64_t rows,
                          int64_t n, int64_t k, int descending);

/* One entry per em_dtype number; NULL for complex types (no ordering). */
extern const em_sort_fn em_sort_rows[EM_NTYPES];

/* For `rows` rows of `per_row` values (contiguous), the insertion position of each
 * value in the sorted row `seq + r * seq_step` of `seq_len` elements (seq_step 0:
 * one row for all); written as int64, or int32 when `out_int32`.  Lower bound,
 * upper bound when `right`. */
typedef void (*em_search_fn)(const char *seq, int64_t seq_len, int64_t seq_step,
                             const char *values, int64_t per_row, int64_t rows, void *out,
                             int out_int32, int right);

extern const em_search_fn em_search_rows[EM_NTYPES];

#endif
