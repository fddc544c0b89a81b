/* Stable sort along rows (see sort.c.in). */
#ifndef EMBER_SORT_H
#define EMBER_SORT_H

#include <stdint.h>

/* Sorts `rows` contiguous rows of `n` elements of `in` and writes the first `k`
 * (1 <= k <= n) of each sorted row to `values` and `indices` (contiguous rows of
 * k).  Stable; NaN sorts as the largest value.  Returns 0, or -1 when out of
 * memory. */
typedef int (*em_sort_fn)(const char *in, char *values, int64_t *indices, int64_t rows,
                          int64_t n, int64_t k, int descending);

/* One entry per em_dtype number; NULL for complex types (no ordering). */
extern const em_sort_fn em_sort_rows[12];

#endif
